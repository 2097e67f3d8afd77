//! Usage and charges by month (bar charts drawn as SVG here, the same
//! figures in tables, CSV), and a tenant's monthly statement. What each
//! caller sees is `usage_report`'s and `statement`'s scope: nothing is
//! filtered again here; the role only chooses how the rows are grouped.

use super::months::months;
use super::{Visit, field, local_time};
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::service::{Caller, ServiceError, StatementPeriod};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use lushan_api::UsageReportRow;
use lushan_ledger::Money;
use lushan_model::{ProjectRole, Role};
use lushan_portal::chart::size;
use lushan_portal::views::usage::{Chart, StatementPage, StatementRow, UsageLine, UsagePage, UsageTable};

pub(super) fn routes() -> Vec<super::Route> {
    vec![
        ("GET", "/usage", get(usage)),
        ("GET", "/usage.csv", get(usage_csv)),
        ("GET", "/statement", get(statement)),
        ("GET", "/statement.csv", get(statement_csv)),
    ]
}

/// How a caller's usage is grouped: the dimensions (the first also splits
/// the CSV's months) and the words that say whose it is.
async fn grouping(state: &AppState, visit: &Visit, caller: &Caller) -> Result<(Vec<&'static str>, String), Response> {
    let u = visit.t().usage;
    Ok(match caller.role() {
        Role::Operator => (vec!["tenant", "sector"], u.intro_operator.to_owned()),
        Role::TenantAdmin => (vec!["project"], u.intro_tenant.to_owned()),
        Role::Reviewer | Role::Member => {
            let memberships = state.services.my_memberships(caller).await.map_err(|err| visit.error(err))?;
            if memberships.iter().any(|(_, role)| matches!(role, ProjectRole::Pi | ProjectRole::Manager)) {
                (vec!["user", "partition"], u.intro_manager.to_owned())
            } else {
                (vec!["project"], u.intro_member.to_owned())
            }
        }
    })
}

