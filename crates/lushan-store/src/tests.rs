//! The store's test suite. Every test runs on SQLite, and also on PostgreSQL
//! when `LUSHAN_TEST_DATABASE_URL` names a server (`.ci/run` sets it): each
//! test then gets a database of its own, dropped at the end.

use super::*;
use lushan_model::{JobId, JobRef, JobState, ProjectId, ProjectRole, Role, Sector, Status, TenantId, UserId};

struct TestDb {
    store: Store,
    _dir: Option<tempfile::TempDir>,
    drop_url: Option<(String, String)>,
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    TestDb { store: Store::connect(&url).await.unwrap(), _dir: Some(dir), drop_url: None }
}

async fn postgres(admin_url: &str) -> TestDb {
    let url = testing::create_scratch_database(admin_url, "lushan_store_test").await.unwrap();
    TestDb { store: Store::connect(&url).await.unwrap(), _dir: None, drop_url: Some((admin_url.to_owned(), url)) }
}

impl TestDb {
    async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, url)) = self.drop_url {
            testing::drop_scratch_database(&admin_url, &url).await.unwrap();
        }
    }
}

/// Runs `check` against every configured backend.
async fn on_every_backend<F, Fut>(check: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = sqlite().await;
    check(db.store.clone()).await;
    db.finish().await;
    if let Ok(url) = std::env::var("LUSHAN_TEST_DATABASE_URL") {
        let db = postgres(&url).await;
        assert_eq!(db.store.kind(), DbKind::Postgres);
        check(db.store.clone()).await;
        db.finish().await;
    }
}

fn audit(action: &'static str, target: &str) -> AuditEntry {
    AuditEntry {
        at: 1_000,
        actor_user_id: None,
        actor: "test".into(),
        action,
        target_kind: "test",
        target: target.into(),
        tenant_id: None,
        before: None,
        after: Some("{}".into()),
        request_id: None,
    }
}

async fn tenant(store: &Store, name: &str) -> TenantRecord {
    let new = NewTenant { name, display_name: name, sector: Sector::University, created_at: 1_000 };
    store.create_tenant(&new, &audit("tenant.create", name)).await.unwrap()
}

async fn user(store: &Store, name: &str, tenant_id: TenantId) -> UserRecord {
    let new = NewUser {
        name,
        display_name: name,
        tenant_id,
        role: Role::Member,
        unix_account: Some(name),
        password_hash: Some("hash"),
        created_at: 2_000,
    };
    store.create_user(&new, &audit("user.create", name)).await.unwrap()
}

fn boot<'a>(site_nodes: Vec<NewNode<'a>>) -> Bootstrap<'a> {
    Bootstrap {
        centre: NewTenant { name: "centre", display_name: "The centre", sector: Sector::Centre, created_at: 500 },
        operator: NewUser {
            name: "admin",
            display_name: "Operator",
            tenant_id: TenantId(0),
            role: Role::Operator,
            unix_account: None,
            password_hash: Some("phc"),
            created_at: 500,
        },
        token_name: "cli",
        token_hash: "abc",
        site: NewSite { name: "local", backend: "local", partition: "local", nodes: site_nodes, created_at: 500 },
    }
}

#[tokio::test]
async fn tenants_round_trip_and_names_are_unique() {
    on_every_backend(|store| async move {
        let jxu = tenant(&store, "jxu").await;
        assert_eq!(store.tenant_by_name("jxu").await.unwrap(), jxu);
        let dup = NewTenant { name: "jxu", display_name: "again", sector: Sector::School, created_at: 3 };
        let err = store.create_tenant(&dup, &audit("tenant.create", "jxu")).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { what: "tenant", .. }), "{err:?}");
        // The failed create left nothing behind, not even its audit row.
        assert_eq!(store.list_tenants(None).await.unwrap().len(), 1);
        assert_eq!(store.list_audit(None, 100).await.unwrap().len(), 1);
        assert!(matches!(store.tenant_by_name("nope").await, Err(StoreError::NotFound { .. })));
    })
    .await;
}

#[tokio::test]
async fn disabling_a_user_revokes_their_tokens() {
    on_every_backend(|store| async move {
        let t = tenant(&store, "jxu").await;
        let alice = user(&store, "alice", t.id).await;
        let token =
            NewToken { user_id: alice.id, name: "laptop", token_hash: "h1", created_at: 10, expires_at: Some(99) };
        store.create_token(&token, &audit("token.create", "laptop")).await.unwrap();
        store.set_user_status(alice.id, Status::Disabled, 50, &audit("user.disable", "alice")).await.unwrap();
        let (token, owner) = store.token_by_hash("h1").await.unwrap().unwrap();
        assert_eq!(token.revoked_at, Some(50));
        assert_eq!(owner.status, Status::Disabled);
    })
    .await;
}

#[tokio::test]
async fn projects_are_scoped_by_tenant_and_membership() {
    on_every_backend(|store| async move {
        let a = tenant(&store, "tenant-a").await;
        let b = tenant(&store, "tenant-b").await;
        let alice = user(&store, "alice", a.id).await;
        let bob = user(&store, "bob", a.id).await;
        let carol = user(&store, "carol", b.id).await;
        let new = NewProject { name: "cfd-lab", tenant_id: a.id, description: "", pi: alice.id, created_at: 5 };
        let cfd = store.create_project(&new, &audit("project.create", "cfd-lab")).await.unwrap();
        let new = NewProject { name: "bio", tenant_id: b.id, description: "", pi: carol.id, created_at: 5 };
        store.create_project(&new, &audit("project.create", "bio")).await.unwrap();

        store.put_member(cfd.id, bob.id, ProjectRole::Member, 6, &audit("project.add-member", "bob")).await.unwrap();
        store.put_member(cfd.id, bob.id, ProjectRole::Manager, 7, &audit("project.add-member", "bob")).await.unwrap();
        let role_in_cfd =
            |found: Vec<(ProjectId, String, ProjectRole)>| found.into_iter().find(|m| m.0 == cfd.id).map(|m| m.2);
        assert_eq!(role_in_cfd(store.memberships_of(bob.id).await.unwrap()), Some(ProjectRole::Manager));
        assert_eq!(role_in_cfd(store.memberships_of(alice.id).await.unwrap()), Some(ProjectRole::Pi));
        assert_eq!(role_in_cfd(store.memberships_of(carol.id).await.unwrap()), None);

        let names = |v: Vec<ProjectRecord>| v.into_iter().map(|p| p.name).collect::<Vec<_>>();
        assert_eq!(names(store.list_projects(ProjectScope::All).await.unwrap()), ["bio", "cfd-lab"]);
        assert_eq!(names(store.list_projects(ProjectScope::Tenant(a.id)).await.unwrap()), ["cfd-lab"]);
        assert_eq!(names(store.list_projects(ProjectScope::MemberOf(carol.id)).await.unwrap()), ["bio"]);
        assert_eq!(
            names(store.list_projects(ProjectScope::MemberOf(UserId(999))).await.unwrap()),
            Vec::<String>::new()
        );

        let bulk = store.members_of_projects(&[cfd.id, ProjectId(999)]).await.unwrap();
        assert_eq!(bulk[0].1.iter().map(|m| m.user_name.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
        assert!(bulk[1].1.is_empty());
        let mine = store.memberships_of(bob.id).await.unwrap();
        assert_eq!(mine, [(cfd.id, "cfd-lab".to_owned(), ProjectRole::Manager)]);

        store.remove_member(cfd.id, bob.id, &audit("project.remove-member", "bob")).await.unwrap();
        let err = store.remove_member(cfd.id, bob.id, &audit("project.remove-member", "bob")).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }));
        assert_eq!(store.project_members(cfd.id).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn bootstrap_happens_once() {
    on_every_backend(|store| async move {
        assert!(!store.is_bootstrapped().await.unwrap());
        let nodes = vec![NewNode { name: "node1", cpus: 8, memory_mb: 16_000, gpus: 0, gpu_type: None, features: "" }];
        assert!(store.bootstrap(&boot(nodes), &audit("platform.bootstrap", "local")).await.unwrap());
        assert!(store.is_bootstrapped().await.unwrap());
        let again = vec![NewNode { name: "node1", cpus: 8, memory_mb: 16_000, gpus: 0, gpu_type: None, features: "" }];
        assert!(!store.bootstrap(&boot(again), &audit("platform.bootstrap", "local")).await.unwrap());

        let admin = store.user_by_name("admin").await.unwrap();
        assert_eq!(admin.role, Role::Operator);
        assert_eq!(admin.tenant_name, "centre");
        let sites = store.list_sites().await.unwrap();
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].partitions[0].node_names, ["node1"]);
        assert!(sites[0].partitions[0].is_default);
        assert_eq!(sites[0].nodes[0].owner_tenant, "centre");
        assert_eq!(store.list_audit(None, 10).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn token_last_use_is_recorded_coarsely() {
    on_every_backend(|store| async move {
        let t = tenant(&store, "jxu").await;
        let alice = user(&store, "alice", t.id).await;
        let new = NewToken { user_id: alice.id, name: "ci", token_hash: "h", created_at: 0, expires_at: None };
        let token = store.create_token(&new, &audit("token.create", "ci")).await.unwrap();
        store.touch_token(token.id, 100_000).await.unwrap();
        store.touch_token(token.id, 100_500).await.unwrap();
        assert_eq!(store.list_tokens(alice.id).await.unwrap()[0].last_used_at, Some(100_000));
        store.touch_token(token.id, 200_000).await.unwrap();
        assert_eq!(store.list_tokens(alice.id).await.unwrap()[0].last_used_at, Some(200_000));
        let revoked = store.revoke_token(alice.id, token.id, 300_000, &audit("token.revoke", "ci")).await.unwrap();
        assert_eq!(revoked.revoked_at, Some(300_000));
        // Someone else's token is not found, even by id.
        let err = store.revoke_token(UserId(42), token.id, 1, &audit("token.revoke", "ci")).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }));
    })
    .await;
}

#[tokio::test]
async fn concurrent_creates_get_distinct_ids() {
    on_every_backend(|store| async move {
        let t = tenant(&store, "jxu").await;
        let mut handles = Vec::new();
        for i in 0..16 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                let name = format!("user{i}");
                let new = NewUser {
                    name: &name,
                    display_name: &name,
                    tenant_id: t.id,
                    role: Role::Member,
                    unix_account: None,
                    password_hash: None,
                    created_at: 1,
                };
                store.create_user(&new, &audit("user.create", &name)).await.unwrap().id
            }));
        }
        let mut ids = Vec::new();
        for handle in handles {
            ids.push(handle.await.unwrap());
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 16);
        assert_eq!(store.list_audit(None, 100).await.unwrap().len(), 17);
    })
    .await;
}

