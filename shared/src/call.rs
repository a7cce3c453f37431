//! Voice calls inside a chat: the signaling the server relays between the chat's visitor and
//! its leading operator (SDP and ICE candidates, never stored), the call's state machine that
//! both the server and the app check moves against, and the ICE servers peers are given.
//!
//! Audio never passes through the server: the visitor's browser and the operator's app talk
//! peer to peer (through TURN when they must). The visitor's browser always makes the offer;
//! the operator's app answers. Call started, connected and ended are chat events with a `seq`,
//! so transcripts and reports show calls.

use serde::{Deserialize, Serialize};

/// Longest SDP accepted in a signal (bytes).
pub const MAX_SDP_BYTES: usize = 16 * 1024;

/// Longest ICE candidate line accepted in a signal (bytes).
pub const MAX_CANDIDATE_BYTES: usize = 1024;

/// One side of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CallParty {
    /// The chat's visitor.
    Visitor,
    /// The chat's leading operator.
    Operator,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CallEndReason {
    /// One side ended the voice ("End call"); the chat goes on as text.
    Hangup,
    /// The visitor said no to the operator's invitation to talk.
    Refused,
    /// The audio could not connect, or dropped for longer than an ICE restart could mend: the
    /// chat goes on as text.
    MediaFailed,
    /// The chat ended ("End communication" ends text and voice).
    ChatEnded,
}

/// An ICE candidate, as the browser's `RTCIceCandidateInit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IceCandidate {
    /// The `candidate:` line.
    pub candidate: String,
    /// The media stream's id.
    #[serde(rename = "sdpMid", default)]
    pub sdp_mid: Option<String>,
    /// The media line's index.
    #[serde(rename = "sdpMLineIndex", default)]
    pub sdp_mline_index: Option<u16>,
}

/// A STUN or TURN server, as the browser's `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IceServer {
    /// `stun:host:port` or `turn:host:port?transport=udp` and the like.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub credential: Option<String>,
}

/// `PUT /api/admin/voice`: the STUN and TURN servers calls use (it replaces what is set, so
/// fixed credentials are sent again with every change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VoiceSettingsUpdate {
    /// STUN servers, and TURN servers with fixed credentials.
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
    /// A TURN server that takes short-lived credentials made with a shared secret (the TURN
    /// REST convention, coturn's `use-auth-secret`), or none.
    #[serde(default)]
    pub turn_rest: Option<TurnRestInput>,
}

/// A TURN server with short-lived credentials, as the admin sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TurnRestInput {
    /// `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// The secret shared with the TURN server (coturn's `static-auth-secret`).
    pub secret: String,
    /// How long a credential lasts, in seconds (60 to 86400, default 3600).
    #[serde(default)]
    pub ttl_secs: Option<u32>,
}

/// `GET /api/admin/voice`: the servers, without their secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VoiceSettingsView {
    /// STUN and fixed-credential TURN servers.
    pub ice_servers: Vec<IceServerView>,
    /// The TURN server with short-lived credentials, if any.
    pub turn_rest: Option<TurnRestView>,
}

/// An ICE server as the admin sees it: whether it has a credential, not the credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IceServerView {
    /// Its URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    pub username: Option<String>,
    /// Whether a credential is set (it is never shown).
    pub has_credential: bool,
}

/// The short-lived-credential TURN server as the admin sees it (the secret is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TurnRestView {
    /// Its URLs.
    pub urls: Vec<String>,
    /// How long a credential lasts, in seconds.
    pub ttl_secs: u32,
}

/// What one peer tells the other, relayed as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallSignal {
    /// A session description offer (the first one from the visitor; later ones restart ICE).
    Offer {
        /// The SDP.
        sdp: String,
    },
    /// The answer to an offer.
    Answer {
        /// The SDP.
        sdp: String,
    },
    /// A trickled ICE candidate.
    Candidate {
        /// The candidate.
        candidate: IceCandidate,
    },
    /// The sender muted or unmuted its microphone (shown to the other side).
    Mute {
        /// Muted or not.
        muted: bool,
    },
}

