//! Grant requests: reviewers score them (`/reviews`), operators approve or
//! reject them (`/manage/grants`), as `lushan alloc review|approve|reject`.
//! Beside each request, the project's earlier grants: what it was awarded
//! and what it used.

use super::grant_view;
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::portal::forms::{Fields, page_number, page_number_of, paginate, refused, whole_number};
use crate::portal::{SignedForm, Visit, field};
use crate::service::{Caller, ServiceError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_portal::Template;
use lushan_portal::views::Choice;
use lushan_portal::views::manage::{Attempt, GrantPage, GrantView, GrantsPage, ReviewItem, ReviewsPage, UsageFigures};

const REVIEW_FIELDS: Fields = &[("score", &["score"]), ("comment", &["comment"])];
const APPROVE_FIELDS: Fields =
    &[("core_hours", &["core-hours"]), ("gpu_hours", &["gpu-hours"]), ("reason", &["reason"])];
const REJECT_FIELDS: Fields = &[("reason", &["reason", "say why"])];

pub(super) fn routes() -> Vec<crate::portal::Route> {
    vec![
        ("GET", "/reviews", get(reviews)),
        ("POST", "/reviews/{id}", post(review)),
        ("GET", "/manage/grants", get(grants)),
        ("GET", "/manage/grants/{id}", get(grant)),
        ("POST", "/manage/grants/{id}/{decision}", post(decide)),
    ]
}

/// A grant id from the path; anything else is a page saying so.
fn grant_id(visit: &Visit, text: &str) -> Result<i64, Box<Response>> {
    text.parse::<i64>().map_err(|_| {
        Box::new(visit.error(ServiceError::Invalid(format!(
            "`{}` is not a grant request's number",
            text.chars().take(32).collect::<String>()
        ))))
    })
}

/// The project's grants before `grant`, as the caller may see them.
async fn history(state: &AppState, visit: &Visit, caller: &Caller, grant: &GrantView) -> Vec<GrantView> {
    let now = now_ms();
    let earlier = state.services.list_grants(caller, None, Some(&grant.project)).await.unwrap_or_default();
    earlier.into_iter().filter(|g| g.id.0 < grant.id).map(|g| grant_view(visit.t(), to_api::grant(g, now))).collect()
}

/// What the request's project used in the past year, and that period
/// (`from – to`); `None` when nothing settled or the caller may not see it.
async fn usage(state: &AppState, visit: &Visit, caller: &Caller, id: i64) -> (Option<UsageFigures>, String) {
    let Ok((from_day, to_day)) = crate::http::api::reports::grant_usage_period(None, None) else {
        return (None, String::new());
    };
    let period = format!("{from_day} – {to_day}");
    let (Ok(from), Ok(to)) = (crate::service::day_start(&from_day, 0), crate::service::day_start(&to_day, 1)) else {
        return (None, period);
    };
    let row = match state.services.grant_project_usage(caller, id, from, to).await {
        Ok((_, Some(row))) => row,
        _ => return (None, period),
    };
    let report = to_api::usage_report("project", &from_day, &to_day, vec![row]);
    let figures = UsageFigures {
        jobs: report.total.jobs,
        core_hours: report.total.core_hours,
        gpu_hours: report.total.gpu_hours,
        charged: visit.lang.money(&report.total.cny_charged),
        su_used: report.total.su_used,
    };
    (Some(figures), period)
}

// ---- reviews ----

async fn reviews(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let page = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    let done_page = match page_number_of(&visit, &query, "done") {
        Ok(page) => page,
        Err(page) => return *page,
    };
    reviews_page(&state, &visit, (page, done_page), StatusCode::OK, Attempt::default()).await
}

/// `pages`: which page of the requests waiting, and of my past reviews.
async fn reviews_page(
    state: &AppState,
    visit: &Visit,
    pages: (usize, usize),
    status: StatusCode,
    attempt: Attempt,
) -> Response {
    let (page, done_page) = pages;
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let now = now_ms();
    let all = match state.services.list_grants(caller, None, None).await {
        Ok(all) => all,
        Err(err) => return visit.error(err),
    };
    let me = caller.user_name();
    let mut waiting = Vec::new();
    let mut done = Vec::new();
    for record in all {
        let grant = grant_view(t, to_api::grant(record, now));
        let mine = grant.reviews.iter().find(|r| r.reviewer == me).cloned();
        if mine.is_some() {
            let grant = grant.clone();
            let mine = mine.clone();
            done.push(ReviewItem { grant, usage: None, usage_period: String::new(), history: Vec::new(), mine });
        }
        if grant.requested() {
            waiting.push(ReviewItem { grant, usage: None, usage_period: String::new(), history: Vec::new(), mine });
        }
    }
    // Oldest request first: the one waiting longest is reviewed first.
    waiting.reverse();
    let (mut waiting, pager) = paginate(waiting, page, |n| format!("/reviews?page={n}&done={done_page}"));
    let (done, done_pager) = paginate(done, done_page, |n| format!("/reviews?page={page}&done={n}#my-reviews-title"));
    for item in &mut waiting {
        item.history = history(state, visit, caller, &item.grant).await;
        (item.usage, item.usage_period) = usage(state, visit, caller, item.grant.id).await;
    }
    let scores = (1..=5)
        .map(|s| Choice { value: s.to_string(), label: t.manage.score(s).to_owned(), selected: false })
        .collect();
    let view = ReviewsPage { chrome: visit.chrome(), waiting, done, scores, pager, done_pager, attempt };
    visit.page(status, Template::render(&view))
}

async fn review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let id = match grant_id(&visit, &id) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    let done = match whole_number("a score", &field(&form, "score")) {
        Ok(Some(score)) => state.services.review_grant(caller, id, score, &field(&form, "comment"), now_ms()).await,
        Ok(None) => Err(ServiceError::Invalid("choose a score from 1 to 5".into())),
        Err(err) => Err(err),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/reviews#grant-{id}")).into_response(),
        // Not the caller's to score, or no longer a request: the list no
        // longer has its form, so a page of its own says why.
        Err(err @ (ServiceError::NotFound { .. } | ServiceError::Forbidden(_) | ServiceError::StateConflict(_))) => {
            visit.error(err)
        }
        Err(err) => {
            let (status, attempt) = refused(&visit, &id.to_string(), REVIEW_FIELDS, form, err);
            reviews_page(&state, &visit, (1, 1), status, attempt).await
        }
    }
}

