//! The tenancy matrix, generated from the route table (the OpenAPI document
//! that `http::api::routes()` produces): every role of tenant A against every
//! endpoint aimed at tenant B's objects must get no access, and no listing
//! may show B's names. A route added without a case here fails the test.
//! The one exception is a role's own: reviewers read and score every
//! tenant's allocation requests (`tests/http/grants.rs` checks that they do,
//! and that they cannot decide them or score their own tenant's).

use crate::common::Platform;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

struct World {
    p: Platform,
    /// Callers of tenant A, by role name.
    callers: Vec<(&'static str, String)>,
    /// A token id belonging to tenant B's PI.
    b_token_id: i64,
    /// A job of tenant B's PI.
    b_job_id: i64,
    /// An allocation request of tenant B's project.
    b_grant_id: i64,
    /// A job template of tenant B's PI, their own.
    b_template_id: i64,
    /// Tenant B's PI's token (the matrix's failed logins lock a new login out).
    b_pi: String,
}

/// Names of tenant B's objects; none may appear in anything A's callers see.
const B_NAMES: [&str; 5] = ["zju", "b-pi", "b-member", "b-admin", "b-proj"];

async fn world() -> World {
    let p = Platform::new().await;
    for (tenant, sector) in [("jxu", "university"), ("zju", "enterprise")] {
        p.admin(Method::POST, "/api/v1/tenants", json!({"name": tenant, "sector": sector})).await;
    }
    let a_admin = p.user("a-admin", "jxu", "tenant-admin").await;
    let a_pi = p.user("a-pi", "jxu", "member").await;
    let a_manager = p.user("a-manager", "jxu", "member").await;
    let a_member = p.user("a-member", "jxu", "member").await;
    let a_reviewer = p.user("a-reviewer", "jxu", "reviewer").await;
    p.user("b-admin", "zju", "tenant-admin").await;
    let b_pi = p.user("b-pi", "zju", "member").await;
    p.user("b-member", "zju", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "a-proj", "tenant": "jxu", "pi": "a-pi"})).await;
    p.admin(Method::POST, "/api/v1/projects/a-proj/members", json!({"user": "a-manager", "role": "manager"})).await;
    p.admin(Method::POST, "/api/v1/projects/a-proj/members", json!({"user": "a-member"})).await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "b-proj", "tenant": "zju", "pi": "b-pi"})).await;
    p.admin(Method::POST, "/api/v1/projects/b-proj/members", json!({"user": "b-member"})).await;
    let tokens = p.call(Method::GET, "/api/v1/tokens", Some(&b_pi), None).await;
    let b_token_id = tokens.body[0]["id"].as_i64().unwrap();
    for tenant in ["jxu", "zju"] {
        let top_up = json!({"amount": "100", "reference": format!("T-{tenant}")});
        p.admin(Method::POST, &format!("/api/v1/tenants/{tenant}/wallet/top-ups"), top_up).await;
    }
    // Limits on both tenants' projects and users: listings show A's only.
    for (scope, name) in [("project", "a-proj"), ("user", "a-pi"), ("project", "b-proj"), ("user", "b-pi")] {
        p.admin(Method::PUT, &format!("/api/v1/limits/{scope}/{name}"), json!({"max_running_jobs": 4})).await;
    }
    // And on a member of each project (its PI's to set).
    for (project, user) in [("a-proj", "a-member"), ("b-proj", "b-member")] {
        let path = format!("/api/v1/projects/{project}/members/{user}/limits");
        p.admin(Method::PUT, &path, json!({"max_running_jobs": 4})).await;
    }
    let job = p.call(Method::POST, "/api/v1/jobs", Some(&b_pi), Some(submit("b-proj"))).await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.body);
    let b_job_id = job.body["job"]["job_id"].as_i64().unwrap();
    let grant =
        json!({"project": "b-proj", "core_hours": 100, "from": "2026-12-01", "to": "2027-05-31", "reason": "b"});
    let grant = p.call(Method::POST, "/api/v1/grants", Some(&b_pi), Some(grant)).await;
    assert_eq!(grant.status, StatusCode::CREATED, "{}", grant.body);
    let b_grant_id = grant.body["id"].as_i64().unwrap();
    let recipe = json!({"name": "recipe", "title": "b-proj recipe", "script": "#!/bin/sh\n#SBATCH -J b-proj\ntrue\n"});
    let template = p.call(Method::POST, "/api/v1/job-templates", Some(&b_pi), Some(recipe)).await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.body);
    let b_template_id = template.body["id"].as_i64().unwrap();
    World {
        p,
        callers: vec![
            ("tenant-admin", a_admin),
            ("pi", a_pi),
            ("manager", a_manager),
            ("member", a_member),
            ("reviewer", a_reviewer),
        ],
        b_token_id,
        b_job_id,
        b_grant_id,
        b_template_id,
        b_pi,
    }
}

/// A trivial job charged to `project`.
pub fn submit(project: &str) -> Value {
    json!({"script": "#!/bin/sh\ntrue\n", "options": ["-A", project, "-J", "matrix"], "submit_dir": "/tmp"})
}

