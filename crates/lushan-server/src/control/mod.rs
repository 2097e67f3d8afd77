//! The control loop: the one place that turns time passing into state
//! changes for jobs. Each pass (every half second, or at once when woken by
//! a submit, release or cancel):
//!
//! 1. **observe**: asks the backend what became of each running job and
//!    records the ends (guarded updates: an end is recorded once);
//! 2. **schedule**: builds a `lushan_scheduler::Snapshot` of the local site
//!    (nodes, what running jobs hold, the queue in submission order), calls
//!    the pure scheduler, stores the pending reasons;
//! 3. **preempt**: marks each guest job the scheduler preempts for an
//!    owner's job (store first), then asks its supervisor to end it (SIGTERM
//!    now, SIGKILL after the partition's grace time). Its end is observed
//!    like any other, as PREEMPTED, and settled for what it ran; where its
//!    partition requeues and the job allows it, it goes back to the queue
//!    with a new hold for its next run;
//! 4. **launch**: records each start in the store first, then starts the
//!    job's supervisor. A start recorded but never launched (the server died
//!    in between) is found by the next pass (`NotLaunched`) and requeued.

mod slurm;
mod slurm_accounts;

pub use slurm::{inventory_record, open_site, site_endpoint};
pub use slurm_accounts::{SyncMode, SyncOutcome};

use crate::clock::now_ms;
use lushan_backend::{JobProgress, LaunchSpec, LocalBackend, RunAs};
use lushan_model::{DependencyCondition, JobId, JobRef, JobState, PendingReason};
use lushan_sbatch::{PatternContext, expand_pattern};
use lushan_scheduler::dependency::{DependencyStatus, RefState, evaluate};
use lushan_scheduler::fairshare;
use lushan_scheduler::{
    Constraint, Node, PartitionPolicy, PendingJob, Policy, PreemptMode, Preemption, RunningJob, Snapshot, Usage,
};
use lushan_store::{JobEnd, JobFilter, JobRecord, SiteRecord, Store, StoreError};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often the loop looks even when nobody wakes it.
const PASS_INTERVAL: Duration = Duration::from_millis(500);
/// How long a pass woken by a submission waits for more submissions.
const SUBMIT_GATHER: Duration = Duration::from_millis(10);
/// How often ended jobs' usage is re-read for fair-share.
const USAGE_REFRESH_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

pub struct Control {
    store: Store,
    backend: LocalBackend,
    wake: Arc<Notify>,
    /// Set when a job ended: its resources wait for the next pass, which
    /// then runs at once rather than after the submission gap.
    urgent: Arc<std::sync::atomic::AtomicBool>,
    settings: ControlSettings,
    /// Holds `srun` for jobs; put first on their PATH.
    bin_dir: PathBuf,
    /// Ended jobs' decayed usage, when it was read, and the jobs running
    /// at the last pass (sorted ids).
    ended_usage: std::sync::Mutex<(i64, Vec<Usage>, Vec<i64>)>,
    /// Slurm sites' clients and what the loop remembers of them.
    slurm: tokio::sync::Mutex<slurm::SlurmState>,
    /// This installation's id (see `slurm::instance_id`).
    instance: std::sync::OnceLock<String>,
    /// The pending jobs as the last pass left them, kept while nothing but
    /// the loop itself changed them (`Store::pending_writes`).
    queue: std::sync::Mutex<Option<Queue>>,
    /// When job folders were last swept (`sweep_job_folders`), epoch ms.
    swept_at: std::sync::atomic::AtomicI64,
    progress: Progress,
}

/// The pending jobs between passes: reloading them costs a few ms a pass
/// with a thousand queued, and a pass runs for every job that ends.
struct Queue {
    /// `Store::pending_writes` when the queue is still what the store holds.
    expected: u64,
    loaded: std::time::Instant,
    pending: Vec<JobRecord>,
}

/// A reload at least this often, whatever the count says.
const QUEUE_RELOAD: Duration = Duration::from_secs(10);
/// How often ended jobs' folders are looked for (and at the first pass).
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// How long the loop may go without completing a pass before `/healthz`
/// reports it stalled: a pass takes milliseconds and runs every half
/// second, so this is many failed or hung passes in a row.
pub const STALL_AFTER_MS: i64 = 30_000;

/// Whether the loop is making progress, for `/healthz`: a loop whose passes
/// all fail (the store refuses writes) or hang starts and ends no job while
/// the HTTP side still answers.
#[derive(Debug)]
pub struct Progress {
    /// Epoch ms when the last pass completed (or the loop was made).
    last_pass_ms: std::sync::atomic::AtomicI64,
    /// Why the passes since then failed, if they did.
    last_error: std::sync::Mutex<Option<String>>,
}

impl Progress {
    fn new(now: i64) -> Progress {
        Progress { last_pass_ms: std::sync::atomic::AtomicI64::new(now), last_error: std::sync::Mutex::new(None) }
    }

