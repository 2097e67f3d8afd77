//! The ledger's rules: what a job may cost, who pays it, and the postings
//! that move money and service units, as pure functions.
//!
//! Money is in fen ([`Money`]), service units in core-seconds
//! ([`Units`]: one SU is one core-hour, 3,600 of them). Every movement is a
//! [`Transaction`] whose postings sum to zero per commodity, with an
//! idempotency key the store keeps unique: posting the same transaction
//! twice changes nothing the second time. Balances are sums of postings;
//! nothing is updated in place; a correction is another transaction.
//!
//! **Invariant:** no IO, no clock, no floats. The store persists what this
//! crate computes and enforces the keys; the control loop passes `now` in.
//! `docs/billing.md` is the user-facing description of these rules.

mod account;
mod entries;
mod funding;
mod pricing;

pub use account::{Account, Commodity, ParseAccountError};
pub use entries::{
    Charge, Funding, LedgerError, MAX_AMOUNT, MAX_BALANCE, MAX_POSTING, Posting, Transaction, TxKind, adjust, award,
    balance_bounds, check_credit_limit, place_hold, run_of_key, settle, top_up,
};
pub use funding::{GrantTerms, grants_covering, price_rank};
pub use lushan_model::{BasisPoints, Money, Rate};
pub use pricing::{
    NodeShare, Price, Resources, Sharing, Units, charge_grant, charge_wallet, check_available, worst_case_cost,
    worst_case_units,
};

/// What a fresh platform charges until the operator sets its own prices:
/// 0.10 CNY per core-hour, 2.00 CNY per GPU-hour, memory free, and a GPU-hour
/// worth 16 core-hours of a grant.
pub const DEFAULT_PRICE: Price =
    Price { core_hour: Rate(100_000), gpu_hour: Rate(2_000_000), gb_hour: Rate(0), su_per_gpu_hour: 16 };

/// The share of a guest job's charge that goes to the owner of the nodes it
/// ran on, unless configured otherwise: 70 %.
pub const DEFAULT_OWNER_SHARE: BasisPoints = BasisPoints(7_000);
