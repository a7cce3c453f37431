//! The admin settings API: operators and settings. Admins only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use switchboard_shared::{
    CreateOperatorRequest, MAX_NAME_CHARS, MAX_RING_GROUP, MailSettingsInput, MailSettingsView,
    MailTestRequest, MailTestResult, OperatorId, OperatorProfile, Settings, UpdateOperatorRequest,
    VoiceSettingsUpdate, VoiceSettingsView,
};

use super::{Admin, Body, email, field};
use crate::auth::{check_password_rules, hash_password};
use crate::cluster::Section;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{now_ms, operators};

/// `/api/admin/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/operators", get(list).post(create))
        .route("/api/admin/operators/{id}", patch(update).delete(remove))
        .route("/api/admin/settings", get(get_settings).put(put_settings))
        .route("/api/admin/voice", get(get_voice).put(put_voice))
        .route(
            "/api/admin/mail",
            get(get_mail).put(put_mail).delete(delete_mail),
        )
        .route("/api/admin/mail/test", post(test_mail))
}

async fn list(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<Vec<OperatorProfile>>, Error> {
    Ok(Json(operators::list(&state.store.read).await?))
}

async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Body(req): Body<CreateOperatorRequest>,
) -> Result<(StatusCode, Json<OperatorProfile>), Error> {
    let email = email(&req.email)?;
    let name = field(&req.name, "name", MAX_NAME_CHARS)?;
    check_password_rules(&req.password)?;
    let ring_group = req.ring_group.map(ring_group).transpose()?.unwrap_or(1);
    let hash = hash_password(req.password).await?;
    let op = operators::create(
        &state.store.write,
        &email,
        &name,
        &hash,
        req.is_admin,
        ring_group,
        now_ms(),
    )
    .await?;
    tracing::info!(admin = %admin.id, operator = %op.id, "operator created");
    Ok((StatusCode::CREATED, Json(op)))
}

async fn update(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<i64>,
    Body(req): Body<UpdateOperatorRequest>,
) -> Result<Json<OperatorProfile>, Error> {
    let name = req
        .name
        .as_deref()
        .map(|n| field(n, "name", MAX_NAME_CHARS))
        .transpose()?;
    let ring_group = req.ring_group.map(ring_group).transpose()?;
    let hash = match req.password {
        Some(p) => {
            check_password_rules(&p)?;
            Some(hash_password(p).await?)
        }
        None => None,
    };
    let changes = operators::Changes {
        name: name.as_deref(),
        password_hash: hash.as_deref(),
        is_admin: req.is_admin,
        ring_group,
    };
    Ok(Json(
        state.chats.change_operator(OperatorId(id), changes).await?,
    ))
}

fn ring_group(group: u32) -> Result<u32, Error> {
    if (1..=MAX_RING_GROUP).contains(&group) {
        Ok(group)
    } else {
        Err(Error::invalid(format!(
            "ring_group must be 1 to {MAX_RING_GROUP}"
        )))
    }
}

async fn remove(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, Error> {
    state.chats.remove_operator(&admin, OperatorId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_settings(State(state): State<AppState>, _: Admin) -> Json<Settings> {
    Json(state.settings.get())
}

async fn put_settings(
    State(state): State<AppState>,
    _: Admin,
    Body(new): Body<Settings>,
) -> Result<Json<Settings>, Error> {
    let saved = state.settings.change(new).await?;
    state.hub.settings_saved(Section::Settings).await;
    Ok(Json(saved))
}

async fn get_voice(State(state): State<AppState>, _: Admin) -> Json<VoiceSettingsView> {
    Json(state.voice.view())
}

async fn put_voice(
    State(state): State<AppState>,
    _: Admin,
    Body(update): Body<VoiceSettingsUpdate>,
) -> Result<Json<VoiceSettingsView>, Error> {
    let view = state.voice.change(update).await?;
    state.hub.settings_saved(Section::Voice).await;
    Ok(Json(view))
}

/// The mail parameters without the password (`null`: mail is not configured).
async fn get_mail(State(state): State<AppState>, _: Admin) -> Json<Option<MailSettingsView>> {
    Json(state.mail.view())
}

async fn put_mail(
    State(state): State<AppState>,
    _: Admin,
    Body(input): Body<MailSettingsInput>,
) -> Result<Json<MailSettingsView>, Error> {
    let view = state.mail.update(input).await?;
    state.hub.settings_saved(Section::Mail).await;
    Ok(Json(view))
}

async fn delete_mail(State(state): State<AppState>, _: Admin) -> Result<StatusCode, Error> {
    state.mail.remove().await?;
    state.hub.settings_saved(Section::Mail).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test mail with the saved parameters and says what the SMTP server answered.
async fn test_mail(
    State(state): State<AppState>,
    _: Admin,
    Body(req): Body<MailTestRequest>,
) -> Result<Json<MailTestResult>, Error> {
    Ok(Json(state.mail.test(&req.to).await?))
}
