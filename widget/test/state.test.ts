import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatEvent, ChatEventKind, ChatStatus, ChatSummary, VisitorServerMsg } from "../../shared/bindings/protocol";
import {
  TEXT, chatView, firstLine, hasChat, initialState, linkText, reduce, restore, saved, unread, unsent,
  type Action, type State,
} from "../src/state";

const op = { id: 5, name: "Anna" };

function ev(chat_id: number, seq: number, status: ChatStatus, kind: ChatEventKind): VisitorServerMsg {
  const event: ChatEvent = { chat_id, seq, at: 1_000 + seq, status, kind };
  return { type: "event", event };
}
const requested = (chat: number, seq = 1) =>
  ev(chat, seq, "waiting", { type: "requested", visitor_id: 1, name: null, mode: "text", page: null });
const accepted = (chat: number, seq: number) => ev(chat, seq, "active", { type: "accepted", operator: op });
const opMsg = (chat: number, seq: number, text: string) =>
  ev(chat, seq, "active", { type: "message", author: { kind: "operator", id: 5, name: "Anna" }, text, client_id: null });
const myMsg = (chat: number, seq: number, text: string, client_id: string | null) =>
  ev(chat, seq, "active", { type: "message", author: { kind: "visitor" }, text, client_id });
const ended = (chat: number, seq: number, reason: "visitor" | "operator" | "no_operator", status: ChatStatus = "ended") =>
  ev(chat, seq, status, { type: "ended", reason });

function summary(id: number, status: ChatStatus, last_seq: number): ChatSummary {
  return {
    id, visitor_id: 1, visitor_name: null, mode: "text", status, page: null,
    operator: status === "waiting" ? null : op, created_at: 1, accepted_at: null, ended_at: null, last_seq,
  };
}
function welcome(chat: ChatSummary | null, available = true): VisitorServerMsg {
  return { type: "welcome", protocol: 1, visitor_id: 1, visitor_token: "tok", available, chat, mail: false };
}
const run = (actions: Action[], s: State = initialState(null)): State => actions.reduce(reduce, s);

test("welcome stores the token and availability", () => {
  const s = run([welcome(null, true)]);
  assert.equal(s.token, "tok");
  assert.equal(s.available, true);
  assert.equal(s.connected, true);
  assert.equal(run([welcome(null), { type: "availability", available: false }]).available, false);
});

test("launcher opens the dialog when available, the message form when not", () => {
  const on = run([welcome(null, true), { type: "ui_launcher" }]);
  assert.equal(on.panel, "open");
  assert.equal(on.open, true);
  const off = run([welcome(null, false), { type: "ui_launcher" }]);
  assert.equal(off.panel, "leave");
  assert.equal(off.leaveIntro, null);
});

test("a chat goes from routing to the chat window, with the queue position", () => {
  let s = run([welcome(null), { type: "ui_launcher" }, { type: "ui_start" }]);
  assert.equal(s.panel, "chat");
  assert.equal(chatView(s), "routing");
  s = run([requested(7), { type: "queue_position", chat_id: 7, position: 2 }], s);
  assert.equal(s.chatId, 7);
  assert.equal(s.status, "waiting");
  assert.equal(s.position, 2);
  assert.equal(chatView(s), "routing");
  s = run([accepted(7, 2)], s);
  assert.equal(chatView(s), "chat");
  assert.equal(s.operator, "Anna");
  assert.equal(s.lastSeq, 2);
  assert.equal(s.open, true);
});

test("queued status keeps the routing panel; leaving a message ends nothing locally", () => {
  let s = run([welcome(null), { type: "ui_start" }, requested(3), ev(3, 2, "queued", { type: "queued", operator: op })]);
  assert.equal(s.status, "queued");
  assert.equal(chatView(s), "routing");
  s = run([{ type: "ui_leave" }, ended(3, 3, "visitor", "missed")], s);
  assert.equal(s.panel, "leave");
  assert.equal(s.open, true);
  assert.equal(hasChat(s), false);
});

