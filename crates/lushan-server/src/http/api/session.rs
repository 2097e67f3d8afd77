//! Login, the caller's own identity and password, and personal tokens.

use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::listener::Peer;
use crate::http::{AppState, to_api};
use crate::service::Caller;
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use lushan_api::{
    ErrorBody, LanguageSetting, LoginRequest, LoginResponse, Membership, PasswordChange, Token, TokenCreate,
    TokenCreated, WhoAmI,
};

/// Exchange a user name and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address (for this user name, or for all); `Retry-After` says when to try again.", body = ErrorBody),
        (status = 503, description = "The server is checking as many passwords as it can at once; retry after `Retry-After` seconds.", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    // Absent when the router is driven without a socket (in-process tests);
    // such logins share one failure count.
    peer: Option<Extension<ConnectInfo<Peer>>>,
    Json(body): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let now = now_ms();
    let client = peer.map(|Extension(ConnectInfo(Peer(address)))| address.ip());
    let (secret, token, user) =
        state.services.login(&body.user, body.password, body.expires_in.as_deref(), client, now).await?;
    Ok(Json(LoginResponse { token: secret, token_info: to_api::token(token, now), user: to_api::user(user) }))
}

/// Who the token belongs to, and their projects.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub async fn whoami(State(state): State<AppState>, caller: Caller) -> Result<Json<WhoAmI>, ApiError> {
    let user = state.services.me(&caller).await?;
    let projects = state.services.my_memberships(&caller).await?;
    let language = state.services.my_language(&caller).await?;
    Ok(Json(WhoAmI {
        language,
        user: to_api::user(user),
        projects: projects
            .into_iter()
            .map(|(project, role)| Membership { project, role: to_api::project_role(role) })
            .collect(),
    }))
}

/// Change the caller's own password.
#[utoipa::path(put, path = "/api/v1/whoami/password", tag = "session", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn password_change(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    state.services.change_password(&caller, body.current_password, body.new_password, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set (or, with `null`, forget) the caller's own web portal language.
#[utoipa::path(put, path = "/api/v1/whoami/language", tag = "session", security(("bearer" = [])), request_body = LanguageSetting,
    responses((status = 200, body = LanguageSetting), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn language_set(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<LanguageSetting>,
) -> Result<Json<LanguageSetting>, ApiError> {
    let language = state.services.set_my_language(&caller, body.language.as_deref(), now_ms()).await?;
    Ok(Json(LanguageSetting { language }))
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = Vec<Token>), (status = 401, body = ErrorBody)))]
pub async fn tokens_list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Token>>, ApiError> {
    let now = now_ms();
    let tokens = state.services.list_tokens(&caller).await?;
    Ok(Json(tokens.into_iter().map(|t| to_api::token(t, now)).collect()))
}

/// Create a personal API token; its secret is shown once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "session", security(("bearer" = [])), request_body = TokenCreate,
    responses((status = 201, body = TokenCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn tokens_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<TokenCreate>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let now = now_ms();
    let (secret, token) = state.services.create_token(&caller, &body.name, body.expires_in.as_deref(), now).await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { secret, token: to_api::token(token, now) })))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "session", security(("bearer" = [])),
    params(("id" = i64, Path, description = "token id, as `lushan token list` shows")),
    responses((status = 200, body = Token), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tokens_revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Token>, ApiError> {
    let now = now_ms();
    let token = state.services.revoke_token(&caller, id, now).await?;
    Ok(Json(to_api::token(token, now)))
}
