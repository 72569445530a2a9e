//! The status a sync report amounts to: what the controller writes onto the
//! resource and what `shopsync sync` prints. Conditions carry a reason and a
//! message a person can act on. Pure: time, generation and record counts
//! come in as data.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::ShopifyConnectionStatus;
use crate::api::conditions::{self, Condition, ConditionStatus, ConditionType};
use crate::api::status::{
    BackfillPhase, BackfillStatus, Freshness, RateLimitStatus, RecordsetFreshness,
};
use crate::store::RecordSet;

use super::report::SyncReport;
use super::state::BackfillState;

/// Inputs besides the report.
#[derive(Debug, Clone, Copy)]
pub struct StatusContext<'a> {
    pub previous: Option<&'a ShopifyConnectionStatus>,
    pub generation: Option<i64>,
    pub max_bucket_share: u8,
    pub next_sync: Option<Timestamp>,
    /// Stored records per recordset (tombstones excluded).
    pub counts: &'a BTreeMap<RecordSet, i64>,
}

/// Builds the status after a sync.
pub fn from_report(report: &SyncReport, ctx: StatusContext<'_>) -> ShopifyConnectionStatus {
    let mut status = ctx.previous.cloned().unwrap_or_default();
    let now = Time(report.finished);
    let mut conds = std::mem::take(&mut status.conditions);
    let set = |conds: &mut Vec<Condition>, c: Condition| {
        conditions::set(conds, c, ctx.generation, now.clone())
    };

    let error = report.error.as_ref();
    let credentials_bad = error.is_some_and(|(reason, _, _)| reason == "InvalidToken");
    match (&report.shop, credentials_bad) {
        (_, true) => set(
            &mut conds,
            Condition::new(
                ConditionType::CredentialsValid,
                false,
                "InvalidToken",
                error.map(|e| e.1.clone()).unwrap_or_default(),
            ),
        ),
        (Some(shop), false) => set(
            &mut conds,
            Condition::new(
                ConditionType::CredentialsValid,
                true,
                "Accepted",
                format!(
                    "Shopify accepted the token for {} ({} plan)",
                    shop.name, shop.plan
                ),
            ),
        ),
        (None, false) => {}
    }

    if let Some(decision) = &report.decision {
        status.granted_scopes = report.granted_handles.clone();
        status.missing_scopes = decision.missing.iter().map(ToString::to_string).collect();
        if decision.missing.is_empty() {
            set(
                &mut conds,
                Condition::new(
                    ConditionType::ScopesGranted,
                    true,
                    "AllGranted",
                    "every expected scope is granted",
                ),
            );
        } else {
            let skipped: Vec<String> = decision
                .skipped
                .iter()
                .map(|s| format!("{} (needs {})", s.recordset, s.needs))
                .collect();
            let what = if skipped.is_empty() {
                "some fields are not synced".to_owned()
            } else {
                format!("skipped: {}", skipped.join(", "))
            };
            set(
                &mut conds,
                Condition::new(
                    ConditionType::ScopesGranted,
                    false,
                    "MissingScopes",
                    format!(
                        "grant {} to the app in Shopify, or remove them from spec.scopes; {what}",
                        status.missing_scopes.join(", ")
                    ),
                ),
            );
        }
    }

    let backfill = report
        .backfill
        .get(&RecordSet::Orders)
        .or_else(|| report.backfill.values().next());
    if let Some(b) = backfill {
        status.backfill = Some(backfill_status(b));
        let (done, reason, message) = if b.is_complete() {
            let message = match b.clipped_from {
                Some(asked) => format!(
                    "{} records; clipped to start at {} instead of {asked}: the app lacks read_all_orders",
                    b.records, b.from
                ),
                None => format!("{} records from {} on", b.records, b.from),
            };
            (
                true,
                if b.clipped_from.is_some() {
                    "CompleteClipped"
                } else {
                    "Complete"
                },
                message,
            )
        } else {
            (
                false,
                "Running",
                format!(
                    "{} of {} stages committed, {} records",
                    b.completed,
                    b.stages.len(),
                    b.records
                ),
            )
        };
        set(
            &mut conds,
            Condition::new(ConditionType::BackfillComplete, done, reason, message),
        );
    }

    let written: u64 = report.recordsets.values().map(|r| r.written).sum();
    let tombstoned: u64 = report.recordsets.values().map(|r| r.tombstoned).sum();
    match error {
        None if report.stopped => set(
            &mut conds,
            Condition::new(
                ConditionType::Synced,
                false,
                "Stopped",
                format!(
                    "the sync was stopped before it finished ({written} records written, {tombstoned} tombstoned); the next sync resumes from its checkpoint"
                ),
            ),
        ),
        None => {
            status.last_successful_sync_time = Some(now.clone());
            set(
                &mut conds,
                Condition::new(
                    ConditionType::Synced,
                    true,
                    "Succeeded",
                    format!(
                        "{written} records written, {tombstoned} tombstoned, {:.0} cost points",
                        report.stats.cost_used
                    ),
                ),
            );
            conditions::remove(&mut conds, ConditionType::Stalled);
        }
        Some((reason, message, needs_person)) => {
            set(
                &mut conds,
                Condition::new(ConditionType::Synced, false, reason, message.clone()),
            );
            if *needs_person {
                set(
                    &mut conds,
                    Condition::new(
                        ConditionType::Stalled,
                        true,
                        reason,
                        format!(
                            "{message} (syncing resumes when the spec or the credentials Secret changes)"
                        ),
                    ),
                );
            }
        }
    }

    let throttled = report.stats.throttled;
    set(
        &mut conds,
        if throttled > 0 {
            Condition::new(
                ConditionType::Throttled,
                true,
                "Throttled",
                format!(
                    "Shopify throttled {throttled} requests in the last sync; requests are paced to stay within {}% of the bucket",
                    ctx.max_bucket_share
                ),
            )
        } else {
            Condition::new(
                ConditionType::Throttled,
                false,
                "WithinBudget",
                format!(
                    "no request was throttled; using at most {}% of the bucket",
                    ctx.max_bucket_share
                ),
            )
        },
    );

    let ready = ready_condition(&conds, &status.missing_scopes, error);
    set(&mut conds, ready);
    status.conditions = conds;

    status.observed_generation = ctx.generation;
    status.last_sync_time = Some(now);
    status.next_sync_time = ctx.next_sync.map(Time);
    status.api_version = report.stats.served_version.clone().or(status.api_version);
    status.freshness = Some(freshness(report, ctx.counts, status.freshness.take()));
    status.rate_limit = report.bucket.map(|b| RateLimitStatus {
        bucket_size: b.maximum,
        available: b.available.floor(),
        restore_rate: b.restore_rate,
        max_bucket_share: ctx.max_bucket_share,
        cost_last_sync: report.stats.cost_used,
        throttled_last_sync: throttled,
    });
    status
}

