//! One store's GraphQL client: every request passes the read-only guard,
//! waits for the store's limiter, carries the token only to Shopify, and is
//! retried as its failure allows. The version Shopify actually served is
//! recorded, so a fall-forward is visible in status.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Value, json};

use super::error::ShopifyError;
use super::guard;
use super::http::Endpoint;
use super::limiter::StoreLimiter;
use super::response::{GraphQlResponse, ResponseMeta, classify};
use super::retry::RetryPolicy;
use super::token::AccessToken;
use crate::clock::Clock;

/// Counters of one client, taken by each sync run for its status and history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientStats {
    pub requests: u64,
    pub throttled: u32,
    pub retries: u32,
    /// Actual cost points Shopify charged.
    pub cost_used: f64,
    /// The version Shopify served (`X-Shopify-API-Version`), last seen.
    pub served_version: Option<String>,
    /// Time spent waiting for the store's bucket to hold a request's cost
    /// within our share (real time, whatever the clock's speed).
    pub budget_wait: std::time::Duration,
}

/// Talks to one store.
#[derive(Debug)]
pub struct ShopifyClient {
    http: reqwest::Client,
    store: String,
    requested_version: String,
    endpoint: Endpoint,
    token: AccessToken,
    limiter: Arc<StoreLimiter>,
    clock: Clock,
    retry: RetryPolicy,
    stats: Mutex<ClientStats>,
}

impl ShopifyClient {
    pub fn new(
        http: reqwest::Client,
        store: &str,
        version: &str,
        endpoint: Endpoint,
        token: AccessToken,
        limiter: Arc<StoreLimiter>,
        clock: Clock,
    ) -> ShopifyClient {
        ShopifyClient {
            http,
            store: store.to_owned(),
            requested_version: version.to_owned(),
            endpoint,
            token,
            limiter,
            clock,
            retry: RetryPolicy::default(),
            stats: Mutex::new(ClientStats::default()),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> ShopifyClient {
        self.retry = retry;
        self
    }

    pub fn store(&self) -> &str {
        &self.store
    }

    pub fn limiter(&self) -> &Arc<StoreLimiter> {
        &self.limiter
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The counters so far, resetting them.
    pub fn take_stats(&self) -> ClientStats {
        let mut stats = self.lock_stats();
        let taken = stats.clone();
        *stats = ClientStats {
            served_version: taken.served_version.clone(),
            ..ClientStats::default()
        };
        taken
    }

    /// `Some((requested, served))` when Shopify served another version.
    pub fn fall_forward(&self) -> Option<(String, String)> {
        let served = self.lock_stats().served_version.clone()?;
        (served != self.requested_version).then(|| (self.requested_version.clone(), served))
    }

    fn lock_stats(&self) -> std::sync::MutexGuard<'_, ClientStats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a GraphQL document. `estimated_cost` is what Shopify will charge
    /// up front (the limiter admits on it); the response's own figure
    /// replaces it in the bucket estimate.
    pub async fn execute(
        &self,
        document: &str,
        variables: Value,
        estimated_cost: f64,
    ) -> Result<GraphQlResponse, ShopifyError> {
        guard::check(document, &variables)?;
        let body = json!({"query": document, "variables": variables});
        let started = Instant::now();
        let (mut failures, mut throttled) = (0u32, 0u32);
        loop {
            let waiting = Instant::now();
            let permit = self.limiter.acquire(estimated_cost).await;
            self.lock_stats().budget_wait += waiting.elapsed();
            let result = self.send_once(&body).await;
            drop(permit);
            let err = match result {
                Ok(response) => return Ok(response),
                Err(err) => err,
            };
            let wait = match &err {
                ShopifyError::Throttled { retry_after, .. } => {
                    throttled += 1;
                    self.lock_stats().throttled += 1;
                    if throttled > self.retry.max_throttled {
                        return Err(exhausted(failures + throttled, started, err));
                    }
                    // The limiter already holds the bucket this answer reported;
                    // acquiring again waits exactly as long as it must.
                    tracing::debug!(store = %self.store, wait_ms = retry_after.as_millis() as u64, "throttled by Shopify");
                    None
                }
                e if e.is_retryable() => {
                    failures += 1;
                    if failures >= self.retry.max_attempts {
                        return Err(exhausted(failures + throttled, started, err));
                    }
                    let server_says = match e {
                        ShopifyError::Server { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    Some(server_says.unwrap_or_else(|| self.retry.backoff(failures)))
                }
                _ => return Err(err),
            };
            self.lock_stats().retries += 1;
            tracing::warn!(store = %self.store, error = %err, "retrying Shopify request");
            if let Some(wait) = wait {
                self.limiter.pause_for(wait);
            }
        }
    }

    async fn send_once(&self, body: &Value) -> Result<GraphQlResponse, ShopifyError> {
        let token = self
            .token
            .header_value()
            .ok_or_else(|| ShopifyError::Unauthorized {
                store: self.store.clone(),
            })?;
        let mut request = self
            .http
            .post(self.endpoint.url.clone())
            .header("X-Shopify-Access-Token", token)
            .json(body);
        if let Some(host) = &self.endpoint.host_header {
            request = request.header(reqwest::header::HOST, host);
        }
        self.lock_stats().requests += 1;
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let meta = ResponseMeta::from_headers(response.headers());
        let bytes = response.bytes().await.map_err(transport)?;
        let (result, cost) = classify(&self.store, status, meta.clone(), &bytes);
        if let Some(cost) = cost {
            self.limiter.observe(cost.throttle_status);
            if let Some(actual) = cost.actual_query_cost {
                self.lock_stats().cost_used += actual;
            }
        }
        if let Some(served) = meta.api_version {
            let mut stats = self.lock_stats();
            if stats.served_version.as_deref() != Some(served.as_str())
                && served != self.requested_version
            {
                tracing::warn!(store = %self.store, requested = %self.requested_version, served = %served,
                    "Shopify served another API version than requested (fall-forward)");
            }
            stats.served_version = Some(served);
        }
        result
    }
}

/// A transport error, without the URL's query string (a signed download URL
/// carries its credential there).
fn transport(err: reqwest::Error) -> ShopifyError {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let host = err
        .url()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    ShopifyError::Transport(format!("{kind} ({host}): {}", err.without_url()))
}

fn exhausted(attempts: u32, started: Instant, last: ShopifyError) -> ShopifyError {
    ShopifyError::RetriesExhausted {
        attempts,
        elapsed: started.elapsed(),
        last: Box::new(last),
    }
}
