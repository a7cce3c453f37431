//! APNs delivery: token-based (ES256 `.p8` key) HTTP/2 POSTs to `/3/device/{token}`.
//!
//! The payload and the error reasons are a2's types; the request itself is ours (reqwest over
//! HTTP/2), because a2's endpoint is fixed to Apple's hosts and its client cannot be pointed
//! at a local test server. The base URL is configurable: an `http://` URL is spoken to with
//! HTTP/2 prior knowledge (h2c), an `https://` URL with ALPN `h2`, as APNs requires.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use a2::ErrorReason;
use a2::request::notification::{
    DefaultNotificationBuilder, NotificationBuilder, NotificationOptions, Priority, PushType,
};
use a2::request::payload::PayloadLike;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use switchboard_shared::ChatId;

use super::{CHAT_REQUEST_CATEGORY, Delivery, PushKind, PushMessage};

/// Apple's production host.
pub const PRODUCTION_URL: &str = "https://api.push.apple.com";
/// Apple's sandbox (development) host.
pub const SANDBOX_URL: &str = "https://api.sandbox.push.apple.com";

/// A provider token is renewed after this long (Apple rejects tokens older than an hour).
pub const JWT_RENEW_AFTER: Duration = Duration::from_secs(50 * 60);
/// A provider token is never renewed sooner than this (Apple answers
/// `TooManyProviderTokenUpdates` to faster renewals).
pub const JWT_MIN_LIFETIME: Duration = Duration::from_secs(20 * 60);

/// How long APNs may hold a ring for an offline device: a stale ring is worse than none.
pub const RING_TTL: Duration = Duration::from_secs(60);
/// How long APNs may hold a clear for an offline device.
pub const CLEAR_TTL: Duration = Duration::from_secs(60 * 60);

/// Token-based APNs credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApnsCredentials {
    /// The `.p8` signing key (PKCS#8 PEM, "-----BEGIN PRIVATE KEY-----").
    pub key_p8: String,
    /// The key's id (10 characters), sent as the JWT's `kid`.
    pub key_id: String,
    /// The Apple developer team id, sent as the JWT's `iss`.
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// Whether to use Apple's sandbox host (development builds of the app).
    pub sandbox: bool,
}

impl fmt::Debug for ApnsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApnsCredentials")
            .field("key_p8", &"<redacted>")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("topic", &self.topic)
            .field("sandbox", &self.sandbox)
            .finish()
    }
}

/// The `switchboard` object of an APNs payload (custom data the app reads): `chat_id` and
/// `action_expires_at` are JSON numbers here (FCM's data values are their decimal strings).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum CustomData<'a> {
    Ring {
        chat_id: ChatId,
        action_token: &'a str,
        action_expires_at: i64,
    },
    Clear {
        chat_id: ChatId,
    },
}

/// APNs' error body.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    reason: String,
}

#[derive(Debug)]
struct CachedJwt {
    token: String,
    issued: Instant,
    /// APNs said `ExpiredProviderToken`: renew as soon as [`JWT_MIN_LIFETIME`] allows.
    stale: bool,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    key: EncodingKey,
    key_id: String,
    team_id: String,
    topic: String,
    jwt: Mutex<Option<CachedJwt>>,
}

/// Sends pushes to APNs (or to a server speaking its API). Cheap to clone.
#[derive(Clone)]
pub struct ApnsClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for ApnsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApnsClient")
            .field("base", &self.inner.base)
            .field("key_id", &self.inner.key_id)
            .field("team_id", &self.inner.team_id)
            .field("topic", &self.inner.topic)
            .finish()
    }
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Why APNs credentials cannot be used, or a push cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ApnsError {
    /// A required field is blank.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// The `.p8` key does not parse.
    #[error("the .p8 key is not a P-256 PKCS#8 PEM key: {0}")]
    Key(jsonwebtoken::errors::Error),
    /// The key cannot sign a provider token.
    #[error("signing the provider token: {0}")]
    Sign(jsonwebtoken::errors::Error),
    /// The base URL is not http(s).
    #[error("the APNs URL {0:?} is not an http(s) URL")]
    Url(String),
    /// The HTTP client cannot be built.
    #[error("HTTP client: {0}")]
    Http(reqwest::Error),
    /// a2 could not build the payload.
    #[error("payload: {0}")]
    Payload(a2::error::Error),
}

