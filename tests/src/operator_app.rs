//! The operator app's engine (`mobile/core::app::App`) as the tests open it: on a cache file in
//! a directory the test owns, with the events it emits kept for the test to wait on.
//!
//! Closing the app is dropping the [`AppHarness`]; opening it again on the same directory is
//! what a restart of the app does.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::app::{App, AppEvent};
use switchboard_core::cache::Cache;
use switchboard_core::monitor::MonitorView;
use switchboard_core::ui::{ConnectionState, UiSnapshot};
use tokio::sync::mpsc;

use crate::{OPERATOR_PASSWORD, TempDir, TestServer};

/// How long [`AppHarness::until`] waits.
const UNTIL: Duration = Duration::from_secs(15);

/// The app opened on a cache, and what it has emitted.
pub struct AppHarness {
    /// The app.
    pub app: App,
    /// Every event the app emitted, in order, not yet read.
    pub events: mpsc::UnboundedReceiver<AppEvent>,
}

/// The app's cache file in `dir`.
pub fn cache_path(dir: &Path) -> std::path::PathBuf {
    dir.join("cache.sqlite3")
}

impl AppHarness {
    /// Opens the app on the cache in `dir` (created when missing).
    pub fn open(dir: &Path) -> AppHarness {
        let (tx, events) = mpsc::unbounded_channel();
        let cache = Cache::open(&cache_path(dir)).unwrap();
        let app = App::with_cache(cache, Arc::new(move |e| drop(tx.send(e)))).unwrap();
        AppHarness { app, events }
    }

    /// Opens the app on a new cache in a new temp dir; the dir is the test's to keep while it
    /// opens the app again on it.
    pub fn fresh() -> (TempDir, AppHarness) {
        let dir = TempDir::new("sb-app");
        let harness = Self::open(dir.path());
        (dir, harness)
    }

    /// Opens the app on a new cache ([`AppHarness::fresh`]) and signs in as an operator made
    /// by the test server ([`AppHarness::sign_in`]).
    pub async fn signed_in(server: &TestServer, email: &str) -> (TempDir, AppHarness) {
        let (dir, mut harness) = Self::fresh();
        harness.sign_in(server, email).await;
        (dir, harness)
    }

    /// Signs in as an operator made by the test server and waits until the app is online.
    pub async fn sign_in(&mut self, server: &TestServer, email: &str) {
        self.app
            .sign_in(&server.base, email, OPERATOR_PASSWORD)
            .await
            .unwrap();
        self.until("online", |s| s.connection == ConnectionState::Online)
            .await;
    }

    /// Waits (up to 15 s) until the app's current snapshot satisfies `pred` (looked at again
    /// whenever the app emits one).
    pub async fn until(&mut self, what: &str, pred: impl Fn(&UiSnapshot) -> bool) -> UiSnapshot {
        let now = self.app.snapshot();
        if pred(&now) {
            return now;
        }
        let deadline = tokio::time::Instant::now() + UNTIL;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                // A queued snapshot may be older than what the app shows now: each one is a
                // cue to look at the current snapshot, never an answer by itself.
                Ok(Some(AppEvent::Snapshot(_))) => {
                    let now = self.app.snapshot();
                    if pred(&now) {
                        return now;
                    }
                }
                Ok(Some(_)) => continue,
                _ => panic!(
                    "timed out waiting for {what}; last: {:#?}",
                    self.app.snapshot()
                ),
            }
        }
    }

    /// Waits (up to 15 s) until a Site Monitor view the app emitted satisfies `pred`, and
    /// returns it (views emitted earlier and not read yet count too).
    pub async fn until_monitor(
        &mut self,
        what: &str,
        pred: impl Fn(&MonitorView) -> bool,
    ) -> MonitorView {
        let deadline = tokio::time::Instant::now() + UNTIL;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(AppEvent::Monitor(view))) if pred(&view) => return view,
                Ok(Some(_)) => continue,
                _ => panic!(
                    "timed out waiting for {what}; the monitor: {:#?}",
                    self.app.monitor_view()
                ),
            }
        }
    }
}
