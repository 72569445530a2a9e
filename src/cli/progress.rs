//! Showing a running sync from the engine's progress channel: on a terminal,
//! one progress bar per backfill stage or incremental window (a line per
//! finished job above it, log lines above both); otherwise structured log
//! lines — the job, its count, and the progress every ten seconds.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use jiff::Timestamp;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::sync::{JobProgress, SyncPhase, SyncProgress};

/// How often log mode reports a job still under way.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// How progress is shown.
#[derive(Clone)]
pub enum Display {
    /// Bars on the terminal.
    Bars(MultiProgress),
    /// Structured log lines.
    Logs,
}

impl Display {
    /// Bars when stderr is a terminal and nobody asked for logs
    /// (`--no-progress`, `SHOPSYNC_LOG_FORMAT=json`).
    pub fn choose(no_progress: bool) -> Display {
        let json_logs =
            std::env::var("SHOPSYNC_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
        if no_progress || json_logs || !std::io::stderr().is_terminal() {
            Display::Logs
        } else {
            Display::Bars(MultiProgress::new())
        }
    }

    /// With bars, log lines must be printed above them or they tear the
    /// bars apart: a subscriber for the sync's future that does that, with
    /// the process's usual filter.
    pub fn log_dispatch(&self) -> Option<tracing::Dispatch> {
        let Display::Bars(bars) = self else {
            return None;
        };
        let filter = EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new("warn,shopsync=info"));
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_writer(AboveBars(bars.clone()))
            .finish();
        Some(tracing::Dispatch::new(subscriber))
    }

    /// Follows one sync's progress until it is done or its sender is gone.
    pub async fn follow(&self, rx: watch::Receiver<SyncProgress>) {
        match self {
            Display::Bars(bars) => follow_bars(bars, rx).await,
            Display::Logs => follow_logs(rx).await,
        }
    }
}

/// The job a snapshot is on, and how to name it.
fn job_label(p: &SyncProgress, job: &JobProgress) -> String {
    let what = p.recordset.map_or("records", |r| r.as_str());
    let span = format!("{} → {}", short(job.from), short(job.to));
    match (p.phase, p.recordset.and_then(|r| p.backfill.get(&r))) {
        (SyncPhase::Backfill, Some(b)) => format!(
            "{what} backfill stage {}/{} ({span})",
            b.completed + 1,
            b.stages.len()
        ),
        (SyncPhase::Incremental, _) => format!("{what} changes ({span})"),
        _ => format!("{what} ({span})"),
    }
}

