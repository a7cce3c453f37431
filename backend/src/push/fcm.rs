//! FCM delivery over the HTTP v1 API (`POST /v1/projects/{project}/messages:send`).
//!
//! Why not the `fcm` crate: it posts to FCM's legacy `/fcm/send` API (server key auth), which
//! Google shut down in 2024, so it cannot deliver anything today. HTTP v1 needs an OAuth2
//! access token for a service account: gcp_auth's `CustomServiceAccount` signs the
//! JWT-bearer grant, fetches the token from the key's `token_uri` and caches it until shortly
//! before it expires. The message and error bodies are our own serde types.
//!
//! Messages are data-only, so the app itself shows the notification (with its Accept / Queue /
//! Decline actions) and can cancel it when a "clear" arrives. FCM data values must be strings.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gcp_auth::{CustomServiceAccount, TokenProvider};
use serde::{Deserialize, Serialize};

use super::apns::transport_error;
use super::{CHAT_REQUEST_CATEGORY, Delivery, PushKind, PushMessage};

/// Google's FCM host.
pub const DEFAULT_URL: &str = "https://fcm.googleapis.com";
/// The OAuth2 scope FCM HTTP v1 needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// How long FCM may hold a push for an offline device (a stale ring is worse than none).
pub const TTL: &str = "60s";

/// The body of `messages:send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    /// The message.
    pub message: Message,
}

/// One FCM v1 message (the parts we use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The registration token.
    pub token: String,
    /// Data payload: string values only.
    pub data: BTreeMap<String, String>,
    /// Android delivery options.
    pub android: AndroidConfig,
}

/// `message.android`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AndroidConfig {
    /// "high" or "normal".
    pub priority: String,
    /// Later messages with the same key replace earlier undelivered ones.
    pub collapse_key: String,
    /// Time to live, as a duration string ("60s").
    pub ttl: String,
}

/// FCM's error body: `{"error":{"code":404,"status":"NOT_FOUND","message":"…","details":[…]}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorStatus,
}

/// A Google API error status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorStatus {
    /// HTTP status code.
    #[serde(default)]
    pub code: u16,
    /// Canonical status ("NOT_FOUND", "INVALID_ARGUMENT", "UNAVAILABLE"…).
    #[serde(default)]
    pub status: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Typed details; FCM's carry `errorCode`.
    #[serde(default)]
    pub details: Vec<ErrorDetail>,
}

/// One entry of `error.details`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// "type.googleapis.com/google.firebase.fcm.v1.FcmError", …
    #[serde(rename = "@type", default)]
    pub type_url: String,
    /// FCM's error code ("UNREGISTERED", "INVALID_ARGUMENT", "QUOTA_EXCEEDED",
    /// "UNAVAILABLE", "INTERNAL", "SENDER_ID_MISMATCH", "THIRD_PARTY_AUTH_ERROR").
    #[serde(rename = "errorCode", default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

impl ErrorStatus {
    /// The FCM `errorCode` from the details, when there is one.
    pub fn fcm_error_code(&self) -> Option<&str> {
        self.details.iter().find_map(|d| d.error_code.as_deref())
    }
}

/// The part of a service-account key we read ourselves (gcp_auth reads the rest).
#[derive(Deserialize)]
struct KeyInfo {
    #[serde(default)]
    project_id: Option<String>,
}

/// Sends pushes to FCM HTTP v1 (or to a server speaking its API). Cheap to clone.
#[derive(Clone)]
pub struct FcmClient {
    http: reqwest::Client,
    auth: Arc<CustomServiceAccount>,
    project_id: String,
    send_url: String,
}

impl fmt::Debug for FcmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FcmClient")
            .field("project_id", &self.project_id)
            .field("send_url", &self.send_url)
            .finish()
    }
}

/// Why an FCM service account cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FcmError {
    /// Not JSON of the right shape.
    #[error("not a service-account JSON key: {0}")]
    NotAKey(serde_json::Error),
    /// No `project_id` in it.
    #[error("the service-account JSON has no project_id")]
    NoProject,
    /// gcp_auth refused the key.
    #[error("service-account key: {0}")]
    Key(gcp_auth::Error),
    /// The base URL is not http(s).
    #[error("the FCM URL {0:?} is not an http(s) URL")]
    Url(String),
    /// The HTTP client cannot be built.
    #[error("HTTP client: {0}")]
    Http(reqwest::Error),
}

