//! Lists on the stand-in select and page as on a real API server: label
//! selectors (equality, inequality, sets), field selectors (unsupported
//! fields refused with 400), one namespace or all, and `limit`/`continue`
//! pages that share the first page's resourceVersion.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PostParams};

use crate::support::standin::{api_error, secret, standin};

#[tokio::test]
async fn lists_honour_selectors_and_pages() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    for (name, tier) in [
        ("a", "gold"),
        ("b", "silver"),
        ("c", "gold"),
        ("d", "bronze"),
    ] {
        secrets
            .create(&PostParams::default(), &secret(name, &[("tier", tier)]))
            .await
            .unwrap();
    }
    Api::<Secret>::namespaced(s.client(), "elsewhere")
        .create(&PostParams::default(), &secret("e", &[("tier", "gold")]))
        .await
        .unwrap();

    let names = |l: kube::core::ObjectList<Secret>| -> Vec<String> {
        l.items
            .into_iter()
            .filter_map(|s| s.metadata.name)
            .collect()
    };
    let gold = secrets
        .list(&ListParams::default().labels("tier=gold"))
        .await
        .unwrap();
    assert_eq!(names(gold), ["a", "c"]);
    let not_gold = secrets
        .list(&ListParams::default().labels("tier!=gold"))
        .await
        .unwrap();
    assert_eq!(names(not_gold), ["b", "d"]);
    let set = secrets
        .list(&ListParams::default().labels("tier in (silver,bronze)"))
        .await
        .unwrap();
    assert_eq!(names(set), ["b", "d"]);
    let by_name = secrets
        .list(&ListParams::default().fields("metadata.name=c"))
        .await
        .unwrap();
    assert_eq!(names(by_name), ["c"]);
    let everywhere = Api::<Secret>::all(s.client())
        .list(&ListParams::default().labels("tier=gold"))
        .await
        .unwrap();
    assert_eq!(names(everywhere), ["a", "c", "e"]);

    let first = secrets.list(&ListParams::default().limit(3)).await.unwrap();
    let token = first.metadata.continue_.clone().expect("a continue token");
    let list_rv = first.metadata.resource_version.clone();
    assert_eq!(first.metadata.remaining_item_count, Some(1));
    assert_eq!(names(first), ["a", "b", "c"]);
    let rest = secrets
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(
        rest.metadata.resource_version, list_rv,
        "pages share the list's revision"
    );
    assert!(rest.metadata.continue_.as_deref().is_none_or(str::is_empty));
    assert_eq!(names(rest), ["d"]);

    let bad = secrets
        .list(&ListParams::default().fields("data.accessToken=x"))
        .await;
    assert_eq!(api_error(bad), ("BadRequest".into(), 400));
}
