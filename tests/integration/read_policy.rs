//! The read path asks the access policy before it fetches a row: deny by
//! default, and every refusal names the rule.

use crate::support::postgres::fresh_db;
use crate::support::store::*;
use shopsync::store::{
    AccessGrant, AccessPolicy, ConnectionName, RecordReader, RecordSet, ShopifyId, StoreError,
};

const POLICY: &str = r#"
rules:
  - name: support-orders
    roles: [support]
    environments: [production]
    recordsets: [orders]
  - name: support-no-refunds
    effect: deny
    roles: [support]
    environments: ["*"]
    recordsets: [refunds]
"#;

#[tokio::test]
async fn reads_are_limited_to_what_the_policy_grants() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-pol", "acme", "production").await;
    let mut w = writer(&db.pool, &master, &conn).await;
    let run = w.begin_run("incremental").await.unwrap();
    w.write_batch(run, RecordSet::Orders, &[order(1, 1)], &checkpoint(1, 1))
        .await
        .unwrap();
    w.write_batch(run, RecordSet::Products, &[order(2, 1)], &checkpoint(1, 1))
        .await
        .unwrap();

    let policy = AccessPolicy::parse(POLICY, "policy.yaml").unwrap();
    let name: ConnectionName = "shops/acme".parse().unwrap();
    let open = |role: &str| {
        RecordReader::open(
            db.pool.clone(),
            master.clone(),
            &name,
            AccessGrant::new(policy.clone(), role, "production"),
        )
    };

    let support = open("support").await.unwrap();
    assert!(
        support
            .get(RecordSet::Orders, ShopifyId(1))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        support.count(None).await.unwrap(),
        vec![(RecordSet::Orders, 1)],
        "counts cover only granted recordsets"
    );
    assert_eq!(support.stats().await.unwrap().len(), 1);

    match support.get(RecordSet::Products, ShopifyId(2)).await {
        Err(StoreError::Policy(refusal)) => {
            assert_eq!(refusal.rule, "default-deny");
            assert!(refusal.to_string().contains("support-orders"), "{refusal}");
        }
        other => panic!("expected a policy refusal, got {other:?}"),
    }
    match support
        .list(&shopsync::store::ListQuery {
            recordset: RecordSet::Refunds,
            ..all_orders()
        })
        .await
    {
        Err(StoreError::Policy(refusal)) => assert_eq!(refusal.rule, "support-no-refunds"),
        other => panic!("expected a policy refusal, got {other:?}"),
    }

    let stranger = open("marketing").await.unwrap();
    match stranger.count(None).await {
        Err(StoreError::Policy(refusal)) => {
            assert_eq!(refusal.rule, "default-deny");
            assert!(
                refusal.to_string().contains("no rule allows this role"),
                "{refusal}"
            );
        }
        other => panic!("expected a policy refusal, got {other:?}"),
    }
}
