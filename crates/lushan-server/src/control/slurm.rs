//! Slurm sites in the control loop. Slurm schedules its own cluster, so a
//! pass does three things per Slurm site rather than scheduling:
//!
//! 1. **follow**: one `GET /jobs?update_time=` (a 304 when nothing
//!    changed) gives every forwarded job's Slurm state: pending reasons are
//!    copied, starts recorded, and an end is recorded and settled from
//!    slurmdbd's accounting (elapsed time, allocated CPUs), so a job is
//!    charged what Slurm says it used, once (`Store::end_job` is guarded).
//!    A job slurmctld no longer lists is looked up in slurmdbd: settled if
//!    it is there, recorded as lost if it is nowhere.
//! 2. **forward**: pending jobs whose dependencies and begin time Lushan
//!    has cleared are claimed (`Store::mark_forwarding`, written before the
//!    request) and submitted as the user's mapped Unix account; Slurm's job
//!    id is recorded after. A claim without an id (the server died in
//!    between) is looked for on the cluster by the job's comment
//!    (`lushan:INSTANCE:JOB`) before the job is ever sent again, so no job
//!    is submitted twice. While the site does not answer, jobs wait with
//!    the reason `SiteUnavailable` and are sent once it is back.
//! 3. **inventory**: every minute, partitions and nodes are read again.

use super::{Control, output_path};
use crate::clock::now_ms;
use lushan_backend::slurm::{Endpoint, JobAccounting, RemoteJob, SlurmError, SlurmSite, SubmitSpec, final_state};
use lushan_model::{JobId, JobState, PendingReason};
use lushan_store::{InventoryNode, InventoryRecord, JobEnd, JobRecord, SiteRecord, StoreError};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How long one request to slurmrestd may take before the site counts as
/// down for this pass.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a site's partitions and nodes are read again.
const INVENTORY_EVERY_MS: i64 = 60_000;
/// A job slurmctld no longer lists and slurmdbd does not know after this
/// long is recorded as lost (slurmdbd may lag a little behind slurmctld).
const LOST_AFTER_MS: i64 = 30_000;

/// Per-site state the loop keeps between passes.
#[derive(Default)]
pub struct SlurmState {
    clients: HashMap<i64, (String, SlurmSite)>,
    /// When each site's jobs were last read (Slurm's `update_time`, secs).
    polled: HashMap<i64, i64>,
    /// Since when a forwarded job has been missing from slurmctld's list.
    missing: HashMap<i64, i64>,
    /// Jobs Slurm ended whose slurmdbd record is not usable yet: the next
    /// pass reads the whole list again rather than only what changed,
    /// since nothing may change on the cluster until slurmdbd has it.
    unsettled: HashSet<i64>,
    /// The (account, user) associations last seen on each site.
    pub(super) associations: HashMap<i64, HashSet<(String, String)>>,
    /// Counts the platform's changes of limits; each site is sent them
    /// when the count it last got differs (none yet: after a start).
    pub(super) limits_version: u64,
    pub(super) limits_pushed: HashMap<i64, u64>,
}

/// A client for a site at `endpoint`, reading the cluster as `service_user`.
pub fn open_site(endpoint: Endpoint<'_>, service_user: &str) -> Result<SlurmSite, SlurmError> {
    SlurmSite::open(endpoint, service_user, REQUEST_TIMEOUT)
}

/// How a stored site is reached.
pub fn site_endpoint(site: &SiteRecord) -> Endpoint<'_> {
    match site.transport.as_str() {
        "cli" => Endpoint::Cli { bin: &site.slurm_bin },
        _ => Endpoint::Rest { url: &site.rest_url, jwt_key: &site.jwt_key_path },
    }
}

/// Slurm's partitions and nodes as the store keeps them.
pub fn inventory_record(inventory: lushan_backend::slurm::Inventory) -> InventoryRecord {
    InventoryRecord {
        partitions: inventory.partitions.into_iter().map(|p| (p.name, p.default, p.nodes, p.max_time_secs)).collect(),
        nodes: inventory
            .nodes
            .into_iter()
            .map(|n| InventoryNode {
                name: n.name,
                cpus: n.cpus,
                memory_mb: n.memory_mb,
                gpus: n.gpus,
                gpu_type: n.gpu_type,
                features: n.features.join(","),
                state: n.state.to_ascii_lowercase(),
            })
            .collect(),
    }
}

