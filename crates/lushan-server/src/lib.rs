//! The running platform: use cases with their authorization (`service`), the
//! HTTP API (`http`), the web portal (`portal`), configuration, first-start bootstrap and metrics.
//!
//! **Boundary:** handlers in `http` are thin: they extract typed input, call
//! one `service` function and convert the result with `http::to_api`. Business
//! rules live in `service` (and, as they grow, in the pure crates); SQL lives
//! only in `lushan-store`.

pub mod clock;
pub mod config;
pub mod control;
pub mod http;
pub mod machine;
pub mod metrics;
pub mod portal;
pub mod service;
pub mod startup;
pub mod unix_accounts;
