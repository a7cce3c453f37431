//! Switchboard's operator core: the client of the backend that the operator app (and the
//! end-to-end tests) use. No Tauri in here.
//!
//! - [`Client`] signs in over HTTP and gives a [`Session`] (token + profile).
//! - [`Session`] calls the operator and admin HTTP APIs and opens a [`Connection`].
//! - [`Connection`] is the live WebSocket: every frame it reads is applied to its
//!   [`OperatorState`] (requests, queue, own chats, last `seq` per chat), and
//!   [`Connection::reconnect`] resumes from those `seq`s so nothing is missed or doubled.

pub mod app;
pub mod cache;
mod state;
pub mod ui;

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_shared::{
    ApiError, CannedId, CannedMessage, ChatEvent, ChatId, CreateOperatorRequest, DeviceId,
    ErrorCode, LoginRequest, LoginResponse, OfflineMessage, OperatorAction, OperatorId,
    OperatorProfile, OperatorRequest, OperatorServerMsg, PROTOCOL_VERSION, PushAction,
    PushActionRequest, PushActionResponse, PushAttempt, PushDevice, PushSettingsUpdate,
    PushSettingsView, RegisterDeviceRequest, SaveCannedRequest, SetStatusRequest, Settings,
    UpdateOperatorRequest, VisitorId, VisitorProfile, WidgetStatus,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use state::OperatorState;

/// Everything the core can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The server refused the request with a typed error.
    #[error("{}: {}", serde_json::to_string(&.0.code).unwrap_or_default(), .0.message)]
    Api(ApiError),
    /// The HTTP request failed on the way.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The WebSocket failed.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server closed the connection.
    #[error("the connection is closed")]
    Closed,
    /// The server sent something this client does not understand.
    #[error("protocol: {0}")]
    Protocol(String),
    /// Nothing arrived in time.
    #[error("timed out waiting for the server")]
    Timeout,
}

impl CoreError {
    /// The server's error code, when the server refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CoreError::Api(e) => Some(e.code),
            _ => None,
        }
    }
}

/// Result with the core's error.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// A backend, by its base URL (`http://host:port` or `https://…`).
#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for the backend at `base_url`.
    pub fn new(base_url: &str) -> Result<Client> {
        // Two rustls crypto providers are linked in the graph; pick one for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Client {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Signs in.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session> {
        let req = LoginRequest {
            email: email.into(),
            password: password.into(),
        };
        let res: LoginResponse =
            answer(self.http.post(self.url("/api/auth/login")).json(&req)).await?;
        Ok(Session {
            client: self.clone(),
            token: res.token,
            expires_at: res.expires_at,
            operator: res.operator,
            device_id: None,
            background: false,
        })
    }

    /// A session from a token kept from an earlier login (the app keeps it across restarts).
    pub async fn resume_session(&self, token: &str) -> Result<Session> {
        let operator: OperatorProfile = answer(
            self.http
                .get(self.url("/api/operator/me"))
                .bearer_auth(token),
        )
        .await?;
        Ok(Session {
            client: self.clone(),
            token: token.into(),
            expires_at: 0,
            operator,
            device_id: None,
            background: false,
        })
    }

    /// Answers a chat request from a push notification's action (Accept, Queue, Decline) with
    /// the notification's action token: no sign-in needed, so the app can do it in the
    /// background. Another operator's accept first gives `already_taken`.
    pub async fn push_action(
        &self,
        action_token: &str,
        action: PushAction,
    ) -> Result<PushActionResponse> {
        let req = PushActionRequest {
            action_token: action_token.into(),
            action,
        };
        answer(self.http.post(self.url("/api/push/action")).json(&req)).await
    }

    /// Whether Live Help is available (what the widget shows).
    pub async fn widget_status(&self) -> Result<WidgetStatus> {
        answer(self.http.get(self.url("/api/widget/status"))).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn ws_url(&self, path: &str) -> String {
        let base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        format!("{base}{path}")
    }
}

