//! The scheduler's interface: a pure function from the cluster and the queue
//! to decisions. Today one policy lives behind it, [`Policy::Fifo`]: start
//! jobs strictly in submission order as resources allow (the first job that
//! does not fit waits with reason `Resources`, and holds back the jobs behind
//! it with reason `Priority`). Multifactor priority and backfilling (issue 5)
//! arrive as more policies behind the same [`schedule`] call, so nothing
//! outside this crate changes when they do.
//!
//! **Invariants:** pure (no IO, no clock: `now` is a parameter) and
//! deterministic (the same snapshot gives the same plan, byte for byte).
//! Specific CPUs and GPUs are assigned, lowest ids first, so the backend can
//! bind the job to exactly what it was given.

pub mod dependency;
pub mod fairshare;
pub mod pool;
pub mod priority;

use lushan_model::PendingReason;

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
    /// CPU ids in use by running jobs.
    pub busy_cpus: Vec<u32>,
    pub busy_memory_mb: u64,
    pub busy_gpus: Vec<u32>,
    /// A running job holds the node exclusively.
    pub exclusive: bool,
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Fifo,
}

/// The queue (in submission order) and the cluster at `now`.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub nodes: Vec<Node>,
    pub pending: Vec<PendingJob>,
    /// How many tasks of each array run now, for `%N` throttles.
    pub array_running: Vec<(i64, u32)>,
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
}

/// One scheduling pass.
pub fn schedule(policy: Policy, snapshot: &Snapshot) -> Plan {
    match policy {
        Policy::Fifo => fifo(snapshot),
    }
}

fn fifo(snapshot: &Snapshot) -> Plan {
    let mut nodes = snapshot.nodes.clone();
    let mut plan = Plan::default();
    let mut blocked = false;
    let mut array_running: std::collections::BTreeMap<i64, u32> = snapshot.array_running.iter().copied().collect();
    for job in &snapshot.pending {
        if job.held {
            plan.pending.push((job.id, PendingReason::JobHeldUser));
            continue;
        }
        // A throttled task waits without holding back other jobs, as in Slurm.
        if let Some((array, Some(throttle))) = job.array
            && array_running.get(&array).copied().unwrap_or(0) >= throttle
        {
            plan.pending.push((job.id, PendingReason::JobArrayTaskLimit));
            continue;
        }
        if blocked {
            plan.pending.push((job.id, PendingReason::Priority));
            continue;
        }
        match place(job, &nodes) {
            Some(allocations) => {
                occupy(&mut nodes, &allocations, job.exclusive);
                if let Some((array, _)) = job.array {
                    *array_running.entry(array).or_insert(0) += 1;
                }
                plan.starts.push(Start { job: job.id, allocations });
            }
            None => {
                plan.pending.push((job.id, PendingReason::Resources));
                blocked = true;
            }
        }
    }
    plan
}

/// Marks what a started job was given as busy.
fn occupy(nodes: &mut [Node], allocations: &[NodeAllocation], exclusive: bool) {
    for allocation in allocations {
        if let Some(node) = nodes.iter_mut().find(|n| n.id == allocation.node) {
            node.busy_cpus.extend(&allocation.cpus);
            node.busy_memory_mb += allocation.memory_mb;
            node.busy_gpus.extend(&allocation.gpus);
            node.exclusive |= exclusive;
        }
    }
}

/// The lowest-numbered free ids of `0..total`, if there are `want` of them.
fn take_free(total: u32, busy: &[u32], want: u32) -> Option<Vec<u32>> {
    let taken: Vec<u32> = (0..total).filter(|id| !busy.contains(id)).take(want as usize).collect();
    (taken.len() == want as usize).then_some(taken)
}

/// Where a job fits now: the first nodes (in snapshot order) of its
/// partition with room, or `None`.
fn place(job: &PendingJob, nodes: &[Node]) -> Option<Vec<NodeAllocation>> {
    let mut allocations = Vec::new();
    for node in nodes.iter().filter(|n| n.partitions.contains(&job.partition)) {
        if allocations.len() == job.nodes as usize {
            break;
        }
        if node.exclusive || (job.exclusive && (!node.busy_cpus.is_empty() || !node.busy_gpus.is_empty())) {
            continue;
        }
        let want_cpus = if job.exclusive { node.cpus } else { job.cpus_per_node };
        let memory = if job.memory_per_node_mb == 0 || job.exclusive { node.memory_mb } else { job.memory_per_node_mb };
        if node.busy_memory_mb + memory > node.memory_mb || want_cpus > node.cpus {
            continue;
        }
        let Some(cpus) = take_free(node.cpus, &node.busy_cpus, want_cpus) else { continue };
        let want_gpus = if job.exclusive { node.gpus } else { job.gpus_per_node };
        let Some(gpus) = take_free(node.gpus, &node.busy_gpus, want_gpus) else { continue };
        allocations.push(NodeAllocation { node: node.id, node_name: node.name.clone(), cpus, memory_mb: memory, gpus });
    }
    (allocations.len() == job.nodes as usize).then_some(allocations)
}

