//! slurmrestd's API v0.0.38 (Slurm 22.05): the wire shapes Lushan reads,
//! and nothing more. Every field is optional or defaulted, as slurmrestd
//! leaves fields out or sends `null` freely; a newer API version is a new
//! sibling module that fills the same [`super`] types.

use super::accounts::{AccountChange, AssociationLimits, ClusterAccount, ClusterAccounts, LimitField};
use super::{Inventory, JobAccounting, RemoteJob, RemoteNode, RemotePartition, SubmitSpec};
use serde::Deserialize;
use serde_json::{Value, json};

pub const SLURM: &str = "/slurm/v0.0.38";
pub const SLURMDB: &str = "/slurmdb/v0.0.38";

#[derive(Debug, Default, Deserialize)]
pub struct Error {
    /// Some endpoints say `errno`.
    #[serde(default, alias = "errno")]
    pub error_number: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl Error {
    pub fn text(&self) -> String {
        match (&self.description, &self.error) {
            (Some(d), Some(e)) if !d.is_empty() && d != e => format!("{e}: {d}"),
            (Some(d), _) if !d.is_empty() => d.clone(),
            (_, Some(e)) => e.clone(),
            _ => "unspecified error".into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Meta {
    #[serde(rename = "Slurm", default)]
    pub slurm: Option<MetaSlurm>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MetaSlurm {
    #[serde(default)]
    pub release: Option<String>,
}

/// What every reply carries.
#[derive(Debug, Default, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub meta: Meta,
    #[serde(default)]
    pub errors: Vec<Error>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Pings {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub pings: Vec<Ping>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Ping {
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub ping: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Nodes {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub nodes: Vec<Node>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Node {
    pub name: String,
    #[serde(default)]
    pub cpus: i64,
    #[serde(default)]
    pub real_memory: i64,
    #[serde(default)]
    pub gres: String,
    #[serde(default)]
    pub features: String,
    #[serde(default)]
    pub state: String,
    /// CPUs no job holds now.
    #[serde(default)]
    pub idle_cpus: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Partitions {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub partitions: Vec<Partition>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Partition {
    pub name: String,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub nodes: String,
    /// Minutes; -1 (or absent) is unlimited.
    #[serde(default)]
    pub max_time_limit: Option<i64>,
    #[serde(default)]
    pub state: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Submitted {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub job_id: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Jobs {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub jobs: Vec<Job>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Job {
    pub job_id: u64,
    #[serde(default)]
    pub job_state: String,
    #[serde(default)]
    pub state_reason: String,
    #[serde(default)]
    pub nodes: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub start_time: Option<i64>,
    #[serde(default)]
    pub end_time: Option<i64>,
    #[serde(default)]
    pub cpus: Option<i64>,
    #[serde(default)]
    pub partition: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbJobs {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub jobs: Vec<DbJob>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbJob {
    pub job_id: u64,
    #[serde(default)]
    pub nodes: String,
    #[serde(default)]
    pub state: DbState,
    #[serde(default)]
    pub time: DbTime,
    #[serde(default)]
    pub exit_code: DbExit,
    #[serde(default)]
    pub tres: DbTres,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbState {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbTime {
    #[serde(default)]
    pub elapsed: i64,
    #[serde(default)]
    pub start: i64,
    #[serde(default)]
    pub end: i64,
    #[serde(default)]
    pub total: DbCpuTime,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbCpuTime {
    #[serde(default)]
    pub seconds: i64,
    #[serde(default)]
    pub microseconds: i64,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbExit {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub return_code: Option<i64>,
    #[serde(default)]
    pub signal: Option<DbSignal>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbSignal {
    #[serde(default)]
    pub signal_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbTres {
    #[serde(default)]
    pub allocated: Vec<DbTresItem>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DbTresItem {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub count: Option<i64>,
}

/// The body of `POST /slurm/v0.0.38/job/submit`.
#[derive(Debug, Default, Deserialize)]
pub struct Clusters {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub clusters: Vec<Cluster>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Cluster {
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Accounts {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub accounts: Vec<Account>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Account {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Associations {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub associations: Vec<Association>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Association {
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub partition: Option<String>,
    #[serde(default)]
    pub parent_account: Option<String>,
    #[serde(default)]
    pub max: AssociationMax,
}

/// An association's limits as v0.0.38 writes them: `jobs.per.count` is
/// GrpJobs, `jobs.per.submitted` GrpSubmitJobs, `jobs.active` MaxJobs,
/// `jobs.total` MaxSubmitJobs, `tres.total` GrpTRES.
#[derive(Debug, Default, Deserialize)]
pub struct AssociationMax {
    #[serde(default)]
    pub jobs: MaxJobs,
    #[serde(default)]
    pub tres: MaxTres,
}

#[derive(Debug, Default, Deserialize)]
pub struct MaxJobs {
    #[serde(default)]
    pub per: MaxJobsPer,
    #[serde(default)]
    pub active: Option<i64>,
    #[serde(default)]
    pub total: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MaxJobsPer {
    #[serde(default)]
    pub count: Option<i64>,
    #[serde(default)]
    pub submitted: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MaxTres {
    #[serde(default)]
    pub total: Vec<DbTresItem>,
}

impl AssociationMax {
    /// The limits Lushan sets: the Grp job counts on an account's own
    /// association, the Max ones on a user's.
    fn limits(&self, user: bool) -> AssociationLimits {
        let tres = |kind: &str, name: Option<&str>| {
            self.tres.total.iter().find(|t| t.kind == kind && t.name.as_deref() == name).and_then(|t| t.count)
        };
        let (jobs, submitted) =
            if user { (self.jobs.active, self.jobs.total) } else { (self.jobs.per.count, self.jobs.per.submitted) };
        AssociationLimits { jobs, submitted, cpus: tres("cpu", None), gpus: tres("gres", Some("gpu")) }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Users {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default)]
    pub users: Vec<User>,
}

#[derive(Debug, Default, Deserialize)]
pub struct User {
    pub name: String,
}

/// A cluster's accounts from slurmdbd's three lists: an account's
/// user-less association on the cluster gives its parent (`""` for root),
/// its user associations its users.
pub fn cluster_accounts(accounts: Accounts, associations: Associations, users: Users) -> ClusterAccounts {
    let mut out = ClusterAccounts {
        accounts: accounts
            .accounts
            .into_iter()
            .map(|a| {
                (a.name, ClusterAccount { description: a.description.unwrap_or_default(), ..ClusterAccount::default() })
            })
            .collect(),
        users: users.users.into_iter().map(|u| u.name).collect(),
    };
    for association in associations.associations {
        // Per-partition associations are the cluster's own business.
        if association.partition.as_deref().is_some_and(|p| !p.is_empty()) {
            continue;
        }
        let Some(account) = association.account.and_then(|a| out.accounts.get_mut(&a).map(|_| a)) else { continue };
        let entry = out.accounts.entry(account).or_default();
        match association.user.filter(|u| !u.is_empty()) {
            Some(user) => {
                entry.users.insert(user, association.max.limits(true));
            }
            None => {
                entry.parent = Some(association.parent_account.unwrap_or_default());
                entry.limits = association.max.limits(false);
            }
        }
    }
    out
}

/// What v0.0.38 cannot do among `changes`, in words that say how to do it
/// by hand. Slurm 22.05's slurmrestd cannot change an account's own
/// association: a POST without a user is refused ("Missing required field
/// 'user'") or, with an empty one, taken for an addition that adds nothing;
/// without a parent it brings slurmrestd down.
pub fn unsupported(cluster: &str, changes: &[AccountChange]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|change| match change {
            AccountChange::SetLimits { account, user: None, .. } => {
                // The command the `--cli` transport would run for it.
                let args = super::cli::sacctmgr_commands(cluster, std::slice::from_ref(change)).concat();
                Some(format!(
                    "slurmrestd v0.0.38 cannot change the limits of account {account} itself; on the cluster, run: sacctmgr {}",
                    args.join(" ")
                ))
            }
            _ => None,
        })
        .collect()
}

/// The request that makes a group of changes of one kind: (method, path,
/// body). What [`unsupported`] names is left out.
pub fn account_requests(cluster: &str, changes: &[AccountChange]) -> Vec<(reqwest::Method, String, Option<Value>)> {
    let mut out = Vec::new();
    let mut accounts = Vec::new();
    let mut parents = Vec::new();
    let mut users = Vec::new();
    let mut associations = Vec::new();
    let mut limits = Vec::new();
    let query = |s: &str| s.replace('%', "%25").replace('&', "%26").replace('=', "%3D").replace(' ', "%20");
    for change in changes {
        match change {
            AccountChange::AddAccount { account, description, organization } => {
                accounts.push(json!({"name": account, "description": description, "organization": organization}));
            }
            AccountChange::AddToCluster { account, parent }
            | AccountChange::MoveAccount { account, to: parent, .. } => {
                parents.push(json!({"account": account, "cluster": cluster, "parent_account": parent}));
            }
            AccountChange::AddUser { user, default_account } => {
                users.push(json!({"name": user, "default": {"account": default_account}}));
            }
            AccountChange::AddAssociation { account, user } => {
                associations.push(json!({"account": account, "cluster": cluster, "user": user}));
            }
            AccountChange::RemoveAssociation { account, user } => out.push((
                reqwest::Method::DELETE,
                format!(
                    "{SLURMDB}/association?cluster={}&account={}&user={}",
                    query(cluster),
                    query(account),
                    query(user)
                ),
                None,
            )),
            AccountChange::RemoveFromCluster { account } => out.push((
                reqwest::Method::DELETE,
                format!("{SLURMDB}/associations?cluster={}&account={}", query(cluster), query(account)),
                None,
            )),
            AccountChange::SetLimits { account, user: Some(user), from, to } => {
                let mut jobs = serde_json::Map::new();
                let mut tres = Vec::new();
                for (field, value) in to.changed_from(from, true) {
                    // -1 takes a limit away.
                    let value = value.unwrap_or(-1);
                    match field {
                        LimitField::MaxJobs => {
                            jobs.insert("active".into(), json!(value));
                        }
                        LimitField::MaxSubmitJobs => {
                            jobs.insert("total".into(), json!(value));
                        }
                        LimitField::GrpTresCpu => tres.push(json!({"type": "cpu", "count": value})),
                        LimitField::GrpTresGpu => tres.push(json!({"type": "gres", "name": "gpu", "count": value})),
                        LimitField::GrpJobs | LimitField::GrpSubmitJobs => {}
                    }
                }
                limits.push(json!({
                    "account": account,
                    "cluster": cluster,
                    "user": user,
                    "max": {"jobs": jobs, "tres": {"total": tres}},
                }));
            }
            AccountChange::SetLimits { user: None, .. } => {}
        }
    }
    // Accounts before their associations, users before theirs.
    let mut posts = Vec::new();
    if !accounts.is_empty() {
        posts.push((reqwest::Method::POST, format!("{SLURMDB}/accounts"), Some(json!({"accounts": accounts}))));
    }
    if !parents.is_empty() {
        posts.push((reqwest::Method::POST, format!("{SLURMDB}/associations"), Some(json!({"associations": parents}))));
    }
    if !users.is_empty() {
        posts.push((reqwest::Method::POST, format!("{SLURMDB}/users"), Some(json!({"users": users}))));
    }
    if !associations.is_empty() {
        posts.push((
            reqwest::Method::POST,
            format!("{SLURMDB}/associations"),
            Some(json!({"associations": associations})),
        ));
    }
    if !limits.is_empty() {
        posts.push((reqwest::Method::POST, format!("{SLURMDB}/associations"), Some(json!({"associations": limits}))));
    }
    posts.extend(out);
    posts
}

pub fn submit_body(spec: &SubmitSpec) -> Value {
    let mut job = json!({
        "name": spec.name,
        "comment": spec.comment,
        "partition": spec.partition,
        "nodes": [spec.nodes, spec.nodes],
        "tasks": spec.ntasks,
        "cpus_per_task": spec.cpus_per_task,
        "memory_per_node": spec.memory_per_node_mb,
        "current_working_directory": spec.workdir,
        "standard_output": spec.stdout,
        "standard_error": spec.stderr,
        "standard_input": spec.stdin,
        // slurmrestd refuses a submission without it (SLURM.md, gotcha 6).
        "environment": spec.env.iter().cloned().collect::<serde_json::Map<String, Value>>(),
        "argv": spec.args,
    });
    if spec.time_limit_mins > 0 {
        job["time_limit"] = json!(spec.time_limit_mins);
    }
    if spec.exclusive {
        job["exclusive"] = json!("true");
    }
    if spec.gpus_per_node > 0 {
        job["gpus_per_node"] = json!(format!("gpu:{}", spec.gpus_per_node));
    }
    if !spec.constraint.is_empty() {
        job["constraints"] = json!(spec.constraint);
    }
    if !spec.account.is_empty() {
        job["account"] = json!(spec.account);
    }
    if spec.append {
        job["open_mode"] = json!("append");
    }
    json!({ "script": spec.script, "job": job })
}

pub fn inventory(nodes: Nodes, partitions: Partitions) -> Inventory {
    Inventory {
        nodes: nodes
            .nodes
            .into_iter()
            .map(|n| {
                let (gpus, gpu_type) = super::gpus_of(&n.gres);
                RemoteNode {
                    name: n.name,
                    cpus: n.cpus,
                    memory_mb: n.real_memory,
                    gpus,
                    gpu_type,
                    features: n.features.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
                    idle_cpus: n.idle_cpus.unwrap_or(n.cpus),
                    state: n.state,
                }
            })
            .collect(),
        partitions: partitions
            .partitions
            .into_iter()
            .map(|p| RemotePartition {
                default: p.flags.iter().any(|f| f == "default"),
                nodes: super::expand_hostlist(&p.nodes),
                max_time_secs: p.max_time_limit.filter(|m| *m >= 0).map(|m| m.saturating_mul(60)),
                up: p.state.eq_ignore_ascii_case("up"),
                name: p.name,
            })
            .collect(),
    }
}

pub fn remote_job(job: Job) -> RemoteJob {
    RemoteJob {
        id: job.job_id,
        state: job.job_state,
        reason: job.state_reason,
        nodes: super::expand_hostlist(&job.nodes),
        comment: job.comment,
        start_secs: job.start_time.filter(|t| *t > 0),
        end_secs: job.end_time.filter(|t| *t > 0),
        // A wait status: the code in the high byte, the signal in the low bits.
        exit: job.exit_code.map(|status| ((status >> 8) & 0xff, status & 0x7f)),
        cpus: job.cpus.unwrap_or(0),
        partition: job.partition,
    }
}

pub fn accounting(job: DbJob) -> JobAccounting {
    let tres = |kind: &str, name: Option<&str>| {
        job.tres
            .allocated
            .iter()
            .filter(|t| t.kind == kind && (name.is_none() || t.name.as_deref() == name))
            .filter_map(|t| t.count)
            .sum::<i64>()
    };
    JobAccounting {
        id: job.job_id,
        state: job.state.current.clone(),
        reason: job.state.reason.clone(),
        nodes: super::expand_hostlist(&job.nodes),
        start_secs: job.time.start,
        end_secs: job.time.end,
        elapsed_secs: job.time.elapsed,
        cpus: tres("cpu", None),
        memory_mb: tres("mem", None),
        gpus: tres("gres", Some("gpu")),
        total_cpu_ms: job.time.total.seconds.saturating_mul(1000) + job.time.total.microseconds / 1000,
        exit_code: job.exit_code.return_code.unwrap_or(0),
        signal: job.exit_code.signal.and_then(|s| s.signal_id).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gres_strings_count_gpus_of_every_type() {
        assert_eq!(crate::slurm::gpus_of(""), (0, None));
        assert_eq!(crate::slurm::gpus_of("(null)"), (0, None));
        assert_eq!(crate::slurm::gpus_of("gpu:4"), (4, None));
        assert_eq!(crate::slurm::gpus_of("gpu:a100:4(S:0-1),gpu:t4:2"), (6, Some("a100".into())));
        assert_eq!(crate::slurm::gpus_of("mps:100,gpu:v100:2"), (2, Some("v100".into())));
    }

    #[test]
    fn slurmctld_exit_codes_are_wait_statuses() {
        let exit = |status| remote_job(Job { exit_code: Some(status), ..Job::default() }).exit;
        assert_eq!(exit(0), Some((0, 0)));
        assert_eq!(exit(768), Some((3, 0)));
        assert_eq!(exit(9), Some((0, 9)));
        assert_eq!(remote_job(Job::default()).exit, None);
    }

    #[test]
    fn association_limits_are_read_where_v0_0_38_writes_them_and_a_user_s_are_posted_back() {
        let listed: Associations = serde_json::from_value(json!({"associations": [
            {"account": "p", "parent_account": "root", "max": {"jobs": {"per": {"count": 4, "submitted": 9}},
                "tres": {"total": [{"type": "cpu", "count": 64}, {"type": "gres", "name": "gpu", "count": 2}]}}},
            {"account": "p", "user": "bob", "max": {"jobs": {"per": {"count": null}, "active": 3, "total": 7},
                "tres": {"total": [{"type": "gres", "name": "gpu", "count": 1}]}}},
        ]}))
        .unwrap();
        let accounts =
            Accounts { accounts: vec![Account { name: "p".into(), description: None }], ..Accounts::default() };
        let got = cluster_accounts(accounts, listed, Users::default());
        let none = AssociationLimits::default();
        assert_eq!(
            got.accounts["p"].limits,
            AssociationLimits { jobs: Some(4), submitted: Some(9), cpus: Some(64), gpus: Some(2) }
        );
        assert_eq!(
            got.accounts["p"].users["bob"],
            AssociationLimits { jobs: Some(3), submitted: Some(7), gpus: Some(1), ..none }
        );

        let changes = [
            AccountChange::SetLimits {
                account: "p".into(),
                user: Some("bob".into()),
                from: got.accounts["p"].users["bob"],
                to: AssociationLimits { jobs: Some(2), submitted: Some(7), cpus: Some(8), gpus: None },
            },
            AccountChange::SetLimits {
                account: "p".into(),
                user: None,
                from: got.accounts["p"].limits,
                to: AssociationLimits { jobs: Some(5), ..got.accounts["p"].limits },
            },
        ];
        let requests = account_requests("hpc1", &changes);
        assert_eq!(requests.len(), 1, "an account's own limits are not sent: {requests:?}");
        assert_eq!(
            requests[0].2,
            Some(json!({"associations": [{"account": "p", "cluster": "hpc1", "user": "bob",
                "max": {"jobs": {"active": 2}, "tres": {"total": [{"type": "cpu", "count": 8}, {"type": "gres", "name": "gpu", "count": -1}]}}}]}))
        );
        let said = unsupported("hpc1", &changes);
        assert_eq!(said.len(), 1);
        assert!(said[0].ends_with("sacctmgr modify account where name=p cluster=hpc1 set GrpJobs=5"), "{said:?}");
        // Both TRES in one GrpTRES: sacctmgr keeps only the last of two.
        let both = AccountChange::SetLimits {
            account: "p".into(),
            user: None,
            from: none,
            to: AssociationLimits { cpus: Some(64), gpus: Some(2), ..none },
        };
        let said = unsupported("hpc1", &[both]);
        assert!(said[0].ends_with("set GrpTRES=cpu=64,gres/gpu=2"), "{said:?}");
    }
}
