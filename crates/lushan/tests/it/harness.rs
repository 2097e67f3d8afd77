//! Starts `lushan up`/`serve` as a child process on port 0 in a temporary
//! directory, reads the "listening on" line (no fixed ports, no sleeps),
//! and kills the server on drop. Logs stay in the temporary directory.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_lushan");

pub struct Server {
    child: Option<Child>,
    pub url: String,
    /// Everything `up` printed on stdout.
    pub banner: Vec<String>,
    pub home: PathBuf,
}

/// A scratch directory with a HOME for the CLI.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts `lushan <args>` (up or serve) with this sandbox's HOME.
    pub fn start(&self, args: &[&str]) -> Result<Server, String> {
        start_in(&self.path("home"), self.dir.path(), args)
    }

    /// `lushan up` on a free port with `config` as its `lushan.toml`.
    pub fn up(&self, config: &str) -> Server {
        let path = self.path("lushan.toml");
        std::fs::write(&path, config).unwrap();
        self.start(&["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &path.display().to_string()])
            .unwrap()
    }
}

fn base_command(home: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("LUSHAN_URL")
        .env_remove("LUSHAN_TOKEN")
        .env_remove("LUSHAN_CLI_CONFIG")
        .env_remove("LUSHAN_DATABASE_URL")
        .env_remove("LUSHAN_JSON")
        .env("LUSHAN_INSECURE_FAST_PASSWORD_HASH", "1");
    command
}

fn start_in(home: &Path, cwd: &Path, args: &[&str]) -> Result<Server, String> {
    std::fs::create_dir_all(home).unwrap();
    let log = std::fs::File::create(cwd.join(format!("server-{}.log", std::process::id()))).unwrap();
    let mut child =
        base_command(home).current_dir(cwd).args(args).stdout(Stdio::piped()).stderr(Stdio::from(log)).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut banner = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                let url = line.strip_prefix("Lushan is listening on ").map(str::to_owned);
                banner.push(line);
                if let Some(url) = url {
                    return Ok(Server { child: Some(child), url, banner, home: home.to_owned() });
                }
            }
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                let log =
                    std::fs::read_to_string(cwd.join(format!("server-{}.log", std::process::id()))).unwrap_or_default();
                return Err(format!("server did not start ({status:?}); stdout: {banner:?}; stderr: {log}"));
            }
        }
    }
}

impl Server {
    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn banner_text(&self) -> String {
        self.banner.join("\n")
    }

    /// SIGKILL: the server gets no chance to clean up.
    pub fn kill9(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let status = child.wait().unwrap();
            assert!(status.success(), "server exited with {status}");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The result of one CLI run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.stdout))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the CLI with `home` as HOME (and so its saved configuration).
pub fn cli(home: &Path, args: &[&str]) -> Run {
    cli_with_stdin(home, args, "")
}

/// Runs the CLI in directory `dir` (where `submit` finds its script).
pub fn cli_in(home: &Path, dir: &Path, args: &[&str]) -> Run {
    std::fs::create_dir_all(home).unwrap();
    let output = base_command(home)
        .current_dir(dir)
        .env("SUBMIT_TEST_MARK", "yes")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    finish(output)
}

/// Runs the CLI in directory `dir` with `env` added to its environment.
pub fn cli_in_with_env(home: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    std::fs::create_dir_all(home).unwrap();
    let mut command = base_command(home);
    command.current_dir(dir).envs(env.iter().copied()).args(args).stdin(Stdio::null());
    finish(command.output().unwrap())
}

/// Runs the CLI as `cli` does, but gives up after `secs`: `None` when it
/// had not finished by then (it is killed), as with a server that hangs.
pub fn cli_within(home: &Path, args: &[&str], secs: u64) -> Option<Run> {
    std::fs::create_dir_all(home).unwrap();
    let mut child = base_command(home)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return Some(finish(child.wait_with_output().unwrap()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Runs the CLI in `dir` with `stdin` as its standard input.
pub fn cli_with_stdin_in(home: &Path, dir: &Path, args: &[&str], stdin: &str) -> Run {
    run_piped(home, Some(dir), args, stdin)
}

pub fn cli_with_stdin(home: &Path, args: &[&str], stdin: &str) -> Run {
    run_piped(home, None, args, stdin)
}

fn run_piped(home: &Path, dir: Option<&Path>, args: &[&str], stdin: &str) -> Run {
    std::fs::create_dir_all(home).unwrap();
    let mut command = base_command(home);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child =
        command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    finish(child.wait_with_output().unwrap())
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `secs`.
pub fn wait_for<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = std::time::Instant::now();
    let deadline = started + Duration::from_secs(secs);
    loop {
        if let Some(value) = check() {
            // Shown with a failing test's output: where its time went.
            if started.elapsed() > Duration::from_secs(3) {
                eprintln!("waited {:.1} s for {what}", started.elapsed().as_secs_f64());
            }
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Tenant `jxu`, its user `alice` (mapped to `unix_account` when given) as
/// PI of project `cfd-lab`, signed in; returns alice's HOME.
pub fn member_alice(sandbox: &Sandbox, server: &Server, unix_account: Option<&str>) -> PathBuf {
    let op = server.home.clone();
    cli(&op, &["admin", "tenant", "create", "jxu", "--sector", "university"]).ok();
    let mut create = vec!["admin", "user", "create", "alice", "--tenant", "jxu", "--password-stdin"];
    if let Some(account) = unix_account {
        create.extend(["--unix-account", account]);
    }
    cli_with_stdin(&op, &create, "alice-password\n").ok();
    cli(&op, &["admin", "project", "create", "cfd-lab", "--tenant", "jxu", "--pi", "alice"]).ok();
    cli(&op, &["admin", "topup", "jxu", "1000", "--ref", "TEST-JXU"]).ok();
    let alice = sandbox.path("alice");
    cli_with_stdin(&alice, &["login", "--url", &server.url, "alice", "--password-stdin"], "alice-password\n").ok();
    alice
}
