//! Push devices, the push outbox, the attempt log and notification action tokens.

use std::collections::{BTreeSet, HashMap, HashSet};

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

/// A device that may be rung.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The device.
    pub target: Target,
    /// Its operator's ring group.
    pub group: u32,
}

/// Who may be rung for a batch of chats, read in three statements whatever the batch's size:
/// the enabled devices of the available operators, those operators' ring groups, and which of
/// them declined which of the chats.
#[derive(Debug, Clone, Default)]
pub struct Ringable {
    devices: Vec<Candidate>,
    operators: Vec<(OperatorId, u32)>,
    declined: HashSet<(ChatId, OperatorId)>,
}

impl Ringable {
    /// The enabled devices of every available operator who has not declined `chat`, by id.
    pub fn candidates(&self, chat: ChatId) -> impl Iterator<Item = &Candidate> {
        self.devices
            .iter()
            .filter(move |c| !self.declined.contains(&(chat, c.target.operator)))
    }

    /// The ring groups of the available operators who have not declined `chat`, in the order
    /// they ring.
    pub fn groups(&self, chat: ChatId) -> Vec<u32> {
        let groups: BTreeSet<u32> = self
            .operators
            .iter()
            .filter(|(op, _)| !self.declined.contains(&(chat, *op)))
            .map(|(_, group)| *group)
            .collect();
        groups.into_iter().collect()
    }
}

/// `ids` as the one JSON parameter the `in (…)` lists below take (static SQL on both databases,
/// whatever the number of ids).
fn json_ids(ids: &[ChatId]) -> Result<String, Error> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    Ok(serde_json::to_string(&ids)?)
}

/// Who may be rung for `chats` (see [`Ringable`]).
pub async fn ringable(pool: &AnyPool, postgres: bool, chats: &[ChatId]) -> Result<Ringable, Error> {
    let rows = sqlx::query(
        "select d.id, d.operator_id, d.platform, d.token, o.ring_group \
         from push_devices d join operators o on o.id = d.operator_id \
         where o.available = 1 and d.disabled_at is null order by d.id",
    )
    .fetch_all(pool)
    .await?;
    let devices = rows
        .iter()
        .map(|row| {
            Ok(Candidate {
                target: target(row)?,
                group: super::operators::ring_group(row)?,
            })
        })
        .collect::<Result<_, Error>>()?;
    let rows = sqlx::query("select id, ring_group from operators where available = 1")
        .fetch_all(pool)
        .await?;
    let operators = rows
        .iter()
        .map(|row| {
            Ok((
                OperatorId(row.try_get("id")?),
                super::operators::ring_group(row)?,
            ))
        })
        .collect::<Result<_, Error>>()?;
    let sql = if postgres {
        "select chat_id, operator_id from chat_declines where chat_id in \
         (select json_array_elements_text($1::json)::bigint)"
    } else {
        "select chat_id, operator_id from chat_declines where chat_id in \
         (select value from json_each($1))"
    };
    let rows = sqlx::query(sql)
        .bind(json_ids(chats)?)
        .fetch_all(pool)
        .await?;
    let declined = rows
        .iter()
        .map(|row| Ok((ChatId(row.try_get(0)?), OperatorId(row.try_get(1)?))))
        .collect::<Result<_, Error>>()?;
    Ok(Ringable {
        devices,
        operators,
        declined,
    })
}

/// Which of `chats` still ring, read inside the transaction that is about to ring them, and
/// which of them it read. On PostgreSQL their rows are locked until that transaction ends (in
/// id order), so an accept committing meanwhile waits and its clear then sees the new rings;
/// with `skip_locked` the rows another transaction holds are left out (not read, not waited
/// for).
pub async fn ringing(
    conn: &mut AnyConnection,
    postgres: bool,
    skip_locked: bool,
    chats: &[ChatId],
) -> Result<(HashSet<ChatId>, HashSet<ChatId>), Error> {
    let sql = match (postgres, skip_locked) {
        (true, true) => {
            "select id, status from chats where id in \
             (select json_array_elements_text($1::json)::bigint) order by id \
             for update skip locked"
        }
        (true, false) => {
            "select id, status from chats where id in \
             (select json_array_elements_text($1::json)::bigint) order by id for update"
        }
        (false, _) => "select id, status from chats where id in (select value from json_each($1))",
    };
    let rows = sqlx::query(sql)
        .bind(json_ids(chats)?)
        .fetch_all(conn)
        .await?;
    let mut ringing = HashSet::new();
    let mut read = HashSet::new();
    for row in &rows {
        let id = ChatId(row.try_get(0)?);
        if row.try_get::<String, _>(1)? == ChatStatus::Waiting.as_str() {
            ringing.insert(id);
        }
        read.insert(id);
    }
    Ok((ringing, read))
}

