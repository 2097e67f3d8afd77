//! Jobs from the command line, with Slurm's habits: `submit`/`sbatch`,
//! `jobs`/`squeue`, `show`, `cancel`/`scancel`, `hold`, `release`,
//! `acct`/`sacct`.

use crate::output::{Output, fields, table, time};
use anyhow::Context;
use lushan_api::{Client, Job, JobOutput, JobSubmit, JobSubmitted};
use std::io::Write;

#[derive(clap::Args)]
pub struct SubmitArgs {
    /// sbatch options, the script, then the script's arguments (as sbatch takes them).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "SBATCH_OPTIONS... SCRIPT ARGS")]
    words: Vec<String>,
}

#[derive(clap::Args)]
pub struct JobsArgs {
    /// Only this user's jobs.
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Only your own jobs.
    #[arg(long)]
    me: bool,
    /// Only this project's jobs.
    #[arg(short = 'A', long = "account")]
    project: Option<String>,
    /// Only these states, comma-separated (PENDING, R, ...).
    #[arg(short = 't', long = "states")]
    states: Option<String>,
    /// Only these jobs, comma-separated, as Slurm's -j: 123 (a job, or every task of array 123) or 123_4 (one task).
    #[arg(short = 'j', long = "jobs")]
    jobs: Option<String>,
    /// Only this partition.
    #[arg(short = 'p', long)]
    partition: Option<String>,
    /// Pending jobs with their expected start time, as `squeue --start`.
    #[arg(long)]
    start: bool,
}

#[derive(clap::Args)]
pub struct PriorityArgs {
    /// Only this user's jobs.
    #[arg(short = 'u', long = "user")]
    user: Option<String>,
    /// Only these jobs, comma-separated, as Slurm's -j: 123 (a job, or every task of array 123) or 123_4 (one task).
    #[arg(short = 'j', long = "jobs")]
    jobs: Option<String>,
}

#[derive(clap::Args)]
pub struct CancelArgs {
    /// Job ids, arrays (`123`) or array tasks (`123_4`).
    job_ids: Vec<String>,
    /// Every active job of this user (that you may control).
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Every active job with this name.
    #[arg(short = 'n', long = "name")]
    name: Option<String>,
    /// Only jobs in these states (e.g. PENDING).
    #[arg(short = 't', long = "state")]
    state: Option<String>,
    /// Send this signal to running jobs instead of cancelling them (e.g. USR1).
    #[arg(short = 's', long = "signal")]
    signal: Option<String>,
}

pub async fn cancel(client: &Client, args: CancelArgs, out: &Output) -> anyhow::Result<()> {
    let mut words = args.job_ids.clone();
    if args.user.is_some() || args.name.is_some() || args.state.is_some() {
        let path = format!(
            "/api/v1/jobs{}",
            query(&[("active", Some("true".into())), ("user", args.user.clone()), ("state", args.state.clone())])
        );
        let jobs: Vec<Job> = client.get(&path).await?;
        let selected = jobs.iter().filter(|j| args.name.as_ref().is_none_or(|n| &j.name == n)).filter(|j| {
            args.job_ids.is_empty()
                || args.job_ids.contains(&display_id(j))
                || args.job_ids.contains(&j.job_id.to_string())
        });
        words = selected.map(|j| j.job_id.to_string()).collect();
        if words.is_empty() {
            out.print(&Vec::<Job>::new(), |_| println!("No active job matches."));
            return Ok(());
        }
    }
    match &args.signal {
        None => act(client, "cancel", &words, out).await,
        Some(signal) => {
            let mut sent = Vec::new();
            for word in &words {
                for id in resolve(client, word, true).await? {
                    let job: Job = client
                        .post(&format!("/api/v1/jobs/{id}/signal"), &lushan_api::JobSignal { signal: signal.clone() })
                        .await?;
                    sent.push(job);
                }
            }
            out.print(&sent, |jobs| {
                for job in jobs {
                    println!("Job {}: sent {signal}.", display_id(job));
                }
            });
            Ok(())
        }
    }
}

