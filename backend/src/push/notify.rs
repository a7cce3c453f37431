//! Who to notify: which devices a chat request rings, when the next ring group's turn comes,
//! and which devices get a clear when the request is gone.
//!
//! - A chat starts ringing → every enabled device of every available operator (who has not
//!   declined it) that has no live foreground connection gets a `ring` with an action token.
//! - The request is gone (accepted, queued, ended, missed) → every device that was rung gets a
//!   `clear`; rings not sent yet are cancelled. A decline clears the decliner's devices.
//! - Ring groups (`next_group_after_secs` > 0): the first ring goes to the lowest ring group
//!   with an available operator who has not declined; every `next_group_after_secs` the next
//!   group's devices ring too. A group whose operators all declined no longer counts, so the
//!   next one rings at once.
//! - Nobody accepted after `ring_again_after_secs` → the request rings once more, on every
//!   group due by then.
//!
//! Every decision goes to one task, the **decider**, which writes them to the outbox in the
//! order they were made: all the decisions waiting when it is free go into one transaction
//! (one commit instead of one per chat: on SQLite every write shares one connection), and the
//! rows it wrote go to the dispatcher as soon as they are committed ([`super::outbox`]). The
//! caller is answered after the commit, so a chat action returns with its pushes stored.
//! A ring reads, inside that transaction, whether the chat still rings: a clear decided
//! before it (the chat was taken meanwhile) leaves it nothing to ring.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::AnyConnection;
use switchboard_shared::{
    ChatEvent, ChatEventKind, ChatId, ChatStatus, ChatSummary, DeviceId, EndReason, OperatorId,
};
use tokio::sync::{mpsc, oneshot};

use super::{Push, PushKind, PushMessage};
use crate::auth::{new_token, token_hash};
use crate::error::Error;
use crate::store::{Backend, chats, now_ms, push as db};

/// Which devices a ring goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ring {
    /// The chat just started ringing: the first ring group.
    First,
    /// The devices of the groups due by now that have not been rung for the chat yet.
    Widen,
    /// The same, for one device only (its app just left the foreground).
    WidenTo(DeviceId),
    /// Once more: every device of the groups due by now.
    Again,
}

/// Most decisions written in one transaction.
const MAX_BATCH: usize = 256;

/// A decision for the decider to write.
#[derive(Debug)]
pub(super) enum Decision {
    /// Ring the chat's devices as the [`Ring`] says.
    Ring(Box<ChatSummary>, Ring),
    /// Clear the chat on the devices rung for it (one operator's only, for a decline); without
    /// an operator its rings not sent yet are cancelled first.
    Clear(ChatId, Option<OperatorId>),
    /// The operator went Not Available: their rings not sent yet are cancelled, and their
    /// devices cleared of every request still ringing.
    Unavailable(OperatorId),
}

/// A decision and who waits for it to be written (with how many pushes it made).
#[derive(Debug)]
pub(super) struct Job {
    decision: Decision,
    reply: oneshot::Sender<Result<usize, Error>>,
}

/// What a batch of decisions writes: pushes and action tokens gathered to be written a few
/// statements at a time, and what was written, for the delivery pipeline once committed.
struct Batch {
    /// The time of the batch (unix ms).
    now: i64,
    /// Which SQL the store functions speak.
    postgres: bool,
    /// Pushes not written yet.
    pushes: Vec<db::NewPush>,
    /// Action tokens not written yet.
    tokens: Vec<db::NewActionToken>,
    /// Outbox rows written, leased to this node.
    rows: Vec<db::Due>,
    /// Rings cancelled.
    cancelled: Vec<i64>,
}

impl Batch {
    fn new(postgres: bool) -> Batch {
        Batch {
            now: now_ms(),
            postgres,
            pushes: Vec::new(),
            tokens: Vec::new(),
            rows: Vec::new(),
            cancelled: Vec::new(),
        }
    }

    /// Writes what was gathered: the action tokens, then the pushes (leased to this node).
    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), Error> {
        let tokens = std::mem::take(&mut self.tokens);
        db::add_action_tokens(conn, self.postgres, &tokens).await?;
        let pushes = std::mem::take(&mut self.pushes);
        let leased_until = self.now + super::outbox::LEASE_MS;
        let rows = db::enqueue(conn, self.postgres, pushes, self.now, leased_until).await?;
        self.rows.extend(rows);
        Ok(())
    }
}

