//! The README's first command: `shopsync demo` runs the whole product on
//! embedded defaults and ends Ready, with kubectl-style output.

use std::process::Command;

#[test]
fn demo_syncs_a_store_and_reports_ready() {
    let out = Command::new(crate::support::shopsync_bin())
        .args(["demo", "--orders", "400", "--polls", "1", "--speed", "120"])
        .output()
        .expect("shopsync demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("$ kubectl get shopifyconnections -n shops -o wide"));
    let last_row = stdout
        .lines()
        .rfind(|l| l.starts_with("demo   demo.myshopify.com"))
        .expect("a table row");
    assert!(
        last_row.contains("True") && last_row.contains("Complete"),
        "{last_row}"
    );
    assert!(stdout.contains("Ready              True"), "{stdout}");
    assert!(
        !stdout.contains("shpat_") && !stderr.contains("shpat_"),
        "the access token must not be printed"
    );
}
