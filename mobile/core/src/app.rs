//! The operator app's engine, with no Tauri in it: the signed-in session, the live connection
//! (reconnecting with backoff and resuming from the cache), the outbox, canned-message sync,
//! push-token registration (driving [`PushRegistration`]), and the [`UiSnapshot`] the UI
//! renders. The Tauri shell is one-line commands into this.
//!
//! Invariants:
//! - Every action is written to the outbox (on disk) before it is tried, and leaves it once
//!   the server has answered (accepted or refused). So an action taken offline, or while the
//!   network drops, is sent once, in order, when the connection is back; messages carry their
//!   client id, so a resend after a lost answer is stored once.
//! - After every change the whole snapshot is emitted; the UI keeps no state of its own that
//!   the engine could contradict.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_shared::{
    CannedId, CannedMessage, ChatId, ChatStatus, ChatSummary, DeviceId, ErrorCode, OfflineMessage,
    OfflineMessageId, OperatorAction, OperatorProfile, OperatorServerMsg, PushAction,
    PushActionResponse, PushDelivery, PushDevice, PushPlatform, RegisterDeviceRequest, Report,
    ReportChatsPage, ReportChatsQuery, ReportQuery, ReportTable, VisitorId, VisitorProfile,
};
use tokio::sync::{mpsc, oneshot};

use crate::cache::{Cache, ChatAction, OutboxItem, Refused, StoredSession};
use crate::call::{CallKey, CallOut, CallOutput, VoiceEngine, current_call};
use crate::monitor::{MonitorView, SiteMonitor};
use crate::push::{PushAccount, PushEvent, PushRegistration, PushStep, PushToken, Registration};
use crate::ui::{
    self, CommandError, ConnectionState, HistoryView, Muted, SnapshotInput, Transcript, UiSnapshot,
};
use crate::{Client, Connection, CoreError, OperatorState, Session, new_client_id};

/// What the engine tells the UI.
#[derive(Debug, Clone)]
pub enum AppEvent {
    /// Everything changed (or something did): render this.
    Snapshot(Box<UiSnapshot>),
    /// A new chat request arrived: ring (and notify when the window is in the background).
    IncomingRequest(ChatSummary),
    /// A visitor wrote in one of the operator's chats (live, not a replay of the cache): the
    /// UI sounds and badges it, and the shell notifies when the window is not focused.
    VisitorMessage {
        /// The chat.
        chat: ChatSummary,
        /// What the visitor wrote.
        text: String,
    },
    /// The signed-in server changed (`None`: signed out). Phones pass it to their native push
    /// code, which answers notification actions itself when the app is not running.
    PushServer(Option<String>),
    /// The Site Monitor changed while it is open (at most every [`MONITOR_EVERY`]): render
    /// this. Kept out of [`UiSnapshot`], which goes out on every change and would carry a busy
    /// site's thousands of visitors each time.
    Monitor(MonitorView),
}

/// Where the engine sends its events (the Tauri shell forwards them to the webview).
pub type Emit = Arc<dyn Fn(AppEvent) + Send + Sync>;

/// The operator app's engine. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    cache: Cache,
    emit: Emit,
    data: Mutex<Data>,
    link: Mutex<Option<mpsc::Sender<Flush>>>,
    push: Mutex<PushRegistration>,
    /// Wakes the connection task out of its backoff (the network changed).
    retry_now: tokio::sync::Notify,
    /// The media side of calls, when this build has one.
    voice: Mutex<Option<Arc<dyn VoiceEngine>>>,
    /// Where the voice engine's output goes (forwarded, in order, to the connection).
    call_out: CallOut,
}

#[derive(Default)]
struct Data {
    session: Option<Session>,
    server: Option<String>,
    state: Option<OperatorState>,
    canned: Vec<CannedMessage>,
    connection: Option<ConnectionState>,
    read_upto: HashMap<ChatId, i64>,
    outbox: Vec<(i64, OutboxItem)>,
    refused: Vec<(i64, Refused)>,
    drafts: HashMap<ChatId, String>,
    muted: Muted,
    /// The visitors on the site, kept while the monitor is closed so reopening it resumes.
    monitor: SiteMonitor,
    /// The Site Monitor is on screen: the connection subscribes (again after a reconnect).
    monitor_open: bool,
    /// When the UI was last given the monitor, and whether a later render is scheduled.
    monitor_emitted: Option<std::time::Instant>,
    monitor_scheduled: bool,
    monitor_dirty: bool,
}

impl Data {
    /// The server and the session's operator, when signed in.
    fn account(&self) -> Option<(&str, &OperatorProfile)> {
        match (&self.server, &self.session) {
            (Some(server), Some(session)) => Some((server.as_str(), &session.operator)),
            _ => None,
        }
    }

    /// What the device kept of the work in hand: read marks, the outbox, refused actions and
    /// drafts.
    fn load_kept(&mut self, cache: &Cache) -> Result<(), CommandError> {
        self.read_upto = cache.read_upto().map_err(cache_err)?.into_iter().collect();
        self.outbox = cache.outbox().map_err(cache_err)?;
        self.refused = cache.refused().map_err(cache_err)?;
        self.drafts = cache.drafts().map_err(cache_err)?.into_iter().collect();
        Ok(())
    }

    /// The signed-in account, as push registration knows it.
    fn push_account(&self) -> Option<PushAccount> {
        self.account().map(|(server, operator)| PushAccount {
            server: server.to_owned(),
            operator: operator.id,
        })
    }
}

/// Asks the connection task to send the outbox; the reply is the result of item `wait`.
#[derive(Default)]
struct Flush {
    wait: Option<(i64, oneshot::Sender<Result<(), CommandError>>)>,
    /// The app moved to the background or registered its device: tell the server.
    app_state: Option<AppStateChange>,
    /// A live-only frame to send (a call's or an invitation; never kept offline).
    call: Option<LiveCmd>,
    /// The Site Monitor opened or closed: (un)subscribe to match `Data::monitor_open`.
    monitor: bool,
}

/// A reply to a command that needs the live connection.
type Reply = oneshot::Sender<Result<(), CommandError>>;

/// A frame only the live connection can carry (calls, invitations): sent at once, never queued
/// in the outbox.
enum LiveCmd {
    /// From the voice engine.
    Output(CallOutput),
    /// The operator invites the visitor to talk.
    Invite(ChatId, Reply),
    /// The operator ends the call (or takes back the invitation: call 0).
    End(CallKey, Reply),
    /// The operator invites a visitor on the site to chat (not a call, but as live).
    InviteVisitor(VisitorId, String, Reply),
    /// "Send chat transcript" (chat, client id, address).
    MailTranscript(ChatId, String, String, Reply),
}

#[derive(Debug, Clone, Copy)]
enum AppStateChange {
    Background(bool),
    Device(DeviceId),
}

/// The longest wait between two connection attempts: a server that comes back is found within
/// this (plus the attempt itself).
const MAX_BACKOFF: Duration = Duration::from_millis(1500);

/// The UI is given the Site Monitor at most this often (the server batches its deltas at the
/// same pace).
pub const MONITOR_EVERY: Duration = Duration::from_millis(250);