test("no operator: the message form opens at once", () => {
  const s = run([welcome(null), { type: "ui_start" }, requested(4), ended(4, 2, "no_operator")]);
  assert.equal(s.panel, "leave");
  assert.equal(s.leaveIntro, TEXT.noOperator);
  assert.equal(s.open, true);
  // The launcher then starts afresh.
  assert.equal(run([{ type: "ui_close" }, { type: "ui_launcher" }], s).panel, "open");
});

test("cancelling while routing returns to the launcher", () => {
  const s = run([welcome(null), { type: "ui_start" }, requested(4), ended(4, 2, "visitor", "missed")]);
  assert.equal(s.panel, "none");
  assert.equal(s.open, false);
  assert.equal(hasChat(s), false);
});

test("a visitor message is shown once: pending, then acked, then echoed", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_send", clientId: "c1", text: "hi" }]);
  assert.equal(s.entries.length, 1);
  assert.equal(s.entries[0].state, "pending");
  assert.deepEqual(unsent(s).map((e) => e.clientId), ["c1"]);
  s = run([{ type: "ack", client_id: "c1", seq: 3 }], s);
  assert.equal(s.entries[0].state, "sent");
  assert.deepEqual(unsent(s), []);
  s = run([myMsg(1, 3, "hi", "c1")], s);
  assert.equal(s.entries.length, 1);
  // Echo before ack works the same way.
  s = run([{ type: "ui_send", clientId: "c2", text: "again" }, myMsg(1, 4, "again", "c2"), { type: "ack", client_id: "c2", seq: 4 }], s);
  assert.deepEqual(s.entries.map((e) => [e.text, e.state]), [["hi", "sent"], ["again", "sent"]]);
});

test("replayed events are applied once", () => {
  const events = [requested(1), accepted(1, 2), opMsg(1, 3, "Hello"), myMsg(1, 4, "Hi", "x")];
  const s = run([welcome(summary(1, "active", 4)), ...events, ...events]);
  assert.deepEqual(s.entries.map((e) => e.text), ["Hello", "Hi"]);
  assert.equal(s.lastSeq, 4);
});

test("a reloaded page gets its open chat back with its history", () => {
  const s = run([welcome(summary(9, "active", 3)), requested(9), accepted(9, 2), opMsg(9, 3, "How can I help?")]);
  assert.equal(s.panel, "chat");
  assert.equal(s.open, true);
  assert.equal(chatView(s), "chat");
  assert.equal(s.operator, "Anna");
  assert.deepEqual(s.entries.map((e) => [e.who, e.text]), [["operator", "How can I help?"]]);
});

test("replaying history after a reload does not pass through the routing panel", () => {
  let s = run([welcome(summary(9, "on_hold", 4))]);
  const views: string[] = [];
  for (const f of [requested(9), accepted(9, 2), opMsg(9, 3, "One moment"), ev(9, 4, "on_hold", { type: "on_hold", operator: op })]) {
    s = reduce(s, f);
    views.push(`${chatView(s)}/${s.status}`);
  }
  assert.deepEqual(views, ["chat/on_hold", "chat/on_hold", "chat/on_hold", "chat/on_hold"]);
  // A reconnect whose replay brings an acceptance moves on only at the last event.
  let r = run([welcome(null), requested(2), { type: "ui_disconnected" }, welcome(summary(2, "active", 3))]);
  assert.equal(chatView(r), "routing");
  r = run([ev(2, 2, "queued", { type: "queued", operator: op })], r);
  assert.equal(r.status, "waiting");
  r = run([accepted(2, 3)], r);
  assert.equal(chatView(r), "chat");
  assert.equal(r.open, true);
});

test("a reloaded page shows the launcher, not an old ended chat", () => {
  const s = run([welcome(summary(9, "ended", 4)), requested(9), accepted(9, 2), opMsg(9, 3, "Bye"), ended(9, 4, "operator")]);
  assert.equal(s.open, false);
  assert.equal(s.entries.length, 0);
  assert.equal(hasChat(s), false);
  assert.equal(run([{ type: "ui_launcher" }], s).panel, "open");
});

