//! One parser for `#SBATCH` directives, sbatch command-line options and
//! `SBATCH_*` input variables, as sbatch reads them:
//!
//! - only `#SBATCH` lines before the first command are read;
//! - the line is split as the shell would (quotes, backslashes), and `#`
//!   after a blank starts a comment;
//! - later settings win: script directives, then `SBATCH_*` variables, then
//!   the command line;
//! - long options may be abbreviated to any unambiguous prefix.
//!
//! Every problem is reported with where it came from (line number, command
//! line or variable), the option and the bad value; options Lushan accepts
//! but does not act on give warnings. The table of every sbatch option and
//! what Lushan does with it is [`options::OPTIONS`]; `docs/user/sbatch.md`
//! is generated from it.
//!
//! **Invariant:** pure: no IO, no clock. `--begin` is returned unresolved.

pub mod compose;
mod diagnostic;
pub mod options;
mod pattern;
mod script;
mod values;

pub use compose::{Field, FieldError, JobForm};
pub use diagnostic::{Diagnostic, Origin, Severity};
pub use pattern::{PatternContext, expand_pattern};
pub use script::{SplitCommandLine, split_command_line};
pub use values::{MAX_ARRAY_ID, parse_array, parse_dependency, parse_job_ref, parse_slurm_time};

use lushan_model::JobRequest;

/// What a submission brings.
#[derive(Clone, Debug, Default)]
pub struct SubmitInput {
    /// The batch script's text; `None` with `--wrap`.
    pub script: Option<String>,
    /// sbatch options from the command line, as separate tokens
    /// (`["-n", "4", "--time=10"]`), before the script name.
    pub options: Vec<String>,
    /// The submitter's `SBATCH_*` variables.
    pub env: Vec<(String, String)>,
}

/// A parsed submission: the request, the script to run, and warnings.
#[derive(Clone, Debug)]
pub struct Parsed {
    pub request: JobRequest,
    /// The script to run: the one given, or one made from `--wrap`.
    pub script: String,
    pub warnings: Vec<Diagnostic>,
}

/// Parses a submission; on error, returns every error found (and the
/// warnings too, so the user sees all of it at once).
pub fn parse(input: &SubmitInput) -> Result<Parsed, Vec<Diagnostic>> {
    script::parse(input)
}
