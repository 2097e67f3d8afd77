//! Planning on a cluster of nodes: the pass the platform's sites run.
//!
//! Where [`crate::pool`] sees identical processors, this pass sees nodes with
//! cores, memory and GPUs, partitions, features, multi-node jobs and
//! `--exclusive`. One pass:
//!
//! 1. orders the queue ([`Order::Fcfs`], or Slurm's multifactor priority
//!    with the Fair Tree over centre -> tenant -> project -> user);
//! 2. builds a *timeline* per node: its free cores, memory and GPUs now, and
//!    what each running job gives back at the end of its time limit;
//! 3. walks the queue: a job starts now if enough nodes have room for it now
//!    *and* for its whole time limit on the timelines (so it breaks no
//!    reservation made for a job ahead of it); otherwise, while reservations
//!    are left ([`Backfill::Easy`]: one, [`Backfill::Conservative`]: `depth`),
//!    it gets the earliest start the timelines allow, on specific nodes,
//!    which the jobs behind it must respect. Without backfilling the first
//!    job that cannot start blocks its partition (Slurm's main scheduler).
//!
//! Co-built nodes: a tenant's jobs try its own nodes first (it runs free
//! there), then the centre's, then other owners' (guests prefer unowned
//! nodes). Owners come first on their own nodes: before the walk below,
//! each owner's job (in queue order) starts on its own nodes if it can, or
//! else preempts guests there, the youngest first and as few as it needs,
//! if the guests' partition allows it ([`PreemptMode`]), and holds a
//! reservation on those nodes for when the guests' grace time ends,
//! whatever the backfill depth. Owners' jobs that their own nodes cannot
//! serve take part in the walk like any other.
//!
//! Jobs over a project or user limit, held jobs, throttled array tasks and
//! jobs no node can serve wait with their own reason and hold nothing back. A job that waits for
//! resources gets `Resources` if it is the first of its partition to wait,
//! else `Priority`, as in Slurm.
//!
//! Times are in one unit throughout (the platform uses milliseconds): `now`,
//! submit times, time limits, running jobs' ends and the multifactor
//! `max_age`.
//!
//! **Invariants** (property-tested in `tests/cluster.rs`): no node ever has
//! more cores, memory or GPUs given out than it has, and no core or GPU id is
//! given twice; with runtimes equal to time limits no job started by
//! backfilling delays a reservation ahead of it; the same snapshot gives the
//! same plan; a job that fits the empty cluster eventually starts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lushan_model::PendingReason;

use crate::fairshare::{self, Association};
use crate::pool::Backfill;
use crate::priority::{self, Factors, Order};
use crate::timeline::{Resources, Timeline};
use crate::{
    Limit, LimitScope, Node, NodeAllocation, PartitionPolicy, PendingJob, Plan, PreemptMode, Preemption, RunningJob,
    Snapshot, Start, take_free,
};

/// How a site schedules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    pub order: Order,
    /// [`Backfill::Simplified`] exists for trace replays only; here it
    /// behaves as [`Backfill::Easy`].
    pub backfill: Backfill,
}

impl Policy {
    /// Submission order, and the first job that cannot start blocks its
    /// partition: what the local site did before the scheduler existed.
    pub const FIFO: Policy = Policy { order: Order::Fcfs, backfill: Backfill::None };
}

/// A node's cores, memory and GPUs, as counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Amount {
    cpus: u32,
    memory_mb: u64,
    gpus: u32,
}

impl Resources for Amount {
    fn covers(&self, need: &Amount) -> bool {
        self.cpus >= need.cpus && self.memory_mb >= need.memory_mb && self.gpus >= need.gpus
    }

    fn minus(self, other: &Amount) -> Amount {
        Amount {
            cpus: self.cpus.saturating_sub(other.cpus),
            memory_mb: self.memory_mb.saturating_sub(other.memory_mb),
            gpus: self.gpus.saturating_sub(other.gpus),
        }
    }

    fn plus(self, other: &Amount) -> Amount {
        Amount {
            cpus: self.cpus.saturating_add(other.cpus),
            memory_mb: self.memory_mb.saturating_add(other.memory_mb),
            gpus: self.gpus.saturating_add(other.gpus),
        }
    }
}

