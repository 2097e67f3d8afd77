//! Transactions: balanced sets of postings with an idempotency key, and the
//! builders for each kind of movement. A builder either returns a balanced
//! transaction or an error; there is no way to build an unbalanced one.

use crate::account::{Account, Commodity};
use crate::pricing::Units;
use lushan_model::{GrantId, JobId, Money, TenantId};
use std::fmt;
use std::ops::RangeInclusive;

/// The most one top-up, adjustment, hold, award or credit limit may be, in
/// minor units of its commodity: 10^14, that is one trillion CNY (in fen)
/// or about 27.8 billion SU (in core-seconds). Generous beyond any real
/// payment or allocation, and 92,000 times short of an `i64`'s limit, so a
/// mistyped figure (issue 19: `92233720368547758.07`) is refused whole
/// instead of overflowing a balance.
pub const MAX_POSTING: i64 = 100_000_000_000_000;

/// [`MAX_POSTING`] as money: the most one top-up, adjustment or credit
/// limit may be (1,000,000,000,000.00 CNY).
pub const MAX_AMOUNT: Money = Money(MAX_POSTING);

/// How far any kept balance may go from zero either way: 10^18 minor units
/// (10^16 CNY). Nine of them still sum inside an `i64` (9.22 x 10^18), so
/// figures made of a few balances (a wallet's balance is spendable plus
/// held; what it has available is spendable plus its credit limit) cannot
/// overflow, and 10,000 maximal postings fit before the centre's funding
/// account reaches it.
pub const MAX_BALANCE: i64 = 1_000_000_000_000_000_000;

/// An amount in its commodity's words: "12.40 CNY", "1.50 SU".
fn amount_text(commodity: Commodity, amount: i64) -> String {
    match commodity {
        Commodity::Cny => format!("{} CNY", Money(amount)),
        Commodity::Su => format!("{} SU", Units(amount)),
    }
}

/// Refuses `amount` (of either sign) beyond [`MAX_POSTING`]; `what` names
/// it in the refusal ("a top-up").
fn check_posting(what: &'static str, commodity: Commodity, amount: i64) -> Result<(), LedgerError> {
    if amount.unsigned_abs() > MAX_POSTING.unsigned_abs() {
        return Err(LedgerError::TooLarge {
            what,
            amount: amount_text(commodity, amount),
            max: amount_text(commodity, MAX_POSTING),
        });
    }
    Ok(())
}

/// Refuses a credit limit beyond [`MAX_AMOUNT`], so that what a wallet has
/// available (spendable plus the limit) always fits.
pub fn check_credit_limit(limit: Money) -> Result<(), LedgerError> {
    check_posting("a credit limit", Commodity::Cny, limit.0)
}

/// The range a balance must be in for `amount` to be added to it without
/// the sum leaving +/- [`MAX_BALANCE`]. The store adds postings to kept
/// balances in SQL and checks the old balance against this range in the
/// same statement, so the sum is never computed where it could overflow
/// (SQLite would turn it into a float, PostgreSQL fail it as a database
/// error, both after the posting was accepted). Saturating is exact here:
/// a bound past an `i64`'s limit excludes no balance an `i64` can hold.
pub fn balance_bounds(amount: i64) -> RangeInclusive<i64> {
    (-MAX_BALANCE).saturating_sub(amount)..=MAX_BALANCE.saturating_sub(amount)
}

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

    /// What this transaction adds to `account` (held at the `i64` limits
    /// rather than wrapping; each posting is within them).
    pub fn amount_for(&self, account: Account) -> i64 {
        self.postings.iter().filter(|p| p.account == account).fold(0i64, |sum, p| sum.saturating_add(p.amount))
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
    #[error("{what} of {amount} is more than the ledger takes at once (at most {max}); nothing changed")]
    TooLarge { what: &'static str, amount: String, max: String },
    #[error(
        "this would take the balance of `{account}` past {limit} either way, the most the ledger keeps; nothing changed"
    )]
    BalanceOutOfRange { account: String, limit: String },
    #[error("a charge's owner shares exceed its total")]
    SharesExceedTotal,
    /// A bug, never a user's mistake: a builder produced postings that do
    /// not balance.
    #[error("transaction `{key}` does not balance: {commodity} postings sum to {sum}")]
    Unbalanced { key: String, commodity: Commodity, sum: i128 },
}

