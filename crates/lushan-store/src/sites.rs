//! Sites, partitions and nodes, and the first-start bootstrap.

use crate::error::conflict_on_unique;
use crate::tenancy::{insert_tenant, insert_user};
use crate::tokens::insert_token;
use crate::{
    AuditEntry, Bootstrap, InventoryRecord, NewSite, NewSlurmSite, NewToken, NodeRecord, PartitionRecord, SiteRecord,
    Store, StoreError,
};
use crate::{append_audit, next_id, parse_text};
use lushan_model::{NodeId, PartitionId, SiteId, Status, TenantId};
use sqlx::{Any, Row, Transaction};

/// `meta` key written by the bootstrap; its presence means "already set up".
const BOOTSTRAPPED: &str = "bootstrapped_at";

async fn insert_site(
    tx: &mut Transaction<'static, Any>,
    site: &NewSite<'_>,
    owner: TenantId,
) -> Result<SiteId, StoreError> {
    let site_id = insert_site_row(
        tx,
        &NewSlurmSite {
            name: site.name,
            transport: "",
            rest_url: "",
            jwt_key_path: "",
            slurm_bin: "",
            service_user: "",
            cluster: "",
            created_at: site.created_at,
        },
        site.backend,
    )
    .await?;
    let partition_id = next_id(tx, "partition").await?;
    sqlx::query("INSERT INTO partitions (id, site_id, name, is_default) VALUES ($1, $2, $3, 1)")
        .bind(partition_id)
        .bind(site_id)
        .bind(site.partition)
        .execute(&mut **tx)
        .await?;
    for node in &site.nodes {
        let node_id = next_id(tx, "node").await?;
        sqlx::query(
            "INSERT INTO nodes (id, site_id, name, cpus, memory_mb, gpus, gpu_type, owner_tenant_id, features)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(node_id)
        .bind(site_id)
        .bind(node.name)
        .bind(node.cpus)
        .bind(node.memory_mb)
        .bind(node.gpus)
        .bind(node.gpu_type)
        .bind(owner.0)
        .bind(node.features)
        .execute(&mut **tx)
        .await
        .map_err(conflict_on_unique("node", node.name))?;
        sqlx::query("INSERT INTO partition_nodes (partition_id, node_id) VALUES ($1, $2)")
            .bind(partition_id)
            .bind(node_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(SiteId(site_id))
}

/// The site's row and its default price: a new site is priced at the
/// default until the operator sets its own (docs/billing.md), so a job is
/// never run without a price.
async fn insert_site_row(
    tx: &mut Transaction<'static, Any>,
    site: &NewSlurmSite<'_>,
    backend: &str,
) -> Result<i64, StoreError> {
    let site_id = next_id(tx, "site").await?;
    sqlx::query(
        "INSERT INTO sites (id, name, backend, status, created_at, rest_url, jwt_key_path, service_user, cluster,
            transport, slurm_bin)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(site_id)
    .bind(site.name)
    .bind(backend)
    .bind(Status::Active.as_str())
    .bind(site.created_at)
    .bind(site.rest_url)
    .bind(site.jwt_key_path)
    .bind(site.service_user)
    .bind(site.cluster)
    .bind(site.transport)
    .bind(site.slurm_bin)
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_unique("site", site.name))?;
    let price_id = next_id(tx, "price").await?;
    let price = lushan_ledger::DEFAULT_PRICE;
    sqlx::query(
        "INSERT INTO prices (id, site_id, partition_id, qos, core_hour_micro, gpu_hour_micro, gb_hour_micro,
            su_per_gpu_hour, created_at, created_by) VALUES ($1, $2, NULL, '', $3, $4, $5, $6, $7, 'lushan')",
    )
    .bind(price_id)
    .bind(site_id)
    .bind(price.core_hour.0)
    .bind(price.gpu_hour.0)
    .bind(price.gb_hour.0)
    .bind(price.su_per_gpu_hour)
    .bind(site.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(site_id)
}

impl Store {
    /// Whether the platform was already set up in this database.
    pub async fn is_bootstrapped(&self) -> Result<bool, StoreError> {
        Ok(self.meta(BOOTSTRAPPED).await?.is_some())
    }

    /// Sets up a new platform in one transaction. Returns `Ok(false)` and
    /// changes nothing when another process bootstrapped it first.
    pub async fn bootstrap(&self, boot: &Bootstrap<'_>, audit: &AuditEntry) -> Result<bool, StoreError> {
        let _changed = self.sites_cache.changes();
        let mut tx = self.begin().await?;
        let claimed = sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(BOOTSTRAPPED)
            .bind(boot.centre.created_at.to_string())
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let centre = insert_tenant(&mut tx, &boot.centre).await?;
        let operator = insert_user(&mut tx, &crate::NewUser { tenant_id: centre.id, ..boot.operator }).await?;
        insert_token(
            &mut tx,
            &NewToken {
                user_id: operator,
                name: boot.token_name,
                token_hash: boot.token_hash,
                created_at: boot.centre.created_at,
                expires_at: None,
            },
        )
        .await?;
        insert_site(&mut tx, &boot.site, centre.id).await?;
        append_audit(
            &mut tx,
            &AuditEntry { actor_user_id: Some(operator), tenant_id: Some(centre.id), ..audit.clone() },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a site owned by `owner` unless one of that name exists; returns
    /// whether it was added.
    pub async fn ensure_site(
        &self,
        site: &NewSite<'_>,
        owner: TenantId,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let _changed = self.sites_cache.changes();
        let mut tx = self.begin().await?;
        let exists =
            sqlx::query("SELECT id FROM sites WHERE name = $1").bind(site.name).fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_site(&mut tx, site, owner).await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every site with its partitions and nodes.
    pub async fn list_sites(&self) -> Result<Vec<SiteRecord>, StoreError> {
        let generation = match self.sites_cache.get() {
            Ok(sites) => return Ok(sites),
            Err(generation) => generation,
        };
        let sites = self.read_sites().await?;
        self.sites_cache.put(generation, &sites);
        Ok(sites)
    }

    async fn read_sites(&self) -> Result<Vec<SiteRecord>, StoreError> {
        let site_rows = sqlx::query(
            "SELECT id, name, backend, status, created_at, transport, rest_url, jwt_key_path, slurm_bin, service_user, cluster,
                synced_at, last_error
             FROM sites ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let partition_rows =
            sqlx::query("SELECT id, site_id, name, is_default, preempt_mode, grace_secs, max_time_secs, priority_job_factor FROM partitions ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        let node_rows = sqlx::query(
            "SELECT n.id, n.site_id, n.name, n.cpus, n.memory_mb, n.gpus, n.gpu_type, n.features, n.owner_tenant_id, t.name AS owner,
                t.sector AS owner_sector, n.state
             FROM nodes n JOIN tenants t ON t.id = n.owner_tenant_id ORDER BY n.name",
        )
        .fetch_all(&self.pool)
        .await?;
        let membership_rows = sqlx::query(
            "SELECT pn.partition_id, n.name FROM partition_nodes pn JOIN nodes n ON n.id = pn.node_id ORDER BY n.name",
        )
        .fetch_all(&self.pool)
        .await?;

        let mut sites = Vec::with_capacity(site_rows.len());
        for row in &site_rows {
            let id: i64 = row.try_get("id")?;
            let mut partitions = Vec::new();
            for p in &partition_rows {
                if p.try_get::<i64, _>("site_id")? != id {
                    continue;
                }
                let partition_id: i64 = p.try_get("id")?;
                let mut node_names = Vec::new();
                for m in &membership_rows {
                    if m.try_get::<i64, _>("partition_id")? == partition_id {
                        node_names.push(m.try_get("name")?);
                    }
                }
                partitions.push(PartitionRecord {
                    id: PartitionId(partition_id),
                    name: p.try_get("name")?,
                    is_default: p.try_get::<i64, _>("is_default")? == 1,
                    node_names,
                    preempt_mode: p.try_get("preempt_mode")?,
                    grace_secs: p.try_get("grace_secs")?,
                    max_time_secs: p.try_get("max_time_secs")?,
                    priority_job_factor: p.try_get("priority_job_factor")?,
                });
            }
            let mut nodes = Vec::new();
            for n in &node_rows {
                if n.try_get::<i64, _>("site_id")? != id {
                    continue;
                }
                nodes.push(NodeRecord {
                    id: NodeId(n.try_get("id")?),
                    name: n.try_get("name")?,
                    cpus: n.try_get("cpus")?,
                    memory_mb: n.try_get("memory_mb")?,
                    gpus: n.try_get("gpus")?,
                    gpu_type: n.try_get("gpu_type")?,
                    owner_tenant: n.try_get("owner")?,
                    owner_tenant_id: TenantId(n.try_get("owner_tenant_id")?),
                    co_built: n.try_get::<String, _>("owner_sector")? != lushan_model::Sector::Centre.as_str(),
                    features: n
                        .try_get::<String, _>("features")?
                        .split(',')
                        .filter(|f| !f.is_empty())
                        .map(String::from)
                        .collect(),
                    state: n.try_get("state")?,
                });
            }
            sites.push(SiteRecord {
                id: SiteId(id),
                name: row.try_get("name")?,
                backend: row.try_get("backend")?,
                status: parse_text("status", row.try_get("status")?)?,
                created_at: row.try_get("created_at")?,
                transport: row.try_get("transport")?,
                rest_url: row.try_get("rest_url")?,
                jwt_key_path: row.try_get("jwt_key_path")?,
                slurm_bin: row.try_get("slurm_bin")?,
                service_user: row.try_get("service_user")?,
                cluster: row.try_get("cluster")?,
                synced_at: row.try_get("synced_at")?,
                last_error: row.try_get("last_error")?,
                partitions,
                nodes,
            });
        }
        Ok(sites)
    }
}

impl Store {
    /// Gives a node to a tenant (a co-builder) or back to the centre. Jobs
    /// that end afterwards are shared with the new owner.
    pub async fn set_node_owner(
        &self,
        site: SiteId,
        node: &str,
        owner: TenantId,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let _changed = self.sites_cache.changes();
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE nodes SET owner_tenant_id = $1 WHERE site_id = $2 AND name = $3")
            .bind(owner.0)
            .bind(site.0)
            .bind(node)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound { what: "node", key: node.to_owned() });
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a partition does to guests on co-built nodes when their owner
    /// needs them: `mode` is `off`, `cancel` or `requeue` (checked by the
    /// caller), `grace_secs` between SIGTERM and SIGKILL.
    pub async fn set_partition_preemption(
        &self,
        site: SiteId,
        partition: &str,
        mode: &str,
        grace_secs: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let _changed = self.sites_cache.changes();
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE partitions SET preempt_mode = $1, grace_secs = $2 WHERE site_id = $3 AND name = $4")
                .bind(mode)
                .bind(grace_secs)
                .bind(site.0)
                .bind(partition)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound { what: "partition", key: partition.to_owned() });
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// A partition's PriorityJobFactor (checked by the caller).
    pub async fn set_partition_priority(
        &self,
        site: SiteId,
        partition: &str,
        priority_job_factor: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let _changed = self.sites_cache.changes();
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE partitions SET priority_job_factor = $1 WHERE site_id = $2 AND name = $3")
            .bind(priority_job_factor)
            .bind(site.0)
            .bind(partition)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound { what: "partition", key: partition.to_owned() });
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Adds a Slurm site (no partitions or nodes until the first
    /// [`Store::sync_inventory`]).
    pub async fn add_slurm_site(&self, site: &NewSlurmSite<'_>, audit: &AuditEntry) -> Result<SiteId, StoreError> {
        let _changed = self.sites_cache.changes();
        let mut tx = self.begin().await?;
        let id = insert_site_row(&mut tx, site, "slurm").await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(SiteId(id))
    }

    /// Makes a Slurm site's partitions and nodes what Slurm reports, in one
    /// transaction. New nodes belong to `owner` (the centre) until an
    /// operator records a co-builder; known nodes keep their owner and
    /// partitions keep their preemption settings. Nodes and partitions
    /// Slurm no longer reports stay (jobs refer to them) with no members,
    /// and such nodes are marked `gone`.
    pub async fn sync_inventory(
        &self,
        site: SiteId,
        inventory: &InventoryRecord,
        owner: TenantId,
        at: i64,
    ) -> Result<(), StoreError> {
        let _changed = self.sites_cache.changes();
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM partition_nodes WHERE partition_id IN (SELECT id FROM partitions WHERE site_id = $1)")
            .bind(site.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE nodes SET state = 'gone' WHERE site_id = $1").bind(site.0).execute(&mut *tx).await?;
        let mut node_ids = std::collections::HashMap::new();
        for node in &inventory.nodes {
            let existing = sqlx::query("SELECT id FROM nodes WHERE site_id = $1 AND name = $2")
                .bind(site.0)
                .bind(&node.name)
                .fetch_optional(&mut *tx)
                .await?;
            let id = match existing {
                Some(row) => {
                    let id: i64 = row.try_get("id")?;
                    sqlx::query(
                        "UPDATE nodes SET cpus = $1, memory_mb = $2, gpus = $3, gpu_type = $4, features = $5, state = $6
                         WHERE id = $7",
                    )
                    .bind(node.cpus)
                    .bind(node.memory_mb)
                    .bind(node.gpus)
                    .bind(node.gpu_type.as_deref())
                    .bind(&node.features)
                    .bind(&node.state)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
                None => {
                    let id = next_id(&mut tx, "node").await?;
                    sqlx::query(
                        "INSERT INTO nodes (id, site_id, name, cpus, memory_mb, gpus, gpu_type, owner_tenant_id,
                            features, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(id)
                    .bind(site.0)
                    .bind(&node.name)
                    .bind(node.cpus)
                    .bind(node.memory_mb)
                    .bind(node.gpus)
                    .bind(node.gpu_type.as_deref())
                    .bind(owner.0)
                    .bind(&node.features)
                    .bind(&node.state)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
            };
            node_ids.insert(node.name.as_str(), id);
        }
        for (name, is_default, members, max_time_secs) in &inventory.partitions {
            let existing = sqlx::query("SELECT id FROM partitions WHERE site_id = $1 AND name = $2")
                .bind(site.0)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
            let id = match existing {
                Some(row) => {
                    let id: i64 = row.try_get("id")?;
                    sqlx::query("UPDATE partitions SET is_default = $1, max_time_secs = $2 WHERE id = $3")
                        .bind(i64::from(*is_default))
                        .bind(*max_time_secs)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    id
                }
                None => {
                    let id = next_id(&mut tx, "partition").await?;
                    // Slurm decides preemption on its own nodes: Lushan's is off.
                    sqlx::query(
                        "INSERT INTO partitions (id, site_id, name, is_default, preempt_mode, max_time_secs)
                         VALUES ($1, $2, $3, $4, 'off', $5)",
                    )
                    .bind(id)
                    .bind(site.0)
                    .bind(name)
                    .bind(i64::from(*is_default))
                    .bind(*max_time_secs)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
            };
            for member in members {
                if let Some(node_id) = node_ids.get(member.as_str()) {
                    sqlx::query("INSERT INTO partition_nodes (partition_id, node_id) VALUES ($1, $2)")
                        .bind(id)
                        .bind(node_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        sqlx::query("UPDATE sites SET synced_at = $1, last_error = '' WHERE id = $2")
            .bind(at)
            .bind(site.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The centre's tenant: it owns every node no co-builder does.
    pub async fn centre_tenant_id(&self) -> Result<TenantId, StoreError> {
        let row = sqlx::query("SELECT id FROM tenants WHERE sector = $1 ORDER BY id LIMIT 1")
            .bind(lushan_model::Sector::Centre.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "tenant", key: "the centre".into() })?;
        Ok(TenantId(row.try_get("id")?))
    }

    /// Records what went wrong talking to a site ('' once it answers again).
    /// Records a Slurm site's cluster name in slurmdbd (sites added before
    /// Lushan kept it have none).
    pub async fn set_site_cluster(&self, site: SiteId, cluster: &str) -> Result<(), StoreError> {
        let _changed = self.sites_cache.changes();
        sqlx::query("UPDATE sites SET cluster = $1 WHERE id = $2")
            .bind(cluster)
            .bind(site.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_site_error(&self, site: SiteId, error: &str) -> Result<(), StoreError> {
        let _changed = self.sites_cache.changes();
        sqlx::query("UPDATE sites SET last_error = $1 WHERE id = $2 AND last_error <> $1")
            .bind(error)
            .bind(site.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The sites as last read. Every control pass and every submission lists
/// them, and they change only when an operator acts or a Slurm site's
/// inventory is read: four queries a pass saved (about 1 ms here). Every
/// method that writes sites, partitions or nodes holds a `Changes` while
/// it runs; a read that started before a write ended is not kept.
#[derive(Debug, Default)]
pub(crate) struct SitesCache {
    /// (writes so far, the sites read since the last of them)
    inner: std::sync::Mutex<(u64, Option<Vec<SiteRecord>>)>,
}

impl SitesCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Option<Vec<SiteRecord>>)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached sites, or the generation a fresh read must be put with.
    fn get(&self) -> Result<Vec<SiteRecord>, u64> {
        let inner = self.lock();
        inner.1.clone().ok_or(inner.0)
    }

    fn put(&self, generation: u64, sites: &[SiteRecord]) {
        let mut inner = self.lock();
        if inner.0 == generation {
            inner.1 = Some(sites.to_vec());
        }
    }

    /// Forgets the cache now and again when the returned guard drops (after
    /// the write's commit, on every path out of the method).
    fn changes(&self) -> Changes<'_> {
        self.forget();
        Changes(self)
    }

    fn forget(&self) {
        let mut inner = self.lock();
        inner.0 += 1;
        inner.1 = None;
    }
}

pub(crate) struct Changes<'a>(&'a SitesCache);

impl Drop for Changes<'_> {
    fn drop(&mut self) {
        self.0.forget();
    }
}
