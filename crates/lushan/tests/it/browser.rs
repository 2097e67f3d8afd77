//! A real browser for the portal's tests: Debian's chromium, headless,
//! driven through chromedriver (WebDriver). Every portal test file starts
//! a [`Driver`], opens a session per language with [`open`], signs in with
//! [`sign_in`] and saves screenshots with [`shot`] into [`screenshots`].

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/lib/chromium/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver in its own process group, killed with the browsers it
/// started however the test ends (else it would hold cargo's output).
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    pub fn start() -> Driver {
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

pub fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/portal-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether chromium and chromedriver are installed; where not, the test
/// says it is skipped (`.ci/run` installs both).
pub fn available() -> bool {
    let there = std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !there {
        eprintln!(
            "chromium or chromedriver is not installed: the browser test is skipped here (.ci/run installs them)"
        );
    }
    there
}

/// A headless chromium whose preferred language is `lang` (`zh-CN`, `en`).
pub async fn open(driver: &Driver, lang: &str) -> Client {
    open_with(driver, lang, true).await
}

/// As [`open`], with JavaScript on or off: the portal's core flows must
/// work without it.
pub async fn open_with(driver: &Driver, lang: &str, javascript: bool) -> Client {
    let mut prefs = serde_json::json!({"intl.accept_languages": lang});
    if !javascript {
        prefs["profile.managed_default_content_settings.javascript"] = 2.into();
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"],
            "prefs": prefs,
        }),
    );
    // Keeps the console's messages for [`console_errors`].
    capabilities.insert("goog:loggingPrefs".into(), serde_json::json!({"browser": "ALL"}));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a chromium session")
}

/// Signs in through the form and waits for the home page.
pub async fn sign_in(browser: &Client, base: &str, user: &str, password: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    browser.wait().for_element(Locator::Css("form[action='/login']")).await.unwrap();
    browser.find(Locator::Id("user")).await.unwrap().send_keys(user).await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys(password).await.unwrap();
    browser.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();
    // What only the home page has: the sign-in page has an h1 too.
    browser.wait().for_element(Locator::Id("wallet-title")).await.unwrap();
}

/// Saves what the browser shows as `LANG-NAME.png` in [`screenshots`].
pub async fn shot(browser: &Client, lang: &str, name: &str) {
    let path = screenshots().join(format!("{lang}-{name}.png"));
    std::fs::write(&path, browser.screenshot().await.unwrap()).unwrap();
}

/// Waits until `f` holds, refreshing the page between tries.
pub async fn eventually(browser: &Client, what: &str, f: impl AsyncFnMut(&Client) -> bool) {
    wait_until(browser, what, true, f).await
}

/// Waits until `f` holds without touching the page: what changes must be
/// changed by the page itself (htmx).
pub async fn until_live(browser: &Client, what: &str, f: impl AsyncFnMut(&Client) -> bool) {
    wait_until(browser, what, false, f).await
}

async fn wait_until(browser: &Client, what: &str, refresh: bool, mut f: impl AsyncFnMut(&Client) -> bool) {
    let started = Instant::now();
    while !f(browser).await {
        assert!(started.elapsed() < Duration::from_secs(20), "{what}: still not so after 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
        if refresh {
            let _ = browser.refresh().await;
        }
    }
}

/// chromedriver's log command (`POST /session/ID/se/log`), which
/// fantoccini does not wrap: the console's messages since the last call.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// The errors the browser's console showed since the last call (a script
/// that failed, a resource refused by the Content-Security-Policy, a 404
/// for a stylesheet). Pages that answer an error status on purpose log
/// that status too: callers filter what they expect.
pub async fn console_errors(browser: &Client) -> Vec<String> {
    let log = browser.issue_cmd(BrowserLog).await.expect("the browser's console log");
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["level"] == "SEVERE")
        .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}
