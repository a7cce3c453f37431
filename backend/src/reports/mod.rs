//! Reports: the figures of a period of days in the site's time zone, the chats behind each
//! figure, the pushes sent about a chat, and CSV exports ([`csv`]).
//!
//! Invariants:
//! - Everything is read from the stored chats and events ([`crate::store::reports`]); nothing
//!   here keeps counts of its own that could drift from them.
//! - A chat counts in the day and hour it was created (requested, or invited), in the site's
//!   time zone as the settings give it now; days are civil days (23 or 25 hours across a DST
//!   change).
//! - An operator who is not an admin sees the team's totals and their own figures and chats
//!   (and the chats nobody led), never a colleague's.

pub mod csv;

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use switchboard_shared::{
    ChatId, Durations, ErrorCode, MAX_REPORT_CHATS_PAGE, MAX_REPORT_DAYS, OperatorFigures,
    OperatorId, OperatorProfile, OperatorRef, PushDelivery, Report, ReportBucket, ReportChat,
    ReportChatsPage, ReportChatsQuery, ReportCounts, ReportFigure, ReportPeriod, ReportQuery,
};

use crate::error::Error;
use crate::store::reports::{self as db, ChatFilter, Measure, QUARTER_MS};
use crate::store::{Store, chats, operators};

/// A resolved period: civil days in a time zone and the instants they span.
#[derive(Debug, Clone)]
pub struct Period {
    /// The zone's IANA name.
    pub zone_name: String,
    /// The zone.
    pub zone: TimeZone,
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
    /// Where each day starts, unix ms, and where the last one ends (`days + 1` entries).
    pub bounds: Vec<i64>,
}

impl Period {
    /// Start of the period, unix ms.
    pub fn start(&self) -> i64 {
        self.bounds[0]
    }

    /// End of the period (exclusive), unix ms.
    pub fn end(&self) -> i64 {
        self.bounds[self.bounds.len() - 1]
    }

    /// The days, in order.
    pub fn days(&self) -> impl Iterator<Item = Date> + '_ {
        std::iter::successors(Some(self.from), |d| d.tomorrow().ok()).take(self.bounds.len() - 1)
    }

    /// Which day (index) and hour of the day an instant falls in.
    pub fn day_and_hour(&self, ms: i64) -> (usize, usize) {
        let day = self.bounds.partition_point(|&b| b <= ms).saturating_sub(1);
        let hour = Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(self.zone.clone()).hour())
            .unwrap_or(0);
        (
            day.min(self.bounds.len() - 2),
            usize::try_from(hour).unwrap_or(0),
        )
    }

    /// An instant as an ISO 8601 local time with its offset (`2026-11-30T09:58:30+01:00`).
    pub fn iso(&self, ms: i64) -> String {
        Timestamp::from_millisecond(ms)
            .map(|t| {
                t.to_zoned(self.zone.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string()
            })
            .unwrap_or_default()
    }
}

/// The site's time zone by name; `invalid_input` when the name is not a known zone.
pub fn zone(name: &str) -> Result<TimeZone, Error> {
    TimeZone::get(name).map_err(|_| Error::invalid(format!("unknown time zone {name:?}")))
}

fn date(s: &str, field: &str) -> Result<Date, Error> {
    s.parse::<Date>()
        .map_err(|_| Error::invalid(format!("{field} must be a date as YYYY-MM-DD")))
}

/// Resolves a query's period (`period`, or `from` and `to`) in the zone `zone_name`, at `now`.
pub fn resolve(q: &ReportQuery, zone_name: &str, now: i64) -> Result<Period, Error> {
    let zone = zone(zone_name)?;
    let today = Timestamp::from_millisecond(now)
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_zoned(zone.clone())
        .date();
    let back = |days: i64| {
        today
            .checked_sub(jiff::Span::new().days(days))
            .map_err(|e| Error::Internal(e.to_string()))
    };
    let (from, to) = match (q.period, &q.from, &q.to) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(Error::invalid("give either period, or from and to"));
        }
        (Some(ReportPeriod::Today), None, None) => (today, today),
        (Some(ReportPeriod::Yesterday), None, None) => (back(1)?, back(1)?),
        (Some(ReportPeriod::Last7Days), None, None) => (back(6)?, today),
        (Some(ReportPeriod::Last30Days), None, None) => (back(29)?, today),
        (None, Some(from), Some(to)) => (date(from, "from")?, date(to, "to")?),
        (None, _, _) => return Err(Error::invalid("give a period, or from and to")),
    };
    if to < from {
        return Err(Error::invalid("to must not be before from"));
    }
    let mut bounds = Vec::new();
    let mut day = from;
    loop {
        let start = day
            .to_zoned(zone.clone())
            .map_err(|e| Error::invalid(format!("{day}: {e}")))?;
        bounds.push(start.timestamp().as_millisecond());
        if day > to {
            break;
        }
        if bounds.len() > MAX_REPORT_DAYS as usize {
            return Err(Error::invalid(format!(
                "a report covers at most {MAX_REPORT_DAYS} days"
            )));
        }
        day = day
            .tomorrow()
            .map_err(|_| Error::invalid("to is too far in the future"))?;
    }
    Ok(Period {
        zone_name: zone_name.to_owned(),
        zone,
        from,
        to,
        bounds,
    })
}

