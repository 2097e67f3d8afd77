//! The web portal at `/`: server-rendered pages that call the same
//! `Services` as the REST API (no rule, query or check written twice) and
//! fill `lushan_portal`'s templates.
//!
//! **Session:** signing in is the API's login (same limits, same token);
//! the token lives in a `__Host-` cookie (HttpOnly, Secure, SameSite=Lax)
//! and is revoked at sign-out. **Forms:** every unsafe request carries a
//! CSRF token (HMAC-SHA256 of a fixed text keyed by the session token) and
//! is refused when `Sec-Fetch-Site` or `Origin` says another site sent it.
//! **Headers:** a strict Content-Security-Policy (no inline script or
//! style), `X-Frame-Options: DENY`, `nosniff`, no referrer.
//!
//! **Boundary:** nothing here imports `lushan_store` (tidy checks it).

use crate::clock::now_ms;
use crate::http::{AppState, error::ApiError};
use crate::service::{Caller, ServiceError};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use lushan_portal::i18n::{Lang, Texts};
use lushan_portal::views::{Chrome, ErrorPage, Viewer};

mod cobuilder;
mod files;
mod forms;
mod jobs;
mod manage;
mod months;
mod operate;
mod profile;
mod session;
mod submit;
mod usage;

/// The session cookie: `__Host-` makes the browser refuse it unless it is
/// Secure, host-only and for `/` (browsers accept Secure cookies from
/// `http://localhost` and `127.0.0.1`).
const SESSION_COOKIE: &str = "__Host-lushan-session";
const LANG_COOKIE: &str = "lushan-lang";

/// A page or form: method, path, handler.
type Route = (&'static str, &'static str, MethodRouter<AppState>);

/// Every page and form of the portal: each area's routes. The one list
/// the router is built from and the tenancy matrix
/// (`tests/http/tenancy.rs`) is generated from, so a page added without a
/// case there fails that test.
fn table() -> Vec<Route> {
    let mut routes: Vec<Route> = vec![
        ("GET", lushan_portal::assets::css_path(), get(stylesheet)),
        ("GET", lushan_portal::assets::htmx_path(), get(htmx)),
    ];
    for area in [
        session::routes(),
        jobs::routes(),
        submit::routes(),
        usage::routes(),
        profile::routes(),
        files::routes(),
        manage::routes(),
        operate::routes(),
        cobuilder::routes(),
    ] {
        routes.extend(area);
    }
    routes
}

/// The portal's (method, path) pairs, as the router has them.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|(method, path, _)| (method, path)).collect()
}

/// The portal's routes, merged into the server's router.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (_, path, handler) in table() {
        router = router.route(path, handler);
    }
    router.layer(axum::middleware::from_fn(guard))
}

/// Who is asking, in which language, from where.
pub struct Visit {
    lang: Lang,
    /// The session token and the caller it authenticates, when signed in.
    session: Option<(String, Caller)>,
    /// The path and query, without `lang`, for the language switch.
    here: String,
    /// `?lang=` was given: remembered in a cookie.
    lang_asked: bool,
    /// The server serves users' files (the menu's link).
    files_served: bool,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Visit, Self::Rejection> {
        let asked = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang=")).map(|v| v.replace("%2D", "-")));
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => match state.services.authenticate(Some(&token), now_ms()).await {
                Ok(caller) => Some((token, caller)),
                // Expired, revoked, or the user disabled: signed out.
                Err(_) => None,
            },
            None => None,
        };
        // `?lang=`, the cookie, the user's setting, the browser's language.
        let remembered = cookie(&parts.headers, LANG_COOKIE).filter(|c| Lang::parse(c).is_some());
        let spoken = asked.as_deref().and_then(Lang::parse);
        let setting = match (spoken, &remembered, &session) {
            (None, None, Some((_, caller))) => state.services.my_language(caller).await.ok().flatten(),
            _ => None,
        };
        let lang = Lang::choose(
            asked.as_deref(),
            remembered.as_deref().or(setting.as_deref()),
            parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
        );
        let query: Vec<&str> = parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .collect();
        let path = parts.uri.path();
        let here = if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) };
        Ok(Visit {
            lang,
            session,
            here,
            lang_asked: Lang::parse(asked.as_deref().unwrap_or_default()).is_some(),
            files_served: state.services.serves_files(),
        })
    }
}

impl Visit {
    fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    fn chrome(&self) -> Chrome {
        let (user, csrf) = match &self.session {
            Some((token, caller)) => (
                Some(Viewer {
                    name: caller.user_name().to_owned(),
                    role: caller.role().as_str().to_owned(),
                    files: self.files_served,
                }),
                csrf_token(token),
            ),
            None => (None, String::new()),
        };
        Chrome::new(self.lang, user, csrf, self.here.clone())
    }

    /// The signed-in caller, if any.
    fn caller(&self) -> Option<&Caller> {
        self.session.as_ref().map(|(_, caller)| caller)
    }

