//! The co-builder's page and the project page's burn-down, limits and
//! usage through the real router: a co-building tenant's admin sees its
//! nodes, own and guests' use, preemptions and earnings (the settlement's
//! figures); a tenant with no co-built nodes is told so; members and other
//! tenants are refused; a grant's forecast run-out day with known numbers;
//! bad input; escaping.

use crate::common::Platform;
use crate::portal::{get, send, sign_in};
use crate::portal_usage::submit;
use axum::http::{Method, StatusCode};
use lushan_model::{JobId, JobState};
use serde_json::json;

const PLANTED: &str = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;

/// Runs job `job` for `secs` seconds on `cores` of `owner`'s nodes and
/// settles it at noon (UTC) of `day`, ended as `state`.
async fn settle_on(p: &Platform, job: i64, day: &str, secs: i64, owner: &str, state: JobState) {
    let owner = p.store.tenant_by_name(owner).await.unwrap().id;
    let end = format!("{day}T12:00:00Z").parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let start = end - secs * 1000;
    assert!(p.store.start_job(JobId(job), start, "vm", "{}").await.unwrap(), "job {job} started");
    let done = lushan_store::JobEnd {
        state,
        reason: "None".into(),
        time: end,
        exit_code: Some(0),
        exit_signal: None,
        max_rss_kib: None,
        total_cpu_ms: None,
        nodes: vec![lushan_ledger::NodeShare { owner, cores: 1 }],
        start: Some(start),
    };
    assert!(p.store.end_job(JobId(job), JobState::Running, &done, None).await.unwrap(), "job {job} ended");
}

struct World {
    p: Platform,
    /// jxu's own job, zju's guest job, zju's preempted guest job (all 2026-11).
    jobs: [i64; 3],
}

/// jxu co-built the node `vm`; zju's jobs ran there as guests.
async fn world() -> World {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "zju", "sector": "enterprise"})).await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "nju", "sector": "university"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    p.user("carol", "jxu", "tenant-admin").await;
    let bob = p.user("bob", "zju", "member").await;
    p.user("zed", "zju", "tenant-admin").await;
    p.user("nina", "nju", "tenant-admin").await;
    p.user("op", "centre", "operator").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "guest-lab", "tenant": "zju", "pi": "bob"})).await;
    for tenant in ["jxu", "zju"] {
        p.admin(
            Method::POST,
            &format!("/api/v1/tenants/{tenant}/wallet/top-ups"),
            json!({"amount": "1000", "reference": format!("T-{tenant}")}),
        )
        .await;
    }
    p.admin(Method::PUT, "/api/v1/owner-share", json!({"percent": "50"})).await;
    p.admin(Method::PUT, "/api/v1/sites/local/nodes/vm/owner", json!({"owner": "jxu"})).await;
    let own = submit(&p, &alice, "cfd-lab").await;
    let guest = submit(&p, &bob, "guest-lab").await;
    let preempted = submit(&p, &bob, "guest-lab").await;
    settle_on(&p, own, "2026-11-10", 7200, "jxu", JobState::Completed).await;
    settle_on(&p, guest, "2026-11-12", 3600, "jxu", JobState::Completed).await;
    settle_on(&p, preempted, "2026-11-14", 1800, "jxu", JobState::Preempted).await;
    World { p, jobs: [own, guest, preempted] }
}

