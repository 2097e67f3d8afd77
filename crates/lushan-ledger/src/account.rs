//! The ledger's accounts, spelled as stable text keys (`tenant:3:wallet`)
//! because the store keeps them as text and statements print them.

use lushan_model::{GrantId, TenantId};
use std::fmt;
use std::str::FromStr;

/// What an account counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Commodity {
    /// Money, in fen.
    Cny,
    /// Service units of grants, in core-seconds.
    Su,
}

impl Commodity {
    pub fn as_str(self) -> &'static str {
        match self {
            Commodity::Cny => "CNY",
            Commodity::Su => "SU",
        }
    }
}

impl fmt::Display for Commodity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One account. A tenant's money is `Wallet` (spendable) plus `Held`
/// (reserved for its pending and running jobs); a grant's units are `Units`
/// plus `GrantHeld`. The centre's accounts are the other side of every
/// movement: money comes in through `Funding` (top-ups, so it goes negative),
/// is earned in `Revenue`, or passed on to co-builders' `Earnings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    Wallet(TenantId),
    Held(TenantId),
    /// A co-builder's share of what guests paid for its nodes.
    Earnings(TenantId),
    /// The centre's income from jobs.
    Revenue,
    /// Money paid in from outside (top-ups): the counterpart of wallets.
    Funding,
    /// The counterpart of manual adjustments (refunds, corrections).
    Adjustments,
    /// A grant's unspent service units.
    Units(GrantId),
    /// A grant's units reserved for its pending and running jobs.
    GrantHeld(GrantId),
    /// Service units awarded by grants: the counterpart of `Units`.
    Awarded,
    /// Service units delivered to jobs.
    Delivered,
    /// Service units that expired unspent with their grant.
    Expired,
}

impl Account {
    pub fn commodity(self) -> Commodity {
        match self {
            Account::Wallet(_)
            | Account::Held(_)
            | Account::Earnings(_)
            | Account::Revenue
            | Account::Funding
            | Account::Adjustments => Commodity::Cny,
            Account::Units(_) | Account::GrantHeld(_) | Account::Awarded | Account::Delivered | Account::Expired => {
                Commodity::Su
            }
        }
    }

    /// The tenant whose money this is, for tenant-scoped statements.
    pub fn tenant(self) -> Option<TenantId> {
        match self {
            Account::Wallet(t) | Account::Held(t) | Account::Earnings(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Wallet(t) => write!(f, "tenant:{t}:wallet"),
            Account::Held(t) => write!(f, "tenant:{t}:held"),
            Account::Earnings(t) => write!(f, "tenant:{t}:earnings"),
            Account::Revenue => f.write_str("centre:revenue"),
            Account::Funding => f.write_str("centre:funding"),
            Account::Adjustments => f.write_str("centre:adjustments"),
            Account::Units(g) => write!(f, "grant:{g}:units"),
            Account::GrantHeld(g) => write!(f, "grant:{g}:held"),
            Account::Awarded => f.write_str("centre:awarded"),
            Account::Delivered => f.write_str("centre:delivered"),
            Account::Expired => f.write_str("centre:expired"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ledger account `{0}`")]
pub struct ParseAccountError(pub String);

impl FromStr for Account {
    type Err = ParseAccountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseAccountError(s.chars().take(64).collect());
        let parts: Vec<&str> = s.split(':').collect();
        let id = |text: &str| text.parse::<i64>().map_err(|_| err());
        Ok(match parts.as_slice() {
            ["tenant", t, "wallet"] => Account::Wallet(TenantId(id(t)?)),
            ["tenant", t, "held"] => Account::Held(TenantId(id(t)?)),
            ["tenant", t, "earnings"] => Account::Earnings(TenantId(id(t)?)),
            ["centre", "revenue"] => Account::Revenue,
            ["centre", "funding"] => Account::Funding,
            ["centre", "adjustments"] => Account::Adjustments,
            ["grant", g, "units"] => Account::Units(GrantId(id(g)?)),
            ["grant", g, "held"] => Account::GrantHeld(GrantId(id(g)?)),
            ["centre", "awarded"] => Account::Awarded,
            ["centre", "delivered"] => Account::Delivered,
            ["centre", "expired"] => Account::Expired,
            _ => return Err(err()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_round_trips_through_its_text() {
        let all = [
            Account::Wallet(TenantId(3)),
            Account::Held(TenantId(3)),
            Account::Earnings(TenantId(4)),
            Account::Revenue,
            Account::Funding,
            Account::Adjustments,
            Account::Units(GrantId(7)),
            Account::GrantHeld(GrantId(7)),
            Account::Awarded,
            Account::Delivered,
            Account::Expired,
        ];
        for account in all {
            assert_eq!(account.to_string().parse::<Account>(), Ok(account));
        }
        assert!("tenant:x:wallet".parse::<Account>().is_err());
        assert!("centre:nothing".parse::<Account>().is_err());
    }
}
