//! Limits (docs/scheduling.md, "Limits"): caps on running jobs, CPUs and
//! GPUs in use, which the local scheduler enforces with Slurm's pending
//! reasons, and on jobs pending or running at once, which a submission over
//! it is refused for. Operators set them per project and per user; a
//! project's PI and managers (and the tenant's admins) per member of the
//! project, as Slurm's coordinators do on a (user, account) association.

use super::tenancy::manages_member;
use super::{Caller, ServiceError, Services, audit_by};
use lushan_model::{ProjectId, ProjectRole};
use lushan_store::{LimitRecord, LimitScope, LimitValues, UserRecord};
use serde_json::json;

/// What a limit is set on, by name.
pub enum LimitTarget {
    Project(String),
    User(String),
    /// A user's jobs in one project.
    Member {
        project: String,
        user: String,
    },
}

/// One member's limits in a project, and whether the caller may change them.
pub struct MemberLimits {
    pub user: String,
    pub role: ProjectRole,
    /// All `None`: none set.
    pub values: LimitValues,
    pub may_set: bool,
}

impl Services {
    /// Each member's limits in a project the caller may see, with whether
    /// the caller may change them (the rule [`Services::set_limits`] applies).
    pub async fn member_limits(&self, caller: &Caller, project: &str) -> Result<Vec<MemberLimits>, ServiceError> {
        let (project, members, my_role) = self.project_access(caller, project).await?;
        let limits = self.store.list_limits().await?;
        Ok(members
            .into_iter()
            .map(|m| {
                let scope = LimitScope::Member { project: project.id.0, user: m.user_id.0 };
                MemberLimits {
                    values: limits.iter().find(|l| l.scope == scope).map_or_else(LimitValues::default, |l| l.values),
                    may_set: manages_member(caller, &project, my_role, m.role),
                    user: m.user_name,
                    role: m.role,
                }
            })
            .collect())
    }

    /// The limits the caller may see: all (operators), their tenant's (others).
    pub async fn list_limits(&self, caller: &Caller) -> Result<Vec<LimitRecord>, ServiceError> {
        let limits = self.store.list_limits().await?;
        Ok(limits.into_iter().filter(|l| caller.sees_tenant(l.tenant_id)).collect())
    }

    /// Replaces the limits on a project or user (operators only), or on a
    /// member of a project (operators, the tenant's admins, the project's
    /// PI; its managers for plain members); every value `None` removes them.
    pub async fn set_limits(
        &self,
        caller: &Caller,
        target: LimitTarget,
        values: LimitValues,
        now: i64,
    ) -> Result<LimitRecord, ServiceError> {
        if !matches!(target, LimitTarget::Member { .. }) {
            Self::operator_only(
                caller,
                "set limits on a project or a user; a project's PI and managers set its members' (`--project P --user U`)",
            )?;
            check_values(&values)?;
        }
        let (scope, name, project_name, tenant_id) = match &target {
            LimitTarget::Project(name) => {
                let project = self.store.project_by_name(name).await?;
                (LimitScope::Project(project.id.0), project.name, None, project.tenant_id)
            }
            LimitTarget::User(name) => {
                let user = self.store.user_by_name(name).await?;
                (LimitScope::User(user.id.0), user.name, None, user.tenant_id)
            }
            LimitTarget::Member { project, user } => {
                let (project, members, my_role) = self.project_access(caller, project).await?;
                let Some(member) = members.iter().find(|m| m.user_name == *user) else {
                    return Err(ServiceError::NotFound {
                        what: "member",
                        key: user.chars().take(64).collect(),
                        hint: format!(
                            " in project `{}`: limits are set on its members; add them to the project first",
                            project.name
                        ),
                    });
                };
                if !manages_member(caller, &project, my_role, member.role) {
                    return Err(ServiceError::Forbidden(format!(
                        "you may not set the limits of a {} of project `{}`: its PI sets its managers' and its own, managers its members', and so do the tenant's admins",
                        member.role, project.name
                    )));
                }
                check_values(&values)?;
                let scope = LimitScope::Member { project: project.id.0, user: member.user_id.0 };
                (scope, member.user_name.clone(), Some(project.name), project.tenant_id)
            }
        };
        let target_name = match &project_name {
            Some(project) => format!("{project}/{name}"),
            None => name.clone(),
        };
        let before = self.store.list_limits().await?.into_iter().find(|l| l.scope == scope);
        let mut audit = audit_by(caller, now, "limits.set", scope.kind(), &target_name);
        audit.tenant_id = Some(tenant_id);
        audit.before = before.as_ref().map(|l| values_json(&l.values));
        audit.after = Some(values_json(&values));
        self.store.set_limits(scope, values, now, &audit).await?;
        if let Some(control) = &self.control {
            control.limits_changed().await;
        }
        Ok(LimitRecord { scope, name, project: project_name, tenant_id, values, updated_at: now })
    }

