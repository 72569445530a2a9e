//! Events are stored once, in the core `v1` form, and served through both
//! Event APIs: `events.k8s.io/v1` (what kube-runtime's `Recorder` writes) and
//! core `v1` (what `kubectl describe` lists). These are the field renames
//! between the two.

use serde_json::{Map, Value, json};

/// (core v1 field, events.k8s.io/v1 field)
const RENAMES: [(&str, &str); 14] = [
    ("metadata", "metadata"),
    ("involvedObject", "regarding"),
    ("related", "related"),
    ("message", "note"),
    ("reason", "reason"),
    ("type", "type"),
    ("action", "action"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
];

/// `count` is the one field whose rename does not fit the table's shape.
const COUNT: (&str, &str) = ("count", "deprecatedCount");

/// A stored core Event as `events.k8s.io/v1` serves it.
pub fn to_events_v1(core: &Value) -> Value {
    let mut out = rename(core, |(c, v)| (c, v));
    out.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// An `events.k8s.io/v1` Event in the core form it is stored in.
pub fn to_core(v1: &Value) -> Value {
    let mut out = rename(v1, |(c, v)| (v, c));
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

fn rename(
    from: &Value,
    direction: impl Fn((&'static str, &'static str)) -> (&'static str, &'static str),
) -> Map<String, Value> {
    let mut out = Map::new();
    for pair in RENAMES.into_iter().chain([COUNT]) {
        let (src, dst) = direction(pair);
        if let Some(v) = from.get(src) {
            out.insert(dst.to_owned(), v.clone());
        }
    }
    out
}

/// Field selectors are evaluated on the stored core form; the
/// `events.k8s.io` names are accepted as aliases.
pub fn core_field(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("regarding.") {
        return format!("involvedObject.{rest}");
    }
    match field {
        "reportingController" => "reportingComponent".into(),
        "note" => "message".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_events_read_back_as_core_events() {
        let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "acme.17", "namespace": "shops"},
            "regarding": {"kind": "ShopifyConnection", "name": "acme", "uid": "u1"},
            "note": "synced 3 orders", "reason": "Synced", "type": "Normal", "action": "Sync",
            "reportingController": "shopsync", "reportingInstance": "pod-1",
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "series": {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"}});
        let core = to_core(&v1);
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "acme");
        assert_eq!(core["message"], "synced 3 orders");
        assert_eq!(core["reportingComponent"], "shopsync");
        assert_eq!(core["series"]["count"], 2);
        assert_eq!(to_events_v1(&core), v1);
    }

    #[test]
    fn selector_aliases_map_to_core_fields() {
        assert_eq!(core_field("regarding.name"), "involvedObject.name");
        assert_eq!(core_field("involvedObject.uid"), "involvedObject.uid");
        assert_eq!(core_field("reportingController"), "reportingComponent");
    }
}
