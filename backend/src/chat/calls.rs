//! Voice calls in chats. The call table (`switchboard_shared::call_transition`, shared with the
//! app) decides every move; this module records the call's milestones as chat events through
//! the writer (invited, started, connected, ended — with their `seq`, so transcripts and
//! reports show calls), reads a chat's call back from them (so the two peers of a call may be
//! on different nodes of a cluster), and relays signaling between the chat's visitor and its
//! leading operator only. SDP and candidates are never stored.
//!
//! A call starts when an operator accepts a voice request, or when the visitor accepts the
//! operator's invitation; its id is its `call_started` event's `seq`. The visitor's browser
//! makes the offer, the operator's app answers. It ends by "End call" (the chat goes on as
//! text), by a peer reporting the audio failed (text goes on too), or with the chat.

use std::sync::Arc;

use dashmap::DashMap;
use switchboard_shared::{
    CallActor, CallEndReason, CallInput, CallParty, CallRefused, CallSignal, CallState,
    ChatEventKind, ChatId, ChatSummary, ErrorCode, Mode, SignalRefusal,
};
use tokio::sync::Mutex;

use super::lifecycle::{self, Actor};
use super::writer::CALL_MOVED;
use super::{Chats, Done, Op};
use crate::error::Error;
use crate::hub::{HubEvent, Topic};
use crate::store::{chats, now_ms};

/// One move at a time in each chat's call on this node (chats without a move under way have
/// no entry); the call itself is what the chat's events say.
#[derive(Default)]
pub struct Calls {
    live: DashMap<ChatId, Arc<Mutex<Live>>>,
}

/// A call in progress, as its chat's latest call event says.
#[derive(Debug, Clone, Copy)]
struct Live {
    state: CallState,
    /// The `call_started` event's `seq` (0 while only invited).
    call_id: i64,
    /// The `seq` of the chat's latest call event (0: none).
    seen: i64,
    /// When the audio connected.
    connected_at: Option<i64>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            state: CallState::Idle,
            call_id: 0,
            seen: 0,
            connected_at: None,
        }
    }
}

/// What a peer reports about its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The audio connected.
    Connected,
    /// The audio could not connect, or dropped for good.
    Failed,
    /// "End call".
    Hangup,
}

impl From<CallRefused> for Error {
    fn from(r: CallRefused) -> Error {
        let message = match (r.state, r.input) {
            (CallState::Idle, _) => "there is no call in this chat",
            (_, CallInput::Start | CallInput::Invite) => "this chat already has a call",
            (CallState::Invited, _) => "the invitation to talk has not been answered",
            (_, CallInput::Accept | CallInput::Refuse) => "there is no invitation to answer",
            _ => "that is not possible in this call",
        };
        Error::client(ErrorCode::IllegalTransition, message)
    }
}

impl From<SignalRefusal> for Error {
    fn from(r: SignalRefusal) -> Error {
        match r {
            SignalRefusal::TooLarge => Error::client(
                ErrorCode::TooLarge,
                "the signal is over its limit (16 KiB of SDP, 1 KiB a candidate)",
            ),
            SignalRefusal::NotSdp => Error::invalid("an offer or answer must be SDP"),
        }
    }
}

impl Chats {
    /// An operator accepted a voice request: its call starts.
    pub(super) async fn start_call_if_voice(&self, done: &Done) -> Result<(), Error> {
        let accepted = done
            .events
            .iter()
            .any(|e| matches!(e.kind, ChatEventKind::Accepted { .. }));
        if !accepted || done.chat.mode != Mode::Voice {
            return Ok(());
        }
        let chat = done.chat.clone();
        self.call_move(&chat, CallActor::Server, CallInput::Start, None)
            .await
            .map(drop)
    }

    /// The operator invites the chat's visitor to talk.
    pub async fn call_invite(&self, chat: ChatId, actor: Actor) -> Result<Done, Error> {
        let chat = self.chat_for_call(chat, &actor).await?;
        self.call_move(&chat, party(&actor)?, CallInput::Invite, None)
            .await
    }

    /// The visitor answers the operator's invitation.
    pub async fn call_answer(&self, chat: ChatId, actor: Actor, yes: bool) -> Result<Done, Error> {
        let chat = self.chat_for_call(chat, &actor).await?;
        let input = if yes {
            CallInput::Accept
        } else {
            CallInput::Refuse
        };
        self.call_move(&chat, party(&actor)?, input, None).await
    }

