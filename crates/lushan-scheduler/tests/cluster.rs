//! Property tests of the cluster planner on random clusters and queues,
//! replayed with a clock that jumps from one job end to the next (every job
//! runs exactly its time limit, or less where a test says so).

use std::collections::{BTreeMap, BTreeSet};

use lushan_scheduler::pool::Backfill;
use lushan_scheduler::priority::{Order, Weights};
use lushan_scheduler::{
    Constraint, Node, PartitionPolicy, PendingJob, Policy, PreemptMode, RunningJob, Snapshot, fits_empty, schedule,
};
use proptest::prelude::*;

const FEATURES: [&str; 2] = ["a", "b"];

fn cluster() -> impl Strategy<Value = Vec<Node>> {
    prop::collection::vec((1u32..9, 1u64..5, 0u32..3, 1u8..4, 0u8..4), 1..7).prop_map(|nodes| {
        nodes
            .into_iter()
            .enumerate()
            .map(|(i, (cpus, memory_gb, gpus, partitions, features))| Node {
                id: i as i64 + 1,
                name: format!("n{}", i + 1),
                // Bit 0: partition 1, bit 1: partition 2 (some nodes in both).
                partitions: [1, 2].into_iter().filter(|p| partitions & (1 << (p - 1)) != 0).collect(),
                cpus,
                memory_mb: memory_gb * 1000,
                gpus,
                features: FEATURES
                    .iter()
                    .enumerate()
                    .filter(|(b, _)| features & (1 << b) != 0)
                    .map(|(_, f)| f.to_string())
                    .collect(),
                busy_cpus: vec![],
                busy_memory_mb: 0,
                busy_gpus: vec![],
                owner: None,
            })
            .collect()
    })
}

/// A cluster some of whose nodes tenants 0 and 1 co-built.
fn co_built_cluster() -> impl Strategy<Value = Vec<Node>> {
    (cluster(), prop::collection::vec(0u8..3, 7)).prop_map(|(mut nodes, owners)| {
        for (node, owner) in nodes.iter_mut().zip(owners) {
            node.owner = match owner {
                0 => None,
                tenant => Some(i64::from(tenant) - 1),
            };
        }
        nodes
    })
}

fn queue() -> impl Strategy<Value = Vec<PendingJob>> {
    let job = (1u32..3, 1u32..9, 0u64..4, 0u32..3, 1i64..50, 0i64..40, 0u8..12, 1i64..3, 1i64..4);
    prop::collection::vec(job, 0..30).prop_map(|jobs| {
        jobs.into_iter()
            .enumerate()
            .map(|(i, (nodes, cpus, memory_gb, gpus, time, submit, flags, partition, user))| PendingJob {
                id: i as i64 + 1,
                partition,
                nodes,
                cpus_per_node: cpus,
                // 0: the whole node's memory.
                memory_per_node_mb: memory_gb * 700,
                gpus_per_node: gpus,
                exclusive: flags == 0,
                held: false,
                array: None,
                submit,
                time_limit: time * 10,
                tenant: user % 2,
                project: user,
                user,
                constraint: match flags {
                    1 => Some(Constraint::parse("a").unwrap()),
                    2 => Some(Constraint::parse("a|b").unwrap()),
                    3 => Some(Constraint::parse("a&b").unwrap()),
                    _ => None,
                },
                qos_priority: (user % 3) as u32,
            })
            .collect()
    })
}

fn policies() -> Vec<Policy> {
    let mut out = Vec::new();
    for order in
        [Order::Fcfs, Order::Multifactor(Weights { max_age: 500, partition: 500, qos: 2000, ..Weights::default() })]
    {
        for backfill in [
            Backfill::None,
            Backfill::Easy,
            Backfill::Conservative { depth: 3 },
            Backfill::Conservative { depth: usize::MAX },
        ] {
            out.push(Policy { order, backfill });
        }
    }
    out
}

/// What happened in a replay.
#[derive(Default, Debug)]
struct Replay {
    /// Each job's last start.
    starts: BTreeMap<i64, i64>,
    /// Jobs that ran to their end (not preempted).
    finished: BTreeSet<i64>,
    preemptions: usize,
    /// Every estimate each job got, in pass order.
    estimates: BTreeMap<i64, Vec<i64>>,
}

