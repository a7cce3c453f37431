//! Waiting for something that happens in the background (a push reaching a provider, a row
//! being written, a page re-rendering) by asking again until it has happened or a deadline
//! passed.
//!
//! Whoever waits says what failed: [`poll`] gives `None` at the deadline rather than
//! panicking, so each test keeps its own message.

use std::time::Duration;

use tokio::time::Instant;

/// Calls `check` every `every` until it gives `Some`, and returns that; `None` when a call
/// that gave `None` ended past `timeout`. `check` runs at least once.
pub async fn poll<T>(
    timeout: Duration,
    every: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(done) = check().await {
            return Some(done);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// Reads with `read` every `every` until it gives at least `n` items, and returns them;
/// `Err` with the last read when `timeout` passed first.
pub async fn at_least<T>(
    n: usize,
    timeout: Duration,
    every: Duration,
    mut read: impl AsyncFnMut() -> Vec<T>,
) -> Result<Vec<T>, Vec<T>> {
    let mut last = Vec::new();
    let enough = poll(timeout, every, async || {
        last = read().await;
        (last.len() >= n).then(|| std::mem::take(&mut last))
    })
    .await;
    enough.ok_or(last)
}
