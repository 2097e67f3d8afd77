//! `lushan files`: a user's files on the server (their home, their
//! projects' directories) from any machine: list, download, upload, make a
//! directory, move, remove. Paths on the server are absolute; `lushan
//! files ls` alone lists the home and names the directories you may reach.

use crate::output::{Output, table};
use clap::Subcommand;
use lushan_api::{Client, FileDirectoryCreate, FileEntry, FileListing, FileMove};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum FilesCommand {
    /// List a directory on the server (default: your home), or show a file.
    Ls { path: Option<String> },
    /// Download a file from the server (to LOCAL, default its name here).
    Get { remote: String, local: Option<PathBuf> },
    /// Upload a local file to the server (REMOTE: a file path, or a directory to put it in).
    Put {
        local: PathBuf,
        remote: String,
        /// Replace a file that is there.
        #[arg(long)]
        force: bool,
    },
    /// Make a directory on the server (its parent must exist).
    Mkdir { path: String },
    /// Move or rename on the server (the target must not exist).
    Mv { from: String, to: String },
    /// Remove a file or an empty directory on the server.
    Rm { path: String },
}

/// `?path=...` with the path percent-encoded.
fn query(path: &str) -> String {
    let encoded: String = path
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("path={encoded}")
}

fn entry_rows(entries: &[FileEntry]) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            let name = if e.kind == "directory" { format!("{}/", e.name) } else { e.name.clone() };
            vec![e.mode.clone(), e.kind.clone(), e.size.to_string(), e.modified.clone(), name]
        })
        .collect()
}

pub async fn run(client: &Client, command: FilesCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        FilesCommand::Ls { path } => {
            let url = match &path {
                Some(path) => format!("/api/v1/files?{}", query(path)),
                None => "/api/v1/files".to_owned(),
            };
            let listing: FileListing = client.get(&url).await?;
            out.print(&listing, |l| {
                let rows = if l.entry.kind == "directory" {
                    entry_rows(&l.entries)
                } else {
                    entry_rows(std::slice::from_ref(&l.entry))
                };
                println!("{}", l.path);
                if rows.is_empty() {
                    println!("(empty)");
                } else {
                    println!("{}", table(&["mode", "kind", "size", "modified", "name"], rows));
                }
                if l.truncated {
                    println!("(only the first {} entries)", l.entries.len());
                }
                if path.is_none() {
                    println!("\nYour directories: {}", l.roots.join(", "));
                }
            });
        }
        FilesCommand::Get { remote, local } => {
            let name = Path::new(&remote).file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("download"));
            let local = match local {
                Some(local) if local.is_dir() => local.join(name),
                Some(local) => local,
                None => name,
            };
            // Written beside the target and renamed when whole, so a broken
            // download leaves no half file under the real name.
            let partial = local.with_file_name(format!(
                ".{}.lushan-part",
                local.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            ));
            let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
            let got = client.download(&format!("/api/v1/files/content?{}", query(&remote)), &mut file).await;
            let got = got.map_err(anyhow::Error::from).and_then(|n| {
                use std::io::Write;
                file.flush()?;
                Ok(n)
            });
            match got {
                Ok(bytes) => {
                    std::fs::rename(&partial, &local)?;
                    out.print(&serde_json::json!({"path": local, "bytes": bytes}), |_| {
                        println!("Downloaded {remote} to {} ({bytes} bytes).", local.display());
                    });
                }
                Err(err) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(err);
                }
            }
        }
        FilesCommand::Put { local, remote, force } => {
            let file =
                tokio::fs::File::open(&local).await.map_err(|err| anyhow::anyhow!("{}: {err}", local.display()))?;
            let length = file.metadata().await?.len();
            // A directory on the server gets the file under its own name.
            let target = if remote.ends_with('/') {
                let name = local.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                format!("{remote}{name}")
            } else {
                remote
            };
            let url = format!("/api/v1/files/content?{}&overwrite={force}", query(&target));
            // Read in chunks of 1 MiB: the default would send 4 KiB at a time.
            let chunks = futures_util::stream::unfold(Some(file), |file| async move {
                use tokio::io::AsyncReadExt;
                let mut file = file?;
                let mut buffer = vec![0; 1 << 20];
                match file.read(&mut buffer).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buffer.truncate(n);
                        Some((Ok(buffer), Some(file)))
                    }
                    Err(err) => Some((Err::<Vec<u8>, _>(err), None)),
                }
            });
            let entry: FileEntry = client.upload(&url, reqwest::Body::wrap_stream(chunks), length).await?;
            out.print(&entry, |e| println!("Uploaded {} to {target} ({} bytes).", local.display(), e.size));
        }
        FilesCommand::Mkdir { path } => {
            let entry: FileEntry =
                client.post("/api/v1/files/directories", &FileDirectoryCreate { path: path.clone() }).await?;
            out.print(&entry, |_| println!("Made directory {path}."));
        }
        FilesCommand::Mv { from, to } => {
            let entry: FileEntry =
                client.post("/api/v1/files/moves", &FileMove { from: from.clone(), to: to.clone() }).await?;
            out.print(&entry, |_| println!("Moved {from} to {to}."));
        }
        FilesCommand::Rm { path } => {
            client.delete::<()>(&format!("/api/v1/files?{}", query(&path))).await?;
            out.print(&serde_json::json!({"removed": path}), |_| println!("Removed {path}."));
        }
    }
    Ok(())
}