/// How a route is checked.
enum Case {
    /// Aimed at B's objects: must not succeed.
    CrossTenant { path: String, body: Option<Value> },
    /// Lists or shows what the caller may see: may succeed, must not show B.
    Scoped { path: String },
    /// Shared infrastructure every signed-in user may read (like `sinfo`).
    Shared { path: String },
    /// Acts on the caller alone; aimed at B it must not succeed.
    OwnOnly { path: String, body: Option<Value> },
}

fn case_for(method: &str, route: &str, w: &World) -> Case {
    let cross = |path: &str, body: Option<Value>| Case::CrossTenant { path: path.to_owned(), body };
    match (method, route) {
        ("post", "/api/v1/login") => {
            Case::OwnOnly { path: route.into(), body: Some(json!({"user": "b-pi", "password": "guess-guess"})) }
        }
        ("get", "/api/v1/whoami") => Case::Scoped { path: route.into() },
        ("put", "/api/v1/whoami/password") => Case::OwnOnly {
            path: route.into(),
            body: Some(json!({"current_password": "not-mine-1", "new_password": "password-456"})),
        },
        // Only the caller's own setting; a bad value changes nothing.
        ("put", "/api/v1/whoami/language") => {
            Case::OwnOnly { path: route.into(), body: Some(json!({"language": "b-pi"})) }
        }
        ("get", "/api/v1/tokens") => Case::Scoped { path: route.into() },
        ("post", "/api/v1/tokens") => Case::Scoped { path: route.into() },
        ("delete", "/api/v1/tokens/{id}") => {
            Case::OwnOnly { path: format!("/api/v1/tokens/{}", w.b_token_id), body: None }
        }
        ("get", "/api/v1/tenants") => Case::Scoped { path: route.into() },
        ("post", "/api/v1/tenants") => cross(route, Some(json!({"name": "zju-2", "sector": "school"}))),
        ("get", "/api/v1/tenants/{tenant}") => cross("/api/v1/tenants/zju", None),
        ("post", "/api/v1/tenants/{tenant}/disable") => cross("/api/v1/tenants/zju/disable", None),
        ("post", "/api/v1/tenants/{tenant}/enable") => cross("/api/v1/tenants/zju/enable", None),
        ("get", "/api/v1/users") => Case::Scoped { path: route.into() },
        ("post", "/api/v1/users") => {
            cross(route, Some(json!({"name": "b-intruder", "tenant": "zju", "password": "password-123"})))
        }
        ("get", "/api/v1/users/{user}") => cross("/api/v1/users/b-member", None),
        ("post", "/api/v1/users/{user}/disable") => cross("/api/v1/users/b-member/disable", None),
        ("post", "/api/v1/users/{user}/enable") => cross("/api/v1/users/b-member/enable", None),
        ("get", "/api/v1/projects") => Case::Scoped { path: route.into() },
        ("post", "/api/v1/projects") => cross(route, Some(json!({"name": "b-proj-2", "tenant": "zju", "pi": "b-pi"}))),
        ("get", "/api/v1/projects/{project}") => cross("/api/v1/projects/b-proj", None),
        ("post", "/api/v1/projects/{project}/disable") => cross("/api/v1/projects/b-proj/disable", None),
        ("post", "/api/v1/projects/{project}/enable") => cross("/api/v1/projects/b-proj/enable", None),
        ("post", "/api/v1/projects/{project}/members") => {
            cross("/api/v1/projects/b-proj/members", Some(json!({"user": "b-pi", "role": "member"})))
        }
        ("delete", "/api/v1/projects/{project}/members/{user}") => {
            cross("/api/v1/projects/b-proj/members/b-member", None)
        }
        ("get", "/api/v1/limits") => Case::Scoped { path: route.into() },
        // Limits are the centre's policy: only operators set them.
        ("put", "/api/v1/limits/{scope}/{name}") => {
            cross("/api/v1/limits/project/b-proj", Some(json!({"max_running_jobs": 100})))
        }
        // A member's limits are their project's PI's and managers' to set:
        // never those of another tenant's project.
        ("put", "/api/v1/projects/{project}/members/{user}/limits") => {
            cross("/api/v1/projects/b-proj/members/b-member/limits", Some(json!({"max_running_jobs": 100})))
        }
        ("get", "/api/v1/qos") => Case::Shared { path: route.into() },
        // QOS and partition priorities are the centre's policy too.
        ("put", "/api/v1/qos/{name}") => cross("/api/v1/qos/b-urgent", Some(json!({"priority": 100}))),
        ("put", "/api/v1/sites/{site}/partitions/{partition}/priority") => {
            cross("/api/v1/sites/local/partitions/local/priority", Some(json!({"priority_job_factor": 5})))
        }
        ("get", "/api/v1/sites") => Case::Shared { path: route.into() },
        // Sites are the centre's: only operators add or check them.
        ("post", "/api/v1/sites") => cross(
            route,
            Some(
                json!({"name": "b-site", "backend": "slurm", "rest_url": "http://127.0.0.1:9", "jwt_key": "/nonexistent"}),
            ),
        ),
        ("get", "/api/v1/sites/{site}/check") => cross("/api/v1/sites/local/check", None),
        ("post", "/api/v1/sites/{site}/sync") => cross("/api/v1/sites/local/sync", Some(json!({"dry_run": true}))),
        ("put", "/api/v1/sites/{site}/nodes/{node}/owner") => {
            cross("/api/v1/sites/local/nodes/vm/owner", Some(json!({"owner": "zju"})))
        }
        ("put", "/api/v1/sites/{site}/partitions/{partition}/preemption") => {
            cross("/api/v1/sites/local/partitions/local/preemption", Some(json!({"mode": "cancel", "grace_secs": 5})))
        }
        ("get", "/api/v1/audit") => Case::Scoped { path: "/api/v1/audit?limit=10000".into() },
        ("get", "/api/v1/jobs") => Case::Scoped { path: route.into() },
        ("post", "/api/v1/jobs") => cross(route, Some(submit("b-proj"))),
        ("get", "/api/v1/jobs/{id}") => cross(&format!("/api/v1/jobs/{}", w.b_job_id), None),
        ("post", "/api/v1/jobs/estimate") => cross(route, Some(submit("b-proj"))),
        ("post", "/api/v1/jobs/quote") => cross(route, Some(submit("b-proj"))),
        ("get", "/api/v1/tenants/{tenant}/wallet") => cross("/api/v1/tenants/zju/wallet", None),
        ("post", "/api/v1/tenants/{tenant}/wallet/top-ups") => {
            cross("/api/v1/tenants/zju/wallet/top-ups", Some(json!({"amount": "1", "reference": "x"})))
        }
        ("post", "/api/v1/tenants/{tenant}/wallet/adjustments") => cross(
            "/api/v1/tenants/zju/wallet/adjustments",
            Some(json!({"amount": "-1", "reference": "x", "reason": "x"})),
        ),
        ("put", "/api/v1/tenants/{tenant}/wallet/credit-limit") => {
            cross("/api/v1/tenants/zju/wallet/credit-limit", Some(json!({"credit_limit": "1000"})))
        }
        ("get", "/api/v1/tenants/{tenant}/statement") => cross("/api/v1/tenants/zju/statement?month=2026-11", None),
        ("get", "/api/v1/prices") => Case::Shared { path: route.into() },
        ("get", "/api/v1/reports/usage") => {
            Case::Scoped { path: "/api/v1/reports/usage?by=tenant&from=2000-01-01&to=2099-12-31".into() }
        }
        ("get", "/api/v1/tenants/{tenant}/settlement") => cross("/api/v1/tenants/zju/settlement?month=2026-11", None),
        ("post", "/api/v1/prices") => cross(route, Some(json!({"site": "local", "core_hour": "0"}))),
        ("put", "/api/v1/discounts/{sector}") => cross("/api/v1/discounts/enterprise", Some(json!({"percent": "100"}))),
        ("put", "/api/v1/owner-share") => cross(route, Some(json!({"percent": "100"}))),
        ("put", "/api/v1/preemptible-discount") => cross(route, Some(json!({"percent": "20"}))),
        ("get", "/api/v1/grants") => Case::Scoped { path: route.into() },
        ("post", "/api/v1/grants") => cross(
            route,
            Some(
                json!({"project": "b-proj", "core_hours": 1, "from": "2026-12-01", "to": "2026-12-31", "reason": "x"}),
            ),
        ),
        ("get", "/api/v1/grants/{id}") => cross(&format!("/api/v1/grants/{}", w.b_grant_id), None),
        ("get", "/api/v1/grants/{id}/usage") => cross(&format!("/api/v1/grants/{}/usage", w.b_grant_id), None),
        ("post", "/api/v1/grants/{id}/reviews") => {
            cross(&format!("/api/v1/grants/{}/reviews", w.b_grant_id), Some(json!({"score": 1, "comment": "x"})))
        }
        ("post", "/api/v1/grants/{id}/approve") => {
            cross(&format!("/api/v1/grants/{}/approve", w.b_grant_id), Some(json!({"reason": "x"})))
        }
        ("post", "/api/v1/grants/{id}/reject") => {
            cross(&format!("/api/v1/grants/{}/reject", w.b_grant_id), Some(json!({"reason": "x"})))
        }
        ("post", "/api/v1/jobs/{id}/cancel") => cross(&format!("/api/v1/jobs/{}/cancel", w.b_job_id), None),
        ("post", "/api/v1/jobs/{id}/hold") => cross(&format!("/api/v1/jobs/{}/hold", w.b_job_id), None),
        ("post", "/api/v1/jobs/{id}/signal") => {
            cross(&format!("/api/v1/jobs/{}/signal", w.b_job_id), Some(json!({"signal": "USR1"})))
        }
        ("get", "/api/v1/jobs/{id}/output") => cross(&format!("/api/v1/jobs/{}/output", w.b_job_id), None),
        // The centre's templates are everyone's; a user's own are theirs alone.
        ("get", "/api/v1/job-templates") => Case::Scoped { path: route.into() },
        ("post", "/api/v1/job-templates") => Case::Scoped { path: route.into() },
        ("get", "/api/v1/job-templates/{id}") => {
            Case::OwnOnly { path: format!("/api/v1/job-templates/{}", w.b_template_id), body: None }
        }
        ("put", "/api/v1/job-templates/{id}") => Case::OwnOnly {
            path: format!("/api/v1/job-templates/{}", w.b_template_id),
            body: Some(json!({"name": "mine-now", "title": "x", "script": "#!/bin/sh\ntrue\n"})),
        },
        ("delete", "/api/v1/job-templates/{id}") => {
            Case::OwnOnly { path: format!("/api/v1/job-templates/{}", w.b_template_id), body: None }
        }
        ("post", "/api/v1/jobs/{id}/release") => cross(&format!("/api/v1/jobs/{}/release", w.b_job_id), None),
        // Files are the caller's own Unix account's: aimed at B's home they
        // must not succeed (it::files checks the rules on a real machine).
        ("get", "/api/v1/files") => Case::OwnOnly { path: "/api/v1/files?path=/home/b-pi".into(), body: None },
        ("delete", "/api/v1/files") => Case::OwnOnly { path: "/api/v1/files?path=/home/b-pi/x".into(), body: None },
        ("get", "/api/v1/files/content") => {
            Case::OwnOnly { path: "/api/v1/files/content?path=/home/b-pi/x".into(), body: None }
        }
        ("put", "/api/v1/files/content") => {
            Case::OwnOnly { path: "/api/v1/files/content?path=/home/b-pi/x".into(), body: Some(json!("data")) }
        }
        ("post", "/api/v1/files/directories") => {
            Case::OwnOnly { path: route.into(), body: Some(json!({"path": "/home/b-pi/x"})) }
        }
        ("post", "/api/v1/files/moves") => {
            Case::OwnOnly { path: route.into(), body: Some(json!({"from": "/home/b-pi/x", "to": "/home/b-pi/y"})) }
        }
        _ => panic!("route {method} {route} has no case in the tenancy matrix: add one to tests/http/tenancy.rs"),
    }
}

