//! Mail: the SMTP settings (admin), chat transcripts by e-mail (visitor and operator), offline
//! messages mailed to the team, and what the widget and the app are told about it.
//!
//! Every mail is written to an outbox before it is sent; a transcript's request and its result
//! are events in the chat ([`crate::ChatEventKind::TranscriptMail`]).

use serde::{Deserialize, Serialize};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS"), usually port 465.
    Tls,
    /// No encryption: only for a relay on the same machine or network.
    None,
}

/// `PUT /api/admin/mail`: the mail parameters. The password is write-only: absent keeps the
/// stored one, empty removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailSettingsInput {
    /// The SMTP server's host name.
    pub host: String,
    /// Its port (587 for STARTTLS, 465 for TLS, 25 for a local relay).
    pub port: u16,
    /// How the connection is secured.
    pub security: SmtpSecurity,
    /// The user to log in as (no login when absent).
    #[serde(default)]
    pub username: Option<String>,
    /// The password (absent: keep the stored one; empty: none).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub password: Option<String>,
    /// The sender address, optionally with a name: `Acme Support <support@acme.example>`.
    pub from: String,
    /// Where replies go, when not to `from`.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Who receives offline messages ("Leave a message"); also offered in the operator's
    /// "Send chat transcript" list.
    #[serde(default)]
    pub offline_recipients: Vec<String>,
}

/// `GET /api/admin/mail`: the mail parameters without the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailSettingsView {
    /// The SMTP server's host name.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is secured.
    pub security: SmtpSecurity,
    /// The user it logs in as.
    pub username: Option<String>,
    /// Whether a password is stored.
    pub has_password: bool,
    /// The sender.
    pub from: String,
    /// Where replies go.
    pub reply_to: Option<String>,
    /// Who receives offline messages.
    pub offline_recipients: Vec<String>,
}

/// `POST /api/admin/mail/test`: send a test mail now, with the saved parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailTestRequest {
    /// Where to send it.
    pub to: String,
}

/// The answer to a test mail: what the SMTP server said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailTestResult {
    /// The server accepted the mail.
    pub sent: bool,
    /// Its answer ("250 2.0.0 Ok: queued as …"), or why it could not be reached.
    pub answer: String,
}

/// What the operator app knows about mail: present when mail is configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailInfo {
    /// The team's addresses (the offline-message recipients), offered in "Send chat
    /// transcript".
    pub addresses: Vec<String>,
}

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Waiting in the outbox (retried while the SMTP server is away or says "try later").
    Queued,
    /// The SMTP server accepted it.
    Sent,
    /// It could not be sent: the server refused it, or it kept failing.
    Failed,
}

/// `POST /api/operator/offline-messages/{id}/reply`: answer an offline message by e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OfflineReplyRequest {
    /// Idempotency key: a retry with the same key sends nothing more.
    pub client_id: String,
    /// The answer.
    pub text: String,
}

/// `POST /api/operator/offline-messages/read`: the operator has seen the offline messages up to
/// this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OfflineReadRequest {
    /// The newest offline message seen.
    pub up_to: crate::OfflineMessageId,
}
