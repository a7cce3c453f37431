//! The Switchboard wire protocol: every type the widget, the operator app and the backend
//! exchange, over HTTP (JSON bodies) and WebSocket (one JSON object per text frame).
//!
//! Invariants the rest of the system relies on:
//! - Every frame is an object tagged by `"type"` in `snake_case`; unknown types are refused
//!   with [`ErrorCode::UnknownType`], never ignored silently.
//! - Every change to a chat is a [`ChatEvent`] with a per-chat `seq` that starts at 1 and grows
//!   by one per stored event. Clients remember the highest `seq` they have applied and send it
//!   back on reconnect; the server replays what they missed, in order.
//! - Times are unix milliseconds (`i64`), ids are integers.
//!
//! The TypeScript twin of this file (`shared/bindings/protocol.ts`) is generated with the `ts`
//! feature; a test fails when it is out of date. `docs/protocol.md` describes the flows.

use serde::{Deserialize, Serialize};

/// Version of the protocol spoken by this build; sent in every `hello` and `welcome`/`ready`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest message text a client may send, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Largest WebSocket frame either endpoint accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "number"))]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A chat, from request to end.
    ChatId
);
id_type!(
    /// An operator (admins are operators with settings rights).
    OperatorId
);
id_type!(
    /// A visitor, as remembered by the widget's visitor token.
    VisitorId
);
id_type!(
    /// A message left when nobody could answer.
    OfflineMessageId
);
id_type!(
    /// A canned message.
    CannedId
);
id_type!(
    /// An operator's push device (one APNs or FCM token).
    DeviceId
);

/// Where a chat stands. `Ended` and `Missed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    /// Ringing the available operators; the visitor sees "Routing your call…".
    Waiting,
    /// In the Communication Queue; any operator may take it.
    Queued,
    /// An operator and the visitor are talking.
    Active,
    /// The operator parked the chat to attend another one.
    OnHold,
    /// Finished by either side, or unanswered.
    Ended,
    /// The visitor left before anyone took the chat.
    Missed,
}

impl ChatStatus {
    /// Every status, for exhaustive tests and reports.
    pub const ALL: [ChatStatus; 6] = [
        ChatStatus::Waiting,
        ChatStatus::Queued,
        ChatStatus::Active,
        ChatStatus::OnHold,
        ChatStatus::Ended,
        ChatStatus::Missed,
    ];

    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Waiting => "waiting",
            ChatStatus::Queued => "queued",
            ChatStatus::Active => "active",
            ChatStatus::OnHold => "on_hold",
            ChatStatus::Ended => "ended",
            ChatStatus::Missed => "missed",
        }
    }

    /// Parses [`ChatStatus::as_str`]'s output.
    pub fn parse(s: &str) -> Option<ChatStatus> {
        ChatStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True once nothing more can happen to the chat.
    pub fn is_final(self) -> bool {
        matches!(self, ChatStatus::Ended | ChatStatus::Missed)
    }
}

/// Text chat, or voice chat (which always carries text beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Text chat.
    Text,
    /// Voice chat (WebRTC) with text beside it.
    Voice,
}

impl Mode {
    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Text => "text",
            Mode::Voice => "voice",
        }
    }

    /// Parses [`Mode::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "text" => Some(Mode::Text),
            "voice" => Some(Mode::Voice),
            _ => None,
        }
    }
}

/// A page of the website a visitor is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Page {
    /// The page's address.
    pub url: String,
    /// The page's title, when the widget could read one.
    #[serde(default)]
    pub title: Option<String>,
}

/// An operator as shown to others: id and display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OperatorRef {
    /// The operator.
    pub id: OperatorId,
    /// The name visitors and colleagues see.
    pub name: String,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    /// The visitor of the chat.
    Visitor,
    /// An operator.
    Operator {
        /// The operator who wrote it.
        id: OperatorId,
        /// Their display name at the time.
        name: String,
    },
    /// The system (hold notices and the like).
    System,
}

/// Why a chat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The visitor ended it (or left before it was taken: the chat is then `missed`).
    Visitor,
    /// The operator ended it.
    Operator,
    /// Nobody was available, every available operator declined, or nobody answered in time:
    /// the visitor is offered "Leave a message".
    NoOperator,
}

