//! The web portal in a real browser: Debian's chromium, headless, driven
//! through chromedriver (WebDriver) against the real binary. A member signs
//! in, sees the home page and their job (whose name is planted HTML that
//! must not run), cancels it from its page and signs out, in Chinese and
//! in English. Screenshots of every page go to `target/portal-screenshots/`
//! (the test prints the folder). Skipped, with a message, where chromium
//! or chromedriver is not installed (`.ci/run` installs both).

use crate::harness::{Sandbox, cli_in, member_alice};
use fantoccini::{ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/lib/chromium/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver in its own process group, killed with the browsers it
/// started however the test ends (else it would hold cargo's output).
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // `--`: a negative number after it is a process group, not a signal.
        let _ = Command::new("kill").args(["-s", "KILL", "--"]).arg(format!("-{}", self.child.id())).status();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/portal-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_member_signs_in_sees_and_cancels_a_job_and_signs_out_in_a_real_browser() {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "chromium or chromedriver is not installed: the browser test is skipped here (.ci/run installs them)"
        );
        return;
    }
    let sandbox = Sandbox::new();
    let config = sandbox.path("lushan.toml");
    std::fs::write(&config, "run_jobs_as_server_user = true\n").unwrap();
    let server = sandbox
        .start(&["up", "--listen", "127.0.0.1:0", "--data", "data", "--config", &config.display().to_string()])
        .unwrap();
    let alice = member_alice(&sandbox, &server, None);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let planted = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";
    let driver = Driver::start();
    let folder = screenshots();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (lang, welcome, cancelled) in [("zh-CN", "欢迎", "已取消"), ("en", "Welcome", "Cancelled")] {
        let submitted = cli_in(&alice, &work, &["--json", "submit", "--hold", "-J", planted, "--wrap", "true"]).ok();
        let job = submitted.json()["job"]["job_id"].as_i64().unwrap();
        runtime.block_on(async {
            let mut capabilities = serde_json::Map::new();
            capabilities.insert(
                "goog:chromeOptions".into(),
                serde_json::json!({
                    "binary": CHROMIUM,
                    "args": ["--headless", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"],
                    "prefs": {"intl.accept_languages": lang},
                }),
            );
            let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities)
                .connect(&driver.url)
                .await
                .expect("a chromium session");
            let shot = |name: String| {
                let browser = &browser;
                let path = folder.join(format!("{lang}-{name}.png"));
                async move { std::fs::write(&path, browser.screenshot().await.unwrap()).unwrap() }
            };
            browser.goto(&format!("{}/", server.url)).await.unwrap();
            // Not signed in: the sign-in page, in the browser's language.
            browser.wait().for_element(Locator::Css("form[action='/login']")).await.unwrap();
            shot("login".into()).await;
            browser.find(Locator::Id("user")).await.unwrap().send_keys("alice").await.unwrap();
            browser.find(Locator::Id("password")).await.unwrap().send_keys("alice-password").await.unwrap();
            browser.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();
            // Wait for what only the home page has: the sign-in page has an h1 too.
            browser.wait().for_element(Locator::Id("wallet-title")).await.unwrap();
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
            let started = Instant::now();
            loop {
                // The page may be between the form's POST and its redirect.
                let state = match browser.find(Locator::Id("job-state")).await {
                    Ok(element) => element.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                if state == cancelled {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(20), "{lang}: still {state}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                let _ = browser.refresh().await;
            }
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
    eprintln!("portal screenshots: {}", folder.display());
    server.stop();
}
