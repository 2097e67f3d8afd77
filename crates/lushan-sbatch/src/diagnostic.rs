//! Errors and warnings, each saying where, which option and which value.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Where a setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `#SBATCH` line of the script (1-based).
    Line(usize),
    /// The command line.
    CommandLine,
    /// An `SBATCH_*` input variable.
    Env(String),
    /// The script as a whole (e.g. no `#!` line).
    Script,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub origin: Origin,
    /// The option as written (`--time`, `-n`), empty when none applies.
    pub option: String,
    pub value: Option<String>,
    pub message: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line(n) => write!(f, "line {n}"),
            Origin::CommandLine => f.write_str("command line"),
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::Script => f.write_str("script"),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{kind}: {}", self.origin)?;
        if !self.option.is_empty() {
            write!(f, ": {}", self.option)?;
            if let Some(value) = &self.value {
                write!(f, "={value}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}
