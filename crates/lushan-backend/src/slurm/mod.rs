//! A Slurm site, reached through slurmrestd. [`SlurmSite`] is the small
//! versioned client the control loop and the service use: it speaks API
//! v0.0.38 (Slurm 22.05, Debian 12) through [`v0038`], and returns types
//! of its own ([`Inventory`], [`RemoteJob`], [`JobAccounting`]) so that a
//! newer API version is another module filling the same types.
//!
//! Every request carries a JWT minted here for the Unix user it acts as
//! ([`jwt::mint`]): a job is submitted, followed and cancelled as its
//! user's mapped account, never as root. Reading the cluster (nodes,
//! partitions, accounting) uses the site's service user (`slurm` unless
//! the operator says otherwise).

pub mod accounts;
pub mod jwt;
pub mod v0038;

use lushan_model::JobState;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long a minted token lives: long enough for one request and its
/// retries, short enough to be useless if it leaks into a log.
const TOKEN_LIFESPAN_SECS: i64 = 300;

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
}

impl SlurmError {
    /// The site did not answer (down, or unreachable): worth retrying later.
    pub fn is_outage(&self) -> bool {
        matches!(self, SlurmError::Unreachable { .. })
    }
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

/// One Slurm cluster behind its slurmrestd.
#[derive(Clone)]
pub struct SlurmSite {
    http: reqwest::Client,
    base: String,
    key: std::sync::Arc<Vec<u8>>,
    /// The account Lushan reads the cluster as (never root).
    service_user: String,
}

impl std::fmt::Debug for SlurmSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlurmSite").field("base", &self.base).field("service_user", &self.service_user).finish()
    }
}

