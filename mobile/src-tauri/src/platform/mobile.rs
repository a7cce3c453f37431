//! iOS and Android: in the foreground the UI rings; in the background the request arrives as
//! a remote push (APNs / FCM, registered with the push issue), so nothing is shown here.
//! This file compiles only in mobile builds, which need the iOS/Android SDKs.

use switchboard_shared::ChatSummary;
use tauri::AppHandle;

/// Tells the operator about a new chat request (remote push covers the background).
pub fn notify_incoming(_app: &AppHandle, _chat: &ChatSummary) {}
