//! What a job costs: in money from a price, in service units from a
//! grant's rates, and how a charge is split between the centre and the
//! owners of the nodes the job ran on.
//!
//! The rounding rule (docs/billing.md): the exact cost of a job, discounts
//! and the share of the nodes that are billable included, is computed as
//! one fraction and rounded half up to the fen once. Holds use the same
//! formula with the time limit, so a job that ends within its limit is never
//! charged more than its hold. Owner shares are rounded down and the centre
//! gets the remainder, so a split never creates or loses a fen.

use crate::entries::{Charge, LedgerError};
use lushan_model::{BasisPoints, Money, Rate, TenantId};
use std::fmt;

/// The price of a partition (per hour of each resource) and what a GPU-hour
/// is worth in a grant's core-hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price {
    pub core_hour: Rate,
    pub gpu_hour: Rate,
    pub gb_hour: Rate,
    pub su_per_gpu_hour: i64,
}

/// What a job holds, summed over its nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Resources {
    pub cores: i64,
    pub gpus: i64,
    pub memory_mb: i64,
}

/// Service units in core-seconds (3,600 make one SU, one core-hour).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Units(pub i64);

impl Units {
    pub const PER_SU: i64 = 3_600;

    pub fn from_core_hours(hours: i64) -> Option<Units> {
        hours.checked_mul(Self::PER_SU).map(Units)
    }
}

impl fmt::Display for Units {
    /// As service units (core-hours) with two decimals, rounded half up.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hundredths = (i128::from(self.0) * 100 + i128::from(Self::PER_SU / 2) * self.0.signum() as i128)
            / i128::from(Self::PER_SU);
        let sign = if hundredths < 0 { "-" } else { "" };
        let abs = hundredths.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// One node a job ran on: who owns it and how many of its cores the job
/// held. A job's charge is attributed to nodes by cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeShare {
    pub owner: TenantId,
    pub cores: i64,
}

/// How guest charges are shared: the centre's tenant (its nodes earn no
/// owner share) and the co-builders' share of what ran on theirs; and the
/// preemptible discount, off what a guest ran on co-built nodes (where the
/// owner may preempt it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sharing {
    pub centre: TenantId,
    pub owner_share: BasisPoints,
    pub preemptible_discount: BasisPoints,
}

/// micro-yuan in a fen
const MICRO_PER_FEN: i128 = 10_000;
const SECONDS_PER_HOUR: i128 = 3_600;
const MB_PER_GB: i128 = 1_024;
const WHOLE: i128 = 10_000;

/// The exact cost of `resources` for `seconds` as numerator/denominator in
/// fen, before the billable fraction and rounding.
fn exact_fen(
    price: &Price,
    resources: &Resources,
    seconds: i64,
    discounts: &[BasisPoints],
) -> Result<(i128, i128), LedgerError> {
    let ov = || LedgerError::Overflow;
    let per_second_scaled = i128::from(resources.cores)
        .checked_mul(i128::from(price.core_hour.0) * MB_PER_GB)
        .and_then(|c| c.checked_add(i128::from(resources.gpus).checked_mul(i128::from(price.gpu_hour.0) * MB_PER_GB)?))
        .and_then(|c| c.checked_add(i128::from(resources.memory_mb).checked_mul(i128::from(price.gb_hour.0))?))
        .ok_or_else(ov)?;
    let mut numerator = per_second_scaled.checked_mul(i128::from(seconds.max(0))).ok_or_else(ov)?;
    let mut denominator = SECONDS_PER_HOUR * MB_PER_GB * MICRO_PER_FEN;
    for discount in discounts {
        let keep = WHOLE - i128::from(discount.0.clamp(0, 10_000));
        numerator = numerator.checked_mul(keep).ok_or_else(ov)?;
        denominator = denominator.checked_mul(WHOLE).ok_or_else(ov)?;
    }
    Ok((numerator, denominator))
}

fn round_half_up(numerator: i128, denominator: i128) -> Result<i64, LedgerError> {
    if denominator == 0 {
        return Ok(0);
    }
    i64::try_from((numerator + denominator / 2) / denominator).map_err(|_| LedgerError::Overflow)
}

/// The most a job can cost: its time limit at the price, with the
/// tenant's discounts. Nothing when every node it could run on belongs to
/// its own tenant (an owner's jobs on its own nodes are free).
pub fn worst_case_cost(
    price: &Price,
    resources: &Resources,
    limit_secs: i64,
    discounts: &[BasisPoints],
    owns_every_node: bool,
) -> Result<Money, LedgerError> {
    if owns_every_node {
        return Ok(Money::ZERO);
    }
    let (numerator, denominator) = exact_fen(price, resources, limit_secs, discounts)?;
    round_half_up(numerator, denominator).map(Money)
}

