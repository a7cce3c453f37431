//! Voice on loopback, measured: for N calls between two real peers on 127.0.0.1, the time
//! from the peers' creation (the operator's Accept) to the first audio packet at each side,
//! and mouth-to-ear latency on the media path (the visitor's source hands over the first
//! 20 ms frame of a tone → the operator's sink is handed a decoded frame holding it: encode,
//! SRTP, loopback UDP, decode); then the CPU one peer uses in a steady call.
//!
//! With real devices add what this leaves out: the 20 ms a microphone takes to fill a frame,
//! and the speaker's playout buffer (`devices::PLAYOUT_PREFILL`, 40 ms) plus the device's own.
//!
//! `cargo run --release -p switchboard-core --features voice --example voice_bench -- 20`
//! (`VOICE_BENCH_VERBOSE=1` prints each call).

use std::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use switchboard_core::voice::detect::tone_amplitude;
use switchboard_core::voice::{
    AudioSink, AudioSource, NullSink, PeerState, ToneSource, VoiceConfig, VoiceEvent, VoicePeer,
};
use tokio::sync::mpsc::UnboundedReceiver;

const TONE_HZ: f64 = 440.0;
/// A frame holds the tone when it measures at a quarter of the tone's peak.
const DETECTED: f64 = i16::MAX as f64 / 3.0 / 4.0;

/// Silence until the gate opens, then a tone; remembers when the tone's first frame was read.
struct GatedTone {
    tone: ToneSource,
    open: Arc<AtomicBool>,
    onset: Arc<OnceLock<Instant>>,
}

impl AudioSource for GatedTone {
    fn read(&mut self, frame: &mut [i16]) {
        if self.open.load(Ordering::SeqCst) {
            self.onset.get_or_init(Instant::now);
            self.tone.read(frame);
        } else {
            frame.fill(0);
        }
    }
}

/// Remembers when the first frame holding the tone arrived.
struct OnsetSink {
    detected: Arc<OnceLock<Instant>>,
}

impl AudioSink for OnsetSink {
    fn write(&mut self, frame: &[i16]) {
        if self.detected.get().is_none() && tone_amplitude(frame, TONE_HZ) > DETECTED {
            let _ = self.detected.set(Instant::now());
        }
    }
}

/// Passes candidates to the other peer and reports connected / first audio.
fn relay(
    mut events: UnboundedReceiver<VoiceEvent>,
    to: Arc<VoicePeer>,
    connected: Arc<Mutex<Option<Instant>>>,
) {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                VoiceEvent::Signal(signal) => {
                    let _ = to.handle_signal(&signal).await;
                }
                VoiceEvent::State(PeerState::Connected) => {
                    *connected.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(Instant::now());
                }
                _ => {}
            }
        }
    });
}

struct Call {
    visitor: Arc<VoicePeer>,
    operator: Arc<VoicePeer>,
    gate: Arc<AtomicBool>,
    onset: Arc<OnceLock<Instant>>,
    detected: Arc<OnceLock<Instant>>,
    start: Instant,
    connected: Arc<Mutex<Option<Instant>>>,
}

async fn call() -> Result<Call, Box<dyn Error>> {
    let gate = Arc::new(AtomicBool::new(false));
    let onset = Arc::new(OnceLock::new());
    let detected = Arc::new(OnceLock::new());
    let start = Instant::now();
    let source = GatedTone {
        tone: ToneSource::new(TONE_HZ),
        open: Arc::clone(&gate),
        onset: Arc::clone(&onset),
    };
    let (visitor, visitor_events) =
        VoicePeer::new(VoiceConfig::loopback(), source, NullSink).await?;
    let sink = OnsetSink {
        detected: Arc::clone(&detected),
    };
    let (operator, operator_events) =
        VoicePeer::new(VoiceConfig::loopback(), ToneSource::new(660.0), sink).await?;
    let (visitor, operator) = (Arc::new(visitor), Arc::new(operator));
    let connected = Arc::new(Mutex::new(None));
    relay(
        visitor_events,
        Arc::clone(&operator),
        Arc::new(Mutex::new(None)),
    );
    relay(
        operator_events,
        Arc::clone(&visitor),
        Arc::clone(&connected),
    );
    let offer = visitor.create_offer().await?;
    let answer = operator
        .handle_signal(&offer)
        .await?
        .ok_or("the operator gave no answer")?;
    visitor.handle_signal(&answer).await?;
    Ok(Call {
        visitor,
        operator,
        gate,
        onset,
        detected,
        start,
        connected,
    })
}

