//! The portal's budgets (issue 20): every page under 100 KB, rendered in
//! under 50 ms at the 99th percentile with 10,000 jobs stored. A real
//! `lushan up` (release build, SQLite) in a temporary directory, 10,000
//! held jobs (ten arrays of 1,000), then each page fetched `--rounds` times
//! over loopback with the session cookie, one request at a time. The peer,
//! in the same run: the API's listing of the same jobs
//! (`GET /api/v1/jobs`), the data the job list is drawn from, as JSON.
//!
//! Usage: `cargo bench -p lushan --bench portal -- [--jobs N] [--rounds R]
//! [--keep]` (run by `bench/portal.sh`); `--keep` leaves the server's data
//! directory behind and prints where, to study a query's plan on it.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lushan(bin: &Path, home: &Path, url: &str, args: &[&str], stdin: &str) -> anyhow::Result<String> {
    let mut child = Command::new(bin)
        .env("HOME", home)
        .env_remove("LUSHAN_URL")
        .env_remove("LUSHAN_TOKEN")
        .arg("--url")
        .arg(url)
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

/// One HTTP/1.1 GET on a fresh connection: status, body size, time to the
/// last byte.
fn fetch(address: &str, path: &str, header: &str) -> anyhow::Result<(u16, usize, Duration)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address)?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\n{header}\r\nConnection: close\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&response);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).context("no status line")?;
    let body = text.split_once("\r\n\r\n").map_or(0, |(_, body)| body.len());
    Ok((status, body, elapsed))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (jobs, rounds) = (arg("--jobs", 10_000), arg("--rounds", 200));
    let bin = Path::new(env!("CARGO_BIN_EXE_lushan"));
    let work = tempfile::tempdir()?;
    if args.iter().any(|a| a == "--keep") {
        eprintln!("data kept in {}", work.path().join("data").display());
    }
    std::fs::write(work.path().join("lushan.toml"), "run_jobs_as_server_user = true\n")?;
    let op = work.path().join("op");
    std::fs::create_dir_all(&op)?;
    let mut child = Command::new(bin)
        .env("HOME", &op)
        .current_dir(work.path())
        .args(["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", "lushan.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("Lushan is listening on ").map(str::to_owned))
        .context("the server did not start")?;
    let server = Server { child, address: url.trim_start_matches("http://").trim_end_matches('/').to_owned() };
    lushan(bin, &op, &url, &["admin", "tenant", "create", "bench", "--sector", "institute"], "")?;
    let create = ["admin", "user", "create", "bencher", "--tenant", "bench", "--password-stdin"];
    lushan(bin, &op, &url, &create, "bench-password\n")?;
    lushan(bin, &op, &url, &["admin", "project", "create", "bench", "--tenant", "bench", "--pi", "bencher"], "")?;
    // An operator of the platform, for the console's status (the queue per partition).
    let create =
        ["admin", "user", "create", "bench-op", "--tenant", "centre", "--role", "operator", "--password-stdin"];
    lushan(bin, &op, &url, &create, "bench-password\n")?;
    lushan(bin, &op, &url, &["admin", "topup", "bench", "100000000", "--ref", "BENCH-1"], "")?;
    let user = work.path().join("bencher");
    std::fs::create_dir_all(&user)?;
    let login = lushan(bin, &user, &url, &["--json", "login", "bencher", "--password-stdin"], "bench-password\n")?;
    let token = serde_json::from_str::<serde_json::Value>(&login)?["token"].as_str().context("token")?.to_owned();
    // Held, so they stay in the queue: ten arrays of up to 1,000.
    let started = Instant::now();
    let mut left = jobs;
    let mut last = String::new();
    while left > 0 {
        let n = left.min(1000);
        let spec = format!("0-{}", n - 1);
        let out = lushan(
            bin,
            &user,
            &url,
            &["--json", "submit", "--hold", "-a", &spec, "-J", "bench-job", "--wrap", "true"],
            "",
        )?;
        last = serde_json::from_str::<serde_json::Value>(&out)?["job"]["job_id"].to_string();
        left -= n;
    }
    eprintln!("{jobs} jobs stored in {:.1} s", started.elapsed().as_secs_f64());
    let operator = work.path().join("bench-op");
    std::fs::create_dir_all(&operator)?;
    let login = lushan(bin, &operator, &url, &["--json", "login", "bench-op", "--password-stdin"], "bench-password\n")?;
    let operator_token =
        serde_json::from_str::<serde_json::Value>(&login)?["token"].as_str().context("token")?.to_owned();
    let operator_cookie = format!("Cookie: __Host-lushan-session={operator_token}");

    let cookie = format!("Cookie: __Host-lushan-session={token}");
    let bearer = format!("Authorization: Bearer {token}");
    let last_page = jobs.div_ceil(50);
    let pages: Vec<(String, String, &str)> = vec![
        ("home".into(), "/".into(), cookie.as_str()),
        ("job list, first page".into(), "/jobs?state=all".into(), cookie.as_str()),
        ("job list, last page".into(), format!("/jobs?state=all&page={last_page}"), cookie.as_str()),
        ("job list, pending".into(), "/jobs?state=PENDING".into(), cookie.as_str()),
        ("a job".into(), format!("/jobs/{last}"), cookie.as_str()),
        ("submit".into(), "/submit".into(), cookie.as_str()),
        ("operator's console (queue per partition)".into(), "/operate".into(), operator_cookie.as_str()),
        ("peer: GET /api/v1/jobs (JSON)".into(), "/api/v1/jobs?state=PENDING".into(), bearer.as_str()),
    ];
    println!("portal pages with {jobs} jobs stored, {rounds} requests each, one at a time (release build, SQLite)");
    println!();
    println!("| page | p50 ms | p99 ms | size KB | budget (p99 < 50 ms, < 100 KB) |");
    println!("| --- | --- | --- | --- | --- |");
    let mut peer_p99 = None;
    let mut results = Vec::new();
    for (name, path, header) in &pages {
        let mut times = Vec::with_capacity(rounds);
        let mut size = 0;
        for _ in 0..rounds {
            let (status, bytes, elapsed) = fetch(&server.address, path, header)?;
            if status != 200 {
                bail!("{path}: {status}");
            }
            size = bytes;
            times.push(elapsed);
        }
        times.sort();
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        let kb = size as f64 / 1024.0;
        let peer = name.starts_with("peer");
        if peer {
            peer_p99 = Some(p99);
        }
        let verdict = if peer {
            "(peer)".to_owned()
        } else if p99 < 50.0 && kb < 100.0 {
            "met".to_owned()
        } else {
            "MISSED".to_owned()
        };
        println!("| {name} | {p50:.1} | {p99:.1} | {kb:.1} | {verdict} |");
        results.push((name.clone(), p99));
    }
    if let Some(peer) = peer_p99 {
        println!();
        for (name, p99) in results.iter().filter(|(name, _)| !name.starts_with("peer")) {
            println!("{name}: p99 {:.2}x the API listing's", p99 / peer);
        }
    }
    drop(server);
    if args.iter().any(|a| a == "--keep") {
        let _ = work.keep();
    }
    Ok(())
}
