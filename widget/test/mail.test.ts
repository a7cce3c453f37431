// "Mail me this chat transcript" as the widget shows it: only under an ended chat, only while
// mail is configured (the `mail` frame turns it on and off live); Send checks the address
// lightly and sends one frame; the ack, the `transcript_mail` events and error frames each say
// what became of it; a retry after a drop keeps the client_id. The panel is rendered by the
// real UI into a small stand-in DOM whose innerHTML is a trap, so text stays text.
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  ApiError, ChatEvent, ChatEventKind, ChatStatus, ChatSummary, MailState, VisitorClientMsg, VisitorServerMsg,
} from "../../shared/bindings/protocol";
import { MAIL_TEXT, checkAddress, failedTo, sendingTo, sentTo } from "../src/mail";
import { initialState, mailFrame, mailNow, mailShown, reduce, type Action, type State } from "../src/state";

/** Just enough of an element for ui.ts: a tree, attributes, text, listeners and focus. */
class FakeEl {
  children: FakeEl[] = [];
  parent: FakeEl | null = null;
  attrs: Record<string, string> = {};
  listeners: Record<string, ((e: unknown) => void)[]> = {};
  classes = new Set<string>();
  classList = {
    toggle: (c: string, on?: boolean) => {
      if (on ?? !this.classes.has(c)) this.classes.add(c);
      else this.classes.delete(c);
    },
    contains: (c: string) => this.classes.has(c),
  };
  hidden = false;
  disabled = false;
  value = "";
  style: Record<string, string> = {};
  scrollTop = 0;
  scrollHeight = 0;
  offsetTop = 0;
  activeElement: FakeEl | null = null; // the shadow root's
  constructor(
    public tag: string,
    public text = "",
  ) {}
  get id(): string {
    return this.attrs.id ?? "";
  }
  set id(v: string) {
    this.attrs.id = v;
  }
  setAttribute(k: string, v: string) {
    if (k === "hidden") this.hidden = true;
    else if (k === "disabled") this.disabled = true;
    else if (k === "class") v.split(" ").forEach((c) => c && this.classes.add(c));
    this.attrs[k] = v;
  }
  getAttribute(k: string): string | null {
    return k in this.attrs ? this.attrs[k] : null;
  }
  removeAttribute(k: string) {
    delete this.attrs[k];
  }
  addEventListener(type: string, f: (e: unknown) => void) {
    (this.listeners[type] ||= []).push(f);
  }
  fire(type: string) {
    for (const f of this.listeners[type] || []) f({ type, key: "", preventDefault() {} });
  }
  private adopt(kids: (FakeEl | string)[]): FakeEl[] {
    return kids.map((k) => {
      const el = typeof k === "string" ? new FakeEl("#text", k) : k;
      if (el.parent) el.parent.children = el.parent.children.filter((c) => c !== el);
      el.parent = this;
      return el;
    });
  }
  append(...kids: (FakeEl | string)[]) {
    this.children.push(...this.adopt(kids));
  }
  prepend(...kids: (FakeEl | string)[]) {
    this.children.unshift(...this.adopt(kids));
  }
  replaceChildren(...kids: (FakeEl | string)[]) {
    for (const c of this.children) c.parent = null;
    this.children = [];
    this.append(...kids);
  }
  insertBefore(kid: FakeEl, before: FakeEl | null) {
    const [el] = this.adopt([kid]);
    const i = before ? this.children.indexOf(before) : -1;
    this.children.splice(i < 0 ? this.children.length : i, 0, el);
  }
  replaceWith(other: FakeEl) {
    const p = this.parent!;
    const [el] = p.adopt([other]);
    p.children[p.children.indexOf(this)] = el;
    this.parent = null;
  }
  get parentElement(): FakeEl | null {
    return this.parent;
  }
  get firstChild(): FakeEl | null {
    return this.children[0] ?? null;
  }
  set textContent(t: string) {
    this.replaceChildren(t);
  }
  get textContent(): string {
    return this.tag === "#text" ? this.text : this.children.map((c) => c.textContent).join("");
  }
  set innerHTML(_: string) {
    throw new Error("innerHTML must not be used");
  }
  /** ".class" or "[attr]", on this element and its ancestors. */
  private matches(sel: string): boolean {
    if (sel.startsWith(".")) return this.classes.has(sel.slice(1));
    if (sel === "[hidden]") return this.hidden;
    return false;
  }
  closest(sel: string): FakeEl | null {
    for (let el: FakeEl | null = this; el; el = el.parent) if (el.matches(sel)) return el;
    return null;
  }
  querySelector(sel: string): FakeEl | null {
    for (const c of this.children) {
      if (c.matches(sel)) return c;
      const deep = c.querySelector(sel);
      if (deep) return deep;
    }
    return null;
  }
  focus() {
    let top: FakeEl = this;
    while (top.parent) top = top.parent;
    top.activeElement = this;
  }
  reset() {}
}