/// Which operator's figures `viewer` may see: their own, or (admins) anyone's or the team's.
pub fn operator_filter(
    viewer: &OperatorProfile,
    asked: Option<OperatorId>,
) -> Result<Option<OperatorId>, Error> {
    match asked {
        Some(id) if id != viewer.id && !viewer.is_admin => Err(Error::client(
            ErrorCode::Forbidden,
            "only an admin sees another operator's figures",
        )),
        other => Ok(other),
    }
}

/// Adds `n` (clamped) to a count.
fn add(to: &mut u32, n: i64) {
    *to = to.saturating_add(u32::try_from(n.max(0)).unwrap_or(u32::MAX));
}

/// The report of `period` for `operator` (or the team), as `viewer` may see it.
pub async fn report(
    store: &Store,
    period: &Period,
    operator: Option<OperatorId>,
    viewer: &OperatorProfile,
    now: i64,
) -> Result<Report, Error> {
    let (start, end) = (period.start(), period.end());
    let pool = &store.read;
    let days_n = period.bounds.len() - 1;
    let mut days = vec![ReportCounts::default(); days_n];
    let mut hours = vec![ReportCounts::default(); 24];
    let mut totals = ReportCounts::default();
    // (chats led, messages, declines, answered requests, their waits)
    let mut per_op: HashMap<OperatorId, (i64, i64, i64, i64, i64)> = HashMap::new();
    // Each quarter's day and hour, worked out once.
    let mut slots: HashMap<i64, (usize, usize)> = HashMap::new();
    let mut slot = |q: i64| {
        *slots
            .entry(q)
            .or_insert_with(|| period.day_and_hour(start + q * QUARTER_MS))
    };
    let mine = |lead: Option<OperatorId>| operator.is_none() || lead == operator;

    for row in db::chat_quarters(pool, start, end).await? {
        let (d, h) = slot(row.quarter);
        let requested = row.chats - row.invited + row.invited_taken;
        for c in [&mut days[d], &mut hours[h], &mut totals] {
            // Requests, missed and unanswered chats are the team's: nobody led them.
            add(&mut c.requested, requested);
            add(&mut c.missed, row.missed);
            add(&mut c.unanswered, row.unanswered);
            if mine(row.lead) {
                add(&mut c.accepted, row.accepted);
                add(&mut c.invitations_sent, row.invited);
                add(&mut c.invitations_accepted, row.invited_taken);
            }
        }
        if let Some(lead) = row.lead {
            let e = per_op.entry(lead).or_default();
            e.0 += row.accepted;
            e.3 += row.answered;
            e.4 += row.answer_ms;
        }
    }
    for row in db::event_quarters(pool, start, end).await? {
        let (d, h) = slot(row.quarter);
        let by_me = operator.is_none() || row.actor == operator;
        for c in [&mut days[d], &mut hours[h], &mut totals] {
            match (row.kind.as_str(), row.author.as_deref()) {
                ("message", Some("visitor")) if mine(row.lead) => {
                    add(&mut c.visitor_messages, row.count)
                }
                ("message", Some("operator")) if by_me => add(&mut c.operator_messages, row.count),
                ("declined", _) if by_me => add(&mut c.declined, row.count),
                ("queued", _) if by_me => add(&mut c.queued, row.count),
                ("call_started", _) if mine(row.lead) => add(&mut c.voice_calls, row.count),
                _ => {}
            }
        }
        if let Some(actor) = row.actor {
            let e = per_op.entry(actor).or_default();
            match (row.kind.as_str(), row.author.as_deref()) {
                ("message", Some("operator")) => e.1 += row.count,
                ("declined", _) => e.2 += row.count,
                _ => {}
            }
        }
    }
    for (quarter, n) in db::offline_quarters(pool, start, end).await? {
        let (d, h) = slot(quarter);
        for c in [&mut days[d], &mut hours[h], &mut totals] {
            add(&mut c.left_message, n);
        }
    }

    let answer = durations(store, Measure::Answer, (start, end), operator).await?;
    let length = durations(store, Measure::Length, (start, end), operator).await?;
    let available = available_ms(store, start, end.min(now)).await?;
    let mut operators = Vec::new();
    for o in operators::list(pool).await? {
        let id = o.id;
        if (!viewer.is_admin && id != viewer.id) || operator.is_some_and(|f| f != id) {
            continue;
        }
        let (chats, messages, declined, answered, waits) =
            per_op.get(&id).copied().unwrap_or_default();
        operators.push(OperatorFigures {
            operator: OperatorRef {
                id,
                name: o.name.clone(),
            },
            chats: u32::try_from(chats).unwrap_or(u32::MAX),
            messages: u32::try_from(messages).unwrap_or(u32::MAX),
            declined: u32::try_from(declined).unwrap_or(u32::MAX),
            avg_answer_ms: (answered > 0).then(|| waits / answered),
            available_ms: available.get(&id).copied().unwrap_or(0),
        });
    }
    let operator = match operator {
        Some(id) => Some(
            operators::get(pool, id)
                .await?
                .map(|o| OperatorRef { id, name: o.name })
                .ok_or_else(|| Error::not_found("operator"))?,
        ),
        None => None,
    };
    Ok(Report {
        from: period.from.to_string(),
        to: period.to.to_string(),
        time_zone: period.zone_name.clone(),
        start,
        end,
        operator,
        totals,
        days: period
            .days()
            .zip(days)
            .map(|(day, counts)| ReportBucket {
                label: day.to_string(),
                counts,
            })
            .collect(),
        hours: hours
            .into_iter()
            .enumerate()
            .map(|(h, counts)| ReportBucket {
                label: format!("{h:02}"),
                counts,
            })
            .collect(),
        answer,
        length,
        operators,
    })
}

