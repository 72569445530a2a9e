//! The leaky bucket of cost points per (app, store) (reference §2.1, §2.4):
//! admission on the requested cost, refund of requested − actual afterwards,
//! restoration at `restoreRate` points per simulated second.

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Bucket {
    maximum: f64,
    restore_rate: f64,
    available: f64,
    last_ms: f64,
    /// The lowest level any admission left the bucket at (drains excluded),
    /// so a test or benchmark can check a client never used more than its share.
    lowest: f64,
}

impl Bucket {
    pub fn new(maximum: f64, restore_rate: f64, now_ms: f64) -> Bucket {
        Bucket {
            maximum,
            restore_rate,
            available: maximum,
            last_ms: now_ms,
            lowest: maximum,
        }
    }

    fn refill(&mut self, now_ms: f64) {
        let elapsed_s = ((now_ms - self.last_ms) / 1000.0).max(0.0);
        self.available = (self.available + elapsed_s * self.restore_rate).min(self.maximum);
        self.last_ms = self.last_ms.max(now_ms);
    }

    /// Takes `cost` points if the bucket holds them; otherwise leaves it untouched.
    pub fn try_take(&mut self, cost: f64, now_ms: f64) -> bool {
        self.refill(now_ms);
        if cost > self.available {
            return false;
        }
        self.available -= cost;
        self.lowest = self.lowest.min(self.available);
        true
    }

    /// The lowest level an admission has left the bucket at.
    pub fn lowest(&self) -> f64 {
        self.lowest
    }

    /// Returns the unused part of the requested cost.
    pub fn refund(&mut self, points: f64, now_ms: f64) {
        self.refill(now_ms);
        self.available = (self.available + points.max(0.0)).min(self.maximum);
    }

    /// Empties the bucket (the THROTTLED-storm fault).
    pub fn drain(&mut self, now_ms: f64) {
        self.refill(now_ms);
        self.available = 0.0;
    }

    pub fn available(&mut self, now_ms: f64) -> f64 {
        self.refill(now_ms);
        self.available
    }

    /// `extensions.cost.throttleStatus`, with Shopify's float/int mix (§2.4).
    pub fn status(&mut self, now_ms: f64) -> Value {
        self.refill(now_ms);
        json!({
            "maximumAvailable": self.maximum,
            "currentlyAvailable": self.available.floor() as i64,
            "restoreRate": self.restore_rate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_on_requested_refunds_and_restores() {
        let mut b = Bucket::new(2000.0, 100.0, 0.0);
        assert!(b.try_take(1000.0, 0.0));
        assert!(b.try_take(1000.0, 0.0));
        assert!(!b.try_take(1.0, 0.0), "empty bucket must refuse");
        assert!(b.try_take(100.0, 1000.0), "one second restores 100 points");
        b.refund(50.0, 1000.0);
        assert_eq!(b.status(1000.0)["currentlyAvailable"], 50);
        assert_eq!(b.status(1000.0)["maximumAvailable"].to_string(), "2000.0");
        assert_eq!(b.available(100_000.0), 2000.0, "never above the maximum");
    }
}
