//! Runs syncs outside the reconcile: one supervised task per connection at
//! most, a global bound on how many run at once, clean cancellation.
//! On-demand requests also have a small lane of slots of their own (a
//! quarter of the bound, rounded up), so someone waiting on
//! `lastHandledSyncRequest` is not queued behind a backlog of routine polls.
//! Backfills (first syncs, unfinished backfills) may hold at most half the
//! slots: onboarding a thousand stores at once must not stall the polls of
//! the connections already in sync.
//!
//! A reconcile only decides and hands over; the task runs the engine for as
//! long as the backfill takes. Cancelling first asks the engine to stop
//! (it finishes and commits the batch in flight), then, after a grace
//! period, aborts the task: every batch commits with its checkpoint in one
//! transaction, so an abort loses nothing that a rerun will not redo. When
//! a task ends it asks for a reconcile of its connection, which schedules
//! the next sync.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::join_all;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::ShopifyConnection;

use super::plan::{RunningSync, Why};

type Key = ObjectRef<ShopifyConnection>;

/// How a sync task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Stopped on request (spec change, suspend, delete, shutdown).
    Stopped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Stopped => "stopped",
        }
    }
}

struct Entry {
    id: u64,
    running: RunningSync,
    started: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

/// A task's claim on a sync slot, redeemed when it is ready to run.
pub struct SlotClaim {
    permits: Arc<Semaphore>,
    lane: Option<Arc<Semaphore>>,
    backfills: Option<Arc<Semaphore>>,
    started: Arc<AtomicBool>,
}

/// A sync slot, held while the sync runs.
pub struct Slot {
    _slot: OwnedSemaphorePermit,
    _backfill: Option<OwnedSemaphorePermit>,
}

impl SlotClaim {
    /// Waits for a slot (from the request lane too, if the claim has one;
    /// a backfill first waits for one of the backfill places); `None` when
    /// the task is stopped first.
    pub async fn acquire(self, stop: &mut watch::Receiver<bool>) -> Option<Slot> {
        let take = async {
            let backfill = match &self.backfills {
                Some(b) => Some(Arc::clone(b).acquire_owned().await.ok()?),
                None => None,
            };
            let slot = match &self.lane {
                Some(lane) => tokio::select! {
                    p = Arc::clone(&self.permits).acquire_owned() => p,
                    p = Arc::clone(lane).acquire_owned() => p,
                },
                None => Arc::clone(&self.permits).acquire_owned().await,
            };
            Some(Slot {
                _slot: slot.ok()?,
                _backfill: backfill,
            })
        };
        let slot = tokio::select! {
            s = take => s?,
            _ = stop.wait_for(|s| *s) => return None,
        };
        self.started.store(true, Ordering::Relaxed);
        Some(slot)
    }
}

pub struct Supervisor {
    tasks: Mutex<HashMap<Key, Entry>>,
    failures: Mutex<HashMap<Key, u32>>,
    permits: Arc<Semaphore>,
    request_lane: Arc<Semaphore>,
    backfills: Arc<Semaphore>,
    done: mpsc::UnboundedSender<Key>,
    next_id: AtomicU64,
    grace: Duration,
}

impl Supervisor {
    /// `done` receives a connection's key whenever its task ends.
    pub fn new(
        max_concurrent: usize,
        grace: Duration,
        done: mpsc::UnboundedSender<Key>,
    ) -> Supervisor {
        Supervisor {
            tasks: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            request_lane: Arc::new(Semaphore::new(max_concurrent.max(1).div_ceil(4))),
            backfills: Arc::new(Semaphore::new((max_concurrent / 2).max(1))),
            done,
            next_id: AtomicU64::new(1),
            grace,
        }
    }

    pub fn running(&self, key: &Key) -> Option<RunningSync> {
        self.lock_tasks().get(key).map(|e| RunningSync {
            started: e.started.load(Ordering::Relaxed),
            ..e.running.clone()
        })
    }

    pub fn failures(&self, key: &Key) -> u32 {
        self.lock_failures().get(key).copied().unwrap_or(0)
    }

    pub fn running_count(&self) -> usize {
        self.lock_tasks().len()
    }

