//! What the mails say: a chat transcript, an offline message (to the team and the visitor's
//! copy), an operator's answer to one. Each is a plain-text part and an HTML part made from the
//! same lines; everything a visitor or operator typed is escaped in the HTML, and only
//! `http(s)://` addresses become links.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use switchboard_shared::{
    Author, CallEndReason, ChatEvent, ChatEventKind, ChatSummary, Mode, OfflineMessage,
};

/// A rendered mail, as the outbox stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// Where replies go, when not to the configured Reply-To (an offline message: the visitor).
    pub reply_to: Option<String>,
    /// The `Message-ID` (kept, so a resend after a crash carries the same one).
    pub message_id: String,
}

impl Rendered {
    /// A mail whose replies go where the settings say.
    fn new(subject: String, text: String, html: String, message_id: String) -> Rendered {
        Rendered {
            subject,
            text,
            html,
            reply_to: None,
            message_id,
        }
    }
}

/// One line of a transcript.
struct Line {
    at: i64,
    who: Option<String>,
    text: String,
}

/// The transcript of a chat from its stored events.
pub fn transcript(
    chat: &ChatSummary,
    events: &[ChatEvent],
    zone: &TimeZone,
    message_id: String,
) -> Rendered {
    let visitor = chat
        .visitor_name
        .clone()
        .unwrap_or_else(|| "Visitor".into());
    let lines: Vec<Line> = events.iter().filter_map(|e| line(e, &visitor)).collect();
    let mode = match chat.mode {
        Mode::Text => "Text chat",
        Mode::Voice => "Voice chat",
    };
    let mut head = vec![
        ("Chat", format!("#{}", chat.id)),
        ("Visitor", visitor.clone()),
        ("Started", date_time(chat.created_at, zone)),
        ("Type", mode.into()),
    ];
    if let Some(op) = &chat.operator {
        head.push(("Operator", op.name.clone()));
    }
    if let Some(end) = chat.ended_at {
        head.push(("Ended", date_time(end, zone)));
    }
    let page = chat.page.as_ref();
    let subject = format!(
        "Chat transcript: {visitor}, {}",
        &date_time(chat.created_at, zone)[..10]
    );

    let mut text = String::from("Chat transcript\n\n");
    for (k, v) in &head {
        text.push_str(&format!("{k}: {v}\n"));
    }
    if let Some(p) = page {
        text.push_str(&format!("Page: {}\n", p.url));
    }
    text.push('\n');
    for l in &lines {
        let who = l
            .who
            .as_deref()
            .map(|w| format!("{w}: "))
            .unwrap_or_default();
        text.push_str(&format!("[{}] {who}{}\n", time(l.at, zone), l.text));
    }

    let mut html = String::from(HTML_HEAD);
    html.push_str("<h1 style=\"font-size:18px\">Chat transcript</h1>\n<table>\n");
    for (k, v) in &head {
        html.push_str(&format!(
            "<tr><th align=\"left\">{k}</th><td>{}</td></tr>\n",
            escape(v)
        ));
    }
    if let Some(p) = page {
        let title = p.title.as_deref().unwrap_or(&p.url);
        html.push_str(&format!(
            "<tr><th align=\"left\">Page</th><td>{}</td></tr>\n",
            link(&p.url, title)
        ));
    }
    html.push_str("</table>\n<hr>\n");
    for l in &lines {
        let who = l
            .who
            .as_deref()
            .map(|w| format!("<b>{}</b>: ", escape(w)))
            .unwrap_or_default();
        html.push_str(&format!(
            "<p style=\"margin:4px 0\"><span style=\"color:#666\">{}</span> {who}{}</p>\n",
            time(l.at, zone),
            linkify(&l.text)
        ));
    }
    html.push_str(HTML_FOOT);
    Rendered::new(subject, text, html, message_id)
}