fn short(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

async fn follow_bars(bars: &MultiProgress, mut rx: watch::Receiver<SyncProgress>) {
    let mut current: Option<(JobProgress, ProgressBar, String)> = None;
    loop {
        let snapshot = rx.borrow_and_update().clone();
        let same_job = matches!((&current, &snapshot.job), (Some((job, ..)), Some(now)) if job.from == now.from && job.to == now.to);
        if !same_job && let Some((_, bar, label)) = current.take() {
            finish(bars, bar, &label);
        }
        if let (None, Some(job)) = (&current, &snapshot.job) {
            let label = job_label(&snapshot, job);
            let bar = bars.add(new_bar(job.expected));
            bar.set_prefix(label.clone());
            current = Some((job.clone(), bar, label));
        }
        if let Some((_, bar, _)) = &current {
            bar.set_position(snapshot.stage_records);
        }
        if snapshot.phase == SyncPhase::Done || rx.changed().await.is_err() {
            break;
        }
    }
    if let Some((_, bar, label)) = current {
        finish(bars, bar, &label);
    }
}

/// Replaces a job's bar by a line above the bars. The last commits of a job
/// and the next job's start can arrive as one snapshot, so the bar may not
/// have shown the job's last count: the line says it is done, not how many.
fn finish(bars: &MultiProgress, bar: ProgressBar, label: &str) {
    bar.finish_and_clear();
    let _ = bars.println(format!("{label}: done"));
}

fn new_bar(expected: Option<u64>) -> ProgressBar {
    let (bar, template) = match expected {
        Some(len) => (
            ProgressBar::new(len),
            "{prefix} [{bar:30}] {pos}/{len} ({per_sec}, {eta})",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{prefix} {spinner} {pos} ({per_sec})",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

async fn follow_logs(mut rx: watch::Receiver<SyncProgress>) {
    let mut current: Option<(JobProgress, String)> = None;
    let mut last_log = Instant::now();
    loop {
        let p = rx.borrow_and_update().clone();
        let same_job = matches!((&current, &p.job), (Some((job, _)), Some(now)) if job.from == now.from && job.to == now.to);
        if !same_job && let Some((_, label)) = current.take() {
            tracing::info!(job = %label, records_written = p.records_written, "job done");
        }
        if let (None, Some(job)) = (&current, &p.job) {
            let label = job_label(&p, job);
            tracing::info!(job = %label, expected = ?job.expected, "job started");
            current = Some((job.clone(), label));
            last_log = Instant::now();
        }
        if let Some((job, label)) = &current
            && last_log.elapsed() >= LOG_EVERY
        {
            tracing::info!(job = %label, committed = p.stage_records, expected = ?job.expected,
                records_written = p.records_written, "job progress");
            last_log = Instant::now();
        }
        if p.phase == SyncPhase::Done || rx.changed().await.is_err() {
            if let Some((_, label)) = current {
                tracing::info!(job = %label, records_written = p.records_written, "job done");
            }
            break;
        }
    }
}

/// A `tracing` writer that prints each event above the bars.
#[derive(Clone)]
struct AboveBars(MultiProgress);

impl<'a> MakeWriter<'a> for AboveBars {
    type Writer = EventLine;

    fn make_writer(&'a self) -> EventLine {
        EventLine {
            bars: self.0.clone(),
            text: Vec::new(),
        }
    }
}

/// One event's text, printed when the subscriber is done writing it.
struct EventLine {
    bars: MultiProgress,
    text: Vec<u8>,
}

impl Write for EventLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventLine {
    fn drop(&mut self) {
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            self.bars.suspend(|| {
                let _ = std::io::stderr().write_all(&text);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RecordSet;
    use crate::sync::backfill_plan::BackfillPlan;
    use crate::sync::state::{BackfillState, StageState};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn bars_follow_jobs_and_end_with_the_sync() {
        let display = Display::Bars(MultiProgress::with_draw_target(
            indicatif::ProgressDrawTarget::hidden(),
        ));
        let (tx, rx) = watch::channel(SyncProgress::default());
        let follower = tokio::spawn(async move { display.follow(rx).await });
        for (i, day) in ["2026-11-01", "2026-11-08"].into_iter().enumerate() {
            tx.send_modify(|p| {
                p.phase = SyncPhase::Backfill;
                p.recordset = Some(RecordSet::Orders);
                p.job = Some(JobProgress {
                    from: at(&format!("{day}T00:00:00Z")),
                    to: at(&format!("{day}T12:00:00Z")),
                    expected: Some(10),
                });
                p.stage_records = 5 * i as u64;
            });
            tokio::task::yield_now().await;
        }
        tx.send_modify(|p| p.phase = SyncPhase::Done);
        tokio::time::timeout(Duration::from_secs(5), follower)
            .await
            .expect("the display ends with the sync")
            .expect("follower");
    }

    #[test]
    fn jobs_are_named_by_recordset_stage_and_span() {
        let job = JobProgress {
            from: at("2026-11-01T00:00:00Z"),
            to: at("2026-11-08T00:00:00Z"),
            expected: Some(812),
        };
        let mut state = BackfillState::from_plan(&BackfillPlan {
            from: job.from,
            to: job.to,
            clipped_from: None,
            stages: Vec::new(),
        });
        state.stages = (0..13)
            .map(|index| StageState {
                index,
                from: job.from,
                to: job.to,
            })
            .collect();
        state.completed = 2;
        let p = SyncProgress {
            phase: SyncPhase::Backfill,
            recordset: Some(RecordSet::Orders),
            backfill: [(RecordSet::Orders, state)].into(),
            ..SyncProgress::default()
        };
        assert_eq!(
            job_label(&p, &job),
            "orders backfill stage 3/13 (2026-11-01 00:00 → 2026-11-08 00:00)"
        );
        let p = SyncProgress {
            phase: SyncPhase::Incremental,
            ..p
        };
        assert_eq!(
            job_label(&p, &job),
            "orders changes (2026-11-01 00:00 → 2026-11-08 00:00)"
        );
    }
}
