//! The command transport: Slurm's own commands on the server's host, for
//! clusters that run no slurmrestd (`lushan admin site add NAME --cli`).
//!
//! Each operation is one command with a fixed, parseable output format
//! (`squeue -h -o`, `sacct -P`, `sacctmgr -P`: SLURM.md measured the
//! `--json` forms 10-20x slower), timestamps as epoch seconds
//! (`SLURM_TIME_FORMAT=%s`), started with a clean environment, no stdin
//! and a deadline; a command still running at the deadline is killed.
//!
//! Commands acting for a job's user (`sbatch`, `scancel`, `scontrol
//! hold/release`) run as that user's Unix account (setuid/setgid in the
//! child, supplementary groups dropped), so munge vouches for the user and
//! never for root. Reading the cluster and changing its accounts run as the
//! site's service user. Both need the server to run as root, unless every
//! job's account is the server's own.
//!
//! What comes back is parsed by the pure functions at the bottom, which
//! the tests feed with what Slurm 22.05 prints.

use super::accounts::{AccountChange, AssociationLimits, ClusterAccount, ClusterAccounts, LimitField, tres_count};
use super::{Inventory, JobAccounting, RemoteJob, RemoteNode, RemotePartition, SlurmError, SubmitSpec};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// `squeue` fields, `|`-separated; the comment is last because it is the
/// only one a user can fill with anything (a `|` included).
const SQUEUE_FORMAT: &str = "%A|%T|%r|%N|%S|%e|%C|%P|%k";
/// `sinfo -N`: one line per node and partition.
const SINFO_NODES: &str = "%N|%c|%m|%G|%T|%C|%f";
const SINFO_PARTITIONS: &str = "%P|%a|%l|%N";
const SACCT_FIELDS: &str = "JobIDRaw,State,Reason,NodeList,Start,End,ElapsedRaw,AllocTRES,TotalCPU,ExitCode";

/// Words in a command's error that mean slurmctld or slurmdbd did not
/// answer (an outage, retried later), not that Slurm refused.
const OUTAGE_WORDS: [&str; 6] = [
    "Unable to contact slurm controller",
    "Socket timed out",
    "Connection refused",
    "Unable to connect to database",
    "Problem talking to the database",
    "slurmdbd: Connection",
];

/// One Slurm cluster through the commands in `bin`.
#[derive(Clone, Debug)]
pub struct Cli {
    /// Where the commands are; empty: the server's `PATH`.
    bin: PathBuf,
    service_user: String,
    timeout: Duration,
}

/// Who a command runs as.
#[derive(Clone, Copy)]
enum As<'a> {
    /// The site's service user (reading the cluster, its accounts).
    Service,
    /// A job's user.
    User(&'a str),
}

struct Output {
    stdout: String,
}

impl Cli {
    pub(super) fn open(bin: &str, service_user: &str, timeout: Duration) -> Cli {
        Cli { bin: PathBuf::from(bin), service_user: service_user.to_owned(), timeout }
    }

    fn program(&self, name: &str) -> PathBuf {
        if self.bin.as_os_str().is_empty() { PathBuf::from(name) } else { self.bin.join(name) }
    }

