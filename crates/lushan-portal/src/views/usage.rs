//! Usage and charges.
