//! In-process tests of the HTTP API: one test binary, modules by theme.

mod billing;
mod busy;
mod common;
mod errors;
mod grants;
mod hostile;
mod jobs;
mod openapi;
mod portal;
mod portal_cobuilder;
mod portal_manage;
mod portal_operate;
mod portal_submit;
mod portal_usage;
mod templates;
mod tenancy;
