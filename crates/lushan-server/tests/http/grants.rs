//! Public-welfare grants through the API: a PI requests, a reviewer of
//! another tenant scores (not their own tenant's), the operator approves
//! less than asked, and the project's jobs are then held in service units
//! against the grant, or refused when it cannot cover them.

use crate::common::Platform;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

fn job(options: &[&str]) -> Value {
    json!({"script": "#!/bin/sh\ntrue\n", "options": options, "submit_dir": "/tmp"})
}

#[tokio::test]
async fn a_grant_is_requested_reviewed_approved_and_pays_for_jobs() {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    let bob = p.user("bob", "jxu", "member").await;
    let own_reviewer = p.user("jxu-rev", "jxu", "reviewer").await;
    let reviewer = p.user("rev", "centre", "reviewer").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/projects/cfd-lab/members", json!({"user": "bob"})).await;

    let request = json!({"project": "cfd-lab", "core_hours": 50_000, "gpu_hours": 200, "from": "2026-01-01",
        "to": "2099-12-31", "reason": "LES of a swirl burner"});
    let denied = p.call(Method::POST, "/api/v1/grants", Some(&bob), Some(request.clone())).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "only the PI requests: {}", denied.body);
    let bad = json!({"project": "cfd-lab", "core_hours": 10, "from": "2027-01-01", "to": "2026-01-01", "reason": "x"});
    let bad = p.call(Method::POST, "/api/v1/grants", Some(&alice), Some(bad)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let created = p.call(Method::POST, "/api/v1/grants", Some(&alice), Some(request)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["state"], "requested");

    // Before approval the project's jobs are paid from the wallet (empty: refused, 402).
    let refused = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job(&["-A", "cfd-lab"]))).await;
    assert_eq!(refused.status, StatusCode::PAYMENT_REQUIRED, "{}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("tenant jxu has 0.00 CNY available"));

    // Reviews: the centre's reviewer scores it; jxu's own reviewer may not; members see no names.
    let score = |token: &str, score: i64| {
        let token = token.to_owned();
        let p = &p;
        async move {
            p.call(
                Method::POST,
                &format!("/api/v1/grants/{id}/reviews"),
                Some(&token),
                Some(json!({"score": score, "comment": "strong case"})),
            )
            .await
        }
    };
    assert_eq!(score(&own_reviewer, 5).await.status, StatusCode::FORBIDDEN);
    assert_eq!(score(&alice, 5).await.status, StatusCode::FORBIDDEN);
    assert_eq!(score(&reviewer, 9).await.status, StatusCode::BAD_REQUEST);
    let reviewed = score(&reviewer, 4).await;
    assert_eq!(reviewed.status, StatusCode::OK, "{}", reviewed.body);
    assert_eq!(reviewed.body["reviews"][0]["reviewer"], "rev");
    let seen = p.call(Method::GET, &format!("/api/v1/grants/{id}"), Some(&alice), None).await;
    assert_eq!(seen.body["reviews"][0]["reviewer"], "reviewer 1");
    assert_eq!(seen.body["reviews"][0]["score"], 4);
    let queue = p.call(Method::GET, "/api/v1/grants?state=requested", Some(&reviewer), None).await;
    assert_eq!(queue.body.as_array().unwrap().len(), 1);
    let reviewer_decides = p
        .call(Method::POST, &format!("/api/v1/grants/{id}/approve"), Some(&reviewer), Some(json!({"reason": ""})))
        .await;
    assert_eq!(reviewer_decides.status, StatusCode::FORBIDDEN);

    // The operator approves less than asked: 100 core-hours and 1 GPU-hour (16 SU) = 116 SU.
    let too_much = json!({"core_hours": 60_000});
    let reply =
        p.call(Method::POST, &format!("/api/v1/grants/{id}/approve"), Some(&p.operator_token), Some(too_much)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let approved = p
        .admin(
            Method::POST,
            &format!("/api/v1/grants/{id}/approve"),
            json!({"core_hours": 100, "gpu_hours": 1, "reason": "first year at reduced size"}),
        )
        .await;
    assert_eq!((&approved["state"], &approved["awarded_su"]), (&"approved".into(), &"116.00".into()), "{approved}");
    let again = p
        .call(
            Method::POST,
            &format!("/api/v1/grants/{id}/reject"),
            Some(&p.operator_token),
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a decision is final: {}", again.body);

    // Now the grant pays: 2 cores for 10 hours = 20 SU held, in service units.
    let estimate = p
        .call(
            Method::POST,
            "/api/v1/jobs/estimate",
            Some(&bob),
            Some(job(&["-A", "cfd-lab", "-n", "2", "-t", "10:00:00"])),
        )
        .await;
    assert_eq!(estimate.status, StatusCode::OK, "{}", estimate.body);
    assert_eq!(
        (&estimate.body["funding"], &estimate.body["unit"], &estimate.body["worst_case"]),
        (&"grant".into(), &"SU".into(), &"20.00".into()),
        "{}",
        estimate.body
    );
    let accepted = p
        .call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job(&["-A", "cfd-lab", "-n", "2", "-t", "10:00:00"])))
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    let grant = p.call(Method::GET, &format!("/api/v1/grants/{id}"), Some(&alice), None).await;
    assert_eq!((&grant.body["held_su"], &grant.body["remaining_su"]), (&"20.00".into(), &"96.00".into()));
    // 100 hours of 1 core is more than 96 SU left: refused with both amounts.
    let over = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job(&["-A", "cfd-lab", "-t", "100:00:00"]))).await;
    assert_eq!(over.status, StatusCode::PAYMENT_REQUIRED, "{}", over.body);
    let message = over.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("grant {id} has 96.00 service units left; this job may use up to 100.00")),
        "{message}"
    );
    // Naming the wallet, or a grant that is not there, is honoured or refused.
    let wallet = p
        .call(Method::POST, "/api/v1/jobs/estimate", Some(&bob), Some(json!({"script": "#!/bin/sh\n", "options": ["-A", "cfd-lab"], "submit_dir": "/tmp", "allocation": "wallet"})))
        .await;
    assert_eq!(wallet.body["funding"], "wallet", "{}", wallet.body);
    let unknown = p
        .call(Method::POST, "/api/v1/jobs/estimate", Some(&bob), Some(json!({"script": "#!/bin/sh\n", "options": ["-A", "cfd-lab"], "submit_dir": "/tmp", "allocation": "999"})))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains(&format!("grants that cover it now: {id}")));

    // A grant whose period is over pays for nothing; its state says so.
    let past =
        json!({"project": "cfd-lab", "core_hours": 10, "from": "2020-01-01", "to": "2020-12-31", "reason": "old"});
    let past = p.call(Method::POST, "/api/v1/grants", Some(&alice), Some(past)).await.body["id"].as_i64().unwrap();
    let expired = p.admin(Method::POST, &format!("/api/v1/grants/{past}/approve"), json!({})).await;
    assert_eq!(expired["state"], "expired");
    let open =
        json!({"project": "cfd-lab", "core_hours": 10, "from": "2027-01-01", "to": "2027-12-31", "reason": "more"});
    let open = p.call(Method::POST, "/api/v1/grants", Some(&alice), Some(open)).await.body["id"].as_i64().unwrap();
    let reject_silent = p
        .call(
            Method::POST,
            &format!("/api/v1/grants/{open}/reject"),
            Some(&p.operator_token),
            Some(json!({"reason": " "})),
        )
        .await;
    assert_eq!(reject_silent.status, StatusCode::BAD_REQUEST, "a rejection says why");
    let rejected = p.admin(Method::POST, &format!("/api/v1/grants/{open}/reject"), json!({"reason": "budget"})).await;
    assert_eq!((&rejected["state"], &rejected["decision_reason"]), (&"rejected".into(), &"budget".into()));
}

