//! Submitting from the portal through the real router: a form filled from
//! a template, errors beside their fields, the quote with the generated
//! script, the submission (once, however often it is clicked), the whole
//! script instead of the form, a saved template, and refusals that change
//! nothing.

use crate::common::Platform;
use crate::portal::{Page, csrf_of, get, post, send, sign_in, urlencode};
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn setup() -> (Platform, String) {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.user("alice", "jxu", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/tenants/jxu/wallet/top-ups", json!({"amount": "500", "reference": "T-1"})).await;
    let session = sign_in(&p, "alice").await;
    (p, session)
}

/// The value of input `name` in a page, unescaped of `&#34;`-style quoting
/// no further than the test needs.
fn value_of(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" type=\"text\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The form as the page would post it: the plain template's values, with
/// some changed.
fn form(csrf: &str, action: &str, changes: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("csrf", csrf.to_owned()),
        ("mode", "form".into()),
        ("template", "1".into()),
        ("shell", "#!/bin/bash".into()),
        ("nonce", "n-1".into()),
        ("action", action.into()),
        ("job_name", "my-job".into()),
        ("account", "cfd-lab".into()),
        ("partition", String::new()),
        ("ntasks", "1".into()),
        ("cpus_per_task", "1".into()),
        ("time", "01:00:00".into()),
        ("body", "echo hello\n".into()),
        ("workdir", "/tmp".into()),
    ];
    for (key, value) in changes {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = (*value).to_owned(),
            None => fields.push((key, (*value).to_owned())),
        }
    }
    fields.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")
}

async fn jobs(p: &Platform) -> Vec<serde_json::Value> {
    let reply = p
        .call(
            Method::GET,
            "/api/v1/jobs?state=PENDING,RUNNING,COMPLETED,FAILED,CANCELLED",
            Some(&p.operator_token),
            None,
        )
        .await;
    reply.body.as_array().cloned().unwrap_or_default()
}

