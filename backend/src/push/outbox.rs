//! How to deliver: the outbox pipeline. Every push is a row in `push_outbox` before anything is
//! sent; four tasks move it on from there:
//!
//! - the **decider** ([`super::notify`]) writes rows leased to this node and, right after the
//!   commit, hands them to the dispatcher: a fresh push waits for no timer and no claim;
//! - the **dispatcher** sends them at once, at most [`MAX_IN_FLIGHT`] at a time, one at a time
//!   per device and chat (so a clear never overtakes its ring);
//! - the **recorder** writes the attempts in batches (one transaction each): the log, the row
//!   settled or its retry scheduled, dead device tokens disabled;
//! - the **sweep** claims what is due from the table, with a lease so several nodes can share
//!   it: retries (429/5xx, exponential backoff honouring Retry-After), rows whose lease ran out
//!   (a node stopped mid-send) and rows a restart left. It sleeps until the next one is due.
//!
//! A row in memory here is **held** until its attempt is recorded: the sweep does not claim it
//! again, and a cancelled ring (the request is gone, the operator went Not Available) that has
//! not been sent yet is dropped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_shared::{ChatId, DeviceId, PushPlatform};
use tokio::sync::{Semaphore, mpsc};

use super::settings::Senders;
use super::{Delivery, OUTBOX_PURPOSE, Push, PushMessage};
use crate::error::Error;
use crate::secret::Sealer;
use crate::store::{Backend, now_ms, push as db};

/// Attempts before a push is given up.
const MAX_ATTEMPTS: i64 = 8;
/// How long a row is reserved for the node that wrote or claimed it: longer than a send can
/// take (the clients time out after 15 s).
pub(super) const LEASE_MS: i64 = 30_000;
/// Most sends under way at once (APNs allows far more streams on one connection; FCM, over
/// HTTP/1.1, takes one connection per send under way).
const MAX_IN_FLIGHT: usize = 128;
/// Most rows claimed, or attempts recorded, in one statement batch.
const BATCH: usize = 256;
/// How long the recorder gathers attempts before writing them.
const RECORD_AFTER: Duration = Duration::from_millis(20);
/// The sweep looks at the table at least this often: another node's retries, leases run out.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How long a stopping node waits for its sends under way to be recorded.
const STOP_WITHIN: Duration = Duration::from_secs(5);
/// How long the sweep waits when something is due but could not be claimed (another node
/// holds it locked).
const SWEEP_BUSY: Duration = Duration::from_millis(100);

/// The rows this node holds in memory (see the module docs).
#[derive(Debug, Default)]
pub(super) struct Held {
    /// From taking a row (written or claimed) to recording its attempt.
    ids: HashSet<i64>,
    /// Those of them cancelled before their send started.
    cancelled: HashSet<i64>,
    /// Those not sent because the node is stopping, to give back.
    unsent: Vec<i64>,
}

/// A send to one device about one chat: sends with the same key go one after the other.
type Key = (ChatId, DeviceId);

impl Push {
    /// Takes rows just committed (or claimed) and gives them to the dispatcher; rows held
    /// already are left where they are.
    pub(super) fn hand_over(&self, rows: Vec<db::Due>) {
        let mut held = self.held();
        for row in rows {
            if held.ids.insert(row.id) {
                let _ = self.inner.to_send.send(row);
            }
        }
    }

