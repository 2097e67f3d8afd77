//! The ledger's tables: prices, discounts, wallets, transactions and
//! postings, and each job's charge. The rules (what a job costs, which
//! postings a hold or a settlement makes) are `lushan_ledger`'s; this module
//! persists them. Every transaction is inserted under its unique key with
//! `ON CONFLICT DO NOTHING`, so posting it twice changes nothing.

use crate::{AuditEntry, Param, Store, StoreError, append_audit, insert_rows, next_id};
use lushan_ledger::{
    Account, BasisPoints, Funding, LedgerError, Money, NodeShare, Price, Rate, Resources, Sharing, Transaction,
};
use lushan_model::{GrantId, JobId, JobState, PartitionId, ProjectId, Sector, SiteId, TenantId};
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

/// A price as stored (the newest row per site, partition and QOS is in force).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceRecord {
    pub id: i64,
    pub site_id: SiteId,
    pub site_name: String,
    /// `None`: every partition of the site.
    pub partition_id: Option<PartitionId>,
    pub partition_name: Option<String>,
    /// `""`: every QOS.
    pub qos: String,
    pub price: Price,
    pub created_at: i64,
    pub created_by: String,
}

pub struct NewPrice<'a> {
    pub site_id: SiteId,
    pub partition_id: Option<PartitionId>,
    pub qos: &'a str,
    pub price: Price,
    pub created_at: i64,
    pub created_by: &'a str,
}

/// A tenant's money: spendable (holds taken out), held for its jobs, its
/// credit limit, and what it earned as a co-builder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletRecord {
    pub tenant_id: TenantId,
    pub spendable: Money,
    pub held: Money,
    pub credit_limit: Money,
    pub earnings: Money,
}

impl WalletRecord {
    /// What the tenant owns: spendable plus held. Kept balances stay within
    /// `MAX_BALANCE`, so the sum fits; for rows written before that bound it
    /// stops at the largest or smallest amount rather than wrapping.
    pub fn balance(&self) -> Money {
        self.spendable.saturating_add(self.held)
    }

    /// What new jobs may still hold: spendable plus the credit limit (at
    /// most `MAX_AMOUNT`, so the sum fits; never wrapped to a debt, as
    /// issue 19 showed).
    pub fn available(&self) -> Money {
        self.spendable.saturating_add(self.credit_limit)
    }
}

/// Who and what a transaction is about, beside its postings. No
/// `Default`: whom a posting is about is named every time.
#[derive(Clone, Debug)]
pub struct TxMeta {
    pub at: i64,
    pub tenant_id: Option<TenantId>,
    pub job_id: Option<JobId>,
    pub grant_id: Option<GrantId>,
    pub reference: String,
    pub memo: String,
    pub actor: String,
}

/// One line of a tenant's statement: a transaction that changed its
/// balance (holds move money inside the balance, so they are not lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementLine {
    pub transaction_id: i64,
    pub at: i64,
    pub kind: String,
    pub key: String,
    pub job_id: Option<JobId>,
    pub reference: String,
    pub memo: String,
    pub amount: Money,
    pub balance: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub tenant_id: TenantId,
    pub from: i64,
    pub to: i64,
    pub opening: Money,
    pub closing: Money,
    pub lines: Vec<StatementLine>,
    /// Held at the end of the period (for jobs not yet settled).
    pub held: Money,
}

/// How a job being submitted is paid for (`NewJob::billing`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobBilling {
    pub funding: Funding,
    pub price_id: i64,
    pub discount: BasisPoints,
    /// The worst case of one job (or of each array task), in the funding's unit.
    pub hold_per_job: i64,
    /// Named in the refusal when the funding cannot cover the hold ("tenant jxu").
    pub payer: String,
}

/// A job's charge as stored: its runs summed (a job requeued after an
/// owner's preemption runs, and is charged, more than once); funding,
/// price and hold are its current run's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobChargeRecord {
    pub job_id: JobId,
    /// How many runs were charged or are held for.
    pub runs: i64,
    /// How many of them ended by preemption.
    pub preempted_runs: i64,
    pub tenant_id: TenantId,
    pub funding: Funding,
    pub price_id: i64,
    pub discount: BasisPoints,
    pub held: i64,
    pub charged: Option<i64>,
    pub settled_at: Option<i64>,
    pub core_seconds: Option<i64>,
    pub gpu_seconds: Option<i64>,
    pub owner_share: Option<Money>,
}

impl JobChargeRecord {
    /// The runs so far followed by `next`: counts and amounts add up;
    /// funding, price, hold and settlement are the latest run's.
    fn then(self, next: JobChargeRecord) -> JobChargeRecord {
        let add = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
        JobChargeRecord {
            runs: self.runs + next.runs,
            preempted_runs: self.preempted_runs + next.preempted_runs,
            charged: add(self.charged, next.charged),
            core_seconds: add(self.core_seconds, next.core_seconds),
            gpu_seconds: add(self.gpu_seconds, next.gpu_seconds),
            owner_share: add(self.owner_share.map(|m| m.0), next.owner_share.map(|m| m.0)).map(Money),
            ..next
        }
    }
}

/// `meta` key of the co-builders' share of guest charges, in basis points.
const OWNER_SHARE: &str = "owner_share_bp";

const PRICE_COLUMNS: &str = "SELECT pr.id, pr.site_id, s.name AS site_name, pr.partition_id, pa.name AS partition_name,
    pr.qos, pr.core_hour_micro, pr.gpu_hour_micro, pr.gb_hour_micro, pr.su_per_gpu_hour, pr.created_at, pr.created_by
    FROM prices pr JOIN sites s ON s.id = pr.site_id LEFT JOIN partitions pa ON pa.id = pr.partition_id";

