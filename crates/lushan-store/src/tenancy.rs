//! Tenants, users, projects and project membership.

use crate::error::conflict_on_unique;
use crate::{
    AuditEntry, MemberRecord, NewProject, NewTenant, NewUser, ProjectRecord, ProjectScope, Store, StoreError,
    TenantRecord, UserRecord,
};
use crate::{append_audit, next_id, parse_text};
use lushan_model::{ProjectId, ProjectRole, Status, TenantId, UserId};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

const TENANT_COLUMNS: &str = "SELECT id, name, display_name, sector, status, created_at FROM tenants";
const USER_COLUMNS: &str = "SELECT u.id, u.name, u.display_name, u.tenant_id, t.name AS tenant_name, t.status AS tenant_status, u.role, u.unix_account, u.status, u.created_at
     FROM users u JOIN tenants t ON t.id = u.tenant_id";
const PROJECT_COLUMNS: &str =
    "SELECT p.id, p.name, p.tenant_id, t.name AS tenant_name, p.description, p.status, p.created_at
     FROM projects p JOIN tenants t ON t.id = p.tenant_id";

fn tenant_from_row(row: &AnyRow) -> Result<TenantRecord, StoreError> {
    Ok(TenantRecord {
        id: TenantId(row.try_get("id")?),
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        sector: parse_text("sector", row.try_get("sector")?)?,
        status: parse_text("status", row.try_get("status")?)?,
        created_at: row.try_get("created_at")?,
    })
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: UserId(row.try_get("id")?),
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        tenant_id: TenantId(row.try_get("tenant_id")?),
        tenant_name: row.try_get("tenant_name")?,
        tenant_status: parse_text("status", row.try_get("tenant_status")?)?,
        role: parse_text("role", row.try_get("role")?)?,
        unix_account: row.try_get("unix_account")?,
        status: parse_text("status", row.try_get("status")?)?,
        created_at: row.try_get("created_at")?,
    })
}

fn project_from_row(row: &AnyRow) -> Result<ProjectRecord, StoreError> {
    Ok(ProjectRecord {
        id: ProjectId(row.try_get("id")?),
        name: row.try_get("name")?,
        tenant_id: TenantId(row.try_get("tenant_id")?),
        tenant_name: row.try_get("tenant_name")?,
        description: row.try_get("description")?,
        status: parse_text("status", row.try_get("status")?)?,
        created_at: row.try_get("created_at")?,
    })
}

