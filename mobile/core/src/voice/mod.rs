//! The operator app's side of a voice call: a WebRTC peer in Rust (Debian's WebKitGTK webview
//! has no `RTCPeerConnection`, and one Rust peer serves every platform), Opus through the
//! system's libopus, and audio in and out behind two small traits.
//!
//! - [`VoicePeer`] is one call's peer connection: it answers the visitor's offer (or makes
//!   one), trickles ICE candidates both ways, sends one Opus track and plays the other. What
//!   the app must tell the server comes out as [`VoiceEvent`]s on a channel: local candidates
//!   (`call_signal`), connected (`call_connected`) and failed (`call_failed`);
//!   [`VoiceEvent::action`] makes the frame.
//! - [`AudioSource`] / [`AudioSink`] are the microphone and the speaker; [`ToneSource`] and
//!   [`RecordingSink`] stand in for them in tests, `devices` (feature `audio-devices`) is the
//!   real thing through cpal.
//! - [`PeerEngine`] is the app engine's `VoiceEngine` (`crate::call`) made of these peers,
//!   one per call: what the app plugs in to make calls real.
//! - [`codec`] is Opus in 20 ms frames with loss concealment; [`detect`] measures what a sink
//!   received (level and dominant frequency, by Goertzel).
//!
//! The signaling types are the protocol's own ([`switchboard_shared::CallSignal`],
//! [`switchboard_shared::IceServer`]): this module does not talk to the server itself.

mod audio;
pub mod codec;
pub mod detect;
#[cfg(feature = "audio-devices")]
pub mod devices;
mod engine;
mod peer;

pub use audio::{
    AudioSink, AudioSource, FRAME_SAMPLES, NullSink, RecordingSink, SAMPLE_RATE, SilentSource,
    ToneSource,
};
pub use engine::{AudioFactory, PeerEngine};
pub use peer::{PeerState, VoiceConfig, VoiceEvent, VoicePeer, VoiceStats};

/// The length of one audio frame (and of one Opus packet's audio).
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(20);

/// What went wrong in a call's media.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// The WebRTC stack refused or failed an operation.
    #[error("webrtc: {0}")]
    WebRtc(String),
    /// libopus failed to encode or decode.
    #[error("opus: {0}")]
    Codec(String),
    /// The microphone or speaker could not be opened or used.
    #[error("audio device: {0}")]
    Device(String),
    /// A signal that does not fit where the call is (an answer without an offer, an SDP that
    /// does not parse).
    #[error("signal: {0}")]
    Signal(String),
    /// The peer was closed.
    #[error("the call's peer is closed")]
    Closed,
}

impl From<webrtc::error::Error> for VoiceError {
    fn from(error: webrtc::error::Error) -> Self {
        VoiceError::WebRtc(error.to_string())
    }
}

impl From<opus::Error> for VoiceError {
    fn from(error: opus::Error) -> Self {
        VoiceError::Codec(error.to_string())
    }
}
