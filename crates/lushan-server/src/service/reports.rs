//! Reports: usage by sector, tenant, project, partition or user (XDMoD's
//! question "who used what"), and a co-builder's monthly settlement (what
//! ran on its nodes, who ran it, what it earned).
//!
//! Who sees what: operators everything; tenant admins their tenant; other
//! users the jobs they ran and those of projects they lead or manage.

use super::{Caller, ServiceError, Services};
use lushan_ledger::Money;
use lushan_model::{JobId, Role};
use lushan_store::{GrantRecord, JobScope, TenantRecord, UsageDimension, UsageQuery, UsageRow};

/// One job of a settlement.
pub struct SettlementRow {
    pub job_id: JobId,
    pub user: String,
    pub tenant: String,
    pub project: String,
    /// Whether the owner ran it itself (free on its own nodes).
    pub own: bool,
    /// Core-seconds the job held on the owner's nodes.
    pub core_seconds: i64,
    /// What the job was charged in all (`funding`'s unit), and how it was paid.
    pub charged: i64,
    pub funding: String,
    pub earned: Money,
    /// Which run of the job, and whether the owner's preemption ended it.
    pub run: i64,
    pub preempted: bool,
}

pub struct Settlement {
    pub owner: TenantRecord,
    pub rows: Vec<SettlementRow>,
}

impl Settlement {
    pub fn earned(&self) -> Money {
        // A shown total: pinned at the extreme rather than wrapped.
        self.rows.iter().fold(Money::ZERO, |sum, r| sum.saturating_add(r.earned))
    }

    pub fn core_seconds(&self, own: bool) -> i64 {
        self.rows.iter().filter(|r| r.own == own).map(|r| r.core_seconds).sum()
    }
}

impl Services {
    /// Usage of jobs settled from `from` to `to` (first and last day), grouped by `by`;
    /// with `project`, only that project's jobs of those the caller may see
    /// (a project the caller may not see is not found).
    pub async fn usage_report(
        &self,
        caller: &Caller,
        by: &str,
        project: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<UsageRow>, ServiceError> {
        let by = match by {
            "sector" => UsageDimension::Sector,
            "tenant" => UsageDimension::Tenant,
            "project" => UsageDimension::Project,
            "partition" => UsageDimension::Partition,
            "user" => UsageDimension::User,
            other => {
                return Err(ServiceError::Invalid(format!(
                    "cannot group usage by `{other}`: use sector, tenant, project, partition or user"
                )));
            }
        };
        if to <= from {
            return Err(ServiceError::Invalid("--to is before --from".into()));
        }
        // The same scope as job listings: what the caller may see of jobs.
        let scope = self.job_scope(caller).await?;
        let project = match project {
            Some(name) => Some(self.project(caller, name).await?.0.id),
            None => None,
        };
        let query = UsageQuery { by, from, to, scope, project };
        Ok(self.store.usage_report(&query).await?)
    }

    /// What a grant request's project used in a period (all its jobs, paid
    /// by wallet or grant), for those who weigh the request: operators and
    /// reviewers (who see every request), the tenant's admins, and the
    /// project's PI and managers. Plain members see their own jobs' usage
    /// with [`Services::usage_report`]. `None`: nothing settled then.
    pub async fn grant_project_usage(
        &self,
        caller: &Caller,
        id: i64,
        from: i64,
        to: i64,
    ) -> Result<(GrantRecord, Option<UsageRow>), ServiceError> {
        let grant = self.grant_usage_access(caller, id).await?;
        if to <= from {
            return Err(ServiceError::Invalid("--to is before --from".into()));
        }
        // The project's tenant, by project: the one row that is this project.
        let query = UsageQuery {
            by: UsageDimension::Project,
            from,
            to,
            scope: JobScope::Tenant(grant.tenant_id),
            project: Some(grant.project_id),
        };
        let row = self.store.usage_report(&query).await?.into_iter().find(|r| r.key == grant.project_name);
        Ok((grant, row))
    }

    /// The service units charged to grant `id` itself by the jobs settled
    /// in `[from, to)` (a grant's burn-down), for those who see its
    /// project's usage ([`Services::grant_project_usage`]).
    pub async fn grant_units_used(&self, caller: &Caller, id: i64, from: i64, to: i64) -> Result<i64, ServiceError> {
        let grant = self.grant_usage_access(caller, id).await?;
        if to <= from {
            return Err(ServiceError::Invalid("--to is before --from".into()));
        }
        Ok(self.store.grant_units_settled(grant.id, from, to).await?)
    }

    /// A grant whose project's usage the caller may see: operators and
    /// reviewers (who see every request), the tenant's admins, and the
    /// project's PI and managers.
    async fn grant_usage_access(&self, caller: &Caller, id: i64) -> Result<GrantRecord, ServiceError> {
        // Not found unless the caller may see the request.
        let grant = self.grant(caller, id).await?;
        let may = match caller.role() {
            Role::Operator | Role::Reviewer => true,
            Role::TenantAdmin => caller.administers(grant.tenant_id),
            Role::Member => self
                .store
                .project_members(grant.project_id)
                .await?
                .iter()
                .any(|m| m.user_id == caller.user_id() && m.role.manages_members()),
        };
        if !may {
            return Err(ServiceError::Forbidden(format!(
                "only reviewers, operators, the tenant's admins and project {}'s PI and managers see its usage",
                grant.project_name
            )));
        }
        Ok(grant)
    }

    /// What ran on a co-builder's nodes in a period, who ran it, and what
    /// the owner earned. Its tenant admins and operators.
    pub async fn settlement(
        &self,
        caller: &Caller,
        owner: Option<&str>,
        period: &super::StatementPeriod,
    ) -> Result<Settlement, ServiceError> {
        let owner = self.administered_tenant(caller, owner).await?;
        let sites = self.store.list_sites().await?;
        let owned: Vec<(lushan_model::SiteId, i64)> = sites
            .iter()
            .flat_map(|s| s.nodes.iter().filter(|n| n.owner_tenant_id == owner.id).map(move |n| (s.id, n.id.0)))
            .collect();
        let site_ids: Vec<lushan_model::SiteId> = sites.iter().map(|s| s.id).collect();
        let earned = self.store.earnings_by_run(owner.id, period.from, period.to).await?;
        let jobs = self.store.settled_jobs(&site_ids, period.from, period.to).await?;
        let mut rows = Vec::new();
        for job in jobs {
            // Whose the nodes were when the run ended; for runs settled before
            // that was recorded, whose they are now.
            let on_owned: i64 = match &job.node_owners {
                Some(owners) => owners.iter().filter(|(o, _)| *o == owner.id).map(|(_, cores)| *cores).sum(),
                None => crate::control::parse_allocations(&job.alloc_json)
                    .iter()
                    .filter(|a| owned.iter().any(|(s, n)| *s == job.site_id && *n == a.node))
                    .map(|a| a.cpus.len() as i64)
                    .sum(),
            };
            if on_owned == 0 {
                continue;
            }
            rows.push(SettlementRow {
                job_id: job.job_id,
                user: job.user_name,
                tenant: job.tenant_name,
                project: job.project_name,
                own: job.tenant_id == owner.id,
                core_seconds: on_owned.saturating_mul(job.elapsed_secs),
                charged: job.charged,
                funding: job.funding,
                earned: earned
                    .iter()
                    .find(|(j, run, _)| *j == job.job_id && *run == job.run)
                    .map_or(Money(0), |(_, _, m)| *m),
                run: job.run,
                preempted: job.preempted,
            });
        }
        Ok(Settlement { owner, rows })
    }
}
