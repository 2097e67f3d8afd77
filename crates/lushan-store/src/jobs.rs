//! Jobs: stored before they are acknowledged, moved between states only by
//! guarded updates (`WHERE state = ...`), so a late or repeated event cannot
//! undo a final state.

use crate::{AuditEntry, DbKind, Param, Store, StoreError, append_audit, insert_rows, parse_text};
use lushan_model::{JobId, JobRef, JobState, PartitionId, ProjectId, SiteId, TenantId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageByHour {
    pub tenant_id: TenantId,
    pub project_id: ProjectId,
    pub user_id: UserId,
    /// Hours since the epoch (UTC) in which the jobs ended.
    pub hour: i64,
    pub core_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    pub id: JobId,
    pub name: String,
    pub user_id: UserId,
    pub user_name: String,
    pub unix_account: Option<String>,
    pub project_id: ProjectId,
    pub project_name: String,
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub site_name: String,
    pub partition_id: PartitionId,
    pub partition_name: String,
    pub state: JobState,
    pub reason: String,
    pub submit_time: i64,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub time_limit_secs: i64,
    pub nodes: i64,
    pub ntasks: i64,
    pub cpus_per_task: i64,
    pub cpus_per_node: i64,
    pub mem_per_node_mb: i64,
    pub gpus_per_node: i64,
    pub exclusive: bool,
    pub held: bool,
    pub workdir: String,
    pub stdout_path: String,
    pub stderr_path: String,
    pub stdin_path: String,
    pub open_mode: String,
    pub script: String,
    pub args_json: String,
    pub env_json: String,
    pub request_json: String,
    /// `-C/--constraint` as given ('' for none).
    pub constraint_expr: String,
    pub comment: String,
    pub exit_code: Option<i64>,
    pub exit_signal: Option<i64>,
    pub node_list: String,
    pub alloc_json: String,
    /// For an array task: the array's id (its first task's job id).
    pub array_job_id: Option<JobId>,
    pub array_task_id: Option<i64>,
    pub array_throttle: Option<i64>,
    /// `--dependency` as given, `""` for none.
    pub dependency: String,
    /// `--begin`, resolved at submission.
    pub begin_time: Option<i64>,
    /// Peak resident memory of the job's processes, in KiB.
    pub max_rss_kib: Option<i64>,
    /// CPU time (user + system) of the job's processes, in milliseconds.
    pub total_cpu_ms: Option<i64>,
    /// How many times it was requeued (Slurm's `Restarts`): its current
    /// run's number.
    pub restarts: i64,
    /// Set while an owner's job is preempting it: since when, for which
    /// job, and when it is killed.
    pub preempted_at: Option<i64>,
    pub preempted_by: Option<JobId>,
    pub preempt_deadline: Option<i64>,
    /// Whether a preemption may requeue it (`--no-requeue`: false).
    pub requeue: bool,
    /// On a Slurm site: when Lushan began sending it, and Slurm's job id
    /// once Slurm took it.
    pub forwarding_at: Option<i64>,
    pub remote_id: Option<i64>,
    /// Why the platform sent it to its site, when the user named none.
    pub route: String,
    /// Its QOS (`-q`), `normal` unless it asked for another.
    pub qos: String,
}

/// A job to store. Output paths are sbatch patterns (`slurm-%j.out`),
/// expanded at launch when the node is known.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub name: String,
    pub user_id: UserId,
    pub project_id: ProjectId,
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub partition_id: PartitionId,
    pub submit_time: i64,
    pub time_limit_secs: i64,
    pub nodes: i64,
    pub ntasks: i64,
    pub cpus_per_task: i64,
    pub cpus_per_node: i64,
    pub mem_per_node_mb: i64,
    pub gpus_per_node: i64,
    pub exclusive: bool,
    pub held: bool,
    pub workdir: String,
    pub stdout_path: String,
    pub stderr_path: String,
    pub stdin_path: String,
    pub open_mode: String,
    pub script: String,
    pub args_json: String,
    pub env_json: String,
    pub request_json: String,
    pub constraint_expr: String,
    pub comment: String,
    /// Why the platform chose the site ('' when the user named it).
    pub route: String,
    /// A QOS that exists (checked by the caller).
    pub qos: String,
    pub idempotency_key: Option<String>,
    /// Task ids and throttle for an array: one row per task.
    pub array: Option<(Vec<u32>, Option<u32>)>,
    pub dependency: String,
    pub begin_time: Option<i64>,
    /// Whether an owner's preemption may requeue it (`--no-requeue`: no,
    /// it ends PREEMPTED).
    pub requeue: bool,
    /// How it is paid for: the hold is placed in the same transaction that
    /// stores the job, or the job is refused. `None` only for callers that
    /// do not bill (tests of the job machinery).
    pub billing: Option<crate::JobBilling>,
}

/// Whose jobs a listing may return: the caller's scope, applied in the
/// query itself so no listing can forget it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobScope {
    /// Every job (operators, and the platform's own control loop).
    Everything,
    /// One tenant's jobs (tenant admins).
    Tenant(TenantId),
    /// A user's own jobs and every job of the projects they manage.
    Own { user: UserId, managed_projects: Vec<ProjectId> },
}

/// How many jobs of a listing wait or run (or are in any `state`) in one
/// partition of one site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionCount {
    pub site_id: SiteId,
    pub partition: String,
    pub state: JobState,
    pub jobs: i64,
}

