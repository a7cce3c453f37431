//! One call's WebRTC peer: one Opus track out (from an [`AudioSource`]), one in (to an
//! [`AudioSink`]), ICE trickled through the protocol's `call_signal` frames.
//!
//! The peer never talks to the server: its methods take and return [`CallSignal`]s, and what
//! happens on its own (a local candidate gathered, the connection up or down) comes out of the
//! [`VoiceEvent`] channel, for the app to turn into `call_signal`, `call_connected` and
//! `call_failed` frames.
//!
//! Invariants:
//! - SDP operations are serialized (one negotiation lock), and the SDP handed out is the one
//!   set locally before gathering: candidates only ever travel as trickled candidates, so
//!   dropping them really leaves ICE without a path.
//! - Remote candidates that arrive before the remote description are kept and added after it.
//! - `Failed` is reported at most once: by the connection itself, when it does not connect
//!   within [`VoiceConfig::connect_timeout`], or when it stays disconnected longer than
//!   [`VoiceConfig::restart_window`] (the time an ICE restart has to mend it).
//! - Mute sends silence (the packets keep flowing, so the other side's playout stays steady);
//!   hold sends silence and plays silence.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use switchboard_shared::{CallSignal, ChatId, IceCandidate, IceServer, OperatorAction};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceServer, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState, RTCSessionDescription, SettingEngineBuilder,
};
use webrtc::rtp_transceiver::RtpSender;

use super::codec::{FrameDecoder, FrameEncoder};
use super::{AudioSink, AudioSource, FRAME_DURATION, FRAME_SAMPLES, VoiceError};

/// How a [`VoicePeer`] is set up.
#[derive(Clone)]
pub struct VoiceConfig {
    /// STUN and TURN servers, as `call_ready` gives them.
    pub ice_servers: Vec<IceServer>,
    /// Local addresses to gather host candidates on (`0.0.0.0:0`: every interface, any port).
    pub bind_addrs: Vec<String>,
    /// Longest time from the peer's creation to a connected call before it reports `Failed`.
    pub connect_timeout: Duration,
    /// Longest time a connected call may stay disconnected (an ICE restart's chance) before
    /// the peer reports `Failed`.
    pub restart_window: Duration,
    /// Time without a sign of the other side before the connection counts as disconnected.
    pub disconnected_after: Duration,
}

impl VoiceConfig {
    /// A call through `ice_servers`, on every local interface, with the app's timeouts: 15 s
    /// to connect, 20 s to come back from a network change.
    pub fn new(ice_servers: Vec<IceServer>) -> Self {
        Self {
            ice_servers,
            bind_addrs: vec!["0.0.0.0:0".to_owned()],
            connect_timeout: Duration::from_secs(15),
            restart_window: Duration::from_secs(20),
            disconnected_after: Duration::from_secs(5),
        }
    }

    /// A call on 127.0.0.1 with host candidates only (tests and benchmarks).
    pub fn loopback() -> Self {
        Self {
            bind_addrs: vec!["127.0.0.1:0".to_owned()],
            ..Self::new(Vec::new())
        }
    }
}

impl std::fmt::Debug for VoiceConfig {
    // TURN credentials never reach a log: only the servers' URLs are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<&str> = self
            .ice_servers
            .iter()
            .flat_map(|server| server.urls.iter().map(String::as_str))
            .collect();
        f.debug_struct("VoiceConfig")
            .field("ice_server_urls", &urls)
            .field("bind_addrs", &self.bind_addrs)
            .field("connect_timeout", &self.connect_timeout)
            .field("restart_window", &self.restart_window)
            .field("disconnected_after", &self.disconnected_after)
            .finish()
    }
}

