//! The only code that writes chat state: a few writer tasks ("shards"), each owning one
//! database connection, applying operations in batches (group commit).
//!
//! Invariants:
//! - A chat's operations always go to the same shard, so they are applied in arrival order and
//!   its `seq` grows by one per event with no gaps. On PostgreSQL the chat row is also locked
//!   (`for update`) so another node's writer waits its turn.
//! - A batch is one transaction. Nobody is answered and nothing is published until it commits:
//!   what a client has seen acknowledged is stored.
//! - A refused operation (illegal move, foreign chat…) writes nothing; a database failure fails
//!   the whole batch and every caller gets `internal` (clients retry; client ids de-duplicate).

use std::sync::{Arc, RwLock};

use sqlx::AnyConnection;
use switchboard_shared::{
    Author, ChatEvent, ChatEventKind, ChatId, ChatStatus, ChatSummary, EndReason, ErrorCode, Mode,
    OperatorRef, Page, Settings, VisitorId,
};
use tokio::sync::{mpsc, oneshot};

use super::lifecycle::{Action, transition};
use crate::error::Error;
use crate::hub::Hub;
use crate::store::{Backend, Store, chats, now_ms};

/// Most operations one transaction carries.
const MAX_BATCH: usize = 256;

/// Who asks for a change.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The chat's visitor.
    Visitor(VisitorId),
    /// An operator.
    Operator(OperatorRef),
    /// The server itself (ring timeouts, nobody available).
    System,
}

/// One change to apply.
#[derive(Debug, Clone)]
pub enum Op {
    /// A visitor asks for a chat. `available` says whether anyone could answer.
    Start {
        /// The visitor.
        visitor: VisitorId,
        /// Chat name (optional).
        name: Option<String>,
        /// Text or voice.
        mode: Mode,
        /// The page asked from.
        page: Option<Page>,
        /// Whether any operator is available.
        available: bool,
    },
    /// A lifecycle move.
    Act {
        /// The chat.
        chat: ChatId,
        /// Who.
        actor: Actor,
        /// What.
        action: Action,
    },
    /// A message.
    Message {
        /// The chat.
        chat: ChatId,
        /// Who writes (visitor or operator).
        actor: Actor,
        /// Idempotency key.
        client_id: String,
        /// The text (already validated).
        text: String,
    },
}

/// What an applied operation did.
#[derive(Debug, Clone)]
pub struct Done {
    /// The chat after it.
    pub chat: ChatSummary,
    /// The events it stored, in order (empty for an idempotent repeat).
    pub events: Vec<ChatEvent>,
    /// The `seq` to acknowledge: the last stored event, or the earlier one a retry matched.
    pub seq: Option<i64>,
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Done, Error>>,
}

/// Handle to the writer shards.
#[derive(Clone)]
pub struct Writer {
    shards: Arc<Vec<mpsc::Sender<Job>>>,
}

impl Writer {
    /// Starts the shards.
    pub fn start(store: Store, hub: Hub, settings: Arc<RwLock<Settings>>) -> Writer {
        let shards = (0..store.write_shards())
            .map(|i| {
                let (tx, rx) = mpsc::channel(4096);
                let shard = Shard {
                    store: store.clone(),
                    hub: hub.clone(),
                    settings: settings.clone(),
                };
                tokio::spawn(async move {
                    shard.run(rx).await;
                    tracing::debug!(shard = i, "chat writer stopped");
                });
                tx
            })
            .collect();
        Writer {
            shards: Arc::new(shards),
        }
    }

    /// Applies `op` and returns what it did, once it is committed and published.
    pub async fn apply(&self, op: Op) -> Result<Done, Error> {
        let key = match &op {
            Op::Start { visitor, .. } => visitor.0,
            Op::Act { chat, .. } | Op::Message { chat, .. } => chat.0,
        };
        let shard = &self.shards[key.rem_euclid(self.shards.len() as i64) as usize];
        let (reply, rx) = oneshot::channel();
        shard
            .send(Job { op, reply })
            .await
            .map_err(|_| Error::Internal("chat writer stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("chat writer dropped a job".into()))?
    }
}

struct Shard {
    store: Store,
    hub: Hub,
    settings: Arc<RwLock<Settings>>,
}

impl Shard {
    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let results = self.apply_batch(&batch).await;
            for (job, result) in batch.drain(..).zip(results) {
                if let Ok(done) = &result {
                    for event in &done.events {
                        self.hub.publish_chat(event.clone(), done.chat.clone());
                    }
                }
                let _ = job.reply.send(result);
            }
        }
    }

