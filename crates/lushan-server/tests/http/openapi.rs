//! The checked-in OpenAPI document is the served one. Regenerate it with
//! `UPDATE_OPENAPI=1 cargo test -p lushan-server --test http openapi`.

use crate::common::Platform;
use axum::http::{Method, StatusCode};

fn checked_in_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/user/openapi.json")
}

#[test]
fn checked_in_openapi_document_is_current() {
    let generated = lushan_server::http::openapi_json();
    let path = checked_in_path();
    if std::env::var("UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/user/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p lushan-server --test http openapi` and commit it"
    );
}

#[tokio::test]
async fn the_served_document_is_the_checked_in_one() {
    let platform = Platform::new().await;
    let reply = platform.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let checked_in: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(checked_in_path()).unwrap()).unwrap();
    assert_eq!(reply.body, checked_in);
}
