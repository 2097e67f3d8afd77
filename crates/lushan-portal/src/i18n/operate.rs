//! The operator's console: status of the 集群, prices, limits, the audit log.

super::catalogue! {
    sections {}
    title: "平台运维", "Operations";
    nav_status: "运行状态", "Status";
    nav_prices: "价格与折扣", "Prices and discounts";
    nav_limits: "资源限制与 QOS", "Limits and QOS";
    nav_audit: "审计日志", "Audit log";
    nav_wallets: "调账与信用额度", "Wallets";
    wallets: "租户钱包", "Tenants' wallets";
    tenant: "租户", "Tenant";
    no_wallets: "还没有租户：先在“租户”页面创建一个。", "No tenants yet: create one on the Tenants page first.";
    adjust_title: "调账", "Adjustment";
    adjust_help: "正数为退款，负数为扣款（元，最多两位小数）；调账会出现在租户的月度账单上。",
        "Positive is a refund, negative a debit (CNY, at most two decimals); it appears on the tenant's statement.";
    amount: "金额（元）", "Amount (CNY)";
    reference: "凭证号", "Reference";
    reason: "原因", "Reason";
    adjust: "调账", "Adjust";
    credit_title: "信用额度", "Credit limit";
    credit_help: "钱包最多可透支的金额（元，0 或更多）。", "How far below zero the wallet may go (CNY, zero or more).";
    set_credit: "设置信用额度", "Set the credit limit";
    sites: "集群", "Sites";
    site: "集群", "Site";
    backend: "类型", "Backend";
    backend_local: "本机", "local";
    backend_slurm: "Slurm", "Slurm";
    site_state: "状态", "State";
    synced: "最近同步", "Last synced";
    last_error: "最近错误", "Last error";
    never: "从未", "never";
    no_sites: "还没有集群。用命令 lushan admin site add 添加一个 Slurm 集群。",
        "No sites yet. Add a Slurm site with lushan admin site add.";
    partitions: "分区", "Partitions";
    partition: "分区", "Partition";
    default_partition: "默认", "default";
    node_list: "节点", "Nodes";
    preemption: "抢占方式", "Preemption";
    grace: "宽限时间（秒）", "Grace time (s)";
    priority: "分区优先级", "Partition priority";
    pending: "排队", "Pending";
    running: "运行", "Running";
    queue_help: "各分区中排队和运行的作业数（只计您能看到的作业）。",
        "Jobs pending and running per partition (only the jobs you may see).";
    nodes: "节点", "Nodes";
    node: "节点", "Node";
    node_state: "状态", "State";
    cpus_aiot: "CPU（已分配/空闲/总数）", "CPUs (alloc/idle/total)";
    memory: "内存（已分配/总数，MB）", "Memory (alloc/total, MB)";
    gpus: "GPU（已分配/总数）", "GPUs (alloc/total)";
    owner: "节点所有方", "Owner";
    centre: "中心", "centre";
    check: "检查", "Check";
    check_title: "集群检查", "Site check";
    check_backend: "后端", "Backend";
    check_jwt_key: "JWT 密钥", "JWT key";
    check_slurmrestd: "slurmrestd", "slurmrestd";
    check_authenticated: "身份认证", "Authentication";
    check_slurmctld: "slurmctld", "slurmctld";
    check_commands: "Slurm 命令", "Slurm commands";
    check_users: "用户映射", "Users";
    check_accounting: "记账（slurmdbd）", "Accounting (slurmdbd)";
    check_inventory: "分区与节点", "Partitions and nodes";
    check_accounts: "账户", "Accounts";
    check_site: "集群", "Site";
    check_ok: "正常", "OK";
    check_failed: "有问题", "Problem";
    check_item: "检查项", "What";
    check_detail: "说明", "Detail";
    drift_title: "账户差异（Slurm 试同步）", "Account drift (Slurm dry run)";
    drift_none: "Slurm 中的账户与平台的项目和成员一致。", "The Slurm accounts agree with the platform's projects and members.";
    drift_help: "以下变更尚未在 Slurm 中执行：用 lushan admin site sync 执行。",
        "These changes have not been made in Slurm: lushan admin site sync makes them.";
    drift_unavailable: "无法试同步：", "No dry run: ";
    back_to_status: "返回运行状态", "Back to the status";
    prices: "价格表", "Prices";
    no_prices: "还没有设置价格：用下面的表单为集群或分区设置价格。",
        "No prices yet: set a site's or a partition's price with the form below.";
    every_partition: "所有分区", "every partition";
    qos: "QOS", "QOS";
    core_hour: "核时单价（元）", "Core-hour (CNY)";
    gpu_hour: "卡时单价（元）", "GPU-hour (CNY)";
    gb_hour: "内存 GB 时单价（元）", "GB-hour of memory (CNY)";
    su_per_gpu_hour: "每卡时折合机时", "SU per GPU-hour";
    since: "生效时间", "Since";
    set_by: "设置人", "Set by";
    set_price: "设置价格", "Set a price";
    price_help: "金额为元，最多四位小数（例如 0.05）；从现在起生效，已提交的作业保持原价格。",
        "Amounts in CNY, at most four decimals (e.g. 0.05); from now on: jobs already submitted keep their price.";
    partition_optional: "分区（留空：整个集群）", "Partition (empty: the whole site)";
    discounts: "行业折扣", "Sector discounts";
    sector: "行业类别", "Sector";
    percent: "百分比", "Percent";
    set_discount: "设置折扣", "Set the discount";
    percent_help: "0 到 100 的百分数，最多两位小数（例如 12.5）。", "A percentage from 0 to 100, at most two decimals (e.g. 12.5).";
    sharing: "共建节点", "Co-built nodes";
    owner_share: "共建分成比例", "Owners' share";
    preemptible_discount: "可抢占折扣", "Preemptible discount";
    set_owner_share: "设置共建分成比例", "Set the owners' share";
    set_preemptible: "设置可抢占折扣", "Set the preemptible discount";
    node_owner_title: "节点所有方（共建单位）", "A node's owner (co-builder)";
    owner_tenant: "所有方租户（centre：还给中心）", "Owning tenant (centre: back to the centre)";
    set_owner: "设置节点所有方", "Set the owner";
    preemption_title: "分区抢占方式", "A partition's preemption";
    preempt_mode: "抢占方式", "Mode";
    set_preemption: "设置抢占方式", "Set the preemption";
    mode_off: "关闭", "off";
    mode_cancel: "取消作业", "cancel";
    mode_requeue: "重新排队", "requeue";
    saved: "已保存。", "Saved.";
    limits: "资源限制", "Limits";
    no_limits: "还没有资源限制：用下面的表单为项目或用户设置。", "No limits yet: set one on a project or a user with the form below.";
    scope: "对象", "On";
    scope_project: "项目", "project";
    scope_user: "用户", "user";
    name: "名称", "Name";
    max_running_jobs: "最多运行作业数", "Max running jobs";
    max_cpus: "最多 CPU 数", "Max CPUs";
    max_gpus: "最多 GPU 数", "Max GPUs";
    max_submitted: "最多提交作业数", "Max submitted jobs";
    no_limit: "不限", "none";
    updated: "更新时间", "Updated";
    set_limits: "设置资源限制", "Set limits";
    limits_help: "留空的项不限制；全部留空即清除该对象的限制。", "An empty value is no limit; all empty clears the limits.";
    clear: "清除", "Clear";
    qos_list: "QOS", "QOS";
    no_qos: "还没有 QOS：用下面的表单添加。", "No QOS yet: add one with the form below.";
    qos_priority: "优先级", "Priority";
    description: "说明", "Description";
    set_qos: "添加或修改 QOS", "Add or change a QOS";
    partition_priority_title: "分区优先级", "A partition's priority";
    set_partition_priority: "设置分区优先级", "Set the priority";
    whole_number_help: "整数，例如 10。", "A whole number, e.g. 10.";
    audit: "审计日志", "Audit log";
    no_audit: "没有符合条件的记录：放宽筛选条件再试。", "Nothing matches: widen the filters and try again.";
    at: "时间", "Time";
    actor: "操作人", "Actor";
    action: "操作", "Action";
    target_kind: "对象类型", "Target kind";
    target: "对象", "Target";
    change: "变更", "Change";
    date_from: "起始日期", "From";
    date_to: "截止日期", "To";
    filter: "筛选", "Filter";
    audit_help: "按操作（如 price.set）、操作人、对象类型筛选；日期为 YYYY-MM-DD，含首尾两天；最近的在前。",
        "Filter by action (e.g. price.set), actor, target kind; dates are YYYY-MM-DD, both days included; newest first.";
}

impl Texts {
    /// A site check's item (`check_site`'s `what`) in this language; an
    /// item this catalogue does not know keeps the service's word.
    pub fn check_item_name<'a>(&'a self, what: &'a str) -> &'a str {
        match what {
            "backend" => self.check_backend,
            "JWT key" => self.check_jwt_key,
            "slurmrestd" => self.check_slurmrestd,
            "authenticated" => self.check_authenticated,
            "slurmctld" => self.check_slurmctld,
            "commands" => self.check_commands,
            "users" => self.check_users,
            "accounting" => self.check_accounting,
            "inventory" => self.check_inventory,
            "accounts" => self.check_accounts,
            "site" => self.check_site,
            other => other,
        }
    }
}
