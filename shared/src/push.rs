//! Push: operators' devices (APNs / FCM tokens), the admin's push credentials, the log of
//! delivery attempts, and the actions taken from a notification.

use serde::{Deserialize, Serialize};

use crate::{ChatId, ChatSummary, DeviceId, OperatorId};

/// Which push service reaches a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PushPlatform {
    /// Apple Push Notification service (iOS): the token is the APNs device token (hex).
    Apns,
    /// Firebase Cloud Messaging (Android): the token is the FCM registration token.
    Fcm,
}

impl PushPlatform {
    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PushPlatform::Apns => "apns",
            PushPlatform::Fcm => "fcm",
        }
    }

    /// Parses [`PushPlatform::as_str`]'s output.
    pub fn parse(s: &str) -> Option<PushPlatform> {
        match s {
            "apns" => Some(PushPlatform::Apns),
            "fcm" => Some(PushPlatform::Fcm),
            _ => None,
        }
    }
}

/// `POST /api/operator/devices`: register (or refresh) this device's push token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegisterDeviceRequest {
    /// APNs or FCM.
    pub platform: PushPlatform,
    /// The device token / registration token.
    pub token: String,
    /// A name to recognise the device by ("Olga's iPhone").
    #[serde(default)]
    pub name: Option<String>,
    /// The token this one replaces, when the platform rotated it.
    #[serde(default)]
    pub replaces: Option<String>,
}

/// An operator's push device, as the operator and admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushDevice {
    /// The device.
    pub id: DeviceId,
    /// Its operator.
    pub operator_id: OperatorId,
    /// APNs or FCM.
    pub platform: PushPlatform,
    /// The last characters of its token (the full token is never returned).
    pub token_tail: String,
    /// Its name, if given.
    pub name: Option<String>,
    /// Registered (unix ms).
    pub created_at: i64,
    /// Set when the provider reported the token dead; no more pushes go to it.
    pub disabled_at: Option<i64>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
}

/// Push credentials as the settings API returns them: the secret parts never come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushSettingsView {
    /// APNs (token-based auth), when configured.
    pub apns: Option<ApnsSettingsView>,
    /// FCM HTTP v1, when configured.
    pub fcm: Option<FcmSettingsView>,
    /// Ring again after this many seconds when nobody accepted (0: never).
    pub ring_again_after_secs: u32,
    /// Ring the next ring group after this many more seconds when nobody accepted (0: every
    /// group rings at once).
    #[serde(default)]
    pub next_group_after_secs: u32,
}

/// The APNs settings without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApnsSettingsView {
    /// The .p8 key's id.
    pub key_id: String,
    /// The Apple developer team id.
    pub team_id: String,
    /// The app's bundle id (apns-topic).
    pub topic: String,
    /// Sandbox (development) or production APNs.
    pub sandbox: bool,
}

/// The FCM settings without the service account's private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FcmSettingsView {
    /// The Firebase project.
    pub project_id: String,
    /// The service account's e-mail.
    pub client_email: String,
}

/// `PUT /api/admin/push`: absent sections stay as they are; `null` removes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushSettingsUpdate {
    /// APNs credentials (`null` removes them).
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ts", ts(optional, type = "ApnsSettingsInput | null"))]
    pub apns: Option<Option<ApnsSettingsInput>>,
    /// The FCM service-account JSON, as downloaded from Firebase (`null` removes it).
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ts", ts(optional, type = "string | null"))]
    pub fcm_service_account: Option<Option<String>>,
    /// Ring again after this many seconds when nobody accepted (0: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_again_after_secs: Option<u32>,
    /// Ring the next ring group after this many more seconds (0: every group at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_group_after_secs: Option<u32>,
}

/// APNs credentials as the admin enters them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApnsSettingsInput {
    /// The .p8 key (PEM text).
    pub key_p8: String,
    /// The key's id.
    pub key_id: String,
    /// The team id.
    pub team_id: String,
    /// The app's bundle id.
    pub topic: String,
    /// Sandbox (development) or production.
    pub sandbox: bool,
}

/// Serde for `Option<Option<T>>`: absent → `None`, `null` → `Some(None)`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// One delivery attempt of one push, as logged (`GET /api/admin/push/attempts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushAttempt {
    /// The chat the push was about.
    pub chat_id: ChatId,
    /// The device.
    pub device_id: DeviceId,
    /// `ring` or `clear`.
    pub kind: String,
    /// When the attempt started (unix ms).
    pub at: i64,
    /// How long the provider took to answer (ms).
    pub latency_ms: i64,
    /// The provider's HTTP status (0: no answer).
    pub status: i64,
    /// `delivered`, `retry`, `unregistered` or `rejected`, with the provider's reason.
    pub result: String,
}

/// What a notification action asks (`POST /api/push/action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PushAction {
    /// Accept the chat.
    Accept,
    /// Queue it.
    Queue,
    /// Decline it.
    Decline,
}

/// `POST /api/push/action`: act on a chat from the notification, with the push's action token
/// instead of a sign-in. The token is bound to one operator and one chat, expires quickly and
/// works once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushActionRequest {
    /// The push's action token.
    pub action_token: String,
    /// What to do.
    pub action: PushAction,
}

/// Answer to a notification action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushActionResponse {
    /// The chat after the action (the app opens it on Accept).
    pub chat: ChatSummary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_settings_update_tells_absent_from_null() {
        let absent = PushSettingsUpdate {
            ring_again_after_secs: Some(5),
            ..Default::default()
        };
        let json = serde_json::to_string(&absent).unwrap();
        assert_eq!(json, r#"{"ring_again_after_secs":5}"#);
        assert_eq!(
            serde_json::from_str::<PushSettingsUpdate>(&json).unwrap(),
            absent
        );
        let removed: PushSettingsUpdate = serde_json::from_str(r#"{"apns":null}"#).unwrap();
        assert_eq!(removed.apns, Some(None));
        assert_eq!(removed.fcm_service_account, None);
    }
}
