//! Lushan in front of a Slurm site against straight `sbatch`, on the same
//! cluster in the same run: N trivial jobs (`--wrap true`), each its own
//! job (no array), submitted back to back by one client.
//!
//! - submission: jobs/s acknowledged by Lushan (stored, held for, 201) and
//!   by `sbatch` (accepted by slurmctld);
//! - drain: first submission to all N recorded complete (by Lushan, from
//!   slurmdbd; by Slurm, gone from squeue), and the overhead Lushan adds
//!   per job.
//!
//! Needs the cluster `.ci/slurm up` starts (it reads `.ci/slurm env`'s
//! variables, with its defaults) and root (the jobs run as its mapped
//! account). Usage: `cargo bench -p lushan --bench slurm_site -- [--jobs N]
//! [--json]`, or `bench/run.sh` (both benchmarks).

use anyhow::{Context, bail};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

fn lushan(bin: &Path, home: &Path, args: &[&str], stdin: &str) -> anyhow::Result<String> {
    let mut child = Command::new(bin)
        .env("HOME", home)
        .env_remove("LUSHAN_URL")
        .env_remove("LUSHAN_TOKEN")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(stdin.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("lushan {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A platform with the site `hpc1` and a member mapped to the cluster's
/// account; returns the server, its URL and the member's token.
fn platform(bin: &Path, work: &Path) -> anyhow::Result<(Server, String, String)> {
    let op = work.join("op");
    std::fs::create_dir_all(&op)?;
    let mut child = Command::new(bin)
        .env("HOME", &op)
        .current_dir(work)
        .args(["up", "--listen", "127.0.0.1:0", "--data", "data"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let server = Server(child);
    let mut url = None;
    for line in BufReader::new(stdout).lines() {
        if let Some(u) = line?.strip_prefix("Lushan is listening on ") {
            url = Some(u.to_owned());
            break;
        }
    }
    let url = url.context("the server did not start")?;
    let rest = env_or("LUSHAN_TEST_SLURM_URL", "http://127.0.0.1:6820");
    let key = env_or("LUSHAN_TEST_SLURM_JWT_KEY", "/etc/slurm/jwt_hs256.key");
    let account = env_or("LUSHAN_TEST_SLURM_USER", "lushan-ci");
    lushan(bin, &op, &["admin", "site", "add", "hpc1", "--rest-url", &rest, "--jwt-key", &key], "")?;
    lushan(bin, &op, &["admin", "tenant", "create", "bench", "--sector", "institute"], "")?;
    lushan(
        bin,
        &op,
        &["admin", "user", "create", "bencher", "--tenant", "bench", "--unix-account", &account, "--password-stdin"],
        "bench-password\n",
    )?;
    lushan(bin, &op, &["admin", "project", "create", "bench", "--tenant", "bench", "--pi", "bencher"], "")?;
    lushan(bin, &op, &["admin", "topup", "bench", "1000000", "--ref", "BENCH"], "")?;
    let user = work.join("bencher");
    std::fs::create_dir_all(&user)?;
    let login =
        lushan(bin, &user, &["--json", "login", "--url", &url, "bencher", "--password-stdin"], "bench-password\n")?;
    let token = serde_json::from_str::<serde_json::Value>(&login)?["token"].as_str().context("token")?.to_owned();
    Ok((server, url, token))
}

/// N jobs through Lushan: (submit jobs/s, drain seconds).
async fn through_lushan(url: &str, token: &str, n: usize, dir: &Path) -> anyhow::Result<(f64, f64)> {
    let client = lushan_api::Client::new(url, Some(token.to_owned()));
    let started = Instant::now();
    for _ in 0..n {
        let body = lushan_api::JobSubmit {
            options: ["-M", "hpc1", "-J", "lushanbench", "-o", "/dev/null", "-t", "1", "--wrap", "true"]
                .map(String::from)
                .to_vec(),
            submit_dir: dir.display().to_string(),
            ..Default::default()
        };
        client.post::<_, lushan_api::JobSubmitted>("/api/v1/jobs", &body).await?;
    }
    let submit_rate = n as f64 / started.elapsed().as_secs_f64();
    loop {
        let active: Vec<lushan_api::Job> = client.get("/api/v1/jobs?active=true").await?;
        if active.is_empty() {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("Lushan's drain of {n} jobs did not finish in 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drain = started.elapsed().as_secs_f64();
    let done: Vec<lushan_api::Job> = client.get("/api/v1/jobs").await?;
    let completed = done.iter().filter(|j| j.state == "COMPLETED").count();
    if completed != n {
        bail!("only {completed} of {n} jobs completed through Lushan");
    }
    Ok((submit_rate, drain))
}

/// N jobs with `sbatch`, as the same account: (submit jobs/s, drain seconds).
fn straight_sbatch(n: usize, dir: &Path, account: &str) -> anyhow::Result<(f64, f64)> {
    // The cluster enforces associations: the peer gets one by hand, as a
    // cluster administrator would make it (Lushan makes its own).
    for args in [vec!["add", "account", "benchpeer"], vec!["add", "user", account, "account=benchpeer"]] {
        Command::new("sacctmgr").arg("-i").args(&args).output()?;
    }
    let started = Instant::now();
    for _ in 0..n {
        let out = Command::new("runuser")
            .args([
                "-u",
                account,
                "--",
                "sbatch",
                "--parsable",
                "-A",
                "benchpeer",
                "-J",
                "lushanbench",
                "-o",
                "/dev/null",
                "-t",
                "1",
            ])
            .args(["--wrap", "true"])
            .current_dir(dir)
            .output()?;
        if !out.status.success() {
            bail!("sbatch: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let submit_rate = n as f64 / started.elapsed().as_secs_f64();
    loop {
        let out = Command::new("squeue").args(["-h", "-n", "lushanbench", "-t", "PD,R,CG"]).output()?;
        if out.status.success() && out.stdout.is_empty() {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("Slurm's drain of {n} jobs did not finish in 30 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((submit_rate, started.elapsed().as_secs_f64()))
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
    let up = Command::new("sinfo").args(["-h", "-o", "%t"]).output().is_ok_and(|o| o.status.success());
    if !up {
        bail!("no Slurm answers here: start one with `.ci/slurm up` (as root)");
    }
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_lushan"));
    let account = env_or("LUSHAN_TEST_SLURM_USER", "lushan-ci");
    let work = std::env::temp_dir().join(format!("lushan-bench-slurm-{}", std::process::id()));
    let dir = work.join("jobs");
    std::fs::create_dir_all(&dir)?;
    let chown = Command::new("chown").arg(&account).arg(&dir).status()?;
    if !chown.success() {
        bail!("cannot give {} to {account}", dir.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;

    // Slurm first, alone; then Lushan in front of the same cluster.
    let (sbatch_rate, sbatch_drain) = straight_sbatch(jobs, &dir, &account)?;
    let (server, url, token) = platform(&bin, &work)?;
    let (lushan_rate, lushan_drain) = runtime.block_on(through_lushan(&url, &token, jobs, &dir))?;
    drop(server);
    let overhead_ms = (lushan_drain - sbatch_drain) * 1000.0 / jobs as f64;

    let report = json!({
        "jobs": jobs,
        "sbatch": {"submit_jobs_per_s": sbatch_rate, "drain_s": sbatch_drain},
        "lushan_to_slurm": {"submit_jobs_per_s": lushan_rate, "drain_s": lushan_drain},
        "overhead_ms_per_job": overhead_ms,
    });
    if json_out {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{jobs} jobs of `--wrap true`, one client, Slurm 22.05 (.ci/slurm, fast profile)");
        println!("{:<34} {:>16} {:>16} {:>14}", "metric", "through lushan", "straight sbatch", "ratio");
        println!(
            "{:<34} {:>16.1} {:>16.1} {:>13.2}x",
            "submit (jobs/s)",
            lushan_rate,
            sbatch_rate,
            lushan_rate / sbatch_rate
        );
        println!(
            "{:<34} {:>16.2} {:>16.2} {:>13.2}x",
            "drain, first submit to all done (s)",
            lushan_drain,
            sbatch_drain,
            lushan_drain / sbatch_drain
        );
        println!("overhead Lushan adds per job: {overhead_ms:.1} ms (drain difference / jobs)");
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
