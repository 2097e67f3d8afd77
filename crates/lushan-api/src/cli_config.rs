//! The CLI's configuration file: where the server is and which token to use.
//! `lushan up` and `lushan login` write it; every other command reads it.
//! Location: `$LUSHAN_CLI_CONFIG`, else `$XDG_CONFIG_HOME/lushan/cli.toml`,
//! else `$HOME/.config/lushan/cli.toml`.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CliConfig {
    pub url: String,
    pub token: Option<String>,
    /// The user the token belongs to, for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl CliConfig {
    pub fn path() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("LUSHAN_CLI_CONFIG") {
            return Some(PathBuf::from(path));
        }
        let base = match std::env::var_os("XDG_CONFIG_HOME") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
        };
        Some(base.join("lushan").join("cli.toml"))
    }

    /// The saved configuration, if there is one.
    pub fn load() -> Result<Option<CliConfig>, String> {
        let Some(path) = CliConfig::path() else {
            return Ok(None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .map_err(|err| format!("invalid CLI configuration {}: {err}", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(format!("cannot read {}: {err}", path.display())),
        }
    }

    /// Writes the file readable by its owner only (it holds a token).
    pub fn save(&self) -> Result<PathBuf, String> {
        let path = CliConfig::path()
            .ok_or("cannot tell where to write the CLI configuration: set HOME or LUSHAN_CLI_CONFIG")?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
        }
        let text = toml::to_string(self).map_err(|err| err.to_string())?;
        let tmp = path.with_extension("toml.tmp");
        write_private(&tmp, &text).map_err(|err| format!("cannot write {}: {err}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        Ok(path)
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