#[test]
fn urls_are_redacted_in_errors() {
    assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
    assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
}

fn new_job(
    user: &UserRecord,
    project: ProjectId,
    site: &SiteRecord,
    key: Option<&str>,
    array: Option<Vec<u32>>,
) -> NewJob {
    NewJob {
        name: "j".into(),
        user_id: user.id,
        project_id: project,
        tenant_id: user.tenant_id,
        site_id: site.id,
        partition_id: site.partitions[0].id,
        submit_time: 10,
        time_limit_secs: 60,
        nodes: 1,
        ntasks: 1,
        cpus_per_task: 1,
        cpus_per_node: 1,
        mem_per_node_mb: 100,
        gpus_per_node: 0,
        exclusive: false,
        held: false,
        workdir: "/tmp".into(),
        stdout_path: "slurm-%j.out".into(),
        stderr_path: "slurm-%j.out".into(),
        stdin_path: "/dev/null".into(),
        open_mode: "truncate".into(),
        script: "#!/bin/sh\ntrue\n".into(),
        args_json: "[]".into(),
        env_json: "{\"A\":\"1\"}".into(),
        request_json: "{}".into(),
        constraint_expr: String::new(),
        comment: String::new(),
        route: String::new(),
        qos: "normal".into(),
        idempotency_key: key.map(str::to_owned),
        array: array.map(|ids| (ids, Some(2))),
        dependency: String::new(),
        begin_time: None,
        requeue: true,
        billing: None,
    }
}

async fn job_world(store: &Store) -> (UserRecord, ProjectId, SiteRecord) {
    let nodes = vec![NewNode { name: "node1", cpus: 8, memory_mb: 16_000, gpus: 0, gpu_type: None, features: "" }];
    store.bootstrap(&boot(nodes), &audit("platform.bootstrap", "local")).await.unwrap();
    let t = tenant(store, "jxu").await;
    let alice = user(store, "alice", t.id).await;
    let new = NewProject { name: "cfd", tenant_id: t.id, description: "", pi: alice.id, created_at: 5 };
    let project = store.create_project(&new, &audit("project.create", "cfd")).await.unwrap();
    let site = store.list_sites().await.unwrap().remove(0);
    (alice, project.id, site)
}

#[tokio::test]
async fn jobs_are_stored_once_and_arrays_get_consecutive_ids() {
    on_every_backend(|store| async move {
        let (alice, project, site) = job_world(&store).await;
        let (first, created) = store
            .submit_job(&new_job(&alice, project, &site, Some("1:k"), None), &audit("job.submit", ""))
            .await
            .unwrap();
        assert!(created);
        let (again, created) = store
            .submit_job(&new_job(&alice, project, &site, Some("1:k"), None), &audit("job.submit", ""))
            .await
            .unwrap();
        assert!(!created);
        assert_eq!(again.id, first.id);
        let (array, _) = store
            .submit_job(&new_job(&alice, project, &site, None, Some(vec![0, 5, 9])), &audit("job.submit", ""))
            .await
            .unwrap();
        let tasks = store.list_jobs(&JobFilter::all().arrays(vec![array.id])).await.unwrap();
        let ids: Vec<(i64, Option<i64>)> = tasks.iter().map(|t| (t.id.0, t.array_task_id)).collect();
        assert_eq!(ids, [(array.id.0, Some(0)), (array.id.0 + 1, Some(5)), (array.id.0 + 2, Some(9))]);
        assert!(tasks.iter().all(|t| t.array_job_id == Some(array.id) && t.array_throttle == Some(2)));
        // Listings leave out the bulky columns; one job has them all.
        assert_eq!(tasks[0].env_json, "{}");
        assert_eq!(store.job(first.id).await.unwrap().env_json, "{\"A\":\"1\"}");
        assert_eq!(store.list_jobs(&JobFilter::all()).await.unwrap().len(), 4);
    })
    .await;
}

