//! The web portal in a real browser: Debian's chromium, headless, driven
//! through chromedriver (WebDriver) against the real binary. A member signs
//! in, sees the home page and their job (whose name is planted HTML that
//! must not run), cancels it from its page and signs out, in Chinese and
//! in English. Screenshots of every page go to `target/portal-screenshots/`
//! (the test prints the folder). Skipped, with a message, where chromium
//! or chromedriver is not installed (`.ci/run` installs both).

use crate::browser::{Driver, available, eventually, open, screenshots, sign_in};
use crate::harness::{Sandbox, cli_in, member_alice};
use fantoccini::Locator;

#[test]
fn a_member_signs_in_sees_and_cancels_a_job_and_signs_out_in_a_real_browser() {
    if !available() {
        return;
    }
    let sandbox = Sandbox::new();
    let server = sandbox.up("run_jobs_as_server_user = true\n");
    let alice = member_alice(&sandbox, &server, None);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let planted = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (lang, welcome, cancelled) in [("zh-CN", "欢迎", "已取消"), ("en", "Welcome", "Cancelled")] {
        let submitted = cli_in(&alice, &work, &["--json", "submit", "--hold", "-J", planted, "--wrap", "true"]).ok();
        let job = submitted.json()["job"]["job_id"].as_i64().unwrap();
        runtime.block_on(async {
            let browser = open(&driver, lang).await;
            let shot = |name: String| {
                let browser = &browser;
                async move { crate::browser::shot(browser, lang, &name).await }
            };
            browser.goto(&format!("{}/", server.url)).await.unwrap();
            // Not signed in: the sign-in page, in the browser's language.
            browser.wait().for_element(Locator::Css("form[action='/login']")).await.unwrap();
            shot("login".into()).await;
            sign_in(&browser, &server.url, "alice", "alice-password").await;
            let heading = browser.find(Locator::Css("main h1")).await.unwrap();
            assert!(heading.text().await.unwrap().contains(welcome), "{lang}: {}", browser.source().await.unwrap());
            shot("home".into()).await;
            // The job's page: the planted name is shown as text and runs nothing.
            browser.goto(&format!("{}/jobs/{job}", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Id("job-state")).await.unwrap();
            let title = browser.title().await.unwrap();
            assert!(!title.contains("pwned"), "{lang}: a planted script ran: {title}");
            let heading = browser.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
            assert!(heading.contains("<script>"), "{lang}: the name is shown as text: {heading}");
            shot("job".into()).await;
            browser.find(Locator::Css("button.danger")).await.unwrap().click().await.unwrap();
            eventually(&browser, lang, async |browser| {
                // The page may be between the form's POST and its redirect.
                match browser.find(Locator::Id("job-state")).await {
                    Ok(element) => element.text().await.unwrap_or_default() == cancelled,
                    Err(_) => false,
                }
            })
            .await;
            shot("job-cancelled".into()).await;
            browser.goto(&format!("{}/jobs?state=all", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Css("table")).await.unwrap();
            shot("jobs".into()).await;
            // Signing out ends the session: home sends back to sign-in.
            browser.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Css("form[action='/login']")).await.unwrap();
            browser.goto(&format!("{}/", server.url)).await.unwrap();
            browser.wait().for_element(Locator::Css("form[action='/login']")).await.unwrap();
            browser.close().await.unwrap();
        });
    }
    eprintln!("portal screenshots: {}", screenshots().display());
    server.stop();
}
