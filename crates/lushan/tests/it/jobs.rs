//! Jobs on the local site, run for real: processes, output files, Slurm's
//! variables, exit codes, time limits, memory limits, cancellation, and a
//! server killed with SIGKILL while jobs run.

use crate::harness::{Sandbox, Server, cli, cli_with_stdin, member_alice, wait_for};
use crate::machine::running_as_root;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A platform whose jobs run as the server's own user (the tests may run
/// as root), with a 1 s grace time, and a member `alice` of project `cfd-lab`.
fn platform(sandbox: &Sandbox) -> (Server, PathBuf) {
    let server = sandbox.up("run_jobs_as_server_user = true\nkill_wait_secs = 1\n");
    let alice = member_alice(sandbox, &server, None);
    (server, alice)
}

/// Whether the tests run as root (as in CI): only then are jobs run as
/// mapped accounts.
fn job(home: &Path, id: &str) -> Value {
    cli(home, &["--json", "show", id]).ok().json()
}

fn wait_state(home: &Path, id: &str, state: &str, secs: u64) -> Value {
    wait_for(secs, &format!("job {id} to be {state}"), || {
        let j = job(home, id);
        (j["state"] == state).then_some(j)
    })
}

fn submit(home: &Path, dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--json", "submit"];
    all.extend_from_slice(args);
    let run = crate::harness::cli_in(home, dir, &all).ok();
    run.json()["job"]["job_id"].as_i64().unwrap().to_string()
}

#[test]
fn a_script_runs_unchanged_with_slurm_variables_and_its_exit_code() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("job.sh"),
        "#!/bin/bash\n#SBATCH -J env-check\n#SBATCH -n 1 -t 2\n#SBATCH -e err-%j.txt\n\
         echo \"id=$SLURM_JOB_ID name=$SLURM_JOB_NAME account=$SLURM_JOB_ACCOUNT ntasks=$SLURM_NTASKS cpus=$SLURM_CPUS_ON_NODE\"\n\
         echo \"partition=$SLURM_JOB_PARTITION nodes=$SLURM_JOB_NUM_NODES submit=$SLURM_SUBMIT_DIR cuda=[$CUDA_VISIBLE_DEVICES] args=$*\"\n\
         echo \"inherited=$SUBMIT_TEST_MARK pwd=$(pwd)\"\n\
         echo oops >&2\n\
         exit 3\n",
    )
    .unwrap();
    let id = submit(&alice, &work, &["job.sh", "first", "second"]);
    let ended = wait_state(&alice, &id, "FAILED", 30);
    assert_eq!(ended["exit_code"], "3:0");
    let out = std::fs::read_to_string(work.join(format!("slurm-{id}.out"))).unwrap();
    let work_text = work.display().to_string();
    assert!(out.contains(&format!("id={id} name=env-check account=cfd-lab ntasks=1 cpus=1")), "{out}");
    assert!(out.contains(&format!("partition=local nodes=1 submit={work_text} cuda=[] args=first second")), "{out}");
    assert!(out.contains(&format!("inherited=yes pwd={work_text}")), "{out}");
    assert_eq!(std::fs::read_to_string(work.join(format!("err-{id}.txt"))).unwrap(), "oops\n");
    assert_eq!(cli(&alice, &["logs", &id]).ok().stdout, out);
    assert_eq!(cli(&alice, &["logs", "--stderr", &id]).ok().stdout, "oops\n");

    // --wrap, --parsable, and a job that succeeds.
    let parsable = crate::harness::cli_in(&alice, &work, &["submit", "--parsable", "--wrap", "echo wrapped"]).ok();
    let id = parsable.stdout.trim().to_owned();
    assert!(id.parse::<i64>().is_ok(), "{}", parsable.stdout);
    let done = wait_state(&alice, &id, "COMPLETED", 30);
    assert_eq!(done["exit_code"], "0:0");
    assert_eq!(std::fs::read_to_string(work.join(format!("slurm-{id}.out"))).unwrap(), "wrapped\n");
    // A script on standard input, as sbatch takes it.
    let piped = crate::harness::cli_with_stdin_in(
        &alice,
        &work,
        &["--json", "submit", "-J", "piped"],
        "#!/bin/sh\necho from-stdin\n",
    )
    .ok();
    let id = piped.json()["job"]["job_id"].as_i64().unwrap().to_string();
    wait_state(&alice, &id, "COMPLETED", 30);
    assert_eq!(std::fs::read_to_string(work.join(format!("slurm-{id}.out"))).unwrap(), "from-stdin\n");

    // `srun` starts the command once per task, as in Slurm.
    std::fs::write(
        work.join("mpi.sh"),
        "#!/bin/bash\n#SBATCH -n 2\nsrun bash -c 'echo rank $SLURM_PROCID of $SLURM_NTASKS' | sort\nsrun -n 1 --mpi=pmix true\n",
    )
    .unwrap();
    let id = submit(&alice, &work, &["mpi.sh"]);
    let ran = wait_for(30, "the srun job to end", || {
        let j = job(&alice, &id);
        (j["state"] != "PENDING" && j["state"] != "RUNNING").then_some(j)
    });
    assert_eq!(ran["state"], "COMPLETED", "{ran}");
    let out = std::fs::read_to_string(work.join(format!("slurm-{id}.out"))).unwrap();
    assert!(out.starts_with("rank 0 of 2\nrank 1 of 2\n"), "{out}");
    let acct = cli(&alice, &["acct", "-X", "-S", "today"]).ok().stdout;
    assert!(acct.contains("COMPLETED") && acct.contains("FAILED") && acct.contains("MAXRSS"), "{acct}");
    let used = job(&alice, &id);
    assert!(used["max_rss_kib"].as_i64().is_some() && used["total_cpu_ms"].as_i64().is_some(), "{used}");
    server.stop();
}

