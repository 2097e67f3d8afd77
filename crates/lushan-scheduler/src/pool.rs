//! Backfilling on a pool of identical processors: the planning core that the
//! simulator replays traces through, and that a partition of identical nodes
//! reduces to when jobs are counted in cores.
//!
//! One [`pass`] takes the queue in priority order, the free processors now
//! and the running jobs' expected ends, and says which jobs start now. Every
//! policy starts the head of the queue while it fits; they differ in what
//! they do once the head is blocked:
//!
//! * [`Backfill::None`]: nothing more starts (strict priority order).
//! * [`Backfill::Easy`]: the head gets a reservation at the *shadow time* (the
//!   earliest time enough processors are free, from the running jobs'
//!   expected ends); a later job starts now if it fits now and either ends by
//!   the shadow time or fits in the *extra* processors the head leaves free
//!   at that time. The reservation is recomputed at every pass (Lifka's EASY,
//!   as Slurm's `sched/backfill` with one reservation and pyss's
//!   `EasyBackfillScheduler`).
//! * [`Backfill::Conservative`]: every job (up to a depth) gets a
//!   reservation in a time profile of free processors, in priority order; a
//!   job starts now only if that delays no reservation ahead of it.
//! * [`Backfill::Simplified`]: RLScheduler's variant, kept for reproducing
//!   its published numbers: the shadow time is computed once when the head
//!   blocks and kept until the head starts (the caller carries it between
//!   passes), a job backfills only if it ends strictly before it, and there
//!   is no extra-processors rule.
//!
//! **Invariants** (property-tested in `tests/pool.rs`): no pass starts more
//! processors than are free; with runtimes equal to estimates, no job started
//! by EASY or conservative backfilling delays the reservation of a job ahead
//! of it; the same input gives the same output.

use crate::timeline::Timeline;

/// A waiting job as the pool planner sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The caller's handle for the job; returned in [`PassResult::started`].
    pub id: usize,
    pub procs: u64,
    /// Expected runtime in seconds (the time limit, or a prediction).
    pub estimate: i64,
    /// Submission time, for [`BackfillOrder::Submit`].
    pub submit: i64,
}

/// What to do once the head of the queue is blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backfill {
    None,
    Easy,
    /// Reservations for the first `depth` blocked jobs; with `usize::MAX`
    /// every job has one (classic conservative backfilling).
    Conservative {
        depth: usize,
    },
    Simplified,
}

/// In which order jobs behind a blocked head are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackfillOrder {
    /// Queue (priority) order.
    Queue,
    /// Shortest estimate first (EASY-SJBF); ties keep queue order.
    Shortest,
    /// Submission order; ties keep queue order.
    Submit,
}

/// The decisions of one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassResult {
    /// Indices into the queue slice, in the order the jobs were started.
    pub started: Vec<usize>,
    /// The blocked head (an index into the queue) and its reservation: when
    /// it is expected to start.
    pub reservation: Option<(usize, i64)>,
}

