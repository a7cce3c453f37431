//! The chat lifecycle as pure functions, the only place that decides what may happen to a chat:
//!
//! - [`transition`]: which moves are legal in which status, and where they lead (the table);
//! - [`authorize`]: who may make them — the chat's visitor, an operator (the chat's own, another
//!   one's, or any while nobody has it yet) or the server;
//! - [`decide`] / [`decide_message`]: both at once, plus the accept race (the winner's retry
//!   changes nothing, everyone else has lost), giving the [`Step`] the writer records;
//! - [`after_decline`] and [`within_limit`]: the decline cascade and the chat cap, from the facts
//!   the writer reads.
//!
//! Every domain action asks here first and stores nothing when it is refused. `Ended` and
//! `Missed` are final: nothing leaves them.

use switchboard_shared::{
    Author, ChatEventKind, ChatStatus, ChatSummary, EndReason, ErrorCode, OperatorRef, VisitorId,
};

use crate::error::Error;

/// A lifecycle move: everything that can happen to a chat but a message (which comes with
/// its text, through [`decide_message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
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
    /// The visitor answers an operator's invitation (Start Chat): the chat goes to that
    /// operator, ringing nobody else.
    Join,
}

impl Move {
    /// Every move, for exhaustive tests.
    pub const ALL: [Move; 10] = [
        Move::Accept,
        Move::Decline,
        Move::Queue,
        Move::Hold,
        Move::Resume,
        Move::OperatorEnd,
        Move::VisitorEnd,
        Move::Unanswered,
        Move::Abandoned,
        Move::Join,
    ];
}

/// Something that can happen to a chat: what the tables are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A lifecycle move.
    Move(Move),
    /// Either side sends a message.
    Message,
}

impl Action {
    /// Every action, for exhaustive tests.
    pub fn all() -> impl Iterator<Item = Action> {
        Move::ALL
            .into_iter()
            .map(Action::Move)
            .chain([Action::Message])
    }

    fn verb(self) -> &'static str {
        use Move as M;
        match self {
            Action::Move(M::Accept) => "accept",
            Action::Move(M::Join) => "join",
            Action::Move(M::Decline) => "decline",
            Action::Move(M::Queue) => "queue",
            Action::Move(M::Hold) => "hold",
            Action::Move(M::Resume) => "resume",
            Action::Move(M::OperatorEnd | M::VisitorEnd | M::Unanswered | M::Abandoned) => "end",
            Action::Message => "send a message in",
        }
    }
}

/// Who asks for a change.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A visitor (the chat's own, or not).
    Visitor(VisitorId),
    /// An operator.
    Operator(OperatorRef),
    /// The server itself (ring timeouts, nobody available, the visitor gone).
    System,
}

/// What a legal action does to the chat's status.
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
    use Action::{Message, Move as Mv};
    use ChatStatus as S;
    use Move as M;
    let stay = |status| Outcome { status, end: None };
    let end = |status, reason| Outcome {
        status,
        end: Some(reason),
    };
    let outcome = match (status, action) {
        (S::Invited, Mv(M::Join)) => stay(S::Active),
        // Closed, or left unanswered when the visitor leaves the site; or taken back.
        (S::Invited, Mv(M::VisitorEnd) | Mv(M::Abandoned)) => end(S::Ended, EndReason::Declined),
        (S::Invited, Mv(M::OperatorEnd)) => end(S::Ended, EndReason::Operator),
        (S::Waiting | S::Queued, Mv(M::Accept)) => stay(S::Active),
        (S::Waiting, Mv(M::Decline)) => stay(S::Waiting),
        (S::Waiting, Mv(M::Queue)) => stay(S::Queued),
        (S::Waiting, Mv(M::Unanswered)) => end(S::Ended, EndReason::NoOperator),
        // A visitor who gives up before anyone answered is a missed chat, not an ended one.
        (S::Waiting | S::Queued, Mv(M::VisitorEnd) | Mv(M::Abandoned)) => {
            end(S::Missed, EndReason::Visitor)
        }
        (S::Active, Mv(M::Hold)) => stay(S::OnHold),
        (S::OnHold, Mv(M::Resume)) => stay(S::Active),
        (S::Active | S::OnHold, Message) => stay(status),
        (S::Active | S::OnHold, Mv(M::OperatorEnd)) => end(S::Ended, EndReason::Operator),
        (S::Active | S::OnHold, Mv(M::VisitorEnd)) => end(S::Ended, EndReason::Visitor),
        _ => return Err(Illegal { status, action }),
    };
    Ok(outcome)
}

