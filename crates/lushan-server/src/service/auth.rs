//! Passwords, tokens, login and authentication.
//!
//! Passwords are hashed with Argon2id (OWASP parameters) off the async
//! runtime. API tokens are 32 random bytes, `lsh_` + base64url; only their
//! SHA-256 is stored.
//!
//! Login is open to anyone, so two things bound what an anonymous caller can
//! make the server do. Each Argon2 run holds its memory (19 MiB) until it
//! ends, so only as many run at once as there are permits
//! (`Services::with_password_checks`, one per CPU by default); a login that
//! finds none free is refused at once rather than queued.
//! Failed logins are counted per (user name, client address) and per client
//! address, and an attempt is counted *before* its password is checked, so
//! simultaneous guesses cannot overtake the count.

use super::{Caller, ServiceError, Services, audit_by};
use base64::Engine;
use lushan_model::{Status, TokenId, parse_duration_secs};
use lushan_store::{AuditEntry, NewToken, TokenRecord, UserRecord};
use sha2::Digest;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use tokio::sync::{OwnedSemaphorePermit, TryAcquireError};

/// Failed logins allowed for one user name from one client address within
/// [`LOCKOUT_WINDOW_MS`]. Keyed by address too, so that someone else's
/// guesses never lock a user out from their own address.
const MAX_FAILED_LOGINS: u32 = 5;
/// Failed logins allowed from one client address across all user names
/// within [`LOCKOUT_WINDOW_MS`]: stops one address spraying many names.
const MAX_FAILED_LOGINS_PER_ADDRESS: u32 = 20;
const LOCKOUT_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Above this many counters the limiter drops those whose window has ended.
const LIMITER_SWEEP_AT: usize = 100_000;
/// At most this many counters of each kind are saved to outlive a restart
/// (the ones with most failures first).
const SAVED_COUNTERS: usize = 20_000;
/// Where the counters are saved (the `meta` table).
const SAVED_COUNTERS_KEY: &str = "login_failures";
/// What a login refused for want of a password-check permit is told to wait.
const BUSY_RETRY_AFTER_SECS: u64 = 1;
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

/// How many password checks may run at once by default: one per CPU (more
/// would only queue for the CPUs while holding their memory), at least 2.
pub fn default_password_checks() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2)
}

/// Hashes a password into a PHC string, on a blocking thread. Unbounded:
/// for start-up only; use cases go through [`Services`]' permits.
pub async fn hash_password(password: String, cost: PasswordCost) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password, cost))
        .await
        .map_err(|err| ServiceError::Internal(format!("password hashing task failed: {err}")))?
}

fn hash_blocking(password: &str, cost: PasswordCost) -> Result<String, ServiceError> {
    use argon2::password_hash::PasswordHasher;
    argon2(cost)
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| ServiceError::Internal(format!("password hashing failed: {err}")))
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
    match PasswordHash::new(phc) {
        // The parameters come from the stored hash, not from `cost`.
        Ok(parsed) => argon2(PasswordCost::Standard).verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Checks a password on a blocking thread that holds `permit` until Argon2
/// is done: if the caller goes away mid-check the memory is still in use,
/// so the permit must not come back before it is freed.
async fn verify_password(permit: OwnedSemaphorePermit, password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let verified = verify_blocking(&password, &phc);
        drop(permit);
        verified
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a random password at `cost`, verified against when the
/// user does not exist (or has no password), so that such a login costs
/// what a real one does and timing does not tell which names exist.
fn dummy_hash(cost: PasswordCost) -> &'static str {
    match cost {
        PasswordCost::Standard => DUMMY_HASH,
        PasswordCost::InsecureFast => DUMMY_HASH_INSECURE_FAST,
    }
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

/// The address failed logins are counted against: an IPv6 client is counted
/// by its /64, since one host usually has a whole /64 to pick from; an
/// IPv4-mapped IPv6 address counts as the IPv4 one. `None` (the address is
/// not known) is one shared bucket.
pub fn client_key(address: Option<IpAddr>) -> Option<IpAddr> {
    match address?.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            Some(IpAddr::V6(prefix.into()))
        }
        v4 => Some(v4),
    }
}

/// Failed logins in a fixed window that started at `since`.
#[derive(Clone, Copy, Debug)]
struct Window {
    count: u32,
    since: i64,
}