/// One stored change to a chat. `seq` is per chat, from 1, without gaps in storage (a visitor
/// is not sent operator-only events, so its view can skip numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChatEvent {
    /// The chat this event belongs to.
    pub chat_id: ChatId,
    /// Position of this event in the chat's history.
    pub seq: i64,
    /// When it was stored (unix ms).
    pub at: i64,
    /// The chat's status after this event.
    pub status: ChatStatus,
    /// What happened.
    pub kind: ChatEventKind,
}

/// What happened to a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEventKind {
    /// The visitor asked for a chat (always `seq` 1).
    Requested {
        /// The visitor.
        visitor_id: VisitorId,
        /// The chat name the visitor gave, if any.
        name: Option<String>,
        /// Text or voice.
        mode: Mode,
        /// The page the visitor asked from.
        page: Option<Page>,
    },
    /// A message from the visitor, an operator or the system.
    Message {
        /// Who wrote it.
        author: Author,
        /// The text, as typed (clients escape it when they render it).
        text: String,
        /// The sender's idempotency key, if it gave one.
        client_id: Option<String>,
    },
    /// An operator accepted the request, or took it from the queue.
    Accepted {
        /// Who took it.
        operator: OperatorRef,
    },
    /// An operator passed on the request (sent to that operator's devices only).
    Declined {
        /// Who passed.
        operator: OperatorRef,
    },
    /// An operator moved the chat to the Communication Queue.
    Queued {
        /// Who queued it.
        operator: OperatorRef,
    },
    /// The operator put the chat on hold.
    OnHold {
        /// Who held it.
        operator: OperatorRef,
    },
    /// The operator came back to the chat.
    Resumed {
        /// Who resumed it.
        operator: OperatorRef,
    },
    /// The chat is over.
    Ended {
        /// Why.
        reason: EndReason,
    },
}

/// A chat as listed to operators (requests, queue, own chats) and to its visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChatSummary {
    /// The chat.
    pub id: ChatId,
    /// Its visitor.
    pub visitor_id: VisitorId,
    /// The chat name the visitor gave, if any.
    pub visitor_name: Option<String>,
    /// Text or voice.
    pub mode: Mode,
    /// Where it stands.
    pub status: ChatStatus,
    /// The page the visitor asked from.
    pub page: Option<Page>,
    /// The operator leading it, once accepted.
    pub operator: Option<OperatorRef>,
    /// When it was requested (unix ms).
    pub created_at: i64,
    /// When it was accepted (unix ms).
    pub accepted_at: Option<i64>,
    /// When it ended (unix ms).
    pub ended_at: Option<i64>,
    /// Highest `seq` stored for it.
    pub last_seq: i64,
}

/// A stable, machine-readable error code. Clients branch on it; the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No credentials, or credentials that match nothing.
    Unauthorized,
    /// The token was valid once but has expired: sign in again.
    TokenExpired,
    /// Signed in, but not allowed to do this (for example, another operator's chat).
    Forbidden,
    /// No such chat, operator or resource (or not one this client may see).
    NotFound,
    /// The request is well-formed but a field is invalid.
    InvalidInput,
    /// The frame or body is not valid JSON of the expected shape.
    MalformedFrame,
    /// The frame's `type` is not one this endpoint knows.
    UnknownType,
    /// The frame, body or message text is over its limit.
    TooLarge,
    /// The action is not allowed in the chat's current status.
    IllegalTransition,
    /// Another operator took the chat first.
    AlreadyTaken,
    /// The operator already leads as many chats as the settings allow.
    ChatLimitReached,
    /// No operator is available: leave a message instead.
    NoOperatorAvailable,
    /// The resource exists already (for example, an operator e-mail).
    Conflict,
    /// The first frame must be `hello`.
    HelloRequired,
    /// The client speaks a protocol version this server does not.
    UnsupportedProtocol,
    /// Something failed on the server; details are in its log.
    Internal,
}

/// The body of every error answer, HTTP or WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApiError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

// ---------------------------------------------------------------------------------------
// Visitor <-> backend (WebSocket /api/widget/ws)
// ---------------------------------------------------------------------------------------

/// A frame the widget sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorClientMsg {
    /// First frame: who this visitor is (no token for a new visitor) and what it has seen.
    Hello {
        /// Must equal [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The token from an earlier `welcome`, kept by the widget.
        visitor_token: Option<String>,
        /// The page the widget runs on.
        page: Option<Page>,
        /// Highest chat `seq` the widget has applied; the server replays everything after it
        /// (everything, when absent).
        last_seq: Option<i64>,
    },
    /// "Open chat with operator": ask for a chat.
    StartChat {
        /// Chat name (optional).
        name: Option<String>,
        /// Text chat or voice chat.
        mode: Mode,
    },
    /// A message in the visitor's open chat. `client_id` makes retries safe.
    Send {
        /// Idempotency key chosen by the widget (unique per message).
        client_id: String,
        /// The text.
        text: String,
    },
    /// End the visitor's open chat.
    EndChat,
    /// The visitor moved to another page.
    PageView {
        /// The page.
        page: Page,
    },
    /// Keep-alive; answered by `pong`.
    Ping,
}

