//! Who to notify, and the delivery worker.
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
//! Every push is a row in `push_outbox` before anything is sent; the worker claims due rows
//! (with a lease, so several nodes can share the table), sends them, logs each attempt, and
//! retries 429/5xx with exponential backoff that honours Retry-After.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use switchboard_shared::{
    ApnsSettingsView, ChatEvent, ChatEventKind, ChatId, ChatStatus, ChatSummary, DeviceId,
    EndReason, FcmSettingsView, OperatorId, PushPlatform, PushSettingsUpdate, PushSettingsView,
};
use tokio::sync::Notify;

use super::apns::{ApnsClient, ApnsCredentials};
use super::fcm::FcmClient;
use super::{Delivery, PushKind, PushMessage};
use crate::auth::{new_token, token_hash};
use crate::error::Error;
use crate::hub::Hub;
use crate::store::{Store, chats, now_ms, push as db};

/// Attempts before a push is given up.
const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed push is reserved for the worker that claimed it.
const LEASE_MS: i64 = 30_000;

/// Push settings as stored (with the secrets).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredPushSettings {
    /// APNs credentials.
    pub apns: Option<ApnsCredentials>,
    /// The FCM service-account JSON.
    pub fcm_service_account: Option<String>,
    /// Ring again after this many seconds (0: never).
    #[serde(default)]
    pub ring_again_after_secs: u32,
    /// Ring the next ring group after this many more seconds (0: every group at once).
    #[serde(default)]
    pub next_group_after_secs: u32,
}

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

/// Where the providers are (configurable so tests reach local servers) and how long action
/// tokens last.
#[derive(Clone)]
pub struct PushConfig {
    /// Encrypts the stored settings (they hold the credentials).
    pub sealer: Arc<crate::secret::Sealer>,
    /// APNs base URL override.
    pub apns_base_url: Option<String>,
    /// FCM base URL override.
    pub fcm_base_url: Option<String>,
    /// Action token lifetime.
    pub action_ttl: Duration,
}

struct Senders {
    apns: Option<ApnsClient>,
    fcm: Option<FcmClient>,
}

struct Inner {
    store: Store,
    hub: Hub,
    config: PushConfig,
    settings: RwLock<StoredPushSettings>,
    senders: RwLock<Arc<Senders>>,
    wake: Notify,
    rung_again: std::sync::Mutex<HashSet<ChatId>>,
}

/// Cheap-to-clone handle to push.
#[derive(Clone)]
pub struct Push {
    inner: Arc<Inner>,
}

fn build_senders(s: &StoredPushSettings, config: &PushConfig) -> Senders {
    let apns =
        s.apns
            .clone()
            .and_then(|c| match ApnsClient::new(c, config.apns_base_url.clone()) {
                Ok(client) => Some(client),
                Err(e) => {
                    tracing::error!(error = %e, "APNs credentials are unusable");
                    None
                }
            });
    let fcm = s.fcm_service_account.as_deref().and_then(|json| {
        match FcmClient::new(json, config.fcm_base_url.clone()) {
            Ok(client) => Some(client),
            Err(e) => {
                tracing::error!(error = %e, "the FCM service account is unusable");
                None
            }
        }
    });
    Senders { apns, fcm }
}

fn view(s: &StoredPushSettings) -> PushSettingsView {
    let fcm = s.fcm_service_account.as_deref().and_then(|json| {
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        Some(FcmSettingsView {
            project_id: v["project_id"].as_str()?.to_owned(),
            client_email: v["client_email"].as_str().unwrap_or_default().to_owned(),
        })
    });
    PushSettingsView {
        apns: s.apns.as_ref().map(|a| ApnsSettingsView {
            key_id: a.key_id.clone(),
            team_id: a.team_id.clone(),
            topic: a.topic.clone(),
            sandbox: a.sandbox,
        }),
        fcm,
        ring_again_after_secs: s.ring_again_after_secs,
        next_group_after_secs: s.next_group_after_secs,
    }
}