impl Window {
    fn is_over(&self, now: i64) -> bool {
        self.since + LOCKOUT_WINDOW_MS <= now
    }

    /// The window in force at `now`: this one, or a fresh one if it is over.
    fn current(self, now: i64) -> Window {
        if self.is_over(now) { Window { count: 0, since: now } } else { self }
    }

    fn retry_after_secs(&self, now: i64) -> u64 {
        u64::try_from((self.since + LOCKOUT_WINDOW_MS - now) / 1000 + 1).unwrap_or(1)
    }
}

#[derive(Default)]
struct Counts {
    by_name: HashMap<(String, Option<IpAddr>), Window>,
    by_address: HashMap<Option<IpAddr>, Window>,
    /// Sweep when `by_name` grows past this; doubled after a sweep that
    /// leaves it large, so sweeping stays amortised O(1) per login.
    sweep_at: usize,
}

impl Counts {
    /// Bounds the memory an attacker can make us use with random names. New
    /// counters cost a real password check each, which the permits bound,
    /// so live counters are at most (checks per second x window).
    fn forget_ended(&mut self, now: i64) {
        if self.by_name.len() <= self.sweep_at.max(LIMITER_SWEEP_AT) {
            return;
        }
        self.by_name.retain(|_, window| !window.is_over(now));
        self.by_address.retain(|_, window| !window.is_over(now));
        self.sweep_at = self.by_name.len().saturating_mul(2);
    }

    /// Takes back one attempt counted in the windows that started at
    /// `name_since` and `address_since`; a window that has since restarted
    /// no longer holds it.
    fn give_back(&mut self, key: &(String, Option<IpAddr>), name_since: i64, address_since: i64) {
        if let Some(window) = self.by_name.get_mut(key) {
            if window.since == name_since {
                window.count = window.count.saturating_sub(1);
            }
            if window.count == 0 {
                self.by_name.remove(key);
            }
        }
        if let Some(window) = self.by_address.get_mut(&key.1) {
            if window.since == address_since {
                window.count = window.count.saturating_sub(1);
            }
            if window.count == 0 {
                self.by_address.remove(&key.1);
            }
        }
    }
}

/// Counts failed logins per (user name, client address) and per client
/// address, in fixed windows. Each login reserves its attempt before the
/// password is checked, so N simultaneous guesses get at most
/// [`MAX_FAILED_LOGINS`] checks, never N.
#[derive(Default)]
pub struct LoginLimiter {
    counts: Mutex<Counts>,
    /// Set when the counts changed since they were last saved.
    changed: std::sync::atomic::AtomicBool,
}

impl LoginLimiter {
    /// The counters whose window is still open, as text: a line each,
    /// `a SINCE COUNT ADDRESS` or `n SINCE COUNT ADDRESS NAME`, tab-separated,
    /// ADDRESS `-` when unknown. Names with a tab or a line break are left
    /// out (no user has one).
    fn saved(&self, now: i64) -> String {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let address = |a: &Option<IpAddr>| a.map_or_else(|| "-".to_owned(), |a| a.to_string());
        let mut by_address: Vec<_> = counts.by_address.iter().filter(|(_, w)| !w.is_over(now)).collect();
        by_address.sort_by_key(|(_, w)| std::cmp::Reverse(w.count));
        let mut by_name: Vec<_> = counts
            .by_name
            .iter()
            .filter(|((name, _), w)| !w.is_over(now) && !name.contains(['\t', '\n', '\r']))
            .collect();
        by_name.sort_by_key(|(_, w)| std::cmp::Reverse(w.count));
        let mut text = String::new();
        for (a, w) in by_address.into_iter().take(SAVED_COUNTERS) {
            text.push_str(&format!("a\t{}\t{}\t{}\n", w.since, w.count, address(a)));
        }
        for ((name, a), w) in by_name.into_iter().take(SAVED_COUNTERS) {
            text.push_str(&format!("n\t{}\t{}\t{}\t{name}\n", w.since, w.count, address(a)));
        }
        text
    }

