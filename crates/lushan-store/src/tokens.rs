//! Personal API tokens. Only a SHA-256 of each token is stored.

use crate::{AuditEntry, NewToken, Store, StoreError, TokenRecord, UserRecord};
use crate::{append_audit, next_id};
use lushan_model::{TokenId, UserId};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// Writes to `last_used_at` at most this often per token: a busy script would
/// otherwise turn every read request into a write.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

fn token_from_row(row: &AnyRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: TokenId(row.try_get("id")?),
        user_id: UserId(row.try_get("user_id")?),
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(crate) async fn insert_token(
    tx: &mut Transaction<'static, Any>,
    new: &NewToken<'_>,
) -> Result<TokenRecord, StoreError> {
    let id = next_id(tx, "token").await?;
    sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(new.user_id.0)
        .bind(new.name)
        .bind(new.token_hash)
        .bind(new.created_at)
        .bind(new.expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(TokenRecord {
        id: TokenId(id),
        user_id: new.user_id,
        name: new.name.to_owned(),
        created_at: new.created_at,
        expires_at: new.expires_at,
        last_used_at: None,
        revoked_at: None,
    })
}

impl Store {
    pub async fn create_token(&self, new: &NewToken<'_>, audit: &AuditEntry) -> Result<TokenRecord, StoreError> {
        let mut tx = self.begin().await?;
        let token = insert_token(&mut tx, new).await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The token with this hash and its owner, whatever their state: the
    /// caller decides whether it is expired, revoked or disabled.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<(TokenRecord, UserRecord)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let token = token_from_row(&row)?;
        let user = self.user_by_id(token.user_id).await?;
        Ok(Some((token, user)))
    }

    /// Records that the token was used at `now` (coarsely, see
    /// `LAST_USED_RESOLUTION_MS`).
    pub async fn touch_token(&self, id: TokenId, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(id.0)
        .bind(now - LAST_USED_RESOLUTION_MS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_tokens(&self, user: UserId) -> Result<Vec<TokenRecord>, StoreError> {
        let found = sqlx::query(
            "SELECT id, user_id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        found.iter().map(token_from_row).collect()
    }

    /// Revokes one of `user`'s tokens. Revoking twice is not an error and
    /// keeps the first revocation time.
    pub async fn revoke_token(
        &self,
        user: UserId,
        id: TokenId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<TokenRecord, StoreError> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT id, user_id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1 AND user_id = $2",
        )
        .bind(id.0)
        .bind(user.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound { what: "token", key: id.to_string() })?;
        let mut token = token_from_row(&row)?;
        if token.revoked_at.is_none() {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            token.revoked_at = Some(now);
            append_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(token)
    }
}
