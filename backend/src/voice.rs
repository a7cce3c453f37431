//! The STUN and TURN servers voice calls use: set by the admin, stored sealed like the push
//! credentials (a TURN password or shared secret is a secret), never shown back, and handed to
//! the two peers of each call. A TURN server with a shared secret gets short-lived
//! credentials made per call (the TURN REST convention: user name `expiry:user`, password
//! base64 of HMAC-SHA1 of the user name keyed with the secret — what coturn checks with
//! `use-auth-secret`).

use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Serialize};
use switchboard_shared::{
    IceServer, IceServerView, TurnRestView, VoiceSettingsUpdate, VoiceSettingsView,
};
use tokio::sync::{Mutex, watch};

use crate::error::Error;
use crate::secret::Sealer;
use crate::store::{Store, now_ms, settings as db};

const KEY: &str = "voice";
const PURPOSE: &str = "voice settings";
const DEFAULT_TTL_SECS: u32 = 3600;

/// The voice settings as stored (with their secrets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    ice_servers: Vec<IceServer>,
    turn_rest: Option<TurnRest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct TurnRest {
    urls: Vec<String>,
    secret: String,
    ttl_secs: u32,
}

/// Cheap-to-clone handle to the voice settings.
#[derive(Clone)]
pub struct Voice {
    store: Store,
    sealer: Arc<Sealer>,
    current: Arc<watch::Sender<Stored>>,
    changing: Arc<Mutex<()>>,
}

impl Voice {
    /// Reads the stored settings (none set: no servers, which is enough on one network).
    pub async fn load(store: Store, sealer: Arc<Sealer>) -> Result<Voice, Error> {
        let stored = db::load_sealed(&store, &sealer, KEY, PURPOSE).await?;
        Ok(Voice {
            store,
            sealer,
            current: Arc::new(watch::Sender::new(stored.unwrap_or_default())),
            changing: Arc::new(Mutex::new(())),
        })
    }

    /// The settings without their secrets.
    pub fn view(&self) -> VoiceSettingsView {
        let s = self.current.borrow();
        VoiceSettingsView {
            ice_servers: s
                .ice_servers
                .iter()
                .map(|i| IceServerView {
                    urls: i.urls.clone(),
                    username: i.username.clone(),
                    has_credential: i.credential.is_some(),
                })
                .collect(),
            turn_rest: s.turn_rest.as_ref().map(|t| TurnRestView {
                urls: t.urls.clone(),
                ttl_secs: t.ttl_secs,
            }),
        }
    }

    /// Reads the stored servers again (another node saved them).
    pub async fn reload(&self) -> Result<(), Error> {
        let _one_at_a_time = self.changing.lock().await;
        let stored = db::load_sealed(&self.store, &self.sealer, KEY, PURPOSE).await?;
        self.current.send_replace(stored.unwrap_or_default());
        Ok(())
    }

    /// Validates, saves (sealed), then uses the new servers.
    pub async fn change(&self, update: VoiceSettingsUpdate) -> Result<VoiceSettingsView, Error> {
        let next = validate(update)?;
        let _one_at_a_time = self.changing.lock().await;
        db::save_sealed(&self.store, &self.sealer, KEY, PURPOSE, &next).await?;
        self.current.send_replace(next);
        Ok(self.view())
    }

    /// The ICE servers for one peer of one call: the fixed ones, and the short-lived TURN
    /// credential made for `user` (a name for the peer, such as `chat-7-visitor`).
    pub fn ice_servers_for(&self, user: &str) -> Vec<IceServer> {
        let s = self.current.borrow();
        let mut servers = s.ice_servers.clone();
        if let Some(turn) = &s.turn_rest {
            let expiry = now_ms() / 1000 + i64::from(turn.ttl_secs);
            let username = format!("{expiry}:{user}");
            servers.push(IceServer {
                urls: turn.urls.clone(),
                credential: Some(turn_rest_credential(&turn.secret, &username)),
                username: Some(username),
            });
        }
        servers
    }
}

