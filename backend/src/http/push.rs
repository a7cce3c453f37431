//! Push over HTTP: operators register their devices, admins set the credentials and read the
//! delivery log, and notification actions answer a chat request with an action token.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_shared::{
    ChatId, DeviceId, ErrorCode, MAX_NAME_CHARS, OperatorId, PushAction, PushActionRequest,
    PushActionResponse, PushAttempt, PushDevice, PushSettingsUpdate, PushSettingsView,
    RegisterDeviceRequest,
};

use super::{Admin, Body, Operator, field};
use crate::auth::token_hash;
use crate::chat::{Move, operator_actor};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{now_ms, operators, push as db};
use crate::validate::clean;

/// `/api/operator/devices`, `/api/admin/push*`, `/api/admin/operators/{id}/devices`,
/// `/api/push/action`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/operator/devices", get(my_devices).post(register))
        .route("/api/operator/devices/{id}", delete(remove))
        .route("/api/admin/operators/{id}/devices", get(devices_of))
        .route("/api/admin/push", get(settings).put(put_settings))
        .route("/api/admin/push/attempts", get(attempts))
        .route("/api/push/action", post(action))
}

async fn register(
    State(state): State<AppState>,
    op: Operator,
    Body(req): Body<RegisterDeviceRequest>,
) -> Result<(StatusCode, Json<PushDevice>), Error> {
    let token = req.token.trim();
    if token.is_empty() || token.len() > 4096 || token.contains(char::is_whitespace) {
        return Err(Error::invalid(
            "the device token must be 1 to 4096 characters, no spaces",
        ));
    }
    clean(token, "the device token")?;
    let name = req
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| field(n, "the device name", MAX_NAME_CHARS))
        .transpose()?;
    let name = name.as_deref();
    let device = db::register(
        &state.store.write,
        op.profile.id,
        req.platform,
        token,
        name,
        req.replaces.as_deref(),
        now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(device)))
}

async fn my_devices(
    State(state): State<AppState>,
    op: Operator,
) -> Result<Json<Vec<PushDevice>>, Error> {
    Ok(Json(
        db::devices_of(&state.store.read, op.profile.id).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<i64>,
) -> Result<StatusCode, Error> {
    if !db::remove(&state.store.write, op.profile.id, DeviceId(id)).await? {
        return Err(Error::not_found("device"));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn devices_of(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PushDevice>>, Error> {
    operators::get(&state.store.read, OperatorId(id))
        .await?
        .ok_or_else(|| Error::not_found("operator"))?;
    Ok(Json(
        db::devices_of(&state.store.read, OperatorId(id)).await?,
    ))
}

async fn settings(State(state): State<AppState>, _: Admin) -> Json<PushSettingsView> {
    Json(state.push.view())
}

async fn put_settings(
    State(state): State<AppState>,
    _: Admin,
    Body(update): Body<PushSettingsUpdate>,
) -> Result<Json<PushSettingsView>, Error> {
    let view = state.push.update(update).await?;
    state
        .hub
        .settings_saved(crate::cluster::Section::Push)
        .await;
    Ok(Json(view))
}

#[derive(Deserialize)]
struct AttemptsQuery {
    chat_id: Option<i64>,
    device_id: Option<i64>,
}

async fn attempts(
    State(state): State<AppState>,
    _: Admin,
    Query(q): Query<AttemptsQuery>,
) -> Result<Json<Vec<PushAttempt>>, Error> {
    let chat = q.chat_id.map(ChatId);
    let device = q.device_id.map(DeviceId);
    Ok(Json(
        db::attempts(&state.store.read, chat, device, 1000).await?,
    ))
}

/// Accept / Queue / Decline from a notification: the action token stands in for a sign-in,
/// for this operator and this chat only, once, for a few minutes.
async fn action(
    State(state): State<AppState>,
    Body(req): Body<PushActionRequest>,
) -> Result<Json<PushActionResponse>, Error> {
    let hash = token_hash(&req.action_token);
    let (operator, chat) = match db::use_action_token(&state.store.write, &hash, now_ms()).await? {
        db::ActionToken::Valid(operator, chat) => (operator, chat),
        db::ActionToken::Unknown => {
            return Err(Error::client(
                ErrorCode::Unauthorized,
                "unknown action token",
            ));
        }
        db::ActionToken::Expired => {
            return Err(Error::client(
                ErrorCode::TokenExpired,
                "this notification has expired",
            ));
        }
        db::ActionToken::Used => {
            let message = "this notification was already answered";
            return Err(Error::client(ErrorCode::Conflict, message));
        }
    };
    let profile = operators::get(&state.store.read, operator)
        .await?
        .ok_or_else(|| Error::not_found("operator"))?;
    let action = match req.action {
        PushAction::Accept => Move::Accept,
        PushAction::Queue => Move::Queue,
        PushAction::Decline => Move::Decline,
    };
    let done = state
        .chats
        .act(chat, operator_actor(&profile), action)
        .await?;
    tracing::info!(%chat, %operator, action = ?req.action, "answered from a notification");
    Ok(Json(PushActionResponse { chat: done.chat }))
}