/// SQLite's write-ahead log is cut back to a bound after checkpoints
/// instead of keeping its largest size for good, and `checkpoint_wal`
/// (which the server runs every few minutes) empties it; on PostgreSQL it
/// does nothing.
#[tokio::test]
async fn the_sqlite_wal_is_bounded_and_a_checkpoint_empties_it() {
    let db = sqlite().await;
    let store = db.store.clone();
    let limit: i64 = sqlx::query("PRAGMA journal_size_limit").fetch_one(&store.pool).await.unwrap().try_get(0).unwrap();
    assert_eq!(limit, WAL_SIZE_LIMIT_BYTES);
    let (alice, project, site) = job_world(&store).await;
    let array = new_job(&alice, project, &site, None, Some((0..1_000).collect()));
    store.submit_job(&array, &audit("job.submit", "")).await.unwrap();
    let wal = db._dir.as_ref().unwrap().path().join("test.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    store.checkpoint_wal().await.unwrap();
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    assert_eq!(store.list_jobs(&JobFilter::all()).await.unwrap().len(), 1_000, "nothing was lost");
    db.finish().await;
    if let Ok(url) = std::env::var("LUSHAN_TEST_DATABASE_URL") {
        let db = postgres(&url).await;
        db.store.checkpoint_wal().await.unwrap();
        db.finish().await;
    }
}

/// Every narrowing of a job listing reaches the query, on a store with a
/// plain job and two arrays (with one array, "every job" and "its tasks"
/// are the same set and a dropped filter goes unseen).
#[tokio::test]
async fn each_job_filter_narrows_a_listing_of_two_arrays_and_a_plain_job() {
    on_every_backend(|store| async move {
        let (alice, project, site) = job_world(&store).await;
        let t = store.tenant_by_name("jxu").await.unwrap();
        let bob = user(&store, "bob", t.id).await;
        let submit = |who: UserRecord, array: Option<Vec<u32>>| {
            let store = store.clone();
            let site = site.clone();
            async move {
                let (job, _) = store
                    .submit_job(&new_job(&who, project, &site, None, array), &audit("job.submit", ""))
                    .await
                    .unwrap();
                job.id
            }
        };
        let plain = submit(alice.clone(), None).await;
        let first = submit(alice.clone(), Some(vec![0, 1, 2])).await;
        let second = submit(alice.clone(), Some(vec![0, 1])).await;
        let bobs = submit(bob.clone(), None).await;
        let listed = |filter: JobFilter| {
            let store = store.clone();
            async move { store.list_jobs(&filter).await.unwrap().iter().map(|j| j.id.0).collect::<Vec<_>>() }
        };
        let range = |from: JobId, n: i64| (from.0..from.0 + n).collect::<Vec<_>>();
        assert_eq!(listed(JobFilter::all()).await.len(), 7);
        assert_eq!(listed(JobFilter::all().arrays(vec![first])).await, range(first, 3));
        assert_eq!(listed(JobFilter::all().arrays(vec![plain])).await, Vec::<i64>::new());
        assert_eq!(listed(JobFilter::all().ids(vec![first])).await, vec![first.0]);
        let whole = JobRef { job_id: first.0 as u64, task_id: None };
        assert_eq!(listed(JobFilter::all().named(vec![whole])).await, range(first, 3));
        let task = JobRef { job_id: second.0 as u64, task_id: Some(1) };
        assert_eq!(listed(JobFilter::all().named(vec![task])).await, vec![second.0 + 1]);
        let not_an_array = JobRef { job_id: plain.0 as u64, task_id: Some(0) };
        assert_eq!(listed(JobFilter::all().named(vec![not_an_array])).await, Vec::<i64>::new());
        let just_plain = JobRef { job_id: plain.0 as u64, task_id: None };
        assert_eq!(listed(JobFilter::all().named(vec![just_plain, task])).await, vec![plain.0, second.0 + 1]);
        assert_eq!(listed(JobFilter::all().users(vec![bob.id])).await, vec![bobs.0]);
        assert_eq!(listed(JobFilter::all().projects(vec![ProjectId(project.0 + 1000)])).await, Vec::<i64>::new());
        assert_eq!(listed(JobFilter::all().states(vec![JobState::Running])).await, Vec::<i64>::new());
        assert_eq!(listed(JobFilter::all().limit(2)).await, vec![plain.0, first.0]);
        assert_eq!(listed(JobFilter::all().scope(JobScope::Tenant(TenantId(t.id.0 + 1000)))).await, Vec::<i64>::new());
        assert_eq!(listed(JobFilter::all().scope(JobScope::Tenant(t.id))).await.len(), 7);
        // Bob's own scope: his job only; as a manager of the project, all.
        let own = JobScope::Own { user: bob.id, managed_projects: vec![] };
        assert_eq!(listed(JobFilter::all().scope(own)).await, vec![bobs.0]);
        let manager = JobScope::Own { user: bob.id, managed_projects: vec![project] };
        assert_eq!(listed(JobFilter::all().scope(manager.clone())).await.len(), 7);
        assert_eq!(listed(JobFilter::all().scope(manager).arrays(vec![second])).await, range(second, 2));
        // An empty list names nothing.
        assert_eq!(listed(JobFilter::all().named(vec![])).await, Vec::<i64>::new());
    })
    .await;
}

/// The queue's counts per (site, partition, state) come from the
/// database, within the listing's scope and states.
#[tokio::test]
async fn jobs_are_counted_per_site_partition_and_state() {
    on_every_backend(|store| async move {
        let (alice, project, site) = job_world(&store).await;
        let t = store.tenant_by_name("jxu").await.unwrap();
        let bob = user(&store, "bob", t.id).await;
        for (who, array) in [(&alice, None), (&alice, Some(vec![0, 1, 2])), (&bob, None)] {
            store.submit_job(&new_job(who, project, &site, None, array), &audit("job.submit", "")).await.unwrap();
        }
        let partition = site.partitions[0].name.clone();
        let pending = |jobs: i64| PartitionCount {
            site_id: site.id,
            partition: partition.clone(),
            state: JobState::Pending,
            jobs,
        };
        let queue = JobFilter::all().states(vec![JobState::Pending, JobState::Running]);
        assert_eq!(store.count_jobs_by_partition(&queue).await.unwrap(), [pending(5)]);
        let bobs = queue.clone().scope(JobScope::Own { user: bob.id, managed_projects: vec![] });
        assert_eq!(store.count_jobs_by_partition(&bobs).await.unwrap(), [pending(1)]);
        let running = JobFilter::all().states(vec![JobState::Running]);
        assert_eq!(store.count_jobs_by_partition(&running).await.unwrap(), []);
        // Limit and offset are a listing's, not a count's.
        assert_eq!(store.count_jobs_by_partition(&queue.limit(1)).await.unwrap(), [pending(5)]);
        assert_eq!(store.count_jobs_by_partition(&JobFilter::all().named(vec![])).await.unwrap(), []);
    })
    .await;
}

#[tokio::test]
async fn a_slurm_site_takes_slurm_s_inventory_and_its_jobs_are_claimed_once() {
    on_every_backend(|store| async move {
        let (alice, project, _) = job_world(&store).await;
        let centre = store.centre_tenant_id().await.unwrap();
        let new = NewSlurmSite {
            name: "hpc1",
            transport: "rest",
            rest_url: "http://127.0.0.1:6820",
            jwt_key_path: "/etc/slurm/jwt_hs256.key",
            slurm_bin: "",
            service_user: "slurm",
            cluster: "hpc1",
            created_at: 10,
        };
        let site_id = store.add_slurm_site(&new, &audit("site.create", "hpc1")).await.unwrap();
        let dup = store.add_slurm_site(&new, &audit("site.create", "hpc1")).await.unwrap_err();
        assert!(matches!(dup, StoreError::Conflict { what: "site", .. }), "{dup:?}");
        let node = |name: &str, state: &str| InventoryNode {
            name: name.into(),
            cpus: 64,
            memory_mb: 256_000,
            gpus: 0,
            gpu_type: None,
            features: "ib".into(),
            state: state.into(),
        };
        let inventory = InventoryRecord {
            partitions: vec![
                ("batch".into(), true, vec!["cn1".into(), "cn2".into()], None),
                ("debug".into(), false, vec!["cn2".into()], Some(1800)),
            ],
            nodes: vec![node("cn1", "idle"), node("cn2", "mixed")],
        };
        store.sync_inventory(site_id, &inventory, centre, 20).await.unwrap();
        // A co-builder's node keeps its owner across syncs; a node Slurm no
        // longer reports stays (jobs name it) as `gone`, in no partition.
        let zju = tenant(&store, "zju").await;
        store.set_node_owner(site_id, "cn2", zju.id, &audit("node.owner", "cn2")).await.unwrap();
        let again = InventoryRecord {
            partitions: vec![
                ("batch".into(), true, vec!["cn2".into()], None),
                ("debug".into(), false, vec!["cn2".into()], Some(1800)),
            ],
            nodes: vec![node("cn2", "down")],
        };
        store.sync_inventory(site_id, &again, centre, 30).await.unwrap();
        let sites = store.list_sites().await.unwrap();
        let site = sites.iter().find(|s| s.id == site_id).unwrap();
        assert_eq!((site.backend.as_str(), site.rest_url.as_str(), site.synced_at), ("slurm", new.rest_url, Some(30)));
        assert_eq!(site.transport, "rest");
        let states: Vec<(&str, &str, &str)> =
            site.nodes.iter().map(|n| (n.name.as_str(), n.state.as_str(), n.owner_tenant.as_str())).collect();
        assert_eq!(states, [("cn1", "gone", "centre"), ("cn2", "down", "zju")]);
        let members: Vec<(&str, bool, Vec<String>)> =
            site.partitions.iter().map(|p| (p.name.as_str(), p.is_default, p.node_names.clone())).collect();
        assert_eq!(members, [("batch", true, vec!["cn2".to_owned()]), ("debug", false, vec!["cn2".to_owned()])]);
        assert!(site.partitions.iter().all(|p| p.preempt_mode == "off"), "Slurm preempts on its own nodes");
        let max_times: Vec<Option<i64>> = site.partitions.iter().map(|p| p.max_time_secs).collect();
        assert_eq!(max_times, [None, Some(1800)]);
        assert_eq!(site.cluster, "hpc1");

        // A job is claimed for forwarding once; a claim given back can be
        // taken again; Slurm's id is recorded once.
        let (job, _) =
            store.submit_job(&new_job(&alice, project, site, None, None), &audit("job.submit", "")).await.unwrap();
        assert!(store.mark_forwarding(job.id, 100).await.unwrap());
        assert!(!store.mark_forwarding(job.id, 101).await.unwrap());
        store.unmark_forwarding(job.id, "SiteUnavailable").await.unwrap();
        let waiting = store.job(job.id).await.unwrap();
        assert_eq!((waiting.forwarding_at, waiting.reason.as_str()), (None, "SiteUnavailable"));
        assert!(store.mark_forwarding(job.id, 102).await.unwrap());
        assert!(store.set_remote_id(job.id, 4242, "None").await.unwrap());
        assert!(!store.set_remote_id(job.id, 4343, "None").await.unwrap());
        store.unmark_forwarding(job.id, "None").await.unwrap();
        let sent = store.job(job.id).await.unwrap();
        assert_eq!((sent.forwarding_at, sent.remote_id), (Some(102), Some(4242)), "a job Slurm took stays taken");
        store.set_site_error(site_id, "cannot reach slurmrestd").await.unwrap();
        let sites = store.list_sites().await.unwrap();
        assert_eq!(sites.iter().find(|s| s.id == site_id).unwrap().last_error, "cannot reach slurmrestd");
        // The instance id is written once.
        let first = store.ensure_meta("instance_id", "aaaa").await.unwrap();
        assert_eq!(
            (first.as_str(), store.ensure_meta("instance_id", "bbbb").await.unwrap().as_str()),
            ("aaaa", "aaaa")
        );
    })
    .await;
}

#[tokio::test]
async fn job_states_move_only_from_the_expected_state() {
    on_every_backend(|store| async move {
        let (alice, project, site) = job_world(&store).await;
        // The control loop keeps its queue while this count moves only by its own calls.
        let writes = store.pending_writes();
        let (job, _) =
            store.submit_job(&new_job(&alice, project, &site, None, None), &audit("job.submit", "")).await.unwrap();
        assert!(store.set_job_held(job.id, true, &audit("job.hold", "")).await.unwrap());
        assert!(!store.start_job(job.id, 20, "node1", "{}").await.unwrap(), "a held job does not start");
        assert!(store.set_job_held(job.id, false, &audit("job.release", "")).await.unwrap());
        assert!(store.start_job(job.id, 20, "node1", "{}").await.unwrap());
        assert!(!store.start_job(job.id, 21, "node1", "{}").await.unwrap(), "started twice");
        assert!(!store.set_job_held(job.id, true, &audit("job.hold", "")).await.unwrap(), "a running job is not held");
        store.set_pending_reasons(&[]).await.unwrap();
        assert_eq!(store.pending_writes() - writes, 7, "one a call, whatever it did; none for no reasons");
        let end = JobEnd {
            state: JobState::Completed,
            reason: String::new(),
            time: 30,
            exit_code: Some(0),
            exit_signal: Some(0),
            max_rss_kib: Some(1024),
            total_cpu_ms: Some(5),
            nodes: vec![],
            start: None,
        };
        let writes = store.pending_writes();
        assert!(store.end_job(job.id, JobState::Running, &end, None).await.unwrap());
        assert_eq!(store.pending_writes(), writes, "the end of a running job leaves the queue as it was");
        let late = JobEnd { state: JobState::Failed, ..end.clone() };
        assert!(!store.end_job(job.id, JobState::Running, &late, None).await.unwrap(), "a second end changes nothing");
        let stored = store.job(job.id).await.unwrap();
        assert_eq!(
            (stored.state, stored.start_time, stored.end_time, stored.max_rss_kib),
            (JobState::Completed, Some(20), Some(30), Some(1024))
        );
        assert!(!store.requeue_job(job.id).await.unwrap());

        let (other, _) =
            store.submit_job(&new_job(&alice, project, &site, None, None), &audit("job.submit", "")).await.unwrap();
        store.start_job(other.id, 40, "node1", "{}").await.unwrap();
        assert!(store.requeue_job(other.id).await.unwrap());
        let requeued = store.job(other.id).await.unwrap();
        assert_eq!((requeued.state, requeued.start_time), (JobState::Pending, None));
        store.set_pending_reasons(&[(other.id, "Resources")]).await.unwrap();
        assert_eq!(store.job(other.id).await.unwrap().reason, "Resources");
        let pending = store.list_jobs(&JobFilter::all().states(vec![JobState::Pending])).await.unwrap();
        assert_eq!(pending.len(), 1);
    })
    .await;
}

mod ledger {
    use super::*;
    use lushan_ledger::{Account, Funding, LedgerError, Money, NodeShare};
    use lushan_model::JobId;

    fn billing(tenant: TenantId, price_id: i64, hold: i64) -> JobBilling {
        JobBilling {
            funding: Funding::Wallet(tenant),
            price_id,
            discount: lushan_ledger::BasisPoints(0),
            hold_per_job: hold,
            payer: "tenant jxu".into(),
        }
    }

    /// Every account's kept balance is the sum of its postings.
    async fn assert_balances_are_sums(store: &Store) {
        let sums = |sql: &'static str| {
            let store = store.clone();
            async move {
                let rows = sqlx::query(sql).fetch_all(&store.pool).await.unwrap();
                let mut out: Vec<(String, i64)> =
                    rows.iter().map(|r| (r.try_get("account").unwrap(), r.try_get("amount").unwrap())).collect();
                out.sort();
                out
            }
        };
        let kept = sums("SELECT account, amount FROM ledger_balances").await;
        let summed =
            sums("SELECT account, CAST(SUM(amount) AS BIGINT) AS amount FROM ledger_postings GROUP BY account").await;
        assert!(!kept.is_empty());
        assert_eq!(kept, summed);
    }

    async fn top_up(store: &Store, tenant: TenantId, fen: i64, reference: &str) -> bool {
        post_top_up(store, tenant, fen, reference).await.unwrap()
    }

    /// Tasks and holds go in by multi-row statements of a few hundred rows:
    /// across those batches every task still gets its row, hold and charge
    /// record, the counters move past the whole array, and the balances stay
    /// the sums of the postings.
    #[tokio::test]
    async fn an_array_larger_than_one_insert_batch_is_stored_and_held_whole() {
        on_every_backend(|store| async move {
            let (alice, project, site) = job_world(&store).await;
            let price = store.price_for(site.id, Some(site.partitions[0].id), "normal").await.unwrap().unwrap();
            assert!(top_up(&store, alice.tenant_id, 1_000_000, "INV-1").await);
            let task_ids: Vec<u32> = (0..1_201).map(|t| t * 2).collect();
            let mut job = new_job(&alice, project, &site, Some("1:big"), Some(task_ids.clone()));
            job.billing = Some(billing(alice.tenant_id, price.id, 7));
            let (array, created) = store.submit_job(&job, &audit("job.submit", "")).await.unwrap();
            assert!(created);
            let (again, created) = store.submit_job(&job, &audit("job.submit", "")).await.unwrap();
            assert_eq!((again.id, created), (array.id, false));

            let tasks = store.list_jobs(&JobFilter::all().arrays(vec![array.id])).await.unwrap();
            let stored: Vec<(i64, Option<i64>)> = tasks.iter().map(|t| (t.id.0, t.array_task_id)).collect();
            let expected: Vec<(i64, Option<i64>)> =
                task_ids.iter().enumerate().map(|(i, t)| (array.id.0 + i as i64, Some(i64::from(*t)))).collect();
            assert_eq!(stored, expected);
            assert!(tasks.iter().all(|t| t.array_job_id == Some(array.id) && t.env_json == "{}"));
            assert_eq!(store.job(JobId(array.id.0 + 1_200)).await.unwrap().env_json, "{\"A\":\"1\"}");
            for id in [array.id.0, array.id.0 + 499, array.id.0 + 500, array.id.0 + 1_200] {
                assert_eq!(store.job_charge(JobId(id)).await.unwrap().unwrap().held, 7, "job {id}");
            }
            let wallet = store.wallet(alice.tenant_id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.held), (Money(1_000_000 - 7 * 1_201), Money(7 * 1_201)));
            assert_balances_are_sums(&store).await;

            // The next job takes the next job and ledger ids.
            let mut plain = new_job(&alice, project, &site, None, None);
            plain.billing = Some(billing(alice.tenant_id, price.id, 7));
            let (next, _) = store.submit_job(&plain, &audit("job.submit", "")).await.unwrap();
            assert_eq!(next.id.0, array.id.0 + 1_201);
            assert_eq!(store.wallet(alice.tenant_id).await.unwrap().held, Money(7 * 1_202));
            assert_balances_are_sums(&store).await;
        })
        .await;
    }

    #[tokio::test]
    async fn a_job_is_held_at_submission_and_settled_once_at_its_end() {
        on_every_backend(|store| async move {
            let (alice, project, site) = job_world(&store).await;
            let price = store.price_for(site.id, Some(site.partitions[0].id), "normal").await.unwrap().unwrap();
            assert_eq!(price.price, lushan_ledger::DEFAULT_PRICE, "a new site gets the default price");
            assert!(top_up(&store, alice.tenant_id, 1_000, "INV-1").await);
            assert!(!top_up(&store, alice.tenant_id, 1_000, "INV-1").await, "a reference is posted once");

            let mut job = new_job(&alice, project, &site, None, None);
            job.billing = Some(billing(alice.tenant_id, price.id, 400));
            let (stored, _) = store.submit_job(&job, &audit("job.submit", "")).await.unwrap();
            let wallet = store.wallet(alice.tenant_id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.held, wallet.balance()), (Money(600), Money(400), Money(1_000)));

            // 2 cores for an hour on a node of tenant 1 (the centre): 0.20 CNY.
            store.start_job(stored.id, 10_000, "node1", "{}").await.unwrap();
            let centre = TenantId(1);
            let end = JobEnd {
                state: JobState::Completed,
                reason: String::new(),
                time: 10_000 + 3_600_000,
                exit_code: Some(0),
                exit_signal: Some(0),
                max_rss_kib: None,
                total_cpu_ms: None,
                nodes: vec![NodeShare { owner: centre, cores: 2 }],
                start: None,
            };
            assert!(store.end_job(stored.id, JobState::Running, &end, None).await.unwrap());
            assert!(!store.end_job(stored.id, JobState::Running, &end, None).await.unwrap());
            let wallet = store.wallet(alice.tenant_id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.held), (Money(980), Money(0)));
            let charge = store.job_charge(stored.id).await.unwrap().unwrap();
            assert_eq!((charge.held, charge.charged, charge.core_seconds), (400, Some(20), Some(7_200)));

            // A pending job cancelled costs nothing; its hold comes back.
            let mut job = new_job(&alice, project, &site, None, None);
            job.billing = Some(billing(alice.tenant_id, price.id, 300));
            let (cancelled, _) = store.submit_job(&job, &audit("job.submit", "")).await.unwrap();
            let end = JobEnd { state: JobState::Cancelled, time: 20_000_000, nodes: vec![], ..end.clone() };
            assert!(store.end_job(cancelled.id, JobState::Pending, &end, None).await.unwrap());
            let wallet = store.wallet(alice.tenant_id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.held), (Money(980), Money(0)));

            let statement = store.statement(alice.tenant_id, 0, i64::MAX).await.unwrap();
            let lines: Vec<(&str, i64, i64)> =
                statement.lines.iter().map(|l| (l.kind.as_str(), l.amount.0, l.balance.0)).collect();
            assert_eq!(lines, [("top-up", 1_000, 1_000), ("settlement", -20, 980)]);
            assert_eq!((statement.opening, statement.closing), (Money(0), Money(980)));
            let later = store.statement(alice.tenant_id, 6, i64::MAX).await.unwrap();
            assert_eq!((later.opening, later.lines.len()), (Money(1_000), 1));

            // The centre's revenue is what the tenant paid; the ledger sums to zero.
            let mut conn = store.pool.acquire().await.unwrap();
            let revenue = crate::ledger::account_balance(&mut conn, Account::Revenue).await.unwrap();
            assert_eq!(revenue, 20);
            let total: i64 = sqlx::query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS t FROM ledger_postings")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .try_get("t")
                .unwrap();
            assert_eq!(total, 0);
            assert_balances_are_sums(&store).await;
        })
        .await;
    }

    /// A guest preempted by an owner is settled for what it ran, marked,
    /// and requeued with a hold of its own for the next run; each run is
    /// charged once under its own key. When the wallet cannot cover the
    /// next run, the job stays PREEMPTED and says why.
    #[tokio::test]
    async fn a_preempted_guest_is_charged_per_run_and_requeued_with_a_new_hold() {
        on_every_backend(|store| async move {
            let (alice, project, site) = job_world(&store).await;
            let price = store.price_for(site.id, None, "normal").await.unwrap().unwrap();
            assert!(top_up(&store, alice.tenant_id, 1_000, "INV-1").await);
            let mut job = new_job(&alice, project, &site, None, None);
            job.billing = Some(billing(alice.tenant_id, price.id, 400));
            let (stored, _) = store.submit_job(&job, &audit("job.submit", "")).await.unwrap();
            assert!(store.start_job(stored.id, 10_000, "node1", "{}").await.unwrap());
            let owner = tenant(&store, "acme").await;
            assert!(store.preempt_job(stored.id, JobId(999), 1_810_000, 1_870_000).await.unwrap());
            assert!(!store.preempt_job(stored.id, JobId(999), 1_810_000, 1_870_000).await.unwrap(), "once");
            let marked = store.job(stored.id).await.unwrap();
            assert_eq!((marked.preempted_by, marked.preempt_deadline), (Some(JobId(999)), Some(1_870_000)));

            // Half an hour on 2 cores of acme's node: 0.10 CNY, 70 % to acme.
            let end = JobEnd {
                state: JobState::Preempted,
                reason: "preempted".into(),
                time: 10_000 + 1_800_000,
                exit_code: Some(0),
                exit_signal: Some(15),
                max_rss_kib: None,
                total_cpu_ms: None,
                nodes: vec![NodeShare { owner: owner.id, cores: 2 }],
                start: None,
            };
            assert!(store.end_job(stored.id, JobState::Running, &end, None).await.unwrap());
            assert!(store.requeue_preempted(stored.id, 1_900_000).await.unwrap());
            assert!(!store.requeue_preempted(stored.id, 1_900_000).await.unwrap(), "only a PREEMPTED job");
            let requeued = store.job(stored.id).await.unwrap();
            assert_eq!((requeued.state, requeued.restarts, requeued.start_time), (JobState::Pending, 1, None));
            assert_eq!((requeued.preempted_at, requeued.preempted_by), (None, None));
            let wallet = store.wallet(alice.tenant_id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.held), (Money(590), Money(400)), "run 0 paid 10, run 1 held");

            // The second run completes: a quarter of an hour on the centre's node.
            assert!(store.start_job(stored.id, 2_000_000, "node1", "{}").await.unwrap());
            let end = JobEnd {
                state: JobState::Completed,
                time: 2_000_000 + 900_000,
                nodes: vec![NodeShare { owner: TenantId(1), cores: 2 }],
                start: None,
                ..end
            };
            assert!(store.end_job(stored.id, JobState::Running, &end, None).await.unwrap());
            let wallet = store.wallet(alice.tenant_id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.held), (Money(985), Money(0)));
            let charge = store.job_charge(stored.id).await.unwrap().unwrap();
            assert_eq!((charge.runs, charge.preempted_runs, charge.charged), (2, 1, Some(15)));
            assert_eq!((charge.core_seconds, charge.owner_share), (Some(5_400), Some(Money(7))));
            let runs = store.settled_jobs(&[site.id], 0, i64::MAX).await.unwrap();
            let runs: Vec<(i64, bool, i64, i64)> =
                runs.iter().map(|r| (r.run, r.preempted, r.elapsed_secs, r.charged)).collect();
            assert_eq!(runs, [(0, true, 1_800, 10), (1, false, 900, 5)]);
            let earned = store.earnings_by_run(owner.id, 0, i64::MAX).await.unwrap();
            assert_eq!(earned, [(stored.id, 0, Money(7))]);
            let mut conn = store.pool.acquire().await.unwrap();
            let keys: Vec<String> =
                sqlx::query("SELECT txn_key FROM ledger_transactions WHERE job_id = $1 ORDER BY id")
                    .bind(stored.id.0)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.try_get("txn_key").unwrap())
                    .collect();
            let id = stored.id;
            assert_eq!(
                keys,
                [
                    format!("hold:job:{id}"),
                    format!("settle:job:{id}"),
                    format!("hold:job:{id}:run:1"),
                    format!("settle:job:{id}:run:1")
                ]
            );
            drop(conn);

            // A wallet that cannot cover the next run: not requeued, and says so.
            let mut job = new_job(&alice, project, &site, None, None);
            job.billing = Some(billing(alice.tenant_id, price.id, 980));
            let (poor, _) = store.submit_job(&job, &audit("job.submit", "")).await.unwrap();
            assert!(store.start_job(poor.id, 3_000_000, "node1", "{}").await.unwrap());
            let end = JobEnd { state: JobState::Preempted, time: 3_000_000 + 3_600_000, ..end };
            assert!(store.end_job(poor.id, JobState::Running, &end, None).await.unwrap());
            assert!(!store.requeue_preempted(poor.id, 7_000_000).await.unwrap());
            let refused = store.job(poor.id).await.unwrap();
            assert_eq!(refused.state, JobState::Preempted);
            assert!(refused.reason.starts_with("not requeued: "), "{}", refused.reason);
            let wallet = store.wallet(alice.tenant_id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.held), (Money(965), Money(0)), "the refused hold left nothing behind");
            assert_balances_are_sums(&store).await;
        })
        .await;
    }

    /// Moves `fen` from `source` to `tenant`'s wallet by a transaction
    /// written straight to the tables, as one posted before the ledger had
    /// bounds could be: the builders now refuse amounts this large.
    async fn seed_wallet(store: &Store, source: Account, tenant: TenantId, fen: i64, reference: &str) {
        let mut tx = store.begin().await.unwrap();
        let id = crate::next_id(&mut tx, "ledger").await.unwrap();
        sqlx::query(
            "INSERT INTO ledger_transactions (id, txn_key, kind, at, tenant_id, reference, memo, actor)
             VALUES ($1, $2, 'top-up', 1, $3, $4, 'seeded', 'test')",
        )
        .bind(id)
        .bind(format!("top-up:{tenant}:{reference}"))
        .bind(tenant.0)
        .bind(reference)
        .execute(&mut *tx)
        .await
        .unwrap();
        for (account, amount) in [(source, -fen), (Account::Wallet(tenant), fen)] {
            sqlx::query(
                "INSERT INTO ledger_postings (transaction_id, account, commodity, amount) VALUES ($1, $2, 'CNY', $3)",
            )
            .bind(id)
            .bind(account.to_string())
            .bind(amount)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO ledger_balances (account, amount) VALUES ($1, $2)
                 ON CONFLICT (account) DO UPDATE SET amount = ledger_balances.amount + excluded.amount",
            )
            .bind(account.to_string())
            .bind(amount)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// A tenant's wallet, every posting, every kept balance and the length
    /// of the audit log: what a refused posting must leave as it was.
    async fn ledger_state(store: &Store, tenant: TenantId) -> (WalletRecord, Vec<(i64, String, i64)>, usize) {
        let mut postings: Vec<(i64, String, i64)> =
            sqlx::query("SELECT transaction_id, account, amount FROM ledger_postings")
                .fetch_all(&store.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    (r.try_get("transaction_id").unwrap(), r.try_get("account").unwrap(), r.try_get("amount").unwrap())
                })
                .collect();
        let mut balances: Vec<(i64, String, i64)> = sqlx::query("SELECT account, amount FROM ledger_balances")
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (-1, r.try_get("account").unwrap(), r.try_get("amount").unwrap()))
            .collect();
        postings.append(&mut balances);
        postings.sort();
        (store.wallet(tenant).await.unwrap(), postings, store.list_audit(None, 10_000).await.unwrap().len())
    }

    async fn post_top_up(store: &Store, tenant: TenantId, fen: i64, reference: &str) -> Result<bool, StoreError> {
        let entry = lushan_ledger::top_up(tenant, Money(fen), reference).unwrap();
        let meta = TxMeta {
            at: 5,
            tenant_id: Some(tenant),
            reference: reference.into(),
            job_id: None,
            grant_id: None,
            memo: String::new(),
            actor: String::new(),
        };
        store.post(&entry, &meta, &audit("wallet.top-up", "jxu")).await
    }

    /// Issue 19: a posting that would take a kept balance past an i64 (or
    /// past the ledger's bound, well short of it) is refused with the whole
    /// transaction: the wallet, the postings, the kept balances and the
    /// audit log are as before, and the reference can still be posted.
    #[tokio::test]
    async fn a_posting_that_would_overflow_a_kept_balance_is_refused_and_changes_nothing() {
        on_every_backend(|store| async move {
            let out_of_range = |result: Result<bool, StoreError>| {
                matches!(result, Err(StoreError::Ledger(LedgerError::BalanceOutOfRange { .. })))
            };
            // A wallet next to an i64's limit, as the huge top-up left it.
            let jxu = tenant(&store, "jxu").await;
            seed_wallet(&store, Account::Adjustments, jxu.id, i64::MAX - 500, "HUGE").await;
            let before = ledger_state(&store, jxu.id).await;
            assert_eq!(before.0.spendable, Money(i64::MAX - 500));
            let result = post_top_up(&store, jxu.id, 1_000, "INV-1").await;
            assert!(out_of_range(result), "an overflowing top-up is refused");
            assert_eq!(ledger_state(&store, jxu.id).await, before, "the refused top-up changed nothing");
            // Its credit limit cannot make what it has available wrap.
            let limit = Money(lushan_ledger::MAX_AMOUNT.0 + 1);
            let err = store.set_credit_limit(jxu.id, limit, &audit("wallet.credit-limit", "jxu")).await.unwrap_err();
            assert!(matches!(err, StoreError::Ledger(LedgerError::TooLarge { .. })), "{err:?}");
            assert_eq!(ledger_state(&store, jxu.id).await, before, "the refused limit changed nothing");

            // At the ledger's bound: exactly up to it, not a fen past it.
            let zju = tenant(&store, "zju").await;
            seed_wallet(&store, Account::Funding, zju.id, lushan_ledger::MAX_BALANCE - 500, "BIG").await;
            let before = ledger_state(&store, zju.id).await;
            assert!(out_of_range(post_top_up(&store, zju.id, 501, "INV-2").await));
            assert_eq!(ledger_state(&store, zju.id).await, before);
            assert!(post_top_up(&store, zju.id, 500, "INV-2").await.unwrap(), "the reference was not used");
            let wallet = store.wallet(zju.id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.balance()), (Money(lushan_ledger::MAX_BALANCE), wallet.spendable));
            assert_balances_are_sums(&store).await;
        })
        .await;
    }

    /// N clients submit at once against a balance that covers exactly K
    /// holds: exactly K are accepted, whatever the interleaving.
    #[tokio::test]
    async fn concurrent_submissions_accept_exactly_what_the_balance_covers() {
        on_every_backend(|store| async move {
            let (alice, project, site) = job_world(&store).await;
            let price = store.price_for(site.id, Some(site.partitions[0].id), "normal").await.unwrap().unwrap();
            top_up(&store, alice.tenant_id, 5 * 250 + 249, "INV-2").await;
            let mut clients = Vec::new();
            for _ in 0..12 {
                let store = store.clone();
                let mut job = new_job(&alice, project, &site, None, None);
                job.billing = Some(billing(alice.tenant_id, price.id, 250));
                clients.push(tokio::spawn(async move { store.submit_job(&job, &audit("job.submit", "")).await }));
            }
            let mut accepted = 0;
            for client in clients {
                match client.await.unwrap() {
                    Ok(_) => accepted += 1,
                    Err(StoreError::Ledger(LedgerError::InsufficientFunds { available, required, .. })) => {
                        assert!(available.0 < 250 && required.0 == 250, "{available} {required}");
                    }
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
            assert_eq!(accepted, 5);
            let wallet = store.wallet(alice.tenant_id).await.unwrap();
            assert_eq!((wallet.spendable, wallet.held), (Money(249), Money(1_250)));
            assert_eq!(store.list_jobs(&JobFilter::all()).await.unwrap().len(), 5, "refused jobs are not stored");
            assert_balances_are_sums(&store).await;
        })
        .await;
    }
}

#[tokio::test]
async fn limits_are_replaced_whole_removed_when_empty_and_jobs_are_counted() {
    on_every_backend(|store| async move {
        let (alice, project, _) = job_world(&store).await;
        let values = LimitValues { max_running_jobs: Some(2), max_submitted: Some(10), ..LimitValues::default() };
        store.set_limits(LimitScope::Project(project.0), values, 7, &audit("limits.set", "cfd")).await.unwrap();
        let user = LimitValues { max_cpus: Some(64), ..LimitValues::default() };
        store.set_limits(LimitScope::User(alice.id.0), user, 8, &audit("limits.set", "alice")).await.unwrap();
        let listed = store.list_limits().await.unwrap();
        let names: Vec<(&str, LimitValues)> = listed.iter().map(|l| (l.name.as_str(), l.values)).collect();
        assert_eq!(names, [("cfd", values), ("alice", user)]);
        assert_eq!(listed[0].tenant_id, alice.tenant_id);
        // Replaced whole, then removed when every value is None.
        let only_gpus = LimitValues { max_gpus: Some(1), ..LimitValues::default() };
        store.set_limits(LimitScope::Project(project.0), only_gpus, 9, &audit("limits.set", "cfd")).await.unwrap();
        assert_eq!(store.list_limits().await.unwrap()[0].values, only_gpus);
        store
            .set_limits(LimitScope::Project(project.0), LimitValues::default(), 10, &audit("limits.set", "cfd"))
            .await
            .unwrap();
        assert_eq!(store.list_limits().await.unwrap().len(), 1);
        let active = store.active_jobs(project.0, alice.id.0).await.unwrap();
        assert_eq!((active.project, active.user, active.member), (0, 0, 0));
        // A member's limits in one project: listed after the others, with
        // the project's name; gone when the member leaves the project.
        let member = LimitScope::Member { project: project.0, user: alice.id.0 };
        let two = LimitValues { max_running_jobs: Some(2), max_gpus: Some(1), ..LimitValues::default() };
        store.set_limits(member, two, 11, &audit("limits.set", "cfd/alice")).await.unwrap();
        let listed = store.list_limits().await.unwrap();
        let last = listed.last().unwrap();
        assert_eq!((last.scope, last.name.as_str(), last.project.as_deref()), (member, "alice", Some("cfd")));
        assert_eq!((last.values, last.tenant_id, last.updated_at), (two, alice.tenant_id, 11));
        store.remove_member(project, alice.id, &audit("project.remove-member", "cfd")).await.unwrap();
        assert!(store.list_limits().await.unwrap().iter().all(|l| l.scope != member));
    })
    .await;
}

#[tokio::test]
async fn qos_levels_are_added_and_changed_jobs_keep_theirs_and_partitions_take_a_priority() {
    on_every_backend(|store| async move {
        let (alice, project, site) = job_world(&store).await;
        let names = |list: Vec<QosRecord>| list.into_iter().map(|q| (q.name, q.priority)).collect::<Vec<_>>();
        assert_eq!(names(store.list_qos().await.unwrap()), [("normal".to_owned(), 0)]);
        let high = QosRecord { name: "high".into(), priority: 100, description: "d".into(), updated_at: 5 };
        store.set_qos(&high, &audit("qos.set", "high")).await.unwrap();
        store.set_qos(&QosRecord { priority: 50, ..high.clone() }, &audit("qos.set", "high")).await.unwrap();
        assert_eq!(names(store.list_qos().await.unwrap()), [("high".to_owned(), 50), ("normal".to_owned(), 0)]);

        let new = NewJob { qos: "high".into(), ..new_job(&alice, project, &site, None, None) };
        let (job, _) = store.submit_job(&new, &audit("job.submit", "")).await.unwrap();
        assert_eq!(store.job(job.id).await.unwrap().qos, "high");
        assert_eq!(store.list_jobs(&JobFilter::all()).await.unwrap()[0].qos, "high");

        let partition = site.partitions[0].name.clone();
        assert_eq!(site.partitions[0].priority_job_factor, 1);
        store.set_partition_priority(site.id, &partition, 7, &audit("partition.priority", "")).await.unwrap();
        assert_eq!(store.list_sites().await.unwrap()[0].partitions[0].priority_job_factor, 7);
        let missing = store.set_partition_priority(site.id, "nope", 7, &audit("partition.priority", "")).await;
        assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");
    })
    .await;
}

#[tokio::test]
async fn a_listed_job_is_the_stored_job_without_its_bulky_columns() {
    on_every_backend(|store| async move {
        let (alice, project, site) = job_world(&store).await;
        let odd = NewJob {
            name: "q\"uote\\ \n\t汉字 'x'".into(),
            comment: "{\"not\": json}".into(),
            dependency: "afterok:1".into(),
            begin_time: Some(-5),
            qos: "normal".into(),
            ..new_job(&alice, project, &site, None, Some(vec![3, 4]))
        };
        store.submit_job(&odd, &audit("job.submit", "")).await.unwrap();
        store.submit_job(&new_job(&alice, project, &site, None, None), &audit("job.submit", "")).await.unwrap();
        let listed = store.list_jobs(&JobFilter::all()).await.unwrap();
        assert_eq!(listed.len(), 3);
        assert!(listed.windows(2).all(|w| w[0].id < w[1].id), "by id");
        for job in &listed {
            let full = store.job(job.id).await.unwrap();
            let summary = JobRecord {
                script: String::new(),
                args_json: "[]".into(),
                env_json: "{}".into(),
                request_json: "{}".into(),
                ..full
            };
            assert_eq!(*job, summary);
        }
        assert_eq!(listed[0].name, "q\"uote\\ \n\t汉字 'x'");
        assert_eq!((listed[0].array_task_id, listed[0].begin_time, listed[2].array_job_id), (Some(3), Some(-5), None));
        // Filters and the limit apply before the listing is built.
        let first = store.list_jobs(&JobFilter::all().limit(1)).await.unwrap();
        assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), [listed[0].id]);
        let running = JobFilter::all().states(vec![JobState::Running]);
        assert!(store.list_jobs(&running).await.unwrap().is_empty());
    })
    .await;
}

