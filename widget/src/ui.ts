// The widget's DOM, inside an open shadow root. Every piece of text from the server or the
// visitor goes in through text nodes (never innerHTML); links come from linkify's segments.

import type { Mode } from "../../shared/bindings/protocol";
import { CALL_TEXT, inCall } from "./call";
import type { Field } from "./leave";
import { linkify } from "./linkify";
import { MAIL_TEXT } from "./mail";
import { CSS } from "./styles";
import {
  TEXT, chatView, firstLine, isFinal, linkText, mailNow, mailShown, unread, type Entry, type State,
} from "./state";

export interface Handlers {
  launcher(): void;
  close(): void;
  minimize(): void;
  start(name: string | null, mode: Mode): void;
  cancel(): void;
  leaveFromQueue(): void;
  /** Returns false when the text was not sent (empty or too long): the input keeps it. */
  send(text: string): boolean;
  endChat(): void;
  submitLeave(name: string, email: string, text: string): Promise<void>;
  /** The visitor changed a field of the message form. */
  editLeave(field: Field): void;
  /** The operator's invitation to talk: Accept or Refuse. */
  accept(): void;
  refuse(): void;
  mute(): void;
  /** Ends the voice only; the chat goes on as text. */
  endVoice(): void;
  /** An operator's invitation: Start Chat, or close it (declined). */
  startInvite(): void;
  closeInvite(): void;
  /** "Mail me this chat transcript": Send, with the address as typed. */
  mail(to: string): void;
}

type Kid = Node | string | null | false;
type Attrs = Record<string, string | boolean>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...kids: Kid[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === true) el.setAttribute(k, "");
      else if (v !== false) el.setAttribute(k, v);
    }
  }
  for (const kid of kids) if (kid) el.append(kid);
  return el;
}

/** Message text as text nodes and <a> elements. */
export function renderText(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  for (const seg of linkify(text)) {
    if (seg.kind === "link" && seg.href) {
      const a = h("a", { href: seg.href, target: "_blank", rel: "noopener noreferrer" });
      a.textContent = seg.text;
      frag.append(a);
    } else {
      frag.append(document.createTextNode(seg.text));
    }
  }
  return frag;
}

const voiceSupported = (): boolean =>
  typeof (window as { RTCPeerConnection?: unknown }).RTCPeerConnection === "function" &&
  !!navigator.mediaDevices;

// A panel's title bar is a plain div: a <header> would be a second banner landmark on the
// host page.
function header(title: string, id: string, ...kids: Kid[]): HTMLElement {
  return h("div", { class: "hd" }, h("h2", { id }, title), ...kids);
}

function dialog(label: string, cls: string, ...kids: Kid[]): HTMLElement {
  return h("section", { role: "dialog", "aria-label": label, class: cls }, ...kids);
}

