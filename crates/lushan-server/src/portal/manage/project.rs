//! A project's page for its PI, managers and members: members and their
//! roles, adding and removing them, their limits in the project, the
//! project's grants with their reviews and burn-down, and the form
//! requesting a grant or a renewal (`lushan project`, `lushan admin limits
//! set --project P --user U` and `lushan alloc request` in the browser).

use super::grant_view;
use super::people::project_row;
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::portal::forms::{Fields, optional, page_number, paginate, refused, whole_number};
use crate::portal::{SignedForm, Visit, field, local_time};
use crate::service::{GrantRequestInput, LimitTarget, LimitValues, ServiceError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_model::ProjectRole;
use lushan_portal::Template;
use lushan_portal::views::Choice;
use lushan_portal::views::manage::{Attempt, BurnDown, BurnRow, LimitRow, MemberLimitRow, MemberRow, ProjectPage};

const MEMBER_FIELDS: Fields = &[("role", &["project role", "one pi"]), ("user", &["user"])];
const LIMIT_FIELDS: Fields = &[
    ("max_running_jobs", &["max_running_jobs"]),
    ("max_cpus", &["max_cpus"]),
    ("max_gpus", &["max_gpus"]),
    ("max_submitted", &["max_submitted"]),
];
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
        ("POST", "/projects/{name}/members/{user}/limits", post(set_member_limits)),
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
    let api = to_api::project(&state.services, record);
    let records = match state.services.list_grants(caller, None, Some(&api.name)).await {
        Ok(records) => records,
        Err(err) => return visit.error(err),
    };
    let mut burn_downs = Vec::new();
    for record in &records {
        let grant = to_api::grant(record.clone(), now);
        if grant.state != "approved" {
            continue;
        }
        match burn_down(state, visit, record, &grant, now).await {
            Ok(burn) => burn_downs.push(burn),
            // Plain members see the grants, not the project's usage.
            Err(ServiceError::Forbidden(_)) => break,
            Err(err) => return visit.error(err),
        }
    }
    let grants = records.into_iter().map(|g| grant_view(t, to_api::grant(g, now))).collect();
    let limits = match project_limits(state, visit, &api).await {
        Ok(limits) => limits,
        Err(err) => return visit.error(err),
    };
    let member_limits = match member_limits(state, visit, &api.name, &attempt).await {
        Ok(rows) => rows,
        Err(err) => return visit.error(err),
    };
    let usage_tables = match project_usage(state, visit, &api.name).await {
        Ok(tables) => tables,
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
        burn_downs,
        limits,
        member_limits,
        usage_tables,
    };
    visit.page(status, Template::render(&view))
}

/// Parts of a grant's period on its burn-down.
const BURN_PARTS: i64 = 10;
/// The recent window the run-out forecast's rate is measured over.
const RECENT_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// A day as `YYYY-MM-DD` in the server's zone.
fn day(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d").to_string(),
        Err(_) => ms.to_string(),
    }
}

/// Service units as the grants' tables write them (core-hours, two decimals).
fn units(core_seconds: i64) -> String {
    lushan_ledger::Units(core_seconds).to_string()
}

