//! Wire types to domain types.

use lushan_api as api;
use lushan_model::{ProjectRole, Role, Sector};

pub fn sector(s: api::Sector) -> Sector {
    match s {
        api::Sector::University => Sector::University,
        api::Sector::Institute => Sector::Institute,
        api::Sector::Enterprise => Sector::Enterprise,
        api::Sector::Government => Sector::Government,
        api::Sector::School => Sector::School,
        api::Sector::Centre => Sector::Centre,
    }
}

pub fn role(r: api::Role) -> Role {
    match r {
        api::Role::Operator => Role::Operator,
        api::Role::TenantAdmin => Role::TenantAdmin,
        api::Role::Reviewer => Role::Reviewer,
        api::Role::Member => Role::Member,
    }
}

pub fn member_role(r: api::MemberRole) -> ProjectRole {
    match r {
        api::MemberRole::Manager => ProjectRole::Manager,
        api::MemberRole::Member => ProjectRole::Member,
    }
}