impl FcmClient {
    /// A client for this service-account key (the JSON file Firebase hands out).
    /// `base_url` overrides `https://fcm.googleapis.com`; the token URL is the key's
    /// `token_uri`. Fails when the JSON is not a service-account key with an RSA private key
    /// and a `project_id`.
    pub fn new(
        service_account_json: &str,
        base_url: Option<String>,
    ) -> Result<FcmClient, FcmError> {
        let info: KeyInfo =
            serde_json::from_str(service_account_json).map_err(FcmError::NotAKey)?;
        let project_id = info
            .project_id
            .filter(|p| !p.trim().is_empty())
            .ok_or(FcmError::NoProject)?;
        let auth = CustomServiceAccount::from_json(service_account_json).map_err(FcmError::Key)?;
        let base = base_url
            .map(|b| b.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(FcmError::Url(base));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(FcmError::Http)?;
        let send_url = format!("{base}/v1/projects/{project_id}/messages:send");
        Ok(FcmClient {
            http,
            auth: Arc::new(auth),
            project_id,
            send_url,
        })
    }

    /// The Firebase project pushes go to.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The `messages:send` URL.
    pub fn send_url(&self) -> &str {
        &self.send_url
    }

    /// The `messages:send` body for a message.
    pub fn request_body(msg: &PushMessage) -> SendRequest {
        let mut data = BTreeMap::new();
        data.insert("chat_id".to_owned(), msg.chat_id.to_string());
        match &msg.kind {
            PushKind::Ring {
                action_token,
                action_expires_at,
                ..
            } => {
                data.insert("type".to_owned(), "ring".to_owned());
                data.insert("action_token".to_owned(), action_token.clone());
                data.insert(
                    "action_expires_at".to_owned(),
                    action_expires_at.to_string(),
                );
                data.insert("title".to_owned(), "Incoming chat request".to_owned());
                data.insert("body".to_owned(), msg.body());
                data.insert("category".to_owned(), CHAT_REQUEST_CATEGORY.to_owned());
            }
            PushKind::Clear => {
                data.insert("type".to_owned(), "clear".to_owned());
            }
        }
        SendRequest {
            message: Message {
                token: msg.device_token.clone(),
                data,
                android: AndroidConfig {
                    priority: "high".to_owned(),
                    collapse_key: msg.collapse_id(),
                    ttl: TTL.to_owned(),
                },
            },
        }
    }

    /// Sends one push and says what FCM answered.
    pub async fn send(&self, msg: &PushMessage) -> Delivery {
        let token = match self.auth.token(&[SCOPE]).await {
            Ok(t) => t,
            Err(e) => {
                return Delivery::Retry {
                    after: None,
                    status: 0,
                    reason: format!("OAuth2 token: {}", transport_error(&e)),
                };
            }
        };
        let response = self
            .http
            .post(&self.send_url)
            .bearer_auth(token.as_str())
            .json(&Self::request_body(msg))
            .send()
            .await;
        let (status, retry_after, body) = match super::read_answer(response).await {
            Ok(answer) => answer,
            Err(retry) => return retry,
        };
        classify(status, &body, retry_after)
    }
}

/// Maps an FCM v1 answer to a [`Delivery`].
///
/// 200 → delivered; 404 or `UNREGISTERED`, or 400 `INVALID_ARGUMENT` about the registration
/// token → unregistered; 429 and 5xx → retry (with `Retry-After`); 401/403 and other 4xx →
/// rejected.
pub fn classify(status: u16, body: &str, retry_after: Option<Duration>) -> Delivery {
    let error = serde_json::from_str::<ErrorResponse>(body)
        .map(|e| e.error)
        .ok();
    let code = error
        .as_ref()
        .and_then(|e| e.fcm_error_code().map(str::to_owned));
    let reason = match &error {
        Some(e) => {
            let head = code.clone().unwrap_or_else(|| e.status.clone());
            match (head.is_empty(), e.message.is_empty()) {
                (true, true) => format!("HTTP {status}"),
                (true, false) => e.message.clone(),
                (false, true) => head,
                (false, false) => format!("{head}: {}", e.message),
            }
        }
        None if body.trim().is_empty() => format!("HTTP {status}"),
        None => body.trim().chars().take(200).collect(),
    };
    let about_token = error.as_ref().is_some_and(|e| {
        let m = e.message.to_ascii_lowercase();
        m.contains("registration token") || m.contains("registration-token")
    });
    let invalid_argument = code.as_deref() == Some("INVALID_ARGUMENT")
        || error
            .as_ref()
            .is_some_and(|e| e.status == "INVALID_ARGUMENT");
    match status {
        200..=299 => Delivery::Delivered { status },
        _ if code.as_deref() == Some("UNREGISTERED") => Delivery::Unregistered { status, reason },
        404 => Delivery::Unregistered { status, reason },
        400 if invalid_argument && about_token => Delivery::Unregistered { status, reason },
        429 | 500..=599 => Delivery::Retry {
            after: retry_after,
            status,
            reason,
        },
        _ => Delivery::Rejected { status, reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_answers() {
        let unregistered = r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;
        assert!(matches!(
            classify(404, unregistered, None),
            Delivery::Unregistered { status: 404, reason } if reason.starts_with("UNREGISTERED")
        ));
        let bad_token = r#"{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}"#;
        assert!(matches!(
            classify(400, bad_token, None),
            Delivery::Unregistered { .. }
        ));
        let bad_payload = r#"{"error":{"code":400,"message":"Invalid value at 'message.data[0].value'","status":"INVALID_ARGUMENT"}}"#;
        assert!(matches!(
            classify(400, bad_payload, None),
            Delivery::Rejected { .. }
        ));
        assert_eq!(
            classify(
                429,
                r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}"#,
                Some(Duration::from_secs(7))
            ),
            Delivery::Retry {
                after: Some(Duration::from_secs(7)),
                status: 429,
                reason: "QUOTA_EXCEEDED".into()
            }
        );
        assert!(matches!(
            classify(503, "", None),
            Delivery::Retry { status: 503, .. }
        ));
        assert!(matches!(
            classify(401, "", None),
            Delivery::Rejected { status: 401, .. }
        ));
        assert!(matches!(
            classify(403, "", None),
            Delivery::Rejected { status: 403, .. }
        ));
        assert_eq!(
            classify(200, r#"{"name":"x"}"#, None),
            Delivery::Delivered { status: 200 }
        );
    }
}
