//! Operators' limits per project and per user (docs/scheduling.md,
//! "Limits"): caps on running jobs, CPUs and GPUs in use, which the local
//! scheduler enforces with Slurm's pending reasons, and on jobs pending or
//! running at once, which a submission over it is refused for.

use super::{Caller, ServiceError, Services, audit_by};
use lushan_model::ProjectId;
use lushan_store::{LimitRecord, LimitScope, LimitValues, UserRecord};
use serde_json::json;

/// What a limit is set on, by name.
pub enum LimitTarget {
    Project(String),
    User(String),
}

impl Services {
    /// The limits the caller may see: all (operators), their tenant's (others).
    pub async fn list_limits(&self, caller: &Caller) -> Result<Vec<LimitRecord>, ServiceError> {
        let limits = self.store.list_limits().await?;
        Ok(limits.into_iter().filter(|l| caller.sees_tenant(l.tenant_id)).collect())
    }

    /// Replaces the limits on a project or user (operators only); every
    /// value `None` removes them.
    pub async fn set_limits(
        &self,
        caller: &Caller,
        target: LimitTarget,
        values: LimitValues,
        now: i64,
    ) -> Result<LimitRecord, ServiceError> {
        Self::operator_only(caller, "set limits")?;
        for (flag, value) in [
            ("max_running_jobs", values.max_running_jobs),
            ("max_cpus", values.max_cpus),
            ("max_gpus", values.max_gpus),
            ("max_submitted", values.max_submitted),
        ] {
            if value.is_some_and(|v| !(0..=1_000_000_000).contains(&v)) {
                return Err(ServiceError::Invalid(format!(
                    "{flag} must be between 0 and 1000000000 (null for no limit)"
                )));
            }
        }
        let (scope, name, tenant_id) = match &target {
            LimitTarget::Project(name) => {
                let project = self.store.project_by_name(name).await?;
                (LimitScope::Project(project.id.0), project.name, project.tenant_id)
            }
            LimitTarget::User(name) => {
                let user = self.store.user_by_name(name).await?;
                (LimitScope::User(user.id.0), user.name, user.tenant_id)
            }
        };
        let kind = match scope {
            LimitScope::Project(_) => "project",
            LimitScope::User(_) => "user",
        };
        let before = self.store.list_limits().await?.into_iter().find(|l| l.scope == scope);
        let mut audit = audit_by(caller, now, "limits.set", kind, &name);
        audit.tenant_id = Some(tenant_id);
        audit.before = before.as_ref().map(|l| values_json(&l.values));
        audit.after = Some(values_json(&values));
        self.store.set_limits(scope, values, now, &audit).await?;
        Ok(LimitRecord { scope, name, tenant_id, values, updated_at: now })
    }

    /// Refuses a submission of `count` jobs that would take the project or
    /// the user over their `max_submitted` (Slurm's MaxSubmitJobs).
    pub(super) async fn check_submit_limits(
        &self,
        user: &UserRecord,
        project: ProjectId,
        count: i64,
    ) -> Result<(), ServiceError> {
        let limits = self.store.list_limits().await?;
        let cap = |scope: LimitScope| limits.iter().find(|l| l.scope == scope).and_then(|l| l.values.max_submitted);
        let (on_project, on_user) = (cap(LimitScope::Project(project.0)), cap(LimitScope::User(user.id.0)));
        if on_project.is_none() && on_user.is_none() {
            return Ok(());
        }
        let (project_jobs, user_jobs) = self.store.active_jobs(project.0, user.id.0).await?;
        let over = |reason: &str, who: String, max: i64, has: i64| {
            ServiceError::StateConflict(format!(
                "{reason}: {who} may have at most {max} job(s) pending or running and has {has}; this submission adds {count}. Wait for some to end, or ask an operator to raise the limit (`lushan admin limits`)"
            ))
        };
        if let Some(max) = on_user
            && user_jobs + count > max
        {
            return Err(over("QOSMaxSubmitJobPerUserLimit", format!("user {}", user.name), max, user_jobs));
        }
        if let Some(max) = on_project
            && project_jobs + count > max
        {
            let name = limits
                .iter()
                .find(|l| l.scope == LimitScope::Project(project.0))
                .map_or_else(String::new, |l| l.name.clone());
            return Err(over("AssocMaxSubmitJobLimit", format!("project {name}"), max, project_jobs));
        }
        Ok(())
    }
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
