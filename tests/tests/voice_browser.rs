//! The widget's voice in real headless Chromium against the real backend, Chromium's fake
//! microphone (`--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`) as the
//! visitor's: ask for voice → the operator (through `mobile/core`) accepts → the widget offers,
//! and the test plays the operator's side of the signaling with a real second peer (an
//! `RTCPeerConnection` in the same page, sending a 660 Hz tone) → audio flows both ways →
//! Mute, Hold, Resume → End communication ends the call and the chat. Also: the operator's
//! invitation (Accept, End voice back to text, 44 px controls on a phone), a call whose ICE
//! never connects falling back to text within the widget's timeout, and a refused
//! microphone offering Text chat.
//!
//! The widget is put on a page of the test server with `data-voice-timeout` (seconds) on its
//! script tag. Before it loads, the page wraps `getUserMedia` and `RTCPeerConnection` so the
//! test can look at the widget's microphone track and peer (or refuses the microphone).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_core::Connection;
use switchboard_e2e::media::{VISITOR_HZ, media_browser, put_widget};
use switchboard_e2e::operator::{connect_available, next_request, wait_event, wait_message};
use switchboard_e2e::webdriver::Browser;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{
    CallEndReason, CallParty, CallSignal, ChatEventKind, ChatId, IceCandidate, Mode,
    OperatorAction, OperatorServerMsg,
};
use tokio::sync::Mutex;

/// One browser call at a time: ICE timing on a shared 2-core machine is not a race to run.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The operator's peer, in the page: a real RTCPeerConnection that sends a 660 Hz tone and
/// keeps its ICE candidates in `__opCands` for the test to relay.
const OPERATOR_PEER: &str = r#"
const pc = new window.__PC({ iceServers: [] });
window.__op = pc;
window.__opCands = [];
// Chromium decodes (and measures) received audio only when something plays it.
pc.ontrack = (e) => { const a = new Audio(); a.srcObject = e.streams[0]; a.play(); window.__opAudio = a; };
pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) window.__opCands.push(e.candidate.toJSON()); };
const ctx = new AudioContext();
const osc = ctx.createOscillator();
osc.frequency.value = 660;
const dst = ctx.createMediaStreamDestination();
osc.connect(dst);
osc.start();
pc.addTrack(dst.stream.getAudioTracks()[0], dst.stream);
return true;
"#;

/// The operator's peer answers an offer. Argument: the SDP.
const ANSWER: &str = r#"
return (async () => {
  await window.__op.setRemoteDescription({ type: 'offer', sdp: arguments[0] });
  await window.__op.setLocalDescription(await window.__op.createAnswer());
  return window.__op.localDescription.sdp;
})();
"#;

/// Audio received by the widget's peer and by the operator's: `[bytes, energy]` each.
const MEDIA: &str = r#"
return (async () => {
  const out = [];
  for (const pc of [window.__pcs[0], window.__op]) {
    let r = [0, 0];
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') r = [s.bytesReceived || 0, s.totalAudioEnergy || 0];
    });
    out.push(r);
  }
  return out;
})();
"#;

/// The loudest frequency (Hz) the widget plays (from the operator) and the operator's peer
/// receives (from the widget's microphone), by an AnalyserNode on each received stream.
const PEAKS: &str = r#"
const shadow = document.querySelector('#switchboard-widget').shadowRoot;
const streams = [shadow.querySelector('audio').srcObject, window.__opAudio.srcObject];
if (!window.__analysers) {
  const ctx = new AudioContext();
  window.__analysers = streams.map((s) => {
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    ctx.createMediaStreamSource(s).connect(an);
    return an;
  });
}
return window.__analysers.map((an) => {
  const bins = new Float32Array(an.frequencyBinCount);
  an.getFloatFrequencyData(bins);
  let best = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return best * an.context.sampleRate / an.fftSize;
});
"#;

/// Looks into the widget's shadow root: `w(selector)`.
const W: &str =
    "const w = (q) => document.querySelector('#switchboard-widget').shadowRoot.querySelector(q);";

