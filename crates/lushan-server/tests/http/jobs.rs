//! Job submission through the API: what is accepted, what is refused and
//! why, and who sees and controls which jobs. (No control loop runs here:
//! jobs stay pending. Running them is tested with the real binary.)

use crate::common::Platform;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

async fn setup() -> (Platform, String, String, String) {
    let p = Platform::new().await;
    p.admin(Method::POST, "/api/v1/tenants", json!({"name": "jxu", "sector": "university"})).await;
    let pi = p.user("alice", "jxu", "member").await;
    let member = p.user("bob", "jxu", "member").await;
    let other = p.user("carol", "jxu", "member").await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "cfd-lab", "tenant": "jxu", "pi": "alice"})).await;
    p.admin(Method::POST, "/api/v1/projects/cfd-lab/members", json!({"user": "bob"})).await;
    p.admin(Method::POST, "/api/v1/projects", json!({"name": "bio", "tenant": "jxu", "pi": "carol"})).await;
    p.admin(Method::POST, "/api/v1/tenants/jxu/wallet/top-ups", json!({"amount": "1000", "reference": "T-1"})).await;
    (p, pi, member, other)
}

fn job(script: &str, options: &[&str]) -> Value {
    json!({"script": script, "options": options, "submit_dir": "/home/bob", "env": {"HOME": "/home/bob", "SBATCH_JOB_NAME": "from-env"}})
}

#[tokio::test]
async fn a_job_is_stored_with_what_it_asked_for() {
    let (p, _, bob, _) = setup().await;
    let script = "#!/bin/bash\n#SBATCH -n 2 -c 1 --mem-per-cpu=100M -t 1:30:00\n#SBATCH -o out/%x-%j.log\n#SBATCH --mail-type=END\nsrun hostname\n";
    let reply = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job(script, &["-A", "cfd-lab"]))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let j = &reply.body["job"];
    assert_eq!(j["state"], "PENDING");
    assert_eq!(j["name"], "from-env");
    assert_eq!(j["project"], "cfd-lab");
    assert_eq!(j["cpus"], 2);
    assert_eq!(j["mem_per_node_mb"], 200);
    assert_eq!(j["time_limit"], "01:30:00");
    assert_eq!(j["stdout"], "/home/bob/out/%x-%j.log");
    assert_eq!(j["workdir"], "/home/bob");
    assert!(reply.body["warnings"][0].as_str().unwrap().contains("--mail-type=END"), "{}", reply.body);
}

