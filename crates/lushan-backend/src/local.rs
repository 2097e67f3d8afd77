//! The `local` backend: jobs on this machine.
//!
//! Each job gets a directory `JOBS/ID/` holding `spec.json` (what to run),
//! `script` (the batch script), `supervisor.pid` (touched every few seconds
//! while the job runs: its mtime is when the job was last known alive), and
//! at the end `status.json` (how it ended, with the end time taken when the
//! job ended), written atomically and retried while the disk is full. The
//! supervisor is
//! forked for each job by the launcher (`lushan exec-job --launcher`, one
//! per server), or started as `lushan exec-job JOBS/ID` where there is no
//! launcher: it starts a new session (so it survives the
//! server being killed or restarted), binds itself and so the job to the
//! job's CPUs, runs the script in a process group of its own, and enforces
//! the time limit (SIGTERM, the grace time, SIGKILL: TIMEOUT), the memory
//! limit (a watcher over the group's resident memory: OUT_OF_MEMORY) and
//! cancellation (a `cancel` file: CANCELLED).
//!
//! `JOBS` is 0711 and each job's folder root's, 0711 for a job run as its
//! user (who passes through it to run the script, 0700 and theirs) and 0700
//! otherwise; every other file in it is 0600: `spec.json` holds the
//! submitter's environment. The supervisor opens the job's files without
//! waiting (a FIFO nobody reads fails the job), and the server reads a
//! job's output with its user's rights, from a regular file of theirs only
//! ([`read_output`]).
//!
//! This machine has no delegated cgroup v2, so limits use affinity and the
//! watcher; processes that leave the job's process group escape the watcher.

use crate::{BackendError, procfs};
use lushan_model::JobState;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Who the job runs as when the server runs as root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// Everything the supervisor needs to run one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchSpec {
    pub job_id: i64,
    pub script: String,
    pub args: Vec<String>,
    /// The job's whole environment, Slurm's variables included.
    pub env: Vec<(String, String)>,
    pub workdir: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    pub stdin: PathBuf,
    pub append: bool,
    /// 0: no limit.
    pub time_limit_secs: u64,
    /// Slurm's KillWait: seconds between SIGTERM and SIGKILL.
    pub kill_wait_secs: u64,
    /// Index into the CPUs this machine lets us use.
    pub cpus: Vec<u32>,
    /// 0: no limit.
    pub memory_limit_mb: u64,
    pub run_as: Option<RunAs>,
    /// A delegated cgroup v2 subtree to put the job in; `None`: affinity
    /// and the memory watcher.
    pub cgroup_root: Option<PathBuf>,
}

/// How a job ended, as its supervisor saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub state: JobState,
    pub exit_code: i64,
    pub signal: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub max_rss_kib: i64,
    /// User and system CPU time of the job's processes.
    pub total_cpu_ms: i64,
    /// A sentence for the job's reason column when it did not complete.
    pub detail: String,
}

/// What polling a job's directory found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobProgress {
    Running,
    Ended(Outcome),
    /// The supervisor is gone without saying how the job ended.
    Lost {
        detail: String,
        /// Epoch ms when the job was last known to run (the supervisor's
        /// last heartbeat): what it is charged up to, rather than the
        /// moment a server, perhaps restarted much later, noticed.
        last_alive_ms: Option<i64>,
    },
    /// No supervisor was ever started for it.
    NotLaunched,
}

/// Called when a supervisor this process started has exited.
pub type OnExit = Arc<dyn Fn() + Send + Sync>;

/// Launches, polls and cancels local jobs.
pub struct LocalBackend {
    jobs_dir: PathBuf,
    /// The `lushan` binary, run as `lushan exec-job DIR`.
    exe: PathBuf,
    /// Jobs whose supervisor this process started and still runs.
    live: Arc<Mutex<HashSet<i64>>>,
    on_exit: OnExit,
    /// The launcher's request pipe (`lushan exec-job --launcher`), started
    /// on the first launch; `None` until then or after it died.
    launcher: Mutex<Option<std::process::ChildStdin>>,
}

const SUPERVISOR_MARKER: &str = "exec-job";
/// How often a supervisor touches `supervisor.pid` while its job runs: the
/// file's mtime is when the job was last known alive.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How often a supervisor retries writing `status.json` (a full disk), and
/// for how long: meanwhile it stays alive, so the server keeps the job
/// RUNNING and records the end the file gives once it is written.
const STATUS_RETRY: Duration = Duration::from_secs(1);
const STATUS_PATIENCE: Duration = Duration::from_secs(24 * 3600);
/// `lushan exec-job --launcher`: the process that forks supervisors.
pub const LAUNCHER_ARG: &str = "--launcher";

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The ids of the jobs that have a folder in `jobs_dir`.
pub fn job_folders(jobs_dir: &Path) -> Vec<i64> {
    let Ok(entries) = std::fs::read_dir(jobs_dir) else { return Vec::new() };
    let mut ids: Vec<i64> =
        entries.flatten().filter_map(|e| e.file_name().to_str().and_then(|name| name.parse().ok())).collect();
    ids.sort_unstable();
    ids
}

/// Mode of the folder of all jobs: the jobs' users pass through it (to
/// `bin/srun` and their own job's script) but cannot list it.
const JOBS_DIR_MODE: u32 = 0o711;

/// Creates (or truncates) `path` readable and writable by this process's
/// user only. Everything in a job's folder but the script is private to the
/// server: `spec.json` holds the submitter's whole environment.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    // `mode` only applies to a file it creates: one left by an earlier
    // server may have been made world-readable.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// A file's mtime in epoch ms.
