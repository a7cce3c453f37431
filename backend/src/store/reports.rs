//! The reads reports are made of: the chats requested in a period and their events, counted
//! by SQL that runs the same on SQLite and PostgreSQL (`chat_events.kind`, `author` and
//! `operator_id` say what each event is). A chat belongs to the moment it was created (its
//! request, or its invitation): all its figures count there.
//!
//! Times are grouped into quarter hours from the period's start (every time zone's offset is
//! a whole number of quarter hours), and [`crate::reports`] turns quarters into the site's days
//! and hours.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use switchboard_shared::{
    ChatId, ChatStatus, EndReason, Mode, OperatorId, OperatorRef, PushDelivery,
    PushDeliveryAttempt, ReportChat,
};

use crate::error::Error;

/// A quarter hour, in ms.
pub const QUARTER_MS: i64 = 15 * 60 * 1000;

/// Counts of the chats created in one quarter hour and led by one operator (or nobody).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatQuarter {
    /// Quarter hours since the period's start.
    pub quarter: i64,
    /// Who leads them (the inviter, for invitations).
    pub lead: Option<OperatorId>,
    /// Chats.
    pub chats: i64,
    /// Of which invitations.
    pub invited: i64,
    /// Invitations the visitor took.
    pub invited_taken: i64,
    /// Chats an operator took.
    pub accepted: i64,
    /// Chats the visitor gave up on.
    pub missed: i64,
    /// Chats nobody answered.
    pub unanswered: i64,
    /// Requests taken (not invitations), and their waits summed (ms).
    pub answered: i64,
    /// Sum of those waits, ms.
    pub answer_ms: i64,
}

/// Events of one kind in the chats created in one quarter hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuarter {
    /// Quarter hours since the period's start.
    pub quarter: i64,
    /// Who leads the chat.
    pub lead: Option<OperatorId>,
    /// `message`, `declined`, `queued` or `call_started`.
    pub kind: String,
    /// A message's author kind.
    pub author: Option<String>,
    /// The operator the event names (author, decliner…).
    pub actor: Option<OperatorId>,
    /// How many.
    pub count: i64,
}

/// The chats created in `[start, end)`, counted per quarter hour and leading operator.
pub async fn chat_quarters(
    pool: &AnyPool,
    start: i64,
    end: i64,
) -> Result<Vec<ChatQuarter>, Error> {
    let rows = sqlx::query(
        "select (c.created_at - $1) / $3 as quarter, c.operator_id, count(*) as chats, \
           sum(case when f.kind = 'invited' then 1 else 0 end) as invited, \
           sum(case when f.kind = 'invited' and c.accepted_at is not null then 1 else 0 end) \
             as invited_taken, \
           sum(case when c.accepted_at is not null then 1 else 0 end) as accepted, \
           sum(case when c.status = 'missed' then 1 else 0 end) as missed, \
           sum(case when c.end_reason = 'no_operator' then 1 else 0 end) as unanswered, \
           sum(case when f.kind = 'requested' and c.accepted_at is not null then 1 else 0 end) \
             as answered, \
           cast(sum(case when f.kind = 'requested' and c.accepted_at is not null \
             then c.accepted_at - c.created_at else 0 end) as bigint) as answer_ms \
         from chats c join chat_events f on f.chat_id = c.id and f.seq = 1 \
         where c.created_at >= $1 and c.created_at < $2 \
         group by (c.created_at - $1) / $3, c.operator_id",
    )
    .bind(start)
    .bind(end)
    .bind(QUARTER_MS)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ChatQuarter {
                quarter: r.try_get("quarter")?,
                lead: r.try_get::<Option<i64>, _>("operator_id")?.map(OperatorId),
                chats: r.try_get("chats")?,
                invited: r.try_get("invited")?,
                invited_taken: r.try_get("invited_taken")?,
                accepted: r.try_get("accepted")?,
                missed: r.try_get("missed")?,
                unanswered: r.try_get("unanswered")?,
                answered: r.try_get("answered")?,
                answer_ms: r.try_get("answer_ms")?,
            })
        })
        .collect()
}

