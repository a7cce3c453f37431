//! What the operator app's UI is given and may ask: one [`UiSnapshot`] of everything it
//! shows (sent whole after every change, so the UI is a pure function of it), the
//! [`ChatAction`]s it asks for, and the errors commands return. The TypeScript twin is
//! `mobile/ui/src/bindings.ts` (generated).
//!
//! The snapshot itself is a pure function of the engine's data (`snapshot` below): requests and
//! the queue oldest first, own chats with their messages, pending outbox messages last and
//! unread counts from what the operator has read.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use switchboard_shared::{
    ApiError, Author, CannedMessage, ChatEvent, ChatEventKind, ChatId, ChatStatus, ChatSummary,
    ErrorCode, MailInfo, MailState, OperatorProfile, Settings,
};

pub use crate::cache::ChatAction;
use crate::cache::{OutboxItem, Refused};
pub use crate::call::{CallPhase, CallView};
use crate::call::{current_call, last_call_note};
pub use crate::monitor::MonitorView;
use crate::state::OperatorState;

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
    /// Actions the server refused when they were sent, oldest first, until dismissed.
    pub refused: Vec<RefusedAction>,
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
    /// The operator leads as many active chats as the settings allow (chats on hold do not
    /// count): Accept and Take would be refused until one is held or ended.
    pub at_cap: bool,
    /// Mail, when the server has it configured: "Send chat transcript" is shown only then,
    /// offering these team addresses.
    pub mail: Option<MailInfo>,
    /// Offline messages this operator has not seen yet.
    pub offline_unread: u32,
}

/// A transcript mailed from a chat, as it stands now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TranscriptMailView {
    /// The mail.
    pub mail_id: i64,
    /// Where it goes.
    pub to: String,
    /// Who asked ("Visitor", or the operator's name).
    pub by: String,
    /// Queued, sent or failed.
    pub state: MailState,
    /// The SMTP server's answer, or why it failed.
    pub detail: Option<String>,
    /// When it last changed (unix ms).
    pub at: i64,
}

/// The transcripts mailed from a chat (each at its latest state, oldest first) and the
/// address the visitor gave, if any: what "Send chat transcript" shows.
pub fn transcript_mails(events: &[ChatEvent]) -> (Vec<TranscriptMailView>, Option<String>) {
    let mut mails: Vec<TranscriptMailView> = Vec::new();
    let mut visitor_email = None;
    for e in events {
        let ChatEventKind::TranscriptMail {
            mail_id,
            by,
            to,
            state,
            detail,
        } = &e.kind
        else {
            continue;
        };
        if *by == Author::Visitor {
            visitor_email = Some(to.clone());
        }
        let by = match by {
            Author::Visitor => "Visitor".to_owned(),
            Author::Operator { name, .. } => name.clone(),
            Author::System => "Switchboard".to_owned(),
        };
        let view = TranscriptMailView {
            mail_id: *mail_id,
            to: to.clone(),
            by,
            state: *state,
            detail: detail.clone(),
            at: e.at,
        };
        match mails.iter_mut().find(|m| m.mail_id == *mail_id) {
            Some(m) => *m = view,
            None => mails.push(view),
        }
    }
    (mails, visitor_email)
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
    /// The chat's visitor, when it concerns a chat.
    pub visitor: Option<String>,
}

/// An action the server refused when the outbox sent it. Nothing is dropped silently: it
/// stays here, with the reason and a message's text, until the operator dismisses it or tries
/// it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefusedAction {
    /// Its id (for dismiss and retry).
    pub id: i64,
    /// The chat it concerns, if any.
    pub chat_id: Option<ChatId>,
    /// The chat's visitor, if any.
    pub visitor: Option<String>,
    /// What it was, in words ("Send message", "End chat"…).
    pub label: String,
    /// A message's text, kept so it can be copied or sent again.
    pub text: Option<String>,
    /// The server's error code.
    pub code: String,
    /// Why, as a sentence.
    pub reason: String,
    /// When it was refused (unix ms).
    pub at: i64,
}

