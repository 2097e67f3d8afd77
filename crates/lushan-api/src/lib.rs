//! The wire: every type that crosses HTTP, with its OpenAPI schema, and the
//! typed client the CLI and the tests use.
//!
//! **Invariant:** only this crate derives `Serialize`/`Deserialize` for the
//! API. The server converts domain records into these types in
//! `lushan-server/src/http/to_api.rs`; the CLI's `--json` prints these same
//! types, so REST and `--json` share one schema (`docs/user/openapi.json`).
//!
//! Request bodies reject unknown fields: a typo in a field name is an error,
//! never silently ignored.

mod cli_config;
mod client;

pub use cli_config::CliConfig;
pub use client::{Client, ClientError};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error the API returns has this shape.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `forbidden`, `conflict`.
    pub code: String,
    /// What happened and what the user can do about it.
    pub message: String,
    /// Quote this when reporting a problem; it is in the server log too.
    pub request_id: String,
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

// The variants' kebab-case names are the spellings below; a test checks it.
wire_enum!(
    /// The kind of organisation a tenant is.
    Sector {
        University => "university",
        Institute => "institute",
        Enterprise => "enterprise",
        Government => "government",
        School => "school",
        Centre => "centre",
    }
);

wire_enum!(
    /// A user's platform role.
    Role {
        Operator => "operator",
        TenantAdmin => "tenant-admin",
        Reviewer => "reviewer",
        Member => "member",
    }
);

wire_enum!(
    /// A user's role in one project.
    ProjectRole {
        Pi => "pi",
        Manager => "manager",
        Member => "member",
    }
);

wire_enum!(
    /// The role a member is given when added (the PI is set at creation).
    MemberRole {
        Manager => "manager",
        Member => "member",
    }
);

wire_enum!(
    /// Objects with history are disabled, never deleted.
    Status {
        Active => "active",
        Disabled => "disabled",
    }
);

wire_enum!(
    /// Whether a token can still be used.
    TokenState {
        Active => "active",
        Expired => "expired",
        Revoked => "revoked",
    }
);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`: the database took a write and the job control loop, where this
    /// server runs jobs, completed a pass in the last 30 s. Otherwise the
    /// answer is a 503 error body saying which.
    pub status: String,
    pub database: String,
    pub version: String,
    /// Milliseconds since the job control loop last completed a pass;
    /// absent when this server runs no jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_pass_age_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
    /// How long the token lives: `30d`, `12h`, or Slurm's `D-HH:MM:SS`. Default 30d.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^([0-9]{1,6}[smhdw]|[0-9]{1,6}(-[0-9]{1,2})?(:[0-9]{1,2}){0,2})$")]
    pub expires_in: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// The bearer token; shown once, stored only as a hash.
    pub token: String,
    pub token_info: Token,
    pub user: User,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    pub name: String,
    pub display_name: String,
    pub sector: Sector,
    pub status: Status,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantCreate {
    /// Slurm account rules: a-z first, then a-z, 0-9, `-`, `_`; at most 32.
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub name: String,
    pub sector: Sector,
    /// Free text, any script (e.g. 江西大学). Defaults to the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$", max_length = 200)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub name: String,
    pub display_name: String,
    pub tenant: String,
    pub role: Role,
    /// The Unix account jobs run as on the sites.
    pub unix_account: Option<String>,
    pub status: Status,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub name: String,
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$", max_length = 200)]
    pub display_name: Option<String>,
    /// Defaults to the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub unix_account: Option<String>,
    /// When absent, the server makes a one-time password and returns it once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 8, max_length = 1024)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserCreated {
    pub user: User,
    /// Present only when the server made the password; shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    pub user: User,
    /// The projects the user belongs to, with their role in each.
    pub projects: Vec<Membership>,
    /// The web portal's language the user chose (`zh-CN`, `en`); absent:
    /// none chosen, the portal follows the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The caller's portal language: `zh-CN` or `en`; `null` forgets the
/// choice (the portal then follows the browser's language).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageSetting {
    #[schema(pattern = r"^(zh-CN|en)$")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Membership {
    pub project: String,
    pub role: ProjectRole,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub name: String,
    pub tenant: String,
    pub description: String,
    pub status: Status,
    pub created_at: String,
    pub pi: Option<String>,
    pub members: Vec<ProjectMember>,
    /// Where the project's files are on the server (its group's, mode
    /// 2770); absent when the platform does not make Unix accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectMember {
    pub user: String,
    pub display_name: String,
    pub role: ProjectRole,
    pub added_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectCreate {
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub name: String,
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub tenant: String,
    /// The principal investigator: a user of the same tenant.
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub pi: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$", max_length = 200)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberAdd {
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub user: String,
    /// `member` (default) or `manager`; a project has one PI, set at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<MemberRole>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub state: TokenState,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub name: String,
    /// `30d`, `12h`, or Slurm's `D-HH:MM:SS`; absent means it never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^([0-9]{1,6}[smhdw]|[0-9]{1,6}(-[0-9]{1,2})?(:[0-9]{1,2}){0,2})$")]
    pub expires_in: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// The bearer token; shown once, stored only as a hash.
    pub secret: String,
    pub token: Token,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Site {
    pub name: String,
    /// `local` (this machine) or `slurm`.
    pub backend: String,
    pub status: Status,
    pub partitions: Vec<Partition>,
    pub nodes: Vec<Node>,
    /// How a Slurm site is reached: `rest` (slurmrestd) or `cli` (Slurm's
    /// commands on the server's host); absent for the local site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// A Slurm site's slurmrestd (transport `rest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_url: Option<String>,
    /// Where a `cli` site's commands are; empty: the server's PATH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm_bin: Option<String>,
    /// A Slurm site's cluster name in slurmdbd, which its accounts are synced to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// When a Slurm site's partitions and nodes were last read from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_at: Option<String>,
    /// The last error talking to a Slurm site; empty while it answers.
    #[serde(default)]
    pub last_error: String,
}

