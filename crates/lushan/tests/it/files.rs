//! A user's files through the real binary as root: up and down from
//! another HOME (a laptop, as far as the server can tell), as the user's
//! Unix account, and every path rule of docs/files.md broken once.

use crate::harness::{Sandbox, cli, cli_with_stdin};
use crate::machine::{Made, running_as_root, suffix};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::Command;

fn chown(path: &std::path::Path, owner: &str) {
    assert!(Command::new("chown").arg("-h").arg(owner).arg(path).status().unwrap().success());
}

/// A root server making accounts under a directory of this run, with two
/// users of tenant acme, a project led by the first, and the first
/// signed in from another HOME (`laptop`).
struct World {
    /// Removed at the end, with the accounts.
    made: Made,
    sandbox: Sandbox,
    server: crate::harness::Server,
    op: PathBuf,
    laptop: PathBuf,
    alice: String,
    bob: String,
    project: String,
    homes: PathBuf,
    projects: PathBuf,
}

impl World {
    /// `seed` keeps two tests' names apart.
    fn new(seed: u32) -> World {
        let suffix = suffix(seed);
        let (alice, bob, project) = (format!("f{suffix}"), format!("g{suffix}"), format!("q{suffix}"));
        let made = Made::new(&format!("lushan-files-{suffix}"), &[&alice, &bob], &[&project]);
        let (homes, projects) = (made.homes(), made.projects());
        let sandbox = Sandbox::new();
        let server = sandbox.up(&made.config());
        let op = server.home.clone();
        cli(&op, &["admin", "tenant", "create", "acme", "--sector", "enterprise"]).ok();
        for user in [&alice, &bob] {
            cli_with_stdin(
                &op,
                &["admin", "user", "create", user, "--tenant", "acme", "--password-stdin"],
                "a-password-1\n",
            )
            .ok();
        }
        cli(&op, &["admin", "project", "create", &project, "--tenant", "acme", "--pi", &alice]).ok();
        // The user's own machine: another HOME, talking to the server's URL.
        let laptop = sandbox.path("laptop");
        cli_with_stdin(&laptop, &["login", "--url", &server.url, &alice, "--password-stdin"], "a-password-1\n").ok();
        World { made, sandbox, server, op, laptop, alice, bob, project, homes, projects }
    }
}

/// A process's resident memory now and at its peak, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let value = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap()
    };
    (value("VmRSS:"), value("VmHWM:"))
}

#[test]
fn two_gib_go_up_and_down_with_the_server_s_memory_bounded() {
    if !running_as_root() {
        eprintln!("not root: the server serves no files here");
        return;
    }
    let w = World::new(7);
    let dir = w.projects.join(&w.project);
    // A sparse file: 2 GiB to send, none of it on the laptop's disk.
    let big = w.laptop.join("big.bin");
    std::fs::File::create(&big).unwrap().set_len(2 << 30).unwrap();
    cli(&w.laptop, &["files", "ls"]).ok();
    let pid = w.server.pid().unwrap();
    let (idle, _) = memory_kib(pid);
    let target = format!("{}/big.bin", dir.display());
    cli(&w.laptop, &["files", "put", &big.display().to_string(), &target]).ok();
    assert_eq!(std::fs::metadata(dir.join("big.bin")).unwrap().len(), 2 << 30);
    let back = w.laptop.join("back.bin");
    cli(&w.laptop, &["files", "get", &target, &back.display().to_string()]).ok();
    assert_eq!(std::fs::metadata(&back).unwrap().len(), 2 << 30);
    let (_, peak) = memory_kib(pid);
    // The peak since the server started: an upper bound on the transfers'.
    assert!(peak.saturating_sub(idle) < 64 * 1024, "the server grew by {} KiB above {idle} KiB idle", peak - idle);
    std::fs::remove_file(&back).unwrap();
}