/// A grant's burn-down: the units used by the end of each part of its
/// period (from `grant_units_used`: what the settled jobs charged to this
/// grant, not to the project's other grants; never more than the grant's
/// own record says it used), the holds now shaded
/// on the current part, and the day the units left (after the holds) run
/// out at the rate of the last 30 days (whole days): "not at this rate"
/// when that is after the grant ends.
async fn burn_down(
    state: &AppState,
    visit: &Visit,
    record: &crate::service::GrantRecord,
    grant: &lushan_api::Grant,
    now: i64,
) -> Result<BurnDown, ServiceError> {
    let Some(caller) = visit.caller() else { return Err(ServiceError::Forbidden("signed out".into())) };
    let m = visit.t().manage;
    let (start, end) = (record.starts_at, record.ends_at.max(record.starts_at + 1));
    let used = record.used().max(0);
    let held = record.held.max(0);
    let awarded = record.awarded.unwrap_or(0);
    let used_by = |units: i64| units.clamp(0, used);
    let mut values = Vec::new();
    let mut stack = Vec::new();
    let mut rows = Vec::new();
    for i in 0..BURN_PARTS {
        let part_start = start + (end - start) * i / BURN_PARTS;
        let part_end = start + (end - start) * (i + 1) / BURN_PARTS;
        let until = day(part_end - 1);
        // Every other part named under the axis, so that labels never
        // overlap on a phone; the table names them all.
        let label = if i % 2 == 0 { until.get(5..).unwrap_or(&until).to_owned() } else { String::new() };
        if part_start >= now {
            values.push((label, 0.0, String::new()));
            stack.push((0.0, String::new()));
            rows.push(BurnRow { until, used: String::new(), held: String::new() });
        } else if part_end > now {
            // The current part: what the grant's record says now, and its holds.
            values.push((label, used as f64, units(used)));
            stack.push((held as f64, units(held)));
            rows.push(BurnRow { until, used: units(used), held: units(held) });
        } else {
            let by_then = if part_end > start {
                used_by(state.services.grant_units_used(caller, record.id.0, start, part_end).await?)
            } else {
                0
            };
            values.push((label, by_then as f64, units(by_then)));
            stack.push((0.0, String::new()));
            rows.push(BurnRow { until, used: units(by_then), held: String::new() });
        }
    }
    // The recent rate, in whole days.
    let window_start = start.max(now - RECENT_DAYS * DAY_MS);
    let days = ((now - window_start) / DAY_MS).max(1);
    let recent = if now > window_start {
        used_by(state.services.grant_units_used(caller, record.id.0, window_start, now).await?)
    } else {
        0
    };
    let left = record.remaining.max(0);
    let forecast = if now >= record.ends_at {
        m.burn_ended.to_owned()
    } else if left == 0 {
        day(now)
    } else if recent == 0 {
        m.burn_no_use.to_owned()
    } else {
        // Days until the units left are gone: left / (recent / days), rounded up.
        let until = (i128::from(left) * i128::from(days) + i128::from(recent) - 1) / i128::from(recent);
        let at = i128::from(now) + until * i128::from(DAY_MS);
        if at >= i128::from(record.ends_at) { m.burn_not_at_this_rate.to_owned() } else { day(at as i64) }
    };
    let figures: Vec<String> =
        rows.iter().filter(|r| !r.used.is_empty()).map(|r| format!("{}: {}", r.until, r.used)).collect();
    let desc =
        format!("{}{}{}{}{}", m.burn_desc_before, figures.join("; "), m.burn_desc_held, units(held), m.burn_desc_after);
    let chart = lushan_portal::chart::Chart::stacked(
        &format!("chart-burn-{}", record.id.0),
        format!("{} · {} {}", m.burn_chart, m.grant_id, record.id.0),
        desc,
        &values,
        &stack,
        Some(awarded as f64),
        units(awarded),
    );
    Ok(BurnDown {
        grant_id: record.id.0,
        from: grant.from.clone(),
        to: grant.to.clone(),
        awarded: units(awarded),
        used: units(used),
        held: units(held),
        left: units(left),
        rate: units(recent / days),
        forecast,
        chart,
        rows,
    })
}

/// Each member's limits in the project (`member_limits`): what is set, or
/// what was typed in the row's refused form, and a form where the caller
/// may change them.
async fn member_limits(
    state: &AppState,
    visit: &Visit,
    project: &str,
    attempt: &Attempt,
) -> Result<Vec<MemberLimitRow>, ServiceError> {
    let Some(caller) = visit.caller() else { return Ok(Vec::new()) };
    let t = visit.t();
    let shown = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    Ok(state
        .services
        .member_limits(caller, project)
        .await?
        .into_iter()
        .map(|m| {
            let form = format!("limits-{}", m.user);
            let typed = attempt.form == form;
            let value = |name: &str, set: Option<i64>| if typed { attempt.v(name).to_owned() } else { shown(set) };
            MemberLimitRow {
                running: value("max_running_jobs", m.values.max_running_jobs),
                cpus: value("max_cpus", m.values.max_cpus),
                gpus: value("max_gpus", m.values.max_gpus),
                submitted: value("max_submitted", m.values.max_submitted),
                role_text: t.manage.project_role(m.role.as_str()).to_owned(),
                may_set: m.may_set,
                user: m.user,
                form,
            }
        })
        .collect())
}

