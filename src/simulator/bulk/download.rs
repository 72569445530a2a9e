//! The bulk result download path. Like Shopify's signed storage URLs it needs
//! no token (the signature is the credential) and answers 403 with an XML
//! body once expired (reference §3.5). Requests that send a token anyway are
//! counted, because a client that leaks its token to storage is a bug (§11.1).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::io::AsyncReadExt;

use crate::simulator::Simulator;
use crate::simulator::stats::add;

fn xml(status: u16, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut resp = (
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::FORBIDDEN),
        body,
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=UTF-8"),
    );
    resp
}

pub async fn download(
    State(sim): State<Arc<Simulator>>,
    Path((store_name, file)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(store) = sim.store(&store_name).cloned() else {
        return xml(404, "NoSuchKey", "The specified key does not exist.");
    };
    add(&store.stats.downloads, 1);
    if headers.contains_key("x-shopify-access-token") {
        add(&store.stats.token_on_download, 1);
    }
    let Some(id) = file
        .strip_suffix(".jsonl")
        .and_then(|n| n.parse::<u64>().ok())
    else {
        return xml(404, "NoSuchKey", "The specified key does not exist.");
    };
    let op = store
        .bulk_registry()
        .ops
        .iter()
        .find(|op| op.id == id)
        .cloned();
    let Some(op) = op.filter(|op| op.path.is_some()) else {
        return xml(404, "NoSuchKey", "The specified key does not exist.");
    };
    if params.get("Signature") != Some(&op.signature) {
        return xml(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    let expires: i64 = params
        .get("Expires")
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    if sim.clock.now_s() > expires.min(op.expires_at) {
        return xml(403, "ExpiredToken", "The provided token has expired.");
    }
    let faults = store.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    let n = store
        .stats
        .downloads
        .load(std::sync::atomic::Ordering::Relaxed);
    if crate::simulator::data::rng::Rng::derive(store.config.data.seed ^ 0xD0, n).unit()
        < faults.download_429_rate
    {
        add(&store.stats.injected_faults, 1);
        let mut resp = xml(429, "SlowDown", "Please reduce your request rate.");
        if let Ok(v) = HeaderValue::from_str(&faults.retry_after()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let Some(path) = op.path.clone() else {
        return xml(404, "NoSuchKey", "The specified key does not exist.");
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return xml(404, "NoSuchKey", "The specified key does not exist."),
    };
    let size = op.file_size.unwrap_or(0);
    // A truncated download stops mid-line, half-way through.
    let limit = if faults.truncate_jsonl {
        size / 2
    } else {
        size
    };
    let stats_store = Arc::clone(&store);
    let stream = futures::stream::unfold((file, limit), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; (256 * 1024).min(left as usize)];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((
                    Ok::<Bytes, std::io::Error>(Bytes::from(buf)),
                    (file, left - n as u64),
                ))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    })
    .inspect(move |chunk| {
        if let Ok(b) = chunk {
            add(&stats_store.stats.download_bytes, b.len() as u64);
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jsonl"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"bulk-{id}.jsonl\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&limit.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    resp
}
