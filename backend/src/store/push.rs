//! Push devices, the push outbox, the attempt log and notification action tokens.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
use switchboard_shared::{
    ChatId, ChatStatus, DeviceId, OperatorId, PushAttempt, PushDevice, PushPlatform,
};

use crate::error::Error;

/// The last six characters of a device token: all of it that ever leaves the server.
pub fn token_tail(token: &str) -> String {
    let start = token.char_indices().rev().nth(5).map_or(0, |(i, _)| i);
    token[start..].to_owned()
}

/// `text` with every occurrence of the device token replaced by its tail.
pub fn redact_token(text: &str, token: &str) -> String {
    if token.is_empty() {
        return text.to_owned();
    }
    text.replace(token, &format!("…{}", token_tail(token)))
}

fn device(row: &AnyRow) -> Result<PushDevice, Error> {
    let platform: String = row.try_get("platform")?;
    let token: String = row.try_get("token")?;
    let tail = token_tail(&token);
    Ok(PushDevice {
        id: DeviceId(row.try_get("id")?),
        operator_id: OperatorId(row.try_get("operator_id")?),
        platform: PushPlatform::parse(&platform)
            .ok_or_else(|| Error::Internal(format!("bad platform {platform}")))?,
        token_tail: tail,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
        disabled_reason: row.try_get("disabled_reason")?,
    })
}

/// Registers a device token for an operator (re-enabling it, moving it from another operator
/// if it was theirs, and dropping the token it replaces).
pub async fn register(
    pool: &AnyPool,
    operator: OperatorId,
    platform: PushPlatform,
    token: &str,
    name: Option<&str>,
    replaces: Option<&str>,
    now: i64,
) -> Result<PushDevice, Error> {
    let mut tx = pool.begin().await?;
    if let Some(old) = replaces.filter(|old| *old != token) {
        sqlx::query(
            "delete from push_devices where platform = $1 and token = $2 and operator_id = $3",
        )
        .bind(platform.as_str())
        .bind(old)
        .bind(operator.0)
        .execute(&mut *tx)
        .await?;
    }
    let row = sqlx::query(
        "insert into push_devices (operator_id, platform, token, name, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $5) \
         on conflict (platform, token) do update set operator_id = excluded.operator_id, \
           name = coalesce(excluded.name, push_devices.name), updated_at = excluded.updated_at, \
           disabled_at = null, disabled_reason = null \
         returning *",
    )
    .bind(operator.0)
    .bind(platform.as_str())
    .bind(token)
    .bind(name)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    device(&row)
}

/// An operator's devices.
pub async fn devices_of(pool: &AnyPool, operator: OperatorId) -> Result<Vec<PushDevice>, Error> {
    let rows = sqlx::query("select * from push_devices where operator_id = $1 order by id")
        .bind(operator.0)
        .fetch_all(pool)
        .await?;
    rows.iter().map(device).collect()
}

/// Removes one of an operator's devices; false when they have no such device.
pub async fn remove(pool: &AnyPool, operator: OperatorId, id: DeviceId) -> Result<bool, Error> {
    let n = sqlx::query("delete from push_devices where id = $1 and operator_id = $2")
        .bind(id.0)
        .bind(operator.0)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// A device that can be pushed to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The device.
    pub device: DeviceId,
    /// Its operator.
    pub operator: OperatorId,
    /// APNs or FCM.
    pub platform: PushPlatform,
    /// Its token.
    pub token: String,
}

fn target(row: &AnyRow) -> Result<Target, Error> {
    let platform: String = row.try_get("platform")?;
    Ok(Target {
        device: DeviceId(row.try_get("id")?),
        operator: OperatorId(row.try_get("operator_id")?),
        platform: PushPlatform::parse(&platform)
            .ok_or_else(|| Error::Internal(format!("bad platform {platform}")))?,
        token: row.try_get("token")?,
    })
}

/// A device that may be rung for a chat.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The device.
    pub target: Target,
    /// Its operator's ring group.
    pub group: u32,
}

