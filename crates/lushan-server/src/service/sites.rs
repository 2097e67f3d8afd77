//! Adding and checking Slurm sites (operators).

use super::{Caller, ServiceError, Services, audit_by};
use crate::control::{SyncMode, SyncOutcome, inventory_record, open_site, site_endpoint};
use lushan_backend::slurm::{Endpoint, SlurmError, SlurmSite};
use lushan_model::{Name, NameKind};
use lushan_store::{NewSlurmSite, SiteRecord};
use serde_json::json;

/// What `lushan admin site add` asks for.
pub struct NewSiteInput {
    pub name: String,
    pub backend: String,
    /// slurmrestd's URL and the cluster's JWT key (the REST transport)...
    pub rest_url: Option<String>,
    pub jwt_key: Option<String>,
    /// ...or Slurm's commands on the server's host, in `slurm_bin` (default: PATH).
    pub cli: bool,
    pub slurm_bin: Option<String>,
    /// The account Lushan reads the cluster as (default `slurm`).
    pub service_user: Option<String>,
    /// The cluster's name in slurmdbd (default: the only one it has).
    pub cluster: Option<String>,
}

/// One line of `lushan admin site check`.
pub struct SiteCheckItem {
    pub what: &'static str,
    pub ok: bool,
    pub detail: String,
}

