//! Managing people and money: members, grant requests and reviews, tenants, users, projects, wallets.

super::catalogue! {
    sections {}
    title: "管理", "Manage";
}