/// `lushan admin site add`: a Slurm cluster, behind its slurmrestd
/// (`rest_url` and `jwt_key`) or through its commands on the server's
/// host (`cli`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteCreate {
    /// The site's name, as `-M/--clusters` names it.
    #[schema(max_length = 64)]
    pub name: String,
    /// `slurm`.
    #[schema(max_length = 16)]
    pub backend: String,
    /// slurmrestd's URL (API v0.0.38), e.g. `http://127.0.0.1:6820`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 512)]
    pub rest_url: Option<String>,
    /// Path, on the server's host, of the cluster's `jwt_hs256.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4096)]
    pub jwt_key: Option<String>,
    /// Use Slurm's commands (sbatch, squeue, sacct, scontrol, sacctmgr) on
    /// the server's host instead of slurmrestd; the server must run as
    /// root to submit as the jobs' users.
    #[serde(default)]
    pub cli: bool,
    /// With `cli`: the directory holding Slurm's commands (default: the
    /// server's PATH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4096)]
    pub slurm_bin: Option<String>,
    /// The Unix account Lushan reads the cluster as (default `slurm`;
    /// never root). Jobs are always submitted as their user's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub service_user: Option<String>,
    /// The cluster's name in slurmdbd (Slurm's ClusterName), which the
    /// platform's accounts are synced to; default: the only one slurmdbd has.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub cluster: Option<String>,
}

/// `lushan admin site check`: what works on a site and what does not.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteCheck {
    pub site: String,
    /// True when every item is.
    pub ok: bool,
    pub items: Vec<SiteCheckItem>,
}

