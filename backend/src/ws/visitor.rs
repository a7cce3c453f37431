//! The visitor's WebSocket (`/api/widget/ws`): `hello` → `welcome` + missed events, then
//! chat actions in, chat events / availability / queue positions out.
//!
//! Invariant: events reach the widget in `seq` order, each once. The loop subscribes to the
//! hub *before* replaying from the database and drops live events it has already replayed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::Response;
use switchboard_shared::{
    ChatEvent, ChatId, ChatStatus, ChatSummary, ErrorCode, MAX_FRAME_BYTES, PROTOCOL_VERSION, Page,
    VisitorClientMsg, VisitorId, VisitorServerMsg,
};

use tracing::Instrument;

use super::{Conn, Frame, HELLO_TIMEOUT, IDLE_TIMEOUT, api};
use crate::AppState;
use crate::auth::{new_token, token_hash};
use crate::chat::{Actor, lifecycle::Action};
use crate::error::Error;
use crate::hub::{HubEvent, Topic};
use crate::store::{chats, now_ms, visitors};

/// `GET /api/widget/ws`.
pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| session(state, socket))
}

struct Session {
    state: AppState,
    visitor: VisitorId,
    page: Option<Page>,
    /// Highest `seq` sent per chat.
    sent: HashMap<ChatId, i64>,
}

async fn session(state: AppState, socket: WebSocket) {
    let mut conn = Conn::new(socket);
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, conn.recv::<VisitorClientMsg>()).await {
        Ok(Frame::Msg(VisitorClientMsg::Hello {
            protocol,
            visitor_token,
            page,
            last_seq,
        })) => {
            if protocol != PROTOCOL_VERSION {
                let error = api(
                    ErrorCode::UnsupportedProtocol,
                    format!("this server speaks protocol {PROTOCOL_VERSION}"),
                );
                conn.send(&VisitorServerMsg::Error {
                    client_id: None,
                    error,
                })
                .await;
                return conn.close(1008, "unsupported protocol").await;
            }
            (visitor_token, page, last_seq)
        }
        Ok(Frame::Msg(_)) => {
            let error = api(ErrorCode::HelloRequired, "the first frame must be hello");
            conn.send(&VisitorServerMsg::Error {
                client_id: None,
                error,
            })
            .await;
            return conn.close(1008, "hello required").await;
        }
        Ok(Frame::Bad(error)) => {
            conn.send(&VisitorServerMsg::Error {
                client_id: None,
                error,
            })
            .await;
            return conn.close(1008, "hello required").await;
        }
        Ok(Frame::Closed) | Err(_) => return,
    };
    let (token, page, last_seq) = hello;
    match identify(&state, token, page.as_ref()).await {
        Ok((visitor, token)) => {
            let span = tracing::info_span!("visitor", visitor = %visitor);
            let mut close = (1000, "bye");
            let mut session = Session {
                state,
                visitor,
                page,
                sent: HashMap::new(),
            };
            match session
                .run(&mut conn, token, last_seq)
                .instrument(span)
                .await
            {
                Ok(Some(code)) => close = code,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, visitor = %visitor, "visitor session failed");
                    let error = e.to_api();
                    conn.send(&VisitorServerMsg::Error {
                        client_id: None,
                        error,
                    })
                    .await;
                    close = (1011, "internal error");
                }
            }
            conn.close(close.0, close.1).await;
            let grace = session.state.config.visitor_grace_secs;
            tokio::spawn(miss_if_gone(session.state, visitor, grace));
        }
        Err(e) => {
            conn.send(&VisitorServerMsg::Error {
                client_id: None,
                error: e.to_api(),
            })
            .await;
            conn.close(1011, "internal error").await;
        }
    }
}

