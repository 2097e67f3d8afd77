//! The portal's managing pages through the real router: README's tour in
//! the browser's forms (tenant, user with its one-time password, project,
//! top-up, grant request, review, decision), each refusal a clear page with
//! nothing changed, and what users typed escaped. (A real browser drives
//! the same tour in `it::portal_manage`.)

use crate::common::Platform;
use crate::portal::{PLANTED, assert_escaped, form_of as form, get, open_page as open, post, send, sign_in};
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn balance(p: &Platform, tenant: &str) -> String {
    let wallet = p.call(Method::GET, &format!("/api/v1/tenants/{tenant}/wallet"), Some(&p.operator_token), None).await;
    wallet.body["balance"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_tour_is_done_in_the_portal_from_a_new_tenant_to_an_approved_grant() {
    let p = Platform::new().await;
    let op = p.operator_token.clone();
    // The operator creates a tenant with its sector.
    let (tenants, csrf) = open(&p, "/manage/tenants?lang=en", &op).await;
    assert!(tenants.html.contains("Create a tenant") && tenants.html.contains("centre"), "{}", tenants.html);
    let fields = [("name", "jxu"), ("display_name", "江西大学"), ("sector", "university")];
    let created = send(&p, post("/manage/tenants", Some(&op), &form(&csrf, &fields))).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    assert_eq!(created.headers.get("location").unwrap(), "/manage/tenants/jxu");
    let again = send(&p, post("/manage/tenants?lang=en", Some(&op), &form(&csrf, &fields))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.html);
    assert!(again.html.contains("id=\"create-name-error\"") && again.html.contains("value=\"jxu\""), "{}", again.html);
    // Its page: the wallet, and a top-up.
    let (tenant, _) = open(&p, "/manage/tenants/jxu?lang=zh-CN", &op).await;
    assert!(tenant.html.contains("江西大学") && tenant.html.contains("¥0.00") && tenant.html.contains("高校"));
    let top_up = form(&csrf, &[("amount", "5000"), ("reference", "INV-2026-113")]);
    let done = send(&p, post("/manage/tenants/jxu/top-up", Some(&op), &top_up)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let (tenant, _) = open(&p, "/manage/tenants/jxu", &op).await;
    assert!(tenant.html.contains("¥5,000.00"), "{}", tenant.html);
    // Bad amounts and a reference posted twice: the page says why beside
    // the form, in its language, and the balance is unchanged.
    for (amount, reference, status) in [
        ("1e9", "R-1", StatusCode::BAD_REQUEST),
        ("-5", "R-2", StatusCode::BAD_REQUEST),
        ("abc", "R-3", StatusCode::BAD_REQUEST),
        ("", "R-4", StatusCode::BAD_REQUEST),
        ("10", "", StatusCode::BAD_REQUEST),
        ("10", "INV-2026-113", StatusCode::CONFLICT),
    ] {
        let bad = form(&csrf, &[("amount", amount), ("reference", reference)]);
        let page = send(&p, post("/manage/tenants/jxu/top-up?lang=en", Some(&op), &bad)).await;
        assert_eq!(page.status, status, "{amount} {reference}: {}", page.html);
        let beside = if reference.is_empty() || amount == "10" { "reference" } else { "amount" };
        assert!(page.html.contains(&format!("id=\"top-up-{beside}-error\"")), "{}", page.html);
        assert!(page.html.contains("The input is not valid") || page.html.contains("This cannot be done now"));
        assert_eq!(balance(&p, "jxu").await, "5000.00", "{amount} {reference}");
    }
    // A user, with the one-time password shown once on the result page.
    let (users, _) = open(&p, "/manage/users?lang=en", &op).await;
    assert!(users.html.contains("Create a user") && users.html.contains("<option value=\"jxu\""), "{}", users.html);
    let fields = [("name", "alice"), ("tenant", "jxu"), ("role", "member"), ("unix_account", "")];
    let made = send(&p, post("/manage/users?lang=en", Some(&op), &form(&csrf, &fields))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    assert_eq!(made.headers.get("cache-control").unwrap(), "no-store");
    let password = made.html.split("id=\"one-time-password\">").nth(1).unwrap().split('<').next().unwrap();
    assert!(password.len() >= 12, "{password}");
    let listed = send(&p, get("/manage/users", Some(&op))).await;
    assert!(listed.html.contains(">alice<") && !listed.html.contains(password), "shown once only");
    let signed_in = send(&p, post("/login", None, &format!("user=alice&password={password}"))).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "the one-time password signs alice in");
    let alice = signed_in.headers.get("set-cookie").unwrap().to_str().unwrap();
    let alice = alice.trim_start_matches("__Host-lushan-session=").split(';').next().unwrap().to_owned();
    // A project with alice as its PI.
    let fields = [("name", "cfd-lab"), ("tenant", "jxu"), ("pi", "alice"), ("description", "CFD group")];
    let project = send(&p, post("/manage/projects", Some(&op), &form(&csrf, &fields))).await;
    assert_eq!(project.status, StatusCode::SEE_OTHER, "{}", project.html);
    assert_eq!(project.headers.get("location").unwrap(), "/projects/cfd-lab");
    let bad_pi = [("name", "other-lab"), ("tenant", "jxu"), ("pi", "nobody"), ("description", "")];
    let refused = send(&p, post("/manage/projects?lang=en", Some(&op), &form(&csrf, &bad_pi))).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.html);
    assert!(refused.html.contains("id=\"create-pi-error\""), "{}", refused.html);
    // The PI adds a member and requests a grant.
    p.user("bob", "jxu", "member").await;
    let (page, alice_csrf) = open(&p, "/projects/cfd-lab?lang=en", &alice).await;
    assert!(page.html.contains("Request a public-welfare grant") && page.html.contains("id=\"no-grants\""));
    let add = form(&alice_csrf, &[("user", "bob"), ("role", "manager")]);
    assert_eq!(send(&p, post("/projects/cfd-lab/members", Some(&alice), &add)).await.status, StatusCode::SEE_OTHER);
    let (page, _) = open(&p, "/projects/cfd-lab?lang=en", &alice).await;
    assert!(page.html.contains(">bob<") && page.html.contains("Manager"), "{}", page.html);
    let request = |core: &str| {
        form(
            &alice_csrf,
            &[("core_hours", core), ("gpu_hours", ""), ("from", "2026-12-01"), ("to", "2027-05-31"), ("reason", "CFD")],
        )
    };
    for bad in ["abc", "-5", "1e9", "0", "100000001"] {
        let page = send(&p, post("/projects/cfd-lab/grants?lang=en", Some(&alice), &request(bad))).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}: {}", page.html);
        assert!(page.html.contains("id=\"grant-core_hours-error\"") && page.html.contains("The input is not valid"));
    }
    let none = p.call(Method::GET, "/api/v1/grants", Some(&op), None).await;
    assert_eq!(none.body.as_array().unwrap().len(), 0, "refused requests change nothing");
    let sent = send(&p, post("/projects/cfd-lab/grants", Some(&alice), &request("1000"))).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    let grants = p.call(Method::GET, "/api/v1/grants", Some(&op), None).await;
    let id = grants.body[0]["id"].as_i64().unwrap();
    // A reviewer of another tenant scores it; bad scores change nothing.
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "nsfc", "sector": "government"})).await;
    let reviewer = p.user("rev", "nsfc", "reviewer").await;
    let (reviews, rev_csrf) = open(&p, "/reviews?lang=en", &reviewer).await;
    assert!(reviews.html.contains(&format!("action=\"/reviews/{id}\"")) && reviews.html.contains("cfd-lab"));
    assert!(reviews.html.contains("The project had no earlier grant."), "{}", reviews.html);
    assert!(reviews.html.contains("usage in the past year"), "{}", reviews.html);
    assert!(reviews.html.contains("No job of the project was settled in this period."), "{}", reviews.html);
    for score in ["9", "0", "abc", ""] {
        let bad = form(&rev_csrf, &[("score", score), ("comment", "x")]);
        let page = send(&p, post(&format!("/reviews/{id}?lang=en"), Some(&reviewer), &bad)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{score}: {}", page.html);
        assert!(page.html.contains(&format!("id=\"{id}-score-error\"")), "{}", page.html);
    }
    let grant = p.call(Method::GET, &format!("/api/v1/grants/{id}"), Some(&op), None).await;
    assert_eq!(grant.body["reviews"].as_array().unwrap().len(), 0);
    let score = form(&rev_csrf, &[("score", "4"), ("comment", PLANTED)]);
    let scored = send(&p, post(&format!("/reviews/{id}"), Some(&reviewer), &score)).await;
    assert_eq!(scored.status, StatusCode::SEE_OTHER, "{}", scored.html);
    let (reviews, _) = open(&p, "/reviews?lang=en", &reviewer).await;
    assert_escaped(&reviews);
    assert!(reviews.html.contains("Change my score"), "{}", reviews.html);
    assert!(reviews.html.contains("<option value=\"4\" selected>"), "my score, to change: {}", reviews.html);
    // The PI sees the score, not who gave it.
    let (page, _) = open(&p, "/projects/cfd-lab?lang=en", &alice).await;
    assert_escaped(&page);
    assert!(page.html.contains("reviewer 1") && !page.html.contains(">rev<"), "{}", page.html);
    // The operator approves fewer hours than asked (more is refused).
    let (grant_page, _) = open(&p, &format!("/manage/grants/{id}?lang=en"), &op).await;
    assert_escaped(&grant_page);
    assert!(grant_page.html.contains(">rev<") && grant_page.html.contains("4.0"), "{}", grant_page.html);
    let approve = |core: &str| form(&csrf, &[("core_hours", core), ("gpu_hours", "0"), ("reason", "")]);
    for (core, status) in
        [("2000", StatusCode::BAD_REQUEST), ("abc", StatusCode::BAD_REQUEST), ("-5", StatusCode::BAD_REQUEST)]
    {
        let page = send(&p, post(&format!("/manage/grants/{id}/approve?lang=en"), Some(&op), &approve(core))).await;
        assert_eq!(page.status, status, "{core}: {}", page.html);
        assert!(page.html.contains("id=\"approve-core_hours-error\""), "{}", page.html);
    }
    let no_reason =
        send(&p, post(&format!("/manage/grants/{id}/reject"), Some(&op), &form(&csrf, &[("reason", " ")]))).await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST, "a rejection says why");
    let approved = send(&p, post(&format!("/manage/grants/{id}/approve"), Some(&op), &approve("800"))).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.html);
    let grant = p.call(Method::GET, &format!("/api/v1/grants/{id}"), Some(&op), None).await;
    assert_eq!((grant.body["state"].as_str(), grant.body["awarded_su"].as_str()), (Some("approved"), Some("800.00")));
    let twice = send(&p, post(&format!("/manage/grants/{id}/approve"), Some(&op), &approve("800"))).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.html);
    // The PI's page shows it approved, with a renewal offered.
    let (page, _) = open(&p, "/projects/cfd-lab?lang=zh-CN", &alice).await;
    assert!(page.html.contains("已批准") && page.html.contains(&format!("<option value=\"{id}\"")), "{}", page.html);
    // A renewal of the approved grant, from the same form.
    let renewal = form(
        &alice_csrf,
        &[
            ("core_hours", "500"),
            ("from", "2027-06-01"),
            ("to", "2027-11-30"),
            ("reason", "more"),
            ("renews", &id.to_string()),
        ],
    );
    let renewed = send(&p, post("/projects/cfd-lab/grants", Some(&alice), &renewal)).await;
    assert_eq!(renewed.status, StatusCode::SEE_OTHER, "{}", renewed.html);
    let grants = p.call(Method::GET, "/api/v1/grants", Some(&op), None).await;
    assert_eq!(grants.body[0]["renews"], id, "{}", grants.body);
    let (reviews, _) = open(&p, "/reviews?lang=en", &reviewer).await;
    assert!(reviews.html.contains("id=\"my-reviews\""), "my past reviews: {}", reviews.html);
    let listed = send(&p, get("/manage/grants?state=approved", Some(&op))).await;
    assert!(listed.html.contains(&format!("/manage/grants/{id}")), "{}", listed.html);
}

