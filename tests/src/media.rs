//! Headless Chromium as a visitor who talks: a fake microphone that plays a tone, granted
//! without asking, and the widget put on a page with its media APIs wrapped so a test can look
//! at the widget's microphone (`window.__mics`) and peers (`window.__pcs`), or refuse the
//! microphone.

use serde_json::json;

use crate::webdriver::Browser;
use crate::{TempDir, TestServer};

/// Chromium's switches for a fake microphone and camera, granted without asking.
pub const MEDIA_ARGS: [&str; 3] = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
];

/// The visitor's microphone plays this tone (Hz).
pub const VISITOR_HZ: f64 = 440.0;

/// Puts the widget on the page with its voice timeout, after wrapping the browser's media
/// APIs so the test can see the widget's microphone (`__mics`) and peers (`__pcs`), or
/// refusing the microphone. Arguments: script URL, timeout in seconds, refuse.
pub const PUT_WIDGET: &str = r#"
const [src, timeout, refuse] = arguments;
const vp = document.createElement('meta');
vp.name = 'viewport';
vp.content = 'width=device-width, initial-scale=1';
document.head.appendChild(vp);
window.__mics = [];
const md = navigator.mediaDevices;
const gum = md.getUserMedia.bind(md);
md.getUserMedia = refuse
  ? async () => { throw new DOMException('Permission denied', 'NotAllowedError'); }
  : async (c) => {
      // What the widget asked for is kept; the audio processing is turned off, or the test's
      // steady tone is soon taken for noise and suppressed (and Mute could not be told apart).
      window.__asked = c;
      const raw = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
      const s = await gum({ ...c, audio: c.audio === true ? raw : c.audio });
      window.__mics.push(s);
      return s;
    };
const P = window.RTCPeerConnection;
window.__PC = P;
window.__pcs = [];
window.RTCPeerConnection = function (c) { const pc = new P(c); window.__pcs.push(pc); return pc; };
window.RTCPeerConnection.prototype = P.prototype;
const s = document.createElement('script');
s.src = src;
s.setAttribute('data-voice-timeout', String(timeout));
document.body.appendChild(s);
return true;
"#;

/// A WAV file (mono, 16-bit, 48 kHz, 1 s, looped by Chromium) of a tone at half scale.
pub fn tone_wav(hz: f64) -> Vec<u8> {
    let rate = 48_000u32;
    let samples: Vec<i16> = (0..rate)
        .map(|i| {
            let t = f64::from(i) / f64::from(rate);
            (0.5 * f64::from(i16::MAX) * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
        })
        .collect();
    let data = (samples.len() * 2) as u32;
    let mut w = Vec::with_capacity(44 + data as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

/// Chromium with a fake microphone that plays VISITOR_HZ, granted without asking; the
/// directory holds its WAV and must outlive it.
pub async fn media_browser(phone: bool) -> (Browser, TempDir) {
    let dir = TempDir::new("sb-voice");
    let wav = dir.join("tone.wav");
    std::fs::write(&wav, tone_wav(VISITOR_HZ)).unwrap();
    let file = format!("--use-file-for-fake-audio-capture={}", wav.display());
    let mut args = MEDIA_ARGS.to_vec();
    args.push(&file);
    let (w, h) = if phone { (390, 844) } else { (1280, 900) };
    (Browser::launch_with_args(w, h, phone, &args).await, dir)
}

/// Opens a page of the server and puts the widget on it.
pub async fn put_widget(b: &Browser, server: &TestServer, timeout_secs: u32, refuse_mic: bool) {
    b.goto(&format!("{}/healthz", server.base)).await;
    let src = format!("{}/widget.js", server.base);
    b.js(PUT_WIDGET, json!([src, timeout_secs, refuse_mic]))
        .await;
    // Up: its launcher is there (shown, or behind a chat it restored).
    b.wait("the widget", WIDGET_UP, json!([])).await;
}

/// Whether the widget has drawn its launcher with the availability it was told.
const WIDGET_UP: &str = r#"
const root = document.querySelector('#switchboard-widget')?.shadowRoot;
return !!root && root.textContent.includes('Live Help Available');
"#;
