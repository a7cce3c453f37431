//! Switchboard's backend: one axum server carrying the widget's and the operator app's HTTP
//! and WebSocket APIs and the admin settings API, over SQLite or PostgreSQL.
//!
//! The server is a value: [`run`] takes a config, a bound listener and a shutdown future, so
//! tests start it on port 0 against a fresh database. [`app`] is the router alone.
//!
//! | where | what |
//! | --- | --- |
//! | [`http`] | the HTTP routes, one file per area, each with its `router()`; extractors in `http/extract.rs` |
//! | [`ws`] | the WebSocket sessions: the skeleton and frame parsing in `ws/mod.rs`, the visitor's and the operator's sessions beside it |
//! | [`chat`] | the only code that changes a chat: lifecycle table, writer, domain actions, who sees what |
//! | [`settings`] | the admin-editable settings: validated, saved, published |
//! | [`voice`] | the STUN and TURN servers calls use, sealed; short-lived TURN credentials |
//! | [`push`] | who to notify (`notify.rs`) and how to deliver (`outbox.rs`, APNs, FCM) |
//! | [`mail`] | transcripts, offline messages and replies by e-mail: rendered, kept in an outbox, sent over SMTP |
//! | [`hub`] | in-process fan-out of committed events to live connections |
//! | [`store`] | reads and the non-chat writes over sqlx, SQLite or PostgreSQL |
//! | [`limits`] | rate limits by visitor, address, account, connection |
//! | [`auth`], [`secret`], [`validate`] | passwords and tokens; secrets at rest; text field rules |
//! | [`serve`] | the accept loop: connection budgets, header timeout |
//! | [`state`], [`config`], [`error`], [`shutdown`] | what handlers hold; boot config; the one error type; stopping |
//!
//! Dependencies point down: `http`/`ws` → `chat` → `store`/`hub`/`push`; nothing below them
//! imports `http` or `ws` (`ws` uses `http`'s extractors), and `chat` never imports axum.

pub mod auth;
pub mod chat;
pub mod cluster;
pub mod config;
pub mod error;
pub mod http;
pub mod hub;
pub mod invitations;
pub mod limits;
pub mod mail;
pub mod monitor;
pub mod push;
pub mod reports;
pub mod secret;
pub mod serve;
pub mod settings;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod validate;
pub mod voice;
pub mod ws;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use switchboard_shared::MAX_FRAME_BYTES;
use tokio::net::TcpListener;

pub use config::Config;
pub use error::Error;
pub use state::AppState;

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(http::widget::router(&state))
        .merge(http::auth::router())
        .merge(http::operator::router())
        .merge(http::admin::router())
        .merge(http::push::router())
        .merge(http::reports::router())
        .route("/api/operator/ws", get(ws::operator::upgrade))
        .fallback(|| async { Error::not_found("route") })
        .layer(DefaultBodyLimit::max(MAX_FRAME_BYTES))
        // gzip or brotli, as the client asks: the widget script goes out at about a third.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// Connects the database, applies migrations, creates the first admin if there is none,
