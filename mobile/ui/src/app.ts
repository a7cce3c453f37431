// The app, the one `Controller`: holds the state, runs commands, and renders the shell. The
// screens are pure renders of the latest snapshot plus local view state.
//
// Dependencies point one way: main → app → the views (signin, overview, live, sections, history,
// monitor, reports, dialogs) → controller/state, with dom, format, api, bindings, sound and the
// pieces views share (transcript, mail) as leaves. A view gets the app as a `Controller`
// (controller.ts) and imports neither app.ts nor another view; test/imports.test.ts fails on any
// import circle.
import { api, errorMessage, onIncomingRequest, onMonitor, onOpenChat, onSnapshot, onVisitorMessage } from "./api";
import type { UiSnapshot } from "./bindings";
import type { Controller } from "./controller";
import { fill, h, icon, tickSince } from "./dom";
import { initials, plural, visitorName } from "./format";
import { chime, ping } from "./sound";
import { SECTIONS, findChat, initialState, type CannedView, type Notice, type Section, type State } from "./state";
import { SignIn } from "./signin";
import { renderOverview } from "./overview";
import { LiveView } from "./live";
import { renderQueue } from "./sections";
import { ReportsSection } from "./reports";
import { MonitorSection } from "./monitor";
import { Dialogs } from "./dialogs";
import { HistorySection } from "./history";

/** How long a notice stays up by itself: a note (something happened) is read at a glance, an
 *  error is left long enough to read twice. Hovering or focusing a notice keeps it up. */
const NOTE_MS = 5000;
const ERROR_MS = 8000;

export class App implements Controller {
  readonly s: State = initialState();
  private root: HTMLElement;
  private signIn: SignIn;
  private shell: HTMLElement;
  private toggle: HTMLButtonElement;
  private account: HTMLButtonElement;
  private opName: HTMLElement;
  private banner: HTMLElement;
  private noticesEl: HTMLElement;
  private navButtons = new Map<Section, HTMLButtonElement>();
  private sectionEls = new Map<Section, HTMLElement>();
  private live: LiveView;
  private history: HistorySection;
  private monitor: MonitorSection;
  private reports: ReportsSection;
  /** The offline messages changed while they were being fetched: fetch them once more. */
  private offlineAgain = false;
  private dialogs: Dialogs;
  private painted = false;
  private scheduled = false;
  private noticeSeq = 0;
  private gotEvent = false;
  /** Chats this operator ended here (their disappearance needs no notice). */
  private endedHere = new Set<number>();

  constructor(root: HTMLElement) {
    this.root = root;
    this.signIn = new SignIn(this);
    this.live = new LiveView(this);
    this.dialogs = new Dialogs(this);

    this.toggle = h("button", { type: "button", class: "livehelp", "aria-pressed": "false", onclick: () => this.toggleAvailable() });
    this.account = h("button", { type: "button", class: "avatar-btn", "aria-label": "Account", "aria-haspopup": "dialog", onclick: () => this.openAccount() });
    this.opName = h("span", { class: "topbar-name" });
    const topbar = h("header", { class: "topbar" }, this.toggle, h("div", { class: "spacer" }), this.opName, this.account);
    this.banner = h("div", { class: "banner", role: "status", hidden: true });
    this.noticesEl = h("div", { class: "notices" });

    const nav = h("nav", { class: "nav", "aria-label": "Sections" },
      h("div", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, icon("chat")), h("span", { class: "brand-name" }, "Switchboard")),
    );
    for (const sec of SECTIONS) {
      const b = h("button", { type: "button", class: "nav-item", "aria-label": sec.name, onclick: () => this.go(sec.id) },
        icon(sec.icon),
        h("span", { class: "nav-short", "aria-hidden": "true" }, sec.short),
        h("span", { class: "nav-full", "aria-hidden": "true" }, sec.name),
        h("span", { class: "nav-badge", "aria-hidden": "true", hidden: true }),
      );
      this.navButtons.set(sec.id, b);
      nav.appendChild(b);
    }

    const content = h("main", { class: "content" });
    for (const sec of SECTIONS) {
      const el = sec.id === "live" ? this.live.el : h("section", { class: `section section-${sec.id}`, "aria-label": sec.name });
      el.hidden = true;
      this.sectionEls.set(sec.id, el);
      content.appendChild(el);
    }
    this.history = new HistorySection(this, this.sectionEls.get("history")!);
    this.monitor = new MonitorSection(this, this.sectionEls.get("visitors")!);
    this.reports = new ReportsSection(this, this.sectionEls.get("reports")!);

