//! Transactions: balanced sets of postings with an idempotency key, and the
//! builders for each kind of movement. A builder either returns a balanced
//! transaction or an error; there is no way to build an unbalanced one.

use crate::account::{Account, Commodity};
use lushan_model::{GrantId, JobId, Money, TenantId};
use std::fmt;

/// One line of a transaction: `amount` (fen or core-seconds, as the
/// account's commodity says) added to `account`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub amount: i64,
}

/// What a transaction is, for statements and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxKind {
    TopUp,
    Adjustment,
    Hold,
    Settlement,
    Award,
    Expiry,
}

impl TxKind {
    pub const ALL: &'static [TxKind] =
        &[TxKind::TopUp, TxKind::Adjustment, TxKind::Hold, TxKind::Settlement, TxKind::Award, TxKind::Expiry];

    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::TopUp => "top-up",
            TxKind::Adjustment => "adjustment",
            TxKind::Hold => "hold",
            TxKind::Settlement => "settlement",
            TxKind::Award => "award",
            TxKind::Expiry => "expiry",
        }
    }

    pub fn parse(text: &str) -> Option<TxKind> {
        TxKind::ALL.iter().copied().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for TxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A balanced movement. Only the builders below make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    key: String,
    kind: TxKind,
    postings: Vec<Posting>,
}

impl Transaction {
    /// Checks that the postings sum to zero per commodity and drops the
    /// zero ones (a hold of nothing is still recorded, with no postings).
    fn new(key: String, kind: TxKind, postings: Vec<Posting>) -> Result<Transaction, LedgerError> {
        for commodity in [Commodity::Cny, Commodity::Su] {
            let sum: i128 =
                postings.iter().filter(|p| p.account.commodity() == commodity).map(|p| i128::from(p.amount)).sum();
            if sum != 0 {
                return Err(LedgerError::Unbalanced { key, commodity, sum });
            }
        }
        let postings = postings.into_iter().filter(|p| p.amount != 0).collect();
        Ok(Transaction { key, kind, postings })
    }

    /// Unique in the store: posting it again is a no-op.
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn kind(&self) -> TxKind {
        self.kind
    }

    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// What this transaction adds to `account`.
    pub fn amount_for(&self, account: Account) -> i64 {
        self.postings.iter().filter(|p| p.account == account).map(|p| p.amount).sum()
    }
}

/// Who pays for a job: its tenant's wallet (money) or one of its project's
/// grants (service units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Funding {
    Wallet(TenantId),
    Grant(GrantId),
}

impl Funding {
    pub fn commodity(self) -> Commodity {
        match self {
            Funding::Wallet(_) => Commodity::Cny,
            Funding::Grant(_) => Commodity::Su,
        }
    }

    /// Where its spendable amount is, and where holds go.
    fn accounts(self) -> (Account, Account) {
        match self {
            Funding::Wallet(t) => (Account::Wallet(t), Account::Held(t)),
            Funding::Grant(g) => (Account::Units(g), Account::GrantHeld(g)),
        }
    }
}

/// What a job costs when it ends: the total in the funding's commodity,
/// and the parts of it that go to co-builders who own the nodes it ran on
/// (the centre gets the rest).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Charge {
    pub total: i64,
    pub owner_shares: Vec<(TenantId, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("{who} has {available} CNY available; this job may cost up to {required} CNY")]
    InsufficientFunds { who: String, available: Money, required: Money },
    #[error("grant {grant} has {available} service units left; this job may use up to {required}")]
    InsufficientUnits { grant: GrantId, available: String, required: String },
    #[error("the amount must be more than zero, not {0}")]
    NotPositive(String),
    #[error("an adjustment of zero changes nothing")]
    ZeroAdjustment,
    #[error("the amount is too large to compute")]
    Overflow,
    #[error("a charge's owner shares exceed its total")]
    SharesExceedTotal,
    /// A bug, never a user's mistake: a builder produced postings that do
    /// not balance.
    #[error("transaction `{key}` does not balance: {commodity} postings sum to {sum}")]
    Unbalanced { key: String, commodity: Commodity, sum: i128 },
}

/// Money paid in by a tenant (a bank transfer, an invoice): its wallet
/// grows. The reference is the payment's, and makes the top-up idempotent.
pub fn top_up(tenant: TenantId, amount: Money, reference: &str) -> Result<Transaction, LedgerError> {
    if amount.0 <= 0 {
        return Err(LedgerError::NotPositive(amount.to_string()));
    }
    Transaction::new(
        format!("top-up:{tenant}:{reference}"),
        TxKind::TopUp,
        vec![
            Posting { account: Account::Funding, amount: -amount.0 },
            Posting { account: Account::Wallet(tenant), amount: amount.0 },
        ],
    )
}

/// A correction by the operator: a refund (positive) or a debit (negative).
pub fn adjust(tenant: TenantId, amount: Money, reference: &str) -> Result<Transaction, LedgerError> {
    if amount.0 == 0 {
        return Err(LedgerError::ZeroAdjustment);
    }
    Transaction::new(
        format!("adjust:{tenant}:{reference}"),
        TxKind::Adjustment,
        vec![
            Posting { account: Account::Adjustments, amount: -amount.0 },
            Posting { account: Account::Wallet(tenant), amount: amount.0 },
        ],
    )
}