    /// Takes back counters [`LoginLimiter::saved`] wrote; lines it cannot
    /// read, and windows over by `now`, are skipped.
    fn restore(&self, text: &str, now: i64) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for line in text.lines() {
            let fields: Vec<&str> = line.splitn(5, '\t').collect();
            let (Some(since), Some(count)) =
                (fields.get(1).and_then(|f| f.parse::<i64>().ok()), fields.get(2).and_then(|f| f.parse::<u32>().ok()))
            else {
                continue;
            };
            let window = Window { count, since };
            let address = match fields.get(3) {
                Some(&"-") => None,
                Some(text) => match text.parse::<IpAddr>() {
                    Ok(address) => Some(address),
                    Err(_) => continue,
                },
                None => continue,
            };
            if window.is_over(now) {
                continue;
            }
            match (fields.first(), fields.get(4)) {
                (Some(&"a"), None) => {
                    counts.by_address.insert(address, window);
                }
                (Some(&"n"), Some(name)) => {
                    counts.by_name.insert(((*name).to_owned(), address), window);
                }
                _ => {}
            }
        }
    }

    /// Whether the counts changed since the last call.
    fn take_changed(&self) -> bool {
        self.changed.swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts one attempt by `address` at `user` as failed until it is
    /// settled otherwise, or refuses it if either limit is reached.
    /// `address` is a [`client_key`].
    fn reserve(&self, user: &str, address: Option<IpAddr>, now: i64) -> Result<LoginAttempt<'_>, ServiceError> {
        let key = (user.chars().take(64).collect::<String>(), address);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.forget_ended(now);
        let fresh = Window { count: 0, since: now };
        let by_address = counts.by_address.get(&address).copied().unwrap_or(fresh).current(now);
        if by_address.count >= MAX_FAILED_LOGINS_PER_ADDRESS {
            return Err(ServiceError::TooManyAttempts {
                what: "from your address".into(),
                retry_after_secs: by_address.retry_after_secs(now),
            });
        }
        let by_name = counts.by_name.get(&key).copied().unwrap_or(fresh).current(now);
        if by_name.count >= MAX_FAILED_LOGINS {
            return Err(ServiceError::TooManyAttempts {
                what: format!("for `{}` from your address", key.0),
                retry_after_secs: by_name.retry_after_secs(now),
            });
        }
        counts.by_address.insert(address, Window { count: by_address.count + 1, ..by_address });
        counts.by_name.insert(key.clone(), Window { count: by_name.count + 1, ..by_name });
        self.changed.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(LoginAttempt {
            limiter: self,
            key,
            name_since: by_name.since,
            address_since: by_address.since,
            settled: false,
        })
    }
}

/// One login attempt, counted as a failure from [`LoginLimiter::reserve`]
/// on. Dropped unsettled (the check never ran or never finished: no free
/// permit, the database failed, the client went away), it is given back.
#[must_use]
struct LoginAttempt<'a> {
    limiter: &'a LoginLimiter,
    key: (String, Option<IpAddr>),
    name_since: i64,
    address_since: i64,
    settled: bool,
}

