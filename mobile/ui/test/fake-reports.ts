// The fake backend's Reports: scripted figures for any period (every figure non-zero, each day
// different), four operators (two with long names), a pool of chats behind the figures (a
// missed one whose pushes went one delivered, one failed, one still waiting), their transcripts,
// and CSV "downloads". "Today" is REPORT_TODAY in REPORT_TZ, so screenshots do not move.
import type {
  ChatEvent,
  ChatSummary,
  CommandError,
  OperatorFigures,
  OperatorRef,
  PushDelivery,
  Report,
  ReportBucket,
  ReportChat,
  ReportChatsPage,
  ReportChatsQuery,
  ReportCounts,
  ReportQuery,
  ReportTable,
  Transcript,
} from "../src/bindings";

export const REPORT_TZ = "Europe/Paris";
export const REPORT_TODAY = "2026-11-30";
export const LONG_OPERATOR = "Maximiliana Alexandrovna Papadopoulou-Fitzgerald";
export const LONG_VISITOR = "Wolfeschlegelsteinhausenbergerdorff Hubert Blaine Senior";
export const LONG_PAGE = "https://shop.acme-bikes.example.com/catalogue/bicycles/road/red-racer-3000-the-fastest-bicycle-money-can-buy?colour=red&size=XL&utm_source=newsletter";

export const REPORT_OPERATORS: Array<OperatorRef & { share: number; answer: number | null; available: number }> = [
  { id: 1, name: "Olga Berg", share: 0.4, answer: 45_000, available: 12_000_000 },
  { id: 2, name: LONG_OPERATOR, share: 0.3, answer: 200_000, available: 28_800_000 },
  { id: 3, name: "Pat Kim", share: 0.2, answer: 3_900_000, available: 5_400_000 },
  { id: 4, name: "Bartholomew Christopherson-Montgomery-Fitzwilliam", share: 0.1, answer: null, available: 600_000 },
];

/** How the requests of a day spread over its hours. */
const HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 1, 2, 4, 7, 9, 8, 6, 7, 10, 12, 9, 6, 4, 3, 2, 1, 1, 1];
const KEYS: Array<keyof ReportCounts> = ["requested", "accepted", "declined", "queued", "missed", "unanswered", "left_message",
  "invitations_sent", "invitations_accepted", "voice_calls", "visitor_messages", "operator_messages"];
/** The figures that are the team's even when an operator is chosen. */
const TEAM_KEYS: Array<keyof ReportCounts> = ["requested", "missed", "unanswered", "left_message"];

const DAY = 86400_000;

function dayMs(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).getUTCDate() === Number(m[3]) ? t : null;
}

