//! Who is asking. A `Caller` is minted only by [`super::Services::authenticate`]
//! (its fields are private and it has no public constructor), and every
//! service function that touches tenant data takes one: no handler can reach
//! tenant data without having authenticated.

use lushan_model::{Role, TenantId, UserId};

#[derive(Clone, Debug)]
pub struct Caller {
    user_id: UserId,
    user_name: String,
    tenant_id: TenantId,
    tenant_name: String,
    role: Role,
}

impl Caller {
    pub(super) fn new(
        user_id: UserId,
        user_name: String,
        tenant_id: TenantId,
        tenant_name: String,
        role: Role,
    ) -> Caller {
        Caller { user_id, user_name, tenant_id, tenant_name, role }
    }

    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    pub fn tenant_name(&self) -> &str {
        &self.tenant_name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// Operators administer every tenant; tenant admins their own.
    pub fn administers(&self, tenant: TenantId) -> bool {
        self.is_operator() || (self.role == Role::TenantAdmin && self.tenant_id == tenant)
    }

    /// Operators see every tenant; everyone else only their own.
    pub fn sees_tenant(&self, tenant: TenantId) -> bool {
        self.is_operator() || self.tenant_id == tenant
    }
}