fn price_from_row(row: &AnyRow) -> Result<PriceRecord, StoreError> {
    Ok(PriceRecord {
        id: row.try_get("id")?,
        site_id: SiteId(row.try_get("site_id")?),
        site_name: row.try_get("site_name")?,
        partition_id: row.try_get::<Option<i64>, _>("partition_id")?.map(PartitionId),
        partition_name: row.try_get("partition_name")?,
        qos: row.try_get("qos")?,
        price: Price {
            core_hour: Rate(row.try_get("core_hour_micro")?),
            gpu_hour: Rate(row.try_get("gpu_hour_micro")?),
            gb_hour: Rate(row.try_get("gb_hour_micro")?),
            su_per_gpu_hour: row.try_get("su_per_gpu_hour")?,
        },
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
    })
}

fn funding_from(kind: &str, tenant: TenantId, grant: Option<i64>) -> Result<Funding, StoreError> {
    match (kind, grant) {
        ("wallet", _) => Ok(Funding::Wallet(tenant)),
        ("grant", Some(g)) => Ok(Funding::Grant(GrantId(g))),
        _ => Err(StoreError::Corrupt(format!("job charge with funding `{kind}`"))),
    }
}

fn funding_columns(funding: Funding) -> (&'static str, Option<i64>) {
    match funding {
        Funding::Wallet(_) => ("wallet", None),
        Funding::Grant(g) => ("grant", Some(g.0)),
    }
}

/// The sum of an account's postings (kept in `ledger_balances`).
pub(crate) async fn account_balance(conn: &mut sqlx::AnyConnection, account: Account) -> Result<i64, StoreError> {
    Ok(balances(conn, &[account]).await?[0])
}

/// The sums of several accounts' postings in one query, in the order asked.
pub(crate) async fn balances(conn: &mut sqlx::AnyConnection, accounts: &[Account]) -> Result<Vec<i64>, StoreError> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = accounts.iter().map(ToString::to_string).collect();
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT account, amount FROM ledger_balances WHERE account IN ({})", marks.join(", "));
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for name in &names {
        query = query.bind(name.clone());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut totals = vec![0; names.len()];
    for row in rows {
        let account: String = row.try_get("account")?;
        if let Some(i) = names.iter().position(|n| *n == account) {
            totals[i] = row.try_get("amount")?;
        }
    }
    Ok(totals)
}

/// Inserts a transaction and its postings unless its key was posted
/// before. Returns whether it was new.
pub(crate) async fn insert_transaction(
    tx: &mut sqlx::Transaction<'static, Any>,
    entry: &Transaction,
    meta: &TxMeta,
) -> Result<bool, StoreError> {
    let id = next_id(tx, "ledger").await?;
    let inserted = sqlx::query(
        "INSERT INTO ledger_transactions (id, txn_key, kind, at, tenant_id, job_id, grant_id, reference, memo, actor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (txn_key) DO NOTHING",
    )
    .bind(id)
    .bind(entry.key())
    .bind(entry.kind().as_str())
    .bind(meta.at)
    .bind(meta.tenant_id.map(|t| t.0))
    .bind(meta.job_id.map(|j| j.0))
    .bind(meta.grant_id.map(|g| g.0))
    .bind(&meta.reference)
    .bind(&meta.memo)
    .bind(&meta.actor)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    for posting in entry.postings() {
        sqlx::query("INSERT INTO ledger_postings (transaction_id, account, commodity, amount) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(posting.account.to_string())
            .bind(posting.account.commodity().as_str())
            .bind(posting.amount)
            .execute(&mut **tx)
            .await?;
    }
    // The balances move in the same transaction. In account order, so two
    // transactions touching the same accounts lock their rows in the same
    // order (PostgreSQL would otherwise deadlock them).
    let mut moves: Vec<(String, Account, i64)> =
        entry.postings().iter().map(|p| (p.account.to_string(), p.account, p.amount)).collect();
    moves.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, account, amount) in moves {
        // The sum is added in SQL, where the row is locked, but only onto a
        // balance that keeps it within `MAX_BALANCE`: an overflowing sum
        // would be a float on SQLite and a database error on PostgreSQL.
        // A refusal returns an error, and the caller's transaction, this
        // posting and everything before it included, is rolled back.
        let bounds = lushan_ledger::balance_bounds(amount);
        if !bounds.contains(&0) {
            return Err(StoreError::Ledger(LedgerError::balance_out_of_range(account)));
        }
        let moved = sqlx::query(
            "INSERT INTO ledger_balances (account, amount) VALUES ($1, $2)
             ON CONFLICT (account) DO UPDATE SET amount = ledger_balances.amount + excluded.amount
             WHERE ledger_balances.amount BETWEEN $3 AND $4",
        )
        .bind(name)
        .bind(amount)
        .bind(*bounds.start())
        .bind(*bounds.end())
        .execute(&mut **tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Ledger(LedgerError::balance_out_of_range(account)));
        }
    }
    Ok(true)
}

/// Takes the tenant's wallet row lock (creating the row if needed) and
/// returns its credit limit. On SQLite the write transaction already
/// serialises writers; on PostgreSQL the row lock does, until commit.
async fn lock_wallet(tx: &mut sqlx::Transaction<'static, Any>, tenant: TenantId) -> Result<Money, StoreError> {
    sqlx::query(
        "INSERT INTO wallets (tenant_id, credit_limit_fen, lock_seq) VALUES ($1, 0, 0) ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant.0)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("UPDATE wallets SET lock_seq = lock_seq + 1 WHERE tenant_id = $1 RETURNING credit_limit_fen")
        .bind(tenant.0)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Money(row.try_get("credit_limit_fen")?))
}

