//! A user's files, touched as that user and never as root (docs/files.md).
//!
//! The server never changes its own ids (set*id would apply to every
//! thread of it). Each operation runs in a helper process of this binary
//! (`lushan files-helper`, [`run_helper`]) that takes the user's groups and
//! ids for good before it touches a path, then resolves every path below
//! one allowed directory with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS)`: `..`, absolute symlinks and symlinks that climb
//! out, and `/proc/self/...` links all fail. Only regular files are read or
//! written (a FIFO or a device is refused, never opened for blocking I/O);
//! an upload goes to a temporary file in the same directory and is renamed
//! into place only once whole. The server ([`FileHelper`]) kills a helper
//! that passes its deadline.
//!
//! Between the two: one JSON line each way ([`HelperRequest`] on stdin,
//! [`HelperReply`] on stdout), then the content of an upload (stdin) or a
//! download (stdout), so neither side holds a file in memory.

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat, openat2};
use nix::sys::stat::{Mode, SFlag, fstat, fstatat, mkdirat};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::{BufRead, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// `lushan files-helper`: the helper's argument.
pub const HELPER_ARG: &str = "files-helper";

/// The helper's and the server's buffers for a transfer, and the size of
/// the pipes between them.
const TRANSFER_BUFFER: usize = 1 << 20;

/// Directory listings stop here (`truncated`), so one request never holds
/// an unbounded list.
pub const MAX_ENTRIES: usize = 20_000;

/// Whom the helper acts as: a user's ids and groups, as a login has them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// A path below an allowed directory: `path` is relative to `root` (empty:
/// the root itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Place {
    pub root: PathBuf,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FileOp {
    List(Place),
    Stat(Place),
    /// `length` bytes from `offset` (to the end when `None`).
    Read {
        place: Place,
        offset: u64,
        length: Option<u64>,
    },
    /// Exactly `length` bytes follow the request, fewer being a failed
    /// upload; or, when the length is not known (a file in a form), frames
    /// of a 4-byte big-endian length and that many bytes, ended by an empty
    /// frame, without which the upload failed.
    Write {
        place: Place,
        length: Option<u64>,
        overwrite: bool,
    },
    Mkdir(Place),
    /// A file, a link, or an empty directory.
    Remove(Place),
    Rename {
        from: Place,
        to: Place,
    },
    /// Whether the user can enter this directory anywhere on the machine
    /// (a job's working directory): nothing is read.
    Reach(PathBuf),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HelperRequest {
    pub identity: Identity,
    pub op: FileOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    File,
    Directory,
    Link,
    /// A FIFO, a socket or a device: listed, never read or written.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    pub size: u64,
    /// Seconds since the epoch.
    pub modified: i64,
    /// Permission bits (`0o640`).
    pub mode: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HelperReply {
    Entries {
        entries: Vec<Entry>,
        truncated: bool,
    },
    Entry(Entry),
    /// `length` bytes of the file (of `size`) from `offset` follow.
    Reading {
        size: u64,
        offset: u64,
        length: u64,
    },
    Done,
    Failed(FileError),
}

/// Why an operation failed, in words the user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    pub kind: FileErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileErrorKind {
    NotFound,
    Denied,
    /// Outside the directories the user may reach (`..`, a link out).
    Outside,
    /// Not a regular file (a FIFO, a device, a directory where a file was meant).
    NotRegular,
    Exists,
    NotEmpty,
    Invalid,
    /// The helper or the machine failed.
    Failed,
}

impl FileError {
    pub fn new(kind: FileErrorKind, message: impl Into<String>) -> FileError {
        FileError { kind, message: message.into() }
    }
}

fn errno_error(errno: Errno, what: &str, path: &Path) -> FileError {
    let path = path.display();
    let (kind, message) = match errno {
        Errno::ENOENT => (FileErrorKind::NotFound, format!("{what}: {path} does not exist")),
        Errno::EACCES | Errno::EPERM => (FileErrorKind::Denied, format!("{what}: permission denied on {path}")),
        Errno::EXDEV | Errno::ELOOP => {
            (FileErrorKind::Outside, format!("{what}: {path} leads outside your home and your projects' directories"))
        }
        Errno::EEXIST => (FileErrorKind::Exists, format!("{what}: {path} already exists")),
        Errno::ENOTEMPTY => (FileErrorKind::NotEmpty, format!("{what}: directory {path} is not empty")),
        Errno::ENOTDIR => (FileErrorKind::Invalid, format!("{what}: a part of {path} is not a directory")),
        Errno::EISDIR => (FileErrorKind::NotRegular, format!("{what}: {path} is a directory")),
        Errno::ENXIO => (FileErrorKind::NotRegular, format!("{what}: {path} is not a regular file")),
        Errno::ENOSPC | Errno::EDQUOT => (FileErrorKind::Failed, format!("{what}: no space left for {path}")),
        other => (FileErrorKind::Failed, format!("{what}: {path}: {}", other.desc())),
    };
    FileError { kind, message }
}

// ---- the helper process ----

/// `lushan files-helper`: one request on stdin, its reply on stdout.
/// Started by the server as root; acts as the request's user only.
pub fn run_helper() -> i32 {
    // Large buffers: a transfer is a few big reads and writes, not many
    // small ones.
    let stdin = std::io::stdin();
    let mut input = std::io::BufReader::with_capacity(TRANSFER_BUFFER, stdin.lock());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(TRANSFER_BUFFER, stdout.lock());
    let mut line = String::new();
    // The request is small; a longer line is not the server's.
    let read = (&mut input).take(1 << 20).read_line(&mut line);
    let request: HelperRequest = match read.ok().and_then(|_| serde_json::from_str(&line).ok()) {
        Some(request) => request,
        None => {
            reply(&mut out, &HelperReply::Failed(FileError::new(FileErrorKind::Failed, "unreadable helper request")));
            return 2;
        }
    };
    if let Err(err) = become_user(&request.identity) {
        reply(&mut out, &HelperReply::Failed(err));
        return 2;
    }
    // What the user makes is their group's to share (a project's
    // directory), never others'.
    nix::sys::stat::umask(Mode::from_bits_truncate(0o007));
    let result = match request.op {
        FileOp::List(place) => list(&place),
        FileOp::Stat(place) => stat(&place).map(HelperReply::Entry),
        FileOp::Read { place, offset, length } => return read_file(&place, offset, length, &mut out),
        FileOp::Write { place, length, overwrite } => write_file(&place, length, overwrite, &mut input),
        FileOp::Mkdir(place) => mkdir(&place),
        FileOp::Remove(place) => remove(&place),
        FileOp::Rename { from, to } => rename(&from, &to),
        FileOp::Reach(path) => {
            nix::fcntl::open(&path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
                .and_then(|fd| nix::unistd::fchdir(&fd))
                .map(|()| HelperReply::Done)
                .map_err(|e| errno_error(e, "cannot enter", &path))
        }
    };
    match result {
        Ok(done) => {
            reply(&mut out, &done);
            0
        }
        Err(err) => {
            reply(&mut out, &HelperReply::Failed(err));
            1
        }
    }
}

fn reply(out: &mut impl Write, reply: &HelperReply) {
    let mut line = serde_json::to_string(reply).unwrap_or_else(|_| "{}".into());
    line.push('\n');
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// The user's groups, then gid, then uid: after the last, nothing can take
/// root back. Root itself is refused.
fn become_user(identity: &Identity) -> Result<(), FileError> {
    use nix::unistd::{Gid, Uid, setgid, setgroups, setuid};
    let failed =
        |what: &str, err: Errno| FileError::new(FileErrorKind::Failed, format!("cannot {what}: {}", err.desc()));
    if identity.uid == 0 {
        return Err(FileError::new(FileErrorKind::Denied, "files are never served as root"));
    }
    let groups: Vec<Gid> = identity.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    setgroups(&groups).map_err(|e| failed("take the user's groups", e))?;
    setgid(Gid::from_raw(identity.gid)).map_err(|e| failed("take the user's group", e))?;
    setuid(Uid::from_raw(identity.uid)).map_err(|e| failed("become the user", e))?;
    if nix::unistd::geteuid().as_raw() != identity.uid || setuid(Uid::from_raw(0)).is_ok() {
        return Err(FileError::new(FileErrorKind::Failed, "the helper kept root's rights"));
    }
    Ok(())
}

/// Opens `rel` below `root` (the root itself when empty).
fn open_beneath(root: &Path, rel: &Path, flags: OFlag, what: &str) -> Result<OwnedFd, FileError> {
    let root_fd = nix::fcntl::open(root, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| errno_error(e, what, root))?;
    let rel = if rel.as_os_str().is_empty() { Path::new(".") } else { rel };
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(&root_fd, rel, how).map_err(|e| errno_error(e, what, &root.join(rel)))
}

/// The directory holding `place` (opened below its root) and its last name.
fn parent_of(place: &Place, what: &str) -> Result<(OwnedFd, OsString), FileError> {
    let Some(Component::Normal(name)) = place.path.components().next_back() else {
        return Err(FileError::new(
            FileErrorKind::Invalid,
            format!("{what}: name a file or a directory inside {}", place.root.display()),
        ));
    };
    let parent = place.path.parent().unwrap_or(Path::new(""));
    let dir = open_beneath(&place.root, parent, OFlag::O_PATH | OFlag::O_DIRECTORY, what)?;
    Ok((dir, name.to_owned()))
}

fn entry_of(name: String, st: &nix::sys::stat::FileStat) -> Entry {
    let format = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    let kind = if format == SFlag::S_IFREG {
        EntryKind::File
    } else if format == SFlag::S_IFDIR {
        EntryKind::Directory
    } else if format == SFlag::S_IFLNK {
        EntryKind::Link
    } else {
        EntryKind::Other
    };
    Entry { name, kind, size: u64::try_from(st.st_size).unwrap_or(0), modified: st.st_mtime, mode: st.st_mode & 0o7777 }
}

fn display_name(place: &Place) -> String {
    place
        .path
        .file_name()
        .or_else(|| place.root.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn list(place: &Place) -> Result<HelperReply, FileError> {
    let what = "cannot list";
    let fd = open_beneath(&place.root, &place.path, OFlag::O_RDONLY | OFlag::O_DIRECTORY, what)?;
    let full = place.root.join(&place.path);
    // The same directory for the entries' metadata: never its path again.
    let stat_fd = nix::unistd::dup(&fd).map_err(|e| errno_error(e, what, &full))?;
    let mut dir = nix::dir::Dir::from_fd(fd).map_err(|e| errno_error(e, what, &full))?;
    let mut entries = Vec::new();
    let mut truncated = false;
    for item in dir.iter() {
        let item = item.map_err(|e| errno_error(e, what, &full))?;
        let name = item.file_name().to_string_lossy().into_owned();
        if name == "." || name == ".." {
            continue;
        }
        if entries.len() == MAX_ENTRIES {
            truncated = true;
            break;
        }
        // Gone since it was listed: left out.
        if let Ok(st) = fstatat(&stat_fd, item.file_name(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
            entries.push(entry_of(name, &st));
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(HelperReply::Entries { entries, truncated })
}

fn stat(place: &Place) -> Result<Entry, FileError> {
    let what = "cannot read";
    let fd = open_beneath(&place.root, &place.path, OFlag::O_PATH, what)?;
    let st = fstat(&fd).map_err(|e| errno_error(e, what, &place.root.join(&place.path)))?;
    Ok(entry_of(display_name(place), &st))
}

fn read_file(place: &Place, offset: u64, length: Option<u64>, out: &mut impl Write) -> i32 {
    let what = "cannot read";
    let full = place.root.join(&place.path);
    // Non-blocking: a FIFO without a writer must not hang the helper.
    let opened = open_beneath(&place.root, &place.path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY, what)
        .and_then(|fd| {
            let st = fstat(&fd).map_err(|e| errno_error(e, what, &full))?;
            if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
                return Err(FileError::new(
                    FileErrorKind::NotRegular,
                    format!("{what}: {} is not a regular file", full.display()),
                ));
            }
            Ok((fd, u64::try_from(st.st_size).unwrap_or(0)))
        });
    let (fd, size) = match opened {
        Ok(opened) => opened,
        Err(err) => {
            reply(out, &HelperReply::Failed(err));
            return 1;
        }
    };
    let offset = offset.min(size);
    let length = length.unwrap_or(u64::MAX).min(size - offset);
    reply(out, &HelperReply::Reading { size, offset, length });
    let mut file = std::fs::File::from(fd);
    let copied = std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset))
        .and_then(|_| copy_big(&mut (&mut file).take(length), out))
        .and_then(|n| out.flush().map(|()| n));
    // A file that shrank meanwhile sends less; the server sees the count.
    match copied {
        Ok(_) => 0,
        Err(_) => 1,
    }
}

/// `std::io::copy` with a buffer of [`TRANSFER_BUFFER`] rather than 8 KiB.
fn copy_big(input: &mut impl Read, out: &mut impl Write) -> std::io::Result<u64> {
    let mut buffer = vec![0; TRANSFER_BUFFER];
    let mut total = 0;
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        out.write_all(&buffer[..n])?;
        total += n as u64;
    }
}

/// Copies frames (see [`FileOp::Write`]) to `out`: the bytes, or `None`
/// when the input ended before the empty frame.
fn copy_frames(input: &mut impl Read, out: &mut impl Write) -> std::io::Result<Option<u64>> {
    let mut total = 0;
    let mut buffer = vec![0; TRANSFER_BUFFER];
    loop {
        let mut head = [0u8; 4];
        if let Err(err) = input.read_exact(&mut head) {
            return if err.kind() == std::io::ErrorKind::UnexpectedEof { Ok(None) } else { Err(err) };
        }
        let mut left = u64::from(u32::from_be_bytes(head));
        if left == 0 {
            return Ok(Some(total));
        }
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(buffer.len());
            let n = input.read(&mut buffer[..want])?;
            if n == 0 {
                return Ok(None);
            }
            out.write_all(&buffer[..n])?;
            left -= n as u64;
            total += n as u64;
        }
    }
}

fn write_file(
    place: &Place,
    length: Option<u64>,
    overwrite: bool,
    input: &mut impl Read,
) -> Result<HelperReply, FileError> {
    let what = "cannot write";
    let full = place.root.join(&place.path);
    let (dir, name) = parent_of(place, what)?;
    match fstatat(&dir, name.as_os_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG => {
            return Err(FileError::new(
                FileErrorKind::NotRegular,
                format!("{what}: {} exists and is not a regular file", full.display()),
            ));
        }
        Ok(_) if !overwrite => {
            return Err(FileError::new(
                FileErrorKind::Exists,
                format!("{what}: {} already exists (overwrite it to replace it)", full.display()),
            ));
        }
        Ok(_) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(errno_error(e, what, &full)),
    }
    let mut temp = OsString::from(".");
    temp.push(&name);
    temp.push(format!(".lushan-upload-{}", std::process::id()));
    let fd = openat(
        &dir,
        temp.as_os_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o660),
    )
    .map_err(|e| errno_error(e, what, &full))?;
    let mut file = std::fs::File::from(fd);
    let written = match length {
        Some(length) => copy_big(&mut input.take(length), &mut file).map(|n| (n == length).then_some(n)),
        None => copy_frames(input, &mut file),
    }
    .and_then(|n| file.sync_all().map(|()| n));
    let discard = |err: FileError| {
        let _ = nix::unistd::unlinkat(&dir, temp.as_os_str(), nix::unistd::UnlinkatFlags::NoRemoveDir);
        err
    };
    match written {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(discard(FileError::new(
                FileErrorKind::Invalid,
                format!("{what}: the upload of {} ended before it was whole; nothing was changed", full.display()),
            )));
        }
        Err(err) => {
            let errno = err.raw_os_error().map_or(Errno::EIO, Errno::from_raw);
            return Err(discard(errno_error(errno, what, &full)));
        }
    }
    let flags = if overwrite { nix::fcntl::RenameFlags::empty() } else { nix::fcntl::RenameFlags::RENAME_NOREPLACE };
    nix::fcntl::renameat2(&dir, temp.as_os_str(), &dir, name.as_os_str(), flags)
        .map_err(|e| discard(errno_error(e, what, &full)))?;
    let st = fstatat(&dir, name.as_os_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| errno_error(e, what, &full))?;
    Ok(HelperReply::Entry(entry_of(name.to_string_lossy().into_owned(), &st)))
}

fn mkdir(place: &Place) -> Result<HelperReply, FileError> {
    let what = "cannot make the directory";
    let full = place.root.join(&place.path);
    let (dir, name) = parent_of(place, what)?;
    mkdirat(&dir, name.as_os_str(), Mode::from_bits_truncate(0o770)).map_err(|e| errno_error(e, what, &full))?;
    let st = fstatat(&dir, name.as_os_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| errno_error(e, what, &full))?;
    Ok(HelperReply::Entry(entry_of(name.to_string_lossy().into_owned(), &st)))
}

fn remove(place: &Place) -> Result<HelperReply, FileError> {
    let what = "cannot remove";
    let full = place.root.join(&place.path);
    let (dir, name) = parent_of(place, what)?;
    let st = fstatat(&dir, name.as_os_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| errno_error(e, what, &full))?;
    let flag = if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR {
        nix::unistd::UnlinkatFlags::RemoveDir
    } else {
        nix::unistd::UnlinkatFlags::NoRemoveDir
    };
    nix::unistd::unlinkat(&dir, name.as_os_str(), flag).map_err(|e| errno_error(e, what, &full))?;
    Ok(HelperReply::Done)
}

fn rename(from: &Place, to: &Place) -> Result<HelperReply, FileError> {
    let what = "cannot move";
    let (from_dir, from_name) = parent_of(from, what)?;
    let (to_dir, to_name) = parent_of(to, what)?;
    let target = to.root.join(&to.path);
    match nix::fcntl::renameat2(
        &from_dir,
        from_name.as_os_str(),
        &to_dir,
        to_name.as_os_str(),
        nix::fcntl::RenameFlags::RENAME_NOREPLACE,
    ) {
        Ok(()) => {}
        // Here EXDEV is two file systems, not a path out.
        Err(Errno::EXDEV) => {
            return Err(FileError::new(
                FileErrorKind::Invalid,
                format!("{what}: {} is on another file system; copy it instead", target.display()),
            ));
        }
        Err(e) => return Err(errno_error(e, what, &target)),
    }
    let st = fstatat(&to_dir, to_name.as_os_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| errno_error(e, what, &target))?;
    Ok(HelperReply::Entry(entry_of(to_name.to_string_lossy().into_owned(), &st)))
}

// ---- the server's side ----

/// Starts helpers: `exe files-helper`, killed at `deadline`.
#[derive(Debug, Clone)]
pub struct FileHelper {
    exe: PathBuf,
    /// For everything but the content of a transfer.
    deadline: Duration,
}

/// A download under way: its head, then its bytes from `child`'s stdout.
pub struct Download {
    pub size: u64,
    pub offset: u64,
    pub length: u64,
    pub content: tokio::io::BufReader<tokio::process::ChildStdout>,
    /// Killed when the download is dropped.
    pub child: tokio::process::Child,
}

impl FileHelper {
    pub fn new(exe: PathBuf, deadline: Duration) -> FileHelper {
        FileHelper { exe, deadline }
    }

    fn spawn(&self) -> Result<tokio::process::Child, FileError> {
        let child = tokio::process::Command::new(&self.exe)
            .arg(HELPER_ARG)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .env_clear()
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| FileError::new(FileErrorKind::Failed, format!("cannot start the file helper: {err}")))?;
        // Wider pipes than the 64 KiB default: fewer wake-ups per transfer
        // (the kernel may give less; then the default stays).
        let size = i32::try_from(TRANSFER_BUFFER).unwrap_or(i32::MAX);
        if let Some(stdin) = &child.stdin {
            let _ = nix::fcntl::fcntl(stdin, nix::fcntl::FcntlArg::F_SETPIPE_SZ(size));
        }
        if let Some(stdout) = &child.stdout {
            let _ = nix::fcntl::fcntl(stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(size));
        }
        Ok(child)
    }

    /// One operation with a reply and no content (everything but a
    /// transfer).
    pub async fn call(&self, identity: &Identity, op: FileOp) -> Result<HelperReply, FileError> {
        let request = HelperRequest { identity: identity.clone(), op };
        let mut child = self.spawn()?;
        let work = async {
            send_request(&mut child, &request).await?;
            drop(child.stdin.take());
            let mut out = tokio::io::BufReader::new(child.stdout.take().ok_or_else(lost)?);
            read_reply(&mut out).await
        };
        let reply = tokio::time::timeout(self.deadline, work).await.map_err(|_| self.too_slow())??;
        let _ = child.wait().await;
        match reply {
            HelperReply::Failed(err) => Err(err),
            reply => Ok(reply),
        }
    }

    /// Starts a download; its content is read from the returned reader.
    pub async fn read(
        &self,
        identity: &Identity,
        place: Place,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Download, FileError> {
        let request = HelperRequest { identity: identity.clone(), op: FileOp::Read { place, offset, length } };
        let mut child = self.spawn()?;
        let head = async {
            send_request(&mut child, &request).await?;
            drop(child.stdin.take());
            let mut out = tokio::io::BufReader::new(child.stdout.take().ok_or_else(lost)?);
            let reply = read_reply(&mut out).await?;
            Ok::<_, FileError>((reply, out))
        };
        let (reply, content) = tokio::time::timeout(self.deadline, head).await.map_err(|_| self.too_slow())??;
        match reply {
            HelperReply::Reading { size, offset, length } => Ok(Download { size, offset, length, content, child }),
            HelperReply::Failed(err) => Err(err),
            other => Err(unexpected(&other)),
        }
    }

    /// Starts an upload of exactly `length` bytes (`None`: not known
    /// beforehand): [`Upload::send`] them, then [`Upload::finish`]. One that
    /// ends short, or is not finished, leaves nothing behind.
    pub async fn write(
        &self,
        identity: &Identity,
        place: Place,
        length: Option<u64>,
        overwrite: bool,
    ) -> Result<Upload, FileError> {
        let request = HelperRequest { identity: identity.clone(), op: FileOp::Write { place, length, overwrite } };
        let mut child = self.spawn()?;
        tokio::time::timeout(self.deadline, send_request(&mut child, &request))
            .await
            .map_err(|_| self.too_slow())??;
        let stdin = tokio::io::BufWriter::with_capacity(TRANSFER_BUFFER, child.stdin.take().ok_or_else(lost)?);
        Ok(Upload { stdin: Some(stdin), child, length, sent: 0, refused_at: None, deadline: self.deadline })
    }

    fn too_slow(&self) -> FileError {
        FileError::new(
            FileErrorKind::Failed,
            format!("the file system did not answer in {} s; try again later", self.deadline.as_secs()),
        )
    }
}

/// An upload under way.
pub struct Upload {
    stdin: Option<tokio::io::BufWriter<tokio::process::ChildStdin>>,
    /// Killed if the upload is dropped unfinished.
    child: tokio::process::Child,
    /// `None`: sent in frames, whole only once the empty frame is sent.
    length: Option<u64>,
    sent: u64,
    /// How much had arrived when the upload could not go on.
    refused_at: Option<u64>,
    deadline: Duration,
}

/// How much of a refused upload is still read (and dropped), so that the
/// client, still sending, gets the answer rather than a closed connection.
pub const DRAIN_AFTER_REFUSAL: u64 = 64 << 20;

impl Upload {
    /// Passes one chunk on; `false`: stop reading the sender. Once the
    /// upload cannot go on (longer than announced, or the helper stopped
    /// reading: `finish` says why), chunks are dropped up to
    /// [`DRAIN_AFTER_REFUSAL`].
    pub async fn send(&mut self, chunk: &[u8]) -> bool {
        self.sent += chunk.len() as u64;
        if let Some(at) = self.refused_at {
            return self.sent - at <= DRAIN_AFTER_REFUSAL;
        }
        if !self.pass_on(chunk).await {
            self.refused_at = Some(self.sent);
        }
        true
    }

    async fn pass_on(&mut self, chunk: &[u8]) -> bool {
        if self.length.is_some_and(|length| self.sent > length) {
            return false;
        }
        let Some(stdin) = &mut self.stdin else { return false };
        if self.length.is_some() {
            return stdin.write_all(chunk).await.is_ok();
        }
        // Frames of at most 1 MiB: a length always fits the 4 bytes.
        for frame in chunk.chunks(1 << 20) {
            let head = u32::try_from(frame.len()).unwrap_or(u32::MAX).to_be_bytes();
            if stdin.write_all(&head).await.is_err() || stdin.write_all(frame).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Ends the upload: the file as stored, or why it was not. `broken`:
    /// the sender's own reason to stop (the client went away).
    pub async fn finish(mut self, broken: Option<String>) -> Result<Entry, FileError> {
        // Whole: the empty frame says so. Closed short, or without it, the
        // helper discards what it had.
        if broken.is_none()
            && let Some(stdin) = &mut self.stdin
        {
            if self.length.is_none() {
                let _ = stdin.write_all(&[0; 4]).await;
            }
            let _ = stdin.flush().await;
        }
        drop(self.stdin.take());
        let mut out = tokio::io::BufReader::new(self.child.stdout.take().ok_or_else(lost)?);
        let reply = tokio::time::timeout(self.deadline, read_reply(&mut out)).await.map_err(|_| {
            FileError::new(FileErrorKind::Failed, "the file system did not finish the upload in time; try again later")
        })??;
        let _ = self.child.wait().await;
        if let Some(why) = broken {
            return Err(FileError::new(
                FileErrorKind::Invalid,
                format!("the upload broke off: {why}; nothing was changed"),
            ));
        }
        if let Some(length) = self.length.filter(|length| self.sent > *length) {
            return Err(FileError::new(
                FileErrorKind::Invalid,
                format!("the upload is longer than its Content-Length ({length} bytes); nothing was changed"),
            ));
        }
        match reply {
            HelperReply::Entry(entry) => Ok(entry),
            HelperReply::Failed(err) => Err(err),
            other => Err(unexpected(&other)),
        }
    }
}

fn lost() -> FileError {
    FileError::new(FileErrorKind::Failed, "the file helper's pipes were lost")
}

fn unexpected(reply: &HelperReply) -> FileError {
    FileError::new(FileErrorKind::Failed, format!("the file helper answered out of turn: {reply:?}"))
}

async fn send_request(child: &mut tokio::process::Child, request: &HelperRequest) -> Result<(), FileError> {
    let mut line = serde_json::to_vec(request)
        .map_err(|err| FileError::new(FileErrorKind::Failed, format!("cannot write the helper request: {err}")))?;
    line.push(b'\n');
    let stdin = child.stdin.as_mut().ok_or_else(lost)?;
    stdin.write_all(&line).await.map_err(|_| lost())
}

async fn read_reply(out: &mut tokio::io::BufReader<tokio::process::ChildStdout>) -> Result<HelperReply, FileError> {
    let mut line = String::new();
    out.read_line(&mut line).await.map_err(|_| lost())?;
    serde_json::from_str(&line).map_err(|_| {
        FileError::new(FileErrorKind::Failed, "the file helper ended without an answer (see the server log)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(parts: &[&[u8]], end: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for part in parts {
            out.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
            out.extend_from_slice(part);
        }
        if end {
            out.extend_from_slice(&[0; 4]);
        }
        out
    }

    #[test]
    fn an_upload_in_frames_is_whole_only_with_its_empty_frame() {
        let mut out = Vec::new();
        let whole = frames(&[b"hello ", b"world"], true);
        assert_eq!(copy_frames(&mut whole.as_slice(), &mut out).unwrap(), Some(11));
        assert_eq!(out, b"hello world");
        // The sender went away: after a frame, inside one, inside a length.
        for cut in [frames(&[b"hello "], false), whole[..8].to_vec(), whole[..2].to_vec()] {
            assert_eq!(copy_frames(&mut cut.as_slice(), &mut Vec::new()).unwrap(), None, "{cut:?}");
        }
    }

    #[test]
    fn errors_say_where_the_path_leads_and_rename_s_exdev_is_not_an_escape() {
        let outside = errno_error(Errno::EXDEV, "cannot read", Path::new("/home/a/link"));
        assert_eq!(outside.kind, FileErrorKind::Outside);
        assert!(outside.message.contains("leads outside your home"), "{outside}");
        assert_eq!(errno_error(Errno::ELOOP, "x", Path::new("/p")).kind, FileErrorKind::Outside);
        assert_eq!(errno_error(Errno::EACCES, "x", Path::new("/p")).kind, FileErrorKind::Denied);
        assert_eq!(errno_error(Errno::ENXIO, "x", Path::new("/p")).kind, FileErrorKind::NotRegular);
    }
}