(globalThis as Record<string, unknown>).window = {};
(globalThis as Record<string, unknown>).document = {
  createElement: (tag: string) => new FakeEl(tag),
  createTextNode: (text: string) => new FakeEl("#text", text),
  createDocumentFragment: () => new FakeEl("#fragment"),
};

const { UI } = await import("../src/ui");

const op = { id: 5, name: "Anna" };
const ev = (seq: number, status: ChatStatus, kind: ChatEventKind, chat_id = 7): VisitorServerMsg => {
  const event: ChatEvent = { chat_id, seq, at: 1_000 + seq, status, kind };
  return { type: "event", event };
};
const welcome = (mail: boolean, chat: ChatSummary | null = null): VisitorServerMsg => ({
  type: "welcome", protocol: 1, visitor_id: 1, visitor_token: "tok", available: true, chat, mail,
});
const ended7: ChatSummary = {
  id: 7, visitor_id: 1, visitor_name: null, mode: "text", status: "ended", page: null, operator: op,
  created_at: 1, accepted_at: 2, ended_at: 3, last_seq: 3,
};
const requested = ev(1, "waiting", { type: "requested", visitor_id: 1, name: null, mode: "text", page: null });
const accepted = ev(2, "active", { type: "accepted", operator: op });
const ended = ev(3, "ended", { type: "ended", reason: "operator" });
const mailEv = (seq: number, mail_id: number, state: MailState, detail: string | null = null, to = "rita@example.test") =>
  ev(seq, "ended", { type: "transcript_mail", mail_id, by: { kind: "visitor" }, to, state, detail });
const ack = (client_id: string, seq: number): VisitorServerMsg => ({ type: "ack", client_id, seq });
const error = (client_id: string, e: ApiError): VisitorServerMsg => ({ type: "error", client_id, error: e });
const run = (actions: Action[], s: State = initialState(null)): State => actions.reduce(reduce, s);

function all(el: FakeEl): FakeEl[] {
  return [el, ...el.children.flatMap(all)];
}

/**
 * The widget as main.ts wires it, minus the socket: frames the visitor's Send puts on the
 * wire are collected, client ids come from a counter.
 */