impl Amount {
    fn of(allocation: &NodeAllocation) -> Amount {
        Amount {
            cpus: u32::try_from(allocation.cpus.len()).unwrap_or(u32::MAX),
            memory_mb: allocation.memory_mb,
            gpus: u32::try_from(allocation.gpus.len()).unwrap_or(u32::MAX),
        }
    }
}

/// A node during a pass: the ids in use now, and its timeline.
struct NodeState<'a> {
    node: &'a Node,
    busy_cpus: Vec<u32>,
    busy_gpus: Vec<u32>,
    timeline: Timeline<Amount>,
}

/// What a job needs on one node.
fn need_on(job: &PendingJob, node: &Node) -> Amount {
    if job.exclusive {
        return Amount { cpus: node.cpus, memory_mb: node.memory_mb, gpus: node.gpus };
    }
    Amount {
        cpus: job.cpus_per_node,
        memory_mb: if job.memory_per_node_mb == 0 { node.memory_mb } else { job.memory_per_node_mb },
        gpus: job.gpus_per_node,
    }
}

/// Whether a node may ever serve a job: its partition, its features, and
/// room enough when empty.
pub(crate) fn serves(job: &PendingJob, node: &Node) -> bool {
    node.partitions.contains(&job.partition)
        && job.constraint.as_ref().is_none_or(|c| c.matches(&node.features))
        && Amount { cpus: node.cpus, memory_mb: node.memory_mb, gpus: node.gpus }.covers(&need_on(job, node))
}

/// A job's time limit as a duration: at least 1, and "none" (0) as far
/// beyond any other time as the arithmetic allows.
fn duration(job: &PendingJob) -> i64 {
    if job.time_limit <= 0 { i64::MAX / 4 } else { job.time_limit }
}

/// What a job asks for, but for its time limit: two jobs of one shape that
/// failed to start now fail alike, whatever their order.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Shape {
    partition: i64,
    nodes: u32,
    cpus_per_node: u32,
    memory_per_node_mb: u64,
    gpus_per_node: u32,
    exclusive: bool,
    constraint: Option<crate::Constraint>,
}

impl Shape {
    fn of(job: &PendingJob) -> Shape {
        Shape {
            partition: job.partition,
            nodes: job.nodes,
            cpus_per_node: job.cpus_per_node,
            memory_per_node_mb: job.memory_per_node_mb,
            gpus_per_node: job.gpus_per_node,
            exclusive: job.exclusive,
            constraint: job.constraint.clone(),
        }
    }
}

