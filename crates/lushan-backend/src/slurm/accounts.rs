//! Slurm's accounts following the platform's tenants, projects and
//! members. Lushan wants, on each cluster:
//!
//! ```text
//! root
//! └── tenant.acme          one account per tenant with an active project
//!     └── cae-sim          one per active project: what `-A` names in Slurm
//!         ├── bob          one association per member with a Unix account
//!         └── carol
//! ```
//!
//! Tenant accounts carry a `.` that Lushan's names cannot contain, so a
//! tenant and a project with the same name never collide. Accounts Lushan
//! made say so in their description (`lushan: ...`); only those are ever
//! removed, and an account that exists under a wanted name but was not
//! made by Lushan is used as it is and never emptied.
//!
//! Each association carries the platform's limits (docs/scheduling.md,
//! "Limits"): a project's on its account's own association (GrpJobs,
//! GrpSubmitJobs, GrpTRES), a member's on their (user, account) association
//! (MaxJobs, MaxSubmitJobs, GrpTRES). On an account Lushan did not make,
//! only the limits Lushan has are set; the cluster's others are kept.
//!
//! [`plan`] is pure: it compares what Lushan wants with what slurmdbd has
//! and says what to change, in an order slurmdbd accepts (parents before
//! children when adding, children before parents when removing, limits
//! once the associations exist).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How the accounts Lushan made are recognised.
pub const MARK: &str = "lushan:";

/// The account a tenant's projects hang under.
pub fn tenant_account(tenant: &str) -> String {
    format!("tenant.{tenant}")
}

/// The limits on one association; `None`: no limit. On an account's own
/// association they are Slurm's GrpJobs, GrpSubmitJobs and GrpTRES; on a
/// (user, account) association MaxJobs, MaxSubmitJobs and GrpTRES.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssociationLimits {
    /// Jobs running at once.
    pub jobs: Option<i64>,
    /// Jobs pending or running at once.
    pub submitted: Option<i64>,
    /// GrpTRES `cpu`.
    pub cpus: Option<i64>,
    /// GrpTRES `gres/gpu`.
    pub gpus: Option<i64>,
}

impl AssociationLimits {
    /// `self`'s values, `base`'s where `self` has none.
    pub fn or(self, base: AssociationLimits) -> AssociationLimits {
        AssociationLimits {
            jobs: self.jobs.or(base.jobs),
            submitted: self.submitted.or(base.submitted),
            cpus: self.cpus.or(base.cpus),
            gpus: self.gpus.or(base.gpus),
        }
    }

    /// The tighter of the two, value by value.
    pub fn tightest(self, other: AssociationLimits) -> AssociationLimits {
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        AssociationLimits {
            jobs: min(self.jobs, other.jobs),
            submitted: min(self.submitted, other.submitted),
            cpus: min(self.cpus, other.cpus),
            gpus: min(self.gpus, other.gpus),
        }
    }

    /// Slurm's name and the value of each limit that differs from `from`
    /// (`-1`: none, as sacctmgr takes it), for an account's association or
    /// a user's.
    pub fn changed_from(&self, from: &AssociationLimits, user: bool) -> Vec<(LimitField, Option<i64>)> {
        LimitField::ALL
            .into_iter()
            .filter(|f| f.get(self) != f.get(from))
            .filter(|f| !user || *f != LimitField::GrpJobs && *f != LimitField::GrpSubmitJobs)
            .filter(|f| user || *f != LimitField::MaxJobs && *f != LimitField::MaxSubmitJobs)
            .map(|f| (f, f.get(self)))
            .collect()
    }
}

/// One of the limits Lushan sets, by Slurm's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitField {
    GrpJobs,
    GrpSubmitJobs,
    MaxJobs,
    MaxSubmitJobs,
    GrpTresCpu,
    GrpTresGpu,
}

