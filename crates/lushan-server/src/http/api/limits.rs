//! Limits per project and per user (operators'), per member of a project
//! (its PI's and managers'), and QOS levels.

use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::{AppState, to_api};
use crate::service::{Caller, LimitTarget, LimitValues, ServiceError};
use axum::extract::State;
use lushan_api::{ErrorBody, Limit, LimitSet, Qos, QosSet};

/// Limits the caller may see: all (operators), their tenant's (others).
#[utoipa::path(get, path = "/api/v1/limits", tag = "limits", security(("bearer" = [])),
    responses((status = 200, body = Vec<Limit>), (status = 401, body = ErrorBody)))]
pub async fn limits_list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Limit>>, ApiError> {
    let limits = state.services.list_limits(&caller).await?;
    Ok(Json(limits.into_iter().map(to_api::limit).collect()))
}

/// Set a project's or a user's limits (operators only). The body replaces
/// them all; every value null removes them.
#[utoipa::path(put, path = "/api/v1/limits/{scope}/{name}", tag = "limits", security(("bearer" = [])), request_body = LimitSet,
    params(("scope" = String, Path, description = "`project` or `user`"), ("name" = String, Path, description = "the project's or user's name")),
    responses((status = 200, body = Limit), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn limits_set(
    State(state): State<AppState>,
    caller: Caller,
    Path((scope, name)): Path<(String, String)>,
    Json(body): Json<LimitSet>,
) -> Result<Json<Limit>, ApiError> {
    let target = match scope.as_str() {
        "project" => LimitTarget::Project(name),
        "user" => LimitTarget::User(name),
        other => {
            return Err(ServiceError::Invalid(format!(
                "limits are set on a `project` or a `user`, not `{}`",
                other.chars().take(32).collect::<String>()
            ))
            .into());
        }
    };
    let values = LimitValues {
        max_running_jobs: body.max_running_jobs,
        max_cpus: body.max_cpus,
        max_gpus: body.max_gpus,
        max_submitted: body.max_submitted,
    };
    let limit = state.services.set_limits(&caller, target, values, now_ms()).await?;
    Ok(Json(to_api::limit(limit)))
}

/// Set the limits of a member of a project: their jobs in this project
/// only (Slurm's limits on the (user, account) association). Operators,
/// the tenant's admins and the project's PI set them; its managers set
/// plain members'. The body replaces them all; every value null removes
/// them.
#[utoipa::path(put, path = "/api/v1/projects/{project}/members/{user}/limits", tag = "limits", security(("bearer" = [])), request_body = LimitSet,
    params(("project" = String, Path, description = "the project's name"), ("user" = String, Path, description = "a member's user name")),
    responses((status = 200, body = Limit), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn member_limits_set(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, user)): Path<(String, String)>,
    Json(body): Json<LimitSet>,
) -> Result<Json<Limit>, ApiError> {
    let values = LimitValues {
        max_running_jobs: body.max_running_jobs,
        max_cpus: body.max_cpus,
        max_gpus: body.max_gpus,
        max_submitted: body.max_submitted,
    };
    let target = LimitTarget::Member { project, user };
    let limit = state.services.set_limits(&caller, target, values, now_ms()).await?;
    Ok(Json(to_api::limit(limit)))
}

/// Every QOS (any signed-in user: they choose one with `-q`).
#[utoipa::path(get, path = "/api/v1/qos", tag = "limits", security(("bearer" = [])),
    responses((status = 200, body = Vec<Qos>), (status = 401, body = ErrorBody)))]
pub async fn qos_list(State(state): State<AppState>, _caller: Caller) -> Result<Json<Vec<Qos>>, ApiError> {
    let qos = state.services.list_qos().await?;
    Ok(Json(qos.into_iter().map(to_api::qos).collect()))
}

/// Add a QOS or change its priority and description (operators only).
#[utoipa::path(put, path = "/api/v1/qos/{name}", tag = "limits", security(("bearer" = [])), request_body = QosSet,
    params(("name" = String, Path, description = "the QOS name, e.g. `high`")),
    responses((status = 200, body = Qos), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn qos_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<QosSet>,
) -> Result<Json<Qos>, ApiError> {
    let qos = state.services.set_qos(&caller, &name, body.priority, body.description.as_deref(), now_ms()).await?;
    Ok(Json(to_api::qos(qos)))
}
