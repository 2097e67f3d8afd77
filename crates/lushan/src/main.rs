//! `lushan`: the platform's one binary. `up` and `serve` run the server;
//! every other command is a client of the REST API (the CLI has no other
//! way in). No business logic lives here.

mod cli;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "lushan", version, about = "Lushan: a public computing service platform", propagate_version = true)]
struct Args {
    /// Print JSON (the API's schema) instead of tables.
    #[arg(long, global = true, env = "LUSHAN_JSON", value_parser = clap::builder::FalseyValueParser::new())]
    json: bool,
    /// The server's URL (default: from `lushan login` / `lushan up`).
    #[arg(long, global = true, env = "LUSHAN_URL")]
    url: Option<String>,
    /// An API token (default: from `lushan login` / `lushan up`).
    #[arg(long, global = true, env = "LUSHAN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the platform here: data directory, database, local site, operator, CLI configuration.
    Up(cli::server::ServerArgs),
    /// Run the server alone (for systemd); does not write the CLI configuration.
    Serve(cli::server::ServerArgs),
    /// Sign in and save a token for the following commands.
    Login(cli::session::LoginArgs),
    /// Forget the saved token.
    Logout,
    /// Show who you are signed in as, and your projects.
    Whoami,
    /// Change your password.
    Passwd(cli::session::PasswdArgs),
    /// List the projects you may see.
    Projects,
    /// Your files on the server (your home, your projects' directories),
    /// from any machine: ls, get, put, mkdir, mv, rm.
    #[command(subcommand)]
    Files(cli::files::FilesCommand),
    /// Show and manage one project's members (PIs and managers).
    #[command(subcommand)]
    Project(cli::admin::ProjectMemberCommand),
    /// List sites, partitions and nodes.
    Sites,
    /// Partitions and node states, as Slurm's sinfo shows them.
    Sinfo,
    /// Manage your API tokens.
    #[command(subcommand)]
    Token(cli::session::TokenCommand),
    /// Job templates (the portal's submit page): the centre's and your own.
    #[command(subcommand)]
    Template(cli::templates::TemplateCommand),
    /// Administration: tenants, users, projects, audit log.
    #[command(subcommand)]
    Admin(cli::admin::AdminCommand),
    /// Your tenant's wallet: balance, held, available, credit limit.
    Balance(cli::billing::BalanceArgs),
    /// Every charge, top-up and adjustment of a month, with opening and closing balances.
    Statement(cli::billing::StatementArgs),
    /// Public-welfare allocations: request, review, approve, renew.
    #[command(subcommand)]
    Alloc(cli::billing::AllocCommand),
    /// Reports: `lushan report usage --by sector|tenant|project|partition|user`.
    #[command(subcommand)]
    Report(cli::billing::ReportCommand),
    /// A co-builder's month: what ran on its nodes, who ran it, what it earned.
    Settlement(cli::billing::SettlementArgs),
    /// Prices: `lushan price list`.
    #[command(subcommand)]
    Price(cli::billing::PriceCommand),
    /// Submit a batch script: `lushan submit [sbatch options] job.sh [args]` (alias: sbatch).
    #[command(visible_alias = "sbatch", disable_help_flag = true)]
    Submit(cli::jobs::SubmitArgs),
    /// List pending and running jobs (alias: squeue).
    #[command(visible_alias = "squeue")]
    Jobs(cli::jobs::JobsArgs),
    /// Pending jobs' priorities and the factors they are made of (alias: sprio).
    #[command(visible_alias = "sprio")]
    Priority(cli::jobs::PriorityArgs),
    /// Show one job in detail (like `scontrol show job`); `123_4` names an array task.
    Show { job_id: String },
    /// Cancel jobs (alias: scancel): ids, whole arrays (`123`) or array tasks (`123_4`).
    #[command(visible_alias = "scancel")]
    Cancel(cli::jobs::CancelArgs),
    /// Print a job's output; --follow keeps printing as it grows, until the job ends.
    Logs {
        job_id: String,
        /// Keep printing as the job writes, until it ends.
        #[arg(short = 'f', long)]
        follow: bool,
        /// The job's standard error instead of its standard output.
        #[arg(long)]
        stderr: bool,
    },
    /// Hold pending jobs: they will not start until released.
    Hold { job_ids: Vec<String> },
    /// Release held jobs.
    Release { job_ids: Vec<String> },
    /// Accounting: jobs that ended and still run (alias: sacct).
    #[command(visible_alias = "sacct")]
    Acct(cli::jobs::AcctArgs),
    /// Replay a workload trace (SWF, plain or gzipped) through the scheduler with a simulated clock.
    Simulate(cli::simulate::SimulateArgs),
    /// Internal: supervise one job (started by the server).
    #[command(hide = true)]
    ExecJob { dir: std::path::PathBuf },
    /// Internal: become a job's script as its user (started by exec-job).
    #[command(hide = true)]
    ExecAs { dir: std::path::PathBuf },
    /// Internal: one file operation as a user (started by the server).
    #[command(hide = true)]
    FilesHelper,
}

