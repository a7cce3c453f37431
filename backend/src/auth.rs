//! Passwords (argon2id) and opaque tokens (random, stored as sha256). The HTTP side of
//! signing in (the `Authorization: Bearer …` extractors) is in [`crate::http::extract`].

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};
use switchboard_shared::{ErrorCode, OperatorProfile};

use crate::error::Error;
use crate::store::{Store, now_ms, operators};

/// Hashes a password with argon2id, off the async runtime (it is slow on purpose).
pub async fn hash_password(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)?;
        let hash = Argon2::default().hash_password(password.as_bytes(), &salt)?;
        Ok::<_, Error>(hash.to_string())
    })
    .await?
}

/// Checks a password against its stored hash, off the async runtime.
pub async fn verify_password(password: String, hash: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)?;
        Ok::<_, Error>(
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await?
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
    store: &Store,
    token: &str,
) -> Result<(OperatorProfile, i64), Error> {
    let hash = token_hash(token);
    let (operator, expires_at) = operators::session(&store.read, &hash)
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
