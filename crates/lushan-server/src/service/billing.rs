//! Money: quotes and holds at submission, wallets (top-ups, adjustments,
//! credit limits), prices and discounts, statements. The rules are
//! `lushan_ledger`'s; the store persists them atomically.
//!
//! Who may do what: operators top up, adjust, set credit limits, prices,
//! discounts and the owners' share; tenant admins see their tenant's
//! wallet and statements; everyone signed in sees the price list.

use super::{Caller, ServiceError, Services, audit_by};
use lushan_ledger::{BasisPoints, Funding, Money, Price, Resources, Units};
use lushan_model::{PartitionId, ProjectId, Sector, TenantId};
use lushan_store::{
    JobBilling, NewPrice, PartitionRecord, PriceRecord, SharingSetting, SiteRecord, Statement, TenantRecord, TxMeta,
    UserRecord, WalletRecord,
};
use serde_json::json;

/// What `quote_job` needs to know about a job.
pub struct QuoteInput<'a> {
    pub user: &'a UserRecord,
    pub project: ProjectId,
    pub site: &'a SiteRecord,
    pub partition: &'a PartitionRecord,
    pub qos: &'a str,
    pub resources: Resources,
    pub limit_secs: i64,
    /// Array tasks (each holds its own worst case), else 1.
    pub count: i64,
    pub allocation: Option<&'a str>,
    pub now: i64,
}

/// A job's worst case and who pays it.
#[derive(Clone, Debug)]
pub struct Quote {
    pub funding: Funding,
    /// In words: "the wallet of tenant jxu".
    pub payer: String,
    pub price: PriceRecord,
    /// The partition the job would run in.
    pub partition: String,
    pub discount: BasisPoints,
    pub resources: Resources,
    pub limit_secs: i64,
    pub count: i64,
    /// The hold of each job (or array task), in the funding's unit.
    pub hold_per_job: i64,
    /// Why the hold is zero, when it is for a reason the user should hear.
    pub free_because: Option<String>,
    /// What the funding has available now, in its unit.
    pub available: i64,
}

impl Quote {
    pub fn billing(&self) -> JobBilling {
        JobBilling {
            funding: self.funding,
            price_id: self.price.id,
            discount: self.discount,
            hold_per_job: self.hold_per_job,
            payer: self.payer.clone(),
        }
    }

    /// The whole hold, every task included.
    pub fn total(&self) -> i64 {
        self.hold_per_job.saturating_mul(self.count)
    }

    /// An amount in the funding's unit, as text ("96.00 CNY", "12.50 SU").
    pub fn amount_text(&self, amount: i64) -> String {
        match self.funding {
            Funding::Wallet(_) => format!("{} CNY", Money(amount)),
            Funding::Grant(_) => format!("{} SU", Units(amount)),
        }
    }

    /// Whether the funding covers it now.
    pub fn covered(&self) -> bool {
        self.total() == 0 || self.total() <= self.available
    }
}

/// A statement's period.
pub struct StatementPeriod {
    pub from: i64,
    pub to: i64,
    pub label: String,
}

impl StatementPeriod {
    /// The month (in this server's time zone) that contains `at`.
    pub fn containing(at: i64) -> Result<StatementPeriod, ServiceError> {
        let zoned = jiff::Timestamp::from_millisecond(at)
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .to_zoned(jiff::tz::TimeZone::system());
        StatementPeriod::month(&zoned.strftime("%Y-%m").to_string())
    }

    /// `2026-11`: that month, in this server's time zone.
    pub fn month(text: &str) -> Result<StatementPeriod, ServiceError> {
        let bad = || ServiceError::Invalid(format!("invalid month `{}`: use YYYY-MM, e.g. 2026-11", text.trim()));
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        let year: i16 = year.parse().map_err(|_| bad())?;
        let month: i8 = month.parse().map_err(|_| bad())?;
        let tz = jiff::tz::TimeZone::system();
        let first = jiff::civil::Date::new(year, month, 1).map_err(|_| bad())?;
        let next = first.checked_add(jiff::Span::new().months(1)).map_err(|_| bad())?;
        let at = |d: jiff::civil::Date| -> Result<i64, ServiceError> {
            Ok(d.at(0, 0, 0, 0).to_zoned(tz.clone()).map_err(|_| bad())?.timestamp().as_millisecond())
        };
        Ok(StatementPeriod { from: at(first)?, to: at(next)?, label: format!("{year:04}-{month:02}") })
    }
}

/// A tenant's money as `lushan balance` shows it.
pub struct Balance {
    pub tenant: TenantRecord,
    pub wallet: WalletRecord,
    pub discount: BasisPoints,
}