function widget(mail: boolean) {
  const root = new FakeEl("#shadow-root");
  const sent: VisitorClientMsg[] = [];
  let s = initialState(null);
  let n = 0;
  const noop = () => {};
  const ui = new UI(root as unknown as ShadowRoot, {
    launcher: noop, close: noop, minimize: noop, start: noop, cancel: noop, leaveFromQueue: noop,
    send: () => true, endChat: noop, submitLeave: async () => {}, editLeave: noop, accept: noop,
    refuse: noop, mute: noop, endVoice: noop, startInvite: noop, closeInvite: noop,
    mail: (to) => {
      const clientId = `c${++n}`;
      play({ type: "ui_mail", clientId, to });
      const frame = mailFrame(s);
      if (frame && frame.client_id === clientId) sent.push(frame);
    },
  });
  const play = (...actions: Action[]) => {
    for (const a of actions) {
      s = reduce(s, a);
      ui.render(s);
    }
  };
  const byId = (id: string) => all(root).find((e) => e.id === id) ?? null;
  /** Shown: in the panel on screen, with nothing hidden around it. */
  const shows = (id: string) => {
    const el = byId(id);
    return !!el && !el.closest("[hidden]") && all(root).includes(el);
  };
  const field = () => byId("sb-mail-to")!;
  const button = () => byId("sb-mail-send")!;
  const result = () => byId("sb-mail-st")!;
  const submit = (to: string) => {
    field().value = to;
    byId("sb-mail")!.fire("submit");
  };
  play(welcome(mail), { type: "ui_launcher" }, { type: "ui_start" }, requested, accepted);
  return { play, shows, field, button, result, submit, sent, root, state: () => s };
}

test("the field is hidden while the chat goes on, and when mail is off", () => {
  const on = widget(true);
  assert.equal(on.shows("sb-mail"), false, "not before the chat ended");
  assert.equal(mailShown(on.state()), false);
  const off = widget(false);
  off.play(ended);
  assert.ok(off.root.textContent.includes("The operator has ended the chat."));
  assert.equal(off.shows("sb-mail"), false, "not without mail");
});

test("after the end, with mail on, the field is there with its label; the message box is not", () => {
  const w = widget(true);
  w.play(ended);
  assert.equal(w.shows("sb-mail"), true);
  const label = all(w.root).find((e) => e.tag === "label" && e.attrs.for === "sb-mail-to")!;
  assert.equal(label.textContent, MAIL_TEXT.label);
  assert.equal(label.textContent, "Mail me this chat transcript");
  assert.deepEqual(
    [w.field().tag, w.field().attrs.type, w.field().attrs.autocomplete, w.field().attrs.inputmode],
    ["input", "email", "email", "email"],
  );
  assert.equal(w.button().textContent, "Send");
  assert.equal(w.button().attrs.type, "submit");
  assert.equal(w.button().disabled, false);
  assert.equal(w.result().attrs.role, "status");
  assert.equal(w.field().attrs["aria-describedby"], "sb-mail-st");
  assert.equal(w.result().textContent, "");
  assert.equal(w.shows("sb-mail-send"), true);
  // The disabled message box of the ended chat makes way (one Send on screen).
  assert.equal(all(w.root).filter((e) => e.tag === "button" && e.textContent === "Send" && !e.closest("[hidden]")).length, 1);
});

test("the mail frame shows and hides the field live", () => {
  const w = widget(false);
  w.play({ type: "mail", enabled: true });
  assert.equal(w.shows("sb-mail"), false, "still only after the end");
  w.play(ended);
  assert.equal(w.shows("sb-mail"), true);
  w.play({ type: "mail", enabled: false });
  assert.equal(w.shows("sb-mail"), false);
  w.play({ type: "mail", enabled: true });
  assert.equal(w.shows("sb-mail"), true);
  // Closing the ended chat takes it away with the chat.
  w.play({ type: "ui_close" });
  assert.equal(w.shows("sb-mail"), false);
});

test("Send sends one mail_transcript frame and waits for the answer", () => {
  const w = widget(true);
  w.play(ended);
  w.submit("  rita@example.test ");
  assert.deepEqual(w.sent, [{ type: "mail_transcript", client_id: "c1", chat_id: 7, email: "rita@example.test" }]);
  assert.equal(w.button().disabled, true);
  assert.equal(w.result().textContent, "");
  w.submit("rita@example.test");
  assert.equal(w.sent.length, 1, "nothing more while it waits");
});

