//! The notes `helm install` prints can be followed literally: `shopsync
//! keygen` and the `kubectl create secret` commands (run here with
//! `--dry-run=client`) produce the two Secrets, under the names and keys the
//! Deployment reads, holding a key the operator can load; the example they
//! apply exists; and they end at `kubectl get shopconn`.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use shopsync::crypto::MasterKey;

use super::{EVERY_OPTION, WATCHED, env, flag, run_flags, volume_holding};
use crate::support::helm::{
    RELEASE, RELEASE_NAMESPACE, Rendered, chart_dir, helm, kubectl_bin, repo_dir, run_ok,
    target_dir, value_args,
};
use crate::support::shopsync_bin;

/// The NOTES section of `helm install --dry-run=client` with `values`.
fn notes(values: &[(&str, &str)]) -> String {
    let chart = chart_dir();
    let mut args = vec![
        "install",
        RELEASE,
        chart.to_str().expect("UTF-8 path"),
        "--namespace",
        RELEASE_NAMESPACE,
        "--dry-run=client",
    ];
    let values = value_args(values);
    args.extend(values.iter().map(String::as_str));
    let out = helm(&args);
    let (_, notes) = out.split_once("\nNOTES:\n").expect("helm prints NOTES");
    notes.to_owned()
}

/// The shell commands in the notes: indented lines, `\` continuations joined.
fn commands(notes: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in notes.lines().filter(|l| l.starts_with("     ")) {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

/// Runs the notes' `shopsync keygen` and `kubectl create secret` commands in
/// a scratch directory; the Secrets kubectl would create.
fn secrets_from(notes: &str) -> Vec<Value> {
    let work = target_dir().join(format!("helm-chart-notes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).expect("scratch dir");
    std::os::unix::fs::symlink(shopsync_bin(), bin.join("shopsync")).expect("link shopsync");
    std::os::unix::fs::symlink(kubectl_bin(), bin.join("kubectl")).expect("link kubectl");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut keygen = false;
    let mut secrets = Vec::new();
    for cmd in commands(notes) {
        let script = if cmd.starts_with("shopsync keygen") {
            keygen = true;
            cmd
        } else if cmd.starts_with("kubectl") && cmd.contains(" create secret ") {
            format!("{cmd} --dry-run=client -o json")
        } else {
            continue;
        };
        let out = run_ok(
            Command::new("sh")
                .args(["-c", &script])
                .current_dir(&work)
                .env("PATH", &path)
                .env("KUBECONFIG", "/dev/null"),
            &script,
        );
        if script.starts_with("kubectl") {
            secrets.push(serde_json::from_str(&out).expect("kubectl prints the Secret"));
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(
        keygen,
        "the notes show how to make the master key with `shopsync keygen`"
    );
    secrets
}

fn secret<'a>(secrets: &'a [Value], name: &Value) -> &'a Value {
    secrets
        .iter()
        .find(|s| &s["metadata"]["name"] == name && s["metadata"]["namespace"] == RELEASE_NAMESPACE)
        .unwrap_or_else(|| panic!("the notes create no Secret {name} in {RELEASE_NAMESPACE}"))
}

#[test]
fn notes_create_the_secrets_the_deployment_reads() {
    let secrets = secrets_from(&notes(&[]));
    let r = Rendered::new(&[]);

    let db = &env(&r, "DATABASE_URL")["valueFrom"]["secretKeyRef"];
    let db_secret = secret(&secrets, &db["name"]);
    let key = db["key"].as_str().expect("DATABASE_URL key");
    let url = STANDARD
        .decode(
            db_secret["data"][key]
                .as_str()
                .unwrap_or_else(|| panic!("no key {key}")),
        )
        .expect("base64");
    assert!(
        url.starts_with(b"postgres://"),
        "DATABASE_URL is a Postgres URL"
    );

    let flags = run_flags(&r);
    let (volume, _) = volume_holding(&r, flag(&flags, "--master-key-file")[0]);
    let key_secret = secret(&secrets, &volume["secret"]["secretName"]);
    let key = volume["secret"]["items"][0]["key"]
        .as_str()
        .expect("master key item");
    let file = STANDARD
        .decode(
            key_secret["data"][key]
                .as_str()
                .unwrap_or_else(|| panic!("no key {key}")),
        )
        .expect("base64");
    assert!(
        MasterKey::parse(&file).is_some(),
        "the Secret holds a loadable master key"
    );
}

#[test]
fn notes_apply_an_existing_example_and_check_with_kubectl_get_shopconn() {
    for values in [&[][..], EVERY_OPTION] {
        let notes = notes(values);
        assert!(notes.contains("kubectl get shopconn"), "{notes}");
        let examples: Vec<&str> = notes
            .split_whitespace()
            .filter(|w| w.starts_with("examples/"))
            .collect();
        assert!(!examples.is_empty(), "the notes apply an example");
        for example in examples {
            assert!(
                Path::new(&repo_dir().join(example)).is_file(),
                "{example} does not exist"
            );
        }
    }
    let notes = notes(EVERY_OPTION);
    for ns in WATCHED {
        assert!(
            notes.contains(ns),
            "the notes name the watched namespace {ns}"
        );
    }
}
