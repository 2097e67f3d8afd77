//! The service layer's one error type. Each variant has a stable code (part
//! of the API) and a message that says what happened and what to do.

use lushan_model::{DurationError, NameError, ParseEnumError};
use lushan_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} `{key}` not found{hint}")]
    NotFound { what: &'static str, key: String, hint: String },
    #[error("{what} `{key}` already exists; names are never reused, pick another")]
    Conflict { what: &'static str, key: String },
    #[error("{0}")]
    Invalid(String),
    /// The request is well formed but the current state does not allow it
    /// (e.g. the object is disabled, or the user is the PI).
    #[error("{0}")]
    StateConflict(String),
    /// The job's funding cannot cover its worst case (HTTP 402).
    #[error("{0}")]
    InsufficientFunds(String),
    /// `what` says whose failures: "for `alice` from your address".
    #[error("too many failed logins {what}; try again in {retry_after_secs} s")]
    TooManyAttempts { what: String, retry_after_secs: u64 },
    /// Every permit to check a password is in use (HTTP 503).
    #[error("the server is checking as many passwords as it can at once; try again in a moment")]
    Busy { retry_after_secs: u64 },
    #[error("the database is unavailable; try again shortly (the server log has the cause)")]
    Unavailable(#[source] StoreError),
    /// A part of the server other than the database does not work (the
    /// job control loop stalled); the message says which and since when.
    #[error("{0}")]
    Degraded(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Unauthenticated(_) => "unauthenticated",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::NotFound { .. } => "not_found",
            ServiceError::Conflict { .. } => "conflict",
            ServiceError::Invalid(_) => "invalid_input",
            ServiceError::StateConflict(_) => "conflict",
            ServiceError::InsufficientFunds(_) => "insufficient_funds",
            ServiceError::TooManyAttempts { .. } => "too_many_attempts",
            ServiceError::Busy { .. } => "busy",
            ServiceError::Unavailable(_) | ServiceError::Degraded(_) => "unavailable",
            ServiceError::Internal(_) => "internal",
        }
    }

    pub(crate) fn not_found(what: &'static str, key: &str) -> ServiceError {
        ServiceError::NotFound { what, key: key.chars().take(64).collect(), hint: String::new() }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { what, key } => ServiceError::NotFound { what, key, hint: String::new() },
            StoreError::Conflict { what, key } => ServiceError::Conflict { what, key },
            StoreError::Corrupt(detail) => ServiceError::Internal(detail),
            StoreError::Ledger(err) => ledger_error(err),
            other => ServiceError::Unavailable(other),
        }
    }
}

/// A ledger refusal in the user's words, with what to do about it.
pub(crate) fn ledger_error(err: lushan_ledger::LedgerError) -> ServiceError {
    use lushan_ledger::LedgerError as L;
    match err {
        L::InsufficientFunds { .. } => ServiceError::InsufficientFunds(format!(
            "{err}: ask your tenant admin for a top-up, or lower --time or the resources asked for"
        )),
        L::InsufficientUnits { .. } => ServiceError::InsufficientFunds(format!(
            "{err}: ask your PI to renew the grant, or submit with --allocation wallet to pay from the tenant's wallet"
        )),
        L::NotPositive(_) | L::ZeroAdjustment | L::Overflow | L::TooLarge { .. } | L::BalanceOutOfRange { .. } => {
            ServiceError::Invalid(err.to_string())
        }
        L::SharesExceedTotal | L::Unbalanced { .. } => ServiceError::Internal(err.to_string()),
    }
}

impl From<NameError> for ServiceError {
    fn from(err: NameError) -> Self {
        ServiceError::Invalid(err.to_string())
    }
}

impl From<ParseEnumError> for ServiceError {
    fn from(err: ParseEnumError) -> Self {
        ServiceError::Invalid(err.to_string())
    }
}

impl From<DurationError> for ServiceError {
    fn from(err: DurationError) -> Self {
        ServiceError::Invalid(err.to_string())
    }
}

impl From<crate::unix_accounts::UnixError> for ServiceError {
    fn from(err: crate::unix_accounts::UnixError) -> Self {
        use crate::unix_accounts::UnixError as U;
        match err {
            U::SystemAccount { .. } | U::SystemGroup { .. } | U::PersonalGroup { .. } => {
                ServiceError::Invalid(err.to_string())
            }
            // The machine's own tools failed: nothing was stored, and the
            // request can be sent again once the operator has looked.
            U::Machine { .. } => ServiceError::Degraded(err.to_string()),
        }
    }
}