#[test]
fn limits_are_enforced_and_cancel_works() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    // Over its time limit: SIGTERM, the grace time, SIGKILL, TIMEOUT.
    let slow = submit(&alice, &work, &["--time=0:02", "--wrap", "trap '' TERM; sleep 60"]);
    // Over its memory: killed, OUT_OF_MEMORY.
    let hungry = submit(
        &alice,
        &work,
        &["--mem=50M", "--wrap", "python3 -c \"x = b'x' * (300 * 1024 * 1024); import time; time.sleep(30)\""],
    );
    let timed_out = wait_state(&alice, &slow, "TIMEOUT", 30);
    assert!(timed_out["elapsed_secs"].as_i64().unwrap() >= 2, "{timed_out}");
    let oom = wait_state(&alice, &hungry, "OUT_OF_MEMORY", 30);
    assert!(oom["reason"].as_str().unwrap().contains("over its limit of 50 MiB"), "{oom}");

    // Following a job's output until it ends.
    let counting = submit(&alice, &work, &["--wrap", "for i in 1 2 3; do echo $i; sleep 0.4; done"]);
    wait_state(&alice, &counting, "RUNNING", 30);
    assert_eq!(cli(&alice, &["logs", "--follow", &counting]).ok().stdout, "1\n2\n3\n");

    // Signals reach the job's processes; cancel by name.
    let armed = work.join("trap-armed");
    let script =
        format!("trap 'echo got-usr1; exit 0' USR1; touch {}; while true; do sleep 0.1; done", armed.display());
    let trapping = submit(&alice, &work, &["-J", "trapper", "--wrap", &script]);
    wait_for(30, "the trap to be armed", || armed.exists().then_some(()));
    cli(&alice, &["scancel", "--signal=USR1", &trapping]).ok();
    wait_state(&alice, &trapping, "COMPLETED", 30);
    // Every process of the job gets it (the `sleep` too), as with scancel --signal.
    let trapped = std::fs::read_to_string(work.join(format!("slurm-{trapping}.out"))).unwrap();
    assert!(trapped.ends_with("got-usr1\n"), "{trapped}");
    let named = submit(&alice, &work, &["-J", "by-name", "--hold", "--wrap", "true"]);
    cli(&alice, &["scancel", "--name", "by-name"]).ok();
    assert_eq!(job(&alice, &named)["state"], "CANCELLED");

    // Cancelling a running job and a held one.
    let running = submit(&alice, &work, &["--wrap", "sleep 60"]);
    wait_state(&alice, &running, "RUNNING", 30);
    let waiting = submit(&alice, &work, &["-n", "2", "--exclusive", "--wrap", "true"]);
    let start = cli(&alice, &["--json", "squeue", "--start"]).ok().json();
    let estimate = start
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job_id"].as_i64().unwrap().to_string() == waiting)
        .cloned()
        .unwrap();
    assert!(estimate["estimated_start"].is_string(), "{estimate}");
    assert!(cli(&alice, &["squeue", "--start"]).ok().stdout.contains("START_TIME"));
    cli(&alice, &["cancel", &waiting]).ok();
    let sinfo = cli(&alice, &["sinfo"]).ok().stdout;
    assert!(sinfo.contains("local*") && (sinfo.contains("mixed") || sinfo.contains("allocated")), "{sinfo}");
    let held = submit(&alice, &work, &["--hold", "--wrap", "true"]);
    assert_eq!(job(&alice, &held)["reason"], "JobHeldUser");
    cli(&alice, &["scancel", &running, &held]).ok();
    wait_state(&alice, &running, "CANCELLED", 30);
    assert_eq!(job(&alice, &held)["state"], "CANCELLED");
    let twice = cli(&alice, &["cancel", &held]);
    assert_eq!(twice.code, 1);
    assert!(twice.stderr.contains("already ended"), "{}", twice.stderr);
    server.stop();
}

#[test]
fn jobs_survive_a_killed_server_and_their_ends_are_recorded_after_restart() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let finishes = submit(&alice, &work, &["--wrap", "sleep 2; echo survived"]);
    let fails = submit(&alice, &work, &["--wrap", "sleep 2; exit 7"]);
    wait_state(&alice, &finishes, "RUNNING", 30);
    wait_state(&alice, &fails, "RUNNING", 30);
    let held = submit(&alice, &work, &["--hold", "--wrap", "echo later"]);
    let config = sandbox.path("lushan.toml").display().to_string();
    server.kill9();
    // Both jobs end while no server runs.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &config]).unwrap();
    let alice_at = |args: &[&str]| {
        let mut all = vec!["--url", server.url.as_str()];
        all.extend_from_slice(args);
        cli(&alice, &all)
    };
    let state = |id: &str| alice_at(&["--json", "show", id]).ok().json();
    let done = wait_for(30, "the ends to be recorded", || {
        let (a, b) = (state(&finishes), state(&fails));
        (a["state"] != "RUNNING" && b["state"] != "RUNNING").then_some((a, b))
    });
    assert_eq!((done.0["state"].as_str(), done.0["exit_code"].as_str()), (Some("COMPLETED"), Some("0:0")));
    assert_eq!((done.1["state"].as_str(), done.1["exit_code"].as_str()), (Some("FAILED"), Some("7:0")));
    assert_eq!(std::fs::read_to_string(work.join(format!("slurm-{finishes}.out"))).unwrap(), "survived\n");
    // The pending job kept its place and runs once released.
    assert_eq!(state(&held)["state"], "PENDING");
    alice_at(&["release", &held]).ok();
    wait_for(30, "the released job to complete", || (state(&held)["state"] == "COMPLETED").then_some(()));
    server.stop();
}

/// A tmpfs for the server's data directory, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64m", "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status();
        matches!(status, Ok(s) if s.success()).then(|| SmallDisk(dir.to_owned()))
    }

    /// Writes a file until the disk refuses more; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 256 * 1024];
        while file.write_all(&chunk).is_ok() {}
        while file.write_all(&[0]).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Issue 19: a job that ends while the data directory is full, and while