impl Services {
    /// Prices a job and picks what pays for it: the allocation named, else
    /// the project's grant that covers the partition (the one ending first),
    /// else the tenant's wallet. The hold is the worst case: the time limit x the
    /// resources x the price, less the sector's discount; nothing when every
    /// node of the partition belongs to the job's own tenant.
    pub(super) async fn quote_job(&self, input: QuoteInput<'_>) -> Result<Quote, ServiceError> {
        let QuoteInput { user, project, site, partition, qos, resources, limit_secs, count, allocation, now } = input;
        let price = self.store.price_for(site.id, Some(partition.id), qos).await?.ok_or_else(|| {
            ServiceError::StateConflict(format!(
                "partition `{}` of site `{}` has no price, so no job can run there yet; the operator sets one with `lushan admin price set`",
                partition.name, site.name
            ))
        })?;
        let tenant = self.tenant_record(user.tenant_id).await?;
        let discount = self.discount_for(tenant.sector).await?;
        let grants = self
            .store
            .list_grants(&lushan_store::GrantFilter {
                tenant: None,
                projects: Some(vec![project]),
                state: Some(lushan_store::GrantState::Approved),
                ids: None,
            })
            .await?;
        let covering: Vec<&lushan_store::GrantRecord> =
            lushan_ledger::grants_covering(grants.iter().map(|g| g.terms()), site.id.0, partition.id.0, now)
                .into_iter()
                .filter_map(|id| grants.iter().find(|g| g.id == id))
                .collect();
        let grant = match allocation.map(str::trim) {
            Some("wallet") => None,
            None => covering.first().copied(),
            Some(other) => {
                let listed = || {
                    let ids: Vec<String> = covering.iter().map(|g| g.id.to_string()).collect();
                    if ids.is_empty() {
                        "no grant of this project covers this partition now; use `wallet`".to_owned()
                    } else {
                        format!("grants that cover it now: {}; or `wallet`", ids.join(", "))
                    }
                };
                let Ok(id) = other.parse::<i64>() else {
                    return Err(ServiceError::Invalid(format!(
                        "unknown allocation `{other}`: use `wallet` or a grant's id ({})",
                        listed()
                    )));
                };
                match covering.iter().find(|g| g.id.0 == id) {
                    Some(g) => Some(*g),
                    None => {
                        return Err(ServiceError::Invalid(format!(
                            "grant {id} cannot pay for this job (not this project's, not approved, expired, or not for partition `{}`): {}",
                            partition.name,
                            listed()
                        )));
                    }
                }
            }
        };
        let owns_every_node = {
            let nodes: Vec<_> = site.nodes.iter().filter(|n| partition.node_names.contains(&n.name)).collect();
            !nodes.is_empty() && nodes.iter().all(|n| n.owner_tenant_id == tenant.id)
        };
        let (funding, hold_per_job, available, payer) = match grant {
            None => {
                let hold =
                    lushan_ledger::worst_case_cost(&price.price, &resources, limit_secs, &[discount], owns_every_node)
                        .map_err(super::error::ledger_error)?;
                let wallet = self.store.wallet(tenant.id).await?;
                (Funding::Wallet(tenant.id), hold.0, wallet.available().0, format!("tenant {}", tenant.name))
            }
            Some(grant) => {
                let units = if owns_every_node {
                    Units(0)
                } else {
                    lushan_ledger::worst_case_units(&price.price, &resources, limit_secs)
                        .map_err(super::error::ledger_error)?
                };
                (
                    Funding::Grant(grant.id),
                    units.0,
                    grant.remaining,
                    format!("grant {} of project {}", grant.id, grant.project_name),
                )
            }
        };
        Ok(Quote {
            funding,
            payer,
            price,
            partition: partition.name.clone(),
            discount,
            resources,
            limit_secs,
            count,
            hold_per_job,
            free_because: owns_every_node
                .then(|| format!("every node of partition `{}` belongs to tenant {}", partition.name, tenant.name)),
            available,
        })
    }

    async fn tenant_record(&self, id: TenantId) -> Result<TenantRecord, ServiceError> {
        self.store
            .list_tenants(Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("tenant", &id.to_string()))
    }

    async fn discount_for(&self, sector: Sector) -> Result<BasisPoints, ServiceError> {
        Ok(self.store.sector_discounts().await?.into_iter().find(|(s, _)| *s == sector).map_or(BasisPoints(0), |d| d.1))
    }