#[derive(clap::Args)]
pub struct AcctArgs {
    /// Only this user's jobs.
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Only jobs that were still running at or after this time (YYYY-MM-DD[THH:MM[:SS]], today, now).
    #[arg(short = 'S', long = "starttime")]
    start: Option<String>,
    /// Only jobs submitted before this time.
    #[arg(short = 'E', long = "endtime")]
    end: Option<String>,
    /// Allocations only (Lushan records no job steps, so this changes nothing).
    #[arg(short = 'X', long = "allocations")]
    allocations: bool,
    /// Only these states, comma-separated.
    #[arg(short = 's', long = "state")]
    states: Option<String>,
    /// Only these jobs, comma-separated, as Slurm's -j: 123 (a job, or every task of array 123) or 123_4 (one task).
    #[arg(short = 'j', long = "jobs")]
    jobs: Option<String>,
}

pub async fn submit(client: &Client, args: SubmitArgs, out: &Output) -> anyhow::Result<()> {
    if args.words.iter().any(|w| w == "--help" || w == "-h") {
        println!(
            "usage: lushan submit [--estimate|--quote] [--allocation wallet|GRANT] [sbatch options] SCRIPT [ARGS...]\n       lushan submit [sbatch options] --wrap \"COMMAND\"\n\n  --estimate            print the worst-case cost and who would pay; submit nothing\n  --quote               for every site: estimated start, worst case, who pays, and where the job would go; submit nothing\n  --allocation WHAT     pay from `wallet` or a grant (default: the project's grant, else the wallet)\n\nEvery sbatch option and what Lushan does with it: docs/user/sbatch.md"
        );
        return Ok(());
    }
    let LushanOptions { words, estimate, quote, allocation } = lushan_options(&args.words);
    let split = lushan_sbatch::split_command_line(&words);
    let wraps = split.options.iter().any(|o| o.starts_with("--wra"));
    let script = match &split.script {
        Some(path) => {
            Some(std::fs::read_to_string(path).with_context(|| format!("cannot read the batch script {path}"))?)
        }
        // As sbatch: no script named and no --wrap means the script comes on stdin.
        None if !wraps && !std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("cannot read the batch script from stdin")?;
            Some(text)
        }
        None => None,
    };
    let submit_dir = std::env::current_dir().context("cannot tell the current directory")?;
    let body = JobSubmit {
        script,
        options: split.options.clone(),
        args: split.script_args,
        // Never sent: LUSHAN_TOKEN is this user's credential.
        env: std::env::vars().filter(|(name, _)| lushan_model::reaches_job(name)).collect(),
        submit_dir: submit_dir.display().to_string(),
        idempotency_key: Some(submission_key()),
        allocation,
    };
    if quote {
        let quotes: Vec<lushan_api::SiteQuote> = client.post("/api/v1/jobs/quote", &body).await?;
        out.print(&quotes, |q| print_quotes(q));
        return Ok(());
    }
    if estimate {
        let estimate: lushan_api::JobEstimate = client.post("/api/v1/jobs/estimate", &body).await?;
        out.print(&estimate, super::billing::print_estimate);
        return Ok(());
    }
    let submitted = submit_with_retries(client, &body).await?;
    for warning in &submitted.warnings {
        eprintln!("lushan: {warning}");
    }
    let parsable = split.options.iter().any(|o| o == "--parsable");
    out.print(&submitted, |s| {
        if parsable {
            println!("{}", s.job.job_id);
        } else {
            println!("Submitted batch job {}", s.job.job_id);
        }
    });
    Ok(())
}

