// Reports' figures (issue 13): pick a period (Today, Yesterday, Last 7 days, Last 30 days or two
// dates) and an operator; see the counts as tiles, chats per day (per hour for a single day), the
// busiest hours and the operators as charts, each with a table; tap a bar or a tile for the chats
// behind it, a page at a time, each with its transcript and, for a chat nobody took, the phones
// that were rung; save CSV files to the device's downloads.
//
// Every figure comes from the server (through the core), so Reports need the network: offline it
// says so and offers Retry, and tries again by itself when the connection is back.
//
// Not a view (it takes no Controller): reports.ts holds one, tells it who is signed in, and
// shows the offline messages under it. It repaints only when its own state changes, so a
// snapshot arriving never loses a date being typed, a scroll position or the focus.
import { api, errorMessage } from "./api";
import type { OperatorFigures, PushDelivery, Report, ReportBucket, ReportChat, ReportChatsQuery, ReportFigure, ReportPeriod, ReportQuery, ReportTable, Transcript } from "./bindings";
import { MAX_REPORT_DAYS } from "./bindings";
import { barChart, dataTable, legend, type Every } from "./charts";
import { avatar, fill, h, icon, type Child } from "./dom";
import { duration, modeLabel, plural, shortUrl } from "./format";
import { transcriptLines } from "./transcript";

/** Who is signed in, as reports need it. */
export interface Viewer {
  /** Changes when another operator signs in (or on another server): everything is forgotten. */
  key: string;
  id: number;
  name: string;
  isAdmin: boolean;
  online: boolean;
}

type Preset = ReportPeriod | "custom";

const PRESETS: Array<[Preset, string]> = [
  ["today", "Today"],
  ["yesterday", "Yesterday"],
  ["last_7_days", "Last 7 days"],
  ["last_30_days", "Last 30 days"],
  ["custom", "Custom"],
];

/** The figures that have chats behind them, in the words of the tiles. */
export const FIGURE_NAMES: Record<ReportFigure, string> = {
  all: "All chats",
  requested: "Requested",
  accepted: "Accepted",
  declined: "Declined",
  queued: "Queued",
  missed: "Visitor left",
  unanswered: "Unanswered",
  invitations_sent: "Invitations sent",
  invitations_accepted: "Invitations accepted",
  voice_calls: "Voice calls",
};

/** Chats per page of a drill-down. */
export const CHATS_PAGE = 50;

/** A report older than this is fetched again when Reports is shown. */
const STALE_MS = 60_000;

/** Why something could not be loaded, and whether it is the network (Retry then). */
interface Problem {
  text: string;
  offline: boolean;
}

function problem(e: unknown): Problem {
  const offline = !!e && typeof e === "object" && (e as { code?: unknown }).code === "offline";
  return { text: offline ? "Reports need a connection to the server." : errorMessage(e), offline };
}

// ---- dates and times: days are the site's, so times are shown in its time zone --------------

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A `YYYY-MM-DD` day as a UTC date (weekday and month only; never a moment). */
function parseDay(s: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(d.getTime()) || d.getUTCDate() !== Number(m[3]) ? null : d;
}