/// The transcript line an event makes, if any (mail bookkeeping and declines make none).
fn line(e: &ChatEvent, visitor: &str) -> Option<Line> {
    let (who, text) = match &e.kind {
        ChatEventKind::Invited { operator, text } => {
            (Some(operator.name.clone()), format!("(invitation) {text}"))
        }
        ChatEventKind::Requested { .. } => (None, "Chat requested".into()),
        ChatEventKind::Message { author, text, .. } => {
            let who = match author {
                Author::Visitor => visitor.to_owned(),
                Author::Operator { name, .. } => name.clone(),
                Author::System => return Some(system(e.at, text.clone())),
            };
            (Some(who), text.clone())
        }
        ChatEventKind::Accepted { operator } => {
            (None, format!("{} joined the chat", operator.name))
        }
        ChatEventKind::Queued { .. } => (None, "Chat moved to the queue".into()),
        ChatEventKind::OnHold { .. } => (None, "Chat on hold".into()),
        ChatEventKind::Resumed { .. } => (None, "Chat resumed".into()),
        ChatEventKind::Ended { .. } => (None, "Chat ended".into()),
        ChatEventKind::CallInvited { operator } => (
            None,
            format!("{} invited the visitor to talk", operator.name),
        ),
        ChatEventKind::CallStarted { .. } => (None, "Voice call started".into()),
        ChatEventKind::CallEnded {
            duration_ms,
            reason,
            ..
        } => {
            let text = match (duration_ms, reason) {
                (Some(ms), _) => format!("Voice call ended ({})", duration(*ms)),
                (None, CallEndReason::Refused) => "Voice call refused".into(),
                (None, _) => "Voice call did not connect".into(),
            };
            (None, text)
        }
        ChatEventKind::Declined { .. }
        | ChatEventKind::CallConnected { .. }
        | ChatEventKind::TranscriptMail { .. } => return None,
    };
    Some(Line {
        at: e.at,
        who,
        text,
    })
}

fn system(at: i64, text: String) -> Line {
    Line {
        at,
        who: None,
        text,
    }
}

/// An offline message, to the team: Reply-To the visitor.
pub fn offline_to_team(m: &OfflineMessage, zone: &TimeZone, message_id: String) -> Rendered {
    let subject = format!("Message from {} (Leave a message)", m.name);
    let text = format!(
        "A visitor left a message.\n\nName: {}\nE-mail: {}\nLeft: {}\n\n{}\n\n\
         Reply to this mail to answer {}.\n",
        m.name,
        m.email,
        date_time(m.created_at, zone),
        m.text,
        m.name
    );
    let html = format!(
        "{HTML_HEAD}<p>A visitor left a message.</p>\n<table>\n\
         <tr><th align=\"left\">Name</th><td>{}</td></tr>\n\
         <tr><th align=\"left\">E-mail</th><td>{}</td></tr>\n\
         <tr><th align=\"left\">Left</th><td>{}</td></tr>\n</table>\n\
         <blockquote>{}</blockquote>\n<p>Reply to this mail to answer {}.</p>\n{HTML_FOOT}",
        escape(&m.name),
        escape(&m.email),
        date_time(m.created_at, zone),
        linkify(&m.text),
        escape(&m.name)
    );
    Rendered {
        subject,
        text,
        html,
        reply_to: Some(m.email.clone()),
        message_id,
    }
}

/// The visitor's copy of their offline message.
pub fn offline_copy(m: &OfflineMessage, message_id: String) -> Rendered {
    let subject = "We received your message".to_owned();
    let text = format!(
        "Hello {},\n\nthank you for your message. We will answer you at this address.\n\n\
         Your message:\n\n{}\n",
        m.name, m.text
    );
    let html = format!(
        "{HTML_HEAD}<p>Hello {},</p>\n<p>thank you for your message. We will answer you at \
         this address.</p>\n<p>Your message:</p>\n<blockquote>{}</blockquote>\n{HTML_FOOT}",
        escape(&m.name),
        linkify(&m.text)
    );
    Rendered::new(subject, text, html, message_id)
}

