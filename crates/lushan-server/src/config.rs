//! Server configuration: defaults, then the file (`--config lushan.toml`),
//! then the environment and command-line flags (the binary maps
//! `LUSHAN_LISTEN`, `LUSHAN_DATABASE_URL` and `LUSHAN_DATA` onto the flags).

use crate::service::PasswordCost;
use crate::unix_accounts::{AccountSettings, FIRST_ORDINARY_ID, LAST_ORDINARY_ID, Provider};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "lushan-data";
/// Where a delegated cgroup v2 subtree for jobs is looked for.
pub const DEFAULT_CGROUP_ROOT: &str = "/sys/fs/cgroup/lushan";
/// Slurm's default KillWait.
pub const DEFAULT_KILL_WAIT_SECS: u64 = 30;
/// A week: long enough to look into a job that went wrong.
pub const DEFAULT_KEEP_JOB_FOLDERS_HOURS: u64 = 168;
/// Slurm's default MaxArraySize: task ids 0 to 1000.
pub const DEFAULT_MAX_ARRAY_SIZE: u32 = 1001;
/// The largest MaxArraySize Slurm accepts; the job script parser reads task
/// ids up to one less.
pub const LARGEST_MAX_ARRAY_SIZE: u32 = lushan_sbatch::MAX_ARRAY_ID + 1;

/// The file, as written by an operator. Unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// The URL users reach the platform at (behind a reverse proxy); written
    /// into the CLI configuration.
    pub public_url: Option<String>,
    /// Seconds between SIGTERM and SIGKILL when a job is cancelled or
    /// reaches its time limit (Slurm's KillWait). Default 30.
    pub kill_wait_secs: Option<u64>,
    /// Hours a job's folder (its spec, status and supervisor log; not its
    /// output, which is in the user's directory) is kept after the job
    /// ends, then removed. Default 168 (7 days).
    pub keep_job_folders_hours: Option<u64>,
    /// Array task ids must be below this (Slurm's MaxArraySize). Default
    /// 1001; at most 4000001. An array's tasks are stored in one
    /// transaction, so a large value lets one submission hold the database
    /// for longer.
    pub max_array_size: Option<u32>,
    /// Run every job as the server's own user instead of the submitter's
    /// mapped Unix account. Off by default; when the server runs as root this
    /// runs jobs as root, so only an operator who means it turns it on.
    pub run_jobs_as_server_user: Option<bool>,
    /// A cgroup v2 subtree delegated to Lushan for job limits. Default
    /// `/sys/fs/cgroup/lushan`; used only if it has the cpuset, cpu and
    /// memory controllers and can be written.
    pub cgroup_root: Option<PathBuf>,
    /// How many password checks (Argon2, 19 MiB each) may run at once;
    /// logins beyond them are answered 503 at once. Default: one per CPU,
    /// at least 2.
    pub max_concurrent_password_checks: Option<usize>,
    #[serde(default)]
    pub sites: Vec<SiteConfig>,
    /// How the local site orders its queue and backfills.
    pub scheduler: Option<SchedulerConfig>,
    /// Who makes users' Unix accounts and projects' groups and directories.
    pub accounts: Option<AccountsConfig>,
}

/// `[accounts]` (docs/files.md): `provider = "local"` makes each user's Unix
/// account and each project's group and directory on this machine; `"none"`
/// leaves them to the operator. Default: `local` when the server runs as
/// root and jobs run as their users, else `none`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    pub provider: Option<String>,
    /// New users' uids (and their own groups' gids). Default 20000 to 29999.
    pub uid_min: Option<u32>,
    pub uid_max: Option<u32>,
    /// New projects' gids. Default 30000 to 39999.
    pub gid_min: Option<u32>,
    pub gid_max: Option<u32>,
    /// Where new users' homes go. Default `/home`.
    pub home_root: Option<PathBuf>,
    /// Where projects' directories go. Default `projects` in the data
    /// directory.
    pub project_root: Option<PathBuf>,
    /// New users' login shell. Default `/bin/bash`.
    pub shell: Option<String>,
}