fn ready_condition(
    conds: &[Condition],
    missing_scopes: &[String],
    error: Option<&(String, String, bool)>,
) -> Condition {
    let is_true = |t| conditions::find(conds, t).is_some_and(|c| c.status == ConditionStatus::True);
    if let Some((reason, message, _)) = error {
        return Condition::new(ConditionType::Ready, false, reason, message.clone());
    }
    if conditions::find(conds, ConditionType::BackfillComplete).is_some()
        && !is_true(ConditionType::BackfillComplete)
    {
        return Condition::new(
            ConditionType::Ready,
            false,
            "BackfillRunning",
            "the initial backfill is still running",
        );
    }
    if !is_true(ConditionType::ScopesGranted) && !missing_scopes.is_empty() {
        return Condition::new(
            ConditionType::Ready,
            true,
            "SyncedWithMissingScopes",
            format!(
                "syncing, but without what needs {}",
                missing_scopes.join(", ")
            ),
        );
    }
    Condition::new(
        ConditionType::Ready,
        true,
        "Synced",
        "the last sync succeeded and the data is fresh",
    )
}

pub fn backfill_status(b: &BackfillState) -> BackfillStatus {
    BackfillStatus {
        phase: if b.is_complete() {
            BackfillPhase::Complete
        } else if b.completed > 0 || b.job.operation.is_some() || b.job.resume_from.is_some() {
            BackfillPhase::Running
        } else {
            BackfillPhase::Pending
        },
        from: Some(Time(b.from)),
        to: Some(Time(b.to)),
        completed_stages: b.completed,
        total_stages: b.stages.len() as u32,
        records: b.records,
        clipped_from: b.clipped_from.map(Time),
    }
}

