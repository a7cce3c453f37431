//! Visitor <-> backend: the widget's WebSocket (`/api/widget/ws`) and its HTTP calls
//! (`/api/widget/…`).
//!
//! The widget says `hello` first, with the `last_seq` it has applied; the server answers
//! `welcome` and replays the visitor's chat events after it.

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::PROTOCOL_VERSION;
use crate::{
    ApiError, CallSignal, ChatEvent, ChatId, ChatSummary, ClientInfo, IceServer, Mode,
    OfflineMessageId, Page, VisitorId,
};

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
        /// What the browser tells about the visitor, for the Site Monitor.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        client: Option<ClientInfo>,
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
    /// Yes to the operator's invitation to talk (after `call_invited`).
    CallAccept,
    /// No to it.
    CallRefuse,
    /// For the operator's peer: an offer, candidate or mute state (relayed, never stored).
    CallSignal {
        /// The call (its `call_started` event's `seq`).
        call_id: i64,
        /// What to tell the other peer.
        signal: CallSignal,
    },
    /// This peer's audio connected.
    CallConnected {
        /// The call.
        call_id: i64,
    },
    /// This peer's audio could not connect, or dropped for good: the chat goes on as text.
    CallFailed {
        /// The call.
        call_id: i64,
    },
    /// "End call": the voice ends, the chat goes on as text.
    CallEnd {
        /// The call.
        call_id: i64,
    },
    /// "Mail me this chat transcript": answered by `ack` with the `seq` of the chat's
    /// `transcript_mail` event (queued); its result follows as another event.
    MailTranscript {
        /// Idempotency key (a retry mails nothing more).
        client_id: String,
        /// The visitor's chat.
        chat_id: ChatId,
        /// Where to send it.
        email: String,
    },
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
        /// Whether transcripts can be mailed (mail is configured): "Mail me this chat
        /// transcript" is shown only then.
        #[serde(default)]
        mail: bool,
    },
    /// Mail was configured or removed: show or hide "Mail me this chat transcript".
    Mail {
        /// Whether transcripts can be mailed.
        enabled: bool,
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
    /// A call starts: set up the peer with these ICE servers (the visitor's browser makes the
    /// offer).
    CallReady {
        /// The chat.
        chat_id: ChatId,
        /// The call (its `call_started` event's `seq`).
        call_id: i64,
        /// STUN and TURN servers for this call (TURN credentials are short-lived).
        ice_servers: Vec<IceServer>,
    },
    /// From the operator's peer: an answer, candidate or mute state.
    CallSignal {
        /// The chat.
        chat_id: ChatId,
        /// The call.
        call_id: i64,
        /// What the other peer says.
        signal: CallSignal,
    },
}

/// Widget HTTP `GET /api/widget/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WidgetStatus {
    /// Whether any operator has Live Help Available.
    pub available: bool,
    /// Whether transcripts can be mailed.
    #[serde(default)]
    pub mail: bool,
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
    /// When an operator last answered it by e-mail from the app.
    #[serde(default)]
    pub replied_at: Option<i64>,
    /// Who answered it.
    #[serde(default)]
    pub replied_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PROTOCOL_VERSION;

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
                client: None,
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
    fn unknown_type_is_an_error() {
        assert!(serde_json::from_str::<VisitorClientMsg>(r#"{"type":"nope"}"#).is_err());
    }
}