impl Control {
    pub(super) async fn slurm_client(&self, site: &SiteRecord) -> Result<SlurmSite, SlurmError> {
        let key = format!(
            "{}\n{}\n{}\n{}\n{}",
            site.transport, site.rest_url, site.jwt_key_path, site.slurm_bin, site.service_user
        );
        let mut state = self.slurm.lock().await;
        if let Some((known, client)) = state.clients.get(&site.id.0)
            && *known == key
        {
            return Ok(client.clone());
        }
        let client = open_site(site_endpoint(site), &site.service_user)?;
        state.clients.insert(site.id.0, (key, client.clone()));
        Ok(client)
    }

    /// One pass over a Slurm site (see the module's comment).
    /// `pending` and `running` are the pass's jobs of every site.
    pub(super) async fn slurm_pass(
        &self,
        site: &SiteRecord,
        pending: &[JobRecord],
        running: &[JobRecord],
    ) -> Result<(), StoreError> {
        let client = match self.slurm_client(site).await {
            Ok(client) => client,
            Err(err) => {
                self.store.set_site_error(site.id, &err.to_string()).await?;
                return Ok(());
            }
        };
        let now = now_ms();
        if site.synced_at.is_none_or(|at| now - at >= INVENTORY_EVERY_MS) {
            match client.inventory().await {
                Ok(inventory) => {
                    let centre = self.store.centre_tenant_id().await?;
                    self.store.sync_inventory(site.id, &inventory_record(inventory), centre, now).await?;
                }
                Err(err) => {
                    tracing::warn!(site = site.name, "cannot read the site's nodes: {err}");
                    self.store.set_site_error(site.id, &err.to_string()).await?;
                    return self.wait_for_site(pending, site).await;
                }
            }
        }
        let outcome = async {
            let started = std::time::Instant::now();
            self.follow(site, &client, pending, running).await?;
            let followed = started.elapsed();
            self.push_limits(site, &client).await?;
            self.forward(site, &client, pending).await?;
            tracing::debug!(site = site.name, ?followed, total = ?started.elapsed(), "Slurm site pass");
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => {
                if !site.last_error.is_empty() {
                    self.store.set_site_error(site.id, "").await?;
                }
                Ok(())
            }
            Err(Failure::Store(err)) => Err(err),
            Err(Failure::Site(err)) => {
                tracing::warn!(site = site.name, "Slurm site unavailable: {err}");
                self.store.set_site_error(site.id, &err.to_string()).await?;
                self.wait_for_site(pending, site).await
            }
        }
    }

    /// While a site is down its unsent jobs say so.
    async fn wait_for_site(&self, pending: &[JobRecord], site: &SiteRecord) -> Result<(), StoreError> {
        let reasons: Vec<(JobId, &str)> = pending
            .iter()
            .filter(|j| j.site_id == site.id && j.remote_id.is_none() && !j.held)
            .map(|j| (j.id, PendingReason::SiteUnavailable.as_str()))
            .collect();
        self.store.set_pending_reasons(&reasons).await
    }

