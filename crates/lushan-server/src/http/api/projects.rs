//! Projects (Slurm's accounts) and their members.

use crate::clock::now_ms;
use crate::http::api::list_filter;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::{AppState, from_api, to_api};
use crate::service::{Caller, NewProjectInput};
use axum::extract::State;
use axum::http::StatusCode;
use lushan_api::{ErrorBody, ListQuery, MemberAdd, Project, ProjectCreate};
use lushan_model::Status;

/// Projects the caller may see: all (operators), their tenant's (tenant admins), theirs (others).
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Vec<Project>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn projects_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Project>>, ApiError> {
    let filter = list_filter(&query)?;
    let projects = state.services.find_projects(&caller, &filter).await?;
    Ok(Json(projects.into_iter().map(|p| to_api::project(&state.services, p)).collect()))
}

/// Create a project with its PI (operators; tenant admins in their tenant).
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", security(("bearer" = [])), request_body = ProjectCreate,
    responses((status = 201, body = Project), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn projects_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ProjectCreate>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    let input = NewProjectInput { name: body.name, tenant: body.tenant, pi: body.pi, description: body.description };
    let project = state.services.create_project(&caller, input, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_api::project(&state.services, project))))
}

/// One project with its members.
#[utoipa::path(get, path = "/api/v1/projects/{project}", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")),
    responses((status = 200, body = Project), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn projects_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(to_api::project(&state.services, state.services.project(&caller, &name).await?)))
}

/// Disable a project. Nothing is deleted.
#[utoipa::path(post, path = "/api/v1/projects/{project}/disable", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")),
    responses((status = 200, body = Project), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn projects_disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(to_api::project(
        &state.services,
        state.services.set_project_status(&caller, &name, Status::Disabled, now_ms()).await?,
    )))
}

/// Enable a disabled project.
#[utoipa::path(post, path = "/api/v1/projects/{project}/enable", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")),
    responses((status = 200, body = Project), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn projects_enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(to_api::project(
        &state.services,
        state.services.set_project_status(&caller, &name, Status::Active, now_ms()).await?,
    )))
}

/// Add a member or change a member's role (PI, managers, tenant admins, operators).
#[utoipa::path(post, path = "/api/v1/projects/{project}/members", tag = "projects", security(("bearer" = [])), request_body = MemberAdd,
    params(("project" = String, Path, description = "project name")),
    responses((status = 200, body = Project), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn members_add(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<MemberAdd>,
) -> Result<Json<Project>, ApiError> {
    let role = body.role.map(from_api::member_role);
    Ok(Json(to_api::project(
        &state.services,
        state.services.add_member(&caller, &name, &body.user, role, now_ms()).await?,
    )))
}

/// Remove a member (not the PI).
#[utoipa::path(delete, path = "/api/v1/projects/{project}/members/{user}", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("user" = String, Path, description = "user name")),
    responses((status = 200, body = Project), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn members_remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, user)): Path<(String, String)>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(to_api::project(&state.services, state.services.remove_member(&caller, &name, &user, now_ms()).await?)))
}