/// The enabled devices of every available operator who has not declined this chat.
pub async fn ring_targets(pool: &AnyPool, chat: ChatId) -> Result<Vec<Candidate>, Error> {
    let rows = sqlx::query(
        "select d.id, d.operator_id, d.platform, d.token, o.ring_group \
         from push_devices d join operators o on o.id = d.operator_id \
         where o.available = 1 and d.disabled_at is null and not exists \
           (select 1 from chat_declines c where c.chat_id = $1 and c.operator_id = d.operator_id) \
         order by d.id",
    )
    .bind(chat.0)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Candidate {
                target: target(row)?,
                group: super::operators::ring_group(row)?,
            })
        })
        .collect()
}

/// The ring groups of the available operators who have not declined this chat, in the order
/// they ring.
pub async fn ring_groups(pool: &AnyPool, chat: ChatId) -> Result<Vec<u32>, Error> {
    let rows = sqlx::query(
        "select distinct o.ring_group from operators o where o.available = 1 and not exists \
           (select 1 from chat_declines c where c.chat_id = $1 and c.operator_id = o.id) \
         order by o.ring_group",
    )
    .bind(chat.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(super::operators::ring_group).collect()
}

/// The devices rung for this chat so far (read inside the ringing transaction, so two rings
/// deciding at once cannot both pick a device).
pub async fn rung_devices(conn: &mut AnyConnection, chat: ChatId) -> Result<Vec<DeviceId>, Error> {
    let rows = sqlx::query(
        "select distinct device_id from push_outbox where chat_id = $1 and kind = 'ring'",
    )
    .bind(chat.0)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok(DeviceId(row.try_get(0)?)))
        .collect()
}

/// Whether the chat still rings, read inside the transaction that is about to ring it. On
/// PostgreSQL the row is locked until that transaction ends, so an accept committing meanwhile
/// waits and its clear then sees the new rings.
pub async fn still_ringing(
    conn: &mut AnyConnection,
    chat: ChatId,
    postgres: bool,
) -> Result<bool, Error> {
    let sql = if postgres {
        "select status from chats where id = $1 for update"
    } else {
        "select status from chats where id = $1"
    };
    let row = sqlx::query(sql).bind(chat.0).fetch_optional(conn).await?;
    Ok(match row {
        Some(row) => row.try_get::<String, _>(0)? == ChatStatus::Waiting.as_str(),
        None => false,
    })
}

/// The devices rung for this chat and not cleared since (optionally one operator's only).
pub async fn rung_targets(
    pool: &AnyPool,
    chat: ChatId,
    operator: Option<OperatorId>,
) -> Result<Vec<Target>, Error> {
    let rows = sqlx::query(
        "select distinct d.id, d.operator_id, d.platform, d.token from push_outbox p \
         join push_devices d on d.id = p.device_id \
         where p.chat_id = $1 and p.kind = 'ring' and d.disabled_at is null \
           and ($2 = 0 or d.operator_id = $2) \
           and not exists (select 1 from push_outbox c where c.chat_id = p.chat_id \
             and c.device_id = p.device_id and c.kind = 'clear' and c.id > p.id) \
         order by d.id",
    )
    .bind(chat.0)
    .bind(operator.map(|o| o.0).unwrap_or(0))
    .fetch_all(pool)
    .await?;
    rows.iter().map(target).collect()
}

/// Writes a push to the outbox (before anything is sent).
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    target: &Target,
    chat: ChatId,
    kind: &str,
    message: &str,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "insert into push_outbox (device_id, platform, token, chat_id, kind, message, attempts, \
         next_attempt_at, created_at) values ($1, $2, $3, $4, $5, $6, 0, $7, $7)",
    )
    .bind(target.device.0)
    .bind(target.platform.as_str())
    .bind(target.token.as_str())
    .bind(chat.0)
    .bind(kind)
    .bind(message)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Settles the rings of a chat that are not delivered yet, first tries and retries alike: the
