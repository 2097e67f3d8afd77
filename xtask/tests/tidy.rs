//! `cargo test` runs the tidy checks: a broken invariant fails the build.

use xtask::tidy;

#[test]
fn pure_crates_reach_no_io_crate() {
    let problems = tidy::pure_crates_reach_no_io(&xtask::workspace_root());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn source_follows_the_house_rules() {
    let problems = tidy::source_rules(&xtask::workspace_root());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checks_catch_what_they_claim_to() {
    // A fake workspace with one violation of each rule must be reported.
    let dir = tempfile_dir();
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "crates/lushan-model/src/lib.rs",
        &format!("//! x\nfn f() {{ let _ = std::time::{}now(); }}\n", "SystemTime::"),
    );
    write("crates/lushan-server/src/http/x.rs", &format!("//! x\nuse {}::Store;\n", "lushan_store"));
    write("crates/lushan-server/src/y.rs", &format!("//! y\nfn q() {{ {}::query(\"SELECT 1\"); }}\n", "sqlx"));
    write("crates/lushan-server/src/z.rs", &format!("no doc\n#[derive(Debug, serde::{})]\nstruct Z;\n", "Serialize"));
    write("crates/lushan/tests/t.rs", &format!("//! t\n#[{}]\nfn t() {{}}\n", "ignore"));
    let problems = tidy::source_rules(&dir).join("\n");
    for needle in ["I1: pure crate uses", "I8:", "I3:", "I4:", "`//!`", "#[ignore]"] {
        assert!(problems.contains(needle), "{needle} not reported in:\n{problems}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lushan-tidy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