impl CallSignal {
    /// Whether the signal is within its limits: an SDP of at most [`MAX_SDP_BYTES`] that looks
    /// like one (`v=0`), a candidate of at most [`MAX_CANDIDATE_BYTES`].
    pub fn check(&self) -> Result<(), SignalRefusal> {
        match self {
            CallSignal::Offer { sdp } | CallSignal::Answer { sdp } => {
                if sdp.len() > MAX_SDP_BYTES {
                    return Err(SignalRefusal::TooLarge);
                }
                if !sdp.starts_with("v=0") {
                    return Err(SignalRefusal::NotSdp);
                }
                Ok(())
            }
            CallSignal::Candidate { candidate } => {
                let size =
                    candidate.candidate.len() + candidate.sdp_mid.as_ref().map_or(0, String::len);
                if size > MAX_CANDIDATE_BYTES {
                    return Err(SignalRefusal::TooLarge);
                }
                Ok(())
            }
            CallSignal::Mute { .. } => Ok(()),
        }
    }
}

/// Why a signal was refused before it was relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalRefusal {
    /// Over its size limit.
    TooLarge,
    /// An offer or answer that is not SDP.
    NotSdp,
}

/// Where a chat's call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// No call.
    Idle,
    /// The operator invited the visitor to talk; the visitor has not answered.
    Invited,
    /// The peers are negotiating (offer, answer, candidates) and connecting.
    Connecting,
    /// Audio flows.
    Connected,
}

impl CallState {
    /// Every state, for exhaustive tests.
    pub const ALL: [CallState; 4] = [
        CallState::Idle,
        CallState::Invited,
        CallState::Connecting,
        CallState::Connected,
    ];
}

/// Who makes a call move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallActor {
    /// The chat's visitor or its leading operator.
    Party(CallParty),
    /// The server (a voice request accepted, the chat ended).
    Server,
}

impl CallActor {
    /// Every actor, for exhaustive tests.
    pub const ALL: [CallActor; 3] = [
        CallActor::Party(CallParty::Visitor),
        CallActor::Party(CallParty::Operator),
        CallActor::Server,
    ];
}

/// Something that happens to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallInput {
    /// A voice request was accepted: the call starts (the server).
    Start,
    /// The operator invites the visitor to talk, inside a text chat.
    Invite,
    /// The visitor accepts the invitation.
    Accept,
    /// The visitor refuses it.
    Refuse,
    /// An offer, answer, candidate or mute state for the other peer.
    Signal,
    /// A peer reports the audio connected.
    Connected,
    /// A peer reports the audio could not connect, or dropped for good.
    Failed,
    /// A peer ends the voice ("End call").
    Hangup,
    /// The chat ended (the server).
    ChatEnded,
}

impl CallInput {
    /// Every input, for exhaustive tests.
    pub const ALL: [CallInput; 9] = [
        CallInput::Start,
        CallInput::Invite,
        CallInput::Accept,
        CallInput::Refuse,
        CallInput::Signal,
        CallInput::Connected,
        CallInput::Failed,
        CallInput::Hangup,
        CallInput::ChatEnded,
    ];
}

/// What a legal call move does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallStep {
    /// The call's state afterwards.
    pub state: CallState,
    /// Set when the move ends the call.
    pub ends: Option<CallEndReason>,
}

/// A call move that is not allowed: who, what, in which state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRefused {
    /// The state the call was in.
    pub state: CallState,
    /// What was attempted.
    pub input: CallInput,
    /// By whom.
    pub actor: CallActor,
}

