//! The ledger's invariants on random prices, jobs and histories:
//! transactions balance, a job that ends within its limit is never charged
//! more than its hold, a split never creates or loses a fen, and a wallet
//! that only ever accepts holds it can cover never goes below minus its
//! credit limit.

use lushan_ledger::*;
use lushan_model::{JobId, TenantId};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn price() -> impl Strategy<Value = Price> {
    (0i64..5_000_000, 0i64..50_000_000, 0i64..500_000, 0i64..64).prop_map(|(c, g, m, su)| Price {
        core_hour: Rate(c),
        gpu_hour: Rate(g),
        gb_hour: Rate(m),
        su_per_gpu_hour: su,
    })
}

fn resources() -> impl Strategy<Value = Resources> {
    (1i64..4_096, 0i64..64, 0i64..4_000_000).prop_map(|(cores, gpus, memory_mb)| Resources { cores, gpus, memory_mb })
}

fn discounts() -> impl Strategy<Value = Vec<BasisPoints>> {
    proptest::collection::vec((0i64..=10_000).prop_map(BasisPoints), 0..3)
}

/// Nodes owned by tenants 1 (the centre), 2 (the payer) and 3..5 (co-builders).
fn nodes() -> impl Strategy<Value = Vec<NodeShare>> {
    proptest::collection::vec((1i64..6, 1i64..256).prop_map(|(o, cores)| NodeShare { owner: TenantId(o), cores }), 1..6)
}

const PAYER: TenantId = TenantId(2);

fn sums(tx: &Transaction) -> (i128, i128) {
    let mut cny = 0i128;
    let mut su = 0i128;
    for p in tx.postings() {
        match p.account.commodity() {
            Commodity::Cny => cny += i128::from(p.amount),
            Commodity::Su => su += i128::from(p.amount),
        }
    }
    (cny, su)
}