fn freshness(
    report: &SyncReport,
    counts: &BTreeMap<RecordSet, i64>,
    previous: Option<Freshness>,
) -> Freshness {
    let mut out = previous.unwrap_or_default();
    for recordset in RecordSet::ALL {
        let Some(r) = report.recordsets.get(&recordset) else {
            continue;
        };
        let entry = RecordsetFreshness {
            watermark: r.watermark.map(Time),
            lag_seconds: r
                .watermark
                .map(|w| report.finished.duration_since(w).as_secs().max(0)),
            records: counts.get(&recordset).copied().unwrap_or_default(),
        };
        let slot = match recordset {
            RecordSet::Orders => &mut out.orders,
            RecordSet::Products => &mut out.products,
            RecordSet::Refunds => &mut out.refunds,
            RecordSet::Returns => &mut out.returns,
        };
        *slot = Some(entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::ClientStats;
    use crate::sync::report::{RecordsetReport, ShopInfo};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn report() -> SyncReport {
        let mut r = SyncReport::new(at("2026-12-04T12:00:00Z"));
        r.finished = at("2026-12-04T12:00:30Z");
        r.shop = Some(ShopInfo {
            name: "Acme".into(),
            currency: "USD".into(),
            plan: "Basic".into(),
        });
        r.recordsets.insert(
            RecordSet::Orders,
            RecordsetReport {
                watermark: Some(at("2026-12-04T11:59:55Z")),
                written: 10,
                tombstoned: 1,
            },
        );
        r.stats = ClientStats {
            requests: 4,
            throttled: 0,
            retries: 0,
            cost_used: 42.0,
            served_version: Some("2026-10".into()),
            ..Default::default()
        };
        r
    }

    fn build(r: &SyncReport) -> ShopifyConnectionStatus {
        let counts = BTreeMap::from([(RecordSet::Orders, 1234)]);
        from_report(
            r,
            StatusContext {
                previous: None,
                generation: Some(2),
                max_bucket_share: 50,
                next_sync: None,
                counts: &counts,
            },
        )
    }

    fn condition(s: &ShopifyConnectionStatus, t: ConditionType) -> &Condition {
        conditions::find(&s.conditions, t).unwrap()
    }

    #[test]
    fn a_good_sync_is_ready_with_freshness() {
        let s = build(&report());
        assert_eq!(
            condition(&s, ConditionType::Ready).status,
            ConditionStatus::True
        );
        assert_eq!(
            condition(&s, ConditionType::Synced).observed_generation,
            Some(2)
        );
        let orders = s.freshness.clone().unwrap().orders.unwrap();
        assert_eq!(orders.lag_seconds, Some(35));
        assert_eq!(orders.records, 1234);
        assert_eq!(s.api_version.as_deref(), Some("2026-10"));
        assert_eq!(
            condition(&s, ConditionType::Throttled).status,
            ConditionStatus::False
        );
    }

    #[test]
    fn a_rejected_token_stalls_with_an_actionable_message() {
        let mut r = report();
        r.error = Some(("InvalidToken".into(), "Shopify rejected the access token for a.myshopify.com (HTTP 401): put a valid Admin API token in the credentials Secret".into(), true));
        let s = build(&r);
        assert_eq!(
            condition(&s, ConditionType::CredentialsValid).status,
            ConditionStatus::False
        );
        assert_eq!(condition(&s, ConditionType::Ready).reason, "InvalidToken");
        let stalled = condition(&s, ConditionType::Stalled);
        assert!(stalled.message.contains("credentials Secret"));
    }

    #[test]
    fn a_running_backfill_is_not_ready_yet() {
        let mut r = report();
        let plan = crate::sync::backfill_plan::plan(
            &crate::api::Backfill {
                window: Some("30d".into()),
                since: None,
            },
            at("2026-12-04T12:00:00Z"),
            true,
            crate::sync::backfill_plan::DEFAULT_STAGE,
        )
        .unwrap();
        let mut state = BackfillState::from_plan(&plan);
        state.completed = 2;
        r.backfill.insert(RecordSet::Orders, state);
        let s = build(&r);
        assert_eq!(
            condition(&s, ConditionType::Ready).reason,
            "BackfillRunning"
        );
        assert_eq!(s.backfill.as_ref().unwrap().phase, BackfillPhase::Running);
        assert_eq!(s.backfill.unwrap().total_stages, 5);
    }

    #[test]
    fn a_stopped_sync_is_not_reported_as_synced() {
        let mut r = report();
        r.stopped = true;
        let s = build(&r);
        let synced = condition(&s, ConditionType::Synced);
        assert_eq!(synced.status, ConditionStatus::False);
        assert_eq!(synced.reason, "Stopped");
        assert!(synced.message.contains("resumes from its checkpoint"));
        assert_eq!(s.last_successful_sync_time, None);
        assert_eq!(
            condition(&s, ConditionType::Ready).status,
            ConditionStatus::True,
            "a stop is not a fault"
        );
    }
}