    /// Runs `name args` as `who`, with `env` (and the few variables Slurm's
    /// commands need), and returns its output if it exits 0. `ok_words`:
    /// error text that still means success (`Nothing new added.`).
    async fn run(
        &self,
        name: &str,
        args: &[&str],
        who: As<'_>,
        env: &[(String, String)],
        ok_words: &[&str],
    ) -> Result<Output, SlurmError> {
        let program = self.program(name);
        let shown = std::iter::once(name).chain(args.iter().copied().take(3)).collect::<Vec<_>>().join(" ");
        let mut command = tokio::process::Command::new(&program);
        command.args(args).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.kill_on_drop(true);
        command.env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()));
        // Where slurm.conf is, when the server was told.
        if let Some(conf) = std::env::var_os("SLURM_CONF") {
            command.env("SLURM_CONF", conf);
        }
        command.env("SLURM_TIME_FORMAT", "%s");
        command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let user = match who {
            As::Service => self.service_user.as_str(),
            As::User(user) => user,
        };
        self.switch_user(&mut command, user, who)?;
        let child = command.spawn().map_err(|e| SlurmError::CommandUnavailable {
            command: shown.clone(),
            detail: format!("cannot run {}: {e}", program.display()),
        })?;
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(SlurmError::CommandUnavailable {
                    command: shown,
                    detail: format!("lost the command: {e}"),
                });
            }
            // Dropping the future kills the child (kill_on_drop).
            Err(_) => {
                return Err(SlurmError::CommandUnavailable {
                    command: shown,
                    detail: format!("no answer within {} s; killed", self.timeout.as_secs_f64()),
                });
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            return Ok(Output { stdout });
        }
        let said = said(&stderr, &stdout);
        if ok_words.iter().any(|w| said.contains(w)) {
            return Ok(Output { stdout });
        }
        if OUTAGE_WORDS.iter().any(|w| said.contains(w)) {
            return Err(SlurmError::CommandUnavailable { command: shown, detail: said });
        }
        let status = match output.status.code() {
            Some(code) => format!("exit {code}"),
            None => "killed by a signal".into(),
        };
        Err(SlurmError::Refused(if said.is_empty() { format!("`{shown}` failed ({status})") } else { said }))
    }

    /// Makes `command` run as `user`. The server's own account runs
    /// commands as itself; any other needs root.
    fn switch_user(&self, command: &mut tokio::process::Command, user: &str, who: As<'_>) -> Result<(), SlurmError> {
        let me = nix::unistd::geteuid();
        let current = nix::unistd::User::from_uid(me).ok().flatten().map(|u| u.name).unwrap_or_default();
        if current == user {
            return Ok(());
        }
        if !me.is_root() {
            return match who {
                // Reading the cluster as whoever the server is works as
                // long as Slurm's PrivateData lets it see every job.
                As::Service => Ok(()),
                As::User(_) => Err(SlurmError::CannotActAs(format!(
                    "the server runs as `{current}` and cannot run Slurm's commands as `{user}`: a --cli site needs the server to run as root (or add the site with --rest-url and --jwt-key)"
                ))),
            };
        }
        let account = nix::unistd::User::from_name(user).ok().flatten().ok_or_else(|| {
            SlurmError::CannotActAs(format!(
                "there is no Unix account `{user}` on the server's host to run Slurm's commands as"
            ))
        })?;
        command.uid(account.uid.as_raw()).gid(account.gid.as_raw());
        command.env("USER", user).env("LOGNAME", user).env("HOME", &account.dir);
        Ok(())
    }

    pub(super) async fn ping(&self) -> Result<String, SlurmError> {
        let version = self.run("scontrol", &["--version"], As::Service, &[], &[]).await?;
        let pinged = self.run("scontrol", &["ping"], As::Service, &[], &[]).await;
        let text = match pinged {
            Ok(output) => output.stdout,
            // `scontrol ping` exits 1 when slurmctld is down.
            Err(SlurmError::Refused(text)) => text,
            Err(err) => return Err(err),
        };
        if !text.contains("is UP") {
            return Err(SlurmError::CommandUnavailable {
                command: "scontrol ping".into(),
                detail: format!("slurmctld does not answer: {}", text.trim()),
            });
        }
        Ok(release(&version.stdout))
    }

    pub(super) async fn accounting_ok(&self) -> Result<(), SlurmError> {
        self.clusters().await.map(|_| ())
    }

    pub(super) async fn inventory(&self) -> Result<Inventory, SlurmError> {
        let nodes = self.run("sinfo", &["-h", "-N", "-o", SINFO_NODES], As::Service, &[], &[]).await?;
        let partitions = self.run("sinfo", &["-h", "-o", SINFO_PARTITIONS], As::Service, &[], &[]).await?;
        Ok(Inventory { nodes: parse_nodes(&nodes.stdout)?, partitions: parse_partitions(&partitions.stdout)? })
    }

    pub(super) async fn submit(&self, user: &str, spec: &SubmitSpec) -> Result<u64, SlurmError> {
        let script = ScriptFile::write(&spec.script, user)?;
        let mut args = sbatch_args(spec);
        args.push(script.path.to_string_lossy().into_owned());
        args.extend(spec.args.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // The job's environment is sbatch's (`--export=ALL`): exactly the spec's.
        let env: Vec<(String, String)> = spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect();
        let output = self.run("sbatch", &args, As::User(user), &env, &[]).await?;
        drop(script);
        parse_submitted(&output.stdout)
    }

    pub(super) async fn jobs_since(&self, _since_secs: i64) -> Result<Option<Vec<RemoteJob>>, SlurmError> {
        // squeue has no "changed since": every pass reads the whole list
        // (about 40 ms with 1,000 jobs, SLURM.md).
        let output = self.run("squeue", &["-h", "-a", "-t", "all", "-o", SQUEUE_FORMAT], As::Service, &[], &[]).await?;
        parse_jobs(&output.stdout).map(Some)
    }

    pub(super) async fn accounting(&self, id: u64) -> Result<Option<JobAccounting>, SlurmError> {
        Ok(self.accounting_of(&[id]).await?.into_iter().next())
    }

    pub(super) async fn accounting_of(&self, ids: &[u64]) -> Result<Vec<JobAccounting>, SlurmError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let list = chunk.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            let args = ["-X", "-n", "-P", "-j", &list, "-o", SACCT_FIELDS];
            let output = self.run("sacct", &args, As::Service, &[], &[]).await?;
            out.extend(parse_accounting(&output.stdout)?.into_iter().filter(|a| chunk.contains(&a.id)));
        }
        Ok(out)
    }

    pub(super) async fn set_held(&self, user: &str, id: u64, held: bool) -> Result<(), SlurmError> {
        let verb = if held { "hold" } else { "release" };
        self.run("scontrol", &[verb, &id.to_string()], As::User(user), &[], &[]).await.map(|_| ())
    }

    pub(super) async fn cancel(&self, user: &str, id: u64, signal: Option<&str>) -> Result<(), SlurmError> {
        let id = id.to_string();
        let signal = signal.map(|s| format!("--signal={s}"));
        let mut args: Vec<&str> = Vec::new();
        if let Some(signal) = &signal {
            // The batch shell too, as slurmrestd's DELETE does.
            args.extend(["--full", signal.as_str()]);
        }
        args.push(&id);
        // A job Slurm no longer knows has ended.
        self.run("scancel", &args, As::User(user), &[], &["Invalid job id", "already completing or completed"])
            .await
            .map(|_| ())
    }

    pub(super) async fn clusters(&self) -> Result<Vec<String>, SlurmError> {
        let output =
            self.run("sacctmgr", &["-n", "-P", "show", "cluster", "format=cluster"], As::Service, &[], &[]).await?;
        Ok(output.stdout.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
    }

    pub(super) async fn accounts(&self, cluster: &str) -> Result<ClusterAccounts, SlurmError> {
        let accounts = self
            .run("sacctmgr", &["-n", "-P", "show", "account", "format=account,descr"], As::Service, &[], &[])
            .await?;
        let where_cluster = format!("cluster={cluster}");
        let associations = self
            .run(
                "sacctmgr",
                &[
                    "-n",
                    "-P",
                    "show",
                    "association",
                    "where",
                    &where_cluster,
                    "format=account,parentname,user,partition,grpjobs,grpsubmit,grptres,maxjobs,maxsubmit",
                ],
                As::Service,
                &[],
                &[],
            )
            .await?;
        let users = self.run("sacctmgr", &["-n", "-P", "show", "user", "format=user"], As::Service, &[], &[]).await?;
        Ok(parse_cluster_accounts(&accounts.stdout, &associations.stdout, &users.stdout))
    }

    pub(super) async fn apply_accounts(
        &self,
        cluster: &str,
        changes: &[AccountChange],
    ) -> Result<Vec<String>, SlurmError> {
        let mut said = Vec::new();
        for args in sacctmgr_commands(cluster, changes) {
            let mut all = vec!["-i"];
            all.extend(args.iter().map(String::as_str));
            match self.run("sacctmgr", &all, As::Service, &[], &["Nothing new added"]).await {
                Ok(_) => {}
                Err(SlurmError::Refused(text)) => said.push(text),
                Err(err) => return Err(err),
            }
        }
        Ok(said)
    }
}

