//! The co-builder's page and the project page's burn-down in a real
//! browser against the real binary, in Chinese and in English: jxu
//! co-built the local node; acme's job ran there as a guest and paid jxu a
//! share; jxu's tenant admin sees its node, the months and the settlement;
//! the PI sees the grant's burn-down with its forecast, the limits and the
//! usage by member. No console error. Screenshots go to
//! `target/portal-screenshots/`. Skipped where chromium is not installed.

use crate::browser::{Driver, available, console_errors, open, screenshots, shot, sign_in};
use crate::harness::{Sandbox, cli, cli_in, cli_with_stdin, member_alice, wait_for};
use fantoccini::Locator;
use std::path::Path;

/// Submits a one-second job as `home` and waits for its charge.
fn run_job(home: &Path, work: &Path, project: &str) -> String {
    let submitted = cli_in(home, work, &["--json", "submit", "-A", project, "-J", "cobuilt", "--wrap", "sleep 1"]).ok();
    let job = submitted.json()["job"]["job_id"].as_i64().unwrap().to_string();
    wait_for(60, "the job to be settled", || {
        let shown = cli(home, &["--json", "show", &job]).ok().json();
        shown["charge"]["charged"].is_string().then_some(())
    });
    job
}

#[test]
fn the_co_builder_s_page_and_a_grant_s_burn_down_in_a_real_browser() {
    if !available() {
        return;
    }
    let sandbox = Sandbox::new();
    let config = sandbox.path("lushan.toml");
    std::fs::write(&config, "run_jobs_as_server_user = true\n").unwrap();
    let server = sandbox
        .start(&["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &config.display().to_string()])
        .unwrap();
    let alice = member_alice(&sandbox, &server, None);
    let op = server.home.clone();
    let admin = ["admin", "user", "create", "carol", "--tenant", "jxu", "--role", "tenant-admin", "--password-stdin"];
    cli_with_stdin(&op, &admin, "carol-password\n").ok();
    cli(&op, &["admin", "tenant", "create", "acme", "--sector", "enterprise"]).ok();
    cli_with_stdin(&op, &["admin", "user", "create", "bob", "--tenant", "acme", "--password-stdin"], "bob-password\n")
        .ok();
    cli(&op, &["admin", "project", "create", "cae-sim", "--tenant", "acme", "--pi", "bob"]).ok();
    cli(&op, &["admin", "topup", "acme", "1000", "--ref", "TEST-ACME"]).ok();
    let bob = sandbox.path("bob");
    cli_with_stdin(&bob, &["login", "--url", &server.url, "bob", "--password-stdin"], "bob-password\n").ok();
    // jxu co-built the local node; guests pay it 70 % of what they pay.
    let sites = cli(&op, &["--json", "sites"]).ok().json();
    let node = sites[0]["nodes"][0]["name"].as_str().unwrap().to_owned();
    cli(&op, &["admin", "node-owner", "local", &node, "jxu"]).ok();
    cli(&op, &["admin", "price", "set", "--site", "local", "--core-hour", "360"]).ok();
    cli(&op, &["admin", "owner-share", "70"]).ok();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let guest_job = run_job(&bob, &work, "cae-sim");
    run_job(&alice, &work, "cfd-lab");
    // A grant of 100 SU for cfd-lab, from ten days ago; a job it paid for.
    let day = |offset: i64| {
        let day = jiff::Zoned::now().date().checked_add(jiff::Span::new().days(offset)).unwrap();
        day.strftime("%Y-%m-%d").to_string()
    };
    let request =
        ["--json", "alloc", "request", "cfd-lab", "--core-hours", "100", "--from", &day(-10), "--to", &day(40)];
    let mut request: Vec<&str> = request.to_vec();
    request.extend(["--reason", "CFD runs for the burn-down"]);
    let grant = cli(&alice, &request).ok().json();
    let id = grant["id"].as_i64().or_else(|| grant["grant"]["id"].as_i64()).unwrap_or_else(|| panic!("{grant}"));
    cli(&op, &["alloc", "approve", &id.to_string()]).ok();
    run_job(&alice, &work, "cfd-lab");
    cli(&op, &["admin", "limits", "set", "--user", "alice", "--max-jobs", "4"]).ok();
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (lang, title, forecast_word) in [("zh-CN", "共建节点", "预计用完日期"), ("en", "Co-built nodes", "Runs out on")]
    {
        runtime.block_on(async {
            let browser = open(&driver, lang).await;
            // The co-builder: jxu's tenant admin, from the menu.
            sign_in(&browser, &server.url, "carol", "carol-password").await;
            browser.find(Locator::Css("nav a[href='/cobuilder']")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Id("cobuilder-months")).await.unwrap();
            let heading = browser.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
            assert!(heading.starts_with(title), "{heading}");
            let nodes = browser.find(Locator::Id("cobuilder-nodes")).await.unwrap().text().await.unwrap();
            assert!(nodes.contains(&node), "{nodes}");
            let bars = browser.find_all(Locator::Css("#chart-guest rect")).await.unwrap();
            assert_eq!(bars.len(), 6, "one bar a month");
            shot(&browser, lang, "cobuilder").await;
            // This month's settlement: the guest's job, not linked (acme's).
            let months = browser.find_all(Locator::Css("#cobuilder-months a")).await.unwrap();
            months.last().unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Id("settlement-jobs")).await.unwrap();
            let lines = browser.find(Locator::Id("settlement-jobs")).await.unwrap().text().await.unwrap();
            assert!(lines.contains(&guest_job) && lines.contains("cae-sim"), "{lines}");
            let source = browser.source().await.unwrap();
            assert!(!source.contains(&format!("href=\"/jobs/{guest_job}\"")), "acme's job is not jxu's to open");
            shot(&browser, lang, "cobuilder-month").await;
            browser.set_window_size(390, 844).await.unwrap();
            shot(&browser, lang, "cobuilder-month-phone").await;
            browser.set_window_size(1280, 900).await.unwrap();
            assert_eq!(console_errors(&browser).await, Vec::<String>::new(), "{lang}: the console");
            browser.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Css("form[action='/login']")).await.unwrap();
            // The PI: the grant's burn-down, the limits, the usage by member.
            sign_in(&browser, &server.url, "alice", "alice-password").await;
            let menu = browser.find_all(Locator::Css("nav a[href='/cobuilder']")).await.unwrap();
            assert!(menu.is_empty(), "no co-builder link for a member");
            browser.goto(&format!("{}/projects/cfd-lab", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Id(&format!("chart-burn-{id}"))).await.unwrap();
            let burn = browser.find(Locator::Id(&format!("burn-{id}"))).await.unwrap().text().await.unwrap();
            assert!(burn.contains(forecast_word), "{burn}");
            browser
                .execute(&format!("document.getElementById('burn-{id}').scrollIntoView()"), Vec::new())
                .await
                .unwrap();
            shot(&browser, lang, "project-burn-down").await;
            browser.find(Locator::Id("limits")).await.unwrap();
            browser.find(Locator::Id("project-usage-by-user")).await.unwrap();
            browser.execute("document.getElementById('limits-title').scrollIntoView()", Vec::new()).await.unwrap();
            shot(&browser, lang, "project-limits-usage").await;
            browser.set_window_size(390, 844).await.unwrap();
            browser
                .execute(&format!("document.getElementById('burn-{id}').scrollIntoView()"), Vec::new())
                .await
                .unwrap();
            shot(&browser, lang, "project-burn-down-phone").await;
            browser.set_window_size(1280, 900).await.unwrap();
            assert_eq!(console_errors(&browser).await, Vec::<String>::new(), "{lang}: the console");
            browser.close().await.unwrap();
        });
    }
    eprintln!("portal screenshots: {}", screenshots().display());
    server.stop();
}
