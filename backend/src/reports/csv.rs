//! Reports as CSV (RFC 4180: comma separated, CRLF line ends, fields quoted when they need to
//! be), ready for a spreadsheet: times in ISO 8601 with the site's offset, durations in
//! seconds, an optional UTF-8 byte order mark (what Excel needs to read UTF-8).
//!
//! The row-per-chat export streams: it reads the chats a page at a time by id and writes each
//! page out before reading the next, so its memory does not grow with the period.
//! Text a visitor typed is never taken for a formula: a field starting with `=`, `+`, `-`, `@`,
//! tab or CR is prefixed with `'` (the OWASP advice for CSV injection).

use axum::body::Bytes;
use futures_util::Stream;
use switchboard_shared::{
    ChatId, ChatStatus, EndReason, Mode, OperatorId, OperatorProfile, Report, ReportChat,
    ReportCounts,
};

use super::Period;
use crate::error::Error;
use crate::store::Store;
use crate::store::reports::{self as db, ChatFilter};

/// The byte order mark that tells spreadsheets the file is UTF-8.
pub const BOM: &str = "\u{feff}";

/// Chats read per page while streaming.
const PAGE: i64 = 500;

/// Appends one field, quoted when it holds a comma, quote or line break.
fn field(out: &mut String, value: &str) {
    let guarded = matches!(
        value.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    let needs_quotes = value.contains([',', '"', '\n', '\r']);
    if needs_quotes || guarded {
        out.push('"');
        if guarded {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Appends one row.
fn row<S: AsRef<str>>(out: &mut String, fields: impl IntoIterator<Item = S>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, f.as_ref());
    }
    out.push_str("\r\n");
}

/// A duration in whole seconds, or empty.
fn secs(ms: Option<i64>) -> String {
    ms.map(|ms| (ms / 1000).to_string()).unwrap_or_default()
}

const COUNT_COLUMNS: [&str; 12] = [
    "requested",
    "accepted",
    "declined",
    "queued",
    "missed",
    "unanswered",
    "left_message",
    "invitations_sent",
    "invitations_accepted",
    "voice_calls",
    "visitor_messages",
    "operator_messages",
];

fn counts(c: &ReportCounts) -> [String; 12] {
    [
        c.requested,
        c.accepted,
        c.declined,
        c.queued,
        c.missed,
        c.unanswered,
        c.left_message,
        c.invitations_sent,
        c.invitations_accepted,
        c.voice_calls,
        c.visitor_messages,
        c.operator_messages,
    ]
    .map(|n| n.to_string())
}

/// One row per day (`days`) or per hour of the day (`hours`), with every count.
pub fn buckets(report: &Report, hours: bool) -> String {
    let mut out = String::new();
    let first = if hours { "hour" } else { "day" };
    row(&mut out, std::iter::once(first).chain(COUNT_COLUMNS));
    let list = if hours { &report.hours } else { &report.days };
    for b in list {
        row(
            &mut out,
            std::iter::once(b.label.clone()).chain(counts(&b.counts)),
        );
    }
    out
}

/// One row per operator.
pub fn operators(report: &Report) -> String {
    let mut out = String::new();
    row(
        &mut out,
        [
            "operator_id",
            "operator",
            "chats",
            "messages",
            "declined",
            "avg_answer_seconds",
            "available_seconds",
        ],
    );
    for o in &report.operators {
        row(
            &mut out,
            [
                o.operator.id.to_string(),
                o.operator.name.clone(),
                o.chats.to_string(),
                o.messages.to_string(),
                o.declined.to_string(),
                secs(o.avg_answer_ms),
                (o.available_ms / 1000).to_string(),
            ],
        );
    }
    out
}

/// The columns of the row-per-chat export.
pub const CHAT_COLUMNS: [&str; 18] = [
    "id",
    "started",
    "answered",
    "ended",
    "status",
    "end_reason",
    "operator_id",
    "operator",
    "invitation",
    "wait_seconds",
    "duration_seconds",
    "visitor_messages",
    "operator_messages",
    "declines",
    "voice_calls",
    "page",
    "visitor_name",
    "mode",
];

fn status(s: ChatStatus) -> &'static str {
    s.as_str()
}

fn reason(r: EndReason) -> &'static str {
    match r {
        EndReason::Visitor => "visitor",
        EndReason::Operator => "operator",
        EndReason::NoOperator => "no_operator",
        EndReason::Declined => "declined",
    }
}

fn mode(m: Mode) -> &'static str {
    m.as_str()
}

/// One chat as a row.
pub fn chat_row(out: &mut String, period: &Period, c: &ReportChat) {
    let time = |ms: Option<i64>| ms.map(|ms| period.iso(ms)).unwrap_or_default();
    row(
        out,
        [
            c.id.to_string(),
            period.iso(c.started_at),
            time(c.answered_at),
            time(c.ended_at),
            status(c.status).to_owned(),
            c.end_reason.map(reason).unwrap_or_default().to_owned(),
            c.operator
                .as_ref()
                .map(|o| o.id.to_string())
                .unwrap_or_default(),
            c.operator
                .as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            if c.invited { "yes" } else { "no" }.to_owned(),
            secs(c.wait_ms),
            secs(c.duration_ms),
            c.visitor_messages.to_string(),
            c.operator_messages.to_string(),
            c.declines.to_string(),
            c.voice_calls.to_string(),
            c.page_url.clone().unwrap_or_default(),
            c.visitor_name.clone().unwrap_or_default(),
            mode(c.mode).to_owned(),
        ],
    );
}

/// Every chat of the period (`operator`'s, when given; only the viewer's own and nobody's for
/// an operator who is not an admin), as a stream of CSV chunks: the header (after the BOM
/// when asked), then one chunk per page of chats.
pub fn chats(
    store: Store,
    period: Period,
    operator: Option<OperatorId>,
    viewer: &OperatorProfile,
    bom: bool,
) -> impl Stream<Item = Result<Bytes, Error>> + Send + 'static {
    let viewer = (!viewer.is_admin).then_some(viewer.id);
    let mut head = String::new();
    if bom {
        head.push_str(BOM);
    }
    row(&mut head, CHAT_COLUMNS);
    // State: the header still to send, the last id sent, whether the last page was short.
    let init = (Some(head), None::<ChatId>, false);
    futures_util::stream::try_unfold(init, move |(head, after, done)| {
        let store = store.clone();
        let period = period.clone();
        async move {
            if let Some(head) = head {
                return Ok(Some((Bytes::from(head), (None, after, done))));
            }
            if done {
                return Ok(None);
            }
            let filter = ChatFilter {
                start: period.start(),
                end: period.end(),
                figure: "all",
                operator,
                viewer,
            };
            let page = db::chats_page(&store.read, filter, after, PAGE).await?;
            if page.is_empty() {
                return Ok(None);
            }
            let short = (page.len() as i64) < PAGE;
            let last = page.last().map(|c| c.id);
            let mut out = String::with_capacity(page.len() * 160);
            for c in &page {
                chat_row(&mut out, &period, c);
            }
            Ok(Some((Bytes::from(out), (None, last, short))))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_never_formulas() {
        let mut out = String::new();
        row(
            &mut out,
            [
                "plain",
                "a,b",
                "say \"hi\"",
                "two\nlines",
                "=HYPERLINK(\"x\")",
                "-1",
                "Zoë",
            ],
        );
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"'=HYPERLINK(\"\"x\"\")\",\"'-1\",Zoë\r\n"
        );
    }
}
