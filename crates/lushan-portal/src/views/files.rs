//! A user's files: a directory's entries, and the forms that change them.

use super::Chrome;
use askama::Template;

/// One entry of the directory shown.
pub struct FileRow {
    pub name: String,
    /// `/files?path=...` for a directory, `/files/download?path=...` for a file.
    pub link: String,
    /// The full path, for the remove form.
    pub path: String,
    pub directory: bool,
    /// In the page's language.
    pub kind: String,
    pub size: String,
    pub modified: String,
    pub mode: String,
}

/// A directory the user may reach, as a link.
pub struct RootLink {
    pub path: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "files.html")]
pub struct FilesPage {
    pub chrome: Chrome,
    /// The directory shown.
    pub path: String,
    /// Its parent's link, when the parent is still one of the user's.
    pub up: Option<String>,
    pub roots: Vec<RootLink>,
    pub rows: Vec<FileRow>,
    pub truncated: bool,
    pub notice: Option<String>,
    pub problem: Option<String>,
    /// The submit page with this directory as the job's.
    pub submit_link: String,
}
