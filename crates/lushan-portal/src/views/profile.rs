//! The signed-in user's profile.

use super::{Choice, Chrome};
use askama::Template;

/// One of the user's API tokens.
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    /// `active`, `expired`, `revoked` (for the CSS class).
    pub state: String,
    /// In the page's language.
    pub state_text: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    /// The token this portal session signed in with.
    pub current: bool,
}

impl TokenRow {
    pub fn active(&self) -> bool {
        self.state == "active"
    }

    pub fn state_class(&self) -> String {
        format!("state token-{}", self.state)
    }
}

/// What went wrong with the password form, beside each field.
#[derive(Default)]
pub struct PasswordErrors {
    pub current: Option<String>,
    pub new: Option<String>,
    pub repeat: Option<String>,
}

impl PasswordErrors {
    pub fn any(&self) -> bool {
        self.current.is_some() || self.new.is_some() || self.repeat.is_some()
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub chrome: Chrome,
    pub user_name: String,
    pub display_name: String,
    pub tenant: String,
    pub role: String,
    /// What was just done (`password`, `language`, ...), in words.
    pub notice: Option<String>,
    pub password: PasswordErrors,
    pub languages: Vec<Choice>,
    pub tokens: Vec<TokenRow>,
    pub expiries: Vec<Choice>,
    /// The name typed for a new token, kept when it was refused.
    pub token_name: String,
    pub token_error: Option<String>,
}

#[derive(Template)]
#[template(path = "token_created.html")]
pub struct TokenCreatedPage {
    pub chrome: Chrome,
    pub name: String,
    pub secret: String,
    /// This server's address, for `LUSHAN_URL`.
    pub url: String,
    pub expires: String,
}
