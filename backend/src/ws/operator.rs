//! The operator's WebSocket (`/api/operator/ws`): `hello` with a token → `ready` snapshot and
//! the missed events of the operator's chats, then actions in (each answered by `ack` or
//! `error` with its `req`), events out.
//!
//! Invariant: as for visitors, the hub subscription starts before the snapshot and replay are
//! read, and live events at or below a chat's replayed `seq` are dropped, so nothing is missed
//! and nothing is doubled.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::Response;
use switchboard_shared::{
    ChatEventKind, ChatId, ChatStatus, DeviceId, ErrorCode, MAX_FRAME_BYTES, OperatorAction,
    OperatorId, OperatorProfile, OperatorRequest, OperatorServerMsg, PROTOCOL_VERSION, ResumeFrom,
};
use tracing::Instrument;

use super::{Conn, Frame, HELLO_TIMEOUT, IDLE_TIMEOUT, api};
use crate::AppState;
use crate::auth::operator_for_token;
use crate::chat::{lifecycle::Action, operator_actor};
use crate::error::Error;
use crate::hub::{DeviceOnline, HubEvent, Topic};
use crate::store::chats;

/// `GET /api/operator/ws`.
pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| session(state, socket))
}

struct Session {
    state: AppState,
    operator: OperatorProfile,
    /// Re-checked at every frame, so logout, password changes and expiry take effect at once.
    token: String,
    /// Highest `seq` sent per chat.
    sent: HashMap<ChatId, i64>,
    /// The operator's push device this connection speaks for (from `hello`).
    device: Option<DeviceId>,
    /// Held while the app is in the foreground: the device gets no push meanwhile.
    online: Option<DeviceOnline>,
}

async fn session(state: AppState, socket: WebSocket) {
    let mut conn = Conn::new(socket);
    let refuse = |req, code, message: &str| OperatorServerMsg::Error {
        req,
        error: api(code, message),
    };
    let (req, token, resume, device_id, background) =
        match tokio::time::timeout(HELLO_TIMEOUT, conn.recv::<OperatorRequest>()).await {
            Ok(Frame::Msg(OperatorRequest {
                req,
                action:
                    OperatorAction::Hello {
                        protocol,
                        token,
                        resume,
                        device_id,
                        background,
                    },
            })) => {
                if protocol != PROTOCOL_VERSION {
                    let msg = format!("this server speaks protocol {PROTOCOL_VERSION}");
                    conn.send(&refuse(Some(req), ErrorCode::UnsupportedProtocol, &msg))
                        .await;
                    return conn.close(1008, "unsupported protocol").await;
                }
                (req, token, resume, device_id, background)
            }
            Ok(Frame::Msg(r)) => {
                let msg = "the first frame must be hello";
                conn.send(&refuse(Some(r.req), ErrorCode::HelloRequired, msg))
                    .await;
                return conn.close(1008, "hello required").await;
            }
            Ok(Frame::Bad(error)) => {
                conn.send(&OperatorServerMsg::Error { req: None, error })
                    .await;
                return conn.close(1008, "hello required").await;
            }
            Ok(Frame::Closed) | Err(_) => return,
        };
    let (operator, _) = match operator_for_token(&state, &token).await {
        Ok(found) => found,
        Err(e) => {
            conn.send(&OperatorServerMsg::Error {
                req: Some(req),
                error: e.to_api(),
            })
            .await;
            return conn.close(1008, "unauthorized").await;
        }
    };
    let span = tracing::info_span!("operator", operator = %operator.id);
    // While this connection is up and the app in the foreground, its device rings here
    // rather than by push.
    let device = own_device(&state, operator.id, device_id)
        .await
        .unwrap_or_default();
    let online = device
        .filter(|_| !background)
        .map(|d| state.hub.device_online(d));
    let mut session = Session {
        state,
        operator,
        token,
        sent: HashMap::new(),
        device,
        online,
    };
    let result = session.run(&mut conn, resume).instrument(span).await;
    match result {
        Ok(Some(close)) => conn.close(close.0, close.1).await,
        Ok(None) => conn.close(1000, "bye").await,
        Err(e) => {
            tracing::warn!(error = %e, "operator session failed");
            conn.send(&OperatorServerMsg::Error {
                req: None,
                error: e.to_api(),
            })
            .await;
            conn.close(1011, "internal error").await;
        }
    }
    // The app is gone from this device: what rings now reaches it by push. (Not when the
    // server is shutting down: every app reconnects to the next one in seconds.)
    if !*session.state.closing.borrow() {
        session.leave_foreground().await;
    }
}

