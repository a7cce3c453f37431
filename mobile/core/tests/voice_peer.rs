//! Two real voice peers on 127.0.0.1, signaling passed straight between them: each plays its
//! own tone, and each side's sink must hear the other's tone (decoded from Opus, measured by
//! Goertzel), go silent on mute and hold, come back on unmute and resume, and see the end.
//! Also: a call whose candidates never arrive reports `Failed` within its timeout, and an ICE
//! restart keeps the audio going.
//!
//! Run with `cargo test -p switchboard-core --features voice --test voice_peer`.
#![cfg(feature = "voice")]
// clippy.toml lets `#[test]` functions unwrap; the helpers below are test code too, and a
// panic in them is a failed test, not a user's problem.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard_core::call::{CallKey, CallOutput, VoiceEngine};
use switchboard_core::voice::detect::{analyze, rms, tone_amplitude};
use switchboard_core::voice::{
    AudioSink, AudioSource, PeerEngine, PeerState, RecordingSink, SAMPLE_RATE, ToneSource,
    VoiceConfig, VoiceEvent, VoicePeer,
};
use switchboard_shared::{CallSignal, ChatId, IceCandidate};
use tokio::sync::mpsc::UnboundedReceiver;

/// The visitor's tone and the operator's.
const VISITOR_HZ: f64 = 440.0;
const OPERATOR_HZ: f64 = 660.0;
/// The tones' peak (ToneSource's default, a third of full scale).
const TONE_PEAK: f64 = i16::MAX as f64 / 3.0;
/// Heard: the other side's tone at more than a quarter of its peak.
const HEARD: f64 = TONE_PEAK / 4.0;
/// Silent: a level under 1% of the tone's.
const SILENT_RMS: f64 = TONE_PEAK / 100.0;

/// One end of a test call: its peer, what it played out, everything it reported.
struct Side {
    name: &'static str,
    peer: Arc<VoicePeer>,
    sink: RecordingSink,
    events: Arc<Mutex<Vec<VoiceEvent>>>,
}

impl Side {
    fn saw(&self, wanted: &VoiceEvent) -> bool {
        self.events.lock().unwrap().contains(wanted)
    }

    async fn wait_for(&self, wanted: VoiceEvent, within: Duration) -> Duration {
        let start = Instant::now();
        while !self.saw(&wanted) {
            assert!(
                start.elapsed() < within,
                "{}: no {wanted:?} within {within:?}; saw {:?}",
                self.name,
                self.events.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        start.elapsed()
    }

    /// Forgets what was played, lets `secs` of audio through, returns it.
    async fn listen(&self, secs: f64) -> Vec<i16> {
        self.sink.clear();
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        self.sink.samples()
    }
}

async fn side(
    name: &'static str,
    config: VoiceConfig,
    tone: f64,
) -> (Side, UnboundedReceiver<VoiceEvent>) {
    let sink = RecordingSink::new();
    let (peer, events) = VoicePeer::new(config, ToneSource::new(tone), sink.clone())
        .await
        .unwrap();
    let side = Side {
        name,
        peer: Arc::new(peer),
        sink,
        events: Arc::new(Mutex::new(Vec::new())),
    };
    (side, events)
}

/// Carries one side's events: candidates to the other peer (unless `drop_candidates`),
/// everything into the side's log.
fn relay(
    mut events: UnboundedReceiver<VoiceEvent>,
    log: Arc<Mutex<Vec<VoiceEvent>>>,
    to: Arc<VoicePeer>,
    drop_candidates: bool,
) {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let VoiceEvent::Signal(signal) = &event
                && !drop_candidates
            {
                // The other side may be closed already at the end of a test.
                let _ = to.handle_signal(signal).await;
            }
            log.lock().unwrap().push(event);
        }
    });
}