/// A page of History: ended chats, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryView {
    /// The chats.
    pub chats: Vec<ChatSummary>,
    /// Pass as `before` for the next page; `None` on the last.
    pub next_before: Option<ChatId>,
    /// True when the server could not be reached and the list comes from this device.
    pub from_cache: bool,
}

/// An ended chat's transcript, read-only: every event (messages, hold, resume, who ended it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Transcript {
    /// The chat.
    pub chat: ChatSummary,
    /// Its events in `seq` order.
    pub events: Vec<ChatEvent>,
    /// True when the server could not be reached and this is what the device kept.
    pub from_cache: bool,
    /// Transcripts mailed from it.
    pub mails: Vec<TranscriptMailView>,
    /// The address the visitor gave, if any.
    pub visitor_email: Option<String>,
}

impl Transcript {
    /// A transcript of `events`, with its mails.
    pub fn new(chat: ChatSummary, events: Vec<ChatEvent>, from_cache: bool) -> Transcript {
        let (mails, visitor_email) = transcript_mails(&events);
        Transcript {
            chat,
            events,
            from_cache,
            mails,
            visitor_email,
        }
    }
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
    /// End chat waits in the outbox: the chat is ending, not open.
    pub ending: bool,
    /// What the operator had typed and not sent (kept across restarts).
    pub draft: String,
    /// The voice call going on (or the invitation waiting), if any.
    pub call: Option<CallView>,
    /// What to say about the last call when it just ended ("The voice call could not connect.
    /// The chat goes on as text.").
    pub call_note: Option<String>,
    /// Transcripts mailed from this chat.
    pub mails: Vec<TranscriptMailView>,
    /// The address the visitor gave, if any (offered first in "Send chat transcript").
    pub visitor_email: Option<String>,
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
        CommandError::new(&code, e.message)
    }
}

impl CommandError {
    /// An error with this code and message (made a sentence for people: a capital first, a
    /// full stop last).
    pub fn new(code: &str, message: impl Into<String>) -> CommandError {
        CommandError {
            code: code.into(),
            message: sentence(&message.into()),
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

/// `text` as a sentence: its first letter a capital, a full stop at the end unless it ends
/// with other punctuation. "you already have 2 active chats: put one on hold" reads
/// "You already have 2 active chats: put one on hold."
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return "Something went wrong. Please try again.".into();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?', '…']) {
        out.push('.');
    }
    out
}

/// What a snapshot is made of: the engine's data, borrowed.
pub(crate) struct SnapshotInput<'a> {
    /// The server and the session's operator, when signed in.
    pub account: Option<(&'a str, &'a OperatorProfile)>,
    /// The live connection, when one was started.
    pub connection: Option<ConnectionState>,
    /// What the server told (or the cache kept), once known.
    pub state: Option<&'a OperatorState>,
    /// Per chat, the `seq` the operator has read up to.
    pub read_upto: &'a HashMap<ChatId, i64>,
    /// Actions not sent yet, oldest first.
    pub outbox: &'a [(i64, OutboxItem)],
    /// Canned messages, by title.
    pub canned: &'a [CannedMessage],
    /// Refused actions, oldest first.
    pub refused: &'a [(i64, Refused)],
    /// Drafts per chat.
    pub drafts: &'a HashMap<ChatId, String>,
    /// Mute states: the operator's (chats muted here) and the visitor's.
    pub muted: &'a Muted,
}

/// Who muted their microphone in which chat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Muted {
    /// Chats where the operator muted.
    pub operator: std::collections::HashSet<ChatId>,
    /// Chats where the visitor muted.
    pub visitor: std::collections::HashSet<ChatId>,
}

