//! Job templates through the API: the centre's four to start with, a
//! user's own kept to themselves, operators alone changing the centre's,
//! and every bad template refused with nothing stored.

use crate::common::Platform;
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn setup() -> (Platform, String, String) {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let alice = p.user("alice", "jxu", "member").await;
    let bob = p.user("bob", "jxu", "member").await;
    (p, alice, bob)
}

#[tokio::test]
async fn everyone_starts_with_the_centre_s_four_and_keeps_their_own_to_themselves() {
    let (p, alice, bob) = setup().await;
    let list = p.call(Method::GET, "/api/v1/job-templates", Some(&alice), None).await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<&str> = list.body.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["plain", "mpi", "array-sweep", "gpu-pytorch"]);
    assert!(list.body.as_array().unwrap().iter().all(|t| t["centre"] == true));

    let mine = json!({"name": "my-cfd", "title": "我的 CFD", "title_en": "My CFD",
        "script": "#!/bin/bash\n#SBATCH -n 4\nsrun ./cfd\n"});
    let created = p.call(Method::POST, "/api/v1/job-templates", Some(&alice), Some(mine.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["centre"], false);
    let id = created.body["id"].as_i64().unwrap();
    // Listed after the centre's, for her only.
    let list = p.call(Method::GET, "/api/v1/job-templates", Some(&alice), None).await;
    assert_eq!(list.body.as_array().unwrap().last().unwrap()["name"], "my-cfd");
    let theirs = p.call(Method::GET, "/api/v1/job-templates", Some(&bob), None).await;
    assert_eq!(theirs.body.as_array().unwrap().len(), 4);
    for (method, body) in [(Method::GET, None), (Method::PUT, Some(mine.clone())), (Method::DELETE, None)] {
        let reply = p.call(method.clone(), &format!("/api/v1/job-templates/{id}"), Some(&bob), body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method}: {}", reply.body);
    }
    // The same name twice is a conflict; another user may use it.
    let again = p.call(Method::POST, "/api/v1/job-templates", Some(&alice), Some(mine.clone())).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let bobs = p.call(Method::POST, "/api/v1/job-templates", Some(&bob), Some(mine)).await;
    assert_eq!(bobs.status, StatusCode::CREATED, "{}", bobs.body);
    // She edits and deletes her own.
    let edit = json!({"name": "my-cfd", "title": "CFD v2", "script": "#!/bin/bash\nsrun ./cfd2\n"});
    let edited = p.call(Method::PUT, &format!("/api/v1/job-templates/{id}"), Some(&alice), Some(edit)).await;
    assert_eq!(edited.body["title"], "CFD v2", "{}", edited.body);
    let gone = p.call(Method::DELETE, &format!("/api/v1/job-templates/{id}"), Some(&alice), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let gone = p.call(Method::GET, &format!("/api/v1/job-templates/{id}"), Some(&alice), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_operators_change_the_centre_s_templates() {
    let (p, alice, _) = setup().await;
    let centre =
        json!({"centre": true, "name": "openfoam", "title": "OpenFOAM", "script": "#!/bin/bash\nsimpleFoam\n"});
    let refused = p.call(Method::POST, "/api/v1/job-templates", Some(&alice), Some(centre.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let plain = p.call(Method::GET, "/api/v1/job-templates", Some(&alice), None).await.body[0]["id"].as_i64().unwrap();
    let edit = json!({"centre": true, "name": "plain", "title": "mine", "script": "#!/bin/bash\ntrue\n"});
    for (method, body) in [(Method::PUT, Some(edit.clone())), (Method::DELETE, None)] {
        let reply = p.call(method.clone(), &format!("/api/v1/job-templates/{plain}"), Some(&alice), body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method}: {}", reply.body);
    }
    let op = Some(p.operator_token.as_str());
    let created = p.call(Method::POST, "/api/v1/job-templates", op, Some(centre)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let listed = p.call(Method::GET, "/api/v1/job-templates", Some(&alice), None).await;
    assert!(listed.body.as_array().unwrap().iter().any(|t| t["name"] == "openfoam"));
    // A centre template does not become someone's own by an edit.
    let moved = json!({"centre": false, "name": "plain", "title": "x", "script": "#!/bin/bash\ntrue\n"});
    let reply = p.call(Method::PUT, &format!("/api/v1/job-templates/{plain}"), op, Some(moved)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let audit = p.call(Method::GET, "/api/v1/audit?limit=5", op, None).await;
    assert!(audit.body.to_string().contains("template.create"), "{}", audit.body);
}

#[tokio::test]
async fn a_bad_template_is_refused_with_its_reason_and_nothing_is_stored() {
    let (p, alice, _) = setup().await;
    let cases = [
        (json!({"name": "Bad Name", "title": "x", "script": "#!/bin/sh\ntrue\n"}), "template name"),
        (json!({"name": "ok", "title": "", "script": "#!/bin/sh\ntrue\n"}), "title is empty"),
        (json!({"name": "ok", "title": "two\nlines", "script": "#!/bin/sh\ntrue\n"}), "one line"),
        (json!({"name": "ok", "title": "x", "script": "true\n"}), "#!"),
        (json!({"name": "ok", "title": "x", "script": "#!/bin/sh\n#SBATCH --nodes=lots\ntrue\n"}), "--nodes"),
        (json!({"name": "ok", "title": "x", "script": "#!/bin/sh\n#SBATCH --no-such=1\ntrue\n"}), "no-such"),
        (json!({"name": "ok", "title": "x", "description": "d".repeat(1001), "script": "#!/bin/sh\ntrue\n"}), "1000"),
    ];
    let before = p.audit_len().await;
    for (body, says) in cases {
        let reply = p.call(Method::POST, "/api/v1/job-templates", Some(&alice), Some(body.clone())).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.body);
        assert!(reply.body["error"]["message"].as_str().unwrap().contains(says), "{body}: {}", reply.body);
    }
    assert_eq!(p.audit_len().await, before);
    let list = p.call(Method::GET, "/api/v1/job-templates", Some(&alice), None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 4);
}
