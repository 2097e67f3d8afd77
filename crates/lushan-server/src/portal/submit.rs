//! Composing a job (a form filled from a template, or the whole script),
//! its quote, and submitting it. One page, `/submit`: `GET` shows the form
//! filled from a template; `POST` with `action=quote` shows it again with
//! every site's quote and the generated script, `action=submit` submits
//! and goes to the job's page, `action=save` keeps the script as the
//! user's own template. The script is composed by `lushan_sbatch::JobForm`
//! and then read, quoted and submitted by the same services as the API's
//! `POST /api/v1/jobs` (nothing here decides what a job may ask for).

use super::{SignedForm, Visit, field, local_time};
use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::{AppState, to_api};
use crate::service::{Caller, ServiceError, SubmitJob, TemplateInput, TemplateRecord};
use axum::extract::Path;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_model::JobId;
use lushan_portal::i18n::Lang;
use lushan_portal::views::Choice;
use lushan_portal::views::submit::{FieldView, QuoteRow, QuoteView, SubmitPage, TemplateCard};
use lushan_sbatch::{Field, JobForm};

pub(super) fn routes() -> Vec<super::Route> {
    vec![("GET", "/submit", get(page).post(act)), ("POST", "/templates/{id}/delete", post(delete_template))]
}

/// What the page is filled from: the user's words (a form, or a script)
/// and the template it started from.
struct Draft {
    template: Option<i64>,
    script_mode: bool,
    form: JobForm,
    /// The whole script, in script mode.
    script: String,
    workdir: String,
    nonce: String,
}

/// The label and hint of a form field, in the page's language.
fn words(lang: Lang, field: Field) -> (&'static str, &'static str) {
    let t = lang.texts().submit;
    match field {
        Field::Name => (t.job_name, ""),
        Field::Account => (t.account, t.account_hint),
        Field::Partition => (t.partition, ""),
        Field::Nodes => (t.nodes, ""),
        Field::Ntasks => (t.ntasks, t.ntasks_hint),
        Field::CpusPerTask => (t.cpus_per_task, ""),
        Field::Mem => (t.mem, t.mem_hint),
        Field::Gpus => (t.gpus, t.gpus_hint),
        Field::Time => (t.time, t.time_hint),
        Field::Array => (t.array, t.array_hint),
        Field::Extra => (t.extra, t.extra_hint),
        Field::Body => (t.body, ""),
    }
}

fn text_field(key: &'static str, label: &'static str, hint: &'static str, value: String) -> FieldView {
    FieldView { key, label, hint, value, error: None, kind: "text", choices: Vec::new() }
}

fn title_of(lang: Lang, template: &TemplateRecord) -> (String, String) {
    match lang {
        Lang::En if !template.title_en.is_empty() => {
            let description =
                if template.description_en.is_empty() { &template.description } else { &template.description_en };
            (template.title_en.clone(), description.clone())
        }
        _ => (template.title.clone(), template.description.clone()),
    }
}

/// Everything the page shows besides the user's words: the templates, the
/// caller's projects and the partitions to choose from.
struct Choices {
    templates: Vec<TemplateRecord>,
    projects: Vec<String>,
    partitions: Vec<String>,
}

async fn choices(state: &AppState, caller: &Caller) -> Result<Choices, ServiceError> {
    let templates = state.services.list_templates(caller).await?;
    let projects = state.services.my_memberships(caller).await?.into_iter().map(|(name, _)| name).collect();
    let mut partitions: Vec<String> = state
        .services
        .list_sites(caller)
        .await?
        .into_iter()
        .filter(|s| s.status == lushan_model::Status::Active)
        .flat_map(|s| s.partitions.into_iter().map(|p| p.name))
        .collect();
    partitions.sort();
    partitions.dedup();
    Ok(Choices { templates, projects, partitions })
}

