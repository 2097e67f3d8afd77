//! Names of tenants, users, projects, sites and partitions.
//!
//! Names follow Slurm's account and partition naming so that every object maps
//! to Slurm unchanged later (the Slurm backend syncs projects to accounts):
//! lower-case ASCII letters, digits, `-` and `_`, starting with a letter, at
//! most 32 characters (the Unix user-name limit, the tightest of the targets).

use std::fmt;

/// What a name names; used in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Tenant,
    User,
    Project,
    Site,
    Partition,
    Token,
    UnixAccount,
    Template,
}

impl NameKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Tenant => "tenant",
            NameKind::User => "user",
            NameKind::Project => "project",
            NameKind::Site => "site",
            NameKind::Partition => "partition",
            NameKind::Token => "token",
            NameKind::UnixAccount => "unix account",
            NameKind::Template => "template",
        }
    }
}

/// Longest accepted name.
pub const MAX_NAME_LEN: usize = 32;

/// A validated name. The only way to build one is [`Name::parse`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {} name `{value}`: {reason}", kind.as_str())]
pub struct NameError {
    pub kind: NameKind,
    pub value: String,
    pub reason: &'static str,
}

impl Name {
    pub fn parse(kind: NameKind, value: &str) -> Result<Name, NameError> {
        let err = |reason| NameError { kind, value: value.chars().take(64).collect(), reason };
        let Some(first) = value.chars().next() else {
            return Err(err("a name cannot be empty"));
        };
        if value.len() > MAX_NAME_LEN {
            return Err(err("a name has at most 32 characters"));
        }
        if !first.is_ascii_lowercase() {
            return Err(err("a name starts with a lower-case letter (a-z)"));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !value.chars().all(allowed) {
            return Err(err("use only lower-case letters, digits, `-` and `_`"));
        }
        Ok(Name(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_slurm_account_rules() {
        let cases = [
            ("jxu", true),
            ("cfd-lab", true),
            ("a_1", true),
            ("", false),
            ("1lab", false),
            ("Lab", false),
            ("cfd lab", false),
            ("cfd.lab", false),
            ("计算", false),
            ("abcdefghijabcdefghijabcdefghijab", true),
            ("abcdefghijabcdefghijabcdefghijabc", false),
        ];
        for (input, ok) in cases {
            assert_eq!(Name::parse(NameKind::Project, input).is_ok(), ok, "{input:?}");
        }
    }

    #[test]
    fn error_names_the_kind_and_value() {
        let err = Name::parse(NameKind::Tenant, "Bad").unwrap_err();
        assert_eq!(err.to_string(), "invalid tenant name `Bad`: a name starts with a lower-case letter (a-z)");
    }
}
