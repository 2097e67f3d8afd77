//! Job states and pending reasons, spelled as Slurm spells them.

use crate::ParseEnumError;
use std::fmt;
use std::str::FromStr;

/// A job's state. `Display` is Slurm's spelling (`OUT_OF_MEMORY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    Timeout,
    OutOfMemory,
    NodeFail,
    /// Ended by the owner of a co-built node it ran on as a guest (and,
    /// where its partition requeues, back in the queue).
    Preempted,
}

impl JobState {
    pub const ALL: &'static [JobState] = &[
        JobState::Pending,
        JobState::Running,
        JobState::Completed,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Timeout,
        JobState::OutOfMemory,
        JobState::NodeFail,
        JobState::Preempted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Cancelled => "CANCELLED",
            JobState::Timeout => "TIMEOUT",
            JobState::OutOfMemory => "OUT_OF_MEMORY",
            JobState::NodeFail => "NODE_FAIL",
            JobState::Preempted => "PREEMPTED",
        }
    }

    /// squeue's two-letter code.
    pub fn short(self) -> &'static str {
        match self {
            JobState::Pending => "PD",
            JobState::Running => "R",
            JobState::Completed => "CD",
            JobState::Failed => "F",
            JobState::Cancelled => "CA",
            JobState::Timeout => "TO",
            JobState::OutOfMemory => "OOM",
            JobState::NodeFail => "NF",
            JobState::Preempted => "PR",
        }
    }

    /// Ended for good.
    pub fn is_final(self) -> bool {
        !matches!(self, JobState::Pending | JobState::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.to_ascii_uppercase();
        JobState::ALL
            .iter()
            .find(|state| state.as_str() == upper || state.short() == upper || (upper == "CANCELED" && **state == JobState::Cancelled))
            .copied()
            .ok_or_else(|| ParseEnumError {
                what: "job state",
                value: s.chars().take(64).collect(),
                expected: "PENDING RUNNING COMPLETED FAILED CANCELLED TIMEOUT OUT_OF_MEMORY NODE_FAIL PREEMPTED (or PD R CD F CA TO OOM NF PR)",
            })
    }
}

/// Why a job is pending, as squeue's NODELIST(REASON) column says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingReason {
    /// Waiting for its turn behind jobs ahead of it.
    Priority,
    /// First in line, waiting for resources to free up.
    Resources,
    /// Held by its user (`--hold`, `lushan hold`).
    JobHeldUser,
    /// Waiting for the jobs it depends on.
    Dependency,
    /// Its dependency can no longer be met (e.g. afterok on a failed job).
    DependencyNeverSatisfied,
    /// Its array already runs as many tasks as its `%N` throttle allows.
    JobArrayTaskLimit,
    /// Its `--begin` time has not come.
    BeginTime,
    /// Its project runs as many jobs as the project may (Slurm's GrpJobs).
    AssocGrpJobsLimit,
    /// Its project would use more cores than the project may (GrpTRES=cpu).
    AssocGrpCpuLimit,
    /// Its project would use more GPUs than the project may (GrpTRES=gres/gpu).
    AssocGrpGRES,
    /// Its user runs as many jobs in its project as the project's PI or
    /// managers let them (the (user, account) association's MaxJobs).
    AssocMaxJobsLimit,
    /// Its user runs as many jobs as a user may (MaxJobsPerUser).
    QOSMaxJobsPerUserLimit,
    /// Its user would use more cores than a user may (MaxTRESPerUser=cpu).
    QOSMaxCpuPerUserLimit,
    /// Its user would use more GPUs than a user may (MaxTRESPerUser=gres/gpu).
    QOSMaxGRESPerUser,
    /// No set of the partition's nodes can ever serve it (its features, or
    /// the nodes changed after it was submitted).
    BadConstraints,
    /// Its Slurm site does not answer: it is sent once the site is back.
    SiteUnavailable,
    /// Not evaluated yet.
    None,
}

impl PendingReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingReason::Priority => "Priority",
            PendingReason::SiteUnavailable => "SiteUnavailable",
            PendingReason::Resources => "Resources",
            PendingReason::JobHeldUser => "JobHeldUser",
            PendingReason::Dependency => "Dependency",
            PendingReason::DependencyNeverSatisfied => "DependencyNeverSatisfied",
            PendingReason::JobArrayTaskLimit => "JobArrayTaskLimit",
            PendingReason::BeginTime => "BeginTime",
            PendingReason::AssocGrpJobsLimit => "AssocGrpJobsLimit",
            PendingReason::AssocGrpCpuLimit => "AssocGrpCpuLimit",
            PendingReason::AssocGrpGRES => "AssocGrpGRES",
            PendingReason::AssocMaxJobsLimit => "AssocMaxJobsLimit",
            PendingReason::QOSMaxJobsPerUserLimit => "QOSMaxJobsPerUserLimit",
            PendingReason::QOSMaxCpuPerUserLimit => "QOSMaxCpuPerUserLimit",
            PendingReason::QOSMaxGRESPerUser => "QOSMaxGRESPerUser",
            PendingReason::BadConstraints => "BadConstraints",
            PendingReason::None => "None",
        }
    }
}

impl fmt::Display for PendingReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_from_long_and_short_spellings() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(*state));
            assert_eq!(state.short().parse::<JobState>(), Ok(*state));
        }
        assert_eq!("pending".parse::<JobState>(), Ok(JobState::Pending));
        assert!("DONE".parse::<JobState>().is_err());
    }
}
