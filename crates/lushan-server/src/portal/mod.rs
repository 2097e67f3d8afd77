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
use crate::http::listener::Peer;
use crate::http::{AppState, error::ApiError, to_api};
use crate::service::{Caller, JobSelection, ServiceError};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Form, Router};
use lushan_model::{JobId, JobState};
use lushan_portal::i18n::{Lang, Texts};
use lushan_portal::views::{
    Choice, Chrome, ErrorPage, GrantRow, HomePage, JobPage, JobRow, JobsPage, LoginPage, Pager, WalletView,
};

/// The session cookie: `__Host-` makes the browser refuse it unless it is
/// Secure, host-only and for `/` (browsers accept Secure cookies from
/// `http://localhost` and `127.0.0.1`).
const SESSION_COOKIE: &str = "__Host-lushan-session";
const LANG_COOKIE: &str = "lushan-lang";
/// How much of a job's output its page shows.
const OUTPUT_TAIL: u64 = 16 * 1024;
/// Jobs on one page of the list.
const JOBS_PER_PAGE: usize = 50;

/// Every page and form of the portal: method, path and handler. The one
/// list the router is built from and the tenancy matrix
/// (`tests/http/tenancy.rs`) is generated from, so a page added without a
/// case there fails that test.
fn table() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("GET", "/", get(home)),
        ("GET", "/login", get(login_page)),
        ("POST", "/login", post(login)),
        ("POST", "/logout", post(logout)),
        ("GET", "/jobs", get(jobs)),
        ("GET", "/jobs/{id}", get(job)),
        ("POST", "/jobs/{id}/{action}", post(job_action)),
        ("GET", lushan_portal::assets::css_path(), get(stylesheet)),
    ]
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
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Visit, Self::Rejection> {
        let asked = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang=")).map(|v| v.replace("%2D", "-")));
        let lang = Lang::choose(
            asked.as_deref(),
            cookie(&parts.headers, LANG_COOKIE).as_deref(),
            parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
        );
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => match state.services.authenticate(Some(&token), now_ms()).await {
                Ok(caller) => Some((token, caller)),
                // Expired, revoked, or the user disabled: signed out.
                Err(_) => None,
            },
            None => None,
        };
        let query: Vec<&str> = parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .collect();
        let path = parts.uri.path();
        let here = if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) };
        Ok(Visit { lang, session, here, lang_asked: Lang::parse(asked.as_deref().unwrap_or_default()).is_some() })
    }
}