/// Nearest-rank percentile positions (1-based) of p50 and p90 among `n` values.
fn ranks(n: i64) -> Vec<i64> {
    if n == 0 {
        return Vec::new();
    }
    [50, 90].iter().map(|p| (n * p + 99) / 100).collect()
}

async fn durations(
    store: &Store,
    measure: Measure,
    window: (i64, i64),
    operator: Option<OperatorId>,
) -> Result<Durations, Error> {
    let (n, total, values) =
        db::duration_stats(&store.read, measure, window, operator, ranks).await?;
    Ok(Durations {
        count: u32::try_from(n).unwrap_or(u32::MAX),
        p50_ms: values.first().copied(),
        p90_ms: values.get(1).copied(),
        avg_ms: (n > 0).then(|| total / n),
    })
}

/// How long each operator had Live Help Available within `[start, end)`.
async fn available_ms(
    store: &Store,
    start: i64,
    end: i64,
) -> Result<HashMap<OperatorId, i64>, Error> {
    let mut out: HashMap<OperatorId, i64> = HashMap::new();
    if end <= start {
        return Ok(out);
    }
    let rows = db::presence(&store.read, start, end).await?;
    let mut i = 0;
    while i < rows.len() {
        let op = rows[i].0;
        let mut since: Option<i64> = None;
        while i < rows.len() && rows[i].0 == op {
            let (_, at, available) = rows[i];
            match (since, available) {
                (None, true) => since = Some(at),
                (Some(s), false) => {
                    *out.entry(op).or_default() += at - s;
                    since = None;
                }
                _ => {}
            }
            i += 1;
        }
        if let Some(s) = since {
            *out.entry(op).or_default() += end - s;
        }
    }
    Ok(out)
}

/// The chats behind a figure, a page at a time (optionally one day, one hour of the day).
pub async fn chats(
    store: &Store,
    period: &Period,
    q: &ReportChatsQuery,
    operator: Option<OperatorId>,
    viewer: &OperatorProfile,
) -> Result<ReportChatsPage, Error> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_REPORT_CHATS_PAGE).contains(&limit) {
        return Err(Error::invalid(format!(
            "limit must be 1 to {MAX_REPORT_CHATS_PAGE}"
        )));
    }
    let (mut start, mut end) = (period.start(), period.end());
    if let Some(day) = &q.day {
        let day = date(day, "day")?;
        let i = period
            .days()
            .position(|d| d == day)
            .ok_or_else(|| Error::invalid("day must be a day of the period"))?;
        (start, end) = (period.bounds[i], period.bounds[i + 1]);
    }
    if q.hour.is_some_and(|h| h > 23) {
        return Err(Error::invalid("hour must be 0 to 23"));
    }
    let figure = q.figure.unwrap_or_default();
    let filter = ChatFilter {
        start,
        end,
        figure: figure_name(figure),
        operator,
        viewer: (!viewer.is_admin).then_some(viewer.id),
    };
    let want = limit as usize;
    let mut out: Vec<ReportChat> = Vec::with_capacity(want);
    let mut after = q.after;
    // One hour of the day is a filter on local times: read on until the page is full.
    loop {
        let page = db::chats_page(&store.read, filter, after, 500).await?;
        let last = page.len() < 500;
        after = page.last().map(|c| c.id);
        for chat in page {
            let hour_ok = q
                .hour
                .is_none_or(|h| period.day_and_hour(chat.started_at).1 == usize::from(h));
            if hour_ok {
                out.push(chat);
                if out.len() > want {
                    break;
                }
            }
        }
        if last || out.len() > want {
            break;
        }
    }
    let next_after = (out.len() > want).then(|| {
        out.truncate(want);
        out[want - 1].id
    });
    Ok(ReportChatsPage {
        chats: out,
        next_after,
    })
}

