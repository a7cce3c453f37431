//! The chat lifecycle as one pure function: `(status, action) -> outcome`.
//!
//! This table is the only place that decides which moves are legal. Every domain action in
//! [`crate::chat`] asks it first and stores nothing when it refuses. `Ended` and `Missed` are
//! final: nothing leaves them.

use switchboard_shared::{ChatStatus, EndReason};

/// Something that can happen to a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An operator accepts a ringing request or takes a queued chat.
    Accept,
    /// An operator passes on a ringing request (the chat keeps ringing for the others).
    Decline,
    /// An operator moves a ringing request to the Communication Queue.
    Queue,
    /// The operator parks an active chat.
    Hold,
    /// The operator comes back to a parked chat.
    Resume,
    /// The operator ends the chat.
    OperatorEnd,
    /// The visitor ends the chat (or gives up waiting).
    VisitorEnd,
    /// Nobody can answer: none available, all declined, or the ring timed out.
    Unanswered,
    /// The visitor went away (no widget left) before anyone answered. Unlike `VisitorEnd` it
    /// never ends a chat someone has just accepted.
    Abandoned,
    /// Either side sends a message.
    Message,
}

impl Action {
    /// Every action, for exhaustive tests.
    pub const ALL: [Action; 10] = [
        Action::Accept,
        Action::Decline,
        Action::Queue,
        Action::Hold,
        Action::Resume,
        Action::OperatorEnd,
        Action::VisitorEnd,
        Action::Unanswered,
        Action::Abandoned,
        Action::Message,
    ];
}

/// What a legal action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The status after the action.
    pub status: ChatStatus,
    /// Set when the action ends the chat.
    pub end: Option<EndReason>,
}

/// The action is not legal in this status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Illegal {
    /// The status the chat was in.
    pub status: ChatStatus,
    /// What was attempted.
    pub action: Action,
}

/// Decides what `action` does to a chat in `status`.
pub fn transition(status: ChatStatus, action: Action) -> Result<Outcome, Illegal> {
    use Action as A;
    use ChatStatus as S;
    let stay = |status| Outcome { status, end: None };
    let end = |status, reason| Outcome {
        status,
        end: Some(reason),
    };
    let outcome = match (status, action) {
        (S::Waiting | S::Queued, A::Accept) => stay(S::Active),
        (S::Waiting, A::Decline) => stay(S::Waiting),
        (S::Waiting, A::Queue) => stay(S::Queued),
        (S::Waiting, A::Unanswered) => end(S::Ended, EndReason::NoOperator),
        // A visitor who gives up before anyone answered is a missed chat, not an ended one.
        (S::Waiting | S::Queued, A::VisitorEnd | A::Abandoned) => {
            end(S::Missed, EndReason::Visitor)
        }
        (S::Active, A::Hold) => stay(S::OnHold),
        (S::OnHold, A::Resume) => stay(S::Active),
        (S::Active | S::OnHold, A::Message) => stay(status),
        (S::Active | S::OnHold, A::OperatorEnd) => end(S::Ended, EndReason::Operator),
        (S::Active | S::OnHold, A::VisitorEnd) => end(S::Ended, EndReason::Visitor),
        _ => return Err(Illegal { status, action }),
    };
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use ChatStatus as S;

    /// The whole table, written out by hand: every status × every action.
    fn expected(status: ChatStatus, action: Action) -> Option<ChatStatus> {
        let row: &[(Action, ChatStatus)] = match status {
            S::Waiting => &[
                (A::Accept, S::Active),
                (A::Decline, S::Waiting),
                (A::Queue, S::Queued),
                (A::VisitorEnd, S::Missed),
                (A::Unanswered, S::Ended),
                (A::Abandoned, S::Missed),
            ],
            S::Queued => &[
                (A::Accept, S::Active),
                (A::VisitorEnd, S::Missed),
                (A::Abandoned, S::Missed),
            ],
            S::Active => &[
                (A::Hold, S::OnHold),
                (A::Message, S::Active),
                (A::OperatorEnd, S::Ended),
                (A::VisitorEnd, S::Ended),
            ],
            S::OnHold => &[
                (A::Resume, S::Active),
                (A::Message, S::OnHold),
                (A::OperatorEnd, S::Ended),
                (A::VisitorEnd, S::Ended),
            ],
            S::Ended | S::Missed => &[],
        };
        row.iter().find(|(a, _)| *a == action).map(|(_, s)| *s)
    }

    #[test]
    fn every_status_times_every_action_matches_the_table() {
        for status in S::ALL {
            for action in A::ALL {
                let got = transition(status, action).map(|o| o.status).ok();
                assert_eq!(got, expected(status, action), "{status:?} × {action:?}");
            }
        }
    }

    #[test]
    fn final_statuses_refuse_everything() {
        for status in [S::Ended, S::Missed] {
            for action in A::ALL {
                assert_eq!(transition(status, action), Err(Illegal { status, action }));
            }
        }
    }

    #[test]
    fn ending_moves_carry_a_reason_and_others_do_not() {
        for status in S::ALL {
            for action in A::ALL {
                if let Ok(o) = transition(status, action) {
                    assert_eq!(
                        o.end.is_some(),
                        o.status.is_final(),
                        "{status:?} × {action:?}"
                    );
                }
            }
        }
        assert_eq!(
            transition(S::Waiting, A::Unanswered).unwrap().end,
            Some(EndReason::NoOperator)
        );
        assert_eq!(
            transition(S::Queued, A::VisitorEnd).unwrap().end,
            Some(EndReason::Visitor)
        );
        assert_eq!(
            transition(S::OnHold, A::OperatorEnd).unwrap().end,
            Some(EndReason::Operator)
        );
    }
}
