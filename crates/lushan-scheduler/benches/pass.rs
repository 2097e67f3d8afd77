//! One scheduling pass of the cluster planner, as the control loop runs it,
//! measured with criterion at 1k, 10k and 100k pending jobs on 1k and 5k
//! nodes (the workload is `support/workload.rs`):
//!
//! - `easy`: multifactor priorities (age, Fair Tree fair-share, size,
//!   partition, QOS), the sort, EASY with its reservation, the starts with
//!   their core and GPU ids, a pending reason for every other job;
//! - `estimates`: the same with conservative backfilling and 1,000
//!   reservations (the expected starts `squeue --start` shows);
//! - `co-built`: `easy` where a fifth of the nodes belong to tenants whose
//!   jobs may preempt the guests there (requeue after a grace time).
//!
//! `cargo bench -p lushan-scheduler --bench pass` (add `-- easy` for one
//! group); `bench/scheduler.sh` runs it and keeps the report.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lushan_scheduler::pool::Backfill;
use lushan_scheduler::priority::{Order, Weights};
use lushan_scheduler::{Policy, schedule};

#[path = "support/workload.rs"]
mod workload;
use workload::{HOUR, snapshot};

fn passes(c: &mut Criterion) {
    let weights = Weights { max_age: 7 * 24 * HOUR, ..Weights::default() };
    let easy = Policy { order: Order::Multifactor(weights), backfill: Backfill::Easy };
    let estimates = Policy { backfill: Backfill::Conservative { depth: 1_000 }, ..easy };
    for (group, policy, co_built) in [("easy", easy, false), ("estimates", estimates, false), ("co-built", easy, true)]
    {
        let mut group = c.benchmark_group(group);
        // A 100k-job pass takes a tenth of a second: ten samples are plenty.
        group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
        for nodes in [1_000usize, 5_000] {
            for pending in [1_000usize, 10_000, 100_000] {
                let snapshot = snapshot(pending, nodes, (pending ^ nodes) as u64, co_built);
                let id = BenchmarkId::new(format!("{nodes}-nodes"), pending);
                group.bench_with_input(id, &snapshot, |b, snapshot| b.iter(|| black_box(schedule(&policy, snapshot))));
            }
        }
        group.finish();
    }
}

criterion_group!(benches, passes);
criterion_main!(benches);