fn leaks(body: &Value) -> Option<&'static str> {
    let text = body.to_string();
    B_NAMES.into_iter().find(|name| {
        text.contains(&format!("\"{name}\""))
            || text.contains(&format!("{name} "))
            || text.contains(&format!(" {name}"))
    })
}

#[tokio::test]
async fn no_role_of_one_tenant_reaches_another_tenant() {
    let w = world().await;
    let openapi = lushan_server::http::openapi();
    let mut checked = 0;
    let mut cross_tenant_access = Vec::new();
    for (route, item) in &openapi.paths.paths {
        let item = serde_json::to_value(item).unwrap();
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            let case = case_for(method, route, &w);
            let http_method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for (role, token) in &w.callers {
                let (path, body, must_fail) = match &case {
                    Case::CrossTenant { path, body } | Case::OwnOnly { path, body } => {
                        (path.clone(), body.clone(), true)
                    }
                    Case::Scoped { path } | Case::Shared { path } => (path.clone(), None, false),
                };
                let body =
                    body.or_else(|| (method == "post" && path == "/api/v1/tokens").then(|| json!({"name": "matrix"})));
                let reply = w.p.call(http_method.clone(), &path, Some(token), body).await;
                checked += 1;
                // The one exception the role makes: reviewers read and score
                // every tenant's allocation requests (never decide them).
                let reviewing = *role == "reviewer"
                    && path.starts_with("/api/v1/grants")
                    && (method == "get" || path.ends_with("/reviews"));
                if reviewing {
                    assert!(!reply.status.is_server_error(), "{role} {method} {path}: {}", reply.status);
                    continue;
                }
                if must_fail && reply.status.is_success() {
                    cross_tenant_access.push(format!("{role} {method} {path}: {}", reply.status));
                }
                if let Some(name) = leaks(&reply.body) {
                    cross_tenant_access.push(format!("{role} {method} {path}: shows `{name}`"));
                }
                assert!(!reply.status.is_server_error(), "{role} {method} {path}: {} {}", reply.status, reply.body);
            }
        }
    }
    // The usage report narrowed to B's project (`?project=`): the route's
    // case above is its scoped list; aimed at B's project it must fail.
    let b_usage = "/api/v1/reports/usage?by=user&project=b-proj&from=2000-01-01&to=2099-12-31";
    for (role, token) in &w.callers {
        let reply = w.p.call(Method::GET, b_usage, Some(token), None).await;
        checked += 1;
        if reply.status.is_success() {
            cross_tenant_access.push(format!("{role} get {b_usage}: {}", reply.status));
        }
        if let Some(name) = leaks(&reply.body) {
            cross_tenant_access.push(format!("{role} get {b_usage}: shows `{name}`"));
        }
    }
    assert_eq!(cross_tenant_access, Vec::<String>::new(), "cross-tenant access");
    assert!(checked >= 31 * 5, "only {checked} checks ran");

    // B's objects are untouched.
    let b_proj = w.p.call(Method::GET, "/api/v1/projects/b-proj", Some(&w.p.operator_token), None).await;
    assert_eq!(b_proj.body["status"], "active");
    assert_eq!(b_proj.body["members"].as_array().unwrap().len(), 2);
    let b_member = w.p.call(Method::GET, "/api/v1/users/b-member", Some(&w.p.operator_token), None).await;
    assert_eq!(b_member.body["status"], "active");
    let b_job = w.p.call(Method::GET, &format!("/api/v1/jobs/{}", w.b_job_id), Some(&w.p.operator_token), None).await;
    assert_eq!(b_job.body["state"], "PENDING");
    assert_eq!(b_job.body["held"], false);
    let recipe =
        w.p.call(Method::GET, &format!("/api/v1/job-templates/{}", w.b_template_id), Some(&w.b_pi), None).await;
    assert_eq!(recipe.body["name"], "recipe", "{}", recipe.body);
}

