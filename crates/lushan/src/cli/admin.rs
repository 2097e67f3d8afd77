//! `lushan admin ...`, `lushan projects`, `lushan project ...`, `lushan sites`.

use super::read_secret;
use crate::output::{Output, fields, table, time};
use lushan_api::{
    AuditEvent, Client, Limit, LimitSet, MemberAdd, MemberRole, PartitionPriority, Project, ProjectCreate, Qos, QosSet,
    Role, Sector, Site, SiteCheck, SiteCreate, SiteSync, SiteSyncRequest, Tenant, TenantCreate, User, UserCreate,
    UserCreated,
};

#[derive(clap::Subcommand)]
pub enum AdminCommand {
    /// Tenants: organisations (operators).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Users (operators; tenant admins for their tenant).
    #[command(subcommand)]
    User(UserCommand),
    /// Projects (operators; tenant admins for their tenant).
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Sites: Slurm clusters behind their slurmrestd (operators).
    #[command(subcommand)]
    Site(SiteCommand),
    /// Limits per project and per user (operators set them) and per member
    /// of a project (its PI and managers set them): running jobs, CPUs,
    /// GPUs, jobs pending or running.
    #[command(subcommand)]
    Limits(LimitCommand),
    /// Quality of service levels users pick with `-q`, and their priority.
    #[command(subcommand)]
    Qos(QosCommand),
    /// A partition's weight in multifactor priority (Slurm's
    /// PriorityJobFactor, default 1): `lushan admin partition-priority local
    /// debug 10`.
    PartitionPriority {
        site: String,
        partition: String,
        /// 0 to 1000000; jobs get this over the largest of the site's.
        factor: i64,
    },
    #[command(flatten)]
    Billing(super::billing::BillingAdminCommand),
    /// The audit log, newest first.
    Audit {
        /// How many events.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(clap::Subcommand)]
pub enum QosCommand {
    /// Every QOS with its priority (anyone may list them).
    List,
    /// Add a QOS or change its priority: `lushan admin qos set high
    /// --priority 100 --description "deadline runs, billed double"`.
    Set {
        name: String,
        /// 0 to 1000000; a job's QOS factor is this over the largest.
        #[arg(long)]
        priority: i64,
        /// One line; not given keeps the current one.
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(clap::Subcommand)]
pub enum LimitCommand {
    /// The limits you may see (all for operators, your tenant's for others).
    List,
    /// Change a project's, a user's or a member's limits; flags not given
    /// keep their value, `none` lifts one: `lushan admin limits set
    /// --project cfd-lab --max-cpus 64 --max-submit 500`. With both
    /// `--project` and `--user`, the user's limits in that project (its PI
    /// and managers set these; operators the other two).
    Set {
        /// A project's limits (all its jobs: Slurm's association Grp* limits).
        #[arg(long, required_unless_present = "user")]
        project: Option<String>,
        /// A user's limits (all their jobs, in every project; on a Slurm
        /// site, on each of their associations, as Slurm has no per-user
        /// limit across accounts); with `--project`, their jobs in that
        /// project (Slurm's (user, account) association: MaxJobs, GrpTRES,
        /// MaxSubmitJobs).
        #[arg(long)]
        user: Option<String>,
        /// Jobs running at once (a number, or `none`).
        #[arg(long, value_parser = limit_value)]
        max_jobs: Option<LimitValue>,
        /// CPUs in use at once.
        #[arg(long, value_parser = limit_value)]
        max_cpus: Option<LimitValue>,
        /// GPUs in use at once.
        #[arg(long, value_parser = limit_value)]
        max_gpus: Option<LimitValue>,
        /// Jobs pending or running at once; submissions over it are refused.
        #[arg(long, value_parser = limit_value)]
        max_submit: Option<LimitValue>,
    },
}

/// A limit on the command line: a number, or `none` for no limit.
#[derive(Clone, Copy, Debug)]
pub struct LimitValue(Option<i64>);

fn limit_value(text: &str) -> Result<LimitValue, String> {
    match text {
        "none" | "unlimited" => Ok(LimitValue(None)),
        n => n.parse::<i64>().map(|v| LimitValue(Some(v))).map_err(|_| format!("`{n}` is not a number or `none`")),
    }
}

/// What a limit is on: a project's or user's name, a member's
/// `project/user`.
fn limit_name(limit: &Limit) -> String {
    match &limit.project {
        Some(project) => format!("{project}/{}", limit.name),
        None => limit.name.clone(),
    }
}

fn limit_text(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

async fn qos(client: &Client, command: QosCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        QosCommand::List => {
            let qos: Vec<Qos> = client.get("/api/v1/qos").await?;
            out.print(&qos, |qos| {
                println!(
                    "{}",
                    table(
                        &["name", "priority", "description", "updated"],
                        qos.iter()
                            .map(|q| vec![
                                q.name.clone(),
                                q.priority.to_string(),
                                q.description.clone(),
                                time(&q.updated_at)
                            ])
                            .collect(),
                    )
                );
            });
            Ok(())
        }
        QosCommand::Set { name, priority, description } => {
            let qos: Qos = client.put(&format!("/api/v1/qos/{name}"), &QosSet { priority, description }).await?;
            out.print(&qos, |q| println!("QOS {}: priority {}. Submit with -q {}.", q.name, q.priority, q.name));
            Ok(())
        }
    }
}

async fn limits(client: &Client, command: LimitCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        LimitCommand::List => {
            let limits: Vec<Limit> = client.get("/api/v1/limits").await?;
            out.print(&limits, |limits| {
                println!(
                    "{}",
                    table(
                        &["scope", "name", "max jobs", "max cpus", "max gpus", "max submit", "updated"],
                        limits
                            .iter()
                            .map(|l| vec![
                                l.scope.clone(),
                                limit_name(l),
                                limit_text(l.max_running_jobs),
                                limit_text(l.max_cpus),
                                limit_text(l.max_gpus),
                                limit_text(l.max_submitted),
                                time(&l.updated_at),
                            ])
                            .collect(),
                    )
                );
            });
            Ok(())
        }
        LimitCommand::Set { project, user, max_jobs, max_cpus, max_gpus, max_submit } => {
            let (scope, name, path) = match (project, user) {
                (Some(project), Some(user)) => {
                    let path = format!("/api/v1/projects/{project}/members/{user}/limits");
                    ("member", format!("{project}/{user}"), path)
                }
                (Some(project), None) => ("project", project.clone(), format!("/api/v1/limits/project/{project}")),
                (None, Some(user)) => ("user", user.clone(), format!("/api/v1/limits/user/{user}")),
                (None, None) => anyhow::bail!("say whose limits: --project NAME, --user NAME, or both for a member's"),
            };
            let current: Vec<Limit> = client.get("/api/v1/limits").await?;
            let now = current.into_iter().find(|l| l.scope == scope && limit_name(l) == name);
            let keep = |given: Option<LimitValue>, old: Option<i64>| given.map_or(old, |v| v.0);
            let body = LimitSet {
                max_running_jobs: keep(max_jobs, now.as_ref().and_then(|l| l.max_running_jobs)),
                max_cpus: keep(max_cpus, now.as_ref().and_then(|l| l.max_cpus)),
                max_gpus: keep(max_gpus, now.as_ref().and_then(|l| l.max_gpus)),
                max_submitted: keep(max_submit, now.as_ref().and_then(|l| l.max_submitted)),
            };
            let limit: Limit = client.put(&path, &body).await?;
            out.print(&limit, |l| {
                println!(
                    "Limits of {} {}: max jobs {}, max CPUs {}, max GPUs {}, max submit {}.",
                    l.scope,
                    limit_name(l),
                    limit_text(l.max_running_jobs),
                    limit_text(l.max_cpus),
                    limit_text(l.max_gpus),
                    limit_text(l.max_submitted)
                );
            });
            Ok(())
        }
    }
}

#[derive(clap::Subcommand)]
pub enum SiteCommand {
    /// Add a Slurm cluster: `lushan admin site add hpc1 --backend slurm
    /// --rest-url http://127.0.0.1:6820 --jwt-key /etc/slurm/jwt_hs256.key`,
    /// or `--cli` to use Slurm's commands on the server's host. Refused
    /// unless slurmctld answers; its partitions and nodes are read at once
    /// and every minute after.
    Add {
        /// The site's name, as `submit -M NAME` names it.
        name: String,
        /// Only `slurm` (the local site is this machine).
        #[arg(long, default_value = "slurm")]
        backend: String,
        /// slurmrestd's URL (API v0.0.38, Slurm 22.05).
        #[arg(long, required_unless_present = "cli", requires = "jwt_key")]
        rest_url: Option<String>,
        /// The cluster's JWT key (AuthAltParameters=jwt_key=...), readable by
        /// the server.
        #[arg(long, requires = "rest_url")]
        jwt_key: Option<String>,
        /// Use sbatch, squeue, sacct, scontrol and sacctmgr on the server's
        /// host instead of slurmrestd (the server must run as root to
        /// submit as the jobs' users).
        #[arg(long, conflicts_with_all = ["rest_url", "jwt_key"])]
        cli: bool,
        /// With --cli: the directory holding Slurm's commands (default: the
        /// server's PATH), e.g. /opt/slurm/bin.
        #[arg(long, requires = "cli")]
        slurm_bin: Option<String>,
        /// The Unix account Lushan reads the cluster as (never root).
        #[arg(long)]
        service_user: Option<String>,
        /// The cluster's name in slurmdbd (Slurm's ClusterName); needed only
        /// when slurmdbd keeps accounts for several clusters.
        #[arg(long)]
        cluster: Option<String>,
    },
    /// Say what works on a site and what does not, in plain words.
    Check { name: String },
    /// Make the site's Slurm accounts, users and associations follow the
    /// platform's tenants, projects and members, and undo changes made by
    /// hand on the cluster. Exits 1 when slurmdbd did not take a change.
    Sync {
        name: String,
        /// Only report what differs; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List sites, partitions and nodes (as `lushan sites`).
    List,
}

#[derive(clap::Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        name: String,
        #[arg(long, value_parser = parse_sector)]
        sector: Sector,
        /// Full name, any script (e.g. 江西大学).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List tenants.
    List,
    /// Show one tenant.
    Show { name: String },
    /// Disable a tenant: its users can no longer sign in. Nothing is deleted.
    Disable { name: String },
    /// Enable a disabled tenant.
    Enable { name: String },
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a one-time password unless --password-stdin.
    Create {
        name: String,
        #[arg(long)]
        tenant: String,
        #[arg(long, value_parser = parse_role, default_value = "member")]
        role: Role,
        /// The Unix account jobs run as (default: the user name).
        #[arg(long)]
        unix_account: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Show one user.
    Show { name: String },
    /// Disable a user and revoke their tokens. Nothing is deleted.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
}

#[derive(clap::Subcommand)]
pub enum ProjectCommand {
    /// Create a project with its PI.
    Create {
        name: String,
        #[arg(long)]
        tenant: String,
        /// The principal investigator (a user of the tenant).
        #[arg(long)]
        pi: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List projects.
    List,
    /// Disable a project. Nothing is deleted.
    Disable { name: String },
    /// Enable a disabled project.
    Enable { name: String },
    #[command(flatten)]
    Members(ProjectMemberCommand),
}

/// What PIs and managers do with their projects (also under `admin project`).
#[derive(clap::Subcommand)]
pub enum ProjectMemberCommand {
    /// Show a project and its members.
    Show { name: String },
    /// Add a member (or change a member's role).
    AddMember {
        project: String,
        user: String,
        /// Make the member a manager (may add and remove members).
        #[arg(long)]
        manager: bool,
    },
    /// Remove a member.
    RemoveMember { project: String, user: String },
}

fn parse_sector(text: &str) -> Result<Sector, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| "expected one of university, institute, enterprise, government, school, centre".to_owned())
}

fn parse_role(text: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| "expected one of member, tenant-admin, reviewer, operator".to_owned())
}

fn tenant_table(tenants: &[Tenant]) -> String {
    table(
        &["tenant", "name", "sector", "status", "created"],
        tenants
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    t.display_name.clone(),
                    t.sector.to_string(),
                    t.status.to_string(),
                    time(&t.created_at),
                ]
            })
            .collect(),
    )
}