    /// A peer reports on its call, or ends it.
    pub async fn call_report(
        &self,
        chat: ChatId,
        actor: Actor,
        call_id: i64,
        report: Report,
    ) -> Result<Done, Error> {
        let chat = self.chat_for_call(chat, &actor).await?;
        let input = match report {
            Report::Connected => CallInput::Connected,
            Report::Failed => CallInput::Failed,
            Report::Hangup => CallInput::Hangup,
        };
        self.call_move(&chat, party(&actor)?, input, Some(call_id))
            .await
    }

    /// Relays a signal to the other peer of the call: checked, never stored.
    pub async fn call_signal(
        &self,
        chat: ChatId,
        actor: Actor,
        call_id: i64,
        signal: CallSignal,
    ) -> Result<(), Error> {
        signal.check()?;
        let chat = self.chat_for_call(chat, &actor).await?;
        let from = party(&actor)?;
        let live = self.recorded(chat.id).await?;
        if live.state == CallState::Idle {
            return Err(no_call(from));
        }
        switchboard_shared::call_transition(live.state, CallInput::Signal, from)?;
        if live.call_id != call_id {
            return Err(Error::client(
                ErrorCode::IllegalTransition,
                "that call is over",
            ));
        }
        let to = match from {
            CallActor::Party(CallParty::Visitor) => CallParty::Operator,
            _ => CallParty::Visitor,
        };
        if let Some(topic) = topic_of(&chat, to) {
            let event = HubEvent::CallSignal {
                chat_id: chat.id,
                call_id,
                to,
                signal,
            };
            self.hub.publish(&[topic], event);
        }
        Ok(())
    }

    /// The chat ends: so does its call, first.
    pub(super) async fn end_call_with_chat(&self, chat: ChatId) -> Result<(), Error> {
        if self.recorded(chat).await?.state == CallState::Idle {
            return Ok(());
        }
        let Some(summary) = chats::get_from(&self.store.read, chat).await? else {
            return Ok(());
        };
        match self
            .call_move(&summary, CallActor::Server, CallInput::ChatEnded, None)
            .await
        {
            Ok(_) | Err(Error::Client { .. }) => Ok(()), // ended meanwhile
            Err(e) => Err(e),
        }
    }

    /// Applies one call move: decided on the call as recorded now, decided again when another
    /// node moved it meanwhile (both peers said "connected" at once, on two nodes).
    async fn call_move(
        &self,
        chat: &ChatSummary,
        actor: CallActor,
        input: CallInput,
        call_id: Option<i64>,
    ) -> Result<Done, Error> {
        let mut tries = 0;
        loop {
            match self.call_move_once(chat, actor, input, call_id).await {
                Err(Error::Client { message, .. }) if message == CALL_MOVED && tries < 3 => {
                    tries += 1;
                }
                done => return done,
            }
        }
    }

    /// One try of [`Chats::call_move`]: the table decides, the writer records the milestone
    /// (unless the call moved since it was read), then the live call follows (and, for a
    /// start, both peers get their ICE servers).
    async fn call_move_once(
        &self,
        chat: &ChatSummary,
        actor: CallActor,
        input: CallInput,
        call_id: Option<i64>,
    ) -> Result<Done, Error> {
        let entry = self.calls.live.entry(chat.id).or_default().clone();
        let mut live = entry.lock().await;
        // Read under this node's lock: another node may have moved the call since.
        *live = self.recorded(chat.id).await?;
        let step = match switchboard_shared::call_transition(live.state, input, actor) {
            Ok(step) => step,
            Err(refused) => {
                if live.state == CallState::Idle {
                    drop(live);
                    self.calls.live.remove(&chat.id); // no call: keep no entry
                }
                return Err(refused.into());
            }
        };
        if let Some(id) = call_id
            && id != live.call_id
        {
            return Err(Error::client(
                ErrorCode::IllegalTransition,
                "that call is over",
            ));
        }
        let now = now_ms();
        let by = match actor {
            CallActor::Party(p) => Some(p),
            CallActor::Server => None,
        };
        let kind = match (step.ends, input) {
            (Some(reason), _) => ChatEventKind::CallEnded {
                call_id: live.call_id,
                reason,
                by: if reason == CallEndReason::ChatEnded {
                    None
                } else {
                    by
                },
                duration_ms: live.connected_at.map(|at| now - at),
            },
            (None, CallInput::Invite) => match &chat.operator {
                Some(operator) => ChatEventKind::CallInvited {
                    operator: operator.clone(),
                },
                None => return Err(no_call(actor)),
            },
            (None, CallInput::Start) => ChatEventKind::CallStarted {
                by: CallParty::Visitor,
            },
            (None, CallInput::Accept) => ChatEventKind::CallStarted {
                by: CallParty::Operator,
            },
            (None, CallInput::Connected) if live.state == CallState::Connected => {
                // The other peer said so already: nothing new to record.
                return Ok(Done {
                    chat: chat.clone(),
                    events: Vec::new(),
                    seq: None,
                });
            }
            (None, CallInput::Connected) => ChatEventKind::CallConnected {
                call_id: live.call_id,
            },
            (None, _) => return Err(no_call(actor)),
        };
        let record_as = match actor {
            CallActor::Party(CallParty::Visitor) => Actor::Visitor(chat.visitor_id),
            CallActor::Party(CallParty::Operator) => match &chat.operator {
                Some(op) => Actor::Operator(op.clone()),
                None => Actor::System,
            },
            CallActor::Server => Actor::System,
        };
        let done = self
            .apply(Op::Record {
                chat: chat.id,
                actor: record_as,
                kind,
                after: live.seen,
            })
            .await?;
        live.state = step.state;
        match (step.state, input) {
            (CallState::Connecting, CallInput::Start | CallInput::Accept) => {
                live.call_id = done.seq.unwrap_or(0);
                live.connected_at = None;
                self.call_ready(&done.chat, live.call_id);
            }
            (CallState::Connected, _) => {
                live.connected_at.get_or_insert(now);
            }
            _ => {}
        }
        if step.state == CallState::Idle {
            drop(live);
            self.calls.live.remove(&chat.id);
        }
        Ok(done)
    }

