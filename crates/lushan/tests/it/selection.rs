//! Which jobs a job id names, as Slurm reads it: `2` is job 2 or, when 2
//! is an array, every task of it; `2_1` is one task. Every fixture here
//! holds a plain job and two arrays, so "all my jobs" and "this array's
//! tasks" are different sets (a listing that dropped its array filter once
//! made `lushan cancel ARRAY` cancel every job the caller could see).

use crate::harness::{Sandbox, Server, cli, cli_in, member_alice, wait_for};
use serde_json::Value;
use std::path::PathBuf;

#[test]
fn an_array_id_selects_that_array_and_a_task_id_one_task_on_sqlite() {
    selection_on(None);
}

#[test]
fn an_array_id_selects_that_array_and_a_task_id_one_task_on_postgresql() {
    let Ok(admin_url) = std::env::var("LUSHAN_TEST_DATABASE_URL") else {
        eprintln!("LUSHAN_TEST_DATABASE_URL is not set: the PostgreSQL run is skipped here (.ci/run sets it)");
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = runtime.block_on(lushan_store::testing::create_scratch_database(&admin_url, "lushan_it")).unwrap();
    selection_on(Some(&url));
    runtime.block_on(lushan_store::testing::drop_scratch_database(&admin_url, &url)).unwrap();
}

/// The transcript of the bug report, then every command that takes a job
/// id, on a platform with job 1 and arrays 2 (tasks 0-2) and 5 (0-1).
fn selection_on(database_url: Option<&str>) {
    let sandbox = Sandbox::new();
    let (server, alice, work) = platform(&sandbox, database_url);
    let submit = |args: &[&str]| -> String {
        let mut all = vec!["--json", "submit", "-A", "cfd-lab", "-t", "5", "--hold"];
        all.extend_from_slice(args);
        cli_in(&alice, &work, &all).ok().json()["job"]["job_id"].as_i64().unwrap().to_string()
    };
    let plain = submit(&["--wrap", "sleep 100"]);
    let first = submit(&["--array=0-2", "--wrap", "sleep 100"]);
    let second = submit(&["--array=0-1", "--wrap", "echo task $SLURM_ARRAY_TASK_ID; sleep 100"]);
    let all_jobs = || cli(&alice, &["--json", "acct"]).ok().json();
    assert_eq!(all_jobs().as_array().unwrap().len(), 6);

    // Listings: `-j ARRAY` lists all of its tasks, `-j ARRAY_T` one.
    for command in ["jobs", "acct"] {
        let listed = cli(&alice, &["--json", command, "-j", &first]).ok().json();
        assert_eq!(task_ids(&listed, &first), vec![0, 1, 2], "{command} -j {first}: {listed}");
        assert_eq!(listed.as_array().unwrap().len(), 3, "{command} -j {first}: {listed}");
        let one = cli(&alice, &["--json", command, "-j", &format!("{first}_1")]).ok().json();
        assert_eq!(task_ids(&one, &first), vec![1], "{command} -j {first}_1: {one}");
        assert_eq!(one.as_array().unwrap().len(), 1, "{command} -j {first}_1: {one}");
        let plain_only = cli(&alice, &["--json", command, "-j", &plain]).ok().json();
        assert_eq!(plain_only.as_array().unwrap().len(), 1, "{command} -j {plain}: {plain_only}");
        let both = cli(&alice, &["--json", command, "-j", &format!("{plain},{second}_0")]).ok().json();
        assert_eq!(both.as_array().unwrap().len(), 2, "{command} -j {plain},{second}_0: {both}");
    }

    // `show` names the task of the array asked for, not a task 1 of any array.
    let shown = cli(&alice, &["--json", "show", &format!("{second}_1")]).ok().json();
    assert_eq!((shown["array_job_id"].to_string(), shown["array_task_id"].as_i64()), (second.clone(), Some(1)));
    // A job id that is not an array has no tasks: `2+1` is a task of array
    // 2, and `3_1` is not task 1 of whichever array has one.
    let task_of_first = (first.parse::<i64>().unwrap() + 1).to_string();
    for verb in ["show", "cancel", "hold", "release", "logs"] {
        let refused = cli(&alice, &[verb, &format!("{task_of_first}_1")]);
        assert_eq!(refused.code, 1, "{verb} {task_of_first}_1 must name nothing: {}", refused.stdout);
        assert!(refused.stderr.contains("not found"), "{verb}: {}", refused.stderr);
    }

    // `release A_T` releases that task alone, which then runs; `logs A_T` reads it.
    cli(&alice, &["release", &format!("{second}_1")]).ok();
    let held: Vec<(String, bool)> =
        all_jobs().as_array().unwrap().iter().map(|j| (display_id(j), j["held"].as_bool().unwrap())).collect();
    for (id, is_held) in &held {
        assert_eq!(*is_held, id != &format!("{second}_1"), "after release {second}_1: {held:?}");
    }
    wait_for(30, "the released task to print", || {
        let out = cli(&alice, &["logs", &format!("{second}_1")]);
        (out.code == 0 && out.stdout == "task 1\n").then_some(())
    });
    // `hold A_T` holds one pending task: put task 0 of the second array
    // through release and hold again.
    cli(&alice, &["release", &format!("{second}_0")]).ok();
    let held_again = cli(&alice, &["hold", &format!("{second}_0")]);
    // It may have started in between; held or running, nothing else moved.
    if held_again.code == 0 {
        assert_eq!(held_again.stdout.trim(), format!("Job {second}_0 held."));
    }

    // Dependencies: `afterok:PLAIN_2` names a task of a job that is no array.
    let refused =
        cli_in(&alice, &work, &["submit", "-A", "cfd-lab", "-d", &format!("afterok:{plain}_2"), "--wrap", "true"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(refused.stderr.contains(&format!("job {plain}_2 does not exist")), "{}", refused.stderr);
    let refused =
        cli_in(&alice, &work, &["submit", "-A", "cfd-lab", "-d", &format!("afterok:{second}_2"), "--wrap", "true"]);
    assert!(refused.stderr.contains(&format!("job {second}_2 does not exist")), "{}", refused.stderr);

    // The transcript: cancelling the first array cancels its three tasks
    // and nothing else.
    let cancelled = cli(&alice, &["cancel", &first]).ok();
    let mut lines: Vec<&str> = cancelled.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, (0..3).map(|t| format!("Job {first}_{t} cancelled.")).collect::<Vec<_>>());
    for job in all_jobs().as_array().unwrap() {
        let in_first = job["array_job_id"].as_i64() == first.parse().ok();
        assert_eq!(job["state"] == "CANCELLED", in_first, "after cancel {first}: {job}");
    }
    // `cancel A_T` cancels that task alone.
    cli(&alice, &["cancel", &format!("{second}_1")]).ok();
    wait_for(30, "task 1 of the second array to end", || {
        let states: Vec<(String, String)> = all_jobs()
            .as_array()
            .unwrap()
            .iter()
            .map(|j| (display_id(j), j["state"].as_str().unwrap().to_owned()))
            .collect();
        let ended = |id: &str| states.iter().find(|(i, _)| i == id).is_some_and(|(_, s)| s == "CANCELLED");
        (ended(&format!("{second}_1")) && !ended(&plain)).then_some(())
    });
    let plain_job = cli(&alice, &["--json", "show", &plain]).ok().json();
    assert_eq!(plain_job["state"], "PENDING", "{plain_job}");
    cli(&alice, &["cancel", &plain, &second]).ok();
    server.stop();
}

/// A platform with member `alice` of project `cfd-lab`, on `database_url`
/// or SQLite; returns the server, alice's HOME and a work directory.
fn platform(sandbox: &Sandbox, database_url: Option<&str>) -> (Server, PathBuf, PathBuf) {
    let config = sandbox.path("lushan.toml");
    std::fs::write(&config, "run_jobs_as_server_user = true\nkill_wait_secs = 1\n").unwrap();
    let config = config.display().to_string();
    let mut args = vec!["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &config];
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    let server = sandbox.start(&args).unwrap();
    let alice = member_alice(sandbox, &server, None);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    (server, alice, work)
}

/// The task ids of `array` in a listing, sorted.
fn task_ids(listed: &Value, array: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["array_job_id"].as_i64() == array.parse().ok())
        .filter_map(|j| j["array_task_id"].as_i64())
        .collect();
    ids.sort_unstable();
    ids
}

fn display_id(job: &Value) -> String {
    match (job["array_job_id"].as_i64(), job["array_task_id"].as_i64()) {
        (Some(array), Some(task)) => format!("{array}_{task}"),
        _ => job["job_id"].to_string(),
    }
}