/// Writes many audit rows one after another, each its own transaction, so
/// that every connection of the pool serves some of them.
async fn assert_writes_succeed(store: &Store, count: usize) {
    for i in 0..count {
        let target = format!("after-failed-commit-{i}");
        if let Err(err) = store.append_audit_entry(&audit("test.write", &target)).await {
            panic!("write {i} of {count} after a failed commit: {err}");
        }
    }
    let mut concurrent = Vec::new();
    for i in 0..count {
        let store = store.clone();
        concurrent.push(tokio::spawn(async move {
            store.append_audit_entry(&audit("test.write", &format!("concurrent-{i}"))).await
        }));
    }
    for (i, handle) in concurrent.into_iter().enumerate() {
        if let Err(err) = handle.await.unwrap() {
            panic!("concurrent write {i} of {count} after a failed commit: {err}");
        }
    }
}

#[tokio::test]
async fn writes_succeed_after_a_commit_refused_by_a_deferred_constraint() {
    on_every_backend(|store| async move {
        sqlx::query("CREATE TABLE test_parent (id BIGINT PRIMARY KEY)").execute(&store.pool).await.unwrap();
        sqlx::query(
            "CREATE TABLE test_child (parent BIGINT REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        for _ in 0..3 {
            let mut tx = store.begin().await.unwrap();
            // Accepted by the statement, refused only by COMMIT.
            sqlx::query("INSERT INTO test_child (parent) VALUES (42)").execute(&mut *tx).await.unwrap();
            assert!(tx.commit().await.is_err(), "the commit of a dangling reference succeeded");
        }
        assert_writes_succeed(&store, 12).await;
    })
    .await;
}

