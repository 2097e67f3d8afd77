//! What a replay measured, with the literature's definitions
//! (../shared/traces/README.md): bounded slowdown
//! `max(1, (wait + run) / max(run, 10))`, wait = start - submit.

use std::collections::BTreeMap;

use crate::load::Job;

/// Which utilization is reported: definitions differ between sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Utilization {
    /// Processor-seconds used over processors x (last end - first submit).
    Makespan,
    /// RLScheduler's: processor-seconds over processors x (last start -
    /// first submit).
    LastStart,
}

impl Utilization {
    pub fn describe(self) -> &'static str {
        match self {
            Utilization::Makespan => "sum(run*procs) / (procs * (last end - first submit))",
            Utilization::LastStart => "sum(run*procs) / (procs * (last start - first submit))",
        }
    }
}

/// Per-user waits, so that starvation shows: each user's mean wait, then
/// the mean, 95th percentile and maximum of those over users.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UserWait {
    pub users: usize,
    pub mean: f64,
    pub p95: f64,
    pub max: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub jobs: usize,
    /// Seconds from the first submission to the last end.
    pub makespan: i64,
    pub utilization: f64,
    pub mean_wait: f64,
    pub max_wait: i64,
    pub mean_flow: f64,
    pub mean_bounded_slowdown: f64,
    pub user_wait: UserWait,
}

/// Measures `jobs` started at `starts` on `procs` processors.
pub fn summarize(jobs: &[Job], starts: &[i64], procs: u64, utilization: Utilization) -> Summary {
    let n = jobs.len();
    if n == 0 {
        return Summary::default();
    }
    let first_submit = jobs.iter().map(|j| j.submit).min().unwrap_or(0);
    let mut last_end = i64::MIN;
    let mut last_start = i64::MIN;
    let (mut waits, mut flows, mut bsld, mut work) = (0f64, 0f64, 0f64, 0f64);
    let mut max_wait = 0i64;
    let mut per_user: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for (job, &start) in jobs.iter().zip(starts) {
        let wait = start - job.submit;
        let run = job.run;
        waits += wait as f64;
        flows += (wait + run) as f64;
        bsld += (((wait + run) as f64) / (run.max(10) as f64)).max(1.0);
        work += (run as f64) * (job.procs as f64);
        max_wait = max_wait.max(wait);
        last_end = last_end.max(start + run);
        last_start = last_start.max(start);
        let entry = per_user.entry(job.user).or_insert((0.0, 0));
        entry.0 += wait as f64;
        entry.1 += 1;
    }
    let span = match utilization {
        Utilization::Makespan => last_end - first_submit,
        Utilization::LastStart => last_start - first_submit,
    };
    let mut user_means: Vec<f64> = per_user.values().map(|(sum, count)| sum / *count as f64).collect();
    user_means.sort_by(f64::total_cmp);
    let users = user_means.len();
    let user_wait = UserWait {
        users,
        mean: user_means.iter().sum::<f64>() / users as f64,
        // Nearest rank.
        p95: user_means[((users as f64 * 0.95).ceil() as usize).clamp(1, users) - 1],
        max: user_means[users - 1],
    };
    Summary {
        jobs: n,
        makespan: last_end - first_submit,
        utilization: if span > 0 { work / (procs as f64 * span as f64) } else { 0.0 },
        mean_wait: waits / n as f64,
        max_wait,
        mean_flow: flows / n as f64,
        mean_bounded_slowdown: bsld / n as f64,
        user_wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_slowdown_wait_and_utilization() {
        let job = |id, submit, run, user| Job { id, submit, run, estimate: run, procs: 2, user, group: 1 };
        let jobs = [job(1, 0, 100, 1), job(2, 0, 5, 2)];
        // Job 1 starts at once; job 2 waits 100 s: bsld (100+5)/10.
        let summary = summarize(&jobs, &[0, 100], 4, Utilization::Makespan);
        assert_eq!(summary.mean_bounded_slowdown, (1.0 + 10.5) / 2.0);
        assert_eq!(summary.max_wait, 100);
        assert_eq!(summary.makespan, 105);
        assert!((summary.utilization - 210.0 / 420.0).abs() < 1e-12);
        assert_eq!(summary.user_wait.users, 2);
        assert_eq!(summary.user_wait.max, 100.0);
        let rl = summarize(&jobs, &[0, 100], 4, Utilization::LastStart);
        assert!((rl.utilization - 210.0 / 400.0).abs() < 1e-12);
    }
}