    /// Copies what Slurm did with the forwarded jobs into the store.
    async fn follow(
        &self,
        site: &SiteRecord,
        client: &SlurmSite,
        pending: &[JobRecord],
        running: &[JobRecord],
    ) -> Result<(), Failure> {
        let tracked: Vec<&JobRecord> =
            pending.iter().chain(running).filter(|j| j.site_id == site.id && j.forwarding_at.is_some()).collect();
        if tracked.is_empty() {
            return Ok(());
        }
        let since = self.slurm.lock().await.polled.get(&site.id.0).copied().unwrap_or(0);
        let poll_start = now_ms() / 1000;
        // Claims without an id need the full list to be looked for, and so
        // do ends waiting for their record.
        let orphans = tracked.iter().any(|j| j.remote_id.is_none());
        let waiting = {
            let state = self.slurm.lock().await;
            tracked.iter().any(|j| state.unsettled.contains(&j.id.0))
        };
        let Some(jobs) = client.jobs_since(if orphans || waiting { 0 } else { since }).await? else {
            return Ok(());
        };
        let by_id: HashMap<u64, &RemoteJob> = jobs.iter().map(|j| (j.id, j)).collect();
        // Every end seen in this pass is read from slurmdbd in one request.
        let ended: Vec<u64> = tracked
            .iter()
            .filter_map(|j| by_id.get(&(j.remote_id? as u64)))
            .filter(|r| final_state(&r.state).is_some())
            .map(|r| r.id)
            .collect();
        let accounting: HashMap<u64, JobAccounting> = if ended.is_empty() {
            HashMap::new()
        } else {
            client.accounting_of(&ended).await?.into_iter().map(|a| (a.id, a)).collect()
        };
        let mut reasons: Vec<(JobId, String)> = Vec::new();
        let instance = self.instance_id().await?;
        for job in &tracked {
            let Some(remote_id) = job.remote_id else {
                let comment = job_comment(&instance, job.id);
                match jobs.iter().find(|j| j.comment == comment) {
                    Some(found) => {
                        tracing::info!(job = job.id.0, slurm_job = found.id, "found a forwarded job on the cluster");
                        self.store.set_remote_id(job.id, found.id as i64, &found.reason).await?;
                    }
                    // Never reached Slurm: send it again.
                    None => self.store.unmark_forwarding(job.id, PendingReason::None.as_str()).await?,
                }
                continue;
            };
            match by_id.get(&(remote_id as u64)) {
                Some(remote) => {
                    self.slurm.lock().await.missing.remove(&job.id.0);
                    if let Some(reason) = self.apply(site, job, remote, accounting.get(&remote.id)).await? {
                        reasons.push((job.id, reason));
                    }
                }
                None => self.missing(site, client, job, remote_id as u64).await?,
            }
        }
        let reasons: Vec<(JobId, &str)> = reasons.iter().map(|(id, r)| (*id, r.as_str())).collect();
        self.store.set_pending_reasons(&reasons).await?;
        // Slurm's clock is the host's: ask from a second before this poll.
        self.slurm.lock().await.polled.insert(site.id.0, poll_start - 1);
        Ok(())
    }

    /// Records what Slurm did with one job; the pending reason to store,
    /// if it waits.
    async fn apply(
        &self,
        site: &SiteRecord,
        job: &JobRecord,
        remote: &RemoteJob,
        accounting: Option<&JobAccounting>,
    ) -> Result<Option<String>, Failure> {
        if let Some(state) = final_state(&remote.state) {
            // Charged from slurmdbd's record; until there is one, wait.
            let usable = accounting.and_then(|a| with_end(a, remote));
            {
                let mut slurm = self.slurm.lock().await;
                if usable.is_some() {
                    slurm.unsettled.remove(&job.id.0);
                } else {
                    slurm.unsettled.insert(job.id.0);
                }
            }
            if let Some(mut accounting) = usable {
                // slurmdbd's REST (dbv0.0.38) reports every exit code as 0;
                // slurmctld has the wait status.
                if let Some((code, signal)) = remote.exit {
                    accounting.exit_code = code;
                    accounting.signal = signal;
                }
                if !remote.reason.is_empty() && remote.reason != "None" {
                    accounting.reason.clone_from(&remote.reason);
                }
                self.record_end(site, job, state, &accounting).await?;
            }
            return Ok(None);
        }
        match (job.state, remote.state.as_str()) {
            (JobState::Pending, "PENDING") => {
                let reason = if remote.reason == "None" { PendingReason::Priority.as_str() } else { &remote.reason };
                return Ok((job.reason != reason).then(|| reason.to_owned()));
            }
            (JobState::Pending, _) => {
                let start = remote.start_secs.map_or_else(now_ms, |s| s.saturating_mul(1000));
                let alloc = allocation_json(site, &remote.nodes, remote.cpus);
                self.store.start_job(job.id, start, &remote.nodes.join(","), &alloc).await?;
            }
            _ => {}
        }
        Ok(None)
    }