fn main() -> ExitCode {
    // The job supervisor must not start an async runtime or parse anything
    // else: it is the parent of the user's job.
    let raw: Vec<String> = std::env::args().collect();
    // Inside a local job, `srun` is this binary under that name.
    if raw.first().and_then(|a| std::path::Path::new(a).file_name()).is_some_and(|n| n == "srun") {
        let code = lushan_backend::srun::run_srun(&raw[1..]);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if raw.get(1).map(String::as_str) == Some("exec-job")
        && raw.get(2).map(String::as_str) == Some(lushan_backend::local::LAUNCHER_ARG)
    {
        return ExitCode::from(u8::try_from(lushan_backend::local::run_launcher()).unwrap_or(1));
    }
    if raw.get(1).map(String::as_str) == Some("exec-job")
        && let Some(dir) = raw.get(2)
    {
        let code = lushan_backend::local::run_supervisor(std::path::Path::new(dir));
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    // One file operation as a user: no runtime, no threads, before it
    // takes the user's ids.
    if raw.get(1).map(String::as_str) == Some(lushan_backend::files::HELPER_ARG) && raw.len() == 2 {
        return ExitCode::from(u8::try_from(lushan_backend::files::run_helper()).unwrap_or(1));
    }
    // A job's first program when it runs as its user: as lean as exec-job.
    if raw.get(1).map(String::as_str) == Some("exec-as")
        && let Some(dir) = raw.get(2)
    {
        let code = lushan_backend::local::exec_as(std::path::Path::new(dir));
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let out = output::Output::new(args.json);
    let result = runtime.block_on(dispatch(args, &out));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            out.error(&err);
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(args: Args, out: &output::Output) -> anyhow::Result<()> {
    let connection = cli::Connection { url: args.url, token: args.token };
    match args.command {
        Command::Up(server) => cli::server::run(server, true).await,
        Command::Serve(server) => cli::server::run(server, false).await,
        Command::Login(login) => cli::session::login(&connection, login, out).await,
        Command::Logout => cli::session::logout(out),
        Command::Whoami => cli::session::whoami(&connection.client()?, out).await,
        Command::Passwd(passwd) => cli::session::passwd(&connection.client()?, passwd, out).await,
        Command::Projects => cli::admin::projects_list(&connection.client()?, out).await,
        Command::Files(command) => cli::files::run(&connection.client()?, command, out).await,
        Command::Project(command) => cli::admin::project_members(&connection.client()?, command, out).await,
        Command::Sites => cli::admin::sites(&connection.client()?, out).await,
        Command::Sinfo => cli::admin::sinfo(&connection.client()?, out).await,
        Command::Token(command) => cli::session::token(&connection.client()?, command, out).await,
        Command::Template(command) => cli::templates::template(&connection.client()?, command, out).await,
        Command::Admin(command) => cli::admin::run(&connection.client()?, command, out).await,
        Command::Balance(args) => cli::billing::balance(&connection.client()?, args, out).await,
        Command::Statement(args) => cli::billing::statement(&connection.client()?, args, out).await,
        Command::Alloc(command) => cli::billing::alloc(&connection.client()?, command, out).await,
        Command::Report(command) => cli::billing::report(&connection.client()?, command, out).await,
        Command::Settlement(args) => cli::billing::settlement(&connection.client()?, args, out).await,
        Command::Price(command) => cli::billing::price(&connection.client()?, command, out).await,
        Command::Submit(submit) => cli::jobs::submit(&connection.client()?, submit, out).await,
        Command::Jobs(jobs) => cli::jobs::jobs(&connection.client()?, jobs, out).await,
        Command::Priority(args) => cli::jobs::priority(&connection.client()?, args, out).await,
        Command::Show { job_id } => cli::jobs::show(&connection.client()?, &job_id, out).await,
        Command::Cancel(cancel) => cli::jobs::cancel(&connection.client()?, cancel, out).await,
        Command::Logs { job_id, follow, stderr } => {
            cli::jobs::logs(&connection.client()?, &job_id, follow, stderr, out).await
        }
        Command::Hold { job_ids } => cli::jobs::act(&connection.client()?, "hold", &job_ids, out).await,
        Command::Release { job_ids } => cli::jobs::act(&connection.client()?, "release", &job_ids, out).await,
        Command::Acct(acct) => cli::jobs::acct(&connection.client()?, acct, out).await,
        Command::Simulate(simulate) => cli::simulate::run(simulate, out),
        Command::ExecJob { .. } => anyhow::bail!("exec-job is started by the server only"),
        Command::ExecAs { .. } => anyhow::bail!("exec-as is started by exec-job only"),
        Command::FilesHelper => anyhow::bail!("files-helper is started by the server only"),
    }
}
