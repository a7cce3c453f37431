//! Voice calls in the operator app's engine, against the real server on both databases: the
//! engine hands the call to its media engine (here a recording stand-in for the WebRTC peer,
//! which the real peer's own tests cover) and relays what it says; the snapshot follows the
//! call; mute reaches the visitor, hold and resume reach the media; End voice leaves the text
//! going; an app without a media engine lets the call fall back to text at once.

use std::sync::{Arc, Mutex};

use switchboard_core::cache::ChatAction;
use switchboard_core::call::{CallKey, CallOut, CallOutput, VoiceEngine};
use switchboard_core::ui::{CallPhase, UiSnapshot};
use switchboard_e2e::operator_app::AppHarness;
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer, on_both_databases};
use switchboard_shared::{
    CallEndReason, CallSignal, ChatEventKind, ChatId, ChatStatus, IceServer, Mode,
    VisitorClientMsg, VisitorServerMsg,
};

on_both_databases!(
    the_engine_relays_a_call_between_the_visitor_and_its_media,
    without_media_a_voice_request_falls_back_to_text,
    an_invitation_the_visitor_refuses_leaves_a_note,
);

const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const ANSWER: &str = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const RESTART: &str = "v=0\r\no=- 3 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

/// What the engine asked of its media engine.
#[derive(Debug, Clone, PartialEq)]
enum Asked {
    Ready(CallKey, Vec<IceServer>),
    Signal(CallKey, CallSignal),
    Muted(CallKey, bool),
    Held(CallKey, bool),
    Restart(CallKey),
    End(CallKey),
}

/// A media engine that records what it is asked and answers through the engine's channel
/// when the test tells it to.
#[derive(Default)]
struct Recorder {
    asked: Mutex<Vec<Asked>>,
    out: Mutex<Option<CallOut>>,
}

impl Recorder {
    fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }

    fn say(&self, output: CallOutput) {
        let out = self.out.lock().unwrap().clone().expect("a call is ready");
        out.send(output).unwrap();
    }

    async fn until(&self, what: &str, pred: impl Fn(&[Asked]) -> bool) {
        let asked = switchboard_e2e::wait::poll(
            std::time::Duration::from_secs(10),
            std::time::Duration::from_millis(20),
            async || pred(&self.asked()).then_some(()),
        )
        .await;
        assert!(
            asked.is_some(),
            "timed out waiting for {what}: {:?}",
            self.asked()
        );
    }
}

impl VoiceEngine for Recorder {
    fn ready(&self, call: CallKey, ice_servers: Vec<IceServer>, out: CallOut) {
        *self.out.lock().unwrap() = Some(out);
        self.asked
            .lock()
            .unwrap()
            .push(Asked::Ready(call, ice_servers));
    }
    fn signal(&self, call: CallKey, signal: CallSignal) {
        self.asked.lock().unwrap().push(Asked::Signal(call, signal));
    }
    fn set_muted(&self, call: CallKey, muted: bool) {
        self.asked.lock().unwrap().push(Asked::Muted(call, muted));
    }
    fn set_held(&self, call: CallKey, held: bool) {
        self.asked.lock().unwrap().push(Asked::Held(call, held));
    }
    fn restart_ice(&self, call: CallKey) {
        self.asked.lock().unwrap().push(Asked::Restart(call));
    }
    fn end(&self, call: CallKey) {
        self.asked.lock().unwrap().push(Asked::End(call));
    }
}

fn call_phase(s: &UiSnapshot, chat: ChatId) -> Option<CallPhase> {
    let tab = s.chats.iter().find(|c| c.chat.id == chat)?;
    tab.call.as_ref().map(|c| c.phase)
}

fn note(s: &UiSnapshot, chat: ChatId) -> Option<String> {
    s.chats
        .iter()
        .find(|c| c.chat.id == chat)
        .and_then(|c| c.call_note.clone())
}

/// A visitor asks for a voice chat; the app (available) accepts it.
async fn accepted_voice_request(
    server: &TestServer,
    h: &mut AppHarness,
    name: &str,
) -> (Visitor, ChatId, i64) {
    let mut v = Visitor::connect(&server.base).await;
    v.send(&VisitorClientMsg::StartChat {
        name: Some(name.into()),
        mode: Mode::Voice,
    })
    .await;
    let chat = v.wait_status(ChatStatus::Waiting).await.chat_id;
    h.until("the voice request", |s| {
        s.requests
            .iter()
            .any(|c| c.id == chat && c.mode == Mode::Voice)
    })
    .await;
    h.app.act(chat, ChatAction::Accept).await.unwrap();
    let VisitorServerMsg::CallReady { call_id, .. } = v
        .wait_for(|m| matches!(m, VisitorServerMsg::CallReady { .. }))
        .await
    else {
        unreachable!()
    };
    (v, chat, call_id)
}