    /// A forwarded job slurmctld does not list (purged after MinJobAge while
    /// Lushan was down, or lost by the cluster).
    async fn missing(&self, site: &SiteRecord, client: &SlurmSite, job: &JobRecord, id: u64) -> Result<(), Failure> {
        if let Some(accounting) = client.accounting(id).await?.filter(|a| a.end_secs > 0) {
            self.slurm.lock().await.unsettled.remove(&job.id.0);
            let state = final_state(&accounting.state).unwrap_or(JobState::Failed);
            return Ok(self.record_end(site, job, state, &accounting).await?);
        }
        let now = now_ms();
        let since = *self.slurm.lock().await.missing.entry(job.id.0).or_insert(now);
        if now - since < LOST_AFTER_MS {
            return Ok(());
        }
        tracing::warn!(job = job.id.0, slurm_job = id, site = site.name, "job lost by the Slurm site");
        let end = JobEnd {
            state: JobState::NodeFail,
            reason: format!("lost: Slurm job {id} is known neither to slurmctld nor to slurmdbd on site {}", site.name),
            time: now,
            exit_code: None,
            exit_signal: None,
            max_rss_kib: None,
            total_cpu_ms: None,
            // Nothing Slurm recorded: nothing to charge.
            nodes: Vec::new(),
            start: None,
        };
        self.store.end_job(job.id, job.state, &end, None).await?;
        self.slurm.lock().await.missing.remove(&job.id.0);
        Ok(())
    }

    async fn record_end(
        &self,
        site: &SiteRecord,
        job: &JobRecord,
        state: JobState,
        accounting: &JobAccounting,
    ) -> Result<(), StoreError> {
        let ran = accounting.start_secs > 0 && accounting.elapsed_secs > 0;
        let start = ran.then(|| accounting.start_secs.saturating_mul(1000));
        let end_ms = if accounting.end_secs > 0 { accounting.end_secs.saturating_mul(1000) } else { now_ms() };
        let end = JobEnd {
            state,
            reason: match state {
                JobState::Completed => "None".into(),
                _ if accounting.reason.is_empty() || accounting.reason == "None" => {
                    format!("{} on Slurm site {}", state.as_str(), site.name)
                }
                _ => accounting.reason.clone(),
            },
            // The elapsed time slurmdbd charged, whatever the clocks say.
            time: start.map_or(end_ms, |s| s.saturating_add(accounting.elapsed_secs.saturating_mul(1000))),
            exit_code: Some(accounting.exit_code),
            exit_signal: Some(accounting.signal),
            max_rss_kib: None,
            total_cpu_ms: Some(accounting.total_cpu_ms),
            nodes: if ran { node_shares(site, &accounting.nodes, accounting.cpus) } else { Vec::new() },
            start,
        };
        // A job Slurm ran may still be PENDING here (it started and ended
        // between two polls): record its start first.
        if job.state == JobState::Pending && ran {
            let alloc = allocation_json(site, &accounting.nodes, accounting.cpus);
            self.store.start_job(job.id, start.unwrap_or(end_ms), &accounting.nodes.join(","), &alloc).await?;
            self.store.end_job(job.id, JobState::Running, &end, None).await?;
        } else {
            self.store.end_job(job.id, job.state, &end, None).await?;
        }
        Ok(())
    }