/// `lushan admin site sync`: make a Slurm site's accounts follow the platform.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSyncRequest {
    /// Report what differs without changing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a sync found on the cluster, and (unless a dry run) changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteSync {
    pub site: String,
    pub dry_run: bool,
    /// Empty when the cluster's accounts already agree with the platform.
    pub changes: Vec<SiteSyncChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteSyncChange {
    /// `add-account`, `add-to-cluster`, `move-account`, `add-user`,
    /// `add-association`, `remove-association`, `remove-from-cluster`,
    /// `set-limits` (an association's limits; `user` absent: the account's own).
    pub action: String,
    /// The Slurm account: a project's name, or `tenant.NAME` for a tenant.
    pub account: String,
    pub user: Option<String>,
    /// The change in words.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteCheckItem {
    /// `JWT key`, `slurmrestd`, `authenticated`, `slurmctld`, `accounting`, `inventory`.
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Partition {
    pub name: String,
    pub default: bool,
    pub nodes: Vec<String>,
    /// What happens to guests on co-built nodes when the owner needs them:
    /// `off`, `cancel` or `requeue` (Slurm's PreemptMode).
    pub preempt_mode: String,
    /// Seconds between a preempted guest's SIGTERM and SIGKILL (GraceTime).
    pub grace_secs: i64,
    /// Slurm's PriorityJobFactor: the multifactor partition factor of its
    /// jobs is this over the largest of the site's partitions.
    #[serde(default)]
    pub priority_job_factor: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Node {
    pub name: String,
    pub cpus: i64,
    pub memory_mb: i64,
    pub gpus: i64,
    pub gpu_type: Option<String>,
    /// The tenant that owns the node (the centre or a co-builder).
    pub owner: String,
    /// What `-C/--constraint` matches (Slurm's node `Features`).
    #[serde(default)]
    pub features: Vec<String>,
    /// What running jobs hold now.
    pub alloc_cpus: i64,
    pub alloc_memory_mb: i64,
    pub alloc_gpus: i64,
    /// `idle`, `mixed` or `allocated`, as sinfo says it (on a Slurm site,
    /// whatever Slurm says: `down`, `drained`...).
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many events, newest first (1 to 10000, default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
    /// Skip this many of the newest matching events first (the next page:
    /// `offset=100` after the first 100; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Only this action (`price.set`, `wallet.adjust`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(max_length = 100)]
    pub action: Option<String>,
    /// Only what this user did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(max_length = 100)]
    pub actor: Option<String>,
    /// Only this kind of target (`tenant`, `site`, `price`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(max_length = 100)]
    pub target_kind: Option<String>,
    /// From this day (`YYYY-MM-DD`, the server's zone), included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(max_length = 10, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: Option<String>,
    /// To this day (`YYYY-MM-DD`, the server's zone), included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(max_length = 10, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_enums_serialize_as_they_display() {
        let check = |json: serde_json::Value, text: &str| assert_eq!(json, serde_json::Value::String(text.into()));
        for v in [Role::Operator, Role::TenantAdmin, Role::Reviewer, Role::Member] {
            check(serde_json::to_value(v).unwrap(), v.as_str());
        }
        for v in [
            Sector::University,
            Sector::Institute,
            Sector::Enterprise,
            Sector::Government,
            Sector::School,
            Sector::Centre,
        ] {
            check(serde_json::to_value(v).unwrap(), v.as_str());
        }
        for v in [ProjectRole::Pi, ProjectRole::Manager, ProjectRole::Member] {
            check(serde_json::to_value(v).unwrap(), v.as_str());
        }
        for v in [TokenState::Active, TokenState::Expired, TokenState::Revoked] {
            check(serde_json::to_value(v).unwrap(), v.as_str());
        }
        for v in [Status::Active, Status::Disabled] {
            check(serde_json::to_value(v).unwrap(), v.as_str());
        }
    }
}

/// A batch job submission: the script and sbatch options exactly as the
/// user gave them; the server parses both with one parser.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSubmit {
    /// The batch script (starting with `#!`); absent with `--wrap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1048576)]
    pub script: Option<String>,
    /// sbatch options as separate words, e.g. `["-n", "4", "--time=10"]`.
    #[serde(default)]
    pub options: Vec<String>,
    /// Arguments for the script.
    #[serde(default)]
    pub args: Vec<String>,
    /// The submitter's environment: what `--export` passes, and `SBATCH_*` inputs.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// Absolute path of the directory the job was submitted from (default
    /// working directory, and where relative paths start).
    pub submit_dir: String,
    /// A retry with the same key returns the first job instead of a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub idempotency_key: Option<String>,
    /// What pays (`lushan submit --allocation`): `wallet`, or a grant's id.
    /// By default the project's grant that covers the partition, else the
    /// tenant's wallet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub allocation: Option<String>,
}

/// What a job would cost at worst and who would pay (`submit --estimate`).
/// Amounts are exact decimals as strings, in `unit`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobEstimate {
    /// `wallet` or `grant`.
    pub funding: String,
    /// The grant's id, when a grant pays.
    pub grant_id: Option<i64>,
    /// Who pays, in words: `tenant jxu`, `grant 3 of project cfd-lab`.
    pub payer: String,
    /// `CNY` (a wallet) or `SU` (a grant's service units, core-hours).
    pub unit: String,
    pub site: String,
    pub partition: String,
    pub price: Price,
    /// The tenant's sector discount, in percent.
    pub discount_percent: String,
    pub cores: i64,
    pub gpus: i64,
    pub memory_mb: i64,
    pub time_limit_secs: i64,
    /// Array tasks (each holds its own worst case), else 1.
    pub tasks: i64,
    /// The worst case of one job (or one task): the time limit x the resources x the price.
    pub worst_case_per_job: String,
    /// The whole hold a submission would place.
    pub worst_case: String,
    /// What the funding has available now (balance + credit limit - holds).
    pub available: String,
    /// Whether a submission would be accepted now.
    pub covered: bool,
    /// Why it costs nothing, when it does not.
    pub free_because: Option<String>,
}