fn cache_err(e: impl std::fmt::Display) -> CommandError {
    CommandError::new("internal", format!("local storage failed: {e}"))
}

fn core_err(e: CoreError) -> CommandError {
    match e {
        CoreError::Api(api) => api.into(),
        CoreError::Http(_) | CoreError::Ws(_) | CoreError::Closed | CoreError::Timeout => {
            CommandError::new(
                "offline",
                "the server cannot be reached; try again when online",
            )
        }
        CoreError::Protocol(m) => CommandError::new("internal", m),
        CoreError::File(e) => CommandError::new("internal", format!("cannot write the file: {e}")),
    }
}

/// The server address as typed, made a base URL: a bare host (`help.example.com`) gets
/// `https://`; a path or trailing slash is dropped only when it is just `/`.
pub fn server_url(typed: &str) -> Result<String, CommandError> {
    let typed = typed.trim();
    if typed.trim_end_matches('/').is_empty() {
        return Err(CommandError::new(
            "invalid_input",
            "enter the server's address, for example help.example.com",
        ));
    }
    let url = match typed.split_once("://") {
        Some((scheme @ ("http" | "https"), rest)) if !rest.trim_end_matches('/').is_empty() => {
            format!("{scheme}://{}", rest.trim_end_matches('/'))
        }
        Some(_) => {
            return Err(CommandError::new(
                "invalid_input",
                "the server address must start with http:// or https://",
            ));
        }
        None if !typed.ends_with(':') => format!("https://{}", typed.trim_end_matches('/')),
        None => String::new(),
    };
    match reqwest::Url::parse(&url) {
        Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        _ => Err(CommandError::new(
            "invalid_input",
            format!("{typed} is not a server address"),
        )),
    }
}