/// no server runs, is recorded after the restart with the end its
/// supervisor saw (COMPLETED, its own run time), not NODE_FAIL charged
/// until the restart.
#[test]
fn a_job_that_ends_on_a_full_disk_is_recorded_with_its_own_end_after_a_restart() {
    let sandbox = Sandbox::new();
    let Some(disk) = SmallDisk::mount(&sandbox.path("data")) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root) to fill the data directory");
        return;
    };
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let id = submit(&alice, &work, &["--wrap", "sleep 3"]);
    wait_state(&alice, &id, "RUNNING", 30);
    let config = sandbox.path("lushan.toml").display().to_string();
    server.kill9();
    let filler = disk.fill();
    // The job ends (3 s) and its supervisor cannot write its status yet;
    // the outage lasts well past the job's end.
    std::thread::sleep(std::time::Duration::from_secs(8));
    std::fs::remove_file(filler).unwrap();
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &config]).unwrap();
    let show = |id: &str| cli(&alice, &["--url", server.url.as_str(), "--json", "show", id]).ok().json();
    let done = wait_for(30, "the end to be recorded", || Some(show(&id)).filter(|j| j["state"] != "RUNNING"));
    assert_eq!((done["state"].as_str(), done["exit_code"].as_str()), (Some("COMPLETED"), Some("0:0")), "{done}");
    let elapsed = done["elapsed_secs"].as_i64().unwrap_or(-1);
    assert!((3..=5).contains(&elapsed), "charged for {elapsed} s of a 3 s job: {done}");
    server.stop();
    drop(disk);
}

#[test]
fn arrays_dependencies_and_begin_times_behave_as_in_slurm() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("array.sh"),
        "#!/bin/bash\n#SBATCH --array=0-6:2%2 -J sweep\n\
         echo \"task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID count=$SLURM_ARRAY_TASK_COUNT min=$SLURM_ARRAY_TASK_MIN max=$SLURM_ARRAY_TASK_MAX step=$SLURM_ARRAY_TASK_STEP\"\nsleep 0.3\n",
    )
    .unwrap();
    // Held first, so the queue shows the compact form.
    let array = submit(&alice, &work, &["--hold", "array.sh"]);
    let queue = cli(&alice, &["squeue"]).ok().stdout;
    assert!(queue.contains(&format!("{array}_[0,2,4,6%2]")), "{queue}");
    let gate = submit(&alice, &work, &["--wrap", "exit 1"]);
    let after_fail = submit(&alice, &work, &["-d", &format!("afterok:{gate}"), "--wrap", "echo never"]);
    let after_any = submit(&alice, &work, &["-d", &format!("afterany:{gate}"), "--wrap", "echo after-any"]);
    let after_array = submit(&alice, &work, &["-d", &format!("afterok:{array}"), "--wrap", "echo after-array"]);
    let later = submit(&alice, &work, &["--begin=now+2", "--wrap", "echo later"]);
    assert_eq!(job(&alice, &later)["reason"], "BeginTime");
    cli(&alice, &["release", &array]).ok();

    let tasks: Vec<Value> = wait_for(60, "the array to finish", || {
        let done: Vec<Value> =
            (0..4).map(|i| job(&alice, &format!("{array}_{}", i * 2))).filter(|t| t["state"] == "COMPLETED").collect();
        (done.len() == 4).then_some(done)
    });
    assert_eq!(tasks.len(), 4);
    let a: i64 = array.parse().unwrap();
    for i in [0, 2, 4, 6] {
        let text = std::fs::read_to_string(work.join(format!("slurm-{array}_{i}.out"))).unwrap();
        assert_eq!(text, format!("task {i} of {a} count=4 min=0 max=6 step=2\n"));
    }
    wait_state(&alice, &after_any, "COMPLETED", 30);
    wait_state(&alice, &after_array, "COMPLETED", 30);
    wait_state(&alice, &later, "COMPLETED", 30);
    let never = job(&alice, &after_fail);
    assert_eq!(
        (never["state"].as_str(), never["reason"].as_str()),
        (Some("PENDING"), Some("DependencyNeverSatisfied"))
    );
    cli(&alice, &["cancel", &after_fail]).ok();
    server.stop();
}

