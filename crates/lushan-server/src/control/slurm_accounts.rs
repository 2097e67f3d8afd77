//! Slurm sites' accounts following the platform (see
//! `lushan_backend::slurm::accounts` for the tree and the rules). Two
//! callers: the operator's `lushan admin site sync` (a report with
//! `--dry-run`, every change without), and the forwarding pass, which
//! adds what a job needs (its project's account, its user's association)
//! before sending it, so a new member's first job does not wait for an
//! operator. Removals and moves, which undo what someone did on the
//! cluster, are only made when an operator asks. Limits go with the
//! associations: set unasked before a job is sent and on the first pass
//! after they change in the platform (and after a start).

use super::Control;
use super::slurm::Failure;
use lushan_backend::slurm::SlurmSite;
use lushan_backend::slurm::accounts::{AccountChange, AssociationLimits, WantedAccount, plan, tenant_account};
use lushan_model::Status;
use lushan_store::{LimitScope, LimitValues, ProjectScope, SiteRecord, StoreError};
use std::collections::{BTreeMap, HashMap};

/// How much of the plan to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Report only.
    DryRun,
    /// What the control loop makes unasked: additions and limits
    /// ([`AccountChange::is_unasked`]).
    Unasked,
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
    /// Changes this site's transport cannot make, each with the sacctmgr
    /// command that makes it on the cluster.
    pub by_hand: Vec<String>,
}

impl Control {
    /// The accounts Lushan wants on every Slurm site: a tenant account for
    /// each active tenant with an active project, a project account for
    /// each active project, with the active members that have a Unix
    /// account as its users. A project's limits go on its account; a
    /// member's, tightened by the user's own, on their association (Slurm
    /// has no limit on one user across accounts but a QOS's for everyone,
    /// so a user's limit holds in each of their projects).
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
        let limits: HashMap<LimitScope, AssociationLimits> =
            self.store.list_limits().await?.into_iter().map(|l| (l.scope, association_limits(l.values))).collect();
        let limit = |scope| limits.get(&scope).copied().unwrap_or_default();
        let ids: Vec<_> = projects.iter().map(|p| p.id).collect();
        let members: HashMap<_, _> = self.store.members_of_projects(&ids).await?.into_iter().collect();
        let mut by_tenant: BTreeMap<String, Vec<WantedAccount>> = BTreeMap::new();
        for project in &projects {
            let users: BTreeMap<String, AssociationLimits> = members
                .get(&project.id)
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    let member = limit(LimitScope::Member { project: project.id.0, user: m.user_id.0 });
                    Some((users.get(&m.user_id)?.clone(), member.tightest(limit(LimitScope::User(m.user_id.0)))))
                })
                .collect();
            by_tenant.entry(project.tenant_name.clone()).or_default().push(WantedAccount {
                name: project.name.clone(),
                parent: tenant_account(&project.tenant_name),
                description: format!("project {} of tenant {}", project.name, project.tenant_name),
                organization: project.tenant_name.clone(),
                limits: limit(LimitScope::Project(project.id.0)),
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
                limits: AssociationLimits::default(),
                users: BTreeMap::new(),
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
        // Read first: limits changed while this runs are sent again.
        let limits_version = self.slurm.lock().await.limits_version;
        let wanted = self.wanted_accounts().await?;
        let have = client.accounts(&site.cluster).await?;
        let mut changes = plan(&wanted, &have);
        if mode == SyncMode::Unasked {
            changes.retain(AccountChange::is_unasked);
        }
        let by_hand = client.by_hand(&site.cluster, &changes);
        if mode != SyncMode::DryRun && changes.is_empty() {
            self.slurm.lock().await.limits_pushed.insert(site.id.0, limits_version);
        }
        if mode == SyncMode::DryRun || changes.is_empty() {
            self.remember_associations(site, &have).await;
            // Nothing applied, so nothing was refused or left over by slurmdbd.
            return Ok(SyncOutcome { changes, left: Vec::new(), said: Vec::new(), by_hand });
        }
        let said = client.apply_accounts(&site.cluster, &changes).await?;
        self.slurm.lock().await.limits_pushed.insert(site.id.0, limits_version);
        let have = client.accounts(&site.cluster).await?;
        let mut left = plan(&wanted, &have);
        if mode == SyncMode::Unasked {
            left.retain(AccountChange::is_unasked);
        }
        self.remember_associations(site, &have).await;
        tracing::info!(site = site.name, changes = changes.len(), left = left.len(), "Slurm accounts synced");
        Ok(SyncOutcome { changes, left, said, by_hand })
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
            .flat_map(|(account, a)| a.users.keys().map(move |u| (account.clone(), u.clone())))
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
        let outcome = self.sync_accounts_with(site, client, SyncMode::Unasked).await?;
        warn_left(site, &outcome);
        Ok(())
    }

    /// The platform's limits changed: every Slurm site gets them on its
    /// next pass.
    pub async fn limits_changed(&self) {
        self.slurm.lock().await.limits_version += 1;
        self.wake();
    }

    /// On a site's pass: the limits, if they changed since the site was
    /// last synced (or the server started since). What slurmdbd did not
    /// take is not tried again until they change; the site's check shows it.
    pub(super) async fn push_limits(&self, site: &SiteRecord, client: &SlurmSite) -> Result<(), Failure> {
        let version = self.slurm.lock().await.limits_version;
        if site.cluster.is_empty() || self.slurm.lock().await.limits_pushed.get(&site.id.0) == Some(&version) {
            return Ok(());
        }
        let outcome = self.sync_accounts_with(site, client, SyncMode::Unasked).await?;
        warn_left(site, &outcome);
        Ok(())
    }

    /// Forgets what was seen of a site's associations (a job was refused:
    /// someone may have changed them on the cluster).
    pub(super) async fn forget_associations(&self, site: &SiteRecord) {
        self.slurm.lock().await.associations.remove(&site.id.0);
    }
}

fn warn_left(site: &SiteRecord, outcome: &SyncOutcome) {
    if !outcome.left.is_empty() {
        tracing::warn!(
            site = site.name,
            left = ?outcome.left.iter().map(ToString::to_string).collect::<Vec<_>>(),
            said = ?outcome.said,
            "slurmdbd did not take every account change"
        );
    }
}

/// A stored limit as the association's: running jobs, jobs submitted, CPUs, GPUs.
fn association_limits(values: LimitValues) -> AssociationLimits {
    AssociationLimits {
        jobs: values.max_running_jobs,
        submitted: values.max_submitted,
        cpus: values.max_cpus,
        gpus: values.max_gpus,
    }
}