/// The project's limits and its members' in every project, as
/// `list_limits` lets the caller see them; only operators set them
/// (`set_limits`).
async fn project_limits(
    state: &AppState,
    visit: &Visit,
    project: &lushan_api::Project,
) -> Result<Vec<LimitRow>, ServiceError> {
    let Some(caller) = visit.caller() else { return Ok(Vec::new()) };
    let m = visit.t().manage;
    let limits = state.services.list_limits(caller).await?;
    Ok(limits
        .into_iter()
        .map(to_api::limit)
        .filter(|l| match l.scope.as_str() {
            "project" => l.name == project.name,
            "user" => project.members.iter().any(|member| member.user == l.name),
            // Members' limits in a project have their own table.
            _ => false,
        })
        .map(|l| LimitRow {
            on: if l.scope == "project" { m.limit_project.to_owned() } else { m.limit_user.to_owned() },
            name: l.name,
            running: l.max_running_jobs,
            cpus: l.max_cpus,
            gpus: l.max_gpus,
            submitted: l.max_submitted,
        })
        .collect())
}

/// Usage by member and by partition of the project's jobs over the last
/// six months, for its PI and managers: `usage_report` narrowed to the
/// project (`GET /api/v1/reports/usage?project=`), as on the usage page.
async fn project_usage(
    state: &AppState,
    visit: &Visit,
    project: &str,
) -> Result<Vec<lushan_portal::views::usage::UsageTable>, ServiceError> {
    let Some(caller) = visit.caller() else { return Ok(Vec::new()) };
    let manages = state
        .services
        .my_memberships(caller)
        .await?
        .iter()
        .any(|(name, role)| name == project && matches!(role, ProjectRole::Pi | ProjectRole::Manager));
    if !manages {
        return Ok(Vec::new());
    }
    let u = visit.t().usage;
    let (from, to, periods) = crate::portal::months::months(visit, &[]);
    let Ok(periods) = periods else { return Ok(Vec::new()) };
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else { return Ok(Vec::new()) };
    let mut tables = Vec::new();
    for by in ["user", "partition"] {
        let rows = state.services.usage_report(caller, by, Some(project), first.from, last.to).await?;
        let report = to_api::usage_report(by, &from, &to, rows);
        let name = u.dimension(by).to_owned();
        tables.push(lushan_portal::views::usage::UsageTable {
            id: format!("project-usage-by-{by}"),
            title: format!("{}{name} ({from} – {to})", u.breakdown_by),
            first_column: name,
            rows: report.rows.iter().map(|r| crate::portal::usage::line(visit, r.key.clone(), r)).collect(),
            total: Some(crate::portal::usage::line(visit, u.total.to_owned(), &report.total)),
        });
    }
    Ok(tables)
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
    let fields = match form_name {
        "member" => MEMBER_FIELDS,
        "grant" => GRANT_FIELDS,
        _ => LIMIT_FIELDS,
    };
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

/// A member's limits in the project, from their row's form (an empty box
/// is no limit). Refused values show beside their box; a caller who may
/// not set them gets the refusal's page.
async fn set_member_limits(
    State(state): State<AppState>,
    Path((name, user)): Path<(String, String)>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let form_name = format!("limits-{user}");
    let values = (|| -> Result<LimitValues, ServiceError> {
        Ok(LimitValues {
            max_running_jobs: whole_number("max_running_jobs", &field(&form, "max_running_jobs"))?,
            max_cpus: whole_number("max_cpus", &field(&form, "max_cpus"))?,
            max_gpus: whole_number("max_gpus", &field(&form, "max_gpus"))?,
            max_submitted: whole_number("max_submitted", &field(&form, "max_submitted"))?,
        })
    })();
    let done = match values {
        Ok(values) => {
            let target = LimitTarget::Member { project: name.clone(), user };
            state.services.set_limits(caller, target, values, now_ms()).await
        }
        Err(err) => Err(err),
    };
    match done {
        Ok(limit) => {
            let project = limit.project.unwrap_or(name);
            Redirect::to(&format!("/projects/{project}#member-limits-title")).into_response()
        }
        Err(err @ (ServiceError::Forbidden(_) | ServiceError::NotFound { what: "member", .. })) => visit.error(err),
        Err(err) => refused_on_page(&state, &visit, &name, &form_name, form, err).await,
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