    fn passed(&self, now: i64) {
        self.last_pass_ms.store(now, std::sync::atomic::Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn failed(&self, error: String) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }

    /// Milliseconds since the last completed pass, at `now`.
    pub fn age_ms(&self, now: i64) -> i64 {
        now.saturating_sub(self.last_pass_ms.load(std::sync::atomic::Ordering::Relaxed)).max(0)
    }

    /// What is wrong at `now`, if the loop has completed no pass for
    /// [`STALL_AFTER_MS`].
    pub fn stalled(&self, now: i64) -> Option<String> {
        let age = self.age_ms(now);
        if age < STALL_AFTER_MS {
            return None;
        }
        let cause = match self.last_error.lock().unwrap_or_else(|e| e.into_inner()).as_deref() {
            Some(error) => format!("its passes fail: {error}"),
            None => "its current pass has not returned".to_owned(),
        };
        Some(format!(
            "the job control loop has completed no pass for {} s ({cause}); jobs are neither started nor \
             recorded as ended until it does",
            age / 1000
        ))
    }
}

/// How jobs are run.
#[derive(Clone, Debug)]
pub struct ControlSettings {
    /// Slurm's KillWait.
    pub kill_wait_secs: u64,
    /// How long an ended job's folder is kept, in ms.
    pub keep_job_folders_ms: i64,
    /// Run jobs as the server's user, not the submitter's Unix account.
    pub run_jobs_as_server_user: bool,
    /// The delegated cgroup v2 subtree, when there is one.
    pub cgroup_root: Option<PathBuf>,
    /// How the local site orders its queue and backfills.
    pub policy: Policy,
    /// Fair-share usage half-life (Slurm's PriorityDecayHalfLife), in ms.
    pub half_life_ms: i64,
}

impl Control {
    /// `exe` is the `lushan` binary (run as `lushan exec-job DIR` to
    /// supervise each job); job directories go under `jobs_dir`.
    pub fn new(store: Store, jobs_dir: PathBuf, exe: PathBuf, settings: ControlSettings) -> Control {
        let bin_dir = jobs_dir.join("bin");
        let wake = Arc::new(Notify::new());
        // A job that ends wakes the loop at once: its resources go to the next job.
        let urgent = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let on_exit: lushan_backend::local::OnExit = {
            let (wake, urgent) = (wake.clone(), urgent.clone());
            Arc::new(move || {
                urgent.store(true, std::sync::atomic::Ordering::Relaxed);
                wake.notify_one();
            })
        };
        Control {
            store,
            backend: LocalBackend::new(jobs_dir, exe, on_exit),
            wake,
            urgent,
            settings,
            bin_dir,
            ended_usage: std::sync::Mutex::new((i64::MIN / 2, Vec::new(), Vec::new())),
            slurm: tokio::sync::Mutex::new(slurm::SlurmState::default()),
            instance: std::sync::OnceLock::new(),
            queue: std::sync::Mutex::new(None),
            swept_at: std::sync::atomic::AtomicI64::new(i64::MIN),
            // The first pass gets the same grace as any other.
            progress: Progress::new(now_ms()),
        }
    }

