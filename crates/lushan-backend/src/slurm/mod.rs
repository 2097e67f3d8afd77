//! A Slurm site. [`SlurmSite`] is the client the control loop and the
//! service use; it reaches the cluster one of two ways (the operator's
//! choice at `lushan admin site add`):
//!
//! - [`rest`]: slurmrestd's API v0.0.38 (Slurm 22.05, Debian 12) through
//!   [`v0038`], every request carrying a JWT minted here for the Unix user
//!   it acts as ([`jwt::mint`]);
//! - [`cli`]: Slurm's own commands on the server's host (`sbatch`,
//!   `squeue`, `sacct`, `scontrol`, `sacctmgr`), started as the Unix user
//!   they act for (the server must run as root to switch users).
//!
//! Both return types of this module ([`Inventory`], [`RemoteJob`],
//! [`JobAccounting`]), so nothing above this client knows which transport
//! a site uses, and a newer API version is another module filling the
//! same types. A job is submitted, followed and cancelled as its user's
//! mapped account, never as root. Reading the cluster (nodes, partitions,
//! accounting) uses the site's service user (`slurm` unless the operator
//! says otherwise).

pub mod accounts;
pub mod cli;
pub mod jwt;
mod rest;
pub mod v0038;

use lushan_model::JobState;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    #[error("cannot reach slurmrestd at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error(
        "slurmrestd at {url} refused the token (HTTP {status}, Slurm's \"Unspecified error\"): check that --jwt-key is the cluster's jwt_hs256.key, that AuthAltTypes=auth/jwt is set, and that the user exists on the cluster"
    )]
    Unauthenticated { url: String, status: u16 },
    #[error("Slurm refused: {0}")]
    Refused(String),
    #[error("slurmrestd at {url} answered something Lushan cannot read: {detail}")]
    Protocol { url: String, detail: String },
    #[error("cannot read the JWT key {path}: {source}")]
    Key { path: String, source: std::io::Error },
    /// A command of the `cli` transport did not run, did not finish in
    /// time, or could not reach slurmctld or slurmdbd.
    #[error("`{command}` on this host: {detail}")]
    CommandUnavailable { command: String, detail: String },
    /// A command printed what Lushan cannot read.
    #[error("`{command}` printed something Lushan cannot read: {detail}")]
    CommandOutput { command: String, detail: String },
    /// The server cannot act as the job's user (it does not run as root).
    #[error("{0}")]
    CannotActAs(String),
}

impl SlurmError {
    /// The site did not answer (down, unreachable, a command that hangs):
    /// worth retrying later.
    pub fn is_outage(&self) -> bool {
        matches!(self, SlurmError::Unreachable { .. } | SlurmError::CommandUnavailable { .. })
    }
}

/// How a site is reached, as the operator gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// slurmrestd at `url`, signing tokens with the key at `jwt_key`.
    Rest { url: &'a str, jwt_key: &'a str },
    /// Slurm's commands in `bin` (empty: found on the server's `PATH`).
    Cli { bin: &'a str },
}

/// A site's partitions and nodes as Slurm reports them.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub partitions: Vec<RemotePartition>,
    pub nodes: Vec<RemoteNode>,
}

#[derive(Debug, Clone)]
pub struct RemotePartition {
    pub name: String,
    pub default: bool,
    pub nodes: Vec<String>,
    pub max_time_secs: Option<i64>,
    pub up: bool,
}

#[derive(Debug, Clone)]
pub struct RemoteNode {
    pub name: String,
    pub cpus: i64,
    pub memory_mb: i64,
    pub gpus: i64,
    pub gpu_type: Option<String>,
    pub features: Vec<String>,
    /// Slurm's own words: `idle`, `mixed`, `allocated`, `down`, `drained`...
    pub state: String,
    /// CPUs no job holds now.
    pub idle_cpus: i64,
}

/// A job as slurmctld knows it now.
#[derive(Debug, Clone)]
pub struct RemoteJob {
    pub id: u64,
    /// Slurm's `job_state`: `PENDING`, `RUNNING`, `COMPLETED`...
    pub state: String,
    /// Slurm's pending reason (`Priority`, `Resources`, `None`...).
    pub reason: String,
    pub nodes: Vec<String>,
    pub comment: String,
    pub start_secs: Option<i64>,
    pub end_secs: Option<i64>,
    /// (exit code, signal), from slurmctld's wait status.
    pub exit: Option<(i64, i64)>,
    pub cpus: i64,
    pub partition: String,
}

/// A job's record in slurmdbd: what it used, which is what it is charged.
#[derive(Debug, Clone)]
pub struct JobAccounting {
    pub id: u64,
    pub state: String,
    pub reason: String,
    pub nodes: Vec<String>,
    pub start_secs: i64,
    pub end_secs: i64,
    pub elapsed_secs: i64,
    /// Allocated TRES.
    pub cpus: i64,
    pub memory_mb: i64,
    pub gpus: i64,
    pub total_cpu_ms: i64,
    pub exit_code: i64,
    pub signal: i64,
}

