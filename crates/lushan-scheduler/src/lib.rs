//! The scheduler: pure functions from a site's state to decisions.
//!
//! [`schedule`] takes a [`Snapshot`] (nodes and what is busy on them, the
//! running jobs with their time limits, the queue, fair-share usage, limits,
//! `now`) and a [`Policy`], and returns a [`Plan`]: which jobs start now on
//! which cores and GPUs, why every other job waits, and when the jobs that
//! got a reservation are expected to start. The planning lives in
//! [`cluster`]; [`pool`] is its counterpart on identical processors for
//! trace replays (`lushan simulate`); [`priority`] and [`fairshare`] order
//! the queue for both.
//!
//! **Invariants:** pure (no IO, no clock: `now` is a parameter) and
//! deterministic (the same snapshot gives the same plan, byte for byte).
//! Specific CPUs and GPUs are assigned, lowest ids first, so the backend can
//! bind the job to exactly what it was given.

pub mod cluster;
pub mod dependency;
pub mod fairshare;
pub mod pool;
pub mod priority;
pub mod timeline;

pub use cluster::Policy;

/// One node as the scheduler sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub id: i64,
    pub name: String,
    /// The partitions the node belongs to.
    pub partitions: Vec<i64>,
    pub cpus: u32,
    pub memory_mb: u64,
    pub gpus: u32,
    /// What `-C/--constraint` matches against (Slurm's node `Features`).
    pub features: Vec<String>,
    /// CPU ids in use by running jobs.
    pub busy_cpus: Vec<u32>,
    pub busy_memory_mb: u64,
    pub busy_gpus: Vec<u32>,
    /// The co-builder tenant that owns the node; `None`: the centre's. Its
    /// owner's jobs may preempt guests on it, and guests come to it last.
    pub owner: Option<i64>,
}

/// A job waiting to start, with what it needs on each of its nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingJob {
    pub id: i64,
    pub partition: i64,
    pub nodes: u32,
    pub cpus_per_node: u32,
    /// 0 means all of each node's memory.
    pub memory_per_node_mb: u64,
    pub gpus_per_node: u32,
    pub exclusive: bool,
    pub held: bool,
    /// For an array task: its array's id and the array's `%N` throttle.
    pub array: Option<(i64, Option<u32>)>,
    /// When it became eligible to run (its age counts from here).
    pub submit: i64,
    /// Its time limit; 0 means none.
    pub time_limit: i64,
    pub tenant: i64,
    pub project: i64,
    pub user: i64,
    pub constraint: Option<Constraint>,
    /// Its QOS's `Priority`; the QOS factor is this over
    /// [`Snapshot::max_qos_priority`].
    pub qos_priority: u32,
}

/// A running job: what it holds, whose it is, and when its time limit ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningJob {
    pub id: i64,
    pub partition: i64,
    pub tenant: i64,
    pub start: i64,
    /// Already being preempted: `ends_at` is the end of its grace time, and
    /// no job preempts it again.
    pub preempting: bool,
    pub allocations: Vec<NodeAllocation>,
    pub exclusive: bool,
    /// `start + time limit`: the latest it can end.
    pub ends_at: i64,
    pub project: i64,
    pub user: i64,
}

/// What happens to a guest job on a co-built node when the owner needs the
/// node (Slurm's `PreemptMode`, set per partition; the guest's partition
/// decides).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PreemptMode {
    /// Guests are never preempted: owners wait like everyone else.
    #[default]
    Off,
    /// The guest ends as PREEMPTED and stays ended.
    Cancel,
    /// The guest ends as PREEMPTED and goes back to the queue.
    Requeue,
}

impl PreemptMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PreemptMode::Off => "off",
            PreemptMode::Cancel => "cancel",
            PreemptMode::Requeue => "requeue",
        }
    }

    pub fn parse(text: &str) -> Option<PreemptMode> {
        match text.to_ascii_lowercase().as_str() {
            "off" => Some(PreemptMode::Off),
            "cancel" => Some(PreemptMode::Cancel),
            "requeue" => Some(PreemptMode::Requeue),
            _ => None,
        }
    }
}

/// A partition's rules: for its guests on co-built nodes, and its weight in
/// multifactor priority. A partition not listed: `Off`, factor 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionPolicy {
    pub id: i64,
    pub preempt_mode: PreemptMode,
    /// Between the guest's SIGTERM and its SIGKILL (Slurm's `GraceTime`).
    pub grace: i64,
    /// Slurm's `PriorityJobFactor`: the partition factor of its jobs is
    /// this over the largest of the site's partitions.
    pub priority_job_factor: u32,
}