/// Where the peer connection stands (the browser's `RTCPeerConnectionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerState {
    /// Created, nothing negotiated yet.
    New,
    /// Negotiating and checking candidates.
    Connecting,
    /// Audio can flow: time for `call_connected`.
    Connected,
    /// The path went quiet; it may come back (or an ICE restart may mend it).
    Disconnected,
    /// It could not connect, or stayed down too long: time for `call_failed`.
    Failed,
    /// Closed by this side.
    Closed,
}

impl From<RTCPeerConnectionState> for PeerState {
    fn from(state: RTCPeerConnectionState) -> Self {
        match state {
            RTCPeerConnectionState::Connecting => PeerState::Connecting,
            RTCPeerConnectionState::Connected => PeerState::Connected,
            RTCPeerConnectionState::Disconnected => PeerState::Disconnected,
            RTCPeerConnectionState::Failed => PeerState::Failed,
            RTCPeerConnectionState::Closed => PeerState::Closed,
            // New, Unspecified, and whatever a later webrtc adds: nothing settled yet.
            _ => PeerState::New,
        }
    }
}

/// What the peer tells the app on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoiceEvent {
    /// A signal for the other peer (a local ICE candidate): send it as a `call_signal`.
    Signal(CallSignal),
    /// The connection's state changed (`Connected`: send `call_connected`; `Failed`: send
    /// `call_failed`). Each state is reported once per change.
    State(PeerState),
    /// The first audio packet from the other side arrived.
    AudioStarted,
    /// The other side's track ended.
    RemoteEnded,
    /// The other side muted or unmuted (its `mute` signal).
    RemoteMuted(bool),
}

impl VoiceEvent {
    /// The frame the operator app sends the server for this event in call `call_id` of chat
    /// `chat_id`, if any: a local candidate is a `call_signal`, `Connected` a
    /// `call_connected`, `Failed` a `call_failed`; the rest is for the app's own screen.
    pub fn action(&self, chat_id: ChatId, call_id: i64) -> Option<OperatorAction> {
        match self {
            VoiceEvent::Signal(signal) => Some(OperatorAction::CallSignal {
                chat_id,
                call_id,
                signal: signal.clone(),
            }),
            VoiceEvent::State(PeerState::Connected) => {
                Some(OperatorAction::CallConnected { chat_id, call_id })
            }
            VoiceEvent::State(PeerState::Failed) => {
                Some(OperatorAction::CallFailed { chat_id, call_id })
            }
            VoiceEvent::State(_)
            | VoiceEvent::AudioStarted
            | VoiceEvent::RemoteEnded
            | VoiceEvent::RemoteMuted(_) => None,
        }
    }
}

/// Counters of one call's media, for the UI and for measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VoiceStats {
    /// Opus packets sent.
    pub packets_sent: u64,
    /// Opus packets received.
    pub packets_received: u64,
    /// Frames played in place of lost packets.
    pub frames_concealed: u64,
    /// Packets that came too late to play (or twice).
    pub packets_late: u64,
    /// From the peer's creation to its first packet sent.
    pub first_sent_after: Option<Duration>,
    /// From the peer's creation to its first packet received.
    pub first_received_after: Option<Duration>,
}

/// One call's WebRTC peer. Create it on `call_ready`, feed it the other side's signals, send
/// what it returns and what its event channel gives, [`close`](Self::close) it when the call
/// ends.
pub struct VoicePeer {
    pc: Arc<dyn PeerConnection>,
    shared: Arc<Shared>,
    track: Arc<TrackLocalStaticSample>,
    /// Serializes offers and answers: the signaling state allows one at a time.
    negotiation: tokio::sync::Mutex<()>,
    /// Remote candidates held until the remote description is set.
    pending: Mutex<Pending>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for VoicePeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoicePeer")
            .field("state", &self.state())
            .field("muted", &self.is_muted())
            .field("on_hold", &self.is_on_hold())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Pending {
    has_remote: bool,
    candidates: Vec<IceCandidate>,
}

/// What the peer's tasks and the connection's callbacks share.
struct Shared {
    events: mpsc::UnboundedSender<VoiceEvent>,
    state: watch::Sender<PeerState>,
    failed_reported: AtomicBool,
    muted: AtomicBool,
    held: AtomicBool,
    sink: Mutex<Box<dyn AudioSink>>,
    /// The audio m-line's `mid`, stamped on local candidates (browsers refuse a candidate
    /// whose `sdpMid` matches no m-line).
    mid: Mutex<String>,
    sender: OnceLock<Arc<dyn RtpSender>>,
    created: Instant,
    sent: AtomicU64,
    received: AtomicU64,
    concealed: AtomicU64,
    late: AtomicU64,
    first_sent: OnceLock<Instant>,
    first_received: OnceLock<Instant>,
}

impl Shared {
    fn emit(&self, event: VoiceEvent) {
        // The app may have stopped listening (the call is over): nothing to do then.
        let _ = self.events.send(event);
    }

