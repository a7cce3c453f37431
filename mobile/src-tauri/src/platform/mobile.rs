//! iOS and Android: remote push (APNs / FCM) through a tiny in-repo plugin, `switchboard-push`,
//! whose native halves live in `push/ios` (Swift) and `push/android` (Kotlin); see
//! `push/README.md`. In the foreground the UI rings; in the background the server's push shows
//! the request with Accept / Queue / Decline, so [`notify_incoming`] does nothing here. The
//! app tells the server when it leaves and re-enters the foreground (`App::set_background`),
//! so a phone whose app was sent away while connected is pushed again.
//! This file compiles only in mobile builds, which need the iOS/Android SDKs.
//!
//! The native side talks to Rust over one channel, handed to it by `start` once the app is
//! ready (it queues what happens before):
//! - `{"kind":"token","platform":"apns"|"fcm","token":"…"}`: the device's push token. It is
//!   registered (`POST /api/operator/devices`) whenever an operator is signed in: now, or at
//!   the next sign-in (sign-out removes the device on the server).
//! - `{"kind":"action","action":"ACCEPT"|"QUEUE"|"DECLINE","actionToken":"…","chatId":"…"}`:
//!   a notification action, answered with the push's action token (`POST /api/push/action`);
//!   on Accept the webview gets `open_chat` with the chat id.

use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};
use switchboard_core::app::App;
use switchboard_shared::{ChatSummary, PushAction, PushPlatform};
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::plugin::{Builder, PluginHandle, TauriPlugin};
use tauri::{AppHandle, Emitter, Listener, Manager, RunEvent, Runtime, WindowEvent};

#[cfg(target_os = "ios")]
tauri::ios_plugin_binding!(init_plugin_switchboard_push);

/// Tells the operator about a new chat request (remote push covers the background).
pub fn notify_incoming(_app: &AppHandle, _chat: &ChatSummary) {}

/// (server, operator id): who is signed in, as far as push registration cares.
type Account = (String, String);

struct Push<R: Runtime> {
    native: PluginHandle<R>,
    /// The device's push token, once the native side has reported it.
    token: Mutex<Option<(PushPlatform, String)>>,
    /// The account and token registered with the server (or being registered).
    registered: Mutex<Option<(Account, String)>>,
    /// The server last told to the native side (Android answers an action itself when the
    /// app is not running).
    server: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `switchboard-push` plugin: registers the native halves and connects them to the engine.
pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("switchboard-push")
        .setup(|app, api| {
            #[cfg(target_os = "ios")]
            let native = api.register_ios_plugin(init_plugin_switchboard_push)?;
            #[cfg(target_os = "android")]
            let native = api.register_android_plugin("com.switchboard.push", "PushPlugin")?;
            app.manage(Push {
                native,
                token: Mutex::new(None),
                registered: Mutex::new(None),
                server: Mutex::new(None),
            });
            // Sign-in and sign-out show in the snapshots the shell emits.
            let handle = app.clone();
            app.listen("snapshot", move |event| {
                if let Ok(snapshot) = serde_json::from_str::<Value>(event.payload()) {
                    sync(&handle, account(&snapshot["signed_in"]));
                }
            });
            Ok(())
        })
        .on_event(|app, event| match event {
            // Ready comes after the app's setup, so the engine (`App`) is managed by now.
            RunEvent::Ready => start(app),
            // In the background the server pushes this phone again (at once for what rings).
            RunEvent::WindowEvent {
                event: WindowEvent::Suspended,
                ..
            } => set_background(app, true),
            RunEvent::WindowEvent {
                event: WindowEvent::Resumed,
                ..
            } => set_background(app, false),
            _ => {}
        })
        .build()
}

/// Tells the engine (and through it the server) that the app left or re-entered the
/// foreground.
fn set_background<R: Runtime>(app: &AppHandle<R>, background: bool) {
    if let Some(engine) = app.try_state::<App>().map(|s| s.inner().clone()) {
        tauri::async_runtime::spawn(async move { engine.set_background(background).await });
    }
}

