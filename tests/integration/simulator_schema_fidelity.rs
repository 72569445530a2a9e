//! Every type, field, argument and enum value the simulator serves exists in
//! Shopify's own Admin schema (2026-10, from `@shopify/dev-mcp@1.16.0`, §10)
//! with the same type, nullability and default; scope and protected-data
//! annotations match Shopify's metadata. Fetched with `npm pack` into the
//! target directory on first run, never committed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use shopsync::simulator::schema::{Schema, TypeKind};

const PACKAGE: &str = "@shopify/dev-mcp@1.16.0";
const SCHEMA_FILE: &str = "package/dist/data/admin_2026-10.json.gz";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Shopify's introspection JSON for 2026-10, fetched once per target directory.
fn shopify_schema() -> Value {
    let dir = target_dir().join("shopify-schema");
    let gz = dir.join(SCHEMA_FILE);
    if !gz.exists() {
        std::fs::create_dir_all(&dir).expect("create schema dir");
        let pack = Command::new("npm")
            .args(["pack", PACKAGE, "--silent"])
            .current_dir(&dir)
            .output()
            .expect("npm is installed (bash .ci/setup installs it)");
        assert!(
            pack.status.success(),
            "npm pack failed: {}",
            String::from_utf8_lossy(&pack.stderr)
        );
        let tarball = String::from_utf8_lossy(&pack.stdout)
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        let untar = Command::new("tar")
            .args(["-xzf", &tarball, SCHEMA_FILE])
            .current_dir(&dir)
            .status()
            .expect("tar");
        assert!(
            untar.success(),
            "could not extract {SCHEMA_FILE} from {tarball}"
        );
    }
    let json = Command::new("gunzip")
        .arg("-c")
        .arg(&gz)
        .output()
        .expect("gunzip");
    assert!(json.status.success());
    serde_json::from_slice(&json.stdout).expect("introspection JSON")
}

fn render(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", render(&t["ofType"])),
        Some("LIST") => format!("[{}]", render(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or("?").to_string(),
    }
}

#[test]
fn every_served_type_field_argument_and_enum_value_matches_shopify() {
    let doc = shopify_schema();
    let real: HashMap<&str, &Value> = doc["data"]["__schema"]["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| (t["name"].as_str().expect("name"), t))
        .collect();
    let mut scopes: HashMap<(String, Option<String>), Vec<String>> = HashMap::new();
    for item in doc["offline_scopes"]["items"]
        .as_array()
        .expect("offline scopes")
    {
        let key = (
            item["typeName"].as_str().unwrap_or("").to_string(),
            item["fieldName"].as_str().map(str::to_string),
        );
        let list = item["offlineScopes"].as_array().map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        });
        scopes.insert(key, list.unwrap_or_default());
    }
    let served = Schema::served();
    let mut problems = Vec::new();
    let mut checked = (0, 0, 0, 0);
    for (name, t) in &served.types {
        let Some(r) = real.get(name.as_str()) else {
            problems.push(format!("type {name} does not exist in Shopify's schema"));
            continue;
        };
        checked.0 += 1;
        let kind = match t.kind {
            TypeKind::Scalar => "SCALAR",
            TypeKind::Enum => "ENUM",
            TypeKind::Object => "OBJECT",
            TypeKind::Interface => "INTERFACE",
        };
        if r["kind"] != kind {
            problems.push(format!("{name} is {kind} here, {} at Shopify", r["kind"]));
        }
        for v in &t.enum_values {
            checked.3 += 1;
            if !r["enumValues"]
                .as_array()
                .is_some_and(|vals| vals.iter().any(|x| x["name"] == v.as_str()))
            {
                problems.push(format!("enum value {name}.{v} does not exist"));
            }
        }
        for i in &t.interfaces {
            if !r["interfaces"]
                .as_array()
                .is_some_and(|is| is.iter().any(|x| x["name"] == i.as_str()))
            {
                problems.push(format!("{name} does not implement {i} at Shopify"));
            }
        }
        let wanted = t
            .access
            .as_ref()
            .map(|a| a.scopes.clone())
            .unwrap_or_default();
        let shopify = scopes
            .get(&(name.clone(), None))
            .cloned()
            .unwrap_or_default();
        if wanted != shopify {
            problems.push(format!(
                "{name} requires {wanted:?} here, {shopify:?} at Shopify"
            ));
        }
        let real_fields: HashMap<&str, &Value> = r["fields"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .map(|f| (f["name"].as_str().unwrap_or(""), f))
                    .collect()
            })
            .unwrap_or_default();
        for f in &t.fields {
            checked.1 += 1;
            let Some(rf) = real_fields.get(f.name.as_str()) else {
                problems.push(format!("field {name}.{} does not exist", f.name));
                continue;
            };
            if render(&rf["type"]) != f.ty.to_string() {
                problems.push(format!(
                    "{name}.{} is {} here, {} at Shopify",
                    f.name,
                    f.ty,
                    render(&rf["type"])
                ));
            }
            if (rf["isDeprecated"] == true) != f.deprecated.is_some() {
                problems.push(format!("{name}.{} deprecation differs", f.name));
            }
            let protected = rf["isProtected"] == true;
            if protected != f.protected.is_some()
                || (protected && rf["protectedContent"].as_str() != f.protected.as_deref())
            {
                problems.push(format!("{name}.{} protection differs", f.name));
            }
            let wanted = f
                .access
                .as_ref()
                .map(|a| a.scopes.clone())
                .unwrap_or_default();
            let shopify = scopes
                .get(&(name.clone(), Some(f.name.clone())))
                .cloned()
                .unwrap_or_default();
            if wanted != shopify {
                problems.push(format!(
                    "{name}.{} requires {wanted:?} here, {shopify:?} at Shopify",
                    f.name
                ));
            }
            for a in &f.args {
                checked.2 += 1;
                let ra = rf["args"]
                    .as_array()
                    .and_then(|args| args.iter().find(|x| x["name"] == a.name.as_str()));
                match ra {
                    None => problems.push(format!(
                        "argument {name}.{}({}) does not exist",
                        f.name, a.name
                    )),
                    Some(ra) => {
                        if render(&ra["type"]) != a.ty.to_string() {
                            problems.push(format!(
                                "{name}.{}({}) is {} here, {} at Shopify",
                                f.name,
                                a.name,
                                a.ty,
                                render(&ra["type"])
                            ));
                        }
                        if ra["defaultValue"].as_str() != a.default.as_deref() {
                            problems.push(format!(
                                "{name}.{}({}) default {:?} vs {}",
                                f.name, a.name, a.default, ra["defaultValue"]
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        checked.0 > 50 && checked.1 > 250 && checked.2 > 80 && checked.3 > 400,
        "checked {checked:?}"
    );
}

#[test]
fn a_changed_type_would_be_caught() {
    // The comparison itself must be able to fail: a hand-made wrong SDL differs.
    let wrong = Schema::parse("type Order { id: String }").expect("parses");
    let served = Schema::served();
    assert_ne!(
        wrong
            .get("Order")
            .and_then(|o| o.field("id"))
            .map(|f| f.ty.to_string()),
        served
            .get("Order")
            .and_then(|o| o.field("id"))
            .map(|f| f.ty.to_string())
    );
}