test("the ack says it is sending; the sent event says it was sent", () => {
  const w = widget(true);
  w.play(ended);
  w.submit("rita@example.test");
  w.play(ack("c1", 4));
  assert.equal(w.result().textContent, sendingTo("rita@example.test"));
  assert.equal(w.result().textContent, "Sending the transcript to rita@example.test…");
  assert.equal(w.button().disabled, true, "still waiting for the outcome");
  w.play(mailEv(4, 11, "queued"));
  assert.equal(w.result().textContent, "Sending the transcript to rita@example.test…");
  w.play(mailEv(5, 11, "sent", "250 2.0.0 Ok: queued as 4F2A"));
  assert.equal(w.result().textContent, "The transcript was sent to rita@example.test.");
  assert.equal(w.result().classes.has("bad"), false);
  assert.equal(w.button().disabled, false, "another address may follow");
  // The chat's lines are untouched by mail news.
  assert.deepEqual(w.state().entries.map((e) => e.text), ["The operator has ended the chat."]);
  // The next Send is a new request with a new key.
  w.submit("ops@example.test");
  assert.deepEqual(w.sent.at(-1), { type: "mail_transcript", client_id: "c2", chat_id: 7, email: "ops@example.test" });
  assert.equal(w.result().textContent, "");
});

test("events that overtake the ack are not lost", () => {
  const w = widget(true);
  w.play(ended);
  w.submit("rita@example.test");
  w.play(mailEv(4, 11, "queued"), mailEv(5, 11, "sent", "250 Ok"), ack("c1", 4));
  assert.equal(w.result().textContent, sentTo("rita@example.test"));
  // An operator's transcript (not shown to visitors anyway) or another mail changes nothing.
  w.play(ev(6, "ended", { type: "transcript_mail", mail_id: 12, by: { kind: "operator", id: 5, name: "Anna" }, to: "x@y.test", state: "failed", detail: "no" }));
  assert.equal(w.result().textContent, sentTo("rita@example.test"));
});

test("a failed mail says why", () => {
  const w = widget(true);
  w.play(ended);
  w.submit("rita@example.test");
  w.play(ack("c1", 4), mailEv(4, 11, "queued"), mailEv(5, 11, "failed", "550 5.1.1 <rita@example.test>: user unknown"));
  assert.equal(
    w.result().textContent,
    "The transcript could not be sent to rita@example.test: 550 5.1.1 <rita@example.test>: user unknown.",
  );
  assert.equal(w.result().classes.has("bad"), true);
  assert.equal(w.button().disabled, false, "the visitor may try another address");
  assert.equal(failedTo("a@b.test", null), "The transcript could not be sent to a@b.test.");
});

test("error frames say what went wrong", () => {
  const cases: [ApiError, string, boolean][] = [
    [{ code: "rate_limited", message: "at most 3 transcripts of one chat can be mailed" }, "You cannot mail this chat more often.", false],
    [{ code: "rate_limited", message: "too many requests: please wait 3600 s, then try again", retry_after_secs: 3600 },
      "Too many mails went to this address. Please try again later.", false],
    [{ code: "rate_limited", message: "too many requests: please wait 1 s, then try again", retry_after_secs: 1 },
      "Please wait a moment, then try again.", false],
    [{ code: "invalid_input", message: "that is not an e-mail address" }, "Please enter a valid e-mail address.", true],
    [{ code: "mail_unavailable", message: "mail is not configured" }, "Mail is not configured.", false],
    [{ code: "not_found", message: "chat not found" }, "Chat not found.", false],
  ];
  for (const [e, text, bad] of cases) {
    const w = widget(true);
    w.play(ended);
    w.submit("rita@example.test");
    w.play(error("c1", e));
    assert.equal(w.result().textContent, text, e.code);
    assert.equal(w.result().classes.has("bad"), true);
    assert.equal(w.button().disabled, false);
    assert.equal(w.field().attrs["aria-invalid"], bad ? "true" : undefined, e.code);
    assert.equal(w.state().notice, null, "the chat's own notice stays clear");
    assert.equal(mailFrame(w.state()), null, "not sent again");
  }
});

