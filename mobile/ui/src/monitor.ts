// Visitors List / Site Monitor: who is on the website now. The counts (On site, Chatting,
// Waiting), a sort and a filter, and the list itself — cards on a phone, a table from 768 px —
// then a visitor's profile when a row is opened.
//
// The list is virtualized: rows have a fixed height, so the row at any scroll position is known
// without measuring, and only the rows in view (plus a few either side) are in the DOM. A busy
// site's 10,000 visitors are 10,000 objects here and a few dozen elements on screen. The
// section builds its frame once and updates it in place (the core sends a new view at most
// every 250 ms), so the scroll position and the focus survive updates.
//
// Visitors' names, titles and referrers are theirs to write: all of it goes in as text.
import { api, errorMessage } from "./api";
import type { MonitorView, SiteVisitor, Transcript, VisitorChat } from "./bindings";
import type { Controller } from "./controller";
import type { MonitorFilter, MonitorSort, MonitorState } from "./state";
import { avatar, empty, fill, h, icon, since } from "./dom";
import { dateTime, pageLabel, shortUrl } from "./format";
import { transcriptLines } from "./transcript";

type MonitorController = Pick<Controller, "s">;

/** Fixed row heights (px): cards on a phone, table rows wider up. */
const CARD_H = 84;
const ROW_H = 56;
/** Rows drawn beyond the visible ones either side, so a quick scroll shows no blank. */
const OVERSCAN = 4;
const WIDE = "(min-width: 768px)";

const SORTS: Array<[MonitorSort, string]> = [["time", "Time on site"], ["name", "Name"], ["page", "Page"]];
const FILTERS: Array<[MonitorFilter, string]> = [
  ["all", "All visitors"], ["waiting", "Waiting"], ["chatting", "Chatting"], ["never", "Never chatted"],
  ["returning", "Returning"], ["page", "On a page containing…"],
];

/** "Anna", or "Visitor 42" for someone who never gave a name. */
export function siteVisitorName(v: SiteVisitor): string {
  return v.name && v.name.trim() ? v.name.trim() : `Visitor ${v.id}`;
}

/** Where the visitor stands with chat, in words. */
export function chatLabel(c: VisitorChat): string {
  switch (c.state) {
    case "none": return "No chat";
    case "invited": return `Invited by ${c.operator.name}`;
    case "ringing": return "Waiting";
    case "queued": return "Queued";
    case "chatting": return `Chatting with ${c.operator.name}`;
    case "ended": return "Chat ended";
  }
}

/** Their clock now, from minutes east of UTC. */
function localTime(offset: number | null, now = Date.now()): string {
  if (offset === null) return "—";
  const d = new Date(now + offset * 60_000);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

/** Where they came from: the search, the other site, or nothing. */
function cameFrom(v: SiteVisitor): string {
  if (v.search_terms) return `Searched “${v.search_terms}”`;
  if (v.referrer) return shortUrl(v.referrer);
  return "Direct";
}

function systemOf(v: SiteVisitor): string {
  return [v.browser, v.os].filter(Boolean).join(" · ") || "—";
}

const collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });

/** The visitors the list shows, filtered and sorted. */
export function visibleRows(view: MonitorView, sort: MonitorSort, filter: MonitorFilter, pageText: string): SiteVisitor[] {
  const needle = pageText.trim().toLowerCase();
  const keep = (v: SiteVisitor): boolean => {
    switch (filter) {
      case "all": return true;
      case "waiting": return v.chat.state === "ringing" || v.chat.state === "queued";
      case "chatting": return v.chat.state === "chatting";
      case "never": return v.chat.state === "none";
      case "returning": return v.visits > 1;
      case "page": return !needle || (v.page.title ?? "").toLowerCase().includes(needle) || v.page.url.toLowerCase().includes(needle);
    }
  };
  const rows = filter === "all" ? view.visitors.slice() : view.visitors.filter(keep);
  if (sort === "time") rows.sort((a, b) => a.arrived_at - b.arrived_at || a.id - b.id);
  else if (sort === "name") rows.sort((a, b) => collator.compare(siteVisitorName(a), siteVisitorName(b)) || a.id - b.id);
  else rows.sort((a, b) => collator.compare(pageLabel(a.page), pageLabel(b.page)) || a.arrived_at - b.arrived_at);
  return rows;
}

