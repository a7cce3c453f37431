//! What the operator app's UI is given and may ask: one [`UiSnapshot`] of everything it
//! shows (sent whole after every change, so the UI is a pure function of it), and the errors
//! commands return. The TypeScript twin is `mobile/ui/src/bindings.ts` (generated).

use serde::{Deserialize, Serialize};
use switchboard_shared::{
    ApiError, Author, CannedMessage, ChatId, ChatSummary, ErrorCode, OperatorProfile, Settings,
};

/// Everything the UI shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UiSnapshot {
    /// Who is signed in, and where; `None` shows the sign-in screen.
    pub signed_in: Option<SignedIn>,
    /// The live connection.
    pub connection: ConnectionState,
    /// Actions taken offline, waiting to be sent, oldest first.
    pub pending: Vec<PendingAction>,
    /// Incoming chat requests (Accept / Decline / Queue).
    pub requests: Vec<ChatSummary>,
    /// The Communication Queue, oldest first.
    pub queue: Vec<ChatSummary>,
    /// Own active and on-hold chats, one Live Communication tab each.
    pub chats: Vec<ChatView>,
    /// Canned messages, by title.
    pub canned: Vec<CannedMessage>,
    /// The server's settings (chat cap, invitation text).
    pub settings: Option<Settings>,
}

/// The signed-in operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignedIn {
    /// The server's base URL.
    pub server: String,
    /// The operator (with Live Help Available or not).
    pub operator: OperatorProfile,
}

/// The state of the live connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Connected and up to date.
    Online,
    /// Trying to (re)connect.
    Connecting,
    /// No connection; showing the cache, actions go to the outbox.
    Offline,
}

/// An action taken offline that has not reached the server yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PendingAction {
    /// Outbox position.
    pub id: i64,
    /// The chat it concerns, if any.
    pub chat_id: Option<ChatId>,
    /// What it is, in words ("Send message", "Hold", "End chat"…).
    pub label: String,
}

/// One Live Communication tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChatView {
    /// The chat.
    pub chat: ChatSummary,
    /// Its messages, in order (pending ones last).
    pub messages: Vec<MessageView>,
    /// Messages from the visitor not read yet.
    pub unread: u32,
}

/// One message in a tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MessageView {
    /// Its `seq`, once stored.
    pub seq: Option<i64>,
    /// When (unix ms).
    pub at: i64,
    /// Who wrote it.
    pub author: Author,
    /// The text (render it escaped).
    pub text: String,
    /// True while it waits in the outbox.
    pub pending: bool,
}

/// A command's failure, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CommandError {
    /// A stable code (the server's, or `offline` / `internal`).
    pub code: String,
    /// For people.
    pub message: String,
}

impl From<ApiError> for CommandError {
    fn from(e: ApiError) -> Self {
        let code = serde_json::to_value(e.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "internal".into());
        CommandError {
            code,
            message: e.message,
        }
    }
}

impl CommandError {
    /// An error with this code and message.
    pub fn new(code: &str, message: impl Into<String>) -> CommandError {
        CommandError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// True when the server refused with `code`.
    pub fn is(&self, code: ErrorCode) -> bool {
        serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(|s| s == self.code))
            .unwrap_or(false)
    }
}
