//! A user's files (docs/files.md): their home and their projects'
//! directories, read and written as their Unix account by the file helper
//! (`lushan_backend::files`); the API and the CLI call these.

use super::{Caller, ServiceError, Services};
use lushan_backend::files::{
    Download, Entry, FileError, FileErrorKind, FileHelper, FileOp, HelperReply, Identity, Place, Upload,
};
use std::path::{Path, PathBuf};

/// Whom the caller's file operations run as, and where they may reach.
struct FileAccess {
    identity: Identity,
    /// The home first, then each project's directory.
    roots: Vec<PathBuf>,
}

/// A directory's entries, or a file's.
pub struct Listing {
    /// The path asked for, as given.
    pub path: PathBuf,
    pub entry: Entry,
    /// A directory's entries, by name; empty for a file.
    pub entries: Vec<Entry>,
    /// More than `lushan_backend::files::MAX_ENTRIES`: the rest are not listed.
    pub truncated: bool,
    pub roots: Vec<PathBuf>,
}

impl From<FileError> for ServiceError {
    fn from(err: FileError) -> Self {
        match err.kind {
            FileErrorKind::NotFound => ServiceError::NotFound { what: "file", key: err.message, hint: String::new() },
            FileErrorKind::Denied | FileErrorKind::Outside => ServiceError::Forbidden(err.message),
            FileErrorKind::NotRegular | FileErrorKind::Invalid => ServiceError::Invalid(err.message),
            FileErrorKind::Exists | FileErrorKind::NotEmpty => ServiceError::StateConflict(err.message),
            FileErrorKind::Failed => ServiceError::Degraded(err.message),
        }
    }
}

impl Services {
    /// Whether this server serves users' files (it runs as root, jobs as
    /// their users).
    pub fn serves_files(&self) -> bool {
        self.files.is_some()
    }

    fn file_helper(&self) -> Result<&FileHelper, ServiceError> {
        self.files.as_ref().ok_or_else(|| {
            ServiceError::StateConflict(
                "this server serves no files: its jobs run as the server's own Unix user (it is not root, or run_jobs_as_server_user is set), so no user has files of their own here"
                    .into(),
            )
        })
    }

    /// The caller's Unix account, its groups, and the directories it may
    /// reach through the platform: its home and its active projects'.
    async fn file_access(&self, caller: &Caller) -> Result<FileAccess, ServiceError> {
        self.file_helper()?;
        let user = self.store.user_by_id(caller.user_id()).await?;
        let account = user.unix_account.ok_or_else(|| {
            ServiceError::StateConflict(
                "you have no Unix account on this machine, so there are no files of yours; ask your tenant admin"
                    .into(),
            )
        })?;
        let found = unix_identity(account.clone()).await?;
        let Some((unix, identity)) = found else {
            return Err(ServiceError::StateConflict(format!(
                "Unix account `{account}` does not exist on this machine; ask the operator"
            )));
        };
        if unix.uid.is_root() {
            return Err(ServiceError::Forbidden("files are never served as root".into()));
        }
        let mut roots = vec![unix.dir.clone()];
        for (_, project, _) in self.store.memberships_of(caller.user_id()).await? {
            if let Some(dir) = self.unix.project_dir(&project) {
                roots.push(dir);
            }
        }
        Ok(FileAccess { identity, roots })
    }

    /// Which allowed directory `path` is in (the deepest that holds it),
    /// and the rest of it; refused when it is in none.
    fn file_place(access: &FileAccess, path: &str) -> Result<Place, ServiceError> {
        let path = Path::new(path);
        if !path.is_absolute() {
            return Err(ServiceError::Invalid(format!(
                "give an absolute path on the server (one of your directories: {})",
                roots_text(&access.roots)
            )));
        }
        let root = access.roots.iter().filter(|root| path.starts_with(root)).max_by_key(|root| root.as_os_str().len());
        let Some(root) = root else {
            return Err(ServiceError::Forbidden(format!(
                "{} is outside your directories: {}",
                path.display(),
                roots_text(&access.roots)
            )));
        };
        let rest = path.strip_prefix(root).unwrap_or(Path::new("")).to_owned();
        Ok(Place { root: root.clone(), path: rest })
    }

