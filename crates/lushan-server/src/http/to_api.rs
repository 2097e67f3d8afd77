//! Domain records to wire types. The only place that knows both.

use crate::service::{
    AuditRecord, JobRecord, MemberRecord, ProjectRecord, SiteRecord, TenantRecord, TokenRecord, UserRecord,
};
use lushan_api as api;
use lushan_model::{ProjectRole, Role, Sector, Status};

/// Epoch milliseconds as RFC 3339 in UTC.
pub fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_else(|_| ms.to_string())
}

pub fn sector(s: Sector) -> api::Sector {
    match s {
        Sector::University => api::Sector::University,
        Sector::Institute => api::Sector::Institute,
        Sector::Enterprise => api::Sector::Enterprise,
        Sector::Government => api::Sector::Government,
        Sector::School => api::Sector::School,
        Sector::Centre => api::Sector::Centre,
    }
}

pub fn role(r: Role) -> api::Role {
    match r {
        Role::Operator => api::Role::Operator,
        Role::TenantAdmin => api::Role::TenantAdmin,
        Role::Reviewer => api::Role::Reviewer,
        Role::Member => api::Role::Member,
    }
}

pub fn project_role(r: ProjectRole) -> api::ProjectRole {
    match r {
        ProjectRole::Pi => api::ProjectRole::Pi,
        ProjectRole::Manager => api::ProjectRole::Manager,
        ProjectRole::Member => api::ProjectRole::Member,
    }
}

pub fn status(s: Status) -> api::Status {
    match s {
        Status::Active => api::Status::Active,
        Status::Disabled => api::Status::Disabled,
    }
}

pub fn tenant(t: TenantRecord) -> api::Tenant {
    api::Tenant {
        name: t.name,
        display_name: t.display_name,
        sector: sector(t.sector),
        status: status(t.status),
        created_at: time(t.created_at),
    }
}

pub fn user(u: UserRecord) -> api::User {
    api::User {
        name: u.name,
        display_name: u.display_name,
        tenant: u.tenant_name,
        role: role(u.role),
        unix_account: u.unix_account,
        status: status(u.status),
        created_at: time(u.created_at),
    }
}

/// A project as the API shows it; `services` says where its directory is.
pub fn project(services: &crate::service::Services, (p, members): (ProjectRecord, Vec<MemberRecord>)) -> api::Project {
    let pi = members.iter().find(|m| m.role == ProjectRole::Pi).map(|m| m.user_name.clone());
    api::Project {
        directory: services.project_dir(&p.name).map(|d| d.display().to_string()),
        name: p.name,
        tenant: p.tenant_name,
        description: p.description,
        status: status(p.status),
        created_at: time(p.created_at),
        pi,
        members: members
            .into_iter()
            .map(|m| api::ProjectMember {
                user: m.user_name,
                display_name: m.display_name,
                role: project_role(m.role),
                added_at: time(m.added_at),
            })
            .collect(),
    }
}

pub fn template(t: crate::service::TemplateRecord) -> api::JobTemplate {
    api::JobTemplate {
        id: t.id,
        centre: t.owner.is_none(),
        name: t.name,
        title: t.title,
        title_en: t.title_en,
        description: t.description,
        description_en: t.description_en,
        script: t.script,
        created_at: time(t.created_at),
        updated_at: time(t.updated_at),
    }
}

pub fn token(t: TokenRecord, now: i64) -> api::Token {
    let state = if t.revoked_at.is_some() {
        api::TokenState::Revoked
    } else if t.expires_at.is_some_and(|at| at <= now) {
        api::TokenState::Expired
    } else {
        api::TokenState::Active
    };
    api::Token {
        id: t.id.0,
        name: t.name,
        state,
        created_at: time(t.created_at),
        expires_at: t.expires_at.map(time),
        last_used_at: t.last_used_at.map(time),
        revoked_at: t.revoked_at.map(time),
    }
}