/// Everything the UI shows, from the engine's data.
pub(crate) fn snapshot(input: &SnapshotInput<'_>) -> UiSnapshot {
    let state = input.state;
    let signed_in = input.account.map(|(server, operator)| SignedIn {
        server: server.to_owned(),
        // the live state's profile has the current Live Help status
        operator: state.map_or(operator, |s| &s.operator).clone(),
    });
    let visitor_of = |chat: Option<ChatId>| {
        let chat = chat?;
        state.and_then(|s| {
            [&s.chats, &s.requests, &s.queue]
                .iter()
                .find_map(|m| m.get(&chat))
                .map(visitor_name)
        })
    };
    let pending = input
        .outbox
        .iter()
        .map(|(id, item)| PendingAction {
            id: *id,
            chat_id: item.chat(),
            label: item.label(),
            visitor: visitor_of(item.chat()),
        })
        .collect();
    let refused = input
        .refused
        .iter()
        .map(|(id, r)| RefusedAction {
            id: *id,
            chat_id: r.item.chat(),
            visitor: r.visitor.clone(),
            label: r.item.label(),
            text: match &r.item {
                OutboxItem::Send { text, .. } => Some(text.clone()),
                _ => None,
            },
            code: r.code.clone(),
            reason: r.reason.clone(),
            at: r.at,
        })
        .collect();
    let settings = state.and_then(|s| s.settings.clone());
    let at_cap = match (state, &settings) {
        (Some(s), Some(settings)) => {
            let active = s
                .chats
                .values()
                .filter(|c| c.status == ChatStatus::Active)
                .count();
            active >= settings.max_chats_per_operator as usize
        }
        _ => false,
    };
    UiSnapshot {
        signed_in,
        connection: input.connection.unwrap_or(ConnectionState::Offline),
        pending,
        refused,
        requests: state
            .map(|s| oldest_first(s.requests.values()))
            .unwrap_or_default(),
        queue: state
            .map(|s| oldest_first(s.queue.values()))
            .unwrap_or_default(),
        chats: state
            .map(|s| {
                s.chats
                    .values()
                    .map(|chat| chat_view(chat, s, input))
                    .collect()
            })
            .unwrap_or_default(),
        canned: input.canned.to_vec(),
        settings,
        at_cap,
        mail: state.and_then(|s| s.mail.clone()),
        offline_unread: state.map_or(0, |s| s.offline_unread),
    }
}

/// The name to show for a chat's visitor (as the UI's `visitorName` does).
pub(crate) fn visitor_name(chat: &ChatSummary) -> String {
    chat.visitor_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("Visitor")
        .to_owned()
}

/// Chats in the order they were requested (ties by id).
fn oldest_first<'a>(chats: impl Iterator<Item = &'a ChatSummary>) -> Vec<ChatSummary> {
    let mut list: Vec<ChatSummary> = chats.cloned().collect();
    list.sort_by_key(|c| (c.created_at, c.id));
    list
}

/// One own chat: its stored messages in `seq` order, then its messages still in the outbox;
/// unread counts the visitor's messages after what the operator has read.
fn chat_view(chat: &ChatSummary, state: &OperatorState, input: &SnapshotInput<'_>) -> ChatView {
    let outbox = input.outbox;
    let read = input.read_upto.get(&chat.id).copied().unwrap_or(0);
    let history: &[ChatEvent] = state.history.get(&chat.id).map_or(&[], Vec::as_slice);
    let mut unread = 0;
    let mut messages: Vec<MessageView> = history
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::Message { author, text, .. } => {
                if *author == Author::Visitor && e.seq > read {
                    unread += 1;
                }
                Some(MessageView {
                    seq: Some(e.seq),
                    at: e.at,
                    author: author.clone(),
                    text: text.clone(),
                    pending: false,
                })
            }
            _ => None,
        })
        .collect();
    let me = Author::Operator {
        id: state.operator.id,
        name: state.operator.name.clone(),
    };
    messages.extend(outbox.iter().filter_map(|(_, item)| match item {
        OutboxItem::Send {
            chat_id, text, at, ..
        } if *chat_id == chat.id => Some(MessageView {
            seq: None,
            at: *at,
            author: me.clone(),
            text: text.clone(),
            pending: true,
        }),
        _ => None,
    }));
    let (mails, visitor_email) = transcript_mails(history);
    let ending = outbox.iter().any(|(_, item)| {
        matches!(item, OutboxItem::Act { chat_id, action: ChatAction::End } if *chat_id == chat.id)
    });
    ChatView {
        chat: chat.clone(),
        messages,
        unread,
        ending,
        draft: input.drafts.get(&chat.id).cloned().unwrap_or_default(),
        call: current_call(history).map(|c| CallView {
            muted: input.muted.operator.contains(&chat.id),
            visitor_muted: input.muted.visitor.contains(&chat.id),
            ..c
        }),
        call_note: last_call_note(history),
        mails,
        visitor_email,
    }
}