/// One scheduling pass over a cluster of nodes.
pub fn plan(policy: &Policy, snapshot: &Snapshot) -> Plan {
    let now = snapshot.now;
    let position: HashMap<i64, usize> = snapshot.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut releases: Vec<Vec<(i64, Amount)>> = vec![Vec::new(); snapshot.nodes.len()];
    for job in &snapshot.running {
        for allocation in &job.allocations {
            if let Some(&i) = position.get(&allocation.node) {
                releases[i].push((job.ends_at, Amount::of(allocation)));
            }
        }
    }
    let mut nodes: Vec<NodeState> = snapshot
        .nodes
        .iter()
        .zip(releases)
        .map(|(node, mut releases)| {
            releases.sort_by_key(|r| r.0);
            let busy = Amount {
                cpus: u32::try_from(node.busy_cpus.len()).unwrap_or(u32::MAX),
                memory_mb: node.busy_memory_mb,
                gpus: u32::try_from(node.busy_gpus.len()).unwrap_or(u32::MAX),
            };
            let total = Amount { cpus: node.cpus, memory_mb: node.memory_mb, gpus: node.gpus };
            NodeState {
                node,
                busy_cpus: node.busy_cpus.clone(),
                busy_gpus: node.busy_gpus.clone(),
                timeline: Timeline::new(now, total.minus(&busy), releases),
            }
        })
        .collect();

    let depth = match policy.backfill {
        Backfill::None => 0,
        Backfill::Easy | Backfill::Simplified => 1,
        Backfill::Conservative { depth } => depth,
    };
    let mut order = NodeOrder::new(&snapshot.nodes);
    let mut guests = Guests::new(snapshot, &position);
    let mut in_use = InUse::new(snapshot);
    let mut plan = Plan::default();
    let mut array_running: BTreeMap<i64, u32> = snapshot.array_running.iter().copied().collect();
    let mut blocked: BTreeSet<i64> = BTreeSet::new();
    let mut reservations = 0usize;
    // The shortest time limit each shape failed to start with now: starts and
    // reservations only take resources during a pass, so a job of that shape
    // with as long a limit fails too.
    let mut failed: HashMap<Shape, i64> = HashMap::new();
    let mut possible: HashMap<Shape, bool> = HashMap::new();

    let queue = queue_order(policy, snapshot);
    // Owners first on their own nodes: each owner's job (in queue order)
    // starts there now, or preempts guests there and reserves the nodes for
    // when they are gone. What it cannot get there it competes for below.
    let mut claimed = vec![false; snapshot.pending.len()];
    if order.any_owned {
        // As `failed` below, per owner: starts and reservations only take
        // room, so a shape that found neither room nor guests to preempt
        // for some time limit finds none for a longer one. A preemption
        // gives a guest's room back early, which may leave some over on the
        // owner's nodes: the owner's failures are forgotten. (A guest that
        // also ran on another owner's nodes leaves room there too, which
        // that owner's jobs may miss in this pass and find in the next.)
        let mut owner_failed: HashMap<(i64, Shape), i64> = HashMap::new();
        for &index in &queue {
            let job = &snapshot.pending[index];
            if job.held || throttled(job, &array_running) || in_use.over_limit(job).is_some() {
                continue;
            }
            let own = order.own(&snapshot.nodes, job.tenant);
            if own.len() < job.nodes as usize {
                continue;
            }
            let duration = duration(job);
            let key = (job.tenant, Shape::of(job));
            if owner_failed.get(&key).is_some_and(|&d| d <= duration) {
                continue;
            }
            if let Some(allocations) = start_now(&mut nodes, own, job, now, duration) {
                record_start(job, allocations, &mut array_running, &mut in_use, &mut plan);
                claimed[index] = true;
            } else if let Some(at) = guests.preempt_for(&mut nodes, own, job, now, duration, &mut plan.preemptions) {
                plan.pending.push((job.id, PendingReason::Resources));
                plan.estimates.push((job.id, at));
                claimed[index] = true;
                owner_failed.retain(|(tenant, _), _| *tenant != job.tenant);
            } else {
                let entry = owner_failed.entry(key).or_insert(duration);
                *entry = (*entry).min(duration);
            }
        }
    }

    for index in queue {
        if claimed[index] {
            continue;
        }
        let job = &snapshot.pending[index];
        if job.held {
            plan.pending.push((job.id, PendingReason::JobHeldUser));
            continue;
        }
        // A throttled task waits without holding back other jobs, as in Slurm.
        if throttled(job, &array_running) {
            plan.pending.push((job.id, PendingReason::JobArrayTaskLimit));
            continue;
        }
        if let Some(reason) = in_use.over_limit(job) {
            plan.pending.push((job.id, reason));
            continue;
        }
        if depth == 0 && blocked.contains(&job.partition) {
            plan.pending.push((job.id, PendingReason::Priority));
            continue;
        }
        let shape = Shape::of(job);
        // A job no set of nodes can ever serve (nodes or features changed
        // since it was submitted) waits without holding anything back.
        let serveable = match possible.get(&shape) {
            Some(&known) => known,
            None => {
                let known = crate::fits_empty(job, &snapshot.nodes);
                possible.insert(shape.clone(), known);
                known
            }
        };
        if !serveable {
            plan.pending.push((job.id, PendingReason::BadConstraints));
            continue;
        }
        let duration = duration(job);
        let hopeless = failed.get(&shape).is_some_and(|&d| d <= duration);
        let preference = order.for_tenant(&snapshot.nodes, job.tenant);
        if !hopeless {
            if let Some(allocations) = start_now(&mut nodes, preference, job, now, duration) {
                record_start(job, allocations, &mut array_running, &mut in_use, &mut plan);
                continue;
            }
            let entry = failed.entry(shape).or_insert(duration);
            *entry = (*entry).min(duration);
        }
        let reason = if blocked.insert(job.partition) { PendingReason::Resources } else { PendingReason::Priority };
        plan.pending.push((job.id, reason));
        if reservations < depth
            && let Some(at) = reserve(&mut nodes, preference, job, duration)
        {
            reservations += 1;
            plan.estimates.push((job.id, at));
        }
    }
    plan
}

