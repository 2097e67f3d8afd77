//! Tenants, users, projects and members: who may do what to whom.
//!
//! Objects of another tenant are reported as "not found", not "forbidden":
//! a caller learns nothing about tenants it may not see.

use super::auth::{check_password_rules, generate_password};
use super::{Caller, ServiceError, Services, audit_by};
use lushan_model::{Name, NameKind, ProjectId, ProjectRole, Role, Sector, Status, TenantId};
use lushan_store::{
    AuditRecord, MemberRecord, NewProject, NewTenant, NewUser, ProjectRecord, ProjectScope, SiteRecord, TenantRecord,
    UserRecord,
};
use serde_json::json;

/// Longest display name or description accepted.
const MAX_TEXT_LEN: usize = 200;

/// The languages a user may choose for the portal, as `?lang=` spells them.
pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

pub struct NewUserInput {
    pub name: String,
    pub tenant: String,
    pub role: Option<Role>,
    pub display_name: Option<String>,
    pub unix_account: Option<String>,
    pub password: Option<String>,
}

pub struct NewProjectInput {
    pub name: String,
    pub tenant: String,
    pub pi: String,
    pub description: Option<String>,
}

fn free_text(field: &str, value: Option<String>, default: &str) -> Result<String, ServiceError> {
    let value = value.unwrap_or_else(|| default.to_owned());
    let value = value.trim().to_owned();
    if value.chars().count() > MAX_TEXT_LEN {
        return Err(ServiceError::Invalid(format!("{field} has at most {MAX_TEXT_LEN} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(format!("{field} cannot contain control characters")));
    }
    Ok(value)
}

fn tenant_json(t: &TenantRecord) -> String {
    json!({"name": t.name, "display_name": t.display_name, "sector": t.sector.as_str(), "status": t.status.as_str()})
        .to_string()
}

fn user_json(u: &UserRecord) -> String {
    json!({"name": u.name, "tenant": u.tenant_name, "role": u.role.as_str(), "unix_account": u.unix_account, "status": u.status.as_str()})
        .to_string()
}

fn project_json(p: &ProjectRecord) -> String {
    json!({"name": p.name, "tenant": p.tenant_name, "description": p.description, "status": p.status.as_str()})
        .to_string()
}

fn status_json(status: Status) -> Option<String> {
    Some(json!({"status": status.as_str()}).to_string())
}

/// What a list of tenants, users or projects is narrowed to, within what
/// the caller may see: a part of the name or display name (any case), the
/// status, the tenant (by name). `None` keeps every one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub text: Option<String>,
    pub status: Option<Status>,
    pub tenant: Option<String>,
}

impl ListFilter {
    /// Keeps everything.
    pub fn everything() -> ListFilter {
        ListFilter { text: None, status: None, tenant: None }
    }

    /// Reads the filter's words as the API and the portal take them
    /// (`q`, `status`, `tenant`); empty words are no filter.
    pub fn parse(text: &str, status: &str, tenant: &str) -> Result<ListFilter, ServiceError> {
        let given = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
        if text.chars().count() > 64 || tenant.chars().count() > 64 {
            return Err(ServiceError::Invalid("a filter is at most 64 characters".into()));
        }
        let status = given(status).map(|s| s.parse::<Status>()).transpose()?;
        Ok(ListFilter { text: given(text).map(|t| t.to_lowercase()), status, tenant: given(tenant) })
    }

    fn keeps(&self, names: &[&str], status: Status, tenant: &str) -> bool {
        // Every field, named: one added and not applied here does not compile.
        let ListFilter { text, status: wanted, tenant: of } = self;
        text.as_ref().is_none_or(|t| names.iter().any(|n| n.to_lowercase().contains(t.as_str())))
            && wanted.is_none_or(|w| w == status)
            && of.as_ref().is_none_or(|o| o == tenant)
    }
}

impl Services {
    // ---- tenants ----

    pub async fn create_tenant(
        &self,
        caller: &Caller,
        name: &str,
        sector: Sector,
        display_name: Option<String>,
        now: i64,
    ) -> Result<TenantRecord, ServiceError> {
        if !caller.is_operator() {
            return Err(ServiceError::Forbidden("only operators create tenants".into()));
        }
        let name = Name::parse(NameKind::Tenant, name)?;
        let display_name = free_text("display_name", display_name, name.as_str())?;
        let new = NewTenant { name: name.as_str(), display_name: &display_name, sector, created_at: now };
        let mut audit = audit_by(caller, now, "tenant.create", "tenant", name.as_str());
        audit.after =
            Some(json!({"name": name.as_str(), "display_name": display_name, "sector": sector.as_str()}).to_string());
        Ok(self.store.create_tenant(&new, &audit).await?)
    }

    pub async fn list_tenants(&self, caller: &Caller) -> Result<Vec<TenantRecord>, ServiceError> {
        let only = (!caller.is_operator()).then_some(caller.tenant_id());
        Ok(self.store.list_tenants(only).await?)
    }

    /// [`Services::list_tenants`] narrowed by `filter` (name, status; a
    /// tenant filter names the tenant itself).
    pub async fn find_tenants(&self, caller: &Caller, filter: &ListFilter) -> Result<Vec<TenantRecord>, ServiceError> {
        let mut tenants = self.list_tenants(caller).await?;
        tenants.retain(|t| filter.keeps(&[&t.name, &t.display_name], t.status, &t.name));
        Ok(tenants)
    }

    /// [`Services::list_users`] narrowed by `filter`.
    pub async fn find_users(&self, caller: &Caller, filter: &ListFilter) -> Result<Vec<UserRecord>, ServiceError> {
        let mut users = self.list_users(caller).await?;
        users.retain(|u| filter.keeps(&[&u.name, &u.display_name], u.status, &u.tenant_name));
        Ok(users)
    }

    /// [`Services::list_projects`] narrowed by `filter` (name or description).
    pub async fn find_projects(
        &self,
        caller: &Caller,
        filter: &ListFilter,
    ) -> Result<Vec<(ProjectRecord, Vec<MemberRecord>)>, ServiceError> {
        let mut projects = self.list_projects(caller).await?;
        projects.retain(|(p, _)| filter.keeps(&[&p.name, &p.description], p.status, &p.tenant_name));
        Ok(projects)
    }

    /// A tenant the caller may see, else "not found".
    pub async fn tenant(&self, caller: &Caller, name: &str) -> Result<TenantRecord, ServiceError> {
        let tenant = self.store.tenant_by_name(name).await.map_err(|_| ServiceError::not_found("tenant", name))?;
        if !caller.sees_tenant(tenant.id) {
            return Err(ServiceError::not_found("tenant", name));
        }
        Ok(tenant)
    }

    pub async fn set_tenant_status(
        &self,
        caller: &Caller,
        name: &str,
        status: Status,
        now: i64,
    ) -> Result<TenantRecord, ServiceError> {
        let tenant = self.tenant(caller, name).await?;
        if !caller.is_operator() {
            return Err(ServiceError::Forbidden("only operators disable or enable tenants".into()));
        }
        if tenant.id == caller.tenant_id() && status == Status::Disabled {
            return Err(ServiceError::Forbidden("you cannot disable your own tenant".into()));
        }
        if tenant.status != status {
            let mut audit = audit_by(caller, now, status_action("tenant", status), "tenant", &tenant.name);
            audit.tenant_id = Some(tenant.id);
            audit.before = Some(tenant_json(&tenant));
            audit.after = status_json(status);
            self.store.set_tenant_status(tenant.id, status, &audit).await?;
        }
        Ok(TenantRecord { status, ..tenant })
    }

    // ---- users ----

    pub async fn create_user(
        &self,
        caller: &Caller,
        input: NewUserInput,
        now: i64,
    ) -> Result<(UserRecord, Option<String>), ServiceError> {
        let name = Name::parse(NameKind::User, &input.name)?;
        let tenant = self.tenant(caller, &input.tenant).await?;
        if !caller.administers(tenant.id) {
            return Err(ServiceError::Forbidden(format!(
                "only operators and tenant admins of `{}` create its users",
                tenant.name
            )));
        }
        if tenant.status == Status::Disabled {
            return Err(ServiceError::StateConflict(format!("tenant `{}` is disabled; enable it first", tenant.name)));
        }
        let role = input.role.unwrap_or(Role::Member);
        if matches!(role, Role::Operator | Role::Reviewer) && !caller.is_operator() {
            return Err(ServiceError::Forbidden(format!("only operators create users with role {role}")));
        }
        if role == Role::Operator && tenant.sector != Sector::Centre {
            return Err(ServiceError::Forbidden("operators belong to a tenant of sector `centre`".into()));
        }
        let unix_account = match &input.unix_account {
            Some(account) => Name::parse(NameKind::UnixAccount, account)?,
            None => name.clone(),
        };
        let display_name = free_text("display_name", input.display_name, name.as_str())?;
        let (password, one_time) = match input.password {
            Some(password) => {
                check_password_rules(&password)?;
                (password, None)
            }
            None => {
                let password = generate_password();
                (password.clone(), Some(password))
            }
        };
        let hash = self.hash_new_password(password).await?;
        // Refused before the machine is touched: a name taken changes nothing.
        if self.store.user_by_name(name.as_str()).await.is_ok() {
            return Err(ServiceError::Conflict { what: "user", key: name.into_string() });
        }
        self.unix.ensure_user(unix_account.as_str(), name.as_str()).await?;
        let new = NewUser {
            name: name.as_str(),
            display_name: &display_name,
            tenant_id: tenant.id,
            role,
            unix_account: Some(unix_account.as_str()),
            password_hash: Some(&hash),
            created_at: now,
        };
        let mut audit = audit_by(caller, now, "user.create", "user", name.as_str());
        audit.tenant_id = Some(tenant.id);
        audit.after = Some(
            json!({"name": name.as_str(), "tenant": tenant.name, "role": role.as_str(), "unix_account": unix_account.as_str()}).to_string(),
        );
        let user = self.store.create_user(&new, &audit).await?;
        Ok((user, one_time))
    }

    pub async fn list_users(&self, caller: &Caller) -> Result<Vec<UserRecord>, ServiceError> {
        match caller.role() {
            Role::Operator => Ok(self.store.list_users(None).await?),
            Role::TenantAdmin => Ok(self.store.list_users(Some(caller.tenant_id())).await?),
            Role::Reviewer | Role::Member => Ok(vec![self.store.user_by_id(caller.user_id()).await?]),
        }
    }

    /// A user the caller may see: themselves, their tenant's users for a
    /// tenant admin, anyone for an operator.
    pub async fn user(&self, caller: &Caller, name: &str) -> Result<UserRecord, ServiceError> {
        let user = self.store.user_by_name(name).await.map_err(|_| ServiceError::not_found("user", name))?;
        if user.id == caller.user_id() || caller.administers(user.tenant_id) {
            return Ok(user);
        }
        Err(ServiceError::not_found("user", name))
    }

    pub async fn set_user_status(
        &self,
        caller: &Caller,
        name: &str,
        status: Status,
        now: i64,
    ) -> Result<UserRecord, ServiceError> {
        let user = self.user(caller, name).await?;
        if !caller.administers(user.tenant_id) {
            return Err(ServiceError::Forbidden("only operators and tenant admins disable or enable users".into()));
        }
        if user.id == caller.user_id() {
            return Err(ServiceError::Forbidden("you cannot disable or enable yourself".into()));
        }
        if user.role == Role::Operator && !caller.is_operator() {
            return Err(ServiceError::Forbidden("only operators disable operators".into()));
        }
        if user.status != status {
            if let Some(account) = &user.unix_account {
                self.unix.set_locked(account, status == Status::Disabled).await?;
            }
            let mut audit = audit_by(caller, now, status_action("user", status), "user", &user.name);
            audit.tenant_id = Some(user.tenant_id);
            audit.before = Some(user_json(&user));
            audit.after = status_json(status);
            self.store.set_user_status(user.id, status, now, &audit).await?;
        }
        Ok(UserRecord { status, ..user })
    }

    /// The caller's projects and their role in each.
    pub async fn my_memberships(&self, caller: &Caller) -> Result<Vec<(String, ProjectRole)>, ServiceError> {
        let memberships = self.store.memberships_of(caller.user_id()).await?;
        Ok(memberships.into_iter().map(|(_, name, role)| (name, role)).collect())
    }

    pub async fn me(&self, caller: &Caller) -> Result<UserRecord, ServiceError> {
        Ok(self.store.user_by_id(caller.user_id()).await?)
    }

    /// The portal language the caller chose (`zh-CN`, `en`), if any.
    pub async fn my_language(&self, caller: &Caller) -> Result<Option<String>, ServiceError> {
        Ok(self.store.user_language(caller.user_id()).await?)
    }

    /// Sets the caller's own portal language (one of [`LANGUAGES`]), or
    /// forgets it with `None` (the portal then follows the browser).
    pub async fn set_my_language(
        &self,
        caller: &Caller,
        language: Option<&str>,
        now: i64,
    ) -> Result<Option<String>, ServiceError> {
        let language = match language {
            None => None,
            Some(text) => match LANGUAGES.iter().find(|l| **l == text) {
                Some(known) => Some(*known),
                None => {
                    return Err(ServiceError::Invalid(format!(
                        "unknown language `{}`: use one of {}",
                        text.chars().take(32).collect::<String>(),
                        LANGUAGES.join(", ")
                    )));
                }
            },
        };
        let before = self.store.user_language(caller.user_id()).await?;
        let mut audit = audit_by(caller, now, "user.language", "user", caller.user_name());
        audit.tenant_id = Some(caller.tenant_id());
        audit.before = Some(json!({ "language": before }).to_string());
        audit.after = Some(json!({ "language": language }).to_string());
        self.store.set_user_language(caller.user_id(), language, &audit).await?;
        Ok(language.map(str::to_owned))
    }

    // ---- projects ----

    pub async fn create_project(
        &self,
        caller: &Caller,
        input: NewProjectInput,
        now: i64,
    ) -> Result<(ProjectRecord, Vec<MemberRecord>), ServiceError> {
        let name = Name::parse(NameKind::Project, &input.name)?;
        let tenant = self.tenant(caller, &input.tenant).await?;
        if !caller.administers(tenant.id) {
            return Err(ServiceError::Forbidden(format!(
                "only operators and tenant admins of `{}` create its projects",
                tenant.name
            )));
        }
        if tenant.status == Status::Disabled {
            return Err(ServiceError::StateConflict(format!("tenant `{}` is disabled; enable it first", tenant.name)));
        }
        let pi = self.member_candidate(&input.pi, tenant.id, &tenant.name).await?;
        let description = free_text("description", input.description, "")?;
        if self.store.project_by_name(name.as_str()).await.is_ok() {
            return Err(ServiceError::Conflict { what: "project", key: name.into_string() });
        }
        self.unix.ensure_project(name.as_str()).await?;
        if let Some(account) = &pi.unix_account {
            self.unix.ensure_user(account, &pi.name).await?;
            self.unix.add_member(name.as_str(), account).await?;
        }
        let new = NewProject {
            name: name.as_str(),
            tenant_id: tenant.id,
            description: &description,
            pi: pi.id,
            created_at: now,
        };
        let mut audit = audit_by(caller, now, "project.create", "project", name.as_str());
        audit.tenant_id = Some(tenant.id);
        audit.after = Some(
            json!({"name": name.as_str(), "tenant": tenant.name, "pi": pi.name, "description": description})
                .to_string(),
        );
        let project = self.store.create_project(&new, &audit).await?;
        let members = self.store.project_members(project.id).await?;
        Ok((project, members))
    }

    /// A user who may join a project of `tenant`: active and of that tenant.
    async fn member_candidate(
        &self,
        user: &str,
        tenant: TenantId,
        tenant_name: &str,
    ) -> Result<UserRecord, ServiceError> {
        let found = self.store.user_by_name(user).await.ok().filter(|u| u.tenant_id == tenant);
        let Some(found) = found else {
            return Err(ServiceError::NotFound {
                what: "user",
                key: user.chars().take(64).collect(),
                hint: format!(" in tenant `{tenant_name}`; project members belong to the project's tenant"),
            });
        };
        if found.status == Status::Disabled {
            return Err(ServiceError::StateConflict(format!("user `{}` is disabled; enable them first", found.name)));
        }
        Ok(found)
    }

    pub async fn list_projects(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(ProjectRecord, Vec<MemberRecord>)>, ServiceError> {
        let scope = match caller.role() {
            Role::Operator => ProjectScope::All,
            Role::TenantAdmin => ProjectScope::Tenant(caller.tenant_id()),
            Role::Reviewer | Role::Member => ProjectScope::MemberOf(caller.user_id()),
        };
        let projects = self.store.list_projects(scope).await?;
        let ids: Vec<ProjectId> = projects.iter().map(|p| p.id).collect();
        let members = self.store.members_of_projects(&ids).await?;
        let out: Vec<_> = projects.into_iter().zip(members.into_iter().map(|(_, m)| m)).collect();
        Ok(out)
    }

    /// A project the caller may see, its members, and whether the caller
    /// manages it.
    pub(super) async fn project_access(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(ProjectRecord, Vec<MemberRecord>, Option<ProjectRole>), ServiceError> {
        let project = self.store.project_by_name(name).await.map_err(|_| ServiceError::not_found("project", name))?;
        let members = self.store.project_members(project.id).await?;
        let my_role = members.iter().find(|m| m.user_id == caller.user_id()).map(|m| m.role);
        if my_role.is_none() && !caller.administers(project.tenant_id) {
            return Err(ServiceError::not_found("project", name));
        }
        Ok((project, members, my_role))
    }

    pub async fn project(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(ProjectRecord, Vec<MemberRecord>), ServiceError> {
        let (project, members, _) = self.project_access(caller, name).await?;
        Ok((project, members))
    }

    pub async fn set_project_status(
        &self,
        caller: &Caller,
        name: &str,
        status: Status,
        now: i64,
    ) -> Result<(ProjectRecord, Vec<MemberRecord>), ServiceError> {
        let (project, members, _) = self.project_access(caller, name).await?;
        if !caller.administers(project.tenant_id) {
            return Err(ServiceError::Forbidden("only operators and tenant admins disable or enable projects".into()));
        }
        if project.status != status {
            let mut audit = audit_by(caller, now, status_action("project", status), "project", &project.name);
            audit.tenant_id = Some(project.tenant_id);
            audit.before = Some(project_json(&project));
            audit.after = status_json(status);
            self.store.set_project_status(project.id, status, &audit).await?;
        }
        Ok((ProjectRecord { status, ..project }, members))
    }

    /// Adds a member or changes their role. PIs, managers, tenant admins and
    /// operators add members; only PIs, tenant admins and operators name
    /// managers. The PI is set at creation and not changed here.
    pub async fn add_member(
        &self,
        caller: &Caller,
        project: &str,
        user: &str,
        role: Option<ProjectRole>,
        now: i64,
    ) -> Result<(ProjectRecord, Vec<MemberRecord>), ServiceError> {
        let (project, members, my_role) = self.project_access(caller, project).await?;
        let role = role.unwrap_or(ProjectRole::Member);
        let may = role != ProjectRole::Pi && manages_member(caller, &project, my_role, role);
        if role == ProjectRole::Pi {
            return Err(ServiceError::Invalid(
                "a project has one PI, set when it is created; add members as `member` or `manager`".into(),
            ));
        }
        if !may {
            return Err(ServiceError::Forbidden(format!("you may not add a {role} to project `{}`", project.name)));
        }
        if project.status == Status::Disabled {
            return Err(ServiceError::StateConflict(format!(
                "project `{}` is disabled; enable it first",
                project.name
            )));
        }
        let user = self.member_candidate(user, project.tenant_id, &project.tenant_name).await?;
        if members.iter().any(|m| m.user_id == user.id && m.role == ProjectRole::Pi) {
            return Err(ServiceError::StateConflict(format!("`{}` is the PI of `{}`", user.name, project.name)));
        }
        let before = members
            .iter()
            .find(|m| m.user_id == user.id)
            .map(|m| json!({"user": m.user_name, "role": m.role.as_str()}).to_string());
        if let Some(account) = &user.unix_account {
            self.unix.ensure_user(account, &user.name).await?;
            self.unix.add_member(&project.name, account).await?;
        }
        let mut audit = audit_by(caller, now, "project.add-member", "project", &project.name);
        audit.tenant_id = Some(project.tenant_id);
        audit.before = before;
        audit.after = Some(json!({"user": user.name, "role": role.as_str()}).to_string());
        self.store.put_member(project.id, user.id, role, now, &audit).await?;
        let members = self.store.project_members(project.id).await?;
        Ok((project, members))
    }

    pub async fn remove_member(
        &self,
        caller: &Caller,
        project: &str,
        user: &str,
        now: i64,
    ) -> Result<(ProjectRecord, Vec<MemberRecord>), ServiceError> {
        let (project, members, my_role) = self.project_access(caller, project).await?;
        let Some(member) = members.iter().find(|m| m.user_name == user) else {
            return Err(ServiceError::not_found("member", user));
        };
        let may = member.role != ProjectRole::Pi && manages_member(caller, &project, my_role, member.role);
        if member.role == ProjectRole::Pi {
            return Err(ServiceError::StateConflict(format!(
                "`{}` is the PI of `{}` and cannot be removed",
                member.user_name, project.name
            )));
        }
        if !may {
            return Err(ServiceError::Forbidden(format!(
                "you may not remove a {} from project `{}`",
                member.role, project.name
            )));
        }
        if let Some(account) = self.store.user_by_id(member.user_id).await?.unix_account {
            self.unix.remove_member(&project.name, &account).await?;
        }
        let mut audit = audit_by(caller, now, "project.remove-member", "project", &project.name);
        audit.tenant_id = Some(project.tenant_id);
        audit.before = Some(json!({"user": member.user_name, "role": member.role.as_str()}).to_string());
        self.store.remove_member(project.id, member.user_id, &audit).await?;
        let members = self.store.project_members(project.id).await?;
        Ok((project, members))
    }

    // ---- sites and audit ----

    /// Sites are visible to every signed-in user, as `sinfo` is on a cluster.
    pub async fn list_sites(&self, _caller: &Caller) -> Result<Vec<SiteRecord>, ServiceError> {
        Ok(self.store.list_sites().await?)
    }

    /// What running jobs hold on each node: (node id, CPUs, memory MB, GPUs).
    pub async fn node_usage(&self, _caller: &Caller) -> Result<Vec<(i64, u64, u64, u64)>, ServiceError> {
        let running =
            self.store.list_jobs(&lushan_store::JobFilter::all().states(vec![lushan_model::JobState::Running])).await?;
        let mut usage: std::collections::BTreeMap<i64, (u64, u64, u64)> = std::collections::BTreeMap::new();
        for job in running {
            for a in crate::control::parse_allocations(&job.alloc_json) {
                let entry = usage.entry(a.node).or_default();
                entry.0 += a.cpus.len() as u64;
                entry.1 += a.memory_mb;
                entry.2 += a.gpus.len() as u64;
            }
        }
        Ok(usage.into_iter().map(|(node, (c, m, g))| (node, c, m, g)).collect())
    }

    /// Operators read the whole audit log; tenant admins their tenant's
    /// part; newest first, at most `limit` entries that match `filter`,
    /// after skipping the `offset` newest of them.
    pub async fn audit_log(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        offset: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Vec<AuditRecord>, ServiceError> {
        let (offset, limit) = audit_window(offset, limit)?;
        let matching = self.audit_matching(caller, filter)?;
        Ok(self.store.list_audit_matching(&matching.borrowed(), offset, limit).await?)
    }

    /// One page of [`Services::audit_log`]'s list (`offset` newest entries
    /// skipped, at most `limit`) and how many entries match in all: the
    /// database reads the page and counts, not the whole log.
    pub async fn audit_log_page(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<AuditRecord>, u64), ServiceError> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (offset, limit) = audit_window(Some(offset), Some(i64::try_from(limit).unwrap_or(i64::MAX)))?;
        let matching = self.audit_matching(caller, filter)?;
        let total = self.store.count_audit_matching(&matching.borrowed()).await?;
        let page = self.store.list_audit_matching(&matching.borrowed(), offset, limit).await?;
        Ok((page, u64::try_from(total).unwrap_or(0)))
    }

    /// The store's selection for what the caller may read of `filter`:
    /// the one place its fields are checked.
    fn audit_matching(&self, caller: &Caller, filter: &AuditFilter) -> Result<AuditSelection, ServiceError> {
        // Every field by name: a new one must be matched below to compile.
        let AuditFilter { action, actor, target_kind, from, to } = filter;
        let text = |name: &str, value: &Option<String>| -> Result<Option<String>, ServiceError> {
            match value.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) if v.chars().count() > 100 || v.chars().any(char::is_control) => {
                    Err(ServiceError::Invalid(format!("{name} is one line of at most 100 characters")))
                }
                Some(v) => Ok(Some(v.to_owned())),
            }
        };
        let (action, actor, target_kind) =
            (text("action", action)?, text("actor", actor)?, text("target_kind", target_kind)?);
        // A date given empty is no date (the portal leaves an empty box out).
        let day = |value: &Option<String>, days: i64| match value.as_deref().map(str::trim) {
            None => Ok(None),
            Some(date) => super::grants::day_start(date, days).map(Some),
        };
        // `to` is included: entries before the next day's start.
        let (from, to) = (day(from, 0)?, day(to, 1)?);
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(ServiceError::Invalid("the audit log's `from` date is after its `to` date".into()));
        }
        let tenant = match caller.role() {
            Role::Operator => None,
            Role::TenantAdmin => Some(caller.tenant_id()),
            Role::Reviewer | Role::Member => {
                return Err(ServiceError::Forbidden("only operators and tenant admins read the audit log".into()));
            }
        };
        Ok(AuditSelection { tenant, action, actor, target_kind, from, to })
    }
}

/// How many entries to skip and read: `limit` 1 to [`AUDIT_SCAN`]
/// (default 100), `offset` 0 or more (default 0).
fn audit_window(offset: Option<i64>, limit: Option<i64>) -> Result<(i64, i64), ServiceError> {
    let limit = limit.unwrap_or(100);
    if !(1..=AUDIT_SCAN).contains(&limit) {
        return Err(ServiceError::Invalid("limit is between 1 and 10000".into()));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(ServiceError::Invalid("offset is 0 or more".into()));
    }
    Ok((offset, limit))
}

/// [`lushan_store::AuditMatch`] with its texts owned, as checked by
/// `audit_matching`.
struct AuditSelection {
    tenant: Option<TenantId>,
    action: Option<String>,
    actor: Option<String>,
    target_kind: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
}

impl AuditSelection {
    fn borrowed(&self) -> lushan_store::AuditMatch<'_> {
        lushan_store::AuditMatch {
            tenant: self.tenant,
            action: self.action.as_deref(),
            actor: self.actor.as_deref(),
            target_kind: self.target_kind.as_deref(),
            from: self.from,
            to: self.to,
        }
    }
}

/// The most audit entries one read returns.
const AUDIT_SCAN: i64 = 10_000;

/// Which audit entries to read: each `None` (or empty) matches all. Dates
/// are `YYYY-MM-DD` in the server's zone, both days included.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    /// Exactly this action (`price.set`, `wallet.adjust`).
    pub action: Option<String>,
    /// Exactly this user name.
    pub actor: Option<String>,
    /// Exactly this kind of target (`tenant`, `site`, `price`).
    pub target_kind: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Whether the caller manages a member of `their_role` in `project`: as
/// they add, remove and limit them. Operators and the tenant's admins
/// manage everyone; the PI managers and members; managers members. Who
/// may touch the PI at all is the use case's to say.
pub(super) fn manages_member(
    caller: &Caller,
    project: &ProjectRecord,
    my_role: Option<ProjectRole>,
    their_role: ProjectRole,
) -> bool {
    if caller.administers(project.tenant_id) {
        return true;
    }
    match their_role {
        ProjectRole::Pi | ProjectRole::Manager => my_role == Some(ProjectRole::Pi),
        ProjectRole::Member => my_role.is_some_and(ProjectRole::manages_members),
    }
}

fn status_action(kind: &'static str, status: Status) -> &'static str {
    match (kind, status) {
        ("tenant", Status::Disabled) => "tenant.disable",
        ("tenant", Status::Active) => "tenant.enable",
        ("user", Status::Disabled) => "user.disable",
        ("user", Status::Active) => "user.enable",
        ("project", Status::Disabled) => "project.disable",
        _ => "project.enable",
    }
}
