//! The signed-in user's profile: password, language, API tokens.

pub(super) fn routes() -> Vec<super::Route> {
    vec![]
}