    /// One transaction for the whole batch; per-job results, or the same failure for all.
    async fn apply_batch(&self, batch: &[Job]) -> Vec<Result<Done, Error>> {
        let fail_all = |e: &Error| -> Vec<Result<Done, Error>> {
            tracing::error!(error = %e, jobs = batch.len(), "chat batch failed");
            batch
                .iter()
                .map(|_| Err(Error::Internal(e.to_string())))
                .collect()
        };
        let mut tx = match self.store.write.begin().await {
            Ok(tx) => tx,
            Err(e) => return fail_all(&e.into()),
        };
        let mut results = Vec::with_capacity(batch.len());
        for job in batch {
            match self.apply_one(&mut tx, &job.op).await {
                Err(e @ (Error::Database(_) | Error::Internal(_) | Error::Config(_))) => {
                    let _ = tx.rollback().await;
                    return fail_all(&e);
                }
                other => results.push(other),
            }
        }
        if let Err(e) = tx.commit().await {
            return fail_all(&e.into());
        }
        results
    }

    async fn apply_one(&self, conn: &mut AnyConnection, op: &Op) -> Result<Done, Error> {
        let now = now_ms();
        match op {
            Op::Start {
                visitor,
                name,
                mode,
                page,
                available,
            } => {
                let mut chat =
                    chats::insert(conn, *visitor, name.as_deref(), *mode, page.as_ref(), now)
                        .await?;
                let kind = ChatEventKind::Requested {
                    visitor_id: *visitor,
                    name: name.clone(),
                    mode: *mode,
                    page: page.clone(),
                };
                let mut events = vec![push_event(&mut chat, now, ChatStatus::Waiting, kind)];
                if !available {
                    // Nobody can answer: the visitor is offered "Leave a message" at once.
                    self.end(&mut chat, now, Action::Unanswered, &mut events)?;
                }
                self.save(conn, &chat, &events).await
            }
            Op::Act {
                chat: id,
                actor,
                action,
            } => {
                let mut chat = self.load(conn, *id).await?;
                authorize(&chat, actor, *action)?;
                let mut events = Vec::new();
                match action {
                    Action::Accept => {
                        if let (
                            ChatStatus::Active | ChatStatus::OnHold,
                            Some(op),
                            Actor::Operator(me),
                        ) = (chat.status, &chat.operator, actor)
                        {
                            // A retried accept by the winner is a no-op; anyone else lost.
                            if op.id == me.id {
                                let seq = Some(chat.last_seq);
                                return Ok(Done { chat, events, seq });
                            }
                            return Err(Error::client(
                                ErrorCode::AlreadyTaken,
                                format!("{} has already taken this chat", op.name),
                            ));
                        }
                        check(chat.status, Action::Accept)?;
                        let Actor::Operator(me) = actor else {
                            unreachable!("authorized")
                        };
                        let max = self
                            .settings
                            .read()
                            .map(|s| s.max_chats_per_operator)
                            .unwrap_or(3);
                        if chats::count_open_for_operator(conn, me.id).await? >= i64::from(max) {
                            return Err(Error::client(
                                ErrorCode::ChatLimitReached,
                                format!("you already lead {max} chats: end or hand over one first"),
                            ));
                        }
                        chat.operator = Some(me.clone());
                        chat.accepted_at = Some(now);
                        let kind = ChatEventKind::Accepted {
                            operator: me.clone(),
                        };
                        events.push(push_event(&mut chat, now, ChatStatus::Active, kind));
                    }
                    Action::Decline => {
                        check(chat.status, Action::Decline)?;
                        let Actor::Operator(me) = actor else {
                            unreachable!("authorized")
                        };
                        if chats::decline(conn, chat.id, me.id, now).await? {
                            let kind = ChatEventKind::Declined {
                                operator: me.clone(),
                            };
                            events.push(push_event(&mut chat, now, ChatStatus::Waiting, kind));
                            if chats::undeclined_available(conn, chat.id).await? == 0 {
                                self.end(&mut chat, now, Action::Unanswered, &mut events)?;
                            }
                        }
                    }
                    Action::Queue | Action::Hold | Action::Resume => {
                        let out = check(chat.status, *action)?;
                        let Actor::Operator(me) = actor else {
                            unreachable!("authorized")
                        };
                        let operator = me.clone();
                        let kind = match action {
                            Action::Queue => ChatEventKind::Queued { operator },
                            Action::Hold => ChatEventKind::OnHold { operator },
                            _ => ChatEventKind::Resumed { operator },
                        };
                        events.push(push_event(&mut chat, now, out.status, kind));
                    }
                    Action::OperatorEnd
                    | Action::VisitorEnd
                    | Action::Unanswered
                    | Action::Abandoned => {
                        self.end(&mut chat, now, *action, &mut events)?;
                    }
                    Action::Message => return Err(Error::Internal("message through Act".into())),
                }
                self.save(conn, &chat, &events).await
            }
            Op::Message {
                chat: id,
                actor,
                client_id,
                text,
            } => {
                let mut chat = self.load(conn, *id).await?;
                authorize(&chat, actor, Action::Message)?;
                // Client ids are scoped by author, so two authors never collide.
                let key = match actor {
                    Actor::Visitor(_) => format!("v:{client_id}"),
                    Actor::Operator(op) => format!("o{}:{client_id}", op.id),
                    Actor::System => format!("s:{client_id}"),
                };
                let duplicate = |chat: ChatSummary, seq: i64| Done {
                    chat,
                    events: Vec::new(),
                    seq: Some(seq),
                };
                let out = match check(chat.status, Action::Message) {
                    Ok(out) => out,
                    // A retry of a message stored before the chat ended is still acknowledged.
                    Err(refused) => {
                        return match chats::by_client_id(conn, chat.id, &key).await? {
                            Some(earlier) => Ok(duplicate(chat, earlier.seq)),
                            None => Err(refused),
                        };
                    }
                };
                let author = match actor {
                    Actor::Visitor(_) => Author::Visitor,
                    Actor::Operator(op) => Author::Operator {
                        id: op.id,
                        name: op.name.clone(),
                    },
                    Actor::System => Author::System,
                };
                let kind = ChatEventKind::Message {
                    author,
                    text: text.clone(),
                    client_id: Some(client_id.clone()),
                };
                let before = chat.clone();
                let event = push_event(&mut chat, now, out.status, kind);
                // One statement stores it or finds it a retry (the client id is taken).
                if !chats::append_new(conn, &event, &key).await? {
                    let earlier = chats::by_client_id(conn, before.id, &key)
                        .await?
                        .ok_or_else(|| {
                            Error::Internal("client id conflict without a row".into())
                        })?;
                    return Ok(duplicate(before, earlier.seq));
                }
                chats::update(conn, &chat, None).await?;
                let seq = Some(event.seq);
                Ok(Done {
                    chat,
                    events: vec![event],
                    seq,
                })
            }
        }
    }

