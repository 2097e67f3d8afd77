//! Use cases. Each public function authorizes the [`Caller`], applies the
//! rules, and calls one store method (one transaction, audit row included).
//! The REST API calls these functions and nothing else; the portal will too.

mod auth;
mod billing;
mod caller;
mod error;
mod files;
mod grants;
mod jobs;
mod limits;
mod qos;
mod reports;
mod routing;
mod sites;
mod templates;
mod tenancy;
mod tokens;

pub use auth::{
    LoginLimiter, PasswordCost, client_key, default_password_checks, generate_password, generate_token, hash_password,
    hash_token,
};
pub use billing::{Balance, Quote, StatementPeriod};
pub use caller::Caller;
pub use error::ServiceError;
pub use files::Listing;
pub use grants::{GrantRequestInput, day_start};
pub use jobs::{DEFAULT_TIME_LIMIT_SECS, JobSelection, LoginEnvironment, SubmitJob, Submitted, partition_nodes};
pub use limits::{LimitTarget, MemberLimits};
pub use reports::{Settlement, SettlementRow};
pub use routing::{SiteQuoteRow, when};
pub use sites::{NewSiteInput, SiteCheckItem};
pub use templates::TemplateInput;
pub use tenancy::{AuditFilter, LANGUAGES, ListFilter, NewProjectInput, NewUserInput};

use lushan_store::{AuditEntry, Store};

/// The records the use cases return, for `http::to_api` to convert.
pub use lushan_store::{
    AuditRecord, GrantRecord, GrantState, JobChargeRecord, JobRecord, LimitRecord, LimitScope, LimitValues,
    MemberRecord, PriceRecord, ProjectRecord, QosRecord, SharingSetting, SiteRecord, Statement, TemplateRecord,
    TenantRecord, TokenRecord, UsageRow, UserRecord,
};
use std::sync::Arc;
use tokio::sync::Semaphore;

tokio::task_local! {
    /// The id of the request being served, set by the HTTP layer; audit rows
    /// and error bodies carry it.
    pub static REQUEST_ID: String;
}

/// The current request's id, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// Everything the use cases need; cheap to clone.
#[derive(Clone)]
pub struct Services {
    store: Store,
    limiter: Arc<LoginLimiter>,
    password_cost: PasswordCost,
    /// Permits to run Argon2, one per computation in flight: each holds
    /// 19 MiB until it ends (see `auth`).
    password_checks: Arc<Semaphore>,
    /// The job control loop, when this server runs jobs.
    control: Option<Arc<crate::control::Control>>,
    /// Users' Unix accounts and projects' groups and directories.
    unix: crate::unix_accounts::UnixAccounts,
    /// Starts the helper that touches files as their user; `None`: this
    /// server serves no files (it is not root, or runs every job as itself).
    files: Option<lushan_backend::files::FileHelper>,
    /// Array task ids must be below this (Slurm's MaxArraySize).
    max_array_size: u32,
    /// Set while a token's last use is being written; see `authenticate`.
    touching: Arc<std::sync::atomic::AtomicBool>,
    /// When `health` last saw a write commit (epoch ms).
    health_written: Arc<std::sync::atomic::AtomicI64>,
}

/// `/healthz` needs no sign-in: it writes at most this often, however
/// often it is asked, and answers from the last successful write between.
const HEALTH_WRITE_EVERY_MS: i64 = 5_000;

impl Services {
    pub fn new(store: Store, password_cost: PasswordCost) -> Services {
        Services {
            store,
            limiter: Arc::new(LoginLimiter::default()),
            password_cost,
            password_checks: Arc::new(Semaphore::new(default_password_checks())),
            control: None,
            unix: crate::unix_accounts::UnixAccounts::new(crate::unix_accounts::AccountSettings::none()),
            files: None,
            max_array_size: crate::config::DEFAULT_MAX_ARRAY_SIZE,
            touching: Arc::default(),
            health_written: Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
        }
    }

    /// The same services, running at most `permits` password hashes or
    /// checks at once (0 refuses every login: for tests).
    pub fn with_password_checks(self, permits: usize) -> Services {
        Services { password_checks: Arc::new(Semaphore::new(permits)), ..self }
    }

    /// The same services, refusing arrays with task ids of `max_array_size`
    /// or more (the `max_array_size` setting).
    pub fn with_max_array_size(self, max_array_size: u32) -> Services {
        Services { max_array_size, ..self }
    }

    /// The same services, making Unix accounts, groups and project
    /// directories as `unix` says (the `[accounts]` setting).
    pub fn with_unix_accounts(self, unix: crate::unix_accounts::UnixAccounts) -> Services {
        Services { unix, ..self }
    }

    /// The same services, serving users' files through `helper`.
    pub fn with_file_helper(self, helper: lushan_backend::files::FileHelper) -> Services {
        Services { files: Some(helper), ..self }
    }

    /// Where a project's files are, when the platform makes them.
    pub fn project_dir(&self, project: &str) -> Option<std::path::PathBuf> {
        self.unix.project_dir(project)
    }

    /// The same services, with jobs run by `control`.
    pub fn with_control(self, control: Arc<crate::control::Control>) -> Services {
        Services { control: Some(control), ..self }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether the server can do its work at `now`: the store takes a
    /// write (a `SELECT 1` answers on a full disk, or from a pool that
    /// cannot begin a transaction), and the control loop, when this server
    /// runs jobs, completed a pass recently. Returns the database kind and
    /// how long ago the loop's last pass completed.
    pub async fn health(&self, now: i64) -> Result<(&'static str, Option<i64>), ServiceError> {
        use std::sync::atomic::Ordering;
        if now.saturating_sub(self.health_written.load(Ordering::Relaxed)) >= HEALTH_WRITE_EVERY_MS {
            self.store.check_writable(now).await?;
            self.health_written.store(now, Ordering::Relaxed);
        }
        let control_age = match &self.control {
            Some(control) => {
                if let Some(problem) = control.progress().stalled(now) {
                    return Err(ServiceError::Degraded(problem));
                }
                Some(control.progress().age_ms(now))
            }
            None => None,
        };
        Ok((self.store.kind().as_str(), control_age))
    }
}

/// An audit row for an action by `caller`.
fn audit_by(caller: &Caller, now: i64, action: &'static str, target_kind: &'static str, target: &str) -> AuditEntry {
    AuditEntry {
        at: now,
        actor_user_id: Some(caller.user_id()),
        actor: caller.user_name().to_owned(),
        action,
        target_kind,
        target: target.to_owned(),
        tenant_id: None,
        before: None,
        after: None,
        request_id: request_id(),
    }
}