    /// Moves to `state` and reports it if it changed; `Closed` is final and `Failed` is
    /// reported once.
    fn set_state(&self, state: PeerState) {
        let changed = self.state.send_if_modified(|current| {
            if *current == state || *current == PeerState::Closed {
                return false;
            }
            *current = state;
            true
        });
        if !changed {
            return;
        }
        if state == PeerState::Failed && self.failed_reported.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::debug!(?state, "voice peer state");
        self.emit(VoiceEvent::State(state));
    }

    fn sink(&self) -> MutexGuard<'_, Box<dyn AudioSink>> {
        // A sink that panicked mid-write is still the sink to write to.
        self.sink.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mid(&self) -> String {
        self.mid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Remembers the audio m-line's `mid` from a local SDP.
    fn take_mid_from(&self, sdp: &str) {
        if let Some(mid) = sdp.lines().find_map(|line| line.strip_prefix("a=mid:")) {
            *self.mid.lock().unwrap_or_else(PoisonError::into_inner) = mid.trim().to_owned();
        }
    }
}

/// The connection's callbacks. They run on the connection's driver, so they only hand work
/// on (events, a spawned receive task).
struct Handler {
    shared: Arc<Shared>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => self.shared.emit(VoiceEvent::Signal(CallSignal::Candidate {
                candidate: IceCandidate {
                    candidate: init.candidate,
                    sdp_mid: Some(self.shared.mid()),
                    sdp_mline_index: Some(0),
                },
            })),
            Err(error) => tracing::warn!(%error, "local ICE candidate not sent"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.shared.set_state(state.into());
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        tokio::spawn(receive(track, Arc::clone(&self.shared)));
    }
}

impl VoicePeer {
    /// A peer for one call, sending what `source` gives and playing into `sink`. Nothing is
    /// negotiated yet: answer the other side's offer with [`accept_offer`](Self::accept_offer)
    /// or start with [`create_offer`](Self::create_offer).
    pub async fn new(
        config: VoiceConfig,
        source: impl AudioSource,
        sink: impl AudioSink,
    ) -> Result<(Self, mpsc::UnboundedReceiver<VoiceEvent>), VoiceError> {
        let (events, events_rx) = mpsc::unbounded_channel();
        let (state, state_rx) = watch::channel(PeerState::New);
        let shared = Arc::new(Shared {
            events,
            state,
            failed_reported: AtomicBool::new(false),
            muted: AtomicBool::new(false),
            held: AtomicBool::new(false),
            sink: Mutex::new(Box::new(sink)),
            mid: Mutex::new("0".to_owned()),
            sender: OnceLock::new(),
            created: Instant::now(),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            concealed: AtomicU64::new(0),
            late: AtomicU64::new(0),
            first_sent: OnceLock::new(),
            first_received: OnceLock::new(),
        });

        let mut media = MediaEngine::default();
        media.register_default_codecs()?;
        let settings = SettingEngineBuilder::new()
            .with_ice_timeouts(
                Some(config.disconnected_after),
                // The peer's own watchdog decides when a disconnection is final.
                Some(config.restart_window + Duration::from_secs(5)),
                Some(Duration::from_secs(1)),
            )
            // Checks every 50 ms (RFC 8445's pacing, what browsers do) instead of 200 ms: the
            // first check goes out sooner, so the audio starts sooner. 28 tries keep the 1.4 s
            // a candidate pair is tried for.
            .with_ice_connection_attempts(Some(Duration::from_millis(50)), Some(28))
            .build();
        let ice_servers = config
            .ice_servers
            .iter()
            .map(|server| RTCIceServer {
                urls: server.urls.clone(),
                username: server.username.clone().unwrap_or_default(),
                credential: server.credential.clone().unwrap_or_default(),
            })
            .collect();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(
                RTCConfigurationBuilder::default()
                    .with_ice_servers(ice_servers)
                    .build(),
            )
            .with_media_engine(media)
            .with_setting_engine(settings)
            .with_handler(Arc::new(Handler {
                shared: Arc::clone(&shared),
            }))
            .with_udp_addrs(config.bind_addrs.clone())
            .build()
            .await?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);

