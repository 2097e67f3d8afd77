//! Server configuration: defaults, then the file (`--config lushan.toml`),
//! then the environment and command-line flags (the binary maps
//! `LUSHAN_LISTEN`, `LUSHAN_DATABASE_URL` and `LUSHAN_DATA` onto the flags).

use crate::service::PasswordCost;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "lushan-data";
/// Where a delegated cgroup v2 subtree for jobs is looked for.
pub const DEFAULT_CGROUP_ROOT: &str = "/sys/fs/cgroup/lushan";
/// Slurm's default KillWait.
pub const DEFAULT_KILL_WAIT_SECS: u64 = 30;

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
    /// Run every job as the server's own user instead of the submitter's
    /// mapped Unix account. Off by default; when the server runs as root this
    /// runs jobs as root, so only an operator who means it turns it on.
    pub run_jobs_as_server_user: Option<bool>,
    /// A cgroup v2 subtree delegated to Lushan for job limits. Default
    /// `/sys/fs/cgroup/lushan`; used only if it has the cpuset, cpu and
    /// memory controllers and can be written.
    pub cgroup_root: Option<PathBuf>,
    #[serde(default)]
    pub sites: Vec<SiteConfig>,
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
    pub kill_wait_secs: u64,
    pub run_jobs_as_server_user: bool,
    pub cgroup_root: PathBuf,
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
        Ok(ServerConfig {
            listen,
            database_url: overrides.database_url.or(from_file.database_url),
            data_dir: overrides.data_dir.or(from_file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            public_url: overrides.public_url.or(from_file.public_url),
            sites: from_file.sites,
            password_cost,
            kill_wait_secs: from_file.kill_wait_secs.unwrap_or(DEFAULT_KILL_WAIT_SECS),
            run_jobs_as_server_user: from_file.run_jobs_as_server_user.unwrap_or(false),
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

        std::fs::write(&path, "[[sites]]\nname = \"hpc1\"\nbackend = \"pbs\"\n").unwrap();
        let err = ServerConfig::load(Some(&path), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("backend `pbs` is not available"), "{err}");
    }

    #[test]
    fn bad_listen_address_is_explained() {
        let err =
            ServerConfig::load(None, Overrides { listen: Some("localhost".into()), ..Default::default() }).unwrap_err();
        assert_eq!(err.to_string(), "invalid listen address `localhost`: use ADDR:PORT, e.g. 127.0.0.1:8080");
    }
}
