//! Malformed requests get a `Status` with a 4xx code, never a panic or a
//! 5xx: the stand-in treats request input as untrusted, as an API server does.

use reqwest::Method;
use serde_json::Value;

use crate::support::standin::with_crd;

#[tokio::test]
async fn malformed_requests_get_client_errors() {
    let s = with_crd().await;
    let http = reqwest::Client::new();
    let secrets = "/api/v1/namespaces/default/secrets";
    let conns = "/apis/shopify.fostr.io/v1alpha1/namespaces/default/shopifyconnections";
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    let json = "application/json";
    let merge = "application/merge-patch+json";
    let jsonpatch = "application/json-patch+json";
    let apply = "application/apply-patch+yaml";
    let ok_secret = r#"{"metadata": {"name": "s"}}"#;
    let setup = http
        .post(s.url().join(secrets).unwrap())
        .header("content-type", json)
        .body(ok_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status().as_u16(), 201);

    let named = format!("{secrets}/s");
    let cases: Vec<(Method, String, &str, &str)> = vec![
        (Method::POST, secrets.into(), json, "[]"),
        (Method::POST, secrets.into(), json, ""),
        (Method::POST, secrets.into(), json, r#"{"metadata": "x"}"#),
        (
            Method::POST,
            secrets.into(),
            json,
            r#"{"metadata": {"name": 5}}"#,
        ),
        (
            Method::POST,
            secrets.into(),
            json,
            r#"{"kind": "Lease", "metadata": {"name": "x"}}"#,
        ),
        (
            Method::POST,
            conns.into(),
            json,
            r#"{"metadata": {"name": "c"}, "spec": 7}"#,
        ),
        (
            Method::POST,
            crds.into(),
            json,
            r#"{"metadata": {"name": "x.y"}, "spec": []}"#,
        ),
        (
            Method::PUT,
            named.clone(),
            json,
            r#"{"metadata": {"name": "other"}}"#,
        ),
        (Method::PATCH, named.clone(), merge, r#"{"metadata": "x"}"#),
        (Method::PATCH, named.clone(), merge, "not json"),
        (
            Method::PATCH,
            named.clone(),
            jsonpatch,
            r#"[{"op": "replace", "path": "", "value": []}]"#,
        ),
        (Method::PATCH, named.clone(), jsonpatch, r#"{"op": "add"}"#),
        (
            Method::PATCH,
            named.clone(),
            apply,
            r#"{"apiVersion": "v1", "kind": "Secret", "metadata": "x"}"#,
        ),
        (
            Method::PATCH,
            format!("{named}?fieldManager=t"),
            apply,
            r#"{"metadata": {"name": "s"}}"#,
        ),
        (
            Method::PATCH,
            format!("{named}?fieldManager=t"),
            apply,
            "- just\n- a list\n",
        ),
        (Method::DELETE, named.clone(), json, "{{{"),
        (
            Method::GET,
            format!("{secrets}?labelSelector=a%20b%3Dc"),
            json,
            "",
        ),
        (Method::GET, format!("{secrets}?limit=-1"), json, ""),
        (Method::GET, format!("{secrets}?continue=garbage"), json, ""),
        (
            Method::GET,
            format!("{secrets}?watch=true&resourceVersion=abc"),
            json,
            "",
        ),
        (
            Method::GET,
            format!("{secrets}?watch=true&sendInitialEvents=true"),
            json,
            "",
        ),
        (Method::OPTIONS, named.clone(), json, ""),
    ];
    for (method, path, content_type, body) in cases {
        let answer = http
            .request(method.clone(), s.url().join(&path).unwrap())
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} {body:?}: no answer: {e}"));
        let code = answer.status().as_u16();
        let status: Value = answer.json().await.unwrap_or(Value::Null);
        assert!(
            (400..500).contains(&code) && status["kind"] == "Status",
            "{method} {path} {body:?} answered {code}: {status}"
        );
    }

    let huge = http
        .get(
            s.url()
                .join(&format!(
                    "{secrets}?watch=1&timeoutSeconds=99999999999999999"
                ))
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        huge.status().as_u16(),
        200,
        "a huge timeout is clamped, not a crash"
    );
    let still = http
        .get(s.url().join(&named).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(still.status().as_u16(), 200, "the server is still serving");
}