/// The devices rung for `chats` so far (read inside the ringing transaction, so two rings
/// deciding at once cannot both pick a device).
pub async fn rung_devices(
    conn: &mut AnyConnection,
    postgres: bool,
    chats: &[ChatId],
) -> Result<HashSet<(ChatId, DeviceId)>, Error> {
    let sql = if postgres {
        "select distinct chat_id, device_id from push_outbox where kind = 'ring' and chat_id in \
         (select json_array_elements_text($1::json)::bigint)"
    } else {
        "select distinct chat_id, device_id from push_outbox where kind = 'ring' and chat_id in \
         (select value from json_each($1))"
    };
    let rows = sqlx::query(sql)
        .bind(json_ids(chats)?)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| Ok((ChatId(row.try_get(0)?), DeviceId(row.try_get(1)?))))
        .collect()
}

/// The devices rung for this chat and not cleared since (optionally one operator's only).
pub async fn rung_targets(
    conn: &mut AnyConnection,
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
    .fetch_all(conn)
    .await?;
    rows.iter().map(target).collect()
}

/// A push to write to the outbox.
#[derive(Debug, Clone)]
pub struct NewPush {
    /// Where it goes.
    pub target: Target,
    /// The chat it is about.
    pub chat: ChatId,
    /// `ring` or `clear`.
    pub kind: &'static str,
    /// The message, sealed.
    pub message: String,
}

