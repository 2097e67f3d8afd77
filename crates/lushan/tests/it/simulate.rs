//! `lushan simulate` as a user runs it: the real binary on the repository's
//! traces, human and JSON output, and bad input.

use std::process::Command;

use crate::harness::BIN;

fn traces() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../traces")
}

fn simulate(args: &[&str]) -> std::process::Output {
    Command::new(BIN).arg("simulate").args(args).output().expect("run lushan simulate")
}

#[test]
fn kth_replays_with_every_convention_named_in_the_json() {
    let trace = traces().join("KTH-SP2-1996-2.swf.gz");
    let out = simulate(&["--json", "--backfill-order", "shortest", trace.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["jobs"], 28_481);
    assert_eq!(v["machine"]["procs"], 100);
    let bsld = v["mean_bounded_slowdown"].as_f64().unwrap();
    assert!((bsld - 69.41).abs() < 0.005, "EASY-SJBF on KTH: {bsld}");
    for key in ["makespan", "utilization", "mean_wait", "max_wait", "user_wait"] {
        assert!(!v[key].is_null(), "{key} missing from {v}");
    }
    let conventions = &v["conventions"];
    for key in ["preset", "filter", "estimates", "cap_runtime_at_estimate", "reservation", "procs", "utilization"] {
        assert!(!conventions[key].is_null(), "convention {key} missing from {conventions}");
    }
}

#[test]
fn compare_prints_policies_side_by_side() {
    let trace = traces().join("lublin_256.swf.gz");
    // Lublin's model has no requested times: the classic filter would drop
    // every job, and says so.
    let classic = simulate(&["--json", trace.to_str().unwrap()]);
    assert!(!classic.status.success());
    assert!(String::from_utf8_lossy(&classic.stdout).contains("try --filter rlscheduler"));
    let out = simulate(&[
        "--filter",
        "rlscheduler",
        "--compare",
        "fcfs+easy",
        "sjf+none",
        "multifactor+conservative",
        trace.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in ["FCFS+EASY", "SJF+NONE", "MULTIFACTOR+CONSERVATIVE", "per-user mean wait: p95", "256 processors"] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[test]
fn malformed_lines_are_counted_and_bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.swf");
    std::fs::write(
        &path,
        "; MaxProcs: 8   (a comment after the number)\n\
         1 0 0 100 4 -1 -1 4 200 -1 1 1 1 -1 -1 -1 -1 -1\n\
         this line is not a job\n\
         2 10 0 50 8 -1 -1 8 100 -1 1 2 1 -1 -1 -1 -1 -1\n\
         3 20 0 50 64 -1 -1 64 100 -1 1 2 1 -1 -1 -1 -1 -1\n",
    )
    .unwrap();
    let out = simulate(&["--json", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["records"].as_u64(), v["malformed"].as_u64(), v["too_large"].as_u64()), (Some(3), Some(1), Some(1)));
    assert_eq!(v["malformed_lines"][0]["line"], 3);
    // Job 2 waits for job 1 (8 processors in all): 100 - 10 s.
    assert_eq!(v["max_wait"], 90);

    let missing = simulate(&[dir.path().join("nope.swf").to_str().unwrap()]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the trace"));

    std::fs::write(dir.path().join("headless.swf"), "1 0 0 100 4 -1 -1 4 200 -1 1 1 1 -1 -1 -1 -1 -1\n").unwrap();
    let headless = simulate(&[dir.path().join("headless.swf").to_str().unwrap()]);
    assert!(!headless.status.success());
    assert!(String::from_utf8_lossy(&headless.stderr).contains("--procs N"));

    let bad_policy = simulate(&["--compare", "fcfs+easy", "fifo+easy", path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&bad_policy.stderr).contains("unknown order `fifo`"));
}
