// The widget's state and its pure reducer: every server frame and every local action goes
// through `reduce`, which returns a new state (the old one is never changed). The side
// effects (sending frames, storage, DOM) live in main.ts and ui.ts.

import type {
  ChatEvent,
  ChatStatus,
  EndReason,
  VisitorClientMsg,
  VisitorServerMsg,
} from "../../shared/bindings/protocol";
import { CALL_TEXT, NO_CALL, endedLine, inCall, type Call } from "./call";
import type { Field, FieldErrors } from "./leave";
import {
  asked, awaitingAck, checkAddress, mailError, mailView, refused, seeMail, type MailAsk, type MailSeen, type MailView,
} from "./mail";

export const TEXT = {
  launcher: "Click for Live Help",
  available: "Live Help Available",
  notAvailable: "Live Help Not Available",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  connected: "Connected",
  openTitle: "Open chat with operator",
  routingTitle: "Routing your call…",
  queued: "The operator is busy, your call has been queued.",
  chatTitle: "Chat with operator",
  leaveTitle: "Leave a message",
  noOperator: "No operator can answer right now.",
  onHold: "The operator has put the chat on hold and will be right back.",
  resumed: "The operator is back.",
  endedByOperator: "The operator has ended the chat.",
  endedByVisitor: "You have ended the chat.",
  thanks: "Thank you! Your message has been sent.",
  noVoice: "Voice chat is not available in this browser, please use Text chat",
  pleaseWait: "Please wait a moment, then try again.",
  placeholder: "Type your message",
  newMessage: "New message",
  newMessages: "new messages",
  invitation: "Incoming chat request",
  startChat: "Start Chat",
} as const;

/** What the open panel shows. "chat" covers routing, queue and the chat window. */
export type Panel = "none" | "open" | "leave" | "chat" | "invite";

/** An operator's invitation to chat ("Hello! I'm …"), until the visitor answers it. */
export interface Invite {
  operator: string;
  text: string;
}

/** One line of the message list. */
export interface Entry {
  key: number;
  who: "visitor" | "operator" | "system";
  /** The operator's name, for operator messages. */
  name: string | null;
  text: string;
  seq: number | null;
  clientId: string | null;
  /** Visitor messages: "pending" until acked or echoed, "failed" after an error. */
  state: "pending" | "sent" | "failed";
}

export interface State {
  available: boolean;
  /** Welcome received on the current connection. */
  connected: boolean;
  /** A welcome came once in this page's life: until then availability is not known. */
  everConnected: boolean;
  /** Connected again after a drop: "Connected" shows for a moment. */
  relinked: boolean;
  token: string | null;
  chatId: number | null;
  status: ChatStatus | null;
  endReason: EndReason | null;
  operator: string | null;
  position: number | null;
  /** Highest seq applied for `chatId` in this page's life. */
  lastSeq: number | null;
  /** A finished chat the visitor has left behind: its events are ignored. */
  ignoreChat: number | null;
  /** The chat's last seq when welcome came: replayed events before it keep the status. */
  replayTo: number | null;
  /** Our last_seq belonged to another chat: ignore events until the next welcome. */
  resync: boolean;
  entries: Entry[];
  nextKey: number;
  panel: Panel;
  /** Panel shown (true) or minimized to the launcher (false). */
  open: boolean;
  leaveIntro: string | null;
  leaveSent: boolean;
  /** What is wrong with each field of the message form, shown next to it. */
  leaveErrors: FieldErrors;
  notice: string | null;
  /** Key of the first operator or system line that came while the chat was out of view. */
  unreadFrom: number | null;
  /** The voice call beside the chat (see call.ts). */
  call: Call;
  /** An operator's invitation not answered yet (the chat is `invited`). */
  invite: Invite | null;
  /** Transcripts can be mailed (mail is configured on the server). */
  mail: boolean;
  /** The visitor's latest "Mail me this chat transcript" (see mail.ts). */
  mailAsk: MailAsk | null;
  /** The visitor's transcript mails, as the chats' events report them. */
  mails: MailSeen[];
}