#[cfg(test)]
mod tests {
    use switchboard_shared::{ChatStatus, Mode, OperatorId, OperatorRef, VisitorId};

    use super::*;

    fn me() -> OperatorProfile {
        OperatorProfile {
            id: OperatorId(1),
            email: "olga@example.com".into(),
            name: "Olga".into(),
            is_admin: false,
            available: false,
            ring_group: 1,
        }
    }

    fn chat(id: i64, created_at: i64, status: ChatStatus) -> ChatSummary {
        ChatSummary {
            id: ChatId(id),
            visitor_id: VisitorId(100 + id),
            visitor_name: None,
            mode: Mode::Text,
            status,
            page: None,
            operator: matches!(status, ChatStatus::Active | ChatStatus::OnHold).then(|| {
                OperatorRef {
                    id: OperatorId(1),
                    name: "Olga".into(),
                }
            }),
            created_at,
            accepted_at: None,
            ended_at: None,
            last_seq: 0,
        }
    }

    fn message(chat: i64, seq: i64, author: Author, text: &str) -> ChatEvent {
        ChatEvent {
            chat_id: ChatId(chat),
            seq,
            at: seq * 1000,
            status: ChatStatus::Active,
            kind: ChatEventKind::Message {
                author,
                text: text.into(),
                client_id: None,
            },
        }
    }

    fn send(chat: i64, text: &str) -> OutboxItem {
        OutboxItem::Send {
            chat_id: ChatId(chat),
            client_id: format!("c-{text}"),
            text: text.into(),
            at: 99,
        }
    }

    /// Builds the snapshot of a signed-in operator with this state, read marks and outbox.
    fn snap(
        state: Option<&OperatorState>,
        read: &[(i64, i64)],
        outbox: &[(i64, OutboxItem)],
    ) -> UiSnapshot {
        let profile = me();
        let read_upto = read.iter().map(|&(c, s)| (ChatId(c), s)).collect();
        snapshot(&SnapshotInput {
            account: Some(("https://sb.test", &profile)),
            connection: Some(ConnectionState::Online),
            state,
            read_upto: &read_upto,
            outbox,
            canned: &[],
            refused: &[],
            drafts: &HashMap::new(),
            muted: &Muted::default(),
        })
    }

    fn with_chats(chats: &[ChatSummary]) -> OperatorState {
        let mut state = OperatorState::new(me());
        for c in chats {
            let list = match c.status {
                ChatStatus::Waiting => &mut state.requests,
                ChatStatus::Queued => &mut state.queue,
                _ => &mut state.chats,
            };
            list.insert(c.id, c.clone());
        }
        state
    }

    #[test]
    fn signed_out_shows_the_sign_in_screen_offline() {
        let s = snapshot(&SnapshotInput {
            account: None,
            connection: None,
            state: None,
            read_upto: &HashMap::new(),
            outbox: &[],
            canned: &[],
            refused: &[],
            drafts: &HashMap::new(),
            muted: &Muted::default(),
        });
        assert_eq!(s.signed_in, None);
        assert_eq!(s.connection, ConnectionState::Offline);
        assert!(s.requests.is_empty() && s.queue.is_empty() && s.chats.is_empty());
    }

    #[test]
    fn the_live_profile_wins_over_the_session_one() {
        assert_eq!(
            snap(None, &[], &[]).signed_in.map(|s| s.operator.available),
            Some(false)
        );
        let mut state = OperatorState::new(me());
        state.operator.available = true;
        let s = snap(Some(&state), &[], &[]);
        let signed_in = s.signed_in.expect("signed in");
        assert_eq!(signed_in.server, "https://sb.test");
        assert!(signed_in.operator.available);
    }

