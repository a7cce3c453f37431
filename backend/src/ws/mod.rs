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
use std::sync::Arc;
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
/// A connection's read buffer: every connection has one from the start (zero-filled), so it
/// is sized for chat frames, not for the longest. A longer frame grows it to the frame's length
/// (up to [`MAX_FRAME_BYTES`]; the connection keeps it), read this much at a time.
/// Tungstenite's default is 128 KiB.
const READ_BUFFER_BYTES: usize = 1024;
/// Frames queued on a connection are written once they pass this, or at a flush. The write
/// buffer starts empty and grows as needed.
const WRITE_BUFFER_BYTES: usize = 4 * 1024;

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

    /// The server's state (each session keeps its own handle).
    fn state(&self) -> &AppState;

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
    fn finish(self) -> impl Future<Output = ()> + Send;
}

/// Upgrades to a WebSocket carrying session `S`, with the protocol's frame limits and small
/// buffers (an idle connection costs a few KiB; bigger frames still fit, up to the limit).
pub fn upgrade<S: Session + 'static>(
    ws: WebSocketUpgrade,
    state: AppState,
    peer: Peer,
) -> Response {
    // Boxed: axum's task keeps room for the callback as long as the connection lives, and so
    // does `serve` for its arguments (see there).
    let state = Box::new(state);
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| serve::<S>(state, Conn::new(socket), peer.0))
}

/// A whole session: hello, greeting, the loop, the close.
///
/// Every open connection holds this future for as long as it lives, so its size is much of
/// what an idle connection costs (issue 14: at most 8 KB in all). What runs only now and then
/// and needs a big future (opening the session, greeting, handling a frame, finishing) is
/// boxed, gone once done. Room for the arguments is kept to the end: the state comes boxed
/// and goes once the session is open (the session has its own), and the body is an `async`
/// block because an `async fn` keeps its arguments twice. `tests::sessions_are_small` holds
/// the futures to their size.
#[allow(clippy::manual_async_fn)] // an `async fn` would take 376 bytes more a connection
pub fn serve<S: Session>(
    state: Box<AppState>,
    mut conn: Conn,
    peer: IpAddr,
) -> impl Future<Output = ()> + Send {
    async move {
        let Some(mut session) = Box::pin(open::<S>(&state, &mut conn, peer)).await else {
            return;
        };
        drop(state);
        let span = session.span();
        let close = live(&mut conn, &mut session).instrument(span).await;
        conn.close(close).await;
        // The socket is closed before the session's end is dealt with.
        drop(conn);
        Box::pin(session.finish()).await;
    }
}

/// Waits for `hello` and opens the session; `None` when there is none (gone, silent, or
/// refused: then the refusal is sent and the connection closed).
async fn open<S: Session>(state: &AppState, conn: &mut Conn, peer: IpAddr) -> Option<S> {
    let first = match tokio::time::timeout(HELLO_TIMEOUT, conn.recv::<S::In>()).await {
        Ok(Some(first)) => first,
        // Gone, or silent: dropped without a close frame.
        Ok(None) | Err(_) => return None,
    };
    let opened = match first {
        Ok(msg) => S::open(state, msg, peer).await,
        Err(error) => Err(Refused {
            frame: S::error(error),
            close: Close::HelloRequired,
        }),
    };
    match opened {
        Ok(session) => Some(session),
        Err(refused) => {
            conn.send(&refused.frame).await;
            conn.close(refused.close).await;
            None
        }
    }
}

/// Subscribes, greets, then runs the loop until one side stops.
async fn live<S: Session>(conn: &mut Conn, session: &mut S) -> Close {
    let state = session.state();
    // Subscribed before the snapshot is read: nothing committed meanwhile is missed.
    let mut sub = state.hub.subscribe(session.topics());
    let frames = state.limits.frames();
    let mut shutdown = state.closing.listen();
    match Box::pin(session.greet(conn)).await {
        Ok(true) => {}
        Ok(false) => return Close::Bye,
        Err(e) => {
            tracing::warn!(error = %e, "session failed");
            conn.send(&S::error(e.to_api())).await;
            return Close::Internal;
        }
    }
    run_loop(conn, session, &mut sub, &mut shutdown, &frames).await
}

