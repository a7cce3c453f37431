//! WebSocket sessions: one skeleton, two sessions.
//!
//! This file is where a frame is parsed ([`parse`]) and where every session's life is written
//! once ([`serve`]): the upgrade with its frame limits, `hello` within [`HELLO_TIMEOUT`], the
//! hub subscription taken *before* the snapshot and replay are read, the loop, and the close
//! (a [`Close`] per situation, as `docs/protocol.md` lists them). The visitor's
//! ([`visitor`]) and the operator's ([`operator`]) sessions implement [`Session`]: what their
//! `hello` means, what they greet with, how they answer a frame, which hub events they forward.
//!
//! Invariants every session gets from here:
//! - Events reach the client in `seq` order, each once: [`Sent`] drops what was already sent,
//!   whether it came live or from a replay.
//! - The events an action caused go out before the action's answer, so a client that sees the
//!   answer has seen the change too.

pub mod operator;
pub mod visitor;

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_shared::{
    ApiError, ChatEvent, ChatId, ErrorCode, MAX_FRAME_BYTES, PROTOCOL_VERSION,
};
use tracing::Instrument;

use crate::error::Error;
use crate::http::Peer;
use crate::hub::{HubEvent, Subscription, Topic};
use crate::limits::Frames;
use crate::shutdown::Shutdown;
use crate::state::AppState;
use crate::store::{Store, chats};

/// How long a client has to send `hello`.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection that sends nothing (not even `ping`) for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Events read from the database per page of a replay.
const REPLAY_PAGE: i64 = 500;
/// A connection's read and write buffers (tungstenite's default is 128 KiB, zero-filled).
const BUFFER_BYTES: usize = 4 * 1024;

/// Why a session ends, as its close frame says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// The client closed, or a send failed (1000).
    Bye,
    /// Nothing heard from the client for [`IDLE_TIMEOUT`] (1001).
    Idle,
    /// The first frame was not `hello` (1008).
    HelloRequired,
    /// `hello` asked for another protocol version (1008).
    UnsupportedProtocol,
    /// The token in `hello` was refused (1008).
    Unauthorized,
    /// The sign-in ended while connected (1008).
    SessionEnded,
    /// The server failed (1011).
    Internal,
    /// Too many new visitors from this address: try again later (1013).
    RateLimited,
    /// The server is shutting down (1012).
    Restarting,
    /// The client fell too far behind (1013).
    TooSlow,
}

impl Close {
    /// The WebSocket close code.
    pub fn code(self) -> u16 {
        match self {
            Close::Bye => 1000,
            Close::Idle => 1001,
            Close::HelloRequired
            | Close::UnsupportedProtocol
            | Close::Unauthorized
            | Close::SessionEnded => 1008,
            Close::Internal => 1011,
            Close::Restarting => 1012,
            Close::TooSlow | Close::RateLimited => 1013,
        }
    }

    /// The close frame's reason text.
    pub fn reason(self) -> &'static str {
        match self {
            Close::Bye => "bye",
            Close::Idle => "idle",
            Close::HelloRequired => "hello required",
            Close::UnsupportedProtocol => "unsupported protocol",
            Close::Unauthorized => "unauthorized",
            Close::SessionEnded => "session ended",
            Close::Internal => "internal error",
            Close::Restarting => "restarting",
            Close::TooSlow => "too slow: reconnect",
            Close::RateLimited => "try again later",
        }
    }
}

/// A session that cannot go on: the frame to send, then how to close.
pub struct Refused<Out> {
    /// Sent before closing.
    pub frame: Out,
    /// The close.
    pub close: Close,
}

/// What a hub event means for a session.
pub enum Forward<Out> {
    /// Send these frames, in order.
    Send(Vec<Out>),
    /// Not for this client.
    Skip,
    /// The session cannot go on (its sign-in ended).
    End(Refused<Out>),
}

impl<Out> From<Option<Out>> for Forward<Out> {
    fn from(frame: Option<Out>) -> Forward<Out> {
        frame.map_or(Forward::Skip, |f| Forward::Send(vec![f]))
    }
}

/// What one frame from the client gave: a message, or the error to answer with.
pub type Frame<T> = Result<T, ApiError>;

/// What differs between the visitor's and the operator's session; [`serve`] is the rest.
pub trait Session: Sized + Send {
    /// Frames from the client.
    type In: DeserializeOwned + Send;
    /// Frames to the client.
    type Out: Serialize + Send + Sync;

    /// The frame that carries an error not tied to a request.
    fn error(error: ApiError) -> Self::Out;

    /// The frame that refuses one frame (with its request's id, when it has one).
    fn refuse(frame: &Self::In, error: ApiError) -> Self::Out;