/// After the visitor's last widget went away, waits out the grace period; if the visitor is
/// still gone and its chat still unanswered, the chat is missed (nobody is left to answer).
async fn miss_if_gone(state: AppState, visitor: VisitorId, grace_secs: f64) {
    tokio::time::sleep(std::time::Duration::from_secs_f64(grace_secs)).await;
    if state.hub.subscribers(Topic::Visitor(visitor)) > 0 {
        return; // back (a reload, another page or tab)
    }
    let chat = match chats::latest_for_visitor(&state.store.read, visitor).await {
        Ok(Some(chat)) if matches!(chat.status, ChatStatus::Waiting | ChatStatus::Queued) => chat,
        Ok(_) => return,
        Err(e) => return tracing::warn!(error = %e, "missed-chat check failed"),
    };
    match state
        .chats
        .act(chat.id, Actor::System, Action::Abandoned)
        .await
    {
        Ok(_) => tracing::info!(chat = %chat.id, "visitor left before anyone answered: missed"),
        Err(Error::Client { .. }) => {} // taken meanwhile
        Err(e) => tracing::warn!(error = %e, chat = %chat.id, "marking a chat missed failed"),
    }
}

/// The visitor behind the token, or a new visitor (with a new token) when there is none.
async fn identify(
    state: &AppState,
    token: Option<String>,
    page: Option<&Page>,
) -> Result<(VisitorId, String), Error> {
    let now = now_ms();
    if let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 128)
        && let Some(id) = visitors::by_token_hash(&state.store.read, &token_hash(&token)).await?
    {
        visitors::touch(&state.store.write, id, page, now).await?;
        if let Some(page) = page {
            visitors::record_page(&state.store.write, id, page, now).await?;
        }
        return Ok((id, token));
    }
    let token = new_token();
    let id = visitors::create(&state.store.write, &token_hash(&token), page, now).await?;
    if let Some(page) = page {
        visitors::record_page(&state.store.write, id, page, now).await?;
    }
    Ok((id, token))
}

impl Session {
    async fn run(
        &mut self,
        conn: &mut Conn,
        token: String,
        last_seq: Option<i64>,
    ) -> Result<Option<(u16, &'static str)>, Error> {
        let mut sub = self.state.hub.subscribe(vec![Topic::Visitor(self.visitor)]);
        let mut available = self.state.hub.availability();
        let latest = chats::latest_for_visitor(&self.state.store.read, self.visitor).await?;
        // A fresh page shows the open chat only; a reconnect also learns how its chat ended.
        let chat = latest.filter(|c| !c.status.is_final() || last_seq.is_some());
        let welcome = VisitorServerMsg::Welcome {
            protocol: PROTOCOL_VERSION,
            visitor_id: self.visitor,
            visitor_token: token,
            available: *available.borrow_and_update(),
            chat: chat.clone(),
        };
        if !conn.send(&welcome).await {
            return Ok(None);
        }
        if let Some(chat) = &chat {
            self.replay(conn, chat, last_seq.unwrap_or(0)).await?;
            if !chat.status.is_final() {
                self.state.chats.refresh_line();
            }
        }
        let mut closing = self.state.closing.subscribe();
        let mut idle = Box::pin(tokio::time::sleep(IDLE_TIMEOUT));
        loop {
            tokio::select! {
                frame = conn.recv::<VisitorClientMsg>() => {
                    idle.as_mut().reset(tokio::time::Instant::now() + IDLE_TIMEOUT);
                    let reply = match frame {
                        Frame::Closed => return Ok(None),
                        Frame::Bad(error) => Some(VisitorServerMsg::Error { client_id: None, error }),
                        Frame::Msg(msg) => self.handle(msg).await,
                    };
                    // Events the action caused go out before its answer (see operator.rs).
                    while let Ok(event) = sub.rx.try_recv() {
                        if !self.forward(conn, event).await {
                            return Ok(None);
                        }
                    }
                    if let Some(reply) = reply
                        && !conn.send(&reply).await {
                            return Ok(None);
                        }
                }
                event = sub.rx.recv() => {
                    let Some(event) = event else { return Ok(Some((1013, "too slow: reconnect"))) };
                    if !self.forward(conn, event).await {
                        return Ok(None);
                    }
                }
                Ok(()) = available.changed() => {
                    let msg = VisitorServerMsg::Availability { available: *available.borrow_and_update() };
                    if !conn.send(&msg).await {
                        return Ok(None);
                    }
                }
                () = async { let _ = closing.wait_for(|c| *c).await; } => return Ok(Some((1012, "restarting"))),
                () = &mut idle => return Ok(Some((1001, "idle"))),
            }
        }
    }

