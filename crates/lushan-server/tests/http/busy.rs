//! A long write (a large array's submission, a slow disk) holds the
//! database: requests that only read are still served meanwhile.

use crate::common::Platform;
use axum::http::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

/// Well under the store's 10 s wait for SQLite's write lock, well over a read.
const PROMPT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn reads_with_a_token_whose_last_use_is_due_are_served_while_writes_are_held_off() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    // A new login token has never been used: its first use is due to be recorded.
    let alice = p.user("alice", "jxu", "member").await;

    let held = lushan_store::testing::hold_writes(&p.url).await.unwrap();
    for path in ["/api/v1/whoami", "/api/v1/jobs", "/api/v1/tokens"] {
        let reply = tokio::time::timeout(PROMPT, p.call(Method::GET, path, Some(&alice), None))
            .await
            .unwrap_or_else(|_| panic!("GET {path} waited for the write lock"));
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
    let tokens = p.call(Method::GET, "/api/v1/tokens", Some(&alice), None).await;
    assert!(tokens.body[0]["last_used_at"].is_null(), "{}", tokens.body);

    // Once writes are let in again, the use is recorded after all.
    drop(held);
    let mut recorded = false;
    for _ in 0..100 {
        let tokens = p.call(Method::GET, "/api/v1/tokens", Some(&alice), None).await;
        if !tokens.body[0]["last_used_at"].is_null() {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recorded, "the token's last use was never recorded");
}