#[test]
fn a_root_server_refuses_jobs_of_users_without_a_unix_account() {
    if !running_as_root() {
        eprintln!("not root: jobs run as the server's user here, nothing to refuse");
        return;
    }
    let sandbox = Sandbox::new();
    // An operator who makes the accounts elsewhere (with `local`, the
    // account would be made: it::accounts).
    let server = sandbox.up("[accounts]\nprovider = \"none\"\n");
    let alice = member_alice(&sandbox, &server, Some("no-such-account"));
    let refused = cli(&alice, &["submit", "--wrap", "true"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("Unix account `no-such-account` of user `alice` does not exist on this machine"),
        "{}",
        refused.stderr
    );
    server.stop();
}

/// Eight clients submit as fast as they can; the server is killed with
/// SIGKILL mid-storm and restarted; the clients retry what was not
/// acknowledged, with the same idempotency keys. Every acknowledged job is
/// there, and no submission is there twice.
#[test]
fn a_storm_of_submissions_survives_sigkill_without_loss_or_duplicates() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let config = std::fs::read_to_string(alice.join(".config/lushan/cli.toml")).unwrap();
    let token = config.lines().find_map(|l| l.strip_prefix("token = \"")).unwrap().trim_end_matches('"').to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let submit_one = |client: lushan_api::Client, key: String| async move {
        let body = lushan_api::JobSubmit {
            script: None,
            options: vec!["--hold".into(), "--comment".into(), key.clone(), "--wrap".into(), "true".into()],
            submit_dir: "/tmp".into(),
            idempotency_key: Some(key),
            ..Default::default()
        };
        client.post::<_, lushan_api::JobSubmitted>("/api/v1/jobs", &body).await
    };
    // Phase 1: the storm, cut short by SIGKILL.
    let url = server.url.clone();
    let (acknowledged, unacknowledged) = runtime.block_on(async {
        let mut tasks = Vec::new();
        for client_id in 0..8 {
            let client = lushan_api::Client::new(&url, Some(token.clone()));
            tasks.push(tokio::spawn(async move {
                let (mut ok, mut failed) = (Vec::new(), Vec::new());
                for n in 0..400 {
                    let key = format!("c{client_id}-{n}");
                    match submit_one(client.clone(), key.clone()).await {
                        Ok(_) => ok.push(key),
                        Err(_) => {
                            failed.push(key);
                            break;
                        }
                    }
                }
                (ok, failed)
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        server.kill9();
        let (mut ok, mut failed) = (Vec::new(), Vec::new());
        for task in tasks {
            let (a, b) = task.await.unwrap();
            ok.extend(a);
            failed.extend(b);
        }
        (ok, failed)
    });
    // Enough to be a storm on a slow machine, and to be cut mid-way.
    assert!(acknowledged.len() > 10, "only {} submissions were acknowledged before the kill", acknowledged.len());
    assert!(!unacknowledged.is_empty(), "the storm ended before the kill: nothing was cut mid-way");

    // Phase 2: restart; retry what was not acknowledged, with the same keys.
    let config_path = sandbox.path("lushan.toml").display().to_string();
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &config_path]).unwrap();
    let client = lushan_api::Client::new(&server.url, Some(token));
    let jobs: Vec<lushan_api::Job> = runtime.block_on(async {
        for key in &unacknowledged {
            submit_one(client.clone(), key.clone()).await.unwrap();
        }
        client.get("/api/v1/jobs").await.unwrap()
    });
    let mut comments: Vec<&str> = jobs.iter().map(|j| j.comment.as_str()).collect();
    let total = comments.len();
    comments.sort_unstable();
    comments.dedup();
    assert_eq!(comments.len(), total, "a submission was stored twice");
    for key in acknowledged.iter().chain(&unacknowledged) {
        assert!(comments.binary_search(&key.as_str()).is_ok(), "acknowledged job {key} is lost");
    }
    eprintln!(
        "{} acknowledged before SIGKILL, {} retried after; {} jobs stored",
        acknowledged.len(),
        unacknowledged.len(),
        total
    );
    server.stop();
}

#[test]
fn a_root_server_runs_jobs_as_the_mapped_account_with_only_its_rights() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !running_as_root() {
        eprintln!("not root: jobs run as the server's user here");
        return;
    }
    let sandbox = Sandbox::new();
    // `nobody` exists on every Debian machine; a server that makes accounts
    // never maps a system one (it::accounts), so this one does not.
    let server = sandbox.up("[accounts]\nprovider = \"none\"\n");
    let alice = member_alice(&sandbox, &server, Some("nobody"));
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o777)).unwrap();

    let id = submit(&alice, &work, &["--wrap", "id -un"]);
    wait_state(&alice, &id, "COMPLETED", 30);
    let out = work.join(format!("slurm-{id}.out"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "nobody\n");
    assert_eq!(std::fs::metadata(&out).unwrap().uid(), 65534);

    // The job's files are opened with the job's rights, not root's.
    let secret = sandbox.path("root-only");
    std::fs::write(&secret, "keep out\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let reads = submit(&alice, &work, &["-i", &secret.display().to_string(), "--wrap", "cat"]);
    let failed = wait_state(&alice, &reads, "FAILED", 30);
    assert!(failed["reason"].as_str().unwrap().contains("Permission denied"), "{failed}");
    let writes = submit(&alice, &work, &["-o", &secret.display().to_string(), "--wrap", "echo overwritten"]);
    wait_state(&alice, &writes, "FAILED", 30);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "keep out\n");

    // Its folder is root's and closed; the script, which it ran, is its own.
    let mode = |path: &Path| std::fs::metadata(path).unwrap().mode() & 0o7777;
    let folder = sandbox.path("data/jobs").join(&id);
    assert_eq!((mode(&sandbox.path("data/jobs")), mode(&folder)), (0o711, 0o711));
    assert_eq!((mode(&folder.join("spec.json")), mode(&folder.join("status.json"))), (0o600, 0o600));
    let script = std::fs::metadata(folder.join("script")).unwrap();
    assert_eq!((script.mode() & 0o7777, script.uid()), (0o700, 65534));
    // Its output is read as its user: theirs is shown, root's is not.
    assert_eq!(cli(&alice, &["logs", &id]).ok().stdout, "nobody\n");
    std::fs::remove_file(&out).unwrap();
    std::fs::write(&out, "root's\n").unwrap();
    let refused = cli(&alice, &["logs", &id]);
    assert!(refused.code == 1 && refused.stderr.contains("does not belong to the job's user"), "{}", refused.stderr);
    server.stop();
}

/// Items of issue 19: a FIFO or a link in place of a job's output made the
/// server open it as root on a request thread, and hang there.
#[test]
fn output_that_is_a_fifo_or_a_link_is_refused_at_once_while_the_server_keeps_answering() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let id = submit(&alice, &work, &["--wrap", "echo hi"]);
    wait_state(&alice, &id, "COMPLETED", 30);
    let out = work.join(format!("slurm-{id}.out"));
    std::fs::remove_file(&out).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(&out).status().unwrap().success());
    // More readers than the runtime has threads, and someone else meanwhile.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (alice, id) = (alice.clone(), id.clone());
            std::thread::spawn(move || crate::harness::cli_within(&alice, &["logs", &id], 10))
        })
        .collect();
    let others = crate::harness::cli_within(&alice, &["--json", "jobs"], 10).expect("the server stopped answering");
    assert_eq!(others.code, 0, "{}", others.stderr);
    for reader in readers {
        let run = reader.join().unwrap().expect("reading a FIFO's output hung");
        assert!(run.code == 1 && run.stderr.contains("is not a regular file"), "{}", run.stderr);
    }
    std::fs::remove_file(&out).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &out).unwrap();
    let linked = crate::harness::cli_within(&alice, &["logs", &id], 10).expect("reading through a link hung");
    assert!(linked.code == 1 && linked.stderr.contains("is a symbolic link"), "{}", linked.stderr);
    server.stop();
}