    /// Makes `bin/srun` (a link to the `lushan` binary) that jobs find first
    /// on their PATH, in the folder of all jobs, which it makes (or closes)
    /// first: jobs' users may pass through it, not list or read it.
    pub fn install_job_tools(&self, exe: &std::path::Path) -> std::io::Result<()> {
        self.backend.secure_job_dirs()?;
        std::fs::create_dir_all(&self.bin_dir)?;
        std::fs::set_permissions(&self.bin_dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let link = self.bin_dir.join("srun");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(exe, &link)
    }

    /// Runs a pass soon.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Asks a running job's supervisor to end it.
    pub fn cancel(&self, job: JobId) -> Result<(), lushan_backend::BackendError> {
        self.backend.cancel(job.0)?;
        self.wake();
        Ok(())
    }

    /// What a pass would see now, for answers outside a pass (`squeue
    /// --start`, `sprio`, quotes).
    async fn outlook(&self) -> Result<Outlook, StoreError> {
        let filter = |state| JobFilter::all().states(vec![state]);
        let running = self.store.list_jobs(&filter(JobState::Running)).await?;
        let pending = self.store.list_jobs(&filter(JobState::Pending)).await?;
        let now = now_ms();
        let usage = self.usage(&running, now).await?;
        let rules = self.rules().await?;
        Ok(Outlook { running, pending, usage, rules, now })
    }

    /// Estimated start times of pending local jobs (`squeue --start`): the
    /// site's policy with a reservation for every job, as if every running
    /// job ran to its time limit; `None`: no estimate (held, over a limit,
    /// or waiting for a dependency, a begin time or for ever).
    pub async fn estimate_starts(&self) -> Result<std::collections::HashMap<JobId, Option<i64>>, StoreError> {
        let sites = self.store.list_sites().await?;
        let outlook = self.outlook().await?;
        let mut out = std::collections::HashMap::new();
        for site in sites.iter().filter(|s| s.backend == "local") {
            // Jobs waiting on a dependency or a begin time get no estimate here.
            let snapshot = outlook.snapshot(site, |j| outlook.eligible(j));
            let estimates: std::collections::HashMap<i64, i64> =
                lushan_scheduler::estimate_starts(&self.settings.policy, &snapshot).into_iter().collect();
            for job in &snapshot.pending {
                out.insert(JobId(job.id), estimates.get(&job.id).copied());
            }
        }
        Ok(out)
    }

    /// Each pending local job's multifactor priority in parts (`sprio`),
    /// from the snapshot a pass would take now; `None` when the local site
    /// does not order by multifactor.
    pub async fn priorities(
        &self,
    ) -> Result<Option<std::collections::HashMap<JobId, lushan_scheduler::priority::Weighted>>, StoreError> {
        if !matches!(self.settings.policy.order, lushan_scheduler::priority::Order::Multifactor(_)) {
            return Ok(None);
        }
        let sites = self.store.list_sites().await?;
        let outlook = self.outlook().await?;
        let mut out = std::collections::HashMap::new();
        for site in sites.iter().filter(|s| s.backend == "local") {
            let snapshot = outlook.snapshot(site, |_| true);
            for (id, parts) in lushan_scheduler::priorities(&self.settings.policy, &snapshot).unwrap_or_default() {
                out.insert(JobId(id), parts);
            }
        }
        Ok(Some(out))
    }

    /// When a job not yet submitted (`probe`) could start on `site`, in
    /// epoch ms: on a local site the scheduler's own plan (conservative
    /// backfill, behind the jobs queued there); on a Slurm site what Slurm
    /// reports of its nodes and jobs (`lushan_backend::slurm::estimate_start`).
    /// `None` when there is no estimate (the site does not answer, or the
    /// job would wait on something no one can date).
    pub async fn estimate_start(&self, site: &SiteRecord, probe: &lushan_scheduler::PendingJob) -> Option<i64> {
        if site.backend == "slurm" {
            let now = now_ms();
            let client = self.slurm_client(site).await.ok()?;
            let inventory = client.inventory().await.ok()?;
            let jobs = client.jobs_since(0).await.ok()??;
            let partition = site.partitions.iter().find(|p| p.id.0 == probe.partition)?;
            let start = lushan_backend::slurm::estimate_start(
                &inventory,
                &jobs,
                &partition.name,
                i64::from(probe.nodes),
                i64::from(probe.cpus_per_node),
                now / 1000,
            )?;
            return Some(start.saturating_mul(1000).max(now));
        }
        let outlook = self.outlook().await.ok()?;
        let mut snapshot = outlook.snapshot(site, |j| outlook.eligible(j));
        let mut probe = probe.clone();
        probe.id = -1;
        probe.submit = outlook.now;
        snapshot.pending.push(probe);
        lushan_scheduler::estimate_starts(&self.settings.policy, &snapshot)
            .into_iter()
            .find(|(id, _)| *id == -1)
            .map(|(_, start)| start)
    }

    /// Fair-share input: every (tenant, project, user)'s core time, decayed
    /// by the half-life; ended jobs from the store (re-read once a minute),
    /// running jobs up to now.
    async fn usage(&self, running: &[JobRecord], now: i64) -> Result<Vec<Usage>, StoreError> {
        if !matches!(self.settings.policy.order, lushan_scheduler::priority::Order::Multifactor(_)) {
            return Ok(Vec::new());
        }
        let half_life = self.settings.half_life_ms;
        // Re-read when a job ended since the last read too: its usage moves
        // from the running jobs to the store's.
        let mut running_ids: Vec<i64> = running.iter().map(|j| j.id.0).collect();
        running_ids.sort_unstable();
        let stale = self
            .ended_usage
            .lock()
            .map(|u| now - u.0 >= USAGE_REFRESH_MS || u.2.iter().any(|id| running_ids.binary_search(id).is_err()))
            .unwrap_or(true);
        if stale {
            // Older usage weighs less than 1/16 of new: leave it out.
            let rows = self.store.usage_by_hour(now.saturating_sub(half_life.saturating_mul(4))).await?;
            let fresh: Vec<Usage> = rows
                .iter()
                .map(|r| Usage {
                    tenant: r.tenant_id.0,
                    project: r.project_id.0,
                    user: r.user_id.0,
                    // Each hour's usage as of the middle of that hour.
                    usage: fairshare::decay(
                        r.core_ms as f64 / 1000.0,
                        now - (r.hour * HOUR_MS + HOUR_MS / 2),
                        half_life,
                    ),
                })
                .collect();
            if let Ok(mut cached) = self.ended_usage.lock() {
                *cached = (now, fresh, Vec::new());
            }
        }
        let mut usage = match self.ended_usage.lock() {
            Ok(mut cached) => {
                cached.2.clone_from(&running_ids);
                cached.1.clone()
            }
            Err(_) => Vec::new(),
        };
        for job in running {
            let cores = job.nodes.saturating_mul(job.cpus_per_node);
            let elapsed = now.saturating_sub(job.start_time.unwrap_or(now)).max(0);
            usage.push(Usage {
                tenant: job.tenant_id.0,
                project: job.project_id.0,
                user: job.user_id.0,
                usage: (cores as f64) * (elapsed as f64) / 1000.0,
            });
        }
        Ok(usage)
    }

    /// Asks a running job's supervisor to send it a signal.
    pub fn signal(&self, job: JobId, signal: i32) -> Result<(), lushan_backend::BackendError> {
        self.backend.signal(job.0, signal)
    }

    /// Whether the loop is making progress (for `/healthz`).
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Runs passes forever. A failed pass (the store refused a write, say)
    /// is logged and the next one starts afresh: nothing it did half-way
    /// is kept but what the store committed.
    pub async fn run(self: Arc<Self>) {
        loop {
            match self.pass().await {
                Ok(()) => self.progress.passed(now_ms()),
                Err(err) => {
                    tracing::warn!("control pass failed (will retry): {err}");
                    self.progress.failed(err.to_string());
                }
            }
            if let Err(err) = self.sweep_job_folders(crate::clock::now_ms()).await {
                tracing::warn!("removing old job folders failed (will retry): {err}");
            }
            tokio::select! {
                () = tokio::time::sleep(PASS_INTERVAL) => {}
                () = self.wake.notified() => {
                    // Submissions come in bursts: gather them into one pass,
                    // unless a job ended and its resources are waiting.
                    if !self.urgent.swap(false, std::sync::atomic::Ordering::Relaxed) {
                        tokio::time::sleep(SUBMIT_GATHER).await;
                    }
                }
            }
        }
    }

    /// Removes the folders of jobs that ended more than
    /// `keep_job_folders_ms` ago: at the first pass, then every
    /// [`SWEEP_INTERVAL`]. A folder whose job the store does not know, or
    /// that has not ended, is left alone.
    async fn sweep_job_folders(&self, now: i64) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let last = self.swept_at.load(Ordering::Relaxed);
        if now.saturating_sub(last) < SWEEP_INTERVAL.as_millis() as i64 {
            return Ok(());
        }
        self.swept_at.store(now, Ordering::Relaxed);
        let jobs_dir = self.backend.jobs_dir().to_owned();
        let on_disk = tokio::task::spawn_blocking(move || lushan_backend::local::job_folders(&jobs_dir))
            .await
            .map_err(|e| StoreError::Corrupt(format!("listing job folders: {e}")))?;
        let cutoff = now.saturating_sub(self.settings.keep_job_folders_ms);
        let mut old = Vec::new();
        for ids in on_disk.chunks(500) {
            let jobs = self.store.list_jobs(&JobFilter::all().ids(ids.iter().map(|id| JobId(*id)).collect())).await?;
            old.extend(
                jobs.iter()
                    .filter(|j| !matches!(j.state, JobState::Pending | JobState::Running))
                    .filter(|j| j.end_time.is_some_and(|end| end <= cutoff))
                    // Whatever the store says, a job supervised here keeps its folder.
                    .filter(|j| !self.backend.is_live(j.id.0))
                    .map(|j| j.id.0),
            );
        }
        if old.is_empty() {
            return Ok(());
        }
        let jobs_dir = self.backend.jobs_dir().to_owned();
        let removed = tokio::task::spawn_blocking(move || {
            old.into_iter().filter(|id| std::fs::remove_dir_all(jobs_dir.join(id.to_string())).is_ok()).count()
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("removing job folders: {e}")))?;
        tracing::info!("removed {removed} folder(s) of jobs ended before the keep time");
        Ok(())
    }

