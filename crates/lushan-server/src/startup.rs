//! Starting the platform: `lushan up` and `lushan serve`.
//!
//! Order matters: lock the data directory, open and migrate the store,
//! bootstrap on first start (printing the operator's one-time password once),
//! make the configured sites, bind, announce, serve until SIGINT/SIGTERM.

use crate::clock::now_ms;
use crate::config::ServerConfig;
use crate::machine;
use crate::metrics::Metrics;
use crate::service::{PasswordCost, Services, generate_password, generate_token, hash_password, hash_token};
use anyhow::Context;
use lushan_api::CliConfig;
use lushan_model::{Role, Sector};
use lushan_store::{AuditEntry, Bootstrap, NewNode, NewSite, NewTenant, NewUser, Store};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// How long a file operation (not a transfer's content) may take.
const FILE_HELPER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

pub const OPERATOR: &str = "admin";
pub const CENTRE: &str = "centre";

pub struct StartOptions {
    pub config: ServerConfig,
    /// `up` writes the CLI configuration; `serve` (for systemd) does not.
    pub write_cli_config: bool,
}

/// Holds the data directory's lock for as long as it lives.
pub struct DataDirLock {
    _file: File,
}

/// Takes the data directory for this process, or says who has it.
pub fn lock_data_dir(dir: &Path) -> anyhow::Result<DataDirLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let path = dir.join("lushan.lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if file.try_lock().is_err() {
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        anyhow::bail!(
            "the data directory {} is in use by another Lushan server ({}); stop that server first, or start this one with --data DIR",
            dir.display(),
            holder.trim()
        );
    }
    file.set_len(0)?;
    write!(file, "pid {}", std::process::id())?;
    Ok(DataDirLock { _file: file })
}