/// The operator's peer sends this tone (Hz); the visitor's microphone plays VISITOR_HZ.
const OPERATOR_HZ: f64 = 660.0;

/// The visitor asks for a chat of this mode; the operator accepts it. Returns the chat.
async fn ask_and_accept(b: &Browser, op: &mut Connection, mode: &str, expect: Mode) -> ChatId {
    b.click("Click for Live Help").await;
    b.see("Open chat with operator").await;
    b.click(mode).await;
    b.see("Routing your call…").await;
    let chat = next_request(op).await;
    assert_eq!(op.state.requests[&chat].mode, expect);
    op.accept(chat).await.unwrap();
    chat
}

/// The call's id and the widget's offer, as the operator gets them.
async fn call_ready_and_offer(op: &mut Connection) -> (i64, String) {
    let mut call = None;
    loop {
        match op
            .recv()
            .await
            .expect("the call's frames reach the operator")
        {
            OperatorServerMsg::CallReady { call_id, .. } => call = Some(call_id),
            OperatorServerMsg::CallSignal {
                call_id,
                signal: CallSignal::Offer { sdp },
                ..
            } => {
                assert_eq!(Some(call_id), call, "the offer follows call_ready");
                return (call_id, sdp);
            }
            _ => {}
        }
    }
}

async fn signal(op: &mut Connection, chat: ChatId, call_id: i64, signal: CallSignal) {
    let action = OperatorAction::CallSignal {
        chat_id: chat,
        call_id,
        signal,
    };
    op.request(action).await.expect("the server relays it");
}

/// Plays the operator's side until the widget reports the audio connected: answers the
/// offer with the page's operator peer and relays candidates both ways. Returns how many
/// candidates the widget sent.
async fn connect_call(
    b: &Browser,
    op: &mut Connection,
    chat: ChatId,
    call_id: i64,
    offer: &str,
) -> usize {
    b.js(OPERATOR_PEER, json!([])).await;
    let answer = b.js(ANSWER, json!([offer])).await;
    let answer = answer.as_str().expect("an answer").to_owned();
    signal(op, chat, call_id, CallSignal::Answer { sdp: answer }).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut from_widget = 0;
    loop {
        assert!(Instant::now() < deadline, "the call never connected");
        let ours = b.js("return window.__opCands.splice(0)", json!([])).await;
        for c in ours.as_array().cloned().unwrap_or_default() {
            let candidate: IceCandidate = serde_json::from_value(c).unwrap();
            signal(op, chat, call_id, CallSignal::Candidate { candidate }).await;
        }
        let Ok(msg) = tokio::time::timeout(Duration::from_millis(150), op.recv()).await else {
            continue;
        };
        match msg.expect("the operator's connection stays up") {
            OperatorServerMsg::CallSignal {
                signal: CallSignal::Candidate { candidate },
                call_id: id,
                ..
            } => {
                assert_eq!(id, call_id);
                assert!(
                    candidate.candidate.starts_with("candidate:"),
                    "{candidate:?}"
                );
                from_widget += 1;
                let add = "return window.__op.addIceCandidate(arguments[0]).then(() => true)";
                b.js(add, json!([candidate])).await;
            }
            OperatorServerMsg::Event { event, .. }
                if event.chat_id == chat
                    && matches!(event.kind, ChatEventKind::CallConnected { call_id: id } if id == call_id) =>
            {
                return from_widget;
            }
            _ => {}
        }
    }
}

/// Waits for the operator's next signal of this call that is a mute state.
async fn wait_mute(op: &mut Connection) -> bool {
    loop {
        if let OperatorServerMsg::CallSignal {
            signal: CallSignal::Mute { muted },
            ..
        } = op
            .recv()
            .await
            .expect("the mute state reaches the operator")
        {
            return muted;
        }
    }
}

/// How much audio energy the operator's peer receives from the widget in `ms`.
async fn operator_hears(b: &Browser, ms: u64) -> f64 {
    let energy = async || {
        let v = b.js(MEDIA, json!([])).await;
        v[1][1].as_f64().unwrap_or(0.0)
    };
    let before = energy().await;
    tokio::time::sleep(Duration::from_millis(ms)).await;
    energy().await - before
}