/// Whether an array task's `%N` throttle is reached.
fn throttled(job: &PendingJob, array_running: &BTreeMap<i64, u32>) -> bool {
    matches!(job.array, Some((array, Some(throttle))) if array_running.get(&array).copied().unwrap_or(0) >= throttle)
}

/// Counts a job started in this pass against its array's throttle and its
/// limits, and adds it to the plan.
fn record_start(
    job: &PendingJob,
    allocations: Vec<NodeAllocation>,
    array_running: &mut BTreeMap<i64, u32>,
    in_use: &mut InUse,
    plan: &mut Plan,
) {
    if let Some((array, _)) = job.array {
        *array_running.entry(array).or_insert(0) += 1;
    }
    in_use.count(job.project, job.user, &allocations);
    plan.starts.push(Start { job: job.id, allocations });
}

/// Pending jobs' indices in the order they are tried.
fn queue_order(policy: &Policy, snapshot: &Snapshot) -> Vec<usize> {
    let pending = &snapshot.pending;
    let mut order: Vec<usize> = (0..pending.len()).collect();
    match policy.order {
        Order::Fcfs => order.sort_by_key(|&i| (pending[i].submit, pending[i].id)),
        Order::Sjf => order.sort_by_key(|&i| (pending[i].time_limit, pending[i].submit, pending[i].id)),
        Order::F1 => {
            let score = |job: &PendingJob| {
                let procs = u64::from(job.nodes) * u64::from(job.cpus_per_node);
                priority::f1_score(job.time_limit, procs, job.submit)
            };
            order.sort_by(|&a, &b| {
                score(&pending[a])
                    .total_cmp(&score(&pending[b]))
                    .then((pending[a].submit, pending[a].id).cmp(&(pending[b].submit, pending[b].id)))
            });
        }
        Order::Multifactor(weights) => {
            let priorities: Vec<u64> = weighted_priorities(&weights, snapshot).iter().map(|w| w.total()).collect();
            order.sort_by_key(|&i| (std::cmp::Reverse(priorities[i]), pending[i].submit, pending[i].id));
        }
    }
    order
}

/// Each pending job's multifactor priority, in parts, in the snapshot's
/// order.
pub fn weighted_priorities(weights: &priority::Weights, snapshot: &Snapshot) -> Vec<priority::Weighted> {
    let fairshare = fair_share(snapshot);
    let mut partition_cpus: BTreeMap<i64, u64> = BTreeMap::new();
    for node in &snapshot.nodes {
        for &p in &node.partitions {
            *partition_cpus.entry(p).or_insert(0) += u64::from(node.cpus);
        }
    }
    let job_factor: HashMap<i64, u32> = snapshot.partitions.iter().map(|p| (p.id, p.priority_job_factor)).collect();
    let factor_of = |partition: i64| job_factor.get(&partition).copied().unwrap_or(1);
    // Slurm divides by the largest factor of any partition, whether it has
    // nodes and jobs or not.
    let max_factor =
        partition_cpus.keys().map(|&p| factor_of(p)).chain(job_factor.values().copied()).max().unwrap_or(1);
    let ratio = |value: u32, max: u32| if max == 0 { 0.0 } else { f64::from(value.min(max)) / f64::from(max) };
    snapshot
        .pending
        .iter()
        .map(|job| {
            let factors = Factors {
                age: snapshot.now.saturating_sub(job.submit),
                fairshare: fairshare.get(&(job.tenant, job.project, job.user)).copied().unwrap_or(0.0),
                procs: u64::from(job.nodes) * u64::from(job.cpus_per_node),
                total_procs: partition_cpus.get(&job.partition).copied().unwrap_or(0),
                partition: ratio(factor_of(job.partition), max_factor),
                qos: ratio(job.qos_priority, snapshot.max_qos_priority),
            };
            priority::weighted(weights, &factors)
        })
        .collect()
}

