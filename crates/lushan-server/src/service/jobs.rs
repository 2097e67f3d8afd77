//! Jobs: submission (parse, check, store before acknowledging), listing,
//! cancelling, holding and releasing.
//!
//! Who sees a job: its user; the PI and managers of its project; its
//! tenant's admins; operators. Who controls it: the same people.

use super::{Caller, ServiceError, Services, audit_by};
use lushan_model::{Export, JobId, JobRef, JobState, ProjectId, Role, Status, TimeLimit};
use lushan_sbatch::{Diagnostic, SubmitInput};
use lushan_scheduler::{Node, PendingJob};
use lushan_store::{JobEnd, JobFilter, JobRecord, JobScope, NewJob, ProjectScope, SiteRecord};
use serde_json::json;
use std::collections::BTreeMap;

/// A job without `--time` gets this limit.
pub const DEFAULT_TIME_LIMIT_SECS: u64 = 3600;
/// `--time=UNLIMITED` is capped here (the partition's maximum).
pub const MAX_TIME_LIMIT_SECS: u64 = 365 * 86_400;
/// Every job's QOS unless it asks for another (migration 0012 makes it).
pub const DEFAULT_QOS: &str = "normal";

/// A submission as the API receives it.
pub struct SubmitJob {
    pub script: Option<String>,
    pub options: Vec<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub submit_dir: String,
    pub idempotency_key: Option<String>,
    /// What pays for it (`--allocation`): `wallet`, or a grant's id; by
    /// default the project's grant that covers the partition, else the wallet.
    pub allocation: Option<String>,
}

/// A job checked and priced, ready to store (or only to show, for
/// `submit --estimate`).
pub struct Prepared {
    pub new: NewJob,
    pub warnings: Vec<String>,
    pub quote: super::billing::Quote,
    /// Every site's answer, when the job was routed or quoted.
    pub options: Vec<super::routing::SiteQuoteRow>,
}

/// What a submission asks of whichever site runs it.
#[derive(Clone, Copy)]
pub(super) struct Ask<'a> {
    pub user: &'a lushan_store::UserRecord,
    pub project: ProjectId,
    pub request: &'a lushan_model::JobRequest,
    /// Its QOS's priority, looked up once for every site.
    pub qos_priority: u32,
    pub allocation: Option<&'a str>,
}

/// A job's place on one site: its resources there and its quote.
pub struct Placement<'s> {
    pub site: &'s SiteRecord,
    pub partition: &'s lushan_store::PartitionRecord,
    pub nodes: u32,
    pub ntasks: u32,
    pub cpus_per_task: u32,
    pub cpus_per_node: u64,
    pub mem_per_node_mb: u64,
    pub gpu_kind: Option<String>,
    pub gpus_per_node: u32,
    pub time_limit_secs: u64,
    pub quote: super::billing::Quote,
    /// The job as the scheduler would see it, for start estimates.
    pub probe: PendingJob,
}

/// Where a job submitted from the portal starts, and the environment it
/// gets: the portal has no shell of the user's to take them from, so they
/// are what a login to the account the job runs as would give.
pub struct LoginEnvironment {
    /// The account's home directory: the default working directory.
    pub home: String,
    pub env: BTreeMap<String, String>,
}

/// The outcome of a submission.
pub struct Submitted {
    pub job: JobRecord,
    pub warnings: Vec<String>,
    pub created: bool,
}

/// Which jobs a listing asks for (before the caller's scope is applied).
/// Every field narrows the listing; [`Services::list_jobs`] passes each one
/// on by name, so a field added here and forgotten there fails to compile.
pub struct JobSelection {
    pub states: Option<Vec<JobState>>,
    pub user: Option<String>,
    pub project: Option<String>,
    /// As Slurm's `-j`: `123` is job 123, or every task of array 123;
    /// `123_4` is that one task.
    pub jobs: Option<Vec<JobRef>>,
    /// Only the tasks of this array.
    pub array: Option<JobId>,
}

fn diagnostics_text(problems: &[Diagnostic]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

fn joined(path: &str, base: &str) -> String {
    if path.starts_with('/') { path.to_owned() } else { format!("{}/{}", base.trim_end_matches('/'), path) }
}

/// A signal by name (`USR1`, `SIGUSR1`) or number.
fn parse_signal(text: &str) -> Result<i32, ServiceError> {
    const NAMES: &[(&str, i32)] = &[
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("KILL", 9),
        ("USR1", 10),
        ("USR2", 12),
        ("ALRM", 14),
        ("TERM", 15),
        ("CONT", 18),
        ("STOP", 19),
    ];
    let upper = text.trim().to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, number)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(*number);
    }
    match name.parse::<i32>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(ServiceError::Invalid(format!(
            "unknown signal `{text}`; use a number from 1 to 64 or one of HUP INT QUIT KILL USR1 USR2 ALRM TERM CONT STOP"
        ))),
    }
}