/// request is gone, so a ring would only wake a phone for nothing.
pub async fn cancel_rings(pool: &AnyPool, chat: ChatId, now: i64) -> Result<u64, Error> {
    Ok(sqlx::query(
        "update push_outbox set done_at = $2, result = 'cancelled: the request is gone' \
         where chat_id = $1 and kind = 'ring' and done_at is null",
    )
    .bind(chat.0)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Settles the rings not delivered yet to an operator's devices (they went Not Available).
pub async fn cancel_rings_of(pool: &AnyPool, operator: OperatorId, now: i64) -> Result<u64, Error> {
    Ok(sqlx::query(
        "update push_outbox set done_at = $2, result = 'cancelled: Live Help Not Available' \
         where kind = 'ring' and done_at is null and device_id in \
           (select id from push_devices where operator_id = $1)",
    )
    .bind(operator.0)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected())
}

/// A push due to be sent.
#[derive(Debug, Clone)]
pub struct Due {
    /// Outbox row.
    pub id: i64,
    /// The device.
    pub device: DeviceId,
    /// APNs or FCM.
    pub platform: PushPlatform,
    /// The device token.
    pub token: String,
    /// The chat.
    pub chat: ChatId,
    /// `ring` or `clear`.
    pub kind: String,
    /// The message JSON, sealed (it holds an action token).
    pub message: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// Claims up to `limit` due pushes in one statement: each is leased for `lease_ms`, so
/// another worker (another node) does not send it too, and a worker that dies mid-send has
/// it sent again once the lease is over.
pub async fn claim_due(
    pool: &AnyPool,
    postgres: bool,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Due>, Error> {
    let sql = if postgres {
        "update push_outbox set next_attempt_at = $3 where id in (select id from push_outbox \
         where done_at is null and next_attempt_at <= $1 order by id limit $2 \
         for update skip locked) \
         returning id, device_id, platform, token, chat_id, kind, message, attempts"
    } else {
        "update push_outbox set next_attempt_at = $3 where id in (select id from push_outbox \
         where done_at is null and next_attempt_at <= $1 order by id limit $2) \
         returning id, device_id, platform, token, chat_id, kind, message, attempts"
    };
    let rows = sqlx::query(sql)
        .bind(now)
        .bind(limit)
        .bind(now + lease_ms)
        .fetch_all(pool)
        .await?;
    let mut due: Vec<Due> = rows
        .iter()
        .map(|row| {
            let platform: String = row.try_get("platform")?;
            Ok(Due {
                id: row.try_get("id")?,
                device: DeviceId(row.try_get("device_id")?),
                platform: PushPlatform::parse(&platform)
                    .ok_or_else(|| Error::Internal(format!("bad platform {platform}")))?,
                token: row.try_get("token")?,
                chat: ChatId(row.try_get("chat_id")?),
                kind: row.try_get("kind")?,
                message: row.try_get("message")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .collect::<Result<_, Error>>()?;
    due.sort_by_key(|d| d.id);
    Ok(due)
}

/// What to do with an outbox row after an attempt.
#[derive(Debug, Clone)]
pub enum Next {
    /// Settled with this result.
    Settle(String),
    /// Settled, and the device's token is dead.
    SettleAndDisable(String),
    /// Try again at this time.
    RetryAt(i64),
}

/// One attempt's outcome, to record.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The push.
    pub due: Due,
    /// When the attempt started (unix ms).
    pub at: i64,
    /// How long the provider took.
    pub latency_ms: i64,
    /// Its HTTP status (0: none).
    pub status: u16,
    /// `delivered`, `retry: …`, …
    pub result: String,
    /// What happens next.
    pub next: Next,
}

/// Records a batch of attempts in one transaction: the log, the outbox rows, dead devices.
pub async fn record(pool: &AnyPool, outcomes: &[Outcome], now: i64) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    for o in outcomes {
        let d = &o.due;
        sqlx::query(
            "insert into push_attempts (outbox_id, device_id, chat_id, kind, at, latency_ms, \
             status, result) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(d.id)
        .bind(d.device.0)
        .bind(d.chat.0)
        .bind(d.kind.as_str())
        .bind(o.at)
        .bind(o.latency_ms)
        .bind(i64::from(o.status))
        .bind(o.result.as_str())
        .execute(&mut *tx)
        .await?;
        match &o.next {
            Next::Settle(result) | Next::SettleAndDisable(result) => {
                sqlx::query(
                    "update push_outbox set done_at = $2, result = $3, attempts = $4 where id = $1",
                )
                .bind(d.id)
                .bind(now)
                .bind(result.as_str())
                .bind(d.attempts + 1)
                .execute(&mut *tx)
                .await?;
            }
            Next::RetryAt(at) => {
                sqlx::query(
                    "update push_outbox set attempts = $2, next_attempt_at = $3 where id = $1",
                )
                .bind(d.id)
                .bind(d.attempts + 1)
                .bind(*at)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Next::SettleAndDisable(reason) = &o.next {
            sqlx::query(
                "update push_devices set disabled_at = $2, disabled_reason = $3 where id = $1 \
                 and disabled_at is null",
            )
            .bind(d.device.0)
            .bind(now)
            .bind(reason.as_str())
            .execute(&mut *tx)
            .await?;
            // Nothing more goes to a dead token.
            sqlx::query(
                "update push_outbox set done_at = $2, result = 'skipped: device disabled' \
                 where device_id = $1 and done_at is null",
            )
            .bind(d.device.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Logged attempts, newest first, for a chat and/or a device.
pub async fn attempts(
    pool: &AnyPool,
    chat: Option<ChatId>,
    device: Option<DeviceId>,
    limit: i64,
) -> Result<Vec<PushAttempt>, Error> {
    let rows = sqlx::query(
        "select chat_id, device_id, kind, at, latency_ms, status, result from push_attempts \
         where ($1 = 0 or chat_id = $1) and ($2 = 0 or device_id = $2) order by id desc limit $3",
    )
    .bind(chat.map(|c| c.0).unwrap_or(0))
    .bind(device.map(|d| d.0).unwrap_or(0))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PushAttempt {
                chat_id: ChatId(r.try_get("chat_id")?),
                device_id: DeviceId(r.try_get("device_id")?),
                kind: r.try_get("kind")?,
                at: r.try_get("at")?,
                latency_ms: r.try_get("latency_ms")?,
                status: r.try_get("status")?,
                result: r.try_get("result")?,
            })
        })
        .collect()
}

/// Stores an action token (hashed).
pub async fn add_action_token(
    conn: &mut sqlx::AnyConnection,
    token_hash: &str,
    operator: OperatorId,
    chat: ChatId,
    expires_at: i64,
) -> Result<(), Error> {
    sqlx::query(
        "insert into push_action_tokens (token_hash, operator_id, chat_id, expires_at) \
         values ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(operator.0)
    .bind(chat.0)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What became of an action token presented by a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionToken {
    /// Valid, and now used: act as this operator on this chat.
    Valid(OperatorId, ChatId),
    /// No such token.
    Unknown,
    /// Too late.
    Expired,
    /// Already used.
    Used,
}

/// Uses an action token: atomically, so it works once.
pub async fn use_action_token(
    pool: &AnyPool,
    token_hash: &str,
    now: i64,
) -> Result<ActionToken, Error> {
    let row = sqlx::query(
        "update push_action_tokens set used_at = $2 where token_hash = $1 and used_at is null \
         and expires_at > $2 returning operator_id, chat_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    if let Some(row) = row {
        return Ok(ActionToken::Valid(
            OperatorId(row.try_get(0)?),
            ChatId(row.try_get(1)?),
        ));
    }
    let row =
        sqlx::query("select expires_at, used_at from push_action_tokens where token_hash = $1")
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        None => ActionToken::Unknown,
        Some(r) if r.try_get::<Option<i64>, _>("used_at")?.is_some() => ActionToken::Used,
        Some(_) => ActionToken::Expired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_tokens_tail_is_shown() {
        assert_eq!(token_tail("a1b2c3d4e5f6"), "d4e5f6");
        assert_eq!(token_tail("abc"), "abc");
        assert_eq!(token_tail("ééééééé"), "éééééé");
        let token = "0123456789abcdef";
        let said = format!("error sending request for url (http://127.0.0.1:9/3/device/{token})");
        let shown = redact_token(&said, token);
        assert!(!shown.contains(token), "{shown}");
        assert!(shown.ends_with("/3/device/…abcdef)"), "{shown}");
        assert_eq!(redact_token("no token here", ""), "no token here");
    }
}