/// Each (tenant, project, user)'s Fair Tree factor, from the snapshot's
/// decayed usage; every association has one share.
pub fn fair_share(snapshot: &Snapshot) -> BTreeMap<(i64, i64, i64), f64> {
    let mut usage: BTreeMap<(i64, i64, i64), f64> = BTreeMap::new();
    for u in &snapshot.usage {
        *usage.entry((u.tenant, u.project, u.user)).or_insert(0.0) += u.usage;
    }
    for job in &snapshot.pending {
        usage.entry((job.tenant, job.project, job.user)).or_insert(0.0);
    }
    let mut associations = vec![Association { parent: None, shares: 1, usage: 0.0 }];
    let mut tenants: BTreeMap<i64, usize> = BTreeMap::new();
    let mut projects: BTreeMap<(i64, i64), usize> = BTreeMap::new();
    let mut users: Vec<((i64, i64, i64), usize)> = Vec::new();
    for (&(tenant, project, user), &used) in &usage {
        let t = *tenants.entry(tenant).or_insert_with(|| {
            associations.push(Association { parent: Some(0), shares: 1, usage: 0.0 });
            associations.len() - 1
        });
        let p = *projects.entry((tenant, project)).or_insert_with(|| {
            associations.push(Association { parent: Some(t), shares: 1, usage: 0.0 });
            associations.len() - 1
        });
        associations.push(Association { parent: Some(p), shares: 1, usage: used });
        users.push(((tenant, project, user), associations.len() - 1));
    }
    let factors = fairshare::fair_tree(&associations);
    users.into_iter().map(|(key, i)| (key, factors[i])).collect()
}

/// The order a tenant's jobs try nodes in: its own co-built nodes first (it
/// runs free there), then the centre's, then other owners' (where it may be
/// preempted). Without co-built nodes, the snapshot's order for everyone.
struct NodeOrder {
    plain: Vec<usize>,
    any_owned: bool,
    by_tenant: HashMap<i64, Vec<usize>>,
}

impl NodeOrder {
    fn new(nodes: &[Node]) -> NodeOrder {
        NodeOrder {
            plain: (0..nodes.len()).collect(),
            any_owned: nodes.iter().any(|n| n.owner.is_some()),
            by_tenant: HashMap::new(),
        }
    }

    fn for_tenant(&mut self, nodes: &[Node], tenant: i64) -> &[usize] {
        if !self.any_owned {
            return &self.plain;
        }
        self.by_tenant.entry(tenant).or_insert_with(|| {
            let mut order = self.plain.clone();
            // Stable: the snapshot's order within each rank.
            order.sort_by_key(|&i| match nodes[i].owner {
                Some(owner) if owner == tenant => 0,
                None => 1,
                Some(_) => 2,
            });
            order
        })
    }

    /// A tenant's own nodes, in the snapshot's order.
    fn own(&mut self, nodes: &[Node], tenant: i64) -> &[usize] {
        let preference = self.for_tenant(nodes, tenant);
        let count = preference.iter().take_while(|&&i| nodes[i].owner == Some(tenant)).count();
        &preference[..count]
    }
}

/// The running jobs owners may preempt: guests on co-built nodes, by node.
struct Guests<'a> {
    running: &'a [RunningJob],
    position: &'a HashMap<i64, usize>,
    /// Indices into `running` of the jobs on each co-built node.
    on_node: Vec<Vec<usize>>,
    /// Being preempted already (from the snapshot, or earlier in this pass).
    preempting: Vec<bool>,
    policies: HashMap<i64, PartitionPolicy>,
}