#[tokio::test]
async fn the_services_refuse_what_a_role_may_not_do_and_nothing_changes() {
    let p = Platform::new().await;
    for tenant in ["jxu", "hit"] {
        p.admin(Method::POST, "/api/v1/tenants", json!({"name": tenant, "sector": "university"})).await;
    }
    let admin = p.user("jxu-admin", "jxu", "tenant-admin").await;
    let alice = p.user("alice", "jxu", "member").await;
    let bob = p.user("bob", "jxu", "member").await;
    p.user("carol", "jxu", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "bio-lab", "tenant": "jxu", "pi": "bob"})).await;
    let users_before = p.call(Method::GET, "/api/v1/users", Some(&p.operator_token), None).await.body;
    // A member creating a user: refused, as a page, nothing created.
    let (_, csrf) = open(&p, "/", &alice).await;
    let fields = form(&csrf, &[("name", "mallory"), ("tenant", "jxu"), ("role", "member")]);
    let page = send(&p, post("/manage/users?lang=en", Some(&alice), &fields)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.html);
    assert!(page.html.contains("You may not do this."), "{}", page.html);
    // A tenant admin may not make a reviewer, nor a user of another tenant.
    let (users, admin_csrf) = open(&p, "/manage/users", &admin).await;
    assert!(!users.html.contains("<option value=\"hit\""), "only their own tenant: {}", users.html);
    let reviewer = form(&admin_csrf, &[("name", "mallory"), ("tenant", "jxu"), ("role", "reviewer")]);
    assert_eq!(send(&p, post("/manage/users", Some(&admin), &reviewer)).await.status, StatusCode::FORBIDDEN);
    let elsewhere = form(&admin_csrf, &[("name", "mallory"), ("tenant", "hit"), ("role", "member")]);
    assert_eq!(send(&p, post("/manage/users", Some(&admin), &elsewhere)).await.status, StatusCode::NOT_FOUND);
    let odd_role = form(&admin_csrf, &[("name", "mallory"), ("tenant", "jxu"), ("role", "king")]);
    assert_eq!(send(&p, post("/manage/users", Some(&admin), &odd_role)).await.status, StatusCode::BAD_REQUEST);
    let users_after = p.call(Method::GET, "/api/v1/users", Some(&p.operator_token), None).await.body;
    assert_eq!(users_before, users_after);
    // The tenant list of a tenant admin is their tenant; no create form.
    let (tenants, _) = open(&p, "/manage/tenants", &admin).await;
    assert!(tenants.html.contains(">jxu<") && !tenants.html.contains(">hit<"), "{}", tenants.html);
    assert!(!tenants.html.contains("method=\"post\" action=\"/manage/tenants\""), "{}", tenants.html);
    let top_up = form(&admin_csrf, &[("amount", "10"), ("reference", "SELF-1")]);
    let page = send(&p, post("/manage/tenants/jxu/top-up", Some(&admin), &top_up)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "only operators top up: {}", page.html);
    assert_eq!(balance(&p, "jxu").await, "0.00");
    // The PI of another project adds and removes members of cfd-lab: no.
    let (_, bob_csrf) = open(&p, "/", &bob).await;
    let add = form(&bob_csrf, &[("user", "carol"), ("role", "member")]);
    let page = send(&p, post("/projects/cfd-lab/members", Some(&bob), &add)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.html);
    let remove = send(&p, post("/projects/cfd-lab/members/alice/remove", Some(&bob), &form(&bob_csrf, &[]))).await;
    assert_eq!(remove.status, StatusCode::NOT_FOUND);
    // A plain member of cfd-lab may not add members nor request grants.
    let add = form(&alice_csrf_of(&p, &alice).await, &[("user", "bob"), ("role", "member")]);
    assert_eq!(send(&p, post("/projects/cfd-lab/members", Some(&alice), &add)).await.status, StatusCode::SEE_OTHER);
    let (_, bob_csrf) = open(&p, "/projects/cfd-lab", &bob).await;
    let add = form(&bob_csrf, &[("user", "carol"), ("role", "member")]);
    let page = send(&p, post("/projects/cfd-lab/members?lang=en", Some(&bob), &add)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.html);
    assert!(page.html.contains("id=\"member-error\""), "beside the form: {}", page.html);
    let request =
        form(&bob_csrf, &[("core_hours", "10"), ("from", "2026-12-01"), ("to", "2027-01-31"), ("reason", "x")]);
    let page = send(&p, post("/projects/cfd-lab/grants", Some(&bob), &request)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.html);
    let project = p.call(Method::GET, "/api/v1/projects/cfd-lab", Some(&p.operator_token), None).await;
    assert_eq!(project.body["members"].as_array().unwrap().len(), 2, "{}", project.body);
    // The PI cannot be removed; a member cannot decide or score grants.
    let page = send(&p, post("/projects/cfd-lab/members/alice/remove", Some(&alice), &form(&bob_csrf, &[]))).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "another session's key is refused");
    let alice_csrf = alice_csrf_of(&p, &alice).await;
    let page = send(&p, post("/projects/cfd-lab/members/alice/remove", Some(&alice), &form(&alice_csrf, &[]))).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.html);
    let grant =
        json!({"project": "cfd-lab", "core_hours": 10, "from": "2026-12-01", "to": "2027-01-31", "reason": "x"});
    let grant = p.call(Method::POST, "/api/v1/grants", Some(&alice), Some(grant)).await.body;
    let id = grant["id"].as_i64().unwrap();
    let approve = form(&alice_csrf, &[("core_hours", "10"), ("reason", "")]);
    let page = send(&p, post(&format!("/manage/grants/{id}/approve"), Some(&alice), &approve)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.html);
    let score = form(&alice_csrf, &[("score", "5"), ("comment", "mine")]);
    assert_eq!(send(&p, post(&format!("/reviews/{id}"), Some(&alice), &score)).await.status, StatusCode::FORBIDDEN);
    for path in [format!("/manage/grants/{id}/delete"), "/manage/grants/abc/approve".into()] {
        let page = send(&p, post(&path, Some(&p.operator_token), &approve)).await;
        assert!(page.status.is_client_error(), "{path}: {}", page.status);
    }
    let grant = p.call(Method::GET, &format!("/api/v1/grants/{id}"), Some(&p.operator_token), None).await;
    assert_eq!(grant.body["state"], "requested");
    assert_eq!(grant.body["reviews"].as_array().unwrap().len(), 0);
    // No key, or not signed in: nothing happens.
    let keyless = send(&p, post("/manage/tenants", Some(&p.operator_token), "name=x-y&sector=school")).await;
    assert_eq!(keyless.status, StatusCode::FORBIDDEN);
    let anonymous = send(&p, get("/manage/tenants", None)).await;
    assert_eq!(anonymous.headers.get("location").unwrap(), "/login");
    assert_eq!(send(&p, get("/manage/users?page=0", Some(&admin))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(send(&p, get("/manage/tenants/nowhere", Some(&admin))).await.status, StatusCode::NOT_FOUND);
}

async fn alice_csrf_of(p: &Platform, session: &str) -> String {
    open(p, "/", session).await.1
}

#[tokio::test]
async fn what_users_typed_is_escaped_on_every_managing_page() {
    let p = Platform::new().await;
    let op = p.operator_token.clone();
    let (_, csrf) = open(&p, "/manage/tenants", &op).await;
    let fields = [("name", "jxu"), ("display_name", PLANTED), ("sector", "university")];
    assert_eq!(send(&p, post("/manage/tenants", Some(&op), &form(&csrf, &fields))).await.status, StatusCode::SEE_OTHER);
    let fields = [("name", "alice"), ("display_name", PLANTED), ("tenant", "jxu"), ("role", "member")];
    let made = send(&p, post("/manage/users", Some(&op), &form(&csrf, &fields))).await;
    assert_eq!(made.status, StatusCode::CREATED);
    assert_escaped(&made);
    let fields = [("name", "cfd-lab"), ("tenant", "jxu"), ("pi", "alice"), ("description", PLANTED)];
    assert_eq!(
        send(&p, post("/manage/projects", Some(&op), &form(&csrf, &fields))).await.status,
        StatusCode::SEE_OTHER
    );
    let fields = [("core_hours", "10"), ("from", "2026-12-01"), ("to", "2027-01-31"), ("reason", PLANTED)];
    assert_eq!(
        send(&p, post("/projects/cfd-lab/grants", Some(&op), &form(&csrf, &fields))).await.status,
        StatusCode::SEE_OTHER
    );
    // A refused form keeps what was typed, escaped.
    let fields = [("name", PLANTED), ("sector", "university")];
    let refused = send(&p, post("/manage/tenants", Some(&op), &form(&csrf, &fields))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_escaped(&refused);
    let grants = p.call(Method::GET, "/api/v1/grants", Some(&op), None).await;
    let id = grants.body[0]["id"].as_i64().unwrap();
    for path in [
        "/manage/tenants".to_owned(),
        "/manage/tenants/jxu".into(),
        "/manage/users".into(),
        "/manage/projects".into(),
        "/projects".into(),
        "/projects/cfd-lab".into(),
        "/manage/grants".into(),
        format!("/manage/grants/{id}"),
    ] {
        for lang in ["zh-CN", "en"] {
            let (page, _) = open(&p, &format!("{path}?lang={lang}"), &op).await;
            assert_escaped(&page);
            assert!(page.html.contains(&format!("<html lang=\"{lang}\">")), "{path}");
        }
    }
}

#[tokio::test]
async fn long_lists_come_fifty_a_page_and_empty_ones_say_what_to_do() {
    let p = Platform::new().await;
    let op = p.operator_token.clone();
    let (empty, _) = open(&p, "/manage/projects?lang=en", &op).await;
    assert!(empty.html.contains("No project yet. Create one below"), "{}", empty.html);
    let (grants, _) = open(&p, "/manage/grants?lang=en", &op).await;
    assert!(grants.html.contains("PIs request grants on their project"), "{}", grants.html);
    for i in 0..55 {
        p.admin(Method::POST, "/api/v1/tenants", json!({"name": format!("t{i:02}"), "sector": "school"})).await;
    }
    let (first, _) = open(&p, "/manage/tenants?lang=en", &op).await;
    assert_eq!(first.html.matches("/status\" class=\"inline\"").count(), 50, "fifty rows");
    assert!(first.html.contains("/manage/tenants?page=2") && first.html.contains("Page 1 of 2"));
    let (second, _) = open(&p, "/manage/tenants?page=2&lang=en", &op).await;
    assert_eq!(second.html.matches("/status\" class=\"inline\"").count(), 6, "the rest, with `centre`");
    let beyond = send(&p, get("/manage/tenants?page=abc", Some(&op))).await;
    assert_eq!(beyond.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tenants_users_and_projects_are_filtered_by_name_status_and_tenant_in_the_page_and_the_api() {
    let p = Platform::new().await;
    let op = p.operator_token.clone();
    for (name, sector) in [("jxu", "university"), ("hit", "university"), ("geo-inst", "institute")] {
        p.admin(Method::POST, "/api/v1/tenants", json!({"name": name, "sector": sector})).await;
    }
    p.user("alice", "jxu", "member").await;
    p.user("albert", "hit", "member").await;
    p.user("jxu-admin", "jxu", "tenant-admin").await;
    p.admin(
        Method::POST,
        "/api/v1/projects",
        json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice",
        "description": "Wind tunnel CFD"}),
    )
    .await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "md-lab", "tenant": "hit", "pi": "albert"})).await;
    p.admin(Method::POST, "/api/v1/users/albert/disable", json!({})).await;
    let names = |html: &str, all: &[&str]| -> Vec<String> {
        all.iter().filter(|n| html.contains(&format!(">{n}<"))).map(|n| (*n).to_owned()).collect()
    };
    // The operator: by part of a name, any case; by status; by tenant.
    let (al, _) = open(&p, "/manage/users?q=AL&lang=en", &op).await;
    assert_eq!(names(&al.html, &["alice", "albert", "jxu-admin"]), ["alice", "albert"]);
    assert!(al.html.contains("value=\"AL\"") && al.html.contains("id=\"clear-filter\""), "{}", al.html);
    let (off, _) = open(&p, "/manage/users?q=al&status=disabled&lang=en", &op).await;
    assert_eq!(names(&off.html, &["alice", "albert"]), ["albert"]);
    let (jxu, _) = open(&p, "/manage/users?tenant=jxu&lang=en", &op).await;
    assert_eq!(names(&jxu.html, &["alice", "albert", "jxu-admin"]), ["alice", "jxu-admin"]);
    let (described, _) = open(&p, "/manage/projects?q=tunnel&lang=en", &op).await;
    assert_eq!(names(&described.html, &["cfd-lab", "md-lab"]), ["cfd-lab"], "a project's description counts");
    let (inst, _) = open(&p, "/manage/tenants?q=inst&lang=en", &op).await;
    assert_eq!(names(&inst.html, &["jxu", "hit", "geo-inst"]), ["geo-inst"]);
    let (none, _) = open(&p, "/manage/tenants?q=nothing-like-it&lang=en", &op).await;
    assert!(none.html.contains("Nothing matches the filter."), "{}", none.html);
    // What was typed is escaped; a bad status is a clear 400.
    let planted = send(&p, get("/manage/users?q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", Some(&op))).await;
    assert_eq!(planted.status, StatusCode::OK);
    assert!(!planted.html.contains("<script>alert(1)"), "{}", planted.html);
    let bad = send(&p, get("/manage/users?status=gone", Some(&op))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // A tenant admin's filter stays in the tenant: naming another finds nothing.
    let admin = sign_in(&p, "jxu-admin").await;
    let (theirs, _) = open(&p, "/manage/users?tenant=hit&lang=en", &admin).await;
    assert!(names(&theirs.html, &["alice", "albert"]).is_empty(), "{}", theirs.html);
    assert!(!theirs.html.contains("id=\"filter-tenant\""), "one tenant: no tenant box");
    // The API takes the same filter, by the same service.
    let token = p.login("jxu-admin").await;
    let listed = p.call(Method::GET, "/api/v1/users?q=ali", Some(&token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let listed: Vec<&str> = listed.body.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["alice"]);
    let projects = p.call(Method::GET, "/api/v1/projects?tenant=hit&status=active", Some(&op), None).await;
    assert_eq!(projects.body.as_array().unwrap().len(), 1, "{}", projects.body);
    for status in ["gone", "", "%20active"] {
        let wrong = p.call(Method::GET, &format!("/api/v1/tenants?status={status}"), Some(&op), None).await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "`{status}`: {}", wrong.body);
    }
}