async fn wait(what: &str, limit: Duration, done: impl Fn() -> bool) -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return Err(format!("no {what} within {limit:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(what: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    println!(
        "{what:<42} p50 {:>7.1} ms   p99 {:>7.1} ms   min {:>7.1}   max {:>7.1}   (n={})",
        percentile(&values, 50.0),
        percentile(&values, 99.0),
        values.first().copied().unwrap_or(f64::NAN),
        values.last().copied().unwrap_or(f64::NAN),
        values.len()
    );
}

/// This process's CPU time (user + system), from /proc (Linux).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20);
    let limit = Duration::from_secs(15);
    let (mut connected, mut first_operator, mut first_visitor, mut mouth_to_ear) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..calls {
        let call = call().await?;
        wait("first audio", limit, || {
            call.operator.stats().first_received_after.is_some()
                && call.visitor.stats().first_received_after.is_some()
        })
        .await?;
        let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
        if let Some(at) = *call
            .connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            connected.push(ms(at - call.start));
        }
        if let Some(after) = call.operator.stats().first_received_after {
            first_operator.push(ms(after));
        }
        if let Some(after) = call.visitor.stats().first_received_after {
            first_visitor.push(ms(after));
        }
        // Let the stream settle, then the visitor starts to speak.
        tokio::time::sleep(Duration::from_millis(300)).await;
        call.gate.store(true, Ordering::SeqCst);
        wait("tone at the operator", Duration::from_secs(5), || {
            call.detected.get().is_some()
        })
        .await?;
        if let (Some(onset), Some(detected)) = (call.onset.get(), call.detected.get()) {
            mouth_to_ear.push(ms(*detected - *onset));
        }
        if std::env::var_os("VOICE_BENCH_VERBOSE").is_some() {
            println!(
                "call {}: connected {:?}, first audio {:?}, mouth-to-ear {:?} ms",
                first_operator.len(),
                connected.last(),
                first_operator.last(),
                mouth_to_ear.last()
            );
        }
        call.visitor.close().await?;
        call.operator.close().await?;
    }
    println!("{calls} calls on 127.0.0.1, host candidates only, Opus 20 ms frames");
    report("Accept → operator connected", connected);
    report("Accept → first audio packet at operator", first_operator);
    report("Accept → first audio packet at visitor", first_visitor);
    report("mouth-to-ear, media path (frame in → out)", mouth_to_ear);

    // CPU of one steady call: two peers in this process, so half of it is one peer's.
    let call = call().await?;
    wait("first audio", limit, || {
        call.operator.stats().first_received_after.is_some()
    })
    .await?;
    call.gate.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (cpu_start, wall_start) = (cpu_time(), Instant::now());
    tokio::time::sleep(Duration::from_secs(5)).await;
    if let (Some(before), Some(after)) = (cpu_start, cpu_time()) {
        let share = (after - before).as_secs_f64() / wall_start.elapsed().as_secs_f64() / 2.0;
        println!(
            "CPU per peer in a steady call: {:.1}% of one core",
            share * 100.0
        );
    }
    let stats = call.operator.stats();
    println!("operator after the CPU run: {stats:?}");
    call.visitor.close().await?;
    call.operator.close().await?;
    Ok(())
}