    /// Sends the chat's events after `after` that the visitor may see.
    async fn replay(
        &mut self,
        conn: &mut Conn,
        chat: &ChatSummary,
        after: i64,
    ) -> Result<(), Error> {
        let mut after = after;
        loop {
            let events = chats::events_after(&self.state.store.read, chat.id, after, 500).await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                break;
            };
            for event in events {
                self.send_event(conn, event).await;
            }
            after = last;
        }
        let sent = self.sent.entry(chat.id).or_insert(0);
        *sent = (*sent).max(after);
        Ok(())
    }

    async fn send_event(&mut self, conn: &mut Conn, event: ChatEvent) -> bool {
        let sent = self.sent.entry(event.chat_id).or_insert(0);
        if event.seq <= *sent {
            return true;
        }
        *sent = event.seq;
        if chats::operator_only(&event.kind) {
            return true;
        }
        conn.send(&VisitorServerMsg::Event { event }).await
    }

    async fn forward(&mut self, conn: &mut Conn, event: Arc<HubEvent>) -> bool {
        match &*event {
            HubEvent::Chat { event, .. } => self.send_event(conn, event.clone()).await,
            HubEvent::QueuePosition { chat_id, position } => {
                conn.send(&VisitorServerMsg::QueuePosition {
                    chat_id: *chat_id,
                    position: *position,
                })
                .await
            }
            HubEvent::OperatorAvailability { .. } => true,
        }
    }

    async fn handle(&mut self, msg: VisitorClientMsg) -> Option<VisitorServerMsg> {
        let chats = &self.state.chats;
        let result = match msg {
            VisitorClientMsg::Ping => return Some(VisitorServerMsg::Pong),
            VisitorClientMsg::Hello { .. } => Err(Error::client(
                ErrorCode::IllegalTransition,
                "hello was already received",
            )),
            VisitorClientMsg::PageView { page } => {
                let now = now_ms();
                let store = &self.state.store.write;
                let r = match visitors::touch(store, self.visitor, Some(&page), now).await {
                    Ok(()) => visitors::record_page(store, self.visitor, &page, now).await,
                    Err(e) => Err(e),
                };
                self.page = Some(page);
                r.map(|_| None)
            }
            VisitorClientMsg::StartChat { name, mode } => chats
                .start(self.visitor, name, mode, self.page.clone())
                .await
                .map(|_| None),
            VisitorClientMsg::EndChat => match self.open_chat().await {
                Ok(chat) => chats
                    .act(chat, Actor::Visitor(self.visitor), Action::VisitorEnd)
                    .await
                    .map(|_| None),
                Err(e) => Err(e),
            },
            VisitorClientMsg::Send { client_id, text } => {
                // The latest chat, open or not: a retry of a message stored before the chat
                // ended is acknowledged again; a new message to an ended chat is refused.
                let result = match self.latest_chat().await {
                    Ok(chat) => {
                        chats
                            .send(chat, Actor::Visitor(self.visitor), client_id.clone(), text)
                            .await
                    }
                    Err(e) => Err(e),
                };
                return Some(match result {
                    Ok(done) => VisitorServerMsg::Ack {
                        client_id,
                        seq: done.seq.unwrap_or(0),
                    },
                    Err(e) => VisitorServerMsg::Error {
                        client_id: Some(client_id),
                        error: e.to_api(),
                    },
                });
            }
        };
        match result {
            Ok(reply) => reply,
            Err(e) => Some(VisitorServerMsg::Error {
                client_id: None,
                error: e.to_api(),
            }),
        }
    }

    /// The visitor's most recent chat.
    async fn latest_chat(&self) -> Result<ChatId, Error> {
        // The newest chat this connection has seen events of (ids only grow); the database
        // only when it has seen none.
        if let Some(id) = self.sent.keys().max() {
            return Ok(*id);
        }
        match chats::latest_for_visitor(&self.state.store.read, self.visitor).await? {
            Some(chat) => Ok(chat.id),
            None => Err(Error::client(
                ErrorCode::IllegalTransition,
                "there is no open chat",
            )),
        }
    }

    /// The visitor's chat that is not over yet.
    async fn open_chat(&self) -> Result<ChatId, Error> {
        match chats::latest_for_visitor(&self.state.store.read, self.visitor).await? {
            Some(chat) if !chat.status.is_final() => Ok(chat.id),
            _ => Err(Error::client(
                ErrorCode::IllegalTransition,
                "there is no open chat",
            )),
        }
    }
}
