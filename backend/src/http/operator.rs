//! The operator's HTTP API (the live part is the WebSocket in [`crate::ws::operator`]).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_shared::{
    CannedId, CannedMessage, ChatEvent, ChatId, ErrorCode, HistoryPage, MAX_HISTORY_PAGE,
    MAX_NAME_CHARS, OfflineMessage, OfflineMessageId, OfflineReadRequest, OfflineReplyRequest,
    OperatorProfile, SaveCannedRequest, SetNameRequest, SetStatusRequest, VisitorId,
    VisitorProfile,
};

use super::{Body, Operator, field};
use crate::chat::audience;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{canned, chats, now_ms, operators as operator_rows, visitors};
use crate::validate::clean;

/// `/api/operator/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/operator/me", get(me).put(set_name))
        .route("/api/operator/status", put(set_status))
        .route("/api/operator/chats/{id}/events", get(events))
        .route("/api/operator/offline-messages", get(offline_messages))
        .route(
            "/api/operator/offline-messages/read",
            post(offline_messages_read),
        )
        .route(
            "/api/operator/offline-messages/{id}/reply",
            post(offline_reply),
        )
        .route("/api/operator/canned", get(list_canned).post(create_canned))
        .route(
            "/api/operator/canned/{id}",
            put(update_canned).delete(delete_canned),
        )
        .route("/api/operator/visitors/{id}", get(visitor_profile))
        .route("/api/operator/history", get(history))
}

async fn me(op: Operator) -> Json<OperatorProfile> {
    Json(op.profile)
}

/// The operator's own display name; a name that breaks the rules changes nothing.
async fn set_name(
    State(state): State<AppState>,
    op: Operator,
    Body(req): Body<SetNameRequest>,
) -> Result<Json<OperatorProfile>, Error> {
    let name = field(&req.name, "name", MAX_NAME_CHARS)?;
    let changes = operator_rows::Changes {
        name: Some(&name),
        password_hash: None,
        is_admin: None,
        ring_group: None,
    };
    // Through the chat domain: the operator's open apps are told (the name counts from their
    // next action).
    Ok(Json(
        state.chats.change_operator(op.profile.id, changes).await?,
    ))
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
    if !audience::operator_may_read(&chat, &op.profile) {
        return Err(Error::client(
            ErrorCode::Forbidden,
            "this chat belongs to another operator",
        ));
    }
    Ok(Json(
        chats::events_after(&state.store.read, chat.id, q.after, 1000).await?,
    ))
}

#[derive(Deserialize)]
struct HistoryQuery {
    before: Option<i64>,
    #[serde(default)]
    q: String,
    limit: Option<u32>,
}

/// Ended chats, newest first: the operator's own (an admin's: everyone's), searchable by
/// visitor name or message text, a page at a time.
async fn history(
    State(state): State<AppState>,
    op: Operator,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryPage>, Error> {
    let limit = query.limit.unwrap_or(30).clamp(1, MAX_HISTORY_PAGE);
    if query.q.chars().count() > 100 {
        return Err(Error::client(
            ErrorCode::TooLarge,
            "the search is over 100 characters",
        ));
    }
    clean(&query.q, "the search")?;
    let whose = (!op.profile.is_admin).then_some(op.profile.id);
    let before = query.before.map(ChatId);
    let chats = chats::history(&state.store, whose, before, &query.q, i64::from(limit)).await?;
    let next_before = match chats.len() == limit as usize {
        true => chats.last().map(|c| c.id),
        false => None,
    };
    Ok(Json(HistoryPage { chats, next_before }))
}

async fn offline_messages(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<Vec<OfflineMessage>>, Error> {
    Ok(Json(
        visitors::offline_messages(&state.store.read, 500).await?,
    ))
}

/// The operator has seen the offline messages up to one (the app's unread count).
async fn offline_messages_read(
    State(state): State<AppState>,
    op: Operator,
    Body(req): Body<OfflineReadRequest>,
) -> Result<StatusCode, Error> {
    crate::store::mail::offline_read(&state.store.write, op.profile.id, req.up_to).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Reply by mail": the answer goes to the visitor's address through the outbox.
async fn offline_reply(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<i64>,
    Body(req): Body<OfflineReplyRequest>,
) -> Result<Json<OfflineMessage>, Error> {
    let message = state
        .mail
        .reply(&op.profile, OfflineMessageId(id), &req.client_id, &req.text)
        .await?;
    Ok(Json(message))
}

async fn list_canned(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<Vec<CannedMessage>>, Error> {
    Ok(Json(canned::list(&state.store.read).await?))
}

fn canned_fields(req: &SaveCannedRequest) -> Result<(String, String), Error> {
    Ok((
        field(&req.title, "title", 100)?,
        field(&req.text, "text", switchboard_shared::MAX_MESSAGE_CHARS)?,
    ))
}

async fn create_canned(
    State(state): State<AppState>,
    op: Operator,
    Body(req): Body<SaveCannedRequest>,
) -> Result<(StatusCode, Json<CannedMessage>), Error> {
    let (title, text) = canned_fields(&req)?;
    let msg = canned::create(&state.store.write, &title, &text, op.profile.id, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(msg)))
}

async fn update_canned(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<i64>,
    Body(req): Body<SaveCannedRequest>,
) -> Result<Json<CannedMessage>, Error> {
    let (title, text) = canned_fields(&req)?;
    canned::update(&state.store.write, CannedId(id), &title, &text, now_ms())
        .await?
        .map(Json)
        .ok_or_else(|| Error::not_found("canned message"))
}

async fn delete_canned(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<i64>,
) -> Result<StatusCode, Error> {
    if !canned::delete(&state.store.write, CannedId(id)).await? {
        return Err(Error::not_found("canned message"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The visitor's profile: pages seen, visits, earlier chats.
async fn visitor_profile(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<i64>,
) -> Result<Json<VisitorProfile>, Error> {
    let read = &state.store.read;
    let visitor = VisitorId(id);
    let record = visitors::record(read, visitor)
        .await?
        .ok_or_else(|| Error::not_found("visitor"))?;
    let chats = chats::for_visitor(read, visitor, 20).await?;
    Ok(Json(VisitorProfile {
        id: visitor,
        name: chats.iter().find_map(|c| c.visitor_name.clone()),
        current_page: record.page,
        pages: record.pages,
        visits: record.visits,
        first_seen: record.first_seen,
        last_seen: record.last_seen,
        chats,
    }))
}
