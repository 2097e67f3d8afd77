//! Identifier newtypes: never pass a bare `i64` across a module boundary.

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )*};
}

id_type!(
    /// An organisation.
    TenantId,
    /// A person (or a service account) belonging to one tenant.
    UserId,
    /// The unit jobs are charged to (Slurm's "account").
    ProjectId,
    /// A personal API token.
    TokenId,
    /// One cluster with one backend.
    SiteId,
    /// A partition of a site.
    PartitionId,
    /// A node of a site.
    NodeId,
    /// A job (each array task has its own).
    JobId,
    /// A public-welfare grant (an allocation of service units).
    GrantId,
);