/// What woke a session's loop.
enum Woke<S: Session> {
    /// A frame from the client.
    Frame(Frame<S::In>),
    /// An event from the hub.
    Event(Arc<HubEvent>),
    /// A frame the session sends of its own accord ([`Session::wake`]).
    Wake(S::Out),
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
        // Only the wait lives in this future, which every idle connection holds (see
        // `serve`); what a wake-up does runs in a boxed future, freed when done.
        let woke = tokio::select! {
            frame = conn.recv::<S::In>() => {
                idle.as_mut().reset(tokio::time::Instant::now() + IDLE_TIMEOUT);
                let Some(frame) = frame else { return Close::Bye };
                Woke::Frame(frame)
            }
            event = sub.recv() => {
                let Some(event) = event else { return Close::TooSlow };
                Woke::Event(event)
            }
            frame = session.wake() => Woke::Wake(frame),
            () = shutdown.recv() => return Close::Restarting,
            () = &mut idle => return Close::Idle,
        };
        if let Some(close) = Box::pin(turn(conn, session, sub, frames, woke)).await {
            return close;
        }
    }
}

/// Answers what woke the loop, and writes it all in one flush; how to close when the session
/// cannot go on.
async fn turn<S: Session>(
    conn: &mut Conn,
    session: &mut S,
    sub: &mut Subscription,
    frames: &Frames,
    woke: Woke<S>,
) -> Option<Close> {
    let reply = match woke {
        Woke::Frame(frame) => {
            // Events queued before the frame was read apply first (a sign-out, a new name):
            // the session checks the frame against them.
            while let Some(event) = sub.try_recv() {
                if let Some(close) = forward(conn, session, &event).await {
                    return Some(close);
                }
            }
            if let Err(refused) = session.check(&frame).await {
                conn.send(&refused.frame).await;
                return Some(refused.close);
            }
            match (frame, frames.check()) {
                // Over the connection's frame budget: refused, not handled.
                (Ok(msg), Err(limited)) => Some(S::refuse(&msg, limited.to_api())),
                (Err(_), Err(limited)) => Some(S::error(limited.to_api())),
                (Ok(msg), Ok(())) => session.handle(msg).await,
                (Err(error), Ok(())) => Some(S::error(error)),
            }
        }
        Woke::Event(event) => {
            if let Some(close) = forward(conn, session, &event).await {
                return Some(close);
            }
            None
        }
        Woke::Wake(frame) => Some(frame),
    };
    // The events queued by now go first (those a frame caused are queued already), then the
    // reply, all in one flush: the echo of a message and its ack leave together.
    while let Some(event) = sub.try_recv() {
        if let Some(close) = forward(conn, session, &event).await {
            return Some(close);
        }
    }
    if let Some(reply) = reply
        && !conn.feed(&reply).await
    {
        return Some(Close::Bye);
    }
    (!conn.flush().await).then_some(Close::Bye)
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

    /// Sends the close frame with the code and reason of `close` (the socket closes when
    /// dropped).
    pub async fn close(&mut self, close: Close) {
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

    /// Issue 14 (an idle connection in 8 KB): a session's future lives as long as its
    /// connection, so it holds only what waiting needs (it was 8.9 KB for a visitor before).
    #[test]
    fn sessions_are_small() {
        fn size<A, B, C, F: Future>(_: impl FnOnce(A, B, C) -> F) -> usize {
            size_of::<F>()
        }
        let sessions = [
            ("visitor", size(serve::<visitor::VisitorSession>)),
            ("operator", size(serve::<operator::OperatorSession>)),
        ];
        for (session, bytes) in sessions {
            assert!(
                bytes <= 3 * 1024,
                "a {session}'s session takes {bytes} bytes"
            );
        }
    }

    #[test]
    fn close_codes_follow_the_protocol() {
        assert_eq!((Close::Bye.code(), Close::Bye.reason()), (1000, "bye"));
        assert_eq!(Close::SessionEnded.code(), 1008);
        assert_eq!(Close::Restarting.code(), 1012);
        assert_eq!(Close::TooSlow.reason(), "too slow: reconnect");
    }
}