/// Item 2 of issue 19: `lushan submit` sent LUSHAN_TOKEN with the
/// environment, and spec.json, readable by everyone, kept it.
#[test]
fn the_submitter_s_lushan_token_reaches_neither_the_job_nor_its_files() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let config = std::fs::read_to_string(alice.join(".config/lushan/cli.toml")).unwrap();
    let token = config.lines().find_map(|l| l.strip_prefix("token = \"")).unwrap().trim_end_matches('"').to_owned();
    // Through the CLI, which authenticates with it.
    let env = [("LUSHAN_TOKEN", token.as_str()), ("KEPT_MARK", "kept")];
    let run = crate::harness::cli_in_with_env(&alice, &work, &["--json", "submit", "--wrap", "env"], &env).ok();
    let by_cli = run.json()["job"]["job_id"].as_i64().unwrap().to_string();
    // Straight to the API, as another client might send it.
    let body = lushan_api::JobSubmit {
        options: vec!["--wrap".into(), "env".into()],
        env: [("LUSHAN_TOKEN", token.as_str()), ("LUSHAN_PASSWORD", "hunter2"), ("KEPT_MARK", "kept")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        submit_dir: work.display().to_string(),
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = lushan_api::Client::new(&server.url, Some(token.clone()));
    let submitted: lushan_api::JobSubmitted = runtime.block_on(client.post("/api/v1/jobs", &body)).unwrap();
    let by_api = submitted.job.job_id.to_string();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    for id in [&by_cli, &by_api] {
        wait_state(&alice, id, "COMPLETED", 30);
        let out = std::fs::read_to_string(work.join(format!("slurm-{id}.out"))).unwrap();
        assert!(out.contains("KEPT_MARK=kept\n"), "{out}");
        assert!(!out.contains("LUSHAN_") && !out.contains(&token), "{out}");
        let folder = sandbox.path("data/jobs").join(id);
        let spec = std::fs::read_to_string(folder.join("spec.json")).unwrap();
        assert!(!spec.contains("LUSHAN_TOKEN") && !spec.contains(&token) && !spec.contains("hunter2"), "{spec}");
        // Jobs run as the server's user here: nothing in the folder is anyone else's to read.
        assert_eq!(
            (mode(&folder), mode(&folder.join("spec.json")), mode(&folder.join("script"))),
            (0o700, 0o600, 0o700)
        );
    }
    assert_eq!(mode(&sandbox.path("data/jobs")), 0o711);
    server.stop();
}

/// Item 8 of issue 19: a job whose output is a FIFO no one reads held its
/// supervisor in `open` for ever, past its time limit and any cancel.
#[test]
fn a_job_whose_output_is_a_fifo_without_a_reader_fails_at_once_and_one_read_can_be_cancelled() {
    use std::io::BufRead;
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let fifo = work.join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let unread = submit(&alice, &work, &["-t", "1", "-o", "fifo", "--wrap", "echo hi"]);
    let failed = wait_state(&alice, &unread, "FAILED", 15);
    assert!(failed["reason"].as_str().unwrap().contains("FIFO that no process reads"), "{failed}");

    // With a reader the job runs, writing into it, and a cancel ends it.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut lines = std::io::BufReader::new(std::fs::File::open(fifo).unwrap()).lines();
            lines.next().map(Result::unwrap)
        })
    };
    let read = submit(&alice, &work, &["-o", "fifo", "--wrap", "echo started; sleep 60"]);
    assert_eq!(reader.join().unwrap().as_deref(), Some("started"));
    cli(&alice, &["cancel", &read]).ok();
    wait_state(&alice, &read, "CANCELLED", 15);
    server.stop();
}

