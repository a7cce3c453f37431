// Hand-drawn bar charts for Reports, and the tables that say the same in rows. No chart library:
// a chart is an SVG drawing (`role="img"`, its numbers summed up in words) stretched to the width
// there is (`viewBox` + `preserveAspectRatio="none"`, so bars scale and never widen the page),
// with the words around it (axis, bar totals) as HTML, which keeps text crisp at any width.
// Over the drawing lies a row of buttons, one per bar, the whole height of the plot: tapping a
// bar opens the chats behind it. Labels that would run into each other on a narrow screen are
// thinned per screen size (every `n`th shows), so nothing is measured at run time.
//
// A leaf like dom and format: it knows nothing of reports, only of numbers and labels.
import { h } from "./dom";

const SVG = "http://www.w3.org/2000/svg";

/** More bars than this get no buttons (they would be slivers): the table opens them. */
export const MAX_BAR_BUTTONS = 62;

/** One stacked part of every bar ("Accepted"), with its colour class. */
export interface Segment {
  label: string;
  cls: string;
  values: number[];
}

/** Every `n`th label shows on a phone, a tablet and from 1100 px; 0: none there. */
export type Every = [phone: number, tablet: number, desktop: number];

export interface BarChartSpec {
  /** The drawing in words, for screen readers ("Chats per day, 24–30 Nov 2026: …"). */
  summary: string;
  /** Under each bar: a short label and, where wanted, a second line ("Nov", "Tue"). */
  ticks: Array<{ text: string; sub?: string }>;
  labelEvery: Every;
  /** Which bars show their total above them. */
  valueEvery: Every;
  /** Stacked from the bottom. */
  segments: Segment[];
  /** Each bar's height (at least its segments' sum: the rest is drawn as "other"). */
  totals: number[];
  /** With `onBar`: each bar is a button with this name. */
  barName?: (i: number) => string;
  onBar?: (i: number) => void;
  /** `data-fk` of the bar buttons: `${fk}-${i}` (focus survives a repaint). */
  fk: string;
}

/** The top of the value axis: 1, 2 or 5 × 10ⁿ, at least `v`. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const mag = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * mag >= v) return m * mag;
  return 10 * mag;
}

/** The classes that show an element on the screen sizes where `i` is an `every`th. */
function shownAt(i: number, every: Every): string {
  const on = ["on-p", "on-t", "on-d"].filter((_, k) => every[k] > 0 && i % every[k] === 0);
  return on.join(" ");
}

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const pct = (v: number) => `${Math.round(v * 10000) / 100}%`;

/** A stacked bar chart: the drawing, its value axis, its labels, and a button per bar. */
export function barChart(spec: BarChartSpec): HTMLElement {
  const n = spec.totals.length;
  const totals = spec.totals.map((t, i) => Math.max(t, spec.segments.reduce((s, seg) => s + (seg.values[i] ?? 0), 0)));
  const max = niceMax(Math.max(0, ...totals));
  const ticks = max % 2 === 0 ? [0, max / 2, max] : [0, max];
  const W = Math.max(1, n) * 10;
  const gap = n > 40 ? 0.6 : 1.6;

  const svg = svgEl("svg", { viewBox: `0 0 ${W} 100`, preserveAspectRatio: "none", role: "img", "aria-label": spec.summary, class: "chart-svg" });
  for (const t of ticks) {
    const y = 100 - (t / max) * 100;
    svg.appendChild(svgEl("line", { x1: 0, x2: W, y1: y, y2: y, class: t === 0 ? "axis" : "grid", "vector-effect": "non-scaling-stroke" }));
  }
  for (let i = 0; i < n; i++) {
    const g = svgEl("g", { class: "bar", "data-i": i, "data-total": totals[i] });
    let y = 100;
    const part = (v: number, cls: string) => {
      if (!(v > 0)) return;
      const hgt = (v / max) * 100;
      g.appendChild(svgEl("rect", { x: i * 10 + gap, y: y - hgt, width: 10 - 2 * gap, height: hgt, class: cls }));
      y -= hgt;
    };
    let sum = 0;
    for (const seg of spec.segments) {
      const v = seg.values[i] ?? 0;
      part(v, seg.cls);
      sum += v;
    }
    part(totals[i] - sum, "s-other");
    svg.appendChild(g);
  }

  const buttons = !!spec.onBar && n <= MAX_BAR_BUTTONS;
  const cells = Array.from({ length: n }, (_, i) => {
    const value = h("span", { class: `chart-val ${shownAt(i, spec.valueEvery)}`, "aria-hidden": "true", style: `bottom: calc(${pct(totals[i] / max)} + 2px)` }, String(spec.totals[i]));
    return buttons
      ? h("button", { type: "button", class: "chart-hit", "data-fk": `${spec.fk}-${i}`, "aria-label": spec.barName ? spec.barName(i) : String(spec.totals[i]), onclick: () => spec.onBar!(i) }, value)
      : h("span", { class: "chart-cell" }, value);
  });

  return h("div", { class: "chart" },
    h("div", { class: "chart-y", "aria-hidden": "true" },
      ticks.map((t) => h("span", { style: `top: ${pct(1 - t / max)}` }, String(t)))),
    h("div", { class: "chart-plot" }, svg, h("div", { class: buttons ? "chart-hits" : "chart-hits static" }, cells)),
    h("div", { class: "chart-x", "aria-hidden": "true" },
      spec.ticks.map((t, i) => h("span", { class: `chart-tick ${shownAt(i, spec.labelEvery)}`, style: `left: ${pct((i + 0.5) / Math.max(1, n))}` },
        t.text, t.sub && h("small", null, t.sub)))),
  );
}

/** The colours' key under a chart. */
export function legend(items: Array<{ label: string; cls: string }>): HTMLElement {
  return h("ul", { class: "legend", "aria-hidden": "true" },
    items.map((it) => h("li", null, h("span", { class: `swatch ${it.cls}` }), it.label)));
}

export interface TableRow {
  /** The row's header cell (a button opens what the bar opens). */
  head: Node | string;
  cells: Array<string | number>;
}

/** A plain data table: a caption, column headers, a header cell and numbers per row. */
export function dataTable(caption: string, columns: string[], rows: TableRow[], cls = ""): HTMLTableElement {
  return h("table", { class: `data-table ${cls}` },
    h("caption", { class: "sr-only" }, caption),
    h("thead", null, h("tr", null, columns.map((c, i) => h("th", { scope: "col", class: i ? "num" : "" }, c)))),
    h("tbody", null, rows.map((r) =>
      h("tr", null, h("th", { scope: "row" }, r.head), r.cells.map((c) => h("td", { class: "num" }, String(c)))))),
  );
}