/// What a failed command said: its error lines without the command's
/// prefix (`sbatch: error: `), else its output.
fn said(stderr: &str, stdout: &str) -> String {
    let text = if stderr.trim().is_empty() { stdout } else { stderr };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.split_once(": error: ").map_or(l, |(_, rest)| rest))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A job's script in a file only its user can read, for as long as
/// `sbatch` needs it (sbatch sends the script's text to slurmctld).
struct ScriptFile {
    path: PathBuf,
}

impl ScriptFile {
    fn write(script: &str, user: &str) -> Result<ScriptFile, SlurmError> {
        let failed = |e: std::io::Error| SlurmError::CommandUnavailable {
            command: "sbatch".into(),
            detail: format!("cannot write the job's script for sbatch: {e}"),
        };
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("lushan-sbatch-{}-{n}", std::process::id()));
        let mut file =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(failed)?;
        let guard = ScriptFile { path };
        file.write_all(script.as_bytes()).map_err(failed)?;
        if nix::unistd::geteuid().is_root()
            && let Some(account) = nix::unistd::User::from_name(user).ok().flatten()
        {
            std::os::unix::fs::chown(&guard.path, Some(account.uid.as_raw()), Some(account.gid.as_raw()))
                .map_err(failed)?;
        }
        Ok(guard)
    }
}

impl Drop for ScriptFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `slurm-wlm 22.05.8` (or `slurm 23.11.1`) -> `22.05.8`.
fn release(version: &str) -> String {
    version.split_whitespace().last().unwrap_or_default().to_owned()
}

/// sbatch's options for a job (the script's path and arguments follow).
pub fn sbatch_args(spec: &SubmitSpec) -> Vec<String> {
    let mut args = vec![
        "--parsable".to_owned(),
        format!("--job-name={}", spec.name),
        format!("--comment={}", spec.comment),
        format!("--nodes={}", spec.nodes),
        format!("--ntasks={}", spec.ntasks),
        format!("--cpus-per-task={}", spec.cpus_per_task),
        format!("--chdir={}", spec.workdir),
        format!("--output={}", spec.stdout),
        format!("--error={}", spec.stderr),
        "--export=ALL".to_owned(),
    ];
    let mut optional = |flag: &str, value: &str| {
        if !value.is_empty() {
            args.push(format!("--{flag}={value}"));
        }
    };
    optional("partition", &spec.partition);
    optional("account", &spec.account);
    optional("constraint", &spec.constraint);
    optional("input", &spec.stdin);
    if spec.memory_per_node_mb > 0 {
        args.push(format!("--mem={}", spec.memory_per_node_mb));
    }
    if spec.gpus_per_node > 0 {
        args.push(format!("--gpus-per-node={}", spec.gpus_per_node));
    }
    if spec.time_limit_mins > 0 {
        args.push(format!("--time={}", spec.time_limit_mins));
    }
    if spec.exclusive {
        args.push("--exclusive".to_owned());
    }
    if spec.append {
        args.push("--open-mode=append".to_owned());
    }
    args
}