/// Runs the platform until a shutdown signal.
pub async fn run(options: StartOptions) -> anyhow::Result<()> {
    let config = options.config;
    let _lock = lock_data_dir(&config.data_dir)?;
    // Job directories are handed to supervisors that may outlive us: make
    // every path absolute.
    let config = ServerConfig {
        data_dir: std::fs::canonicalize(&config.data_dir)
            .with_context(|| format!("cannot resolve {}", config.data_dir.display()))?,
        ..config
    };
    protect_database_files(&config)?;
    let url = config.database_url();
    let store = Store::connect(&url).await.with_context(|| "cannot open the database")?;
    let listener = tokio::net::TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "cannot listen on {}: is another program using it? Choose another with --listen ADDR:PORT",
            config.listen
        )
    })?;
    let bound = listener.local_addr()?;
    let public_url = config.public_url.clone().unwrap_or_else(|| {
        let host = if bound.ip().is_unspecified() { "127.0.0.1".to_owned() } else { bound.ip().to_string() };
        format!("http://{host}:{}", bound.port())
    });

    let exe = std::env::current_exe().context("cannot find the lushan binary to supervise jobs with")?;
    let cgroup = lushan_backend::cgroup::CgroupRoot::detect(&config.cgroup_root);
    let limits = match &cgroup {
        Some(root) => format!("cgroup v2 at {}", root.path().display()),
        None => {
            format!("CPU affinity and a memory watcher (no delegated cgroup v2 at {})", config.cgroup_root.display())
        }
    };
    let control = std::sync::Arc::new(crate::control::Control::new(
        store.clone(),
        config.data_dir.join("jobs"),
        exe.clone(),
        crate::control::ControlSettings {
            kill_wait_secs: config.kill_wait_secs,
            keep_job_folders_ms: i64::try_from(config.keep_job_folders_hours.saturating_mul(3_600_000))
                .unwrap_or(i64::MAX),
            run_jobs_as_server_user: config.run_jobs_as_server_user,
            cgroup_root: cgroup.as_ref().map(|c| c.path().to_owned()),
            policy: config.policy,
            half_life_ms: config.half_life_ms,
        },
    ));
    control.install_job_tools(&exe).with_context(|| "cannot install srun for jobs in the data directory")?;
    let services = Services::new(store.clone(), config.password_cost)
        .with_password_checks(config.password_checks)
        .with_control(control.clone())
        .with_max_array_size(config.max_array_size)
        .with_unix_accounts(crate::unix_accounts::UnixAccounts::new(config.accounts.clone()));
    // Files are served as their users, which only a root server can do.
    let services = if nix::unistd::geteuid().is_root() && !config.run_jobs_as_server_user {
        services.with_file_helper(lushan_backend::files::FileHelper::new(exe.clone(), FILE_HELPER_DEADLINE))
    } else {
        services
    };
    let first = bootstrap_if_new(&store, config.password_cost).await?;
    ensure_configured_sites(&store, &config).await?;

    println!("Lushan {} on {} ({})", env!("CARGO_PKG_VERSION"), store.kind().as_str(), describe_db(&config));
    match first {
        Some(secrets) => {
            println!("First start: created the operator account and the `local` site.");
            println!("  operator:  {OPERATOR}");
            println!("  password:  {}   (shown once; change it with `lushan passwd`)", secrets.password);
            if options.write_cli_config {
                let cli =
                    CliConfig { url: public_url.clone(), token: Some(secrets.token), user: Some(OPERATOR.into()) };
                match cli.save() {
                    Ok(path) => println!("  CLI:       configured in {} (try `lushan whoami`)", path.display()),
                    Err(err) => {
                        println!("  CLI:       not configured: {err}; use `lushan login --url {public_url} {OPERATOR}`")
                    }
                }
            } else {
                println!("  CLI:       `lushan login --url {public_url} {OPERATOR}`");
            }
        }
        None => println!("Data directory {} reused; no new secrets.", config.data_dir.display()),
    }
    println!("Job limits: {limits}");
    println!("Lushan is listening on {public_url}");

    let metrics = Metrics::global();
    metrics.spawn_upkeep();
    spawn_wal_checkpoints(store.clone());
    if let Err(err) = services.restore_login_limits(crate::clock::now_ms()).await {
        tracing::warn!("the failed-login counts saved at the last stop cannot be read; starting without them: {err}");
    }
    spawn_login_limit_saves(services.clone());
    tokio::spawn(control.run());
    let app = crate::http::router(services.clone(), metrics);
    // With the peer's address, which login counts failures against.
    let listener = crate::http::listener::Listener::new(listener);
    axum::serve(listener, app.into_make_service_with_connect_info::<crate::http::listener::Peer>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    if let Err(err) = services.save_login_limits(crate::clock::now_ms()).await {
        tracing::warn!("the failed-login counts cannot be saved: {err}");
    }
    store.close().await;
    println!("Lushan stopped.");
    Ok(())
}

/// How often the embedded database's write-ahead log is checkpointed and
/// emptied (see `Store::checkpoint_wal`).
const WAL_CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// Keeps the embedded database's write-ahead log from growing without bound
/// when busy readers keep SQLite's own checkpoints from finishing.
/// Saves the failed-login counts every few seconds while they change, so
/// a restart, even after SIGKILL, gives guessers no fresh window.
const LOGIN_LIMIT_SAVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

fn spawn_login_limit_saves(services: Services) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(LOGIN_LIMIT_SAVE_INTERVAL).await;
            if let Err(err) = services.save_login_limits(crate::clock::now_ms()).await {
                tracing::warn!("the failed-login counts cannot be saved (will retry): {err}");
            }
        }
    });
}

fn spawn_wal_checkpoints(store: Store) {
    if store.kind() != lushan_store::DbKind::Sqlite {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(WAL_CHECKPOINT_INTERVAL);
        // The first tick is immediate: start from an empty log.
        loop {
            tick.tick().await;
            if let Err(err) = store.checkpoint_wal().await {
                tracing::warn!("cannot checkpoint the database's write-ahead log (will retry): {err}");
            }
        }
    });
}

