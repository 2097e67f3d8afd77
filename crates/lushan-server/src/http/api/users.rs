//! Users.

use crate::clock::now_ms;
use crate::http::api::list_filter;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::{AppState, from_api, to_api};
use crate::service::{Caller, NewUserInput};
use axum::extract::State;
use axum::http::StatusCode;
use lushan_api::{ErrorBody, ListQuery, User, UserCreate, UserCreated};
use lushan_model::Status;

/// Users the caller may see: all (operators), their tenant's (tenant admins), themselves (others).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Vec<User>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn users_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<User>>, ApiError> {
    let filter = list_filter(&query)?;
    let users = state.services.find_users(&caller, &filter).await?;
    Ok(Json(users.into_iter().map(to_api::user).collect()))
}

/// Create a user (operators; tenant admins in their tenant).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = UserCreate,
    responses((status = 201, body = UserCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn users_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<UserCreate>,
) -> Result<(StatusCode, Json<UserCreated>), ApiError> {
    let input = NewUserInput {
        name: body.name,
        tenant: body.tenant,
        role: body.role.map(from_api::role),
        display_name: body.display_name,
        unix_account: body.unix_account,
        password: body.password,
    };
    let (user, one_time_password) = state.services.create_user(&caller, input, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(UserCreated { user: to_api::user(user), one_time_password })))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{user}", tag = "users", security(("bearer" = [])),
    params(("user" = String, Path, description = "user name")),
    responses((status = 200, body = User), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn users_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(to_api::user(state.services.user(&caller, &name).await?)))
}

/// Disable a user and revoke their tokens. Nothing is deleted.
#[utoipa::path(post, path = "/api/v1/users/{user}/disable", tag = "users", security(("bearer" = [])),
    params(("user" = String, Path, description = "user name")),
    responses((status = 200, body = User), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn users_disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(to_api::user(state.services.set_user_status(&caller, &name, Status::Disabled, now_ms()).await?)))
}

/// Enable a disabled user (their old tokens stay revoked).
#[utoipa::path(post, path = "/api/v1/users/{user}/enable", tag = "users", security(("bearer" = [])),
    params(("user" = String, Path, description = "user name")),
    responses((status = 200, body = User), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn users_enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(to_api::user(state.services.set_user_status(&caller, &name, Status::Active, now_ms()).await?)))
}
