//! Site backends. `local` runs jobs on this machine: each job under its own
//! supervisor process (`lushan exec-job DIR`, see [`local::run_supervisor`])
//! that outlives the server, enforces the job's limits and writes how the job
//! ended into the job's directory. The server only launches, polls and
//! cancels through [`local::LocalBackend`]. `slurm` forwards jobs to a
//! Slurm cluster through slurmrestd ([`slurm::SlurmSite`]).
//!
//! **Boundary:** the only crate that starts processes and sends signals.

pub mod cgroup;
pub mod files;
pub mod local;
mod procfs;
pub mod slurm;
pub mod srun;

pub use local::{JobProgress, LaunchSpec, LocalBackend, Outcome, RunAs};

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot prepare the job directory {path}: {source}")]
    JobDir { path: String, source: std::io::Error },
    #[error("cannot start the job supervisor: {0}")]
    Spawn(std::io::Error),
}
