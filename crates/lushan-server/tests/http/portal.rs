//! The web portal through the real router: sign-in with the API's login,
//! the session cookie, language choice, pages scoped as the API is, forms
//! guarded by CSRF tokens and the cross-site check, escaping, security
//! headers, sign-out. (A real browser drives it in `it::portal`.)

use crate::common::Platform;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

pub(crate) struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub html: String,
}

pub(crate) async fn send(p: &Platform, request: Request<Body>) -> Page {
    let response = p.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page { status, headers, html: String::from_utf8_lossy(&bytes).into_owned() }
}

pub(crate) fn get(path: &str, session: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(Method::GET).uri(path);
    if let Some(session) = session {
        builder = builder.header("cookie", format!("__Host-lushan-session={session}"));
    }
    builder.body(Body::empty()).unwrap()
}

pub(crate) fn post(path: &str, session: Option<&str>, form: &str) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin");
    if let Some(session) = session {
        builder = builder.header("cookie", format!("__Host-lushan-session={session}"));
    }
    builder.body(Body::from(form.to_owned())).unwrap()
}

/// Signs in through the portal's form and returns the session cookie's value.
pub(crate) async fn sign_in(p: &Platform, user: &str) -> String {
    let page = send(p, post("/login", None, &format!("user={user}&password=password-123"))).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    let cookie = page.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    cookie.trim_start_matches("__Host-lushan-session=").split(';').next().unwrap().to_owned()
}

pub(crate) fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// HTML a user might type, planted in names and comments: no page may
/// let it run.
pub(crate) const PLANTED: &str = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;

/// A form's fields, URL-encoded, after the page's key.
pub(crate) fn form_of(csrf: &str, fields: &[(&str, &str)]) -> String {
    let mut text = format!("csrf={csrf}");
    for (name, value) in fields {
        text.push('&');
        text.push_str(name);
        text.push('=');
        text.push_str(&urlencode(value));
    }
    text
}

pub(crate) fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GETs a page that must answer 200, and its form key.
pub(crate) async fn open_page(p: &Platform, path: &str, session: &str) -> (Page, String) {
    let page = send(p, get(path, Some(session))).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
    let csrf = csrf_of(&page.html);
    (page, csrf)
}

/// No planted tag came back as markup.
pub(crate) fn assert_escaped(page: &Page) {
    assert!(!page.html.contains("<script>alert") && !page.html.contains("<img src=x"), "{}", page.html);
}

async fn setup() -> (Platform, i64) {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "hit", "sector": "university"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    p.user("bob", "hit", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/tenants/jxu/wallet/top-ups", json!({"amount": "1234.5", "reference": "T-1"})).await;
    let planted = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;
    let job = json!({"script": "#!/bin/sh\ntrue\n", "options": ["-A", "cfd-lab", "--hold", "-J", planted],
        "submit_dir": "/home/alice", "env": {}});
    let reply = p.call(Method::POST, "/api/v1/jobs", Some(&alice), Some(job)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (p, reply.body["job"]["job_id"].as_i64().unwrap())
}

#[tokio::test]
async fn a_visitor_signs_in_sees_their_jobs_in_their_language_and_signs_out() {
    let (p, job) = setup().await;
    // Not signed in: to the sign-in page, in Chinese unless asked otherwise.
    let home = send(&p, get("/", None)).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.headers.get("location").unwrap(), "/login");
    let login = send(&p, get("/login", None)).await;
    assert!(login.html.contains("<html lang=\"zh-CN\">") && login.html.contains("登录"), "{}", login.html);
    let english = Request::builder().uri("/login").header("accept-language", "en-GB,en;q=0.9").body(Body::empty());
    assert!(send(&p, english.unwrap()).await.html.contains("Sign in"));
    let asked = send(&p, get("/login?lang=en", None)).await;
    assert!(asked.html.contains("<html lang=\"en\">"));
    assert!(asked.headers.get("set-cookie").unwrap().to_str().unwrap().starts_with("lushan-lang=en"));
    // A wrong password: the page says so in its language, nothing is set.
    let wrong = send(&p, post("/login?lang=en", None, "user=alice&password=nope-nope")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("Wrong user name or password."), "{}", wrong.html);
    assert!(wrong.html.contains("value=\"alice\""), "the name is kept for another try");
    // Signed in: home, with the job, escaped; the stylesheet is cached for ever.
    let session = sign_in(&p, "alice").await;
    let home = send(&p, get("/?lang=en", Some(&session))).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.html);
    assert!(home.html.contains("Welcome") && home.html.contains(&format!("/jobs/{job}")), "{}", home.html);
    assert!(!home.html.contains("<script>alert") && !home.html.contains("<img src=x"), "{}", home.html);
    let csp = home.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(home.headers.get("x-frame-options").unwrap(), "DENY");
    let css_path = home.html.split("href=\"/static/").nth(1).unwrap().split('"').next().unwrap();
    let css = send(&p, get(&format!("/static/{css_path}"), None)).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers.get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    // The job's page, and the job list.
    let page = send(&p, get(&format!("/jobs/{job}"), Some(&session))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("&#60;script&#62;") && !page.html.contains("<script>alert"), "{}", page.html);
    let bad = send(&p, get("/jobs/abc?lang=en", Some(&session))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("is not a job id") && bad.html.contains("invalid_input"), "{}", bad.html);
    let list = send(&p, get("/jobs?state=all", Some(&session))).await;
    assert!(list.html.contains(&format!("/jobs/{job}")), "{}", list.html);
    // Sign-out revokes the token: the old cookie no longer signs anyone in.
    let csrf = csrf_of(&home.html);
    let out = send(&p, post("/logout", Some(&session), &format!("csrf={csrf}"))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(send(&p, get("/", Some(&session))).await.status, StatusCode::SEE_OTHER);
    let api = p.call(Method::GET, "/api/v1/whoami", Some(&session), None).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED, "the API refuses the revoked token too");
}

