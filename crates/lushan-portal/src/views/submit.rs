//! Composing and submitting a job.

use super::{Choice, Chrome};
use askama::Template;

/// A template to pick, as a card.
pub struct TemplateCard {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub centre: bool,
    /// The one the form is filled from.
    pub in_use: bool,
    /// Offered a delete button: the user's own, or (operators) the centre's.
    pub removable: bool,
}

/// One field of the job form: label, hint, value, and why it is wrong.
pub struct FieldView {
    /// The form's `name` and the input's `id`.
    pub key: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub error: Option<String>,
    /// `text`, `number`, `select` or `area`.
    pub kind: &'static str,
    /// The choices of a `select`.
    pub choices: Vec<Choice>,
}

impl FieldView {
    pub fn hint_id(&self) -> String {
        format!("{}-hint", self.key)
    }
}

/// One site's answer in the quote.
pub struct QuoteRow {
    pub site: String,
    pub chosen: bool,
    pub start: String,
    pub worst_case: String,
    pub payer: String,
    pub available: String,
    pub covered: bool,
    /// Why the site cannot run the job; empty when it can.
    pub refused: String,
}

pub struct QuoteView {
    pub script: String,
    pub rows: Vec<QuoteRow>,
    /// Some site can run it and its funding covers it.
    pub can_submit: bool,
}

/// The page to compose and submit a job. Its block `live_quote` (the
/// quote, the submit button, a refusal) is also rendered alone
/// (`as_live_quote()`): htmx posts the form to `/submit?part=quote` as it
/// changes and puts the answer in place, so the quote follows the form.
#[derive(Template)]
#[template(path = "submit.html", blocks = ["live_quote"])]
pub struct SubmitPage {
    pub chrome: Chrome,
    pub templates: Vec<TemplateCard>,
    /// The template the form was filled from, carried through the form.
    pub template_id: Option<i64>,
    /// The whole script in one box instead of the form's fields.
    pub script_mode: bool,
    /// The form's fields (form mode), or the script box (script mode).
    pub fields: Vec<FieldView>,
    /// The working directory field.
    pub workdir: FieldView,
    /// The `#!` line of the template, carried through the form.
    pub shell: String,
    /// A refusal of the whole job (no site can run it, not enough funds...).
    pub problem: Option<String>,
    pub quote: Option<QuoteView>,
    /// The key that makes a second click submit the same job, not another.
    pub nonce: String,
    pub save_name: FieldView,
    pub save_label: FieldView,
    /// Said after a template was saved.
    pub notice: Option<String>,
    /// The caller is in no project: the page says what to do (the form
    /// stays, for writing and keeping templates).
    pub no_projects: bool,
}

impl SubmitPage {
    pub fn mode(&self) -> &'static str {
        if self.script_mode { "script" } else { "form" }
    }

    pub fn template_value(&self) -> String {
        self.template_id.map(|id| id.to_string()).unwrap_or_default()
    }

    /// Whether any field is marked wrong.
    pub fn has_field_errors(&self) -> bool {
        self.fields.iter().chain([&self.workdir, &self.save_name, &self.save_label]).any(|f| f.error.is_some())
    }
}