fn modified_ms(path: &Path) -> Option<i64> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    modified.duration_since(std::time::UNIX_EPOCH).ok().and_then(|d| i64::try_from(d.as_millis()).ok())
}

/// Writes `text` to `path` through a temporary file and a rename, synced,
/// so a reader sees all of it or nothing.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = create_private(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Writes `text` to `path` through a temporary file and a rename, so a
/// reader sees all of it or nothing; not synced to disk.
fn write_replacing(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    create_private(&tmp)?.write_all(text.as_bytes())?;
    std::fs::rename(&tmp, path)
}

fn spec_to_json(spec: &LaunchSpec) -> Value {
    json!({
        "job_id": spec.job_id,
        "args": spec.args,
        "env": spec.env.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "workdir": spec.workdir,
        "stdout": spec.stdout,
        "stderr": spec.stderr,
        "stdin": spec.stdin,
        "append": spec.append,
        "time_limit_secs": spec.time_limit_secs,
        "kill_wait_secs": spec.kill_wait_secs,
        "cpus": spec.cpus,
        "memory_limit_mb": spec.memory_limit_mb,
        "run_as": spec.run_as.map(|r| json!({"uid": r.uid, "gid": r.gid})),
        "cgroup_root": spec.cgroup_root,
    })
}

fn spec_from_json(value: &Value, script: String) -> Option<LaunchSpec> {
    let strings =
        |v: &Value| v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect::<Vec<_>>());
    Some(LaunchSpec {
        job_id: value["job_id"].as_i64()?,
        script,
        args: strings(&value["args"])?,
        env: value["env"]
            .as_array()?
            .iter()
            .filter_map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned())))
            .collect(),
        workdir: PathBuf::from(value["workdir"].as_str()?),
        stdout: PathBuf::from(value["stdout"].as_str()?),
        stderr: PathBuf::from(value["stderr"].as_str()?),
        stdin: PathBuf::from(value["stdin"].as_str()?),
        append: value["append"].as_bool()?,
        time_limit_secs: value["time_limit_secs"].as_u64()?,
        kill_wait_secs: value["kill_wait_secs"].as_u64()?,
        cpus: value["cpus"].as_array()?.iter().filter_map(|c| c.as_u64().map(|c| c as u32)).collect(),
        memory_limit_mb: value["memory_limit_mb"].as_u64()?,
        run_as: match &value["run_as"] {
            Value::Null => None,
            r => Some(RunAs { uid: r["uid"].as_u64()? as u32, gid: r["gid"].as_u64()? as u32 }),
        },
        cgroup_root: value["cgroup_root"].as_str().map(PathBuf::from),
    })
}

fn outcome_from_json(value: &Value) -> Option<Outcome> {
    Some(Outcome {
        state: value["state"].as_str()?.parse().ok()?,
        exit_code: value["exit_code"].as_i64()?,
        signal: value["signal"].as_i64()?,
        start_ms: value["start_ms"].as_i64()?,
        end_ms: value["end_ms"].as_i64()?,
        max_rss_kib: value["max_rss_kib"].as_i64()?,
        total_cpu_ms: value["total_cpu_ms"].as_i64().unwrap_or(0),
        detail: value["detail"].as_str()?.to_owned(),
    })
}

impl LocalBackend {
    /// `on_exit` runs (on a helper thread) each time a supervisor started
    /// here exits, so the caller can record the end at once instead of at
    /// its next poll.
    pub fn new(jobs_dir: PathBuf, exe: PathBuf, on_exit: OnExit) -> LocalBackend {
        LocalBackend { jobs_dir, exe, live: Arc::new(Mutex::new(HashSet::new())), on_exit, launcher: Mutex::new(None) }
    }

