//! iOS and Android: remote push (APNs / FCM) through a tiny in-repo plugin, `switchboard-push`,
//! whose native halves live in `push/ios` (Swift) and `push/android` (Kotlin); see
//! `push/README.md`. In the foreground the UI rings; in the background the server's push shows
//! the request with Accept / Queue / Decline, so [`notify_incoming`] does nothing here. The
//! app tells the server when it leaves and re-enters the foreground (`App::set_background`),
//! so a phone whose app was sent away while connected is pushed again.
//! This file compiles only in mobile builds, which need the iOS/Android SDKs.
//!
//! Transport only: the engine decides when to register the token
//! (`switchboard_core::push::PushRegistration`, unit-tested there). The native side talks to
//! Rust over one channel, handed to it by `start` once the app is ready (it queues what
//! happens before); each message is a `switchboard_core::push::NativeEvent`:
//! - `{"kind":"token","platform":"apns"|"fcm","token":"…"}`: the device's push token. It is
//!   registered (`POST /api/operator/devices`) whenever an operator is signed in: now, or at
//!   the next sign-in (sign-out removes the device on the server).
//! - `{"kind":"action","action":"ACCEPT"|"QUEUE"|"DECLINE","actionToken":"…","chatId":"…"}`:
//!   a notification action, answered with the push's action token (`POST /api/push/action`);
//!   on Accept the webview gets `open_chat` with the chat id.
//!
//! Rust calls the native side's `setServer` with the signed-in server (`null` once signed
//! out): Android answers Queue / Decline itself when the app is not running.

use serde_json::{Value, json};
use switchboard_core::app::App;
use switchboard_core::push::NativeEvent;
use switchboard_shared::{ChatSummary, PushAction};
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::plugin::{Builder, PluginHandle, TauriPlugin};
use tauri::{AppHandle, Emitter, Manager, RunEvent, Runtime, WindowEvent};

#[cfg(target_os = "ios")]
tauri::ios_plugin_binding!(init_plugin_switchboard_push);

/// The native half of the plugin, managed as app state once registered.
struct Native<R: Runtime>(PluginHandle<R>);

/// Tells the operator about a new chat request (remote push covers the background).
pub fn notify_incoming(_app: &AppHandle, _chat: &ChatSummary) {}

/// A visitor's new message: in the foreground the UI sounds and badges it; a phone in the
/// background is not woken for messages (only requests are pushed).
pub fn notify_message(_app: &AppHandle, _chat: &ChatSummary, _text: &str) {}

/// The `switchboard-push` plugin: registers the native halves and connects them to the engine.
pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("switchboard-push")
        .setup(|app, api| {
            #[cfg(target_os = "ios")]
            let native = api.register_ios_plugin(init_plugin_switchboard_push)?;
            #[cfg(target_os = "android")]
            let native = api.register_android_plugin("com.switchboard.push", "PushPlugin")?;
            app.manage(Native(native));
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

/// Tells the native side the server to answer notification actions to (`None`: signed out).
pub fn set_push_server<R: Runtime>(app: &AppHandle<R>, server: Option<String>) {
    let Some(native) = app.try_state::<Native<R>>().map(|n| n.0.clone()) else {
        return;
    };
    tauri::async_runtime::spawn(async move {
        let args = json!({ "server": server });
        if let Err(e) = native
            .run_mobile_plugin_async::<Value>("setServer", args)
            .await
        {
            tracing::warn!("push: the native plugin did not take the server: {e}");
        }
    });
}

/// The engine, once the app's setup has managed it.
fn engine_of<R: Runtime>(app: &AppHandle<R>) -> Option<App> {
    app.try_state::<App>().map(|s| s.inner().clone())
}

/// Tells the engine (and through it the server) that the app left or re-entered the
/// foreground.
fn set_background<R: Runtime>(app: &AppHandle<R>, background: bool) {
    if let Some(engine) = engine_of(app) {
        tauri::async_runtime::spawn(async move { engine.set_background(background).await });
    }
}

/// Hands the native side its channel to Rust; it then asks for permission, registers for
/// remote notifications, and sends what it queued.
fn start<R: Runtime>(app: &AppHandle<R>) {
    let Some(native) = app.try_state::<Native<R>>().map(|n| n.0.clone()) else {
        return;
    };
    let handle = app.clone();
    let channel: Channel<Value> = Channel::new(move |body| {
        if let InvokeResponseBody::Json(json) = body {
            on_native(&handle, &json);
        }
        Ok(())
    });
    tauri::async_runtime::spawn(async move {
        if let Err(e) = native
            .run_mobile_plugin_async::<Value>("start", json!({ "handler": channel }))
            .await
        {
            tracing::warn!("push: the native plugin did not start: {e}");
        }
    });
}

/// One message from the native side, passed to the engine.
fn on_native<R: Runtime>(app: &AppHandle<R>, json: &str) {
    let event = match serde_json::from_str::<NativeEvent>(json) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!("push: unreadable message from the native side: {e}");
            return;
        }
    };
    let Some(engine) = engine_of(app) else {
        return;
    };
    match event {
        NativeEvent::Token { platform, token } => {
            tauri::async_runtime::spawn(async move {
                match engine.register_push_token(platform, &token).await {
                    Ok(device) => tracing::info!("push: registered as device {}", device.id),
                    Err(e) => tracing::info!("push: token kept, not registered: {}", e.message),
                }
            });
        }
        NativeEvent::Action {
            action,
            action_token,
            chat_id,
        } => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                match engine.act_on_notification(&action_token, action).await {
                    Ok(answer) if action == PushAction::Accept => {
                        let _ = app.emit("open_chat", answer.chat.id);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("push: {action:?} on chat {chat_id} failed: {}", e.message)
                    }
                }
            });
        }
    }
}