#[test]
fn files_go_up_and_down_as_their_user_and_no_path_leads_out() {
    if !running_as_root() {
        eprintln!("not root: the server serves no files here");
        return;
    }
    let World { made: _made, sandbox: _sandbox, server, op, laptop, alice, bob, project, homes, projects } =
        World::new(1);
    let home = homes.join(&alice);
    let dir = projects.join(&project);
    let (home_s, dir_s) = (home.display().to_string(), dir.display().to_string());

    // The home, and the directories the user may reach.
    let listed = cli(&laptop, &["--json", "files", "ls"]).ok().json();
    assert_eq!(listed["path"], home_s);
    assert_eq!(listed["roots"], serde_json::json!([home_s, dir_s]), "{listed}");

    // Up and down, byte for byte; stored as the user, in the project's group.
    let input = laptop.join("input.dat");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&input, &data).unwrap();
    let put = cli(&laptop, &["files", "put", &input.display().to_string(), &format!("{dir_s}/")]).ok();
    assert!(put.stdout.contains("(300000 bytes)"), "{}", put.stdout);
    let stored = std::fs::metadata(dir.join("input.dat")).unwrap();
    let uid = stored.uid();
    let id_of = |args: &[&str]| -> u32 {
        let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim().split(':').nth(if args[0] == "getent" { 2 } else { 0 }).unwrap().parse().unwrap()
    };
    assert_eq!(uid, id_of(&["id", "-u", &alice]));
    assert_eq!(stored.gid(), id_of(&["getent", "group", &project]));
    assert_eq!(stored.mode() & 0o7777, 0o660);
    let back = laptop.join("back.dat");
    cli(&laptop, &["files", "get", &format!("{dir_s}/input.dat"), &back.display().to_string()]).ok();
    assert_eq!(std::fs::read(&back).unwrap(), data);
    let again = cli(&laptop, &["files", "put", &input.display().to_string(), &format!("{dir_s}/input.dat")]);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    cli(&laptop, &["files", "put", "--force", &input.display().to_string(), &format!("{dir_s}/input.dat")]).ok();
    // A part of a file (`Range`), as download managers and resumed
    // transfers ask; past the end is 416.
    let text = laptop.join("range.txt");
    std::fs::write(&text, "0123456789abcdefghij").unwrap();
    cli(&laptop, &["files", "put", &text.display().to_string(), &format!("{dir_s}/range.txt")]).ok();
    let saved = std::fs::read_to_string(laptop.join(".config/lushan/cli.toml")).unwrap();
    let token = saved.lines().find_map(|l| l.strip_prefix("token = \"")).unwrap().trim_end_matches('"').to_owned();
    let ranged = |range: &str| {
        let request = format!(
            "GET /api/v1/files/content?path={dir_s}/range.txt HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {token}\r\nRange: {range}\r\nConnection: close\r\n\r\n"
        );
        crate::hostile::raw(&server.url, request.as_bytes())
    };
    let part = ranged("bytes=10-14");
    assert!(part.starts_with("HTTP/1.1 206"), "{part}");
    assert!(part.to_lowercase().contains("content-range: bytes 10-14/20"), "{part}");
    assert!(part.to_lowercase().contains("content-disposition: attachment"), "{part}");
    assert!(part.ends_with("\r\n\r\nabcde"), "{part}");
    assert!(ranged("bytes=15-").ends_with("\r\n\r\nfghij"));
    assert!(ranged("bytes=40-").starts_with("HTTP/1.1 416"));
    cli(&laptop, &["files", "mkdir", &format!("{dir_s}/runs")]).ok();
    cli(&laptop, &["files", "mv", &format!("{dir_s}/input.dat"), &format!("{dir_s}/runs/in.dat")]).ok();
    let runs = cli(&laptop, &["--json", "files", "ls", &format!("{dir_s}/runs")]).ok().json();
    assert_eq!(runs["entries"][0]["name"], "in.dat", "{runs}");
    let busy = cli(&laptop, &["files", "rm", &format!("{dir_s}/runs")]);
    assert!(busy.stderr.contains("is not empty"), "{}", busy.stderr);
    cli(&laptop, &["files", "rm", &format!("{dir_s}/runs/in.dat")]).ok();
    cli(&laptop, &["files", "rm", &format!("{dir_s}/runs")]).ok();
    assert!(!dir.join("runs").exists());

    // The laptop's flow: an input up, a job run there (its directory named,
    // since the laptop's is not the server's), the output down.
    std::fs::write(laptop.join("job.sh"), "#!/bin/bash\n#SBATCH -o result.txt\nwc -c < in.dat\n").unwrap();
    cli(&laptop, &["files", "put", &input.display().to_string(), &format!("{dir_s}/in.dat")]).ok();
    cli(&op, &["admin", "topup", "acme", "1000", "--ref", "TEST-ACME"]).ok();
    let job = laptop.join("job.sh").display().to_string();
    // From the laptop's own directory, which the user's account on the
    // server cannot enter (a laptop's path is not there at all): refused at
    // once, with the way out.
    std::fs::set_permissions(&laptop, std::fs::Permissions::from_mode(0o700)).unwrap();
    let lost = crate::harness::cli_in(&laptop, &laptop, &["submit", "-A", &project, &job]);
    assert_ne!(lost.code, 0, "{} {}", lost.stdout, lost.stderr);
    assert!(lost.stderr.contains("does not exist on the server") && lost.stderr.contains("--chdir"), "{}", lost.stderr);
    let submitted = crate::harness::cli_in(&laptop, &laptop, &["--json", "submit", "-A", &project, "-D", &dir_s, &job]);
    let id = submitted.ok().json()["job"]["job_id"].as_i64().unwrap().to_string();
    crate::harness::wait_for(60, "the job's end", || {
        let job = cli(&laptop, &["--json", "show", &id]).ok().json();
        (job["state"] == "COMPLETED").then_some(())
    });
    let result = laptop.join("result.txt");
    cli(&laptop, &["files", "get", &format!("{dir_s}/result.txt"), &result.display().to_string()]).ok();
    assert_eq!(std::fs::read_to_string(&result).unwrap(), "300000\n");

    // The same in the portal, in both languages: a file up through the
    // form, a directory made and removed, names shown as text.
    std::fs::write(dir.join("\"><img src=x onerror=alert(1)>"), "x").unwrap();
    in_the_browser(&server.url, &alice, &dir, &laptop, uid);

    // Every way out fails, and says so.
    let refused = |args: &[&str], words: &str| {
        let run = cli(&laptop, args);
        assert_ne!(run.code, 0, "{args:?} succeeded: {}", run.stdout);
        assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
    };
    refused(&["files", "ls", &format!("{home_s}/../{bob}")], "leads outside");
    refused(&["files", "get", "/etc/passwd"], "is outside your directories");
    refused(&["files", "ls", "relative/path"], "give an absolute path");
    let link = |name: &str, target: &str| {
        let at = home.join(name);
        std::os::unix::fs::symlink(target, &at).unwrap();
        chown(&at, &alice);
    };
    link("shadow", "/etc/shadow");
    refused(&["files", "get", &format!("{home_s}/shadow")], "leads outside");
    link("proc", "/proc/self/root/etc/shadow");
    refused(&["files", "get", &format!("{home_s}/proc")], "leads outside");
    std::os::unix::fs::symlink("../..", dir.join("up")).unwrap();
    refused(&["files", "ls", &format!("{dir_s}/up/home")], "leads outside");
    // Another user's closed directory inside the project: the helper is
    // the user, not root, so it is closed to it too.
    let closed = dir.join("bobs");
    std::fs::create_dir(&closed).unwrap();
    std::fs::write(closed.join("secret"), "bob's\n").unwrap();
    chown(&closed, &bob);
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
    refused(&["files", "get", &format!("{dir_s}/bobs/secret")], "permission denied");
    refused(&["files", "put", &input.display().to_string(), &format!("{dir_s}/bobs/mine")], "permission denied");
    // A FIFO is neither read (it would block) nor written over.
    let fifo = home.join("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    chown(&fifo, &alice);
    refused(&["files", "get", &format!("{home_s}/pipe")], "is not a regular file");
    refused(
        &["files", "put", "--force", &input.display().to_string(), &format!("{home_s}/pipe")],
        "not a regular file",
    );
    // Nothing half-written was left behind by the refusals.
    let names: Vec<String> =
        std::fs::read_dir(&home).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains("lushan-upload")), "{names:?}");
    server.stop();
}