    /// Starts a session from the first frame (from `peer`), or refuses it (not `hello`, wrong
    /// protocol, bad token…).
    fn open(
        state: &AppState,
        first: Self::In,
        peer: IpAddr,
    ) -> impl Future<Output = Result<Self, Refused<Self::Out>>> + Send;

    /// A span for everything the session logs.
    fn span(&self) -> tracing::Span;

    /// The hub topics the session follows.
    fn topics(&self) -> Vec<Topic>;

    /// Sends the snapshot and replays what the client missed; false when the client is gone.
    fn greet(&mut self, conn: &mut Conn) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Checked before each frame is handled (the operator's sign-in is re-checked).
    fn check(
        &mut self,
        _frame: &Frame<Self::In>,
    ) -> impl Future<Output = Result<(), Refused<Self::Out>>> + Send {
        async { Ok(()) }
    }

    /// Handles one frame; the answer goes out after the events it caused.
    fn handle(&mut self, msg: Self::In) -> impl Future<Output = Option<Self::Out>> + Send;

    /// What a hub event means for this client: a frame, nothing, or the end of the session.
    fn forward(&mut self, event: &HubEvent) -> impl Future<Output = Forward<Self::Out>> + Send;

    /// Anything else the session waits on (the visitor's availability); by default nothing.
    fn wake(&mut self) -> impl Future<Output = Self::Out> + Send {
        std::future::pending()
    }

    /// After the close: what the end of the session means (the visitor may have left, the
    /// operator's phone takes over ringing).
    fn finish(self, state: AppState) -> impl Future<Output = ()> + Send;
}

/// Upgrades to a WebSocket carrying session `S`, with the protocol's frame limits and small
/// buffers (an idle connection costs a few KiB; bigger frames still fit, up to the limit).
pub fn upgrade<S: Session + 'static>(
    ws: WebSocketUpgrade,
    state: AppState,
    peer: Peer,
) -> Response {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .on_upgrade(move |socket| serve::<S>(state, Conn::new(socket), peer.0))
}

/// A whole session: hello, greeting, the loop, the close.
pub async fn serve<S: Session>(state: AppState, mut conn: Conn, peer: IpAddr) {
    let first = match tokio::time::timeout(HELLO_TIMEOUT, conn.recv::<S::In>()).await {
        Ok(Some(first)) => first,
        // Gone, or silent: dropped without a close frame.
        Ok(None) | Err(_) => return,
    };
    let opened = match first {
        Ok(msg) => S::open(&state, msg, peer).await,
        Err(error) => Err(Refused {
            frame: S::error(error),
            close: Close::HelloRequired,
        }),
    };
    let mut session = match opened {
        Ok(session) => session,
        Err(refused) => {
            conn.send(&refused.frame).await;
            return conn.close(refused.close).await;
        }
    };
    let span = session.span();
    let close = live(&state, &mut conn, &mut session).instrument(span).await;
    conn.close(close).await;
    session.finish(state).await;
}

/// Subscribes, greets, then runs the loop until one side stops.
async fn live<S: Session>(state: &AppState, conn: &mut Conn, session: &mut S) -> Close {
    // Subscribed before the snapshot is read: nothing committed meanwhile is missed.
    let mut sub = state.hub.subscribe(session.topics());
    match session.greet(conn).await {
        Ok(true) => {}
        Ok(false) => return Close::Bye,
        Err(e) => {
            tracing::warn!(error = %e, "session failed");
            conn.send(&S::error(e.to_api())).await;
            return Close::Internal;
        }
    }
    let frames = state.limits.frames();
    run_loop(
        conn,
        session,
        &mut sub,
        &mut state.closing.listen(),
        &frames,
    )
    .await
}

