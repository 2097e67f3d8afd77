//! Public-welfare grants: requests, reviews, decisions. An approval posts
//! the award (service units) in the same transaction that records it.

use crate::ledger::{TxMeta, balances, insert_transaction};
use crate::{AuditEntry, Store, StoreError, append_audit, next_id};
use lushan_ledger::Account;
use lushan_model::{GrantId, PartitionId, ProjectId, SiteId, TenantId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Where a grant stands. An approved grant past its end is shown as
/// expired by the service; the stored state stays `approved`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantState {
    Requested,
    Approved,
    Rejected,
}

impl GrantState {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantState::Requested => "requested",
            GrantState::Approved => "approved",
            GrantState::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> Result<GrantState, StoreError> {
        match text {
            "requested" => Ok(GrantState::Requested),
            "approved" => Ok(GrantState::Approved),
            "rejected" => Ok(GrantState::Rejected),
            _ => Err(StoreError::Corrupt(format!("grant state `{text}`"))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewRecord {
    pub reviewer_id: UserId,
    pub reviewer: String,
    pub score: i64,
    pub comment: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: GrantId,
    pub project_id: ProjectId,
    pub project_name: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub state: GrantState,
    pub requested_core_hours: i64,
    pub requested_gpu_hours: i64,
    /// Service units awarded, in core-seconds.
    pub awarded: Option<i64>,
    pub site_id: Option<SiteId>,
    pub site_name: Option<String>,
    pub partition_id: Option<PartitionId>,
    pub partition_name: Option<String>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: String,
    pub decision_reason: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub renews: Option<GrantId>,
    pub reviews: Vec<ReviewRecord>,
    /// Units not yet spent or held (core-seconds).
    pub remaining: i64,
    /// Units held for pending and running jobs.
    pub held: i64,
}

impl GrantRecord {
    /// Units spent by jobs that ended.
    pub fn used(&self) -> i64 {
        self.awarded.unwrap_or(0) - self.remaining - self.held
    }

    /// What decides whether it can pay for a job (`lushan_ledger::grants_covering`).
    pub fn terms(&self) -> lushan_ledger::GrantTerms {
        lushan_ledger::GrantTerms {
            id: self.id,
            approved: self.state == GrantState::Approved,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            site: self.site_id.map(|s| s.0),
            partition: self.partition_id.map(|p| p.0),
        }
    }
}

pub struct NewGrant<'a> {
    pub project_id: ProjectId,
    pub tenant_id: TenantId,
    pub core_hours: i64,
    pub gpu_hours: i64,
    pub site_id: Option<SiteId>,
    pub partition_id: Option<PartitionId>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: &'a str,
    pub requested_by: UserId,
    pub requested_at: i64,
    pub renews: Option<GrantId>,
}

/// Which grants a listing returns; every field narrows it. No `Default`,
/// as for [`crate::JobFilter`]: a listing starts from [`GrantFilter::all`]
/// and [`Store::list_grants`] names every field, so none is forgotten.
#[derive(Clone, Debug)]
pub struct GrantFilter {
    pub tenant: Option<TenantId>,
    pub projects: Option<Vec<ProjectId>>,
    pub state: Option<GrantState>,
    pub ids: Option<Vec<GrantId>>,
}

impl GrantFilter {
    /// Every grant there is.
    pub fn all() -> GrantFilter {
        GrantFilter { tenant: None, projects: None, state: None, ids: None }
    }
}

const GRANT_COLUMNS: &str = "SELECT g.id, g.project_id, p.name AS project_name, g.tenant_id, t.name AS tenant_name,
    g.state, g.requested_core_hours, g.requested_gpu_hours, g.awarded_units, g.site_id, s.name AS site_name,
    g.partition_id, pa.name AS partition_name, g.starts_at, g.ends_at, g.reason, g.decision_reason,
    ru.name AS requested_by, g.requested_at, du.name AS decided_by, g.decided_at, g.renews_grant_id
    FROM grants g JOIN projects p ON p.id = g.project_id JOIN tenants t ON t.id = g.tenant_id
    JOIN users ru ON ru.id = g.requested_by LEFT JOIN users du ON du.id = g.decided_by
    LEFT JOIN sites s ON s.id = g.site_id LEFT JOIN partitions pa ON pa.id = g.partition_id";

fn grant_from_row(row: &AnyRow) -> Result<GrantRecord, StoreError> {
    Ok(GrantRecord {
        id: GrantId(row.try_get("id")?),
        project_id: ProjectId(row.try_get("project_id")?),
        project_name: row.try_get("project_name")?,
        tenant_id: TenantId(row.try_get("tenant_id")?),
        tenant_name: row.try_get("tenant_name")?,
        state: GrantState::parse(&row.try_get::<String, _>("state")?)?,
        requested_core_hours: row.try_get("requested_core_hours")?,
        requested_gpu_hours: row.try_get("requested_gpu_hours")?,
        awarded: row.try_get("awarded_units")?,
        site_id: row.try_get::<Option<i64>, _>("site_id")?.map(SiteId),
        site_name: row.try_get("site_name")?,
        partition_id: row.try_get::<Option<i64>, _>("partition_id")?.map(PartitionId),
        partition_name: row.try_get("partition_name")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        reason: row.try_get("reason")?,
        decision_reason: row.try_get("decision_reason")?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        renews: row.try_get::<Option<i64>, _>("renews_grant_id")?.map(GrantId),
        reviews: Vec::new(),
        remaining: 0,
        held: 0,
    })
}

impl Store {
    pub async fn request_grant(&self, new: &NewGrant<'_>, audit: &AuditEntry) -> Result<GrantRecord, StoreError> {
        let mut tx = self.begin().await?;
        let id = next_id(&mut tx, "grant").await?;
        sqlx::query(
            "INSERT INTO grants (id, project_id, tenant_id, state, requested_core_hours, requested_gpu_hours,
                awarded_units, site_id, partition_id, starts_at, ends_at, reason, decision_reason, requested_by,
                requested_at, decided_by, decided_at, renews_grant_id, lock_seq)
             VALUES ($1, $2, $3, 'requested', $4, $5, NULL, $6, $7, $8, $9, $10, '', $11, $12, NULL, NULL, $13, 0)",
        )
        .bind(id)
        .bind(new.project_id.0)
        .bind(new.tenant_id.0)
        .bind(new.core_hours)
        .bind(new.gpu_hours)
        .bind(new.site_id.map(|s| s.0))
        .bind(new.partition_id.map(|p| p.0))
        .bind(new.starts_at)
        .bind(new.ends_at)
        .bind(new.reason)
        .bind(new.requested_by.0)
        .bind(new.requested_at)
        .bind(new.renews.map(|g| g.0))
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, &AuditEntry { target: id.to_string(), ..audit.clone() }).await?;
        tx.commit().await?;
        self.grant(GrantId(id)).await
    }

    /// A reviewer's score and comment; a second review by the same
    /// reviewer replaces the first. Only while the request is undecided.
    pub async fn review_grant(
        &self,
        grant: GrantId,
        review: &ReviewRecord,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let open = sqlx::query("UPDATE grants SET lock_seq = lock_seq + 1 WHERE id = $1 AND state = 'requested'")
            .bind(grant.0)
            .execute(&mut *tx)
            .await?;
        if open.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO grant_reviews (grant_id, reviewer_id, score, comment, at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (grant_id, reviewer_id) DO UPDATE SET score = $3, comment = $4, at = $5",
        )
        .bind(grant.0)
        .bind(review.reviewer_id.0)
        .bind(review.score)
        .bind(&review.comment)
        .bind(review.at)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Approves (`units` awarded, posted as an award) or rejects
    /// (`units: None`) a request that is still undecided. Returns false if
    /// it was decided already.
    pub async fn decide_grant(
        &self,
        grant: GrantId,
        units: Option<i64>,
        reason: &str,
        by: UserId,
        at: i64,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let state = if units.is_some() { GrantState::Approved } else { GrantState::Rejected };
        let done = sqlx::query(
            "UPDATE grants SET state = $1, awarded_units = $2, decision_reason = $3, decided_by = $4, decided_at = $5
             WHERE id = $6 AND state = 'requested'",
        )
        .bind(state.as_str())
        .bind(units)
        .bind(reason)
        .bind(by.0)
        .bind(at)
        .bind(grant.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(units) = units {
            let entry = lushan_ledger::award(grant, units).map_err(StoreError::Ledger)?;
            let meta = TxMeta {
                at,
                grant_id: Some(grant),
                memo: format!("grant {grant} awarded"),
                actor: audit.actor.clone(),
                tenant_id: None,
                job_id: None,
                reference: String::new(),
            };
            insert_transaction(&mut tx, &entry, &meta).await?;
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn grant(&self, id: GrantId) -> Result<GrantRecord, StoreError> {
        self.list_grants(&GrantFilter { tenant: None, projects: None, state: None, ids: Some(vec![id]) })
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::NotFound { what: "grant", key: id.to_string() })
    }

    /// Grants matching `filter`, newest first, with their reviews and balances.
    pub async fn list_grants(&self, filter: &GrantFilter) -> Result<Vec<GrantRecord>, StoreError> {
        let mut sql = format!("{GRANT_COLUMNS} WHERE 1 = 1");
        let mut binds: Vec<i64> = Vec::new();
        let mut text_bind: Option<String> = None;
        let mut in_list = |sql: &mut String, column: &str, values: Vec<i64>| {
            let marks: Vec<String> = values
                .into_iter()
                .map(|v| {
                    binds.push(v);
                    format!("${}", binds.len())
                })
                .collect();
            sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
        };
        let GrantFilter { tenant, projects, state, ids } = filter;
        if let Some(tenant) = tenant {
            in_list(&mut sql, "g.tenant_id", vec![tenant.0]);
        }
        if let Some(projects) = projects {
            if projects.is_empty() {
                return Ok(Vec::new());
            }
            in_list(&mut sql, "g.project_id", projects.iter().map(|p| p.0).collect());
        }
        if let Some(ids) = ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            in_list(&mut sql, "g.id", ids.iter().map(|g| g.0).collect());
        }
        if let Some(state) = state {
            sql.push_str(&format!(" AND g.state = ${}", binds.len() + 1));
            text_bind = Some(state.as_str().to_owned());
        }
        sql.push_str(" ORDER BY g.id DESC");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in binds {
            query = query.bind(value);
        }
        if let Some(text) = text_bind {
            query = query.bind(text);
        }
        let mut conn = self.pool.acquire().await?;
        let rows = query.fetch_all(&mut *conn).await?;
        let mut grants = rows.iter().map(grant_from_row).collect::<Result<Vec<_>, _>>()?;
        if grants.is_empty() {
            return Ok(grants);
        }
        // Balances and reviews of all the grants at once, not per grant.
        let accounts: Vec<Account> =
            grants.iter().flat_map(|g| [Account::Units(g.id), Account::GrantHeld(g.id)]).collect();
        let totals = balances(&mut conn, &accounts).await?;
        for (grant, pair) in grants.iter_mut().zip(totals.chunks(2)) {
            grant.remaining = pair[0];
            grant.held = pair[1];
        }
        let marks: Vec<String> = (1..=grants.len()).map(|i| format!("${i}")).collect();
        let mut reviews = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.grant_id, r.reviewer_id, u.name, r.score, r.comment, r.at FROM grant_reviews r
             JOIN users u ON u.id = r.reviewer_id WHERE r.grant_id IN ({}) ORDER BY r.at, r.reviewer_id",
            marks.join(", ")
        )));
        for grant in &grants {
            reviews = reviews.bind(grant.id.0);
        }
        for r in reviews.fetch_all(&mut *conn).await? {
            let grant_id = GrantId(r.try_get("grant_id")?);
            let review = ReviewRecord {
                reviewer_id: UserId(r.try_get("reviewer_id")?),
                reviewer: r.try_get("name")?,
                score: r.try_get("score")?,
                comment: r.try_get("comment")?,
                at: r.try_get("at")?,
            };
            if let Some(grant) = grants.iter_mut().find(|g| g.id == grant_id) {
                grant.reviews.push(review);
            }
        }
        Ok(grants)
    }
}