/// The figure's name in SQL (the wire name).
fn figure_name(f: ReportFigure) -> &'static str {
    match f {
        ReportFigure::All => "all",
        ReportFigure::Requested => "requested",
        ReportFigure::Accepted => "accepted",
        ReportFigure::Declined => "declined",
        ReportFigure::Queued => "queued",
        ReportFigure::Missed => "missed",
        ReportFigure::Unanswered => "unanswered",
        ReportFigure::InvitationsSent => "invitations_sent",
        ReportFigure::InvitationsAccepted => "invitations_accepted",
        ReportFigure::VoiceCalls => "voice_calls",
    }
}

/// The pushes sent about a chat `viewer` may read (an admin: any; an operator: their own
/// chats and the ones nobody took).
pub async fn pushes(
    store: &Store,
    chat: ChatId,
    viewer: &OperatorProfile,
) -> Result<Vec<PushDelivery>, Error> {
    let summary = chats::get_from(&store.read, chat)
        .await?
        .ok_or_else(|| Error::not_found("chat"))?;
    let theirs = summary.operator.as_ref().is_some_and(|o| o.id != viewer.id);
    if theirs && !viewer.is_admin {
        return Err(Error::client(
            ErrorCode::Forbidden,
            "this chat belongs to another operator",
        ));
    }
    db::push_deliveries(&store.read, chat).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: &str, to: &str) -> ReportQuery {
        ReportQuery {
            from: Some(from.into()),
            to: Some(to.into()),
            ..ReportQuery::default()
        }
    }

    #[test]
    fn days_follow_the_zone_across_dst() {
        // Europe/Paris leaves summer time on 2026-10-25: that day has 25 hours.
        let p = resolve(&q("2026-10-24", "2026-10-26"), "Europe/Paris", 0).unwrap();
        let lengths: Vec<i64> = p.bounds.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(lengths, [24, 25, 24].map(|h| h * 3_600_000));
        assert_eq!(p.iso(p.start()), "2026-10-24T00:00:00+02:00");
        assert_eq!(p.iso(p.bounds[2]), "2026-10-26T00:00:00+01:00");
        // 23:30 UTC on the 25th is 00:30 on the 26th in Paris.
        let ms = p.bounds[2] + 30 * 60_000;
        assert_eq!(p.day_and_hour(ms), (2, 0));
    }

    #[test]
    fn relative_periods_end_today_in_the_zone() {
        // 2026-11-30 23:30 UTC is already 2026-12-01 in Tokyo.
        let now = "2026-11-30T23:30:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond();
        let today = ReportQuery {
            period: Some(ReportPeriod::Today),
            ..ReportQuery::default()
        };
        let p = resolve(&today, "Asia/Tokyo", now).unwrap();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2026-12-01".into(), "2026-12-01".into())
        );
        let week = ReportQuery {
            period: Some(ReportPeriod::Last7Days),
            ..ReportQuery::default()
        };
        let p = resolve(&week, "UTC", now).unwrap();
        assert_eq!(p.from.to_string(), "2026-11-24");
        assert_eq!(p.bounds.len(), 8);
    }

    #[test]
    fn bad_periods_are_refused() {
        for (query, zone) in [
            (q("2026-11-30", "2026-11-01"), "UTC"),
            (q("2026-13-01", "2026-12-01"), "UTC"),
            (q("2025-01-01", "2026-12-31"), "UTC"),
            (q("2026-11-01", "2026-11-02"), "Mars/Olympus"),
            (ReportQuery::default(), "UTC"),
        ] {
            assert!(
                matches!(resolve(&query, zone, 0), Err(Error::Client { .. })),
                "{query:?} {zone}"
            );
        }
    }

    #[test]
    fn percentile_ranks_are_nearest_rank() {
        assert_eq!(ranks(0), Vec::<i64>::new());
        assert_eq!(ranks(1), [1, 1]);
        assert_eq!(ranks(10), [5, 9]);
        assert_eq!(ranks(11), [6, 10]);
    }
}