impl LedgerError {
    /// `account`'s balance would leave +/- [`MAX_BALANCE`].
    pub fn balance_out_of_range(account: Account) -> LedgerError {
        LedgerError::BalanceOutOfRange {
            account: account.to_string(),
            limit: amount_text(account.commodity(), MAX_BALANCE),
        }
    }
}

/// Money paid in by a tenant (a bank transfer, an invoice): its wallet
/// grows. The reference is the payment's, and makes the top-up idempotent.
pub fn top_up(tenant: TenantId, amount: Money, reference: &str) -> Result<Transaction, LedgerError> {
    if amount.0 <= 0 {
        return Err(LedgerError::NotPositive(amount.to_string()));
    }
    check_posting("a top-up", Commodity::Cny, amount.0)?;
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
    check_posting("an adjustment", Commodity::Cny, amount.0)?;
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
    check_posting("an award", Commodity::Su, units)?;
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
    check_posting("a hold", funding.commodity(), amount)?;
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
/// limit while being killed) is taken all the same: it ran. For the same
/// reason a settlement has no [`MAX_POSTING`] (its hold had one); only its
/// arithmetic is checked.
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
            let shared = charge
                .owner_shares
                .iter()
                .try_fold(0i64, |sum, (_, s)| sum.checked_add(*s))
                .ok_or(LedgerError::Overflow)?;
            if shared > charge.total || charge.owner_shares.iter().any(|(_, s)| *s < 0) {
                return Err(LedgerError::SharesExceedTotal);
            }
            let revenue = charge.total.checked_sub(shared).ok_or(LedgerError::Overflow)?;
            postings.push(Posting { account: Account::Revenue, amount: revenue });
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
    fn amounts_past_the_maximum_are_refused_whole() {
        let jxu = TenantId(1);
        let issue_19 = "92233720368547758.07".parse::<Money>().unwrap();
        assert_eq!(
            top_up(jxu, issue_19, "x").unwrap_err().to_string(),
            "a top-up of 92233720368547758.07 CNY is more than the ledger takes at once \
             (at most 1000000000000.00 CNY); nothing changed"
        );
        assert!(top_up(jxu, MAX_AMOUNT, "x").is_ok());
        assert!(matches!(top_up(jxu, Money(MAX_POSTING + 1), "x"), Err(LedgerError::TooLarge { .. })));
        assert!(matches!(adjust(jxu, Money(-MAX_POSTING - 1), "x"), Err(LedgerError::TooLarge { .. })));
        assert!(matches!(adjust(jxu, Money(i64::MIN), "x"), Err(LedgerError::TooLarge { .. })));
        assert!(adjust(jxu, Money(-MAX_POSTING), "x").is_ok());
        assert!(matches!(award(GrantId(2), MAX_POSTING + 1), Err(LedgerError::TooLarge { .. })));
        assert!(matches!(place_hold(JobId(1), 0, Funding::Wallet(jxu), i64::MAX), Err(LedgerError::TooLarge { .. })));
        assert_eq!(check_credit_limit(MAX_AMOUNT), Ok(()));
        assert!(matches!(check_credit_limit(issue_19), Err(LedgerError::TooLarge { what: "a credit limit", .. })));
    }

    #[test]
    fn a_balance_takes_a_posting_only_within_its_bounds() {
        assert_eq!(balance_bounds(500), -MAX_BALANCE - 500..=MAX_BALANCE - 500);
        assert_eq!(balance_bounds(-500), -MAX_BALANCE + 500..=MAX_BALANCE + 500);
        assert_eq!(balance_bounds(0), -MAX_BALANCE..=MAX_BALANCE);
        // A posting that alone passes the bound fits no fresh balance; the
        // extremes of an i64 neither overflow nor wrap.
        assert!(!balance_bounds(MAX_BALANCE + 1).contains(&0));
        assert!(!balance_bounds(-MAX_BALANCE - 1).contains(&0));
        assert_eq!(balance_bounds(i64::MAX), i64::MIN..=MAX_BALANCE - i64::MAX);
        assert_eq!(balance_bounds(i64::MIN), i64::MAX - (MAX_BALANCE - 1)..=i64::MAX);
        assert!(!balance_bounds(1).contains(&(i64::MAX - 500)), "the overflow of issue 19");
        assert_eq!(
            LedgerError::balance_out_of_range(Account::Funding).to_string(),
            "this would take the balance of `centre:funding` past 10000000000000000.00 CNY either way, \
             the most the ledger keeps; nothing changed"
        );
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
