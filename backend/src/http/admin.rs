//! The admin settings API: operators and settings. Admins only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use switchboard_shared::{
    CreateOperatorRequest, ErrorCode, MAX_RING_GROUP, OperatorId, OperatorProfile, Settings,
    UpdateOperatorRequest,
};

use super::{Body, email, field};
use crate::AppState;
use crate::auth::{Admin, check_password_rules, hash_password};
use crate::error::Error;
use crate::store::{chats, now_ms, operators, settings};

/// `/api/admin/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/operators", get(list).post(create))
        .route("/api/admin/operators/{id}", patch(update).delete(remove))
        .route("/api/admin/settings", get(get_settings).put(put_settings))
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
    let name = field(&req.name, "name", 100)?;
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
        .map(|n| field(n, "name", 100))
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
    operators::update(&state.store.write, OperatorId(id), changes)
        .await?
        .map(Json)
        .ok_or_else(|| Error::not_found("operator"))
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
    if admin.id.0 == id {
        return Err(Error::client(
            ErrorCode::Conflict,
            "you cannot delete your own account",
        ));
    }
    let open = chats::open_for_operator(&state.store.read, OperatorId(id)).await?;
    if !open.is_empty() {
        return Err(Error::client(
            ErrorCode::Conflict,
            format!(
                "this operator leads {} chat(s): they must end them first",
                open.len()
            ),
        ));
    }
    // Not available any more: this also ends ringing chats if nobody else is left.
    if operators::get(&state.store.read, OperatorId(id))
        .await?
        .is_some_and(|o| o.available)
    {
        state.chats.set_available(OperatorId(id), false).await?;
    }
    if !operators::delete(&state.store.write, OperatorId(id)).await? {
        return Err(Error::not_found("operator"));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn get_settings(State(state): State<AppState>, _: Admin) -> Json<Settings> {
    Json(state.chats.settings())
}

async fn put_settings(
    State(state): State<AppState>,
    _: Admin,
    Body(new): Body<Settings>,
) -> Result<Json<Settings>, Error> {
    let widget_origins = crate::http::widget::normalize_origins(&new.widget_origins)?;
    let new = Settings {
        operator_name: field(&new.operator_name, "operator_name", 100)?,
        default_invitation: field(&new.default_invitation, "default_invitation", 1000)?,
        widget_origins,
        ..new
    };
    if !(1..=50).contains(&new.max_chats_per_operator) {
        return Err(Error::invalid("max_chats_per_operator must be 1 to 50"));
    }
    if !(5..=3600).contains(&new.ring_timeout_secs) {
        return Err(Error::invalid("ring_timeout_secs must be 5 to 3600"));
    }
    settings::save(&state.store.write, &new).await?;
    *state.settings.write().unwrap_or_else(|p| p.into_inner()) = new.clone();
    Ok(Json(new))
}
