//! Scenario tests: each file under `tests/scenarios/` describes a cluster,
//! its running jobs and its queue in a few lines, and holds the plan the
//! scheduler must make below a `---` line. `UPDATE_SNAPSHOTS=1 cargo test
//! -p lushan-scheduler --test scenarios` rewrites the plans (review the
//! diff before committing it).
//!
//! The format, one item a line (`#` starts a comment):
//!
//! ```text
//! policy fcfs|multifactor none|easy|conservative:N
//! now 0
//! node NAME cpus=N mem=MB [gpus=N] [partitions=1,2] [features=a,b] [owner=TENANT]
//! running node=NAME cpus=N [mem=MB] [gpus=N] ends=T [user=U] [project=P]
//!         [id=N] [tenant=T] [partition=P] [start=T] [preempting]
//! weights [age=N] [fairshare=N] [job_size=N] [partition=N] [qos=N] [max_age=T]
//! partition ID [preempt=off|cancel|requeue] [grace=T] [priority=N]
//! job ID [cpus=N] [nodes=N] [mem=MB] [gpus=N] [time=T] [submit=T]
//!        [user=U] [project=P] [tenant=T] [exclusive] [held]
//!        [partition=P] [constraint=EXPR] [array=A%N] [qos=PRIORITY]
//! max_qos PRIORITY
//! usage tenant=T project=P user=U core_seconds=X
//! limit user=U|project=P [jobs=N] [cpus=N] [gpus=N]
//! array_running ARRAY N
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use lushan_scheduler::pool::Backfill;
use lushan_scheduler::priority::{Order, Weights};
use lushan_scheduler::{
    Constraint, Limit, LimitScope, Node, NodeAllocation, PartitionPolicy, PendingJob, Plan, Policy, PreemptMode,
    RunningJob, Snapshot, Usage, schedule,
};

fn fields(words: &[&str]) -> BTreeMap<String, String> {
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (w.to_string(), String::new()),
        })
        .collect()
}

fn num<T: std::str::FromStr>(f: &BTreeMap<String, String>, key: &str, default: T) -> T {
    f.get(key).map(|v| v.parse().unwrap_or_else(|_| panic!("bad {key}={v}"))).unwrap_or(default)
}

