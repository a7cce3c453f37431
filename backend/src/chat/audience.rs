//! Who may see what of a chat, in one place: live delivery (the hub topics an event goes to),
//! the visitor's and the operator's replays on reconnect, and the operator's history over HTTP
//! all ask here, so a resumed client sees exactly what a connected one saw.

use switchboard_shared::{
    Author, ChatEvent, ChatEventKind, ChatStatus, ChatSummary, OperatorProfile,
};

use crate::hub::Topic;

/// The topics a committed event is delivered on.
pub fn topics(event: &ChatEvent, chat: &ChatSummary) -> Vec<Topic> {
    let mut topics = Vec::with_capacity(3);
    match &event.kind {
        // A decline matters only to the decliner's devices.
        ChatEventKind::Declined { operator } => topics.push(Topic::Operator(operator.id)),
        // A transcript mailed: the visitor hears of the ones they asked for; the operator who
        // asked hears of theirs even when the chat is not theirs (an admin's, from history).
        ChatEventKind::TranscriptMail { by, .. } => {
            match by {
                Author::Visitor => topics.push(Topic::Visitor(chat.visitor_id)),
                Author::Operator { id, .. } => topics.push(Topic::Operator(*id)),
                Author::System => {}
            }
            if let Some(op) = &chat.operator
                && !matches!(by, Author::Operator { id, .. } if *id == op.id)
            {
                topics.push(Topic::Operator(op.id));
            }
        }
        kind => {
            topics.push(Topic::Visitor(chat.visitor_id));
            if let Some(op) = &chat.operator {
                topics.push(Topic::Operator(op.id));
            }
            // Messages and calls are for the two people in the chat; every other change
            // reaches every operator (a request rings, is taken, queued, ended).
            if changes_the_line(kind) {
                topics.push(Topic::Lobby);
            }
        }
    }
    topics
}

/// Whether the event moves the chat in the line everyone follows (requests, queue, who has
/// which chat), rather than happening between the chat's two people (messages, calls).
pub fn changes_the_line(kind: &ChatEventKind) -> bool {
    !matches!(
        kind,
        ChatEventKind::Message { .. }
            | ChatEventKind::TranscriptMail { .. }
            | ChatEventKind::CallInvited { .. }
            | ChatEventKind::CallStarted { .. }
            | ChatEventKind::CallConnected { .. }
            | ChatEventKind::CallEnded { .. }
    )
}

/// Whether the chat's visitor sees this event (declines are the operators' bookkeeping).
pub fn visitor_sees(event: &ChatEvent) -> bool {
    match &event.kind {
        ChatEventKind::Declined { .. } => false,
        // Only the transcripts they asked for themselves (an operator's address stays theirs).
        ChatEventKind::TranscriptMail { by, .. } => matches!(by, Author::Visitor),
        _ => true,
    }
}

/// Whether an operator sees this event of a chat they may follow: everything but another
/// operator's decline.
pub fn operator_sees(event: &ChatEvent, operator: &OperatorProfile) -> bool {
    match &event.kind {
        ChatEventKind::Declined { operator: by } => by.id == operator.id,
        _ => true,
    }
}

/// Whether an operator follows a chat live and on reconnect: their own, and every request
/// that rings or waits in the queue.
pub fn operator_follows(chat: &ChatSummary, operator: &OperatorProfile) -> bool {
    let mine = chat.operator.as_ref().is_some_and(|o| o.id == operator.id);
    mine || matches!(chat.status, ChatStatus::Waiting | ChatStatus::Queued)
}

/// Whether an operator may read a chat's history: the chats they follow, and any chat for an
/// admin.
pub fn operator_may_read(chat: &ChatSummary, operator: &OperatorProfile) -> bool {
    operator.is_admin || operator_follows(chat, operator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::{Author, ChatId, EndReason, Mode, OperatorId, OperatorRef, VisitorId};

    fn op(id: i64, is_admin: bool) -> OperatorProfile {
        OperatorProfile {
            id: OperatorId(id),
            email: format!("op{id}@example.com"),
            name: format!("Op {id}"),
            is_admin,
            available: true,
            ring_group: 1,
        }
    }

    fn chat(status: ChatStatus, operator: Option<i64>) -> ChatSummary {
        ChatSummary {
            id: ChatId(1),
            visitor_id: VisitorId(9),
            visitor_name: None,
            mode: Mode::Text,
            status,
            page: None,
            operator: operator.map(|id| OperatorRef {
                id: OperatorId(id),
                name: format!("Op {id}"),
            }),
            created_at: 0,
            accepted_at: None,
            ended_at: None,
            last_seq: 1,
        }
    }

    fn event(kind: ChatEventKind) -> ChatEvent {
        ChatEvent {
            chat_id: ChatId(1),
            seq: 2,
            at: 0,
            status: ChatStatus::Active,
            kind,
        }
    }

    fn by(id: i64) -> OperatorRef {
        OperatorRef {
            id: OperatorId(id),
            name: format!("Op {id}"),
        }
    }

    #[test]
    fn events_go_to_the_people_they_concern() {
        let active = chat(ChatStatus::Active, Some(1));
        let message = event(ChatEventKind::Message {
            author: Author::Visitor,
            text: "hi".into(),
            client_id: None,
        });
        assert_eq!(
            topics(&message, &active),
            [Topic::Visitor(VisitorId(9)), Topic::Operator(OperatorId(1))]
        );
        let ended = event(ChatEventKind::Ended {
            reason: EndReason::Operator,
        });
        assert_eq!(
            topics(&ended, &active),
            [
                Topic::Visitor(VisitorId(9)),
                Topic::Operator(OperatorId(1)),
                Topic::Lobby
            ]
        );
        let declined = event(ChatEventKind::Declined { operator: by(2) });
        let waiting = chat(ChatStatus::Waiting, None);
        assert_eq!(
            topics(&declined, &waiting),
            [Topic::Operator(OperatorId(2))]
        );
        assert!(!visitor_sees(&declined));
        assert!(visitor_sees(&ended));
        assert!(operator_sees(&declined, &op(2, false)));
        assert!(!operator_sees(&declined, &op(3, true)));
    }

    #[test]
    fn operators_follow_their_own_chats_and_open_requests() {
        let (me, other, admin) = (op(1, false), op(2, false), op(3, true));
        for status in [ChatStatus::Waiting, ChatStatus::Queued] {
            assert!(operator_follows(&chat(status, None), &other));
        }
        for status in [ChatStatus::Active, ChatStatus::OnHold, ChatStatus::Ended] {
            let c = chat(status, Some(1));
            assert!(operator_follows(&c, &me), "{status:?}");
            assert!(!operator_follows(&c, &other), "{status:?}");
            assert!(!operator_may_read(&c, &other), "{status:?}");
            assert!(operator_may_read(&c, &admin), "{status:?}");
            assert!(!operator_follows(&c, &admin), "{status:?}");
        }
    }
}
