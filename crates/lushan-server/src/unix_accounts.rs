//! What the platform's users and projects are on this machine: Unix
//! accounts, a group and a directory per project (docs/files.md).
//!
//! With `provider = "local"` they are made with the system's own tools
//! (`useradd`, `groupadd`, `usermod`, `gpasswd`), which take the shadow
//! files' locks, so a second server or an operator at work at the same
//! moment cannot corrupt them, and which allocate new ids from the
//! configured ranges under that lock (`-K UID_MIN=...`), so two users
//! created at once never share one. With `"none"` an operator makes them.
//!
//! The rules, each tested in `it::accounts`:
//! - an account or group that already exists is mapped, never changed; a
//!   system one (an id outside 1000-59999) is refused: no job may run as `daemon`,
//!   and a project named `sudo` must not hand its members that group; nor
//!   may a project named `alice` hand them alice's own group;
//! - only accounts Lushan made (their comment starts with `lushan user`) are
//!   locked when their user is disabled, by expiring them, which refuses a
//!   password and a key alike; nothing is ever deleted.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Marks the accounts Lushan made, in their comment (GECOS) field, which
/// cannot hold a colon: `lushan user NAME`.
pub const MARK: &str = "lushan user ";

/// Ordinary accounts' and groups' ids are these (Debian's `UID_MIN` and
/// `UID_MAX`); the others are the system's, `nobody` (65534) among them.
pub const FIRST_ORDINARY_ID: u32 = 1000;
pub const LAST_ORDINARY_ID: u32 = 59_999;

/// How long one of the system's tools may take (a directory service
/// behind NSS can be slow; a hung one must not hold a request forever).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// Made on this machine by the platform.
    Local,
    /// Made by someone else; a missing account is an error at submission.
    None,
}

/// `[accounts]` in force.
#[derive(Clone, Debug)]
pub struct AccountSettings {
    pub provider: Provider,
    /// New users' uids (and their own groups' gids), inclusive.
    pub uids: (u32, u32),
    /// New projects' gids, inclusive.
    pub gids: (u32, u32),
    /// New users' homes are `home_root/ACCOUNT`, mode 0700.
    pub home_root: PathBuf,
    /// Projects' directories are `project_root/PROJECT`, mode 2770, the
    /// project's group.
    pub project_root: PathBuf,
    pub shell: String,
}

impl AccountSettings {
    /// Nothing made on the machine.
    pub fn none() -> AccountSettings {
        AccountSettings {
            provider: Provider::None,
            uids: (20_000, 29_999),
            gids: (30_000, 39_999),
            home_root: PathBuf::from("/home"),
            project_root: PathBuf::new(),
            shell: "/bin/bash".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnixError {
    #[error(
        "Unix account `{account}` is a system account (uid {uid}, outside {FIRST_ORDINARY_ID}-{LAST_ORDINARY_ID}): no user's jobs may run as it; give the user another (--unix-account)"
    )]
    SystemAccount { account: String, uid: u32 },
    #[error(
        "a system group `{group}` (gid {gid}, outside {FIRST_ORDINARY_ID}-{LAST_ORDINARY_ID}) exists on this machine, and a project's members get its project's group: choose another project name"
    )]
    SystemGroup { group: String, gid: u32 },
    #[error(
        "group `{group}` is the own group of Unix account `{group}`: a project of that name would give its members that account's group rights; choose another project name"
    )]
    PersonalGroup { group: String },
    #[error("cannot {what} on this machine: {detail}")]
    Machine { what: String, detail: String },
}

/// The accounts, groups and directories of this machine, as `settings` say.
#[derive(Clone, Debug)]
pub struct UnixAccounts {
    settings: AccountSettings,
}

impl UnixAccounts {
    pub fn new(settings: AccountSettings) -> UnixAccounts {
        UnixAccounts { settings }
    }

    pub fn provider(&self) -> Provider {
        self.settings.provider
    }

    /// Where a project's files are, when the platform makes them.
    pub fn project_dir(&self, project: &str) -> Option<PathBuf> {
        (self.settings.provider == Provider::Local).then(|| self.settings.project_root.join(project))
    }