    /// One observe-schedule-launch pass.
    pub async fn pass(&self) -> Result<(), StoreError> {
        let sites = self.store.list_sites().await?;
        let local: Vec<&SiteRecord> = sites.iter().filter(|s| s.backend == "local").collect();
        let running = self.store.list_jobs(&JobFilter::all().states(vec![JobState::Running])).await?;
        let mut still_running = Vec::new();
        let mut on_slurm = Vec::new();
        for job in running {
            if !local.iter().any(|s| s.id == job.site_id) {
                on_slurm.push(job);
                continue;
            }
            if self.observe(&job, &sites).await? {
                still_running.push(job);
            }
        }
        let pending = self.pending_jobs().await?;
        let usage = self.usage(&still_running, now_ms()).await?;
        for site in local {
            self.schedule_site(site, &still_running, &pending, &usage).await?;
        }
        for site in sites.iter().filter(|s| s.backend == "slurm") {
            self.slurm_pass(site, &pending, &on_slurm).await?;
        }
        Ok(())
    }

    /// The pending jobs, in submission order: the last pass's, with its own
    /// starts and reasons applied, unless anything else changed them since.
    async fn pending_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        let writes = self.store.pending_writes();
        if let Some(queue) = self.queue.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && queue.expected == writes
            && queue.loaded.elapsed() < QUEUE_RELOAD
        {
            return Ok(queue.pending.clone());
        }
        let pending = self.store.list_jobs(&JobFilter::all().states(vec![JobState::Pending])).await?;
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Queue { expected: writes, loaded: std::time::Instant::now(), pending: pending.clone() });
        Ok(pending)
    }

    /// Applies one of the loop's own changes to the kept queue: it counted
    /// one in `Store::pending_writes`.
    fn queue_changed(&self, change: impl FnOnce(&mut Vec<JobRecord>)) {
        if let Some(queue) = self.queue.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            change(&mut queue.pending);
            queue.expected += 1;
        }
    }

    /// Records what became of a running job; true if it still runs.
    async fn observe(&self, job: &JobRecord, sites: &[SiteRecord]) -> Result<bool, StoreError> {
        let end = match self.backend.poll(job.id.0) {
            JobProgress::Running => return Ok(true),
            JobProgress::NotLaunched => {
                tracing::info!(job = job.id.0, "start recorded but never launched; requeued");
                self.store.requeue_job(job.id).await?;
                return Ok(false);
            }
            JobProgress::Ended(outcome) => JobEnd {
                state: outcome.state,
                reason: outcome.detail,
                time: outcome.end_ms,
                exit_code: Some(outcome.exit_code),
                exit_signal: Some(outcome.signal),
                max_rss_kib: Some(outcome.max_rss_kib),
                total_cpu_ms: Some(outcome.total_cpu_ms),
                nodes: node_shares(job, sites),
                start: None,
            },
            JobProgress::Lost { detail, last_alive_ms } => JobEnd {
                state: JobState::NodeFail,
                reason: detail,
                // Charged up to when it was last known to run, not to when
                // this pass (perhaps after a long outage) noticed it gone.
                time: last_alive_ms.unwrap_or_else(now_ms).min(now_ms()).max(job.start_time.unwrap_or(i64::MIN)),
                exit_code: None,
                exit_signal: None,
                max_rss_kib: None,
                total_cpu_ms: None,
                nodes: node_shares(job, sites),
                start: None,
            },
        };
        let mut end = end;
        if end.state == JobState::Preempted
            && let Some(by) = job.preempted_by
        {
            end.reason = format!("preempted for job {by}, of the owner of a node it ran on");
        }
        let preempted = end.state == JobState::Preempted;
        if !self.store.end_job(job.id, JobState::Running, &end, None).await? || !preempted {
            return Ok(false);
        }
        let requeues = sites
            .iter()
            .find(|s| s.id == job.site_id)
            .and_then(|s| s.partitions.iter().find(|p| p.id == job.partition_id))
            .is_some_and(|p| PreemptMode::parse(&p.preempt_mode) == Some(PreemptMode::Requeue));
        if requeues && job.requeue {
            let requeued = self.store.requeue_preempted(job.id, now_ms()).await?;
            tracing::info!(job = job.id.0, requeued, "preempted guest ended");
        }
        Ok(false)
    }

    /// Ends the guests the scheduler preempts: recorded first (so the next
    /// pass sees them going), then their supervisors are told.
    async fn preempt(&self, preemptions: &[Preemption]) -> Result<(), StoreError> {
        for p in preemptions {
            let now = now_ms();
            if !self.store.preempt_job(JobId(p.job), JobId(p.by), now, now.saturating_add(p.grace)).await? {
                continue;
            }
            let grace_secs = u64::try_from(p.grace).unwrap_or(0).div_ceil(1000);
            tracing::info!(job = p.job, by = p.by, grace_secs, mode = p.mode.as_str(), "preempting a guest job");
            if let Err(err) = self.backend.preempt(p.job, grace_secs) {
                tracing::warn!(job = p.job, "cannot ask the job to end for its preemption: {err}");
            }
        }
        Ok(())
    }

    /// What operators (and PIs, on their members) set that the scheduler
    /// weighs: limits on running jobs, CPUs and GPUs (`max_submitted` is checked at submission) and
    /// QOS priorities. Read each pass, so a change applies at the next.
    async fn rules(&self) -> Result<Rules, StoreError> {
        let clamp = |v: Option<i64>| v.map(|v| u64::try_from(v).unwrap_or(0));
        let limits = self
            .store
            .list_limits()
            .await?
            .into_iter()
            .map(|l| lushan_scheduler::Limit {
                scope: match l.scope {
                    lushan_store::LimitScope::Project(id) => lushan_scheduler::LimitScope::Project(id),
                    lushan_store::LimitScope::User(id) => lushan_scheduler::LimitScope::User(id),
                    lushan_store::LimitScope::Member { project, user } => {
                        lushan_scheduler::LimitScope::Member { project, user }
                    }
                },
                max_running_jobs: clamp(l.values.max_running_jobs),
                max_cpus: clamp(l.values.max_cpus),
                max_gpus: clamp(l.values.max_gpus),
            })
            .filter(|l| l.max_running_jobs.is_some() || l.max_cpus.is_some() || l.max_gpus.is_some())
            .collect();
        let qos = self
            .store
            .list_qos()
            .await?
            .into_iter()
            .map(|q| (q.name, u32::try_from(q.priority).unwrap_or(0)))
            .collect();
        Ok(Rules { limits, qos })
    }

    async fn schedule_site(
        &self,
        site: &SiteRecord,
        running: &[JobRecord],
        pending: &[JobRecord],
        usage: &[Usage],
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let site_queue: Vec<&JobRecord> = pending.iter().filter(|j| j.site_id == site.id).collect();
        let (queue, mut waiting) = self.eligible(&site_queue, running, now).await?;
        let rules = self.rules().await?;
        let snapshot = site_snapshot(site, running, &queue, usage.to_vec(), &rules, now);
        let plan = lushan_scheduler::schedule(&self.settings.policy, &snapshot);
        waiting.extend(plan.pending.iter().map(|(id, reason)| (JobId(*id), *reason)));
        // Write only the reasons that changed: most passes change none.
        let current: std::collections::HashMap<JobId, &str> =
            site_queue.iter().filter(|j| !j.held).map(|j| (j.id, j.reason.as_str())).collect();
        let reasons: Vec<(JobId, &str)> = waiting
            .iter()
            .filter(|(id, reason)| current.get(id).is_some_and(|now| *now != reason.as_str()))
            .map(|(id, reason)| (*id, reason.as_str()))
            .collect();
        self.store.set_pending_reasons(&reasons).await?;
        if !reasons.is_empty() {
            let changed: std::collections::HashMap<JobId, &str> = reasons.iter().copied().collect();
            self.queue_changed(|pending| {
                for job in pending.iter_mut() {
                    if let Some(reason) = changed.get(&job.id) {
                        (*reason).clone_into(&mut job.reason);
                    }
                }
            });
        }
        self.preempt(&plan.preemptions).await?;
        for start in plan.starts {
            let Some(job) = queue.iter().find(|j| j.id.0 == start.job) else { continue };
            let node_list = start.allocations.iter().map(|a| a.node_name.clone()).collect::<Vec<_>>().join(",");
            let alloc_json = json!({"nodes": start.allocations.iter().map(|a| json!({
                "node": a.node, "name": a.node_name, "cpus": a.cpus, "gpus": a.gpus, "memory_mb": a.memory_mb,
            })).collect::<Vec<_>>()})
            .to_string();
            let started = self.store.start_job(job.id, now_ms(), &node_list, &alloc_json).await?;
            self.queue_changed(|pending| pending.retain(|j| j.id != job.id));
            if !started {
                continue;
            }
            // The queue was loaded without scripts and environments: fetch them now.
            let job = &self.store.job(job.id).await?;
            let spec = match self.launch_spec(job, &start.allocations, &site.name) {
                Ok(spec) => spec,
                Err(detail) => {
                    self.fail_job(job.id, JobState::Running, detail).await?;
                    continue;
                }
            };
            if let Err(err) = self.backend.launch(&spec) {
                self.fail_job(job.id, JobState::Running, err.to_string()).await?;
            }
        }
        Ok(())
    }

    /// Splits a site's queue into the jobs the scheduler may start now and
    /// the ones that wait for their `--begin` time or their dependencies.
    async fn eligible<'a>(
        &self,
        queue: &[&'a JobRecord],
        running: &[JobRecord],
        now: i64,
    ) -> Result<(Vec<&'a JobRecord>, Vec<(JobId, PendingReason)>), StoreError> {
        // Everything the dependencies name, fetched once.
        let mut parsed = BTreeMap::new();
        let mut ids = Vec::new();
        for job in queue.iter().filter(|j| !j.dependency.is_empty()) {
            if let Ok(dependency) = lushan_sbatch::parse_dependency(&job.dependency) {
                for condition in &dependency.conditions {
                    if let Some(target) = dependency_target(condition) {
                        ids.push(JobId(i64::try_from(target.job_id).unwrap_or(0)));
                    }
                }
                parsed.insert(job.id, dependency);
            }
        }
        let mut known = Vec::new();
        if !ids.is_empty() {
            known.extend(self.store.list_jobs(&JobFilter::all().ids(ids.clone())).await?);
            known.extend(self.store.list_jobs(&JobFilter::all().arrays(ids)).await?);
        }
        let refs = |target: JobRef| -> Vec<RefState> {
            let as_ref = |j: &JobRecord| RefState { state: j.state, start_time: j.start_time, exit_code: j.exit_code };
            let id = i64::try_from(target.job_id).unwrap_or(0);
            let tasks: Vec<&JobRecord> = known.iter().filter(|j| j.array_job_id == Some(JobId(id))).collect();
            match target.task_id {
                Some(task) => tasks
                    .iter()
                    .filter(|j| j.array_task_id == Some(i64::from(task)))
                    .map(|j| as_ref(j))
                    .take(1)
                    .collect(),
                None if !tasks.is_empty() => tasks.iter().map(|j| as_ref(j)).collect(),
                None => known.iter().filter(|j| j.id.0 == id).map(as_ref).take(1).collect(),
            }
        };
        let mut ready = Vec::new();
        let mut waiting = Vec::new();
        let mut singletons_taken: Vec<(lushan_model::UserId, &str)> = Vec::new();
        for job in queue {
            if job.held {
                ready.push(*job);
                continue;
            }
            if job.begin_time.is_some_and(|begin| begin > now) {
                waiting.push((job.id, PendingReason::BeginTime));
                continue;
            }
            if let Some(dependency) = parsed.get(&job.id) {
                let singleton = dependency.conditions.contains(&lushan_model::DependencyCondition::Singleton);
                let clear = !singleton
                    || (!running.iter().any(|r| r.user_id == job.user_id && r.name == job.name)
                        && !singletons_taken.contains(&(job.user_id, job.name.as_str())));
                match evaluate(dependency, &refs, clear, now) {
                    DependencyStatus::Satisfied => {
                        if singleton {
                            singletons_taken.push((job.user_id, job.name.as_str()));
                        }
                    }
                    DependencyStatus::Waiting => {
                        waiting.push((job.id, PendingReason::Dependency));
                        continue;
                    }
                    DependencyStatus::Never => {
                        waiting.push((job.id, PendingReason::DependencyNeverSatisfied));
                        continue;
                    }
                }
            }
            ready.push(*job);
        }
        Ok((ready, waiting))
    }

    /// Ends a job that never ran (its launch failed, or its site refused
    /// it) as FAILED with `detail`: nothing to charge for.
    async fn fail_job(&self, id: JobId, from: JobState, detail: String) -> Result<(), StoreError> {
        tracing::warn!(job = id.0, "job failed before it ran: {detail}");
        let end = JobEnd {
            state: JobState::Failed,
            reason: detail,
            time: now_ms(),
            exit_code: Some(1),
            exit_signal: Some(0),
            max_rss_kib: None,
            total_cpu_ms: None,
            // It never ran: nothing to charge for (its start and end are the same instant).
            nodes: Vec::new(),
            start: None,
        };
        self.store.end_job(id, from, &end, None).await?;
        Ok(())
    }

    /// Whether jobs run as this server's own user (it is not root, or it is
    /// told to), rather than as their users' Unix accounts.
    pub fn jobs_run_as_server_user(&self) -> bool {
        !nix::unistd::geteuid().is_root() || self.settings.run_jobs_as_server_user
    }

    /// Why a user's jobs could not run here, if they could not: checked at
    /// submission so the user hears it at once rather than from a failed job.
    pub fn check_runnable(&self, user: &str, unix_account: Option<&str>) -> Result<(), String> {
        if !nix::unistd::geteuid().is_root() || self.settings.run_jobs_as_server_user {
            return Ok(());
        }
        let account = unix_account.ok_or_else(|| {
            format!(
                "user `{user}` has no Unix account to run jobs as; ask your tenant admin to set one (--unix-account)"
            )
        })?;
        match nix::unistd::User::from_name(account) {
            Ok(Some(found)) if !found.uid.is_root() => Ok(()),
            Ok(Some(_)) => Err("jobs never run as root; map this user to an ordinary Unix account".into()),
            _ => Err(format!(
                "Unix account `{account}` of user `{user}` does not exist on this machine; ask the operator"
            )),
        }
    }

    /// Reads a slice of a job's output as the job's user could, on a
    /// blocking thread: the user database and the file system may both be
    /// slow (NFS, LDAP), and the runtime's threads serve every request.
    pub async fn read_output(
        &self,
        job: &JobRecord,
        stderr: bool,
        offset: u64,
        limit: u64,
    ) -> Result<lushan_backend::local::OutputChunk, String> {
        let node = job.node_list.split(',').next().unwrap_or_default();
        let path = output_path(job, if stderr { &job.stderr_path } else { &job.stdout_path }, node);
        let as_job_user = nix::unistd::geteuid().is_root() && !self.settings.run_jobs_as_server_user;
        let account = job.unix_account.clone();
        let read = move || {
            // The file must be the job's: its user's where jobs run as
            // their users, else this server's own (jobs run as it).
            let reader = if as_job_user {
                let account = account.as_deref().ok_or("the job's user has no Unix account")?;
                let user = nix::unistd::User::from_name(account)
                    .ok()
                    .flatten()
                    .ok_or("the job's Unix account does not exist here")?;
                RunAs { uid: user.uid.as_raw(), gid: user.gid.as_raw() }
            } else {
                RunAs { uid: nix::unistd::geteuid().as_raw(), gid: nix::unistd::getegid().as_raw() }
            };
            lushan_backend::local::read_output(&path, offset, limit, reader).map_err(|err| err.to_string())
        };
        tokio::task::spawn_blocking(read).await.map_err(|err| format!("the output reader failed: {err}"))?
    }

    fn launch_spec(
        &self,
        job: &JobRecord,
        allocations: &[lushan_scheduler::NodeAllocation],
        site: &str,
    ) -> Result<LaunchSpec, String> {
        let first = allocations.first().ok_or("the job has no allocation")?;
        let run_as = if nix::unistd::geteuid().is_root() && !self.settings.run_jobs_as_server_user {
            let account = job.unix_account.as_deref().ok_or_else(|| {
                format!(
                    "user {} has no Unix account, and this server runs as root: jobs never run as root",
                    job.user_name
                )
            })?;
            let user = nix::unistd::User::from_name(account)
                .ok()
                .flatten()
                .ok_or_else(|| format!("Unix account `{account}` does not exist on this machine"))?;
            if user.uid.is_root() {
                return Err("jobs never run as root".into());
            }
            Some(RunAs { uid: user.uid.as_raw(), gid: user.gid.as_raw() })
        } else {
            None
        };
        let mut env: BTreeMap<String, String> = serde_json::from_str(&job.env_json).unwrap_or_default();
        // Jobs stored before submissions were filtered may still hold them.
        env.retain(|name, _| lushan_model::reaches_job(name));
        let submit_dir = serde_json::from_str::<Value>(&job.request_json)
            .ok()
            .and_then(|v| v["submit_dir"].as_str().map(str::to_owned))
            .unwrap_or_else(|| job.workdir.clone());
        let node_list = allocations.iter().map(|a| a.node_name.clone()).collect::<Vec<_>>().join(",");
        let cpus_on_node = first.cpus.len().to_string();
        let slurm = [
            ("SLURM_JOB_ID", job.id.to_string()),
            ("SLURM_JOBID", job.id.to_string()),
            ("SLURM_JOB_NAME", job.name.clone()),
            ("SLURM_JOB_ACCOUNT", job.project_name.clone()),
            ("SLURM_JOB_PARTITION", job.partition_name.clone()),
            ("SLURM_JOB_USER", job.user_name.clone()),
            ("SLURM_CLUSTER_NAME", site.to_owned()),
            ("SLURM_SUBMIT_DIR", submit_dir),
            ("SLURM_SUBMIT_HOST", first.node_name.clone()),
            ("SLURM_JOB_NODELIST", node_list.clone()),
            ("SLURM_NODELIST", node_list),
            ("SLURM_JOB_NUM_NODES", job.nodes.to_string()),
            ("SLURM_NNODES", job.nodes.to_string()),
            ("SLURM_NTASKS", job.ntasks.to_string()),
            ("SLURM_NPROCS", job.ntasks.to_string()),
            ("SLURM_CPUS_PER_TASK", job.cpus_per_task.to_string()),
            ("SLURM_CPUS_ON_NODE", cpus_on_node.clone()),
            ("SLURM_JOB_CPUS_PER_NODE", cpus_on_node),
            ("SLURM_MEM_PER_NODE", first.memory_mb.to_string()),
            ("SLURMD_NODENAME", first.node_name.clone()),
            ("SLURM_NODEID", "0".into()),
            ("SLURM_PROCID", "0".into()),
            ("SLURM_LOCALID", "0".into()),
            ("SLURM_TASKS_PER_NODE", (job.ntasks / job.nodes.max(1)).to_string()),
        ];
        for (key, value) in slurm {
            env.insert(key.into(), value);
        }
        if let (Some(array), Some(task)) = (job.array_job_id, job.array_task_id) {
            let spec = serde_json::from_str::<Value>(&job.request_json)
                .ok()
                .map(|v| v["array"].clone())
                .unwrap_or(Value::Null);
            let field = |name: &str| spec[name].as_u64().map(|n| n.to_string()).unwrap_or_default();
            env.insert("SLURM_ARRAY_JOB_ID".into(), array.to_string());
            env.insert("SLURM_ARRAY_TASK_ID".into(), task.to_string());
            env.insert("SLURM_ARRAY_TASK_COUNT".into(), field("count"));
            env.insert("SLURM_ARRAY_TASK_MIN".into(), field("min"));
            env.insert("SLURM_ARRAY_TASK_MAX".into(), field("max"));
            env.insert("SLURM_ARRAY_TASK_STEP".into(), field("step"));
        }
        if !first.gpus.is_empty() {
            let ids = first.gpus.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            env.insert("SLURM_GPUS".into(), (first.gpus.len() * allocations.len()).to_string());
            env.insert("SLURM_GPUS_ON_NODE".into(), first.gpus.len().to_string());
            env.insert("CUDA_VISIBLE_DEVICES".into(), ids.clone());
            env.insert("SLURM_JOB_GPUS".into(), ids);
        } else {
            // A job without GPUs must not see any.
            env.insert("CUDA_VISIBLE_DEVICES".into(), String::new());
        }
        let path = env.get("PATH").cloned().unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
        env.insert("PATH".into(), format!("{}:{path}", self.bin_dir.display()));
        let args: Vec<String> = serde_json::from_str(&job.args_json).unwrap_or_default();
        let expand = |pattern: &str| output_path(job, pattern, &first.node_name);
        Ok(LaunchSpec {
            job_id: job.id.0,
            script: job.script.clone(),
            args,
            env: env.into_iter().collect(),
            workdir: PathBuf::from(&job.workdir),
            stdout: expand(&job.stdout_path),
            stderr: expand(&job.stderr_path),
            stdin: expand(&job.stdin_path),
            append: job.open_mode == "append",
            time_limit_secs: u64::try_from(job.time_limit_secs).unwrap_or(0),
            kill_wait_secs: self.settings.kill_wait_secs,
            cpus: first.cpus.clone(),
            memory_limit_mb: first.memory_mb,
            run_as,
            cgroup_root: self.settings.cgroup_root.clone(),
        })
    }
}

