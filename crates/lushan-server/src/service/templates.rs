//! Job templates: the centre's, which operators manage and everyone may
//! use, and each user's own, which only they see. A template's script must
//! be one the submission would read: it is parsed with the one sbatch
//! parser when it is saved.

use super::{Caller, ServiceError, Services, audit_by};
use lushan_model::{Name, NameKind};
use lushan_store::{TemplateRecord, TemplateText};
use serde_json::json;

/// Longest title, in characters.
const MAX_TITLE: usize = 100;
/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 1000;

/// A template as a caller writes it.
pub struct TemplateInput {
    /// The centre's (operators only), else the caller's own.
    pub centre: bool,
    pub name: String,
    pub title: String,
    /// Shown in English; the title is used where this is empty.
    pub title_en: String,
    pub description: String,
    pub description_en: String,
    pub script: String,
}

/// Checks a template's text: a name, bounded one-line titles, bounded
/// descriptions, and a script the submission can read.
fn checked(input: &TemplateInput) -> Result<(Name, String, String), ServiceError> {
    let name = Name::parse(NameKind::Template, &input.name)?;
    let line = |what: &str, text: &str, required: bool| -> Result<String, ServiceError> {
        let text = text.trim();
        if required && text.is_empty() {
            return Err(ServiceError::Invalid(format!("the {what} is empty")));
        }
        if text.chars().count() > MAX_TITLE || text.chars().any(char::is_control) {
            return Err(ServiceError::Invalid(format!("the {what} is one line of at most {MAX_TITLE} characters")));
        }
        Ok(text.to_owned())
    };
    let title = line("title", &input.title, true)?;
    let title_en = line("English title", &input.title_en, false)?;
    for (what, text) in [("description", &input.description), ("English description", &input.description_en)] {
        if text.chars().count() > MAX_DESCRIPTION || text.contains('\0') {
            return Err(ServiceError::Invalid(format!("the {what} has at most {MAX_DESCRIPTION} characters")));
        }
    }
    if input.script.len() > lushan_sbatch::compose::MAX_SCRIPT_BYTES {
        return Err(ServiceError::Invalid(format!(
            "the script is longer than {} KiB",
            lushan_sbatch::compose::MAX_SCRIPT_BYTES / 1024
        )));
    }
    if !input.script.starts_with("#!") {
        return Err(ServiceError::Invalid("a template's script starts with a `#!` line, such as #!/bin/bash".into()));
    }
    let parsed = lushan_sbatch::parse(&lushan_sbatch::SubmitInput {
        script: Some(input.script.clone()),
        options: Vec::new(),
        env: Vec::new(),
    });
    if let Err(problems) = parsed {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(ServiceError::Invalid(format!("the template's script cannot be read:\n{}", text.join("\n"))));
    }
    Ok((name, title, title_en))
}

impl Services {
    /// The centre's templates and the caller's own.
    pub async fn list_templates(&self, caller: &Caller) -> Result<Vec<TemplateRecord>, ServiceError> {
        Ok(self.store.list_templates(caller.user_id()).await?)
    }

    /// One template the caller may use: the centre's or their own. Another
    /// user's is not found, as if it did not exist.
    pub async fn template(&self, caller: &Caller, id: i64) -> Result<TemplateRecord, ServiceError> {
        let template = self.store.template(id).await?;
        match template.owner {
            Some(owner) if owner != caller.user_id() => Err(ServiceError::not_found("template", &id.to_string())),
            _ => Ok(template),
        }
    }

    /// A template the caller may change: their own, or (operators) the centre's.
    async fn own_template(&self, caller: &Caller, id: i64) -> Result<TemplateRecord, ServiceError> {
        let template = self.template(caller, id).await?;
        if template.owner.is_none() && !caller.is_operator() {
            return Err(ServiceError::Forbidden("only operators change the centre's templates".into()));
        }
        Ok(template)
    }

    pub async fn create_template(
        &self,
        caller: &Caller,
        input: TemplateInput,
        now: i64,
    ) -> Result<TemplateRecord, ServiceError> {
        if input.centre && !caller.is_operator() {
            return Err(ServiceError::Forbidden(
                "only operators add the centre's templates; save it as your own instead".into(),
            ));
        }
        let (name, title, title_en) = checked(&input)?;
        let mut audit = audit_by(caller, now, "template.create", "template", "");
        audit.tenant_id = (!input.centre).then(|| caller.tenant_id());
        audit.after = Some(json!({"name": name.as_str(), "centre": input.centre}).to_string());
        let text = TemplateText {
            name: name.as_str(),
            title: &title,
            title_en: &title_en,
            description: input.description.trim(),
            description_en: input.description_en.trim(),
            script: &input.script,
        };
        let owner = (!input.centre).then(|| caller.user_id());
        Ok(self.store.create_template(owner, &text, now, &audit).await?)
    }

    /// Replaces a template's content; whose it is does not change
    /// (`input.centre` must say what it is).
    pub async fn update_template(
        &self,
        caller: &Caller,
        id: i64,
        input: TemplateInput,
        now: i64,
    ) -> Result<TemplateRecord, ServiceError> {
        let before = self.own_template(caller, id).await?;
        if input.centre != before.owner.is_none() {
            return Err(ServiceError::Invalid(
                "a template stays the centre's or its owner's; save a copy instead".into(),
            ));
        }
        let (name, title, title_en) = checked(&input)?;
        let mut audit = audit_by(caller, now, "template.update", "template", &id.to_string());
        audit.tenant_id = before.owner.map(|_| caller.tenant_id());
        audit.before = Some(json!({"name": before.name}).to_string());
        audit.after = Some(json!({"name": name.as_str()}).to_string());
        let text = TemplateText {
            name: name.as_str(),
            title: &title,
            title_en: &title_en,
            description: input.description.trim(),
            description_en: input.description_en.trim(),
            script: &input.script,
        };
        Ok(self.store.update_template(id, &text, now, &audit).await?)
    }

    pub async fn delete_template(&self, caller: &Caller, id: i64, now: i64) -> Result<(), ServiceError> {
        let before = self.own_template(caller, id).await?;
        let mut audit = audit_by(caller, now, "template.delete", "template", &id.to_string());
        audit.tenant_id = before.owner.map(|_| caller.tenant_id());
        audit.before = Some(json!({"name": before.name}).to_string());
        Ok(self.store.delete_template(id, &audit).await?)
    }
}
