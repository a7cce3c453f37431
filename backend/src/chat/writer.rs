//! The only code that writes chat state: a few writer tasks ("shards"), each owning one
//! database connection, applying operations in batches (group commit).
//!
//! Invariants:
//! - A chat's operations always go to the same shard, so they are applied in arrival order and
//!   its `seq` grows by one per event with no gaps. On PostgreSQL the chat row is also locked
//!   (`for update`) so another node's writer waits its turn.
//! - A batch is one transaction. Nobody is answered and nothing is published until it commits:
//!   what a client has seen acknowledged is stored.
//! - A refused operation (illegal move, foreign chat…) writes nothing. An operation the
//!   database fails gets `internal` and its batch is applied again without it, so it fails no
//!   one else's; only a failing transaction (begin, commit) fails the whole batch (clients
//!   retry; client ids de-duplicate).
//! - What is legal, and what it records, is [`super::lifecycle`]'s decision; each operation
//!   below only reads the facts that decision needs and stores its outcome.

use std::sync::Arc;

use sqlx::AnyConnection;
use switchboard_shared::{
    ChatEvent, ChatEventKind, ChatId, ChatStatus, ChatSummary, Mode, OperatorRef, Page, VisitorId,
};
use tokio::sync::{mpsc, oneshot};

use super::lifecycle::{self, Actor, AfterDecline, Change, Decision, Move, Refusal, Step};
use super::{audience, sql};
use crate::error::Error;
use crate::hub::{Hub, HubEvent};
use crate::settings::LiveSettings;
use crate::store::{Backend, Store, chats, now_ms};