/// The jobs, usage and rules a pass would see now ([`Control::outlook`]).
struct Outlook {
    running: Vec<JobRecord>,
    pending: Vec<JobRecord>,
    usage: Vec<Usage>,
    rules: Rules,
    now: i64,
}

impl Outlook {
    /// `site` with the pending jobs `queued` keeps.
    fn snapshot(&self, site: &SiteRecord, queued: impl Fn(&JobRecord) -> bool) -> Snapshot {
        let queue: Vec<&JobRecord> = self.pending.iter().filter(|j| j.site_id == site.id && queued(j)).collect();
        site_snapshot(site, &self.running, &queue, self.usage.clone(), &self.rules, self.now)
    }

    /// Not waiting for a dependency or a begin time (which no plan dates).
    fn eligible(&self, job: &JobRecord) -> bool {
        job.dependency.is_empty() && job.begin_time.is_none_or(|b| b <= self.now)
    }
}

/// What operators set that the scheduler weighs ([`Control::rules`]).
struct Rules {
    limits: Vec<lushan_scheduler::Limit>,
    /// Each QOS's priority, by name.
    qos: BTreeMap<String, u32>,
}

/// The scheduler's view of a site: its nodes with what `running` holds,
/// the running jobs' time limits, and `queue` (the jobs it may start now).
fn site_snapshot(
    site: &SiteRecord,
    running: &[JobRecord],
    queue: &[&JobRecord],
    usage: Vec<Usage>,
    rules: &Rules,
    now: i64,
) -> Snapshot {
    let on_site: Vec<&JobRecord> = running.iter().filter(|j| j.site_id == site.id).collect();
    let mut array_running: BTreeMap<i64, u32> = BTreeMap::new();
    for job in &on_site {
        if let Some(array) = job.array_job_id {
            *array_running.entry(array.0).or_insert(0) += 1;
        }
    }
    Snapshot {
        nodes: site_nodes(site, running),
        running: on_site
            .iter()
            .map(|j| RunningJob {
                id: j.id.0,
                partition: j.partition_id.0,
                tenant: j.tenant_id.0,
                start: j.start_time.unwrap_or(now),
                preempting: j.preempted_at.is_some(),
                allocations: parse_allocations(&j.alloc_json),
                exclusive: j.exclusive,
                ends_at: {
                    let limit_end = match j.time_limit_secs {
                        0 => i64::MAX / 4,
                        limit => j.start_time.unwrap_or(now).saturating_add(limit.saturating_mul(1000)),
                    };
                    // A guest being preempted is gone by its deadline.
                    j.preempt_deadline.map_or(limit_end, |deadline| deadline.min(limit_end))
                },
                project: j.project_id.0,
                user: j.user_id.0,
            })
            .collect(),
        pending: queue
            .iter()
            .map(|j| PendingJob {
                // A QOS removed from under a job weighs nothing.
                qos_priority: rules.qos.get(&j.qos).copied().unwrap_or(0),
                ..pending_job(j)
            })
            .collect(),
        array_running: array_running.into_iter().collect(),
        usage,
        limits: rules.limits.clone(),
        max_qos_priority: rules.qos.values().copied().max().unwrap_or(0),
        partitions: site
            .partitions
            .iter()
            .map(|p| PartitionPolicy {
                id: p.id.0,
                preempt_mode: PreemptMode::parse(&p.preempt_mode).unwrap_or(PreemptMode::Off),
                grace: p.grace_secs.saturating_mul(1000),
                priority_job_factor: u32::try_from(p.priority_job_factor).unwrap_or(1),
            })
            .collect(),
        now,
    }
}

