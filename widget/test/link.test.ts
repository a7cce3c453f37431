import assert from "node:assert/strict";
import { test } from "node:test";
import { ANSWER_MS, OPEN_MS, PING_MS, beat } from "../src/link";

const t0 = 1_000_000;

test("a connection that brings no welcome is given up after OPEN_MS", () => {
  const b = { opened: t0, heard: 0, pinged: null, ready: false };
  assert.equal(beat(t0 + OPEN_MS - 1, b), "wait");
  assert.equal(beat(t0 + OPEN_MS, b), "dead");
});

test("a quiet connection is pinged, and an answer of any kind keeps it", () => {
  const heard = t0;
  assert.equal(beat(heard + PING_MS - 1, { opened: t0, heard, pinged: null, ready: true }), "wait");
  assert.equal(beat(heard + PING_MS, { opened: t0, heard, pinged: null, ready: true }), "ping");
  const pinged = heard + PING_MS;
  assert.equal(beat(pinged + ANSWER_MS - 1, { opened: t0, heard, pinged, ready: true }), "wait");
  // Answered: the next ping is due PING_MS after the answer.
  const answered = pinged + 200;
  assert.equal(beat(answered + PING_MS - 1, { opened: t0, heard: answered, pinged, ready: true }), "wait");
  assert.equal(beat(answered + PING_MS, { opened: t0, heard: answered, pinged, ready: true }), "ping");
});

test("a ping not answered within ANSWER_MS means the connection stalled", () => {
  const pinged = t0 + PING_MS;
  assert.equal(beat(pinged + ANSWER_MS, { opened: t0, heard: t0, pinged, ready: true }), "dead");
});

test("a stall is noticed well within the old 60 s dead timer", () => {
  // Worst case: the last frame came just after a look; each look is a second apart.
  let now = t0;
  const b = { opened: t0, heard: t0, pinged: null as number | null, ready: true };
  while (beat(now, b) !== "dead") {
    if (beat(now, b) === "ping") b.pinged = now;
    now += 1_000;
  }
  assert.ok(now - t0 <= 20_000, `noticed after ${now - t0} ms`);
});
