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
//! [`plan`] is pure: it compares what Lushan wants with what slurmdbd has
//! and says what to change, in an order slurmdbd accepts (parents before
//! children when adding, children before parents when removing).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How the accounts Lushan made are recognised.
pub const MARK: &str = "lushan:";

/// The account a tenant's projects hang under.
pub fn tenant_account(tenant: &str) -> String {
    format!("tenant.{tenant}")
}

/// One account Lushan wants on a cluster, with the users under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedAccount {
    pub name: String,
    pub parent: String,
    /// Without the mark, which [`plan`] adds.
    pub description: String,
    pub organization: String,
    pub users: BTreeSet<String>,
}

/// One account as slurmdbd has it on a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterAccount {
    pub description: String,
    /// `None`: the account exists but has no association on this cluster.
    pub parent: Option<String>,
    pub users: BTreeSet<String>,
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
        self.accounts.get(account).is_some_and(|a| a.parent.is_some() && a.users.contains(user))
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
        }
    }

    pub fn account(&self) -> &str {
        match self {
            AccountChange::AddAccount { account, .. }
            | AccountChange::AddToCluster { account, .. }
            | AccountChange::MoveAccount { account, .. }
            | AccountChange::AddAssociation { account, .. }
            | AccountChange::RemoveAssociation { account, .. }
            | AccountChange::RemoveFromCluster { account } => account,
            AccountChange::AddUser { default_account, .. } => default_account,
        }
    }

    pub fn user(&self) -> Option<&str> {
        match self {
            AccountChange::AddUser { user, .. }
            | AccountChange::AddAssociation { user, .. }
            | AccountChange::RemoveAssociation { user, .. } => Some(user),
            _ => None,
        }
    }

    /// Whether it only adds (what the control loop does on its own before
    /// forwarding a job; removals and moves wait for `lushan admin site sync`).
    pub fn is_addition(&self) -> bool {
        matches!(
            self,
            AccountChange::AddAccount { .. }
                | AccountChange::AddToCluster { .. }
                | AccountChange::AddUser { .. }
                | AccountChange::AddAssociation { .. }
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
    let mut removals = Vec::new();
    let mut new_users = BTreeSet::new();
    let wanted_names: BTreeSet<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
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
        let present = existing.map(|a| &a.users);
        for user in &want.users {
            if !have.users.contains(user) && new_users.insert(user.clone()) {
                users.push(AccountChange::AddUser { user: user.clone(), default_account: want.name.clone() });
            }
            if !present.is_some_and(|p| p.contains(user)) {
                associations.push(AccountChange::AddAssociation { account: want.name.clone(), user: user.clone() });
            }
        }
        // Strangers are removed only from accounts Lushan made.
        if let Some(existing) = existing.filter(|a| a.description.starts_with(MARK)) {
            for user in existing.users.difference(&want.users) {
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
    adds.into_iter().chain(to_cluster).chain(moves).chain(users).chain(associations).chain(removals).collect()
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
            users: users.iter().map(|u| (*u).to_owned()).collect(),
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
                        users: users.iter().map(|u| (*u).to_owned()).collect(),
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
        assert!(changes.iter().all(AccountChange::is_addition));
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
}