/// `lushan submit --quote`: a row per site, the chosen one marked `*`.
fn print_quotes(quotes: &[lushan_api::SiteQuote]) {
    println!("  {:<10} {:<10} {:<20} {:>14}  PAID BY", "SITE", "PARTITION", "EST. START", "WORST CASE");
    for q in quotes {
        let mark = if q.chosen { "*" } else { "" };
        match (&q.estimate, &q.refused) {
            (Some(e), _) => println!(
                "{mark:<2}{:<10} {:<10} {:<20} {:>14}  {}{}",
                q.site,
                e.partition,
                q.estimated_start.as_deref().map(time).unwrap_or_else(|| "unknown".into()),
                format!("{} {}", e.worst_case, e.unit),
                e.payer,
                if e.covered { String::new() } else { format!(" (only {} {} available)", e.available, e.unit) }
            ),
            (None, refused) => println!(
                "{mark:<2}{:<10} cannot run it: {}",
                q.site,
                refused.as_deref().unwrap_or_default().lines().next().unwrap_or_default()
            ),
        }
    }
    match quotes.iter().find(|q| q.chosen) {
        Some(q) => println!("A submission would go to {} (* above). Nothing was submitted.", q.site),
        None => println!("No site can run this job. Nothing was submitted."),
    }
}

/// Lushan's own submit options, and the sbatch words without them.
struct LushanOptions {
    words: Vec<String>,
    estimate: bool,
    quote: bool,
    allocation: Option<String>,
}

/// Takes Lushan's own submit options (`--estimate`, `--quote`,
/// `--allocation X`) out of the sbatch words before the script; the rest
/// goes to the one parser.
fn lushan_options(words: &[String]) -> LushanOptions {
    let script = lushan_sbatch::split_command_line(words).script;
    let script_at = script.as_ref().and_then(|s| words.iter().position(|w| w == s)).unwrap_or(words.len());
    let (mut kept, mut estimate, mut quote, mut allocation) = (Vec::new(), false, false, None);
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        if i < script_at || (i == script_at && i > 0 && words[i - 1] == "--allocation") {
            if word == "--estimate" || word == "--quote" {
                estimate |= word == "--estimate";
                quote |= word == "--quote";
                i += 1;
                continue;
            }
            if let Some(value) = word.strip_prefix("--allocation=") {
                allocation = Some(value.to_owned());
                i += 1;
                continue;
            }
            if word == "--allocation" {
                allocation = words.get(i + 1).cloned();
                i += 2;
                continue;
            }
        }
        kept.push(word.clone());
        i += 1;
    }
    LushanOptions { words: kept, estimate, quote, allocation }
}

/// A key naming this one submission: retries carry it, so a job the server
/// stored before the connection broke is returned, not stored twice.
fn submission_key() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("cli-{}-{nanos}", std::process::id())
}

/// Submits, retrying for up to about 30 s while the server cannot be
/// reached (restarting, say); the idempotency key makes retries safe.
async fn submit_with_retries(client: &Client, body: &JobSubmit) -> anyhow::Result<JobSubmitted> {
    let mut delay = std::time::Duration::from_millis(250);
    let mut waited = std::time::Duration::ZERO;
    loop {
        match client.post::<_, JobSubmitted>("/api/v1/jobs", body).await {
            Err(lushan_api::ClientError::Transport { .. }) if waited < std::time::Duration::from_secs(30) => {
                eprintln!("lushan: the server cannot be reached; retrying the submission in {} ms", delay.as_millis());
                tokio::time::sleep(delay).await;
                waited += delay;
                delay = (delay * 2).min(std::time::Duration::from_secs(4));
            }
            other => return Ok(other?),
        }
    }
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref().map(|v| {
                format!(
                    "{k}={}",
                    v.bytes()
                        .map(|b| if b.is_ascii_alphanumeric() || b"-_.,".contains(&b) {
                            (b as char).to_string()
                        } else {
                            format!("%{b:02X}")
                        })
                        .collect::<String>()
                )
            })
        })
        .collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// `sprio`: each pending job's multifactor priority, the weighted factors