/// Checks that `billing`'s funding covers `count` holds, inside the
/// submission's transaction, after taking the funding's lock.
pub(crate) async fn check_holds(
    tx: &mut sqlx::Transaction<'static, Any>,
    billing: &JobBilling,
    count: i64,
) -> Result<(), StoreError> {
    let required = billing.hold_per_job.checked_mul(count).ok_or(StoreError::Ledger(LedgerError::Overflow))?;
    match billing.funding {
        Funding::Wallet(tenant) => {
            let credit = lock_wallet(tx, tenant).await?;
            if required == 0 {
                return Ok(());
            }
            let spendable = account_balance(tx, Account::Wallet(tenant)).await?;
            lushan_ledger::check_available(&billing.payer, Money(spendable), credit, Money(required))
                .map_err(StoreError::Ledger)
        }
        Funding::Grant(grant) => {
            let locked = sqlx::query("UPDATE grants SET lock_seq = lock_seq + 1 WHERE id = $1")
                .bind(grant.0)
                .execute(&mut **tx)
                .await?;
            if locked.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "grant", key: grant.to_string() });
            }
            let available = account_balance(tx, Account::Units(grant)).await?;
            if required > available {
                return Err(StoreError::Ledger(LedgerError::InsufficientUnits {
                    grant,
                    available: lushan_ledger::Units(available).to_string(),
                    required: lushan_ledger::Units(required).to_string(),
                }));
            }
            Ok(())
        }
    }
}

