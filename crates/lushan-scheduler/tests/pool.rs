//! Property tests of the pool planner on random machines and queues.

use lushan_scheduler::pool::{Backfill, BackfillOrder, PassResult, Waiting, pass};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Case {
    total: u64,
    now: i64,
    running: Vec<(i64, u64)>,
    queue: Vec<Waiting>,
}

fn case() -> impl Strategy<Value = Case> {
    (1u64..64, 0i64..1000).prop_flat_map(|(total, now)| {
        // Some running jobs are overdue: past their expected end, not ended.
        let running = prop::collection::vec((now - 200..now + 5000, 1..=total), 0..8);
        let queue = prop::collection::vec((1..=total, 1i64..4000), 0..24);
        (Just(total), Just(now), running, queue).prop_map(|(total, now, mut running, queue)| {
            // Keep only the running jobs that fit together on the machine.
            let mut used = 0;
            running.retain(|&(_, p)| {
                used += p;
                used <= total
            });
            running.sort_by_key(|r| r.0);
            let queue = queue
                .into_iter()
                .enumerate()
                .map(|(id, (procs, estimate))| Waiting { id, procs, estimate, submit: id as i64 })
                .collect();
            Case { total, now, running, queue }
        })
    })
}

fn free(case: &Case) -> u64 {
    case.total - case.running.iter().map(|r| r.1).sum::<u64>()
}

const POLICIES: [(Backfill, BackfillOrder); 6] = [
    (Backfill::None, BackfillOrder::Queue),
    (Backfill::Easy, BackfillOrder::Queue),
    (Backfill::Easy, BackfillOrder::Shortest),
    (Backfill::Conservative { depth: usize::MAX }, BackfillOrder::Queue),
    (Backfill::Conservative { depth: 2 }, BackfillOrder::Shortest),
    (Backfill::Simplified, BackfillOrder::Submit),
];

fn run(case: &Case, backfill: Backfill, order: BackfillOrder) -> PassResult {
    pass(case.now, free(case), &case.queue, &case.running, backfill, order, None)
}

proptest! {
    #[test]
    fn no_pass_starts_more_than_is_free(case in case()) {
        for (backfill, order) in POLICIES {
            let result = run(&case, backfill, order);
            let started: u64 = result.started.iter().map(|&i| case.queue[i].procs).sum();
            prop_assert!(started <= free(&case), "{backfill:?}: {started} started, {} free", free(&case));
            let mut seen = result.started.clone();
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), result.started.len(), "a job started twice");
        }
    }

    #[test]
    fn the_same_input_gives_the_same_output(case in case()) {
        for (backfill, order) in POLICIES {
            prop_assert_eq!(run(&case, backfill, order), run(&case, backfill, order));
        }
    }

    /// With runtimes equal to estimates, the blocked head still fits at its
    /// reservation after everything EASY or conservative backfilled.
    #[test]
    fn backfilling_never_delays_the_heads_reservation(case in case()) {
        for (backfill, order) in POLICIES {
            if matches!(backfill, Backfill::None | Backfill::Simplified) {
                continue;
            }
            let result = run(&case, backfill, order);
            let Some((head, shadow)) = result.reservation else { continue };
            if shadow == i64::MAX {
                continue;
            }
            // Jobs ahead of the head that started now hold their processors
            // at the shadow time if they run past it, as backfilled ones do.
            let mut free_at_shadow = free(&case);
            for &(end, procs) in &case.running {
                if end <= shadow {
                    free_at_shadow += procs;
                }
            }
            for &i in &result.started {
                let job = &case.queue[i];
                if case.now + job.estimate > shadow {
                    prop_assert!(free_at_shadow >= job.procs);
                    free_at_shadow -= job.procs;
                }
            }
            prop_assert!(
                free_at_shadow >= case.queue[head].procs,
                "{backfill:?}/{order:?}: head {} needs {} at {shadow}, {free_at_shadow} free",
                head, case.queue[head].procs
            );
        }
    }
}
