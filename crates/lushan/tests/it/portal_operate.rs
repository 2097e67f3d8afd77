//! The operator's console in a real browser, in Chinese and in English:
//! the status (sites, partitions, nodes, queue), the local site's check, a
//! price set (and a bad one refused beside its field), a limit set and
//! cleared, a QOS, an adjustment, the audit log filtered by action, and a
//! tenant admin's menu on one line. The console's pages log no error.
//! Screenshots go to `target/portal-screenshots/` (`LANG-operate-*.png`,
//! `LANG-tenant-admin-menu*.png`). Skipped, with a message, where chromium
//! or chromedriver is not installed.

use crate::browser::{Driver, available, console_errors, eventually, open, screenshots, shot, sign_in};
use crate::harness::Sandbox;
use fantoccini::{Client, Locator};

async fn fill(browser: &Client, id: &str, text: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn choose(browser: &Client, id: &str, value: &str) {
    let option = format!("#{id} option[value='{value}']");
    browser.find(Locator::Css(&option)).await.unwrap().click().await.unwrap();
}

/// Sends the form whose action is `action` and waits for element `then`.
async fn send(browser: &Client, action: &str, then: Locator<'_>) {
    // The form in its card (a table's rows have small forms of their own).
    let button = format!("section.form-card form[action='{action}'] button[type='submit']");
    browser.find(Locator::Css(&button)).await.unwrap().click().await.unwrap();
    if browser.wait().for_element(then).await.is_err() {
        panic!("after {action}: {}", browser.source().await.unwrap());
    }
}

async fn go(browser: &Client, url: &str, then: Locator<'_>) {
    browser.goto(url).await.unwrap();
    if browser.wait().for_element(then).await.is_err() {
        panic!("{url}: {}", browser.source().await.unwrap());
    }
}

#[test]
fn the_operator_runs_the_platform_from_the_console_in_both_languages() {
    if !available() {
        return;
    }
    let sandbox = Sandbox::new();
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let banner = server.banner_text();
    let admin_password = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no operator password in {banner}"))
        .to_owned();
    let base = server.url.clone();
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (lang, title, core_hour, limit) in [("zh-CN", "平台运维", "0.05", "8"), ("en", "Operations", "0.07", "16")]
    {
        runtime.block_on(async {
            let browser = open(&driver, lang).await;
            let b = &browser;
            sign_in(b, &base, "admin", &admin_password).await;
            // The menu's link to the console; the status.
            b.find(Locator::Css("header a[href='/operate']")).await.unwrap().click().await.unwrap();
            b.wait().for_element(Locator::Id("nodes")).await.unwrap();
            let source = b.source().await.unwrap();
            assert!(source.contains(title) && source.contains(">local<"), "{lang}: {source}");
            shot(b, lang, "operate-status").await;
            // The menu: one line at 1280 px, the console marked as the
            // current section in the menu and its status in the line under
            // the title.
            let one_line = "const r = [...document.querySelectorAll('header .brand, header nav > *')]
                .map(e => e.getBoundingClientRect());
                return Math.max(...r.map(x => x.top)) < Math.min(...r.map(x => x.bottom));";
            assert_eq!(b.execute(one_line, vec![]).await.unwrap(), serde_json::json!(true), "{lang}: the menu wraps");
            assert!(b.find(Locator::Css("header a[href='/operate'][aria-current='page']")).await.is_ok(), "{lang}");
            assert!(b.find(Locator::Css(".subnav a[href='/operate'][aria-current='page']")).await.is_ok(), "{lang}");
            // The management links are one entry, a <details> list that
            // the keyboard opens (Enter) and walks (Tab), without script.
            assert!(b.find(Locator::Css("header details.menu:not([open])")).await.is_ok(), "{lang}: closed at first");
            let summary = b.find(Locator::Css("header details.menu summary")).await.unwrap();
            summary.send_keys("\u{E007}").await.unwrap();
            b.wait().for_element(Locator::Css("header details.menu[open]")).await.unwrap();
            summary.send_keys("\u{E004}").await.unwrap();
            let focused = b.active_element().await.unwrap().attr("href").await.unwrap();
            assert_eq!(focused.as_deref(), Some("/manage/tenants"), "{lang}: Tab goes into the list");
            shot(b, lang, "operate-menu").await;
            // The local site's check.
            b.find(Locator::Css("a[href='/operate/sites/local/check']")).await.unwrap().click().await.unwrap();
            b.wait().for_element(Locator::Id("check")).await.unwrap();
            assert!(b.find(Locator::Css("#check-result .state-running")).await.is_ok(), "{lang}: the check failed");
            shot(b, lang, "operate-check").await;
            // A bad price is refused beside its field; a good one is listed.
            go(b, &format!("{base}/operate/prices"), Locator::Id("core-hour")).await;
            choose(b, "price-target", "local/local").await;
            fill(b, "core-hour", "1e9").await;
            send(b, "/operate/prices", Locator::Id("price-core_hour-error")).await;
            let error = b.find(Locator::Id("price-core_hour-error")).await.unwrap();
            let element = serde_json::to_value(&error).unwrap();
            b.execute("arguments[0].scrollIntoView({block: 'center'});", vec![element]).await.unwrap();
            shot(b, lang, "operate-price-refused").await;
            fill(b, "core-hour", core_hour).await;
            fill(b, "gpu-hour", "2.5").await;
            send(b, "/operate/prices", Locator::Id("prices")).await;
            // The table was there before: wait for the new price in it.
            let price = format!("¥{core_hour}");
            eventually(b, lang, async |b| b.source().await.unwrap_or_default().contains(&price)).await;
            fill(b, "discount-percent", "12.5").await;
            choose(b, "discount-sector", "school").await;
            send(b, "/operate/discounts", Locator::Id("discounts")).await;
            shot(b, lang, "operate-prices").await;
            // A wallet's adjustment with its reason.
            go(b, &format!("{base}/operate/wallets"), Locator::Id("adjust-amount")).await;
            choose(b, "adjust-tenant", "centre").await;
            fill(b, "adjust-amount", "12.5").await;
            fill(b, "adjust-reference", &format!("ADJ-{lang}")).await;
            fill(b, "adjust-reason", "<script>document.title='pwned'</script> 退款").await;
            send(b, "/operate/wallets/adjust", Locator::Id("wallets")).await;
            assert!(!b.title().await.unwrap().contains("pwned"));
            shot(b, lang, "operate-wallets").await;
            // A limit on the operator, a QOS.
            go(b, &format!("{base}/operate/limits"), Locator::Id("limit-name")).await;
            choose(b, "limit-scope", "user").await;
            fill(b, "limit-name", "admin").await;
            fill(b, "max-cpus", limit).await;
            send(b, "/operate/limits", Locator::Id("limits")).await;
            let cell = format!(">{limit}<");
            eventually(b, lang, async |b| b.source().await.unwrap_or_default().contains(&cell)).await;
            fill(b, "qos-name", &format!("urgent-{}", &lang[..2])).await;
            fill(b, "qos-priority", "100").await;
            fill(b, "qos-description", "\"><img src=x onerror=\"document.title='pwned'\">").await;
            send(b, "/operate/qos", Locator::Id("qos")).await;
            assert!(!b.title().await.unwrap().contains("pwned"));
            shot(b, lang, "operate-limits").await;
            // The audit log, filtered by action.
            go(b, &format!("{base}/operate/audit"), Locator::Id("audit")).await;
            fill(b, "audit-action", "price.set").await;
            b.find(Locator::Css("form[action='/operate/audit'] button")).await.unwrap().click().await.unwrap();
            b.wait().for_element(Locator::Css("#audit-action[value='price.set']")).await.unwrap();
            let source = b.source().await.unwrap();
            assert!(source.contains("price.set") && !source.contains("limits.set"), "{lang}");
            shot(b, lang, "operate-audit").await;
            // The refused price answered 400 on purpose; nothing else may log.
            let errors: Vec<String> =
                console_errors(b).await.into_iter().filter(|e| !e.contains("400 (Bad Request)")).collect();
            assert_eq!(errors, Vec::<String>::new(), "{lang}: console errors");
            // A tenant admin's menu (the statement where the operator has
            // the console): one line at 1280 px too, and on a phone.
            let name = format!("ta-{}", &lang[..2]);
            go(b, &format!("{base}/manage/users"), Locator::Id("user-name")).await;
            fill(b, "user-name", &name).await;
            choose(b, "user-tenant", "centre").await;
            choose(b, "user-role", "tenant-admin").await;
            send(b, "/manage/users", Locator::Id("one-time-password")).await;
            let password = b.find(Locator::Id("one-time-password")).await.unwrap().text().await.unwrap();
            let admin = open(&driver, lang).await;
            sign_in(&admin, &base, &name, &password).await;
            assert!(admin.find(Locator::Css("header a[href='/statement']")).await.is_ok(), "{lang}: the statement");
            assert_eq!(
                admin.execute(one_line, vec![]).await.unwrap(),
                serde_json::json!(true),
                "{lang}: the tenant admin's menu wraps"
            );
            shot(&admin, lang, "tenant-admin-menu").await;
            admin.set_window_size(390, 844).await.unwrap();
            admin.refresh().await.unwrap();
            admin.find(Locator::Css("header details.menu summary")).await.unwrap().click().await.unwrap();
            admin.wait().for_element(Locator::Css("header details.menu[open]")).await.unwrap();
            shot(&admin, lang, "tenant-admin-menu-phone").await;
            admin.close().await.unwrap();
            // A phone's width: the tables scroll in their box.
            b.set_window_size(390, 844).await.unwrap();
            go(b, &format!("{base}/operate"), Locator::Id("nodes")).await;
            shot(b, lang, "operate-status-phone").await;
            b.find(Locator::Css("header details.menu summary")).await.unwrap().click().await.unwrap();
            b.wait().for_element(Locator::Css("header details.menu[open]")).await.unwrap();
            shot(b, lang, "operate-menu-phone").await;
            browser.close().await.unwrap();
        });
    }
    eprintln!("portal screenshots: {}", screenshots().display());
    server.stop();
}