fn user_table(users: &[User]) -> String {
    table(
        &["user", "name", "tenant", "role", "unix account", "status"],
        users
            .iter()
            .map(|u| {
                vec![
                    u.name.clone(),
                    u.display_name.clone(),
                    u.tenant.clone(),
                    u.role.to_string(),
                    u.unix_account.clone().unwrap_or_else(|| "-".into()),
                    u.status.to_string(),
                ]
            })
            .collect(),
    )
}

fn project_table(projects: &[Project]) -> String {
    table(
        &["project", "tenant", "pi", "members", "status", "directory", "description"],
        projects
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.tenant.clone(),
                    p.pi.clone().unwrap_or_else(|| "-".into()),
                    p.members.len().to_string(),
                    p.status.to_string(),
                    p.directory.clone().unwrap_or_else(|| "-".into()),
                    p.description.clone(),
                ]
            })
            .collect(),
    )
}

fn project_detail(p: &Project) -> String {
    let head = fields(&[
        ("project", p.name.clone()),
        ("tenant", p.tenant.clone()),
        ("pi", p.pi.clone().unwrap_or_else(|| "-".into())),
        ("status", p.status.to_string()),
        ("created", time(&p.created_at)),
        ("directory", p.directory.clone().unwrap_or_else(|| "-".into())),
        ("description", p.description.clone()),
    ]);
    let members = table(
        &["member", "name", "role", "added"],
        p.members
            .iter()
            .map(|m| vec![m.user.clone(), m.display_name.clone(), m.role.to_string(), time(&m.added_at)])
            .collect(),
    );
    format!("{head}\n\n{members}")
}