/// A tenant's money. Exact decimals in CNY, as strings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Wallet {
    pub tenant: String,
    /// What the tenant owns: spendable plus held.
    pub balance: String,
    /// Reserved for its pending and running jobs' worst cases.
    pub held: String,
    /// What new jobs may still hold: balance - held + credit limit.
    pub available: String,
    pub credit_limit: String,
    /// As a co-builder: its share of what guests paid for its nodes.
    pub earnings: String,
    /// Its sector's discount on charges, in percent.
    pub discount_percent: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUp {
    /// CNY, up to two decimals: `5000`, `12.40`.
    #[schema(max_length = 24)]
    pub amount: String,
    /// The payment's reference (an invoice, a transfer); posting the same one twice is refused.
    #[schema(min_length = 1, max_length = 100)]
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// CNY: positive refunds, negative debits.
    #[schema(max_length = 24)]
    pub amount: String,
    #[schema(min_length = 1, max_length = 100)]
    pub reference: String,
    /// Why; printed on the statement.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditLimit {
    /// CNY the wallet may go below zero.
    #[schema(max_length = 24)]
    pub credit_limit: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// `YYYY-MM`, in the server's time zone (default: this month).
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

/// Every movement of a tenant's balance in a month.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Statement {
    pub tenant: String,
    pub month: String,
    pub from: String,
    pub to: String,
    pub opening_balance: String,
    pub closing_balance: String,
    /// Held at the end of the month for jobs not yet settled.
    pub held_at_close: String,
    pub lines: Vec<StatementLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementLine {
    pub transaction_id: i64,
    pub time: String,
    /// `top-up`, `settlement` (a job's charge), `adjustment`.
    pub kind: String,
    pub job_id: Option<i64>,
    pub reference: String,
    pub memo: String,
    /// The change to the balance: negative for charges.
    pub amount: String,
    /// The balance after it.
    pub balance: String,
}

/// A price in force. Rates are CNY per hour, up to six decimals.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Price {
    pub id: i64,
    pub site: String,
    /// Absent: every partition of the site.
    pub partition: Option<String>,
    /// Absent: every QOS.
    pub qos: Option<String>,
    pub core_hour: String,
    pub gpu_hour: String,
    pub gb_hour: String,
    /// What a GPU-hour costs a grant, in core-hours (service units).
    pub su_per_gpu_hour: i64,
    pub since: String,
    pub set_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PriceList {
    pub prices: Vec<Price>,
    pub discounts: Vec<SectorDiscount>,
    /// The co-builders' share of what guests pay for their nodes, in percent.
    pub owner_share_percent: String,
    /// Off what guests run on co-built nodes, where the owner may preempt
    /// them, in percent.
    pub preemptible_discount_percent: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SectorDiscount {
    pub sector: Sector,
    pub percent: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceSet {
    #[schema(max_length = 64)]
    pub site: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub partition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub qos: Option<String>,
    /// CNY per core-hour, up to six decimals.
    #[schema(max_length = 24)]
    pub core_hour: String,
    #[serde(default = "zero_rate")]
    #[schema(max_length = 24)]
    pub gpu_hour: String,
    #[serde(default = "zero_rate")]
    #[schema(max_length = 24)]
    pub gb_hour: String,
    #[serde(default = "default_su_per_gpu_hour")]
    #[schema(minimum = 0, maximum = 1000000)]
    pub su_per_gpu_hour: i64,
}

fn zero_rate() -> String {
    "0".into()
}

fn default_su_per_gpu_hour() -> i64 {
    16
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Percent {
    /// From 0 to 100, up to two decimals.
    #[schema(max_length = 24)]
    pub percent: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobSubmitted {
    pub job: Job,
    /// Options accepted without effect, and similar notes, with their line.
    pub warnings: Vec<String>,
    /// False when an idempotency key matched an earlier submission.
    pub created: bool,
}

/// A job, with squeue's and scontrol's vocabulary.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub job_id: i64,
    pub name: String,
    pub user: String,
    pub project: String,
    pub site: String,
    pub partition: String,
    /// PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED.
    pub state: String,
    /// Why it is pending (Priority, Resources, JobHeldUser...), or why it ended.
    pub reason: String,
    pub submit_time: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// `D-HH:MM:SS`, or `UNLIMITED`.
    pub time_limit: String,
    /// Seconds run so far (or in all).
    pub elapsed_secs: i64,
    pub nodes: i64,
    pub ntasks: i64,
    pub cpus_per_task: i64,
    /// CPUs held on all nodes.
    pub cpus: i64,
    pub mem_per_node_mb: i64,
    pub gpus_per_node: i64,
    pub exclusive: bool,
    pub held: bool,
    /// The nodes it runs or ran on.
    pub node_list: String,
    /// `code:signal`, as Slurm prints it; empty until it ends.
    pub exit_code: String,
    pub workdir: String,
    pub stdout: String,
    pub stderr: String,
    pub comment: String,
    /// For an array task: the array's id (`%A`) and the task's id (`%a`).
    pub array_job_id: Option<i64>,
    pub array_task_id: Option<i64>,
    /// The array's `%N` throttle.
    pub array_throttle: Option<i64>,
    /// `--dependency` as given; empty for none.
    pub dependency: String,
    /// `--begin`, when given.
    pub begin_time: Option<String>,
    /// Peak resident memory of the job's processes (KiB), once it ended.
    pub max_rss_kib: Option<i64>,
    /// CPU time (user + system) its processes used, in milliseconds, once it ended.
    pub total_cpu_ms: Option<i64>,
    /// With `?start=true`, for pending jobs: when it would start if every
    /// running job ran to its time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_start: Option<String>,
    /// With `?priority=true`, for pending jobs on a site that orders its
    /// queue by multifactor priority: the priority and its parts (`sprio`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<JobPriority>,
    /// What it holds or was charged (`GET /jobs/{id}` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge: Option<JobCharge>,
    /// How many times an owner's preemption requeued it (Slurm's Restarts).
    #[serde(default)]
    pub restarts: i64,
    /// While it is being preempted: the owner's job it makes room for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preempted_by: Option<i64>,
    /// On a Slurm site: Slurm's job id, once Slurm took the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<i64>,
    /// For a job that named no site: the site the platform chose and why
    /// (each site's estimated start and worst case); empty when the user
    /// named the site or there is only one.
    #[serde(default)]
    pub route: String,
    /// Its QOS (`-q`): `normal` unless it asked for another.
    #[serde(default)]
    pub qos: String,
}

/// `lushan submit --quote`: one site's answer to a job, before anything is
/// submitted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteQuote {
    pub site: String,
    /// Whether a submission would go there (the named site, or the one the
    /// platform would route it to).
    pub chosen: bool,
    /// When it could start there, as the site estimates it; absent when the
    /// site cannot run it or gives no estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_start: Option<String>,
    /// The worst case there and who would pay; absent when the site cannot run it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<JobEstimate>,
    /// Why the site cannot run it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// How a job is paid for. Amounts in `unit`: CNY (a wallet) or SU (a grant).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobCharge {
    /// `wallet` or `grant`.
    pub funding: String,
    pub grant_id: Option<i64>,
    pub unit: String,
    /// The worst case held at submission.
    pub held: String,
    /// What it was charged when it ended; absent while it runs or waits.
    pub charged: Option<String>,
    /// The part of the charge paid to the owners of the nodes it ran on.
    pub owner_share: Option<String>,
    /// Runs held for or charged: more than 1 when an owner's preemption
    /// requeued it (each run is charged for what it ran).
    pub runs: i64,
    /// How many of its runs an owner's preemption ended.
    pub preempted_runs: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Comma-separated states (long or short names), e.g. `PENDING,R`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(
        pattern = r"^(PENDING|RUNNING|COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|PREEMPTED|PD|R|CD|F|CA|TO|OOM|NF|PR)(,(PENDING|RUNNING|COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|PREEMPTED|PD|R|CD|F|CA|TO|OOM|NF|PR))*$"
    )]
    pub state: Option<String>,
    /// Only this user's jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only this project's jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Comma-separated jobs as Slurm's `-j` takes them: `123` is job 123,
    /// or every task of array 123; `123_4` is task 4 of array 123 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(pattern = r"^[0-9]{1,12}(_[0-9]{1,9})?(,[0-9]{1,12}(_[0-9]{1,9})?)*$")]
    pub ids: Option<String>,
    /// Only the tasks of this job array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 1)]
    pub array: Option<i64>,
    /// Only jobs still pending or running (squeue's view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Fill in `estimated_start` for pending jobs (`squeue --start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<bool>,
    /// Fill in `priority` for pending jobs (`sprio`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<bool>,
}

/// A pending job's multifactor priority (Slurm's `sprio`): each factor in
/// [0, 1] times its weight, and their sum, truncated as Slurm does. Larger
/// runs first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobPriority {
    pub priority: i64,
    pub age: i64,
    pub fairshare: i64,
    pub job_size: i64,
    pub partition: i64,
    pub qos: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutputQuery {
    /// `stdout` (default) or `stderr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(pattern = r"^(stdout|stderr)$")]
    pub stream: Option<String>,
    /// Byte offset to read from (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    /// At most this many bytes (default and maximum 1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 1, maximum = 1048576)]
    pub limit: Option<u64>,
}

/// A slice of a job's output file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobOutput {
    pub job_id: i64,
    pub stream: String,
    /// Where the bytes start.
    pub offset: u64,
    /// Ask for this offset next to follow the file.
    pub next_offset: u64,
    /// The file's size now.
    pub size: u64,
    /// The bytes, as UTF-8 (invalid sequences replaced).
    pub data: String,
    /// The job's state: once it has ended, the file will not grow.
    pub job_state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSignal {
    /// `USR1`, `SIGUSR1` or a number from 1 to 64.
    #[schema(pattern = r"^((SIG)?(HUP|INT|QUIT|KILL|USR1|USR2|ALRM|TERM|CONT|STOP)|[1-9]|[1-5][0-9]|6[0-4])$")]
    pub signal: String,
}

/// A public-welfare allocation: requested, reviewed, decided, spent.
/// Service units (SU) are core-hours, as exact decimals in strings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    pub id: i64,
    pub project: String,
    pub tenant: String,
    /// requested, approved, rejected, or expired (approved, past its last day).
    pub state: String,
    pub requested_core_hours: i64,
    pub requested_gpu_hours: i64,
    /// Absent until approved.
    pub awarded_su: Option<String>,
    pub used_su: String,
    /// Held for the project's pending and running jobs.
    pub held_su: String,
    pub remaining_su: String,
    /// Absent: every site.
    pub site: Option<String>,
    /// Absent: every partition.
    pub partition: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    pub reason: String,
    pub decision_reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The grant this one renews.
    pub renews: Option<i64>,
    pub reviews: Vec<GrantReview>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GrantReview {
    /// The reviewer's name for operators and reviewers; `reviewer N` for the requesters.
    pub reviewer: String,
    pub score: i64,
    pub comment: String,
    pub time: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    #[schema(max_length = 64)]
    pub project: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100000000)]
    pub core_hours: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100000000)]
    pub gpu_hours: i64,
    /// First day, `YYYY-MM-DD`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: String,
    /// What the hours are for; reviewers read it.
    #[schema(min_length = 1, max_length = 4000)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub partition: Option<String>,
    /// The grant this request renews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub renews: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantScore {
    /// 1 (poor) to 5 (excellent).
    #[schema(minimum = 1, maximum = 5)]
    pub score: i64,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantDecision {
    /// Approve fewer core-hours than requested (default: as requested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100000000)]
    pub core_hours: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100000000)]
    pub gpu_hours: Option<i64>,
    /// Why (required to reject); the PI reads it.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub reason: String,
}