    /// The tenant named, which the caller must administer (operators: any).
    pub(super) async fn administered_tenant(
        &self,
        caller: &Caller,
        name: Option<&str>,
    ) -> Result<TenantRecord, ServiceError> {
        let tenant = match name {
            Some(name) => self.store.tenant_by_name(name).await.map_err(|_| ServiceError::not_found("tenant", name))?,
            None => self.tenant_record(caller.tenant_id()).await?,
        };
        if !caller.sees_tenant(tenant.id) {
            return Err(ServiceError::not_found("tenant", &tenant.name));
        }
        if !caller.administers(tenant.id) {
            return Err(ServiceError::Forbidden(format!(
                "only tenant {}'s admins and operators see its wallet and statements",
                tenant.name
            )));
        }
        Ok(tenant)
    }

    pub(super) fn operator_only(caller: &Caller, what: &str) -> Result<(), ServiceError> {
        if caller.is_operator() { Ok(()) } else { Err(ServiceError::Forbidden(format!("only operators {what}"))) }
    }

    /// Money paid in by a tenant. The payment's reference makes it
    /// idempotent: the same reference twice is refused and changes nothing.
    pub async fn top_up(
        &self,
        caller: &Caller,
        tenant: &str,
        amount: &str,
        reference: &str,
        now: i64,
    ) -> Result<WalletRecord, ServiceError> {
        Self::operator_only(caller, "top up wallets")?;
        self.post_to_wallet(caller, tenant, amount, reference, "", now, false).await
    }