/// How the actor stands to a chat: all that authorization looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The server.
    System,
    /// The chat's visitor.
    ChatVisitor,
    /// Any other visitor.
    OtherVisitor,
    /// The operator who has the chat.
    ChatOperator,
    /// An operator, while another one has the chat.
    OtherOperator,
    /// An operator, while nobody has the chat (ringing or queued).
    AnyOperator,
}

impl Party {
    /// Every party, for exhaustive tests.
    pub const ALL: [Party; 6] = [
        Party::System,
        Party::ChatVisitor,
        Party::OtherVisitor,
        Party::ChatOperator,
        Party::OtherOperator,
        Party::AnyOperator,
    ];

    /// How `actor` stands to `chat`.
    pub fn of(chat: &ChatSummary, actor: &Actor) -> Party {
        match actor {
            Actor::System => Party::System,
            Actor::Visitor(v) if *v == chat.visitor_id => Party::ChatVisitor,
            Actor::Visitor(_) => Party::OtherVisitor,
            Actor::Operator(me) => match &chat.operator {
                Some(op) if op.id == me.id => Party::ChatOperator,
                Some(_) => Party::OtherOperator,
                None => Party::AnyOperator,
            },
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A visitor asked about a chat that is not theirs: it looks the same as no chat at all.
    NotFound,
    /// Visitors may only send messages and end their chat.
    VisitorsCannot,
    /// Ending on the visitor's or the server's behalf is not for operators.
    OperatorsCannot,
    /// Only the chat's own operator may hold, resume, end or write in it.
    OthersChat,
    /// The server only ends chats nobody answered.
    SystemCannot(Action),
    /// Someone else accepted first (their name).
    AlreadyTaken(String),
    /// The operator already leads as many active chats as the settings allow.
    ChatLimit(u32),
    /// Not legal in the chat's status.
    Illegal(Illegal),
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Error {
        let forbidden = |message| Error::client(ErrorCode::Forbidden, message);
        match r {
            Refusal::NotFound => Error::not_found("chat"),
            Refusal::VisitorsCannot => forbidden("visitors cannot do that"),
            Refusal::OperatorsCannot => forbidden("operators cannot do that"),
            Refusal::OthersChat => forbidden("this chat belongs to another operator"),
            // No client can make the server act: this is a bug.
            Refusal::SystemCannot(action) => {
                Error::Internal(format!("the server cannot {} a chat", action.verb()))
            }
            Refusal::AlreadyTaken(name) => Error::client(
                ErrorCode::AlreadyTaken,
                format!("{name} has already taken this chat"),
            ),
            Refusal::ChatLimit(max) => Error::client(
                ErrorCode::ChatLimitReached,
                format!("you already have {max} active chats: put one on hold or end one first"),
            ),
            Refusal::Illegal(Illegal { status, action }) => Error::client(
                ErrorCode::IllegalTransition,
                format!(
                    "cannot {} a chat that is {}",
                    action.verb(),
                    status.as_str().replace('_', " ")
                ),
            ),
        }
    }
}

/// Who may do what, whatever the status: the second half of the table.
pub fn authorize(party: Party, action: Action) -> Result<(), Refusal> {
    use Action::{Message, Move as Mv};
    use Move as M;
    use Party as P;
    match (party, action) {
        (
            P::System,
            Mv(M::Unanswered) | Mv(M::Abandoned) | Mv(M::VisitorEnd) | Mv(M::OperatorEnd),
        ) => Ok(()),
        (P::System, Message) => Ok(()),
        (P::System, other) => Err(Refusal::SystemCannot(other)),
        (P::OtherVisitor, _) => Err(Refusal::NotFound),
        (P::ChatVisitor, Mv(M::VisitorEnd) | Mv(M::Join) | Message) => Ok(()),
        (P::ChatVisitor, _) => Err(Refusal::VisitorsCannot),
        (_, Mv(M::VisitorEnd) | Mv(M::Unanswered) | Mv(M::Abandoned) | Mv(M::Join)) => {
            Err(Refusal::OperatorsCannot)
        }
        // Requests are for everyone; whether this one still rings is the status' business.
        (_, Mv(M::Accept) | Mv(M::Decline) | Mv(M::Queue)) => Ok(()),
        (P::OtherOperator, _) => Err(Refusal::OthersChat),
        (P::ChatOperator | P::AnyOperator, _) => Ok(()),
    }
}

/// What a decided move records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The operator takes the chat.
    Accepted(OperatorRef),
    /// The operator passed on it.
    Declined(OperatorRef),
    /// The operator put it in the Communication Queue.
    Queued(OperatorRef),
    /// The operator parked it.
    OnHold(OperatorRef),
    /// The operator came back to it.
    Resumed(OperatorRef),
    /// The chat is over.
    Ended(EndReason),
}

impl Change {
    /// The event kind this change is stored and sent as.
    pub fn kind(self) -> ChatEventKind {
        match self {
            Change::Accepted(operator) => ChatEventKind::Accepted { operator },
            Change::Declined(operator) => ChatEventKind::Declined { operator },
            Change::Queued(operator) => ChatEventKind::Queued { operator },
            Change::OnHold(operator) => ChatEventKind::OnHold { operator },
            Change::Resumed(operator) => ChatEventKind::Resumed { operator },
            Change::Ended(reason) => ChatEventKind::Ended { reason },
        }
    }
}

/// A legal move: the status it leads to and what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The chat's status afterwards.
    pub status: ChatStatus,
    /// What happened.
    pub change: Change,
}