/// The embedded database holds password and token hashes: readable by the
/// server's user only. SQLite gives its WAL and shared-memory files the
/// database file's mode, so creating the file 0600 first covers all three.
/// The data directory stays traversable (0711) for jobs' directories.
fn protect_database_files(config: &ServerConfig) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if config.database_url.is_some() {
        return Ok(());
    }
    let db = config.data_dir.join("lushan.db");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&db)
        .with_context(|| format!("cannot create {}", db.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let path = config.data_dir.join(format!("lushan.db{suffix}"));
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot restrict {}", path.display()))?;
        }
    }
    std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o711))
        .with_context(|| format!("cannot set the mode of {}", config.data_dir.display()))?;
    Ok(())
}

fn describe_db(config: &ServerConfig) -> String {
    match &config.database_url {
        None => format!("data in {}", config.data_dir.display()),
        Some(_) => format!("data directory {}", config.data_dir.display()),
    }
}

/// The secrets made at first start, shown once.
pub struct FirstStart {
    pub password: String,
    pub token: String,
}

/// Sets up a new platform (centre tenant, operator, CLI token, `local`
/// site on this machine) unless the database already has one.
pub async fn bootstrap_if_new(store: &Store, password_cost: PasswordCost) -> anyhow::Result<Option<FirstStart>> {
    if store.is_bootstrapped().await? {
        return Ok(None);
    }
    let password = generate_password();
    let hash = hash_password(password.clone(), password_cost).await?;
    let token = generate_token();
    let token_hash = hash_token(&token);
    let machine = machine::discover();
    let now = now_ms();
    let boot = Bootstrap {
        centre: NewTenant { name: CENTRE, display_name: "Computing centre", sector: Sector::Centre, created_at: now },
        operator: NewUser {
            name: OPERATOR,
            display_name: "Platform operator",
            tenant_id: lushan_model::TenantId(0),
            role: Role::Operator,
            unix_account: None,
            password_hash: Some(&hash),
            created_at: now,
        },
        token_name: "cli",
        token_hash: &token_hash,
        site: NewSite {
            name: "local",
            backend: "local",
            partition: "local",
            nodes: vec![this_node(&machine)],
            created_at: now,
        },
    };
    let audit = AuditEntry {
        at: now,
        actor_user_id: None,
        actor: "lushan".into(),
        action: "platform.bootstrap",
        target_kind: "platform",
        target: "local".into(),
        tenant_id: None,
        before: None,
        after: Some(
            serde_json::json!({"operator": OPERATOR, "site": "local", "node": machine.hostname, "cpus": machine.cpus, "memory_mb": machine.memory_mb, "gpus": machine.gpus})
                .to_string(),
        ),
        request_id: None,
    };
    if store.bootstrap(&boot, &audit).await? { Ok(Some(FirstStart { password, token })) } else { Ok(None) }
}

/// Creates the sites the configuration names, on this machine's resources.
async fn ensure_configured_sites(store: &Store, config: &ServerConfig) -> anyhow::Result<()> {
    if config.sites.is_empty() {
        return Ok(());
    }
    let centre = store.tenant_by_name(CENTRE).await?;
    let machine = machine::discover();
    for site in &config.sites {
        let partition = site.partition.clone().unwrap_or_else(|| site.name.clone());
        let new = NewSite {
            name: &site.name,
            backend: &site.backend,
            partition: &partition,
            nodes: vec![this_node(&machine)],
            created_at: now_ms(),
        };
        let audit = AuditEntry {
            at: now_ms(),
            actor_user_id: None,
            actor: "lushan".into(),
            action: "site.create",
            target_kind: "site",
            target: site.name.clone(),
            tenant_id: Some(centre.id),
            before: None,
            after: Some(
                serde_json::json!({"name": site.name, "backend": site.backend, "partition": partition}).to_string(),
            ),
            request_id: None,
        };
        store.ensure_site(&new, centre.id, &audit).await?;
    }
    Ok(())
}

/// This machine as the one node of a `local` site.
fn this_node(machine: &machine::MachineInfo) -> NewNode<'_> {
    NewNode {
        name: &machine.hostname,
        cpus: machine.cpus,
        memory_mb: machine.memory_mb,
        gpus: machine.gpus,
        gpu_type: machine.gpu_type.as_deref(),
        features: &machine.features,
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
