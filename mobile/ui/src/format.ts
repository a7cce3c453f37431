// Words and numbers as the app shows them.
import type { Mode, Page } from "./bindings";

export function visitorName(c: { visitor_name: string | null } | { name: string | null }): string {
  const n = "visitor_name" in c ? c.visitor_name : c.name;
  return n && n.trim() ? n.trim() : "Visitor";
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  const first = Array.from(parts[0])[0] ?? "";
  const second = parts.length > 1 ? (Array.from(parts[parts.length - 1])[0] ?? "") : "";
  return (first + second).toUpperCase();
}

export function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname === "/" ? "" : u.pathname;
    return u.host + path;
  } catch {
    return url;
  }
}

export function pageLabel(p: Page | null): string {
  if (!p) return "Page unknown";
  return p.title && p.title.trim() ? p.title.trim() : shortUrl(p.url);
}

export function modeLabel(m: Mode): string {
  return m === "voice" ? "Voice chat" : "Text chat";
}

/** How long since `since` (unix ms): "12 s", "3 min", "1 h 5 min". */
export function waited(since: number, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - since) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  const rest = m % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

export function clock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function dateTime(at: number): string {
  const d = new Date(at);
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return `Today ${clock(at)}`;
  return d.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" }) + " " + clock(at);
}

/** When, after a verb: "at 10:02" today, "on 3 Mar 2025 at 10:02" another day. */
export function atTime(at: number, now = Date.now()): string {
  const d = new Date(at);
  if (d.toDateString() === new Date(now).toDateString()) return `at ${clock(at)}`;
  return `on ${d.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" })} at ${clock(at)}`;
}

/** A string that looks like an e-mail address (the server checks it properly). */
export function looksLikeEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(s);
}

/** Length in Unicode code points, as the server counts it. */
export function charCount(s: string): number {
  return Array.from(s).length;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Why Accept and Take are not offered: the operator leads as many active chats as allowed
 *  (chats on hold do not count). `null` when they may accept. */
export function capText(snap: { at_cap: boolean; settings: { max_chats_per_operator: number } | null }): string | null {
  if (!snap.at_cap) return null;
  const max = snap.settings?.max_chats_per_operator ?? 0;
  return `You have ${max} active ${max === 1 ? "chat" : "chats"}, the most allowed. Put one on hold or end one to accept another.`;
}

/** A length of time as reports show it: "45 s", "3 min 20 s", "1 h 5 min"; "—" for none. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms > 0 && ms < 1000) return "< 1 s";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const hours = Math.floor(m / 60);
  return m % 60 ? `${hours} h ${m % 60} min` : `${hours} h`;
}