export function initialState(token: string | null): State {
  return {
    available: false,
    connected: false,
    everConnected: false,
    relinked: false,
    token,
    chatId: null,
    status: null,
    endReason: null,
    operator: null,
    position: null,
    lastSeq: null,
    ignoreChat: null,
    replayTo: null,
    resync: false,
    entries: [],
    nextKey: 1,
    panel: "none",
    open: false,
    leaveIntro: null,
    leaveSent: false,
    leaveErrors: {},
    notice: null,
    unreadFrom: null,
    call: NO_CALL,
    invite: null,
    mail: false,
    mailAsk: null,
    mails: [],
  };
}

/**
 * What a reload keeps (in sessionStorage: this tab only): the chat as it was shown, so that
 * the page shows it again at once and hello resumes from its last seq instead of replaying it.
 */
export interface Saved {
  chatId: number;
  lastSeq: number | null;
  status: ChatStatus | null;
  endReason: EndReason | null;
  operator: string | null;
  ignoreChat: number | null;
  entries: Entry[];
  nextKey: number;
  /** The chat was in view, not minimized. */
  open: boolean;
  unreadFrom: number | null;
  /** A call in progress: after a reload its peer is gone, and the widget says so. */
  callId?: number | null;
  /** An invitation not answered yet. */
  invite?: Invite | null;
}

