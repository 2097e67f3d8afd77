//! The workload both scheduler benches plan: a site of `nodes` nodes of 64
//! cores and 256 GB (a tenth with 4 GPUs, also in a second partition)
//! kept about half busy by running jobs, fair-share usage for 5 tenants,
//! 20 projects and 200 users, and `pending` jobs: a tenth exclusive on
//! 2-16 nodes, a tenth GPU jobs, the rest 1-64 cores on one node; the GPU
//! partition's PriorityJobFactor is 2 (the other's 1), and a twentieth of
//! the jobs are in a QOS of priority 100 (the others' 0).
//! With `co_built`, a fifth of the nodes belong to the five tenants (the
//! running jobs there are guests'; partitions requeue them after 60 s), so
//! owners' jobs look for guests to preempt.

use lushan_scheduler::{Node, NodeAllocation, PartitionPolicy, PendingJob, PreemptMode, RunningJob, Snapshot, Usage};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

pub const HOUR: i64 = 3_600_000;

pub fn snapshot(pending: usize, nodes: usize, seed: u64, co_built: bool) -> Snapshot {
    let mut rng = Lcg(seed);
    let mut snapshot = Snapshot { now: 30 * 24 * HOUR, ..Snapshot::default() };
    for i in 0..nodes {
        let gpu = i % 10 == 0;
        snapshot.nodes.push(Node {
            id: i as i64 + 1,
            name: format!("cn{:05}", i + 1),
            partitions: if gpu { vec![1, 2] } else { vec![1] },
            cpus: 64,
            memory_mb: 256_000,
            gpus: if gpu { 4 } else { 0 },
            features: if gpu { vec!["a100".into()] } else { vec!["avx512".into()] },
            busy_cpus: vec![],
            busy_memory_mb: 0,
            busy_gpus: vec![],
            owner: (co_built && i % 5 == 0).then_some((i / 5 % 5) as i64),
        });
    }
    // Half the cores busy, in running jobs of 1-64 cores on one node.
    let mut busy = 0usize;
    while busy < nodes * 32 {
        let node = &mut snapshot.nodes[rng.next(nodes as u64) as usize];
        let want = 1 + rng.next(64) as u32;
        let free = node.cpus - node.busy_cpus.len() as u32;
        let cpus = want.min(free);
        if cpus == 0 {
            continue;
        }
        let first = node.busy_cpus.len() as u32;
        let allocation = NodeAllocation {
            node: node.id,
            node_name: node.name.clone(),
            cpus: (first..first + cpus).collect(),
            memory_mb: u64::from(cpus) * 2000,
            gpus: vec![],
        };
        node.busy_cpus.extend(&allocation.cpus);
        node.busy_memory_mb += allocation.memory_mb;
        busy += cpus as usize;
        let ends_at = snapshot.now + 1 + rng.next(48 * HOUR as u64) as i64;
        let user = rng.next(200) as i64;
        snapshot.running.push(RunningJob {
            id: snapshot.running.len() as i64 + 1,
            partition: 1,
            tenant: user % 5,
            start: snapshot.now - 1,
            preempting: false,
            allocations: vec![allocation],
            exclusive: false,
            ends_at,
            project: user % 20,
            user,
        });
    }
    // The GPU partition weighs twice the other; a twentieth of the jobs
    // are in a QOS of priority 100 (the rest in one of 0).
    for id in [1, 2] {
        snapshot.partitions.push(PartitionPolicy {
            id,
            preempt_mode: if co_built { PreemptMode::Requeue } else { PreemptMode::Off },
            grace: 60_000,
            priority_job_factor: id as u32,
        });
    }
    snapshot.max_qos_priority = 100;
    for user in 0..200 {
        snapshot.usage.push(Usage { tenant: user % 5, project: user % 20, user, usage: rng.next(10_000_000) as f64 });
    }
    for id in 0..pending {
        let user = rng.next(200) as i64;
        let kind = rng.next(10);
        let (partition, nodes_wanted, cpus, gpus, exclusive) = match kind {
            0 => (1, 2 + rng.next(15) as u32, 64, 0, true),
            1 => (2, 1, 16, 1 + rng.next(4) as u32, false),
            _ => (1, 1, 1 + rng.next(64) as u32, 0, false),
        };
        snapshot.pending.push(PendingJob {
            id: id as i64 + 1_000_000,
            partition,
            nodes: nodes_wanted,
            cpus_per_node: cpus,
            memory_per_node_mb: u64::from(cpus) * 2000,
            gpus_per_node: gpus,
            exclusive,
            held: false,
            array: None,
            submit: snapshot.now - rng.next(7 * 24 * HOUR as u64) as i64,
            time_limit: HOUR + rng.next(47 * HOUR as u64) as i64,
            tenant: user % 5,
            project: user % 20,
            user,
            constraint: None,
            qos_priority: if id % 20 == 0 { 100 } else { 0 },
        });
    }
    snapshot
}
