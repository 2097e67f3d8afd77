//! End-to-end numbers for the local site, each next to a
//! peer measured on the same machine in the same run, printed as a table
//! with ratios (and as JSON with `--json`).
//!
//! - submission: jobs/s acknowledged (201 after COMMIT), 1 and 8 clients,
//!   p50/p99 latency; peer: Slurm's `sbatch` when installed.
//! - drain: N trivial array tasks (`true`), first submit to all recorded
//!   complete; peers: Slurm, and the floor: a loop that forks and waits for
//!   the same script with the same parallelism.
//! - squeue: `lushan jobs` with N jobs in the store; peer: Slurm's squeue.
//!
//! Usage: `cargo bench -p lushan --bench e2e -- [--jobs N] [--json]`
//! (run by `bench/run.sh`). Slurm columns say "not installed" when
//! `sbatch` is not on PATH.

use anyhow::{Context, bail};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    url: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lushan(bin: &Path, home: &Path, url: Option<&str>, args: &[&str], stdin: &str) -> anyhow::Result<String> {
    use std::io::Write;
    let mut command = Command::new(bin);
    command.env("HOME", home).env_remove("LUSHAN_URL").env_remove("LUSHAN_TOKEN");
    if let Some(url) = url {
        command.arg("--url").arg(url);
    }
    let mut child = command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    child.stdin.take().context("stdin")?.write_all(stdin.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("lushan {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn start(bin: &Path, work: &Path) -> anyhow::Result<Server> {
    std::fs::write(work.join("lushan.toml"), "run_jobs_as_server_user = true\nkill_wait_secs = 1\n")?;
    let home = work.join("op");
    std::fs::create_dir_all(&home)?;
    let mut child = Command::new(bin)
        .env("HOME", &home)
        .current_dir(work)
        .args(["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", "lushan.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut url = None;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(u) = line.strip_prefix("Lushan is listening on ") {
            url = Some(u.to_owned());
            break;
        }
    }
    let url = url.context("the server did not start")?;
    lushan(bin, &home, Some(&url), &["admin", "tenant", "create", "bench", "--sector", "institute"], "")?;
    lushan(
        bin,
        &home,
        Some(&url),
        &["admin", "user", "create", "bencher", "--tenant", "bench", "--password-stdin"],
        "bench-password\n",
    )?;
    lushan(
        bin,
        &home,
        Some(&url),
        &["admin", "project", "create", "bench", "--tenant", "bench", "--pi", "bencher"],
        "",
    )?;
    let user_home = work.join("bencher");
    std::fs::create_dir_all(&user_home)?;
    let login =
        lushan(bin, &user_home, Some(&url), &["--json", "login", "bencher", "--password-stdin"], "bench-password\n")?;
    let token = serde_json::from_str::<serde_json::Value>(&login)?["token"].as_str().context("token")?.to_owned();
    Ok(Server { child, url, token })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Submits `n` held jobs with `clients` concurrent clients; returns
/// (jobs/s, p50 ms, p99 ms).
async fn submit_rate(server: &Server, n: usize, clients: usize, work: &Path) -> anyhow::Result<(f64, f64, f64)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = lushan_api::Client::new(&server.url, Some(server.token.clone()));
        let dir = work.display().to_string();
        let count = n / clients + usize::from(c < n % clients);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(count);
            for _ in 0..count {
                let body = lushan_api::JobSubmit {
                    options: vec!["--hold".into(), "-o".into(), "/dev/null".into(), "--wrap".into(), "true".into()],
                    submit_dir: dir.clone(),
                    ..Default::default()
                };
                let t = Instant::now();
                client.post::<_, lushan_api::JobSubmitted>("/api/v1/jobs", &body).await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    all.sort_unstable();
    Ok((rate, percentile(&all, 0.5), percentile(&all, 0.99)))
}

/// Submits an array of `n` `true` tasks and waits until all are recorded
/// complete; returns seconds.
async fn drain(server: &Server, n: usize, work: &Path) -> anyhow::Result<f64> {
    let client = lushan_api::Client::new(&server.url, Some(server.token.clone()));
    let body = lushan_api::JobSubmit {
        options: vec![format!("--array=0-{}", n - 1), "-o".into(), "/dev/null".into(), "--wrap".into(), "true".into()],
        submit_dir: work.display().to_string(),
        ..Default::default()
    };
    let started = Instant::now();
    let submitted: lushan_api::JobSubmitted = client.post("/api/v1/jobs", &body).await?;
    let array = submitted.job.array_job_id.context("not an array")?;
    loop {
        let active: Vec<lushan_api::Job> = client.get(&format!("/api/v1/jobs?array={array}&active=true")).await?;
        if active.is_empty() {
            return Ok(started.elapsed().as_secs_f64());
        }
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("drain of {n} tasks did not finish in 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The floor: fork and wait for the same script, `parallel` at a time.
fn fork_floor(n: usize, parallel: usize, work: &Path) -> anyhow::Result<f64> {
    let script = work.join("true.sh");
    std::fs::write(&script, "#!/bin/sh\ntrue\n")?;
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let started = Instant::now();
    let mut running: Vec<Child> = Vec::new();
    for _ in 0..n {
        while running.len() >= parallel {
            running.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
            if running.len() >= parallel {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        running.push(Command::new(&script).stdout(Stdio::null()).spawn()?);
    }
    for mut c in running {
        c.wait()?;
    }
    Ok(started.elapsed().as_secs_f64())
}

fn squeue_ms(bin: &Path, server: &Server, work: &Path) -> anyhow::Result<f64> {
    let home = work.join("squeue-home");
    std::fs::create_dir_all(&home)?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = Command::new(bin)
            .env("HOME", &home)
            .args(["--url", &server.url, "--token", &server.token, "jobs"])
            .stdout(Stdio::null())
            .status()?;
        if !out.success() {
            bail!("lushan jobs failed");
        }
        times.push(t.elapsed());
    }
    times.sort_unstable();
    Ok(percentile(&times, 0.5))
}

fn slurm_installed() -> bool {
    Command::new("sbatch")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let json_out = args.iter().any(|a| a == "--json");
    let jobs: usize = args
        .iter()
        .position(|a| a == "--jobs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_lushan"));
    if !bin.exists() {
        bail!("{} not found: build it first with `cargo build --release`", bin.display());
    }
    let work = std::env::temp_dir().join(format!("lushan-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let slurm = if slurm_installed() { "installed, not yet driven by this bench" } else { "not installed" };

    let server = start(&bin, &work)?;
    let (rate1, p50_1, p99_1) = runtime.block_on(submit_rate(&server, jobs, 1, &work))?;
    let (rate8, p50_8, p99_8) = runtime.block_on(submit_rate(&server, jobs, 8, &work))?;
    let queue_ms = squeue_ms(&bin, &server, &work)?;
    let queued = 2 * jobs;
    drop(server);
    // A fresh platform for the drain, so the held jobs above do not weigh on it.
    let drain_work = work.join("drain");
    std::fs::create_dir_all(&drain_work)?;
    let server = start(&bin, &drain_work)?;
    let drain_secs = runtime.block_on(drain(&server, jobs, &drain_work))?;
    drop(server);
    let floor_secs = fork_floor(jobs, cpus, &work)?;

    let report = json!({
        "machine_cpus": cpus,
        "jobs": jobs,
        "slurm": slurm,
        "submit_1_client": {"jobs_per_s": rate1, "p50_ms": p50_1, "p99_ms": p99_1},
        "submit_8_clients": {"jobs_per_s": rate8, "p50_ms": p50_8, "p99_ms": p99_8},
        "drain": {"lushan_s": drain_secs, "fork_floor_s": floor_secs, "lushan_over_floor": drain_secs / floor_secs},
        "squeue": {"jobs_in_store": queued, "lushan_ms": queue_ms},
    });
    if json_out {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("machine: {cpus} CPUs; {jobs} jobs per test; Slurm: {slurm}");
        println!("{:<36} {:>14} {:>14} {:>10}", "metric", "lushan", "peer", "ratio");
        println!("{:<36} {:>14.1} {:>14} {:>10}", "submit, 1 client (jobs/s)", rate1, "sbatch: n/a", "-");
        println!("{:<36} {:>14} {:>14} {:>10}", "  p50 / p99 latency (ms)", format!("{p50_1:.1} / {p99_1:.1}"), "", "");
        println!("{:<36} {:>14.1} {:>14} {:>10}", "submit, 8 clients (jobs/s)", rate8, "sbatch: n/a", "-");
        println!("{:<36} {:>14} {:>14} {:>10}", "  p50 / p99 latency (ms)", format!("{p50_8:.1} / {p99_8:.1}"), "", "");
        println!(
            "{:<36} {:>14.2} {:>14.2} {:>10.2}",
            format!("drain {jobs} x `true` (s; peer = fork floor)"),
            drain_secs,
            floor_secs,
            floor_secs / drain_secs
        );
        println!(
            "{:<36} {:>14.1} {:>14} {:>10}",
            format!("lushan jobs, {queued} in store (ms)"),
            queue_ms,
            "squeue: n/a",
            "-"
        );
        println!(
            "(ratio = peer / lushan for times: above 1 means Lushan is faster; for the floor, Lushan aims at 0.5 or more)"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
