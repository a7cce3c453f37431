//! [`PeerEngine`]: the app engine's [`VoiceEngine`] made of real [`VoicePeer`]s, one per call.
//!
//! The seam's methods must return at once, while a peer is built and negotiated
//! asynchronously. So each call gets one task and a command queue: `ready` starts the task,
//! every later method only queues a command, and the task applies them in order once its peer
//! exists. A visitor's offer that arrives while the peer is still being built simply waits in
//! the queue; nothing is reordered or lost. The task also turns the peer's events into
//! [`CallOutput`]s.
//!
//! A connected call whose path goes quiet (`Disconnected`: a phone moving from Wi-Fi to mobile
//! data, or the visitor's network changing) restarts ICE by itself, as the app does when it is
//! told the network changed: the visitor's browser answers the new offer with its new
//! candidates, and the call goes on. It fails only when no path comes back within the restart
//! window ([`VoiceConfig::restart_window`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use switchboard_shared::{CallSignal, IceServer};
use tokio::sync::mpsc;

use super::{AudioSink, AudioSource, PeerState, VoiceConfig, VoiceEvent, VoicePeer};
use crate::call::{CallKey, CallOut, CallOutput, VoiceEngine};

/// Makes the microphone and speaker for a new call (the devices, or a tone and a recording
/// in tests).
pub type AudioFactory =
    dyn Fn(CallKey) -> (Box<dyn AudioSource>, Box<dyn AudioSink>) + Send + Sync + 'static;

/// The app's voice: a [`VoicePeer`] per call, with audio from an [`AudioFactory`].
pub struct PeerEngine {
    audio: Arc<AudioFactory>,
    /// How peers are set up; the ICE servers come from each `call_ready`.
    config: VoiceConfig,
    calls: Mutex<HashMap<CallKey, mpsc::UnboundedSender<Command>>>,
}

impl std::fmt::Debug for PeerEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerEngine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What the app asked of one call, in order.
#[derive(Debug)]
enum Command {
    Signal(CallSignal),
    Muted(bool),
    Held(bool),
    RestartIce,
    End,
}

impl PeerEngine {
    /// An engine whose peers use `config` (its ICE servers are replaced by each call's) and
    /// get their audio from `audio`.
    pub fn new(
        config: VoiceConfig,
        audio: impl Fn(CallKey) -> (Box<dyn AudioSource>, Box<dyn AudioSink>) + Send + Sync + 'static,
    ) -> Self {
        Self {
            audio: Arc::new(audio),
            config,
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// The calls with a live peer (or one being built).
    pub fn calls(&self) -> Vec<CallKey> {
        self.lock().keys().copied().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CallKey, mpsc::UnboundedSender<Command>>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send(&self, call: CallKey, command: Command) {
        let mut calls = self.lock();
        let gone = match calls.get(&call) {
            Some(queue) => queue.send(command).is_err(),
            None => {
                tracing::debug!(?call, ?command, "no peer for this call");
                false
            }
        };
        if gone {
            calls.remove(&call);
        }
    }
}

impl VoiceEngine for PeerEngine {
    fn ready(&self, call: CallKey, ice_servers: Vec<IceServer>, out: CallOut) {
        let (queue, commands) = mpsc::unbounded_channel();
        if let Some(previous) = self.lock().insert(call, queue) {
            // A second `call_ready` for one call (a reconnect): the old peer gives way.
            let _ = previous.send(Command::End);
        }
        let config = VoiceConfig {
            ice_servers,
            ..self.config.clone()
        };
        let (source, sink) = (self.audio)(call);
        tokio::spawn(run_call(call, config, source, sink, commands, out));
    }

    fn signal(&self, call: CallKey, signal: CallSignal) {
        self.send(call, Command::Signal(signal));
    }

    fn set_muted(&self, call: CallKey, muted: bool) {
        self.send(call, Command::Muted(muted));
    }

    fn set_held(&self, call: CallKey, held: bool) {
        self.send(call, Command::Held(held));
    }

    fn restart_ice(&self, call: CallKey) {
        self.send(call, Command::RestartIce);
    }

    fn end(&self, call: CallKey) {
        self.send(call, Command::End);
        self.lock().remove(&call);
    }
}

/// One call's life: build the peer, then apply the app's commands and pass the peer's
/// events on, until the call ends.
async fn run_call(
    call: CallKey,
    config: VoiceConfig,
    source: Box<dyn AudioSource>,
    sink: Box<dyn AudioSink>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    out: CallOut,
) {
    let (peer, mut events) = match VoicePeer::new(config, source, sink).await {
        Ok(made) => made,
        Err(error) => {
            tracing::warn!(%error, ?call, "no voice peer");
            let _ = out.send(CallOutput::Failed(call));
            return;
        }
    };
    // `call_connected` is said once: a path mended by an ICE restart connects again quietly.
    let mut connected = false;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Signal(signal)) => match peer.handle_signal(&signal).await {
                    Ok(Some(reply)) => {
                        let _ = out.send(CallOutput::Signal(call, reply));
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, ?call, "visitor's signal not taken"),
                },
                Some(Command::Muted(muted)) => {
                    // The app tells the visitor itself; only the media changes here.
                    let _ = peer.set_muted(muted);
                }
                Some(Command::Held(held)) => peer.set_on_hold(held),
                // Only a call that connected has a path to mend (before, the visitor's first
                // offer is still being answered).
                Some(Command::RestartIce) if connected => restart(&peer, call, &out).await,
                Some(Command::RestartIce) => {}
                Some(Command::End) | None => break,
            },
            Some(event) = events.recv() => match event {
                VoiceEvent::Signal(signal) => {
                    let _ = out.send(CallOutput::Signal(call, signal));
                }
                VoiceEvent::State(PeerState::Connected) if !connected => {
                    connected = true;
                    let _ = out.send(CallOutput::Connected(call));
                }
                VoiceEvent::State(PeerState::Disconnected) if connected => {
                    restart(&peer, call, &out).await;
                }
                VoiceEvent::State(PeerState::Failed) => {
                    let _ = out.send(CallOutput::Failed(call));
                }
                _ => {}
            },
        }
    }
    if let Err(error) = peer.close().await {
        tracing::debug!(%error, ?call, "voice peer closed with an error");
    }
}

/// Restarts ICE on the call's peer and sends the new offer to the visitor.
async fn restart(peer: &VoicePeer, call: CallKey, out: &CallOut) {
    match peer.restart_ice().await {
        Ok(offer) => {
            tracing::info!(?call, "ICE restarted");
            let _ = out.send(CallOutput::Signal(call, offer));
        }
        Err(error) => tracing::warn!(%error, ?call, "ICE restart failed"),
    }
}
