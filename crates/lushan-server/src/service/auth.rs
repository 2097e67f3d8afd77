//! Passwords, tokens, login and authentication.
//!
//! Passwords are hashed with Argon2id (OWASP parameters) off the async
//! runtime. API tokens are 32 random bytes, `lsh_` + base64url; only their
//! SHA-256 is stored. Failed logins are limited per user name.

use super::{Caller, ServiceError, Services, audit_by};
use base64::Engine;
use lushan_model::{Status, TokenId, parse_duration_secs};
use lushan_store::{AuditEntry, NewToken, TokenRecord, UserRecord};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::Mutex;

/// Failed logins allowed per user name within [`LOCKOUT_WINDOW_MS`].
const MAX_FAILED_LOGINS: u32 = 5;
const LOCKOUT_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Default lifetime of a token made by `login`.
const LOGIN_TOKEN_LIFETIME: &str = "30d";
/// A token's last use is written at most this often (the store's
/// `touch_token` skips fresher times too).
const TOKEN_USE_RESOLUTION_MS: i64 = 60_000;
/// Shortest password accepted.
const MIN_PASSWORD_LEN: usize = 8;

/// How expensive password hashing is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordCost {
    /// OWASP's Argon2id recommendation (19 MiB, 2 passes).
    Standard,
    /// For test suites only: 1 pass over 64 KiB.
    InsecureFast,
}

fn argon2(cost: PasswordCost) -> argon2::Argon2<'static> {
    let params = match cost {
        PasswordCost::Standard => argon2::Params::default(),
        PasswordCost::InsecureFast => argon2::Params::new(64, 1, 1, None).unwrap_or_default(),
    };
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashes a password into a PHC string, on a blocking thread.
pub async fn hash_password(password: String, cost: PasswordCost) -> Result<String, ServiceError> {
    use argon2::password_hash::PasswordHasher;
    tokio::task::spawn_blocking(move || {
        argon2(cost)
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|err| ServiceError::Internal(format!("password hashing failed: {err}")))
    })
    .await
    .map_err(|err| ServiceError::Internal(format!("password hashing task failed: {err}")))?
}