/// Hands the native side its channel to Rust; it then asks for permission, registers for
/// remote notifications, and sends what it queued.
fn start<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let channel: Channel<Value> = Channel::new(move |body| {
        if let InvokeResponseBody::Json(json) = body {
            on_native(&handle, &json);
        }
        Ok(())
    });
    let native = app.state::<Push<R>>().native.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = native
            .run_mobile_plugin_async::<Value>("start", json!({ "handler": channel }))
            .await
        {
            tracing::warn!("push: the native plugin did not start: {e}");
        }
    });
}

/// The account in a snapshot's `signed_in` (JSON), if any.
fn account(signed_in: &Value) -> Option<Account> {
    let server = signed_in.get("server")?.as_str()?.to_owned();
    Some((server, signed_in["operator"]["id"].to_string()))
}

/// What the native side reports.
fn on_native<R: Runtime>(app: &AppHandle<R>, json: &str) {
    let Ok(msg) = serde_json::from_str::<Value>(json) else {
        return;
    };
    let text = |key: &str| msg.get(key).and_then(Value::as_str).map(str::to_owned);
    match text("kind").as_deref() {
        Some("token") => {
            let platform = text("platform").as_deref().and_then(PushPlatform::parse);
            let (Some(platform), Some(token)) = (platform, text("token")) else {
                return;
            };
            *lock(&app.state::<Push<R>>().token) = Some((platform, token));
            let signed_in = app
                .try_state::<App>()
                .and_then(|engine| serde_json::to_value(engine.snapshot().signed_in).ok());
            sync(app, signed_in.as_ref().and_then(account));
        }
        Some("action") => {
            let action = text("action").and_then(|a| {
                serde_json::from_value::<PushAction>(Value::String(a.to_lowercase())).ok()
            });
            let (Some(action), Some(token)) = (action, text("actionToken")) else {
                return;
            };
            let server = app
                .try_state::<App>()
                .and_then(|engine| engine.snapshot().signed_in)
                .map(|s| s.server);
            let Some(server) = server else {
                tracing::warn!("push: a notification action while signed out, ignored");
                return;
            };
            let chat_id = msg.get("chatId").map(Value::to_string).unwrap_or_default();
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                match App::answer_notification(&server, &token, action).await {
                    Ok(answer) => {
                        if action == PushAction::Accept {
                            let _ = app.emit("open_chat", answer.chat.id);
                        }
                    }
                    Err(e) => {
                        tracing::warn!("push: {action:?} on chat {chat_id} failed: {}", e.message)
                    }
                }
            });
        }
        _ => {}
    }
}

/// Registers the push token for the signed-in account, once per account and token; tells
/// the native side the server.
fn sync<R: Runtime>(app: &AppHandle<R>, account: Option<Account>) {
    let Some(push) = app.try_state::<Push<R>>() else {
        return;
    };
    let server = account.as_ref().map(|a| a.0.clone());
    let changed = {
        let mut told = lock(&push.server);
        let changed = *told != server;
        *told = server.clone();
        changed
    };
    if changed {
        let native = push.native.clone();
        tauri::async_runtime::spawn(async move {
            let _ = native
                .run_mobile_plugin_async::<Value>("setServer", json!({ "server": server }))
                .await;
        });
    }
    let Some(account) = account else {
        // Signed out: the server forgot the device (App::sign_out); register at next sign-in.
        *lock(&push.registered) = None;
        return;
    };
    let Some((platform, token)) = lock(&push.token).clone() else {
        return;
    };
    let Some(engine) = app.try_state::<App>().map(|s| s.inner().clone()) else {
        return;
    };
    let key = (account, token.clone());
    {
        let mut registered = lock(&push.registered);
        if registered.as_ref() == Some(&key) {
            return;
        }
        *registered = Some(key.clone());
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match engine.register_push_token(platform, &token).await {
            Ok(device) => tracing::info!("push: registered as device {:?}", device.id),
            Err(e) => {
                tracing::warn!("push: registering the device failed: {}", e.message);
                // Try again with the next snapshot (the connection coming back, say).
                let push = app.state::<Push<R>>();
                let mut registered = lock(&push.registered);
                if registered.as_ref() == Some(&key) {
                    *registered = None;
                }
            }
        }
    });
}