/// The sacctmgr arguments (after `-i`) making `changes`, in order. A new
/// account is created with its place on the cluster in one command:
/// `sacctmgr add account` always makes the association too.
pub fn sacctmgr_commands(cluster: &str, changes: &[AccountChange]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let cluster_is = format!("cluster={cluster}");
    for change in changes {
        let command: Vec<String> = match change {
            AccountChange::AddAccount { account, description, organization } => {
                let parent = changes.iter().find_map(|c| match c {
                    AccountChange::AddToCluster { account: a, parent } if a == account => Some(parent.as_str()),
                    _ => None,
                });
                let mut command = vec![
                    "add".into(),
                    "account".into(),
                    account.clone(),
                    format!("description={description}"),
                    format!("organization={organization}"),
                ];
                if let Some(parent) = parent {
                    command.extend([cluster_is.clone(), format!("parent={parent}")]);
                }
                command
            }
            AccountChange::AddToCluster { account, parent } => {
                if changes.iter().any(|c| matches!(c, AccountChange::AddAccount { account: a, .. } if a == account)) {
                    continue;
                }
                vec!["add".into(), "account".into(), account.clone(), cluster_is.clone(), format!("parent={parent}")]
            }
            AccountChange::MoveAccount { account, to, .. } => vec![
                "modify".into(),
                "account".into(),
                "where".into(),
                format!("name={account}"),
                cluster_is.clone(),
                "set".into(),
                format!("parent={to}"),
            ],
            AccountChange::AddUser { user, default_account } => vec![
                "add".into(),
                "user".into(),
                user.clone(),
                format!("defaultaccount={default_account}"),
                cluster_is.clone(),
            ],
            AccountChange::AddAssociation { account, user } => {
                vec!["add".into(), "user".into(), user.clone(), format!("account={account}"), cluster_is.clone()]
            }
            AccountChange::RemoveAssociation { account, user } => vec![
                "delete".into(),
                "user".into(),
                "where".into(),
                format!("name={user}"),
                format!("account={account}"),
                cluster_is.clone(),
            ],
            AccountChange::RemoveFromCluster { account } => {
                vec!["delete".into(), "account".into(), "where".into(), format!("name={account}"), cluster_is.clone()]
            }
            AccountChange::SetLimits { account, user, from, to } => {
                let mut command = match user {
                    Some(user) => vec![
                        "modify".into(),
                        "user".into(),
                        "where".into(),
                        format!("name={user}"),
                        format!("account={account}"),
                        cluster_is.clone(),
                    ],
                    // An account's own association, not its users'.
                    None => vec![
                        "modify".into(),
                        "account".into(),
                        "where".into(),
                        format!("name={account}"),
                        cluster_is.clone(),
                    ],
                };
                command.push("set".into());
                let mut tres = Vec::new();
                for (field, value) in to.changed_from(from, user.is_some()) {
                    let value = value.unwrap_or(-1);
                    match field {
                        LimitField::GrpTresCpu => tres.push(format!("cpu={value}")),
                        LimitField::GrpTresGpu => tres.push(format!("gres/gpu={value}")),
                        _ => command.push(format!("{}={value}", field.slurm_name())),
                    }
                }
                if !tres.is_empty() {
                    command.push(format!("GrpTRES={}", tres.join(",")));
                }
                command
            }
        };
        out.push(command);
    }
    out
}

fn unreadable(command: &str, detail: String) -> SlurmError {
    SlurmError::CommandOutput { command: command.to_owned(), detail }
}

/// The `|`-separated fields of one line, exactly `n` of them (the last
/// keeps any `|` it holds).
fn fields<'a>(command: &str, line: &'a str, n: usize) -> Result<Vec<&'a str>, SlurmError> {
    let fields: Vec<&str> = line.splitn(n, '|').collect();
    if fields.len() != n {
        return Err(unreadable(command, format!("expected {n} `|`-separated fields, got {:?}", cut(line))));
    }
    Ok(fields)
}

fn number(command: &str, what: &str, text: &str) -> Result<i64, SlurmError> {
    text.trim().parse().map_err(|_| unreadable(command, format!("{what} is not a number: {:?}", cut(text))))
}

fn cut(text: &str) -> String {
    text.chars().take(120).collect()
}

/// `(null)` and `N/A` are Slurm's empty values.
fn value(text: &str) -> &str {
    match text.trim() {
        "(null)" | "N/A" | "n/a" | "None" | "NONE" | "Unknown" => "",
        other => other,
    }
}

/// An epoch time (`SLURM_TIME_FORMAT=%s`); `None` for Slurm's no-time words.
fn epoch(text: &str) -> Option<i64> {
    value(text).parse::<i64>().ok().filter(|t| *t > 0)
}

/// `sbatch --parsable`: `ID` or `ID;CLUSTER`.
pub fn parse_submitted(stdout: &str) -> Result<u64, SlurmError> {
    let line = stdout.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let id = line.split(';').next().unwrap_or_default();
    id.parse().map_err(|_| unreadable("sbatch --parsable", format!("expected a job id, got {:?}", cut(stdout.trim()))))
}

/// `sinfo -h -N -o SINFO_NODES`; a node in several partitions is listed
/// once per partition.
pub fn parse_nodes(stdout: &str) -> Result<Vec<RemoteNode>, SlurmError> {
    let mut nodes: BTreeMap<String, RemoteNode> = BTreeMap::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let f = fields("sinfo", line, 7)?;
        let cpus = number("sinfo", "a node's CPUs", f[1])?;
        // allocated/idle/other/total
        let counts: Vec<&str> = f[5].split('/').collect();
        if counts.len() != 4 {
            return Err(unreadable("sinfo", format!("CPU counts are not A/I/O/T: {:?}", cut(f[5]))));
        }
        let (gpus, gpu_type) = super::gpus_of(value(f[3]));
        let node = RemoteNode {
            name: f[0].trim().to_owned(),
            cpus,
            memory_mb: number("sinfo", "a node's memory", f[2])?,
            gpus,
            gpu_type,
            // Slurm's suffixes (`*` not responding, `~` powered off...) dropped.
            state: f[4].trim().trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned(),
            idle_cpus: number("sinfo", "a node's idle CPUs", counts[1])?,
            features: value(f[6]).split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        };
        nodes.insert(node.name.clone(), node);
    }
    Ok(nodes.into_values().collect())
}

/// `sinfo -h -o SINFO_PARTITIONS`; the default partition carries a `*`.
pub fn parse_partitions(stdout: &str) -> Result<Vec<RemotePartition>, SlurmError> {
    let mut out: Vec<RemotePartition> = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let f = fields("sinfo", line, 4)?;
        let name = f[0].trim();
        let default = name.ends_with('*');
        let name = name.trim_end_matches('*');
        let max_time_secs = match value(f[2]) {
            "infinite" | "UNLIMITED" | "" => None,
            limit => Some(
                duration_ms(limit).ok_or_else(|| {
                    unreadable("sinfo", format!("partition {name}'s time limit is not a duration: {:?}", cut(limit)))
                })? / 1000,
            ),
        };
        let nodes = super::expand_hostlist(f[3]);
        match out.iter_mut().find(|p| p.name == name) {
            Some(known) => {
                for node in nodes {
                    if !known.nodes.contains(&node) {
                        known.nodes.push(node);
                    }
                }
            }
            None => out.push(RemotePartition {
                name: name.to_owned(),
                default,
                nodes,
                max_time_secs,
                up: f[1].trim().eq_ignore_ascii_case("up"),
            }),
        }
    }
    Ok(out)
}

