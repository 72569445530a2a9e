//! ShopifyConnections are served only once their CRD exists (404 before,
//! as the operator's startup check expects, and again after the CRD is
//! deleted), and are admitted by the same rules as `kubectl apply` against a
//! real cluster: CEL rejections answer 422 with the rule's message, spec
//! defaults are filled and unknown fields pruned.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use shopsync::api::ShopifyConnection;

use crate::support::standin::{api_error, connection, standin, with_crd};

#[tokio::test]
async fn connections_are_not_served_until_the_crd_is_established() {
    let s = standin().await;
    let conns: Api<ShopifyConnection> = Api::namespaced(s.client(), "shops");
    let missing = conns.list(&ListParams::default()).await;
    assert_eq!(api_error(missing), ("NotFound".into(), 404));

    s.install_shopsync_crd().await.unwrap();
    let crd = Api::<CustomResourceDefinition>::all(s.client())
        .get("shopifyconnections.shopify.fostr.io")
        .await
        .unwrap();
    let established = crd
        .status
        .and_then(|st| st.conditions)
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Established" && c.status == "True");
    assert!(established);
    assert!(
        conns
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    Api::<CustomResourceDefinition>::all(s.client())
        .delete(
            "shopifyconnections.shopify.fostr.io",
            &DeleteParams::default(),
        )
        .await
        .unwrap();
    let gone = conns.list(&ListParams::default()).await;
    assert_eq!(api_error(gone), ("NotFound".into(), 404));
}

#[tokio::test]
async fn admission_refuses_what_the_schema_rules_refuse_and_fills_defaults() {
    let s = with_crd().await;
    let conns: Api<ShopifyConnection> = Api::namespaced(s.client(), "shops");
    let bad = conns
        .create(&PostParams::default(), &connection("acme", "acme.com"))
        .await;
    match bad {
        Err(kube::Error::Api(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
            assert!(
                status
                    .message
                    .contains("ShopifyConnection.shopify.fostr.io \"acme\" is invalid")
                    && status.message.contains("<name>.myshopify.com"),
                "{}",
                status.message
            );
        }
        other => panic!("expected 422, got {other:?}"),
    }

    let sparse = json!({"apiVersion": "shopify.fostr.io/v1alpha1", "kind": "ShopifyConnection",
        "metadata": {"name": "acme"},
        "spec": {"store": "acme.myshopify.com", "credentials": {"secretRef": {"name": "acme-shopify"}},
                 "unknownField": true}});
    let raw: Api<kube::core::DynamicObject> = Api::namespaced_with(
        s.client(),
        "shops",
        &kube::core::ApiResource::erase::<ShopifyConnection>(&()),
    );
    let created = raw
        .create(
            &PostParams::default(),
            &serde_json::from_value(sparse).unwrap(),
        )
        .await
        .unwrap();
    let spec = &created.data["spec"];
    assert_eq!(spec["pollInterval"], "15m", "defaults filled: {spec}");
    assert_eq!(spec["credentials"]["secretRef"]["key"], "accessToken");
    assert!(spec.get("unknownField").is_none(), "unknown fields pruned");

    let moved = conns
        .patch(
            "acme",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"store": "other.myshopify.com"}})),
        )
        .await;
    assert_eq!(api_error(moved), ("Invalid".into(), 422));
}