impl LimitField {
    const ALL: [LimitField; 6] = [
        LimitField::GrpJobs,
        LimitField::GrpSubmitJobs,
        LimitField::MaxJobs,
        LimitField::MaxSubmitJobs,
        LimitField::GrpTresCpu,
        LimitField::GrpTresGpu,
    ];

    /// The value this field holds in `limits` (jobs and submitted are the
    /// Grp ones on an account, the Max ones on a user).
    pub fn get(self, limits: &AssociationLimits) -> Option<i64> {
        match self {
            LimitField::GrpJobs | LimitField::MaxJobs => limits.jobs,
            LimitField::GrpSubmitJobs | LimitField::MaxSubmitJobs => limits.submitted,
            LimitField::GrpTresCpu => limits.cpus,
            LimitField::GrpTresGpu => limits.gpus,
        }
    }

    /// As sacctmgr names it (`GrpTRES=cpu=`'s TRES after the dot).
    pub fn slurm_name(self) -> &'static str {
        match self {
            LimitField::GrpJobs => "GrpJobs",
            LimitField::GrpSubmitJobs => "GrpSubmitJobs",
            LimitField::MaxJobs => "MaxJobs",
            LimitField::MaxSubmitJobs => "MaxSubmitJobs",
            LimitField::GrpTresCpu => "GrpTRES cpu",
            LimitField::GrpTresGpu => "GrpTRES gres/gpu",
        }
    }
}

/// A TRES's count in Slurm's `cpu=64,gres/gpu=2`; `None` when absent.
pub fn tres_count(tres: &str, name: &str) -> Option<i64> {
    tres.split(',').find_map(|item| item.trim().strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

/// One account Lushan wants on a cluster, with the users under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedAccount {
    pub name: String,
    pub parent: String,
    /// Without the mark, which [`plan`] adds.
    pub description: String,
    pub organization: String,
    /// On the account's own association (a project's limits).
    pub limits: AssociationLimits,
    /// Each user and the limits on their association with the account.
    pub users: BTreeMap<String, AssociationLimits>,
}

/// One account as slurmdbd has it on a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterAccount {
    pub description: String,
    /// `None`: the account exists but has no association on this cluster.
    pub parent: Option<String>,
    pub limits: AssociationLimits,
    /// Each user with an association, and its limits.
    pub users: BTreeMap<String, AssociationLimits>,
}

/// What slurmdbd has: every account, and the users it knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterAccounts {
    pub accounts: BTreeMap<String, ClusterAccount>,
    pub users: BTreeSet<String>,
}

impl ClusterAccounts {
    /// Whether `user` may submit under `account` on this cluster.
    pub fn has_association(&self, account: &str, user: &str) -> bool {
        self.accounts.get(account).is_some_and(|a| a.parent.is_some() && a.users.contains_key(user))
    }
}

/// One change to a cluster's accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    /// A new account record (slurmdbd's accounts are shared by its clusters).
    AddAccount {
        account: String,
        description: String,
        organization: String,
    },
    /// The account on this cluster, under `parent`.
    AddToCluster {
        account: String,
        parent: String,
    },
    /// Moved by hand (`sacctmgr modify account ... set parent=`): moved back.
    MoveAccount {
        account: String,
        from: String,
        to: String,
    },
    AddUser {
        user: String,
        default_account: String,
    },
    AddAssociation {
        account: String,
        user: String,
    },
    /// A user under a Lushan account who is not (or no longer) a member.
    RemoveAssociation {
        account: String,
        user: String,
    },
    /// A Lushan account whose project or tenant is gone or disabled.
    RemoveFromCluster {
        account: String,
    },
    /// The limits on an account's own association (`user` `None`) or on a
    /// user's association with it.
    SetLimits {
        account: String,
        user: Option<String>,
        from: AssociationLimits,
        to: AssociationLimits,
    },
}

