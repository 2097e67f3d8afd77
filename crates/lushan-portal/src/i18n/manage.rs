//! Managing people and money: members, grant requests and reviews, tenants, users, projects, wallets.

super::catalogue! {
    sections {}
    title: "管理", "Manage";
    // ---- menu and page titles ----
    tenants: "租户管理", "Tenants";
    users: "用户管理", "Users";
    projects: "项目管理", "Manage projects";
    reviews: "机时评审", "Reviews";
    grant_requests: "机时申请审批", "Grant requests";
    my_projects: "我的项目", "My projects";
    site: "集群", "Site";
    grants: "公益机时", "Public-welfare grants";
    // ---- shared words ----
    tenant: "租户", "Tenant";
    tenant_name: "租户名", "Tenant name";
    display_name: "显示名称", "Display name";
    sector: "行业类别", "Sector";
    created: "创建时间", "Created";
    actions: "操作", "Actions";
    name_contains: "名称包含", "Name contains";
    any_status: "全部", "Any";
    no_match: "没有符合筛选条件的记录。", "Nothing matches the filter.";
    clear_filter: "清除筛选", "Clear the filter";
    active: "正常", "Active";
    disabled: "已停用", "Disabled";
    disable: "停用", "Disable";
    enable: "启用", "Enable";
    create: "创建", "Create";
    add: "添加", "Add";
    remove: "移除", "Remove";
    previous: "上一页", "Previous";
    next: "下一页", "Next";
    name_help: "小写字母、数字和连字符，以字母开头。创建后不能修改。",
        "Lower-case letters, digits and hyphens, starting with a letter. It cannot be changed later.";
    sector_university: "高校", "University";
    sector_institute: "科研院所", "Research institute";
    sector_enterprise: "企业", "Enterprise";
    sector_government: "政府机关", "Government";
    sector_school: "中小学", "School";
    sector_centre: "中心", "Centre";
    // ---- tenants and wallets ----
    no_tenants: "还没有租户。在下方创建第一个租户。", "No tenant yet. Create the first one below.";
    create_tenant: "创建租户", "Create a tenant";
    back_to_tenants: "返回租户列表", "Back to tenants";
    tenant_wallet: "租户余额", "Tenant wallet";
    discount: "行业折扣", "Sector discount";
    top_up: "充值", "Top up";
    amount: "金额（元）", "Amount (CNY)";
    amount_help: "例如 5000 或 1234.50，最多两位小数。", "For example 5000 or 1234.50, at most two decimals.";
    reference: "付款凭证号", "Payment reference";
    reference_help: "如发票号 INV-2026-113。同一凭证号只入账一次。",
        "An invoice number such as INV-2026-113. A reference is posted once only.";
    topped_up: "已充值。", "Topped up.";
    // ---- users ----
    no_users: "还没有用户。在下方创建用户。", "No user yet. Create one below.";
    create_user: "创建用户", "Create a user";
    unix_account: "集群账号", "Unix account";
    unix_account_help: "在集群上运行作业的 Unix 账号；留空则与用户名相同。",
        "The Unix account jobs run as on the clusters; empty: the same as the user name.";
    user_created: "用户已创建", "User created";
    one_time_password: "一次性密码", "One-time password";
    one_time_password_help: "只显示这一次，平台不保存明文。请安全地转交给用户，并请其登录后用 lushan passwd 修改。",
        "Shown this once only; the platform keeps no copy. Hand it over safely and ask the user to change it with lushan passwd after signing in.";
    back_to_users: "返回用户列表", "Back to users";
    // ---- projects and members ----
    no_projects: "您还不是任何项目的成员。请项目负责人把您加入项目。",
        "You are not a member of any project yet. Ask a project's PI to add you.";
    no_projects_manage: "还没有项目。在下方创建项目并指定项目负责人。",
        "No project yet. Create one below and name its PI.";
    create_project: "创建项目", "Create a project";
    project_name: "项目名", "Project name";
    project_name_help: "即 Slurm 账户（提交作业时的 -A）。小写字母、数字和连字符。",
        "Slurm's account (-A when submitting). Lower-case letters, digits and hyphens.";
    pi: "项目负责人", "PI";
    directory: "项目目录", "Directory";
    pi_help: "同一租户中已有用户的用户名。", "The user name of an existing user of the same tenant.";
    description: "说明", "Description";
    members: "成员", "Members";
    project_role: "项目角色", "Project role";
    added: "加入时间", "Added";
    add_member: "添加成员", "Add a member";
    member_help: "同一租户中的用户；已是成员时改为所选角色。",
        "A user of the project's tenant; an existing member gets the role chosen.";
    back_to_projects: "返回项目列表", "Back to projects";
    project_role_pi: "项目负责人", "PI";
    project_role_manager: "项目管理员", "Manager";
    project_role_member: "成员", "Member";
    // ---- grants ----
    grant_id: "申请", "Request";
    core_hours: "核时", "Core-hours";
    gpu_hours: "卡时", "GPU-hours";
    used: "已用", "Used";
    period: "有效期", "Period";
    mean_score: "平均评分", "Mean score";
    requested: "申请机时", "Requested";
    requested_by: "申请人", "Requested by";
    scope: "适用范围", "Applies to";
    every_site: "全部集群", "Every site";
    renews: "续期", "Renews";
    new_request: "新申请（不是续期）", "A new request (not a renewal)";
    renewal_of: "续期申请", "Renewal of request";
    grant_reason: "申请理由", "Reason";
    decision_reason: "审批意见", "Decision reason";
    no_project_grants: "本项目还没有公益机时。项目负责人可以在下方申请。",
        "This project has no public-welfare grant yet. Its PI can request one below.";
    request_grant: "申请公益机时", "Request a public-welfare grant";
    request_help: "由项目负责人（或租户管理员）提交；评审专家评分后由平台管理员批准或驳回。",
        "Sent by the project's PI (or its tenant's admins); reviewers score it, then an operator approves or rejects it.";
    first_day: "开始日期", "First day";
    last_day: "结束日期", "Last day";
    scope_help: "留空则适用于全部集群；填写分区时须同时填写集群。",
        "Leave empty for every site; a partition needs its site.";
    submit_request: "提交申请", "Send the request";
    requested_ok: "申请已提交。", "Request sent.";
    grant_requested: "待评审", "Requested";
    grant_approved: "已批准", "Approved";
    grant_rejected: "已驳回", "Rejected";
    grant_expired: "已到期", "Expired";
    any_grant_state: "全部状态", "Any state";
    no_grant_requests: "没有符合条件的机时申请。项目负责人在项目页面申请。",
        "No grant request matches. PIs request grants on their project's page.";
    back_to_grants: "返回申请列表", "Back to grant requests";
    approve: "批准", "Approve";
    approve_help: "可批准少于申请的核时和卡时，但不能更多。",
        "You may approve fewer core-hours and GPU-hours than requested, never more.";
    reject: "驳回", "Reject";
    reject_help: "请说明理由，项目负责人会看到。", "Say why: the PI reads it.";
    // ---- reviews ----
    to_review: "待评审的申请", "Requests to review";
    nothing_to_review: "目前没有待评审的机时申请。有新申请时会出现在这里。",
        "No grant request is waiting for review. New ones appear here.";
    past_usage: "该项目以往的公益机时", "The project's earlier grants";
    usage_title: "该项目过去一年的用量", "The project's usage in the past year";
    no_usage: "这段时间该项目没有结算的作业。", "No job of the project was settled in this period.";
    usage_jobs: "作业数", "Jobs";
    usage_charged: "余额扣费", "Charged to the wallet";
    usage_su: "公益机时消耗", "Grant units used";
    no_history: "该项目以前没有申请过公益机时。", "The project had no earlier grant.";
    reviews_so_far: "评审意见", "Reviews";
    no_reviews: "还没有评审意见。", "No review yet.";
    reviewer: "评审专家", "Reviewer";
    score: "评分", "Score";
    score_help: "1（差）到 5（优秀）。", "From 1 (poor) to 5 (excellent).";
    choose_score: "请选择评分", "Choose a score";
    comment: "评审意见", "Comment";
    time: "时间", "Time";
    submit_score: "提交评分", "Send the score";
    score_again: "修改评分", "Change my score";
    my_reviews: "我的评审记录", "My past reviews";
    no_my_reviews: "您还没有评审过申请。", "You have not reviewed a request yet.";
    score_1: "1 差", "1 poor";
    score_2: "2 较差", "2 fair";
    score_3: "3 中等", "3 good";
    score_4: "4 良好", "4 very good";
    score_5: "5 优秀", "5 excellent";
    burn_title: "公益机时消耗", "Grant burn-down";
    burn_intro: "每份已批准的公益机时：各时段结束时累计已用的机时，当前冻结（预扣）的机时以阴影叠加在当前时段上，并按近期消耗速度预测用完的日期。",
        "Each approved grant: the service units used by the end of each part of its period, the units now held for waiting and running jobs shaded on the current part, and the day they run out at the recent rate.";
    burn_chart: "公益机时累计消耗", "Service units used";
    burn_desc_before: "柱状图，每个时段结束时累计已用机时：", "Bar chart, service units used by the end of each part of the grant: ";
    burn_desc_held: "；当前冻结 ", "; held now ";
    burn_desc_after: "。数值见旁边的表格。", ". The numbers are in the table beside it.";
    burn_until: "截至", "Up to";
    burn_used: "累计已用", "Used";
    burn_held: "冻结", "Held";
    burn_awarded: "批准机时", "Awarded";
    burn_left: "剩余", "Left";
    burn_rate: "近期消耗速度（机时/天）", "Recent rate (units a day)";
    burn_forecast: "预计用完日期", "Runs out on";
    burn_not_at_this_rate: "按此速度在到期前用不完", "Not at this rate: it outlasts the grant";
    burn_no_use: "近期没有消耗，无法预测", "No recent use: no forecast";
    burn_ended: "已到期", "Ended";
    limits_title: "资源限制", "Limits";
    limits_intro: "项目和成员（在所有项目中）的资源限制（同时运行的作业、CPU、GPU、排队与运行中的作业数）。由平台运维人员设置（lushan admin limits）；如需调整请联系运维。",
        "The project's limits and its members' in every project (jobs running at once, CPUs, GPUs, jobs pending or running). The centre's operators set them (lushan admin limits); ask them to change one.";
    limits_none: "运维人员没有为本项目或其成员设置资源限制。", "The operators set no limit on this project or its members.";
    member_limits_title: "成员在本项目中的限制", "Members' limits in this project";
    member_limits_intro: "每位成员在本项目中的作业的上限（即 Slurm 中该用户在此账户下的关联限制），只作用于本项目。由项目负责人和管理员设置；留空表示不限。",
        "Caps on each member's jobs in this project only (Slurm's limits on the user's association with this account). The PI and managers set them; an empty box is no limit.";
    member_limits_readonly: "由项目负责人和管理员设置。", "The PI and the project's managers set them.";
    member_limits_none: "本项目还没有成员。", "The project has no member yet.";
    save_limits: "保存", "Save";
    limit_on: "对象", "On";
    limit_project: "项目", "Project";
    limit_user: "成员", "Member";
    limit_running: "运行作业数", "Running jobs";
    limit_cpus: "CPU 核数", "CPUs";
    limit_gpus: "GPU 卡数", "GPUs";
    limit_submitted: "排队与运行作业数", "Pending or running jobs";
    no_limit: "不限", "No limit";
    project_usage_title: "用量（按成员和分区）", "Usage by member and by partition";
    project_usage_intro: "近六个月本项目已结算的作业。", "This project's jobs settled in the last six months.";
}

