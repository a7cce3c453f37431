// The voice call as the widget shows it: the pure parts (clock, mic level, timeout, what the
// visitor is told), the call's course through the reducer, and the peer's signaling against a
// stand-in RTCPeerConnection (offer first, early candidates held until the answer, connected
// reported once, the timeout falls back).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CallSignal, ChatEvent, ChatEventKind, ChatStatus, VisitorServerMsg } from "../../shared/bindings/protocol";
import { CALL_TEXT, CONNECT_TIMEOUT_MS, Voice, clock, connectTimeout, endedLine, inCall, level } from "../src/call";
import { initialState, reduce, restore, saved, type Action, type State } from "../src/state";

const op = { id: 5, name: "Anna" };
function ev(seq: number, status: ChatStatus, kind: ChatEventKind): VisitorServerMsg {
  const event: ChatEvent = { chat_id: 7, seq, at: 1_000 + seq, status, kind };
  return { type: "event", event };
}
const welcome: VisitorServerMsg = {
  type: "welcome", protocol: 1, visitor_id: 1, visitor_token: "tok", available: true, chat: null, mail: false,
};
const run = (actions: Action[], s: State = initialState(null)): State => actions.reduce(reduce, s);
const texts = (s: State) => s.entries.map((e) => e.text);

/** A voice chat asked for with the microphone, accepted, its call started as seq 3. */
function voiceCall(): State {
  return run([
    welcome,
    { type: "ui_launcher" },
    { type: "ui_mic" },
    { type: "ui_start", voice: true },
    ev(1, "waiting", { type: "requested", visitor_id: 1, name: null, mode: "voice", page: null }),
    ev(2, "active", { type: "accepted", operator: op }),
    ev(3, "active", { type: "call_started", by: "visitor" }),
  ]);
}

test("the clock shows mm:ss", () => {
  assert.equal(clock(0), "00:00");
  assert.equal(clock(59_999), "00:59");
  assert.equal(clock(61_000), "01:01");
  assert.equal(clock(3_725_000), "62:05");
  assert.equal(clock(-5), "00:00");
});

test("the mic level is 0 for silence and grows with the signal, at most 1", () => {
  assert.equal(level(new Uint8Array(64).fill(128)), 0);
  assert.equal(level([]), 0);
  const quiet = level(Array.from({ length: 64 }, (_, i) => (i % 2 ? 132 : 124)));
  const loud = level(Array.from({ length: 64 }, (_, i) => (i % 2 ? 160 : 96)));
  assert.ok(quiet > 0 && quiet < loud, `${quiet} < ${loud}`);
  assert.equal(level(Array.from({ length: 64 }, (_, i) => (i % 2 ? 255 : 0))), 1);
});

test("the connect timeout comes from data-voice-timeout in seconds, else 15 s", () => {
  assert.equal(connectTimeout("3"), 3000);
  assert.equal(connectTimeout("0.5"), 500);
  assert.equal(connectTimeout(null), CONNECT_TIMEOUT_MS);
  assert.equal(connectTimeout("soon"), CONNECT_TIMEOUT_MS);
  assert.equal(connectTimeout("-1"), CONNECT_TIMEOUT_MS);
});

test("each way a call ends is said plainly; a chat's end says it for both", () => {
  assert.equal(endedLine("media_failed", null), CALL_TEXT.failed);
  assert.equal(endedLine("hangup", "operator"), CALL_TEXT.endedByOperator);
  assert.equal(endedLine("hangup", "visitor"), CALL_TEXT.endedByVisitor);
  assert.equal(endedLine("refused", "visitor"), CALL_TEXT.refused);
  assert.equal(endedLine("chat_ended", null), null);
});

