//! The visitor's WebSocket (`/api/widget/ws`): `hello` → `welcome` + missed events, then
//! chat actions in, chat events / availability / queue positions out. The skeleton (hello,
//! loop, replay, close) is [`super::serve`]'s; this is what the widget's session adds.

use std::net::IpAddr;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use switchboard_shared::{
    ApiError, CallParty, ChatId, ChatStatus, ClientInfo, ErrorCode, MAX_TITLE_CHARS, MAX_URL_CHARS,
    PROTOCOL_VERSION, Page, VisitorClientMsg, VisitorId, VisitorServerMsg,
};
use tokio::sync::watch;

use super::{Close, Conn, Forward, Refused, Sent, Session};
use crate::auth::{new_token, token_hash};
use crate::chat::calls::Report;
use crate::chat::{Actor, Move, audience};
use crate::error::Error;
use crate::http::Peer;
use crate::hub::{HubEvent, Topic};
use crate::mail::Requester;
use crate::monitor::{Arrival, Presence};
use crate::state::AppState;
use crate::store::{chats, now_ms, visitors};
use crate::validate::page_text;

/// `GET /api/widget/ws`.
pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>, peer: Peer) -> Response {
    super::upgrade::<VisitorSession>(ws, state, peer)
}

/// One widget's connection.
pub struct VisitorSession {
    state: AppState,
    visitor: VisitorId,
    /// The token the widget keeps (a new one for a new visitor).
    token: String,
    /// Where the widget connects from (for the limits by address).
    peer: IpAddr,
    page: Option<Page>,
    /// The `seq` the widget said it had, when it reconnects.
    last_seq: Option<i64>,
    /// What the browser said about itself (for the Site Monitor).
    client: ClientInfo,
    /// The visitor's visits, this one included.
    visits: u32,
    /// Keeps the visitor on the Site Monitor while this connection is open.
    presence: Option<Presence>,
    sent: Sent,
    /// Whether any operator can answer; the widget's button follows it.
    available: watch::Receiver<bool>,
    /// Whether mail is configured ("Mail me this chat transcript" follows it).
    mail: watch::Receiver<Option<switchboard_shared::MailInfo>>,
    /// What the widget was last told of it.
    mail_shown: bool,
}

impl Session for VisitorSession {
    type In = VisitorClientMsg;
    type Out = VisitorServerMsg;

    fn error(error: ApiError) -> VisitorServerMsg {
        VisitorServerMsg::Error {
            client_id: None,
            error,
        }
    }

    fn refuse(frame: &VisitorClientMsg, error: ApiError) -> VisitorServerMsg {
        let client_id = match frame {
            VisitorClientMsg::Send { client_id, .. }
            | VisitorClientMsg::MailTranscript { client_id, .. } => Some(client_id.clone()),
            _ => None,
        };
        VisitorServerMsg::Error { client_id, error }
    }

    async fn open(
        state: &AppState,
        first: VisitorClientMsg,
        peer: IpAddr,
    ) -> Result<Self, Refused<Self::Out>> {
        let refuse = |(error, close)| Refused {
            frame: Self::error(error),
            close,
        };
        let VisitorClientMsg::Hello {
            protocol,
            visitor_token,
            page,
            last_seq,
            client,
        } = first
        else {
            return Err(refuse(super::hello_required()));
        };
        super::same_protocol(protocol).map_err(refuse)?;
        let page = page.map(clean_page);
        let (visitor, token, visits) = identify(state, visitor_token, page.as_ref(), peer)
            .await
            .map_err(|e| {
                let close = match e {
                    Error::RateLimited { .. } => Close::RateLimited,
                    _ => Close::Internal,
                };
                refuse((e.to_api(), close))
            })?;
        Ok(VisitorSession {
            state: state.clone(),
            visitor,
            token,
            peer,
            page,
            last_seq,
            client: client.unwrap_or_default(),
            visits,
            presence: None,
            sent: Sent::default(),
            available: state.hub.availability(),
            mail: state.mail.watch(),
            mail_shown: false,
        })
    }