impl<'a> Guests<'a> {
    fn new(snapshot: &'a Snapshot, position: &'a HashMap<i64, usize>) -> Guests<'a> {
        let mut on_node = vec![Vec::new(); snapshot.nodes.len()];
        if snapshot.nodes.iter().any(|n| n.owner.is_some()) {
            for (r, job) in snapshot.running.iter().enumerate() {
                for allocation in &job.allocations {
                    if let Some(&i) = position.get(&allocation.node)
                        && snapshot.nodes[i].owner.is_some()
                    {
                        on_node[i].push(r);
                    }
                }
            }
        }
        Guests {
            running: &snapshot.running,
            position,
            on_node,
            preempting: snapshot.running.iter().map(|j| j.preempting).collect(),
            policies: snapshot.partitions.iter().map(|p| (p.id, *p)).collect(),
        }
    }

    fn policy(&self, r: usize) -> PartitionPolicy {
        let partition = self.running[r].partition;
        self.policies.get(&partition).copied().unwrap_or(PartitionPolicy::unlisted(partition))
    }

    /// When a guest preempted now is gone: after its grace time (at least
    /// one tick: it holds its cores until it has exited).
    fn deadline(&self, r: usize, now: i64) -> i64 {
        now.saturating_add(self.policy(r).grace.max(1))
    }

    /// What running job `r` holds on node `i`.
    fn amount_on(&self, r: usize, node_id: i64) -> Amount {
        self.running[r]
            .allocations
            .iter()
            .filter(|a| a.node == node_id)
            .map(Amount::of)
            .fold(Amount::default(), |sum, a| sum.plus(&a))
    }

    /// For an owner's job that cannot start now on its `own` nodes:
    /// preempts the fewest guests (the youngest first) on `job.nodes` of
    /// them that then hold it for its whole time limit, and reserves those
    /// nodes for it. Returns the reservation's start; `None` when its own
    /// nodes cannot serve it even without guests.
    fn preempt_for(
        &mut self,
        nodes: &mut [NodeState],
        own: &[usize],
        job: &PendingJob,
        now: i64,
        duration: i64,
        preemptions: &mut Vec<Preemption>,
    ) -> Option<i64> {
        let k = job.nodes as usize;
        // (new victims, when the node is ready, rank in the preference, node, victims)
        let mut options: Vec<(usize, i64, usize, usize, Vec<usize>)> = Vec::new();
        for (rank, &i) in own.iter().enumerate() {
            let state = &nodes[i];
            if !serves(job, state.node) {
                continue;
            }
            let need = need_on(job, state.node);
            let mut candidates: Vec<usize> = self.on_node[i]
                .iter()
                .copied()
                .filter(|&r| {
                    !self.preempting[r]
                        && self.running[r].tenant != job.tenant
                        && self.policy(r).preempt_mode != PreemptMode::Off
                })
                .collect();
            candidates
                .sort_by_key(|&r| (std::cmp::Reverse(self.running[r].start), std::cmp::Reverse(self.running[r].id)));
            // Guests already told to go are gone at their deadline.
            let mut ready = self.on_node[i]
                .iter()
                .filter(|&&r| self.preempting[r])
                .map(|&r| self.running[r].ends_at)
                .fold(now, i64::max);
            let mut timeline = state.timeline.clone();
            let mut victims = Vec::new();
            let mut candidates = candidates.into_iter();
            loop {
                if timeline.fits(ready, ready.saturating_add(duration), &need) {
                    options.push((victims.len(), ready, rank, i, victims));
                    break;
                }
                let Some(r) = candidates.next() else { break };
                let deadline = self.deadline(r, now);
                timeline.give(deadline, self.running[r].ends_at, &self.amount_on(r, state.node.id));
                ready = ready.max(deadline);
                victims.push(r);
            }
        }
        if k == 0 || options.len() < k {
            return None;
        }
        options.sort_by_key(|o| (o.0, o.1, o.2));
        options.truncate(k);
        let mut victims: Vec<usize> = options.iter().flat_map(|o| o.4.iter().copied()).collect();
        victims.sort_unstable();
        victims.dedup();
        for r in victims {
            self.preempting[r] = true;
            let deadline = self.deadline(r, now);
            let guest = &self.running[r];
            for allocation in &guest.allocations {
                if let Some(&n) = self.position.get(&allocation.node) {
                    nodes[n].timeline.give(deadline, guest.ends_at, &Amount::of(allocation));
                }
            }
            let policy = self.policy(r);
            preemptions.push(Preemption {
                job: guest.id,
                by: job.id,
                mode: policy.preempt_mode,
                grace: policy.grace.max(1),
            });
        }
        let mut chosen: Vec<usize> = options.iter().map(|o| o.3).collect();
        chosen.sort_by_key(|&i| own.iter().position(|&p| p == i));
        reserve(nodes, &chosen, job, duration)
    }
}