fn user_detail(u: &User) -> String {
    fields(&[
        ("user", u.name.clone()),
        ("name", u.display_name.clone()),
        ("tenant", u.tenant.clone()),
        ("role", u.role.to_string()),
        ("unix account", u.unix_account.clone().unwrap_or_else(|| "-".into())),
        ("status", u.status.to_string()),
        ("created", time(&u.created_at)),
    ])
}

pub async fn run(client: &Client, command: AdminCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        AdminCommand::Tenant(command) => tenant(client, command, out).await,
        AdminCommand::User(command) => user(client, command, out).await,
        AdminCommand::Project(command) => project(client, command, out).await,
        AdminCommand::Site(command) => site(client, command, out).await,
        AdminCommand::Limits(command) => limits(client, command, out).await,
        AdminCommand::Qos(command) => qos(client, command, out).await,
        AdminCommand::PartitionPriority { site, partition, factor } => {
            let sites: Vec<Site> = client
                .put(
                    &format!("/api/v1/sites/{site}/partitions/{partition}/priority"),
                    &PartitionPriority { priority_job_factor: factor },
                )
                .await?;
            out.print(&sites, |_| {
                println!("Partition {partition} of site {site}: priority job factor {factor}.");
            });
            Ok(())
        }
        AdminCommand::Billing(command) => super::billing::admin(client, command, out).await,
        AdminCommand::Audit { limit } => {
            let events: Vec<AuditEvent> = client.get(&format!("/api/v1/audit?limit={limit}")).await?;
            out.print(&events, |events| {
                println!(
                    "{}",
                    table(
                        &["id", "time", "actor", "action", "target"],
                        events
                            .iter()
                            .map(|e| vec![
                                e.id.to_string(),
                                time(&e.at),
                                e.actor.clone(),
                                e.action.clone(),
                                format!("{} {}", e.target_kind, e.target)
                            ])
                            .collect(),
                    )
                )
            });
            Ok(())
        }
    }
}

