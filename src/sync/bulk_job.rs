//! Running one bulk operation to its end: start it (or re-attach to the one a
//! checkpoint names), poll it at a pace that suits its length, and say what
//! it left behind — a complete result, a failed job's partial result, or
//! nothing usable. Throttled polls are retried by the client and never
//! mistaken for a missing job; a stop request ends the wait at once (the job
//! keeps running, and the checkpoint that names it lets the next run
//! re-attach).

use std::time::Duration;

use crate::shopify::bulk::{self, BulkOperation, BulkStatus, Started};
use crate::shopify::{ShopifyClient, ShopifyError};

use super::stop::StopSignal;

/// A result file of a finished job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultFile {
    pub url: String,
    /// Objects Shopify reports having written, when it says.
    pub objects: Option<u64>,
}

/// How a finished job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// Every object of the query; `None` when nothing matched (no file).
    Complete(Option<ResultFile>),
    /// The job failed after writing some objects. With grouped output every
    /// root in the file but the last is complete; store those, then read the
    /// rest of the range again.
    Partial(ResultFile, String),
    /// Cancelled, expired or failed with nothing usable; run it again.
    Lost(String),
}

/// Why waiting for a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited {
    Ended(JobEnd),
    /// A stop was requested; the job is still running.
    Stopped,
}

/// Pacing of polls and of waits for a free bulk slot.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub first_poll: Duration,
    pub max_poll: Duration,
    /// Give up on a job that runs longer than this (Shopify's own limit is 10 days).
    pub max_job: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            first_poll: Duration::from_secs(1),
            max_poll: Duration::from_secs(30),
            max_job: Duration::from_secs(6 * 3600),
        }
    }
}

/// Starts a job for `inner`, waiting for a free slot when Shopify is at its
/// concurrency limit; `None` when a stop came first. The caller checkpoints
/// the id at once, so a restart re-attaches to the job instead of starting
/// another.
pub async fn start(
    client: &ShopifyClient,
    inner: &str,
    pacing: Pacing,
    stop: &StopSignal,
) -> Result<Option<String>, ShopifyError> {
    let mut waited = Duration::ZERO;
    loop {
        match bulk::start(client, inner).await? {
            Started::Running(op) => return Ok(Some(op.id)),
            Started::Busy { message, .. } => {
                if waited >= pacing.max_job {
                    return Err(ShopifyError::GraphQl(format!(
                        "no bulk operation slot became free within {waited:?}: {message}"
                    )));
                }
                tracing::info!(
                    store = client.store(),
                    "bulk operation slots are busy; waiting"
                );
                tokio::select! {
                    _ = client.clock().sleep(pacing.max_poll) => {}
                    _ = stop.raised() => return Ok(None),
                }
                waited += pacing.max_poll;
            }
        }
    }
}

/// Polls `id` until it ends (or a stop is requested).
pub async fn wait(
    client: &ShopifyClient,
    id: &str,
    pacing: Pacing,
    stop: &StopSignal,
) -> Result<Waited, ShopifyError> {
    let started = client.clock().seconds();
    let mut interval = pacing.first_poll;
    loop {
        if stop.is_raised() {
            return Ok(Waited::Stopped);
        }
        let op = match bulk::poll(client, id).await {
            Ok(op) => op,
            // Shopify no longer knows the job (its records expire): run it again.
            Err(ShopifyError::GraphQl(msg)) if msg.contains("does not exist") => {
                return Ok(Waited::Ended(JobEnd::Lost(msg)));
            }
            Err(e) => return Err(e),
        };
        if op.status.is_finished() {
            return end_of(&op).map(Waited::Ended);
        }
        let elapsed = client.clock().seconds() - started;
        if elapsed > pacing.max_job.as_secs_f64() {
            let _ = bulk::cancel(client, id).await;
            return Ok(Waited::Ended(JobEnd::Lost(format!(
                "bulk operation {id} ran longer than {:?} and was cancelled",
                pacing.max_job
            ))));
        }
        tokio::select! {
            _ = client.clock().sleep(interval) => {}
            _ = stop.raised() => return Ok(Waited::Stopped),
        }
        // Poll about ten times over a job's life: short jobs are picked up
        // quickly, long ones cost few points (shopify-admin-api.md §3.4).
        interval = Duration::from_secs_f64((elapsed / 10.0).clamp(
            pacing.first_poll.as_secs_f64(),
            pacing.max_poll.as_secs_f64(),
        ));
    }
}

