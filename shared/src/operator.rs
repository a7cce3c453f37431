//! Operator <-> backend: sign-in and the operator and admin HTTP APIs (`/api/auth`,
//! `/api/operator`, `/api/admin`), and the operator app's WebSocket (`/api/operator/ws`).
//!
//! Every WebSocket frame the app sends carries a request id (`req`) that the server echoes in
//! its `ack` or `error`. The first frame is `hello`, with the last `seq` applied per known chat;
//! the server answers `ready` (the full state) and replays what those chats missed.

use serde::{Deserialize, Serialize};

use crate::{
    ApiError, CallSignal, CannedId, ChatEvent, ChatId, ChatSummary, DeviceId, IceServer, MailInfo,
    MonitorDelta, OfflineMessage, OperatorId, Page, SiteVisitor, VisitorId,
};
#[cfg(doc)]
use crate::{MONITOR_FRAME_VISITORS, PROTOCOL_VERSION};

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

/// An operator changes their own display name (`PUT /api/operator/me`): what visitors and
/// colleagues see, in chats and invitations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SetNameRequest {
    /// The new name (trimmed; 1 to 100 characters).
    pub name: String,
}

/// Admin-editable settings (`GET`/`PUT /api/admin/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Settings {
    /// The operator name put into invitations (`%name%`).
    pub operator_name: String,
    /// The default invitation text.
    pub default_invitation: String,
    /// How many active chats one operator may lead at once (chats on hold do not count).
    pub max_chats_per_operator: u32,
    /// How long a request rings before the visitor is offered "Leave a message" (seconds).
    pub ring_timeout_secs: u32,
    /// The sites allowed to use the widget, as origins (`https://shop.example.com`); empty:
    /// any site. Pages served by Switchboard itself are always allowed.
    #[serde(default)]
    pub widget_origins: Vec<String>,
    /// How much one visitor, address, account or connection may ask for.
    #[serde(default)]
    pub limits: Limits,
    /// Invitations the server sends by itself (off unless enabled).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub auto_invitations: Option<AutoInvitations>,
    /// The site's time zone (IANA name, e.g. `Europe/Paris`): the days and hours of reports
    /// and the times in mails. `UTC` when not set.
    #[serde(default = "utc")]
    pub time_zone: String,
}

fn utc() -> String {
    "UTC".into()
}

/// Most rules automatic invitations may have.
pub const MAX_AUTO_INVITATION_RULES: usize = 20;

/// Automatic invitations (beyond the manual): when a visitor on the site matches a rule, an
/// invitation goes out in the name of an available operator (the least busy one), at most one
/// per visit, never to a visitor who has a chat or an invitation open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AutoInvitations {
    /// Off by default.
    pub enabled: bool,
    /// The first rule a visitor matches sends the invitation.
    pub rules: Vec<AutoInvitationRule>,
}

/// When to invite automatically: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct AutoInvitationRule {
    /// The page's address contains this (e.g. `/checkout`).
    pub url_contains: Option<String>,
    /// At least this long on the page, in seconds.
    pub min_secs_on_page: u32,
    /// At least this many pages seen in the visit.
    pub min_pages: u32,
    /// Only visitors who came before.
    pub returning_only: bool,
    /// The invitation (`%name%` allowed); the default invitation when absent.
    pub text: Option<String>,
}

/// Rate limits (part of the settings). Each allows a burst of its number at once, then one
/// more every `1/n` of its period; past it the answer is `rate_limited` with when to retry,
/// and nothing is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Limits {
    /// Chats one visitor may start per minute.
    pub chats_per_visitor_per_minute: u32,
    /// Chats that may be started from one address per minute.
    pub chats_per_address_per_minute: u32,
    /// New visitors (widget tokens) one address may get per minute.
    pub new_visitors_per_address_per_minute: u32,
    /// Offline messages that may be left from one address per minute.
    pub offline_messages_per_address_per_minute: u32,
    /// Frames one WebSocket connection may send per second (in bursts of up to twice as
    /// many).
    pub frames_per_connection_per_second: u32,
    /// Sign-in attempts per operator account per minute.
    pub logins_per_account_per_minute: u32,
    /// Sign-in attempts from one address per minute.
    pub logins_per_address_per_minute: u32,
    /// Transcripts a visitor may have mailed of one chat.
    pub transcripts_per_chat: u32,
    /// Mails that may go to one address per hour (the team's own addresses are not
    /// limited).
    pub mails_per_address_per_hour: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            chats_per_visitor_per_minute: 3,
            chats_per_address_per_minute: 20,
            new_visitors_per_address_per_minute: 60,
            offline_messages_per_address_per_minute: 5,
            frames_per_connection_per_second: 20,
            logins_per_account_per_minute: 10,
            logins_per_address_per_minute: 30,
            transcripts_per_chat: 3,
            mails_per_address_per_hour: 10,
        }
    }
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

