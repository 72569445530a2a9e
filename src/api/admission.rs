//! Client-side admission: the checks the API server runs on `kubectl apply`,
//! run here on a manifest so that `shopsync sync -f`, tests and the controller
//! (which cannot rely on every cluster enforcing CEL) reject the same things
//! with the same messages.

use std::fmt;

use kube::CustomResourceExt;
use kube::core::cel::Validator;
use serde_json::Value;

use super::spec::ShopifyConnection;

/// One reason a manifest was refused: the field and what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// A manifest that would not be admitted, with every reason found.
#[derive(Clone, Debug, thiserror::Error)]
#[error("the ShopifyConnection manifest is invalid:\n{}", render(.0))]
pub struct Rejected(pub Vec<Violation>);

fn render(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("  - {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Rejected {
    fn one(field: &str, message: impl Into<String>) -> Self {
        Rejected(vec![Violation {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

/// Checks a manifest as the API server would on create (`old` is `None`) or
/// update, then decodes it with defaults applied.
pub fn admit(manifest: &Value, old: Option<&Value>) -> Result<ShopifyConnection, Rejected> {
    check_type(manifest)?;
    let schema = object_schema();
    if let Err(errors) = Validator::new().validate(&schema, manifest, old) {
        return Err(Rejected(
            errors
                .iter()
                .map(|e| Violation {
                    field: e.field_path.clone(),
                    message: e.message.clone(),
                })
                .collect(),
        ));
    }
    serde_json::from_value(manifest.clone()).map_err(|e| Rejected::one("", e.to_string()))
}

fn check_type(manifest: &Value) -> Result<(), Rejected> {
    let api_version = manifest.get("apiVersion").and_then(Value::as_str);
    let kind = manifest.get("kind").and_then(Value::as_str);
    let want = ShopifyConnection::api_resource();
    if api_version != Some(want.api_version.as_str()) || kind != Some(want.kind.as_str()) {
        return Err(Rejected::one(
            "",
            format!(
                "expected apiVersion {} and kind {}, found {} {}",
                want.api_version,
                want.kind,
                api_version.unwrap_or("(none)"),
                kind.unwrap_or("(none)")
            ),
        ));
    }
    if manifest.get("spec").is_none() {
        return Err(Rejected::one("spec", "spec is required"));
    }
    Ok(())
}

/// The openAPIV3Schema of the served version, as JSON.
fn object_schema() -> Value {
    let crd = ShopifyConnection::crd();
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref());
    serde_json::to_value(schema).unwrap_or(Value::Null)
}