/** "27 Nov" (with the year: "27 Nov 2026"; with the weekday: "Fri 27 Nov"). */
export function dayText(s: string, opts: { year?: boolean; weekday?: boolean } = {}): string {
  const d = parseDay(s);
  if (!d) return s;
  const text = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}${opts.year ? ` ${d.getUTCFullYear()}` : ""}`;
  return opts.weekday ? `${WEEKDAYS[d.getUTCDay()]} ${text}` : text;
}

/** "1 Nov – 30 Nov 2026", "27 Nov 2026", "28 Dec 2025 – 3 Jan 2026". */
export function rangeText(from: string, to: string): string {
  if (from === to) return dayText(from, { year: true });
  const a = parseDay(from);
  const b = parseDay(to);
  const sameYear = a && b && a.getUTCFullYear() === b.getUTCFullYear();
  return `${dayText(from, { year: !sameYear })} – ${dayText(to, { year: true })}`;
}

/** Days from `from` to `to`, both included (0 when either is not a day or `to` is before). */
function daysIn(from: string, to: string): number {
  const a = parseDay(from);
  const b = parseDay(to);
  if (!a || !b || b < a) return 0;
  return Math.round((b.getTime() - a.getTime()) / 86400_000) + 1;
}

/** "14:00–15:00". */
function hourText(hour: number): string {
  const hh = (n: number) => String(n % 24).padStart(2, "0");
  return `${hh(hour)}:00–${hh(hour + 1)}:00`;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Formats `ms` in the site's time zone (the device's, if the name is unknown here). */
function inZone(tz: string, ms: number, opts: Intl.DateTimeFormatOptions): string {
  const key = tz + JSON.stringify(opts);
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-GB", { ...opts, timeZone: tz });
    } catch {
      f = new Intl.DateTimeFormat("en-GB", opts);
    }
    formats.set(key, f);
  }
  return f.format(ms);
}

const timeOf = (tz: string, ms: number, seconds = false) =>
  inZone(tz, ms, { hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}), hourCycle: "h23" });
const dateTimeOf = (tz: string, ms: number) => `${inZone(tz, ms, { day: "numeric", month: "short" })}, ${timeOf(tz, ms)}`;

// ---- words --------------------------------------------------------------------------------

/** A short phrase that never breaks across lines ("3 min 20 s"). */
const keep = (s: string) => s.replace(/ /g, "\u00A0");

/** Where a chat ended up, in words: "Visitor left", "Unanswered", "Ended by the visitor"… */
export function statusWords(c: Pick<ReportChat, "status" | "end_reason">): string {
  switch (c.status) {
    case "missed":
      return "Visitor left";
    case "waiting":
      return "Ringing operators";
    case "queued":
      return "In the Communication Queue";
    case "active":
      return "Active";
    case "on_hold":
      return "On hold";
    case "invited":
      return "Invitation sent";
    case "ended":
      switch (c.end_reason) {
        case "no_operator":
          return "Unanswered";
        case "visitor":
          return "Ended by the visitor";
        case "operator":
          return "Ended by the operator";
        case "declined":
          return "Invitation declined";
        default:
          return "Ended";
      }
  }
}

/** A chat nobody took: the phones rung about it tell why. */
function nobodyTook(c: ReportChat): boolean {
  return c.status === "missed" || c.end_reason === "no_operator";
}

/** How a push went: "Delivered at 10:02:03", "Failed: BadDeviceToken", "Not delivered yet". */
export function pushResult(p: PushDelivery, tz: string): string {
  const r = (p.result ?? "").trim();
  if (!r) return p.done_at === null ? "Not delivered yet" : "No answer";
  if (r === "delivered") return p.done_at !== null ? `Delivered at ${timeOf(tz, p.done_at, true)}` : "Delivered";
  if (r === "cancelled") return "Cancelled (the chat was taken or ended first)";
  if (r === "unregistered") return "Failed: the phone is no longer registered";
  if (r === "given up") return "Failed: given up after retrying";
  return `Failed: ${r.replace(/^rejected:\s*/, "")}`;
}

function platformText(p: string): string {
  return p === "apns" ? "iPhone or iPad (APNs)" : p === "fcm" ? "Android (FCM)" : p;
}

// ---- state --------------------------------------------------------------------------------

/** Which chats a drill-down lists. */
interface Scope {
  figure: ReportFigure;
  /** One day of the period. */
  day?: string;
  /** One hour of the day (on `day`, or on every day of the period). */
  hour?: number;
}

/** Where to come back to: the control that opened a page, and how far the report was scrolled. */
interface Return {
  fk: string;
  scroll: number;
}

interface Drill extends Scope {
  /** The report it was opened from (its query, days and time zone). */
  query: ReportQuery;
  report: Report;
  chats: ReportChat[];
  next: number | null;
  loading: boolean;
  /** Whether a first page came (an empty list says "No chats" only then). */
  loaded: boolean;
  error: Problem | null;
  seq: number;
  back: Return;
  /** A chat's transcript, opened from the list. */
  open: Opened | null;
}

interface Opened {
  chat: ReportChat;
  transcript: Transcript | null;
  error: Problem | null;
  back: Return;
}

type PushState = PushDelivery[] | "loading" | Problem;

export class ReportPanel {
  readonly el: HTMLElement = h("div", { class: "report" });
  private viewer: Viewer | null = null;
  /** The period button pressed ("custom" shows the two dates). */
  private preset: Preset = "last_7_days";
  private from = "";
  private to = "";
  private customError: string | null = null;
  private operator: number | null = null;
  /** The query of the report shown (or being fetched). */
  private query: ReportQuery = { period: "last_7_days" };
  private report: Report | null = null;
  private loadedAt = 0;
  private loading = false;
  private error: Problem | null = null;
  private seq = 0;
  /** Operators' names seen in reports (an admin's picker keeps them when one is chosen). */
  private names = new Map<number, string>();
  /** The charts shown as tables. */
  private tables = new Set<string>();
  private bom = false;
  private saving: ReportTable | null = null;
  private saved: string | null = null;
  private saveError: Problem | null = null;
  private drill: Drill | null = null;
  private pushes = new Map<number, PushState>();
  private rungOpen = new Set<number>();

  /** `changed` is called after every repaint (the section shows or hides its own parts). */
  constructor(private changed: () => void) {}

  /** The report, a list of chats, or one chat's transcript. */
  get mode(): "report" | "chats" | "transcript" {
    return this.drill === null ? "report" : this.drill.open === null ? "chats" : "transcript";
  }

  /** Who is signed in (on every render of the section): another operator starts afresh; the
   *  first time, and when the connection comes back after an offline failure, it loads. */
  sync(v: Viewer | null): void {
    const was = this.viewer;
    if (v?.key !== was?.key) {
      this.reset();
      this.viewer = v;
      this.paint();
    }
    this.viewer = v;
    if (!v) return;
    const back = !!was && !was.online && v.online;
    if (this.report === null && !this.loading && (this.error === null || (back && this.error.offline))) void this.load();
    else if (back && this.mode === "report" && this.error?.offline) void this.load();
  }

  /** Reports was opened: an old report is fetched again (today's figures move on). */
  shown(): void {
    if (this.mode === "report" && this.report && !this.loading && Date.now() - this.loadedAt > STALE_MS) void this.load();
  }

  private reset(): void {
    this.seq++; // answers on their way are for the operator before
    this.preset = "last_7_days";
    this.from = this.to = "";
    this.customError = null;
    this.operator = null;
    this.query = { period: "last_7_days" };
    this.report = null;
    this.loadedAt = 0;
    this.loading = false;
    this.error = null;
    this.bom = false;
    this.saving = null;
    this.saved = null;
    this.saveError = null;
    this.drill = null;
    this.names.clear();
    this.tables.clear();
    this.pushes.clear();
    this.rungOpen.clear();
  }

  // ---- loading ------------------------------------------------------------------------------

  private async load(): Promise<void> {
    const seq = ++this.seq;
    const query = { ...this.query };
    this.loading = true;
    this.error = null;
    this.paint();
    try {
      const r = await api.report(query);
      if (seq !== this.seq) return;
      this.report = r;
      this.loadedAt = Date.now();
      for (const o of r.operators) this.names.set(o.operator.id, o.operator.name);
    } catch (e) {
      if (seq === this.seq) this.error = problem(e);
    } finally {
      if (seq === this.seq) {
        this.loading = false;
        this.paint();
      }
    }
  }

  /** The period or the operator changed: fetch the report they make. */
  private ask(query: ReportQuery): void {
    this.query = query;
    this.saved = null;
    this.saveError = null;
    void this.load();
  }

  private withOperator(q: ReportQuery): ReportQuery {
    const out: ReportQuery = q.period ? { period: q.period } : { from: q.from, to: q.to };
    if (this.operator !== null) out.operator = this.operator;
    return out;
  }

  private pickPreset(p: Preset): void {
    this.preset = p;
    this.customError = null;
    if (p === "custom") {
      // start from the days shown
      if (!this.from && this.report) this.from = this.report.from;
      if (!this.to && this.report) this.to = this.report.to;
      this.paint();
      requestAnimationFrame(() => this.el.querySelector<HTMLElement>("[data-fk=report-from]")?.focus());
      return;
    }
    this.ask(this.withOperator({ period: p }));
  }

  private applyCustom(): void {
    const { from, to } = this;
    let why: string | null = null;
    if (!parseDay(from) || !parseDay(to)) why = "Choose both dates.";
    else if (daysIn(from, to) === 0) why = "“To” is before “From”.";
    else if (daysIn(from, to) > MAX_REPORT_DAYS) why = `A report covers at most ${MAX_REPORT_DAYS} days.`;
    this.customError = why;
    if (why) {
      this.paint();
      return;
    }
    this.ask(this.withOperator({ from, to }));
  }

  private pickOperator(value: string): void {
    this.operator = value === "" ? null : Number(value);
    this.ask(this.withOperator(this.query));
  }

  // ---- painting -----------------------------------------------------------------------------

  /** Rebuilds the panel from its state, keeping the focus on the same control. */
  private paint(): void {
    const active = document.activeElement instanceof HTMLElement && this.el.contains(document.activeElement) ? document.activeElement.dataset.fk : undefined;
    fill(this.el, this.viewer ? this.view() : null);
    if (active) this.el.querySelector<HTMLElement>(`[data-fk="${CSS.escape(active)}"]`)?.focus();
    this.changed();
  }

  private view(): Child {
    const d = this.drill;
    if (d?.open) return this.transcriptView(d, d.open);
    if (d) return this.chatsView(d);
    return this.reportView();
  }

  private reportView(): Child {
    const r = this.report;
    return [
      this.controls(),
      h("div", { class: "report-range" },
        h("p", { class: "report-range-text", role: "status" },
          r ? h("span", null, h("strong", null, rangeText(r.from, r.to)), " · ", h("span", null, r.time_zone)) : this.loading ? "Loading report…" : "",
          r && this.loading && h("span", { class: "muted" }, " · updating…")),
        r && h("button", { type: "button", class: "btn small ghost", "data-fk": "report-refresh", "aria-label": "Refresh report", disabled: this.loading, onclick: () => void this.load() }, "Refresh"),
      ),
      this.error && this.problemNote(this.error, () => void this.load(), "report-retry"),
      r && h("div", { class: this.loading ? "report-body stale" : "report-body", "aria-busy": this.loading ? "true" : "false" }, this.body(r)),
    ];
  }

  private problemNote(p: Problem, retry: () => void, fk: string): HTMLElement {
    return h("div", { class: "report-problem", role: "alert" },
      p.offline && icon("wifiOff", "icon sm"),
      h("span", null, p.text),
      h("button", { type: "button", class: "btn small", "data-fk": fk, onclick: retry }, "Retry"),
    );
  }

  private controls(): HTMLElement {
    const v = this.viewer!;
    const pick = h("select", { id: "report-operator", class: "report-select", "data-fk": "report-operator", onchange: (e: Event) => this.pickOperator((e.target as HTMLSelectElement).value) });
    const options: Array<[string, string]> = v.isAdmin
      ? [["", "All operators"], ...[...this.names].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]): [string, string] => [String(id), name])]
      : [["", "Team"], [String(v.id), "Me"]];
    if (this.operator !== null && !options.some(([id]) => id === String(this.operator))) options.push([String(this.operator), this.names.get(this.operator) ?? `Operator ${this.operator}`]);
    for (const [value, label] of options) {
      const o = h("option", { value }, label);
      o.selected = value === (this.operator === null ? "" : String(this.operator));
      pick.appendChild(o);
    }
    const custom = this.preset === "custom";
    return h("div", { class: "report-controls" },
      h("div", { class: "seg", role: "group", "aria-label": "Period" },
        PRESETS.map(([p, label]) => h("button", { type: "button", class: "seg-btn", "aria-pressed": String(this.preset === p), "data-fk": `period-${p}`, onclick: () => this.pickPreset(p) }, label))),
      custom && h("form", { class: "custom-range", "aria-label": "Custom period", onsubmit: (e: Event) => { e.preventDefault(); this.applyCustom(); } },
        h("label", { class: "date-field" }, h("span", null, "From"),
          h("input", { type: "date", value: this.from, "data-fk": "report-from", required: true, oninput: (e: Event) => { this.from = (e.target as HTMLInputElement).value; } })),
        h("label", { class: "date-field" }, h("span", null, "To"),
          h("input", { type: "date", value: this.to, "data-fk": "report-to", required: true, oninput: (e: Event) => { this.to = (e.target as HTMLInputElement).value; } })),
        h("button", { type: "submit", class: "btn primary", "data-fk": "report-apply" }, "Apply"),
        this.customError && h("p", { class: "form-error", role: "alert" }, this.customError),
      ),
      h("div", { class: "report-pick" }, h("label", { for: "report-operator" }, "Operator"), pick),
    );
  }

  private body(r: Report): Child {
    const single = r.days.length === 1;
    return [
      r.operator && h("p", { class: "hint small team-note" }, icon("user", "icon sm"),
        h("span", null, "Figures for ", h("strong", null, r.operator.name), ". Requested, Visitor left, Unanswered and Left a message count the whole team.")),
      this.tiles(r),
      this.chatsChart(r, single),
      !single && this.hoursChart(r),
      this.operatorsCard(r),
      this.downloads(),
    ];
  }

  // ---- tiles --------------------------------------------------------------------------------

  private tiles(r: Report): HTMLElement {
    const t = r.totals;
    const team = r.operator !== null;
    const tile = (label: string, value: number, figure: ReportFigure | null, note: string | null, teamWide = false) => {
      const parts = [
        h("span", { class: "tile-label" }, label, team && teamWide && h("span", { class: "chip team" }, "Team")),
        h("span", { class: "tile-value" }, String(value)),
        note && h("span", { class: "tile-note" }, note),
      ];
      return figure
        ? h("button", { type: "button", class: `tile ${figure}`, "data-fk": `tile-${figure}`, "aria-describedby": "tiles-hint", onclick: () => this.openDrill({ figure }, `tile-${figure}`) }, parts)
        : h("div", { class: "tile" }, parts);
    };
    const time = (label: string, d: Report["answer"], none: string) =>
      h("div", { class: "tile time" },
        h("span", { class: "tile-label" }, label),
        h("span", { class: "tile-value" }, keep(duration(d.p50_ms))),
        h("span", { class: "tile-note" }, d.count ? `median of ${plural(d.count, "chat", "chats")} · 9 in 10 within ${duration(d.p90_ms)}` : none),
      );
    return h("section", { class: "tiles-part", "aria-labelledby": "tiles-title" },
      h("h2", { id: "tiles-title", class: "sr-only" }, "Summary"),
      h("p", { id: "tiles-hint", class: "sr-only" }, "Shows the chats behind this figure."),
      h("div", { class: "tiles" },
        tile("Requested", t.requested, "requested", "Click for Live Help and invitations taken", true),
        tile("Accepted", t.accepted, "accepted", null),
        tile("Declined", t.declined, "declined", null),
        tile("Queued", t.queued, "queued", "Communication Queue"),
        tile("Visitor left", t.missed, "missed", "before anyone answered", true),
        tile("Unanswered", t.unanswered, "unanswered", "nobody answered", true),
        tile("Left a message", t.left_message, null, "Leave a message", true),
        tile("Invitations sent", t.invitations_sent, "invitations_sent", null),
        tile("Invitations accepted", t.invitations_accepted, "invitations_accepted", null),
        tile("Voice calls", t.voice_calls, "voice_calls", null),
        time("Time to answer", r.answer, "No chat was answered"),
        time("Chat length", r.length, "No chat has ended"),
      ),
    );
  }

  // ---- charts -------------------------------------------------------------------------------

  /** A card with a heading, the Table toggle, and the chart or its table. */
  private chartCard(id: string, title: string, note: string | null, chart: () => Child, table: () => Child): HTMLElement {
    const asTable = this.tables.has(id);
    return h("section", { class: "card chart-card", "aria-labelledby": `${id}-title` },
      h("div", { class: "chart-head" },
        h("h2", { id: `${id}-title` }, title),
        h("button", { type: "button", class: "btn small toggle", "aria-pressed": String(asTable), "data-fk": `${id}-table`,
          onclick: () => { if (asTable) this.tables.delete(id); else this.tables.add(id); this.paint(); } }, "Table"),
      ),
      note && h("p", { class: "muted small chart-note" }, note),
      asTable ? table() : chart(),
    );
  }

  private chatsChart(r: Report, single: boolean): HTMLElement {
    const buckets = single ? r.hours : r.days;
    const id = "chart-chats";
    const open = (i: number) => this.openDrill(single ? { figure: "requested", day: r.from, hour: i } : { figure: "requested", day: buckets[i].label }, `${id}-${i}`);
    const name = (i: number) => (single ? hourText(i) : dayText(buckets[i].label, { weekday: true }));
    const c = (i: number) => buckets[i].counts;
    const sum = (k: "requested" | "accepted" | "missed" | "unanswered") => buckets.reduce((s, b) => s + b.counts[k], 0);
    const top = buckets.reduce((best, b, i) => (b.counts.requested > buckets[best].counts.requested ? i : best), 0);
    const period = rangeText(r.from, r.to);
    const summary = buckets.length === 0 || sum("requested") === 0
      ? `No chat requests, ${period}.`
      : `Bar chart of chats per ${single ? "hour" : "day"}, ${period}: ${sum("requested")} requested, ${sum("accepted")} accepted, ${sum("missed")} visitor left, ` +
        `${sum("unanswered")} unanswered. Busiest: ${name(top)} with ${c(top).requested} requested.`;
    return this.chartCard(id, single ? "Chats per hour" : "Chats per day", "Bars show the requests; their colours how they ended. Tap a bar for its chats.",
      () => [
        legend([{ label: "Accepted", cls: "s-acc" }, { label: "Visitor left", cls: "s-missed" }, { label: "Unanswered", cls: "s-unans" }, { label: "Other", cls: "s-other" }]),
        barChart({
          summary,
          ticks: single ? hourTicks() : dayTicks(buckets),
          labelEvery: single ? [3, 2, 1] : dayEvery(buckets.length),
          valueEvery: single ? [0, 0, 1] : buckets.length <= 7 ? [1, 1, 1] : buckets.length <= 14 ? [0, 1, 1] : buckets.length <= 31 ? [0, 0, 1] : [0, 0, 0],
          segments: [
            { label: "Accepted", cls: "s-acc", values: buckets.map((b) => b.counts.accepted) },
            { label: "Visitor left", cls: "s-missed", values: buckets.map((b) => b.counts.missed) },
            { label: "Unanswered", cls: "s-unans", values: buckets.map((b) => b.counts.unanswered) },
          ],
          totals: buckets.map((b) => b.counts.requested),
          barName: (i) => `${name(i)}: ${c(i).requested} requested, ${c(i).accepted} accepted, ${c(i).missed} visitor left, ${c(i).unanswered} unanswered. Show the chats.`,
          onBar: open,
          fk: id,
        }),
      ],
      () => this.bucketTable(buckets, single ? "Hour" : "Day", `Chats per ${single ? "hour" : "day"}, ${period}`,
        (i) => (single ? hourText(i).slice(0, 5) : dayText(buckets[i].label)), open, `${id}-row`));
  }

  private hoursChart(r: Report): HTMLElement {
    const id = "chart-hours";
    const hours = r.hours;
    const open = (i: number) => this.openDrill({ figure: "requested", hour: i }, `${id}-${i}`);
    const top = hours.reduce((best, b, i) => (b.counts.requested > hours[best].counts.requested ? i : best), 0);
    const total = hours.reduce((s, b) => s + b.counts.requested, 0);
    const summary = total === 0
      ? "No chat requests in any hour."
      : `Bar chart of chat requests per hour of the day, all days of the period added up. Busiest: ${hourText(top)} with ${hours[top].counts.requested} requested.`;
    return this.chartCard(id, "Busiest hours", "Requests per hour of the day, the period's days added up.",
      () => barChart({
        summary,
        ticks: hourTicks(),
        labelEvery: [3, 2, 1],
        valueEvery: [0, 0, 1],
        segments: [{ label: "Requested", cls: "s-req", values: hours.map((b) => b.counts.requested) }],
        totals: hours.map((b) => b.counts.requested),
        barName: (i) => `${hourText(i)}: ${hours[i].counts.requested} requested. Show the chats.`,
        onBar: open,
        fk: id,
      }),
      () => this.bucketTable(hours, "Hour", "Chat requests per hour of the day", (i) => hourText(i).slice(0, 5), open, `${id}-row`));
  }

  /** A bucket per row: its name (a button to its chats) and its counts. */
  private bucketTable(buckets: ReportBucket[], what: string, caption: string, name: (i: number) => string, open: (i: number) => void, fk: string): HTMLElement {
    return h("div", { class: "table-wrap" },
      // soft hyphens: on a phone the long headers break rather than widen the table
      dataTable(caption, [what, "Re\u00ADquested", "Ac\u00ADcepted", "Visitor left", "Un\u00ADanswered"],
        buckets.map((b, i) => ({
          head: h("button", { type: "button", class: "link-btn", "data-fk": `${fk}-${i}`, onclick: () => open(i) }, name(i)),
          cells: [b.counts.requested, b.counts.accepted, b.counts.missed, b.counts.unanswered],
        })), "buckets"));
  }

  private operatorsCard(r: Report): HTMLElement {
    const ops = [...r.operators].sort((a, b) => b.chats - a.chats || a.operator.name.localeCompare(b.operator.name));
    const max = Math.max(1, ...ops.map((o) => o.chats));
    const cell = (label: string, value: string) => h("td", { role: "cell", class: "num", "data-label": label }, value);
    const row = (o: OperatorFigures) =>
      h("tr", { role: "row" },
        h("th", { role: "rowheader", scope: "row", class: "op-name" },
          h("span", { class: "op-name-text" }, o.operator.name),
          h("span", { class: "op-bar", "aria-hidden": "true" }, h("span", { style: `width: ${Math.round((o.chats / max) * 1000) / 10}%` }))),
        cell("Chats", String(o.chats)),
        cell("Messages", String(o.messages)),
        cell("Declined", String(o.declined)),
        cell("Avg. time to answer", duration(o.avg_answer_ms)),
        cell("Live Help Available", duration(o.available_ms)),
      );
    return h("section", { class: "card chart-card", "aria-labelledby": "ops-title" },
      h("div", { class: "chart-head" }, h("h2", { id: "ops-title" }, "Per operator")),
      h("p", { class: "muted small chart-note" }, "Chats they took, messages they wrote, requests they declined, their average time to Accept, and how long they were Live Help Available."),
      ops.length === 0
        ? h("p", { class: "empty" }, "No operator figures for this period.")
        : h("table", { class: "data-table ops", role: "table" },
            h("caption", { class: "sr-only" }, `Per operator, ${rangeText(r.from, r.to)}`),
            h("thead", { role: "rowgroup" }, h("tr", { role: "row" },
              ["Operator", "Chats", "Messages", "Declined", "Avg. time to answer", "Live Help Available"].map((c, i) =>
                h("th", { role: "columnheader", scope: "col", class: i ? "num" : "" }, c)))),
            h("tbody", { role: "rowgroup" }, ops.map(row))),
    );
  }

  // ---- CSV ----------------------------------------------------------------------------------

  private downloads(): HTMLElement {
    const button = (table: ReportTable, label: string, primary = false) =>
      h("button", { type: "button", class: primary ? "btn primary" : "btn", "data-fk": `csv-${table}`, disabled: this.saving !== null, onclick: () => void this.save(table) },
        this.saving === table ? "Saving…" : label);
    return h("section", { class: "card downloads", "aria-labelledby": "csv-title" },
      h("h2", { id: "csv-title" }, "Download"),
      h("p", { class: "muted small" }, "CSV files of the period and operator above, saved to this device's downloads."),
      h("label", { class: "check" },
        h("input", { type: "checkbox", "data-fk": "csv-bom", checked: this.bom, onchange: (e: Event) => { this.bom = (e.target as HTMLInputElement).checked; } }),
        h("span", null, "For Excel (UTF-8 with BOM)")),
      h("div", { class: "csv-buttons" },
        button("chats", "Download chats (CSV)", true),
        button("days", "Days (CSV)"),
        button("hours", "Hours (CSV)"),
        button("operators", "Operators (CSV)"),
      ),
      this.saved && h("p", { class: "saved", role: "status" }, icon("check", "icon sm"), h("span", null, "Saved to ", h("span", { class: "path" }, this.saved))),
      this.saveError && this.problemNote(this.saveError, () => void this.save(this.lastTable), "csv-retry"),
    );
  }

  private lastTable: ReportTable = "chats";

  private async save(table: ReportTable): Promise<void> {
    if (this.saving) return;
    this.saving = table;
    this.lastTable = table;
    this.saved = null;
    this.saveError = null;
    this.paint();
    const seq = this.seq;
    try {
      const path = await api.exportReport(table, { ...this.query }, this.bom);
      if (seq === this.seq) this.saved = path;
    } catch (e) {
      if (seq === this.seq) this.saveError = problem(e);
    } finally {
      this.saving = null;
      this.paint();
    }
  }

  // ---- the chats behind a figure ------------------------------------------------------------

  private scroller(): HTMLElement | null {
    return this.el.closest<HTMLElement>(".content");
  }

  private openDrill(scope: Scope, fk: string): void {
    const r = this.report;
    if (!r) return;
    this.drill = { ...scope, query: { ...this.query }, report: r, chats: [], next: null, loading: false, loaded: false, error: null, seq: 0,
      back: { fk, scroll: this.scroller()?.scrollTop ?? 0 }, open: null };
    void this.loadChats(false);
    this.pageShown("drill-title");
  }

  /** A page replaced another: start at its top, with its heading focused (screen readers read it). */
  private pageShown(titleId: string): void {
    const s = this.scroller();
    if (s) s.scrollTop = 0;
    this.el.querySelector<HTMLElement>(`#${titleId}`)?.focus();
  }

  private closeDrill(): void {
    const d = this.drill;
    this.drill = null;
    this.paint();
    if (!d) return;
    const s = this.scroller();
    if (s) s.scrollTop = d.back.scroll;
    this.el.querySelector<HTMLElement>(`[data-fk="${CSS.escape(d.back.fk)}"]`)?.focus({ preventScroll: true });
  }

  private async loadChats(more: boolean): Promise<void> {
    const d = this.drill;
    if (!d) return;
    const seq = ++d.seq;
    const q: ReportChatsQuery = { ...d.query, figure: d.figure, limit: CHATS_PAGE };
    if (d.day !== undefined) q.day = d.day;
    if (d.hour !== undefined) q.hour = d.hour;
    if (more && d.next !== null) q.after = d.next;
    if (!more) {
      d.chats = [];
      d.next = null;
      d.loaded = false;
    }
    d.loading = true;
    d.error = null;
    this.paint();
    try {
      const page = await api.reportChats(q);
      if (this.drill !== d || seq !== d.seq) return;
      d.chats = more ? [...d.chats, ...page.chats] : page.chats;
      d.next = page.next_after;
      d.loaded = true;
    } catch (e) {
      if (this.drill === d && seq === d.seq) d.error = problem(e);
    } finally {
      if (this.drill === d && seq === d.seq) {
        d.loading = false;
        this.paint();
      }
    }
  }

  /** The drill-down moves to another day or hour, or another figure. */
  private rescope(scope: Partial<Scope>): void {
    const d = this.drill;
    if (!d) return;
    Object.assign(d, scope);
    void this.loadChats(false);
  }

  private scopeText(d: Drill): string {
    const r = d.report;
    if (d.day !== undefined && d.hour !== undefined) return `${dayText(d.day, { weekday: true, year: true })}, ${hourText(d.hour)}`;
    if (d.day !== undefined) return dayText(d.day, { weekday: true, year: true });
    if (d.hour !== undefined) return `${hourText(d.hour)} on each day, ${rangeText(r.from, r.to)}`;
    return rangeText(r.from, r.to);
  }

  /** "‹ 26 Nov" and "28 Nov ›" (or the hours): a bar is narrow on a phone, the next one is a tap away. */
  private stepper(d: Drill): HTMLElement | null {
    const days = d.report.days.map((b) => b.label);
    const step = (delta: number): { label: string; scope: Partial<Scope> } | null => {
      if (d.hour !== undefined && (d.day === undefined || days.length === 1)) {
        const hr = d.hour + delta;
        return hr < 0 || hr > 23 ? null : { label: hourText(hr).slice(0, 5), scope: { hour: hr } };
      }
      if (d.day !== undefined) {
        const day = days[days.indexOf(d.day) + delta];
        return day === undefined ? null : { label: dayText(day), scope: { day } };
      }
      return null;
    };
    const prev = step(-1);
    const next = step(1);
    if (!prev && !next && d.day === undefined && d.hour === undefined) return null;
    const what = d.hour !== undefined && (d.day === undefined || days.length === 1) ? "hour" : "day";
    return h("div", { class: "stepper" },
      h("button", { type: "button", class: "btn small", "data-fk": "drill-prev", disabled: !prev, "aria-label": prev ? `Previous ${what}: ${prev.label}` : `No previous ${what}`,
        onclick: () => prev && this.rescope(prev.scope) }, icon("back", "icon sm"), h("span", null, prev?.label ?? "")),
      h("button", { type: "button", class: "btn small", "data-fk": "drill-next", disabled: !next, "aria-label": next ? `Next ${what}: ${next.label}` : `No next ${what}`,
        onclick: () => next && this.rescope(next.scope) }, h("span", null, next?.label ?? ""), icon("back", "icon sm flip")),
    );
  }

  private chatsView(d: Drill): Child {
    const tz = d.report.time_zone;
    const pick = h("select", { id: "drill-figure", class: "report-select", "data-fk": "drill-figure", onchange: (e: Event) => this.rescope({ figure: (e.target as HTMLSelectElement).value as ReportFigure }) });
    for (const [f, label] of Object.entries(FIGURE_NAMES)) {
      const o = h("option", { value: f }, label);
      o.selected = f === d.figure;
      pick.appendChild(o);
    }
    const oneDay = d.day !== undefined || d.report.days.length === 1;
    return [
      h("div", { class: "section-head" },
        h("button", { type: "button", class: "btn ghost", "data-fk": "drill-back", onclick: () => this.closeDrill() }, icon("back", "icon sm"), h("span", null, "Report"))),
      h("h1", { id: "drill-title", class: "drill-title", tabindex: "-1" }, FIGURE_NAMES[d.figure]),
      h("p", { class: "drill-scope muted" }, this.scopeText(d), " · ", tz,
        d.report.operator && [" · ", h("span", { class: "drill-op" }, d.report.operator.name)]),
      h("div", { class: "drill-bar" },
        h("div", { class: "report-pick" }, h("label", { for: "drill-figure" }, "Show"), pick),
        this.stepper(d)),
      d.error && this.problemNote(d.error, () => void this.loadChats(d.chats.length > 0), "drill-retry"),
      d.loaded && d.chats.length === 0
        ? h("p", { class: "empty" }, "No chats.")
        : d.chats.length > 0 && h("ul", { class: "cards report-chats", "aria-label": `Chats: ${FIGURE_NAMES[d.figure]}, ${this.scopeText(d)}` },
            d.chats.map((c) => this.chatCard(c, tz, oneDay))),
      d.loading && h("p", { class: "muted report-loading", role: "status" }, "Loading chats…"),
      d.next !== null && !d.loading &&
        h("div", { class: "actions center" },
          h("button", { type: "button", class: "btn", "data-fk": "drill-more", onclick: () => void this.loadChats(true) }, "More")),
    ];
  }

  private chatCard(c: ReportChat, tz: string, oneDay: boolean): HTMLElement {
    const name = c.visitor_name?.trim() || "Visitor";
    const status = statusWords(c);
    const bad = nobodyTook(c);
    const facts = [
      c.operator ? c.operator.name : "No operator",
      c.wait_ms !== null && `Waited ${keep(duration(c.wait_ms))}`,
      c.duration_ms !== null && `Lasted ${keep(duration(c.duration_ms))}`,
      `${c.visitor_messages} from the visitor, ${c.operator_messages} from operators`,
      c.declines > 0 && plural(c.declines, "decline", "declines"),
      c.mode === "voice" ? "Voice chat" : c.voice_calls > 0 && plural(c.voice_calls, "voice call", "voice calls"),
      c.invited && "Invitation",
    ].filter((x): x is string => typeof x === "string");
    return h("li", { class: `card rchat${bad ? " nobody" : ""}`, "data-chat-id": c.id },
      h("button", { type: "button", class: "rchat-open", "data-fk": `rchat-${c.id}`, onclick: () => this.openChat(c) },
        h("span", { class: "rchat-line" },
          h("span", { class: "rchat-name" }, name),
          h("time", { class: "rchat-time", datetime: new Date(c.started_at).toISOString() }, oneDay ? timeOf(tz, c.started_at) : dateTimeOf(tz, c.started_at))),
        h("span", { class: "rchat-line" }, h("span", { class: `chip status ${bad ? "bad" : c.status}` }, status)),
        h("span", { class: "rchat-facts" }, facts.join(" · ")),
        c.page_url && h("span", { class: "rchat-page" }, shortUrl(c.page_url)),
      ),
      bad && this.rung(c, tz),
    );
  }

  /** "Phones rung": a toggle under a chat nobody took, and the pushes sent about it. */
  private rung(c: ReportChat, tz: string, always = false): HTMLElement {
    const open = always || this.rungOpen.has(c.id);
    const id = `rung-${c.id}${always ? "-t" : ""}`;
    return h("div", { class: "rung" },
      always
        ? h("h2", { class: "rung-title" }, "Phones rung")
        : h("button", { type: "button", class: "btn small", "aria-expanded": String(open), "aria-controls": id, "data-fk": `rung-${c.id}`, onclick: () => this.toggleRung(c.id) },
            icon("bell", "icon sm"), h("span", null, "Phones rung"), icon("chevronDown", "icon sm chevron")),
      open && h("div", { id, class: "rung-body" }, this.pushList(c.id, tz)),
    );
  }

  private toggleRung(chatId: number): void {
    if (this.rungOpen.has(chatId)) this.rungOpen.delete(chatId);
    else {
      this.rungOpen.add(chatId);
      if (!Array.isArray(this.pushes.get(chatId))) void this.loadPushes(chatId);
    }
    this.paint();
  }

  private async loadPushes(chatId: number): Promise<void> {
    this.pushes.set(chatId, "loading");
    this.paint();
    const seq = this.seq;
    let got: PushState;
    try {
      got = await api.reportPushes(chatId);
    } catch (e) {
      got = problem(e);
    }
    if (seq !== this.seq) return;
    this.pushes.set(chatId, got);
    this.paint();
  }

  private pushList(chatId: number, tz: string): Child {
    const p = this.pushes.get(chatId);
    if (p === undefined || p === "loading") return h("p", { class: "muted small", role: "status" }, "Loading…");
    if (!Array.isArray(p)) return this.problemNote(p, () => void this.loadPushes(chatId), `rung-retry-${chatId}`);
    if (p.length === 0) return h("p", { class: "muted small" }, "No phone was rung about this chat.");
    return h("ul", { class: "pushes", "aria-label": "Phones rung" },
      p.map((x) => {
        const result = pushResult(x, tz);
        const state = x.result === "delivered" ? "push-ok" : x.result === null ? "push-wait" : x.result === "cancelled" ? "" : "push-bad";
        return h("li", { class: `push ${state}` },
          h("span", { class: "push-who" }, x.operator.name),
          h("span", { class: "push-device" }, [x.device_name?.trim(), platformText(x.platform)].filter(Boolean).join(" · ")),
          h("span", { class: "push-when muted" }, `${x.kind === "clear" ? "Ring cleared" : "Rung"} · queued ${timeOf(tz, x.queued_at, true)}`),
          h("span", { class: "push-result" }, result),
          h("span", { class: "push-attempts muted" }, plural(x.attempts.length, "attempt", "attempts"),
            x.attempts.length > 0 && ` · last: ${x.attempts[x.attempts.length - 1].result}`),
        );
      }));
  }

  // ---- a chat's transcript ------------------------------------------------------------------

  private openChat(c: ReportChat): void {
    const d = this.drill;
    if (!d) return;
    d.open = { chat: c, transcript: null, error: null, back: { fk: `rchat-${c.id}`, scroll: this.scroller()?.scrollTop ?? 0 } };
    void this.loadTranscript(d.open);
    if (nobodyTook(c) && !Array.isArray(this.pushes.get(c.id))) void this.loadPushes(c.id);
    this.pageShown("transcript-title");
  }

  private async loadTranscript(o: Opened): Promise<void> {
    o.error = null;
    this.paint();
    try {
      const t = await api.transcript(o.chat.id);
      o.transcript = t;
    } catch (e) {
      o.error = problem(e);
    }
    if (this.drill?.open === o) this.paint();
  }

  private closeChat(): void {
    const d = this.drill;
    const o = d?.open;
    if (!d || !o) return;
    d.open = null;
    this.paint();
    const s = this.scroller();
    if (s) s.scrollTop = o.back.scroll;
    this.el.querySelector<HTMLElement>(`[data-fk="${CSS.escape(o.back.fk)}"]`)?.focus({ preventScroll: true });
  }

  private transcriptView(d: Drill, o: Opened): Child {
    const c = o.chat;
    const tz = d.report.time_zone;
    const name = c.visitor_name?.trim() || "Visitor";
    const t = o.transcript;
    return [
      h("div", { class: "section-head" },
        h("button", { type: "button", class: "btn ghost", "data-fk": "transcript-back", onclick: () => this.closeChat() }, icon("back", "icon sm"), h("span", null, FIGURE_NAMES[d.figure]))),
      h("header", { class: "transcript-head" },
        avatar(name),
        h("div", { class: "who-text" },
          h("h1", { id: "transcript-title", tabindex: "-1" }, name),
          h("span", { class: "tmeta" }, `${statusWords(c)} · ${modeLabel(c.mode)} · ${dateTimeOf(tz, c.started_at)}${c.operator ? ` · ${c.operator.name}` : ""}`),
          c.page_url && h("span", { class: "tmeta" }, shortUrl(c.page_url)),
        ),
      ),
      nobodyTook(c) && h("section", { class: "card rung-card" }, this.rung(c, tz, true)),
      o.error
        ? this.problemNote(o.error, () => void this.loadTranscript(o), "transcript-retry")
        : t === null
          ? h("p", { class: "empty", role: "status" }, "Loading transcript…")
          : [
              t.from_cache && h("p", { class: "hint small", role: "status" }, icon("wifiOff", "icon sm"), h("span", null, "Offline — the transcript as saved on this device.")),
              h("div", { class: "log transcript", role: "log", "aria-label": `Transcript of the chat with ${name}`, tabindex: "0" }, transcriptLines(t)),
            ],
    ];
  }
}

// ---- chart labels -------------------------------------------------------------------------

/** Day labels: the day of the month, with the month under the first one and each 1st. */
function dayTicks(days: ReportBucket[]): Array<{ text: string; sub?: string }> {
  return days.map((b, i) => {
    const d = parseDay(b.label);
    if (!d) return { text: b.label };
    const sub = days.length <= 7 ? WEEKDAYS[d.getUTCDay()] : i === 0 || d.getUTCDate() === 1 ? MONTHS[d.getUTCMonth()] : undefined;
    return { text: String(d.getUTCDate()), sub };
  });
}

function hourTicks(): Array<{ text: string }> {
  return Array.from({ length: 24 }, (_, i) => ({ text: String(i).padStart(2, "0") }));
}

/** How many day labels show on a phone, a tablet and a desktop so they never touch. */
function dayEvery(n: number): Every {
  if (n <= 7) return [1, 1, 1];
  if (n <= 14) return [2, 1, 1];
  if (n <= 31) return [7, 2, 1];
  return [Math.ceil(n / 35) * 7, Math.ceil(n / 84) * 7, Math.ceil(n / 140) * 7];
}