    /// A refund (positive) or a debit (negative) by an operator, with why.
    pub async fn adjust(
        &self,
        caller: &Caller,
        tenant: &str,
        amount: &str,
        reference: &str,
        reason: &str,
        now: i64,
    ) -> Result<WalletRecord, ServiceError> {
        Self::operator_only(caller, "adjust wallets")?;
        if reason.trim().is_empty() || reason.chars().count() > 500 {
            return Err(ServiceError::Invalid(
                "say why with --reason (1 to 500 characters): an adjustment appears on the statement".into(),
            ));
        }
        self.post_to_wallet(caller, tenant, amount, reference, reason, now, true).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn post_to_wallet(
        &self,
        caller: &Caller,
        tenant: &str,
        amount: &str,
        reference: &str,
        reason: &str,
        now: i64,
        adjustment: bool,
    ) -> Result<WalletRecord, ServiceError> {
        let reference = reference.trim();
        if reference.is_empty() || reference.len() > 100 || reference.chars().any(char::is_control) {
            return Err(ServiceError::Invalid(
                "give the payment's reference with --ref (1 to 100 characters, e.g. INV-2026-113)".into(),
            ));
        }
        let tenant = self.store.tenant_by_name(tenant).await.map_err(|_| ServiceError::not_found("tenant", tenant))?;
        let amount: Money =
            amount.parse().map_err(|e: lushan_model::AmountError| ServiceError::Invalid(e.to_string()))?;
        // The builders refuse an amount past `MAX_AMOUNT` (a 400 naming the
        // maximum) before anything is written; the store refuses a balance
        // past `MAX_BALANCE` and rolls the posting back whole.
        let entry = if adjustment {
            lushan_ledger::adjust(tenant.id, amount, reference)
        } else {
            lushan_ledger::top_up(tenant.id, amount, reference)
        }
        .map_err(super::error::ledger_error)?;
        let action = if adjustment { "wallet.adjust" } else { "wallet.top-up" };
        let mut audit = audit_by(caller, now, action, "tenant", &tenant.name);
        audit.tenant_id = Some(tenant.id);
        audit.after = Some(json!({"amount": amount.to_string(), "reference": reference, "reason": reason}).to_string());
        let meta = TxMeta {
            at: now,
            tenant_id: Some(tenant.id),
            reference: reference.to_owned(),
            memo: if adjustment { reason.trim().to_owned() } else { format!("top-up {reference}") },
            actor: caller.user_name().to_owned(),
            job_id: None,
            grant_id: None,
        };
        if !self.store.post(&entry, &meta, &audit).await? {
            return Err(ServiceError::StateConflict(format!(
                "reference `{reference}` was already posted to tenant {}; nothing changed (a payment is posted once)",
                tenant.name
            )));
        }
        Ok(self.store.wallet(tenant.id).await?)
    }

    /// How far below zero a tenant's wallet may go.
    pub async fn set_credit_limit(
        &self,
        caller: &Caller,
        tenant: &str,
        limit: &str,
        now: i64,
    ) -> Result<WalletRecord, ServiceError> {
        Self::operator_only(caller, "set credit limits")?;
        let tenant = self.store.tenant_by_name(tenant).await.map_err(|_| ServiceError::not_found("tenant", tenant))?;
        let limit: Money =
            limit.parse().map_err(|e: lushan_model::AmountError| ServiceError::Invalid(e.to_string()))?;
        if limit.0 < 0 {
            return Err(ServiceError::Invalid("a credit limit is zero or more".into()));
        }
        // Refused before anything is written: a larger limit could make what
        // the wallet has available overflow (issue 19).
        lushan_ledger::check_credit_limit(limit).map_err(super::error::ledger_error)?;
        let before = self.store.wallet(tenant.id).await?;
        let mut audit = audit_by(caller, now, "wallet.credit-limit", "tenant", &tenant.name);
        audit.tenant_id = Some(tenant.id);
        audit.before = Some(json!({"credit_limit": before.credit_limit.to_string()}).to_string());
        audit.after = Some(json!({"credit_limit": limit.to_string()}).to_string());
        self.store.set_credit_limit(tenant.id, limit, &audit).await?;
        Ok(self.store.wallet(tenant.id).await?)
    }

    /// A tenant's wallet (its own by default).
    pub async fn balance(&self, caller: &Caller, tenant: Option<&str>) -> Result<Balance, ServiceError> {
        let tenant = self.administered_tenant(caller, tenant).await?;
        let wallet = self.store.wallet(tenant.id).await?;
        let discount = self.discount_for(tenant.sector).await?;
        Ok(Balance { tenant, wallet, discount })
    }

    /// Every movement of a tenant's balance in a period.
    pub async fn statement(
        &self,
        caller: &Caller,
        tenant: Option<&str>,
        period: &StatementPeriod,
    ) -> Result<(TenantRecord, Statement), ServiceError> {
        let tenant = self.administered_tenant(caller, tenant).await?;
        let statement = self.store.statement(tenant.id, period.from, period.to).await?;
        Ok((tenant, statement))
    }

    /// The prices in force and the sector discounts: anyone signed in.
    pub async fn price_list(
        &self,
        _caller: &Caller,
    ) -> Result<(Vec<PriceRecord>, Vec<(Sector, BasisPoints)>, lushan_ledger::Sharing), ServiceError> {
        Ok((self.store.list_prices().await?, self.store.sector_discounts().await?, self.store.sharing().await?))
    }

    /// Sets the price of a site (all partitions), a partition, or a
    /// partition's QOS, from now on. Jobs already submitted keep theirs.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_price(
        &self,
        caller: &Caller,
        site: &str,
        partition: Option<&str>,
        qos: Option<&str>,
        core_hour: &str,
        gpu_hour: &str,
        gb_hour: &str,
        su_per_gpu_hour: i64,
        now: i64,
    ) -> Result<PriceRecord, ServiceError> {
        Self::operator_only(caller, "set prices")?;
        let sites = self.store.list_sites().await?;
        let Some(site) = sites.iter().find(|s| s.name == site) else {
            let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
            return Err(ServiceError::Invalid(format!("unknown site `{site}`; sites: {}", names.join(", "))));
        };
        let partition_id: Option<PartitionId> = match partition {
            None => None,
            Some(name) => match site.partitions.iter().find(|p| p.name == name) {
                Some(p) => Some(p.id),
                None => {
                    let names: Vec<&str> = site.partitions.iter().map(|p| p.name.as_str()).collect();
                    return Err(ServiceError::Invalid(format!(
                        "unknown partition `{name}` on site `{}`; partitions: {}",
                        site.name,
                        names.join(", ")
                    )));
                }
            },
        };
        let qos = qos.unwrap_or("").trim();
        if !qos.is_empty() {
            self.qos_named(qos).await?;
        }
        let rate = |text: &str| -> Result<lushan_ledger::Rate, ServiceError> {
            text.parse().map_err(|e: lushan_model::AmountError| ServiceError::Invalid(e.to_string()))
        };
        if !(0..=1_000_000).contains(&su_per_gpu_hour) {
            return Err(ServiceError::Invalid("--su-per-gpu-hour is a whole number from 0 to 1000000".into()));
        }
        let price =
            Price { core_hour: rate(core_hour)?, gpu_hour: rate(gpu_hour)?, gb_hour: rate(gb_hour)?, su_per_gpu_hour };
        let mut audit = audit_by(caller, now, "price.set", "price", "");
        audit.after = Some(
            json!({
                "site": site.name, "partition": partition, "qos": qos,
                "core_hour": price.core_hour.to_string(), "gpu_hour": price.gpu_hour.to_string(),
                "gb_hour": price.gb_hour.to_string(), "su_per_gpu_hour": su_per_gpu_hour,
            })
            .to_string(),
        );
        let new =
            NewPrice { site_id: site.id, partition_id, qos, price, created_at: now, created_by: caller.user_name() };
        Ok(self.store.set_price(&new, &audit).await?)
    }