test("voice asks for the microphone first; refused, the dialog says so and stays for Text chat", () => {
  let s = run([welcome, { type: "ui_launcher" }, { type: "ui_mic" }]);
  assert.equal(s.call.phase, "mic");
  assert.equal(s.notice, CALL_TEXT.askMic);
  s = reduce(s, { type: "ui_mic_refused" });
  assert.equal(s.panel, "open");
  assert.equal(s.call.phase, "none");
  assert.equal(s.notice, CALL_TEXT.micRefused);
  // Closing the dialog while the browser asks gives the call up.
  s = run([{ type: "ui_mic" }, { type: "ui_close" }], s);
  assert.equal(s.call.phase, "none");
});

test("a voice chat waits like a text one, then the call connects, mutes, holds and ends", () => {
  let s = run([welcome, { type: "ui_launcher" }, { type: "ui_mic" }, { type: "ui_start", voice: true }]);
  assert.equal(s.call.phase, "waiting");
  s = voiceCall();
  assert.deepEqual(s.call, { phase: "connecting", id: 3, muted: false, peerMuted: false, since: null });
  assert.ok(inCall(s.call));
  s = reduce(s, { type: "ui_call_up", at: 50_000 });
  assert.deepEqual(s.call, { phase: "connected", id: 3, muted: false, peerMuted: false, since: 50_000 });
  // The operator's report changes nothing the visitor sees.
  s = reduce(s, ev(4, "active", { type: "call_connected", call_id: 3 }));
  assert.equal(s.call.since, 50_000);
  s = run([{ type: "ui_mute" }], s);
  assert.equal(s.call.muted, true);
  // The operator mutes (told by a signal of this call; another call's changes nothing).
  s = run([{ type: "ui_peer_mute", id: 2, muted: true }], s);
  assert.equal(s.call.peerMuted, false);
  s = run([{ type: "ui_peer_mute", id: 3, muted: true }], s);
  assert.equal(s.call.peerMuted, true);
  s = run([ev(5, "on_hold", { type: "on_hold", operator: op })], s);
  assert.equal(s.call.phase, "connected", "hold keeps the call");
  s = run([ev(6, "active", { type: "resumed", operator: op }), { type: "ui_mute" }], s);
  assert.equal(s.call.muted, false);
  s = reduce(s, ev(7, "active", { type: "call_ended", call_id: 3, reason: "hangup", by: "operator", duration_ms: 9 }));
  assert.equal(s.call.phase, "none");
  assert.equal(texts(s).at(-1), CALL_TEXT.endedByOperator);
  assert.equal(s.status, "active", "the chat goes on as text");
});

test("ICE that never connects: the bar goes at once, the server's event says why", () => {
  let s = reduce(voiceCall(), { type: "ui_call_down" });
  assert.equal(s.call.phase, "none");
  s = reduce(s, ev(4, "active", { type: "call_ended", call_id: 3, reason: "media_failed", by: "visitor", duration_ms: null }));
  assert.equal(texts(s).at(-1), CALL_TEXT.failed);
  assert.equal(texts(s).filter((t) => t === CALL_TEXT.failed).length, 1);
});

test("End communication ends the call with the chat", () => {
  let s = reduce(voiceCall(), { type: "ui_call_up", at: 1 });
  s = run([
    ev(4, "active", { type: "call_ended", call_id: 3, reason: "chat_ended", by: null, duration_ms: 5 }),
    ev(5, "ended", { type: "ended", reason: "visitor" }),
  ], s);
  assert.equal(s.call.phase, "none");
  assert.deepEqual(texts(s).slice(-1), ["You have ended the chat."]);
});

test("a voice request that ends unanswered, or goes to Leave a message, drops the call", () => {
  const waiting = run([welcome, { type: "ui_launcher" }, { type: "ui_mic" }, { type: "ui_start", voice: true },
    ev(1, "waiting", { type: "requested", visitor_id: 1, name: null, mode: "voice", page: null })]);
  assert.equal(reduce(waiting, ev(2, "ended", { type: "ended", reason: "visitor" })).call.phase, "none");
  assert.equal(reduce(waiting, { type: "ui_leave" }).call.phase, "none");
  const failed = reduce(waiting, { type: "error", client_id: null, error: { code: "no_operator_available", message: "x" } } as Action);
  assert.equal(failed.call.phase, "none");
});

