//! Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks
//! for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), built from
//! the kind's printer columns the way the API server's CRD table converter
//! builds it (dates become ages, missing values null).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::jsonpath::JsonPath;
use super::resources::{PrinterColumn, ResourceKind};

pub const CONTENT_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// Whether the Accept header asks for a Table.
pub fn wanted(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// A Table of `items` (as presented). `include` is the `includeObject`
/// parameter: None, Object, or (the default) PartialObjectMetadata.
pub fn render(
    kind: &ResourceKind,
    items: &[Value],
    include: Option<&str>,
    list_meta: Value,
    now: Timestamp,
) -> Value {
    let mut definitions = vec![json!({
        "name": "Name", "type": "string", "format": "name", "priority": 0,
        "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition.",
    })];
    definitions.extend(kind.columns.iter().map(|c| {
        json!({"name": c.name, "type": c.type_, "format": c.format,
               "description": c.description, "priority": c.priority})
    }));
    let paths: Vec<Option<JsonPath>> = kind
        .columns
        .iter()
        .map(|c| JsonPath::parse(&c.json_path).ok())
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut cells = vec![item["metadata"]["name"].clone()];
            cells.extend(
                kind.columns
                    .iter()
                    .zip(&paths)
                    .map(|(c, p)| cell(c, p.as_ref(), item, now)),
            );
            let mut row = json!({"cells": cells});
            match include {
                Some("None") => {}
                Some("Object") => row["object"] = item.clone(),
                _ => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": item["metadata"],
                    })
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

fn cell(column: &PrinterColumn, path: Option<&JsonPath>, item: &Value, now: Timestamp) -> Value {
    let Some(value) = path.and_then(|p| p.find(item).into_iter().next()) else {
        return Value::Null;
    };
    match (column.type_.as_str(), value) {
        (_, Value::Null) => Value::Null,
        ("string", Value::String(s)) => json!(s),
        ("string", other) => json!(other.to_string()),
        ("integer", Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map_or(Value::Null, |i| json!(i)),
        ("number", Value::Number(n)) => n.as_f64().map_or(Value::Null, |f| json!(f)),
        ("boolean", Value::Bool(b)) => json!(b),
        ("date", Value::String(s)) => match s.parse::<Timestamp>() {
            Ok(t) => json!(human_duration(now.duration_since(t).as_secs())),
            Err(_) => json!("<invalid>"),
        },
        _ => Value::Null,
    }
}

/// The API server's age format (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube_standin::crd::from_crd;
    use kube::CustomResourceExt;

    #[test]
    fn accept_headers_kubectl_sends_ask_for_tables() {
        assert!(wanted(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wanted("application/json"));
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3 * 3600 + 120), "3h2m");
        assert_eq!(human_duration(3 * 86400), "3d");
        assert_eq!(human_duration(-5), "<invalid>");
    }

    #[test]
    fn printer_columns_fill_cells() {
        let crd = serde_json::to_value(crate::api::ShopifyConnection::crd()).unwrap();
        let kind = from_crd(&crd).unwrap();
        let item = json!({"metadata": {"name": "acme", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"store": "acme.myshopify.com"},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Fresh"}],
                       "rateLimit": {"available": 40}}});
        let now: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let table = render(&kind, std::slice::from_ref(&item), None, json!({}), now);
        let headers: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        let cells = &table["rows"][0]["cells"];
        let at = |name: &str| &cells[headers.iter().position(|h| *h == name).unwrap()];
        assert_eq!(at("Name"), "acme");
        assert_eq!(at("Store"), "acme.myshopify.com");
        assert_eq!(at("Ready"), "True");
        assert_eq!(at("Reason"), "Fresh");
        assert_eq!(at("Age"), "5m");
        assert_eq!(at("Last Sync"), &Value::Null);
        assert_eq!(at("Available"), &json!(40.0));
        assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    }
}