#[tokio::test]
async fn the_operator_reaches_every_tenant() {
    // The matrix above would pass vacuously if B's objects were unreachable
    // to everyone; the operator must reach them.
    let w = world().await;
    let op = Some(w.p.operator_token.as_str());
    let b_job = format!("/api/v1/jobs/{}", w.b_job_id);
    for path in ["/api/v1/tenants/zju", "/api/v1/users/b-member", "/api/v1/projects/b-proj", &b_job] {
        let reply = w.p.call(Method::GET, path, op, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
    let users = w.p.call(Method::GET, "/api/v1/users", op, None).await;
    assert!(leaks(&users.body).is_some());
}

#[tokio::test]
async fn roles_inside_a_tenant_do_what_they_say() {
    let w = world().await;
    let token = |role: &str| w.callers.iter().find(|(r, _)| *r == role).unwrap().1.clone();
    let p = &w.p;
    // A manager adds members but cannot name managers; the PI can.
    let add = |user: &str, role: &str| json!({"user": user, "role": role});
    p.admin(Method::POST, "/api/v1/users", json!({"name": "a-new", "tenant": "jxu", "password": "password-123"})).await;
    let reply = p
        .call(Method::POST, "/api/v1/projects/a-proj/members", Some(&token("manager")), Some(add("a-new", "member")))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = p
        .call(Method::POST, "/api/v1/projects/a-proj/members", Some(&token("manager")), Some(add("a-new", "manager")))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let reply = p
        .call(Method::POST, "/api/v1/projects/a-proj/members", Some(&token("pi")), Some(add("a-new", "manager")))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // A plain member can do neither.
    let reply = p.call(Method::DELETE, "/api/v1/projects/a-proj/members/a-new", Some(&token("member")), None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    // Nobody removes the PI.
    let reply = p.call(Method::DELETE, "/api/v1/projects/a-proj/members/a-pi", Some(&p.operator_token), None).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    // A tenant admin creates users and projects in their tenant, but no operators.
    let reply = p
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&token("tenant-admin")),
            Some(json!({"name": "a-op", "tenant": "jxu", "role": "operator"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let reply = p
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&token("tenant-admin")),
            Some(json!({"name": "a-two", "tenant": "jxu"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["one_time_password"].as_str().map(str::len), Some(16));
    // Members see their projects only; the tenant admin sees the tenant's.
    let mine = p.call(Method::GET, "/api/v1/projects", Some(&token("reviewer")), None).await;
    assert_eq!(mine.body.as_array().unwrap().len(), 0);
    let tenant = p.call(Method::GET, "/api/v1/projects", Some(&token("tenant-admin")), None).await;
    assert_eq!(tenant.body.as_array().unwrap().len(), 1);
    // Members' limits: the PI sets anyone's, a manager plain members', the
    // tenant admin anyone's; a plain member nobody's, not even their own;
    // a PI of one project none in another (of the same tenant).
    let limit = |project: &str, user: &str| format!("/api/v1/projects/{project}/members/{user}/limits");
    let body = || Some(json!({"max_cpus": 8}));
    for (role, project, user, status) in [
        ("pi", "a-proj", "a-manager", StatusCode::OK),
        ("manager", "a-proj", "a-member", StatusCode::OK),
        ("manager", "a-proj", "a-pi", StatusCode::FORBIDDEN),
        ("tenant-admin", "a-proj", "a-pi", StatusCode::OK),
        ("member", "a-proj", "a-member", StatusCode::FORBIDDEN),
        ("member", "a-proj", "a-new", StatusCode::FORBIDDEN),
        ("pi", "a-proj", "a-reviewer", StatusCode::NOT_FOUND),
    ] {
        let reply = p.call(Method::PUT, &limit(project, user), Some(&token(role)), body()).await;
        assert_eq!(reply.status, status, "{role} on {project}/{user}: {}", reply.body);
    }
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "a-other", "tenant": "jxu", "pi": "a-new"})).await;
    p.admin(Method::POST, "/api/v1/projects/a-other/members", json!({"user": "a-member"})).await;
    let reply = p.call(Method::PUT, &limit("a-other", "a-member"), Some(&token("pi")), body()).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "a-pi is not of a-other: {}", reply.body);
    let limits = p.call(Method::GET, "/api/v1/limits", Some(&p.operator_token), None).await.body;
    let in_other = limits.as_array().unwrap().iter().filter(|l| l["project"] == "a-other").count();
    assert_eq!(in_other, 0, "{limits}");
}

/// The same matrix over the portal's pages and forms, generated from its
/// route table: every role of tenant A, signed in to the portal, reaches
/// none of tenant B's jobs and sees none of B's names. A portal route
/// without a case here fails the test.
#[tokio::test]
async fn no_role_of_one_tenant_reaches_another_tenant_through_the_portal() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let w = world().await;
    let page = |method: Method, path: String, session: String, form: Option<String>| {
        let router = w.p.router.clone();
        async move {
            let builder = axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header("cookie", format!("__Host-lushan-session={session}"))
                .header("sec-fetch-site", "same-origin")
                .header("content-type", "application/x-www-form-urlencoded");
            let response = router.oneshot(builder.body(Body::from(form.unwrap_or_default())).unwrap()).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    let b_job = w.b_job_id;
    // B's usage this month: a settled job of B's project that A's usage
    // pages and files must not show.
    let b_pi = w.p.login("b-pi").await;
    let settled = crate::portal_usage::submit(&w.p, &b_pi, "b-proj").await;
    let today = jiff::Zoned::now().strftime("%Y-%m-%d").to_string();
    crate::portal_usage::settle(&w.p, settled, &today, 600).await;
    let op = Some(w.p.operator_token.as_str());
    let b_wallet = w.p.call(Method::GET, "/api/v1/tenants/zju/wallet", op, None).await.body["balance"].clone();
    let mut platform_before = Vec::new();
    for path in ["/api/v1/prices", "/api/v1/qos", "/api/v1/sites"] {
        platform_before.push((path, w.p.call(Method::GET, path, op, None).await.body));
    }
    let mut checked = 0;
    let mut cross_tenant_access = Vec::new();
    for (method, route) in lushan_server::portal::route_table() {
        // (paths to try, whether each must be refused, the form's fields
        // besides its key)
        let b_grant = w.b_grant_id;
        let refused = |path: String, form: &str| vec![(path, true, form.to_owned())];
        let tries: Vec<(String, bool, String)> = match (method, route) {
            // No tenant's data: the sign-in page and form, the stylesheet.
            ("GET", "/login") | ("POST", "/login") => continue,
            ("GET", path) if path.starts_with("/static/") => continue,
            // Ends the caller's own session only.
            ("POST", "/logout") => continue,
            ("GET", "/") => vec![("/".into(), false, String::new())],
            ("GET", "/jobs") => vec![
                ("/jobs?state=all".into(), false, String::new()),
                ("/jobs?state=PENDING".into(), false, String::new()),
            ],
            ("GET", "/jobs/{id}") => vec![(format!("/jobs/{b_job}"), true, String::new())],
            ("POST", "/jobs/{id}/{action}") => ["cancel", "hold", "release"]
                .iter()
                .map(|a| (format!("/jobs/{b_job}/{a}"), true, String::new()))
                .collect(),
            // The centre's templates and the caller's own; B's project is
            // not the caller's to quote for or submit to.
            ("GET", "/submit") => vec![
                ("/submit".into(), false, String::new()),
                (format!("/submit?template={}", w.b_template_id), true, String::new()),
                (format!("/submit?template={}&mode=script", w.b_template_id), true, String::new()),
                // Submitting B's job again would show its script.
                (format!("/submit?job={b_job}"), true, String::new()),
            ],
            ("POST", "/submit") => ["quote", "submit"]
                .iter()
                .map(|action| {
                    let job = "account=b-proj&body=true&workdir=%2Ftmp&nonce=matrix";
                    ("/submit".to_owned(), true, format!("action={action}&{job}"))
                })
                .collect(),
            ("POST", "/templates/{id}/delete") => {
                vec![(format!("/templates/{}/delete", w.b_template_id), true, String::new())]
            }
            // Lists show the caller's scope only; forms aimed at B change nothing.
            ("GET", "/manage/tenants" | "/manage/users" | "/manage/projects" | "/projects" | "/reviews") => {
                vec![(route.to_owned(), false, String::new())]
            }
            ("GET", "/manage/grants") => vec![
                ("/manage/grants".into(), false, String::new()),
                ("/manage/grants?state=requested".into(), false, String::new()),
            ],
            ("POST", "/manage/tenants") => refused("/manage/tenants".into(), "name=zju-two&sector=university"),
            ("GET", "/manage/tenants/{name}") => refused("/manage/tenants/zju".into(), ""),
            ("POST", "/manage/tenants/{name}/status") => {
                refused("/manage/tenants/zju/status".into(), "status=disabled")
            }
            ("POST", "/manage/tenants/{name}/top-up") => {
                refused("/manage/tenants/zju/top-up".into(), "amount=5&reference=MATRIX-1")
            }
            ("POST", "/manage/users") => refused("/manage/users".into(), "name=zju-new&tenant=zju&role=member"),
            ("POST", "/manage/users/{name}/status") => refused("/manage/users/b-pi/status".into(), "status=disabled"),
            ("POST", "/manage/projects") => refused("/manage/projects".into(), "name=zju-proj&tenant=zju&pi=b-pi"),
            ("POST", "/manage/projects/{name}/status") => {
                refused("/manage/projects/b-proj/status".into(), "status=disabled")
            }
            ("GET", "/projects/{name}") => refused("/projects/b-proj".into(), ""),
            ("POST", "/projects/{name}/members") => vec![
                ("/projects/b-proj/members".into(), true, "user=b-member&role=manager".into()),
                // B's user into A's project: not a member candidate.
                ("/projects/a-proj/members".into(), true, "user=b-member&role=member".into()),
            ],
            ("POST", "/projects/{name}/members/{user}/remove") => {
                refused("/projects/b-proj/members/b-member/remove".into(), "")
            }
            ("POST", "/projects/{name}/members/{user}/limits") => vec![
                ("/projects/b-proj/members/b-member/limits".into(), true, "max_running_jobs=100".into()),
                // B's user is no member of A's project.
                ("/projects/a-proj/members/b-member/limits".into(), true, "max_running_jobs=100".into()),
            ],
            ("POST", "/projects/{name}/grants") => {
                refused("/projects/b-proj/grants".into(), "core_hours=10&from=2026-12-01&to=2027-01-31&reason=matrix")
            }
            ("POST", "/reviews/{id}") => refused(format!("/reviews/{b_grant}"), "score=3&comment=matrix"),
            ("GET", "/manage/grants/{id}") => refused(format!("/manage/grants/{b_grant}"), ""),
            ("POST", "/manage/grants/{id}/{decision}") => ["approve", "reject"]
                .iter()
                .map(|d| (format!("/manage/grants/{b_grant}/{d}"), true, "reason=matrix".to_owned()))
                .collect(),
            // Usage is `usage_report`'s scope: A's own, whatever the query.
            ("GET", "/usage") => vec![
                ("/usage".into(), false, String::new()),
                ("/usage?from=2026-01&to=2027-12".into(), false, String::new()),
            ],
            ("GET", "/usage.csv") => vec![("/usage.csv?from=2026-01&to=2027-12".into(), false, String::new())],
            // Another tenant's statement is refused; one's own is the admin's.
            ("GET", "/statement") => {
                vec![("/statement".into(), false, String::new()), ("/statement?tenant=zju".into(), true, String::new())]
            }
            ("GET", "/statement.csv") => {
                vec![
                    ("/statement.csv".into(), false, String::new()),
                    ("/statement.csv?tenant=zju".into(), true, String::new()),
                ]
            }
            // A co-builder's page: one's own tenant's (admins), never another's.
            ("GET", "/cobuilder") => vec![
                ("/cobuilder".into(), false, String::new()),
                ("/cobuilder?tenant=zju".into(), true, String::new()),
                ("/cobuilder?tenant=zju&month=2026-11".into(), true, String::new()),
            ],
            // The caller's own profile; forms without their fields change nothing.
            ("GET", "/profile") => vec![("/profile".into(), false, String::new())],
            ("POST", "/profile/password") | ("POST", "/profile/tokens") => vec![(route.into(), false, String::new())],
            ("POST", "/profile/language") => vec![("/profile/language".into(), false, String::new())],
            // B's PI's token: not A's to revoke.
            ("POST", "/profile/tokens/{id}/revoke") => {
                vec![(format!("/profile/tokens/{}/revoke", w.b_token_id), true, String::new())]
            }
            // The operator's console: sites, prices, limits and the audit
            // log as the services scope them (A's part); every change is the
            // operators', so each form aimed at B or at the platform fails.
            ("GET", "/operate" | "/operate/prices" | "/operate/wallets" | "/operate/limits") => {
                vec![(route.to_owned(), false, String::new())]
            }
            ("GET", "/operate/audit") => vec![
                ("/operate/audit".into(), false, String::new()),
                ("/operate/audit?target_kind=tenant&actor=admin".into(), false, String::new()),
            ],
            ("GET", "/operate/sites/{site}/check") => refused("/operate/sites/local/check".into(), ""),
            ("POST", "/operate/prices") => refused(route.into(), "target=local&core_hour=9&su_per_gpu_hour=16"),
            ("POST", "/operate/discounts") => refused(route.into(), "sector=enterprise&percent=90"),
            ("POST", "/operate/sharing") => refused(route.into(), "setting=owner-share&percent=1"),
            ("POST", "/operate/node-owner") => refused(route.into(), "site=local&node=x&owner=zju"),
            ("POST", "/operate/preemption") => refused(route.into(), "target=local/local&mode=cancel&grace_secs=1"),
            ("POST", "/operate/wallets/adjust") => {
                refused(route.into(), "tenant=zju&amount=-50&reference=MATRIX-2&reason=matrix")
            }
            ("POST", "/operate/wallets/credit-limit") => refused(route.into(), "tenant=zju&limit=1000"),
            ("POST", "/operate/limits") => vec![
                (route.into(), true, "scope=project&name=b-proj&max_cpus=1".into()),
                (route.into(), true, "scope=user&name=b-pi&clear=1".into()),
            ],
            ("POST", "/operate/qos") => refused(route.into(), "name=matrix&priority=1"),
            ("POST", "/operate/partition-priority") => refused(route.into(), "target=local/local&priority=9"),
            // Files are the caller's own Unix account's (it::files checks the
            // rules on a real machine): aimed at B's home, nothing works.
            ("GET", "/files") => {
                vec![("/files".into(), false, String::new()), ("/files?path=/home/b-pi".into(), true, String::new())]
            }
            ("GET", "/files/download") => refused("/files/download?path=/home/b-pi/x".into(), ""),
            ("POST", "/files/upload") => refused(route.into(), "dir=/home/b-pi"),
            ("POST", "/files/mkdir") => refused(route.into(), "dir=/home/b-pi&name=x"),
            ("POST", "/files/remove") => refused(route.into(), "path=/home/b-pi/x"),
            other => panic!("the portal route {other:?} has no case in the tenancy matrix: add one"),
        };
        for (role, session) in &w.callers {
            let (_, home) = page(Method::GET, "/".into(), session.clone(), None).await;
            let csrf = home.split("name=\"csrf\" value=\"").nth(1).and_then(|rest| rest.split('"').next());
            // A real key: a refusal must come from the tenancy, not the form.
            let key = csrf.unwrap_or_else(|| panic!("{role}: no form key on the home page"));
            for (path, must_fail, fields) in &tries {
                let form = Some(if fields.is_empty() { format!("csrf={key}") } else { format!("csrf={key}&{fields}") });
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                let (status, html) = page(method.clone(), path.clone(), session.clone(), form).await;
                checked += 1;
                assert!(!status.is_server_error(), "{role} {method} {path}: {status}");
                // The one exception the role makes, as in the API's matrix:
                // reviewers read and score every tenant's requests (never
                // decide them).
                let reviewing = *role == "reviewer"
                    && (path.starts_with("/reviews") || (method == Method::GET && path.starts_with("/manage/grants")));
                if reviewing {
                    continue;
                }
                // A form that worked answers 303 to the job's page.
                let reached = status.is_success() || status == StatusCode::SEE_OTHER;
                if *must_fail && reached {
                    cross_tenant_access.push(format!("{role} {method} {path}: {status}"));
                }
                if let Some(name) = B_NAMES.iter().find(|name| html.contains(&format!(">{name}<"))) {
                    cross_tenant_access.push(format!("{role} {method} {path}: shows `{name}`"));
                }
                // A CSV file's cells.
                let cells = || html.split([',', '\r', '\n']).map(|c| c.trim_matches(['"', '\'']));
                if let Some(name) = B_NAMES.iter().find(|name| cells().any(|c| c == **name)) {
                    cross_tenant_access.push(format!("{role} {method} {path}: has the cell `{name}`"));
                }
            }
        }
    }
    assert_eq!(cross_tenant_access, Vec::<String>::new(), "cross-tenant access through the portal");
    assert!(checked >= 6 * w.callers.len(), "only {checked} checks ran");
    let job = w.p.call(Method::GET, &format!("/api/v1/jobs/{b_job}"), Some(&w.p.operator_token), None).await;
    assert_eq!((job.body["state"].as_str(), job.body["held"].as_bool()), (Some("PENDING"), Some(false)));
    // Nothing of B changed: its tenant, users, project, members, wallet, grant.
    let tenant = w.p.call(Method::GET, "/api/v1/tenants/zju", op, None).await;
    assert_eq!(tenant.body["status"], "active", "{}", tenant.body);
    let pi = w.p.call(Method::GET, "/api/v1/users/b-pi", op, None).await;
    assert_eq!(pi.body["status"], "active", "{}", pi.body);
    let project = w.p.call(Method::GET, "/api/v1/projects/b-proj", op, None).await;
    assert_eq!(project.body["status"], "active", "{}", project.body);
    let mut roles: Vec<(String, String)> = project.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned()))
        .collect();
    roles.sort();
    assert_eq!(roles, vec![("b-member".into(), "member".into()), ("b-pi".into(), "pi".into())]);
    let wallet = w.p.call(Method::GET, "/api/v1/tenants/zju/wallet", op, None).await;
    assert_eq!(wallet.body["balance"], b_wallet, "{}", wallet.body);
    let grant = w.p.call(Method::GET, &format!("/api/v1/grants/{}", w.b_grant_id), op, None).await;
    assert_eq!(grant.body["state"], "requested", "{}", grant.body);
    let grants = w.p.call(Method::GET, "/api/v1/grants?project=b-proj", op, None).await;
    assert_eq!(grants.body.as_array().map(Vec::len), Some(1), "{}", grants.body);
    for name in ["zju-two", "zju-new", "zju-proj"] {
        let path = match name {
            "zju-two" => "/api/v1/tenants/zju-two",
            "zju-new" => "/api/v1/users/zju-new",
            _ => "/api/v1/projects/zju-proj",
        };
        assert_eq!(w.p.call(Method::GET, path, op, None).await.status, StatusCode::NOT_FOUND, "{name}");
    }
    let tokens = w.p.call(Method::GET, "/api/v1/tokens", Some(&b_pi), None).await;
    let first = tokens.body.as_array().unwrap().iter().find(|t| t["id"] == w.b_token_id).unwrap();
    assert_eq!(first["state"], "active", "B's token is not revoked");
    // B's limits as the world set them; the platform's prices and QOS unchanged.
    let limits = w.p.call(Method::GET, "/api/v1/limits", op, None).await.body;
    for name in ["b-proj", "b-pi", "b-member"] {
        let limit = limits.as_array().unwrap().iter().find(|l| l["name"] == name).unwrap();
        assert_eq!((limit["max_running_jobs"].as_i64(), limit["max_cpus"].as_i64()), (Some(4), None), "{limit}");
    }
    for (path, before) in platform_before {
        assert_eq!(w.p.call(Method::GET, path, op, None).await.body, before, "{path} changed");
    }
}
