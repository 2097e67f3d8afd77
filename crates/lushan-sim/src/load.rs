//! From trace records to simulated jobs, under the conventions of a
//! published setup. Which jobs are dropped, how a missing estimate or a
//! negative runtime is read, and whether runtimes are capped at the estimate
//! move results by up to 10x (../shared/traces/README.md), so each is a
//! named choice, and [`Loading::classic`] and [`Loading::rlscheduler`]
//! reproduce the two published setups.

use crate::swf::Record;

/// A job as the simulator replays it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub submit: i64,
    /// Real runtime in seconds.
    pub run: i64,
    /// What the scheduler believes the runtime is (the user's request, or
    /// the real runtime under `--estimates actual`).
    pub estimate: i64,
    pub procs: u64,
    pub user: i64,
    pub group: i64,
}

/// How records become jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// pyss / Tsafrir: drop jobs with runtime <= 0, with no or a
    /// non-positive requested time, or larger than the machine.
    Classic,
    /// RLScheduler: a runtime < 0 becomes 10 s, runtime 0 is dropped, a
    /// missing requested time is the runtime; nothing else is dropped.
    Rlscheduler,
}

/// Where estimates come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Estimates {
    /// The requested time (field 9).
    User,
    /// The real runtime (a perfect predictor).
    Actual,
}

/// Which processor count a job asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Procs {
    /// Field 8, the requested processors; field 5 (allocated) where it is
    /// missing (pyss).
    Requested,
    /// The larger of fields 5 and 8 (RLScheduler).
    Larger,
}

/// Every loading convention, as flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loading {
    pub filter: Filter,
    pub procs: Procs,
    pub estimates: Estimates,
    /// Runtimes longer than the estimate are cut to it (the job is killed at
    /// its time limit, as a real scheduler does).
    pub cap_runtime: bool,
    /// Jobs are replayed in job-number order (RLScheduler) rather than by
    /// submission time.
    pub sort_by_id: bool,
}

impl Loading {
    pub fn classic() -> Loading {
        Loading {
            filter: Filter::Classic,
            procs: Procs::Requested,
            estimates: Estimates::User,
            cap_runtime: true,
            sort_by_id: false,
        }
    }

    pub fn rlscheduler() -> Loading {
        Loading {
            filter: Filter::Rlscheduler,
            procs: Procs::Larger,
            estimates: Estimates::User,
            cap_runtime: false,
            sort_by_id: true,
        }
    }
}

/// What loading did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub jobs: Vec<Job>,
    /// Records dropped by the filter.
    pub dropped: usize,
    /// Jobs asking for more processors than the machine has: reported and
    /// skipped (they could never start).
    pub too_large: Vec<i64>,
}

/// Turns records into jobs for a machine of `procs` processors.
pub fn load(records: &[Record], procs: u64, loading: &Loading) -> Loaded {
    let mut out = Loaded::default();
    for r in records {
        let job_procs = match loading.procs {
            Procs::Requested if r.requested_procs > 0 => r.requested_procs,
            Procs::Requested => r.allocated_procs,
            Procs::Larger => r.allocated_procs.max(r.requested_procs),
        };
        let Some(job) = (match loading.filter {
            Filter::Classic => classic(r, job_procs),
            Filter::Rlscheduler => rlscheduler(r, job_procs),
        }) else {
            out.dropped += 1;
            continue;
        };
        let mut job = job;
        if loading.cap_runtime && job.run > job.estimate && job.estimate > 0 {
            job.run = job.estimate;
        }
        if loading.estimates == Estimates::Actual {
            job.estimate = job.run;
        }
        if job.procs > procs {
            out.too_large.push(job.id);
            continue;
        }
        out.jobs.push(job);
    }
    if loading.sort_by_id {
        out.jobs.sort_by_key(|j| j.id);
    } else {
        out.jobs.sort_by_key(|j| j.submit);
    }
    out
}

fn classic(r: &Record, procs: i64) -> Option<Job> {
    if r.run <= 0 || r.requested_time <= 0 || procs <= 0 || r.submit < 0 {
        return None;
    }
    Some(Job {
        id: r.id,
        submit: r.submit,
        run: r.run,
        estimate: r.requested_time,
        procs: procs as u64,
        user: r.user,
        group: r.group,
    })
}

fn rlscheduler(r: &Record, procs: i64) -> Option<Job> {
    // The estimate falls back on the runtime as read, before a negative
    // runtime is replaced (as RLScheduler's loader does).
    let estimate = if r.requested_time == -1 { r.run } else { r.requested_time };
    let run = if r.run < 0 { 10 } else { r.run };
    if run == 0 || procs <= 0 {
        return None;
    }
    Some(Job { id: r.id, submit: r.submit, run, estimate, procs: procs as u64, user: r.user, group: r.group })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, run: i64, requested_time: i64, procs: i64) -> Record {
        Record {
            id,
            submit: id * 10,
            wait: 0,
            run,
            allocated_procs: procs,
            requested_procs: -1,
            requested_time,
            status: 1,
            user: 1,
            group: 1,
        }
    }

    #[test]
    fn classic_drops_and_caps() {
        let records = [record(1, 0, 100, 4), record(2, 50, -1, 4), record(3, 500, 100, 4), record(4, 10, 20, 999)];
        let loaded = load(&records, 128, &Loading::classic());
        assert_eq!(loaded.dropped, 2);
        assert_eq!(loaded.too_large, [4]);
        assert_eq!(loaded.jobs.len(), 1);
        assert_eq!((loaded.jobs[0].run, loaded.jobs[0].estimate), (100, 100));
    }

    #[test]
    fn rlscheduler_fixes_rather_than_drops() {
        let records = [record(1, 0, 100, 4), record(2, -1, 100, 4), record(3, 50, -1, 4), record(4, 500, 100, 4)];
        let loaded = load(&records, 128, &Loading::rlscheduler());
        assert_eq!(loaded.dropped, 1);
        let runs: Vec<(i64, i64)> = loaded.jobs.iter().map(|j| (j.run, j.estimate)).collect();
        assert_eq!(runs, [(10, 100), (50, 50), (500, 100)]);
    }
}
