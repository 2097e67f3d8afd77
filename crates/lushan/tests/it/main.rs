//! The one integration-test binary: the real `lushan` binary, started on
//! port 0 in a temporary directory, driven through its CLI.

mod accounts;
mod billing;
mod browser;
mod files;
mod harness;
mod hostile;
mod jobs;
mod machine;
mod portal;
mod portal_cobuilder;
mod portal_manage;
mod portal_operate;
mod portal_submit;
mod portal_usage;
mod selection;
mod simulate;
mod slurm;
mod tour;
