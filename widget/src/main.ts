// Switchboard visitor widget: one script tag on any website gives it the "Click for Live Help"
// button. This file wires the connection (WebSocket with resume), storage and the UI to the
// pure reducer in state.ts.

import {
  MAX_MESSAGE_CHARS,
  PROTOCOL_VERSION,
  type Mode,
  type ClientInfo,
  type Page,
  type VisitorClientMsg,
  type VisitorServerMsg,
} from "../../shared/bindings/protocol";
import { Voice, clock, connectTimeout, inCall, needsMic } from "./call";
import { charCount, offlineMessagesUrl, serverBase, wsUrl } from "./config";
import { checkLeave, refusedField, sentence } from "./leave";
import { TICK_MS, beat } from "./link";
import { TEXT, mailFrame, reduce, restore, saved, unread, unsent, type Action, type State } from "./state";
import { UI } from "./ui";

const TOKEN_KEY = "switchboard.visitor_token";
/** This tab's chat as shown, kept across reloads (see `saved` in state.ts). */
const CHAT_KEY = "switchboard.chat";
const MIN_DELAY = 500;
const MAX_DELAY = 10_000;
/** How long "Connected" shows after a reconnection. */
const SETTLED_MS = 3_000;

function readToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function writeToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage blocked: the visitor is new on every page
  }
}

/** The page's own title while the widget flashes its own in the tab. */
let pageTitle: string | null = null;

function readChat(key: string): unknown {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null; // blocked or unreadable: the chat is replayed from the start
  }
}

/** Keeps the chat for a reload; what cannot be kept is removed, so a reload replays it all. */
function writeChat(key: string, text: string): void {
  try {
    if (text) sessionStorage.setItem(key, text);
    else sessionStorage.removeItem(key);
  } catch {
    try {
      sessionStorage.removeItem(key);
    } catch {
      // storage blocked
    }
  }
}

/** What the browser tells about the visitor, for the operators' Site Monitor. */
function client(): ClientInfo {
  let referrer: string | null = document.referrer || null;
  try {
    // Only another site is news: a page of this one is already in the visit.
    if (referrer && new URL(referrer).origin === location.origin) referrer = null;
  } catch {
    referrer = null;
  }
  return {
    referrer,
    language: navigator.language || null,
    utc_offset_min: -new Date().getTimezoneOffset(),
    user_agent: navigator.userAgent || null,
  };
}

function page(): Page {
  return { url: location.href, title: (pageTitle ?? document.title) || null };
}

