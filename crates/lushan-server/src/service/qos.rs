//! Quality of service levels and partition priorities: what operators set
//! to order the local site's queue beyond age, fair-share and size
//! (docs/scheduling.md, "Priority").

use super::{Caller, ServiceError, Services, audit_by};
use lushan_store::QosRecord;
use serde_json::json;

/// Slurm keeps QOS priorities and PriorityJobFactor in 32 bits; we stay
/// far inside that so a weighted sum never overflows.
pub const MAX_PRIORITY: i64 = 1_000_000;

impl Services {
    /// Every QOS (any signed-in user: they choose one with `-q`).
    pub async fn list_qos(&self) -> Result<Vec<QosRecord>, ServiceError> {
        Ok(self.store.list_qos().await?)
    }

    /// The QOS named `name`, or an error listing the ones there are.
    pub(super) async fn qos_named(&self, name: &str) -> Result<QosRecord, ServiceError> {
        let mut known = self.store.list_qos().await?;
        match known.iter().position(|q| q.name == name) {
            Some(i) => Ok(known.swap_remove(i)),
            None => {
                let names: Vec<&str> = known.iter().map(|q| q.name.as_str()).collect();
                Err(ServiceError::Invalid(format!("unknown QOS `{name}`; you may use: {}", names.join(", "))))
            }
        }
    }

    /// Adds a QOS or changes one (operators only). A description not given
    /// keeps the current one.
    pub async fn set_qos(
        &self,
        caller: &Caller,
        name: &str,
        priority: i64,
        description: Option<&str>,
        now: i64,
    ) -> Result<QosRecord, ServiceError> {
        Self::operator_only(caller, "set QOS")?;
        let valid_name = (1..=32).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && name.starts_with(|c: char| c.is_ascii_lowercase());
        if !valid_name {
            return Err(ServiceError::Invalid(format!(
                "'{}' is not a QOS name: 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter",
                name.chars().take(40).collect::<String>()
            )));
        }
        if !(0..=MAX_PRIORITY).contains(&priority) {
            return Err(ServiceError::Invalid(format!("a QOS priority is 0 to {MAX_PRIORITY}, not {priority}")));
        }
        if description.is_some_and(|d| d.chars().count() > 200 || d.chars().any(char::is_control)) {
            return Err(ServiceError::Invalid("a QOS description is one line of at most 200 characters".into()));
        }
        let before = self.store.list_qos().await?.into_iter().find(|q| q.name == name);
        let qos = QosRecord {
            name: name.to_owned(),
            priority,
            description: description
                .map(str::to_owned)
                .or_else(|| before.as_ref().map(|b| b.description.clone()))
                .unwrap_or_default(),
            updated_at: now,
        };
        let mut audit = audit_by(caller, now, "qos.set", "qos", name);
        audit.before = before.map(|b| json!({"priority": b.priority, "description": b.description}).to_string());
        audit.after = Some(json!({"priority": qos.priority, "description": qos.description}).to_string());
        self.store.set_qos(&qos, &audit).await?;
        Ok(qos)
    }

    /// A partition's PriorityJobFactor (operators only): its jobs' partition
    /// factor is this over the largest of the site's partitions.
    pub async fn set_partition_priority(
        &self,
        caller: &Caller,
        site: &str,
        partition: &str,
        priority_job_factor: i64,
        now: i64,
    ) -> Result<(), ServiceError> {
        Self::operator_only(caller, "set partition priorities")?;
        if !(0..=MAX_PRIORITY).contains(&priority_job_factor) {
            return Err(ServiceError::Invalid(format!(
                "a partition's priority job factor is 0 to {MAX_PRIORITY}, not {priority_job_factor}"
            )));
        }
        let sites = self.store.list_sites().await?;
        let (site, before) = super::sites::find_partition(&sites, site, partition)?;
        let mut audit =
            audit_by(caller, now, "partition.priority", "partition", &format!("{}/{}", site.name, partition));
        audit.before = Some(json!({"priority_job_factor": before.priority_job_factor}).to_string());
        audit.after = Some(json!({"priority_job_factor": priority_job_factor}).to_string());
        self.store.set_partition_priority(site.id, partition, priority_job_factor, &audit).await?;
        Ok(())
    }
}
