//! A project's page for its PI, managers and members: members and their
//! roles, adding and removing them, the project's grants with their
//! reviews, and the form requesting a grant or a renewal (`lushan project`
//! and `lushan alloc request` in the browser).

use super::people::project_row;
use super::{Fields, grant_view, optional, page_number, paginate, refused, whole_number};
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::portal::{SignedForm, Visit, field, local_time};
use crate::service::{GrantRequestInput, ServiceError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_model::ProjectRole;
use lushan_portal::Template;
use lushan_portal::views::Choice;
use lushan_portal::views::manage::{Attempt, MemberRow, ProjectPage};

const MEMBER_FIELDS: Fields = &[("role", &["project role", "one pi"]), ("user", &["user"])];
const GRANT_FIELDS: Fields = &[
    ("core_hours", &["core-hours"]),
    ("gpu_hours", &["gpu-hours"]),
    ("reason", &["--reason"]),
    ("to", &["--to "]),
    ("partition", &["partition"]),
    ("site", &["site"]),
    ("renews", &["grant ", "renewed"]),
];

pub(super) fn routes() -> Vec<crate::portal::Route> {
    vec![
        ("GET", "/projects/{name}", get(project)),
        ("POST", "/projects/{name}/members", post(add_member)),
        ("POST", "/projects/{name}/members/{user}/remove", post(remove_member)),
        ("POST", "/projects/{name}/grants", post(request_grant)),
    ]
}

async fn project(
    State(state): State<AppState>,
    visit: Visit,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let page = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    project_page(&state, &visit, &name, page, StatusCode::OK, Attempt::default()).await
}

async fn project_page(
    state: &AppState,
    visit: &Visit,
    name: &str,
    page: usize,
    status: StatusCode,
    attempt: Attempt,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let now = now_ms();
    let record = match state.services.project(caller, name).await {
        Ok(record) => record,
        Err(err) => return visit.error(err),
    };
    let api = to_api::project(record);
    let grants = match state.services.list_grants(caller, None, Some(&api.name)).await {
        Ok(grants) => grants.into_iter().map(|g| grant_view(t, to_api::grant(g, now))).collect(),
        Err(err) => return visit.error(err),
    };
    let rows: Vec<MemberRow> = api
        .members
        .iter()
        .map(|m| {
            let role = super::people::serde_plain(&m.role);
            MemberRow {
                user: m.user.clone(),
                display_name: m.display_name.clone(),
                role_text: t.manage.project_role(&role).to_owned(),
                role,
                added: local_time(&m.added_at),
            }
        })
        .collect();
    let link_name = api.name.clone();
    let (members, pager) = paginate(rows, page, |n| format!("/projects/{link_name}?page={n}"));
    let member_roles = [ProjectRole::Member, ProjectRole::Manager]
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_owned(),
            label: t.manage.project_role(r.as_str()).to_owned(),
            selected: false,
        })
        .collect();
    let view = ProjectPage {
        chrome: visit.chrome(),
        project: project_row(&api),
        members,
        grants,
        member_roles,
        pager,
        attempt,
    };
    visit.page(status, Template::render(&view))
}

/// A refused form of a project's page: a project the caller may not see
/// stays a "not found" page; other refusals show the page with the reason.
async fn refused_on_page(
    state: &AppState,
    visit: &Visit,
    name: &str,
    form_name: &str,
    form: Vec<(String, String)>,
    err: ServiceError,
) -> Response {
    if matches!(&err, ServiceError::NotFound { what: "project", .. }) {
        return visit.error(err);
    }
    let fields = if form_name == "member" { MEMBER_FIELDS } else { GRANT_FIELDS };
    let (status, attempt) = refused(visit, form_name, fields, form, err);
    project_page(state, visit, name, 1, status, attempt).await
}

async fn add_member(
    State(state): State<AppState>,
    Path(name): Path<String>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let role = match optional(field(&form, "role")).map(|r| r.parse::<ProjectRole>()).transpose() {
        Ok(role) => role,
        Err(err) => return refused_on_page(&state, &visit, &name, "member", form, err.into()).await,
    };
    let user = field(&form, "user");
    match state.services.add_member(caller, &name, user.trim(), role, now_ms()).await {
        Ok((project, _)) => Redirect::to(&format!("/projects/{}", project.name)).into_response(),
        Err(err) => refused_on_page(&state, &visit, &name, "member", form, err).await,
    }
}

async fn remove_member(
    State(state): State<AppState>,
    Path((name, user)): Path<(String, String)>,
    SignedForm { visit, ref caller, form: _ }: SignedForm,
) -> Response {
    match state.services.remove_member(caller, &name, &user, now_ms()).await {
        Ok((project, _)) => Redirect::to(&format!("/projects/{}", project.name)).into_response(),
        Err(err) => visit.error(err),
    }
}

async fn request_grant(
    State(state): State<AppState>,
    Path(name): Path<String>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let numbers = (|| -> Result<(i64, i64, Option<i64>), ServiceError> {
        let core = whole_number("core-hours", &field(&form, "core_hours"))?.unwrap_or(0);
        let gpu = whole_number("GPU-hours", &field(&form, "gpu_hours"))?.unwrap_or(0);
        let renews = whole_number("the grant renewed", &field(&form, "renews"))?;
        Ok((core, gpu, renews))
    })();
    let (core_hours, gpu_hours, renews) = match numbers {
        Ok(numbers) => numbers,
        Err(err) => return refused_on_page(&state, &visit, &name, "grant", form, err).await,
    };
    let input = GrantRequestInput {
        project: name.clone(),
        core_hours,
        gpu_hours,
        from: field(&form, "from"),
        to: field(&form, "to"),
        reason: field(&form, "reason"),
        site: optional(field(&form, "site")).map(|s| s.trim().to_owned()),
        partition: optional(field(&form, "partition")).map(|p| p.trim().to_owned()),
        renews,
    };
    match state.services.request_grant(caller, input, now_ms()).await {
        Ok(grant) => Redirect::to(&format!("/projects/{}#grants-title", grant.project_name)).into_response(),
        Err(err) => refused_on_page(&state, &visit, &name, "grant", form, err).await,
    }
}