/// Service units a grant receives when approved.
pub fn award(grant: GrantId, units: i64) -> Result<Transaction, LedgerError> {
    if units <= 0 {
        return Err(LedgerError::NotPositive(units.to_string()));
    }
    Transaction::new(
        format!("award:grant:{grant}"),
        TxKind::Award,
        vec![
            Posting { account: Account::Awarded, amount: -units },
            Posting { account: Account::Units(grant), amount: units },
        ],
    )
}

/// Reserves a job's worst case at submission. The caller has checked that
/// the funding can cover it ([`crate::check_available`]).
/// A job's `run`-th run's key: run 0 is the job's first, and a job an
/// owner's preemption requeued runs again as run 1, 2...: each run is held
/// for and settled once.
fn run_key(kind: &str, job: JobId, run: u32) -> String {
    match run {
        0 => format!("{kind}:job:{job}"),
        run => format!("{kind}:job:{job}:run:{run}"),
    }
}

/// Which run of its job a hold's or settlement's key is for (see
/// `run_key`); 0 for any other key.
pub fn run_of_key(key: &str) -> u32 {
    key.rsplit_once(":run:").and_then(|(_, n)| n.parse().ok()).unwrap_or(0)
}

pub fn place_hold(job: JobId, run: u32, funding: Funding, amount: i64) -> Result<Transaction, LedgerError> {
    if amount < 0 {
        return Err(LedgerError::NotPositive(amount.to_string()));
    }
    let (spendable, held) = funding.accounts();
    Transaction::new(
        run_key("hold", job, run),
        TxKind::Hold,
        vec![Posting { account: spendable, amount: -amount }, Posting { account: held, amount }],
    )
}

/// Settles a job that ended: its whole hold is released, its charge taken
/// from the funding, and the charge credited to the centre and to the
/// owners of the nodes it ran on. A job cancelled before it started settles
/// with a charge of zero. A charge above the hold (a job that ran past its
/// limit while being killed) is taken all the same: it ran.
pub fn settle(job: JobId, run: u32, funding: Funding, held: i64, charge: &Charge) -> Result<Transaction, LedgerError> {
    if held < 0 || charge.total < 0 {
        return Err(LedgerError::NotPositive(held.min(charge.total).to_string()));
    }
    let (spendable, held_account) = funding.accounts();
    let mut postings = vec![
        Posting { account: held_account, amount: -held },
        Posting { account: spendable, amount: held.checked_sub(charge.total).ok_or(LedgerError::Overflow)? },
    ];
    match funding {
        Funding::Wallet(_) => {
            let shared: i64 = charge.owner_shares.iter().map(|(_, s)| *s).sum();
            if shared > charge.total || charge.owner_shares.iter().any(|(_, s)| *s < 0) {
                return Err(LedgerError::SharesExceedTotal);
            }
            postings.push(Posting { account: Account::Revenue, amount: charge.total - shared });
            for (owner, share) in &charge.owner_shares {
                postings.push(Posting { account: Account::Earnings(*owner), amount: *share });
            }
        }
        Funding::Grant(_) => postings.push(Posting { account: Account::Delivered, amount: charge.total }),
    }
    Transaction::new(run_key("settle", job, run), TxKind::Settlement, postings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settlement_releases_the_hold_and_splits_the_charge() {
        let alice = TenantId(2);
        let owner = TenantId(5);
        let hold = place_hold(JobId(9), 0, Funding::Wallet(alice), 9_600).unwrap();
        assert_eq!(hold.amount_for(Account::Wallet(alice)), -9_600);
        assert_eq!(hold.amount_for(Account::Held(alice)), 9_600);
        let settled = settle(
            JobId(9),
            0,
            Funding::Wallet(alice),
            9_600,
            &Charge { total: 1_000, owner_shares: vec![(owner, 700)] },
        )
        .unwrap();
        assert_eq!(settled.key(), "settle:job:9");
        let rerun = settle(JobId(9), 2, Funding::Wallet(alice), 0, &Charge { total: 0, owner_shares: vec![] }).unwrap();
        assert_eq!(rerun.key(), "settle:job:9:run:2");
        assert_eq!((run_of_key(rerun.key()), run_of_key(settled.key())), (2, 0));
        assert_eq!(settled.amount_for(Account::Held(alice)), -9_600);
        assert_eq!(settled.amount_for(Account::Wallet(alice)), 8_600);
        assert_eq!(settled.amount_for(Account::Revenue), 300);
        assert_eq!(settled.amount_for(Account::Earnings(owner)), 700);
    }

    #[test]
    fn bad_amounts_are_refused() {
        assert_eq!(top_up(TenantId(1), Money(0), "x"), Err(LedgerError::NotPositive("0.00".into())));
        assert_eq!(adjust(TenantId(1), Money(0), "x"), Err(LedgerError::ZeroAdjustment));
        assert!(place_hold(JobId(1), 0, Funding::Wallet(TenantId(1)), -1).is_err());
        assert_eq!(
            settle(
                JobId(1),
                0,
                Funding::Wallet(TenantId(1)),
                10,
                &Charge { total: 10, owner_shares: vec![(TenantId(2), 11)] }
            ),
            Err(LedgerError::SharesExceedTotal)
        );
    }
}
