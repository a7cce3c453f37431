//! Platform-specific parts behind one API: `desktop.rs` and `mobile.rs` implement the same
//! functions (`plugin`, `notify_incoming`, `set_push_server`). Only transport lives here: when
//! to register the push token is `switchboard_core::push::PushRegistration`'s business.

#[cfg(desktop)]
mod desktop;
#[cfg(desktop)]
pub use desktop::*;

#[cfg(mobile)]
mod mobile;
#[cfg(mobile)]
pub use mobile::*;