/// `device` if it is one of the operator's own push devices (any other id is ignored).
async fn own_device(
    state: &AppState,
    operator: OperatorId,
    device: Option<DeviceId>,
) -> Result<Option<DeviceId>, Error> {
    let Some(device) = device else {
        return Ok(None);
    };
    let devices = crate::store::push::devices_of(&state.store.read, operator).await?;
    Ok(devices.iter().any(|d| d.id == device).then_some(device))
}

impl Session {
    /// The device stops counting as online; if this connection held it, the requests ringing
    /// now reach it by push.
    async fn leave_foreground(&mut self) {
        let was_online = self.online.take().is_some(); // the guard drops here
        if was_online && let Some(device) = self.device {
            self.state.push.device_left(self.operator.id, device).await;
        }
    }

    async fn run(
        &mut self,
        conn: &mut Conn,
        resume: Vec<ResumeFrom>,
    ) -> Result<Option<(u16, &'static str)>, Error> {
        let me = self.operator.id;
        let mut sub = self
            .state
            .hub
            .subscribe(vec![Topic::Lobby, Topic::Operator(me)]);
        let read = &self.state.store.read;
        let (requests, queue, mine) = (
            chats::requests_for(read, me).await?,
            chats::with_status(read, ChatStatus::Queued).await?,
            chats::open_for_operator(read, me).await?,
        );
        // Replay: every chat the client listed (that it may still see) and every own chat.
        let mut replay: Vec<(ChatId, i64)> = mine.iter().map(|c| (c.id, 0)).collect();
        for r in &resume {
            match replay.iter_mut().find(|(id, _)| *id == r.chat_id) {
                Some(entry) => entry.1 = r.last_seq,
                None => replay.push((r.chat_id, r.last_seq)),
            }
        }
        let ready = OperatorServerMsg::Ready {
            protocol: PROTOCOL_VERSION,
            operator: self.operator.clone(),
            requests,
            queue,
            chats: mine,
            settings: self.state.chats.settings(),
        };
        if !conn.send(&ready).await {
            return Ok(None);
        }
        for (id, after) in replay {
            self.replay(conn, id, after).await?;
        }
        let mut closing = self.state.closing.subscribe();
        let mut idle = Box::pin(tokio::time::sleep(IDLE_TIMEOUT));
        loop {
            tokio::select! {
                frame = conn.recv::<OperatorRequest>() => {
                    idle.as_mut().reset(tokio::time::Instant::now() + IDLE_TIMEOUT);
                    if !matches!(frame, Frame::Closed)
                        && let Err(e) = operator_for_token(&self.state, &self.token).await {
                            let req = match &frame { Frame::Msg(r) => Some(r.req), _ => None };
                            conn.send(&OperatorServerMsg::Error { req, error: e.to_api() }).await;
                            return Ok(Some((1008, "session ended")));
                        }
                    let reply = match frame {
                        Frame::Closed => return Ok(None),
                        Frame::Bad(error) => OperatorServerMsg::Error { req: None, error },
                        Frame::Msg(OperatorRequest { req, action }) => match self.handle(action).await {
                            Ok(Reply::Ack(seq)) => OperatorServerMsg::Ack { req, seq },
                            Ok(Reply::Msg(msg)) => *msg,
                            Err(e) => OperatorServerMsg::Error { req: Some(req), error: e.to_api() },
                        },
                    };
                    // The events an action caused are already queued: send them before its
                    // answer, so a client that sees `ack` has seen the change too.
                    while let Ok(event) = sub.rx.try_recv() {
                        if !self.forward(conn, event).await {
                            return Ok(None);
                        }
                    }
                    if !conn.send(&reply).await {
                        return Ok(None);
                    }
                }
                event = sub.rx.recv() => {
                    let Some(event) = event else { return Ok(Some((1013, "too slow: reconnect"))) };
                    if !self.forward(conn, event).await {
                        return Ok(None);
                    }
                }
                () = async { let _ = closing.wait_for(|c| *c).await; } => return Ok(Some((1012, "restarting"))),
                () = &mut idle => return Ok(Some((1001, "idle"))),
            }
        }
    }