/// Whether a job could ever run on the empty partition (submission checks).
pub fn fits_empty(job: &PendingJob, nodes: &[Node]) -> bool {
    let empty: Vec<Node> = nodes
        .iter()
        .map(|n| Node { busy_cpus: vec![], busy_memory_mb: 0, busy_gpus: vec![], exclusive: false, ..n.clone() })
        .collect();
    place(job, &empty).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, cpus: u32, memory_mb: u64, gpus: u32) -> Node {
        Node {
            id,
            name: format!("n{id}"),
            partitions: vec![1],
            cpus,
            memory_mb,
            gpus,
            busy_cpus: vec![],
            busy_memory_mb: 0,
            busy_gpus: vec![],
            exclusive: false,
        }
    }

    fn job(id: i64, cpus: u32) -> PendingJob {
        PendingJob {
            id,
            partition: 1,
            nodes: 1,
            cpus_per_node: cpus,
            memory_per_node_mb: 100,
            gpus_per_node: 0,
            exclusive: false,
            held: false,
            array: None,
        }
    }

    #[test]
    fn fifo_starts_in_order_and_the_first_that_does_not_fit_blocks_the_rest() {
        let snapshot = Snapshot {
            nodes: vec![node(1, 4, 1000, 0)],
            pending: vec![job(1, 2), job(2, 1), job(3, 2), job(4, 1)],
            array_running: vec![],
            now: 0,
        };
        let plan = schedule(Policy::Fifo, &snapshot);
        let started: Vec<(i64, Vec<u32>)> =
            plan.starts.iter().map(|s| (s.job, s.allocations[0].cpus.clone())).collect();
        assert_eq!(started, [(1, vec![0, 1]), (2, vec![2])]);
        assert_eq!(plan.pending, [(3, PendingReason::Resources), (4, PendingReason::Priority)]);
    }

    #[test]
    fn held_jobs_wait_without_blocking_and_busy_resources_are_respected() {
        let mut n = node(1, 4, 1000, 2);
        n.busy_cpus = vec![0, 2];
        n.busy_gpus = vec![0];
        let mut held = job(1, 1);
        held.held = true;
        let mut gpu_job = job(2, 2);
        gpu_job.gpus_per_node = 1;
        let plan = schedule(
            Policy::Fifo,
            &Snapshot { nodes: vec![n], pending: vec![held, gpu_job], array_running: vec![], now: 0 },
        );
        assert_eq!(plan.pending, [(1, PendingReason::JobHeldUser)]);
        assert_eq!(plan.starts[0].allocations[0].cpus, [1, 3]);
        assert_eq!(plan.starts[0].allocations[0].gpus, [1]);
    }

    #[test]
    fn exclusive_jobs_take_whole_empty_nodes_and_memory_is_counted() {
        let mut exclusive = job(1, 1);
        exclusive.exclusive = true;
        let plan = schedule(
            Policy::Fifo,
            &Snapshot {
                nodes: vec![node(1, 4, 1000, 0)],
                pending: vec![exclusive, job(2, 1)],
                array_running: vec![],
                now: 0,
            },
        );
        assert_eq!(plan.starts.len(), 1);
        assert_eq!(plan.starts[0].allocations[0].cpus, [0, 1, 2, 3]);
        assert_eq!(plan.pending, [(2, PendingReason::Resources)]);

        let mut big = job(3, 1);
        big.memory_per_node_mb = 2000;
        assert!(!fits_empty(&big, &[node(1, 4, 1000, 0)]));
        let mut two_nodes = job(4, 4);
        two_nodes.nodes = 2;
        assert!(fits_empty(&two_nodes, &[node(1, 4, 1000, 0), node(2, 4, 1000, 0)]));
        assert!(!fits_empty(&two_nodes, &[node(1, 4, 1000, 0)]));
    }

    #[test]
    fn array_throttles_hold_back_only_their_own_tasks() {
        let task = |id, array| PendingJob { array: Some((array, Some(2))), ..job(id, 1) };
        let snapshot = Snapshot {
            nodes: vec![node(1, 8, 4000, 0)],
            pending: vec![task(11, 10), task(12, 10), task(13, 10), job(20, 1)],
            array_running: vec![(10, 1)],
            now: 0,
        };
        let plan = schedule(Policy::Fifo, &snapshot);
        let started: Vec<i64> = plan.starts.iter().map(|s| s.job).collect();
        assert_eq!(started, [11, 20]);
        assert_eq!(plan.pending, [(12, PendingReason::JobArrayTaskLimit), (13, PendingReason::JobArrayTaskLimit)]);
    }

    #[test]
    fn the_same_snapshot_gives_the_same_plan() {
        let snapshot = Snapshot {
            nodes: vec![node(1, 8, 4000, 2), node(2, 8, 4000, 0)],
            pending: (1..50).map(|i| job(i, (i % 5) as u32 + 1)).collect(),
            array_running: vec![],
            now: 7,
        };
        assert_eq!(schedule(Policy::Fifo, &snapshot), schedule(Policy::Fifo, &snapshot));
    }
}