/// A site's nodes as the scheduler sees them, with what `running` holds.
fn site_nodes(site: &SiteRecord, running: &[JobRecord]) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for partition in &site.partitions {
        for mut node in crate::service::partition_nodes(site, &partition.name) {
            match nodes.iter_mut().find(|n| n.id == node.id) {
                Some(existing) => existing.partitions.push(partition.id.0),
                None => {
                    node.partitions = vec![partition.id.0];
                    nodes.push(node);
                }
            }
        }
    }
    for job in running.iter().filter(|j| j.site_id == site.id) {
        for allocation in parse_allocations(&job.alloc_json) {
            if let Some(node) = nodes.iter_mut().find(|n| n.id == allocation.node) {
                node.busy_cpus.extend(&allocation.cpus);
                node.busy_gpus.extend(&allocation.gpus);
                node.busy_memory_mb += allocation.memory_mb;
            }
        }
    }
    nodes
}

/// A pending job as the scheduler sees it.
fn pending_job(j: &JobRecord) -> PendingJob {
    PendingJob {
        id: j.id.0,
        partition: j.partition_id.0,
        nodes: u32::try_from(j.nodes).unwrap_or(u32::MAX),
        cpus_per_node: u32::try_from(j.cpus_per_node).unwrap_or(u32::MAX),
        memory_per_node_mb: u64::try_from(j.mem_per_node_mb).unwrap_or(u64::MAX),
        gpus_per_node: u32::try_from(j.gpus_per_node).unwrap_or(u32::MAX),
        exclusive: j.exclusive,
        held: j.held,
        array: j.array_job_id.map(|a| (a.0, j.array_throttle.and_then(|t| u32::try_from(t).ok()))),
        // Age counts from when the job became eligible, as Slurm's.
        submit: j.begin_time.map_or(j.submit_time, |b| b.max(j.submit_time)),
        time_limit: j.time_limit_secs.saturating_mul(1000),
        tenant: j.tenant_id.0,
        project: j.project_id.0,
        user: j.user_id.0,
        // Checked at submission; a constraint that no longer parses matches
        // nothing rather than everything.
        constraint: match j.constraint_expr.as_str() {
            "" => None,
            text => Some(
                Constraint::parse(text).unwrap_or(Constraint { any_of: vec![vec!["(invalid constraint)".into()]] }),
            ),
        },
        qos_priority: 0,
    }
}