    /// Sends the site's eligible pending jobs to Slurm.
    async fn forward(&self, site: &SiteRecord, client: &SlurmSite, pending: &[JobRecord]) -> Result<(), Failure> {
        let queue: Vec<&JobRecord> =
            pending.iter().filter(|j| j.site_id == site.id && j.forwarding_at.is_none() && !j.held).collect();
        if queue.is_empty() {
            return Ok(());
        }
        let (ready, waiting) = self.eligible(&queue, &[], now_ms()).await?;
        let reasons: Vec<(JobId, &str)> = waiting.iter().map(|(id, r)| (*id, r.as_str())).collect();
        self.store.set_pending_reasons(&reasons).await?;
        let instance = self.instance_id().await?;
        for job in ready {
            let job = self.store.job(job.id).await?;
            let Some(account) = job.unix_account.clone() else {
                let detail =
                    format!("user {} has no Unix account to run as on Slurm site {}", job.user_name, site.name);
                self.fail_job(job.id, JobState::Pending, detail).await?;
                continue;
            };
            // Slurm enforces associations (AccountingStorageEnforce):
            // the job's project account and its user's place in it first.
            self.ensure_association(site, client, &job.project_name, &account).await?;
            if !self.store.mark_forwarding(job.id, now_ms()).await? {
                continue;
            }
            let mut spec = submit_spec(&job, &instance);
            if !site.cluster.is_empty() {
                spec.account.clone_from(&job.project_name);
            }
            match client.submit(&account, &spec).await {
                Ok(remote_id) => {
                    tracing::info!(job = job.id.0, slurm_job = remote_id, site = site.name, "forwarded to Slurm");
                    // Ended while it was on its way: cancel it there too.
                    if !self.store.set_remote_id(job.id, remote_id as i64, PendingReason::None.as_str()).await?
                        && let Err(err) = client.cancel(&account, remote_id, None).await
                    {
                        tracing::warn!(job = job.id.0, "cannot cancel on Slurm a job cancelled here: {err}");
                    }
                }
                Err(err) if err.is_outage() => {
                    self.store.unmark_forwarding(job.id, PendingReason::SiteUnavailable.as_str()).await?;
                    return Err(Failure::Site(err));
                }
                Err(err) => {
                    self.store.unmark_forwarding(job.id, PendingReason::None.as_str()).await?;
                    self.forget_associations(site).await;
                    let detail = format!("Slurm site {} refused the job: {err}", site.name);
                    self.fail_job(job.id, JobState::Pending, detail).await?;
                }
            }
        }
        Ok(())
    }

    /// A forwarded job's site client, its user's Unix account and Slurm's id.
    async fn remote_of(&self, job: &JobRecord) -> Result<(SlurmSite, String, u64), String> {
        let remote_id = job.remote_id.ok_or("the job is being sent to its site right now; try again in a moment")?;
        let sites = self.store.list_sites().await.map_err(|e| e.to_string())?;
        let site = sites.iter().find(|s| s.id == job.site_id).ok_or("the job's site is gone")?;
        let client = self.slurm_client(site).await.map_err(|e| e.to_string())?;
        let account = job.unix_account.clone().ok_or("the job's user has no Unix account")?;
        Ok((client, account, remote_id as u64))
    }

    /// Cancels (or signals) a forwarded job on its site, as its user.
    pub async fn cancel_remote(&self, job: &JobRecord, signal: Option<&str>) -> Result<(), String> {
        let (client, account, remote_id) = self.remote_of(job).await?;
        client.cancel(&account, remote_id, signal).await.map_err(|e| e.to_string())?;
        self.wake();
        Ok(())
    }

    /// Holds or releases a forwarded pending job on its site, as its user;
    /// Slurm's reason (`JobHeldUser`) shows at once and is then followed.
    pub async fn hold_remote(&self, job: &JobRecord, held: bool) -> Result<(), String> {
        let (client, account, remote_id) = self.remote_of(job).await?;
        client.set_held(&account, remote_id, held).await.map_err(|e| e.to_string())?;
        let reason = if held { PendingReason::JobHeldUser } else { PendingReason::Priority };
        self.store.set_pending_reasons(&[(job.id, reason.as_str())]).await.map_err(|e| e.to_string())?;
        self.wake();
        Ok(())
    }

    /// This installation's id, in forwarded jobs' comments: two Lushans
    /// (or two test servers) in front of one cluster never mistake each
    /// other's jobs for their own.
    async fn instance_id(&self) -> Result<String, StoreError> {
        if let Some(id) = self.instance.get() {
            return Ok(id.clone());
        }
        let mut bytes = [0u8; 8];
        rand::fill(&mut bytes);
        let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let id = self.store.ensure_meta("instance_id", &fresh).await?;
        Ok(self.instance.get_or_init(|| id).clone())
    }
}

pub(super) enum Failure {
    Store(StoreError),
    Site(SlurmError),
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Failure {
        Failure::Store(err)
    }
}

impl From<SlurmError> for Failure {
    fn from(err: SlurmError) -> Failure {
        Failure::Site(err)
    }
}

fn job_comment(instance: &str, job: JobId) -> String {
    format!("lushan:{instance}:{}", job.0)
}

