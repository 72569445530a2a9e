//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go does
//! it: only the holder syncs and writes status; the others wait until the
//! lease has not been renewed for its whole duration, then take it.
//!
//! Expiry is judged by when *this* replica last saw the lease change, not
//! by comparing the holder's renewTime with our clock, so clock skew
//! between nodes cannot hand the lease to two replicas.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};

use super::settings::LeaseSettings;

pub struct LeaseLock {
    api: Api<Lease>,
    settings: LeaseSettings,
    identity: String,
    /// (holder, renewTime) last seen, and when we saw it change.
    seen: Option<(Option<String>, Option<Timestamp>, Instant)>,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("lease {namespace}/{name} was taken over by {holder:?}")]
    Lost {
        namespace: String,
        name: String,
        holder: Option<String>,
    },
    #[error("lease {namespace}/{name} could not be renewed for {elapsed:?}: {source}")]
    Unrenewable {
        namespace: String,
        name: String,
        elapsed: Duration,
        #[source]
        source: kube::Error,
    },
}

impl LeaseLock {
    pub fn new(client: kube::Client, settings: LeaseSettings, identity: &str) -> LeaseLock {
        LeaseLock {
            api: Api::namespaced(client, &settings.namespace),
            settings,
            identity: identity.to_owned(),
            seen: None,
        }
    }

    /// Waits until this replica holds the lease.
    pub async fn acquire(&mut self) {
        loop {
            match self.try_acquire().await {
                Ok(true) => {
                    tracing::info!(lease = %self.settings.name, identity = %self.identity, "acquired the leader lease");
                    return;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "leader election: lease API call failed"),
            }
            tokio::time::sleep(self.settings.renew_every).await;
        }
    }

    /// Renews until an error ends the term: returns only when the lease is lost.
    pub async fn hold(&mut self) -> LeaseError {
        let mut last_renewed = Instant::now();
        loop {
            tokio::time::sleep(self.settings.renew_every).await;
            match self.renew().await {
                Ok(()) => last_renewed = Instant::now(),
                Err(RenewError::Lost(holder)) => {
                    return LeaseError::Lost {
                        namespace: self.settings.namespace.clone(),
                        name: self.settings.name.clone(),
                        holder,
                    };
                }
                Err(RenewError::Api(source)) => {
                    let elapsed = last_renewed.elapsed();
                    // Stop before another replica may consider the lease free.
                    if elapsed + self.settings.renew_every >= self.settings.duration {
                        return LeaseError::Unrenewable {
                            namespace: self.settings.namespace.clone(),
                            name: self.settings.name.clone(),
                            elapsed,
                            source,
                        };
                    }
                    tracing::warn!(error = %source, "renewing the leader lease failed; retrying");
                }
            }
        }
    }

    /// Gives the lease up so a standby takes over at once (graceful shutdown).
    pub async fn release(&mut self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.settings.name).await else {
            return;
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(&self.identity) {
            return;
        }
        spec.holder_identity = None;
        spec.acquire_time = None;
        spec.renew_time = None;
        match self
            .api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => tracing::info!(lease = %self.settings.name, "released the leader lease"),
            Err(e) => {
                tracing::warn!(error = %e, "releasing the leader lease failed; it expires on its own")
            }
        }
    }

    async fn try_acquire(&mut self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.settings.name.clone()),
                    namespace: Some(self.settings.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(self.spec_for_us(now, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let renewed = spec.renew_time.as_ref().map(|t| t.0);
        let free = match &holder {
            None => true,
            Some(h) if *h == self.identity => true,
            Some(_) => self.expired(holder.clone(), renewed, &spec),
        };
        if !free {
            return Ok(false);
        }
        let transitions = spec.lease_transitions.unwrap_or(0)
            + i32::from(holder.as_deref() != Some(&self.identity));
        lease.spec = Some(self.spec_for_us(now, transitions));
        match self
            .api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            // Someone else wrote first; judge again next round.
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn expired(
        &mut self,
        holder: Option<String>,
        renewed: Option<Timestamp>,
        spec: &LeaseSpec,
    ) -> bool {
        let duration = spec
            .lease_duration_seconds
            .map(|s| Duration::from_secs(s.max(1) as u64))
            .unwrap_or(self.settings.duration);
        match &self.seen {
            Some((h, r, at)) if *h == holder && *r == renewed => at.elapsed() >= duration,
            _ => {
                self.seen = Some((holder, renewed, Instant::now()));
                false
            }
        }
    }

    async fn renew(&mut self) -> Result<(), RenewError> {
        let mut lease = self
            .api
            .get(&self.settings.name)
            .await
            .map_err(RenewError::Api)?;
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(&self.identity) {
            return Err(RenewError::Lost(spec.holder_identity.clone()));
        }
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        spec.lease_duration_seconds = Some(self.settings.duration.as_secs().max(1) as i32);
        match self
            .api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                // Written by someone else since our read: look again.
                let current = self
                    .api
                    .get(&self.settings.name)
                    .await
                    .map_err(RenewError::Api)?;
                let holder = current.spec.and_then(|s| s.holder_identity);
                if holder.as_deref() == Some(&self.identity) {
                    Ok(())
                } else {
                    Err(RenewError::Lost(holder))
                }
            }
            Err(e) => Err(RenewError::Api(e)),
        }
    }

    fn spec_for_us(&self, now: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.settings.duration.as_secs().max(1) as i32),
            acquire_time: Some(MicroTime(now)),
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }
}

enum RenewError {
    Lost(Option<String>),
    Api(kube::Error),
}
