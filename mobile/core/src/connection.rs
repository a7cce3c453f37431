//! The live WebSocket: [`Connection`] applies every frame it reads to its [`OperatorState`],
//! and resumes after a drop from the last `seq` of every known chat.
//!
//! Invariants:
//! - Frames read while waiting for the answer to a request are applied at once and kept, in
//!   order, for [`Connection::recv`]: nothing is lost or handed out twice.
//! - [`Connection::reconnect`] says `hello` with [`OperatorState::resume_points`], so the
//!   server replays exactly what was missed; the state survives reconnects.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use switchboard_shared::{
    ChatId, DeviceId, OperatorAction, OperatorRequest, OperatorServerMsg, PROTOCOL_VERSION,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{CoreError, OperatorState, Result, Session};

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
    /// Connects for `session`, resuming from `state`, and waits for `ready`.
    pub(crate) async fn open(session: Session, state: OperatorState) -> Result<Connection> {
        let mut conn = Connection {
            session,
            ws: None,
            next_req: 1,
            pending: VecDeque::new(),
            state,
            timeout: Duration::from_secs(10),
        };
        conn.reconnect().await?;
        Ok(conn)
    }

    /// (Re)connects and resumes: `hello` carries the last `seq` of every known chat, the
    /// server answers `ready` and replays what was missed.
    pub async fn reconnect(&mut self) -> Result<()> {
        if let Some(mut old) = self.ws.take() {
            let _ = old.close(None).await;
        }
        self.pending.clear();
        let url = self.session.client().ws_url("/api/operator/ws");
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

    /// "Send chat transcript": mails the chat to `email`; the `seq` of its queued event.
    /// `client_id` makes a retry safe.
    pub async fn mail_transcript(
        &mut self,
        chat_id: ChatId,
        client_id: &str,
        email: &str,
    ) -> Result<Option<i64>> {
        self.request(OperatorAction::MailTranscript {
            chat_id,
            client_id: client_id.to_owned(),
            email: email.to_owned(),
        })
        .await
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

    /// Invite the chat's visitor to talk (voice inside a text chat).
    pub async fn call_invite(&mut self, chat_id: ChatId) -> Result<Option<i64>> {
        self.request(OperatorAction::CallInvite { chat_id }).await
    }

    /// Relay a signal (answer, candidate, mute state) to the visitor's peer.
    pub async fn call_signal(
        &mut self,
        chat_id: ChatId,
        call_id: i64,
        signal: switchboard_shared::CallSignal,
    ) -> Result<Option<i64>> {
        self.request(OperatorAction::CallSignal {
            chat_id,
            call_id,
            signal,
        })
        .await
    }

    /// This peer's audio connected.
    pub async fn call_connected(&mut self, chat_id: ChatId, call_id: i64) -> Result<Option<i64>> {
        self.request(OperatorAction::CallConnected { chat_id, call_id })
            .await
    }

    /// This peer's audio could not connect: the chat goes on as text.
    pub async fn call_failed(&mut self, chat_id: ChatId, call_id: i64) -> Result<Option<i64>> {
        self.request(OperatorAction::CallFailed { chat_id, call_id })
            .await
    }

    /// "End call" (or take back an invitation, `call_id` 0): the chat goes on as text.
    pub async fn call_end(&mut self, chat_id: ChatId, call_id: i64) -> Result<Option<i64>> {
        self.request(OperatorAction::CallEnd { chat_id, call_id })
            .await
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