/// Replays `queue` on `nodes` from time 0 with no further submissions. A
/// job runs `runtime(job)`; the clock moves to the next end after each pass.
/// Checks after every pass that no node is over-allocated.
fn replay(
    nodes: &[Node],
    queue: &[PendingJob],
    policy: &Policy,
    runtime: &dyn Fn(&PendingJob) -> i64,
    arrivals: bool,
) -> Result<Replay, String> {
    let partitions = vec![
        PartitionPolicy { id: 1, preempt_mode: PreemptMode::Requeue, grace: 5, priority_job_factor: 1 },
        PartitionPolicy { id: 2, preempt_mode: PreemptMode::Cancel, grace: 3, priority_job_factor: 3 },
    ];
    let mut snapshot = Snapshot { nodes: nodes.to_vec(), partitions, max_qos_priority: 2, ..Snapshot::default() };
    // With `arrivals`, each job is submitted at its submit time; else all at 0.
    let mut future: Vec<PendingJob> = queue.to_vec();
    future.sort_by_key(|j| std::cmp::Reverse((if arrivals { j.submit } else { 0 }, j.id)));
    let arrival = |j: &PendingJob| if arrivals { j.submit } else { 0 };
    let jobs: BTreeMap<i64, PendingJob> = queue.iter().map(|j| (j.id, j.clone())).collect();
    let mut preempted: BTreeMap<i64, PreemptMode> = BTreeMap::new();
    // (real end, job id) of each running job, beside the snapshot's entry.
    let mut ends: Vec<(i64, i64)> = Vec::new();
    let mut out = Replay::default();
    for _ in 0..10_000 {
        while future.last().is_some_and(|j| arrival(j) <= snapshot.now) {
            snapshot.pending.extend(future.pop());
        }
        let plan = schedule(policy, &snapshot);
        if plan != schedule(policy, &snapshot) {
            return Err("the same snapshot gave two plans".into());
        }
        for &(job, at) in &plan.estimates {
            if at < snapshot.now {
                return Err(format!("job {job} expected at {at}, before now ({})", snapshot.now));
            }
            out.estimates.entry(job).or_default().push(at);
        }
        for p in &plan.preemptions {
            let Some(owner) = snapshot.pending.iter().find(|j| j.id == p.by) else {
                return Err(format!("job {} preempted for {}, which is not pending", p.job, p.by));
            };
            let Some(r) = snapshot.running.iter().position(|j| j.id == p.job) else {
                return Err(format!("job {} preempted but not running", p.job));
            };
            let guest = &mut snapshot.running[r];
            let on_owners_node =
                guest.allocations.iter().any(|a| nodes.iter().any(|n| n.id == a.node && n.owner == Some(owner.tenant)));
            if guest.preempting || guest.tenant == owner.tenant || !on_owners_node {
                return Err(format!(
                    "job {} of tenant {} preempted for {} of tenant {}",
                    p.job, guest.tenant, p.by, owner.tenant
                ));
            }
            guest.preempting = true;
            guest.ends_at = snapshot.now + p.grace;
            ends[r].0 = ends[r].0.min(snapshot.now + p.grace);
            preempted.insert(p.job, p.mode);
            out.preemptions += 1;
        }
        for start in &plan.starts {
            let Some(index) = snapshot.pending.iter().position(|j| j.id == start.job) else {
                return Err(format!("job {} started but was not pending", start.job));
            };
            let job = snapshot.pending.remove(index);
            if start.allocations.len() != job.nodes as usize {
                return Err(format!("job {} got {} nodes of {}", job.id, start.allocations.len(), job.nodes));
            }
            let mut seen = BTreeSet::new();
            for allocation in &start.allocations {
                if !seen.insert(allocation.node) {
                    return Err(format!("job {} got node {} twice", job.id, allocation.node));
                }
                let node = snapshot.nodes.iter_mut().find(|n| n.id == allocation.node).unwrap();
                if !node.partitions.contains(&job.partition)
                    || job.constraint.as_ref().is_some_and(|c| !c.matches(&node.features))
                {
                    return Err(format!("job {} on node {} outside its partition or constraint", job.id, node.name));
                }
                if job.exclusive
                    && (!node.busy_cpus.is_empty() || node.busy_memory_mb > 0 || !node.busy_gpus.is_empty())
                {
                    return Err(format!("exclusive job {} shares node {}", job.id, node.name));
                }
                for &cpu in &allocation.cpus {
                    if cpu >= node.cpus || node.busy_cpus.contains(&cpu) {
                        return Err(format!("job {} got cpu {cpu} of {} twice or out of range", job.id, node.name));
                    }
                    node.busy_cpus.push(cpu);
                }
                for &gpu in &allocation.gpus {
                    if gpu >= node.gpus || node.busy_gpus.contains(&gpu) {
                        return Err(format!("job {} got gpu {gpu} of {} twice or out of range", job.id, node.name));
                    }
                    node.busy_gpus.push(gpu);
                }
                node.busy_memory_mb += allocation.memory_mb;
                if node.busy_memory_mb > node.memory_mb {
                    return Err(format!(
                        "node {} gives out {} MB of {}",
                        node.name, node.busy_memory_mb, node.memory_mb
                    ));
                }
            }
            out.starts.insert(job.id, snapshot.now);
            ends.push((snapshot.now + runtime(&job), job.id));
            snapshot.running.push(RunningJob {
                id: job.id,
                partition: job.partition,
                tenant: job.tenant,
                start: snapshot.now,
                preempting: false,
                allocations: start.allocations.clone(),
                exclusive: job.exclusive,
                ends_at: snapshot.now + job.time_limit,
                project: job.project,
                user: job.user,
            });
        }
        // Next event: the earliest end or arrival.
        let next_end = ends.iter().map(|e| e.0).min();
        let next_arrival = future.last().map(arrival);
        let Some(next) = next_end.into_iter().chain(next_arrival).min() else { break };
        snapshot.now = next;
        while let Some(i) = ends.iter().position(|e| e.0 <= snapshot.now) {
            ends.remove(i);
            let running = snapshot.running.remove(i);
            match preempted.remove(&running.id) {
                Some(PreemptMode::Requeue) => snapshot.pending.push(jobs[&running.id].clone()),
                Some(_) => {}
                None => {
                    out.finished.insert(running.id);
                }
            }
            for allocation in &running.allocations {
                let node = snapshot.nodes.iter_mut().find(|n| n.id == allocation.node).unwrap();
                node.busy_cpus.retain(|c| !allocation.cpus.contains(c));
                node.busy_gpus.retain(|g| !allocation.gpus.contains(g));
                node.busy_memory_mb -= allocation.memory_mb;
            }
        }
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Nothing over-allocated, deterministic, and every job that fits the
    /// empty cluster starts, whatever the runtimes.
    #[test]
    fn every_job_that_fits_starts_and_no_node_is_over_allocated(
        nodes in cluster(),
        queue in queue(),
        early in prop::collection::vec(0i64..100, 30),
    ) {
        for policy in policies() {
            // Some jobs end well before their time limits.
            let runtime = |job: &PendingJob| (job.time_limit * early[(job.id as usize) % early.len()] / 100).max(1);
            let replay = replay(&nodes, &queue, &policy, &runtime, false).map_err(|e| TestCaseError::fail(format!("{policy:?}: {e}")))?;
            for job in &queue {
                prop_assert_eq!(
                    replay.starts.contains_key(&job.id),
                    fits_empty(job, &nodes),
                    "{:?}: job {} fits the empty cluster but never started, or started but never fits", policy, job.id
                );
            }
        }
    }

    /// On co-built nodes: owners preempt only guests on their own nodes,
    /// never twice and never their own jobs (checked in `replay`); nothing
    /// is over-allocated; every job that fits starts, and runs to its end
    /// unless it was cancelled by a preemption.
    #[test]
    fn owners_preempt_only_guests_on_their_nodes(
        nodes in co_built_cluster(),
        queue in queue(),
    ) {
        for policy in [Policy::FIFO, Policy { order: Order::Fcfs, backfill: Backfill::Easy }] {
            let replay = replay(&nodes, &queue, &policy, &|job| job.time_limit, true)
                .map_err(|e| TestCaseError::fail(format!("{policy:?}: {e}")))?;
            for job in &queue {
                prop_assert_eq!(replay.starts.contains_key(&job.id), fits_empty(job, &nodes), "{:?}: job {}", policy, job.id);
                if fits_empty(job, &nodes) && job.partition == 1 {
                    prop_assert!(replay.finished.contains(&job.id), "{:?}: requeued job {} never finished", policy, job.id);
                }
            }
        }
    }

    /// With runtimes equal to time limits, backfilling never delays a
    /// reservation: each job's expected start only moves earlier, and it
    /// starts no later than its last one.
    #[test]
    fn backfilling_never_delays_a_reservation(nodes in cluster(), queue in queue()) {
        for backfill in [Backfill::Easy, Backfill::Conservative { depth: 3 }, Backfill::Conservative { depth: usize::MAX }] {
            let policy = Policy { order: Order::Fcfs, backfill };
            let replay = replay(&nodes, &queue, &policy, &|job| job.time_limit, false)
                .map_err(|e| TestCaseError::fail(format!("{policy:?}: {e}")))?;
            for (job, estimates) in &replay.estimates {
                for pair in estimates.windows(2) {
                    prop_assert!(pair[1] <= pair[0], "{:?}: job {} expected at {:?} over the passes", backfill, job, estimates);
                }
                let start = replay.starts.get(job).copied().unwrap_or(i64::MAX);
                prop_assert!(start <= *estimates.last().unwrap(), "{:?}: job {} expected at {:?}, started at {}", backfill, job, estimates, start);
            }
        }
    }
}