/// Starts `job` now on the first nodes (in the tenant's `preference`) with
/// room for it now and for its whole time limit, and gives it specific
/// cores and GPUs.
fn start_now(
    nodes: &mut [NodeState],
    preference: &[usize],
    job: &PendingJob,
    now: i64,
    duration: i64,
) -> Option<Vec<NodeAllocation>> {
    let end = now.saturating_add(duration);
    let mut chosen: Vec<(usize, Amount)> = Vec::with_capacity(job.nodes as usize);
    for &i in preference {
        let state = &nodes[i];
        if chosen.len() == job.nodes as usize {
            break;
        }
        // Most nodes are busy late in a pass: the cheapest test first.
        let need = need_on(job, state.node);
        if !state.timeline.now().covers(&need) || !serves(job, state.node) || !state.timeline.fits(now, end, &need) {
            continue;
        }
        chosen.push((i, need));
    }
    if chosen.len() < job.nodes as usize || chosen.is_empty() {
        return None;
    }
    let mut allocations = Vec::with_capacity(chosen.len());
    for &(i, need) in &chosen {
        let state = &nodes[i];
        let cpus = take_free(state.node.cpus, &state.busy_cpus, need.cpus)?;
        let gpus = take_free(state.node.gpus, &state.busy_gpus, need.gpus)?;
        allocations.push(NodeAllocation {
            node: state.node.id,
            node_name: state.node.name.clone(),
            cpus,
            memory_mb: need.memory_mb,
            gpus,
        });
    }
    for (&(i, need), allocation) in chosen.iter().zip(&allocations) {
        let state = &mut nodes[i];
        state.busy_cpus.extend(&allocation.cpus);
        state.busy_gpus.extend(&allocation.gpus);
        state.timeline.take(now, end, &need);
    }
    Some(allocations)
}

/// Reserves the earliest start at which `job.nodes` of the `preference`
/// nodes have room for the whole time limit; returns that start.
fn reserve(nodes: &mut [NodeState], preference: &[usize], job: &PendingJob, duration: i64) -> Option<i64> {
    let k = job.nodes as usize;
    if k == 0 {
        return None;
    }
    // Each serving node's own earliest start; the k-th smallest is a lower
    // bound for the job, and usually its start.
    let mut earliest: Vec<(i64, usize, Amount)> = Vec::new();
    for &i in preference {
        let state = &nodes[i];
        if !serves(job, state.node) {
            continue;
        }
        let need = need_on(job, state.node);
        if let Some(at) = state.timeline.earliest(duration, &need) {
            earliest.push((at, i, need));
        }
    }
    if earliest.len() < k {
        return None;
    }
    // Nodes are chosen at a time as a start at that time would choose them
    // (the first that fit, in the tenant's order), so that the job starts where it
    // was reserved and the reservations behind it stay valid.
    let mut starts: Vec<i64> = earliest.iter().map(|e| e.0).collect();
    starts.sort_unstable();
    let lower = starts[k - 1];
    let mut times: Vec<i64> =
        earliest.iter().flat_map(|&(_, i, _)| nodes[i].timeline.changes()).filter(|&t| t >= lower).collect();
    times.sort_unstable();
    times.dedup();
    for at in times {
        let end = at.saturating_add(duration);
        let chosen: Vec<(usize, Amount)> = earliest
            .iter()
            .filter(|&&(e, i, need)| e <= at && nodes[i].timeline.fits(at, end, &need))
            .map(|&(_, i, need)| (i, need))
            .take(k)
            .collect();
        if chosen.len() == k {
            for (i, need) in chosen {
                nodes[i].timeline.take(at, end, &need);
            }
            return Some(at);
        }
    }
    None
}

