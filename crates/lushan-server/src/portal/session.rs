//! Signing in and out: the API's login (same limits, same token) with the
//! token kept in the session cookie.

use super::{SESSION_COOKIE, Visit, csrf_ok, field};
use crate::clock::now_ms;
use crate::http::listener::Peer;
use crate::http::{AppState, error::ApiError};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form};
use lushan_portal::views::LoginPage;

pub(super) fn routes() -> Vec<super::Route> {
    vec![("GET", "/login", get(login_page)), ("POST", "/login", post(login)), ("POST", "/logout", post(logout))]
}

async fn login_page(visit: Visit) -> Response {
    if visit.session.is_some() {
        return Redirect::to("/").into_response();
    }
    let page = LoginPage { chrome: visit.chrome(), error: None, user_name: String::new() };
    visit.page(StatusCode::OK, lushan_portal::Template::render(&page))
}

async fn login(
    State(state): State<AppState>,
    visit: Visit,
    peer: Option<Extension<ConnectInfo<Peer>>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (user, password) = (field(&form, "user"), field(&form, "password"));
    let client = peer.map(|Extension(ConnectInfo(Peer(address)))| address.ip());
    let refused = |visit: &Visit, status: StatusCode, message: &str, user: &str| {
        let page = LoginPage { chrome: visit.chrome(), error: Some(message.to_owned()), user_name: user.to_owned() };
        visit.page(status, lushan_portal::Template::render(&page))
    };
    if user.contains('\0') || password.contains('\0') {
        return refused(&visit, StatusCode::BAD_REQUEST, visit.t().error_sign_in, "");
    }
    match state.services.login(&user, password, None, client, now_ms()).await {
        Ok((secret, _, _)) => {
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) =
                HeaderValue::from_str(&format!("{SESSION_COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Lax"))
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(err) => {
            let code = err.code();
            let status = ApiError::from(err).status;
            let message = match code {
                "unauthenticated" => visit.t().error_sign_in,
                other => visit.t().error(other).0,
            };
            let user: String = user.chars().take(64).collect();
            refused(&visit, status, message, &user)
        }
    }
}

async fn logout(State(state): State<AppState>, visit: Visit, Form(form): Form<Vec<(String, String)>>) -> Response {
    if let Some((token, _)) = &visit.session {
        if !csrf_ok(&visit, &field(&form, "csrf")) {
            return visit.stale_form();
        }
        if let Err(err) = state.services.sign_out(token, now_ms()).await {
            return visit.error(err);
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("__Host-lushan-session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}
