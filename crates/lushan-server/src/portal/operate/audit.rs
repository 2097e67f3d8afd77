//! `/operate/audit`: the 审计日志, newest first, filtered by action,
//! actor, target kind and days (`GET /api/v1/audit`'s filters), 50 a page
//! read from the database (the page and the count of what matches).

use crate::http::{AppState, to_api};
use crate::portal::forms::{kept_filters, page_number, page_window, pager};
use crate::portal::{Visit, field, local_time};
use crate::service::AuditFilter;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use lushan_portal::Template;
use lushan_portal::views::operate::{AuditPage, AuditRow};

pub(super) fn routes() -> Vec<crate::portal::Route> {
    vec![("GET", "/operate/audit", get(audit))]
}

async fn audit(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let page = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    let typed = |name: &str| field(&query, name).trim().to_owned();
    let (action, actor, target_kind, from, to) =
        (typed("action"), typed("actor"), typed("target_kind"), typed("from"), typed("to"));
    let given = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
    let filter = AuditFilter {
        action: given(&action),
        actor: given(&actor),
        target_kind: given(&target_kind),
        from: given(&from),
        to: given(&to),
    };
    let (offset, limit) = page_window(page);
    let (records, total) = match state.services.audit_log_page(caller, &filter, offset, limit).await {
        Ok(found) => found,
        Err(err) => return visit.error(err),
    };
    let events: Vec<AuditRow> = records
        .into_iter()
        .map(|record| {
            let e = to_api::audit(record);
            let json = |v: &Option<serde_json::Value>| v.as_ref().map(ToString::to_string).unwrap_or_default();
            let change = match (json(&e.before), json(&e.after)) {
                (b, a) if b.is_empty() => a,
                (b, a) => format!("{b} → {a}"),
            };
            AuditRow {
                at: local_time(&e.at),
                actor: e.actor,
                action: e.action,
                target_kind: e.target_kind,
                target: e.target,
                change,
            }
        })
        .collect();
    // The pager keeps the filters.
    let kept = kept_filters(&[
        ("action", &action),
        ("actor", &actor),
        ("target_kind", &target_kind),
        ("from", &from),
        ("to", &to),
    ]);
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let pager = pager(page, total, |n| format!("/operate/audit?page={n}{kept}"));
    let view = AuditPage { chrome: visit.chrome(), events, pager, action, actor, target_kind, from, to };
    visit.page(StatusCode::OK, Template::render(&view))
}