    /// Starts `work` for `key`, first stopping a task already running for it
    /// (without waiting here: the new task waits for the old one to end).
    /// `work` must redeem its [`SlotClaim`] before it does anything that
    /// counts against the bound.
    pub fn start<F>(self: &Arc<Self>, key: Key, running: RunningSync, work: F)
    where
        F: FnOnce(watch::Receiver<bool>, SlotClaim) -> futures::future::BoxFuture<'static, Outcome>
            + Send
            + 'static,
    {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (stop_tx, stop_rx) = watch::channel(false);
        let started = Arc::new(AtomicBool::new(false));
        let claim = SlotClaim {
            permits: Arc::clone(&self.permits),
            lane: (running.why == Why::Requested).then(|| Arc::clone(&self.request_lane)),
            backfills: matches!(running.why, Why::FirstSync | Why::BackfillUnfinished)
                .then(|| Arc::clone(&self.backfills)),
            started: Arc::clone(&started),
        };
        let mut tasks = self.lock_tasks();
        let previous = tasks.remove(&key);
        if let Some(p) = &previous {
            let _ = p.stop.send(true);
        }
        let this = Arc::clone(self);
        let task_key = key.clone();
        let handle = tokio::spawn(async move {
            if let Some(previous) = previous {
                this.wait_or_abort(previous.handle).await;
            }
            let outcome = work(stop_rx, claim).await;
            this.finished(&task_key, id, outcome);
        });
        tasks.insert(
            key,
            Entry {
                id,
                running,
                started,
                stop: stop_tx,
                handle,
            },
        );
    }

    /// Stops the task for `key`, if any, and waits for it (at most the grace
    /// period, then it is aborted).
    pub async fn cancel(&self, key: &Key) {
        let entry = self.lock_tasks().remove(key);
        if let Some(entry) = entry {
            let _ = entry.stop.send(true);
            self.wait_or_abort(entry.handle).await;
        }
        self.lock_failures().remove(key);
    }

    /// Stops every task: each finishes its batch in flight and commits, or
    /// is aborted after the grace period.
    pub async fn shutdown(&self) {
        let entries: Vec<Entry> = self.lock_tasks().drain().map(|(_, e)| e).collect();
        for e in &entries {
            let _ = e.stop.send(true);
        }
        join_all(entries.into_iter().map(|e| self.wait_or_abort(e.handle))).await;
    }

    /// Aborts every task at once: leadership is lost and another replica
    /// may start any moment. Each task's last committed checkpoint stands.
    pub async fn abort_all(&self) {
        let entries: Vec<Entry> = self.lock_tasks().drain().map(|(_, e)| e).collect();
        for e in entries {
            e.handle.abort();
            let _ = e.handle.await;
        }
    }

    async fn wait_or_abort(&self, mut handle: JoinHandle<()>) {
        if tokio::time::timeout(self.grace, &mut handle).await.is_err() {
            tracing::warn!(grace = ?self.grace, "a sync did not stop within the grace period; aborting it (its last committed checkpoint stands)");
            handle.abort();
            let _ = handle.await;
        }
    }

    fn finished(&self, key: &Key, id: u64, outcome: Outcome) {
        {
            let mut tasks = self.lock_tasks();
            if tasks.get(key).is_some_and(|e| e.id == id) {
                tasks.remove(key);
            }
        }
        {
            let mut failures = self.lock_failures();
            match outcome {
                Outcome::Succeeded => {
                    failures.remove(key);
                }
                Outcome::Failed => *failures.entry(key.clone()).or_default() += 1,
                Outcome::Stopped => {}
            }
        }
        let _ = self.done.send(key.clone());
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_failures(&self) -> std::sync::MutexGuard<'_, HashMap<Key, u32>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    fn key(name: &str) -> Key {
        ObjectRef::new(name).within("ns")
    }

    fn running(generation: i64) -> RunningSync {
        RunningSync {
            generation: Some(generation),
            secret_version: "1".into(),
            why: Why::Scheduled,
            started: false,
        }
    }

    #[tokio::test]
    async fn a_restart_stops_the_old_task_before_the_new_one_runs() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sup = Arc::new(Supervisor::new(4, Duration::from_secs(5), tx));
        let (order_tx, mut order) = mpsc::unbounded_channel();
        let o1 = order_tx.clone();
        sup.start(key("a"), running(1), move |mut stop, _| {
            async move {
                let _ = stop.wait_for(|s| *s).await;
                o1.send("old stopped").unwrap();
                Outcome::Stopped
            }
            .boxed()
        });
        let o2 = order_tx.clone();
        sup.start(key("a"), running(2), move |_, _| {
            async move {
                o2.send("new ran").unwrap();
                Outcome::Succeeded
            }
            .boxed()
        });
        assert_eq!(sup.running(&key("a")), Some(running(2)));
        assert_eq!(order.recv().await, Some("old stopped"));
        assert_eq!(order.recv().await, Some("new ran"));
        assert_eq!(rx.recv().await, Some(key("a")));
        assert_eq!(rx.recv().await, Some(key("a")));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(sup.running(&key("a")), None);
    }