    /// The chat's call as its latest call event says (idle when it has none, or it ended).
    async fn recorded(&self, chat: ChatId) -> Result<Live, Error> {
        let last = chats::last_call_event(&self.store.read, chat).await?;
        let Some(e) = last else {
            return Ok(Live::default());
        };
        let seen = e.seq;
        Ok(match e.kind {
            ChatEventKind::CallInvited { .. } => Live {
                state: CallState::Invited,
                seen,
                ..Live::default()
            },
            ChatEventKind::CallStarted { .. } => Live {
                state: CallState::Connecting,
                call_id: e.seq,
                seen,
                connected_at: None,
            },
            ChatEventKind::CallConnected { call_id } => Live {
                state: CallState::Connected,
                call_id,
                seen,
                connected_at: Some(e.at),
            },
            _ => Live {
                seen,
                ..Live::default()
            },
        })
    }

    /// Both peers get the call's id and their ICE servers.
    fn call_ready(&self, chat: &ChatSummary, call_id: i64) {
        for to in [CallParty::Visitor, CallParty::Operator] {
            let Some(topic) = topic_of(chat, to) else {
                continue;
            };
            let who = match to {
                CallParty::Visitor => "visitor",
                CallParty::Operator => "operator",
            };
            let ice_servers = self
                .voice
                .ice_servers_for(&format!("chat-{}-{who}", chat.id));
            let event = HubEvent::CallReady {
                chat_id: chat.id,
                call_id,
                to,
                ice_servers,
            };
            self.hub.publish(&[topic], event);
        }
    }

    /// The chat, if `actor` may take part in a call in it now (its visitor or its leading
    /// operator, while it is active or on hold: where a message could be written).
    async fn chat_for_call(&self, id: ChatId, actor: &Actor) -> Result<ChatSummary, Error> {
        let chat = chats::get_from(&self.store.read, id)
            .await?
            .ok_or_else(|| Error::not_found("chat"))?;
        lifecycle::decide_message(&chat, actor)?;
        Ok(chat)
    }
}

/// The call's party an actor is (after `chat_for_call` said they belong to the chat).
fn party(actor: &Actor) -> Result<CallActor, Error> {
    match actor {
        Actor::Visitor(_) => Ok(CallActor::Party(CallParty::Visitor)),
        Actor::Operator(_) => Ok(CallActor::Party(CallParty::Operator)),
        Actor::System => Ok(CallActor::Server),
    }
}

fn no_call(actor: CallActor) -> Error {
    CallRefused {
        state: CallState::Idle,
        input: CallInput::Signal,
        actor,
    }
    .into()
}

/// Where a party of the chat is reached: the visitor's widgets, the leading operator's devices.
fn topic_of(chat: &ChatSummary, party: CallParty) -> Option<Topic> {
    match party {
        CallParty::Visitor => Some(Topic::Visitor(chat.visitor_id)),
        CallParty::Operator => chat.operator.as_ref().map(|o| Topic::Operator(o.id)),
    }
}