impl Push {
    /// Decides who to notify after a committed chat change. Failures are logged, never
    /// returned: a push problem must not fail the chat action.
    pub async fn after(&self, chat: &ChatSummary, events: &[ChatEvent]) {
        let requested = events
            .iter()
            .any(|e| matches!(e.kind, ChatEventKind::Requested { .. }));
        // Moves that take a request away from the operators' phones.
        let gone = events.iter().any(|e| match &e.kind {
            ChatEventKind::Accepted { .. } | ChatEventKind::Queued { .. } => true,
            ChatEventKind::Ended { reason } => {
                e.status == ChatStatus::Missed || *reason == EndReason::NoOperator
            }
            _ => false,
        });
        let declined_by = events.iter().find_map(|e| match &e.kind {
            ChatEventKind::Declined { operator } => Some(operator.id),
            _ => None,
        });
        let decision = if requested && chat.status == ChatStatus::Waiting {
            Decision::Ring(Box::new(chat.clone()), Ring::First)
        } else if gone {
            Decision::Clear(chat.id, None)
        } else if let Some(op) = declined_by {
            Decision::Clear(chat.id, Some(op))
        } else {
            return;
        };
        if let Err(e) = self.decide(decision).await {
            tracing::error!(error = %e, chat = %chat.id, "push: deciding who to notify failed");
        }
    }

    /// Queues a decision for the decider; the future ends once it is committed, with the number
    /// of pushes it made. Queued by the call itself, not by the first poll, so decisions are
    /// written in the order they were made.
    fn decide(&self, decision: Decision) -> impl Future<Output = Result<usize, Error>> + use<> {
        let (reply, written) = oneshot::channel();
        let queued = self.inner.decisions.send(Job { decision, reply });
        async move {
            queued.map_err(|_| Error::Internal("the push decider stopped".into()))?;
            written
                .await
                .map_err(|_| Error::Internal("the push decider dropped a decision".into()))?
        }
    }