/// it sums (Slurm's default `sprio` columns, without Slurm's site factor,
/// which Lushan does not have), highest first.
pub async fn priority(client: &Client, args: PriorityArgs, out: &Output) -> anyhow::Result<()> {
    let path = format!(
        "/api/v1/jobs{}",
        query(&[
            ("state", Some("PENDING".into())),
            ("user", args.user),
            ("ids", args.jobs),
            ("priority", Some("true".into())),
        ])
    );
    let jobs: Vec<Job> = client.get(&path).await?;
    let (mut ranked, others): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| j.priority.is_some());
    ranked.sort_by_key(|j| (std::cmp::Reverse(j.priority.as_ref().map_or(0, |p| p.priority)), j.job_id));
    out.print(&ranked, |ranked| {
        let rows = ranked
            .iter()
            .filter_map(|j| {
                let p = j.priority.as_ref()?;
                Some(vec![
                    display_id(j),
                    j.partition.clone(),
                    j.user.clone(),
                    p.priority.to_string(),
                    p.age.to_string(),
                    p.fairshare.to_string(),
                    p.job_size.to_string(),
                    p.partition.to_string(),
                    p.qos.to_string(),
                ])
            })
            .collect();
        println!(
            "{}",
            table(&["jobid", "partition", "user", "priority", "age", "fairshare", "jobsize", "partition", "qos"], rows)
        );
        if !others.is_empty() {
            let sites: std::collections::BTreeSet<&str> = others.iter().map(|j| j.site.as_str()).collect();
            println!(
                "({} pending job(s) on {} not listed: their site does not order its queue by Lushan's multifactor priority)",
                others.len(),
                sites.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
    });
    Ok(())
}

pub async fn jobs(client: &Client, args: JobsArgs, out: &Output) -> anyhow::Result<()> {
    let user = if args.me { Some(client.whoami().await?.user.name) } else { args.user };
    let path = format!(
        "/api/v1/jobs{}",
        query(&[
            ("active", Some("true".into())),
            ("user", user),
            ("project", args.project),
            ("state", if args.start { Some("PENDING".into()) } else { args.states }),
            ("ids", args.jobs),
            ("start", args.start.then(|| "true".into())),
        ])
    );
    let mut jobs: Vec<Job> = client.get(&path).await?;
    if let Some(partition) = &args.partition {
        jobs.retain(|j| &j.partition == partition);
    }
    if args.start {
        out.print(&jobs, |jobs| {
            let rows = jobs
                .iter()
                .map(|j| {
                    vec![
                        display_id(j),
                        j.partition.clone(),
                        j.name.clone(),
                        j.user.clone(),
                        short_state(&j.state).into(),
                        j.estimated_start.as_deref().map(time).unwrap_or_else(|| "N/A".into()),
                        j.nodes.to_string(),
                        format!("({})", j.reason),
                    ]
                })
                .collect();
            println!(
                "{}",
                table(&["jobid", "partition", "name", "user", "st", "start_time", "nodes", "nodelist(reason)"], rows)
            );
        });
        return Ok(());
    }
    out.print(&jobs, |jobs| {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut i = 0;
        while i < jobs.len() {
            let j = &jobs[i];
            let mut shown = display_id(j);
            // Pending tasks of one array, waiting for the same reason, show as one line.
            if let (Some(array), "PENDING") = (j.array_job_id, j.state.as_str()) {
                let mut tasks = vec![j.array_task_id.unwrap_or(0)];
                while let Some(next) = jobs.get(i + 1)
                    && next.array_job_id == Some(array)
                    && next.state == "PENDING"
                    && next.reason == j.reason
                {
                    tasks.push(next.array_task_id.unwrap_or(0));
                    i += 1;
                }
                if tasks.len() > 1 || j.array_throttle.is_some() {
                    let throttle = j.array_throttle.map(|t| format!("%{t}")).unwrap_or_default();
                    shown = format!("{array}_[{}{throttle}]", ranges(&tasks));
                }
            }
            let where_or_why = if j.state == "PENDING" { format!("({})", j.reason) } else { j.node_list.clone() };
            rows.push(vec![
                shown,
                j.partition.clone(),
                j.name.clone(),
                j.user.clone(),
                short_state(&j.state).into(),
                lushan_model::format_elapsed(j.elapsed_secs),
                j.nodes.to_string(),
                where_or_why,
            ]);
            i += 1;
        }
        println!("{}", table(&["jobid", "partition", "name", "user", "st", "time", "nodes", "nodelist(reason)"], rows));
    });
    Ok(())
}

/// squeue's two-letter state, from the state the API spells out.
fn short_state(state: &str) -> &'static str {
    state.parse::<lushan_model::JobState>().map(lushan_model::JobState::short).unwrap_or("?")
}