impl LoginAttempt<'_> {
    /// The password was wrong: the attempt stays counted.
    fn failed(mut self) {
        self.settled = true;
    }

    /// The password was right: this address's failures for this name are
    /// forgotten and its attempt given back. Its failures for other names
    /// stay, or an attacker with an account could reset the address's count
    /// by signing in between guesses.
    fn succeeded(mut self) {
        self.settled = true;
        let mut counts = self.limiter.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.give_back(&self.key, self.name_since, self.address_since);
        counts.by_name.remove(&self.key);
        self.limiter.changed.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut counts = self.limiter.counts.lock().unwrap_or_else(|e| e.into_inner());
            counts.give_back(&self.key, self.name_since, self.address_since);
            self.limiter.changed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
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
    /// Takes back the failed-login counters saved before the last stop, so
    /// a restart does not give guessers a fresh window.
    pub async fn restore_login_limits(&self, now: i64) -> Result<(), ServiceError> {
        if let Some(text) = self.store.meta(SAVED_COUNTERS_KEY).await? {
            self.limiter.restore(&text, now);
        }
        Ok(())
    }

    /// Saves the failed-login counters if they changed since last saved
    /// (the server does every few seconds, and when it stops).
    pub async fn save_login_limits(&self, now: i64) -> Result<(), ServiceError> {
        if self.limiter.take_changed()
            && let Err(err) = self.store.set_meta(SAVED_COUNTERS_KEY, &self.limiter.saved(now)).await
        {
            // Still to be saved.
            self.limiter.changed.store(true, std::sync::atomic::Ordering::Relaxed);
            return Err(err.into());
        }
        Ok(())
    }

    /// Revokes the token presented (the portal's sign-out): the session
    /// ends there, not only in the browser.
    pub async fn sign_out(&self, bearer: &str, now: i64) -> Result<(), ServiceError> {
        let caller = self.authenticate(Some(bearer), now).await?;
        if let Some((record, _)) = self.store.token_by_hash(&hash_token(bearer)).await? {
            self.revoke_token(&caller, record.id.0, now).await?;
        }
        Ok(())
    }

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

    /// A permit to run Argon2 now, or [`ServiceError::Busy`] if all are in
    /// use: an anonymous login must not wait, since waiting logins would
    /// pile up without limit.
    fn password_check_now(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        match self.password_checks.clone().try_acquire_owned() {
            Ok(permit) => Ok(permit),
            Err(TryAcquireError::NoPermits) => Err(ServiceError::Busy { retry_after_secs: BUSY_RETRY_AFTER_SECS }),
            Err(TryAcquireError::Closed) => Err(ServiceError::Internal("the password-check permits are closed".into())),
        }
    }

    /// A permit to run Argon2, waiting for one: for signed-in callers, whose
    /// work should not fail because anonymous logins are busy.
    async fn password_check(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        self.password_checks
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::Internal("the password-check permits are closed".into()))
    }

    /// Hashes a new password at this server's cost, within the permits.
    pub(crate) async fn hash_new_password(&self, password: String) -> Result<String, ServiceError> {
        let permit = self.password_check().await?;
        let cost = self.password_cost;
        tokio::task::spawn_blocking(move || {
            let hash = hash_blocking(&password, cost);
            drop(permit);
            hash
        })
        .await
        .map_err(|err| ServiceError::Internal(format!("password hashing task failed: {err}")))?
    }

    /// Checks a password and issues a token named `login`. `client` is the
    /// peer's address when known; failures are counted against it.
    pub async fn login(
        &self,
        user_name: &str,
        password: String,
        expires_in: Option<&str>,
        client: Option<IpAddr>,
        now: i64,
    ) -> Result<(String, TokenRecord, UserRecord), ServiceError> {
        // Reserve first: a refused login costs no permit, and simultaneous
        // guesses are counted before any of them is checked.
        let attempt = self.limiter.reserve(user_name, client_key(client), now)?;
        let permit = self.password_check_now()?;
        let wrong = || ServiceError::Unauthenticated("wrong user name or password".into());
        let user = match self.store.user_by_name(user_name).await {
            Ok(user) => user,
            Err(lushan_store::StoreError::NotFound { .. }) => {
                // The same permit and the same cost as a real check, so
                // unknown names neither bypass the cap nor show in timing.
                verify_password(permit, password, dummy_hash(self.password_cost).into()).await;
                attempt.failed();
                return Err(wrong());
            }
            Err(err) => return Err(err.into()),
        };
        let phc = self.store.password_hash(user.id).await?.unwrap_or_default();
        let verified = if phc.is_empty() {
            verify_password(permit, password, dummy_hash(self.password_cost).into()).await;
            false
        } else {
            verify_password(permit, password, phc).await
        };
        if !verified {
            attempt.failed();
            return Err(wrong());
        }
        attempt.succeeded();
        refuse_inactive(&user)?;
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
        if phc.is_empty() || !verify_password(self.password_check().await?, current, phc).await {
            return Err(ServiceError::Forbidden("the current password is wrong".into()));
        }
        let hash = self.hash_new_password(new).await?;
        let audit = audit_by(caller, now, "user.password", "user", caller.user_name());
        let audit = AuditEntry { tenant_id: Some(caller.tenant_id()), ..audit };
        self.store.set_password_hash(caller.user_id(), &hash, &audit).await?;
        Ok(())
    }
}