/// The widget's microphone track: enabled, and live or ended.
async fn mic_track(b: &Browser) -> Value {
    b.js(
        "const t = window.__mics[0].getAudioTracks()[0]; return { enabled: t.enabled, state: t.readyState };",
        json!([]),
    )
    .await
}

async fn call_bar_text(b: &Browser) -> String {
    let v = b
        .js(
            &format!("{W} return w('.call').hidden ? null : w('.ct').textContent;"),
            json!([]),
        )
        .await;
    v.as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_chat_connects_audio_both_ways_then_mutes_holds_and_ends() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start(Db::Sqlite).await;
    let mut op = connect_available(&server.operator("Vera").await).await;
    let (b, _wav) = media_browser(false).await;
    put_widget(&b, &server, 20, false).await;

    let chat = ask_and_accept(&b, &mut op, "Voice chat", Mode::Voice).await;
    let (call_id, offer) = call_ready_and_offer(&mut op).await;
    assert!(offer.starts_with("v=0"), "{offer}");
    assert!(
        offer.contains("m=audio"),
        "the offer carries the microphone: {offer}"
    );
    b.see("Connecting the voice chat…").await;
    let asked = b.js("return window.__asked", json!([])).await;
    assert_eq!(
        asked,
        json!({ "audio": true }),
        "the widget asks for the microphone only"
    );
    let candidates = connect_call(&b, &mut op, chat, call_id, &offer).await;
    assert!(candidates > 0, "the widget trickles its candidates");

    // The call bar: the text chat stays open beside it, the clock runs, the mic level moves.
    b.see("Voice chat").await;
    b.wait(
        "the call's duration",
        &format!(
            "{W} const t = w('.ck').textContent; return /^\\d\\d:\\d\\d$/.test(t) && t !== '00:00';"
        ),
        json!([]),
    )
    .await;
    b.wait(
        "the mic level",
        &format!("{W} return +w('[role=meter]').getAttribute('aria-valuenow') > 0;"),
        json!([]),
    )
    .await;
    b.control("textbox", "Message").await;
    let no_end_chat = b
        .js(
            &format!(
                "{W} return [...w('.foot').querySelectorAll('button')].every((x) => x.hidden);"
            ),
            json!([]),
        )
        .await;
    assert_eq!(
        no_end_chat,
        json!(true),
        "End communication is in the call bar"
    );

    // Audio both ways: the widget hears the operator's tone, the operator the fake mic.
    let deadline = Instant::now() + Duration::from_secs(20);
    let heard = loop {
        let v = b.js(MEDIA, json!([])).await;
        let got: Vec<(f64, f64)> = serde_json::from_value(v.clone()).unwrap();
        if got
            .iter()
            .all(|(bytes, energy)| *bytes > 1000.0 && *energy > 0.0)
        {
            break v;
        }
        assert!(Instant::now() < deadline, "no audio energy both ways: {v}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    println!("received (bytes, energy) by the widget and by the operator: {heard}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let peaks: Vec<f64> = serde_json::from_value(b.js(PEAKS, json!([])).await).unwrap();
        let near = |f: f64, hz: f64| (f - hz).abs() < 20.0;
        if near(peaks[0], OPERATOR_HZ) && near(peaks[1], VISITOR_HZ) {
            println!("loudest frequencies heard by the widget and the operator: {peaks:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tones are not heard: {peaks:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let playing = b
        .js(&format!("{W} const s = w('audio').srcObject; return !!s && s.getAudioTracks()[0].readyState === 'live' && w('audio').autoplay;"), json!([]))
        .await;
    assert_eq!(
        playing,
        json!(true),
        "the operator's voice plays in the widget's <audio>"
    );

    // Text beside the call.
    op.send(chat, "I can hear you").await.unwrap();
    b.see("I can hear you").await;
    let shot = std::env::temp_dir().join("switchboard-widget-voice-call.png");
    b.screenshot(&shot).await;

    // Mute: pressed, the track disabled, the operator told and hearing (next to) nothing;
    // Unmute restores.
    let speaking = operator_hears(&b, 2500).await;
    assert!(
        speaking > 0.0,
        "the operator hears the fake microphone's beeps"
    );
    b.click("Mute").await;
    b.wait(
        "Mute pressed",
        &format!("{W} return w('[aria-pressed]').getAttribute('aria-pressed') === 'true';"),
        json!([]),
    )
    .await;
    assert_eq!(mic_track(&b).await["enabled"], json!(false));
    assert!(wait_mute(&mut op).await, "muted");
    tokio::time::sleep(Duration::from_millis(300)).await; // what was on its way
    let muted = operator_hears(&b, 2500).await;
    println!("energy the operator received in 2.5 s: speaking {speaking}, muted {muted}");
    assert!(
        muted < speaking / 20.0,
        "muted, the operator hears {muted} (speaking: {speaking})"
    );
    b.click("Mute").await;
    b.wait(
        "Mute released",
        &format!("{W} return w('[aria-pressed]').getAttribute('aria-pressed') === 'false';"),
        json!([]),
    )
    .await;
    assert_eq!(mic_track(&b).await["enabled"], json!(true));
    assert!(!wait_mute(&mut op).await, "unmuted");
    let unmuted = operator_hears(&b, 2500).await;
    assert!(
        unmuted > speaking / 4.0,
        "unmuted, the operator hears {unmuted} (before: {speaking})"
    );

    // Hold mutes both ways and says so; Resume restores.
    op.hold(chat).await.unwrap();
    b.wait(
        "On hold in the call bar",
        &format!("{W} return w('.ct').textContent === 'On hold';"),
        json!([]),
    )
    .await;
    assert_eq!(mic_track(&b).await["enabled"], json!(false));
    assert_eq!(
        b.js(&format!("{W} return w('audio').muted;"), json!([]))
            .await,
        json!(true)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = operator_hears(&b, 2500).await;
    assert!(
        held < speaking / 20.0,
        "on hold, the operator hears {held} (speaking: {speaking})"
    );
    op.resume(chat).await.unwrap();
    b.wait(
        "the call back",
        &format!("{W} return w('.ct').textContent === 'Voice chat';"),
        json!([]),
    )
    .await;
    assert_eq!(mic_track(&b).await["enabled"], json!(true));
    assert_eq!(
        b.js(&format!("{W} return w('audio').muted;"), json!([]))
            .await,
        json!(false)
    );

    // End communication ends the call, then the chat; the microphone closes.
    b.click("End communication").await;
    wait_event(&mut op, chat, |k| {
        matches!(
            k,
            ChatEventKind::CallEnded {
                reason: CallEndReason::ChatEnded,
                duration_ms: Some(_),
                ..
            }
        )
    })
    .await;
    wait_event(&mut op, chat, |k| matches!(k, ChatEventKind::Ended { .. })).await;
    b.see("You have ended the chat.").await;
    b.wait(
        "the microphone closed",
        "return window.__mics[0].getAudioTracks()[0].readyState === 'ended';",
        json!([]),
    )
    .await;
    b.wait(
        "the peer closed",
        "return window.__pcs[0].signalingState === 'closed';",
        json!([]),
    )
    .await;
    assert_eq!(call_bar_text(&b).await, "", "the call bar is gone");
    let shot = std::env::temp_dir().join("switchboard-widget-voice.png");
    b.screenshot(&shot).await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_that_never_connects_falls_back_to_text_within_the_timeout() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start(Db::Sqlite).await;
    let mut op = connect_available(&server.operator("Nico").await).await;
    let (b, _wav) = media_browser(false).await;
    put_widget(&b, &server, 2, false).await;

    let chat = ask_and_accept(&b, &mut op, "Voice chat", Mode::Voice).await;
    let (call_id, offer) = call_ready_and_offer(&mut op).await;
    assert!(offer.starts_with("v=0"));
    // The operator never answers: the widget gives up after its 2 s and says so.
    let asked = Instant::now();
    wait_event(&mut op, chat, |k| {
        matches!(k, ChatEventKind::CallEnded { call_id: id, reason: CallEndReason::MediaFailed, by: Some(CallParty::Visitor), .. } if *id == call_id)
    })
    .await;
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(8), "fell back after {took:?}");
    b.see("The voice connection could not be made. The chat goes on as text.")
        .await;
    assert_eq!(call_bar_text(&b).await, "", "the call bar is gone");
    b.wait(
        "the microphone closed",
        "return window.__mics[0].getAudioTracks()[0].readyState === 'ended';",
        json!([]),
    )
    .await;

    // The chat goes on as text, both ways.
    b.fill("Message", "Text is fine").await;
    b.click("Send").await;
    wait_message(&mut op, chat, "Text is fine").await;
    op.send(chat, "Then we type").await.unwrap();
    b.see("Then we type").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_microphone_offers_text_chat() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start(Db::Sqlite).await;
    let mut op = connect_available(&server.operator("Tess").await).await;
    let (b, _wav) = media_browser(false).await;
    put_widget(&b, &server, 20, true).await;

    b.click("Click for Live Help").await;
    b.click("Voice chat").await;
    b.see("Voice chat needs your microphone, and it could not be used")
        .await;
    b.see("Please use Text chat.").await;
    // Nothing was asked of the operators.
    assert!(op.state.requests.is_empty());
    b.click("Text chat").await;
    b.see("Routing your call…").await;
    let chat = next_request(&mut op).await;
    assert_eq!(op.state.requests[&chat].mode, Mode::Text);
    op.accept(chat).await.unwrap();
    b.see("Chat with operator").await;
    assert_eq!(call_bar_text(&b).await, "");
    b.fill("Message", "Typing it is").await;
    b.click("Send").await;
    wait_message(&mut op, chat, "Typing it is").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_invites_to_talk_and_the_visitor_ends_the_voice_on_a_phone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start(Db::Sqlite).await;
    let mut op = connect_available(&server.operator("Ines").await).await;
    let (b, _wav) = media_browser(true).await;
    put_widget(&b, &server, 30, false).await;

    let chat = ask_and_accept(&b, &mut op, "Text chat", Mode::Text).await;
    b.see("Chat with operator").await;
    op.request(OperatorAction::CallInvite { chat_id: chat })
        .await
        .unwrap();
    b.see("The operator invites you to a voice chat.").await;
    // Refuse first: the operator is told, the chat goes on; then the operator asks again.
    b.click("Refuse").await;
    wait_event(&mut op, chat, |k| {
        matches!(
            k,
            ChatEventKind::CallEnded {
                reason: CallEndReason::Refused,
                ..
            }
        )
    })
    .await;
    b.see("You have refused the voice chat. The chat goes on as text.")
        .await;
    assert_eq!(call_bar_text(&b).await, "");
    let asked = b.js("return window.__mics.length", json!([])).await;
    assert_eq!(asked, json!(0), "refusing never opens the microphone");
    op.request(OperatorAction::CallInvite { chat_id: chat })
        .await
        .unwrap();
    b.wait(
        "the second invitation",
        &format!("{W} return w('.ct').textContent === 'The operator invites you to a voice chat.' && !w('.call').hidden;"),
        json!([]),
    )
    .await;
    assert_controls_fit(&b, &["Accept", "Refuse"]).await;
    assert_accessible(&b, "invited to talk").await;
    b.click("Accept").await;
    let (call_id, offer) = call_ready_and_offer(&mut op).await;
    assert!(offer.contains("m=audio"));
    let events = server.admin.chat_events(chat, 0).await.unwrap();
    let started = events.iter().any(|e| {
        e.seq == call_id
            && matches!(
                e.kind,
                ChatEventKind::CallStarted {
                    by: CallParty::Operator
                }
            )
    });
    assert!(started, "the invitation's call started");
    b.see("Connecting the voice chat…").await;
    assert_controls_fit(&b, &["Mute", "End voice", "End communication"]).await;
    assert_accessible(&b, "in a call").await;
    let shot = std::env::temp_dir().join("switchboard-widget-voice-phone.png");
    b.screenshot(&shot).await;

    // End voice: the call ends, the chat goes on as text.
    b.click("End voice").await;
    wait_event(&mut op, chat, |k| {
        matches!(k, ChatEventKind::CallEnded { call_id: id, reason: CallEndReason::Hangup, by: Some(CallParty::Visitor), .. } if *id == call_id)
    })
    .await;
    b.see("You have ended the voice chat. The chat goes on as text.")
        .await;
    let focus = "return document.querySelector('#switchboard-widget').shadowRoot.activeElement?.getAttribute('aria-label') === 'Message';";
    b.wait("the focus back in the message box", focus, json!([]))
        .await;
    assert_eq!(call_bar_text(&b).await, "");
    b.wait(
        "the microphone closed",
        "return window.__mics[0].getAudioTracks()[0].readyState === 'ended';",
        json!([]),
    )
    .await;
    op.send(chat, "Back to typing").await.unwrap();
    b.see("Back to typing").await;
    b.control("button", "End chat").await;
    b.quit().await;
}

/// Each named control in the widget is on screen and at least 44×44 CSS pixels.
async fn assert_controls_fit(b: &Browser, names: &[&str]) {
    for name in names {
        let el = b.control("button", name).await;
        let r = b
            .js(
                "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height, r.left, r.right, innerWidth];",
                json!([el.to_json()]),
            )
            .await;
        let v: Vec<f64> = serde_json::from_value(r).unwrap();
        assert!(v[0] >= 44.0 && v[1] >= 44.0, "{name}: {v:?} is under 44×44");
        assert!(v[2] >= 0.0 && v[3] <= v[4], "{name}: {v:?} is off screen");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_mid_call_ends_the_voice_and_keeps_the_text() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start(Db::Sqlite).await;
    let mut op = connect_available(&server.operator("Remy").await).await;
    let (b, _wav) = media_browser(false).await;
    put_widget(&b, &server, 30, false).await;

    let chat = ask_and_accept(&b, &mut op, "Voice chat", Mode::Voice).await;
    let (call_id, _offer) = call_ready_and_offer(&mut op).await;
    b.see("Connecting the voice chat…").await;
    // The page goes (its peer with it) and comes back: the widget says the audio is gone.
    put_widget(&b, &server, 30, false).await;
    wait_event(&mut op, chat, |k| {
        matches!(k, ChatEventKind::CallEnded { call_id: id, reason: CallEndReason::MediaFailed, by: Some(CallParty::Visitor), .. } if *id == call_id)
    })
    .await;
    b.see("The voice connection could not be made. The chat goes on as text.")
        .await;
    assert_eq!(call_bar_text(&b).await, "");
    b.fill("Message", "Reloaded").await;
    b.click("Send").await;
    wait_message(&mut op, chat, "Reloaded").await;
    b.quit().await;
}

/// Loads axe-core into the page once (its source is the argument).
const LOAD_AXE: &str = r#"
if (!window.axe) {
  const s = document.createElement('script');
  s.textContent = arguments[0];
  document.head.append(s);
}
return !!window.axe;
"#;

/// axe-core on the widget's host (it reaches into the shadow root): its violations.
const AXE_VIOLATIONS: &str = r#"
const host = document.querySelector('#switchboard-widget');
return axe.run(host, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) =>
  `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join('; ')}`));
"#;

/// axe-core finds nothing wrong in the widget as it is now.
async fn assert_accessible(b: &Browser, state: &str) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../widget/node_modules/axe-core/axe.min.js"
    );
    let axe = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run npm ci in widget/)"));
    b.wait("axe-core to load", LOAD_AXE, json!([axe])).await;
    let found = b.js(AXE_VIOLATIONS, json!([])).await;
    assert_eq!(found, json!([]), "axe-core, {state}");
}
