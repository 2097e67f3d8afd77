//! What tests that make Unix accounts share: whether they can (root), names
//! of this run, the `[accounts]` setting, and the removal of what they made.

use std::path::PathBuf;
use std::process::Command;

pub fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false)
}

/// Six letters of this run (`seed` keeps two tests apart): names on the
/// machine are shared by every run.
pub fn suffix(seed: u32) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    (0..6).map(|i| char::from(b'a' + ((nanos >> (i * 5)).wrapping_add(seed) % 26) as u8)).collect()
}

/// A directory of this run for homes and projects, where the new accounts
/// can reach them (a sandbox is root's alone), and the users and groups to
/// remove, whatever happens.
pub struct Made {
    pub root: PathBuf,
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

impl Made {
    pub fn new(name: &str, users: &[&str], groups: &[&str]) -> Made {
        let root = std::env::temp_dir().join(name);
        std::fs::create_dir(&root).unwrap();
        Made {
            root,
            users: users.iter().map(|u| (*u).to_owned()).collect(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    pub fn homes(&self) -> PathBuf {
        self.root.join("home")
    }

    pub fn projects(&self) -> PathBuf {
        self.root.join("projects")
    }

    /// `lushan.toml` making accounts in test ranges under this directory.
    pub fn config(&self) -> String {
        format!(
            "[accounts]\nprovider = \"local\"\nuid_min = 47000\nuid_max = 47999\ngid_min = 48000\ngid_max = 48999\n\
             home_root = \"{}\"\nproject_root = \"{}\"\n",
            self.homes().display(),
            self.projects().display()
        )
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        for user in &self.users {
            let _ = Command::new("userdel").arg(user).output();
        }
        for group in &self.groups {
            let _ = Command::new("groupdel").arg(group).output();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