impl ApnsClient {
    /// A client for these credentials. `base_url` overrides Apple's host (tests point it at a
    /// local server); without it the sandbox or production host is used as `creds.sandbox`
    /// says. Fails when the key is not an ES256 (P-256) PKCS#8 PEM key or a field is empty.
    pub fn new(creds: ApnsCredentials, base_url: Option<String>) -> Result<ApnsClient, ApnsError> {
        if creds.key_id.trim().is_empty() {
            return Err(ApnsError::Empty("the key id"));
        }
        if creds.team_id.trim().is_empty() {
            return Err(ApnsError::Empty("the team id"));
        }
        if creds.topic.trim().is_empty() {
            return Err(ApnsError::Empty("the topic (bundle id)"));
        }
        let key =
            EncodingKey::from_ec_pem(creds.key_p8.trim().as_bytes()).map_err(ApnsError::Key)?;
        let base = base_url
            .map(|b| b.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| {
                if creds.sandbox {
                    SANDBOX_URL
                } else {
                    PRODUCTION_URL
                }
                .to_owned()
            });
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ApnsError::Url(base));
        }
        // Prior knowledge: h2c for http://, ALPN "h2" only for https:// (APNs speaks only
        // HTTP/2).
        let http = reqwest::Client::builder()
            .http2_prior_knowledge()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .http2_keep_alive_interval(Duration::from_secs(60))
            .http2_keep_alive_while_idle(true)
            .build()
            .map_err(ApnsError::Http)?;
        let client = ApnsClient {
            inner: Arc::new(Inner {
                http,
                base,
                key,
                key_id: creds.key_id,
                team_id: creds.team_id,
                topic: creds.topic,
                jwt: Mutex::new(None),
            }),
        };
        // Sign once now so a key that cannot sign fails here, not on the first push.
        client.provider_token()?;
        Ok(client)
    }

    /// The base URL pushes go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The current provider token (ES256 JWT), signed anew after [`JWT_RENEW_AFTER`], or
    /// after APNs called it expired, but never sooner than [`JWT_MIN_LIFETIME`].
    pub fn provider_token(&self) -> Result<String, ApnsError> {
        let mut cached = self.inner.jwt.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cached.as_ref() {
            let age = c.issued.elapsed();
            let renew = age >= JWT_RENEW_AFTER || (c.stale && age >= JWT_MIN_LIFETIME);
            if !renew {
                return Ok(c.token.clone());
            }
        }
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            iat: u64,
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.inner.key_id.clone());
        let claims = Claims {
            iss: &self.inner.team_id,
            iat: unix_now().as_secs(),
        };
        let token =
            jsonwebtoken::encode(&header, &claims, &self.inner.key).map_err(ApnsError::Sign)?;
        *cached = Some(CachedJwt {
            token: token.clone(),
            issued: Instant::now(),
            stale: false,
        });
        Ok(token)
    }

    fn mark_token_stale(&self) {
        if let Some(c) = self
            .inner
            .jwt
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            c.stale = true;
        }
    }

    /// The JSON payload (`aps` + `switchboard` custom data) for a message, built with a2.
    pub fn payload_json(msg: &PushMessage) -> Result<String, ApnsError> {
        let body = msg.body();
        let chat_id = msg.chat_id;
        let (builder, data) = match &msg.kind {
            PushKind::Ring {
                action_token,
                action_expires_at,
                ..
            } => (
                DefaultNotificationBuilder::new()
                    .set_title("Incoming chat request")
                    .set_body(&body)
                    .set_sound("default")
                    .set_category(CHAT_REQUEST_CATEGORY)
                    .set_mutable_content(),
                CustomData::Ring {
                    chat_id,
                    action_token,
                    action_expires_at: *action_expires_at,
                },
            ),
            PushKind::Clear => (
                DefaultNotificationBuilder::new().set_content_available(),
                CustomData::Clear { chat_id },
            ),
        };
        let mut payload = builder.build(&msg.device_token, NotificationOptions::default());
        payload
            .add_custom_data("switchboard", &data)
            .map_err(ApnsError::Payload)?;
        payload.to_json_string().map_err(ApnsError::Payload)
    }

    /// Sends one push and says what APNs answered.
    pub async fn send(&self, msg: &PushMessage) -> Delivery {
        let token = match self.provider_token() {
            Ok(t) => t,
            // Cannot happen with a key that signed in `new`; not worth retrying if it does.
            Err(e) => return Delivery::rejected(e),
        };
        let payload = match Self::payload_json(msg) {
            Ok(p) => p,
            Err(e) => return Delivery::rejected(e),
        };
        let ring = matches!(msg.kind, PushKind::Ring { .. });
        let (push_type, priority, ttl) = if ring {
            (PushType::Alert, Priority::High, RING_TTL)
        } else {
            (PushType::Background, Priority::Normal, CLEAR_TTL)
        };
        let expiration = (unix_now() + ttl).as_secs();
        let url = format!("{}/3/device/{}", self.inner.base, msg.device_token);
        let response = self
            .inner
            .http
            .post(url)
            .header("authorization", format!("bearer {token}"))
            .header("apns-topic", &self.inner.topic)
            .header("apns-push-type", push_type.to_string())
            .header("apns-priority", priority.to_string())
            .header("apns-collapse-id", msg.collapse_id())
            .header("apns-expiration", expiration.to_string())
            .header("content-type", "application/json")
            .body(payload)
            .send()
            .await;
        let (status, retry_after, body) = match super::read_answer(response).await {
            Ok(answer) => answer,
            Err(retry) => return retry,
        };
        let delivery = classify(status, &body, retry_after);
        if matches!(&delivery, Delivery::Retry { status: 403, .. }) {
            self.mark_token_stale();
        }
        delivery
    }
}