    /// A sector's discount on money charges, from now on.
    pub async fn set_sector_discount(
        &self,
        caller: &Caller,
        sector: &str,
        percent: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        Self::operator_only(caller, "set discounts")?;
        let sector: Sector = sector.parse()?;
        let discount = BasisPoints::parse_percent(percent).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let mut audit = audit_by(caller, now, "price.discount", "sector", sector.as_str());
        audit.after = Some(json!({"percent": discount.to_string()}).to_string());
        self.store.set_sector_discount(sector, discount, now, &audit).await?;
        Ok(())
    }

    /// How a job the caller may see is paid for.
    pub async fn job_charge(
        &self,
        caller: &Caller,
        id: i64,
    ) -> Result<Option<lushan_store::JobChargeRecord>, ServiceError> {
        let job = self.job(caller, id).await?;
        Ok(self.store.job_charge(job.id).await?)
    }

    /// Records who co-built a node (a tenant) or gives it back to the
    /// centre (`centre`). Operators only.
    pub async fn set_node_owner(
        &self,
        caller: &Caller,
        site: &str,
        node: &str,
        owner: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        Self::operator_only(caller, "set node owners")?;
        let sites = self.store.list_sites().await?;
        let site = sites.iter().find(|s| s.name == site).ok_or_else(|| ServiceError::not_found("site", site))?;
        let before = site.nodes.iter().find(|n| n.name == node).ok_or_else(|| ServiceError::not_found("node", node))?;
        let tenant = self.store.tenant_by_name(owner).await.map_err(|_| ServiceError::not_found("tenant", owner))?;
        let mut audit = audit_by(caller, now, "node.owner", "node", &format!("{}/{}", site.name, node));
        audit.tenant_id = Some(tenant.id);
        audit.before = Some(json!({"owner": before.owner_tenant}).to_string());
        audit.after = Some(json!({"owner": tenant.name}).to_string());
        self.store.set_node_owner(site.id, node, tenant.id, &audit).await?;
        Ok(())
    }

    /// What a partition does to guests on co-built nodes when their owner
    /// needs them (Slurm's PreemptMode and GraceTime).
    pub async fn set_partition_preemption(
        &self,
        caller: &Caller,
        site: &str,
        partition: &str,
        mode: &str,
        grace_secs: i64,
        now: i64,
    ) -> Result<(), ServiceError> {
        Self::operator_only(caller, "set how partitions preempt")?;
        let mode = lushan_scheduler::PreemptMode::parse(mode).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "'{}' is not a preemption mode: use off, cancel or requeue",
                mode.chars().take(32).collect::<String>()
            ))
        })?;
        if !(0..=86_400).contains(&grace_secs) {
            return Err(ServiceError::Invalid(format!(
                "a grace time of {grace_secs} s is out of range: give 0 to 86400 seconds"
            )));
        }
        let sites = self.store.list_sites().await?;
        let (site, before) = super::sites::find_partition(&sites, site, partition)?;
        let mut audit =
            audit_by(caller, now, "partition.preemption", "partition", &format!("{}/{}", site.name, partition));
        audit.before = Some(json!({"mode": before.preempt_mode, "grace_secs": before.grace_secs}).to_string());
        audit.after = Some(json!({"mode": mode.as_str(), "grace_secs": grace_secs}).to_string());
        self.store.set_partition_preemption(site.id, partition, mode.as_str(), grace_secs, &audit).await?;
        Ok(())
    }

    /// The co-builders' share of what guests pay for their nodes, or the
    /// preemptible discount off what guests run there.
    pub async fn set_sharing(
        &self,
        caller: &Caller,
        setting: SharingSetting,
        percent: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        let (what, action) = match setting {
            SharingSetting::OwnerShare => ("the owners' share", "price.owner-share"),
            SharingSetting::PreemptibleDiscount => ("the preemptible discount", "price.preemptible-discount"),
        };
        Self::operator_only(caller, &format!("set {what}"))?;
        let value = BasisPoints::parse_percent(percent).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let sharing = self.store.sharing().await?;
        let current = match setting {
            SharingSetting::OwnerShare => sharing.owner_share,
            SharingSetting::PreemptibleDiscount => sharing.preemptible_discount,
        };
        let target = action.trim_start_matches("price.");
        let mut audit = audit_by(caller, now, action, "platform", target);
        audit.before = Some(json!({"percent": current.to_string()}).to_string());
        audit.after = Some(json!({"percent": value.to_string()}).to_string());
        self.store.set_sharing(setting, value, &audit).await?;
        Ok(())
    }
}