    #[test]
    fn requests_and_queue_are_oldest_first_and_chats_stay_apart() {
        let state = with_chats(&[
            chat(1, 300, ChatStatus::Waiting),
            chat(2, 100, ChatStatus::Waiting),
            chat(3, 100, ChatStatus::Waiting),
            chat(4, 50, ChatStatus::Queued),
            chat(5, 10, ChatStatus::Queued),
            chat(6, 1, ChatStatus::Active),
            chat(7, 2, ChatStatus::OnHold),
        ]);
        let s = snap(Some(&state), &[], &[]);
        let ids = |list: &[ChatSummary]| list.iter().map(|c| c.id.0).collect::<Vec<_>>();
        assert_eq!(ids(&s.requests), [2, 3, 1]);
        assert_eq!(ids(&s.queue), [5, 4]);
        let chats: Vec<i64> = s.chats.iter().map(|v| v.chat.id.0).collect();
        assert_eq!(chats, [6, 7]);
    }

    #[test]
    fn unread_counts_the_visitors_messages_after_the_read_mark() {
        let mut state = with_chats(&[chat(6, 1, ChatStatus::Active)]);
        let olga = Author::Operator {
            id: OperatorId(1),
            name: "Olga".into(),
        };
        state.history.insert(
            ChatId(6),
            vec![
                message(6, 2, Author::Visitor, "hi"),
                message(6, 3, olga, "hello"),
                message(6, 4, Author::System, "on hold"),
                message(6, 5, Author::Visitor, "still there?"),
                message(6, 6, Author::Visitor, "hello?"),
            ],
        );
        assert_eq!(snap(Some(&state), &[], &[]).chats[0].unread, 3);
        assert_eq!(snap(Some(&state), &[(6, 2)], &[]).chats[0].unread, 2);
        assert_eq!(snap(Some(&state), &[(6, 6)], &[]).chats[0].unread, 0);
        // another chat's read mark counts for nothing here
        assert_eq!(snap(Some(&state), &[(7, 6)], &[]).chats[0].unread, 3);
    }

    #[test]
    fn only_messages_show_in_a_tab_and_outbox_messages_come_last() {
        let mut state = with_chats(&[
            chat(6, 1, ChatStatus::Active),
            chat(8, 2, ChatStatus::Active),
        ]);
        let accepted = ChatEvent {
            kind: ChatEventKind::Accepted {
                operator: OperatorRef {
                    id: OperatorId(1),
                    name: "Olga".into(),
                },
            },
            ..message(6, 2, Author::Visitor, "")
        };
        state.history.insert(
            ChatId(6),
            vec![accepted, message(6, 3, Author::Visitor, "hi")],
        );
        let outbox = [
            (10, send(6, "on my way")),
            (11, send(8, "other chat")),
            (
                12,
                OutboxItem::Act {
                    chat_id: ChatId(6),
                    action: ChatAction::Hold,
                },
            ),
        ];
        let s = snap(Some(&state), &[], &outbox);
        let tab = &s.chats[0];
        let texts: Vec<(&str, Option<i64>, bool)> = tab
            .messages
            .iter()
            .map(|m| (m.text.as_str(), m.seq, m.pending))
            .collect();
        assert_eq!(texts, [("hi", Some(3), false), ("on my way", None, true)]);
        let pending = &tab.messages[1];
        assert_eq!(
            pending.author,
            Author::Operator {
                id: OperatorId(1),
                name: "Olga".into()
            }
        );
        assert_eq!(pending.at, 99);
        assert_eq!(s.chats[1].messages.len(), 1);
        // every outbox item is listed as pending, in order, with its chat and label
        let listed: Vec<(i64, Option<i64>, &str)> = s
            .pending
            .iter()
            .map(|p| (p.id, p.chat_id.map(|c| c.0), p.label.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                (10, Some(6), "Send message"),
                (11, Some(8), "Send message"),
                (12, Some(6), "Hold")
            ]
        );
    }

    #[test]
    fn without_a_state_the_outbox_and_canned_messages_still_show() {
        let profile = me();
        let canned = [CannedMessage {
            id: switchboard_shared::CannedId(1),
            title: "Greeting".into(),
            text: "Hello!".into(),
            updated_at: 1,
        }];
        let outbox = [(1, OutboxItem::SetAvailable { available: true })];
        let s = snapshot(&SnapshotInput {
            account: Some(("https://sb.test", &profile)),
            connection: Some(ConnectionState::Connecting),
            state: None,
            read_upto: &HashMap::new(),
            outbox: &outbox,
            canned: &canned,
            refused: &[],
            drafts: &HashMap::new(),
            muted: &Muted::default(),
        });
        assert_eq!(s.connection, ConnectionState::Connecting);
        assert_eq!(s.canned, canned);
        assert_eq!(s.pending[0].label, "Live Help Available");
        assert_eq!(s.pending[0].chat_id, None);
        assert_eq!(s.settings, None);
        assert!(s.chats.is_empty());
    }