/// An operator's answer to an offline message.
pub fn offline_reply(
    m: &OfflineMessage,
    operator: &str,
    answer: &str,
    zone: &TimeZone,
    message_id: String,
) -> Rendered {
    let subject = "Re: your message".to_owned();
    let quoted: String = m.text.lines().map(|l| format!("> {l}\n")).collect();
    let text = format!(
        "{answer}\n\n{operator}\n\nOn {} you wrote:\n{quoted}",
        date_time(m.created_at, zone)
    );
    let html = format!(
        "{HTML_HEAD}<p>{}</p>\n<p>{}</p>\n<p style=\"color:#666\">On {} you wrote:</p>\n\
         <blockquote style=\"color:#666\">{}</blockquote>\n{HTML_FOOT}",
        linkify(answer),
        escape(operator),
        date_time(m.created_at, zone),
        linkify(&m.text)
    );
    Rendered::new(subject, text, html, message_id)
}

/// A test mail from the admin.
pub fn test_mail(message_id: String) -> Rendered {
    let words = "The mail parameters work: this mail came through them.";
    Rendered::new(
        "Switchboard test mail".into(),
        format!("{words}\n"),
        format!("{HTML_HEAD}<p>{words}</p>\n{HTML_FOOT}"),
        message_id,
    )
}

const HTML_HEAD: &str = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n\
                         <body style=\"font-family:sans-serif;font-size:14px\">\n";
const HTML_FOOT: &str = "</body></html>\n";

/// Text made safe inside HTML elements and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link to an `http(s)` address; anything else stays text.
fn link(url: &str, label: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        format!(
            "<a href=\"{}\" rel=\"noopener noreferrer nofollow\">{}</a>",
            escape(url),
            escape(label)
        )
    } else {
        escape(label)
    }
}

/// Escapes text, makes its `http(s)://` addresses links and its line breaks `<br>`.
pub fn linkify(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            let lower = word.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                // Punctuation that ends a sentence is not part of the address.
                let url = word.trim_end_matches(['.', ',', ')', '!', '?', ';', ':']);
                out.push_str(&link(url, url));
                out.push_str(&escape(&word[url.len()..]));
            } else {
                out.push_str(&escape(word));
            }
        }
    }
    out
}

/// `m:ss` of a duration in ms.
fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// `HH:MM:SS` of a unix-ms time in the site's time zone.
fn time(ms: i64, zone: &TimeZone) -> String {
    zoned(ms, zone).strftime("%H:%M:%S").to_string()
}

/// `YYYY-MM-DD HH:MM:SS CET` of a unix-ms time in the site's time zone (its abbreviation
/// after it, or its offset where the zone has none).
pub fn date_time(ms: i64, zone: &TimeZone) -> String {
    zoned(ms, zone).strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
}

fn zoned(ms: i64, zone: &TimeZone) -> jiff::Zoned {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_in_the_site_time_zone() {
        let utc = TimeZone::UTC;
        assert_eq!(date_time(0, &utc), "1970-01-01 00:00:00 UTC");
        // 2026-12-01 05:54:03 UTC
        assert_eq!(
            date_time(1_796_104_443_000, &utc),
            "2026-12-01 05:54:03 UTC"
        );
        let paris = TimeZone::get("Europe/Paris").unwrap();
        assert_eq!(
            date_time(1_796_104_443_000, &paris),
            "2026-12-01 06:54:03 CET"
        );
        assert_eq!(time(1_796_104_443_000, &paris), "06:54:03");
        // a leap day
        assert_eq!(date_time(951_782_400_000, &utc), "2000-02-29 00:00:00 UTC");
        assert_eq!(duration(125_400), "2:05");
    }

    #[test]
    fn text_is_escaped_and_only_web_addresses_link() {
        assert_eq!(
            linkify("<img src=x onerror=alert(1)> & \"q\""),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(
            linkify("see https://shop.example/a?b=1&c=\"2\"."),
            "see <a href=\"https://shop.example/a?b=1&amp;c=&quot;2&quot;\" \
             rel=\"noopener noreferrer nofollow\">https://shop.example/a?b=1&amp;c=&quot;2&quot;</a>."
        );
        assert_eq!(
            linkify("javascript:alert(1)"),
            "javascript:alert(1)",
            "not a link"
        );
        assert_eq!(linkify("a\nb"), "a<br>b");
    }
}