/// What a finished job left behind. A job denied access is an error only a
/// person can fix, not a reason to run it again.
pub fn end_of(op: &BulkOperation) -> Result<JobEnd, ShopifyError> {
    match op.status {
        BulkStatus::Completed => Ok(JobEnd::Complete(op.url.as_ref().map(|url| ResultFile {
            url: url.clone(),
            objects: op.object_count.as_deref().and_then(|c| c.parse().ok()),
        }))),
        BulkStatus::Failed if op.error_code.as_deref() == Some("ACCESS_DENIED") => {
            Err(ShopifyError::AccessDenied {
                message: format!("bulk operation {} was denied access.", op.id),
                required_access: None,
            })
        }
        BulkStatus::Failed => {
            let reason = format!(
                "bulk operation {} failed ({})",
                op.id,
                op.error_code.as_deref().unwrap_or("no error code")
            );
            Ok(match &op.partial_data_url {
                Some(url) => JobEnd::Partial(
                    ResultFile {
                        url: url.clone(),
                        objects: None,
                    },
                    reason,
                ),
                None => JobEnd::Lost(reason),
            })
        }
        other => Ok(JobEnd::Lost(format!(
            "bulk operation {} ended {other:?}",
            op.id
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(status: BulkStatus) -> BulkOperation {
        BulkOperation {
            id: "gid://shopify/BulkOperation/1".into(),
            status,
            error_code: None,
            object_count: Some("12".into()),
            root_object_count: Some("4".into()),
            url: None,
            partial_data_url: None,
        }
    }

    #[test]
    fn completed_jobs_name_their_file_and_its_object_count() {
        assert_eq!(
            end_of(&op(BulkStatus::Completed)).unwrap(),
            JobEnd::Complete(None),
            "nothing matched: no file"
        );
        let done = BulkOperation {
            url: Some("https://storage/x.jsonl".into()),
            ..op(BulkStatus::Completed)
        };
        assert_eq!(
            end_of(&done).unwrap(),
            JobEnd::Complete(Some(ResultFile {
                url: "https://storage/x.jsonl".into(),
                objects: Some(12)
            }))
        );
    }

    #[test]
    fn failed_jobs_offer_their_partial_data_or_are_lost() {
        let failed = BulkOperation {
            error_code: Some("INTERNAL_SERVER_ERROR".into()),
            partial_data_url: Some("https://storage/p.jsonl".into()),
            ..op(BulkStatus::Failed)
        };
        match end_of(&failed).unwrap() {
            JobEnd::Partial(file, reason) => {
                assert_eq!(file.url, "https://storage/p.jsonl");
                assert!(reason.contains("INTERNAL_SERVER_ERROR"), "{reason}");
            }
            other => panic!("expected partial data, got {other:?}"),
        }
        let bare = BulkOperation {
            partial_data_url: None,
            ..failed
        };
        assert!(matches!(end_of(&bare).unwrap(), JobEnd::Lost(_)));
        assert!(matches!(
            end_of(&op(BulkStatus::Canceled)).unwrap(),
            JobEnd::Lost(_)
        ));
        let denied = BulkOperation {
            error_code: Some("ACCESS_DENIED".into()),
            ..op(BulkStatus::Failed)
        };
        assert!(matches!(
            end_of(&denied),
            Err(ShopifyError::AccessDenied { .. })
        ));
    }
}
