//! `lushan simulate`: replays a workload trace through the scheduler's own
//! planning code ([`lushan_scheduler::pool`]) with a simulated clock, and
//! measures the result as the literature does.
//!
//! Pure, like the scheduler: the caller reads (and un-gzips) the file and
//! hands over its text; nothing here touches a clock, a file or the network.
//! [`swf`] reads the trace, [`load`] applies a setup's conventions, [`engine`]
//! replays it, [`metrics`] measures it, and [`Setup`] names everything in
//! force so a result can be reproduced.

pub mod engine;
pub mod load;
pub mod metrics;
pub mod swf;

use lushan_scheduler::pool::{Backfill, BackfillOrder};
use lushan_scheduler::priority::Order;

use crate::engine::Policy;
use crate::load::Loading;
use crate::metrics::{Summary, Utilization};

/// A named set of conventions (../shared/traces/README.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conventions {
    /// Full trace, classic filter, runtimes capped at the estimate, EASY's
    /// reservation recomputed at every event (pyss, Tsafrir et al.).
    Classic,
    /// RLScheduler's: its loader, 1,024-job windows, the head fixed until it
    /// starts, the simplified EASY, utilization to the last start.
    Rlscheduler,
}

/// How EASY's reservation is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Recomputed at every event, with the extra-processors rule.
    Recompute,
    /// Computed once when the head blocks and kept until it starts; a job
    /// backfills only if it ends strictly before it (RLScheduler).
    Fixed,
}

/// The backfilling the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackfillKind {
    None,
    Easy,
    Conservative,
}

/// Everything that decides a replay's result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    pub conventions: Conventions,
    pub order: Order,
    pub backfill: BackfillKind,
    /// `Shortest` is EASY-SJBF; `Submit` tries the jobs behind the head in
    /// submission order (`Queue`, priority order, is never chosen by a preset).
    pub backfill_order: BackfillOrder,
    pub reservation: Reservation,
    pub loading: Loading,
    /// The machine; `None` takes the header's MaxProcs, else MaxNodes.
    pub procs: Option<u64>,
    /// A window of the loaded jobs: skip this many, then take `jobs`.
    pub skip: usize,
    pub jobs: Option<usize>,
    pub fixed_head: bool,
    pub utilization: Utilization,
    pub half_life: i64,
    /// See [`Policy::free_at_expected_end`].
    pub free_at_expected_end: bool,
}

impl Setup {
    /// A preset; flags then change single conventions.
    pub fn preset(conventions: Conventions) -> Setup {
        match conventions {
            Conventions::Classic => Setup {
                conventions,
                order: Order::Fcfs,
                backfill: BackfillKind::Easy,
                backfill_order: BackfillOrder::Submit,
                reservation: Reservation::Recompute,
                loading: Loading::classic(),
                procs: None,
                skip: 0,
                jobs: None,
                fixed_head: false,
                utilization: Utilization::Makespan,
                half_life: 7 * 24 * 3600,
                free_at_expected_end: true,
            },
            Conventions::Rlscheduler => Setup {
                conventions,
                order: Order::Fcfs,
                backfill: BackfillKind::Easy,
                backfill_order: BackfillOrder::Submit,
                reservation: Reservation::Fixed,
                loading: Loading::rlscheduler(),
                procs: None,
                skip: 0,
                jobs: Some(1024),
                fixed_head: true,
                utilization: Utilization::LastStart,
                half_life: 7 * 24 * 3600,
                free_at_expected_end: false,
            },
        }
    }

    fn policy(&self) -> Policy {
        let backfill = match (self.backfill, self.reservation) {
            (BackfillKind::None, _) => Backfill::None,
            (BackfillKind::Easy, Reservation::Recompute) => Backfill::Easy,
            (BackfillKind::Easy, Reservation::Fixed) => Backfill::Simplified,
            (BackfillKind::Conservative, _) => Backfill::Conservative { depth: usize::MAX },
        };
        Policy {
            order: self.order,
            backfill,
            // Under FCFS the queue already is in submission order: spare the
            // planner a sort per pass.
            backfill_order: match (self.backfill_order, self.order) {
                (BackfillOrder::Submit, Order::Fcfs) => BackfillOrder::Queue,
                (order, _) => order,
            },
            fixed_head: self.fixed_head,
            half_life: self.half_life,
            free_at_expected_end: self.free_at_expected_end && self.loading.cap_runtime,
        }
    }
}

/// Why a trace cannot be replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// No `--procs` and no MaxProcs/MaxNodes in the header.
    NoMachineSize,
    /// Nothing left to replay after loading and windowing.
    NoJobs { records: usize, dropped: usize, too_large: usize, skip: usize },
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::NoMachineSize => {
                write!(f, "the trace's header gives neither MaxProcs nor MaxNodes: say the machine size with --procs N")
            }
            SimError::NoJobs { records, dropped, too_large, skip } => write!(
                f,
                "no jobs to replay: {records} records, {dropped} dropped by the filter, {too_large} larger than the machine, \
                 {skip} skipped by --skip{}",
                if dropped == records && *records > 0 {
                    " (the classic filter drops jobs without a requested time; try --filter rlscheduler, which takes \
                     the runtime as the estimate)"
                } else {
                    ""
                }
            ),
        }
    }
}

impl std::error::Error for SimError {}

/// A replay's result and what it was run on.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub procs: u64,
    pub records: usize,
    pub malformed: usize,
    pub dropped: usize,
    /// Job numbers larger than the machine (skipped).
    pub too_large: Vec<i64>,
    pub summary: Summary,
    /// The replayed jobs and their starts, for callers that look closer.
    pub jobs: Vec<load::Job>,
    pub starts: Vec<i64>,
}

/// Replays `trace` under `setup`.
pub fn simulate(trace: &swf::Trace, setup: &Setup, progress: &mut dyn FnMut(usize, usize)) -> Result<Report, SimError> {
    let procs = setup.procs.or(trace.header_procs()).ok_or(SimError::NoMachineSize)?;
    let loaded = load::load(&trace.records, procs, &setup.loading);
    let window: Vec<load::Job> =
        loaded.jobs.iter().skip(setup.skip).take(setup.jobs.unwrap_or(usize::MAX)).copied().collect();
    if window.is_empty() {
        return Err(SimError::NoJobs {
            records: trace.records.len(),
            dropped: loaded.dropped,
            too_large: loaded.too_large.len(),
            skip: setup.skip,
        });
    }
    let total = window.len();
    let outcome = engine::run(&window, procs, &setup.policy(), &mut |started| progress(started, total));
    let summary = metrics::summarize(&window, &outcome.starts, procs, setup.utilization);
    Ok(Report {
        procs,
        records: trace.records.len(),
        malformed: trace.malformed.len(),
        dropped: loaded.dropped,
        too_large: loaded.too_large,
        summary,
        jobs: window,
        starts: outcome.starts,
    })
}
