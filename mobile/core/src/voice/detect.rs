//! What a stretch of audio holds: its level and its strongest tone, measured with the
//! Goertzel algorithm (one DFT bin at any frequency, in one pass, no FFT).
//!
//! The tests play a tone at each end of a call and check with this that the other end heard
//! that tone and not its own, and that mute and hold silence it.

use std::f64::consts::TAU;

use super::audio::SAMPLE_RATE;

/// Lowest frequency [`analyze`] looks for (Hz).
pub const MIN_HZ: f64 = 50.0;

/// Highest frequency [`analyze`] looks for (Hz): voice lives below it.
pub const MAX_HZ: f64 = 4_000.0;

/// The coarse scan's step (Hz).
const COARSE_STEP_HZ: f64 = 5.0;

/// The coarse scan looks at the first 100 ms: a 10 Hz bin, wide enough that a tone between
/// two 5 Hz probes still stands out.
const COARSE_WINDOW: usize = SAMPLE_RATE as usize / 10;

/// The fine scan looks at up to one second: a 1 Hz bin.
const FINE_WINDOW: usize = SAMPLE_RATE as usize;

/// The fine scan's step (Hz).
const FINE_STEP_HZ: f64 = 0.5;

/// What [`analyze`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Analysis {
    /// Root mean square level, in `i16` units (a full-scale sine is about 23 170).
    pub rms: f64,
    /// The strongest frequency between [`MIN_HZ`] and [`MAX_HZ`] (0 for silence).
    pub dominant_hz: f64,
    /// The amplitude of the tone at [`Self::dominant_hz`], in `i16` units (see
    /// [`tone_amplitude`]).
    pub dominant_amplitude: f64,
}

/// The DFT power of `samples` at `frequency` Hz (Goertzel): `|X(f)|²`.
pub fn goertzel_power(samples: &[i16], frequency: f64) -> f64 {
    let omega = TAU * frequency / f64::from(SAMPLE_RATE);
    let coeff = 2.0 * omega.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &sample in samples {
        let s0 = f64::from(sample) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    // The generalized Goertzel's final step: the magnitude is exact at any frequency, not only
    // at the DFT's bin centres (only the phase would need a correction).
    (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0)
}

/// The amplitude of a sine at `frequency` Hz in `samples`, in `i16` units: a tone of peak `A`
/// measures about `A` here, silence and other frequencies (further than a bin away) about 0.
pub fn tone_amplitude(samples: &[i16], frequency: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    // A sine of amplitude A over N samples puts A·N/2 into its bin.
    2.0 * goertzel_power(samples, frequency).sqrt() / samples.len() as f64
}

/// The root mean square level of `samples`, in `i16` units.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// The level and strongest tone of `samples` (48 kHz mono): a coarse scan of the first 100 ms
/// every 5 Hz, then a fine one around the best probe over up to one second.
pub fn analyze(samples: &[i16]) -> Analysis {
    let level = rms(samples);
    if samples.is_empty() || level == 0.0 {
        return Analysis {
            rms: level,
            dominant_hz: 0.0,
            dominant_amplitude: 0.0,
        };
    }
    let coarse = &samples[..samples.len().min(COARSE_WINDOW)];
    let best_coarse = scan(coarse, MIN_HZ, MAX_HZ, COARSE_STEP_HZ);
    let fine = &samples[..samples.len().min(FINE_WINDOW)];
    let best = scan(
        fine,
        (best_coarse - COARSE_STEP_HZ).max(MIN_HZ),
        (best_coarse + COARSE_STEP_HZ).min(MAX_HZ),
        FINE_STEP_HZ,
    );
    Analysis {
        rms: level,
        dominant_hz: best,
        dominant_amplitude: tone_amplitude(fine, best),
    }
}

/// The frequency in `from..=to` (every `step` Hz) with the most power in `samples`.
fn scan(samples: &[i16], from: f64, to: f64, step: f64) -> f64 {
    let probes = ((to - from) / step).floor().max(0.0) as usize;
    (0..=probes)
        .map(|i| from + i as f64 * step)
        .map(|f| (f, goertzel_power(samples, f)))
        .fold((from, f64::MIN), |best, probe| {
            if probe.1 > best.1 { probe } else { best }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::audio::{AudioSource, ToneSource};

    fn tone(frequency: f64, amplitude: f64, len: usize) -> Vec<i16> {
        let mut samples = vec![0i16; len];
        ToneSource::with_amplitude(frequency, amplitude).read(&mut samples);
        samples
    }

    #[test]
    fn goertzel_measures_a_tones_amplitude_at_its_frequency_only() {
        let samples = tone(440.0, 10_000.0, 48_000);
        let at = tone_amplitude(&samples, 440.0);
        assert!((at - 10_000.0).abs() < 50.0, "{at}");
        for other in [220.0, 660.0, 1_000.0] {
            let off = tone_amplitude(&samples, other);
            assert!(off < 50.0, "{other} Hz: {off}");
        }
    }

    #[test]
    fn dominant_frequency_is_found_between_probes_and_in_a_mix() {
        for frequency in [440.0, 660.0, 1_234.5, 3_000.0] {
            let found = analyze(&tone(frequency, 8_000.0, 48_000));
            assert!(
                (found.dominant_hz - frequency).abs() <= 1.0,
                "{frequency}: {found:?}"
            );
            assert!(
                (found.dominant_amplitude - 8_000.0).abs() < 200.0,
                "{found:?}"
            );
        }
        // A loud 660 Hz over a quiet 440 Hz: 660 wins, and 440 is still measurable.
        let mix: Vec<i16> = tone(660.0, 9_000.0, 48_000)
            .iter()
            .zip(tone(440.0, 3_000.0, 48_000))
            .map(|(a, b)| a.saturating_add(b))
            .collect();
        let found = analyze(&mix);
        assert!((found.dominant_hz - 660.0).abs() <= 1.0, "{found:?}");
        assert!((tone_amplitude(&mix, 440.0) - 3_000.0).abs() < 100.0);
    }

    #[test]
    fn silence_has_no_level_and_no_tone() {
        let found = analyze(&[0; 4_800]);
        assert_eq!(found.rms, 0.0);
        assert_eq!(found.dominant_hz, 0.0);
        assert_eq!(analyze(&[]).rms, 0.0);
        assert_eq!(tone_amplitude(&[], 440.0), 0.0);
    }

    #[test]
    fn rms_of_a_sine_is_its_peak_over_root_two() {
        let level = rms(&tone(1_000.0, 10_000.0, 48_000));
        assert!((level - 10_000.0 / 2f64.sqrt()).abs() < 10.0, "{level}");
    }
}