/// Writes pushes to the outbox in one statement (before anything is sent), leased until
/// `leased_until` to the node that writes them: it sends them at once, and another node's sweep
/// leaves them alone until then. Returns them as rows to send, in the same order.
pub async fn enqueue(
    conn: &mut AnyConnection,
    postgres: bool,
    pushes: Vec<NewPush>,
    now: i64,
    leased_until: i64,
) -> Result<Vec<Due>, Error> {
    if pushes.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<serde_json::Value> = pushes
        .iter()
        .map(|p| {
            serde_json::json!({
                "device_id": p.target.device.0,
                "platform": p.target.platform.as_str(),
                "token": p.target.token,
                "chat_id": p.chat.0,
                "kind": p.kind,
                "message": p.message,
            })
        })
        .collect();
    let sql = if postgres {
        "insert into push_outbox (device_id, platform, token, chat_id, kind, message, attempts, \
           next_attempt_at, created_at) \
         select (v->>'device_id')::bigint, v->>'platform', v->>'token', (v->>'chat_id')::bigint, \
           v->>'kind', v->>'message', 0, $2, $3 from json_array_elements($1::json) as j(v) \
         returning id, chat_id, device_id, kind"
    } else {
        "insert into push_outbox (device_id, platform, token, chat_id, kind, message, attempts, \
           next_attempt_at, created_at) \
         select value->>'device_id', value->>'platform', value->>'token', value->>'chat_id', \
           value->>'kind', value->>'message', 0, $2, $3 from json_each($1) \
         returning id, chat_id, device_id, kind"
    };
    let returned = sqlx::query(sql)
        .bind(serde_json::to_string(&rows)?)
        .bind(leased_until)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
    // The rows come back in no promised order: match them by what they are. Two pushes alike
    // (the same kind to the same device about the same chat) may swap ids, which changes nothing.
    let mut ids: HashMap<(i64, i64, String), Vec<i64>> = HashMap::new();
    for row in &returned {
        let key = (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        ids.entry(key).or_default().push(row.try_get(0)?);
    }
    pushes
        .into_iter()
        .map(|p| {
            let key = (p.chat.0, p.target.device.0, p.kind.to_owned());
            let id = ids
                .get_mut(&key)
                .and_then(Vec::pop)
                .ok_or_else(|| Error::Internal("an outbox row was not written".into()))?;
            Ok(Due {
                id,
                device: p.target.device,
                platform: p.target.platform,
                token: p.target.token,
                chat: p.chat,
                kind: p.kind.to_owned(),
                message: p.message,
                attempts: 0,
            })
        })
        .collect()
}

/// Settles the rings of a chat that are not delivered yet, first tries and retries alike: the
/// request is gone, so a ring would only wake a phone for nothing. Returns their ids.
pub async fn cancel_rings(
    conn: &mut AnyConnection,
    chat: ChatId,
    now: i64,
) -> Result<Vec<i64>, Error> {
    let rows = sqlx::query(
        "update push_outbox set done_at = $2, result = 'cancelled: the request is gone' \
         where chat_id = $1 and kind = 'ring' and done_at is null returning id",
    )
    .bind(chat.0)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
}

/// Settles the rings not delivered yet to an operator's devices (they went Not Available).
/// Returns their ids.
pub async fn cancel_rings_of(
    conn: &mut AnyConnection,
    operator: OperatorId,
    now: i64,
) -> Result<Vec<i64>, Error> {
    let rows = sqlx::query(
        "update push_outbox set done_at = $2, result = 'cancelled: Live Help Not Available' \
         where kind = 'ring' and done_at is null and device_id in \
           (select id from push_devices where operator_id = $1) returning id",
    )
    .bind(operator.0)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
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

/// When the next push not settled yet is due (its retry time, or the end of its lease).
pub async fn next_due(pool: &AnyPool) -> Result<Option<i64>, Error> {
    let row = sqlx::query("select min(next_attempt_at) from push_outbox where done_at is null")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get(0)?)
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

/// Gives rows back, due at once for any node's sweep: this node took them and stops before
/// sending them. Returns how many were still unsettled.
pub async fn release(pool: &AnyPool, postgres: bool, ids: &[i64], now: i64) -> Result<u64, Error> {
    let sql = if postgres {
        "update push_outbox set next_attempt_at = $2 where done_at is null and id in \
         (select json_array_elements_text($1::json)::bigint)"
    } else {
        "update push_outbox set next_attempt_at = $2 where done_at is null and id in \
         (select value from json_each($1))"
    };
    let done = sqlx::query(sql)
        .bind(serde_json::to_string(ids)?)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
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

/// Records a batch of attempts in one transaction, in three statements whatever its size
/// (and two more for each dead device): the log, the rows settled, the retries scheduled.
pub async fn record(
    pool: &AnyPool,
    postgres: bool,
    outcomes: &[Outcome],
    now: i64,
) -> Result<(), Error> {
    let mut attempts = Vec::with_capacity(outcomes.len());
    let mut settled = Vec::new();
    let mut retries = Vec::new();
    for o in outcomes {
        let d = &o.due;
        attempts.push(serde_json::json!({
            "outbox_id": d.id,
            "device_id": d.device.0,
            "chat_id": d.chat.0,
            "kind": d.kind,
            "at": o.at,
            "latency_ms": o.latency_ms,
            "status": o.status,
            "result": o.result,
        }));
        match &o.next {
            Next::Settle(result) | Next::SettleAndDisable(result) => settled.push(
                serde_json::json!({"id": d.id, "result": result, "attempts": d.attempts + 1}),
            ),
            Next::RetryAt(at) => {
                retries.push(serde_json::json!({"id": d.id, "attempts": d.attempts + 1, "at": at}))
            }
        }
    }
    let mut tx = pool.begin().await?;
    let sql = if postgres {
        "insert into push_attempts (outbox_id, device_id, chat_id, kind, at, latency_ms, status, \
           result) \
         select (v->>'outbox_id')::bigint, (v->>'device_id')::bigint, (v->>'chat_id')::bigint, \
           v->>'kind', (v->>'at')::bigint, (v->>'latency_ms')::bigint, (v->>'status')::bigint, \
           v->>'result' from json_array_elements($1::json) as j(v)"
    } else {
        "insert into push_attempts (outbox_id, device_id, chat_id, kind, at, latency_ms, status, \
           result) \
         select value->>'outbox_id', value->>'device_id', value->>'chat_id', value->>'kind', \
           value->>'at', value->>'latency_ms', value->>'status', value->>'result' \
         from json_each($1)"
    };
    sqlx::query(sql)
        .bind(serde_json::to_string(&attempts)?)
        .execute(&mut *tx)
        .await?;
    if !settled.is_empty() {
        let sql = if postgres {
            "update push_outbox p set done_at = $2, result = j.v->>'result', \
               attempts = (j.v->>'attempts')::bigint \
             from json_array_elements($1::json) as j(v) where p.id = (j.v->>'id')::bigint"
        } else {
            "update push_outbox set done_at = $2, result = j.value->>'result', \
               attempts = j.value->>'attempts' \
             from json_each($1) as j where push_outbox.id = j.value->>'id'"
        };
        sqlx::query(sql)
            .bind(serde_json::to_string(&settled)?)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    if !retries.is_empty() {
        let sql = if postgres {
            "update push_outbox p set attempts = (j.v->>'attempts')::bigint, \
               next_attempt_at = (j.v->>'at')::bigint \
             from json_array_elements($1::json) as j(v) where p.id = (j.v->>'id')::bigint"
        } else {
            "update push_outbox set attempts = j.value->>'attempts', \
               next_attempt_at = j.value->>'at' \
             from json_each($1) as j where push_outbox.id = j.value->>'id'"
        };
        sqlx::query(sql)
            .bind(serde_json::to_string(&retries)?)
            .execute(&mut *tx)
            .await?;
    }
    for o in outcomes {
        let Next::SettleAndDisable(reason) = &o.next else {
            continue;
        };
        let device = o.due.device.0;
        sqlx::query(
            "update push_devices set disabled_at = $2, disabled_reason = $3 where id = $1 \
             and disabled_at is null",
        )
        .bind(device)
        .bind(now)
        .bind(reason.as_str())
        .execute(&mut *tx)
        .await?;
        // Nothing more goes to a dead token.
        sqlx::query(
            "update push_outbox set done_at = $2, result = 'skipped: device disabled' \
             where device_id = $1 and done_at is null",
        )
        .bind(device)
        .bind(now)
        .execute(&mut *tx)
        .await?;
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

/// An action token to store.
#[derive(Debug, Clone)]
pub struct NewActionToken {
    /// The token's hash (the token itself is only in the sealed push).
    pub hash: String,
    /// Who it acts as.
    pub operator: OperatorId,
    /// On which chat.
    pub chat: ChatId,
    /// When it stops working (unix ms).
    pub expires_at: i64,
}

/// Stores action tokens (hashed) in one statement.
pub async fn add_action_tokens(
    conn: &mut AnyConnection,
    postgres: bool,
    tokens: &[NewActionToken],
) -> Result<(), Error> {
    if tokens.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = tokens
        .iter()
        .map(|t| {
            serde_json::json!({
                "hash": t.hash,
                "operator": t.operator.0,
                "chat": t.chat.0,
                "expires_at": t.expires_at,
            })
        })
        .collect();
    let sql = if postgres {
        "insert into push_action_tokens (token_hash, operator_id, chat_id, expires_at) \
         select v->>'hash', (v->>'operator')::bigint, (v->>'chat')::bigint, \
           (v->>'expires_at')::bigint from json_array_elements($1::json) as j(v)"
    } else {
        "insert into push_action_tokens (token_hash, operator_id, chat_id, expires_at) \
         select value->>'hash', value->>'operator', value->>'chat', value->>'expires_at' \
         from json_each($1)"
    };
    sqlx::query(sql)
        .bind(serde_json::to_string(&rows)?)
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
    fn a_decline_takes_an_operator_off_one_chat_only() {
        let device = |id, operator, group| Candidate {
            target: Target {
                device: DeviceId(id),
                operator: OperatorId(operator),
                platform: PushPlatform::Apns,
                token: format!("token-{id}"),
            },
            group,
        };
        let ringable = Ringable {
            // Ann (group 2) has two phones, Bob (group 1) one; Cy (group 3) has none.
            devices: vec![device(1, 10, 2), device(2, 10, 2), device(3, 11, 1)],
            operators: vec![
                (OperatorId(10), 2),
                (OperatorId(11), 1),
                (OperatorId(12), 3),
            ],
            declined: HashSet::from([(ChatId(7), OperatorId(11))]),
        };
        let devices = |chat| {
            let found = ringable.candidates(ChatId(chat));
            found.map(|c| c.target.device.0).collect::<Vec<_>>()
        };
        assert_eq!(devices(7), [1, 2]);
        assert_eq!(devices(8), [1, 2, 3]);
        // The groups of the operators still in for the chat, in ring order (Cy's counts,
        // phone or not).
        assert_eq!(ringable.groups(ChatId(7)), [2, 3]);
        assert_eq!(ringable.groups(ChatId(8)), [1, 2, 3]);
    }

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
