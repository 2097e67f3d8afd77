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
    // The drain submits one array of `--jobs` tasks, which may be more than
    // the default MaxArraySize allows.
    std::fs::write(
        work.join("lushan.toml"),
        "run_jobs_as_server_user = true\nkill_wait_secs = 1\nmax_array_size = 1000001\n",
    )?;
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
    // Jobs are paid for: enough for every job the bench submits.
    lushan(bin, &home, Some(&url), &["admin", "topup", "bench", "100000000", "--ref", "BENCH-1"], "")?;
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
    cli_ms(bin, server, work, "jobs")
}

/// Median of 5 runs of `lushan COMMAND` (its table, not JSON).
fn cli_ms(bin: &Path, server: &Server, work: &Path, command: &str) -> anyhow::Result<f64> {
    let home = work.join("squeue-home");
    std::fs::create_dir_all(&home)?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = Command::new(bin)
            .env("HOME", &home)
            .args(["--url", &server.url, "--token", &server.token, command])
            .stdout(Stdio::null())
            .status()?;
        if !out.success() {
            bail!("lushan {command} failed");
        }
        times.push(t.elapsed());
    }
    times.sort_unstable();
    Ok(percentile(&times, 0.5))
}

/// Fills the store with `total` held jobs (arrays of 1000 tasks, one
/// submission each), then times `lushan jobs` and `lushan acct`.
async fn listing(bin: &Path, server: &Server, total: usize, work: &Path) -> anyhow::Result<(f64, f64)> {
    let client = lushan_api::Client::new(&server.url, Some(server.token.clone()));
    let mut left = total;
    while left > 0 {
        let n = left.min(1000);
        let body = lushan_api::JobSubmit {
            options: vec![
                format!("--array=0-{}", n - 1),
                "--hold".into(),
                "-o".into(),
                "/dev/null".into(),
                "--wrap".into(),
                "true".into(),
            ],
            submit_dir: work.display().to_string(),
            ..Default::default()
        };
        client.post::<_, lushan_api::JobSubmitted>("/api/v1/jobs", &body).await?;
        left -= n;
    }
    Ok((cli_ms(bin, server, work, "jobs")?, cli_ms(bin, server, work, "acct")?))
}

/// The same for Slurm: `total` held jobs in arrays of 1000, then the
/// medians of `squeue` and `sacct`; its jobs are cancelled afterwards.
fn slurm_listing(total: usize) -> anyhow::Result<(f64, f64)> {
    let mut left = total;
    while left > 0 {
        let n = left.min(1000);
        let array = format!("--array=0-{}", n - 1);
        sbatch(&["--parsable", "--hold", "-J", "lushanbench", &array, "-o", "/dev/null", "--wrap", "true"])?;
        left -= n;
    }
    let squeue = slurm_squeue_ms()?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let status = Command::new("sacct").stdout(Stdio::null()).status()?;
        if !status.success() {
            bail!("sacct failed");
        }
        times.push(t.elapsed());
    }
    times.sort_unstable();
    slurm_cancel_bench_jobs()?;
    Ok((squeue, percentile(&times, 0.5)))
}