async fn site(client: &Client, command: SiteCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        SiteCommand::Add { name, backend, rest_url, jwt_key, cli, slurm_bin, service_user, cluster } => {
            let body = SiteCreate { name, backend, rest_url, jwt_key, cli, slurm_bin, service_user, cluster };
            let site: Site = client.post("/api/v1/sites", &body).await?;
            out.print(&site, |s| {
                let cpus: i64 = s.nodes.iter().map(|n| n.cpus).sum();
                let gpus: i64 = s.nodes.iter().map(|n| n.gpus).sum();
                println!(
                    "Added site {} ({}): {} partition(s), {} node(s), {cpus} CPUs, {gpus} GPUs. Submit with -M {}.",
                    s.name,
                    s.backend,
                    s.partitions.len(),
                    s.nodes.len(),
                    s.name
                );
            });
            Ok(())
        }
        SiteCommand::Check { name } => {
            let check: SiteCheck = client.get(&format!("/api/v1/sites/{}/check", segment(&name))).await?;
            out.print(&check, |c| {
                for item in &c.items {
                    println!("{} {:<14} {}", if item.ok { "ok  " } else { "FAIL" }, item.what, item.detail);
                }
                println!(
                    "{}",
                    if c.ok { format!("Site {} works.", c.site) } else { format!("Site {} has problems.", c.site) }
                );
            });
            if !check.ok {
                std::process::exit(1);
            }
            Ok(())
        }
        SiteCommand::Sync { name, dry_run } => {
            let body = SiteSyncRequest { dry_run };
            let sync: SiteSync = client.post(&format!("/api/v1/sites/{}/sync", segment(&name)), &body).await?;
            out.print(&sync, |s| {
                for change in &s.changes {
                    println!("{} {}", if s.dry_run { "would" } else { "did  " }, change.detail);
                }
                match (s.changes.len(), s.dry_run) {
                    (0, _) => println!("Site {}: Slurm's accounts agree with the platform.", s.site),
                    (n, true) => println!(
                        "Site {}: {n} difference(s); nothing changed (run without --dry-run to repair).",
                        s.site
                    ),
                    (n, false) => {
                        println!("Site {}: {n} change(s) made; Slurm's accounts agree with the platform.", s.site)
                    }
                }
            });
            Ok(())
        }
        SiteCommand::List => sites(client, out).await,
    }
}

