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
#[test]
fn a_co_builder_earns_from_guests_and_runs_free_on_its_own_node() {
    let sandbox = Sandbox::new();
    let server = start(&sandbox);
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
    let (alice, bob) = (&homes[0], &homes[1]);
    let sites = cli(&op, &["--json", "sites"]).ok().json();
    let node = sites[0]["nodes"][0]["name"].as_str().unwrap().to_owned();
    cli(&op, &["admin", "node-owner", "local", &node, "acme"]).ok();
    cli(&op, &["admin", "price", "set", "--site", "local", "--core-hour", "360"]).ok();
    cli(&op, &["admin", "owner-share", "70"]).ok();
    cli(&op, &["admin", "topup", "jxu", "100", "--ref", "INV-1"]).ok();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();

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
    server.stop();
}
