//! The web portal's presentation: compiled, auto-escaping templates
//! (askama, `templates/`), the message catalogue in Chinese and English
//! (`i18n`), the view models the templates read (`views`) and the static
//! files (`assets`). It holds no rule and reads no data: `lushan-server`'s
//! `portal` module calls the same services as the API and fills these.
//! Templates live in a crate of their own so that editing one rebuilds
//! only this crate.

pub mod assets;
pub mod chart;
pub mod i18n;
pub mod views;

/// What the portal module needs to render a page: the trait and its error.
pub use askama::{Error as RenderError, Template};
