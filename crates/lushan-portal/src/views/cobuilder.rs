//! A co-builder's page: its nodes, use by itself and by guests month by
//! month (charts and the same figures in a table), guests' jobs it
//! preempted, and a month's settlement with the jobs that earned.

use super::{Chrome, Pager};
use crate::chart::Chart;
use askama::Template;

/// One co-built node.
pub struct NodeRow {
    pub site: String,
    pub name: String,
    /// The partitions it is in, comma-separated.
    pub partitions: String,
    pub cpus: i64,
    pub gpus: i64,
    pub memory_gb: String,
    /// Slurm's state of the node; empty on local sites.
    pub state: String,
}

/// One month of the overview.
pub struct MonthRow {
    pub month: String,
    pub jobs: usize,
    pub own_core_hours: String,
    pub guest_core_hours: String,
    pub preemptions: usize,
    /// CNY, as the language writes it.
    pub earned: String,
    /// The month's detail (`/cobuilder?month=...`).
    pub link: String,
}

/// One job run of a settlement.
pub struct SettlementLine {
    pub month: String,
    pub job_id: i64,
    /// Whether the viewer may open the job's page (the services say).
    pub linked: bool,
    pub run: i64,
    pub user: String,
    pub tenant: String,
    pub project: String,
    pub own: bool,
    pub core_hours: String,
    /// `12.50 CNY` or `3.00 SU`, as the settlement says it.
    pub charged: String,
    /// In the page's language.
    pub funding: String,
    pub earned: String,
    pub preempted: bool,
}

/// A month's settlement.
pub struct MonthDetail {
    pub month: String,
    pub own_core_hours: String,
    pub guest_core_hours: String,
    pub earned: String,
    pub lines: Vec<SettlementLine>,
    pub pager: Option<Pager>,
}

#[derive(Template)]
#[template(path = "cobuilder.html")]
pub struct CobuilderPage {
    pub chrome: Chrome,
    /// The co-builder shown (its tenant's name); empty when none could be.
    pub tenant: String,
    /// An operator's `?tenant=`, kept in the links and the form.
    pub tenant_query: String,
    /// Whether the tenant field is offered (operators).
    pub choose: bool,
    /// The last month of the overview (`YYYY-MM`).
    pub to: String,
    /// Why the months or the month asked for cannot be shown.
    pub month_error: Option<String>,
    pub nodes: Vec<NodeRow>,
    pub charts: Vec<Chart>,
    pub months: Vec<MonthRow>,
    pub total: Option<MonthRow>,
    pub preempted: Vec<SettlementLine>,
    pub detail: Option<MonthDetail>,
}

impl CobuilderPage {
    /// `&tenant=NAME` for links, when an operator chose one.
    pub fn tenant_part(&self) -> String {
        if self.tenant_query.is_empty() { String::new() } else { format!("&tenant={}", self.tenant_query) }
    }
}