/// `lushan submit` retries while the server restarts, and the submission's
/// idempotency key keeps the retries from storing the job twice.
#[test]
fn submit_retries_across_a_server_restart_and_stores_the_job_once() {
    let sandbox = Sandbox::new();
    // The restarted server must come back on the same address.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let config = sandbox.path("lushan.toml");
    std::fs::write(&config, "run_jobs_as_server_user = true\n").unwrap();
    let config = config.display().to_string();
    let args = ["up", "--listen", listen.as_str(), "--data", "data", "--config", config.as_str()];
    let server = sandbox.start(&args).unwrap();
    let alice = member_alice(&sandbox, &server, None);
    server.stop();

    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let submitting = std::process::Command::new(crate::harness::BIN)
        .env("HOME", &alice)
        .current_dir(&work)
        .args(["--json", "submit", "-J", "patient", "--wrap", "true"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let server = sandbox.start(&args).unwrap();
    let done = submitting.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(String::from_utf8_lossy(&done.stderr).contains("retrying the submission"));
    let jobs = cli(&alice, &["--json", "acct"]).ok().json();
    let patient: Vec<&Value> = jobs.as_array().unwrap().iter().filter(|j| j["name"] == "patient").collect();
    assert_eq!(patient.len(), 1, "{jobs}");
    server.stop();
}

/// The local site's scheduler: multifactor priority with fair-share and
/// EASY backfilling (the default), `squeue --start` from its reservations,
/// and `-C/--constraint` matched against the node's features.
#[test]
fn the_local_site_backfills_and_orders_by_fair_share() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let op = server.home.clone();
    cli(&op, &["admin", "tenant", "create", "acme", "--sector", "enterprise"]).ok();
    cli_with_stdin(&op, &["admin", "user", "create", "bob", "--tenant", "acme", "--password-stdin"], "bob-password\n")
        .ok();
    cli(&op, &["admin", "project", "create", "cae-sim", "--tenant", "acme", "--pi", "bob"]).ok();
    cli(&op, &["admin", "topup", "acme", "1000", "--ref", "TEST-ACME"]).ok();
    let bob = sandbox.path("bob");
    cli_with_stdin(&bob, &["login", "--url", &server.url, "bob", "--password-stdin"], "bob-password\n").ok();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();

    // Constraints: a feature no node has is refused and the ones that exist
    // are listed; the machine's architecture is one of them.
    let refused = crate::harness::cli_in(&alice, &work, &["submit", "-C", "quantum", "--wrap", "true"]);
    assert_eq!(refused.code, 1);
    let arch = std::env::consts::ARCH;
    assert!(
        refused.stderr.contains("has the feature `quantum`") && refused.stderr.contains(arch),
        "{}",
        refused.stderr
    );
    // As Slurm, every feature named must exist, even in an OR.
    let or_unknown = format!("{arch}|no-such-arch");
    assert_eq!(crate::harness::cli_in(&alice, &work, &["submit", "-C", &or_unknown, "--wrap", "true"]).code, 1);
    let matched = submit(&alice, &work, &["-C", arch, "--wrap", "true"]);
    wait_state(&alice, &matched, "COMPLETED", 30);

    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if cpus < 2 {
        eprintln!("one CPU: backfilling needs a free CPU beside a running job; skipped");
        server.stop();
        return;
    }
    let all = cpus.to_string();
    let all_but_one = (cpus - 1).to_string();
    // Alice's long job leaves one CPU free; her next job needs every CPU and
    // is reserved for when the first one's 10-minute limit ends.
    let blocker = submit(&alice, &work, &["-c", &all_but_one, "-t", "10", "--wrap", "sleep 4"]);
    wait_state(&alice, &blocker, "RUNNING", 30);
    let whole = submit(&alice, &work, &["-c", &all, "-t", "5", "--wrap", "true"]);
    // Her one-minute job comes after it in priority (same user, later,
    // smaller) but fits the free CPU and ends before that reservation: EASY
    // starts it now, strict priority order would not.
    let short = submit(&alice, &work, &["-c", "1", "-t", "1", "--wrap", "sleep 1"]);
    wait_for(30, "the short job to be backfilled", || (job(&alice, &short)["start_time"].is_string()).then_some(()));
    assert_eq!(job(&alice, &blocker)["state"], "RUNNING", "the short job started beside the blocker, not after it");
    let waiting = job(&alice, &whole);
    assert_eq!((waiting["state"].as_str(), waiting["reason"].as_str()), (Some("PENDING"), Some("Resources")));
    let start = cli(&alice, &["--json", "squeue", "--start"]).ok().json();
    let estimate = start
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job_id"].as_i64().unwrap().to_string() == whole)
        .map(|j| j["estimated_start"].clone())
        .unwrap();
    let blocker_start = job(&alice, &blocker)["start_time"].as_str().unwrap().to_owned();
    assert!(instant(&estimate) > instant(&Value::from(blocker_start.as_str())), "{estimate} after {blocker_start}");

    // Bob, who has used far less than alice, submits a whole-machine job
    // after hers: fair-share puts it first once the machine frees up.
    let bobs = submit(&bob, &work, &["-c", &all, "-t", "5", "--wrap", "sleep 2"]);
    wait_state(&bob, &bobs, "RUNNING", 60);
    assert_eq!(job(&alice, &whole)["state"], "PENDING", "alice's earlier job waits behind bob's");
    wait_state(&alice, &whole, "COMPLETED", 60);
    server.stop();
}

#[test]
fn operators_limits_hold_jobs_with_slurm_s_reasons_and_refuse_submissions_over_them() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let op = server.home.clone();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let refused = cli(&op, &["admin", "limits", "set", "--project", "cfd-lab", "--max-jobs", "many"]);
    assert!(refused.stderr.contains("`many` is not a number or `none`"), "{}", refused.stderr);
    let set =
        cli(&op, &["admin", "limits", "set", "--project", "cfd-lab", "--max-jobs", "1", "--max-submit", "3"]).ok();
    assert!(
        set.stdout.contains("Limits of project cfd-lab: max jobs 1, max CPUs -, max GPUs -, max submit 3."),
        "{}",
        set.stdout
    );
    // A flag not given keeps its value; `none` lifts one.
    cli(&op, &["admin", "limits", "set", "--project", "cfd-lab", "--max-cpus", "64"]).ok();
    cli(&op, &["admin", "limits", "set", "--project", "cfd-lab", "--max-cpus", "none"]).ok();
    let listed = cli(&op, &["--json", "admin", "limits", "list"]).ok().json();
    assert_eq!(listed[0]["max_running_jobs"], 1, "{listed}");
    assert_eq!((listed[0]["max_cpus"].is_null(), listed[0]["max_submitted"].as_i64()), (true, Some(3)), "{listed}");
    let shown = cli(&alice, &["admin", "limits", "list"]).ok().stdout;
    assert!(shown.contains("cfd-lab") && shown.contains("project"), "a member sees their tenant's limits: {shown}");

    // One job at a time: the second waits with Slurm's reason, then runs.
    // Long enough to still run when the fourth is tried on a loaded machine
    // (2 s was not, with 13 builds' load on 2 cores).
    let first = submit(&alice, &work, &["-o", "/dev/null", "--wrap", "sleep 10"]);
    wait_state(&alice, &first, "RUNNING", 30);
    let second = submit(&alice, &work, &["-o", "/dev/null", "--wrap", "true"]);
    wait_for(30, "the reason AssocGrpJobsLimit", || {
        (job(&alice, &second)["reason"] == "AssocGrpJobsLimit").then_some(())
    });
    let third = submit(&alice, &work, &["-o", "/dev/null", "--wrap", "true"]);
    // Three pending or running: a fourth is refused and nothing is stored.
    let over = crate::harness::cli_in(&alice, &work, &["submit", "-o", "/dev/null", "--wrap", "true"]);
    assert_eq!(over.code, 1);
    assert!(over.stderr.contains("AssocMaxSubmitJobLimit: project cfd-lab may have at most 3"), "{}", over.stderr);
    for id in [&first, &second, &third] {
        wait_state(&alice, id, "COMPLETED", 60);
    }
    let jobs = cli(&alice, &["--json", "acct"]).ok().json();
    assert_eq!(jobs.as_array().map(Vec::len), Some(3), "{jobs}");
    let audit = cli(&op, &["--json", "admin", "audit"]).ok().json();
    assert!(audit.as_array().unwrap().iter().any(|e| e["action"] == "limits.set"), "{audit}");
    server.stop();
}

