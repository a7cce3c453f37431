// A tiny DOM builder, plus the small pieces every screen uses (avatar, empty text, a live "how
// long since"). Text is always set as text nodes (never innerHTML), so anything a visitor types
// is shown literally. A leaf: it imports only format.ts and types.
import type { ChatSummary } from "./bindings";
import { initials, modeLabel, pageLabel, visitorName, waited } from "./format";

export type Child = Node | string | number | null | undefined | false | Child[];

type Handler = (ev: never) => void;
export type Props = Record<string, string | number | boolean | null | undefined | Handler>;

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else if (typeof child === "string" || typeof child === "number") {
    parent.appendChild(document.createTextNode(String(child)));
  } else {
    parent.appendChild(child);
  }
}

/** Creates an element. `on…` props are event listeners; `class` is the class name; booleans
 *  toggle attributes; `value` is set as a property. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) setProps(el, props);
  for (const c of children) append(el, c);
  return el;
}

export function setProps(el: HTMLElement, props: Props): void {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    } else if (key === "class") {
      el.className = String(value);
    } else if (key === "value") {
      (el as HTMLInputElement).value = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  const frag = document.createDocumentFragment();
  for (const c of children) append(frag, c);
  el.replaceChildren(frag);
}

const SVG = "http://www.w3.org/2000/svg";

const ICONS = {
  overview: "M3 3h7v7H3z M14 3h7v7h-7z M14 14h7v7h-7z M3 14h7v7H3z",
  chat: "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
  inbox:
    "M22 12h-6l-2 3h-4l-2-3H2 M5.45 5.11L2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z",
  eye: "M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8z M9 12a3 3 0 1 0 6 0a3 3 0 1 0-6 0",
  chart: "M12 20V10 M18 20V4 M6 20v-4",
  send: "M22 2L11 13 M22 2l-7 20-4-9-9-4 20-7z",
  pause: "M6 4h4v16H6z M14 4h4v16h-4z",
  play: "M6 3l14 9-14 9V3z",
  x: "M18 6L6 18 M6 6l12 12",
  mic: "M12 1a3 3 0 0 0-3 3v8a3 3 0 0 0 6 0V4a3 3 0 0 0-3-3z M19 10v2a7 7 0 0 1-14 0v-2 M12 19v4 M8 23h8",
  search: "M3 11a8 8 0 1 0 16 0a8 8 0 1 0-16 0 M21 21l-4.35-4.35",
  canned: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z M14 2v6h6 M16 13H8 M16 17H8",
  user: "M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2 M8 7a4 4 0 1 0 8 0a4 4 0 1 0-8 0",
  alert:
    "M12 9v4 M12 17h.01 M10.29 3.86L1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z",
  chevronDown: "M6 9l6 6 6-6",
  back: "M15 18l-6-6 6-6",
  plus: "M12 5v14 M5 12h14",
  edit: "M12 20h9 M16.5 3.5a2.121 2.121 0 0 1 3 3L7 19l-4 1 1-4L16.5 3.5z",
  clock: "M2 12a10 10 0 1 0 20 0a10 10 0 1 0-20 0 M12 6v6l4 2",
  check: "M20 6L9 17l-5-5",
  bell: "M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9 M13.73 21a2 2 0 0 1-3.46 0",
  globe: "M2 12a10 10 0 1 0 20 0a10 10 0 1 0-20 0 M2 12h20 M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10z",
  wifiOff:
    "M1 1l22 22 M16.72 11.06A10.94 10.94 0 0 1 19 12.55 M5 12.55a10.94 10.94 0 0 1 5.17-2.39 M10.71 5.05A16 16 0 0 1 22.58 9 M1.42 9a15.91 15.91 0 0 1 4.7-2.88 M8.53 16.11a6 6 0 0 1 6.95 0 M12 20h.01",
  mail: "M4 4h16c1.1 0 2 .9 2 2v12c0 1.1-.9 2-2 2H4c-1.1 0-2-.9-2-2V6c0-1.1.9-2 2-2z M22 6l-10 7L2 6",
} as const;

export type IconName = keyof typeof ICONS;

/** A decorative stroke icon (hidden from assistive technology). */
export function icon(name: IconName, cls = "icon"): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", cls);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name]);
  svg.appendChild(path);
  return svg;
}

// ---- pieces the screens share -------------------------------------------------------------

/** A live-updating "how long since" text; `tickSince` keeps it current. */
export function since(at: number, prefix = "", cls = "since"): HTMLElement {
  return h("span", { class: cls, "data-since": at, "data-prefix": prefix }, prefix + waited(at));
}

/** A call's duration as a clock (`1:05`), kept current by `tickSince`. */
export function callClock(from: number): HTMLElement {
  return h("time", { class: "call-clock", "data-clock": from, "aria-label": "Call duration" }, clockSince(from));
}

function clockSince(from: number, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - from) / 1000));
  const mm = Math.floor(s / 60) % 60;
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** Brings every `since` text and call clock in the page up to date (the app calls it once a
 *  second). */
export function tickSince(now = Date.now()): void {
  for (const el of Array.from(document.querySelectorAll<HTMLElement>("[data-since]"))) {
    const t = (el.dataset.prefix ?? "") + waited(Number(el.dataset.since), now);
    if (el.textContent !== t) el.textContent = t;
  }
  for (const el of Array.from(document.querySelectorAll<HTMLElement>("[data-clock]"))) {
    const t = clockSince(Number(el.dataset.clock), now);
    if (el.textContent !== t) el.textContent = t;
  }
}

export function avatar(name: string, cls = "avatar"): HTMLElement {
  return h("span", { class: cls, "aria-hidden": "true" }, initials(name));
}

/** What a list shows when it has nothing in it. */
export function empty(text: string): HTMLElement {
  return h("p", { class: "empty" }, text);
}

/** The head of a chat request's card (incoming or queued): avatar, name, mode and page. */
export function requestTitle(r: ChatSummary): HTMLElement[] {
  const name = visitorName(r);
  return [
    avatar(name),
    h("div", { class: "card-title" },
      h("strong", null, name),
      h("span", { class: "meta" }, icon(r.mode === "voice" ? "mic" : "chat", "icon sm"), h("span", null, `${modeLabel(r.mode)} · ${pageLabel(r.page)}`)),
    ),
  ];
}