fn select(value: &str, options: &[String], empty: Option<&str>) -> Vec<Choice> {
    let mut choices: Vec<Choice> = empty
        .map(|label| Choice { value: String::new(), label: label.to_owned(), selected: value.is_empty() })
        .into_iter()
        .collect();
    choices.extend(options.iter().map(|o| Choice { value: o.clone(), label: o.clone(), selected: o == value }));
    // A value typed into a template that is not among the options stays
    // visible (the submission says what is wrong with it).
    if !value.is_empty() && !options.iter().any(|o| o == value) {
        choices.push(Choice { value: value.to_owned(), label: value.to_owned(), selected: true });
    }
    choices
}

/// The page for a draft, with whatever errors, quote or notice it has.
struct Outcome {
    errors: Vec<lushan_sbatch::FieldError>,
    workdir_error: Option<String>,
    save_errors: (Option<String>, Option<String>),
    save: (String, String),
    problem: Option<String>,
    quote: Option<QuoteView>,
    notice: Option<String>,
}

impl Outcome {
    fn none() -> Outcome {
        Outcome {
            errors: Vec::new(),
            workdir_error: None,
            save_errors: (None, None),
            save: (String::new(), String::new()),
            problem: None,
            quote: None,
            notice: None,
        }
    }
}

fn render(visit: &Visit, choices: &Choices, draft: &Draft, outcome: Outcome) -> SubmitPage {
    let lang = visit.lang;
    let t = visit.t().submit;
    let error_of = |field: Field| {
        let messages: Vec<&str> =
            outcome.errors.iter().filter(|e| e.field == field).map(|e| e.message.as_str()).collect();
        (!messages.is_empty()).then(|| messages.join("; "))
    };
    let fields = if draft.script_mode {
        vec![FieldView {
            key: "script",
            label: t.script,
            hint: t.script_hint,
            value: draft.script.clone(),
            error: error_of(Field::Body),
            kind: "area",
            choices: Vec::new(),
        }]
    } else {
        Field::ALL
            .into_iter()
            .map(|field| {
                let (label, hint) = words(lang, field);
                let value = draft.form.get(field).to_owned();
                let (kind, options) = match field {
                    Field::Account => ("select", select(&value, &choices.projects, None)),
                    Field::Partition => ("select", select(&value, &choices.partitions, Some(t.any_partition))),
                    Field::Extra | Field::Body => ("area", Vec::new()),
                    _ => ("text", Vec::new()),
                };
                FieldView { key: field.key(), label, hint, value, error: error_of(field), kind, choices: options }
            })
            .collect()
    };
    let templates = choices
        .templates
        .iter()
        .map(|template| {
            let (title, description) = title_of(lang, template);
            let centre = template.owner.is_none();
            TemplateCard {
                id: template.id,
                title,
                description,
                centre,
                in_use: draft.template == Some(template.id),
                // The services decide; this only spares a button that would be refused.
                removable: !centre || visit.caller().is_some_and(Caller::is_operator),
            }
        })
        .collect();
    let mut workdir = text_field("workdir", t.workdir, t.workdir_hint, draft.workdir.clone());
    workdir.error = outcome.workdir_error;
    let mut save_name = text_field("save_name", t.save_name, t.save_name_hint, outcome.save.0);
    save_name.error = outcome.save_errors.0;
    let mut save_label = text_field("save_title", t.save_label, "", outcome.save.1);
    save_label.error = outcome.save_errors.1;
    SubmitPage {
        chrome: visit.chrome(),
        templates,
        template_id: draft.template,
        script_mode: draft.script_mode,
        fields,
        workdir,
        shell: draft.form.shell.clone(),
        problem: outcome.problem,
        quote: outcome.quote,
        nonce: draft.nonce.clone(),
        save_name,
        save_label,
        notice: outcome.notice,
        no_projects: choices.projects.is_empty(),
    }
}

