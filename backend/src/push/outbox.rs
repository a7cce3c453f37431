//! How to deliver: the outbox worker. Every push is a row in `push_outbox` before anything is
//! sent; the worker claims due rows (with a lease, so several nodes can share the table),
//! sends them concurrently, logs each attempt with its latency and result, disables device
//! tokens the provider calls dead, and retries 429/5xx with exponential backoff that honours
//! Retry-After.

use std::time::{Duration, Instant};

use switchboard_shared::PushPlatform;

use super::settings::Senders;
use super::{Delivery, OUTBOX_PURPOSE, Push, PushMessage};
use crate::error::Error;
use crate::secret::Sealer;
use crate::store::{Backend, now_ms, push as db};

/// Attempts before a push is given up.
const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed push is reserved for the worker that claimed it.
const LEASE_MS: i64 = 30_000;

impl Push {
    /// Sends due pushes until the process ends.
    pub(super) async fn worker(self) {
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
        let postgres = self.inner.store.backend == Backend::Postgres;
        let due = db::claim_due(&self.inner.store.write, postgres, now_ms(), LEASE_MS, 256).await?;
        let n = due.len();
        if n == 0 {
            return Ok(0);
        }
        let current = self.current();
        let sealer = &self.inner.config.sealer;
        let sends = due
            .into_iter()
            .map(|d| deliver(&current.senders, sealer, d));
        let outcomes = futures_util::future::join_all(sends).await;
        db::record(&self.inner.store.write, &outcomes, now_ms()).await?;
        Ok(n)
    }
}

/// Sends one push and decides what happens next; writes nothing.
async fn deliver(senders: &Senders, sealer: &Sealer, due: db::Due) -> db::Outcome {
    let at = now_ms();
    let started = Instant::now();
    let delivery = match unseal(sealer, &due.message) {
        Err(e) => Delivery::rejected(format!("unreadable outbox entry: {e}")),
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
    // Transport errors quote the URL, which holds the token: only its tail leaves the server.
    let delivery = delivery.redacted(&due.token);
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

/// The message of an outbox row (sealed; rows written before sealing came are plain JSON).
fn unseal(sealer: &Sealer, stored: &str) -> Result<PushMessage, Error> {
    if stored.starts_with('{') {
        return Ok(serde_json::from_str(stored)?);
    }
    let opened = sealer.open(OUTBOX_PURPOSE, stored)?;
    Ok(serde_json::from_slice(&opened.plain)?)
}
