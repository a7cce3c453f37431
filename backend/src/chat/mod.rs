//! The chat domain: the only code that changes a chat. Everything that does lives in this
//! folder:
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | [`Chats`], the domain actions handlers call (start, act, send), and the background duties that act without a client asking (ring timeouts, queue positions) |
//! | `operators.rs` | the operators' side: Live Help Available / Not Available, sign-out, removal |
//! | `lifecycle.rs` | the pure tables: which move is legal in which status, who may make it |
//! | `writer.rs` | the group-commit writer that applies them: commit, then publish |
//! | `sql.rs` | the statements that write chats, private to this folder |
//! | `audience.rs` | who may see which chat and event (live, on replay, over HTTP) |
//! | `calls.rs` | voice calls: the live call per chat, its milestones as events, signaling relayed between the two parties |
//!
//! Handlers (HTTP and WebSocket) validate and authenticate, then call one method here; every
//! change to a chat goes through the [`writer::Writer`], which commits and then publishes
//! through the [`Hub`].

pub mod audience;
pub mod calls;
pub mod lifecycle;
mod operators;
mod sql;
pub mod writer;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use switchboard_shared::{
    ChatEventKind, ChatId, ChatStatus, ErrorCode, MAX_MESSAGE_CHARS, MAX_NAME_CHARS, Mode,
    OperatorProfile, OperatorRef, Page, Settings, VisitorId,
};
use tokio::sync::Notify;

use crate::error::Error;
use crate::hub::{Hub, HubEvent, Topic};
use crate::settings::LiveSettings;
use crate::store::{Store, chats, now_ms, operators as operator_rows};
use crate::validate::clean;
pub use lifecycle::{Actor, Move};
pub use writer::{Done, Op};

/// Longest client id accepted.
const MAX_CLIENT_ID: usize = 64;

/// Cheap-to-clone handle to the chat domain.
#[derive(Clone)]
pub struct Chats {
    store: Store,
    hub: Hub,
    writer: writer::Writer,
    settings: LiveSettings,
    line_changed: Arc<Notify>,
    /// The next queue positions pass tells everyone, not only those who moved.
    line_refresh: Arc<AtomicBool>,
    push: crate::push::Push,
    voice: crate::voice::Voice,
    calls: Arc<calls::Calls>,
    /// Reads of the site-wide availability shared by the public status endpoint's callers.
    availability_reads: Arc<operators::SharedRead<bool>>,
}

impl Chats {
    /// Starts the writer and the background duties.
    pub fn launch(
        store: Store,
        hub: Hub,
        settings: LiveSettings,
        push: crate::push::Push,
        voice: crate::voice::Voice,
    ) -> Chats {
        let writer = writer::Writer::start(store.clone(), hub.clone(), settings.clone());
        let chats = Chats {
            store,
            hub,
            writer,
            settings,
            line_changed: Arc::new(Notify::new()),
            line_refresh: Arc::default(),
            push,
            voice,
            calls: Arc::default(),
            availability_reads: Arc::default(),
        };
        tokio::spawn(chats.clone().queue_positions());
        tokio::spawn(chats.clone().ring_timeouts());
        chats
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings.get()
    }

    async fn apply(&self, op: Op) -> Result<Done, Error> {
        let done = self.writer.apply(op).await?;
        if done
            .events
            .iter()
            .any(|e| audience::changes_the_line(&e.kind))
        {
            self.line_changed.notify_one();
            // Inline, not spawned: a ring and the clear that follows it must be written in
            // that order.
            self.push.after(&done.chat, &done.events).await;
        }
        Ok(done)
    }

    /// A visitor asks for a chat ("Open chat with operator").
    pub async fn start(
        &self,
        visitor: VisitorId,
        name: Option<String>,
        mode: Mode,
        page: Option<Page>,
    ) -> Result<Done, Error> {
        let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if let Some(name) = &name {
            if name.chars().count() > MAX_NAME_CHARS {
                return Err(Error::client(
                    ErrorCode::TooLarge,
                    format!("the chat name is over {MAX_NAME_CHARS} characters"),
                ));
            }
            clean(name, "the chat name")?;
        }
        if let Some(open) = chats::latest_for_visitor(&self.store.read, visitor).await?
            && !open.status.is_final()
        {
            if open.status == ChatStatus::Invited {
                // Start Chat on an invitation: the chat goes to the inviting operator.
                let done = self
                    .apply(Op::Join {
                        chat: open.id,
                        visitor,
                        name,
                        mode,
                    })
                    .await?;
                if let Err(e) = self.start_call_if_voice(&done).await {
                    tracing::warn!(error = %e, chat = %open.id, "starting the voice call failed");
                }
                return Ok(done);
            }
            return Err(Error::client(
                ErrorCode::IllegalTransition,
                "you already have an open chat",
            ));
        }
        let available = operator_rows::count_available(&self.store.read).await? > 0;
        self.apply(Op::Start {
            visitor,
            name,
            mode,
            page,
            available,
        })
        .await
    }