/// One page of ended chats (`GET /api/operator/history`), most recent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryPage {
    /// Ended and missed chats, newest first.
    pub chats: Vec<ChatSummary>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next_before: Option<ChatId>,
}

/// Longest page of history (`limit`).
pub const MAX_HISTORY_PAGE: u32 = 100;

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
    /// Invite the chat's visitor to talk (voice inside a text chat).
    CallInvite {
        /// The chat.
        chat_id: ChatId,
    },
    /// For the visitor's peer: an answer, candidate or mute state (relayed, never stored).
    CallSignal {
        /// The chat.
        chat_id: ChatId,
        /// The call (its `call_started` event's `seq`).
        call_id: i64,
        /// What to tell the other peer.
        signal: CallSignal,
    },
    /// This peer's audio connected.
    CallConnected {
        /// The chat.
        chat_id: ChatId,
        /// The call.
        call_id: i64,
    },
    /// This peer's audio could not connect, or dropped for good: the chat goes on as text.
    CallFailed {
        /// The chat.
        chat_id: ChatId,
        /// The call.
        call_id: i64,
    },
    /// "End call" (or take back an invitation): the voice ends, the chat goes on as text.
    CallEnd {
        /// The chat.
        chat_id: ChatId,
        /// The call (0 for an invitation not answered yet).
        call_id: i64,
    },
    /// Invites a visitor on the site to chat: a new chat in `invited` with this operator (see
    /// docs/protocol.md, 6b). `%name%` in the text becomes the operator's name for invitations.
    Invite {
        /// The visitor (from the Site Monitor).
        visitor_id: VisitorId,
        /// The invitation.
        text: String,
    },
    /// The Site Monitor is on screen: stream the visitors on the site (a snapshot, or what was
    /// missed after `last_seq`, then deltas). See `monitor.rs`.
    MonitorSubscribe {
        /// The last monitor `seq` this client applied, when it resumes.
        #[serde(default)]
        last_seq: Option<i64>,
    },
    /// The Site Monitor left the screen: stop the stream.
    MonitorUnsubscribe,
    /// "Send chat transcript": mail the chat (running or ended, one this operator may read)
    /// to an address. Acknowledged with the `seq` of its `transcript_mail` event (queued);
    /// the result follows as another event.
    MailTranscript {
        /// The chat.
        chat_id: ChatId,
        /// Idempotency key (a retry mails nothing more).
        client_id: String,
        /// Where to send it.
        email: String,
    },
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
        /// Mail, when configured ("Send chat transcript" is shown only then).
        #[serde(default)]
        mail: Option<MailInfo>,
        /// Offline messages this operator has not seen yet.
        #[serde(default)]
        offline_unread: u32,
    },
    /// Mail was configured, changed or removed.
    Mail {
        /// Mail, when configured.
        mail: Option<MailInfo>,
    },
    /// A visitor left a message ("Leave a message").
    OfflineMessage {
        /// The message.
        message: OfflineMessage,
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
    /// A call starts in one of this operator's chats: the device that took the chat (or
    /// invited) sets up the peer with these ICE servers and answers the visitor's offer.
    CallReady {
        /// The chat.
        chat_id: ChatId,
        /// The call (its `call_started` event's `seq`).
        call_id: i64,
        /// STUN and TURN servers for this call (TURN credentials are short-lived).
        ice_servers: Vec<IceServer>,
    },
    /// From the visitor's peer: an offer, candidate or mute state.
    CallSignal {
        /// The chat.
        chat_id: ChatId,
        /// The call.
        call_id: i64,
        /// What the other peer says.
        signal: CallSignal,
    },
    /// Every visitor on the site, at `seq` (the start of a monitor subscription, or a client
    /// too far behind to be given what it missed), in frames of at most
    /// [`MONITOR_FRAME_VISITORS`]: the first (`first`) replaces the client's list, the others
    /// add to it, and the one with `complete` ends it.
    MonitorSnapshot {
        /// The stream's position this snapshot is at.
        seq: i64,
        /// This frame starts the snapshot.
        first: bool,
        /// This frame ends the snapshot.
        complete: bool,
        /// Visitors on the site, longest there first.
        visitors: Vec<SiteVisitor>,
    },
    /// Changes to the visitors on the site, in `seq` order (at most
    /// [`MONITOR_FRAME_VISITORS`] a frame).
    MonitorDeltas {
        /// The changes.
        deltas: Vec<MonitorDelta>,
    },
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
}
