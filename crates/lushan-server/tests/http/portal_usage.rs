//! The portal's usage, statement and profile pages through the real
//! router: each role's scope (the services', never filtered again), the
//! same figures as the API in the tables, the chart and the CSV, bad input
//! refused beside its field with nothing changed, escaping, CSV injection,
//! the language setting, API tokens.

use crate::common::Platform;
use crate::portal::{csrf_of, get, post, send, sign_in};
use axum::http::{Method, StatusCode};
use lushan_model::{JobId, JobState};
use serde_json::json;

const PLANTED: &str = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;

/// Runs job `job` for `secs` seconds and settles it at noon (UTC) of `day`.
pub(crate) async fn settle(p: &Platform, job: i64, day: &str, secs: i64) {
    let end = format!("{day}T12:00:00Z").parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let start = end - secs * 1000;
    assert!(p.store.start_job(JobId(job), start, "n1", "{}").await.unwrap(), "job {job} started");
    let done = lushan_store::JobEnd {
        state: JobState::Completed,
        reason: "None".into(),
        time: end,
        exit_code: Some(0),
        exit_signal: None,
        max_rss_kib: None,
        total_cpu_ms: None,
        nodes: Vec::new(),
        start: Some(start),
    };
    assert!(p.store.end_job(JobId(job), JobState::Running, &done, None).await.unwrap(), "job {job} ended");
}