/// What Lushan asks Slurm to run: a job's resolved request.
#[derive(Debug, Clone, Default)]
pub struct SubmitSpec {
    pub name: String,
    /// `lushan:INSTANCE:JOB`: finds the job again after a crash between
    /// the submission and its record (never submitted twice).
    pub comment: String,
    pub partition: String,
    pub account: String,
    pub nodes: i64,
    pub ntasks: i64,
    pub cpus_per_task: i64,
    pub memory_per_node_mb: i64,
    pub gpus_per_node: i64,
    pub exclusive: bool,
    pub constraint: String,
    pub time_limit_mins: i64,
    pub script: String,
    pub args: Vec<String>,
    pub env: Vec<(String, serde_json::Value)>,
    pub workdir: String,
    pub stdout: String,
    pub stderr: String,
    pub stdin: String,
    pub append: bool,
}

/// Lushan's state for a Slurm job state; `None` while it is not over.
pub fn final_state(slurm: &str) -> Option<JobState> {
    match slurm {
        "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING" | "SUSPENDED" | "REQUEUED" | "REQUEUE_HOLD"
        | "REQUEUE_FED" | "RESIZING" | "STAGE_OUT" | "SIGNALING" | "SPECIAL_EXIT" | "RESV_DEL_HOLD" => None,
        "COMPLETED" => Some(JobState::Completed),
        "CANCELLED" => Some(JobState::Cancelled),
        "TIMEOUT" | "DEADLINE" => Some(JobState::Timeout),
        "OUT_OF_MEMORY" => Some(JobState::OutOfMemory),
        "NODE_FAIL" | "BOOT_FAIL" => Some(JobState::NodeFail),
        "PREEMPTED" => Some(JobState::Preempted),
        _ => Some(JobState::Failed),
    }
}

/// One Slurm cluster, through slurmrestd or through its commands.
#[derive(Clone, Debug)]
pub struct SlurmSite {
    transport: Transport,
}

#[derive(Clone, Debug)]
enum Transport {
    Rest(rest::Rest),
    Cli(cli::Cli),
}

/// Calls the same method on whichever transport the site uses.
macro_rules! dispatch {
    ($self:ident.$method:ident($($arg:expr),*)) => {
        match &$self.transport {
            Transport::Rest(site) => site.$method($($arg),*).await,
            Transport::Cli(site) => site.$method($($arg),*).await,
        }
    };
}

impl SlurmSite {
    /// A client for the site at `endpoint`, reading the cluster as
    /// `service_user`; every request or command gives up after `timeout`.
    pub fn open(endpoint: Endpoint<'_>, service_user: &str, timeout: Duration) -> Result<SlurmSite, SlurmError> {
        let transport = match endpoint {
            Endpoint::Rest { url, jwt_key } => Transport::Rest(rest::Rest::open(url, jwt_key, service_user, timeout)?),
            Endpoint::Cli { bin } => Transport::Cli(cli::Cli::open(bin, service_user, timeout)),
        };
        Ok(SlurmSite { transport })
    }

