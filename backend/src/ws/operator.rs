//! The operator's WebSocket (`/api/operator/ws`): `hello` with a token → `ready` snapshot and
//! the missed events of the operator's chats, then actions in (each answered by `ack` or
//! `error` with its `req`), events out. The skeleton (hello, loop, replay, close) is
//! [`super::serve`]'s; this is what the operator's session adds: the sign-in, re-checked at
//! every frame, and the push device the app speaks for.

use std::net::IpAddr;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use switchboard_shared::{
    ApiError, CallParty, ChatId, ChatStatus, DeviceId, ErrorCode, OperatorAction, OperatorId,
    OperatorProfile, OperatorRef, OperatorRequest, OperatorServerMsg, PROTOCOL_VERSION, Page,
    ResumeFrom, VisitorId,
};

use super::{Close, Conn, Forward, Frame, Refused, Sent, Session};
use crate::auth::operator_for_token;
use crate::chat::calls::Report;
use crate::chat::{Move, audience, operator_actor};
use crate::error::Error;
use crate::http::Peer;
use crate::hub::{DeviceOnline, HubEvent, Topic};
use crate::monitor;
use crate::state::AppState;
use crate::store::{chats, now_ms};

/// `GET /api/operator/ws`.
pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>, peer: Peer) -> Response {
    super::upgrade::<OperatorSession>(ws, state, peer)
}

/// One operator app's connection.
pub struct OperatorSession {
    state: AppState,
    operator: OperatorProfile,
    /// The sign-in. Read from the database at the first frame after the hub subscription (a
    /// sign-out just before it would go unseen otherwise) and at every `OperatorChanged`
    /// event (sign-out, new password, rights or name, removal), so those take effect at once;
    /// between them a frame costs no database read, only the expiry check against the clock.
    token: String,
    /// When the sign-in expires.
    expires_at: i64,
    /// The sign-in was read since the hub subscription began.
    checked: bool,
    /// The chats the app asked to resume, with the last `seq` it has of each.
    resume: Vec<ResumeFrom>,
    sent: Sent,
    /// The operator's push device this connection speaks for (from `hello`).
    device: Option<DeviceId>,
    /// Held while the app is in the foreground: the device gets no push meanwhile.
    online: Option<DeviceOnline>,
    /// Requests ring here: the operator has Live Help Available.
    ringing: bool,
    /// The Site Monitor's stream, while the app shows it.
    monitor: Option<monitor::Subscription>,
    /// Whether mail is configured ("Send chat transcript" follows it).
    mail: tokio::sync::watch::Receiver<Option<switchboard_shared::MailInfo>>,
}

fn error(req: Option<u64>, error: ApiError) -> OperatorServerMsg {
    OperatorServerMsg::Error { req, error }
}

impl Session for OperatorSession {
    type In = OperatorRequest;
    type Out = OperatorServerMsg;

    fn error(e: ApiError) -> OperatorServerMsg {
        error(None, e)
    }

    fn refuse(frame: &OperatorRequest, e: ApiError) -> OperatorServerMsg {
        error(Some(frame.req), e)
    }

    async fn open(
        state: &AppState,
        first: OperatorRequest,
        _peer: IpAddr,
    ) -> Result<Self, Refused<Self::Out>> {
        let req = Some(first.req);
        let refuse = |(e, close)| Refused {
            frame: error(req, e),
            close,
        };
        let OperatorAction::Hello {
            protocol,
            token,
            resume,
            device_id,
            background,
        } = first.action
        else {
            return Err(refuse(super::hello_required()));
        };
        super::same_protocol(protocol).map_err(refuse)?;
        let (operator, expires_at) = operator_for_token(&state.store, &token)
            .await
            .map_err(|e| refuse((e.to_api(), Close::Unauthorized)))?;
        // While this connection is up and the app in the foreground, its device rings here
        // rather than by push.
        let device = own_device(state, operator.id, device_id)
            .await
            .unwrap_or_default();
        let online = device
            .filter(|_| !background)
            .map(|d| state.hub.device_online(d));
        Ok(OperatorSession {
            state: state.clone(),
            ringing: operator.available,
            monitor: None,
            mail: state.mail.watch(),
            operator,
            token,
            expires_at,
            checked: false,
            resume,
            sent: Sent::default(),
            device,
            online,
        })
    }

    fn state(&self) -> &AppState {
        &self.state
    }

    fn span(&self) -> tracing::Span {
        tracing::info_span!("operator", operator = %self.operator.id)
    }

    fn topics(&self) -> Vec<Topic> {
        vec![Topic::Lobby, Topic::Operator(self.operator.id)]
    }

