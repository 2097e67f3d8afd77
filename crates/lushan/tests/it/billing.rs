//! Money through the real binary: an enterprise tops up, prices are set,
//! `submit --estimate` tells the worst case, an over-budget job is refused
//! with both amounts, a job that runs is held, charged for what it ran and
//! settled once, and the statement shows it all.

use crate::harness::{Sandbox, Server, cli, cli_in, cli_with_stdin, wait_for};

/// A platform whose jobs run as the server's own user.
fn start(sandbox: &Sandbox) -> Server {
    let config = sandbox.path("lushan.toml");
    std::fs::write(&config, "run_jobs_as_server_user = true\nkill_wait_secs = 1\n").unwrap();
    sandbox
        .start(&["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &config.display().to_string()])
        .unwrap()
}

#[test]
fn an_enterprise_tops_up_is_refused_over_budget_and_is_charged_for_what_it_ran() {
    let sandbox = Sandbox::new();
    let server = start(&sandbox);
    let op = server.home.clone();
    cli(&op, &["admin", "tenant", "create", "acme", "--sector", "enterprise"]).ok();
    cli_with_stdin(&op, &["admin", "user", "create", "bob", "--tenant", "acme", "--password-stdin"], "bob-password\n")
        .ok();
    cli(&op, &["admin", "project", "create", "cae-sim", "--tenant", "acme", "--pi", "bob"]).ok();
    let bob = sandbox.path("bob");
    cli_with_stdin(&bob, &["login", "--url", &server.url, "bob", "--password-stdin"], "bob-password\n").ok();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();

    // 360 CNY per core-hour is 0.10 per core-second: seconds show in fen.
    cli(&op, &["admin", "price", "set", "--site", "local", "--core-hour", "360"]).ok();
    cli(&op, &["admin", "discount", "enterprise", "10"]).ok();
    let prices = cli(&bob, &["price", "list"]).ok();
    assert!(prices.stdout.contains("360.00") && prices.stdout.contains("enterprise 10 %"), "{}", prices.stdout);

    // Top-ups: a payment's reference is posted once.
    cli(&op, &["admin", "topup", "acme", "50", "--ref", "INV-2026-113"]).ok();
    let again = cli(&op, &["admin", "topup", "acme", "50", "--ref", "INV-2026-113"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already posted"), "{}", again.stderr);
    let bad = cli(&op, &["admin", "topup", "acme", "12.345", "--ref", "X"]);
    assert!(bad.stderr.contains("at most 2 decimals"), "{}", bad.stderr);
    // Only operators top up; only the tenant's admins and operators see its wallet.
    assert_eq!(cli(&bob, &["admin", "topup", "acme", "1000", "--ref", "MINE"]).code, 1);
    assert!(cli(&bob, &["balance"]).ok().stdout.contains("Tenant acme's wallet is shown to its admins"));
    assert!(cli(&bob, &["balance", "--tenant", "acme"]).stderr.contains("only tenant acme's admins"));

    // 10 minutes of a core: 60.00 less 10 % = 54.00 > 50.00.
    let estimate = cli_in(&bob, &work, &["--json", "submit", "--estimate", "-t", "10", "--wrap", "true"]).ok().json();
    assert_eq!(
        (&estimate["worst_case"], &estimate["available"], &estimate["covered"], &estimate["payer"]),
        (&"54.00".into(), &"50.00".into(), &false.into(), &"tenant acme".into()),
        "{estimate}"
    );
    let refused = cli_in(&bob, &work, &["submit", "-t", "10", "--wrap", "true"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains(
            "tenant acme has 50.00 CNY available; this job may cost up to 54.00 CNY: ask your tenant admin for a top-up"
        ),
        "{}",
        refused.stderr
    );
    let jobs = cli(&bob, &["--json", "jobs"]).ok().json();
    assert_eq!(jobs.as_array().unwrap().len(), 0, "a refused job is not stored");

    // One minute: held 5.40 at submission, charged for what it ran at the end.
    let run = cli_in(&bob, &work, &["--json", "submit", "-t", "1", "--wrap", "sleep 2"]).ok().json();
    let id = run["job"]["job_id"].as_i64().unwrap().to_string();
    let wallet = cli(&op, &["--json", "balance", "--tenant", "acme"]).ok().json()["wallet"].clone();
    assert!(wallet["held"] == "5.40" || wallet["held"] == "0.00", "{wallet}");
    let job = wait_for(30, "the job to complete", || {
        let job = cli(&bob, &["--json", "show", &id]).ok().json();
        (job["state"] == "COMPLETED").then_some(job)
    });
    let elapsed = job["elapsed_secs"].as_i64().unwrap();
    assert!((2..=4).contains(&elapsed), "{job}");
    let charged = elapsed * 9; // fen: 0.10 per core-second less 10 %
    let shown = wait_for(10, "the job's charge", || {
        let job = cli(&bob, &["--json", "show", &id]).ok().json();
        job["charge"]["charged"].is_string().then_some(job)
    });
    assert_eq!(shown["charge"]["held"], "5.40", "{shown}");
    assert_eq!(shown["charge"]["charged"], format!("{}.{:02}", charged / 100, charged % 100).as_str(), "{shown}");
    assert!(cli(&bob, &["show", &id]).ok().stdout.contains("5.40 CNY held from the wallet; charged"));
    let wallet = wait_for(10, "the settlement", || {
        let wallet = cli(&op, &["--json", "balance", "--tenant", "acme"]).ok().json()["wallet"].clone();
        (wallet["held"] == "0.00").then_some(wallet)
    });
    let expected = format!("{}.{:02}", (5_000 - charged) / 100, (5_000 - charged) % 100);
    assert_eq!(wallet["balance"], expected.as_str(), "{wallet}");

    cli(&op, &["admin", "adjust", "acme", "1.50", "--ref", "GOODWILL-1", "--reason", "slow start on 11-20"]).ok();
    let statement = cli(&op, &["statement", "--tenant", "acme", "--csv"]).ok();
    let lines: Vec<&str> = statement.stdout.lines().collect();
    assert_eq!(lines[0], "transaction,time,kind,job,reference,memo,amount,balance");
    assert!(lines[1].contains(",opening,") && lines[1].ends_with(",0.00"), "{}", statement.stdout);
    assert!(lines[2].contains(",top-up,") && lines[2].ends_with(",50.00,50.00"), "{}", statement.stdout);
    assert!(lines[3].contains(&format!(",settlement,{id},")), "{}", statement.stdout);
    assert!(lines[4].contains(",adjustment,") && lines[4].contains("slow start on 11-20"), "{}", statement.stdout);
    assert!(lines[5].contains(",closing,"), "{}", statement.stdout);
    // --csv on the other money views too.
    let balance = cli(&op, &["balance", "--tenant", "acme", "--csv"]).ok().stdout;
    let lines: Vec<&str> = balance.lines().collect();
    assert_eq!(lines[0], "account,unit,balance,held,available,ends");
    let closing = statement.stdout.lines().last().unwrap().rsplit(',').next().unwrap().to_owned();
    assert!(lines[1].starts_with(&format!("wallet,CNY,{closing},0.00,")), "{balance}");
    let prices = cli(&bob, &["price", "list", "--csv"]).ok().stdout;
    assert!(prices.starts_with("site,partition,qos,cny_per_core_hour,"), "{prices}");
    assert!(prices.lines().any(|l| l.starts_with("local,*,*,360.00,")), "{prices}");
    let grants = cli(&op, &["alloc", "list", "--csv"]).ok().stdout;
    assert_eq!(grants.trim(), "grant,project,state,asked_core_h/gpu_h,awarded_su,used_su,held_su,left_su,period");
    // The audit log has every financial action.
    let audit = cli(&op, &["--json", "admin", "audit"]).ok().json();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["wallet.top-up", "wallet.adjust", "price.set", "price.discount"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
    server.stop();
}

/// A co-builder's node: a guest's job is charged and 70 % goes to the
/// owner; the owner's own job there is free; the settlement and the usage
/// report say so.
/// A platform whose only node acme (user bob) co-built; jxu (user alice)
/// has 100 CNY; a core-second costs 0.10 CNY; owners get 70 %.
struct CoBuilt {
    server: Server,
    op: std::path::PathBuf,
    alice: std::path::PathBuf,
    bob: std::path::PathBuf,
    work: std::path::PathBuf,
}

fn co_built(sandbox: &Sandbox) -> CoBuilt {
    let server = start(sandbox);
    let op = server.home.clone();
    let mut homes = Vec::new();
    for (tenant, sector, user, project) in
        [("jxu", "university", "alice", "cfd-lab"), ("acme", "enterprise", "bob", "cae-sim")]
    {
        cli(&op, &["admin", "tenant", "create", tenant, "--sector", sector]).ok();
        cli_with_stdin(
            &op,
            &["admin", "user", "create", user, "--tenant", tenant, "--password-stdin"],
            "password-123\n",
        )
        .ok();
        cli(&op, &["admin", "project", "create", project, "--tenant", tenant, "--pi", user]).ok();
        let home = sandbox.path(user);
        cli_with_stdin(&home, &["login", "--url", &server.url, user, "--password-stdin"], "password-123\n").ok();
        homes.push(home);
    }
    let sites = cli(&op, &["--json", "sites"]).ok().json();
    let node = sites[0]["nodes"][0]["name"].as_str().unwrap().to_owned();
    cli(&op, &["admin", "node-owner", "local", &node, "acme"]).ok();
    cli(&op, &["admin", "price", "set", "--site", "local", "--core-hour", "360"]).ok();
    cli(&op, &["admin", "owner-share", "70"]).ok();
    cli(&op, &["admin", "topup", "jxu", "100", "--ref", "INV-1"]).ok();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let bob = homes.pop().unwrap();
    let alice = homes.pop().unwrap();
    CoBuilt { server, op, alice, bob, work }
}

#[test]
fn a_co_builder_earns_from_guests_and_runs_free_on_its_own_node() {
    let sandbox = Sandbox::new();
    let CoBuilt { server, op, alice, bob, work } = co_built(&sandbox);
    let (alice, bob) = (&alice, &bob);

    // acme owns every node of the partition: its job holds nothing and needs no money.
    let estimate = cli_in(bob, &work, &["--json", "submit", "--estimate", "-t", "1", "--wrap", "true"]).ok().json();
    assert_eq!(estimate["worst_case"], "0.00", "{estimate}");
    assert!(estimate["free_because"].as_str().unwrap().contains("belongs to tenant acme"), "{estimate}");
    let run = |home: &std::path::Path| {
        let submitted = cli_in(home, &work, &["--json", "submit", "-t", "1", "--wrap", "sleep 1"]).ok().json();
        submitted["job"]["job_id"].as_i64().unwrap().to_string()
    };
    let guest = run(alice);
    let own = run(bob);
    let mut elapsed = Vec::new();
    for (home, id) in [(alice, &guest), (bob, &own)] {
        let job = wait_for(30, "the job to complete", || {
            let job = cli(home, &["--json", "show", id]).ok().json();
            (job["state"] == "COMPLETED").then_some(job)
        });
        elapsed.push(job["elapsed_secs"].as_i64().unwrap());
    }
    let charge = elapsed[0] * 10; // fen: 0.10 per core-second, one core
    let earned = charge * 70 / 100;
    let fen = |v: i64| format!("{}.{:02}", v / 100, v % 100);
    let settlement = wait_for(10, "both settlements", || {
        let s = cli(&op, &["--json", "settlement", "--owner", "acme"]).ok().json();
        (s["jobs"].as_array().unwrap().len() == 2).then_some(s)
    });
    assert_eq!(settlement["earned"], fen(earned).as_str(), "{settlement}");
    let jobs = settlement["jobs"].as_array().unwrap();
    let guest_row =
        jobs.iter().find(|j| j["job_id"].as_i64().map(|i| i.to_string()).as_deref() == Some(guest.as_str())).unwrap();
    let own_row =
        jobs.iter().find(|j| j["job_id"].as_i64().map(|i| i.to_string()).as_deref() == Some(own.as_str())).unwrap();
    assert_eq!((&guest_row["tenant"], &guest_row["own"]), (&"jxu".into(), &false.into()));
    assert_eq!(guest_row["charged"], format!("{} CNY", fen(charge)).as_str());
    assert_eq!((&own_row["own"], &own_row["charged"]), (&true.into(), &"0.00 CNY".into()), "{settlement}");
    let acme = cli(&op, &["--json", "balance", "--tenant", "acme"]).ok().json();
    assert_eq!(acme["wallet"]["earnings"], fen(earned).as_str(), "{acme}");

    let today = jiff::Zoned::now().date().to_string();
    let report =
        cli(&op, &["--json", "report", "usage", "--by", "tenant", "--from", "2000-01-01", "--to", &today]).ok().json();
    let rows = report["rows"].as_array().unwrap();
    let jxu = rows.iter().find(|r| r["key"] == "jxu").unwrap();
    let acme = rows.iter().find(|r| r["key"] == "acme").unwrap();
    assert_eq!((&jxu["jobs"], &jxu["cny_charged"]), (&1.into(), &fen(charge).as_str().into()), "{report}");
    assert_eq!((&acme["jobs"], &acme["cny_charged"]), (&1.into(), &"0.00".into()), "{report}");
    assert_eq!(report["total"]["jobs"], 2);
    // A member sees only their own usage.
    let mine = cli(alice, &["--json", "report", "usage", "--by", "tenant", "--from", "2000-01-01", "--to", &today])
        .ok()
        .json();
    assert_eq!(mine["rows"].as_array().unwrap().len(), 1, "{mine}");
    // Settlements are the co-builder's admins' and the operators'.
    assert_eq!(cli(alice, &["settlement", "--owner", "acme"]).code, 1);
    // What ran on acme's node while it was acme's stays in its settlement
    // after the node goes back to the centre; nothing moves to the centre's.
    let node = cli(&op, &["--json", "sites"]).ok().json()[0]["nodes"][0]["name"].as_str().unwrap().to_owned();
    cli(&op, &["admin", "node-owner", "local", &node, "centre"]).ok();
    let after = cli(&op, &["--json", "settlement", "--owner", "acme"]).ok().json();
    assert_eq!((after["jobs"].as_array().unwrap().len(), &after["earned"]), (2, &settlement["earned"]), "{after}");
    server.stop();
}

/// The owner needs its node back: the guest filling it gets SIGTERM, ends
/// PREEMPTED after the partition's grace time, is charged for what it ran
/// (70 % of it to the owner) and requeued; the owner's job runs free; the
/// guest then runs again as its second run, charged on its own.
#[test]
fn an_owner_preempts_a_guest_which_is_charged_for_what_it_ran_and_requeued() {
    let sandbox = Sandbox::new();
    let CoBuilt { server, op, alice, bob, work } = co_built(&sandbox);
    let sites = cli(&op, &["--json", "admin", "preemption", "local", "local", "requeue", "--grace", "2"]).ok().json();
    assert_eq!(
        (&sites[0]["partitions"][0]["preempt_mode"], &sites[0]["partitions"][0]["grace_secs"]),
        (&"requeue".into(), &2.into())
    );
    assert_eq!(cli(&alice, &["admin", "preemption", "local", "local", "off"]).code, 1, "operators only");
    let refused = cli(&op, &["admin", "preemption", "local", "local", "sometimes"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("off, cancel or requeue"), "{}", refused.stderr);
    // Guests pay half where the owner may preempt them.
    let prices = cli(&op, &["--json", "admin", "preemptible-discount", "50"]).ok().json();
    assert_eq!(prices["preemptible_discount_percent"], "50", "{prices}");

    // The guest takes the whole node, and says when it is told to stop.
    let script = "echo run; trap 'echo got SIGTERM; exit 143' TERM; sleep 300 & wait";
    let submitted = cli_in(
        &alice,
        &work,
        &["--json", "submit", "--exclusive", "-t", "10", "--open-mode=append", "-o", "guest.out", "--wrap", script],
    )
    .ok()
    .json();
    let guest = submitted["job"]["job_id"].as_i64().unwrap().to_string();
    wait_for(30, "the guest to run", || {
        (cli(&alice, &["--json", "show", &guest]).ok().json()["state"] == "RUNNING").then_some(())
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    let owner_job = cli_in(&bob, &work, &["--json", "submit", "-t", "1", "--wrap", "sleep 1"]).ok().json();
    let owner_job = owner_job["job"]["job_id"].as_i64().unwrap().to_string();
    let requeued = wait_for(30, "the guest to be requeued", || {
        let job = cli(&alice, &["--json", "show", &guest]).ok().json();
        (job["restarts"] == 1).then_some(job)
    });
    assert!(["PENDING", "RUNNING"].contains(&requeued["state"].as_str().unwrap()), "{requeued}");
    wait_for(30, "the owner's job to complete", || {
        (cli(&bob, &["--json", "show", &owner_job]).ok().json()["state"] == "COMPLETED").then_some(())
    });
    // Its second run starts once the owner's job is done.
    wait_for(30, "the guest's second run", || {
        let job = cli(&alice, &["--json", "show", &guest]).ok().json();
        (job["state"] == "RUNNING").then_some(())
    });
    let output = wait_for(10, "the second run's output", || {
        let text = std::fs::read_to_string(work.join("guest.out")).unwrap_or_default();
        (text.matches("run").count() == 2).then_some(text)
    });
    assert_eq!(output.matches("got SIGTERM").count(), 1, "{output}");
    cli(&alice, &["cancel", &guest]).ok();
    let ended = wait_for(30, "the guest to be cancelled", || {
        let job = cli(&alice, &["--json", "show", &guest]).ok().json();
        (job["state"] == "CANCELLED" && job["charge"]["charged"].is_string()).then_some(job)
    });
    assert_eq!((&ended["charge"]["runs"], &ended["charge"]["preempted_runs"]), (&2.into(), &1.into()), "{ended}");
    let shown = cli(&alice, &["show", &guest]).ok().stdout;
    assert!(shown.contains("over 2 runs, 1 ended by an owner's preemption"), "{shown}");

    // The settlement lists the preempted run, the second run and the owner's own job.
    let settlement = cli(&op, &["--json", "settlement", "--owner", "acme"]).ok().json();
    let rows = settlement["jobs"].as_array().unwrap();
    let guest_runs: Vec<(i64, bool)> = rows
        .iter()
        .filter(|r| r["job_id"].as_i64().unwrap().to_string() == guest)
        .map(|r| (r["run"].as_i64().unwrap(), r["preempted"].as_bool().unwrap()))
        .collect();
    assert_eq!(guest_runs, [(0, true), (1, false)], "{settlement}");
    let preempted_run = rows.iter().find(|r| r["preempted"] == true).unwrap();
    let fen: i64 =
        preempted_run["charged"].as_str().unwrap().trim_end_matches(" CNY").replace('.', "").parse().unwrap();
    // It ran the second or so before the owner came, plus up to its 2 s of
    // grace, on every core, at 10 fen a core-second less the preemptible
    // discount of 50 %; acme earns 70 % of that, rounded down.
    let cores = sites[0]["nodes"][0]["cpus"].as_i64().unwrap();
    assert!((5 * cores..=30 * cores).contains(&fen), "{settlement}");
    let earned: i64 = preempted_run["earned"].as_str().unwrap().replace('.', "").parse().unwrap();
    assert_eq!(earned, fen * 70 / 100, "{settlement}");
    let text = cli(&op, &["settlement", "--owner", "acme"]).ok().stdout;
    assert!(text.contains("guest, preempted") && text.contains(&format!("{guest} run 1")), "{text}");
    let owner_row = rows.iter().find(|r| r["job_id"].as_i64().unwrap().to_string() == owner_job).unwrap();
    assert_eq!((&owner_row["own"], &owner_row["charged"]), (&true.into(), &"0.00 CNY".into()));

    // A guest submitted with --no-requeue ends PREEMPTED and stays ended.
    let submitted =
        cli_in(&alice, &work, &["--json", "submit", "--exclusive", "--no-requeue", "-t", "10", "--wrap", "sleep 300"])
            .ok()
            .json();
    let once = submitted["job"]["job_id"].as_i64().unwrap().to_string();
    wait_for(30, "the guest to run", || {
        (cli(&alice, &["--json", "show", &once]).ok().json()["state"] == "RUNNING").then_some(())
    });
    cli_in(&bob, &work, &["submit", "-t", "1", "--wrap", "true"]).ok();
    let ended = wait_for(30, "the guest to be preempted", || {
        let job = cli(&alice, &["--json", "show", &once]).ok().json();
        (job["state"] == "PREEMPTED").then_some(job)
    });
    assert_eq!(ended["restarts"], 0, "{ended}");
    assert!(ended["reason"].as_str().unwrap().starts_with("preempted for job"), "{ended}");
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(cli(&alice, &["--json", "show", &once]).ok().json()["state"], "PREEMPTED");
    server.stop();
}
