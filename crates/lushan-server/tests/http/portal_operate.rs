//! The operator's console through the real router: status with the local
//! site's partitions and nodes and its check, prices and discounts,
//! wallets' adjustments and credit limits, limits and QOS, the audit log
//! with its filters. Every other role is refused with nothing changed; bad
//! input is a clear page with nothing changed; names users typed are
//! escaped. (A real browser drives the console in `it::portal_operate`.)

use crate::common::Platform;
use crate::portal::{PLANTED, assert_escaped, form_of as form, get, open_page as open, post, send};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// What the operator's forms change, read through the API.
async fn state_of(p: &Platform) -> Value {
    let op = Some(p.operator_token.as_str());
    let mut all = serde_json::Map::new();
    for path in ["/api/v1/prices", "/api/v1/limits", "/api/v1/qos", "/api/v1/sites", "/api/v1/tenants/jxu/wallet"] {
        let reply = p.call(Method::GET, path, op, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        all.insert(path.into(), reply.body);
    }
    Value::Object(all)
}

async fn world() -> Platform {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university", "display_name": PLANTED}))
        .await;
    p.user("jxu-admin", "jxu", "tenant-admin").await;
    p.user("jxu-pi", "jxu", "member").await;
    p.user("jxu-reviewer", "jxu", "reviewer").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "jxu-proj", "tenant": "jxu", "pi": "jxu-pi"})).await;
    p.admin(Method::POST, "/api/v1/tenants/jxu/wallet/top-ups", json!({"amount": "100", "reference": "T-1"})).await;
    p
}