impl Services {
    /// Adds a Slurm site: refused (and nothing stored) unless slurmctld
    /// answers (through slurmrestd with the key given, or through the
    /// commands); its partitions and nodes are read at once.
    pub async fn add_site(&self, caller: &Caller, input: NewSiteInput, now: i64) -> Result<SiteRecord, ServiceError> {
        Self::operator_only(caller, "add or check sites")?;
        let name = Name::parse(NameKind::Site, &input.name)?;
        if input.backend != "slurm" {
            return Err(ServiceError::Invalid(format!(
                "backend `{}` cannot be added; sites are added with --backend slurm (the local site is this machine)",
                input.backend
            )));
        }
        let endpoint = match (input.cli, &input.rest_url, &input.jwt_key) {
            (true, None, None) => {
                let bin = input.slurm_bin.as_deref().unwrap_or("");
                if !bin.is_empty() && !bin.starts_with('/') {
                    return Err(ServiceError::Invalid(
                        "--slurm-bin must be an absolute path on the server's host".into(),
                    ));
                }
                Endpoint::Cli { bin }
            }
            (true, _, _) => {
                return Err(ServiceError::Invalid(
                    "--cli uses Slurm's commands on the server's host: it takes no --rest-url or --jwt-key".into(),
                ));
            }
            (false, Some(url), Some(jwt_key)) => {
                if input.slurm_bin.is_some() {
                    return Err(ServiceError::Invalid("--slurm-bin goes with --cli".into()));
                }
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ServiceError::Invalid(format!(
                        "--rest-url `{url}` is not an http:// or https:// URL of slurmrestd"
                    )));
                }
                if !jwt_key.starts_with('/') {
                    return Err(ServiceError::Invalid(
                        "--jwt-key must be an absolute path on the server's host".into(),
                    ));
                }
                Endpoint::Rest { url, jwt_key }
            }
            (false, _, _) => {
                return Err(ServiceError::Invalid(
                    "a Slurm site is reached through slurmrestd (--rest-url and --jwt-key) or through Slurm's commands on the server's host (--cli)".into(),
                ));
            }
        };
        let service_user = input.service_user.unwrap_or_else(|| "slurm".into());
        Name::parse(NameKind::UnixAccount, &service_user)?;
        if service_user == "root" {
            return Err(ServiceError::Invalid(
                "Lushan never acts as root on a cluster; pick another --service-user".into(),
            ));
        }
        let sites = self.store.list_sites().await?;
        if sites.iter().any(|s| s.name == name.as_str()) {
            return Err(ServiceError::Conflict { what: "site", key: name.as_str().to_owned() });
        }
        let client = open_site(endpoint, &service_user).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        client.ping().await.map_err(|e| ServiceError::Invalid(format!("site not added: {e}")))?;
        let inventory = client.inventory().await.map_err(|e| ServiceError::Invalid(format!("site not added: {e}")))?;
        let clusters = client.clusters().await.map_err(|e| ServiceError::Invalid(format!("site not added: {e}")))?;
        let cluster = match input.cluster {
            Some(cluster) if clusters.contains(&cluster) => cluster,
            Some(cluster) => {
                return Err(ServiceError::Invalid(format!(
                    "site not added: slurmdbd has no cluster `{cluster}` (it has: {})",
                    clusters.join(", ")
                )));
            }
            None if clusters.len() == 1 => clusters[0].clone(),
            None => {
                return Err(ServiceError::Invalid(format!(
                    "site not added: slurmdbd keeps accounts for {} clusters ({}); say which with --cluster",
                    clusters.len(),
                    clusters.join(", ")
                )));
            }
        };
        let mut audit = audit_by(caller, now, "site.create", "site", name.as_str());
        audit.after = Some(
            json!({"name": name.as_str(), "backend": "slurm", "transport": client.transport(),
                "rest_url": input.rest_url, "jwt_key": input.jwt_key, "slurm_bin": input.slurm_bin,
                "service_user": service_user, "cluster": cluster})
            .to_string(),
        );
        let site = self
            .store
            .add_slurm_site(
                &NewSlurmSite {
                    name: name.as_str(),
                    transport: client.transport(),
                    rest_url: input.rest_url.as_deref().unwrap_or(""),
                    jwt_key_path: input.jwt_key.as_deref().unwrap_or(""),
                    slurm_bin: input.slurm_bin.as_deref().unwrap_or(""),
                    service_user: &service_user,
                    cluster: &cluster,
                    created_at: now,
                },
                &audit,
            )
            .await?;
        let centre = self.store.centre_tenant_id().await?;
        self.store.sync_inventory(site, &inventory_record(inventory), centre, now).await?;
        let sites = self.store.list_sites().await?;
        let site =
            sites.into_iter().find(|s| s.id == site).ok_or_else(|| ServiceError::not_found("site", name.as_str()))?;
        if let Some(control) = &self.control {
            // The platform's accounts go to the cluster at once; what
            // cannot be added now is added before the first job is sent.
            if let Err(err) = control.sync_accounts(&site, SyncMode::Unasked).await {
                tracing::warn!(site = site.name, "cannot add the platform's accounts yet: {err}");
            }
            control.wake();
        }
        Ok(site)
    }

    /// Compares a Slurm site's accounts, users and associations with the
    /// platform's tenants, projects and members; makes them agree unless
    /// `dry_run`. Refused when slurmdbd does not answer, or when it did not
    /// take every change (what is left is in the error).
    pub async fn sync_site(
        &self,
        caller: &Caller,
        name: &str,
        dry_run: bool,
        now: i64,
    ) -> Result<SyncOutcome, ServiceError> {
        Self::operator_only(caller, "sync sites")?;
        let sites = self.store.list_sites().await?;
        let site = sites.iter().find(|s| s.name == name).ok_or_else(|| ServiceError::not_found("site", name))?;
        if site.backend != "slurm" {
            return Err(ServiceError::Invalid(format!(
                "site {name} is the local site: its users are this machine's, there is no Slurm account to sync"
            )));
        }
        let Some(control) = &self.control else {
            return Err(ServiceError::StateConflict("this server does not run jobs".into()));
        };
        let mode = if dry_run { SyncMode::DryRun } else { SyncMode::Full };
        let outcome = control
            .sync_accounts(site, mode)
            .await
            .map_err(|e| ServiceError::StateConflict(format!("cannot sync accounts with site {name}: {e}")))?;
        if !dry_run && !outcome.changes.is_empty() {
            let mut audit = audit_by(caller, now, "site.sync", "site", name);
            audit.after = Some(
                json!({"changes": outcome.changes.iter().map(ToString::to_string).collect::<Vec<_>>()}).to_string(),
            );
            self.store.append_audit_entry(&audit).await?;
        }
        if !outcome.left.is_empty() {
            return Err(ServiceError::StateConflict(format!(
                "slurmdbd did not take every change on site {name}: still needed: {}; slurmdbd said: {}",
                outcome.left.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                if outcome.said.is_empty() { "nothing".into() } else { outcome.said.join("; ") }
            )));
        }
        Ok(outcome)
    }

    /// What works and what does not on a site, in plain words.
    pub async fn check_site(&self, caller: &Caller, name: &str) -> Result<Vec<SiteCheckItem>, ServiceError> {
        Self::operator_only(caller, "add or check sites")?;
        let sites = self.store.list_sites().await?;
        let site = sites.iter().find(|s| s.name == name).ok_or_else(|| ServiceError::not_found("site", name))?;
        let mut items = Vec::new();
        if site.backend != "slurm" {
            items.push(SiteCheckItem {
                what: "backend",
                ok: true,
                detail: format!("local: jobs run on this machine ({} node(s))", site.nodes.len()),
            });
            return Ok(items);
        }
        let client: SlurmSite = match open_site(site_endpoint(site), &site.service_user) {
            Ok(client) => client,
            Err(err) => {
                items.push(SiteCheckItem { what: "JWT key", ok: false, detail: err.to_string() });
                return Ok(items);
            }
        };
        let reached = if site.transport == "cli" {
            Self::check_commands(site, &client, &mut items).await
        } else {
            Self::check_rest(site, &client, &mut items).await
        };
        if !reached {
            return Ok(items);
        }
        match client.accounting_ok().await {
            Ok(()) => items.push(SiteCheckItem {
                what: "accounting",
                ok: true,
                detail: "slurmdbd answers: jobs are charged from its records".into(),
            }),
            Err(err) => items.push(SiteCheckItem {
                what: "accounting",
                ok: false,
                detail: format!("{err}; without slurmdbd, finished jobs cannot be charged and stay RUNNING here"),
            }),
        }
        match client.inventory().await {
            Ok(inventory) => items.push(SiteCheckItem {
                what: "inventory",
                ok: !inventory.nodes.is_empty(),
                detail: format!(
                    "{} partition(s), {} node(s), {} CPUs, {} GPUs",
                    inventory.partitions.len(),
                    inventory.nodes.len(),
                    inventory.nodes.iter().map(|n| n.cpus).sum::<i64>(),
                    inventory.nodes.iter().map(|n| n.gpus).sum::<i64>()
                ),
            }),
            Err(err) => items.push(SiteCheckItem { what: "inventory", ok: false, detail: err.to_string() }),
        }
        if let Some(control) = &self.control {
            let item = match control.sync_accounts(site, SyncMode::DryRun).await {
                Ok(outcome) if outcome.changes.is_empty() => SiteCheckItem {
                    what: "accounts",
                    ok: true,
                    detail: format!(
                        "cluster {}'s accounts agree with the platform's projects and members",
                        site.cluster
                    ),
                },
                Ok(outcome) if outcome.by_hand.len() < outcome.changes.len() => SiteCheckItem {
                    what: "accounts",
                    ok: false,
                    detail: format!(
                        "{} difference(s) with the platform (first: {}); `lushan admin site sync {}` repairs them{}",
                        outcome.changes.len(),
                        outcome.changes[0],
                        site.name,
                        by_hand_note(&outcome.by_hand)
                    ),
                },
                Ok(outcome) => SiteCheckItem {
                    what: "accounts",
                    ok: false,
                    detail: format!(
                        "{} difference(s) with the platform that only sacctmgr on the cluster can repair{}",
                        outcome.changes.len(),
                        by_hand_note(&outcome.by_hand)
                    ),
                },
                Err(err) => SiteCheckItem { what: "accounts", ok: false, detail: err },
            };
            items.push(item);
        }
        Ok(items)
    }

    /// `site check` for a site reached through slurmrestd; whether it answered.
    async fn check_rest(site: &SiteRecord, client: &SlurmSite, items: &mut Vec<SiteCheckItem>) -> bool {
        items.push(SiteCheckItem { what: "JWT key", ok: true, detail: format!("{} is readable", site.jwt_key_path) });
        match client.ping().await {
            Ok(release) => {
                items.push(SiteCheckItem {
                    what: "slurmrestd",
                    ok: true,
                    detail: format!("{} answers with API v0.0.38", site.rest_url),
                });
                items.push(SiteCheckItem {
                    what: "authenticated",
                    ok: true,
                    detail: format!("tokens for `{}` are accepted", site.service_user),
                });
                items.push(SiteCheckItem {
                    what: "slurmctld",
                    ok: true,
                    detail: format!("Slurm {release} answers the ping"),
                });
                true
            }
            Err(err) => {
                let what = match &err {
                    SlurmError::Unreachable { .. } => "slurmrestd",
                    SlurmError::Unauthenticated { .. } => "authenticated",
                    _ => "slurmctld",
                };
                items.push(SiteCheckItem { what, ok: false, detail: err.to_string() });
                false
            }
        }
    }

    /// `site check` for a site reached through Slurm's commands on this
    /// host; whether slurmctld answered.
    async fn check_commands(site: &SiteRecord, client: &SlurmSite, items: &mut Vec<SiteCheckItem>) -> bool {
        let names = ["sbatch", "squeue", "sacct", "scontrol", "sacctmgr", "scancel", "sinfo"];
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| lushan_backend::slurm::cli::command_path(&site.slurm_bin, name).is_none())
            .collect();
        let place = if site.slurm_bin.is_empty() {
            "on the server's PATH".to_owned()
        } else {
            format!("in {}", site.slurm_bin)
        };
        if !missing.is_empty() {
            items.push(SiteCheckItem {
                what: "commands",
                ok: false,
                detail: format!("not found {place}: {}", missing.join(", ")),
            });
            return false;
        }
        items.push(SiteCheckItem { what: "commands", ok: true, detail: format!("{} found {place}", names.join(", ")) });
        let root = nix::unistd::geteuid().is_root();
        items.push(SiteCheckItem {
            what: "users",
            ok: root,
            detail: if root {
                format!(
                    "the server runs as root: jobs are submitted as their users' Unix accounts, the cluster is read as `{}`",
                    site.service_user
                )
            } else {
                "the server does not run as root: it can submit only its own account's jobs; run it as root or add the site with --rest-url".into()
            },
        });
        match client.ping().await {
            Ok(release) => {
                items.push(SiteCheckItem {
                    what: "slurmctld",
                    ok: true,
                    detail: format!("Slurm {release} answers `scontrol ping`"),
                });
                true
            }
            Err(err) => {
                items.push(SiteCheckItem { what: "slurmctld", ok: false, detail: err.to_string() });
                false
            }
        }
    }
}

/// A site's partition by their names, or which of the two does not exist.
pub(super) fn find_partition<'a>(
    sites: &'a [SiteRecord],
    site: &str,
    partition: &str,
) -> Result<(&'a SiteRecord, &'a lushan_store::PartitionRecord), ServiceError> {
    let site = sites.iter().find(|s| s.name == site).ok_or_else(|| ServiceError::not_found("site", site))?;
    let found = site.partitions.iter().find(|p| p.name == partition);
    Ok((site, found.ok_or_else(|| ServiceError::not_found("partition", partition))?))
}

/// The changes a site's transport cannot make, each with its sacctmgr
/// command, after the check's words.
fn by_hand_note(by_hand: &[String]) -> String {
    by_hand.iter().map(|line| format!("; {line}")).collect()
}
