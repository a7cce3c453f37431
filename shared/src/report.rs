//! Reports: what happened on the help desk over a period of days in the site's time zone
//! (`GET /api/operator/reports`), the chats behind each figure, their push deliveries, and CSV
//! exports.
//!
//! Every figure is computed from the stored chats and their events (the source of truth); a
//! chat counts in the period, day and hour it was *requested* (or, for an invitation, sent), so
//! the figures of one chat never split across two days.

use serde::{Deserialize, Serialize};

use crate::{ChatId, ChatStatus, EndReason, Mode, OperatorId, OperatorRef};

/// Longest period one report covers, in days.
pub const MAX_REPORT_DAYS: u32 = 366;

/// Longest page of chats behind a figure (`limit`).
pub const MAX_REPORT_CHATS_PAGE: u32 = 200;

/// A period relative to today in the site's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportPeriod {
    /// Today so far.
    Today,
    /// Yesterday.
    Yesterday,
    /// The last 7 days, today included.
    #[serde(rename = "last_7_days")]
    Last7Days,
    /// The last 30 days, today included.
    #[serde(rename = "last_30_days")]
    Last30Days,
}

/// `GET /api/operator/reports` (and the drill-down and CSV endpoints): the query string.
/// Either `period`, or `from` and `to`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportQuery {
    /// Today, yesterday, the last 7 or 30 days.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub period: Option<ReportPeriod>,
    /// First day of a custom range (`YYYY-MM-DD`, in the site's time zone).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub from: Option<String>,
    /// Last day of a custom range, included (`YYYY-MM-DD`).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub to: Option<String>,
    /// One operator's figures; absent: the whole team (an operator who is not an admin may
    /// ask only for their own).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub operator: Option<OperatorId>,
}

/// `GET /api/operator/reports/chats`: the report's query, and which chats. (The report's
/// fields are repeated, not flattened: query strings carry no types through a flatten.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportChatsQuery {
    /// As in [`ReportQuery`].
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub period: Option<ReportPeriod>,
    /// As in [`ReportQuery`].
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub from: Option<String>,
    /// As in [`ReportQuery`].
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub to: Option<String>,
    /// As in [`ReportQuery`].
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub operator: Option<OperatorId>,
    /// The figure whose chats to list; absent: every chat of the period.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub figure: Option<ReportFigure>,
    /// Only this day of the period (`YYYY-MM-DD`).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub day: Option<String>,
    /// Only this hour of the day (0–23), on every day of the period (or of `day`).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub hour: Option<u8>,
    /// The `next_after` of the previous page.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub after: Option<ChatId>,
    /// Page size (default 50, at most [`MAX_REPORT_CHATS_PAGE`]).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub limit: Option<u32>,
}

impl ReportChatsQuery {
    /// The period and operator part.
    pub fn report(&self) -> ReportQuery {
        ReportQuery {
            period: self.period,
            from: self.from.clone(),
            to: self.to.clone(),
            operator: self.operator,
        }
    }
}

/// The counts a report is made of (for the period, a day or an hour of the day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportCounts {
    /// Chats visitors asked for (Click for Live Help, and invitations they took).
    pub requested: u32,
    /// Of those, the ones an operator took (Accept, from the queue, or the inviter).
    pub accepted: u32,
    /// Declines (one per operator who passed on a request).
    pub declined: u32,
    /// Requests moved to the Communication Queue.
    pub queued: u32,
    /// Requests the visitor gave up on before anyone took them.
    pub missed: u32,
    /// Requests nobody answered (nobody available, all declined, or the ring timed out).
    pub unanswered: u32,
    /// Offline messages left ("Leave a message").
    pub left_message: u32,
    /// Invitations operators sent.
    pub invitations_sent: u32,
    /// Invitations visitors took with Start Chat.
    pub invitations_accepted: u32,
    /// Voice calls that started (voice chats and calls inside text chats).
    pub voice_calls: u32,
    /// Messages visitors wrote.
    pub visitor_messages: u32,
    /// Messages operators wrote.
    pub operator_messages: u32,
}

/// The figures that can be drilled into: the chats behind a bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportFigure {
    /// Every chat of the period (requests and invitations).
    #[default]
    All,
    /// Chats visitors asked for.
    Requested,
    /// Chats an operator took.
    Accepted,
    /// Chats at least one operator declined.
    Declined,
    /// Chats that went to the queue.
    Queued,
    /// Chats the visitor gave up on.
    Missed,
    /// Chats nobody answered.
    Unanswered,
    /// Invitations sent.
    InvitationsSent,
    /// Invitations taken.
    InvitationsAccepted,
    /// Chats with a voice call.
    VoiceCalls,
}

/// One bar: a day of the period or an hour of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportBucket {
    /// `YYYY-MM-DD` for a day, `00`…`23` for an hour of the day.
    pub label: String,
    /// What happened in it.
    pub counts: ReportCounts,
}

