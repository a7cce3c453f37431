//! Operator sign-in and sign-out.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use switchboard_shared::{ErrorCode, LoginRequest, LoginResponse};

use super::{Body, Operator, Peer};
use crate::auth::{new_token, token_hash, verify_login};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{now_ms, operators};
use crate::validate::clean;

/// `/api/auth/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
}

async fn login(
    State(state): State<AppState>,
    Peer(address): Peer,
    Body(req): Body<LoginRequest>,
) -> Result<Json<LoginResponse>, Error> {
    let email = req.email.trim().to_lowercase();
    clean(&email, "e-mail")?;
    if email.chars().count() > 254 {
        return Err(Error::invalid("that is not an e-mail address"));
    }
    state.limits.login(&email, address)?;
    let record = operators::by_email(&state.store.read, &email).await?;
    let hash = record.as_ref().map(|r| r.password_hash.clone());
    let (Some(record), true) = (record, verify_login(req.password, hash).await?) else {
        return Err(Error::client(
            ErrorCode::Unauthorized,
            "wrong e-mail or password",
        ));
    };
    let token = new_token();
    let now = now_ms();
    let expires_at = now + state.config.token_ttl_secs as i64 * 1000;
    operators::create_session(
        &state.store.write,
        &token_hash(&token),
        record.profile.id,
        now,
        expires_at,
    )
    .await?;
    tracing::info!(operator = %record.profile.id, "signed in");
    Ok(Json(LoginResponse {
        token,
        expires_at,
        operator: record.profile,
    }))
}

async fn logout(
    State(state): State<AppState>,
    op: Operator,
) -> Result<axum::http::StatusCode, Error> {
    state
        .chats
        .sign_out(&op.profile, &token_hash(&op.token))
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