/// Places a job's hold and records how it is paid for.
pub(crate) async fn place_job_hold(
    tx: &mut sqlx::Transaction<'static, Any>,
    job: JobId,
    run: i64,
    tenant: TenantId,
    billing: &JobBilling,
    at: i64,
) -> Result<(), StoreError> {
    let run_number = u32::try_from(run).map_err(|_| StoreError::Ledger(LedgerError::Overflow))?;
    let entry = lushan_ledger::place_hold(job, run_number, billing.funding, billing.hold_per_job)
        .map_err(StoreError::Ledger)?;
    let grant = match billing.funding {
        Funding::Grant(g) => Some(g),
        Funding::Wallet(_) => None,
    };
    let meta = TxMeta {
        at,
        tenant_id: Some(tenant),
        job_id: Some(job),
        grant_id: grant,
        reference: String::new(),
        memo: if run == 0 { format!("hold for job {job}") } else { format!("hold for job {job}, run {run}") },
        actor: "lushan".into(),
    };
    insert_transaction(tx, &entry, &meta).await?;
    let (kind, grant_id) = funding_columns(billing.funding);
    sqlx::query(
        "INSERT INTO job_charges (job_id, run, tenant_id, funding, grant_id, price_id, discount_bp, held)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(job.0)
    .bind(run)
    .bind(tenant.0)
    .bind(kind)
    .bind(grant_id)
    .bind(billing.price_id)
    .bind(billing.discount.0)
    .bind(billing.hold_per_job)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Places the holds of `count` new jobs with consecutive ids from `first`
/// (an array's tasks), as [`place_job_hold`] does for one, in a few
/// multi-row statements: the ledger rows of a 1,000-task array cost about
/// what one job's do.
pub(crate) async fn place_new_job_holds(
    tx: &mut sqlx::Transaction<'static, Any>,
    first: JobId,
    count: i64,
    tenant: TenantId,
    billing: &JobBilling,
    at: i64,
) -> Result<(), StoreError> {
    let jobs: Vec<JobId> = (0..count).map(|index| JobId(first.0 + index)).collect();
    let entries = jobs
        .iter()
        .map(|job| lushan_ledger::place_hold(*job, 0, billing.funding, billing.hold_per_job))
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::Ledger)?;
    // One counter update for all the ledger ids, as for the jobs' ids.
    let row =
        sqlx::query("UPDATE counters SET next_value = next_value + $1 WHERE name = 'ledger' RETURNING next_value")
            .bind(count)
            .fetch_one(&mut **tx)
            .await?;
    let first_tx: i64 = row.try_get::<i64, _>("next_value")? - count;
    let grant = match billing.funding {
        Funding::Grant(g) => Some(g.0),
        Funding::Wallet(_) => None,
    };
    let memos: Vec<String> = jobs.iter().map(|job| format!("hold for job {job}")).collect();
    let tx_ids: Vec<i64> = (0..count).map(|index| first_tx + index).collect();
    let kind = lushan_ledger::TxKind::Hold.as_str();
    let rows: Vec<Vec<Param>> = entries
        .iter()
        .zip(&jobs)
        .zip(&memos)
        .zip(&tx_ids)
        .map(|(((entry, job), memo), id)| {
            vec![
                Param::Int(Some(*id)),
                Param::Text(Some(entry.key())),
                Param::Int(Some(job.0)),
                Param::Text(Some(memo)),
            ]
        })
        .collect();
    // No ON CONFLICT here: the ids are new, so a key already taken means a
    // damaged ledger, and the submission must fail rather than skip a hold.
    insert_rows(
        tx,
        "INSERT INTO ledger_transactions (id, txn_key, kind, at, tenant_id, job_id, grant_id, reference, memo, actor)
         VALUES {rows}",
        &[
            Param::Text(Some(kind)),
            Param::Int(Some(at)),
            Param::Int(Some(tenant.0)),
            Param::Int(grant),
            Param::Text(Some("")),
            Param::Text(Some("lushan")),
        ],
        &rows,
        |p| format!("({}, {}, $1, $2, $3, {}, $4, $5, {}, $6)", p[0], p[1], p[2], p[3]),
    )
    .await?;
    let accounts: Vec<Vec<(String, &'static str, i64)>> = entries
        .iter()
        .map(|entry| {
            entry.postings().iter().map(|p| (p.account.to_string(), p.account.commodity().as_str(), p.amount)).collect()
        })
        .collect();
    let rows: Vec<Vec<Param>> = accounts
        .iter()
        .zip(&tx_ids)
        .flat_map(|(postings, id)| {
            postings.iter().map(move |(account, commodity, amount)| {
                vec![
                    Param::Int(Some(*id)),
                    Param::Text(Some(account)),
                    Param::Text(Some(commodity)),
                    Param::Int(Some(*amount)),
                ]
            })
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO ledger_postings (transaction_id, account, commodity, amount) VALUES {rows}",
        &[],
        &rows,
        |p| format!("({}, {}, {}, {})", p[0], p[1], p[2], p[3]),
    )
    .await?;
    // Each account moves once by the sum of its postings, in account order
    // as in `insert_transaction` (PostgreSQL would otherwise deadlock).
    let mut moves: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for (account, _, amount) in accounts.iter().flatten() {
        let sum = moves.entry(account.as_str()).or_insert(0);
        *sum = sum.checked_add(*amount).ok_or(StoreError::Ledger(LedgerError::Overflow))?;
    }
    for (account, amount) in moves {
        sqlx::query(
            "INSERT INTO ledger_balances (account, amount) VALUES ($1, $2)
             ON CONFLICT (account) DO UPDATE SET amount = ledger_balances.amount + excluded.amount",
        )
        .bind(account)
        .bind(amount)
        .execute(&mut **tx)
        .await?;
    }
    let (kind, grant_id) = funding_columns(billing.funding);
    let rows: Vec<Vec<Param>> = jobs.iter().map(|job| vec![Param::Int(Some(job.0))]).collect();
    insert_rows(
        tx,
        "INSERT INTO job_charges (job_id, run, tenant_id, funding, grant_id, price_id, discount_bp, held) VALUES {rows}",
        &[
            Param::Int(Some(tenant.0)),
            Param::Text(Some(kind)),
            Param::Int(grant_id),
            Param::Int(Some(billing.price_id)),
            Param::Int(Some(billing.discount.0)),
            Param::Int(Some(billing.hold_per_job)),
        ],
        &rows,
        |p| format!("({}, 0, $1, $2, $3, $4, $5, $6)", p[0]),
    )
    .await?;
    Ok(())
}

/// Settles a job that just ended, inside the transaction that recorded its
/// end: the charge for its elapsed time on the nodes it held, the rest of
/// its hold released. Does nothing for a job with no charge record (ended
/// before the ledger existed) or one already settled.
pub(crate) async fn settle_job_in(
    tx: &mut sqlx::Transaction<'static, Any>,
    job: JobId,
    nodes: &[NodeShare],
    at: i64,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "SELECT c.run, c.tenant_id, c.funding, c.grant_id, c.discount_bp, c.held, j.start_time, j.end_time, j.state,
            j.alloc_json, j.nodes,
            j.cpus_per_node, j.gpus_per_node, j.mem_per_node_mb, pr.core_hour_micro, pr.gpu_hour_micro,
            pr.gb_hour_micro, pr.su_per_gpu_hour
         FROM job_charges c JOIN jobs j ON j.id = c.job_id JOIN prices pr ON pr.id = c.price_id
         WHERE c.job_id = $1 AND c.settled_at IS NULL",
    )
    .bind(job.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let run: i64 = row.try_get("run")?;
    let tenant = TenantId(row.try_get("tenant_id")?);
    let funding = funding_from(&row.try_get::<String, _>("funding")?, tenant, row.try_get("grant_id")?)?;
    let held: i64 = row.try_get("held")?;
    let start: Option<i64> = row.try_get("start_time")?;
    let end: Option<i64> = row.try_get("end_time")?;
    let seconds = match (start, end) {
        (Some(s), Some(e)) if e > s => (e - s) / 1000,
        _ => 0,
    };
    let job_nodes: i64 = row.try_get("nodes")?;
    let allocated_cores = nodes
        .iter()
        .try_fold(0i64, |sum, n| sum.checked_add(n.cores))
        .ok_or(StoreError::Ledger(LedgerError::Overflow))?;
    let resources = Resources {
        cores: if allocated_cores > 0 {
            allocated_cores
        } else {
            job_nodes.saturating_mul(row.try_get::<i64, _>("cpus_per_node")?)
        },
        gpus: job_nodes.saturating_mul(row.try_get::<i64, _>("gpus_per_node")?),
        memory_mb: job_nodes.saturating_mul(row.try_get::<i64, _>("mem_per_node_mb")?),
    };
    let price = Price {
        core_hour: Rate(row.try_get("core_hour_micro")?),
        gpu_hour: Rate(row.try_get("gpu_hour_micro")?),
        gb_hour: Rate(row.try_get("gb_hour_micro")?),
        su_per_gpu_hour: row.try_get("su_per_gpu_hour")?,
    };
    let discount = BasisPoints(row.try_get("discount_bp")?);
    let charge = match funding {
        Funding::Wallet(_) => {
            let sharing = sharing(tx).await?;
            lushan_ledger::charge_wallet(&price, &resources, seconds, &[discount], tenant, nodes, sharing)
        }
        Funding::Grant(_) => lushan_ledger::charge_grant(&price, &resources, seconds, tenant, nodes),
    }
    .map_err(StoreError::Ledger)?;
    let run_number = u32::try_from(run).map_err(|_| StoreError::Ledger(LedgerError::Overflow))?;
    let entry = lushan_ledger::settle(job, run_number, funding, held, &charge).map_err(StoreError::Ledger)?;
    let shared = charge
        .owner_shares
        .iter()
        .try_fold(0i64, |sum, (_, s)| sum.checked_add(*s))
        .ok_or(StoreError::Ledger(LedgerError::Overflow))?;
    let meta = TxMeta {
        at,
        tenant_id: Some(tenant),
        job_id: Some(job),
        grant_id: match funding {
            Funding::Grant(g) => Some(g),
            Funding::Wallet(_) => None,
        },
        reference: String::new(),
        memo: format!(
            "job {job}{}: {seconds} s x {} cores{}",
            if run == 0 { String::new() } else { format!(" run {run}") },
            resources.cores,
            if resources.gpus > 0 { format!(", {} GPUs", resources.gpus) } else { String::new() }
        ),
        actor: "lushan".into(),
    };
    insert_transaction(tx, &entry, &meta).await?;
    sqlx::query(
        "UPDATE job_charges SET charged = $1, settled_at = $2, core_seconds = $3, gpu_seconds = $4, owner_share_fen = $5,
            started_at = $7, ended_at = $8, end_state = $9, alloc_json = $10, node_owners = $11
         WHERE job_id = $6 AND settled_at IS NULL",
    )
    .bind(charge.total)
    .bind(at)
    .bind(resources.cores.saturating_mul(seconds))
    .bind(resources.gpus.saturating_mul(seconds))
    .bind(shared)
    .bind(job.0)
    .bind(start)
    .bind(end)
    .bind(row.try_get::<String, _>("state")?)
    .bind(row.try_get::<String, _>("alloc_json")?)
    .bind(nodes.iter().map(|n| format!("{}:{}", n.owner.0, n.cores)).collect::<Vec<_>>().join(","))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `TENANT:CORES,...` as settlements record it; `None` when empty.
fn parse_node_owners(text: &str) -> Option<Vec<(TenantId, i64)>> {
    if text.is_empty() {
        return None;
    }
    Some(
        text.split(',')
            .filter_map(|pair| {
                let (owner, cores) = pair.split_once(':')?;
                Some((TenantId(owner.parse().ok()?), cores.parse().ok()?))
            })
            .collect(),
    )
}

/// How a job's last run was paid for: the next run is funded alike.
pub(crate) async fn last_run_billing(
    tx: &mut sqlx::Transaction<'static, Any>,
    job: JobId,
) -> Result<Option<JobBilling>, StoreError> {
    let row = sqlx::query(
        "SELECT c.tenant_id, c.funding, c.grant_id, c.price_id, c.discount_bp, c.held, t.name AS tenant_name
         FROM job_charges c JOIN tenants t ON t.id = c.tenant_id WHERE c.job_id = $1 ORDER BY c.run DESC LIMIT 1",
    )
    .bind(job.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let tenant = TenantId(row.try_get("tenant_id")?);
    let funding = funding_from(&row.try_get::<String, _>("funding")?, tenant, row.try_get("grant_id")?)?;
    Ok(Some(JobBilling {
        funding,
        price_id: row.try_get("price_id")?,
        discount: BasisPoints(row.try_get("discount_bp")?),
        hold_per_job: row.try_get("held")?,
        payer: match funding {
            Funding::Wallet(_) => format!("tenant {}", row.try_get::<String, _>("tenant_name")?),
            Funding::Grant(grant) => format!("grant {grant}"),
        },
    }))
}

/// A basis-point setting kept in `meta`, or its default.
async fn meta_bp(
    tx: &mut sqlx::Transaction<'static, Any>,
    key: &str,
    default: BasisPoints,
) -> Result<BasisPoints, StoreError> {
    Ok(sqlx::query("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get::<String, _>("value"))
        .transpose()?
        .and_then(|v| v.parse().ok())
        .map(BasisPoints)
        .unwrap_or(default))
}

/// The centre's tenant, the co-builders' share and the preemptible discount.
async fn sharing(tx: &mut sqlx::Transaction<'static, Any>) -> Result<Sharing, StoreError> {
    let centre = sqlx::query("SELECT id FROM tenants WHERE sector = $1 ORDER BY id LIMIT 1")
        .bind(Sector::Centre.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get::<i64, _>("id"))
        .transpose()?
        .unwrap_or(0);
    Ok(Sharing {
        centre: TenantId(centre),
        owner_share: meta_bp(tx, SharingSetting::OwnerShare.key(), lushan_ledger::DEFAULT_OWNER_SHARE).await?,
        preemptible_discount: meta_bp(tx, SharingSetting::PreemptibleDiscount.key(), BasisPoints(0)).await?,
    })
}

/// The platform-wide percentages of [`Sharing`] an operator sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharingSetting {
    /// The co-builders' share of what guests pay for their nodes.
    OwnerShare,
    /// Off what guests run on co-built nodes, where owners may preempt them.
    PreemptibleDiscount,
}

impl SharingSetting {
    fn key(self) -> &'static str {
        match self {
            SharingSetting::OwnerShare => OWNER_SHARE,
            SharingSetting::PreemptibleDiscount => "preemptible_discount_bp",
        }
    }
}

impl Store {
    /// Posts a top-up, an adjustment or another movement with its audit
    /// row. Returns false, and changes nothing, if its key was posted before.
    pub async fn post(&self, entry: &Transaction, meta: &TxMeta, audit: &AuditEntry) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        if !insert_transaction(&mut tx, entry, meta).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn wallet(&self, tenant: TenantId) -> Result<WalletRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let credit = sqlx::query("SELECT credit_limit_fen FROM wallets WHERE tenant_id = $1")
            .bind(tenant.0)
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| row.try_get::<i64, _>("credit_limit_fen"))
            .transpose()?
            .unwrap_or(0);
        let accounts = [Account::Wallet(tenant), Account::Held(tenant), Account::Earnings(tenant)];
        let [spendable, held, earnings] = balances(&mut conn, &accounts).await?[..] else {
            return Err(StoreError::Corrupt("wallet balances".into()));
        };
        Ok(WalletRecord {
            tenant_id: tenant,
            spendable: Money(spendable),
            held: Money(held),
            credit_limit: Money(credit),
            earnings: Money(earnings),
        })
    }

    /// Sets how far below zero a tenant's wallet may go: zero to
    /// `MAX_AMOUNT`, so that what it has available always fits.
    pub async fn set_credit_limit(&self, tenant: TenantId, limit: Money, audit: &AuditEntry) -> Result<(), StoreError> {
        // (A negative limit is refused by the table's CHECK.)
        lushan_ledger::check_credit_limit(limit).map_err(StoreError::Ledger)?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO wallets (tenant_id, credit_limit_fen, lock_seq) VALUES ($1, $2, 0)
             ON CONFLICT (tenant_id) DO UPDATE SET credit_limit_fen = $2",
        )
        .bind(tenant.0)
        .bind(limit.0)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A tenant's statement for `[from, to)`: the balance before, every
    /// transaction that changed it, and the balance after.
    pub async fn statement(&self, tenant: TenantId, from: i64, to: i64) -> Result<Statement, StoreError> {
        let wallet = Account::Wallet(tenant).to_string();
        let held = Account::Held(tenant).to_string();
        let mut conn = self.pool.acquire().await?;
        let sum_before = |at: i64| {
            sqlx::query(
                "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) AS total FROM ledger_postings p
                 JOIN ledger_transactions t ON t.id = p.transaction_id WHERE p.account IN ($1, $2) AND t.at < $3",
            )
            .bind(wallet.clone())
            .bind(held.clone())
            .bind(at)
        };
        let opening: i64 = sum_before(from).fetch_one(&mut *conn).await?.try_get("total")?;
        let held_at_end: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) AS total FROM ledger_postings p
             JOIN ledger_transactions t ON t.id = p.transaction_id WHERE p.account = $1 AND t.at < $2",
        )
        .bind(&held)
        .bind(to)
        .fetch_one(&mut *conn)
        .await?
        .try_get("total")?;
        let rows = sqlx::query(
            "SELECT t.id, t.at, t.kind, t.txn_key, t.job_id, t.reference, t.memo,
                CAST(SUM(p.amount) AS BIGINT) AS amount
             FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id
             WHERE p.account IN ($1, $2) AND t.at >= $3 AND t.at < $4
             GROUP BY t.id, t.at, t.kind, t.txn_key, t.job_id, t.reference, t.memo
             ORDER BY t.at, t.id",
        )
        .bind(&wallet)
        .bind(&held)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        let mut balance = opening;
        let mut lines = Vec::new();
        for row in rows {
            let amount: i64 = row.try_get("amount")?;
            if amount == 0 {
                continue;
            }
            // Balances stay within `MAX_BALANCE`; a sum past an i64 could
            // only come from rows written before that bound.
            balance = balance
                .checked_add(amount)
                .ok_or_else(|| StoreError::Corrupt(format!("tenant {tenant}'s statement overflows")))?;
            lines.push(StatementLine {
                transaction_id: row.try_get("id")?,
                at: row.try_get("at")?,
                kind: row.try_get("kind")?,
                key: row.try_get("txn_key")?,
                job_id: row.try_get::<Option<i64>, _>("job_id")?.map(JobId),
                reference: row.try_get("reference")?,
                memo: row.try_get("memo")?,
                amount: Money(amount),
                balance: Money(balance),
            });
        }
        Ok(Statement {
            tenant_id: tenant,
            from,
            to,
            opening: Money(opening),
            closing: Money(balance),
            lines,
            held: Money(held_at_end),
        })
    }

    /// Adds a price row; it is in force from now for new jobs.
    pub async fn set_price(&self, new: &NewPrice<'_>, audit: &AuditEntry) -> Result<PriceRecord, StoreError> {
        let mut tx = self.begin().await?;
        let id = next_id(&mut tx, "price").await?;
        sqlx::query(
            "INSERT INTO prices (id, site_id, partition_id, qos, core_hour_micro, gpu_hour_micro, gb_hour_micro,
                su_per_gpu_hour, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(new.site_id.0)
        .bind(new.partition_id.map(|p| p.0))
        .bind(new.qos)
        .bind(new.price.core_hour.0)
        .bind(new.price.gpu_hour.0)
        .bind(new.price.gb_hour.0)
        .bind(new.price.su_per_gpu_hour)
        .bind(new.created_at)
        .bind(new.created_by)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, &AuditEntry { target: id.to_string(), ..audit.clone() }).await?;
        tx.commit().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{PRICE_COLUMNS} WHERE pr.id = $1")))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        price_from_row(&row)
    }

    /// The prices in force: the newest row per site, partition and QOS.
    pub async fn list_prices(&self) -> Result<Vec<PriceRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{PRICE_COLUMNS} WHERE pr.id = (SELECT MAX(p2.id) FROM prices p2 WHERE p2.site_id = pr.site_id
                AND COALESCE(p2.partition_id, 0) = COALESCE(pr.partition_id, 0) AND p2.qos = pr.qos)
             ORDER BY s.name, COALESCE(pa.name, ''), pr.qos"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(price_from_row).collect()
    }

    /// The price in force on `site` for `partition` (`None`: the site as a
    /// whole) and `qos`: the most specific row (`lushan_ledger::price_rank`).
    pub async fn price_for(
        &self,
        site: SiteId,
        partition: Option<PartitionId>,
        qos: &str,
    ) -> Result<Option<PriceRecord>, StoreError> {
        let prices = self.list_prices().await?;
        let rank = |p: &PriceRecord| {
            lushan_ledger::price_rank(p.partition_id.map(|x| x.0), &p.qos, partition.map(|x| x.0), qos)
        };
        Ok(prices
            .into_iter()
            .filter(|p| p.site_id == site)
            .filter_map(|p| Some((rank(&p)?, p)))
            .min_by_key(|(r, _)| *r)
            .map(|(_, p)| p))
    }

    pub async fn set_sector_discount(
        &self,
        sector: Sector,
        discount: BasisPoints,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sector_discounts (sector, discount_bp, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (sector) DO UPDATE SET discount_bp = $2, updated_at = $3",
        )
        .bind(sector.as_str())
        .bind(discount.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Discounts by sector; sectors without a row have none.
    pub async fn sector_discounts(&self) -> Result<Vec<(Sector, BasisPoints)>, StoreError> {
        let rows = sqlx::query("SELECT sector, discount_bp FROM sector_discounts ORDER BY sector")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((crate::parse_text("sector", row.try_get("sector")?)?, BasisPoints(row.try_get("discount_bp")?)))
            })
            .collect()
    }

    /// The co-builders' share of guest charges and the preemptible discount.
    pub async fn sharing(&self) -> Result<Sharing, StoreError> {
        let mut tx = self.begin().await?;
        let sharing = sharing(&mut tx).await?;
        tx.rollback().await?;
        Ok(sharing)
    }

    pub async fn set_sharing(
        &self,
        setting: SharingSetting,
        value: BasisPoints,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2")
            .bind(setting.key())
            .bind(value.0.to_string())
            .execute(&mut *tx)
            .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How a job is paid for, if the ledger knows it: its runs summed.
    pub async fn job_charge(&self, job: JobId) -> Result<Option<JobChargeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant_id, funding, grant_id, price_id, discount_bp, held, charged, settled_at, core_seconds,
                gpu_seconds, owner_share_fen, end_state FROM job_charges WHERE job_id = $1 ORDER BY run",
        )
        .bind(job.0)
        .fetch_all(&self.pool)
        .await?;
        let mut record: Option<JobChargeRecord> = None;
        for row in &rows {
            let tenant = TenantId(row.try_get("tenant_id")?);
            let preempted =
                row.try_get::<Option<String>, _>("end_state")?.as_deref() == Some(JobState::Preempted.as_str());
            let run = JobChargeRecord {
                job_id: job,
                runs: 1,
                preempted_runs: i64::from(preempted),
                tenant_id: tenant,
                funding: funding_from(&row.try_get::<String, _>("funding")?, tenant, row.try_get("grant_id")?)?,
                price_id: row.try_get("price_id")?,
                discount: BasisPoints(row.try_get("discount_bp")?),
                held: row.try_get("held")?,
                charged: row.try_get("charged")?,
                settled_at: row.try_get("settled_at")?,
                core_seconds: row.try_get("core_seconds")?,
                gpu_seconds: row.try_get("gpu_seconds")?,
                owner_share: row.try_get::<Option<i64>, _>("owner_share_fen")?.map(Money),
            };
            record = Some(match record {
                None => run,
                Some(earlier) => earlier.then(run),
            });
        }
        Ok(record)
    }
}