/// A frame the backend sends to the widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorServerMsg {
    /// Answer to `hello`. Followed by the `event`s after the client's `last_seq`.
    Welcome {
        /// The server's [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The visitor.
        visitor_id: VisitorId,
        /// The token to keep and send back in later `hello`s.
        visitor_token: String,
        /// Whether any operator has Live Help Available.
        available: bool,
        /// The visitor's open (or last, if ended) chat.
        chat: Option<ChatSummary>,
    },
    /// Live Help Available changed.
    Availability {
        /// Whether any operator is available.
        available: bool,
    },
    /// A change to the visitor's chat.
    Event {
        /// The event.
        event: ChatEvent,
    },
    /// Where a waiting or queued chat stands in line (1 = next).
    QueuePosition {
        /// The chat.
        chat_id: ChatId,
        /// Its place in line, from 1.
        position: u32,
    },
    /// The message with this `client_id` is stored as event `seq`.
    Ack {
        /// The widget's idempotency key.
        client_id: String,
        /// Its event's `seq`.
        seq: i64,
    },
    /// A request failed; the connection stays open unless the error is fatal.
    Error {
        /// The failed message's `client_id`, when it had one.
        client_id: Option<String>,
        /// What went wrong.
        error: ApiError,
    },
    /// Answer to `ping`.
    Pong,
}

/// Widget HTTP `GET /api/widget/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WidgetStatus {
    /// Whether any operator has Live Help Available.
    pub available: bool,
}

/// Widget HTTP `POST /api/widget/offline-messages`: "Leave a message".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LeaveMessageRequest {
    /// The visitor token, when the widget has one (links the message to the visitor).
    #[serde(default)]
    pub visitor_token: Option<String>,
    /// The visitor's name.
    pub name: String,
    /// Where to answer.
    pub email: String,
    /// The message.
    pub text: String,
}

/// A message left when nobody could answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OfflineMessage {
    /// The message.
    pub id: OfflineMessageId,
    /// The visitor, when known.
    pub visitor_id: Option<VisitorId>,
    /// The visitor's chat it followed, when there was one.
    pub chat_id: Option<ChatId>,
    /// The visitor's name.
    pub name: String,
    /// Where to answer.
    pub email: String,
    /// The message.
    pub text: String,
    /// When it was left (unix ms).
    pub created_at: i64,
}

// ---------------------------------------------------------------------------------------
// Operator <-> backend (HTTP /api/auth, /api/operator, /api/admin; WebSocket /api/operator/ws)
// ---------------------------------------------------------------------------------------

/// `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginRequest {
    /// The operator's e-mail.
    pub email: String,
    /// The operator's password.
    pub password: String,
}

/// Answer to a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginResponse {
    /// Bearer token for HTTP (`Authorization: Bearer …`) and the WebSocket `hello`.
    pub token: String,
    /// When the token stops working (unix ms).
    pub expires_at: i64,
    /// Who signed in.
    pub operator: OperatorProfile,
}

/// An operator account, as the operator and admins see it (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OperatorProfile {
    /// The operator.
    pub id: OperatorId,
    /// Sign-in e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Whether the operator may use the settings API.
    pub is_admin: bool,
    /// Live Help Available (true) or Not Available.
    pub available: bool,
    /// The ring group (1 rings first, then 2, …) when push escalation by group is on.
    #[serde(default = "first_ring_group")]
    pub ring_group: u32,
}

fn first_ring_group() -> u32 {
    1
}

/// Ring groups an admin may give an operator: 1 to this.
pub const MAX_RING_GROUP: u32 = 9;

/// `PUT /api/operator/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SetStatusRequest {
    /// Live Help Available (true) or Not Available.
    pub available: bool,
}

/// `POST /api/admin/operators`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreateOperatorRequest {
    /// Sign-in e-mail (unique).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Initial password (at least 8 characters).
    pub password: String,
    /// Settings rights.
    #[serde(default)]
    pub is_admin: bool,
    /// Ring group, 1 to [`MAX_RING_GROUP`] (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_group: Option<u32>,
}