export function saved(s: State): Saved | null {
  if (s.chatId === null || s.resync) return null;
  const { chatId, lastSeq, status, endReason, operator, ignoreChat, entries, nextKey, unreadFrom } = s;
  const open = s.open && (s.panel === "chat" || s.panel === "invite");
  const callId = inCall(s.call) ? s.call.id : null;
  const invite = s.invite;
  return { chatId, lastSeq, status, endReason, operator, ignoreChat, entries, nextKey, open, unreadFrom, callId, invite };
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const orNull = <T>(v: unknown, ok: (v: unknown) => v is T): T | null => (ok(v) ? v : null);
const isText = (v: unknown): v is string => typeof v === "string";

function isEntry(e: unknown): e is Entry {
  const x = e as Entry;
  return (
    !!x && isInt(x.key) && ["visitor", "operator", "system"].includes(x.who) && isText(x.text) &&
    (x.name === null || isText(x.name)) && (x.seq === null || isInt(x.seq)) &&
    (x.clientId === null || isText(x.clientId)) && ["pending", "sent", "failed"].includes(x.state)
  );
}

/** The state a reloaded page starts from: what it kept, if it kept something sound. */
export function restore(token: string | null, kept: unknown): State {
  const s = initialState(token);
  const k = kept as Saved | null;
  if (!k || !isInt(k.chatId) || !Array.isArray(k.entries) || !k.entries.every(isEntry)) return s;
  const chat: State = {
    ...s,
    chatId: k.chatId,
    lastSeq: orNull(k.lastSeq, isInt),
    status: orNull(k.status, isText) as ChatStatus | null,
    endReason: orNull(k.endReason, isText) as EndReason | null,
    operator: orNull(k.operator, isText),
    ignoreChat: orNull(k.ignoreChat, isInt),
    entries: k.entries,
    nextKey: Math.max(1, isInt(k.nextKey) ? k.nextKey : 1, ...k.entries.map((e) => e.key + 1)),
    unreadFrom: orNull(k.unreadFrom, isInt),
  };
  // A finished chat is not shown again after a reload (as on a fresh page); an open one is,
  // as it was: in view or minimized.
  if (isFinal(chat.status) || chat.ignoreChat === chat.chatId) return { ...chat, ignoreChat: chat.chatId };
  // A call that was in progress lost its peer with the page: main.ts reports it failed.
  const call: Call = isInt(k.callId) ? { ...NO_CALL, phase: "connecting", id: k.callId } : NO_CALL;
  const i = k.invite;
  if (chat.status === "invited" && i && isText(i.operator) && isText(i.text)) {
    return { ...chat, panel: "invite", open: k.open === true, invite: { operator: i.operator, text: i.text } };
  }
  return { ...chat, panel: "chat", open: k.open === true, call };
}

/** Things the visitor (or the connection) did. */
export type LocalAction =
  | { type: "ui_launcher" }
  | { type: "ui_close" }
  | { type: "ui_minimize" }
  | { type: "ui_start"; voice?: boolean }
  | { type: "ui_invite_start" }
  | { type: "ui_leave" }
  | { type: "ui_left" }
  | { type: "ui_send"; clientId: string; text: string }
  /** Send under "Mail me this chat transcript", with a fresh idempotency key. */
  | { type: "ui_mail"; clientId: string; to: string }
  | { type: "ui_notice"; text: string | null }
  | { type: "ui_leave_errors"; errors: FieldErrors }
  | { type: "ui_leave_edit"; field: Field }
  | { type: "ui_disconnected" }
  | { type: "ui_link_settled" }
  /** The browser asks for the microphone; then it was refused (or there is none). */
  | { type: "ui_mic" }
  | { type: "ui_mic_refused" }
  /** This browser's audio connected, at this local time. */
  | { type: "ui_call_up"; at: number }
  /** The audio could not connect: the bar goes at once (the server's call_ended says why). */
  | { type: "ui_call_down" }
  | { type: "ui_mute" }
  | { type: "ui_peer_mute"; id: number; muted: boolean };

export type Action = VisitorServerMsg | LocalAction;

export function isFinal(status: ChatStatus | null): boolean {
  return status === "ended" || status === "missed";
}

/** The visitor has a chat that is neither finished nor left behind. */
export function hasChat(s: State): boolean {
  return s.chatId !== null && s.chatId !== s.ignoreChat && !isFinal(s.status);
}

/**
 * What the visitor is told about the connection: nothing while it is fine, "Connecting…"
 * until the first welcome (never "Not Available" before the server has said so),
 * "Reconnecting…" after a drop, "Connected" for a moment after.
 */
export function linkText(s: State): string | null {
  if (s.resync) return null; // connecting again on purpose, at once
  if (s.connected) return s.relinked ? TEXT.connected : null;
  return s.everConnected ? TEXT.reconnecting : TEXT.connecting;
}

/** What the "chat" panel shows. */
export function chatView(s: State): "routing" | "chat" {
  if (s.chatId === null || s.chatId === s.ignoreChat) return "routing"; // start_chat sent
  return s.status === "active" || s.status === "on_hold" || isFinal(s.status)
    ? "chat"
    : "routing";
}

/** "Mail me this chat transcript" shows: mail is on and the ended chat is in view. */
export function mailShown(s: State): boolean {
  return s.mail && isFinal(s.status) && s.chatId !== s.ignoreChat && chatView(s) === "chat";
}

/** What "Mail me this chat transcript" says about the shown chat. */
export function mailNow(s: State): MailView {
  return mailView(s.mailAsk, s.mails, s.chatId);
}

/**
 * The `mail_transcript` frame of the request the server has not answered (null: none); the
 * same client_id each time, so a retry after a drop mails nothing more.
 */
export function mailFrame(s: State): Extract<VisitorClientMsg, { type: "mail_transcript" }> | null {
  const a = s.mailAsk;
  return awaitingAck(a) ? { type: "mail_transcript", client_id: a.clientId, chat_id: a.chatId, email: a.to } : null;
}

/** The operator and system lines the visitor has not seen yet (the chat was minimized). */
export function unread(s: State): Entry[] {
  const from = s.unreadFrom;
  return from === null ? [] : s.entries.filter((e) => e.key >= from && e.who !== "visitor");
}

/** A message's first line that has text, for the launcher; long ones are cut. */
export function firstLine(text: string, max = 120): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l) || "";
  const chars = Array.from(line);
  return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : line;
}

/** Unacknowledged visitor messages, to (re)send after each welcome. */
export function unsent(s: State): Entry[] {
  return s.entries.filter((e) => e.who === "visitor" && e.state === "pending" && e.clientId);
}

function line(s: State, who: Entry["who"], text: string, extra?: Partial<Entry>): State {
  const entry: Entry = {
    key: s.nextKey,
    who,
    name: null,
    text,
    seq: null,
    clientId: null,
    state: "sent",
    ...extra,
  };
  return { ...s, entries: [...s.entries, entry], nextKey: s.nextKey + 1 };
}

function leave(s: State, intro: string | null): State {
  return {
    ...s,
    panel: "leave",
    open: true,
    leaveIntro: intro,
    leaveSent: false,
    leaveErrors: {},
    notice: null,
  };
}