impl PartitionPolicy {
    /// What Slurm assumes of a partition nobody configured.
    pub fn unlisted(id: i64) -> PartitionPolicy {
        PartitionPolicy { id, preempt_mode: PreemptMode::Off, grace: 0, priority_job_factor: 1 }
    }
}

/// Decayed past usage of one (tenant, project, user), for fair-share.
#[derive(Clone, Debug, PartialEq)]
pub struct Usage {
    pub tenant: i64,
    pub project: i64,
    pub user: i64,
    /// Core-seconds, already decayed by the half-life ([`fairshare::decay`]).
    pub usage: f64,
}

/// Whose running jobs a [`Limit`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitScope {
    /// All of a project's jobs (Slurm's association `Grp*` limits).
    Project(i64),
    /// All of a user's jobs (Slurm's QOS `Max*PerUser` limits).
    User(i64),
    /// A user's jobs in one project (Slurm's (user, account) association:
    /// `MaxJobs`, `GrpTRES`).
    Member { project: i64, user: i64 },
}

/// Caps on what one project, user or member may have running at once. A job that
/// would go over waits with Slurm's reason for the limit and holds nothing
/// back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    pub scope: LimitScope,
    pub max_running_jobs: Option<u64>,
    pub max_cpus: Option<u64>,
    pub max_gpus: Option<u64>,
}

/// The site at `now`.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub nodes: Vec<Node>,
    /// Must agree with the nodes' busy lists: the planner gives back what
    /// they hold at their `ends_at`.
    pub running: Vec<RunningJob>,
    pub pending: Vec<PendingJob>,
    /// How many tasks of each array run now, for `%N` throttles.
    pub array_running: Vec<(i64, u32)>,
    pub usage: Vec<Usage>,
    pub limits: Vec<Limit>,
    pub partitions: Vec<PartitionPolicy>,
    /// The largest `Priority` of any QOS (Slurm normalises by it, used or
    /// not); 0 when every QOS has priority 0.
    pub max_qos_priority: u32,
    pub now: i64,
}

/// What a started job was given on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeAllocation {
    pub node: i64,
    pub node_name: String,
    pub cpus: Vec<u32>,
    pub memory_mb: u64,
    pub gpus: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    pub job: i64,
    pub allocations: Vec<NodeAllocation>,
}

/// The decisions of one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub starts: Vec<Start>,
    /// Why each job that stays pending does.
    pub pending: Vec<(i64, PendingReason)>,
    /// When each job that got a reservation is expected to start, if every
    /// running job runs to its time limit.
    pub estimates: Vec<(i64, i64)>,
    /// Guest jobs to end so that owners' jobs can run on their nodes.
    pub preemptions: Vec<Preemption>,
}

/// A guest job the owner of its node needs gone: signal it now, kill it
/// after `grace`, then cancel or requeue it as `mode` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preemption {
    pub job: i64,
    /// The owner's job it makes room for.
    pub by: i64,
    pub mode: PreemptMode,
    pub grace: i64,
}

/// One scheduling pass.
pub fn schedule(policy: &Policy, snapshot: &Snapshot) -> Plan {
    cluster::plan(policy, snapshot)
}

/// Expected starts for `squeue --start`: every waiting job gets a
/// reservation, in the policy's order, as if every running job ran to its
/// time limit and nothing else were submitted. Jobs without one (held, over
/// a limit, never fitting) are absent.
pub fn estimate_starts(policy: &Policy, snapshot: &Snapshot) -> Vec<(i64, i64)> {
    let conservative = Policy { backfill: pool::Backfill::Conservative { depth: usize::MAX }, ..*policy };
    let plan = cluster::plan(&conservative, snapshot);
    let mut out: Vec<(i64, i64)> = plan.starts.iter().map(|s| (s.job, snapshot.now)).collect();
    out.extend(plan.estimates);
    out
}

/// Each pending job's priority in parts (`sprio`), under a multifactor
/// policy; `None` under one that orders by something else (FCFS, SJF...).
pub fn priorities(policy: &Policy, snapshot: &Snapshot) -> Option<Vec<(i64, priority::Weighted)>> {
    let priority::Order::Multifactor(weights) = policy.order else { return None };
    let parts = cluster::weighted_priorities(&weights, snapshot);
    Some(snapshot.pending.iter().map(|j| j.id).zip(parts).collect())
}

