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
use lushan_scheduler::{Policy, schedule};

#[path = "support/workload.rs"]
mod workload;
use workload::{HOUR, snapshot};

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
            let snapshot = snapshot(pending, nodes, (pending ^ nodes) as u64, false);
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