/// A running job, for estimates: what it holds and when its time limit ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningJob {
    pub allocations: Vec<NodeAllocation>,
    pub exclusive: bool,
    /// `start + time limit`: the latest it can end.
    pub ends_at: i64,
}

/// When each pending job would start under FIFO if every running job ran
/// to its time limit (`squeue --start`): a pessimistic bound, as Slurm's.
/// `None` for held jobs and jobs that could never start. `nodes` carry what
/// `running` holds already; `time_limits` are in the order of `pending`.
pub fn estimate_starts(
    nodes: &[Node],
    running: &[RunningJob],
    pending: &[PendingJob],
    time_limits: &[u64],
    now: i64,
) -> Vec<(i64, Option<i64>)> {
    let mut nodes = nodes.to_vec();
    // (end time, what it frees, exclusive)
    let mut ends: Vec<(i64, Vec<NodeAllocation>, bool)> =
        running.iter().map(|r| (r.ends_at, r.allocations.clone(), r.exclusive)).collect();
    let mut clock = now;
    let mut out = Vec::with_capacity(pending.len());
    let release = |nodes: &mut Vec<Node>, allocations: &[NodeAllocation], exclusive: bool| {
        for a in allocations {
            if let Some(node) = nodes.iter_mut().find(|n| n.id == a.node) {
                node.busy_cpus.retain(|c| !a.cpus.contains(c));
                node.busy_gpus.retain(|g| !a.gpus.contains(g));
                node.busy_memory_mb = node.busy_memory_mb.saturating_sub(a.memory_mb);
                if exclusive {
                    node.exclusive = false;
                }
            }
        }
    };
    for (index, job) in pending.iter().enumerate() {
        if job.held || !fits_empty(job, &nodes) {
            out.push((job.id, None));
            continue;
        }
        loop {
            // Everything that ends by `clock` has freed its resources.
            ends.sort_by_key(|e| e.0);
            while ends.first().is_some_and(|e| e.0 <= clock) {
                let (_, allocations, exclusive) = ends.remove(0);
                release(&mut nodes, &allocations, exclusive);
            }
            if let Some(allocations) = place(job, &nodes) {
                occupy(&mut nodes, &allocations, job.exclusive);
                let limit = i64::try_from(time_limits.get(index).copied().unwrap_or(0)).unwrap_or(i64::MAX / 4);
                ends.push((clock.saturating_add(limit.saturating_mul(1000)), allocations, job.exclusive));
                out.push((job.id, Some(clock)));
                break;
            }
            match ends.first() {
                Some(next) => clock = next.0,
                None => {
                    out.push((job.id, None));
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod estimate_tests {
    use super::*;

    #[test]
    fn starts_follow_the_time_limits_of_running_and_earlier_jobs() {
        let node = Node {
            id: 1,
            name: "n1".into(),
            partitions: vec![1],
            cpus: 2,
            memory_mb: 1000,
            gpus: 0,
            busy_cpus: vec![0, 1],
            busy_memory_mb: 200,
            busy_gpus: vec![],
            exclusive: false,
        };
        let running = vec![
            RunningJob {
                allocations: vec![NodeAllocation {
                    node: 1,
                    node_name: "n1".into(),
                    cpus: vec![0],
                    memory_mb: 100,
                    gpus: vec![],
                }],
                exclusive: false,
                ends_at: 10_000,
            },
            RunningJob {
                allocations: vec![NodeAllocation {
                    node: 1,
                    node_name: "n1".into(),
                    cpus: vec![1],
                    memory_mb: 100,
                    gpus: vec![],
                }],
                exclusive: false,
                ends_at: 20_000,
            },
        ];
        let job = |id, cpus| PendingJob {
            id,
            partition: 1,
            nodes: 1,
            cpus_per_node: cpus,
            memory_per_node_mb: 100,
            gpus_per_node: 0,
            exclusive: false,
            held: false,
            array: None,
        };
        let mut held = job(4, 1);
        held.held = true;
        let estimates = estimate_starts(
            &[node],
            &running,
            &[job(1, 1), job(2, 2), job(3, 1), held, job(5, 3)],
            &[5, 5, 5, 5, 5],
            0,
        );
        // Job 1 takes the CPU freed at 10 s; job 2 needs both (20 s, when job 1's 5 s are over too);
        // job 3 waits for job 2 (FIFO); job 4 is held; job 5 can never fit.
        assert_eq!(estimates, [(1, Some(10_000)), (2, Some(20_000)), (3, Some(25_000)), (4, None), (5, None)]);
    }
}

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