/// Each month's rows by `by`, and the whole range's by each dimension.
struct Report {
    months: Vec<(String, lushan_api::UsageReport)>,
    ranges: Vec<(&'static str, lushan_api::UsageReport)>,
}

async fn report(
    state: &AppState,
    caller: &Caller,
    dimensions: &[&'static str],
    periods: &[StatementPeriod],
) -> Result<Report, ServiceError> {
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(Report { months: Vec::new(), ranges: Vec::new() });
    };
    let by = dimensions.first().copied().unwrap_or("project");
    let mut months = Vec::new();
    for period in periods {
        let rows = state.services.usage_report(caller, by, None, period.from, period.to).await?;
        months.push((period.label.clone(), to_api::usage_report(by, &period.label, &period.label, rows)));
    }
    let mut ranges = Vec::new();
    for by in dimensions {
        let rows = state.services.usage_report(caller, by, None, first.from, last.to).await?;
        ranges.push((*by, to_api::usage_report(by, &first.label, &last.label, rows)));
    }
    Ok(Report { months, ranges })
}

pub(super) fn line(visit: &Visit, key: String, row: &UsageReportRow) -> UsageLine {
    UsageLine {
        key,
        jobs: row.jobs,
        core_hours: row.core_hours.clone(),
        gpu_hours: row.gpu_hours.clone(),
        charged: visit.lang.money(&row.cny_charged),
        su_used: row.su_used.clone(),
        welfare_core_hours: row.welfare_core_hours.clone(),
    }
}

async fn usage(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let u = visit.t().usage;
    let (dimensions, intro) = match grouping(&state, &visit, caller).await {
        Ok(grouping) => grouping,
        Err(page) => return page,
    };
    let (from, to, periods) = months(&visit, &query);
    let csv_link = format!("/usage.csv?from={from}&to={to}");
    let statement_link = caller.role() == Role::TenantAdmin;
    let periods = match periods {
        Ok(periods) => periods,
        Err(message) => {
            let page = UsagePage {
                chrome: visit.chrome(),
                intro,
                from,
                to,
                month_error: Some(message),
                any: false,
                charts: Vec::new(),
                tables: Vec::new(),
                csv_link,
                statement_link,
            };
            return visit.page(StatusCode::BAD_REQUEST, lushan_portal::Template::render(&page));
        }
    };
    let report = match report(&state, caller, &dimensions, &periods).await {
        Ok(report) => report,
        Err(err) => return visit.error(err),
    };
    let month_rows: Vec<UsageLine> = report.months.iter().map(|(m, r)| line(&visit, m.clone(), &r.total)).collect();
    let grand = report.ranges.first().map(|(_, r)| line(&visit, u.total.to_owned(), &r.total));
    let any = report.months.iter().any(|(_, r)| r.total.jobs > 0);
    let desc = |what: &str| {
        let figures: Vec<String> = report
            .months
            .iter()
            .map(|(m, r)| {
                let value =
                    if what == "core" { r.total.core_hours.clone() } else { visit.lang.money(&r.total.cny_charged) };
                format!("{m}: {value}")
            })
            .collect();
        format!("{}{}{}", u.chart_desc_before, figures.join("; "), u.chart_desc_after)
    };
    let core: Vec<(String, f64, String)> =
        report.months.iter().map(|(m, r)| (m.clone(), size(&r.total.core_hours), r.total.core_hours.clone())).collect();
    let money: Vec<(String, f64, String)> = report
        .months
        .iter()
        .map(|(m, r)| (m.clone(), size(&r.total.cny_charged), visit.lang.money(&r.total.cny_charged)))
        .collect();
    let top = |values: &[(String, f64, String)]| {
        values.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|v| v.2.clone()).unwrap_or_else(|| "0".into())
    };
    let charts = vec![
        Chart::new("chart-core-hours", u.chart_core_hours.to_owned(), desc("core"), &core, top(&core)),
        Chart::new("chart-charged", u.chart_charged.to_owned(), desc("money"), &money, top(&money)),
    ];
    let mut tables = vec![UsageTable {
        id: "usage-months".into(),
        title: u.by_month.to_owned(),
        first_column: u.month.to_owned(),
        rows: month_rows,
        total: grand,
    }];
    for (by, range) in &report.ranges {
        let name = u.dimension(by).to_owned();
        tables.push(UsageTable {
            id: format!("usage-by-{by}"),
            title: format!("{}{name}", u.breakdown_by),
            first_column: name,
            rows: range
                .rows
                .iter()
                .map(|r| {
                    // Sectors in the page's language; names as they are.
                    let key = if *by == "sector" { u.sector(&r.key).to_owned() } else { r.key.clone() };
                    line(&visit, key, r)
                })
                .collect(),
            total: None,
        });
    }
    let page = UsagePage {
        chrome: visit.chrome(),
        intro,
        from,
        to,
        month_error: None,
        any,
        charts,
        tables,
        csv_link,
        statement_link,
    };
    visit.page(StatusCode::OK, lushan_portal::Template::render(&page))
}

async fn usage_csv(
    State(state): State<AppState>,
    visit: Visit,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let u = visit.t().usage;
    let (dimensions, _) = match grouping(&state, &visit, caller).await {
        Ok(grouping) => grouping,
        Err(page) => return page,
    };
    let (from, to, periods) = months(&visit, &query);
    let periods = match periods {
        Ok(periods) => periods,
        Err(message) => return visit.error(ServiceError::Invalid(message)),
    };
    let report = match report(&state, caller, &dimensions[..1], &periods).await {
        Ok(report) => report,
        Err(err) => return visit.error(err),
    };
    let by = dimensions.first().copied().unwrap_or("project");
    let mut csv = Csv::default();
    csv.row(&[
        Cell::Text(u.month),
        Cell::Text(u.dimension(by)),
        Cell::Text(u.jobs),
        Cell::Text(u.core_hours),
        Cell::Text(u.gpu_hours),
        Cell::Text(u.charged),
        Cell::Text(u.su_used),
        Cell::Text(u.welfare_core_hours),
    ]);
    for (month, report) in &report.months {
        for r in &report.rows {
            let jobs = r.jobs.to_string();
            csv.row(&[
                Cell::Text(month),
                Cell::Text(&r.key),
                Cell::Number(&jobs),
                Cell::Number(&r.core_hours),
                Cell::Number(&r.gpu_hours),
                Cell::Number(&r.cny_charged),
                Cell::Number(&r.su_used),
                Cell::Number(&r.welfare_core_hours),
            ]);
        }
    }
    csv.response(&format!("lushan-usage-{from}-{to}.csv"))
}

/// The month asked for (`month`, `YYYY-MM`), this one by default.
fn statement_month(query: &[(String, String)]) -> (String, Result<StatementPeriod, ServiceError>) {
    let month = field(query, "month");
    let period = match month.trim() {
        "" => StatementPeriod::containing(now_ms()),
        text => StatementPeriod::month(text),
    };
    let shown = match &period {
        Ok(period) => period.label.clone(),
        Err(_) => month.chars().take(16).collect(),
    };
    (shown, period)
}

