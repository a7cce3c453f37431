//! The operator's HTTP API (the live part is the WebSocket in [`crate::ws::operator`]).

use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_shared::{
    ChatEvent, ChatId, ErrorCode, OfflineMessage, OperatorProfile, SetStatusRequest,
};

use super::Body;
use crate::AppState;
use crate::auth::Operator;
use crate::error::Error;
use crate::store::{chats, visitors};

/// `/api/operator/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/operator/me", get(me))
        .route("/api/operator/status", put(set_status))
        .route("/api/operator/chats/{id}/events", get(events))
        .route("/api/operator/offline-messages", get(offline_messages))
}

async fn me(op: Operator) -> Json<OperatorProfile> {
    Json(op.profile)
}

async fn set_status(
    State(state): State<AppState>,
    op: Operator,
    Body(req): Body<SetStatusRequest>,
) -> Result<Json<OperatorProfile>, Error> {
    Ok(Json(
        state
            .chats
            .set_available(op.profile.id, req.available)
            .await?,
    ))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

/// A chat's history after a `seq`. Operators see chats that are ringing, queued, or theirs.
async fn events(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<i64>,
    Query(q): Query<After>,
) -> Result<Json<Vec<ChatEvent>>, Error> {
    let chat = chats::get_from(&state.store.read, ChatId(id))
        .await?
        .ok_or_else(|| Error::not_found("chat"))?;
    let mine = chat
        .operator
        .as_ref()
        .is_some_and(|o| o.id == op.profile.id);
    let open_to_all = matches!(
        chat.status,
        switchboard_shared::ChatStatus::Waiting | switchboard_shared::ChatStatus::Queued
    );
    if !mine && !open_to_all && !op.profile.is_admin {
        return Err(Error::client(
            ErrorCode::Forbidden,
            "this chat belongs to another operator",
        ));
    }
    Ok(Json(
        chats::events_after(&state.store.read, chat.id, q.after, 1000).await?,
    ))
}

async fn offline_messages(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<Vec<OfflineMessage>>, Error> {
    Ok(Json(
        visitors::offline_messages(&state.store.read, 500).await?,
    ))
}
