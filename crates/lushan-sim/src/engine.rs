//! The event loop: a simulated clock that moves from event to event (a job
//! arrives, a job ends) and runs one scheduler pass after each, through the
//! scheduler crate's [`pool::pass`].
//!
//! Events at the same instant are handled one at a time, arrivals first and
//! then ends in the order the jobs started (as pyss's event queue and
//! RLScheduler's loop both do); a pass follows each. Jobs arrive in the order
//! of the job list: when that is job-number order and submit times are not
//! monotone, a job arrives at `max(now, submit)`, as in RLScheduler.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use lushan_scheduler::fairshare::{self, Association};
use lushan_scheduler::pool::{self, Backfill, BackfillOrder, Waiting};
use lushan_scheduler::priority::{self, Factors, Order};

use crate::load::Job;

/// The scheduling policy replayed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    pub order: Order,
    pub backfill: Backfill,
    pub backfill_order: BackfillOrder,
    /// The head, once chosen and blocked, stays the head until it starts
    /// even if a job with a better key arrives (RLScheduler's convention).
    pub fixed_head: bool,
    /// Fair-share usage half-life in seconds (multifactor only).
    pub half_life: i64,
    /// A job whose estimate runs out at this instant counts as ended even
    /// before its end event is handled (pyss's processor-time profile: its
    /// slice is over). Only sound when runtimes are capped at estimates.
    pub free_at_expected_end: bool,
}

/// When every job started, in the order of the job list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub starts: Vec<i64>,
}

/// A queue key: smaller runs first. Static for FCFS, SJF and F1; recomputed
/// at every pass for multifactor.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key(f64, i64, usize);

impl Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1)).then(self.2.cmp(&other.2))
    }
}

fn static_key(order: &Order, job: &Job, index: usize) -> Key {
    match order {
        Order::Fcfs => Key(job.submit as f64, 0, index),
        Order::Sjf => Key(job.estimate as f64, job.submit, index),
        Order::F1 => Key(priority::f1_score(job.estimate, job.procs, job.submit), 0, index),
        // Recomputed at each pass; submission order until then.
        Order::Multifactor(_) => Key(0.0, job.submit, index),
    }
}