/// A visitor (offers, plays 440 Hz) and an operator (answers, plays 660 Hz), negotiated; and
/// the operator's answer.
async fn call(config: VoiceConfig, drop_candidates: bool) -> (Side, Side, String) {
    let (visitor, visitor_events) = side("visitor", config.clone(), VISITOR_HZ).await;
    let (operator, operator_events) = side("operator", config, OPERATOR_HZ).await;
    relay(
        visitor_events,
        Arc::clone(&visitor.events),
        Arc::clone(&operator.peer),
        drop_candidates,
    );
    relay(
        operator_events,
        Arc::clone(&operator.events),
        Arc::clone(&visitor.peer),
        drop_candidates,
    );
    let offer = visitor.peer.create_offer().await.unwrap();
    let answer = operator.peer.handle_signal(&offer).await.unwrap().unwrap();
    assert!(visitor.peer.handle_signal(&answer).await.unwrap().is_none());
    let CallSignal::Answer { sdp } = answer else {
        panic!("an offer is answered: {answer:?}");
    };
    // Trickle ICE: the SDP itself carries no candidate, so dropping the trickled ones leaves
    // ICE with nothing.
    assert!(!sdp.contains("a=candidate"), "{sdp}");
    (visitor, operator, sdp)
}

/// The `a=ice-ufrag` of an SDP.
fn ice_ufrag(sdp: &str) -> &str {
    sdp.lines()
        .find_map(|line| line.strip_prefix("a=ice-ufrag:"))
        .unwrap()
}

/// `heard` holds `tone` loud and clear, and not `other` (no echo, no crossed wires).
fn assert_hears(who: &str, heard: &[i16], tone: f64, other: f64) {
    let found = analyze(heard);
    let at_tone = tone_amplitude(heard, tone);
    let at_other = tone_amplitude(heard, other);
    println!(
        "{who}: {:.2} s heard, dominant {:.1} Hz, {tone} Hz at {at_tone:.0}, {other} Hz at {at_other:.0}, rms {:.0}",
        heard.len() as f64 / f64::from(SAMPLE_RATE),
        found.dominant_hz,
        found.rms
    );
    assert!((found.dominant_hz - tone).abs() <= 2.0, "{who}: {found:?}");
    assert!(at_tone > HEARD, "{who}: {tone} Hz only at {at_tone}");
    assert!(at_other < HEARD / 10.0, "{who}: {other} Hz at {at_other}");
}

