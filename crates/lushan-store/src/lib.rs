//! The store: the only crate that contains SQL.
//!
//! One code path for SQLite (embedded default, WAL) and PostgreSQL, through
//! sqlx's `Any` driver and one migration set in the portable subset described
//! in `docs/dev/decisions/0001-store.md`. Each public method is one use case
//! and one transaction: a change and its audit row commit together or not at
//! all.
//!
//! **Boundary:** sqlx types never escape; callers see [`StoreError`] and the
//! record types of [`records`]. Time is a parameter (epoch milliseconds): the
//! store never reads the clock.

mod error;
mod grants;
mod jobs;
mod ledger;
mod limits;
mod qos;
mod records;
mod sites;
mod templates;
mod tenancy;
pub mod testing;
mod tokens;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Row, Transaction};
use std::str::FromStr;

pub use error::StoreError;
pub use grants::{GrantFilter, GrantRecord, GrantState, NewGrant, ReviewRecord};
pub use jobs::{JobEnd, JobFilter, JobRecord, JobScope, NewJob, PartitionCount, UsageByHour};
pub use ledger::{
    JobBilling, JobChargeRecord, NewPrice, PriceRecord, SettledJob, SharingSetting, Statement, StatementLine, TxMeta,
    UsageDimension, UsageQuery, UsageRow, WalletRecord,
};
pub use limits::{ActiveJobs, LimitRecord, LimitScope, LimitValues};
pub use qos::QosRecord;
pub use records::*;
pub use templates::{TemplateRecord, TemplateText};
pub use tenancy::AuditMatch;

/// Which database the store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DbKind::Sqlite => "sqlite",
            DbKind::Postgres => "postgres",
        }
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    kind: DbKind,
    sites_cache: std::sync::Arc<sites::SitesCache>,
    /// Calls of the methods that change pending jobs; see `pending_writes`.
    pending_writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Counts one change to pending jobs when dropped, after the method's
/// commit, on every path out of it.
pub(crate) struct PendingChange<'a>(&'a std::sync::atomic::AtomicU64);