/// The job a dependency condition waits on.
fn dependency_target(condition: &DependencyCondition) -> Option<JobRef> {
    match condition {
        DependencyCondition::After { job, .. }
        | DependencyCondition::AfterOk(job)
        | DependencyCondition::AfterNotOk(job)
        | DependencyCondition::AfterAny(job) => Some(*job),
        DependencyCondition::Singleton => None,
    }
}

/// A job's output path pattern (`slurm-%j.out`) for its first node.
pub fn output_path(job: &JobRecord, pattern: &str, node: &str) -> PathBuf {
    let ctx = PatternContext {
        job_id: job.id.0 as u64,
        array_job_id: job.array_job_id.unwrap_or(job.id).0 as u64,
        array_task_id: job.array_task_id.and_then(|t| u32::try_from(t).ok()),
        job_name: &job.name,
        user: &job.user_name,
        node,
    };
    PathBuf::from(expand_pattern(pattern, &ctx))
}

/// The nodes a job held and who owns them, for its charge: cores per node
/// from its allocation, owners from its site.
pub fn node_shares(job: &JobRecord, sites: &[SiteRecord]) -> Vec<lushan_ledger::NodeShare> {
    let Some(site) = sites.iter().find(|s| s.id == job.site_id) else { return Vec::new() };
    parse_allocations(&job.alloc_json)
        .iter()
        .filter_map(|a| {
            let node = site.nodes.iter().find(|n| n.id.0 == a.node)?;
            Some(lushan_ledger::NodeShare { owner: node.owner_tenant_id, cores: a.cpus.len() as i64 })
        })
        .collect()
}