/// Seconds since the epoch, for the tokens' `iat`/`exp`.
fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl SlurmSite {
    /// A client for `rest_url` signing with the key at `key_path`.
    pub fn open(
        rest_url: &str,
        key_path: &str,
        service_user: &str,
        timeout: Duration,
    ) -> Result<SlurmSite, SlurmError> {
        let key = std::fs::read(key_path).map_err(|source| SlurmError::Key { path: key_path.to_owned(), source })?;
        if key.is_empty() {
            return Err(SlurmError::Key {
                path: key_path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, "the key file is empty"),
            });
        }
        // reqwest is built without a default crypto provider (for https
        // sites); the first caller installs ring, later calls find it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build().map_err(|e| {
            SlurmError::Protocol { url: rest_url.to_owned(), detail: format!("cannot build an HTTP client: {e}") }
        })?;
        Ok(SlurmSite {
            http,
            base: rest_url.trim_end_matches('/').to_owned(),
            key: std::sync::Arc::new(key),
            service_user: service_user.to_owned(),
        })
    }

    async fn request<T: DeserializeOwned + Default>(
        &self,
        method: reqwest::Method,
        path: &str,
        user: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Option<T>, SlurmError> {
        let url = format!("{}{path}", self.base);
        let token = jwt::mint(&self.key, user, now_secs(), TOKEN_LIFESPAN_SECS);
        let mut request =
            self.http.request(method, &url).header("X-SLURM-USER-NAME", user).header("X-SLURM-USER-TOKEN", token);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| SlurmError::Unreachable { url: self.base.clone(), detail: e.to_string() })?;
        let status = response.status().as_u16();
        if status == 304 {
            return Ok(None);
        }
        // slurmrestd answers a bad token with 500, not 401 (SLURM.md, gotcha 6).
        if status == 401 || status == 403 {
            return Err(SlurmError::Unauthenticated { url: self.base.clone(), status });
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SlurmError::Unreachable { url: self.base.clone(), detail: e.to_string() })?;
        // A token slurmctld refuses comes back as HTTP 500 with Slurm's
        // generic error (-1), or an empty body (SLURM.md, gotcha 6).
        if status == 500 {
            let envelope: v0038::Envelope = serde_json::from_slice(&bytes).unwrap_or_default();
            if envelope.errors.iter().all(|e| e.error_number.unwrap_or(-1) == -1) {
                return Err(SlurmError::Unauthenticated { url: self.base.clone(), status });
            }
        }
        match serde_json::from_slice::<T>(&bytes) {
            Ok(value) => Ok(Some(value)),
            Err(err) => {
                let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
                Err(SlurmError::Protocol { url: url.clone(), detail: format!("HTTP {status}, {err}: {text:?}") })
            }
        }
    }

    async fn get<T: DeserializeOwned + Default>(&self, path: &str, user: &str) -> Result<Option<T>, SlurmError> {
        self.request(reqwest::Method::GET, path, user, None).await
    }

    /// Slurm's release (`22.05.8`) if slurmctld answers.
    pub async fn ping(&self) -> Result<String, SlurmError> {
        let pings: v0038::Pings =
            self.get(&format!("{}/ping", v0038::SLURM), &self.service_user).await?.unwrap_or_default();
        refuse(&pings.envelope.errors)?;
        if !pings.pings.iter().any(|p| p.ping == "UP") {
            return Err(SlurmError::Refused("slurmctld does not answer slurmrestd's ping".into()));
        }
        Ok(pings.envelope.meta.slurm.and_then(|s| s.release).unwrap_or_default())
    }

    /// Whether slurmdbd answers (accounting is what jobs are charged from).
    pub async fn accounting_ok(&self) -> Result<(), SlurmError> {
        let envelope: v0038::Envelope =
            self.get(&format!("{}/diag", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        refuse(&envelope.errors)
    }

    pub async fn inventory(&self) -> Result<Inventory, SlurmError> {
        let nodes: v0038::Nodes =
            self.get(&format!("{}/nodes", v0038::SLURM), &self.service_user).await?.unwrap_or_default();
        refuse(&nodes.envelope.errors)?;
        let partitions: v0038::Partitions =
            self.get(&format!("{}/partitions", v0038::SLURM), &self.service_user).await?.unwrap_or_default();
        refuse(&partitions.envelope.errors)?;
        Ok(v0038::inventory(nodes, partitions))
    }

    /// Submits a batch job as `user`; its Slurm job id.
    pub async fn submit(&self, user: &str, spec: &SubmitSpec) -> Result<u64, SlurmError> {
        let body = v0038::submit_body(spec);
        let submitted: v0038::Submitted = self
            .request(reqwest::Method::POST, &format!("{}/job/submit", v0038::SLURM), user, Some(&body))
            .await?
            .unwrap_or_default();
        refuse(&submitted.envelope.errors)?;
        submitted.job_id.ok_or_else(|| SlurmError::Protocol {
            url: self.base.clone(),
            detail: "the submission was accepted without a job id".into(),
        })
    }

    /// Every job slurmctld holds, if anything changed since `since_secs`
    /// (`None`: nothing did). One request however many jobs Lushan follows.
    pub async fn jobs_since(&self, since_secs: i64) -> Result<Option<Vec<RemoteJob>>, SlurmError> {
        let path = format!("{}/jobs?update_time={since_secs}", v0038::SLURM);
        let Some(jobs) = self.get::<v0038::Jobs>(&path, &self.service_user).await? else { return Ok(None) };
        refuse(&jobs.envelope.errors)?;
        Ok(Some(jobs.jobs.into_iter().map(v0038::remote_job).collect()))
    }

    /// A job's accounting record, once slurmdbd has it.
    pub async fn accounting(&self, id: u64) -> Result<Option<JobAccounting>, SlurmError> {
        let jobs: v0038::DbJobs =
            self.get(&format!("{}/job/{id}", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        // 9003 "Nothing found": not (yet) in the database.
        if jobs.envelope.errors.iter().any(|e| e.error_number == Some(9003)) {
            return Ok(None);
        }
        refuse(&jobs.envelope.errors)?;
        Ok(jobs.jobs.into_iter().find(|j| j.job_id == id).map(v0038::accounting))
    }

    /// Holds (priority 0, reason `JobHeldUser`) or releases a pending job, as `user`.
    pub async fn set_held(&self, user: &str, id: u64, held: bool) -> Result<(), SlurmError> {
        let body = serde_json::json!({ "hold": held });
        let envelope: v0038::Envelope = self
            .request(reqwest::Method::POST, &format!("{}/job/{id}", v0038::SLURM), user, Some(&body))
            .await?
            .unwrap_or_default();
        refuse(&envelope.errors)
    }

    /// The accounting records of several jobs in one request (slurmdbd
    /// answers any query in about 0.35 s here, however few jobs it names),
    /// for those it has.
    pub async fn accounting_of(&self, ids: &[u64]) -> Result<Vec<JobAccounting>, SlurmError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let list = chunk.iter().map(u64::to_string).collect::<Vec<_>>().join("%2C");
            let path = format!("{}/jobs?step={list}&skip_steps=true", v0038::SLURMDB);
            let jobs: v0038::DbJobs = self.get(&path, &self.service_user).await?.unwrap_or_default();
            if !jobs.envelope.errors.iter().any(|e| e.error_number == Some(9003)) {
                refuse(&jobs.envelope.errors)?;
            }
            out.extend(jobs.jobs.into_iter().filter(|j| chunk.contains(&j.job_id)).map(v0038::accounting));
        }
        Ok(out)
    }

    /// Signals a job (SIGKILL is Slurm's cancel), as `user`. A job Slurm
    /// no longer knows is not an error: it ended.
    pub async fn cancel(&self, user: &str, id: u64, signal: Option<&str>) -> Result<(), SlurmError> {
        let query = signal.map(|s| format!("?signal={s}")).unwrap_or_default();
        let envelope: v0038::Envelope = self
            .request(reqwest::Method::DELETE, &format!("{}/job/{id}{query}", v0038::SLURM), user, None)
            .await?
            .unwrap_or_default();
        if envelope.errors.iter().any(|e| e.error_number == Some(2017)) {
            return Ok(());
        }
        refuse(&envelope.errors)
    }
}

impl SlurmSite {
    /// The clusters slurmdbd keeps accounts for.
    pub async fn clusters(&self) -> Result<Vec<String>, SlurmError> {
        let clusters: v0038::Clusters =
            self.get(&format!("{}/clusters", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        refuse(&clusters.envelope.errors)?;
        Ok(clusters.clusters.into_iter().map(|c| c.name).collect())
    }

    /// `cluster`'s accounts, their parents and users, as slurmdbd has them
    /// (three slurmdbd queries).
    pub async fn accounts(&self, cluster: &str) -> Result<accounts::ClusterAccounts, SlurmError> {
        let listed: v0038::Accounts =
            self.get(&format!("{}/accounts", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        refuse(&listed.envelope.errors)?;
        let path = format!("{}/associations?cluster={cluster}", v0038::SLURMDB);
        let associations: v0038::Associations = self.get(&path, &self.service_user).await?.unwrap_or_default();
        refuse(&associations.envelope.errors)?;
        let users: v0038::Users =
            self.get(&format!("{}/users", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        refuse(&users.envelope.errors)?;
        Ok(v0038::cluster_accounts(listed, associations, users))
    }

    /// Makes `changes` on `cluster` as the service user (which slurmdbd
    /// must know as an administrator: `slurm`, the SlurmUser, is). What
    /// slurmdbd said against them comes back; whether they took is for
    /// the caller to see by reading the accounts again, because 22.05
    /// reports "Missing required field 'user'" for an account's
    /// association it does create.
    pub async fn apply_accounts(
        &self,
        cluster: &str,
        changes: &[accounts::AccountChange],
    ) -> Result<Vec<String>, SlurmError> {
        let mut said = Vec::new();
        for (method, path, body) in v0038::account_requests(cluster, changes) {
            let envelope: v0038::Envelope =
                self.request(method, &path, &self.service_user, body.as_ref()).await?.unwrap_or_default();
            said.extend(
                envelope
                    .errors
                    .iter()
                    .map(v0038::Error::text)
                    .filter(|text| !text.contains("Missing required field 'user'")),
            );
        }
        Ok(said)
    }
}

fn refuse(errors: &[v0038::Error]) -> Result<(), SlurmError> {
    match errors.first() {
        None => Ok(()),
        Some(_) => Err(SlurmError::Refused(errors.iter().map(v0038::Error::text).collect::<Vec<_>>().join("; "))),
    }
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