/// Maps an APNs answer to a [`Delivery`].
///
/// 200 → delivered; 410, or 400 `BadDeviceToken` / `DeviceTokenNotForTopic` → unregistered;
/// 429 and 5xx → retry (with `Retry-After`); 403 `ExpiredProviderToken` → retry (the client
/// renews its token); any other 4xx → rejected.
pub fn classify(status: u16, body: &str, retry_after: Option<Duration>) -> Delivery {
    let reason_text = serde_json::from_str::<ErrorBody>(body)
        .map(|b| b.reason)
        .unwrap_or_else(|_| body.trim().chars().take(200).collect());
    let reason = parse_reason(&reason_text);
    let reason_text = if reason_text.is_empty() {
        format!("HTTP {status}")
    } else {
        reason_text
    };
    match status {
        200..=299 => Delivery::Delivered { status },
        410 => Delivery::Unregistered {
            status,
            reason: reason_text,
        },
        400 if matches!(
            reason,
            Some(ErrorReason::BadDeviceToken | ErrorReason::DeviceTokenNotForTopic)
        ) =>
        {
            Delivery::Unregistered {
                status,
                reason: reason_text,
            }
        }
        403 if matches!(reason, Some(ErrorReason::ExpiredProviderToken)) => Delivery::Retry {
            after: retry_after,
            status,
            reason: reason_text,
        },
        429 | 500..=599 => Delivery::Retry {
            after: retry_after,
            status,
            reason: reason_text,
        },
        _ => Delivery::Rejected {
            status,
            reason: reason_text,
        },
    }
}

/// An APNs `reason` string as a2's [`ErrorReason`], when it is one a2 knows.
pub fn parse_reason(reason: &str) -> Option<ErrorReason> {
    serde_json::from_value(serde_json::Value::String(reason.to_owned())).ok()
}

/// `Retry-After` in seconds (APNs and FCM send seconds, not dates).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A transport error with its causes ("error sending request: connection refused").
pub(crate) fn transport_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_KEY: &str = include_str!("../../../tests/fixtures/TEST-ONLY-apns-key.p8");

    fn age_token(client: &ApnsClient, age: Duration) {
        let mut cached = client.inner.jwt.lock().unwrap();
        let c = cached.as_mut().unwrap();
        c.issued = Instant::now().checked_sub(age).unwrap_or(c.issued);
    }

    fn token_age(client: &ApnsClient) -> Duration {
        client
            .inner
            .jwt
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .issued
            .elapsed()
    }

    #[test]
    fn provider_token_is_renewed_after_50_minutes_and_not_before_20() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let creds = ApnsCredentials {
            key_p8: TEST_KEY.into(),
            key_id: "TESTKEY001".into(),
            team_id: "TESTTEAM01".into(),
            topic: "test.app".into(),
            sandbox: true,
        };
        let client = ApnsClient::new(creds, None).unwrap();
        let first = client.provider_token().unwrap();
        let header = jsonwebtoken::decode_header(&first).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("TESTKEY001"));

        // 10 minutes old and called expired by APNs: still too young to renew.
        age_token(&client, Duration::from_secs(10 * 60));
        client.mark_token_stale();
        client.provider_token().unwrap();
        assert!(token_age(&client) >= Duration::from_secs(9 * 60));
        // 21 minutes old and stale: renewed.
        age_token(&client, Duration::from_secs(21 * 60));
        client.provider_token().unwrap();
        assert!(token_age(&client) < Duration::from_secs(60));
        // 49 minutes old, not stale: kept; 51 minutes: renewed.
        age_token(&client, Duration::from_secs(49 * 60));
        client.provider_token().unwrap();
        assert!(token_age(&client) >= Duration::from_secs(48 * 60));
        age_token(&client, Duration::from_secs(51 * 60));
        client.provider_token().unwrap();
        assert!(token_age(&client) < Duration::from_secs(60));
    }

    #[test]
    fn classifies_answers() {
        assert_eq!(classify(200, "", None), Delivery::Delivered { status: 200 });
        assert!(matches!(
            classify(410, r#"{"reason":"Unregistered","timestamp":1}"#, None),
            Delivery::Unregistered { status: 410, reason } if reason == "Unregistered"
        ));
        assert!(matches!(
            classify(400, r#"{"reason":"BadDeviceToken"}"#, None),
            Delivery::Unregistered { status: 400, .. }
        ));
        assert!(matches!(
            classify(400, r#"{"reason":"PayloadEmpty"}"#, None),
            Delivery::Rejected { status: 400, .. }
        ));
        assert_eq!(
            classify(
                429,
                r#"{"reason":"TooManyRequests"}"#,
                Some(Duration::from_secs(3))
            ),
            Delivery::Retry {
                after: Some(Duration::from_secs(3)),
                status: 429,
                reason: "TooManyRequests".into()
            }
        );
        assert!(matches!(
            classify(503, "", None),
            Delivery::Retry { status: 503, .. }
        ));
        assert_eq!(
            parse_reason("BadDeviceToken"),
            Some(ErrorReason::BadDeviceToken)
        );
        assert_eq!(parse_reason("NoSuchReason"), None);
    }
}
