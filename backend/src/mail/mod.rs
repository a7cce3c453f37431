//! Mail over SMTP (lettre): chat transcripts asked for by the visitor or an operator, offline
//! messages mailed to the team (with a copy to the visitor), operators' answers to them, and
//! the admin's test mail.
//!
//! Every mail is rendered and written to the `mail_outbox` table before anything is sent
//! ([`outbox`] sends it, retrying what the server defers, giving up on what it refuses); a
//! transcript's request and its result are events in the chat's timeline. The settings hold
//! the SMTP password, so they are sealed at rest like the push credentials and never shown.
//! Whether mail is configured reaches the widgets and the apps live ([`Mail::watch`]).

mod outbox;
pub mod render;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use switchboard_shared::{
    Author, ChatEventKind, ChatId, ErrorCode, MAX_MESSAGE_CHARS, MailInfo, MailSettingsInput,
    MailSettingsView, MailState, MailTestResult, OfflineMessage, OfflineMessageId, OperatorProfile,
    VisitorId,
};
use tokio::sync::{Mutex, Notify, watch};

use crate::chat::{Chats, audience};
use crate::error::Error;
use crate::secret::Sealer;
use crate::settings::LiveSettings;
use crate::shutdown::Closing;
use crate::store::{Store, chats, mail as db, now_ms, operators, visitors};
use crate::validate::{email, field};
use settings::Current;

/// How the mail worker is set up (boot configuration).
#[derive(Clone)]
pub struct MailConfig {
    /// Encrypts the stored settings (they hold the SMTP password).
    pub sealer: Arc<Sealer>,
    /// Extra certificate authority (PEM) trusted for the SMTP server's certificate, besides
    /// the public ones.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Longest wait for each SMTP command.
    pub timeout: Duration,
    /// First retry after this; doubled each time, up to an hour.
    pub retry_base: Duration,
}

/// Who asks for a mail.
#[derive(Debug, Clone)]
pub enum Requester {
    /// The chat's visitor.
    Visitor(VisitorId),
    /// An operator.
    Operator(OperatorProfile),
}

impl Requester {
    /// How the outbox records it: `visitor` or `operator:<id>:<name>`.
    fn stored(&self) -> String {
        match self {
            Requester::Visitor(_) => "visitor".into(),
            Requester::Operator(op) => format!("operator:{}:{}", op.id, op.name),
        }
    }

    fn author(&self) -> Author {
        match self {
            Requester::Visitor(_) => Author::Visitor,
            Requester::Operator(op) => Author::Operator {
                id: op.id,
                name: op.name.clone(),
            },
        }
    }
}

/// The author a stored `requested_by` names.
fn author_of(stored: &str) -> Author {
    let mut parts = stored.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("operator"), Some(id), Some(name)) => match id.parse() {
            Ok(id) => Author::Operator {
                id: switchboard_shared::OperatorId(id),
                name: name.to_owned(),
            },
            Err(_) => Author::System,
        },
        (Some("visitor"), ..) => Author::Visitor,
        _ => Author::System,
    }
}

struct Inner {
    store: Store,
    chats: Chats,
    settings: LiveSettings,
    config: MailConfig,
    /// The settings in force with their transport; `None`: mail is not configured.
    current: watch::Sender<Option<Arc<Current>>>,
    /// What the apps are told (`None`: not configured).
    info: watch::Sender<Option<MailInfo>>,
    changing: Mutex<()>,
    /// Rings when a mail is written, so the worker sends it at once.
    wake: Notify,
}

/// Cheap-to-clone handle to mail.
#[derive(Clone)]
pub struct Mail {
    inner: Arc<Inner>,
}