    /// Starts the launcher: its stdin takes job directories, its stdout
    /// gives back the id of each job whose supervisor has exited.
    fn start_launcher(&self) -> std::io::Result<std::process::ChildStdin> {
        let log = create_private(&self.jobs_dir.join("launcher.log"))?;
        let mut child = Command::new(&self.exe)
            .arg(SUPERVISOR_MARKER)
            .arg(LAUNCHER_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            // Its own group: a Ctrl-C for the server's terminal is not for it.
            .process_group(0)
            .spawn()?;
        let stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("the launcher has no stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("the launcher has no stdout"))?;
        let (live, on_exit) = (self.live.clone(), self.on_exit.clone());
        // Supervisors keep the pipe open after the launcher is gone: their
        // ends are heard until the last one exits.
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(job_id) = line.trim().parse::<i64>() {
                    live.lock().unwrap_or_else(|e| e.into_inner()).remove(&job_id);
                    on_exit();
                }
            }
        });
        let live = self.live.clone();
        std::thread::spawn(move || {
            let _ = child.wait();
            // Jobs it was asked for but may never have forked: `poll` now
            // goes by their supervisor.pid instead.
            live.lock().unwrap_or_else(|e| e.into_inner()).clear();
        });
        Ok(stdin)
    }

    /// Hands a prepared job directory to the launcher (started, or
    /// restarted once, as needed); false when there is none to take it.
    fn send_to_launcher(&self, dir: &Path) -> bool {
        let mut launcher = self.launcher.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..2 {
            if launcher.is_none() {
                match self.start_launcher() {
                    Ok(stdin) => *launcher = Some(stdin),
                    Err(err) => {
                        tracing::warn!("cannot start the job launcher, starting supervisors one by one: {err}");
                        return false;
                    }
                }
            }
            if let Some(stdin) = launcher.as_mut()
                && writeln!(stdin, "{}", dir.display()).and_then(|()| stdin.flush()).is_ok()
            {
                return true;
            }
            *launcher = None;
        }
        false
    }

    fn job_dir(&self, job_id: i64) -> PathBuf {
        self.jobs_dir.join(job_id.to_string())
    }

    /// The folder of all jobs: `ID/` for each job, `bin/` for `srun`.
    pub fn jobs_dir(&self) -> &Path {
        &self.jobs_dir
    }

    /// Whether this process supervises `job_id` now.
    pub fn is_live(&self, job_id: i64) -> bool {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).contains(&job_id)
    }

    /// Makes the folder of all jobs, closed to listing, and closes the job
    /// folders an earlier version left open: folders 0755 with `spec.json`
    /// (the submitter's environment) and the script readable by everyone.
    /// Run at startup; a folder already closed is not looked into.
    pub fn secure_job_dirs(&self) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        std::fs::create_dir_all(&self.jobs_dir)?;
        std::fs::set_permissions(&self.jobs_dir, std::fs::Permissions::from_mode(JOBS_DIR_MODE))?;
        for entry in std::fs::read_dir(&self.jobs_dir)? {
            let entry = entry?;
            if entry.file_name().to_str().is_none_or(|name| name.parse::<i64>().is_err()) {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else { continue };
            if !meta.is_dir() || meta.mode() & 0o044 == 0 {
                continue;
            }
            // The files first: the folder's mode says whether this was done.
            for name in ["spec.json", "status.json", "supervisor.log", "supervisor.pid", "script", "cancel"] {
                let path = entry.path().join(name);
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                    let mode = if name == "script" { 0o700 } else { 0o600 };
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
                }
            }
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(JOBS_DIR_MODE))?;
        }
        Ok(())
    }

    /// Writes the job's directory and starts its supervisor.
    pub fn launch(&self, spec: &LaunchSpec) -> Result<(), BackendError> {
        let dir = self.job_dir(spec.job_id);
        let io = |source| BackendError::JobDir { path: dir.display().to_string(), source };
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                // A relaunch after a requeue starts clean.
                for stale in ["status.json", "cancel", "preempt", "signal", "supervisor.pid"] {
                    let _ = std::fs::remove_file(dir.join(stale));
                }
            }
            Err(_) => {
                std::fs::create_dir_all(&dir).map_err(io)?;
                std::fs::set_permissions(&self.jobs_dir, std::fs::Permissions::from_mode(JOBS_DIR_MODE)).map_err(io)?;
            }
        }
        // The directory and everything the supervisor reads from it stay the
        // server's (root's), readable by it alone: a job's user who owned the
        // directory could swap spec.json for one that runs as root, and
        // spec.json holds the submitter's environment. The job's user may
        // pass through it (0711) to run the script, which is theirs alone:
        // `exec_as` runs it after taking the user's ids.
        let dir_mode = if spec.run_as.is_some() { 0o711 } else { 0o700 };
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(dir_mode)).map_err(io)?;
        write_script(&dir.join("script"), &spec.script, spec.run_as).map_err(io)?;
        // Not synced: after a crash of the machine the job is gone with it,
        // and the store, not this file, says what to do with it.
        write_replacing(&dir.join("spec.json"), &spec_to_json(spec).to_string()).map_err(io)?;
        // Live before the launcher forks: a pass between the fork and the
        // supervisor writing its pid must not take the job for lost.
        self.live.lock().unwrap_or_else(|e| e.into_inner()).insert(spec.job_id);
        if self.send_to_launcher(&dir) {
            return Ok(());
        }
        let log = create_private(&dir.join("supervisor.log")).map_err(io)?;
        let mut child = Command::new(&self.exe)
            .arg(SUPERVISOR_MARKER)
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .inspect_err(|_| {
                self.live.lock().unwrap_or_else(|e| e.into_inner()).remove(&spec.job_id);
            })
            .map_err(BackendError::Spawn)?;
        // A waiter reaps the supervisor (no zombies) and reports its exit.
        let (live, on_exit, job_id) = (self.live.clone(), self.on_exit.clone(), spec.job_id);
        std::thread::spawn(move || {
            let _ = child.wait();
            live.lock().unwrap_or_else(|e| e.into_inner()).remove(&job_id);
            on_exit();
        });
        Ok(())
    }

    /// What became of a job this or an earlier server launched.
    pub fn poll(&self, job_id: i64) -> JobProgress {
        let dir = self.job_dir(job_id);
        if let Ok(text) = std::fs::read_to_string(dir.join("status.json")) {
            return match serde_json::from_str::<Value>(&text).ok().as_ref().and_then(outcome_from_json) {
                Some(outcome) => JobProgress::Ended(outcome),
                None => JobProgress::Lost {
                    detail: format!("unreadable status file {}", dir.join("status.json").display()),
                    last_alive_ms: modified_ms(&dir.join("status.json")),
                },
            };
        }
        if self.live.lock().unwrap_or_else(|e| e.into_inner()).contains(&job_id) {
            return JobProgress::Running;
        }
        match std::fs::read_to_string(dir.join("supervisor.pid")).ok().and_then(|t| t.trim().parse::<i32>().ok()) {
            Some(pid) if procfs::is_alive_with(pid, SUPERVISOR_MARKER) => JobProgress::Running,
            Some(_) => {
                // It may have written its status between our two reads.
                if dir.join("status.json").exists() {
                    return self.poll(job_id);
                }
                JobProgress::Lost {
                    detail: "the job's supervisor ended without recording how the job ended".into(),
                    last_alive_ms: modified_ms(&dir.join("supervisor.pid")),
                }
            }
            None if dir.join("spec.json").exists() => {
                JobProgress::Lost {
                    detail: "the job's supervisor never started; see supervisor.log in the job directory".into(),
                    // It never ran: charged up to its launch.
                    last_alive_ms: modified_ms(&dir.join("spec.json")),
                }
            }
            None => JobProgress::NotLaunched,
        }
    }

    /// Asks the supervisor to send `signal` to the job's processes.
    pub fn signal(&self, job_id: i64, signal: i32) -> Result<(), BackendError> {
        let dir = self.job_dir(job_id);
        write_atomically(&dir.join("signal"), &format!("{signal}\n"))
            .map_err(|source| BackendError::JobDir { path: dir.display().to_string(), source })
    }

    /// Asks the supervisor to end a guest job for the owner of its node:
    /// SIGTERM now, SIGKILL after `grace_secs`; it ends as PREEMPTED.
    pub fn preempt(&self, job_id: i64, grace_secs: u64) -> Result<(), BackendError> {
        let dir = self.job_dir(job_id);
        write_atomically(&dir.join("preempt"), &format!("{grace_secs}\n"))
            .map_err(|source| BackendError::JobDir { path: dir.display().to_string(), source })
    }

    /// Asks the supervisor to end the job (SIGTERM, grace, SIGKILL).
    pub fn cancel(&self, job_id: i64) -> Result<(), BackendError> {
        let dir = self.job_dir(job_id);
        write_atomically(&dir.join("cancel"), "cancel\n")
            .map_err(|source| BackendError::JobDir { path: dir.display().to_string(), source })
    }
}