impl AccountChange {
    /// The verb, as the API and CLI name it.
    pub fn action(&self) -> &'static str {
        match self {
            AccountChange::AddAccount { .. } => "add-account",
            AccountChange::AddToCluster { .. } => "add-to-cluster",
            AccountChange::MoveAccount { .. } => "move-account",
            AccountChange::AddUser { .. } => "add-user",
            AccountChange::AddAssociation { .. } => "add-association",
            AccountChange::RemoveAssociation { .. } => "remove-association",
            AccountChange::RemoveFromCluster { .. } => "remove-from-cluster",
            AccountChange::SetLimits { .. } => "set-limits",
        }
    }

    pub fn account(&self) -> &str {
        match self {
            AccountChange::AddAccount { account, .. }
            | AccountChange::AddToCluster { account, .. }
            | AccountChange::MoveAccount { account, .. }
            | AccountChange::AddAssociation { account, .. }
            | AccountChange::RemoveAssociation { account, .. }
            | AccountChange::RemoveFromCluster { account }
            | AccountChange::SetLimits { account, .. } => account,
            AccountChange::AddUser { default_account, .. } => default_account,
        }
    }

    pub fn user(&self) -> Option<&str> {
        match self {
            AccountChange::AddUser { user, .. }
            | AccountChange::AddAssociation { user, .. }
            | AccountChange::RemoveAssociation { user, .. } => Some(user),
            AccountChange::SetLimits { user, .. } => user.as_deref(),
            _ => None,
        }
    }

    /// Whether the control loop makes it on its own (before forwarding a
    /// job, and when limits change): additions and limits. Removals and
    /// moves, which undo what someone did on the cluster, wait for
    /// `lushan admin site sync`.
    pub fn is_unasked(&self) -> bool {
        matches!(
            self,
            AccountChange::AddAccount { .. }
                | AccountChange::AddToCluster { .. }
                | AccountChange::AddUser { .. }
                | AccountChange::AddAssociation { .. }
                | AccountChange::SetLimits { .. }
        )
    }
}

impl fmt::Display for AccountChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountChange::AddAccount { account, .. } => write!(f, "create account {account}"),
            AccountChange::AddToCluster { account, parent } => write!(f, "add account {account} under {parent}"),
            AccountChange::MoveAccount { account, from, to } => {
                write!(f, "move account {account} from {from} back under {to}")
            }
            AccountChange::AddUser { user, default_account } => {
                write!(f, "create user {user} (default account {default_account})")
            }
            AccountChange::AddAssociation { account, user } => write!(f, "add user {user} to account {account}"),
            AccountChange::RemoveAssociation { account, user } => {
                write!(f, "remove user {user} from account {account}: not a member in Lushan")
            }
            AccountChange::RemoveFromCluster { account } => {
                write!(f, "remove account {account}: no active project or tenant in Lushan")
            }
            AccountChange::SetLimits { account, user, from, to } => {
                let value = |v: Option<i64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
                let limits = to
                    .changed_from(from, user.is_some())
                    .into_iter()
                    .map(|(field, v)| format!("{} {} (was {})", field.slurm_name(), value(v), value(field.get(from))))
                    .collect::<Vec<_>>()
                    .join(", ");
                match user {
                    Some(user) => write!(f, "set the limits of user {user} in account {account}: {limits}"),
                    None => write!(f, "set the limits of account {account}: {limits}"),
                }
            }
        }
    }
}

