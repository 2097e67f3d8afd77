//! The months a usage page or file covers: `?from=` and `?to=` as
//! `YYYY-MM`, by default this month and the five before, at most three
//! years; shared by the usage pages and the co-builder's page.

use super::{Visit, field};
use crate::clock::now_ms;
use crate::service::{ServiceError, StatementPeriod};

/// The most months one page or file covers.
const MAX_MONTHS: i32 = 36;
/// Months shown when none are asked for: this one and the five before.
const DEFAULT_MONTHS: i32 = 6;

/// A month as (year, month).
fn year_month(period: &StatementPeriod) -> (i32, i32) {
    let (year, month) = period.label.split_once('-').unwrap_or_default();
    (year.parse().unwrap_or_default(), month.parse().unwrap_or_default())
}

/// The months asked for (`from`, `to`, as `YYYY-MM`), first to last; the
/// texts to show again in the form; or why they cannot be shown.
pub(super) fn months(
    visit: &Visit,
    query: &[(String, String)],
) -> (String, String, Result<Vec<StatementPeriod>, String>) {
    let (from, to) = (field(query, "from"), field(query, "to"));
    let shown = |text: &str| text.chars().take(16).collect::<String>();
    let (from_text, to_text) = (shown(&from), shown(&to));
    let t = visit.t();
    let invalid = |err: ServiceError| match err {
        ServiceError::Invalid(detail) => format!("{}{detail}", t.error_invalid),
        other => t.error(other.code()).0.to_owned(),
    };
    let last = match to.trim() {
        "" => StatementPeriod::containing(now_ms()),
        text => StatementPeriod::month(text),
    };
    let last = match last {
        Ok(last) => last,
        Err(err) => return (from_text, to_text, Err(invalid(err))),
    };
    let (ly, lm) = year_month(&last);
    let first = match from.trim() {
        "" => {
            let index = ly * 12 + lm - 1 - (DEFAULT_MONTHS - 1);
            StatementPeriod::month(&format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1))
        }
        text => StatementPeriod::month(text),
    };
    let first = match first {
        Ok(first) => first,
        Err(err) => return (from_text, to_text, Err(invalid(err))),
    };
    let (fy, fm) = year_month(&first);
    let (from_text, to_text) = (first.label.clone(), last.label.clone());
    let count = (ly * 12 + lm) - (fy * 12 + fm) + 1;
    if count < 1 {
        return (from_text, to_text, Err(t.usage.error_range.to_owned()));
    }
    if count > MAX_MONTHS {
        return (from_text, to_text, Err(t.usage.error_too_long.to_owned()));
    }
    let mut periods = Vec::new();
    for i in 0..count {
        let index = fy * 12 + fm - 1 + i;
        match StatementPeriod::month(&format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)) {
            Ok(period) => periods.push(period),
            Err(err) => return (from_text, to_text, Err(invalid(err))),
        }
    }
    (from_text, to_text, Ok(periods))
}
