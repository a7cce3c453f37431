//! The operators' side of the chat domain: Live Help Available / Not Available, signing out,
//! changing and removing an operator. Each commits, then publishes (the operator's open apps
//! learn of it at once), then ends the ringing chats nobody is left to answer.

use std::future::Future;
use std::time::Instant;

use switchboard_shared::{ErrorCode, OperatorId, OperatorProfile};
use tokio::sync::Mutex;

use super::{Actor, Chats, Move, sql};
use crate::error::Error;
use crate::hub::{HubEvent, Topic};
use crate::store::{chats, operators};

impl Chats {
    /// Live Help Available / Not Available. When the last available operator leaves, the
    /// ringing chats are ended so their visitors are offered "Leave a message".
    pub async fn set_available(
        &self,
        operator: OperatorId,
        available: bool,
    ) -> Result<OperatorProfile, Error> {
        let profile = operators::set_available(&self.store.write, operator, available)
            .await?
            .ok_or_else(|| Error::not_found("operator"))?;
        self.hub.publish(
            &[Topic::Operator(operator)],
            HubEvent::OperatorAvailability {
                operator,
                available,
            },
        );
        self.refresh_availability().await?;
        if !available {
            // Nothing rings for them any more, on their phones either.
            self.push.operator_unavailable(operator).await;
            self.end_ringing_if_nobody_left().await?;
        }
        Ok(profile)
    }

    /// Recomputes the site-wide availability the widgets show.
    pub async fn refresh_availability(&self) -> Result<bool, Error> {
        let any = operators::count_available(&self.store.read).await? > 0;
        self.hub.set_available(any);
        Ok(any)
    }

    /// The site-wide availability as the database has it now, for the public status read on
    /// a cluster: never older than the call, and a flood of callers shares one read at a time
    /// (see [`SharedRead`]): strangers calling it hold at most one of the pool's connections,
    /// never the others' turn.
    pub async fn fresh_availability(&self) -> Result<bool, Error> {
        self.availability_reads
            .get(|| self.refresh_availability())
            .await
    }

    /// Ends one sign-in (`token_hash`). Signed out everywhere, the operator is no longer there
    /// to answer: Live Help goes Not Available for them.
    pub async fn sign_out(
        &self,
        operator: &OperatorProfile,
        token_hash: &str,
    ) -> Result<(), Error> {
        operators::delete_session(&self.store.write, token_hash).await?;
        self.signed_out(operator.id);
        if operator.available && operators::session_count(&self.store.read, operator.id).await? == 0
        {
            self.set_available(operator.id, false).await?;
        }
        Ok(())
    }

    /// An admin removes an operator who leads no chat. Their sessions end, their ended chats
    /// keep their name, and if they were available the ringing chats are re-checked.
    pub async fn remove_operator(
        &self,
        admin: &OperatorProfile,
        operator: OperatorId,
    ) -> Result<(), Error> {
        if admin.id == operator {
            return Err(Error::client(
                ErrorCode::Conflict,
                "you cannot delete your own account",
            ));
        }
        let open = chats::open_for_operator(&self.store.read, operator).await?;
        if !open.is_empty() {
            return Err(Error::client(
                ErrorCode::Conflict,
                format!(
                    "this operator leads {} chat(s): they must end them first",
                    open.len()
                ),
            ));
        }
        // Not available any more: this also ends ringing chats if nobody else is left.
        if operators::get(&self.store.read, operator)
            .await?
            .is_some_and(|o| o.available)
        {
            self.set_available(operator, false).await?;
        }
        let mut tx = self.store.write.begin().await?;
        sql::forget_operator(&mut tx, operator).await?;
        if !operators::delete(&mut tx, operator).await? {
            return Err(Error::not_found("operator")); // rolled back as `tx` drops
        }
        tx.commit().await?;
        self.writer.forget_cached_chats();
        self.signed_out(operator);
        Ok(())
    }

    /// An admin (or the operator, their own name) changes an operator's name, password, rights
    /// or ring group. A new password or
    /// other rights end the operator's sign-ins, and their open apps are closed at once; a new
    /// name counts in their open apps from their next action.
    pub async fn change_operator(
        &self,
        operator: OperatorId,
        changes: operators::Changes<'_>,
    ) -> Result<OperatorProfile, Error> {
        let updated = operators::update(&self.store.write, operator, changes)
            .await?
            .ok_or_else(|| Error::not_found("operator"))?;
        self.signed_out(operator);
        Ok(updated.profile)
    }

    /// Tells the operator's live sessions that their account or sign-ins changed: each
    /// re-reads its own.
    fn signed_out(&self, operator: OperatorId) {
        self.hub.publish(
            &[Topic::Operator(operator)],
            HubEvent::OperatorChanged { operator },
        );
    }

    async fn end_ringing_if_nobody_left(&self) -> Result<(), Error> {
        let waiting = chats::with_status(&self.store.read, switchboard_shared::ChatStatus::Waiting);
        for chat in waiting.await? {
            if chats::undeclined_available(&self.store.read, chat.id).await? == 0 {
                self.ignore_races(self.act(chat.id, Actor::System, Move::Unanswered).await)?;
            }
        }
        Ok(())
    }
}

/// A read many callers may share. Each caller gets the result of a read that began after it
/// asked, never an older one; while a read runs, the callers that arrive wait and share the
/// next. However many ask at once, one read runs at a time.
#[derive(Default)]
pub(super) struct SharedRead<T> {
    /// The latest read: when it began, and what it found.
    last: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> SharedRead<T> {
    /// What `read` finds now, or what a read that began after this call found.
    pub(super) async fn get<F, R>(&self, read: F) -> Result<T, Error>
    where
        F: FnOnce() -> R,
        R: Future<Output = Result<T, Error>>,
    {
        let asked = Instant::now();
        let mut last = self.last.lock().await;
        if let Some((began, value)) = last.as_ref()
            && *began >= asked
        {
            return Ok(value.clone());
        }
        let began = Instant::now();
        let value = read().await?;
        *last = Some((began, value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_flood_shares_reads_and_no_one_gets_a_result_older_than_their_call() {
        let shared = Arc::new(SharedRead::<bool>::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let truth = Arc::new(AtomicBool::new(false));
        let read = {
            let (reads, truth) = (reads.clone(), truth.clone());
            move || {
                let (reads, truth) = (reads.clone(), truth.clone());
                async move {
                    reads.fetch_add(1, Ordering::SeqCst);
                    let now = truth.load(Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok(now)
                }
            }
        };

        let callers: Vec<_> = (0..200)
            .map(|_| {
                let (shared, read) = (shared.clone(), read.clone());
                tokio::spawn(async move { shared.get(read).await })
            })
            .collect();
        for c in callers {
            assert!(!c.await.unwrap().unwrap());
        }
        let n = reads.load(Ordering::SeqCst);
        assert!((1..=2).contains(&n), "200 callers at once, {n} reads");

        // A change before the call is seen by it: the last read began before the change.
        truth.store(true, Ordering::SeqCst);
        assert!(shared.get(read.clone()).await.unwrap());
        assert_eq!(reads.load(Ordering::SeqCst), n + 1);

        // A failed read fails its caller only; the next caller reads again.
        let failed = shared
            .get(|| async { Err::<bool, _>(Error::not_found("operator")) })
            .await;
        assert!(failed.is_err());
        assert!(shared.get(read).await.unwrap());
        assert_eq!(reads.load(Ordering::SeqCst), n + 2);
    }
}