/// Slurm's durations in milliseconds: `[D-]HH:MM:SS`, `MM:SS`, `MM`, and
/// sacct's `MM:SS.mmm`.
pub fn duration_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let (days, rest) = match text.split_once('-') {
        Some((d, rest)) => (d.parse::<i64>().ok()?, rest),
        None => (0, text),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let seconds = |s: &str| -> Option<i64> {
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let frac_ms = if frac.is_empty() { 0 } else { format!("{frac:0<3}")[..3].parse::<i64>().ok()? };
        Some(whole.parse::<i64>().ok()? * 1000 + frac_ms)
    };
    let ms = match (parts.as_slice(), days > 0) {
        ([h, m, s], _) => h.parse::<i64>().ok()? * 3_600_000 + m.parse::<i64>().ok()? * 60_000 + seconds(s)?,
        // After a day count, `D-HH:MM` and `D-HH`.
        ([h, m], true) => h.parse::<i64>().ok()? * 3_600_000 + m.parse::<i64>().ok()? * 60_000,
        ([m, s], false) => m.parse::<i64>().ok()? * 60_000 + seconds(s)?,
        ([h], true) => h.parse::<i64>().ok()? * 3_600_000,
        ([m], false) => m.parse::<i64>().ok()? * 60_000,
        _ => return None,
    };
    Some(days * 86_400_000 + ms)
}

/// `squeue -h -a -t all -o SQUEUE_FORMAT`.
pub fn parse_jobs(stdout: &str) -> Result<Vec<RemoteJob>, SlurmError> {
    let mut out = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let f = fields("squeue", line, 9)?;
        let id = number("squeue", "a job id", f[0])?;
        out.push(RemoteJob {
            id: u64::try_from(id).map_err(|_| unreadable("squeue", format!("job id {id}")))?,
            state: f[1].trim().to_owned(),
            reason: f[2].trim().to_owned(),
            nodes: super::expand_hostlist(value(f[3])),
            comment: value(f[8]).to_owned(),
            start_secs: epoch(f[4]),
            end_secs: epoch(f[5]),
            // squeue shows no exit code; sacct's is right (it is the REST
            // plugin of slurmdbd that reports 0).
            exit: None,
            cpus: number("squeue", "a job's CPUs", f[6])?,
            partition: f[7].trim().to_owned(),
        });
    }
    Ok(out)
}

/// `sacct -X -n -P -o SACCT_FIELDS`.
pub fn parse_accounting(stdout: &str) -> Result<Vec<JobAccounting>, SlurmError> {
    let mut out = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let f = fields("sacct", line, 10)?;
        let Ok(id) = f[0].trim().parse::<u64>() else {
            // Array and heterogeneous job records (`12_3`, `12+1`) are not Lushan's.
            continue;
        };
        let tres: BTreeMap<&str, &str> = f[7].split(',').filter_map(|kv| kv.split_once('=')).collect();
        let (exit_code, signal) = f[9].trim().split_once(':').unwrap_or((f[9].trim(), "0"));
        out.push(JobAccounting {
            id,
            // `CANCELLED by 1001`
            state: f[1].split_whitespace().next().unwrap_or_default().to_owned(),
            reason: value(f[2]).to_owned(),
            nodes: super::expand_hostlist(value(f[3])),
            start_secs: epoch(f[4]).unwrap_or(0),
            end_secs: epoch(f[5]).unwrap_or(0),
            elapsed_secs: number("sacct", "ElapsedRaw", f[6])?,
            cpus: tres.get("cpu").map_or(Ok(0), |v| number("sacct", "allocated CPUs", v))?,
            memory_mb: tres.get("mem").map_or(0, |v| memory_mb(v)),
            gpus: tres.get("gres/gpu").map_or(Ok(0), |v| number("sacct", "allocated GPUs", v))?,
            total_cpu_ms: duration_ms(f[8]).unwrap_or(0),
            exit_code: number("sacct", "an exit code", exit_code)?,
            signal: number("sacct", "a signal", signal)?,
        });
    }
    Ok(out)
}

/// `512M`, `2G`, `1.5T` -> MB.
fn memory_mb(text: &str) -> i64 {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len()));
    let Ok(number) = number.parse::<f64>() else { return 0 };
    let factor = match unit {
        "K" => 1.0 / 1024.0,
        "G" => 1024.0,
        "T" => 1024.0 * 1024.0,
        _ => 1.0,
    };
    (number * factor).round() as i64
}