async fn open(p: &Platform, session: &str, path: &str) -> (Page, String) {
    let page = send(p, get(path, Some(session))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = csrf_of(&page.html);
    (page, csrf)
}

#[tokio::test]
async fn a_member_composes_a_job_from_a_template_sees_the_quote_and_submits_it_once() {
    let (p, session) = setup().await;
    let (page, csrf) = open(&p, &session, "/submit?lang=en").await;
    // The centre's four, the first in use; its values in the fields.
    for title in ["Plain script", "MPI job", "Array sweep", "GPU training (PyTorch)"] {
        assert!(page.html.contains(title), "{title}: {}", page.html);
    }
    assert_eq!(value_of(&page.html, "job_name"), "my-job", "the first is the plain script");
    assert!(page.html.contains("<option value=\"cfd-lab\" selected>"), "{}", page.html);
    let mpi = send(&p, get("/submit?template=2&lang=en", Some(&session))).await;
    assert_eq!((value_of(&mpi.html, "nodes"), value_of(&mpi.html, "ntasks")), ("2".into(), "8".into()));
    assert!(mpi.html.contains("srun ./my_mpi_program"), "{}", mpi.html);

    // The quote: every site's answer and the script that would run.
    let quoted = send(&p, post("/submit?lang=en", Some(&session), &form(&csrf, "quote", &[]))).await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.html);
    assert!(quoted.html.contains("id=\"quote\"") && quoted.html.contains("Worst case"), "{}", quoted.html);
    assert!(quoted.html.contains("¥"), "the worst case in yuan: {}", quoted.html);
    assert!(quoted.html.contains("#SBATCH --job-name=my-job\n#SBATCH --account=cfd-lab\n"), "{}", quoted.html);
    assert!(quoted.html.contains("id=\"submit-job\""), "{}", quoted.html);
    assert!(jobs(&p).await.is_empty(), "a quote submits nothing");

    // Submitted: to the job's page; a second click makes no second job.
    let done = send(&p, post("/submit", Some(&session), &form(&csrf, "submit", &[]))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let location = done.headers.get("location").unwrap().to_str().unwrap().to_owned();
    let again = send(&p, post("/submit", Some(&session), &form(&csrf, "submit", &[]))).await;
    assert_eq!(again.headers.get("location").unwrap().to_str().unwrap(), location);
    let all = jobs(&p).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(location, format!("/jobs/{}", all[0]["job_id"]));
    assert_eq!((all[0]["name"].as_str(), all[0]["project"].as_str()), (Some("my-job"), Some("cfd-lab")));
    assert_eq!(all[0]["workdir"], "/tmp");
}

#[tokio::test]
async fn each_bad_field_is_marked_beside_it_in_the_page_s_language_and_nothing_is_submitted() {
    let (p, session) = setup().await;
    let (_, csrf) = open(&p, &session, "/submit").await;
    let bad = form(&csrf, "submit", &[("nodes", "0"), ("time", "soon"), ("job_name", "a\nb")]);
    let page = send(&p, post("/submit?lang=en", Some(&session), &bad)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    for id in ["nodes-error", "time-error", "job_name-error"] {
        assert!(page.html.contains(&format!("id=\"{id}\"")), "{id}: {}", page.html);
    }
    assert!(page.html.contains("Please correct the fields marked below."), "{}", page.html);
    assert!(page.html.contains("value=\"soon\""), "what was typed is kept");
    let chinese = send(&p, post("/submit?lang=zh-CN", Some(&session), &bad)).await;
    assert!(chinese.html.contains("请修改标出的字段。"), "{}", chinese.html);
    // A project that is not hers, no working directory, a form without its key.
    let theirs =
        send(&p, post("/submit?lang=en", Some(&session), &form(&csrf, "submit", &[("account", "no-such")]))).await;
    assert_eq!(theirs.status, StatusCode::BAD_REQUEST, "{}", theirs.html);
    assert!(theirs.html.contains("id=\"problem\""), "{}", theirs.html);
    let nowhere = send(&p, post("/submit?lang=en", Some(&session), &form(&csrf, "submit", &[("workdir", "")]))).await;
    assert!(nowhere.html.contains("id=\"workdir-error\""), "{}", nowhere.html);
    let forged = send(&p, post("/submit", Some(&session), &form("forged", "submit", &[]))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(jobs(&p).await.is_empty());
}

#[tokio::test]
async fn without_enough_funds_the_quote_says_so_and_the_refusal_gives_both_amounts() {
    let (p, session) = setup().await;
    p.admin(Method::POST, "/api/v1/prices", json!({"site": "local", "core_hour": "100"})).await;
    let (_, csrf) = open(&p, &session, "/submit").await;
    let big = [("ntasks", "2"), ("time", "10:00:00")];
    let quoted = send(&p, post("/submit?lang=en", Some(&session), &form(&csrf, "quote", &big))).await;
    assert!(quoted.html.contains("Not covered"), "{}", quoted.html);
    assert!(!quoted.html.contains("id=\"submit-job\""), "no submit button when it cannot be paid");
    let refused = send(&p, post("/submit?lang=en", Some(&session), &form(&csrf, "submit", &big))).await;
    assert_eq!(refused.status, StatusCode::PAYMENT_REQUIRED, "{}", refused.html);
    assert!(refused.html.contains("Not enough funds") && refused.html.contains("500"), "{}", refused.html);
    assert!(jobs(&p).await.is_empty());
}

#[tokio::test]
async fn the_quote_follows_the_form_as_a_part_of_the_page_and_submits_nothing() {
    let (p, session) = setup().await;
    p.admin(Method::POST, "/api/v1/prices", json!({"site": "local", "core_hour": "100"})).await;
    let (page, csrf) = open(&p, &session, "/submit?lang=en").await;
    // The form asks for its quote when it loads and as it changes.
    assert!(page.html.contains("hx-post=\"/submit?part=quote\""), "{}", page.html);
    assert!(page.html.contains("hx-trigger=\"load, input delay:800ms"), "{}", page.html);

    // The part alone: the quote and the button, no page around it, whatever
    // the action the form carries.
    let part = send(&p, post("/submit?part=quote&lang=en", Some(&session), &form(&csrf, "submit", &[]))).await;
    assert_eq!(part.status, StatusCode::OK, "{}", part.html);
    assert!(part.html.trim_start().starts_with("<div id=\"quote-live\""), "{}", part.html);
    assert!(!part.html.contains("<html") && !part.html.contains("job-form"), "{}", part.html);
    assert!(part.html.contains("id=\"quote\"") && part.html.contains("id=\"submit-job\""), "{}", part.html);
    assert!(jobs(&p).await.is_empty(), "the part never submits");

    // More than the wallet holds: the part says so and has no button.
    let big = [("ntasks", "2"), ("time", "10:00:00")];
    let costly = send(&p, post("/submit?part=quote&lang=en", Some(&session), &form(&csrf, "quote", &big))).await;
    assert!(costly.html.contains("Not covered") && !costly.html.contains("id=\"submit-job\""), "{}", costly.html);

    // Wrong fields: named in the part (200, or htmx would not show it), in
    // the page's language, with no quote.
    let bad = [("nodes", "0"), ("time", "soon")];
    let wrong = send(&p, post("/submit?part=quote&lang=zh-CN", Some(&session), &form(&csrf, "quote", &bad))).await;
    assert_eq!(wrong.status, StatusCode::OK);
    assert!(wrong.html.contains("请先修改以下字段") && wrong.html.contains("节点数"), "{}", wrong.html);
    assert!(wrong.html.contains("时间限制") && !wrong.html.contains("id=\"quote\""), "{}", wrong.html);
    let nowhere =
        send(&p, post("/submit?part=quote&lang=en", Some(&session), &form(&csrf, "quote", &[("workdir", "")])));
    assert!(nowhere.await.html.contains("Working directory: Give a working directory"));

    // Another part, or a form without its key, is refused.
    let other = send(&p, post("/submit?part=everything", Some(&session), &form(&csrf, "quote", &[]))).await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    let forged = send(&p, post("/submit?part=quote", Some(&session), &form("forged", "quote", &[]))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(jobs(&p).await.is_empty());
}

#[tokio::test]
async fn the_whole_script_can_be_written_and_kept_as_a_template_of_one_s_own() {
    let (p, session) = setup().await;
    let (page, csrf) = open(&p, &session, "/submit?template=4&mode=script&lang=en").await;
    assert!(page.html.contains("#SBATCH --gpus=1"), "the template's script in the box: {}", page.html);
    let planted = r#"<script>document.title="pwned"</script>"#;
    let script = format!("#!/bin/bash\n#SBATCH -J '{planted}'\n#SBATCH -A cfd-lab\nhostname\n");
    let fields = |action: &str| {
        form(
            &csrf,
            action,
            &[("mode", "script"), ("script", &script), ("save_name", "my-host"), ("save_title", "Host")],
        )
    };
    let quoted = send(&p, post("/submit?lang=en", Some(&session), &fields("quote"))).await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.html);
    assert!(!quoted.html.contains("<script>document"), "escaped: {}", quoted.html);
    let saved = send(&p, post("/submit?lang=en", Some(&session), &fields("save"))).await;
    assert!(saved.html.contains("Template saved."), "{}", saved.html);
    let list = send(&p, get("/submit?lang=en", Some(&session))).await;
    assert!(list.html.contains(">Host</a>") && list.html.contains("Mine"), "{}", list.html);
    // The same name again is refused beside the name.
    let twice = send(&p, post("/submit?lang=en", Some(&session), &fields("save"))).await;
    assert!(twice.html.contains("id=\"save_name-error\""), "{}", twice.html);
    let done = send(&p, post("/submit", Some(&session), &fields("submit"))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(jobs(&p).await[0]["name"], planted);
}

#[tokio::test]
async fn one_s_own_templates_are_deleted_by_oneself_and_the_centre_s_by_operators_only() {
    let (p, session) = setup().await;
    let mine = json!({"name": "mine", "title": "Mine", "script": "#!/bin/bash\ntrue\n"});
    let created = p.call(Method::POST, "/api/v1/job-templates", Some(&session), Some(mine)).await;
    let id = created.body["id"].as_i64().unwrap();
    let (page, csrf) = open(&p, &session, "/submit?lang=en").await;
    // A delete button on her own, none on the centre's.
    assert!(page.html.contains(&format!("action=\"/templates/{id}/delete\"")), "{}", page.html);
    assert!(!page.html.contains("action=\"/templates/1/delete\""), "{}", page.html);
    assert!(!page.html.contains("save_centre"), "members keep templates as their own only");
    let refused = send(&p, post("/templates/1/delete", Some(&session), &format!("csrf={csrf}"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    let bad = send(&p, post("/templates/x/delete", Some(&session), &format!("csrf={csrf}"))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    let gone = send(&p, post(&format!("/templates/{id}/delete"), Some(&session), &format!("csrf={csrf}"))).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.html);
    let list = p.call(Method::GET, "/api/v1/job-templates", Some(&session), None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 4);

    // An operator keeps a script as the centre's: everyone is offered it.
    let operator = p.operator_token.clone();
    let (page, csrf) = open(&p, &operator, "/submit?template=1&lang=en").await;
    assert!(page.html.contains("save_centre"), "{}", page.html);
    let save = form(&csrf, "save", &[("save_name", "openfoam"), ("save_title", "OpenFOAM"), ("save_centre", "on")]);
    let saved = send(&p, post("/submit?lang=en", Some(&operator), &save)).await;
    assert!(saved.html.contains("Template saved."), "{}", saved.html);
    let list = p.call(Method::GET, "/api/v1/job-templates", Some(&session), None).await;
    let openfoam = list.body.as_array().unwrap().iter().find(|t| t["name"] == "openfoam").cloned();
    assert_eq!(openfoam.map(|t| t["centre"].clone()), Some(json!(true)), "{}", list.body);
}

#[tokio::test]
async fn a_job_s_page_refreshes_its_live_part_alone_and_htmx_is_served_from_here() {
    let (p, session) = setup().await;
    let (_, csrf) = open(&p, &session, "/submit").await;
    let done = send(&p, post("/submit", Some(&session), &form(&csrf, "submit", &[]))).await;
    let location = done.headers.get("location").unwrap().to_str().unwrap().to_owned();
    let page = send(&p, get(&location, Some(&session))).await;
    // While the job waits, its live part asks for itself again.
    assert!(page.html.contains(&format!("hx-get=\"{location}?part=live\"")), "{}", page.html);
    let live = send(&p, get(&format!("{location}?part=live"), Some(&session))).await;
    assert_eq!(live.status, StatusCode::OK);
    assert!(live.html.trim_start().starts_with("<div id=\"live\"") && !live.html.contains("<html"), "{}", live.html);
    assert!(live.html.contains("id=\"job-state\""), "{}", live.html);
    let bad = send(&p, get(&format!("{location}?part=all"), Some(&session))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // The script: from this server (the policy allows no other), cached for ever.
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
    let src = page.html.split("<script src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let script = send(&p, get(&src, None)).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.headers.get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    assert!(script.html.contains("htmx"), "the vendored htmx");
    // An ended job's live part stops asking.
    let id = location.trim_start_matches("/jobs/");
    p.call(Method::POST, &format!("/api/v1/jobs/{id}/cancel"), Some(&session), None).await;
    let ended = send(&p, get(&format!("{location}?part=live"), Some(&session))).await;
    assert!(!ended.html.contains("hx-get"), "{}", ended.html);
}

#[tokio::test]
async fn a_job_is_submitted_again_from_its_own_script_and_only_by_those_who_see_it() {
    let (p, session) = setup().await;
    let (_, csrf) = open(&p, &session, "/submit").await;
    let done = send(&p, post("/submit", Some(&session), &form(&csrf, "submit", &[("body", "echo once-more\n")]))).await;
    let location = done.headers.get("location").unwrap().to_str().unwrap().to_owned();
    let id = location.trim_start_matches("/jobs/");
    let page = send(&p, get(&location, Some(&session))).await;
    assert!(page.html.contains(&format!("href=\"/submit?job={id}\"")), "{}", page.html);
    let again = send(&p, get(&format!("/submit?job={id}&lang=en"), Some(&session))).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.html);
    assert!(again.html.contains("name=\"mode\" value=\"script\""), "the whole script: {}", again.html);
    assert!(
        again.html.contains("echo once-more") && again.html.contains("#SBATCH --job-name=my-job"),
        "{}",
        again.html
    );
    assert!(again.html.contains("value=\"/tmp\""), "where it started: {}", again.html);
    // Another tenant's member sees no such job; a bad id is said to be one.
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "hit", "sector": "university"})).await;
    p.user("bob", "hit", "member").await;
    let bob = sign_in(&p, "bob").await;
    let theirs = send(&p, get(&format!("/submit?job={id}"), Some(&bob))).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert!(!theirs.html.contains("once-more"));
    let bad = send(&p, get("/submit?job=x", Some(&session))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
