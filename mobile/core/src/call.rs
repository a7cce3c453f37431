//! Voice calls in the app's engine: what a call looks like on screen (from the chat's events)
//! and the [`VoiceEngine`] seam the engine drives. The engine relays signaling between the
//! server and the engine (`CallReady` and the visitor's signals in, this peer's answer,
//! candidates and milestones out) and tells it of mute and hold; the engine owns the media (the
//! WebRTC peer and the audio devices). Without an engine (a build without voice) calls are still
//! shown, and a call this device should take reports failed, so the chat goes on as text.

use serde::{Deserialize, Serialize};
use switchboard_shared::{CallEndReason, CallSignal, ChatEvent, ChatEventKind, ChatId, IceServer};

/// One call: its chat and its id (the `call_started` event's `seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallKey {
    /// The chat.
    pub chat_id: ChatId,
    /// The call.
    pub call_id: i64,
}

/// What the media engine tells the server, through the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutput {
    /// An answer, a candidate or a mute state for the visitor's peer.
    Signal(CallKey, CallSignal),
    /// The audio connected.
    Connected(CallKey),
    /// The audio could not connect, or dropped for good.
    Failed(CallKey),
}

/// Where an engine sends its output (in order).
pub type CallOut = tokio::sync::mpsc::UnboundedSender<CallOutput>;

/// The media side of calls (the WebRTC peer and audio). Every method returns at once; work
/// happens in the engine's own tasks and comes back through [`CallOut`].
pub trait VoiceEngine: Send + Sync + 'static {
    /// A call is ready on this device: set up a peer with these ICE servers and wait for the
    /// visitor's offer.
    fn ready(&self, call: CallKey, ice_servers: Vec<IceServer>, out: CallOut);
    /// A signal from the visitor's peer (offer, candidate, mute state).
    fn signal(&self, call: CallKey, signal: CallSignal);
    /// The operator muted (or unmuted) the microphone.
    fn set_muted(&self, call: CallKey, muted: bool);
    /// The chat went on hold (both directions silent) or was resumed.
    fn set_held(&self, call: CallKey, held: bool);
    /// The device's network changed (or its connection to the server came back): restart ICE
    /// on this connected call, so it finds the new path instead of dropping; the new offer goes
    /// out as a [`CallOutput::Signal`] and the call goes on meanwhile.
    fn restart_ice(&self, call: CallKey);
    /// The call is over: close the peer.
    fn end(&self, call: CallKey);
}

/// Where a chat's call stands, on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CallPhase {
    /// The operator invited the visitor to talk; waiting for their answer.
    Inviting,
    /// The call started; the peers are connecting.
    Connecting,
    /// Talking.
    Connected,
}

/// A chat's call as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallView {
    /// The call's id (0 while inviting).
    pub call_id: i64,
    /// Where it stands.
    pub phase: CallPhase,
    /// When the audio connected (unix ms), for the duration shown.
    pub connected_at: Option<i64>,
    /// The operator's microphone is muted.
    pub muted: bool,
    /// The visitor muted their microphone.
    pub visitor_muted: bool,
}

/// The chat's call now, from its events: the latest invitation or call not ended yet.
pub fn current_call(events: &[ChatEvent]) -> Option<CallView> {
    let mut call = None;
    for e in events {
        match &e.kind {
            ChatEventKind::CallInvited { .. } => call = Some(view(0, CallPhase::Inviting, None)),
            ChatEventKind::CallStarted { .. } => {
                call = Some(view(e.seq, CallPhase::Connecting, None));
            }
            ChatEventKind::CallConnected { call_id } => {
                if let Some(c) = call
                    .as_mut()
                    .filter(|c: &&mut CallView| c.call_id == *call_id)
                {
                    c.phase = CallPhase::Connected;
                    c.connected_at = Some(e.at);
                }
            }
            ChatEventKind::CallEnded { .. } | ChatEventKind::Ended { .. } => call = None,
            _ => {}
        }
    }
    call
}

fn view(call_id: i64, phase: CallPhase, connected_at: Option<i64>) -> CallView {
    CallView {
        call_id,
        phase,
        connected_at,
        muted: false,
        visitor_muted: false,
    }
}

