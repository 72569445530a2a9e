//! Time as the sync engine, the limiter and the simulator see it.
//!
//! In production this is the real clock. Tests and benchmarks run a scaled
//! clock, so an hour of Shopify-paced syncing (buckets restoring at 100
//! points a second, poll intervals of minutes) passes in seconds while every
//! number the client sees stays what Shopify would send.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

/// A clock shared by everything that must agree on how fast time passes.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Virtual seconds per real second; 1.0 is the real clock.
    speed: f64,
    started: Instant,
    started_wall: Timestamp,
}

impl Clock {
    /// The real clock.
    pub fn real() -> Clock {
        Clock::scaled(1.0)
    }

    /// A clock running `speed` times faster than real time, starting now.
    pub fn scaled(speed: f64) -> Clock {
        Clock::scaled_from(speed, Timestamp::now())
    }

    /// A scaled clock whose virtual wall time starts at `start`.
    pub fn scaled_from(speed: f64, start: Timestamp) -> Clock {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Clock {
            inner: Arc::new(Inner {
                speed,
                started: Instant::now(),
                started_wall: start,
            }),
        }
    }

    pub fn speed(&self) -> f64 {
        self.inner.speed
    }

    /// Virtual seconds since the clock was made; monotonic.
    pub fn seconds(&self) -> f64 {
        self.inner.started.elapsed().as_secs_f64() * self.inner.speed
    }

    /// Virtual wall-clock time.
    pub fn now(&self) -> Timestamp {
        if self.inner.speed == 1.0 {
            return Timestamp::now();
        }
        let offset = SignedDuration::from_secs_f64(self.seconds());
        self.inner
            .started_wall
            .checked_add(offset)
            .unwrap_or(self.inner.started_wall)
    }

    /// Sleeps for a virtual duration.
    pub async fn sleep(&self, virtual_time: Duration) {
        tokio::time::sleep(self.to_real(virtual_time)).await;
    }

    /// The real time a virtual duration takes.
    pub fn to_real(&self, virtual_time: Duration) -> Duration {
        virtual_time.div_f64(self.inner.speed)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::real()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_runs_faster_than_real_time() {
        let clock = Clock::scaled(1000.0);
        let start = clock.now();
        std::thread::sleep(Duration::from_millis(20));
        let passed = clock.now().duration_since(start).as_secs_f64();
        assert!(
            passed >= 19.0,
            "expected about 20 virtual seconds, got {passed}"
        );
        assert_eq!(
            clock.to_real(Duration::from_secs(10)),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn nonsense_speed_falls_back_to_real_time() {
        assert_eq!(Clock::scaled(0.0).speed(), 1.0);
        assert_eq!(Clock::scaled(f64::NAN).speed(), 1.0);
    }
}
