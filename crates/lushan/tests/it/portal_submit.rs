//! Submitting from the portal in a real browser, in Chinese and English:
//! a member picks a template, changes a field, sees the quote and the
//! generated script (with JavaScript, as the form changes, without a
//! click), submits, and watches the job's output arrive on its page; a field typed wrong is marked beside it. The job really runs (a
//! real process, through the local backend). Once more in English with
//! JavaScript off; the browser's console shows no error on the way. With
//! JavaScript, the job's page follows the job by itself (htmx).

use crate::browser::{
    Driver, available, console_errors, eventually, open_with, screenshots, shot, sign_in, until_live,
};
use crate::harness::{Sandbox, member_alice};
use fantoccini::Locator;

#[test]
fn a_member_composes_quotes_submits_and_watches_a_job_in_a_real_browser() {
    if !available() {
        return;
    }
    let sandbox = Sandbox::new();
    let server = sandbox.up("run_jobs_as_server_user = true\n");
    member_alice(&sandbox, &server, None);
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let runs = [
        ("zh-CN", true, "完成", "请修改标出的字段。"),
        ("en", true, "Completed", "Please correct"),
        ("en", false, "Completed", "Please correct"),
    ];
    for (lang, javascript, finished, marked) in runs {
        let shot_name = |name: &str| if javascript { name.to_owned() } else { format!("{name}-nojs") };
        runtime.block_on(async {
            let browser = open_with(&driver, lang, javascript).await;
            sign_in(&browser, &server.url, "alice", "alice-password").await;
            // From the menu to the form, filled from the centre's first template.
            browser.find(Locator::Css("nav a[href='/submit']")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Id("job-form")).await.unwrap();
            browser
                .find(Locator::Css(".templates a[href^='/submit?template=1']"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            browser.wait().for_element(Locator::Css(".template.in-use a[href^='/submit?template=1']")).await.unwrap();
            shot(&browser, lang, &shot_name("submit")).await;
            assert_eq!(console_errors(&browser).await, Vec::<String>::new(), "{lang}: the console");
            // A wrong time limit is marked beside its field.
            let time = browser.find(Locator::Id("time")).await.unwrap();
            time.clear().await.unwrap();
            time.send_keys("soon").await.unwrap();
            browser.find(Locator::Css("button[value='quote']")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Id("time-error")).await.unwrap();
            let page = browser.source().await.unwrap();
            assert!(page.contains(marked), "{lang}: {page}");
            if javascript {
                browser.execute("document.getElementById('time').scrollIntoView()", vec![]).await.unwrap();
            }
            shot(&browser, lang, &shot_name("submit-error")).await;
            // The one error expected: the form's answer is a 400.
            for error in console_errors(&browser).await {
                assert!(error.contains("status of 400"), "{lang}: the console: {error}");
            }
            // Corrected, with a name, commands and a working directory of its own.
            let time = browser.find(Locator::Id("time")).await.unwrap();
            time.clear().await.unwrap();
            time.send_keys("5:00").await.unwrap();
            let name = browser.find(Locator::Id("job_name")).await.unwrap();
            name.clear().await.unwrap();
            name.send_keys(&format!("portal-{lang}-{javascript}")).await.unwrap();
            let workdir = browser.find(Locator::Id("workdir")).await.unwrap();
            workdir.clear().await.unwrap();
            workdir.send_keys(&work.display().to_string()).await.unwrap();
            let body = browser.find(Locator::Id("body")).await.unwrap();
            body.clear().await.unwrap();
            let echo = format!("echo hello-from-the-portal-{lang}");
            body.send_keys(&format!("sleep 2\n{echo}\n")).await.unwrap();
            let quoted = async |browser: &fantoccini::Client| match browser.find(Locator::Id("generated-script")).await
            {
                // Replaced under the test's feet by htmx: asked again.
                Ok(script) => script.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if javascript {
                // The quote follows the form by itself (htmx): no click.
                until_live(&browser, lang, async |browser| quoted(browser).await.contains(&echo)).await;
            } else {
                browser.find(Locator::Css("button[value='quote']")).await.unwrap().click().await.unwrap();
                browser.wait().for_element(Locator::Id("quote")).await.unwrap();
            }
            let script = quoted(&browser).await;
            assert!(script.contains(&format!("#SBATCH --job-name=portal-{lang}-{javascript}")), "{lang}: {script}");
            assert!(script.contains("#SBATCH --time=5:00"), "{lang}: {script}");
            if javascript {
                browser.execute("document.getElementById('quote').scrollIntoView()", vec![]).await.unwrap();
            }
            shot(&browser, lang, &shot_name("submit-quote")).await;
            if javascript {
                // The button the live quote put there, clicked where it is now.
                browser.execute("document.getElementById('submit-job').click()", vec![]).await.unwrap();
            } else {
                browser.find(Locator::Id("submit-job")).await.unwrap().click().await.unwrap();
            }
            // The job's page: it runs, ends, and its output is there.
            browser.wait().for_element(Locator::Id("job-state")).await.unwrap();
            let ended = async |browser: &fantoccini::Client| match browser.find(Locator::Id("job-state")).await {
                Ok(state) => state.text().await.unwrap_or_default() == finished,
                Err(_) => false,
            };
            let first = browser.find(Locator::Id("job-state")).await.unwrap().text().await.unwrap();
            assert_ne!(first, finished, "{lang}: the job sleeps 2 s: it cannot have ended yet");
            if javascript {
                // The page follows the job by itself (htmx), no reload.
                until_live(&browser, lang, ended).await;
            } else {
                eventually(&browser, lang, ended).await;
            }
            let output = browser.find(Locator::Id("output")).await.unwrap().text().await.unwrap();
            assert!(output.contains(&format!("hello-from-the-portal-{lang}")), "{lang}: {output}");
            shot(&browser, lang, &shot_name("submit-done")).await;
            assert_eq!(console_errors(&browser).await, Vec::<String>::new(), "{lang}: the console");
            // Submit again: the job's own script, ready to change and send.
            browser.find(Locator::Id("submit-again")).await.unwrap().click().await.unwrap();
            browser.wait().for_element(Locator::Css("textarea#script")).await.unwrap();
            let script = browser.find(Locator::Id("script")).await.unwrap().prop("value").await.unwrap();
            assert!(script.unwrap_or_default().contains(&format!("hello-from-the-portal-{lang}")), "{lang}");
            browser.close().await.unwrap();
        });
    }
    eprintln!("portal screenshots: {}", screenshots().display());
    server.stop();
}