/// Which jobs a listing returns: every field narrows it, and all of them
/// hold together. There is deliberately no `Default`: a listing starts
/// from [`JobFilter::all`] and names each narrowing with a method, and
/// [`Store::list_jobs`] destructures the filter without `..`, so a new
/// field that is not turned into SQL fails to compile.
#[derive(Clone, Debug)]
pub struct JobFilter {
    pub scope: JobScope,
    /// Only these users' jobs.
    pub users: Option<Vec<UserId>>,
    /// Only these projects' jobs.
    pub projects: Option<Vec<ProjectId>>,
    /// Only the tasks of these arrays.
    pub arrays: Option<Vec<JobId>>,
    /// Only these states.
    pub states: Option<Vec<JobState>>,
    /// Only these exact job ids.
    pub ids: Option<Vec<JobId>>,
    /// Jobs as Slurm's `-j` names them: `123` is job 123 or, when 123 is
    /// an array, every task of it; `123_4` is task 4 of array 123 only.
    pub named: Option<Vec<JobRef>>,
    /// At most this many: the oldest, or the newest with `newest_first`.
    pub limit: Option<i64>,
    /// Skip this many first (a page of a long list).
    pub offset: Option<i64>,
    /// Counted from the newest (the listing is still oldest first).
    pub newest_first: bool,
}

impl JobScope {
    /// The scope as SQL over `jobs j` (` AND ...`, empty for everything),
    /// with its values for placeholders numbered after `bound`: the one
    /// translation, for listings and usage reports alike.
    pub(crate) fn condition(&self, bound: usize) -> (String, Vec<i64>) {
        match self {
            JobScope::Everything => (String::new(), Vec::new()),
            JobScope::Tenant(tenant) => (format!(" AND j.tenant_id = ${}", bound + 1), vec![tenant.0]),
            JobScope::Own { user, managed_projects } => {
                let mut condition = format!(" AND (j.user_id = ${}", bound + 1);
                if !managed_projects.is_empty() {
                    let marks: Vec<String> =
                        (0..managed_projects.len()).map(|i| format!("${}", bound + 2 + i)).collect();
                    condition.push_str(&format!(" OR j.project_id IN ({})", marks.join(", ")));
                }
                condition.push(')');
                (condition, std::iter::once(user.0).chain(managed_projects.iter().map(|p| p.0)).collect())
            }
        }
    }
}

impl JobFilter {
    /// Every job there is.
    pub fn all() -> JobFilter {
        JobFilter {
            scope: JobScope::Everything,
            users: None,
            projects: None,
            arrays: None,
            states: None,
            ids: None,
            named: None,
            limit: None,
            offset: None,
            newest_first: false,
        }
    }

    pub fn scope(mut self, scope: JobScope) -> JobFilter {
        self.scope = scope;
        self
    }

    pub fn users(mut self, users: Vec<UserId>) -> JobFilter {
        self.users = Some(users);
        self
    }

    pub fn projects(mut self, projects: Vec<ProjectId>) -> JobFilter {
        self.projects = Some(projects);
        self
    }

    pub fn arrays(mut self, arrays: Vec<JobId>) -> JobFilter {
        self.arrays = Some(arrays);
        self
    }

    pub fn states(mut self, states: Vec<JobState>) -> JobFilter {
        self.states = Some(states);
        self
    }

    pub fn ids(mut self, ids: Vec<JobId>) -> JobFilter {
        self.ids = Some(ids);
        self
    }

    pub fn named(mut self, named: Vec<JobRef>) -> JobFilter {
        self.named = Some(named);
        self
    }

    /// Page `offset / limit` of the list, counted from its newest job.
    pub fn newest_page(mut self, offset: i64, limit: i64) -> JobFilter {
        self.offset = Some(offset);
        self.limit = Some(limit);
        self.newest_first = true;
        self
    }

    pub fn limit(mut self, limit: i64) -> JobFilter {
        self.limit = Some(limit);
        self
    }
}

/// Every column: for one job (`Store::job`).
const JOB_COLUMNS: &str = "SELECT j.id, j.name, j.user_id, u.name AS user_name, u.unix_account, j.project_id, p.name AS project_name,
    j.tenant_id, j.site_id, s.name AS site_name, j.partition_id, pa.name AS partition_name, j.state, j.reason, j.submit_time,
    j.start_time, j.end_time, j.time_limit_secs, j.nodes, j.ntasks, j.cpus_per_task, j.cpus_per_node, j.mem_per_node_mb,
    j.gpus_per_node, j.exclusive, j.held, j.workdir, j.stdout_path, j.stderr_path, j.stdin_path, j.open_mode, j.script,
    j.args_json, j.env_json, j.request_json, j.comment, j.exit_code, j.exit_signal, j.node_list, j.alloc_json,
    j.array_job_id, j.array_task_id, j.array_throttle, j.dependency, j.begin_time, j.max_rss_kib, j.total_cpu_ms,
    j.constraint_expr, j.restarts, j.preempted_at, j.preempted_by, j.preempt_deadline, j.requeue, j.forwarding_at,
    j.remote_id, j.route, j.qos
    FROM jobs j JOIN users u ON u.id = j.user_id JOIN projects p ON p.id = j.project_id
    JOIN sites s ON s.id = j.site_id JOIN partitions pa ON pa.id = j.partition_id";

