//! What `kubectl get shopifyconnections -o wide` and `kubectl describe` show
//! for a connection, rendered without a cluster (for `shopsync demo` and
//! `shopsync sync`). The columns are the CRD's printer columns.

use std::fmt::Write;

use jiff::Timestamp;

use super::conditions::{self, ConditionType};
use super::spec::ShopifyConnection;

const WIDE_HEADERS: [&str; 9] = [
    "NAME",
    "STORE",
    "READY",
    "LAG",
    "LAST SYNC",
    "BACKFILL",
    "AGE",
    "REASON",
    "API",
];

/// One row per connection, as `kubectl get -o wide` prints it.
pub fn table(connections: &[ShopifyConnection], now: Timestamp) -> String {
    let rows: Vec<[String; 9]> = connections.iter().map(|c| row(c, now)).collect();
    let mut widths = WIDE_HEADERS.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", text.join("   ").trim_end());
    };
    line(&WIDE_HEADERS.map(str::to_owned));
    for r in &rows {
        line(r);
    }
    out
}

fn row(c: &ShopifyConnection, now: Timestamp) -> [String; 9] {
    let status = c.status.as_ref();
    let ready = status.and_then(|s| conditions::find(&s.conditions, ConditionType::Ready));
    let age_of = |t: Option<Timestamp>| {
        t.map(|t| human(now.duration_since(t).as_secs().max(0) as u64))
            .unwrap_or_else(|| "<none>".into())
    };
    [
        c.metadata.name.clone().unwrap_or_default(),
        c.spec.store.clone(),
        ready
            .map(|r| format!("{:?}", r.status))
            .unwrap_or_else(|| "<none>".into()),
        age_of(status.and_then(|s| {
            s.freshness
                .as_ref()?
                .orders
                .as_ref()?
                .watermark
                .as_ref()
                .map(|t| t.0)
        })),
        age_of(status.and_then(|s| s.last_sync_time.as_ref().map(|t| t.0))),
        status
            .and_then(|s| s.backfill.as_ref())
            .map(|b| format!("{:?}", b.phase))
            .unwrap_or_else(|| "<none>".into()),
        age_of(c.metadata.creation_timestamp.as_ref().map(|t| t.0)),
        ready
            .map(|r| r.reason.clone())
            .unwrap_or_else(|| "<none>".into()),
        status
            .and_then(|s| s.api_version.clone())
            .unwrap_or_else(|| "<none>".into()),
    ]
}

/// The parts of `kubectl describe` a person checks: spec summary, status
/// figures and every condition with its reason and message.
pub fn describe(c: &ShopifyConnection) -> String {
    let mut out = String::new();
    let spec = &c.spec;
    let _ = writeln!(
        out,
        "Name:         {}",
        c.metadata.name.as_deref().unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Namespace:    {}",
        c.metadata.namespace.as_deref().unwrap_or("default")
    );
    let _ = writeln!(out, "API Version:  shopify.fostr.io/v1alpha1");
    let _ = writeln!(out, "Kind:         ShopifyConnection");
    let _ = writeln!(out, "Spec:");
    let _ = writeln!(out, "  Store:              {}", spec.store);
    let _ = writeln!(out, "  API Version:        {}", spec.api_version);
    let _ = writeln!(out, "  Poll Interval:      {}", spec.poll_interval);
    let scopes: Vec<String> = spec.scopes.iter().map(ToString::to_string).collect();
    let _ = writeln!(out, "  Scopes:             {}", scopes.join(", "));
    let _ = writeln!(out, "  Customer Data:      {:?}", spec.customer_data);
    let _ = writeln!(out, "  Environment:        {}", spec.environment);
    let _ = writeln!(
        out,
        "  Max Bucket Share:   {}%",
        spec.rate_limit.max_bucket_share
    );
    let _ = writeln!(out, "  Deletion Policy:    {:?}", spec.deletion_policy);
    let Some(status) = &c.status else {
        let _ = writeln!(out, "Status:       <none>");
        return out;
    };
    let _ = writeln!(out, "Status:");
    if let Some(v) = &status.api_version {
        let _ = writeln!(out, "  API Version Served: {v}");
    }
    let _ = writeln!(
        out,
        "  Granted Scopes:     {}",
        status.granted_scopes.join(", ")
    );
    if !status.missing_scopes.is_empty() {
        let _ = writeln!(
            out,
            "  Missing Scopes:     {}",
            status.missing_scopes.join(", ")
        );
    }
    if let Some(b) = &status.backfill {
        let _ = writeln!(
            out,
            "  Backfill:           {:?}, {}/{} stages, {} records",
            b.phase, b.completed_stages, b.total_stages, b.records
        );
    }
    if let Some(f) = &status.freshness {
        let _ = writeln!(out, "  Freshness:");
        for (name, r) in [
            ("Orders", &f.orders),
            ("Products", &f.products),
            ("Refunds", &f.refunds),
            ("Returns", &f.returns),
        ] {
            if let Some(r) = r {
                let lag = r
                    .lag_seconds
                    .map(|s| human(s as u64))
                    .unwrap_or_else(|| "-".into());
                let watermark = r
                    .watermark
                    .as_ref()
                    .map(|t| t.0.to_string())
                    .unwrap_or_else(|| "-".into());
                let _ = writeln!(
                    out,
                    "    {name:<9} records {:>7}   lag {lag:>6}   watermark {watermark}",
                    r.records
                );
            }
        }
    }
    if let Some(r) = &status.rate_limit {
        let _ = writeln!(
            out,
            "  Rate Limit:         bucket {:.0}, available {:.0}, restore {:.0}/s, share {}%, last sync cost {:.0}, throttled {}",
            r.bucket_size,
            r.available,
            r.restore_rate,
            r.max_bucket_share,
            r.cost_last_sync,
            r.throttled_last_sync
        );
    }
    let _ = writeln!(out, "  Conditions:");
    let _ = writeln!(
        out,
        "    {:<18} {:<8} {:<24} Message",
        "Type", "Status", "Reason"
    );
    for cond in &status.conditions {
        let _ = writeln!(
            out,
            "    {:<18} {:<8} {:<24} {}",
            cond.type_,
            format!("{:?}", cond.status),
            cond.reason,
            cond.message
        );
    }
    out
}

/// kubectl's compact ages: 45s, 3m12s, 2h5m, 4d3h.
pub fn human(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h{}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{}h", secs / 86400, secs % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human(45), "45s");
        assert_eq!(human(192), "3m12s");
        assert_eq!(human(7500), "2h5m");
        assert_eq!(human(356_400), "4d3h");
    }

    #[test]
    fn a_connection_without_status_shows_none() {
        let manifest = serde_json::json!({"apiVersion": "shopify.fostr.io/v1alpha1", "kind": "ShopifyConnection",
            "metadata": {"name": "acme"}, "spec": {"store": "acme.myshopify.com", "credentials": {"secretRef": {"name": "s"}}}});
        let c: ShopifyConnection = serde_json::from_value(manifest).unwrap();
        let t = table(std::slice::from_ref(&c), Timestamp::UNIX_EPOCH);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("NAME   STORE"));
        assert!(lines[1].starts_with("acme   acme.myshopify.com   <none>"));
        assert!(describe(&c).contains("Status:       <none>"));
    }
}
