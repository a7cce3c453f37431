//! The mail outbox worker: claims due mails (with a lease, so several nodes can share the
//! table), sends them, and settles each: `sent` with the server's answer, `failed` when the
//! server refuses it (5xx) or it kept failing, or another try later (4xx, no answer, no
//! connection, mail not configured) with exponential backoff. Every attempt is logged; a
//! transcript's result becomes an event in its chat.
//!
//! A mail is settled right after the server's answer, so a crash can only resend one whose
//! answer was lost with the process; it carries the same `Message-ID` then.

use std::time::Duration;

use switchboard_shared::MailState;

use super::Mail;
use super::render::Rendered;
use crate::error::Error;
use crate::shutdown::Closing;
use crate::store::{Backend, mail as db, now_ms};

/// Attempts before a mail is given up (about six hours with a 5 s first retry).
const MAX_ATTEMPTS: i64 = 12;
/// Mails sent at once.
const BATCH: i64 = 8;

/// What one attempt came to.
enum Next {
    Settle(MailState, String),
    RetryAt(i64, String),
}

impl Mail {
    /// Sends due mails until the server stops. A stop abandons the sends under way (no
    /// server answered them yet, or their answer is lost with them) and frees their mails for
    /// the next start; a crash frees them when their lease runs out.
    pub(super) async fn worker(self, closing: Closing) {
        let mut shutdown = closing.listen();
        loop {
            let due = match self.claim().await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker");
                    tokio::select! {
                        _ = shutdown.recv() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            if due.is_empty() {
                tokio::select! {
                    _ = shutdown.recv() => return,
                    _ = self.inner.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
                continue;
            }
            let ids: Vec<i64> = due.iter().map(|m| m.id).collect();
            tokio::select! {
                _ = shutdown.recv() => {
                    let released = db::release(&self.inner.store.write, &ids).await;
                    tracing::info!(mails = ids.len(), ?released, "mail worker stopped; its sends are abandoned");
                    return;
                }
                result = self.send_all(due) => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "mail worker");
                    }
                }
            }
        }
    }

    /// How long a claimed mail is reserved for the worker that claimed it: longer than a send
    /// can take.
    fn lease(&self) -> Duration {
        self.inner.config.timeout * 5 + Duration::from_secs(1)
    }

    /// Claims a batch of due mails.
    async fn claim(&self) -> Result<Vec<db::Mail>, Error> {
        let store = &self.inner.store;
        let postgres = store.backend == Backend::Postgres;
        let lease = self.lease().as_millis() as i64;
        db::claim_due(&store.write, postgres, now_ms(), lease, BATCH).await
    }

    /// Sends claimed mails (concurrently) and settles each.
    async fn send_all(&self, due: Vec<db::Mail>) -> Result<(), Error> {
        let sends = due.into_iter().map(|mail| async move {
            let next = self.attempt(&mail).await;
            self.settle(&mail, next).await
        });
        for result in futures_util::future::join_all(sends).await {
            result?;
        }
        Ok(())
    }

    /// Sends one mail; writes nothing.
    async fn attempt(&self, mail: &db::Mail) -> Next {
        let attempts = mail.attempts + 1;
        let started = std::time::Instant::now();
        let outcome = match (
            self.current(),
            serde_json::from_str::<Rendered>(&mail.message),
        ) {
            (_, Err(e)) => Err((format!("unreadable outbox entry: {e}"), false)),
            (None, Ok(_)) => Err(("mail is not configured".to_owned(), true)),
            (Some(current), Ok(rendered)) => current
                .send(&mail.to, &rendered, &self.inner.config)
                .await
                .map_err(|f| (f.answer, f.transient)),
        };
        let ms = started.elapsed().as_millis() as u64;
        match outcome {
            Ok(answer) => {
                tracing::info!(mail = mail.id, kind = %mail.kind, attempts, ms, %answer, "mail sent");
                Next::Settle(MailState::Sent, answer)
            }
            Err((answer, false)) => {
                tracing::warn!(mail = mail.id, kind = %mail.kind, attempts, ms, %answer, "mail refused");
                Next::Settle(MailState::Failed, answer)
            }
            Err((answer, true)) if attempts >= MAX_ATTEMPTS => {
                tracing::warn!(mail = mail.id, kind = %mail.kind, attempts, ms, %answer, "mail given up");
                let answer = format!("gave up after {attempts} attempts: {answer}");
                Next::Settle(MailState::Failed, answer)
            }
            Err((answer, true)) => {
                let base = self.inner.config.retry_base;
                let wait = (base * 2u32.pow((attempts - 1).clamp(0, 20) as u32))
                    .min(Duration::from_secs(3600));
                tracing::info!(mail = mail.id, kind = %mail.kind, attempts, ms, %answer, retry_in_ms = wait.as_millis() as u64, "mail deferred");
                Next::RetryAt(now_ms() + wait.as_millis() as i64, answer)
            }
        }
    }

    /// Records the attempt; a settled transcript's result goes into its chat.
    async fn settle(&self, mail: &db::Mail, next: Next) -> Result<(), Error> {
        let write = &self.inner.store.write;
        let attempts = mail.attempts + 1;
        match next {
            Next::RetryAt(at, answer) => db::retry_at(write, mail.id, attempts, at, &answer).await,
            Next::Settle(state, answer) => {
                let name = match state {
                    MailState::Sent => "sent",
                    _ => "failed",
                };
                db::settle(write, mail.id, name, &answer, attempts, now_ms()).await?;
                if mail.kind == "transcript" {
                    self.transcript_result(mail, state, &answer).await;
                }
                Ok(())
            }
        }
    }
}
