// A tiny in-memory stand-in for the app's Rust side, installed at Tauri's IPC boundary with
// `mockIPC` (events through `shouldMockEvents`). It implements the UI's commands and emits
// `snapshot` / `incoming_request` like the real shell. Tests steer it through `window.__fake`.
import { emit } from "@tauri-apps/api/event";
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import type {
  CannedMessage,
  ChatAction,
  ChatSummary,
  ChatView,
  CommandError,
  ConnectionState,
  HistoryView,
  MailInfo,
  MailState,
  MonitorView,
  OfflineMessage,
  ReportChatsQuery,
  ReportQuery,
  ReportTable,
  SiteVisitor,
  Transcript,
  UiSnapshot,
  VisitorProfile,
} from "../src/bindings";
import { FakeReports, REPORT_TZ } from "./fake-reports";

export interface Seed {
  signedIn?: boolean;
  available?: boolean;
  /** The operator signed in is an admin (Reports: every operator's figures). */
  admin?: boolean;
}

export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

/** What the tests call each chat action: `act`'s action, but End chat is `end_chat`. */
const ACTION_NAMES: Record<ChatAction, string> = {
  accept: "accept",
  decline: "decline",
  queue: "queue",
  hold: "hold",
  resume: "resume",
  end: "end_chat",
};