/// A sign-in failure that could not reach the server says which address was tried.
fn tried(server: &str, e: CommandError) -> CommandError {
    if e.code == "offline" {
        CommandError::new(
            "offline",
            format!("{server} cannot be reached. Check the address and the network"),
        )
    } else {
        e
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl App {
    /// Opens the engine on its data directory; a kept session reconnects at once (must be
    /// called inside a tokio runtime).
    pub fn open(data_dir: &Path, emit: Emit) -> Result<App, CommandError> {
        std::fs::create_dir_all(data_dir).map_err(cache_err)?;
        let cache = Cache::open(&data_dir.join("switchboard-cache.sqlite3")).map_err(cache_err)?;
        Self::with_cache(cache, emit)
    }

    /// Opens the engine on a given cache.
    pub fn with_cache(cache: Cache, emit: Emit) -> Result<App, CommandError> {
        let mut data = Data::default();
        let stored = cache.session().map_err(cache_err)?;
        if let Some(s) = &stored {
            let client = Client::new(&s.server).map_err(core_err)?;
            data.session = Some(Session::restore(
                client,
                s.token.clone(),
                s.operator.clone(),
            ));
            data.server = Some(s.server.clone());
            data.state = cache.load_state().map_err(cache_err)?;
            data.canned = cache.canned().map_err(cache_err)?;
            data.load_kept(&cache)?;
            data.connection = Some(ConnectionState::Connecting);
        }
        let (call_out, call_rx) = mpsc::unbounded_channel();
        let app = App {
            inner: Arc::new(Inner {
                cache,
                emit,
                data: Mutex::new(data),
                link: Mutex::new(None),
                push: Mutex::new(PushRegistration::new()),
                retry_now: tokio::sync::Notify::new(),
                voice: Mutex::new(None),
                call_out,
            }),
        };
        tokio::spawn(forward_calls(Arc::downgrade(&app.inner), call_rx));
        if stored.is_some() {
            app.signed_in();
            app.start_link();
        }
        Ok(app)
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.inner.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit_snapshot(&self) {
        (self.inner.emit)(AppEvent::Snapshot(Box::new(self.snapshot())));
    }

    /// Everything the UI shows, now.
    pub fn snapshot(&self) -> UiSnapshot {
        let d = self.data();
        ui::snapshot(&SnapshotInput {
            account: d.account(),
            connection: d.connection,
            state: d.state.as_ref(),
            read_upto: &d.read_upto,
            outbox: &d.outbox,
            canned: &d.canned,
            refused: &d.refused,
            drafts: &d.drafts,
            muted: &d.muted,
        })
    }

    /// Signs in to a server and connects.
    pub async fn sign_in(
        &self,
        server: &str,
        email: &str,
        password: &str,
    ) -> Result<UiSnapshot, CommandError> {
        let server = server_url(server)?;
        let client = Client::new(&server).map_err(|e| tried(&server, core_err(e)))?;
        let session = client
            .login(email.trim(), password)
            .await
            .map_err(|e| tried(&server, core_err(e)))?;
        self.stop_link();
        let cache = &self.inner.cache;
        let previous = cache.session().map_err(cache_err)?;
        // Another account or server: nothing cached belongs to this one.
        if previous
            .as_ref()
            .is_none_or(|p| p.server != server || p.operator.id != session.operator.id)
        {
            cache.clear().map_err(cache_err)?;
        }
        let stored = StoredSession {
            server: server.clone(),
            token: session.token.clone(),
            operator: session.operator.clone(),
        };
        cache.set_session(&stored).map_err(cache_err)?;
        {
            let mut d = self.data();
            *d = Data::default();
            d.state = cache.load_state().map_err(cache_err)?;
            d.canned = cache.canned().map_err(cache_err)?;
            d.load_kept(cache)?;
            d.session = Some(session);
            d.server = Some(server);
            d.connection = Some(ConnectionState::Connecting);
        }
        self.signed_in();
        self.start_link();
        self.emit_snapshot();
        Ok(self.snapshot())
    }

    /// Signs out: the server forgets the token, the device forgets everything.
    pub async fn sign_out(&self) -> Result<UiSnapshot, CommandError> {
        self.stop_link();
        let session = self.data().session.take();
        if let Some(session) = session {
            // This device stops getting pushes for this operator, then the token ends.
            if let Some(device) = session.device_id {
                let _ = session.remove_device(device).await;
            }
            let _ = session.logout().await; // offline: the token expires by itself
        }
        self.inner.cache.clear().map_err(cache_err)?;
        *self.data() = Data::default();
        self.on_push(PushEvent::SignedOut);
        self.emit_snapshot();
        Ok(self.snapshot())
    }

    /// A chat action (Accept, Decline, Queue, Hold, Resume, End chat).
    pub async fn act(&self, chat_id: ChatId, action: ChatAction) -> Result<(), CommandError> {
        self.submit(OutboxItem::Act { chat_id, action }).await
    }

    /// Live Help Available / Not Available.
    pub async fn set_available(&self, available: bool) -> Result<(), CommandError> {
        self.submit(OutboxItem::SetAvailable { available }).await
    }

    /// Sends a message (shown as pending until the server has it).
    pub async fn send_message(&self, chat_id: ChatId, text: &str) -> Result<(), CommandError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CommandError::new("invalid_input", "the message is empty"));
        }
        if text.chars().count() > switchboard_shared::MAX_MESSAGE_CHARS {
            return Err(CommandError::new(
                "too_large",
                format!(
                    "messages are limited to {} characters",
                    switchboard_shared::MAX_MESSAGE_CHARS
                ),
            ));
        }
        let item = OutboxItem::Send {
            chat_id,
            client_id: new_client_id(),
            text: text.into(),
            at: now_ms(),
        };
        self.keep_draft(chat_id, "")?;
        self.submit(item).await
    }

    /// Keeps what the operator typed in a chat and has not sent, across chats and restarts.
    pub fn set_draft(&self, chat_id: ChatId, text: &str) -> Result<(), CommandError> {
        self.keep_draft(chat_id, text)
    }

    fn keep_draft(&self, chat_id: ChatId, text: &str) -> Result<(), CommandError> {
        self.inner
            .cache
            .set_draft(chat_id, text)
            .map_err(cache_err)?;
        let mut d = self.data();
        if text.is_empty() {
            d.drafts.remove(&chat_id);
        } else {
            d.drafts.insert(chat_id, text.to_owned());
        }
        Ok(())
    }

    /// Forgets a refused action (the operator has read why).
    pub fn dismiss_refused(&self, id: i64) -> Result<(), CommandError> {
        self.inner.cache.remove_refused(id).map_err(cache_err)?;
        self.data().refused.retain(|(i, _)| *i != id);
        self.emit_snapshot();
        Ok(())
    }

    /// Tries a refused action again (a message as a new message, written now).
    pub async fn retry_refused(&self, id: i64) -> Result<(), CommandError> {
        let refused = self.data().refused.iter().find(|(i, _)| *i == id).cloned();
        let Some((_, refused)) = refused else {
            return Err(CommandError::new(
                "not_found",
                "that action is no longer waiting",
            ));
        };
        let item = match refused.item {
            OutboxItem::Send { chat_id, text, .. } => OutboxItem::Send {
                chat_id,
                client_id: new_client_id(),
                text,
                at: now_ms(),
            },
            other => other,
        };
        self.inner.cache.remove_refused(id).map_err(cache_err)?;
        self.data().refused.retain(|(i, _)| *i != id);
        self.submit(item).await
    }

    /// The network changed (or came back): reconnect now instead of waiting out the backoff.
    pub fn network_changed(&self) {
        self.inner.retry_now.notify_one();
        self.restart_calls();
    }

    /// Restarts ICE on every connected call of this device (its network changed, or its
    /// connection to the server dropped and came back, as when a phone moves from Wi-Fi to
    /// mobile data): the call finds its new path instead of dropping.
    fn restart_calls(&self) {
        let Some(engine) = self.voice() else { return };
        let calls: Vec<CallKey> = {
            let d = self.data();
            let Some(state) = d.state.as_ref() else {
                return;
            };
            state
                .chats
                .keys()
                .filter_map(|&chat_id| {
                    let call = current_call(state.history.get(&chat_id)?)?;
                    (call.phase == crate::call::CallPhase::Connected).then_some(CallKey {
                        chat_id,
                        call_id: call.call_id,
                    })
                })
                .collect()
        };
        for call in calls {
            engine.restart_ice(call);
        }
    }

    /// Gives the engine its voice engine (the WebRTC peer and audio devices).
    pub fn set_voice(&self, engine: Arc<dyn VoiceEngine>) {
        *self.inner.voice.lock().unwrap_or_else(|p| p.into_inner()) = Some(engine);
    }

    fn voice(&self) -> Option<Arc<dyn VoiceEngine>> {
        self.inner
            .voice
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The chat's call now, as the snapshot shows it.
    fn call_of(&self, chat_id: ChatId) -> Option<crate::call::CallView> {
        let d = self.data();
        let history = d.state.as_ref()?.history.get(&chat_id)?;
        current_call(history)
    }

    /// Invites a visitor on the site (from the Site Monitor) to chat with this operator; the
    /// server puts the operator name for invitations in place of `%name%` (needs the
    /// connection).
    pub async fn invite(&self, visitor: VisitorId, text: &str) -> Result<(), CommandError> {
        let (tx, rx) = oneshot::channel();
        self.live(LiveCmd::InviteVisitor(visitor, text.to_owned(), tx), rx)
            .await
    }

    /// "Send chat transcript": mails the chat (running, or ended from History) to `email`;
    /// its progress shows as the chat's transcript mails (needs the connection).
    pub async fn mail_transcript(&self, chat_id: ChatId, email: &str) -> Result<(), CommandError> {
        let (tx, rx) = oneshot::channel();
        let client_id = new_client_id();
        let cmd = LiveCmd::MailTranscript(chat_id, client_id, email.to_owned(), tx);
        self.live(cmd, rx).await
    }

    /// Invites the chat's visitor to talk (needs the connection).
    pub async fn call_invite(&self, chat_id: ChatId) -> Result<(), CommandError> {
        let (tx, rx) = oneshot::channel();
        self.live(LiveCmd::Invite(chat_id, tx), rx).await
    }

    /// Ends the chat's call, or takes back the invitation; the chat goes on as text.
    pub async fn call_end(&self, chat_id: ChatId) -> Result<(), CommandError> {
        let call = self.call_of(chat_id).ok_or_else(|| {
            CommandError::new("illegal_transition", "there is no call in this chat")
        })?;
        let (tx, rx) = oneshot::channel();
        let key = CallKey {
            chat_id,
            call_id: call.call_id,
        };
        self.live(LiveCmd::End(key, tx), rx).await
    }

    /// Mutes (or unmutes) the operator's microphone in the chat's call; the visitor is told.
    pub fn set_call_muted(&self, chat_id: ChatId, muted: bool) -> Result<(), CommandError> {
        let call = self
            .call_of(chat_id)
            .filter(|c| c.call_id > 0)
            .ok_or_else(|| {
                CommandError::new("illegal_transition", "there is no call in this chat")
            })?;
        let key = CallKey {
            chat_id,
            call_id: call.call_id,
        };
        {
            let mut d = self.data();
            match muted {
                true => d.muted.operator.insert(chat_id),
                false => d.muted.operator.remove(&chat_id),
            };
        }
        if let Some(engine) = self.voice() {
            engine.set_muted(key, muted);
        }
        let _ = self.inner.call_out.send(CallOutput::Signal(
            key,
            switchboard_shared::CallSignal::Mute { muted },
        ));
        self.emit_snapshot();
        Ok(())
    }

    /// Sends a call command over the live connection and waits for the server's answer.
    async fn live(
        &self,
        cmd: LiveCmd,
        rx: oneshot::Receiver<Result<(), CommandError>>,
    ) -> Result<(), CommandError> {
        self.session()?;
        let offline = || {
            CommandError::new(
                "offline",
                "this needs the connection; try again when online",
            )
        };
        let link = self.link().ok_or_else(offline)?;
        if self.data().connection != Some(ConnectionState::Online) {
            return Err(offline());
        }
        link.send(Flush {
            call: Some(cmd),
            ..Flush::default()
        })
        .await
        .map_err(|_| offline())?;
        rx.await.unwrap_or_else(|_| Err(offline()))
    }

    /// History: ended chats, newest first, matching `search` (visitor name or message text),
    /// before the chat `before`. From the server when it answers (and kept for offline), from
    /// this device otherwise.
    pub async fn history(
        &self,
        search: &str,
        before: Option<ChatId>,
    ) -> Result<HistoryView, CommandError> {
        const PAGE: u32 = 30;
        let session = self.session()?;
        match session.history(before, search.trim(), PAGE).await {
            Ok(page) => {
                if let Err(e) = self.inner.cache.add_ended(&page.chats) {
                    tracing::warn!(error = %e, "cannot keep history");
                }
                Ok(HistoryView {
                    chats: page.chats,
                    next_before: page.next_before,
                    from_cache: false,
                })
            }
            Err(CoreError::Api(e)) => Err(e.into()),
            Err(_) => self.kept_history(search, before, PAGE as usize),
        }
    }

    /// History from this device: ended chats whose visitor name or a kept message matches.
    fn kept_history(
        &self,
        search: &str,
        before: Option<ChatId>,
        page: usize,
    ) -> Result<HistoryView, CommandError> {
        let needle = search.trim().to_lowercase();
        let cache = &self.inner.cache;
        let mut chats = Vec::new();
        for chat in cache.ended(before).map_err(cache_err)? {
            let found = needle.is_empty()
                || chat
                    .visitor_name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&needle))
                || cache.events(chat.id).map_err(cache_err)?.iter().any(|e| {
                    matches!(&e.kind, switchboard_shared::ChatEventKind::Message { text, .. }
                        if text.to_lowercase().contains(&needle))
                });
            if found {
                chats.push(chat);
                if chats.len() > page {
                    break;
                }
            }
        }
        let more = chats.len() > page;
        chats.truncate(page);
        Ok(HistoryView {
            next_before: more.then(|| chats.last().map(|c| c.id)).flatten(),
            chats,
            from_cache: true,
        })
    }

    /// An ended chat's transcript, read-only: from the server when it answers, else what the
    /// device kept.
    pub async fn transcript(&self, chat_id: ChatId) -> Result<Transcript, CommandError> {
        let session = self.session()?;
        let cache = &self.inner.cache;
        let kept = cache.ended_chat(chat_id).map_err(cache_err)?;
        match session.chat_events(chat_id, 0).await {
            Ok(events) => {
                let chat = match kept {
                    Some(c) => c,
                    None => return Err(CommandError::new("not_found", "chat not found")),
                };
                Ok(Transcript::new(chat, events, false))
            }
            Err(CoreError::Api(e)) => Err(e.into()),
            Err(_) => {
                let chat = kept.ok_or_else(|| {
                    CommandError::new(
                        "offline",
                        "this chat is not kept on this device; try again when online",
                    )
                })?;
                let events = cache.events(chat_id).map_err(cache_err)?;
                Ok(Transcript::new(chat, events, true))
            }
        }
    }

    /// Creates (no id) or changes a canned message; works offline.
    pub async fn save_canned(
        &self,
        id: Option<CannedId>,
        title: &str,
        text: &str,
    ) -> Result<(), CommandError> {
        let (title, text) = (title.trim().to_owned(), text.trim().to_owned());
        if title.is_empty() || text.is_empty() {
            return Err(CommandError::new(
                "invalid_input",
                "a canned message needs a title and a text",
            ));
        }
        {
            // Show it at once; the next sync replaces the list with the server's.
            let mut d = self.data();
            match id.and_then(|id| d.canned.iter_mut().find(|c| c.id == id)) {
                Some(c) => {
                    c.title = title.clone();
                    c.text = text.clone();
                }
                None => {
                    let temp = CannedId(-(d.canned.len() as i64) - 1);
                    d.canned.push(CannedMessage {
                        id: temp,
                        title: title.clone(),
                        text: text.clone(),
                        updated_at: now_ms(),
                    });
                }
            }
            d.canned.sort_by(|a, b| a.title.cmp(&b.title));
        }
        self.submit(OutboxItem::SaveCanned {
            id: id.filter(|i| i.0 > 0),
            title,
            text,
        })
        .await
    }

    /// Deletes a canned message; works offline.
    pub async fn delete_canned(&self, id: CannedId) -> Result<(), CommandError> {
        self.data().canned.retain(|c| c.id != id);
        if id.0 <= 0 {
            self.emit_snapshot();
            return Ok(()); // never reached the server
        }
        self.submit(OutboxItem::DeleteCanned { id }).await
    }

    /// Marks a chat read up to its last message.
    pub fn mark_read(&self, chat_id: ChatId) -> Result<(), CommandError> {
        let read: Vec<(ChatId, i64)> = {
            let mut d = self.data();
            let last = d
                .state
                .as_ref()
                .and_then(|s| s.last_seq.get(&chat_id).copied())
                .unwrap_or(0);
            d.read_upto.insert(chat_id, last);
            d.read_upto.iter().map(|(k, v)| (*k, *v)).collect()
        };
        self.inner.cache.set_read_upto(&read).map_err(cache_err)?;
        self.emit_snapshot();
        Ok(())
    }

    /// The platform's push token arrived or changed (APNs device token on iOS, FCM
    /// registration token on Android). Signed in, it is registered with the server now
    /// (replacing the old one) and the device returned; signed out, it is kept for the next
    /// sign-in ("sign in first"). Later sign-ins, and retries after a failure, are
    /// [`PushRegistration`]'s to decide. Connections made from then on tell the server which
    /// device they are, so a device whose app is open rings over its connection, not by push.
    pub async fn register_push_token(
        &self,
        platform: PushPlatform,
        token: &str,
    ) -> Result<PushDevice, CommandError> {
        let token = PushToken {
            platform,
            token: token.to_owned(),
        };
        let steps = self.push_machine().handle(PushEvent::Token(token));
        let mut now = None;
        for step in steps {
            match step {
                PushStep::Register(r) => now = Some(r),
                other => self.push_step(other),
            }
        }
        match now {
            Some(registration) => self.register(registration).await,
            None => Err(CommandError::new("unauthorized", "sign in first")),
        }
    }

    fn push_machine(&self) -> std::sync::MutexGuard<'_, PushRegistration> {
        self.inner.push.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells push registration who signed in (after sign-in, or a session restored at start).
    fn signed_in(&self) {
        let account = self.data().push_account();
        if let Some(account) = account {
            self.on_push(PushEvent::SignedIn(account));
        }
    }

    /// Feeds push registration an event and does what it says (in the background).
    fn on_push(&self, event: PushEvent) {
        let steps = self.push_machine().handle(event);
        for step in steps {
            self.push_step(step);
        }
    }

    fn push_step(&self, step: PushStep) {
        match step {
            PushStep::Register(registration) => {
                let app = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = app.register(registration).await {
                        tracing::info!(error = %e.message, "push: registering the device failed");
                    }
                });
            }
            PushStep::RetryIn(delay) => {
                let app = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    app.on_push(PushEvent::RetryDue);
                });
            }
            PushStep::SetServer(server) => (self.inner.emit)(AppEvent::PushServer(server)),
        }
    }

    /// Registers the device and reports the outcome to push registration.
    async fn register(&self, registration: Registration) -> Result<PushDevice, CommandError> {
        let result = self.register_device(&registration.token).await;
        self.on_push(match &result {
            Ok(_) => PushEvent::Succeeded(registration),
            Err(_) => PushEvent::Failed(registration),
        });
        result
    }

    /// `POST /api/operator/devices` for the signed-in operator, replacing the token registered
    /// before; the open connection speaks for this device from now on.
    async fn register_device(&self, token: &PushToken) -> Result<PushDevice, CommandError> {
        let mut session = self.session()?;
        let previous: Option<String> = self.inner.cache.push_token().map_err(cache_err)?;
        let req = RegisterDeviceRequest {
            platform: token.platform,
            token: token.token.clone(),
            name: None,
            replaces: previous.filter(|p| *p != token.token),
        };
        let device = session.register_device(&req).await.map_err(core_err)?;
        self.inner
            .cache
            .set_push_token(&token.token)
            .map_err(cache_err)?;
        if let Some(s) = self.data().session.as_mut() {
            s.device_id = Some(device.id);
        }
        // The open connection speaks for this device from now on: no pushes while in the
        // foreground.
        self.tell_link(AppStateChange::Device(device.id)).await;
        Ok(device)
    }

    /// The app went to the background (true) or came back (mobile lifecycle): the server
    /// pushes this device again while it is in the background, at once for the requests
    /// ringing now. Offline, the next connection says it in its `hello`.
    pub async fn set_background(&self, background: bool) {
        let changed = match self.data().session.as_mut() {
            Some(s) if s.background != background => {
                s.background = background;
                true
            }
            _ => false,
        };
        if changed {
            self.tell_link(AppStateChange::Background(background)).await;
        }
    }

    /// Passes an app state change to the live connection (offline, the next `hello` carries
    /// it).
    async fn tell_link(&self, change: AppStateChange) {
        if let Some(link) = self.link() {
            let _ = link
                .send(Flush {
                    app_state: Some(change),
                    ..Flush::default()
                })
                .await;
        }
    }

    /// A notification action (Accept, Queue, Decline) tapped while the app is in the
    /// background: answered with the push's action token alone, no sign-in. On Accept the
    /// caller opens the returned chat.
    pub async fn answer_notification(
        server: &str,
        action_token: &str,
        action: PushAction,
    ) -> Result<PushActionResponse, CommandError> {
        let client = Client::new(server).map_err(core_err)?;
        client
            .push_action(action_token, action)
            .await
            .map_err(core_err)
    }

    /// A notification action answered for the signed-in server (see
    /// [`App::answer_notification`]); "sign in first" when nobody is signed in.
    pub async fn act_on_notification(
        &self,
        action_token: &str,
        action: PushAction,
    ) -> Result<PushActionResponse, CommandError> {
        let server = self.data().account().map(|(server, _)| server.to_owned());
        let server = server.ok_or_else(|| CommandError::new("unauthorized", "sign in first"))?;
        App::answer_notification(&server, action_token, action).await
    }

    /// A visitor's profile (needs the network).
    pub async fn visitor_profile(&self, id: VisitorId) -> Result<VisitorProfile, CommandError> {
        self.session()?.visitor_profile(id).await.map_err(core_err)
    }

    /// Changes this operator's display name (what visitors and colleagues see from the next
    /// chat action on); needs the server.
    pub async fn set_display_name(&self, name: &str) -> Result<(), CommandError> {
        let profile = self.session()?.set_name(name).await.map_err(core_err)?;
        {
            let mut d = self.data();
            if let Some(session) = d.session.as_mut() {
                session.operator.name = profile.name.clone();
            }
            if let Some(state) = d.state.as_mut() {
                state.operator.name = profile.name;
            }
        }
        self.emit_snapshot();
        Ok(())
    }

    /// The Site Monitor is on screen: subscribe over the live connection (resuming from the
    /// last `seq` applied, so only what was missed comes), now and after every reconnect.
    /// Returns what is known now; changes follow as [`AppEvent::Monitor`].
    pub async fn monitor_open(&self) -> Result<MonitorView, CommandError> {
        self.session()?;
        self.data().monitor_open = true;
        self.tell_monitor().await;
        Ok(self.monitor_view())
    }

    /// The Site Monitor left the screen (or the app went to the background): unsubscribe. The
    /// list is kept, so opening it again resumes instead of starting over.
    pub async fn monitor_close(&self) {
        self.data().monitor_open = false;
        self.tell_monitor().await;
    }

    /// The Site Monitor now.
    pub fn monitor_view(&self) -> MonitorView {
        self.data().monitor.view()
    }

    /// Asks the connection task to match its subscription to `monitor_open` (offline, the next
    /// connection does).
    async fn tell_monitor(&self) {
        if let Some(link) = self.link() {
            let _ = link
                .send(Flush {
                    monitor: true,
                    ..Flush::default()
                })
                .await;
        }
    }

    /// Subscribes or unsubscribes the connection to match `monitor_open`; Err only when the
    /// connection failed.
    async fn sync_monitor(&self, conn: &mut Connection, subscribed: &mut bool) -> Result<(), ()> {
        let (open, last_seq) = {
            let d = self.data();
            (d.monitor_open, d.monitor.resume_seq())
        };
        if open == *subscribed {
            return Ok(());
        }
        let action = match open {
            true => OperatorAction::MonitorSubscribe { last_seq },
            false => OperatorAction::MonitorUnsubscribe,
        };
        // Frames read while waiting for the ack wait in the connection for `recv`.
        match conn.request(action).await {
            Ok(_) => {
                *subscribed = open;
                Ok(())
            }
            Err(CoreError::Api(e)) => {
                tracing::info!(error = %e.message, "the server refused a monitor subscription");
                Ok(())
            }
            Err(_) => Err(()),
        }
    }

    /// A monitor frame: fold it in, and give the UI the result (not more often than
    /// [`MONITOR_EVERY`]).
    fn on_monitor(&self, msg: &OperatorServerMsg) {
        let changed = self.data().monitor.apply(msg);
        if changed {
            self.data().monitor_dirty = true;
            self.emit_monitor();
        }
    }

    /// Emits the monitor now when the last emit is old enough, else once when it is; nothing
    /// while the monitor is closed or halfway through a snapshot.
    fn emit_monitor(&self) {
        let mut d = self.data();
        if !d.monitor_open || !d.monitor_dirty || d.monitor.loading() || d.monitor_scheduled {
            return;
        }
        let now = std::time::Instant::now();
        match d
            .monitor_emitted
            .map(|t| t + MONITOR_EVERY)
            .filter(|due| *due > now)
        {
            None => {
                d.monitor_emitted = Some(now);
                d.monitor_dirty = false;
                let view = d.monitor.view();
                drop(d);
                (self.inner.emit)(AppEvent::Monitor(view));
            }
            Some(due) => {
                d.monitor_scheduled = true;
                let app = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(due.into()).await;
                    app.data().monitor_scheduled = false;
                    app.emit_monitor();
                });
            }
        }
    }

    /// Messages left when nobody could answer (needs the network).
    pub async fn offline_messages(&self) -> Result<Vec<OfflineMessage>, CommandError> {
        self.session()?.offline_messages().await.map_err(core_err)
    }

    /// The operator has seen the offline messages up to `up_to`: the unread count drops.
    pub async fn offline_messages_read(&self, up_to: OfflineMessageId) -> Result<(), CommandError> {
        self.session()?
            .offline_messages_read(up_to)
            .await
            .map_err(core_err)?;
        let changed = {
            let mut d = self.data();
            match d.state.as_mut() {
                Some(state) => {
                    state.offline_new.retain(|m| m.id > up_to);
                    let left = state.offline_new.len() as u32;
                    let changed = state.offline_unread != left;
                    state.offline_unread = left;
                    changed
                }
                None => false,
            }
        };
        if changed {
            self.emit_snapshot();
        }
        Ok(())
    }

    /// "Reply by mail" to an offline message (needs the network); the message, marked
    /// answered.
    pub async fn reply_offline(
        &self,
        id: OfflineMessageId,
        text: &str,
    ) -> Result<OfflineMessage, CommandError> {
        let client_id = new_client_id();
        self.session()?
            .reply_offline(id, &client_id, text)
            .await
            .map_err(core_err)
    }

    /// Reports: the figures of a period (needs the network).
    pub async fn report(&self, query: &ReportQuery) -> Result<Report, CommandError> {
        self.session()?.report(query).await.map_err(core_err)
    }

    /// Reports: the chats behind a figure, a page at a time.
    pub async fn report_chats(
        &self,
        query: &ReportChatsQuery,
    ) -> Result<ReportChatsPage, CommandError> {
        self.session()?.report_chats(query).await.map_err(core_err)
    }

    /// Reports: which phones were rung about a chat, and how each push went.
    pub async fn report_pushes(&self, chat: ChatId) -> Result<Vec<PushDelivery>, CommandError> {
        self.session()?.report_pushes(chat).await.map_err(core_err)
    }

    /// Reports: saves a table as CSV in `dir` (the device's downloads) under a name that
    /// says what it holds; the file's path.
    pub async fn export_report(
        &self,
        table: ReportTable,
        query: &ReportQuery,
        bom: bool,
        dir: &Path,
    ) -> Result<String, CommandError> {
        let session = self.session()?;
        let when = match (query.period, &query.from, &query.to) {
            (Some(p), _, _) => serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            (None, Some(from), Some(to)) => format!("{from}-to-{to}"),
            _ => String::new(),
        };
        // Only safe characters in the name: the dates come from what the user typed.
        let when: String = when
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let file = dir.join(format!("switchboard-{}-{when}.csv", table.as_str()));
        std::fs::create_dir_all(dir)
            .map_err(|e| CommandError::new("internal", format!("cannot save here: {e}")))?;
        session
            .export_report(table, query, bom, &file)
            .await
            .map_err(core_err)?;
        Ok(file.display().to_string())
    }

    fn session(&self) -> Result<Session, CommandError> {
        self.data()
            .session
            .clone()
            .ok_or_else(|| CommandError::new("unauthorized", "sign in first"))
    }

    /// Writes the action to the outbox, then asks the connection to send it. Offline, it
    /// stays there (and shows as pending) until the connection is back.
    async fn submit(&self, item: OutboxItem) -> Result<(), CommandError> {
        self.session()?;
        let id = self
            .inner
            .cache
            .push_outbox(&item, now_ms())
            .map_err(cache_err)?;
        self.data().outbox.push((id, item));
        self.emit_snapshot();
        let Some(link) = self.link() else {
            return Ok(());
        };
        let (tx, rx) = oneshot::channel();
        if link
            .send(Flush {
                wait: Some((id, tx)),
                ..Flush::default()
            })
            .await
            .is_err()
        {
            return Ok(());
        }
        rx.await.unwrap_or(Ok(()))
    }

    /// The connection task's inbox, while it runs.
    fn link(&self) -> Option<mpsc::Sender<Flush>> {
        self.inner
            .link
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn start_link(&self) {
        let (tx, rx) = mpsc::channel(64);
        *self.inner.link.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        tokio::spawn(self.clone().run_link(rx));
    }

    fn stop_link(&self) {
        // Dropping the sender ends the task at its next turn.
        self.inner
            .link
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    fn set_connection(&self, c: ConnectionState) {
        self.data().connection = Some(c);
        self.emit_snapshot();
    }

    /// The connection task: connect, resume, send the outbox, follow the server; on any
    /// failure go offline and try again with backoff.
    async fn run_link(self, mut rx: mpsc::Receiver<Flush>) {
        let mut backoff = Duration::from_millis(250);
        let mut reconnected = false;
        loop {
            let Some((session, state)) = ({
                let d = self.data();
                d.session.clone().map(|s| {
                    let state = d
                        .state
                        .clone()
                        .unwrap_or_else(|| OperatorState::new(s.operator.clone()));
                    (s, state)
                })
            }) else {
                return;
            };
            self.set_connection(ConnectionState::Connecting);
            match session.connect_with(state).await {
                Ok(mut conn) => {
                    backoff = Duration::from_millis(250);
                    self.absorb(&conn, None);
                    self.set_connection(ConnectionState::Online);
                    self.on_push(PushEvent::Online);
                    if reconnected {
                        // Back after a drop: the network may have changed under the calls.
                        self.restart_calls();
                    }
                    reconnected = true;
                    self.sync_canned(&session).await;
                    if self.serve(&mut conn, &session, &mut rx).await.is_break() {
                        return;
                    }
                }
                Err(CoreError::Api(e))
                    if matches!(e.code, ErrorCode::Unauthorized | ErrorCode::TokenExpired) =>
                {
                    tracing::info!("the session ended on the server: signing out");
                    self.stop_link();
                    let _ = self.inner.cache.clear();
                    *self.data() = Data::default();
                    self.on_push(PushEvent::SignedOut);
                    self.emit_snapshot();
                    return;
                }
                Err(e) => tracing::debug!(error = %e, "connect failed"),
            }
            self.set_connection(ConnectionState::Offline);
            // Wait out the backoff (or until the network changes); flushes asked for meanwhile
            // stay pending (answered Ok).
            let deadline = tokio::time::sleep(backoff);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    () = &mut deadline => break,
                    () = self.inner.retry_now.notified() => break,
                    flush = rx.recv() => match flush {
                        None => return,
                        Some(Flush { wait: Some((_, reply)), .. }) => { let _ = reply.send(Ok(())); }
                        Some(Flush { call: Some(cmd), .. }) => cmd.offline(),
                        Some(_) => {}
                    },
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Follows a live connection until it fails (Continue: reconnect) or the app signs out
    /// (Break).
    async fn serve(
        &self,
        conn: &mut Connection,
        session: &Session,
        rx: &mut mpsc::Receiver<Flush>,
    ) -> std::ops::ControlFlow<()> {
        use std::ops::ControlFlow::{Break, Continue};
        if self.flush(conn, session, None).await.is_err() {
            return Continue(());
        }
        // A new connection has no subscription: the open monitor subscribes again, resuming.
        let mut subscribed = false;
        if self.sync_monitor(conn, &mut subscribed).await.is_err() {
            return Continue(());
        }
        loop {
            tokio::select! {
                msg = conn.recv() => match msg {
                    // The monitor's stream is not chat state: no cache write, no snapshot.
                    Ok(msg @ (OperatorServerMsg::MonitorSnapshot { .. }
                    | OperatorServerMsg::MonitorDeltas { .. })) => self.on_monitor(&msg),
                    Ok(msg) => self.absorb(conn, Some(&msg)),
                    Err(CoreError::Timeout) => {
                        // Quiet for a while: keep the connection (and the server) awake.
                        if conn.ping().await.is_err() {
                            return Continue(());
                        }
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "connection lost");
                        return Continue(());
                    }
                },
                flush = rx.recv() => match flush {
                    None => return Break(()),
                    Some(Flush { call: Some(cmd), .. }) => {
                        if self.call_frame(conn, cmd).await.is_err() {
                            return Continue(());
                        }
                    }
                    Some(Flush { monitor: true, .. }) => {
                        if self.sync_monitor(conn, &mut subscribed).await.is_err() {
                            return Continue(());
                        }
                    }
                    Some(Flush { app_state: Some(change), .. }) => {
                        let sent = match change {
                            AppStateChange::Background(b) => conn.set_background(b).await,
                            AppStateChange::Device(d) => conn.set_device(d).await,
                        };
                        if sent.is_err() {
                            return Continue(());
                        }
                    }
                    Some(f) => {
                        if self.flush(conn, session, f.wait).await.is_err() {
                            return Continue(());
                        }
                    }
                },
            }
        }
    }

    /// Sends a call frame; Err only when the connection failed.
    async fn call_frame(&self, conn: &mut Connection, cmd: LiveCmd) -> Result<(), ()> {
        let (result, reply) = match cmd {
            LiveCmd::Output(out) => {
                let result = match out {
                    CallOutput::Signal(k, signal) => {
                        conn.call_signal(k.chat_id, k.call_id, signal).await
                    }
                    CallOutput::Connected(k) => conn.call_connected(k.chat_id, k.call_id).await,
                    CallOutput::Failed(k) => conn.call_failed(k.chat_id, k.call_id).await,
                };
                (result, None)
            }
            LiveCmd::Invite(chat, reply) => (conn.call_invite(chat).await, Some(reply)),
            LiveCmd::End(k, reply) => (conn.call_end(k.chat_id, k.call_id).await, Some(reply)),
            LiveCmd::InviteVisitor(visitor_id, text, reply) => {
                let action = OperatorAction::Invite { visitor_id, text };
                (conn.request(action).await, Some(reply))
            }
            LiveCmd::MailTranscript(chat, client_id, email, reply) => {
                let result = conn.mail_transcript(chat, &client_id, &email).await;
                (result, Some(reply))
            }
        };
        let lost = matches!(result, Err(ref e) if !matches!(e, CoreError::Api(_)));
        if let Err(CoreError::Api(e)) = &result {
            tracing::info!(error = %e.message, "the server refused a call frame");
        }
        if let Some(reply) = reply {
            let _ = reply.send(result.map(|_| ()).map_err(core_err));
        }
        self.absorb(conn, None);
        if lost { Err(()) } else { Ok(()) }
    }

    /// Sends the outbox in order. Each item leaves it once the server answered; a connection
    /// failure stops the flush (Err) and leaves the rest for the next connection.
    async fn flush(
        &self,
        conn: &mut Connection,
        session: &Session,
        mut wait: Option<(i64, oneshot::Sender<Result<(), CommandError>>)>,
    ) -> Result<(), ()> {
        let items = self.data().outbox.clone();
        let mut canned_changed = false;
        for (id, item) in items {
            let result = self.execute(conn, session, &item).await;
            let answer = match result {
                Ok(()) => Ok(()),
                Err(CoreError::Api(e)) => Err(CommandError::from(e)),
                Err(e) => {
                    tracing::info!(error = %e, "outbox paused: connection lost");
                    if let Some((_, reply)) = wait.take() {
                        let _ = reply.send(Ok(())); // pending: it goes when we are back
                    }
                    self.absorb(conn, None);
                    return Err(());
                }
            };
            match &answer {
                Err(e) => {
                    tracing::info!(error = %e.message, label = item.label(), "the server refused an action");
                    self.refuse(id, &item, e);
                }
                Ok(()) => {
                    let _ = self.inner.cache.remove_outbox(id);
                    self.data().outbox.retain(|(i, _)| *i != id);
                }
            }
            canned_changed |= matches!(
                item,
                OutboxItem::SaveCanned { .. } | OutboxItem::DeleteCanned { .. }
            );
            if let Some((_, reply)) = wait.take_if(|(w, _)| *w == id) {
                let _ = reply.send(answer);
            }
        }
        if canned_changed {
            self.sync_canned(session).await;
        }
        self.absorb(conn, None);
        if let Some((id, reply)) = wait {
            // An earlier flush sent it: refused then, it is on the refused list.
            let refused = self
                .data()
                .refused
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, r)| CommandError {
                    code: r.code.clone(),
                    message: r.reason.clone(),
                });
            let _ = reply.send(refused.map_or(Ok(()), Err));
        }
        Ok(())
    }

    /// The server refused an outbox item: it leaves the outbox for the refused list, with the
    /// reason, where the operator sees it (nothing vanishes).
    fn refuse(&self, id: i64, item: &OutboxItem, e: &CommandError) {
        let mut d = self.data();
        let visitor = item.chat().and_then(|chat| {
            d.state.as_ref().and_then(|s| {
                [&s.chats, &s.requests, &s.queue]
                    .iter()
                    .find_map(|m| m.get(&chat))
                    .map(ui::visitor_name)
            })
        });
        let refused = Refused {
            item: item.clone(),
            code: e.code.clone(),
            reason: e.message.clone(),
            visitor,
            at: now_ms(),
        };
        if let Err(err) = self.inner.cache.refuse_outbox(id, &refused) {
            tracing::warn!(error = %err, "cannot keep a refused action");
        }
        d.outbox.retain(|(i, _)| *i != id);
        d.refused.push((id, refused));
    }

    async fn execute(
        &self,
        conn: &mut Connection,
        session: &Session,
        item: &OutboxItem,
    ) -> crate::Result<()> {
        match item {
            OutboxItem::Send {
                chat_id,
                client_id,
                text,
                ..
            } => conn
                .send_with_id(*chat_id, client_id, text)
                .await
                .map(|_| ()),
            OutboxItem::Act { chat_id, action } => {
                let c = *chat_id;
                match action {
                    ChatAction::Accept => conn.accept(c).await,
                    ChatAction::Decline => conn.decline(c).await,
                    ChatAction::Queue => conn.queue(c).await,
                    ChatAction::Hold => conn.hold(c).await,
                    ChatAction::Resume => conn.resume(c).await,
                    ChatAction::End => conn.end(c).await,
                }
                .map(|_| ())
            }
            OutboxItem::SetAvailable { available } => conn.set_available(*available).await,
            OutboxItem::SaveCanned {
                id: Some(id),
                title,
                text,
            } => session.update_canned(*id, title, text).await.map(|_| ()),
            OutboxItem::SaveCanned {
                id: None,
                title,
                text,
            } => session.create_canned(title, text).await.map(|_| ()),
            OutboxItem::DeleteCanned { id } => match session.delete_canned(*id).await {
                // deleted elsewhere already: the goal is reached
                Err(CoreError::Api(e)) if e.code == ErrorCode::NotFound => Ok(()),
                other => other,
            },
        }
    }

    async fn sync_canned(&self, session: &Session) {
        if !self.data().outbox.iter().any(|(_, i)| {
            matches!(
                i,
                OutboxItem::SaveCanned { .. } | OutboxItem::DeleteCanned { .. }
            )
        }) && let Ok(list) = session.canned().await
        {
            let _ = self.inner.cache.set_canned(&list);
            self.data().canned = list;
            self.emit_snapshot();
        }
    }

    /// Takes the connection's state after a frame: cache it, ring for new requests, render.
    fn absorb(&self, conn: &Connection, msg: Option<&OperatorServerMsg>) {
        // Answers and keep-alives change nothing: no copy, no disk write, no render.
        if matches!(
            msg,
            Some(
                OperatorServerMsg::Pong
                    | OperatorServerMsg::Ack { .. }
                    | OperatorServerMsg::Error { .. }
            )
        ) {
            return;
        }
        // On disk first: whatever the UI is shown is already in the cache.
        if let Err(e) = self.inner.cache.save_state(&conn.state) {
            tracing::warn!(error = %e, "cannot cache the state");
        }
        let (fresh, ended): (Vec<ChatSummary>, Vec<ChatSummary>) = {
            let mut d = self.data();
            let before: Vec<ChatId> = d
                .state
                .as_ref()
                .map(|s| s.requests.keys().copied().collect())
                .unwrap_or_default();
            let mine_before: Vec<ChatSummary> = d
                .state
                .as_ref()
                .map(|s| s.chats.values().cloned().collect())
                .unwrap_or_default();
            d.state = Some(conn.state.clone());
            let ended = ended_chats(&mine_before, &conn.state);
            for chat in &ended {
                d.drafts.remove(&chat.id);
            }
            // Live Help Not Available: nothing rings (the server sends no requests then; a
            // request seen just before the switch does not ring either).
            let fresh = match conn.state.operator.available {
                true => conn
                    .state
                    .requests
                    .values()
                    .filter(|c| !before.contains(&c.id) && c.status == ChatStatus::Waiting)
                    .cloned()
                    .collect(),
                false => Vec::new(),
            };
            (fresh, ended)
        };
        if !ended.is_empty() {
            if let Err(e) = self.inner.cache.add_ended(&ended) {
                tracing::warn!(error = %e, "cannot keep ended chats");
            }
            for chat in &ended {
                let _ = self.inner.cache.set_draft(chat.id, "");
            }
        }
        for chat in fresh {
            (self.inner.emit)(AppEvent::IncomingRequest(chat));
        }
        if let Some(msg) = msg {
            self.on_call_frame(msg);
        }
        if let Some(OperatorServerMsg::Event { event, chat }) = msg
            && let switchboard_shared::ChatEventKind::Message {
                author: switchboard_shared::Author::Visitor,
                text,
                ..
            } = &event.kind
            && conn.state.chats.contains_key(&chat.id)
        {
            (self.inner.emit)(AppEvent::VisitorMessage {
                chat: chat.clone(),
                text: text.clone(),
            });
        }
        self.emit_snapshot();
    }
}