    /// Writes decisions until the process ends, each batch in one transaction. When a batch
    /// fails, its decisions are written again one by one, so one bad decision fails no other.
    ///
    /// On PostgreSQL a batch locks only the chats no other transaction holds: waiting for one
    /// while holding others could close a cycle with a chat writer's batch. The rings of the
    /// chats held elsewhere are written after it, one chat per transaction, waiting for its
    /// lock (as is every decision written on its own).
    pub(super) async fn decider(self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let decisions: Vec<&Decision> = batch.iter().map(|j| &j.decision).collect();
            let results: Vec<Result<usize, Error>> = match self.write(&decisions, true).await {
                Ok((counts, held_elsewhere)) => {
                    let mut results: Vec<_> = counts.into_iter().map(Ok).collect();
                    for i in held_elsewhere {
                        results[i] = self.write_one(decisions[i]).await;
                    }
                    results
                }
                Err(e) if decisions.len() == 1 => vec![Err(e)],
                Err(e) => {
                    tracing::warn!(error = %e, decisions = decisions.len(), "push: a batch of decisions failed; writing them one by one");
                    let mut results = Vec::with_capacity(decisions.len());
                    for d in &decisions {
                        results.push(self.write_one(d).await);
                    }
                    results
                }
            };
            for (job, result) in batch.drain(..).zip(results) {
                let _ = job.reply.send(result);
            }
        }
    }

    /// Writes one decision in a transaction of its own; returns how many pushes it made.
    async fn write_one(&self, decision: &Decision) -> Result<usize, Error> {
        let (counts, _) = self.write(&[decision], false).await?;
        Ok(counts.iter().sum())
    }

    /// Writes `decisions`, in order, in one transaction; then hands the new rows to the
    /// dispatcher. Returns how many pushes each made, and, with `skip_locked`, which decisions
    /// were left out because their chat was locked elsewhere (PostgreSQL).
    async fn write(
        &self,
        decisions: &[&Decision],
        skip_locked: bool,
    ) -> Result<(Vec<usize>, Vec<usize>), Error> {
        let store = &self.inner.store;
        let postgres = store.backend == Backend::Postgres;
        let mut batch = Batch::new(postgres);
        let mut ring_chats: Vec<ChatId> = decisions
            .iter()
            .filter_map(|d| match d {
                Decision::Ring(chat, _) => Some(chat.id),
                _ => None,
            })
            .collect();
        ring_chats.sort();
        ring_chats.dedup();
        // Who may ring, read once for the batch, outside the transaction (as a single ring
        // always read it).
        let ringable = if ring_chats.is_empty() {
            db::Ringable::default()
        } else {
            db::ringable(&store.read, postgres, &ring_chats).await?
        };
        let mut tx = store.write.begin().await?;
        // Taken meanwhile: its clear has been decided already and would miss these rings.
        let (ringing, locked, mut rung) = if ring_chats.is_empty() {
            Default::default()
        } else {
            let (ringing, locked) =
                db::ringing(&mut tx, postgres, skip_locked, &ring_chats).await?;
            let rung = db::rung_devices(&mut tx, postgres, &ring_chats).await?;
            (ringing, locked, rung)
        };
        let mut counts = Vec::with_capacity(decisions.len());
        let mut held_elsewhere = Vec::new();
        for (i, decision) in decisions.iter().enumerate() {
            let n = match decision {
                Decision::Ring(chat, _)
                    if skip_locked && postgres && !locked.contains(&chat.id) =>
                {
                    held_elsewhere.push(i);
                    0
                }
                Decision::Ring(chat, _) if !ringing.contains(&chat.id) => 0,
                Decision::Ring(chat, how) => {
                    let targets = self.ring_targets(chat, *how, &ringable, &rung, batch.now);
                    for t in &targets {
                        rung.insert((chat.id, t.device));
                        self.add_ring(&mut batch, chat, t)?;
                    }
                    if !targets.is_empty() {
                        tracing::debug!(chat = %chat.id, devices = targets.len(), ?how, "push: ringing");
                    }
                    targets.len()
                }
                Decision::Clear(chat, only) => {
                    self.add_clears(&mut tx, &mut batch, *chat, *only).await?
                }
                Decision::Unavailable(operator) => {
                    let cancelled = db::cancel_rings_of(&mut tx, *operator, batch.now).await?;
                    batch.cancelled.extend(cancelled);
                    let mut n = 0;
                    for chat in chats::with_status(&mut *tx, ChatStatus::Waiting).await? {
                        n += self
                            .add_clears(&mut tx, &mut batch, chat.id, Some(*operator))
                            .await?;
                    }
                    n
                }
            };
            counts.push(n);
        }
        batch.flush(&mut tx).await?;
        tx.commit().await?;
        self.cancelled(&batch.cancelled);
        self.hand_over(batch.rows);
        Ok((counts, held_elsewhere))
    }

    /// The devices a ring of `chat` goes to, as `how` says; `rung` holds the devices rung for
    /// it so far.
    fn ring_targets(
        &self,
        chat: &ChatSummary,
        how: Ring,
        ringable: &db::Ringable,
        rung: &HashSet<(ChatId, DeviceId)>,
        now: i64,
    ) -> Vec<db::Target> {
        let step = i64::from(self.escalation().1) * 1000;
        // With ring groups on: the groups due by now (None: every group).
        let due = if step == 0 {
            None
        } else {
            let stage = match how {
                Ring::First => 0,
                Ring::Widen | Ring::WidenTo(_) | Ring::Again => {
                    ((now - chat.created_at).max(0) / step) as usize
                }
            };
            let groups = ringable.groups(chat.id);
            Some(groups.into_iter().take(stage + 1).collect::<Vec<_>>())
        };
        ringable
            .candidates(chat.id)
            .filter(|c| due.as_ref().is_none_or(|groups| groups.contains(&c.group)))
            .filter(|c| match how {
                Ring::WidenTo(device) => c.target.device == device,
                _ => true,
            })
            // Each device once per chat, but for a ring again (the escalation sweep may have
            // rung the first group just before the first ring got here).
            .filter(|c| how == Ring::Again || !rung.contains(&(chat.id, c.target.device)))
            // The app is open on a device: it rings over its connection there.
            .filter(|c| !self.inner.hub.is_device_online(c.target.device))
            .map(|c| c.target.clone())
            .collect()
    }

    /// Adds one ring to the batch: a new action token (stored hashed) and the sealed push.
    fn add_ring(
        &self,
        batch: &mut Batch,
        chat: &ChatSummary,
        target: &db::Target,
    ) -> Result<(), Error> {
        let expires_at = batch.now + self.inner.config.action_ttl.as_millis() as i64;
        let action_token = new_token();
        batch.tokens.push(db::NewActionToken {
            hash: token_hash(&action_token),
            operator: target.operator,
            chat: chat.id,
            expires_at,
        });
        let msg = PushMessage {
            device_token: target.token.clone(),
            chat_id: chat.id,
            kind: PushKind::Ring {
                visitor: chat
                    .visitor_name
                    .clone()
                    .unwrap_or_else(|| "Visitor".into()),
                page: chat.page.as_ref().map(|p| p.url.clone()),
                mode: chat.mode,
                action_token,
                action_expires_at: expires_at,
            },
        };
        batch.pushes.push(db::NewPush {
            target: target.clone(),
            chat: chat.id,
            kind: "ring",
            message: self.seal(&msg)?,
        });
        Ok(())
    }

    /// Adds the clears of `chat` to the batch (to `only`'s devices, or to all, then
    /// cancelling the rings not sent yet); returns how many. The batch's rings so far are
    /// written first, so the clears see them.
    async fn add_clears(
        &self,
        conn: &mut AnyConnection,
        batch: &mut Batch,
        chat: ChatId,
        only: Option<OperatorId>,
    ) -> Result<usize, Error> {
        batch.flush(conn).await?;
        if only.is_none() {
            let cancelled = db::cancel_rings(conn, chat, batch.now).await?;
            batch.cancelled.extend(cancelled);
        }
        let targets = db::rung_targets(conn, chat, only).await?;
        for t in &targets {
            let msg = PushMessage {
                device_token: t.token.clone(),
                chat_id: chat,
                kind: PushKind::Clear,
            };
            batch.pushes.push(db::NewPush {
                target: t.clone(),
                chat,
                kind: "clear",
                message: self.seal(&msg)?,
            });
        }
        Ok(targets.len())
    }

    /// Escalation, checked every second for the chats still ringing: with ring groups on,
    /// the devices of each group as its turn comes (or as the groups before it decline), once
    /// per device; and a ring again, once per chat, when nobody accepted in time.
    pub(super) async fn escalate(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let (again_secs, group_secs) = self.escalation();
            if (again_secs == 0 && group_secs == 0) || !self.inner.store.sweeps_here() {
                continue;
            }
            let Ok(waiting) = chats::with_status(&self.inner.store.read, ChatStatus::Waiting).await
            else {
                continue;
            };
            // Forget chats that stopped ringing, so the set holds only what is waiting now.
            if let Ok(mut rung) = self.inner.rung_again.lock() {
                rung.retain(|id| waiting.iter().any(|c| c.id == *id));
            }
            let cutoff = now_ms() - i64::from(again_secs) * 1000;
            // Queued together, written together (in one batch when the decider is free).
            let mut widen = Vec::new();
            let mut again = Vec::new();
            for chat in waiting {
                let id = chat.id;
                let ring_again = again_secs > 0
                    && chat.created_at < cutoff
                    && self
                        .inner
                        .rung_again
                        .lock()
                        .map(|mut s| s.insert(id))
                        .unwrap_or(false);
                let chat = Box::new(chat);
                if group_secs > 0 {
                    widen.push((id, self.decide(Decision::Ring(chat.clone(), Ring::Widen))));
                }
                if ring_again {
                    tracing::info!(chat = %id, "push: nobody accepted yet, ringing again");
                    again.push(self.decide(Decision::Ring(chat, Ring::Again)));
                }
            }
            for (chat, written) in widen {
                match written.await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(%chat, devices = n, "push: ringing the next group"),
                    Err(e) => tracing::warn!(error = %e, "push: ringing the next group failed"),
                }
            }
            for written in again {
                if let Err(e) = written.await {
                    tracing::warn!(error = %e, "push: ringing again failed");
                }
            }
        }
    }

    /// A device's app left the foreground (or its connection closed): the requests ringing
    /// now, which it rang for over its connection, reach it by push.
    pub async fn device_left(&self, operator: OperatorId, device: DeviceId) {
        let waiting = match chats::requests_for(&self.inner.store.read, operator).await {
            Ok(chats) => chats,
            Err(e) => {
                tracing::warn!(error = %e, "push: reading the ringing requests failed");
                return;
            }
        };
        let rings: Vec<_> = waiting
            .into_iter()
            .map(|chat| {
                let id = chat.id;
                (
                    id,
                    self.decide(Decision::Ring(Box::new(chat), Ring::WidenTo(device))),
                )
            })
            .collect();
        for (chat, written) in rings {
            if let Err(e) = written.await {
                tracing::warn!(error = %e, %chat, "push: ringing a device that left failed");
            }
        }
    }

    /// The operator went Live Help Not Available: nothing more rings on their phones, and the
    /// requests already shown there are cleared.
    pub async fn operator_unavailable(&self, operator: OperatorId) {
        if let Err(e) = self.decide(Decision::Unavailable(operator)).await {
            tracing::warn!(error = %e, %operator, "push: clearing a Not Available operator's phones failed");
        }
    }

    /// The outbox form of a push: sealed under the secret key, since a ring carries an action
    /// token that answers a chat request (only its hash is kept in the clear).
    fn seal(&self, msg: &PushMessage) -> Result<String, Error> {
        let json = serde_json::to_vec(msg)?;
        self.inner.config.sealer.seal(super::OUTBOX_PURPOSE, &json)
    }
}