/// `PATCH /api/admin/operators/{id}`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UpdateOperatorRequest {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// New password (at least 8 characters); ends the operator's sessions.
    #[serde(default)]
    pub password: Option<String>,
    /// New settings rights.
    #[serde(default)]
    pub is_admin: Option<bool>,
    /// New ring group, 1 to [`MAX_RING_GROUP`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_group: Option<u32>,
}

/// Admin-editable settings (`GET`/`PUT /api/admin/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Settings {
    /// The operator name put into invitations (`%name%`).
    pub operator_name: String,
    /// The default invitation text.
    pub default_invitation: String,
    /// How many chats (active or on hold) one operator may lead at once.
    pub max_chats_per_operator: u32,
    /// How long a request rings before the visitor is offered "Leave a message" (seconds).
    pub ring_timeout_secs: u32,
    /// The sites allowed to use the widget, as origins (`https://shop.example.com`); empty:
    /// any site. Pages served by Switchboard itself are always allowed.
    #[serde(default)]
    pub widget_origins: Vec<String>,
}

/// How many widget origins the settings hold at most.
pub const MAX_WIDGET_ORIGINS: usize = 100;

/// A ready-made answer operators insert with one tap (`/api/operator/canned`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CannedMessage {
    /// The canned message.
    pub id: CannedId,
    /// A short title to find it by.
    pub title: String,
    /// The text inserted into the chat.
    pub text: String,
    /// Last change (unix ms); the newer change wins when syncing.
    pub updated_at: i64,
}

/// `POST /api/operator/canned` and `PUT /api/operator/canned/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SaveCannedRequest {
    /// A short title.
    pub title: String,
    /// The text.
    pub text: String,
}

/// A page a visitor saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PageView {
    /// The page.
    pub page: Page,
    /// When (unix ms).
    pub at: i64,
}

/// What an operator sees of a visitor (`GET /api/operator/visitors/{id}`): the profile shown
/// on top of the Live Communication tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitorProfile {
    /// The visitor.
    pub id: VisitorId,
    /// The chat name they gave last, if any.
    pub name: Option<String>,
    /// The page they are on (or were on last).
    pub current_page: Option<Page>,
    /// Pages seen, newest first (at most 50).
    pub pages: Vec<PageView>,
    /// How many visits (a visit ends after 30 minutes without activity).
    pub visits: i64,
    /// First seen (unix ms).
    pub first_seen: i64,
    /// Last seen (unix ms).
    pub last_seen: i64,
    /// Their chats, newest first (at most 20).
    pub chats: Vec<ChatSummary>,
}

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

/// A chat the operator app already knows, with the last `seq` it applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResumeFrom {
    /// The chat.
    pub chat_id: ChatId,
    /// The highest `seq` applied.
    pub last_seq: i64,
}

/// A frame the operator app sends: a request id (echoed in `ack`/`error`) and an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OperatorRequest {
    /// Chosen by the client, echoed in the answer.
    pub req: u64,
    /// What to do.
    #[serde(flatten)]
    pub action: OperatorAction,
}

/// What an operator asks over the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OperatorAction {
    /// First frame: the token and the chats already known.
    Hello {
        /// Must equal [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The login token.
        token: String,
        /// Chats the client has, with the last `seq` applied to each.
        #[serde(default)]
        resume: Vec<ResumeFrom>,
        /// This device's push registration, if any: while this connection is up (and the app
        /// is not in the background) the device rings over it and gets no push.
        #[serde(default)]
        device_id: Option<DeviceId>,
        /// The app starts in the background (a phone woken to reconnect): its device is
        /// still pushed. See `app_state`.
        #[serde(default)]
        background: bool,
    },
    /// The app went to the background (true) or came back (false). In the background the
    /// device given in `hello` is pushed again, at once for the requests ringing now.
    AppState {
        /// In the background.
        background: bool,
        /// This device's push registration, when it was made after `hello` (as in `hello`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_id: Option<DeviceId>,
    },
    /// Live Help Available / Not Available.
    SetAvailable {
        /// Available (true) or not.
        available: bool,
    },
    /// Accept a chat request, or take a chat from the queue.
    Accept {
        /// The chat.
        chat_id: ChatId,
    },
    /// Pass on a chat request.
    Decline {
        /// The chat.
        chat_id: ChatId,
    },
    /// Move a chat request to the Communication Queue.
    Queue {
        /// The chat.
        chat_id: ChatId,
    },
    /// Put an own chat on hold.
    Hold {
        /// The chat.
        chat_id: ChatId,
    },
    /// Resume an own chat from hold.
    Resume {
        /// The chat.
        chat_id: ChatId,
    },
    /// End an own chat.
    End {
        /// The chat.
        chat_id: ChatId,
    },
    /// Send a message in an own chat.
    Send {
        /// The chat.
        chat_id: ChatId,
        /// Idempotency key (unique per message).
        client_id: String,
        /// The text.
        text: String,
    },
    /// Keep-alive; answered by `pong`.
    Ping,
}

