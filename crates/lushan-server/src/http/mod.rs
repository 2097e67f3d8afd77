//! The HTTP edge: axum router, request ids, metrics, error shape.
//!
//! **Boundary:** nothing here imports `lushan_store`; handlers reach data only
//! through `service` functions, which need a `Caller`.

pub mod api;
pub mod error;
pub mod extract;
pub mod from_api;
pub mod listener;
pub mod to_api;

use crate::clock::now_ms;
use crate::metrics::Metrics;
use crate::service::{REQUEST_ID, ServiceError, Services};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use error::ApiError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Largest request body accepted: a job submission carries its script and
/// the submitter's whole environment, which with many modules loaded runs
/// to tens of kilobytes.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub metrics: Metrics,
    openapi_json: Arc<String>,
    known_queries: Arc<KnownQueries>,
}

/// The query parameters each route takes, by method and path template, as
/// the OpenAPI document declares them: the one list of what a route reads.
type KnownQueries = std::collections::HashMap<(String, String), Vec<String>>;

fn known_queries(openapi: &utoipa::openapi::OpenApi) -> KnownQueries {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::path::ParameterIn;
    let mut known = KnownQueries::new();
    for (path, item) in &openapi.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let names = operation
                .parameters
                .iter()
                .flatten()
                .chain(item.parameters.iter().flatten())
                .filter_map(|p| match p {
                    RefOr::T(parameter) if parameter.parameter_in == ParameterIn::Query => Some(parameter.name.clone()),
                    _ => None,
                })
                .collect();
            known.insert((method.to_owned(), path.clone()), names);
        }
    }
    known
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Lushan", description = "Lushan, a public computing service platform: tenants, users, projects, tokens, sites, audit. Authenticate with `Authorization: Bearer TOKEN` (from POST /api/v1/login).", license(name = "Apache-2.0")),
    modifiers(&BearerAuth),
    components(schemas(lushan_api::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("an API token from `lushan login` or `lushan token create`"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of every route, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut openapi) = utoipa_axum::router::OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(api::routes())
        .split_for_parts();
    document_body_errors(&mut openapi);
    document_no_nul(&mut openapi);
    openapi
}

/// A string the API takes may hold anything but NUL: `screen_request`
/// refuses it (PostgreSQL refuses it in text). The document says so once
/// here, on every string that has no pattern of its own.
fn document_no_nul(openapi: &mut utoipa::openapi::OpenApi) {
    if let Some(components) = openapi.components.as_mut() {
        components.schemas.values_mut().for_each(forbid_nul);
    }
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                if let utoipa::openapi::RefOr::T(parameter) = parameter {
                    parameter.schema.iter_mut().for_each(forbid_nul);
                }
            }
            if let Some(utoipa::openapi::RefOr::T(body)) = operation.request_body.as_mut() {
                for content in body.content.values_mut() {
                    if let utoipa::openapi::RefOr::T(content) = content {
                        content.schema.iter_mut().for_each(forbid_nul);
                    }
                }
            }
        }
    }
}

fn forbid_nul(schema: &mut utoipa::openapi::RefOr<utoipa::openapi::Schema>) {
    use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, SchemaType, Type};
    use utoipa::openapi::{RefOr, Schema};
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(object) => {
            let is_string = match &object.schema_type {
                SchemaType::Type(kind) => *kind == Type::String,
                SchemaType::Array(kinds) => kinds.contains(&Type::String),
                SchemaType::AnyValue => false,
            };
            if is_string && object.pattern.is_none() && object.enum_values.is_none() {
                object.pattern = Some("^[^\\u0000]*$".into());
            }
            object.properties.values_mut().for_each(forbid_nul);
            if let Some(extra) = object.additional_properties.as_deref_mut()
                && let AdditionalProperties::RefOr(values) = extra
            {
                forbid_nul(values);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                forbid_nul(items);
            }
        }
        Schema::OneOf(any) => any.items.iter_mut().for_each(forbid_nul),
        Schema::AllOf(all) => all.items.iter_mut().for_each(forbid_nul),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(forbid_nul),
        _ => {}
    }
}

/// Every route that takes a body can answer 413 (too large) and 415 (not
/// JSON) before its handler runs; say so once here rather than on each.
fn document_body_errors(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        for operation in [&mut item.post, &mut item.put, &mut item.patch].into_iter().flatten() {
            if operation.request_body.is_some() {
                let responses = &mut operation.responses.responses;
                responses.insert("413".into(), error("The body is larger than 4 MiB.").into());
                responses.insert("415".into(), error("The body is not `application/json`.").into());
            }
        }
    }
}

/// The pretty-printed document checked in as `docs/user/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

pub fn router(services: Services, metrics: Metrics) -> axum::Router {
    let (api_router, _) =
        utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(api::routes()).split_for_parts();
    let state = AppState {
        services,
        metrics,
        openapi_json: Arc::new(openapi_json()),
        known_queries: Arc::new(known_queries(&openapi())),
    };
    axum::Router::new()
        .merge(api_router)
        .merge(crate::portal::routes())
        .route("/api/v1/openapi.json", get(openapi_document))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback(no_route)
        .layer(axum::middleware::from_fn_with_state(state.clone(), screen_request))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

async fn openapi_document(State(state): State<AppState>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], state.openapi_json.as_str().to_owned()).into_response()
}