impl Mail {
    /// Reads the stored settings and starts the outbox worker.
    pub async fn start(
        store: Store,
        chats: Chats,
        settings: LiveSettings,
        config: MailConfig,
        closing: Closing,
    ) -> Result<Mail, Error> {
        let stored = settings::load(&store, &config.sealer).await?;
        let current = stored.and_then(|s| match Current::new(s, &config) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                tracing::error!(error = %e, "the stored mail parameters are unusable");
                None
            }
        });
        let info = current.as_deref().map(Current::info);
        let mail = Mail {
            inner: Arc::new(Inner {
                store,
                chats,
                settings,
                config,
                current: watch::Sender::new(current),
                info: watch::Sender::new(info),
                changing: Mutex::new(()),
                wake: Notify::new(),
            }),
        };
        tokio::spawn(mail.clone().worker(closing));
        Ok(mail)
    }

    /// Sends what was just queued without waiting for the worker's next look.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Follows whether mail is configured (and the team's addresses).
    pub fn watch(&self) -> watch::Receiver<Option<MailInfo>> {
        self.inner.info.subscribe()
    }

    /// Mail is configured now.
    pub fn info(&self) -> Option<MailInfo> {
        self.inner.info.borrow().clone()
    }

    /// The site's time zone, for the times in mails (UTC if the setting is unusable).
    fn zone(&self) -> jiff::tz::TimeZone {
        let name = self.inner.settings.with(|s| s.time_zone.clone());
        crate::reports::zone(&name).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    fn current(&self) -> Option<Arc<Current>> {
        self.inner.current.borrow().clone()
    }

    fn configured(&self) -> Result<Arc<Current>, Error> {
        self.current().ok_or_else(|| {
            Error::client(
                ErrorCode::MailUnavailable,
                "mail is not configured on this server",
            )
        })
    }

    /// The parameters without the password (`None`: not configured).
    pub fn view(&self) -> Option<MailSettingsView> {
        self.current().map(|c| c.stored.view())
    }

    /// Validates, saves (sealed) and uses new parameters; the apps and widgets are told.
    pub async fn update(&self, input: MailSettingsInput) -> Result<MailSettingsView, Error> {
        let _one_at_a_time = self.inner.changing.lock().await;
        let kept = self.current().and_then(|c| c.stored.password.clone());
        let stored = settings::Stored::from_input(input, kept)?;
        let current = Current::new(stored, &self.inner.config)?;
        settings::save(
            &self.inner.store,
            &self.inner.config.sealer,
            &current.stored,
        )
        .await?;
        let view = current.stored.view();
        self.publish(Some(Arc::new(current)));
        tracing::info!("mail parameters changed");
        Ok(view)
    }

    /// Reads the stored parameters again (another node saved or removed them).
    pub async fn reload(&self) -> Result<(), Error> {
        let _one_at_a_time = self.inner.changing.lock().await;
        let stored = settings::load(&self.inner.store, &self.inner.config.sealer).await?;
        let current = match stored {
            Some(s) => Some(Arc::new(Current::new(s, &self.inner.config)?)),
            None => None,
        };
        self.publish(current);
        Ok(())
    }

    /// Removes the parameters: mail is off (queued mails wait until it is on again).
    pub async fn remove(&self) -> Result<(), Error> {
        let _one_at_a_time = self.inner.changing.lock().await;
        crate::store::settings::delete_key(&self.inner.store.write, settings::KEY).await?;
        self.publish(None);
        tracing::info!("mail parameters removed");
        Ok(())
    }

    fn publish(&self, current: Option<Arc<Current>>) {
        let info = current.as_deref().map(Current::info);
        self.inner.current.send_replace(current);
        self.inner.info.send_if_modified(|old| {
            let changed = *old != info;
            *old = info;
            changed
        });
        self.inner.wake.notify_one();
    }

    /// Sends a test mail now (not through the outbox) and reports the server's answer.
    pub async fn test(&self, to: &str) -> Result<MailTestResult, Error> {
        let current = self.configured()?;
        let to = email(to)?;
        let rendered = render::test_mail(message_id(&current));
        let (sent, answer) = match current.send(&to, &rendered, &self.inner.config).await {
            Ok(answer) => (true, answer),
            Err(failure) => (false, failure.answer),
        };
        tracing::info!(sent, %answer, "test mail");
        Ok(MailTestResult { sent, answer })
    }

    /// "Send chat transcript" / "Mail me this chat transcript": checks who asks, the limits
    /// and the address, stores the mail and its `queued` event; returns that event's `seq`.
    /// A retry with the same `client_id` stores nothing more and gets the same `seq`.
    pub async fn transcript(
        &self,
        who: Requester,
        chat: ChatId,
        client_id: &str,
        to: &str,
    ) -> Result<i64, Error> {
        let current = self.configured()?;
        let to = email(to)?;
        let client_id = field(client_id, "client_id", 64)?;
        let read = &self.inner.store.read;
        let summary = chats::get_from(read, chat).await?;
        let summary = match (&who, summary) {
            (Requester::Visitor(v), Some(c)) if c.visitor_id == *v => c,
            (Requester::Visitor(_), _) | (Requester::Operator(_), None) => {
                return Err(Error::not_found("chat"));
            }
            (Requester::Operator(op), Some(c)) => {
                if !audience::operator_may_read(&c, op) {
                    return Err(Error::client(
                        ErrorCode::Forbidden,
                        "that chat is another operator's",
                    ));
                }
                c
            }
        };
        let key = format!("t:{}:{chat}:{client_id}", who.stored());
        if let Some(earlier) = db::by_request_key(read, &key).await? {
            return self.queued_event(&earlier, &who).await;
        }
        if matches!(who, Requester::Visitor(_)) {
            let max = self.inner.settings.with(|s| s.limits.transcripts_per_chat);
            if db::count_visitor_transcripts(read, chat).await? >= i64::from(max) {
                return Err(Error::client(
                    ErrorCode::RateLimited,
                    format!("at most {max} transcripts of one chat can be mailed"),
                ));
            }
        }
        let limited = !self.is_team_address(&current, &to).await?;
        self.within_address_limit(&to, limited).await?;
        let events = chats::events_after(read, chat, 0, 100_000).await?;
        let rendered = render::transcript(&summary, &events, &self.zone(), message_id(&current));
        let stored = db::NewMail {
            kind: "transcript",
            chat: Some(chat),
            offline_message: None,
            requested_by: &who.stored(),
            request_key: Some(&key),
            to: &to,
            limited,
            message: &serde_json::to_string(&rendered)?,
            now: now_ms(),
        };
        let mut conn = self.inner.store.write.acquire().await?;
        let (mail, _) = db::insert(&mut conn, &stored).await?;
        drop(conn);
        tracing::info!(mail = mail.id, %chat, by = %who.stored(), "transcript queued");
        let seq = self.queued_event(&mail, &who).await?;
        self.inner.wake.notify_one();
        Ok(seq)
    }

    /// The `seq` of a transcript's `queued` event, recorded now if it is not yet.
    async fn queued_event(&self, mail: &db::Mail, who: &Requester) -> Result<i64, Error> {
        if let Some(seq) = mail.queued_seq {
            return Ok(seq);
        }
        let chat = mail
            .chat
            .ok_or_else(|| Error::Internal("a transcript without a chat".into()))?;
        let kind = ChatEventKind::TranscriptMail {
            mail_id: mail.id,
            by: who.author(),
            to: mail.to.clone(),
            state: MailState::Queued,
            detail: None,
        };
        let done = self.inner.chats.note(chat, kind).await?;
        let seq = done.seq.unwrap_or(0);
        db::set_queued_seq(&self.inner.store.write, mail.id, seq).await?;
        Ok(seq)
    }

    /// A visitor left a message: its mails go to each of the team's addresses (Reply-To the
    /// visitor) and a copy to the visitor, stored in the caller's transaction (the one that
    /// stores the message, so neither is kept without the other); [`Mail::wake`] after the
    /// commit sends them at once. Nothing is queued when mail is not configured.
    pub async fn queue_offline(
        &self,
        write: &mut sqlx::AnyConnection,
        m: &OfflineMessage,
    ) -> Result<(), Error> {
        let Some(current) = self.current() else {
            return Ok(());
        };
        let now = now_ms();
        let zone = self.zone();
        for to in &current.stored.offline_recipients {
            let rendered = render::offline_to_team(m, &zone, message_id(&current));
            let key = format!("o:{}:{to}", m.id);
            let mail = db::NewMail {
                kind: "offline",
                chat: None,
                offline_message: Some(m.id),
                requested_by: "visitor",
                request_key: Some(&key),
                to,
                limited: false,
                message: &serde_json::to_string(&rendered)?,
                now,
            };
            db::insert(&mut *write, &mail).await?;
        }
        // The visitor's copy counts towards the address's limit: "Leave a message" must not
        // become a way to mail strangers.
        match self.within_address_limit(&m.email, true).await {
            Ok(()) => {
                let rendered = render::offline_copy(m, message_id(&current));
                let key = format!("oc:{}", m.id);
                let mail = db::NewMail {
                    kind: "offline_copy",
                    chat: None,
                    offline_message: Some(m.id),
                    requested_by: "visitor",
                    request_key: Some(&key),
                    to: &m.email,
                    limited: true,
                    message: &serde_json::to_string(&rendered)?,
                    now,
                };
                db::insert(&mut *write, &mail).await?;
            }
            Err(_) => {
                tracing::info!(offline_message = %m.id, "no copy to the visitor: the address had its mails this hour")
            }
        }
        Ok(())
    }

    /// An operator answers an offline message by e-mail; the message is marked answered.
    pub async fn reply(
        &self,
        op: &OperatorProfile,
        id: OfflineMessageId,
        client_id: &str,
        text: &str,
    ) -> Result<OfflineMessage, Error> {
        let current = self.configured()?;
        let client_id = field(client_id, "client_id", 64)?;
        let text = field(text, "text", MAX_MESSAGE_CHARS)?;
        let read = &self.inner.store.read;
        let message = visitors::offline_message_by_id(read, id)
            .await?
            .ok_or_else(|| Error::not_found("offline message"))?;
        let key = format!("r:{}:{client_id}", op.id);
        if db::by_request_key(read, &key).await?.is_none() {
            let limited = !self.is_team_address(&current, &message.email).await?;
            self.within_address_limit(&message.email, limited).await?;
            let rendered = render::offline_reply(
                &message,
                &op.name,
                &text,
                &self.zone(),
                message_id(&current),
            );
            let now = now_ms();
            let mail = db::NewMail {
                kind: "reply",
                chat: message.chat_id,
                offline_message: Some(id),
                requested_by: &Requester::Operator(op.clone()).stored(),
                request_key: Some(&key),
                to: &message.email,
                limited,
                message: &serde_json::to_string(&rendered)?,
                now,
            };
            let mut conn = self.inner.store.write.acquire().await?;
            let (mail, new) = db::insert(&mut conn, &mail).await?;
            drop(conn);
            if new {
                db::mark_replied(&self.inner.store.write, id, now, &op.name).await?;
                tracing::info!(mail = mail.id, offline_message = %id, operator = %op.id, "reply queued");
            }
            self.inner.wake.notify_one();
        }
        visitors::offline_message_by_id(&self.inner.store.write, id)
            .await?
            .ok_or_else(|| Error::not_found("offline message"))
    }

    /// The team's own addresses (offline-message recipients and operators) are not limited.
    async fn is_team_address(&self, current: &Current, to: &str) -> Result<bool, Error> {
        if current
            .stored
            .offline_recipients
            .iter()
            .any(|r| r.eq_ignore_ascii_case(to))
        {
            return Ok(true);
        }
        Ok(
            operators::by_email(&self.inner.store.read, &to.to_lowercase())
                .await?
                .is_some(),
        )
    }

    /// At most the settings' number of mails to one address an hour.
    async fn within_address_limit(&self, to: &str, limited: bool) -> Result<(), Error> {
        if !limited {
            return Ok(());
        }
        let max = self
            .inner
            .settings
            .with(|s| s.limits.mails_per_address_per_hour);
        let since = now_ms() - 3_600_000;
        if db::count_to_address(&self.inner.store.read, to, since).await? >= i64::from(max) {
            return Err(Error::rate_limited(Duration::from_secs(3600)));
        }
        Ok(())
    }

    /// Records a transcript's result in its chat.
    async fn transcript_result(&self, mail: &db::Mail, state: MailState, detail: &str) {
        let Some(chat) = mail.chat else { return };
        let kind = ChatEventKind::TranscriptMail {
            mail_id: mail.id,
            by: author_of(&mail.requested_by),
            to: mail.to.clone(),
            state,
            detail: Some(detail.to_owned()),
        };
        if let Err(e) = self.inner.chats.note(chat, kind).await {
            tracing::warn!(error = %e, mail = mail.id, %chat, "recording a transcript's result failed");
        }
    }
}

/// A fresh `Message-ID` in the sender's domain.
fn message_id(current: &Current) -> String {
    let token = crate::auth::new_token();
    format!("<{}@{}>", &token[..24], current.domain())
}