/// What to change so that the cluster has `wanted`, in the order to apply
/// it. `wanted` lists parents before their children.
pub fn plan(wanted: &[WantedAccount], have: &ClusterAccounts) -> Vec<AccountChange> {
    let mut adds = Vec::new();
    let mut to_cluster = Vec::new();
    let mut moves = Vec::new();
    let mut users = Vec::new();
    let mut associations = Vec::new();
    let mut limits = Vec::new();
    let mut removals = Vec::new();
    let mut new_users = BTreeSet::new();
    let wanted_names: BTreeSet<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
    let none = AssociationLimits::default();
    for want in wanted {
        let existing = have.accounts.get(&want.name);
        if existing.is_none() {
            adds.push(AccountChange::AddAccount {
                account: want.name.clone(),
                description: format!("{MARK} {}", want.description),
                organization: want.organization.clone(),
            });
        }
        match existing.and_then(|a| a.parent.as_ref()) {
            None => {
                to_cluster.push(AccountChange::AddToCluster { account: want.name.clone(), parent: want.parent.clone() })
            }
            Some(parent) if *parent != want.parent => moves.push(AccountChange::MoveAccount {
                account: want.name.clone(),
                from: parent.clone(),
                to: want.parent.clone(),
            }),
            Some(_) => {}
        }
        // Lushan's limits are the whole truth on its own accounts; on the
        // cluster's, they are laid over what the cluster has.
        let ours = existing.is_none_or(|a| a.description.starts_with(MARK));
        let target = |wanted: AssociationLimits, had: AssociationLimits| if ours { wanted } else { wanted.or(had) };
        let had = existing.map_or(none, |a| a.limits);
        if target(want.limits, had) != had {
            limits.push(AccountChange::SetLimits {
                account: want.name.clone(),
                user: None,
                from: had,
                to: target(want.limits, had),
            });
        }
        let present = existing.map(|a| &a.users);
        for (user, wanted_limits) in &want.users {
            if !have.users.contains(user) && new_users.insert(user.clone()) {
                users.push(AccountChange::AddUser { user: user.clone(), default_account: want.name.clone() });
            }
            let had = present.and_then(|p| p.get(user));
            if had.is_none() {
                associations.push(AccountChange::AddAssociation { account: want.name.clone(), user: user.clone() });
            }
            let had = had.copied().unwrap_or(none);
            if target(*wanted_limits, had) != had {
                limits.push(AccountChange::SetLimits {
                    account: want.name.clone(),
                    user: Some(user.clone()),
                    from: had,
                    to: target(*wanted_limits, had),
                });
            }
        }
        // Strangers are removed only from accounts Lushan made.
        if let Some(existing) = existing.filter(|a| a.description.starts_with(MARK)) {
            for user in existing.users.keys().filter(|u| !want.users.contains_key(*u)) {
                removals.push(AccountChange::RemoveAssociation { account: want.name.clone(), user: user.clone() });
            }
        }
    }
    // Lushan's accounts nobody wants any more, deepest first so a tenant
    // account goes after its projects.
    let mut stale: Vec<(usize, &String)> = have
        .accounts
        .iter()
        .filter(|(name, a)| {
            a.parent.is_some() && a.description.starts_with(MARK) && !wanted_names.contains(name.as_str())
        })
        .map(|(name, _)| (depth(have, name), name))
        .collect();
    stale.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    removals.extend(stale.into_iter().map(|(_, name)| AccountChange::RemoveFromCluster { account: name.clone() }));
    adds.into_iter()
        .chain(to_cluster)
        .chain(moves)
        .chain(users)
        .chain(associations)
        .chain(limits)
        .chain(removals)
        .collect()
}