async fn tenant(client: &Client, command: TenantCommand, out: &Output) -> anyhow::Result<()> {
    let one = |t: &Tenant| println!("{}", tenant_table(std::slice::from_ref(t)));
    match command {
        TenantCommand::Create { name, sector, display_name } => {
            let tenant: Tenant = client.post("/api/v1/tenants", &TenantCreate { name, sector, display_name }).await?;
            out.print(&tenant, |t| println!("Tenant {} ({}) created.", t.name, t.sector));
        }
        TenantCommand::List => {
            let tenants: Vec<Tenant> = client.get("/api/v1/tenants").await?;
            out.print(&tenants, |t| println!("{}", tenant_table(t)));
        }
        TenantCommand::Show { name } => {
            let tenant: Tenant = client.get(&format!("/api/v1/tenants/{}", segment(&name))).await?;
            out.print(&tenant, one);
        }
        TenantCommand::Disable { name } => {
            let tenant: Tenant = client.post(&format!("/api/v1/tenants/{}/disable", segment(&name)), &()).await?;
            out.print(&tenant, |t| println!("Tenant {} is {}.", t.name, t.status));
        }
        TenantCommand::Enable { name } => {
            let tenant: Tenant = client.post(&format!("/api/v1/tenants/{}/enable", segment(&name)), &()).await?;
            out.print(&tenant, |t| println!("Tenant {} is {}.", t.name, t.status));
        }
    }
    Ok(())
}

async fn user(client: &Client, command: UserCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { name, tenant, role, unix_account, display_name, password_stdin } => {
            let password = if password_stdin { Some(read_secret("Password: ", true)?) } else { None };
            let body = UserCreate { name, tenant, role: Some(role), display_name, unix_account, password };
            let created: UserCreated = client.post("/api/v1/users", &body).await?;
            out.print(&created, |c| {
                println!("User {} ({}, tenant {}) created.", c.user.name, c.user.role, c.user.tenant);
                if let Some(password) = &c.one_time_password {
                    println!("One-time password (shown once; change it with `lushan passwd`): {password}");
                }
            });
        }
        UserCommand::List => {
            let users: Vec<User> = client.get("/api/v1/users").await?;
            out.print(&users, |u| println!("{}", user_table(u)));
        }
        UserCommand::Show { name } => {
            let user: User = client.get(&format!("/api/v1/users/{}", segment(&name))).await?;
            out.print(&user, |u| println!("{}", user_detail(u)));
        }
        UserCommand::Disable { name } => {
            let user: User = client.post(&format!("/api/v1/users/{}/disable", segment(&name)), &()).await?;
            out.print(&user, |u| println!("User {} is {}; their tokens are revoked.", u.name, u.status));
        }
        UserCommand::Enable { name } => {
            let user: User = client.post(&format!("/api/v1/users/{}/enable", segment(&name)), &()).await?;
            out.print(&user, |u| println!("User {} is {}.", u.name, u.status));
        }
    }
    Ok(())
}