/// The counted events (messages, declines, queueing, calls) of the chats created in
/// `[start, end)`, per quarter hour, leading operator, kind, author and acting operator.
pub async fn event_quarters(
    pool: &AnyPool,
    start: i64,
    end: i64,
) -> Result<Vec<EventQuarter>, Error> {
    let rows = sqlx::query(
        "select (c.created_at - $1) / $3 as quarter, c.operator_id as lead, e.kind, e.author, \
           e.operator_id as actor, count(*) as n \
         from chats c join chat_events e on e.chat_id = c.id \
         where c.created_at >= $1 and c.created_at < $2 \
           and e.kind in ('message', 'declined', 'queued', 'call_started') \
         group by (c.created_at - $1) / $3, c.operator_id, e.kind, e.author, e.operator_id",
    )
    .bind(start)
    .bind(end)
    .bind(QUARTER_MS)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EventQuarter {
                quarter: r.try_get("quarter")?,
                lead: r.try_get::<Option<i64>, _>("lead")?.map(OperatorId),
                kind: r.try_get("kind")?,
                author: r.try_get("author")?,
                actor: r.try_get::<Option<i64>, _>("actor")?.map(OperatorId),
                count: r.try_get("n")?,
            })
        })
        .collect()
}

/// Offline messages left in `[start, end)`, per quarter hour: `(quarter, count)`.
pub async fn offline_quarters(
    pool: &AnyPool,
    start: i64,
    end: i64,
) -> Result<Vec<(i64, i64)>, Error> {
    let rows = sqlx::query(
        "select (created_at - $1) / $3 as quarter, count(*) as n from offline_messages \
         where created_at >= $1 and created_at < $2 group by (created_at - $1) / $3",
    )
    .bind(start)
    .bind(end)
    .bind(QUARTER_MS)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("quarter")?, r.try_get("n")?)))
        .collect()
}

/// Which durations [`duration_stats`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Request to Accept, for the requests taken (invitations not counted).
    Answer,
    /// Accept to end, for the accepted chats that ended.
    Length,
}

/// How many durations there are, their sum, and the values at the given 1-based ranks
/// (ascending), for the chats created in `[start, end)` (led by `operator`, when given).
pub async fn duration_stats(
    pool: &AnyPool,
    measure: Measure,
    (start, end): (i64, i64),
    operator: Option<OperatorId>,
    ranks: impl Fn(i64) -> Vec<i64>,
) -> Result<(i64, i64, Vec<i64>), Error> {
    // Static text per measure: the same filter in the count and in the ranked read.
    let (count_sql, rank_sql) = match measure {
        Measure::Answer => (
            "select count(*) as n, cast(coalesce(sum(c.accepted_at - c.created_at), 0) as bigint) \
               as total from chats c join chat_events f on f.chat_id = c.id and f.seq = 1 \
             where c.created_at >= $1 and c.created_at < $2 and ($3 = 0 or c.operator_id = $3) \
               and f.kind = 'requested' and c.accepted_at is not null",
            "select c.accepted_at - c.created_at as v \
             from chats c join chat_events f on f.chat_id = c.id and f.seq = 1 \
             where c.created_at >= $1 and c.created_at < $2 and ($3 = 0 or c.operator_id = $3) \
               and f.kind = 'requested' and c.accepted_at is not null \
             order by c.accepted_at - c.created_at limit 1 offset $4",
        ),
        Measure::Length => (
            "select count(*) as n, cast(coalesce(sum(c.ended_at - c.accepted_at), 0) as bigint) \
               as total from chats c \
             where c.created_at >= $1 and c.created_at < $2 and ($3 = 0 or c.operator_id = $3) \
               and c.accepted_at is not null and c.ended_at is not null",
            "select c.ended_at - c.accepted_at as v from chats c \
             where c.created_at >= $1 and c.created_at < $2 and ($3 = 0 or c.operator_id = $3) \
               and c.accepted_at is not null and c.ended_at is not null \
             order by c.ended_at - c.accepted_at limit 1 offset $4",
        ),
    };
    let op = operator.map_or(0, |o| o.0);
    let row = sqlx::query(count_sql)
        .bind(start)
        .bind(end)
        .bind(op)
        .fetch_one(pool)
        .await?;
    let (n, total): (i64, i64) = (row.try_get("n")?, row.try_get("total")?);
    let mut values = Vec::new();
    for rank in ranks(n) {
        let row = sqlx::query(rank_sql)
            .bind(start)
            .bind(end)
            .bind(op)
            .bind(rank - 1)
            .fetch_one(pool)
            .await?;
        values.push(row.try_get("v")?);
    }
    Ok((n, total, values))
}

