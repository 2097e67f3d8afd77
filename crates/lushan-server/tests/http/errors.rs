//! Bad input gets a clear 4xx in the one error shape and changes nothing.

use crate::common::Platform;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use std::net::SocketAddr;
use tower::ServiceExt;

fn assert_error(reply: &crate::common::Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.body);
    assert!(!reply.body["error"]["message"].as_str().unwrap_or("").is_empty());
    assert!(!reply.body["error"]["request_id"].as_str().unwrap_or("").is_empty());
}

#[tokio::test]
async fn malformed_and_unexpected_bodies_are_rejected_and_change_nothing() {
    let p = Platform::new().await;
    let token = p.operator_token.clone();
    let before = p.audit_len().await;
    let post = |body: Body, content_type: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/tenants")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(body)
            .unwrap()
    };
    let cases = [
        (post(Body::from("{not json"), "application/json"), StatusCode::BAD_REQUEST, "invalid_input"),
        (
            post(Body::from(r#"{"name": "jxu", "sector": "university", "colour": "red"}"#), "application/json"),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            post(Body::from(r#"{"name": "jxu", "sector": "company"}"#), "application/json"),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            post(Body::from(r#"{"name": "jxu", "sector": "university"}"#), "text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            post(Body::from(vec![b' '; 5 * 1024 * 1024]), "application/json"),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (request, status, code) in cases {
        let reply = p.raw(request).await;
        assert_error(&reply, status, code);
    }
    for name in ["", "JXU", "1abc", "a b", "x/y", "计算中心", &"a".repeat(33)] {
        let reply = p
            .call(
                Method::POST,
                "/api/v1/tenants",
                Some(&p.operator_token),
                Some(json!({"name": name, "sector": "school"})),
            )
            .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_input");
    }
    assert_eq!(p.audit_len().await, before, "a rejected request wrote to the audit log");
    let tenants = p.call(Method::GET, "/api/v1/tenants", Some(&p.operator_token), None).await;
    assert_eq!(tenants.body.as_array().unwrap().len(), 1, "{}", tenants.body);
}

#[tokio::test]
async fn duplicates_conflict_and_keep_the_first() {
    let p = Platform::new().await;
    p.admin(
        Method::POST,
        "/api/v1/tenants",
        json!({"name": "jxu", "sector": "university", "display_name": "江西大学"}),
    )
    .await;
    let reply = p
        .call(
            Method::POST,
            "/api/v1/tenants",
            Some(&p.operator_token),
            Some(json!({"name": "jxu", "sector": "school"})),
        )
        .await;
    assert_error(&reply, StatusCode::CONFLICT, "conflict");
    let jxu = p.call(Method::GET, "/api/v1/tenants/jxu", Some(&p.operator_token), None).await;
    assert_eq!(jxu.body["display_name"], "江西大学");
    assert_eq!(jxu.body["sector"], "university");
}

#[tokio::test]
async fn missing_forged_revoked_and_expired_tokens_are_refused() {
    let p = Platform::new().await;
    let missing = p.call(Method::GET, "/api/v1/whoami", None, None).await;
    assert_error(&missing, StatusCode::UNAUTHORIZED, "unauthenticated");
    let forged =
        p.call(Method::GET, "/api/v1/whoami", Some("lsh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), None).await;
    assert_error(&forged, StatusCode::UNAUTHORIZED, "unauthenticated");

    let created = p.admin(Method::POST, "/api/v1/tokens", json!({"name": "short", "expires_in": "1s"})).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let expired = p.call(Method::GET, "/api/v1/whoami", Some(&secret), None).await;
    assert_error(&expired, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(expired.body["error"]["message"].as_str().unwrap().contains("expired"));

    let created = p.admin(Method::POST, "/api/v1/tokens", json!({"name": "revoke-me"})).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["id"].as_i64().unwrap();
    assert_eq!(p.call(Method::GET, "/api/v1/whoami", Some(&secret), None).await.status, StatusCode::OK);
    p.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&p.operator_token), None).await;
    let revoked = p.call(Method::GET, "/api/v1/whoami", Some(&secret), None).await;
    assert_error(&revoked, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn disabled_users_and_tenants_cannot_sign_in() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    p.admin(Method::POST, "/api/v1/users/alice/disable", json!(null)).await;
    assert_error(
        &p.call(Method::GET, "/api/v1/whoami", Some(&alice), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    p.admin(Method::POST, "/api/v1/users/alice/enable", json!(null)).await;
    let alice = p.login("alice").await;
    p.admin(Method::POST, "/api/v1/tenants/jxu/disable", json!(null)).await;
    let reply = p.call(Method::GET, "/api/v1/whoami", Some(&alice), None).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("tenant `jxu` is disabled"));
}

#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.user("alice", "jxu", "member").await;
    for _ in 0..5 {
        let reply = p
            .call(Method::POST, "/api/v1/login", None, Some(json!({"user": "alice", "password": "wrong-password"})))
            .await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // Even the right password is refused while locked out.
    let reply =
        p.call(Method::POST, "/api/v1/login", None, Some(json!({"user": "alice", "password": "password-123"}))).await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}

/// A login as if from `peer`, which `into_make_service_with_connect_info`
/// supplies in the real server.
fn login_from(peer: &str, user: &str, password: &str) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/login")
        .header("content-type", "application/json")
        .body(Body::from(json!({"user": user, "password": password}).to_string()))
        .unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(lushan_server::http::listener::Peer(peer)));
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_wrong_logins_get_at_most_five_checks_and_lock_out_only_their_address() {
    // Permits for every guess, so that only the limiter stands in their way.
    let p = Platform::with_services(|services| services.with_password_checks(64)).await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.user("alice", "jxu", "member").await;
    let attacker = "203.0.113.7:40000";
    let mut guesses = tokio::task::JoinSet::new();
    for n in 0..60 {
        let router = p.router.clone();
        guesses.spawn(async move {
            let response = router.oneshot(login_from(attacker, "alice", &format!("guess-{n}"))).await.unwrap();
            (response.status(), response.headers().get("retry-after").cloned())
        });
    }
    let mut checked = 0;
    for (status, retry_after) in guesses.join_all().await {
        match status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => assert!(retry_after.is_some(), "429 without Retry-After"),
            other => panic!("a guess got {other}"),
        }
    }
    assert!(checked <= 5, "{checked} of 60 simultaneous guesses had their password checked");
    // The rest of the five, one at a time; then the address is locked out.
    while checked < 5 {
        let reply = p.raw(login_from(attacker, "alice", "one-more-guess")).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
        checked += 1;
    }
    let reply = p.raw(login_from(attacker, "alice", "password-123")).await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("for `alice` from your address"));
    // Alice, from her own address, is not locked out by someone else's guesses.
    let reply = p.raw(login_from("198.51.100.9:50000", "alice", "password-123")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn logins_beyond_the_password_check_cap_are_refused_at_once_with_503() {
    let p = Platform::with_services(|services| services.with_password_checks(0)).await;
    for user in ["admin", "no-such-user"] {
        let reply = p.raw(login_from("203.0.113.7:40000", user, "wrong-password")).await;
        assert_error(&reply, StatusCode::SERVICE_UNAVAILABLE, "busy");
        assert_eq!(reply.headers["retry-after"], "1");
        assert!(reply.body["error"]["message"].as_str().unwrap().contains("try again in a moment"), "{}", reply.body);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let p = Platform::new().await;
    assert_error(&p.call(Method::GET, "/api/v1/nope", None, None).await, StatusCode::NOT_FOUND, "no_route");
    assert_error(
        &p.call(Method::PATCH, "/api/v1/tenants", None, None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert_error(
        &p.call(Method::DELETE, "/api/v1/tokens/abc", Some(&p.operator_token), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
    assert_error(
        &p.call(Method::GET, "/api/v1/audit?limit=0", Some(&p.operator_token), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
    assert_error(
        &p.call(Method::GET, "/api/v1/audit?limit=x", Some(&p.operator_token), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
}

#[tokio::test]
async fn health_writes_to_the_database_and_metrics_are_served() {
    let p = Platform::new().await;
    let health = p.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["database"], p.store.kind().as_str());
    // An honest check: it wrote to the database, which a full disk refuses.
    assert!(p.store.meta("health_checked_at").await.unwrap().is_some());
    // This platform runs no jobs: no control loop to report on.
    assert!(health.body.get("control_pass_age_ms").is_none(), "{}", health.body);
    p.call(Method::GET, "/api/v1/whoami", Some(&p.operator_token), None).await;
    let metrics = p.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(text.contains("lushan_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/whoami\""), "{text}");
}

#[tokio::test]
async fn every_administrative_action_is_audited_with_before_and_after() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.admin(Method::POST, "/api/v1/tenants/jxu/disable", json!(null)).await;
    let events = p.admin(Method::GET, "/api/v1/audit?limit=1", json!(null)).await;
    let event = &events[0];
    assert_eq!(event["action"], "tenant.disable");
    assert_eq!(event["actor"], "admin");
    assert_eq!(event["before"]["status"], "active");
    assert_eq!(event["after"]["status"], "disabled");
    assert!(event["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn a_slurm_site_is_reached_one_way_and_a_bad_way_is_refused_before_anything_runs() {
    let p = Platform::new().await;
    let before = p.audit_len().await;
    let site = |extra: serde_json::Value| {
        let mut body = json!({"name": "hpc1", "backend": "slurm"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    for (body, says) in [
        (site(json!({})), "through slurmrestd (--rest-url and --jwt-key) or through Slurm's commands"),
        (site(json!({"rest_url": "http://127.0.0.1:9"})), "through slurmrestd"),
        (site(json!({"cli": true, "rest_url": "http://127.0.0.1:9"})), "it takes no --rest-url or --jwt-key"),
        (site(json!({"cli": true, "slurm_bin": "opt/slurm/bin"})), "--slurm-bin must be an absolute path"),
        (
            site(json!({"rest_url": "http://127.0.0.1:9", "jwt_key": "/k", "slurm_bin": "/usr/bin"})),
            "--slurm-bin goes with --cli",
        ),
        (site(json!({"cli": true, "slurm_bin": "/nonexistent"})), "cannot run /nonexistent/scontrol"),
    ] {
        let reply = p.call(Method::POST, "/api/v1/sites", Some(&p.operator_token), Some(body.clone())).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_input");
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    assert_eq!(p.audit_len().await, before, "a refused site wrote to the audit log");
    let sites = p.call(Method::GET, "/api/v1/sites", Some(&p.operator_token), None).await;
    assert_eq!(sites.body.as_array().unwrap().len(), 1, "{}", sites.body);
}