/// What to tell the operator about the chat's last call, when its end is the latest call news
/// ("Voice could not connect…"); `None` while a call goes on or when nothing needs saying.
pub fn last_call_note(events: &[ChatEvent]) -> Option<String> {
    let last = events.iter().rev().find(|e| {
        matches!(
            e.kind,
            ChatEventKind::CallInvited { .. }
                | ChatEventKind::CallStarted { .. }
                | ChatEventKind::CallConnected { .. }
                | ChatEventKind::CallEnded { .. }
        )
    })?;
    let ChatEventKind::CallEnded {
        reason,
        duration_ms,
        ..
    } = &last.kind
    else {
        return None;
    };
    Some(match reason {
        CallEndReason::MediaFailed => {
            "The voice call could not connect. The chat goes on as text.".to_owned()
        }
        CallEndReason::Refused => "The visitor declined the voice call.".to_owned(),
        CallEndReason::Hangup => match duration_ms {
            Some(ms) => format!("Voice call ended after {}.", duration(*ms)),
            None => "Voice call ended.".to_owned(),
        },
        CallEndReason::ChatEnded => return None,
    })
}

/// `ms` as `m:ss` (or `h:mm:ss`).
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", (s / 60) % 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::{CallParty, ChatStatus, OperatorId, OperatorRef};

    fn ev(seq: i64, kind: ChatEventKind) -> ChatEvent {
        ChatEvent {
            chat_id: ChatId(1),
            seq,
            at: seq * 1000,
            status: ChatStatus::Active,
            kind,
        }
    }

    fn op() -> OperatorRef {
        OperatorRef {
            id: OperatorId(1),
            name: "Olga".into(),
        }
    }

    #[test]
    fn a_call_goes_inviting_connecting_connected_and_away() {
        let mut events = vec![ev(2, ChatEventKind::CallInvited { operator: op() })];
        assert_eq!(
            current_call(&events).map(|c| c.phase),
            Some(CallPhase::Inviting)
        );
        events.push(ev(
            3,
            ChatEventKind::CallStarted {
                by: CallParty::Operator,
            },
        ));
        let c = current_call(&events).expect("a call");
        assert_eq!((c.call_id, c.phase), (3, CallPhase::Connecting));
        // a milestone of another call changes nothing
        events.push(ev(4, ChatEventKind::CallConnected { call_id: 99 }));
        assert_eq!(
            current_call(&events).map(|c| c.phase),
            Some(CallPhase::Connecting)
        );
        events.push(ev(5, ChatEventKind::CallConnected { call_id: 3 }));
        let c = current_call(&events).expect("a call");
        assert_eq!(
            (c.phase, c.connected_at),
            (CallPhase::Connected, Some(5000))
        );
        assert_eq!(
            last_call_note(&events),
            None,
            "nothing to say while talking"
        );
        events.push(ev(
            6,
            ChatEventKind::CallEnded {
                call_id: 3,
                reason: CallEndReason::Hangup,
                by: Some(CallParty::Visitor),
                duration_ms: Some(65_000),
            },
        ));
        assert_eq!(current_call(&events), None);
        assert_eq!(
            last_call_note(&events).as_deref(),
            Some("Voice call ended after 1:05.")
        );
    }

    #[test]
    fn failed_and_refused_calls_leave_a_note() {
        let failed = [
            ev(
                3,
                ChatEventKind::CallStarted {
                    by: CallParty::Visitor,
                },
            ),
            ev(
                4,
                ChatEventKind::CallEnded {
                    call_id: 3,
                    reason: CallEndReason::MediaFailed,
                    by: None,
                    duration_ms: None,
                },
            ),
        ];
        assert_eq!(current_call(&failed), None);
        assert!(last_call_note(&failed).is_some_and(|n| n.contains("goes on as text")));
        let refused = [
            ev(2, ChatEventKind::CallInvited { operator: op() }),
            ev(
                3,
                ChatEventKind::CallEnded {
                    call_id: 0,
                    reason: CallEndReason::Refused,
                    by: Some(CallParty::Visitor),
                    duration_ms: None,
                },
            ),
        ];
        assert_eq!(
            last_call_note(&refused).as_deref(),
            Some("The visitor declined the voice call.")
        );
    }

    #[test]
    fn durations_read_as_a_clock() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(59_999), "0:59");
        assert_eq!(duration(61_000), "1:01");
        assert_eq!(duration(3_723_000), "1:02:03");
        assert_eq!(duration(-5), "0:00");
    }
}
