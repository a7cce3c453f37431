//! The microphone and the speaker through cpal (ALSA on Linux, CoreAudio, AAudio/OpenSL on
//! Android, WASAPI): the [`AudioSource`] and [`AudioSink`] a real call uses.
//!
//! cpal calls back on its own audio threads, and its streams may not leave the thread that
//! opened them, so the pieces are split: [`AudioDevices`] owns the streams (keep it where it
//! was opened, drop it to stop), [`MicSource`] and [`SpeakerSink`] are `Send` ends of two
//! bounded sample queues that the peer reads and writes every 20 ms.
//!
//! The speaker's queue is the playout (jitter) buffer: after an underrun it waits for
//! [`PLAYOUT_PREFILL`] samples before it plays again, and neither queue grows past
//! [`MAX_QUEUED`] samples (the oldest are dropped), so latency stays bounded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{SampleFormat, StreamConfig};

use super::{AudioSink, AudioSource, FRAME_SAMPLES, SAMPLE_RATE, VoiceError};

/// Samples the speaker waits for before playing (40 ms): room for network jitter.
pub const PLAYOUT_PREFILL: usize = 2 * FRAME_SAMPLES;

/// Most samples either queue holds (200 ms).
pub const MAX_QUEUED: usize = 10 * FRAME_SAMPLES;

/// The open microphone and speaker streams; audio stops when this is dropped.
pub struct AudioDevices {
    _input: cpal::Stream,
    _output: cpal::Stream,
}

impl std::fmt::Debug for AudioDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioDevices").finish_non_exhaustive()
    }
}

/// The microphone's end for the peer.
#[derive(Debug, Clone)]
pub struct MicSource {
    queue: Arc<Mutex<VecDeque<i16>>>,
}

/// The speaker's end for the peer.
#[derive(Debug, Clone)]
pub struct SpeakerSink {
    queue: Arc<Mutex<Playout>>,
}

#[derive(Debug, Default)]
struct Playout {
    samples: VecDeque<i16>,
    /// Waiting for [`PLAYOUT_PREFILL`] samples before playing (at the start, after an
    /// underrun).
    priming: bool,
}

/// Opens the system's default microphone and speaker at 48 kHz.
pub fn open_default() -> Result<(AudioDevices, MicSource, SpeakerSink), VoiceError> {
    let host = cpal::default_host();
    let input = host
        .default_input_device()
        .ok_or_else(|| VoiceError::Device("no microphone".to_owned()))?;
    let output = host
        .default_output_device()
        .ok_or_else(|| VoiceError::Device("no speaker".to_owned()))?;

    let mic = MicSource {
        queue: Arc::new(Mutex::new(VecDeque::with_capacity(MAX_QUEUED))),
    };
    let speaker = SpeakerSink {
        queue: Arc::new(Mutex::new(Playout {
            samples: VecDeque::with_capacity(MAX_QUEUED),
            priming: true,
        })),
    };

    let input_config = input.default_input_config().map_err(device_error)?;
    let input_stream = open_input(
        &input,
        input_config.sample_format(),
        input_config.channels(),
        &mic,
    )?;
    let output_config = output.default_output_config().map_err(device_error)?;
    let output_stream = open_output(
        &output,
        output_config.sample_format(),
        output_config.channels(),
        &speaker,
    )?;
    input_stream.play().map_err(device_error)?;
    output_stream.play().map_err(device_error)?;
    Ok((
        AudioDevices {
            _input: input_stream,
            _output: output_stream,
        },
        mic,
        speaker,
    ))
}

fn device_error(error: impl std::fmt::Display) -> VoiceError {
    VoiceError::Device(error.to_string())
}

fn config(channels: u16) -> StreamConfig {
    StreamConfig {
        channels,
        sample_rate: SAMPLE_RATE,
        buffer_size: cpal::BufferSize::Default,
    }
}

fn on_stream_error(error: cpal::Error) {
    tracing::warn!(%error, "audio device");
}