impl App {
    /// Passes call frames and call-related events to the voice engine. Without an engine a
    /// call this device should take is reported failed, so the chat goes on as text.
    fn on_call_frame(&self, msg: &OperatorServerMsg) {
        use switchboard_shared::ChatEventKind as K;
        let voice = self.voice();
        match msg {
            OperatorServerMsg::CallReady {
                chat_id,
                call_id,
                ice_servers,
            } => {
                let key = CallKey {
                    chat_id: *chat_id,
                    call_id: *call_id,
                };
                match voice {
                    Some(engine) => {
                        engine.ready(key, ice_servers.clone(), self.inner.call_out.clone())
                    }
                    None => {
                        tracing::info!(chat = %chat_id, "no voice in this build: the call falls back to text");
                        let _ = self.inner.call_out.send(CallOutput::Failed(key));
                    }
                }
            }
            OperatorServerMsg::CallSignal {
                chat_id,
                call_id,
                signal,
            } => {
                if let switchboard_shared::CallSignal::Mute { muted } = signal {
                    let mut d = self.data();
                    match muted {
                        true => d.muted.visitor.insert(*chat_id),
                        false => d.muted.visitor.remove(chat_id),
                    };
                }
                if let Some(engine) = voice {
                    let key = CallKey {
                        chat_id: *chat_id,
                        call_id: *call_id,
                    };
                    engine.signal(key, signal.clone());
                }
            }
            OperatorServerMsg::Event { event, .. } => {
                let chat_id = event.chat_id;
                let held = match &event.kind {
                    K::CallEnded { call_id, .. } => {
                        {
                            let mut d = self.data();
                            d.muted.operator.remove(&chat_id);
                            d.muted.visitor.remove(&chat_id);
                        }
                        if let Some(engine) = voice {
                            engine.end(CallKey {
                                chat_id,
                                call_id: *call_id,
                            });
                        }
                        return;
                    }
                    K::OnHold { .. } => true,
                    K::Resumed { .. } => false,
                    _ => return,
                };
                if let (Some(engine), Some(call)) = (voice, self.call_of(chat_id))
                    && call.call_id > 0
                {
                    engine.set_held(
                        CallKey {
                            chat_id,
                            call_id: call.call_id,
                        },
                        held,
                    );
                }
            }
            _ => {}
        }
    }
}