/// A statement's lines as the page and the file show them, with each
/// job's price version and owners' share (from `job_charge`, the job's
/// own access check).
struct Statement {
    tenant: String,
    api: lushan_api::Statement,
    net: Money,
    charges: Money,
    /// By line: the price version and the owners' share (decimal text).
    extra: Vec<(String, String)>,
}

async fn load_statement(
    state: &AppState,
    caller: &Caller,
    tenant: Option<&str>,
    period: &StatementPeriod,
) -> Result<Statement, ServiceError> {
    let (tenant, statement) = state.services.statement(caller, tenant, period).await?;
    let net = statement.lines.iter().fold(Money::ZERO, |sum, l| sum.saturating_add(l.amount));
    let charges = statement
        .lines
        .iter()
        .filter(|l| l.kind == "settlement")
        .fold(Money::ZERO, |sum, l| sum.saturating_add(l.amount));
    let mut known: std::collections::HashMap<i64, (String, String)> = std::collections::HashMap::new();
    let mut extra = Vec::new();
    for l in &statement.lines {
        let found = match l.job_id {
            Some(job) if l.kind == "settlement" => {
                if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(job.0) {
                    // A job the caller may not see (another tenant's run on
                    // their co-built nodes): its line, without these.
                    let charge = state.services.job_charge(caller, job.0).await.ok().flatten();
                    slot.insert(charge.map_or_else(Default::default, |c| {
                        (c.price_id.to_string(), c.owner_share.map(|m| m.to_string()).unwrap_or_default())
                    }));
                }
                known.get(&job.0).cloned().unwrap_or_default()
            }
            _ => Default::default(),
        };
        extra.push(found);
    }
    let api = to_api::statement(&tenant.name, &period.label, statement);
    Ok(Statement { tenant: tenant.name, api, net, charges, extra })
}

async fn statement(
    State(state): State<AppState>,
    visit: Visit,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let tenant = field(&query, "tenant");
    let tenant_query: String = tenant.chars().take(64).collect();
    let (month, period) = statement_month(&query);
    let tenant_part = if tenant_query.is_empty() { String::new() } else { format!("&tenant={tenant_query}") };
    let csv_link = format!("/statement.csv?month={month}{tenant_part}");
    let period = match period {
        Ok(period) => period,
        Err(err) => {
            let message = match err {
                ServiceError::Invalid(detail) => format!("{}{detail}", t.error_invalid),
                other => t.error(other.code()).0.to_owned(),
            };
            let page = StatementPage {
                chrome: visit.chrome(),
                tenant: String::new(),
                month,
                month_error: Some(message),
                opening: String::new(),
                closing: String::new(),
                held: String::new(),
                net: String::new(),
                charges: String::new(),
                lines: Vec::new(),
                csv_link,
                tenant_query,
            };
            return visit.page(StatusCode::BAD_REQUEST, lushan_portal::Template::render(&page));
        }
    };
    let asked = Some(tenant.as_str()).filter(|t| !t.is_empty());
    let s = match load_statement(&state, caller, asked, &period).await {
        Ok(s) => s,
        Err(err) => return visit.error(err),
    };
    let money = |text: &str| visit.lang.money(text);
    let lines = s
        .api
        .lines
        .iter()
        .zip(&s.extra)
        .map(|(l, (price, share))| StatementRow {
            time: local_time(&l.time),
            kind: t.usage.kind(&l.kind).to_owned(),
            job_id: l.job_id,
            reference: l.reference.clone(),
            memo: l.memo.clone(),
            amount: money(&l.amount),
            balance: money(&l.balance),
            price_version: price.clone(),
            owner_share: if share.is_empty() { String::new() } else { money(share) },
        })
        .collect();
    let page = StatementPage {
        chrome: visit.chrome(),
        tenant: s.tenant,
        month: period.label.clone(),
        month_error: None,
        opening: money(&s.api.opening_balance),
        closing: money(&s.api.closing_balance),
        held: money(&s.api.held_at_close),
        net: money(&s.net.to_string()),
        charges: money(&s.charges.to_string()),
        lines,
        csv_link,
        tenant_query,
    };
    visit.page(StatusCode::OK, lushan_portal::Template::render(&page))
}

