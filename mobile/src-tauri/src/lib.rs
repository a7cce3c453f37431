//! The Tauri 2 shell of the operator app. All logic lives in `switchboard-core`
//! ([`switchboard_core::app::App`]); each command here is one line into it, and the engine's
//! events are forwarded to the webview as `snapshot`, `incoming_request`, `visitor_message` and
//! `monitor` (the Site Monitor, apart from the snapshot).

mod platform;
mod voice;

use std::sync::Arc;

use switchboard_core::app::{App, AppEvent, Emit};
use switchboard_core::cache::ChatAction;
use switchboard_core::ui::{CommandError, HistoryView, MonitorView, Transcript, UiSnapshot};
use switchboard_shared::{
    CannedId, ChatId, OfflineMessage, OfflineMessageId, PushAction, PushActionResponse,
    PushDelivery, PushDevice, PushPlatform, Report, ReportChatsPage, ReportChatsQuery, ReportQuery,
    ReportTable, VisitorId, VisitorProfile,
};
use tauri::{Emitter, Manager, State};

type Res<T> = Result<T, CommandError>;

#[tauri::command]
fn snapshot(app: State<'_, App>) -> UiSnapshot {
    app.snapshot()
}

#[tauri::command]
async fn sign_in(
    app: State<'_, App>,
    server: String,
    email: String,
    password: String,
) -> Res<UiSnapshot> {
    app.sign_in(&server, &email, &password).await
}

#[tauri::command]
async fn sign_out(app: State<'_, App>) -> Res<UiSnapshot> {
    app.sign_out().await
}

#[tauri::command]
async fn set_available(app: State<'_, App>, available: bool) -> Res<()> {
    app.set_available(available).await
}

/// Accept, Decline, Queue, Hold, Resume or End chat (`action`: `"accept"` … `"end"`).
#[tauri::command]
async fn act(app: State<'_, App>, chat_id: i64, action: ChatAction) -> Res<()> {
    app.act(ChatId(chat_id), action).await
}

#[tauri::command]
async fn send_message(app: State<'_, App>, chat_id: i64, text: String) -> Res<()> {
    app.send_message(ChatId(chat_id), &text).await
}

#[tauri::command]
fn mark_read(app: State<'_, App>, chat_id: i64) -> Res<()> {
    app.mark_read(ChatId(chat_id))
}

#[tauri::command]
async fn save_canned(app: State<'_, App>, id: Option<i64>, title: String, text: String) -> Res<()> {
    app.save_canned(id.map(CannedId), &title, &text).await
}

#[tauri::command]
async fn delete_canned(app: State<'_, App>, id: i64) -> Res<()> {
    app.delete_canned(CannedId(id)).await
}

#[tauri::command]
async fn visitor_profile(app: State<'_, App>, visitor_id: i64) -> Res<VisitorProfile> {
    app.visitor_profile(VisitorId(visitor_id)).await
}

/// The Site Monitor is on screen: subscribe; changes follow as `monitor` events.
#[tauri::command]
async fn monitor_open(app: State<'_, App>) -> Res<MonitorView> {
    app.monitor_open().await
}

/// The Site Monitor left the screen (or the app went to the background): unsubscribe.
#[tauri::command]
async fn monitor_close(app: State<'_, App>) -> Res<()> {
    app.monitor_close().await;
    Ok(())
}

#[tauri::command]
async fn offline_messages(app: State<'_, App>) -> Res<Vec<OfflineMessage>> {
    app.offline_messages().await
}

/// The operator has seen the offline messages up to `up_to` (the unread count drops).
#[tauri::command]
async fn offline_messages_read(app: State<'_, App>, up_to: i64) -> Res<()> {
    app.offline_messages_read(OfflineMessageId(up_to)).await
}

/// "Reply by mail" to an offline message.
#[tauri::command]
async fn reply_offline(app: State<'_, App>, id: i64, text: String) -> Res<OfflineMessage> {
    app.reply_offline(OfflineMessageId(id), &text).await
}

/// "Send chat transcript": its progress shows in the chat's (or the transcript's) `mails`.
#[tauri::command]
async fn mail_transcript(app: State<'_, App>, chat_id: i64, email: String) -> Res<()> {
    app.mail_transcript(ChatId(chat_id), &email).await
}

#[tauri::command]
fn set_draft(app: State<'_, App>, chat_id: i64, text: String) -> Res<()> {
    app.set_draft(ChatId(chat_id), &text)
}

#[tauri::command]
fn dismiss_refused(app: State<'_, App>, id: i64) -> Res<()> {
    app.dismiss_refused(id)
}

#[tauri::command]
async fn retry_refused(app: State<'_, App>, id: i64) -> Res<()> {
    app.retry_refused(id).await
}

/// The network changed or came back (the webview's `online` event): reconnect now and
/// restart ICE on calls.
#[tauri::command]
fn network_changed(app: State<'_, App>) {
    app.network_changed();
}

/// Reports: the figures of a period.
#[tauri::command]
async fn report(app: State<'_, App>, query: ReportQuery) -> Res<Report> {
    app.report(&query).await
}

/// Reports: the chats behind a figure.
#[tauri::command]
async fn report_chats(app: State<'_, App>, query: ReportChatsQuery) -> Res<ReportChatsPage> {
    app.report_chats(&query).await
}

/// Reports: which phones were rung about a chat, and how each push went.
#[tauri::command]
async fn report_pushes(app: State<'_, App>, chat_id: i64) -> Res<Vec<PushDelivery>> {
    app.report_pushes(ChatId(chat_id)).await
}

