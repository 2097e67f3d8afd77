//! Job templates: `lushan template list|show|save|rm`, the same templates
//! the portal's submit page fills its form from.

use crate::output::{Output, table, time};
use anyhow::Context;
use lushan_api::{Client, JobTemplate, JobTemplateWrite};

#[derive(clap::Subcommand)]
pub enum TemplateCommand {
    /// The centre's templates and your own.
    List,
    /// One template, with its script.
    Show { id: i64 },
    /// Save a batch script as a template (a new one, or replace `--id`).
    Save {
        /// Lower-case letters, digits, - and _: e.g. my-cfd.
        name: String,
        /// The batch script (starts with #!).
        script: std::path::PathBuf,
        /// The title the portal shows (default: the name).
        #[arg(long)]
        title: Option<String>,
        /// The title in English, where it differs.
        #[arg(long, default_value = "")]
        title_en: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, default_value = "")]
        description_en: String,
        /// The centre's template, offered to everyone (operators only).
        #[arg(long)]
        centre: bool,
        /// Replace this template instead of adding one.
        #[arg(long)]
        id: Option<i64>,
    },
    /// Delete one of your templates (operators: also the centre's).
    Rm { id: i64 },
}

pub async fn template(client: &Client, command: TemplateCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        TemplateCommand::List => {
            let templates: Vec<JobTemplate> = client.get("/api/v1/job-templates").await?;
            out.print(&templates, |list| {
                let rows = list
                    .iter()
                    .map(|t| {
                        let whose = if t.centre { "centre" } else { "mine" };
                        vec![t.id.to_string(), t.name.clone(), whose.into(), t.title.clone(), time(&t.updated_at)]
                    })
                    .collect();
                println!("{}", table(&["id", "name", "whose", "title", "updated"], rows));
            });
        }
        TemplateCommand::Show { id } => {
            let t: JobTemplate = client.get(&format!("/api/v1/job-templates/{id}")).await?;
            out.print(&t, |t| {
                println!("# {} ({}, {})", t.title, t.name, if t.centre { "the centre's" } else { "yours" });
                if !t.description.is_empty() {
                    println!("# {}", t.description);
                }
                print!("{}", t.script);
            });
        }
        TemplateCommand::Save { name, script, title, title_en, description, description_en, centre, id } => {
            let text = std::fs::read_to_string(&script).with_context(|| format!("reading {}", script.display()))?;
            let body = JobTemplateWrite {
                centre,
                title: title.unwrap_or_else(|| name.clone()),
                name,
                title_en,
                description,
                description_en,
                script: text,
            };
            let saved: JobTemplate = match id {
                Some(id) => client.put(&format!("/api/v1/job-templates/{id}"), &body).await?,
                None => client.post("/api/v1/job-templates", &body).await?,
            };
            out.print(&saved, |t| println!("Template {} ({}) saved.", t.id, t.name));
        }
        TemplateCommand::Rm { id } => {
            let () = client.delete(&format!("/api/v1/job-templates/{id}")).await?;
            out.print(&serde_json::json!({"deleted": id}), |_| println!("Template {id} deleted."));
        }
    }
    Ok(())
}