/// What to do about a move that is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Record this step.
    Apply(Step),
    /// Nothing: the operator retried an accept they had already won.
    Unchanged,
}

/// Decides a move by `actor` on `chat`: authorization, the accept race, then the table.
pub fn decide(chat: &ChatSummary, actor: &Actor, m: Move) -> Result<Decision, Refusal> {
    let action = Action::Move(m);
    let party = Party::of(chat, actor);
    authorize(party, action)?;
    if let (Move::Accept, ChatStatus::Active | ChatStatus::OnHold) = (m, chat.status) {
        match (party, &chat.operator) {
            (Party::ChatOperator, _) => return Ok(Decision::Unchanged),
            (Party::OtherOperator, Some(winner)) => {
                return Err(Refusal::AlreadyTaken(winner.name.clone()));
            }
            _ => {}
        }
    }
    let outcome = transition(chat.status, action).map_err(Refusal::Illegal)?;
    let change = match (outcome.end, m, actor) {
        (Some(reason), _, _) => Change::Ended(reason),
        (None, Move::Accept, Actor::Operator(me)) => Change::Accepted(me.clone()),
        (None, Move::Decline, Actor::Operator(me)) => Change::Declined(me.clone()),
        (None, Move::Queue, Actor::Operator(me)) => Change::Queued(me.clone()),
        (None, Move::Hold, Actor::Operator(me)) => Change::OnHold(me.clone()),
        (None, Move::Resume, Actor::Operator(me)) => Change::Resumed(me.clone()),
        // The visitor takes the invitation: the inviting operator has the chat.
        (None, Move::Join, Actor::Visitor(_)) => match &chat.operator {
            Some(inviter) => Change::Accepted(inviter.clone()),
            None => return Err(Refusal::SystemCannot(action)),
        },
        // Every other non-ending move is an operator's, and `authorize` refused the rest.
        (None, _, _) => return Err(Refusal::SystemCannot(action)),
    };
    Ok(Decision::Apply(Step {
        status: outcome.status,
        change,
    }))
}

