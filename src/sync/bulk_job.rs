//! Running one bulk operation to the end: start it (or re-attach to the one a
//! checkpoint names), poll it at a pace that suits its length, and fetch its
//! result. A job that fails leaves its partial data to be stored and is then
//! run again; a job that was cancelled or expired is run again; throttled
//! polls are retried by the client and never mistaken for a missing job.

use std::time::Duration;

use crate::shopify::bulk::{self, BulkOperation, BulkStatus, Started};
use crate::shopify::jsonl::Assembled;
use crate::shopify::{ShopifyClient, ShopifyError};

/// How a finished job ended.
#[derive(Debug)]
pub enum JobEnd {
    /// Every object of the query.
    Complete(Vec<Assembled>),
    /// The job failed after writing some objects; store them, then run the
    /// job again for the rest.
    Partial(Vec<Assembled>, String),
    /// Cancelled or expired with nothing usable; run it again.
    Lost(String),
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
/// concurrency limit. The caller checkpoints the id at once, so a restart
/// re-attaches to the job instead of starting another.
pub async fn start(
    client: &ShopifyClient,
    inner: &str,
    pacing: Pacing,
) -> Result<String, ShopifyError> {
    let mut waited = Duration::ZERO;
    loop {
        match bulk::start(client, inner).await? {
            Started::Running(op) => return Ok(op.id),
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
                client.clock().sleep(pacing.max_poll).await;
                waited += pacing.max_poll;
            }
        }
    }
}

/// Polls `id` until it ends and fetches what it produced.
pub async fn finish(
    client: &ShopifyClient,
    id: &str,
    pacing: Pacing,
) -> Result<JobEnd, ShopifyError> {
    let started = client.clock().seconds();
    let mut interval = pacing.first_poll;
    let op = loop {
        let op = match bulk::poll(client, id).await {
            Ok(op) => op,
            // Shopify no longer knows the job (its records expire): run it again.
            Err(ShopifyError::GraphQl(msg)) if msg.contains("does not exist") => {
                return Ok(JobEnd::Lost(msg));
            }
            Err(e) => return Err(e),
        };
        if op.status.is_finished() {
            break op;
        }
        let elapsed = client.clock().seconds() - started;
        if elapsed > pacing.max_job.as_secs_f64() {
            let _ = bulk::cancel(client, id).await;
            return Ok(JobEnd::Lost(format!(
                "bulk operation {id} ran longer than {:?} and was cancelled",
                pacing.max_job
            )));
        }
        client.clock().sleep(interval).await;
        // Poll about ten times over a job's life: short jobs are picked up
        // quickly, long ones cost few points (shopify-admin-api.md §3.4).
        interval = Duration::from_secs_f64((elapsed / 10.0).clamp(
            pacing.first_poll.as_secs_f64(),
            pacing.max_poll.as_secs_f64(),
        ));
    };
    fetch(client, op).await
}

async fn fetch(client: &ShopifyClient, op: BulkOperation) -> Result<JobEnd, ShopifyError> {
    match op.status {
        BulkStatus::Completed => match &op.url {
            // A query that matched nothing has no result file.
            None => Ok(JobEnd::Complete(Vec::new())),
            Some(url) => match download(client, url).await {
                Ok(result) => Ok(JobEnd::Complete(result)),
                // A result that stays truncated after re-downloads is rerun.
                Err(ShopifyError::Decode(detail)) => Ok(JobEnd::Lost(format!(
                    "bulk result of {} unusable: {detail}",
                    op.id
                ))),
                Err(e) => Err(e),
            },
        },
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
            match &op.partial_data_url {
                Some(url) => match download(client, url).await {
                    Ok(partial) => Ok(JobEnd::Partial(partial, reason)),
                    Err(ShopifyError::Decode(_)) => Ok(JobEnd::Lost(reason)),
                    Err(e) => Err(e),
                },
                None => Ok(JobEnd::Lost(reason)),
            }
        }
        other => Ok(JobEnd::Lost(format!(
            "bulk operation {} ended {other:?}",
            op.id
        ))),
    }
}

/// Downloads with bounded retries: the storage host can fail or throttle too.
async fn download(client: &ShopifyClient, url: &str) -> Result<Vec<Assembled>, ShopifyError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match bulk::download(client.http(), url).await {
            Ok(result) => return Ok(result),
            Err(e) if (e.is_retryable() || matches!(e, ShopifyError::Decode(_))) && attempt < 5 => {
                let wait = match &e {
                    ShopifyError::Server {
                        retry_after: Some(d),
                        ..
                    } => *d,
                    _ => Duration::from_secs(1 << attempt),
                };
                tracing::warn!(store = client.store(), error = %e, "bulk result download failed; retrying");
                client.clock().sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}
