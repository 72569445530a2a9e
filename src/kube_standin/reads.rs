//! get and list: selection, key order, `limit`/`continue` pages, and the
//! list's resourceVersion that a watch resumes from.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::State;
use super::errors::ApiError;
use super::params::{Query, Selection};
use super::target::Target;

pub fn get(state: &State, t: &Target) -> Result<Value, ApiError> {
    let name = t.name()?;
    state
        .objects
        .get(&t.kind.storage, t.ns_key(), name)
        .map(|s| t.present(&s.value))
        .ok_or_else(|| ApiError::not_found(&t.kind.qualified_plural(), name))
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Listed {
    pub items: Vec<Value>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

impl Listed {
    pub fn to_json(&self, t: &Target) -> Value {
        let mut meta = json!({"resourceVersion": self.resource_version.to_string()});
        if let Some(c) = &self.continue_token {
            meta["continue"] = json!(c);
        }
        if let Some(r) = self.remaining {
            meta["remainingItemCount"] = json!(r);
        }
        json!({
            "kind": t.kind.list_kind(),
            "apiVersion": t.api_version(),
            "metadata": meta,
            "items": self.items,
        })
    }
}

/// Where a continued list resumes: the first page's revision and the last key served.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Continue {
    rv: u64,
    ns: String,
    name: String,
}

pub fn list(state: &State, t: &Target, q: &Query) -> Result<Listed, ApiError> {
    let selection = Selection::from_query(q, &t.kind)?;
    let limit = q.number("limit")?.filter(|l| *l > 0);
    let current = state.objects.rv();
    if q.get("resourceVersionMatch") == Some("Exact")
        && let Some(rv) = q.get("resourceVersion")
        && rv != current.to_string()
    {
        return Err(ApiError::expired(format!(
            "the stand-in serves lists only at the current resourceVersion {current}, not {rv}"
        )));
    }
    let resume = q.get("continue").map(decode_continue).transpose()?;
    if let Some(c) = &resume
        && c.rv < state.objects.compacted()
    {
        return Err(ApiError::expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
        ));
    }
    let list_rv = resume.as_ref().map_or(current, |c| c.rv);
    let mut selected = state
        .objects
        .list(&t.kind.storage, t.namespace.as_deref())
        .into_iter()
        .map(|s| &s.value)
        .filter(|v| selection.matches(v))
        .filter(|v| {
            resume
                .as_ref()
                .is_none_or(|c| key(v) > (c.ns.as_str(), c.name.as_str()))
        })
        .peekable();
    let mut items = Vec::new();
    while let Some(v) = selected.peek() {
        if limit.is_some_and(|l| items.len() as u64 >= l) {
            break;
        }
        items.push(t.present(v));
        selected.next();
    }
    let remaining = selected.count();
    let continue_token = (remaining > 0).then(|| items.last()).flatten().map(|last| {
        let (ns, name) = key(last);
        encode_continue(&Continue {
            rv: list_rv,
            ns: ns.to_owned(),
            name: name.to_owned(),
        })
    });
    Ok(Listed {
        items,
        resource_version: list_rv,
        remaining: continue_token.as_ref().map(|_| remaining),
        continue_token,
    })
}

fn key(v: &Value) -> (&str, &str) {
    (
        v.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(""),
        v.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or(""),
    )
}

fn encode_continue(c: &Continue) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default())
}

fn decode_continue(token: &str) -> Result<Continue, ApiError> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let token = encode_continue(&Continue {
            rv: 7,
            ns: "a".into(),
            name: "b".into(),
        });
        let back = decode_continue(&token).unwrap();
        assert_eq!(
            (back.rv, back.ns.as_str(), back.name.as_str()),
            (7, "a", "b")
        );
        assert_eq!(decode_continue("%%%").unwrap_err().code, 400);
    }
}