export class MonitorSection {
  private built = false;
  private counts!: Record<"on_site" | "chatting" | "waiting", HTMLElement>;
  private status!: HTMLElement;
  private pageInput!: HTMLInputElement;
  private listPart!: HTMLElement;
  private scroller!: HTMLElement;
  private head!: HTMLElement;
  private spacer!: HTMLElement;
  private profilePart!: HTMLElement;
  /** The filtered, sorted rows, and what they were made from. */
  private rows: SiteVisitor[] = [];
  private rowsOf: unknown[] = [];
  /** The rows drawn now (first index, count, layout), to skip redrawing the same window. */
  private drawn = "";
  private frame = 0;
  private wide = window.matchMedia(WIDE);
  private listScroll = 0;
  /** The section is on screen and subscribed. */
  private subscribed = false;
  /** An earlier chat of the open visitor, opened to read (its transcript, loading, or why not). */
  private reading: { chatId: number; t: Transcript | "loading" | string } | null = null;
  /** The open visitor's Invite form (kept across updates). */
  private invite: { id: number; el: HTMLElement } | null = null;

  constructor(private app: MonitorController, readonly el: HTMLElement) {
    this.wide.addEventListener("change", () => this.redraw(true));
  }

  private get m(): MonitorState {
    return this.app.s.monitor;
  }

  /** The section came on screen (or the app to the foreground with it): subscribe. */
  shown(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    api.monitorOpen().then((view) => {
      if (this.subscribed) this.update(view);
    }, (e) => {
      this.subscribed = false;
      this.statusText(errorMessage(e));
    });
  }

  /** The section left the screen (or the app went to the background): unsubscribe. */
  hidden(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    void api.monitorClose().catch(() => undefined);
  }

  /** A new view from the core. */
  update(view: MonitorView): void {
    this.m.view = view;
    if (this.built && !this.el.hidden) this.render();
  }

  render(): void {
    if (!this.built || !this.el.contains(this.scroller)) this.build();
    const m = this.m;
    const view = m.view;
    this.listPart.hidden = m.open !== null;
    this.profilePart.hidden = m.open === null;
    this.counts.on_site.textContent = view ? String(view.on_site) : "–";
    this.counts.chatting.textContent = view ? String(view.chatting) : "–";
    this.counts.waiting.textContent = view ? String(view.waiting) : "–";
    this.pageInput.hidden = m.filter !== "page";
    if (m.open !== null) {
      this.renderProfile();
      return;
    }
    const key = [view, m.sort, m.filter, m.pageText];
    if (key.some((k, i) => k !== this.rowsOf[i])) {
      this.rows = view ? visibleRows(view, m.sort, m.filter, m.pageText) : [];
      this.rowsOf = key;
      this.redraw(true);
    }
    const total = view?.on_site ?? 0;
    this.statusText(
      !view || (view.loading && total === 0) ? "Loading the visitors on your site…"
        : total === 0 ? "Nobody is on your website right now."
          : this.rows.length === 0 ? "No visitors match this filter."
            : this.rows.length === total ? `${total} ${total === 1 ? "visitor" : "visitors"}, ${sortWords(m.sort)}`
              : `${this.rows.length} of ${total} visitors, ${sortWords(m.sort)}`,
    );
  }

  private statusText(text: string): void {
    if (this.status && this.status.textContent !== text) this.status.textContent = text;
  }