/// Most operations one transaction carries.
const MAX_BATCH: usize = 256;

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
    /// An operator invites a visitor on the site to chat.
    Invite {
        /// The visitor.
        visitor: VisitorId,
        /// Who invites.
        operator: OperatorRef,
        /// The invitation.
        text: String,
        /// The page the visitor is on.
        page: Option<Page>,
    },
    /// The visitor answers an invitation with Start Chat (their name and mode).
    Join {
        /// The invited chat.
        chat: ChatId,
        /// The visitor.
        visitor: VisitorId,
        /// Chat name (optional).
        name: Option<String>,
        /// Text or voice.
        mode: Mode,
    },
    /// A lifecycle move.
    Act {
        /// The chat.
        chat: ChatId,
        /// Who.
        actor: Actor,
        /// What.
        action: Move,
    },
    /// A milestone that changes nothing in the lifecycle (a call's), recorded where a message
    /// could be: the chat is active or on hold, and `actor` belongs to it.
    Record {
        /// The chat.
        chat: ChatId,
        /// Who.
        actor: Actor,
        /// What happened.
        kind: ChatEventKind,
    },
    /// Bookkeeping that changes nothing in the lifecycle and may come at any time, also after
    /// the chat ended (a transcript mailed): recorded with the chat's current status.
    Note {
        /// The chat.
        chat: ChatId,
        /// What happened.
        kind: ChatEventKind,
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

impl Op {
    /// What the operation is, for the log (no message text, no names).
    fn describe(&self) -> String {
        match self {
            Op::Start { visitor, .. } => format!("start by visitor {visitor}"),
            Op::Invite { visitor, .. } => format!("invitation of visitor {visitor}"),
            Op::Join { chat, .. } => format!("the visitor joins chat {chat}"),
            Op::Act { chat, action, .. } => format!("{action:?} on chat {chat}"),
            Op::Record { chat, .. } => format!("a call's milestone in chat {chat}"),
            Op::Note { chat, .. } => format!("a note in chat {chat}"),
            Op::Message { chat, .. } => format!("message in chat {chat}"),
        }
    }
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

/// How one try at a batch went.
enum Attempt {
    /// Committed: a result per job (`None` for the jobs taken out).
    Committed(Vec<Option<Result<Done, Error>>>),
    /// The database failed this job: roll back and try again without it.
    OneFailed(usize, Error),
    /// The transaction itself failed.
    AllFailed(Error),
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
    pub fn start(store: Store, hub: Hub, settings: LiveSettings) -> Writer {
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
            Op::Start { visitor, .. } | Op::Invite { visitor, .. } => visitor.0,
            Op::Join { chat, .. }
            | Op::Act { chat, .. }
            | Op::Record { chat, .. }
            | Op::Note { chat, .. }
            | Op::Message { chat, .. } => chat.0,
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
    settings: LiveSettings,
}

impl Shard {
    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let results = self.apply_batch(&batch).await;
            for (job, result) in batch.drain(..).zip(results) {
                if let Ok(done) = &result {
                    for event in &done.events {
                        let topics = audience::topics(event, &done.chat);
                        let event = event.clone();
                        let chat = Box::new(done.chat.clone());
                        self.hub.publish(&topics, HubEvent::Chat { event, chat });
                    }
                }
                let _ = job.reply.send(result);
            }
        }
    }

    /// One transaction for the whole batch. An operation the database fails is taken out and
    /// the rest applied again, so one bad operation never fails another client's; only a
    /// failure of the transaction itself fails everyone.
    async fn apply_batch(&self, batch: &[Job]) -> Vec<Result<Done, Error>> {
        let mut failed: Vec<Option<Error>> = batch.iter().map(|_| None).collect();
        // Each round either commits or takes one more operation out: it ends.
        loop {
            match self.try_batch(batch, &failed).await {
                Attempt::Committed(results) => {
                    return results
                        .into_iter()
                        .zip(failed)
                        .map(|(result, failure)| match (result, failure) {
                            (Some(result), _) => result,
                            (None, Some(e)) => Err(e),
                            (None, None) => Err(Error::Internal("a job was skipped".into())),
                        })
                        .collect();
                }
                Attempt::OneFailed(i, e) => {
                    let op = batch[i].op.describe();
                    tracing::error!(error = %e, %op, "chat operation failed; its batch goes on without it");
                    failed[i] = Some(Error::Internal(e.to_string()));
                }
                Attempt::AllFailed(e) => {
                    tracing::error!(error = %e, jobs = batch.len(), "chat batch failed");
                    return batch
                        .iter()
                        .map(|_| Err(Error::Internal(e.to_string())))
                        .collect();
                }
            }
        }
    }

    /// Applies the jobs not yet failed, in one transaction.
    async fn try_batch(&self, batch: &[Job], failed: &[Option<Error>]) -> Attempt {
        let mut tx = match self.store.write.begin().await {
            Ok(tx) => tx,
            Err(e) => return Attempt::AllFailed(e.into()),
        };
        let mut results = Vec::with_capacity(batch.len());
        for (i, job) in batch.iter().enumerate() {
            if failed[i].is_some() {
                results.push(None);
                continue;
            }
            match self.apply_one(&mut tx, &job.op).await {
                Err(e @ (Error::Database(_) | Error::Internal(_) | Error::Config(_))) => {
                    let _ = tx.rollback().await;
                    return Attempt::OneFailed(i, e);
                }
                other => results.push(Some(other)),
            }
        }
        match tx.commit().await {
            Ok(()) => Attempt::Committed(results),
            Err(e) => Attempt::AllFailed(e.into()),
        }
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
                let request = (*visitor, name.as_deref(), *mode, page.as_ref());
                self.start(conn, now, request, *available).await
            }
            Op::Invite {
                visitor,
                operator,
                text,
                page,
            } => {
                let mut chat =
                    sql::insert_invited(conn, *visitor, operator, page.as_ref(), now).await?;
                let kind = ChatEventKind::Invited {
                    operator: operator.clone(),
                    text: text.clone(),
                };
                // An invited chat starts out invited: this is its first event, not a move.
                let events = vec![next_event(&mut chat, now, ChatStatus::Invited, kind)];
                self.save(conn, &chat, &events).await
            }
            Op::Join {
                chat,
                visitor,
                name,
                mode,
            } => {
                let mut chat = self.load(conn, *chat).await?;
                let Decision::Apply(step) =
                    lifecycle::decide(&chat, &Actor::Visitor(*visitor), Move::Join)?
                else {
                    return Ok(Done::unchanged(chat));
                };
                chat.visitor_name = name.clone();
                chat.mode = *mode;
                sql::set_name_and_mode(conn, &chat).await?;
                let events = vec![record(&mut chat, now, step)];
                self.save(conn, &chat, &events).await
            }
            Op::Act {
                chat,
                actor,
                action,
            } => {
                let chat = self.load(conn, *chat).await?;
                match action {
                    Move::Accept => self.accept(conn, now, chat, actor).await,
                    Move::Decline => self.decline(conn, now, chat, actor).await,
                    other => self.simple_move(conn, now, chat, actor, *other).await,
                }
            }
            Op::Record { chat, actor, kind } => {
                let mut chat = self.load(conn, *chat).await?;
                let (status, _) = lifecycle::decide_message(&chat, actor)?;
                let events = vec![next_event(&mut chat, now, status, kind.clone())];
                self.save(conn, &chat, &events).await
            }
            Op::Note { chat, kind } => {
                let mut chat = self.load(conn, *chat).await?;
                let status = chat.status;
                let events = vec![next_event(&mut chat, now, status, kind.clone())];
                self.save(conn, &chat, &events).await
            }
            Op::Message {
                chat,
                actor,
                client_id,
                text,
            } => self.message(conn, now, *chat, actor, client_id, text).await,
        }
    }

    /// A new chat rings (or, when nobody is available, is unanswered at once: the visitor is
    /// offered "Leave a message").
    async fn start(
        &self,
        conn: &mut AnyConnection,
        now: i64,
        (visitor, name, mode, page): (VisitorId, Option<&str>, Mode, Option<&Page>),
        available: bool,
    ) -> Result<Done, Error> {
        let mut chat = sql::insert(conn, visitor, name, mode, page, now).await?;
        let kind = ChatEventKind::Requested {
            visitor_id: visitor,
            name: name.map(str::to_owned),
            mode,
            page: page.cloned(),
        };
        // A new chat starts out waiting: this is its first event, not a move.
        let status = chat.status;
        let mut events = vec![next_event(&mut chat, now, status, kind)];
        if !available {
            unanswered(&mut chat, now, &mut events)?;
        }
        self.save(conn, &chat, &events).await
    }

    /// An operator takes a ringing or queued chat, within their chat cap.
    async fn accept(
        &self,
        conn: &mut AnyConnection,
        now: i64,
        mut chat: ChatSummary,
        actor: &Actor,
    ) -> Result<Done, Error> {
        let step = match lifecycle::decide(&chat, actor, Move::Accept)? {
            // The winner's retry is acknowledged with where the chat stands.
            Decision::Unchanged => {
                let seq = chat.last_seq;
                return Ok(Done::repeat(chat, seq));
            }
            Decision::Apply(step) => step,
        };
        self.within_limit(conn, &step).await?;
        let events = vec![record(&mut chat, now, step)];
        self.save(conn, &chat, &events).await
    }

    /// Taking a chat or coming back to a held one needs a free slot: the operator leads fewer
    /// active chats than the settings allow.
    async fn within_limit(&self, conn: &mut AnyConnection, step: &Step) -> Result<(), Error> {
        if let Change::Accepted(me) | Change::Resumed(me) = &step.change {
            let active = chats::count_active_for_operator(&mut *conn, me.id).await?;
            let max = self.settings.with(|s| s.max_chats_per_operator);
            lifecycle::within_limit(active, max)?;
        }
        Ok(())
    }

    /// An operator passes on a request; the last one to do so leaves it unanswered.
    async fn decline(
        &self,
        conn: &mut AnyConnection,
        now: i64,
        mut chat: ChatSummary,
        actor: &Actor,
    ) -> Result<Done, Error> {
        let Decision::Apply(step) = lifecycle::decide(&chat, actor, Move::Decline)? else {
            return Ok(Done::unchanged(chat));
        };
        let new = match &step.change {
            Change::Declined(me) => sql::decline(conn, chat.id, me.id, now).await?,
            _ => false,
        };
        let left = match new {
            true => chats::undeclined_available(&mut *conn, chat.id).await?,
            false => 0,
        };
        let mut events = Vec::new();
        match lifecycle::after_decline(new, left) {
            AfterDecline::Repeat => {}
            AfterDecline::Declined => events.push(record(&mut chat, now, step)),
            AfterDecline::DeclinedByAll => {
                events.push(record(&mut chat, now, step));
                unanswered(&mut chat, now, &mut events)?;
            }
        }
        self.save(conn, &chat, &events).await
    }

    /// Queue, hold, resume and every ending: the table says it all (a resume also needs a
    /// free slot).
    async fn simple_move(
        &self,
        conn: &mut AnyConnection,
        now: i64,
        mut chat: ChatSummary,
        actor: &Actor,
        m: Move,
    ) -> Result<Done, Error> {
        let mut events = Vec::new();
        if let Decision::Apply(step) = lifecycle::decide(&chat, actor, m)? {
            self.within_limit(conn, &step).await?;
            events.push(record(&mut chat, now, step));
        }
        self.save(conn, &chat, &events).await
    }

    /// A message, stored once per client id (a retry is acknowledged with the first `seq`).
    async fn message(
        &self,
        conn: &mut AnyConnection,
        now: i64,
        id: ChatId,
        actor: &Actor,
        client_id: &str,
        text: &str,
    ) -> Result<Done, Error> {
        let mut chat = self.load(conn, id).await?;
        let key = client_key(actor, client_id);
        let (status, author) = match lifecycle::decide_message(&chat, actor) {
            Ok(decided) => decided,
            // A retry of a message stored before the chat ended is still acknowledged.
            Err(refused @ Refusal::Illegal(_)) => {
                return match chats::by_client_id(&mut *conn, chat.id, &key).await? {
                    Some(earlier) => Ok(Done::repeat(chat, earlier.seq)),
                    None => Err(refused.into()),
                };
            }
            Err(refused) => return Err(refused.into()),
        };
        let before = chat.clone();
        let kind = ChatEventKind::Message {
            author,
            text: text.to_owned(),
            client_id: Some(client_id.to_owned()),
        };
        let event = next_event(&mut chat, now, status, kind);
        // One statement stores it or finds it a retry (the client id is taken).
        if !sql::append_new(conn, &event, &key).await? {
            let earlier = chats::by_client_id(&mut *conn, before.id, &key)
                .await?
                .ok_or_else(|| Error::Internal("client id conflict without a row".into()))?;
            return Ok(Done::repeat(before, earlier.seq));
        }
        sql::update(conn, &chat, None).await?;
        Ok(Done {
            chat,
            seq: Some(event.seq),
            events: vec![event],
        })
    }

    async fn load(&self, conn: &mut AnyConnection, id: ChatId) -> Result<ChatSummary, Error> {
        let lock = self.store.backend == Backend::Postgres;
        sql::get(conn, id, lock)
            .await?
            .ok_or_else(|| Error::not_found("chat"))
    }

    /// Stores the events and the chat's new state.
    async fn save(
        &self,
        conn: &mut AnyConnection,
        chat: &ChatSummary,
        events: &[ChatEvent],
    ) -> Result<Done, Error> {
        let mut end_reason = None;
        for event in events {
            sql::append(conn, event, None).await?;
            if let ChatEventKind::Ended { reason } = &event.kind {
                end_reason = Some(*reason);
            }
        }
        sql::update(conn, chat, end_reason).await?;
        Ok(Done {
            chat: chat.clone(),
            events: events.to_vec(),
            seq: events.last().map(|e| e.seq),
        })
    }
}

