//! Managing people and money: tenants and their wallets, users, projects
//! and members, grant requests, reviews and decisions. Plain values the
//! portal module fills from the services' records; every string escaped.

use super::{Choice, Chrome, Pager};
use askama::Template;

/// The last form sent on this page that the services refused: which form,
/// why (in the page's language), and what was typed, kept for another try.
#[derive(Default)]
pub struct Attempt {
    pub form: String,
    pub error: String,
    /// The field the refusal is about, shown beside it; empty: the form
    /// as a whole (shown above its button).
    pub field: String,
    pub values: Vec<(String, String)>,
}

impl Attempt {
    /// Why form `form` was refused, when it was the one sent and the
    /// refusal is not about one of its fields.
    pub fn error_for(&self, form: &str) -> Option<&str> {
        (self.form == form && self.field.is_empty() && !self.error.is_empty()).then_some(self.error.as_str())
    }

    /// Why form `form` was refused, when the refusal is about field `name`.
    pub fn error_at(&self, form: &str, name: &str) -> Option<&str> {
        (self.form == form && self.field == name && !self.error.is_empty()).then_some(self.error.as_str())
    }

    /// What was typed in field `name` of the form sent, or empty.
    pub fn v(&self, name: &str) -> &str {
        self.values.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).unwrap_or_default()
    }

    /// What was typed in field `name` when form `form` was the one sent;
    /// else `default` (what the field shows before anything is typed).
    pub fn typed<'a>(&'a self, form: &str, name: &str, default: &'a str) -> &'a str {
        if self.form == form { self.v(name) } else { default }
    }

    /// Whether `value` was the one chosen in field `name`.
    pub fn chosen(&self, name: &str, value: &str) -> bool {
        self.v(name) == value
    }
}

pub struct TenantRow {
    pub name: String,
    pub display_name: String,
    /// In the page's language.
    pub sector: String,
    pub active: bool,
    pub created: String,
}

/// A list's filter as its form shows it: the words typed, the status
/// chosen, and whether the tenant box is offered (operators see many).
pub struct ListFilterView {
    /// The list's own address, where the form goes and "clear" leads.
    pub action: String,
    pub q: String,
    pub tenant: String,
    pub statuses: Vec<Choice>,
    pub by_tenant: bool,
    /// Some filter is set (an empty list then says nothing matched).
    pub active: bool,
}

#[derive(Template)]
#[template(path = "manage_tenants.html")]
pub struct TenantsPage {
    pub chrome: Chrome,
    pub filter: ListFilterView,
    pub tenants: Vec<TenantRow>,
    pub sectors: Vec<Choice>,
    pub pager: Option<Pager>,
    pub attempt: Attempt,
}

pub struct WalletFigures {
    pub balance: String,
    pub held: String,
    pub available: String,
    pub credit_limit: String,
    pub discount: String,
}

#[derive(Template)]
#[template(path = "manage_tenant.html")]
pub struct TenantPage {
    pub chrome: Chrome,
    pub tenant: TenantRow,
    /// `None` when the caller may not see it (members).
    pub wallet: Option<WalletFigures>,
    pub attempt: Attempt,
}

pub struct UserRow {
    pub name: String,
    pub display_name: String,
    pub tenant: String,
    /// In the page's language.
    pub role: String,
    pub unix_account: String,
    pub active: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "manage_users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub filter: ListFilterView,
    pub users: Vec<UserRow>,
    /// Tenants a user can be created in (the caller's view of them).
    pub tenants: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub pager: Option<Pager>,
    pub attempt: Attempt,
}

#[derive(Template)]
#[template(path = "manage_user_created.html")]
pub struct UserCreatedPage {
    pub chrome: Chrome,
    pub user: UserRow,
    /// Shown on this page only; the platform keeps only its hash.
    pub one_time_password: Option<String>,
}

pub struct ProjectRow {
    pub name: String,
    pub tenant: String,
    pub pi: String,
    pub members: usize,
    pub description: String,
    pub active: bool,
    /// Where its files are on the server, when the platform makes them.
    pub directory: Option<String>,
}

#[derive(Template)]
#[template(path = "manage_projects.html")]
pub struct ProjectsPage {
    pub chrome: Chrome,
    pub filter: ListFilterView,
    pub projects: Vec<ProjectRow>,
    /// Whether this is the managing view (`/manage/projects`) with the
    /// create form and disable buttons, or everyone's list (`/projects`).
    pub manage: bool,
    pub tenants: Vec<Choice>,
    pub pager: Option<Pager>,
    pub attempt: Attempt,
}