  /** The section's frame: built once, updated in place. */
  private build(): void {
    const m = this.m;
    const count = (label: string, cls: string) => {
      const n = h("strong", { class: "mcount-n" }, "–");
      return [n, h("div", { class: `mcount ${cls}` }, n, h("span", { class: "mcount-label" }, label))] as const;
    };
    const [onSite, onSiteEl] = count("On site", "on-site");
    const [chatting, chattingEl] = count("Chatting", "chatting");
    const [waiting, waitingEl] = count("Waiting", "waiting");
    this.counts = { on_site: onSite, chatting, waiting };
    const select = (label: string, fk: string, options: Array<[string, string]>, value: string, on: (v: string) => void) =>
      h("label", { class: "monitor-pick" },
        h("span", { class: "monitor-pick-label" }, label),
        h("select", { "data-fk": fk, onchange: (e: Event) => on((e.target as HTMLSelectElement).value) },
          options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))),
      );
    this.pageInput = h("input", { type: "search", class: "monitor-page", "aria-label": "Page contains", placeholder: "Page title or address contains…", value: m.pageText, "data-fk": "monitor-page",
      oninput: (e: Event) => { this.m.pageText = (e.target as HTMLInputElement).value; this.render(); } });
    this.status = h("p", { class: "monitor-status muted small", role: "status" });
    this.head = h("div", { class: "vhead", role: "row", "aria-rowindex": 1 },
      ["Name", "Page", "Came from", "On site / page", "Visits", "Pages", "Browser", "Language", "Local time", "Chat"]
        .map((t, i) => h("span", { role: "columnheader", class: `c c${i}` }, t)));
    this.spacer = h("div", { class: "vspacer", role: "presentation" });
    this.scroller = h("div", { class: "vlist", tabindex: "0", onscroll: () => this.onScroll() }, this.head, this.spacer);
    this.listPart = h("div", { class: "monitor-list-part" },
      h("div", { class: "monitor-bar" },
        select("Sort by", "monitor-sort", SORTS, m.sort, (v) => { this.m.sort = v as MonitorSort; this.scroller.scrollTop = 0; this.render(); }),
        select("Show", "monitor-filter", FILTERS, m.filter, (v) => { this.m.filter = v as MonitorFilter; this.scroller.scrollTop = 0; this.render(); if (v === "page") this.pageInput.focus(); }),
        this.pageInput,
      ),
      this.status,
      this.scroller,
    );
    this.profilePart = h("div", { class: "monitor-profile", hidden: true });
    fill(
      this.el,
      h("div", { class: "section-head" }, h("h1", null, "Visitors List")),
      h("div", { class: "monitor-counts", role: "group", "aria-label": "Site Monitor" }, onSiteEl, chattingEl, waitingEl),
      this.listPart,
      this.profilePart,
    );
    this.built = true;
    this.drawn = "";
    this.rowsOf = [];
  }

  private onScroll(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw(false);
    });
  }

  /** Draws the rows in view; `all` redraws them even when the window did not move. */
  private redraw(all: boolean): void {
    if (!this.built) return;
    const wide = this.wide.matches;
    const rowH = wide ? ROW_H : CARD_H;
    const n = this.rows.length;
    this.scroller.classList.toggle("table", wide);
    this.scroller.setAttribute("role", wide ? "table" : "list");
    this.scroller.setAttribute("aria-label", "Visitors on the site");
    if (wide) this.scroller.setAttribute("aria-rowcount", String(n + 1));
    else this.scroller.removeAttribute("aria-rowcount");
    this.head.hidden = !wide;
    this.spacer.style.height = `${n * rowH}px`;
    const headH = wide ? this.head.offsetHeight : 0;
    const top = Math.max(0, this.scroller.scrollTop - headH);
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowH) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + height) / rowH) + OVERSCAN);
    const key = `${first}:${last}:${wide}`;
    if (!all && key === this.drawn) return;
    this.drawn = key;
    const els: HTMLElement[] = [];
    const now = Date.now();
    for (let i = first; i < last; i++) {
      const el = wide ? this.tableRow(this.rows[i], i, now) : this.card(this.rows[i], i);
      el.style.transform = `translateY(${i * rowH}px)`;
      els.push(el);
    }
    this.spacer.replaceChildren(...els);
  }

  private card(v: SiteVisitor, i: number): HTMLElement {
    const name = siteVisitorName(v);
    return h("div", { class: "vrow vcard", role: "listitem", "aria-setsize": this.rows.length, "aria-posinset": i + 1 },
      h("button", { type: "button", class: "vcard-btn", "data-fk": `visitor-${v.id}`, onclick: () => this.open(v.id) },
        avatar(name),
        h("span", { class: "vcard-main" },
          h("span", { class: "vcard-line" }, h("strong", { class: "vname" }, name), chatChip(v.chat)),
          h("span", { class: "vpage" }, pageLabel(v.page)),
          h("span", { class: "vmeta" }, icon("clock", "icon xs"), since(v.arrived_at, "On site ")),
        ),
      ),
    );
  }

  private tableRow(v: SiteVisitor, i: number, now: number): HTMLElement {
    const name = siteVisitorName(v);
    const cell = (n: number, ...children: Array<Node | string>) => h("span", { role: "cell", class: `c c${n}` }, ...children);
    const two = (a: Node | string, b: Node | string) => h("span", { class: "two" }, h("span", { class: "one" }, a), h("span", { class: "sub" }, b));
    return h("div", { class: "vrow", role: "row", "aria-rowindex": i + 2, onclick: () => this.open(v.id) },
      cell(0, h("button", { type: "button", class: "vname-btn", "data-fk": `visitor-${v.id}`, onclick: (e: Event) => { e.stopPropagation(); this.open(v.id); } }, name)),
      cell(1, two(pageLabel(v.page), shortUrl(v.page.url))),
      cell(2, cameFrom(v)),
      cell(3, two(since(v.arrived_at), since(v.page_since))),
      cell(4, String(v.visits)),
      cell(5, String(v.pages)),
      cell(6, two(v.browser ?? "—", v.os ?? "")),
      cell(7, v.language ?? "—"),
      cell(8, localTime(v.utc_offset_min, now)),
      cell(9, chatChip(v.chat)),
    );
  }

  private open(id: number): void {
    const m = this.m;
    this.listScroll = this.scroller.scrollTop;
    m.open = id;
    m.profile = "loading";
    this.render();
    this.profilePart.querySelector<HTMLElement>("[data-fk=monitor-back]")?.focus();
    api.visitorProfile(id).then((p) => {
      if (m.open === id) m.profile = p;
    }, () => {
      if (m.open === id) m.profile = "error";
    }).finally(() => {
      if (m.open === id) this.render();
    });
  }

  /** Invite: the default invitation with the operator name for invitations in place of
   *  `%name%` (as the server will put it), to edit or replace with a canned message, then Send.
   *  Built once per opened visitor, so what the operator types survives the list's updates. */
  private inviteForm(v: SiteVisitor): HTMLElement {
    if (this.invite && this.invite.id === v.id) return this.invite.el;
    const settings = this.app.s.snap?.settings;
    const text = (settings?.default_invitation ?? "").split("%name%").join(settings?.operator_name ?? "");
    const note = h("p", { class: "muted small", role: "status" });
    const area = h("textarea", { id: "invite-text", class: "invite-text", rows: 4, "data-fk": "invite-text" }) as HTMLTextAreaElement;
    area.value = text;
    const canned = this.app.s.snap?.canned ?? [];
    const pick = h("select", { id: "invite-canned", "aria-label": "Canned", "data-fk": "invite-canned",
      onchange: (e: Event) => {
        const c = canned.find((x) => String(x.id) === (e.target as HTMLSelectElement).value);
        if (c) area.value = c.text;
      } },
      h("option", { value: "" }, "Canned message…"),
      canned.map((c) => h("option", { value: String(c.id) }, c.title)));
    const send = h("button", { type: "submit", class: "btn primary", "data-fk": "invite-send" }, "Send") as HTMLButtonElement;
    const form = h("form", { class: "card invite-form", "aria-label": "Invite",
      onsubmit: (e: Event) => {
        e.preventDefault();
        send.disabled = true;
        note.textContent = "Sending the invitation…";
        api.inviteVisitor(v.id, area.value).then(
          () => { note.textContent = "Invitation sent."; },
          (err) => { note.textContent = errorMessage(err); },
        ).finally(() => { send.disabled = false; });
      } },
      h("h2", null, "Invite"),
      h("label", { for: "invite-text" }, "Invitation"),
      area,
      h("div", { class: "invite-row" }, canned.length > 0 && h("label", { for: "invite-canned", class: "sr-only" }, "Canned"), canned.length > 0 && pick, send),
      note,
    );
    this.invite = { id: v.id, el: form };
    return form;
  }

  /** Opens (or closes again) an earlier chat's transcript under it. */
  private read(chatId: number): void {
    if (this.reading?.chatId === chatId) {
      this.reading = null;
      this.render();
      return;
    }
    this.reading = { chatId, t: "loading" };
    this.render();
    api.transcript(chatId).then(
      (t) => { if (this.reading?.chatId === chatId) this.reading.t = t; },
      (e) => { if (this.reading?.chatId === chatId) this.reading.t = errorMessage(e); },
    ).finally(() => this.render());
  }

  private transcriptOf(chatId: number): HTMLElement | null {
    const r = this.reading;
    if (!r || r.chatId !== chatId) return null;
    if (r.t === "loading") return h("p", { class: "empty", role: "status" }, "Loading transcript…");
    if (typeof r.t === "string") return h("p", { class: "empty", role: "alert" }, r.t);
    return h("div", { class: "log transcript", role: "log", "aria-label": "Transcript", tabindex: "0" }, transcriptLines(r.t));
  }

  private close(): void {
    this.invite = null;
    this.reading = null;
    const id = this.m.open;
    this.m.open = null;
    this.m.profile = null;
    this.render();
    this.scroller.scrollTop = this.listScroll;
    this.redraw(true);
    this.scroller.querySelector<HTMLElement>(`[data-fk="visitor-${id}"]`)?.focus();
  }

  /** The profile: what the stream says now, then the pages seen and earlier chats from the
   *  server's profile (when it answers). */
  private renderProfile(): void {
    const m = this.m;
    const id = m.open!;
    const v = m.view?.visitors.find((x) => x.id === id) ?? null;
    const p = m.profile;
    const back = h("button", { type: "button", class: "btn ghost", "data-fk": "monitor-back", onclick: () => this.close() }, icon("back", "icon sm"), h("span", null, "Visitors List"));
    const name = v ? siteVisitorName(v) : typeof p === "object" && p?.name ? p.name : `Visitor ${id}`;
    const facts: Array<[string, Node | string]> = v
      ? [
          ["Page", pageLabel(v.page)],
          ["Address", v.page.url],
          ["Came from", cameFrom(v)],
          ...(v.search_terms && v.referrer ? [["Referrer", v.referrer] as [string, string]] : []),
          ["On site", since(v.arrived_at)],
          ["On this page", since(v.page_since)],
          ["Visits", String(v.visits)],
          ["Pages this visit", String(v.pages)],
          ["Browser", systemOf(v)],
          ["Language", v.language ?? "—"],
          ["Local time", localTime(v.utc_offset_min)],
          ["Chat", chatLabel(v.chat)],
        ]
      : [];
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.fk : undefined;
    fill(
      this.profilePart,
      h("div", { class: "section-head" }, back),
      h("section", { class: "card visitor-card", "aria-label": `Profile of ${name}` },
        h("header", { class: "transcript-head" },
          avatar(name),
          h("div", { class: "who-text" },
            h("h2", null, name),
            h("span", { class: "meta" }, v ? chatChip(v.chat) : h("span", { class: "chip left" }, "Left the site")),
          ),
        ),
        facts.length > 0 && h("dl", { class: "vfacts" }, facts.map(([k, val]) => [h("dt", null, k), h("dd", null, val)])),
      ),
      v && (v.chat.state === "none" || v.chat.state === "ended") && this.inviteForm(v),
      h("section", { class: "group" },
        h("h2", null, "Pages seen"),
        p === "loading" ? h("p", { class: "empty" }, "Loading the visitor's history…")
          : p === "error" || p === null ? h("p", { class: "empty" }, "The visitor's history cannot be loaded right now.")
            : p.pages.length === 0 ? empty("No pages recorded.")
              : h("ol", { class: "rows pages-seen", "aria-label": "Pages seen, most recent first" },
                  p.pages.map((pv) => h("li", { class: "row static" },
                    h("span", { class: "row-main" },
                      h("span", { class: "row-title" }, pageLabel(pv.page)),
                      h("span", { class: "row-sub" }, `${dateTime(pv.at)} · ${shortUrl(pv.page.url)}`),
                    )))),
      ),
      typeof p === "object" && p !== null &&
        h("section", { class: "group" },
          h("h2", null, "Earlier chats"),
          h("p", { class: "muted small" }, `${p.visits} ${p.visits === 1 ? "visit" : "visits"} since ${dateTime(p.first_seen)}`),
          p.chats.length === 0 ? empty("No chats yet.")
            : h("ul", { class: "rows", "aria-label": "Earlier chats" },
                p.chats.map((c) => h("li", null,
                  h("button", { type: "button", class: "row", "data-fk": `earlier-${c.id}`, "aria-expanded": String(this.reading?.chatId === c.id),
                    onclick: () => this.read(c.id) },
                    h("span", { class: "row-main" },
                      h("span", { class: "row-title" }, `${dateTime(c.created_at)} · ${c.status === "missed" ? "Missed" : c.status === "ended" ? "Ended" : c.status === "invited" ? "Invited" : "Open"}`),
                      h("span", { class: "row-sub" }, c.operator ? `With ${c.operator.name}` : "No operator"),
                    )),
                  this.transcriptOf(c.id),
                ))),
        ),
    );
    if (focused) this.profilePart.querySelector<HTMLElement>(`[data-fk="${focused}"]`)?.focus();
  }
}

function sortWords(s: MonitorSort): string {
  return s === "time" ? "longest on the site first" : s === "name" ? "by name" : "by page";
}

function chatChip(c: VisitorChat): HTMLElement {
  return h("span", { class: `chip chat-${c.state}` }, chatLabel(c));
}