    #[tokio::test]
    async fn a_task_that_ignores_stop_is_aborted_after_the_grace_period() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let sup = Arc::new(Supervisor::new(1, Duration::from_millis(50), tx));
        sup.start(key("b"), running(1), |_, _| {
            async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Outcome::Succeeded
            }
            .boxed()
        });
        let started = std::time::Instant::now();
        sup.cancel(&key("b")).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(sup.running_count(), 0);
    }

    #[tokio::test]
    async fn failures_count_up_and_reset_on_success() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sup = Arc::new(Supervisor::new(1, Duration::from_secs(1), tx));
        for outcome in [Outcome::Failed, Outcome::Failed] {
            sup.start(key("c"), running(1), move |_, _| {
                async move { outcome }.boxed()
            });
            rx.recv().await;
        }
        assert_eq!(sup.failures(&key("c")), 2);
        sup.start(key("c"), running(1), |_, _| {
            async { Outcome::Succeeded }.boxed()
        });
        rx.recv().await;
        assert_eq!(sup.failures(&key("c")), 0);
    }

    async fn until_started(sup: &Supervisor, name: &str) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while !sup.running(&key(name)).is_some_and(|r| r.started) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{name} never got a slot"));
    }

    #[tokio::test]
    async fn a_request_takes_its_own_lane_while_routine_polls_queue() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let sup = Arc::new(Supervisor::new(1, Duration::from_secs(1), tx));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        sup.start(key("busy"), running(1), move |mut stop, claim| {
            async move {
                let _slot = claim.acquire(&mut stop).await;
                let _ = released.await;
                Outcome::Succeeded
            }
            .boxed()
        });
        until_started(&sup, "busy").await;
        sup.start(key("queued"), running(1), |mut stop, claim| {
            async move {
                let _slot = claim.acquire(&mut stop).await;
                Outcome::Succeeded
            }
            .boxed()
        });
        let request = RunningSync {
            why: Why::Requested,
            ..running(1)
        };
        let (ran, has_run) = tokio::sync::oneshot::channel::<()>();
        sup.start(key("asked"), request, move |mut stop, claim| {
            async move {
                let _slot = claim.acquire(&mut stop).await;
                let _ = ran.send(());
                futures::future::pending::<Outcome>().await
            }
            .boxed()
        });
        tokio::time::timeout(Duration::from_secs(5), has_run)
            .await
            .expect("the request waited for the routine slot")
            .unwrap();
        assert!(!sup.running(&key("queued")).unwrap().started);
        release.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), async {
            while sup.running(&key("queued")).is_some() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the routine poll ran once the slot was free");
        sup.abort_all().await;
    }

    #[tokio::test]
    async fn backfills_leave_half_the_slots_to_routine_polls() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let sup = Arc::new(Supervisor::new(2, Duration::from_secs(1), tx));
        let first = |generation| RunningSync {
            why: Why::FirstSync,
            ..running(generation)
        };
        for name in ["backfill-1", "backfill-2"] {
            sup.start(key(name), first(1), |mut stop, claim| {
                async move {
                    let _slot = claim.acquire(&mut stop).await;
                    futures::future::pending::<Outcome>().await
                }
                .boxed()
            });
        }
        let started = |sup: &Supervisor| {
            ["backfill-1", "backfill-2"]
                .iter()
                .filter(|n| sup.running(&key(n)).is_some_and(|r| r.started))
                .count()
        };
        tokio::time::timeout(Duration::from_secs(5), async {
            while started(&sup) == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("a backfill got a slot");
        sup.start(key("poll"), running(1), |mut stop, claim| {
            async move {
                let _slot = claim.acquire(&mut stop).await;
                futures::future::pending::<Outcome>().await
            }
            .boxed()
        });
        until_started(&sup, "poll").await;
        assert_eq!(started(&sup), 1, "both backfills hold a slot");
        sup.abort_all().await;
    }
}
