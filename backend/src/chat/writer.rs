//! The only code that writes chat state: a few writer tasks ("shards"), each owning one
//! database connection, applying operations in batches (group commit).
//!
//! Invariants:
//! - A chat's operations always go to the same shard, so they are applied in arrival order and
//!   its `seq` grows by one per event with no gaps. On PostgreSQL the chat row is also locked
//!   (`for update`) so another node's writer waits its turn.
//! - A batch is one transaction. Nobody is answered and nothing is published until it commits:
//!   what a client has seen acknowledged is stored.
//! - A batch reads its chats once (on SQLite the shard keeps the open ones in memory between
//!   batches: it is their only writer) and writes all its events in one statement and each
//!   chat it changed in one more, before anything that must read them (a chat cap count) and
//!   at its end.
//! - A refused operation (illegal move, foreign chat…) writes nothing. When the batch's shared
//!   writes fail (a message's client id was stored before: a retry; or the database refuses a
//!   row) the batch is applied again carefully, each operation written on its own; there an
//!   operation the database fails gets `internal` and its batch is applied again without it,
//!   so it fails no one else's. Only a failing transaction (begin, commit) fails the whole
//!   batch (clients retry; client ids de-duplicate).
//! - What is legal, and what it records, is [`super::lifecycle`]'s decision; each operation
//!   below only reads the facts that decision needs and stores its outcome.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::AnyConnection;
use switchboard_shared::{
    ChatEvent, ChatEventKind, ChatId, ChatStatus, ChatSummary, EndReason, ErrorCode, Mode,
    OperatorRef, Page, VisitorId,
};
use tokio::sync::{mpsc, oneshot};

use super::lifecycle::{self, Actor, AfterDecline, Change, Decision, Move, Refusal, Step};
use super::{audience, sql};
use crate::error::Error;
use crate::hub::{Hub, HubEvent};
use crate::settings::LiveSettings;
use crate::store::{Backend, Store, chats, now_ms};

/// Why a call's milestone was not recorded: another node moved the call since it was decided.
pub(super) const CALL_MOVED: &str = "the call changed meanwhile";

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
        /// The `seq` of the chat's latest call event this milestone was decided on (0: none):
        /// when another node recorded one since, nothing is recorded and the move is
        /// refused with [`CALL_MOVED`], to be decided again.
        after: i64,
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
    /// The chat it acts on (none for one that creates a chat).
    fn chat(&self) -> Option<ChatId> {
        match self {
            Op::Start { .. } | Op::Invite { .. } => None,
            Op::Join { chat, .. }
            | Op::Act { chat, .. }
            | Op::Record { chat, .. }
            | Op::Note { chat, .. }
            | Op::Message { chat, .. } => Some(*chat),
        }
    }

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
    /// The batch's shared writes failed (a message was a retry, or the database refused a
    /// row): go again carefully, each operation written on its own.
    Retry,
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Done, Error>>,
}