/// Narrows a list of tenants, users or projects (within what the caller
/// may see).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A part of the name or display name (a project's description), any case.
    #[param(max_length = 64)]
    pub q: Option<String>,
    /// active or disabled.
    #[param(pattern = r"^(active|disabled)$")]
    pub status: Option<String>,
    /// The tenant's name.
    #[param(max_length = 64)]
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GrantQuery {
    /// requested, approved or rejected.
    #[param(pattern = r"^(requested|approved|rejected)$")]
    pub state: Option<String>,
    pub project: Option<String>,
}

/// `lushan balance --json`: the wallet, when the caller may see it, and
/// the approved grants of the caller's projects in that tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BalanceView {
    pub wallet: Option<Wallet>,
    pub grants: Vec<Grant>,
}

/// How a partition treats guests on co-built nodes when an owner's job
/// needs the node.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionPreemption {
    /// `off` (owners wait like everyone), `cancel` (the guest ends as
    /// PREEMPTED) or `requeue` (it ends as PREEMPTED and goes back to the
    /// queue).
    #[schema(max_length = 16)]
    pub mode: String,
    /// Seconds between the guest's SIGTERM and SIGKILL (0 to 86400).
    #[schema(minimum = 0, maximum = 86400)]
    pub grace_secs: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeOwner {
    /// The tenant that co-built the node (`centre` to give it back).
    #[schema(max_length = 64)]
    pub owner: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageReportQuery {
    /// sector, tenant (default), project, partition or user.
    #[param(pattern = r"^(sector|tenant|project|partition|user)$")]
    pub by: Option<String>,
    /// First day, `YYYY-MM-DD` (server time zone; default: the first of this month).
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: Option<String>,
    /// Last day, included (default: today).
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: Option<String>,
    /// Only this project's jobs (of those the caller may see); a project
    /// the caller may not see is not found (404).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(max_length = 64)]
    pub project: Option<String>,
}

/// The period of a grant request's project usage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GrantUsageQuery {
    /// First day, `YYYY-MM-DD` (server time zone; default: a year before today).
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: Option<String>,
    /// Last day, included (default: today).
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: Option<String>,
}