/// The call's table: what `input` by `actor` does to a call in `state`.
pub fn call_transition(
    state: CallState,
    input: CallInput,
    actor: CallActor,
) -> Result<CallStep, CallRefused> {
    use CallActor::{Party, Server};
    use CallInput as I;
    use CallParty::{Operator, Visitor};
    use CallState as S;
    let to = |state| CallStep { state, ends: None };
    let end = |reason| CallStep {
        state: S::Idle,
        ends: Some(reason),
    };
    let step = match (state, input, actor) {
        (S::Idle, I::Start, Server) => to(S::Connecting),
        (S::Idle, I::Invite, Party(Operator)) => to(S::Invited),
        (S::Invited, I::Accept, Party(Visitor)) => to(S::Connecting),
        (S::Invited, I::Refuse, Party(Visitor)) => end(CallEndReason::Refused),
        (S::Connecting | S::Connected, I::Signal, Party(_)) => to(state),
        (S::Connecting | S::Connected, I::Connected, Party(_)) => to(S::Connected),
        (S::Connecting | S::Connected, I::Failed, Party(_)) => end(CallEndReason::MediaFailed),
        // The operator may take back an invitation; either side may end the voice.
        (S::Invited, I::Hangup, Party(Operator)) => end(CallEndReason::Hangup),
        (S::Connecting | S::Connected, I::Hangup, Party(_)) => end(CallEndReason::Hangup),
        (S::Invited | S::Connecting | S::Connected, I::ChatEnded, Server) => {
            end(CallEndReason::ChatEnded)
        }
        _ => {
            return Err(CallRefused {
                state,
                input,
                actor,
            });
        }
    };
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CallActor::{Party, Server};
    use CallInput as I;
    use CallParty::{Operator, Visitor};
    use CallState as S;

    /// The whole table, written out by hand: every state × input × actor that is allowed.
    fn expected(state: CallState, input: CallInput, actor: CallActor) -> Option<CallStep> {
        let to = |state| Some(CallStep { state, ends: None });
        let end = |reason| {
            Some(CallStep {
                state: S::Idle,
                ends: Some(reason),
            })
        };
        let either = matches!(actor, Party(_));
        match state {
            S::Idle => match (input, actor) {
                (I::Start, Server) => to(S::Connecting),
                (I::Invite, Party(Operator)) => to(S::Invited),
                _ => None,
            },
            S::Invited => match (input, actor) {
                (I::Accept, Party(Visitor)) => to(S::Connecting),
                (I::Refuse, Party(Visitor)) => end(CallEndReason::Refused),
                (I::Hangup, Party(Operator)) => end(CallEndReason::Hangup),
                (I::ChatEnded, Server) => end(CallEndReason::ChatEnded),
                _ => None,
            },
            S::Connecting | S::Connected => match input {
                I::Signal if either => to(state),
                I::Connected if either => to(S::Connected),
                I::Failed if either => end(CallEndReason::MediaFailed),
                I::Hangup if either => end(CallEndReason::Hangup),
                I::ChatEnded if actor == Server => end(CallEndReason::ChatEnded),
                _ => None,
            },
        }
    }

    #[test]
    fn every_state_times_input_times_actor_matches_the_table() {
        for state in S::ALL {
            for input in I::ALL {
                for actor in CallActor::ALL {
                    let got = call_transition(state, input, actor).ok();
                    assert_eq!(
                        got,
                        expected(state, input, actor),
                        "{state:?} × {input:?} × {actor:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_end_leaves_no_call_and_nothing_else_ends_one() {
        for state in S::ALL {
            for input in I::ALL {
                for actor in CallActor::ALL {
                    if let Ok(step) = call_transition(state, input, actor) {
                        assert_eq!(
                            step.ends.is_some(),
                            step.state == S::Idle && state != S::Idle
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn signals_are_checked_for_size_and_shape() {
        let sdp = |s: &str| CallSignal::Offer { sdp: s.into() };
        assert_eq!(sdp("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n").check(), Ok(()));
        assert_eq!(sdp("<html>").check(), Err(SignalRefusal::NotSdp));
        let huge = format!("v=0\r\n{}", "a".repeat(MAX_SDP_BYTES));
        assert_eq!(sdp(&huge).check(), Err(SignalRefusal::TooLarge));
        let candidate = |c: String| CallSignal::Candidate {
            candidate: IceCandidate {
                candidate: c,
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            },
        };
        assert_eq!(
            candidate("candidate:1 1 udp 1 127.0.0.1 5000 typ host".into()).check(),
            Ok(())
        );
        assert_eq!(
            candidate("c".repeat(MAX_CANDIDATE_BYTES + 1)).check(),
            Err(SignalRefusal::TooLarge)
        );
        assert_eq!(CallSignal::Mute { muted: true }.check(), Ok(()));
    }

    #[test]
    fn candidates_read_the_browsers_json() {
        let c: IceCandidate = serde_json::from_str(
            r#"{"candidate":"candidate:1 1 udp 2 10.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}"#,
        )
        .unwrap();
        assert_eq!(c.sdp_mid.as_deref(), Some("0"));
        assert_eq!(c.sdp_mline_index, Some(0));
    }
}
