//! The mail outbox (every mail is a row before it is sent), and what operators did with
//! offline messages (read, answered).

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row};
use switchboard_shared::{ChatId, OfflineMessageId, OperatorId};

use crate::error::Error;

/// A mail to store.
#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    /// `transcript`, `offline`, `offline_copy` or `reply`.
    pub kind: &'a str,
    /// The chat, for a transcript.
    pub chat: Option<ChatId>,
    /// The offline message, for its mails.
    pub offline_message: Option<OfflineMessageId>,
    /// `visitor` or `operator:<id>`.
    pub requested_by: &'a str,
    /// Idempotency key, when the request had one.
    pub request_key: Option<&'a str>,
    /// Where it goes.
    pub to: &'a str,
    /// Counts towards the per-address hourly limit.
    pub limited: bool,
    /// The rendered mail, as JSON.
    pub message: &'a str,
    /// When (unix ms).
    pub now: i64,
}

/// A stored mail, as the worker and the request path read it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Outbox id.
    pub id: i64,
    /// Its kind.
    pub kind: String,
    /// The chat, for a transcript.
    pub chat: Option<ChatId>,
    /// Who asked.
    pub requested_by: String,
    /// Where it goes.
    pub to: String,
    /// The rendered mail, as JSON.
    pub message: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The `seq` of the chat's queued event, once recorded.
    pub queued_seq: Option<i64>,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    /// The server's last answer.
    pub result: Option<String>,
}

const COLUMNS: &str =
    "id, kind, chat_id, requested_by, to_address, message, attempts, queued_seq, state, result";

fn mail(row: &AnyRow) -> Result<Mail, Error> {
    Ok(Mail {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        chat: row.try_get::<Option<i64>, _>("chat_id")?.map(ChatId),
        requested_by: row.try_get("requested_by")?,
        to: row.try_get("to_address")?,
        message: row.try_get("message")?,
        attempts: row.try_get("attempts")?,
        queued_seq: row.try_get("queued_seq")?,
        state: row.try_get("state")?,
        result: row.try_get("result")?,
    })
}

/// Stores a mail, due now (in the caller's transaction, when it has one). With a request key
/// already used, stores nothing and returns the mail stored under it (`false`: not new).
pub async fn insert(conn: &mut AnyConnection, m: &NewMail<'_>) -> Result<(Mail, bool), Error> {
    let sql = format!(
        "insert into mail_outbox (kind, chat_id, offline_message_id, requested_by, request_key, \
         to_address, limited, message, next_attempt_at, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         on conflict (request_key) do nothing returning {COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(m.kind)
        .bind(m.chat.map(|c| c.0))
        .bind(m.offline_message.map(|o| o.0))
        .bind(m.requested_by)
        .bind(m.request_key)
        .bind(m.to)
        .bind(i64::from(m.limited))
        .bind(m.message)
        .bind(m.now)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = row {
        return Ok((mail(&row)?, true));
    }
    let key = m.request_key.unwrap_or_default();
    let earlier = by_request_key(&mut *conn, key)
        .await?
        .ok_or_else(|| Error::Internal("mail request key conflict without a row".into()))?;
    Ok((earlier, false))
}

/// The mail stored under a request key.
pub async fn by_request_key<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    key: &str,
) -> Result<Option<Mail>, Error> {
    let sql = format!("select {COLUMNS} from mail_outbox where request_key = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(mail).transpose()
}

/// Remembers the `seq` of the chat event that says the mail is queued.
pub async fn set_queued_seq(pool: &AnyPool, id: i64, seq: i64) -> Result<(), Error> {
    sqlx::query("update mail_outbox set queued_seq = $2 where id = $1")
        .bind(id)
        .bind(seq)
        .execute(pool)
        .await?;
    Ok(())
}

/// Rate-limited mails to `address` since `since` (unix ms).
pub async fn count_to_address(pool: &AnyPool, address: &str, since: i64) -> Result<i64, Error> {
    let row = sqlx::query(
        "select count(*) from mail_outbox where to_address = $1 and created_at >= $2 \
         and limited = 1",
    )
    .bind(address)
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get(0)?)
}

