//! What every list and form of the portal shares: the page asked for and
//! one page of a list; a refused form's reason placed beside the field it
//! names; the typed fields' small parsers.

use super::{Visit, field};
use crate::service::ServiceError;
use axum::http::StatusCode;
use axum::response::Response;
use lushan_portal::views::Pager;
use lushan_portal::views::manage::Attempt;

/// Rows on one page of a list.
const PER_PAGE: usize = 50;

/// The page number asked for with `?page=`, 1 when absent; anything else
/// is a page saying so.
pub(super) fn page_number(visit: &Visit, query: &[(String, String)]) -> Result<usize, Box<Response>> {
    page_number_of(visit, query, "page")
}

/// As [`page_number`], for a page's second list (`?NAME=`).
pub(super) fn page_number_of(visit: &Visit, query: &[(String, String)], name: &str) -> Result<usize, Box<Response>> {
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
/// `link(n)` is page n's address. For lists short enough to hold whole;
/// a long one is read a page at a time ([`page_window`], [`pager`]).
pub(super) fn paginate<T>(items: Vec<T>, page: usize, link: impl Fn(usize) -> String) -> (Vec<T>, Option<Pager>) {
    let total = items.len();
    let rows = items.into_iter().skip((page - 1).saturating_mul(PER_PAGE)).take(PER_PAGE).collect();
    (rows, pager(page, total, link))
}

/// Where page `page` of a list read from the database starts and how many
/// rows it holds: (offset, limit).
pub(super) fn page_window(page: usize) -> (u64, u64) {
    let offset = (page - 1).saturating_mul(PER_PAGE);
    (u64::try_from(offset).unwrap_or(u64::MAX), PER_PAGE as u64)
}

/// The pager of page `page` of a list of `total` rows, when it has more
/// than one page; `link(n)` is page n's address.
pub(super) fn pager(page: usize, total: usize, link: impl Fn(usize) -> String) -> Option<Pager> {
    let pages = total.div_ceil(PER_PAGE).max(1);
    (pages > 1).then(|| Pager {
        page,
        pages,
        newer: (page > 1).then(|| link(page - 1)),
        older: (page < pages).then(|| link(page + 1)),
    })
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

/// The filters a list's pager keeps: `&name=value` for each one set,
/// percent-encoded (they are what the user typed).
pub(super) fn kept_filters(filters: &[(&str, &str)]) -> String {
    let encode = |value: &str| -> String {
        value
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    filters
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("&{name}={}", encode(value)))
        .collect()
}