impl Push {
    /// Loads the settings and starts the delivery worker.
    pub async fn start(store: Store, hub: Hub, config: PushConfig) -> Result<Push, Error> {
        let settings = load_settings(&store, &config.sealer).await?;
        let senders = build_senders(&settings, &config);
        let push = Push {
            inner: Arc::new(Inner {
                store,
                hub,
                config,
                settings: RwLock::new(settings),
                senders: RwLock::new(Arc::new(senders)),
                wake: Notify::new(),
                rung_again: std::sync::Mutex::new(HashSet::new()),
            }),
        };
        tokio::spawn(push.clone().worker());
        tokio::spawn(push.clone().escalate());
        Ok(push)
    }

    /// The settings without their secrets.
    pub fn view(&self) -> PushSettingsView {
        view(
            &self
                .inner
                .settings
                .read()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

    /// Changes the credentials (validated by building the clients).
    pub async fn update(&self, update: PushSettingsUpdate) -> Result<PushSettingsView, Error> {
        let mut next = self
            .inner
            .settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(apns) = update.apns {
            next.apns = apns.map(|a| ApnsCredentials {
                key_p8: a.key_p8,
                key_id: a.key_id,
                team_id: a.team_id,
                topic: a.topic,
                sandbox: a.sandbox,
            });
            if let Some(c) = &next.apns {
                ApnsClient::new(c.clone(), self.inner.config.apns_base_url.clone())
                    .map_err(|e| Error::invalid(format!("APNs credentials: {e}")))?;
            }
        }
        if let Some(fcm) = update.fcm_service_account {
            if let Some(json) = &fcm {
                FcmClient::new(json, self.inner.config.fcm_base_url.clone())
                    .map_err(|e| Error::invalid(format!("FCM service account: {e}")))?;
            }
            next.fcm_service_account = fcm;
        }
        if let Some(secs) = update.ring_again_after_secs {
            if secs > 3600 {
                return Err(Error::invalid("ring_again_after_secs must be 0 to 3600"));
            }
            next.ring_again_after_secs = secs;
        }
        if let Some(secs) = update.next_group_after_secs {
            if secs > 3600 {
                return Err(Error::invalid("next_group_after_secs must be 0 to 3600"));
            }
            next.next_group_after_secs = secs;
        }
        save_settings(&self.inner.store, &self.inner.config.sealer, &next).await?;
        let senders = build_senders(&next, &self.inner.config);
        *self
            .inner
            .senders
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(senders);
        let shown = view(&next);
        *self
            .inner
            .settings
            .write()
            .unwrap_or_else(|p| p.into_inner()) = next;
        Ok(shown)
    }

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

    /// (ring again after, next group after), in seconds.
    fn escalation(&self) -> (u32, u32) {
        let s = self
            .inner
            .settings
            .read()
            .unwrap_or_else(|p| p.into_inner());
        (s.ring_again_after_secs, s.next_group_after_secs)
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
        let postgres = store.backend == crate::store::Backend::Postgres;
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
            let json = serde_json::to_string(&msg).map_err(|e| Error::Internal(e.to_string()))?;
            db::enqueue(&mut tx, t, chat.id, "ring", &json, now).await?;
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
            let json = serde_json::to_string(&msg).map_err(|e| Error::Internal(e.to_string()))?;
            db::enqueue(&mut tx, t, chat, "clear", &json, now).await?;
        }
        tx.commit().await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Escalation, checked every second for the chats still ringing: with ring groups on,
    /// the devices of each group as its turn comes (or as the groups before it decline), once
    /// per device; and a ring again, once per chat, when nobody accepted in time.
    async fn escalate(self) {
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

    /// Sends due pushes until the process ends.
    async fn worker(self) {
        loop {
            match self.send_due().await {
                Ok(0) => {
                    let _ = tokio::time::timeout(
                        Duration::from_millis(250),
                        self.inner.wake.notified(),
                    )
                    .await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "push worker");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Sends one batch of due pushes (concurrently) and records the outcomes in one
    /// transaction; returns how many were tried.
    pub async fn send_due(&self) -> Result<usize, Error> {
        let postgres = self.inner.store.backend == crate::store::Backend::Postgres;
        let due = db::claim_due(&self.inner.store.write, postgres, now_ms(), LEASE_MS, 256).await?;
        let n = due.len();
        if n == 0 {
            return Ok(0);
        }
        let senders = self
            .inner
            .senders
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let sends = due.into_iter().map(|d| {
            let senders = senders.clone();
            async move { deliver(&senders, d).await }
        });
        let outcomes = futures_util::future::join_all(sends).await;
        db::record(&self.inner.store.write, &outcomes, now_ms()).await?;
        Ok(n)
    }
}

const SETTINGS_PURPOSE: &str = "push settings";

async fn save_settings(
    store: &Store,
    sealer: &crate::secret::Sealer,
    settings: &StoredPushSettings,
) -> Result<(), Error> {
    let json = serde_json::to_vec(settings).map_err(|e| Error::Internal(e.to_string()))?;
    // Stored under "push" as `{"sealed": "v1.…"}`: the settings JSON, encrypted.
    let sealed = serde_json::json!({ "sealed": sealer.seal(SETTINGS_PURPOSE, &json) });
    crate::store::settings::save_key(&store.write, "push", &sealed).await
}

/// The stored settings. Ones saved in the clear (before encryption came) or under the
/// previous secret key are saved again under the current key.
async fn load_settings(
    store: &Store,
    sealer: &crate::secret::Sealer,
) -> Result<StoredPushSettings, Error> {
    let Some(stored) =
        crate::store::settings::load_key::<serde_json::Value>(&store.read, "push").await?
    else {
        return Ok(StoredPushSettings::default());
    };
    let unreadable = |e: serde_json::Error| Error::Internal(format!("push settings: {e}"));
    let (settings, save_again): (StoredPushSettings, bool) =
        match stored.get("sealed").and_then(serde_json::Value::as_str) {
            Some(sealed) => {
                let opened = sealer.open(SETTINGS_PURPOSE, sealed)?;
                let settings = serde_json::from_slice(&opened.plain).map_err(unreadable)?;
                (settings, opened.stale)
            }
            None => (serde_json::from_value(stored).map_err(unreadable)?, true),
        };
    if save_again {
        save_settings(store, sealer, &settings).await?;
        tracing::info!("push settings saved again, encrypted under the current secret key");
    }
    Ok(settings)
}

/// Sends one push and decides what happens next; writes nothing.
async fn deliver(senders: &Senders, due: db::Due) -> db::Outcome {
    let at = now_ms();
    let started = Instant::now();
    let delivery = match serde_json::from_str::<PushMessage>(&due.message) {
        Err(e) => Delivery::Rejected {
            status: 0,
            reason: format!("unreadable outbox entry: {e}"),
        },
        Ok(msg) => match (due.platform, &senders.apns, &senders.fcm) {
            (PushPlatform::Apns, Some(apns), _) => apns.send(&msg).await,
            (PushPlatform::Fcm, _, Some(fcm)) => fcm.send(&msg).await,
            (platform, _, _) => Delivery::Retry {
                after: Some(Duration::from_secs(30)),
                status: 0,
                reason: format!("no {} credentials configured", platform.as_str()),
            },
        },
    };
    let latency_ms = started.elapsed().as_millis() as i64;
    let (status, result) = match &delivery {
        Delivery::Delivered { status } => (*status, "delivered".to_owned()),
        Delivery::Retry { status, reason, .. } => (*status, format!("retry: {reason}")),
        Delivery::Unregistered { status, reason } => (*status, format!("unregistered: {reason}")),
        Delivery::Rejected { status, reason } => (*status, format!("rejected: {reason}")),
    };
    tracing::info!(chat = %due.chat, device = %due.device, kind = %due.kind, status, latency_ms, %result, "push attempt");
    let next = match delivery {
        Delivery::Delivered { .. } | Delivery::Rejected { .. } => db::Next::Settle(result.clone()),
        Delivery::Unregistered { reason, .. } => db::Next::SettleAndDisable(reason),
        Delivery::Retry { after, .. } => {
            let attempts = due.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                db::Next::Settle(format!("gave up after {attempts} attempts"))
            } else {
                let backoff = Duration::from_millis(500 * (1u64 << attempts.min(10)));
                let wait = after.map_or(backoff, |a| a.max(Duration::from_millis(200)));
                db::Next::RetryAt(now_ms() + wait.as_millis() as i64)
            }
        }
    };
    db::Outcome {
        due,
        at,
        latency_ms,
        status,
        result,
        next,
    }
}
