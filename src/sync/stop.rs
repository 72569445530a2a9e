//! The stop request a caller (the operator shutting down or losing its lease,
//! a person pressing Ctrl-C) hands the engine: a `watch` channel whose value
//! turns `true`. The engine looks at it between batches and between jobs,
//! and waits on it while a bulk job runs, so it returns promptly with every
//! committed batch's checkpoint in place.

use tokio::sync::watch;

/// A possibly absent stop request; without one the engine never stops early.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Option<watch::Receiver<bool>>);

impl StopSignal {
    pub fn new(receiver: watch::Receiver<bool>) -> StopSignal {
        StopSignal(Some(receiver))
    }

    /// Whether a stop has been requested.
    pub fn is_raised(&self) -> bool {
        self.0.as_ref().is_some_and(|r| *r.borrow())
    }

    /// Resolves once a stop is requested; never, without a signal or once
    /// its sender is gone without having asked.
    pub async fn raised(&self) {
        match self.0.clone() {
            Some(mut receiver) => {
                if receiver.wait_for(|stop| *stop).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn raised_resolves_when_the_value_turns_true() {
        let (tx, rx) = watch::channel(false);
        let signal = StopSignal::new(rx);
        assert!(!signal.is_raised());
        let waiter = tokio::spawn({
            let signal = signal.clone();
            async move { signal.raised().await }
        });
        tx.send_replace(true);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("resolves promptly")
            .expect("task");
        assert!(signal.is_raised());
    }

    #[tokio::test]
    async fn no_signal_or_a_dropped_sender_never_stops() {
        let none = StopSignal::default();
        let never = tokio::time::timeout(Duration::from_millis(20), none.raised());
        assert!(never.await.is_err());
        let (tx, rx) = watch::channel(false);
        drop(tx);
        let signal = StopSignal::new(rx);
        assert!(!signal.is_raised());
        let never = tokio::time::timeout(Duration::from_millis(20), signal.raised());
        assert!(never.await.is_err());
    }
}
