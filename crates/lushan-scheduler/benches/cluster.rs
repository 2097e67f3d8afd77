//! One scheduling pass of the cluster planner at centre scale, as a site
//! runs it: multifactor priorities (Fair Tree over 5 tenants, 20 projects,
//! 200 users), EASY with its reservation, the starts with their core and
//! GPU ids, on `nodes` nodes of 64 cores and 256 GB (a tenth with 4 GPUs)
//! kept about half busy by running jobs; then conservative backfilling with
//! 1,000 reservations (the estimated starts `squeue --start` shows). The
//! pool planner's EASY pass on the same queue, counted in cores, is printed
//! beside it: the ratio is what node awareness costs.
//!
//! `cargo bench -p lushan-scheduler --bench cluster`

use std::hint::black_box;
use std::time::Instant;

use lushan_scheduler::pool::{self, Backfill, BackfillOrder, Waiting};
use lushan_scheduler::priority::{Order, Weights};
use lushan_scheduler::{Node, NodeAllocation, PendingJob, Policy, RunningJob, Snapshot, Usage, schedule};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

const HOUR: i64 = 3_600_000;

fn snapshot(pending: usize, nodes: usize, seed: u64) -> Snapshot {
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
            owner: None,
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
        snapshot.running.push(RunningJob {
            id: snapshot.running.len() as i64 + 1,
            partition: 1,
            tenant: 0,
            start: snapshot.now - 1,
            preempting: false,
            allocations: vec![allocation],
            exclusive: false,
            ends_at: snapshot.now + 1 + rng.next(48 * HOUR as u64) as i64,
            project: rng.next(20) as i64,
            user: rng.next(200) as i64,
        });
    }
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
            qos_priority: 0,
        });
    }
    snapshot
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let weights = Weights { max_age: 7 * 24 * HOUR, ..Weights::default() };
    let easy = Policy { order: Order::Multifactor(weights), backfill: Backfill::Easy };
    let conservative = Policy { backfill: Backfill::Conservative { depth: 1_000 }, ..easy };
    println!(
        "{:>8} {:>6} {:>10} {:>13} {:>12} {:>14} {:>10}",
        "pending", "nodes", "started", "cluster easy", "pool easy", "cluster/pool", "conserv."
    );
    for nodes in [1_000usize, 5_000] {
        for pending in [1_000usize, 10_000, 100_000] {
            let snapshot = snapshot(pending, nodes, (pending ^ nodes) as u64);
            let runs = if pending >= 100_000 { 3 } else { 7 };
            let (mut cluster, mut pool_ms, mut cons) = (Vec::new(), Vec::new(), Vec::new());
            let mut started = 0;
            // The pool's view: cores only, in the cluster pass's order.
            let free = snapshot.nodes.iter().map(|n| u64::from(n.cpus) - n.busy_cpus.len() as u64).sum();
            let mut running: Vec<(i64, u64)> = snapshot
                .running
                .iter()
                .map(|r| (r.ends_at, r.allocations.iter().map(|a| a.cpus.len() as u64).sum()))
                .collect();
            running.sort_by_key(|r| r.0);
            let queue: Vec<Waiting> = snapshot
                .pending
                .iter()
                .enumerate()
                .map(|(id, j)| Waiting {
                    id,
                    procs: u64::from(j.nodes) * u64::from(j.cpus_per_node),
                    estimate: j.time_limit,
                    submit: j.submit,
                })
                .collect();
            for _ in 0..runs {
                let t = Instant::now();
                let plan = black_box(schedule(&easy, &snapshot));
                cluster.push(t.elapsed().as_secs_f64() * 1000.0);
                started = plan.starts.len();
                let t = Instant::now();
                black_box(pool::pass(snapshot.now, free, &queue, &running, Backfill::Easy, BackfillOrder::Queue, None));
                pool_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = Instant::now();
                black_box(schedule(&conservative, &snapshot));
                cons.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            let (c, p) = (median(cluster), median(pool_ms));
            println!(
                "{pending:>8} {nodes:>6} {started:>10} {c:>10.2} ms {p:>9.2} ms {:>13.1}x {:>7.1} ms",
                c / p.max(1e-6),
                median(cons)
            );
        }
    }
}