// ---- decisions ----

async fn grants(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let page = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    let t = visit.t();
    let now = now_ms();
    let chosen = field(&query, "state");
    let asked = Some(chosen.as_str()).filter(|s| !s.is_empty());
    let records = match state.services.list_grants(caller, asked, None).await {
        Ok(records) => records,
        Err(err) => return visit.error(err),
    };
    let rows = records.into_iter().map(|g| grant_view(t, to_api::grant(g, now))).collect();
    let (grants, pager) = paginate(rows, page, |n| format!("/manage/grants?state={chosen}&page={n}"));
    let mut states = vec![Choice { value: String::new(), label: t.manage.any_grant_state.to_owned(), selected: false }];
    for s in ["requested", "approved", "rejected"] {
        states.push(Choice { value: s.to_owned(), label: t.manage.grant_state(s).to_owned(), selected: false });
    }
    for choice in &mut states {
        choice.selected = choice.value == chosen;
    }
    let view = GrantsPage { chrome: visit.chrome(), grants, states, pager };
    visit.page(StatusCode::OK, Template::render(&view))
}

async fn grant(State(state): State<AppState>, visit: Visit, Path(id): Path<String>) -> Response {
    let id = match grant_id(&visit, &id) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    grant_page(&state, &visit, id, StatusCode::OK, Attempt::default()).await
}

async fn grant_page(state: &AppState, visit: &Visit, id: i64, status: StatusCode, attempt: Attempt) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let record = match state.services.grant(caller, id).await {
        Ok(record) => record,
        Err(err) => return visit.error(err),
    };
    let grant = grant_view(visit.t(), to_api::grant(record, now_ms()));
    let history = history(state, visit, caller, &grant).await;
    let (usage, usage_period) = usage(state, visit, caller, grant.id).await;
    let view = GrantPage { chrome: visit.chrome(), grant, usage, usage_period, history, attempt };
    visit.page(status, Template::render(&view))
}

async fn decide(
    State(state): State<AppState>,
    Path((id, decision)): Path<(String, String)>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let id = match grant_id(&visit, &id) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    let reason = field(&form, "reason");
    let done = match decision.as_str() {
        "approve" => {
            let hours = whole_number("core-hours", &field(&form, "core_hours"))
                .and_then(|core| Ok((core, whole_number("GPU-hours", &field(&form, "gpu_hours"))?)));
            match hours {
                Ok((core, gpu)) => state.services.decide_grant(caller, id, true, core, gpu, &reason, now_ms()).await,
                Err(err) => Err(err),
            }
        }
        "reject" => state.services.decide_grant(caller, id, false, None, None, &reason, now_ms()).await,
        other => return visit.error(ServiceError::not_found("action", other)),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/manage/grants/{id}")).into_response(),
        // Already decided: the page no longer has the forms, so a page of
        // its own says why.
        Err(err @ (ServiceError::NotFound { .. } | ServiceError::Forbidden(_) | ServiceError::StateConflict(_))) => {
            visit.error(err)
        }
        Err(err) => {
            let fields = if decision == "approve" { APPROVE_FIELDS } else { REJECT_FIELDS };
            let (status, attempt) = refused(&visit, &decision, fields, form, err);
            grant_page(&state, &visit, id, status, attempt).await
        }
    }
}
