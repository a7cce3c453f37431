//! Errors: one body for every refusal, HTTP or WebSocket, with a stable code clients branch
//! on.

use serde::{Deserialize, Serialize};

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
    /// Too many requests of this kind from this visitor, address, account or connection:
    /// nothing was done; try again after `retry_after_secs`.
    RateLimited,
    /// Mail is not configured on this server (no transcripts or replies by e-mail).
    MailUnavailable,
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
    /// With `rate_limited`: how many seconds to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub retry_after_secs: Option<u32>,
}