/// How far below root an account hangs (a cycle, which slurmdbd does not
/// allow, would stop at the number of accounts).
fn depth(have: &ClusterAccounts, account: &str) -> usize {
    let mut depth = 0;
    let mut at = account;
    while let Some(parent) = have.accounts.get(at).and_then(|a| a.parent.as_deref()) {
        depth += 1;
        if depth > have.accounts.len() {
            break;
        }
        at = parent;
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(name: &str, parent: &str, users: &[&str]) -> WantedAccount {
        WantedAccount {
            name: name.into(),
            parent: parent.into(),
            description: format!("project {name}"),
            organization: "acme".into(),
            limits: AssociationLimits::default(),
            users: users.iter().map(|u| ((*u).to_owned(), AssociationLimits::default())).collect(),
        }
    }

    fn have(accounts: &[(&str, &str, Option<&str>, &[&str])], users: &[&str]) -> ClusterAccounts {
        ClusterAccounts {
            accounts: accounts
                .iter()
                .map(|(name, description, parent, users)| {
                    let account = ClusterAccount {
                        description: (*description).to_owned(),
                        parent: parent.map(str::to_owned),
                        limits: AssociationLimits::default(),
                        users: users.iter().map(|u| ((*u).to_owned(), AssociationLimits::default())).collect(),
                    };
                    ((*name).to_owned(), account)
                })
                .collect(),
            users: users.iter().map(|u| (*u).to_owned()).collect(),
        }
    }

    fn wanted() -> Vec<WantedAccount> {
        vec![want("tenant.acme", "root", &[]), want("cae-sim", "tenant.acme", &["bob", "carol"])]
    }

    #[test]
    fn an_empty_cluster_gets_the_whole_tree_parents_first() {
        let changes = plan(&wanted(), &have(&[("root", "default root account", Some(""), &["root"])], &["root"]));
        let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "create account tenant.acme",
                "create account cae-sim",
                "add account tenant.acme under root",
                "add account cae-sim under tenant.acme",
                "create user bob (default account cae-sim)",
                "create user carol (default account cae-sim)",
                "add user bob to account cae-sim",
                "add user carol to account cae-sim",
            ]
        );
        assert!(changes.iter().all(AccountChange::is_unasked));
    }

    #[test]
    fn a_cluster_in_step_needs_nothing() {
        let cluster = have(
            &[
                ("tenant.acme", "lushan: tenant acme", Some("root"), &[]),
                ("cae-sim", "lushan: project cae-sim", Some("tenant.acme"), &["bob", "carol"]),
            ],
            &["bob", "carol"],
        );
        assert_eq!(plan(&wanted(), &cluster), []);
        assert!(cluster.has_association("cae-sim", "bob"));
        assert!(!cluster.has_association("tenant.acme", "bob"));
    }

    #[test]
    fn drift_by_hand_is_undone_but_only_in_lushan_s_accounts() {
        let cluster = have(
            &[
                ("tenant.acme", "lushan: tenant acme", Some("root"), &[]),
                // moved, a member removed, a stranger added
                ("cae-sim", "lushan: project cae-sim", Some("root"), &["bob", "mallory"]),
                // a project deleted in Lushan
                ("old", "lushan: project old", Some("tenant.acme"), &["bob"]),
                // the cluster's own accounts are never touched
                ("physics", "local group", Some("root"), &["eve"]),
            ],
            &["bob", "carol", "mallory", "eve"],
        );
        let lines: Vec<String> = plan(&wanted(), &cluster).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "move account cae-sim from root back under tenant.acme",
                "add user carol to account cae-sim",
                "remove user mallory from account cae-sim: not a member in Lushan",
                "remove account old: no active project or tenant in Lushan",
            ]
        );
    }

    #[test]
    fn an_account_not_made_by_lushan_is_used_and_never_emptied() {
        let cluster = have(&[("cae-sim", "made by hand", Some("root"), &["eve"])], &["eve"]);
        let wanted = vec![want("cae-sim", "root", &["bob"])];
        let lines: Vec<String> = plan(&wanted, &cluster).iter().map(ToString::to_string).collect();
        assert_eq!(lines, ["create user bob (default account cae-sim)", "add user bob to account cae-sim"]);
    }

    #[test]
    fn an_account_known_to_slurmdbd_but_not_on_this_cluster_is_added_with_its_users() {
        let cluster = have(&[("cae-sim", "lushan: project cae-sim", None, &[])], &["bob"]);
        let wanted = vec![want("cae-sim", "root", &["bob"])];
        let lines: Vec<String> = plan(&wanted, &cluster).iter().map(ToString::to_string).collect();
        assert_eq!(lines, ["add account cae-sim under root", "add user bob to account cae-sim"]);
    }

    #[test]
    fn stale_accounts_go_children_first() {
        let cluster = have(
            &[
                ("tenant.gone", "lushan: tenant gone", Some("root"), &[]),
                ("a-proj", "lushan: project a-proj", Some("tenant.gone"), &[]),
            ],
            &[],
        );
        let lines: Vec<String> = plan(&[], &cluster).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "remove account a-proj: no active project or tenant in Lushan",
                "remove account tenant.gone: no active project or tenant in Lushan",
            ]
        );
    }

    fn limits(jobs: Option<i64>, submitted: Option<i64>, cpus: Option<i64>, gpus: Option<i64>) -> AssociationLimits {
        AssociationLimits { jobs, submitted, cpus, gpus }
    }

    #[test]
    fn limits_follow_lushan_on_its_accounts_and_are_laid_over_the_cluster_s_elsewhere() {
        let mut cluster = have(
            &[
                ("tenant.acme", "lushan: tenant acme", Some("root"), &[]),
                ("cae-sim", "lushan: project cae-sim", Some("tenant.acme"), &["bob", "carol"]),
                ("physics", "local group", Some("root"), &["bob"]),
            ],
            &["bob", "carol"],
        );
        let project = cluster.accounts.get_mut("cae-sim").unwrap();
        // Set by hand on Lushan's account: taken back.
        project.limits = limits(Some(100), None, None, None);
        project.users.insert("carol".into(), limits(None, None, Some(8), None));
        // The cluster's own limit on its own account stays beside Lushan's.
        cluster.accounts.get_mut("physics").unwrap().limits = limits(None, Some(50), None, None);
        let mut wanted = wanted();
        wanted[1].limits = limits(Some(4), Some(10), Some(64), Some(2));
        wanted[1].users.insert("bob".into(), limits(Some(2), None, None, Some(1)));
        let mut physics = want("physics", "root", &["bob"]);
        physics.limits = limits(Some(3), None, None, None);
        wanted.push(physics);
        let lines: Vec<String> = plan(&wanted, &cluster).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "set the limits of account cae-sim: GrpJobs 4 (was 100), GrpSubmitJobs 10 (was none), \
                 GrpTRES cpu 64 (was none), GrpTRES gres/gpu 2 (was none)",
                "set the limits of user bob in account cae-sim: MaxJobs 2 (was none), GrpTRES gres/gpu 1 (was none)",
                "set the limits of user carol in account cae-sim: GrpTRES cpu none (was 8)",
                "set the limits of account physics: GrpJobs 3 (was none)",
            ]
        );
        let changes = plan(&wanted, &cluster);
        let AccountChange::SetLimits { to, .. } = &changes[3] else { panic!("{changes:?}") };
        assert_eq!(*to, limits(Some(3), Some(50), None, None), "the cluster's GrpSubmitJobs is kept");
        assert!(changes.iter().all(AccountChange::is_unasked));
    }

    #[test]
    fn a_new_association_gets_its_limits_after_it_is_made() {
        let mut wanted = wanted();
        wanted[1].users.insert("bob".into(), limits(Some(2), None, None, None));
        let lines: Vec<String> = plan(&wanted, &have(&[], &[])).iter().map(ToString::to_string).collect();
        assert_eq!(lines.last().unwrap(), "set the limits of user bob in account cae-sim: MaxJobs 2 (was none)");
        assert_eq!(lines[lines.len() - 2], "add user carol to account cae-sim");
    }

    #[test]
    fn the_tightest_limit_wins_value_by_value() {
        let member = limits(Some(4), None, Some(16), None);
        let user = limits(Some(2), Some(10), Some(32), None);
        assert_eq!(member.tightest(user), limits(Some(2), Some(10), Some(16), None));
        assert_eq!(member.or(user), limits(Some(4), Some(10), Some(16), None));
    }
}