export class UI {
  private readonly launcher: HTMLButtonElement;
  private readonly launcherWrap: HTMLElement;
  private readonly caption: HTMLElement;
  /** The unread count on the launcher, and the first line of the latest unread message. */
  private readonly count: HTMLElement;
  private readonly preview: HTMLElement;
  private shownNews = "";
  /** The first unread line: the chat opens on it. */
  private unreadKey: number | null = null;
  private readonly card: HTMLElement;
  /** How the connection is, under the open panel's title bar. */
  private readonly link: HTMLElement;
  private current: HTMLElement | null = null;
  private readonly invite: { el: HTMLElement; operator: HTMLElement; text: HTMLElement; start: HTMLButtonElement };
  private readonly open: {
    el: HTMLElement;
    name: HTMLInputElement;
    notice: HTMLElement;
  };
  private readonly routing: {
    el: HTMLElement;
    queued: HTMLElement;
    position: HTMLElement;
    leave: HTMLButtonElement;
    notice: HTMLElement;
  };
  private readonly chat: {
    el: HTMLElement;
    operator: HTMLElement;
    badge: HTMLElement;
    log: HTMLElement;
    notice: HTMLElement;
    input: HTMLInputElement;
    form: HTMLFormElement;
    send: HTMLButtonElement;
    end: HTMLButtonElement;
    close: HTMLButtonElement;
  };
  /** "Mail me this chat transcript", under the ended chat. */
  private readonly mail: {
    form: HTMLFormElement;
    to: HTMLInputElement;
    send: HTMLButtonElement;
    result: HTMLElement;
  };
  /** The call bar above the text chat. */
  private readonly call: {
    bar: HTMLElement;
    text: HTMLElement;
    clock: HTMLElement;
    meter: HTMLElement;
    mute: HTMLButtonElement;
    live: HTMLElement;
    invite: HTMLElement;
  };
  /** The operator's voice. */
  readonly audio: HTMLAudioElement;
  private readonly leave: {
    el: HTMLElement;
    intro: HTMLElement;
    form: HTMLFormElement;
    name: HTMLInputElement;
    email: HTMLInputElement;
    text: HTMLTextAreaElement;
    /** Each field's error, shown under it. */
    errors: Record<Field, HTMLElement>;
    submit: HTMLButtonElement;
    notice: HTMLElement;
    thanks: HTMLElement;
  };
  private rendered = new Map<number, { entry: Entry; el: HTMLElement }>();
  private firstKey: number | null = null;
  private acted = false;
  private wasOver = false;
  private wasSent = false;
  /** The message form was sent and its answer has not been shown yet. */
  private sending = false;