#[tokio::test]
async fn impossible_or_wrong_jobs_are_refused_with_the_reason_and_change_nothing() {
    let (p, _, bob, _) = setup().await;
    let before = p.audit_len().await;
    let cases: [(Value, &str); 10] = [
        (
            job("#!/bin/sh\n", &["-A", "cfd-lab", "-N", "1000000", "--ntasks-per-node=1000000", "-c", "1000000"]),
            "can never run in partition `local`",
        ),
        (job("#!/bin/sh\n#SBATCH --time=abc\n", &["-A", "cfd-lab"]), "line 2: --time=abc"),
        (job("#!/bin/sh\n#SBATCH --bogus\n", &["-A", "cfd-lab"]), "unrecognized option `--bogus`"),
        (job("#!/bin/sh\n", &["-A", "bio"]), "you are not a member of project `bio`; your projects: cfd-lab"),
        (
            job("#!/bin/sh\n", &["-A", "cfd-lab", "-p", "gpu"]),
            "unknown partition `gpu` on site `local`; partitions: local",
        ),
        (job("#!/bin/sh\n", &["-A", "cfd-lab", "-q", "high"]), "unknown QOS `high`; you may use: normal"),
        (job("#!/bin/sh\n", &["-A", "cfd-lab", "-n", "100000"]), "can never run in partition `local`"),
        (job("#!/bin/sh\n", &["-A", "cfd-lab", "--mem=100T"]), "its largest node has"),
        (job("#!/bin/sh\n", &["-A", "cfd-lab", "-M", "hpc9"]), "unknown site `hpc9`; sites: local"),
        (
            job("#!/bin/sh\n", &["-A", "cfd-lab", "--dependency=afterok:999"]),
            "invalid --dependency: job 999 does not exist",
        ),
    ];
    for (body, needle) in cases {
        let reply = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "`{needle}` not in: {message}");
    }
    let gpus = p
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&bob),
            Some(job("#!/bin/sh\n", &["-A", "cfd-lab", "--gres=gpu:h100:1"])),
        )
        .await;
    assert!(gpus.body["error"]["message"].as_str().unwrap().contains("GPUs of type `h100`"), "{}", gpus.body);
    assert_eq!(p.audit_len().await, before);
    let jobs = p.call(Method::GET, "/api/v1/jobs", Some(&bob), None).await;
    assert_eq!(jobs.body.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_only_project_is_the_default_and_idempotency_keys_return_the_first_job() {
    let (p, _, bob, _) = setup().await;
    let mut body = job("#!/bin/sh\n", &[]);
    body["idempotency_key"] = json!("retry-1");
    let first = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["job"]["project"], "cfd-lab");
    let again = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(body)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["job"]["job_id"], first.body["job"]["job_id"]);
    assert_eq!(p.call(Method::GET, "/api/v1/jobs", Some(&bob), None).await.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pis_see_their_projects_jobs_members_only_their_own() {
    let (p, alice, bob, carol) = setup().await;
    let bob_job = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job("#!/bin/sh\n", &["-A", "cfd-lab"]))).await;
    let id = bob_job.body["job"]["job_id"].as_i64().unwrap();
    let alice_job =
        p.call(Method::POST, "/api/v1/jobs", Some(&alice), Some(job("#!/bin/sh\n", &["-A", "cfd-lab"]))).await;
    let alice_id = alice_job.body["job"]["job_id"].as_i64().unwrap();
    let count = |token: &str| {
        let token = token.to_owned();
        let p = &p;
        async move { p.call(Method::GET, "/api/v1/jobs", Some(&token), None).await.body.as_array().unwrap().len() }
    };
    assert_eq!(count(&alice).await, 2, "the PI sees the project's jobs");
    assert_eq!(count(&bob).await, 1, "a member sees their own");
    assert_eq!(count(&carol).await, 0, "another project's PI sees none");
    assert_eq!(
        p.call(Method::GET, &format!("/api/v1/jobs/{alice_id}"), Some(&bob), None).await.status,
        StatusCode::NOT_FOUND
    );

    // Hold, release and cancel a pending job.
    let held = p.call(Method::POST, &format!("/api/v1/jobs/{id}/hold"), Some(&bob), None).await;
    assert_eq!((held.body["held"].clone(), held.body["reason"].clone()), (json!(true), json!("JobHeldUser")));
    let released = p.call(Method::POST, &format!("/api/v1/jobs/{id}/release"), Some(&alice), None).await;
    assert_eq!(released.body["held"], false);
    let cancelled = p.call(Method::POST, &format!("/api/v1/jobs/{id}/cancel"), Some(&alice), None).await;
    assert_eq!(cancelled.body["state"], "CANCELLED");
    let again = p.call(Method::POST, &format!("/api/v1/jobs/{id}/cancel"), Some(&bob), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let active = p.call(Method::GET, "/api/v1/jobs?active=true&state=PD,CA", Some(&alice), None).await;
    assert_eq!(active.body.as_array().unwrap().len(), 1, "{}", active.body);
    let bad = p.call(Method::GET, "/api/v1/jobs?state=DONE", Some(&alice), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// Slurm's MaxArraySize (default 1001): task ids from it up are refused as
/// Slurm refuses them, before anything is stored; up to it, all are stored.
#[tokio::test]
async fn array_task_ids_from_max_array_size_up_are_refused_and_store_nothing() {
    let (p, _, bob, _) = setup().await;
    let before = p.audit_len().await;
    for spec in ["0-1001", "1001", "3,5000", "0-4000000:100000", "1-200000%4"] {
        let body = job("#!/bin/sh\n", &["-A", "cfd-lab", &format!("--array={spec}")]);
        let reply = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{spec}: {}", reply.body);
        let message = reply.body["error"]["message"].as_str().unwrap();
        for needle in
            ["Invalid job array specification", "task ids go up to 1000", "MaxArraySize 1001", "`max_array_size`"]
        {
            assert!(message.contains(needle), "{spec}: `{needle}` not in: {message}");
        }
    }
    assert_eq!(p.audit_len().await, before);
    let listed = p.call(Method::GET, "/api/v1/jobs", Some(&bob), None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 0, "{}", listed.body);

    let body = job("#!/bin/sh\n", &["-A", "cfd-lab", "-t", "1", "--array=0-1000"]);
    let reply = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let array = reply.body["job"]["array_job_id"].as_i64().unwrap();
    let tasks = p.call(Method::GET, &format!("/api/v1/jobs?array={array}"), Some(&bob), None).await;
    let ids: Vec<i64> = tasks.body.as_array().unwrap().iter().map(|t| t["array_task_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (0..=1000).collect::<Vec<i64>>());
}

#[tokio::test]
async fn an_array_is_one_row_per_task_and_dependencies_name_real_jobs() {
    let (p, alice, bob, _) = setup().await;
    let reply =
        p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job("#!/bin/sh\n#SBATCH --array=1-5:2%2\n", &[]))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let array = reply.body["job"]["array_job_id"].as_i64().unwrap();
    assert_eq!(reply.body["job"]["stdout"], "/home/bob/slurm-%A_%a.out");
    let tasks = p.call(Method::GET, &format!("/api/v1/jobs?array={array}"), Some(&bob), None).await;
    let ids: Vec<(i64, i64)> = tasks
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["array_task_id"].as_i64().unwrap(), t["array_throttle"].as_i64().unwrap()))
        .collect();
    assert_eq!(ids, [(1, 2), (3, 2), (5, 2)]);
    // A task that does not exist is refused.
    let refused = p
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&alice),
            Some(job("#!/bin/sh\n", &["--dependency", &format!("afterok:{array}_9")])),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let ok = p
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&bob),
            Some(job("#!/bin/sh\n", &["-d", &format!("afterok:{array}_3,afterany:{array}")])),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(ok.body["job"]["dependency"], format!("afterok:{array}_3,afterany:{array}"));
    let begin =
        p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job("#!/bin/sh\n", &["--begin=now+1hour"]))).await;
    assert!(begin.body["job"]["begin_time"].is_string(), "{}", begin.body);
}