fn assert_silent(who: &str, heard: &[i16]) {
    let level = rms(heard);
    println!(
        "{who}: {:.2} s of silence, rms {level:.1}",
        heard.len() as f64 / f64::from(SAMPLE_RATE)
    );
    assert!(level < SILENT_RMS, "{who}: rms {level}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peers_hear_each_others_tone_then_mute_hold_resume_and_end() {
    let (visitor, operator, answer) = call(VoiceConfig::loopback(), false).await;
    let connect = Duration::from_secs(15);
    let (connected, _) = tokio::join!(
        visitor.wait_for(VoiceEvent::State(PeerState::Connected), connect),
        operator.wait_for(VoiceEvent::State(PeerState::Connected), connect),
    );
    visitor.wait_for(VoiceEvent::AudioStarted, connect).await;
    operator.wait_for(VoiceEvent::AudioStarted, connect).await;
    println!(
        "connected {connected:?} after the answer; first audio packet {:?} (visitor) / {:?} (operator) after the peer's creation",
        visitor.peer.stats().first_received_after.unwrap(),
        operator.peer.stats().first_received_after.unwrap()
    );

    // The candidates sent are what the server relays and a browser takes: within the
    // protocol's limits, naming the audio m-line.
    for side in [&visitor, &operator] {
        let events = side.events.lock().unwrap();
        let candidates: Vec<&IceCandidate> = events
            .iter()
            .filter_map(|event| match event {
                VoiceEvent::Signal(CallSignal::Candidate { candidate }) => Some(candidate),
                _ => None,
            })
            .collect();
        assert!(!candidates.is_empty(), "{}", side.name);
        for candidate in candidates {
            let mid = candidate.sdp_mid.as_deref().unwrap();
            assert!(
                answer.contains(&format!("a=mid:{mid}\r\n")),
                "{candidate:?}"
            );
            assert!(
                candidate.candidate.starts_with("candidate:"),
                "{candidate:?}"
            );
            let signal = CallSignal::Candidate {
                candidate: candidate.clone(),
            };
            assert_eq!(signal.check(), Ok(()));
        }
    }

    // Three seconds of talk: each hears the other's tone, not its own.
    let (visitor_heard, operator_heard) = tokio::join!(visitor.listen(3.2), operator.listen(3.2));
    for (who, heard) in [("visitor", &visitor_heard), ("operator", &operator_heard)] {
        assert!(
            heard.len() >= 3 * SAMPLE_RATE as usize,
            "{who} heard only {} samples",
            heard.len()
        );
    }
    // The first 100 ms may hold the codec's start-up; judge the rest.
    assert_hears("visitor", &visitor_heard[4_800..], OPERATOR_HZ, VISITOR_HZ);
    assert_hears(
        "operator",
        &operator_heard[4_800..],
        VISITOR_HZ,
        OPERATOR_HZ,
    );

    // The visitor mutes: the operator hears silence, the visitor still hears the operator.
    let signal = visitor.peer.set_muted(true);
    assert_eq!(signal, CallSignal::Mute { muted: true });
    operator.peer.handle_signal(&signal).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (visitor_heard, operator_heard) = tokio::join!(visitor.listen(1.0), operator.listen(1.0));
    assert_silent("operator while the visitor is muted", &operator_heard);
    assert_hears(
        "visitor while muted",
        &visitor_heard,
        OPERATOR_HZ,
        VISITOR_HZ,
    );
    assert!(operator.saw(&VoiceEvent::RemoteMuted(true)));

    // Unmuted: back.
    visitor.peer.set_muted(false);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let operator_heard = operator.listen(1.0).await;
    assert_hears(
        "operator after unmute",
        &operator_heard,
        VISITOR_HZ,
        OPERATOR_HZ,
    );

    // The operator holds: both directions go silent, from that one side.
    operator.peer.set_on_hold(true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (visitor_heard, operator_heard) = tokio::join!(visitor.listen(1.0), operator.listen(1.0));
    assert_silent("visitor on hold", &visitor_heard);
    assert_silent("operator on hold", &operator_heard);
    assert!(
        !operator_heard.is_empty(),
        "hold plays silence, it does not stop playout"
    );

    // Resumed: both hear again.
    operator.peer.set_on_hold(false);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (visitor_heard, operator_heard) = tokio::join!(visitor.listen(1.0), operator.listen(1.0));
    assert_hears(
        "visitor after resume",
        &visitor_heard,
        OPERATOR_HZ,
        VISITOR_HZ,
    );
    assert_hears(
        "operator after resume",
        &operator_heard,
        VISITOR_HZ,
        OPERATOR_HZ,
    );

    let stats = operator.peer.stats();
    println!("operator stats: {stats:?}");
    assert!(
        stats.packets_sent > 200 && stats.packets_received > 200,
        "{stats:?}"
    );
    assert_eq!(stats.packets_late, 0, "{stats:?}");

    // End: the side that closes sees it at once; the other sees the audio stop and the
    // connection go (its track ends, or ICE notices the silence).
    visitor.peer.close().await.unwrap();
    visitor
        .wait_for(VoiceEvent::State(PeerState::Closed), Duration::from_secs(2))
        .await;
    assert_eq!(visitor.peer.state(), PeerState::Closed);
    let start = Instant::now();
    loop {
        let ended = operator.events.lock().unwrap().iter().any(|event| {
            matches!(
                event,
                VoiceEvent::RemoteEnded
                    | VoiceEvent::State(
                        PeerState::Disconnected | PeerState::Failed | PeerState::Closed
                    )
            )
        });
        if ended {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the operator never saw the end: {:?}",
            operator.events.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "operator saw the end after {:?}: {:?}",
        start.elapsed(),
        operator
            .events
            .lock()
            .unwrap()
            .iter()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
    );
    let quiet = operator.listen(0.5).await;
    assert!(rms(&quiet) < SILENT_RMS, "audio after the end");
    operator.peer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_candidates_never_arrive_reports_failed_in_time() {
    let config = VoiceConfig {
        connect_timeout: Duration::from_secs(3),
        ..VoiceConfig::loopback()
    };
    let (visitor, operator, _) = call(config, true).await;
    let limit = Duration::from_secs(8);
    let (visitor_failed, operator_failed) = tokio::join!(
        visitor.wait_for(VoiceEvent::State(PeerState::Failed), limit),
        operator.wait_for(VoiceEvent::State(PeerState::Failed), limit),
    );
    println!("failed after {visitor_failed:?} (visitor) / {operator_failed:?} (operator)");
    for side in [&visitor, &operator] {
        let events = side.events.lock().unwrap();
        assert!(!events.contains(&VoiceEvent::State(PeerState::Connected)));
        let failures = events
            .iter()
            .filter(|e| **e == VoiceEvent::State(PeerState::Failed))
            .count();
        assert_eq!(failures, 1, "{}: Failed is reported once", side.name);
        assert!(
            events.iter().any(|e| matches!(e, VoiceEvent::Signal(_))),
            "{}: candidates were gathered (and dropped)",
            side.name
        );
    }
    assert_eq!(visitor.sink.len(), 0);
    visitor.peer.close().await.unwrap();
    operator.peer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_restart_keeps_the_call_and_its_audio() {
    let (visitor, operator, first_answer) = call(VoiceConfig::loopback(), false).await;
    let connect = Duration::from_secs(15);
    visitor
        .wait_for(VoiceEvent::State(PeerState::Connected), connect)
        .await;
    operator.wait_for(VoiceEvent::AudioStarted, connect).await;

    // The operator's phone changed networks: it offers anew, the visitor answers.
    let offer = operator.peer.restart_ice().await.unwrap();
    let CallSignal::Offer { sdp } = &offer else {
        panic!("a restart makes an offer: {offer:?}");
    };
    assert_ne!(
        ice_ufrag(sdp),
        ice_ufrag(&first_answer),
        "fresh ICE credentials"
    );
    let answer = visitor.peer.handle_signal(&offer).await.unwrap().unwrap();
    operator.peer.handle_signal(&answer).await.unwrap();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let (visitor_heard, operator_heard) = tokio::join!(visitor.listen(1.5), operator.listen(1.5));
    assert_hears(
        "visitor after the restart",
        &visitor_heard,
        OPERATOR_HZ,
        VISITOR_HZ,
    );
    assert_hears(
        "operator after the restart",
        &operator_heard,
        VISITOR_HZ,
        OPERATOR_HZ,
    );
    for side in [&visitor, &operator] {
        assert!(
            !side.saw(&VoiceEvent::State(PeerState::Failed)),
            "{}: {:?}",
            side.name,
            side.events.lock().unwrap()
        );
        assert_eq!(side.peer.state(), PeerState::Connected, "{}", side.name);
    }
    visitor.peer.close().await.unwrap();
    operator.peer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_that_come_before_the_offer_are_kept_for_it() {
    let (visitor, mut visitor_events) = side("visitor", VoiceConfig::loopback(), VISITOR_HZ).await;
    let (operator, operator_events) = side("operator", VoiceConfig::loopback(), OPERATOR_HZ).await;
    relay(
        operator_events,
        Arc::clone(&operator.events),
        Arc::clone(&visitor.peer),
        false,
    );
    // The visitor's candidates reach the operator before its offer does.
    let offer = visitor.peer.create_offer().await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), visitor_events.recv())
        .await
        .unwrap()
        .unwrap();
    let VoiceEvent::Signal(candidate @ CallSignal::Candidate { .. }) = first else {
        panic!("a candidate first: {first:?}");
    };
    assert_eq!(operator.peer.handle_signal(&candidate).await.unwrap(), None);
    relay(
        visitor_events,
        Arc::clone(&visitor.events),
        Arc::clone(&operator.peer),
        false,
    );
    let answer = operator.peer.handle_signal(&offer).await.unwrap().unwrap();
    visitor.peer.handle_signal(&answer).await.unwrap();
    operator
        .wait_for(VoiceEvent::AudioStarted, Duration::from_secs(15))
        .await;
    visitor.peer.close().await.unwrap();
    operator.peer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_stays_down_past_the_restart_window_reports_failed() {
    let config = VoiceConfig {
        disconnected_after: Duration::from_secs(1),
        restart_window: Duration::from_secs(2),
        ..VoiceConfig::loopback()
    };
    let (visitor, operator, _) = call(config, false).await;
    operator
        .wait_for(VoiceEvent::AudioStarted, Duration::from_secs(15))
        .await;
    // The visitor vanishes without a word (its network is gone): no restart comes.
    visitor.peer.close().await.unwrap();
    let disconnected = operator
        .wait_for(
            VoiceEvent::State(PeerState::Disconnected),
            Duration::from_secs(5),
        )
        .await;
    let failed = operator
        .wait_for(VoiceEvent::State(PeerState::Failed), Duration::from_secs(6))
        .await;
    println!(
        "the operator saw the visitor go quiet after {disconnected:?}, failed {failed:?} later"
    );
    assert!(
        failed >= Duration::from_millis(1_500),
        "not before the window: {failed:?}"
    );
    operator.peer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_engine_talks_to_a_visitor_through_peer_engine() {
    // The operator's side is the app's seam: only CallKeys, signals in, CallOutputs out.
    let operator_heard = RecordingSink::new();
    let heard = operator_heard.clone();
    let engine = Arc::new(PeerEngine::new(VoiceConfig::loopback(), move |_call| {
        let source: Box<dyn AudioSource> = Box::new(ToneSource::new(OPERATOR_HZ));
        let sink: Box<dyn AudioSink> = Box::new(heard.clone());
        (source, sink)
    }));
    let key = CallKey {
        chat_id: ChatId(7),
        call_id: 14,
    };
    let (out, mut outputs) = tokio::sync::mpsc::unbounded_channel();
    engine.ready(key, Vec::new(), out);
    assert_eq!(engine.calls(), vec![key]);

    let (visitor, mut visitor_events) = side("visitor", VoiceConfig::loopback(), VISITOR_HZ).await;
    let (to_engine, log) = (Arc::clone(&engine), Arc::clone(&visitor.events));
    tokio::spawn(async move {
        while let Some(event) = visitor_events.recv().await {
            if let VoiceEvent::Signal(signal) = &event {
                to_engine.signal(key, signal.clone());
            }
            log.lock().unwrap().push(event);
        }
    });
    let outputs_seen = Arc::new(Mutex::new(Vec::new()));
    let (to_visitor, seen) = (Arc::clone(&visitor.peer), Arc::clone(&outputs_seen));
    tokio::spawn(async move {
        while let Some(output) = outputs.recv().await {
            if let CallOutput::Signal(call, signal) = &output {
                assert_eq!(*call, key);
                to_visitor.handle_signal(signal).await.unwrap();
            }
            seen.lock().unwrap().push(output);
        }
    });

    // The visitor's browser offers; the engine answers through its outputs.
    let offer = visitor.peer.create_offer().await.unwrap();
    engine.signal(key, offer);
    visitor
        .wait_for(VoiceEvent::AudioStarted, Duration::from_secs(15))
        .await;
    let start = Instant::now();
    while !outputs_seen
        .lock()
        .unwrap()
        .contains(&CallOutput::Connected(key))
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no Connected output"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answers = outputs_seen
        .lock()
        .unwrap()
        .iter()
        .filter(|o| matches!(o, CallOutput::Signal(_, CallSignal::Answer { .. })))
        .count();
    assert_eq!(answers, 1);

    operator_heard.clear();
    let visitor_heard = visitor.listen(1.5).await;
    assert_hears(
        "visitor via the engine",
        &visitor_heard,
        OPERATOR_HZ,
        VISITOR_HZ,
    );
    assert_hears("engine", &operator_heard.samples(), VISITOR_HZ, OPERATOR_HZ);

    // Hold through the seam: the visitor hears silence; mute too; resume brings it back.
    engine.set_held(key, true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_silent("visitor, engine on hold", &visitor.listen(1.0).await);
    engine.set_held(key, false);
    engine.set_muted(key, true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_silent("visitor, engine muted", &visitor.listen(1.0).await);
    engine.set_muted(key, false);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_hears(
        "visitor, engine back",
        &visitor.listen(1.0).await,
        OPERATOR_HZ,
        VISITOR_HZ,
    );

    // End: the engine forgets the call and its peer goes; the visitor's audio stops.
    engine.end(key);
    assert!(engine.calls().is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_silent("visitor after the end", &visitor.listen(0.5).await);
    assert!(
        !outputs_seen
            .lock()
            .unwrap()
            .contains(&CallOutput::Failed(key))
    );
    visitor.peer.close().await.unwrap();
}