test("hold, resume and end lines; the ended chat stays until Close", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2)]);
  s = run([ev(1, 3, "on_hold", { type: "on_hold", operator: op })], s);
  assert.equal(s.status, "on_hold");
  assert.equal(chatView(s), "chat");
  s = run([ev(1, 4, "active", { type: "resumed", operator: op }), ended(1, 5, "operator")], s);
  assert.deepEqual(s.entries.map((e) => e.text), [TEXT.onHold, TEXT.resumed, TEXT.endedByOperator]);
  assert.equal(chatView(s), "chat");
  assert.equal(s.panel, "chat");
  s = run([{ type: "ui_close" }], s);
  assert.equal(s.panel, "none");
  assert.equal(s.open, false);
  // A later event of the closed chat changes nothing; a new chat starts afresh.
  assert.deepEqual(run([ended(1, 6, "visitor")], s), s);
  s = run([{ type: "ui_start" }, requested(2)], s);
  assert.equal(s.chatId, 2);
  assert.equal(s.entries.length, 0);
  assert.equal(s.lastSeq, 1);
});

test("visitor ending an accepted chat says so", () => {
  const s = run([welcome(null), requested(1), accepted(1, 2), ended(1, 3, "visitor")]);
  assert.equal(s.entries.at(-1)!.text, TEXT.endedByVisitor);
  assert.equal(chatView(s), "chat");
});

test("system-authored messages are system lines", () => {
  const s = run([welcome(null), requested(1), accepted(1, 2),
    ev(1, 3, "active", { type: "message", author: { kind: "system" }, text: "Note", client_id: null })]);
  assert.equal(s.entries[0].who, "system");
});

test("an error for a message marks it failed and is not retried", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_send", clientId: "c1", text: "x" }]);
  s = run([{ type: "error", client_id: "c1", error: { code: "too_large", message: "Too long." } }], s);
  assert.equal(s.entries[0].state, "failed");
  assert.equal(s.notice, "Too long.");
  assert.deepEqual(unsent(s), []);
});

test("a message the server rate-limits stays pending and says please wait", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_send", clientId: "c1", text: "x" }]);
  s = run([{ type: "error", client_id: "c1",
    error: { code: "rate_limited", message: "too many requests", retry_after_secs: 2 } }], s);
  assert.equal(s.entries[0].state, "pending");
  assert.equal(s.notice, TEXT.pleaseWait);
  assert.deepEqual(unsent(s).map((e) => e.clientId), ["c1"]);
});

test("a rate-limited start_chat goes back to the dialog saying please wait", () => {
  const s = run([welcome(null), { type: "ui_launcher" }, { type: "ui_start" },
    { type: "error", client_id: null, error: { code: "rate_limited", message: "x", retry_after_secs: 20 } }]);
  assert.equal(s.panel, "open");
  assert.equal(s.notice, TEXT.pleaseWait);
});

test("a failed start_chat goes back to the dialog with the notice", () => {
  const s = run([welcome(null), { type: "ui_launcher" }, { type: "ui_start" },
    { type: "error", client_id: null, error: { code: "illegal_transition", message: "Nope." } }]);
  assert.equal(s.panel, "open");
  assert.equal(s.notice, "Nope.");
  const none = run([welcome(null), { type: "ui_start" },
    { type: "error", client_id: null, error: { code: "no_operator_available", message: "x" } }]);
  assert.equal(none.panel, "leave");
  assert.equal(none.leaveIntro, TEXT.noOperator);
});

test("an unknown token is dropped", () => {
  const s = run([{ type: "error", client_id: null, error: { code: "unauthorized", message: "x" } }], initialState("old"));
  assert.equal(s.token, null);
});

test("a last_seq that belonged to another chat asks for a resync", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), ended(1, 3, "visitor"), { type: "ui_close" }]);
  assert.equal(s.lastSeq, 3);
  // Reconnect: meanwhile chat 2 was opened elsewhere; its events after seq 3 must not be trusted.
  s = run([{ type: "ui_disconnected" }, welcome(summary(2, "active", 5)), opMsg(2, 4, "late")], s);
  assert.equal(s.resync, true);
  assert.equal(s.lastSeq, null);
  assert.equal(s.entries.length, 0);
  s = run([welcome(summary(2, "active", 5)), requested(2), accepted(2, 2), opMsg(2, 3, "a"), opMsg(2, 4, "b")], s);
  assert.equal(s.resync, false);
  assert.deepEqual(s.entries.map((e) => e.text), ["a", "b"]);
  assert.equal(s.panel, "chat");
});