async fn run_loop<S: Session>(
    conn: &mut Conn,
    session: &mut S,
    sub: &mut Subscription,
    shutdown: &mut Shutdown,
    frames: &Frames,
) -> Close {
    let mut idle = Box::pin(tokio::time::sleep(IDLE_TIMEOUT));
    loop {
        tokio::select! {
            frame = conn.recv::<S::In>() => {
                idle.as_mut().reset(tokio::time::Instant::now() + IDLE_TIMEOUT);
                let Some(frame) = frame else { return Close::Bye };
                // Events queued before the frame was read apply first (a sign-out, a new
                // name): the session checks the frame against them.
                while let Ok(event) = sub.rx.try_recv() {
                    if let Some(close) = forward(conn, session, &event).await {
                        return close;
                    }
                }
                if let Err(refused) = session.check(&frame).await {
                    conn.send(&refused.frame).await;
                    return refused.close;
                }
                let reply = match (frame, frames.check()) {
                    // Over the connection's frame budget: refused, not handled.
                    (Ok(msg), Err(limited)) => Some(S::refuse(&msg, limited.to_api())),
                    (Err(_), Err(limited)) => Some(S::error(limited.to_api())),
                    (Ok(msg), Ok(())) => session.handle(msg).await,
                    (Err(error), Ok(())) => Some(S::error(error)),
                };
                // The events the frame caused are queued already: they go first, then the
                // reply, all in one flush (the echo of a message and its ack leave together).
                while let Ok(event) = sub.rx.try_recv() {
                    if let Some(close) = forward(conn, session, &event).await {
                        return close;
                    }
                }
                if let Some(reply) = reply && !conn.feed(&reply).await {
                    return Close::Bye;
                }
                if !conn.flush().await {
                    return Close::Bye;
                }
            }
            event = sub.rx.recv() => {
                let Some(event) = event else { return Close::TooSlow };
                if let Some(close) = forward(conn, session, &event).await {
                    return close;
                }
                // Whatever else is queued by now goes in the same flush.
                while let Ok(event) = sub.rx.try_recv() {
                    if let Some(close) = forward(conn, session, &event).await {
                        return close;
                    }
                }
                if !conn.flush().await {
                    return Close::Bye;
                }
            }
            frame = session.wake() => if !conn.send(&frame).await {
                return Close::Bye;
            },
            () = shutdown.recv() => return Close::Restarting,
            () = &mut idle => return Close::Idle,
        }
    }
}

/// Queues what a hub event becomes for this session (the caller flushes); how to close when it
/// ends the session.
async fn forward<S: Session>(conn: &mut Conn, session: &mut S, event: &HubEvent) -> Option<Close> {
    match session.forward(event).await {
        Forward::Send(frames) => {
            for frame in frames {
                if !conn.feed(&frame).await {
                    return Some(Close::Bye);
                }
            }
            None
        }
        Forward::Skip => None,
        Forward::End(refused) => {
            conn.send(&refused.frame).await;
            Some(refused.close)
        }
    }
}

/// The highest `seq` sent per chat, so each event reaches the client once and in order,
/// whether it came live or from a replay.
#[derive(Debug, Default)]
pub struct Sent(HashMap<ChatId, i64>);

impl Sent {
    /// Whether the client has not had `event` yet; it counts as sent from now on.
    pub fn first_time(&mut self, event: &ChatEvent) -> bool {
        let sent = self.0.entry(event.chat_id).or_insert(0);
        if event.seq <= *sent {
            return false;
        }
        *sent = event.seq;
        true
    }

    /// The client has every event of `chat` up to `seq` already.
    pub fn had(&mut self, chat: ChatId, seq: i64) {
        let sent = self.0.entry(chat).or_insert(0);
        *sent = (*sent).max(seq);
    }

    /// The newest chat the client has had events of (chat ids only grow).
    pub fn newest_chat(&self) -> Option<ChatId> {
        self.0.keys().max().copied()
    }
}

/// Replays a chat's stored events after `after`, page by page: each the client has not had
/// yet goes out as the frame `frame` makes of it (`None`: not for this client). False when the
/// client is gone.
pub async fn replay<Out: Serialize>(
    conn: &mut Conn,
    store: &Store,
    sent: &mut Sent,
    from: (ChatId, i64),
    frame: impl FnMut(ChatEvent) -> Option<Out>,
) -> Result<bool, Error> {
    for out in replay_frames(store, sent, from, frame).await? {
        if !conn.send(&out).await {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The frames of [`replay`], to send later.
pub async fn replay_frames<Out>(
    store: &Store,
    sent: &mut Sent,
    (chat, after): (ChatId, i64),
    mut frame: impl FnMut(ChatEvent) -> Option<Out>,
) -> Result<Vec<Out>, Error> {
    sent.had(chat, after);
    let mut after = after;
    let mut frames = Vec::new();
    loop {
        let events = chats::events_after(&store.read, chat, after, REPLAY_PAGE).await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(frames);
        };
        for event in events {
            if sent.first_time(&event)
                && let Some(out) = frame(event)
            {
                frames.push(out);
            }
        }
        after = last;
    }
}

/// One WebSocket connection, speaking JSON frames.
pub struct Conn {
    socket: WebSocket,
}

impl Conn {
    /// Wraps an upgraded socket.
    pub fn new(socket: WebSocket) -> Conn {
        Conn { socket }
    }

    /// Sends one frame now; false when the connection is gone.
    pub async fn send<T: Serialize>(&mut self, msg: &T) -> bool {
        self.feed(msg).await && self.flush().await
    }

    /// Queues one frame to go with the next [`Conn::flush`] (frames written together leave in
    /// one write); false when the connection is gone.
    pub async fn feed<T: Serialize>(&mut self, msg: &T) -> bool {
        match serde_json::to_string(msg) {
            Ok(text) => self.socket.feed(Message::Text(text.into())).await.is_ok(),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode frame");
                false
            }
        }
    }

    /// Writes out what [`Conn::feed`] queued; false when the connection is gone.
    pub async fn flush(&mut self) -> bool {
        self.socket.flush().await.is_ok()
    }

    /// Reads the next frame, skipping control frames; `None` when the peer closed or the
    /// connection broke.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Option<Frame<T>> {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => return Some(parse(text.as_str())),
                Some(Ok(Message::Binary(_))) => {
                    return Some(Err(api(
                        ErrorCode::MalformedFrame,
                        "frames must be JSON text",
                    )));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None => return None,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "websocket read failed");
                    return None;
                }
            }
        }
    }

    /// Closes with the code and reason of `close`.
    pub async fn close(mut self, close: Close) {
        let frame = CloseFrame {
            code: close.code(),
            reason: close.reason().into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
    }
}