/// Writes the job's script afresh, 0700 and, for a job run as a user,
/// owned by that user: they run it and may read it; no one else may.
fn write_script(path: &Path, text: &str, run_as: Option<RunAs>) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    // A new file, so that a relaunch never writes through one the user
    // owned (and may have changed) since the last launch.
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o700).open(path)?;
    file.write_all(text.as_bytes())?;
    if let Some(user) = run_as {
        std::os::unix::fs::fchown(&file, Some(user.uid), Some(user.gid))?;
    }
    // The mode without the umask: the user must be able to run it.
    file.set_permissions(std::fs::Permissions::from_mode(0o700))
}

/// The launcher: `lushan exec-job --launcher`, started by the server. For
/// each job directory read from stdin it forks a supervisor, which is
/// `run_supervisor` in the forked copy of this process: no program to
/// load, where `exec` of this binary costs about 2 ms here (a third of a
/// trivial job's life). Each supervisor writes its job's id to stdout when
/// it ends. The launcher ends when the server closes its stdin (the
/// server stopped or started another); supervisors outlive it.
pub fn run_launcher() -> i32 {
    use std::io::Read;
    let _ = nix::unistd::setsid();
    let stdin = std::io::stdin();
    // Read without a buffer of std's: `poll` must see every byte not yet taken.
    let mut raw = std::fs::File::from(match stdin.as_fd().try_clone_to_owned() {
        Ok(fd) => fd,
        Err(err) => {
            eprintln!("launcher: no stdin: {err}");
            return 1;
        }
    });
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let dir = PathBuf::from(String::from_utf8_lossy(&line[..end]).into_owned());
            if let Err(err) = fork_supervisor(&dir) {
                // Said as if its supervisor had ended: the server stops
                // counting it live, finds no supervisor.pid and ends it
                // NODE_FAIL, pointing at supervisor.log.
                let detail = format!("cannot fork a supervisor for {}: {err}", dir.display());
                eprintln!("launcher: {detail}");
                let _ = create_private(&dir.join("supervisor.log"))
                    .and_then(|mut log| log.write_all(format!("{detail}\n").as_bytes()));
                report_end(&dir);
            }
        }
        // Reap the supervisors that ended: no zombies while jobs run.
        while let Ok(status) = nix::sys::wait::waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
            if status == nix::sys::wait::WaitStatus::StillAlive {
                break;
            }
        }
        let mut fds = [nix::poll::PollFd::new(raw.as_fd(), nix::poll::PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(1000u16)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(err) => {
                eprintln!("launcher: cannot wait for requests: {err}");
                return 1;
            }
        }
        match raw.read(&mut chunk) {
            Ok(0) => return 0,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => {
                eprintln!("launcher: cannot read a request: {err}");
                return 1;
            }
        }
    }
}

/// Forks one supervisor for `dir`; the child never returns.
#[allow(unsafe_code)]
fn fork_supervisor(dir: &Path) -> nix::Result<()> {
    // SAFETY: the launcher is single-threaded (no runtime, no threads:
    // `main` dispatches to it before starting anything), so the child is a
    // whole copy of it, with no lock held by a thread that does not exist
    // there. The child runs ordinary Rust, as a freshly exec'd supervisor
    // would, and leaves with `exit`.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { .. } => Ok(()),
        nix::unistd::ForkResult::Child => {
            if let Ok(log) = create_private(&dir.join("supervisor.log")) {
                let _ = nix::unistd::dup2_stderr(&log);
            }
            let code = run_supervisor(dir);
            report_end(dir);
            std::process::exit(code);
        }
    }
}

