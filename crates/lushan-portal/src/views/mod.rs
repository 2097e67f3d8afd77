//! What each page shows, as plain values the portal module fills from the
//! services' records: no record type of the platform reaches a template.
//! Every string is escaped by askama when rendered (HTML templates escape
//! by default), so user-supplied names, scripts and output are inert.

use crate::i18n::{Lang, Texts};
use askama::Template;

pub mod cobuilder;
pub mod files;
pub mod manage;
pub mod operate;
pub mod profile;
pub mod submit;
pub mod usage;

/// Who is signed in, for the page's header and menu.
pub struct Viewer {
    pub name: String,
    /// The platform role, as the API spells it (`operator`, `tenant-admin`,
    /// `reviewer`, `member`): it chooses which links the menu shows, never
    /// what the services allow.
    pub role: String,
    /// This server serves users' files (it runs as root): the menu links
    /// the files page.
    pub files: bool,
}

/// What every page shares: the language, the signed-in user, the form key.
pub struct Chrome {
    pub lang: Lang,
    pub t: &'static Texts,
    /// The signed-in user; `None` on the sign-in page.
    pub user: Option<Viewer>,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// This page's path and query without `lang`, for the language switch.
    pub here: String,
}

impl Chrome {
    pub fn new(lang: Lang, user: Option<Viewer>, csrf: String, here: String) -> Chrome {
        Chrome { lang, t: lang.texts(), user, csrf, here }
    }

    pub fn css(&self) -> &'static str {
        crate::assets::css_path()
    }

    pub fn htmx(&self) -> &'static str {
        crate::assets::htmx_path()
    }

    /// Whether the signed-in user has this platform role.
    pub fn is(&self, role: &str) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == role)
    }

    /// Whether this page is `section` or under it (`/jobs` holds `/jobs/12`;
    /// `/` is the home page alone): the menu marks it (`aria-current`).
    pub fn within(&self, section: &str) -> bool {
        let path = self.here.split('?').next().unwrap_or_default();
        match path.strip_prefix(section) {
            _ if section == "/" => path == "/",
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// Whether this page is `path` itself (its query aside).
    pub fn is_page(&self, path: &str) -> bool {
        self.here.split('?').next() == Some(path)
    }

    /// The link that shows this page in the other language.
    pub fn switch_link(&self) -> String {
        let joiner = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{joiner}lang={}", self.here, self.lang.other().code())
    }
}

/// One job in a table, or the head of its page.
pub struct JobRow {
    /// The job's own id, for its link.
    pub id: i64,
    /// As Slurm shows it: `123`, or `120_3` for an array task.
    pub shown_id: String,
    pub name: String,
    pub user: String,
    pub project: String,
    pub partition: String,
    /// The API's spelling, for the CSS class.
    pub state: String,
    /// In the page's language.
    pub state_text: String,
    /// Slurm's pending reason, or the node list of a running job.
    pub reason: String,
    pub nodes: i64,
    pub cpus: i64,
    pub elapsed: String,
}

impl JobRow {
    pub fn state_class(&self) -> String {
        format!("state state-{}", self.state.to_ascii_lowercase().replace('_', "-"))
    }
}

pub struct WalletView {
    pub balance: String,
    pub held: String,
    pub available: String,
    pub credit_limit: String,
}

pub struct GrantRow {
    pub project: String,
    pub awarded: String,
    pub left: String,
    pub ends: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    /// Why the last attempt failed, in the page's language.
    pub error: Option<String>,
    pub user_name: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub display_name: String,
    pub role: String,
    pub wallet: Option<WalletView>,
    pub grants: Vec<GrantRow>,
    /// The newest of my waiting and running jobs.
    pub jobs: Vec<JobRow>,
    /// How many I have waiting or running.
    pub active_total: u64,
    /// More than `jobs` shows.
    pub more_active: bool,
}

/// A choice of a `<select>`: value, label, whether chosen.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Where a long list is: page `page` of `pages`, with links to the others.
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    pub newer: Option<String>,
    pub older: Option<String>,
}

#[derive(Template)]
#[template(path = "jobs.html")]
pub struct JobsPage {
    pub chrome: Chrome,
    pub jobs: Vec<JobRow>,
    pub states: Vec<Choice>,
    /// The project and user filters, as typed.
    pub project: String,
    pub user: String,
    /// `None` when everything fits on one page.
    pub pager: Option<Pager>,
}

/// A job's page. Its block `live` (state, actions, details, output) is also
/// rendered alone (`as_live()`), for the page to refresh in place while the
/// job is waiting or running (`?part=live`, fetched by htmx).
#[derive(Template)]
#[template(path = "job.html", blocks = ["live"])]
pub struct JobPage {
    pub chrome: Chrome,
    pub job: JobRow,
    /// (label, value) lines of the job's details.
    pub details: Vec<(String, String)>,
    /// The end of its output, when it has started.
    pub output: Option<String>,
    pub can_cancel: bool,
    pub can_hold: bool,
    pub can_release: bool,
    /// The job has not ended: the live part asks for itself again.
    pub polling: bool,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    /// What went wrong, in the page's language (and the service's words).
    pub message: String,
    pub code: String,
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrome(lang: Lang) -> Chrome {
        let alice = Viewer { name: "alice".into(), role: "member".into(), files: false };
        Chrome::new(lang, Some(alice), "k".into(), "/jobs?state=PENDING".into())
    }

    #[test]
    fn user_supplied_text_is_escaped_in_every_place_it_is_shown() {
        let planted = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;
        let row = JobRow {
            id: 7,
            shown_id: "7".into(),
            name: planted.into(),
            user: planted.into(),
            project: planted.into(),
            partition: planted.into(),
            state: "PENDING".into(),
            state_text: "x".into(),
            reason: planted.into(),
            nodes: 1,
            cpus: 1,
            elapsed: "0:00".into(),
        };
        let page = JobPage {
            chrome: chrome(Lang::En),
            job: row,
            details: vec![(planted.into(), planted.into())],
            output: Some(planted.into()),
            can_cancel: true,
            can_hold: false,
            can_release: false,
            polling: true,
        };
        let html = page.render().unwrap();
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "{html}");
        assert!(html.contains("&#60;script&#62;"), "{html}");
    }

    #[test]
    fn the_language_switch_keeps_the_page_and_its_query() {
        assert_eq!(chrome(Lang::Zh).switch_link(), "/jobs?state=PENDING&lang=en");
        let home = Chrome::new(Lang::En, None, String::new(), "/".into());
        assert_eq!(home.switch_link(), "/?lang=zh-CN");
    }
}
