//! The statements that write chats: private to [`crate::chat`], so the compiler checks that
//! nothing else changes a chat. Each runs on the writer's connection, inside its transaction
//! (see [`super::writer`]); the operator statements run in [`super::operators`]'s.

use sqlx::AnyConnection;
use switchboard_shared::{
    Author, ChatEvent, ChatEventKind, ChatId, ChatSummary, EndReason, Mode, OperatorId,
    OperatorRef, Page, VisitorId,
};

use crate::error::Error;
use crate::store::Backend;
use crate::store::chats::summary;

/// The chats of `ids` (sorted) that exist, in one statement. On PostgreSQL their rows are
/// locked (`for update`, in id order): another node may act on the same chats. SQLite has a
/// single writer already.
pub(super) async fn get_all(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[ChatId],
) -> Result<Vec<ChatSummary>, Error> {
    let sql = match backend {
        Backend::Sqlite => "select * from chats where id in (select value from json_each($1))",
        Backend::Postgres => {
            "select * from chats where id in \
             (select json_array_elements_text($1::json)::bigint) order by id for update"
        }
    };
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let rows = sqlx::query(sql)
        .bind(serde_json::to_string(&ids)?)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(summary).collect()
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

/// Writes the chats' current state back, each with the end reason of an ending, in one
/// statement.
pub(super) async fn update_all(
    conn: &mut AnyConnection,
    backend: Backend,
    chats: &[(&ChatSummary, Option<EndReason>)],
) -> Result<(), Error> {
    let sql = match backend {
        Backend::Sqlite => {
            "update chats set status = u.value ->> 1, operator_id = u.value ->> 2, \
             operator_name = u.value ->> 3, accepted_at = u.value ->> 4, \
             ended_at = u.value ->> 5, end_reason = coalesce(u.value ->> 6, chats.end_reason), \
             last_seq = u.value ->> 7, visitor_name = u.value ->> 8, mode = u.value ->> 9 \
             from json_each($1) as u where chats.id = u.value ->> 0"
        }
        Backend::Postgres => {
            "update chats as c set status = u ->> 1, operator_id = (u ->> 2)::bigint, \
             operator_name = u ->> 3, accepted_at = (u ->> 4)::bigint, \
             ended_at = (u ->> 5)::bigint, end_reason = coalesce(u ->> 6, c.end_reason), \
             last_seq = (u ->> 7)::bigint, visitor_name = u ->> 8, mode = u ->> 9 \
             from json_array_elements($1::json) as u where c.id = (u ->> 0)::bigint"
        }
    };
    let rows: Vec<_> = chats
        .iter()
        .map(|(chat, end_reason)| {
            (
                chat.id.0,
                chat.status.as_str(),
                chat.operator.as_ref().map(|o| o.id.0),
                chat.operator.as_ref().map(|o| o.name.as_str()),
                chat.accepted_at,
                chat.ended_at,
                end_reason.map(end_reason_str),
                chat.last_seq,
                chat.visitor_name.as_deref(),
                chat.mode.as_str(),
            )
        })
        .collect();
    sqlx::query(sql)
        .bind(serde_json::to_string(&rows)?)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn end_reason_str(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Visitor => "visitor",
        EndReason::Operator => "operator",
        EndReason::NoOperator => "no_operator",
        EndReason::Declined => "declined",
    }
}

/// Appends events to the chats' logs in one statement, each with a message's client key; a
/// client key stored before is skipped. Returns how many were stored: fewer than given means a
/// message was a retry.
pub(super) async fn append_all(
    conn: &mut AnyConnection,
    backend: Backend,
    events: &[(ChatEvent, Option<String>)],
) -> Result<usize, Error> {
    let sql = match backend {
        Backend::Sqlite => {
            "insert into chat_events (chat_id, seq, at, status, body, client_id, kind, author, \
             operator_id) select value ->> 0, value ->> 1, value ->> 2, value ->> 3, \
             value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8 \
             from json_each($1) where true \
             on conflict (chat_id, client_id) where client_id is not null do nothing"
        }
        Backend::Postgres => {
            "insert into chat_events (chat_id, seq, at, status, body, client_id, kind, author, \
             operator_id) select (e ->> 0)::bigint, (e ->> 1)::bigint, (e ->> 2)::bigint, \
             e ->> 3, e ->> 4, e ->> 5, e ->> 6, e ->> 7, (e ->> 8)::bigint \
             from json_array_elements($1::json) as e \
             on conflict (chat_id, client_id) where client_id is not null do nothing"
        }
    };
    let mut rows = Vec::with_capacity(events.len());
    for (event, client_key) in events {
        let (kind, author, operator) = columns(&event.kind);
        rows.push((
            event.chat_id.0,
            event.seq,
            event.at,
            event.status.as_str(),
            serde_json::to_string(&event.kind)?,
            client_key.as_deref(),
            kind,
            author,
            operator,
        ));
    }
    let n = sqlx::query(sql)
        .bind(serde_json::to_string(&rows)?)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n as usize)
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
