//! Planning the historical pull: the window a spec asks for, clipped to what
//! the granted scopes can reach, cut into stages that are each one bulk
//! operation. Newest stages come first, so recent history is usable while
//! older history is still arriving. Pure: time and scopes come in as data.

use jiff::{SignedDuration, Timestamp};

use crate::api::Backfill;

/// Without read_all_orders, Shopify exposes only this much order history.
pub const ORDER_HISTORY_WITHOUT_READ_ALL_ORDERS: SignedDuration =
    SignedDuration::from_hours(60 * 24);

/// Default width of one stage.
pub const DEFAULT_STAGE: SignedDuration = SignedDuration::from_hours(7 * 24);

/// One bulk operation's slice of history, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub index: u32,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Stage {
    /// The search filter for this stage's orders.
    pub fn search(&self) -> String {
        super::state::updated_between(self.from, self.to)
    }

    /// Splits a stage whose result would be too large into two halves.
    pub fn halves(&self) -> Option<(Stage, Stage)> {
        let span = self.to.duration_since(self.from);
        if span < SignedDuration::from_secs(2) {
            return None;
        }
        let mid = self.from.checked_add(span / 2).ok()?;
        Some((
            Stage {
                index: self.index,
                from: mid,
                to: self.to,
            },
            Stage {
                index: self.index,
                from: self.from,
                to: mid,
            },
        ))
    }
}

/// The historical pull, fixed when it starts and kept in the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillPlan {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Set when the requested start was older than the scopes allow: the
    /// start originally asked for.
    pub clipped_from: Option<Timestamp>,
    /// Newest first.
    pub stages: Vec<Stage>,
}

/// Why a backfill cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("backfill.window {0:?} is not a number of days such as 90d")]
    BadWindow(String),
}

/// Plans the backfill as of `now`.
pub fn plan(
    backfill: &Backfill,
    now: Timestamp,
    limited_to_60_days: bool,
    stage_width: SignedDuration,
) -> Result<BackfillPlan, PlanError> {
    let requested_from = match (&backfill.window, &backfill.since) {
        (Some(window), _) => {
            let days = parse_days(window)?;
            now.checked_sub(SignedDuration::from_hours(days * 24))
                .unwrap_or(Timestamp::MIN)
        }
        (None, Some(since)) => since.0.min(now),
        (None, None) => now,
    };
    let mut from = requested_from;
    let mut clipped_from = None;
    if limited_to_60_days {
        let reachable = now
            .checked_sub(ORDER_HISTORY_WITHOUT_READ_ALL_ORDERS)
            .unwrap_or(Timestamp::MIN);
        if from < reachable {
            clipped_from = Some(from);
            from = reachable;
        }
    }
    let mut stages = Vec::new();
    let width = if stage_width.is_positive() {
        stage_width
    } else {
        DEFAULT_STAGE
    };
    let mut upper = now;
    while upper > from {
        let lower = upper.checked_sub(width).unwrap_or(from).max(from);
        stages.push(Stage {
            index: stages.len() as u32,
            from: lower,
            to: upper,
        });
        upper = lower;
    }
    Ok(BackfillPlan {
        from,
        to: now,
        clipped_from,
        stages,
    })
}

fn parse_days(window: &str) -> Result<i64, PlanError> {
    window
        .strip_suffix('d')
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|d| (0..=100_000).contains(d))
        .ok_or_else(|| PlanError::BadWindow(window.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn now() -> Timestamp {
        "2026-12-04T12:00:00Z".parse().unwrap()
    }

    fn window(w: &str) -> Backfill {
        Backfill {
            window: Some(w.into()),
            since: None,
        }
    }

    #[test]
    fn ninety_days_in_weekly_stages_newest_first_without_gaps() {
        let p = plan(&window("90d"), now(), false, DEFAULT_STAGE).unwrap();
        assert_eq!(p.stages.len(), 13);
        assert_eq!(p.stages[0].to, now());
        assert_eq!(p.stages.last().unwrap().from, p.from);
        for pair in p.stages.windows(2) {
            assert_eq!(pair[0].from, pair[1].to, "stages must tile the window");
        }
        assert_eq!(p.clipped_from, None);
    }

    #[test]
    fn without_read_all_orders_the_window_is_clipped_and_says_so() {
        let p = plan(&window("90d"), now(), true, DEFAULT_STAGE).unwrap();
        assert_eq!(p.from, "2026-10-05T12:00:00Z".parse().unwrap());
        assert_eq!(
            p.clipped_from,
            Some("2026-09-05T12:00:00Z".parse().unwrap())
        );
        let p = plan(&window("30d"), now(), true, DEFAULT_STAGE).unwrap();
        assert_eq!(p.clipped_from, None);
    }

    #[test]
    fn since_and_zero_windows() {
        let since = Backfill {
            window: None,
            since: Some(Time("2026-12-01T00:00:00Z".parse().unwrap())),
        };
        let p = plan(&since, now(), false, DEFAULT_STAGE).unwrap();
        assert_eq!(p.stages.len(), 1);
        assert_eq!(
            p.stages[0].search(),
            "updated_at:>='2026-12-01T00:00:00Z' AND updated_at:<'2026-12-04T12:00:00Z'"
        );
        assert!(
            plan(&window("0d"), now(), false, DEFAULT_STAGE)
                .unwrap()
                .stages
                .is_empty()
        );
        assert!(matches!(
            plan(&window("soon"), now(), false, DEFAULT_STAGE),
            Err(PlanError::BadWindow(_))
        ));
    }

    #[test]
    fn halves_cover_the_stage_exactly() {
        let p = plan(&window("7d"), now(), false, DEFAULT_STAGE).unwrap();
        let (newer, older) = p.stages[0].halves().unwrap();
        assert_eq!(newer.to, p.stages[0].to);
        assert_eq!(older.from, p.stages[0].from);
        assert_eq!(newer.from, older.to);
    }
}
