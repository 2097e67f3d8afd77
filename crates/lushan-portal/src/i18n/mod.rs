//! The portal's languages: Simplified Chinese (the default) and English.
//! Every string a page shows is a field of [`Texts`], written once per
//! language in the `catalogue!` table below: an entry without both
//! translations does not compile. Words follow `shared/GLOSSARY-zh.md`
//! (作业, 项目, 分区, 余额...), the words Chinese centres' users know.

/// A language the portal speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The code used in `?lang=`, the `lang` cookie and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh`, `zh-CN`, `en`, `en-GB`...: the language named, if the portal
    /// speaks it.
    pub fn parse(text: &str) -> Option<Lang> {
        let primary = text.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header the portal speaks
    /// (by the order of the header's `q` weights).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut offered: Vec<(u32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some(((q.clamp(0.0, 1.0) * 1000.0) as u32, i, lang))
            })
            .filter(|(q, _, _)| *q > 0)
            .collect();
        offered.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        offered.first().map(|(_, _, lang)| *lang)
    }

    /// Chosen as the portal promises: `?lang=`, then the `lang` cookie,
    /// then the browser's `Accept-Language`, then Chinese.
    pub fn choose(query: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or(Lang::Zh)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The other language, for the switch in the page's header.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// An amount of CNY as the language writes it: `¥1,234.50`. `amount`
    /// is the platform's exact decimal text (`-1234.50`).
    pub fn money(self, amount: &str) -> String {
        let (sign, digits) = match amount.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", amount),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "00"));
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{sign}¥{grouped}.{fraction}")
    }
}

