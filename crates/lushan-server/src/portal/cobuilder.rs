//! A co-builder's page (共建单位), for its tenant admins and operators
//! (`?tenant=`): its co-built nodes, what ran on them month by month (by
//! itself, by guests), guests' jobs it preempted, and each month's
//! settlement with the jobs that earned. Every figure is `settlement`'s
//! (`GET /api/v1/tenants/{tenant}/settlement`), whose check decides who
//! sees it; the charts are the usage page's.

use super::forms::{page_number, paginate};
use super::months::months;
use super::{Visit, field};
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::service::{ServiceError, StatementPeriod};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use lushan_portal::Template;
use lushan_portal::chart::Chart;
use lushan_portal::chart::size;
use lushan_portal::views::cobuilder::{CobuilderPage, MonthDetail, MonthRow, NodeRow, SettlementLine};
use std::collections::HashMap;

pub(super) fn routes() -> Vec<super::Route> {
    vec![("GET", "/cobuilder", get(cobuilder))]
}

/// Whether the caller may open each job's page: the job service's own
/// check (a guest's job of another tenant is not the owner's to see).
struct Links<'a> {
    state: &'a AppState,
    caller: &'a crate::service::Caller,
    known: HashMap<i64, bool>,
}

impl Links<'_> {
    async fn may_see(&mut self, job: i64) -> bool {
        if let Some(known) = self.known.get(&job) {
            return *known;
        }
        let may = self.state.services.job(self.caller, job).await.is_ok();
        self.known.insert(job, may);
        may
    }
}

async fn lines(
    visit: &Visit,
    links: &mut Links<'_>,
    month: &str,
    jobs: Vec<lushan_api::SettlementJob>,
) -> Vec<SettlementLine> {
    let c = visit.t().cobuilder;
    let mut lines = Vec::new();
    for j in jobs {
        lines.push(SettlementLine {
            month: month.to_owned(),
            job_id: j.job_id,
            linked: links.may_see(j.job_id).await,
            run: j.run,
            user: j.user,
            tenant: j.tenant,
            project: j.project,
            own: j.own,
            core_hours: j.core_hours,
            charged: j.charged,
            funding: c.funding(&j.funding).to_owned(),
            earned: visit.lang.money(&j.earned),
            preempted: j.preempted,
        });
    }
    lines
}

