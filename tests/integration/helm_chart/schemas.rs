//! The rendered manifests, CRD included, pass the Kubernetes 1.33 schemas of
//! PyPI's `kubernetes-validate` (strict: unknown fields fail). Skipped, with
//! a note, where pip cannot install it.

use std::path::PathBuf;
use std::process::Command;

use super::EVERY_OPTION;
use crate::support::helm::{target_dir, template};

/// `kubernetes-validate` from PyPI, installed into the target directory on
/// first use; `None` (and the check skipped) where pip cannot install it.
fn kubernetes_validate() -> Option<PathBuf> {
    let dir = target_dir().join("kubernetes-validate-1.37.0");
    if dir.join("kubernetes_validate").exists() {
        return Some(dir);
    }
    let partial = target_dir().join(format!(
        "kubernetes-validate.partial-{}",
        std::process::id()
    ));
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&partial)
        .arg("kubernetes-validate==1.37.0")
        .output();
    match out {
        Ok(out) if out.status.success() => {
            std::fs::rename(&partial, &dir).expect("move kubernetes-validate into place");
            Some(dir)
        }
        other => {
            eprintln!(
                "skipping schema validation: pip could not install kubernetes-validate: {other:?}"
            );
            let _ = std::fs::remove_dir_all(&partial);
            None
        }
    }
}

#[test]
fn rendered_manifests_pass_kubernetes_schemas() {
    let Some(pythonpath) = kubernetes_validate() else {
        return;
    };
    for (i, values) in [&[][..], EVERY_OPTION].into_iter().enumerate() {
        let file = target_dir().join(format!("helm-chart-render-{}-{i}.yaml", std::process::id()));
        std::fs::write(&file, template(values, &["--include-crds"])).expect("write render");
        // 1.33 is the oldest Kubernetes shopsync supports; --strict rejects unknown fields.
        let out = Command::new("python3")
            .args([
                "-m",
                "kubernetes_validate",
                "--strict",
                "--quiet",
                "-k",
                "1.33.0",
            ])
            .arg(&file)
            .env("PYTHONPATH", &pythonpath)
            .output()
            .expect("python3");
        let _ = std::fs::remove_file(&file);
        assert!(
            out.status.success(),
            "rendered manifests fail Kubernetes 1.33 schemas:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
