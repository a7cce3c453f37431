//! Chats: their status and mode, who wrote a message, and the events that change a chat.
//!
//! Invariant the rest of the system relies on: every change to a chat is a [`ChatEvent`] with a
//! per-chat `seq` that starts at 1 and grows by one per stored event. Clients remember the
//! highest `seq` they have applied and send it back on reconnect; the server replays what they
//! missed, in order.

use serde::{Deserialize, Serialize};

use crate::{CallEndReason, CallParty};

use crate::{ChatId, OperatorId, VisitorId};

/// Longest message text a client may send, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Longest page address stored (characters).
pub const MAX_URL_CHARS: usize = 2048;

/// Longest page title stored (characters).
pub const MAX_TITLE_CHARS: usize = 300;

/// Longest name stored: a chat name, an operator's or a visitor's (characters).
pub const MAX_NAME_CHARS: usize = 100;

/// Where a chat stands. `Ended` and `Missed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    /// An operator invited a visitor on the site to chat; the visitor has not answered yet.
    Invited,
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
    pub const ALL: [ChatStatus; 7] = [
        ChatStatus::Invited,
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
            ChatStatus::Invited => "invited",
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
    /// The visitor closed an operator's invitation, or left the site without answering it.
    Declined,
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
    /// An operator invited a visitor on the site to chat (`seq` 1 of an invited chat); the
    /// visitor answers with Start Chat (the chat goes to this operator) or closes it.
    Invited {
        /// Who invites.
        operator: OperatorRef,
        /// The invitation ("Hello! I'm Olga, can I help you?").
        text: String,
    },
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
    /// The operator invited the visitor to talk (voice inside a text chat).
    CallInvited {
        /// Who invited.
        operator: OperatorRef,
    },
    /// A voice call started: the peers negotiate. This event's `seq` is the call's id.
    CallStarted {
        /// Whose request started it: the visitor's voice chat, or the operator's invitation.
        by: CallParty,
    },
    /// The call's audio connected.
    CallConnected {
        /// The call (its `call_started` event's `seq`).
        call_id: i64,
    },
    /// A transcript of the chat was asked for by e-mail (`queued`), then sent or given up
    /// (a second event with the same `mail_id`). The visitor sees only the ones they asked for.
    TranscriptMail {
        /// The mail (one outbox entry).
        mail_id: i64,
        /// Who asked: the visitor or an operator.
        by: Author,
        /// Where it goes.
        to: String,
        /// Where it stands.
        state: crate::MailState,
        /// The SMTP server's answer, or why it failed.
        detail: Option<String>,
    },
    /// The call is over; the chat goes on as text unless it ended too.
    CallEnded {
        /// The call (its `call_started` event's `seq`; 0 for a refused invitation).
        call_id: i64,
        /// Why.
        reason: CallEndReason,
        /// Who ended it, when a person did.
        by: Option<CallParty>,
        /// How long the audio was connected (ms), when it was.
        duration_ms: Option<i64>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn status_names_parse_back() {
        for s in ChatStatus::ALL {
            assert_eq!(ChatStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ChatStatus::parse("bogus"), None);
    }
}