/// The lowest-numbered free ids of `0..total`, if there are `want` of them.
fn take_free(total: u32, busy: &[u32], want: u32) -> Option<Vec<u32>> {
    if want == 0 {
        return Some(Vec::new());
    }
    let mut used = vec![false; total as usize];
    for &id in busy {
        if let Some(slot) = used.get_mut(id as usize) {
            *slot = true;
        }
    }
    let taken: Vec<u32> = (0..total).filter(|&id| !used[id as usize]).take(want as usize).collect();
    (taken.len() == want as usize).then_some(taken)
}

/// Whether a job could ever run on the empty partition (submission checks).
pub fn fits_empty(job: &PendingJob, nodes: &[Node]) -> bool {
    job.nodes > 0 && nodes.iter().filter(|n| cluster::serves(job, n)).count() >= job.nodes as usize
}

/// A `-C/--constraint` expression: features joined by `&` (or `,`, both
/// AND) and `|` (OR, binding looser), as Slurm reads `a&b|c`. Brackets,
/// counts (`a*2`) and node-set alternatives are not supported and are
/// rejected at submission.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Constraint {
    /// Any of these sets; every feature of a set.
    pub any_of: Vec<Vec<String>>,
}

impl Constraint {
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let mut any_of = Vec::new();
        for alternative in text.split('|') {
            let mut all = Vec::new();
            for feature in alternative.split(['&', ',']) {
                let feature = feature.trim();
                let valid = !feature.is_empty()
                    && feature.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
                if !valid {
                    return Err(format!(
                        "'{text}' is not a constraint Lushan reads: use feature names joined by & (and) and | (or), e.g. 'avx512&ib|a100'"
                    ));
                }
                all.push(feature.to_string());
            }
            any_of.push(all);
        }
        Ok(Constraint { any_of })
    }

    pub fn matches(&self, features: &[String]) -> bool {
        self.any_of.iter().any(|all| all.iter().all(|f| features.contains(f)))
    }

    /// Every feature named.
    pub fn features(&self) -> impl Iterator<Item = &str> {
        self.any_of.iter().flatten().map(String::as_str)
    }
}

use lushan_model::PendingReason;

/// What a request asks of each node, once sbatch's defaults are applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerNode {
    pub nodes: u32,
    pub ntasks: u32,
    pub cpus_per_task: u32,
    pub cpus_per_node: u64,
    /// 0 means all of each node's memory.
    pub memory_mb: u64,
    pub gpu_kind: Option<String>,
    pub gpus: u32,
}

/// sbatch's arithmetic: one node and one task by default; tasks spread
/// evenly over the nodes unless `--ntasks-per-node` says; without `--mem`,
/// `default_mem_per_cpu` for each CPU (Slurm's DefMemPerCPU); `--gpus` is
/// shared out over the nodes. Never overflows, whatever the request.
pub fn per_node(request: &lushan_model::JobRequest, default_mem_per_cpu: u64) -> PerNode {
    use lushan_model::{GpuRequest, MemRequest};
    let nodes = request.nodes.unwrap_or(1).max(1);
    let cpus_per_task = request.cpus_per_task.unwrap_or(1);
    let ntasks =
        request.ntasks.unwrap_or_else(|| request.ntasks_per_node.map(|n| n.saturating_mul(nodes)).unwrap_or(nodes));
    let tasks_per_node = request.ntasks_per_node.unwrap_or_else(|| ntasks.div_ceil(nodes));
    let cpus_per_node = u64::from(tasks_per_node) * u64::from(cpus_per_task);
    let memory_mb = match request.mem {
        Some(MemRequest::PerNode(mb)) => mb,
        Some(MemRequest::PerCpu(mb)) => mb.saturating_mul(cpus_per_node),
        None => default_mem_per_cpu.saturating_mul(cpus_per_node),
    };
    let (gpu_kind, gpus) = match &request.gpus {
        Some(GpuRequest::PerNode { kind, count }) => (kind.clone(), *count),
        Some(GpuRequest::Total { kind, count }) => (kind.clone(), count.div_ceil(nodes)),
        None => (None, 0),
    };
    PerNode { nodes, ntasks, cpus_per_task, cpus_per_node, memory_mb, gpu_kind, gpus }
}

