//! Chats and their event log.
//!
//! The `chats` row is the current state (what snapshots read); `chat_events` is the ordered
//! history (what resumes read). This module only reads them: the statements that write them
//! are private to [`crate::chat`] (`chat/sql.rs`), so nothing else can change a chat.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use switchboard_shared::{
    ChatEvent, ChatId, ChatStatus, ChatSummary, Mode, OperatorId, OperatorRef, Page, VisitorId,
};

use crate::error::Error;

/// A `chats` row as the wire type.
pub(crate) fn summary(row: &AnyRow) -> Result<ChatSummary, Error> {
    let status: String = row.try_get("status")?;
    let mode: String = row.try_get("mode")?;
    let page_url: Option<String> = row.try_get("page_url")?;
    let operator_id: Option<i64> = row.try_get("operator_id")?;
    let operator_name: Option<String> = row.try_get("operator_name")?;
    Ok(ChatSummary {
        id: ChatId(row.try_get("id")?),
        visitor_id: VisitorId(row.try_get("visitor_id")?),
        visitor_name: row.try_get("visitor_name")?,
        mode: Mode::parse(&mode).ok_or_else(|| Error::Internal(format!("bad mode {mode}")))?,
        status: ChatStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("bad status {status}")))?,
        page: page_url.map(|url| Page {
            url,
            title: row.try_get("page_title").ok().flatten(),
        }),
        operator: match (operator_id, operator_name) {
            (Some(id), Some(name)) => Some(OperatorRef {
                id: OperatorId(id),
                name,
            }),
            _ => None,
        },
        created_at: row.try_get("created_at")?,
        accepted_at: row.try_get("accepted_at")?,
        ended_at: row.try_get("ended_at")?,
        last_seq: row.try_get("last_seq")?,
    })
}

/// A `chat_events` row as the wire type.
pub(crate) fn event(row: &AnyRow) -> Result<ChatEvent, Error> {
    let status: String = row.try_get("status")?;
    let body: String = row.try_get("body")?;
    Ok(ChatEvent {
        chat_id: ChatId(row.try_get("chat_id")?),
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        status: ChatStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("bad status {status}")))?,
        kind: serde_json::from_str(&body)?,
    })
}

/// One chat, read from a pool.
pub async fn get_from<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    id: ChatId,
) -> Result<Option<ChatSummary>, Error> {
    let row = sqlx::query("select * from chats where id = $1")
        .bind(id.0)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(summary).transpose()
}

/// The event stored for a client id, if that message was stored before (a retry).
pub async fn by_client_id<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    chat: ChatId,
    client_id: &str,
) -> Result<Option<ChatEvent>, Error> {
    let row = sqlx::query(
        "select chat_id, seq, at, status, body from chat_events \
         where chat_id = $1 and client_id = $2",
    )
    .bind(chat.0)
    .bind(client_id)
    .fetch_optional(exec)
    .await?;
    row.as_ref().map(event).transpose()
}

/// A chat's events after `after`, in order, at most `limit`.
pub async fn events_after<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    chat: ChatId,
    after: i64,
    limit: i64,
) -> Result<Vec<ChatEvent>, Error> {
    let rows = sqlx::query(
        "select chat_id, seq, at, status, body from chat_events \
         where chat_id = $1 and seq > $2 order by seq limit $3",
    )
    .bind(chat.0)
    .bind(after)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter().map(event).collect()
}

/// A chat's latest call milestone (invited, started, connected, ended), if it had a call.
pub async fn last_call_event<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    chat: ChatId,
) -> Result<Option<ChatEvent>, Error> {
    let row = sqlx::query(
        "select chat_id, seq, at, status, body from chat_events where chat_id = $1 \
         and kind in ('call_invited', 'call_started', 'call_connected', 'call_ended') \
         order by seq desc limit 1",
    )
    .bind(chat.0)
    .fetch_optional(exec)
    .await?;
    row.as_ref().map(event).transpose()
}

/// The visitor's most recent chat.
pub async fn latest_for_visitor<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    visitor: VisitorId,
) -> Result<Option<ChatSummary>, Error> {
    let row = sqlx::query("select * from chats where visitor_id = $1 order by id desc limit 1")
        .bind(visitor.0)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(summary).transpose()
}

/// Chats in the given status, oldest first.
pub async fn with_status<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    status: ChatStatus,
) -> Result<Vec<ChatSummary>, Error> {
    let rows = sqlx::query("select * from chats where status = $1 order by created_at, id")
        .bind(status.as_str())
        .fetch_all(exec)
        .await?;
    rows.iter().map(summary).collect()
}

/// Waiting chats this operator has not declined, oldest first.
pub async fn requests_for<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    operator: OperatorId,
) -> Result<Vec<ChatSummary>, Error> {
    let rows = sqlx::query(
        "select * from chats c where c.status = 'waiting' and not exists \
         (select 1 from chat_declines d where d.chat_id = c.id and d.operator_id = $1) \
         order by c.created_at, c.id",
    )
    .bind(operator.0)
    .fetch_all(exec)
    .await?;
    rows.iter().map(summary).collect()
}

