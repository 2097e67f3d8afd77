//! Job templates: the centre's and the caller's own.

use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::{AppState, to_api};
use crate::service::{Caller, TemplateInput};
use axum::extract::State;
use axum::http::StatusCode;
use lushan_api::{ErrorBody, JobTemplate, JobTemplateWrite};

fn input(body: JobTemplateWrite) -> TemplateInput {
    let JobTemplateWrite { centre, name, title, title_en, description, description_en, script } = body;
    TemplateInput { centre, name, title, title_en, description, description_en, script }
}

/// The centre's job templates, then the caller's own.
#[utoipa::path(get, path = "/api/v1/job-templates", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = Vec<JobTemplate>), (status = 401, body = ErrorBody)))]
pub async fn templates_list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<JobTemplate>>, ApiError> {
    let templates = state.services.list_templates(&caller).await?;
    Ok(Json(templates.into_iter().map(to_api::template).collect()))
}

/// Save a job template: the caller's own, or (operators) the centre's.
#[utoipa::path(post, path = "/api/v1/job-templates", tag = "jobs", security(("bearer" = [])), request_body = JobTemplateWrite,
    responses((status = 201, body = JobTemplate), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, description = "The owner has a template of that name.", body = ErrorBody)))]
pub async fn templates_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<JobTemplateWrite>,
) -> Result<(StatusCode, Json<JobTemplate>), ApiError> {
    let template = state.services.create_template(&caller, input(body), now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_api::template(template))))
}

/// One job template: the centre's or the caller's own.
#[utoipa::path(get, path = "/api/v1/job-templates/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "template id")),
    responses((status = 200, body = JobTemplate), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn templates_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<JobTemplate>, ApiError> {
    Ok(Json(to_api::template(state.services.template(&caller, id).await?)))
}

/// Replace a job template's content: the caller's own, or (operators) the centre's.
#[utoipa::path(put, path = "/api/v1/job-templates/{id}", tag = "jobs", security(("bearer" = [])), request_body = JobTemplateWrite,
    params(("id" = i64, Path, description = "template id")),
    responses((status = 200, body = JobTemplate), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn templates_update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<JobTemplateWrite>,
) -> Result<Json<JobTemplate>, ApiError> {
    let template = state.services.update_template(&caller, id, input(body), now_ms()).await?;
    Ok(Json(to_api::template(template)))
}

/// Delete a job template: the caller's own, or (operators) the centre's.
#[utoipa::path(delete, path = "/api/v1/job-templates/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "template id")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn templates_delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_template(&caller, id, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