/// Handle to the writer shards.
#[derive(Clone)]
pub struct Writer {
    shards: Arc<Vec<mpsc::Sender<Job>>>,
    /// Bumped when chats were changed outside the writer: the shards drop their cache.
    epoch: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the shards.
    pub fn start(store: Store, hub: Hub, settings: LiveSettings) -> Writer {
        let epoch = Arc::new(AtomicU64::new(0));
        let shards = (0..store.write_shards())
            .map(|i| {
                let (tx, rx) = mpsc::channel(4096);
                let shard = Shard {
                    store: store.clone(),
                    hub: hub.clone(),
                    settings: settings.clone(),
                    epoch: epoch.clone(),
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
            epoch,
        }
    }

    /// Chats were changed outside the writer (an operator removed from the ones they led, in
    /// its own transaction): the shards read them afresh from their next batch on.
    pub fn forget_cached_chats(&self) {
        self.epoch.fetch_add(1, Ordering::Release);
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
    epoch: Arc<AtomicU64>,
}

/// The chats a SQLite shard keeps between batches (it is their only writer, so its copy is
/// the truth): open chats only, and past this many it starts over.
type Cache = HashMap<ChatId, ChatSummary>;
const MAX_CACHED_CHATS: usize = 20_000;

impl Shard {
    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut cache = Cache::new();
        let mut epoch = self.epoch.load(Ordering::Acquire);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let now = self.epoch.load(Ordering::Acquire);
            if now != epoch {
                cache.clear();
                epoch = now;
            }
            let results = self.apply_batch(&mut cache, &batch).await;
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
    async fn apply_batch(&self, cache: &mut Cache, batch: &[Job]) -> Vec<Result<Done, Error>> {
        let mut failed: Vec<Option<Error>> = batch.iter().map(|_| None).collect();
        let mut careful = false;
        // Each round commits, turns careful (once), or takes one more operation out: it ends.
        loop {
            match self.try_batch(cache, batch, &failed, careful).await {
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
                Attempt::Retry => careful = true,
                Attempt::OneFailed(i, e) => {
                    let op = batch[i].op.describe();
                    tracing::error!(error = %e, %op, "chat operation failed; its batch goes on without it");
                    failed[i] = Some(Error::Internal(e.to_string()));
                }
                Attempt::AllFailed(e) => {
                    tracing::error!(error = %e, jobs = batch.len(), "chat batch failed");
                    // Whether it committed is unknown: read the chats afresh.
                    cache.clear();
                    return batch
                        .iter()
                        .map(|_| Err(Error::Internal(e.to_string())))
                        .collect();
                }
            }
        }
    }

    /// Applies the jobs not yet failed, in one transaction: their chats read once, their
    /// events written in one statement and each chat they changed in one more.
    async fn try_batch(
        &self,
        cache: &mut Cache,
        batch: &[Job],
        failed: &[Option<Error>],
        careful: bool,
    ) -> Attempt {
        let mut tx = match self.store.write.begin().await {
            Ok(tx) => tx,
            Err(e) => return Attempt::AllFailed(e.into()),
        };
        let ids: Vec<ChatId> = batch
            .iter()
            .zip(failed)
            .filter(|(_, f)| f.is_none())
            .filter_map(|(job, _)| job.op.chat())
            .collect();
        let mut work = match self.load(&mut tx, cache, ids).await {
            Ok(chats) => Work::new(chats, self.store.backend, careful),
            Err(e) => {
                let _ = tx.rollback().await;
                return Attempt::AllFailed(e);
            }
        };
        let mut results = Vec::with_capacity(batch.len());
        for (i, job) in batch.iter().enumerate() {
            if failed[i].is_some() {
                results.push(None);
                continue;
            }
            let mut result = self.apply_one(&mut tx, &mut work, &job.op).await;
            if careful && let Ok(done) = result {
                // Careful: each operation's writes go at once, so a failure is its own.
                result = work.flush(&mut tx).await.map(|()| done);
            }
            match result {
                Err(e @ (Error::Database(_) | Error::Internal(_) | Error::Config(_))) => {
                    let _ = tx.rollback().await;
                    return match careful {
                        true => Attempt::OneFailed(i, e),
                        // The batch's writes are shared: find whose fault it is, carefully.
                        false => Attempt::Retry,
                    };
                }
                other => results.push(Some(other)),
            }
        }
        if let Err(e) = work.flush(&mut tx).await {
            let _ = tx.rollback().await;
            return match careful {
                true => Attempt::AllFailed(e),
                false => Attempt::Retry,
            };
        }
        match tx.commit().await {
            Ok(()) => {
                work.keep(cache, self.store.backend);
                Attempt::Committed(results)
            }
            Err(e) => Attempt::AllFailed(e.into()),
        }
    }

    /// The chats a batch acts on: from the cache on SQLite (reading only the ones it lacks),
    /// and on PostgreSQL read and locked in one statement (another node may act on them).
    async fn load(
        &self,
        conn: &mut AnyConnection,
        cache: &Cache,
        mut ids: Vec<ChatId>,
    ) -> Result<HashMap<ChatId, ChatSummary>, Error> {
        ids.sort_unstable();
        ids.dedup();
        let mut chats = HashMap::with_capacity(ids.len());
        let backend = self.store.backend;
        if backend == Backend::Sqlite {
            ids.retain(|id| match cache.get(id) {
                Some(chat) => {
                    chats.insert(*id, chat.clone());
                    false
                }
                None => true,
            });
        }
        if !ids.is_empty() {
            for chat in sql::get_all(conn, backend, &ids).await? {
                chats.insert(chat.id, chat);
            }
        }
        Ok(chats)
    }

    async fn apply_one(
        &self,
        conn: &mut AnyConnection,
        work: &mut Work,
        op: &Op,
    ) -> Result<Done, Error> {
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
                self.start(conn, work, now, request, *available).await
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
                Ok(work.save(chat, events))
            }
            Op::Join {
                chat,
                visitor,
                name,
                mode,
            } => {
                let mut chat = work.chat(*chat)?;
                let Decision::Apply(step) =
                    lifecycle::decide(&chat, &Actor::Visitor(*visitor), Move::Join)?
                else {
                    return Ok(Done::unchanged(chat));
                };
                chat.visitor_name = name.clone();
                chat.mode = *mode;
                let events = vec![record(&mut chat, now, step)];
                Ok(work.save(chat, events))
            }
            Op::Act {
                chat,
                actor,
                action,
            } => {
                let chat = work.chat(*chat)?;
                match action {
                    Move::Accept => self.accept(conn, work, now, chat, actor).await,
                    Move::Decline => self.decline(conn, work, now, chat, actor).await,
                    other => self.simple_move(conn, work, now, chat, actor, *other).await,
                }
            }
            Op::Record {
                chat,
                actor,
                kind,
                after,
            } => {
                // The chat's row is this batch's (locked on PostgreSQL, the one writer's on
                // SQLite): what its events say now is what the milestone follows.
                work.flush(conn).await?;
                let latest = chats::last_call_event(&mut *conn, *chat).await?;
                if latest.map_or(0, |e| e.seq) != *after {
                    return Err(Error::client(ErrorCode::IllegalTransition, CALL_MOVED));
                }
                let mut chat = work.chat(*chat)?;
                let (status, _) = lifecycle::decide_message(&chat, actor)?;
                let events = vec![next_event(&mut chat, now, status, kind.clone())];
                Ok(work.save(chat, events))
            }
            Op::Note { chat, kind } => {
                let mut chat = work.chat(*chat)?;
                let status = chat.status;
                let events = vec![next_event(&mut chat, now, status, kind.clone())];
                Ok(work.save(chat, events))
            }
            Op::Message {
                chat,
                actor,
                client_id,
                text,
            } => {
                self.message(conn, work, now, *chat, actor, client_id, text)
                    .await
            }
        }
    }

    /// A new chat rings (or, when nobody is available, is unanswered at once: the visitor is
    /// offered "Leave a message").
    async fn start(
        &self,
        conn: &mut AnyConnection,
        work: &mut Work,
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
        Ok(work.save(chat, events))
    }

    /// An operator takes a ringing or queued chat, within their chat cap.
    async fn accept(
        &self,
        conn: &mut AnyConnection,
        work: &mut Work,
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
        self.within_limit(conn, work, &step).await?;
        let events = vec![record(&mut chat, now, step)];
        Ok(work.save(chat, events))
    }

    /// Taking a chat or coming back to a held one needs a free slot: the operator leads fewer
    /// active chats than the settings allow (counted in the database, with the batch so far
    /// written first).
    async fn within_limit(
        &self,
        conn: &mut AnyConnection,
        work: &mut Work,
        step: &Step,
    ) -> Result<(), Error> {
        if let Change::Accepted(me) | Change::Resumed(me) = &step.change {
            work.flush(conn).await?;
            if self.store.backend == Backend::Postgres {
                // Another shard or node may be giving this operator a chat at the same
                // moment: one count at a time (the lock is the transaction's).
                sqlx::query("select id from operators where id = $1 for update")
                    .bind(me.id.0)
                    .execute(&mut *conn)
                    .await?;
            }
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
        work: &mut Work,
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
        Ok(work.save(chat, events))
    }

    /// Queue, hold, resume and every ending: the table says it all (a resume also needs a
    /// free slot).
    async fn simple_move(
        &self,
        conn: &mut AnyConnection,
        work: &mut Work,
        now: i64,
        mut chat: ChatSummary,
        actor: &Actor,
        m: Move,
    ) -> Result<Done, Error> {
        let mut events = Vec::new();
        if let Decision::Apply(step) = lifecycle::decide(&chat, actor, m)? {
            self.within_limit(conn, work, &step).await?;
            events.push(record(&mut chat, now, step));
        }
        Ok(work.save(chat, events))
    }

    /// A message, stored once per client id (a retry is acknowledged with the first `seq`).
    /// It is written with the rest of the batch; a batch that meets a client id stored before
    /// goes again carefully, each message then written (or found a retry) on its own.
    #[allow(clippy::too_many_arguments)]
    async fn message(
        &self,
        conn: &mut AnyConnection,
        work: &mut Work,
        now: i64,
        id: ChatId,
        actor: &Actor,
        client_id: &str,
        text: &str,
    ) -> Result<Done, Error> {
        let mut chat = work.chat(id)?;
        let key = client_key(actor, client_id);
        if let Some(seq) = work.seq_of(id, &key) {
            return Ok(Done::repeat(chat, seq));
        }
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
        if work.careful && !sql::append_new(conn, &event, &key).await? {
            let earlier = chats::by_client_id(&mut *conn, before.id, &key)
                .await?
                .ok_or_else(|| Error::Internal("client id conflict without a row".into()))?;
            return Ok(Done::repeat(before, earlier.seq));
        }
        Ok(work.save_message(chat, event, key))
    }
}

/// What one try at a batch reads and changes: the chats its operations touch, loaded once
/// and changed here; the events to insert and the chats to update, written together by
/// [`Work::flush`] (at the end of the batch, or before a read that must see them).
struct Work {
    backend: Backend,
    chats: HashMap<ChatId, ChatSummary>,
    /// Events not yet written, with a message's client key.
    events: Vec<(ChatEvent, Option<String>)>,
    /// The `seq` each client key of this batch was given.
    keys: HashMap<(ChatId, String), i64>,
    /// Chats changed and not yet written, with the end reason of an ending.
    changed: HashMap<ChatId, Option<EndReason>>,
    /// Each operation is written on its own, a message finding its retry by its client key
    /// (the batch failed once together).
    careful: bool,
}

impl Work {
    fn new(chats: HashMap<ChatId, ChatSummary>, backend: Backend, careful: bool) -> Work {
        Work {
            backend,
            chats,
            events: Vec::new(),
            keys: HashMap::new(),
            changed: HashMap::new(),
            careful,
        }
    }

    /// The chat as this batch has it so far.
    fn chat(&self, id: ChatId) -> Result<ChatSummary, Error> {
        self.chats
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::not_found("chat"))
    }

    /// The `seq` a message of this batch with the same client key was given.
    fn seq_of(&self, chat: ChatId, key: &str) -> Option<i64> {
        self.keys.get(&(chat, key.to_owned())).copied()
    }

    /// Takes the chat's new state and its events, to be written with the batch.
    fn save(&mut self, chat: ChatSummary, events: Vec<ChatEvent>) -> Done {
        let ended = events.iter().find_map(|e| match &e.kind {
            ChatEventKind::Ended { reason } => Some(*reason),
            _ => None,
        });
        if !events.is_empty() {
            let reason = self.changed.entry(chat.id).or_default();
            *reason = ended.or(*reason);
            self.events.extend(events.iter().map(|e| (e.clone(), None)));
        }
        self.chats.insert(chat.id, chat.clone());
        Done {
            seq: events.last().map(|e| e.seq),
            chat,
            events,
        }
    }

    /// Takes a message (already written when careful).
    fn save_message(&mut self, chat: ChatSummary, event: ChatEvent, key: String) -> Done {
        self.changed.entry(chat.id).or_default();
        self.keys.insert((chat.id, key.clone()), event.seq);
        if !self.careful {
            self.events.push((event.clone(), Some(key)));
        }
        self.chats.insert(chat.id, chat.clone());
        Done {
            seq: Some(event.seq),
            chat,
            events: vec![event],
        }
    }

    /// Writes what the batch changed so far: its events in one statement, its chats in one
    /// more. A message whose client key was stored before (a retry) fails it: the batch goes
    /// again carefully, and finds it.
    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), Error> {
        if !self.events.is_empty() {
            let stored = sql::append_all(conn, self.backend, &self.events).await?;
            if stored < self.events.len() {
                return Err(Error::Internal("a message of the batch is a retry".into()));
            }
            self.events.clear();
        }
        if !self.changed.is_empty() {
            let chats: Vec<_> = self
                .changed
                .drain()
                .map(|(id, reason)| (&self.chats[&id], reason))
                .collect();
            sql::update_all(conn, self.backend, &chats).await?;
        }
        Ok(())
    }

    /// After the commit, a SQLite shard keeps the open chats for the next batch.
    fn keep(self, cache: &mut Cache, backend: Backend) {
        if backend != Backend::Sqlite {
            return;
        }
        if cache.len() + self.chats.len() > MAX_CACHED_CHATS {
            cache.clear();
        }
        for (id, chat) in self.chats {
            match chat.status.is_final() {
                true => cache.remove(&id),
                false => cache.insert(id, chat),
            };
        }
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
