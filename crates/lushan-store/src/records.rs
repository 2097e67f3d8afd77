//! What the store returns and takes: plain records, one per table row.
//! Names are stored validated (see `lushan_model::Name`); enums are TEXT.

use lushan_model::{
    NodeId, PartitionId, ProjectId, ProjectRole, Role, Sector, SiteId, Status, TenantId, TokenId, UserId,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    pub display_name: String,
    pub sector: Sector,
    pub status: Status,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub name: String,
    pub display_name: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    /// A disabled tenant's users cannot use the platform.
    pub tenant_status: Status,
    pub role: Role,
    pub unix_account: Option<String>,
    pub status: Status,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectRecord {
    pub id: ProjectId,
    pub name: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub description: String,
    pub status: Status,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    pub user_id: UserId,
    pub user_name: String,
    pub display_name: String,
    pub role: ProjectRole,
    pub added_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteRecord {
    pub id: SiteId,
    pub name: String,
    pub backend: String,
    pub status: Status,
    pub created_at: i64,
    /// How a Slurm site is reached: `rest` (slurmrestd at `rest_url`,
    /// tokens signed with `jwt_key_path`) or `cli` (Slurm's commands in
    /// `slurm_bin`, or on PATH when empty); '' for local sites.
    pub transport: String,
    pub rest_url: String,
    pub jwt_key_path: String,
    pub slurm_bin: String,
    pub service_user: String,
    /// Its cluster's name in slurmdbd ('' for local sites).
    pub cluster: String,
    /// When its partitions and nodes were last read from Slurm.
    pub synced_at: Option<i64>,
    /// The last error talking to it; '' while it answers.
    pub last_error: String,
    pub partitions: Vec<PartitionRecord>,
    pub nodes: Vec<NodeRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionRecord {
    pub id: PartitionId,
    pub name: String,
    pub is_default: bool,
    pub node_names: Vec<String>,
    /// What happens to guests on co-built nodes when the owner needs them:
    /// `off`, `cancel` or `requeue` (Slurm's PreemptMode).
    pub preempt_mode: String,
    /// Between a preempted guest's SIGTERM and its SIGKILL (GraceTime).
    pub grace_secs: i64,
    /// Slurm's MaxTime; `None` for no limit.
    pub max_time_secs: Option<i64>,
    /// Slurm's PriorityJobFactor (the multifactor partition factor).
    pub priority_job_factor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    pub id: NodeId,
    pub name: String,
    pub cpus: i64,
    pub memory_mb: i64,
    pub gpus: i64,
    pub gpu_type: Option<String>,
    pub owner_tenant: String,
    pub owner_tenant_id: TenantId,
    /// Owned by a co-builder, not by the centre.
    pub co_built: bool,
    /// Slurm's node `Features`, what `-C/--constraint` matches.
    pub features: Vec<String>,
    /// On a Slurm site, the node's state as Slurm says it; '' on local sites.
    pub state: String,
}

/// One administrative action, written in the same transaction as the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    pub actor_user_id: Option<UserId>,
    pub actor: String,
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target: String,
    /// The tenant the target belongs to, so tenant admins can be shown their part.
    pub tenant_id: Option<TenantId>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
}

/// A row of the audit log as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target: String,
    pub tenant_id: Option<TenantId>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub struct NewTenant<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub sector: Sector,
    pub created_at: i64,
}

#[derive(Clone, Copy, Debug)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub tenant_id: TenantId,
    pub role: Role,
    pub unix_account: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub created_at: i64,
}

#[derive(Clone, Copy, Debug)]
pub struct NewProject<'a> {
    pub name: &'a str,
    pub tenant_id: TenantId,
    pub description: &'a str,
    pub pi: UserId,
    pub created_at: i64,
}

#[derive(Clone, Copy, Debug)]
pub struct NewToken<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

#[derive(Clone, Copy, Debug)]
pub struct NewNode<'a> {
    pub name: &'a str,
    pub cpus: i64,
    pub memory_mb: i64,
    pub gpus: i64,
    pub gpu_type: Option<&'a str>,
    /// Comma-separated.
    pub features: &'a str,
}

/// A Slurm site: how it is reached (its slurmrestd and how to sign for
/// it, or its commands). Its partitions and nodes are read from Slurm
/// ([`InventoryRecord`]).
pub struct NewSlurmSite<'a> {
    pub name: &'a str,
    /// `rest` or `cli`.
    pub transport: &'a str,
    pub rest_url: &'a str,
    pub jwt_key_path: &'a str,
    pub slurm_bin: &'a str,
    pub service_user: &'a str,
    pub cluster: &'a str,
    pub created_at: i64,
}

/// A Slurm site's partitions and nodes as Slurm reports them.
#[derive(Clone, Debug, Default)]
pub struct InventoryRecord {
    /// (name, is the default, node names, MaxTime in seconds)
    pub partitions: Vec<(String, bool, Vec<String>, Option<i64>)>,
    pub nodes: Vec<InventoryNode>,
}

#[derive(Clone, Debug)]
pub struct InventoryNode {
    pub name: String,
    pub cpus: i64,
    pub memory_mb: i64,
    pub gpus: i64,
    pub gpu_type: Option<String>,
    /// Comma-separated, as stored.
    pub features: String,
    pub state: String,
}

/// A site with one default partition holding all its nodes.
pub struct NewSite<'a> {
    pub name: &'a str,
    pub backend: &'a str,
    pub partition: &'a str,
    pub nodes: Vec<NewNode<'a>>,
    pub created_at: i64,
}

/// Which projects a listing may show.
#[derive(Clone, Copy, Debug)]
pub enum ProjectScope {
    All,
    Tenant(TenantId),
    MemberOf(UserId),
}

/// The first start of a platform: the centre tenant, its operator, the
/// operator's CLI token and the local site, all or nothing.
pub struct Bootstrap<'a> {
    pub centre: NewTenant<'a>,
    pub operator: NewUser<'a>,
    pub token_name: &'a str,
    pub token_hash: &'a str,
    pub site: NewSite<'a>,
}
