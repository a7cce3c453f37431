//! Boot-time configuration: `SWITCHBOARD_*` environment variables over an optional TOML file
//! (`SWITCHBOARD_CONFIG=path`), over defaults. Admin-editable settings live in the database
//! instead ([`crate::settings`]). Secrets are redacted from `Debug`.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::error::Error;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people: plain text, coloured on a terminal.
    Text,
    /// For log collectors: one JSON object a line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("{other:?} is not text or json")),
        }
    }
}

/// How the server starts.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`SWITCHBOARD_LISTEN`), default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `sqlite:…` or `postgres://…` (`DATABASE_URL` or `SWITCHBOARD_DATABASE_URL`),
    /// default `sqlite://switchboard.db`.
    pub database_url: String,
    /// E-mail of the admin created on first start (`SWITCHBOARD_ADMIN_EMAIL`).
    pub admin_email: String,
    /// Password of the admin created on first start (`SWITCHBOARD_ADMIN_PASSWORD`); a random
    /// one is generated and logged once when unset.
    pub admin_password: Option<String>,
    /// How long an operator's login lasts, in seconds (`SWITCHBOARD_TOKEN_TTL_SECS`).
    pub token_ttl_secs: u64,
    /// How long an operator with Live Help Available may have no app connected, and no phone
    /// to push, before they count as Not Available, in seconds
    /// (`SWITCHBOARD_OPERATOR_GRACE_SECS`).
    pub operator_grace_secs: f64,
    /// How long a waiting or queued visitor may be gone (no widget connected) before the
    /// chat counts as missed, in seconds (`SWITCHBOARD_VISITOR_GRACE_SECS`). Long enough for a
    /// page reload or a change of page.
    pub visitor_grace_secs: f64,
    /// Log filter (`SWITCHBOARD_LOG`), e.g. `info` or `switchboard_backend=debug`.
    pub log: String,
    /// `text` (coloured only on a terminal) or `json`, one object a line
    /// (`SWITCHBOARD_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// APNs base URL (`SWITCHBOARD_APNS_URL`); default Apple's sandbox or production host as
    /// the APNs settings say.
    pub apns_url: Option<String>,
    /// FCM base URL (`SWITCHBOARD_FCM_URL`); default `https://fcm.googleapis.com`.
    pub fcm_url: Option<String>,
    /// How long a notification's Accept / Queue / Decline works, in seconds
    /// (`SWITCHBOARD_PUSH_ACTION_TTL_SECS`).
    pub push_action_ttl_secs: u64,
    /// The key that encrypts stored secrets (push credentials): 64 hex characters
    /// (`SWITCHBOARD_SECRET_KEY`). When unset, it is read from `secret_key_file`.
    pub secret_key: Option<String>,
    /// Where the secret key is kept when `secret_key` is unset (`SWITCHBOARD_SECRET_KEY_FILE`),
    /// default `switchboard.key`; created (mode 0600) on first start.
    pub secret_key_file: std::path::PathBuf,
    /// The key used before `secret_key` (`SWITCHBOARD_SECRET_KEY_PREVIOUS`), to change keys:
    /// secrets sealed with it are read and saved again under the current key.
    pub secret_key_previous: Option<String>,
    /// Longest wait for a request's headers, in seconds (`SWITCHBOARD_HEADER_TIMEOUT_SECS`);
    /// slower connections are closed.
    pub header_timeout_secs: u64,
    /// Connections open at once, in all (`SWITCHBOARD_MAX_CONNECTIONS`); 0: as many as the
    /// process's open-file limit allows.
    pub max_connections: usize,
    /// Connections open at once from one address (`SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS`).
    pub max_connections_per_address: usize,
    /// A proxy in front sets `X-Forwarded-For`: the rate limits keyed by address read the
    /// client's address there (`SWITCHBOARD_TRUST_X_FORWARDED_FOR=true`). Off by default, as
    /// anyone can send the header.
    pub trust_forwarded_for: bool,
    /// A certificate authority (PEM file) trusted for the SMTP server's certificate besides
    /// the public ones (`SWITCHBOARD_SMTP_CA_FILE`): a company's own CA, or a test one.
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// Longest wait for each SMTP command, in seconds (`SWITCHBOARD_SMTP_TIMEOUT_SECS`).
    pub smtp_timeout_secs: f64,
    /// First retry of a deferred mail after this many seconds, doubled each time up to an
    /// hour (`SWITCHBOARD_MAIL_RETRY_SECS`).
    pub mail_retry_secs: f64,
    /// NATS server(s) for several nodes on one PostgreSQL (`SWITCHBOARD_NATS_URL`,
    /// comma-separated); unset: one node on its own.
    pub nats_url: Option<String>,
    /// The subject prefix of this cluster's messages (`SWITCHBOARD_NATS_PREFIX`), so several
    /// clusters can share one NATS.
    pub nats_prefix: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: ([127, 0, 0, 1], 8080).into(),
            database_url: "sqlite://switchboard.db".into(),
            admin_email: "admin@localhost".into(),
            admin_password: None,
            token_ttl_secs: 12 * 3600,
            visitor_grace_secs: 30.0,
            operator_grace_secs: 60.0,
            log: "info".into(),
            log_format: LogFormat::Text,
            apns_url: None,
            fcm_url: None,
            push_action_ttl_secs: 300,
            secret_key: None,
            secret_key_file: "switchboard.key".into(),
            secret_key_previous: None,
            header_timeout_secs: 10,
            max_connections: 0,
            max_connections_per_address: 256,
            trust_forwarded_for: false,
            smtp_ca_file: None,
            smtp_timeout_secs: 30.0,
            mail_retry_secs: 5.0,
            nats_url: None,
            nats_prefix: "switchboard".into(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("admin_email", &self.admin_email)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "<redacted>"),
            )
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("visitor_grace_secs", &self.visitor_grace_secs)
            .field("operator_grace_secs", &self.operator_grace_secs)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("apns_url", &self.apns_url)
            .field("fcm_url", &self.fcm_url)
            .field("push_action_ttl_secs", &self.push_action_ttl_secs)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("secret_key_file", &self.secret_key_file)
            .field(
                "secret_key_previous",
                &self.secret_key_previous.as_ref().map(|_| "<redacted>"),
            )
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_address",
                &self.max_connections_per_address,
            )
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("smtp_timeout_secs", &self.smtp_timeout_secs)
            .field("mail_retry_secs", &self.mail_retry_secs)
            .field("nats_url", &self.nats_url.as_deref().map(redact_url))
            .field("nats_prefix", &self.nats_prefix)
            .finish()
    }
}

