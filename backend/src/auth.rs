//! Passwords (argon2id) and opaque tokens (random, stored as sha256). The HTTP side of
//! signing in (the `Authorization: Bearer …` extractors) is in [`crate::http::extract`].

use std::sync::OnceLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};
use switchboard_shared::{ErrorCode, OperatorProfile};
use tokio::sync::Semaphore;

use crate::error::Error;
use crate::store::{Store, now_ms, operators};

/// How long a password check may wait for its turn before the client is told to retry.
const ARGON2_WAIT: Duration = Duration::from_secs(3);

/// argon2 runs a few at a time (one per core): each holds ~19 MiB, so a flood of sign-ins
/// queues here instead of taking the server's memory.
fn argon2_turns() -> &'static Semaphore {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    TURNS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Semaphore::new(cores.clamp(1, 4))
    })
}

/// Runs argon2 work off the async runtime, when its turn comes.
async fn with_argon2<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let turn = tokio::time::timeout(ARGON2_WAIT, argon2_turns().acquire())
        .await
        .map_err(|_| Error::rate_limited(Duration::from_secs(1)))?
        .map_err(|_| Error::Internal("argon2 turns closed".into()))?;
    let result = tokio::task::spawn_blocking(work).await?;
    drop(turn);
    result
}

/// Hashes a password with argon2id, off the async runtime (it is slow on purpose).
pub async fn hash_password(password: String) -> Result<String, Error> {
    with_argon2(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)?;
        let hash = Argon2::default().hash_password(password.as_bytes(), &salt)?;
        Ok(hash.to_string())
    })
    .await
}

/// Checks a password against its stored hash, off the async runtime.
pub async fn verify_password(password: String, hash: String) -> Result<bool, Error> {
    with_argon2(move || {
        let parsed = PasswordHash::new(&hash)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

/// Checks a password for an e-mail that may not exist: an unknown one is checked against a
/// stand-in hash, so both take the same time and the answer tells nobody which e-mails exist.
pub async fn verify_login(password: String, hash: Option<String>) -> Result<bool, Error> {
    static STAND_IN: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let known = hash.is_some();
    let hash = match hash {
        Some(hash) => hash,
        None => STAND_IN
            .get_or_try_init(|| hash_password(new_token()))
            .await?
            .clone(),
    };
    Ok(verify_password(password, hash).await? && known)
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