/// A template id from the page's query or form; anything else is an error.
fn template_id(text: &str) -> Result<Option<i64>, ServiceError> {
    match text {
        "" => Ok(None),
        text => text.parse::<i64>().map(Some).map_err(|_| {
            ServiceError::Invalid(format!("`{}` is not a template id", text.chars().take(32).collect::<String>()))
        }),
    }
}

async fn page(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let chosen = match template_id(&field(&query, "template")) {
        Ok(id) => id,
        Err(err) => return visit.error(err),
    };
    let script_mode = match field(&query, "mode").as_str() {
        "" | "form" => false,
        "script" => true,
        other => {
            return visit.error(ServiceError::Invalid(format!(
                "`{}` is not a mode: form or script",
                other.chars().take(16).collect::<String>()
            )));
        }
    };
    let choices = match choices(&state, caller).await {
        Ok(choices) => choices,
        Err(err) => return visit.error(err),
    };
    // Submit again: a job's own script in the box, where it started.
    let again = match field(&query, "job").as_str() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(id) => match state.services.job_script(caller, id).await {
                Ok(found) => Some(found),
                Err(err) => return visit.error(err),
            },
            Err(_) => {
                return visit.error(ServiceError::Invalid(format!(
                    "`{}` is not a job id",
                    text.chars().take(32).collect::<String>()
                )));
            }
        },
    };
    if let Some((script, workdir)) = again {
        let draft = Draft {
            template: None,
            script_mode: true,
            form: JobForm::from_script(&script),
            script,
            workdir,
            nonce: crate::service::generate_token(),
        };
        return visit
            .page(StatusCode::OK, lushan_portal::Template::render(&render(&visit, &choices, &draft, Outcome::none())));
    }
    // The template asked for (one the caller may use), else the first.
    let template = match chosen {
        Some(id) => match state.services.template(caller, id).await {
            Ok(template) => Some(template),
            Err(err) => return visit.error(err),
        },
        None => choices.templates.first().cloned(),
    };
    let script = template.as_ref().map(|t| t.script.clone()).unwrap_or_else(|| "#!/bin/bash\n\n".into());
    let mut form = JobForm::from_script(&script);
    if form.account.is_empty()
        && let Some(first) = choices.projects.first()
    {
        form.account = first.clone();
    }
    // Where the job starts by default; when it cannot be known, the field
    // says why (in the page's words) and the user may still type one.
    let (workdir, workdir_error) = match state.services.login_environment(caller).await {
        Ok(login) => (login.home, None),
        Err(err) => (String::new(), Some(problem_text(&visit, &err))),
    };
    // From the files page: the directory it showed (checked at submission).
    let workdir = match field(&query, "dir") {
        dir if dir.is_empty() => workdir,
        dir => dir,
    };
    let draft = Draft {
        template: template.as_ref().map(|t| t.id),
        script_mode,
        form,
        script,
        workdir,
        nonce: crate::service::generate_token(),
    };
    let outcome = Outcome { workdir_error, ..Outcome::none() };
    visit.page(StatusCode::OK, lushan_portal::Template::render(&render(&visit, &choices, &draft, outcome)))
}

/// The draft a posted form carries.
fn draft_of(form: &[(String, String)]) -> Result<Draft, ServiceError> {
    let script_mode = field(form, "mode") == "script";
    let mut job = JobForm { shell: field(form, "shell"), ..JobForm::default() };
    for f in Field::ALL {
        job.set(f, field(form, f.key()));
    }
    Ok(Draft {
        template: template_id(&field(form, "template"))?,
        script_mode,
        form: job,
        script: field(form, "script").replace("\r\n", "\n"),
        workdir: field(form, "workdir").trim().to_owned(),
        nonce: field(form, "nonce"),
    })
}