/// The job ids a user's word names: `123` (a job, or every task of array
/// 123 when `whole_arrays`), `123_4` (one array task). The server reads
/// the word as Slurm's `-j` does.
async fn resolve(client: &Client, word: &str, whole_arrays: bool) -> anyhow::Result<Vec<i64>> {
    let named = lushan_sbatch::parse_job_ref(word).map_err(|e| anyhow::anyhow!(e))?;
    if named.task_id.is_none() && !whole_arrays {
        return Ok(vec![i64::try_from(named.job_id)?]);
    }
    let jobs: Vec<Job> = client.get(&format!("/api/v1/jobs?ids={word}")).await?;
    anyhow::ensure!(!jobs.is_empty(), "job {word} not found");
    Ok(jobs.iter().map(|j| j.job_id).collect())
}

/// `123_4` for an array task, `123` for a job.
fn display_id(job: &Job) -> String {
    match (job.array_job_id, job.array_task_id) {
        (Some(array), Some(task)) => format!("{array}_{task}"),
        _ => job.job_id.to_string(),
    }
}

/// Task ids as Slurm writes them: `1-3,7,9-10`.
fn ranges(ids: &[i64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let start = ids[i];
        let mut end = start;
        while i + 1 < ids.len() && ids[i + 1] == end + 1 {
            i += 1;
            end = ids[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(",")
}

pub async fn show(client: &Client, job_id: &str, out: &Output) -> anyhow::Result<()> {
    let id = resolve(client, job_id, false)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("job {job_id} not found"))?;
    let job: Job = client.get(&format!("/api/v1/jobs/{id}")).await?;
    out.print(&job, |j| {
        println!(
            "{}",
            fields(&[
                ("JobId", j.job_id.to_string()),
                ("ArrayJobId", j.array_job_id.map(|a| a.to_string()).unwrap_or_else(|| "(none)".into())),
                ("ArrayTaskId", j.array_task_id.map(|a| a.to_string()).unwrap_or_else(|| "(none)".into())),
                ("Dependency", if j.dependency.is_empty() { "(null)".into() } else { j.dependency.clone() }),
                ("BeginTime", j.begin_time.as_deref().map(time).unwrap_or_else(|| "Unknown".into())),
                ("JobName", j.name.clone()),
                ("UserId", j.user.clone()),
                ("Account", j.project.clone()),
                ("JobState", j.state.clone()),
                ("Reason", if j.reason.is_empty() { "None".into() } else { j.reason.clone() }),
                ("Restarts", j.restarts.to_string()),
                (
                    "Preempted",
                    j.preempted_by
                        .map(|by| format!("now, for job {by} of its node's owner"))
                        .unwrap_or_else(|| "no".into()),
                ),
                ("ExitCode", if j.exit_code.is_empty() { "0:0".into() } else { j.exit_code.clone() }),
                ("RunTime", lushan_model::format_elapsed(j.elapsed_secs)),
                ("TimeLimit", j.time_limit.clone()),
                ("SubmitTime", time(&j.submit_time)),
                ("StartTime", j.start_time.as_deref().map(time).unwrap_or_else(|| "Unknown".into())),
                ("EndTime", j.end_time.as_deref().map(time).unwrap_or_else(|| "Unknown".into())),
                ("Site", j.site.clone()),
                ("SlurmJobId", j.remote_id.map(|r| r.to_string()).unwrap_or_else(|| "(none)".into())),
                ("Route", if j.route.is_empty() { "(as submitted)".into() } else { j.route.clone() }),
                ("Partition", j.partition.clone()),
                ("QOS", if j.qos.is_empty() { "normal".into() } else { j.qos.clone() }),
                ("NodeList", if j.node_list.is_empty() { "(null)".into() } else { j.node_list.clone() }),
                ("NumNodes", j.nodes.to_string()),
                ("NumTasks", j.ntasks.to_string()),
                ("CPUs/Task", j.cpus_per_task.to_string()),
                ("NumCPUs", j.cpus.to_string()),
                ("MinMemoryNode", format!("{}M", j.mem_per_node_mb)),
                ("GPUs/Node", j.gpus_per_node.to_string()),
                ("WorkDir", j.workdir.clone()),
                ("StdOut", j.stdout.clone()),
                ("StdErr", j.stderr.clone()),
                ("Comment", j.comment.clone()),
                (
                    "Charge",
                    match &j.charge {
                        None => "(none)".into(),
                        Some(c) => format!(
                            "{} {} held from {}{}{}{}",
                            c.held,
                            c.unit,
                            if c.funding == "grant" {
                                format!("grant {}", c.grant_id.unwrap_or(0))
                            } else {
                                "the wallet".into()
                            },
                            c.charged.as_ref().map(|v| format!("; charged {v} {}", c.unit)).unwrap_or_default(),
                            c.owner_share
                                .as_ref()
                                .filter(|s| s.as_str() != "0.00")
                                .map(|s| format!(" ({s} to the nodes' owners)"))
                                .unwrap_or_default(),
                            if c.runs > 1 || c.preempted_runs > 0 {
                                format!(" over {} runs, {} ended by an owner's preemption", c.runs, c.preempted_runs)
                            } else {
                                String::new()
                            },
                        ),
                    }
                ),
            ])
        )
    });
    Ok(())
}

/// `cancel`, `hold` or `release` each job; reports every failure, exits 1 if any.
pub async fn act(client: &Client, verb: &str, words: &[String], out: &Output) -> anyhow::Result<()> {
    anyhow::ensure!(!words.is_empty(), "name at least one job id");
    let mut job_ids = Vec::new();
    for word in words {
        let whole = resolve(client, word, true).await?;
        // A whole array: act on the tasks that can still be acted on.
        if whole.len() > 1 {
            let tasks: Vec<Job> = client.get(&format!("/api/v1/jobs?ids={word}&active=true")).await?;
            job_ids.extend(tasks.iter().filter(|t| verb == "cancel" || t.state == "PENDING").map(|t| t.job_id));
        } else {
            job_ids.extend(whole);
        }
    }
    let mut done = Vec::new();
    let mut failed = 0;
    for id in &job_ids {
        match client.post::<_, Job>(&format!("/api/v1/jobs/{id}/{verb}"), &()).await {
            Ok(job) => done.push(job),
            Err(err) => {
                eprintln!("lushan: job {id}: {err}");
                failed += 1;
            }
        }
    }
    out.print(&done, |jobs| {
        for job in jobs {
            let what = match verb {
                "cancel" if job.state == "RUNNING" => "is being cancelled".to_owned(),
                "cancel" => "cancelled".to_owned(),
                "hold" => "held".to_owned(),
                _ => "released".to_owned(),
            };
            println!("Job {} {what}.", display_id(job));
        }
    });
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} jobs could not be {}",
        job_ids.len(),
        if verb == "cancel" { "cancelled" } else { "changed" }
    );
    Ok(())
}