#[tokio::test]
async fn operators_limit_jobs_pending_or_running_and_a_submission_over_the_limit_is_refused() {
    let (p, alice, bob, _) = setup().await;
    let script = "#!/bin/sh\ntrue\n";
    // Only operators set limits; bad values and targets change nothing.
    let before = p.audit_len().await;
    for (path, body, status) in [
        ("/api/v1/limits/project/cfd-lab", json!({"max_submitted": -1}), StatusCode::BAD_REQUEST),
        ("/api/v1/limits/tenant/jxu", json!({"max_submitted": 1}), StatusCode::BAD_REQUEST),
        ("/api/v1/limits/project/nope", json!({"max_submitted": 1}), StatusCode::NOT_FOUND),
        ("/api/v1/limits/project/cfd-lab", json!({"max_jobs": 1}), StatusCode::BAD_REQUEST),
    ] {
        let reply = p.call(Method::PUT, path, Some(&p.operator_token), Some(body)).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
    }
    let pi_tries =
        p.call(Method::PUT, "/api/v1/limits/project/cfd-lab", Some(&alice), Some(json!({"max_submitted": 100}))).await;
    assert_eq!(pi_tries.status, StatusCode::FORBIDDEN, "{}", pi_tries.body);
    assert_eq!(p.audit_len().await, before);

    let set = p.admin(Method::PUT, "/api/v1/limits/project/cfd-lab", json!({"max_submitted": 2, "max_cpus": 8})).await;
    assert_eq!((set["scope"].as_str(), set["max_submitted"].as_i64()), (Some("project"), Some(2)), "{set}");
    p.admin(Method::PUT, "/api/v1/limits/user/bob", json!({"max_running_jobs": 1})).await;
    let listed = p.call(Method::GET, "/api/v1/limits", Some(&bob), None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2, "{}", listed.body);

    let submit =
        |options: &'static [&'static str]| p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job(script, options)));
    assert_eq!(submit(&["-A", "cfd-lab"]).await.status, StatusCode::CREATED);
    // An array counts its tasks: two more would make three.
    let over = submit(&["-A", "cfd-lab", "--array=1-2"]).await;
    assert_eq!(over.status, StatusCode::CONFLICT, "{}", over.body);
    let message = over.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "AssocMaxSubmitJobLimit: project cfd-lab may have at most 2 job(s) pending or running and has 1"
        ),
        "{message}"
    );
    assert_eq!(submit(&["-A", "cfd-lab"]).await.status, StatusCode::CREATED);
    assert_eq!(submit(&["-A", "cfd-lab"]).await.status, StatusCode::CONFLICT);
    // Lifted (every value null): accepted again; both changes audited.
    p.admin(Method::PUT, "/api/v1/limits/project/cfd-lab", json!({})).await;
    assert_eq!(submit(&["-A", "cfd-lab"]).await.status, StatusCode::CREATED);
    let listed = p.call(Method::GET, "/api/v1/limits", Some(&p.operator_token), None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1, "only bob's is left: {}", listed.body);
    let audit = p.call(Method::GET, "/api/v1/audit", Some(&p.operator_token), None).await;
    let sets = audit.body.as_array().unwrap().iter().filter(|e| e["action"] == "limits.set").count();
    assert_eq!(sets, 3, "{}", audit.body);
}

