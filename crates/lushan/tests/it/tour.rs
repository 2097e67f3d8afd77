//! The README's five-minute tour, as a new user runs it, plus what `up`
//! promises: one operator secret, once; one server per data directory.

use crate::harness::{Sandbox, cli, cli_with_stdin};

#[test]
fn the_tour_works_end_to_end() {
    let sandbox = Sandbox::new();
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let banner = server.banner_text();
    assert!(banner.contains("operator:  admin"), "{banner}");
    assert!(banner.contains("password:  "), "{banner}");
    let op = server.home.clone();
    // The database holds password and token hashes: the server's user only.
    use std::os::unix::fs::PermissionsExt;
    for file in ["lushan.db", "lushan.db-wal"] {
        let mode = std::fs::metadata(sandbox.path("data").join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    let cli_config = std::fs::metadata(op.join(".config/lushan/cli.toml")).unwrap().permissions().mode() & 0o777;
    assert_eq!(cli_config, 0o600);

    // The operator's CLI was configured by `up`.
    let me = cli(&op, &["--json", "whoami"]).ok().json();
    assert_eq!(me["user"]["name"], "admin");
    assert_eq!(me["user"]["role"], "operator");

    cli(&op, &["admin", "tenant", "create", "jxu", "--sector", "university", "--display-name", "江西大学"]).ok();
    let alice = cli(&op, &["admin", "user", "create", "alice", "--tenant", "jxu"]).ok();
    let alice_password = alice
        .stdout
        .lines()
        .find_map(|l| l.split(": ").nth(1).filter(|_| l.contains("One-time password")))
        .unwrap()
        .trim()
        .to_owned();
    cli_with_stdin(&op, &["admin", "user", "create", "bob", "--tenant", "jxu", "--password-stdin"], "bob-password-1\n")
        .ok();
    cli(
        &op,
        &["admin", "project", "create", "cfd-lab", "--tenant", "jxu", "--pi", "alice", "--description", "CFD group"],
    )
    .ok();
    let project = cli(&op, &["--json", "admin", "project", "add-member", "cfd-lab", "bob", "--manager"]).ok().json();
    assert_eq!(project["members"].as_array().unwrap().len(), 2);

    let tenants = cli(&op, &["admin", "tenant", "list"]).ok().stdout;
    assert!(tenants.contains("江西大学") && tenants.contains("TENANT"), "{tenants}");

    // Alice signs in from her own account and sees her project.
    let alice_home = sandbox.path("alice");
    let login = cli_with_stdin(
        &alice_home,
        &["login", "--url", &server.url, "alice", "--password-stdin"],
        &format!("{alice_password}\n"),
    )
    .ok();
    assert!(login.stdout.contains("Signed in as alice"), "{}", login.stdout);
    let me = cli(&alice_home, &["--json", "whoami"]).ok().json();
    assert_eq!(me["user"]["tenant"], "jxu");
    assert_eq!(me["projects"][0]["project"], "cfd-lab");
    assert_eq!(me["projects"][0]["role"], "pi");
    let projects = cli(&alice_home, &["projects"]).ok().stdout;
    assert!(projects.contains("cfd-lab"), "{projects}");

    // Personal tokens: created once, listed without secrets, revoked.
    let created = cli(&alice_home, &["--json", "token", "create", "laptop", "--expires", "30d"]).ok().json();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["id"].as_i64().unwrap().to_string();
    let list = cli(&alice_home, &["token", "list"]).ok().stdout;
    assert!(list.contains("laptop") && !list.contains(&secret), "{list}");
    // LUSHAN_URL and LUSHAN_TOKEN work without any saved configuration.
    let bare = sandbox.path("bare");
    let whoami = cli(&bare, &["--url", &server.url, "--token", &secret, "whoami"]).ok().stdout;
    assert!(whoami.contains("alice"), "{whoami}");
    cli(&alice_home, &["token", "revoke", &id]).ok();
    let refused = cli(&bare, &["--url", &server.url, "--token", &secret, "whoami"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("revoked"), "{}", refused.stderr);

    // Alice changes her one-time password.
    cli_with_stdin(&alice_home, &["passwd", "--password-stdin"], &format!("{alice_password}\nalice-new-pass\n")).ok();
    cli_with_stdin(&alice_home, &["login", "alice", "--password-stdin"], "alice-new-pass\n").ok();

    // Alice is not an operator.
    let denied = cli(&alice_home, &["admin", "tenant", "create", "evil", "--sector", "school"]);
    assert_eq!(denied.code, 1);
    assert!(denied.stderr.contains("only operators create tenants"), "{}", denied.stderr);
    let denied = cli(&alice_home, &["--json", "admin", "tenant", "create", "evil", "--sector", "school"]);
    assert_eq!(denied.code, 1);
    assert_eq!(denied.json()["error"]["code"], "forbidden");

    // The audit log tells the story.
    let audit = cli(&op, &["--json", "admin", "audit", "--limit", "100"]).ok().json();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in [
        "platform.bootstrap",
        "tenant.create",
        "user.create",
        "project.create",
        "project.add-member",
        "token.revoke",
        "user.password",
    ] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }

    // Disable, never delete.
    cli(&op, &["admin", "user", "disable", "bob"]).ok();
    let bob = cli(&op, &["--json", "admin", "user", "show", "bob"]).ok().json();
    assert_eq!(bob["status"], "disabled");
    let sites = cli(&op, &["sites"]).ok().stdout;
    assert!(sites.contains("local*"), "{sites}");
    server.stop();
}

#[test]
fn a_second_up_reuses_everything_and_prints_no_secret() {
    let sandbox = Sandbox::new();
    let first = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let home = first.home.clone();
    cli(&home, &["admin", "tenant", "create", "jxu", "--sector", "university"]).ok();

    // While it runs, a second server on the same data directory is refused.
    let refused = cli(&home, &["up", "--listen", "127.0.0.1:0", "--data", &sandbox.path("data").display().to_string()]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("is in use by another Lushan server"), "{}", refused.stderr);
    first.stop();

    let config_before = std::fs::read_to_string(home.join(".config/lushan/cli.toml")).unwrap();
    let second = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let banner = second.banner_text();
    assert!(!banner.contains("password:"), "{banner}");
    assert!(banner.contains("no new secrets"), "{banner}");
    // The CLI configuration still points at the old port; follow the new one.
    let config_after = std::fs::read_to_string(home.join(".config/lushan/cli.toml")).unwrap();
    assert_eq!(config_before, config_after);
    let tenants = cli(&home, &["--url", &second.url, "--json", "admin", "tenant", "list"]).ok().json();
    assert_eq!(tenants.as_array().unwrap().len(), 2, "{tenants}");
    second.stop();
}

#[test]
fn serve_reads_a_config_file_and_leaves_the_cli_alone() {
    let sandbox = Sandbox::new();
    let config = sandbox.path("lushan.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n[[sites]]\nname = \"hpc\"\nbackend = \"local\"\npartition = \"cpu\"\n",
            sandbox.path("srv").display()
        ),
    )
    .unwrap();
    let server = sandbox.start(&["serve", "--config", &config.display().to_string()]).unwrap();
    assert!(server.banner_text().contains("lushan login --url"), "{}", server.banner_text());
    assert!(!server.home.join(".config/lushan/cli.toml").exists());
    assert!(sandbox.path("srv/lushan.db").exists());
    let password = server
        .banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let home = sandbox.path("op");
    cli_with_stdin(&home, &["login", "--url", &server.url, "admin", "--password-stdin"], &format!("{password}\n")).ok();
    let sites = cli(&home, &["--json", "sites"]).ok().json();
    let names: Vec<&str> = sites.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hpc", "local"]);
    assert_eq!(sites[0]["partitions"][0]["name"], "cpu");
    server.stop();

    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nbogus = 1\n").unwrap();
    let bad = cli(&home, &["serve", "--config", &config.display().to_string()]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("unknown field `bogus`"), "{}", bad.stderr);
}

#[test]
fn the_same_platform_runs_on_postgresql() {
    let Ok(admin_url) = std::env::var("LUSHAN_TEST_DATABASE_URL") else {
        eprintln!("LUSHAN_TEST_DATABASE_URL is not set: the PostgreSQL run is skipped here (.ci/run sets it)");
        return;
    };
    let runtime = tokio_runtime();
    let url = runtime.block_on(lushan_store::testing::create_scratch_database(&admin_url, "lushan_it")).unwrap();
    let sandbox = Sandbox::new();
    let config = sandbox.path("lushan.toml");
    std::fs::write(&config, "run_jobs_as_server_user = true\n").unwrap();
    let config = config.display().to_string();
    let args = ["up", "--listen", "127.0.0.1:0", "--data", "data", "--database-url", &url, "--config", &config];
    let server = sandbox.start(&args).unwrap();
    assert!(server.banner_text().contains("on postgres"), "{}", server.banner_text());
    let home = server.home.clone();
    cli(&home, &["admin", "tenant", "create", "jxu", "--sector", "university", "--display-name", "江西大学"]).ok();
    cli_with_stdin(
        &home,
        &["admin", "user", "create", "alice", "--tenant", "jxu", "--password-stdin"],
        "alice-password\n",
    )
    .ok();
    cli(&home, &["admin", "project", "create", "cfd-lab", "--tenant", "jxu", "--pi", "alice"]).ok();
    cli(&home, &["admin", "topup", "jxu", "100", "--ref", "PG-1"]).ok();
    let tenant = cli(&home, &["--json", "admin", "tenant", "show", "jxu"]).ok().json();
    assert_eq!(tenant["display_name"], "江西大学");
    // Jobs too: an array and a dependency, run to the end.
    let alice = sandbox.path("alice");
    cli_with_stdin(&alice, &["login", "--url", &server.url, "alice", "--password-stdin"], "alice-password\n").ok();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let submit = |args: &[&str]| {
        let mut all = vec!["--json", "submit"];
        all.extend_from_slice(args);
        crate::harness::cli_in(&alice, &work, &all).ok().json()["job"]["job_id"].as_i64().unwrap().to_string()
    };
    let array = submit(&["--array=1-3", "--wrap", "echo task $SLURM_ARRAY_TASK_ID"]);
    let after = submit(&["-d", &format!("afterok:{array}"), "--wrap", "echo after"]);
    crate::harness::wait_for(60, "the jobs to complete on PostgreSQL", || {
        let job = cli(&alice, &["--json", "show", &after]).ok().json();
        (job["state"] == "COMPLETED").then_some(())
    });
    assert_eq!(std::fs::read_to_string(work.join(format!("slurm-{array}_3.out"))).unwrap(), "task 3\n");
    // Four jobs held their worst case at submission and were settled at their ends.
    let wallet = cli(&home, &["--json", "balance", "--tenant", "jxu"]).ok().json()["wallet"].clone();
    assert_eq!(wallet["held"], "0.00", "{wallet}");
    let statement = cli(&home, &["--json", "statement", "--tenant", "jxu"]).ok().json();
    let settled = statement["lines"].as_array().unwrap().iter().filter(|l| l["kind"] == "settlement").count();
    assert!(settled <= 4 && statement["lines"][0]["kind"] == "top-up", "{statement}");
    server.stop();
    runtime.block_on(lushan_store::testing::drop_scratch_database(&admin_url, &url)).unwrap();
}

#[test]
fn client_errors_are_clear_and_exit_1() {
    let sandbox = Sandbox::new();
    let nowhere = cli(&sandbox.path("home"), &["whoami"]);
    assert_eq!(nowhere.code, 1);
    assert!(nowhere.stderr.contains("no server configured"), "{}", nowhere.stderr);
    let unreachable = cli(&sandbox.path("home"), &["--url", "http://127.0.0.1:9", "--json", "whoami"]);
    assert_eq!(unreachable.code, 1);
    assert!(
        unreachable.json()["error"]["message"].as_str().unwrap().contains("cannot reach"),
        "{}",
        unreachable.stdout
    );
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}
