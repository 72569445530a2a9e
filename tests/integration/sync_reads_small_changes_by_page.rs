//! A poll that finds a few changed orders reads them with ordinary queries,
//! not a bulk job (which would take seconds and a bulk slot every connection
//! to the store shares), and the store still equals the ground truth; the
//! next poll, whose overlap lists them again, does not fetch them twice.

use reqwest::Method;
use serde_json::json;

use crate::support::sync_env::{STORE, SyncEnv, open_orders, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_changes_are_read_without_a_bulk_job_and_match_the_store() {
    let env = SyncEnv::start(200, 0, 20, |_| {}).await;
    let spec = spec("  backfill: {window: 30d}\n");
    let first = env.sync(&spec).await;
    assert!(first.error.is_none(), "{:?}", first.error);
    let bulk_before = env.stats().await["bulk_started"].as_u64().unwrap_or(0);

    // Three changes: a new order, an update, a cancellation (tombstoned).
    let base = format!("/_sim/stores/{STORE}/orders");
    env.control(Method::POST, &base, Some(json!({}))).await;
    let truth = env.truth("orders").await;
    let open: Vec<String> = truth
        .iter()
        .filter(|o| o["cancelledAt"].is_null() && o["closedAt"].is_null())
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    let number = |gid: &str| gid.rsplit('/').next().unwrap().to_owned();
    env.control(
        Method::PATCH,
        &format!("{base}/{}", number(&open[0])),
        Some(json!({"note": "changed"})),
    )
    .await;
    env.control(
        Method::POST,
        &format!("{base}/{}/cancel", number(&open[1])),
        None,
    )
    .await;
    // Past the engine's settle margin, so the changes fall in the next window.
    tokio::time::sleep(std::time::Duration::from_secs_f64(
        6.0 / crate::support::sync_env::SPEED + 0.2,
    ))
    .await;

    let report = env.sync(&spec).await;
    assert!(report.error.is_none(), "{:?}", report.error);
    let bulk_after = env.stats().await["bulk_started"].as_u64().unwrap_or(0);
    assert_eq!(bulk_after, bulk_before, "a bulk job ran for three changes");
    let written = report.recordsets[&shopsync::store::RecordSet::Orders].written;
    assert!(
        written >= 2,
        "the new and the updated order were written: {written}"
    );
    assert_eq!(
        env.stored_ids("orders").await,
        open_orders(&env.truth("orders").await)
    );
    assert!(
        env.tombstoned_ids("orders")
            .await
            .contains(&number(&open[1]).parse::<i64>().unwrap()),
        "the cancelled order was tombstoned"
    );

    // The next poll's overlap lists the same three orders again; they are
    // stored at those versions already, so none is fetched (a fetch costs
    // tens of points per order; the id page and the scope read cost a few).
    let again = env.sync(&spec).await;
    assert!(again.error.is_none(), "{:?}", again.error);
    let orders = &again.recordsets[&shopsync::store::RecordSet::Orders];
    assert_eq!((orders.written, orders.tombstoned), (0, 0));
    assert!(
        again.stats.cost_used < 20.0,
        "stored orders were fetched again: {} points",
        again.stats.cost_used
    );
}
