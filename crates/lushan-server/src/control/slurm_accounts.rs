//! Slurm sites' accounts following the platform (see
//! `lushan_backend::slurm::accounts` for the tree and the rules). Two
//! callers: the operator's `lushan admin site sync` (a report with
//! `--dry-run`, every change without), and the forwarding pass, which
//! adds what a job needs (its project's account, its user's association)
//! before sending it, so a new member's first job does not wait for an
//! operator. Removals and moves, which undo what someone did on the
//! cluster, are only made when an operator asks.

use super::Control;
use super::slurm::Failure;
use lushan_backend::slurm::SlurmSite;
use lushan_backend::slurm::accounts::{AccountChange, WantedAccount, plan, tenant_account};
use lushan_model::Status;
use lushan_store::{ProjectScope, SiteRecord, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How much of the plan to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Report only.
    DryRun,
    /// Only what adds (the forwarding pass).
    Additions,
    /// Everything, removals and moves included (the operator).
    Full,
}

/// What a sync found and did.
#[derive(Debug, Default)]
pub struct SyncOutcome {
    /// The changes the cluster needed (made, unless a dry run).
    pub changes: Vec<AccountChange>,
    /// Changes still needed after applying: what slurmdbd did not take.
    pub left: Vec<AccountChange>,
    /// What slurmdbd said against the changes.
    pub said: Vec<String>,
}

impl Control {
    /// The accounts Lushan wants on every Slurm site: a tenant account for
    /// each active tenant with an active project, a project account for
    /// each active project, with the active members that have a Unix
    /// account as its users.
    async fn wanted_accounts(&self) -> Result<Vec<WantedAccount>, StoreError> {
        let tenants: HashMap<_, _> = self.store.list_tenants(None).await?.into_iter().map(|t| (t.id, t)).collect();
        let projects: Vec<_> = self
            .store
            .list_projects(ProjectScope::All)
            .await?
            .into_iter()
            .filter(|p| {
                p.status == Status::Active && tenants.get(&p.tenant_id).is_some_and(|t| t.status == Status::Active)
            })
            .collect();
        let users: HashMap<_, _> = self
            .store
            .list_users(None)
            .await?
            .into_iter()
            .filter(|u| u.status == Status::Active)
            .filter_map(|u| Some((u.id, u.unix_account?)))
            .collect();
        let ids: Vec<_> = projects.iter().map(|p| p.id).collect();
        let members: HashMap<_, _> = self.store.members_of_projects(&ids).await?.into_iter().collect();
        let mut by_tenant: BTreeMap<String, Vec<WantedAccount>> = BTreeMap::new();
        for project in &projects {
            let users: BTreeSet<String> =
                members.get(&project.id).into_iter().flatten().filter_map(|m| users.get(&m.user_id).cloned()).collect();
            by_tenant.entry(project.tenant_name.clone()).or_default().push(WantedAccount {
                name: project.name.clone(),
                parent: tenant_account(&project.tenant_name),
                description: format!("project {} of tenant {}", project.name, project.tenant_name),
                organization: project.tenant_name.clone(),
                users,
            });
        }
        let mut wanted = Vec::new();
        for (tenant, projects) in by_tenant {
            wanted.push(WantedAccount {
                name: tenant_account(&tenant),
                parent: "root".into(),
                description: format!("tenant {tenant}"),
                organization: tenant.clone(),
                users: BTreeSet::new(),
            });
            wanted.extend(projects);
        }
        Ok(wanted)
    }

    /// Compares the site's accounts with the platform's and, unless a dry
    /// run, makes the changes `mode` allows, then reads them back.
    pub(super) async fn sync_accounts_with(
        &self,
        site: &SiteRecord,
        client: &SlurmSite,
        mode: SyncMode,
    ) -> Result<SyncOutcome, Failure> {
        let wanted = self.wanted_accounts().await?;
        let have = client.accounts(&site.cluster).await?;
        let mut changes = plan(&wanted, &have);
        if mode == SyncMode::Additions {
            changes.retain(AccountChange::is_addition);
        }
        if mode == SyncMode::DryRun || changes.is_empty() {
            self.remember_associations(site, &have).await;
            // Nothing applied, so nothing was refused or left over by slurmdbd.
            return Ok(SyncOutcome { changes, left: Vec::new(), said: Vec::new() });
        }
        let said = client.apply_accounts(&site.cluster, &changes).await?;
        let have = client.accounts(&site.cluster).await?;
        let mut left = plan(&wanted, &have);
        if mode == SyncMode::Additions {
            left.retain(AccountChange::is_addition);
        }
        self.remember_associations(site, &have).await;
        tracing::info!(site = site.name, changes = changes.len(), left = left.len(), "Slurm accounts synced");
        Ok(SyncOutcome { changes, left, said })
    }

    /// The operator's sync of one site.
    pub async fn sync_accounts(&self, site: &SiteRecord, mode: SyncMode) -> Result<SyncOutcome, String> {
        let client = self.slurm_client(site).await.map_err(|e| e.to_string())?;
        let mut site = site.clone();
        if site.cluster.is_empty() {
            // Added before Lushan recorded the cluster: slurmdbd's only one.
            let clusters = client.clusters().await.map_err(|e| e.to_string())?;
            let [cluster] = clusters.as_slice() else {
                return Err(format!(
                    "site {} was added without its cluster name and slurmdbd keeps accounts for {} clusters ({}): Lushan cannot tell which is this site's",
                    site.name,
                    clusters.len(),
                    clusters.join(", ")
                ));
            };
            self.store.set_site_cluster(site.id, cluster).await.map_err(|e| e.to_string())?;
            site.cluster.clone_from(cluster);
        }
        self.sync_accounts_with(&site, &client, mode).await.map_err(|failure| match failure {
            Failure::Store(err) => err.to_string(),
            Failure::Site(err) => err.to_string(),
        })
    }

    async fn remember_associations(&self, site: &SiteRecord, have: &lushan_backend::slurm::accounts::ClusterAccounts) {
        let pairs = have
            .accounts
            .iter()
            .filter(|(_, a)| a.parent.is_some())
            .flat_map(|(account, a)| a.users.iter().map(move |u| (account.clone(), u.clone())))
            .collect();
        self.slurm.lock().await.associations.insert(site.id.0, pairs);
    }

    /// Before a job is sent: its user's association with its project on the
    /// site, added if the last look did not see it.
    pub(super) async fn ensure_association(
        &self,
        site: &SiteRecord,
        client: &SlurmSite,
        project: &str,
        user: &str,
    ) -> Result<(), Failure> {
        if site.cluster.is_empty() {
            return Ok(());
        }
        let key = (project.to_owned(), user.to_owned());
        if self.slurm.lock().await.associations.get(&site.id.0).is_some_and(|known| known.contains(&key)) {
            return Ok(());
        }
        let outcome = self.sync_accounts_with(site, client, SyncMode::Additions).await?;
        if !outcome.left.is_empty() {
            tracing::warn!(
                site = site.name,
                left = ?outcome.left.iter().map(ToString::to_string).collect::<Vec<_>>(),
                said = ?outcome.said,
                "slurmdbd did not take every account change"
            );
        }
        Ok(())
    }

    /// Forgets what was seen of a site's associations (a job was refused:
    /// someone may have changed them on the cluster).
    pub(super) async fn forget_associations(&self, site: &SiteRecord) {
        self.slurm.lock().await.associations.remove(&site.id.0);
    }
}
