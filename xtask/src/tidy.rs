//! The tidy checks: I1 (pure crates do no IO), I3 (SQL only in the store),
//! I4 (serde derives only on the wire), I8 (no store in the HTTP layer),
//! and house rules (module docs, no `#[ignore]`, no `#[should_panic]`).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates that must stay pure: no IO, no clock, no randomness.
pub const PURE_CRATES: &[&str] = &["lushan-model", "lushan-sbatch", "lushan-scheduler", "lushan-sim", "lushan-ledger"];

/// Dependencies that mean IO; a pure crate must not reach them.
const IO_CRATES: &[&str] = &["tokio", "sqlx", "axum", "hyper", "reqwest", "nix", "mio"];

/// Patterns a pure crate's source must not contain. Split so that this file
/// does not match itself.
fn impure_patterns() -> Vec<String> {
    ["Instant::", "SystemTime::", "std::fs", "std::net", "std::process", "thread_rng", "rand::", "std::env"]
        .iter()
        .map(|p| p.to_string())
        .collect()
}

pub fn check_all(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    problems.extend(pure_crates_reach_no_io(root));
    problems.extend(source_rules(root));
    problems
}

/// I1, by the dependency graph (`cargo metadata`), normal dependencies only.
pub fn pure_crates_reach_no_io(root: &Path) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let mut names = HashMap::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        names
            .insert(package["id"].as_str().unwrap_or("").to_owned(), package["name"].as_str().unwrap_or("").to_owned());
    }
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    for node in metadata["resolve"]["nodes"].as_array().into_iter().flatten() {
        let id = node["id"].as_str().unwrap_or("").to_owned();
        let normal = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|dep| dep["dep_kinds"].as_array().into_iter().flatten().any(|kind| kind["kind"].is_null()));
        edges.insert(id, normal.map(|dep| dep["pkg"].as_str().unwrap_or("").to_owned()).collect());
    }
    let mut problems = Vec::new();
    for pure in PURE_CRATES {
        let Some(start) = names.iter().find(|(_, name)| name == pure).map(|(id, _)| id.clone()) else {
            problems.push(format!(
                "I1: pure crate {pure} is not in the workspace; update PURE_CRATES in xtask/src/tidy.rs"
            ));
            continue;
        };
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            stack.extend(edges.get(&id).cloned().unwrap_or_default());
        }
        for id in seen {
            let name = names.get(&id).cloned().unwrap_or_default();
            if IO_CRATES.contains(&name.as_str()) {
                problems.push(format!("I1: pure crate {pure} depends on {name}; move the IO to an edge crate"));
            }
        }
    }
    problems
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Grep-level rules over every Rust file of the workspace.
pub fn source_rules(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("xtask"), &mut files);
    let sql_marker = format!("{}::", "sqlx");
    let query_macro = format!("{}!(", "query");
    let derive_serde = ["Serialize", "Deserialize"];
    let ignore_attr = format!("#[{}", "ignore");
    let should_panic = format!("#[{}", "should_panic");
    let store_import = format!("{}::", "lushan_store");
    // Files allowed to derive serde outside lushan-api, and why.
    let serde_allowed = [
        "crates/lushan-server/src/config.rs",       // the config file is read, not served
        "crates/lushan-backend/src/slurm/v0038.rs", // slurmrestd's wire, Slurm's API: read, not served
        "crates/lushan-backend/src/files.rs",       // the server and its own file helper process, one binary
    ];
    let mut problems = Vec::new();
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        let rel = rel.trim_start_matches("./").to_owned();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let in_crate = |name: &str| rel.starts_with(&format!("crates/{name}/"));
        if rel.contains("/src/") && !text.starts_with("//!") {
            problems.push(format!("{rel}: start the file with a `//!` comment saying what it is for"));
        }
        if !rel.starts_with("xtask/") && (text.contains(&ignore_attr) || text.contains(&should_panic)) {
            problems
                .push(format!("{rel}: no #[ignore] or #[should_panic]; gate slow tests by environment, match on Err"));
        }
        if !in_crate("lushan-store") && (text.contains(&sql_marker) || text.contains(&query_macro)) {
            problems.push(format!("{rel}: I3: SQL belongs in lushan-store"));
        }
        if !in_crate("lushan-api") && !serde_allowed.contains(&rel.as_str()) && !rel.contains("/tests/") {
            for line in text.lines().filter(|l| l.trim_start().starts_with("#[derive(")) {
                if derive_serde.iter().any(|d| line.contains(d)) {
                    problems.push(format!("{rel}: I4: wire types derive serde in lushan-api only: {}", line.trim()));
                }
            }
        }
        let faces = ["crates/lushan-server/src/http/", "crates/lushan-server/src/portal/", "crates/lushan-portal/"];
        if faces.iter().any(|face| rel.starts_with(face)) && text.contains(&store_import) {
            problems.push(format!(
                "{rel}: I8: the API and the portal reach data through service functions, not lushan_store"
            ));
        }
        for pure in PURE_CRATES {
            if in_crate(pure) && rel.contains("/src/") {
                for pattern in impure_patterns() {
                    if text.contains(&pattern) {
                        problems
                            .push(format!("{rel}: I1: pure crate uses `{pattern}`; pass time, randomness and data in"));
                    }
                }
            }
        }
    }
    problems
}
