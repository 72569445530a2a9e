//! When a connection's routine polls fall due.
//!
//! Every connection polls in its own fixed phase of the interval, derived
//! from its uid: slots are `k × pollInterval + phase` on the wall clock. A
//! thousand connections created together (or all requeued at once after an
//! operator outage, external-secrets#4231) are spread evenly over the
//! interval and stay spread, and the spread survives restarts because it
//! is a function of the uid alone. On top of that each slot is pulled
//! earlier by a small jitter that differs per slot (at most 1% of the
//! interval, at most 30 s), so neighbours in phase do not stay in
//! lock-step. Jitter only ever moves a poll earlier and is kept small
//! because freshness lag is bounded by the gap between polls: at most one
//! interval plus one jitter.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Largest jitter, as a fraction of the interval.
const JITTER_SHARE: f64 = 0.01;
const JITTER_CAP: Duration = Duration::from_secs(30);

/// One connection's routine cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    interval: Duration,
    phase: Duration,
    seed: u64,
}

impl Cadence {
    pub fn new(uid: &str, interval: Duration) -> Cadence {
        let interval = interval.max(Duration::from_secs(1));
        let seed = fnv1a(uid.as_bytes());
        let phase_ms = seed % (interval.as_millis().max(1) as u64);
        Cadence {
            interval,
            phase: Duration::from_millis(phase_ms),
            seed,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The offset of this connection's slots within each interval.
    pub fn phase(&self) -> Duration {
        self.phase
    }

    /// The routine poll after `after` (the end of the last sync): the first
    /// jittered slot after it. A sync off the grid (a request, the first
    /// sync) may be followed by a poll soon after; that costs one cheap
    /// change probe and keeps the connection in its phase.
    pub fn next_due(&self, after: Timestamp) -> Timestamp {
        let interval_ms = self.interval.as_millis() as i64;
        let phase_ms = self.phase.as_millis() as i64;
        let after_ms = after.as_millisecond();
        // Index of the last slot at or before `after`.
        let mut k = (after_ms - phase_ms).div_euclid(interval_ms);
        loop {
            k += 1;
            let slot = k * interval_ms + phase_ms - self.jitter_ms(k);
            if slot > after_ms {
                return Timestamp::from_millisecond(slot).unwrap_or(after);
            }
        }
    }

    fn jitter_ms(&self, slot: i64) -> i64 {
        let cap = (self.interval.as_secs_f64() * JITTER_SHARE).min(JITTER_CAP.as_secs_f64());
        let mixed = fnv1a(&(self.seed ^ slot as u64).to_le_bytes());
        let fraction = (mixed % 10_000) as f64 / 10_000.0;
        (cap * fraction * 1000.0) as i64
    }
}

/// How long to wait before retrying after `failures` failed syncs in a row:
/// doubling from 5 s, never longer than the poll interval (a failing
/// connection is retried at least as often as a healthy one polls, unlike
/// the 15-minute caps users complain about in external-secrets#4180).
pub fn retry_after(failures: u32, interval: Duration) -> Duration {
    let base = Duration::from_secs(5);
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    (base * factor).min(interval)
}

/// `to − from`, or zero when `to` is not later.
pub fn until(from: Timestamp, to: Timestamp) -> Duration {
    let d: SignedDuration = to.duration_since(from);
    Duration::try_from(d).unwrap_or_default()
}

/// 64-bit FNV-1a: small, and stable across Rust releases, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn phase_is_stable_and_within_the_interval() {
        let a = Cadence::new("uid-1", Duration::from_secs(60));
        let b = Cadence::new("uid-1", Duration::from_secs(60));
        assert_eq!(a, b);
        assert!(a.phase() < Duration::from_secs(60));
        assert_ne!(
            a.phase(),
            Cadence::new("uid-2", Duration::from_secs(60)).phase()
        );
    }

    #[test]
    fn next_due_is_after_the_last_sync_and_within_one_interval() {
        let c = Cadence::new("some-uid", Duration::from_secs(900));
        let mut t = at("2026-12-04T10:00:00Z");
        for _ in 0..200 {
            let due = c.next_due(t);
            assert!(due > t, "{due} not after {t}");
            assert!(
                until(t, due) <= Duration::from_secs(909),
                "due {due} more than an interval and a jitter after {t}"
            );
            t = due;
        }
    }

    #[test]
    fn consecutive_polls_are_never_more_than_an_interval_apart() {
        // Polls stay one interval apart, give or take one jitter.
        let c = Cadence::new("lag", Duration::from_secs(60));
        let mut t = at("2026-12-04T10:00:00Z");
        let mut last = c.next_due(t);
        for _ in 0..500 {
            t = last.checked_add(SignedDuration::from_millis(300)).unwrap();
            let due = c.next_due(t);
            assert!(
                until(last, due) <= Duration::from_millis(60_600),
                "{last} → {due}"
            );
            assert!(
                until(last, due) >= Duration::from_millis(59_400),
                "{last} → {due}"
            );
            last = due;
        }
    }

    #[test]
    fn a_thousand_connections_spread_over_the_interval() {
        let now = at("2026-12-04T10:00:00Z");
        let mut buckets = [0u32; 10];
        for i in 0..1000 {
            let due = Cadence::new(&format!("uid-{i}"), Duration::from_secs(60)).next_due(now);
            let offset = until(now, due).as_secs_f64();
            buckets[((offset / 6.0) as usize).min(9)] += 1;
        }
        for (i, n) in buckets.iter().enumerate() {
            assert!(
                (60..=140).contains(n),
                "bucket {i} holds {n} of 1000: {buckets:?}"
            );
        }
    }

    #[test]
    fn retries_double_up_to_the_interval() {
        let interval = Duration::from_secs(60);
        assert_eq!(retry_after(1, interval), Duration::from_secs(5));
        assert_eq!(retry_after(2, interval), Duration::from_secs(10));
        assert_eq!(retry_after(4, interval), Duration::from_secs(40));
        assert_eq!(retry_after(10, interval), interval);
        assert_eq!(retry_after(u32::MAX, interval), interval);
    }
}