/// A small tmpfs mounted for one test, unmounted on drop (also when the
/// test fails).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path) -> Option<SmallDisk> {
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status();
        matches!(status, Ok(s) if s.success()).then(|| SmallDisk(dir.to_owned()))
    }

    /// Writes a file until the disk refuses more; returns its path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 16 * 1024];
        while file.write_all(&chunk).and_then(|()| file.sync_all()).is_ok() {}
        // Byte by byte into the last partial block.
        while file.write_all(&[0]).and_then(|()| file.sync_all()).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The outage of issue 19: SQLite's COMMIT fails on a full disk (and SQLite
/// rolls the transaction back itself). Once space returns, every write
/// succeeds again, without a restart.
#[tokio::test]
async fn writes_succeed_once_a_full_disk_has_space_again_after_a_failed_commit() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(dir.path()) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root) to fill a disk");
        return;
    };
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.append_audit_entry(&audit("test.write", "before")).await.unwrap();
    // An empty WAL: the next commit must grow it, and cannot.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&store.pool).await.unwrap();
    let filler = disk.fill();
    for _ in 0..3 {
        let mut tx = store.begin().await.unwrap();
        // 256 KiB stays in SQLite's page cache until COMMIT writes it to the WAL.
        sqlx::query("INSERT INTO meta (key, value) VALUES ('bulk', $1)")
            .bind("x".repeat(256 * 1024))
            .execute(&mut *tx)
            .await
            .unwrap();
        let err = tx.commit().await.expect_err("the commit succeeded on a full disk");
        assert!(err.to_string().contains("full"), "{err}");
    }
    std::fs::remove_file(filler).unwrap();
    assert_writes_succeed(&store, 12).await;
    assert_eq!(store.meta("bulk").await.unwrap(), None);
    store.close().await;
    drop(disk);
}

