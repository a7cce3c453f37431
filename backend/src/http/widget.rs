//! What websites and their visitors reach: the demo page, the widget script, its HTTP calls
//! (the live part is the WebSocket in [`crate::ws::visitor`]), and the health check.

use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use switchboard_shared::{LeaveMessageRequest, OfflineMessage, WidgetStatus};
use tower_http::cors::{Any, CorsLayer};

use super::{Body, email, field};
use crate::AppState;
use crate::auth::token_hash;
use crate::error::Error;
use crate::store::{chats, now_ms, visitors};

/// The widget bundle, built from `widget/` (`npm run build`) and embedded in the binary.
const WIDGET_JS: &str = include_str!("../../assets/widget.js");
/// A demo website page with the widget's script tag on it.
const DEMO_HTML: &str = include_str!("../../assets/demo.html");

/// `/`, `/widget.js`, `/healthz`, `/api/widget/*`.
pub fn router() -> Router<AppState> {
    // The widget runs on other sites: its HTTP calls are cross-origin (no cookies involved).
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let api = Router::new()
        .route("/api/widget/status", get(status))
        .route("/api/widget/offline-messages", post(leave_message))
        .layer(cors);
    Router::new()
        .route("/", get(|| async { Html(DEMO_HTML) }))
        .route("/widget.js", get(widget_js))
        .route("/healthz", get(|| async { "ok" }))
        .merge(api)
}

async fn widget_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        WIDGET_JS,
    )
}

async fn status(State(state): State<AppState>) -> Json<WidgetStatus> {
    Json(WidgetStatus {
        available: state.hub.is_available(),
    })
}

/// "Leave a message": stored, linked to the visitor (and their last chat) when known.
async fn leave_message(
    State(state): State<AppState>,
    Body(req): Body<LeaveMessageRequest>,
) -> Result<(StatusCode, Json<OfflineMessage>), Error> {
    let name = field(&req.name, "name", 100)?;
    let email = email(&req.email)?;
    let text = field(&req.text, "message", switchboard_shared::MAX_MESSAGE_CHARS)?;
    let visitor = match req.visitor_token.as_deref() {
        Some(t) => visitors::by_token_hash(&state.store.read, &token_hash(t)).await?,
        None => None,
    };
    let chat = match visitor {
        Some(v) => chats::latest_for_visitor(&state.store.read, v)
            .await?
            .map(|c| c.id),
        None => None,
    };
    let msg = visitors::leave_message(
        &state.store.write,
        visitor,
        chat,
        &name,
        &email,
        &text,
        now_ms(),
    )
    .await?;
    tracing::info!(offline_message = %msg.id, "offline message left");
    Ok((StatusCode::CREATED, Json(msg)))
}