/// Tells the server that the supervisor for `dir` is done: its job id on
/// the launcher's stdout (one short write: atomic on a pipe).
fn report_end(dir: &Path) {
    if let Some(id) = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<i64>().ok()) {
        let _ = std::io::stdout().write_all(format!("{id}\n").as_bytes());
        let _ = std::io::stdout().flush();
    }
}

/// The supervisor: `lushan exec-job DIR`. Returns the process exit code.
pub fn run_supervisor(dir: &Path) -> i32 {
    // A session of our own: the server's death or its terminal's hangup does
    // not reach the job.
    let _ = nix::unistd::setsid();
    let _ = create_private(&dir.join("supervisor.pid"))
        .and_then(|mut file| file.write_all(format!("{}\n", std::process::id()).as_bytes()));
    let start_ms = now_ms();
    let finish = |state: JobState, exit_code: i64, signal: i64, max_rss_kib: u64, detail: &str| {
        // The end is taken now, however late the file is written.
        let status = json!({
            "state": state.as_str(),
            "exit_code": exit_code,
            "signal": signal,
            "start_ms": start_ms,
            "end_ms": now_ms(),
            "max_rss_kib": max_rss_kib,
            "total_cpu_ms": children_cpu_ms(),
            "detail": detail,
        });
        write_status(&dir.join("status.json"), &status.to_string(), STATUS_RETRY, STATUS_PATIENCE)
    };
    let spec = std::fs::read_to_string(dir.join("spec.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|value| spec_from_json(&value, String::new()));
    let Some(spec) = spec else {
        return finish(JobState::Failed, 1, 0, 0, "the job's spec.json is missing or unreadable");
    };
    match supervise(dir, &spec) {
        Ok(end) => finish(end.state, end.exit_code, end.signal, end.max_rss_kib, &end.detail),
        Err(detail) => finish(JobState::Failed, 1, 0, 0, &detail),
    }
}

/// Writes the job's status, retrying every `retry` for up to `patience`
/// while it fails: on a full disk, a supervisor that gave up at once left
/// its job to be ended NODE_FAIL, charged until a server noticed. Returns
/// the supervisor's exit code.
fn write_status(path: &Path, text: &str, retry: Duration, patience: Duration) -> i32 {
    let since = Instant::now();
    let mut said = false;
    // Not `eprintln!`: stderr is supervisor.log, on the same full disk, and
    // `eprintln!` panics when its write fails.
    let say = |line: String| {
        let _ = writeln!(std::io::stderr(), "{line}");
    };
    loop {
        match write_atomically(path, text) {
            Ok(()) => return 0,
            Err(err) if since.elapsed() >= patience => {
                say(format!("cannot write {}, giving up: {err}", path.display()));
                return 1;
            }
            Err(err) => {
                if !said {
                    say(format!("cannot write {} (retrying every {retry:?}): {err}", path.display()));
                    said = true;
                }
                std::thread::sleep(retry);
            }
        }
    }
}

/// CPU time of every process this supervisor waited for, and their own
/// waited-for descendants: the job's processes.
fn children_cpu_ms() -> i64 {
    use nix::sys::resource::{UsageWho, getrusage};
    match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(usage) => {
            let ms = |t: nix::sys::time::TimeVal| t.tv_sec() * 1000 + t.tv_usec() / 1000;
            ms(usage.user_time()) + ms(usage.system_time())
        }
        Err(_) => 0,
    }
}

struct End {
    state: JobState,
    exit_code: i64,
    signal: i64,
    max_rss_kib: u64,
    detail: String,
}

fn open_output(path: &Path, append: bool) -> Result<std::fs::File, String> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).append(append).truncate(!append);
    open_without_waiting(path, &mut options)
}

fn open_input(path: &Path) -> Result<std::fs::File, String> {
    open_without_waiting(path, std::fs::OpenOptions::new().read(true))
        .map_err(|err| err.replacen("cannot open", "cannot open input", 1))
}

/// Opens one of the job's files without ever waiting: a FIFO's open blocks
/// until its other end is opened, and a supervisor stuck there would never
/// enforce the time limit or see a cancel. A FIFO that no one reads is
/// refused at once (the job fails, saying why); one that is read, or one
/// opened for reading, is used. The file is then made blocking again, as
/// the job's programs expect.
fn open_without_waiting(path: &Path, options: &mut std::fs::OpenOptions) -> Result<std::fs::File, String> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    use std::os::unix::fs::OpenOptionsExt;
    let file = options.custom_flags(OFlag::O_NONBLOCK.bits()).open(path).map_err(|err| {
        if err.raw_os_error() == Some(nix::errno::Errno::ENXIO as i32) {
            format!(
                "cannot open {}: it is a FIFO that no process reads (Lushan does not wait for a reader)",
                path.display()
            )
        } else {
            format!("cannot open {}: {err}", path.display())
        }
    })?;
    let flags =
        fcntl(&file, FcntlArg::F_GETFL).map_err(|e| format!("cannot read the flags of {}: {e}", path.display()))?;
    let blocking = OFlag::from_bits_truncate(flags) - OFlag::O_NONBLOCK;
    fcntl(&file, FcntlArg::F_SETFL(blocking)).map_err(|e| format!("cannot make {} blocking: {e}", path.display()))?;
    Ok(file)
}