/// What a job that ran `seconds` on `nodes` is charged in money, and the
/// co-builders' shares of it. The part of the job on the payer's own nodes
/// is free; of the rest, each owner other than the centre gets
/// `owner_share` of what ran on its nodes, rounded down.
pub fn charge_wallet(
    price: &Price,
    resources: &Resources,
    seconds: i64,
    discounts: &[BasisPoints],
    payer: TenantId,
    nodes: &[NodeShare],
    sharing: Sharing,
) -> Result<Charge, LedgerError> {
    let ov = || LedgerError::Overflow;
    let (mut numerator, mut denominator) = exact_fen(price, resources, seconds, discounts)?;
    // Each node weighs its cores, in basis points of the full price: none
    // on the payer's own nodes, less the preemptible discount on other
    // co-builders' nodes, in full on the centre's.
    let keep = WHOLE - i128::from(sharing.preemptible_discount.0.clamp(0, 10_000));
    let weight = |node: &NodeShare| -> i128 {
        let cores = i128::from(node.cores.max(0));
        if node.owner == payer {
            0
        } else if node.owner == sharing.centre {
            cores * WHOLE
        } else {
            cores * keep
        }
    };
    let total_cores: i128 = nodes.iter().map(|n| i128::from(n.cores.max(0))).sum();
    let billable: i128 = nodes.iter().map(weight).sum();
    if total_cores > 0 {
        numerator = numerator.checked_mul(billable).ok_or_else(ov)?;
        denominator = denominator.checked_mul(total_cores * WHOLE).ok_or_else(ov)?;
    }
    let total = round_half_up(numerator, denominator)?;
    let mut owners: Vec<(TenantId, i128)> = Vec::new();
    for node in nodes.iter().filter(|n| n.owner != payer && n.owner != sharing.centre) {
        match owners.iter_mut().find(|(o, _)| *o == node.owner) {
            Some((_, w)) => *w += weight(node),
            None => owners.push((node.owner, weight(node))),
        }
    }
    let mut owner_shares = Vec::new();
    if billable > 0 {
        for (owner, owned) in owners {
            let share = i128::from(total)
                .checked_mul(owned)
                .and_then(|s| s.checked_mul(i128::from(sharing.owner_share.0.clamp(0, 10_000))))
                .ok_or_else(ov)?
                / (billable * WHOLE);
            let share = i64::try_from(share).map_err(|_| LedgerError::Overflow)?;
            if share > 0 {
                owner_shares.push((owner, share));
            }
        }
    }
    Ok(Charge { total, owner_shares })
}

/// Service units a job uses: core-seconds plus GPU-seconds at the
/// partition's rate. Exact: no rounding.
pub fn worst_case_units(price: &Price, resources: &Resources, seconds: i64) -> Result<Units, LedgerError> {
    let seconds = seconds.max(0);
    resources
        .cores
        .checked_mul(seconds)
        .and_then(|c| c.checked_add(resources.gpus.checked_mul(seconds)?.checked_mul(price.su_per_gpu_hour)?))
        .map(Units)
        .ok_or(LedgerError::Overflow)
}

/// What a job funded by a grant is charged in service units: its use, minus
/// the part on its own tenant's nodes (free, as for money).
pub fn charge_grant(
    price: &Price,
    resources: &Resources,
    seconds: i64,
    payer: TenantId,
    nodes: &[NodeShare],
) -> Result<Charge, LedgerError> {
    let used = worst_case_units(price, resources, seconds)?;
    let total_cores: i128 = nodes.iter().map(|n| i128::from(n.cores.max(0))).sum();
    let billable: i128 = nodes.iter().filter(|n| n.owner != payer).map(|n| i128::from(n.cores.max(0))).sum();
    let total = if total_cores > 0 {
        round_half_up(i128::from(used.0).checked_mul(billable).ok_or(LedgerError::Overflow)?, total_cores)?
    } else {
        used.0
    };
    Ok(Charge { total, owner_shares: Vec::new() })
}

