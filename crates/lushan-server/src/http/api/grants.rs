//! Public-welfare grants: request, list, show, review, approve, reject.

use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::{AppState, to_api};
use crate::service::{Caller, GrantRequestInput};
use axum::extract::State;
use axum::http::StatusCode;
use lushan_api::{ErrorBody, Grant, GrantDecision, GrantQuery, GrantRequest, GrantScore};

/// Request an allocation for a project (its PI, or its tenant's admins).
#[utoipa::path(post, path = "/api/v1/grants", tag = "grants", security(("bearer" = [])), request_body = GrantRequest,
    responses((status = 201, body = Grant), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn grants_request(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<GrantRequest>,
) -> Result<(StatusCode, Json<Grant>), ApiError> {
    let now = now_ms();
    let input = GrantRequestInput {
        project: body.project,
        core_hours: body.core_hours,
        gpu_hours: body.gpu_hours,
        from: body.from,
        to: body.to,
        reason: body.reason,
        site: body.site,
        partition: body.partition,
        renews: body.renews,
    };
    let grant = state.services.request_grant(&caller, input, now).await?;
    Ok((StatusCode::CREATED, Json(to_api::grant(grant, now))))
}

/// Grants the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/grants", tag = "grants", security(("bearer" = [])), params(GrantQuery),
    responses((status = 200, body = Vec<Grant>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn grants_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<GrantQuery>,
) -> Result<Json<Vec<Grant>>, ApiError> {
    let now = now_ms();
    let grants = state.services.list_grants(&caller, query.state.as_deref(), query.project.as_deref()).await?;
    Ok(Json(grants.into_iter().map(|g| to_api::grant(g, now)).collect()))
}

/// One grant, with its reviews and what is left of it.
#[utoipa::path(get, path = "/api/v1/grants/{id}", tag = "grants", security(("bearer" = [])),
    params(("id" = i64, Path, description = "grant id")),
    responses((status = 200, body = Grant), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn grants_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Grant>, ApiError> {
    Ok(Json(to_api::grant(state.services.grant(&caller, id).await?, now_ms())))
}

/// Score a request from 1 to 5, with a comment (reviewers; not their own tenant's).
#[utoipa::path(post, path = "/api/v1/grants/{id}/reviews", tag = "grants", security(("bearer" = [])),
    params(("id" = i64, Path, description = "grant id")), request_body = GrantScore,
    responses((status = 200, body = Grant), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn grants_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<GrantScore>,
) -> Result<Json<Grant>, ApiError> {
    let now = now_ms();
    let grant = state.services.review_grant(&caller, id, body.score, &body.comment, now).await?;
    Ok(Json(to_api::grant(grant, now)))
}

/// Approve a request, as asked or for fewer hours (operators).
#[utoipa::path(post, path = "/api/v1/grants/{id}/approve", tag = "grants", security(("bearer" = [])),
    params(("id" = i64, Path, description = "grant id")), request_body = GrantDecision,
    responses((status = 200, body = Grant), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn grants_approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<GrantDecision>,
) -> Result<Json<Grant>, ApiError> {
    let now = now_ms();
    let grant =
        state.services.decide_grant(&caller, id, true, body.core_hours, body.gpu_hours, &body.reason, now).await?;
    Ok(Json(to_api::grant(grant, now)))
}

/// Reject a request with a reason (operators).
#[utoipa::path(post, path = "/api/v1/grants/{id}/reject", tag = "grants", security(("bearer" = [])),
    params(("id" = i64, Path, description = "grant id")), request_body = GrantDecision,
    responses((status = 200, body = Grant), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn grants_reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<GrantDecision>,
) -> Result<Json<Grant>, ApiError> {
    let now = now_ms();
    let grant = state.services.decide_grant(&caller, id, false, None, None, &body.reason, now).await?;
    Ok(Json(to_api::grant(grant, now)))
}
