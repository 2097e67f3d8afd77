//! What a job asks for, as `#SBATCH` directives and sbatch options say it.
//! `lushan-sbatch` builds a [`JobRequest`]; the server resolves what depends
//! on time or place (`--begin`, defaults of the partition) at submission.

/// Memory as sbatch takes it: per node (`--mem`) or per CPU (`--mem-per-cpu`),
/// in MiB. `PerNode(0)` means all the memory of each node, as in Slurm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemRequest {
    PerNode(u64),
    PerCpu(u64),
}

/// GPUs: for the whole job (`-G/--gpus`) or per node (`--gpus-per-node`,
/// `--gres=gpu`), optionally of one type (`a100`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GpuRequest {
    Total { kind: Option<String>, count: u32 },
    PerNode { kind: Option<String>, count: u32 },
}

/// `-t/--time`: seconds, or `UNLIMITED`/`INFINITE` (the partition's limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeLimit {
    Seconds(u64),
    Unlimited,
}

/// `-a/--array`: the task ids, in order, and the `%N` throttle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArraySpec {
    pub task_ids: Vec<u32>,
    /// At most this many tasks run at once.
    pub throttle: Option<u32>,
    /// The text as written, for `show`.
    pub text: String,
}

/// One `-d/--dependency` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DependencyCondition {
    /// `after:JOB[+MIN]`: the job started (plus minutes) or was cancelled.
    After { job: JobRef, delay_mins: u32 },
    /// `afterok:JOB`: ended with exit code 0.
    AfterOk(JobRef),
    /// `afternotok:JOB`: ended in failure (non-zero, timeout, node failure...).
    AfterNotOk(JobRef),
    /// `afterany:JOB`: ended, whatever the outcome.
    AfterAny(JobRef),
    /// `singleton`: no other job of this user with this name is running or pending before it.
    Singleton,
}

/// A job named in a dependency: a whole job or one array task (`123_4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobRef {
    pub job_id: u64,
    pub task_id: Option<u32>,
}

/// `,` means all conditions must hold; `?` means any one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    pub conditions: Vec<DependencyCondition>,
    pub any: bool,
    pub text: String,
}

/// `--export`: which of the submitter's environment the job sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Export {
    /// All of it (the default), plus the given `VAR=value` settings.
    All { set: Vec<(String, String)> },
    /// None of it except the named variables and `VAR=value` settings.
    None { keep: Vec<String>, set: Vec<(String, String)> },
}

/// Whether the submitter's environment variable `name` may reach a job.
/// Lushan's own variables (`LUSHAN_TOKEN`, `LUSHAN_DATABASE_URL`, ...) set up
/// the client or server that reads them, and some are credentials: no job,
/// job file or reader of one gets them, whatever `--export` says.
pub fn reaches_job(name: &str) -> bool {
    !name.starts_with("LUSHAN_")
}

/// `--begin`: resolved against the clock and time zone at submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BeginSpec {
    /// `now`, `now+60`, `now+2hours`.
    FromNow { seconds: u64 },
    /// `YYYY-MM-DD[THH:MM[:SS]]`, local time.
    At { year: i16, month: i8, day: i8, hour: i8, minute: i8, second: i8 },
    /// `HH:MM[:SS]`, `midnight`, `noon`, `teatime`: the next such time.
    NextTimeOfDay { hour: i8, minute: i8, second: i8 },
    /// `today` / `tomorrow` (midnight of that day).
    DayOffset { days: u8 },
}

/// `--open-mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    Append,
    Truncate,
}

/// Everything a batch job asks for. `None` means "the default".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobRequest {
    pub name: Option<String>,
    /// `-A/--account`: the project.
    pub project: Option<String>,
    pub partition: Option<String>,
    pub qos: Option<String>,
    /// `-M/--clusters`: the site.
    pub site: Option<String>,
    pub nodes: Option<u32>,
    pub ntasks: Option<u32>,
    pub cpus_per_task: Option<u32>,
    pub ntasks_per_node: Option<u32>,
    pub mem: Option<MemRequest>,
    pub gpus: Option<GpuRequest>,
    pub time_limit: Option<TimeLimit>,
    pub array: Option<ArraySpec>,
    pub dependency: Option<Dependency>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub input: Option<String>,
    pub workdir: Option<String>,
    pub export: Option<Export>,
    pub begin: Option<BeginSpec>,
    pub hold: bool,
    /// `--requeue` / `--no-requeue`: whether a preempted run may go back to
    /// the queue (`None`: yes, as Slurm's JobRequeue=1).
    pub requeue: Option<bool>,
    pub open_mode: Option<OpenMode>,
    pub exclusive: bool,
    pub constraint: Option<String>,
    pub comment: Option<String>,
    /// `--wrap`: the command to run instead of a script.
    pub wrap: Option<String>,
    /// `--parsable`: print only the job id.
    pub parsable: bool,
}

impl Default for Export {
    fn default() -> Self {
        Export::All { set: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::reaches_job;

    #[test]
    fn lushan_s_own_variables_never_reach_a_job() {
        for name in ["LUSHAN_TOKEN", "LUSHAN_PASSWORD", "LUSHAN_DATABASE_URL", "LUSHAN_URL"] {
            assert!(!reaches_job(name), "{name}");
        }
        for name in ["PATH", "HOME", "SBATCH_PARTITION", "MY_LUSHAN_TOKEN", "lushan_token"] {
            assert!(reaches_job(name), "{name}");
        }
    }
}
