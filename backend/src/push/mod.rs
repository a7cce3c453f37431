//! Push notifications for chat requests, split into *who to notify* ([`notify`]) and *how to
//! deliver* ([`outbox`], through [`apns`] and [`fcm`]); [`settings`] holds the credentials.
//!
//! Every push is written to the `push_outbox` table before it is sent, so a restart does not
//! lose it; the delivery pipeline retries 429 and 5xx answers with backoff (honouring
//! Retry-After) and disables device tokens the provider reports as unregistered or invalid.
//! Each attempt is logged with its latency and result.
//!
//! The path of a push, with no timer on the way: a chat change → [`notify`]'s decider writes
//! the decisions waiting at that moment in one transaction → right after its commit the new
//! rows go to [`outbox`]'s dispatcher, which sends them at once, a bounded number at a time
//! (to APNs all over one HTTP/2 connection, with the provider token signed once and reused)
//! → the outcomes are recorded in batches. Only retries, and rows left over by a restart, wait
//! for the sweep, which sleeps until the next one is due.

pub mod apns;
pub mod fcm;
mod notify;
mod outbox;
pub mod settings;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_shared::{ChatId, Mode};
use tokio::sync::{Notify, mpsc, watch};

use crate::error::Error;
use crate::hub::Hub;
use crate::store::Store;
use settings::Current;
pub use settings::StoredPushSettings;

/// What the outbox's sealed messages are bound to.
const OUTBOX_PURPOSE: &str = "push outbox";

/// The category the app registers for chat-request notifications, with the actions
/// Accept, Queue and Decline (their identifiers are `ACCEPT`, `QUEUE`, `DECLINE`).
pub const CHAT_REQUEST_CATEGORY: &str = "CHAT_REQUEST";

/// What one push says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PushKind {
    /// A chat request is ringing: show it with Accept / Queue / Decline.
    Ring {
        /// Visitor name, or "Visitor".
        visitor: String,
        /// The page the visitor asked from.
        page: Option<String>,
        /// Text or voice.
        mode: Mode,
        /// Short-lived token that lets the notification's actions act on this chat as this
        /// operator without a full sign-in.
        action_token: String,
        /// When the action token stops working (unix ms).
        action_expires_at: i64,
    },
    /// The request is gone (taken, declined by all, queued, abandoned): remove the notification.
    Clear,
}

/// One push to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushMessage {
    /// The device's APNs device token or FCM registration token.
    pub device_token: String,
    /// The chat it is about.
    pub chat_id: ChatId,
    /// What it says.
    pub kind: PushKind,
}

impl PushMessage {
    /// The id that makes a later push replace an earlier one on the device (APNs
    /// `apns-collapse-id`, FCM `collapse_key` / notification tag).
    pub fn collapse_id(&self) -> String {
        format!("chat-{}", self.chat_id)
    }