#[cfg(test)]
mod per_node_tests {
    use super::*;
    use lushan_model::{GpuRequest, JobRequest, MemRequest};

    #[test]
    fn sbatch_defaults_and_spreading() {
        let plain = per_node(&JobRequest::default(), 500);
        assert_eq!((plain.nodes, plain.ntasks, plain.cpus_per_node, plain.memory_mb), (1, 1, 1, 500));
        let spread = JobRequest { nodes: Some(2), ntasks: Some(5), cpus_per_task: Some(2), ..JobRequest::default() };
        let spread = per_node(&spread, 100);
        assert_eq!((spread.cpus_per_node, spread.memory_mb), (6, 600));
        let per_node_tasks = JobRequest {
            nodes: Some(3),
            ntasks_per_node: Some(4),
            mem: Some(MemRequest::PerCpu(10)),
            ..JobRequest::default()
        };
        let per_node_tasks = per_node(&per_node_tasks, 100);
        assert_eq!((per_node_tasks.ntasks, per_node_tasks.cpus_per_node, per_node_tasks.memory_mb), (12, 4, 40));
        let gpus = JobRequest {
            nodes: Some(2),
            gpus: Some(GpuRequest::Total { kind: Some("a100".into()), count: 3 }),
            ..JobRequest::default()
        };
        assert_eq!(per_node(&gpus, 0).gpus, 2);
    }

    #[test]
    fn huge_requests_saturate_instead_of_overflowing() {
        let huge = JobRequest {
            nodes: Some(1_000_000),
            ntasks_per_node: Some(1_000_000),
            cpus_per_task: Some(1_000_000),
            mem: Some(MemRequest::PerCpu(1 << 40)),
            ..JobRequest::default()
        };
        let result = per_node(&huge, 0);
        assert_eq!(result.ntasks, 1_000_000u32.saturating_mul(1_000_000));
        assert_eq!(result.memory_mb, u64::MAX);
    }
}

#[cfg(test)]
mod priorities_tests {
    use super::*;
    use priority::{Order, Weights};

    #[test]
    fn sprio_parts_add_up_to_the_priority_the_queue_is_ordered_by() {
        let node = Node {
            id: 1,
            name: "n1".into(),
            partitions: vec![1, 2],
            cpus: 4,
            memory_mb: 1000,
            gpus: 0,
            features: vec![],
            busy_cpus: vec![],
            busy_memory_mb: 0,
            busy_gpus: vec![],
            owner: None,
        };
        let job = |id: i64, partition: i64, qos_priority: u32, submit: i64| PendingJob {
            id,
            partition,
            nodes: 1,
            cpus_per_node: 2,
            memory_per_node_mb: 10,
            gpus_per_node: 0,
            exclusive: false,
            held: false,
            array: None,
            submit,
            time_limit: 10,
            tenant: 1,
            project: 1,
            user: 1,
            constraint: None,
            qos_priority,
        };
        let snapshot = Snapshot {
            nodes: vec![node],
            pending: vec![job(1, 1, 0, 0), job(2, 2, 0, 50), job(3, 1, 10, 90)],
            partitions: vec![PartitionPolicy { priority_job_factor: 4, ..PartitionPolicy::unlisted(2) }],
            max_qos_priority: 20,
            now: 100,
            ..Snapshot::default()
        };
        let weights = Weights { age: 1000, fairshare: 0, job_size: 100, partition: 1000, qos: 10_000, max_age: 100 };
        let policy = Policy { order: Order::Multifactor(weights), backfill: pool::Backfill::Easy };
        let parts = priorities(&policy, &snapshot).unwrap();
        let of = |id: i64| parts.iter().find(|p| p.0 == id).unwrap().1;
        assert_eq!((of(1).age, of(1).partition, of(1).qos, of(1).job_size), (1000.0, 250.0, 0.0, 50.0));
        assert_eq!((of(2).age, of(2).partition), (500.0, 1000.0));
        assert_eq!((of(3).qos, of(3).total()), (5000.0, 100 + 250 + 5000 + 50));
        // The order the planner tries them in is by these totals.
        let plan = schedule(&policy, &Snapshot { nodes: vec![], ..snapshot.clone() });
        let reasons: Vec<i64> = plan.pending.iter().map(|p| p.0).collect();
        assert_eq!(reasons, [3, 2, 1], "5400, then 1550, then 1300: {parts:?}");
        assert!(priorities(&Policy::FIFO, &snapshot).is_none());
    }
}
