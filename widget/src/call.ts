// The visitor's side of a voice call, as the widget shows it: a pure part (where the call
// stands, the clock, the mic level) that state.ts folds into its reducer, and the peer
// (`Voice`: the microphone, RTCPeerConnection, the remote audio), whose side effects main.ts
// drives. The visitor's browser always makes the offer; the operator's app answers
// (docs/protocol.md, "6a. Voice calls"). Audio never passes through the server.

import type { CallEndReason, CallParty, CallSignal, IceServer } from "../../shared/bindings/protocol";

/**
 * Where the visitor's call stands:
 * - `none`: no call (or it ended: the chat goes on as text);
 * - `mic`: the browser is asking for the microphone (for a voice request or an invitation);
 * - `waiting`: a voice chat was asked for, with the microphone, and nobody has taken it yet;
 * - `invited`: the operator invites the visitor to talk (Accept / Refuse);
 * - `connecting`: the call started (`id` is its id), the peers negotiate;
 * - `connected`: this browser's audio connected (`since`: when, for the clock).
 */
export type CallPhase = "none" | "mic" | "waiting" | "invited" | "connecting" | "connected";

export interface Call {
  phase: CallPhase;
  /** The call's id (its `call_started` event's seq), once it started. */
  id: number | null;
  /** The visitor muted the microphone. */
  muted: boolean;
  /** The operator muted theirs (the visitor is told, so silence is not taken for a fault). */
  peerMuted: boolean;
  /** When the audio connected (local ms), for the call's duration. */
  since: number | null;
}

export const NO_CALL: Call = { phase: "none", id: null, muted: false, peerMuted: false, since: null };

/** A call the visitor is in or about to be: the call bar shows. */
export const inCall = (c: Call): boolean => c.phase === "connecting" || c.phase === "connected";

/** A call that needs the microphone open (asked for, waiting, or in progress). */
export const needsMic = (c: Call): boolean => c.phase !== "none" && c.phase !== "invited";

/** What the visitor is told when a call ends; null when nothing needs saying. */
export function endedLine(reason: CallEndReason, by: CallParty | null): string | null {
  switch (reason) {
    case "media_failed":
      return CALL_TEXT.failed;
    case "refused":
      return CALL_TEXT.refused;
    case "hangup":
      return by === "operator" ? CALL_TEXT.endedByOperator : CALL_TEXT.endedByVisitor;
    default:
      return null; // the chat ended: its own line says so
  }
}

export const CALL_TEXT = {
  askMic: "Please allow the use of your microphone for the voice chat.",
  micRefused:
    "Voice chat needs your microphone, and it could not be used (refused, or none found). Please use Text chat.",
  micRefusedInvite: "Your microphone could not be used (refused, or none found). The chat goes on as text.",
  invited: "The operator invites you to a voice chat.",
  connecting: "Connecting the voice chat…",
  voice: "Voice chat",
  onHold: "On hold",
  peerMuted: "Voice chat: the operator's microphone is muted",
  failed: "The voice connection could not be made. The chat goes on as text.",
  refused: "You have refused the voice chat. The chat goes on as text.",
  endedByOperator: "The operator has ended the voice chat. The chat goes on as text.",
  endedByVisitor: "You have ended the voice chat. The chat goes on as text.",
} as const;

/** The call's duration as mm:ss (minutes go past 59 rather than adding hours). */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => (n < 10 ? "0" : "") + n;
  return `${two(Math.floor(s / 60))}:${two(s % 60)}`;
}

/**
 * The microphone's level from an analyser's time-domain bytes (128 = silence): the RMS,
 * scaled so that normal speech fills most of the meter, at most 1.
 */
export function level(samples: ArrayLike<number>): number {
  if (!samples.length) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = (samples[i] - 128) / 128;
    sum += v * v;
  }
  return Math.min(1, Math.sqrt(sum / samples.length) * 4);
}

/** How long ICE may take to connect before the call falls back to text (ms). */
export const CONNECT_TIMEOUT_MS = 15_000;

/** The timeout from the script tag's `data-voice-timeout` (seconds), else the default. */
export function connectTimeout(attr: string | null): number {
  const secs = Number(attr);
  return attr && secs > 0 ? secs * 1000 : CONNECT_TIMEOUT_MS;
}

/** What the peer tells main.ts. */
export interface PeerOut {
  signal(callId: number, signal: CallSignal): void;
  connected(callId: number): void;
  failed(callId: number): void;
}

/**
 * The browser's half of a call: the microphone stream (kept from the moment it is granted),
 * one RTCPeerConnection for the current call, the remote audio and the mic level.
 */
