//! Personal API tokens: a user manages only their own.

use super::auth::{expiry_from, generate_token, hash_token};
use super::{Caller, ServiceError, Services, audit_by};
use lushan_model::{Name, NameKind, TokenId};
use lushan_store::{NewToken, TokenRecord};

impl Services {
    /// Creates a token for the caller; returns the secret, shown once.
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        expires_in: Option<&str>,
        now: i64,
    ) -> Result<(String, TokenRecord), ServiceError> {
        let name = Name::parse(NameKind::Token, name)?;
        let expires_at = match expires_in {
            Some(text) => Some(expiry_from(now, text)?),
            None => None,
        };
        let secret = generate_token();
        let token_hash = hash_token(&secret);
        let new = NewToken {
            user_id: caller.user_id(),
            name: name.as_str(),
            token_hash: &token_hash,
            created_at: now,
            expires_at,
        };
        let mut audit = audit_by(caller, now, "token.create", "token", name.as_str());
        audit.tenant_id = Some(caller.tenant_id());
        let token = self.store.create_token(&new, &audit).await?;
        Ok((secret, token))
    }

    pub async fn list_tokens(&self, caller: &Caller) -> Result<Vec<TokenRecord>, ServiceError> {
        Ok(self.store.list_tokens(caller.user_id()).await?)
    }

    /// Which of the caller's tokens `secret` is (the portal's session, to
    /// mark it in the list); `None` if it is not one of theirs.
    pub async fn token_id_of(&self, caller: &Caller, secret: &str) -> Result<Option<TokenId>, ServiceError> {
        Ok(self
            .store
            .token_by_hash(&hash_token(secret))
            .await?
            .filter(|(_, user)| user.id == caller.user_id())
            .map(|(token, _)| token.id))
    }

    pub async fn revoke_token(&self, caller: &Caller, id: i64, now: i64) -> Result<TokenRecord, ServiceError> {
        let mut audit = audit_by(caller, now, "token.revoke", "token", &id.to_string());
        audit.tenant_id = Some(caller.tenant_id());
        Ok(self.store.revoke_token(caller.user_id(), TokenId(id), now, &audit).await?)
    }
}