impl Drop for PendingChange<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What SQLite's WAL file is cut back to after a checkpoint
/// (`journal_size_limit`): 64 MiB, about 16,000 pages of 4 KiB, well over the
/// 1,000 pages at which SQLite checkpoints by itself.
const WAL_SIZE_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`), creating an
    /// SQLite file if needed, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else {
            return Err(StoreError::BadUrl { url: redact_url(url) });
        };
        let options = AnyConnectOptions::from_str(url).map_err(|_| StoreError::BadUrl { url: redact_url(url) })?;
        let max_connections = match kind {
            // SQLite has one writer; a few readers are all WAL can use on 2 cores.
            DbKind::Sqlite => 4,
            DbKind::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if kind == DbKind::Sqlite {
                        // AnyConnectOptions does not forward SQLite pragmas from
                        // the URL, so set them on every connection.
                        sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                        // Without it the WAL file keeps its largest size for
                        // good (6.4 GB was seen after a 200k-task array):
                        // each time it is reset after a checkpoint, SQLite
                        // truncates it to this.
                        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")))
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            // A connection goes back to the pool only outside a transaction.
            // When COMMIT fails (a full disk on SQLite), SQLite may already
            // have rolled the transaction back; sqlx's ROLLBACK on drop then
            // fails too and the connection keeps a transaction depth of 1,
            // so every later `begin_with` on it fails ("begin_with at
            // non-zero transaction depth") until the server restarts. Such
            // a connection is closed instead, and the pool opens a new one.
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    if !sqlx::Connection::is_in_transaction(conn) {
                        return Ok(true);
                    }
                    // A dropped transaction's ROLLBACK may still be queued
                    // (SQLite runs it on its worker thread): let it run first.
                    sqlx::Connection::ping(conn).await?;
                    if sqlx::Connection::is_in_transaction(conn) {
                        tracing::warn!("closing a database connection left inside a failed transaction");
                        return Ok(false);
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(StoreError::Unavailable)?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Store { pool, kind, sites_cache: std::sync::Arc::default(), pending_writes: std::sync::Arc::default() })
    }

    /// How many calls that may change pending jobs (submit, start, hold,
    /// release, cancel of a pending job, requeue, pending reasons,
    /// forwarding to a Slurm site) this process has finished: each such
    /// method counts exactly one when it returns, whatever it did. The
    /// control loop keeps its queue between passes while this count moves
    /// only by its own calls.
    pub fn pending_writes(&self) -> u64 {
        self.pending_writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn pending_changes(&self) -> PendingChange<'_> {
        PendingChange(&self.pending_writes)
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Closes every connection; used at shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Copies SQLite's write-ahead log into the database and empties the
    /// log file; nothing on PostgreSQL. SQLite checkpoints by itself when a
    /// commit leaves more than 1,000 pages in the log, but only if no reader
    /// is using them at that moment, and it never shrinks the file: the
    /// server calls this every few minutes. A passive checkpoint goes first
    /// (it never blocks anyone); only when it copied everything does the
    /// truncating one run, which then has no work left but to wait for
    /// readers still on the old log (milliseconds) while holding writers off.
    pub async fn checkpoint_wal(&self) -> Result<(), StoreError> {
        if self.kind != DbKind::Sqlite {
            return Ok(());
        }
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&self.pool).await?;
        let (busy, log, copied): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if busy == 0 && log > 0 && copied == log {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Cheap round trip used by the health check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The health check's write: one row of `meta` set to `now` in a write
    /// transaction committed like any use case's, so it fails exactly when
    /// submissions would (a full disk, a lost write lock, a broken pool),
    /// where a `SELECT 1` still answers.
    pub async fn check_writable(&self, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('health_checked_at', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(now.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes
    /// fails with SQLITE_BUSY instead of waiting when another writer got there
    /// first.
    async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let tx = match self.kind {
            DbKind::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            DbKind::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// Appends an audit row on its own (for actions whose effect happens
    /// outside the database, such as signalling a running job).
    pub async fn append_audit_entry(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The value of `key`, set to `value` first if it had none (the first
    /// writer wins).
    pub async fn ensure_meta(&self, key: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(self.meta(key).await?.unwrap_or_else(|| value.to_owned()))
    }

    /// Sets a value of the `meta` table.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reads a value of the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(row) => Some(row.try_get("value")?),
            None => None,
        })
    }
}

/// Takes the next application-made id of `counter`, inside the caller's
/// transaction (portable: no SERIAL, no AUTOINCREMENT).
async fn next_id(tx: &mut Transaction<'static, Any>, counter: &'static str) -> Result<i64, StoreError> {
    let row = sqlx::query("UPDATE counters SET next_value = next_value + 1 WHERE name = $1 RETURNING next_value")
        .bind(counter)
        .fetch_one(&mut **tx)
        .await?;
    let next: i64 = row.try_get("next_value")?;
    Ok(next - 1)
}

/// Rows per multi-row INSERT: a 1,000-task array is a few statements
/// instead of thousands of round trips, and a statement's placeholders stay
/// far below SQLite's 32,766 and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 500;

/// A value for a placeholder of SQL written at run time.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Param<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
}

/// Inserts `rows` with multi-row statements of up to [`ROWS_PER_INSERT`]
/// rows each, inside the caller's transaction, and returns how many were
/// inserted. `statement` holds `{rows}` where the tuples go. Values every
/// row shares are bound once per statement as `$1..$N` (a job's script and
/// environment would otherwise be copied once per task); `tuple` writes one
/// row's `(...)` from the placeholders of that row's own values.
pub(crate) async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    statement: &str,
    shared: &[Param<'_>],
    rows: &[Vec<Param<'_>>],
    tuple: impl Fn(&[String]) -> String,
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut next = shared.len();
        let tuples: Vec<String> = chunk
            .iter()
            .map(|row| {
                let marks: Vec<String> = row
                    .iter()
                    .map(|_| {
                        next += 1;
                        format!("${next}")
                    })
                    .collect();
                tuple(&marks)
            })
            .collect();
        let sql = statement.replace("{rows}", &tuples.join(", "));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for param in shared.iter().chain(chunk.iter().flatten()) {
            query = match *param {
                Param::Int(value) => query.bind(value),
                Param::Text(value) => query.bind(value),
            };
        }
        inserted += query.execute(&mut **tx).await?.rows_affected();
    }
    Ok(inserted)
}

/// Appends one row to the audit log inside the caller's transaction.
async fn append_audit(tx: &mut Transaction<'static, Any>, entry: &AuditEntry) -> Result<(), StoreError> {
    let id = next_id(tx, "audit").await?;
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_user_id, actor, action, target_kind, target, tenant_id, before_json, after_json, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(entry.at)
    .bind(entry.actor_user_id.map(|u| u.0))
    .bind(&entry.actor)
    .bind(entry.action)
    .bind(entry.target_kind)
    .bind(&entry.target)
    .bind(entry.tenant_id.map(|t| t.0))
    .bind(entry.before.as_deref())
    .bind(entry.after.as_deref())
    .bind(entry.request_id.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn parse_text<T: FromStr>(column: &'static str, value: String) -> Result<T, StoreError> {
    value.parse().map_err(|_| StoreError::Corrupt(format!("column `{column}` holds unexpected value `{value}`")))
}

/// Hides the password of a database URL before it goes into an error message.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