    this.shell = h("div", { class: "shell", hidden: true }, topbar, this.banner, content, nav);
    this.root.append(this.signIn.el, this.shell, this.noticesEl, ...this.dialogs.elements());

    document.addEventListener("visibilitychange", () => {
      this.watchMonitor();
      this.markOfflineRead();
      this.render();
    });
    // A network change (or the network coming back): reconnect now, not after the backoff, and
    // restart ICE on calls so they find the new path.
    window.addEventListener("online", () => void api.networkChanged().catch(() => undefined));
    window.setInterval(() => tickSince(), 1000);
  }

  async start(): Promise<void> {
    try {
      await onSnapshot((snap) => {
        this.gotEvent = true;
        this.apply(snap);
      });
      await onIncomingRequest(() => chime());
      await onVisitorMessage((chatId) => this.visitorWrote(chatId));
      await onOpenChat((chatId) => this.go("live", chatId));
      await onMonitor((view) => this.monitor.update(view));
      const snap = await api.snapshot();
      if (!this.gotEvent) this.apply(snap);
    } catch (e) {
      this.notify(e instanceof TypeError ? "The app's core is not reachable. Restart Switchboard." : errorMessage(e));
    }
  }

  // ---- state changes ------------------------------------------------------------------------

  apply(snap: UiSnapshot): void {
    const s = this.s;
    const wasSignedIn = !!s.snap?.signed_in;
    const before = s.snap?.chats ?? [];
    const unreadBefore = s.snap?.offline_unread ?? 0;
    s.snap = snap;
    // A chat that ended without us (the visitor left) gets a word, so its tab does not just
    // vanish; the open one stays on screen, read-only, until the operator closes it: the app
    // never switches chats under the operator's fingers.
    for (const old of before) {
      if (snap.chats.some((c) => c.chat.id === old.chat.id)) continue;
      const byMe = this.endedHere.delete(old.chat.id);
      if (!snap.signed_in) continue;
      if (byMe) {
        if (old.chat.id === s.openChat) s.openChat = null; // "Choose a chat", not the next one
        continue;
      }
      const why = `The chat with ${visitorName(old.chat)} has ended.`;
      if (old.chat.id === s.openChat) s.closedChat = { view: old, why };
      this.notify(why, "note");
    }
    if (!this.painted && snap.signed_in) {
      this.painted = true;
      requestAnimationFrame(() => void api.painted(snap.chats.length).catch(() => undefined));
    }
    if (!snap.signed_in) {
      if (wasSignedIn) this.resetLocal();
      this.render();
      return;
    }
    // The Incoming chat request dialog: close it when its request is gone, show the next unseen.
    const ids = new Set(snap.requests.map((r) => r.id));
    if (s.dialogRequest !== null && !ids.has(s.dialogRequest)) s.dialogRequest = null;
    if (s.dialogRequest === null) this.showNextRequest();
    if (s.awaitingChat !== null && findChat(s, s.awaitingChat)) s.awaitingChat = null;
    if (s.confirmEnd !== null && !findChat(s, s.confirmEnd)) s.confirmEnd = null;
    // a visitor left a message while the list is on screen: show it
    if (s.section === "reports" && snap.offline_unread > unreadBefore) this.loadOfflineMessages();
    this.render();
  }

  private resetLocal(): void {
    const keep = this.s.snap;
    Object.assign(this.s, initialState(), { snap: keep });
    this.watchMonitor();
  }

  go(section: Section, chatId?: number): void {
    const s = this.s;
    if (section !== s.section && section === "live") s.profileFetchedFor = null;
    if (section !== "reports") s.offlineNew.clear();
    s.section = section;
    if (chatId !== undefined) this.openChat(chatId);
    if (section === "reports") {
      this.reports.shown();
      this.loadOfflineMessages();
    }
    if (section === "history") this.history.shown();
    this.watchMonitor();
    this.render();
  }

  /** The Site Monitor streams only while the Visitors List is on screen and the app in the
   *  foreground (a phone on mobile data is not sent a busy site's traffic it does not show). */
  private watchMonitor(): void {
    const s = this.s;
    const watching = !!s.snap?.signed_in && s.section === "visitors" && document.visibilityState === "visible";
    if (watching) this.monitor.shown();
    else this.monitor.hidden();
  }

  openChat(chatId: number): void {
    const s = this.s;
    if (s.openChat !== chatId) {
      s.openChat = chatId;
      s.profileFetchedFor = null;
    }
    if (s.closedChat && s.closedChat.view.chat.id !== chatId) s.closedChat = null;
    if (!findChat(s, chatId)) {
      s.awaitingChat = chatId;
      // offline, an accept may wait in the outbox: do not show "Opening chat…" for ever
      window.setTimeout(() => {
        if (s.awaitingChat === chatId) {
          s.awaitingChat = null;
          this.render();
        }
      }, 8000);
    }
  }

  /** Closes the ended chat left on screen. */
  closeEnded(): void {
    const s = this.s;
    if (s.closedChat && s.openChat === s.closedChat.view.chat.id) s.openChat = null;
    s.closedChat = null;
    this.render();
  }

  /** A visitor wrote: a sound when the operator is not looking at that chat (the tab's badge
   *  shows the count; the desktop shell notifies when the window is not focused). */
  private visitorWrote(chatId: number): void {
    const s = this.s;
    const looking = document.visibilityState === "visible" && document.hasFocus() && s.section === "live" && s.openChat === chatId;
    if (!looking) ping();
  }

  callInvite(chatId: number): void {
    void this.run(`call:${chatId}`, () => api.callInvite(chatId));
  }

  callEnd(chatId: number): void {
    void this.run(`callend:${chatId}`, () => api.callEnd(chatId));
  }

  callMute(chatId: number, muted: boolean): void {
    void this.run(`mute:${chatId}`, () => api.callMute(chatId, muted));
  }

  retryRefused(id: number): void {
    void this.run(`retry:${id}`, () => api.retryRefused(id));
  }

  dismissRefused(id: number): void {
    void this.run(`dismiss:${id}`, () => api.dismissRefused(id));
  }

  private notify(text: string, kind: Notice["kind"] = "error"): void {
    const id = ++this.noticeSeq;
    this.s.notices.push({ id, text, kind });
    if (this.s.notices.length > 3) this.s.notices.shift();
    this.expire(id, kind === "note" ? NOTE_MS : ERROR_MS);
    this.render();
  }

  /** Dismisses notice `id` after `ms`, or a little later while the pointer or focus is on it. */
  private expire(id: number, ms: number): void {
    window.setTimeout(() => {
      const el = this.noticesEl.querySelector(`[data-notice="${id}"]`);
      if (el && (el.matches(":hover") || el.contains(document.activeElement))) this.expire(id, 2000);
      else this.dismiss(id);
    }, ms);
  }

  private dismiss(id: number): void {
    if (!this.s.notices.some((n) => n.id === id)) return;
    this.s.notices = this.s.notices.filter((n) => n.id !== id);
    this.render();
  }

  isBusy(key: string): boolean {
    return this.s.busy.has(key);
  }

  /** Runs a command; a failure becomes a notice. Resolves to whether it succeeded. */
  private async run(key: string, fn: () => Promise<unknown>): Promise<boolean> {
    if (this.s.busy.has(key)) return false;
    this.s.busy.add(key);
    this.render();
    try {
      await fn();
      return true;
    } catch (e) {
      this.notify(errorMessage(e));
      return false;
    } finally {
      this.s.busy.delete(key);
      this.render();
    }
  }

  // ---- actions ------------------------------------------------------------------------------

  private toggleAvailable(): void {
    const op = this.s.snap?.signed_in?.operator;
    if (!op) return;
    void this.run("available", () => api.setAvailable(!op.available));
  }

  async accept(chatId: number): Promise<void> {
    this.answered(chatId);
    if (await this.run(`accept:${chatId}`, () => api.accept(chatId))) this.go("live", chatId);
  }

  decline(chatId: number): void {
    this.answered(chatId);
    void this.run(`decline:${chatId}`, () => api.decline(chatId));
  }

  queue(chatId: number): void {
    this.answered(chatId);
    void this.run(`queue:${chatId}`, () => api.queue(chatId));
  }

  /** A request answered is never shown in the Incoming chat request dialog again. */
  private answered(chatId: number): void {
    this.s.seenRequests.add(chatId);
    if (this.s.dialogRequest === chatId) this.s.dialogRequest = null;
  }

  /** Closes the Incoming chat request dialog without answering (the request stays in the
   *  Communication Overview). */
  laterRequest(): void {
    this.s.dialogRequest = null;
    this.showNextRequest();
    this.render();
  }

  /** Puts the first request not shown yet into the Incoming chat request dialog. */
  private showNextRequest(): void {
    const next = this.s.snap?.requests.find((r) => !this.s.seenRequests.has(r.id));
    if (next) {
      this.s.dialogRequest = next.id;
      this.s.seenRequests.add(next.id);
    }
  }

  hold(chatId: number): void {
    void this.run(`hold:${chatId}`, () => api.hold(chatId));
  }

  resume(chatId: number): void {
    void this.run(`resume:${chatId}`, () => api.resume(chatId));
  }

  askEnd(chatId: number): void {
    this.s.confirmEnd = chatId;
    this.render();
  }

  async endChat(chatId: number): Promise<void> {
    this.s.confirmEnd = null;
    this.endedHere.add(chatId);
    if (!(await this.run(`end:${chatId}`, () => api.endChat(chatId)))) this.endedHere.delete(chatId);
  }

  async send(chatId: number, text: string): Promise<boolean> {
    return this.run(`send:${chatId}:${Date.now()}:${Math.random()}`, () => api.sendMessage(chatId, text));
  }

  openCanned(view: CannedView = { kind: "pick" }): void {
    this.s.canned = view;
    this.s.cannedSearch = "";
    this.render();
  }

  private openAccount(): void {
    this.s.accountOpen = true;
    this.render();
  }

  async signOut(): Promise<void> {
    this.s.accountOpen = false;
    try {
      this.apply(await api.signOut());
    } catch (e) {
      this.notify(errorMessage(e));
    }
  }

  insertIntoComposer(text: string): void {
    this.live.insert(text);
  }

  loadOfflineMessages(): void {
    const s = this.s;
    if (s.offlineLoading) {
      this.offlineAgain = true;
      return;
    }
    s.offlineLoading = true;
    this.render();
    api.offlineMessages().then(
      (list) => {
        s.offlineMessages = list;
        s.offlineError = null;
        this.markOfflineRead();
      },
      (e) => {
        s.offlineError = errorMessage(e);
      },
    ).finally(() => {
      s.offlineLoading = false;
      if (this.offlineAgain) {
        this.offlineAgain = false;
        this.loadOfflineMessages();
      }
      this.render();
    });
  }

  /** The offline messages are on screen: tell the core they are seen, up to the newest (the
   *  unread count drops). Not while the app is in the background: nobody is looking. */
  private markOfflineRead(): void {
    const s = this.s;
    const list = s.offlineMessages;
    if (!s.snap?.signed_in || s.section !== "reports" || document.visibilityState !== "visible" || !list?.length) return;
    const newest = Math.max(...list.map((m) => m.id));
    const before = s.offlineReadUpTo;
    if (newest <= before) return;
    // the unread ones are the newest: they say "New" while the operator stays here
    const fresh = list.filter((m) => m.id > before).sort((a, b) => b.id - a.id);
    for (const m of fresh.slice(0, s.snap.offline_unread)) s.offlineNew.add(m.id);
    s.offlineReadUpTo = newest;
    api.offlineMessagesRead(newest).catch(() => {
      if (s.offlineReadUpTo === newest) s.offlineReadUpTo = before;
    });
    this.render();
  }

  // ---- rendering ----------------------------------------------------------------------------

  render(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.renderNow();
    });
  }

  private renderNow(): void {
    const s = this.s;
    const signedIn = s.snap?.signed_in ?? null;
    this.root.setAttribute("aria-busy", s.snap ? "false" : "true");
    this.signIn.el.hidden = !s.snap || !!signedIn;
    this.shell.hidden = !signedIn;
    this.renderNotices();
    if (!s.snap) return;
    if (!signedIn) {
      this.signIn.render();
      this.dialogs.render();
      return;
    }
    const snap = s.snap;
    const op = signedIn.operator;

    // Live Help toggle
    this.toggle.setAttribute("aria-pressed", String(op.available));
    this.toggle.classList.toggle("on", op.available);
    this.toggle.disabled = this.isBusy("available");
    fill(this.toggle, h("span", { class: "dot", "aria-hidden": "true" }), h("span", null, op.available ? "Live Help Available" : "Live Help Not Available"));
    fill(this.account, initials(op.name));
    this.account.title = op.name;
    this.opName.textContent = op.name;

    this.renderBanner();

    // Navigation
    const unread = snap.chats.reduce((n, c) => n + c.unread, 0);
    const badges: Record<Section, number> = { overview: snap.requests.length, live: unread, queue: snap.queue.length, history: 0, visitors: 0, reports: snap.offline_unread };
    for (const sec of SECTIONS) {
      const b = this.navButtons.get(sec.id)!;
      const current = sec.id === s.section;
      if (current) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
      const badge = b.querySelector<HTMLElement>(".nav-badge")!;
      const n = badges[sec.id];
      badge.hidden = n === 0;
      badge.textContent = n > 99 ? "99+" : String(n);
      const what = sec.id === "live" ? "unread" : sec.id === "queue" ? "waiting" : "new";
      b.setAttribute("aria-label", n ? `${sec.name}, ${n} ${what}` : sec.name);
    }

    // Sections
    for (const sec of SECTIONS) this.sectionEls.get(sec.id)!.hidden = sec.id !== s.section;
    const el = this.sectionEls.get(s.section)!;
    // Sections are rebuilt on every snapshot: keep keyboard focus on the same control.
    const active = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const focusKey = active && el.contains(active) ? active.dataset.fk : undefined;
    switch (s.section) {
      case "overview":
        renderOverview(this, el);
        break;
      case "live":
        this.live.render();
        break;
      case "queue":
        renderQueue(this, el);
        break;
      case "history":
        this.history.render();
        break;
      case "visitors":
        this.monitor.render();
        break;
      case "reports":
        this.reports.render();
        break;
    }
    if (focusKey && !el.contains(document.activeElement)) {
      el.querySelector<HTMLElement>(`[data-fk="${CSS.escape(focusKey)}"]`)?.focus();
    }
    this.shell.dataset.section = s.section;
    this.dialogs.render();
    document.title = unread ? `(${unread}) Switchboard` : "Switchboard";
  }

  private renderBanner(): void {
    const snap = this.s.snap!;
    const parts: HTMLElement[] = [];
    if (snap.connection !== "online") {
      parts.push(
        h("div", { class: "banner-line" }, icon(snap.connection === "offline" ? "wifiOff" : "clock"),
          h("strong", null, snap.connection === "offline" ? "Offline — showing saved chats" : "Connecting…")),
      );
    }
    if (snap.pending.length) {
      parts.push(
        h("div", { class: "banner-line pending" },
          h("span", null, `${plural(snap.pending.length, "action", "actions")} waiting to be sent`),
          h("ul", { class: "pending-list", "aria-label": "Waiting to be sent" }, snap.pending.map((p) => h("li", null, p.visitor ? `${p.label} — ${p.visitor}` : p.label))),
        ),
      );
    }
    for (const r of snap.refused) {
      const what = r.visitor ? `${r.label} to ${r.visitor}` : r.label;
      parts.push(
        h("div", { class: "banner-line refused", role: "alert" },
          icon("alert", "icon sm"),
          h("div", { class: "refused-text" },
            h("strong", null, `Not sent: ${what}`),
            r.text !== null && h("q", { class: "refused-quote" }, r.text),
            h("span", null, r.reason),
          ),
          h("div", { class: "refused-actions" },
            r.text !== null &&
              h("button", { type: "button", class: "btn small", onclick: () => void this.copy(r.text!) }, "Copy"),
            h("button", { type: "button", class: "btn small", disabled: this.isBusy(`retry:${r.id}`), onclick: () => this.retryRefused(r.id) }, "Try again"),
            h("button", { type: "button", class: "btn small ghost", disabled: this.isBusy(`dismiss:${r.id}`), onclick: () => this.dismissRefused(r.id) }, "Dismiss"),
          ),
        ),
      );
    }
    this.banner.hidden = parts.length === 0;
    this.banner.className = `banner ${snap.connection}`;
    fill(this.banner, parts);
  }

  private async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.notify("Copied.", "note");
    } catch {
      this.notify("Copying is not allowed here: select the text instead.");
    }
  }

  private renderNotices(): void {
    fill(
      this.noticesEl,
      this.s.notices.map((n) =>
        h("div", { class: `notice ${n.kind}`, role: "alert", "data-notice": n.id },
          icon(n.kind === "note" ? "bell" : "alert"),
          h("span", { class: "notice-text" }, n.text),
          h("button", { type: "button", class: "icon-btn", "aria-label": "Dismiss", onclick: () => this.dismiss(n.id) }, icon("x")),
        ),
      ),
    );
  }
}
