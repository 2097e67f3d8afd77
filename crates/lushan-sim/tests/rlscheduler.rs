//! Conformance: every row of `traces/reference/rlscheduler_windows.csv`
//! (RLScheduler's published baselines, per 1,024-job window) reproduced by
//! `Conventions::Rlscheduler`.

mod common;

use std::collections::BTreeMap;

use lushan_scheduler::priority::Order;
use lushan_sim::{BackfillKind, Conventions, Setup, simulate, swf};

struct Row {
    trace: String,
    window: usize,
    start_index: usize,
    first_job_id: i64,
    last_job_id: i64,
    policy: String,
    backfill: bool,
    avg_bsld: f64,
    utilization: f64,
    avg_wait: f64,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(common::traces_dir().join("reference/rlscheduler_windows.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Row {
                trace: f[0].to_string(),
                window: f[1].parse().unwrap(),
                start_index: f[2].parse().unwrap(),
                first_job_id: f[3].parse().unwrap(),
                last_job_id: f[4].parse().unwrap(),
                policy: f[6].to_string(),
                backfill: f[7] == "1",
                avg_bsld: f[8].parse().unwrap(),
                utilization: f[9].parse().unwrap(),
                avg_wait: f[10].parse().unwrap(),
            }
        })
        .collect()
}

#[test]
fn every_published_window_is_reproduced() {
    let rows = rows();
    assert_eq!(rows.len(), 240, "4 traces x 10 windows x 3 policies x 2");
    let mut traces: BTreeMap<String, swf::Trace> = BTreeMap::new();
    let mut failures = Vec::new();
    for row in &rows {
        let trace = traces.entry(row.trace.clone()).or_insert_with(|| swf::parse(&common::read_trace(&row.trace)));
        let mut setup = Setup::preset(Conventions::Rlscheduler);
        setup.order = match row.policy.as_str() {
            "fcfs" => Order::Fcfs,
            "sjf" => Order::Sjf,
            "f1" => Order::F1,
            other => panic!("unknown policy {other}"),
        };
        setup.backfill = if row.backfill { BackfillKind::Easy } else { BackfillKind::None };
        setup.skip = row.start_index;
        let report = simulate(trace, &setup, &mut |_, _| {}).unwrap();
        assert_eq!(report.jobs.first().map(|j| j.id), Some(row.first_job_id));
        assert_eq!(report.jobs.last().map(|j| j.id), Some(row.last_job_id));
        let s = report.summary;
        let close =
            |ours: f64, published: f64, decimals: i32| (ours - published).abs() <= 0.5 * 10f64.powi(-decimals) + 1e-9;
        if !(close(s.mean_bounded_slowdown, row.avg_bsld, 4)
            && close(s.utilization, row.utilization, 4)
            && close(s.mean_wait, row.avg_wait, 1))
        {
            failures.push(format!(
                "{} window {} {} backfill={}: bsld {:.4} (published {:.4}), utilization {:.4} ({:.4}), wait {:.1} ({:.1})",
                row.trace, row.window, row.policy, row.backfill, s.mean_bounded_slowdown, row.avg_bsld, s.utilization,
                row.utilization, s.mean_wait, row.avg_wait
            ));
        }
    }
    assert!(failures.is_empty(), "{} of 240 rows differ:\n{}", failures.len(), failures.join("\n"));
}
