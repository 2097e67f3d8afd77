//! Requests a careless or hostile caller sends: NUL characters, very long
//! URLs, the standard `Idempotency-Key` header. Each is answered in the
//! API's error shape (or as the standard says) and changes nothing.

use crate::common::Platform;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

async fn setup() -> (Platform, String) {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let bob = p.user("bob", "jxu", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "bob"})).await;
    p.admin(Method::POST, "/api/v1/tenants/jxu/wallet/top-ups", json!({"amount": "1000", "reference": "T-1"})).await;
    (p, bob)
}

fn job() -> Value {
    json!({"script": "#!/bin/sh\ntrue\n", "options": ["-A", "cfd-lab"], "submit_dir": "/home/bob", "env": {"HOME": "/home/bob"}})
}

async fn job_count(p: &Platform, token: &str) -> usize {
    p.call(Method::GET, "/api/v1/jobs", Some(token), None).await.body.as_array().unwrap().len()
}

#[tokio::test]
async fn a_nul_anywhere_in_a_submission_or_a_reason_is_a_400_and_stores_nothing() {
    let (p, bob) = setup().await;
    let before = p.audit_len().await;
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut script = job();
    script["script"] = json!("#!/bin/sh\necho a\u{0}b\n");
    cases.push(("script", script));
    let mut env = job();
    env["env"]["X"] = json!("a\u{0}");
    cases.push(("environment value", env));
    let mut env_name = job();
    env_name["env"] = json!({"X\u{0}Y": "1"});
    cases.push(("environment name", env_name));
    let mut args = job();
    args["args"] = json!(["one", "t\u{0}wo"]);
    cases.push(("arguments", args));
    let mut dir = job();
    dir["submit_dir"] = json!("/home/\u{0}bob");
    cases.push(("submit_dir", dir));
    let mut key = job();
    key["idempotency_key"] = json!("k\u{0}");
    cases.push(("idempotency key", key));
    for (what, body) in cases {
        let reply = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}: {}", reply.body);
        assert_eq!(reply.body["error"]["code"], "invalid_input", "{what}: {}", reply.body);
        assert!(reply.body["error"]["message"].as_str().unwrap().contains("NUL"), "{what}: {}", reply.body);
    }
    let grant = json!({"project": "cfd-lab", "core_hours": 10, "from": "2026-01-01", "to": "2026-12-31", "reason": "for\u{0} science"});
    let reply = p.call(Method::POST, "/api/v1/grants", Some(&bob), Some(grant)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "grant reason: {}", reply.body);
    // In the URL too: a path or query value with %00.
    for path in ["/api/v1/users/bo%00b", "/api/v1/jobs?user=b%00ob"] {
        let reply = p.call(Method::GET, path, Some(&bob), None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {}", reply.body);
        assert_eq!(reply.body["error"]["code"], "invalid_input", "{path}");
    }
    assert_eq!(job_count(&p, &bob).await, 0);
    assert_eq!(p.audit_len().await, before);
    // A body without NUL is still taken.
    let reply = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

#[tokio::test]
async fn a_url_over_the_limit_gets_a_414_in_the_api_s_error_shape() {
    let (p, bob) = setup().await;
    let ids = vec!["1"; 10_000].join(",");
    let reply = p.call(Method::GET, &format!("/api/v1/jobs?ids={ids}"), Some(&bob), None).await;
    assert_eq!(reply.status, StatusCode::URI_TOO_LONG);
    assert_eq!(reply.body["error"]["code"], "uri_too_long", "{}", reply.body);
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("limit"), "{}", reply.body);
}

#[tokio::test]
async fn the_idempotency_key_header_makes_a_retry_return_the_first_job() {
    let (p, bob) = setup().await;
    let post = |key: &str, body: Value| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/jobs")
            .header("authorization", format!("Bearer {bob}"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let first = p.raw(post("retry-7", job())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = p.raw(post("retry-7", job())).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["job"]["job_id"], first.body["job"]["job_id"]);
    assert_eq!(job_count(&p, &bob).await, 1);
    // The same key in the body is the same submission; a different one is refused.
    let mut same = job();
    same["idempotency_key"] = json!("retry-7");
    assert_eq!(p.raw(post("retry-7", same)).await.status, StatusCode::OK);
    let mut other = job();
    other["idempotency_key"] = json!("retry-8");
    let refused = p.raw(post("retry-7", other)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("differ"), "{}", refused.body);
    assert_eq!(job_count(&p, &bob).await, 1);
}