/// Hides a password in a database (or NATS) URL.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:<redacted>{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Config {
    /// Reads the TOML file named by `SWITCHBOARD_CONFIG` (if any), then the environment.
    pub fn from_env() -> Result<Config, Error> {
        let mut config = match std::env::var("SWITCHBOARD_CONFIG") {
            Ok(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::Config(format!("cannot read {path}: {e}")))?;
                toml::from_str(&text).map_err(|e| Error::Config(format!("{path}: {e}")))?
            }
            Err(_) => Config::default(),
        };
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(v) = var("SWITCHBOARD_DATABASE_URL").or_else(|| var("DATABASE_URL")) {
            config.database_url = v;
        }
        let c = &mut config;
        parse(&mut c.listen, "SWITCHBOARD_LISTEN")?;
        parse(&mut c.admin_email, "SWITCHBOARD_ADMIN_EMAIL")?;
        parse_some(&mut c.admin_password, "SWITCHBOARD_ADMIN_PASSWORD")?;
        parse(&mut c.token_ttl_secs, "SWITCHBOARD_TOKEN_TTL_SECS")?;
        parse(&mut c.visitor_grace_secs, "SWITCHBOARD_VISITOR_GRACE_SECS")?;
        parse(
            &mut c.operator_grace_secs,
            "SWITCHBOARD_OPERATOR_GRACE_SECS",
        )?;
        parse_some(&mut c.smtp_ca_file, "SWITCHBOARD_SMTP_CA_FILE")?;
        parse(&mut c.smtp_timeout_secs, "SWITCHBOARD_SMTP_TIMEOUT_SECS")?;
        parse(&mut c.mail_retry_secs, "SWITCHBOARD_MAIL_RETRY_SECS")?;
        for (name, v) in [
            ("SWITCHBOARD_VISITOR_GRACE_SECS", c.visitor_grace_secs),
            ("SWITCHBOARD_OPERATOR_GRACE_SECS", c.operator_grace_secs),
            ("SWITCHBOARD_SMTP_TIMEOUT_SECS", c.smtp_timeout_secs),
            ("SWITCHBOARD_MAIL_RETRY_SECS", c.mail_retry_secs),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::Config(format!("{name}={v}")));
            }
        }
        parse_some(&mut c.apns_url, "SWITCHBOARD_APNS_URL")?;
        parse_some(&mut c.fcm_url, "SWITCHBOARD_FCM_URL")?;
        parse(
            &mut c.push_action_ttl_secs,
            "SWITCHBOARD_PUSH_ACTION_TTL_SECS",
        )?;
        parse_some(&mut c.secret_key, "SWITCHBOARD_SECRET_KEY")?;
        parse_some(
            &mut c.secret_key_previous,
            "SWITCHBOARD_SECRET_KEY_PREVIOUS",
        )?;
        parse(&mut c.secret_key_file, "SWITCHBOARD_SECRET_KEY_FILE")?;
        parse_some(&mut c.nats_url, "SWITCHBOARD_NATS_URL")?;
        parse(&mut c.nats_prefix, "SWITCHBOARD_NATS_PREFIX")?;
        if c.nats_prefix.is_empty()
            || !c
                .nats_prefix
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
        {
            return Err(Error::Config(format!(
                "SWITCHBOARD_NATS_PREFIX={:?}: letters, digits, '-', '_' and '.' only",
                c.nats_prefix
            )));
        }
        parse(&mut c.log, "SWITCHBOARD_LOG")?;
        parse(&mut c.log_format, "SWITCHBOARD_LOG_FORMAT")?;
        parse(
            &mut c.header_timeout_secs,
            "SWITCHBOARD_HEADER_TIMEOUT_SECS",
        )?;
        parse(&mut c.max_connections, "SWITCHBOARD_MAX_CONNECTIONS")?;
        parse(
            &mut c.max_connections_per_address,
            "SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS",
        )?;
        parse(
            &mut c.trust_forwarded_for,
            "SWITCHBOARD_TRUST_X_FORWARDED_FOR",
        )?;
        if c.header_timeout_secs == 0 || c.max_connections_per_address == 0 {
            return Err(Error::Config(
                "SWITCHBOARD_HEADER_TIMEOUT_SECS and SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS \
                 must be at least 1"
                    .into(),
            ));
        }
        Ok(config)
    }
}