/// Usage of the jobs settled in a period, by one dimension. Hours and
/// amounts are exact decimals as strings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageReport {
    pub by: String,
    pub from: String,
    pub to: String,
    pub rows: Vec<UsageReportRow>,
    pub total: UsageReportRow,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageReportRow {
    /// The sector, tenant, project, partition or user; `total` for the sum.
    pub key: String,
    pub jobs: i64,
    pub core_hours: String,
    pub gpu_hours: String,
    /// CNY charged to wallets.
    pub cny_charged: String,
    /// Service units used from grants.
    pub su_used: String,
    /// Core-hours delivered to grant-funded (public-welfare) jobs.
    pub welfare_core_hours: String,
}

/// What ran on a co-builder's nodes in a month, who ran it, what it earned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Settlement {
    pub owner: String,
    pub month: String,
    pub jobs: Vec<SettlementJob>,
    /// Core-hours guests used on the owner's nodes.
    pub guest_core_hours: String,
    /// Core-hours the owner's own jobs used there (free).
    pub own_core_hours: String,
    /// CNY earned: the owner's share of what guests paid.
    pub earned: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettlementJob {
    pub job_id: i64,
    pub user: String,
    pub tenant: String,
    pub project: String,
    /// The owner's own job (free on its nodes).
    pub own: bool,
    /// Core-hours held on the owner's nodes.
    pub core_hours: String,
    /// `wallet` or `grant`.
    pub funding: String,
    /// The run's charge, in CNY (wallet) or SU (grant).
    pub charged: String,
    pub earned: String,
    /// Which run of the job (0 unless an owner's preemption requeued it).
    pub run: i64,
    /// This run was ended by the owner's preemption (charged for what it ran).
    pub preempted: bool,
}