    fn settings(max: u32) -> Settings {
        Settings {
            operator_name: "Support".into(),
            default_invitation: "Hi".into(),
            max_chats_per_operator: max,
            ring_timeout_secs: 30,
            widget_origins: Vec::new(),
            limits: switchboard_shared::Limits::default(),
            auto_invitations: None,
            time_zone: "UTC".into(),
        }
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            sentence("you already have 2 active chats: put one on hold"),
            "You already have 2 active chats: put one on hold."
        );
        assert_eq!(sentence("Done already."), "Done already.");
        assert_eq!(sentence("  élan?  "), "Élan?");
        assert_eq!(sentence(""), "Something went wrong. Please try again.");
        let e = CommandError::from(ApiError {
            code: ErrorCode::NotFound,
            message: "chat not found".into(),
            retry_after_secs: None,
        });
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("not_found", "Chat not found.")
        );
    }

    #[test]
    fn the_cap_counts_active_chats_only() {
        let mut active = chat(1, 1, ChatStatus::Active);
        active.visitor_name = Some("Eva".into());
        let mut state = with_chats(&[active, chat(2, 2, ChatStatus::OnHold)]);
        state.settings = Some(settings(2));
        assert!(!snap(Some(&state), &[], &[]).at_cap, "one active of two");
        state.settings = Some(settings(1));
        assert!(snap(Some(&state), &[], &[]).at_cap, "one active of one");
        state.chats.get_mut(&ChatId(1)).expect("chat").status = ChatStatus::OnHold;
        assert!(!snap(Some(&state), &[], &[]).at_cap, "both on hold");
    }

    #[test]
    fn an_ending_chat_pending_actions_name_their_visitor_and_refusals_keep_the_text() {
        let mut eva = chat(1, 1, ChatStatus::Active);
        eva.visitor_name = Some("Eva".into());
        let state = with_chats(&[eva, chat(2, 2, ChatStatus::Active)]);
        let outbox = [
            (
                1,
                OutboxItem::Act {
                    chat_id: ChatId(1),
                    action: ChatAction::End,
                },
            ),
            (2, send(2, "hello")),
        ];
        let profile = me();
        let refused = [(
            7,
            Refused {
                item: send(1, "are you there?"),
                code: "invalid_state".into(),
                reason: "The chat has ended.".into(),
                visitor: Some("Eva".into()),
                at: 9,
            },
        )];
        let drafts = HashMap::from([(ChatId(2), "half a sentence".to_owned())]);
        let s = snapshot(&SnapshotInput {
            account: Some(("https://sb.test", &profile)),
            connection: Some(ConnectionState::Offline),
            state: Some(&state),
            read_upto: &HashMap::new(),
            outbox: &outbox,
            canned: &[],
            refused: &refused,
            drafts: &drafts,
            muted: &Muted::default(),
        });
        let ending: Vec<bool> = s.chats.iter().map(|c| c.ending).collect();
        assert_eq!(ending, [true, false]);
        assert_eq!(s.chats[1].draft, "half a sentence");
        assert_eq!(s.chats[0].draft, "");
        let visitors: Vec<Option<&str>> = s.pending.iter().map(|p| p.visitor.as_deref()).collect();
        assert_eq!(visitors, [Some("Eva"), Some("Visitor")]);
        assert_eq!(s.refused.len(), 1);
        assert_eq!(s.refused[0].id, 7);
        assert_eq!(s.refused[0].text.as_deref(), Some("are you there?"));
        assert_eq!(s.refused[0].label, "Send message");
        assert_eq!(s.refused[0].visitor.as_deref(), Some("Eva"));
        assert_eq!(s.refused[0].chat_id, Some(ChatId(1)));
    }
}
