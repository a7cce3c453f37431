//! The statements that write chats: private to [`crate::chat`], so the compiler checks that
//! nothing else changes a chat. Each runs on the writer's connection, inside its transaction
//! (see [`super::writer`]); the operator statements run in [`super::operators`]'s.

use sqlx::AnyConnection;
use switchboard_shared::{
    Author, ChatEvent, ChatEventKind, ChatId, ChatSummary, EndReason, Mode, OperatorId,
    OperatorRef, Page, VisitorId,
};

use crate::error::Error;
use crate::store::chats::summary;

/// One chat. `lock` takes a row lock on PostgreSQL (another node may act on the same chat);
/// SQLite has a single writer already.
pub(super) async fn get(
    conn: &mut AnyConnection,
    id: ChatId,
    lock: bool,
) -> Result<Option<ChatSummary>, Error> {
    let sql = if lock {
        "select * from chats where id = $1 for update"
    } else {
        "select * from chats where id = $1"
    };
    let row = sqlx::query(sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(summary).transpose()
}

/// Inserts a new waiting chat (with `last_seq` 0: the caller appends `requested`).
pub(super) async fn insert(
    conn: &mut AnyConnection,
    visitor: VisitorId,
    name: Option<&str>,
    mode: Mode,
    page: Option<&Page>,
    now: i64,
) -> Result<ChatSummary, Error> {
    let row = sqlx::query(
        "insert into chats (visitor_id, visitor_name, mode, status, page_url, page_title, \
         created_at, last_seq) values ($1, $2, $3, 'waiting', $4, $5, $6, 0) returning *",
    )
    .bind(visitor.0)
    .bind(name)
    .bind(mode.as_str())
    .bind(page.map(|p| p.url.clone()))
    .bind(page.and_then(|p| p.title.clone()))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    summary(&row)
}

/// Creates an operator's invitation to a visitor: a chat in `invited`, led by the operator.
pub(super) async fn insert_invited(
    conn: &mut AnyConnection,
    visitor: VisitorId,
    operator: &OperatorRef,
    page: Option<&Page>,
    now: i64,
) -> Result<ChatSummary, Error> {
    let row = sqlx::query(
        "insert into chats (visitor_id, visitor_name, mode, status, page_url, page_title, \
         created_at, last_seq, operator_id, operator_name) \
         values ($1, null, 'text', 'invited', $2, $3, $4, 0, $5, $6) returning *",
    )
    .bind(visitor.0)
    .bind(page.map(|p| p.url.clone()))
    .bind(page.and_then(|p| p.title.clone()))
    .bind(now)
    .bind(operator.id.0)
    .bind(operator.name.clone())
    .fetch_one(&mut *conn)
    .await?;
    summary(&row)
}

/// Sets the name and mode the visitor chose when answering an invitation.
pub(super) async fn set_name_and_mode(
    conn: &mut AnyConnection,
    chat: &ChatSummary,
) -> Result<(), Error> {
    sqlx::query("update chats set visitor_name = $2, mode = $3 where id = $1")
        .bind(chat.id.0)
        .bind(chat.visitor_name.clone())
        .bind(chat.mode.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes the chat's current state back (after a transition).
pub(super) async fn update(
    conn: &mut AnyConnection,
    chat: &ChatSummary,
    end_reason: Option<EndReason>,
) -> Result<(), Error> {
    let end_reason = end_reason.map(|reason| match reason {
        EndReason::Visitor => "visitor",
        EndReason::Operator => "operator",
        EndReason::NoOperator => "no_operator",
        EndReason::Declined => "declined",
    });
    sqlx::query(
        "update chats set status = $2, operator_id = $3, operator_name = $4, accepted_at = $5, \
         ended_at = $6, end_reason = coalesce($7, end_reason), last_seq = $8 where id = $1",
    )
    .bind(chat.id.0)
    .bind(chat.status.as_str())
    .bind(chat.operator.as_ref().map(|o| o.id.0))
    .bind(chat.operator.as_ref().map(|o| o.name.clone()))
    .bind(chat.accepted_at)
    .bind(chat.ended_at)
    .bind(end_reason)
    .bind(chat.last_seq)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends one event to a chat's log.
pub(super) async fn append(
    conn: &mut AnyConnection,
    event: &ChatEvent,
    client_id: Option<&str>,
) -> Result<(), Error> {
    let body = serde_json::to_string(&event.kind)?;
    let (kind, author, operator) = columns(&event.kind);
    sqlx::query(
        "insert into chat_events (chat_id, seq, at, status, body, client_id, kind, author, \
         operator_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(event.chat_id.0)
    .bind(event.seq)
    .bind(event.at)
    .bind(event.status.as_str())
    .bind(body)
    .bind(client_id)
    .bind(kind)
    .bind(author)
    .bind(operator)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What reports count an event by (the `kind`, `author` and `operator_id` columns): its
/// type as tagged in the JSON, a message's author kind, and the operator it names. Migration
/// 0006 fills the same columns from the JSON of older events.
pub(crate) fn columns(kind: &ChatEventKind) -> (&'static str, Option<&'static str>, Option<i64>) {
    use ChatEventKind as K;
    let op = |o: &OperatorRef| Some(o.id.0);
    match kind {
        K::Invited { operator, .. } => ("invited", None, op(operator)),
        K::Requested { .. } => ("requested", None, None),
        K::Message { author, .. } => match author {
            Author::Visitor => ("message", Some("visitor"), None),
            Author::Operator { id, .. } => ("message", Some("operator"), Some(id.0)),
            Author::System => ("message", Some("system"), None),
        },
        K::Accepted { operator } => ("accepted", None, op(operator)),
        K::Declined { operator } => ("declined", None, op(operator)),
        K::Queued { operator } => ("queued", None, op(operator)),
        K::OnHold { operator } => ("on_hold", None, op(operator)),
        K::Resumed { operator } => ("resumed", None, op(operator)),
        K::Ended { .. } => ("ended", None, None),
        K::CallInvited { operator } => ("call_invited", None, op(operator)),
        K::CallStarted { .. } => ("call_started", None, None),
        K::CallConnected { .. } => ("call_connected", None, None),
        K::TranscriptMail { .. } => ("transcript_mail", None, None),
        K::CallEnded { .. } => ("call_ended", None, None),
    }
}

/// Appends a message event unless its client id is stored already (a retry); true when it
/// was stored.
pub(super) async fn append_new(
    conn: &mut AnyConnection,
    event: &ChatEvent,
    client_key: &str,
) -> Result<bool, Error> {
    let body = serde_json::to_string(&event.kind)?;
    let (kind, author, operator) = columns(&event.kind);
    let n = sqlx::query(
        "insert into chat_events (chat_id, seq, at, status, body, client_id, kind, author, \
         operator_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         on conflict (chat_id, client_id) where client_id is not null do nothing",
    )
    .bind(event.chat_id.0)
    .bind(event.seq)
    .bind(event.at)
    .bind(event.status.as_str())
    .bind(body)
    .bind(client_key)
    .bind(kind)
    .bind(author)
    .bind(operator)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Records that an operator passed on a request; false when it had already.
pub(super) async fn decline(
    conn: &mut AnyConnection,
    chat: ChatId,
    operator: OperatorId,
    now: i64,
) -> Result<bool, Error> {
    let n = sqlx::query(
        "insert into chat_declines (chat_id, operator_id, at) values ($1, $2, $3) \
         on conflict do nothing",
    )
    .bind(chat.0)
    .bind(operator.0)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Detaches an operator who is being removed from the chats they led (they keep the name, so
/// history reads the same) and forgets their declines.
pub(super) async fn forget_operator(
    conn: &mut AnyConnection,
    operator: OperatorId,
) -> Result<(), Error> {
    sqlx::query("delete from chat_declines where operator_id = $1")
        .bind(operator.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query("update chats set operator_id = null where operator_id = $1")
        .bind(operator.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::{CallEndReason, CallParty, MailState};

    /// The columns must say what the JSON says, as migration 0006 reads it from the JSON.
    #[test]
    fn columns_match_the_json() {
        let op = OperatorRef {
            id: OperatorId(7),
            name: "Olga".into(),
        };
        let kinds = [
            ChatEventKind::Invited {
                operator: op.clone(),
                text: "Hi".into(),
            },
            ChatEventKind::Requested {
                visitor_id: VisitorId(1),
                name: None,
                mode: Mode::Text,
                page: None,
            },
            ChatEventKind::Message {
                author: Author::Visitor,
                text: "a".into(),
                client_id: None,
            },
            ChatEventKind::Message {
                author: Author::Operator {
                    id: OperatorId(7),
                    name: "Olga".into(),
                },
                text: "b".into(),
                client_id: None,
            },
            ChatEventKind::Message {
                author: Author::System,
                text: "c".into(),
                client_id: None,
            },
            ChatEventKind::Accepted {
                operator: op.clone(),
            },
            ChatEventKind::Declined {
                operator: op.clone(),
            },
            ChatEventKind::Queued {
                operator: op.clone(),
            },
            ChatEventKind::OnHold {
                operator: op.clone(),
            },
            ChatEventKind::Resumed {
                operator: op.clone(),
            },
            ChatEventKind::Ended {
                reason: EndReason::Visitor,
            },
            ChatEventKind::CallInvited {
                operator: op.clone(),
            },
            ChatEventKind::CallStarted {
                by: CallParty::Visitor,
            },
            ChatEventKind::CallConnected { call_id: 3 },
            ChatEventKind::TranscriptMail {
                mail_id: 1,
                by: Author::Visitor,
                to: "a@b.c".into(),
                state: MailState::Queued,
                detail: None,
            },
            ChatEventKind::CallEnded {
                call_id: 3,
                reason: CallEndReason::Hangup,
                by: None,
                duration_ms: None,
            },
        ];
        for kind in kinds {
            let v = serde_json::to_value(&kind).unwrap();
            let (k, author, operator) = columns(&kind);
            assert_eq!(v["type"], k, "{v}");
            assert_eq!(v["author"]["kind"].as_str(), author, "{v}");
            let from_json = v["operator"]["id"].as_i64().or(v["author"]["id"].as_i64());
            assert_eq!(from_json, operator, "{v}");
        }
    }
}