/// Decides a message by `actor` in `chat`: the status it leaves the chat in, and its author.
pub fn decide_message(chat: &ChatSummary, actor: &Actor) -> Result<(ChatStatus, Author), Refusal> {
    authorize(Party::of(chat, actor), Action::Message)?;
    let outcome = transition(chat.status, Action::Message).map_err(Refusal::Illegal)?;
    let author = match actor {
        Actor::Visitor(_) => Author::Visitor,
        Actor::Operator(op) => Author::Operator {
            id: op.id,
            name: op.name.clone(),
        },
        Actor::System => Author::System,
    };
    Ok((outcome.status, author))
}

/// What a decline leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterDecline {
    /// The operator had declined before: nothing new to record.
    Repeat,
    /// Recorded; others can still answer.
    Declined,
    /// Recorded, and nobody available is left who has not declined: the visitor is offered
    /// "Leave a message" (an `Unanswered` move follows).
    DeclinedByAll,
}

/// The decline cascade, from the facts: whether this decline is new, and how many available
/// operators have not declined the chat (counting this one's decline).
pub fn after_decline(new: bool, undeclined_available: i64) -> AfterDecline {
    match (new, undeclined_available) {
        (false, _) => AfterDecline::Repeat,
        (true, 0) => AfterDecline::DeclinedByAll,
        (true, _) => AfterDecline::Declined,
    }
}

