//! How long to wait before trying again: the limiter decides for throttling
//! (it knows the bucket); `Retry-After` when the server names a time; jittered
//! exponential backoff for server errors and broken connections.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// Bounds on retrying one request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts for server errors, timeouts and resets.
    pub max_attempts: u32,
    /// Attempts for THROTTLED answers, which the limiter paces.
    pub max_throttled: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            max_throttled: 60,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Full-jitter exponential backoff for the n-th failure (1-based): a
    /// random wait between half and all of `min(cap, base × 2^(n-1))`, so
    /// clients that failed together do not retry together.
    pub fn backoff(&self, failure: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << failure.saturating_sub(1).min(16));
        let ceiling = exp.min(self.cap);
        ceiling.mul_f64(0.5 + 0.5 * unit_random())
    }
}

/// A number in [0, 1) from the process's random hasher keys; good enough to
/// spread retries, and no extra dependency.
fn unit_random() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let bits = RandomState::new().hash_one(nanos);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps_and_stays_jittered() {
        let policy = RetryPolicy::default();
        let first = policy.backoff(1);
        assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
        let late = policy.backoff(20);
        assert!(late >= Duration::from_secs(15) && late <= Duration::from_secs(30));
        let samples: std::collections::HashSet<_> = (0..20).map(|_| policy.backoff(4)).collect();
        assert!(samples.len() > 1, "backoff must be jittered");
    }
}
