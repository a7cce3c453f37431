//! The admin-editable settings (operator name, default invitation, chats per operator, ring
//! timeout, the sites allowed to use the widget): one module validates them, saves them, and
//! then publishes the new value on a `watch` channel, so everything that reads them (the chat
//! writer, the widget's origin check, operator sessions) sees the change at once and connected
//! clients can be told of it.
//!
//! Boot-time configuration is [`crate::config`] instead. The push credentials are a settings
//! section of their own, sealed, in [`crate::push::settings`].

use std::sync::Arc;

use switchboard_shared::{
    AutoInvitationRule, AutoInvitations, Limits, MAX_AUTO_INVITATION_RULES, MAX_WIDGET_ORIGINS,
    Settings,
};
use tokio::sync::{Mutex, watch};

use crate::error::Error;
use crate::store::{Store, settings as db};
use crate::validate::field;

/// The key the general settings are stored under.
const KEY: &str = "general";

/// Cheap-to-clone handle to the live settings.
#[derive(Clone)]
pub struct LiveSettings {
    store: Store,
    tx: Arc<watch::Sender<Settings>>,
    /// One change at a time, so the value published is the value saved last.
    changing: Arc<Mutex<()>>,
}

impl LiveSettings {
    /// Reads the stored settings (defaults where nothing is stored).
    pub async fn load(store: Store) -> Result<LiveSettings, Error> {
        let current = db::load_key(&store.read, KEY)
            .await?
            .unwrap_or_else(defaults);
        Ok(LiveSettings {
            store,
            tx: Arc::new(watch::Sender::new(current)),
            changing: Arc::new(Mutex::new(())),
        })
    }

    /// The current settings.
    pub fn get(&self) -> Settings {
        self.tx.borrow().clone()
    }

    /// Reads the current settings without copying them.
    pub fn with<R>(&self, f: impl FnOnce(&Settings) -> R) -> R {
        f(&self.tx.borrow())
    }

    /// Follows changes.
    pub fn subscribe(&self) -> watch::Receiver<Settings> {
        self.tx.subscribe()
    }

    /// Reads the stored settings again (another node saved them) and publishes them if they
    /// changed.
    pub async fn reload(&self) -> Result<(), Error> {
        let _one_at_a_time = self.changing.lock().await;
        let stored = db::load_key(&self.store.read, KEY)
            .await?
            .unwrap_or_else(defaults);
        self.tx.send_if_modified(|current| {
            let changed = *current != stored;
            *current = stored;
            changed
        });
        Ok(())
    }

    /// Validates `new`, saves it, then publishes it; returns what was saved.
    pub async fn change(&self, new: Settings) -> Result<Settings, Error> {
        let new = validate(new)?;
        let _one_at_a_time = self.changing.lock().await;
        db::save_key(&self.store.write, KEY, &new).await?;
        self.tx.send_replace(new.clone());
        Ok(new)
    }
}

/// The settings a fresh install starts with.
pub fn defaults() -> Settings {
    Settings {
        operator_name: "Support".into(),
        default_invitation: "Hello! I'm %name%. If you have any questions or requests I'm \
                             ready to help you. Just click \"Start Chat\" button to start a \
                             conversation."
            .into(),
        max_chats_per_operator: 3,
        ring_timeout_secs: 120,
        widget_origins: Vec::new(),
        limits: Limits::default(),
        auto_invitations: None,
        time_zone: "UTC".into(),
    }
}

/// Checks every field and normalizes the text ones; refuses with `invalid_input` or
/// `too_large`.
pub fn validate(new: Settings) -> Result<Settings, Error> {
    let widget_origins = normalize_origins(&new.widget_origins)?;
    let new = Settings {
        operator_name: field(&new.operator_name, "operator_name", 100)?,
        default_invitation: field(&new.default_invitation, "default_invitation", 1000)?,
        widget_origins,
        time_zone: time_zone(&new.time_zone)?,
        ..new
    };
    if !(1..=50).contains(&new.max_chats_per_operator) {
        return Err(Error::invalid("max_chats_per_operator must be 1 to 50"));
    }
    if !(5..=3600).contains(&new.ring_timeout_secs) {
        return Err(Error::invalid("ring_timeout_secs must be 5 to 3600"));
    }
    let l = new.limits;
    for (name, n) in [
        (
            "chats_per_visitor_per_minute",
            l.chats_per_visitor_per_minute,
        ),
        (
            "chats_per_address_per_minute",
            l.chats_per_address_per_minute,
        ),
        (
            "new_visitors_per_address_per_minute",
            l.new_visitors_per_address_per_minute,
        ),
        (
            "offline_messages_per_address_per_minute",
            l.offline_messages_per_address_per_minute,
        ),
        (
            "frames_per_connection_per_second",
            l.frames_per_connection_per_second,
        ),
        (
            "logins_per_account_per_minute",
            l.logins_per_account_per_minute,
        ),
        (
            "logins_per_address_per_minute",
            l.logins_per_address_per_minute,
        ),
        ("transcripts_per_chat", l.transcripts_per_chat),
        ("mails_per_address_per_hour", l.mails_per_address_per_hour),
    ] {
        if !(1..=1_000_000).contains(&n) {
            return Err(Error::invalid(format!(
                "limits.{name} must be 1 to 1000000"
            )));
        }
    }
    let auto_invitations = new.auto_invitations.map(auto_invitations).transpose()?;
    Ok(Settings {
        auto_invitations,
        ..new
    })
}