    /// Renders a page, remembering a language asked for with `?lang=`.
    fn page(&self, status: StatusCode, html: Result<String, lushan_portal::RenderError>) -> Response {
        let mut response = match html {
            Ok(html) => (status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!("a portal page did not render: {err}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        };
        if self.lang_asked
            && let Ok(value) = HeaderValue::from_str(&format!(
                "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                self.lang.code()
            ))
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }

    /// A form whose key is not this session's: most often a page left open
    /// across a sign-out and sign-in, so the page says to reload it.
    fn stale_form(&self) -> Response {
        let page = ErrorPage {
            chrome: self.chrome(),
            message: self.t().error_stale_form.to_owned(),
            code: "stale_form".into(),
            request_id: crate::service::request_id().unwrap_or_default(),
        };
        self.page(StatusCode::FORBIDDEN, lushan_portal::Template::render(&page))
    }

    /// A service's refusal in the visitor's language: its HTTP status, the
    /// localized meaning (with the service's detail where it has one) and
    /// the stable error code.
    fn explain(&self, err: ServiceError) -> (StatusCode, String, String) {
        let code = err.code().to_owned();
        let api = ApiError::from(err);
        let (meaning, with_detail) = self.t().error(&code);
        let message = if with_detail { format!("{meaning}{}", api.message) } else { meaning.to_owned() };
        (api.status, message, code)
    }

    /// A service's refusal as a page in the visitor's language.
    fn error(&self, err: ServiceError) -> Response {
        let (status, message, code) = self.explain(err);
        let page = ErrorPage {
            chrome: self.chrome(),
            message,
            code,
            request_id: crate::service::request_id().unwrap_or_default(),
        };
        self.page(status, lushan_portal::Template::render(&page))
    }
}

/// A form posted by a signed-in visitor with this session's key: who
/// asks, in which language, and the form's fields. Anything else is
/// answered before the handler runs: not signed in, to the sign-in page; a
/// key that is not this session's (a page left open across a sign-out), the
/// page that says to reload. Every form of the portal but sign-in and
/// sign-out comes through it, so none can forget the check.
pub struct SignedForm {
    visit: Visit,
    caller: Caller,
    form: Vec<(String, String)>,
}

impl axum::extract::FromRequest<AppState> for SignedForm {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<SignedForm, Response> {
        let (mut parts, body) = request.into_parts();
        let visit = match Visit::from_request_parts(&mut parts, state).await {
            Ok(visit) => visit,
            Err(never) => match never {},
        };
        let Some(caller) = visit.caller().cloned() else {
            return Err(axum::response::Redirect::to("/login").into_response());
        };
        let request = axum::extract::Request::from_parts(parts, body);
        let axum::Form(form) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !csrf_ok(&visit, &field(&form, "csrf")) {
            return Err(visit.stale_form());
        }
        Ok(SignedForm { visit, caller, form })
    }
}

/// The value of cookie `name`, if the request has it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
}

/// The CSRF token of a session: HMAC-SHA256 keyed by the session token,
/// so it cannot be made without the cookie and dies with the session.
fn csrf_token(session: &str) -> String {
    use hmac::{KeyInit, Mac};
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(session.as_bytes()) else { return String::new() };
    mac.update(b"lushan portal form");
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a form's token is this session's, compared in constant time.
fn csrf_ok(visit: &Visit, given: &str) -> bool {
    let Some((token, _)) = &visit.session else { return false };
    let expected = csrf_token(token);
    expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Refuses unsafe requests another site sent (`Sec-Fetch-Site`, else
/// `Origin` against `Host`) and puts the security headers on every answer.
async fn guard(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let unsafe_method = !matches!(request.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let cross_site = match text("sec-fetch-site") {
        Some(site) => !matches!(site.as_str(), "same-origin" | "none"),
        None => match (text("origin"), text("host")) {
            (Some(origin), Some(host)) => {
                origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/')) != Some(host.as_str())
            }
            _ => false,
        },
    };
    let lang = Lang::choose(
        None,
        cookie(headers, LANG_COOKIE).as_deref(),
        headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    let mut response = if unsafe_method && cross_site {
        let t = lang.texts();
        let page = ErrorPage {
            chrome: Chrome::new(lang, None, String::new(), "/".into()),
            message: t.error_cross_site.to_owned(),
            code: "cross_site".into(),
            request_id: crate::service::request_id().unwrap_or_default(),
        };
        (StatusCode::FORBIDDEN, Html(lushan_portal::Template::render(&page).unwrap_or_default())).into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn htmx() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        lushan_portal::assets::HTMX,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        lushan_portal::assets::CSS,
    )
        .into_response()
}

/// A form's field (the first of that name), or empty. Forms are read as
/// name-value pairs: the portal's forms are few and flat.
fn field(form: &[(String, String)], name: &str) -> String {
    form.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone()).unwrap_or_default()
}

/// An RFC 3339 time of the API as `YYYY-MM-DD HH:MM` in the server's zone.
fn local_time(text: &str) -> String {
    match text.parse::<jiff::Timestamp>() {
        Ok(t) => t.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => text.to_owned(),
    }
}
