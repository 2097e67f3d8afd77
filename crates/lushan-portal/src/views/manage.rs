//! Managing people and money: members, grants, reviews, tenants, users, projects, wallets.
