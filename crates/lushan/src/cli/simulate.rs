//! `lushan simulate`: replays a workload trace through the scheduler with a
//! simulated clock (crate `lushan-sim`). Runs offline: no server needed.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::ValueEnum;
use lushan_scheduler::pool::BackfillOrder;
use lushan_scheduler::priority::{Order, Weights};
use lushan_sim::load::{Estimates, Filter, Procs};
use lushan_sim::{BackfillKind, Conventions, Report, Reservation, Setup, simulate, swf};
use serde_json::json;

use crate::output::Output;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    Fcfs,
    Sjf,
    F1,
    Multifactor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackfillArg {
    None,
    Easy,
    Conservative,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackfillOrderArg {
    /// Jobs behind the blocked head are tried in submission order.
    Submit,
    /// Shortest estimate first (EASY-SJBF).
    Shortest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EstimatesArg {
    User,
    Actual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConventionsArg {
    Classic,
    Rlscheduler,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReservationArg {
    Recompute,
    Fixed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FilterArg {
    Classic,
    Rlscheduler,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum JobProcsArg {
    /// Requested processors (field 8), allocated (field 5) where missing.
    Requested,
    /// The larger of requested and allocated.
    Larger,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum YesNo {
    Yes,
    No,
}

/// Replay an SWF trace (plain or gzipped) through the scheduler.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  lushan simulate traces/SDSC-SP2-1998-4.2-cln.swf.gz\n  \
    lushan simulate --backfill-order shortest --estimates actual traces/KTH-SP2-1996-2.swf.gz\n  \
    lushan simulate --conventions rlscheduler --order sjf --skip 1981 traces/lublin_256.swf.gz\n  \
    lushan simulate --compare fcfs+easy multifactor+easy sjf+conservative traces/KTH-SP2-1996-2.swf.gz\n\n\
    docs/simulation.md explains every convention and reproduces the published results.")]
pub struct SimulateArgs {
    /// The trace; with --compare, the policies to compare first (ORDER+BACKFILL, e.g. fcfs+easy,
    /// multifactor+easy, sjf+none, fcfs+easy-sjbf, fcfs+conservative), then the trace.
    #[arg(required = true, value_name = "TRACE")]
    inputs: Vec<String>,
    /// Compare policies side by side on one trace.
    #[arg(long)]
    compare: bool,
    /// A preset of conventions; the flags below change single conventions.
    #[arg(long, value_enum, default_value = "classic")]
    conventions: ConventionsArg,
    #[arg(long, value_enum)]
    order: Option<OrderArg>,
    #[arg(long, value_enum)]
    backfill: Option<BackfillArg>,
    #[arg(long, value_enum)]
    backfill_order: Option<BackfillOrderArg>,
    /// EASY's reservation: recomputed at every event, or fixed when the head blocks (RLScheduler).
    #[arg(long, value_enum)]
    reservation: Option<ReservationArg>,
    /// Time limits from the trace's requested times (user) or the real runtimes (actual).
    #[arg(long, value_enum)]
    estimates: Option<EstimatesArg>,
    /// Which records are dropped or repaired on loading.
    #[arg(long, value_enum)]
    filter: Option<FilterArg>,
    /// Which processor count a job asks for.
    #[arg(long, value_enum)]
    job_procs: Option<JobProcsArg>,
    /// Cut runtimes longer than the requested time to it (jobs killed at their limit).
    #[arg(long, value_enum)]
    cap_runtime: Option<YesNo>,
    /// Machine size in processors (default: the header's MaxProcs, else MaxNodes).
    #[arg(long)]
    procs: Option<u64>,
    /// Replay only this many jobs (after --skip).
    #[arg(long)]
    jobs: Option<usize>,
    /// Skip this many loaded jobs first.
    #[arg(long)]
    skip: Option<usize>,
}

/// One policy to replay, as `--compare` names it.
#[derive(Clone, Copy, Debug)]
struct PolicySpec {
    order: OrderArg,
    backfill: BackfillArg,
    sjbf: bool,
}

impl PolicySpec {
    fn parse(text: &str) -> anyhow::Result<PolicySpec> {
        let (order, backfill) = text.split_once('+').with_context(|| {
            format!("policy `{text}`: write ORDER+BACKFILL, e.g. fcfs+easy (orders: fcfs, sjf, f1, multifactor; backfill: none, easy, easy-sjbf, conservative)")
        })?;
        let order = OrderArg::from_str(order, true).map_err(|_| {
            anyhow::anyhow!("policy `{text}`: unknown order `{order}` (orders: fcfs, sjf, f1, multifactor)")
        })?;
        let (backfill, sjbf) = match backfill {
            "easy-sjbf" | "sjbf" => (BackfillArg::Easy, true),
            other => (
                BackfillArg::from_str(other, true).map_err(|_| {
                    anyhow::anyhow!(
                        "policy `{text}`: unknown backfilling `{other}` (none, easy, easy-sjbf, conservative)"
                    )
                })?,
                false,
            ),
        };
        Ok(PolicySpec { order, backfill, sjbf })
    }

    fn name(&self) -> String {
        let order = self.order.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default();
        let backfill = if self.sjbf {
            "easy-sjbf".to_owned()
        } else {
            self.backfill.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default()
        };
        format!("{order}+{backfill}")
    }
}

pub fn run(args: SimulateArgs, out: &Output) -> anyhow::Result<()> {
    let (policies, trace_path) = if args.compare {
        let (trace, policies) = args.inputs.split_last().context("name a trace")?;
        if policies.len() < 2 {
            bail!(
                "--compare needs at least two policies before the trace, e.g. `--compare fcfs+easy multifactor+easy TRACE`"
            );
        }
        let policies = policies.iter().map(|p| PolicySpec::parse(p)).collect::<anyhow::Result<Vec<_>>>()?;
        (Some(policies), PathBuf::from(trace))
    } else {
        if args.inputs.len() > 1 {
            bail!(
                "one trace at a time (got {}); to compare policies, use `--compare POLICY POLICY... TRACE`",
                args.inputs.len()
            );
        }
        (None, PathBuf::from(&args.inputs[0]))
    };
    let text = read_trace(&trace_path)?;
    let trace = swf::parse(&text);
    drop(text);
    let name = trace_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();

    let Some(policies) = policies else {
        let setup = setup_from(&args, None);
        let (report, seconds) = replay(&trace, &setup, out)?;
        let value = report_json(&name, &trace, &setup, &report, seconds);
        out.print(&value, |_| print_report(&name, &setup, &report, seconds));
        return Ok(());
    };
    let mut results = Vec::new();
    for policy in &policies {
        let setup = setup_from(&args, Some(policy));
        let (report, seconds) = replay(&trace, &setup, out)?;
        results.push((policy.name(), setup, report, seconds));
    }
    let value = json!({
        "trace": name,
        "policies": results.iter().map(|(n, setup, report, seconds)| {
            let mut v = report_json(&name, &trace, setup, report, *seconds);
            v["policy"] = json!(n);
            v
        }).collect::<Vec<_>>(),
    });
    out.print(&value, |_| print_comparison(&name, &results));
    Ok(())
}

/// The preset, then each flag, then (for --compare) the policy.
fn setup_from(args: &SimulateArgs, policy: Option<&PolicySpec>) -> Setup {
    let conventions = match args.conventions {
        ConventionsArg::Classic => Conventions::Classic,
        ConventionsArg::Rlscheduler => Conventions::Rlscheduler,
    };
    let mut setup = Setup::preset(conventions);
    let order = policy.map(|p| p.order).or(args.order);
    if let Some(order) = order {
        setup.order = match order {
            OrderArg::Fcfs => Order::Fcfs,
            OrderArg::Sjf => Order::Sjf,
            OrderArg::F1 => Order::F1,
            OrderArg::Multifactor => Order::Multifactor(Weights::default()),
        };
    }
    if let Some(backfill) = policy.map(|p| p.backfill).or(args.backfill) {
        setup.backfill = match backfill {
            BackfillArg::None => BackfillKind::None,
            BackfillArg::Easy => BackfillKind::Easy,
            BackfillArg::Conservative => BackfillKind::Conservative,
        };
    }
    let backfill_order =
        if policy.is_some_and(|p| p.sjbf) { Some(BackfillOrderArg::Shortest) } else { args.backfill_order };
    if let Some(backfill_order) = backfill_order {
        setup.backfill_order = match backfill_order {
            BackfillOrderArg::Shortest => BackfillOrder::Shortest,
            BackfillOrderArg::Submit => BackfillOrder::Submit,
        };
    }
    if let Some(reservation) = args.reservation {
        setup.reservation = match reservation {
            ReservationArg::Recompute => Reservation::Recompute,
            ReservationArg::Fixed => Reservation::Fixed,
        };
    }
    if let Some(estimates) = args.estimates {
        setup.loading.estimates = match estimates {
            EstimatesArg::User => Estimates::User,
            EstimatesArg::Actual => Estimates::Actual,
        };
    }
    if let Some(filter) = args.filter {
        setup.loading.filter = match filter {
            FilterArg::Classic => Filter::Classic,
            FilterArg::Rlscheduler => Filter::Rlscheduler,
        };
    }
    if let Some(procs) = args.job_procs {
        setup.loading.procs = match procs {
            JobProcsArg::Requested => Procs::Requested,
            JobProcsArg::Larger => Procs::Larger,
        };
    }
    if let Some(cap) = args.cap_runtime {
        setup.loading.cap_runtime = cap == YesNo::Yes;
    }
    setup.procs = args.procs.or(setup.procs);
    if let Some(skip) = args.skip {
        setup.skip = skip;
    }
    if args.jobs.is_some() {
        setup.jobs = args.jobs;
    } else if conventions == Conventions::Rlscheduler && args.skip.is_none() {
        // Without a window the preset replays the whole trace.
        setup.jobs = None;
    }
    setup
}

fn read_trace(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the trace {}", path.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .with_context(|| format!("{} is gzipped but cannot be decompressed", path.display()))?;
        Ok(text)
    } else {
        String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{} is neither a text SWF trace nor gzipped", path.display()))
    }
}

fn replay(trace: &swf::Trace, setup: &Setup, out: &Output) -> anyhow::Result<(Report, f64)> {
    let show = !out.is_json() && std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut progress = |done: usize, total: usize| {
        if show {
            let width = 40;
            let filled = done * width / total.max(1);
            eprint!(
                "\r[{}{}] {:>3}% {done}/{total} jobs",
                "#".repeat(filled),
                " ".repeat(width - filled),
                done * 100 / total.max(1)
            );
            let _ = std::io::stderr().flush();
        }
    };
    let report = simulate(trace, setup, &mut progress).map_err(anyhow::Error::msg)?;
    if show {
        eprint!("\r{}\r", " ".repeat(70));
    }
    Ok((report, started.elapsed().as_secs_f64()))
}

fn order_name(order: &Order) -> &'static str {
    match order {
        Order::Fcfs => "fcfs",
        Order::Sjf => "sjf",
        Order::F1 => "f1",
        Order::Multifactor(_) => "multifactor",
    }
}

fn conventions_json(setup: &Setup, report: &Report) -> serde_json::Value {
    json!({
        "preset": match setup.conventions { Conventions::Classic => "classic", Conventions::Rlscheduler => "rlscheduler" },
        "filter": match setup.loading.filter { Filter::Classic => "classic: drop runtime <= 0, requested time <= 0", Filter::Rlscheduler => "rlscheduler: runtime < 0 -> 10 s, drop runtime 0, no requested time -> runtime" },
        "processors_per_job": match setup.loading.procs { Procs::Requested => "requested (allocated where missing)", Procs::Larger => "max(allocated, requested)" },
        "estimates": match setup.loading.estimates { Estimates::User => "user", Estimates::Actual => "actual" },
        "cap_runtime_at_estimate": setup.loading.cap_runtime,
        "job_order": if setup.loading.sort_by_id { "job number" } else { "submit time" },
        "reservation": match setup.reservation { Reservation::Recompute => "recomputed at every event, extra-processors rule", Reservation::Fixed => "fixed when the head blocks, strict end before it, no extra rule" },
        "fixed_head": setup.fixed_head,
        "free_at_expected_end": setup.free_at_expected_end && setup.loading.cap_runtime,
        "skip": setup.skip,
        "window": setup.jobs,
        "procs": report.procs,
        "utilization": setup.utilization.describe(),
        "bounded_slowdown": "max(1, (wait + run) / max(run, 10))",
    })
}

fn backfill_name(setup: &Setup) -> String {
    let base = match setup.backfill {
        BackfillKind::None => "none",
        BackfillKind::Easy => "easy",
        BackfillKind::Conservative => "conservative",
    };
    match (setup.backfill, setup.backfill_order) {
        (BackfillKind::None, _) => base.to_owned(),
        (_, BackfillOrder::Shortest) => format!("{base} (shortest first)"),
        (_, _) => format!("{base} (submit order)"),
    }
}

fn report_json(name: &str, trace: &swf::Trace, setup: &Setup, report: &Report, seconds: f64) -> serde_json::Value {
    let s = &report.summary;
    json!({
        "trace": name,
        "records": report.records,
        "malformed": report.malformed,
        "malformed_lines": trace.malformed.iter().take(20).map(|m| json!({"line": m.line, "reason": m.reason})).collect::<Vec<_>>(),
        "dropped": report.dropped,
        "too_large": report.too_large.len(),
        "too_large_jobs": report.too_large.iter().take(20).collect::<Vec<_>>(),
        "machine": { "procs": report.procs },
        "order": order_name(&setup.order),
        "backfill": backfill_name(setup),
        "conventions": conventions_json(setup, report),
        "jobs": s.jobs,
        "makespan": s.makespan,
        "utilization": s.utilization,
        "mean_wait": s.mean_wait,
        "max_wait": s.max_wait,
        "mean_flow": s.mean_flow,
        "mean_bounded_slowdown": s.mean_bounded_slowdown,
        "user_wait": { "users": s.user_wait.users, "mean": s.user_wait.mean, "p95": s.user_wait.p95, "max": s.user_wait.max },
        "seconds": seconds,
        "jobs_per_second": if seconds > 0.0 { s.jobs as f64 / seconds } else { 0.0 },
    })
}

fn thousands(n: f64) -> String {
    let whole = n.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 { format!("-{out}") } else { out }
}

fn print_report(name: &str, setup: &Setup, report: &Report, seconds: f64) {
    let s = &report.summary;
    println!(
        "Trace        {name}: {} records, {} malformed, {} dropped by the filter, {} larger than the machine (skipped)",
        thousands(report.records as f64),
        report.malformed,
        thousands(report.dropped as f64),
        report.too_large.len()
    );
    println!("Machine      {} processors", thousands(report.procs as f64));
    let c = conventions_json(setup, report);
    println!(
        "Conventions  {}; estimates {}; runtimes {}capped; reservation {}; jobs by {}{}",
        c["preset"].as_str().unwrap_or_default(),
        c["estimates"].as_str().unwrap_or_default(),
        if setup.loading.cap_runtime { "" } else { "not " },
        c["reservation"].as_str().unwrap_or_default(),
        c["job_order"].as_str().unwrap_or_default(),
        match setup.jobs {
            Some(n) => format!("; window of {n} jobs from {}", setup.skip),
            None if setup.skip > 0 => format!("; from job {}", setup.skip),
            None => String::new(),
        }
    );
    println!("Policy       {} + backfill {}", order_name(&setup.order), backfill_name(setup));
    println!();
    println!("Jobs                    {}", thousands(s.jobs as f64));
    println!("Makespan                {} s", thousands(s.makespan as f64));
    println!("Utilization             {:.4}  ({})", s.utilization, setup.utilization.describe());
    println!("Mean wait               {} s (max {} s)", thousands(s.mean_wait), thousands(s.max_wait as f64));
    println!("Mean flow               {} s", thousands(s.mean_flow));
    println!("Mean bounded slowdown   {:.2}", s.mean_bounded_slowdown);
    println!(
        "Per-user mean wait      {} users: mean {} s, p95 {} s, max {} s",
        s.user_wait.users,
        thousands(s.user_wait.mean),
        thousands(s.user_wait.p95),
        thousands(s.user_wait.max)
    );
    println!(
        "Replayed in {seconds:.2} s ({} jobs/s)",
        thousands(if seconds > 0.0 { s.jobs as f64 / seconds } else { 0.0 })
    );
}

fn print_comparison(name: &str, results: &[(String, Setup, Report, f64)]) {
    let mut headers = vec!["".to_owned()];
    headers.extend(results.iter().map(|r| r.0.clone()));
    let row = |label: &str, f: &dyn Fn(&Report, f64) -> String| {
        let mut row = vec![label.to_owned()];
        row.extend(results.iter().map(|r| f(&r.2, r.3)));
        row
    };
    let rows = vec![
        row("jobs", &|r, _| thousands(r.summary.jobs as f64)),
        row("mean bounded slowdown", &|r, _| format!("{:.2}", r.summary.mean_bounded_slowdown)),
        row("mean wait (s)", &|r, _| thousands(r.summary.mean_wait)),
        row("max wait (s)", &|r, _| thousands(r.summary.max_wait as f64)),
        row("utilization", &|r, _| format!("{:.4}", r.summary.utilization)),
        row("makespan (s)", &|r, _| thousands(r.summary.makespan as f64)),
        row("per-user mean wait: mean (s)", &|r, _| thousands(r.summary.user_wait.mean)),
        row("per-user mean wait: p95 (s)", &|r, _| thousands(r.summary.user_wait.p95)),
        row("per-user mean wait: max (s)", &|r, _| thousands(r.summary.user_wait.max)),
        row("replay (jobs/s)", &|r, s| thousands(if s > 0.0 { r.summary.jobs as f64 / s } else { 0.0 })),
    ];
    println!("Trace {name}, {} processors", thousands(results[0].2.procs as f64));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    println!("{}", crate::output::table(&headers, rows));
}