/// Builds an [`ApiError`].
pub fn api(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError {
        code,
        message: message.into(),
        retry_after_secs: None,
    }
}

/// Reads a frame: not JSON or the wrong shape is `malformed_frame`; an unknown `type` is
/// `unknown_type`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Frame<T> {
    serde_json::from_str::<T>(text).map_err(|e| {
        let msg = e.to_string();
        if msg.starts_with("unknown variant") {
            api(ErrorCode::UnknownType, format!("unknown frame type: {msg}"))
        } else {
            api(ErrorCode::MalformedFrame, format!("malformed frame: {msg}"))
        }
    })
}

/// A first frame refused: the error to answer with, and the close.
type HelloRefusal = (ApiError, Close);

/// Refuses a `hello` for another protocol version.
fn same_protocol(protocol: u32) -> Result<(), HelloRefusal> {
    if protocol == PROTOCOL_VERSION {
        return Ok(());
    }
    let message = format!("this server speaks protocol {PROTOCOL_VERSION}");
    let error = api(ErrorCode::UnsupportedProtocol, message);
    Err((error, Close::UnsupportedProtocol))
}

/// The refusal of a first frame that is not `hello`.
fn hello_required() -> HelloRefusal {
    let error = api(ErrorCode::HelloRequired, "the first frame must be hello");
    (error, Close::HelloRequired)
}

/// The refusal of a second `hello`.
fn hello_again() -> Error {
    Error::client(ErrorCode::IllegalTransition, "hello was already received")
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::{ChatEventKind, ChatStatus, EndReason, VisitorClientMsg};

    fn code(text: &str) -> Option<ErrorCode> {
        parse::<VisitorClientMsg>(text).err().map(|e| e.code)
    }

    #[test]
    fn frames_are_classified() {
        assert_eq!(code(r#"{"type":"ping"}"#), None);
        assert_eq!(
            code(r#"{"type":"launch_missiles"}"#),
            Some(ErrorCode::UnknownType)
        );
        assert_eq!(code("not json"), Some(ErrorCode::MalformedFrame));
        assert_eq!(
            code(r#"{"type":"send","text":1}"#),
            Some(ErrorCode::MalformedFrame)
        );
        assert_eq!(code("[1,2]"), Some(ErrorCode::MalformedFrame));
    }

    #[test]
    fn each_event_is_sent_once_in_order() {
        let event = |chat, seq| ChatEvent {
            chat_id: ChatId(chat),
            seq,
            at: 0,
            status: ChatStatus::Ended,
            kind: ChatEventKind::Ended {
                reason: EndReason::Visitor,
            },
        };
        let mut sent = Sent::default();
        sent.had(ChatId(1), 2);
        assert!(!sent.first_time(&event(1, 2)), "the client had it");
        assert!(sent.first_time(&event(1, 3)));
        assert!(!sent.first_time(&event(1, 3)), "twice");
        assert!(sent.first_time(&event(2, 1)), "chats count apart");
        assert!(!sent.first_time(&event(1, 1)), "out of order");
        assert_eq!(sent.newest_chat(), Some(ChatId(2)));
    }

    #[test]
    fn close_codes_follow_the_protocol() {
        assert_eq!((Close::Bye.code(), Close::Bye.reason()), (1000, "bye"));
        assert_eq!(Close::SessionEnded.code(), 1008);
        assert_eq!(Close::Restarting.code(), 1012);
        assert_eq!(Close::TooSlow.reason(), "too slow: reconnect");
    }
}
