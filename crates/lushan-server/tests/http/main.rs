//! In-process tests of the HTTP API: one test binary, modules by theme.

mod busy;
mod common;
mod errors;
mod grants;
mod jobs;
mod openapi;
mod tenancy;
