//! The tokens slurmrestd's `rest_auth/jwt` accepts: HS256 over the
//! cluster's `jwt_hs256.key`, naming the Unix user in `sun`, as
//! `scontrol token username=U lifespan=S` mints them. Minting here (rather
//! than running `scontrol token`) lets Lushan act for each user without a
//! Slurm client on its host, and without ever asking for a root token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// A token for `user`, valid from `now_secs` for `lifespan_secs`.
pub fn mint(key: &[u8], user: &str, now_secs: i64, lifespan_secs: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({ "iat": now_secs, "exp": now_secs + lifespan_secs, "sun": user });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_the_rfc_7519_shape_signed_with_the_key() {
        let token = mint(b"secret", "alice", 1_000, 60);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims, serde_json::json!({"iat": 1000, "exp": 1060, "sun": "alice"}));
        // Another key gives another signature over the same claims.
        let other = mint(b"other", "alice", 1_000, 60);
        assert_eq!(other.rsplit_once('.').unwrap().0, token.rsplit_once('.').unwrap().0);
        assert_ne!(other, token);
        // RFC 4231 test case 2 key and data, through the same HMAC.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