/// What each project and user has running, and the limits on them, indexed
/// by whom they limit: a pass looks a job's limits up instead of scanning
/// them all for every job.
struct InUse<'a> {
    /// The limits on each scope, with their place in the snapshot (a job
    /// over several limits waits for the first).
    limits: HashMap<LimitScope, Vec<(usize, &'a Limit)>>,
    running: HashMap<LimitScope, Running>,
}

/// Counts of a scope's running jobs.
#[derive(Clone, Copy, Default)]
struct Running {
    jobs: u64,
    cpus: u64,
    gpus: u64,
}

impl<'a> InUse<'a> {
    fn new(snapshot: &'a Snapshot) -> InUse<'a> {
        let mut in_use = InUse { limits: HashMap::new(), running: HashMap::new() };
        for (index, limit) in snapshot.limits.iter().enumerate() {
            in_use.limits.entry(limit.scope).or_default().push((index, limit));
        }
        if !in_use.limits.is_empty() {
            for job in &snapshot.running {
                in_use.count(job.project, job.user, &job.allocations);
            }
        }
        in_use
    }

    /// Counts a job that runs, or has just been started, against its
    /// project and user.
    fn count(&mut self, project: i64, user: i64, allocations: &[NodeAllocation]) {
        if self.limits.is_empty() {
            return;
        }
        let cpus: u64 = allocations.iter().map(|a| a.cpus.len() as u64).sum();
        let gpus: u64 = allocations.iter().map(|a| a.gpus.len() as u64).sum();
        for scope in [LimitScope::Project(project), LimitScope::User(user), LimitScope::Member { project, user }] {
            let running = self.running.entry(scope).or_default();
            running.jobs += 1;
            running.cpus += cpus;
            running.gpus += gpus;
        }
    }

    /// The first limit `job` would go over if it started now.
    fn over_limit(&self, job: &PendingJob) -> Option<PendingReason> {
        if self.limits.is_empty() {
            return None;
        }
        let none = Vec::new();
        let on = |scope| self.limits.get(&scope).unwrap_or(&none);
        let (project, user) = (LimitScope::Project(job.project), LimitScope::User(job.user));
        let member = LimitScope::Member { project: job.project, user: job.user };
        let mut applying: Vec<&(usize, &Limit)> = on(project).iter().chain(on(user)).chain(on(member)).collect();
        applying.sort_by_key(|(index, _)| *index);
        let cpus = u64::from(job.nodes) * u64::from(job.cpus_per_node);
        let gpus = u64::from(job.nodes) * u64::from(job.gpus_per_node);
        for (_, limit) in applying {
            let reasons = match limit.scope {
                LimitScope::Project(_) => {
                    [PendingReason::AssocGrpJobsLimit, PendingReason::AssocGrpCpuLimit, PendingReason::AssocGrpGRES]
                }
                LimitScope::User(_) => [
                    PendingReason::QOSMaxJobsPerUserLimit,
                    PendingReason::QOSMaxCpuPerUserLimit,
                    PendingReason::QOSMaxGRESPerUser,
                ],
                // Slurm's reasons for the (user, account) association's
                // MaxJobs and GrpTRES.
                LimitScope::Member { .. } => {
                    [PendingReason::AssocMaxJobsLimit, PendingReason::AssocGrpCpuLimit, PendingReason::AssocGrpGRES]
                }
            };
            let used = self.running.get(&limit.scope).copied().unwrap_or_default();
            if limit.max_running_jobs.is_some_and(|max| used.jobs + 1 > max) {
                return Some(reasons[0]);
            }
            if limit.max_cpus.is_some_and(|max| used.cpus + cpus > max) {
                return Some(reasons[1]);
            }
            if limit.max_gpus.is_some_and(|max| used.gpus + gpus > max) {
                return Some(reasons[2]);
            }
        }
        None
    }
}