#[test]
fn a_pi_s_limits_on_a_member_hold_their_jobs_in_the_project_with_slurm_s_reasons() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    // The PI (alice) limits a member of cfd-lab (herself): one job running,
    // two pending or running, in this project.
    let set = cli(
        &alice,
        &["admin", "limits", "set", "--project", "cfd-lab", "--user", "alice", "--max-jobs", "1", "--max-submit", "2"],
    )
    .ok();
    assert!(
        set.stdout.contains("Limits of member cfd-lab/alice: max jobs 1, max CPUs -, max GPUs -, max submit 2."),
        "{}",
        set.stdout
    );
    let shown = cli(&alice, &["admin", "limits", "list"]).ok().stdout;
    assert!(shown.contains("member") && shown.contains("cfd-lab/alice"), "{shown}");
    // Not the project's: operators set those.
    let refused = cli(&alice, &["admin", "limits", "set", "--project", "cfd-lab", "--max-jobs", "9"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(refused.stderr.contains("only operators set limits on a project or a user"), "{}", refused.stderr);

    let first = submit(&alice, &work, &["-o", "/dev/null", "--wrap", "sleep 2"]);
    wait_state(&alice, &first, "RUNNING", 30);
    let second = submit(&alice, &work, &["-o", "/dev/null", "--wrap", "true"]);
    wait_for(30, "the reason AssocMaxJobsLimit", || {
        (job(&alice, &second)["reason"] == "AssocMaxJobsLimit").then_some(())
    });
    let over = crate::harness::cli_in(&alice, &work, &["submit", "-o", "/dev/null", "--wrap", "true"]);
    assert_eq!(over.code, 1);
    assert!(
        over.stderr.contains("AssocMaxSubmitJobLimit: user alice in project cfd-lab may have at most 2"),
        "{}",
        over.stderr
    );
    for id in [&first, &second] {
        wait_state(&alice, id, "COMPLETED", 60);
    }
    server.stop();
}

/// An API time (RFC 3339, UTC, with as many decimals as needed) as (day,
/// seconds into it), which compare as instants where the strings do not
/// ("26.32Z" is before "26.329Z").
fn instant(time: &Value) -> (String, f64) {
    let text = time.as_str().unwrap_or_else(|| panic!("not a time: {time}"));
    let (day, clock) = text.trim_end_matches('Z').split_once('T').unwrap();
    let seconds = clock.split(':').fold(0.0, |acc, part| acc * 60.0 + part.parse::<f64>().unwrap());
    (day.to_owned(), seconds)
}

#[test]
fn a_job_in_a_higher_qos_starts_before_older_jobs_in_normal() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let op = server.home.clone();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let refused = crate::harness::cli_in(&alice, &work, &["submit", "-q", "high", "--wrap", "true"]);
    assert!(refused.stderr.contains("unknown QOS `high`; you may use: normal"), "{}", refused.stderr);
    let set = cli(&op, &["admin", "qos", "set", "high", "--priority", "100", "--description", "deadline runs"]).ok();
    assert!(set.stdout.contains("QOS high: priority 100. Submit with -q high."), "{}", set.stdout);
    let listed = cli(&alice, &["admin", "qos", "list"]).ok().stdout;
    assert!(listed.contains("high") && listed.contains("deadline runs") && listed.contains("normal"), "{listed}");
    let factor = cli(&op, &["admin", "partition-priority", "local", "local", "5"]).ok();
    assert!(factor.stdout.contains("Partition local of site local: priority job factor 5."), "{}", factor.stdout);
    let sites = cli(&op, &["--json", "sites"]).ok().json();
    assert_eq!(sites[0]["partitions"][0]["priority_job_factor"], 5, "{sites}");

    // The machine is full; two whole-machine jobs wait, the later one in
    // QOS high. When the machine frees up, it goes first.
    let all = cli(&op, &["--json", "sites"]).ok().json()[0]["nodes"][0]["cpus"].as_i64().unwrap().to_string();
    let blocker = submit(&alice, &work, &["-o", "/dev/null", "-c", &all, "-t", "5", "--wrap", "sleep 5"]);
    wait_state(&alice, &blocker, "RUNNING", 30);
    let normal = submit(&alice, &work, &["-o", "/dev/null", "-c", &all, "-t", "5", "--wrap", "sleep 2"]);
    let high = submit(&alice, &work, &["-o", "/dev/null", "-c", &all, "-t", "5", "-q", "high", "--wrap", "sleep 2"]);
    let shown = cli(&alice, &["show", &high]).ok().stdout;
    assert!(shown.contains("  QOS: high"), "{shown}");
    // sprio: the high job first, its QOS part the whole QOS weight; the
    // parts add up to the priority.
    let ranked = cli(&alice, &["--json", "sprio"]).ok().json();
    let ranked = ranked.as_array().unwrap();
    assert_eq!(ranked.len(), 2, "{ranked:?}");
    assert_eq!(ranked[0]["job_id"].to_string(), high, "{ranked:?}");
    let p = &ranked[0]["priority"];
    assert_eq!(p["qos"], 10_000, "{p}");
    assert_eq!(ranked[1]["priority"]["qos"], 0);
    let parts: i64 = ["age", "fairshare", "job_size", "partition", "qos"].iter().map(|k| p[k].as_i64().unwrap()).sum();
    assert!((0..=5).contains(&(p["priority"].as_i64().unwrap() - parts)), "{p}");
    let printed = cli(&alice, &["sprio"]).ok().stdout;
    assert!(printed.lines().next().is_some_and(|l| l.contains("PRIORITY") && l.contains("QOS")), "{printed}");
    wait_state(&alice, &high, "RUNNING", 60);
    assert_eq!(job(&alice, &normal)["state"], "PENDING", "the older normal job waits behind the high one");
    wait_state(&alice, &normal, "COMPLETED", 60);
    let (high, normal) = (job(&alice, &high), job(&alice, &normal));
    assert!(instant(&high["end_time"]) <= instant(&normal["start_time"]), "{high} then {normal}");
    server.stop();
}