/// What a usage report groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageDimension {
    Sector,
    Tenant,
    Project,
    Partition,
    User,
}

impl UsageDimension {
    fn column(self) -> &'static str {
        match self {
            UsageDimension::Sector => "t.sector",
            UsageDimension::Tenant => "t.name",
            UsageDimension::Project => "p.name",
            UsageDimension::Partition => "pa.name",
            UsageDimension::User => "u.name",
        }
    }
}

/// Which settled jobs a usage report counts (settled in `[from, to)`).
#[derive(Clone, Debug)]
pub struct UsageQuery {
    pub by: UsageDimension,
    pub from: i64,
    pub to: i64,
    /// Whose jobs it counts: the same scope as job listings.
    pub scope: crate::JobScope,
    /// Only this project's jobs (within the scope); `None`: every project's.
    pub project: Option<ProjectId>,
}

/// One row of a usage report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRow {
    pub key: String,
    pub jobs: i64,
    pub core_seconds: i64,
    pub gpu_seconds: i64,
    /// Money charged to wallets, in fen.
    pub charged: Money,
    /// Service units used from grants, in core-seconds.
    pub units: i64,
    /// Core-seconds of grant-funded (public-welfare) jobs.
    pub welfare_core_seconds: i64,
}

/// A settled job, for a co-builder's settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettledJob {
    /// Who owned the nodes the run held when it ended, with the cores it
    /// held on each; `None` for runs settled before this was recorded.
    pub node_owners: Option<Vec<(TenantId, i64)>>,
    /// Which run of the job (0 unless an owner's preemption requeued it).
    pub run: i64,
    /// The run ended by an owner's preemption.
    pub preempted: bool,
    pub job_id: JobId,
    pub site_id: SiteId,
    pub user_name: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub project_name: String,
    pub alloc_json: String,
    pub elapsed_secs: i64,
    pub funding: String,
    pub charged: i64,
    pub settled_at: i64,
}