    /// `rest` or `cli`.
    pub fn transport(&self) -> &'static str {
        match self.transport {
            Transport::Rest(_) => "rest",
            Transport::Cli(_) => "cli",
        }
    }

    /// Slurm's release (`22.05.8`) if slurmctld answers.
    pub async fn ping(&self) -> Result<String, SlurmError> {
        dispatch!(self.ping())
    }

    /// Whether slurmdbd answers (accounting is what jobs are charged from).
    pub async fn accounting_ok(&self) -> Result<(), SlurmError> {
        dispatch!(self.accounting_ok())
    }

    /// The cluster's partitions and nodes, with their state now.
    pub async fn inventory(&self) -> Result<Inventory, SlurmError> {
        dispatch!(self.inventory())
    }

    /// Submits a batch job as `user`; its Slurm job id.
    pub async fn submit(&self, user: &str, spec: &SubmitSpec) -> Result<u64, SlurmError> {
        dispatch!(self.submit(user, spec))
    }

    /// Every job slurmctld holds, if anything changed since `since_secs`
    /// (`None`: nothing did). One request however many jobs Lushan follows.
    pub async fn jobs_since(&self, since_secs: i64) -> Result<Option<Vec<RemoteJob>>, SlurmError> {
        dispatch!(self.jobs_since(since_secs))
    }

    /// A job's accounting record, once slurmdbd has it.
    pub async fn accounting(&self, id: u64) -> Result<Option<JobAccounting>, SlurmError> {
        dispatch!(self.accounting(id))
    }

    /// The accounting records of several jobs, for those slurmdbd has.
    pub async fn accounting_of(&self, ids: &[u64]) -> Result<Vec<JobAccounting>, SlurmError> {
        dispatch!(self.accounting_of(ids))
    }

    /// Holds (priority 0, reason `JobHeldUser`) or releases a pending job, as `user`.
    pub async fn set_held(&self, user: &str, id: u64, held: bool) -> Result<(), SlurmError> {
        dispatch!(self.set_held(user, id, held))
    }

    /// Signals a job (SIGKILL is Slurm's cancel), as `user`. A job Slurm
    /// no longer knows is not an error: it ended.
    pub async fn cancel(&self, user: &str, id: u64, signal: Option<&str>) -> Result<(), SlurmError> {
        dispatch!(self.cancel(user, id, signal))
    }

    /// The clusters slurmdbd keeps accounts for.
    pub async fn clusters(&self) -> Result<Vec<String>, SlurmError> {
        dispatch!(self.clusters())
    }

    /// `cluster`'s accounts, their parents and users, as slurmdbd has them.
    pub async fn accounts(&self, cluster: &str) -> Result<accounts::ClusterAccounts, SlurmError> {
        dispatch!(self.accounts(cluster))
    }

    /// Makes `changes` on `cluster` as the service user (which slurmdbd
    /// must know as an administrator: `slurm`, the SlurmUser, is). What
    /// slurmdbd said against them comes back; whether they took is for
    /// the caller to see by reading the accounts again.
    pub async fn apply_accounts(
        &self,
        cluster: &str,
        changes: &[accounts::AccountChange],
    ) -> Result<Vec<String>, SlurmError> {
        dispatch!(self.apply_accounts(cluster, changes))
    }

    /// What of `changes` this transport cannot make, each with the
    /// sacctmgr command that makes it on the cluster (slurmrestd v0.0.38
    /// cannot change an account's own limits; the commands can do all).
    pub fn by_hand(&self, cluster: &str, changes: &[accounts::AccountChange]) -> Vec<String> {
        match self.transport {
            Transport::Rest(_) => v0038::unsupported(cluster, changes),
            Transport::Cli(_) => Vec::new(),
        }
    }
}

/// `gpu:a100:4(S:0-1),gpu:2` -> (6, Some("a100")): the first type named.
fn gpus_of(gres: &str) -> (i64, Option<String>) {
    let mut count = 0;
    let mut kind = None;
    for item in gres.split(',') {
        let item = item.split('(').next().unwrap_or_default();
        let mut parts = item.split(':');
        if parts.next() != Some("gpu") {
            continue;
        }
        let rest: Vec<&str> = parts.collect();
        match rest.as_slice() {
            [n] => count += n.parse::<i64>().unwrap_or(0),
            [t, n] => {
                count += n.parse::<i64>().unwrap_or(0);
                kind.get_or_insert_with(|| (*t).to_owned());
            }
            _ => {}
        }
    }
    (count, kind)
}

/// When a job asking for `nodes` nodes with `cpus_per_node` CPUs each could
/// start in `partition`, in seconds since the epoch: now if enough nodes
/// have the CPUs idle, else when enough running jobs have reached their
/// time limits (`end_secs`) to free them, and never before the jobs Slurm
/// already queues there are expected to start (Slurm's backfill sets their
/// `start_secs`). `None`: not within the jobs Slurm knows of (down nodes,
/// or a queue Slurm has no estimate for). A lower bound, as `sbatch
/// --test-only` is: it does not know the priorities of jobs still to come.
pub fn estimate_start(
    inventory: &Inventory,
    jobs: &[RemoteJob],
    partition: &str,
    nodes: i64,
    cpus_per_node: i64,
    now_secs: i64,
) -> Option<i64> {
    let members: &[String] = &inventory.partitions.iter().find(|p| p.name == partition)?.nodes;
    let usable = |state: &str| {
        let state = state.to_ascii_lowercase();
        ["idle", "mixed", "alloc", "completing"].iter().any(|s| state.starts_with(s))
    };
    let mut idle: Vec<(String, i64)> = inventory
        .nodes
        .iter()
        .filter(|n| members.contains(&n.name) && usable(&n.state))
        .map(|n| (n.name.clone(), n.idle_cpus))
        .collect();
    let fits = |idle: &[(String, i64)]| idle.iter().filter(|(_, free)| *free >= cpus_per_node).count() as i64 >= nodes;
    // Jobs queued ahead on these nodes start first.
    let mut after = now_secs;
    for job in jobs.iter().filter(|j| j.state == "PENDING" && j.partition.split(',').any(|p| p == partition)) {
        match job.start_secs {
            Some(start) => after = after.max(start),
            None => return None,
        }
    }
    if fits(&idle) {
        return Some(after);
    }
    let mut ending: Vec<&RemoteJob> = jobs.iter().filter(|j| j.state == "RUNNING" && j.end_secs.is_some()).collect();
    ending.sort_by_key(|j| j.end_secs);
    for job in ending {
        let share = job.cpus / (job.nodes.len().max(1) as i64);
        for (name, free) in &mut idle {
            if job.nodes.contains(name) {
                *free += share;
            }
        }
        if fits(&idle) {
            return job.end_secs.map(|end| end.max(after));
        }
    }
    None
}

