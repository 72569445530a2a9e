//! What an object goes through on its way into the store, whatever the
//! verb: kind-specific normalisation (Secret `stringData`), pruning of
//! fields the schema does not declare, the kind's admission hook, name rules,
//! and namespaces created on first use.

use serde_json::{Value, json};

use super::State;
use super::errors::ApiError;
use super::objects::{ChangeType, Stored};
use super::resources::{Behaviour, ResourceId, ResourceKind};

/// Kind-specific normalisation, pruning and the registered admission hook.
pub(super) fn admit(
    state: &State,
    kind: &ResourceKind,
    mut obj: Value,
    old: Option<&Value>,
) -> Result<Value, ApiError> {
    if kind.behaviour == Behaviour::Secret {
        fold_string_data(&mut obj);
    }
    kind.schema.prune(&mut obj);
    let Some(hook) = state.registry.hook(&kind.id()) else {
        return Ok(obj);
    };
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    hook(&obj, old).map_err(|message| ApiError::invalid(&kind.qualified_kind(), &name, &message))
}

/// `stringData` is write-only: its entries land base64-encoded in `data`.
fn fold_string_data(obj: &mut Value) {
    use base64::Engine;
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(strings)) = map.remove("stringData") {
        let data = map.entry("data").or_insert_with(|| json!({}));
        for (k, v) in strings {
            let text = v.as_str().unwrap_or_default();
            data[k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
        }
    }
    map.entry("type").or_insert_with(|| json!("Opaque"));
}

/// Names are DNS subdomains: lower-case alphanumerics, `-` and `.`.
pub(super) fn check_name(kind: &ResourceKind, name: &str) -> Result<(), ApiError> {
    let ok = name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        return Ok(());
    }
    Err(ApiError::invalid(
        &kind.qualified_kind(),
        name,
        &format!(
            "metadata.name: Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        ),
    ))
}

/// Five characters from the API server's alphabet (no vowels, no look-alikes).
pub(super) fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Namespaces spring into existence on first use, so tests need not create them.
pub(super) fn ensure_namespace(state: &mut State, ns: &str, now: &str) {
    let id = ResourceId {
        group: String::new(),
        plural: "namespaces".into(),
    };
    if state.objects.get(&id, "", ns).is_some() {
        return;
    }
    let value = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now,
                     "labels": {"kubernetes.io/metadata.name": ns}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    });
    state.objects.put(
        &id,
        Stored {
            value,
            managers: Vec::new(),
        },
        ChangeType::Added,
    );
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_name_suffixes_use_the_api_server_alphabet() {
        let s = random_suffix();
        assert_eq!(s.len(), 5);
        assert!(s.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }

    #[test]
    fn string_data_folds_into_data() {
        let mut s = json!({"stringData": {"accessToken": "shpat_x"}});
        fold_string_data(&mut s);
        assert_eq!(
            s,
            json!({"data": {"accessToken": "c2hwYXRfeA=="}, "type": "Opaque"})
        );
    }
}