#[tokio::test]
async fn a_pi_limits_a_member_in_their_project_only_and_a_submission_over_it_is_refused() {
    let (p, alice, bob, carol) = setup().await;
    let script = "#!/bin/sh\ntrue\n";
    // bob is also a member of carol's project.
    p.admin(Method::POST, "/api/v1/projects/bio/members", json!({"user": "bob"})).await;
    let path = "/api/v1/projects/cfd-lab/members/bob/limits";
    let before = p.audit_len().await;
    // Bad values, a user not a member, a member or another project's PI:
    // refused, with what to do, and nothing changes.
    for (token, path, body, status, says) in [
        (&alice, path, json!({"max_submitted": -1}), StatusCode::BAD_REQUEST, "between 0 and 1000000000"),
        (&alice, path, json!({"max_gpus": 1_000_000_001i64}), StatusCode::BAD_REQUEST, "max_gpus"),
        (&alice, path, json!({"max_jobs": 1}), StatusCode::BAD_REQUEST, "max_jobs"),
        (
            &alice,
            "/api/v1/projects/cfd-lab/members/carol/limits",
            json!({"max_submitted": 1}),
            StatusCode::NOT_FOUND,
            "add them to the project first",
        ),
        (
            &bob,
            "/api/v1/projects/cfd-lab/members/alice/limits",
            json!({"max_submitted": 1}),
            StatusCode::FORBIDDEN,
            "PI",
        ),
        (&bob, path, json!({"max_submitted": 1}), StatusCode::FORBIDDEN, "you may not set the limits"),
        (&carol, path, json!({"max_submitted": 1}), StatusCode::NOT_FOUND, "project `cfd-lab` not found"),
    ] {
        let reply = p.call(Method::PUT, path, Some(token), Some(body)).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert!(reply.body["error"]["message"].as_str().unwrap().contains(says), "{}", reply.body);
    }
    assert_eq!(p.audit_len().await, before);
    // The PI sets bob's limits in cfd-lab: listed with the project, audited.
    let reply = p.call(Method::PUT, path, Some(&alice), Some(json!({"max_submitted": 1, "max_cpus": 4}))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let set = reply.body;
    assert_eq!(
        (set["scope"].as_str(), set["name"].as_str(), set["project"].as_str()),
        (Some("member"), Some("bob"), Some("cfd-lab"))
    );
    assert_eq!(
        (set["max_submitted"].as_i64(), set["max_cpus"].as_i64(), set["max_gpus"].as_i64()),
        (Some(1), Some(4), None)
    );
    let listed = p.call(Method::GET, "/api/v1/limits", Some(&bob), None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1, "{}", listed.body);
    let audit = p.call(Method::GET, "/api/v1/audit?action=limits.set", Some(&p.operator_token), None).await;
    let entry = &audit.body[0];
    assert_eq!(
        (entry["target_kind"].as_str(), entry["target"].as_str()),
        (Some("member"), Some("cfd-lab/bob")),
        "{entry}"
    );
    // bob's second job in cfd-lab is refused; in bio he is not limited.
    let submit =
        |project: &'static str| p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job(script, &["-A", project])));
    assert_eq!(submit("cfd-lab").await.status, StatusCode::CREATED);
    let over = submit("cfd-lab").await;
    assert_eq!(over.status, StatusCode::CONFLICT, "{}", over.body);
    let message = over.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "AssocMaxSubmitJobLimit: user bob in project cfd-lab may have at most 1 job(s) pending or running and has 1"
        ) && message.contains("ask the project's PI or a manager"),
        "{message}"
    );
    assert_eq!(submit("bio").await.status, StatusCode::CREATED);
    assert_eq!(submit("bio").await.status, StatusCode::CREATED);
    // alice in cfd-lab is not limited by bob's limit.
    let mine = p.call(Method::POST, "/api/v1/jobs", Some(&alice), Some(job(script, &["-A", "cfd-lab"]))).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    // Lifted: accepted again. The PI limits themselves; the tenant admin anyone.
    let reply = p.call(Method::PUT, path, Some(&alice), Some(json!({}))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(submit("cfd-lab").await.status, StatusCode::CREATED);
    let own = "/api/v1/projects/cfd-lab/members/alice/limits";
    assert_eq!(p.call(Method::PUT, own, Some(&alice), Some(json!({"max_gpus": 2}))).await.status, StatusCode::OK);
    let admin = p.user("jxu-admin", "jxu", "tenant-admin").await;
    assert_eq!(p.call(Method::PUT, path, Some(&admin), Some(json!({"max_gpus": 1}))).await.status, StatusCode::OK);
    // Leaving the project takes the member's limits with them.
    p.call(Method::DELETE, "/api/v1/projects/cfd-lab/members/bob", Some(&alice), None).await;
    let listed = p.call(Method::GET, "/api/v1/limits", Some(&p.operator_token), None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1, "only alice's: {}", listed.body);
}