async fn cobuilder(
    State(state): State<AppState>,
    visit: Visit,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let c = t.cobuilder;
    let tenant_query: String = field(&query, "tenant").trim().chars().take(64).collect();
    let tenant = (!tenant_query.is_empty()).then_some(tenant_query.as_str());
    let page = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    let (_, to, periods) = months(&visit, &query);
    let month_asked = field(&query, "month");
    let detail_period = match month_asked.trim() {
        "" => None,
        text => Some(StatementPeriod::month(text).map_err(|err| match err {
            ServiceError::Invalid(detail) => format!("{}{detail}", t.error_invalid),
            other => t.error(other.code()).0.to_owned(),
        })),
    };
    let empty = |tenant: String, month_error: Option<String>| CobuilderPage {
        chrome: visit.chrome(),
        tenant,
        tenant_query: tenant_query.clone(),
        choose: caller.is_operator(),
        to: to.clone(),
        month_error,
        nodes: Vec::new(),
        charts: Vec::new(),
        months: Vec::new(),
        total: None,
        preempted: Vec::new(),
        detail: None,
    };
    // Operators choose whose page it is (the centre co-builds nothing).
    if caller.is_operator() && tenant.is_none() {
        let page = empty(String::new(), None);
        return visit.page(StatusCode::OK, Template::render(&page));
    }
    // Who may see the page is the settlement's check, asked first: a
    // member or another tenant's admin learns nothing else here.
    let current = match StatementPeriod::containing(now_ms()) {
        Ok(period) => period,
        Err(err) => return visit.error(err),
    };
    let first = match state.services.settlement(caller, tenant, &current).await {
        Ok(first) => first,
        Err(err) => return visit.error(err),
    };
    let owner = first.owner.clone();
    let (periods, detail_period) = match (periods, detail_period.transpose()) {
        (Ok(periods), Ok(detail)) => (periods, detail),
        (Err(message), _) | (_, Err(message)) => {
            let page = empty(owner.name.clone(), Some(message));
            return visit.page(StatusCode::BAD_REQUEST, Template::render(&page));
        }
    };
    // Its nodes, as `lushan sites` lists them.
    let sites = match state.services.list_sites(caller).await {
        Ok(sites) => sites,
        Err(err) => return visit.error(err),
    };
    let mut nodes = Vec::new();
    for site in &sites {
        for node in site.nodes.iter().filter(|n| n.co_built && n.owner_tenant_id == owner.id) {
            let partitions: Vec<&str> =
                site.partitions.iter().filter(|p| p.node_names.contains(&node.name)).map(|p| p.name.as_str()).collect();
            nodes.push(NodeRow {
                site: site.name.clone(),
                name: node.name.clone(),
                partitions: partitions.join(", "),
                cpus: node.cpus,
                gpus: node.gpus,
                memory_gb: format!("{:.1}", node.memory_mb as f64 / 1024.0),
                state: node.state.clone(),
            });
        }
    }
    // Each month's settlement.
    let mut links = Links { state: &state, caller, known: HashMap::new() };
    let tenant_part = if tenant_query.is_empty() { String::new() } else { format!("&tenant={tenant_query}") };
    let mut month_rows = Vec::new();
    let mut preempted = Vec::new();
    let mut settled = Vec::new();
    for period in &periods {
        let settlement = match state.services.settlement(caller, Some(&owner.name), period).await {
            Ok(settlement) => to_api::settlement(&period.label, settlement),
            Err(err) => return visit.error(err),
        };
        let guests_preempted: Vec<lushan_api::SettlementJob> =
            settlement.jobs.iter().filter(|j| j.preempted && !j.own).cloned().collect();
        month_rows.push(MonthRow {
            month: period.label.clone(),
            jobs: settlement.jobs.len(),
            own_core_hours: settlement.own_core_hours.clone(),
            guest_core_hours: settlement.guest_core_hours.clone(),
            preemptions: guests_preempted.len(),
            earned: visit.lang.money(&settlement.earned),
            link: format!("/cobuilder?month={}&to={to}{tenant_part}#month-detail", period.label),
        });
        preempted.extend(lines(&visit, &mut links, &period.label, guests_preempted).await);
        settled.push(settlement);
    }
    let any_use = settled.iter().any(|s| !s.jobs.is_empty());
    if nodes.is_empty() && !any_use {
        // Not a co-builder (or not yet): the empty state says so.
        let page = empty(owner.name.clone(), None);
        return visit.page(StatusCode::OK, Template::render(&page));
    }
    // The range's totals: core-hours and money summed exactly by the
    // service for one settlement over the whole range.
    let total = match (periods.first(), periods.last()) {
        (Some(first), Some(last)) => {
            let range =
                StatementPeriod { label: format!("{}–{}", first.label, last.label), from: first.from, to: last.to };
            match state.services.settlement(caller, Some(&owner.name), &range).await {
                Ok(all) => {
                    let all = to_api::settlement(&range.label, all);
                    Some(MonthRow {
                        month: c.total.to_owned(),
                        jobs: all.jobs.len(),
                        own_core_hours: all.own_core_hours,
                        guest_core_hours: all.guest_core_hours,
                        preemptions: preempted.len(),
                        earned: visit.lang.money(&all.earned),
                        link: String::new(),
                    })
                }
                Err(err) => return visit.error(err),
            }
        }
        _ => None,
    };
    let chart = |id: &str, title: &str, value: &dyn Fn(&lushan_api::Settlement) -> String| {
        let bars: Vec<(String, f64, String)> =
            settled.iter().map(|s| (s.month.clone(), size(&value(s)), value(s))).collect();
        let figures: Vec<String> = bars.iter().map(|(m, _, v)| format!("{m}: {v}")).collect();
        let top = bars.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|b| b.2.clone()).unwrap_or_default();
        let desc = format!("{}{}{}", c.chart_desc_before, figures.join("; "), c.chart_desc_after);
        Chart::new(id, title.to_owned(), desc, &bars, top)
    };
    let charts = vec![
        chart("chart-own", c.chart_own, &|s| s.own_core_hours.clone()),
        chart("chart-guest", c.chart_guest, &|s| s.guest_core_hours.clone()),
        chart("chart-earned", c.chart_earned, &|s| visit.lang.money(&s.earned)),
    ];
    // A month's detail: the jobs that ran on its nodes and what each earned.
    let detail = match detail_period {
        Some(period) => {
            let settlement = match state.services.settlement(caller, Some(&owner.name), &period).await {
                Ok(settlement) => to_api::settlement(&period.label, settlement),
                Err(err) => return visit.error(err),
            };
            let month = period.label.clone();
            let all = lines(&visit, &mut links, &month, settlement.jobs).await;
            let (lines, pager) =
                paginate(all, page, |n| format!("/cobuilder?month={month}&to={to}{tenant_part}&page={n}#month-detail"));
            Some(MonthDetail {
                month: period.label,
                own_core_hours: settlement.own_core_hours,
                guest_core_hours: settlement.guest_core_hours,
                earned: visit.lang.money(&settlement.earned),
                lines,
                pager,
            })
        }
        None => None,
    };
    let view = CobuilderPage {
        chrome: visit.chrome(),
        tenant: owner.name.clone(),
        tenant_query: tenant_query.clone(),
        choose: caller.is_operator(),
        to: to.clone(),
        month_error: None,
        nodes,
        charts,
        months: month_rows,
        total,
        preempted,
        detail,
    };
    visit.page(StatusCode::OK, Template::render(&view))
}