/// What listings and scheduling passes read of each job: everything but
/// the bulky columns (script, arguments, environment, request; the
/// submitter's environment alone can be kilobytes per job), in the order
/// [`job_from_json`] reads them.
const JOB_SUMMARY_FIELDS: &[&str] = &[
    "j.id",
    "j.name",
    "j.user_id",
    "u.name",
    "u.unix_account",
    "j.project_id",
    "p.name",
    "j.tenant_id",
    "j.site_id",
    "s.name",
    "j.partition_id",
    "pa.name",
    "j.state",
    "j.reason",
    "j.submit_time",
    "j.start_time",
    "j.end_time",
    "j.time_limit_secs",
    "j.nodes",
    "j.ntasks",
    "j.cpus_per_task",
    "j.cpus_per_node",
    "j.mem_per_node_mb",
    "j.gpus_per_node",
    "j.exclusive",
    "j.held",
    "j.workdir",
    "j.stdout_path",
    "j.stderr_path",
    "j.stdin_path",
    "j.open_mode",
    "j.constraint_expr",
    "j.comment",
    "j.exit_code",
    "j.exit_signal",
    "j.node_list",
    "j.alloc_json",
    "j.array_job_id",
    "j.array_task_id",
    "j.array_throttle",
    "j.dependency",
    "j.begin_time",
    "j.max_rss_kib",
    "j.total_cpu_ms",
    "j.restarts",
    "j.preempted_at",
    "j.preempted_by",
    "j.preempt_deadline",
    "j.requeue",
    "j.forwarding_at",
    "j.remote_id",
    "j.route",
    "j.qos",
];

/// One listed job from its JSON array (see [`JOB_SUMMARY_FIELDS`]).
fn job_from_json(row: &serde_json::Value) -> Result<JobRecord, StoreError> {
    let values = row.as_array().filter(|v| v.len() == JOB_SUMMARY_FIELDS.len());
    let values = values.ok_or_else(|| StoreError::Corrupt(format!("a listed job is not a row of jobs: {row}")))?;
    let bad = |i: usize| {
        StoreError::Corrupt(format!("column `{}` holds unexpected value {}", JOB_SUMMARY_FIELDS[i], values[i]))
    };
    let opt_int = |i: usize| match &values[i] {
        serde_json::Value::Null => Ok(None),
        v => v.as_i64().map(Some).ok_or_else(|| bad(i)),
    };
    let int = |i: usize| opt_int(i)?.ok_or_else(|| bad(i));
    let opt_text = |i: usize| match &values[i] {
        serde_json::Value::Null => Ok(None),
        v => v.as_str().map(|t| Some(t.to_owned())).ok_or_else(|| bad(i)),
    };
    let text = |i: usize| opt_text(i)?.ok_or_else(|| bad(i));
    Ok(JobRecord {
        id: JobId(int(0)?),
        name: text(1)?,
        user_id: UserId(int(2)?),
        user_name: text(3)?,
        unix_account: opt_text(4)?,
        project_id: ProjectId(int(5)?),
        project_name: text(6)?,
        tenant_id: TenantId(int(7)?),
        site_id: SiteId(int(8)?),
        site_name: text(9)?,
        partition_id: PartitionId(int(10)?),
        partition_name: text(11)?,
        state: parse_text("state", text(12)?)?,
        reason: text(13)?,
        submit_time: int(14)?,
        start_time: opt_int(15)?,
        end_time: opt_int(16)?,
        time_limit_secs: int(17)?,
        nodes: int(18)?,
        ntasks: int(19)?,
        cpus_per_task: int(20)?,
        cpus_per_node: int(21)?,
        mem_per_node_mb: int(22)?,
        gpus_per_node: int(23)?,
        exclusive: int(24)? == 1,
        held: int(25)? == 1,
        workdir: text(26)?,
        stdout_path: text(27)?,
        stderr_path: text(28)?,
        stdin_path: text(29)?,
        open_mode: text(30)?,
        script: String::new(),
        args_json: "[]".into(),
        env_json: "{}".into(),
        request_json: "{}".into(),
        constraint_expr: text(31)?,
        comment: text(32)?,
        exit_code: opt_int(33)?,
        exit_signal: opt_int(34)?,
        node_list: text(35)?,
        alloc_json: text(36)?,
        array_job_id: opt_int(37)?.map(JobId),
        array_task_id: opt_int(38)?,
        array_throttle: opt_int(39)?,
        dependency: text(40)?,
        begin_time: opt_int(41)?,
        max_rss_kib: opt_int(42)?,
        total_cpu_ms: opt_int(43)?,
        restarts: int(44)?,
        preempted_at: opt_int(45)?,
        preempted_by: opt_int(46)?.map(JobId),
        preempt_deadline: opt_int(47)?,
        requeue: int(48)? == 1,
        forwarding_at: opt_int(49)?,
        remote_id: opt_int(50)?,
        route: text(51)?,
        qos: text(52)?,
    })
}

