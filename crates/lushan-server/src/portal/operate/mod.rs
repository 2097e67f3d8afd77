//! The operator's console (`/operate`): the 集群 with their 分区 and
//! 节点 as `sinfo` shows them, the queue, site checks and account drift;
//! prices and discounts; wallets' adjustments and credit limits; limits
//! and QOS; the 审计日志 with filters.
//!
//! Every page and form calls the same services as the REST API, which
//! decide what the caller may see and do (sites and prices are visible to
//! everyone signed in, as `sinfo` is; changes are the operators'). A
//! refused form shows its page again with the localized reason beside the
//! field and what was typed, with the refusal's status; one that worked
//! answers 303.

use super::forms::{page_number_of, paginate};
use super::{Visit, local_time};
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::service::{JobSelection, ServiceError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use lushan_model::JobState;
use lushan_portal::Template;
use lushan_portal::views::Choice;
use lushan_portal::views::operate::{CheckPage, CheckRow, NodeRow, PartitionRow, SiteRow, StatusPage};

mod audit;
mod limits;
mod prices;
mod wallets;

pub(super) fn routes() -> Vec<super::Route> {
    let mut routes: Vec<super::Route> =
        vec![("GET", "/operate", get(status)), ("GET", "/operate/sites/{site}/check", get(check))];
    routes.extend(prices::routes());
    routes.extend(wallets::routes());
    routes.extend(limits::routes());
    routes.extend(audit::routes());
    routes
}

/// `site` or `site/partition`, as the forms' choices send them.
fn site_and_partition(text: &str) -> (String, Option<String>) {
    match text.trim().split_once('/') {
        Some((site, partition)) => (site.to_owned(), Some(partition.to_owned())),
        None => (text.trim().to_owned(), None),
    }
}

/// Every site and every partition of each (`site/partition`), as choices.
async fn site_choices(state: &AppState, visit: &Visit, with_sites: bool) -> Vec<Choice> {
    let Some(caller) = visit.caller() else { return Vec::new() };
    let sites = state.services.list_sites(caller).await.unwrap_or_default();
    let mut choices = Vec::new();
    for site in sites {
        if with_sites {
            let label = format!("{} ({})", site.name, visit.t().operate.every_partition);
            choices.push(Choice { value: site.name.clone(), label, selected: false });
        }
        for p in &site.partitions {
            let value = format!("{}/{}", site.name, p.name);
            choices.push(Choice { label: value.clone(), value, selected: false });
        }
    }
    choices
}

/// A whole number typed in a form, required.
fn number(label: &str, text: &str) -> Result<i64, ServiceError> {
    super::forms::whole_number(label, text)?
        .ok_or_else(|| ServiceError::Invalid(format!("{label} is a whole number; it is missing")))
}

/// Preemption mode in the page's language.
fn mode_text(t: &'static lushan_portal::i18n::Texts, mode: &str) -> String {
    match mode {
        "off" => t.operate.mode_off.to_owned(),
        "cancel" => t.operate.mode_cancel.to_owned(),
        "requeue" => t.operate.mode_requeue.to_owned(),
        other => other.to_owned(),
    }
}

// ---- status ----

async fn status(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    // Each list pages on its own: `?sites_page=`, `?partitions_page=`,
    // and `?page=` for the nodes (the longest).
    let mut pages = [("sites_page", 1), ("partitions_page", 1), ("page", 1)];
    for (name, page) in &mut pages {
        *page = match page_number_of(&visit, &query, name) {
            Ok(page) => page,
            Err(page) => return *page,
        };
    }
    // Page `n` of list `name`, the other lists staying where they are.
    let link = |name: &str, n: usize| {
        let kept = pages.iter().filter(|(other, page)| *other != name && *page > 1);
        let mut link = format!("/operate?{name}={n}");
        for (other, page) in kept {
            link.push_str(&format!("&{other}={page}"));
        }
        link
    };
    let t = visit.t();
    let records = match state.services.list_sites(caller).await {
        Ok(records) => records,
        Err(err) => return visit.error(err),
    };
    let usage = match state.services.node_usage(caller).await {
        Ok(usage) => usage,
        Err(err) => return visit.error(err),
    };
    // The queue: the caller's visible jobs waiting or running, counted by
    // the database per partition.
    let queue = JobSelection {
        states: Some(vec![JobState::Pending, JobState::Running]),
        user: None,
        project: None,
        jobs: None,
        array: None,
    };
    let counts = match state.services.count_jobs_by_partition(caller, queue).await {
        Ok(counts) => counts,
        Err(err) => return visit.error(err),
    };
    let (mut sites, mut partitions, mut nodes) = (Vec::new(), Vec::new(), Vec::new());
    for record in records {
        let id = record.id;
        let site = to_api::site(record, &usage);
        for p in &site.partitions {
            let count = |s: JobState| {
                counts.iter().find(|c| c.site_id == id && c.partition == p.name && c.state == s).map_or(0, |c| c.jobs)
            };
            partitions.push(PartitionRow {
                site: site.name.clone(),
                name: p.name.clone(),
                default: p.default,
                nodes: p.nodes.join(","),
                preempt_mode: mode_text(t, &p.preempt_mode),
                grace_secs: p.grace_secs,
                priority: p.priority_job_factor,
                pending: count(JobState::Pending),
                running: count(JobState::Running),
            });
        }
        for n in &site.nodes {
            nodes.push(NodeRow {
                site: site.name.clone(),
                name: n.name.clone(),
                state: n.state.clone(),
                cpus_alloc: n.alloc_cpus,
                cpus_idle: (n.cpus - n.alloc_cpus).max(0),
                cpus_total: n.cpus,
                memory_alloc: n.alloc_memory_mb,
                memory_total: n.memory_mb,
                gpus_alloc: n.alloc_gpus,
                gpus_total: n.gpus,
                gpu_type: n.gpu_type.clone().unwrap_or_default(),
                owner: n.owner.clone(),
            });
        }
        sites.push(SiteRow {
            backend: if site.backend == "slurm" { t.operate.backend_slurm } else { t.operate.backend_local }.to_owned(),
            active: matches!(site.status, lushan_api::Status::Active),
            synced: site.synced_at.as_deref().map(local_time).unwrap_or_else(|| t.operate.never.to_owned()),
            last_error: site.last_error.clone(),
            name: site.name,
        });
    }
    let [(_, sites_page), (_, partitions_page), (_, nodes_page)] = pages;
    let (sites, sites_pager) = paginate(sites, sites_page, |n| link("sites_page", n));
    let (partitions, partitions_pager) = paginate(partitions, partitions_page, |n| link("partitions_page", n));
    let (nodes, pager) = paginate(nodes, nodes_page, |n| link("page", n));
    let view = StatusPage { chrome: visit.chrome(), sites, sites_pager, partitions, partitions_pager, nodes, pager };
    visit.page(StatusCode::OK, Template::render(&view))
}

async fn check(State(state): State<AppState>, visit: Visit, Path(site): Path<String>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let items = match state.services.check_site(caller, &site).await {
        Ok(items) => items,
        Err(err) => return visit.error(err),
    };
    let sites = state.services.list_sites(caller).await.unwrap_or_default();
    let slurm = sites.iter().any(|s| s.name == site && s.backend == "slurm");
    // A Slurm site's account drift: the dry run's changes, or why there is none.
    let drift = if slurm {
        Some(match state.services.sync_site(caller, &site, true, now_ms()).await {
            Ok(outcome) => Ok(outcome.changes.iter().map(ToString::to_string).collect()),
            Err(err) => Err(visit.explain(err).1),
        })
    } else {
        None
    };
    let view = CheckPage {
        chrome: visit.chrome(),
        ok: items.iter().all(|i| i.ok),
        items: items
            .into_iter()
            .map(|i| CheckRow {
                what: visit.t().operate.check_item_name(i.what).to_owned(),
                ok: i.ok,
                detail: i.detail,
            })
            .collect(),
        site,
        drift,
    };
    visit.page(StatusCode::OK, Template::render(&view))
}