/// A time as sacct takes it, in this machine's time zone, as epoch ms.
fn parse_time(text: &str) -> anyhow::Result<i64> {
    let tz = jiff::tz::TimeZone::system();
    let now = jiff::Timestamp::now();
    let zoned = match text {
        "now" => now.to_zoned(tz),
        "today" => now.to_zoned(tz.clone()).date().at(0, 0, 0, 0).to_zoned(tz)?,
        _ => {
            let civil: jiff::civil::DateTime = match text.parse::<jiff::civil::DateTime>() {
                Ok(dt) => dt,
                Err(_) => text.parse::<jiff::civil::Date>().map(|d| d.at(0, 0, 0, 0)).map_err(|_| {
                    anyhow::anyhow!("`{text}` is not a time: use YYYY-MM-DD[THH:MM[:SS]], today or now")
                })?,
            };
            civil.to_zoned(tz)?
        }
    };
    Ok(zoned.timestamp().as_millisecond())
}

fn millis(text: &Option<String>) -> Option<i64> {
    text.as_deref().and_then(|t| t.parse::<jiff::Timestamp>().ok()).map(|t| t.as_millisecond())
}

/// `1.5G`-style sizes from KiB, as sacct prints MaxRSS.
fn kib(value: Option<i64>) -> String {
    match value {
        None => String::new(),
        Some(k) if k >= 1024 * 1024 => format!("{:.1}G", k as f64 / 1024.0 / 1024.0),
        Some(k) if k >= 1024 => format!("{:.1}M", k as f64 / 1024.0),
        Some(k) => format!("{k}K"),
    }
}