test("the operator's invitation: Accept asks for the microphone, then the call starts", () => {
  let s = run([
    welcome,
    ev(1, "waiting", { type: "requested", visitor_id: 1, name: null, mode: "text", page: null }),
    ev(2, "active", { type: "accepted", operator: op }),
    ev(3, "active", { type: "call_invited", operator: op }),
  ]);
  assert.equal(s.call.phase, "invited");
  s = reduce(s, { type: "ui_mic" });
  assert.equal(s.call.phase, "mic");
  assert.equal(s.notice, null, "the chat window says it in the call bar");
  const refused = reduce(s, { type: "ui_mic_refused" });
  assert.equal(refused.call.phase, "none");
  assert.equal(refused.notice, CALL_TEXT.micRefusedInvite);
  s = reduce(s, ev(4, "active", { type: "call_started", by: "operator" }));
  assert.deepEqual(s.call, { phase: "connecting", id: 4, muted: false, peerMuted: false, since: null });
  // Refused: the server's event ends it.
  const no = reduce(run([ev(3, "active", { type: "call_invited", operator: op })], voiceCallless()),
    ev(4, "active", { type: "call_ended", call_id: 0, reason: "refused", by: "visitor", duration_ms: null }));
  assert.equal(no.call.phase, "none");
  assert.equal(texts(no).at(-1), CALL_TEXT.refused);
});

function voiceCallless(): State {
  return run([
    welcome,
    ev(1, "waiting", { type: "requested", visitor_id: 1, name: null, mode: "text", page: null }),
    ev(2, "active", { type: "accepted", operator: op }),
  ]);
}

test("a reload keeps the call's id, so the widget can say its audio is gone", () => {
  const s = reduce(voiceCall(), { type: "ui_call_up", at: 1 });
  const kept = JSON.parse(JSON.stringify(saved(s)));
  assert.equal(kept.callId, 3);
  const back = restore("tok", kept);
  assert.equal(back.call.phase, "connecting");
  assert.equal(back.call.id, 3);
  assert.equal(restore("tok", { ...kept, callId: undefined }).call.phase, "none");
  assert.equal(restore("tok", { ...kept, status: "ended" }).call.phase, "none");
});

// ---- the peer, against stand-ins for the browser's WebRTC ----

type Handler = ((e: unknown) => void) | null;
class FakePC {
  static last: FakePC;
  localDescription: { sdp: string } | null = null;
  remoteDescription: unknown = null;
  iceConnectionState = "new";
  added: unknown[] = [];
  candidates: unknown[] = [];
  closed = false;
  onicecandidate: Handler = null;
  ontrack: Handler = null;
  oniceconnectionstatechange: Handler = null;
  constructor(public config: unknown) {
    FakePC.last = this;
  }
  addTrack(t: unknown) {
    this.added.push(t);
  }
  async createOffer() {
    return { type: "offer", sdp: "v=0\r\noffer" };
  }
  async createAnswer() {
    return { type: "answer", sdp: "v=0\r\nanswer" };
  }
  async setLocalDescription(d: { sdp: string }) {
    this.localDescription = d;
  }
  async setRemoteDescription(d: unknown) {
    this.remoteDescription = d;
  }
  async addIceCandidate(c: unknown) {
    this.candidates.push(c);
  }
  close() {
    this.closed = true;
  }
  ice(state: string) {
    this.iceConnectionState = state;
    this.oniceconnectionstatechange!(null);
  }
}

function setNavigator(value: unknown) {
  Object.defineProperty(globalThis, "navigator", { value, configurable: true, writable: true });
}