/** Forgets the chat shown (the server no longer has it for us): back to the launcher. */
function dropChat(s: State): State {
  s = { ...s, chatId: null, status: null, endReason: null, operator: null, position: null };
  s = { ...s, lastSeq: null, replayTo: null, entries: [], unreadFrom: null };
  return s.panel === "chat" ? { ...s, panel: "none", open: false } : s;
}

function forget(s: State): State {
  return { ...s, ignoreChat: s.chatId, position: null, unreadFrom: null };
}

/** Lines added from key `from` on wait as unread while the chat is out of view. */
function unseen(s: State, from: number): State {
  if (s.unreadFrom !== null || (s.open && s.panel === "chat")) return s;
  const first = s.entries.find((e) => e.key >= from && e.who !== "visitor");
  return first ? { ...s, unreadFrom: first.key } : s;
}

function applyEvent(s: State, ev: ChatEvent): State {
  if (s.resync || ev.chat_id === s.ignoreChat) return s;
  if (ev.chat_id !== s.chatId) {
    // A new chat (or the first one this page sees): start afresh.
    s = {
      ...s,
      chatId: ev.chat_id,
      status: null,
      endReason: null,
      operator: null,
      position: null,
      lastSeq: null,
      replayTo: null,
      entries: [],
      unreadFrom: null,
    };
  }
  if (s.lastSeq !== null && ev.seq <= s.lastSeq) return s; // already applied
  const before = s.status;
  // While the history is replayed, the status stays the one welcome gave (no flicker through
  // "Routing your call…" on a reload); the last replayed event brings the current one.
  const replaying = s.replayTo !== null && ev.seq < s.replayTo && before !== null;
  s = { ...s, lastSeq: ev.seq, status: replaying ? before : ev.status };
  const k = ev.kind;
  switch (k.type) {
    case "invited": {
      s = { ...s, operator: k.operator.name, invite: { operator: k.operator.name, text: k.text } };
      // Shown once: an invitation this page only learns from the history does not pop up.
      const shown = s.replayTo !== null && ev.seq <= s.replayTo && before !== null;
      return s.panel === "leave" || s.panel === "open" ? s : { ...s, panel: "invite", open: s.open || !shown };
    }
    case "message": {
      const a = k.author;
      if (a.kind === "system") return line(s, "system", k.text);
      if (a.kind === "visitor" && k.client_id !== null) {
        const i = s.entries.findIndex((e) => e.clientId === k.client_id);
        if (i >= 0) {
          const entries = s.entries.slice();
          entries[i] = { ...entries[i], seq: ev.seq, state: "sent" };
          return { ...s, entries };
        }
      }
      return line(s, a.kind, k.text, {
        name: a.kind === "operator" ? a.name : null,
        seq: ev.seq,
        clientId: k.client_id,
      });
    }
    case "accepted":
      s = { ...s, invite: null };
      s = { ...s, operator: k.operator.name, position: null };
      break;
    case "on_hold":
      s = line(s, "system", TEXT.onHold);
      break;
    case "resumed":
      s = line(s, "system", TEXT.resumed);
      break;
    case "call_invited":
      if (s.call.phase === "none") s = { ...s, call: { ...NO_CALL, phase: "invited" } };
      break;
    case "call_started":
      s = { ...s, call: { ...NO_CALL, phase: "connecting", id: ev.seq } };
      break;
    case "transcript_mail":
      // A mail of the visitor's changes nothing else about the chat.
      return k.by.kind === "visitor"
        ? { ...s, mails: seeMail(s.mails, ev.chat_id, ev.seq, k.mail_id, k.state, k.detail) }
        : s;
    case "call_ended": {
      s = { ...s, call: NO_CALL };
      const text = endedLine(k.reason, k.by);
      if (text) s = line(s, "system", text);
      break;
    }
    case "ended": {
      if (before === "invited") {
        // Closed, left unanswered, or taken back by the operator: the invitation goes away.
        const away = s.panel === "invite";
        return { ...forget(s), invite: null, panel: away ? "none" : s.panel, open: away ? false : s.open };
      }
      s = { ...s, endReason: k.reason, position: null, call: NO_CALL };
      if (k.reason === "no_operator") {
        return leave(forget(line(s, "system", TEXT.noOperator)), TEXT.noOperator);
      }
      s = line(s, "system", k.reason === "operator" ? TEXT.endedByOperator : TEXT.endedByVisitor);
      if (s.panel !== "chat") return forget(s); // the visitor is elsewhere (e.g. leaving a message)
      if (k.reason === "visitor" && s.operator === null) {
        return { ...forget(s), panel: "none", open: false }; // cancelled while routing
      }
      return s;
    }
    default:
      break;
  }
  if (isFinal(ev.status)) {
    // Missed (the visitor left before anyone took it) without an ended event.
    if (s.panel === "chat" && s.operator !== null) return s;
    s = forget(s);
    return s.panel === "chat" ? { ...s, panel: "none", open: false } : s;
  }
  if (before !== ev.status && s.panel !== "leave") {
    // Requested, queued, accepted: the chat panel follows the chat.
    s = { ...s, panel: "chat", open: s.open || ev.status === "active" || before === null };
  }
  return s;
}