/// The step of evenly spaced task ids (`0-15:4` gives 4), else 1.
fn array_step(ids: &[u32]) -> u32 {
    match ids {
        [a, b, ..] if ids.windows(2).all(|w| w[1] - w[0] == b - a) => b - a,
        _ => 1,
    }
}

/// `--begin` as epoch milliseconds, in this machine's time zone.
fn resolve_begin(begin: &lushan_model::BeginSpec, now: i64) -> Result<i64, ServiceError> {
    use lushan_model::BeginSpec;
    let bad = |e: jiff::Error| ServiceError::Invalid(format!("invalid --begin: {e}"));
    let tz = jiff::tz::TimeZone::system();
    let now_zoned = jiff::Timestamp::from_millisecond(now).map_err(bad)?.to_zoned(tz.clone());
    let at = match *begin {
        BeginSpec::FromNow { seconds } => return Ok(now + i64::try_from(seconds).unwrap_or(0) * 1000),
        BeginSpec::At { year, month, day, hour, minute, second } => {
            jiff::civil::DateTime::new(year, month, day, hour, minute, second, 0)
                .map_err(bad)?
                .to_zoned(tz)
                .map_err(bad)?
        }
        BeginSpec::NextTimeOfDay { hour, minute, second } => {
            let today = now_zoned.date().at(hour, minute, second, 0).to_zoned(tz).map_err(bad)?;
            if today.timestamp().as_millisecond() > now {
                today
            } else {
                today.checked_add(jiff::Span::new().days(1)).map_err(bad)?
            }
        }
        BeginSpec::DayOffset { days } => {
            let day = now_zoned.date().checked_add(jiff::Span::new().days(i64::from(days))).map_err(bad)?;
            day.at(0, 0, 0, 0).to_zoned(tz).map_err(bad)?
        }
    };
    Ok(at.timestamp().as_millisecond())
}

/// The scheduler's view of a site's nodes in one partition, empty.
pub fn partition_nodes(site: &SiteRecord, partition: &str) -> Vec<Node> {
    let Some(part) = site.partitions.iter().find(|p| p.name == partition) else { return Vec::new() };
    site.nodes
        .iter()
        .filter(|n| part.node_names.contains(&n.name))
        .map(|n| Node {
            id: n.id.0,
            name: n.name.clone(),
            partitions: vec![part.id.0],
            cpus: u32::try_from(n.cpus).unwrap_or(0),
            memory_mb: u64::try_from(n.memory_mb).unwrap_or(0),
            gpus: u32::try_from(n.gpus).unwrap_or(0),
            busy_cpus: vec![],
            busy_memory_mb: 0,
            busy_gpus: vec![],
            features: n.features.clone(),
            owner: n.co_built.then_some(n.owner_tenant_id.0),
        })
        .collect()
}

impl Services {
    /// Parses, checks, prices and stores a job with its hold; answers only
    /// after both are committed.
    pub async fn submit_job(&self, caller: &Caller, input: SubmitJob, now: i64) -> Result<Submitted, ServiceError> {
        let Prepared { new, warnings, .. } = self.prepare_job(caller, input, now, false).await?;
        let mut audit = audit_by(caller, now, "job.submit", "job", "");
        audit.tenant_id = Some(new.tenant_id);
        let (job, created) = self.store.submit_job(&new, &audit).await?;
        if let Some(control) = &self.control {
            control.wake();
        }
        Ok(Submitted { job, warnings, created })
    }