    async fn load(&self, conn: &mut AnyConnection, id: ChatId) -> Result<ChatSummary, Error> {
        let lock = self.store.backend == Backend::Postgres;
        chats::get(conn, id, lock)
            .await?
            .ok_or_else(|| Error::not_found("chat"))
    }

    /// Applies an ending move and records its event.
    fn end(
        &self,
        chat: &mut ChatSummary,
        now: i64,
        action: Action,
        events: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        let out = check(chat.status, action)?;
        let reason = out.end.unwrap_or(EndReason::NoOperator);
        chat.ended_at = Some(now);
        events.push(push_event(
            chat,
            now,
            out.status,
            ChatEventKind::Ended { reason },
        ));
        Ok(())
    }

    async fn save(
        &self,
        conn: &mut AnyConnection,
        chat: &ChatSummary,
        events: &[ChatEvent],
    ) -> Result<Done, Error> {
        let mut end_reason = None;
        for event in events {
            chats::append(conn, event, None).await?;
            if let ChatEventKind::Ended { reason } = &event.kind {
                end_reason = Some(match reason {
                    EndReason::Visitor => "visitor",
                    EndReason::Operator => "operator",
                    EndReason::NoOperator => "no_operator",
                });
            }
        }
        chats::update(conn, chat, end_reason).await?;
        Ok(Done {
            chat: chat.clone(),
            events: events.to_vec(),
            seq: events.last().map(|e| e.seq),
        })
    }
}

/// Gives the chat its next `seq` and status, and returns the event.
fn push_event(
    chat: &mut ChatSummary,
    now: i64,
    status: ChatStatus,
    kind: ChatEventKind,
) -> ChatEvent {
    chat.last_seq += 1;
    chat.status = status;
    ChatEvent {
        chat_id: chat.id,
        seq: chat.last_seq,
        at: now,
        status,
        kind,
    }
}

fn check(status: ChatStatus, action: Action) -> Result<super::lifecycle::Outcome, Error> {
    transition(status, action).map_err(|_| {
        Error::client(
            ErrorCode::IllegalTransition,
            format!(
                "cannot {} a chat that is {}",
                verb(action),
                status.as_str().replace('_', " ")
            ),
        )
    })
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Accept => "accept",
        Action::Decline => "decline",
        Action::Queue => "queue",
        Action::Hold => "hold",
        Action::Resume => "resume",
        Action::OperatorEnd | Action::VisitorEnd | Action::Unanswered | Action::Abandoned => "end",
        Action::Message => "send a message in",
    }
}

/// Who may do what to which chat. Unknown and foreign chats look the same to a visitor.
fn authorize(chat: &ChatSummary, actor: &Actor, action: Action) -> Result<(), Error> {
    match actor {
        Actor::System => Ok(()),
        Actor::Visitor(v) => {
            if chat.visitor_id != *v {
                return Err(Error::not_found("chat"));
            }
            match action {
                Action::VisitorEnd | Action::Message => Ok(()),
                _ => Err(Error::client(
                    ErrorCode::Forbidden,
                    "visitors cannot do that",
                )),
            }
        }
        Actor::Operator(me) => match action {
            Action::Accept | Action::Decline | Action::Queue => Ok(()),
            Action::Hold | Action::Resume | Action::OperatorEnd | Action::Message => {
                match &chat.operator {
                    Some(op) if op.id != me.id => Err(Error::client(
                        ErrorCode::Forbidden,
                        "this chat belongs to another operator",
                    )),
                    _ => Ok(()),
                }
            }
            Action::VisitorEnd | Action::Unanswered | Action::Abandoned => Err(Error::client(
                ErrorCode::Forbidden,
                "operators cannot do that",
            )),
        },
    }
}