export function reduce(s: State, a: Action): State {
  let next = step(s, a);
  const p = next.call.phase;
  // A call (or the asking for one) goes with the chat or the dialog it belongs to.
  if (
    p !== "none" &&
    (next.panel === "none" || next.panel === "leave" || (p === "waiting" && next.panel === "open") ||
      (isFinal(next.status) && next.chatId !== next.ignoreChat))
  ) {
    next = { ...next, call: NO_CALL };
  }
  // Whatever brings the chat into view shows what was unread.
  return next.unreadFrom !== null && next.open && next.panel === "chat"
    ? { ...next, unreadFrom: null }
    : next;
}

function step(s: State, a: Action): State {
  switch (a.type) {
    case "welcome": {
      s = {
        ...s,
        connected: true,
        everConnected: true,
        relinked: s.resync ? s.relinked : s.everConnected && !s.connected,
        available: a.available,
        token: a.visitor_token,
        resync: false,
        mail: a.mail,
      };
      const c = a.chat;
      const mine = s.chatId !== null && s.chatId !== s.ignoreChat;
      // The server knows no chat of ours, or a later one took its place: ours is gone.
      if (!c) return mine ? dropChat(s) : s;
      if (isFinal(c.status) && mine && c.id !== s.chatId) s = dropChat(s);
      if (isFinal(c.status)) {
        // A reloaded page shows the launcher, not an old finished chat; a page that still
        // shows that chat keeps it (its last events are replayed after our last_seq).
        return c.id === s.chatId && s.ignoreChat !== c.id ? s : { ...s, ignoreChat: c.id };
      }
      if (c.id === s.chatId) {
        return { ...s, operator: c.operator ? c.operator.name : s.operator, replayTo: c.last_seq };
      }
      if (s.lastSeq !== null) {
        // Our last_seq counted another chat's events: start over with last_seq null.
        return { ...s, resync: true, chatId: null, lastSeq: null, status: null, entries: [], unreadFrom: null };
      }
      return {
        ...s,
        chatId: c.id,
        status: c.status,
        operator: c.operator ? c.operator.name : null,
        endReason: null,
        replayTo: c.last_seq,
        entries: [],
        unreadFrom: null,
        // An invitation shown on an earlier page waits behind the launcher on this one.
        panel: c.status === "invited" ? "invite" : "chat",
        open: c.status !== "invited",
      };
    }
    case "availability":
      return { ...s, available: a.available };
    case "mail":
      return { ...s, mail: a.enabled };
    case "event":
      return unseen(applyEvent(s, a.event), s.nextKey);
    case "queue_position":
      return a.chat_id === s.chatId ? { ...s, position: a.position } : s;
    case "ack": {
      const m = s.mailAsk;
      if (awaitingAck(m) && m.clientId === a.client_id) return { ...s, mailAsk: { ...m, seq: a.seq } };
      const i = s.entries.findIndex((e) => e.clientId === a.client_id);
      if (i < 0) return s;
      const entries = s.entries.slice();
      entries[i] = { ...entries[i], seq: a.seq, state: "sent" };
      return { ...s, entries };
    }
    case "error": {
      const m = s.mailAsk;
      if (awaitingAck(m) && m.clientId === a.client_id) return { ...s, mailAsk: mailError(m, a.error) };
      const limited = a.error.code === "rate_limited";
      const msg = limited ? TEXT.pleaseWait : a.error.message;
      if (a.client_id !== null && limited) {
        return { ...s, notice: msg }; // the message stays pending and is sent again
      }
      if (a.client_id !== null) {
        const entries = s.entries.map((e) =>
          e.clientId === a.client_id ? { ...e, state: "failed" as const } : e,
        );
        return { ...s, entries, notice: msg };
      }
      if (a.error.code === "unauthorized" || a.error.code === "token_expired") {
        s = { ...s, token: null };
      }
      if (a.error.code === "no_operator_available") {
        return { ...leave(s, TEXT.noOperator), notice: null };
      }
      if (s.panel === "chat" && (s.chatId === null || s.chatId === s.ignoreChat)) {
        return { ...s, panel: "open", notice: msg }; // start_chat failed
      }
      return { ...s, notice: msg };
    }
    case "pong":
      return s;
    case "ui_launcher":
      if (s.invite && s.status === "invited" && s.chatId !== s.ignoreChat) return { ...s, panel: "invite", open: true };
      if (hasChat(s) || (s.panel === "chat" && s.chatId !== s.ignoreChat && s.chatId !== null)) {
        return { ...s, panel: "chat", open: true };
      }
      // Until the server has said whether anyone can answer, the visitor may ask: the
      // request goes once connected, and "no operator" brings the message form then.
      if (s.available || !s.everConnected) return { ...s, panel: "open", open: true, notice: null };
      return leave(s, null);
    case "ui_close":
      if (s.panel === "chat" && hasChat(s)) return { ...s, open: false };
      return { ...(isFinal(s.status) ? forget(s) : s), panel: "none", open: false, notice: null };
    case "ui_minimize":
      return { ...s, open: false };
    case "ui_invite_start":
      // Start Chat: "Open chat with operator" asks for the name and text or voice.
      return { ...s, panel: "open", open: true, notice: null };
    case "ui_start":
      return {
        ...s,
        panel: "chat",
        open: true,
        notice: null,
        position: null,
        call: a.voice ? { ...NO_CALL, phase: "waiting" } : NO_CALL,
      };
    case "ui_mic":
      return { ...s, call: { ...s.call, phase: "mic" }, notice: s.panel === "open" ? CALL_TEXT.askMic : null };
    case "ui_mic_refused":
      return { ...s, call: NO_CALL, notice: s.panel === "open" ? CALL_TEXT.micRefused : CALL_TEXT.micRefusedInvite };
    case "ui_call_up":
      return s.call.phase === "connecting" ? { ...s, call: { ...s.call, phase: "connected", since: a.at } } : s;
    case "ui_call_down":
      return inCall(s.call) ? { ...s, call: NO_CALL } : s;
    case "ui_mute":
      return { ...s, call: { ...s.call, muted: !s.call.muted } };
    case "ui_peer_mute":
      return s.call.id === a.id ? { ...s, call: { ...s.call, peerMuted: a.muted } } : s;
    case "ui_leave":
      return leave(s, null);
    case "ui_left":
      return { ...s, leaveSent: true, leaveErrors: {}, notice: null };
    case "ui_leave_errors":
      return { ...s, leaveErrors: a.errors, notice: null };
    case "ui_leave_edit": {
      if (!s.leaveErrors[a.field]) return s;
      const leaveErrors = { ...s.leaveErrors };
      delete leaveErrors[a.field]; // checked again when sent
      return { ...s, leaveErrors };
    }
    case "ui_send":
      return {
        ...line(s, "visitor", a.text, { clientId: a.clientId, state: "pending" }),
        notice: null,
      };
    case "ui_mail": {
      // One request at a time, for the ended chat in view.
      if (!mailShown(s) || mailNow(s).busy) return s;
      const to = a.to.trim();
      const wrong = checkAddress(to);
      return { ...s, mailAsk: wrong ? refused(s.chatId!, to, wrong) : asked(s.chatId!, a.clientId, to) };
    }
    case "ui_notice":
      return { ...s, notice: a.text };
    case "ui_disconnected":
      return { ...s, connected: false, relinked: s.resync && s.relinked };
    case "ui_link_settled":
      return { ...s, relinked: false };
    default:
      return s;
  }
}