async fn verify_password(password: String, phc: String) -> bool {
    use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
    tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
        // The parameters come from the stored hash, not from `cost`.
        Ok(parsed) => argon2(PasswordCost::Standard).verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

/// A new bearer token: `lsh_` and 32 random bytes in base64url.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("lsh_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a token.
pub fn hash_token(token: &str) -> String {
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A one-time password: 16 characters without look-alikes (0/O, 1/l/I).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

pub(crate) fn check_password_rules(password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServiceError::Invalid(format!("a password has at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.len() > 1024 {
        return Err(ServiceError::Invalid("a password has at most 1024 bytes".into()));
    }
    Ok(())
}

/// Counts failed logins per user name in a fixed window.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl LoginLimiter {
    fn check(&self, user: &str, now: i64) -> Result<(), ServiceError> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, since)) = failures.get(user) {
            let retry_after = since + LOCKOUT_WINDOW_MS - now;
            if *count >= MAX_FAILED_LOGINS && retry_after > 0 {
                return Err(ServiceError::TooManyAttempts {
                    user: user.chars().take(64).collect(),
                    retry_after_secs: u64::try_from(retry_after / 1000 + 1).unwrap_or(1),
                });
            }
        }
        Ok(())
    }

    fn failed(&self, user: &str, now: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Bound the memory an attacker can make us use with random names.
        if failures.len() > 100_000 {
            failures.retain(|_, (_, since)| *since + LOCKOUT_WINDOW_MS > now);
        }
        let entry = failures.entry(user.chars().take(64).collect()).or_insert((0, now));
        if entry.1 + LOCKOUT_WINDOW_MS <= now {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    fn succeeded(&self, user: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(user);
    }
}

/// Why a user may not use the platform right now, if they may not.
fn refuse_inactive(user: &UserRecord) -> Result<(), ServiceError> {
    if user.status == Status::Disabled {
        return Err(ServiceError::Unauthenticated(format!("user `{}` is disabled; ask your tenant admin", user.name)));
    }
    if user.tenant_status == Status::Disabled {
        return Err(ServiceError::Unauthenticated(format!(
            "tenant `{}` is disabled; ask the platform operator",
            user.tenant_name
        )));
    }
    Ok(())
}

/// Milliseconds from a duration such as `30d`.
pub(crate) fn expiry_from(now: i64, expires_in: &str) -> Result<i64, ServiceError> {
    let secs = parse_duration_secs(expires_in)?;
    let ms = i64::try_from(secs).ok().and_then(|s| s.checked_mul(1000)).and_then(|ms| now.checked_add(ms));
    ms.ok_or_else(|| ServiceError::Invalid(format!("expiry `{expires_in}` is too far in the future")))
}

impl Services {
    pub fn password_cost(&self) -> PasswordCost {
        self.password_cost
    }

    /// Turns a bearer token into a [`Caller`]: the only way to get one.
    pub async fn authenticate(&self, bearer: Option<&str>, now: i64) -> Result<Caller, ServiceError> {
        let Some(token) = bearer else {
            return Err(ServiceError::Unauthenticated(
                "this needs a bearer token: run `lushan login`, or set LUSHAN_TOKEN".into(),
            ));
        };
        let invalid = || ServiceError::Unauthenticated("the token is not valid: run `lushan login` again".into());
        let Some((record, user)) = self.store.token_by_hash(&hash_token(token)).await? else {
            return Err(invalid());
        };
        if record.revoked_at.is_some() {
            return Err(ServiceError::Unauthenticated("the token was revoked: run `lushan login` again".into()));
        }
        if record.expires_at.is_some_and(|at| at <= now) {
            return Err(ServiceError::Unauthenticated("the token has expired: run `lushan login` again".into()));
        }
        refuse_inactive(&user)?;
        self.note_token_use(record.id, record.last_used_at, now);
        Ok(Caller::new(user.id, user.name, user.tenant_id, user.tenant_name, user.role))
    }

    /// Records a token's use, best-effort and off the request's path: a
    /// read-only request must not wait for the database's write lock (a big
    /// submission or a slow disk holds it) nor fail when it is busy. Written
    /// at most once a minute per token (the time in the record read just now
    /// says whether it is due), and one write at a time, so waiting writes
    /// never take the connections that reads need.
    fn note_token_use(&self, token: TokenId, last_used_at: Option<i64>, now: i64) {
        use std::sync::atomic::Ordering;
        if last_used_at.is_some_and(|at| at > now - TOKEN_USE_RESOLUTION_MS) {
            return;
        }
        if self.touching.swap(true, Ordering::AcqRel) {
            // Another token's write is waiting; this one is due again on the
            // token's next use.
            return;
        }
        /// Clears the flag however the write ends, even if its task is
        /// dropped at shutdown.
        struct Touching(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Touching {
            fn drop(&mut self) {
                self.0.store(false, std::sync::atomic::Ordering::Release);
            }
        }
        let store = self.store.clone();
        let touching = Touching(self.touching.clone());
        tokio::spawn(async move {
            let _touching = touching;
            if let Err(err) = store.touch_token(token, now).await {
                tracing::debug!(token = token.0, "token last use not recorded: {err}");
            }
        });
    }

    /// Checks a password and issues a token named `login`.
    pub async fn login(
        &self,
        user_name: &str,
        password: String,
        expires_in: Option<&str>,
        now: i64,
    ) -> Result<(String, TokenRecord, UserRecord), ServiceError> {
        self.limiter.check(user_name, now)?;
        let wrong = || ServiceError::Unauthenticated("wrong user name or password".into());
        let user = match self.store.user_by_name(user_name).await {
            Ok(user) => user,
            Err(lushan_store::StoreError::NotFound { .. }) => {
                self.limiter.failed(user_name, now);
                // Spend the same time as a real check so timing does not tell
                // which user names exist.
                let _ = verify_password(password, DUMMY_HASH.into()).await;
                return Err(wrong());
            }
            Err(err) => return Err(err.into()),
        };
        let phc = self.store.password_hash(user.id).await?.unwrap_or_default();
        if phc.is_empty() || !verify_password(password, phc).await {
            self.limiter.failed(user_name, now);
            return Err(wrong());
        }
        refuse_inactive(&user)?;
        self.limiter.succeeded(user_name);
        let expires_at = expiry_from(now, expires_in.unwrap_or(LOGIN_TOKEN_LIFETIME))?;
        let secret = generate_token();
        let token_hash = hash_token(&secret);
        let new = NewToken {
            user_id: user.id,
            name: "login",
            token_hash: &token_hash,
            created_at: now,
            expires_at: Some(expires_at),
        };
        let audit = AuditEntry {
            at: now,
            actor_user_id: Some(user.id),
            actor: user.name.clone(),
            action: "user.login",
            target_kind: "token",
            target: "login".into(),
            tenant_id: Some(user.tenant_id),
            before: None,
            after: None,
            request_id: super::request_id(),
        };
        let token = self.store.create_token(&new, &audit).await?;
        Ok((secret, token, user))
    }

    /// Changes the caller's own password after checking the current one.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: String,
        new: String,
        now: i64,
    ) -> Result<(), ServiceError> {
        check_password_rules(&new)?;
        let phc = self.store.password_hash(caller.user_id()).await?.unwrap_or_default();
        if phc.is_empty() || !verify_password(current, phc).await {
            return Err(ServiceError::Forbidden("the current password is wrong".into()));
        }
        let hash = hash_password(new, self.password_cost).await?;
        let audit = audit_by(caller, now, "user.password", "user", caller.user_name());
        let audit = AuditEntry { tenant_id: Some(caller.tenant_id()), ..audit };
        self.store.set_password_hash(caller.user_id(), &hash, &audit).await?;
        Ok(())
    }
}

/// A valid Argon2id hash of a random password, verified against when the
/// user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Rj0GZ4UZC2wBeJgLxuOOaeJD4FvpsKBg7wbPrBqC/bI";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed_hex() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with("lsh_") && a.len() == 4 + 43, "{a}");
        assert_eq!(hash_token("x").len(), 64);
    }

    #[test]
    fn limiter_locks_after_five_failures_and_forgets_after_the_window() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILED_LOGINS {
            assert!(limiter.check("alice", 0).is_ok());
            limiter.failed("alice", 0);
        }
        assert!(matches!(limiter.check("alice", 1), Err(ServiceError::TooManyAttempts { .. })));
        assert!(limiter.check("bob", 1).is_ok());
        assert!(limiter.check("alice", LOCKOUT_WINDOW_MS + 1).is_ok());
    }

    #[tokio::test]
    async fn passwords_verify_and_the_dummy_hash_parses() {
        let hash = hash_password("correct horse".into(), PasswordCost::InsecureFast).await.unwrap();
        assert!(verify_password("correct horse".into(), hash.clone()).await);
        assert!(!verify_password("wrong horse".into(), hash).await);
        assert!(!verify_password("x".into(), DUMMY_HASH.into()).await);
        assert!(argon2::password_hash::phc::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
