//! Sectors, platform roles, project roles and object status: closed sets whose
//! `Display` is the spelling used everywhere (API, CLI, tables).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`: expected one of {expected}")]
pub struct ParseEnumError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! spelled_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub const EXPECTED: &'static str = concat!($($text, " "),*);

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(ParseEnumError {
                        what: $what,
                        value: s.chars().take(64).collect(),
                        expected: Self::EXPECTED.trim_end(),
                    }),
                }
            }
        }
    };
}

spelled_enum!(
    /// The kind of organisation a tenant is; usage is reported by sector.
    Sector, "sector" {
        University => "university",
        Institute => "institute",
        Enterprise => "enterprise",
        Government => "government",
        School => "school",
        Centre => "centre",
    }
);

spelled_enum!(
    /// A user's platform-wide role. Project roles (PI, manager) are separate.
    Role, "role" {
        Operator => "operator",
        TenantAdmin => "tenant-admin",
        Reviewer => "reviewer",
        Member => "member",
    }
);

spelled_enum!(
    /// A user's role inside one project.
    ProjectRole, "project role" {
        Pi => "pi",
        Manager => "manager",
        Member => "member",
    }
);

spelled_enum!(
    /// Objects with history are disabled, never deleted.
    Status, "status" {
        Active => "active",
        Disabled => "disabled",
    }
);

impl ProjectRole {
    /// PIs and managers manage the project's members.
    pub fn manages_members(self) -> bool {
        matches!(self, ProjectRole::Pi | ProjectRole::Manager)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips() {
        for sector in Sector::ALL {
            assert_eq!(sector.as_str().parse::<Sector>(), Ok(*sector));
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        for role in ProjectRole::ALL {
            assert_eq!(role.as_str().parse::<ProjectRole>(), Ok(*role));
        }
    }

    #[test]
    fn unknown_spelling_lists_the_choices() {
        let err = "company".parse::<Sector>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown sector `company`: expected one of university institute enterprise government school centre"
        );
    }
}