/// Runs `open` with the job's user's effective ids and groups, so a root
/// supervisor opens the job's files with exactly the rights of the job's
/// user: a job asking for `-o /etc/passwd` or `-i /etc/shadow` gets
/// "permission denied", as it would under Slurm, and a file its group may
/// read is read.
fn as_user<T>(run_as: Option<RunAs>, open: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    use nix::unistd::{Gid, Uid, getgroups, setegid, seteuid, setgroups};
    let Some(user) = run_as else { return open() };
    let own_groups = getgroups().map_err(|e| format!("cannot read the supervisor's groups: {e}"))?;
    setgroups(&user_groups(user)).map_err(|e| format!("cannot take the job's groups: {e}"))?;
    let back = || -> Result<(), String> {
        seteuid(Uid::from_raw(0)).map_err(|e| format!("cannot return to root: {e}"))?;
        setegid(Gid::from_raw(0)).map_err(|e| format!("cannot return to root's group: {e}"))?;
        setgroups(&own_groups).map_err(|e| format!("cannot return to root's groups: {e}"))
    };
    if let Err(err) = setegid(Gid::from_raw(user.gid)) {
        back()?;
        return Err(format!("cannot take the job's group: {err}"));
    }
    if let Err(err) = seteuid(Uid::from_raw(user.uid)) {
        back()?;
        return Err(format!("cannot take the job's user: {err}"));
    }
    let result = open();
    // Back to root for the rest of the supervision (status file, signals).
    back()?;
    result
}

/// The job's user's groups as a login gives them (`initgroups`): the
/// primary group and every group that lists the user, as Slurm's jobs get.
/// A uid without a name in the user database gets its primary group only.
pub fn user_groups(user: RunAs) -> Vec<nix::unistd::Gid> {
    use nix::unistd::{Gid, Uid, User, getgrouplist};
    let primary = Gid::from_raw(user.gid);
    let name = User::from_uid(Uid::from_raw(user.uid)).ok().flatten().map(|u| u.name);
    let listed = name.and_then(|n| std::ffi::CString::new(n).ok()).and_then(|n| getgrouplist(&n, primary).ok());
    listed.unwrap_or_else(|| vec![primary])
}

/// `lushan exec-as DIR`: the first program of a job run as its user (a
/// root supervisor starts it with an empty environment). It takes the
/// user's groups, group and user from `DIR/spec.json`, enters the job's
/// working directory as that user, and becomes the job's script with the
/// job's arguments and environment. Only then does anything the user
/// controls (the environment: `LD_PRELOAD`...) reach a process. Returns
/// only on failure, after saying why on the job's stderr.
pub fn exec_as(dir: &Path) -> i32 {
    use nix::unistd::{Gid, Uid, execve, setgid, setgroups, setuid};
    use std::ffi::CString;
    let fail = |what: String| {
        eprintln!("lushan: cannot start the job: {what}");
        127
    };
    let spec = std::fs::read_to_string(dir.join("spec.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|value| spec_from_json(&value, String::new()));
    let Some(spec) = spec else { return fail("its spec.json is missing or unreadable".into()) };
    let Some(user) = spec.run_as else { return fail("it names no user to run as".into()) };
    if let Err(err) = setgroups(&user_groups(user)) {
        return fail(format!("cannot take the user's groups: {err}"));
    }
    if let Err(err) = setgid(Gid::from_raw(user.gid)) {
        return fail(format!("cannot take the user's group: {err}"));
    }
    if let Err(err) = setuid(Uid::from_raw(user.uid)) {
        return fail(format!("cannot take the user's id: {err}"));
    }
    if let Err(err) = std::env::set_current_dir(&spec.workdir) {
        return fail(format!("cannot enter {}: {err}", spec.workdir.display()));
    }
    let c = |text: &str| CString::new(text).map_err(|_| format!("{text:?} contains a NUL byte"));
    let script = dir.join("script");
    let argv: Result<Vec<CString>, String> = std::iter::once(script.display().to_string().as_str())
        .chain(spec.args.iter().map(String::as_str))
        .map(c)
        .collect();
    let env: Result<Vec<CString>, String> = spec.env.iter().map(|(k, v)| c(&format!("{k}={v}"))).collect();
    let (argv, env) = match (argv, env) {
        (Ok(argv), Ok(env)) => (argv, env),
        (Err(err), _) | (_, Err(err)) => return fail(err),
    };
    match c(&script.display().to_string()) {
        Ok(path) => {
            let err = execve(&path, &argv, &env).unwrap_err();
            fail(format!("cannot run {}: {err}", script.display()))
        }
        Err(err) => fail(err),
    }
}

/// The machine's ids of the job's CPUs: the scheduler numbers the CPUs we
/// may use 0, 1, 2...; the machine may number them otherwise.
fn real_cpus(cpus: &[u32]) -> Vec<usize> {
    use nix::sched::{CpuSet, sched_getaffinity};
    let Ok(allowed) = sched_getaffinity(nix::unistd::Pid::from_raw(0)) else { return Vec::new() };
    let usable: Vec<usize> = (0..CpuSet::count()).filter(|i| allowed.is_set(*i).unwrap_or(false)).collect();
    cpus.iter().filter_map(|cpu| usable.get(*cpu as usize).copied()).collect()
}

fn bind_to_cpus(cpus: &[u32]) {
    use nix::sched::{CpuSet, sched_setaffinity};
    use nix::unistd::Pid;
    let mut set = CpuSet::new();
    let mut any = false;
    for real in real_cpus(cpus) {
        any |= set.set(real).is_ok();
    }
    if any && let Err(err) = sched_setaffinity(Pid::from_raw(0), &set) {
        eprintln!("cannot bind to CPUs {cpus:?}: {err}");
    }
}

fn signal_group(pgid: i32, signal: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), signal);
}

