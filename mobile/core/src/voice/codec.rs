//! Opus in 20 ms frames, through the system's libopus: one encoder for what the peer sends,
//! and a decoder that follows the RTP sequence numbers so a lost packet becomes a concealed
//! frame (libopus's packet-loss concealment, or its in-band FEC when the next packet carries
//! a copy) instead of a hole or a jump in the sound.
//!
//! Invariant: the decoder hands its sink exactly one frame per 20 ms of the sender's
//! timeline that it has passed (decoded or concealed), up to [`MAX_CONCEALED`] frames of a
//! gap; a late packet, whose place was already concealed, is dropped.

use super::VoiceError;
use super::audio::{FRAME_SAMPLES, SAMPLE_RATE};

/// The longest gap that is concealed frame by frame (200 ms). A longer one (the sender
/// paused, ICE restarted) is not a loss to paper over: decoding just resumes.
pub const MAX_CONCEALED: u16 = 10;

/// Largest Opus packet the encoder may write (RFC 6716 allows 1275 bytes a frame).
const MAX_PACKET: usize = 1_275;

/// Encodes 20 ms mono frames for sending.
pub struct FrameEncoder {
    encoder: opus::Encoder,
    packet: Vec<u8>,
}

impl std::fmt::Debug for FrameEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameEncoder").finish_non_exhaustive()
    }
}

impl FrameEncoder {
    /// A voice encoder with in-band FEC on, so the receiver can rebuild a lost packet from the
    /// next one (the SDP's `useinbandfec=1`).
    pub fn new() -> Result<Self, VoiceError> {
        let mut encoder =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)?;
        encoder.set_inband_fec(true)?;
        // FEC costs bits only when the encoder expects loss; a few percent is what a mobile
        // network loses.
        encoder.set_packet_loss_perc(5)?;
        Ok(Self {
            encoder,
            packet: vec![0; MAX_PACKET],
        })
    }

    /// Encodes one frame of [`FRAME_SAMPLES`] samples into one Opus packet.
    pub fn encode(&mut self, frame: &[i16]) -> Result<Vec<u8>, VoiceError> {
        if frame.len() != FRAME_SAMPLES {
            return Err(VoiceError::Codec(format!(
                "a frame has {FRAME_SAMPLES} samples, not {}",
                frame.len()
            )));
        }
        let len = self.encoder.encode(frame, &mut self.packet)?;
        Ok(self.packet[..len].to_vec())
    }
}

/// What one received packet turned into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// Frames played in place of lost packets before this one.
    pub concealed: u16,
    /// The packet came after its place was already played (or twice): dropped.
    pub late: bool,
}

/// Decodes received packets in sequence order, concealing the lost ones.
pub struct FrameDecoder {
    decoder: opus::Decoder,
    /// The sequence number the next packet should have; `None` before the first one.
    expected: Option<u16>,
    frame: Vec<i16>,
}

impl std::fmt::Debug for FrameDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameDecoder")
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl FrameDecoder {
    /// A mono 48 kHz decoder waiting for its first packet.
    pub fn new() -> Result<Self, VoiceError> {
        Ok(Self {
            decoder: opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)?,
            expected: None,
            frame: vec![0; FRAME_SAMPLES],
        })
    }

    /// Takes the packet with RTP sequence number `seq`: conceals the packets missing before it
    /// (the last of them from this packet's FEC copy), then decodes it, handing `play` each
    /// frame in order.
    pub fn receive(
        &mut self,
        seq: u16,
        payload: &[u8],
        mut play: impl FnMut(&[i16]),
    ) -> Result<Received, VoiceError> {
        let mut received = Received::default();
        if let Some(expected) = self.expected {
            // Sequence numbers wrap: the signed distance tells late from lost.
            let ahead = seq.wrapping_sub(expected) as i16;
            if ahead < 0 {
                received.late = true;
                return Ok(received);
            }
            let lost = ahead as u16;
            if (1..=MAX_CONCEALED).contains(&lost) {
                for _ in 1..lost {
                    self.conceal(&mut play)?;
                }
                // The lost packet just before this one: FEC if this packet carries it (libopus
                // falls back to plain concealment when it does not).
                let len = self.decoder.decode(payload, &mut self.frame, true)?;
                play(&self.frame[..len]);
                received.concealed = lost;
            }
        }
        self.expected = Some(seq.wrapping_add(1));
        let len = self.decoder.decode(payload, &mut self.frame, false)?;
        play(&self.frame[..len]);
        Ok(received)
    }

    /// Plays one frame of concealment for a packet that never came.
    pub fn conceal(&mut self, mut play: impl FnMut(&[i16])) -> Result<(), VoiceError> {
        let len = self.decoder.decode(&[], &mut self.frame, false)?;
        play(&self.frame[..len]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::audio::{AudioSource, ToneSource};
    use crate::voice::detect::tone_amplitude;

    fn packets(count: usize) -> Vec<Vec<u8>> {
        let mut tone = ToneSource::new(440.0);
        let mut encoder = FrameEncoder::new().unwrap();
        let mut frame = vec![0; FRAME_SAMPLES];
        (0..count)
            .map(|_| {
                tone.read(&mut frame);
                encoder.encode(&frame).unwrap()
            })
            .collect()
    }

    #[test]
    fn every_packet_and_every_lost_one_becomes_one_frame_of_the_tone() {
        let packets = packets(50);
        let mut decoder = FrameDecoder::new().unwrap();
        let mut out = Vec::new();
        let mut concealed = 0;
        // Packets 10, 20 and 21 are lost; 0xFFF0 start checks the wrap-around.
        for (i, packet) in packets.iter().enumerate() {
            if [10, 20, 21].contains(&i) {
                continue;
            }
            let seq = 0xFFF0u16.wrapping_add(i as u16);
            let got = decoder
                .receive(seq, packet, |f| out.extend_from_slice(f))
                .unwrap();
            assert!(!got.late);
            concealed += got.concealed;
        }
        assert_eq!(concealed, 3);
        assert_eq!(out.len(), 50 * FRAME_SAMPLES);
        // After the codec's start-up, the tone is there throughout, concealed stretches too.
        let tail = &out[5 * FRAME_SAMPLES..];
        assert!(tone_amplitude(tail, 440.0) > 5_000.0);
    }

    #[test]
    fn late_and_repeated_packets_are_dropped_and_long_gaps_not_concealed() {
        let packets = packets(4);
        let mut decoder = FrameDecoder::new().unwrap();
        let mut frames = 0;
        let mut count = |_: &[i16]| frames += 1;
        decoder.receive(100, &packets[0], &mut count).unwrap();
        assert!(decoder.receive(100, &packets[0], &mut count).unwrap().late);
        assert!(decoder.receive(99, &packets[1], &mut count).unwrap().late);
        // 500 ahead: a pause, not 499 lost packets.
        let got = decoder.receive(600, &packets[2], &mut count).unwrap();
        assert_eq!(got.concealed, 0);
        assert_eq!(frames, 2);
    }

    #[test]
    fn a_frame_of_the_wrong_size_is_refused() {
        let mut encoder = FrameEncoder::new().unwrap();
        assert!(encoder.encode(&[0; 100]).is_err());
    }
}