/// A frame the backend sends to the operator app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OperatorServerMsg {
    /// Answer to `hello`: the full current state. Followed by the `event`s of the operator's
    /// chats after the `last_seq`s the client gave (all of them for chats it did not list).
    Ready {
        /// The server's [`PROTOCOL_VERSION`].
        protocol: u32,
        /// Who is signed in (with Live Help Available or not).
        operator: OperatorProfile,
        /// Incoming chat requests this operator has not declined.
        requests: Vec<ChatSummary>,
        /// The Communication Queue, oldest first.
        queue: Vec<ChatSummary>,
        /// The operator's own active and on-hold chats.
        chats: Vec<ChatSummary>,
        /// The settings that shape the operator's work.
        settings: Settings,
    },
    /// A change to a chat this operator may see.
    Event {
        /// The event.
        event: ChatEvent,
        /// The chat after the event.
        chat: ChatSummary,
    },
    /// This operator's Live Help status changed (on this or another device).
    Availability {
        /// Available or not.
        available: bool,
    },
    /// Request `req` succeeded; `seq` is the event it stored, if any.
    Ack {
        /// The request id.
        req: u64,
        /// The stored event's `seq`.
        seq: Option<i64>,
    },
    /// Request `req` failed (or, without `req`, the frame could not be read).
    Error {
        /// The request id, when the frame had one.
        req: Option<u64>,
        /// What went wrong.
        error: ApiError,
    },
    /// Answer to `ping`.
    Pong,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_request_round_trips_with_flattened_action() {
        let frame = OperatorRequest {
            req: 7,
            action: OperatorAction::Send {
                chat_id: ChatId(3),
                client_id: "c1".into(),
                text: "hi".into(),
            },
        };
        let json = serde_json::to_string(&frame).unwrap();
        assert_eq!(
            json,
            r#"{"req":7,"type":"send","chat_id":3,"client_id":"c1","text":"hi"}"#
        );
        assert_eq!(
            serde_json::from_str::<OperatorRequest>(&json).unwrap(),
            frame
        );
    }

    #[test]
    fn visitor_frames_round_trip() {
        let frames = vec![
            VisitorClientMsg::Hello {
                protocol: PROTOCOL_VERSION,
                visitor_token: None,
                page: Some(Page {
                    url: "https://example.test/".into(),
                    title: None,
                }),
                last_seq: Some(4),
            },
            VisitorClientMsg::StartChat {
                name: Some("Ann".into()),
                mode: Mode::Text,
            },
            VisitorClientMsg::Send {
                client_id: "x".into(),
                text: "hello".into(),
            },
            VisitorClientMsg::EndChat,
            VisitorClientMsg::Ping,
        ];
        for f in frames {
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(
                serde_json::from_str::<VisitorClientMsg>(&json).unwrap(),
                f,
                "{json}"
            );
        }
    }

    #[test]
    fn events_are_tagged_snake_case() {
        let ev = ChatEvent {
            chat_id: ChatId(1),
            seq: 2,
            at: 10,
            status: ChatStatus::OnHold,
            kind: ChatEventKind::OnHold {
                operator: OperatorRef {
                    id: OperatorId(5),
                    name: "Bo".into(),
                },
            },
        };
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["status"], "on_hold");
        assert_eq!(v["kind"]["type"], "on_hold");
        assert_eq!(serde_json::from_value::<ChatEvent>(v).unwrap(), ev);
    }

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

    #[test]
    fn unknown_type_is_an_error() {
        assert!(serde_json::from_str::<VisitorClientMsg>(r#"{"type":"nope"}"#).is_err());
    }

    #[test]
    fn status_names_parse_back() {
        for s in ChatStatus::ALL {
            assert_eq!(ChatStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ChatStatus::parse("bogus"), None);
    }
}
