//! Reading the traces kept in the repository's `traces/` folder.

use std::io::Read;
use std::path::PathBuf;

pub fn traces_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../traces")
}

/// A trace's text; `name` may omit the `.gz` the repository stores it with.
pub fn read_trace(name: &str) -> String {
    let dir = traces_dir();
    let plain = dir.join(name);
    let gz = if name.ends_with(".gz") { plain.clone() } else { dir.join(format!("{name}.gz")) };
    let path = if gz.exists() { gz } else { plain };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_string(&mut text).expect("gzip");
        text
    } else {
        String::from_utf8(bytes).expect("utf-8")
    }
}
