//! The signed-in user's profile: password, language, API tokens. The
//! services decide everything (password rules, token names and expiry,
//! whose tokens); this only shows their answers beside the fields.

use super::{LANG_COOKIE, SESSION_COOKIE, SignedForm, Visit, field, local_time};
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::service::ServiceError;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_portal::i18n::Lang;
use lushan_portal::views::Choice;
use lushan_portal::views::profile::{PasswordErrors, ProfilePage, TokenCreatedPage, TokenRow};

/// The expiries the form offers (the service takes any duration; these
/// are the API's `expires_in` texts).
const EXPIRIES: [&str; 4] = ["", "30d", "90d", "365d"];

pub(super) fn routes() -> Vec<super::Route> {
    vec![
        ("GET", "/profile", get(profile)),
        ("POST", "/profile/password", post(change_password)),
        ("POST", "/profile/language", post(set_language)),
        ("POST", "/profile/tokens", post(create_token)),
        ("POST", "/profile/tokens/{id}/revoke", post(revoke_token)),
    ]
}

/// What the form left to show again: errors beside their fields, the name
/// typed for a token.
#[derive(Default)]
struct Again {
    password: PasswordErrors,
    token_name: String,
    token_error: Option<String>,
}

async fn profile(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let t = visit.t().profile;
    let notice = match field(&query, "done").as_str() {
        "password" => Some(t.password_changed.to_owned()),
        "language" => Some(t.language_saved.to_owned()),
        _ => None,
    };
    show(&state, &visit, StatusCode::OK, notice, Again::default()).await
}

/// The profile page, with `again`'s errors and `status`.
async fn show(state: &AppState, visit: &Visit, status: StatusCode, notice: Option<String>, again: Again) -> Response {
    let Some((session, caller)) = &visit.session else { return Redirect::to("/login").into_response() };
    let (t, p) = (visit.t(), visit.t().profile);
    let now = now_ms();
    let me = match state.services.me(caller).await {
        Ok(me) => to_api::user(me),
        Err(err) => return visit.error(err),
    };
    let setting = match state.services.my_language(caller).await {
        Ok(setting) => setting.unwrap_or_default(),
        Err(err) => return visit.error(err),
    };
    let current = match state.services.token_id_of(caller, session).await {
        Ok(id) => id.map(|id| id.0),
        Err(err) => return visit.error(err),
    };
    let tokens = match state.services.list_tokens(caller).await {
        Ok(tokens) => tokens,
        Err(err) => return visit.error(err),
    };
    let tokens = tokens
        .into_iter()
        .map(|record| to_api::token(record, now))
        .map(|token| {
            let state = token.state.to_string();
            TokenRow {
                current: Some(token.id) == current,
                state_text: match state.as_str() {
                    "active" => p.token_active,
                    "expired" => p.token_expired,
                    _ => p.token_revoked,
                }
                .to_owned(),
                state,
                id: token.id,
                name: token.name,
                created: local_time(&token.created_at),
                last_used: token.last_used_at.as_deref().map_or_else(|| p.token_not_used.to_owned(), local_time),
                expires: token.expires_at.as_deref().map_or_else(|| p.token_never.to_owned(), local_time),
            }
        })
        .collect();
    let languages = [("", p.language_browser), ("zh-CN", p.language_zh), ("en", p.language_en)]
        .into_iter()
        .map(|(value, label)| Choice { selected: value == setting, value: value.to_owned(), label: label.to_owned() })
        .collect();
    let expiry_labels = [p.expires_never, p.expires_30d, p.expires_90d, p.expires_365d];
    let expiries = EXPIRIES
        .iter()
        .zip(expiry_labels)
        .map(|(value, label)| Choice { selected: *value == "90d", value: (*value).to_owned(), label: label.to_owned() })
        .collect();
    let page = ProfilePage {
        chrome: visit.chrome(),
        user_name: me.name,
        display_name: me.display_name,
        tenant: me.tenant,
        role: t.role(me.role.to_string().as_str()).to_owned(),
        notice,
        password: again.password,
        languages,
        tokens,
        expiries,
        token_name: again.token_name,
        token_error: again.token_error,
    };
    visit.page(status, lushan_portal::Template::render(&page))
}