fn parse(text: &str) -> (Policy, Snapshot) {
    let mut policy = Policy::FIFO;
    let mut snapshot = Snapshot::default();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((&kind, rest)) = words.split_first() else { continue };
        match kind {
            "policy" => {
                policy.order = match rest[0] {
                    "fcfs" => Order::Fcfs,
                    "multifactor" => Order::Multifactor(Weights {
                        age: 1000,
                        fairshare: 10_000,
                        job_size: 0,
                        max_age: 1000,
                        ..Weights::default()
                    }),
                    other => panic!("order {other}"),
                };
                policy.backfill = match rest[1] {
                    "none" => Backfill::None,
                    "easy" => Backfill::Easy,
                    other => Backfill::Conservative {
                        depth: other.strip_prefix("conservative:").and_then(|d| d.parse().ok()).expect("backfill"),
                    },
                };
            }
            "weights" => {
                let Order::Multifactor(weights) = &mut policy.order else { panic!("weights after policy multifactor") };
                let f = fields(rest);
                weights.age = num(&f, "age", weights.age);
                weights.fairshare = num(&f, "fairshare", weights.fairshare);
                weights.job_size = num(&f, "job_size", weights.job_size);
                weights.partition = num(&f, "partition", weights.partition);
                weights.qos = num(&f, "qos", weights.qos);
                weights.max_age = num(&f, "max_age", weights.max_age);
            }
            "max_qos" => snapshot.max_qos_priority = rest[0].parse().unwrap(),
            "now" => snapshot.now = rest[0].parse().unwrap(),
            "node" => {
                let f = fields(&rest[1..]);
                let id = snapshot.nodes.len() as i64 + 1;
                snapshot.nodes.push(Node {
                    id,
                    name: rest[0].to_string(),
                    partitions: f
                        .get("partitions")
                        .map_or(vec![1], |p| p.split(',').map(|x| x.parse().unwrap()).collect()),
                    cpus: num(&f, "cpus", 1),
                    memory_mb: num(&f, "mem", 1000),
                    gpus: num(&f, "gpus", 0),
                    features: f.get("features").map_or(vec![], |p| p.split(',').map(String::from).collect()),
                    busy_cpus: vec![],
                    busy_memory_mb: 0,
                    busy_gpus: vec![],
                    owner: f.get("owner").map(|o| o.parse().unwrap()),
                });
            }
            "partition" => {
                let f = fields(&rest[1..]);
                snapshot.partitions.push(PartitionPolicy {
                    id: rest[0].parse().unwrap(),
                    preempt_mode: PreemptMode::parse(f.get("preempt").map_or("off", String::as_str))
                        .expect("preempt=off|cancel|requeue"),
                    grace: num(&f, "grace", 0),
                    priority_job_factor: num(&f, "priority", 1),
                });
            }
            "running" => {
                let f = fields(rest);
                let name = &f["node"];
                let node = snapshot.nodes.iter_mut().find(|n| &n.name == name).expect("running on a known node");
                let cpus: u32 = num(&f, "cpus", 1);
                let gpus: u32 = num(&f, "gpus", 0);
                let first_cpu = node.busy_cpus.len() as u32;
                let first_gpu = node.busy_gpus.len() as u32;
                let allocation = NodeAllocation {
                    node: node.id,
                    node_name: node.name.clone(),
                    cpus: (first_cpu..first_cpu + cpus).collect(),
                    memory_mb: num(&f, "mem", 0),
                    gpus: (first_gpu..first_gpu + gpus).collect(),
                };
                node.busy_cpus.extend(&allocation.cpus);
                node.busy_gpus.extend(&allocation.gpus);
                node.busy_memory_mb += allocation.memory_mb;
                let id = snapshot.running.len() as i64 + 100;
                snapshot.running.push(RunningJob {
                    id: num(&f, "id", id),
                    partition: num(&f, "partition", 1),
                    tenant: num(&f, "tenant", 1),
                    start: num(&f, "start", 0),
                    preempting: f.contains_key("preempting"),
                    allocations: vec![allocation],
                    exclusive: false,
                    ends_at: num(&f, "ends", 0),
                    project: num(&f, "project", 1),
                    user: num(&f, "user", 1),
                });
            }
            "job" => {
                let f = fields(&rest[1..]);
                let array = f.get("array").map(|a| match a.split_once('%') {
                    Some((id, throttle)) => (id.parse().unwrap(), Some(throttle.parse().unwrap())),
                    None => (a.parse().unwrap(), None),
                });
                snapshot.pending.push(PendingJob {
                    id: rest[0].parse().unwrap(),
                    partition: num(&f, "partition", 1),
                    nodes: num(&f, "nodes", 1),
                    cpus_per_node: num(&f, "cpus", 1),
                    memory_per_node_mb: num(&f, "mem", 100),
                    gpus_per_node: num(&f, "gpus", 0),
                    exclusive: f.contains_key("exclusive"),
                    held: f.contains_key("held"),
                    array,
                    submit: num(&f, "submit", 0),
                    time_limit: num(&f, "time", 100),
                    tenant: num(&f, "tenant", 1),
                    project: num(&f, "project", 1),
                    user: num(&f, "user", 1),
                    constraint: f.get("constraint").map(|c| Constraint::parse(c).unwrap()),
                    qos_priority: num(&f, "qos", 0),
                });
            }
            "usage" => {
                let f = fields(rest);
                snapshot.usage.push(Usage {
                    tenant: num(&f, "tenant", 1),
                    project: num(&f, "project", 1),
                    user: num(&f, "user", 1),
                    usage: num(&f, "core_seconds", 0.0),
                });
            }
            "limit" => {
                let f = fields(rest);
                let scope = match (f.get("user"), f.get("project")) {
                    (Some(u), None) => LimitScope::User(u.parse().unwrap()),
                    (None, Some(p)) => LimitScope::Project(p.parse().unwrap()),
                    (Some(u), Some(p)) => LimitScope::Member { project: p.parse().unwrap(), user: u.parse().unwrap() },
                    _ => panic!("a limit names a user, a project, or both (a member of the project)"),
                };
                snapshot.limits.push(Limit {
                    scope,
                    max_running_jobs: f.get("jobs").map(|v| v.parse().unwrap()),
                    max_cpus: f.get("cpus").map(|v| v.parse().unwrap()),
                    max_gpus: f.get("gpus").map(|v| v.parse().unwrap()),
                });
            }
            "array_running" => snapshot.array_running.push((rest[0].parse().unwrap(), rest[1].parse().unwrap())),
            other => panic!("unknown line kind {other}"),
        }
    }
    (policy, snapshot)
}

fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for start in &plan.starts {
        let nodes: Vec<String> = start
            .allocations
            .iter()
            .map(|a| {
                let ids = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                let mut s = format!("{} cpus={} mem={}", a.node_name, ids(&a.cpus), a.memory_mb);
                if !a.gpus.is_empty() {
                    s.push_str(&format!(" gpus={}", ids(&a.gpus)));
                }
                s
            })
            .collect();
        out.push_str(&format!("start {}: {}\n", start.job, nodes.join("; ")));
    }
    for p in &plan.preemptions {
        out.push_str(&format!("preempt {} for {}: {} after {}\n", p.job, p.by, p.mode.as_str(), p.grace));
    }
    for (job, reason) in &plan.pending {
        match plan.estimates.iter().find(|e| e.0 == *job) {
            Some((_, at)) => out.push_str(&format!("pending {job}: {reason}, expected at {at}\n")),
            None => out.push_str(&format!("pending {job}: {reason}\n")),
        }
    }
    out
}

fn run(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap();
    let (input, expected) = text.split_once("\n---\n").unwrap_or((text.as_str(), ""));
    let (policy, snapshot) = parse(input);
    let plan = schedule(&policy, &snapshot);
    assert_eq!(plan, schedule(&policy, &snapshot), "{}: not deterministic", path.display());
    let actual = render(&plan);
    if actual == expected {
        return Ok(());
    }
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, format!("{}\n---\n{actual}", input.trim_end())).unwrap();
        return Ok(());
    }
    Err(format!("{}:\n--- expected\n{expected}--- actual\n{actual}", path.display()))
}

#[test]
fn every_scenario_plans_as_its_snapshot_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 10, "the scenarios are missing");
    let failures: Vec<String> = paths.iter().filter_map(|p| run(p).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
