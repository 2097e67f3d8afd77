//! Usage and charges: charts, tables, statements, CSV.

super::catalogue! {
    sections {}
    title: "用量与费用", "Usage and charges";
    intro_member: "您提交的作业的用量（按项目）。", "The usage of the jobs you ran, by project.";
    intro_manager: "您的作业和您负责或管理的项目的作业（按成员和分区）。",
        "Your jobs and those of the projects you lead or manage, by member and by partition.";
    intro_tenant: "本租户所有作业的用量（按项目）。", "The usage of all of your tenant's jobs, by project.";
    intro_operator: "全平台的用量（按租户和行业类别）。", "The whole platform's usage, by tenant and by sector.";
    from_month: "起始月份", "From month";
    to_month: "截止月份", "To month";
    month_hint: "格式 YYYY-MM，例如 2026-11", "As YYYY-MM, e.g. 2026-11";
    show: "查看", "Show";
    download_csv: "下载 CSV", "Download CSV";
    by_month: "按月统计", "By month";
    month: "月份", "Month";
    jobs: "作业数", "Jobs";
    core_hours: "核时", "Core-hours";
    gpu_hours: "卡时", "GPU-hours";
    charged: "扣费（元）", "Charged (CNY)";
    su_used: "公益机时", "Service units used";
    welfare_core_hours: "公益核时", "Public-welfare core-hours";
    total: "合计", "Total";
    chart_core_hours: "每月核时", "Core-hours per month";
    chart_charged: "每月扣费（元）", "Charged per month (CNY)";
    chart_desc_before: "柱状图，", "Bar chart, ";
    chart_desc_after: "。数值见下表。", ". The numbers are in the table below.";
    no_usage: "所选月份没有已结算的作业。", "No job was settled in these months.";
    dimension_tenant: "租户", "Tenant";
    dimension_sector: "行业类别", "Sector";
    dimension_project: "项目", "Project";
    dimension_user: "成员", "Member";
    dimension_partition: "分区", "Partition";
    breakdown_by: "分项：", "By ";
    error_range: "截止月份早于起始月份。", "The last month is before the first.";
    error_too_long: "一次最多查看 36 个月。", "At most 36 months at a time.";
    statement: "月度账单", "Monthly statement";
    // The menu's short name for the statement (the page keeps its full title).
    statement_menu: "月度账单", "Statement";
    statement_intro: "租户余额在一个月内的每一笔变动：充值、作业结算扣费、调账。",
        "Every movement of the tenant's balance in a month: top-ups, job charges, adjustments.";
    statement_month: "账单月份", "Month";
    opening_balance: "期初余额", "Opening balance";
    closing_balance: "期末余额", "Closing balance";
    held_at_close: "期末预扣金额", "Held at the close";
    net_change: "本月变动合计", "Net change in the month";
    total_charges: "本月扣费合计", "Charges in the month";
    time: "时间", "Time";
    kind: "类型", "Kind";
    job: "作业", "Job";
    reference: "凭证号", "Reference";
    memo: "说明", "Memo";
    amount: "金额（元）", "Amount (CNY)";
    balance_after: "余额（元）", "Balance (CNY)";
    price_version: "价格版本", "Price version";
    owner_share: "共建分成（元）", "Owners' share (CNY)";
    no_lines: "本月没有余额变动。", "The balance did not move in this month.";
    kind_top_up: "充值", "Top-up";
    kind_settlement: "作业扣费", "Job charge";
    kind_adjustment: "调账", "Adjustment";
    kind_hold: "预扣", "Hold";
    kind_award: "机时发放", "Award";
    kind_expiry: "到期", "Expiry";
    tenant: "租户", "Tenant";
    sector_university: "高校", "University";
    sector_institute: "科研院所", "Research institute";
    sector_enterprise: "企业", "Enterprise";
    sector_government: "政府机关", "Government";
    sector_school: "中小学", "School";
    sector_centre: "中心", "Computing centre";
}

impl Texts {
    /// A ledger transaction's kind (the API's spelling) in this language.
    pub fn kind<'a>(&'static self, kind: &'a str) -> &'a str {
        match kind {
            "top-up" => self.kind_top_up,
            "settlement" => self.kind_settlement,
            "adjustment" => self.kind_adjustment,
            "hold" => self.kind_hold,
            "award" => self.kind_award,
            "expiry" => self.kind_expiry,
            other => other,
        }
    }

    /// A sector (the API's spelling) in this language; unknown ones as given.
    pub fn sector<'a>(&'static self, sector: &'a str) -> &'a str {
        match sector {
            "university" => self.sector_university,
            "institute" => self.sector_institute,
            "enterprise" => self.sector_enterprise,
            "government" => self.sector_government,
            "school" => self.sector_school,
            "centre" => self.sector_centre,
            other => other,
        }
    }

    /// A usage report's dimension (the API's spelling) in this language.
    pub fn dimension<'a>(&'static self, by: &'a str) -> &'a str {
        match by {
            "tenant" => self.dimension_tenant,
            "sector" => self.dimension_sector,
            "project" => self.dimension_project,
            "user" => self.dimension_user,
            "partition" => self.dimension_partition,
            other => other,
        }
    }
}
