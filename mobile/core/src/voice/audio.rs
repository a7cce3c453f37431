//! Audio in and out of a call, behind two small traits so the peer never knows whether it
//! talks to a microphone and a speaker ([`super::devices`], feature `audio-devices`) or to the
//! in-memory tone source and recording sink the tests use.
//!
//! Everything is 48 kHz mono `i16` PCM in frames of [`FRAME_SAMPLES`] (20 ms): the peer asks
//! its source for one frame every 20 ms and gives its sink one frame for every packet that
//! arrived or was concealed.

use std::f64::consts::TAU;
use std::sync::{Arc, Mutex, PoisonError};

/// The call's sample rate (Opus's native rate).
pub const SAMPLE_RATE: u32 = 48_000;

/// Samples in one 20 ms frame at [`SAMPLE_RATE`], mono.
pub const FRAME_SAMPLES: usize = 960;

/// Where the local voice comes from: a microphone, or a tone in tests.
pub trait AudioSource: Send + 'static {
    /// Fills `frame` ([`FRAME_SAMPLES`] samples) with the next 20 ms. Called every 20 ms by the
    /// peer, also while muted (so a device's buffer does not fill up); a source with nothing
    /// to give fills silence.
    fn read(&mut self, frame: &mut [i16]);
}

/// Where the remote voice goes: a speaker, or a recording in tests.
pub trait AudioSink: Send + 'static {
    /// Takes the next decoded 20 ms frame ([`FRAME_SAMPLES`] samples; concealed frames for
    /// lost packets included, silence while on hold).
    fn write(&mut self, frame: &[i16]);
}

impl<T: AudioSource + ?Sized> AudioSource for Box<T> {
    fn read(&mut self, frame: &mut [i16]) {
        (**self).read(frame);
    }
}

impl<T: AudioSink + ?Sized> AudioSink for Box<T> {
    fn write(&mut self, frame: &[i16]) {
        (**self).write(frame);
    }
}

/// A sine tone of a fixed frequency: the test "microphone".
#[derive(Debug, Clone)]
pub struct ToneSource {
    frequency: f64,
    amplitude: f64,
    /// Where the next sample falls in the sine's period, in radians (kept in `0..TAU` so the
    /// tone stays exact however long the call runs).
    phase: f64,
}

impl ToneSource {
    /// A tone of `frequency` Hz at a third of full scale (loud enough to measure, far from
    /// clipping after Opus).
    pub fn new(frequency: f64) -> Self {
        Self::with_amplitude(frequency, f64::from(i16::MAX) / 3.0)
    }

    /// A tone of `frequency` Hz with a peak of `amplitude` (in `i16` units).
    pub fn with_amplitude(frequency: f64, amplitude: f64) -> Self {
        Self {
            frequency,
            amplitude: amplitude.clamp(0.0, f64::from(i16::MAX)),
            phase: 0.0,
        }
    }

    /// The tone's frequency in Hz.
    pub fn frequency(&self) -> f64 {
        self.frequency
    }
}

impl AudioSource for ToneSource {
    fn read(&mut self, frame: &mut [i16]) {
        let step = TAU * self.frequency / f64::from(SAMPLE_RATE);
        for sample in frame.iter_mut() {
            // The amplitude is clamped to i16's range, so the cast cannot overflow.
            *sample = (self.amplitude * self.phase.sin()).round() as i16;
            self.phase = (self.phase + step) % TAU;
        }
    }
}

/// A source that gives nothing but silence.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentSource;

impl AudioSource for SilentSource {
    fn read(&mut self, frame: &mut [i16]) {
        frame.fill(0);
    }
}

/// A sink that keeps what it was given, for tests and measurements. Clones share one
/// recording: give one clone to the peer and read the other.
#[derive(Debug, Clone, Default)]
pub struct RecordingSink {
    recording: Arc<Mutex<Vec<i16>>>,
}

impl RecordingSink {
    /// An empty recording.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every sample received so far.
    pub fn samples(&self) -> Vec<i16> {
        self.lock().clone()
    }

    /// The number of samples received so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was received yet.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The last `count` samples (fewer if fewer arrived).
    pub fn last(&self, count: usize) -> Vec<i16> {
        let recording = self.lock();
        recording[recording.len().saturating_sub(count)..].to_vec()
    }

    /// Forgets what was received so far (to measure a new stretch of the call).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<i16>> {
        // A panic while holding the lock cannot leave a Vec<i16> half-written in a way that
        // matters to a measurement, so a poisoned lock is used as it is.
        self.recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl AudioSink for RecordingSink {
    fn write(&mut self, frame: &[i16]) {
        self.lock().extend_from_slice(frame);
    }
}

/// A sink that throws everything away.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

impl AudioSink for NullSink {
    fn write(&mut self, _frame: &[i16]) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::detect::analyze;

    #[test]
    fn tone_source_plays_its_frequency_without_clicks_between_frames() {
        let mut tone = ToneSource::new(440.0);
        let mut samples = vec![0i16; FRAME_SAMPLES * 10];
        for frame in samples.chunks_mut(FRAME_SAMPLES) {
            tone.read(frame);
        }
        let found = analyze(&samples);
        assert!((found.dominant_hz - 440.0).abs() <= 10.0, "{found:?}");
        // A third of full scale: RMS of a sine is peak / √2.
        let expected_rms = f64::from(i16::MAX) / 3.0 / 2f64.sqrt();
        assert!(
            (found.rms - expected_rms).abs() < expected_rms * 0.02,
            "{found:?}"
        );
        // Continuous across frame edges: no step bigger than the sine's steepest one.
        let max_step = f64::from(i16::MAX) / 3.0 * TAU * 440.0 / f64::from(SAMPLE_RATE);
        for pair in samples.windows(2) {
            let step = (f64::from(pair[1]) - f64::from(pair[0])).abs();
            assert!(step <= max_step + 1.0, "step {step} > {max_step}");
        }
    }

    #[test]
    fn recording_sink_shares_its_recording_between_clones() {
        let sink = RecordingSink::new();
        let mut given = sink.clone();
        given.write(&[1, 2, 3]);
        given.write(&[4]);
        assert_eq!(sink.samples(), vec![1, 2, 3, 4]);
        assert_eq!(sink.last(2), vec![3, 4]);
        assert_eq!(sink.last(10).len(), 4);
        sink.clear();
        assert!(sink.is_empty());
    }

    #[test]
    fn silent_source_is_silent() {
        let mut frame = [7i16; FRAME_SAMPLES];
        SilentSource.read(&mut frame);
        assert!(frame.iter().all(|&s| s == 0));
    }
}