/// sacctmgr's `show account format=account,descr`, `show association
/// format=account,parentname,user,partition,grpjobs,grpsubmit,grptres,maxjobs,maxsubmit`
/// and `show user format=user`.
pub fn parse_cluster_accounts(accounts: &str, associations: &str, users: &str) -> ClusterAccounts {
    let lines = |text: &str| text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect::<Vec<_>>();
    let mut out = ClusterAccounts {
        accounts: lines(accounts)
            .iter()
            .map(|l| {
                let (name, description) = l.split_once('|').unwrap_or((l, ""));
                (name.to_owned(), ClusterAccount { description: description.to_owned(), ..ClusterAccount::default() })
            })
            .collect(),
        users: lines(users).iter().map(|u| u.trim().to_owned()).collect(),
    };
    let number = |text: &str| text.trim().parse::<i64>().ok();
    for line in lines(associations) {
        let f: Vec<&str> = line.splitn(9, '|').collect();
        let [account, parent, user, partition, grp_jobs, grp_submit, grp_tres, max_jobs, max_submit] = f.as_slice()
        else {
            continue;
        };
        // Per-partition associations are the cluster's own business.
        if !partition.is_empty() {
            continue;
        }
        let Some(entry) = out.accounts.get_mut(*account) else { continue };
        let tres = |name| tres_count(grp_tres, name);
        if user.is_empty() {
            entry.parent = Some((*parent).to_owned());
            entry.limits = AssociationLimits {
                jobs: number(grp_jobs),
                submitted: number(grp_submit),
                cpus: tres("cpu"),
                gpus: tres("gres/gpu"),
            };
        } else {
            let limits = AssociationLimits {
                jobs: number(max_jobs),
                submitted: number(max_submit),
                cpus: tres("cpu"),
                gpus: tres("gres/gpu"),
            };
            entry.users.insert((*user).to_owned(), limits);
        }
    }
    out
}

