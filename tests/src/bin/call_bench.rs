//! Voice call benchmark (a measurement, not a test): a voice chat through the real server,
//! from the operator's **Accept** to the first audio at each side, and mouth-to-ear latency
//! both ways, over N calls; then the CPU of a steady call.
//!
//! Runs the real backend (SQLite in a temp dir); the operator is the app's engine (`App` with
//! `PeerEngine`, the Rust WebRTC peer the app uses); the visitor speaks the widget's protocol
//! over its WebSocket and answers with a Rust peer too (the browser's peer is tested in
//! `tests/tests/voice_media.rs`; here the figures must not depend on a browser's scheduling).
//! Each call: the visitor asks for a voice chat, the app accepts, the visitor offers, the peers
//! trade candidates through the server, audio flows peer to peer on 127.0.0.1. Then the
//! visitor's tone starts (onset → detected at the operator's speaker), then the operator's
//! (onset → detected at the visitor's), and the visitor ends the chat.
//!
//! What it leaves out, as real devices add it: the 20 ms a microphone takes to fill a frame and
//! the speaker's playout buffer (`devices::PLAYOUT_PREFILL`, 40 ms) plus the device's own.
//!
//! `cargo run --release -p switchboard-e2e --bin call_bench -- [calls]` (default 20)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use switchboard_core::cache::ChatAction;
use switchboard_core::call::CallKey;
use switchboard_core::voice::detect::tone_amplitude;
use switchboard_core::voice::{
    AudioSink, AudioSource, PeerEngine, ToneSource, VoiceConfig, VoiceEvent, VoicePeer,
};
use switchboard_e2e::bench::{report, usage};
use switchboard_e2e::operator_app::AppHarness;
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{ChatStatus, Mode, VisitorClientMsg, VisitorServerMsg};
use tokio::sync::oneshot;

const VISITOR_HZ: f64 = 440.0;
const OPERATOR_HZ: f64 = 660.0;
/// A frame holds a tone when it measures at a quarter of the tone's peak.
const DETECTED: f64 = i16::MAX as f64 / 3.0 / 4.0;
const LIMIT: Duration = Duration::from_secs(15);

/// One side's microphone and speaker, watched: when its tone started, when it first heard
/// anything, when it first heard the other side's tone.
#[derive(Default)]
struct Probe {
    speak: AtomicBool,
    onset: OnceLock<Instant>,
    first_audio: OnceLock<Instant>,
    heard_tone: OnceLock<Instant>,
}

struct Mic {
    tone: ToneSource,
    probe: Arc<Probe>,
}

impl AudioSource for Mic {
    fn read(&mut self, frame: &mut [i16]) {
        if self.probe.speak.load(Ordering::SeqCst) {
            self.probe.onset.get_or_init(Instant::now);
            self.tone.read(frame);
        } else {
            frame.fill(0);
        }
    }
}

struct Ear {
    hz: f64,
    probe: Arc<Probe>,
}

impl AudioSink for Ear {
    fn write(&mut self, frame: &[i16]) {
        self.probe.first_audio.get_or_init(Instant::now);
        if self.probe.heard_tone.get().is_none() && tone_amplitude(frame, self.hz) > DETECTED {
            let _ = self.probe.heard_tone.set(Instant::now());
        }
    }
}

fn mic_and_ear(speaks: f64, hears: f64, probe: &Arc<Probe>) -> (Mic, Ear) {
    let mic = Mic {
        tone: ToneSource::new(speaks),
        probe: Arc::clone(probe),
    };
    let ear = Ear {
        hz: hears,
        probe: Arc::clone(probe),
    };
    (mic, ear)
}