/// Limits on a project (an operator's; Slurm's association `Grp*`
/// limits), a user (an operator's; Slurm's QOS `Max*PerUser`) or a member
/// of a project (its PI's or managers'; Slurm's (user, account)
/// association `MaxJobs`, `GrpTRES`, `MaxSubmitJobs`); null: no limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Limit {
    /// `project`, `user` or `member`.
    pub scope: String,
    /// The project's or the user's name (a member's: the user's).
    pub name: String,
    /// A member's limit: the project it holds in; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Jobs running at once (reason `AssocGrpJobsLimit` /
    /// `QOSMaxJobsPerUserLimit` / `AssocMaxJobsLimit`).
    pub max_running_jobs: Option<i64>,
    /// CPUs in use (`AssocGrpCpuLimit` / `QOSMaxCpuPerUserLimit` / `AssocGrpCpuLimit`).
    pub max_cpus: Option<i64>,
    /// GPUs in use (`AssocGrpGRES` / `QOSMaxGRESPerUser` / `AssocGrpGRES`).
    pub max_gpus: Option<i64>,
    /// Jobs pending or running at once; a submission over it is refused
    /// (`AssocMaxSubmitJobLimit` / `QOSMaxSubmitJobPerUserLimit` /
    /// `AssocMaxSubmitJobLimit`).
    pub max_submitted: Option<i64>,
    pub updated_at: String,
}

