//! What every handler and session holds: [`AppState`], a bundle of cheap-to-clone handles.

use std::sync::Arc;

use crate::config::Config;
use crate::settings::LiveSettings;
use crate::shutdown::Closing;
use crate::{chat, hub, push, store};

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Boot-time configuration.
    pub config: Arc<Config>,
    /// The database.
    pub store: store::Store,
    /// Live fan-out.
    pub hub: hub::Hub,
    /// The chat domain.
    pub chats: chat::Chats,
    /// Push notifications.
    pub push: push::Push,
    /// Mail: transcripts, offline messages, replies.
    pub mail: crate::mail::Mail,
    /// Rate limits, keyed by visitor, address, account.
    pub limits: crate::limits::RateLimits,
    /// The STUN and TURN servers for voice calls.
    pub voice: crate::voice::Voice,
    /// Who is on the website now (the Site Monitor).
    pub monitor: crate::monitor::Monitor,
    /// Admin-editable settings, live.
    pub settings: LiveSettings,
    /// Fired when the server shuts down: live sessions close with 1012 (service restart) so
    /// their clients reconnect elsewhere or later.
    pub closing: Closing,
}