/// The environment variable `name`, parsed, when it is set and not empty.
fn read_var<T: std::str::FromStr>(name: &str) -> Result<Option<T>, Error>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name).ok().filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|e| Error::Config(format!("{name}={v}: {e}"))),
        None => Ok(None),
    }
}

/// Sets `slot` from the environment variable `name`, when it is set.
fn parse<T: std::str::FromStr>(slot: &mut T, name: &str) -> Result<(), Error>
where
    T::Err: std::fmt::Display,
{
    if let Some(value) = read_var(name)? {
        *slot = value;
    }
    Ok(())
}

/// [`parse`] for a setting that is unset by default.
fn parse_some<T: std::str::FromStr>(slot: &mut Option<T>, name: &str) -> Result<(), Error>
where
    T::Err: std::fmt::Display,
{
    if let Some(value) = read_var(name)? {
        *slot = Some(value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let config = Config {
            database_url: "postgres://sb:hunter2@db/sb".into(),
            admin_password: Some("s3cret-pass".into()),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cret-pass"),
            "{shown}"
        );
        assert!(shown.contains("postgres://sb:<redacted>@db/sb"), "{shown}");
    }

    #[test]
    fn toml_keys_match_the_fields() {
        let c: Config = toml::from_str("listen = \"0.0.0.0:9000\"\ntoken_ttl_secs = 60").unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.token_ttl_secs, 60);
        assert!(toml::from_str::<Config>("nope = 1").is_err());
    }
}