#[tokio::test]
async fn the_audit_log_is_read_by_action_actor_target_kind_tenant_and_time() {
    on_every_backend(|store| async move {
        let jxu = tenant(&store, "jxu").await;
        for (at, actor, action, kind, tenant) in [
            (2_000, "admin", "price.set", "price", None),
            (3_000, "admin", "wallet.adjust", "tenant", Some(jxu.id)),
            (4_000, "alice", "limits.set", "project", Some(jxu.id)),
        ] {
            let entry = AuditEntry {
                at,
                actor: actor.into(),
                action,
                target_kind: kind,
                tenant_id: tenant,
                ..audit(action, "x")
            };
            store.append_audit_entry(&entry).await.unwrap();
        }
        let read = |m: AuditMatch<'static>| {
            let store = store.clone();
            async move {
                store.list_audit_matching(&m, 0, 100).await.unwrap().into_iter().map(|e| e.action).collect::<Vec<_>>()
            }
        };
        let all = AuditMatch { tenant: None, action: None, actor: None, target_kind: None, from: None, to: None };
        assert_eq!(read(all).await, ["limits.set", "wallet.adjust", "price.set", "tenant.create"]);
        assert_eq!(read(AuditMatch { action: Some("price.set"), ..all }).await, ["price.set"]);
        assert_eq!(read(AuditMatch { actor: Some("alice"), ..all }).await, ["limits.set"]);
        assert_eq!(read(AuditMatch { target_kind: Some("tenant"), ..all }).await, ["wallet.adjust"]);
        assert_eq!(
            read(AuditMatch { tenant: Some(jxu.id), ..all }).await,
            ["limits.set", "wallet.adjust", "tenant.create"]
        );
        assert_eq!(
            read(AuditMatch { from: Some(2_000), to: Some(4_000), ..all }).await,
            ["wallet.adjust", "price.set"]
        );
        let both = AuditMatch { actor: Some("admin"), tenant: Some(jxu.id), from: Some(1_500), ..all };
        assert_eq!(read(both).await, ["wallet.adjust"]);
        assert_eq!(store.list_audit_matching(&all, 0, 2).await.unwrap().len(), 2);
        // A page further back, and the count it is a page of, with a filter.
        let page = store.list_audit_matching(&all, 1, 2).await.unwrap();
        assert_eq!(page.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["wallet.adjust", "price.set"]);
        assert_eq!(store.list_audit_matching(&all, 4, 2).await.unwrap().len(), 0);
        assert_eq!(store.count_audit_matching(&all).await.unwrap(), 4);
        let jxus = AuditMatch { tenant: Some(jxu.id), ..all };
        assert_eq!(store.count_audit_matching(&jxus).await.unwrap(), 3);
        let older = store.list_audit_matching(&jxus, 2, 10).await.unwrap();
        assert_eq!(older.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["tenant.create"]);
    })
    .await;
}