/// A site, with what running jobs hold on each node (`usage`: node id,
/// CPUs, memory MB, GPUs).
pub fn site(s: SiteRecord, usage: &[(i64, u64, u64, u64)]) -> api::Site {
    let slurm = s.backend == "slurm";
    api::Site {
        transport: slurm.then(|| s.transport.clone()),
        rest_url: (slurm && s.transport == "rest").then(|| s.rest_url.clone()),
        slurm_bin: (slurm && s.transport == "cli").then(|| s.slurm_bin.clone()),
        cluster: slurm.then(|| s.cluster.clone()),
        synced_at: s.synced_at.map(time),
        last_error: s.last_error.clone(),
        name: s.name,
        backend: s.backend,
        status: status(s.status),
        partitions: s
            .partitions
            .into_iter()
            .map(|p| api::Partition {
                name: p.name,
                default: p.is_default,
                nodes: p.node_names,
                preempt_mode: p.preempt_mode,
                grace_secs: p.grace_secs,
                priority_job_factor: p.priority_job_factor,
            })
            .collect(),
        nodes: s
            .nodes
            .into_iter()
            .map(|n| {
                let (cpus, mem, gpus) = usage
                    .iter()
                    .find(|u| u.0 == n.id.0)
                    .map(|u| (u.1 as i64, u.2 as i64, u.3 as i64))
                    .unwrap_or((0, 0, 0));
                let state = match cpus {
                    // Slurm knows its nodes' state better than Lushan's jobs alone say.
                    _ if slurm && !n.state.is_empty() => n.state.as_str(),
                    0 => "idle",
                    c if c >= n.cpus => "allocated",
                    _ => "mixed",
                };
                api::Node {
                    name: n.name,
                    cpus: n.cpus,
                    memory_mb: n.memory_mb,
                    gpus: n.gpus,
                    gpu_type: n.gpu_type,
                    owner: n.owner_tenant,
                    features: n.features,
                    alloc_cpus: cpus,
                    alloc_memory_mb: mem,
                    alloc_gpus: gpus,
                    state: state.to_owned(),
                }
            })
            .collect(),
    }
}

/// Seconds as Slurm prints a time limit or elapsed time: `D-HH:MM:SS`,
/// without the day part when it is 0.
pub fn slurm_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if days > 0 { format!("{days}-{h:02}:{m:02}:{s:02}") } else { format!("{h:02}:{m:02}:{s:02}") }
}

pub fn job(j: JobRecord, now: i64) -> api::Job {
    let elapsed_ms = match (j.start_time, j.end_time) {
        (Some(start), Some(end)) => end - start,
        (Some(start), None) => now - start,
        _ => 0,
    };
    let stdout = j.stdout_path.clone();
    api::Job {
        job_id: j.id.0,
        name: j.name,
        user: j.user_name,
        project: j.project_name,
        site: j.site_name,
        partition: j.partition_name,
        state: j.state.as_str().to_owned(),
        reason: j.reason,
        submit_time: time(j.submit_time),
        start_time: j.start_time.map(time),
        end_time: j.end_time.map(time),
        time_limit: if j.time_limit_secs == 0 { "UNLIMITED".into() } else { slurm_duration(j.time_limit_secs) },
        elapsed_secs: elapsed_ms / 1000,
        nodes: j.nodes,
        ntasks: j.ntasks,
        cpus_per_task: j.cpus_per_task,
        cpus: j.cpus_per_node * j.nodes,
        mem_per_node_mb: j.mem_per_node_mb,
        gpus_per_node: j.gpus_per_node,
        exclusive: j.exclusive,
        held: j.held,
        node_list: j.node_list,
        exit_code: match (j.exit_code, j.exit_signal) {
            (Some(code), signal) => format!("{code}:{}", signal.unwrap_or(0)),
            (None, Some(signal)) => format!("0:{signal}"),
            (None, None) => String::new(),
        },
        workdir: j.workdir,
        stdout,
        stderr: j.stderr_path,
        comment: j.comment,
        array_job_id: j.array_job_id.map(|a| a.0),
        array_task_id: j.array_task_id,
        array_throttle: j.array_throttle,
        dependency: j.dependency,
        begin_time: j.begin_time.map(time),
        max_rss_kib: j.max_rss_kib,
        total_cpu_ms: j.total_cpu_ms,
        estimated_start: None,
        priority: None,
        charge: None,
        restarts: j.restarts,
        preempted_by: j.preempted_by.filter(|_| j.state == lushan_model::JobState::Running).map(|b| b.0),
        remote_id: j.remote_id,
        route: j.route.clone(),
        qos: j.qos.clone(),
    }
}

