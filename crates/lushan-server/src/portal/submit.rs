//! Composing a job (a script, or a form from a template), its quote, and submitting it.

pub(super) fn routes() -> Vec<super::Route> {
    vec![]
}
