//! Passwords (argon2id), opaque tokens (random, stored as sha256), and the extractors that
//! turn an `Authorization: Bearer …` header into an operator or an admin.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;
use sha2::{Digest, Sha256};
use switchboard_shared::{ErrorCode, OperatorProfile};

use crate::AppState;
use crate::error::Error;
use crate::store::{now_ms, operators};

/// Hashes a password with argon2id, off the async runtime (it is slow on purpose).
pub async fn hash_password(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// Checks a password against its stored hash, off the async runtime.
pub async fn verify_password(password: String, hash: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// A fresh random token (256 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks a password's length rules.
pub fn check_password_rules(password: &str) -> Result<(), Error> {
    let n = password.chars().count();
    if !(8..=256).contains(&n) {
        return Err(Error::invalid("passwords must be 8 to 256 characters"));
    }
    Ok(())
}

/// Resolves a token to its operator; expired and unknown tokens are refused.
pub async fn operator_for_token(
    state: &AppState,
    token: &str,
) -> Result<(OperatorProfile, i64), Error> {
    let hash = token_hash(token);
    let (operator, expires_at) = operators::session(&state.store.read, &hash)
        .await?
        .ok_or_else(|| Error::client(ErrorCode::Unauthorized, "unknown token: sign in again"))?;
    if expires_at <= now_ms() {
        return Err(Error::client(
            ErrorCode::TokenExpired,
            "the session has expired: sign in again",
        ));
    }
    Ok((operator, expires_at))
}

/// A signed-in operator (from `Authorization: Bearer <token>`).
pub struct Operator {
    /// Who.
    pub profile: OperatorProfile,
    /// The token they used.
    pub token: String,
}

/// A signed-in admin.
pub struct Admin(pub OperatorProfile);

impl FromRequestParts<AppState> for Operator {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::client(ErrorCode::Unauthorized, "missing bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| Error::client(ErrorCode::Unauthorized, "expected a bearer token"))?
            .trim()
            .to_owned();
        let (profile, _) = operator_for_token(state, &token).await?;
        Ok(Operator { profile, token })
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let op = Operator::from_request_parts(parts, state).await?;
        if !op.profile.is_admin {
            return Err(Error::client(ErrorCode::Forbidden, "admins only"));
        }
        Ok(Admin(op.profile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_and_hashes_are_argon2id() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse".into(), hash).await.unwrap());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
