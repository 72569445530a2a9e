//! The per-store cost limiter. Shopify keeps one leaky bucket per (app,
//! store); every ShopifyConnection of a store therefore shares one limiter,
//! which mirrors the bucket from each response's `throttleStatus`, estimates
//! its refill in between, and admits a request only when its requested cost
//! fits inside the share of the bucket we allow ourselves, leaving the rest to
//! the store's other apps. Reference: shopify-admin-api.md §2.1, §2.7.
//!
//! Requests are admitted in the order they asked: otherwise a stream of
//! cheap requests (id pages, scope reads) from the store's other connections
//! keeps the bucket just below what an expensive one needs, and that
//! connection's sync starves while every other one runs.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::cost::ThrottleStatus;
use crate::clock::Clock;

/// Share used for a store no connection has registered a share for.
const DEFAULT_SHARE: u8 = 50;

/// Longest single sleep before re-checking; bounds the cost of a wrong estimate.
const MAX_NAP_SECS: f64 = 5.0;

/// One store's bucket as we believe it to be now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketEstimate {
    pub maximum: f64,
    pub available: f64,
    pub restore_rate: f64,
    /// Percentage of `maximum` this process may use.
    pub share: u8,
}

#[derive(Clone, Copy, Debug)]
struct Observed {
    status: ThrottleStatus,
    at: f64,
}

#[derive(Debug, Default)]
struct State {
    observed: Option<Observed>,
    /// Requested cost of requests sent but not yet answered.
    reserved: f64,
    in_flight: u32,
    paused_until: f64,
    shares: BTreeMap<String, u8>,
    /// Tickets of the requests waiting, first come first.
    queue: VecDeque<u64>,
    next_ticket: u64,
}

/// A waiting request's place in the queue; leaves it when dropped, so a
/// request whose caller gives up (a stopped sync) does not hold up the rest.
struct Ticket<'a> {
    limiter: &'a StoreLimiter,
    id: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut state = self.limiter.lock();
        let was_first = state.queue.front() == Some(&self.id);
        state.queue.retain(|t| *t != self.id);
        drop(state);
        if was_first {
            self.limiter.changed.notify_waiters();
        }
    }
}

/// The limiter of one store.
#[derive(Debug)]
pub struct StoreLimiter {
    clock: Clock,
    state: Mutex<State>,
    changed: Notify,
}

/// Admission for one request; releases its reservation when dropped.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<StoreLimiter>,
    cost: f64,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.limiter.lock();
        state.reserved = (state.reserved - self.cost).max(0.0);
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.limiter.changed.notify_waiters();
    }
}