#[tokio::test]
async fn a_co_builder_s_admin_sees_its_nodes_own_and_guests_use_preemptions_and_earnings() {
    let w = world().await;
    let p = &w.p;
    let [own, guest, preempted] = w.jobs;
    let carol = sign_in(p, "carol").await;
    let page = send(p, get("/cobuilder?to=2026-12&lang=en", Some(&carol))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    // Its node, and the menu link.
    assert!(page.html.contains("<a href=\"/cobuilder\" aria-current=\"page\">"), "the menu's link");
    assert!(page.html.contains("id=\"cobuilder-nodes\"") && page.html.contains(">vm<"), "{}", page.html);
    // The month's figures are the API's settlement.
    let token = p.login("carol").await;
    let api = p.call(Method::GET, "/api/v1/tenants/jxu/settlement?month=2026-11", Some(&token), None).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let (own_h, guest_h, earned) = (
        api.body["own_core_hours"].as_str().unwrap().to_owned(),
        api.body["guest_core_hours"].as_str().unwrap().to_owned(),
        api.body["earned"].as_str().unwrap().to_owned(),
    );
    assert_eq!((own_h.as_str(), guest_h.as_str()), ("2.00", "1.50"), "{}", api.body);
    assert_ne!(earned, "0.00", "guests paid the owner a share: {}", api.body);
    let row = format!(
        "<tr><td>2026-11</td><td class=\"num\">3</td><td class=\"num\">{own_h}</td><td class=\"num\">{guest_h}</td><td class=\"num\">1</td><td class=\"num\">¥{earned}</td>"
    );
    assert!(page.html.contains(&row), "{row}\n{}", page.html);
    // Three charts, each an accessible SVG with its figures in words.
    for chart in ["chart-own", "chart-guest", "chart-earned"] {
        let at = page.html.find(&format!("id=\"{chart}\"")).unwrap_or_else(|| panic!("{chart}"));
        let svg = &page.html[page.html[..at].rfind("<svg").unwrap()..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        assert!(svg.contains(&format!("<title id=\"{chart}-title\">")) && svg.contains("2026-11: "), "{svg}");
    }
    // The preempted guest's job, not linked: it is zju's job, not jxu's to open.
    let table = &page.html[page.html.find("id=\"cobuilder-preempted\"").expect("the preemptions")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(
        table.contains(&format!("<td>{preempted}</td>")) && !table.contains(&format!("/jobs/{preempted}")),
        "{table}"
    );
    assert!(!table.contains(&format!(">{guest}<")), "only the preempted one: {table}");
    // The month's detail: every run that ran on its nodes; its own job links.
    let detail = send(p, get("/cobuilder?month=2026-11&to=2026-12&lang=en", Some(&carol))).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.html.contains(&format!("<a href=\"/jobs/{own}\">{own}</a>")), "{}", detail.html);
    assert!(detail.html.contains(&format!("<td>{guest}</td>")), "{}", detail.html);
    assert!(detail.html.contains(&format!("id=\"detail-earned\" class=\"big\">¥{earned}<")), "{}", detail.html);
    assert!(detail.html.contains(">guest-lab<") && detail.html.contains(">bob<"), "who ran it");
    assert_eq!(detail.html.matches("<script").count(), 1, "no script but htmx");
    // What the user typed comes back escaped.
    let planted = send(p, get(&format!("/cobuilder?to={}&lang=en", urlencoding(PLANTED)), Some(&carol))).await;
    assert_eq!(planted.status, StatusCode::BAD_REQUEST, "{}", planted.html);
    assert!(!planted.html.contains("<script>alert") && planted.html.contains("&#60;script&#62;"), "{}", planted.html);
    // Operators choose the tenant; in Chinese by default, with the glossary's words.
    let op = sign_in(p, "op").await;
    let pick = send(p, get("/cobuilder?lang=en", Some(&op))).await;
    assert_eq!(pick.status, StatusCode::OK, "{}", pick.html);
    assert!(pick.html.contains("id=\"pick-tenant\"") && pick.html.contains("id=\"tenant\""), "{}", pick.html);
    let theirs = send(p, get("/cobuilder?tenant=jxu&to=2026-12", Some(&op))).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.html);
    assert!(
        theirs.html.contains("共建") && theirs.html.contains("借用方") && theirs.html.contains("抢占"),
        "{}",
        theirs.html
    );
    assert!(theirs.html.contains("name=\"tenant\" value=\"jxu\""), "the form keeps the tenant");
    assert!(theirs.html.contains(&format!("<a href=\"/jobs/{guest}\">")) || theirs.html.contains("cobuilder-months"));
}

#[tokio::test]
async fn a_tenant_without_co_built_nodes_is_told_so_and_others_are_refused() {
    let w = world().await;
    let p = &w.p;
    // nju co-built nothing: the empty state says what to do.
    let nina = sign_in(p, "nina").await;
    let page = send(p, get("/cobuilder?lang=en", Some(&nina))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("id=\"no-cobuilt\"") && page.html.contains("ask the centre"), "{}", page.html);
    assert!(!page.html.contains("id=\"cobuilder-months\""));
    // A plain member (even jxu's) is refused; another tenant's admin too.
    let alice = sign_in(p, "alice").await;
    let refused = send(p, get("/cobuilder?lang=en", Some(&alice))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    for (who, path) in [("zed", "/cobuilder?tenant=jxu"), ("nina", "/cobuilder?tenant=jxu&month=2026-11")] {
        let session = sign_in(p, who).await;
        let page = send(p, get(path, Some(&session))).await;
        assert!(matches!(page.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{who}: {}", page.status);
        assert!(!page.html.contains(">vm<") && !page.html.contains("cfd-lab"), "{who}: {}", page.html);
    }
    // Signed out: the sign-in page.
    assert_eq!(send(p, get("/cobuilder", None)).await.status, StatusCode::SEE_OTHER);
    // Bad input: a clear page in the user's language, never a 500.
    let carol = sign_in(p, "carol").await;
    for path in [
        "/cobuilder?to=soon",
        "/cobuilder?month=2026-13",
        "/cobuilder?from=2026-12&to=2026-01",
        "/cobuilder?from=2020-01&to=2026-12",
        "/cobuilder?month=2026-11&page=0",
    ] {
        let page = send(p, get(&format!("{path}&lang=en"), Some(&carol))).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}: {}", page.html);
        assert!(!page.html.contains(">vm<") || page.html.contains("role=\"alert\""), "{path}");
    }
    let page = send(p, get("/cobuilder?to=soon", Some(&carol))).await;
    assert!(page.html.contains("月份") || page.html.contains("无效"), "{}", page.html);
    let unknown =
        send(p, get(&format!("/cobuilder?tenant={}", urlencoding(PLANTED)), Some(&sign_in(p, "op").await))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.html);
    assert!(!unknown.html.contains("<script>alert"), "escaped");
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A day `offset` days from today, `YYYY-MM-DD` in the server's zone.
fn today_plus(offset: i64) -> String {
    let day = jiff::Zoned::now().date().checked_add(jiff::Span::new().days(offset)).unwrap();
    day.strftime("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn a_grant_s_burn_down_forecasts_its_run_out_day_from_the_recent_rate() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    let dave = p.user("dave", "jxu", "member").await;
    p.user("op", "centre", "operator").await;
    let op = p.login("op").await;
    // Two projects, each with an approved grant that started 10 days ago.
    for (project, hours, last) in [("cfd-lab", 100, 40), ("long-lab", 1000, 40)] {
        p.admin(Method::POST, "/api/v1/projects", json!({"name": project, "tenant": "jxu", "pi": "alice"})).await;
        p.admin(Method::POST, &format!("/api/v1/projects/{project}/members"), json!({"user": "dave"})).await;
        let request = json!({"project": project, "core_hours": hours, "from": today_plus(-10), "to": today_plus(last), "reason": PLANTED});
        let reply = p.call(Method::POST, "/api/v1/grants", Some(&alice), Some(request)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let id = reply.body["id"].as_i64().unwrap();
        let reply = p.call(Method::POST, &format!("/api/v1/grants/{id}/approve"), Some(&op), Some(json!({}))).await;
        assert!(reply.status.is_success(), "{}", reply.body);
        // 40 SU used: a one-core job of 40 hours, settled 5 days ago.
        let job = submit(&p, &alice, project).await;
        crate::portal_usage::settle(&p, job, &today_plus(-5), 40 * 3600).await;
    }
    let grants = p.call(Method::GET, "/api/v1/grants?project=cfd-lab", Some(&op), None).await;
    let grant = grants.body.as_array().and_then(|g| g.first()).cloned().unwrap_or(grants.body.clone());
    let grant = if grant.is_array() { grant[0].clone() } else { grant };
    let id = grant["id"].as_i64().unwrap_or_else(|| panic!("{}", grants.body));
    assert_eq!(grant["used_su"].as_str(), Some("40.00"), "{grant}");
    let session = sign_in(&p, "alice").await;
    let page = send(&p, get("/projects/cfd-lab?lang=en", Some(&session))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    // 60 left at 4 a day: 15 days from today.
    assert!(page.html.contains(&format!("id=\"burn-{id}-used\">40.00<")), "{}", page.html);
    assert!(page.html.contains(&format!("id=\"burn-{id}-rate\">4.00<")), "{}", page.html);
    assert!(
        page.html.contains(&format!("id=\"burn-{id}-forecast\" class=\"forecast\">{}<", today_plus(15))),
        "{}",
        page.html
    );
    let at = page.html.find(&format!("id=\"chart-burn-{id}\"")).expect("the burn-down chart");
    let svg = &page.html[page.html[..at].rfind("<svg").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert!(svg.starts_with("<svg role=\"img\"") && svg.contains("<desc"), "{svg}");
    assert!(page.html.contains(&format!("id=\"burn-{id}-table\"")));
    assert!(!page.html.contains("<script>alert") && !page.html.contains("<img src=x"), "escaped");
    assert!(!svg.contains("class=\"held\""), "nothing held yet: {svg}");
    // A waiting job's hold: shaded on the current part, and counted out of what is left.
    submit(&p, &alice, "cfd-lab").await;
    let held = send(&p, get("/projects/cfd-lab?lang=en", Some(&session))).await;
    let at = held.html.find(&format!("id=\"chart-burn-{id}\"")).unwrap();
    let svg = &held.html[held.html[..at].rfind("<svg").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert_eq!(svg.matches("<rect class=\"held\"").count(), 1, "{svg}");
    assert!(!held.html.contains(&format!("id=\"burn-{id}-held\">0.00<")), "{}", held.html);
    // 960 left at 4 a day outlasts the grant's 50 days.
    let long = send(&p, get("/projects/long-lab?lang=en", Some(&session))).await;
    assert!(long.html.contains("Not at this rate"), "{}", long.html);
    // The PI sees the limits (read-only: operators set them) and the usage by member and partition.
    p.admin(Method::PUT, "/api/v1/limits/user/dave", json!({"max_running_jobs": 2})).await;
    let page = send(&p, get("/projects/cfd-lab?lang=en", Some(&session))).await;
    assert!(page.html.contains("id=\"limits\"") && page.html.contains(">dave<"), "{}", page.html);
    assert!(page.html.contains("operators set them"), "who sets them");
    assert!(
        page.html.contains("id=\"project-usage-by-user\"") && page.html.contains("id=\"project-usage-by-partition\"")
    );
    // The usage is the project's jobs only (alice also ran one in long-lab):
    // the usage report narrowed to the project, in the API too.
    let usage = &page.html[page.html.find("id=\"project-usage-by-user\"").unwrap()..];
    let usage = &usage[..usage.find("</table>").unwrap()];
    assert!(usage.contains("<tr class=\"total\"><th scope=\"row\">Total</th><td class=\"num\">1</td>"), "{usage}");
    let token = p.login("alice").await;
    let range = "from=2000-01-01&to=2099-12-31";
    for (query, jobs) in [(format!("by=user&{range}"), 2), (format!("by=user&project=cfd-lab&{range}"), 1)] {
        let reply = p.call(Method::GET, &format!("/api/v1/reports/usage?{query}"), Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["total"]["jobs"], jobs, "{query}: {}", reply.body);
    }
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "zju", "sector": "enterprise"})).await;
    let zed = p.user("zed", "zju", "tenant-admin").await;
    let path = format!("/api/v1/reports/usage?by=user&project=cfd-lab&{range}");
    let reply = p.call(Method::GET, &path, Some(&zed), None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "another tenant's project: {}", reply.body);
    // A plain member sees the grants but not the burn-down or the usage.
    let dave_session = sign_in(&p, "dave").await;
    let page = send(&p, get("/projects/cfd-lab?lang=en", Some(&dave_session))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(!page.html.contains("chart-burn-") && !page.html.contains("project-usage-by-user"), "{}", page.html);
    let _ = dave;
}
