//! The push settings: the credentials (sealed at rest under the secret key, never shown) and
//! the escalation timings. An update is validated by building the clients it describes, saved,
//! and then published together with those clients, so the delivery worker and the escalation
//! sweep read one consistent value without a lock.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use switchboard_shared::{ApnsSettingsView, FcmSettingsView, PushSettingsUpdate, PushSettingsView};

use super::apns::{ApnsClient, ApnsCredentials};
use super::fcm::FcmClient;
use super::{Push, PushConfig};
use crate::error::Error;
use crate::secret::Sealer;
use crate::store::{Store, settings as db};

/// Push settings as stored (with the secrets).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredPushSettings {
    /// APNs credentials.
    pub apns: Option<ApnsCredentials>,
    /// The FCM service-account JSON.
    pub fcm_service_account: Option<String>,
    /// Ring again after this many seconds (0: never).
    #[serde(default)]
    pub ring_again_after_secs: u32,
    /// Ring the next ring group after this many more seconds (0: every group at once).
    #[serde(default)]
    pub next_group_after_secs: u32,
}

/// The clients that deliver, built from the settings.
pub(super) struct Senders {
    /// APNs, when configured and usable.
    pub apns: Option<ApnsClient>,
    /// FCM, when configured and usable.
    pub fcm: Option<FcmClient>,
}

/// The settings in force and the clients built from them.
pub(super) struct Current {
    /// As stored.
    pub settings: StoredPushSettings,
    /// Built from them.
    pub senders: Senders,
}

impl Current {
    /// Builds the clients the settings describe (unusable credentials are logged and left
    /// out, so a bad key stops only its own platform).
    pub(super) fn new(settings: StoredPushSettings, config: &PushConfig) -> Current {
        let senders = build_senders(&settings, config);
        Current { settings, senders }
    }
}

fn build_senders(s: &StoredPushSettings, config: &PushConfig) -> Senders {
    let apns =
        s.apns
            .clone()
            .and_then(|c| match ApnsClient::new(c, config.apns_base_url.clone()) {
                Ok(client) => Some(client),
                Err(e) => {
                    tracing::error!(error = %e, "APNs credentials are unusable");
                    None
                }
            });
    let fcm = s.fcm_service_account.as_deref().and_then(|json| {
        match FcmClient::new(json, config.fcm_base_url.clone()) {
            Ok(client) => Some(client),
            Err(e) => {
                tracing::error!(error = %e, "the FCM service account is unusable");
                None
            }
        }
    });
    Senders { apns, fcm }
}

fn view(s: &StoredPushSettings) -> PushSettingsView {
    let fcm = s.fcm_service_account.as_deref().and_then(|json| {
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        Some(FcmSettingsView {
            project_id: v["project_id"].as_str()?.to_owned(),
            client_email: v["client_email"].as_str().unwrap_or_default().to_owned(),
        })
    });
    PushSettingsView {
        apns: s.apns.as_ref().map(|a| ApnsSettingsView {
            key_id: a.key_id.clone(),
            team_id: a.team_id.clone(),
            topic: a.topic.clone(),
            sandbox: a.sandbox,
        }),
        fcm,
        ring_again_after_secs: s.ring_again_after_secs,
        next_group_after_secs: s.next_group_after_secs,
    }
}

impl Push {
    /// The settings without their secrets.
    pub fn view(&self) -> PushSettingsView {
        view(&self.current().settings)
    }

    /// Changes the credentials (validated by building the clients).
    pub async fn update(&self, update: PushSettingsUpdate) -> Result<PushSettingsView, Error> {
        let _one_at_a_time = self.inner.changing.lock().await;
        let mut next = self.current().settings.clone();
        if let Some(apns) = update.apns {
            next.apns = apns.map(|a| ApnsCredentials {
                key_p8: a.key_p8,
                key_id: a.key_id,
                team_id: a.team_id,
                topic: a.topic,
                sandbox: a.sandbox,
            });
            if let Some(c) = &next.apns {
                ApnsClient::new(c.clone(), self.inner.config.apns_base_url.clone())
                    .map_err(|e| Error::invalid(format!("APNs credentials: {e}")))?;
            }
        }
        if let Some(fcm) = update.fcm_service_account {
            if let Some(json) = &fcm {
                FcmClient::new(json, self.inner.config.fcm_base_url.clone())
                    .map_err(|e| Error::invalid(format!("FCM service account: {e}")))?;
            }
            next.fcm_service_account = fcm;
        }
        if let Some(secs) = update.ring_again_after_secs {
            if secs > 3600 {
                return Err(Error::invalid("ring_again_after_secs must be 0 to 3600"));
            }
            next.ring_again_after_secs = secs;
        }
        if let Some(secs) = update.next_group_after_secs {
            if secs > 3600 {
                return Err(Error::invalid("next_group_after_secs must be 0 to 3600"));
            }
            next.next_group_after_secs = secs;
        }
        save_settings(&self.inner.store, &self.inner.config.sealer, &next).await?;
        let shown = view(&next);
        let current = Current::new(next, &self.inner.config);
        self.inner.current.send_replace(Arc::new(current));
        Ok(shown)
    }

    /// Reads the stored credentials again (another node saved them) and builds their clients.
    pub async fn reload(&self) -> Result<(), Error> {
        let _one_at_a_time = self.inner.changing.lock().await;
        let stored = load_settings(&self.inner.store, &self.inner.config.sealer).await?;
        let current = Current::new(stored, &self.inner.config);
        self.inner.current.send_replace(Arc::new(current));
        Ok(())
    }

    /// (ring again after, next group after), in seconds.
    pub(super) fn escalation(&self) -> (u32, u32) {
        let current = self.inner.current.borrow();
        let s = &current.settings;
        (s.ring_again_after_secs, s.next_group_after_secs)
    }

    /// The settings and clients in force now.
    pub(super) fn current(&self) -> Arc<Current> {
        self.inner.current.borrow().clone()
    }
}

const SETTINGS_PURPOSE: &str = "push settings";

async fn save_settings(
    store: &Store,
    sealer: &Sealer,
    settings: &StoredPushSettings,
) -> Result<(), Error> {
    db::save_sealed(store, sealer, "push", SETTINGS_PURPOSE, settings).await
}

/// The stored settings (see [`db::load_sealed`]).
pub(super) async fn load_settings(
    store: &Store,
    sealer: &Sealer,
) -> Result<StoredPushSettings, Error> {
    let stored = db::load_sealed(store, sealer, "push", SETTINGS_PURPOSE).await?;
    Ok(stored.unwrap_or_default())
}