/// Reports: a CSV saved to the device's downloads (`SWITCHBOARD_DOWNLOADS` moves them); its
/// path. The core creates the folder when it is missing.
#[tauri::command]
async fn export_report(
    handle: tauri::AppHandle,
    app: State<'_, App>,
    table: ReportTable,
    query: ReportQuery,
    bom: bool,
) -> Res<String> {
    // The system's downloads folder; where it names none (a Linux desktop without XDG user
    // folders), `Downloads` in the home folder, else beside the app's data.
    let path = handle.path();
    let dir = match std::env::var_os("SWITCHBOARD_DOWNLOADS") {
        Some(dir) => dir.into(),
        None => path
            .download_dir()
            .or_else(|_| path.home_dir().map(|home| home.join("Downloads")))
            .or_else(|_| path.app_data_dir().map(|data| data.join("downloads")))
            .map_err(|e| CommandError::new("internal", format!("no folder to save in: {e}")))?,
    };
    app.export_report(table, &query, bom, &dir).await
}

#[tauri::command]
async fn history(app: State<'_, App>, search: String, before: Option<i64>) -> Res<HistoryView> {
    app.history(&search, before.map(ChatId)).await
}

#[tauri::command]
async fn transcript(app: State<'_, App>, chat_id: i64) -> Res<Transcript> {
    app.transcript(ChatId(chat_id)).await
}

/// Changes the operator's display name (Account).
#[tauri::command]
async fn set_display_name(app: State<'_, App>, name: String) -> Res<()> {
    app.set_display_name(&name).await
}

/// Invites a visitor on the site to chat (Site Monitor, Invite).
#[tauri::command]
async fn invite_visitor(app: State<'_, App>, visitor_id: i64, text: String) -> Res<()> {
    app.invite(VisitorId(visitor_id), &text).await
}

#[tauri::command]
async fn call_invite(app: State<'_, App>, chat_id: i64) -> Res<()> {
    app.call_invite(ChatId(chat_id)).await
}

#[tauri::command]
async fn call_end(app: State<'_, App>, chat_id: i64) -> Res<()> {
    app.call_end(ChatId(chat_id)).await
}

#[tauri::command]
fn call_mute(app: State<'_, App>, chat_id: i64, muted: bool) -> Res<()> {
    app.set_call_muted(ChatId(chat_id), muted)
}

/// The UI painted its first snapshot: log how long after launch, with how many chats.
#[tauri::command]
fn painted(launched: State<'_, Launched>, chats: u32) {
    tracing::info!(
        ms = launched.0.elapsed().as_millis() as u64,
        chats,
        "first paint of the cached chats"
    );
}

/// When the process started.
struct Launched(std::time::Instant);

#[tauri::command]
async fn register_push_token(
    app: State<'_, App>,
    platform: PushPlatform,
    token: String,
) -> Res<PushDevice> {
    app.register_push_token(platform, &token).await
}

#[tauri::command]
async fn answer_notification(
    app: State<'_, App>,
    action_token: String,
    action: PushAction,
) -> Res<PushActionResponse> {
    app.act_on_notification(&action_token, action).await
}

/// Builds and runs the app (desktop `main`, and the mobile entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let launched = Launched(std::time::Instant::now());
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // SWITCHBOARD_APP_LOG=path writes the log to a file (no colours) instead of stderr.
    let file = std::env::var_os("SWITCHBOARD_APP_LOG").and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });
    let _ = match file {
        Some(file) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init(),
        None => tracing_subscriber::fmt().with_env_filter(filter).try_init(),
    };
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(platform::plugin())
        .setup(|app| {
            let handle = app.handle().clone();
            // SWITCHBOARD_APP_DATA moves the cache (tests run several apps side by side).
            let dir = match std::env::var_os("SWITCHBOARD_APP_DATA") {
                Some(dir) => dir.into(),
                None => app.path().app_data_dir()?,
            };
            let emit: Emit = Arc::new(move |event| match event {
                AppEvent::Snapshot(snapshot) => {
                    let _ = handle.emit("snapshot", snapshot);
                }
                AppEvent::IncomingRequest(chat) => {
                    let _ = handle.emit("incoming_request", &chat);
                    platform::notify_incoming(&handle, &chat);
                }
                AppEvent::VisitorMessage { chat, text } => {
                    let _ = handle.emit("visitor_message", chat.id.0);
                    platform::notify_message(&handle, &chat, &text);
                }
                AppEvent::PushServer(server) => platform::set_push_server(&handle, server),
                AppEvent::Monitor(view) => {
                    let _ = handle.emit("monitor", view);
                }
            });
            let engine = tauri::async_runtime::block_on(async move { App::open(&dir, emit) })
                .map_err(|e| e.message)?;
            engine.set_voice(Arc::new(voice::engine()));
            app.manage(engine);
            app.manage(launched);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            snapshot,
            sign_in,
            sign_out,
            set_available,
            act,
            send_message,
            mark_read,
            save_canned,
            delete_canned,
            visitor_profile,
            monitor_open,
            monitor_close,
            offline_messages,
            offline_messages_read,
            reply_offline,
            mail_transcript,
            set_draft,
            dismiss_refused,
            retry_refused,
            network_changed,
            history,
            transcript,
            report,
            report_chats,
            report_pushes,
            export_report,
            call_invite,
            invite_visitor,
            set_display_name,
            call_end,
            call_mute,
            painted,
            register_push_token,
            answer_notification,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("the app failed: {e}");
        std::process::exit(1);
    }
}