/// What Slurm is asked to run for a job: its resolved request, its output
/// paths expanded with Lushan's job id (so `lushan logs` finds them), its
/// `--export` environment.
fn submit_spec(job: &JobRecord, instance: &str) -> SubmitSpec {
    let env: std::collections::BTreeMap<String, String> = serde_json::from_str(&job.env_json).unwrap_or_default();
    let mut env: Vec<(String, Value)> =
        env.into_iter().filter(|(k, _)| lushan_model::reaches_job(k)).map(|(k, v)| (k, Value::String(v))).collect();
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), Value::String("/usr/local/bin:/usr/bin:/bin".into())));
    }
    env.push(("LUSHAN_JOB_ID".into(), Value::String(job.id.to_string())));
    // %N stays for Slurm to fill in.
    let expand = |pattern: &str| output_path(job, pattern, "%N").to_string_lossy().into_owned();
    SubmitSpec {
        name: job.name.clone(),
        comment: job_comment(instance, job.id),
        partition: job.partition_name.clone(),
        account: String::new(),
        nodes: job.nodes,
        ntasks: job.ntasks,
        cpus_per_task: job.cpus_per_task,
        memory_per_node_mb: job.mem_per_node_mb,
        gpus_per_node: job.gpus_per_node,
        exclusive: job.exclusive,
        constraint: job.constraint_expr.clone(),
        time_limit_mins: (job.time_limit_secs + 59) / 60,
        script: job.script.clone(),
        args: serde_json::from_str(&job.args_json).unwrap_or_default(),
        env,
        workdir: job.workdir.clone(),
        stdout: expand(&job.stdout_path),
        stderr: expand(&job.stderr_path),
        stdin: expand(&job.stdin_path),
        append: job.open_mode == "append",
    }
}

/// A Slurm job's nodes in the shape local allocations are stored in: CPUs
/// are counted (Slurm does not say which cores), spread evenly.
fn allocation_json(site: &SiteRecord, nodes: &[String], cpus: i64) -> String {
    let per_node = u32::try_from(cpus / (nodes.len().max(1) as i64)).unwrap_or(0);
    json!({"nodes": nodes.iter().filter_map(|name| {
        let node = site.nodes.iter().find(|n| &n.name == name)?;
        Some(json!({"node": node.id.0, "name": name, "cpus": (0..per_node).collect::<Vec<u32>>(), "gpus": [], "memory_mb": 0}))
    }).collect::<Vec<_>>()})
    .to_string()
}

/// Who owns the nodes a Slurm job ran on, with the CPUs it was charged
/// for spread over them.
fn node_shares(site: &SiteRecord, nodes: &[String], cpus: i64) -> Vec<lushan_ledger::NodeShare> {
    let known: Vec<&lushan_store::NodeRecord> =
        nodes.iter().filter_map(|name| site.nodes.iter().find(|n| &n.name == name)).collect();
    if known.is_empty() {
        return Vec::new();
    }
    let count = known.len() as i64;
    known
        .iter()
        .enumerate()
        .map(|(i, node)| lushan_ledger::NodeShare {
            owner: node.owner_tenant_id,
            // The remainder goes to the first nodes: the total is exact.
            cores: cpus / count + i64::from((i as i64) < cpus % count),
        })
        .collect()
}

/// slurmdbd's record of a job that ended, with its end. A record without
/// one (End=Unknown: slurmdbd was down when the job ended, and slurmctld
/// resends what it queued on its own clock, minutes later) would count
/// its elapsed time up to now and has no exit code yet; slurmctld, which
/// still lists the job, has the end slurmdbd will record (elapsed = end -
/// start, as slurmdbd's will be) and, over REST, the exit code. Over the
/// commands squeue shows no exit code: such a record is waited for.
fn with_end(accounting: &JobAccounting, remote: &RemoteJob) -> Option<JobAccounting> {
    if accounting.end_secs > 0 {
        return Some(accounting.clone());
    }
    remote.exit?;
    let end = remote.end_secs.filter(|&end| end > 0)?;
    let start = if accounting.start_secs > 0 { accounting.start_secs } else { remote.start_secs.unwrap_or(end) };
    Some(JobAccounting { start_secs: start, end_secs: end, elapsed_secs: (end - start).max(0), ..accounting.clone() })
}