/// The files page as alice, in Chinese and in English.
fn in_the_browser(url: &str, alice: &str, dir: &std::path::Path, laptop: &std::path::Path, uid: u32) {
    use crate::browser::{Driver, available, console_errors, eventually, open, shot, sign_in};
    use fantoccini::Locator;
    if !available() {
        return;
    }
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (lang, uploaded) in [("zh-CN", "已上传："), ("en", "Uploaded: ")] {
        runtime.block_on(async {
            let b = open(&driver, lang).await;
            sign_in(&b, url, alice, "a-password-1").await;
            b.goto(&format!("{url}/files?path={}", dir.display())).await.unwrap();
            b.wait().for_element(Locator::Id("files")).await.unwrap();
            assert!(b.find_all(Locator::Css("main img")).await.unwrap().is_empty(), "{lang}: a name became markup");
            let page = b.source().await.unwrap();
            assert!(
                page.contains("&quot;&gt;&lt;img") || page.contains("&#34;&gt;&lt;img"),
                "{lang}: the name is escaped"
            );
            // Up through the form.
            let local = laptop.join(format!("form-{lang}.txt"));
            std::fs::write(&local, format!("sent from the {lang} page\n")).unwrap();
            b.find(Locator::Id("upload-file")).await.unwrap().send_keys(&local.display().to_string()).await.unwrap();
            b.find(Locator::Css("#upload-form button")).await.unwrap().click().await.unwrap();
            b.wait().for_element(Locator::Css(&format!("#files a[href$='/form-{lang}.txt']"))).await.unwrap();
            let notice = b.find(Locator::Id("notice")).await.unwrap().text().await.unwrap();
            assert!(notice.starts_with(uploaded), "{lang}: {notice}");
            let stored = dir.join(format!("form-{lang}.txt"));
            assert_eq!(std::fs::read_to_string(&stored).unwrap(), format!("sent from the {lang} page\n"));
            assert_eq!(std::fs::metadata(&stored).unwrap().uid(), uid, "{lang}: stored as the user");
            // A directory made, then removed from its row.
            let made = format!("made-{lang}");
            b.find(Locator::Id("mkdir-name")).await.unwrap().send_keys(&made).await.unwrap();
            b.find(Locator::Css("#mkdir-form button")).await.unwrap().click().await.unwrap();
            // The next page's row, not the notice of the page before.
            let row = format!("#files a[href$='/{made}']");
            b.wait().for_element(Locator::Css(&row)).await.unwrap();
            assert!(dir.join(&made).is_dir(), "{lang}: made");
            shot(&b, lang, "files").await;
            b.find(Locator::Css(&format!("tr:has(input[value$='/{made}']) button")))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            eventually(&b, "the row gone", async |b| b.find(Locator::Css(&row)).await.is_err()).await;
            assert!(!dir.join(&made).exists(), "{lang}: removed");
            assert_eq!(console_errors(&b).await, Vec::<String>::new(), "{lang}: the console");
            b.close().await.unwrap();
        });
    }
}