/// A quote row as the page shows it: times in the server's zone, money as
/// the language writes it.
fn quote_row(lang: Lang, row: &crate::service::SiteQuoteRow) -> QuoteRow {
    let t = lang.texts().submit;
    let api = to_api::site_quote(row);
    let amount = |estimate: &lushan_api::JobEstimate, value: &str| {
        if estimate.unit == "CNY" { lang.money(value) } else { format!("{value} {}", t.su) }
    };
    match &api.estimate {
        Some(estimate) => QuoteRow {
            site: api.site.clone(),
            chosen: api.chosen,
            start: api.estimated_start.as_deref().map(local_time).unwrap_or_else(|| t.no_estimate.to_owned()),
            worst_case: amount(estimate, &estimate.worst_case),
            // In the page's words; the service's own (`tenant jxu`) are English.
            payer: match estimate.grant_id {
                Some(id) => format!("{} #{id}", t.payer_grant),
                None => t.payer_wallet.to_owned(),
            },
            available: amount(estimate, &estimate.available),
            covered: estimate.covered,
            refused: String::new(),
        },
        None => QuoteRow {
            site: api.site.clone(),
            chosen: false,
            start: String::new(),
            worst_case: String::new(),
            payer: String::new(),
            available: String::new(),
            covered: false,
            refused: api.refused.clone().unwrap_or_default(),
        },
    }
}

async fn act(
    State(state): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    // `?part=quote`: htmx asks for the quote alone as the form changes.
    let live = match field(&query, "part").as_str() {
        "" => false,
        "quote" => true,
        other => {
            return visit.error(ServiceError::Invalid(format!(
                "`{}` is not a part of the submit page: quote",
                other.chars().take(16).collect::<String>()
            )));
        }
    };
    let draft = match draft_of(&form) {
        Ok(draft) => draft,
        Err(err) => return visit.error(err),
    };
    let choices = match choices(&state, caller).await {
        Ok(choices) => choices,
        Err(err) => return visit.error(err),
    };
    let show = |outcome: Outcome, status: StatusCode| {
        if live {
            // Always 200: htmx puts only a success in place, and the part
            // itself says what is wrong.
            let page = render(&visit, &choices, &draft, live_outcome(&visit, &draft, outcome));
            return visit.page(StatusCode::OK, lushan_portal::Template::render(&page.as_live_quote()));
        }
        visit.page(status, lushan_portal::Template::render(&render(&visit, &choices, &draft, outcome)))
    };
    // The script: the box as it is, or the form composed.
    let script = if draft.script_mode {
        if draft.script.trim().is_empty() {
            let errors = vec![lushan_sbatch::FieldError { field: Field::Body, message: "the script is empty".into() }];
            return show(Outcome { errors, ..Outcome::none() }, StatusCode::BAD_REQUEST);
        }
        draft.script.clone()
    } else {
        match draft.form.compose() {
            Ok(script) => script,
            Err(errors) => return show(Outcome { errors, ..Outcome::none() }, StatusCode::BAD_REQUEST),
        }
    };
    let now = now_ms();
    let action = if live { "quote".to_owned() } else { field(&form, "action") };
    if action == "save" {
        let (name, title) = (field(&form, "save_name"), field(&form, "save_title"));
        let input = TemplateInput {
            // Operators may keep it as the centre's, offered to everyone.
            centre: field(&form, "save_centre") == "on",
            name: name.clone(),
            title: title.clone(),
            title_en: String::new(),
            description: String::new(),
            description_en: String::new(),
            script,
        };
        return match state.services.create_template(caller, input, now).await {
            Ok(_) => show(Outcome { notice: Some(visit.t().submit.saved.into()), ..Outcome::none() }, StatusCode::OK),
            Err(err) => {
                let message = problem_text(&visit, &err);
                let on_title = message.contains("title");
                let save_errors = if on_title { (None, Some(message)) } else { (Some(message), None) };
                show(Outcome { save_errors, save: (name, title), ..Outcome::none() }, StatusCode::BAD_REQUEST)
            }
        };
    }
    if draft.workdir.is_empty() {
        let outcome = Outcome { workdir_error: Some(visit.t().submit.workdir_required.into()), ..Outcome::none() };
        return show(outcome, StatusCode::BAD_REQUEST);
    }
    let environment = match state.services.login_environment(caller).await {
        Ok(login) => login.env,
        Err(err) => {
            let outcome = Outcome { workdir_error: Some(problem_text(&visit, &err)), ..Outcome::none() };
            return show(outcome, StatusCode::BAD_REQUEST);
        }
    };
    let input = |idempotency_key: Option<String>| SubmitJob {
        script: Some(script.clone()),
        options: Vec::new(),
        args: Vec::new(),
        env: environment.clone(),
        submit_dir: draft.workdir.clone(),
        idempotency_key,
        allocation: None,
    };
    match action.as_str() {
        "submit" => {
            // The page's key: a second click (or a reload of the POST)
            // answers the job the first one made.
            let key = Some(format!("portal-{}", draft.nonce)).filter(|_| !draft.nonce.is_empty());
            match state.services.submit_job(caller, input(key), now).await {
                Ok(submitted) => Redirect::to(&format!("/jobs/{}", JobId(submitted.job.id.0))).into_response(),
                Err(err) => {
                    let problem = Some(problem_text(&visit, &err));
                    show(Outcome { problem, ..Outcome::none() }, ApiError::from(err).status)
                }
            }
        }
        "quote" | "" => match state.services.quote_sites(caller, input(None), now).await {
            Ok(rows) => {
                let rows: Vec<QuoteRow> = rows.iter().map(|row| quote_row(visit.lang, row)).collect();
                let can_submit = rows.iter().any(|r| r.chosen && r.covered && r.refused.is_empty());
                let quote = Some(QuoteView { script, rows, can_submit });
                show(Outcome { quote, ..Outcome::none() }, StatusCode::OK)
            }
            Err(err) => {
                let problem = Some(problem_text(&visit, &err));
                show(Outcome { problem, ..Outcome::none() }, ApiError::from(err).status)
            }
        },
        other => visit.error(ServiceError::not_found("action", other)),
    }
}