impl LiveCmd {
    /// Answers a call command that arrived while offline.
    fn offline(self) {
        let reply = match self {
            LiveCmd::Output(_) => return, // a call cannot outlive the connection's absence
            LiveCmd::Invite(_, reply)
            | LiveCmd::End(_, reply)
            | LiveCmd::InviteVisitor(_, _, reply)
            | LiveCmd::MailTranscript(_, _, _, reply) => reply,
        };
        let _ = reply.send(Err(CommandError::new(
            "offline",
            "calls need the connection; try again when online",
        )));
    }
}

/// Forwards the voice engine's output to the connection task, in order, while the app lives.
async fn forward_calls(inner: std::sync::Weak<Inner>, mut rx: mpsc::UnboundedReceiver<CallOutput>) {
    while let Some(out) = rx.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        let link = App { inner }.link();
        if let Some(link) = link {
            let _ = link
                .send(Flush {
                    call: Some(LiveCmd::Output(out)),
                    ..Flush::default()
                })
                .await;
        }
    }
}

/// Own chats that left the list because they ended, as History keeps them (status, end time
/// and last `seq` from their last event).
fn ended_chats(before: &[ChatSummary], state: &OperatorState) -> Vec<ChatSummary> {
    before
        .iter()
        .filter(|c| !state.chats.contains_key(&c.id))
        .filter_map(|c| {
            let last = state.history.get(&c.id)?.last()?;
            matches!(last.status, ChatStatus::Ended | ChatStatus::Missed).then(|| ChatSummary {
                status: last.status,
                ended_at: Some(last.at),
                last_seq: last.seq,
                ..c.clone()
            })
        })
        .collect()
}
