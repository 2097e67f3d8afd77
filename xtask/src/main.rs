//! Project chores. `cargo xtask tidy` runs the same checks as
//! `xtask/tests/tidy.rs` (which `cargo test` runs).

fn main() {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "tidy" => {
            let problems = xtask::tidy::check_all(&xtask::workspace_root());
            if problems.is_empty() {
                println!("tidy: ok");
            } else {
                for problem in &problems {
                    eprintln!("{problem}");
                }
                std::process::exit(1);
            }
        }
        _ => {
            eprintln!("usage: cargo xtask tidy");
            std::process::exit(2);
        }
    }
}