fn rows<T>(rows: Vec<AnyRow>, f: fn(&AnyRow) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

pub(crate) async fn insert_tenant(
    tx: &mut Transaction<'static, Any>,
    new: &NewTenant<'_>,
) -> Result<TenantRecord, StoreError> {
    let id = next_id(tx, "tenant").await?;
    sqlx::query(
        "INSERT INTO tenants (id, name, display_name, sector, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(new.name)
    .bind(new.display_name)
    .bind(new.sector.as_str())
    .bind(Status::Active.as_str())
    .bind(new.created_at)
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_unique("tenant", new.name))?;
    Ok(TenantRecord {
        id: TenantId(id),
        name: new.name.to_owned(),
        display_name: new.display_name.to_owned(),
        sector: new.sector,
        status: Status::Active,
        created_at: new.created_at,
    })
}

pub(crate) async fn insert_user(tx: &mut Transaction<'static, Any>, new: &NewUser<'_>) -> Result<UserId, StoreError> {
    let id = next_id(tx, "user").await?;
    sqlx::query(
        "INSERT INTO users (id, name, display_name, tenant_id, role, unix_account, password_hash, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(new.name)
    .bind(new.display_name)
    .bind(new.tenant_id.0)
    .bind(new.role.as_str())
    .bind(new.unix_account)
    .bind(new.password_hash)
    .bind(Status::Active.as_str())
    .bind(new.created_at)
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_unique("user", new.name))?;
    Ok(UserId(id))
}

impl Store {
    /// `select` rows, only those whose `column` is `only` when given, in
    /// `order`, at most `limit`.
    async fn fetch_where(
        &self,
        select: &str,
        column: &str,
        only: Option<i64>,
        order: &str,
        limit: Option<i64>,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let mut sql = select.to_owned();
        let mut next = 1;
        if only.is_some() {
            sql.push_str(&format!(" WHERE {column} = ${next}"));
            next += 1;
        }
        sql.push_str(&format!(" {order}"));
        if limit.is_some() {
            sql.push_str(&format!(" LIMIT ${next}"));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(value) = only {
            query = query.bind(value);
        }
        if let Some(limit) = limit {
            query = query.bind(limit);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    pub async fn create_tenant(&self, new: &NewTenant<'_>, audit: &AuditEntry) -> Result<TenantRecord, StoreError> {
        let mut tx = self.begin().await?;
        let tenant = insert_tenant(&mut tx, new).await?;
        append_audit(&mut tx, &AuditEntry { tenant_id: Some(tenant.id), ..audit.clone() }).await?;
        tx.commit().await?;
        Ok(tenant)
    }

    pub async fn tenant_by_name(&self, name: &str) -> Result<TenantRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{TENANT_COLUMNS} WHERE name = $1")))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "tenant", key: name.to_owned() })?;
        tenant_from_row(&row)
    }

    pub async fn list_tenants(&self, only: Option<TenantId>) -> Result<Vec<TenantRecord>, StoreError> {
        let found = self.fetch_where(TENANT_COLUMNS, "id", only.map(|t| t.0), "ORDER BY name", None).await?;
        rows(found, tenant_from_row)
    }

    pub async fn set_tenant_status(&self, id: TenantId, status: Status, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE tenants SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_user(&self, new: &NewUser<'_>, audit: &AuditEntry) -> Result<UserRecord, StoreError> {
        let mut tx = self.begin().await?;
        let id = insert_user(&mut tx, new).await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.user_by_id(id).await
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<UserRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_COLUMNS} WHERE u.id = $1")))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "user", key: id.to_string() })?;
        user_from_row(&row)
    }

    pub async fn user_by_name(&self, name: &str) -> Result<UserRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_COLUMNS} WHERE u.name = $1")))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "user", key: name.to_owned() })?;
        user_from_row(&row)
    }

    /// The stored password hash (PHC string) of an active or disabled user.
    pub async fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "user", key: id.to_string() })?;
        Ok(row.try_get("password_hash")?)
    }

    /// The portal language a user chose, if any.
    pub async fn user_language(&self, id: UserId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT language FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "user", key: id.to_string() })?;
        Ok(row.try_get("language")?)
    }

    /// Sets (or, with `None`, forgets) a user's portal language.
    pub async fn set_user_language(
        &self,
        id: UserId,
        language: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET language = $1 WHERE id = $2").bind(language).bind(id.0).execute(&mut *tx).await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_users(&self, only: Option<TenantId>) -> Result<Vec<UserRecord>, StoreError> {
        let found = self.fetch_where(USER_COLUMNS, "u.tenant_id", only.map(|t| t.0), "ORDER BY u.name", None).await?;
        rows(found, user_from_row)
    }

    /// Disabling a user also revokes all of their tokens, in one transaction.
    pub async fn set_user_status(
        &self,
        id: UserId,
        status: Status,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if status == Status::Disabled {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_password_hash(&self, id: UserId, hash: &str, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a project with its PI as first member.
    pub async fn create_project(&self, new: &NewProject<'_>, audit: &AuditEntry) -> Result<ProjectRecord, StoreError> {
        let mut tx = self.begin().await?;
        let id = next_id(&mut tx, "project").await?;
        sqlx::query("INSERT INTO projects (id, name, tenant_id, description, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(new.name)
            .bind(new.tenant_id.0)
            .bind(new.description)
            .bind(Status::Active.as_str())
            .bind(new.created_at)
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("project", new.name))?;
        sqlx::query("INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(new.pi.0)
            .bind(ProjectRole::Pi.as_str())
            .bind(new.created_at)
            .execute(&mut *tx)
            .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.project_by_name(new.name).await
    }

    pub async fn project_by_name(&self, name: &str) -> Result<ProjectRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{PROJECT_COLUMNS} WHERE p.name = $1")))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "project", key: name.to_owned() })?;
        project_from_row(&row)
    }

    pub async fn list_projects(&self, scope: ProjectScope) -> Result<Vec<ProjectRecord>, StoreError> {
        let found = match scope {
            ProjectScope::All => sqlx::query(sqlx::AssertSqlSafe(format!("{PROJECT_COLUMNS} ORDER BY p.name")))
                .fetch_all(&self.pool)
                .await?,
            ProjectScope::Tenant(id) => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{PROJECT_COLUMNS} WHERE p.tenant_id = $1 ORDER BY p.name")))
                    .bind(id.0)
                    .fetch_all(&self.pool)
                    .await?
            }
            ProjectScope::MemberOf(user) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "{PROJECT_COLUMNS} WHERE p.id IN (SELECT project_id FROM project_members WHERE user_id = $1) ORDER BY p.name"
            )))
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?,
        };
        rows(found, project_from_row)
    }

    pub async fn set_project_status(
        &self,
        id: ProjectId,
        status: Status,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE projects SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn project_members(&self, id: ProjectId) -> Result<Vec<MemberRecord>, StoreError> {
        let mut members = self.members_of_projects(&[id]).await?;
        Ok(members.pop().map(|(_, m)| m).unwrap_or_default())
    }

    /// The members of each of `projects`, in one query, in the order given.
    pub async fn members_of_projects(
        &self,
        projects: &[ProjectId],
    ) -> Result<Vec<(ProjectId, Vec<MemberRecord>)>, StoreError> {
        if projects.is_empty() {
            return Ok(Vec::new());
        }
        // Placeholders numbered by hand: $1, $2, ... work on both databases.
        let marks: Vec<String> = (1..=projects.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT m.project_id, m.user_id, u.name, u.display_name, m.role, m.added_at
             FROM project_members m JOIN users u ON u.id = m.user_id
             WHERE m.project_id IN ({}) ORDER BY u.name",
            marks.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for project in projects {
            query = query.bind(project.0);
        }
        let mut by_project: Vec<(ProjectId, Vec<MemberRecord>)> = projects.iter().map(|p| (*p, Vec::new())).collect();
        for row in query.fetch_all(&self.pool).await? {
            let project = ProjectId(row.try_get("project_id")?);
            let member = MemberRecord {
                user_id: UserId(row.try_get("user_id")?),
                user_name: row.try_get("name")?,
                display_name: row.try_get("display_name")?,
                role: parse_text("role", row.try_get("role")?)?,
                added_at: row.try_get("added_at")?,
            };
            if let Some((_, members)) = by_project.iter_mut().find(|(p, _)| *p == project) {
                members.push(member);
            }
        }
        Ok(by_project)
    }

    /// Every project the user belongs to, with their role in it, in one query.
    pub async fn memberships_of(&self, user: UserId) -> Result<Vec<(ProjectId, String, ProjectRole)>, StoreError> {
        let found = sqlx::query(
            "SELECT p.id, p.name, m.role FROM project_members m JOIN projects p ON p.id = m.project_id
             WHERE m.user_id = $1 ORDER BY p.name",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        found
            .iter()
            .map(|row| {
                Ok((ProjectId(row.try_get("id")?), row.try_get("name")?, parse_text("role", row.try_get("role")?)?))
            })
            .collect()
    }

    /// Adds a member, or changes the role of an existing one.
    pub async fn put_member(
        &self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(project.0)
        .bind(user.0)
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_member(&self, project: ProjectId, user: UserId, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2")
            .bind(project.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "member", key: user.to_string() });
        }
        // Their limits in the project go with them: one who comes back
        // starts without.
        sqlx::query("DELETE FROM member_limits WHERE project_id = $1 AND user_id = $2")
            .bind(project.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The audit log, newest first; `tenant` narrows it to one tenant's rows.
    pub async fn list_audit(
        &self,
        tenant: Option<TenantId>,
        limit: i64,
    ) -> Result<Vec<crate::AuditRecord>, StoreError> {
        let all = AuditMatch { tenant, action: None, actor: None, target_kind: None, from: None, to: None };
        self.list_audit_matching(&all, 0, limit).await
    }

    /// How many of the audit log's entries match `m`.
    pub async fn count_audit_matching(&self, m: &AuditMatch<'_>) -> Result<i64, StoreError> {
        let (conditions, params) = audit_conditions(m);
        let sql = format!("SELECT COUNT(*) FROM audit_log{conditions}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for param in params {
            query = match param {
                AuditParam::Int(value) => query.bind(value),
                AuditParam::Text(value) => query.bind(value.to_owned()),
            };
        }
        Ok(query.fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// The audit log's entries that match `m`, newest first: at most
    /// `limit`, after skipping the `offset` newest (a page of a long log).
    pub async fn list_audit_matching(
        &self,
        m: &AuditMatch<'_>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<crate::AuditRecord>, StoreError> {
        let (conditions, mut params) = audit_conditions(m);
        let mut sql = format!(
            "SELECT id, at, actor, action, target_kind, target, tenant_id, before_json, after_json, request_id FROM audit_log{conditions}"
        );
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${} OFFSET ${}", params.len() + 1, params.len() + 2));
        params.push(AuditParam::Int(limit));
        params.push(AuditParam::Int(offset));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for param in params {
            query = match param {
                AuditParam::Int(value) => query.bind(value),
                AuditParam::Text(value) => query.bind(value.to_owned()),
            };
        }
        let found = query.fetch_all(&self.pool).await?;
        found
            .iter()
            .map(|row| {
                Ok(crate::AuditRecord {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    target_kind: row.try_get("target_kind")?,
                    target: row.try_get("target")?,
                    tenant_id: row.try_get::<Option<i64>, _>("tenant_id")?.map(TenantId),
                    before: row.try_get("before_json")?,
                    after: row.try_get("after_json")?,
                    request_id: row.try_get("request_id")?,
                })
            })
            .collect()
    }
}

/// A value for one of the audit query's placeholders.
enum AuditParam<'a> {
    Int(i64),
    Text(&'a str),
}

/// What `m` asks of `audit_log` (` WHERE ...`, empty for everything) and
/// the values of its placeholders `$1`...: one translation for a page and
/// its count, so the two agree.
fn audit_conditions<'a>(m: &AuditMatch<'a>) -> (String, Vec<AuditParam<'a>>) {
    // Every field by name: a new one must be matched here to compile.
    let AuditMatch { tenant, action, actor, target_kind, from, to } = *m;
    let mut sql = String::new();
    let mut params = Vec::new();
    let conditions = [
        ("tenant_id = ", tenant.map(|t| AuditParam::Int(t.0))),
        ("action = ", action.map(AuditParam::Text)),
        ("actor = ", actor.map(AuditParam::Text)),
        ("target_kind = ", target_kind.map(AuditParam::Text)),
        ("at >= ", from.map(AuditParam::Int)),
        ("at < ", to.map(AuditParam::Int)),
    ];
    for (condition, param) in conditions {
        if let Some(param) = param {
            sql.push_str(if params.is_empty() { " WHERE " } else { " AND " });
            sql.push_str(&format!("{condition}${}", params.len() + 1));
            params.push(param);
        }
    }
    (sql, params)
}

/// Which audit entries to read: each `None` matches all; `at` from `from`
/// (included) to `to` (excluded), in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct AuditMatch<'a> {
    pub tenant: Option<TenantId>,
    pub action: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub target_kind: Option<&'a str>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}
