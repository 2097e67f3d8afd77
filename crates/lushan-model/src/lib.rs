//! The vocabulary of Lushan: identifiers, names, sectors, roles and durations.
//!
//! **Invariant:** this crate is pure. It does no IO, reads no clock and knows no
//! wire format (no serde): `lushan-api` owns the wire, `lushan-store` the tables.
//! `xtask/tests/tidy.rs` enforces it.

mod duration;
mod ids;
mod job;
mod money;
mod name;
mod roles;
mod state;

pub use duration::{DurationError, format_elapsed, parse_duration_secs};
pub use ids::{GrantId, JobId, NodeId, PartitionId, ProjectId, SiteId, TenantId, TokenId, UserId};
pub use job::{
    ArraySpec, BeginSpec, Dependency, DependencyCondition, Export, GpuRequest, JobRef, JobRequest, MemRequest,
    OpenMode, TimeLimit, reaches_job,
};
pub use money::{AmountError, BasisPoints, Money, Rate};
pub use name::{Name, NameError, NameKind};
pub use roles::{ParseEnumError, ProjectRole, Role, Sector, Status};
pub use state::{JobState, PendingReason};