async fn statement_csv(
    State(state): State<AppState>,
    visit: Visit,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let u = visit.t().usage;
    let tenant = field(&query, "tenant");
    let (_, period) = statement_month(&query);
    let period = match period {
        Ok(period) => period,
        Err(err) => return visit.error(err),
    };
    let asked = Some(tenant.as_str()).filter(|t| !t.is_empty());
    let s = match load_statement(&state, caller, asked, &period).await {
        Ok(s) => s,
        Err(err) => return visit.error(err),
    };
    let mut csv = Csv::default();
    csv.row(&[
        Cell::Text(u.time),
        Cell::Text(u.kind),
        Cell::Text(u.job),
        Cell::Text(u.reference),
        Cell::Text(u.memo),
        Cell::Text(u.amount),
        Cell::Text(u.balance_after),
        Cell::Text(u.price_version),
        Cell::Text(u.owner_share),
    ]);
    for (l, (price, share)) in s.api.lines.iter().zip(&s.extra) {
        let time = local_time(&l.time);
        let job = l.job_id.map(|j| j.to_string()).unwrap_or_default();
        csv.row(&[
            Cell::Text(&time),
            Cell::Text(u.kind(&l.kind)),
            Cell::Number(&job),
            Cell::Text(&l.reference),
            Cell::Text(&l.memo),
            Cell::Number(&l.amount),
            Cell::Number(&l.balance),
            Cell::Number(price),
            Cell::Number(share),
        ]);
    }
    let net = s.net.to_string();
    csv.row(&[
        Cell::Text(u.net_change),
        Cell::Text(""),
        Cell::Text(""),
        Cell::Text(""),
        Cell::Text(""),
        Cell::Number(&net),
        Cell::Number(&s.api.closing_balance),
        Cell::Text(""),
        Cell::Text(""),
    ]);
    csv.response(&format!("lushan-statement-{}-{}.csv", s.tenant, period.label))
}

/// A cell of a CSV file: a text (made safe for spreadsheets) or a number
/// the platform wrote (an exact decimal, kept as a number).
enum Cell<'a> {
    Text(&'a str),
    Number(&'a str),
}

/// A CSV file (RFC 4180, CRLF), safe to open in a spreadsheet.
#[derive(Default)]
struct Csv {
    text: String,
}

impl Csv {
    fn row(&mut self, cells: &[Cell]) {
        let cells: Vec<String> = cells.iter().map(cell).collect();
        self.text.push_str(&cells.join(","));
        self.text.push_str("\r\n");
    }

    /// A download: UTF-8 with a byte-order mark, so that spreadsheets
    /// read the Chinese headers as UTF-8.
    fn response(self, file_name: &str) -> Response {
        let file_name: String =
            file_name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
        let mut response = (StatusCode::OK, format!("\u{feff}{}", self.text)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// One cell as CSV: a text starting with `=`, `+`, `-`, `@` (or a tab or
/// carriage return) gets a leading `'` so that no spreadsheet runs it as a
/// formula; quoted when it holds a comma, quote or line break. A number is
/// written as it is only when it is one (`-12.50`), else as a text.
fn cell(cell: &Cell) -> String {
    let text = match cell {
        Cell::Number(n) if is_decimal(n) || n.is_empty() => return (*n).to_owned(),
        Cell::Number(text) | Cell::Text(text) => *text,
    };
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

/// `12`, `-12.50`: an optional minus, digits, an optional fraction.
fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_cannot_become_formulas_and_keep_their_commas_and_quotes() {
        assert_eq!(cell(&Cell::Text("=HYPERLINK(\"x\")")), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell(&Cell::Text("+1")), "'+1");
        assert_eq!(cell(&Cell::Text("-2")), "'-2");
        assert_eq!(cell(&Cell::Text("@SUM(A1)")), "'@SUM(A1)");
        assert_eq!(cell(&Cell::Text("a,b")), "\"a,b\"");
        assert_eq!(cell(&Cell::Text("line\nbreak")), "\"line\nbreak\"");
        assert_eq!(cell(&Cell::Text("项目")), "项目");
        assert_eq!(cell(&Cell::Number("-12.50")), "-12.50");
        assert_eq!(cell(&Cell::Number("12")), "12");
        assert_eq!(cell(&Cell::Number("")), "");
        assert_eq!(cell(&Cell::Number("-1+2")), "'-1+2");
        assert_eq!(cell(&Cell::Number("=1")), "'=1");
    }
}