  constructor(
    private readonly root: ShadowRoot,
    on: Handlers,
  ) {
    const act = (f: () => void) => () => {
      this.acted = true;
      f();
    };
    const btn = (text: string, cls: string, f: (() => void) | null, attrs?: Attrs) => {
      const b = h("button", { type: f ? "button" : "submit", class: cls, ...attrs }, text);
      if (f) b.addEventListener("click", act(f));
      return b;
    };
    const closeX = (f: () => void) => btn("×", "x", f, { "aria-label": "Close" });
    const minimizeX = () => btn("–", "x", () => on.minimize(), { "aria-label": "Minimize" });

    // Launcher, with what came while the chat was minimized.
    this.caption = h("span", { class: "cap", id: "sb-cap" }, TEXT.notAvailable);
    this.count = h("span", { class: "n", id: "sb-n", hidden: true });
    this.preview = h("p", { class: "pv", id: "sb-pv", role: "status", hidden: true });
    this.preview.addEventListener("click", act(() => on.launcher()));
    this.launcher = btn(TEXT.launcher, "launcher", () => on.launcher(), {
      "aria-describedby": "sb-n sb-pv sb-cap",
      "aria-haspopup": "dialog",
    });
    this.launcher.prepend(h("span", { class: "dot", "aria-hidden": "true" }));
    this.launcherWrap = h(
      "div",
      { class: "lw" },
      this.preview,
      h("div", { class: "lb" }, this.launcher, this.count),
      this.caption,
    );

    // An operator's invitation, as an incoming chat request.
    {
      const operator = h("p", { class: "op" });
      const text = h("p", { class: "it" });
      const start = btn(TEXT.startChat, "btn", () => on.startInvite());
      const el = dialog(
        TEXT.invitation,
        "invite",
        header(TEXT.invitation, "sb-invite-t", closeX(() => on.closeInvite())),
        h("div", { class: "body" }, operator, text, h("div", { class: "row" }, start)),
      );
      this.invite = { el, operator, text, start };
    }

    // "Open chat with operator".
    {
      const name = h("input", { id: "sb-chat-name", type: "text", autocomplete: "name", maxlength: "100" });
      const notice = h("p", { class: "notice", role: "alert" });
      const voice = btn("Voice chat", "btn btn2", () => on.start(name.value.trim() || null, "voice"));
      const noVoice = h("p", { class: "note" }, TEXT.noVoice);
      if (voiceSupported()) noVoice.hidden = true;
      else voice.hidden = true;
      const form = h(
        "form",
        { class: "body", novalidate: true },
        h("label", { for: "sb-chat-name" }, "Chat name (optional)"),
        name,
        noVoice,
        notice,
        h("div", { class: "row" }, btn("Text chat", "btn", null), voice),
      );
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.acted = true;
        on.start(name.value.trim() || null, "text");
      });
      const el = dialog(TEXT.openTitle, "open", header(TEXT.openTitle, "sb-open-t", closeX(() => on.close())), form);
      this.open = { el, name, notice };
    }

    // "Routing your call…" (waiting, or queued).
    {
      const queued = h("p", null, TEXT.queued);
      const position = h("p", { class: "pos" });
      const leave = btn(TEXT.leaveTitle, "link", () => on.leaveFromQueue());
      const notice = h("p", { class: "notice", role: "alert" });
      const el = dialog(
        TEXT.routingTitle,
        "routing",
        header(TEXT.routingTitle, "sb-routing-t", minimizeX()),
        h(
          "div",
          { class: "body" },
          h("progress", { "aria-label": TEXT.routingTitle }),
          queued,
          position,
          leave,
          notice,
          h("div", { class: "row" }, btn("Cancel", "btn btn2", () => on.cancel())),
        ),
      );
      this.routing = { el, queued, position, leave, notice };
    }

    // "Chat with operator".
    {
      const operator = h("p", { class: "op" });
      const badge = h("span", { class: "badge" }, "On hold");
      const log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
      const notice = h("p", { class: "notice", role: "alert" });
      const input = h("input", {
        type: "text",
        "aria-label": "Message",
        placeholder: TEXT.placeholder,
        autocomplete: "off",
      });
      const send = btn("Send", "btn", null);
      const end = btn("End chat", "btn btn2", () => on.endChat());
      const close = btn("Close", "btn", () => on.close());
      const form = h("form", { class: "compose", novalidate: true }, input, send);
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.acted = true;
        if (on.send(input.value)) input.value = "";
        input.focus();
      });
      // The call bar: the call's state, mic level and duration, and its controls.
      const text = h("span", { class: "ct", role: "status" });
      const clock = h("span", { class: "ck" });
      const meter = h("span", {
        class: "lv",
        role: "meter",
        "aria-label": "Microphone level",
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": "0",
      }, h("i"));
      const mute = btn("Mute", "btn btn2", () => on.mute(), { "aria-pressed": "false" });
      const live = h("div", { class: "row" }, mute, btn("End voice", "btn btn2", () => on.endVoice()),
        btn("End communication", "btn", () => on.endChat()));
      const invite = h("div", { class: "row" }, btn("Accept", "btn", () => on.accept()),
        btn("Refuse", "btn btn2", () => on.refuse()));
      const bar = h("div", { class: "call", role: "group", "aria-label": "Voice chat" },
        h("div", { class: "ci" }, meter, text, clock), live, invite);
      this.call = { bar, text, clock, meter, mute, live, invite };
      // "Mail me this chat transcript": the address, Send, and what became of it.
      const to = h("input", {
        id: "sb-mail-to",
        type: "email",
        autocomplete: "email",
        inputmode: "email",
        autocapitalize: "off",
        spellcheck: "false",
        maxlength: "254",
        "aria-describedby": "sb-mail-st",
      });
      const mailSend = btn(MAIL_TEXT.send, "btn", null, { id: "sb-mail-send" });
      const result = h("p", { id: "sb-mail-st", class: "mst", role: "status" });
      const mail = h(
        "form",
        { id: "sb-mail", class: "mail", novalidate: true },
        h("label", { for: "sb-mail-to" }, MAIL_TEXT.label),
        h("div", { class: "mr" }, to, mailSend),
        result,
      );
      mail.addEventListener("submit", (e) => {
        e.preventDefault();
        this.acted = true;
        on.mail(to.value);
      });
      this.mail = { form: mail, to, send: mailSend, result };
      const el = dialog(
        TEXT.chatTitle,
        "chat",
        h("div", { class: "hd" }, h("div", null, h("h2", { id: "sb-chat-t" }, TEXT.chatTitle), operator), badge, minimizeX()),
        bar,
        log,
        notice,
        form,
        mail,
        h("div", { class: "row foot" }, end, close),
      );
      this.chat = { el, operator, badge, log, notice, input, form, send, end, close };
    }

    // "Leave a message".
    {
      const name = h("input", { type: "text", autocomplete: "name" });
      const email = h("input", { type: "email", autocomplete: "email" });
      const text = h("textarea", { rows: "5" });
      const errors = {} as Record<Field, HTMLElement>;
      const field = (key: Field, label: string, input: HTMLInputElement | HTMLTextAreaElement) => {
        const id = `sb-leave-${key}`;
        input.id = id;
        errors[key] = h("p", { class: "err", id: `${id}-err`, hidden: true });
        input.addEventListener("input", () => on.editLeave(key));
        return [h("label", { for: id }, label), input, errors[key]];
      };
      const submit = btn("Send message", "btn", null);
      const notice = h("p", { class: "notice", role: "alert" });
      const intro = h("p", { class: "intro" });
      const thanks = h("p", { role: "status" }, TEXT.thanks);
      const form = h(
        "form",
        { class: "body", novalidate: true },
        intro,
        ...field("name", "Your name", name),
        ...field("email", "E-mail", email),
        ...field("text", "Message", text),
        notice,
        submit,
      );
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.acted = true;
        this.sending = true;
        submit.disabled = true;
        on.submitLeave(name.value.trim(), email.value.trim(), text.value).finally(() => {
          submit.disabled = false;
        });
      });
      const el = dialog(
        TEXT.leaveTitle,
        "leave",
        header(TEXT.leaveTitle, "sb-leave-t", closeX(() => on.close())),
        form,
        h("div", { class: "body" }, thanks),
      );
      this.leave = { el, intro, form, name, email, text, errors, submit, notice, thanks };
    }

    this.link = h("p", { class: "conn", role: "status" });
    this.card = h("div", { class: "card" });
    const wrap = h("div", { class: "sb" }, this.launcherWrap, this.card);
    wrap.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.current) {
        this.acted = true;
        if (this.current === this.chat.el || this.current === this.routing.el) on.minimize();
        else on.close();
      }
    });
    this.audio = h("audio", { autoplay: true });
    root.append(h("style", null, CSS), wrap, this.audio);
  }

  render(s: State): void {
    const focused = this.acted || this.root.activeElement !== null;
    this.acted = false;

    // Launcher: availability once the server has told it, else how the connection is.
    const link = linkText(s);
    this.launcherWrap.hidden = s.open;
    this.launcherWrap.classList.toggle("on", s.connected && s.available);
    this.caption.textContent =
      s.connected || !link ? (s.available ? TEXT.available : TEXT.notAvailable) : link;
    const news = unread(s);
    const last = news[news.length - 1];
    const shown = last ? `${news.length}/${last.key}` : "";
    if (shown !== this.shownNews) {
      // Changed only when there is news, so that the live region speaks once for each.
      this.shownNews = shown;
      this.count.hidden = this.preview.hidden = !last;
      if (last) {
        const n = String(news.length);
        this.count.replaceChildren(
          h("span", { "aria-hidden": "true" }, n),
          h("span", { class: "sr" }, `${n} ${news.length === 1 ? TEXT.newMessage.toLowerCase() : TEXT.newMessages}`),
        );
        const who = last.name && h("b", null, `${last.name}: `);
        this.preview.replaceChildren(h("span", null, who, firstLine(last.text)));
        this.unreadKey = news[0].key;
      }
    }

    // Which panel.
    let view: HTMLElement | null = null;
    if (s.open) {
      if (s.panel === "open") view = this.open.el;
      else if (s.panel === "invite" && s.invite) view = this.invite.el;
      else if (s.panel === "leave") view = this.leave.el;
      else if (s.panel === "chat") view = chatView(s) === "chat" ? this.chat.el : this.routing.el;
    }
    const changed = view !== this.current;
    if (changed) {
      this.card.replaceChildren(...(view ? [view] : []));
      if (view) view.insertBefore(this.link, view.children[1] || null); // under the title bar
      if (view === this.leave.el) {
        if (!this.leave.name.value) this.leave.name.value = this.open.name.value.trim();
      }
    }
    this.card.hidden = !view;
    this.link.hidden = !link || view === this.leave.el; // leaving a message needs no socket
    this.link.textContent = link || "";
    this.link.classList.toggle("ok", s.connected);
    const prev = this.current;
    this.current = view;

    // The invitation: the operator's own words, as text.
    this.invite.operator.textContent = s.invite ? s.invite.operator : "";
    this.invite.text.textContent = s.invite ? s.invite.text : "";

    // "Open chat with operator".
    this.open.notice.textContent = s.panel === "open" ? s.notice || "" : "";

    // Routing / queued.
    const queued = s.status === "queued";
    this.routing.queued.hidden = !queued;
    this.routing.leave.hidden = !queued;
    this.routing.position.hidden = s.position === null;
    this.routing.position.textContent = s.position === null ? "" : `Position in queue: ${s.position}`;
    this.routing.notice.textContent = view === this.routing.el ? s.notice || "" : "";

    // Chat window: it opens on the first line the visitor has not seen, else at the end.
    this.renderLog(s.entries);
    if (changed && view === this.chat.el) {
      const first = this.unreadKey !== null && this.rendered.get(this.unreadKey);
      const log = this.chat.log;
      log.scrollTop = first ? first.el.offsetTop - log.offsetTop - 8 : log.scrollHeight;
    }
    if (view === this.chat.el) this.unreadKey = null;
    const over = isFinal(s.status);
    this.chat.operator.textContent = s.operator || "";
    this.chat.badge.hidden = s.status !== "on_hold";
    this.chat.input.disabled = over;
    this.chat.send.disabled = over;
    const c = s.call;
    const live = inCall(c);
    this.chat.end.hidden = over || live; // the call bar's End communication does it
    this.call.bar.hidden = c.phase === "none" || c.phase === "waiting" || (c.phase === "mic" && s.panel !== "chat");
    this.call.text.textContent =
      c.phase === "invited" ? CALL_TEXT.invited
        : live && s.status === "on_hold" ? CALL_TEXT.onHold
          : c.phase === "connected" ? (c.peerMuted ? CALL_TEXT.peerMuted : CALL_TEXT.voice)
            : c.phase === "mic" ? CALL_TEXT.askMic : CALL_TEXT.connecting;
    this.call.live.hidden = this.call.meter.hidden = this.call.clock.hidden = !live;
    this.call.invite.hidden = c.phase !== "invited";
    this.call.mute.setAttribute("aria-pressed", String(c.muted));
    this.chat.close.hidden = !over;
    this.chat.notice.textContent = view === this.chat.el ? s.notice || "" : "";

    // Mail me this chat transcript: in place of the message box once the chat ended.
    const mailOn = mailShown(s);
    const m = mailNow(s);
    this.mail.form.hidden = !mailOn;
    this.chat.form.hidden = mailOn;
    // Send is disabled while the server answers: the address keeps the focus meanwhile.
    const onSend = this.root.activeElement === this.mail.send;
    const wasBusy = this.mail.send.disabled;
    this.mail.send.disabled = m.busy;
    // Sent: the address is in the result line; the field is ready for another one.
    if (wasBusy && !m.busy && !m.failed) this.mail.to.value = "";
    if (this.mail.result.textContent !== m.text) this.mail.result.textContent = m.text; // spoken once
    this.mail.result.classList.toggle("bad", m.failed);
    if (m.badAddress) this.mail.to.setAttribute("aria-invalid", "true");
    else this.mail.to.removeAttribute("aria-invalid");

    // Leave a message.
    this.leave.intro.textContent = s.leaveIntro || "";
    this.leave.intro.hidden = !s.leaveIntro;
    this.leave.form.hidden = s.leaveSent;
    this.leave.thanks.parentElement!.hidden = !s.leaveSent;
    this.leave.notice.textContent = s.panel === "leave" ? s.notice || "" : "";
    let firstWrong: HTMLElement | null = null;
    for (const key of ["name", "email", "text"] as const) {
      const error = s.leaveErrors[key] || "";
      const input = this.leave[key];
      const err = this.leave.errors[key];
      if (error) firstWrong = firstWrong || input;
      if (err.textContent === error) continue;
      err.textContent = error;
      err.hidden = !error;
      if (error) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", err.id);
      } else {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      }
    }
    // After sending, the answer (here or from the server) takes the visitor to a wrong field.
    const answered = this.sending && (firstWrong || s.leaveSent || s.notice);
    if (answered) this.sending = false;
    if (changed && prev === this.leave.el) {
      if (s.leaveSent) this.leave.form.reset();
    }

    // Focus follows the visitor's actions (never stolen from the host page).
    let target: HTMLElement | null = null;
    const closeX = view && view.querySelector<HTMLElement>(".x");
    if (changed) {
      if (view === this.open.el) target = this.open.name;
      else if (view === this.invite.el) target = this.invite.start;
      else if (view === this.leave.el) target = s.leaveSent ? closeX : this.leave.name;
      else if (view === this.chat.el) target = over ? this.chat.close : this.chat.input;
      else if (view === this.routing.el) target = closeX;
      else target = this.launcher;
    } else if (view === this.chat.el && over && !this.wasOver) {
      target = this.chat.close;
    } else if (view === this.leave.el && s.leaveSent && !this.wasSent) {
      target = closeX;
    } else if (view === this.leave.el && answered && firstWrong) {
      target = firstWrong; // its error is read with it
    }
    // A call control the visitor used went away (Accept, End voice): the message box next.
    const active = this.root.activeElement as HTMLElement | null;
    if (!target && view === this.chat.el && active && active.closest("[hidden]")) {
      target = over ? this.chat.close : this.chat.input;
    }
    if (!target && onSend && m.busy) target = this.mail.to;
    this.wasOver = over;
    this.wasSent = s.leaveSent;
    if (focused && target) target.focus({ preventScroll: true });
  }

  /** The mic level (0 to 1) and the call's duration, a few times a second during a call. */
  tick(level: number, clock: string): void {
    const pct = String(Math.round(level * 100));
    this.call.meter.setAttribute("aria-valuenow", pct);
    (this.call.meter.firstChild as HTMLElement).style.width = pct + "%";
    this.call.clock.textContent = clock;
  }

  private renderLog(entries: Entry[]): void {
    const log = this.chat.log;
    const first = entries.length ? entries[0].key : null;
    if (first !== this.firstKey) {
      log.replaceChildren();
      this.rendered.clear();
      this.firstKey = first;
    }
    let added = false;
    for (const entry of entries) {
      const seen = this.rendered.get(entry.key);
      if (seen && seen.entry === entry) continue;
      const el = this.entryElement(entry);
      if (seen) seen.el.replaceWith(el);
      else {
        log.append(el);
        added = true;
      }
      this.rendered.set(entry.key, { entry, el });
    }
    if (added) log.scrollTop = log.scrollHeight;
  }

  private entryElement(e: Entry): HTMLElement {
    if (e.who === "system") return h("p", { class: "m s" }, e.text);
    const mine = e.who === "visitor";
    const status = mine && e.state !== "sent" ? (e.state === "pending" ? "Sending…" : "Not sent") : null;
    return h(
      "div",
      { class: `m ${mine ? "v" : "o"} ${e.state}` },
      h("span", { class: "who" }, mine ? "You" : e.name || "Operator"),
      h("span", { class: "tx" }, renderText(e.text)),
      status !== null && h("span", { class: "st" }, status),
    );
  }
}
