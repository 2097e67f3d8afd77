//! Scratch PostgreSQL databases for test suites (the store's, the server's
//! and the real-binary tests): each test gets its own, dropped after.

use crate::StoreError;

/// Creates an empty database on the server of `admin_url` (a URL to an
/// existing database, e.g. `postgres://postgres@127.0.0.1/postgres`) and
/// returns the URL of the new one.
pub async fn create_scratch_database(admin_url: &str, prefix: &str) -> Result<String, StoreError> {
    sqlx::any::install_default_drivers();
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let name = format!("{prefix}_{}_{nanos}", std::process::id());
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(admin_url);
    Ok(format!("{base}/{name}"))
}

/// Drops a database made by [`create_scratch_database`].
pub async fn drop_scratch_database(admin_url: &str, url: &str) -> Result<(), StoreError> {
    let Some((_, name)) = url.rsplit_once('/') else {
        return Ok(());
    };
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(());
    }
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await?;
    Ok(())
}

/// What [`hold_writes`] holds; dropping it closes its connection, which
/// rolls the transaction back and lets writers in.
pub struct HeldWrites {
    _conn: sqlx::AnyConnection,
}

/// Holds writes off the database of `url` as a long submission does, on a
/// connection of its own: on SQLite the write lock (`BEGIN IMMEDIATE`); on
/// PostgreSQL, which has no such lock, an EXCLUSIVE lock on the tables a
/// submission and a token's use write (reads go on, writes to them wait).
pub async fn hold_writes(url: &str) -> Result<HeldWrites, StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
    if url.starts_with("sqlite:") {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await?;
    } else {
        sqlx::query("BEGIN").execute(&mut conn).await?;
        sqlx::query("LOCK TABLE jobs, api_tokens IN EXCLUSIVE MODE").execute(&mut conn).await?;
    }
    Ok(HeldWrites { _conn: conn })
}