pub fn job_charge(c: crate::service::JobChargeRecord) -> api::JobCharge {
    use lushan_ledger::{Funding, Money, Units};
    let (funding, grant_id, amount): (&str, Option<i64>, fn(i64) -> String) = match c.funding {
        Funding::Wallet(_) => ("wallet", None, |v| Money(v).to_string()),
        Funding::Grant(g) => ("grant", Some(g.0), |v| Units(v).to_string()),
    };
    api::JobCharge {
        funding: funding.into(),
        grant_id,
        unit: c.funding.commodity().as_str().into(),
        held: amount(c.held),
        charged: c.charged.map(amount),
        owner_share: c.owner_share.map(|m| m.to_string()),
        runs: c.runs,
        preempted_runs: c.preempted_runs,
    }
}

pub fn audit(a: AuditRecord) -> api::AuditEvent {
    let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    api::AuditEvent {
        id: a.id,
        at: time(a.at),
        actor: a.actor,
        action: a.action,
        target_kind: a.target_kind,
        target: a.target,
        before: parse(a.before),
        after: parse(a.after),
        request_id: a.request_id,
    }
}

pub fn wallet(b: crate::service::Balance) -> api::Wallet {
    api::Wallet {
        tenant: b.tenant.name,
        balance: b.wallet.balance().to_string(),
        held: b.wallet.held.to_string(),
        available: b.wallet.available().to_string(),
        credit_limit: b.wallet.credit_limit.to_string(),
        earnings: b.wallet.earnings.to_string(),
        discount_percent: b.discount.to_string(),
    }
}

pub fn statement(tenant: &str, month: &str, s: crate::service::Statement) -> api::Statement {
    api::Statement {
        tenant: tenant.to_owned(),
        month: month.to_owned(),
        from: time(s.from),
        to: time(s.to),
        opening_balance: s.opening.to_string(),
        closing_balance: s.closing.to_string(),
        held_at_close: s.held.to_string(),
        lines: s
            .lines
            .into_iter()
            .map(|l| api::StatementLine {
                transaction_id: l.transaction_id,
                time: time(l.at),
                kind: l.kind,
                job_id: l.job_id.map(|j| j.0),
                reference: l.reference,
                memo: l.memo,
                amount: l.amount.to_string(),
                balance: l.balance.to_string(),
            })
            .collect(),
    }
}

pub fn price(p: crate::service::PriceRecord) -> api::Price {
    api::Price {
        id: p.id,
        site: p.site_name,
        partition: p.partition_name,
        qos: (!p.qos.is_empty()).then_some(p.qos),
        core_hour: p.price.core_hour.to_string(),
        gpu_hour: p.price.gpu_hour.to_string(),
        gb_hour: p.price.gb_hour.to_string(),
        su_per_gpu_hour: p.price.su_per_gpu_hour,
        since: time(p.created_at),
        set_by: p.created_by,
    }
}

pub fn price_list(
    (prices, discounts, sharing): (
        Vec<crate::service::PriceRecord>,
        Vec<(Sector, lushan_ledger::BasisPoints)>,
        lushan_ledger::Sharing,
    ),
) -> api::PriceList {
    api::PriceList {
        prices: prices.into_iter().map(price).collect(),
        discounts: discounts
            .into_iter()
            .map(|(s, bp)| api::SectorDiscount { sector: sector(s), percent: bp.to_string() })
            .collect(),
        owner_share_percent: sharing.owner_share.to_string(),
        preemptible_discount_percent: sharing.preemptible_discount.to_string(),
    }
}