const ME = { id: 1, email: "olga@example.com", name: "Olga Berg", is_admin: false, available: false, ring_group: 1 };

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export class FakeBackend {
  snap: UiSnapshot;
  calls: Call[] = [];
  failures = new Map<string, CommandError>();
  offlineMessages: OfflineMessage[] = [
    { id: 1, visitor_id: 40, chat_id: null, name: "Pia Lund", email: "pia@example.org", text: "Please call me back about my order <b>#4411</b>.", created_at: Date.now() - 3600_000,
      replied_at: null, replied_by: null },
  ];
  /** The newest offline message the operator has seen (offline_messages_read). */
  offlineReadUpTo = 1;
  /** How long a queued transcript takes to be sent (ms); null: it waits for `settleMail`. */
  mailDelayMs: number | null = 1500;
  private nextMail = 900;
  private nextChat = 100;
  private nextSeq = 1000;
  private nextCanned = 10;
  private nextPending = 1;

  /** Reports: scripted figures, the chats behind them, pushes, CSV paths. */
  reports = new FakeReports();
  private admin: boolean;

  constructor(seed: Seed) {
    this.snap = FakeBackend.signedOut();
    this.admin = seed.admin ?? false;
    if (seed.signedIn) this.signIn("http://127.0.0.1:8080", ME.email, seed.available ?? true);
  }

  static signedOut(): UiSnapshot {
    return { signed_in: null, connection: "online", pending: [], refused: [], requests: [], queue: [], chats: [], canned: [], settings: null, at_cap: false,
      mail: null, offline_unread: 0 };
  }

  /** Ended chats History lists (newest first), and their transcripts' events. */
  ended: Transcript[] = [];
  /** History's page size here (the core's is 30). */
  historyPage = 3;
  private nextRefused = 500;

  private signIn(server: string, email: string, available: boolean): void {
    this.snap.signed_in = { server, operator: { ...ME, email, available, is_admin: this.admin } };
    this.snap.connection = "online";
    this.snap.settings = { operator_name: ME.name, default_invitation: "Hello! I'm %name%.", max_chats_per_operator: 5, ring_timeout_secs: 60, widget_origins: [],
      limits: { chats_per_visitor_per_minute: 3, chats_per_address_per_minute: 20, new_visitors_per_address_per_minute: 60,
        offline_messages_per_address_per_minute: 5, frames_per_connection_per_second: 20, logins_per_account_per_minute: 10,
        logins_per_address_per_minute: 30, transcripts_per_chat: 5, mails_per_address_per_hour: 10 }, time_zone: REPORT_TZ };
    this.snap.canned = [
      { id: 1, title: "Greeting", text: "Hello! How can I help you today?", updated_at: 1 },
      { id: 2, title: "Shipping times", text: "Orders ship within 2 working days.", updated_at: 1 },
      { id: 3, title: "Thanks", text: "Thank you for chatting with us!", updated_at: 1 },
    ];
  }

  // ---- IPC ----------------------------------------------------------------------------------

  handle(cmd: string, args: Record<string, unknown>): unknown {
    // `act` is logged, and failed by `failNext`, under its action's name ("accept", "hold",
    // "end_chat"…) with the chat id alone, so tests read what the operator asked for.
    const action = args?.action as ChatAction;
    const name = cmd !== "act" ? cmd : (ACTION_NAMES[action] ?? `act:${String(action)}`);
    this.calls.push({ cmd: name, args: clone(cmd === "act" ? { chatId: args.chatId } : (args ?? {})) });
    const fail = this.failures.get(name);
    if (fail) {
      this.failures.delete(name);
      return Promise.reject(fail);
    }
    const s = this.snap;
    const chatId = args?.chatId as number;
    const offline = s.connection !== "online";
    switch (cmd) {
      case "snapshot":
        return clone(s);
      case "sign_in": {
        if (args.password !== "secret") return Promise.reject({ code: "unauthorized", message: "Wrong e-mail or password" });
        this.signIn(String(args.server), String(args.email), false);
        this.changed();
        return clone(s);
      }
      case "sign_out":
        this.snap = FakeBackend.signedOut();
        this.changed();
        return clone(this.snap);
      case "set_available":
        s.signed_in!.operator.available = Boolean(args.available);
        if (offline) this.pend(null, "Live Help");
        return this.done();
      case "act":
        return this.act(action, chatId, offline);
      case "send_message": {
        const v = this.chat(chatId);
        v.messages.push({ seq: offline ? null : ++this.nextSeq, at: Date.now(), author: { kind: "operator", id: ME.id, name: ME.name }, text: String(args.text), pending: offline });
        if (offline) this.pend(chatId, "Send message");
        return this.done();
      }
      case "mark_read":
        this.chat(chatId).unread = 0;
        return this.done();
      case "save_canned": {
        const id = args.id as number | null;
        const item: CannedMessage = { id: id ?? ++this.nextCanned, title: String(args.title), text: String(args.text), updated_at: Date.now() };
        s.canned = [...s.canned.filter((c) => c.id !== item.id), item].sort((a, b) => a.title.localeCompare(b.title));
        return this.done();
      }
      case "delete_canned":
        s.canned = s.canned.filter((c) => c.id !== args.id);
        return this.done();
      case "visitor_profile":
        return clone(this.profile(args.visitorId as number));
      case "offline_messages":
        return clone(this.offlineMessages);
      case "offline_messages_read": {
        const upTo = Number(args.upTo);
        this.offlineReadUpTo = Math.max(this.offlineReadUpTo, upTo);
        this.countUnread();
        return this.done();
      }
      case "reply_offline": {
        if (!s.mail) return Promise.reject({ code: "mail_unavailable", message: "Mail is not set up on the server." });
        if (offline) return Promise.reject({ code: "offline", message: "You are offline: reply when the connection is back." });
        if (!String(args.text ?? "").trim()) return Promise.reject({ code: "invalid_input", message: "The reply is empty." });
        const m = this.offlineMessages.find((x) => x.id === args.id);
        if (!m) return Promise.reject({ code: "not_found", message: "Offline message not found." });
        m.replied_at = Date.now();
        m.replied_by = s.signed_in!.operator.name;
        return clone(m);
      }
      case "mail_transcript":
        return this.mailTranscript(chatId, String(args.email ?? ""), offline);
      case "monitor_open":
        this.monitorOpen = true;
        return this.monitorView();
      case "invite_visitor":
        return null;
      case "set_display_name": {
        const name = String(args.name).trim();
        if (!name) return Promise.reject({ code: "invalid_input", message: "Name is required." });
        s.signed_in!.operator.name = name;
        return this.done();
      }
      case "monitor_close":
        this.monitorOpen = false;
        return null;
      case "call_invite": {
        const v = this.chat(chatId);
        if (v.call) return Promise.reject({ code: "illegal_transition", message: "There is a call in this chat already." });
        v.call = { call_id: 0, phase: "inviting", connected_at: null, muted: false, visitor_muted: false };
        return this.done();
      }
      case "call_end": {
        const v = this.chat(chatId);
        if (!v.call) return Promise.reject({ code: "illegal_transition", message: "There is no call in this chat." });
        v.call = null;
        v.call_note = "Voice call ended.";
        return this.done();
      }
      case "call_mute": {
        const v = this.chat(chatId);
        if (!v.call) return Promise.reject({ code: "illegal_transition", message: "There is no call in this chat." });
        v.call.muted = Boolean(args.muted);
        return this.done();
      }
      case "set_draft":
      case "network_changed":
      case "painted":
        return null;
      case "dismiss_refused":
        s.refused = s.refused.filter((r) => r.id !== args.id);
        return this.done();
      case "retry_refused": {
        const r = s.refused.find((x) => x.id === args.id);
        if (!r) return Promise.reject({ code: "not_found", message: "That action is no longer waiting." });
        s.refused = s.refused.filter((x) => x.id !== args.id);
        s.refused.push({ ...r, id: ++this.nextRefused });
        this.changed();
        return Promise.reject({ code: r.code, message: r.reason });
      }
      case "history":
        return clone(this.historyPage_(String(args.search ?? ""), (args.before as number | null) ?? null));
      case "transcript": {
        const t = this.ended.find((x) => x.chat.id === args.chatId) ?? this.reports.transcript(chatId);
        return t ? clone(t) : Promise.reject({ code: "not_found", message: "Chat not found." });
      }
      case "report":
      case "report_chats":
      case "report_pushes":
      case "export_report": {
        // Reports are asked of the server: offline they fail like the core's
        if (offline) return Promise.reject({ code: "offline", message: "You are offline." });
        const me = { id: s.signed_in!.operator.id, isAdmin: s.signed_in!.operator.is_admin };
        if (cmd === "report") return this.reports.report(args.query as ReportQuery, me);
        if (cmd === "report_chats") return this.reports.chats(args.query as ReportChatsQuery);
        if (cmd === "report_pushes") return this.reports.pushesOf(chatId);
        return this.reports.exportPath(args.table as ReportTable, args.query as ReportQuery, Boolean(args.bom));
      }
      default:
        return Promise.reject({ code: "internal", message: `unknown command ${cmd}` });
    }
  }

  private historyPage_(search: string, before: number | null): HistoryView {
    const q = search.trim().toLowerCase();
    const all = this.ended
      .filter((t) => before === null || t.chat.id < before)
      .filter((t) => !q || (t.chat.visitor_name ?? "").toLowerCase().includes(q) ||
        t.events.some((e) => e.kind.type === "message" && e.kind.text.toLowerCase().includes(q)))
      .sort((a, b) => b.chat.id - a.chat.id);
    const chats = all.slice(0, this.historyPage).map((t) => t.chat);
    return { chats, next_before: all.length > this.historyPage ? chats[chats.length - 1].id : null, from_cache: this.snap.connection !== "online" };
  }

  /** Accept, Decline, Queue, Hold, Resume, End chat. */
  private act(action: ChatAction, chatId: number, offline: boolean): unknown {
    const s = this.snap;
    switch (action) {
      case "accept": {
        const c = this.take(chatId);
        if (!c) return Promise.reject({ code: "already_taken", message: "Another operator has already taken this chat" });
        c.status = "active";
        c.operator = { id: ME.id, name: ME.name };
        c.accepted_at = Date.now();
        s.chats.push({ chat: c, messages: [], unread: 0, ending: false, draft: "", call: null, call_note: null, mails: [], visitor_email: null });
        return this.done();
      }
      case "decline":
        s.requests = s.requests.filter((r) => r.id !== chatId);
        return this.done();
      case "queue": {
        const c = s.requests.find((r) => r.id === chatId);
        if (!c) return Promise.reject({ code: "illegal_transition", message: "This chat can no longer be queued" });
        s.requests = s.requests.filter((r) => r.id !== chatId);
        c.status = "queued";
        s.queue.push(c);
        return this.done();
      }
      case "hold":
      case "resume": {
        const v = this.chat(chatId);
        v.chat.status = action === "hold" ? "on_hold" : "active";
        if (offline) this.pend(chatId, action === "hold" ? "Hold" : "Resume");
        return this.done();
      }
      case "end":
        if (offline) {
          this.chat(chatId).ending = true;
          this.pend(chatId, "End chat");
        } else {
          s.chats = s.chats.filter((c) => c.chat.id !== chatId);
        }
        return this.done();
      default:
        return Promise.reject({ code: "invalid_input", message: `unknown action ${String(action)}` });
    }
  }

  private chat(id: number): ChatView {
    const v = this.snap.chats.find((c) => c.chat.id === id);
    if (!v) throw { code: "not_found", message: "No such chat" };
    return v;
  }

  private take(id: number): ChatSummary | undefined {
    const s = this.snap;
    const c = s.requests.find((r) => r.id === id) ?? s.queue.find((r) => r.id === id);
    s.requests = s.requests.filter((r) => r.id !== id);
    s.queue = s.queue.filter((r) => r.id !== id);
    return c;
  }

  private pend(chatId: number | null, label: string): void {
    const chat = chatId === null ? undefined : this.snap.chats.find((c) => c.chat.id === chatId);
    this.snap.pending.push({ id: this.nextPending++, chat_id: chatId, label, visitor: chat ? (chat.chat.visitor_name ?? "Visitor") : null });
  }

  private done(): null {
    this.changed();
    return null;
  }

  private profile(visitorId: number): VisitorProfile {
    const chat = [...this.snap.chats.map((c) => c.chat), ...this.snap.requests, ...this.snap.queue].find((c) => c.visitor_id === visitorId);
    const now = Date.now();
    return {
      id: visitorId,
      name: chat?.visitor_name ?? null,
      current_page: chat?.page ?? null,
      pages: [
        { page: { url: "https://shop.example.com/checkout", title: "Checkout" }, at: now - 60_000 },
        { page: { url: "https://shop.example.com/cart", title: "Your cart" }, at: now - 240_000 },
        { page: { url: "https://shop.example.com/", title: "Home" }, at: now - 600_000 },
      ],
      visits: 3,
      first_seen: now - 14 * 86400_000,
      last_seen: now,
      chats: [{ ...(chat ?? this.summary({})), id: 7, status: "ended", created_at: now - 9 * 86400_000, operator: { id: 2, name: "Pat Kim" } }],
    };
  }

  // ---- Site Monitor -------------------------------------------------------------------------

  /** Visitors on the site (the Site Monitor), longest there first. */
  visitors: SiteVisitor[] = [];
  /** The UI subscribed (monitor_open) and has not unsubscribed. */
  monitorOpen = false;

  monitorView(): MonitorView {
    const n = (f: (v: SiteVisitor) => boolean) => this.visitors.filter(f).length;
    return {
      on_site: this.visitors.length,
      chatting: n((v) => v.chat.state === "chatting"),
      waiting: n((v) => v.chat.state === "ringing" || v.chat.state === "queued"),
      loading: false,
      visitors: clone(this.visitors),
    };
  }

  /** A visitor on the site: `id` and a few pages' worth of defaults. */
  siteVisitor(id: number, p: Partial<SiteVisitor> = {}): SiteVisitor {
    const now = Date.now();
    return {
      id, name: null, page: { url: `https://shop.example.com/p/${id}`, title: `Product ${id}` }, referrer: null, search_terms: null,
      arrived_at: now - 3600_000 + id, page_since: now - 60_000, visits: 1, pages: 1, browser: "Firefox 121", os: "Windows",
      language: "en-GB", utc_offset_min: 60, chat: { state: "none" }, ...p,
    };
  }

  /** Replaces the visitors on the site; the core would emit the view while the monitor is open. */
  setVisitors(list: SiteVisitor[]): void {
    this.visitors = list;
    if (this.monitorOpen) void emit("monitor", this.monitorView());
  }

  /** `n` visitors, numbered from 1, the first one longest on the site. */
  manyVisitors(n: number): void {
    const list: SiteVisitor[] = [];
    for (let i = 1; i <= n; i++) list.push(this.siteVisitor(i, { name: i % 3 === 0 ? `Guest Number ${i}` : null }));
    this.setVisitors(list);
  }

  /** Emits the snapshot like the Rust side does after every change. */
  changed(): void {
    void emit("snapshot", clone(this.snap));
  }

  // ---- test controls ------------------------------------------------------------------------

  summary(p: Partial<ChatSummary>): ChatSummary {
    const id = p.id ?? ++this.nextChat;
    return {
      id,
      visitor_id: p.visitor_id ?? id + 5000,
      visitor_name: p.visitor_name === undefined ? "Anna Kovacs" : p.visitor_name,
      mode: p.mode ?? "text",
      status: p.status ?? "waiting",
      page: p.page === undefined ? { url: "https://shop.example.com/checkout", title: "Checkout" } : p.page,
      operator: p.operator ?? null,
      created_at: p.created_at ?? Date.now(),
      accepted_at: p.accepted_at ?? null,
      ended_at: null,
      last_seq: p.last_seq ?? 1,
    };
  }

  /** A new chat request arrives (event and snapshot). */
  incoming(p: Partial<ChatSummary> = {}): number {
    const c = this.summary(p);
    this.snap.requests.push(c);
    void emit("incoming_request", clone(c));
    this.changed();
    return c.id;
  }

  /** The request leaves (another operator took it, the visitor left…). */
  dropRequest(id: number): void {
    this.snap.requests = this.snap.requests.filter((r) => r.id !== id);
    this.changed();
  }

  addQueued(p: Partial<ChatSummary> = {}): number {
    const c = this.summary({ ...p, status: "queued" });
    this.snap.queue.push(c);
    this.changed();
    return c.id;
  }

  /** An own chat, already accepted. */
  addChat(p: Partial<ChatSummary> = {}, messages: string[] = []): number {
    const c = this.summary({ ...p, status: p.status ?? "active", operator: { id: ME.id, name: ME.name } });
    const at = Date.now() - 60_000;
    this.snap.chats.push({
      chat: c,
      messages: messages.map((text, i) => ({ seq: ++this.nextSeq, at: at + i * 1000, author: { kind: "visitor" }, text, pending: false })),
      unread: 0,
      ending: false,
      draft: "",
      call: null,
      call_note: null,
      mails: [],
      visitor_email: null,
    });
    this.changed();
    return c.id;
  }

  /** Accepted from a phone's notification while the app was in the background: the chat is
   * the operator's now and the native side asks the app to open it (`open_chat`). */
  acceptedFromNotification(p: Partial<ChatSummary> = {}): number {
    const id = this.addChat(p);
    void emit("open_chat", id);
    return id;
  }

  visitorSays(chatId: number, text: string): void {
    const v = this.chat(chatId);
    v.messages.push({ seq: ++this.nextSeq, at: Date.now(), author: { kind: "visitor" }, text, pending: false });
    v.unread += 1;
    this.changed();
    void emit("visitor_message", chatId);
  }

  /** The server refused an action replayed from the outbox. */
  refuse(chatId: number | null, label: string, text: string | null, reason: string): number {
    const chat = chatId === null ? undefined : this.snap.chats.find((c) => c.chat.id === chatId);
    const id = ++this.nextRefused;
    this.snap.refused.push({ id, chat_id: chatId, visitor: chat?.chat.visitor_name ?? null, label, text, code: "illegal_transition", reason, at: Date.now() });
    this.changed();
    return id;
  }

  /** An ended chat for History, with a message from each side, a hold and a resume. */
  addEnded(p: Partial<ChatSummary>, words: string[] = ["Hello, my order is late", "Let me check that for you"]): number {
    const c = this.summary({ ...p, status: "ended", operator: p.operator ?? { id: ME.id, name: ME.name } });
    const at = c.created_at;
    c.ended_at = at + 600_000;
    const op = { id: ME.id, name: ME.name };
    let seq = 0;
    const ev = (dt: number, kind: Transcript["events"][number]["kind"], status: ChatSummary["status"]) =>
      ({ chat_id: c.id, seq: ++seq, at: at + dt, status, kind });
    this.ended.push({
      chat: c,
      from_cache: false,
      mails: [],
      visitor_email: null,
      events: [
        ev(0, { type: "requested", visitor_id: c.visitor_id, name: c.visitor_name, mode: c.mode, page: c.page }, "waiting"),
        ev(5_000, { type: "accepted", operator: op }, "active"),
        ev(10_000, { type: "message", author: { kind: "visitor" }, text: words[0], client_id: "v1" }, "active"),
        ev(20_000, { type: "on_hold", operator: op }, "on_hold"),
        ev(30_000, { type: "resumed", operator: op }, "active"),
        ev(40_000, { type: "message", author: { kind: "operator", id: ME.id, name: ME.name }, text: words[1], client_id: "o1" }, "active"),
        ev(600_000, { type: "ended", reason: "visitor" }, "ended"),
      ],
    });
    return c.id;
  }

  /** The chat's call moves on (the visitor accepted, the audio connected…), or ends with a note. */
  setCall(chatId: number, phase: "inviting" | "connecting" | "connected" | null, note: string | null = null): void {
    const v = this.chat(chatId);
    if (phase === null) {
      v.call = null;
      v.call_note = note;
    } else {
      v.call = { call_id: phase === "inviting" ? 0 : 7, phase, connected_at: phase === "connected" ? Date.now() - 65_000 : null, muted: v.call?.muted ?? false, visitor_muted: false };
    }
    this.changed();
  }

  /** The chat count reaches the cap (or not). */
  setAtCap(atCap: boolean): void {
    this.snap.at_cap = atCap;
    this.changed();
  }

  /** The visitor ends the chat: it leaves the operator's chats (and is in History). */
  visitorEnds(chatId: number): void {
    const v = this.chat(chatId);
    this.snap.chats = this.snap.chats.filter((c) => c.chat.id !== chatId);
    const chat = { ...v.chat, status: "ended" as const, ended_at: Date.now() };
    this.ended.push({ chat, from_cache: false, events: [], mails: v.mails, visitor_email: v.visitor_email });
    this.changed();
  }

  setConnection(c: ConnectionState): void {
    this.snap.connection = c;
    if (c === "online") {
      this.snap.pending = [];
      for (const v of this.snap.chats) for (const m of v.messages) if (m.pending) { m.pending = false; m.seq = ++this.nextSeq; }
    }
    this.changed();
  }

  // ---- mail ---------------------------------------------------------------------------------

  /** "Send chat transcript": a queued mail in the chat's (or the ended chat's) `mails`, sent
   *  after `mailDelayMs` (or when a test settles it). Refused like the core does. */
  private mailTranscript(chatId: number, to: string, offline: boolean): unknown {
    const s = this.snap;
    if (!s.mail) return Promise.reject({ code: "mail_unavailable", message: "Mail is not set up on the server." });
    if (offline) return Promise.reject({ code: "offline", message: "You are offline: send the transcript when the connection is back." });
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(to.trim())) return Promise.reject({ code: "invalid_input", message: "That is not an e-mail address." });
    const mails = this.mailsOf(chatId);
    if (!mails) return Promise.reject({ code: "not_found", message: "Chat not found." });
    if (mails.length >= (s.settings?.limits.transcripts_per_chat ?? 5)) {
      return Promise.reject({ code: "rate_limited", message: "This chat's transcript has been mailed too often. Try again later." });
    }
    const mailId = ++this.nextMail;
    mails.push({ mail_id: mailId, to: to.trim(), by: s.signed_in!.operator.name, state: "queued", detail: null, at: Date.now() });
    if (this.mailDelayMs !== null) window.setTimeout(() => this.settleMail(mailId, "sent", "250 2.0.0 Ok: queued as 4F1A2B"), this.mailDelayMs);
    return this.done();
  }

  /** The mails of a running chat, or of an ended one. */
  mailsOf(chatId: number): ChatView["mails"] | undefined {
    return this.snap.chats.find((c) => c.chat.id === chatId)?.mails ?? this.ended.find((t) => t.chat.id === chatId)?.mails;
  }

  /** A queued transcript is sent, or fails, with the mail server's answer. */
  settleMail(mailId: number, state: MailState, detail: string | null): void {
    for (const mails of [...this.snap.chats.map((c) => c.mails), ...this.ended.map((t) => t.mails)]) {
      const m = mails.find((x) => x.mail_id === mailId);
      if (m) {
        m.state = state;
        m.detail = detail;
        m.at = Date.now();
      }
    }
    this.changed();
  }

  /** Mail is configured on the server (with the team's addresses), or not (null). */
  setMail(info: MailInfo | null): void {
    this.snap.mail = info;
    this.changed();
  }

  /** The address the visitor gave in a running or ended chat. */
  setVisitorEmail(chatId: number, email: string | null): void {
    const v = this.snap.chats.find((c) => c.chat.id === chatId);
    if (v) v.visitor_email = email;
    const t = this.ended.find((x) => x.chat.id === chatId);
    if (t) t.visitor_email = email;
    this.changed();
  }

  /** A visitor leaves a message ("Leave a message"): it is unread. */
  leaveOfflineMessage(p: Partial<OfflineMessage> = {}): number {
    const id = Math.max(0, ...this.offlineMessages.map((m) => m.id)) + 1;
    this.offlineMessages.unshift({ id, visitor_id: null, chat_id: null, name: "Visitor", email: "visitor@example.org", text: "Please get back to me.",
      created_at: Date.now(), replied_at: null, replied_by: null, ...p });
    this.countUnread();
    this.changed();
    return id;
  }

  private countUnread(): void {
    this.snap.offline_unread = this.offlineMessages.filter((m) => m.id > this.offlineReadUpTo).length;
  }

  failNext(cmd: string, code: string, message: string): void {
    this.failures.set(cmd, { code, message });
  }

  callsOf(cmd: string): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
  }
}

declare global {
  interface Window {
    __fake: FakeBackend;
    __FAKE_SEED__?: Seed;
  }
}

export function installFakeBackend(): FakeBackend {
  const fake = new FakeBackend(window.__FAKE_SEED__ ?? {});
  mockWindows("main");
  mockIPC((cmd, args) => {
    try {
      return fake.handle(cmd, (args ?? {}) as Record<string, unknown>);
    } catch (e) {
      return Promise.reject(e);
    }
  }, { shouldMockEvents: true });
  window.__fake = fake;
  return fake;
}