        let ssrc = random_u32();
        let track = Arc::new(TrackLocalStaticSample::new(
            Instant::now(),
            MediaStreamTrack::new(
                "switchboard".to_owned(),
                "voice".to_owned(),
                "voice".to_owned(),
                RtpCodecKind::Audio,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec: opus_codec(),
                    ..Default::default()
                }],
            ),
        )?);

        let encoder = FrameEncoder::new()?;
        let tasks = vec![
            tokio::spawn(send(
                Arc::clone(&track),
                ssrc,
                encoder,
                Box::new(source),
                Arc::clone(&shared),
            )),
            tokio::spawn(watchdog(
                state_rx,
                Arc::clone(&shared),
                config.connect_timeout,
                config.restart_window,
            )),
        ];
        let peer = Self {
            pc,
            shared,
            track,
            negotiation: tokio::sync::Mutex::new(()),
            pending: Mutex::new(Pending::default()),
            tasks,
        };
        Ok((peer, events_rx))
    }

    /// Makes an offer (the side that starts; the visitor's browser, in a Switchboard call).
    pub async fn create_offer(&self) -> Result<CallSignal, VoiceError> {
        let _negotiating = self.negotiation.lock().await;
        self.ensure_track().await?;
        self.offer().await
    }

    /// Restarts ICE (after a network change): a new offer with fresh ICE credentials, which
    /// the other side answers as usual. The call goes on meanwhile.
    pub async fn restart_ice(&self) -> Result<CallSignal, VoiceError> {
        let _negotiating = self.negotiation.lock().await;
        self.ensure_track().await?;
        self.pc.restart_ice().await?;
        self.offer().await
    }

    /// Takes the other side's offer (the first, or one that restarts ICE) and returns the
    /// answer to send back.
    pub async fn accept_offer(&self, sdp: &str) -> Result<CallSignal, VoiceError> {
        let _negotiating = self.negotiation.lock().await;
        let offer = RTCSessionDescription::offer(sdp.to_owned())
            .map_err(|error| VoiceError::Signal(format!("offer: {error}")))?;
        self.pc.set_remote_description(offer).await?;
        self.add_pending_candidates().await;
        // Added after the remote offer, the track takes the offer's audio transceiver (send
        // and receive on one m-line) instead of asking for a second one.
        self.ensure_track().await?;
        let answer = self.pc.create_answer(None).await?;
        self.shared.take_mid_from(&answer.sdp);
        let sdp = answer.sdp.clone();
        self.pc.set_local_description(answer).await?;
        Ok(CallSignal::Answer { sdp })
    }

    /// Takes the other side's answer to this side's offer.
    pub async fn accept_answer(&self, sdp: &str) -> Result<(), VoiceError> {
        let _negotiating = self.negotiation.lock().await;
        let answer = RTCSessionDescription::answer(sdp.to_owned())
            .map_err(|error| VoiceError::Signal(format!("answer: {error}")))?;
        self.pc.set_remote_description(answer).await?;
        self.add_pending_candidates().await;
        Ok(())
    }

    /// Adds one of the other side's ICE candidates (kept until its description is set; an
    /// empty one, the browser's end of candidates, is ignored).
    pub async fn add_remote_candidate(&self, candidate: &IceCandidate) -> Result<(), VoiceError> {
        if candidate.candidate.trim().is_empty() {
            return Ok(());
        }
        {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if !pending.has_remote {
                pending.candidates.push(candidate.clone());
                return Ok(());
            }
        }
        self.pc.add_ice_candidate(ice_init(candidate)).await?;
        Ok(())
    }

    /// Takes any signal from the other side; returns the one to send back, if any (the answer
    /// to an offer).
    pub async fn handle_signal(
        &self,
        signal: &CallSignal,
    ) -> Result<Option<CallSignal>, VoiceError> {
        match signal {
            CallSignal::Offer { sdp } => self.accept_offer(sdp).await.map(Some),
            CallSignal::Answer { sdp } => self.accept_answer(sdp).await.map(|()| None),
            CallSignal::Candidate { candidate } => {
                self.add_remote_candidate(candidate).await.map(|()| None)
            }
            CallSignal::Mute { muted } => {
                self.shared.emit(VoiceEvent::RemoteMuted(*muted));
                Ok(None)
            }
        }
    }

    /// Mutes or unmutes the microphone (silence is sent instead); returns the `mute` signal
    /// that tells the other side.
    pub fn set_muted(&self, muted: bool) -> CallSignal {
        self.shared.muted.store(muted, Ordering::SeqCst);
        CallSignal::Mute { muted }
    }

    /// Whether the microphone is muted.
    pub fn is_muted(&self) -> bool {
        self.shared.muted.load(Ordering::SeqCst)
    }

    /// Puts the call on hold (both directions silent) or resumes it.
    pub fn set_on_hold(&self, on_hold: bool) {
        self.shared.held.store(on_hold, Ordering::SeqCst);
    }

    /// Whether the call is on hold.
    pub fn is_on_hold(&self) -> bool {
        self.shared.held.load(Ordering::SeqCst)
    }

    /// Where the connection stands.
    pub fn state(&self) -> PeerState {
        *self.shared.state.borrow()
    }

    /// The call's media counters so far.
    pub fn stats(&self) -> VoiceStats {
        let shared = &self.shared;
        let since = |at: &OnceLock<Instant>| at.get().map(|at| *at - shared.created);
        VoiceStats {
            packets_sent: shared.sent.load(Ordering::Relaxed),
            packets_received: shared.received.load(Ordering::Relaxed),
            frames_concealed: shared.concealed.load(Ordering::Relaxed),
            packets_late: shared.late.load(Ordering::Relaxed),
            first_sent_after: since(&shared.first_sent),
            first_received_after: since(&shared.first_received),
        }
    }

    /// Ends the call's media: stops sending, closes the connection, reports `Closed`.
    pub async fn close(&self) -> Result<(), VoiceError> {
        for task in &self.tasks {
            task.abort();
        }
        self.shared.set_state(PeerState::Closed);
        self.pc.close().await?;
        Ok(())
    }

    async fn offer(&self) -> Result<CallSignal, VoiceError> {
        let offer = self.pc.create_offer(None).await?;
        self.shared.take_mid_from(&offer.sdp);
        let sdp = offer.sdp.clone();
        self.pc.set_local_description(offer).await?;
        Ok(CallSignal::Offer { sdp })
    }

    /// Adds the sending track once (the caller holds the negotiation lock).
    async fn ensure_track(&self) -> Result<(), VoiceError> {
        if self.shared.sender.get().is_none() {
            let track: Arc<dyn TrackLocal> = Arc::clone(&self.track) as Arc<dyn TrackLocal>;
            let sender = self.pc.add_track(track).await?;
            let _ = self.shared.sender.set(sender);
        }
        Ok(())
    }

    async fn add_pending_candidates(&self) {
        let candidates = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.has_remote = true;
            std::mem::take(&mut pending.candidates)
        };
        for candidate in candidates {
            if let Err(error) = self.pc.add_ice_candidate(ice_init(&candidate)).await {
                tracing::warn!(%error, "remote ICE candidate refused");
            }
        }
    }
}