/// One pass over a pool of processors.
///
/// `running` gives every running job's `(expected end, processors)`, sorted
/// by expected end. `fixed_shadow` is only read by [`Backfill::Simplified`]:
/// the shadow time computed when `queue[0]` first blocked, used while it
/// stays blocked.
pub fn pass(
    now: i64,
    free: u64,
    queue: &[Waiting],
    running: &[(i64, u64)],
    backfill: Backfill,
    order: BackfillOrder,
    fixed_shadow: Option<i64>,
) -> PassResult {
    let mut result = PassResult::default();
    let mut free = free;
    let mut head = 0;
    while head < queue.len() && queue[head].procs <= free {
        free -= queue[head].procs;
        result.started.push(head);
        head += 1;
    }
    if head == queue.len() {
        return result;
    }
    // Jobs just started hold their processors until their expected end too.
    let merged;
    let running = if head == 0 {
        running
    } else {
        let mut all = running.to_vec();
        all.extend(queue[..head].iter().map(|j| (now.saturating_add(j.estimate), j.procs)));
        all.sort_by_key(|r| r.0);
        merged = all;
        &merged[..]
    };
    let blocked = &queue[head];
    match backfill {
        Backfill::None => {
            result.reservation = Some((head, shadow(free, blocked.procs, running, now).0));
        }
        Backfill::Easy => {
            let (shadow, mut extra) = shadow(free, blocked.procs, running, now);
            result.reservation = Some((head, shadow));
            for index in candidates(queue, head, order, free) {
                if free == 0 {
                    break;
                }
                let job = &queue[index];
                if job.procs > free {
                    continue;
                }
                let ends_in_time = now.saturating_add(job.estimate) <= shadow;
                if ends_in_time || job.procs <= extra {
                    free -= job.procs;
                    if !ends_in_time {
                        extra -= job.procs;
                    }
                    result.started.push(index);
                }
            }
        }
        Backfill::Simplified => {
            // The kept shadow belongs to the queue's first job: once that has
            // started, the new head gets its own.
            let kept = if head == 0 { fixed_shadow } else { None };
            let shadow = kept.unwrap_or_else(|| simplified_shadow(free, blocked.procs, running, now));
            result.reservation = Some((head, shadow));
            for index in candidates(queue, head, order, free) {
                if free == 0 {
                    break;
                }
                let job = &queue[index];
                if job.procs <= free && now.saturating_add(job.estimate) < shadow {
                    free -= job.procs;
                    result.started.push(index);
                }
            }
        }
        Backfill::Conservative { depth } => {
            let mut profile = Profile::new(now, free, running.iter().copied());
            let mut reserved = 0usize;
            let mut indices: Vec<usize> = (head..queue.len()).collect();
            if order != BackfillOrder::Queue {
                // The head keeps its place; only the jobs behind it reorder.
                let tail = &mut indices[1..];
                sort_tail(queue, tail, order);
            }
            for index in indices {
                let job = &queue[index];
                if reserved >= depth {
                    // Past the reservation depth a job may still start now if
                    // it delays no reservation, but gets none of its own.
                    let end = now.saturating_add(job.estimate.max(1));
                    if profile.fits(now, end, &job.procs) {
                        profile.take(now, end, &job.procs);
                        result.started.push(index);
                    }
                    continue;
                }
                let Some(start) = profile.earliest(job.estimate, &job.procs) else { continue };
                profile.take(start, start.saturating_add(job.estimate.max(1)), &job.procs);
                if start == now {
                    result.started.push(index);
                } else {
                    if result.reservation.is_none() {
                        result.reservation = Some((index, start));
                    }
                    reserved += 1;
                }
            }
        }
    }
    result
}

/// The jobs behind the blocked head at `head`, in the order to try them.
/// Nothing can start when no processor is free, so the (possibly costly)
/// reordering is skipped then.
fn candidates(queue: &[Waiting], head: usize, order: BackfillOrder, free: u64) -> Vec<usize> {
    if free == 0 {
        return Vec::new();
    }
    let mut tail: Vec<usize> = (head + 1..queue.len()).collect();
    sort_tail(queue, &mut tail, order);
    tail
}

fn sort_tail(queue: &[Waiting], tail: &mut [usize], order: BackfillOrder) {
    match order {
        BackfillOrder::Queue => {}
        // Stable sorts: ties keep queue order.
        BackfillOrder::Shortest => tail.sort_by_key(|&i| queue[i].estimate),
        BackfillOrder::Submit => tail.sort_by_key(|&i| queue[i].submit),
    }
}

/// EASY's shadow time and extra processors: walk the running jobs by
/// expected end until the head fits; every job ending at that same instant
/// frees its processors too.
fn shadow(free: u64, procs: u64, running: &[(i64, u64)], now: i64) -> (i64, u64) {
    if procs <= free {
        return (now, free - procs);
    }
    let mut available = free;
    let mut iter = running.iter().peekable();
    while let Some(&(end, freed)) = iter.next() {
        available += freed;
        if available >= procs {
            while let Some(&&(next_end, more)) = iter.peek()
                && next_end == end
            {
                available += more;
                iter.next();
            }
            return (end.max(now), available - procs);
        }
    }
    // The head does not fit even when everything has ended: it can never
    // start here, and reserves nothing.
    (i64::MAX, free)
}

/// RLScheduler's shadow: the expected end of the running job whose release
/// first makes room, taken as is (it may lie in the past when a job runs
/// over its estimate).
fn simplified_shadow(free: u64, procs: u64, running: &[(i64, u64)], now: i64) -> i64 {
    let mut available = free;
    let mut shadow = now;
    for &(end, freed) in running {
        available += freed;
        shadow = end;
        if available >= procs {
            break;
        }
    }
    shadow
}