impl StoreLimiter {
    pub fn new(clock: Clock) -> Arc<StoreLimiter> {
        Arc::new(StoreLimiter {
            clock,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves only numbers behind; carry on.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers (or changes) the share a connection allows; the store's
    /// effective share is the lowest registered.
    pub fn set_share(&self, owner: &str, share: u8) {
        self.lock()
            .shares
            .insert(owner.to_owned(), share.clamp(1, 100));
        self.changed.notify_waiters();
    }

    pub fn remove_share(&self, owner: &str) {
        self.lock().shares.remove(owner);
        self.changed.notify_waiters();
    }

    /// Mirrors the bucket from a response, throttled or not.
    pub fn observe(&self, status: ThrottleStatus) {
        let at = self.clock.seconds();
        self.lock().observed = Some(Observed { status, at });
        self.changed.notify_waiters();
    }

    /// Holds every request for this store for a while (`Retry-After`).
    pub fn pause_for(&self, pause: Duration) {
        let until = self.clock.seconds() + pause.as_secs_f64();
        let mut state = self.lock();
        state.paused_until = state.paused_until.max(until);
    }

    /// The bucket as estimated now.
    pub fn estimate(&self) -> Option<BucketEstimate> {
        let state = self.lock();
        let now = self.clock.seconds();
        state.observed.map(|o| BucketEstimate {
            maximum: o.status.maximum_available,
            available: refilled(&o, now),
            restore_rate: o.status.restore_rate,
            share: effective_share(&state.shares),
        })
    }

    /// The points one request may be charged at most under the current share.
    pub fn request_budget(&self) -> Option<f64> {
        self.estimate()
            .map(|b| b.maximum * f64::from(b.share) / 100.0)
    }

    /// Waits until a request of `requested` cost fits within our share and
    /// every request that asked before it has gone.
    pub async fn acquire(self: &Arc<Self>, requested: f64) -> Permit {
        let ticket = {
            let mut state = self.lock();
            let id = state.next_ticket;
            state.next_ticket += 1;
            state.queue.push_back(id);
            Ticket { limiter: self, id }
        };
        loop {
            let notified = self.changed.notified();
            let wait = {
                let mut state = self.lock();
                if state.queue.front() != Some(&ticket.id) {
                    None
                } else {
                    match wait_needed(&state, self.clock.seconds(), requested) {
                        Wait::Go => {
                            state.reserved += requested;
                            state.in_flight += 1;
                            drop(state);
                            // Dropping the ticket passes the turn to the next in line.
                            drop(ticket);
                            return Permit {
                                limiter: Arc::clone(self),
                                cost: requested,
                            };
                        }
                        Wait::Seconds(s) => Some(s.min(MAX_NAP_SECS)),
                        Wait::ForResponse => None,
                    }
                }
            };
            match wait {
                Some(secs) => {
                    tokio::select! {
                        _ = self.clock.sleep(Duration::from_secs_f64(secs)) => {}
                        _ = notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum Wait {
    Go,
    Seconds(f64),
    /// Nothing is known about the bucket yet and a request is out: its
    /// response will tell us the bucket's size.
    ForResponse,
}

fn effective_share(shares: &BTreeMap<String, u8>) -> u8 {
    shares.values().copied().min().unwrap_or(DEFAULT_SHARE)
}

fn refilled(o: &Observed, now: f64) -> f64 {
    let elapsed = (now - o.at).max(0.0);
    (o.status.currently_available + o.status.restore_rate * elapsed).min(o.status.maximum_available)
}

fn wait_needed(state: &State, now: f64, requested: f64) -> Wait {
    if state.paused_until > now {
        return Wait::Seconds(state.paused_until - now);
    }
    let Some(observed) = state.observed else {
        return if state.in_flight == 0 {
            Wait::Go
        } else {
            Wait::ForResponse
        };
    };
    let maximum = observed.status.maximum_available;
    let share = f64::from(effective_share(&state.shares)) / 100.0;
    // Points we leave in the bucket for the store's other apps.
    let floor = maximum * (1.0 - share);
    // A request larger than the whole share could never be admitted; it is
    // held until the share is entirely free instead.
    let need = requested.min(maximum * share);
    let available = refilled(&observed, now) - state.reserved;
    let deficit = floor + need - available;
    if deficit <= 0.0 {
        Wait::Go
    } else if observed.status.restore_rate > 0.0 {
        Wait::Seconds(deficit / observed.status.restore_rate)
    } else {
        Wait::ForResponse
    }
}

/// One limiter per store domain, shared by every connection to that store.
#[derive(Debug, Default)]
pub struct LimiterRegistry {
    clock: Clock,
    limiters: Mutex<HashMap<String, Arc<StoreLimiter>>>,
}

impl LimiterRegistry {
    pub fn new(clock: Clock) -> LimiterRegistry {
        LimiterRegistry {
            clock,
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// The limiter of a store (by its normalised myshopify.com domain).
    pub fn for_store(&self, store: &str) -> Arc<StoreLimiter> {
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(
            map.entry(store.to_ascii_lowercase())
                .or_insert_with(|| StoreLimiter::new(self.clock.clone())),
        )
    }

    /// Every store with its current estimate, for metrics.
    pub fn estimates(&self) -> Vec<(String, Option<BucketEstimate>)> {
        let map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        map.iter().map(|(k, v)| (k.clone(), v.estimate())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(max: f64, available: f64, rate: f64) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: max,
            currently_available: available,
            restore_rate: rate,
        }
    }

    fn state_with(available: f64, share: u8) -> State {
        let mut state = State {
            observed: Some(Observed {
                status: status(2000.0, available, 100.0),
                at: 0.0,
            }),
            ..State::default()
        };
        state.shares.insert("a".into(), share);
        state
    }

    #[test]
    fn first_request_goes_and_the_next_waits_for_its_response() {
        let mut state = State::default();
        assert_eq!(wait_needed(&state, 0.0, 500.0), Wait::Go);
        state.in_flight = 1;
        assert_eq!(wait_needed(&state, 0.0, 500.0), Wait::ForResponse);
    }

    #[test]
    fn admits_only_within_the_share() {
        // 50% of 2000: we may draw the bucket down to 1000 and no further.
        let state = state_with(2000.0, 50);
        assert_eq!(wait_needed(&state, 0.0, 1000.0), Wait::Go);
        let state = state_with(1500.0, 50);
        assert_eq!(wait_needed(&state, 0.0, 502.0), Wait::Seconds(0.02));
        // Refill over time admits it.
        assert_eq!(wait_needed(&state, 0.02, 502.0), Wait::Go);
    }

    #[test]
    fn reservations_of_requests_in_flight_count() {
        let mut state = state_with(2000.0, 50);
        state.reserved = 800.0;
        state.in_flight = 1;
        assert_eq!(wait_needed(&state, 0.0, 300.0), Wait::Seconds(1.0));
    }

    #[test]
    fn lowest_registered_share_wins_and_retry_after_pauses() {
        let mut state = state_with(2000.0, 50);
        state.shares.insert("b".into(), 10);
        assert_eq!(effective_share(&state.shares), 10);
        // 10% of 2000 = 200 points of room: a 300-point request is capped at 200.
        assert_eq!(wait_needed(&state, 0.0, 300.0), Wait::Go);
        state.paused_until = 3.0;
        assert_eq!(wait_needed(&state, 1.0, 1.0), Wait::Seconds(2.0));
    }

    #[tokio::test]
    async fn concurrent_acquirers_never_overdraw_the_share() {
        // 1000x speed: the 100 points/s refill is 100,000 points per real second.
        let clock = Clock::scaled(1000.0);
        let limiter = StoreLimiter::new(clock.clone());
        limiter.set_share("conn", 50);
        limiter.observe(status(2000.0, 2000.0, 100.0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let limiter = Arc::clone(&limiter);
            tasks.push(tokio::spawn(async move {
                for _ in 0..5 {
                    let permit = limiter.acquire(400.0).await;
                    let state = limiter.lock();
                    let available = refilled(&state.observed.unwrap(), limiter.clock.seconds());
                    // What we have committed never digs below the 50% floor.
                    assert!(available - state.reserved >= 1000.0 - 400.0 - 1e-6);
                    drop(state);
                    drop(permit);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }

    #[tokio::test]
    async fn an_expensive_request_is_not_overtaken_by_cheap_ones() {
        let clock = Clock::scaled(100.0);
        let limiter = StoreLimiter::new(clock.clone());
        limiter.set_share("conn", 50);
        // 100 points above the floor: the 900-point request must wait for refill.
        limiter.observe(status(2000.0, 1100.0, 100.0));
        let big = tokio::spawn({
            let limiter = Arc::clone(&limiter);
            async move {
                let _permit = limiter.acquire(900.0).await;
                limiter.clock.seconds()
            }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        // A cheap request that would fit now queues behind the expensive one.
        let cheap_at = {
            let _permit = limiter.acquire(50.0).await;
            limiter.clock.seconds()
        };
        let big_at = big.await.unwrap();
        assert!(big_at <= cheap_at, "the cheap request went first");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_the_queue() {
        let limiter = StoreLimiter::new(Clock::real());
        limiter.set_share("conn", 50);
        limiter.observe(status(2000.0, 1000.0, 0.0));
        // Nothing refills: this one waits forever, until cancelled.
        let stuck = tokio::time::timeout(Duration::from_millis(20), limiter.acquire(500.0)).await;
        assert!(stuck.is_err());
        assert!(limiter.lock().queue.is_empty());
        limiter.observe(status(2000.0, 2000.0, 0.0));
        let went = tokio::time::timeout(Duration::from_secs(1), limiter.acquire(10.0)).await;
        assert!(went.is_ok());
    }

    #[test]
    fn registry_shares_one_limiter_per_store() {
        let registry = LimiterRegistry::new(Clock::real());
        let a = registry.for_store("acme.myshopify.com");
        let b = registry.for_store("ACME.myshopify.com");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &registry.for_store("other.myshopify.com")));
    }
}
