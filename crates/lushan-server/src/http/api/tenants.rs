//! Tenants: organisations.

use crate::clock::now_ms;
use crate::http::api::list_filter;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::{AppState, from_api, to_api};
use crate::service::Caller;
use axum::extract::State;
use axum::http::StatusCode;
use lushan_api::{ErrorBody, ListQuery, Tenant, TenantCreate};
use lushan_model::Status;

/// Tenants the caller may see: all for operators, their own for others.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Vec<Tenant>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn tenants_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Tenant>>, ApiError> {
    let filter = list_filter(&query)?;
    let tenants = state.services.find_tenants(&caller, &filter).await?;
    Ok(Json(tenants.into_iter().map(to_api::tenant).collect()))
}

/// Create a tenant (operators).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])), request_body = TenantCreate,
    responses((status = 201, body = Tenant), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn tenants_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<TenantCreate>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    let tenant = state
        .services
        .create_tenant(&caller, &body.name, from_api::sector(body.sector), body.display_name, now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(to_api::tenant(tenant))))
}

/// One tenant.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "tenant name")),
    responses((status = 200, body = Tenant), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tenants_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(to_api::tenant(state.services.tenant(&caller, &name).await?)))
}

/// Disable a tenant: its users can no longer sign in. Nothing is deleted.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/disable", tag = "tenants", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "tenant name")),
    responses((status = 200, body = Tenant), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tenants_disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(to_api::tenant(state.services.set_tenant_status(&caller, &name, Status::Disabled, now_ms()).await?)))
}

/// Enable a disabled tenant.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/enable", tag = "tenants", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "tenant name")),
    responses((status = 200, body = Tenant), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tenants_enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(to_api::tenant(state.services.set_tenant_status(&caller, &name, Status::Active, now_ms()).await?)))
}