/// The operator's active and on-hold chats.
pub async fn open_for_operator<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    operator: OperatorId,
) -> Result<Vec<ChatSummary>, Error> {
    let rows = sqlx::query(
        "select * from chats where operator_id = $1 and status in ('active', 'on_hold') \
         order by id",
    )
    .bind(operator.0)
    .fetch_all(exec)
    .await?;
    rows.iter().map(summary).collect()
}

/// How many active chats the operator leads right now (chats on hold do not count: holding
/// one is how an operator takes another).
pub async fn count_active_for_operator<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    operator: OperatorId,
) -> Result<i64, Error> {
    Ok(
        sqlx::query("select count(*) from chats where operator_id = $1 and status = 'active'")
            .bind(operator.0)
            .fetch_one(exec)
            .await?
            .try_get(0)?,
    )
}

/// Available operators who have not declined this chat.
pub async fn undeclined_available<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    chat: ChatId,
) -> Result<i64, Error> {
    Ok(sqlx::query(
        "select count(*) from operators o where o.available = 1 and not exists \
         (select 1 from chat_declines d where d.chat_id = $1 and d.operator_id = o.id)",
    )
    .bind(chat.0)
    .fetch_one(exec)
    .await?
    .try_get(0)?)
}

/// Waiting chats requested before `cutoff` (their ring has timed out).
pub async fn waiting_since_before<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    cutoff: i64,
) -> Result<Vec<ChatId>, Error> {
    let rows = sqlx::query(
        "select id from chats where status = 'waiting' and created_at < $1 order by id",
    )
    .bind(cutoff)
    .fetch_all(exec)
    .await?;
    rows.iter().map(|r| Ok(ChatId(r.try_get(0)?))).collect()
}

/// Waiting and queued chats in line order, with their visitors (for queue positions).
pub async fn line<'c, E: Executor<'c, Database = Any>>(
    exec: E,
) -> Result<Vec<(ChatId, VisitorId)>, Error> {
    let rows = sqlx::query(
        "select id, visitor_id from chats where status in ('waiting', 'queued') \
         order by created_at, id",
    )
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| Ok((ChatId(r.try_get(0)?), VisitorId(r.try_get(1)?))))
        .collect()
}

/// A visitor's chats, newest first.
pub async fn for_visitor<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    visitor: VisitorId,
    limit: i64,
) -> Result<Vec<ChatSummary>, Error> {
    let rows = sqlx::query("select * from chats where visitor_id = $1 order by id desc limit $2")
        .bind(visitor.0)
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.iter().map(summary).collect()
}

/// Ended and missed chats, newest first: an operator's own (`operator`), or everyone's
/// (`None`); before the chat `before`; whose visitor name or a message matches `search`
/// (case-insensitive, anywhere in the text).
pub async fn history(
    store: &super::Store,
    operator: Option<OperatorId>,
    before: Option<ChatId>,
    search: &str,
    limit: i64,
) -> Result<Vec<ChatSummary>, Error> {
    let pattern = match search.trim() {
        "" => String::new(),
        q => {
            let escaped = q
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        }
    };
    // A message's text inside its JSON body: each database has its own way to read it.
    let sql = match store.backend {
        super::Backend::Sqlite => HISTORY_SQLITE,
        super::Backend::Postgres => HISTORY_POSTGRES,
    };
    let rows = sqlx::query(sql)
        .bind(operator.map_or(0, |o| o.0))
        .bind(before.map_or(0, |c| c.0))
        .bind(pattern)
        .bind(limit)
        .fetch_all(&store.read)
        .await?;
    rows.iter().map(summary).collect()
}

const HISTORY_SQLITE: &str = "select * from chats c where c.status in ('ended', 'missed') \
     and ($1 = 0 or c.operator_id = $1) and ($2 = 0 or c.id < $2) \
     and ($3 = '' or lower(coalesce(c.visitor_name, '')) like $3 escape '\\' \
       or exists (select 1 from chat_events e where e.chat_id = c.id \
         and e.client_id is not null \
         and lower(json_extract(e.body, '$.text')) like $3 escape '\\')) \
     order by c.id desc limit $4";

const HISTORY_POSTGRES: &str = "select * from chats c where c.status in ('ended', 'missed') \
     and ($1 = 0 or c.operator_id = $1) and ($2 = 0 or c.id < $2) \
     and ($3 = '' or lower(coalesce(c.visitor_name, '')) like $3 escape '\\' \
       or exists (select 1 from chat_events e where e.chat_id = c.id \
         and e.client_id is not null \
         and lower(e.body::json ->> 'text') like $3 escape '\\')) \
     order by c.id desc limit $4";
