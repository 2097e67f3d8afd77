//! README's tour in a real browser, in Chinese and in English, with no
//! command line: the operator creates a tenant, a PI (reading the one-time
//! password from the page), a reviewer and a project, and tops up the
//! wallet; the PI signs in with the one-time password, composes a job from
//! a template, sees the quote (the wallet pays), submits it and watches it
//! run to its output, then requests a grant; the reviewer scores it beside
//! the project's usage; the operator approves it and finds the first job's
//! charge in the tenant's statement; the PI's next job is paid by the
//! grant. Screenshots of every page go to
//! `target/portal-screenshots/` (`LANG-manage-*.png`). Skipped, with a
//! message, where chromium or chromedriver is not installed.

use crate::browser::{Driver, available, eventually, open, screenshots, shot, sign_in, until_live};
use crate::harness::{Sandbox, cli};
use fantoccini::{Client, Locator};

/// Fills the field with id `id`.
async fn fill(browser: &Client, id: &str, text: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Chooses `value` in the `<select>` with id `id`.
async fn choose(browser: &Client, id: &str, value: &str) {
    let option = format!("#{id} option[value='{value}']");
    browser.find(Locator::Css(&option)).await.unwrap().click().await.unwrap();
}

/// A date field's value (typing one depends on the browser's locale).
async fn set_date(browser: &Client, id: &str, date: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap();
    let script = "arguments[0].value = arguments[1];";
    let element = serde_json::to_value(&field).unwrap();
    browser.execute(script, vec![element, serde_json::json!(date)]).await.unwrap();
}

/// Sends the posted form whose action is `action` (not the list's filter,
/// which goes to the same address) and waits for element `then`.
async fn send(browser: &Client, action: &str, then: Locator<'_>) {
    let button = format!("form[method='post'][action='{action}'] button[type='submit']");
    browser.find(Locator::Css(&button)).await.unwrap().click().await.unwrap();
    if browser.wait().for_element(then).await.is_err() {
        panic!("after {action}: {}", browser.source().await.unwrap());
    }
}

/// Composes a job from the centre's plain template, checks who the quote
/// says pays, submits it and waits (without reloading) for its page to say
/// it completed with its output; returns its id.
async fn submit_from_template(
    b: &Client,
    base: &str,
    work: &std::path::Path,
    lang: &str,
    name: &str,
    payer: &str,
) -> String {
    b.goto(&format!("{base}/submit?template=1")).await.unwrap();
    b.wait().for_element(Locator::Id("job-form")).await.unwrap();
    fill(b, "job_name", name).await;
    fill(b, "body", &format!("sleep 1\necho {name}-ran\n")).await;
    fill(b, "workdir", &work.display().to_string()).await;
    b.find(Locator::Css("button[value='quote']")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("quote")).await.unwrap();
    let quote = text_of(b, "#quote tr.chosen").await;
    assert!(quote.contains(payer), "{lang}: who pays: {quote}");
    shot(b, lang, &format!("{name}-quote")).await;
    b.find(Locator::Id("submit-job")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("job-state")).await.unwrap();
    let job = b.current_url().await.unwrap().path().trim_start_matches("/jobs/").to_owned();
    until_live(b, lang, async |b| b.find(Locator::Css(".state-completed")).await.is_ok()).await;
    let output = text_of(b, "#output").await;
    assert!(output.contains(&format!("{name}-ran")), "{lang}: {output}");
    job
}

async fn sign_out(browser: &Client) {
    browser.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    browser.wait().for_element(Locator::Css("form[action='/login']")).await.unwrap();
}

/// The element's text; found again if the page replaced it between the
/// finding and the reading (a live part swapped by htmx).
async fn text_of(browser: &Client, css: &str) -> String {
    for _ in 0..20 {
        if let Ok(text) = browser.find(Locator::Css(css)).await.unwrap().text().await {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{css} kept being replaced");
}

#[test]
fn the_tour_is_done_in_the_browser_from_a_new_tenant_to_an_approved_grant() {
    if !available() {
        return;
    }
    let sandbox = Sandbox::new();
    // Jobs run as the server's user: the PIs' Unix accounts are made up.
    let server = sandbox.up("run_jobs_as_server_user = true\n");
    let banner = server.banner_text();
    let admin_password = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no operator password in {banner}"))
        .to_owned();
    // The centre's price, set before the tour: a second of a core costs a
    // tenth of a yuan, so the tour's one-second job shows in the statement.
    cli(&server.home, &["admin", "price", "set", "--site", "local", "--core-hour", "360"]).ok();
    let base = server.url.clone();
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let runs = [
        ("zh-CN", "zh", "已批准", "租户余额", "公益机时"),
        ("en", "en", "Approved", "The tenant's wallet", "Public-welfare grant"),
    ];
    for (lang, suffix, approved, wallet_payer, grant_payer) in runs {
        let tenant = format!("jxu-{suffix}");
        let pi = format!("alice-{suffix}");
        let reviewer = format!("rev-{suffix}");
        let project = format!("cfd-{suffix}");
        runtime.block_on(async {
            let browser = open(&driver, lang).await;
            let b = &browser;
            // The operator: a tenant with its sector, then its wallet topped up.
            sign_in(b, &base, "admin", &admin_password).await;
            b.goto(&format!("{base}/manage/tenants")).await.unwrap();
            b.wait().for_element(Locator::Id("tenant-name")).await.unwrap();
            fill(b, "tenant-name", &tenant).await;
            fill(b, "tenant-display", "江西大学").await;
            choose(b, "tenant-sector", "university").await;
            shot(b, lang, "manage-tenants").await;
            send(b, "/manage/tenants", Locator::Id("amount")).await;
            fill(b, "amount", "abc").await;
            fill(b, "reference", "INV-2026-113").await;
            send(b, &format!("/manage/tenants/{tenant}/top-up"), Locator::Id("top-up-amount-error")).await;
            shot(b, lang, "manage-top-up-refused").await;
            fill(b, "amount", "5000").await;
            send(b, &format!("/manage/tenants/{tenant}/top-up"), Locator::Id("available")).await;
            assert!(text_of(b, "#balance").await.contains("5,000.00"), "{lang}");
            shot(b, lang, "manage-tenant").await;
            // The PI and a reviewer of the centre, each with a one-time password.
            let mut passwords = Vec::new();
            for (name, in_tenant, role) in [(&pi, tenant.as_str(), "member"), (&reviewer, "centre", "reviewer")] {
                b.goto(&format!("{base}/manage/users")).await.unwrap();
                b.wait().for_element(Locator::Id("user-name")).await.unwrap();
                fill(b, "user-name", name).await;
                fill(b, "user-display", &format!("{name} 老师")).await;
                choose(b, "user-tenant", in_tenant).await;
                choose(b, "user-role", role).await;
                send(b, "/manage/users", Locator::Id("one-time-password")).await;
                passwords.push(text_of(b, "#one-time-password").await);
            }
            shot(b, lang, "manage-user-created").await;
            b.goto(&format!("{base}/manage/users")).await.unwrap();
            b.wait().for_element(Locator::Id("users")).await.unwrap();
            shot(b, lang, "manage-users").await;
            // The project, with the PI.
            b.goto(&format!("{base}/manage/projects")).await.unwrap();
            b.wait().for_element(Locator::Id("project-name")).await.unwrap();
            fill(b, "project-name", &project).await;
            choose(b, "project-tenant", &tenant).await;
            fill(b, "project-pi", &pi).await;
            fill(b, "project-description", "CFD group").await;
            send(b, "/manage/projects", Locator::Id("members")).await;
            assert_eq!(text_of(b, "#pi").await, pi);
            b.goto(&format!("{base}/manage/projects")).await.unwrap();
            b.wait().for_element(Locator::Id("projects")).await.unwrap();
            shot(b, lang, "manage-projects").await;
            b.goto(&format!("{base}/manage/tenants")).await.unwrap();
            b.wait().for_element(Locator::Id("tenants")).await.unwrap();
            shot(b, lang, "manage-tenants-list").await;
            sign_out(b).await;
            // The PI signs in with the one-time password and runs a job from a
            // template, paid from the wallet (the reviewer sees its usage).
            let work = sandbox.path(&format!("work-{suffix}"));
            std::fs::create_dir_all(&work).unwrap();
            sign_in(b, &base, &pi, &passwords[0]).await;
            let job = submit_from_template(b, &base, &work, lang, "tour-wallet", wallet_payer).await;
            shot(b, lang, "tour-job-done").await;
            // The PI requests a grant.
            b.goto(&format!("{base}/projects/{project}")).await.unwrap();
            b.wait().for_element(Locator::Id("core-hours")).await.unwrap();
            fill(b, "core-hours", "1000").await;
            set_date(b, "from", "2026-12-01").await;
            set_date(b, "to", "2027-05-31").await;
            fill(b, "grant-reason", "<script>document.title='pwned'</script> 湍流模拟").await;
            send(b, &format!("/projects/{project}/grants"), Locator::Css("table.grants")).await;
            assert!(!b.title().await.unwrap().contains("pwned"));
            shot(b, lang, "manage-project").await;
            sign_out(b).await;
            // The reviewer scores it.
            sign_in(b, &base, &reviewer, &passwords[1]).await;
            b.goto(&format!("{base}/reviews")).await.unwrap();
            b.wait().for_element(Locator::Css("article.review")).await.unwrap();
            let id = b.find(Locator::Css("article.review")).await.unwrap().attr("id").await.unwrap().unwrap();
            let id = id.trim_start_matches("grant-").to_owned();
            // The project's usage in the past year: the PI's job, once settled.
            eventually(b, lang, async |b| b.find(Locator::Css("dl.usage")).await.is_ok()).await;
            shot(b, lang, "manage-reviews").await;
            choose(b, &format!("score-{id}"), "4").await;
            fill(b, &format!("comment-{id}"), "方案可行 <img src=x onerror=\"document.title='pwned'\">").await;
            send(b, &format!("/reviews/{id}"), Locator::Id("my-reviews")).await;
            assert!(!b.title().await.unwrap().contains("pwned"));
            shot(b, lang, "manage-reviewed").await;
            sign_out(b).await;
            // The operator approves it.
            sign_in(b, &base, "admin", &admin_password).await;
            b.goto(&format!("{base}/manage/grants?state=requested")).await.unwrap();
            b.wait().for_element(Locator::Css("table.grants")).await.unwrap();
            shot(b, lang, "manage-grants").await;
            b.find(Locator::Css(&format!("a[href='/manage/grants/{id}']"))).await.unwrap().click().await.unwrap();
            b.wait().for_element(Locator::Id("approve-core")).await.unwrap();
            shot(b, lang, "manage-grant").await;
            fill(b, "approve-core", "800").await;
            send(b, &format!("/manage/grants/{id}/approve"), Locator::Css("h1")).await;
            eventually(b, lang, async |b| b.source().await.unwrap_or_default().contains(approved)).await;
            shot(b, lang, "manage-grant-approved").await;
            // The wallet's charge for the first job, in the tenant's statement.
            b.goto(&format!("{base}/statement?tenant={tenant}")).await.unwrap();
            if b.wait().for_element(Locator::Css(&format!("a[href='/jobs/{job}']"))).await.is_err() {
                panic!("{lang}: job {job} not in the statement: {}", b.source().await.unwrap());
            }
            shot(b, lang, "tour-statement").await;
            sign_out(b).await;
            // The PI's next job is paid by the grant.
            sign_in(b, &base, &pi, &passwords[0]).await;
            submit_from_template(b, &base, &work, lang, "tour-grant", grant_payer).await;
            sign_out(b).await;
            sign_in(b, &base, "admin", &admin_password).await;
            // The phone's width: tables scroll in their box, forms stack.
            b.set_window_size(390, 844).await.unwrap();
            b.goto(&format!("{base}/projects/{project}")).await.unwrap();
            b.wait().for_element(Locator::Id("members")).await.unwrap();
            shot(b, lang, "manage-project-phone").await;
            browser.close().await.unwrap();
        });
    }
    eprintln!("portal screenshots: {}", screenshots().display());
    server.stop();
}