test("minimize and reopen keep the chat", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_minimize" }]);
  assert.equal(s.open, false);
  s = run([{ type: "ui_launcher" }], s);
  assert.equal(s.open, true);
  assert.equal(s.panel, "chat");
});

test("leave a message: sent state", () => {
  const s = run([welcome(null, false), { type: "ui_launcher" }, { type: "ui_left" }]);
  assert.equal(s.leaveSent, true);
  assert.equal(run([{ type: "ui_close" }, { type: "ui_launcher" }], s).leaveSent, false);
});

test("a reply to a minimized chat waits as unread until the chat is opened", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), opMsg(1, 3, "Hello")]);
  assert.deepEqual(unread(s), [], "seen: the chat is open");
  s = run([{ type: "ui_minimize" }, opMsg(1, 4, "\n  Your bike is ready.\nCome and get it")], s);
  assert.deepEqual(unread(s).map((e) => [e.name, firstLine(e.text)]), [["Anna", "Your bike is ready."]]);
  s = run([ev(1, 5, "on_hold", { type: "on_hold", operator: op }), opMsg(1, 6, "Back soon")], s);
  assert.deepEqual(unread(s).map((e) => e.text), ["\n  Your bike is ready.\nCome and get it", TEXT.onHold, "Back soon"]);
  s = run([{ type: "ui_launcher" }], s);
  assert.equal(s.open, true);
  assert.equal(s.panel, "chat");
  assert.deepEqual(unread(s), []);
  assert.deepEqual(s.entries.map((e) => e.text).slice(-2), [TEXT.onHold, "Back soon"], "the chat shows them");
});

test("the visitor's own messages and lines seen in the open chat are never unread", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_minimize" }]);
  s = run([{ type: "ui_send", clientId: "c1", text: "typed before" }, myMsg(1, 3, "typed before", "c1"), myMsg(1, 4, "from another tab", null)], s);
  assert.deepEqual(unread(s), []);
  s = run([{ type: "ui_launcher" }, opMsg(1, 5, "Seen")], s);
  assert.deepEqual(unread(s), []);
});

test("a chat closed with ui_close counts replies too; events replayed after a reconnect count", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_close" }]);
  assert.equal(s.open, false);
  s = run([{ type: "ui_disconnected" }, welcome(summary(1, "active", 4)), opMsg(1, 3, "While you were away"), ended(1, 4, "operator")], s);
  assert.deepEqual(unread(s).map((e) => e.text), ["While you were away", TEXT.endedByOperator]);
  // Closing the finished chat from the launcher forgets it, and its unread lines.
  s = run([{ type: "ui_launcher" }, { type: "ui_close" }], s);
  assert.deepEqual(unread(s), []);
  assert.deepEqual(unread(run([ended(1, 5, "visitor")], s)), []);
});

test("a new chat starts with nothing unread", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_minimize" }, opMsg(1, 3, "One")]);
  assert.equal(unread(s).length, 1);
  s = run([ended(1, 4, "operator"), { type: "ui_launcher" }, { type: "ui_close" }, { type: "ui_start" }, requested(2), { type: "ui_minimize" }], s);
  assert.deepEqual(unread(s), []);
  s = run([accepted(2, 2), { type: "ui_minimize" }, opMsg(2, 3, "Two")], s);
  assert.deepEqual(unread(s).map((e) => e.text), ["Two"]);
});

test("the launcher shows a message's first line with text, cut when long", () => {
  assert.equal(firstLine("one\ntwo"), "one");
  assert.equal(firstLine("\r\n   \n  padded  \nrest"), "padded");
  assert.equal(firstLine(""), "");
  const long = "🚲".repeat(200);
  assert.equal(firstLine(long), "🚲".repeat(119) + "…");
  assert.equal(firstLine("🚲".repeat(120)), "🚲".repeat(120));
});