#[tokio::test]
async fn a_request_s_project_usage_is_shown_to_those_who_weigh_it_and_to_no_one_else() {
    let p = Platform::new().await;
    for tenant in ["jxu", "hit"] {
        p.admin(Method::POST, "/api/v1/tenants", json!({"name": tenant, "sector": "university"})).await;
    }
    let admin = p.user("jxu-admin", "jxu", "tenant-admin").await;
    let alice = p.user("alice", "jxu", "member").await;
    let bob = p.user("bob", "jxu", "member").await;
    let carol = p.user("carol", "jxu", "member").await;
    let outsider = p.user("dave", "hit", "tenant-admin").await;
    let reviewer = p.user("rev", "centre", "reviewer").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/projects/cfd-lab/members", json!({"user": "bob", "role": "manager"})).await;
    p.admin(Method::POST, "/api/v1/projects/cfd-lab/members", json!({"user": "carol"})).await;
    let request =
        json!({"project": "cfd-lab", "core_hours": 10, "from": "2026-12-01", "to": "2027-05-31", "reason": "x"});
    let id = p.call(Method::POST, "/api/v1/grants", Some(&alice), Some(request)).await.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/grants/{id}/usage?from=2026-01-01&to=2026-12-31");
    for (who, token) in [
        ("operator", p.operator_token.as_str()),
        ("reviewer", &reviewer),
        ("tenant admin", &admin),
        ("PI", &alice),
        ("manager", &bob),
    ] {
        let reply = p.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{who}: {}", reply.body);
        assert_eq!(
            (&reply.body["by"], &reply.body["from"], &reply.body["to"]),
            (&"project".into(), &"2026-01-01".into(), &"2026-12-31".into())
        );
        assert_eq!(reply.body["rows"], json!([]), "nothing settled yet: {}", reply.body);
        assert_eq!(reply.body["total"]["jobs"], 0, "{}", reply.body);
    }
    // A plain member sees their own usage elsewhere; another tenant not even the request.
    assert_eq!(p.call(Method::GET, &path, Some(&carol), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(p.call(Method::GET, &path, Some(&outsider), None).await.status, StatusCode::NOT_FOUND);
    let backwards = format!("/api/v1/grants/{id}/usage?from=2026-12-31&to=2026-01-01");
    assert_eq!(p.call(Method::GET, &backwards, Some(&reviewer), None).await.status, StatusCode::BAD_REQUEST);
    let defaults = p.call(Method::GET, &format!("/api/v1/grants/{id}/usage"), Some(&reviewer), None).await;
    assert_eq!(defaults.status, StatusCode::OK, "a year up to today: {}", defaults.body);
}
