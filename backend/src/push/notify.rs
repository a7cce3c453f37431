//! Who to notify: which devices a chat request rings, when the next ring group's turn comes,
//! and which devices get a clear when the request is gone. What is decided here is written
//! to the outbox in one transaction per chat; [`super::outbox`] delivers it.
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

use std::time::Duration;

use switchboard_shared::{
    ChatEvent, ChatEventKind, ChatId, ChatStatus, ChatSummary, DeviceId, EndReason, OperatorId,
};

use super::{Push, PushKind, PushMessage};
use crate::auth::{new_token, token_hash};
use crate::error::Error;
use crate::store::{Backend, chats, now_ms, push as db};

/// Which devices a ring goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ring {
    /// The chat just started ringing: the first ring group.
    First,
    /// The devices of the groups due by now that have not been rung for the chat yet.
    Widen,
    /// The same, for one device only (its app just left the foreground).
    WidenTo(DeviceId),
    /// Once more: every device of the groups due by now.
    Again,
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
        let result = if requested && chat.status == ChatStatus::Waiting {
            self.ring(chat, Ring::First).await.map(drop)
        } else if gone {
            self.clear(chat.id, None).await
        } else if let Some(op) = declined_by {
            self.clear(chat.id, Some(op)).await
        } else {
            Ok(())
        };
        if let Err(e) = result {
            tracing::error!(error = %e, chat = %chat.id, "push: deciding who to notify failed");
        }
    }

    /// Rings the chat's devices `how` says; returns how many.
    async fn ring(&self, chat: &ChatSummary, how: Ring) -> Result<usize, Error> {
        let now = now_ms();
        let ttl = self.inner.config.action_ttl.as_millis() as i64;
        let store = &self.inner.store;
        let step = i64::from(self.escalation().1) * 1000;
        let candidates = db::ring_targets(&store.read, chat.id).await?;
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
            let groups = db::ring_groups(&store.read, chat.id).await?;
            Some(groups.into_iter().take(stage + 1).collect::<Vec<_>>())
        };
        let targets: Vec<_> = candidates
            .into_iter()
            .filter(|c| due.as_ref().is_none_or(|groups| groups.contains(&c.group)))
            .filter(|c| match how {
                Ring::WidenTo(device) => c.target.device == device,
                _ => true,
            })
            // The app is open on a device: it rings over its connection there.
            .filter(|c| !self.inner.hub.is_device_online(c.target.device))
            .map(|c| c.target)
            .collect();
        if targets.is_empty() {
            return Ok(0);
        }
        let postgres = store.backend == Backend::Postgres;
        let mut tx = store.write.begin().await?;
        // Taken meanwhile: its clear has been decided already and would miss these rings.
        if !db::still_ringing(&mut tx, chat.id, postgres).await? {
            return Ok(0);
        }
        // Each device once per chat, but for a ring again (the escalation sweep may have
        // rung the first group just before the first ring got here).
        let targets = if how != Ring::Again {
            let rung = db::rung_devices(&mut tx, chat.id).await?;
            targets
                .into_iter()
                .filter(|t| !rung.contains(&t.device))
                .collect()
        } else {
            targets
        };
        if targets.is_empty() {
            return Ok(0);
        }
        for t in &targets {
            let action_token = new_token();
            db::add_action_token(
                &mut tx,
                &token_hash(&action_token),
                t.operator,
                chat.id,
                now + ttl,
            )
            .await?;
            let msg = PushMessage {
                device_token: t.token.clone(),
                chat_id: chat.id,
                kind: PushKind::Ring {
                    visitor: chat
                        .visitor_name
                        .clone()
                        .unwrap_or_else(|| "Visitor".into()),
                    page: chat.page.as_ref().map(|p| p.url.clone()),
                    mode: chat.mode,
                    action_token,
                    action_expires_at: now + ttl,
                },
            };
            let sealed = self.seal(&msg)?;
            db::enqueue(&mut tx, t, chat.id, "ring", &sealed, now).await?;
        }
        tx.commit().await?;
        tracing::debug!(chat = %chat.id, devices = targets.len(), ?how, "push: ringing");
        self.inner.wake.notify_one();
        Ok(targets.len())
    }

    async fn clear(&self, chat: ChatId, only: Option<OperatorId>) -> Result<(), Error> {
        let now = now_ms();
        if only.is_none() {
            db::cancel_rings(&self.inner.store.write, chat, now).await?;
        }
        let targets = db::rung_targets(&self.inner.store.read, chat, only).await?;
        if targets.is_empty() {
            return Ok(());
        }
        let mut tx = self.inner.store.write.begin().await?;
        for t in &targets {
            let msg = PushMessage {
                device_token: t.token.clone(),
                chat_id: chat,
                kind: PushKind::Clear,
            };
            let sealed = self.seal(&msg)?;
            db::enqueue(&mut tx, t, chat, "clear", &sealed, now).await?;
        }
        tx.commit().await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Escalation, checked every second for the chats still ringing: with ring groups on,
    /// the devices of each group as its turn comes (or as the groups before it decline), once
    /// per device; and a ring again, once per chat, when nobody accepted in time.
    pub(super) async fn escalate(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let (again_secs, group_secs) = self.escalation();
            if again_secs == 0 && group_secs == 0 {
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
            for chat in waiting {
                if group_secs > 0 {
                    match self.ring(&chat, Ring::Widen).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(chat = %chat.id, devices = n, "push: ringing the next group")
                        }
                        Err(e) => tracing::warn!(error = %e, "push: ringing the next group failed"),
                    }
                }
                let again = again_secs > 0
                    && chat.created_at < cutoff
                    && self
                        .inner
                        .rung_again
                        .lock()
                        .map(|mut s| s.insert(chat.id))
                        .unwrap_or(false);
                if again {
                    tracing::info!(chat = %chat.id, "push: nobody accepted yet, ringing again");
                    if let Err(e) = self.ring(&chat, Ring::Again).await {
                        tracing::warn!(error = %e, "push: ringing again failed");
                    }
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
        for chat in waiting {
            if let Err(e) = self.ring(&chat, Ring::WidenTo(device)).await {
                tracing::warn!(error = %e, chat = %chat.id, "push: ringing a device that left failed");
            }
        }
    }

    /// The operator went Live Help Not Available: nothing more rings on their phones, and the
    /// requests already shown there are cleared.
    pub async fn operator_unavailable(&self, operator: OperatorId) {
        let result = async {
            db::cancel_rings_of(&self.inner.store.write, operator, now_ms()).await?;
            let waiting = chats::with_status(&self.inner.store.read, ChatStatus::Waiting).await?;
            for chat in waiting {
                self.clear(chat.id, Some(operator)).await?;
            }
            Ok::<_, Error>(())
        };
        if let Err(e) = result.await {
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