    async fn greet(&mut self, conn: &mut Conn) -> Result<bool, Error> {
        let (me, read) = (self.operator.id, &self.state.store.read);
        // Not Available: nothing rings (the queue stays in view).
        let requests = match self.ringing {
            true => chats::requests_for(read, me).await?,
            false => Vec::new(),
        };
        let (queue, mine) = (
            chats::with_status(read, ChatStatus::Queued).await?,
            chats::open_for_operator(read, me).await?,
        );
        // Replay: every own chat, and every chat the client listed (that it may still see).
        let mut replay: Vec<(ChatId, i64)> = mine.iter().map(|c| (c.id, 0)).collect();
        for r in std::mem::take(&mut self.resume) {
            match replay.iter_mut().find(|(id, _)| *id == r.chat_id) {
                Some(entry) => entry.1 = r.last_seq,
                None => replay.push((r.chat_id, r.last_seq)),
            }
        }
        let offline_unread = crate::store::mail::offline_unread(read, me).await?;
        let mail = self.mail.borrow_and_update().clone();
        let ready = OperatorServerMsg::Ready {
            protocol: PROTOCOL_VERSION,
            operator: self.operator.clone(),
            requests,
            queue,
            chats: mine,
            settings: self.state.settings.get(),
            mail,
            offline_unread,
        };
        if !conn.send(&ready).await {
            return Ok(false);
        }
        for from in replay {
            if !self.replay(conn, from).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn check(&mut self, frame: &Frame<OperatorRequest>) -> Result<(), Refused<Self::Out>> {
        let req = frame.as_ref().ok().map(|r| r.req);
        if !self.checked {
            self.signed_in(req).await?;
            self.checked = true;
        } else if now_ms() >= self.expires_at {
            let expired = Error::client(
                ErrorCode::TokenExpired,
                "the session has expired: sign in again",
            );
            return Err(Refused {
                frame: error(req, expired.to_api()),
                close: Close::SessionEnded,
            });
        }
        Ok(())
    }

    async fn handle(&mut self, msg: OperatorRequest) -> Option<OperatorServerMsg> {
        let OperatorRequest { req, action } = msg;
        Some(match self.act(action).await {
            Ok(Reply::Ack(seq)) => OperatorServerMsg::Ack { req, seq },
            Ok(Reply::Pong) => OperatorServerMsg::Pong,
            Err(e) => error(Some(req), e.to_api()),
        })
    }

    async fn forward(&mut self, event: &HubEvent) -> Forward<OperatorServerMsg> {
        let frame = match event {
            // Not Available: requests do not ring here (they are sent when Available again).
            HubEvent::Chat { chat, .. } if !self.ringing && chat.status == ChatStatus::Waiting => {
                None
            }
            HubEvent::Chat { event, chat } => (self.sent.first_time(event)
                && audience::operator_sees(event, &self.operator))
            .then(|| OperatorServerMsg::Event {
                event: event.clone(),
                chat: (**chat).clone(),
            }),
            HubEvent::OperatorAvailability {
                operator,
                available,
            } if *operator == self.operator.id => {
                self.operator.available = *available;
                let mut frames = vec![OperatorServerMsg::Availability {
                    available: *available,
                }];
                if *available && !self.ringing {
                    match self.ringing_requests().await {
                        Ok(requests) => frames.extend(requests),
                        Err(e) => tracing::warn!(error = %e, "reading the ringing requests failed"),
                    }
                }
                self.ringing = *available;
                return Forward::Send(frames);
            }
            // Removed, signed out, a new password, rights or name: if this session's sign-in
            // is among those that ended, it ends now, not at the next frame; a new name is
            // taken.
            HubEvent::OperatorChanged { operator } if *operator == self.operator.id => {
                return match self.signed_in(None).await {
                    Ok(_) => Forward::Skip,
                    Err(refused) => Forward::End(refused),
                };
            }
            HubEvent::CallReady {
                chat_id,
                call_id,
                to: CallParty::Operator,
                ice_servers,
            } => Some(OperatorServerMsg::CallReady {
                chat_id: *chat_id,
                call_id: *call_id,
                ice_servers: ice_servers.clone(),
            }),
            HubEvent::CallSignal {
                chat_id,
                call_id,
                to: CallParty::Operator,
                signal,
            } => Some(OperatorServerMsg::CallSignal {
                chat_id: *chat_id,
                call_id: *call_id,
                signal: signal.clone(),
            }),
            HubEvent::OfflineMessage(message) => Some(OperatorServerMsg::OfflineMessage {
                message: (**message).clone(),
            }),
            HubEvent::CallReady { .. }
            | HubEvent::CallSignal { .. }
            | HubEvent::OperatorAvailability { .. }
            | HubEvent::OperatorChanged { .. }
            | HubEvent::QueuePosition { .. } => None,
        };
        frame.into()
    }

    async fn wake(&mut self) -> OperatorServerMsg {
        let monitor = async {
            match self.monitor.as_mut() {
                Some(stream) => stream.next(&self.state.monitor).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            frame = monitor => frame,
            changed = self.mail.changed() => {
                if changed.is_err() {
                    // Gone with the server: nothing more will change.
                    std::future::pending::<()>().await;
                }
                OperatorServerMsg::Mail { mail: self.mail.borrow_and_update().clone() }
            }
        }
    }

    async fn finish(mut self) {
        // The app is gone from this device: what rings now reaches it by push. (Not when the
        // server is shutting down: every app reconnects to the next one in seconds.)
        if !self.state.closing.is_closing() {
            self.leave_foreground().await;
            let state = self.state.clone();
            let grace = state.config.operator_grace_secs;
            tokio::spawn(unavailable_if_unreachable(state, self.operator.id, grace));
        }
    }
}

/// What an action is answered with.
enum Reply {
    Ack(Option<i64>),
    Pong,
}

impl OperatorSession {
    /// The requests ringing for this operator now, as the events that make them ring.
    async fn ringing_requests(&mut self) -> Result<Vec<OperatorServerMsg>, Error> {
        let requests = chats::requests_for(&self.state.store.read, self.operator.id).await?;
        let mut frames = Vec::new();
        for chat in requests {
            let operator = &self.operator;
            let from = (chat.id, 0);
            let store = &self.state.store;
            frames.extend(
                super::replay_frames(store, &mut self.sent, from, |event| {
                    audience::operator_sees(&event, operator).then(|| OperatorServerMsg::Event {
                        event,
                        chat: chat.clone(),
                    })
                })
                .await?,
            );
        }
        Ok(frames)
    }

    /// Whether the sign-in this session started with still holds (read from the database);
    /// if not, the error (for the request `req`, if any) and the close. A new display name
    /// counts from the next action (accepted, invited, messages).
    async fn signed_in(&mut self, req: Option<u64>) -> Result<(), Refused<OperatorServerMsg>> {
        match operator_for_token(&self.state.store, &self.token).await {
            Ok((profile, expires_at)) => {
                self.operator.name = profile.name;
                self.expires_at = expires_at;
                Ok(())
            }
            Err(e) => Err(Refused {
                frame: error(req, e.to_api()),
                close: Close::SessionEnded,
            }),
        }
    }

    /// Sends a chat's events after `after`, if this operator may see the chat.
    async fn replay(&mut self, conn: &mut Conn, (id, after): (ChatId, i64)) -> Result<bool, Error> {
        let Some(chat) = chats::get_from(&self.state.store.read, id).await? else {
            return Ok(true);
        };
        if !audience::operator_follows(&chat, &self.operator) {
            return Ok(true);
        }
        let operator = &self.operator;
        super::replay(
            conn,
            &self.state.store,
            &mut self.sent,
            (id, after),
            |event| {
                audience::operator_sees(&event, operator).then(|| OperatorServerMsg::Event {
                    event,
                    chat: chat.clone(),
                })
            },
        )
        .await
    }

    async fn act(&mut self, action: OperatorAction) -> Result<Reply, Error> {
        let chats = &self.state.chats;
        let me = operator_actor(&self.operator);
        let (chat, action) = match action {
            OperatorAction::Ping => return Ok(Reply::Pong),
            OperatorAction::Hello { .. } => return Err(super::hello_again()),
            OperatorAction::SetAvailable { available } => {
                self.operator = chats.set_available(self.operator.id, available).await?;
                return Ok(Reply::Ack(None));
            }
            OperatorAction::AppState {
                background,
                device_id,
            } => {
                self.app_state(background, device_id).await?;
                return Ok(Reply::Ack(None));
            }
            OperatorAction::Invite { visitor_id, text } => {
                // Only a visitor on the site now can be invited (and see it).
                let page = self.visitor_page(visitor_id).await?;
                let inviter = OperatorRef {
                    id: self.operator.id,
                    name: self.operator.name.clone(),
                };
                let page = page.filter(|p| !p.url.is_empty());
                let done = chats.invite(inviter, visitor_id, text, page).await?;
                return Ok(Reply::Ack(done.seq));
            }
            OperatorAction::MonitorSubscribe { last_seq } => {
                self.monitor = Some(self.state.monitor.subscribe(last_seq));
                return Ok(Reply::Ack(None));
            }
            OperatorAction::MailTranscript {
                chat_id,
                client_id,
                email,
            } => {
                let who = crate::mail::Requester::Operator(self.operator.clone());
                let mail = &self.state.mail;
                let seq = mail.transcript(who, chat_id, &client_id, &email).await?;
                return Ok(Reply::Ack(Some(seq)));
            }
            OperatorAction::MonitorUnsubscribe => {
                self.monitor = None;
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
            OperatorAction::CallInvite { chat_id } => {
                let done = chats.call_invite(chat_id, me).await?;
                return Ok(Reply::Ack(done.seq));
            }
            OperatorAction::CallSignal {
                chat_id,
                call_id,
                signal,
            } => {
                chats.call_signal(chat_id, me, call_id, signal).await?;
                return Ok(Reply::Ack(None));
            }
            OperatorAction::CallConnected { chat_id, call_id } => {
                let done = chats
                    .call_report(chat_id, me, call_id, Report::Connected)
                    .await?;
                return Ok(Reply::Ack(done.seq));
            }
            OperatorAction::CallFailed { chat_id, call_id } => {
                let done = chats
                    .call_report(chat_id, me, call_id, Report::Failed)
                    .await?;
                return Ok(Reply::Ack(done.seq));
            }
            OperatorAction::CallEnd { chat_id, call_id } => {
                let done = chats
                    .call_report(chat_id, me, call_id, Report::Hangup)
                    .await?;
                return Ok(Reply::Ack(done.seq));
            }
            OperatorAction::Accept { chat_id } => (chat_id, Move::Accept),
            OperatorAction::Decline { chat_id } => (chat_id, Move::Decline),
            OperatorAction::Queue { chat_id } => (chat_id, Move::Queue),
            OperatorAction::Hold { chat_id } => (chat_id, Move::Hold),
            OperatorAction::Resume { chat_id } => (chat_id, Move::Resume),
            OperatorAction::End { chat_id } => (chat_id, Move::OperatorEnd),
        };
        let done = chats.act(chat, me, action).await?;
        Ok(Reply::Ack(done.seq))
    }

    /// The app went to the background or came back, and may name a device registered since
    /// `hello`: this connection speaks for it from now on.
    async fn app_state(&mut self, background: bool, device: Option<DeviceId>) -> Result<(), Error> {
        if let Some(new) = device.filter(|d| Some(*d) != self.device)
            && let Some(new) = own_device(&self.state, self.operator.id, Some(new)).await?
        {
            self.online = None;
            self.device = Some(new);
        }
        if background {
            self.leave_foreground().await;
        } else if let (Some(device), None) = (self.device, &self.online) {
            self.online = Some(self.state.hub.device_online(device));
        }
        Ok(())
    }

    /// The page of a visitor on the site (listed here, or with a widget open on another node
    /// whose word of their arrival is still on its way); an error when they are not on it.
    async fn visitor_page(&self, visitor: VisitorId) -> Result<Option<Page>, Error> {
        let monitor = &self.state.monitor;
        if let Some(page) = monitor.page_of(visitor) {
            return Ok(Some(page));
        }
        if !self
            .state
            .hub
            .connected_anywhere(Topic::Visitor(visitor))
            .await
        {
            return Err(Error::not_found("visitor on the site"));
        }
        for _ in 0..20 {
            if let Some(page) = monitor.page_of(visitor) {
                return Ok(Some(page));
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Ok(None)
    }

    /// The device stops counting as online; if this connection held it, the requests ringing
    /// now reach it by push.
    async fn leave_foreground(&mut self) {
        let was_online = self.online.take().is_some(); // the guard drops here
        if was_online && let Some(device) = self.device {
            self.state.push.device_left(self.operator.id, device).await;
        }
    }
}

/// After an operator's last app went away, waits out the grace period; if no app came back
/// and no phone can be pushed, the operator is no longer there to answer: Live Help goes Not
/// Available for them (the ringing chats are re-checked, the widgets follow).
async fn unavailable_if_unreachable(state: AppState, operator: OperatorId, grace_secs: f64) {
    tokio::time::sleep(std::time::Duration::from_secs_f64(grace_secs)).await;
    if state
        .hub
        .connected_anywhere(Topic::Operator(operator))
        .await
    {
        return; // back (here or on another node)
    }
    let reachable = match crate::store::push::devices_of(&state.store.read, operator).await {
        Ok(devices) => devices.iter().any(|d| d.disabled_at.is_none()),
        Err(e) => return tracing::warn!(error = %e, "reading push devices failed"),
    };
    let available = match crate::store::operators::get(&state.store.read, operator).await {
        Ok(profile) => profile.is_some_and(|p| p.available),
        Err(e) => return tracing::warn!(error = %e, "reading the operator failed"),
    };
    if available && !reachable {
        match state.chats.set_available(operator, false).await {
            Ok(_) => tracing::info!(%operator, "no app and no phone left: Live Help Not Available"),
            Err(e) => tracing::warn!(error = %e, "setting Not Available failed"),
        }
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