/// Valid Argon2id hashes of random passwords, at each [`PasswordCost`]; see
/// [`dummy_hash`].
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Rj0GZ4UZC2wBeJgLxuOOaeJD4FvpsKBg7wbPrBqC/bI";
const DUMMY_HASH_INSECURE_FAST: &str =
    "$argon2id$v=19$m=64,t=1,p=1$0gN9ueESYRYCmkAaN83HyA$QUzHf7hdjnpLcbI6qID7wmnm1+dhnFaIq0BBvea0p64";

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    const B: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)));

    #[test]
    fn tokens_are_random_and_hashed_hex() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with("lsh_") && a.len() == 4 + 43, "{a}");
        assert_eq!(hash_token("x").len(), 64);
    }

    #[test]
    fn saved_counters_come_back_with_their_windows_and_ended_ones_do_not() {
        let limiter = LoginLimiter::default();
        let here: Option<IpAddr> = Some("192.0.2.7".parse().unwrap());
        let v6 = client_key(Some("2001:db8::1".parse().unwrap()));
        for _ in 0..MAX_FAILED_LOGINS {
            limiter.reserve("admin", here, 1_000).unwrap().failed();
        }
        limiter.reserve("bob", v6, 2_000).unwrap().failed();
        limiter.reserve("odd\tname", None, 2_000).unwrap().failed();
        assert!(limiter.take_changed());
        let text = limiter.saved(3_000);
        let restored = LoginLimiter::default();
        restored.restore(&text, 4_000);
        let counts = restored.counts.lock().unwrap();
        assert_eq!(counts.by_name.get(&("bob".to_owned(), v6)).map(|w| (w.count, w.since)), Some((1, 2_000)));
        assert_eq!(counts.by_address.get(&here).map(|w| w.count), Some(MAX_FAILED_LOGINS));
        assert!(!counts.by_name.keys().any(|(name, _)| name.contains('\t')), "a name with a tab is not saved");
        drop(counts);
        assert!(matches!(restored.reserve("admin", here, 4_000), Err(ServiceError::TooManyAttempts { .. })));
        // The same windows: the lock ends when the first failure's window does.
        assert!(restored.reserve("admin", here, 1_000 + LOCKOUT_WINDOW_MS).is_ok());
        // Read after every window ended, nothing comes back; garbage is skipped.
        let late = LoginLimiter::default();
        late.restore(&format!("{text}garbage\nn\tx\t1\t-\tname\n"), 2_000 + LOCKOUT_WINDOW_MS);
        assert!(late.counts.lock().unwrap().by_name.is_empty());
    }

    #[test]
    fn limiter_locks_after_five_failures_and_forgets_after_the_window() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILED_LOGINS {
            limiter.reserve("alice", A, 0).unwrap().failed();
        }
        let Err(err) = limiter.reserve("alice", A, 1) else { panic!("a sixth attempt was allowed") };
        assert_eq!(err.to_string(), "too many failed logins for `alice` from your address; try again in 300 s");
        assert!(limiter.reserve("bob", A, 1).is_ok());
        assert!(limiter.reserve("alice", A, LOCKOUT_WINDOW_MS + 1).is_ok());
    }

    #[test]
    fn simultaneous_attempts_never_get_more_checks_than_the_limit() {
        let limiter = LoginLimiter::default();
        let barrier = std::sync::Barrier::new(60);
        let checked = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|scope| {
            for _ in 0..60 {
                scope.spawn(|| {
                    barrier.wait();
                    if let Ok(attempt) = limiter.reserve("admin", A, 0) {
                        checked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        // Every check is still running when the others ask.
                        barrier.wait();
                        attempt.failed();
                    } else {
                        barrier.wait();
                    }
                });
            }
        });
        assert_eq!(checked.into_inner(), MAX_FAILED_LOGINS);
    }

    #[test]
    fn a_name_locked_for_one_address_is_not_locked_for_another() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILED_LOGINS {
            limiter.reserve("admin", A, 0).unwrap().failed();
        }
        assert!(matches!(limiter.reserve("admin", A, 1), Err(ServiceError::TooManyAttempts { .. })));
        limiter.reserve("admin", B, 1).unwrap().succeeded();
        limiter.reserve("admin", None, 1).unwrap().failed();
        assert!(matches!(limiter.reserve("admin", A, 2), Err(ServiceError::TooManyAttempts { .. })));
    }

    #[test]
    fn one_address_is_limited_across_names() {
        let limiter = LoginLimiter::default();
        for n in 0..MAX_FAILED_LOGINS_PER_ADDRESS {
            limiter.reserve(&format!("user{n}"), A, 0).unwrap().failed();
        }
        let Err(err) = limiter.reserve("someone-new", A, 1) else { panic!("the address was not limited") };
        assert_eq!(err.to_string(), "too many failed logins from your address; try again in 300 s");
        assert!(limiter.reserve("someone-new", B, 1).is_ok());
        assert!(limiter.reserve("someone-new", A, LOCKOUT_WINDOW_MS).is_ok());
    }

    #[test]
    fn unsettled_attempts_are_given_back_and_a_success_forgets_the_name() {
        let limiter = LoginLimiter::default();
        for _ in 0..2 * MAX_FAILED_LOGINS {
            drop(limiter.reserve("alice", A, 0).unwrap());
        }
        for _ in 0..MAX_FAILED_LOGINS - 1 {
            limiter.reserve("alice", A, 0).unwrap().failed();
        }
        limiter.reserve("alice", A, 0).unwrap().succeeded();
        for _ in 0..MAX_FAILED_LOGINS {
            limiter.reserve("alice", A, 0).unwrap().failed();
        }
        assert!(limiter.reserve("alice", A, 0).is_err());
        // The address keeps its failures: 4 + 5 so far.
        let counts = limiter.counts.lock().unwrap();
        assert_eq!(counts.by_address[&A].count, 2 * MAX_FAILED_LOGINS - 1);
    }

    #[test]
    fn the_limiter_forgets_ended_windows_when_it_grows_large() {
        let limiter = LoginLimiter::default();
        for n in 0..=LIMITER_SWEEP_AT {
            let address = Some(IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap())));
            limiter.reserve("x", address, 0).unwrap().failed();
        }
        limiter.reserve("x", A, LOCKOUT_WINDOW_MS).unwrap().failed();
        let counts = limiter.counts.lock().unwrap();
        assert_eq!((counts.by_name.len(), counts.by_address.len()), (1, 1));
    }

    #[test]
    fn clients_are_counted_by_ipv4_address_or_ipv6_64() {
        let key = |text: &str| client_key(Some(text.parse().unwrap())).map(|ip| ip.to_string());
        assert_eq!(key("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(key("::ffff:203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_eq!(key("2001:db8:1:2:aaaa::1").as_deref(), Some("2001:db8:1:2::"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(client_key(None), None);
    }

    async fn platform(password_checks: usize) -> (Services, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("lushan.db").display());
        let store = lushan_store::Store::connect(&url).await.unwrap();
        crate::startup::bootstrap_if_new(&store, PasswordCost::InsecureFast).await.unwrap().unwrap();
        let services = Services::new(store, PasswordCost::InsecureFast).with_password_checks(password_checks);
        (services, dir)
    }

    #[tokio::test]
    async fn logins_beyond_the_free_permits_are_refused_at_once_and_not_counted() {
        let (services, _dir) = platform(1).await;
        let held = services.password_check_now().unwrap();
        for name in ["admin", "no-such-user"] {
            for _ in 0..2 * MAX_FAILED_LOGINS {
                let err = services.login(name, "wrong-password".into(), None, A, 0).await.unwrap_err();
                assert!(matches!(err, ServiceError::Busy { retry_after_secs: 1 }), "{err}");
                assert!(err.to_string().contains("try again in a moment"), "{err}");
            }
        }
        drop(held);
        for _ in 0..MAX_FAILED_LOGINS {
            let err = services.login("admin", "wrong-password".into(), None, A, 0).await.unwrap_err();
            assert_eq!(err.to_string(), "wrong user name or password");
        }
        let err = services.login("admin", "wrong-password".into(), None, A, 0).await.unwrap_err();
        assert!(matches!(err, ServiceError::TooManyAttempts { .. }), "{err}");
        assert_eq!(services.password_checks.available_permits(), 1);
    }

    #[tokio::test]
    async fn passwords_verify_and_the_dummy_hashes_have_their_cost() {
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
        let permit = || permits.clone().try_acquire_owned().unwrap();
        let hash = hash_password("correct horse".into(), PasswordCost::InsecureFast).await.unwrap();
        assert!(verify_password(permit(), "correct horse".into(), hash.clone()).await);
        assert!(!verify_password(permit(), "wrong horse".into(), hash).await);
        for cost in [PasswordCost::Standard, PasswordCost::InsecureFast] {
            let parsed = argon2::password_hash::phc::PasswordHash::new(dummy_hash(cost)).unwrap();
            let (dummy, real) = (argon2::Params::try_from(&parsed).unwrap(), argon2(cost).params().clone());
            let costs = |p: &argon2::Params| (p.m_cost(), p.t_cost(), p.p_cost());
            assert_eq!(costs(&dummy), costs(&real), "{cost:?}");
        }
        assert!(!verify_password(permit(), "x".into(), DUMMY_HASH_INSECURE_FAST.into()).await);
    }
}
