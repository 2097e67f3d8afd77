//! Money from the command line: `balance`, `statement`, `price list`, and
//! the operators' `admin topup/adjust/credit/price/discount/owner-share`.

use crate::output::{Output, fields, table, time};
use lushan_api::{
    Adjustment, BalanceView, Client, ClientError, CreditLimit, Grant, GrantDecision, GrantRequest, GrantScore,
    JobEstimate, Percent, Price, PriceList, PriceSet, Settlement, Statement, TopUp, UsageReport, UsageReportRow,
    Wallet,
};

#[derive(clap::Args)]
pub struct BalanceArgs {
    /// Another tenant's (operators); default: your own.
    #[arg(long)]
    tenant: Option<String>,
    /// Comma-separated values instead of tables: the wallet and each grant, a line each.
    #[arg(long)]
    csv: bool,
}

#[derive(clap::Args)]
pub struct StatementArgs {
    /// The month, YYYY-MM (default: this month).
    #[arg(long)]
    month: Option<String>,
    /// Another tenant's (operators); default: your own.
    #[arg(long)]
    tenant: Option<String>,
    /// Comma-separated values instead of a table.
    #[arg(long)]
    csv: bool,
}

#[derive(clap::Subcommand)]
pub enum PriceCommand {
    /// The prices in force, the sector discounts and the owners' share.
    List {
        /// The price table as comma-separated values.
        #[arg(long)]
        csv: bool,
    },
}

#[derive(clap::Subcommand)]
pub enum BillingAdminCommand {
    /// Post money paid in by a tenant (a transfer, an invoice); a reference is posted once.
    Topup {
        tenant: String,
        /// CNY, up to two decimals.
        amount: String,
        /// The payment's reference, e.g. INV-2026-113.
        #[arg(long = "ref")]
        reference: String,
    },
    /// Refund (positive) or debit (negative) a tenant's wallet, with a reason.
    Adjust {
        tenant: String,
        #[arg(allow_hyphen_values = true)]
        amount: String,
        #[arg(long = "ref")]
        reference: String,
        #[arg(long)]
        reason: String,
    },
    /// Let a tenant's wallet go this far below zero.
    Credit { tenant: String, amount: String },
    /// Prices: `lushan admin price set --site local --core-hour 0.08`.
    #[command(subcommand)]
    Price(PriceAdminCommand),
    /// A sector's discount on charges: `lushan admin discount university 30`.
    Discount { sector: String, percent: String },
    /// The co-builders' share of what guests pay for their nodes, in percent.
    OwnerShare { percent: String },
    /// Off what guests run on co-built nodes, where the owner may preempt
    /// them, in percent: `lushan admin preemptible-discount 20`.
    PreemptibleDiscount { percent: String },
    /// Record who co-built a node: `lushan admin node-owner local node07 acme` (`centre` gives it back).
    NodeOwner { site: String, node: String, owner: String },
    /// What a partition does to guests on co-built nodes when the owner
    /// needs them: `lushan admin preemption local local requeue --grace 60`.
    Preemption {
        site: String,
        partition: String,
        /// off, cancel or requeue.
        mode: String,
        /// Seconds between the guest's SIGTERM and SIGKILL.
        #[arg(long, default_value_t = 60)]
        grace: i64,
    },
}

#[derive(clap::Subcommand)]
pub enum PriceAdminCommand {
    /// Set a price from now on; jobs already submitted keep theirs.
    Set {
        #[arg(long)]
        site: String,
        /// Only this partition (default: every partition of the site).
        #[arg(long)]
        partition: Option<String>,
        /// Only this QOS (default: every QOS).
        #[arg(long)]
        qos: Option<String>,
        /// CNY per core-hour, up to six decimals.
        #[arg(long)]
        core_hour: String,
        /// CNY per GPU-hour.
        #[arg(long, default_value = "0")]
        gpu_hour: String,
        /// CNY per GB-hour of memory.
        #[arg(long, default_value = "0")]
        gb_hour: String,
        /// What a GPU-hour costs a grant, in core-hours.
        #[arg(long, default_value_t = 16)]
        su_per_gpu_hour: i64,
    },
}