    /// `account` exists and is an ordinary one: made (with its home and a
    /// group of its own) if it was missing, mapped as it is if not.
    pub async fn ensure_user(&self, account: &str, user: &str) -> Result<(), UnixError> {
        if self.settings.provider == Provider::None {
            return Ok(());
        }
        if let Some(found) = lookup_user(account).await? {
            return ordinary(account, &found);
        }
        let s = &self.settings;
        let home = s.home_root.join(account);
        let args = [
            "--create-home".to_owned(),
            "--home-dir".to_owned(),
            home.display().to_string(),
            "--shell".to_owned(),
            s.shell.clone(),
            "--user-group".to_owned(),
            "--comment".to_owned(),
            format!("{MARK}{user}"),
            "-K".to_owned(),
            format!("UID_MIN={}", s.uids.0),
            "-K".to_owned(),
            format!("UID_MAX={}", s.uids.1),
            "-K".to_owned(),
            format!("GID_MIN={}", s.uids.0),
            "-K".to_owned(),
            format!("GID_MAX={}", s.uids.1),
            "-K".to_owned(),
            "HOME_MODE=0700".to_owned(),
            account.to_owned(),
        ];
        let made = run("useradd", &args).await;
        // Made meanwhile by someone else (another server, an operator):
        // mapped like any account that was there.
        match lookup_user(account).await? {
            Some(found) => ordinary(account, &found),
            None => Err(machine(format!("create Unix account `{account}`"), made.err())),
        }
    }

    /// Locks (or unlocks) an account Lushan made; others are left alone.
    pub async fn set_locked(&self, account: &str, locked: bool) -> Result<(), UnixError> {
        if self.settings.provider == Provider::None {
            return Ok(());
        }
        let Some(found) = lookup_user(account).await? else { return Ok(()) };
        if !found.comment.starts_with(MARK) {
            return Ok(());
        }
        // Expired on the first day of 1970: refused at login whatever the
        // method; an empty date is "never".
        let expire = if locked { "1" } else { "" };
        run("usermod", &["--expiredate".to_owned(), expire.to_owned(), account.to_owned()]).await.map_err(|detail| {
            machine(format!("{} Unix account `{account}`", if locked { "lock" } else { "unlock" }), Some(detail))
        })
    }

    /// The project's group (made if missing, mapped if an ordinary one is
    /// there) and directory (made if missing: mode 2770, its group).
    pub async fn ensure_project(&self, project: &str) -> Result<(), UnixError> {
        if self.settings.provider == Provider::None {
            return Ok(());
        }
        let gid = self.ensure_group(project).await?;
        let root = self.settings.project_root.clone();
        let dir = root.join(project);
        tokio::task::spawn_blocking(move || make_project_dir(&root, &dir, gid))
            .await
            .map_err(|err| machine(format!("make the directory of project `{project}`"), Some(err.to_string())))?
            .map_err(|err| machine(format!("make the directory of project `{project}`"), Some(err)))
    }

    async fn ensure_group(&self, project: &str) -> Result<u32, UnixError> {
        if let Some(gid) = lookup_group(project).await? {
            ordinary_group(project, gid)?;
            if lookup_user(project).await?.is_some_and(|owner| owner.gid == gid) {
                return Err(UnixError::PersonalGroup { group: project.to_owned() });
            }
            return Ok(gid);
        }
        let s = &self.settings;
        let args = [
            "-K".to_owned(),
            format!("GID_MIN={}", s.gids.0),
            "-K".to_owned(),
            format!("GID_MAX={}", s.gids.1),
            project.to_owned(),
        ];
        let made = run("groupadd", &args).await;
        match lookup_group(project).await? {
            Some(gid) => ordinary_group(project, gid),
            None => Err(machine(format!("create the group of project `{project}`"), made.err())),
        }
    }

    /// `account` in the project's group (the group made first if missing).
    pub async fn add_member(&self, project: &str, account: &str) -> Result<(), UnixError> {
        if self.settings.provider == Provider::None {
            return Ok(());
        }
        self.ensure_project(project).await?;
        run("gpasswd", &["--add".to_owned(), account.to_owned(), project.to_owned()])
            .await
            .map_err(|detail| machine(format!("add `{account}` to the group of project `{project}`"), Some(detail)))
    }