/// Whether an operator with `active` chats may take (or come back to) another under a cap of
/// `max`; chats on hold do not count.
pub fn within_limit(active: i64, max: u32) -> Result<(), Refusal> {
    if active >= i64::from(max) {
        return Err(Refusal::ChatLimit(max));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Action::Move as Mv;
    use ChatStatus as S;
    use Move as M;
    use Party as P;
    use switchboard_shared::{ChatId, Mode, OperatorId};

    /// The whole status table, written out by hand: every status × every action.
    fn expected(status: ChatStatus, action: Action) -> Option<ChatStatus> {
        let row: &[(Action, ChatStatus)] = match status {
            S::Invited => &[
                (Mv(M::Join), S::Active),
                (Mv(M::VisitorEnd), S::Ended),
                (Mv(M::Abandoned), S::Ended),
                (Mv(M::OperatorEnd), S::Ended),
            ],
            S::Waiting => &[
                (Mv(M::Accept), S::Active),
                (Mv(M::Decline), S::Waiting),
                (Mv(M::Queue), S::Queued),
                (Mv(M::VisitorEnd), S::Missed),
                (Mv(M::Unanswered), S::Ended),
                (Mv(M::Abandoned), S::Missed),
            ],
            S::Queued => &[
                (Mv(M::Accept), S::Active),
                (Mv(M::VisitorEnd), S::Missed),
                (Mv(M::Abandoned), S::Missed),
            ],
            S::Active => &[
                (Mv(M::Hold), S::OnHold),
                (A::Message, S::Active),
                (Mv(M::OperatorEnd), S::Ended),
                (Mv(M::VisitorEnd), S::Ended),
            ],
            S::OnHold => &[
                (Mv(M::Resume), S::Active),
                (A::Message, S::OnHold),
                (Mv(M::OperatorEnd), S::Ended),
                (Mv(M::VisitorEnd), S::Ended),
            ],
            S::Ended | S::Missed => &[],
        };
        row.iter().find(|(a, _)| *a == action).map(|(_, s)| *s)
    }

    /// Who may do what, written out by hand: every party × every action.
    fn allowed(party: Party, action: Action) -> Result<(), Refusal> {
        let ok: &[Action] = match party {
            P::System => &[
                Mv(M::Unanswered),
                Mv(M::Abandoned),
                Mv(M::VisitorEnd),
                Mv(M::OperatorEnd),
                A::Message,
            ],
            P::ChatVisitor => &[Mv(M::VisitorEnd), Mv(M::Join), A::Message],
            P::OtherVisitor => &[],
            P::ChatOperator | P::AnyOperator => &[
                Mv(M::Accept),
                Mv(M::Decline),
                Mv(M::Queue),
                Mv(M::Hold),
                Mv(M::Resume),
                Mv(M::OperatorEnd),
                A::Message,
            ],
            P::OtherOperator => &[Mv(M::Accept), Mv(M::Decline), Mv(M::Queue)],
        };
        if ok.contains(&action) {
            return Ok(());
        }
        Err(match party {
            P::System => Refusal::SystemCannot(action),
            P::OtherVisitor => Refusal::NotFound,
            P::ChatVisitor => Refusal::VisitorsCannot,
            _ if matches!(
                action,
                Mv(M::VisitorEnd) | Mv(M::Unanswered) | Mv(M::Abandoned) | Mv(M::Join)
            ) =>
            {
                Refusal::OperatorsCannot
            }
            _ => Refusal::OthersChat,
        })
    }

    fn olga() -> OperatorRef {
        OperatorRef {
            id: OperatorId(1),
            name: "Olga".into(),
        }
    }

    fn piet() -> OperatorRef {
        OperatorRef {
            id: OperatorId(2),
            name: "Piet".into(),
        }
    }

    /// A chat in `status` and an actor standing to it as `party`.
    fn scene(status: ChatStatus, party: Party) -> (ChatSummary, Actor) {
        let owner = match party {
            P::ChatOperator => Some(olga()),
            P::OtherOperator => Some(piet()),
            _ => None,
        };
        let chat = ChatSummary {
            id: ChatId(7),
            visitor_id: VisitorId(3),
            visitor_name: None,
            mode: Mode::Text,
            status,
            page: None,
            operator: owner,
            created_at: 0,
            accepted_at: None,
            ended_at: None,
            last_seq: 4,
        };
        let actor = match party {
            P::System => Actor::System,
            P::ChatVisitor => Actor::Visitor(VisitorId(3)),
            P::OtherVisitor => Actor::Visitor(VisitorId(4)),
            P::ChatOperator | P::OtherOperator | P::AnyOperator => Actor::Operator(olga()),
        };
        assert_eq!(Party::of(&chat, &actor), party);
        (chat, actor)
    }

    #[test]
    fn every_status_times_every_action_matches_the_table() {
        for status in S::ALL {
            for action in Action::all() {
                let got = transition(status, action).map(|o| o.status).ok();
                assert_eq!(got, expected(status, action), "{status:?} × {action:?}");
            }
        }
    }

    #[test]
    fn final_statuses_refuse_everything() {
        for status in [S::Ended, S::Missed] {
            for action in Action::all() {
                assert_eq!(transition(status, action), Err(Illegal { status, action }));
            }
        }
    }

    #[test]
    fn ending_moves_carry_a_reason_and_others_do_not() {
        for status in S::ALL {
            for action in Action::all() {
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
            transition(S::Waiting, Mv(M::Unanswered)).unwrap().end,
            Some(EndReason::NoOperator)
        );
        assert_eq!(
            transition(S::Queued, Mv(M::VisitorEnd)).unwrap().end,
            Some(EndReason::Visitor)
        );
        assert_eq!(
            transition(S::OnHold, Mv(M::OperatorEnd)).unwrap().end,
            Some(EndReason::Operator)
        );
    }

    #[test]
    fn every_party_times_every_action_matches_the_permissions() {
        for party in P::ALL {
            for action in Action::all() {
                assert_eq!(
                    authorize(party, action),
                    allowed(party, action),
                    "{party:?} × {action:?}"
                );
            }
        }
    }

    /// Every party × status × move: refused by the permissions first, then the accept race,
    /// then the table; an allowed move records the event the table's outcome names.
    #[test]
    fn every_party_times_status_times_move_is_decided_by_the_tables() {
        for party in P::ALL {
            for status in S::ALL {
                for m in Move::ALL {
                    let (chat, actor) = scene(status, party);
                    let action = Action::Move(m);
                    let got = decide(&chat, &actor, m);
                    let race = m == Move::Accept && matches!(status, S::Active | S::OnHold);
                    let want = match allowed(party, action) {
                        Err(refusal) => Err(refusal),
                        Ok(()) if race && party == P::ChatOperator => Ok(Decision::Unchanged),
                        Ok(()) if race && party == P::OtherOperator => {
                            Err(Refusal::AlreadyTaken("Piet".into()))
                        }
                        Ok(()) => match transition(status, action) {
                            Err(illegal) => Err(Refusal::Illegal(illegal)),
                            Ok(outcome) => {
                                let change = match (outcome.end, m) {
                                    (Some(reason), _) => Change::Ended(reason),
                                    (None, Move::Accept) => Change::Accepted(olga()),
                                    (None, Move::Decline) => Change::Declined(olga()),
                                    (None, Move::Queue) => Change::Queued(olga()),
                                    (None, Move::Hold) => Change::OnHold(olga()),
                                    (None, Move::Resume) => Change::Resumed(olga()),
                                    // The visitor joins the inviter (an invitation always has
                                    // one; without, the move is a bug, refused).
                                    (None, Move::Join) => match &chat.operator {
                                        Some(inviter) => Change::Accepted(inviter.clone()),
                                        None => {
                                            assert_eq!(got, Err(Refusal::SystemCannot(action)));
                                            continue;
                                        }
                                    },
                                    (None, other) => panic!("{other:?} cannot stay"),
                                };
                                Ok(Decision::Apply(Step {
                                    status: outcome.status,
                                    change,
                                }))
                            }
                        },
                    };
                    assert_eq!(got, want, "{party:?} × {status:?} × {m:?}");
                }
            }
        }
    }

    #[test]
    fn a_visitor_who_takes_an_invitation_gets_the_inviter() {
        let (mut chat, visitor) = scene(S::Invited, P::ChatVisitor);
        chat.operator = Some(piet());
        assert_eq!(
            decide(&chat, &visitor, Move::Join),
            Ok(Decision::Apply(Step {
                status: S::Active,
                change: Change::Accepted(piet()),
            }))
        );
        // Closing it declines; the inviter may take it back; nobody else may answer it.
        let closed = decide(&chat, &visitor, Move::VisitorEnd);
        assert!(matches!(
            closed,
            Ok(Decision::Apply(Step {
                change: Change::Ended(EndReason::Declined),
                ..
            }))
        ));
        for m in [Move::Accept, Move::Decline, Move::Queue] {
            assert!(decide(&chat, &Actor::Operator(olga()), m).is_err(), "{m:?}");
        }
    }

    #[test]
    fn messages_are_decided_by_the_same_tables() {
        for party in P::ALL {
            for status in S::ALL {
                let (chat, actor) = scene(status, party);
                let got = decide_message(&chat, &actor).map(|(status, _)| status);
                let want = allowed(party, A::Message).and_then(|()| {
                    transition(status, A::Message)
                        .map(|o| o.status)
                        .map_err(Refusal::Illegal)
                });
                assert_eq!(got, want, "{party:?} × {status:?}");
            }
        }
        let (chat, actor) = scene(S::Active, P::ChatOperator);
        assert_eq!(
            decide_message(&chat, &actor).unwrap().1,
            Author::Operator {
                id: OperatorId(1),
                name: "Olga".into()
            }
        );
    }

    #[test]
    fn a_retried_accept_is_the_winners_and_nobody_elses() {
        let (chat, me) = scene(S::Active, P::ChatOperator);
        assert_eq!(decide(&chat, &me, Move::Accept), Ok(Decision::Unchanged));
        let (chat, other) = scene(S::OnHold, P::OtherOperator);
        let refused = decide(&chat, &other, Move::Accept).unwrap_err();
        assert_eq!(refused, Refusal::AlreadyTaken("Piet".into()));
        let Error::Client { code, message } = Error::from(refused) else {
            panic!("a client error")
        };
        assert_eq!(code, ErrorCode::AlreadyTaken);
        assert_eq!(message, "Piet has already taken this chat");
    }

    #[test]
    fn a_decline_cascades_only_when_it_is_new_and_nobody_is_left() {
        assert_eq!(after_decline(false, 0), AfterDecline::Repeat);
        assert_eq!(after_decline(false, 3), AfterDecline::Repeat);
        assert_eq!(after_decline(true, 2), AfterDecline::Declined);
        assert_eq!(after_decline(true, 0), AfterDecline::DeclinedByAll);
    }

    #[test]
    fn the_chat_cap_counts_chats_already_led() {
        assert_eq!(within_limit(2, 3), Ok(()));
        assert_eq!(within_limit(3, 3), Err(Refusal::ChatLimit(3)));
        assert_eq!(within_limit(0, 1), Ok(()));
    }
}