fn job_from_row(row: &AnyRow) -> Result<JobRecord, StoreError> {
    Ok(JobRecord {
        id: JobId(row.try_get("id")?),
        name: row.try_get("name")?,
        user_id: UserId(row.try_get("user_id")?),
        user_name: row.try_get("user_name")?,
        unix_account: row.try_get("unix_account")?,
        project_id: ProjectId(row.try_get("project_id")?),
        project_name: row.try_get("project_name")?,
        tenant_id: TenantId(row.try_get("tenant_id")?),
        site_id: SiteId(row.try_get("site_id")?),
        site_name: row.try_get("site_name")?,
        partition_id: PartitionId(row.try_get("partition_id")?),
        partition_name: row.try_get("partition_name")?,
        state: parse_text("state", row.try_get("state")?)?,
        reason: row.try_get("reason")?,
        submit_time: row.try_get("submit_time")?,
        start_time: row.try_get("start_time")?,
        end_time: row.try_get("end_time")?,
        time_limit_secs: row.try_get("time_limit_secs")?,
        nodes: row.try_get("nodes")?,
        ntasks: row.try_get("ntasks")?,
        cpus_per_task: row.try_get("cpus_per_task")?,
        cpus_per_node: row.try_get("cpus_per_node")?,
        mem_per_node_mb: row.try_get("mem_per_node_mb")?,
        gpus_per_node: row.try_get("gpus_per_node")?,
        exclusive: row.try_get::<i64, _>("exclusive")? == 1,
        held: row.try_get::<i64, _>("held")? == 1,
        workdir: row.try_get("workdir")?,
        stdout_path: row.try_get("stdout_path")?,
        stderr_path: row.try_get("stderr_path")?,
        stdin_path: row.try_get("stdin_path")?,
        open_mode: row.try_get("open_mode")?,
        script: row.try_get("script")?,
        args_json: row.try_get("args_json")?,
        env_json: row.try_get("env_json")?,
        request_json: row.try_get("request_json")?,
        constraint_expr: row.try_get("constraint_expr")?,
        comment: row.try_get("comment")?,
        exit_code: row.try_get("exit_code")?,
        exit_signal: row.try_get("exit_signal")?,
        node_list: row.try_get("node_list")?,
        alloc_json: row.try_get("alloc_json")?,
        array_job_id: row.try_get::<Option<i64>, _>("array_job_id")?.map(JobId),
        array_task_id: row.try_get("array_task_id")?,
        array_throttle: row.try_get("array_throttle")?,
        dependency: row.try_get("dependency")?,
        begin_time: row.try_get("begin_time")?,
        max_rss_kib: row.try_get("max_rss_kib")?,
        total_cpu_ms: row.try_get("total_cpu_ms")?,
        restarts: row.try_get("restarts")?,
        preempted_at: row.try_get("preempted_at")?,
        preempted_by: row.try_get::<Option<i64>, _>("preempted_by")?.map(JobId),
        preempt_deadline: row.try_get("preempt_deadline")?,
        requeue: row.try_get::<i64, _>("requeue")? == 1,
        forwarding_at: row.try_get("forwarding_at")?,
        remote_id: row.try_get("remote_id")?,
        route: row.try_get("route")?,
        qos: row.try_get("qos")?,
    })
}

/// A value to bind to a numbered placeholder.
enum Bind {
    Int(i64),
    Text(String),
}

/// `$N` for a new bound value.
fn mark(binds: &mut Vec<Bind>, value: Bind) -> String {
    binds.push(value);
    format!("${}", binds.len())
}