impl Done {
    /// Nothing was stored (a repeat).
    fn unchanged(chat: ChatSummary) -> Done {
        Done {
            chat,
            events: Vec::new(),
            seq: None,
        }
    }

    /// A retry: acknowledged with the `seq` it was stored under, or the chat's latest.
    fn repeat(chat: ChatSummary, seq: i64) -> Done {
        Done {
            chat,
            events: Vec::new(),
            seq: Some(seq),
        }
    }
}

/// Client ids are scoped by author, so two authors never collide.
fn client_key(actor: &Actor, client_id: &str) -> String {
    match actor {
        Actor::Visitor(_) => format!("v:{client_id}"),
        Actor::Operator(op) => format!("o{}:{client_id}", op.id),
        Actor::System => format!("s:{client_id}"),
    }
}

/// Decides `m` and, unless it changes nothing, records its event.
fn apply(
    chat: &mut ChatSummary,
    now: i64,
    actor: &Actor,
    m: Move,
    events: &mut Vec<ChatEvent>,
) -> Result<(), Error> {
    if let Decision::Apply(step) = lifecycle::decide(chat, actor, m)? {
        events.push(record(chat, now, step));
    }
    Ok(())
}

/// Nobody is left to answer: the visitor is offered "Leave a message".
fn unanswered(chat: &mut ChatSummary, now: i64, events: &mut Vec<ChatEvent>) -> Result<(), Error> {
    apply(chat, now, &Actor::System, Move::Unanswered, events)
}

/// Applies a decided step to the chat and returns its event.
fn record(chat: &mut ChatSummary, now: i64, step: Step) -> ChatEvent {
    match &step.change {
        Change::Accepted(operator) => {
            chat.operator = Some(operator.clone());
            chat.accepted_at = Some(now);
        }
        Change::Ended(_) => chat.ended_at = Some(now),
        _ => {}
    }
    next_event(chat, now, step.status, step.change.kind())
}

/// Gives the chat its next `seq` and status, and returns the event.
fn next_event(
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
