//! Command implementations, one file per area. Each command calls the API
//! through `lushan_api::Client` and prints through `crate::output`.

pub mod admin;
pub mod billing;
pub mod files;
pub mod jobs;
pub mod server;
pub mod session;
pub mod simulate;
pub mod templates;

use anyhow::Context;
use lushan_api::{CliConfig, Client};
use std::io::{BufRead, IsTerminal, Write};

/// Where the server is and how to authenticate: flags and environment win
/// over the saved CLI configuration.
pub struct Connection {
    pub url: Option<String>,
    pub token: Option<String>,
}

impl Connection {
    pub fn client(&self) -> anyhow::Result<Client> {
        let saved = CliConfig::load().map_err(anyhow::Error::msg)?;
        let url = self.url.clone().or_else(|| saved.as_ref().map(|c| c.url.clone())).context(
            "no server configured: run `lushan login --url URL USER`, set LUSHAN_URL, or start one with `lushan up`",
        )?;
        let token = self.token.clone().or_else(|| saved.and_then(|c| c.token));
        Ok(Client::new(&url, token))
    }
}

/// Reads a secret: from the terminal without echo, or one line of stdin.
pub fn read_secret(prompt: &str, from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let interactive = !from_stdin && stdin.is_terminal();
    if interactive {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        set_echo(false);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if interactive {
        set_echo(true);
        eprintln!();
    }
    read.context("cannot read the password")?;
    let secret = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!secret.is_empty(), "no password given");
    Ok(secret)
}

fn set_echo(on: bool) {
    let _ = std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status();
}