function dayString(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** Midnight of `day` in Paris (UTC+1 in the scripted months), unix ms. */
function parisMidnight(day: string): number {
  return dayMs(day)! - 3600_000;
}

const invalid = (message: string): Promise<never> => Promise.reject({ code: "invalid_input", message } satisfies CommandError);

/** A day's counts: the same date always has the same ones, and none is zero. */
export function dayCounts(day: string): ReportCounts {
  const n = Math.round((dayMs(day)! - Date.UTC(2026, 0, 1)) / DAY);
  const requested = 8 + ((n * 5) % 13);
  const missed = 1 + (n % 3);
  const unanswered = 1 + (n % 2);
  const other = n % 4 === 0 ? 1 : 0;
  const accepted = requested - missed - unanswered - other;
  return {
    requested, accepted, missed, unanswered,
    declined: 1 + (n % 4), queued: 1 + (n % 2), left_message: 1 + (n % 3),
    invitations_sent: 2 + (n % 3), invitations_accepted: 1 + (n % 2), voice_calls: 1 + (n % 2),
    visitor_messages: accepted * 4, operator_messages: accepted * 5,
  };
}

function zero(): ReportCounts {
  return Object.fromEntries(KEYS.map((k) => [k, 0])) as unknown as ReportCounts;
}

function add(a: ReportCounts, b: ReportCounts): ReportCounts {
  const out = zero();
  for (const k of KEYS) out[k] = a[k] + b[k];
  return out;
}

/** One operator's part of the counts (the team's figures stay the team's). */
function share(c: ReportCounts, s: number): ReportCounts {
  const out = { ...c };
  for (const k of KEYS) if (!TEAM_KEYS.includes(k)) out[k] = Math.floor(c[k] * s);
  return out;
}

export interface Viewer {
  id: number;
  isAdmin: boolean;
}

export class FakeReports {
  /** report_chats' page size here (the server's default is 50). */
  page = 3;
  /** The last report answered (tests compare the screen with it). */
  last: Report | null = null;
  /** The chats behind every figure, oldest first (filtered by figure, moved into the day asked). */
  pool: ReportChat[] = [];
  pushes = new Map<number, PushDelivery[]>();
  /** Pool chats as last listed (moved into a day): their transcripts keep those times. */
  private listed = new Map<number, ReportChat>();

  constructor() {
    const t0 = parisMidnight(REPORT_TODAY) + 9 * 3600_000;
    const op = (i: number): OperatorRef => ({ id: REPORT_OPERATORS[i].id, name: REPORT_OPERATORS[i].name });
    const chat = (id: number, p: Partial<ReportChat>): ReportChat => {
      const started = t0 + (id - 700) * 17 * 60_000;
      const answered = p.operator ? started + (p.wait_ms ?? 45_000) : null;
      return {
        id, started_at: started, answered_at: answered, ended_at: started + 600_000, status: "ended", end_reason: "visitor", operator: null, invited: false,
        wait_ms: 45_000, duration_ms: p.operator ? 200_000 : null, visitor_messages: 5, operator_messages: 7, declines: 0, voice_calls: 0,
        page_url: "https://shop.example.com/checkout", visitor_name: "Anna Kovacs", mode: "text", ...p,
      };
    };
    this.pool = [
      chat(701, { status: "missed", end_reason: null, visitor_name: LONG_VISITOR, page_url: LONG_PAGE, wait_ms: 95_000, visitor_messages: 1, operator_messages: 0, declines: 1 }),
      chat(702, { operator: op(0), visitor_name: "Anna Kovacs" }),
      chat(703, { end_reason: "no_operator", visitor_name: null, wait_ms: 60_000, visitor_messages: 1, operator_messages: 0 }),
      chat(704, { operator: op(1), visitor_name: "Bruno Silva", mode: "voice", voice_calls: 1, duration_ms: 3_900_000, end_reason: "operator" }),
      chat(705, { operator: op(2), visitor_name: "Chen Wei", invited: true, wait_ms: null }),
      chat(706, { status: "missed", end_reason: null, visitor_name: "Dora Novak", wait_ms: 30_000, visitor_messages: 0, operator_messages: 0 }),
      chat(707, { operator: op(0), visitor_name: "Eva Lind", voice_calls: 1 }),
      chat(708, { operator: op(0), visitor_name: "Farah Haddad", status: "active", end_reason: null, ended_at: null, duration_ms: null }),
      chat(709, { operator: op(3), visitor_name: "Gustav Holm", declines: 2, wait_ms: 200_000 }),
      chat(710, { operator: op(0), visitor_name: "Hana Sato" }),
    ];
    const rung = this.pool[0].started_at;
    this.pushes.set(701, [
      { operator: op(0), platform: "fcm", device_name: "Pixel 8", kind: "ring", queued_at: rung + 1000, done_at: rung + 3000, result: "delivered",
        attempts: [{ at: rung + 1500, latency_ms: 180, status: 200, result: "ok" }] },
      { operator: op(1), platform: "apns", device_name: `iPhone 15 Pro of ${LONG_OPERATOR}`, kind: "ring", queued_at: rung + 1000, done_at: rung + 9000,
        result: "rejected: BadDeviceToken",
        attempts: [{ at: rung + 1500, latency_ms: 2200, status: 0, result: "timed out" }, { at: rung + 8000, latency_ms: 95, status: 400, result: "BadDeviceToken" }] },
      { operator: op(2), platform: "fcm", device_name: null, kind: "ring", queued_at: rung + 1000, done_at: null, result: null, attempts: [] },
    ]);
    this.pushes.set(703, [
      { operator: op(0), platform: "fcm", device_name: "Pixel 8", kind: "ring", queued_at: rung, done_at: rung + 60_000, result: "given up",
        attempts: [{ at: rung, latency_ms: 0, status: 0, result: "connection refused" }] },
    ]);
  }

  /** The days a query covers, or why it is refused (as the server words it). */
  private days(q: ReportQuery): string[] | string {
    let from: number | null;
    let to: number | null;
    const today = dayMs(REPORT_TODAY)!;
    if (q.period) {
      const back = { today: 0, yesterday: 1, last_7_days: 6, last_30_days: 29 }[q.period];
      from = today - back * DAY;
      to = q.period === "yesterday" ? from : today;
    } else {
      from = q.from ? dayMs(q.from) : null;
      to = q.to ? dayMs(q.to) : null;
      if (from === null || to === null) return "Give a period, or both dates of a range (YYYY-MM-DD).";
      if (to < from) return "The end of the period is before its start.";
      if ((to - from) / DAY + 1 > 366) return "A report covers at most 366 days.";
    }
    const out: string[] = [];
    for (let t = from; t <= to; t += DAY) out.push(dayString(t));
    return out;
  }

  report(q: ReportQuery, viewer: Viewer): Report | Promise<never> {
    const days = this.days(q);
    if (typeof days === "string") return invalid(days);
    if (q.operator !== undefined && q.operator !== viewer.id && !viewer.isAdmin) {
      return Promise.reject({ code: "forbidden", message: "Only an admin can see another operator's figures." });
    }
    const who = q.operator === undefined ? null : REPORT_OPERATORS.find((o) => o.id === q.operator) ?? null;
    if (q.operator !== undefined && !who) return Promise.reject({ code: "not_found", message: "No such operator." });
    const part = (c: ReportCounts) => (who ? share(c, who.share) : c);
    const team = days.map((d) => dayCounts(d));
    const buckets: ReportBucket[] = days.map((d, i) => ({ label: d, counts: part(team[i]) }));
    const totalsTeam = team.reduce(add, zero());
    const totals = part(totalsTeam);
    const sumW = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
    const hours: ReportBucket[] = HOUR_WEIGHTS.map((w, hr) => {
      const c = zero();
      for (const k of KEYS) c[k] = Math.round((totals[k] * w) / sumW);
      return { label: String(hr).padStart(2, "0"), counts: c };
    });
    const mine = REPORT_OPERATORS.filter((o) => viewer.isAdmin || o.id === viewer.id);
    const operators: OperatorFigures[] = mine.map((o) => {
      const chats = Math.floor(totalsTeam.accepted * o.share);
      return { operator: { id: o.id, name: o.name }, chats, messages: chats * 5, declined: 1 + o.id, avg_answer_ms: o.answer, available_ms: o.available };
    });
    const start = parisMidnight(days[0]);
    this.last = {
      from: days[0], to: days[days.length - 1], time_zone: REPORT_TZ, start, end: start + days.length * DAY,
      operator: who ? { id: who.id, name: who.name } : null,
      totals, days: buckets, hours,
      answer: { count: totals.accepted, p50_ms: 45_000, p90_ms: 200_000, avg_ms: 70_000 },
      length: { count: totals.accepted, p50_ms: 380_000, p90_ms: 3_900_000, avg_ms: 600_000 },
      operators,
    };
    return JSON.parse(JSON.stringify(this.last)) as Report;
  }

  chats(q: ReportChatsQuery): ReportChatsPage | Promise<never> {
    const days = this.days(q);
    if (typeof days === "string") return invalid(days);
    if (q.day !== undefined && !days.includes(q.day)) return invalid("That day is not in the period.");
    const f = q.figure ?? "all";
    const keep = (c: ReportChat): boolean => {
      switch (f) {
        case "missed": return c.status === "missed";
        case "unanswered": return c.end_reason === "no_operator";
        case "accepted": case "queued": return c.operator !== null;
        case "declined": return c.declines > 0;
        case "invitations_sent": case "invitations_accepted": return c.invited;
        case "voice_calls": return c.voice_calls > 0;
        default: return true;
      }
    };
    const all = this.pool.filter(keep).filter((c) => q.after === undefined || c.id > q.after).sort((a, b) => a.id - b.id);
    const size = Math.min(this.page, q.limit ?? 50);
    const page = all.slice(0, size).map((c, k) => {
      // moved into the day (and hour) asked, so the list says what the bar said
      const day = q.day ?? days[(c.id + k) % days.length];
      const at = parisMidnight(day) + (q.hour ?? 9 + (c.id % 8)) * 3600_000 + (c.id % 60) * 60_000;
      const dt = at - c.started_at;
      return { ...c, started_at: at, answered_at: c.answered_at && c.answered_at + dt, ended_at: c.ended_at && c.ended_at + dt };
    });
    for (const c of page) this.listed.set(c.id, c);
    return { chats: JSON.parse(JSON.stringify(page)) as ReportChat[], next_after: all.length > size ? page[page.length - 1].id : null };
  }

  /** The pushes about a chat, at the times of the chat as last listed. */
  pushesOf(chatId: number): PushDelivery[] {
    const list = JSON.parse(JSON.stringify(this.pushes.get(chatId) ?? [])) as PushDelivery[];
    const moved = this.listed.get(chatId);
    const dt = moved ? moved.started_at - this.pool.find((c) => c.id === chatId)!.started_at : 0;
    for (const p of list) {
      p.queued_at += dt;
      if (p.done_at !== null) p.done_at += dt;
      for (const a of p.attempts) a.at += dt;
    }
    return list;
  }

  /** A pool chat's transcript: requested, accepted, a message each way, ended. */
  transcript(chatId: number): Transcript | undefined {
    const c = this.listed.get(chatId) ?? this.pool.find((x) => x.id === chatId);
    if (!c) return undefined;
    const chat: ChatSummary = {
      id: c.id, visitor_id: c.id + 5000, visitor_name: c.visitor_name, mode: c.mode, status: c.status,
      page: c.page_url ? { url: c.page_url, title: null } : null, operator: c.operator, created_at: c.started_at,
      accepted_at: c.answered_at, ended_at: c.ended_at, last_seq: 5,
    };
    let seq = 0;
    const ev = (at: number, kind: ChatEvent["kind"]): ChatEvent => ({ chat_id: c.id, seq: ++seq, at, status: c.status, kind });
    const events: ChatEvent[] = [ev(c.started_at, { type: "requested", visitor_id: chat.visitor_id, name: c.visitor_name, mode: c.mode, page: chat.page })];
    events.push(ev(c.started_at + 5_000, { type: "message", author: { kind: "visitor" }, text: `Hello, this is chat ${c.id}. Is the Red Racer in stock?`, client_id: "v1" }));
    if (c.operator && c.answered_at) {
      events.push(ev(c.answered_at, { type: "accepted", operator: c.operator }));
      events.push(ev(c.answered_at + 10_000, { type: "message", author: { kind: "operator", id: c.operator.id, name: c.operator.name }, text: "Yes, in every size.", client_id: "o1" }));
    }
    if (c.ended_at && c.end_reason) events.push(ev(c.ended_at, { type: "ended", reason: c.end_reason }));
    return { chat, events, from_cache: false, mails: [], visitor_email: null };
  }

  /** export_report: where the CSV went. */
  exportPath(table: ReportTable, q: ReportQuery, bom: boolean): string | Promise<never> {
    const days = this.days(q);
    if (typeof days === "string") return invalid(days);
    const when = q.period ?? `${q.from}-to-${q.to}`;
    return `/storage/emulated/0/Download/Switchboard/switchboard-${table}-${when}${q.operator ? `-operator-${q.operator}` : ""}${bom ? "-excel" : ""}.csv`;
  }
}