impl Store {
    /// Core-hours, GPU-hours, money and service units of the jobs settled
    /// in a period, grouped by `query.by`.
    pub async fn usage_report(&self, query: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        let column = query.by.column();
        let mut sql = format!(
            "SELECT {column} AS usage_key, CAST(COUNT(DISTINCT c.job_id) AS BIGINT) AS jobs,
                CAST(COALESCE(SUM(c.core_seconds), 0) AS BIGINT) AS core_seconds,
                CAST(COALESCE(SUM(c.gpu_seconds), 0) AS BIGINT) AS gpu_seconds,
                CAST(COALESCE(SUM(CASE WHEN c.funding = 'wallet' THEN c.charged ELSE 0 END), 0) AS BIGINT) AS charged,
                CAST(COALESCE(SUM(CASE WHEN c.funding = 'grant' THEN c.charged ELSE 0 END), 0) AS BIGINT) AS units,
                CAST(COALESCE(SUM(CASE WHEN c.funding = 'grant' THEN c.core_seconds ELSE 0 END), 0) AS BIGINT)
                    AS welfare_core_seconds
             FROM job_charges c JOIN jobs j ON j.id = c.job_id JOIN tenants t ON t.id = c.tenant_id
             JOIN projects p ON p.id = j.project_id JOIN users u ON u.id = j.user_id
             JOIN partitions pa ON pa.id = j.partition_id
             WHERE c.settled_at >= $1 AND c.settled_at < $2"
        );
        let mut binds = vec![query.from, query.to];
        let (condition, values) = query.scope.condition(binds.len());
        sql.push_str(&condition);
        binds.extend(values);
        if let Some(project) = query.project {
            binds.push(project.0);
            sql.push_str(&format!(" AND j.project_id = ${}", binds.len()));
        }
        sql.push_str(&format!(" GROUP BY {column} ORDER BY {column}"));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in binds {
            q = q.bind(value);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(UsageRow {
                    key: row.try_get("usage_key")?,
                    jobs: row.try_get("jobs")?,
                    core_seconds: row.try_get("core_seconds")?,
                    gpu_seconds: row.try_get("gpu_seconds")?,
                    charged: Money(row.try_get("charged")?),
                    units: row.try_get("units")?,
                    welfare_core_seconds: row.try_get("welfare_core_seconds")?,
                })
            })
            .collect()
    }

    /// Service units (core-seconds) charged to one grant by the runs
    /// settled in `[from, to)`: that grant's own, not the project's other
    /// grants'.
    pub async fn grant_units_settled(&self, grant: GrantId, from: i64, to: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(charged), 0) AS BIGINT) AS units FROM job_charges
             WHERE funding = 'grant' AND grant_id = $1 AND settled_at >= $2 AND settled_at < $3",
        )
        .bind(grant.0)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("units")?)
    }

    /// Jobs settled in `[from, to)` on the given sites, oldest first.
    pub async fn settled_jobs(&self, sites: &[SiteId], from: i64, to: i64) -> Result<Vec<SettledJob>, StoreError> {
        if sites.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..sites.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT j.id, c.run, c.end_state, j.site_id, u.name AS user_name, c.tenant_id, t.name AS tenant_name,
                p.name AS project_name, c.alloc_json, COALESCE(c.ended_at - c.started_at, 0) / 1000 AS elapsed_secs,
                c.funding, c.charged, c.settled_at, c.node_owners
             FROM job_charges c JOIN jobs j ON j.id = c.job_id JOIN users u ON u.id = j.user_id
             JOIN tenants t ON t.id = c.tenant_id JOIN projects p ON p.id = j.project_id
             WHERE c.settled_at >= $1 AND c.settled_at < $2 AND j.site_id IN ({}) ORDER BY c.settled_at, j.id, c.run",
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
        for site in sites {
            q = q.bind(site.0);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(SettledJob {
                    job_id: JobId(row.try_get("id")?),
                    run: row.try_get("run")?,
                    preempted: row.try_get::<Option<String>, _>("end_state")?.as_deref()
                        == Some(JobState::Preempted.as_str()),
                    site_id: SiteId(row.try_get("site_id")?),
                    user_name: row.try_get("user_name")?,
                    tenant_id: TenantId(row.try_get("tenant_id")?),
                    tenant_name: row.try_get("tenant_name")?,
                    project_name: row.try_get("project_name")?,
                    alloc_json: row.try_get("alloc_json")?,
                    elapsed_secs: row.try_get("elapsed_secs")?,
                    funding: row.try_get("funding")?,
                    charged: row.try_get::<Option<i64>, _>("charged")?.unwrap_or(0),
                    settled_at: row.try_get("settled_at")?,
                    node_owners: parse_node_owners(&row.try_get::<String, _>("node_owners")?),
                })
            })
            .collect()
    }

    /// What a co-builder earned per job run in `[from, to)`: (job, run,
    /// earned).
    pub async fn earnings_by_run(
        &self,
        owner: TenantId,
        from: i64,
        to: i64,
    ) -> Result<Vec<(JobId, i64, Money)>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.job_id, t.txn_key, CAST(SUM(p.amount) AS BIGINT) AS earned FROM ledger_postings p
             JOIN ledger_transactions t ON t.id = p.transaction_id
             WHERE p.account = $1 AND t.at >= $2 AND t.at < $3 AND t.job_id IS NOT NULL
             GROUP BY t.job_id, t.txn_key ORDER BY t.job_id, t.txn_key",
        )
        .bind(Account::Earnings(owner).to_string())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let run = lushan_ledger::run_of_key(&row.try_get::<String, _>("txn_key")?);
                Ok((JobId(row.try_get("job_id")?), i64::from(run), Money(row.try_get("earned")?)))
            })
            .collect()
    }
}