impl AccountsConfig {
    fn settings(&self, data_dir: &Path, run_jobs_as_server_user: bool) -> Result<AccountSettings, String> {
        let root = nix::unistd::geteuid().is_root();
        let provider = match self.provider.as_deref() {
            None if root && !run_jobs_as_server_user => Provider::Local,
            None | Some("none") => Provider::None,
            Some("local") if !root => {
                return Err("accounts.provider = \"local\" makes Unix accounts with useradd, which needs the server to run as root".into());
            }
            Some("local") if run_jobs_as_server_user => {
                return Err("accounts.provider = \"local\" makes accounts for jobs to run as, but run_jobs_as_server_user = true runs them all as the server: choose one".into());
            }
            Some("local") => Provider::Local,
            Some(other) => return Err(format!("accounts.provider `{other}`: use `local` or `none`")),
        };
        let defaults = AccountSettings::none();
        let range = |what: &str, min: Option<u32>, max: Option<u32>, default: (u32, u32)| {
            let (min, max) = (min.unwrap_or(default.0), max.unwrap_or(default.1));
            if min < FIRST_ORDINARY_ID || max > LAST_ORDINARY_ID || min > max {
                return Err(format!(
                    "accounts.{what}_min = {min}, {what}_max = {max}: the range must lie within {FIRST_ORDINARY_ID}-{LAST_ORDINARY_ID} (the others are the system's) and not be empty"
                ));
            }
            Ok((min, max))
        };
        let absolute = |path: PathBuf| {
            if path.is_absolute() { path } else { std::env::current_dir().unwrap_or_default().join(path) }
        };
        Ok(AccountSettings {
            provider,
            uids: range("uid", self.uid_min, self.uid_max, defaults.uids)?,
            gids: range("gid", self.gid_min, self.gid_max, defaults.gids)?,
            home_root: absolute(self.home_root.clone().unwrap_or(defaults.home_root)),
            project_root: absolute(self.project_root.clone().unwrap_or_else(|| data_dir.join("projects"))),
            shell: self.shell.clone().unwrap_or(defaults.shell),
        })
    }
}

/// `[scheduler]`: Slurm's PriorityType, PriorityWeight*, PriorityMaxAge,
/// PriorityDecayHalfLife and SchedulerType, in Lushan's words. Defaults:
/// multifactor, EASY backfilling, weights 1000 (age) / 10000 (fair-share) /
/// 100 (job size) / 1000 (partition) / 10000 (QOS), 7-day max age and
/// half-life.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// `multifactor` or `fcfs`.
    pub order: Option<String>,
    /// `easy`, `conservative` or `none`.
    pub backfill: Option<String>,
    /// With `conservative`: how many waiting jobs get a reservation.
    pub reservations: Option<usize>,
    pub weight_age: Option<u32>,
    pub weight_fairshare: Option<u32>,
    pub weight_job_size: Option<u32>,
    pub weight_partition: Option<u32>,
    pub weight_qos: Option<u32>,
    pub max_age_hours: Option<u32>,
    pub half_life_hours: Option<u32>,
}

impl SchedulerConfig {
    /// The policy and the fair-share half-life in milliseconds.
    fn policy(&self) -> Result<(lushan_scheduler::Policy, i64), String> {
        use lushan_scheduler::pool::Backfill;
        use lushan_scheduler::priority::{Order, Weights};
        const HOUR_MS: i64 = 3_600_000;
        let defaults = Weights::default();
        let weights = Weights {
            age: self.weight_age.unwrap_or(defaults.age),
            fairshare: self.weight_fairshare.unwrap_or(defaults.fairshare),
            job_size: self.weight_job_size.unwrap_or(defaults.job_size),
            partition: self.weight_partition.unwrap_or(defaults.partition),
            qos: self.weight_qos.unwrap_or(defaults.qos),
            max_age: i64::from(self.max_age_hours.unwrap_or(168)) * HOUR_MS,
        };
        let order = match self.order.as_deref().unwrap_or("multifactor") {
            "multifactor" => Order::Multifactor(weights),
            "fcfs" => Order::Fcfs,
            other => return Err(format!("scheduler.order `{other}`: use `multifactor` or `fcfs`")),
        };
        let backfill = match (self.backfill.as_deref().unwrap_or("easy"), self.reservations) {
            ("easy", None) => Backfill::Easy,
            ("none", None) => Backfill::None,
            ("conservative", depth) => Backfill::Conservative { depth: depth.unwrap_or(100).max(1) },
            ("easy" | "none", Some(_)) => {
                return Err("scheduler.reservations only applies to backfill = \"conservative\"".into());
            }
            (other, _) => return Err(format!("scheduler.backfill `{other}`: use `easy`, `conservative` or `none`")),
        };
        let half_life = i64::from(self.half_life_hours.unwrap_or(168)) * HOUR_MS;
        Ok((lushan_scheduler::Policy { order, backfill }, half_life))
    }
}

/// A site named in the configuration; created at start if missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub name: String,
    /// `local`; `slurm` sites arrive with the Slurm backend.
    pub backend: String,
    /// Defaults to the site's name.
    pub partition: Option<String>,
}

