// An operator's invitation as the widget shows it: it pops up once as an incoming chat request
// with the operator's words; Start Chat leads to "Open chat with operator", and the accepted
// chat opens; closing or any end takes it away; a later page keeps it behind the launcher; a
// reload keeps it.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatEvent, ChatEventKind, ChatStatus, ChatSummary, VisitorServerMsg } from "../../shared/bindings/protocol";
import { initialState, reduce, restore, saved, type Action, type State } from "../src/state";

const op = { id: 5, name: "Anna <b>" };
function ev(seq: number, status: ChatStatus, kind: ChatEventKind): VisitorServerMsg {
  const event: ChatEvent = { chat_id: 7, seq, at: 1_000 + seq, status, kind };
  return { type: "event", event };
}
const welcome = (chat: ChatSummary | null = null): VisitorServerMsg => ({
  type: "welcome", protocol: 1, visitor_id: 1, visitor_token: "tok", available: true, chat, mail: false,
});
const run = (actions: Action[], s: State = initialState(null)): State => actions.reduce(reduce, s);
const invited = ev(1, "invited", { type: "invited", operator: op, text: "Hello! I'm Anna." });

test("an invitation pops up once; Start Chat asks text or voice; the accepted chat opens", () => {
  let s = run([welcome(), invited]);
  assert.equal(s.panel, "invite");
  assert.equal(s.open, true);
  assert.deepEqual(s.invite, { operator: "Anna <b>", text: "Hello! I'm Anna." });
  s = run([{ type: "ui_invite_start" }], s);
  assert.equal(s.panel, "open");
  s = run([{ type: "ui_start" }, ev(2, "active", { type: "accepted", operator: op })], s);
  assert.equal(s.invite, null);
  assert.equal(s.panel, "chat");
  assert.equal(s.open, true);
  assert.equal(s.status, "active");
});

test("closing it, or the operator taking it back, takes the invitation away", () => {
  for (const reason of ["declined", "operator"] as const) {
    let s = run([welcome(), invited, { type: "ui_close" }]);
    assert.equal(s.open, false);
    // The launcher brings it back while it is open.
    s = run([{ type: "ui_launcher" }], s);
    assert.equal(s.panel, "invite");
    s = run([ev(2, "ended", { type: "ended", reason })], s);
    assert.equal(s.invite, null);
    assert.equal(s.panel, "none");
    assert.equal(s.open, false);
    assert.equal(s.entries.length, 0, "no chat lines for an invitation");
    // The launcher now asks for a chat as usual.
    assert.equal(run([{ type: "ui_launcher" }], s).panel, "open");
  }
});

test("on the next page an invitation already shown waits behind the launcher", () => {
  const chat: ChatSummary = {
    id: 7, visitor_id: 1, visitor_name: null, mode: "text", status: "invited", page: null,
    operator: op, created_at: 1, accepted_at: null, ended_at: null, last_seq: 1,
  };
  let s = run([welcome(chat), invited]);
  assert.equal(s.open, false);
  assert.equal(s.invite?.text, "Hello! I'm Anna.");
  s = run([{ type: "ui_launcher" }], s);
  assert.equal(s.panel, "invite");
  assert.equal(s.open, true);
});

test("a reload keeps the invitation as it was", () => {
  const s = run([welcome(), invited]);
  const back = restore("tok", JSON.parse(JSON.stringify(saved(s))));
  assert.equal(back.panel, "invite");
  assert.equal(back.open, true);
  assert.deepEqual(back.invite, s.invite);
  // Something unsound kept is not shown.
  const bad = { ...saved(s), invite: { operator: 5, text: null } };
  assert.notEqual(restore("tok", bad).panel, "invite");
});
