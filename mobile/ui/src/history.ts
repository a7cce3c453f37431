// History: ended chats, most recent first, searchable by visitor name or text, a page at a time
// (from the server online, from this device offline); each opens its read-only transcript with
// its events (accepted, hold, resume, who ended it) and, when the server has mail, "Send chat
// transcript".
import { api, errorMessage } from "./api";
import type { ChatSummary, Transcript } from "./bindings";
import type { Controller } from "./controller";
import { avatar, empty, fill, h, icon } from "./dom";
import { dateTime, modeLabel, pageLabel, visitorName } from "./format";
import { TranscriptMailer } from "./mail";
import { transcriptLines } from "./transcript";

type HistoryController = Pick<Controller, "s" | "render">;

export class HistorySection {
  private searchTimer: number | undefined;
  /** The open transcript's "Send chat transcript" form, kept while it is open. */
  private mailer: TranscriptMailer | null = null;
  /** The transcript on screen: a new snapshot only updates its form, the lines stay. */
  private onScreen: Transcript | null = null;

  constructor(private app: HistoryController, readonly el: HTMLElement) {}

  /** Called when the section is shown: loads the first page once. */
  shown(): void {
    const hs = this.app.s.history;
    if (hs.list === null && !hs.loading && hs.error === null) void this.load(false);
  }

  render(): void {
    const hs = this.app.s.history;
    if (hs.open !== null) {
      this.renderTranscript();
      return;
    }
    const search = h("input", { type: "search", class: "history-search", "aria-label": "Search history", placeholder: "Search by name or text", value: hs.search, "data-fk": "history-search",
      oninput: (e: Event) => this.onSearch((e.target as HTMLInputElement).value) });
    const list = hs.list;
    fill(
      this.el,
      h("div", { class: "section-head" }, h("h1", null, "History")),
      h("form", { class: "history-bar", role: "search", onsubmit: (e: Event) => { e.preventDefault(); void this.load(false); } }, icon("search", "icon sm"), search),
      list?.from_cache && h("p", { class: "hint small", role: "status" }, icon("wifiOff", "icon sm"), h("span", null, "Offline — showing chats saved on this device.")),
      hs.error !== null && h("p", { class: "empty", role: "alert" }, hs.error),
      list === null
        ? hs.error === null && h("p", { class: "empty" }, "Loading history…")
        : list.chats.length === 0
          ? empty(hs.search.trim() ? "No ended chats match your search." : "No ended chats yet.")
          : h("ul", { class: "rows history-list", "aria-label": "Ended chats, most recent first" }, list.chats.map((c) => this.row(c))),
      list?.next_before != null &&
        h("div", { class: "actions center" },
          h("button", { type: "button", class: "btn", "data-fk": "history-more", disabled: hs.loading, onclick: () => void this.load(true) }, hs.loading ? "Loading…" : "Show more"),
        ),
    );
  }

  private row(c: ChatSummary): HTMLElement {
    const name = visitorName(c);
    const when = c.ended_at ?? c.created_at;
    return h("li", null,
      h("button", { type: "button", class: "row", "data-fk": `history-${c.id}`, onclick: () => void this.open(c.id) },
        avatar(name),
        h("span", { class: "row-main" },
          h("span", { class: "row-title" }, name),
          h("span", { class: "row-sub" }, `${dateTime(when)} · ${c.status === "missed" ? "Missed" : "Ended"}${c.operator ? " · " + c.operator.name : ""}`),
        ),
      ),
    );
  }

  private onSearch(value: string): void {
    this.app.s.history.search = value;
    window.clearTimeout(this.searchTimer);
    this.searchTimer = window.setTimeout(() => void this.load(false), 250);
  }

  /** Loads the first page (for the current search), or the next one. */
  private async load(more: boolean): Promise<void> {
    const hs = this.app.s.history;
    const search = hs.search;
    const before = more ? (hs.list?.next_before ?? null) : null;
    hs.loading = true;
    hs.error = null;
    this.app.render();
    try {
      const page = await api.history(search, before);
      if (hs.search !== search) return; // a newer search is on its way
      hs.list = more && hs.list ? { ...page, chats: [...hs.list.chats, ...page.chats] } : page;
    } catch (e) {
      hs.error = errorMessage(e);
    } finally {
      hs.loading = false;
      this.app.render();
    }
  }

  private async open(chatId: number): Promise<void> {
    const hs = this.app.s.history;
    this.forgetTranscript();
    hs.open = chatId;
    hs.transcript = "loading";
    this.app.render();
    try {
      const t = await api.transcript(chatId);
      if (hs.open === chatId) hs.transcript = t;
    } catch (e) {
      if (hs.open === chatId) hs.transcript = "error";
      hs.error = errorMessage(e);
    }
    this.app.render();
  }

  private close(): void {
    const hs = this.app.s.history;
    const id = hs.open;
    hs.open = null;
    hs.transcript = null;
    hs.error = null;
    this.forgetTranscript();
    this.app.render();
    queueMicrotask(() => this.el.querySelector<HTMLElement>(`[data-fk="history-${id}"]`)?.focus());
  }

  private forgetTranscript(): void {
    this.mailer?.close();
    this.mailer = null;
    this.onScreen = null;
  }

  /** The transcript fetched again by its form (a mail on its way): its mails move on. */
  private refreshed(t: Transcript): void {
    const open = this.app.s.history.transcript;
    if (open && typeof open === "object" && open.chat.id === t.chat.id) {
      open.mails = t.mails;
      open.visitor_email = t.visitor_email;
      this.app.render();
    }
  }

  private renderTranscript(): void {
    const hs = this.app.s.history;
    const t = hs.transcript;
    const back = h("button", { type: "button", class: "btn ghost", "data-fk": "history-back", onclick: () => this.close() }, icon("back", "icon sm"), h("span", null, "History"));
    if (t === null || t === "loading" || t === "error") {
      this.onScreen = null;
      fill(this.el, h("div", { class: "section-head" }, back),
        h("p", { class: "empty", role: t === "error" ? "alert" : "status" }, t === "error" ? (hs.error ?? "This transcript cannot be loaded right now.") : "Loading transcript…"));
      return;
    }
    const snap = this.app.s.snap;
    if (!this.mailer || this.mailer.chatId !== t.chat.id) {
      this.mailer?.close();
      this.mailer = new TranscriptMailer(t.chat.id, "history", (nt) => this.refreshed(nt), "card");
    }
    this.mailer.update({ mail: snap?.mail ?? null, me: snap?.signed_in?.operator.email ?? null, visitorEmail: t.visitor_email, mails: t.mails, ended: true });
    if (this.onScreen === t && this.el.contains(this.mailer.el)) return;
    this.onScreen = t;
    const name = visitorName(t.chat);
    fill(
      this.el,
      h("div", { class: "section-head" }, back),
      h("header", { class: "transcript-head" },
        avatar(name),
        h("div", { class: "who-text" },
          h("h1", null, name),
          h("span", { class: "meta" }, h("span", null, `${modeLabel(t.chat.mode)} · ${dateTime(t.chat.created_at)} · ${pageLabel(t.chat.page)}`)),
        ),
      ),
      t.from_cache && h("p", { class: "hint small", role: "status" }, icon("wifiOff", "icon sm"), h("span", null, "Offline — the transcript as saved on this device.")),
      this.mailer.el,
      h("div", { class: "log transcript", role: "log", "aria-label": `Transcript of the chat with ${name}`, tabindex: "0" }, transcriptLines(t)),
    );
  }
}