/// Whether a Slurm cluster answers here (`bench/slurm-up.sh` starts one).
fn slurm_up() -> bool {
    Command::new("sinfo").args(["-h", "-o", "%t"]).output().is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

fn sbatch(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("sbatch").args(args).output()?;
    if !out.status.success() {
        bail!("sbatch {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `sbatch` of `n` held jobs from `clients` threads: (jobs/s, p50, p99).
fn slurm_submit_rate(n: usize, clients: usize) -> anyhow::Result<(f64, f64, f64)> {
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let count = n / clients + usize::from(c < n % clients);
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let mut latencies = Vec::with_capacity(count);
                for _ in 0..count {
                    let t = Instant::now();
                    sbatch(&["--parsable", "--hold", "-J", "lushanbench", "-o", "/dev/null", "--wrap", "true"])?;
                    latencies.push(t.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for thread in threads {
        all.extend(thread.join().map_err(|_| anyhow::anyhow!("a submit thread panicked"))??);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    all.sort_unstable();
    Ok((rate, percentile(&all, 0.5), percentile(&all, 0.99)))
}

fn slurm_squeue_ms() -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let status = Command::new("squeue").stdout(Stdio::null()).status()?;
        if !status.success() {
            bail!("squeue failed");
        }
        times.push(t.elapsed());
    }
    times.sort_unstable();
    Ok(percentile(&times, 0.5))
}

fn slurm_cancel_bench_jobs() -> anyhow::Result<()> {
    Command::new("scancel").args(["-n", "lushanbench"]).status()?;
    // Wait until they are gone, so they do not weigh on the next test.
    for _ in 0..600 {
        let out = Command::new("squeue").args(["-h", "-n", "lushanbench", "-t", "PD,R"]).output()?;
        if out.stdout.is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("Slurm did not clear the cancelled jobs")
}

/// An array of `n` `true` tasks through Slurm, until none is left in squeue.
fn slurm_drain(n: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let array = format!("--array=0-{}", n - 1);
    let id = sbatch(&["--parsable", "-J", "lushanbench", &array, "-o", "/dev/null", "--wrap", "true"])?;
    loop {
        let out = Command::new("squeue").args(["-h", "-r", "-j", &id]).output()?;
        if out.status.success() && out.stdout.is_empty() {
            return Ok(started.elapsed().as_secs_f64());
        }
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("Slurm's drain of {n} tasks did not finish in 30 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct SlurmNumbers {
    submit1: (f64, f64, f64),
    submit8: (f64, f64, f64),
    squeue_ms: f64,
    drain_s: f64,
}

fn slurm_numbers(jobs: usize) -> anyhow::Result<SlurmNumbers> {
    let submit1 = slurm_submit_rate(jobs, 1)?;
    let submit8 = slurm_submit_rate(jobs, 8)?;
    let squeue_ms = slurm_squeue_ms()?;
    slurm_cancel_bench_jobs()?;
    let drain_s = slurm_drain(jobs)?;
    Ok(SlurmNumbers { submit1, submit8, squeue_ms, drain_s })
}

/// `--listing 10000,100000` (the default): store sizes for the listing test; `--listing none` skips it.
fn listing_sizes(args: &[String]) -> Vec<usize> {
    match args.iter().position(|a| a == "--listing").and_then(|i| args.get(i + 1)) {
        Some(list) => list.split(',').filter_map(|n| n.parse().ok()).collect(),
        None => vec![10_000, 100_000],
    }
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
    let slurm_running = slurm_up();

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
    // Listings with 10,000 and 100,000 jobs in the store, each on a fresh platform.
    let mut listings = Vec::new();
    for total in listing_sizes(&args) {
        let dir = work.join(format!("listing-{total}"));
        std::fs::create_dir_all(&dir)?;
        let server = start(&bin, &dir)?;
        listings.push((total, runtime.block_on(listing(&bin, &server, total, &dir))?));
    }
    // Slurm keeps at most MaxJobCount (10,000 by default) jobs: compared at that size only.
    // It refuses more while finished jobs still count (MinJobAge): then n/a, and why.
    let slurm_listing = if slurm_running {
        slurm_listing(10_000)
            .inspect_err(|err| {
                eprintln!("Slurm listing skipped: {err}");
                let _ = slurm_cancel_bench_jobs();
            })
            .ok()
    } else {
        None
    };
    // Slurm runs alone, after Lushan has stopped, on the same machine.
    let slurm = if slurm_running { Some(slurm_numbers(jobs)?) } else { None };

    let slurm_json = slurm.as_ref().map(|n| {
        json!({
            "submit_1_client": {"jobs_per_s": n.submit1.0, "p50_ms": n.submit1.1, "p99_ms": n.submit1.2},
            "submit_8_clients": {"jobs_per_s": n.submit8.0, "p50_ms": n.submit8.1, "p99_ms": n.submit8.2},
            "drain_s": n.drain_s,
            "squeue_ms": n.squeue_ms,
            "listing_10000": slurm_listing.map(|(q, a)| json!({"squeue_ms": q, "sacct_ms": a})),
        })
    });
    let report = json!({
        "machine_cpus": cpus,
        "jobs": jobs,
        "lushan": {
            "submit_1_client": {"jobs_per_s": rate1, "p50_ms": p50_1, "p99_ms": p99_1},
            "submit_8_clients": {"jobs_per_s": rate8, "p50_ms": p50_8, "p99_ms": p99_8},
            "drain_s": drain_secs,
            "jobs_list_ms": queue_ms,
            "jobs_in_store": queued,
            "listings": listings.iter().map(|(n, (q, a))| json!({"jobs": n, "jobs_ms": q, "acct_ms": a})).collect::<Vec<_>>(),
        },
        "fork_floor_s": floor_secs,
        "slurm": slurm_json,
    });
    if json_out {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let na = || "n/a".to_owned();
        println!(
            "machine: {cpus} CPUs; {jobs} jobs per test; Slurm: {}",
            if slurm.is_some() {
                "22.05, fast profile (bench/slurm-up.sh)"
            } else {
                "not running (bench/slurm-up.sh starts it)"
            }
        );
        println!("{:<40} {:>16} {:>16} {:>18}", "metric", "lushan", "slurm", "lushan / slurm");
        let rate_row = |name: &str, ours: (f64, f64, f64), theirs: Option<(f64, f64, f64)>| {
            println!(
                "{:<40} {:>16.1} {:>16} {:>18}",
                name,
                ours.0,
                theirs.map(|t| format!("{:.1}", t.0)).unwrap_or_else(na),
                theirs.map(|t| format!("{:.2}x", ours.0 / t.0)).unwrap_or_else(na)
            );
            println!(
                "{:<40} {:>16} {:>16} {:>18}",
                "  p50 / p99 latency (ms)",
                format!("{:.1} / {:.1}", ours.1, ours.2),
                theirs.map(|t| format!("{:.1} / {:.1}", t.1, t.2)).unwrap_or_else(na),
                ""
            );
        };
        rate_row("submit, 1 client (jobs/s)", (rate1, p50_1, p99_1), slurm.as_ref().map(|n| n.submit1));
        rate_row("submit, 8 clients (jobs/s)", (rate8, p50_8, p99_8), slurm.as_ref().map(|n| n.submit8));
        println!(
            "{:<40} {:>16.2} {:>16} {:>18}",
            format!("drain {jobs} x `true` (s)"),
            drain_secs,
            slurm.as_ref().map(|n| format!("{:.2}", n.drain_s)).unwrap_or_else(na),
            slurm.as_ref().map(|n| format!("{:.2}x faster", n.drain_s / drain_secs)).unwrap_or_else(na)
        );
        println!(
            "{:<40} {:>16.2} {:>16} {:>18}",
            "  fork-and-wait floor (s)",
            floor_secs,
            "",
            format!("{:.3} of floor speed", floor_secs / drain_secs)
        );
        println!(
            "{:<40} {:>16.1} {:>16} {:>18}",
            format!("jobs / squeue, {queued} queued (ms)"),
            queue_ms,
            slurm.as_ref().map(|n| format!("{:.1}", n.squeue_ms)).unwrap_or_else(na),
            slurm.as_ref().map(|n| format!("{:.2}x", n.squeue_ms / queue_ms)).unwrap_or_else(na)
        );
        for (total, (jobs_ms, acct_ms)) in &listings {
            let peer = slurm_listing.filter(|_| *total == 10_000);
            for (what, ours, theirs) in
                [("jobs / squeue", jobs_ms, peer.map(|p| p.0)), ("acct / sacct", acct_ms, peer.map(|p| p.1))]
            {
                println!(
                    "{:<40} {:>16.1} {:>16} {:>18}",
                    format!("{what}, {total} held (ms)"),
                    ours,
                    theirs.map(|t| format!("{t:.1}")).unwrap_or_else(na),
                    theirs.map(|t| format!("{:.2}x", t / ours)).unwrap_or_else(na)
                );
            }
        }
        println!(
            "(submit: higher is better; drain and squeue: times, the last column says how many times faster Lushan is)"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