async fn healthz(State(state): State<AppState>) -> Result<axum::Json<lushan_api::Health>, ApiError> {
    let (database, control_pass_age_ms) = state.services.health(now_ms()).await?;
    Ok(axum::Json(lushan_api::Health {
        status: "ok".into(),
        database: database.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        control_pass_age_ms,
    }))
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// Longest request target (path and query) answered normally. Longer
/// ones get a 414 in the API's error shape, here or, past 60 KiB, before
/// hyper reads the line (`listener::Guarded`).
pub const URI_LIMIT: usize = 16 * 1024;

/// Refuses, before any handler runs and so changing nothing, what no
/// route takes: a target over [`URI_LIMIT`]; a NUL character in the
/// path, the query or a JSON body's strings (PostgreSQL refuses NUL in
/// text, and no name, script or environment needs it); and a query
/// parameter the route does not take, which is never silently ignored: a
/// misspelt or unsupported filter would otherwise answer with everything
/// (an `array=` that a listing dropped once made `cancel ARRAY` cancel
/// every job of the caller).
async fn screen_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let target_len = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target_len > URI_LIMIT {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!(
                "the request's URL is {target_len} bytes; the limit is {URI_LIMIT}: send long lists in fewer requests"
            ),
        )
        .into_response();
    }
    let target = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or_default();
    if target.to_ascii_lowercase().contains("%00") {
        return ApiError::from(ServiceError::Invalid(
            "the URL holds a NUL character (%00), which no name or value may".into(),
        ))
        .into_response();
    }
    if let (Some(route), Some(query)) = (request.extensions().get::<MatchedPath>(), request.uri().query())
        && !query.is_empty()
        // A method the route does not take gets its 405 from the router.
        && let Some(taken) =
            state.known_queries.get(&(request.method().as_str().to_owned(), route.as_str().to_owned()))
    {
        let pairs = match axum::extract::Query::<Vec<(String, String)>>::try_from_uri(request.uri()) {
            Ok(axum::extract::Query(pairs)) => pairs,
            Err(err) => return ApiError::from(ServiceError::Invalid(err.body_text())).into_response(),
        };
        if let Some((unknown, _)) = pairs.iter().find(|(name, _)| !taken.contains(name)) {
            let takes = if taken.is_empty() {
                "it takes no query parameters".to_owned()
            } else {
                format!("it takes {}", taken.join(", "))
            };
            let message = format!(
                "unknown query parameter `{}` for {} {}: {takes}",
                unknown.chars().take(64).collect::<String>(),
                request.method(),
                route.as_str()
            );
            return ApiError::from(ServiceError::Invalid(message)).into_response();
        }
    }
    let is_json = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if !is_json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return error::from_rejection(StatusCode::PAYLOAD_TOO_LARGE, String::new()).into_response();
        }
    };
    if json_has_nul(&bytes) {
        return ApiError::from(ServiceError::Invalid(
            "the body holds a NUL character (\\u0000), which no name, script, environment or reason may".into(),
        ))
        .into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// Whether a JSON text holds a NUL character: escaped (`\u0000`) in a
/// string, or raw (which JSON does not allow, and the parser refuses too).
fn json_has_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            0 => return true,
            b'\\' => {
                if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                    return true;
                }
                // An escape is two bytes at least, so the second `\` of `\\` starts none.
                i += 2;
            }
            _ => i += 1,
        }
    }
    false
}

async fn no_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such API route; see /api/v1/openapi.json for the routes")
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Gives each request an id (in the `x-request-id` header, error bodies and
/// audit rows), records metrics, and turns axum's bare 405 into our error
/// shape.
async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let id = format!("{:x}-{}", std::process::id(), REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed));
    let route =
        request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = request.method().clone();
    let mut response = REQUEST_ID
        .scope(id.clone(), async move {
            let response = next.run(request).await;
            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                return ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "this route does not take that HTTP method; see /api/v1/openapi.json",
                )
                .into_response();
            }
            response
        })
        .await;
    let status = response.status();
    state.metrics.record_request(method.as_str(), &route, status.as_u16(), started.elapsed());
    if status.is_server_error() {
        tracing::warn!(request_id = %id, %method, route, status = status.as_u16(), "request failed");
    } else {
        tracing::debug!(request_id = %id, %method, route, status = status.as_u16(), "request");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::json_has_nul;

    #[test]
    fn a_nul_is_found_in_any_string_and_only_a_nul() {
        assert!(json_has_nul(br#"{"script": "a\u0000b"}"#));
        assert!(json_has_nul(br#"{"env": {"X\u0000": "1"}}"#));
        assert!(json_has_nul(b"{\"a\": \"\0\"}"));
        // An escaped backslash followed by the text u0000 is no NUL.
        assert!(!json_has_nul(br#"{"script": "a\\u0000b"}"#));
        assert!(!json_has_nul(br#"{"script": "\u0001 \u1000"}"#));
        assert!(!json_has_nul(br##"{"script": "#!/bin/sh\necho hi"}"##));
        assert!(json_has_nul(br#"["\\", "\u0000"]"#));
    }
}
