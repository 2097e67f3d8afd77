//! Public-welfare grants: a PI requests service units for a project,
//! reviewers score the request, an operator approves (possibly less) or
//! rejects it. An approved grant pays for the project's jobs in service
//! units (one SU is a core-hour; a GPU-hour counts as the partition's
//! `su_per_gpu_hour`) from its first to its last day, and costs nothing.
//!
//! Who sees grants: operators and reviewers every one (reviewing is their
//! role), tenant admins their tenant's, members their projects'. Reviewers
//! do not review their own tenant's requests, and requesters see scores and
//! comments but not who gave them.

use super::{Caller, ServiceError, Services, audit_by};
use lushan_ledger::Units;
use lushan_model::{GrantId, ProjectRole, Role, Status};
use lushan_store::{GrantFilter, GrantRecord, GrantState, NewGrant, ProjectScope, ReviewRecord};
use serde_json::json;

/// What `lushan alloc request` sends.
pub struct GrantRequestInput {
    pub project: String,
    pub core_hours: i64,
    pub gpu_hours: i64,
    /// First and last day, `YYYY-MM-DD`, in the server's time zone.
    pub from: String,
    pub to: String,
    pub reason: String,
    pub site: Option<String>,
    pub partition: Option<String>,
    pub renews: Option<i64>,
}

/// The largest request: a hundred million core-hours.
const MAX_HOURS: i64 = 100_000_000;

/// Midnight starting `date` (`YYYY-MM-DD`) in this server's time zone, plus `days`.
pub fn day_start(date: &str, days: i64) -> Result<i64, ServiceError> {
    let bad = || ServiceError::Invalid(format!("invalid date `{}`: use YYYY-MM-DD", date.trim()));
    let day: jiff::civil::Date = date.trim().parse().map_err(|_| bad())?;
    let day = day.checked_add(jiff::Span::new().days(days)).map_err(|_| bad())?;
    Ok(day.at(0, 0, 0, 0).to_zoned(jiff::tz::TimeZone::system()).map_err(|_| bad())?.timestamp().as_millisecond())
}

impl Services {
    pub async fn request_grant(
        &self,
        caller: &Caller,
        input: GrantRequestInput,
        now: i64,
    ) -> Result<GrantRecord, ServiceError> {
        let project = self
            .store
            .project_by_name(&input.project)
            .await
            .ok()
            .filter(|p| caller.sees_tenant(p.tenant_id))
            .ok_or_else(|| ServiceError::not_found("project", &input.project))?;
        let role = self.store.project_members(project.id).await?.into_iter().find(|m| m.user_id == caller.user_id());
        let may = caller.administers(project.tenant_id) || role.is_some_and(|m| m.role == ProjectRole::Pi);
        if !may {
            return Err(ServiceError::Forbidden(format!(
                "only project {}'s PI (or its tenant's admins) request allocations for it",
                project.name
            )));
        }
        if project.status != Status::Active {
            return Err(ServiceError::StateConflict(format!("project {} is disabled", project.name)));
        }
        if input.core_hours < 0 || input.gpu_hours < 0 || input.core_hours > MAX_HOURS || input.gpu_hours > MAX_HOURS {
            return Err(ServiceError::Invalid(format!(
                "core-hours and GPU-hours are whole numbers from 0 to {MAX_HOURS}"
            )));
        }
        if input.core_hours == 0 && input.gpu_hours == 0 {
            return Err(ServiceError::Invalid("ask for some --core-hours or --gpu-hours".into()));
        }
        let reason = input.reason.trim();
        if reason.is_empty() || reason.chars().count() > 4000 {
            return Err(ServiceError::Invalid(
                "say what the allocation is for with --reason (1 to 4000 characters); reviewers read it".into(),
            ));
        }
        let starts_at = day_start(&input.from, 0)?;
        let ends_at = day_start(&input.to, 1)?;
        if ends_at <= starts_at {
            return Err(ServiceError::Invalid(format!("--to {} is before --from {}", input.to, input.from)));
        }
        let (site_id, partition_id) = self.grant_scope(input.site.as_deref(), input.partition.as_deref()).await?;
        let renews = match input.renews {
            None => None,
            Some(id) => {
                let old = self
                    .store
                    .grant(GrantId(id))
                    .await
                    .map_err(|_| ServiceError::not_found("grant", &id.to_string()))?;
                if old.project_id != project.id {
                    return Err(ServiceError::Invalid(format!("grant {id} is not project {}'s", project.name)));
                }
                Some(old.id)
            }
        };
        let mut audit = audit_by(caller, now, "grant.request", "grant", "");
        audit.tenant_id = Some(project.tenant_id);
        audit.after = Some(
            json!({"project": project.name, "core_hours": input.core_hours, "gpu_hours": input.gpu_hours,
                "from": input.from, "to": input.to, "renews": input.renews})
            .to_string(),
        );
        let new = NewGrant {
            project_id: project.id,
            tenant_id: project.tenant_id,
            core_hours: input.core_hours,
            gpu_hours: input.gpu_hours,
            site_id,
            partition_id,
            starts_at,
            ends_at,
            reason,
            requested_by: caller.user_id(),
            requested_at: now,
            renews,
        };
        Ok(self.store.request_grant(&new, &audit).await?)
    }