async fn change_password(
    State(state): State<AppState>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let p = visit.t().profile;
    let (current, new, repeat) = (field(&form, "current"), field(&form, "new"), field(&form, "repeat"));
    let mut errors = PasswordErrors::default();
    let mut status = StatusCode::BAD_REQUEST;
    if current.is_empty() {
        errors.current = Some(p.error_current_missing.to_owned());
    }
    if new != repeat {
        errors.repeat = Some(p.error_repeat_differs.to_owned());
    }
    if !errors.any() {
        match state.services.change_password(caller, current, new, now_ms()).await {
            Ok(()) => return Redirect::to("/profile?done=password").into_response(),
            Err(ServiceError::Forbidden(_)) => {
                errors.current = Some(p.error_current_wrong.to_owned());
                status = StatusCode::FORBIDDEN;
            }
            Err(ServiceError::Invalid(detail)) => errors.new = Some(format!("{}{detail}", p.error_new_invalid)),
            Err(err) => return visit.error(err),
        }
    }
    show(&state, &visit, status, None, Again { password: errors, token_name: String::new(), token_error: None }).await
}

async fn set_language(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    // The form's empty choice: follow the browser.
    let asked = field(&form, "language");
    let asked = Some(asked.as_str()).filter(|a| !a.is_empty());
    let chosen = match state.services.set_my_language(caller, asked, now_ms()).await {
        Ok(chosen) => chosen,
        Err(err) => return visit.error(err),
    };
    // The browser's remembered choice (the switch link's cookie) would
    // otherwise win over the new setting: it follows the setting now.
    let mut response = Redirect::to("/profile?done=language").into_response();
    let cookie = match chosen.as_deref().and_then(Lang::parse) {
        Some(lang) => format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code()),
        None => format!("{LANG_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"),
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let p = visit.t().profile;
    let (name, expires) = (field(&form, "name"), field(&form, "expires"));
    let expires = Some(expires.as_str()).filter(|e| !e.is_empty());
    let now = now_ms();
    match state.services.create_token(caller, name.trim(), expires, now).await {
        Ok((secret, record)) => {
            let token = to_api::token(record, now);
            let page = TokenCreatedPage {
                chrome: visit.chrome(),
                name: token.name,
                secret,
                url: origin(&headers),
                expires: token.expires_at.as_deref().map_or_else(|| p.token_never.to_owned(), local_time),
            };
            // The secret is on this page only: never kept by a cache.
            let mut response = visit.page(StatusCode::OK, lushan_portal::Template::render(&page));
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        // A bad name is the form's error, beside the field; a bad expiry
        // (only a hand-made form sends one) is a page of its own.
        Err(ServiceError::Invalid(detail)) if expires.is_none_or(|e| EXPIRIES.contains(&e)) => {
            let again = Again {
                token_name: name.chars().take(64).collect(),
                token_error: Some(format!("{}{detail}", p.error_token_name)),
                password: PasswordErrors::default(),
            };
            show(&state, &visit, StatusCode::BAD_REQUEST, None, again).await
        }
        Err(err) => visit.error(err),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { visit, ref caller, .. }: SignedForm,
) -> Response {
    let Some((session, _)) = &visit.session else { return Redirect::to("/login").into_response() };
    let Ok(id) = id.parse::<i64>() else {
        return visit
            .error(ServiceError::Invalid(format!("`{}` is not a token id", id.chars().take(32).collect::<String>())));
    };
    let current = match state.services.token_id_of(caller, session).await {
        Ok(current) => current,
        Err(err) => return visit.error(err),
    };
    if let Err(err) = state.services.revoke_token(caller, id, now_ms()).await {
        return visit.error(err);
    }
    if current.is_some_and(|c| c.0 == id) {
        // This session's own token: signed out, as the button said.
        let mut response = Redirect::to("/login").into_response();
        if let Ok(value) =
            HeaderValue::from_str(&format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"))
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        return response;
    }
    Redirect::to("/profile").into_response()
}

/// This server's address as the browser reached it, for `LUSHAN_URL`:
/// `http` on the loopback (where the portal may run without TLS), `https`
/// everywhere else (where it must).
fn origin(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let host: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(*c)).collect();
    let local = host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    format!("{}://{host}", if local { "http" } else { "https" })
}