/// Replays `jobs` on a machine of `procs` processors. Every job must fit the
/// machine (the loader skips those that do not). `progress` is called with
/// the number of jobs started so far, about a hundred times in all.
pub fn run(jobs: &[Job], procs: u64, policy: &Policy, progress: &mut dyn FnMut(usize)) -> Outcome {
    let n = jobs.len();
    let mut starts = vec![i64::MIN; n];
    // Signed: a pass may use processors of a job whose estimate ran out
    // before that job's end event is handled.
    let mut free = procs as i64;
    let mut now = i64::MIN;
    let mut next_arrival = 0usize;
    let mut started = 0usize;
    let mut seq = 0u64;
    // Ends by real end time; ties by start order.
    let mut ends: BinaryHeap<Reverse<(i64, u64, usize)>> = BinaryHeap::new();
    // Running jobs by expected end, for reservations.
    let mut expected: BTreeMap<(i64, u64), u64> = BTreeMap::new();
    let mut queue: Vec<Waiting> = Vec::new();
    let mut keys: Vec<Key> = Vec::new();
    // The fixed head and its shadow (RLScheduler's convention).
    let mut pinned: Option<(usize, Option<i64>)> = None;
    let mut fair = match policy.order {
        Order::Multifactor(_) => Some(FairShare::new(jobs, policy.half_life)),
        _ => None,
    };
    let report_every = (n / 100).max(1);
    let mut running_buf: Vec<(i64, u64)> = Vec::new();

    while started < n {
        let arrival = (next_arrival < n).then(|| jobs[next_arrival].submit.max(now));
        let end = ends.peek().map(|Reverse((t, _, _))| *t);
        let arrival_first = match (arrival, end) {
            (Some(a), Some(e)) => a <= e,
            (Some(_), None) => true,
            (None, _) => false,
        };
        match (arrival, end) {
            (Some(a), _) if arrival_first => {
                now = a;
                let job = &jobs[next_arrival];
                let waiting =
                    Waiting { id: next_arrival, procs: job.procs, estimate: job.estimate, submit: job.submit };
                let key = static_key(&policy.order, job, next_arrival);
                let at = keys.partition_point(|k| k.cmp(&key).is_lt());
                keys.insert(at, key);
                queue.insert(at, waiting);
                next_arrival += 1;
            }
            (_, Some(e)) => {
                now = e;
                let Some(Reverse((_, s, index))) = ends.pop() else { break };
                free += jobs[index].procs as i64;
                let expected_end = starts[index].saturating_add(jobs[index].estimate);
                expected.remove(&(expected_end, s));
                if let Some(fair) = fair.as_mut() {
                    fair.charge(&jobs[index], now);
                }
                if queue.is_empty() {
                    continue;
                }
            }
            _ => break,
        }

        if let (Order::Multifactor(weights), Some(fair)) = (policy.order, fair.as_ref()) {
            let factors = &fair.factors;
            let mut order: Vec<(Key, Waiting)> = queue
                .iter()
                .map(|w| {
                    let job = &jobs[w.id];
                    let f = Factors {
                        age: now - job.submit,
                        fairshare: factors.get(&job.user).copied().unwrap_or(0.0),
                        procs: job.procs,
                        total_procs: procs,
                        partition: 0.0,
                        qos: 0.0,
                    };
                    (Key(-(priority::multifactor(&weights, &f) as f64), job.submit, w.id), *w)
                })
                .collect();
            order.sort_by(|a, b| a.0.cmp(&b.0));
            keys = order.iter().map(|o| o.0).collect();
            queue = order.into_iter().map(|o| o.1).collect();
        }

        // The fixed head goes first for this pass.
        let mut rotated = 0;
        let mut fixed_shadow = None;
        if let Some((head, shadow)) = pinned
            && let Some(position) = queue.iter().position(|w| w.id == head)
        {
            queue[..=position].rotate_right(1);
            rotated = position;
            fixed_shadow = shadow;
        }
        running_buf.clear();
        let mut pass_free = free;
        for (&(t, _), &p) in &expected {
            if policy.free_at_expected_end && t <= now {
                pass_free += p as i64;
            } else {
                running_buf.push((t, p));
            }
        }
        let result = pool::pass(
            now,
            pass_free.max(0) as u64,
            &queue,
            &running_buf,
            policy.backfill,
            policy.backfill_order,
            fixed_shadow,
        );
        pinned = match (policy.fixed_head, result.reservation) {
            (true, Some((slot, shadow))) => {
                let head = queue[slot].id;
                match pinned {
                    // Still the same head: it keeps the shadow it got when it
                    // first blocked.
                    Some((id, kept)) if id == head => Some((id, kept)),
                    _ => Some((head, Some(shadow))),
                }
            }
            _ => None,
        };
        if rotated > 0 {
            // Undo the rotation so the queue stays in key order.
            queue[..=rotated].rotate_left(1);
        }
        if result.started.is_empty() {
            continue;
        }
        let mut taken: Vec<usize> = Vec::with_capacity(result.started.len());
        for &slot in &result.started {
            // Map the slot back through the rotation.
            let slot = if rotated > 0 {
                if slot == 0 {
                    rotated
                } else if slot <= rotated {
                    slot - 1
                } else {
                    slot
                }
            } else {
                slot
            };
            let index = queue[slot].id;
            let job = &jobs[index];
            starts[index] = now;
            free -= job.procs as i64;
            seq += 1;
            ends.push(Reverse((now.saturating_add(job.run), seq, index)));
            expected.insert((now.saturating_add(job.estimate), seq), job.procs);
            taken.push(slot);
            started += 1;
            if started.is_multiple_of(report_every) {
                progress(started);
            }
        }
        taken.sort_unstable();
        for slot in taken.into_iter().rev() {
            queue.remove(slot);
            keys.remove(slot);
        }
        if let Some((head, _)) = pinned
            && starts[head] != i64::MIN
        {
            pinned = None;
        }
    }
    progress(started);
    Outcome { starts }
}

/// Fair-share state for multifactor replays: root -> group -> user, equal
/// shares, usage (processor-seconds) charged when a job ends and decayed.
struct FairShare {
    /// (group, user) -> index into `associations`.
    users: BTreeMap<(i64, i64), usize>,
    half_life: i64,
    associations: Vec<Association>,
    /// When every association's usage was last decayed.
    decayed_at: i64,
    /// Each user's factor (keyed by user id; a user in several groups gets
    /// the best of them). Decay scales every usage alike, which leaves the
    /// Fair Tree ranking as it is: only a charge changes the factors.
    factors: BTreeMap<i64, f64>,
}

impl FairShare {
    fn new(jobs: &[Job], half_life: i64) -> FairShare {
        let mut associations = vec![Association { parent: None, shares: 1, usage: 0.0 }];
        let mut groups = BTreeMap::new();
        let mut users = BTreeMap::new();
        for job in jobs {
            let group = *groups.entry(job.group).or_insert_with(|| {
                associations.push(Association { parent: Some(0), shares: 1, usage: 0.0 });
                associations.len() - 1
            });
            users.entry((job.group, job.user)).or_insert_with(|| {
                associations.push(Association { parent: Some(group), shares: 1, usage: 0.0 });
                associations.len() - 1
            });
        }
        let mut fair = FairShare { users, half_life, associations, decayed_at: 0, factors: BTreeMap::new() };
        fair.rank();
        fair
    }

    fn charge(&mut self, job: &Job, now: i64) {
        let Some(&index) = self.users.get(&(job.group, job.user)) else { return };
        for association in &mut self.associations {
            association.usage = fairshare::decay(association.usage, now - self.decayed_at, self.half_life);
        }
        self.decayed_at = now;
        self.associations[index].usage += (job.procs as f64) * (job.run as f64);
        self.rank();
    }

    fn rank(&mut self) {
        let factors = fairshare::fair_tree(&self.associations);
        self.factors.clear();
        for (&(_, user), &index) in &self.users {
            let entry = self.factors.entry(user).or_insert(0.0f64);
            *entry = entry.max(factors[index]);
        }
    }
}