impl Drop for VoicePeer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Opus as WebRTC names it: 48 kHz, "2 channels" in the SDP (RFC 7587) even for mono, FEC.
fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn ice_init(candidate: &IceCandidate) -> RTCIceCandidateInit {
    RTCIceCandidateInit {
        candidate: candidate.candidate.clone(),
        sdp_mid: candidate.sdp_mid.clone(),
        sdp_mline_index: candidate.sdp_mline_index,
        username_fragment: None,
        url: None,
    }
}

/// A random SSRC (the std hasher's random keys: no RNG crate for four bytes).
fn random_u32() -> u32 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    (hasher.finish() >> 16) as u32
}

/// Every 20 ms: one frame from the source, encoded and sent once the call is connected.
async fn send(
    track: Arc<TrackLocalStaticSample>,
    ssrc: u32,
    mut encoder: FrameEncoder,
    mut source: Box<dyn AudioSource>,
    shared: Arc<Shared>,
) {
    let mut tick = tokio::time::interval(FRAME_DURATION);
    let mut frame = vec![0i16; FRAME_SAMPLES];
    let mut negotiated = None;
    loop {
        tick.tick().await;
        // Read even when nothing is sent, so a microphone's buffer never backs up.
        source.read(&mut frame);
        if *shared.state.borrow() != PeerState::Connected {
            continue;
        }
        let payload_type = match negotiated {
            Some(pt) => pt,
            None => match negotiated_payload_type(&shared).await {
                Some(pt) => *negotiated.insert(pt),
                None => continue,
            },
        };
        if shared.muted.load(Ordering::Relaxed) || shared.held.load(Ordering::Relaxed) {
            frame.fill(0);
        }
        let packet = match encoder.encode(&frame) {
            Ok(packet) => packet,
            Err(error) => {
                tracing::warn!(%error, "voice frame not encoded");
                continue;
            }
        };
        let sample = Sample {
            data: Bytes::from(packet),
            duration: FRAME_DURATION,
            ..Sample::new(Instant::now())
        };
        match track
            .sample_writer(ssrc, payload_type)
            .write_sample(&sample)
            .await
        {
            Ok(()) => {
                shared.first_sent.get_or_init(Instant::now);
                shared.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => tracing::debug!(%error, "voice frame not sent"),
        }
    }
}

/// The payload type the other side gave Opus (`write_sample` must stamp the negotiated one).
async fn negotiated_payload_type(shared: &Shared) -> Option<u8> {
    let sender = shared.sender.get()?;
    let parameters = sender.get_parameters().await.ok()?;
    parameters
        .rtp_parameters
        .codecs
        .iter()
        .find(|codec| {
            codec
                .rtp_codec
                .mime_type
                .eq_ignore_ascii_case(MIME_TYPE_OPUS)
        })
        .map(|codec| codec.payload_type)
}

/// Plays the other side's track: each packet decoded (lost ones concealed) into the sink,
/// silence instead while on hold.
async fn receive(track: Arc<dyn TrackRemote>, shared: Arc<Shared>) {
    let mut decoder = match FrameDecoder::new() {
        Ok(decoder) => decoder,
        Err(error) => {
            tracing::warn!(%error, "no voice decoder");
            return;
        }
    };
    let silence = [0i16; FRAME_SAMPLES];
    while let Some(event) = track.poll().await {
        match event {
            TrackRemoteEvent::OnRtpPacket(packet) => {
                // Padding-only packets carry no audio.
                if packet.payload.is_empty() {
                    continue;
                }
                if shared.first_received.set(Instant::now()).is_ok() {
                    shared.emit(VoiceEvent::AudioStarted);
                }
                shared.received.fetch_add(1, Ordering::Relaxed);
                let held = shared.held.load(Ordering::Relaxed);
                let result = {
                    let mut sink = shared.sink();
                    decoder.receive(packet.header.sequence_number, &packet.payload, |frame| {
                        if held {
                            sink.write(&silence[..frame.len().min(FRAME_SAMPLES)]);
                        } else {
                            sink.write(frame);
                        }
                    })
                };
                match result {
                    Ok(received) => {
                        shared
                            .concealed
                            .fetch_add(u64::from(received.concealed), Ordering::Relaxed);
                        if received.late {
                            shared.late.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(error) => tracing::debug!(%error, "voice packet not decoded"),
                }
            }
            TrackRemoteEvent::OnEnded => {
                shared.emit(VoiceEvent::RemoteEnded);
                break;
            }
            _ => {}
        }
    }
}

/// Reports `Failed` when the call does not connect in time, or stays disconnected longer
/// than the restart window.
async fn watchdog(
    mut state: watch::Receiver<PeerState>,
    shared: Arc<Shared>,
    connect_timeout: Duration,
    restart_window: Duration,
) {
    let mut allowed = connect_timeout;
    loop {
        let settled = tokio::time::timeout(
            allowed,
            state.wait_for(|s| {
                matches!(
                    s,
                    PeerState::Connected | PeerState::Failed | PeerState::Closed
                )
            }),
        )
        .await
        .map(|waited| waited.map(|s| *s));
        match settled {
            Err(_elapsed) => {
                shared.set_state(PeerState::Failed);
                return;
            }
            Ok(Ok(PeerState::Connected)) => {}
            Ok(_) => return,
        }
        let dropped = state
            .wait_for(|s| *s != PeerState::Connected)
            .await
            .map(|s| *s);
        match dropped {
            Ok(PeerState::Disconnected) => allowed = restart_window,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_become_the_operators_call_frames() {
        let chat = ChatId(7);
        let candidate = CallSignal::Candidate {
            candidate: IceCandidate {
                candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            },
        };
        assert_eq!(
            VoiceEvent::Signal(candidate.clone()).action(chat, 14),
            Some(OperatorAction::CallSignal {
                chat_id: chat,
                call_id: 14,
                signal: candidate
            })
        );
        assert_eq!(
            VoiceEvent::State(PeerState::Connected).action(chat, 14),
            Some(OperatorAction::CallConnected {
                chat_id: chat,
                call_id: 14
            })
        );
        assert_eq!(
            VoiceEvent::State(PeerState::Failed).action(chat, 14),
            Some(OperatorAction::CallFailed {
                chat_id: chat,
                call_id: 14
            })
        );
        for quiet in [
            VoiceEvent::State(PeerState::Disconnected),
            VoiceEvent::State(PeerState::Closed),
            VoiceEvent::AudioStarted,
            VoiceEvent::RemoteEnded,
            VoiceEvent::RemoteMuted(true),
        ] {
            assert_eq!(quiet.action(chat, 14), None);
        }
    }

    #[test]
    fn the_config_never_shows_turn_credentials() {
        let config = VoiceConfig::new(vec![IceServer {
            urls: vec!["turn:turn.example.com:3478".into()],
            username: Some("1700000000:chat-7-operator".into()),
            credential: Some("s3cret-credential".into()),
        }]);
        let shown = format!("{config:?}");
        assert!(shown.contains("turn:turn.example.com:3478"));
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("chat-7-operator"), "{shown}");
    }
}