/// Free processors over time.
pub type Profile = Timeline<u64>;

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: usize, procs: u64, estimate: i64) -> Waiting {
        Waiting { id, procs, estimate, submit: id as i64 }
    }

    #[test]
    fn without_backfilling_a_blocked_head_stops_the_queue() {
        let queue = [job(0, 2, 10), job(1, 8, 10), job(2, 1, 5)];
        let result = pass(0, 4, &queue, &[(100, 6)], Backfill::None, BackfillOrder::Queue, None);
        assert_eq!(result.started, [0]);
        assert_eq!(result.reservation, Some((1, 100)));
    }

    #[test]
    fn easy_backfills_short_jobs_and_jobs_that_fit_in_the_extra_processors() {
        // 10 processors: 6 busy until t=100, 4 free. The head needs 8: shadow
        // 100, extra 2. Job 2 (4 procs, 50 s) ends by the shadow; job 3
        // (1 proc, 500 s) fits in the extra; job 4 (2 procs, 500 s) does not
        // (only 1 extra left), nor does anything once no processor is free.
        let queue = [job(1, 8, 100), job(2, 3, 50), job(3, 1, 500), job(4, 2, 500)];
        let result = pass(0, 4, &queue, &[(100, 6)], Backfill::Easy, BackfillOrder::Queue, None);
        assert_eq!(result.started, [1, 2]);
        assert_eq!(result.reservation, Some((0, 100)));
    }

    #[test]
    fn easy_counts_every_job_ending_at_the_shadow_time() {
        let queue = [job(1, 5, 100), job(2, 10, 500)];
        let running = [(100, 5), (100, 10)];
        let result = pass(0, 0, &queue, &running, Backfill::Easy, BackfillOrder::Queue, None);
        assert_eq!(result.reservation, Some((0, 100)));
        // At 100 there are 15 free: 10 extra once the head has its 5.
        assert_eq!(shadow(0, 5, &running, 0), (100, 10));
    }

    #[test]
    fn sjbf_tries_the_shortest_first() {
        let queue = [job(1, 8, 100), job(2, 2, 90), job(3, 2, 10)];
        let easy = pass(0, 2, &queue, &[(100, 8)], Backfill::Easy, BackfillOrder::Queue, None);
        let sjbf = pass(0, 2, &queue, &[(100, 8)], Backfill::Easy, BackfillOrder::Shortest, None);
        assert_eq!(easy.started, [1]);
        assert_eq!(sjbf.started, [2]);
    }

    #[test]
    fn simplified_keeps_its_shadow_and_needs_a_strictly_earlier_end() {
        let queue = [job(1, 8, 100), job(2, 2, 100), job(3, 2, 99)];
        let result = pass(0, 4, &queue, &[(100, 6)], Backfill::Simplified, BackfillOrder::Submit, None);
        assert_eq!(result.started, [2]);
        let fixed = pass(0, 4, &queue, &[(100, 6)], Backfill::Simplified, BackfillOrder::Submit, Some(50));
        assert_eq!(fixed.started, Vec::<usize>::new());
    }

    #[test]
    fn conservative_protects_every_reservation() {
        // 10 procs, 10 free until 100, then 10 more... Job 1 needs 12 of 10+6:
        // reserved at 100. Job 2 (10 procs, 200 s) would delay it: it is
        // reserved after job 1. Job 3 (4 procs, 50 s) fits before 100.
        let queue = [job(1, 12, 100), job(2, 10, 200), job(3, 4, 50)];
        let result =
            pass(0, 10, &queue, &[(100, 6)], Backfill::Conservative { depth: usize::MAX }, BackfillOrder::Queue, None);
        assert_eq!(result.started, [2]);
        assert_eq!(result.reservation, Some((0, 100)));
        // EASY would start job 2 as well: it fits in the extra at 100? No:
        // 16 - 12 = 4 extra < 10, and it ends after 100. Only job 3 again.
        let easy = pass(0, 10, &queue, &[(100, 6)], Backfill::Easy, BackfillOrder::Queue, None);
        assert_eq!(easy.started, [2]);
    }

    #[test]
    fn conservative_never_starts_on_an_overdue_jobs_processors() {
        // 8 processors, 5 free; a 3-processor job reached its expected end
        // at 100 but has not ended yet. The 8-processor head must wait for
        // it (reserved from the next second); the 1-second job fits before.
        let queue = [job(1, 8, 50), job(2, 1, 1)];
        let running = [(100, 3)];
        let conservative = Backfill::Conservative { depth: usize::MAX };
        let result = pass(100, 5, &queue, &running, conservative, BackfillOrder::Queue, None);
        assert_eq!(result.started, [1]);
        assert_eq!(result.reservation, Some((0, 101)));
        // EASY reserves the head at once (shadow now, no extra processors),
        // so nothing backfills; above all the head does not start.
        let easy = pass(100, 5, &queue, &running, Backfill::Easy, BackfillOrder::Queue, None);
        assert_eq!(easy.started, Vec::<usize>::new());
        assert_eq!(easy.reservation, Some((0, 100)));
    }
}
