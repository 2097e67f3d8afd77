//! Checks that keep the architecture honest (ARCHITECTURE.md, "Invariants"),
//! run by `cargo test` or alone with `cargo tidy`. Each returns a list of
//! problems, each naming the file and what to do.

pub mod tidy;

use std::path::PathBuf;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
