//! One scheduling pass at centre scale: multifactor priorities for every
//! pending job, the sort, then EASY (one reservation) and conservative
//! (a reservation, i.e. an estimated start, for every job) on a pool of
//! `nodes x 64` cores half busy. Prints the median of several runs and how
//! the time grows with the queue.
//!
//! `cargo bench -p lushan-scheduler --bench pass`

use std::hint::black_box;
use std::time::Instant;

use lushan_scheduler::pool::{Backfill, BackfillOrder, Waiting, pass};
use lushan_scheduler::priority::{Factors, Weights, multifactor};

/// A small deterministic generator: the same workload on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

/// Free cores, running jobs `(expected end, cores)`, and the queue with
/// each job's fair-share factor.
struct Workload {
    free: u64,
    running: Vec<(i64, u64)>,
    queue: Vec<(Waiting, f64)>,
}

fn workload(pending: usize, nodes: u64, seed: u64) -> Workload {
    let mut rng = Lcg(seed);
    let cores = nodes * 64;
    let mut running = Vec::new();
    let mut used = 0;
    while used < cores / 2 {
        let procs = 1 + rng.next(256);
        running.push((1 + rng.next(86_400) as i64, procs));
        used += procs;
    }
    running.sort_by_key(|r| r.0);
    let queue = (0..pending)
        .map(|id| {
            let wide = rng.next(10) == 0;
            let procs = 1 + rng.next(if wide { cores / 4 } else { 128 });
            let waiting =
                Waiting { id, procs, estimate: 60 + rng.next(172_800) as i64, submit: -(rng.next(604_800) as i64) };
            (waiting, rng.next(1000) as f64 / 1000.0)
        })
        .collect();
    Workload { free: cores - used.min(cores), running, queue }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let weights = Weights::default();
    println!("{:>8} {:>6} {:>14} {:>14} {:>16}", "pending", "nodes", "easy (ms)", "conserv. (ms)", "easy us/job");
    for nodes in [1_000u64, 5_000] {
        for pending in [1_000usize, 10_000, 100_000] {
            let Workload { free, running, queue } = workload(pending, nodes, pending as u64 ^ nodes);
            let runs = if pending >= 100_000 { 3 } else { 7 };
            let mut easy = Vec::new();
            let mut conservative = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                let mut ordered: Vec<(u64, Waiting)> = queue
                    .iter()
                    .map(|(w, fairshare)| {
                        let f = Factors {
                            age: -w.submit,
                            fairshare: *fairshare,
                            procs: w.procs,
                            total_procs: nodes * 64,
                            partition: 0.0,
                            qos: 0.0,
                        };
                        (multifactor(&weights, &f), *w)
                    })
                    .collect();
                ordered.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.submit.cmp(&b.1.submit)).then(a.1.id.cmp(&b.1.id)));
                let ordered: Vec<Waiting> = ordered.into_iter().map(|o| o.1).collect();
                black_box(pass(0, free, &ordered, &running, Backfill::Easy, BackfillOrder::Queue, None));
                easy.push(t.elapsed().as_secs_f64() * 1000.0);
                // Conservative gives every job a reservation: the estimates.
                // Depth 1,000 as a centre would set bf_max_job_test.
                let t = Instant::now();
                black_box(pass(
                    0,
                    free,
                    &ordered,
                    &running,
                    Backfill::Conservative { depth: 1_000 },
                    BackfillOrder::Queue,
                    None,
                ));
                conservative.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            let e = median(easy);
            println!(
                "{pending:>8} {nodes:>6} {e:>14.2} {:>14.2} {:>16.3}",
                median(conservative),
                e * 1000.0 / pending as f64
            );
        }
    }
}
