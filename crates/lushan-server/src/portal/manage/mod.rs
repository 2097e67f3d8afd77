//! Managing people and money: members, grant requests and reviews, tenants, users, projects, wallets.
//!
//! Every page and form calls the same services as the REST API, which
//! decide what the caller may see and do; the menu links and the forms a
//! page shows only follow the caller's role. A refused form shows the page
//! again with the localized reason beside it and what was typed, with the
//! refusal's status (400, 403, 404, 409); a form that worked answers 303.

use super::{Visit, field};
use crate::service::ServiceError;
use axum::http::StatusCode;
use axum::response::Response;
use lushan_portal::i18n::Texts;
use lushan_portal::views::Pager;
use lushan_portal::views::manage::{Attempt, GrantView, ReviewRow};

mod grants;
mod people;
mod project;

/// Rows on one page of a list.
const PER_PAGE: usize = 50;

pub(super) fn routes() -> Vec<super::Route> {
    let mut routes = people::routes();
    routes.extend(project::routes());
    routes.extend(grants::routes());
    routes
}

/// The page number asked for with `?page=`, 1 when absent; anything else
/// is a page saying so.
pub(in crate::portal) fn page_number(visit: &Visit, query: &[(String, String)]) -> Result<usize, Box<Response>> {
    page_number_of(visit, query, "page")
}

/// As [`page_number`], for a page's second list (`?NAME=`).
fn page_number_of(visit: &Visit, query: &[(String, String)], name: &str) -> Result<usize, Box<Response>> {
    match field(query, name).as_str() {
        "" => Ok(1),
        text => match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Box::new(visit.error(ServiceError::Invalid(format!(
                "`{}` is not a page number",
                text.chars().take(16).collect::<String>()
            ))))),
        },
    }
}

/// One page of `items`, with the pager when there is more than one page;
/// `link(n)` is page n's address.
pub(in crate::portal) fn paginate<T>(
    items: Vec<T>,
    page: usize,
    link: impl Fn(usize) -> String,
) -> (Vec<T>, Option<Pager>) {
    let pages = items.len().div_ceil(PER_PAGE).max(1);
    let rows = items.into_iter().skip((page - 1).saturating_mul(PER_PAGE)).take(PER_PAGE).collect();
    let pager = (pages > 1).then(|| Pager {
        page,
        pages,
        newer: (page > 1).then(|| link(page - 1)),
        older: (page < pages).then(|| link(page + 1)),
    });
    (rows, pager)
}

/// A form's fields and the words by which a refusal names each (the
/// services' messages name what is wrong: `invalid user name`, `--reason`).
/// The first field named gets the message beside it.
pub(super) type Fields = &'static [(&'static str, &'static [&'static str])];

/// A refused form: its status and the attempt to show on the page: the
/// reason beside the field it is about (for a bad, unknown or conflicting
/// input), else above the form's button (a refusal of the whole form).
pub(super) fn refused(
    visit: &Visit,
    form: &str,
    fields: Fields,
    values: Vec<(String, String)>,
    err: ServiceError,
) -> (StatusCode, Attempt) {
    let about_input = matches!(err.code(), "invalid_input" | "not_found" | "conflict");
    let detail = err.to_string().to_lowercase();
    let field = fields
        .iter()
        .find(|(_, words)| about_input && words.iter().any(|w| detail.contains(w)))
        .map(|(name, _)| (*name).to_owned())
        .unwrap_or_default();
    let (status, message, _) = visit.explain(err);
    let values = values.into_iter().filter(|(key, _)| key != "csrf").collect();
    (status, Attempt { form: form.to_owned(), error: message, field, values })
}

/// A whole number typed in a form: empty is `None`; anything else that is
/// not a number is refused, naming the field.
pub(super) fn whole_number(label: &str, text: &str) -> Result<Option<i64>, ServiceError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(Some).map_err(|_| {
        ServiceError::Invalid(format!("{label} is a whole number, not `{}`", text.chars().take(24).collect::<String>()))
    })
}

/// An optional text field: empty is `None`.
pub(super) fn optional(text: String) -> Option<String> {
    Some(text).filter(|t| !t.trim().is_empty())
}

/// An API grant as the portal shows it.
fn grant_view(t: &'static Texts, g: lushan_api::Grant) -> GrantView {
    let scope = match (&g.site, &g.partition) {
        (None, _) => t.manage.every_site.to_owned(),
        (Some(site), None) => site.clone(),
        (Some(site), Some(partition)) => format!("{site} / {partition}"),
    };
    GrantView {
        id: g.id,
        project: g.project,
        tenant: g.tenant,
        state_text: t.manage.grant_state(&g.state).to_owned(),
        state: g.state,
        core_hours: g.requested_core_hours,
        gpu_hours: g.requested_gpu_hours,
        awarded: g.awarded_su.unwrap_or_default(),
        used: g.used_su,
        remaining: g.remaining_su,
        from: g.from,
        to: g.to,
        scope,
        reason: g.reason,
        decision_reason: g.decision_reason,
        requested_by: g.requested_by,
        requested_at: super::local_time(&g.requested_at),
        renews: g.renews,
        reviews: g
            .reviews
            .into_iter()
            .map(|r| ReviewRow {
                reviewer: r.reviewer,
                score: r.score,
                comment: r.comment,
                time: super::local_time(&r.time),
            })
            .collect(),
    }
}