/// Reads an HTTP answer: the body on success, the typed error otherwise.
async fn answer<T: DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T> {
    let res = req.send().await?;
    let status = res.status();
    let bytes = res.bytes().await?;
    if status.is_success() {
        let body = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(body).map_err(|e| CoreError::Protocol(e.to_string()))
    } else {
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => Err(CoreError::Api(e)),
            Err(_) => Err(CoreError::Protocol(format!(
                "HTTP {status} without an error body"
            ))),
        }
    }
}

/// A signed-in operator.
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    /// The bearer token.
    pub token: String,
    /// When the token expires (unix ms; 0 when unknown).
    pub expires_at: i64,
    /// Who signed in.
    pub operator: OperatorProfile,
    /// This device's push registration, sent in `hello` (no pushes while connected).
    pub device_id: Option<DeviceId>,
    /// The app is in the background: its device is pushed even while connected.
    pub background: bool,
}

impl Session {
    /// The backend.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        answer(
            self.client
                .http
                .get(self.client.url(path))
                .bearer_auth(&self.token),
        )
        .await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let mut req = self
            .client
            .http
            .request(method, self.client.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        answer(req).await
    }

    /// The signed-in operator's profile, fresh from the server.
    pub async fn me(&self) -> Result<OperatorProfile> {
        self.get("/api/operator/me").await
    }

    /// Live Help Available / Not Available.
    pub async fn set_available(&self, available: bool) -> Result<OperatorProfile> {
        let body = SetStatusRequest { available };
        self.send(reqwest::Method::PUT, "/api/operator/status", Some(&body))
            .await
    }

    /// Messages visitors left when nobody could answer, newest first.
    pub async fn offline_messages(&self) -> Result<Vec<OfflineMessage>> {
        self.get("/api/operator/offline-messages").await
    }

    /// A chat's history after `after`.
    pub async fn chat_events(&self, chat: ChatId, after: i64) -> Result<Vec<ChatEvent>> {
        self.get(&format!("/api/operator/chats/{chat}/events?after={after}"))
            .await
    }

    /// Signs out (the token stops working).
    pub async fn logout(&self) -> Result<()> {
        self.send::<(), serde_json::Value>(reqwest::Method::POST, "/api/auth/logout", None)
            .await?;
        Ok(())
    }

    /// The team's canned messages.
    pub async fn canned(&self) -> Result<Vec<CannedMessage>> {
        self.get("/api/operator/canned").await
    }

    /// Creates a canned message.
    pub async fn create_canned(&self, title: &str, text: &str) -> Result<CannedMessage> {
        let body = SaveCannedRequest {
            title: title.into(),
            text: text.into(),
        };
        self.send(reqwest::Method::POST, "/api/operator/canned", Some(&body))
            .await
    }

    /// Changes a canned message.
    pub async fn update_canned(
        &self,
        id: CannedId,
        title: &str,
        text: &str,
    ) -> Result<CannedMessage> {
        let body = SaveCannedRequest {
            title: title.into(),
            text: text.into(),
        };
        self.send(
            reqwest::Method::PUT,
            &format!("/api/operator/canned/{id}"),
            Some(&body),
        )
        .await
    }

    /// Deletes a canned message.
    pub async fn delete_canned(&self, id: CannedId) -> Result<()> {
        let path = format!("/api/operator/canned/{id}");
        self.send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// Registers this device's push token (after sign-in and whenever the token changes);
    /// remembers its id for `hello`.
    pub async fn register_device(&mut self, req: &RegisterDeviceRequest) -> Result<PushDevice> {
        let device: PushDevice = self
            .send(reqwest::Method::POST, "/api/operator/devices", Some(req))
            .await?;
        self.device_id = Some(device.id);
        Ok(device)
    }

    /// The operator's push devices.
    pub async fn devices(&self) -> Result<Vec<PushDevice>> {
        self.get("/api/operator/devices").await
    }

    /// Removes a push device (sign-out on it).
    pub async fn remove_device(&self, id: DeviceId) -> Result<()> {
        let path = format!("/api/operator/devices/{id}");
        self.send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// Admin: an operator's push devices.
    pub async fn devices_of(&self, operator: OperatorId) -> Result<Vec<PushDevice>> {
        self.get(&format!("/api/admin/operators/{operator}/devices"))
            .await
    }

    /// Admin: the push credentials (without their secrets).
    pub async fn push_settings(&self) -> Result<PushSettingsView> {
        self.get("/api/admin/push").await
    }

    /// Admin: changes the push credentials.
    pub async fn put_push_settings(&self, update: &PushSettingsUpdate) -> Result<PushSettingsView> {
        self.send(reqwest::Method::PUT, "/api/admin/push", Some(update))
            .await
    }

    /// Admin: logged push attempts for a chat and/or a device.
    pub async fn push_attempts(
        &self,
        chat: Option<ChatId>,
        device: Option<DeviceId>,
    ) -> Result<Vec<PushAttempt>> {
        let mut q = Vec::new();
        if let Some(c) = chat {
            q.push(format!("chat_id={c}"));
        }
        if let Some(d) = device {
            q.push(format!("device_id={d}"));
        }
        self.get(&format!("/api/admin/push/attempts?{}", q.join("&")))
            .await
    }

    /// A visitor's profile: pages seen, visits, earlier chats.
    pub async fn visitor_profile(&self, id: VisitorId) -> Result<VisitorProfile> {
        self.get(&format!("/api/operator/visitors/{id}")).await
    }

    /// Admin: every operator.
    pub async fn operators(&self) -> Result<Vec<OperatorProfile>> {
        self.get("/api/admin/operators").await
    }

    /// Admin: creates an operator.
    pub async fn create_operator(&self, req: &CreateOperatorRequest) -> Result<OperatorProfile> {
        self.send(reqwest::Method::POST, "/api/admin/operators", Some(req))
            .await
    }

    /// Admin: changes an operator.
    pub async fn update_operator(
        &self,
        id: OperatorId,
        req: &UpdateOperatorRequest,
    ) -> Result<OperatorProfile> {
        self.send(
            reqwest::Method::PATCH,
            &format!("/api/admin/operators/{id}"),
            Some(req),
        )
        .await
    }

    /// Admin: deletes an operator.
    pub async fn delete_operator(&self, id: OperatorId) -> Result<()> {
        let path = format!("/api/admin/operators/{id}");
        self.send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// Admin: the settings.
    pub async fn settings(&self) -> Result<Settings> {
        self.get("/api/admin/settings").await
    }

    /// Admin: replaces the settings.
    pub async fn put_settings(&self, settings: &Settings) -> Result<Settings> {
        self.send(reqwest::Method::PUT, "/api/admin/settings", Some(settings))
            .await
    }

    /// A session kept from an earlier sign-in, without asking the server (the first
    /// connection checks the token).
    pub fn restore(client: Client, token: String, operator: OperatorProfile) -> Session {
        Session {
            client,
            token,
            expires_at: 0,
            operator,
            device_id: None,
            background: false,
        }
    }

    /// Opens the live connection and waits for its `ready`.
    pub async fn connect(&self) -> Result<Connection> {
        self.connect_with(OperatorState::new(self.operator.clone()))
            .await
    }

    /// Opens the live connection resuming from a known state (from the cache): the server
    /// replays what happened to those chats since.
    pub async fn connect_with(&self, state: OperatorState) -> Result<Connection> {
        let mut conn = Connection {
            session: self.clone(),
            ws: None,
            next_req: 1,
            pending: VecDeque::new(),
            state,
            timeout: Duration::from_secs(10),
        };
        conn.reconnect().await?;
        Ok(conn)
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The operator's live connection.
pub struct Connection {
    session: Session,
    ws: Option<Ws>,
    next_req: u64,
    /// Frames read while waiting for an answer, not yet handed out by [`Connection::recv`].
    pending: VecDeque<OperatorServerMsg>,
    /// Everything this connection has learnt, kept across reconnects.
    pub state: OperatorState,
    /// How long to wait for an answer.
    pub timeout: Duration,
}

impl Connection {
    /// (Re)connects and resumes: `hello` carries the last `seq` of every known chat, the
    /// server answers `ready` and replays what was missed.
    pub async fn reconnect(&mut self) -> Result<()> {
        if let Some(mut old) = self.ws.take() {
            let _ = old.close(None).await;
        }
        self.pending.clear();
        let url = self.session.client.ws_url("/api/operator/ws");
        let (ws, _) = tokio::time::timeout(self.timeout, tokio_tungstenite::connect_async(url))
            .await
            .map_err(|_| CoreError::Timeout)??;
        self.ws = Some(ws);
        let hello = OperatorAction::Hello {
            protocol: PROTOCOL_VERSION,
            token: self.session.token.clone(),
            resume: self.state.resume_points(),
            device_id: self.session.device_id,
            background: self.session.background,
        };
        let req = self.write(hello).await?;
        let msg = self.read().await?;
        match msg {
            OperatorServerMsg::Ready { .. } => {
                self.state.apply(&msg);
                Ok(())
            }
            OperatorServerMsg::Error { error, .. } => Err(CoreError::Api(error)),
            other => Err(CoreError::Protocol(format!(
                "expected ready to hello {req}, got {other:?}"
            ))),
        }
    }

    /// Drops the connection without a goodbye (as a phone losing its network would).
    pub fn drop_connection(&mut self) {
        self.ws = None;
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None).await;
        }
    }

    async fn write(&mut self, action: OperatorAction) -> Result<u64> {
        let req = self.next_req;
        self.next_req += 1;
        let text = serde_json::to_string(&OperatorRequest { req, action })
            .map_err(|e| CoreError::Protocol(e.to_string()))?;
        self.send_raw(&text).await?;
        Ok(req)
    }

    /// Sends a raw text frame (for tests of bad input).
    pub async fn send_raw(&mut self, text: &str) -> Result<()> {
        let ws = self.ws.as_mut().ok_or(CoreError::Closed)?;
        ws.send(Message::Text(text.to_owned().into())).await?;
        Ok(())
    }

    /// Reads one frame from the socket (not from `pending`).
    async fn read(&mut self) -> Result<OperatorServerMsg> {
        let timeout = self.timeout;
        let ws = self.ws.as_mut().ok_or(CoreError::Closed)?;
        loop {
            let frame = tokio::time::timeout(timeout, ws.next())
                .await
                .map_err(|_| CoreError::Timeout)?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str())
                        .map_err(|e| CoreError::Protocol(format!("{e}: {text}")));
                }
                Some(Ok(Message::Close(_))) | None => {
                    self.ws = None;
                    return Err(CoreError::Closed);
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    self.ws = None;
                    return Err(e.into());
                }
            }
        }
    }

    /// The next frame from the server, applied to [`Connection::state`].
    pub async fn recv(&mut self) -> Result<OperatorServerMsg> {
        if let Some(msg) = self.pending.pop_front() {
            return Ok(msg);
        }
        let msg = self.read().await?;
        self.state.apply(&msg);
        Ok(msg)
    }

    /// Reads frames until one matches `pred` (within the timeout), and returns it.
    pub async fn wait_for(
        &mut self,
        mut pred: impl FnMut(&OperatorServerMsg) -> bool,
    ) -> Result<OperatorServerMsg> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.recv())
                .await
                .map_err(|_| CoreError::Timeout)??;
            if pred(&msg) {
                return Ok(msg);
            }
        }
    }

    /// Sends an action and waits for its answer; frames arriving meanwhile are applied and
    /// kept for [`Connection::recv`]. Returns the `seq` of the event it stored, if any.
    pub async fn request(&mut self, action: OperatorAction) -> Result<Option<i64>> {
        let req = self.write(action).await?;
        loop {
            let msg = self.read().await?;
            self.state.apply(&msg);
            match msg {
                OperatorServerMsg::Ack { req: r, seq } if r == req => return Ok(seq),
                OperatorServerMsg::Error {
                    req: Some(r),
                    error,
                } if r == req => {
                    return Err(CoreError::Api(error));
                }
                other => self.pending.push_back(other),
            }
        }
    }

    /// Sends a keep-alive; the `pong` arrives through [`Connection::recv`].
    pub async fn ping(&mut self) -> Result<()> {
        self.write(OperatorAction::Ping).await.map(|_| ())
    }

    /// True while the socket is up.
    pub fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    /// Accept a chat request (or take a chat from the queue).
    pub async fn accept(&mut self, chat_id: ChatId) -> Result<Option<i64>> {
        self.request(OperatorAction::Accept { chat_id }).await
    }

    /// Decline a chat request.
    pub async fn decline(&mut self, chat_id: ChatId) -> Result<Option<i64>> {
        self.request(OperatorAction::Decline { chat_id }).await
    }

    /// Queue a chat request.
    pub async fn queue(&mut self, chat_id: ChatId) -> Result<Option<i64>> {
        self.request(OperatorAction::Queue { chat_id }).await
    }

    /// Put a chat on hold.
    pub async fn hold(&mut self, chat_id: ChatId) -> Result<Option<i64>> {
        self.request(OperatorAction::Hold { chat_id }).await
    }

    /// Resume a chat from hold.
    pub async fn resume(&mut self, chat_id: ChatId) -> Result<Option<i64>> {
        self.request(OperatorAction::Resume { chat_id }).await
    }

    /// End a chat.
    pub async fn end(&mut self, chat_id: ChatId) -> Result<Option<i64>> {
        self.request(OperatorAction::End { chat_id }).await
    }

    /// Live Help Available / Not Available.
    pub async fn set_available(&mut self, available: bool) -> Result<()> {
        self.request(OperatorAction::SetAvailable { available })
            .await
            .map(|_| ())
    }

    /// The app went to the background (true) or came back (false): in the background its
    /// device is pushed again. Kept for reconnects.
    pub async fn set_background(&mut self, background: bool) -> Result<()> {
        self.session.background = background;
        self.send_app_state().await
    }

    /// Tells the server which device this connection speaks for (registered after it
    /// connected), and whether the app is in the background.
    pub async fn set_device(&mut self, device_id: DeviceId) -> Result<()> {
        self.session.device_id = Some(device_id);
        self.send_app_state().await
    }

    async fn send_app_state(&mut self) -> Result<()> {
        let action = OperatorAction::AppState {
            background: self.session.background,
            device_id: self.session.device_id,
        };
        self.request(action).await.map(|_| ())
    }

    /// Sends a message with a fresh client id; returns its `seq`.
    pub async fn send(&mut self, chat_id: ChatId, text: &str) -> Result<i64> {
        let client_id = new_client_id();
        self.send_with_id(chat_id, &client_id, text).await
    }

    /// Sends a message with a chosen client id (a retry reuses it and is stored once).
    pub async fn send_with_id(
        &mut self,
        chat_id: ChatId,
        client_id: &str,
        text: &str,
    ) -> Result<i64> {
        let action = OperatorAction::Send {
            chat_id,
            client_id: client_id.into(),
            text: text.into(),
        };
        self.request(action)
            .await?
            .ok_or_else(|| CoreError::Protocol("send without seq".into()))
    }
}

/// A client id unlikely to repeat: time plus a process-wide counter plus entropy from the
/// hasher's random keys.
pub fn new_client_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!("op-{nanos:x}-{n:x}-{:x}", h.finish())
}