test("until the server answers, the widget is connecting, never not available", () => {
  const s = initialState(null);
  assert.equal(linkText(s), TEXT.connecting);
  assert.equal(s.everConnected, false);
  // The visitor may ask already: the dialog opens, not the message form.
  const asked = run([{ type: "ui_launcher" }], s);
  assert.equal(asked.panel, "open");
  assert.equal(linkText(run([{ type: "ui_start" }], asked)), TEXT.connecting);
  // A first connection that fails is still connecting.
  assert.equal(linkText(run([{ type: "ui_disconnected" }], s)), TEXT.connecting);
  const on = run([welcome(null, true)], s);
  assert.equal(linkText(on), null);
  assert.equal(on.relinked, false, "a first connection is no reconnection");
  // Once the server said nobody can answer, the launcher offers the message form.
  assert.equal(run([welcome(null, false), { type: "ui_launcher" }], s).panel, "leave");
});

test("a dropped connection is reconnecting, then connected for a moment", () => {
  let s = run([welcome(null, true), requested(1), accepted(1, 2), { type: "ui_disconnected" }]);
  assert.equal(s.connected, false);
  assert.equal(linkText(s), TEXT.reconnecting);
  s = run([{ type: "ui_disconnected" }], s);
  assert.equal(linkText(s), TEXT.reconnecting, "still, after failed attempts");
  s = run([welcome(summary(1, "active", 2))], s);
  assert.equal(linkText(s), TEXT.connected);
  s = run([{ type: "ui_link_settled" }], s);
  assert.equal(linkText(s), null);
  // Availability known from before still decides what the launcher opens while reconnecting.
  const off = run([welcome(null, false), { type: "ui_disconnected" }, { type: "ui_launcher" }]);
  assert.equal(off.panel, "leave");
});

test("connecting again on purpose (a resync) says nothing more", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), ended(1, 3, "visitor"), { type: "ui_close" }]);
  // Dropped; the welcome after it brings another chat: the widget connects again at once.
  s = run([{ type: "ui_disconnected" }], s);
  assert.equal(linkText(s), TEXT.reconnecting);
  s = run([welcome(summary(2, "active", 5))], s);
  assert.equal(s.resync, true);
  assert.equal(linkText(s), null);
  s = run([{ type: "ui_disconnected" }], s);
  assert.equal(linkText(s), null);
  s = run([welcome(summary(2, "active", 5))], s);
  assert.equal(linkText(s), TEXT.connected, "the drop before it was real");
  // On a page's first connection, the resync ends in silence.
  let q: State = { ...initialState("tok"), chatId: 1, lastSeq: 3 };
  q = run([welcome(summary(2, "active", 5)), { type: "ui_disconnected" }], q);
  assert.equal(linkText(q), null);
  q = run([welcome(summary(2, "active", 5))], q);
  assert.equal(q.resync, false);
  assert.equal(linkText(q), null);
});

test("the message form keeps each field's error until that field is changed or sent", () => {
  let s = run([welcome(null, false), { type: "ui_launcher" }]);
  assert.deepEqual(s.leaveErrors, {});
  s = run([{ type: "ui_leave_errors", errors: { email: "That is not an e-mail address.", text: "Please enter a message." } }], s);
  assert.equal(s.leaveErrors.email, "That is not an e-mail address.");
  s = run([{ type: "ui_leave_edit", field: "email" }, { type: "ui_leave_edit", field: "name" }], s);
  assert.deepEqual(s.leaveErrors, { text: "Please enter a message." });
  s = run([{ type: "ui_left" }], s);
  assert.deepEqual(s.leaveErrors, {});
  assert.equal(s.leaveSent, true);
  // Opening the form again starts clean.
  s = run([{ type: "ui_close" }, { type: "ui_launcher" }, { type: "ui_leave_errors", errors: { name: "x" } }, { type: "ui_close" }, { type: "ui_launcher" }], s);
  assert.deepEqual(s.leaveErrors, {});
});

/** A reload: what the tab kept goes through sessionStorage (JSON) into a fresh page. */
const reload = (s: State): State => restore(s.token, JSON.parse(JSON.stringify(saved(s))));

