//! Telling live sessions that the server is stopping (the mini-redis way): [`Closing`] is held
//! by the server and fired once; every session holds a [`Shutdown`] and selects on it, then
//! closes with 1012 (service restart) so its client reconnects elsewhere or later.

use std::sync::Arc;

use tokio::sync::watch;

/// The server's side: fires once, at shutdown.
#[derive(Clone)]
pub struct Closing(Arc<watch::Sender<bool>>);

impl Default for Closing {
    fn default() -> Self {
        Closing(Arc::new(watch::Sender::new(false)))
    }
}

impl Closing {
    /// Tells every session the server is stopping.
    pub fn fire(&self) {
        self.0.send_replace(true);
    }

    /// Whether the server is stopping.
    pub fn is_closing(&self) -> bool {
        *self.0.borrow()
    }

    /// A session's side of it.
    pub fn listen(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

/// A session's side: completes when the server stops.
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Waits until the server stops (at once if it already has).
    pub async fn recv(&mut self) {
        // An error means the sender is gone, which only happens when the server is.
        let _ = self.0.wait_for(|closing| *closing).await;
    }
}