    /// Refuses a submission of `count` jobs that would take the project,
    /// the user, or the user in the project over their `max_submitted`
    /// (Slurm's MaxSubmitJobs).
    pub(super) async fn check_submit_limits(
        &self,
        user: &UserRecord,
        project: ProjectId,
        count: i64,
    ) -> Result<(), ServiceError> {
        let limits = self.store.list_limits().await?;
        let find = |scope: LimitScope| limits.iter().find(|l| l.scope == scope);
        let cap = |scope: LimitScope| find(scope).and_then(|l| l.values.max_submitted);
        let member = LimitScope::Member { project: project.0, user: user.id.0 };
        let (on_project, on_user, on_member) =
            (cap(LimitScope::Project(project.0)), cap(LimitScope::User(user.id.0)), cap(member));
        if on_project.is_none() && on_user.is_none() && on_member.is_none() {
            return Ok(());
        }
        let active = self.store.active_jobs(project.0, user.id.0).await?;
        let over = |reason: &str, who: String, max: i64, has: i64, who_raises: &str| {
            ServiceError::StateConflict(format!(
                "{reason}: {who} may have at most {max} job(s) pending or running and has {has}; this submission adds {count}. Wait for some to end, or ask {who_raises} to raise the limit"
            ))
        };
        if let Some(max) = on_user
            && active.user + count > max
        {
            let who = format!("user {}", user.name);
            return Err(over(
                "QOSMaxSubmitJobPerUserLimit",
                who,
                max,
                active.user,
                "an operator (`lushan admin limits`)",
            ));
        }
        if let Some(max) = on_project
            && active.project + count > max
        {
            let name = find(LimitScope::Project(project.0)).map_or_else(String::new, |l| l.name.clone());
            let who = format!("project {name}");
            return Err(over(
                "AssocMaxSubmitJobLimit",
                who,
                max,
                active.project,
                "an operator (`lushan admin limits`)",
            ));
        }
        if let Some(max) = on_member
            && active.member + count > max
        {
            let name = find(member).and_then(|l| l.project.clone()).unwrap_or_default();
            let who = format!("user {} in project {name}", user.name);
            return Err(over("AssocMaxSubmitJobLimit", who, max, active.member, "the project's PI or a manager"));
        }
        Ok(())
    }
}

/// The same bounds for every scope: 0 to 10^9, `None` for no limit.
fn check_values(values: &LimitValues) -> Result<(), ServiceError> {
    for (flag, value) in [
        ("max_running_jobs", values.max_running_jobs),
        ("max_cpus", values.max_cpus),
        ("max_gpus", values.max_gpus),
        ("max_submitted", values.max_submitted),
    ] {
        if value.is_some_and(|v| !(0..=1_000_000_000).contains(&v)) {
            return Err(ServiceError::Invalid(format!("{flag} must be between 0 and 1000000000 (null for no limit)")));
        }
    }
    Ok(())
}

fn values_json(values: &LimitValues) -> String {
    json!({
        "max_running_jobs": values.max_running_jobs,
        "max_cpus": values.max_cpus,
        "max_gpus": values.max_gpus,
        "max_submitted": values.max_submitted,
    })
    .to_string()
}