fn wallet_text(w: &Wallet) -> String {
    fields(&[
        ("tenant", w.tenant.clone()),
        ("balance", format!("{} CNY", w.balance)),
        ("held", format!("{} CNY (worst cases of pending and running jobs)", w.held)),
        ("available", format!("{} CNY", w.available)),
        ("credit limit", format!("{} CNY", w.credit_limit)),
        ("earnings", format!("{} CNY", w.earnings)),
        ("discount", format!("{} %", w.discount_percent)),
    ])
}

async fn own_tenant(client: &Client, tenant: Option<String>) -> anyhow::Result<String> {
    Ok(match tenant {
        Some(t) => t,
        None => client.whoami().await?.user.tenant,
    })
}

pub async fn balance(client: &Client, args: BalanceArgs, out: &Output) -> anyhow::Result<()> {
    let named = args.tenant.is_some();
    let tenant = own_tenant(client, args.tenant).await?;
    let wallet = match client.get::<Wallet>(&format!("/api/v1/tenants/{tenant}/wallet")).await {
        Ok(wallet) => Some(wallet),
        // Members see their projects' grants; the wallet is their tenant admins'.
        Err(ClientError::Api { status: 403, .. }) if !named => None,
        Err(err) => return Err(err.into()),
    };
    let grants: Vec<Grant> = client.get("/api/v1/grants?state=approved").await?;
    let grants: Vec<Grant> = grants.into_iter().filter(|g| g.tenant == tenant).collect();
    let view = BalanceView { wallet, grants };
    if args.csv && !out.is_json() {
        let wallet = view.wallet.iter().map(|w| {
            vec!["wallet".into(), "CNY".into(), w.balance.clone(), w.held.clone(), w.available.clone(), String::new()]
        });
        let grants = view.grants.iter().map(|g| {
            vec![
                format!("grant {} ({})", g.id, g.project),
                "SU".into(),
                g.awarded_su.clone().unwrap_or_default(),
                g.held_su.clone(),
                g.remaining_su.clone(),
                g.to.clone(),
            ]
        });
        print_csv("account,unit,balance,held,available,ends", wallet.chain(grants));
        return Ok(());
    }
    out.print(&view, |v| {
        match &v.wallet {
            Some(w) => println!("{}", wallet_text(w)),
            None => println!("Tenant {tenant}'s wallet is shown to its admins."),
        }
        if v.grants.is_empty() {
            println!("\nNo grants.");
        } else {
            println!("\nGrants (service units: core-hours):\n{}", table(&GRANT_HEADERS, grant_rows(&v.grants)));
        }
    });
    Ok(())
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// A header line, then each row with its fields quoted where needed.
fn print_csv(header: &str, rows: impl IntoIterator<Item = Vec<String>>) {
    println!("{header}");
    for row in rows {
        println!("{}", row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
    }
}

pub async fn statement(client: &Client, args: StatementArgs, out: &Output) -> anyhow::Result<()> {
    let tenant = own_tenant(client, args.tenant).await?;
    let month = match args.month {
        Some(m) => m,
        None => jiff::Zoned::now().strftime("%Y-%m").to_string(),
    };
    let statement: Statement = client.get(&format!("/api/v1/tenants/{tenant}/statement?month={month}")).await?;
    if args.csv && !out.is_json() {
        println!("transaction,time,kind,job,reference,memo,amount,balance");
        println!(",{},opening,,,,,{}", statement.from, statement.opening_balance);
        for l in &statement.lines {
            println!(
                "{},{},{},{},{},{},{},{}",
                l.transaction_id,
                l.time,
                l.kind,
                l.job_id.map(|j| j.to_string()).unwrap_or_default(),
                csv_field(&l.reference),
                csv_field(&l.memo),
                l.amount,
                l.balance
            );
        }
        println!(",{},closing,,,,,{}", statement.to, statement.closing_balance);
        return Ok(());
    }
    out.print(&statement, |s| {
        println!("Statement of tenant {} for {} (CNY)", s.tenant, s.month);
        println!("Opening balance: {}", s.opening_balance);
        if s.lines.is_empty() {
            println!("No movements.");
        } else {
            println!(
                "{}",
                table(
                    &["id", "time", "kind", "job", "reference", "memo", "amount", "balance"],
                    s.lines
                        .iter()
                        .map(|l| vec![
                            l.transaction_id.to_string(),
                            time(&l.time),
                            l.kind.clone(),
                            l.job_id.map(|j| j.to_string()).unwrap_or_else(|| "-".into()),
                            if l.reference.is_empty() { "-".into() } else { l.reference.clone() },
                            l.memo.clone(),
                            l.amount.clone(),
                            l.balance.clone(),
                        ])
                        .collect(),
                )
            );
        }
        println!("Closing balance: {}", s.closing_balance);
        println!("Held at close for unsettled jobs: {}", s.held_at_close);
    });
    Ok(())
}

fn price_rows(prices: &[Price]) -> Vec<Vec<String>> {
    prices
        .iter()
        .map(|p| {
            vec![
                p.site.clone(),
                p.partition.clone().unwrap_or_else(|| "*".into()),
                p.qos.clone().unwrap_or_else(|| "*".into()),
                p.core_hour.clone(),
                p.gpu_hour.clone(),
                p.gb_hour.clone(),
                p.su_per_gpu_hour.to_string(),
                time(&p.since),
            ]
        })
        .collect()
}

fn print_price_list(list: &PriceList) {
    println!(
        "{}",
        table(
            &["site", "partition", "qos", "CNY/core-h", "CNY/GPU-h", "CNY/GB-h", "SU/GPU-h", "since"],
            price_rows(&list.prices)
        )
    );
    if list.discounts.is_empty() {
        println!("\nNo sector discounts.");
    } else {
        let discounts: Vec<String> = list.discounts.iter().map(|d| format!("{} {} %", d.sector, d.percent)).collect();
        println!("\nSector discounts: {}", discounts.join(", "));
    }
    println!("Co-builders' share of guest charges on their nodes: {} %", list.owner_share_percent);
    println!(
        "Preemptible discount (guests on co-built nodes, where the owner may preempt them): {} %",
        list.preemptible_discount_percent
    );
}

pub async fn price(client: &Client, command: PriceCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        PriceCommand::List { csv } => {
            let list: PriceList = client.get("/api/v1/prices").await?;
            if csv && !out.is_json() {
                print_csv(
                    "site,partition,qos,cny_per_core_hour,cny_per_gpu_hour,cny_per_gb_hour,su_per_gpu_hour,since",
                    price_rows(&list.prices),
                );
                return Ok(());
            }
            out.print(&list, print_price_list);
        }
    }
    Ok(())
}

pub async fn admin(client: &Client, command: BillingAdminCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        BillingAdminCommand::Topup { tenant, amount, reference } => {
            let wallet: Wallet =
                client.post(&format!("/api/v1/tenants/{tenant}/wallet/top-ups"), &TopUp { amount, reference }).await?;
            out.print(&wallet, |w| println!("Posted. Tenant {} now has:\n{}", w.tenant, wallet_text(w)));
        }
        BillingAdminCommand::Adjust { tenant, amount, reference, reason } => {
            let wallet: Wallet = client
                .post(
                    &format!("/api/v1/tenants/{tenant}/wallet/adjustments"),
                    &Adjustment { amount, reference, reason },
                )
                .await?;
            out.print(&wallet, |w| println!("Adjusted. Tenant {} now has:\n{}", w.tenant, wallet_text(w)));
        }
        BillingAdminCommand::Credit { tenant, amount } => {
            let wallet: Wallet = client
                .put(&format!("/api/v1/tenants/{tenant}/wallet/credit-limit"), &CreditLimit { credit_limit: amount })
                .await?;
            out.print(&wallet, |w| println!("{}", wallet_text(w)));
        }
        BillingAdminCommand::Price(PriceAdminCommand::Set {
            site,
            partition,
            qos,
            core_hour,
            gpu_hour,
            gb_hour,
            su_per_gpu_hour,
        }) => {
            let price: Price = client
                .post(
                    "/api/v1/prices",
                    &PriceSet { site, partition, qos, core_hour, gpu_hour, gb_hour, su_per_gpu_hour },
                )
                .await?;
            out.print(&price, |p| {
                println!(
                    "Price {} set: {} CNY per core-hour, {} per GPU-hour, {} per GB-hour on site {} partition {} QOS {}.",
                    p.id,
                    p.core_hour,
                    p.gpu_hour,
                    p.gb_hour,
                    p.site,
                    p.partition.as_deref().unwrap_or("*"),
                    p.qos.as_deref().unwrap_or("*")
                )
            });
        }
        BillingAdminCommand::Discount { sector, percent } => {
            let list: PriceList = client.put(&format!("/api/v1/discounts/{sector}"), &Percent { percent }).await?;
            out.print(&list, print_price_list);
        }
        BillingAdminCommand::NodeOwner { site, node, owner } => {
            let sites: Vec<lushan_api::Site> = client
                .put(
                    &format!("/api/v1/sites/{site}/nodes/{node}/owner"),
                    &lushan_api::NodeOwner { owner: owner.clone() },
                )
                .await?;
            out.print(&sites, |_| println!("Node {node} of site {site} now belongs to {owner}."));
        }
        BillingAdminCommand::Preemption { site, partition, mode, grace } => {
            let sites: Vec<lushan_api::Site> = client
                .put(
                    &format!("/api/v1/sites/{site}/partitions/{partition}/preemption"),
                    &lushan_api::PartitionPreemption { mode: mode.clone(), grace_secs: grace },
                )
                .await?;
            out.print(&sites, |_| match mode.to_ascii_lowercase().as_str() {
                "off" => println!("Partition {partition} of site {site}: owners wait for guests like everyone else."),
                "cancel" => println!(
                    "Partition {partition} of site {site}: guests on co-built nodes are cancelled {grace} s after the owner needs the node."
                ),
                _ => println!(
                    "Partition {partition} of site {site}: guests on co-built nodes are requeued {grace} s after the owner needs the node."
                ),
            });
        }
        BillingAdminCommand::PreemptibleDiscount { percent } => {
            let list: PriceList = client.put("/api/v1/preemptible-discount", &Percent { percent }).await?;
            out.print(&list, print_price_list);
        }
        BillingAdminCommand::OwnerShare { percent } => {
            let list: PriceList = client.put("/api/v1/owner-share", &Percent { percent }).await?;
            out.print(&list, print_price_list);
        }
    }
    Ok(())
}