/// A quality of service level (Slurm's QOS): `-q NAME` puts a job in it;
/// its priority is the multifactor QOS factor (over the largest QOS
/// priority), and prices may differ per QOS.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Qos {
    pub name: String,
    /// Slurm's QOS `Priority`.
    pub priority: i64,
    pub description: String,
    pub updated_at: String,
}

/// `PUT /api/v1/qos/{name}`: adds the QOS or changes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QosSet {
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub priority: i64,
    /// One line; absent keeps the current description.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

/// `PUT /api/v1/sites/{site}/partitions/{partition}/priority`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionPriority {
    /// Slurm's PriorityJobFactor (default 1).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub priority_job_factor: i64,
}

/// `PUT /api/v1/limits/{scope}/{name}` and
/// `PUT /api/v1/projects/{project}/members/{user}/limits`: the limits, all
/// of them (a value left out or null is no limit; all null removes the
/// limits).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitSet {
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub max_running_jobs: Option<i64>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub max_cpus: Option<i64>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub max_gpus: Option<i64>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub max_submitted: Option<i64>,
}

/// A job template: a batch script whose `#SBATCH` lines fill the portal's
/// job form. The centre's are everyone's; a user's own are theirs alone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobTemplate {
    pub id: i64,
    /// The centre's (managed by operators), else the caller's own.
    pub centre: bool,
    pub name: String,
    pub title: String,
    /// The title in English; empty where it is the same.
    pub title_en: String,
    pub description: String,
    pub description_en: String,
    pub script: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/v1/job-templates`, `PUT /api/v1/job-templates/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobTemplateWrite {
    /// The centre's template (operators only); by default the caller's own.
    #[serde(default)]
    pub centre: bool,
    #[schema(pattern = r"^[a-z][a-z0-9_-]{0,31}$", min_length = 1, max_length = 32)]
    pub name: String,
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub title_en: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description_en: String,
    /// The batch script, starting with `#!`; read with the same parser as
    /// a submission.
    #[schema(max_length = 262144)]
    pub script: String,
}

/// A file or directory of the caller's (their home, their projects'
/// directories), as their Unix account sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileEntry {
    pub name: String,
    /// `file`, `directory`, `link` or `other` (a FIFO, socket or device:
    /// never read or written).
    pub kind: String,
    pub size: u64,
    pub modified: String,
    /// Permission bits in octal (`0640`).
    pub mode: String,
}

/// `GET /api/v1/files`: what is at a path, and a directory's entries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileListing {
    pub path: String,
    pub entry: FileEntry,
    /// A directory's entries by name; empty for a file.
    pub entries: Vec<FileEntry>,
    /// Only the first 20,000 entries are listed.
    pub truncated: bool,
    /// The directories the caller may reach: their home, then their
    /// projects'.
    pub roots: Vec<String>,
}

/// `DELETE /api/v1/files`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilePathQuery {
    /// An absolute path on the server.
    #[param(max_length = 4096)]
    pub path: String,
}

/// `GET /api/v1/files`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// An absolute path on the server; absent: the caller's home.
    #[serde(default)]
    #[param(max_length = 4096)]
    pub path: Option<String>,
}

/// `GET` and `PUT /api/v1/files/content`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileContentQuery {
    /// An absolute path on the server.
    #[param(max_length = 4096)]
    pub path: String,
    /// Upload: replace a file that exists (default: refuse, 409).
    #[serde(default)]
    pub overwrite: bool,
}

/// `POST /api/v1/files/directories`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileDirectoryCreate {
    #[schema(max_length = 4096)]
    pub path: String,
}

/// `POST /api/v1/files/moves`: the target must not exist.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileMove {
    #[schema(max_length = 4096)]
    pub from: String,
    #[schema(max_length = 4096)]
    pub to: String,
}