pub fn estimate(q: &crate::service::Quote) -> api::JobEstimate {
    let (funding, grant_id) = match q.funding {
        lushan_ledger::Funding::Wallet(_) => ("wallet", None),
        lushan_ledger::Funding::Grant(g) => ("grant", Some(g.0)),
    };
    let unit = q.funding.commodity().as_str();
    let bare = |amount: i64| q.amount_text(amount).trim_end_matches(unit).trim_end().to_owned();
    api::JobEstimate {
        funding: funding.into(),
        grant_id,
        payer: q.payer.clone(),
        unit: unit.into(),
        site: q.price.site_name.clone(),
        partition: q.partition.clone(),
        price: price(q.price.clone()),
        discount_percent: q.discount.to_string(),
        cores: q.resources.cores,
        gpus: q.resources.gpus,
        memory_mb: q.resources.memory_mb,
        time_limit_secs: q.limit_secs,
        tasks: q.count,
        worst_case_per_job: bare(q.hold_per_job),
        worst_case: bare(q.total()),
        available: bare(q.available),
        covered: q.covered(),
        free_because: q.free_because.clone(),
    }
}

pub fn site_quote(row: &crate::service::SiteQuoteRow) -> api::SiteQuote {
    api::SiteQuote {
        site: row.site.clone(),
        chosen: row.chosen,
        estimated_start: row.estimated_start.map(time),
        estimate: row.quote.as_ref().map(estimate),
        refused: row.refused.clone(),
    }
}

/// Epoch milliseconds as the server's local date.
fn date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::system()).date().to_string())
        .unwrap_or_else(|_| ms.to_string())
}

pub fn grant(g: crate::service::GrantRecord, now: i64) -> api::Grant {
    use lushan_ledger::Units;
    let state = match g.state {
        crate::service::GrantState::Approved if g.ends_at <= now => "expired",
        other => other.as_str(),
    };
    api::Grant {
        id: g.id.0,
        project: g.project_name.clone(),
        tenant: g.tenant_name.clone(),
        state: state.into(),
        requested_core_hours: g.requested_core_hours,
        requested_gpu_hours: g.requested_gpu_hours,
        awarded_su: g.awarded.map(|u| Units(u).to_string()),
        used_su: Units(g.used()).to_string(),
        held_su: Units(g.held).to_string(),
        remaining_su: Units(g.remaining).to_string(),
        site: g.site_name.clone(),
        partition: g.partition_name.clone(),
        from: date(g.starts_at),
        to: date(g.ends_at - 86_400_000),
        reason: g.reason.clone(),
        decision_reason: g.decision_reason.clone(),
        requested_by: g.requested_by.clone(),
        requested_at: time(g.requested_at),
        decided_by: g.decided_by.clone(),
        decided_at: g.decided_at.map(time),
        renews: g.renews.map(|r| r.0),
        reviews: g
            .reviews
            .into_iter()
            .map(|r| api::GrantReview { reviewer: r.reviewer, score: r.score, comment: r.comment, time: time(r.at) })
            .collect(),
    }
}

fn usage_row(r: &crate::service::UsageRow) -> api::UsageReportRow {
    use lushan_ledger::Units;
    api::UsageReportRow {
        key: r.key.clone(),
        jobs: r.jobs,
        core_hours: Units(r.core_seconds).to_string(),
        gpu_hours: Units(r.gpu_seconds).to_string(),
        cny_charged: r.charged.to_string(),
        su_used: Units(r.units).to_string(),
        welfare_core_hours: Units(r.welfare_core_seconds).to_string(),
    }
}

