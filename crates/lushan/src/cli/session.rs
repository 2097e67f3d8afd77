//! Signing in, who am I, passwords and personal tokens.

use super::{Connection, read_secret};
use crate::output::{Output, fields, opt_time, table, time};
use anyhow::Context;
use lushan_api::{CliConfig, Client, LoginRequest, PasswordChange, Token, TokenCreate, TokenCreated, WhoAmI};

#[derive(clap::Args)]
pub struct LoginArgs {
    /// Your user name.
    user: String,
    /// Read the password from standard input instead of prompting.
    #[arg(long)]
    password_stdin: bool,
    /// How long the saved token lives (e.g. 30d, 12h).
    #[arg(long, default_value = "30d")]
    expires: String,
}

#[derive(clap::Args)]
pub struct PasswdArgs {
    /// Read the current and the new password from standard input, one per line.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is shown once.
    Create {
        /// A name to recognise it by, e.g. laptop or ci.
        name: String,
        /// Lifetime, e.g. 30d, 12h, 1-00:00:00; default: never expires.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List your tokens.
    List,
    /// Revoke a token by its id.
    Revoke { id: i64 },
}

pub async fn login(connection: &Connection, args: LoginArgs, out: &Output) -> anyhow::Result<()> {
    let saved = CliConfig::load().map_err(anyhow::Error::msg)?;
    let url = connection
        .url
        .clone()
        .or_else(|| saved.map(|c| c.url))
        .context("which server? use `lushan login --url URL USER` (or set LUSHAN_URL)")?;
    let password = read_secret("Password: ", args.password_stdin)?;
    let client = Client::new(&url, None);
    let response = client.login(&LoginRequest { user: args.user, password, expires_in: Some(args.expires) }).await?;
    let config = CliConfig { url, token: Some(response.token.clone()), user: Some(response.user.name.clone()) };
    let path = config.save().map_err(anyhow::Error::msg)?;
    out.print(&response, |r| {
        println!(
            "Signed in as {} ({}, tenant {}); token saved in {}",
            r.user.name,
            r.user.role,
            r.user.tenant,
            path.display()
        );
        if let Some(expires) = &r.token_info.expires_at {
            println!("The token expires {}.", time(expires));
        }
    });
    Ok(())
}

pub fn logout(out: &Output) -> anyhow::Result<()> {
    match CliConfig::load().map_err(anyhow::Error::msg)? {
        Some(mut config) => {
            config.token = None;
            config.user = None;
            config.save().map_err(anyhow::Error::msg)?;
            out.print(&serde_json::json!({"logged_out": true}), |_| println!("Signed out; the server URL is kept."));
        }
        None => out.print(&serde_json::json!({"logged_out": false}), |_| println!("Not signed in.")),
    }
    Ok(())
}

pub async fn whoami(client: &Client, out: &Output) -> anyhow::Result<()> {
    let me: WhoAmI = client.whoami().await?;
    out.print(&me, |me| {
        println!(
            "{}",
            fields(&[
                ("user", me.user.name.clone()),
                ("name", me.user.display_name.clone()),
                ("tenant", me.user.tenant.clone()),
                ("role", me.user.role.to_string()),
                ("unix account", me.user.unix_account.clone().unwrap_or_else(|| "-".into())),
                ("server", client.base().to_owned()),
            ])
        );
        if me.projects.is_empty() {
            println!("\nNo projects yet.");
        } else {
            println!();
            println!(
                "{}",
                table(
                    &["project", "role"],
                    me.projects.iter().map(|p| vec![p.project.clone(), p.role.to_string()]).collect()
                )
            );
        }
    });
    Ok(())
}

pub async fn passwd(client: &Client, args: PasswdArgs, out: &Output) -> anyhow::Result<()> {
    let current = read_secret("Current password: ", args.password_stdin)?;
    let new = read_secret("New password: ", args.password_stdin)?;
    let () =
        client.put("/api/v1/whoami/password", &PasswordChange { current_password: current, new_password: new }).await?;
    out.print(&serde_json::json!({"changed": true}), |_| println!("Password changed."));
    Ok(())
}

pub fn token_rows(tokens: &[Token]) -> String {
    table(
        &["id", "name", "state", "created", "expires", "last used"],
        tokens
            .iter()
            .map(|t| {
                vec![
                    t.id.to_string(),
                    t.name.clone(),
                    t.state.to_string(),
                    time(&t.created_at),
                    opt_time(&t.expires_at),
                    opt_time(&t.last_used_at),
                ]
            })
            .collect(),
    )
}

pub async fn token(client: &Client, command: TokenCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { name, expires } => {
            let created: TokenCreated =
                client.post("/api/v1/tokens", &TokenCreate { name, expires_in: expires }).await?;
            out.print(&created, |c| {
                println!("Token {} ({}) created. Its secret, shown only now:", c.token.id, c.token.name);
                println!("{}", c.secret);
                println!("Use it as LUSHAN_TOKEN, or as `Authorization: Bearer ...` with the REST API.");
            });
        }
        TokenCommand::List => {
            let tokens: Vec<Token> = client.get("/api/v1/tokens").await?;
            out.print(&tokens, |t| println!("{}", token_rows(t)));
        }
        TokenCommand::Revoke { id } => {
            let token: Token = client.delete(&format!("/api/v1/tokens/{id}")).await?;
            out.print(&token, |t| println!("Token {} ({}) is {}.", t.id, t.name, t.state));
        }
    }
    Ok(())
}
