//! Operator sign-in and sign-out.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use switchboard_shared::{ErrorCode, LoginRequest, LoginResponse};

use super::{Body, Operator};
use crate::auth::{new_token, token_hash, verify_password};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{now_ms, operators};

/// `/api/auth/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
}

async fn login(
    State(state): State<AppState>,
    Body(req): Body<LoginRequest>,
) -> Result<Json<LoginResponse>, Error> {
    let refused = || Error::client(ErrorCode::Unauthorized, "wrong e-mail or password");
    let email = req.email.trim().to_lowercase();
    let record = operators::by_email(&state.store.read, &email)
        .await?
        .ok_or_else(refused)?;
    if !verify_password(req.password, record.password_hash).await? {
        return Err(refused());
    }
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