pub fn usage_report(by: &str, from: &str, to: &str, rows: Vec<crate::service::UsageRow>) -> api::UsageReport {
    // Shown totals: pinned at the extreme rather than wrapped.
    let sum = |column: fn(&crate::service::UsageRow) -> i64| rows.iter().fold(0i64, |s, r| s.saturating_add(column(r)));
    let total = crate::service::UsageRow {
        key: "total".into(),
        jobs: sum(|r| r.jobs),
        core_seconds: sum(|r| r.core_seconds),
        gpu_seconds: sum(|r| r.gpu_seconds),
        charged: lushan_ledger::Money(sum(|r| r.charged.0)),
        units: sum(|r| r.units),
        welfare_core_seconds: sum(|r| r.welfare_core_seconds),
    };
    api::UsageReport {
        by: by.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
        rows: rows.iter().map(usage_row).collect(),
        total: usage_row(&total),
    }
}

pub fn settlement(month: &str, s: crate::service::Settlement) -> api::Settlement {
    use lushan_ledger::Units;
    api::Settlement {
        owner: s.owner.name.clone(),
        month: month.to_owned(),
        guest_core_hours: Units(s.core_seconds(false)).to_string(),
        own_core_hours: Units(s.core_seconds(true)).to_string(),
        earned: s.earned().to_string(),
        jobs: s
            .rows
            .into_iter()
            .map(|r| api::SettlementJob {
                job_id: r.job_id.0,
                user: r.user,
                tenant: r.tenant,
                project: r.project,
                own: r.own,
                core_hours: Units(r.core_seconds).to_string(),
                charged: if r.funding == "grant" {
                    format!("{} SU", Units(r.charged))
                } else {
                    format!("{} CNY", lushan_ledger::Money(r.charged))
                },
                funding: r.funding,
                earned: r.earned.to_string(),
                run: r.run,
                preempted: r.preempted,
            })
            .collect(),
    }
}

pub fn limit(l: crate::service::LimitRecord) -> api::Limit {
    api::Limit {
        scope: l.scope.kind().into(),
        name: l.name,
        project: l.project,
        max_running_jobs: l.values.max_running_jobs,
        max_cpus: l.values.max_cpus,
        max_gpus: l.values.max_gpus,
        max_submitted: l.values.max_submitted,
        updated_at: time(l.updated_at),
    }
}

pub fn job_priority(p: &lushan_scheduler::priority::Weighted) -> api::JobPriority {
    let part = |v: f64| v as i64;
    api::JobPriority {
        priority: i64::try_from(p.total()).unwrap_or(i64::MAX),
        age: part(p.age),
        fairshare: part(p.fairshare),
        job_size: part(p.job_size),
        partition: part(p.partition),
        qos: part(p.qos),
    }
}

pub fn qos(q: crate::service::QosRecord) -> api::Qos {
    api::Qos { name: q.name, priority: q.priority, description: q.description, updated_at: time(q.updated_at) }
}

pub fn file_entry(e: lushan_backend::files::Entry) -> api::FileEntry {
    use lushan_backend::files::EntryKind;
    let kind = match e.kind {
        EntryKind::File => "file",
        EntryKind::Directory => "directory",
        EntryKind::Link => "link",
        EntryKind::Other => "other",
    };
    api::FileEntry {
        name: e.name,
        kind: kind.to_owned(),
        size: e.size,
        modified: time(e.modified.saturating_mul(1000)),
        mode: format!("{:04o}", e.mode),
    }
}

pub fn file_listing(l: crate::service::Listing) -> api::FileListing {
    api::FileListing {
        path: l.path.display().to_string(),
        entry: file_entry(l.entry),
        entries: l.entries.into_iter().map(file_entry).collect(),
        truncated: l.truncated,
        roots: l.roots.iter().map(|r| r.display().to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model and the wire spell every value the same way, so the CLI,
    /// the API and the tables agree.
    #[test]
    fn model_and_wire_spellings_agree() {
        for v in Sector::ALL {
            assert_eq!(sector(*v).as_str(), v.as_str());
        }
        for v in Role::ALL {
            assert_eq!(role(*v).as_str(), v.as_str());
        }
        for v in ProjectRole::ALL {
            assert_eq!(project_role(*v).as_str(), v.as_str());
        }
        for v in Status::ALL {
            assert_eq!(status(*v).as_str(), v.as_str());
        }
    }
}
