//! Desktop: an OS notification for an incoming chat request, or a visitor's new message, when
//! the window is not focused (the UI rings and sounds in the foreground).

use switchboard_shared::{ChatSummary, Mode};
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

/// Remote push is mobile-only (`mobile.rs`): on desktop `switchboard-push` is an empty plugin,
/// so the shell adds `platform::plugin()` everywhere.
pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("switchboard-push").build()
}

/// Remote push is mobile-only: no native side to tell the signed-in server.
pub fn set_push_server<R: Runtime>(_app: &AppHandle<R>, _server: Option<String>) {}

/// Whether the app's window has the focus (then the UI rings or sounds by itself).
fn focused(app: &AppHandle) -> bool {
    app.get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false)
}

/// Tells the operator about a new chat request.
pub fn notify_incoming(app: &AppHandle, chat: &ChatSummary) {
    if focused(app) {
        return;
    }
    let _ = app
        .notification()
        .builder()
        .title("Incoming chat request")
        .body(describe(chat))
        .show();
}

/// Tells the operator about a visitor's new message when the window is not focused.
pub fn notify_message(app: &AppHandle, chat: &ChatSummary, text: &str) {
    if focused(app) {
        return;
    }
    let name = chat.visitor_name.as_deref().unwrap_or("Visitor");
    let body: String = text.chars().take(140).collect();
    let _ = app
        .notification()
        .builder()
        .title(format!("New message from {name}"))
        .body(body)
        .show();
}

/// "Ann (voice) — https://shop.example/pricing"
pub fn describe(chat: &ChatSummary) -> String {
    let name = chat.visitor_name.as_deref().unwrap_or("Visitor");
    let mode = match chat.mode {
        Mode::Text => "text",
        Mode::Voice => "voice",
    };
    match &chat.page {
        Some(page) => format!("{name} ({mode}) — {}", page.url),
        None => format!("{name} ({mode})"),
    }
}