/// and starts the chat domain.
pub async fn init(config: Config) -> Result<AppState, Error> {
    let store = store::Store::connect(&config.database_url).await?;
    bootstrap_admin(&store, &config).await?;
    let settings = settings::LiveSettings::load(store.clone()).await?;
    let hub = hub::Hub::default();
    let sealer = Arc::new(secret::Sealer::from_config(&config)?);
    let voice = voice::Voice::load(store.clone(), sealer.clone()).await?;
    let push_config = push::PushConfig {
        sealer: sealer.clone(),
        apns_base_url: config.apns_url.clone(),
        fcm_base_url: config.fcm_url.clone(),
        action_ttl: std::time::Duration::from_secs(config.push_action_ttl_secs),
    };
    let push = push::Push::start(store.clone(), hub.clone(), push_config).await?;
    let chats = chat::Chats::launch(
        store.clone(),
        hub.clone(),
        settings.clone(),
        push.clone(),
        voice.clone(),
    );
    chats.refresh_availability().await?;
    let closing = shutdown::Closing::default();
    let extra_ca_pem = match &config.smtp_ca_file {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            Error::Config(format!("SWITCHBOARD_SMTP_CA_FILE {}: {e}", path.display()))
        })?),
        None => None,
    };
    let mail_config = mail::MailConfig {
        sealer,
        extra_ca_pem,
        timeout: std::time::Duration::from_secs_f64(config.smtp_timeout_secs.max(0.1)),
        retry_base: std::time::Duration::from_secs_f64(config.mail_retry_secs.max(0.01)),
    };
    let mail = mail::Mail::start(
        store.clone(),
        chats.clone(),
        settings.clone(),
        mail_config,
        closing.clone(),
    )
    .await?;
    let limits = limits::RateLimits::start(&settings);
    let monitor = monitor::Monitor::new(std::time::Duration::from_secs_f64(
        config.visitor_grace_secs.max(0.0),
    ));
    monitor.start();
    let observer = monitor.clone();
    hub.observe_chats(move |chat| observer.chat_changed(chat));
    let state = AppState {
        mail,
        limits,
        monitor,
        voice,
        config: Arc::new(config),
        store,
        hub,
        chats,
        push,
        settings,
        closing,
    };
    invitations::start(&state);
    if let Some(url) = &state.config.nats_url {
        if state.store.backend != store::Backend::Postgres {
            return Err(Error::Config(
                "SWITCHBOARD_NATS_URL needs a PostgreSQL database: nodes share one database".into(),
            ));
        }
        cluster::join(&state, url, &state.config.nats_prefix).await?;
    }
    Ok(state)
}

/// Serves `state` on `listener` until `shutdown` completes, within the connection limits of
/// the config (see [`serve`](mod@serve)).
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let addr = listener.local_addr()?;
    let config = &state.config;
    let fd_limit = serve::raise_fd_limit();
    let limits = serve::Limits {
        header_timeout: std::time::Duration::from_secs(config.header_timeout_secs),
        total: match config.max_connections {
            0 => serve::total_for(fd_limit),
            n => n,
        },
        per_address: config.max_connections_per_address,
    };
    tracing::info!(%addr, ?fd_limit, ?limits, "listening");
    let closing = state.closing.clone();
    let shutdown = async move {
        shutdown.await;
        closing.fire();
    };
    serve::serve(listener, app(state.clone()), limits, shutdown).await;
    stop(&state).await;
    Ok(())
}

/// Stops the background work that must finish before the process ends (after
/// [`AppState::closing`] fired): pushes under way are recorded, pushes taken but not sent
/// are given back for the next node (see [`push::Push::stop`]).
pub async fn stop(state: &AppState) {
    state.closing.fire();
    state.push.stop().await;
}

/// [`init`] then [`serve`].
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let state = init(config).await?;
    serve(state, listener, shutdown).await
}

/// On the first start (no operators), creates the admin and says how to sign in.
async fn bootstrap_admin(store: &store::Store, config: &Config) -> Result<(), Error> {
    if store::operators::count(&store.read).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (auth::new_token()[..20].to_owned(), true),
    };
    auth::check_password_rules(&password)?;
    let hash = auth::hash_password(password.clone()).await?;
    let email = config.admin_email.trim().to_lowercase();
    store::operators::create(
        &store.write,
        &email,
        "Admin",
        &hash,
        true,
        1,
        store::now_ms(),
    )
    .await?;
    if generated {
        // Shown once, on purpose: there is no other way to learn it.
        tracing::warn!(
            "created the admin account: sign in as {email} with password {password} \
             (set SWITCHBOARD_ADMIN_PASSWORD to choose it)"
        );
    } else {
        tracing::info!("created the admin account {email} with SWITCHBOARD_ADMIN_PASSWORD");
    }
    Ok(())
}
