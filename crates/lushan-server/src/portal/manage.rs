//! Managing people and money: members, grant requests and reviews, tenants, users, projects, wallets.

pub(super) fn routes() -> Vec<super::Route> {
    vec![]
}