/// Where the command `name` is: in `bin`, or on the server's PATH when
/// `bin` is empty; `None` when it is not there (for `site check`).
pub fn command_path(bin: &str, name: &str) -> Option<PathBuf> {
    if !bin.is_empty() {
        let path = Path::new(bin).join(name);
        return path.is_file().then_some(path);
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn sinfo_lines_become_nodes_and_partitions() {
        let nodes = "vm|2|24105|(null)|idle|0/2/0/2|ci\nvm|2|24105|(null)|idle|0/2/0/2|ci\n\
                     g1|64|512000|gpu:a100:4(S:0-1)|mixed*|16/48/0/64|(null)\n";
        let nodes = parse_nodes(nodes).unwrap();
        assert_eq!(nodes.len(), 2);
        let g1 = &nodes[0];
        assert_eq!((g1.name.as_str(), g1.cpus, g1.idle_cpus, g1.gpus), ("g1", 64, 48, 4));
        assert_eq!((g1.gpu_type.as_deref(), g1.state.as_str()), (Some("a100"), "mixed"));
        assert!(g1.features.is_empty());
        assert_eq!((nodes[1].memory_mb, nodes[1].features.clone()), (24105, vec!["ci".to_owned()]));

        let parts = parse_partitions(
            "batch*|up|infinite|vm\ndebug|up|30:00|vm\nlong|down|2-00:00:00|n[01-02]\n\
                                      long|down|2-00:00:00|n03\n",
        )
        .unwrap();
        let summary: Vec<_> =
            parts.iter().map(|p| (p.name.as_str(), p.default, p.up, p.max_time_secs, p.nodes.len())).collect();
        assert_eq!(
            summary,
            vec![
                ("batch", true, true, None, 1),
                ("debug", false, true, Some(1800), 1),
                ("long", false, false, Some(172_800), 3)
            ]
        );
    }

    #[test]
    fn squeue_lines_become_jobs_and_a_comment_keeps_its_bars() {
        let jobs = parse_jobs(
            "2|PENDING|JobHeldUser||N/A|N/A|1|batch,debug|(null)\n\
             1|RUNNING|None|vm|1795497267|NONE|4|batch|lushan:x|y\n",
        )
        .unwrap();
        assert_eq!((jobs[0].id, jobs[0].state.as_str(), jobs[0].reason.as_str()), (2, "PENDING", "JobHeldUser"));
        assert_eq!((jobs[0].start_secs, jobs[0].nodes.len(), jobs[0].comment.as_str()), (None, 0, ""));
        assert_eq!((jobs[1].start_secs, jobs[1].end_secs, jobs[1].cpus), (Some(1_795_497_267), None, 4));
        assert_eq!((jobs[1].nodes.clone(), jobs[1].comment.as_str()), (vec!["vm".to_owned()], "lushan:x|y"));
    }

    #[test]
    fn sacct_lines_become_accounting_records() {
        let records = parse_accounting(
            "1|FAILED|None|vm|1795497267|1795497270|3|billing=1,cpu=1,mem=512M,node=1|00:01.500|3:0\n\
             7|CANCELLED by 1001|None|n[1-2]|1795497000|1795500600|3600|cpu=8,mem=2G,gres/gpu=2,node=2|1-00:00:00|0:15\n\
             8_1|COMPLETED|None|vm|1|2|1|cpu=1|00:00:00|0:0\n",
        )
        .unwrap();
        assert_eq!(records.len(), 2);
        let (a, b) = (&records[0], &records[1]);
        assert_eq!((a.id, a.state.as_str(), a.elapsed_secs, a.cpus, a.memory_mb), (1, "FAILED", 3, 1, 512));
        assert_eq!((a.total_cpu_ms, a.exit_code, a.signal), (1500, 3, 0));
        assert_eq!((b.state.as_str(), b.nodes.len(), b.memory_mb, b.gpus, b.signal), ("CANCELLED", 2, 2048, 2, 15));
        assert_eq!(b.total_cpu_ms, 86_400_000);
    }

    #[test]
    fn garbage_is_an_error_that_names_the_command_never_a_panic() {
        for (text, what) in [
            ("squeue: nonsense\n", "squeue"),
            ("x|RUNNING|None|vm|1|2|1|batch|c\n", "squeue"),
            ("1|RUNNING|None|vm|1|2|many|batch|c\n", "squeue"),
        ] {
            let err = parse_jobs(text).unwrap_err();
            assert!(matches!(&err, SlurmError::CommandOutput { command, .. } if command == what), "{err}");
        }
        assert!(parse_nodes("vm|2|24105|(null)|idle|2|ci\n").is_err());
        assert!(parse_partitions("batch|up|soon|vm\n").is_err());
        assert!(parse_accounting("1|FAILED|None|vm|1|2|x|cpu=1|0:0|0:0\n").is_err());
        assert!(parse_submitted("Submitted batch job\n").is_err());
        assert_eq!(parse_submitted("42;hpc1\n").unwrap(), 42);
    }

    #[test]
    fn durations_read_as_slurm_writes_them() {
        assert_eq!(duration_ms("30:00"), Some(1_800_000));
        assert_eq!(duration_ms("01:00:00"), Some(3_600_000));
        assert_eq!(duration_ms("2-00:00:00"), Some(172_800_000));
        assert_eq!(duration_ms("1-12"), Some(129_600_000));
        assert_eq!(duration_ms("5"), Some(300_000));
        assert_eq!(duration_ms("00:00.010"), Some(10));
        assert_eq!(duration_ms("soon"), None);
    }

    #[test]
    fn sacctmgr_lines_become_the_cluster_s_accounts() {
        let got = parse_cluster_accounts(
            "root|default root account\ntenant.jxu|lushan: tenant jxu\ncfd-lab|lushan: project cfd-lab\n",
            "root|||||||||\nroot||root||||||\ntenant.jxu|root|||||||\ncfd-lab|tenant.jxu|||4||cpu=64,gres/gpu=2||\n\
             cfd-lab||bob||||gres/gpu=1|3|7\ncfd-lab||eve|debug|||||\n",
            "root\nbob\n",
        );
        assert!(got.has_association("cfd-lab", "bob"));
        assert_eq!(
            got.accounts["cfd-lab"].limits,
            AssociationLimits { jobs: Some(4), submitted: None, cpus: Some(64), gpus: Some(2) }
        );
        assert_eq!(
            got.accounts["cfd-lab"].users["bob"],
            AssociationLimits { jobs: Some(3), submitted: Some(7), cpus: None, gpus: Some(1) }
        );
        assert!(!got.has_association("cfd-lab", "eve"));
        assert_eq!(got.accounts["cfd-lab"].parent.as_deref(), Some("tenant.jxu"));
        assert_eq!(got.users, BTreeSet::from(["root".to_owned(), "bob".to_owned()]));
    }

    #[test]
    fn a_new_account_is_added_with_its_parent_in_one_command() {
        let changes = vec![
            AccountChange::AddAccount {
                account: "p".into(),
                description: "lushan: p".into(),
                organization: "t".into(),
            },
            AccountChange::AddToCluster { account: "p".into(), parent: "tenant.t".into() },
            AccountChange::AddToCluster { account: "q".into(), parent: "tenant.t".into() },
            AccountChange::RemoveAssociation { account: "p".into(), user: "eve".into() },
        ];
        let commands = sacctmgr_commands("hpc1", &changes);
        assert_eq!(commands.len(), 3);
        assert_eq!(
            commands[0],
            ["add", "account", "p", "description=lushan: p", "organization=t", "cluster=hpc1", "parent=tenant.t"]
        );
        assert_eq!(commands[1], ["add", "account", "q", "cluster=hpc1", "parent=tenant.t"]);
        assert_eq!(commands[2], ["delete", "user", "where", "name=eve", "account=p", "cluster=hpc1"]);
    }

    #[test]
    fn limits_are_set_on_the_account_s_association_or_the_user_s_and_none_is_minus_one() {
        let none = AssociationLimits::default();
        let changes = vec![
            AccountChange::SetLimits {
                account: "p".into(),
                user: None,
                from: AssociationLimits { jobs: Some(9), ..none },
                to: AssociationLimits { jobs: Some(4), cpus: Some(64), ..none },
            },
            AccountChange::SetLimits {
                account: "p".into(),
                user: Some("bob".into()),
                from: AssociationLimits { gpus: Some(1), ..none },
                to: AssociationLimits { submitted: Some(7), ..none },
            },
        ];
        let commands = sacctmgr_commands("hpc1", &changes);
        assert_eq!(
            commands[0],
            ["modify", "account", "where", "name=p", "cluster=hpc1", "set", "GrpJobs=4", "GrpTRES=cpu=64"]
        );
        assert_eq!(
            commands[1],
            [
                "modify",
                "user",
                "where",
                "name=bob",
                "account=p",
                "cluster=hpc1",
                "set",
                "MaxSubmitJobs=7",
                "GrpTRES=gres/gpu=-1"
            ]
        );
    }

    #[test]
    fn a_job_s_request_becomes_sbatch_options() {
        let spec = SubmitSpec {
            name: "j".into(),
            comment: "lushan:i:1".into(),
            partition: "debug".into(),
            account: "cfd-lab".into(),
            nodes: 2,
            ntasks: 4,
            cpus_per_task: 2,
            memory_per_node_mb: 1024,
            gpus_per_node: 1,
            exclusive: true,
            time_limit_mins: 10,
            append: true,
            workdir: "/w".into(),
            stdout: "/w/o".into(),
            stderr: "/w/e".into(),
            ..Default::default()
        };
        let args = sbatch_args(&spec);
        for want in [
            "--partition=debug",
            "--account=cfd-lab",
            "--nodes=2",
            "--ntasks=4",
            "--cpus-per-task=2",
            "--mem=1024",
            "--gpus-per-node=1",
            "--exclusive",
            "--time=10",
            "--open-mode=append",
            "--chdir=/w",
            "--comment=lushan:i:1",
        ] {
            assert!(args.iter().any(|a| a == want), "{want} missing from {args:?}");
        }
        assert!(!args.iter().any(|a| a.starts_with("--input") || a.starts_with("--constraint")));
    }

    /// Failure paths with stand-in commands (shell scripts in a temp
    /// directory given as the site's `slurm_bin`); the main paths run
    /// against the real Slurm in the `lushan` crate's it::slurm.
    mod stand_ins {
        use super::super::*;
        use crate::slurm::SlurmError;
        use std::os::unix::fs::PermissionsExt;

        fn me() -> String {
            nix::unistd::User::from_uid(nix::unistd::geteuid()).unwrap().unwrap().name
        }

        fn site(commands: &[(&str, &str)], timeout_ms: u64) -> (tempfile::TempDir, Cli) {
            let dir = tempfile::tempdir().unwrap();
            for (name, body) in commands {
                let path = dir.path().join(name);
                std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            let cli = Cli::open(dir.path().to_str().unwrap(), &me(), Duration::from_millis(timeout_ms));
            (dir, cli)
        }

        #[tokio::test]
        async fn a_command_that_hangs_is_killed_at_the_deadline_and_counts_as_an_outage() {
            let (_dir, cli) = site(&[("squeue", "sleep 30")], 300);
            let started = std::time::Instant::now();
            let err = cli.jobs_since(0).await.unwrap_err();
            assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
            assert!(err.is_outage(), "{err}");
            assert!(err.to_string().contains("no answer within 0.3 s"), "{err}");
        }

        #[tokio::test]
        async fn garbage_output_is_an_error_naming_the_command() {
            let (_dir, cli) = site(&[("squeue", "echo '<html>proxy error</html>'")], 2000);
            let err = cli.jobs_since(0).await.unwrap_err();
            assert!(matches!(err, SlurmError::CommandOutput { .. }) && !err.is_outage(), "{err}");
            assert!(err.to_string().starts_with("`squeue` printed something Lushan cannot read: expected 9"), "{err}");
        }

        #[tokio::test]
        async fn slurm_s_refusal_is_passed_on_in_its_words_and_an_unreachable_controller_is_an_outage() {
            let (_dir, cli) = site(
                &[
                    (
                        "sbatch",
                        "echo 'sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified' >&2; exit 1",
                    ),
                    (
                        "squeue",
                        "echo 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2; exit 1",
                    ),
                    (
                        "scontrol",
                        "case \"$1\" in --version) echo 'slurm-wlm 22.05.8';; *) echo 'Slurmctld(primary) at vm is DOWN'; exit 1;; esac",
                    ),
                ],
                2000,
            );
            let spec = SubmitSpec { name: "j".into(), script: "#!/bin/sh\ntrue\n".into(), ..Default::default() };
            let err = cli.submit(&me(), &spec).await.unwrap_err();
            assert!(!err.is_outage(), "{err}");
            assert_eq!(
                err.to_string(),
                "Slurm refused: Batch job submission failed: Invalid account or account/partition combination specified"
            );
            let err = cli.jobs_since(0).await.unwrap_err();
            assert!(err.is_outage() && err.to_string().contains("Unable to contact slurm controller"), "{err}");
            let err = cli.ping().await.unwrap_err();
            assert!(err.is_outage() && err.to_string().contains("slurmctld does not answer"), "{err}");
        }

        #[tokio::test]
        async fn a_missing_command_says_which_and_where() {
            let (dir, cli) = site(&[], 2000);
            let err = cli.inventory().await.unwrap_err();
            let want = format!("cannot run {}/sinfo", dir.path().display());
            assert!(err.is_outage() && err.to_string().contains(&want), "{err}");
        }

        #[tokio::test]
        async fn sbatch_gets_the_script_in_a_private_file_the_options_and_exactly_the_job_s_environment() {
            let (dir, cli) = site(
                &[(
                    "sbatch",
                    "out=$(dirname \"$0\")/seen; for a in \"$@\"; do echo \"arg $a\"; done > $out; \
                     for a in \"$@\"; do case \"$a\" in /*lushan-sbatch-*) cat \"$a\" >> $out; stat -c 'mode %a' \"$a\" >> $out;; esac; done; \
                     env | sort | sed 's/^/env /' >> $out; echo '77;hpc1'",
                )],
                2000,
            );
            let spec = SubmitSpec {
                name: "j".into(),
                script: "#!/bin/sh\necho from-the-script\n".into(),
                args: vec!["a b".into(), "c".into()],
                env: vec![("FOO".into(), serde_json::json!("bar baz"))],
                ..Default::default()
            };
            assert_eq!(cli.submit(&me(), &spec).await.unwrap(), 77);
            let seen = std::fs::read_to_string(dir.path().join("seen")).unwrap();
            assert!(seen.contains("arg --job-name=j\n") && seen.contains("arg --parsable\n"), "{seen}");
            assert!(seen.contains("echo from-the-script\nmode 600\n"), "{seen}");
            assert!(seen.contains("arg a b\narg c\n"), "{seen}");
            assert!(seen.contains("env FOO=bar baz\n"), "{seen}");
            // The server's own environment does not leak into the job.
            let leaked: Vec<&str> = seen
                .lines()
                .filter_map(|l| l.strip_prefix("env "))
                .map(|kv| kv.split('=').next().unwrap_or(""))
                .filter(|k| {
                    !["FOO", "PATH", "SLURM_TIME_FORMAT", "SLURM_CONF", "PWD", "SHLVL", "_", "OLDPWD"].contains(k)
                })
                .collect();
            assert!(leaked.is_empty(), "{leaked:?}");
            // The script file is gone once sbatch has read it.
            let script =
                seen.lines().find_map(|l| l.strip_prefix("arg ").filter(|a| a.contains("lushan-sbatch-"))).unwrap();
            assert!(!std::path::Path::new(script).exists());
        }
    }
}