    /// What is at `path` (the home when `None`): a file, or a directory and
    /// its entries.
    pub async fn list_files(&self, caller: &Caller, path: Option<&str>) -> Result<Listing, ServiceError> {
        let access = self.file_access(caller).await?;
        let path = path.map_or_else(|| access.roots[0].clone(), PathBuf::from);
        let place = Self::file_place(&access, &path.to_string_lossy())?;
        let helper = self.file_helper()?;
        let HelperReply::Entry(entry) = helper.call(&access.identity, FileOp::Stat(place.clone())).await? else {
            return Err(ServiceError::Internal("the file helper answered out of turn".into()));
        };
        let (entries, truncated) = if entry.kind == lushan_backend::files::EntryKind::Directory {
            match helper.call(&access.identity, FileOp::List(place)).await? {
                HelperReply::Entries { entries, truncated } => (entries, truncated),
                _ => return Err(ServiceError::Internal("the file helper answered out of turn".into())),
            }
        } else {
            (Vec::new(), false)
        };
        Ok(Listing { path, entry, entries, truncated, roots: access.roots })
    }

    /// Starts a download of `path` from `offset`.
    pub async fn read_file(
        &self,
        caller: &Caller,
        path: &str,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Download, ServiceError> {
        let access = self.file_access(caller).await?;
        let place = Self::file_place(&access, path)?;
        Ok(self.file_helper()?.read(&access.identity, place, offset, length).await?)
    }

    /// Starts an upload of `length` bytes (`None`: not known beforehand, a
    /// file in a form) to `path`.
    pub async fn write_file(
        &self,
        caller: &Caller,
        path: &str,
        length: Option<u64>,
        overwrite: bool,
    ) -> Result<Upload, ServiceError> {
        let access = self.file_access(caller).await?;
        let place = Self::file_place(&access, path)?;
        Ok(self.file_helper()?.write(&access.identity, place, length, overwrite).await?)
    }

    pub async fn make_directory(&self, caller: &Caller, path: &str) -> Result<Entry, ServiceError> {
        let access = self.file_access(caller).await?;
        let place = Self::file_place(&access, path)?;
        match self.file_helper()?.call(&access.identity, FileOp::Mkdir(place)).await? {
            HelperReply::Entry(entry) => Ok(entry),
            _ => Err(ServiceError::Internal("the file helper answered out of turn".into())),
        }
    }

    /// Removes a file, a link or an empty directory.
    pub async fn remove_file(&self, caller: &Caller, path: &str) -> Result<(), ServiceError> {
        let access = self.file_access(caller).await?;
        let place = Self::file_place(&access, path)?;
        self.file_helper()?.call(&access.identity, FileOp::Remove(place)).await?;
        Ok(())
    }

    /// Refuses a job on this machine whose working directory its user
    /// cannot enter (a laptop's path sent by a remote CLI, a typo), before
    /// it waits in the queue to fail.
    pub(super) async fn check_workdir(
        &self,
        user: &lushan_store::UserRecord,
        workdir: &str,
    ) -> Result<(), ServiceError> {
        let (Some(helper), Some(account)) = (&self.files, &user.unix_account) else { return Ok(()) };
        let found = unix_identity(account.clone()).await?;
        // A missing account is check_runnable's to explain.
        let Some((unix, identity)) = found else { return Ok(()) };
        match helper.call(&identity, FileOp::Reach(PathBuf::from(workdir))).await {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(err.kind, FileErrorKind::NotFound | FileErrorKind::Denied | FileErrorKind::Invalid) =>
            {
                Err(ServiceError::Invalid(format!(
                    "the job's directory {workdir} does not exist on the server or is not {account}'s to enter: submit from a directory on the server, or name one with --chdir (-D), such as your home {} (`lushan files` puts your inputs there)",
                    unix.dir.display()
                )))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Moves or renames; the target must not exist.
    pub async fn move_file(&self, caller: &Caller, from: &str, to: &str) -> Result<Entry, ServiceError> {
        let access = self.file_access(caller).await?;
        let op = FileOp::Rename { from: Self::file_place(&access, from)?, to: Self::file_place(&access, to)? };
        match self.file_helper()?.call(&access.identity, op).await? {
            HelperReply::Entry(entry) => Ok(entry),
            _ => Err(ServiceError::Internal("the file helper answered out of turn".into())),
        }
    }
}

/// A Unix account and its ids and groups as a login has them; `None` when
/// the name service does not know it. Asked on a blocking thread: the name
/// service may be a directory over the network.
async fn unix_identity(account: String) -> Result<Option<(nix::unistd::User, Identity)>, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let user = nix::unistd::User::from_name(&account).ok().flatten()?;
        let name = std::ffi::CString::new(account).ok()?;
        let groups = nix::unistd::getgrouplist(&name, user.gid).ok()?;
        let identity = Identity {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            groups: groups.iter().map(|g| g.as_raw()).collect(),
        };
        Some((user, identity))
    })
    .await
    .map_err(|err| ServiceError::Internal(err.to_string()))
}

fn roots_text(roots: &[PathBuf]) -> String {
    roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
}