test("a reload keeps the last seq and the chat as shown, and resumes after it", () => {
  let s = run([welcome(null), requested(1), accepted(1, 2), opMsg(1, 3, "Hello"), myMsg(1, 4, "Hi", "c1")]);
  const r = reload(s);
  assert.equal(r.lastSeq, 4, "hello says last_seq 4");
  assert.equal(r.chatId, 1);
  assert.deepEqual(r.entries, s.entries, "the history shows at once, before any frame");
  assert.equal(chatView(r), "chat");
  assert.equal(r.open, true);
  assert.equal(r.connected, false);
  // The server replays what came after seq 4 only; anything older is applied once.
  s = run([welcome(summary(1, "active", 5)), opMsg(1, 4, "Hi"), opMsg(1, 5, "While you reloaded")], r);
  assert.deepEqual(s.entries.map((e) => e.text), ["Hello", "Hi", "While you reloaded"]);
  assert.equal(s.lastSeq, 5);
  assert.equal(new Set(s.entries.map((e) => e.key)).size, 3, "keys stay unique");
});

test("a minimized chat stays minimized across a reload, its unread lines too", () => {
  const s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_minimize" }, opMsg(1, 3, "Ready")]);
  const r = reload(s);
  assert.equal(r.open, false);
  assert.equal(r.panel, "chat");
  assert.deepEqual(unread(r).map((e) => e.text), ["Ready"]);
  const back = run([welcome(summary(1, "active", 3)), { type: "ui_launcher" }], r);
  assert.equal(chatView(back), "chat");
  assert.deepEqual(unread(back), []);
});

test("a message still sending when the page reloads is sent again after it", () => {
  const s = run([welcome(null), requested(1), accepted(1, 2), { type: "ui_send", clientId: "c9", text: "Are you there?" }]);
  const r = run([welcome(summary(1, "active", 2))], reload(s));
  assert.deepEqual(unsent(r).map((e) => [e.clientId, e.text]), [["c9", "Are you there?"]]);
  assert.deepEqual(run([myMsg(1, 3, "Are you there?", "c9")], r).entries.map((e) => e.state), ["sent"]);
});

test("after a reload a finished chat shows the launcher, and its seq still counts", () => {
  const s = run([welcome(null), requested(1), accepted(1, 2), ended(1, 3, "operator")]);
  const r = reload(s);
  assert.equal(r.open, false);
  assert.equal(r.panel, "none");
  assert.equal(r.lastSeq, 3);
  const w = run([welcome(summary(1, "ended", 3))], r);
  assert.equal(w.open, false);
  assert.equal(w.ignoreChat, 1);
  assert.equal(run([{ type: "ui_launcher" }], w).panel, "open", "a new chat may start");
});

test("a kept chat the server does not know is dropped; another chat resyncs", () => {
  const s = run([welcome(null), requested(1), accepted(1, 2), opMsg(1, 3, "Hello")]);
  // Another visitor token (storage cleared): the server has no chat for it.
  const gone = run([welcome(null)], reload(s));
  assert.equal(gone.chatId, null);
  assert.deepEqual(gone.entries, []);
  assert.equal(gone.open, false);
  assert.equal(gone.panel, "none");
  // A later chat (from another tab) took its place.
  const later = run([welcome(summary(2, "active", 5))], reload(s));
  assert.equal(later.resync, true);
  assert.equal(later.lastSeq, null);
  const ended2 = run([welcome(summary(2, "ended", 5))], reload(s));
  assert.equal(ended2.chatId, null);
  assert.equal(ended2.open, false);
});

test("nothing kept, or nothing sound, starts a fresh page", () => {
  assert.deepEqual(restore("t", null), initialState("t"));
  assert.deepEqual(restore("t", { chatId: "1", entries: [] }), initialState("t"));
  assert.deepEqual(restore("t", { chatId: 1, entries: [{ key: 1, who: "hacker", text: "x" }] }), initialState("t"));
  assert.deepEqual(restore("t", { chatId: 1, entries: "no" }), initialState("t"));
  assert.equal(saved(initialState("t")), null, "no chat: nothing to keep");
  const odd = restore("t", { chatId: 4, entries: [], lastSeq: "7", nextKey: -1, status: "active", open: true });
  assert.equal(odd.lastSeq, null, "an unsound seq is not sent: the chat is replayed");
  assert.equal(odd.nextKey, 1);
});