/// A spread of durations (ms): how many, the median, the 90th percentile and the mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Durations {
    /// How many chats were measured.
    pub count: u32,
    /// Median (nearest rank), ms.
    pub p50_ms: Option<i64>,
    /// 90th percentile (nearest rank), ms.
    pub p90_ms: Option<i64>,
    /// Mean, ms.
    pub avg_ms: Option<i64>,
}

/// One operator's figures for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OperatorFigures {
    /// Who.
    pub operator: OperatorRef,
    /// Chats they took (requests accepted and invitations taken).
    pub chats: u32,
    /// Messages they wrote.
    pub messages: u32,
    /// Requests they declined.
    pub declined: u32,
    /// Mean time from request to their Accept (invitations not counted), ms.
    pub avg_answer_ms: Option<i64>,
    /// How long they had Live Help Available during the period, ms.
    pub available_ms: i64,
}

/// `GET /api/operator/reports`: the figures of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Report {
    /// First day.
    pub from: String,
    /// Last day (included).
    pub to: String,
    /// The site's time zone the days are in (IANA name).
    pub time_zone: String,
    /// The period as unix ms: `[start, end)`.
    pub start: i64,
    /// End of the period (exclusive), unix ms.
    pub end: i64,
    /// The operator the figures are for; absent: the team.
    pub operator: Option<OperatorRef>,
    /// The period's figures (for `operator` where a figure has one: accepted, declined,
    /// queued, invitations, voice calls and messages in their chats; requests, missed,
    /// unanswered and offline messages are the team's).
    pub totals: ReportCounts,
    /// One bucket per day of the period, in order.
    pub days: Vec<ReportBucket>,
    /// 24 buckets, one per hour of the day (the period's days added up): the busiest hours.
    pub hours: Vec<ReportBucket>,
    /// Time from request to Accept, for the requests taken.
    pub answer: Durations,
    /// How long the accepted chats lasted (Accept to end), for those that ended.
    pub length: Durations,
    /// Per operator (an operator who is not an admin sees only their own line).
    pub operators: Vec<OperatorFigures>,
}

/// One chat as reports list it (drill-down and the row-per-chat CSV).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportChat {
    /// The chat.
    pub id: ChatId,
    /// When it was requested (or the invitation sent), unix ms.
    pub started_at: i64,
    /// When an operator took it, unix ms.
    pub answered_at: Option<i64>,
    /// When it ended, unix ms.
    pub ended_at: Option<i64>,
    /// Where it stands.
    pub status: ChatStatus,
    /// Why it ended.
    pub end_reason: Option<EndReason>,
    /// Who led it (the inviter, for an invitation).
    pub operator: Option<OperatorRef>,
    /// Whether it began as an operator's invitation.
    pub invited: bool,
    /// How long the visitor waited for an answer (to the Accept, or to the end when nobody
    /// took it), ms.
    pub wait_ms: Option<i64>,
    /// From Accept to the end, ms.
    pub duration_ms: Option<i64>,
    /// Messages the visitor wrote.
    pub visitor_messages: u32,
    /// Messages operators wrote.
    pub operator_messages: u32,
    /// Declines before it was taken.
    pub declines: u32,
    /// Voice calls in it.
    pub voice_calls: u32,
    /// The page it was asked from.
    pub page_url: Option<String>,
    /// The chat name the visitor gave.
    pub visitor_name: Option<String>,
    /// Text or voice.
    pub mode: Mode,
}

/// `GET /api/operator/reports/chats`: a page of the chats behind a figure, oldest first (by
/// when they were created, then by id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportChatsPage {
    /// The chats.
    pub chats: Vec<ReportChat>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<ChatId>,
}

/// One push sent for a chat request, and how its delivery went
/// (`GET /api/operator/reports/chats/{id}/pushes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushDelivery {
    /// Whose phone.
    pub operator: OperatorRef,
    /// `apns` or `fcm`.
    pub platform: String,
    /// The device's name, when the app gave one.
    pub device_name: Option<String>,
    /// `ring` (the request) or `clear` (it was taken or ended).
    pub kind: String,
    /// When the push was queued, unix ms.
    pub queued_at: i64,
    /// When it was settled, unix ms (absent while still being tried).
    pub done_at: Option<i64>,
    /// How it ended: `delivered`, `unregistered`, `rejected: …`, `given up`, `cancelled`…
    pub result: Option<String>,
    /// Each attempt, oldest first.
    pub attempts: Vec<PushDeliveryAttempt>,
}

/// One attempt to deliver a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushDeliveryAttempt {
    /// When it started, unix ms.
    pub at: i64,
    /// How long the provider took to answer, ms.
    pub latency_ms: i64,
    /// The provider's HTTP status (0: no answer).
    pub status: i64,
    /// What it said.
    pub result: String,
}

/// `GET /api/operator/reports/export/{table}`: which CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportTable {
    /// One row per chat (streamed).
    Chats,
    /// One row per day with every count.
    Days,
    /// One row per hour of the day.
    Hours,
    /// One row per operator.
    Operators,
}

impl ReportTable {
    /// The name used in the path and the file name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportTable::Chats => "chats",
            ReportTable::Days => "days",
            ReportTable::Hours => "hours",
            ReportTable::Operators => "operators",
        }
    }
}
