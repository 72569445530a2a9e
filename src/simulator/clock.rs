//! Simulated time. The bucket refills, bulk jobs progress and URLs expire by
//! this clock; tests speed it up so an hour of Shopify-paced syncing runs in
//! seconds, while every number the client sees (restoreRate, costs) stays
//! Shopify's (issue 3, item 4).

use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
struct State {
    real_base: Instant,
    sim_base_ms: f64,
    speed: f64,
}

#[derive(Debug)]
pub struct SimClock {
    state: Mutex<State>,
}

impl SimClock {
    /// Starts at the wall-clock time, running `speed` times faster than real time.
    pub fn new(speed: f64) -> SimClock {
        let now_ms = jiff::Timestamp::now().as_millisecond() as f64;
        SimClock {
            state: Mutex::new(State {
                real_base: Instant::now(),
                sim_base_ms: now_ms,
                speed: speed.max(0.0),
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Simulated milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> f64 {
        self.with(|s| s.sim_base_ms + s.real_base.elapsed().as_secs_f64() * 1000.0 * s.speed)
    }

    /// Simulated seconds since the Unix epoch.
    pub fn now_s(&self) -> i64 {
        (self.now_ms() / 1000.0).floor() as i64
    }

    pub fn speed(&self) -> f64 {
        self.with(|s| s.speed)
    }

    /// Changes the speed from now on without a jump in simulated time.
    pub fn set_speed(&self, speed: f64) {
        self.with(|s| {
            s.sim_base_ms += s.real_base.elapsed().as_secs_f64() * 1000.0 * s.speed;
            s.real_base = Instant::now();
            s.speed = speed.max(0.0);
        });
    }

    /// Jumps simulated time forward (expire URLs, refill buckets) without waiting.
    pub fn advance_ms(&self, ms: f64) {
        self.with(|s| s.sim_base_ms += ms.max(0.0));
    }

    /// Real time to wait for `sim_ms` of simulated time to pass.
    pub fn real_duration(&self, sim_ms: f64) -> std::time::Duration {
        let speed = self.speed();
        if speed <= 0.0 {
            return std::time::Duration::from_secs(3600);
        }
        std::time::Duration::from_secs_f64((sim_ms / speed / 1000.0).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_clock_runs_ahead_and_advance_jumps() {
        let clock = SimClock::new(1000.0);
        let start = clock.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let elapsed = clock.now_ms() - start;
        assert!(
            elapsed >= 20_000.0,
            "1000x clock advanced only {elapsed} ms"
        );
        clock.set_speed(0.0);
        let frozen = clock.now_ms();
        clock.advance_ms(5_000.0);
        assert!((clock.now_ms() - frozen - 5_000.0).abs() < 1.0);
    }
}