async fn the_engine_relays_a_call_between_the_visitor_and_its_media(db: Db) {
    let server = TestServer::start(db).await;
    let op = server.operator("Vic").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    let media = Arc::new(Recorder::default());
    h.app.set_voice(media.clone());
    h.app.set_available(true).await.unwrap();
    let (mut v, chat, call_id) = accepted_voice_request(&server, &mut h, "Vox").await;
    let key = CallKey {
        chat_id: chat,
        call_id,
    };

    // The call is handed to the media engine; the snapshot says connecting.
    media
        .until(
            "ready",
            |a| matches!(a.first(), Some(Asked::Ready(k, _)) if *k == key),
        )
        .await;
    h.until("connecting", |s| {
        call_phase(s, chat) == Some(CallPhase::Connecting)
    })
    .await;

    // The visitor's offer reaches the media; its answer reaches the visitor.
    v.send(&VisitorClientMsg::CallSignal {
        call_id,
        signal: CallSignal::Offer { sdp: OFFER.into() },
    })
    .await;
    let offer = Asked::Signal(key, CallSignal::Offer { sdp: OFFER.into() });
    media.until("the offer", |a| a.contains(&offer)).await;
    media.say(CallOutput::Signal(
        key,
        CallSignal::Answer { sdp: ANSWER.into() },
    ));
    let answer = v
        .wait_for(|m| matches!(m, VisitorServerMsg::CallSignal { .. }))
        .await;
    assert!(
        matches!(&answer, VisitorServerMsg::CallSignal { signal: CallSignal::Answer { sdp }, .. } if sdp == ANSWER),
        "{answer:?}"
    );

    // Connected: the snapshot shows the call with its start.
    media.say(CallOutput::Connected(key));
    let s = h
        .until("connected", |s| {
            call_phase(s, chat) == Some(CallPhase::Connected)
        })
        .await;
    let call = s.chats[0].call.clone().expect("a call");
    assert!(call.connected_at.is_some() && !call.muted);

    // Mute: the media mutes, the visitor is told, the snapshot shows it.
    h.app.set_call_muted(chat, true).unwrap();
    assert!(media.asked().contains(&Asked::Muted(key, true)));
    let muted = v
        .wait_for(|m| {
            matches!(
                m,
                VisitorServerMsg::CallSignal {
                    signal: CallSignal::Mute { .. },
                    ..
                }
            )
        })
        .await;
    assert!(matches!(
        muted,
        VisitorServerMsg::CallSignal {
            signal: CallSignal::Mute { muted: true },
            ..
        }
    ));
    assert!(
        h.app.snapshot().chats[0]
            .call
            .as_ref()
            .is_some_and(|c| c.muted)
    );
    // The visitor mutes too: shown.
    v.send(&VisitorClientMsg::CallSignal {
        call_id,
        signal: CallSignal::Mute { muted: true },
    })
    .await;
    h.until("the visitor muted", |s| {
        s.chats[0].call.as_ref().is_some_and(|c| c.visitor_muted)
    })
    .await;

    // Hold and Resume reach the media.
    h.app.act(chat, ChatAction::Hold).await.unwrap();
    media
        .until("held", |a| a.contains(&Asked::Held(key, true)))
        .await;
    h.app.act(chat, ChatAction::Resume).await.unwrap();
    media
        .until("resumed", |a| a.contains(&Asked::Held(key, false)))
        .await;

    // The network changes: the connected call restarts ICE (not before it connected: see
    // the Ready/Signal steps above, which asked for no restart), and the new offer reaches the
    // visitor, whose answer reaches the media.
    assert!(!media.asked().iter().any(|a| matches!(a, Asked::Restart(_))));
    h.app.network_changed();
    media
        .until("the ICE restart", |a| a.contains(&Asked::Restart(key)))
        .await;
    media.say(CallOutput::Signal(
        key,
        CallSignal::Offer {
            sdp: RESTART.into(),
        },
    ));
    let restart = v
        .wait_for(|m| {
            matches!(
                m,
                VisitorServerMsg::CallSignal {
                    signal: CallSignal::Offer { .. },
                    ..
                }
            )
        })
        .await;
    assert!(
        matches!(&restart, VisitorServerMsg::CallSignal { signal: CallSignal::Offer { sdp }, .. } if sdp == RESTART),
        "{restart:?}"
    );
    v.send(&VisitorClientMsg::CallSignal {
        call_id,
        signal: CallSignal::Answer { sdp: ANSWER.into() },
    })
    .await;
    let answer = Asked::Signal(key, CallSignal::Answer { sdp: ANSWER.into() });
    media
        .until("the visitor's answer", |a| a.contains(&answer))
        .await;

    // End voice: the media closes, the visitor hears of it, the text goes on.
    h.app.call_end(chat).await.unwrap();
    media.until("ended", |a| a.contains(&Asked::End(key))).await;
    let ended = v
        .wait_for(|m| matches!(m, VisitorServerMsg::Event { event, .. } if matches!(event.kind, ChatEventKind::CallEnded { .. })))
        .await;
    let VisitorServerMsg::Event { event, .. } = ended else {
        unreachable!()
    };
    assert!(matches!(
        event.kind,
        ChatEventKind::CallEnded {
            reason: CallEndReason::Hangup,
            ..
        }
    ));
    let s = h
        .until("the call gone", |s| call_phase(s, chat).is_none())
        .await;
    assert!(
        note(&s, chat).is_some_and(|n| n.starts_with("Voice call ended after")),
        "{:?}",
        note(&s, chat)
    );
    assert!(!s.chats[0].call.as_ref().is_some_and(|c| c.muted));
    h.app
        .send_message(chat, "still here, in text")
        .await
        .unwrap();
    v.wait_message("still here, in text").await;
    // No call left: ending it again is a typed error.
    assert_eq!(
        h.app.call_end(chat).await.unwrap_err().code,
        "illegal_transition"
    );
    assert_eq!(
        h.app.set_call_muted(chat, true).unwrap_err().code,
        "illegal_transition"
    );
}