/// The visitor's side of a call: its peer offers, then signals are relayed between the peer and
/// the server until `stop`; gives the connection back.
async fn visitor_side(
    mut v: Visitor,
    call_id: i64,
    probe: Arc<Probe>,
    mut stop: oneshot::Receiver<()>,
) -> Result<Visitor, String> {
    let (mic, ear) = mic_and_ear(VISITOR_HZ, OPERATOR_HZ, &probe);
    let (peer, mut events) = VoicePeer::new(VoiceConfig::loopback(), mic, ear)
        .await
        .map_err(|e| e.to_string())?;
    let offer = peer.create_offer().await.map_err(|e| e.to_string())?;
    v.send(&VisitorClientMsg::CallSignal {
        call_id,
        signal: offer,
    })
    .await;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(event) = events.recv() => {
                if let VoiceEvent::Signal(signal) = event {
                    v.send(&VisitorClientMsg::CallSignal { call_id, signal }).await;
                }
            }
            frame = v.recv() => match frame {
                Some(VisitorServerMsg::CallSignal { signal, .. }) => {
                    if let Ok(Some(reply)) = peer.handle_signal(&signal).await {
                        v.send(&VisitorClientMsg::CallSignal { call_id, signal: reply }).await;
                    }
                }
                Some(_) => {}
                None => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    peer.close().await.map_err(|e| e.to_string())?;
    Ok(v)
}

async fn wait(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LIMIT, "no {what} within {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// A call in progress: the visitor's connection task and both probes.
struct Call {
    chat: switchboard_shared::ChatId,
    accepted: Instant,
    visitor: Arc<Probe>,
    operator: Arc<Probe>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<Visitor, String>>,
}

async fn start_call(server: &TestServer, h: &mut AppHarness, slot: &Mutex<Arc<Probe>>) -> Call {
    let operator = Arc::new(Probe::default());
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&operator);
    let mut v = Visitor::connect(&server.base).await;
    v.send(&VisitorClientMsg::StartChat {
        name: Some("Bench".into()),
        mode: Mode::Voice,
    })
    .await;
    let chat = v.wait_status(ChatStatus::Waiting).await.chat_id;
    h.until("the voice request", |s| {
        s.requests.iter().any(|c| c.id == chat)
    })
    .await;
    let accepted = Instant::now();
    h.app.act(chat, ChatAction::Accept).await.expect("accepted");
    let VisitorServerMsg::CallReady { call_id, .. } = v
        .wait_for(|m| matches!(m, VisitorServerMsg::CallReady { .. }))
        .await
    else {
        unreachable!()
    };
    let visitor = Arc::new(Probe::default());
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(visitor_side(v, call_id, Arc::clone(&visitor), stopped));
    Call {
        chat,
        accepted,
        visitor,
        operator,
        stop,
        task,
    }
}

async fn end_call(h: &mut AppHarness, call: Call) {
    let _ = call.stop.send(());
    let mut v = call
        .task
        .await
        .expect("visitor task")
        .expect("visitor peer");
    v.end_chat().await;
    h.until("the chat ended", |s| {
        s.chats.iter().all(|c| c.chat.id != call.chat)
    })
    .await;
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let server = TestServer::start_with(Db::Sqlite, |c| c.log = "warn".into()).await;
    let op = server.operator("Bench").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    // The app's audio factory gives each call the probe the benchmark set up for it.
    let slot = Arc::new(Mutex::new(Arc::new(Probe::default())));
    let for_calls = Arc::clone(&slot);
    h.app.set_voice(Arc::new(PeerEngine::new(
        VoiceConfig::loopback(),
        move |_: CallKey| {
            let probe = Arc::clone(&for_calls.lock().unwrap_or_else(PoisonError::into_inner));
            let (mic, ear) = mic_and_ear(OPERATOR_HZ, VISITOR_HZ, &probe);
            let mic: Box<dyn AudioSource> = Box::new(mic);
            let ear: Box<dyn AudioSink> = Box::new(ear);
            (mic, ear)
        },
    )));
    h.app.set_available(true).await.expect("available");

    println!(
        "voice call benchmark: {calls} calls through the server (SQLite), Rust peers on 127.0.0.1, Opus 20 ms frames"
    );
    let (mut at_operator, mut at_visitor, mut to_operator, mut to_visitor) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for n in 0..calls {
        let call = start_call(&server, &mut h, &slot).await;
        let (o, v) = (Arc::clone(&call.operator), Arc::clone(&call.visitor));
        wait("first audio", || {
            o.first_audio.get().is_some() && v.first_audio.get().is_some()
        })
        .await;
        at_operator.push(ms(
            *o.first_audio.get().unwrap_or(&call.accepted) - call.accepted
        ));
        at_visitor.push(ms(
            *v.first_audio.get().unwrap_or(&call.accepted) - call.accepted
        ));
        // The visitor speaks, then the operator.
        tokio::time::sleep(Duration::from_millis(200)).await;
        v.speak.store(true, Ordering::SeqCst);
        wait("the visitor's tone at the operator", || {
            o.heard_tone.get().is_some()
        })
        .await;
        o.speak.store(true, Ordering::SeqCst);
        wait("the operator's tone at the visitor", || {
            v.heard_tone.get().is_some()
        })
        .await;
        if let (Some(from), Some(to)) = (v.onset.get(), o.heard_tone.get()) {
            to_operator.push(ms(*to - *from));
        }
        if let (Some(from), Some(to)) = (o.onset.get(), v.heard_tone.get()) {
            to_visitor.push(ms(*to - *from));
        }
        if std::env::var_os("CALL_BENCH_VERBOSE").is_some() {
            println!(
                "call {}: first audio at operator {:.1} ms, at visitor {:.1} ms; mouth-to-ear {:?} / {:?}",
                n + 1,
                at_operator[n],
                at_visitor[n],
                to_operator.last(),
                to_visitor.last()
            );
        }
        end_call(&mut h, call).await;
    }
    report("Accept → first audio at the operator's app", at_operator);
    report("Accept → first audio at the visitor", at_visitor);
    report("mouth-to-ear, visitor → operator", to_operator);
    report("mouth-to-ear, operator → visitor", to_visitor);

    // CPU of a steady call (both peers and the server are in this process; the server relays
    // no audio, so this is two peers' worth).
    let call = start_call(&server, &mut h, &slot).await;
    let (o, v) = (Arc::clone(&call.operator), Arc::clone(&call.visitor));
    wait("first audio", || {
        o.first_audio.get().is_some() && v.first_audio.get().is_some()
    })
    .await;
    o.speak.store(true, Ordering::SeqCst);
    v.speak.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (before, wall) = (usage("self"), Instant::now());
    tokio::time::sleep(Duration::from_secs(5)).await;
    if let (Some((before, _)), Some((after, _))) = (before, usage("self")) {
        let share = (after - before).as_secs_f64() / wall.elapsed().as_secs_f64();
        println!(
            "CPU of a steady call, both peers talking: {:.1}% of one core (one peer ≈ {:.1}%)",
            share * 100.0,
            share * 50.0
        );
    }
    end_call(&mut h, call).await;
}