#[tokio::test]
async fn the_operator_runs_the_platform_from_the_console() {
    let p = world().await;
    let op = p.operator_token.clone();
    // Status: the local site, its partition and node as sinfo shows them.
    let (status, _) = open(&p, "/operate?lang=en", &op).await;
    for text in
        ["Operations", "id=\"sites\"", ">local<", "id=\"partitions\"", "id=\"nodes\"", "/operate/sites/local/check"]
    {
        assert!(status.html.contains(text), "{text}: {}", status.html);
    }
    let (status, _) = open(&p, "/operate?lang=zh-CN", &op).await;
    assert!(status.html.contains("平台运维") && status.html.contains("集群") && status.html.contains("节点"));
    // The local site's check.
    let (check, _) = open(&p, "/operate/sites/local/check?lang=en", &op).await;
    assert!(check.html.contains("id=\"check\"") && check.html.contains(">Backend<") && check.html.contains("OK"));
    let unknown = send(&p, get("/operate/sites/nowhere/check", Some(&op))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.html);

    // Prices: set one for the local partition, a discount, the owners' share.
    let (prices, csrf) = open(&p, "/operate/prices?lang=en", &op).await;
    assert!(prices.html.contains("id=\"no-prices\"") || prices.html.contains("id=\"prices\""), "{}", prices.html);
    let price = [("target", "local/local"), ("core_hour", "0.05"), ("gpu_hour", "2.5"), ("su_per_gpu_hour", "16")];
    let done = send(&p, post("/operate/prices", Some(&op), &form(&csrf, &price))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(done.headers.get("location").unwrap(), "/operate/prices");
    let (prices, _) = open(&p, "/operate/prices?lang=en", &op).await;
    assert!(prices.html.contains("¥0.05") && prices.html.contains("¥2.50"), "{}", prices.html);
    let done =
        send(&p, post("/operate/discounts", Some(&op), &form(&csrf, &[("sector", "school"), ("percent", "30")]))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let share = [("setting", "owner-share"), ("percent", "70")];
    assert_eq!(send(&p, post("/operate/sharing", Some(&op), &form(&csrf, &share))).await.status, StatusCode::SEE_OTHER);
    let list = p.call(Method::GET, "/api/v1/prices", Some(&op), None).await.body;
    assert!(list["owner_share_percent"].as_str().unwrap().starts_with("70"), "{list}");
    assert!(list["discounts"].to_string().contains("school"), "{list}");
    let preempt = [("target", "local/local"), ("mode", "requeue"), ("grace_secs", "60")];
    let done = send(&p, post("/operate/preemption", Some(&op), &form(&csrf, &preempt))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);

    // Wallets: an adjustment with its reason, a credit limit.
    let (wallets, csrf) = open(&p, "/operate/wallets?lang=en", &op).await;
    assert_escaped(&wallets);
    assert!(wallets.html.contains("¥100.00"), "{}", wallets.html);
    let adjust = [("tenant", "jxu"), ("amount", "-20.5"), ("reference", "ADJ-1"), ("reason", "double charge")];
    let done = send(&p, post("/operate/wallets/adjust", Some(&op), &form(&csrf, &adjust))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let credit = [("tenant", "jxu"), ("limit", "500")];
    let done = send(&p, post("/operate/wallets/credit-limit", Some(&op), &form(&csrf, &credit))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let wallet = p.call(Method::GET, "/api/v1/tenants/jxu/wallet", Some(&op), None).await.body;
    assert_eq!(
        (wallet["balance"].as_str(), wallet["credit_limit"].as_str()),
        (Some("79.50"), Some("500.00")),
        "{wallet}"
    );

    // Limits: set, shown, cleared; a QOS and a partition's priority.
    let (limits, csrf) = open(&p, "/operate/limits?lang=en", &op).await;
    assert!(limits.html.contains("id=\"no-limits\""), "{}", limits.html);
    let set = [("scope", "project"), ("name", "jxu-proj"), ("max_running_jobs", "4"), ("max_cpus", "64")];
    let done = send(&p, post("/operate/limits", Some(&op), &form(&csrf, &set))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let (limits, _) = open(&p, "/operate/limits?lang=en", &op).await;
    assert!(limits.html.contains(">jxu-proj<") && limits.html.contains(">64<"), "{}", limits.html);
    let qos = [("name", "urgent"), ("priority", "100"), ("description", PLANTED)];
    let done = send(&p, post("/operate/qos", Some(&op), &form(&csrf, &qos))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let (limits, _) = open(&p, "/operate/limits", &op).await;
    assert_escaped(&limits);
    assert!(limits.html.contains(">urgent<"), "{}", limits.html);
    let priority = [("target", "local/local"), ("priority", "5")];
    let done = send(&p, post("/operate/partition-priority", Some(&op), &form(&csrf, &priority))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let clear = [("scope", "project"), ("name", "jxu-proj"), ("clear", "1")];
    let done = send(&p, post("/operate/limits", Some(&op), &form(&csrf, &clear))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let after = p.call(Method::GET, "/api/v1/limits", Some(&op), None).await.body;
    assert!(!after.to_string().contains("\"max_cpus\":64"), "{after}");

    // The audit log: everything above, filtered and paginated.
    let (audit, _) = open(&p, "/operate/audit?lang=en", &op).await;
    for action in ["price.set", "price.discount", "wallet.adjust", "wallet.credit-limit", "limits.set", "qos.set"] {
        assert!(audit.html.contains(action), "{action}: {}", audit.html);
    }
    assert_escaped(&audit);
    let (only, _) = open(&p, "/operate/audit?action=price.set", &op).await;
    assert!(only.html.contains("price.set") && !only.html.contains("wallet.adjust"), "{}", only.html);
    let (kind, _) = open(&p, "/operate/audit?target_kind=tenant&actor=admin", &op).await;
    assert!(kind.html.contains("wallet.adjust") && !kind.html.contains("qos.set"), "{}", kind.html);
    let today = jiff::Zoned::now().strftime("%Y-%m-%d").to_string();
    let (days, _) = open(&p, &format!("/operate/audit?from={today}&to={today}"), &op).await;
    assert!(days.html.contains("qos.set"), "{}", days.html);
    let (none, _) = open(&p, "/operate/audit?from=2001-01-01&to=2001-01-02&lang=en", &op).await;
    assert!(none.html.contains("id=\"empty\""), "{}", none.html);
    let bad = send(&p, get("/operate/audit?from=yesterday", Some(&op))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    let bad = send(&p, get("/operate/audit?page=0", Some(&op))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
}

/// A form's path, its fields, the status of its refusal and the id of the
/// message beside the field.
type Case = (&'static str, Vec<(&'static str, &'static str)>, StatusCode, &'static str);

#[tokio::test]
async fn bad_input_is_a_clear_page_and_changes_nothing() {
    let p = world().await;
    let op = p.operator_token.clone();
    let (_, csrf) = open(&p, "/operate/prices", &op).await;
    let before = state_of(&p).await;
    let audit = p.audit_len().await;
    let cases: Vec<Case> = vec![
        (
            "/operate/prices",
            vec![("target", "local/local"), ("core_hour", "1e9"), ("su_per_gpu_hour", "16")],
            StatusCode::BAD_REQUEST,
            "price-core_hour-error",
        ),
        (
            "/operate/prices",
            vec![("target", "local/local"), ("core_hour", "-5"), ("su_per_gpu_hour", "16")],
            StatusCode::BAD_REQUEST,
            "price-core_hour-error",
        ),
        (
            "/operate/prices",
            vec![("target", "local/local"), ("core_hour", "abc"), ("su_per_gpu_hour", "16")],
            StatusCode::BAD_REQUEST,
            "price-core_hour-error",
        ),
        (
            "/operate/prices",
            vec![("target", "nowhere"), ("core_hour", "1"), ("su_per_gpu_hour", "16")],
            StatusCode::BAD_REQUEST,
            "price-target-error",
        ),
        (
            "/operate/prices",
            vec![("target", "local/nowhere"), ("core_hour", "1"), ("su_per_gpu_hour", "16")],
            StatusCode::BAD_REQUEST,
            "price-target-error",
        ),
        (
            "/operate/prices",
            vec![("target", "local"), ("core_hour", "1"), ("su_per_gpu_hour", "abc")],
            StatusCode::BAD_REQUEST,
            "price-su_per_gpu_hour-error",
        ),
        (
            "/operate/discounts",
            vec![("sector", "school"), ("percent", "150")],
            StatusCode::BAD_REQUEST,
            "discount-percent-error",
        ),
        (
            "/operate/discounts",
            vec![("sector", "school"), ("percent", "abc")],
            StatusCode::BAD_REQUEST,
            "discount-percent-error",
        ),
        (
            "/operate/discounts",
            vec![("sector", "pirates"), ("percent", "5")],
            StatusCode::BAD_REQUEST,
            "discount-sector-error",
        ),
        (
            "/operate/sharing",
            vec![("setting", "owner-share"), ("percent", "-5")],
            StatusCode::BAD_REQUEST,
            "owner-share-percent-error",
        ),
        (
            "/operate/node-owner",
            vec![("site", "local"), ("node", "nowhere"), ("owner", "jxu")],
            StatusCode::NOT_FOUND,
            "owner-node-error",
        ),
        (
            "/operate/preemption",
            vec![("target", "local/local"), ("mode", "explode"), ("grace_secs", "0")],
            StatusCode::BAD_REQUEST,
            "preemption-mode-error",
        ),
        (
            "/operate/preemption",
            vec![("target", "local/nowhere"), ("mode", "off"), ("grace_secs", "0")],
            StatusCode::NOT_FOUND,
            "preemption-target-error",
        ),
        (
            "/operate/wallets/adjust",
            vec![("tenant", "jxu"), ("amount", "1e9"), ("reference", "A-1"), ("reason", "r")],
            StatusCode::BAD_REQUEST,
            "adjust-amount-error",
        ),
        (
            "/operate/wallets/adjust",
            vec![("tenant", "jxu"), ("amount", "abc"), ("reference", "A-2"), ("reason", "r")],
            StatusCode::BAD_REQUEST,
            "adjust-amount-error",
        ),
        (
            "/operate/wallets/adjust",
            vec![("tenant", "jxu"), ("amount", "5"), ("reference", "A-3"), ("reason", "")],
            StatusCode::BAD_REQUEST,
            "adjust-reason-error",
        ),
        (
            "/operate/wallets/adjust",
            vec![("tenant", "nobody"), ("amount", "5"), ("reference", "A-4"), ("reason", "r")],
            StatusCode::NOT_FOUND,
            "adjust-tenant-error",
        ),
        (
            "/operate/wallets/credit-limit",
            vec![("tenant", "jxu"), ("limit", "-5")],
            StatusCode::BAD_REQUEST,
            "credit-limit-error",
        ),
        (
            "/operate/wallets/credit-limit",
            vec![("tenant", "jxu"), ("limit", "1e9")],
            StatusCode::BAD_REQUEST,
            "credit-limit-error",
        ),
        (
            "/operate/limits",
            vec![("scope", "project"), ("name", "jxu-proj"), ("max_cpus", "abc")],
            StatusCode::BAD_REQUEST,
            "limits-max_cpus-error",
        ),
        (
            "/operate/limits",
            vec![("scope", "project"), ("name", "jxu-proj"), ("max_cpus", "-5")],
            StatusCode::BAD_REQUEST,
            "limits-max_cpus-error",
        ),
        (
            "/operate/limits",
            vec![("scope", "project"), ("name", "nothing"), ("max_cpus", "5")],
            StatusCode::NOT_FOUND,
            "limits-name-error",
        ),
        (
            "/operate/limits",
            vec![("scope", "galaxy"), ("name", "jxu-proj"), ("max_cpus", "5")],
            StatusCode::BAD_REQUEST,
            "limits-scope-error",
        ),
        ("/operate/qos", vec![("name", "Bad Name"), ("priority", "1")], StatusCode::BAD_REQUEST, "qos-name-error"),
        ("/operate/qos", vec![("name", "fine"), ("priority", "1e9")], StatusCode::BAD_REQUEST, "qos-priority-error"),
        (
            "/operate/partition-priority",
            vec![("target", "local/local"), ("priority", "-5")],
            StatusCode::BAD_REQUEST,
            "priority-priority-error",
        ),
        (
            "/operate/partition-priority",
            vec![("target", "local/nowhere"), ("priority", "5")],
            StatusCode::NOT_FOUND,
            "priority-target-error",
        ),
    ];
    for (path, fields, status, id) in cases {
        let page = send(&p, post(&format!("{path}?lang=en"), Some(&op), &form(&csrf, &fields))).await;
        assert_eq!(page.status, status, "{path} {fields:?}: {}", page.html);
        assert!(page.html.contains(&format!("id=\"{id}\"")), "{path} {fields:?}: no {id}: {}", page.html);
        assert!(page.html.contains("<form"), "{path}: the form is shown again");
    }
    // A form without this session's key.
    let stale =
        send(&p, post("/operate/prices", Some(&op), "csrf=nope&target=local&core_hour=1&su_per_gpu_hour=16")).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert_eq!(state_of(&p).await, before, "a refused form changed something");
    assert_eq!(p.audit_len().await, audit, "a refused form was audited");
}

#[tokio::test]
async fn no_other_role_changes_anything_from_the_console() {
    let p = world().await;
    let mut sessions = Vec::new();
    for user in ["jxu-admin", "jxu-pi", "jxu-reviewer"] {
        sessions.push((user, p.login(user).await));
    }
    let before = state_of(&p).await;
    let audit = p.audit_len().await;
    for (user, session) in sessions {
        let (home, csrf) = open(&p, "/", &session).await;
        assert!(!home.html.contains("href=\"/operate\""), "{user} sees the console's link");
        // Read-only pages show what the services let them see; no forms.
        for path in ["/operate", "/operate/prices", "/operate/limits"] {
            let (page, _) = open(&p, path, &session).await;
            assert!(!page.html.contains(&format!("action=\"{path}\"")), "{user} {path}: a form");
        }
        let check = send(&p, get("/operate/sites/local/check", Some(&session))).await;
        assert_eq!(check.status, StatusCode::FORBIDDEN, "{user}: {}", check.html);
        let audit_page = send(&p, get("/operate/audit", Some(&session))).await;
        let expected = if user == "jxu-admin" { StatusCode::OK } else { StatusCode::FORBIDDEN };
        assert_eq!(audit_page.status, expected, "{user}: {}", audit_page.html);
        let forms: [(&str, &[(&str, &str)]); 10] = [
            ("/operate/prices", &[("target", "local"), ("core_hour", "9"), ("su_per_gpu_hour", "16")]),
            ("/operate/discounts", &[("sector", "university"), ("percent", "90")]),
            ("/operate/sharing", &[("setting", "owner-share"), ("percent", "1")]),
            ("/operate/node-owner", &[("site", "local"), ("node", "x"), ("owner", "jxu")]),
            ("/operate/preemption", &[("target", "local/local"), ("mode", "cancel"), ("grace_secs", "1")]),
            ("/operate/wallets/adjust", &[("tenant", "jxu"), ("amount", "1000"), ("reference", "X"), ("reason", "r")]),
            ("/operate/wallets/credit-limit", &[("tenant", "jxu"), ("limit", "1000")]),
            ("/operate/limits", &[("scope", "project"), ("name", "jxu-proj"), ("max_cpus", "1")]),
            ("/operate/qos", &[("name", "mine"), ("priority", "1")]),
            ("/operate/partition-priority", &[("target", "local/local"), ("priority", "9")]),
        ];
        for (path, fields) in forms {
            let page = send(&p, post(path, Some(&session), &form(&csrf, fields))).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{user} {path}: {}", page.html);
        }
    }
    assert_eq!(state_of(&p).await, before, "another role changed something");
    assert_eq!(p.audit_len().await, audit);
}

#[tokio::test]
async fn the_audit_api_filters_by_action_actor_target_kind_and_days() {
    let p = world().await;
    let op = Some(p.operator_token.as_str());
    let admin = p.login("jxu-admin").await;
    p.admin(Method::PUT, "/api/v1/limits/project/jxu-proj", json!({"max_cpus": 8})).await;
    let events = |body: &Value| -> Vec<(String, String, String)> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let text = |k: &str| e[k].as_str().unwrap().to_owned();
                (text("action"), text("actor"), text("target_kind"))
            })
            .collect()
    };
    let all = p.call(Method::GET, "/api/v1/audit", op, None).await;
    assert!(events(&all.body).iter().any(|e| e.0 == "tenant.create"), "{}", all.body);
    let limits = p.call(Method::GET, "/api/v1/audit?action=limits.set", op, None).await;
    assert_eq!(events(&limits.body), vec![("limits.set".into(), "admin".into(), "project".into())]);
    let kind = p.call(Method::GET, "/api/v1/audit?target_kind=tenant&actor=admin&limit=2", op, None).await;
    let kind = events(&kind.body);
    assert!(!kind.is_empty() && kind.len() <= 2 && kind.iter().all(|e| e.2 == "tenant"), "{kind:?}");
    let today = jiff::Zoned::now().strftime("%Y-%m-%d").to_string();
    let days = p.call(Method::GET, &format!("/api/v1/audit?from={today}&to={today}"), op, None).await;
    assert_eq!(events(&days.body).len(), events(&all.body).len());
    let past = p.call(Method::GET, "/api/v1/audit?from=2001-01-01&to=2001-12-31", op, None).await;
    assert_eq!(past.body, json!([]));
    // A tenant admin's part only, with the same filters.
    let theirs = p.call(Method::GET, "/api/v1/audit?action=limits.set", Some(&admin), None).await;
    assert_eq!(events(&theirs.body).len(), 1, "{}", theirs.body);
    let member = p.login("jxu-pi").await;
    let refused = p.call(Method::GET, "/api/v1/audit?action=limits.set", Some(&member), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    for bad in ["from=yesterday", "to=2026-13-01", "from=2026-12-02&to=2026-12-01", "colour=red"] {
        let reply = p.call(Method::GET, &format!("/api/v1/audit?{bad}"), op, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.body);
    }
}

#[tokio::test]
async fn the_audit_page_comes_50_a_page_and_its_pager_keeps_the_filters() {
    let p = world().await;
    let op = p.operator_token.clone();
    for i in 0..55 {
        p.admin(Method::PUT, &format!("/api/v1/qos/q{i}"), json!({"priority": i})).await;
    }
    let (first, _) = open(&p, "/operate/audit?action=qos.set&lang=en", &op).await;
    assert_eq!(first.html.matches("<td>qos.set</td>").count(), 50, "{}", first.html);
    let next = "/operate/audit?page=2&#38;action=qos.set";
    assert!(first.html.contains(next), "{}", first.html);
    let (second, _) = open(&p, "/operate/audit?page=2&action=qos.set", &op).await;
    assert_eq!(second.html.matches("<td>qos.set</td>").count(), 5, "{}", second.html);
    assert!(!second.html.contains("tenant.create"));
}

/// The queue's figures per partition are the database's counts of the
/// jobs the caller may see: the operator sees every job, a member their own.
#[tokio::test]
async fn the_console_counts_the_queue_per_partition_in_the_database() {
    let p = world().await;
    let op = p.operator_token.clone();
    let pi = p.login("jxu-pi").await;
    let admin = p.login("jxu-admin").await;
    let jobs = [
        crate::portal_usage::submit(&p, &pi, "jxu-proj").await,
        crate::portal_usage::submit(&p, &pi, "jxu-proj").await,
        crate::portal_usage::submit(&p, &pi, "jxu-proj").await,
    ];
    let started = p.store.start_job(lushan_model::JobId(jobs[0]), 1_000, "n1", "{}").await.unwrap();
    assert!(started);
    // Pending 2, running 1 in the local site's one partition.
    let figures = "<td class=\"num\">2</td>\n    <td class=\"num\">1</td>";
    let (status, _) = open(&p, "/operate?lang=en", &op).await;
    assert!(status.html.contains(figures), "{}", status.html);
    // A tenant admin sees their tenant's jobs: the same; another tenant's
    // member sees none of them.
    let (theirs, _) = open(&p, "/operate?lang=en", &admin).await;
    assert!(theirs.html.contains(figures), "{}", theirs.html);
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "zju", "sector": "university"})).await;
    let stranger = p.user("zju-member", "zju", "member").await;
    let (none, _) = open(&p, "/operate?lang=en", &stranger).await;
    assert!(none.html.contains("<td class=\"num\">0</td>\n    <td class=\"num\">0</td>"), "{}", none.html);
}

/// Sites and partitions come 50 a page, each list with its own pager that
/// keeps the others' pages.
#[tokio::test]
async fn the_console_pages_sites_and_partitions() {
    let p = world().await;
    let op = p.operator_token.clone();
    let centre = p.store.centre_tenant_id().await.unwrap();
    // The local site and 51 more, each with one partition: 52 of each.
    for i in 0..51 {
        let name = format!("extra{i:02}");
        let site =
            lushan_store::NewSite { name: &name, backend: "local", partition: "batch", nodes: vec![], created_at: 1 };
        let audit = lushan_store::AuditEntry {
            at: 1,
            actor_user_id: None,
            actor: "test".into(),
            action: "site.create",
            target_kind: "site",
            target: name.clone(),
            tenant_id: None,
            before: None,
            after: None,
            request_id: None,
        };
        assert!(p.store.ensure_site(&site, centre, &audit).await.unwrap());
    }
    let (first, _) = open(&p, "/operate?lang=en", &op).await;
    let sites = |html: &str| html.split("id=\"sites\"").nth(1).unwrap().split("</table>").next().unwrap().to_owned();
    let partitions =
        |html: &str| html.split("id=\"partitions\"").nth(1).unwrap().split("</table>").next().unwrap().to_owned();
    assert_eq!(sites(&first.html).matches("<tr>").count(), 51, "a header and 50 sites");
    assert_eq!(partitions(&first.html).matches("<tr>").count(), 51, "a header and 50 partitions");
    assert!(first.html.contains("href=\"/operate?sites_page=2\""), "{}", first.html);
    assert!(first.html.contains("href=\"/operate?partitions_page=2\""), "{}", first.html);
    let (second, _) = open(&p, "/operate?partitions_page=2&lang=en", &op).await;
    assert_eq!(partitions(&second.html).matches("<tr>").count(), 3, "a header and the last 2");
    assert_eq!(sites(&second.html).matches("<tr>").count(), 51, "the sites stay on their first page");
    // Paging the sites keeps the partitions' page.
    assert!(second.html.contains("href=\"/operate?sites_page=2&#38;partitions_page=2\""), "{}", second.html);
    for bad in ["sites_page=0", "partitions_page=x", "page=-1"] {
        let reply = send(&p, get(&format!("/operate?{bad}"), Some(&op))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.html);
    }
}

/// The audit log is paged by the database: page 2 holds the older entries,
/// the filters hold on every page, the API pages with `offset`, and a bad
/// page or offset is a 400.
#[tokio::test]
async fn the_audit_log_is_paged_by_the_database_with_its_filters() {
    let p = world().await;
    let op = p.operator_token.clone();
    for i in 0..120 {
        p.admin(Method::PUT, &format!("/api/v1/qos/q{i:03}"), json!({"priority": i})).await;
        if i % 10 == 0 {
            p.admin(Method::PUT, "/api/v1/limits/project/jxu-proj", json!({"max_cpus": i + 1})).await;
        }
    }
    let targets = |html: &str| -> Vec<String> {
        html.split("<td>qos.set</td><td>qos</td><td>").skip(1).map(|rest| rest[..4].to_owned()).collect()
    };
    let (first, _) = open(&p, "/operate/audit?action=qos.set&lang=en", &op).await;
    assert_eq!(targets(&first.html), (70..120).rev().map(|i| format!("q{i:03}")).collect::<Vec<_>>());
    let (second, _) = open(&p, "/operate/audit?page=2&action=qos.set&lang=en", &op).await;
    assert_eq!(targets(&second.html), (20..70).rev().map(|i| format!("q{i:03}")).collect::<Vec<_>>());
    assert!(!second.html.contains("limits.set"), "the filter holds on page 2");
    let (third, _) = open(&p, "/operate/audit?page=3&action=qos.set", &op).await;
    assert_eq!(targets(&third.html).len(), 20);
    assert!(third.html.contains("rel=\"prev\"") && !third.html.contains("rel=\"next\""), "{}", third.html);
    // The API pages the same list with `offset`.
    let api = p.call(Method::GET, "/api/v1/audit?action=qos.set&limit=50&offset=50", Some(&op), None).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let names: Vec<&str> = api.body.as_array().unwrap().iter().map(|e| e["target"].as_str().unwrap()).collect();
    assert_eq!(names, (20..70).rev().map(|i| format!("q{i:03}")).collect::<Vec<_>>());
    // A tenant admin pages their tenant's part only.
    let admin = p.login("jxu-admin").await;
    let (theirs, _) = open(&p, "/operate/audit?lang=en", &admin).await;
    assert!(theirs.html.contains("limits.set") && !theirs.html.contains("qos.set"), "{}", theirs.html);
    for bad in ["page=0", "page=abc", "page=-2"] {
        let reply = send(&p, get(&format!("/operate/audit?{bad}"), Some(&op))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.html);
    }
    let bad = p.call(Method::GET, "/api/v1/audit?offset=-1", Some(&op), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
}

/// The menu groups the management links in one `<details>` entry (no
/// script needed) for operators and tenant admins, marks the current
/// section, and shows each role only its links.
#[tokio::test]
async fn the_menu_groups_management_and_marks_the_current_section() {
    let p = world().await;
    let op = p.operator_token.clone();
    let menu =
        |html: &str| html.split("<nav aria-label=\"main\">").nth(1).unwrap().split("</nav>").next().unwrap().to_owned();
    let (status, _) = open(&p, "/operate/sites/local/check?lang=en", &op).await;
    let top = menu(&status.html);
    assert!(
        top.contains("<details class=\"menu\">") && top.contains("href=\"/manage/grants?state=requested\""),
        "{top}"
    );
    assert!(top.contains("<a href=\"/operate\" aria-current=\"page\">"), "{top}");
    assert_eq!(top.matches("aria-current").count(), 1, "{top}");
    assert!(
        status.html.contains("class=\"subnav\"")
            && status.html.contains("<a href=\"/operate\" aria-current=\"page\">Status")
    );
    let (users, _) = open(&p, "/manage/users?lang=en", &op).await;
    let top = menu(&users.html);
    assert!(top.contains("<details class=\"menu current\">"), "{top}");
    assert!(top.contains("<a href=\"/manage/users\" aria-current=\"page\">"), "{top}");
    // A tenant admin: the list without grant requests, no console.
    let admin = p.login("jxu-admin").await;
    let (home, _) = open(&p, "/?lang=en", &admin).await;
    let top = menu(&home.html);
    assert!(top.contains("href=\"/manage/users\"") && !top.contains("/manage/grants") && !top.contains("\"/operate\""));
    assert!(top.contains("<a href=\"/\" aria-current=\"page\">"), "{top}");
    // A member and a reviewer: no management at all.
    for who in ["jxu-pi", "jxu-reviewer"] {
        let token = p.login(who).await;
        let (jobs, _) = open(&p, "/jobs?lang=en", &token).await;
        let top = menu(&jobs.html);
        assert!(!top.contains("details") && !top.contains("/manage/") && !top.contains("/operate"), "{who}: {top}");
        assert!(top.contains("<a href=\"/jobs\" aria-current=\"page\">"), "{who}: {top}");
        assert_eq!(top.contains("href=\"/reviews\""), who == "jxu-reviewer", "{who}: {top}");
    }
}