test("an empty or @-less address is refused before anything is sent", () => {
  const w = widget(true);
  w.play(ended);
  w.submit("   ");
  assert.equal(w.result().textContent, "Please enter your e-mail address.");
  assert.equal(w.field().attrs["aria-invalid"], "true");
  w.submit("rita.example.test");
  assert.equal(w.result().textContent, "Please enter a valid e-mail address.");
  assert.deepEqual(w.sent, []);
  w.submit("rita@example.test");
  assert.equal(w.sent.length, 1);
  assert.equal(w.field().attrs["aria-invalid"], undefined);
  assert.equal(checkAddress("@example.test"), MAIL_TEXT.badAddress);
  assert.equal(checkAddress("rita@"), MAIL_TEXT.badAddress);
  assert.equal(checkAddress("rita@example.test"), null);
});

test("after a drop the unanswered request goes again with the same client_id", () => {
  let s = run([welcome(true), { type: "ui_start" }, requested, accepted, ended,
    { type: "ui_mail", clientId: "k1", to: "rita@example.test" }]);
  const first = mailFrame(s);
  assert.deepEqual(first, { type: "mail_transcript", client_id: "k1", chat_id: 7, email: "rita@example.test" });
  s = run([{ type: "ui_disconnected" }, welcome(true, ended7)], s);
  assert.equal(mailShown(s), true, "the ended chat is still in view");
  assert.deepEqual(mailFrame(s), first, "what main.ts sends after the welcome");
  // The server de-duplicates: the same seq comes back, and then nothing is pending.
  s = run([ack("k1", 4), mailEv(4, 11, "queued")], s);
  assert.equal(mailFrame(s), null);
  assert.equal(mailNow(s).text, sendingTo("rita@example.test"));
  // Mail switched off on reconnect: the field goes.
  assert.equal(mailShown(run([{ type: "ui_disconnected" }, welcome(false, ended7)], s)), false);
});

test("a new chat shows nothing of the last one's transcript", () => {
  let s = run([welcome(true), { type: "ui_start" }, requested, accepted, ended,
    { type: "ui_mail", clientId: "k1", to: "rita@example.test" }, ack("k1", 4), mailEv(4, 11, "queued"), mailEv(5, 11, "sent")]);
  assert.equal(mailNow(s).text, sentTo("rita@example.test"));
  s = run([{ type: "ui_close" }, { type: "ui_launcher" }, { type: "ui_start" },
    ev(1, "waiting", { type: "requested", visitor_id: 1, name: null, mode: "text", page: null }, 8),
    ev(2, "active", { type: "accepted", operator: op }, 8), ev(3, "ended", { type: "ended", reason: "visitor" }, 8)], s);
  assert.equal(mailShown(s), true);
  assert.deepEqual(mailNow(s), { text: "", busy: false, failed: false, badAddress: false });
});

test("a hostile address or detail is shown as text", () => {
  const hostile = "<img src=x onerror=alert(1)>";
  const w = widget(true);
  w.play(ended);
  // No @: refused by the form, and the field keeps what was typed.
  w.submit(hostile);
  assert.equal(w.result().textContent, "Please enter a valid e-mail address.");
  const to = `${hostile}@example.test`;
  w.submit(to);
  assert.equal(w.sent.length, 1);
  w.play(ack("c2", 4), mailEv(4, 11, "queued", null, to));
  assert.equal(w.result().textContent, `Sending the transcript to ${to}…`);
  w.play(mailEv(5, 11, "failed", hostile, to));
  assert.equal(w.result().textContent, `The transcript could not be sent to ${to}: ${hostile}.`);
  // Only text nodes under the result: no element was made from the markup.
  assert.deepEqual(all(w.result()).map((e) => e.tag), ["p", "#text"]);
  assert.equal(all(w.root).some((e) => e.tag === "img"), false);
  // A server message is text too.
  w.submit(to);
  w.play(error("c3", { code: "internal", message: hostile }));
  assert.deepEqual(all(w.result()).map((e) => e.tag), ["p", "#text"]);
  assert.equal(w.result().textContent, `${hostile}.`);
});
