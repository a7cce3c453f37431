//! Push notifications for chat requests, split into *who to notify* ([`notify`]) and *how to
//! deliver* ([`apns`], [`fcm`]).
//!
//! Every push is written to the `push_outbox` table before it is sent, so a restart does not
//! lose it; the delivery worker retries 429 and 5xx answers with backoff (honouring
//! Retry-After) and disables device tokens the provider reports as unregistered or invalid.
//! Each attempt is logged with its latency and result.

pub mod apns;
pub mod fcm;
pub mod service;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_shared::{ChatId, Mode};

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