    /// The Unix account the caller's jobs run as here and its home, as a
    /// login would set them (`HOME`, `USER`, `LOGNAME`, `SHELL`, `PATH`,
    /// `LANG`), for a submission that brings no environment of its own.
    pub async fn login_environment(&self, caller: &Caller) -> Result<LoginEnvironment, ServiceError> {
        let as_server = self.control.as_ref().is_none_or(|c| c.jobs_run_as_server_user());
        let user = self.store.user_by_id(caller.user_id()).await?;
        let account = if as_server { None } else { Some(user.unix_account.clone()) };
        let found = tokio::task::spawn_blocking(move || match account {
            None => nix::unistd::User::from_uid(nix::unistd::geteuid())
                .ok()
                .flatten()
                .ok_or_else(|| ServiceError::Internal("this server's own Unix account cannot be looked up".into())),
            Some(None) => Err(ServiceError::Invalid(format!(
                "user `{}` has no Unix account to run jobs as; ask your tenant admin to set one",
                user.name
            ))),
            Some(Some(name)) => nix::unistd::User::from_name(&name).ok().flatten().ok_or_else(|| {
                ServiceError::Invalid(format!("Unix account `{name}` does not exist on this machine; ask the operator"))
            }),
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("looking up the Unix account: {e}")))??;
        let home = found.dir.display().to_string();
        let shell = found.shell.display().to_string();
        let env = [
            ("HOME", home.clone()),
            ("USER", found.name.clone()),
            ("LOGNAME", found.name),
            ("SHELL", if shell.is_empty() { "/bin/sh".into() } else { shell }),
            ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
            ("LANG", "C.UTF-8".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Ok(LoginEnvironment { home, env })
    }

    /// What a job would cost at worst and who would pay, without submitting it.
    pub async fn estimate_job(
        &self,
        caller: &Caller,
        input: SubmitJob,
        now: i64,
    ) -> Result<super::billing::Quote, ServiceError> {
        Ok(self.prepare_job(caller, input, now, false).await?.quote)
    }

    /// For each site that could run a job: its estimated start, worst case
    /// and funding, and the site a submission would go to; nothing stored.
    pub async fn quote_sites(
        &self,
        caller: &Caller,
        input: SubmitJob,
        now: i64,
    ) -> Result<Vec<super::routing::SiteQuoteRow>, ServiceError> {
        Ok(self.prepare_job(caller, input, now, true).await?.options)
    }

    /// Everything a submission does short of storing the job.
    /// `quoting`: every site is asked, even when the job names one.
    async fn prepare_job(
        &self,
        caller: &Caller,
        input: SubmitJob,
        now: i64,
        quoting: bool,
    ) -> Result<Prepared, ServiceError> {
        if !input.submit_dir.starts_with('/') {
            return Err(ServiceError::Invalid("submit_dir must be an absolute path".into()));
        }
        let sbatch_env: Vec<(String, String)> =
            input.env.iter().filter(|(k, _)| k.starts_with("SBATCH_")).map(|(k, v)| (k.clone(), v.clone())).collect();
        let parsed = lushan_sbatch::parse(&SubmitInput {
            script: input.script.clone(),
            options: input.options.clone(),
            env: sbatch_env,
        })
        .map_err(|problems| {
            ServiceError::Invalid(format!("the job was not submitted:\n{}", diagnostics_text(&problems)))
        })?;
        let request = parsed.request;
        // Refused before anything else is looked at: an array's tasks are
        // stored in one transaction that holds the database's write lock.
        if let Some(last) = request.array.as_ref().and_then(|a| a.task_ids.last())
            && *last >= self.max_array_size
        {
            return Err(ServiceError::Invalid(format!(
                "Invalid job array specification: task id {last} is too large; task ids go up to {} on this platform (MaxArraySize {}, the server's `max_array_size` setting)",
                self.max_array_size.saturating_sub(1),
                self.max_array_size
            )));
        }
        if let Some(dependency) = &request.dependency {
            self.check_dependency_targets(caller, dependency).await?;
        }
        let begin_time = match &request.begin {
            Some(begin) => Some(resolve_begin(begin, now)?),
            None => None,
        };

        let user = self.store.user_by_id(caller.user_id()).await?;
        let project = self.submit_project(caller, request.project.as_deref()).await?;
        let count = request.array.as_ref().map_or(1, |a| a.task_ids.len() as i64);
        self.check_submit_limits(&user, project, count).await?;
        // Known on every site alike: looked up once, before any is tried.
        let qos_priority = match &request.qos {
            Some(name) => u32::try_from(self.qos_named(name).await?.priority).unwrap_or(0),
            None => 0,
        };

        let sites = self.store.list_sites().await?;
        let allocation = input.allocation.as_deref();
        let named = match &request.site {
            Some(name) => match sites.iter().find(|s| &s.name == name) {
                Some(site) => Some(site),
                None => {
                    let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
                    return Err(ServiceError::Invalid(format!("unknown site `{name}`; sites: {}", names.join(", "))));
                }
            },
            None => None,
        };
        let mut active = sites.iter().filter(|s| s.status == Status::Active);
        let sole = match (active.next(), active.next()) {
            (Some(site), None) => Some(site),
            _ => None,
        };
        let ask = Ask { user: &user, project, request: &request, qos_priority, allocation };
        let mut options = Vec::new();
        let (placement, route) = match named.or(sole) {
            // A named or sole site is no choice to make: no estimate on the
            // submission path, unless the user asks for quotes.
            Some(site) if !quoting => (self.place(&ask, site, now).await?, String::new()),
            _ => {
                let candidates = self.candidates(&ask, &sites, now).await?;
                super::routing::choose(candidates, named.map(|s| s.name.as_str()), now, &mut options)?
            }
        };
        let Placement {
            site,
            partition,
            nodes,
            ntasks,
            cpus_per_task,
            cpus_per_node,
            mem_per_node_mb,
            gpu_kind,
            gpus_per_node,
            time_limit_secs,
            quote,
            ..
        } = placement;

        // Files and environment.
        let workdir = match &request.workdir {
            Some(dir) => joined(dir, &input.submit_dir),
            None => input.submit_dir.clone(),
        };
        if site.backend == "local" && !quoting {
            self.check_workdir(&user, &workdir).await?;
        }
        let default_output = if request.array.is_some() { "slurm-%A_%a.out" } else { "slurm-%j.out" };
        let stdout = joined(request.output.as_deref().unwrap_or(default_output), &workdir);
        let stderr = request.error.as_deref().map(|e| joined(e, &workdir)).unwrap_or_else(|| stdout.clone());
        let stdin = request.input.as_deref().map(|i| joined(i, &workdir)).unwrap_or_else(|| "/dev/null".into());
        let env: BTreeMap<String, String> = match request.export.clone().unwrap_or_default() {
            Export::All { set } => input.env.clone().into_iter().chain(set).collect(),
            Export::None { keep, set } => input
                .env
                .iter()
                .filter(|(k, _)| keep.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain(set)
                .collect(),
        };
        let name = request
            .name
            .clone()
            .unwrap_or_else(|| if request.wrap.is_some() { "wrap".into() } else { "sbatch".into() });
        let request_json = json!({
            "options": input.options,
            "warnings": parsed.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "constraint": request.constraint,
            "gpu_type": gpu_kind,
            "qos": request.qos.clone().unwrap_or_else(|| DEFAULT_QOS.into()),
            "submit_dir": input.submit_dir,
            "array": request.array.as_ref().map(|a| json!({
                "count": a.task_ids.len(),
                "min": a.task_ids.first(),
                "max": a.task_ids.last(),
                "step": array_step(&a.task_ids),
                "text": a.text,
            })),
        });
        let idempotency_key = match &input.idempotency_key {
            Some(key) if key.is_empty() || key.len() > 200 => {
                return Err(ServiceError::Invalid("an idempotency key has 1 to 200 characters".into()));
            }
            Some(key) => Some(format!("{}:{key}", caller.user_id())),
            None => None,
        };
        let new = NewJob {
            name,
            user_id: user.id,
            project_id: project,
            tenant_id: user.tenant_id,
            site_id: site.id,
            partition_id: partition.id,
            submit_time: now,
            time_limit_secs: i64::try_from(time_limit_secs).unwrap_or(i64::MAX),
            nodes: i64::from(nodes),
            ntasks: i64::from(ntasks),
            cpus_per_task: i64::from(cpus_per_task),
            cpus_per_node: i64::try_from(cpus_per_node).unwrap_or(i64::MAX),
            mem_per_node_mb: i64::try_from(mem_per_node_mb).unwrap_or(i64::MAX),
            gpus_per_node: i64::from(gpus_per_node),
            exclusive: request.exclusive,
            held: request.hold,
            requeue: request.requeue.unwrap_or(true),
            workdir,
            stdout_path: stdout,
            stderr_path: stderr,
            stdin_path: stdin,
            open_mode: match request.open_mode {
                Some(lushan_model::OpenMode::Append) => "append".into(),
                _ => "truncate".into(),
            },
            script: parsed.script,
            args_json: json!(input.args).to_string(),
            env_json: json!(env).to_string(),
            request_json: request_json.to_string(),
            constraint_expr: request.constraint.clone().unwrap_or_default(),
            comment: request.comment.clone().unwrap_or_default(),
            idempotency_key,
            array: request.array.as_ref().map(|a| (a.task_ids.clone(), a.throttle)),
            dependency: request.dependency.as_ref().map(|d| d.text.clone()).unwrap_or_default(),
            begin_time,
            billing: Some(quote.billing()),
            route,
            qos: request.qos.clone().unwrap_or_else(|| DEFAULT_QOS.into()),
        };
        Ok(Prepared { new, warnings: parsed.warnings.iter().map(ToString::to_string).collect(), quote, options })
    }

    /// A job's place on one site: refused when the site cannot run it
    /// (no Unix account for it, no such partition, too big, unknown GPU
    /// type or feature); else its resources per node and its quote there.
    pub(super) async fn place<'s>(
        &self,
        ask: &Ask<'_>,
        site: &'s SiteRecord,
        now: i64,
    ) -> Result<Placement<'s>, ServiceError> {
        let Ask { user, project, request, qos_priority, allocation } = *ask;
        // Jobs on this machine need the account here; a Slurm site's
        // accounts are the cluster's to know.
        if site.backend == "local"
            && let Some(control) = &self.control
        {
            control.check_runnable(&user.name, user.unix_account.as_deref()).map_err(ServiceError::Invalid)?;
        }
        if site.backend == "slurm" && user.unix_account.is_none() {
            return Err(ServiceError::Invalid(format!(
                "user `{}` has no Unix account, and jobs on Slurm site `{}` run as one; ask your tenant admin to set it (--unix-account)",
                user.name, site.name
            )));
        }
        let partition = match &request.partition {
            Some(name) => site.partitions.iter().find(|p| &p.name == name),
            None => site.partitions.iter().find(|p| p.is_default),
        };
        let Some(partition) = partition else {
            let names: Vec<&str> = site.partitions.iter().map(|p| p.name.as_str()).collect();
            return Err(ServiceError::Invalid(format!(
                "unknown partition `{}` on site `{}`; partitions: {}",
                request.partition.as_deref().unwrap_or("(default)"),
                site.name,
                names.join(", ")
            )));
        };
        // Slurm sites run jobs in their own QOS; Lushan's order only the
        // local queue, so a job paying for one must run where it counts.
        if let Some(qos) = request.qos.as_deref().filter(|q| *q != DEFAULT_QOS)
            && site.backend == "slurm"
        {
            return Err(ServiceError::Invalid(format!(
                "QOS `{qos}` orders the queue of Lushan's own sites; Slurm site `{}` runs jobs in its default QOS: submit without -q, or to another site",
                site.name
            )));
        }

        // Resources per node, by sbatch's rules (pure, in the scheduler crate).
        let node_pool = partition_nodes(site, &partition.name);
        let largest = node_pool.iter().max_by_key(|n| (n.cpus, n.memory_mb, n.gpus));
        let default_mem_per_cpu = largest.map(|n| n.memory_mb / u64::from(n.cpus.max(1))).unwrap_or(0);
        let lushan_scheduler::PerNode {
            nodes,
            ntasks,
            cpus_per_task,
            cpus_per_node,
            memory_mb: mem_per_node_mb,
            gpu_kind,
            gpus: gpus_per_node,
        } = lushan_scheduler::per_node(request, default_mem_per_cpu);
        if let Some(kind) = &gpu_kind {
            let kinds: Vec<&str> = site.nodes.iter().filter_map(|n| n.gpu_type.as_deref()).collect();
            if !kinds.contains(&kind.as_str()) {
                return Err(ServiceError::Invalid(format!(
                    "no node of partition `{}` has GPUs of type `{kind}`; types here: {}",
                    partition.name,
                    if kinds.is_empty() { "none".to_owned() } else { kinds.join(", ") }
                )));
            }
        }
        let constraint = match &request.constraint {
            None => None,
            Some(text) => Some(lushan_scheduler::Constraint::parse(text).map_err(ServiceError::Invalid)?),
        };
        if let Some(constraint) = &constraint {
            let mut here: Vec<&str> = node_pool.iter().flat_map(|n| n.features.iter().map(String::as_str)).collect();
            here.sort_unstable();
            here.dedup();
            if let Some(unknown) = constraint.features().find(|f| !here.contains(f)) {
                return Err(ServiceError::Invalid(format!(
                    "no node of partition `{}` has the feature `{unknown}` (-C/--constraint); features here: {}",
                    partition.name,
                    if here.is_empty() { "none".to_owned() } else { here.join(", ") }
                )));
            }
        }
        let mut probe = PendingJob {
            id: 0,
            partition: partition.id.0,
            nodes,
            cpus_per_node: u32::try_from(cpus_per_node).unwrap_or(u32::MAX),
            memory_per_node_mb: mem_per_node_mb,
            gpus_per_node,
            exclusive: request.exclusive,
            held: false,
            array: None,
            submit: now,
            time_limit: 0,
            tenant: 0,
            project: 0,
            user: 0,
            constraint: constraint.clone(),
            qos_priority,
        };
        if !lushan_scheduler::fits_empty(&probe, &node_pool) {
            let biggest = largest
                .map(|n| {
                    format!("its largest node has {} CPUs, {} MB of memory and {} GPUs", n.cpus, n.memory_mb, n.gpus)
                })
                .unwrap_or_else(|| "it has no nodes".into());
            return Err(ServiceError::Invalid(format!(
                "this job can never run in partition `{}`: it asks for {nodes} node(s) with {cpus_per_node} CPUs, {mem_per_node_mb} MB and {gpus_per_node} GPUs each, and {} node(s) exist; {biggest}",
                partition.name,
                node_pool.len()
            )));
        }
        // The partition's MaxTime (a Slurm partition's) bounds the request
        // and the default, as Slurm's would.
        let max_time = partition.max_time_secs.and_then(|m| u64::try_from(m).ok()).unwrap_or(MAX_TIME_LIMIT_SECS);
        let time_limit_secs = match request.time_limit {
            Some(TimeLimit::Seconds(secs)) if secs > max_time => {
                return Err(ServiceError::Invalid(format!(
                    "--time asks for {} min; partition `{}` on site `{}` allows at most {} min (its MaxTime)",
                    secs.div_ceil(60),
                    partition.name,
                    site.name,
                    max_time / 60
                )));
            }
            Some(TimeLimit::Seconds(secs)) => secs.min(MAX_TIME_LIMIT_SECS),
            Some(TimeLimit::Unlimited) => max_time.min(MAX_TIME_LIMIT_SECS),
            None => DEFAULT_TIME_LIMIT_SECS.min(max_time),
        };
        let quote = self
            .quote_job(super::billing::QuoteInput {
                user,
                project,
                site,
                partition,
                qos: request.qos.as_deref().unwrap_or(DEFAULT_QOS),
                resources: lushan_ledger::Resources {
                    cores: i64::from(nodes).saturating_mul(i64::try_from(cpus_per_node).unwrap_or(i64::MAX)),
                    gpus: i64::from(nodes).saturating_mul(i64::from(gpus_per_node)),
                    memory_mb: i64::from(nodes).saturating_mul(i64::try_from(mem_per_node_mb).unwrap_or(i64::MAX)),
                },
                limit_secs: i64::try_from(time_limit_secs).unwrap_or(i64::MAX),
                count: request.array.as_ref().map_or(1, |a| a.task_ids.len() as i64),
                allocation,
                now,
            })
            .await?;
        probe.time_limit = i64::try_from(time_limit_secs).unwrap_or(i64::MAX).saturating_mul(1000);
        probe.tenant = user.tenant_id.0;
        probe.project = project.0;
        probe.user = user.id.0;
        Ok(Placement {
            site,
            partition,
            nodes,
            ntasks,
            cpus_per_task,
            cpus_per_node,
            mem_per_node_mb,
            gpu_kind,
            gpus_per_node,
            time_limit_secs,
            quote,
            probe,
        })
    }

    /// Every job a dependency names must exist and be visible to the caller,
    /// as sbatch refuses an invalid dependency at submission.
    async fn check_dependency_targets(
        &self,
        caller: &Caller,
        dependency: &lushan_model::Dependency,
    ) -> Result<(), ServiceError> {
        use lushan_model::DependencyCondition as C;
        for condition in &dependency.conditions {
            let target = match condition {
                C::After { job, .. } | C::AfterOk(job) | C::AfterNotOk(job) | C::AfterAny(job) => job,
                C::Singleton => continue,
            };
            // `7_2` names task 2 of array 7: not job 7 when 7 is no array,
            // nor a task of another array whose task 2 happens to exist.
            let selection =
                JobSelection { states: None, user: None, project: None, jobs: Some(vec![*target]), array: None };
            if self.list_jobs(caller, selection).await?.is_empty() {
                let named = match target.task_id {
                    Some(task) => format!("{}_{task}", target.job_id),
                    None => target.job_id.to_string(),
                };
                return Err(ServiceError::Invalid(format!(
                    "invalid --dependency: job {named} does not exist (or is not yours to see)"
                )));
            }
        }
        Ok(())
    }

    /// The project a job is charged to: the one named, which the caller must
    /// belong to, or the caller's only project.
    async fn submit_project(&self, caller: &Caller, named: Option<&str>) -> Result<ProjectId, ServiceError> {
        let mine = self.store.list_projects(ProjectScope::MemberOf(caller.user_id())).await?;
        let active: Vec<_> = mine.iter().filter(|p| p.status == Status::Active).collect();
        let list = || {
            if active.is_empty() {
                "you are in no active project; ask a PI to add you".to_owned()
            } else {
                format!("your projects: {}", active.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "))
            }
        };
        match named {
            Some(name) => match mine.iter().find(|p| p.name == name) {
                Some(p) if p.status == Status::Active => Ok(p.id),
                Some(p) => Err(ServiceError::Invalid(format!("project `{}` is disabled; {}", p.name, list()))),
                None => Err(ServiceError::Invalid(format!("you are not a member of project `{name}`; {}", list()))),
            },
            None => match active.as_slice() {
                [only] => Ok(only.id),
                _ => Err(ServiceError::Invalid(format!("name the project to charge with -A/--account; {}", list()))),
            },
        }
    }

    /// Whose jobs the caller may see.
    pub(super) async fn job_scope(&self, caller: &Caller) -> Result<JobScope, ServiceError> {
        match caller.role() {
            Role::Operator => Ok(JobScope::Everything),
            Role::TenantAdmin => Ok(JobScope::Tenant(caller.tenant_id())),
            Role::Member | Role::Reviewer => {
                // Own jobs, plus every job of projects they manage.
                let managed_projects: Vec<ProjectId> = self
                    .store
                    .memberships_of(caller.user_id())
                    .await?
                    .into_iter()
                    .filter(|(_, _, role)| role.manages_members())
                    .map(|(id, _, _)| id)
                    .collect();
                Ok(JobScope::Own { user: caller.user_id(), managed_projects })
            }
        }
    }

    /// Jobs the caller may see, narrowed by `selection`, oldest first.
    pub async fn list_jobs(&self, caller: &Caller, selection: JobSelection) -> Result<Vec<JobRecord>, ServiceError> {
        match self.job_filter(caller, selection).await? {
            Some(filter) => Ok(self.store.list_jobs(&filter).await?),
            None => Ok(Vec::new()),
        }
    }

    /// One page of [`Services::list_jobs`]'s list counted from its newest
    /// job (`offset` jobs skipped, at most `limit`), oldest first, and how
    /// many the whole list holds: the database reads one page, not the list.
    pub async fn list_jobs_page(
        &self,
        caller: &Caller,
        selection: JobSelection,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<JobRecord>, u64), ServiceError> {
        let Some(filter) = self.job_filter(caller, selection).await? else { return Ok((Vec::new(), 0)) };
        let total = self.store.count_jobs(&filter).await?;
        let page = filter.newest_page(i64::try_from(offset).unwrap_or(i64::MAX), i64::try_from(limit).unwrap_or(0));
        let jobs = self.store.list_jobs(&page).await?;
        Ok((jobs, u64::try_from(total).unwrap_or(0)))
    }

    /// How many of the jobs the caller may see, narrowed by `selection`,
    /// are in each (site, partition, state): counted by the database, not
    /// by listing them (the console's queue per partition).
    pub async fn count_jobs_by_partition(
        &self,
        caller: &Caller,
        selection: JobSelection,
    ) -> Result<Vec<lushan_store::PartitionCount>, ServiceError> {
        let Some(filter) = self.job_filter(caller, selection).await? else { return Ok(Vec::new()) };
        Ok(self.store.count_jobs_by_partition(&filter).await?)
    }

    /// The store's filter for what the caller may see of `selection`;
    /// `None` when it names a user or project that does not exist (which
    /// selects nothing, as `squeue -u` does).
    async fn job_filter(&self, caller: &Caller, selection: JobSelection) -> Result<Option<JobFilter>, ServiceError> {
        // Every field by name: a new one must be passed on to be compiled.
        let JobSelection { states, user, project, jobs, array } = selection;
        let mut filter = JobFilter::all().scope(self.job_scope(caller).await?);
        if let Some(states) = states {
            filter = filter.states(states);
        }
        if let Some(name) = &user {
            let Ok(user) = self.store.user_by_name(name).await else { return Ok(None) };
            filter = filter.users(vec![user.id]);
        }
        if let Some(name) = &project {
            let Ok(project) = self.store.project_by_name(name).await else { return Ok(None) };
            filter = filter.projects(vec![project.id]);
        }
        if let Some(jobs) = jobs {
            filter = filter.named(jobs);
        }
        if let Some(array) = array {
            filter = filter.arrays(vec![array]);
        }
        Ok(Some(filter))
    }

    /// A job's script and where it started, for submitting it again: the
    /// job's whole record, if the caller may see the job; else "not found".
    pub async fn job_script(&self, caller: &Caller, id: i64) -> Result<(String, String), ServiceError> {
        let seen = self.job(caller, id).await?;
        let full = self.store.job(seen.id).await?;
        Ok((full.script, full.workdir))
    }

    /// One job, by its own id, if the caller may see it; else "not found".
    pub async fn job(&self, caller: &Caller, id: i64) -> Result<JobRecord, ServiceError> {
        let filter = JobFilter::all().scope(self.job_scope(caller).await?).ids(vec![JobId(id)]);
        let found = self.store.list_jobs(&filter).await?;
        found.into_iter().next().ok_or_else(|| ServiceError::not_found("job", &id.to_string()))
    }

    /// Cancels a pending job at once, or asks a running job's supervisor to
    /// end it (SIGTERM, then SIGKILL after the grace time).
    pub async fn cancel_job(&self, caller: &Caller, id: i64, now: i64) -> Result<JobRecord, ServiceError> {
        let job = self.job(caller, id).await?;
        let mut audit = audit_by(caller, now, "job.cancel", "job", &id.to_string());
        audit.tenant_id = Some(job.tenant_id);
        match job.state {
            // Forwarded to a Slurm site: cancelled there, and the end
            // comes back from Slurm like any other.
            JobState::Pending | JobState::Running if job.forwarding_at.is_some() => {
                let Some(control) = &self.control else {
                    return Err(ServiceError::StateConflict("this server does not run jobs".into()));
                };
                control.cancel_remote(&job, None).await.map_err(|e| {
                    ServiceError::StateConflict(format!("cannot cancel job {id} on site {}: {e}", job.site_name))
                })?;
                self.store.append_audit_entry(&audit).await?;
            }
            JobState::Pending => {
                let end = JobEnd {
                    state: JobState::Cancelled,
                    reason: format!("cancelled by {}", caller.user_name()),
                    time: now,
                    exit_code: Some(0),
                    exit_signal: Some(0),
                    max_rss_kib: None,
                    total_cpu_ms: None,
                    nodes: Vec::new(),
                    start: None,
                };
                if !self.store.end_job(job.id, JobState::Pending, &end, Some(&audit)).await? {
                    // It started meanwhile: cancel the running job instead.
                    return Box::pin(self.cancel_job(caller, id, now)).await;
                }
            }
            JobState::Running => {
                let Some(control) = &self.control else {
                    return Err(ServiceError::StateConflict(
                        "this server does not run jobs; cancel it where it runs".into(),
                    ));
                };
                control.cancel(job.id).map_err(|e| ServiceError::Internal(e.to_string()))?;
                self.store.append_audit_entry(&audit).await?;
            }
            _ => return Err(ServiceError::StateConflict(format!("job {id} already ended ({})", job.state))),
        }
        Ok(self.store.job(job.id).await?)
    }

    /// Estimated start times of pending jobs (see `Control::estimate_starts`).
    pub async fn estimated_starts(&self) -> Result<std::collections::HashMap<JobId, Option<i64>>, ServiceError> {
        match &self.control {
            Some(control) => Ok(control.estimate_starts().await?),
            None => Ok(std::collections::HashMap::new()),
        }
    }

    /// Pending local jobs' priorities in parts (see `Control::priorities`);
    /// `None` when the local site does not use multifactor priority.
    pub async fn job_priorities(
        &self,
    ) -> Result<Option<std::collections::HashMap<JobId, lushan_scheduler::priority::Weighted>>, ServiceError> {
        match &self.control {
            Some(control) => Ok(control.priorities().await?),
            None => Ok(None),
        }
    }

    /// Sends a signal (`USR1`, `SIGUSR1`, `10`) to a running job's processes.
    pub async fn signal_job(
        &self,
        caller: &Caller,
        id: i64,
        signal: &str,
        now: i64,
    ) -> Result<JobRecord, ServiceError> {
        let number = parse_signal(signal)?;
        let job = self.job(caller, id).await?;
        if job.state != JobState::Running {
            return Err(ServiceError::StateConflict(format!(
                "job {id} is {}; only running jobs take signals",
                job.state
            )));
        }
        let Some(control) = &self.control else {
            return Err(ServiceError::StateConflict("this server does not run jobs".into()));
        };
        if job.remote_id.is_some() {
            control.cancel_remote(&job, Some(&number.to_string())).await.map_err(|e| {
                ServiceError::StateConflict(format!("cannot signal job {id} on site {}: {e}", job.site_name))
            })?;
        } else {
            control.signal(job.id, number).map_err(|e| ServiceError::Internal(e.to_string()))?;
        }
        let mut audit = audit_by(caller, now, "job.signal", "job", &id.to_string());
        audit.tenant_id = Some(job.tenant_id);
        audit.after = Some(json!({"signal": number}).to_string());
        self.store.append_audit_entry(&audit).await?;
        Ok(job)
    }

    /// A slice of a job's stdout or stderr.
    pub async fn job_output(
        &self,
        caller: &Caller,
        id: i64,
        stderr: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(JobRecord, lushan_backend::local::OutputChunk), ServiceError> {
        let job = self.job(caller, id).await?;
        if job.state == JobState::Pending {
            return Err(ServiceError::StateConflict(format!("job {id} has not started; it has no output yet")));
        }
        let Some(control) = &self.control else {
            return Err(ServiceError::StateConflict(
                "this server does not run jobs; read the output where the job ran".into(),
            ));
        };
        let chunk = control.read_output(&job, stderr, offset, limit).await.map_err(ServiceError::StateConflict)?;
        Ok((job, chunk))
    }

    /// Holds (`held = true`) or releases a pending job.
    pub async fn hold_job(&self, caller: &Caller, id: i64, held: bool, now: i64) -> Result<JobRecord, ServiceError> {
        let job = self.job(caller, id).await?;
        let action = if held { "job.hold" } else { "job.release" };
        let mut audit = audit_by(caller, now, action, "job", &id.to_string());
        audit.tenant_id = Some(job.tenant_id);
        let not_pending = || {
            ServiceError::StateConflict(format!(
                "job {id} is {}, not pending; only pending jobs are held or released",
                job.state
            ))
        };
        // Sent to a Slurm site: held or released there, where it waits.
        if job.forwarding_at.is_some() {
            if job.state != JobState::Pending {
                return Err(not_pending());
            }
            let Some(control) = &self.control else {
                return Err(ServiceError::StateConflict("this server does not run jobs".into()));
            };
            control.hold_remote(&job, held).await.map_err(|e| {
                ServiceError::StateConflict(format!("cannot {} job {id} on site {}: {e}", &action[4..], job.site_name))
            })?;
            self.store.append_audit_entry(&audit).await?;
            return Ok(self.store.job(job.id).await?);
        }
        if !self.store.set_job_held(job.id, held, &audit).await? {
            return Err(not_pending());
        }
        if let Some(control) = &self.control {
            control.wake();
        }
        Ok(self.store.job(job.id).await?)
    }
}