/// Slurm's hostlist syntax: `node[01-03,7],gpu1` -> node01 node02 node03 node7 gpu1.
pub fn expand_hostlist(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    let bytes = list.as_bytes();
    let mut items = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth -= 1,
            b',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty() && *i != "(null)") {
        let (Some(open), Some(close)) = (item.find('['), item.rfind(']')) else {
            out.push(item.to_owned());
            continue;
        };
        let (prefix, ranges, suffix) = (&item[..open], &item[open + 1..close], &item[close + 1..]);
        for range in ranges.split(',') {
            match range.split_once('-') {
                Some((lo, hi)) => {
                    let width = lo.len();
                    let (Ok(lo_n), Ok(hi_n)) = (lo.parse::<u64>(), hi.parse::<u64>()) else { continue };
                    for n in lo_n..=hi_n.min(lo_n.saturating_add(100_000)) {
                        out.push(format!("{prefix}{n:0width$}{suffix}"));
                    }
                }
                None => out.push(format!("{prefix}{range}{suffix}")),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cpus: i64, idle: i64, state: &str) -> RemoteNode {
        RemoteNode {
            name: name.into(),
            cpus,
            memory_mb: 1000,
            gpus: 0,
            gpu_type: None,
            features: vec![],
            state: state.into(),
            idle_cpus: idle,
        }
    }

    fn job(state: &str, nodes: &[&str], cpus: i64, start: Option<i64>, end: Option<i64>) -> RemoteJob {
        RemoteJob {
            id: 1,
            state: state.into(),
            reason: String::new(),
            nodes: nodes.iter().map(|n| (*n).to_owned()).collect(),
            comment: String::new(),
            start_secs: start,
            end_secs: end,
            exit: None,
            cpus,
            partition: "batch".into(),
        }
    }

    #[test]
    fn a_start_is_now_when_it_fits_else_when_enough_running_jobs_reach_their_limits() {
        let inventory = Inventory {
            partitions: vec![RemotePartition {
                name: "batch".into(),
                default: true,
                nodes: vec!["a".into(), "b".into(), "c".into()],
                max_time_secs: None,
                up: true,
            }],
            nodes: vec![node("a", 4, 4, "idle"), node("b", 4, 0, "allocated"), node("c", 4, 4, "down")],
        };
        let running =
            vec![job("RUNNING", &["b"], 4, Some(0), Some(1_000)), job("RUNNING", &["a"], 0, Some(0), Some(500))];
        assert_eq!(estimate_start(&inventory, &running, "batch", 1, 4, 100), Some(100));
        // Two nodes: the down one does not count; b frees at 1000.
        assert_eq!(estimate_start(&inventory, &running, "batch", 2, 4, 100), Some(1_000));
        assert_eq!(estimate_start(&inventory, &running, "batch", 3, 4, 100), None);
        assert_eq!(estimate_start(&inventory, &running, "nosuch", 1, 1, 100), None);
        // A job Slurm queues there and expects at 2000 goes first.
        let mut queued = running.clone();
        queued.push(job("PENDING", &[], 4, Some(2_000), None));
        assert_eq!(estimate_start(&inventory, &queued, "batch", 1, 4, 100), Some(2_000));
    }

    #[test]
    fn hostlists_expand_as_slurm_writes_them() {
        assert_eq!(expand_hostlist(""), Vec::<String>::new());
        assert_eq!(expand_hostlist("vm"), vec!["vm"]);
        assert_eq!(expand_hostlist("node[01-03,7],gpu1"), vec!["node01", "node02", "node03", "node7", "gpu1"]);
        assert_eq!(expand_hostlist("a[9-10]-ib"), vec!["a9-ib", "a10-ib"]);
    }

    #[test]
    fn slurm_states_map_to_lushan_s_and_only_final_ones_end_a_job() {
        assert_eq!(final_state("PENDING"), None);
        assert_eq!(final_state("RUNNING"), None);
        assert_eq!(final_state("COMPLETING"), None);
        assert_eq!(final_state("COMPLETED"), Some(JobState::Completed));
        assert_eq!(final_state("CANCELLED"), Some(JobState::Cancelled));
        assert_eq!(final_state("DEADLINE"), Some(JobState::Timeout));
        assert_eq!(final_state("BOOT_FAIL"), Some(JobState::NodeFail));
        assert_eq!(final_state("SOMETHING_NEW"), Some(JobState::Failed));
    }
}