/// The site's time zone: a name from the time zone database (`Europe/Paris`, `UTC`).
fn time_zone(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(Error::invalid(
            "time_zone must be a time zone name such as Europe/Paris",
        ));
    }
    crate::reports::zone(name).map_err(|_| {
        Error::invalid(format!(
            "time_zone: {name:?} is not a known time zone (e.g. Europe/Paris)"
        ))
    })?;
    Ok(name.to_owned())
}

/// Checks automatic invitations: at most [`MAX_AUTO_INVITATION_RULES`] rules, each with an
/// address part of at most 300 characters, at most a day on the page, at most 1000 pages, and
/// a text like the default invitation's (trimmed, at most 1000 characters; empty: the default).
fn auto_invitations(auto: AutoInvitations) -> Result<AutoInvitations, Error> {
    if auto.rules.len() > MAX_AUTO_INVITATION_RULES {
        return Err(Error::invalid(format!(
            "auto_invitations: at most {MAX_AUTO_INVITATION_RULES} rules"
        )));
    }
    let mut rules = Vec::with_capacity(auto.rules.len());
    for rule in auto.rules {
        let url_contains = match rule.url_contains.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(part) => Some(field(part, "auto_invitations.url_contains", 300)?),
        };
        let text = match rule.text.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(field(text, "auto_invitations.text", 1000)?),
        };
        if rule.min_secs_on_page > 86_400 || rule.min_pages > 1000 {
            return Err(Error::invalid(
                "auto_invitations: min_secs_on_page is at most 86400 and min_pages at most 1000",
            ));
        }
        rules.push(AutoInvitationRule {
            url_contains,
            text,
            ..rule
        });
    }
    Ok(AutoInvitations {
        enabled: auto.enabled,
        rules,
    })
}

/// Checks and normalizes the admin's `widget_origins`: each `http(s)://host[:port]`, no path;
/// lower-cased, without a trailing slash, each once.
pub fn normalize_origins(list: &[String]) -> Result<Vec<String>, Error> {
    if list.len() > MAX_WIDGET_ORIGINS {
        return Err(Error::invalid(format!(
            "widget_origins holds at most {MAX_WIDGET_ORIGINS} sites"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for raw in list {
        let origin = raw.trim().trim_end_matches('/').to_ascii_lowercase();
        let valid = origin.split_once("://").is_some_and(|(scheme, authority)| {
            matches!(scheme, "http" | "https") && authority_ok(authority)
        });
        if !valid {
            return Err(Error::invalid(format!(
                "widget_origins: {raw:?} is not a site origin like https://shop.example.com"
            )));
        }
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// `host[:port]` or `[v6][:port]` of an origin: no user info, path, query or fragment.
fn authority_ok(authority: &str) -> bool {
    let port_ok = |port: Option<&str>| port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if let Some(rest) = authority.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        return !v6.is_empty()
            && v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
            && port_ok(port);
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        && port_ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_normalized() {
        let ok = |list: &[&str]| {
            normalize_origins(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            ok(&[
                "HTTPS://Shop.Example.com/",
                "https://shop.example.com",
                "http://[::1]:8080",
                "http://[::1]"
            ])
            .unwrap(),
            [
                "https://shop.example.com",
                "http://[::1]:8080",
                "http://[::1]"
            ]
        );
        for bad in [
            "shop.example.com",
            "https://shop.example.com/path",
            "https://shop.example.com:0",
            "https://shop.example.com:99999",
            "https://user@shop.example.com",
            "https://",
            "javascript://x",
            "http://[::1",
            "http://[::1]x",
        ] {
            assert!(ok(&[bad]).is_err(), "{bad}");
        }
        let many = vec!["https://a.example".to_string(); MAX_WIDGET_ORIGINS + 1];
        assert!(normalize_origins(&many).is_err());
    }

    #[test]
    fn settings_are_checked_and_trimmed() {
        let ok = validate(Settings {
            operator_name: "  Olga ".into(),
            ..defaults()
        })
        .unwrap();
        assert_eq!(ok.operator_name, "Olga");
        for bad in [
            Settings {
                max_chats_per_operator: 0,
                ..defaults()
            },
            Settings {
                ring_timeout_secs: 4,
                ..defaults()
            },
            Settings {
                operator_name: " ".into(),
                ..defaults()
            },
            Settings {
                widget_origins: vec!["shop.example".into()],
                ..defaults()
            },
        ] {
            assert!(validate(bad.clone()).is_err(), "{bad:?}");
        }
    }
}