    /// "Incoming chat request" body: "Ann (voice) — https://shop.example/pricing".
    pub fn body(&self) -> String {
        match &self.kind {
            PushKind::Ring {
                visitor,
                page,
                mode,
                ..
            } => {
                let mode = match mode {
                    Mode::Text => "text",
                    Mode::Voice => "voice",
                };
                match page {
                    Some(p) => format!("{visitor} ({mode}) — {p}"),
                    None => format!("{visitor} ({mode})"),
                }
            }
            PushKind::Clear => String::new(),
        }
    }
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

struct Inner {
    store: Store,
    hub: Hub,
    config: PushConfig,
    /// The settings in force, with their clients; replaced whole by an update.
    current: watch::Sender<Arc<Current>>,
    /// One settings update at a time.
    changing: tokio::sync::Mutex<()>,
    /// Decisions for the decider, which writes them to the outbox in order.
    decisions: mpsc::UnboundedSender<notify::Job>,
    /// Outbox rows for the dispatcher to send: committed just now, or claimed by the sweep.
    to_send: mpsc::UnboundedSender<crate::store::push::Due>,
    /// Attempts for the recorder to write.
    outcomes: mpsc::UnboundedSender<crate::store::push::Outcome>,
    /// The rows this node holds in memory between taking them and recording their attempt.
    held: Mutex<outbox::Held>,
    /// Wakes the sweep: a retry was scheduled.
    sweep: Notify,
    /// Chats already rung again (pruned to those still ringing).
    rung_again: Mutex<HashSet<ChatId>>,
    /// The node is stopping: nothing more is claimed or sent (see [`Push::stop`]).
    stopping: std::sync::atomic::AtomicBool,
}

/// Cheap-to-clone handle to push.
#[derive(Clone)]
pub struct Push {
    inner: Arc<Inner>,
}

impl Push {
    /// Loads the settings and starts the decider, the delivery pipeline (dispatcher,
    /// recorder, sweep) and the escalation.
    pub async fn start(store: Store, hub: Hub, config: PushConfig) -> Result<Push, Error> {
        let settings = settings::load_settings(&store, &config.sealer).await?;
        let current = Current::new(settings, &config);
        let (decisions, decisions_rx) = mpsc::unbounded_channel();
        let (to_send, to_send_rx) = mpsc::unbounded_channel();
        let (outcomes, outcomes_rx) = mpsc::unbounded_channel();
        let push = Push {
            inner: Arc::new(Inner {
                store,
                hub,
                config,
                current: watch::Sender::new(Arc::new(current)),
                changing: tokio::sync::Mutex::new(()),
                decisions,
                to_send,
                outcomes,
                held: Mutex::default(),
                sweep: Notify::new(),
                rung_again: Mutex::new(HashSet::new()),
                stopping: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        tokio::spawn(push.clone().decider(decisions_rx));
        tokio::spawn(push.clone().dispatcher(to_send_rx));
        tokio::spawn(push.clone().recorder(outcomes_rx));
        tokio::spawn(push.clone().sweep());
        tokio::spawn(push.clone().escalate());
        Ok(push)
    }
}

/// What a provider said about one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted by the provider.
    Delivered {
        /// HTTP status (200).
        status: u16,
    },
    /// Try again later (429, 5xx, or the provider could not be reached).
    Retry {
        /// The provider's Retry-After, when it gave one.
        after: Option<Duration>,
        /// HTTP status (0 when there was no answer).
        status: u16,
        /// The provider's reason, or the transport error.
        reason: String,
    },
    /// The device token is dead (APNs 410 / BadDeviceToken / Unregistered, FCM UNREGISTERED /
    /// invalid registration): disable the device.
    Unregistered {
        /// HTTP status.
        status: u16,
        /// The provider's reason.
        reason: String,
    },
    /// This push was refused for good (bad payload, bad credentials…): do not retry it.
    Rejected {
        /// HTTP status.
        status: u16,
        /// The provider's reason.
        reason: String,
    },
}

impl Delivery {
    /// The same, with the device token replaced by its tail wherever a reason quotes it.
    pub fn redacted(self, token: &str) -> Delivery {
        let redact = |reason: String| crate::store::push::redact_token(&reason, token);
        match self {
            Delivery::Delivered { status } => Delivery::Delivered { status },
            Delivery::Retry {
                after,
                status,
                reason,
            } => Delivery::Retry {
                after,
                status,
                reason: redact(reason),
            },
            Delivery::Unregistered { status, reason } => Delivery::Unregistered {
                status,
                reason: redact(reason),
            },
            Delivery::Rejected { status, reason } => Delivery::Rejected {
                status,
                reason: redact(reason),
            },
        }
    }

    /// Refused for good before anything was sent, because of `e`.
    pub fn rejected(e: impl std::fmt::Display) -> Delivery {
        Delivery::Rejected {
            status: 0,
            reason: e.to_string(),
        }
    }
}

/// Reads a provider's answer: status, Retry-After and body — or, when there was no answer, a
/// `Retry` to return as is.
pub(crate) async fn read_answer(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<(u16, Option<Duration>, String), Delivery> {
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = apns::retry_after(response.headers());
            let body = response.text().await.unwrap_or_default();
            Ok((status, retry_after, body))
        }
        Err(e) => Err(Delivery::Retry {
            after: None,
            status: 0,
            reason: apns::transport_error(&e),
        }),
    }
}
