//! Real media end to end: the visitor's widget in headless Chromium (its fake microphone plays
//! a 440 Hz tone) and the operator's app engine with its Rust WebRTC peer (`mobile/core`'s
//! `PeerEngine`, an in-memory 660 Hz tone as the microphone and a recording as the speaker),
//! through the real server, on 127.0.0.1. Audio is verified in both directions for at least
//! 3 s — the browser side with an AnalyserNode on what the widget plays, the Rust side by
//! decoding Opus and measuring with Goertzel — then Mute (the visitor hears nothing), Hold
//! (silence both ways), Resume, an ICE restart (the app told its network changed: the call and
//! its audio go on), and End communication.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchboard_core::cache::ChatAction;
use switchboard_core::ui::{CallPhase, UiSnapshot};
use switchboard_core::voice::detect::tone_amplitude;
use switchboard_core::voice::{
    AudioSink, AudioSource, PeerEngine, RecordingSink, ToneSource, VoiceConfig,
};
use switchboard_e2e::media::{VISITOR_HZ, media_browser, put_widget};
use switchboard_e2e::operator_app::AppHarness;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{ChatId, Mode};

const OPERATOR_HZ: f64 = 660.0;

/// The loudest frequency the widget plays (what the operator's peer sends), and its level.
const WIDGET_HEARS: &str = r#"
const a = document.querySelector('#switchboard-widget').shadowRoot.querySelector('audio');
if (!a || !a.srcObject) return null;
if (!window.__heard) {
  const ctx = new AudioContext();
  const an = ctx.createAnalyser();
  an.fftSize = 8192;
  ctx.createMediaStreamSource(a.srcObject).connect(an);
  window.__heard = an;
}
const an = window.__heard;
const bins = new Float32Array(an.frequencyBinCount);
an.getFloatFrequencyData(bins);
let best = 1;
for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
return [best * an.context.sampleRate / an.fftSize, Math.max(bins[best], -200)];
"#;

