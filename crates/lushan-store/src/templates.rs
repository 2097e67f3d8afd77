//! Job templates: the centre's and each user's own. A template is a batch
//! script with a name and a title in each language; the portal's job form
//! is filled from its `#SBATCH` lines.

use crate::error::conflict_on_unique;
use crate::{AuditEntry, Store, StoreError, append_audit, next_id};
use lushan_model::UserId;
use sqlx::Row;
use sqlx::any::AnyRow;

/// The `owner_user_id` of the centre's templates (see migration 0014).
const CENTRE: i64 = 0;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateRecord {
    pub id: i64,
    /// `None`: the centre's, offered to everyone.
    pub owner: Option<UserId>,
    pub name: String,
    pub title: String,
    pub title_en: String,
    pub description: String,
    pub description_en: String,
    pub script: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A template's content, to create or replace one.
pub struct TemplateText<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub title_en: &'a str,
    pub description: &'a str,
    pub description_en: &'a str,
    pub script: &'a str,
}

const COLUMNS: &str = "SELECT id, owner_user_id, name, title, title_en, description, description_en, script, created_at, updated_at FROM job_templates";

fn template_from_row(row: &AnyRow) -> Result<TemplateRecord, StoreError> {
    let owner: i64 = row.try_get("owner_user_id")?;
    Ok(TemplateRecord {
        id: row.try_get("id")?,
        owner: (owner != CENTRE).then_some(UserId(owner)),
        name: row.try_get("name")?,
        title: row.try_get("title")?,
        title_en: row.try_get("title_en")?,
        description: row.try_get("description")?,
        description_en: row.try_get("description_en")?,
        script: row.try_get("script")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// The centre's templates, then `user`'s own, each in the order made.
    pub async fn list_templates(&self, user: UserId) -> Result<Vec<TemplateRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE owner_user_id IN ($1, $2) ORDER BY owner_user_id <> $1, id"
        )))
        .bind(CENTRE)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    pub async fn template(&self, id: i64) -> Result<TemplateRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "template", key: id.to_string() })?;
        template_from_row(&row)
    }

    /// Stores a new template of `owner` (`None`: the centre's) with its
    /// audit row; a name the owner already uses is a conflict.
    pub async fn create_template(
        &self,
        owner: Option<UserId>,
        text: &TemplateText<'_>,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<TemplateRecord, StoreError> {
        let mut tx = self.begin().await?;
        let id = next_id(&mut tx, "template").await?;
        sqlx::query(
            "INSERT INTO job_templates (id, owner_user_id, name, title, title_en, description, description_en, script, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id)
        .bind(owner.map_or(CENTRE, |u| u.0))
        .bind(text.name)
        .bind(text.title)
        .bind(text.title_en)
        .bind(text.description)
        .bind(text.description_en)
        .bind(text.script)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("template", text.name))?;
        append_audit(&mut tx, &AuditEntry { target: id.to_string(), ..audit.clone() }).await?;
        tx.commit().await?;
        self.template(id).await
    }

    /// Replaces a template's content (its owner stays).
    pub async fn update_template(
        &self,
        id: i64,
        text: &TemplateText<'_>,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<TemplateRecord, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE job_templates SET name = $1, title = $2, title_en = $3, description = $4, description_en = $5, script = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(text.name)
        .bind(text.title)
        .bind(text.title_en)
        .bind(text.description)
        .bind(text.description_en)
        .bind(text.script)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("template", text.name))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "template", key: id.to_string() });
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.template(id).await
    }

    pub async fn delete_template(&self, id: i64, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM job_templates WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "template", key: id.to_string() });
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
