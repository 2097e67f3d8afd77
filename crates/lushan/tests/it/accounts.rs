//! What a user and a project are on the machine (`[accounts] provider =
//! "local"`): real Unix accounts, groups and directories made by the real
//! binary running as root, checked with the system's own tools. Names get a
//! suffix of this run, and everything made is removed at the end.

use crate::harness::{Sandbox, cli, cli_in, cli_with_stdin, wait_for};
use crate::machine::{Made, running_as_root, suffix};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

/// `getent DATABASE KEY` split at its colons; `None` when there is no entry.
fn getent(database: &str, key: &str) -> Option<Vec<String>> {
    let out = Command::new("getent").args([database, key]).output().unwrap();
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().split(':').map(str::to_owned).collect())
}

fn groups_of(account: &str) -> Vec<String> {
    let out = Command::new("id").args(["-nG", account]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect()
}

#[test]
fn a_root_server_makes_users_accounts_and_projects_groups_and_directories_and_never_takes_a_system_one() {
    if !running_as_root() {
        eprintln!("not root: the server cannot make Unix accounts here (provider `local` needs root)");
        return;
    }
    let suffix = suffix(0);
    let (alice, bob, project) = (format!("a{suffix}"), format!("b{suffix}"), format!("p{suffix}"));
    let made = Made::new(&format!("lushan-accounts-{suffix}"), &[&alice, &bob], &[&project]);
    let (homes, projects) = (made.homes(), made.projects());
    let sandbox = Sandbox::new();
    let server = sandbox.up(&made.config());
    let op = server.home.clone();
    cli(&op, &["admin", "tenant", "create", "acme", "--sector", "enterprise"]).ok();

    // A new user gets an account of their own: a uid from the range, a
    // private home, a group of their own, the mark of the platform.
    cli_with_stdin(
        &op,
        &["admin", "user", "create", &alice, "--tenant", "acme", "--password-stdin"],
        "alice-password\n",
    )
    .ok();
    let entry = getent("passwd", &alice).expect("alice's account");
    let uid: u32 = entry[2].parse().unwrap();
    assert!((47_000..=47_999).contains(&uid), "{entry:?}");
    assert_eq!(entry[4], format!("lushan user {alice}"), "the platform's mark");
    let home = homes.join(&alice);
    assert_eq!(entry[5], home.display().to_string());
    let meta = std::fs::metadata(&home).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (uid, 0o700), "a private home");

    // An ordinary account that exists is mapped as it is; a system one is
    // refused, and nothing is stored.
    let by_hand =
        Command::new("useradd").args(["--no-create-home", "--comment", "made by hand", &bob]).output().unwrap();
    assert!(by_hand.status.success(), "{by_hand:?}");
    let before = getent("passwd", &bob).unwrap();
    cli_with_stdin(
        &op,
        &["admin", "user", "create", "bob", "--tenant", "acme", "--unix-account", &bob, "--password-stdin"],
        "bob-password\n",
    )
    .ok();
    assert_eq!(getent("passwd", &bob).unwrap(), before, "mapped, never changed");
    let system = cli(&op, &["admin", "user", "create", "mallory", "--tenant", "acme", "--unix-account", "daemon"]);
    assert_eq!(system.code, 1);
    assert!(
        system.stderr.contains("Unix account `daemon` is a system account (uid 1, outside 1000-59999)"),
        "{}",
        system.stderr
    );
    let users = cli(&op, &["--json", "admin", "user", "list"]).ok().stdout;
    assert!(!users.contains("mallory"), "{users}");

    // A project gets a group from its range, with its PI in it, and a
    // directory only its group can enter, whose files stay the group's.
    cli(&op, &["admin", "project", "create", &project, "--tenant", "acme", "--pi", &alice]).ok();
    let group = getent("group", &project).expect("the project's group");
    let gid: u32 = group[2].parse().unwrap();
    assert!((48_000..=48_999).contains(&gid), "{group:?}");
    assert!(groups_of(&alice).contains(&project), "{:?}", groups_of(&alice));
    let dir = projects.join(&project);
    let meta = std::fs::metadata(&dir).unwrap();
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (0, gid, 0o2770), "{}", dir.display());
    let listed = cli(&op, &["--json", "projects"]).ok().json();
    assert_eq!(listed[0]["directory"], dir.display().to_string(), "{listed}");
    let shown = cli(&op, &["admin", "project", "show", &project]).ok().stdout;
    assert!(shown.contains(&dir.display().to_string()), "{shown}");
    let system = cli(&op, &["admin", "project", "create", "daemon", "--tenant", "acme", "--pi", &alice]);
    assert!(system.stderr.contains("a system group `daemon` (gid 1, outside 1000-59999) exists"), "{}", system.stderr);
    assert!(!groups_of(&alice).contains(&"daemon".to_owned()), "{:?}", groups_of(&alice));
    // Nor a user's own group: its members would get alice's group rights.
    let personal = cli(&op, &["admin", "project", "create", &alice, "--tenant", "acme", "--pi", &alice]);
    assert!(
        personal.stderr.contains(&format!("group `{alice}` is the own group of Unix account `{alice}`")),
        "{}",
        personal.stderr
    );
    let listed = cli(&op, &["--json", "projects"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing stored: {listed}");

    // Members join and leave the group with the project.
    cli(&op, &["admin", "project", "add-member", &project, "bob"]).ok();
    assert!(groups_of(&bob).contains(&project), "{:?}", groups_of(&bob));
    cli(&op, &["admin", "project", "remove-member", &project, "bob"]).ok();
    assert!(!groups_of(&bob).contains(&project), "{:?}", groups_of(&bob));

    // The new user's job runs as them, with no step by hand, in the
    // project's directory.
    cli(&op, &["admin", "topup", "acme", "1000", "--ref", "TEST-ACME"]).ok();
    let home_cli = sandbox.path("alice-cli");
    cli_with_stdin(&home_cli, &["login", "--url", &server.url, &alice, "--password-stdin"], "alice-password\n").ok();
    let submitted = cli_in(
        &home_cli,
        &dir,
        &["--json", "submit", "-A", &project, "-o", "out.txt", "--wrap", "id -un; id -nG; touch made-by-job"],
    )
    .ok()
    .json();
    let id = submitted["job"]["job_id"].as_i64().unwrap().to_string();
    let done = wait_for(60, "the job's end", || {
        let job = cli(&home_cli, &["--json", "show", &id]).ok().json();
        matches!(job["state"].as_str(), Some("COMPLETED" | "FAILED")).then_some(job)
    });
    assert_eq!(done["state"], "COMPLETED", "{done}");
    let output = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    assert!(output.starts_with(&format!("{alice}\n")) && output.contains(&project), "{output}");
    let file = std::fs::metadata(dir.join("made-by-job")).unwrap();
    assert_eq!((file.uid(), file.gid()), (uid, gid), "the job's file is its user's, in the project's group");

    // Disabled: the account Lushan made is locked (expired), and unlocked
    // when enabled again; the one it mapped is left alone.
    let expiry = |account: &str| getent("shadow", account).unwrap()[7].clone();
    cli(&op, &["admin", "user", "disable", &alice]).ok();
    assert_eq!(expiry(&alice), "1");
    cli(&op, &["admin", "user", "enable", &alice]).ok();
    assert_eq!(expiry(&alice), "");
    cli(&op, &["admin", "user", "disable", "bob"]).ok();
    assert_eq!(expiry(&bob), "", "not Lushan's to lock");
    server.stop();
    assert!(Path::new(&home).exists(), "nothing is deleted");
}
