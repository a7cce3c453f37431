//! Platform-specific parts behind one API: `desktop.rs` and `mobile.rs` implement the same
//! functions. Remote push registration (APNs / FCM) joins them with the push issue.

#[cfg(desktop)]
mod desktop;
#[cfg(desktop)]
pub use desktop::*;

#[cfg(mobile)]
mod mobile;
#[cfg(mobile)]
pub use mobile::*;