/// Each operator's Live Help changes in `[start, end)`, and where each stood at `start`:
/// `(operator, at, available)` in order per operator; the state at `start` has `at = start`.
pub async fn presence(
    pool: &AnyPool,
    start: i64,
    end: i64,
) -> Result<Vec<(OperatorId, i64, bool)>, Error> {
    let rows = sqlx::query(
        "select p.operator_id, $1 as at, p.available, 0 as o from operator_presence p \
         where p.id = (select q.id from operator_presence q where q.operator_id = p.operator_id \
                       and q.at < $1 order by q.at desc, q.id desc limit 1) \
         union all \
         select operator_id, at, available, id as o from operator_presence \
         where at >= $1 and at < $2 \
         order by 1, 2, 4",
    )
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                OperatorId(r.try_get("operator_id")?),
                r.try_get("at")?,
                r.try_get::<i64, _>("available")? != 0,
            ))
        })
        .collect()
}

/// Which chats [`chats_page`] lists.
#[derive(Debug, Clone, Copy)]
pub struct ChatFilter<'a> {
    /// Created in `[start, end)`.
    pub start: i64,
    /// End of the window (exclusive).
    pub end: i64,
    /// The figure (`ReportFigure` in snake case).
    pub figure: &'a str,
    /// Only this operator's (see the figure's rules in [`CHATS_PAGE`]).
    pub operator: Option<OperatorId>,
    /// An operator who is not an admin sees only their own chats and nobody's.
    pub viewer: Option<OperatorId>,
}

/// The chats behind a figure, oldest first (by creation, then id), after the chat `after`, at
/// most `limit`: a keyset page, read along the `chats_created` index, so the last page of a
/// long export costs what the first did.
///
/// The figure's rules: declines and queueing are the acting operator's; requests, missed and
/// unanswered chats are the team's (nobody leads them); the others are the leading operator's.
const CHATS_PAGE: &str = "select c.id, c.created_at, c.accepted_at, c.ended_at, c.status, \
       c.end_reason, c.operator_id, c.operator_name, c.page_url, c.visitor_name, c.mode, \
       f.kind as origin, \
       (select count(*) from chat_events e where e.chat_id = c.id and e.kind = 'message' \
          and e.author = 'visitor') as visitor_messages, \
       (select count(*) from chat_events e where e.chat_id = c.id and e.kind = 'message' \
          and e.author = 'operator') as operator_messages, \
       (select count(*) from chat_events e where e.chat_id = c.id and e.kind = 'declined') \
          as declines, \
       (select count(*) from chat_events e where e.chat_id = c.id and e.kind = 'call_started') \
          as voice_calls \
     from chats c join chat_events f on f.chat_id = c.id and f.seq = 1 \
     where c.created_at >= $1 and c.created_at < $2 \
       and (c.created_at, c.id) > (coalesce((select a.created_at from chats a where a.id = $3), -1), $3) \
       and ($6 = 0 or c.operator_id = $6 or c.operator_id is null) \
       and ( \
         ($4 = 'all' and ($5 = 0 or c.operator_id = $5)) \
         or ($4 = 'requested' and (f.kind = 'requested' or c.accepted_at is not null)) \
         or ($4 = 'accepted' and c.accepted_at is not null and ($5 = 0 or c.operator_id = $5)) \
         or ($4 in ('declined', 'queued') and exists (select 1 from chat_events e \
               where e.chat_id = c.id and e.kind = $4 and ($5 = 0 or e.operator_id = $5))) \
         or ($4 = 'missed' and c.status = 'missed') \
         or ($4 = 'unanswered' and c.end_reason = 'no_operator') \
         or ($4 = 'invitations_sent' and f.kind = 'invited' and ($5 = 0 or c.operator_id = $5)) \
         or ($4 = 'invitations_accepted' and f.kind = 'invited' and c.accepted_at is not null \
               and ($5 = 0 or c.operator_id = $5)) \
         or ($4 = 'voice_calls' and ($5 = 0 or c.operator_id = $5) and exists (select 1 \
               from chat_events e where e.chat_id = c.id and e.kind = 'call_started'))) \
     order by c.created_at, c.id limit $7";