    /// Rows settled as cancelled by a committed transaction: those held here whose send has
    /// not started are not sent.
    pub(super) fn cancelled(&self, ids: &[i64]) {
        let mut held = self.held();
        for id in ids {
            if held.ids.contains(id) {
                held.cancelled.insert(*id);
            }
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.inner.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_stopping(&self) -> bool {
        self.inner
            .stopping
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops delivering, before the database closes: nothing more is claimed or sent, the
    /// sends under way finish and are recorded (up to [`STOP_WITHIN`]), and the rows taken
    /// but not sent are given back, due at once, so the next node to sweep sends them without
    /// waiting out their lease.
    pub async fn stop(&self) {
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let deadline = Instant::now() + STOP_WITHIN;
        loop {
            let (busy, unsent) = {
                let mut held = self.held();
                (!held.ids.is_empty(), std::mem::take(&mut held.unsent))
            };
            if !unsent.is_empty() {
                let postgres = self.inner.store.backend == Backend::Postgres;
                match db::release(&self.inner.store.write, postgres, &unsent, now_ms()).await {
                    Ok(n) => tracing::info!(pushes = n, "push: stopping; unsent pushes given back"),
                    Err(e) => {
                        tracing::warn!(error = %e, "push: giving back unsent pushes failed; they go out when their lease ends")
                    }
                }
            }
            if !busy || Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends what it is given until the process ends: each at once, unless a send to the same
    /// device about the same chat is under way (then right after it), or [`MAX_IN_FLIGHT`]
    /// are.
    pub(super) async fn dispatcher(self, mut rows: mpsc::UnboundedReceiver<db::Due>) {
        let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let (finished, mut finished_rx) = mpsc::unbounded_channel::<Key>();
        // The keys with a send under way, and what waits behind each.
        let mut busy: HashMap<Key, VecDeque<db::Due>> = HashMap::new();
        loop {
            let key = tokio::select! {
                biased;
                Some(key) = finished_rx.recv() => key,
                row = rows.recv() => {
                    let Some(row) = row else { return };
                    let key = (row.chat, row.device);
                    match busy.get_mut(&key) {
                        Some(waiting) => waiting.push_back(row),
                        None => {
                            busy.insert(key, VecDeque::new());
                            self.send_one(row, &limit, &finished).await;
                        }
                    }
                    continue;
                }
            };
            match busy.get_mut(&key).and_then(VecDeque::pop_front) {
                Some(next) => self.send_one(next, &limit, &finished).await,
                None => {
                    busy.remove(&key);
                }
            }
        }
    }

    /// Starts sending one row (once a place is free), or drops it when it was cancelled;
    /// `finished` hears of its key either way.
    async fn send_one(
        &self,
        row: db::Due,
        limit: &Arc<Semaphore>,
        finished: &mpsc::UnboundedSender<Key>,
    ) {
        let key = (row.chat, row.device);
        let dropped = {
            let mut held = self.held();
            let cancelled = held.cancelled.remove(&row.id);
            let stopping = self.is_stopping();
            if stopping && !cancelled {
                held.unsent.push(row.id);
            }
            if cancelled || stopping {
                held.ids.remove(&row.id);
            }
            cancelled || stopping
        };
        if dropped {
            let _ = finished.send(key);
            return;
        }
        let Ok(place) = limit.clone().acquire_owned().await else {
            return;
        };
        let push = self.clone();
        let finished = finished.clone();
        tokio::spawn(async move {
            let current = push.current();
            let outcome = deliver(&current.senders, &push.inner.config.sealer, row).await;
            drop(place);
            let _ = push.inner.outcomes.send(outcome);
            let _ = finished.send(key);
        });
    }

    /// Records attempts until the process ends: from the first one in, it waits
    /// [`RECORD_AFTER`] for more and records them all in one transaction; then the rows are no
    /// longer held, and the sweep hears of the retries scheduled.
    pub(super) async fn recorder(self, mut outcomes: mpsc::UnboundedReceiver<db::Outcome>) {
        let mut batch = Vec::with_capacity(BATCH);
        while outcomes.recv_many(&mut batch, BATCH).await > 0 {
            // Nobody waits for the record: gathering them costs no push any time, and spares
            // the single SQLite write connection (the chat writer's and the decider's too) a
            // transaction per handful of pushes.
            tokio::time::sleep(RECORD_AFTER).await;
            while batch.len() < BATCH
                && let Ok(outcome) = outcomes.try_recv()
            {
                batch.push(outcome);
            }
            // Rows in id order: two transactions touching the same rows lock them alike.
            batch.sort_by_key(|o| o.due.id);
            let mut tries = 0;
            let postgres = self.inner.store.backend == Backend::Postgres;
            while let Err(e) = db::record(&self.inner.store.write, postgres, &batch, now_ms()).await
            {
                tries += 1;
                if tries == 3 {
                    // Sent but not recorded: once their lease runs out they are sent again.
                    tracing::error!(error = %e, attempts = batch.len(), "push: recording attempts failed");
                    break;
                }
                tracing::warn!(error = %e, "push: recording attempts failed, trying again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            {
                let mut held = self.held();
                for o in &batch {
                    held.ids.remove(&o.due.id);
                    held.cancelled.remove(&o.due.id);
                }
            }
            if batch.iter().any(|o| matches!(o.next, db::Next::RetryAt(_))) {
                self.inner.sweep.notify_one();
            }
            batch.clear();
        }
    }

    /// Claims what is due from the table and hands it to the dispatcher, until the process
    /// ends; between two looks it sleeps until the next row is due (at most [`SWEEP_EVERY`]),
    /// or until the recorder schedules a retry.
    pub(super) async fn sweep(self) {
        // A claim that found nothing although something was due: another node holds it.
        let mut claimed_nothing = false;
        loop {
            let now = now_ms();
            let next = match db::next_due(&self.inner.store.read).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "push sweep");
                    None
                }
            };
            if self.is_stopping() {
                return;
            }
            if next.is_some_and(|at| at <= now) && !claimed_nothing {
                match self.claim(now).await {
                    Ok(n) => claimed_nothing = n == 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "push sweep");
                        claimed_nothing = true;
                    }
                }
                continue;
            }
            claimed_nothing = false;
            let wait = match next {
                Some(at) if at > now => Duration::from_millis((at - now) as u64).min(SWEEP_EVERY),
                Some(_) => SWEEP_BUSY,
                None => SWEEP_EVERY,
            };
            let _ = tokio::time::timeout(wait, self.inner.sweep.notified()).await;
        }
    }

    /// Claims a batch of due rows and hands them over; returns how many were claimed.
    async fn claim(&self, now: i64) -> Result<usize, Error> {
        let postgres = self.inner.store.backend == Backend::Postgres;
        let due = db::claim_due(
            &self.inner.store.write,
            postgres,
            now,
            LEASE_MS,
            BATCH as i64,
        )
        .await?;
        let n = due.len();
        if self.is_stopping() {
            // Claimed while stopping began: given back at once.
            let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
            db::release(&self.inner.store.write, postgres, &ids, now_ms()).await?;
            return Ok(n);
        }
        self.hand_over(due);
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