async fn project(client: &Client, command: ProjectCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        ProjectCommand::Create { name, tenant, pi, description } => {
            let project: Project =
                client.post("/api/v1/projects", &ProjectCreate { name, tenant, pi, description }).await?;
            out.print(&project, |p| {
                println!(
                    "Project {} created in tenant {} with PI {}.",
                    p.name,
                    p.tenant,
                    p.pi.as_deref().unwrap_or("-")
                )
            });
        }
        ProjectCommand::List => projects_list(client, out).await?,
        ProjectCommand::Disable { name } => {
            let project: Project = client.post(&format!("/api/v1/projects/{}/disable", segment(&name)), &()).await?;
            out.print(&project, |p| println!("Project {} is {}.", p.name, p.status));
        }
        ProjectCommand::Enable { name } => {
            let project: Project = client.post(&format!("/api/v1/projects/{}/enable", segment(&name)), &()).await?;
            out.print(&project, |p| println!("Project {} is {}.", p.name, p.status));
        }
        ProjectCommand::Members(command) => project_members(client, command, out).await?,
    }
    Ok(())
}

pub async fn projects_list(client: &Client, out: &Output) -> anyhow::Result<()> {
    let projects: Vec<Project> = client.get("/api/v1/projects").await?;
    out.print(&projects, |p| {
        if p.is_empty() {
            println!("No projects you can see.");
        } else {
            println!("{}", project_table(p));
        }
    });
    Ok(())
}

pub async fn project_members(client: &Client, command: ProjectMemberCommand, out: &Output) -> anyhow::Result<()> {
    let project: Project = match command {
        ProjectMemberCommand::Show { name } => client.get(&format!("/api/v1/projects/{}", segment(&name))).await?,
        ProjectMemberCommand::AddMember { project, user, manager } => {
            let role = if manager { MemberRole::Manager } else { MemberRole::Member };
            let path = format!("/api/v1/projects/{}/members", segment(&project));
            client.post(&path, &MemberAdd { user, role: Some(role) }).await?
        }
        ProjectMemberCommand::RemoveMember { project, user } => {
            client.delete(&format!("/api/v1/projects/{}/members/{}", segment(&project), segment(&user))).await?
        }
    };
    out.print(&project, |p| println!("{}", project_detail(p)));
    Ok(())
}

pub async fn sites(client: &Client, out: &Output) -> anyhow::Result<()> {
    let sites: Vec<Site> = client.get("/api/v1/sites").await?;
    out.print(&sites, |sites| {
        let mut rows = Vec::new();
        for site in sites {
            for partition in &site.partitions {
                for node_name in &partition.nodes {
                    let Some(node) = site.nodes.iter().find(|n| &n.name == node_name) else {
                        continue;
                    };
                    let gpus = match (&node.gpu_type, node.gpus) {
                        (_, 0) => "-".to_owned(),
                        (Some(kind), n) => format!("gpu:{kind}:{n}"),
                        (None, n) => format!("gpu:{n}"),
                    };
                    let name = if partition.default { format!("{}*", partition.name) } else { partition.name.clone() };
                    rows.push(vec![
                        site.name.clone(),
                        site.backend.clone(),
                        name,
                        node.name.clone(),
                        node.cpus.to_string(),
                        node.memory_mb.to_string(),
                        gpus,
                        if node.features.is_empty() { "-".to_owned() } else { node.features.join(",") },
                        node.owner.clone(),
                    ]);
                }
            }
        }
        println!(
            "{}",
            table(&["site", "backend", "partition", "node", "cpus", "memory (MB)", "gres", "features", "owner"], rows)
        );
    });
    Ok(())
}

/// `sinfo`: one line per partition and node state.
pub async fn sinfo(client: &Client, out: &Output) -> anyhow::Result<()> {
    let sites: Vec<Site> = client.get("/api/v1/sites").await?;
    out.print(&sites, |sites| {
        let mut rows = Vec::new();
        for site in sites {
            for partition in &site.partitions {
                let mut by_state: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
                for node in site.nodes.iter().filter(|n| partition.nodes.contains(&n.name)) {
                    by_state.entry(node.state.as_str()).or_default().push(node.name.as_str());
                }
                let name = if partition.default { format!("{}*", partition.name) } else { partition.name.clone() };
                for (state, nodes) in by_state {
                    rows.push(vec![
                        site.name.clone(),
                        name.clone(),
                        "up".into(),
                        "365-00:00:00".into(),
                        nodes.len().to_string(),
                        state.to_owned(),
                        nodes.join(","),
                    ]);
                }
            }
        }
        println!("{}", table(&["cluster", "partition", "avail", "timelimit", "nodes", "state", "nodelist"], rows));
    });
    Ok(())
}

/// A name as one URL path segment: names are restricted, but a typo with a
/// `/` or `?` must not turn into another route.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