/// Flags and environment, which win over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub public_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `None` means the embedded SQLite file in the data directory.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub public_url: Option<String>,
    pub sites: Vec<SiteConfig>,
    pub password_cost: PasswordCost,
    pub password_checks: usize,
    pub kill_wait_secs: u64,
    pub keep_job_folders_hours: u64,
    pub max_array_size: u32,
    pub run_jobs_as_server_user: bool,
    pub cgroup_root: PathBuf,
    pub policy: lushan_scheduler::Policy,
    pub half_life_ms: i64,
    pub accounts: AccountSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid listen address `{0}`: use ADDR:PORT, e.g. 127.0.0.1:8080")]
    Listen(String),
    #[error("site `{name}`: {message}")]
    Site { name: String, message: String },
    #[error("invalid configuration file {path}: {message}")]
    Scheduler { path: PathBuf, message: String },
    #[error("invalid configuration file {path}: {message}")]
    Accounts { path: PathBuf, message: String },
    #[error(
        "invalid configuration file {path}: max_array_size = {value}: use 1 to {LARGEST_MAX_ARRAY_SIZE} (task ids go up to one less)"
    )]
    MaxArraySize { path: PathBuf, value: u32 },
}

impl ServerConfig {
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<ServerConfig, ConfigError> {
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|err| ConfigError::Parse { path: path.to_owned(), message: err.to_string() })?
            }
            None => FileConfig::default(),
        };
        let listen_text = overrides.listen.or(from_file.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text.parse().map_err(|_| ConfigError::Listen(listen_text.clone()))?;
        for site in &from_file.sites {
            lushan_model::Name::parse(lushan_model::NameKind::Site, &site.name)
                .map_err(|err| ConfigError::Site { name: site.name.clone(), message: err.to_string() })?;
            if site.backend != "local" {
                return Err(ConfigError::Site {
                    name: site.name.clone(),
                    message: format!("backend `{}` is not available in this version; use `local`", site.backend),
                });
            }
        }
        // Test suites set this to keep thousands of logins cheap.
        let password_cost = match std::env::var("LUSHAN_INSECURE_FAST_PASSWORD_HASH").as_deref() {
            Ok("1") => PasswordCost::InsecureFast,
            _ => PasswordCost::Standard,
        };
        let password_checks = match from_file.max_concurrent_password_checks {
            None => crate::service::default_password_checks(),
            Some(0) => {
                return Err(ConfigError::Parse {
                    path: file.map(Path::to_owned).unwrap_or_default(),
                    message: "max_concurrent_password_checks must be at least 1, or no one could sign in".into(),
                });
            }
            Some(n) => n,
        };
        let (policy, half_life_ms) = from_file.scheduler.clone().unwrap_or_default().policy().map_err(|message| {
            ConfigError::Scheduler { path: file.map(Path::to_owned).unwrap_or_default(), message }
        })?;
        let max_array_size = from_file.max_array_size.unwrap_or(DEFAULT_MAX_ARRAY_SIZE);
        if !(1..=LARGEST_MAX_ARRAY_SIZE).contains(&max_array_size) {
            return Err(ConfigError::MaxArraySize {
                path: file.map(Path::to_owned).unwrap_or_default(),
                value: max_array_size,
            });
        }
        let data_dir = overrides.data_dir.or(from_file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let run_jobs_as_server_user = from_file.run_jobs_as_server_user.unwrap_or(false);
        let accounts =
            from_file.accounts.unwrap_or_default().settings(&data_dir, run_jobs_as_server_user).map_err(|message| {
                ConfigError::Accounts { path: file.map(Path::to_owned).unwrap_or_default(), message }
            })?;
        Ok(ServerConfig {
            policy,
            half_life_ms,
            listen,
            accounts,
            database_url: overrides.database_url.or(from_file.database_url),
            data_dir,
            public_url: overrides.public_url.or(from_file.public_url),
            sites: from_file.sites,
            password_cost,
            password_checks,
            kill_wait_secs: from_file.kill_wait_secs.unwrap_or(DEFAULT_KILL_WAIT_SECS),
            keep_job_folders_hours: from_file.keep_job_folders_hours.unwrap_or(DEFAULT_KEEP_JOB_FOLDERS_HOURS),
            max_array_size,
            run_jobs_as_server_user,
            cgroup_root: from_file.cgroup_root.unwrap_or_else(|| PathBuf::from(DEFAULT_CGROUP_ROOT)),
        })
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("lushan.db").display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_made_by_a_root_server_whose_jobs_run_as_their_users_and_ranges_stay_ordinary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lushan.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            ServerConfig::load(Some(&path), Overrides { data_dir: Some("/srv/lushan".into()), ..Default::default() })
        };
        let root = nix::unistd::geteuid().is_root();
        let default = load("").unwrap().accounts;
        assert_eq!(default.provider, if root { Provider::Local } else { Provider::None });
        assert_eq!(default.project_root, PathBuf::from("/srv/lushan/projects"));
        assert_eq!((default.uids, default.gids), ((20_000, 29_999), (30_000, 39_999)));
        assert_eq!(load("run_jobs_as_server_user = true\n").unwrap().accounts.provider, Provider::None);
        let both = load("run_jobs_as_server_user = true\n[accounts]\nprovider = \"local\"\n").unwrap_err();
        let expected = if root { "choose one" } else { "needs the server to run as root" };
        assert!(both.to_string().contains(expected), "{both}");
        let err = load("[accounts]\nprovider = \"ldap\"\n").unwrap_err();
        assert!(err.to_string().contains("accounts.provider `ldap`: use `local` or `none`"), "{err}");
        for range in ["uid_min = 500", "uid_max = 65534", "gid_min = 5000\ngid_max = 4000"] {
            let err = load(&format!("[accounts]\nprovider = \"none\"\n{range}\n")).unwrap_err();
            assert!(err.to_string().contains("must lie within 1000-59999"), "{range}: {err}");
        }
    }

    #[test]
    fn flags_win_over_file_and_unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lushan.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/lushan\"\n[[sites]]\nname = \"hpc\"\nbackend = \"local\"\n",
        )
        .unwrap();
        let config =
            ServerConfig::load(Some(&path), Overrides { listen: Some("127.0.0.1:1".into()), ..Default::default() })
                .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:1");
        assert_eq!(config.data_dir, PathBuf::from("/srv/lushan"));
        assert_eq!(config.sites[0].name, "hpc");
        assert_eq!(config.database_url(), "sqlite:///srv/lushan/lushan.db?mode=rwc");

        std::fs::write(&path, "listn = \"x\"\n").unwrap();
        let err = ServerConfig::load(Some(&path), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("unknown field `listn`"), "{err}");

        std::fs::write(&path, "max_concurrent_password_checks = 3\n").unwrap();
        assert_eq!(ServerConfig::load(Some(&path), Overrides::default()).unwrap().password_checks, 3);
        std::fs::write(&path, "max_concurrent_password_checks = 0\n").unwrap();
        let err = ServerConfig::load(Some(&path), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("max_concurrent_password_checks must be at least 1"), "{err}");

        std::fs::write(&path, "[[sites]]\nname = \"hpc1\"\nbackend = \"pbs\"\n").unwrap();
        let err = ServerConfig::load(Some(&path), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("backend `pbs` is not available"), "{err}");
    }

    #[test]
    fn the_scheduler_section_sets_the_policy_and_bad_values_are_explained() {
        use lushan_scheduler::pool::Backfill;
        use lushan_scheduler::priority::Order;
        let default = ServerConfig::load(None, Overrides::default()).unwrap();
        assert!(matches!(default.policy.order, Order::Multifactor(_)));
        assert_eq!(default.policy.backfill, Backfill::Easy);
        assert_eq!(default.half_life_ms, 7 * 24 * 3_600_000);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lushan.toml");
        std::fs::write(&path, "[scheduler]\norder = \"fcfs\"\nbackfill = \"conservative\"\nreservations = 50\n")
            .unwrap();
        let config = ServerConfig::load(Some(&path), Overrides::default()).unwrap();
        assert_eq!(config.policy.order, Order::Fcfs);
        assert_eq!(config.policy.backfill, Backfill::Conservative { depth: 50 });

        for (text, says) in [
            ("order = \"lottery\"", "scheduler.order `lottery`: use `multifactor` or `fcfs`"),
            ("backfill = \"eager\"", "use `easy`, `conservative` or `none`"),
            ("reservations = 5", "only applies to backfill = \"conservative\""),
            ("weight_age = -1", "invalid value"),
        ] {
            std::fs::write(&path, format!("[scheduler]\n{text}\n")).unwrap();
            let err = ServerConfig::load(Some(&path), Overrides::default()).unwrap_err();
            assert!(err.to_string().contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn max_array_size_defaults_to_slurms_and_is_bounded_as_slurms() {
        assert_eq!(ServerConfig::load(None, Overrides::default()).unwrap().max_array_size, 1001);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lushan.toml");
        std::fs::write(&path, "max_array_size = 4000001\n").unwrap();
        assert_eq!(ServerConfig::load(Some(&path), Overrides::default()).unwrap().max_array_size, 4_000_001);
        for value in ["0", "4000002"] {
            std::fs::write(&path, format!("max_array_size = {value}\n")).unwrap();
            let err = ServerConfig::load(Some(&path), Overrides::default()).unwrap_err();
            assert!(err.to_string().contains(&format!("max_array_size = {value}: use 1 to 4000001")), "{err}");
        }
    }

    #[test]
    fn bad_listen_address_is_explained() {
        let err =
            ServerConfig::load(None, Overrides { listen: Some("localhost".into()), ..Default::default() }).unwrap_err();
        assert_eq!(err.to_string(), "invalid listen address `localhost`: use ADDR:PORT, e.g. 127.0.0.1:8080");
    }
}
