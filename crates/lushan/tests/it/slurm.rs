//! A Slurm site, for real: the Slurm 22.05 that `.ci/slurm up` starts on
//! this host (slurmctld, slurmd, slurmdbd on MariaDB, slurmrestd with JWT).
//! The tests read where it is from `LUSHAN_TEST_SLURM_*` (`eval "$(.ci/slurm
//! env)"`); CI sets them. Without them these tests say so and pass, as the
//! PostgreSQL ones do without a database.
//!
//! The cluster is shared, so everything runs in one test, in order.

use crate::harness::{Sandbox, Server, cli, cli_in, cli_with_stdin, wait_for};
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Cluster {
    url: String,
    key: String,
    /// The Unix account the test users are mapped to.
    user: String,
}

fn cluster() -> Option<Cluster> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Some(Cluster {
        url: var("LUSHAN_TEST_SLURM_URL")?,
        key: var("LUSHAN_TEST_SLURM_JWT_KEY")?,
        user: var("LUSHAN_TEST_SLURM_USER")?,
    })
}

fn slurm_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/slurm")
}

/// A directory the mapped account can write, outside the (root-only) sandbox.
struct SharedDir(PathBuf);

impl SharedDir {
    fn new(account: &str) -> SharedDir {
        let path = std::env::temp_dir().join(format!("lushan-slurm-it-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        let status = std::process::Command::new("chown").arg(account).arg(&path).status().unwrap();
        assert!(status.success(), "cannot give {} to {account}", path.display());
        SharedDir(path)
    }
}

impl Drop for SharedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn show(home: &Path, id: &str) -> Value {
    cli(home, &["--json", "show", id]).ok().json()
}

fn wait_state(home: &Path, id: &str, state: &str, secs: u64) -> Value {
    wait_for(secs, &format!("job {id} to be {state}"), || {
        let job = show(home, id);
        (job["state"] == state).then_some(job)
    })
}

fn submit(home: &Path, dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--json", "submit", "-M", "hpc1"];
    all.extend_from_slice(args);
    let run = cli_in(home, dir, &all).ok();
    run.json()["job"]["job_id"].as_i64().unwrap().to_string()
}

/// Slurm's own view of a job, through its CLI (the peer, not Lushan).
fn sacct(slurm_id: i64, field: &str) -> String {
    let out = std::process::Command::new("sacct")
        .args(["-n", "-X", "-P", "-o", field, "-j", &slurm_id.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The elapsed seconds Slurm gives a job that ended: sacct's ElapsedRaw
/// once slurmdbd has its end, else (End=Unknown, its ElapsedRaw counting up
/// to now) slurmctld's end - start, which slurmdbd records later.
fn slurm_elapsed(slurm_id: i64) -> String {
    if sacct(slurm_id, "End") != "Unknown" {
        return sacct(slurm_id, "ElapsedRaw");
    }
    let out = std::process::Command::new("squeue")
        .env("SLURM_TIME_FORMAT", "%s")
        .args(["-h", "-t", "all", "-o", "%S %e", "-j", &slurm_id.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let times: Vec<i64> = text.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    match times[..] {
        [start, end] => (end - start).to_string(),
        _ => panic!("neither slurmdbd nor slurmctld has the end of job {slurm_id}: {text}"),
    }
}

/// Changes the cluster's accounts by hand, as its administrator would.
fn sacctmgr(args: &[&str]) {
    let out = std::process::Command::new("sacctmgr").arg("-i").args(args).output().unwrap();
    assert!(out.status.success(), "sacctmgr {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The cluster's associations as `account|user|parent` lines, sorted.
fn associations() -> String {
    let out = std::process::Command::new("sacctmgr")
        .args(["-n", "-P", "show", "assoc", "where", "cluster=hpc1", "format=account,user,parentname"])
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    lines.sort();
    lines.join("\n")
}

/// The limits on `account`'s association with `user` (`""`: the account's
/// own) as `GrpJobs|GrpSubmitJobs|GrpTRES|MaxJobs|MaxSubmitJobs`; `None`
/// when there is no such association.
fn limits_of(account: &str, user: &str) -> Option<String> {
    let out = std::process::Command::new("sacctmgr")
        .args(["-n", "-P", "show", "assoc", "where", "cluster=hpc1", &format!("account={account}")])
        .arg("format=user,partition,grpjobs,grpsubmit,grptres,maxjobs,maxsubmit")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().find_map(|line| {
        let fields: Vec<&str> = line.split('|').collect();
        (fields[0] == user && fields[1].is_empty()).then(|| fields[2..].join("|"))
    })
}

/// A member of project cfd-lab (tenant jxu) mapped to the cluster's Unix
/// account, logged in; hpc1 priced at 36 CNY per core-hour, a fen per
/// core-second, so short jobs cost something.
fn member(sandbox: &Sandbox, server: &Server, cluster: &Cluster) -> PathBuf {
    let op = &server.home;
    cli(op, &["admin", "tenant", "create", "jxu", "--sector", "university"]).ok();
    cli_with_stdin(
        op,
        &["admin", "user", "create", "alice", "--tenant", "jxu", "--unix-account", &cluster.user, "--password-stdin"],
        "alice-password\n",
    )
    .ok();
    cli(op, &["admin", "project", "create", "cfd-lab", "--tenant", "jxu", "--pi", "alice"]).ok();
    cli(op, &["admin", "topup", "jxu", "1000", "--ref", "TEST-JXU"]).ok();
    cli(op, &["admin", "price", "set", "--site", "hpc1", "--core-hour", "36"]).ok();
    let alice = sandbox.path("alice");
    cli_with_stdin(&alice, &["login", "--url", &server.url, "alice", "--password-stdin"], "alice-password\n").ok();
    alice
}

#[test]
fn a_slurm_site_runs_sbatch_scripts_for_mapped_users_and_charges_from_its_accounting() {
    let Some(cluster) = cluster() else {
        eprintln!("LUSHAN_TEST_SLURM_URL is not set: no Slurm to test against (run `.ci/slurm up`)");
        return;
    };
    // A run that failed may have left jobs there (they keep its accounts).
    let _ = std::process::Command::new("scancel").args(["-u", &cluster.user]).status();
    let sandbox = Sandbox::new();
    let server: Server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let op = server.home.clone();

    // A site that does not answer is refused, and nothing is stored.
    let refused =
        cli(&op, &["admin", "site", "add", "nowhere", "--rest-url", "http://127.0.0.1:9", "--jwt-key", &cluster.key]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("site not added") && refused.stderr.contains("cannot reach"), "{}", refused.stderr);
    let missing_key =
        cli(&op, &["admin", "site", "add", "nokey", "--rest-url", &cluster.url, "--jwt-key", "/nonexistent/key"]);
    assert!(missing_key.stderr.contains("cannot read the JWT key /nonexistent/key"), "{}", missing_key.stderr);
    // A key that is not the cluster's: slurmrestd refuses its tokens.
    let wrong_key = sandbox.path("wrong.key");
    std::fs::write(&wrong_key, b"not the cluster's key, but long enough to sign").unwrap();
    let unauthenticated = cli(
        &op,
        &["admin", "site", "add", "badkey", "--rest-url", &cluster.url, "--jwt-key", &wrong_key.display().to_string()],
    );
    assert!(unauthenticated.stderr.contains("refused the token"), "{}", unauthenticated.stderr);

    let added = cli(&op, &["admin", "site", "add", "hpc1", "--rest-url", &cluster.url, "--jwt-key", &cluster.key]).ok();
    assert!(added.stdout.contains("Added site hpc1 (slurm): 2 partition(s), 1 node(s)"), "{}", added.stdout);
    let sites = cli(&op, &["--json", "sites"]).ok().json();
    let names: Vec<&str> = sites.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hpc1", "local"], "refused sites are not stored");
    assert_eq!(sites[0]["cluster"], "hpc1", "the only cluster slurmdbd has: {sites}");
    // Accounts follow the platform: what an earlier run left is removed.
    cli(&op, &["admin", "site", "sync", "hpc1"]).ok();
    let local = cli(&op, &["admin", "site", "sync", "local"]);
    assert!(local.stderr.contains("no Slurm account to sync"), "{}", local.stderr);
    let check = cli(&op, &["admin", "site", "check", "hpc1"]).ok();
    for what in ["JWT key", "slurmrestd", "authenticated", "slurmctld", "accounting", "inventory", "accounts"] {
        assert!(check.stdout.lines().any(|l| l.starts_with("ok") && l.contains(what)), "{what}: {}", check.stdout);
    }
    assert!(check.stdout.contains("Site hpc1 works."), "{}", check.stdout);
    let sinfo = cli(&op, &["sinfo"]).ok().stdout;
    assert!(sinfo.lines().any(|l| l.contains("hpc1") && l.contains("batch*")), "{sinfo}");
    assert!(sinfo.lines().any(|l| l.contains("hpc1") && l.contains("debug")), "{sinfo}");

    let alice = member(&sandbox, &server, &cluster);
    // The same check in the operator's console, with the project just made
    // and not yet in Slurm as the drift.
    the_console_checks_the_site(&server);

    let dir = SharedDir::new(&cluster.user);
    // An unchanged #SBATCH script.
    std::fs::write(
        dir.0.join("job.sh"),
        "#!/bin/bash\n#SBATCH -J hello\n#SBATCH -n 1\n#SBATCH -t 5\n#SBATCH -o hello-%j.out\n\
         echo \"hello from $(id -un) on $SLURM_JOB_NODELIST in $SLURM_JOB_PARTITION\"\nsleep 1\n",
    )
    .unwrap();

    let id = submit(&alice, &dir.0, &["job.sh"]);
    let done = wait_state(&alice, &id, "COMPLETED", 60);
    assert_eq!(done["site"], "hpc1");
    assert_eq!(done["exit_code"], "0:0");
    assert!(!done["node_list"].as_str().unwrap().is_empty(), "{done}");
    let output = std::fs::read_to_string(dir.0.join(format!("hello-{id}.out"))).unwrap();
    assert!(output.contains(&format!("hello from {} on", cluster.user)), "{output}");
    assert!(output.contains("in batch"), "{output}");
    let logs = cli(&alice, &["logs", &id]).ok().stdout;
    assert!(logs.contains("hello from"), "{logs}");

    // The cluster enforces associations: the job ran under its project's
    // account, which Lushan added (under its tenant's) before sending it.
    let assoc = associations();
    for line in ["tenant.jxu||root", "cfd-lab||tenant.jxu", &format!("cfd-lab|{}|", cluster.user)] {
        assert!(assoc.lines().any(|l| l == line), "{line} in\n{assoc}");
    }
    let remote = done["remote_id"].as_i64().unwrap();
    assert_eq!(sacct(remote, "Account"), "cfd-lab");

    // Drift made by hand on the cluster: reported, changed by nothing but
    // the operator's sync, then repaired.
    sacctmgr(&["modify", "account", "cfd-lab", "set", "parent=root"]);
    sacctmgr(&["add", "user", "stray", "account=cfd-lab", "cluster=hpc1"]);
    sacctmgr(&["delete", "user", &format!("name={}", cluster.user), "account=cfd-lab", "cluster=hpc1"]);
    let drifted = associations();
    let check = cli(&op, &["admin", "site", "check", "hpc1"]);
    assert_ne!(check.code, 0);
    assert!(
        check.stdout.contains("FAIL accounts") && check.stdout.contains("admin site sync hpc1"),
        "{}",
        check.stdout
    );
    // sacctmgr deletes a user with its last association (another account,
    // such as the benchmark's, keeps it).
    let user_gone = !associations().lines().any(|l| l.split('|').nth(1) == Some(cluster.user.as_str()));
    let report = cli(&op, &["admin", "site", "sync", "hpc1", "--dry-run"]).ok().stdout;
    let create = format!("would create user {} (default account cfd-lab)", cluster.user);
    assert_eq!(report.contains(&create), user_gone, "{create} in\n{report}");
    let differences = if user_gone { 4 } else { 3 };
    for line in [
        "would move account cfd-lab from root back under tenant.jxu",
        &format!("would add user {} to account cfd-lab", cluster.user),
        "would remove user stray from account cfd-lab: not a member in Lushan",
        &format!("{differences} difference(s); nothing changed"),
    ] {
        assert!(report.contains(line), "{line} in\n{report}");
    }
    assert_eq!(associations(), drifted, "a dry run changes nothing");
    let repaired = cli(&op, &["--json", "admin", "site", "sync", "hpc1"]).ok().json();
    assert_eq!(repaired["changes"].as_array().unwrap().len(), differences, "{repaired}");
    assert_eq!(associations(), assoc, "the tree is back as Lushan made it");
    let again = cli(&op, &["admin", "site", "sync", "hpc1", "--dry-run"]).ok().stdout;
    assert!(again.contains("agree with the platform"), "{again}");
    let audit = cli(&op, &["--json", "admin", "audit"]).ok().json();
    assert!(audit.as_array().unwrap().iter().any(|e| e["action"] == "site.sync"), "{audit}");

    // Limits follow the platform. A member's, set by the project's PI,
    // reach their association on the next pass.
    let member_limits = ["--project", "cfd-lab", "--user", "alice"];
    let set = |home: &Path, scope: &[&str], values: &[&str]| {
        cli(home, &[&["admin", "limits", "set"], scope, values].concat()).ok();
    };
    set(&alice, &member_limits, &["--max-jobs", "3", "--max-submit", "5", "--max-gpus", "1"]);
    wait_for(30, "alice's limits on her association", || {
        (limits_of("cfd-lab", &cluster.user).as_deref() == Some("||gres/gpu=1|3|5")).then_some(())
    });
    // A project's go on its account's own association, which slurmrestd
    // 22.05 cannot change: the check and the sync say the sacctmgr command
    // that does, and the operator runs it.
    set(&op, &["--project", "cfd-lab"], &["--max-jobs", "4", "--max-cpus", "64"]);
    let by_hand = "sacctmgr modify account where name=cfd-lab cluster=hpc1 set GrpJobs=4 GrpTRES=cpu=64";
    let check = cli(&op, &["admin", "site", "check", "hpc1"]);
    assert!(check.stdout.contains("FAIL accounts") && check.stdout.contains(by_hand), "{}", check.stdout);
    let sync = cli(&op, &["admin", "site", "sync", "hpc1"]);
    assert_ne!(sync.code, 0);
    assert!(
        sync.stderr.contains("cannot change the limits of account cfd-lab") && sync.stderr.contains(by_hand),
        "{}",
        sync.stderr
    );
    sacctmgr(&["modify", "account", "where", "name=cfd-lab", "cluster=hpc1", "set", "GrpJobs=4", "GrpTRES=cpu=64"]);
    assert_eq!(limits_of("cfd-lab", "").as_deref(), Some("4||cpu=64||"));
    let check = cli(&op, &["admin", "site", "check", "hpc1"]).ok();
    assert!(check.stdout.contains("Site hpc1 works."), "{}", check.stdout);
    // Lifted: the member's at once, the project's by hand again.
    set(&alice, &member_limits, &["--max-jobs", "none", "--max-submit", "none", "--max-gpus", "none"]);
    set(&op, &["--project", "cfd-lab"], &["--max-jobs", "none", "--max-cpus", "none"]);
    wait_for(30, "alice's limits lifted", || {
        (limits_of("cfd-lab", &cluster.user).as_deref() == Some("||||")).then_some(())
    });
    let check = cli(&op, &["admin", "site", "check", "hpc1"]);
    assert!(check.stdout.contains("GrpJobs=-1 GrpTRES=cpu=-1"), "{}", check.stdout);
    sacctmgr(&["modify", "account", "where", "name=cfd-lab", "cluster=hpc1", "set", "GrpJobs=-1", "GrpTRES=cpu=-1"]);
    cli(&op, &["admin", "site", "check", "hpc1"]).ok();

    // Charged what slurmdbd says it used: elapsed seconds x 1 CPU x a fen.
    let elapsed = done["elapsed_secs"].as_i64().unwrap();
    assert!(elapsed >= 1, "{done}");
    assert_eq!(done["charge"]["charged"], format!("{}.{:02}", elapsed / 100, elapsed % 100), "{done}");

    // One queue over two sites: a job that names none is quoted on each and
    // goes to the soonest, then cheapest. Both start now; local is cheaper.
    let quote =
        cli_in(&alice, &dir.0, &["--json", "submit", "--quote", "-o", "/dev/null", "--wrap", "true"]).ok().json();
    let rows = quote.as_array().unwrap();
    let row = |site: &str| rows.iter().find(|r| r["site"] == site).unwrap_or_else(|| panic!("{site}: {quote}")).clone();
    assert!(row("local")["estimate"]["worst_case"].is_string() && row("hpc1")["estimate"]["worst_case"].is_string());
    assert!(row("hpc1")["estimated_start"].is_string(), "Slurm's nodes give an estimate: {quote}");
    assert_eq!(row("local")["chosen"], true, "{quote}");
    let table = cli_in(&alice, &dir.0, &["submit", "--quote", "-o", "/dev/null", "--wrap", "true"]).ok().stdout;
    assert!(table.contains("A submission would go to local") && table.contains("Nothing was submitted"), "{table}");
    // Only the Slurm site has a `debug` partition: the job is routed there,
    // and why is recorded on it.
    let quote =
        cli_in(&alice, &dir.0, &["--json", "submit", "--quote", "-p", "debug", "-o", "/dev/null", "--wrap", "true"])
            .ok()
            .json();
    let local = quote.as_array().unwrap().iter().find(|r| r["site"] == "local").unwrap().clone();
    assert!(local["refused"].as_str().unwrap().contains("unknown partition `debug`"), "{quote}");
    let too_long = cli_in(&alice, &dir.0, &["submit", "-M", "hpc1", "-p", "debug", "-t", "45", "--wrap", "true"]);
    assert!(too_long.stderr.contains("allows at most 30 min (its MaxTime)"), "{}", too_long.stderr);
    let routed = cli_in(&alice, &dir.0, &["--json", "submit", "-p", "debug", "-o", "/dev/null", "--wrap", "true"]).ok();
    let routed = routed.json()["job"]["job_id"].as_i64().unwrap().to_string();
    let routed = wait_state(&alice, &routed, "COMPLETED", 60);
    assert_eq!(routed["site"], "hpc1");
    let route = routed["route"].as_str().unwrap();
    assert!(route.starts_with("hpc1: starts now, at most ") && route.contains("local: cannot run it"), "{route}");
    let shown = cli(&alice, &["show", &routed["job_id"].to_string()]).ok().stdout;
    assert!(shown.contains("Route: hpc1: starts now"), "{shown}");

    // A failing job: FAILED with its exit code, as Slurm says.
    std::fs::write(dir.0.join("fail.sh"), "#!/bin/bash\n#SBATCH -o /dev/null\nexit 3\n").unwrap();
    let failed = submit(&alice, &dir.0, &["fail.sh"]);
    let failed = wait_state(&alice, &failed, "FAILED", 60);
    assert_eq!(failed["exit_code"], "3:0");

    // A job that fills the node, and one queued behind it: held and
    // released in Slurm; the reasons are Slurm's.
    let long = submit(&alice, &dir.0, &["-n", "2", "-o", "/dev/null", "--wrap", "sleep 300"]);
    let running = wait_state(&alice, &long, "RUNNING", 60);
    assert!(!running["node_list"].as_str().unwrap().is_empty());
    let behind = submit(&alice, &dir.0, &["-n", "2", "-o", "/dev/null", "--wrap", "true"]);
    wait_for(30, "Slurm's reason Resources", || (show(&alice, &behind)["reason"] == "Resources").then_some(()));
    cli(&alice, &["hold", &behind]).ok();
    wait_for(30, "Slurm's reason JobHeldUser", || (show(&alice, &behind)["reason"] == "JobHeldUser").then_some(()));
    // Cancel: through Slurm, the end comes back from Slurm.
    cli(&alice, &["cancel", &long]).ok();
    let cancelled = wait_state(&alice, &long, "CANCELLED", 60);
    assert!(cancelled["charge"]["charged"].is_string(), "a cancelled run is charged for what it ran: {cancelled}");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(show(&alice, &behind)["state"], "PENDING", "a held job stays held on a free node");
    cli(&alice, &["release", &behind]).ok();
    wait_state(&alice, &behind, "COMPLETED", 60);

    // The Slurm job ids are Slurm's business; what Slurm recorded agrees.
    let acct = cli(&alice, &["--json", "acct"]).ok().json();
    assert_eq!(acct.as_array().unwrap().len(), 5, "{acct}");

    // An outage: slurmrestd stops; submissions are accepted and wait with
    // a reason, then go once it is back, once.
    let script = slurm_script();
    let stop = std::process::Command::new(&script).arg("stop-rest").status().unwrap();
    assert!(stop.success());
    let waiting = submit(&alice, &dir.0, &["-o", "/dev/null", "--wrap", "true"]);
    let pending = wait_for(30, "the reason SiteUnavailable", || {
        let job = show(&alice, &waiting);
        (job["reason"] == "SiteUnavailable").then_some(job)
    });
    assert_eq!(pending["state"], "PENDING");
    let check = cli(&op, &["admin", "site", "check", "hpc1"]);
    assert_ne!(check.code, 0);
    assert!(check.stdout.contains("FAIL") && check.stdout.contains("cannot reach"), "{}", check.stdout);
    let start = std::process::Command::new(&script).arg("up").status().unwrap();
    assert!(start.success());
    let done = wait_state(&alice, &waiting, "COMPLETED", 60);
    let remote = done["remote_id"].as_i64().expect("a forwarded job has Slurm's id");
    assert_eq!(sacct(remote, "State"), "COMPLETED");
    let sites = cli(&op, &["--json", "sites"]).ok().json();
    assert_eq!(sites[0]["last_error"], "", "the error is cleared once the site answers: {sites}");

    // Cancelled on the cluster behind Lushan's back: detected and recorded.
    let behind_back = submit(&alice, &dir.0, &["-o", "/dev/null", "--wrap", "sleep 300"]);
    let running = wait_state(&alice, &behind_back, "RUNNING", 60);
    let remote = running["remote_id"].as_i64().unwrap().to_string();
    let scancel = std::process::Command::new("scancel").arg(&remote).status().unwrap();
    assert!(scancel.success());
    wait_state(&alice, &behind_back, "CANCELLED", 60);

    // slurmdbd down: a job that ends meanwhile is not settled until its
    // record is there, then once.
    let stop = std::process::Command::new(&script).arg("stop-dbd").status().unwrap();
    assert!(stop.success());
    let unrecorded = submit(&alice, &dir.0, &["-o", "/dev/null", "--wrap", "sleep 1"]);
    let remote = wait_for(60, "the job sent", || show(&alice, &unrecorded)["remote_id"].as_i64()).to_string();
    wait_for(60, "Slurm to finish it", || {
        let out =
            std::process::Command::new("squeue").args(["-h", "-t", "all", "-j", &remote, "-o", "%T"]).output().unwrap();
        (String::from_utf8_lossy(&out.stdout).trim() == "COMPLETED").then_some(())
    });
    std::thread::sleep(std::time::Duration::from_secs(3));
    let job = show(&alice, &unrecorded);
    assert_ne!(job["state"], "COMPLETED", "settled without slurmdbd's record: {job}");
    let start = std::process::Command::new(&script).arg("up").status().unwrap();
    assert!(start.success());
    // slurmctld sends what it queued once it reconnects, which it retries
    // on its own clock (tens of seconds here); a reconfigure reconnects now.
    let _ = std::process::Command::new("scontrol").arg("reconfigure").status();
    let settled = wait_state(&alice, &unrecorded, "COMPLETED", 240);
    assert!(settled["charge"]["charged"].is_string(), "{settled}");
    // Charged for what it ran, even while slurmdbd's record has no end yet.
    let ran = settled["elapsed_secs"].as_i64().unwrap().to_string();
    assert_eq!(ran, slurm_elapsed(remote.parse().unwrap()), "{settled}");

    // Lushan killed while a job runs on the cluster; the job ends while no
    // server runs; the next server settles it from slurmdbd, once.
    let short = submit(&alice, &dir.0, &["-o", "/dev/null", "--wrap", "sleep 2"]);
    wait_state(&alice, &short, "RUNNING", 60);
    server.kill9();
    std::thread::sleep(std::time::Duration::from_secs(4));
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let show_at = |id: &str| cli(&alice, &["--url", &server.url, "--json", "show", id]).ok().json();
    let settled = wait_for(60, "the end recorded after the restart", || {
        let job = show_at(&short);
        (job["state"] == "COMPLETED").then_some(job)
    });
    // Slurm's elapsed time (a busy machine stretches `sleep 2`), not the
    // time Lushan was down.
    let elapsed = settled["elapsed_secs"].as_i64().unwrap();
    let remote = settled["remote_id"].as_i64().unwrap();
    assert_eq!(elapsed.to_string(), slurm_elapsed(remote), "{settled}");
    let statement = cli(&op, &["--url", &server.url, "--json", "statement", "--tenant", "jxu"]).ok().json();
    let settlements = |job: &str| {
        let id: i64 = job.parse().unwrap();
        statement["lines"].as_array().unwrap().iter().filter(|l| l["kind"] == "settlement" && l["job_id"] == id).count()
    };
    assert_eq!(settlements(&short), 1, "settled once: {statement}");
    assert_eq!(settlements(&unrecorded), 1, "settled once after slurmdbd came back: {statement}");
    drop(server);

    through_the_commands(&cluster, &dir);
}

/// Writes a stand-in (or a wrapper) command atomically: a running one is
/// never rewritten under its feet.
/// The operator opens hpc1's check in a real browser, in Chinese and in
/// English: every item passes but the accounts, whose drift (a dry run)
/// lists the project that Slurm does not have yet. Skipped, with a
/// message, where chromium is not installed.
fn the_console_checks_the_site(server: &Server) {
    use crate::browser::{Driver, available, console_errors, open, shot, sign_in};
    use fantoccini::Locator;
    if !available() {
        return;
    }
    let banner = server.banner_text();
    let password = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no operator password in {banner}"))
        .to_owned();
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (lang, accounts) in [("zh-CN", "账户"), ("en", "Accounts")] {
        runtime.block_on(async {
            let browser = open(&driver, lang).await;
            sign_in(&browser, &server.url, "admin", &password).await;
            browser.goto(&format!("{}/operate/sites/hpc1/check", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Id("check")).await.unwrap();
            let page = browser.source().await.unwrap();
            let mut failed = Vec::new();
            for row in browser.find_all(Locator::Css("#check tbody tr")).await.unwrap() {
                let text = row.text().await.unwrap();
                if row.find(Locator::Css(".state-failed")).await.is_ok() {
                    failed.push(text);
                }
            }
            assert_eq!(failed.len(), 1, "{lang}: only the accounts differ: {failed:?}");
            assert!(failed[0].starts_with(accounts) && failed[0].contains("site sync hpc1"), "{lang}: {failed:?}");
            assert!(page.contains("slurmctld") && page.contains("answers the ping"), "{lang}: {page}");
            let drift = browser.find(Locator::Id("drift")).await.unwrap().text().await.unwrap();
            // `create account cfd-lab` on a new cluster; `add account cfd-lab
            // under ...` where an earlier run's account is still known.
            assert!(drift.contains("account cfd-lab"), "{lang}: the project is not in Slurm yet: {drift}");
            shot(&browser, lang, "operate-check-slurm").await;
            assert_eq!(console_errors(&browser).await, Vec::<String>::new(), "{lang}: the console");
            browser.close().await.unwrap();
        });
    }
}

fn put_command(bin: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = bin.join(format!(".{name}.new"));
    std::fs::write(&tmp, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, bin.join(name)).unwrap();
}

/// The same cluster reached through Slurm's commands on this host
/// (`--cli`): the main paths with the real commands, then the failure
/// paths (a command that hangs, one that prints garbage) on a second site
/// whose commands are wrappers the test swaps for stand-ins.
fn through_the_commands(cluster: &Cluster, dir: &SharedDir) {
    let sandbox = Sandbox::new();
    let server: Server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let op = server.home.clone();
    let nowhere = cli(&op, &["admin", "site", "add", "hpc1", "--cli", "--slurm-bin", "/nonexistent"]);
    assert!(nowhere.stderr.contains("cannot run /nonexistent/scontrol"), "{}", nowhere.stderr);
    let mixed = cli(&op, &["admin", "site", "add", "hpc1", "--cli", "--rest-url", &cluster.url]);
    assert_ne!(mixed.code, 0);
    let added = cli(&op, &["admin", "site", "add", "hpc1", "--cli"]).ok();
    assert!(added.stdout.contains("Added site hpc1 (slurm): 2 partition(s), 1 node(s)"), "{}", added.stdout);
    let sites = cli(&op, &["--json", "sites"]).ok().json();
    assert_eq!((sites[0]["transport"].as_str(), sites[0]["cluster"].as_str()), (Some("cli"), Some("hpc1")), "{sites}");
    let alice = member(&sandbox, &server, cluster);
    cli(&op, &["admin", "site", "sync", "hpc1"]).ok();
    let check = cli(&op, &["admin", "site", "check", "hpc1"]).ok();
    for what in ["commands", "users", "slurmctld", "accounting", "inventory", "accounts"] {
        assert!(check.stdout.lines().any(|l| l.starts_with("ok") && l.contains(what)), "{what}: {}", check.stdout);
    }
    // Through the commands, a project's limits reach its account too.
    cli(&op, &["admin", "limits", "set", "--project", "cfd-lab", "--max-jobs", "4", "--max-cpus", "64"]).ok();
    cli(&alice, &["admin", "limits", "set", "--project", "cfd-lab", "--user", "alice", "--max-submit", "9"]).ok();
    wait_for(30, "the project's and the member's limits on the cluster", || {
        let account = limits_of("cfd-lab", "")?;
        let member = limits_of("cfd-lab", &cluster.user)?;
        (account == "4||cpu=64||" && member == "||||9").then_some(())
    });
    cli(&op, &["admin", "site", "check", "hpc1"]).ok();

    // A job's life: submitted as the user, its output, its charge from sacct.
    let id = submit(&alice, &dir.0, &["job.sh"]);
    let done = wait_state(&alice, &id, "COMPLETED", 60);
    let output = std::fs::read_to_string(dir.0.join(format!("hello-{id}.out"))).unwrap();
    assert!(output.contains(&format!("hello from {} on", cluster.user)), "{output}");
    let remote = done["remote_id"].as_i64().unwrap();
    assert_eq!(sacct(remote, "Account"), "cfd-lab");
    let elapsed = done["elapsed_secs"].as_i64().unwrap();
    assert_eq!(done["charge"]["charged"], format!("{}.{:02}", elapsed / 100, elapsed % 100), "{done}");
    let failed = submit(&alice, &dir.0, &["fail.sh"]);
    assert_eq!(wait_state(&alice, &failed, "FAILED", 60)["exit_code"], "3:0", "sacct's exit code");
    // Hold, release and cancel as the user.
    let long = submit(&alice, &dir.0, &["-n", "2", "-o", "/dev/null", "--wrap", "sleep 300"]);
    wait_state(&alice, &long, "RUNNING", 60);
    let behind = submit(&alice, &dir.0, &["-n", "2", "-o", "/dev/null", "--wrap", "true"]);
    wait_for(30, "Slurm's reason Resources", || (show(&alice, &behind)["reason"] == "Resources").then_some(()));
    cli(&alice, &["hold", &behind]).ok();
    wait_for(30, "Slurm's reason JobHeldUser", || (show(&alice, &behind)["reason"] == "JobHeldUser").then_some(()));
    cli(&alice, &["cancel", &long]).ok();
    wait_state(&alice, &long, "CANCELLED", 60);
    cli(&alice, &["release", &behind]).ok();
    wait_state(&alice, &behind, "COMPLETED", 60);

    // Failure paths: a second site over the same cluster whose commands
    // are wrappers around the real ones, swapped for stand-ins.
    let bin = sandbox.path("slurm-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let real = |name: &str| {
        let out = std::process::Command::new("sh").args(["-c", &format!("command -v {name}")]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    for name in ["sbatch", "squeue", "sacct", "scontrol", "sacctmgr", "scancel", "sinfo"] {
        put_command(&bin, name, &format!("exec {} \"$@\"", real(name)));
    }
    let bin_arg = bin.display().to_string();
    cli(&op, &["admin", "site", "add", "flaky", "--cli", "--slurm-bin", &bin_arg]).ok();
    cli(&op, &["admin", "price", "set", "--site", "flaky", "--core-hour", "36"]).ok();
    // sbatch hangs: the job waits with a reason, the site says why.
    put_command(&bin, "sbatch", "sleep 60");
    let name = format!("once-{}", std::process::id());
    let job = cli_in(
        &alice,
        &dir.0,
        &["--json", "submit", "-M", "flaky", "-J", &name, "-o", "/dev/null", "--wrap", "sleep 3"],
    )
    .ok();
    let job = job.json()["job"]["job_id"].as_i64().unwrap().to_string();
    wait_for(30, "the reason SiteUnavailable", || (show(&alice, &job)["reason"] == "SiteUnavailable").then_some(()));
    let error = |op: &Path| {
        let sites = cli(op, &["--json", "sites"]).ok().json();
        sites.as_array().unwrap().iter().find(|s| s["name"] == "flaky").unwrap()["last_error"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(error(&op).contains("`sbatch --parsable") && error(&op).contains("no answer within 5 s"), "{}", error(&op));
    // sbatch is back, squeue prints garbage: the job is sent (once), and
    // the site says it cannot read the cluster.
    put_command(&bin, "squeue", "echo 'squeue: this is not a job list'");
    put_command(&bin, "sbatch", &format!("exec {} \"$@\"", real("sbatch")));
    wait_for(30, "the job sent to Slurm", || show(&alice, &job)["remote_id"].as_i64());
    wait_for(30, "the garbage reported", || {
        error(&op).contains("`squeue` printed something Lushan cannot read").then_some(())
    });
    // squeue is back: the job's end is followed and charged.
    put_command(&bin, "squeue", &format!("exec {} \"$@\"", real("squeue")));
    let done = wait_state(&alice, &job, "COMPLETED", 60);
    assert!(done["charge"]["charged"].is_string(), "{done}");
    wait_for(30, "the error cleared", || error(&op).is_empty().then_some(()));
    // slurmdbd may list the job a moment after Lushan settled it.
    let sent = wait_for(30, "the job in slurmdbd", || {
        let out = std::process::Command::new("sacct")
            .args(["-X", "-n", "-P", "-S", "now-1hours", "-E", "now", "--name", &name, "-o", "JobIDRaw"])
            .output()
            .unwrap();
        let sent = String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).count();
        (sent > 0).then_some(sent)
    });
    assert_eq!(sent, 1, "sent to Slurm once");
}