#[tokio::test]
async fn a_pi_sets_a_member_s_limits_on_the_project_page_and_a_member_cannot() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    let bob = p.user("bob", "jxu", "member").await;
    p.user("carol", "jxu", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/projects/cfd-lab/members", json!({"user": "bob"})).await;
    // The PI sees a form per member, in both languages.
    let (page, csrf) = open(&p, "/projects/cfd-lab?lang=en", &alice).await;
    assert!(page.html.contains("Members&#39; limits in this project"), "{}", page.html);
    assert!(page.html.contains("action=\"/projects/cfd-lab/members/bob/limits\" id=\"limits-bob\""), "{}", page.html);
    let (zh, _) = open(&p, "/projects/cfd-lab?lang=zh-CN", &alice).await;
    assert!(zh.html.contains("成员在本项目中的限制") && zh.html.contains("留空表示不限"), "{}", zh.html);
    // Set bob's: two running jobs, 16 CPUs, no GPU cap, 10 submitted.
    let values = [("max_running_jobs", "2"), ("max_cpus", "16"), ("max_gpus", ""), ("max_submitted", "10")];
    let done = send(&p, post("/projects/cfd-lab/members/bob/limits", Some(&alice), &form(&csrf, &values))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(done.headers.get("location").unwrap(), "/projects/cfd-lab#member-limits-title");
    let set = member_limits(&p).await;
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!((set[0]["name"].as_str(), set[0]["project"].as_str()), (Some("bob"), Some("cfd-lab")));
    let numbers =
        |l: &serde_json::Value| ["max_running_jobs", "max_cpus", "max_gpus", "max_submitted"].map(|k| l[k].as_i64());
    assert_eq!(numbers(&set[0]), [Some(2), Some(16), None, Some(10)]);
    let (page, _) = open(&p, "/projects/cfd-lab?lang=en", &alice).await;
    let row = &page.html[page.html.find("id=\"member-limits-bob\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("name=\"max_cpus\" inputmode=\"numeric\" maxlength=\"10\" size=\"6\" value=\"16\""), "{row}");
    // Bad values: refused beside their box, in the page's language, what
    // was typed kept, nothing changed.
    for (name, value, says) in [
        ("max_cpus", "abc", "The input is not valid"),
        ("max_gpus", "-1", "The input is not valid"),
        ("max_submitted", "1e9", "The input is not valid"),
        ("max_running_jobs", "1000000001", "输入有误"),
    ] {
        let mut fields = vec![("max_running_jobs", "2"), ("max_cpus", "16"), ("max_gpus", ""), ("max_submitted", "10")];
        fields.retain(|(n, _)| *n != name);
        fields.push((name, value));
        let lang = if says == "输入有误" { "zh-CN" } else { "en" };
        let path = format!("/projects/cfd-lab/members/bob/limits?lang={lang}");
        let page = send(&p, post(&path, Some(&alice), &form(&csrf, &fields))).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{name}={value}: {}", page.html);
        assert!(page.html.contains(&format!("id=\"limits-bob-{name}-error\"")), "{name}: {}", page.html);
        assert!(page.html.contains(says), "{name}: {}", page.html);
        assert!(page.html.contains(&format!("value=\"{value}\"")), "kept: {}", page.html);
        assert_eq!(numbers(&member_limits(&p).await[0]), [Some(2), Some(16), None, Some(10)], "{name}={value}");
    }
    // A plain member sees them read-only and cannot set any, not even
    // their own; nor can a user outside the project.
    let (page, bob_csrf) = open(&p, "/projects/cfd-lab?lang=en", &bob).await;
    assert!(page.html.contains("id=\"member-limits\"") && !page.html.contains("id=\"limits-bob\""), "{}", page.html);
    assert!(page.html.contains("The PI and the project&#39;s managers set them."), "{}", page.html);
    for user in ["bob", "alice"] {
        let path = format!("/projects/cfd-lab/members/{user}/limits?lang=en");
        let page = send(&p, post(&path, Some(&bob), &form(&bob_csrf, &[("max_running_jobs", "100")]))).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{user}: {}", page.html);
    }
    let carol = sign_in(&p, "carol").await;
    let (_, carol_csrf) = open(&p, "/", &carol).await;
    let outside = form(&carol_csrf, &[("max_running_jobs", "100")]);
    let page = send(&p, post("/projects/cfd-lab/members/bob/limits", Some(&carol), &outside)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.html);
    // Someone not a member (no row has a form for them): not found, and
    // the API says why (`tests/http/jobs.rs`).
    let page =
        send(&p, post("/projects/cfd-lab/members/carol/limits?lang=en", Some(&alice), &form(&csrf, &values))).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.html);
    assert_eq!(numbers(&member_limits(&p).await[0]), [Some(2), Some(16), None, Some(10)]);
    assert_eq!(member_limits(&p).await.len(), 1);
    // Empty boxes lift them all.
    let none = [("max_running_jobs", ""), ("max_cpus", ""), ("max_gpus", ""), ("max_submitted", "")];
    let done = send(&p, post("/projects/cfd-lab/members/bob/limits", Some(&alice), &form(&csrf, &none))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert!(member_limits(&p).await.is_empty());
}

/// Every member's limits in a project, as the operator lists them.
async fn member_limits(p: &Platform) -> Vec<serde_json::Value> {
    let limits = p.call(Method::GET, "/api/v1/limits", Some(&p.operator_token), None).await.body;
    limits.as_array().unwrap().iter().filter(|l| l["scope"] == "member").cloned().collect()
}

/// The rows (last day, units used) of grant `id`'s burn-down table.
fn burn_rows(html: &str, id: i64) -> Vec<(String, String)> {
    let table = &html[html.find(&format!("id=\"burn-{id}-table\"")).expect("the burn-down table")..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            let until = row.split('<').next().unwrap().to_owned();
            let used = row.split("<td class=\"num\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
            (until, used)
        })
        .collect()
}

#[tokio::test]
async fn a_grant_s_burn_down_counts_only_the_units_charged_to_that_grant() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    let day = |offset: i64| {
        let day = jiff::Zoned::now().date().checked_add(jiff::Span::new().days(offset)).unwrap();
        day.strftime("%Y-%m-%d").to_string()
    };
    // Two grants of one project over the same 40 days.
    let mut ids = Vec::new();
    for hours in [100, 1000] {
        let request =
            json!({"project": "cfd-lab", "core_hours": hours, "from": day(-20), "to": day(20), "reason": "x"});
        let reply = p.call(Method::POST, "/api/v1/grants", Some(&alice), Some(request)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let id = reply.body["id"].as_i64().unwrap();
        p.admin(Method::POST, &format!("/api/v1/grants/{id}/approve"), json!({})).await;
        ids.push(id);
    }
    let (small, large) = (ids[0], ids[1]);
    // 30 SU charged to the large grant 15 days ago, 10 to the small one 3 days ago.
    for (grant, hours, settled) in [(large, 30, -15), (small, 10, -3)] {
        let job = json!({"script": "#!/bin/sh\ntrue\n", "options": ["-A", "cfd-lab"], "submit_dir": "/tmp",
            "allocation": grant.to_string()});
        let reply = p.call(Method::POST, "/api/v1/jobs", Some(&alice), Some(job)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let job = reply.body["job"]["job_id"].as_i64().unwrap();
        crate::portal_usage::settle(&p, job, &day(settled), hours * 3600).await;
    }
    let page = send(&p, get("/projects/cfd-lab?lang=en", Some(&alice))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let (small_rows, large_rows) = (burn_rows(&page.html, small), burn_rows(&page.html, large));
    assert_eq!(small_rows.len(), 10, "{small_rows:?}");
    // The parts between the two charges: the small grant used nothing yet
    // (the project's other grant had used 30), the large one 30.
    let between: Vec<usize> = (0..10).filter(|&i| small_rows[i].0 > day(-15) && small_rows[i].0 < day(-3)).collect();
    assert!(between.len() >= 2, "{small_rows:?}");
    for i in between {
        assert_eq!(small_rows[i].1, "0.00", "{small_rows:?}");
        assert_eq!(large_rows[i].1, "30.00", "{large_rows:?}");
    }
    // Before either charge both are at zero; after its own, each its own.
    assert_eq!((small_rows[0].1.as_str(), large_rows[0].1.as_str()), ("0.00", "0.00"));
    let after = (0..10).find(|&i| small_rows[i].0 > day(-3) && !small_rows[i].1.is_empty()).unwrap();
    assert_eq!((small_rows[after].1.as_str(), large_rows[after].1.as_str()), ("10.00", "30.00"));
    assert!(page.html.contains(&format!("id=\"burn-{small}-used\">10.00<")), "{}", page.html);
    assert!(page.html.contains(&format!("id=\"burn-{large}-used\">30.00<")), "{}", page.html);
    // The recent rate is each grant's own too: 10 over the last 20 days, 30 over them.
    assert!(page.html.contains(&format!("id=\"burn-{small}-rate\">0.50<")), "{}", page.html);
    assert!(page.html.contains(&format!("id=\"burn-{large}-rate\">1.50<")), "{}", page.html);
}