/// What a running job holds, from its `alloc_json`.
pub fn parse_allocations(alloc_json: &str) -> Vec<lushan_scheduler::NodeAllocation> {
    let Ok(value) = serde_json::from_str::<Value>(alloc_json) else { return Vec::new() };
    let ids = |v: &Value| {
        v.as_array().map(|a| a.iter().filter_map(|x| x.as_u64().map(|x| x as u32)).collect()).unwrap_or_default()
    };
    value["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|n| {
                    Some(lushan_scheduler::NodeAllocation {
                        node: n["node"].as_i64()?,
                        node_name: n["name"].as_str()?.to_owned(),
                        cpus: ids(&n["cpus"]),
                        gpus: ids(&n["gpus"]),
                        memory_mb: n["memory_mb"].as_u64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{Progress, STALL_AFTER_MS};

    #[test]
    fn the_loop_is_stalled_only_after_a_long_time_without_a_completed_pass() {
        let progress = Progress::new(1_000);
        assert_eq!(progress.stalled(1_000 + STALL_AFTER_MS - 1), None);
        progress.failed("the database is unavailable: disk full".into());
        let stalled = progress.stalled(1_000 + STALL_AFTER_MS).unwrap_or_default();
        assert!(stalled.contains("completed no pass for 30 s"), "{stalled}");
        assert!(stalled.contains("disk full"), "{stalled}");
        // One completed pass and all is well again, the old error forgotten.
        progress.passed(40_000);
        assert_eq!(progress.stalled(40_000 + STALL_AFTER_MS - 1), None);
        let hung = progress.stalled(40_000 + STALL_AFTER_MS).unwrap_or_default();
        assert!(hung.contains("has not returned"), "{hung}");
    }
}