fn open_input(
    device: &cpal::Device,
    format: SampleFormat,
    channels: u16,
    mic: &MicSource,
) -> Result<cpal::Stream, VoiceError> {
    let channels_n = usize::from(channels.max(1));
    let queue = Arc::clone(&mic.queue);
    let stream = match format {
        SampleFormat::I16 => device.build_input_stream::<i16, _, _>(
            config(channels),
            move |data, _| push_mic(&queue, data.chunks(channels_n).map(|c| c[0])),
            on_stream_error,
            None,
        ),
        SampleFormat::F32 => device.build_input_stream::<f32, _, _>(
            config(channels),
            move |data, _| push_mic(&queue, data.chunks(channels_n).map(|c| f32_to_i16(c[0]))),
            on_stream_error,
            None,
        ),
        other => return Err(VoiceError::Device(format!("microphone format {other:?}"))),
    };
    stream.map_err(device_error)
}

fn open_output(
    device: &cpal::Device,
    format: SampleFormat,
    channels: u16,
    speaker: &SpeakerSink,
) -> Result<cpal::Stream, VoiceError> {
    let channels_n = usize::from(channels.max(1));
    let queue = Arc::clone(&speaker.queue);
    let stream = match format {
        SampleFormat::I16 => device.build_output_stream::<i16, _, _>(
            config(channels),
            move |data, _| {
                let mut playout = queue.lock().unwrap_or_else(PoisonError::into_inner);
                for out in data.chunks_mut(channels_n) {
                    out.fill(playout.next());
                }
            },
            on_stream_error,
            None,
        ),
        SampleFormat::F32 => device.build_output_stream::<f32, _, _>(
            config(channels),
            move |data, _| {
                let mut playout = queue.lock().unwrap_or_else(PoisonError::into_inner);
                for out in data.chunks_mut(channels_n) {
                    out.fill(f32::from(playout.next()) / 32_768.0);
                }
            },
            on_stream_error,
            None,
        ),
        other => return Err(VoiceError::Device(format!("speaker format {other:?}"))),
    };
    stream.map_err(device_error)
}

fn f32_to_i16(sample: f32) -> i16 {
    // Clamped first, so the cast cannot overflow.
    (sample.clamp(-1.0, 1.0) * 32_767.0) as i16
}

fn push_mic(queue: &Mutex<VecDeque<i16>>, samples: impl Iterator<Item = i16>) {
    let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
    queue.extend(samples);
    let excess = queue.len().saturating_sub(MAX_QUEUED);
    queue.drain(..excess);
}

impl AudioSource for MicSource {
    fn read(&mut self, frame: &mut [i16]) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        for sample in frame.iter_mut() {
            *sample = queue.pop_front().unwrap_or(0);
        }
    }
}

impl Playout {
    fn next(&mut self) -> i16 {
        if self.priming {
            if self.samples.len() < PLAYOUT_PREFILL {
                return 0;
            }
            self.priming = false;
        }
        match self.samples.pop_front() {
            Some(sample) => sample,
            None => {
                self.priming = true;
                0
            }
        }
    }
}

impl AudioSink for SpeakerSink {
    fn write(&mut self, frame: &[i16]) {
        let mut playout = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        playout.samples.extend(frame.iter().copied());
        let excess = playout.samples.len().saturating_sub(MAX_QUEUED);
        playout.samples.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_speaker_waits_for_its_prefill_and_again_after_an_underrun() {
        let mut sink = SpeakerSink {
            queue: Arc::new(Mutex::new(Playout {
                priming: true,
                ..Playout::default()
            })),
        };
        sink.write(&[5; FRAME_SAMPLES]);
        let mut playout = sink.queue.lock().unwrap();
        assert_eq!(playout.next(), 0, "one frame is not enough");
        drop(playout);
        sink.write(&[5; FRAME_SAMPLES]);
        let mut playout = sink.queue.lock().unwrap();
        let played: Vec<i16> = (0..PLAYOUT_PREFILL + 1).map(|_| playout.next()).collect();
        assert!(played[..PLAYOUT_PREFILL].iter().all(|&s| s == 5));
        assert_eq!(played[PLAYOUT_PREFILL], 0);
        assert!(playout.priming);
    }

    #[test]
    fn queues_keep_at_most_their_cap() {
        let mic = MicSource {
            queue: Arc::new(Mutex::new(VecDeque::new())),
        };
        push_mic(&mic.queue, std::iter::repeat_n(1, MAX_QUEUED * 2));
        assert_eq!(mic.queue.lock().unwrap().len(), MAX_QUEUED);
        let mut frame = [9; FRAME_SAMPLES];
        MicSource {
            queue: Arc::new(Mutex::new(VecDeque::new())),
        }
        .read(&mut frame);
        assert!(
            frame.iter().all(|&s| s == 0),
            "an empty microphone reads silence"
        );
    }
}