    /// `account` out of the project's group; not in it is fine.
    pub async fn remove_member(&self, project: &str, account: &str) -> Result<(), UnixError> {
        if self.settings.provider == Provider::None || lookup_group(project).await?.is_none() {
            return Ok(());
        }
        match run("gpasswd", &["--delete".to_owned(), account.to_owned(), project.to_owned()]).await {
            Ok(()) => Ok(()),
            Err(detail) if detail.contains("is not a member") => Ok(()),
            Err(detail) => {
                Err(machine(format!("remove `{account}` from the group of project `{project}`"), Some(detail)))
            }
        }
    }
}

/// An account as the name service has it.
struct FoundUser {
    uid: u32,
    /// Its primary group.
    gid: u32,
    comment: String,
}

fn ordinary(account: &str, found: &FoundUser) -> Result<(), UnixError> {
    if !(FIRST_ORDINARY_ID..=LAST_ORDINARY_ID).contains(&found.uid) {
        return Err(UnixError::SystemAccount { account: account.to_owned(), uid: found.uid });
    }
    Ok(())
}

fn ordinary_group(group: &str, gid: u32) -> Result<u32, UnixError> {
    if !(FIRST_ORDINARY_ID..=LAST_ORDINARY_ID).contains(&gid) {
        return Err(UnixError::SystemGroup { group: group.to_owned(), gid });
    }
    Ok(gid)
}

fn machine(what: String, detail: Option<String>) -> UnixError {
    UnixError::Machine { what, detail: detail.unwrap_or_else(|| "it is still missing afterwards".into()) }
}

/// The name service may be a directory over the network: asked on a
/// blocking thread.
async fn lookup_user(account: &str) -> Result<Option<FoundUser>, UnixError> {
    let name = account.to_owned();
    let found = tokio::task::spawn_blocking(move || nix::unistd::User::from_name(&name))
        .await
        .map_err(|err| machine(format!("look up Unix account `{account}`"), Some(err.to_string())))?
        .map_err(|err| machine(format!("look up Unix account `{account}`"), Some(err.to_string())))?;
    Ok(found.map(|u| FoundUser {
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
        comment: u.gecos.to_string_lossy().into_owned(),
    }))
}

async fn lookup_group(group: &str) -> Result<Option<u32>, UnixError> {
    let name = group.to_owned();
    let found = tokio::task::spawn_blocking(move || nix::unistd::Group::from_name(&name))
        .await
        .map_err(|err| machine(format!("look up group `{group}`"), Some(err.to_string())))?
        .map_err(|err| machine(format!("look up group `{group}`"), Some(err.to_string())))?;
    Ok(found.map(|g| g.gid.as_raw()))
}

/// Runs one of the system's tools; its words when it fails.
async fn run(program: &str, args: &[String]) -> Result<(), String> {
    let mut command = tokio::process::Command::new(program);
    command.args(args).stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = match tokio::time::timeout(COMMAND_TIMEOUT, command.output()).await {
        Err(_) => return Err(format!("{program} did not finish in {} s", COMMAND_TIMEOUT.as_secs())),
        Ok(Err(err)) => return Err(format!("cannot run {program}: {err}")),
        Ok(Ok(output)) => output,
    };
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let said = said.trim();
    Err(if said.is_empty() { format!("{program} failed ({})", output.status) } else { said.to_owned() })
}

/// `root` (made 0755 if missing) and `dir` in it: made 2770 root:`gid`;
/// one that exists is left as it is.
fn make_project_dir(root: &Path, dir: &Path, gid: u32) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(root)
        .map_err(|err| format!("{}: {err}", root.display()))?;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(err) => return Err(format!("{}: {err}", dir.display())),
    }
    // Owned and opened up only once it is the group's: no moment when
    // another group could write into it.
    nix::unistd::chown(dir, Some(nix::unistd::Uid::from_raw(0)), Some(nix::unistd::Gid::from_raw(gid)))
        .map_err(|err| format!("{}: {err}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o2770))
        .map_err(|err| format!("{}: {err}", dir.display()))
}