#[tokio::test]
async fn operators_add_qos_levels_users_pick_them_and_partitions_get_priorities() {
    let (p, alice, bob, _) = setup().await;
    let before = p.audit_len().await;
    // Bad names, priorities and descriptions, and anyone but an operator:
    // refused, nothing stored.
    for (path, body, status) in [
        ("/api/v1/qos/High", json!({"priority": 10}), StatusCode::BAD_REQUEST),
        ("/api/v1/qos/9lives", json!({"priority": 10}), StatusCode::BAD_REQUEST),
        ("/api/v1/qos/high", json!({"priority": -1}), StatusCode::BAD_REQUEST),
        ("/api/v1/qos/high", json!({"priority": 1_000_001}), StatusCode::BAD_REQUEST),
        ("/api/v1/qos/high", json!({"priority": 1, "description": "two\nlines"}), StatusCode::BAD_REQUEST),
        ("/api/v1/qos/high", json!({"priority": 1, "weight": 2}), StatusCode::BAD_REQUEST),
        ("/api/v1/sites/local/partitions/local/priority", json!({"priority_job_factor": -3}), StatusCode::BAD_REQUEST),
        ("/api/v1/sites/local/partitions/nope/priority", json!({"priority_job_factor": 3}), StatusCode::NOT_FOUND),
        ("/api/v1/sites/nope/partitions/local/priority", json!({"priority_job_factor": 3}), StatusCode::NOT_FOUND),
    ] {
        let reply = p.call(Method::PUT, path, Some(&p.operator_token), Some(body)).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
    }
    let pi_tries = p.call(Method::PUT, "/api/v1/qos/high", Some(&alice), Some(json!({"priority": 10}))).await;
    assert_eq!(pi_tries.status, StatusCode::FORBIDDEN, "{}", pi_tries.body);
    assert_eq!(p.audit_len().await, before);
    let listed = p.call(Method::GET, "/api/v1/qos", Some(&bob), None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1, "only normal: {}", listed.body);
    assert_eq!(listed.body[0]["name"], "normal");

    // An unknown QOS is refused with the ones there are.
    let unknown = p
        .call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job("#!/bin/sh\n", &["-A", "cfd-lab", "-q", "high"])))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("unknown QOS `high`; you may use: normal"));

    let high = p.admin(Method::PUT, "/api/v1/qos/high", json!({"priority": 100, "description": "deadlines"})).await;
    assert_eq!((high["priority"].as_i64(), high["description"].as_str()), (Some(100), Some("deadlines")));
    // A change without a description keeps it.
    let changed = p.admin(Method::PUT, "/api/v1/qos/high", json!({"priority": 50})).await;
    assert_eq!((changed["priority"].as_i64(), changed["description"].as_str()), (Some(50), Some("deadlines")));
    let ok = p
        .call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job("#!/bin/sh\n", &["-A", "cfd-lab", "-q", "high"])))
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(ok.body["job"]["qos"], "high");
    let plain = p.call(Method::POST, "/api/v1/jobs", Some(&bob), Some(job("#!/bin/sh\n", &["-A", "cfd-lab"]))).await;
    assert_eq!(plain.body["job"]["qos"], "normal");
    // Prices may now name it.
    let price = p
        .call(
            Method::POST,
            "/api/v1/prices",
            Some(&p.operator_token),
            Some(json!({"site": "local", "qos": "high", "core_hour": "0.2"})),
        )
        .await;
    assert!(price.status.is_success(), "{}", price.body);

    let sites =
        p.admin(Method::PUT, "/api/v1/sites/local/partitions/local/priority", json!({"priority_job_factor": 7})).await;
    let local = sites.as_array().unwrap().iter().find(|s| s["name"] == "local").unwrap();
    assert_eq!(local["partitions"][0]["priority_job_factor"], 7, "{local}");
    let audit = p.call(Method::GET, "/api/v1/audit", Some(&p.operator_token), None).await;
    let actions: Vec<&str> = audit.body.as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "qos.set").count(), 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "partition.priority").count(), 1, "{actions:?}");
}

