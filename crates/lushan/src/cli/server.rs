//! `lushan up` and `lushan serve`.

use lushan_server::config::{Overrides, ServerConfig};
use lushan_server::startup::{self, StartOptions};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServerArgs {
    /// Data directory (SQLite database, lock file, later job output).
    #[arg(long = "data", env = "LUSHAN_DATA", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080; port 0 picks a free one].
    #[arg(long, env = "LUSHAN_LISTEN", value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// PostgreSQL instead of the embedded SQLite, e.g. postgres://lushan@127.0.0.1/lushan.
    #[arg(long, env = "LUSHAN_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The URL users reach the platform at, if behind a reverse proxy.
    #[arg(long, env = "LUSHAN_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Configuration file (TOML); flags and environment win over it.
    #[arg(long, env = "LUSHAN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

pub async fn run(args: ServerArgs, write_cli_config: bool) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LUSHAN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let overrides = Overrides {
        listen: args.listen,
        database_url: args.database_url,
        data_dir: args.data_dir,
        public_url: args.public_url,
    };
    let config = ServerConfig::load(args.config.as_deref(), overrides)?;
    startup::run(StartOptions { config, write_cli_config }).await
}