/// Refuses a hold the wallet cannot cover: what is available is the
/// spendable balance (holds already taken out) plus the credit limit.
/// Within the ledger's bounds (`MAX_BALANCE`, `MAX_AMOUNT`) the sum fits;
/// past them (rows written before the bounds) it stops at the largest
/// amount instead of wrapping to a debt: a limit is never negative, so the
/// true figure is larger still and refusing above it is right.
pub fn check_available(who: &str, spendable: Money, credit_limit: Money, required: Money) -> Result<(), LedgerError> {
    let available = spendable.saturating_add(credit_limit);
    if required.0 > available.0 {
        return Err(LedgerError::InsufficientFunds { who: who.to_owned(), available, required });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRICE: Price =
        Price { core_hour: Rate(100_000), gpu_hour: Rate(2_000_000), gb_hour: Rate(10_000), su_per_gpu_hour: 16 };

    #[test]
    fn costs_are_exact_and_rounded_half_up_once() {
        let one_core = Resources { cores: 1, gpus: 0, memory_mb: 0 };
        // 1 core-hour at 0.10.
        assert_eq!(worst_case_cost(&PRICE, &one_core, 3_600, &[], false), Ok(Money(10)));
        // 18 s of a core: 0.0005 CNY = 0.05 fen, rounds to 0.
        assert_eq!(worst_case_cost(&PRICE, &one_core, 18, &[], false), Ok(Money(0)));
        // 180 s: 0.5 fen, rounds half up to 1.
        assert_eq!(worst_case_cost(&PRICE, &one_core, 180, &[], false), Ok(Money(1)));
        // 4 cores, 1 GPU, 8 GB for 2 h: 0.8 + 4.0 + 0.16 = 4.96 CNY; 30 % off: 3.472 -> 3.47.
        let job = Resources { cores: 4, gpus: 1, memory_mb: 8 * 1024 };
        assert_eq!(worst_case_cost(&PRICE, &job, 7_200, &[], false), Ok(Money(496)));
        assert_eq!(worst_case_cost(&PRICE, &job, 7_200, &[BasisPoints(3_000)], false), Ok(Money(347)));
        assert_eq!(worst_case_cost(&PRICE, &job, 7_200, &[], true), Ok(Money(0)));
        let huge = Resources { cores: i64::MAX, gpus: 0, memory_mb: 0 };
        assert_eq!(worst_case_cost(&PRICE, &huge, i64::MAX, &[], false), Err(LedgerError::Overflow));
    }

    #[test]
    fn a_guest_charge_is_split_with_the_owner_and_own_nodes_are_free() {
        let (centre, guest, owner) = (TenantId(1), TenantId(2), TenantId(3));
        let sharing = Sharing { centre, owner_share: BasisPoints(7_000), preemptible_discount: BasisPoints(0) };
        let job = Resources { cores: 8, gpus: 0, memory_mb: 0 };
        // 8 cores for 10 h at 0.10 = 8.00, half on the owner's node.
        let nodes = [NodeShare { owner, cores: 4 }, NodeShare { owner: centre, cores: 4 }];
        let charge = charge_wallet(&PRICE, &job, 36_000, &[], guest, &nodes, sharing).unwrap();
        assert_eq!(charge, Charge { total: 800, owner_shares: vec![(owner, 280)] });
        // 20 % off what a guest runs where an owner may preempt it: 4.00 +
        // 3.20; the owner gets 70 % of the 3.20.
        let preemptible = Sharing { preemptible_discount: BasisPoints(2_000), ..sharing };
        let charge = charge_wallet(&PRICE, &job, 36_000, &[], guest, &nodes, preemptible).unwrap();
        assert_eq!(charge, Charge { total: 720, owner_shares: vec![(owner, 224)] });
        // The owner's own job: the half on its node is free, no share to itself.
        let charge = charge_wallet(&PRICE, &job, 36_000, &[], owner, &nodes, sharing).unwrap();
        assert_eq!(charge, Charge { total: 400, owner_shares: vec![] });
        // Grants: service units, own nodes free as well.
        let used = charge_grant(&PRICE, &job, 36_000, owner, &nodes).unwrap();
        assert_eq!(used.total, 4 * 36_000);
        assert_eq!(Units(used.total).to_string(), "40.00");
    }

    #[test]
    fn units_count_gpu_hours_at_the_partition_rate() {
        let job = Resources { cores: 2, gpus: 1, memory_mb: 0 };
        assert_eq!(worst_case_units(&PRICE, &job, 3_600), Ok(Units(18 * 3_600)));
        assert_eq!(Units(5_400).to_string(), "1.50");
        assert_eq!(Units(1).to_string(), "0.00");
        assert_eq!(Units(18).to_string(), "0.01");
    }

    #[test]
    fn availability_counts_the_credit_limit() {
        assert!(check_available("jxu", Money(1240), Money(0), Money(1240)).is_ok());
        let err = check_available("tenant jxu", Money(1240), Money(0), Money(9600)).unwrap_err();
        assert_eq!(err.to_string(), "tenant jxu has 12.40 CNY available; this job may cost up to 96.00 CNY");
        assert!(check_available("jxu", Money(-500), Money(10_000), Money(9_500)).is_ok());
        // Never wraps round to a debt (issue 19 showed -92233720368447758.09).
        assert!(check_available("jxu", Money(i64::MAX - 5), Money(100), Money(i64::MAX)).is_ok());
    }

    #[test]
    fn huge_node_counts_give_an_exact_charge_or_an_error_never_a_wrap() {
        let (centre, guest, owner) = (TenantId(1), TenantId(2), TenantId(3));
        let sharing = Sharing { centre, owner_share: BasisPoints(7_000), preemptible_discount: BasisPoints(0) };
        let job = Resources { cores: 1, gpus: 0, memory_mb: 0 };
        let nodes = [NodeShare { owner, cores: i64::MAX }, NodeShare { owner, cores: i64::MAX }];
        let expensive = Price { core_hour: Rate(i64::MAX), ..PRICE };
        assert_eq!(
            charge_wallet(&expensive, &job, 3_600_000_000, &[], guest, &nodes, sharing),
            Err(LedgerError::Overflow)
        );
        let units = Resources { cores: i64::MAX / 4, gpus: 0, memory_mb: 0 };
        assert_eq!(charge_grant(&PRICE, &units, 2, guest, &nodes).map(|c| c.total), Ok(i64::MAX / 4 * 2));
    }
}