function newClientId(): string {
  const c = (window as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
}

function start(script: HTMLScriptElement | null): void {
  if (document.getElementById("switchboard-widget")) return; // loaded twice
  const base = serverBase(script && script.src, script && script.getAttribute("data-server"), location.href);
  const host = document.createElement("div");
  host.id = "switchboard-widget";
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: "open" });

  const chatKey = `${CHAT_KEY}@${base}`;
  let state: State = restore(readToken(), readChat(chatKey));
  let keptChat = "";
  let ws: WebSocket | null = null;
  let ready = false; // welcome received on ws
  let delay = MIN_DELAY;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let beatTimer: ReturnType<typeof setInterval> | undefined;
  let opened = 0; // when the current socket was made
  let lastRx = 0; // when the server was last heard from on it
  let pinged: number | null = null; // when the last ping went on it
  let lastUrl = location.href;
  const queue: VisitorClientMsg[] = [];

  const raw = (frame: VisitorClientMsg): void => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };

  /** Sends now, or after the next welcome when the connection is down. */
  const send = (frame: VisitorClientMsg): void => {
    if (ready) raw(frame);
    else queue.push(frame);
  };

  const dispatch = (action: Action): void => {
    state = reduce(state, action);
    ui.render(state);
    flashTitle();
    callFollows();
    const kept = saved(state);
    const text = kept ? JSON.stringify(kept) : "";
    if (text !== keptChat) writeChat(chatKey, (keptChat = text));
  };

  // While messages wait unread and the visitor is on another tab, the tab's title takes
  // turns with "(2) New message"; the page's own title comes back when they are read.
  let flashTimer: ReturnType<typeof setInterval> | undefined;
  let flashed = "";
  const flashTitle = (): void => {
    const n = unread(state).length;
    if (n > 0 && document.hidden) {
      if (flashTimer !== undefined) return;
      pageTitle = document.title;
      flashTimer = setInterval(() => {
        if (document.title !== flashed) pageTitle = document.title; // the page set a new one
        const ours = `(${unread(state).length}) ${TEXT.newMessage}`;
        flashed = document.title === ours ? pageTitle! : ours;
        document.title = flashed;
      }, 1000);
    } else if (flashTimer !== undefined) {
      clearInterval(flashTimer);
      flashTimer = undefined;
      if (document.title === flashed) document.title = pageTitle!;
      pageTitle = null;
    }
  };
  document.addEventListener("visibilitychange", flashTitle);

  /** A message the server asked us to slow down for goes again when it says. */
  const sendLater = (clientId: string, secs: number): void => {
    setTimeout(() => {
      const e = unsent(state).find((x) => x.clientId === clientId);
      if (e && ready) raw({ type: "send", client_id: clientId, text: e.text });
    }, Math.max(1, secs) * 1000);
  };

  const onFrame = (frame: VisitorServerMsg): void => {
    if (frame.type === "call_ready") {
      // Normally after its call_started event; a call the widget gave up is left to fail.
      if (needsMic(state.call)) voice.start(frame.call_id, frame.ice_servers);
      return;
    }
    if (frame.type === "call_signal") {
      const sig = frame.signal;
      if (sig.kind === "mute") dispatch({ type: "ui_peer_mute", id: frame.call_id, muted: sig.muted });
      else voice.signal(frame.call_id, sig);
      return;
    }
    if (frame.type === "welcome") orphanCheck = true;
    const tokenBefore = state.token;
    dispatch(frame);
    if (frame.type === "error" && frame.error.code === "rate_limited" && frame.client_id !== null) {
      sendLater(frame.client_id, frame.error.retry_after_secs ?? 1);
    }
    if (state.token !== tokenBefore) writeToken(state.token);
    if (frame.type !== "welcome") return;
    if (state.resync) {
      drop(true); // our last_seq was another chat's: hello again with last_seq null
      return;
    }
    ready = true;
    delay = MIN_DELAY;
    if (state.relinked) setTimeout(() => dispatch({ type: "ui_link_settled" }), SETTLED_MS);
    for (const e of unsent(state)) raw({ type: "send", client_id: e.clientId!, text: e.text });
    const mail = mailFrame(state); // unanswered: again, with the same client_id
    if (mail) raw(mail);
    for (const f of queue.splice(0)) raw(f);
  };

  const connect = (): void => {
    clearTimeout(retryTimer);
    let sock: WebSocket;
    try {
      sock = new WebSocket(wsUrl(base));
    } catch {
      drop();
      return;
    }
    ws = sock;
    ready = false;
    opened = Date.now();
    lastRx = 0;
    pinged = null;
    clearInterval(beatTimer);
    beatTimer = setInterval(() => {
      const now = Date.now();
      const next = beat(now, { opened, heard: lastRx, pinged, ready });
      if (next === "dead") drop(); // the visitor sees Reconnecting… at once
      else if (next === "ping") {
        pinged = now;
        raw({ type: "ping" });
      }
    }, TICK_MS);
    sock.onopen = () => {
      raw({
        type: "hello",
        protocol: PROTOCOL_VERSION,
        visitor_token: state.token,
        page: page(),
        last_seq: state.lastSeq,
        client: client(),
      });
    };
    sock.onmessage = (e: MessageEvent) => {
      if (ws !== sock) return;
      lastRx = Date.now();
      let frame: VisitorServerMsg;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") onFrame(frame);
    };
    sock.onclose = () => {
      if (ws === sock) drop();
    };
  };

  /** Forgets the current socket and connects again after the backoff (or at once). */
  function drop(now = false): void {
    const sock = ws;
    ws = null;
    ready = false;
    clearInterval(beatTimer);
    clearTimeout(retryTimer);
    if (sock) {
      sock.onopen = sock.onmessage = sock.onclose = null;
      try {
        sock.close();
      } catch {
        // already closed
      }
    }
    if (state.connected) dispatch({ type: "ui_disconnected" });
    retryTimer = setTimeout(connect, now ? 0 : delay);
    if (!now) delay = Math.min(delay * 2, MAX_DELAY);
  }

  // The voice call: the peer follows the state after each change (hold mutes both ways, a
  // call gone from the state closes its peer, the microphone closes with the last use).
  let orphanCheck = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const callFollows = (): void => {
    const c = state.call;
    if (orphanCheck && (state.replayTo === null || (state.lastSeq ?? 0) >= state.replayTo)) {
      // The history is in: a call it shows in progress lost its peer with the page.
      orphanCheck = false;
      if (inCall(c) && voice.id !== c.id) {
        send({ type: "call_failed", call_id: c.id! });
        dispatch({ type: "ui_call_down" });
        return;
      }
    }
    if (inCall(c) && voice.id !== null && voice.id !== c.id) voice.close(); // an old call's peer
    if (!needsMic(c)) voice.stop();
    const held = state.status === "on_hold";
    voice.set(c.muted || held, held);
    if (inCall(c) && ticker === undefined) {
      ticker = setInterval(() => {
        const since = state.call.since;
        ui.tick(voice.level(), since === null ? "" : clock(Date.now() - since));
      }, 200);
    } else if (!inCall(c) && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };

  /** Opens the microphone for a call; false (and the visitor told) when it cannot. */
  const askMic = async (): Promise<boolean> => {
    dispatch({ type: "ui_mic" });
    const ok = await voice.mic();
    if (state.call.phase !== "mic") {
      callFollows(); // given up meanwhile: the microphone closes
      return false;
    }
    if (!ok) dispatch({ type: "ui_mic_refused" });
    return ok;
  };

  const ui = new UI(root, {
    launcher: () => dispatch({ type: "ui_launcher" }),
    close: () => dispatch({ type: "ui_close" }),
    minimize: () => dispatch({ type: "ui_minimize" }),
    start: async (name: string | null, mode: Mode) => {
      // Voice asks for the microphone first; refused, the visitor can choose Text chat.
      if (mode === "voice" && !(await askMic())) return;
      send({ type: "start_chat", name, mode });
      dispatch({ type: "ui_start", voice: mode === "voice" });
    },
    accept: async () => {
      if (await askMic()) send({ type: "call_accept" });
      else send({ type: "call_refuse" });
    },
    refuse: () => send({ type: "call_refuse" }),
    startInvite: () => dispatch({ type: "ui_invite_start" }),
    closeInvite: () => {
      send({ type: "end_chat" }); // declined: the operator is told
      dispatch({ type: "ui_close" });
    },
    mute: () => {
      dispatch({ type: "ui_mute" });
      const c = state.call;
      if (c.id !== null) send({ type: "call_signal", call_id: c.id, signal: { kind: "mute", muted: c.muted } });
    },
    endVoice: () => {
      if (state.call.id !== null) send({ type: "call_end", call_id: state.call.id });
    },
    cancel: () => {
      send({ type: "end_chat" });
      if (state.chatId === null || state.chatId === state.ignoreChat) dispatch({ type: "ui_close" });
    },
    leaveFromQueue: () => {
      send({ type: "end_chat" }); // the visitor would rather not wait
      dispatch({ type: "ui_leave" });
    },
    send: (text: string) => {
      if (!text.trim()) return false;
      if (charCount(text) > MAX_MESSAGE_CHARS) {
        dispatch({
          type: "ui_notice",
          text: `Your message is too long: at most ${MAX_MESSAGE_CHARS} characters.`,
        });
        return false;
      }
      const clientId = newClientId();
      dispatch({ type: "ui_send", clientId, text });
      if (ready) raw({ type: "send", client_id: clientId, text });
      return true;
    },
    endChat: () => send({ type: "end_chat" }),
    submitLeave: async (name: string, email: string, text: string) => {
      const errors = checkLeave(name, email, text);
      if (Object.keys(errors).length) {
        dispatch({ type: "ui_leave_errors", errors });
        return;
      }
      let notice = "The message could not be sent. Please try again.";
      try {
        const res = await fetch(offlineMessagesUrl(base), {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ visitor_token: state.token, name, email, text }),
        });
        if (res.ok) {
          dispatch({ type: "ui_left" });
          return;
        }
        const body = await res.json().catch(() => null);
        const field = refusedField(body);
        if (field) {
          // Refused for one field (the server's check may be stricter): say so next to it.
          dispatch({ type: "ui_leave_errors", errors: { [field]: sentence(body.message) } });
          return;
        }
        if (body && body.code === "rate_limited") notice = TEXT.pleaseWait;
        else if (body && typeof body.message === "string") notice = sentence(body.message);
      } catch {
        // network error: keep the generic notice
      }
      dispatch({ type: "ui_notice", text: notice });
    },
    editLeave: (field) => dispatch({ type: "ui_leave_edit", field }),
    mail: (to: string) => {
      const clientId = newClientId();
      dispatch({ type: "ui_mail", clientId, to });
      // Sent now if the form let it through; after the next welcome if the connection is down.
      const frame = mailFrame(state);
      if (frame && frame.client_id === clientId && ready) raw(frame);
    },
  });

  const pageChanged = () => {
    if (location.href === lastUrl) return;
    lastUrl = location.href;
    send({ type: "page_view", page: page() });
  };
  window.addEventListener("popstate", pageChanged);
  window.addEventListener("hashchange", pageChanged);
  window.addEventListener("online", () => {
    if (!ready) {
      delay = MIN_DELAY;
      drop(true);
    }
  });

  const voice = new Voice(ui.audio, {
    signal: (call_id, signal) => send({ type: "call_signal", call_id, signal }),
    connected: (call_id) => {
      send({ type: "call_connected", call_id });
      dispatch({ type: "ui_call_up", at: Date.now() });
    },
    failed: (call_id) => {
      send({ type: "call_failed", call_id });
      dispatch({ type: "ui_call_down" });
    },
  }, connectTimeout(script && script.getAttribute("data-voice-timeout")));

  ui.render(state);
  connect();
}

const script = document.currentScript as HTMLScriptElement | null;
if (document.body) start(script);
else document.addEventListener("DOMContentLoaded", () => start(script));
