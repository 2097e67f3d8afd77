//! Quality of service levels (Slurm's QOS): names users pass with `-q`,
//! each with the priority the multifactor QOS factor is taken from.

use crate::{AuditEntry, Store, StoreError, append_audit};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QosRecord {
    pub name: String,
    /// Slurm's QOS `Priority`.
    pub priority: i64,
    pub description: String,
    pub updated_at: i64,
}

impl Store {
    /// Every QOS, by name.
    pub async fn list_qos(&self) -> Result<Vec<QosRecord>, StoreError> {
        let rows = sqlx::query("SELECT name, priority, description, updated_at FROM qos ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(QosRecord {
                    name: row.try_get("name")?,
                    priority: row.try_get("priority")?,
                    description: row.try_get("description")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// Adds a QOS, or changes the priority and description of one
    /// (checked by the caller). Jobs already submitted keep their QOS.
    pub async fn set_qos(&self, qos: &QosRecord, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO qos (name, priority, description, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET priority = excluded.priority, description = excluded.description,
                updated_at = excluded.updated_at",
        )
        .bind(&qos.name)
        .bind(qos.priority)
        .bind(&qos.description)
        .bind(qos.updated_at)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
