// Sounds made with an oscillator (no audio files): a two-tone chime for incoming chat requests,
// a single soft ping for a visitor's new message. Each sound played is also listed in
// `window.__switchboardSounds`, so tests can tell what the operator would have heard.
let ctx: AudioContext | null = null;

declare global {
  interface Window {
    __switchboardSounds?: string[];
  }
}

function play(name: string, tones: number[], gainPeak: number): void {
  (window.__switchboardSounds ??= []).push(name);
  try {
    const Ctor: typeof AudioContext | undefined =
      window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctor) return;
    ctx = ctx ?? new Ctor();
    if (ctx.state === "suspended") void ctx.resume();
    const start = ctx.currentTime + 0.01;
    tones.forEach((freq, i) => {
      const osc = ctx!.createOscillator();
      const gain = ctx!.createGain();
      const t = start + i * 0.18;
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(gainPeak, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.16);
      osc.connect(gain).connect(ctx!.destination);
      osc.start(t);
      osc.stop(t + 0.17);
    });
  } catch {
    // no sound is better than a broken app
  }
}

/** An incoming chat request. */
export function chime(): void {
  play("request", [880, 660], 0.12);
}

/** A visitor's new message in a chat the operator is not looking at. */
export function ping(): void {
  play("message", [990], 0.06);
}
