//! The mail parameters as stored (sealed, with the password) and the SMTP transport built
//! from them; sending one rendered mail.

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use switchboard_shared::{MailInfo, MailSettingsInput, MailSettingsView, SmtpSecurity};

use super::MailConfig;
use super::render::Rendered;
use crate::error::Error;
use crate::secret::Sealer;
use crate::store::{Store, settings as db};
use crate::validate::{email, field};

/// The settings key.
pub(super) const KEY: &str = "mail";
const PURPOSE: &str = "mail settings";
/// Most offline-message recipients.
const MAX_RECIPIENTS: usize = 20;

/// The parameters as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stored {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub reply_to: Option<String>,
    pub offline_recipients: Vec<String>,
}

impl Stored {
    /// Checks the admin's input; `kept` is the stored password, used when none is given.
    pub(super) fn from_input(i: MailSettingsInput, kept: Option<String>) -> Result<Stored, Error> {
        let host = field(&i.host, "host", 253)?;
        if host
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '@')
        {
            return Err(Error::invalid(
                "host must be a host name like smtp.example.com",
            ));
        }
        if i.port == 0 {
            return Err(Error::invalid("port must be 1 to 65535"));
        }
        let username = match i.username.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(field(u, "username", 254)?),
        };
        let password = match i.password {
            None => kept,
            Some(p) if p.is_empty() => None,
            Some(p) if p.chars().count() > 1000 || p.contains(['\r', '\n', '\0']) => {
                return Err(Error::invalid(
                    "password: at most 1000 characters, one line",
                ));
            }
            Some(p) => Some(p),
        };
        let from = mailbox(&i.from, "from")?.to_string();
        let reply_to = match i.reply_to.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) => Some(mailbox(r, "reply_to")?.to_string()),
        };
        if i.offline_recipients.len() > MAX_RECIPIENTS {
            return Err(Error::invalid(format!(
                "offline_recipients: at most {MAX_RECIPIENTS} addresses"
            )));
        }
        let mut offline_recipients: Vec<String> = Vec::new();
        for r in &i.offline_recipients {
            let r = email(r)?;
            if !offline_recipients
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&r))
            {
                offline_recipients.push(r);
            }
        }
        Ok(Stored {
            host,
            port: i.port,
            security: i.security,
            username,
            password,
            from,
            reply_to,
            offline_recipients,
        })
    }

    /// Without the password.
    pub(super) fn view(&self) -> MailSettingsView {
        MailSettingsView {
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            username: self.username.clone(),
            has_password: self.password.is_some(),
            from: self.from.clone(),
            reply_to: self.reply_to.clone(),
            offline_recipients: self.offline_recipients.clone(),
        }
    }
}

/// `Name <address>` or a bare address, checked.
fn mailbox(value: &str, name: &str) -> Result<Mailbox, Error> {
    let value = field(value, name, 320)?;
    let parsed: Mailbox = value.parse().map_err(|_| {
        Error::invalid(format!(
            "{name}: not an address like Support <help@example.com>"
        ))
    })?;
    email(parsed.email.as_ref())
        .map_err(|_| Error::invalid(format!("{name}: not an e-mail address")))?;
    Ok(parsed)
}

/// The parameters in force and what sends with them.
pub(super) struct Current {
    pub stored: Stored,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

/// Why a send failed, and whether trying again may help.
#[derive(Debug)]
pub(super) struct Failure {
    /// The server's answer or the connection's error.
    pub answer: String,
    /// A 4xx answer, a timeout, a connection or TLS failure: try again later.
    pub transient: bool,
}

impl Current {
    /// Builds the transport the parameters describe.
    pub(super) fn new(stored: Stored, config: &MailConfig) -> Result<Current, Error> {
        let tls = || -> Result<TlsParameters, Error> {
            let mut builder = TlsParameters::builder(stored.host.clone());
            if let Some(pem) = &config.extra_ca_pem {
                let ca = Certificate::from_pem(pem)
                    .map_err(|e| Error::Config(format!("the extra SMTP CA: {e}")))?;
                builder = builder.add_root_certificate(ca);
            }
            builder
                .build_rustls()
                .map_err(|e| Error::invalid(format!("TLS for {}: {e}", stored.host)))
        };
        let tls = match stored.security {
            SmtpSecurity::Starttls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&stored.host)
            .port(stored.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(user) = &stored.username {
            let password = stored.password.clone().unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let from = mailbox(&stored.from, "from")?;
        let reply_to = stored
            .reply_to
            .as_deref()
            .map(|r| mailbox(r, "reply_to"))
            .transpose()?;
        Ok(Current {
            transport: builder.build(),
            from,
            reply_to,
            stored,
        })
    }

    /// What the apps are told.
    pub(super) fn info(&self) -> MailInfo {
        MailInfo {
            addresses: self.stored.offline_recipients.clone(),
        }
    }

    /// The sender's domain (for `Message-ID`s).
    pub(super) fn domain(&self) -> String {
        self.from.email.domain().to_owned()
    }

    /// Sends one mail; the server's answer when it took it.
    pub(super) async fn send(
        &self,
        to: &str,
        r: &Rendered,
        config: &MailConfig,
    ) -> Result<String, Failure> {
        let refused = |answer: String| Failure {
            answer,
            transient: false,
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e| refused(format!("bad address {to:?}: {e}")))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(r.subject.clone())
            .message_id(Some(r.message_id.clone()));
        let reply_to = match &r.reply_to {
            Some(addr) => addr.parse::<Mailbox>().ok(),
            None => self.reply_to.clone(),
        };
        if let Some(reply_to) = reply_to {
            builder = builder.reply_to(reply_to);
        }
        let parts = MultiPart::alternative()
            .singlepart(
                lettre::message::SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(r.text.clone()),
            )
            .singlepart(
                lettre::message::SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(r.html.clone()),
            );
        let message = builder
            .multipart(parts)
            .map_err(|e| refused(format!("the mail could not be built: {e}")))?;
        // Each command has its timeout; the whole exchange gets a few of them.
        let whole = config.timeout * 4;
        match tokio::time::timeout(whole, self.transport.send(message)).await {
            Ok(Ok(response)) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Ok(Err(e)) => Err(Failure {
                answer: e.to_string(),
                transient: !e.is_permanent(),
            }),
            Err(_) => Err(Failure {
                answer: format!("no answer within {} s", whole.as_secs()),
                transient: true,
            }),
        }
    }
}

/// Saves the parameters (sealed).
pub(super) async fn save(store: &Store, sealer: &Sealer, stored: &Stored) -> Result<(), Error> {
    db::save_sealed(store, sealer, KEY, PURPOSE, stored).await
}

/// The stored parameters, if any.
pub(super) async fn load(store: &Store, sealer: &Sealer) -> Result<Option<Stored>, Error> {
    db::load_sealed(store, sealer, KEY, PURPOSE).await
}