const KEEP_PEERS: &str = r#"
const Peer = window.RTCPeerConnection;
window.__peers = [];
window.RTCPeerConnection = function (...args) {
  const pc = new Peer(...args);
  window.__peers.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = Peer.prototype;
"#;

/// The ICE user fragment of the operator's side as the widget's peer knows it, and how many
/// peers the widget made.
const REMOTE_UFRAG: &str = r#"
const pc = window.__peers.at(-1);
const sdp = pc && pc.remoteDescription ? pc.remoteDescription.sdp : "";
const m = sdp.match(/a=ice-ufrag:(\S+)/);
return [m ? m[1] : null, window.__peers.length];
"#;

fn phase(s: &UiSnapshot, chat: ChatId) -> Option<CallPhase> {
    s.chats
        .iter()
        .find(|c| c.chat.id == chat)
        .and_then(|c| c.call.as_ref().map(|c| c.phase))
}

/// What the widget hears now: (loudest frequency, its level in dB).
async fn widget_hears(b: &switchboard_e2e::webdriver::Browser) -> Option<(f64, f64)> {
    let v = b.js(WIDGET_HEARS, json!([])).await;
    Some((v.get(0)?.as_f64()?, v.get(1)?.as_f64()?))
}

/// The amplitude of `hz` in the last `ms` the operator's speaker got.
fn operator_hears(heard: &RecordingSink, hz: f64, ms: usize) -> f64 {
    tone_amplitude(&heard.last(48 * ms), hz)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_and_the_apps_rust_peer_hear_each_other() {
    let server = TestServer::start(Db::Sqlite).await;
    let op = server.operator("Rhea").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    let heard = RecordingSink::new();
    let speaker = heard.clone();
    h.app.set_voice(Arc::new(PeerEngine::new(
        VoiceConfig::loopback(),
        move |_| {
            let mic: Box<dyn AudioSource> = Box::new(ToneSource::new(OPERATOR_HZ));
            let out: Box<dyn AudioSink> = Box::new(speaker.clone());
            (mic, out)
        },
    )));
    h.app.set_available(true).await.unwrap();

    // The visitor asks to talk; the operator accepts in the app.
    let (b, _wav) = media_browser(false).await;
    put_widget(&b, &server, 20, false).await;
    // Keep the widget's peer within reach, to see the ICE restart in its descriptions.
    b.js(KEEP_PEERS, json!([])).await;
    b.click("Click for Live Help").await;
    b.see("Open chat with operator").await;
    b.click("Voice chat").await;
    let s = h
        .until("the voice request", |s| {
            s.requests.iter().any(|c| c.mode == Mode::Voice)
        })
        .await;
    let chat = s.requests[0].id;
    h.app.act(chat, ChatAction::Accept).await.unwrap();
    h.until("connected", |s| {
        phase(s, chat) == Some(CallPhase::Connected)
    })
    .await;

    // Both directions for at least 3 s: each side hears the other's tone.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (hz, db) = switchboard_e2e::wait::poll(
        Duration::from_secs(10),
        Duration::from_millis(200),
        async || {
            widget_hears(&b)
                .await
                .filter(|(hz, _)| (hz - OPERATOR_HZ).abs() < 15.0)
        },
    )
    .await
    .expect("the widget plays the operator's tone");
    let visitor_amp = operator_hears(&heard, VISITOR_HZ, 1000);
    let other_amp = operator_hears(&heard, OPERATOR_HZ, 1000);
    println!(
        "after 3 s: the widget hears {hz:.0} Hz at {db:.0} dB; the app hears {VISITOR_HZ} Hz at amplitude {visitor_amp:.0} (its own {OPERATOR_HZ} Hz: {other_amp:.0})"
    );
    assert!(
        heard.len() >= 48 * 3000,
        "3 s of audio reached the app: {}",
        heard.len()
    );
    assert!(
        visitor_amp > 1000.0 && visitor_amp > 10.0 * other_amp,
        "{visitor_amp} / {other_amp}"
    );

    // Mute in the app: the widget's audio goes silent (and the widget is told).
    h.app.set_call_muted(chat, true).unwrap();
    b.see("the operator's microphone is muted").await;
    let quiet = switchboard_e2e::wait::poll(
        Duration::from_secs(10),
        Duration::from_millis(200),
        async || widget_hears(&b).await.filter(|(_, db)| *db < -90.0),
    )
    .await;
    assert!(
        quiet.is_some(),
        "muted, the widget hears nothing: {:?}",
        widget_hears(&b).await
    );
    h.app.set_call_muted(chat, false).unwrap();

    // Hold: silence both ways; Resume: the visitor's voice is back.
    h.app.act(chat, ChatAction::Hold).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let held = operator_hears(&heard, VISITOR_HZ, 400);
    assert!(held < 100.0, "on hold the app hears nothing: {held}");
    h.app.act(chat, ChatAction::Resume).await.unwrap();
    let back = switchboard_e2e::wait::poll(
        Duration::from_secs(10),
        Duration::from_millis(200),
        async || {
            let a = operator_hears(&heard, VISITOR_HZ, 400);
            (a > 1000.0).then_some(a)
        },
    )
    .await;
    assert!(back.is_some(), "resumed, the app hears the visitor again");

    // The operator's network changes: the app restarts ICE, the widget answers the new offer
    // on the same peer, and both go on hearing each other.
    let before = b.js(REMOTE_UFRAG, json!([])).await;
    assert!(before[0].is_string(), "{before}");
    h.app.network_changed();
    let after = switchboard_e2e::wait::poll(
        Duration::from_secs(10),
        Duration::from_millis(100),
        async || {
            let now = b.js(REMOTE_UFRAG, json!([])).await;
            (now[0].is_string() && now[0] != before[0]).then_some(now)
        },
    )
    .await
    .expect("the widget took the restart's offer");
    assert_eq!(after[1], 1, "the same peer, not a new call: {after}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let visitor_amp = operator_hears(&heard, VISITOR_HZ, 1000);
    let (hz, _) = widget_hears(&b).await.expect("the widget plays audio");
    println!(
        "after the ICE restart: the app hears {VISITOR_HZ} Hz at {visitor_amp:.0}; the widget hears {hz:.0} Hz"
    );
    assert!(
        visitor_amp > 1000.0,
        "the app still hears the visitor: {visitor_amp}"
    );
    assert!(
        (hz - OPERATOR_HZ).abs() < 15.0,
        "the widget still hears the operator: {hz}"
    );
    assert_eq!(phase(&h.app.snapshot(), chat), Some(CallPhase::Connected));

    // End communication in the widget ends the call and the chat.
    b.click("End communication").await;
    h.until("the chat ended", |s| {
        s.chats.iter().all(|c| c.chat.id != chat)
    })
    .await;
    let len = heard.len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(heard.len() - len < 48 * 200, "no audio after the end");
    b.quit().await;
}