pub struct MemberRow {
    pub user: String,
    pub display_name: String,
    /// The API's spelling (`pi`, `manager`, `member`).
    pub role: String,
    /// In the page's language.
    pub role_text: String,
    pub added: String,
}

impl MemberRow {
    pub fn is_pi(&self) -> bool {
        self.role == "pi"
    }
}

#[derive(Clone)]
pub struct ReviewRow {
    pub reviewer: String,
    pub score: i64,
    pub comment: String,
    pub time: String,
}

#[derive(Clone)]
pub struct GrantView {
    pub id: i64,
    pub project: String,
    pub tenant: String,
    /// The API's spelling, for the CSS class.
    pub state: String,
    /// In the page's language.
    pub state_text: String,
    pub core_hours: i64,
    pub gpu_hours: i64,
    pub awarded: String,
    pub used: String,
    pub remaining: String,
    pub from: String,
    pub to: String,
    pub scope: String,
    pub reason: String,
    pub decision_reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub renews: Option<i64>,
    pub reviews: Vec<ReviewRow>,
}

impl GrantView {
    pub fn state_class(&self) -> String {
        format!("state grant-{}", self.state)
    }

    pub fn requested(&self) -> bool {
        self.state == "requested"
    }

    /// Approved, running or past its last day: a renewal may follow it.
    pub fn renewable(&self) -> bool {
        self.state == "approved" || self.state == "expired"
    }

