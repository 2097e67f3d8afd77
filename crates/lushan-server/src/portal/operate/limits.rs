//! `/operate/limits`: limits per project and per user (list, set, clear),
//! QOS (list, add or change its priority) and a partition's priority
//! (`lushan admin limits|qos|partition-priority`).

use super::{number, site_and_partition, site_choices};
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::portal::SignedForm;
use crate::portal::forms::{Fields, page_number, paginate, refused, whole_number};
use crate::portal::{Visit, field, local_time};
use crate::service::{LimitTarget, LimitValues, ServiceError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_portal::Template;
use lushan_portal::views::Choice;
use lushan_portal::views::manage::Attempt;
use lushan_portal::views::operate::{LimitRow, LimitsPage, QosRow};

const LIMIT_FIELDS: Fields = &[
    ("max_running_jobs", &["max_running_jobs"]),
    ("max_cpus", &["max_cpus"]),
    ("max_gpus", &["max_gpus"]),
    ("max_submitted", &["max_submitted"]),
    ("scope", &["scope", "`project` or a `user`"]),
    ("name", &["project", "user"]),
];
const QOS_FIELDS: Fields =
    &[("description", &["description"]), ("priority", &["priority", "whole number"]), ("name", &["qos"])];
const PRIORITY_FIELDS: Fields = &[("priority", &["priority", "whole number"]), ("target", &["site", "partition"])];

pub(super) fn routes() -> Vec<crate::portal::Route> {
    vec![
        ("GET", "/operate/limits", get(limits)),
        ("POST", "/operate/limits", post(set_limits)),
        ("POST", "/operate/qos", post(set_qos)),
        ("POST", "/operate/partition-priority", post(set_partition_priority)),
    ]
}

async fn limits(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let page = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    limits_page(&state, &visit, page, StatusCode::OK, Attempt::default()).await
}

async fn limits_page(state: &AppState, visit: &Visit, page: usize, status: StatusCode, attempt: Attempt) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let records = match state.services.list_limits(caller).await {
        Ok(records) => records,
        Err(err) => return visit.error(err),
    };
    let qos = match state.services.list_qos().await {
        Ok(qos) => qos,
        Err(err) => return visit.error(err),
    };
    let shown = |v: Option<i64>| v.map_or_else(|| t.operate.no_limit.to_owned(), |v| v.to_string());
    let rows = records
        .into_iter()
        .map(|record| {
            let l = to_api::limit(record);
            LimitRow {
                scope_label: if l.scope == "user" { t.operate.scope_user } else { t.operate.scope_project }.to_owned(),
                scope: l.scope,
                name: l.name,
                max_running_jobs: shown(l.max_running_jobs),
                max_cpus: shown(l.max_cpus),
                max_gpus: shown(l.max_gpus),
                max_submitted: shown(l.max_submitted),
                updated: local_time(&l.updated_at),
            }
        })
        .collect();
    let (limits, pager) = paginate(rows, page, |n| format!("/operate/limits?page={n}"));
    let qos = qos
        .into_iter()
        .map(|q| {
            let q = to_api::qos(q);
            QosRow { name: q.name, priority: q.priority, description: q.description }
        })
        .collect();
    let view = LimitsPage {
        chrome: visit.chrome(),
        limits,
        pager,
        qos,
        scopes: [("project", visit.t().operate.scope_project), ("user", visit.t().operate.scope_user)]
            .into_iter()
            .map(|(value, label)| Choice { value: value.to_owned(), label: label.to_owned(), selected: false })
            .collect(),
        sites: site_choices(state, visit, false).await,
        attempt,
    };
    visit.page(status, Template::render(&view))
}

async fn answer(
    state: &AppState,
    visit: &Visit,
    form_name: &str,
    fields: Fields,
    form: Vec<(String, String)>,
    done: Result<(), ServiceError>,
) -> Response {
    match done {
        Ok(()) => Redirect::to("/operate/limits").into_response(),
        Err(err) => {
            let (status, attempt) = refused(visit, form_name, fields, form, err);
            limits_page(state, visit, 1, status, attempt).await
        }
    }
}

/// The four limits typed in the form; empty is no limit.
fn limit_values(form: &[(String, String)]) -> Result<LimitValues, ServiceError> {
    Ok(LimitValues {
        max_running_jobs: whole_number("max_running_jobs", &field(form, "max_running_jobs"))?,
        max_cpus: whole_number("max_cpus", &field(form, "max_cpus"))?,
        max_gpus: whole_number("max_gpus", &field(form, "max_gpus"))?,
        max_submitted: whole_number("max_submitted", &field(form, "max_submitted"))?,
    })
}

async fn set_limits(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let name = field(&form, "name").trim().to_owned();
    let target = match field(&form, "scope").as_str() {
        "project" => Ok(LimitTarget::Project(name)),
        "user" => Ok(LimitTarget::User(name)),
        _ => Err(ServiceError::Invalid("limits are set on a `project` or a `user`".into())),
    };
    let done = match (target, limit_values(&form)) {
        (Ok(target), Ok(values)) => state.services.set_limits(caller, target, values, now_ms()).await.map(|_| ()),
        (Err(err), _) | (_, Err(err)) => Err(err),
    };
    // The form of a row's "clear" button is the same form, without values.
    let form_name = if field(&form, "clear").is_empty() { "limits" } else { "clear" };
    answer(&state, &visit, form_name, LIMIT_FIELDS, form, done).await
}

async fn set_qos(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let description = crate::portal::forms::optional(field(&form, "description"));
    let done = match number("priority", &field(&form, "priority")) {
        Ok(priority) => state
            .services
            .set_qos(caller, field(&form, "name").trim(), priority, description.as_deref(), now_ms())
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    answer(&state, &visit, "qos", QOS_FIELDS, form, done).await
}

async fn set_partition_priority(
    State(state): State<AppState>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let (site, partition) = site_and_partition(&field(&form, "target"));
    let done = match number("priority", &field(&form, "priority")) {
        Ok(priority) => {
            state
                .services
                .set_partition_priority(caller, &site, partition.as_deref().unwrap_or_default(), priority, now_ms())
                .await
        }
        Err(err) => Err(err),
    };
    answer(&state, &visit, "priority", PRIORITY_FIELDS, form, done).await
}
