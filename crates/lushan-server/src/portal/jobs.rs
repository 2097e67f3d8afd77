//! The home page, the job list, a job's page and what can be done to a job
//! from it (cancel, hold, release).

use super::forms::{kept_filters, page_number, page_window, pager};
use super::{SignedForm, Visit, field, local_time};
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::service::{JobSelection, ServiceError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_model::{JobId, JobState};
use lushan_portal::i18n::Texts;
use lushan_portal::views::{Choice, GrantRow, HomePage, JobPage, JobRow, JobsPage, WalletView};

/// How much of a job's output its page shows.
const OUTPUT_TAIL: u64 = 16 * 1024;
/// The current jobs the home page shows (the newest).
const HOME_JOBS: u64 = 10;

pub(super) fn routes() -> Vec<super::Route> {
    vec![
        ("GET", "/", get(home)),
        ("GET", "/jobs", get(jobs)),
        ("GET", "/jobs/{id}", get(job)),
        ("POST", "/jobs/{id}/{action}", post(job_action)),
    ]
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
    // The newest few: the whole list is a page of its own.
    let (jobs, active_total) = match state.services.list_jobs_page(caller, mine, 0, HOME_JOBS).await {
        Ok((jobs, total)) => (jobs.into_iter().rev().map(|j| job_row(t, &to_api::job(j, now))).collect(), total),
        Err(err) => return visit.error(err),
    };
    let role = t.role(me.role.as_str()).to_owned();
    let page = HomePage {
        chrome: visit.chrome(),
        display_name: me.display_name,
        role,
        wallet,
        grants,
        jobs,
        active_total,
        more_active: active_total > HOME_JOBS,
    };
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
    let page_number = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    // Whose, by name (as `squeue -A` and `-u` take them): one the caller
    // may not see, or that does not exist, selects nothing.
    let shown = |name: &str| field(&query, name).trim().chars().take(64).collect::<String>();
    let (project, user) = (shown("project"), shown("user"));
    let named = |text: &String| Some(text.clone()).filter(|t| !t.is_empty());
    let selection = JobSelection { states, user: named(&user), project: named(&project), jobs: None, array: None };
    let now = now_ms();
    let (offset, limit) = page_window(page_number);
    let (records, total) = match state.services.list_jobs_page(caller, selection, offset, limit).await {
        Ok(found) => found,
        Err(err) => return visit.error(err),
    };
    // Newest first, as people look for what they just did.
    let rows: Vec<JobRow> = records.into_iter().rev().map(|j| job_row(t, &to_api::job(j, now))).collect();
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let kept = kept_filters(&[("state", &chosen), ("project", &project), ("user", &user)]);
    let pager = pager(page_number, total, |n| format!("/jobs?page={n}{kept}"));
    let mut choices = vec![("active", t.active_only.to_owned()), ("all", t.any_state.to_owned())];
    for s in ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"] {
        choices.push((s, t.job_state(s).to_owned()));
    }
    let states = choices
        .into_iter()
        .map(|(value, label)| Choice { selected: value == chosen, value: value.to_owned(), label })
        .collect();
    let page = JobsPage { chrome: visit.chrome(), jobs: rows, states, project, user, pager };
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

async fn job(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
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
    let polling = api.end_time.is_none();
    let page = JobPage {
        chrome: visit.chrome(),
        can_cancel: pending || api.state == "RUNNING",
        can_hold: pending && !api.held,
        can_release: pending && api.held,
        job: job_row(t, &api),
        details,
        output: output.filter(|text| !text.is_empty()),
        polling,
    };
    match field(&query, "part").as_str() {
        "" => visit.page(StatusCode::OK, lushan_portal::Template::render(&page)),
        // The part htmx refreshes while the job waits or runs.
        "live" => visit.page(StatusCode::OK, lushan_portal::Template::render(&page.as_live())),
        other => visit.error(ServiceError::Invalid(format!(
            "`{}` is not a part of a job's page: live",
            other.chars().take(16).collect::<String>()
        ))),
    }
}

async fn job_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    SignedForm { visit, ref caller, form: _ }: SignedForm,
) -> Response {
    let id = match job_id(&visit, &id) {
        Ok(id) => id,
        Err(page) => return *page,
    };
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