impl Texts {
    /// A grant's state (the API's spelling) in this language; unknown ones as given.
    pub fn grant_state<'a>(&'static self, state: &'a str) -> &'a str {
        match state {
            "requested" => self.grant_requested,
            "approved" => self.grant_approved,
            "rejected" => self.grant_rejected,
            "expired" => self.grant_expired,
            other => other,
        }
    }

    /// A project role (the API's spelling) in this language.
    pub fn project_role<'a>(&'static self, role: &'a str) -> &'a str {
        match role {
            "pi" => self.project_role_pi,
            "manager" => self.project_role_manager,
            "member" => self.project_role_member,
            other => other,
        }
    }

    /// A sector (the API's spelling) in this language, as the glossary names it.
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

    /// A score's label, `1 poor` to `5 excellent`.
    pub fn score(&'static self, score: i64) -> &'static str {
        match score {
            1 => self.score_1,
            2 => self.score_2,
            3 => self.score_3,
            4 => self.score_4,
            _ => self.score_5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{EN, ZH};

    #[test]
    fn states_sectors_and_roles_are_in_the_glossary_s_words_and_unknown_ones_shown_as_given() {
        assert_ne!(ZH.tenants, EN.tenants);
        assert_eq!((ZH.grant_state("approved"), EN.grant_state("approved")), ("已批准", "Approved"));
        assert_eq!(ZH.sector("university"), "高校");
        assert_eq!(ZH.project_role("pi"), "项目负责人");
        assert_eq!(EN.grant_state("new-state"), "new-state");
        assert_eq!((ZH.score(1), EN.score(5)), ("1 差", "5 excellent"));
    }
}