/// CPU time as sacct prints TotalCPU: `MM:SS.mmm` or `HH:MM:SS`.
fn cpu_time(ms: Option<i64>) -> String {
    match ms {
        None => String::new(),
        Some(ms) if ms < 3_600_000 => format!("{:02}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000),
        Some(ms) => lushan_model::format_elapsed(ms / 1000),
    }
}

pub async fn acct(client: &Client, args: AcctArgs, out: &Output) -> anyhow::Result<()> {
    let _ = args.allocations;
    let start = args.start.as_deref().map(parse_time).transpose()?;
    let end = args.end.as_deref().map(parse_time).transpose()?;
    let path = format!("/api/v1/jobs{}", query(&[("user", args.user), ("state", args.states), ("ids", args.jobs)]));
    let mut jobs: Vec<Job> = client.get(&path).await?;
    jobs.retain(|j| {
        let still_running_at = |t: i64| millis(&j.end_time).is_none_or(|e| e >= t);
        let submitted_before = |t: i64| millis(&Some(j.submit_time.clone())).is_some_and(|s| s <= t);
        start.is_none_or(still_running_at) && end.is_none_or(submitted_before)
    });
    out.print(&jobs, |jobs| {
        let rows = jobs
            .iter()
            .map(|j| {
                vec![
                    display_id(j),
                    j.name.clone(),
                    j.partition.clone(),
                    j.project.clone(),
                    j.cpus.to_string(),
                    j.state.clone(),
                    lushan_model::format_elapsed(j.elapsed_secs),
                    cpu_time(j.total_cpu_ms),
                    kib(j.max_rss_kib),
                    if j.exit_code.is_empty() { "0:0".into() } else { j.exit_code.clone() },
                ]
            })
            .collect();
        let headers = [
            "jobid",
            "jobname",
            "partition",
            "account",
            "alloccpus",
            "state",
            "elapsed",
            "totalcpu",
            "maxrss",
            "exitcode",
        ];
        println!("{}", table(&headers, rows));
    });
    Ok(())
}

/// `lushan logs`: prints the output; with `--follow`, polls for more until
/// the job has ended and everything is printed.
pub async fn logs(client: &Client, job_word: &str, follow: bool, stderr: bool, out: &Output) -> anyhow::Result<()> {
    let job_id = resolve(client, job_word, false)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("job {job_word} not found"))?;
    let stream = if stderr { "stderr" } else { "stdout" };
    let mut offset = 0u64;
    let mut chunks = Vec::new();
    loop {
        let chunk: JobOutput =
            client.get(&format!("/api/v1/jobs/{job_id}/output?stream={stream}&offset={offset}")).await?;
        let ended = !matches!(chunk.job_state.as_str(), "PENDING" | "RUNNING");
        let caught_up = chunk.next_offset >= chunk.size;
        offset = chunk.next_offset;
        if out.is_json() {
            chunks.push(chunk);
        } else {
            print!("{}", chunk.data);
            std::io::stdout().flush()?;
        }
        if caught_up && (!follow || ended) {
            break;
        }
        if caught_up {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    if out.is_json() {
        out.print(&chunks, |_| {});
    }
    Ok(())
}
