//! The leaky bucket (§2.1, §2.5): admission on the requested cost, THROTTLED
//! at HTTP 200 in Shopify's shape, throttleStatus on every response, a clock
//! tests can speed up or move, and THROTTLED storms as a fault.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::simulator::{DEMO, Sim, TOKEN};

const PAGE: &str = "{ orders(first: 250) { nodes { id totalPriceSet { shopMoney { amount } } } } }";

#[tokio::test]
async fn an_empty_bucket_throttles_until_time_restores_it() {
    let sim = Sim::start(300, |c| c.clock_speed = 0.0).await;
    let mut last = Value::Null;
    for _ in 0..2 {
        last = sim.gql(PAGE, json!({})).await;
        assert!(last.get("errors").is_none(), "{last}");
    }
    assert_eq!(
        last["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        2000 - 2 * 752
    );

    let r = sim
        .post(DEMO, "2026-10", Some(TOKEN), json!({"query": PAGE}))
        .await;
    assert_eq!(r.status, 200, "THROTTLED is HTTP 200, not 429");
    assert!(r.body.get("data").is_none_or(Value::is_null));
    assert_eq!(r.body["errors"][0]["message"], "Throttled");
    assert_eq!(r.body["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(
        r.body["errors"][0]["extensions"]["documentation"],
        "https://shopify.dev/api/usage/rate-limits"
    );
    let cost = &r.body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 752);
    assert_eq!(cost["actualQueryCost"], Value::Null);
    let available = cost["throttleStatus"]["currentlyAvailable"]
        .as_f64()
        .expect("available");
    let rate = cost["throttleStatus"]["restoreRate"]
        .as_f64()
        .expect("rate");

    // The client's wait formula (§2.7), applied to a frozen clock by moving it.
    let wait_s = ((752.0 - available) / rate).ceil();
    sim.control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advance_seconds": wait_s - 1.0})),
    )
    .await;
    assert_eq!(
        sim.gql(PAGE, json!({})).await["errors"][0]["extensions"]["code"],
        "THROTTLED"
    );
    sim.control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advance_seconds": 1.0})),
    )
    .await;
    assert!(sim.gql(PAGE, json!({})).await.get("errors").is_none());
    let stats = sim.stats().await;
    assert_eq!(stats["throttled"], 2);
    // The bucket level over time: two drains, then the refill the clock jump gave.
    let history: Vec<f64> = stats["bucketHistory"]
        .as_array()
        .expect("history")
        .iter()
        .map(|s| s[1].as_f64().expect("n"))
        .collect();
    assert_eq!(&history[..2], &[1248.0, 496.0]);
    assert_eq!(stats["operations"]["anonymous"], 5);
}

#[tokio::test]
async fn a_fast_clock_runs_shopify_paced_work_in_real_milliseconds() {
    // 600x: ten simulated minutes per real second, while the client still sees restoreRate 100.
    let sim = Sim::start(300, |c| c.clock_speed = 600.0).await;
    let sim_now = |v: Value| {
        v["clock"]["now"]
            .as_str()
            .expect("now")
            .parse::<jiff::Timestamp>()
            .expect("ts")
    };
    let sim_start = sim_now(sim.control(Method::GET, "/_sim/stats", None).await);
    let started = Instant::now();
    let (mut ok, mut throttled) = (0, 0);
    while ok < 50 {
        let r = sim.gql(PAGE, json!({})).await;
        if r["errors"][0]["extensions"]["code"] == "THROTTLED" {
            throttled += 1;
            let s = &r["extensions"]["cost"]["throttleStatus"];
            assert_eq!(s["restoreRate"], 100.0);
            let wait_s = (752.0 - s["currentlyAvailable"].as_f64().expect("n")) / 100.0;
            tokio::time::sleep(Duration::from_secs_f64(wait_s.max(0.0) / 600.0)).await;
        } else {
            ok += 1;
        }
    }
    // 50 pages of 752 points need (37,600 − 2,000) / 100 = 356 simulated seconds of restoring.
    assert!(throttled >= 1, "the bucket must have run dry");
    let simulated = sim_now(sim.control(Method::GET, "/_sim/stats", None).await).as_second()
        - sim_start.as_second();
    assert!(
        simulated >= 350,
        "only {simulated} simulated seconds passed"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_throttled_storm_throttles_every_call_then_passes() {
    let sim = Sim::start(20, |c| c.clock_speed = 0.0).await;
    sim.control(
        Method::PUT,
        &format!("/_sim/stores/{DEMO}/faults"),
        Some(json!({"throttle_storm": 3})),
    )
    .await;
    for _ in 0..3 {
        let r = sim.gql("{ shop { name } }", json!({})).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "THROTTLED");
        assert_eq!(
            r["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
            0
        );
    }
    sim.control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advance_seconds": 1})),
    )
    .await;
    let r = sim.gql("{ shop { name } }", json!({})).await;
    assert_eq!(r["data"]["shop"]["name"], "Demo");
    assert_eq!(sim.stats().await["throttled"], 3);
}
