//! Query parameters: the raw map, and the selection (`labelSelector`,
//! `fieldSelector`) that list, watch and deletecollection share.

use std::collections::HashMap;

use serde_json::Value;

use super::errors::ApiError;
use super::events;
use super::resources::ResourceKind;
use super::selectors::{FieldSelector, LabelSelector};

#[derive(Debug, Clone, Default)]
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    pub fn number(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "{key}: invalid value {v:?}, expected a non-negative integer"
                    ))
                })
            })
            .transpose()
    }

    pub fn dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }
}

/// Which objects a list, watch or deletecollection covers.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    labels: LabelSelector,
    /// Evaluated on the stored form (core Events for both Event APIs).
    fields: FieldSelector,
}

impl Selection {
    pub fn from_query(q: &Query, kind: &ResourceKind) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        if let Some(bad) = fields.fields().find(|f| !kind.selectable(f)) {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {bad}"
            )));
        }
        let events = kind.storage.plural == "events" && kind.storage.group.is_empty();
        let fields = if events {
            let text = q.get("fieldSelector").unwrap_or("");
            let renamed: Vec<String> = text
                .split(',')
                .map(|term| {
                    let at = term.find(['=', '!']).unwrap_or(term.len());
                    format!("{}{}", events::core_field(&term[..at]), &term[at..])
                })
                .collect();
            FieldSelector::parse(&renamed.join(",")).map_err(ApiError::bad_request)?
        } else {
            fields
        };
        Ok(Selection { labels, fields })
    }

    /// Whether a stored object is selected.
    pub fn matches(&self, stored: &Value) -> bool {
        let labels = stored
            .pointer("/metadata/labels")
            .and_then(Value::as_object);
        self.labels.matches(labels) && self.fields.matches(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube_standin::resources::Registry;
    use serde_json::json;

    #[test]
    fn query_strings_as_kube_rs_sends_them() {
        let q = Query::parse(Some(
            "&watch=true&timeoutSeconds=290&allowWatchBookmarks=true&resourceVersion=0",
        ));
        assert!(q.flag("watch") && q.flag("allowWatchBookmarks"));
        assert_eq!(q.number("timeoutSeconds").unwrap(), Some(290));
        assert_eq!(q.get("resourceVersion"), Some("0"));
        assert!(Query::parse(Some("limit=x")).number("limit").is_err());
    }

    #[test]
    fn event_selectors_accept_both_api_spellings() {
        let r = Registry::builtin();
        let v1 = r.find("events.k8s.io", "v1", "events").unwrap();
        let q = Query::parse(Some("fieldSelector=regarding.name%3Dacme"));
        let sel = Selection::from_query(&q, &v1).unwrap();
        assert!(sel.matches(&json!({"involvedObject": {"name": "acme"}})));
        assert!(!sel.matches(&json!({"involvedObject": {"name": "other"}})));
    }

    #[test]
    fn unsupported_field_labels_are_bad_requests() {
        let r = Registry::builtin();
        let secrets = r.find("", "v1", "secrets").unwrap();
        let q = Query::parse(Some("fieldSelector=data.token%3Dx"));
        let err = Selection::from_query(&q, &secrets).unwrap_err();
        assert_eq!(err.code, 400);
        assert!(err.message.contains("field label not supported"));
    }
}