async fn without_media_a_voice_request_falls_back_to_text(db: Db) {
    let server = TestServer::start(db).await;
    let op = server.operator("Wes").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    h.app.set_available(true).await.unwrap();
    let (mut v, chat, _call_id) = accepted_voice_request(&server, &mut h, "Nomic").await;
    let ended = v
        .wait_for(|m| matches!(m, VisitorServerMsg::Event { event, .. } if matches!(event.kind, ChatEventKind::CallEnded { .. })))
        .await;
    let VisitorServerMsg::Event { event, .. } = ended else {
        unreachable!()
    };
    assert!(matches!(
        event.kind,
        ChatEventKind::CallEnded {
            reason: CallEndReason::MediaFailed,
            ..
        }
    ));
    let s = h
        .until("the fallback note", |s| note(s, chat).is_some())
        .await;
    assert_eq!(call_phase(&s, chat), None);
    assert_eq!(
        note(&s, chat).as_deref(),
        Some("The voice call could not connect. The chat goes on as text.")
    );
    v.say("t1", "text then").await;
    h.until("the text", |s| {
        s.chats[0].messages.iter().any(|m| m.text == "text then")
    })
    .await;
}

async fn an_invitation_the_visitor_refuses_leaves_a_note(db: Db) {
    let server = TestServer::start(db).await;
    let op = server.operator("Ivo").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    h.app.set_available(true).await.unwrap();
    let (mut v, chat) = Visitor::request_chat(&server.base, "Tex").await;
    h.until("the request", |s| s.requests.iter().any(|c| c.id == chat))
        .await;
    h.app.act(chat, ChatAction::Accept).await.unwrap();
    h.until("the tab", |s| s.chats.iter().any(|c| c.chat.id == chat))
        .await;

    h.app.call_invite(chat).await.unwrap();
    h.until("inviting", |s| {
        call_phase(s, chat) == Some(CallPhase::Inviting)
    })
    .await;
    // Only one call at a time: the server refuses a second invitation with a typed error.
    let again = h.app.call_invite(chat).await.unwrap_err();
    assert!(
        ["illegal_transition", "conflict"].contains(&again.code.as_str()),
        "{again:?}"
    );
    v.wait_for(|m| matches!(m, VisitorServerMsg::Event { event, .. } if matches!(event.kind, ChatEventKind::CallInvited { .. })))
        .await;
    v.send(&VisitorClientMsg::CallRefuse).await;
    let s = h
        .until("refused", |s| {
            call_phase(s, chat).is_none() && note(s, chat).is_some()
        })
        .await;
    assert_eq!(
        note(&s, chat).as_deref(),
        Some("The visitor declined the voice call.")
    );

    // Offline, calls are refused with a typed error and nothing is queued.
    let mut server = server;
    server.stop().await;
    h.until("offline", |s| {
        s.connection != switchboard_core::ui::ConnectionState::Online
    })
    .await;
    assert_eq!(h.app.call_invite(chat).await.unwrap_err().code, "offline");
    assert!(h.app.snapshot().pending.is_empty());
}