fn supervise(dir: &Path, spec: &LaunchSpec) -> Result<End, String> {
    // With a delegated cgroup the kernel enforces CPUs and memory for all of
    // the job's processes; otherwise affinity and the watcher below do.
    let cgroup = match spec.cgroup_root.as_deref().and_then(crate::cgroup::CgroupRoot::detect) {
        Some(root) => {
            let job = root
                .create_job(spec.job_id, &real_cpus(&spec.cpus), spec.memory_limit_mb)
                .map_err(|e| format!("cannot create the job's cgroup: {e}"))?;
            job.add_process(std::process::id()).map_err(|e| format!("cannot enter the job's cgroup: {e}"))?;
            Some(job)
        }
        None => None,
    };
    bind_to_cpus(&spec.cpus);
    let (stdout, stderr, stdin) = as_user(spec.run_as, || {
        let stdout = open_output(&spec.stdout, spec.append)?;
        let stderr = if spec.stderr == spec.stdout {
            stdout.try_clone().map_err(|e| e.to_string())?
        } else {
            open_output(&spec.stderr, spec.append)?
        };
        let stdin = open_input(&spec.stdin)?;
        Ok((stdout, stderr, stdin))
    })?;
    let mut command = match spec.run_as {
        // Rust's `Command::uid` drops every supplementary group, and a job
        // needs its user's (shared project directories are group-owned):
        // `exec_as` takes them, then the user, then becomes the script.
        Some(_) => {
            let lushan = std::env::current_exe().map_err(|e| format!("cannot find the lushan binary: {e}"))?;
            let mut command = Command::new(lushan);
            command.arg("exec-as").arg(dir).env_clear();
            command
        }
        None => {
            let mut command = Command::new(dir.join("script"));
            command
                .args(&spec.args)
                .env_clear()
                .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .current_dir(&spec.workdir);
            command
        }
    };
    command.stdin(stdin).stdout(stdout).stderr(stderr).process_group(0);
    let mut child = command.spawn().map_err(|err| format!("cannot start the job script: {err}"))?;
    let pgid = child.id() as i32;
    // A waiter thread reports the exit the moment it happens; the loop below
    // wakes for it, or every 20 ms to watch time, memory and requests.
    let (exited_tx, exited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited_tx.send(child.wait());
    });
    let started = Instant::now();
    let mut max_rss_kib = 0u64;
    // Why the job is being ended, since when, and how long it has between
    // SIGTERM and SIGKILL.
    let mut ending: Option<(JobState, String, Instant, Duration)> = None;
    let kill_wait = Duration::from_secs(spec.kill_wait_secs);
    let mut last_memory_check = Instant::now() - Duration::from_secs(1);
    let mut last_heartbeat = Instant::now();
    let heartbeat_file = dir.join("supervisor.pid");
    let mut exit = None;
    loop {
        if exit.is_none() {
            exit = match exited.recv_timeout(Duration::from_millis(20)) {
                Ok(status) => Some(status),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err("lost track of the job script".into());
                }
            };
        }
        match exit.take().transpose() {
            Ok(Some(status)) => {
                // Whatever the script left behind in its group goes with it.
                signal_group(pgid, nix::sys::signal::Signal::SIGKILL);
                let exit_code = status.code().map(i64::from).unwrap_or(0);
                let signal = status.signal().map(i64::from).unwrap_or(0);
                if let Some(cgroup) = &cgroup {
                    max_rss_kib = max_rss_kib.max(cgroup.peak_kib().unwrap_or(0));
                    if ending.is_none() && cgroup.oom_killed() {
                        ending = Some((
                            JobState::OutOfMemory,
                            "the kernel killed the job for using more memory than it asked for".into(),
                            Instant::now(),
                            kill_wait,
                        ));
                    }
                    let _ = cgroup.kill();
                    let _ = cgroup.remove();
                }
                let (state, detail) = match ending {
                    Some((state, detail, _, _)) => (state, detail),
                    None if exit_code == 0 && signal == 0 => (JobState::Completed, String::new()),
                    None if signal != 0 => (JobState::Failed, format!("the job script was killed by signal {signal}")),
                    None => (JobState::Failed, format!("the job script exited with code {exit_code}")),
                };
                return Ok(End { state, exit_code, signal, max_rss_kib, detail });
            }
            Ok(None) => {}
            Err(err) => return Err(format!("cannot wait for the job script: {err}")),
        }
        if ending.is_none() {
            if spec.time_limit_secs > 0 && started.elapsed() >= Duration::from_secs(spec.time_limit_secs) {
                ending = Some((JobState::Timeout, "the job reached its time limit".into(), Instant::now(), kill_wait));
            } else if dir.join("cancel").exists() {
                ending = Some((JobState::Cancelled, "cancelled".into(), Instant::now(), kill_wait));
            } else if let Ok(text) = std::fs::read_to_string(dir.join("preempt")) {
                let grace = Duration::from_secs(text.trim().parse().unwrap_or(spec.kill_wait_secs));
                ending = Some((
                    JobState::Preempted,
                    "preempted by the owner of a node it ran on".into(),
                    Instant::now(),
                    grace,
                ));
            }
            if ending.is_some() {
                signal_group(pgid, nix::sys::signal::Signal::SIGTERM);
            }
        }
        // `lushan cancel --signal`: deliver, then forget the request.
        if let Ok(text) = std::fs::read_to_string(dir.join("signal")) {
            let _ = std::fs::remove_file(dir.join("signal"));
            if let Some(signal) =
                text.trim().parse::<i32>().ok().and_then(|n| nix::sys::signal::Signal::try_from(n).ok())
            {
                signal_group(pgid, signal);
            }
        }
        if last_heartbeat.elapsed() >= HEARTBEAT {
            last_heartbeat = Instant::now();
            // An mtime needs no free space: this works on a full disk too.
            let _ =
                std::fs::File::open(&heartbeat_file).and_then(|file| file.set_modified(std::time::SystemTime::now()));
        }
        if last_memory_check.elapsed() >= Duration::from_millis(250) {
            last_memory_check = Instant::now();
            let rss = procfs::group_rss_kib(pgid);
            max_rss_kib = max_rss_kib.max(rss);
            if cgroup.is_none() && spec.memory_limit_mb > 0 && rss > spec.memory_limit_mb * 1024 && ending.is_none() {
                // Over its memory: killed at once, as the kernel's OOM killer would.
                ending = Some((
                    JobState::OutOfMemory,
                    format!("the job used {} MiB, over its limit of {} MiB", rss / 1024, spec.memory_limit_mb),
                    Instant::now(),
                    kill_wait,
                ));
                signal_group(pgid, nix::sys::signal::Signal::SIGKILL);
            }
        }
        if let Some((_, _, since, wait)) = &ending
            && since.elapsed() >= *wait
        {
            signal_group(pgid, nix::sys::signal::Signal::SIGKILL);
            if let Some(cgroup) = &cgroup {
                let _ = cgroup.kill();
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// A slice of a job's output file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputChunk {
    pub data: Vec<u8>,
    pub offset: u64,
    pub size: u64,
}

/// Why a job's output could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0} does not exist (yet)")]
    NotFound(String),
    #[error("{0} is a symbolic link; job output is read only from regular files")]
    Symlink(String),
    #[error("{0} is not a regular file (a FIFO, a device or a directory); job output is read only from regular files")]
    NotRegular(String),
    #[error("{0} does not belong to the job's user")]
    NotOwned(String),
    #[error("cannot read {path} as the job's user: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Reads up to `limit` bytes of `path` from `offset`, as `reader` (the
/// user the job ran as) could, and only from a regular file of theirs.
///
/// A root server opens the file with the reader's file-system ids (this
/// thread's alone), so a path the user chose cannot make it open a device
/// or file the user could not; the open never follows a final symbolic link
/// and never waits (a FIFO's open would), and anything but a regular file
/// owned by the reader is refused. It does blocking IO: callers on an async
/// runtime run it on a blocking thread.
pub fn read_output(path: &Path, offset: u64, limit: u64, reader: RunAs) -> Result<OutputChunk, OutputError> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::MetadataExt;
    let shown = || path.display().to_string();
    let io = |source| OutputError::Io { path: shown(), source };
    let mut file = {
        let _ids = FsIds::take(reader).map_err(io)?;
        open_for_reading(path).map_err(|err| match err.raw_os_error() {
            Some(code) if code == nix::errno::Errno::ELOOP as i32 => OutputError::Symlink(shown()),
            _ if err.kind() == std::io::ErrorKind::NotFound => OutputError::NotFound(shown()),
            _ => io(err),
        })?
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(OutputError::NotRegular(shown()));
    }
    if meta.uid() != reader.uid {
        return Err(OutputError::NotOwned(shown()));
    }
    let size = meta.len();
    let start = offset.min(size);
    file.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut data = Vec::new();
    file.take(limit).read_to_end(&mut data).map_err(io)?;
    Ok(OutputChunk { data, offset: start, size })
}

fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    use nix::fcntl::OFlag;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)
}

/// This thread's file-system user and group ids set to a job's user's
/// while it lives, and set back when dropped. `setfsuid` changes the
/// calling thread only (unlike `seteuid`, which glibc applies to every
/// thread of the process), so the server's other threads keep root's
/// rights. The supplementary groups stay the server's: the owner check
/// after the open is what decides what is read.
struct FsIds {
    previous: Option<(nix::unistd::Uid, nix::unistd::Gid)>,
}

impl FsIds {
    fn take(user: RunAs) -> std::io::Result<FsIds> {
        use nix::unistd::{Gid, Uid, geteuid, setfsgid, setfsuid};
        if geteuid().as_raw() == user.uid {
            return Ok(FsIds { previous: None });
        }
        let previous_gid = setfsgid(Gid::from_raw(user.gid));
        let previous_uid = setfsuid(Uid::from_raw(user.uid));
        let ids = FsIds { previous: Some((previous_uid, previous_gid)) };
        // Each call answers the id before it: asking again tells whether the
        // change took (it does not for a server without the right to).
        if setfsuid(Uid::from_raw(user.uid)).as_raw() != user.uid
            || setfsgid(Gid::from_raw(user.gid)).as_raw() != user.gid
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "this server cannot take the job's user's file-system ids",
            ));
        }
        Ok(ids)
    }
}

impl Drop for FsIds {
    fn drop(&mut self) {
        if let Some((uid, gid)) = self.previous {
            nix::unistd::setfsuid(uid);
            nix::unistd::setfsgid(gid);
        }
    }
}