/// Submits a job to `project` as `token`; returns its id.
pub(crate) async fn submit(p: &Platform, token: &str, project: &str) -> i64 {
    let job = json!({"script": "#!/bin/sh\ntrue\n", "options": ["-A", project, "-J", "usage"],
        "submit_dir": "/tmp", "env": {}});
    let reply = p.call(Method::POST, "/api/v1/jobs", Some(token), Some(job)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["job"]["job_id"].as_i64().unwrap()
}

struct World {
    p: Platform,
    /// alice's job settled in 2026-10, dave's in 2026-11, bob's (zju) in 2026-11.
    jobs: [i64; 3],
}

async fn world() -> World {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "zju", "sector": "enterprise"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    let dave = p.user("dave", "jxu", "member").await;
    p.user("carol", "jxu", "tenant-admin").await;
    let bob = p.user("bob", "zju", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/projects/cfd-lab/members", json!({"user": "dave"})).await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "zproj", "tenant": "zju", "pi": "bob"})).await;
    let reference = format!("=HYPERLINK(\"http://evil.example\"){PLANTED}");
    p.admin(Method::POST, "/api/v1/tenants/jxu/wallet/top-ups", json!({"amount": "1000", "reference": reference}))
        .await;
    p.admin(Method::POST, "/api/v1/tenants/zju/wallet/top-ups", json!({"amount": "1000", "reference": "Z-1"})).await;
    let a = submit(&p, &alice, "cfd-lab").await;
    let d = submit(&p, &dave, "cfd-lab").await;
    let b = submit(&p, &bob, "zproj").await;
    settle(&p, a, "2026-10-15", 7200).await;
    settle(&p, d, "2026-11-15", 3600).await;
    settle(&p, b, "2026-11-16", 3600).await;
    World { p, jobs: [a, d, b] }
}

/// The API's usage report for a month, as `who`.
async fn api_usage(p: &Platform, token: &str, by: &str, month: &str) -> serde_json::Value {
    let (from, to) = (format!("{month}-01"), format!("{month}-28"));
    let path = format!("/api/v1/reports/usage?by={by}&from={from}&to={to}");
    let reply = p.call(Method::GET, &path, Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// The rows of table `id` in `html`, as their cells' texts.
fn table(html: &str, id: &str) -> Vec<Vec<String>> {
    let Some(start) = html.find(&format!("<table id=\"{id}\"")) else { return Vec::new() };
    let body = &html[start..];
    let body = &body[..body.find("</table>").unwrap()];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            let row = row.replace("<th", "<td").replace("</th>", "</td>");
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').unwrap() + 1..];
                    let inner = &inner[..inner.find("</td>").unwrap_or(inner.len())];
                    let mut text = String::new();
                    let mut tag = false;
                    for c in inner.chars() {
                        match c {
                            '<' => tag = true,
                            '>' => tag = false,
                            c if !tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.trim().to_owned()
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn each_role_sees_its_own_scope_by_month_with_charts_and_the_api_s_figures() {
    let w = world().await;
    let p = &w.p;
    let range = "from=2026-10&to=2026-11&lang=en";
    // A PI: the project's jobs, by member and by partition.
    let alice = sign_in(p, "alice").await;
    let page = send(p, get(&format!("/usage?{range}"), Some(&alice))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let by_user = table(&page.html, "usage-by-user");
    let names: Vec<&str> = by_user.iter().skip(1).filter_map(|r| r.first().map(String::as_str)).collect();
    assert_eq!(names, ["alice", "dave"], "{}", page.html);
    assert!(page.html.contains("id=\"usage-by-partition\""));
    // The same figures as the API's report, month by month.
    let api_token = p.login("alice").await;
    let months = table(&page.html, "usage-months");
    for (i, month) in ["2026-10", "2026-11"].iter().enumerate() {
        let api = api_usage(p, &api_token, "user", month).await;
        let row = &months[i + 1];
        assert_eq!(row[0], *month);
        assert_eq!(row[1], api["total"]["jobs"].to_string());
        assert_eq!(row[2], api["total"]["core_hours"].as_str().unwrap());
        assert_eq!(row[4], format!("¥{}", api["total"]["cny_charged"].as_str().unwrap()));
    }
    assert!(months[1][2] != "0.00", "the settled job's core-hours: {months:?}");
    // The charts: server-drawn SVG with a title and a description that
    // say the numbers; one bar a month.
    for chart in ["chart-core-hours", "chart-charged"] {
        let at = page.html.find(&format!("id=\"{chart}\"")).unwrap_or_else(|| panic!("{chart}: {}", page.html));
        let svg = &page.html[page.html[..at].rfind("<svg").unwrap()..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        assert!(svg.contains(&format!("<title id=\"{chart}-title\">")) && svg.contains("<desc"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(svg.contains(&months[1][2]) || chart == "chart-charged", "{svg}");
    }
    // The charts are drawn by the server: the page's one script is htmx's file.
    assert_eq!(page.html.matches("<script").count(), 1, "no script but htmx");
    assert!(page.html.contains("<script src=\"/static/htmx-"), "no inline script");
    // A member (not a PI or manager): only their own jobs, by project.
    let dave = sign_in(p, "dave").await;
    let page = send(p, get(&format!("/usage?{range}"), Some(&dave))).await;
    let months = table(&page.html, "usage-months");
    assert_eq!((months[1][1].as_str(), months[2][1].as_str()), ("0", "1"), "{}", page.html);
    assert!(!page.html.contains(">alice<"), "{}", page.html);
    assert_eq!(table(&page.html, "usage-by-project")[1][0], "cfd-lab");
    // The tenant admin: the tenant, by project; the operator: by tenant and sector.
    let carol = sign_in(p, "carol").await;
    let page = send(p, get(&format!("/usage?{range}"), Some(&carol))).await;
    let total = table(&page.html, "usage-months").pop().unwrap();
    assert_eq!(total[1], "2", "{}", page.html);
    assert!(!page.html.contains(">zju<") && !page.html.contains(">zproj<"), "{}", page.html);
    p.user("op", "centre", "operator").await;
    let operator = sign_in(p, "op").await;
    let page = send(p, get(&format!("/usage?{range}"), Some(&operator))).await;
    let tenants: Vec<String> = table(&page.html, "usage-by-tenant").into_iter().skip(1).map(|r| r[0].clone()).collect();
    assert_eq!(tenants, ["jxu", "zju"], "{}", page.html);
    let sectors: Vec<String> = table(&page.html, "usage-by-sector").into_iter().skip(1).map(|r| r[0].clone()).collect();
    assert_eq!(sectors, ["Enterprise", "University"], "{}", page.html);
    // Another tenant's member sees nothing of jxu.
    let bob = sign_in(p, "bob").await;
    let page = send(p, get(&format!("/usage?{range}"), Some(&bob))).await;
    assert!(!page.html.contains("cfd-lab") && !page.html.contains(">alice<"), "{}", page.html);
    // Every role has its profile and usage pages; the operator reads any
    // tenant's statement.
    for session in [&alice, &dave, &carol, &operator, &bob] {
        for path in ["/profile", "/usage", "/usage.csv"] {
            assert_eq!(send(p, get(path, Some(session))).await.status, StatusCode::OK, "{path}");
        }
    }
    let theirs = send(p, get("/statement?tenant=jxu&month=2026-10&lang=en", Some(&operator))).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.html);
    assert!(theirs.html.contains(&format!("<a href=\"/jobs/{}\">", w.jobs[0])), "{}", theirs.html);
    assert!(theirs.html.contains("name=\"tenant\" value=\"jxu\""), "the month form keeps the tenant");
    // In Chinese by default, with the glossary's words.
    let page = send(p, get("/usage?from=2026-10&to=2026-11", Some(&alice))).await;
    assert!(page.html.contains("用量与费用") && page.html.contains("核时"), "{}", page.html);
}

#[tokio::test]
async fn the_csv_has_the_page_s_rows_and_is_safe_to_open_in_a_spreadsheet() {
    let w = world().await;
    let p = &w.p;
    let alice = sign_in(p, "alice").await;
    let csv = send(p, get("/usage.csv?from=2026-10&to=2026-11&lang=en", Some(&alice))).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.html);
    assert_eq!(csv.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    let disposition = csv.headers.get("content-disposition").unwrap().to_str().unwrap();
    assert!(disposition.starts_with("attachment;") && disposition.contains(".csv"), "{disposition}");
    let text = csv.html.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("Month,Member,Jobs,Core-hours"), "{text}");
    let api_token = p.login("alice").await;
    let october = api_usage(p, &api_token, "user", "2026-10").await;
    let row = &october["rows"][0];
    let expected = format!(
        "2026-10,alice,1,{},{},{},{},{}",
        row["core_hours"].as_str().unwrap(),
        row["gpu_hours"].as_str().unwrap(),
        row["cny_charged"].as_str().unwrap(),
        row["su_used"].as_str().unwrap(),
        row["welfare_core_hours"].as_str().unwrap()
    );
    assert_eq!(lines[1], expected, "{text}");
    assert!(lines[2].starts_with("2026-11,dave,1,"), "{text}");
    assert_eq!(lines.len(), 3, "{text}");
    // The statement's CSV: the planted reference cannot run as a formula.
    let carol = sign_in(p, "carol").await;
    let month = jiff::Zoned::now().strftime("%Y-%m").to_string();
    let csv = send(p, get(&format!("/statement.csv?month={month}&lang=en"), Some(&carol))).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.html);
    assert_eq!(csv.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert!(csv.html.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\")"), "{}", csv.html);
    assert!(!csv.html.contains(",=HYPERLINK"), "{}", csv.html);
    assert!(csv.html.contains(",1000.00,"), "the amount stays a number: {}", csv.html);
}

#[tokio::test]
async fn the_tenant_admin_s_statement_leads_to_each_job_and_others_are_refused() {
    let w = world().await;
    let p = &w.p;
    let carol = sign_in(p, "carol").await;
    let page = send(p, get("/statement?month=2026-10&lang=en", Some(&carol))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let lines = table(&page.html, "statement-lines");
    let charge = lines.iter().find(|l| l.get(1).is_some_and(|k| k == "Job charge")).expect("a job charge");
    assert_eq!(charge[2], w.jobs[0].to_string(), "{lines:?}");
    assert!(page.html.contains(&format!("<a href=\"/jobs/{}\">", w.jobs[0])), "{}", page.html);
    assert!(!charge[7].is_empty(), "the price version: {charge:?}");
    assert!(charge[5].starts_with("-¥"), "a charge lowers the balance: {charge:?}");
    // The month of the top-up: the planted reference is escaped.
    let month = jiff::Zoned::now().strftime("%Y-%m").to_string();
    let page = send(p, get(&format!("/statement?month={month}"), Some(&carol))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("&#60;script&#62;") && !page.html.contains("<script>alert"), "{}", page.html);
    assert!(!page.html.contains("<img src=x"), "{}", page.html);
    assert!(page.html.contains("充值") && page.html.contains("¥1,000.00"), "{}", page.html);
    // A member has no statement; nobody sees another tenant's; a bad month
    // is said beside the field.
    let alice = sign_in(p, "alice").await;
    let refused = send(p, get("/statement?lang=en", Some(&alice))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    for path in ["/statement?tenant=zju", "/statement.csv?tenant=zju"] {
        let other = send(p, get(path, Some(&carol))).await;
        assert!(other.status == StatusCode::FORBIDDEN || other.status == StatusCode::NOT_FOUND, "{path}");
        assert!(!other.html.contains("Z-1") && !other.html.contains("zproj"), "{path}: {}", other.html);
    }
    for month in ["2026-13", "soon", "2026-1x", "%3Cscript%3E"] {
        let bad = send(p, get(&format!("/statement?month={month}&lang=en"), Some(&carol))).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{month}: {}", bad.html);
        assert!(bad.html.contains("id=\"month-error\"") && bad.html.contains("invalid month"), "{}", bad.html);
        assert!(!bad.html.contains("<script>"), "{}", bad.html);
        let csv = send(p, get(&format!("/statement.csv?month={month}"), Some(&carol))).await;
        assert_eq!(csv.status, StatusCode::BAD_REQUEST, "{month}");
    }
}

#[tokio::test]
async fn bad_months_are_said_beside_the_fields() {
    let w = world().await;
    let p = &w.p;
    let alice = sign_in(p, "alice").await;
    for (query, says) in [
        ("from=2026-13&to=2026-11", "invalid month"),
        ("from=abc", "invalid month"),
        ("from=2026-11&to=2026-10", "The last month is before the first."),
        ("from=2020-01&to=2026-11", "At most 36 months at a time."),
        ("to=%22%3E%3Cscript%3E", "invalid month"),
    ] {
        let page = send(p, get(&format!("/usage?{query}&lang=en"), Some(&alice))).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}: {}", page.html);
        assert!(page.html.contains("id=\"month-error\"") && page.html.contains(says), "{query}: {}", page.html);
        assert!(!page.html.contains("<script>") && !page.html.contains("<svg"), "{query}: {}", page.html);
        let csv = send(p, get(&format!("/usage.csv?{query}"), Some(&alice))).await;
        assert_eq!(csv.status, StatusCode::BAD_REQUEST, "{query}");
    }
    let chinese = send(p, get("/usage?from=2026-11&to=2026-10", Some(&alice))).await;
    assert!(chinese.html.contains("截止月份早于起始月份"), "{}", chinese.html);
    // Signed out: to the sign-in page.
    let out = send(p, get("/usage", None)).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_password_is_changed_only_with_the_current_one_and_errors_stand_beside_their_fields() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.admin(
        Method::POST,
        "/api/v1/users",
        json!({"name": "alice", "tenant": "jxu", "password": "password-123", "display_name": PLANTED}),
    )
    .await;
    let alice = sign_in(&p, "alice").await;
    let page = send(&p, get("/profile?lang=en", Some(&alice))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("&#60;script&#62;") && !page.html.contains("<script>alert"), "{}", page.html);
    assert!(!page.html.contains("<img src=x"), "{}", page.html);
    let csrf = csrf_of(&page.html);
    for (form, status, beside, says) in [
        (
            "current=wrong-wrong&new=password-456&repeat=password-456",
            403,
            "current-error",
            "The current password is wrong.",
        ),
        ("current=&new=password-456&repeat=password-456", 400, "current-error", "Enter your current password."),
        (
            "current=password-123&new=password-456&repeat=password-457",
            400,
            "repeat-error",
            "The two new passwords differ.",
        ),
        ("current=password-123&new=short&repeat=short", 400, "new-error", "at least 8 characters"),
    ] {
        let answer = send(&p, post("/profile/password?lang=en", Some(&alice), &format!("csrf={csrf}&{form}"))).await;
        assert_eq!(answer.status.as_u16(), status, "{form}: {}", answer.html);
        assert!(
            answer.html.contains(&format!("id=\"{beside}\"")) && answer.html.contains(says),
            "{form}: {}",
            answer.html
        );
        assert!(answer.html.contains("aria-invalid=\"true\""), "{form}");
    }
    let chinese = send(
        &p,
        post("/profile/password", Some(&alice), &format!("csrf={csrf}&current=x&new=password-456&repeat=password-456")),
    )
    .await;
    assert!(chinese.html.contains("当前密码不正确"), "{}", chinese.html);
    // None of that changed it; a form without the session's key neither.
    p.login("alice").await;
    let stale = send(
        &p,
        post("/profile/password", Some(&alice), "csrf=nope&current=password-123&new=password-456&repeat=password-456"),
    )
    .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    p.login("alice").await;
    // The right one: changed, and said so.
    let done = send(
        &p,
        post(
            "/profile/password",
            Some(&alice),
            &format!("csrf={csrf}&current=password-123&new=password-456&repeat=password-456"),
        ),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(done.headers.get("location").unwrap(), "/profile?done=password");
    let said = send(&p, get("/profile?done=password&lang=en", Some(&alice))).await;
    assert!(said.html.contains("Your password has been changed."), "{}", said.html);
    let login = json!({"user": "alice", "password": "password-456"});
    assert_eq!(p.call(Method::POST, "/api/v1/login", None, Some(login)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_language_setting_is_kept_on_the_server_and_chosen_after_the_query_and_the_cookie() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let token = p.user("alice", "jxu", "member").await;
    let alice = sign_in(&p, "alice").await;
    let with = |path: &str, cookie: Option<&str>, accept: Option<&str>| {
        let mut request = get(path, Some(&alice));
        if let Some(cookie) = cookie {
            let both = format!("__Host-lushan-session={alice}; lushan-lang={cookie}");
            request.headers_mut().insert("cookie", both.parse().unwrap());
        }
        if let Some(accept) = accept {
            request.headers_mut().insert("accept-language", accept.parse().unwrap());
        }
        request
    };
    assert!(send(&p, with("/profile", None, None)).await.html.contains("<html lang=\"zh-CN\">"));
    let page = send(&p, get("/profile", Some(&alice))).await;
    let csrf = csrf_of(&page.html);
    // A language the portal does not speak: refused, nothing set.
    let bad = send(&p, post("/profile/language", Some(&alice), &format!("csrf={csrf}&language=fr"))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    let me = p.call(Method::GET, "/api/v1/whoami", Some(&token), None).await;
    assert!(me.body.get("language").is_none(), "{}", me.body);
    // English: kept on the server, and the browser's cookie follows it.
    let set = send(&p, post("/profile/language", Some(&alice), &format!("csrf={csrf}&language=en"))).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.html);
    assert!(set.headers.get("set-cookie").unwrap().to_str().unwrap().starts_with("lushan-lang=en;"));
    let me = p.call(Method::GET, "/api/v1/whoami", Some(&token), None).await;
    assert_eq!(me.body["language"], "en", "{}", me.body);
    // The order: ?lang, the cookie, the setting, the browser.
    let cases = [
        ("/profile", None, Some("zh-CN,zh;q=0.9"), "en"),
        ("/profile", Some("zh-CN"), Some("en"), "zh-CN"),
        ("/profile?lang=zh-CN", Some("en"), None, "zh-CN"),
        ("/", None, None, "en"),
        ("/profile?lang=fr", Some("fr"), Some("zh"), "en"),
    ];
    for (path, cookie, accept, lang) in cases {
        let page = send(&p, with(path, cookie, accept)).await;
        assert!(page.html.contains(&format!("<html lang=\"{lang}\">")), "{path} {cookie:?} {accept:?}");
    }
    assert!(send(&p, with("/profile", None, None)).await.html.contains("selected>English</option>"));
    // The API sets it too; `null` forgets it (the browser's language again).
    let reply = p.call(Method::PUT, "/api/v1/whoami/language", Some(&token), Some(json!({"language": null}))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(send(&p, with("/profile", None, Some("zh"))).await.html.contains("<html lang=\"zh-CN\">"));
    for wrong in ["xx", "", "EN", " en", "zh"] {
        let body = json!({ "language": wrong });
        let reply = p.call(Method::PUT, "/api/v1/whoami/language", Some(&token), Some(body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{wrong:?}: {}", reply.body);
    }
    let me = p.call(Method::GET, "/api/v1/whoami", Some(&token), None).await;
    assert!(me.body.get("language").is_none(), "nothing refused set it: {}", me.body);
    let reply = p.call(Method::PUT, "/api/v1/whoami/language", Some(&token), Some(json!({"language": "zh-CN"}))).await;
    assert_eq!(reply.body["language"], "zh-CN", "{}", reply.body);
}

#[tokio::test]
async fn api_tokens_are_made_shown_once_used_and_revoked_and_the_session_s_is_marked() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "zju", "sector": "university"})).await;
    p.user("alice", "jxu", "member").await;
    let bob = p.user("bob", "zju", "member").await;
    let alice = sign_in(&p, "alice").await;
    let page = send(&p, get("/profile?lang=en", Some(&alice))).await;
    let rows = table(&page.html, "tokens");
    let session_rows: Vec<&Vec<String>> =
        rows.iter().filter(|r| r.get(1).is_some_and(|n| n.contains("This session"))).collect();
    assert_eq!(session_rows.len(), 1, "one token is this session's: {rows:?}");
    assert!(page.html.contains("Revoke and sign out"), "{}", page.html);
    let csrf = csrf_of(&page.html);
    let before = rows.len();
    // A bad name: beside the field, escaped, nothing made.
    let bad =
        send(&p, post("/profile/tokens?lang=en", Some(&alice), &format!("csrf={csrf}&name=%3Cscript%3E&expires=30d")))
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    assert!(bad.html.contains("id=\"token-name-error\"") && !bad.html.contains("<script>"), "{}", bad.html);
    assert!(bad.html.contains("value=\"&#60;script&#62;\""), "the name is kept to correct: {}", bad.html);
    let odd = send(&p, post("/profile/tokens", Some(&alice), &format!("csrf={csrf}&name=ok&expires=forever"))).await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST, "{}", odd.html);
    assert_eq!(table(&send(&p, get("/profile", Some(&alice))).await.html, "tokens").len(), before);
    // Made: the secret once, with the CLI's variables; it works.
    let made =
        send(&p, post("/profile/tokens?lang=en", Some(&alice), &format!("csrf={csrf}&name=laptop&expires=30d"))).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.html);
    assert_eq!(made.headers.get("cache-control").unwrap(), "no-store");
    let secret = made.html.split("<pre class=\"secret\" id=\"secret\">").nth(1).unwrap().split('<').next().unwrap();
    assert!(secret.starts_with("lsh_"), "{secret}");
    assert!(made.html.contains(&format!("export LUSHAN_TOKEN={secret}")) && made.html.contains("export LUSHAN_URL="));
    let me = p.call(Method::GET, "/api/v1/whoami", Some(secret), None).await;
    assert_eq!(me.body["user"]["name"], "alice", "{}", me.body);
    let listed = send(&p, get("/profile?lang=en", Some(&alice))).await;
    assert!(!listed.html.contains(secret), "the secret is never shown again");
    let rows = table(&listed.html, "tokens");
    let laptop = rows.iter().find(|r| r.get(1).is_some_and(|n| n == "laptop")).expect("listed");
    assert_eq!(laptop[2], "Active");
    let id = laptop[0].clone();
    // Bad ids and another user's token: refused, nothing revoked.
    let bobs = p.call(Method::GET, "/api/v1/tokens", Some(&bob), None).await.body[0]["id"].as_i64().unwrap();
    for (path, status) in [
        ("/profile/tokens/abc/revoke".to_owned(), StatusCode::BAD_REQUEST),
        ("/profile/tokens/99999/revoke".to_owned(), StatusCode::NOT_FOUND),
        (format!("/profile/tokens/{bobs}/revoke"), StatusCode::NOT_FOUND),
    ] {
        let answer = send(&p, post(&path, Some(&alice), &format!("csrf={csrf}"))).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.html);
    }
    assert_eq!(p.call(Method::GET, "/api/v1/whoami", Some(&bob), None).await.status, StatusCode::OK);
    let stale = send(&p, post(&format!("/profile/tokens/{id}/revoke"), Some(&alice), "csrf=stale")).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    // Revoked: the CLI's token no longer works; the session goes on.
    let revoked = send(&p, post(&format!("/profile/tokens/{id}/revoke"), Some(&alice), &format!("csrf={csrf}"))).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.html);
    assert_eq!(revoked.headers.get("location").unwrap(), "/profile");
    assert_eq!(p.call(Method::GET, "/api/v1/whoami", Some(secret), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&p, get("/profile", Some(&alice))).await.status, StatusCode::OK);
    // Revoking this session's own token signs out, as its button says.
    let session_id = session_rows[0][0].clone();
    let out =
        send(&p, post(&format!("/profile/tokens/{session_id}/revoke"), Some(&alice), &format!("csrf={csrf}"))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.headers.get("location").unwrap(), "/login");
    assert!(out.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(send(&p, get("/profile", Some(&alice))).await.status, StatusCode::SEE_OTHER);
}