/// Transcripts of a chat its visitor asked for.
pub async fn count_visitor_transcripts(pool: &AnyPool, chat: ChatId) -> Result<i64, Error> {
    let row = sqlx::query(
        "select count(*) from mail_outbox where chat_id = $1 and kind = 'transcript' \
         and requested_by = 'visitor'",
    )
    .bind(chat.0)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get(0)?)
}

/// Claims up to `limit` due mails for `lease_ms` (another worker, on this node or another,
/// skips them meanwhile), oldest first.
pub async fn claim_due(
    pool: &AnyPool,
    postgres: bool,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Mail>, Error> {
    let lock = if postgres {
        " for update skip locked"
    } else {
        ""
    };
    let sql = format!(
        "update mail_outbox set next_attempt_at = $3 where id in (select id from mail_outbox \
         where done_at is null and next_attempt_at <= $1 order by id limit $2{lock}) \
         returning {COLUMNS}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(limit)
        .bind(now + lease_ms)
        .fetch_all(pool)
        .await?;
    let mut due = rows.iter().map(mail).collect::<Result<Vec<_>, _>>()?;
    due.sort_by_key(|m| m.id);
    Ok(due)
}

/// Frees claimed mails that were not sent (the server stops): due again at once.
pub async fn release(pool: &AnyPool, ids: &[i64]) -> Result<u64, Error> {
    let mut released = 0;
    for id in ids {
        released += sqlx::query(
            "update mail_outbox set next_attempt_at = 0 where id = $1 and done_at is null",
        )
        .bind(*id)
        .execute(pool)
        .await?
        .rows_affected();
    }
    Ok(released)
}

/// Settles a mail: `sent` or `failed`, with the server's answer.
pub async fn settle(
    pool: &AnyPool,
    id: i64,
    state: &str,
    result: &str,
    attempts: i64,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "update mail_outbox set done_at = $2, state = $3, result = $4, attempts = $5 \
         where id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(state)
    .bind(result)
    .bind(attempts)
    .execute(pool)
    .await?;
    Ok(())
}

/// Schedules another attempt, keeping the last answer.
pub async fn retry_at(
    pool: &AnyPool,
    id: i64,
    attempts: i64,
    at: i64,
    result: &str,
) -> Result<(), Error> {
    sqlx::query(
        "update mail_outbox set attempts = $2, next_attempt_at = $3, result = $4 where id = $1",
    )
    .bind(id)
    .bind(attempts)
    .bind(at)
    .bind(result)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks an offline message answered.
pub async fn mark_replied(
    pool: &AnyPool,
    id: OfflineMessageId,
    at: i64,
    by: &str,
) -> Result<(), Error> {
    sqlx::query("update offline_messages set replied_at = $2, replied_by = $3 where id = $1")
        .bind(id.0)
        .bind(at)
        .bind(by)
        .execute(pool)
        .await?;
    Ok(())
}

/// Offline messages newer than the last one this operator has seen.
pub async fn offline_unread(pool: &AnyPool, operator: OperatorId) -> Result<u32, Error> {
    let row = sqlx::query(
        "select count(*) from offline_messages where id > \
         (select offline_read_id from operators where id = $1)",
    )
    .bind(operator.0)
    .fetch_one(pool)
    .await?;
    let n: i64 = row.try_get(0)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The operator has seen the offline messages up to `up_to` (never moves back).
pub async fn offline_read(
    pool: &AnyPool,
    operator: OperatorId,
    up_to: OfflineMessageId,
) -> Result<(), Error> {
    sqlx::query("update operators set offline_read_id = $2 where id = $1 and offline_read_id < $2")
        .bind(operator.0)
        .bind(up_to.0)
        .execute(pool)
        .await?;
    Ok(())
}
