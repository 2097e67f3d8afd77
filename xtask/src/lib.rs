//! Checks that keep the architecture honest (see ARCHITECTURE.md,
//! "Invariants"). Each returns a list of problems, each naming the file and
//! what to do.

pub mod tidy;

use std::path::PathBuf;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
