//! The operator's console: sites, partitions, nodes and the queue, site
//! checks, prices and discounts, limits and QOS, the audit log. Plain
//! values the portal module fills from the services' records.

use super::manage::Attempt;
use super::{Choice, Chrome, Pager};
use askama::Template;

/// A node as `sinfo -N -l` shows it.
pub struct NodeRow {
    pub site: String,
    pub name: String,
    pub state: String,
    pub cpus_alloc: i64,
    pub cpus_idle: i64,
    pub cpus_total: i64,
    pub memory_alloc: i64,
    pub memory_total: i64,
    pub gpus_alloc: i64,
    pub gpus_total: i64,
    pub gpu_type: String,
    /// The co-builder's tenant; empty for the centre's nodes.
    pub owner: String,
}

pub struct PartitionRow {
    pub site: String,
    pub name: String,
    pub default: bool,
    pub nodes: String,
    /// In the page's language.
    pub preempt_mode: String,
    pub grace_secs: i64,
    pub priority: i64,
    pub pending: i64,
    pub running: i64,
}

pub struct SiteRow {
    pub name: String,
    pub backend: String,
    pub active: bool,
    pub synced: String,
    pub last_error: String,
}

#[derive(Template)]
#[template(path = "operate_status.html")]
pub struct StatusPage {
    pub chrome: Chrome,
    pub sites: Vec<SiteRow>,
    pub sites_pager: Option<Pager>,
    pub partitions: Vec<PartitionRow>,
    pub partitions_pager: Option<Pager>,
    pub nodes: Vec<NodeRow>,
    /// The nodes' pager (`?page=`).
    pub pager: Option<Pager>,
}

pub struct CheckRow {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "operate_check.html")]
pub struct CheckPage {
    pub chrome: Chrome,
    pub site: String,
    pub ok: bool,
    pub items: Vec<CheckRow>,
    /// A Slurm site's dry run: the changes it would make (`Ok`), or why
    /// there is none (`Err`); `None` for the local site.
    pub drift: Option<Result<Vec<String>, String>>,
}

pub struct PriceRow {
    pub site: String,
    pub partition: String,
    pub qos: String,
    pub core_hour: String,
    pub gpu_hour: String,
    pub gb_hour: String,
    pub su_per_gpu_hour: i64,
    pub since: String,
    pub set_by: String,
}

pub struct DiscountRow {
    pub sector: String,
    pub label: String,
    pub percent: String,
}

#[derive(Template)]
#[template(path = "operate_prices.html")]
pub struct PricesPage {
    pub chrome: Chrome,
    pub prices: Vec<PriceRow>,
    pub pager: Option<Pager>,
    pub discounts: Vec<DiscountRow>,
    /// The sectors, as the discount form's choices.
    pub sectors: Vec<Choice>,
    pub owner_share: String,
    pub preemptible_discount: String,
    pub sites: Vec<Choice>,
    pub modes: Vec<Choice>,
    pub attempt: Attempt,
}

pub struct LimitRow {
    pub scope: String,
    pub scope_label: String,
    pub name: String,
    pub max_running_jobs: String,
    pub max_cpus: String,
    pub max_gpus: String,
    pub max_submitted: String,
    pub updated: String,
}

pub struct QosRow {
    pub name: String,
    pub priority: i64,
    pub description: String,
}

#[derive(Template)]
#[template(path = "operate_limits.html")]
pub struct LimitsPage {
    pub chrome: Chrome,
    pub limits: Vec<LimitRow>,
    pub pager: Option<Pager>,
    pub qos: Vec<QosRow>,
    /// Project or user, as the limits form's choices.
    pub scopes: Vec<Choice>,
    pub sites: Vec<Choice>,
    pub attempt: Attempt,
}

pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target: String,
    pub change: String,
}

#[derive(Template)]
#[template(path = "operate_audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub events: Vec<AuditRow>,
    pub pager: Option<Pager>,
    /// The filters as typed: action, actor, target_kind, from, to.
    pub action: String,
    pub actor: String,
    pub target_kind: String,
    pub from: String,
    pub to: String,
}

pub struct WalletRow {
    pub tenant: String,
    pub display_name: String,
    pub balance: String,
    pub held: String,
    pub available: String,
    pub credit_limit: String,
}

#[derive(Template)]
#[template(path = "operate_wallets.html")]
pub struct WalletsPage {
    pub chrome: Chrome,
    pub wallets: Vec<WalletRow>,
    pub pager: Option<Pager>,
    pub tenants: Vec<Choice>,
    pub attempt: Attempt,
}