/// The conditions a filter puts on `jobs j` (` AND ...`) and their values,
/// or `None` when it selects nothing (an empty list names no job): one
/// translation for the listing and its count, so a page and its total agree.
fn job_conditions(filter: &JobFilter) -> Option<(String, Vec<Bind>)> {
    // Placeholders are numbered by hand: sqlx's QueryBuilder writes `?`
    // for the Any driver, which PostgreSQL does not accept.
    let mut sql = String::new();
    let mut binds: Vec<Bind> = Vec::new();
    fn in_list(sql: &mut String, binds: &mut Vec<Bind>, column: &str, values: Vec<Bind>) {
        let marks: Vec<String> = values.into_iter().map(|value| mark(binds, value)).collect();
        sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
    }
    let ints = |values: &[i64]| values.iter().map(|v| Bind::Int(*v)).collect::<Vec<_>>();
    // Every field, named: one added to the filter and not turned into
    // SQL here does not compile.
    // (Its limit, offset and order are the listing's.)
    let JobFilter { scope, users, projects, arrays, states, ids, named, limit: _, offset: _, newest_first: _ } = filter;
    // An empty list names nothing.
    let lists_empty = [
        users.as_ref().map(Vec::len),
        projects.as_ref().map(Vec::len),
        arrays.as_ref().map(Vec::len),
        states.as_ref().map(Vec::len),
        ids.as_ref().map(Vec::len),
        named.as_ref().map(Vec::len),
    ];
    if lists_empty.contains(&Some(0)) {
        return None;
    }
    let (condition, values) = scope.condition(binds.len());
    sql.push_str(&condition);
    binds.extend(values.into_iter().map(Bind::Int));
    if let Some(users) = users {
        in_list(&mut sql, &mut binds, "j.user_id", ints(&users.iter().map(|u| u.0).collect::<Vec<_>>()));
    }
    if let Some(projects) = projects {
        in_list(&mut sql, &mut binds, "j.project_id", ints(&projects.iter().map(|p| p.0).collect::<Vec<_>>()));
    }
    if let Some(ids) = ids {
        in_list(&mut sql, &mut binds, "j.id", ints(&ids.iter().map(|j| j.0).collect::<Vec<_>>()));
    }
    if let Some(arrays) = arrays {
        in_list(&mut sql, &mut binds, "j.array_job_id", ints(&arrays.iter().map(|j| j.0).collect::<Vec<_>>()));
    }
    if let Some(states) = states {
        in_list(&mut sql, &mut binds, "j.state", states.iter().map(|s| Bind::Text(s.as_str().to_owned())).collect());
    }
    if let Some(named) = named {
        // `123`: the job with that id, or the tasks of the array with
        // that id; `123_4`: that task of that array and nothing else.
        let mut any = Vec::new();
        for job in named {
            let job_id = i64::try_from(job.job_id).unwrap_or(i64::MAX);
            let id = mark(&mut binds, Bind::Int(job_id));
            match job.task_id {
                None => {
                    // Bound twice: a placeholder used twice is not portable.
                    let again = mark(&mut binds, Bind::Int(job_id));
                    any.push(format!("j.id = {id} OR j.array_job_id = {again}"));
                }
                Some(task) => {
                    let task = mark(&mut binds, Bind::Int(i64::from(task)));
                    any.push(format!("(j.array_job_id = {id} AND j.array_task_id = {task})"));
                }
            }
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    Some((sql, binds))
}

impl Store {
    /// Stores a job (and its audit row) and returns it. With an idempotency
    /// key already used by this user, returns the job stored then instead.
    pub async fn submit_job(&self, new: &NewJob, audit: &AuditEntry) -> Result<(JobRecord, bool), StoreError> {
        let _changes = self.pending_changes();
        if let Some(key) = &new.idempotency_key
            && let Some(existing) = self.job_by_idempotency_key(key).await?
        {
            return Ok((existing, false));
        }
        let mut tx = self.begin().await?;
        let tasks: Vec<Option<u32>> = match &new.array {
            Some((ids, _)) => ids.iter().map(|t| Some(*t)).collect(),
            None => vec![None],
        };
        let count = i64::try_from(tasks.len()).unwrap_or(i64::MAX);
        // Check-and-hold is atomic: the funding's row lock is held from this
        // check to the commit that places the holds (a refused job uses no id).
        if let Some(billing) = &new.billing
            && let Err(err) = crate::ledger::check_holds(&mut tx, billing, count).await
        {
            tx.rollback().await?;
            return Err(err);
        }
        // One counter update for all the tasks: ids first..first+count.
        let row =
            sqlx::query("UPDATE counters SET next_value = next_value + $1 WHERE name = 'job' RETURNING next_value")
                .bind(count)
                .fetch_one(&mut *tx)
                .await?;
        let first: i64 = row.try_get::<i64, _>("next_value")? - count;

        let id = first;
        // The columns every task shares are $1..$36; each row adds its id,
        // idempotency key and task id.
        let shared = [
            Param::Text(Some(&new.name)),
            Param::Int(Some(new.user_id.0)),
            Param::Int(Some(new.project_id.0)),
            Param::Int(Some(new.tenant_id.0)),
            Param::Int(Some(new.site_id.0)),
            Param::Int(Some(new.partition_id.0)),
            Param::Text(Some(JobState::Pending.as_str())),
            // What squeue says at once, as Slurm does, rather than after the
            // control loop's next pass: held, waiting for its begin time, or
            // nothing yet.
            Param::Text(Some(if new.held {
                "JobHeldUser"
            } else if new.begin_time.is_some_and(|at| at > new.submit_time) {
                "BeginTime"
            } else {
                "None"
            })),
            Param::Int(Some(new.submit_time)),
            Param::Int(Some(new.time_limit_secs)),
            Param::Int(Some(new.nodes)),
            Param::Int(Some(new.ntasks)),
            Param::Int(Some(new.cpus_per_task)),
            Param::Int(Some(new.cpus_per_node)),
            Param::Int(Some(new.mem_per_node_mb)),
            Param::Int(Some(new.gpus_per_node)),
            Param::Int(Some(i64::from(new.exclusive))),
            Param::Int(Some(i64::from(new.held))),
            Param::Text(Some(&new.workdir)),
            Param::Text(Some(&new.stdout_path)),
            Param::Text(Some(&new.stderr_path)),
            Param::Text(Some(&new.stdin_path)),
            Param::Text(Some(&new.open_mode)),
            Param::Text(Some(&new.script)),
            Param::Text(Some(&new.args_json)),
            Param::Text(Some(&new.env_json)),
            Param::Text(Some(&new.request_json)),
            Param::Text(Some(&new.comment)),
            Param::Int(new.array.as_ref().map(|_| first)),
            Param::Int(new.array.as_ref().and_then(|(_, throttle)| throttle.map(i64::from))),
            Param::Text(Some(&new.dependency)),
            Param::Int(new.begin_time),
            Param::Text(Some(&new.constraint_expr)),
            Param::Int(Some(i64::from(new.requeue))),
            Param::Text(Some(&new.route)),
            Param::Text(Some(&new.qos)),
        ];
        let rows: Vec<Vec<Param>> = tasks
            .iter()
            .enumerate()
            .map(|(index, task)| {
                vec![
                    Param::Int(Some(first + index as i64)),
                    // The key marks the submission, so only its first row carries it.
                    Param::Text(if index == 0 { new.idempotency_key.as_deref() } else { None }),
                    Param::Int(task.map(i64::from)),
                ]
            })
            .collect();
        let inserted = insert_rows(
            &mut tx,
            "INSERT INTO jobs (id, name, user_id, project_id, tenant_id, site_id, partition_id, state, reason, submit_time,
                time_limit_secs, nodes, ntasks, cpus_per_task, cpus_per_node, mem_per_node_mb, gpus_per_node, exclusive, held,
                workdir, stdout_path, stderr_path, stdin_path, open_mode, script, args_json, env_json, request_json, comment,
                node_list, alloc_json, idempotency_key, array_job_id, array_task_id, array_throttle, dependency, begin_time,
                constraint_expr, requeue, route, qos)
             VALUES {rows}
             ON CONFLICT (idempotency_key) DO NOTHING",
            &shared,
            &rows,
            |p| {
                format!(
                    "({}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
                        $23, $24, $25, $26, $27, $28, '', '{{}}', {}, $29, {}, $30, $31, $32, $33, $34, $35, $36)",
                    p[0], p[1], p[2]
                )
            },
        )
        .await?;
        if inserted < u64::try_from(tasks.len()).unwrap_or(u64::MAX) {
            // A concurrent submit with the same key won the race: its first
            // row is the one that conflicted.
            tx.rollback().await?;
            let key = new.idempotency_key.as_deref().unwrap_or_default();
            let existing = self
                .job_by_idempotency_key(key)
                .await?
                .ok_or_else(|| StoreError::Corrupt("idempotency key without job".into()))?;
            return Ok((existing, false));
        }
        if let Some(billing) = &new.billing {
            crate::ledger::place_new_job_holds(&mut tx, JobId(first), count, new.tenant_id, billing, new.submit_time)
                .await?;
        }
        append_audit(&mut tx, &AuditEntry { target: id.to_string(), ..audit.clone() }).await?;
        tx.commit().await?;
        Ok((self.job(JobId(id)).await?, true))
    }

    async fn job_by_idempotency_key(&self, key: &str) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{JOB_COLUMNS} WHERE j.idempotency_key = $1")))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    pub async fn job(&self, id: JobId) -> Result<JobRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{JOB_COLUMNS} WHERE j.id = $1")))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "job", key: id.to_string() })?;
        job_from_row(&row)
    }

    /// Core-milliseconds of jobs that ended at or after `since`, per
    /// tenant, project, user and hour of their end: the scheduler's
    /// fair-share input, decayed by the caller. Cores are nodes x cores per
    /// node as requested.
    pub async fn usage_by_hour(&self, since: i64) -> Result<Vec<UsageByHour>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant_id, project_id, user_id, end_time / 3600000 AS hour,
                CAST(SUM(nodes * cpus_per_node * (end_time - start_time)) AS BIGINT) AS core_ms
             FROM jobs WHERE end_time >= $1 AND start_time IS NOT NULL
             GROUP BY tenant_id, project_id, user_id, end_time / 3600000
             ORDER BY tenant_id, project_id, user_id, hour",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageByHour {
                    tenant_id: TenantId(row.try_get("tenant_id")?),
                    project_id: ProjectId(row.try_get("project_id")?),
                    user_id: UserId(row.try_get("user_id")?),
                    hour: row.try_get("hour")?,
                    core_ms: row.try_get("core_ms")?,
                })
            })
            .collect()
    }

    /// Jobs matching `filter`, oldest first, without their script,
    /// arguments, environment and request (`Store::job` has those).
    /// How many jobs `filter` selects, leaving out its limit and offset
    /// (the length of the whole list a page is taken from).
    pub async fn count_jobs(&self, filter: &JobFilter) -> Result<i64, StoreError> {
        let Some((conditions, binds)) = job_conditions(filter) else { return Ok(0) };
        let sql = format!("SELECT COUNT(*) FROM jobs j WHERE 1 = 1{conditions}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
            };
        }
        Ok(query.fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// How many jobs `filter` selects in each (site, partition, state) that
    /// has any, counted by the database (`squeue`'s totals per partition);
    /// the filter's limit and offset are left out, as [`Store::count_jobs`]
    /// leaves them.
    pub async fn count_jobs_by_partition(&self, filter: &JobFilter) -> Result<Vec<PartitionCount>, StoreError> {
        let Some((conditions, binds)) = job_conditions(filter) else { return Ok(Vec::new()) };
        let sql = format!(
            // Counted from the listing index alone, then named.
            "SELECT c.site_id, pa.name AS partition_name, c.state, c.jobs
             FROM (SELECT j.site_id, j.partition_id, j.state, COUNT(*) AS jobs FROM jobs j WHERE 1 = 1{conditions}
                   GROUP BY j.site_id, j.partition_id, j.state) c
             JOIN partitions pa ON pa.id = c.partition_id ORDER BY c.site_id, pa.name, c.state"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(PartitionCount {
                    site_id: SiteId(row.try_get("site_id")?),
                    partition: row.try_get("partition_name")?,
                    state: parse_text("state", row.try_get("state")?)?,
                    jobs: row.try_get("jobs")?,
                })
            })
            .collect()
    }

    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, StoreError> {
        let Some((conditions, mut binds)) = job_conditions(filter) else { return Ok(Vec::new()) };
        let order = if filter.newest_first { " ORDER BY j.id DESC" } else { " ORDER BY j.id" };
        let sql = if filter.limit.is_none() && filter.offset.is_none() {
            format!("SELECT * FROM jobs j WHERE 1 = 1{conditions}{order}")
        } else {
            // A page: its ids first, then only its rows. Sorting and skipping
            // whole rows (scripts, environments) cost 10x more at 10,000 jobs
            // (the last page of 50: 116 ms against 12 ms in SQLite).
            let mut page = format!("SELECT j.id FROM jobs j WHERE 1 = 1{conditions}{order}");
            // SQLite takes an OFFSET only after a LIMIT: the largest stands
            // for none.
            let limit = mark(&mut binds, Bind::Int(filter.limit.unwrap_or(i64::MAX)));
            page.push_str(&format!(" LIMIT {limit}"));
            if let Some(offset) = filter.offset {
                let offset = mark(&mut binds, Bind::Int(offset));
                page.push_str(&format!(" OFFSET {offset}"));
            }
            format!("SELECT * FROM jobs j WHERE j.id IN ({page})")
        };
        let fields = JOB_SUMMARY_FIELDS.join(", ");
        let tables = "JOIN users u ON u.id = j.user_id JOIN projects p ON p.id = j.project_id
            JOIN sites s ON s.id = j.site_id JOIN partitions pa ON pa.id = j.partition_id";
        let sql = match self.kind {
            DbKind::Sqlite => format!("SELECT json_group_array(json_array({fields})) FROM ({sql}) j {tables}"),
            DbKind::Postgres => {
                format!("SELECT COALESCE(json_agg(json_build_array({fields}))::text, '[]') FROM ({sql}) j {tables}")
            }
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
            };
        }
        // The database builds one JSON document of all the rows: sqlx hands
        // rows over one by one, at about 25 us a row of this width, where
        // SQLite writes the whole list in about 5 us a row (10,000 jobs:
        // 400 ms against 55 ms).
        let text: String = query.fetch_one(&self.pool).await?.try_get(0)?;
        let rows: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("the job listing is not JSON: {e}")))?;
        let mut jobs = rows
            .as_array()
            .ok_or_else(|| StoreError::Corrupt("the job listing is not a list".into()))?
            .iter()
            .map(job_from_json)
            .collect::<Result<Vec<_>, _>>()?;
        // An aggregate's order is not promised by SQL.
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// PENDING -> RUNNING with its allocation. Returns false if the job was
    /// no longer pending (cancelled meanwhile), and changes nothing then.
    pub async fn start_job(&self, id: JobId, now: i64, node_list: &str, alloc_json: &str) -> Result<bool, StoreError> {
        let _changes = self.pending_changes();
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, reason = 'None', start_time = $2, node_list = $3, alloc_json = $4
             WHERE id = $5 AND state = $6 AND held = 0",
        )
        .bind(JobState::Running.as_str())
        .bind(now)
        .bind(node_list)
        .bind(alloc_json)
        .bind(id.0)
        .bind(JobState::Pending.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the end of a job that is `from` (RUNNING, or PENDING for a
    /// cancel) and settles its charge in the same transaction, so a job is
    /// charged exactly once. Returns false if it was not in that state: a
    /// repeated or late event changes nothing.
    pub async fn end_job(
        &self,
        id: JobId,
        from: JobState,
        end: &JobEnd,
        audit: Option<&AuditEntry>,
    ) -> Result<bool, StoreError> {
        // Only a cancel ends a pending job; the ends of running jobs do not change the queue.
        let _changes = (from == JobState::Pending).then(|| self.pending_changes());
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, reason = $2, end_time = $3, exit_code = $4, exit_signal = $5,
                start_time = COALESCE($10, start_time, $3), max_rss_kib = $8, total_cpu_ms = $9
             WHERE id = $6 AND state = $7",
        )
        .bind(end.state.as_str())
        .bind(&end.reason)
        .bind(end.time)
        .bind(end.exit_code)
        .bind(end.exit_signal)
        .bind(id.0)
        .bind(from.as_str())
        .bind(end.max_rss_kib)
        .bind(end.total_cpu_ms)
        .bind(end.start)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::ledger::settle_job_in(&mut tx, id, &end.nodes, end.time).await?;
        if let Some(audit) = audit {
            append_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// RUNNING -> PENDING for a job whose launch never happened (the server
    /// stopped between recording the start and starting the process).
    pub async fn requeue_job(&self, id: JobId) -> Result<bool, StoreError> {
        let _changes = self.pending_changes();
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, reason = 'None', start_time = NULL, node_list = '', alloc_json = '{}'
             WHERE id = $2 AND state = $3",
        )
        .bind(JobState::Pending.as_str())
        .bind(id.0)
        .bind(JobState::Running.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a running guest job as being preempted for the owner's job
    /// `by`: it is signalled now and killed at `deadline`. False if it is
    /// no longer running or is being preempted already.
    pub async fn preempt_job(&self, id: JobId, by: JobId, at: i64, deadline: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET preempted_at = $1, preempted_by = $2, preempt_deadline = $3
             WHERE id = $4 AND state = $5 AND preempted_at IS NULL",
        )
        .bind(at)
        .bind(by.0)
        .bind(deadline)
        .bind(id.0)
        .bind(JobState::Running.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// PREEMPTED -> PENDING for a preempted guest whose partition requeues:
    /// its run was settled when its end was recorded; the next run is held
    /// for here, in the same transaction, from the same funding at the same
    /// price. If the funding can no longer cover it, the job stays
    /// PREEMPTED with the refusal as its reason and `Ok(false)` is returned.
    pub async fn requeue_preempted(&self, id: JobId, at: i64) -> Result<bool, StoreError> {
        let _changes = self.pending_changes();
        let mut tx = self.begin().await?;
        let row = sqlx::query("SELECT restarts, tenant_id FROM jobs WHERE id = $1 AND state = $2")
            .bind(id.0)
            .bind(JobState::Preempted.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let run = row.try_get::<i64, _>("restarts")? + 1;
        let tenant = TenantId(row.try_get("tenant_id")?);
        if let Some(billing) = crate::ledger::last_run_billing(&mut tx, id).await? {
            if let Err(err) = crate::ledger::check_holds(&mut tx, &billing, 1).await {
                tx.rollback().await?;
                if !matches!(err, StoreError::Ledger(_)) {
                    return Err(err);
                }
                sqlx::query("UPDATE jobs SET reason = $1 WHERE id = $2 AND state = $3")
                    .bind(format!("not requeued: {err}"))
                    .bind(id.0)
                    .bind(JobState::Preempted.as_str())
                    .execute(&self.pool)
                    .await?;
                return Ok(false);
            }
            crate::ledger::place_job_hold(&mut tx, id, run, tenant, &billing, at).await?;
        }
        sqlx::query(
            "UPDATE jobs SET state = $1, reason = 'None', start_time = NULL, end_time = NULL, node_list = '',
                alloc_json = '{}', exit_code = NULL, exit_signal = NULL, max_rss_kib = NULL, total_cpu_ms = NULL,
                restarts = $2, preempted_at = NULL, preempted_by = NULL, preempt_deadline = NULL
             WHERE id = $3 AND state = $4",
        )
        .bind(JobState::Pending.as_str())
        .bind(run)
        .bind(id.0)
        .bind(JobState::Preempted.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Holds or releases a pending job. Returns false if it is not pending.
    pub async fn set_job_held(&self, id: JobId, held: bool, audit: &AuditEntry) -> Result<bool, StoreError> {
        let _changes = self.pending_changes();
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE jobs SET held = $1, reason = $2 WHERE id = $3 AND state = $4")
            .bind(i64::from(held))
            .bind(if held { "JobHeldUser" } else { "None" })
            .bind(id.0)
            .bind(JobState::Pending.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Claims a pending job for forwarding to its Slurm site: written
    /// before the submission is sent. False (and nothing changed) if it is
    /// no longer pending, is held, or was claimed already.
    pub async fn mark_forwarding(&self, id: JobId, at: i64) -> Result<bool, StoreError> {
        let _changes = self.pending_changes();
        let done = sqlx::query(
            "UPDATE jobs SET forwarding_at = $1 WHERE id = $2 AND state = $3 AND held = 0 AND forwarding_at IS NULL",
        )
        .bind(at)
        .bind(id.0)
        .bind(JobState::Pending.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records Slurm's job id for a job Slurm accepted, with Slurm's first
    /// pending reason. False if it was recorded already or the job is no
    /// longer pending (it ended meanwhile: the caller cancels it there).
    pub async fn set_remote_id(&self, id: JobId, remote_id: i64, reason: &str) -> Result<bool, StoreError> {
        let _changes = self.pending_changes();
        let done = sqlx::query(
            "UPDATE jobs SET remote_id = $1, reason = $2 WHERE id = $3 AND remote_id IS NULL AND state = $4",
        )
        .bind(remote_id)
        .bind(reason)
        .bind(id.0)
        .bind(JobState::Pending.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives back a claim whose submission Slurm refused or never got (the
    /// site was down): the job is sent again on a later pass.
    pub async fn unmark_forwarding(&self, id: JobId, reason: &str) -> Result<(), StoreError> {
        let _changes = self.pending_changes();
        sqlx::query("UPDATE jobs SET forwarding_at = NULL, reason = $1 WHERE id = $2 AND remote_id IS NULL")
            .bind(reason)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets the pending reasons the scheduler gave, in one transaction.
    pub async fn set_pending_reasons(&self, reasons: &[(JobId, &str)]) -> Result<(), StoreError> {
        if reasons.is_empty() {
            return Ok(());
        }
        let _changes = self.pending_changes();
        let mut tx = self.begin().await?;
        for (id, reason) in reasons {
            sqlx::query("UPDATE jobs SET reason = $1 WHERE id = $2 AND state = $3 AND held = 0 AND reason <> $1")
                .bind(*reason)
                .bind(id.0)
                .bind(JobState::Pending.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobEnd {
    pub state: JobState,
    pub reason: String,
    pub time: i64,
    pub exit_code: Option<i64>,
    pub exit_signal: Option<i64>,
    pub max_rss_kib: Option<i64>,
    pub total_cpu_ms: Option<i64>,
    /// The nodes it held and their owners, for the charge and the owners'
    /// shares (empty for a job that never started).
    pub nodes: Vec<lushan_ledger::NodeShare>,
    /// When it started, where the site's accounting says so (Slurm);
    /// `None` keeps the start Lushan recorded.
    pub start: Option<i64>,
}