#[test]
fn a_job_run_as_its_user_keeps_the_user_s_supplementary_groups() {
    use std::os::unix::fs::PermissionsExt;
    if !running_as_root() {
        eprintln!("not root: jobs run as the server's user, with its groups");
        return;
    }
    let id = |args: &[&str]| std::process::Command::new("id").args(args).output().ok().filter(|o| o.status.success());
    let sorted = |text: &str| {
        let mut ids: Vec<u32> = text.split_whitespace().filter_map(|g| g.parse().ok()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let expected = id(&["-G", "lushan-ci"]).map(|o| sorted(&String::from_utf8_lossy(&o.stdout))).unwrap_or_default();
    if expected.len() < 2 {
        eprintln!("no account lushan-ci with a supplementary group (`.ci/slurm up` makes one): skipped");
        return;
    }
    let sandbox = Sandbox::new();
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let alice = member_alice(&sandbox, &server, Some("lushan-ci"));
    // As the account is now: a root server put it in its project's group.
    let expected = id(&["-G", "lushan-ci"]).map(|o| sorted(&String::from_utf8_lossy(&o.stdout))).unwrap_or_default();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o777)).unwrap();
    // Readable by the group only, as a project's shared directory would be;
    // the job's input file too, which the supervisor opens for it.
    let shared = sandbox.path("shared.txt");
    std::fs::write(&shared, "for the group\n").unwrap();
    assert!(std::process::Command::new("chgrp").arg("lushan-shared").arg(&shared).status().unwrap().success());
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();

    let shared = shared.display().to_string();
    let job_id = submit(&alice, &work, &["-i", &shared, "--wrap", "id -G; cat; id -un; pwd"]);
    let done = wait_state(&alice, &job_id, "COMPLETED", 30);
    let out = std::fs::read_to_string(work.join(format!("slurm-{job_id}.out"))).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out} {done}");
    assert_eq!(sorted(lines[0]), expected, "the job's groups are its user's: {out}");
    assert_eq!(&lines[1..], ["for the group", "lushan-ci", work.display().to_string().as_str()], "{out}");
    server.stop();
}

/// An ended job's folder (spec, status, supervisor log) is removed once
/// `keep_job_folders_hours` has passed, at the first pass after a start and
/// every ten minutes; a job still pending keeps its folder-to-be, and a
/// keep time not yet passed keeps the folder.
#[test]
fn an_ended_job_s_folder_is_removed_after_the_keep_time() {
    let sandbox = Sandbox::new();
    let config = sandbox.path("lushan.toml");
    let write_config = |hours: u64| {
        std::fs::write(&config, format!("run_jobs_as_server_user = true\nkeep_job_folders_hours = {hours}\n")).unwrap()
    };
    write_config(1);
    let config_arg = config.display().to_string();
    let args = ["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &config_arg];
    let server = sandbox.start(&args).unwrap();
    let alice = member_alice(&sandbox, &server, None);
    // A restarted server listens on another port.
    let sign_in = |server: &Server| {
        cli_with_stdin(&alice, &["login", "--url", &server.url, "alice", "--password-stdin"], "alice-password\n").ok();
    };
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let id = submit(&alice, &work, &["--wrap", "echo kept"]);
    wait_state(&alice, &id, "COMPLETED", 30);
    let folder = sandbox.path("data/jobs").join(&id);
    assert!(folder.join("status.json").exists(), "the job's folder is written");
    // Within the keep time, a restart (which sweeps at once) keeps it.
    server.stop();
    let server = sandbox.start(&args).unwrap();
    sign_in(&server);
    let held = submit(&alice, &work, &["--hold", "--wrap", "true"]);
    wait_state(&alice, &held, "PENDING", 10);
    assert!(folder.exists(), "removed within its keep time");
    // With no keep time, the next start removes it, and only it.
    server.stop();
    write_config(0);
    let server = sandbox.start(&args).unwrap();
    sign_in(&server);
    wait_for(30, "the ended job's folder to be removed", || (!folder.exists()).then_some(()));
    assert!(sandbox.path("data/jobs/bin/srun").exists(), "srun is kept");
    assert_eq!(job(&alice, &id)["state"], "COMPLETED", "the job's record stays");
    assert_eq!(std::fs::read_to_string(work.join(format!("slurm-{id}.out"))).unwrap(), "kept\n");
    cli(&alice, &["cancel", &held]).ok();
    server.stop();
}

#[test]
fn job_templates_are_kept_listed_shown_and_deleted_from_the_command_line() {
    let sandbox = Sandbox::new();
    let (server, alice) = platform(&sandbox);
    let script = sandbox.path("cfd.sh");
    std::fs::write(&script, "#!/bin/bash\n#SBATCH -n 2\nsrun ./cfd\n").unwrap();
    let path = script.display().to_string();
    let saved = cli(&alice, &["--json", "template", "save", "my-cfd", &path, "--title", "My CFD"]).ok().json();
    let id = saved["id"].as_i64().unwrap().to_string();
    let list = cli(&alice, &["template", "list"]).ok().stdout;
    assert!(list.contains("plain") && list.contains("my-cfd") && list.contains("mine"), "{list}");
    let shown = cli(&alice, &["template", "show", &id]).ok().stdout;
    assert!(shown.contains("# My CFD") && shown.contains("srun ./cfd"), "{shown}");
    // The centre's are the operators'; a script that cannot be read is refused.
    let refused = cli(&alice, &["template", "save", "x", &path, "--centre"]);
    assert!(refused.code != 0 && refused.stderr.contains("only operators"), "{}", refused.stderr);
    std::fs::write(&script, "#!/bin/bash\n#SBATCH --nodes=lots\ntrue\n").unwrap();
    let bad = cli(&alice, &["template", "save", "bad", &path]);
    assert!(bad.code != 0 && bad.stderr.contains("--nodes"), "{}", bad.stderr);
    cli(&alice, &["template", "rm", &id]).ok();
    assert!(!cli(&alice, &["template", "list"]).ok().stdout.contains("my-cfd"));
    server.stop();
}