impl Visit {
    fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    fn chrome(&self) -> Chrome {
        let (user, csrf) = match &self.session {
            Some((token, caller)) => (Some(caller.user_name().to_owned()), csrf_token(token)),
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

    /// A service's refusal as a page in the visitor's language.
    fn error(&self, err: ServiceError) -> Response {
        let code = err.code().to_owned();
        let api = ApiError::from(err);
        let (meaning, with_detail) = self.t().error(&code);
        let message = if with_detail { format!("{meaning}{}", api.message) } else { meaning.to_owned() };
        let page = ErrorPage {
            chrome: self.chrome(),
            message,
            code,
            request_id: crate::service::request_id().unwrap_or_default(),
        };
        self.page(api.status, lushan_portal::Template::render(&page))
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
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
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

async fn login_page(visit: Visit) -> Response {
    if visit.session.is_some() {
        return Redirect::to("/").into_response();
    }
    let page = LoginPage { chrome: visit.chrome(), error: None, user_name: String::new() };
    visit.page(StatusCode::OK, lushan_portal::Template::render(&page))
}

/// A form's field (the first of that name), or empty. Forms are read as
/// name-value pairs: the portal's forms are few and flat.
fn field(form: &[(String, String)], name: &str) -> String {
    form.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone()).unwrap_or_default()
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

/// An API job as a row of the portal's tables.
fn job_row(t: &'static Texts, job: &lushan_api::Job) -> JobRow {
    JobRow {
        id: job.job_id,
        shown_id: match (job.array_job_id, job.array_task_id) {
            (Some(array), Some(task)) => format!("{array}_{task}"),
            _ => job.job_id.to_string(),
        },
        name: job.name.clone(),
        user: job.user.clone(),
        project: job.project.clone(),
        partition: job.partition.clone(),
        state: job.state.clone(),
        state_text: t.job_state(&job.state).to_owned(),
        reason: if job.state == "PENDING" { job.reason.clone() } else { job.node_list.clone() },
        nodes: job.nodes,
        cpus: job.cpus,
        elapsed: lushan_model::format_elapsed(job.elapsed_secs),
    }
}

/// An RFC 3339 time of the API as `YYYY-MM-DD HH:MM` in the server's zone.
fn local_time(text: &str) -> String {
    match text.parse::<jiff::Timestamp>() {
        Ok(t) => t.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => text.to_owned(),
    }
}

async fn home(State(state): State<AppState>, visit: Visit) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let now = now_ms();
    let t = visit.t();
    let me = match state.services.me(caller).await {
        Ok(me) => me,
        Err(err) => return visit.error(err),
    };
    // Tenant admins and operators see the wallet; members are told who does.
    let wallet = state.services.balance(caller, None).await.ok().map(|balance| {
        let w = to_api::wallet(balance);
        WalletView {
            balance: visit.lang.money(&w.balance),
            held: visit.lang.money(&w.held),
            available: visit.lang.money(&w.available),
            credit_limit: visit.lang.money(&w.credit_limit),
        }
    });
    let grants = match state.services.list_grants(caller, Some("approved"), None).await {
        Ok(grants) => grants
            .into_iter()
            .map(|g| to_api::grant(g, now))
            .map(|g| GrantRow {
                project: g.project,
                awarded: g.awarded_su.unwrap_or_default(),
                left: g.remaining_su,
                ends: g.to,
            })
            .collect(),
        Err(err) => return visit.error(err),
    };
    let mine = JobSelection {
        states: Some(vec![JobState::Pending, JobState::Running]),
        user: Some(caller.user_name().to_owned()),
        project: None,
        jobs: None,
        array: None,
    };
    let jobs = match state.services.list_jobs(caller, mine).await {
        Ok(jobs) => jobs.into_iter().map(|j| job_row(t, &to_api::job(j, now))).collect(),
        Err(err) => return visit.error(err),
    };
    let role = t.role(me.role.as_str()).to_owned();
    let page = HomePage { chrome: visit.chrome(), display_name: me.display_name, role, wallet, grants, jobs };
    visit.page(StatusCode::OK, lushan_portal::Template::render(&page))
}

async fn jobs(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let chosen = Some(field(&query, "state")).filter(|s| !s.is_empty()).unwrap_or_else(|| "active".into());
    let states = match chosen.as_str() {
        "all" => None,
        "active" => Some(vec![JobState::Pending, JobState::Running]),
        other => match other.parse::<JobState>() {
            Ok(one) => Some(vec![one]),
            Err(err) => return visit.error(err.into()),
        },
    };
    let page_number = match field(&query, "page").as_str() {
        "" => 1,
        text => match text.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return visit.error(ServiceError::Invalid(format!(
                    "`{}` is not a page number",
                    text.chars().take(16).collect::<String>()
                )));
            }
        },
    };
    let selection = JobSelection { states, user: None, project: None, jobs: None, array: None };
    let now = now_ms();
    let mut records = match state.services.list_jobs(caller, selection).await {
        Ok(records) => records,
        Err(err) => return visit.error(err),
    };
    // Newest first, as people look for what they just did; one page of them.
    records.reverse();
    let pages = records.len().div_ceil(JOBS_PER_PAGE).max(1);
    let rows: Vec<JobRow> = records
        .into_iter()
        .skip((page_number - 1).saturating_mul(JOBS_PER_PAGE))
        .take(JOBS_PER_PAGE)
        .map(|j| job_row(t, &to_api::job(j, now)))
        .collect();
    let link = |n: usize| format!("/jobs?state={chosen}&page={n}");
    let pager = (pages > 1).then(|| Pager {
        page: page_number,
        pages,
        newer: (page_number > 1).then(|| link(page_number - 1)),
        older: (page_number < pages).then(|| link(page_number + 1)),
    });
    let mut choices = vec![("active", t.active_only.to_owned()), ("all", t.any_state.to_owned())];
    for s in ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"] {
        choices.push((s, t.job_state(s).to_owned()));
    }
    let states = choices
        .into_iter()
        .map(|(value, label)| Choice { selected: value == chosen, value: value.to_owned(), label })
        .collect();
    let page = JobsPage { chrome: visit.chrome(), jobs: rows, states, pager };
    visit.page(StatusCode::OK, lushan_portal::Template::render(&page))
}

