//! `shopsync sync -f connection.yaml`: one sync of a manifest without a
//! cluster (or, with `--watch`, one every pollInterval), printing the status
//! the controller would write. The engine is the one the operator runs;
//! progress shows as bars on a terminal, as log lines otherwise, and Ctrl-C
//! stops it cleanly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use clap::Args;
use serde_json::Value;
use tokio::sync::watch;
use tracing::instrument::WithSubscriber;

use super::progress::Display;
use super::store_options::StoreOptions;
use crate::api::admission::admit;
use crate::api::{ShopifyConnection, ShopifyConnectionStatus};
use crate::clock::Clock;
use crate::controller::identity::identity;
use crate::shopify::http::{Endpoint, build_client};
use crate::shopify::{AccessToken, LimiterRegistry, ShopifyClient};
use crate::store::{RecordWriter, connections, counts};
use crate::sync::status::{StatusContext, from_report};
use crate::sync::{Engine, EngineConfig, SyncProgress};

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The ShopifyConnection manifest (YAML; other documents in it are ignored
    /// unless they are the Secret it references).
    #[arg(short = 'f', long = "file")]
    pub file: PathBuf,
    /// A Secret manifest holding the access token (else SHOPIFY_ACCESS_TOKEN,
    /// else a matching Secret in the manifest file).
    #[arg(long)]
    pub secret: Option<PathBuf>,
    /// Send every store's requests to this base URL (the simulator, a proxy),
    /// keeping the store's host name.
    #[arg(long = "shopify-endpoint", env = "SHOPSYNC_SHOPIFY_ENDPOINT")]
    pub shopify_endpoint: Option<url::Url>,
    /// Keep syncing every pollInterval until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Log progress instead of drawing progress bars (bars are drawn only
    /// when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub store: StoreOptions,
}

pub fn run(args: SyncArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let display = Display::choose(args.no_progress);
    match display.log_dispatch() {
        Some(logs) => runtime.block_on(sync(args, display).with_subscriber(logs)),
        None => runtime.block_on(sync(args, display)),
    }
}

async fn sync(args: SyncArgs, display: Display) -> anyhow::Result<()> {
    let docs = read_documents(&args.file)?;
    let manifest = docs
        .iter()
        .find(|d| d["kind"] == "ShopifyConnection")
        .with_context(|| format!("{} holds no ShopifyConnection", args.file.display()))?;
    let connection = admit(manifest, None)?;
    let token = token(&args, &connection, &docs)?;
    let spec = &connection.spec;

    let pool = args.store.pool().await?;
    let master = args.store.master_key()?;
    let identity = identity(&connection);
    let registered = connections::register(&pool, &identity).await?;
    let mut writer =
        RecordWriter::open(pool.clone(), Arc::clone(&master), registered.clone()).await?;

    let clock = Clock::real();
    let limiters = LimiterRegistry::new(clock.clone());
    let limiter = limiters.for_store(&spec.store);
    limiter.set_share(&identity.uid, spec.rate_limit.max_bucket_share);
    let endpoint = Endpoint::for_store(
        &spec.store,
        &spec.api_version,
        args.shopify_endpoint.as_ref(),
    )?;
    let client = ShopifyClient::new(
        build_client(Duration::from_secs(60))?,
        &spec.store,
        &spec.api_version,
        endpoint,
        token,
        limiter,
        clock.clone(),
    );
    let poll = spec.poll_every()?;

    // Ctrl-C stops the sync cleanly: the batch in flight commits with its checkpoint.
    let (stop_tx, mut stop) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop_tx.send_replace(true);
        }
    });
    let mut status: Option<ShopifyConnectionStatus> = None;
    loop {
        let (progress_tx, progress) = watch::channel(SyncProgress::default());
        let engine = Engine::new(&client, &mut writer, spec, EngineConfig::default())
            .with_progress(progress_tx)
            .with_stop(stop.clone());
        let (report, ()) = tokio::join!(engine.run_once(), display.follow(progress));
        let counts: BTreeMap<_, _> = counts::live_counts(&pool, registered.id).await?;
        let next = args
            .watch
            .then(|| {
                jiff::SignedDuration::try_from(poll)
                    .ok()
                    .and_then(|d| report.finished.checked_add(d).ok())
            })
            .flatten();
        let built = from_report(
            &report,
            StatusContext {
                previous: status.as_ref(),
                generation: connection.metadata.generation,
                max_bucket_share: spec.rate_limit.max_bucket_share,
                next_sync: next,
                counts: &counts,
            },
        );
        println!(
            "---\n{}",
            yaml_serde::to_string(&serde_json::json!({ "status": built }))?
        );
        status = Some(built);
        if let Some((reason, message, _)) = &report.error
            && !args.watch
        {
            bail!("sync failed ({reason}): {message}");
        }
        if !args.watch || report.stopped {
            return Ok(());
        }
        tokio::select! {
            _ = clock.sleep(poll) => {}
            _ = stop.wait_for(|stop| *stop) => return Ok(()),
        }
    }
}

fn token(
    args: &SyncArgs,
    connection: &ShopifyConnection,
    docs: &[Value],
) -> anyhow::Result<AccessToken> {
    let secret_ref = &connection.spec.credentials.secret_ref;
    let from_secret = |secret: &Value| -> anyhow::Result<AccessToken> {
        let key = &secret_ref.key;
        if let Some(value) = secret["stringData"][key].as_str() {
            return Ok(AccessToken::new(value));
        }
        if let Some(encoded) = secret["data"][key].as_str() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .context("the Secret's data is not base64")?;
            return Ok(AccessToken::new(
                String::from_utf8(bytes).context("the token is not UTF-8")?,
            ));
        }
        bail!("the Secret has no key {key:?} (spec.credentials.secretRef.key)")
    };
    let token = if let Some(path) = &args.secret {
        let docs = read_documents(path)?;
        let secret = docs
            .iter()
            .find(|d| d["kind"] == "Secret")
            .with_context(|| format!("{} holds no Secret", path.display()))?;
        from_secret(secret)?
    } else if let Ok(value) = std::env::var("SHOPIFY_ACCESS_TOKEN") {
        AccessToken::new(value)
    } else if let Some(secret) = docs
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == secret_ref.name.as_str())
    {
        from_secret(secret)?
    } else {
        bail!("no access token: pass --secret FILE (a Secret manifest) or set SHOPIFY_ACCESS_TOKEN")
    };
    if token.is_empty() {
        bail!("the access token is empty");
    }
    Ok(token)
}

fn read_documents(path: &Path) -> anyhow::Result<Vec<Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut docs = Vec::new();
    for doc in yaml_serde::Deserializer::from_str(&text) {
        let value: Value = serde::Deserialize::deserialize(doc)
            .with_context(|| format!("{} is not valid YAML", path.display()))?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}