    async fn grant_scope(
        &self,
        site: Option<&str>,
        partition: Option<&str>,
    ) -> Result<(Option<lushan_model::SiteId>, Option<lushan_model::PartitionId>), ServiceError> {
        let Some(site_name) = site else {
            if partition.is_some() {
                return Err(ServiceError::Invalid("name the partition's site with --site".into()));
            }
            return Ok((None, None));
        };
        let sites = self.store.list_sites().await?;
        let site = sites
            .iter()
            .find(|s| s.name == site_name)
            .ok_or_else(|| ServiceError::Invalid(format!("unknown site `{site_name}`")))?;
        let partition = match partition {
            None => None,
            Some(name) => Some(
                site.partitions
                    .iter()
                    .find(|p| p.name == name)
                    .ok_or_else(|| {
                        ServiceError::Invalid(format!("unknown partition `{name}` on site `{}`", site.name))
                    })?
                    .id,
            ),
        };
        Ok((Some(site.id), partition))
    }

    /// The grants the caller may see (newest first), narrowed by state and project.
    pub async fn list_grants(
        &self,
        caller: &Caller,
        state: Option<&str>,
        project: Option<&str>,
    ) -> Result<Vec<GrantRecord>, ServiceError> {
        let state = match state {
            None => None,
            Some("requested") => Some(GrantState::Requested),
            Some("approved") => Some(GrantState::Approved),
            Some("rejected") => Some(GrantState::Rejected),
            Some(other) => {
                return Err(ServiceError::Invalid(format!(
                    "unknown grant state `{other}`: expected requested, approved or rejected"
                )));
            }
        };
        let mut filter = self.grant_scope_filter(caller).await?;
        filter.state = state;
        if let Some(name) = project {
            let Ok(project) = self.store.project_by_name(name).await else { return Ok(Vec::new()) };
            match &mut filter.projects {
                Some(list) => list.retain(|p| *p == project.id),
                None => filter.projects = Some(vec![project.id]),
            }
        }
        let grants = self.store.list_grants(&filter).await?;
        Ok(grants.into_iter().map(|g| self.redacted(caller, g)).collect())
    }

    /// The grants the caller may see: operators and reviewers all, tenant
    /// admins their tenant's, members their projects'.
    async fn grant_scope_filter(&self, caller: &Caller) -> Result<GrantFilter, ServiceError> {
        let mut filter = GrantFilter::all();
        match caller.role() {
            Role::Operator | Role::Reviewer => {}
            Role::TenantAdmin => filter.tenant = Some(caller.tenant_id()),
            Role::Member => {
                let mine = self.store.list_projects(ProjectScope::MemberOf(caller.user_id())).await?;
                filter.projects = Some(mine.into_iter().map(|p| p.id).collect());
            }
        }
        Ok(filter)
    }

    /// Requesters see scores and comments, not who gave them.
    fn redacted(&self, caller: &Caller, mut grant: GrantRecord) -> GrantRecord {
        if !matches!(caller.role(), Role::Operator | Role::Reviewer) {
            for (i, review) in grant.reviews.iter_mut().enumerate() {
                review.reviewer = format!("reviewer {}", i + 1);
            }
        }
        grant
    }

    pub async fn grant(&self, caller: &Caller, id: i64) -> Result<GrantRecord, ServiceError> {
        let mut filter = self.grant_scope_filter(caller).await?;
        filter.ids = Some(vec![GrantId(id)]);
        let grant = self.store.list_grants(&filter).await?.into_iter().next();
        grant.map(|g| self.redacted(caller, g)).ok_or_else(|| ServiceError::not_found("grant", &id.to_string()))
    }

