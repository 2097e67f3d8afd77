//! Usage and charges: by month, with SVG charts and CSV.

pub(super) fn routes() -> Vec<super::Route> {
    vec![]
}
