//! Every type, field, argument and enum value the simulator serves exists in
//! Shopify's own Admin schema (from `@shopify/dev-mcp@1.16.0`, §10) with the
//! same type, nullability, default and deprecation, for each served version
//! (2026-01 … 2026-10, minus what `VERSION_GATES` says came later); scope and
//! protected-data annotations match Shopify's metadata. The package is
//! fetched with `npm pack` into the target directory on first run, never
//! committed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use shopsync::simulator::schema::{Schema, TypeKind, VERSION_GATES, available};

const PACKAGE: &str = "@shopify/dev-mcp@1.16.0";
/// The versions the simulator serves by default, each checked against its own file.
const VERSIONS: [&str; 4] = ["2026-01", "2026-04", "2026-07", "2026-10"];

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Shopify's introspection JSON for `version`, fetched once per target directory.
fn shopify_schema(version: &str) -> Value {
    let dir = target_dir().join("shopify-schema");
    let file = format!("package/dist/data/admin_{version}.json.gz");
    let gz = dir.join(&file);
    if !gz.exists() {
        std::fs::create_dir_all(&dir).expect("create schema dir");
        let tarball = dir.join("shopify-dev-mcp-1.16.0.tgz");
        if !tarball.exists() {
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
        }
        let untar = Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg(&file)
            .current_dir(&dir)
            .status()
            .expect("tar");
        assert!(
            untar.success(),
            "could not extract {file} from {}",
            tarball.display()
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

fn kind_name(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Scalar => "SCALAR",
        TypeKind::Enum => "ENUM",
        TypeKind::Object => "OBJECT",
        TypeKind::Interface => "INTERFACE",
    }
}

/// Differences between what the simulator serves at `version` and Shopify's file; and counts checked.
fn compare(version: &str, doc: &Value) -> (Vec<String>, [usize; 4]) {
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
    let mut problems = Vec::new();
    let mut checked = [0; 4];
    let at = |what: String| format!("{version}: {what}");
    for (name, t) in &Schema::served().types {
        let Some(r) = real.get(name.as_str()) else {
            problems.push(at(format!(
                "type {name} does not exist in Shopify's schema"
            )));
            continue;
        };
        checked[0] += 1;
        if r["kind"] != kind_name(&t.kind) {
            problems.push(at(format!(
                "{name} is {} here, {} at Shopify",
                kind_name(&t.kind),
                r["kind"]
            )));
        }
        for v in t
            .enum_values
            .iter()
            .filter(|v| available(name, v, None, version))
        {
            checked[3] += 1;
            if !r["enumValues"]
                .as_array()
                .is_some_and(|vals| vals.iter().any(|x| x["name"] == v.as_str()))
            {
                problems.push(at(format!("enum value {name}.{v} does not exist")));
            }
        }
        for i in &t.interfaces {
            if !r["interfaces"]
                .as_array()
                .is_some_and(|is| is.iter().any(|x| x["name"] == i.as_str()))
            {
                problems.push(at(format!("{name} does not implement {i} at Shopify")));
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
            problems.push(at(format!(
                "{name} requires {wanted:?} here, {shopify:?} at Shopify"
            )));
        }
        let real_fields: HashMap<&str, &Value> = r["fields"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .map(|f| (f["name"].as_str().unwrap_or(""), f))
                    .collect()
            })
            .unwrap_or_default();
        for f in t
            .fields
            .iter()
            .filter(|f| available(name, &f.name, None, version))
        {
            checked[1] += 1;
            let Some(rf) = real_fields.get(f.name.as_str()) else {
                problems.push(at(format!("field {name}.{} does not exist", f.name)));
                continue;
            };
            if render(&rf["type"]) != f.ty.to_string() {
                problems.push(at(format!(
                    "{name}.{} is {} here, {} at Shopify",
                    f.name,
                    f.ty,
                    render(&rf["type"])
                )));
            }
            if (rf["isDeprecated"] == true) != f.deprecated.is_some() {
                problems.push(at(format!("{name}.{} deprecation differs", f.name)));
            }
            let protected = rf["isProtected"] == true;
            if protected != f.protected.is_some()
                || (protected && rf["protectedContent"].as_str() != f.protected.as_deref())
            {
                problems.push(at(format!("{name}.{} protection differs", f.name)));
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
                problems.push(at(format!(
                    "{name}.{} requires {wanted:?} here, {shopify:?} at Shopify",
                    f.name
                )));
            }
            for a in f
                .args
                .iter()
                .filter(|a| available(name, &f.name, Some(&a.name), version))
            {
                checked[2] += 1;
                let ra = rf["args"]
                    .as_array()
                    .and_then(|args| args.iter().find(|x| x["name"] == a.name.as_str()));
                let Some(ra) = ra else {
                    problems.push(at(format!(
                        "argument {name}.{}({}) does not exist",
                        f.name, a.name
                    )));
                    continue;
                };
                if render(&ra["type"]) != a.ty.to_string() {
                    problems.push(at(format!(
                        "{name}.{}({}) is {} here, {} at Shopify",
                        f.name,
                        a.name,
                        a.ty,
                        render(&ra["type"])
                    )));
                }
                if ra["defaultValue"].as_str() != a.default.as_deref() {
                    problems.push(at(format!(
                        "{name}.{}({}) default {:?} vs {}",
                        f.name, a.name, a.default, ra["defaultValue"]
                    )));
                }
            }
        }
    }
    // Each gate is real: absent before its version, present from it.
    for g in VERSION_GATES {
        let t = real.get(g.type_name).copied().unwrap_or(&Value::Null);
        let exists = match g.arg {
            _ if t["kind"] == "ENUM" => t["enumValues"]
                .as_array()
                .is_some_and(|v| v.iter().any(|x| x["name"] == g.member)),
            None => t["fields"]
                .as_array()
                .is_some_and(|v| v.iter().any(|x| x["name"] == g.member)),
            Some(arg) => t["fields"].as_array().is_some_and(|v| {
                v.iter().any(|x| {
                    x["name"] == g.member
                        && x["args"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|y| y["name"] == arg))
                })
            }),
        };
        if exists != (version >= g.since) {
            problems.push(at(format!("gate {g:?} is wrong: exists = {exists}")));
        }
    }
    (problems, checked)
}

#[test]
fn every_served_type_field_argument_and_enum_value_matches_shopify() {
    let mut problems = Vec::new();
    for version in VERSIONS {
        let (p, checked) = compare(version, &shopify_schema(version));
        assert!(
            checked[0] > 50 && checked[1] > 250 && checked[2] > 80 && checked[3] > 400,
            "{version}: checked only {checked:?}"
        );
        problems.extend(p);
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn fields_added_later_are_unknown_to_older_versions() {
    assert!(!available("InventoryLevel", "isActive", None, "2026-01"));
    assert!(available("InventoryLevel", "isActive", None, "2026-04"));
    assert!(available("Order", "id", None, "2026-01"));
    // And the comparison itself can fail: a hand-made wrong SDL differs.
    let wrong = Schema::parse("type Order { id: String }").expect("parses");
    assert_ne!(
        wrong
            .get("Order")
            .and_then(|o| o.field("id"))
            .map(|f| f.ty.to_string()),
        Schema::served()
            .get("Order")
            .and_then(|o| o.field("id"))
            .map(|f| f.ty.to_string())
    );
}
