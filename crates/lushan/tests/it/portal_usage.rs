//! The portal's profile, usage and statement pages in a real browser
//! against the real binary, in Chinese and in English: a member signs in,
//! changes the language kept on the server, creates an API token and the
//! CLI uses it, sees the month's usage with its chart; the tenant admin
//! sees the monthly statement. Screenshots go to
//! `target/portal-screenshots/`. Skipped where chromium is not installed.

use crate::browser::{Driver, available, eventually, open, screenshots, sign_in};
use crate::harness::{Sandbox, cli, cli_in, cli_in_with_env, cli_with_stdin, member_alice, wait_for};
use fantoccini::{Client, Locator};

/// The page's language, as its `<html lang>` says.
async fn page_lang(browser: &Client) -> String {
    // Tried again: the page may be between a form's answer and its
    // redirect, or reloading, when it is asked.
    for _ in 0..50 {
        if let Ok(html) = browser.find(Locator::Css("html")).await
            && let Ok(lang) = html.attr("lang").await
        {
            return lang.unwrap_or_default();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page has no <html lang> after 5 s")
}

#[test]
fn profile_tokens_usage_and_statement_in_a_real_browser() {
    if !available() {
        return;
    }
    let sandbox = Sandbox::new();
    let server = sandbox.up("run_jobs_as_server_user = true\n");
    let alice = member_alice(&sandbox, &server, None);
    let op = server.home.clone();
    let admin = ["admin", "user", "create", "carol", "--tenant", "jxu", "--role", "tenant-admin", "--password-stdin"];
    cli_with_stdin(&op, &admin, "carol-password\n").ok();
    // A job that ran and was charged this month: usage to chart (at a
    // price that makes a second's run cost more than a fen).
    cli(&op, &["admin", "price", "set", "--site", "local", "--core-hour", "360"]).ok();
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let submitted = cli_in(&alice, &work, &["--json", "submit", "-J", "usage", "--wrap", "sleep 1"]).ok();
    let job = submitted.json()["job"]["job_id"].as_i64().unwrap().to_string();
    wait_for(60, "the job to be settled", || {
        let shown = cli(&alice, &["--json", "show", &job]).ok().json();
        shown["charge"]["charged"].is_string().then_some(())
    });
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (lang, other, usage_title, statement_title) in
        [("zh-CN", "en", "用量与费用", "月度账单"), ("en", "zh-CN", "Usage and charges", "Monthly statement")]
    {
        runtime.block_on(async {
            let browser = open(&driver, lang).await;
            let shot = |name: &'static str| {
                let browser = &browser;
                async move { crate::browser::shot(browser, lang, name).await }
            };
            sign_in(&browser, &server.url, "alice", "alice-password").await;
            // The profile, in the browser's language.
            browser.goto(&format!("{}/profile", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Id("tokens")).await.unwrap();
            assert_eq!(page_lang(&browser).await, lang);
            shot("profile").await;
            // The other language, kept on the server: the pages follow it.
            let select = browser.find(Locator::Id("language")).await.unwrap();
            select.select_by_value(other).await.unwrap();
            browser.find(Locator::Css("form[action='/profile/language'] button")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Id("notice")).await.unwrap();
            assert_eq!(page_lang(&browser).await, other, "the setting applies at once");
            shot("profile-language-changed").await;
            let me = cli(&alice, &["--json", "whoami"]).ok().json();
            assert_eq!(me["language"], other, "{me}");
            // Back to following the browser.
            let select = browser.find(Locator::Id("language")).await.unwrap();
            select.select_by_value("").await.unwrap();
            browser.find(Locator::Css("form[action='/profile/language'] button")).await.unwrap().click().await.unwrap();
            eventually(&browser, "the browser's language again", async |browser| page_lang(browser).await == lang)
                .await;
            // An API token: shown once, and the CLI works with it.
            let name = format!("cli-{}", &lang[..2]);
            browser.find(Locator::Id("token-name")).await.unwrap().send_keys(&name).await.unwrap();
            browser.find(Locator::Css("form[action='/profile/tokens'] button")).await.unwrap().click().await.unwrap();
            let secret = browser.wait().for_element(Locator::Id("secret")).await.unwrap().text().await.unwrap();
            assert!(secret.starts_with("lsh_"), "{secret}");
            let hint = browser.find(Locator::Id("cli-hint")).await.unwrap().text().await.unwrap();
            assert!(hint.contains(&format!("export LUSHAN_URL={}", server.url)), "{hint}");
            shot("token-created").await;
            let fresh = sandbox.path(&format!("fresh-{lang}"));
            let env = [("LUSHAN_URL", server.url.as_str()), ("LUSHAN_TOKEN", secret.trim())];
            let whoami = cli_in_with_env(&fresh, &work, &["whoami"], &env).ok();
            assert!(whoami.stdout.contains("alice"), "{}", whoami.stdout);
            browser.goto(&format!("{}/profile", server.url)).await.unwrap();
            let tokens = browser.wait().for_element(Locator::Id("tokens")).await.unwrap().text().await.unwrap();
            assert!(tokens.contains(&name) && !tokens.contains(secret.trim()), "{tokens}");
            // (WebDriver's script, not the page's: the page has none.)
            browser.execute("document.getElementById('tokens').scrollIntoView()", Vec::new()).await.unwrap();
            shot("profile-tokens").await;
            // Usage: this month's job in the chart and the table.
            browser.goto(&format!("{}/usage", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Id("chart-core-hours")).await.unwrap();
            let heading = browser.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
            assert_eq!(heading, usage_title);
            let bars = browser.find_all(Locator::Css("#chart-core-hours rect")).await.unwrap();
            assert_eq!(bars.len(), 6, "one bar a month");
            let months = browser.find(Locator::Id("usage-months")).await.unwrap().text().await.unwrap();
            assert!(months.contains('1'), "{months}");
            shot("usage").await;
            // On a phone's width: the charts shrink, the tables scroll in their box.
            browser.set_window_size(390, 844).await.unwrap();
            shot("usage-phone").await;
            browser.goto(&format!("{}/profile", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Id("tokens")).await.unwrap();
            shot("profile-phone").await;
            browser.set_window_size(1280, 900).await.unwrap();
            browser.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Css("form[action='/login']")).await.unwrap();
            // The tenant admin's statement: the job's charge leads to the job.
            sign_in(&browser, &server.url, "carol", "carol-password").await;
            browser.find(Locator::Css("nav a[href='/statement']")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Id("statement-lines")).await.unwrap();
            let heading = browser.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
            assert!(heading.starts_with(statement_title), "{heading}");
            shot("statement").await;
            let source = browser.source().await.unwrap();
            assert!(source.contains(&format!("href=\"/jobs/{job}\"")), "{source}");
            browser.goto(&format!("{}/usage", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Id("usage-by-project")).await.unwrap();
            shot("usage-tenant-admin").await;
            browser.close().await.unwrap();
        });
    }
    eprintln!("portal screenshots: {}", screenshots().display());
    server.stop();
}