/// Bob's plain job, bob's arrays of 3 and 2 tasks, and carol's job in
/// another project: two arrays and a plain job, so that "all my jobs" and
/// "this array's tasks" are different sets. Returns (plain, first array,
/// second array, carol's job).
async fn two_arrays_and_plain_jobs(p: &Platform, bob: &str, carol: &str) -> (i64, i64, i64, i64) {
    let submit = |token: &str, options: &[&str]| {
        let body = job("#!/bin/sh\n", options);
        let token = token.to_owned();
        async move {
            let reply = p.call(Method::POST, "/api/v1/jobs", Some(&token), Some(body)).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            reply.body["job"]["job_id"].as_i64().unwrap()
        }
    };
    let plain = submit(bob, &["-A", "cfd-lab", "--hold"]).await;
    let first = submit(bob, &["-A", "cfd-lab", "--hold", "--array=0-2"]).await;
    let second = submit(bob, &["-A", "cfd-lab", "--hold", "--array=0-1"]).await;
    let carols = submit(carol, &["-A", "bio", "--hold"]).await;
    (plain, first, second, carols)
}

/// Each `JobQuery` filter on its own narrows the listing to what it names,
/// for the operator who sees every job.
#[tokio::test]
async fn every_job_query_filter_narrows_the_listing_on_its_own() {
    let (p, _, bob, carol) = setup().await;
    let (plain, first, second, carols) = two_arrays_and_plain_jobs(&p, &bob, &carol).await;
    let cancelled = p.call(Method::POST, &format!("/api/v1/jobs/{carols}/cancel"), Some(&carol), None).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let op = p.operator_token.clone();
    let ids = |query: &str| {
        let path = format!("/api/v1/jobs{query}");
        let p = &p;
        let op = op.clone();
        async move {
            let reply = p.call(Method::GET, &path, Some(&op), None).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            reply.body.as_array().unwrap().iter().map(|j| j["job_id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    let every: Vec<i64> =
        [vec![plain], (first..first + 3).collect(), (second..second + 2).collect(), vec![carols]].concat();
    assert_eq!(ids("").await, every);
    let expected: Vec<(String, Vec<i64>)> = vec![
        (format!("?array={first}"), (first..first + 3).collect()),
        (format!("?array={second}"), (second..second + 2).collect()),
        (format!("?array={plain}"), vec![]),
        (format!("?ids={first}"), (first..first + 3).collect()),
        (format!("?ids={first}_1"), vec![first + 1]),
        (format!("?ids={plain}"), vec![plain]),
        (format!("?ids={plain}_0"), vec![]),
        (format!("?ids={}_1", first + 1), vec![]),
        (format!("?ids={},{second}_1", first + 1), vec![first + 1, second + 1]),
        ("?state=CANCELLED".into(), vec![carols]),
        ("?state=PD".into(), every[..6].to_vec()),
        ("?active=true".into(), every[..6].to_vec()),
        ("?user=carol".into(), vec![carols]),
        ("?user=nobody".into(), vec![]),
        ("?project=bio".into(), vec![carols]),
        ("?project=cfd-lab".into(), every[..6].to_vec()),
        // Options that add to each job, not filters.
        ("?start=true".into(), every.clone()),
        ("?priority=true".into(), every.clone()),
    ];
    for (query, want) in expected {
        assert_eq!(ids(&query).await, want, "GET /api/v1/jobs{query}");
    }
    // Filters hold together.
    assert_eq!(ids(&format!("?array={first}&ids={second}")).await, Vec::<i64>::new());
    assert_eq!(ids(&format!("?user=bob&ids={first}_2")).await, vec![first + 2]);
    // A member's own scope still applies: carol sees none of bob's arrays.
    let carols_view = p.call(Method::GET, &format!("/api/v1/jobs?array={first}"), Some(&carol), None).await;
    assert_eq!(carols_view.body, json!([]));
}

/// A parameter a route does not take is refused, never ignored: an
/// ignored filter answers with every job.
#[tokio::test]
async fn an_unknown_query_parameter_is_a_400_that_names_it_and_changes_nothing() {
    let (p, _, bob, carol) = setup().await;
    let (plain, first, _, _) = two_arrays_and_plain_jobs(&p, &bob, &carol).await;
    let before = p.audit_len().await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/jobs?arary={first}")),
        (Method::GET, format!("/api/v1/jobs/{plain}?array={first}")),
        (Method::POST, format!("/api/v1/jobs/{plain}/cancel?array={first}")),
        (Method::GET, "/api/v1/whoami?x=1".to_owned()),
        (Method::GET, format!("/api/v1/jobs?ids={first}_x")),
    ] {
        let reply = p.call(method.clone(), &path, Some(&bob), None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {path}: {}", reply.body);
        assert_eq!(reply.body["error"]["code"], "invalid_input", "{}", reply.body);
    }
    let named = p.call(Method::GET, "/api/v1/jobs?arary=2", Some(&bob), None).await;
    let message = named.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("unknown query parameter `arary`") && message.contains("array"), "{message}");
    assert_eq!(p.audit_len().await, before);
    let still = p.call(Method::GET, &format!("/api/v1/jobs/{plain}"), Some(&bob), None).await;
    assert_eq!(still.body["state"], "PENDING");
}
