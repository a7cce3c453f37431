//! The app's voice: a WebRTC peer per call ([`PeerEngine`]) with the system's microphone and
//! speaker, opened when a call starts and closed when it ends. `SWITCHBOARD_VOICE_AUDIO=tone`
//! puts an in-memory 660 Hz tone in place of the microphone and discards what is heard (tests
//! under Xvfb, machines without a sound card); a machine whose devices cannot be opened falls
//! back to the same, with a warning in the log.

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::call::CallKey;
use switchboard_core::voice::devices::{self, MicSource, SpeakerSink};
use switchboard_core::voice::{
    AudioSink, AudioSource, NullSink, PeerEngine, ToneSource, VoiceConfig,
};

/// The engine the app hands its calls to.
pub fn engine() -> PeerEngine {
    let tone = std::env::var("SWITCHBOARD_VOICE_AUDIO").is_ok_and(|v| v == "tone");
    PeerEngine::new(VoiceConfig::new(Vec::new()), move |call| match tone {
        true => in_memory(),
        false => open_devices(call).unwrap_or_else(in_memory),
    })
}

fn in_memory() -> (Box<dyn AudioSource>, Box<dyn AudioSink>) {
    (Box::new(ToneSource::new(660.0)), Box::new(NullSink))
}

/// The microphone and the speaker for one call. cpal's streams must stay on the thread that
/// opened them: a thread holds them while the call's source or sink lives.
fn open_devices(call: CallKey) -> Option<(Box<dyn AudioSource>, Box<dyn AudioSink>)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let alive = Arc::new(());
    let watch = Arc::downgrade(&alive);
    std::thread::spawn(move || match devices::open_default() {
        Ok((streams, mic, speaker)) => {
            let _ = tx.send(Some((mic, speaker)));
            // The call's source and sink each hold `alive`; when both are gone, so is the call.
            while watch.strong_count() > 0 {
                std::thread::sleep(Duration::from_millis(250));
            }
            drop(streams);
        }
        Err(e) => {
            tracing::warn!(error = %e, chat = %call.chat_id, "no microphone or speaker: the call sends a tone");
            let _ = tx.send(None);
        }
    });
    let (mic, speaker) = rx.recv_timeout(Duration::from_secs(5)).ok().flatten()?;
    Some((
        Box::new(Held {
            mic,
            _alive: Arc::clone(&alive),
        }),
        Box::new(HeldSink {
            speaker,
            _alive: alive,
        }),
    ))
}

/// The microphone, keeping the device thread alive.
struct Held {
    mic: MicSource,
    _alive: Arc<()>,
}

impl AudioSource for Held {
    fn read(&mut self, frame: &mut [i16]) {
        self.mic.read(frame);
    }
}

/// The speaker, keeping the device thread alive.
struct HeldSink {
    speaker: SpeakerSink,
    _alive: Arc<()>,
}

impl AudioSink for HeldSink {
    fn write(&mut self, frame: &[i16]) {
        self.speaker.write(frame);
    }
}