#[tokio::test]
async fn forms_need_the_session_s_key_and_the_same_site_and_pages_keep_to_the_tenant() {
    let (p, job) = setup().await;
    let alice = sign_in(&p, "alice").await;
    let bob = sign_in(&p, "bob").await;
    // Another tenant's member sees no such job, and cannot act on it.
    let theirs = send(&p, get(&format!("/jobs/{job}"), Some(&bob))).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.html);
    let bob_home = send(&p, get("/", Some(&bob))).await;
    assert!(!bob_home.html.contains(&format!("/jobs/{job}\"")), "{}", bob_home.html);
    let bob_csrf = csrf_of(&bob_home.html);
    let refused = send(&p, post(&format!("/jobs/{job}/cancel"), Some(&bob), &format!("csrf={bob_csrf}"))).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let page = send(&p, get(&format!("/jobs/{job}"), Some(&alice))).await;
    let csrf = csrf_of(&page.html);
    // No key, another session's key, or sent by another site: refused.
    for (form, site) in [
        (String::new(), "same-origin"),
        (format!("csrf={bob_csrf}"), "same-origin"),
        (format!("csrf={csrf}"), "cross-site"),
    ] {
        let mut request = post(&format!("/jobs/{job}/cancel"), Some(&alice), &form);
        request.headers_mut().insert("sec-fetch-site", site.parse().unwrap());
        let answer = send(&p, request).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{form} {site}: {}", answer.html);
        // A stale key says to reload; a cross-site request says where it came from.
        let code = if site == "same-origin" { "stale_form" } else { "cross_site" };
        assert!(answer.html.contains(code), "{form} {site}: {}", answer.html);
    }
    let mut foreign = post(&format!("/jobs/{job}/cancel"), Some(&alice), &format!("csrf={csrf}"));
    foreign.headers_mut().remove("sec-fetch-site");
    foreign.headers_mut().insert("origin", "http://evil.example".parse().unwrap());
    foreign.headers_mut().insert("host", "127.0.0.1:8080".parse().unwrap());
    assert_eq!(send(&p, foreign).await.status, StatusCode::FORBIDDEN);
    let state = p.call(Method::GET, &format!("/api/v1/jobs/{job}"), Some(&p.operator_token), None).await;
    assert_eq!(state.body["state"], "PENDING", "nothing refused changed the job");
    // With the key, from the portal itself: released, then cancelled.
    let released = send(&p, post(&format!("/jobs/{job}/release"), Some(&alice), &format!("csrf={csrf}"))).await;
    assert_eq!(released.status, StatusCode::SEE_OTHER, "{}", released.html);
    let cancelled = send(&p, post(&format!("/jobs/{job}/cancel"), Some(&alice), &format!("csrf={csrf}"))).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER, "{}", cancelled.html);
    let state = p.call(Method::GET, &format!("/api/v1/jobs/{job}"), Some(&p.operator_token), None).await;
    assert_eq!(state.body["state"], "CANCELLED");
    // A user disabled meanwhile is signed out at the next page.
    p.admin(Method::POST, "/api/v1/users/alice/disable", json!(null)).await;
    assert_eq!(send(&p, get("/", Some(&alice))).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_tenant_admin_sees_the_wallet_in_yuan_and_a_member_is_told_who_does() {
    let (p, _) = setup().await;
    p.user("carol", "jxu", "tenant-admin").await;
    let carol = sign_in(&p, "carol").await;
    let home = send(&p, get("/?lang=en", Some(&carol))).await;
    assert!(home.html.contains("¥1,234.50"), "{}", home.html);
    let alice = sign_in(&p, "alice").await;
    let home = send(&p, get("/", Some(&alice))).await;
    assert!(home.html.contains("租户余额由租户管理员管理"), "{}", home.html);
}

#[tokio::test]
async fn the_job_list_comes_a_page_at_a_time_newest_first() {
    let (p, first) = setup().await;
    let alice = p.login("alice").await;
    let array = json!({"script": "#!/bin/sh\ntrue\n", "options": ["-A", "cfd-lab", "--hold", "--array=0-59"],
        "submit_dir": "/home/alice", "env": {}});
    assert_eq!(p.call(Method::POST, "/api/v1/jobs", Some(&alice), Some(array)).await.status, StatusCode::CREATED);
    let session = sign_in(&p, "alice").await;
    let one = send(&p, get("/jobs?state=all&lang=en", Some(&session))).await;
    assert!(one.html.contains("Page 1 of 2"), "{}", one.html);
    assert_eq!(one.html.matches("<tr>").count(), 1 + 50, "a header and 50 jobs");
    assert!(one.html.contains(&format!("/jobs/{}\"", first + 60)), "the newest first");
    assert!(
        one.html.contains("/jobs?page=2&amp;state=all") || one.html.contains("/jobs?page=2&#38;state=all"),
        "{}",
        one.html
    );
    let two = send(&p, get("/jobs?state=all&page=2&lang=en", Some(&session))).await;
    assert!(two.html.contains("Page 2 of 2") && two.html.contains(&format!("/jobs/{first}\"")), "{}", two.html);
    assert_eq!(two.html.matches("<tr>").count(), 1 + 11);
    let bad = send(&p, get("/jobs?page=0", Some(&session))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_job_list_is_filtered_by_project_and_user_within_what_the_caller_sees() {
    let (p, first) = setup().await;
    p.user("carol", "jxu", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "md-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/projects/md-lab/members", json!({"user": "carol", "role": "member"})).await;
    let carol = p.login("carol").await;
    let job = json!({"script": "#!/bin/sh\ntrue\n", "options": ["-A", "md-lab", "--hold", "-J", "carols-run"],
        "submit_dir": "/home/carol", "env": {}});
    let reply = p.call(Method::POST, "/api/v1/jobs", Some(&carol), Some(job)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let carols = reply.body["job"]["job_id"].as_i64().unwrap();
    // Alice, PI of both: every job of hers and her projects', or one project's, or one user's.
    let session = sign_in(&p, "alice").await;
    let shows = |html: &str, id: i64| html.contains(&format!("/jobs/{id}\""));
    let all = send(&p, get("/jobs?state=all", Some(&session))).await;
    assert!(shows(&all.html, first) && shows(&all.html, carols), "{}", all.html);
    let md = send(&p, get("/jobs?state=all&project=md-lab", Some(&session))).await;
    assert!(!shows(&md.html, first) && shows(&md.html, carols), "{}", md.html);
    assert!(md.html.contains("value=\"md-lab\""), "the filter is kept in the form");
    let hers = send(&p, get("/jobs?state=all&user=alice&project=cfd-lab", Some(&session))).await;
    assert!(shows(&hers.html, first) && !shows(&hers.html, carols), "{}", hers.html);
    // Bob, of another tenant, sees nothing of theirs by naming them; an
    // unknown name selects nothing; what is typed is shown escaped.
    let bob = sign_in(&p, "bob").await;
    let named = send(&p, get("/jobs?state=all&project=md-lab&user=carol", Some(&bob))).await;
    assert_eq!(named.status, StatusCode::OK);
    assert!(!shows(&named.html, carols) && !shows(&named.html, first), "{}", named.html);
    let planted =
        send(&p, get("/jobs?state=all&project=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", Some(&session))).await;
    assert_eq!(planted.status, StatusCode::OK);
    assert!(!planted.html.contains("<script>alert(1)") && !shows(&planted.html, first), "{}", planted.html);
}