    /// The mean score, one decimal, or empty without reviews.
    pub fn mean_score(&self) -> String {
        if self.reviews.is_empty() {
            return String::new();
        }
        let total: i64 = self.reviews.iter().map(|r| r.score).sum();
        let tenths = total * 10 / self.reviews.len() as i64;
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

#[derive(Template)]
#[template(path = "manage_project.html")]
pub struct ProjectPage {
    pub chrome: Chrome,
    pub project: ProjectRow,
    pub members: Vec<MemberRow>,
    pub grants: Vec<GrantView>,
    pub member_roles: Vec<Choice>,
    pub pager: Option<Pager>,
    pub attempt: Attempt,
    /// Per approved grant its burn-down (PI, managers, admins, operators).
    pub burn_downs: Vec<BurnDown>,
    /// The project's and its members' limits (operators'), read-only.
    pub limits: Vec<LimitRow>,
    /// Each member's limits in this project, a form on the rows the
    /// caller may change.
    pub member_limits: Vec<MemberLimitRow>,
    /// Usage by member and by partition (PIs and managers); empty: not shown.
    pub usage_tables: Vec<crate::views::usage::UsageTable>,
}

/// One part of a grant's period on its burn-down.
pub struct BurnRow {
    /// Its last day (`2026-11-30`).
    pub until: String,
    /// Units used by then; empty for parts still to come.
    pub used: String,
    /// Units held now (the current part only).
    pub held: String,
}

/// A grant's burn-down: what it used over its period, the current holds,
/// and when it runs out at the recent rate.
pub struct BurnDown {
    pub grant_id: i64,
    pub from: String,
    pub to: String,
    pub awarded: String,
    pub used: String,
    pub held: String,
    pub left: String,
    /// Units a day over the recent window.
    pub rate: String,
    /// The day it runs out, or why there is none, in the page's language.
    pub forecast: String,
    pub chart: crate::chart::Chart,
    pub rows: Vec<BurnRow>,
}

/// A limit on the project or one of its members; `None`: no limit.
pub struct LimitRow {
    /// In the page's language.
    pub on: String,
    pub name: String,
    pub running: Option<i64>,
    pub cpus: Option<i64>,
    pub gpus: Option<i64>,
    pub submitted: Option<i64>,
}

/// A member's limits in one project: the values shown (what is set, or
/// what was typed in a refused form; empty: no limit) and whether the
/// viewer may change them.
pub struct MemberLimitRow {
    pub user: String,
    /// Their role, in the page's language.
    pub role_text: String,
    /// The name of the row's form (`limits-USER`), which a refusal names.
    pub form: String,
    pub running: String,
    pub cpus: String,
    pub gpus: String,
    pub submitted: String,
    pub may_set: bool,
}

impl ProjectPage {
    /// The grants a new request may renew, as choices.
    pub fn renewals(&self) -> Vec<Choice> {
        let renewal_of = self.chrome.t.manage.renewal_of;
        self.grants
            .iter()
            .filter(|g| g.renewable())
            .map(|g| Choice {
                value: g.id.to_string(),
                label: format!("{renewal_of} {} ({} – {})", g.id, g.from, g.to),
                selected: false,
            })
            .collect()
    }

    /// Whether any member's row has a form.
    pub fn sets_member_limits(&self) -> bool {
        self.member_limits.iter().any(|r| r.may_set)
    }
}

/// What a request's project used in a period (the past year).
pub struct UsageFigures {
    pub jobs: i64,
    pub core_hours: String,
    pub gpu_hours: String,
    /// Paid from the wallet, as money.
    pub charged: String,
    /// Paid from grants, in service units.
    pub su_used: String,
}

/// A request to review with what its project used before.
pub struct ReviewItem {
    pub grant: GrantView,
    /// Its project's usage in the past year; `None`: nothing settled.
    pub usage: Option<UsageFigures>,
    /// The period looked at, `from – to`.
    pub usage_period: String,
    /// The project's earlier grants: what was awarded and used.
    pub history: Vec<GrantView>,
    /// The signed-in reviewer's own score, when already given.
    pub mine: Option<ReviewRow>,
}

impl ReviewItem {
    /// The reviewer's own score, to show it chosen; empty when not given.
    pub fn mine_score(&self) -> String {
        self.mine.as_ref().map(|r| r.score.to_string()).unwrap_or_default()
    }

    /// The reviewer's own comment, to change it.
    pub fn mine_comment(&self) -> &str {
        self.mine.as_ref().map(|r| r.comment.as_str()).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "manage_reviews.html")]
pub struct ReviewsPage {
    pub chrome: Chrome,
    pub waiting: Vec<ReviewItem>,
    /// Requests the signed-in reviewer scored (decided or not), with their
    /// own review, newest first.
    pub done: Vec<ReviewItem>,
    pub scores: Vec<Choice>,
    /// Pages of the requests waiting, and of my past reviews.
    pub pager: Option<Pager>,
    pub done_pager: Option<Pager>,
    pub attempt: Attempt,
}

#[derive(Template)]
#[template(path = "manage_grants.html")]
pub struct GrantsPage {
    pub chrome: Chrome,
    pub grants: Vec<GrantView>,
    pub states: Vec<Choice>,
    pub pager: Option<Pager>,
}

#[derive(Template)]
#[template(path = "manage_grant.html")]
pub struct GrantPage {
    pub chrome: Chrome,
    pub grant: GrantView,
    pub usage: Option<UsageFigures>,
    pub usage_period: String,
    pub history: Vec<GrantView>,
    pub attempt: Attempt,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::views::Viewer;

    fn chrome() -> Chrome {
        let op = Viewer { name: "admin".into(), role: "operator".into(), files: false };
        Chrome::new(Lang::En, Some(op), "k".into(), "/manage/grants/1".into())
    }

    #[test]
    fn a_grant_page_escapes_what_requesters_and_reviewers_typed() {
        let planted = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;
        let grant = GrantView {
            id: 1,
            project: planted.into(),
            tenant: planted.into(),
            state: "requested".into(),
            state_text: "x".into(),
            core_hours: 10,
            gpu_hours: 0,
            awarded: String::new(),
            used: "0".into(),
            remaining: "0".into(),
            from: "2026-12-01".into(),
            to: "2027-01-01".into(),
            scope: planted.into(),
            reason: planted.into(),
            decision_reason: planted.into(),
            requested_by: planted.into(),
            requested_at: "now".into(),
            renews: None,
            reviews: vec![ReviewRow { reviewer: planted.into(), score: 4, comment: planted.into(), time: "t".into() }],
        };
        let attempt = Attempt { form: "approve".into(), error: planted.into(), field: String::new(), values: vec![] };
        let html =
            GrantPage { chrome: chrome(), grant, usage: None, usage_period: String::new(), history: vec![], attempt }
                .render()
                .unwrap();
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "{html}");
        assert!(html.contains("4.0"), "the mean score: {html}");
    }

    #[test]
    fn an_attempt_keeps_what_was_typed_for_its_own_form_only() {
        let mut attempt = Attempt {
            form: "create".into(),
            error: "bad".into(),
            field: String::new(),
            values: vec![("name".into(), "jxu".into())],
        };
        assert_eq!(attempt.error_for("create"), Some("bad"));
        assert_eq!(attempt.error_for("top-up"), None);
        assert_eq!(attempt.error_at("create", "name"), None);
        attempt.field = "name".into();
        assert_eq!((attempt.error_for("create"), attempt.error_at("create", "name")), (None, Some("bad")));
        assert_eq!(attempt.error_at("create", "sector"), None);
        assert_eq!(attempt.v("name"), "jxu");
        assert_eq!(attempt.v("other"), "");
        assert!(attempt.chosen("name", "jxu"));
    }
}