/// A job id from the path; anything else is a page saying so.
fn job_id(visit: &Visit, text: &str) -> Result<i64, Box<Response>> {
    text.parse::<i64>().map_err(|_| {
        Box::new(
            visit.error(ServiceError::Invalid(format!(
                "`{}` is not a job id",
                text.chars().take(32).collect::<String>()
            ))),
        )
    })
}

async fn job(State(state): State<AppState>, visit: Visit, Path(id): Path<String>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let id = match job_id(&visit, &id) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    let t = visit.t();
    let now = now_ms();
    let record = match state.services.job(caller, id).await {
        Ok(record) => record,
        Err(err) => return visit.error(err),
    };
    let api = to_api::job(record, now);
    let started = api.start_time.is_some();
    // The end of the output: where it ends first, then the last part.
    let output = if started {
        match state.services.job_output(caller, id, false, u64::MAX, 1).await {
            Ok((_, end)) => {
                let from = end.size.saturating_sub(OUTPUT_TAIL);
                state
                    .services
                    .job_output(caller, id, false, from, OUTPUT_TAIL)
                    .await
                    .ok()
                    .map(|(_, chunk)| String::from_utf8_lossy(&chunk.data).into_owned())
            }
            // A refused output (not a regular file, not the user's) is
            // shown as none; the API says why.
            Err(_) => None,
        }
    } else {
        None
    };
    let details = vec![
        (t.user.to_owned(), api.user.clone()),
        (t.project.to_owned(), api.project.clone()),
        (t.site.to_owned(), api.site.clone()),
        (t.partition.to_owned(), api.partition.clone()),
        (t.cpus.to_owned(), api.cpus.to_string()),
        (t.time_limit.to_owned(), api.time_limit.clone()),
        (t.submitted.to_owned(), local_time(&api.submit_time)),
        (t.started.to_owned(), api.start_time.as_deref().map(local_time).unwrap_or_default()),
        (t.ended.to_owned(), api.end_time.as_deref().map(local_time).unwrap_or_default()),
        (t.exit_code.to_owned(), api.exit_code.clone()),
        (t.work_dir.to_owned(), api.workdir.clone()),
    ];
    let pending = api.state == "PENDING";
    let page = JobPage {
        chrome: visit.chrome(),
        can_cancel: pending || api.state == "RUNNING",
        can_hold: pending && !api.held,
        can_release: pending && api.held,
        job: job_row(t, &api),
        details,
        output: output.filter(|text| !text.is_empty()),
    };
    visit.page(StatusCode::OK, lushan_portal::Template::render(&page))
}

async fn job_action(
    State(state): State<AppState>,
    visit: Visit,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let id = match job_id(&visit, &id) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    if !csrf_ok(&visit, &field(&form, "csrf")) {
        return visit.stale_form();
    }
    let now = now_ms();
    let done = match action.as_str() {
        "cancel" => state.services.cancel_job(caller, id, now).await,
        "hold" => state.services.hold_job(caller, id, true, now).await,
        "release" => state.services.hold_job(caller, id, false, now).await,
        other => Err(ServiceError::not_found("action", other)),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/jobs/{}", JobId(id))).into_response(),
        Err(err) => visit.error(err),
    }
}