function peer(timeoutMs = 10_000) {
  const g = globalThis as Record<string, unknown>;
  g.RTCPeerConnection = FakePC;
  const track = { enabled: true, stop() {} };
  const stream = { getAudioTracks: () => [track], getTracks: () => [track] };
  setNavigator({ mediaDevices: { getUserMedia: async () => stream } });
  const out: string[] = [];
  const signals: CallSignal[] = [];
  const audio = { muted: false, srcObject: null as unknown, play: async () => {} };
  const voice = new Voice(audio as unknown as HTMLAudioElement, {
    signal: (id, s) => {
      signals.push(s);
      out.push(`signal ${id} ${s.kind}`);
    },
    connected: (id) => out.push(`connected ${id}`),
    failed: (id) => out.push(`failed ${id}`),
  }, timeoutMs);
  return { voice, out, signals, track, audio };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

test("the peer offers with the microphone's track, holds early candidates, reports connected once", async () => {
  const { voice, out, signals, track, audio } = peer();
  (globalThis as Record<string, unknown>).window = {};
  assert.equal(await voice.mic(), true);
  await voice.start(9, [{ urls: ["stun:127.0.0.1:3478"] }]);
  const pc = FakePC.last;
  assert.deepEqual(pc.config, { iceServers: [{ urls: ["stun:127.0.0.1:3478"] }] });
  assert.deepEqual(pc.added, [track]);
  assert.deepEqual(signals[0], { kind: "offer", sdp: "v=0\r\noffer" });
  pc.onicecandidate!({ candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 } });
  pc.onicecandidate!({ candidate: null }); // end of candidates: nothing to send
  assert.deepEqual(signals[1], {
    kind: "candidate",
    candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 },
  });
  assert.equal(signals.length, 2);
  const cand = { candidate: "candidate:2 1 udp 1 127.0.0.1 5001 typ host", sdpMid: "0", sdpMLineIndex: 0 };
  await voice.signal(9, { kind: "candidate", candidate: cand });
  assert.equal(pc.candidates.length, 0, "held until the answer");
  await voice.signal(8, { kind: "answer", sdp: "v=0\r\nold call" });
  assert.equal(pc.remoteDescription, null, "another call's signal is ignored");
  await voice.signal(9, { kind: "answer", sdp: "v=0\r\nanswer" });
  assert.deepEqual(pc.remoteDescription, { type: "answer", sdp: "v=0\r\nanswer" });
  assert.deepEqual(pc.candidates, [cand]);
  pc.ice("checking");
  pc.ice("connected");
  pc.ice("completed");
  assert.deepEqual(out.filter((o) => !o.startsWith("signal")), ["connected 9"]);
  voice.set(true, false);
  assert.equal(track.enabled, false);
  voice.set(false, true);
  assert.equal(track.enabled, true);
  assert.equal(audio.muted, true, "on hold the operator is not heard either");
  voice.stop();
  assert.ok(pc.closed);
  assert.equal(voice.stream, null);
});

test("ICE that fails, or does not connect in time, reports the call failed once", async () => {
  const { voice, out } = peer(20);
  (globalThis as Record<string, unknown>).window = {};
  await voice.mic();
  await voice.start(4, []);
  FakePC.last.ice("failed");
  assert.deepEqual(out.filter((o) => !o.startsWith("signal")), ["failed 4"]);
  assert.ok(FakePC.last.closed);
  await voice.start(5, []);
  await new Promise((r) => setTimeout(r, 40));
  await tick();
  assert.deepEqual(out.filter((o) => !o.startsWith("signal")), ["failed 4", "failed 5"]);
  assert.equal(voice.id, null);
});

test("a microphone the browser refuses gives false", async () => {
  const { voice } = peer();
  setNavigator({
    mediaDevices: { getUserMedia: async () => { throw new Error("NotAllowedError"); } },
  });
  assert.equal(await voice.mic(), false);
  assert.equal(voice.stream, null);
});
