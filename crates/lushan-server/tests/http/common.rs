//! An in-process platform on a temporary SQLite database, driven through the
//! real router with `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use lushan_server::metrics::Metrics;
use lushan_server::service::{PasswordCost, Services};
use lushan_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct Platform {
    pub router: axum::Router,
    pub store: Store,
    /// The database's URL, for tests that open a connection of their own.
    pub url: String,
    pub operator_token: String,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Platform {
    /// On PostgreSQL when `LUSHAN_TEST_DATABASE_URL` is set (as in CI, where
    /// the real-binary suite covers SQLite), else on a temporary SQLite file.
    pub async fn new() -> Platform {
        Platform::with_services(|services| services).await
    }

    /// As [`Platform::new`], with the services adjusted by `configure`.
    pub async fn with_services(configure: impl FnOnce(Services) -> Services) -> Platform {
        let dir = tempfile::tempdir().unwrap();
        let url = match std::env::var("LUSHAN_TEST_DATABASE_URL") {
            Ok(admin) => lushan_store::testing::create_scratch_database(&admin, "lushan_http_test").await.unwrap(),
            Err(_) => format!("sqlite://{}?mode=rwc", dir.path().join("lushan.db").display()),
        };
        let store = Store::connect(&url).await.unwrap();
        let first =
            lushan_server::startup::bootstrap_if_new(&store, PasswordCost::InsecureFast).await.unwrap().unwrap();
        let services = configure(Services::new(store.clone(), PasswordCost::InsecureFast));
        let router = lushan_server::http::router(services, Metrics::global());
        Platform { router, store, url, operator_token: first.token, _dir: dir }
    }

    pub async fn raw(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status, headers, body }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => {
                builder.header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()
            }
            None => builder.body(Body::empty()).unwrap(),
        };
        self.raw(request).await
    }

    /// Calls as the operator and insists on success.
    pub async fn admin(&self, method: Method, path: &str, body: Value) -> Value {
        let reply = self.call(method, path, Some(&self.operator_token), Some(body)).await;
        assert!(reply.status.is_success(), "{path}: {} {}", reply.status, reply.body);
        reply.body
    }

    /// Creates a user with a known password and returns a token for them.
    pub async fn user(&self, name: &str, tenant: &str, role: &str) -> String {
        self.admin(
            Method::POST,
            "/api/v1/users",
            json!({"name": name, "tenant": tenant, "role": role, "password": "password-123"}),
        )
        .await;
        self.login(name).await
    }

    pub async fn login(&self, name: &str) -> String {
        let reply = self
            .call(Method::POST, "/api/v1/login", None, Some(json!({"user": name, "password": "password-123"})))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn audit_len(&self) -> usize {
        self.store.list_audit(None, 10_000).await.unwrap().len()
    }
}