    /// A reviewer's score (1 to 5) and comment on an undecided request.
    pub async fn review_grant(
        &self,
        caller: &Caller,
        id: i64,
        score: i64,
        comment: &str,
        now: i64,
    ) -> Result<GrantRecord, ServiceError> {
        if caller.role() != Role::Reviewer {
            return Err(ServiceError::Forbidden("only reviewers score allocation requests".into()));
        }
        let grant = self.grant(caller, id).await?;
        if grant.tenant_id == caller.tenant_id() {
            return Err(ServiceError::Forbidden(format!(
                "grant {id} was requested by your own tenant ({}); another reviewer must score it",
                grant.tenant_name
            )));
        }
        if !(1..=5).contains(&score) {
            return Err(ServiceError::Invalid("a score is a whole number from 1 (poor) to 5 (excellent)".into()));
        }
        let comment = comment.trim();
        if comment.chars().count() > 4000 {
            return Err(ServiceError::Invalid("a comment has at most 4000 characters".into()));
        }
        let mut audit = audit_by(caller, now, "grant.review", "grant", &id.to_string());
        audit.tenant_id = Some(grant.tenant_id);
        audit.after = Some(json!({"score": score, "comment": comment}).to_string());
        let review = ReviewRecord {
            reviewer_id: caller.user_id(),
            reviewer: caller.user_name().to_owned(),
            score,
            comment: comment.to_owned(),
            at: now,
        };
        if !self.store.review_grant(grant.id, &review, &audit).await? {
            return Err(ServiceError::StateConflict(format!(
                "grant {id} is {}; only requests are reviewed",
                grant.state.as_str()
            )));
        }
        self.grant(caller, id).await
    }

    /// Approves a request, with the hours requested or fewer, or rejects
    /// it (`approve: false`) with a reason. Operators only.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_grant(
        &self,
        caller: &Caller,
        id: i64,
        approve: bool,
        core_hours: Option<i64>,
        gpu_hours: Option<i64>,
        reason: &str,
        now: i64,
    ) -> Result<GrantRecord, ServiceError> {
        if !caller.is_operator() {
            return Err(ServiceError::Forbidden("only operators approve or reject allocation requests".into()));
        }
        let grant = self.grant(caller, id).await?;
        if grant.state != GrantState::Requested {
            return Err(ServiceError::StateConflict(format!("grant {id} was already {}", grant.state.as_str())));
        }
        let reason = reason.trim();
        if reason.chars().count() > 4000 {
            return Err(ServiceError::Invalid("a reason has at most 4000 characters".into()));
        }
        if !approve && reason.is_empty() {
            return Err(ServiceError::Invalid("say why with --reason: the PI reads it".into()));
        }
        let units = if approve {
            let core = core_hours.unwrap_or(grant.requested_core_hours);
            let gpu = gpu_hours.unwrap_or(grant.requested_gpu_hours);
            if !(0..=grant.requested_core_hours).contains(&core) || !(0..=grant.requested_gpu_hours).contains(&gpu) {
                return Err(ServiceError::Invalid(format!(
                    "approve at most what was requested ({} core-hours, {} GPU-hours)",
                    grant.requested_core_hours, grant.requested_gpu_hours
                )));
            }
            if core == 0 && gpu == 0 {
                return Err(ServiceError::Invalid("approve some hours, or reject the request".into()));
            }
            let su_per_gpu_hour = self.grant_gpu_rate(&grant).await?;
            let su = core.saturating_add(gpu.saturating_mul(su_per_gpu_hour));
            Some(Units::from_core_hours(su).ok_or_else(|| ServiceError::Invalid("too many hours".into()))?.0)
        } else {
            None
        };
        let action = if approve { "grant.approve" } else { "grant.reject" };
        let mut audit = audit_by(caller, now, action, "grant", &id.to_string());
        audit.tenant_id = Some(grant.tenant_id);
        audit.after = Some(
            json!({"core_hours": core_hours, "gpu_hours": gpu_hours, "units": units.map(|u| Units(u).to_string()), "reason": reason})
                .to_string(),
        );
        if !self.store.decide_grant(grant.id, units, reason, caller.user_id(), now, &audit).await? {
            return Err(ServiceError::StateConflict(format!("grant {id} was decided meanwhile")));
        }
        self.grant(caller, id).await
    }

    /// What a GPU-hour is worth in the grant's scope: the price in force
    /// for its partition (or its site as a whole), else the default.
    async fn grant_gpu_rate(&self, grant: &GrantRecord) -> Result<i64, ServiceError> {
        let price = match grant.site_id {
            Some(site) => self.store.price_for(site, grant.partition_id, "").await?,
            None => None,
        };
        Ok(price.map_or(lushan_ledger::DEFAULT_PRICE.su_per_gpu_hour, |p| p.price.su_per_gpu_hour))
    }
}
