//! `docs/user/sbatch.md` is generated from the option table. Regenerate with
//! `UPDATE_DOCS=1 cargo test -p lushan-sbatch --test docs`.

#[test]
fn sbatch_compatibility_table_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/user/sbatch.md");
    let generated = lushan_sbatch::options::markdown();
    if std::env::var("UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/user/sbatch.md is out of date: run `UPDATE_DOCS=1 cargo test -p lushan-sbatch --test docs`"
    );
}

#[test]
fn every_option_is_listed_once_with_its_short_form_unique() {
    let options = lushan_sbatch::options::OPTIONS;
    let mut longs: Vec<&str> = options.iter().map(|o| o.long).collect();
    let sorted = {
        let mut s = longs.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(longs, sorted, "keep OPTIONS in alphabetical order");
    longs.dedup();
    assert_eq!(longs.len(), options.len());
    let mut shorts: Vec<char> = options.iter().filter_map(|o| o.short).collect();
    let n = shorts.len();
    shorts.sort_unstable();
    shorts.dedup();
    assert_eq!(shorts.len(), n, "a short option is used twice");
    // Every supported option is acted on: parsing it alone never says "no handler".
    for spec in options.iter().filter(|o| o.support == lushan_sbatch::options::Support::Supported) {
        let input = lushan_sbatch::SubmitInput {
            script: Some("#!/bin/sh\n".into()),
            options: vec![format!("--{}=1", spec.long)],
            env: vec![],
        };
        if let Err(problems) = lushan_sbatch::parse(&input) {
            for p in problems {
                assert!(!p.message.contains("no handler"), "{}", p);
            }
        }
    }
}