proptest! {
    #[test]
    fn a_job_within_its_limit_is_never_charged_more_than_its_hold(
        price in price(), job in resources(), discounts in discounts(), nodes in nodes(),
        limit in 1i64..2_000_000, ran in 0.0f64..=1.0, share in 0i64..=10_000, preemptible in 0i64..=10_000,
    ) {
        // The fraction only picks a runtime; money never touches a float.
        let seconds = ((limit as f64) * ran) as i64;
        let hold = worst_case_cost(&price, &job, limit, &discounts, false).unwrap();
        let sharing = Sharing { centre: TenantId(1), owner_share: BasisPoints(share), preemptible_discount: BasisPoints(preemptible) };
        let charge = charge_wallet(&price, &job, seconds, &discounts, PAYER, &nodes, sharing).unwrap();
        prop_assert!(charge.total <= hold.0, "charge {} > hold {}", charge.total, hold.0);
        let units_hold = worst_case_units(&price, &job, limit).unwrap();
        let units = charge_grant(&price, &job, seconds, PAYER, &nodes).unwrap();
        prop_assert!(units.total <= units_hold.0);
    }

    #[test]
    fn a_split_never_creates_or_loses_a_fen(
        price in price(), job in resources(), discounts in discounts(), nodes in nodes(),
        seconds in 0i64..2_000_000, share in 0i64..=10_000, extra_hold in 0i64..1_000_000,
        preemptible in 0i64..=10_000,
    ) {
        let sharing = Sharing { centre: TenantId(1), owner_share: BasisPoints(share), preemptible_discount: BasisPoints(preemptible) };
        let charge = charge_wallet(&price, &job, seconds, &discounts, PAYER, &nodes, sharing).unwrap();
        let shared: i64 = charge.owner_shares.iter().map(|(_, s)| *s).sum();
        prop_assert!(shared <= charge.total);
        prop_assert!(charge.owner_shares.iter().all(|(o, s)| *s > 0 && *o != PAYER && *o != TenantId(1)));
        let held = charge.total + extra_hold;
        let tx = settle(JobId(1), 0, Funding::Wallet(PAYER), held, &charge).unwrap();
        prop_assert_eq!(sums(&tx), (0, 0));
        // What left the payer is exactly what the centre and the owners got.
        let paid = -(tx.amount_for(Account::Held(PAYER)) + tx.amount_for(Account::Wallet(PAYER)));
        let received: i64 = tx.amount_for(Account::Revenue)
            + charge.owner_shares.iter().map(|(o, _)| tx.amount_for(Account::Earnings(*o))).sum::<i64>();
        prop_assert_eq!(paid, charge.total);
        prop_assert_eq!(received, charge.total);
    }

    /// A random history of top-ups, adjustments, submissions (held only if
    /// covered) and settlements within the limit: every transaction
    /// balances, balances are sums of postings, and the spendable balance
    /// plus the credit limit never goes below zero.
    #[test]
    fn a_wallet_never_goes_past_its_credit_limit(
        price in price(), credit in 0i64..100_000,
        events in proptest::collection::vec((0u8..4, 1i64..50_000, resources(), 1i64..200_000, 0.0f64..=1.0), 1..60),
    ) {
        let mut balances: BTreeMap<Account, i64> = BTreeMap::new();
        let mut open: Vec<(JobId, i64, Resources, i64, f64)> = Vec::new();
        let mut next_job = 1;
        let apply = |balances: &mut BTreeMap<Account, i64>, tx: &Transaction| {
            for p in tx.postings() {
                *balances.entry(p.account).or_default() += p.amount;
            }
        };
        for (i, (what, amount, job, limit, ran)) in events.into_iter().enumerate() {
            match what {
                0 => {
                    let tx = top_up(PAYER, Money(amount), &format!("ref-{i}")).unwrap();
                    prop_assert_eq!(sums(&tx), (0, 0));
                    apply(&mut balances, &tx);
                }
                1 => {
                    let hold = worst_case_cost(&price, &job, limit, &[], false).unwrap();
                    let spendable = Money(*balances.get(&Account::Wallet(PAYER)).unwrap_or(&0));
                    if check_available("t", spendable, Money(credit), hold).is_ok() {
                        let id = JobId(next_job);
                        next_job += 1;
                        let tx = place_hold(id, 0, Funding::Wallet(PAYER), hold.0).unwrap();
                        prop_assert_eq!(sums(&tx), (0, 0));
                        apply(&mut balances, &tx);
                        open.push((id, hold.0, job, limit, ran));
                    }
                }
                2 if !open.is_empty() => {
                    let (id, held, job, limit, ran) = open.remove(amount as usize % open.len());
                    let seconds = ((limit as f64) * ran) as i64;
                    let nodes = [NodeShare { owner: TenantId(3), cores: job.cores }];
                    let sharing = Sharing { centre: TenantId(1), owner_share: BasisPoints(7_000), preemptible_discount: BasisPoints(0) };
                    let charge = charge_wallet(&price, &job, seconds, &[], PAYER, &nodes, sharing).unwrap();
                    let tx = settle(id, 0, Funding::Wallet(PAYER), held, &charge).unwrap();
                    prop_assert_eq!(sums(&tx), (0, 0));
                    apply(&mut balances, &tx);
                }
                _ => {
                    // A refund: adjustments never take a wallet past its limit here.
                    let tx = adjust(PAYER, Money(amount), &format!("adj-{i}")).unwrap();
                    apply(&mut balances, &tx);
                }
            }
            let spendable = *balances.get(&Account::Wallet(PAYER)).unwrap_or(&0);
            prop_assert!(spendable + credit >= 0, "spendable {spendable} credit {credit}");
            prop_assert!(*balances.get(&Account::Held(PAYER)).unwrap_or(&0) >= 0);
            prop_assert_eq!(balances.values().map(|v| i128::from(*v)).sum::<i128>(), 0);
        }
    }
}