    fn state(&self) -> &AppState {
        &self.state
    }

    fn span(&self) -> tracing::Span {
        tracing::info_span!("visitor", visitor = %self.visitor)
    }

    fn topics(&self) -> Vec<Topic> {
        vec![Topic::Visitor(self.visitor)]
    }

    async fn greet(&mut self, conn: &mut Conn) -> Result<bool, Error> {
        let latest = chats::latest_for_visitor(&self.state.store.read, self.visitor).await?;
        let arrival = Arrival {
            id: self.visitor,
            page: self.page.clone(),
            client: std::mem::take(&mut self.client),
            visits: self.visits,
            chat: latest.clone(),
        };
        self.presence = Some(self.state.monitor.arrive(arrival, now_ms()));
        self.mail_shown = self.mail.borrow_and_update().is_some();
        // A fresh page shows the open chat only; a reconnect also learns how its chat ended.
        let chat = latest.filter(|c| !c.status.is_final() || self.last_seq.is_some());
        let welcome = VisitorServerMsg::Welcome {
            protocol: PROTOCOL_VERSION,
            visitor_id: self.visitor,
            visitor_token: self.token.clone(),
            available: *self.available.borrow_and_update(),
            chat: chat.clone(),
            mail: self.mail_shown,
        };
        if !conn.send(&welcome).await {
            return Ok(false);
        }
        let Some(chat) = chat else { return Ok(true) };
        let from = (chat.id, self.last_seq.unwrap_or(0));
        let replayed = super::replay(conn, &self.state.store, &mut self.sent, from, |event| {
            audience::visitor_sees(&event).then_some(VisitorServerMsg::Event { event })
        })
        .await?;
        if !chat.status.is_final() {
            self.state.chats.refresh_line();
        }
        Ok(replayed)
    }

