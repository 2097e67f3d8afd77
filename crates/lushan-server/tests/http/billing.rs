//! Wallets through the API: amounts past what the ledger takes are refused
//! whole, before anything is written (issue 19).

use crate::common::Platform;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// The largest amount an `i64` of fen holds: what issue 19 topped up.
const HUGE: &str = "92233720368547758.07";

async fn with_tenant() -> Platform {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.admin(Method::POST, "/api/v1/tenants/jxu/wallet/top-ups", json!({"amount": "1000", "reference": "T-1"})).await;
    p
}

async fn wallet(p: &Platform) -> Value {
    let reply = p.call(Method::GET, "/api/v1/tenants/jxu/wallet", Some(&p.operator_token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// Sends `body` to `path` as the operator and insists on a 400 that names
/// the maximum and changed nothing: the wallet and the audit log as before.
async fn refused_whole(p: &Platform, method: Method, path: &str, body: Value) {
    let (before, audit) = (wallet(p).await, p.audit_len().await);
    let reply = p.call(method, path, Some(&p.operator_token), Some(body.clone())).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.body);
    assert_eq!(reply.body["error"]["code"], "invalid_input", "{}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 1000000000000.00 CNY"), "{body}: {message}");
    assert_eq!(wallet(p).await, before, "{body} changed the wallet");
    assert_eq!(p.audit_len().await, audit, "{body} was audited");
}

#[tokio::test]
async fn a_top_up_past_the_maximum_is_a_400_and_the_wallet_still_works() {
    let p = with_tenant().await;
    assert_eq!(wallet(&p).await["balance"], "1000.00");
    let top_ups = "/api/v1/tenants/jxu/wallet/top-ups";
    refused_whole(&p, Method::POST, top_ups, json!({"amount": HUGE, "reference": "T-2"})).await;
    refused_whole(&p, Method::POST, top_ups, json!({"amount": "1000000000000.01", "reference": "T-2"})).await;
    let adjustments = "/api/v1/tenants/jxu/wallet/adjustments";
    let debit = json!({"amount": format!("-{HUGE}"), "reference": "A-1", "reason": "typo"});
    refused_whole(&p, Method::POST, adjustments, debit).await;

    // The refused reference was not used, and the wallet reads and takes
    // top-ups as before.
    p.admin(Method::POST, top_ups, json!({"amount": "24.50", "reference": "T-2"})).await;
    let after = wallet(&p).await;
    assert_eq!((&after["balance"], &after["available"]), (&json!("1024.50"), &json!("1024.50")), "{after}");
    // Up to the maximum is taken.
    p.admin(Method::POST, top_ups, json!({"amount": "1000000000000", "reference": "T-3"})).await;
    assert_eq!(wallet(&p).await["balance"], "1000000001024.50");
}

#[tokio::test]
async fn a_credit_limit_past_the_maximum_is_a_400_and_available_never_wraps() {
    let p = with_tenant().await;
    let limit = "/api/v1/tenants/jxu/wallet/credit-limit";
    refused_whole(&p, Method::PUT, limit, json!({"credit_limit": HUGE})).await;
    refused_whole(&p, Method::PUT, limit, json!({"credit_limit": "1000000000000.01"})).await;

    p.admin(Method::PUT, limit, json!({"credit_limit": "1000000000000"})).await;
    let after = wallet(&p).await;
    assert_eq!((&after["credit_limit"], &after["available"]), (&json!("1000000000000.00"), &json!("1000000001000.00")));
    p.admin(Method::POST, "/api/v1/tenants/jxu/wallet/top-ups", json!({"amount": "1", "reference": "T-2"})).await;
    assert_eq!(wallet(&p).await["available"], "1000000001001.00");
}
