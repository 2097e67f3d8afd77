//! The store's one error type. sqlx errors are kept as sources only.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} `{key}` not found")]
    NotFound { what: &'static str, key: String },
    #[error("{what} `{key}` already exists")]
    Conflict { what: &'static str, key: String },
    #[error("the stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("unsupported database URL `{url}`: use sqlite://PATH or postgres://USER@HOST/DB")]
    BadUrl { url: String },
    #[error("the database schema could not be migrated: {0}")]
    Migration(String),
    /// A ledger rule refused the change (e.g. a hold the wallet cannot cover).
    #[error("{0}")]
    Ledger(lushan_ledger::LedgerError),
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Unavailable(err)
    }
}

/// Turns a unique-key violation into [`StoreError::Conflict`]; anything else
/// stays a database error.
pub(crate) fn conflict_on_unique(what: &'static str, key: &str) -> impl FnOnce(sqlx::Error) -> StoreError {
    let key = key.to_owned();
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what, key },
        _ => StoreError::Unavailable(err),
    }
}