/// The TURN REST password for `username`: base64 of HMAC-SHA1(secret, username).
pub fn turn_rest_credential(secret: &str, username: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let tag = ring::hmac::sign(&key, username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// Checks an update: at most 10 servers of at most 5 `stun:`/`stuns:`/`turn:`/`turns:` URLs;
/// names, credentials and URLs of sensible length; a TURN secret of 8 to 256 characters; a
/// credential lifetime of 60 s to a day.
fn validate(update: VoiceSettingsUpdate) -> Result<Stored, Error> {
    let urls_ok = |urls: &[String], turn_only: bool| {
        !urls.is_empty()
            && urls.len() <= 5
            && urls.iter().all(|u| {
                let scheme_ok = match turn_only {
                    true => u.starts_with("turn:") || u.starts_with("turns:"),
                    false => ["stun:", "stuns:", "turn:", "turns:"]
                        .iter()
                        .any(|s| u.starts_with(s)),
                };
                scheme_ok && u.len() <= 256 && !u.contains(char::is_whitespace)
            })
    };
    if update.ice_servers.len() > 10 {
        return Err(Error::invalid("voice: at most 10 ice_servers"));
    }
    for server in &update.ice_servers {
        if !urls_ok(&server.urls, false) {
            return Err(Error::invalid(
                "voice: each ice server has 1 to 5 stun:, stuns:, turn: or turns: URLs",
            ));
        }
        let long = |v: &Option<String>| v.as_ref().is_some_and(|v| v.chars().count() > 256);
        if long(&server.username) || long(&server.credential) {
            return Err(Error::invalid(
                "voice: username and credential are at most 256 characters",
            ));
        }
        for v in [&server.username, &server.credential].into_iter().flatten() {
            crate::validate::clean(v, "voice: a username or credential")?;
        }
    }
    let turn_rest = match update.turn_rest {
        None => None,
        Some(t) => {
            if !urls_ok(&t.urls, true) {
                return Err(Error::invalid(
                    "voice: turn_rest needs 1 to 5 turn: or turns: URLs",
                ));
            }
            if !(8..=256).contains(&t.secret.chars().count()) {
                return Err(Error::invalid(
                    "voice: the TURN secret is 8 to 256 characters",
                ));
            }
            crate::validate::clean(&t.secret, "voice: the TURN secret")?;
            let ttl_secs = t.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
            if !(60..=86_400).contains(&ttl_secs) {
                return Err(Error::invalid("voice: ttl_secs must be 60 to 86400"));
            }
            Some(TurnRest {
                urls: t.urls,
                secret: t.secret,
                ttl_secs,
            })
        }
    };
    Ok(Stored {
        ice_servers: update.ice_servers,
        turn_rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::TurnRestInput;

    /// RFC 2202's HMAC-SHA1 test case 2 (key "Jefe"), in base64; and TURN REST credentials
    /// as coturn computes them, `base64(hmac_sha1(secret, "expiry:user"))` (reference values
    /// from Python's `hmac` and `base64`).
    #[test]
    fn turn_rest_credentials_match_the_reference() {
        assert_eq!(
            turn_rest_credential("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
        assert_eq!(
            turn_rest_credential("north", "1433895918:chat-7-visitor"),
            "tknRD3pEct0gbB+g4y9sn8XnnYI="
        );
        assert_eq!(
            turn_rest_credential("logen", "1433895918"),
            "4g+EP8tdFlrqJULBUxrvgsMFtPQ="
        );
    }

    #[test]
    fn settings_are_checked() {
        let stun = |url: &str| IceServer {
            urls: vec![url.into()],
            username: None,
            credential: None,
        };
        let ok = VoiceSettingsUpdate {
            ice_servers: vec![stun("stun:stun.example.com:3478")],
            turn_rest: Some(TurnRestInput {
                urls: vec!["turn:turn.example.com:3478?transport=udp".into()],
                secret: "a-long-secret".into(),
                ttl_secs: None,
            }),
        };
        let stored = validate(ok.clone()).unwrap();
        assert_eq!(stored.turn_rest.unwrap().ttl_secs, DEFAULT_TTL_SECS);
        for bad in [
            VoiceSettingsUpdate {
                ice_servers: vec![stun("http://example.com")],
                ..ok.clone()
            },
            VoiceSettingsUpdate {
                ice_servers: vec![stun("stun:a b")],
                ..ok.clone()
            },
            VoiceSettingsUpdate {
                turn_rest: Some(TurnRestInput {
                    urls: vec!["stun:x".into()],
                    secret: "a-long-secret".into(),
                    ttl_secs: None,
                }),
                ..ok.clone()
            },
            VoiceSettingsUpdate {
                turn_rest: Some(TurnRestInput {
                    urls: vec!["turn:x".into()],
                    secret: "short".into(),
                    ttl_secs: None,
                }),
                ..ok.clone()
            },
            VoiceSettingsUpdate {
                turn_rest: Some(TurnRestInput {
                    urls: vec!["turn:x".into()],
                    secret: "a-long-secret".into(),
                    ttl_secs: Some(10),
                }),
                ..ok.clone()
            },
        ] {
            assert!(validate(bad.clone()).is_err(), "{bad:?}");
        }
    }
}
