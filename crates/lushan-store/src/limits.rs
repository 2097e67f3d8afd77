//! Limits per project and per user (operators'), and per member of a
//! project (Slurm's (user, account) association: operators, the project's
//! tenant admins, its PI and managers set them).

use crate::{AuditEntry, Store, StoreError, append_audit};
use lushan_model::{JobState, TenantId};
use sqlx::Row;

/// What a limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitScope {
    /// All of a project's jobs.
    Project(i64),
    /// All of a user's jobs, in any project.
    User(i64),
    /// A user's jobs in one project (Slurm's (user, account) association).
    Member { project: i64, user: i64 },
}

impl LimitScope {
    /// The API's and the audit log's name for the scope.
    pub fn kind(self) -> &'static str {
        match self {
            LimitScope::Project(_) => "project",
            LimitScope::User(_) => "user",
            LimitScope::Member { .. } => "member",
        }
    }
}

/// The caps; `None`: no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitValues {
    pub max_running_jobs: Option<i64>,
    pub max_cpus: Option<i64>,
    pub max_gpus: Option<i64>,
    /// Jobs pending or running at once (Slurm's MaxSubmitJobs).
    pub max_submitted: Option<i64>,
}

impl LimitValues {
    pub fn is_empty(&self) -> bool {
        *self == LimitValues::default()
    }
}

/// One stored limit with the name and tenant of what it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitRecord {
    pub scope: LimitScope,
    /// The project's or the user's name (a member's: the user's).
    pub name: String,
    /// A member's limit: the project's name; `None` for the other scopes.
    pub project: Option<String>,
    pub tenant_id: TenantId,
    pub values: LimitValues,
    pub updated_at: i64,
}

impl Store {
    /// Replaces the limits on `scope` (all `None`: removes them).
    pub async fn set_limits(
        &self,
        scope: LimitScope,
        values: LimitValues,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        match scope {
            LimitScope::Project(id) | LimitScope::User(id) => {
                sqlx::query("DELETE FROM limits WHERE scope = $1 AND scope_id = $2")
                    .bind(scope.kind())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if !values.is_empty() {
                    sqlx::query(
                        "INSERT INTO limits (scope, scope_id, max_running_jobs, max_cpus, max_gpus, max_submitted, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(scope.kind())
                    .bind(id)
                    .bind(values.max_running_jobs)
                    .bind(values.max_cpus)
                    .bind(values.max_gpus)
                    .bind(values.max_submitted)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            LimitScope::Member { project, user } => {
                sqlx::query("DELETE FROM member_limits WHERE project_id = $1 AND user_id = $2")
                    .bind(project)
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                if !values.is_empty() {
                    sqlx::query(
                        "INSERT INTO member_limits (project_id, user_id, max_running_jobs, max_cpus, max_gpus, max_submitted, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(project)
                    .bind(user)
                    .bind(values.max_running_jobs)
                    .bind(values.max_cpus)
                    .bind(values.max_gpus)
                    .bind(values.max_submitted)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every limit: projects', then users', by name; then members', by
    /// project and user.
    pub async fn list_limits(&self) -> Result<Vec<LimitRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.scope, l.scope_id, l.max_running_jobs, l.max_cpus, l.max_gpus, l.max_submitted, l.updated_at,
                COALESCE(p.name, u.name) AS name, COALESCE(p.tenant_id, u.tenant_id) AS tenant_id
             FROM limits l
             LEFT JOIN projects p ON l.scope = 'project' AND p.id = l.scope_id
             LEFT JOIN users u ON l.scope = 'user' AND u.id = l.scope_id
             ORDER BY l.scope, name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("scope_id")?;
            let scope = match row.try_get::<String, _>("scope")?.as_str() {
                "project" => LimitScope::Project(id),
                _ => LimitScope::User(id),
            };
            out.push(LimitRecord {
                scope,
                name: row.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                project: None,
                tenant_id: TenantId(row.try_get::<Option<i64>, _>("tenant_id")?.unwrap_or_default()),
                values: limit_values(&row)?,
                updated_at: row.try_get("updated_at")?,
            });
        }
        let rows = sqlx::query(
            "SELECT l.project_id, l.user_id, l.max_running_jobs, l.max_cpus, l.max_gpus, l.max_submitted, l.updated_at,
                p.name AS project_name, u.name AS user_name, p.tenant_id
             FROM member_limits l JOIN projects p ON p.id = l.project_id JOIN users u ON u.id = l.user_id
             ORDER BY p.name, u.name",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            out.push(LimitRecord {
                scope: LimitScope::Member { project: row.try_get("project_id")?, user: row.try_get("user_id")? },
                name: row.try_get("user_name")?,
                project: Some(row.try_get("project_name")?),
                tenant_id: TenantId(row.try_get("tenant_id")?),
                values: limit_values(&row)?,
                updated_at: row.try_get("updated_at")?,
            });
        }
        Ok(out)
    }

    /// How many jobs a project, a user, and the user in the project have
    /// pending or running now.
    pub async fn active_jobs(&self, project: i64, user: i64) -> Result<ActiveJobs, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN project_id = $1 THEN 1 ELSE 0 END), 0) AS project,
                COALESCE(SUM(CASE WHEN user_id = $2 THEN 1 ELSE 0 END), 0) AS user_jobs,
                COALESCE(SUM(CASE WHEN project_id = $1 AND user_id = $2 THEN 1 ELSE 0 END), 0) AS member
             FROM jobs WHERE state IN ($3, $4) AND (project_id = $1 OR user_id = $2)",
        )
        .bind(project)
        .bind(user)
        .bind(JobState::Pending.as_str())
        .bind(JobState::Running.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(ActiveJobs {
            project: row.try_get("project")?,
            user: row.try_get("user_jobs")?,
            member: row.try_get("member")?,
        })
    }
}

/// Jobs pending or running now, counted for each limit's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActiveJobs {
    /// The project's, by anyone.
    pub project: i64,
    /// The user's, in any project.
    pub user: i64,
    /// The user's in the project.
    pub member: i64,
}

fn limit_values(row: &sqlx::any::AnyRow) -> Result<LimitValues, sqlx::Error> {
    Ok(LimitValues {
        max_running_jobs: row.try_get("max_running_jobs")?,
        max_cpus: row.try_get("max_cpus")?,
        max_gpus: row.try_get("max_gpus")?,
        max_submitted: row.try_get("max_submitted")?,
    })
}