export class Voice {
  stream: MediaStream | null = null;
  /** The call this peer serves. */
  id: number | null = null;
  private pc: RTCPeerConnection | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private up = false;
  /** Candidates that came before the answer. */
  private early: RTCIceCandidateInit[] = [];
  private ctx: AudioContext | null = null;
  private analyser: AnalyserNode | null = null;
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);

  constructor(
    private readonly audio: HTMLAudioElement,
    private readonly out: PeerOut,
    private readonly timeoutMs: number,
  ) {}

  /** Opens the microphone (the browser may ask); false when refused or missing. */
  async mic(): Promise<boolean> {
    if (this.stream) return true;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      return false;
    }
    try {
      const AC = window.AudioContext || (window as unknown as { webkitAudioContext: typeof AudioContext }).webkitAudioContext;
      this.ctx = new AC();
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 256;
      this.ctx.createMediaStreamSource(this.stream).connect(this.analyser);
      this.ctx.resume().catch(() => {});
    } catch {
      // no meter, the call still works
    }
    return true;
  }

  /** The mic level now, 0 to 1. */
  level(): number {
    if (!this.analyser) return 0;
    this.analyser.getByteTimeDomainData(this.buf);
    return level(this.buf);
  }

  /** The call is ready: make the peer and the offer. */
  async start(id: number, iceServers: IceServer[]): Promise<void> {
    this.close();
    const stream = this.stream;
    if (!stream) {
      this.out.failed(id); // no microphone any more: text goes on
      return;
    }
    this.id = id;
    this.up = false;
    const pc = (this.pc = new RTCPeerConnection({ iceServers }));
    for (const t of stream.getAudioTracks()) pc.addTrack(t, stream);
    pc.ontrack = (e) => {
      this.audio.srcObject = e.streams[0] || new MediaStream([e.track]);
      this.audio.play().catch(() => {});
    };
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      if (c && c.candidate) {
        this.out.signal(id, {
          kind: "candidate",
          candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex },
        });
      }
    };
    pc.oniceconnectionstatechange = () => {
      const s = pc.iceConnectionState;
      if ((s === "connected" || s === "completed") && !this.up) {
        this.up = true;
        clearTimeout(this.timer);
        this.out.connected(id);
      } else if (s === "failed") this.fail();
    };
    this.timer = setTimeout(() => this.up || this.fail(), this.timeoutMs);
    try {
      await pc.setLocalDescription(await pc.createOffer());
      if (this.pc === pc) this.out.signal(id, { kind: "offer", sdp: pc.localDescription!.sdp });
    } catch {
      this.fail();
    }
  }

  /** A signal from the operator's peer. */
  async signal(id: number, s: CallSignal): Promise<void> {
    const pc = this.pc;
    if (!pc || id !== this.id) return;
    try {
      if (s.kind === "answer" || s.kind === "offer") {
        await pc.setRemoteDescription({ type: s.kind, sdp: s.sdp });
        if (s.kind === "offer") {
          // The operator's device changed networks: it restarts ICE.
          await pc.setLocalDescription(await pc.createAnswer());
          this.out.signal(id, { kind: "answer", sdp: pc.localDescription!.sdp });
        }
        for (const c of this.early.splice(0)) await pc.addIceCandidate(c);
      } else if (s.kind === "candidate") {
        const c = s.candidate;
        const init = { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
        if (pc.remoteDescription) await pc.addIceCandidate(init);
        else this.early.push(init);
      }
    } catch {
      // a bad candidate is skipped; a bad answer shows as ICE never connecting
    }
  }

  /** Mutes what the visitor sends, and what they hear (on hold). */
  set(muteSend: boolean, muteHear: boolean): void {
    if (this.stream) for (const t of this.stream.getAudioTracks()) t.enabled = !muteSend;
    this.audio.muted = muteHear;
  }

  private fail(): void {
    const id = this.id;
    this.close();
    if (id !== null) this.out.failed(id);
  }

  /** Ends the peer (the microphone stays open for a new call; see `stop`). */
  close(): void {
    clearTimeout(this.timer);
    if (this.pc) {
      this.pc.onicecandidate = this.pc.ontrack = this.pc.oniceconnectionstatechange = null;
      this.pc.close();
    }
    this.pc = null;
    this.id = null;
    this.early = [];
    this.audio.srcObject = null;
  }

  /** Ends the peer and closes the microphone. */
  stop(): void {
    this.close();
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = this.analyser = null;
  }
}