/// `submit --estimate`: the worst case and who pays, as a paragraph.
pub fn print_estimate(e: &JobEstimate) {
    let mut lines = vec![
        (
            "job",
            format!(
                "{} cores, {} GPUs, {} MB for {} s{} on {}/{}",
                e.cores,
                e.gpus,
                e.memory_mb,
                e.time_limit_secs,
                if e.tasks > 1 { format!(", {} array tasks", e.tasks) } else { String::new() },
                e.site,
                e.partition
            ),
        ),
        (
            "price",
            format!(
                "{} CNY/core-hour, {} CNY/GPU-hour, {} CNY/GB-hour; discount {} %",
                e.price.core_hour, e.price.gpu_hour, e.price.gb_hour, e.discount_percent
            ),
        ),
        ("pays", e.payer.clone()),
        ("worst case", format!("{} {}", e.worst_case, e.unit)),
        ("available", format!("{} {}", e.available, e.unit)),
    ];
    if let Some(why) = &e.free_because {
        lines.push(("free", why.clone()));
    }
    println!("{}", fields(&lines));
    if e.covered {
        println!("A submission would be accepted now.");
    } else {
        println!("A submission would be refused now: the worst case is more than what is available.");
    }
}

#[derive(clap::Subcommand)]
pub enum AllocCommand {
    /// Ask for a public-welfare allocation for a project (its PI).
    Request {
        project: String,
        #[arg(long, default_value_t = 0)]
        core_hours: i64,
        #[arg(long, default_value_t = 0)]
        gpu_hours: i64,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// What the hours are for; reviewers read it.
        #[arg(long)]
        reason: String,
        /// Only on this site (default: every site).
        #[arg(long)]
        site: Option<String>,
        /// Only in this partition of --site.
        #[arg(long)]
        partition: Option<String>,
    },
    /// Ask to renew a grant: a new request that names the old one.
    Renew {
        grant_id: i64,
        #[arg(long, default_value_t = 0)]
        core_hours: i64,
        #[arg(long, default_value_t = 0)]
        gpu_hours: i64,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        reason: String,
    },
    /// Grants you may see (reviewers: `--state requested` is the queue).
    List {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        project: Option<String>,
        /// Comma-separated values instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// One grant with its reviews and balance.
    Show { grant_id: i64 },
    /// Score a request 1-5 with a comment (reviewers).
    Review {
        grant_id: i64,
        #[arg(long)]
        score: i64,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Approve a request, possibly for fewer hours (operators).
    Approve {
        grant_id: i64,
        #[arg(long)]
        core_hours: Option<i64>,
        #[arg(long)]
        gpu_hours: Option<i64>,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Reject a request with a reason (operators).
    Reject {
        grant_id: i64,
        #[arg(long)]
        reason: String,
    },
}

fn grant_rows(grants: &[Grant]) -> Vec<Vec<String>> {
    grants
        .iter()
        .map(|g| {
            vec![
                g.id.to_string(),
                g.project.clone(),
                g.state.clone(),
                format!("{}/{}", g.requested_core_hours, g.requested_gpu_hours),
                g.awarded_su.clone().unwrap_or_else(|| "-".into()),
                g.used_su.clone(),
                g.held_su.clone(),
                g.remaining_su.clone(),
                format!("{} .. {}", g.from, g.to),
            ]
        })
        .collect()
}

const GRANT_HEADERS: [&str; 9] =
    ["grant", "project", "state", "asked core-h/GPU-h", "awarded SU", "used", "held", "left", "period"];

fn grant_text(g: &Grant) -> String {
    let mut text = fields(&[
        ("grant", g.id.to_string()),
        ("project", format!("{} (tenant {})", g.project, g.tenant)),
        ("state", g.state.clone()),
        (
            "requested",
            format!(
                "{} core-hours, {} GPU-hours by {} at {}",
                g.requested_core_hours,
                g.requested_gpu_hours,
                g.requested_by,
                time(&g.requested_at)
            ),
        ),
        ("period", format!("{} .. {}", g.from, g.to)),
        (
            "scope",
            format!("site {} partition {}", g.site.as_deref().unwrap_or("*"), g.partition.as_deref().unwrap_or("*")),
        ),
        ("reason", g.reason.clone()),
        ("awarded", g.awarded_su.as_ref().map(|s| format!("{s} SU")).unwrap_or_else(|| "-".into())),
        ("used / held / left", format!("{} / {} / {} SU", g.used_su, g.held_su, g.remaining_su)),
        (
            "decision",
            match (&g.decided_by, &g.decided_at) {
                (Some(by), Some(at)) => format!(
                    "{} by {by} at {}{}",
                    g.state,
                    time(at),
                    if g.decision_reason.is_empty() { String::new() } else { format!(": {}", g.decision_reason) }
                ),
                _ => "-".into(),
            },
        ),
        ("renews", g.renews.map(|r| r.to_string()).unwrap_or_else(|| "-".into())),
    ]);
    if !g.reviews.is_empty() {
        text.push_str("\n\n");
        text.push_str(&table(
            &["reviewer", "score", "time", "comment"],
            g.reviews
                .iter()
                .map(|r| vec![r.reviewer.clone(), r.score.to_string(), time(&r.time), r.comment.clone()])
                .collect(),
        ));
    }
    text
}

pub async fn alloc(client: &Client, command: AllocCommand, out: &Output) -> anyhow::Result<()> {
    let show = |grant: &Grant| println!("{}", grant_text(grant));
    match command {
        AllocCommand::Request { project, core_hours, gpu_hours, from, to, reason, site, partition } => {
            let body = GrantRequest { project, core_hours, gpu_hours, from, to, reason, site, partition, renews: None };
            let grant: Grant = client.post("/api/v1/grants", &body).await?;
            out.print(&grant, |g| {
                println!("Requested grant {} for project {}; reviewers will score it.", g.id, g.project)
            });
        }
        AllocCommand::Renew { grant_id, core_hours, gpu_hours, from, to, reason } => {
            let old: Grant = client.get(&format!("/api/v1/grants/{grant_id}")).await?;
            let body = GrantRequest {
                project: old.project,
                core_hours,
                gpu_hours,
                from,
                to,
                reason,
                site: old.site,
                partition: old.partition,
                renews: Some(grant_id),
            };
            let grant: Grant = client.post("/api/v1/grants", &body).await?;
            out.print(&grant, |g| println!("Requested grant {} renewing grant {grant_id}.", g.id));
        }
        AllocCommand::List { state, project, csv } => {
            let mut query = Vec::new();
            if let Some(s) = state {
                query.push(format!("state={s}"));
            }
            if let Some(p) = project {
                query.push(format!("project={p}"));
            }
            let path = if query.is_empty() {
                "/api/v1/grants".to_owned()
            } else {
                format!("/api/v1/grants?{}", query.join("&"))
            };
            let grants: Vec<Grant> = client.get(&path).await?;
            if csv && !out.is_json() {
                print_csv(
                    "grant,project,state,asked_core_h/gpu_h,awarded_su,used_su,held_su,left_su,period",
                    grant_rows(&grants),
                );
                return Ok(());
            }
            out.print(&grants, |grants| {
                if grants.is_empty() {
                    println!("No grants.");
                } else {
                    println!("{}", table(&GRANT_HEADERS, grant_rows(grants)));
                }
            });
        }
        AllocCommand::Show { grant_id } => {
            let grant: Grant = client.get(&format!("/api/v1/grants/{grant_id}")).await?;
            out.print(&grant, show);
        }
        AllocCommand::Review { grant_id, score, comment } => {
            let grant: Grant =
                client.post(&format!("/api/v1/grants/{grant_id}/reviews"), &GrantScore { score, comment }).await?;
            out.print(&grant, show);
        }
        AllocCommand::Approve { grant_id, core_hours, gpu_hours, reason } => {
            let grant: Grant = client
                .post(&format!("/api/v1/grants/{grant_id}/approve"), &GrantDecision { core_hours, gpu_hours, reason })
                .await?;
            out.print(&grant, show);
        }
        AllocCommand::Reject { grant_id, reason } => {
            let body = GrantDecision { core_hours: None, gpu_hours: None, reason };
            let grant: Grant = client.post(&format!("/api/v1/grants/{grant_id}/reject"), &body).await?;
            out.print(&grant, show);
        }
    }
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum ReportCommand {
    /// Core-hours, GPU-hours, CNY, SU and public-welfare core-hours of the jobs settled in a period.
    Usage {
        /// sector, tenant, project, partition or user.
        #[arg(long, default_value = "tenant")]
        by: String,
        /// First day, YYYY-MM-DD (default: the first of this month).
        #[arg(long)]
        from: Option<String>,
        /// Last day, included (default: today).
        #[arg(long)]
        to: Option<String>,
        /// Only this project's jobs (of those you may see).
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        csv: bool,
    },
}

#[derive(clap::Args)]
pub struct SettlementArgs {
    /// The co-builder tenant (default: yours).
    #[arg(long)]
    owner: Option<String>,
    /// YYYY-MM (default: this month).
    #[arg(long)]
    month: Option<String>,
    #[arg(long)]
    csv: bool,
}

pub async fn report(client: &Client, command: ReportCommand, out: &Output) -> anyhow::Result<()> {
    let ReportCommand::Usage { by, from, to, project, csv } = command;
    let today = jiff::Zoned::now().date();
    let from = from.unwrap_or_else(|| today.first_of_month().to_string());
    let to = to.unwrap_or_else(|| today.to_string());
    // Percent-encoded: a name is the server's to judge, never part of the query.
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => char::from(b).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect()
    };
    let project = project.map(|p| format!("&project={}", encode(&p))).unwrap_or_default();
    let report: UsageReport =
        client.get(&format!("/api/v1/reports/usage?by={by}&from={from}&to={to}{project}")).await?;
    let row = |r: &UsageReportRow| {
        vec![
            r.key.clone(),
            r.jobs.to_string(),
            r.core_hours.clone(),
            r.gpu_hours.clone(),
            r.cny_charged.clone(),
            r.su_used.clone(),
            r.welfare_core_hours.clone(),
        ]
    };
    if csv && !out.is_json() {
        print_csv(
            &format!("{by},jobs,core_hours,gpu_hours,cny_charged,su_used,welfare_core_hours"),
            report.rows.iter().chain([&report.total]).map(row),
        );
        return Ok(());
    }
    out.print(&report, |r| {
        println!("Usage by {} from {} to {} (jobs settled in the period)", r.by, r.from, r.to);
        let rows: Vec<Vec<String>> = r.rows.iter().chain([&r.total]).map(row).collect();
        println!(
            "{}",
            table(&[&r.by, "jobs", "core-hours", "GPU-hours", "CNY charged", "SU used", "welfare core-h"], rows)
        );
    });
    Ok(())
}

pub async fn settlement(client: &Client, args: SettlementArgs, out: &Output) -> anyhow::Result<()> {
    let owner = own_tenant(client, args.owner).await?;
    let month = args.month.unwrap_or_else(|| jiff::Zoned::now().strftime("%Y-%m").to_string());
    let s: Settlement = client.get(&format!("/api/v1/tenants/{owner}/settlement?month={month}")).await?;
    let rows: Vec<Vec<String>> = s
        .jobs
        .iter()
        .map(|j| {
            vec![
                if j.run == 0 { j.job_id.to_string() } else { format!("{} run {}", j.job_id, j.run) },
                j.user.clone(),
                j.tenant.clone(),
                j.project.clone(),
                match (j.own, j.preempted) {
                    (true, _) => "own".into(),
                    (false, true) => "guest, preempted".into(),
                    (false, false) => "guest".into(),
                },
                j.core_hours.clone(),
                j.charged.clone(),
                j.earned.clone(),
            ]
        })
        .collect();
    if args.csv && !out.is_json() {
        print_csv("job,user,tenant,project,kind,core_hours,charged,earned", rows);
        return Ok(());
    }
    out.print(&s, |s| {
        println!("Settlement of co-builder {} for {}", s.owner, s.month);
        if rows.is_empty() {
            println!("Nothing ran on its nodes.");
        } else {
            println!(
                "{}",
                table(
                    &["job", "user", "tenant", "project", "kind", "core-h here", "charged", "earned CNY"],
                    rows.clone()
                )
            );
        }
        println!("Guests used {} core-hours; its own jobs {} (free).", s.guest_core_hours, s.own_core_hours);
        println!("Earned: {} CNY", s.earned);
    });
    Ok(())
}
