//! Static files, embedded in the binary and served under a content-hashed
//! name so that browsers may cache them for ever.

/// The portal's one stylesheet.
pub const CSS: &str = include_str!("../assets/portal.css");

/// `/static/portal-HASH.css`: the name changes whenever the file does.
pub fn css_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| format!("/static/portal-{:016x}.css", fnv1a(CSS.as_bytes())))
}

/// htmx 2.0.11 (<https://htmx.org>, Zero-Clause BSD, `assets/htmx-LICENSE`),
/// vendored from npm (`npm pack htmx.org@2.0.11`, `dist/htmx.min.js`) as it
/// is. Pages work without it; with it, a job's page follows the job.
pub const HTMX: &str = include_str!("../assets/htmx-2.0.11.min.js");

/// `/static/htmx-2.0.11-HASH.js`.
pub fn htmx_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| format!("/static/htmx-2.0.11-{:016x}.js", fnv1a(HTMX.as_bytes())))
}

/// FNV-1a: a stable hash for cache-busting names (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stylesheet_s_name_carries_its_hash() {
        let path = super::css_path();
        assert!(path.starts_with("/static/portal-") && path.ends_with(".css") && path.len() == 15 + 16 + 4, "{path}");
        assert_ne!(super::fnv1a(b"a"), super::fnv1a(b"b"));
    }
}