/// An outcome for the live part alone: the fields' own errors are not in
/// it, so the part names each wrong field and its reason.
fn live_outcome(visit: &Visit, draft: &Draft, outcome: Outcome) -> Outcome {
    let t = visit.t().submit;
    let mut wrong: Vec<String> = outcome
        .errors
        .iter()
        .map(|e| {
            let label = if draft.script_mode { t.script } else { words(visit.lang, e.field).0 };
            format!("{label}: {}", e.message)
        })
        .collect();
    if let Some(error) = &outcome.workdir_error {
        wrong.push(format!("{}: {error}", t.workdir));
    }
    let problem = match (outcome.problem, wrong.is_empty()) {
        (Some(problem), _) => Some(problem),
        (None, true) => None,
        (None, false) => Some(format!("{} {}", t.fix_fields_live, wrong.join("; "))),
    };
    Outcome { problem, quote: outcome.quote, ..Outcome::none() }
}

/// A service's refusal in the page's language: the meaning of its code,
/// then the service's own words where they say more.
fn problem_text(visit: &Visit, err: &ServiceError) -> String {
    let (meaning, with_detail) = visit.t().error(err.code());
    if with_detail { format!("{meaning}{err}") } else { meaning.to_owned() }
}

async fn delete_template(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { visit, ref caller, form: _ }: SignedForm,
) -> Response {
    let id = match template_id(&id) {
        Ok(Some(id)) => id,
        Ok(None) => return visit.error(ServiceError::not_found("template", "")),
        Err(err) => return visit.error(err),
    };
    match state.services.delete_template(caller, id, now_ms()).await {
        Ok(()) => Redirect::to("/submit").into_response(),
        Err(err) => visit.error(err),
    }
}
