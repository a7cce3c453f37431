//! What websites and their visitors reach: the demo page, the widget script, its HTTP calls
//! (the live part is the WebSocket in [`crate::ws::visitor`]), and the health check.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use switchboard_shared::{
    ErrorCode, LeaveMessageRequest, MAX_WIDGET_ORIGINS, OfflineMessage, WidgetStatus,
};
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
        .route("/", get(|| async { Html(DEMO_HTML) }))
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
    let settings = state.settings.read().unwrap_or_else(|p| p.into_inner());
    (!site_allowed(&settings.widget_origins, origin, text(header::HOST))).then(|| origin.to_owned())
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

/// Checks and normalizes the admin's `widget_origins`: each `http(s)://host[:port]`, no path;
/// lower-cased, without a trailing slash, each once.
pub fn normalize_origins(list: &[String]) -> Result<Vec<String>, Error> {
    if list.len() > MAX_WIDGET_ORIGINS {
        return Err(Error::invalid(format!(
            "widget_origins holds at most {MAX_WIDGET_ORIGINS} sites"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for raw in list {
        let origin = raw.trim().trim_end_matches('/').to_ascii_lowercase();
        let valid = origin.split_once("://").is_some_and(|(scheme, authority)| {
            matches!(scheme, "http" | "https") && authority_ok(authority)
        });
        if !valid {
            return Err(Error::invalid(format!(
                "widget_origins: {raw:?} is not a site origin like https://shop.example.com"
            )));
        }
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// `host[:port]` or `[v6][:port]` of an origin: no user info, path, query or fragment.
fn authority_ok(authority: &str) -> bool {
    let port_ok = |port: Option<&str>| port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if let Some(rest) = authority.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        return !v6.is_empty()
            && v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
            && port_ok(port);
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        && port_ok(port)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_normalized() {
        let ok = |list: &[&str]| {
            normalize_origins(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            ok(&[
                "HTTPS://Shop.Example.com/",
                "https://shop.example.com",
                "http://[::1]:8080",
                "http://[::1]"
            ])
            .unwrap(),
            [
                "https://shop.example.com",
                "http://[::1]:8080",
                "http://[::1]"
            ]
        );
        for bad in [
            "shop.example.com",
            "https://shop.example.com/path",
            "https://shop.example.com:0",
            "https://shop.example.com:99999",
            "https://user@shop.example.com",
            "https://",
            "javascript://x",
            "http://[::1",
            "http://[::1]x",
        ] {
            assert!(ok(&[bad]).is_err(), "{bad}");
        }
        let many = vec!["https://a.example".to_string(); MAX_WIDGET_ORIGINS + 1];
        assert!(normalize_origins(&many).is_err());
    }

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