    async fn handle(&mut self, msg: VisitorClientMsg) -> Option<VisitorServerMsg> {
        let chats = &self.state.chats;
        let result = match msg {
            VisitorClientMsg::Ping => return Some(VisitorServerMsg::Pong),
            VisitorClientMsg::Hello { .. } => Err(super::hello_again()),
            VisitorClientMsg::PageView { page } => {
                let page = clean_page(page);
                let r = record_visit(&self.state, self.visitor, &page).await;
                if self.page.as_ref().is_none_or(|p| p.url != page.url) {
                    self.state
                        .monitor
                        .page(self.visitor, page.clone(), now_ms());
                }
                self.page = Some(page);
                r.map(drop)
            }
            VisitorClientMsg::StartChat { name, mode } => {
                match self.state.limits.chat_start(self.visitor, self.peer) {
                    Ok(()) => chats
                        .start(self.visitor, name, mode, self.page.clone())
                        .await
                        .map(drop),
                    Err(limited) => Err(limited),
                }
            }
            VisitorClientMsg::EndChat => match self.open_chat().await {
                Ok(chat) => chats
                    .act(chat, Actor::Visitor(self.visitor), Move::VisitorEnd)
                    .await
                    .map(drop),
                Err(e) => Err(e),
            },
            VisitorClientMsg::Send { client_id, text } => {
                // The latest chat, open or not: a retry of a message stored before the chat
                // ended is acknowledged again; a new message to an ended chat is refused.
                let result = match self.latest_chat().await {
                    Ok(chat) => {
                        let me = Actor::Visitor(self.visitor);
                        chats.send(chat, me, client_id.clone(), text).await
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
            VisitorClientMsg::MailTranscript {
                client_id,
                chat_id,
                email,
            } => {
                let who = Requester::Visitor(self.visitor);
                let result = self
                    .state
                    .mail
                    .transcript(who, chat_id, &client_id, &email)
                    .await;
                return Some(match result {
                    Ok(seq) => VisitorServerMsg::Ack { client_id, seq },
                    Err(e) => VisitorServerMsg::Error {
                        client_id: Some(client_id),
                        error: e.to_api(),
                    },
                });
            }
            call => self.call(call).await,
        };
        result.err().map(|e| Self::error(e.to_api()))
    }

    async fn forward(&mut self, event: &HubEvent) -> Forward<VisitorServerMsg> {
        let frame = match event {
            HubEvent::Chat { event, .. } => (self.sent.first_time(event)
                && audience::visitor_sees(event))
            .then(|| VisitorServerMsg::Event {
                event: event.clone(),
            }),
            HubEvent::QueuePosition { chat_id, position } => {
                Some(VisitorServerMsg::QueuePosition {
                    chat_id: *chat_id,
                    position: *position,
                })
            }
            HubEvent::CallReady {
                chat_id,
                call_id,
                to: CallParty::Visitor,
                ice_servers,
            } => Some(VisitorServerMsg::CallReady {
                chat_id: *chat_id,
                call_id: *call_id,
                ice_servers: ice_servers.clone(),
            }),
            HubEvent::CallSignal {
                chat_id,
                call_id,
                to: CallParty::Visitor,
                signal,
            } => Some(VisitorServerMsg::CallSignal {
                chat_id: *chat_id,
                call_id: *call_id,
                signal: signal.clone(),
            }),
            HubEvent::CallReady { .. }
            | HubEvent::CallSignal { .. }
            | HubEvent::OperatorAvailability { .. }
            | HubEvent::OfflineMessage(_)
            | HubEvent::OperatorChanged { .. } => None,
        };
        frame.into()
    }

    async fn wake(&mut self) -> VisitorServerMsg {
        loop {
            tokio::select! {
                changed = self.available.changed() => {
                    if changed.is_err() {
                        // The hub is gone with the server: nothing more will change.
                        std::future::pending::<()>().await;
                    }
                    return VisitorServerMsg::Availability {
                        available: *self.available.borrow_and_update(),
                    };
                }
                changed = self.mail.changed() => {
                    if changed.is_err() {
                        std::future::pending::<()>().await;
                    }
                    let enabled = self.mail.borrow_and_update().is_some();
                    // Only a change of on/off matters to the widget.
                    if enabled != self.mail_shown {
                        self.mail_shown = enabled;
                        return VisitorServerMsg::Mail { enabled };
                    }
                }
            }
        }
    }

    async fn finish(self) {
        let grace = self.state.config.visitor_grace_secs;
        tokio::spawn(miss_if_gone(self.state, self.visitor, grace));
    }
}

impl VisitorSession {
    /// A call frame, in the visitor's open chat.
    async fn call(&mut self, msg: VisitorClientMsg) -> Result<(), Error> {
        let chat = self.open_chat().await?;
        let me = Actor::Visitor(self.visitor);
        let chats = &self.state.chats;
        match msg {
            VisitorClientMsg::CallAccept => chats.call_answer(chat, me, true).await.map(drop),
            VisitorClientMsg::CallRefuse => chats.call_answer(chat, me, false).await.map(drop),
            VisitorClientMsg::CallSignal { call_id, signal } => {
                chats.call_signal(chat, me, call_id, signal).await
            }
            VisitorClientMsg::CallConnected { call_id } => chats
                .call_report(chat, me, call_id, Report::Connected)
                .await
                .map(drop),
            VisitorClientMsg::CallFailed { call_id } => chats
                .call_report(chat, me, call_id, Report::Failed)
                .await
                .map(drop),
            VisitorClientMsg::CallEnd { call_id } => chats
                .call_report(chat, me, call_id, Report::Hangup)
                .await
                .map(drop),
            _ => Ok(()), // handled in `handle`
        }
    }

    /// The visitor's most recent chat.
    async fn latest_chat(&self) -> Result<ChatId, Error> {
        // The newest chat this connection has seen events of; the database only when it has
        // seen none.
        if let Some(id) = self.sent.newest_chat() {
            return Ok(id);
        }
        match chats::latest_for_visitor(&self.state.store.read, self.visitor).await? {
            Some(chat) => Ok(chat.id),
            None => Err(no_open_chat()),
        }
    }

    /// The visitor's chat that is not over yet.
    async fn open_chat(&self) -> Result<ChatId, Error> {
        match chats::latest_for_visitor(&self.state.store.read, self.visitor).await? {
            Some(chat) if !chat.status.is_final() => Ok(chat.id),
            _ => Err(no_open_chat()),
        }
    }
}

fn no_open_chat() -> Error {
    Error::client(ErrorCode::IllegalTransition, "there is no open chat")
}

/// After the visitor's last widget went away, waits out the grace period; if the visitor is
/// still gone and its chat still unanswered, the chat is missed (nobody is left to answer).
async fn miss_if_gone(state: AppState, visitor: VisitorId, grace_secs: f64) {
    tokio::time::sleep(std::time::Duration::from_secs_f64(grace_secs)).await;
    if state.hub.connected_anywhere(Topic::Visitor(visitor)).await {
        return; // back (a reload, another page or tab, here or on another node)
    }
    let chat = match chats::latest_for_visitor(&state.store.read, visitor).await {
        // Unanswered requests are missed; an unanswered invitation counts as declined.
        Ok(Some(chat))
            if matches!(
                chat.status,
                ChatStatus::Waiting | ChatStatus::Queued | ChatStatus::Invited
            ) =>
        {
            chat
        }
        Ok(_) => return,
        Err(e) => return tracing::warn!(error = %e, "missed-chat check failed"),
    };
    match state
        .chats
        .act(chat.id, Actor::System, Move::Abandoned)
        .await
    {
        Ok(_) => tracing::info!(chat = %chat.id, "visitor left before anyone answered: missed"),
        Err(Error::Client { .. }) => {} // taken meanwhile
        Err(e) => tracing::warn!(error = %e, chat = %chat.id, "marking a chat missed failed"),
    }
}

/// What the widget says of a page, cleaned and cut to the stored lengths.
fn clean_page(page: Page) -> Page {
    Page {
        url: page_text(&page.url, MAX_URL_CHARS),
        title: page
            .title
            .map(|t| page_text(&t, MAX_TITLE_CHARS))
            .filter(|t| !t.is_empty()),
    }
}

/// The visitor behind the token, or a new visitor (with a new token) when there is none and
/// the address may have one more; with their visits so far.
async fn identify(
    state: &AppState,
    token: Option<String>,
    page: Option<&Page>,
    peer: IpAddr,
) -> Result<(VisitorId, String, u32), Error> {
    if let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 128)
        && let Some(id) = visitors::by_token_hash(&state.store.read, &token_hash(&token)).await?
    {
        let visits = match page {
            Some(page) => record_visit(state, id, page).await?,
            None => visitors::touch(&state.store.write, id, None, now_ms()).await?,
        };
        return Ok((id, token, visits));
    }
    state.limits.new_visitor(peer)?;
    let token = new_token();
    let now = now_ms();
    let id = visitors::create(&state.store.write, &token_hash(&token), page, now).await?;
    if let Some(page) = page {
        visitors::record_page(&state.store.write, id, page, now).await?;
    }
    Ok((id, token, 1))
}

/// The visitor is on `page` now; returns their visits so far.
async fn record_visit(state: &AppState, visitor: VisitorId, page: &Page) -> Result<u32, Error> {
    let now = now_ms();
    let visits = visitors::touch(&state.store.write, visitor, Some(page), now).await?;
    visitors::record_page(&state.store.write, visitor, page, now).await?;
    Ok(visits)
}