    /// An operator invites a visitor on the site (on `page`) to chat: `%name%` in the text
    /// becomes the operator name for invitations (settings). Refused when the visitor already
    /// has an open chat (or invitation).
    pub async fn invite(
        &self,
        operator: OperatorRef,
        visitor: VisitorId,
        text: String,
        page: Option<Page>,
    ) -> Result<Done, Error> {
        let name = self.settings.with(|s| s.operator_name.clone());
        let text = text.trim().replace("%name%", &name);
        if text.is_empty() {
            return Err(Error::invalid("the invitation is empty"));
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(Error::client(
                ErrorCode::TooLarge,
                format!("invitations are limited to {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        clean(&text, "the invitation")?;
        if let Some(open) = chats::latest_for_visitor(&self.store.read, visitor).await?
            && !open.status.is_final()
        {
            return Err(Error::client(
                ErrorCode::IllegalTransition,
                "this visitor already has an open chat or invitation",
            ));
        }
        self.apply(Op::Invite {
            visitor,
            operator,
            text,
            page,
        })
        .await
    }

    /// A lifecycle move by a visitor, an operator or the system. Ending a chat ends its call
    /// first; accepting a voice request starts one.
    pub async fn act(&self, chat: ChatId, actor: Actor, action: Move) -> Result<Done, Error> {
        let ending = matches!(
            action,
            Move::OperatorEnd | Move::VisitorEnd | Move::Unanswered | Move::Abandoned
        );
        if ending {
            self.end_call_with_chat(chat).await?;
        }
        let done = self
            .apply(Op::Act {
                chat,
                actor,
                action,
            })
            .await?;
        if action == Move::Accept
            && let Err(e) = self.start_call_if_voice(&done).await
        {
            tracing::warn!(error = %e, chat = %chat, "starting the voice call failed");
        }
        Ok(done)
    }

    /// A message. Retrying with the same `client_id` stores it once.
    pub async fn send(
        &self,
        chat: ChatId,
        actor: Actor,
        client_id: String,
        text: String,
    ) -> Result<Done, Error> {
        if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID {
            return Err(Error::invalid(format!(
                "client_id must be 1 to {MAX_CLIENT_ID} bytes"
            )));
        }
        if text.trim().is_empty() {
            return Err(Error::invalid("the message is empty"));
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(Error::client(
                ErrorCode::TooLarge,
                format!("messages are limited to {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        clean(&client_id, "client_id")?;
        clean(&text, "the message")?;
        self.apply(Op::Message {
            chat,
            actor,
            client_id,
            text,
        })
        .await
    }

    /// A system move may lose a race with a person (the chat was accepted meanwhile): fine.
    fn ignore_races(&self, result: Result<Done, Error>) -> Result<(), Error> {
        match result {
            Ok(_) => Ok(()),
            Err(Error::Client { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Ends requests nobody accepted within the ring timeout.
    async fn ring_timeouts(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if !self.store.sweeps_here() {
                continue; // another node on this database runs it
            }
            let timeout = i64::from(self.settings.with(|s| s.ring_timeout_secs)) * 1000;
            let expired =
                match chats::waiting_since_before(&self.store.read, now_ms() - timeout).await {
                    Ok(ids) => ids,
                    Err(e) => {
                        tracing::warn!(error = %e, "ring timeout sweep failed");
                        continue;
                    }
                };
            for id in expired {
                let r = self.act(id, Actor::System, Move::Unanswered).await;
                if let Err(e) = self.ignore_races(r) {
                    tracing::warn!(error = %e, chat = %id, "ring timeout failed");
                }
            }
        }
    }

    /// Tells the waiting and queued visitors where they stand, after each change to the line:
    /// those whose place changed (a chat joining at the end moves nobody, so a pass costs one
    /// frame, not one per visitor waiting), and everyone after [`Chats::refresh_line`].
    async fn queue_positions(self) {
        let mut told: HashMap<ChatId, u32> = HashMap::new();
        loop {
            self.line_changed.notified().await;
            // coalesce bursts of changes into one pass
            tokio::time::sleep(Duration::from_millis(20)).await;
            let everyone = self.line_refresh.swap(false, Ordering::Relaxed);
            match chats::line(&self.store.read).await {
                Ok(line) => {
                    let mut places = HashMap::with_capacity(line.len());
                    for (i, (chat_id, visitor)) in line.into_iter().enumerate() {
                        let position = i as u32 + 1;
                        if everyone || told.get(&chat_id) != Some(&position) {
                            let event = HubEvent::QueuePosition { chat_id, position };
                            // Every node reads the same line and tells its own visitors.
                            self.hub.publish_here(&[Topic::Visitor(visitor)], event);
                        }
                        places.insert(chat_id, position);
                    }
                    told = places;
                }
                Err(e) => tracing::warn!(error = %e, "queue positions failed"),
            }
        }
    }

    /// The line changed on another node: the visitors here are told where they stand now.
    pub fn line_moved(&self) {
        self.line_changed.notify_one();
    }

    /// Asks for the queue positions to be sent again, to everyone (a visitor just connected).
    pub fn refresh_line(&self) {
        self.line_refresh.store(true, Ordering::Relaxed);
        self.line_changed.notify_one();
    }

    /// Records bookkeeping in a chat's timeline (a transcript mailed), whatever its status.
    pub async fn note(&self, chat: ChatId, kind: ChatEventKind) -> Result<Done, Error> {
        self.apply(Op::Note { chat, kind }).await
    }
}

/// The operator as an actor.
pub fn operator_actor(profile: &OperatorProfile) -> Actor {
    Actor::Operator(OperatorRef {
        id: profile.id,
        name: profile.name.clone(),
    })
}