/// One table of strings, Chinese then English, per entry. `sections`
/// names the submodules whose own tables hang off this one (`t.submit.x`),
/// so each area of the portal keeps its words in a file of its own.
macro_rules! catalogue {
    (sections { $($section:ident),* } $($key:ident: $zh:expr, $en:expr;)*) => {
        /// Every string of this part of the portal, in one language.
        pub struct Texts {
            $(pub $key: &'static str,)*
            $(pub $section: &'static $section::Texts,)*
        }
        pub(crate) static ZH: Texts = Texts { $($key: $zh,)* $($section: &$section::ZH,)* };
        pub(crate) static EN: Texts = Texts { $($key: $en,)* $($section: &$section::EN,)* };
    };
}
pub(crate) use catalogue;

pub mod cobuilder;
pub mod files;
pub mod manage;
pub mod operate;
pub mod profile;
pub mod submit;
pub mod usage;

catalogue! {
    sections { submit, usage, profile, manage, operate, cobuilder, files }
    platform: "庐山计算服务平台", "Lushan computing service platform";
    switch_language: "English", "中文";
    skip_to_content: "跳到正文", "Skip to content";
    sign_in: "登录", "Sign in";
    sign_out: "退出", "Sign out";
    user_name: "用户名", "User name";
    password: "密码", "Password";
    sign_in_intro: "使用平台账号登录。没有账号？请联系所在单位的管理员。",
        "Sign in with your platform account. No account? Ask your organisation's administrator.";
    home: "首页", "Home";
    jobs: "作业", "Jobs";
    job: "作业", "Job";
    welcome: "欢迎", "Welcome";
    your_role: "角色", "Role";
    wallet: "租户余额", "Wallet";
    balance: "余额", "Balance";
    held: "冻结", "Held";
    available: "可用", "Available";
    credit_limit: "信用额度", "Credit limit";
    wallet_hidden: "租户余额由租户管理员管理。", "Your organisation's administrators manage its wallet.";
    grants: "公益机时", "Public-welfare grants";
    grant_project: "项目", "Project";
    grant_awarded: "批准机时", "Awarded";
    grant_left: "剩余机时", "Left";
    grant_ends: "截止", "Ends";
    no_grants: "暂无已批准的公益机时。项目负责人可以申请。", "No approved grant yet. A project's PI can request one.";
    my_active_jobs: "我的当前作业", "My current jobs";
    no_active_jobs: "没有排队或运行中的作业。", "No job is waiting or running.";
    all_jobs: "全部作业", "All jobs";
    newest_of_before: "只显示最新的几个，共 ", "Only the newest are shown, of ";
    newest_of_after: " 个排队或运行中。", " waiting or running.";
    see_all_active: "查看全部", "See them all";
    filter: "筛选", "Filter";
    state: "状态", "State";
    any_state: "全部状态", "Any state";
    active_only: "排队和运行中", "Waiting or running";
    job_id: "作业号", "Job ID";
    job_name: "作业名", "Name";
    user: "用户", "User";
    project: "项目", "Project";
    partition: "分区", "Partition";
    reason: "原因", "Reason";
    where_or_why: "节点列表（排队原因）", "Node list (reason)";
    nodes: "节点", "Nodes";
    cpus: "核数", "CPUs";
    elapsed: "运行时间", "Elapsed";
    time_limit: "时间限制", "Time limit";
    submitted: "提交时间", "Submitted";
    started: "开始时间", "Started";
    ended: "结束时间", "Ended";
    exit_code: "退出码", "Exit code";
    site: "集群", "Site";
    work_dir: "工作目录", "Working directory";
    output: "输出", "Output";
    output_tail: "输出（最后部分）", "Output (the end)";
    no_output: "暂无输出。", "No output yet.";
    cancel_job: "取消作业", "Cancel job";
    hold_job: "挂起", "Hold";
    release_job: "释放", "Release";
    submit_again: "再次提交", "Submit again";
    no_jobs: "没有符合条件的作业。", "No job matches.";
    newer: "较新", "Newer";
    older: "较早", "Older";
    page_before: "第 ", "Page ";
    page_middle: " / ", " of ";
    page_after: " 页", "";
    back_to_jobs: "返回作业列表", "Back to jobs";
    error_title: "出错了", "Something went wrong";
    error_code: "错误代码", "Error code";
    request_id: "请求编号", "Request ID";
    error_sign_in: "用户名或密码错误。", "Wrong user name or password.";
    error_too_many: "失败次数过多，请稍后再试。", "Too many failed attempts; try again later.";
    error_busy: "服务器繁忙，请稍后再试。", "The server is busy; try again in a moment.";
    error_not_found: "没有找到，或您无权查看。", "Not found, or not yours to see.";
    error_forbidden: "您没有权限执行此操作。", "You may not do this.";
    error_invalid: "输入有误：", "The input is not valid: ";
    error_conflict: "当前状态下无法执行：", "This cannot be done now: ";
    error_unavailable: "服务暂不可用，请稍后再试。", "The service is unavailable; try again later.";
    error_internal: "内部错误。请将请求编号告知管理员。", "Internal error. Quote the request ID to the operator.";
    error_session: "会话已失效，请重新登录。", "Your session has ended; sign in again.";
    error_cross_site: "拒绝了来自其他网站的请求。", "A request from another site was refused.";
    error_stale_form: "表单已过期（可能已重新登录）。请刷新页面后重试。",
        "This form has expired (you may have signed in again). Reload the page and try again.";
    error_funds: "余额不足：", "Not enough funds: ";
    state_pending: "排队", "Pending";
    state_running: "运行", "Running";
    state_completed: "完成", "Completed";
    state_failed: "失败", "Failed";
    state_cancelled: "已取消", "Cancelled";
    state_timeout: "超时", "Timeout";
    state_out_of_memory: "内存不足", "Out of memory";
    state_node_fail: "节点故障", "Node fail";
    state_preempted: "被抢占", "Preempted";
    role_operator: "平台管理员", "Operator";
    role_tenant_admin: "租户管理员", "Tenant admin";
    role_reviewer: "评审专家", "Reviewer";
    role_member: "成员", "Member";
}

impl Texts {
    /// A job state (the API's spelling) in this language; unknown ones as given.
    pub fn job_state<'a>(&'static self, state: &'a str) -> &'a str {
        match state {
            "PENDING" => self.state_pending,
            "RUNNING" => self.state_running,
            "COMPLETED" => self.state_completed,
            "FAILED" => self.state_failed,
            "CANCELLED" => self.state_cancelled,
            "TIMEOUT" => self.state_timeout,
            "OUT_OF_MEMORY" => self.state_out_of_memory,
            "NODE_FAIL" => self.state_node_fail,
            "PREEMPTED" => self.state_preempted,
            other => other,
        }
    }

    /// A platform role (the API's spelling) in this language.
    pub fn role<'a>(&'static self, role: &'a str) -> &'a str {
        match role {
            "operator" => self.role_operator,
            "tenant-admin" => self.role_tenant_admin,
            "reviewer" => self.role_reviewer,
            "member" => self.role_member,
            other => other,
        }
    }

    /// What a service error's stable code means, in this language; the
    /// message that follows (`invalid_input`, `conflict`...) is the
    /// service's own, in English.
    pub fn error(&'static self, code: &str) -> (&'static str, bool) {
        match code {
            "unauthenticated" => (self.error_session, false),
            "forbidden" => (self.error_forbidden, false),
            "not_found" => (self.error_not_found, false),
            "too_many_attempts" => (self.error_too_many, false),
            "busy" => (self.error_busy, false),
            "unavailable" => (self.error_unavailable, false),
            "insufficient_funds" => (self.error_funds, true),
            "conflict" => (self.error_conflict, true),
            "cross_site" => (self.error_cross_site, false),
            "invalid_input" => (self.error_invalid, true),
            _ => (self.error_internal, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_chosen_by_query_then_cookie_then_browser_then_chinese() {
        assert_eq!(Lang::choose(Some("en"), Some("zh"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::choose(Some("fr"), Some("en"), Some("zh")), Lang::En);
        assert_eq!(Lang::choose(None, None, Some("fr-FR, en-GB;q=0.8, zh;q=0.9")), Lang::Zh);
        assert_eq!(Lang::choose(None, None, Some("fr-FR, en-GB;q=0.8, zh;q=0")), Lang::En);
        assert_eq!(Lang::choose(None, None, Some("de")), Lang::Zh);
        assert_eq!(Lang::choose(None, None, None), Lang::Zh);
    }

    #[test]
    fn money_is_grouped_by_thousands_with_the_yuan_sign() {
        assert_eq!(Lang::Zh.money("1234.50"), "¥1,234.50");
        assert_eq!(Lang::En.money("-1234567.05"), "-¥1,234,567.05");
        assert_eq!(Lang::En.money("0.00"), "¥0.00");
        assert_eq!(Lang::En.money("100"), "¥100.00");
    }

    #[test]
    fn every_text_is_there_in_both_languages_and_they_differ() {
        // The table cannot lack a translation (it would not compile); an
        // entry copied from the other language would still slip through.
        assert_ne!(ZH.sign_in, EN.sign_in);
        assert_ne!(ZH.job_state("PENDING"), EN.job_state("PENDING"));
        assert_eq!(ZH.job_state("SOMETHING_NEW"), "SOMETHING_NEW");
        assert_eq!(EN.error("invalid_input"), (EN.error_invalid, true));
    }
}
