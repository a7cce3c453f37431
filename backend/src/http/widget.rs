//! What websites and their visitors reach: the demo page, the widget script, its HTTP calls
//! (the live part is the WebSocket in [`crate::ws::visitor`]), and the health check.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::Digest;
use switchboard_shared::{
    ErrorCode, LeaveMessageRequest, MAX_NAME_CHARS, OfflineMessage, WidgetStatus,
};
use tower_http::cors::{Any, CorsLayer};

use super::{Body, Peer, email, field};
use crate::auth::token_hash;
use crate::error::Error;
use crate::hub::{HubEvent, Topic};
use crate::state::AppState;
use crate::store::{chats, now_ms, visitors};

/// The widget bundle, built from `widget/` (`npm run build`) and embedded in the binary.
const WIDGET_JS: &str = include_str!("../../assets/widget.js");
/// A demo website page with the widget's script tag on it.
const DEMO_HTML: &str = include_str!("../../assets/demo.html");

/// `/`, `/widget.js`, `/healthz`, `/api/widget/*` (the WebSocket included).
pub fn router(state: &AppState) -> Router<AppState> {
    // The widget runs on other sites: its HTTP calls are cross-origin (no cookies involved).
    // Which sites may use it is the admin's `widget_origins`, checked before CORS answers.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let api = Router::new()
        .route("/api/widget/status", get(status))
        .route("/api/widget/offline-messages", post(leave_message))
        .layer(cors)
        .route("/api/widget/ws", get(crate::ws::visitor::upgrade))
        .layer(middleware::from_fn_with_state(state.clone(), allowed_sites));
    Router::new()
        .route("/", get(demo_page))
        .route("/widget.js", get(widget_js))
        .route("/healthz", get(|| async { "ok" }))
        .merge(api)
}

/// Refuses browsers on sites that may not use the widget (their `Origin` is not in the
/// admin's `widget_origins`, when that list is set). Pages served by Switchboard itself
/// (same host) always may; clients that send no `Origin` (not a browser) are not affected.
async fn allowed_sites(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(origin) = refused_origin(&state, req.headers()) {
        tracing::info!(%origin, "widget refused to a site that is not allowed");
        return Error::client(ErrorCode::Forbidden, "this site may not use the widget")
            .into_response();
    }
    next.run(req).await
}

/// The request's `Origin`, when it is one the widget must refuse.
fn refused_origin(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let origin = text(header::ORIGIN)?;
    let allowed = state
        .settings
        .with(|s| site_allowed(&s.widget_origins, origin, text(header::HOST)));
    (!allowed).then(|| origin.to_owned())
}

/// Whether a browser on `origin` may use the widget.
fn site_allowed(allowed: &[String], origin: &str, host: Option<&str>) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let own_page = host.is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
    });
    own_page || allowed.contains(&origin)
}

/// A static file, with an `ETag` so a browser revalidates (and gets `304 Not Modified`)
/// instead of downloading it again; compressed by the app's compression layer.
fn asset(headers: &HeaderMap, body: &'static str, content_type: &'static str) -> Response {
    let etag = etag(body);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let cache = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// A strong validator for an embedded file: its hash, computed once per file.
fn etag(body: &'static str) -> String {
    static TAGS: std::sync::OnceLock<dashmap::DashMap<usize, String>> = std::sync::OnceLock::new();
    let tags = TAGS.get_or_init(dashmap::DashMap::new);
    tags.entry(body.as_ptr() as usize)
        .or_insert_with(|| {
            let hash = sha2::Sha256::digest(body.as_bytes());
            format!("\"{}\"", hex::encode(&hash[..12]))
        })
        .clone()
}

async fn widget_js(headers: HeaderMap) -> Response {
    asset(&headers, WIDGET_JS, "text/javascript; charset=utf-8")
}

async fn demo_page(headers: HeaderMap) -> Response {
    asset(&headers, DEMO_HTML, "text/html; charset=utf-8")
}

async fn status(State(state): State<AppState>) -> Result<Json<WidgetStatus>, Error> {
    let available = match state.config.nats_url {
        // One node: its own view is the whole truth.
        None => state.hub.is_available(),
        // Several: another node's change may be on its way here still; the database has it.
        Some(_) => state.chats.fresh_availability().await?,
    };
    Ok(Json(WidgetStatus {
        available,
        mail: state.mail.info().is_some(),
    }))
}

/// "Leave a message": stored, linked to the visitor (and their last chat) when known.
async fn leave_message(
    State(state): State<AppState>,
    Peer(address): Peer,
    Body(req): Body<LeaveMessageRequest>,
) -> Result<(StatusCode, Json<OfflineMessage>), Error> {
    let name = field(&req.name, "name", MAX_NAME_CHARS)?;
    let email = email(&req.email)?;
    let text = field(&req.text, "message", switchboard_shared::MAX_MESSAGE_CHARS)?;
    state.limits.offline_message(address)?;
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
    // The message and its mails are stored together: neither is kept without the other.
    let mut tx = state.store.write.begin().await?;
    let msg =
        visitors::leave_message(&mut tx, visitor, chat, &name, &email, &text, now_ms()).await?;
    state.mail.queue_offline(&mut tx, &msg).await?;
    tx.commit().await?;
    state.mail.wake();
    tracing::info!(offline_message = %msg.id, "offline message left");
    state.hub.publish(
        &[Topic::Lobby],
        HubEvent::OfflineMessage(Box::new(msg.clone())),
    );
    Ok((StatusCode::CREATED, Json(msg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_are_allowed_by_list_or_as_our_own_pages() {
        let list = ["https://shop.example.com".to_string()];
        assert!(site_allowed(&[], "https://any.example", None));
        assert!(site_allowed(&list, "https://shop.example.com", None));
        assert!(site_allowed(&list, "https://SHOP.example.com/", None));
        assert!(!site_allowed(&list, "https://evil.example", None));
        assert!(!site_allowed(&list, "null", Some("help.example.com")));
        assert!(site_allowed(
            &list,
            "https://help.example.com",
            Some("help.example.com")
        ));
        assert!(!site_allowed(
            &list,
            "https://help.example.com.evil",
            Some("help.example.com")
        ));
    }
}
