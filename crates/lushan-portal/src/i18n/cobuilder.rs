//! A co-builder's page (共建单位): its nodes, use by itself and by guests
//! (借用方), preemptions (抢占) and earnings and settlements (共建收益结算).

super::catalogue! {
    sections {}
    title: "共建节点", "Co-built nodes";
    menu: "共建收益", "Co-builder";
    intro: "本单位共建的节点、自用与借用方的用量、抢占，以及每月的共建收益结算。",
        "Your organisation's co-built nodes, their use by yourselves and by guests, preemptions, and each month's earnings.";
    tenant: "共建单位", "Co-builder";
    choose_tenant: "租户名称", "Tenant name";
    choose_tenant_help: "运维人员：输入要查看的共建单位的租户名称。", "Operators: the name of the co-building tenant to look at.";
    show: "查看", "Show";
    operator_pick: "请在上方输入共建单位的租户名称，查看其共建节点、借用方用量和收益。",
        "Enter a co-building tenant's name above to see its nodes, its guests' use and its earnings.";
    none: "本单位还没有共建节点：其节点的自用、借用和收益将在这里显示。共建节点由运维人员登记（lushan admin node-owner）；请联系平台运维。",
        "Your organisation has no co-built nodes: once it has, their use, guests and earnings show here. Operators record a node's owner (lushan admin node-owner); ask the centre's operators.";
    nodes: "节点", "Nodes";
    site: "站点", "Site";
    node: "节点", "Node";
    partitions: "分区", "Partitions";
    cpus: "CPU 核数", "CPUs";
    gpus: "GPU 卡数", "GPUs";
    memory_gb: "内存（GB）", "Memory (GB)";
    by_month: "每月用量与收益", "Use and earnings by month";
    month: "月份", "Month";
    own_core_hours: "自用核时", "Own core-hours";
    guest_core_hours: "借用方核时", "Guests' core-hours";
    preemptions: "抢占次数", "Preemptions";
    earned: "收益（元）", "Earned (CNY)";
    jobs: "作业数", "Jobs";
    details: "明细", "Details";
    chart_own: "每月自用核时", "Own core-hours per month";
    chart_guest: "每月借用方核时", "Guests' core-hours per month";
    chart_earned: "每月共建收益（元）", "Earnings per month (CNY)";
    chart_desc_before: "柱状图，", "Bar chart, ";
    chart_desc_after: "。数值见旁边的表格。", ". The numbers are in the table beside it.";
    months_hint: "显示截止月份及之前共六个月；格式 YYYY-MM。", "Shows six months up to this one; as YYYY-MM.";
    to_month: "截止月份", "Up to month";
    preempted_title: "被抢占的借用方作业", "Guests' jobs preempted";
    preempted_help: "本单位需要自己的节点时抢占了这些借用方作业；它们按已运行的时间计费。",
        "Your organisation needed its nodes back and preempted these guests' jobs; they are charged for what they ran.";
    no_preemptions: "这段时间没有抢占借用方作业。", "No guest's job was preempted in these months.";
    month_title: "结算明细", "Settlement of";
    month_empty: "这个月没有作业在本单位的节点上结算。", "No job on your nodes was settled this month.";
    job: "作业", "Job";
    run: "运行次序", "Run";
    user: "用户", "User";
    guest_tenant: "租户", "Tenant";
    project: "项目", "Project";
    who: "使用方", "Used by";
    own: "自用", "Own";
    guest: "借用方", "Guest";
    core_hours: "核时", "Core-hours";
    charged: "计费", "Charged";
    funding: "支付方式", "Paid from";
    funding_wallet: "账户余额", "Wallet";
    funding_grant: "公益机时", "Grant";
    preempted: "被抢占", "Preempted";
    yes: "是", "Yes";
    total: "合计", "Total";
    back: "返回概览", "Back to the overview";
}

impl Texts {
    /// How a run was paid for, in the page's language; unknown as given.
    pub fn funding<'a>(&'static self, funding: &'a str) -> &'a str {
        match funding {
            "wallet" => self.funding_wallet,
            "grant" => self.funding_grant,
            other => other,
        }
    }
}