/// A page of [`CHATS_PAGE`].
pub async fn chats_page(
    pool: &AnyPool,
    filter: ChatFilter<'_>,
    after: Option<ChatId>,
    limit: i64,
) -> Result<Vec<ReportChat>, Error> {
    let rows = sqlx::query(CHATS_PAGE)
        .bind(filter.start)
        .bind(filter.end)
        .bind(after.map_or(0, |c| c.0))
        .bind(filter.figure)
        .bind(filter.operator.map_or(0, |o| o.0))
        .bind(filter.viewer.map_or(0, |o| o.0))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(report_chat).collect()
}

fn report_chat(r: &AnyRow) -> Result<ReportChat, Error> {
    let bad = |what: &str, v: &str| Error::Internal(format!("bad {what} {v}"));
    let status: String = r.try_get("status")?;
    let mode: String = r.try_get("mode")?;
    let end_reason: Option<String> = r.try_get("end_reason")?;
    let origin: String = r.try_get("origin")?;
    let created: i64 = r.try_get("created_at")?;
    let accepted: Option<i64> = r.try_get("accepted_at")?;
    let ended: Option<i64> = r.try_get("ended_at")?;
    let operator = match (
        r.try_get::<Option<i64>, _>("operator_id")?,
        r.try_get::<Option<String>, _>("operator_name")?,
    ) {
        (Some(id), Some(name)) => Some(OperatorRef {
            id: OperatorId(id),
            name,
        }),
        _ => None,
    };
    let count = |col: &str| -> Result<u32, Error> {
        Ok(u32::try_from(r.try_get::<i64, _>(col)?).unwrap_or(u32::MAX))
    };
    let invited = origin == "invited";
    Ok(ReportChat {
        id: ChatId(r.try_get("id")?),
        started_at: created,
        answered_at: accepted,
        ended_at: ended,
        status: ChatStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        end_reason: end_reason
            .map(|e| match e.as_str() {
                "visitor" => Ok(EndReason::Visitor),
                "operator" => Ok(EndReason::Operator),
                "no_operator" => Ok(EndReason::NoOperator),
                "declined" => Ok(EndReason::Declined),
                other => Err(bad("end reason", other)),
            })
            .transpose()?,
        operator,
        invited,
        // An invitation's visitor did not wait for anyone.
        wait_ms: match (invited, accepted, ended) {
            (true, _, _) => None,
            (false, Some(at), _) | (false, None, Some(at)) => Some(at - created),
            (false, None, None) => None,
        },
        duration_ms: accepted.zip(ended).map(|(a, e)| e - a),
        visitor_messages: count("visitor_messages")?,
        operator_messages: count("operator_messages")?,
        declines: count("declines")?,
        voice_calls: count("voice_calls")?,
        page_url: r.try_get("page_url")?,
        visitor_name: r.try_get("visitor_name")?,
        mode: Mode::parse(&mode).ok_or_else(|| bad("mode", &mode))?,
    })
}

/// The pushes sent about a chat, each with its attempts, oldest first.
pub async fn push_deliveries(pool: &AnyPool, chat: ChatId) -> Result<Vec<PushDelivery>, Error> {
    let rows = sqlx::query(
        "select o.id, o.kind, o.created_at, o.done_at, o.result, d.platform, d.name, \
           d.operator_id, p.name as operator_name \
         from push_outbox o join push_devices d on d.id = o.device_id \
           join operators p on p.id = d.operator_id \
         where o.chat_id = $1 order by o.id",
    )
    .bind(chat.0)
    .fetch_all(pool)
    .await?;
    let attempts = sqlx::query(
        "select outbox_id, at, latency_ms, status, result from push_attempts \
         where chat_id = $1 order by id",
    )
    .bind(chat.0)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let mut tries = Vec::new();
        for a in attempts.iter() {
            if a.try_get::<i64, _>("outbox_id")? == id {
                tries.push(PushDeliveryAttempt {
                    at: a.try_get("at")?,
                    latency_ms: a.try_get("latency_ms")?,
                    status: a.try_get("status")?,
                    result: a.try_get("result")?,
                });
            }
        }
        out.push(PushDelivery {
            operator: OperatorRef {
                id: OperatorId(r.try_get("operator_id")?),
                name: r.try_get("operator_name")?,
            },
            platform: r.try_get("platform")?,
            device_name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            queued_at: r.try_get("created_at")?,
            done_at: r.try_get("done_at")?,
            result: r.try_get("result")?,
            attempts: tries,
        });
    }
    Ok(out)
}