    /// Sends a chat's events after `after`, if this operator may see the chat.
    async fn replay(&mut self, conn: &mut Conn, id: ChatId, after: i64) -> Result<(), Error> {
        let read = &self.state.store.read;
        let Some(chat) = chats::get_from(read, id).await? else {
            return Ok(());
        };
        let mine = chat
            .operator
            .as_ref()
            .is_some_and(|o| o.id == self.operator.id);
        let open = matches!(chat.status, ChatStatus::Waiting | ChatStatus::Queued);
        if !mine && !open {
            return Ok(());
        }
        let mut after = after;
        loop {
            let events = chats::events_after(read, id, after, 500).await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                break;
            };
            for event in events {
                // Another operator's decline is theirs alone (as in live delivery).
                if let ChatEventKind::Declined { operator } = &event.kind
                    && operator.id != self.operator.id
                {
                    continue;
                }
                let sent = self.sent.entry(id).or_insert(0);
                if event.seq > *sent {
                    *sent = event.seq;
                    conn.send(&OperatorServerMsg::Event {
                        event,
                        chat: chat.clone(),
                    })
                    .await;
                }
            }
            after = last;
        }
        Ok(())
    }

    async fn forward(&mut self, conn: &mut Conn, event: Arc<HubEvent>) -> bool {
        match &*event {
            HubEvent::Chat { event, chat } => {
                let sent = self.sent.entry(event.chat_id).or_insert(0);
                if event.seq <= *sent {
                    return true;
                }
                *sent = event.seq;
                conn.send(&OperatorServerMsg::Event {
                    event: event.clone(),
                    chat: (**chat).clone(),
                })
                .await
            }
            HubEvent::OperatorAvailability {
                operator,
                available,
            } if *operator == self.operator.id => {
                self.operator.available = *available;
                conn.send(&OperatorServerMsg::Availability {
                    available: *available,
                })
                .await
            }
            HubEvent::OperatorAvailability { .. } | HubEvent::QueuePosition { .. } => true,
        }
    }

    async fn handle(&mut self, action: OperatorAction) -> Result<Reply, Error> {
        let chats = &self.state.chats;
        let me = operator_actor(&self.operator);
        let me_id = self.operator.id;
        let (chat, action) = match action {
            OperatorAction::Ping => return Ok(Reply::Msg(Box::new(OperatorServerMsg::Pong))),
            OperatorAction::Hello { .. } => {
                return Err(Error::client(
                    ErrorCode::IllegalTransition,
                    "hello was already received",
                ));
            }
            OperatorAction::SetAvailable { available } => {
                self.operator = chats.set_available(self.operator.id, available).await?;
                return Ok(Reply::Ack(None));
            }
            OperatorAction::AppState {
                background,
                device_id,
            } => {
                // A device registered after hello: this connection speaks for it from now on.
                if let Some(new) = device_id.filter(|d| Some(*d) != self.device)
                    && let Some(new) = own_device(&self.state, me_id, Some(new)).await?
                {
                    self.online = None;
                    self.device = Some(new);
                }
                if background {
                    self.leave_foreground().await;
                } else if let (Some(device), None) = (self.device, &self.online) {
                    self.online = Some(self.state.hub.device_online(device));
                }
                return Ok(Reply::Ack(None));
            }
            OperatorAction::Send {
                chat_id,
                client_id,
                text,
            } => {
                let done = chats.send(chat_id, me, client_id, text).await?;
                return Ok(Reply::Ack(done.seq));
            }
            OperatorAction::Accept { chat_id } => (chat_id, Action::Accept),
            OperatorAction::Decline { chat_id } => (chat_id, Action::Decline),
            OperatorAction::Queue { chat_id } => (chat_id, Action::Queue),
            OperatorAction::Hold { chat_id } => (chat_id, Action::Hold),
            OperatorAction::Resume { chat_id } => (chat_id, Action::Resume),
            OperatorAction::End { chat_id } => (chat_id, Action::OperatorEnd),
        };
        let done = chats.act(chat, me, action).await?;
        Ok(Reply::Ack(done.seq))
    }
}

enum Reply {
    Ack(Option<i64>),
    Msg(Box<OperatorServerMsg>),
}
