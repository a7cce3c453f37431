//! The operators' side of the chat domain: Live Help Available / Not Available, signing out,
//! changing and removing an operator. Each commits, then publishes (the operator's open apps
//! learn of it at once), then ends the ringing chats nobody is left to answer.

use switchboard_shared::{ErrorCode, OperatorId, OperatorProfile};

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
