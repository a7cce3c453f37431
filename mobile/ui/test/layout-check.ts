// The layout check the layout and reports tests share (issue 9): run in the page, it lists as
// sentences every layout problem it finds. Sent to the browser as source, so it is kept
// self-contained (it uses only its argument and the page).

export interface CheckOptions {
  /** Only controls inside this element are checked (an open modal dialog makes the rest inert). */
  scope: string | null;
  /** The smallest width and height of a control (touch screens), 0 for none. */
  minTarget: number;
  /** Elements that may scroll sideways (the chat tabs on a phone). */
  scrollX: string;
  /** Controls that may be narrower than `minTarget` (still as tall): a chart's bars, as wide as
   *  the data leaves them, each also a full-size row of the chart's table. */
  narrow?: string;
}

/** Runs in the page: every layout problem found, as a sentence. Kept self-contained (it is
 *  sent to the browser as source). */
export function layoutProblems(o: CheckOptions): string[] {
  const problems: string[] = [];
  const vw = document.documentElement.clientWidth;
  const describe = (el: Element): string => {
    const label = el.getAttribute("aria-label") ?? (el as HTMLElement).innerText ?? el.textContent ?? "";
    const cls = typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "";
    return `<${el.tagName.toLowerCase()}${cls}> "${label.replace(/\s+/g, " ").trim().slice(0, 40)}"`;
  };
  const visible = (el: Element): boolean => {
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const clips = (a: Element): boolean => {
    const cs = getComputedStyle(a);
    return cs.overflowX !== "visible" || cs.overflowY !== "visible";
  };
  const scrolls = (a: Element): boolean => {
    const cs = getComputedStyle(a);
    return ["auto", "scroll"].includes(cs.overflowX) || ["auto", "scroll"].includes(cs.overflowY);
  };
  /** The part of `a` its children are shown in (inside the borders). */
  const clientBox = (a: Element) => {
    const r = a.getBoundingClientRect();
    const left = r.left + a.clientLeft;
    const top = r.top + a.clientTop;
    return { left, top, right: left + a.clientWidth, bottom: top + a.clientHeight };
  };
  /** What can be seen of `el`: its box cut by every parent that clips. */
  const shown = (el: Element) => {
    const r = el.getBoundingClientRect();
    let box = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      if (!clips(a) || getComputedStyle(el).position === "fixed") continue;
      const c = clientBox(a);
      box = { left: Math.max(box.left, c.left), top: Math.max(box.top, c.top), right: Math.min(box.right, c.right), bottom: Math.min(box.bottom, c.bottom) };
    }
    return box;
  };
  const scope = o.scope ? document.querySelector(o.scope) : document.body;
  if (!scope) return [`nothing matches ${o.scope}`];

  // 1. Nothing makes the page, or a part that should not, scroll sideways.
  const sw = document.documentElement.scrollWidth;
  if (sw > vw) problems.push(`the page is ${sw} px wide in a ${vw} px viewport`);
  for (const el of Array.from(document.body.querySelectorAll("*"))) {
    if (!visible(el) || el.matches(o.scrollX)) continue;
    const cs = getComputedStyle(el);
    if (["auto", "scroll"].includes(cs.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${describe(el)} scrolls sideways (${el.scrollWidth} px of content in ${el.clientWidth} px)`);
    }
  }

  // 2. No element shows outside the viewport, and text stays inside its card, row, tab or dialog.
  const boxes = ".card, .row, .tab, .queue-link, .notice, dialog, .chat-head, .composer, .profile-toggle, .hold-note, .msg";
  for (const el of Array.from(scope.querySelectorAll("*"))) {
    if (!visible(el)) continue;
    const b = shown(el);
    if (b.right - b.left < 1 || b.bottom - b.top < 1) continue; // clipped away entirely (an ellipsis' tail, a scrolled-out row)
    if (b.left < -0.5 || b.right > vw + 0.5) problems.push(`${describe(el)} shows outside the viewport (${Math.round(b.left)}–${Math.round(b.right)} px of ${vw})`);
    const box = el.parentElement?.closest(boxes);
    if (box && !el.closest("[class*=badge]")) {
      const c = box.getBoundingClientRect();
      if (b.left < c.left - 0.5 || b.right > c.right + 0.5) problems.push(`${describe(el)} runs out of ${describe(box)} (${Math.round(b.left)}–${Math.round(b.right)} px, the box ${Math.round(c.left)}–${Math.round(c.right)} px)`);
    }
  }

  // 3. Text cut short with an ellipsis still says something (a name is more than its first letter).
  for (const el of Array.from(scope.querySelectorAll<HTMLElement>("*"))) {
    if (!visible(el) || getComputedStyle(el).textOverflow !== "ellipsis" || el.scrollWidth <= el.clientWidth + 1) continue;
    if (el.clientWidth < 64) problems.push(`${describe(el)} is cut to ${el.clientWidth} px`);
  }

  // 4. Text a box cuts off ends in an ellipsis (in a flex or grid box text-overflow does nothing).
  for (const el of Array.from(scope.querySelectorAll<HTMLElement>("*"))) {
    if (!visible(el) || el.clientWidth <= 1 || el.scrollWidth <= el.clientWidth + 1) continue;
    const cs = getComputedStyle(el);
    if (cs.overflowX === "visible") continue;
    const text = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? "").trim() !== "");
    if (text && (cs.textOverflow !== "ellipsis" || /flex|grid/.test(cs.display))) problems.push(`${describe(el)} cuts its text off without an ellipsis`);
  }

  // 5. Every control: inside the viewport, not clipped, not covered, big enough to tap.
  const controls = Array.from(scope.querySelectorAll<HTMLElement>("a[href], button, input, textarea, select, summary, [role=tab], [role=button]"));
  for (const el of controls) {
    if (!visible(el)) continue;
    // bring it into view the way a person would: scrolling what scrolls (never what clips)
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (!scrolls(a)) continue;
      const c = clientBox(a);
      const r = el.getBoundingClientRect();
      if (r.bottom > c.bottom) a.scrollTop += r.bottom - c.bottom;
      else if (r.top < c.top) a.scrollTop -= c.top - r.top;
      if (r.right > c.right) a.scrollLeft += r.right - c.right;
      else if (r.left < c.left) a.scrollLeft -= c.left - r.left;
    }
    const r = el.getBoundingClientRect();
    if (r.bottom > window.innerHeight || r.top < 0) window.scrollBy(0, r.top < 0 ? r.top : r.bottom - window.innerHeight);
    const q = el.getBoundingClientRect();
    const name = describe(el);
    if (q.left < -0.5 || q.right > vw + 0.5) problems.push(`${name} is outside the viewport (${Math.round(q.left)}–${Math.round(q.right)} px of ${vw})`);
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      if (!clips(a)) continue;
      const c = clientBox(a);
      if (q.left < c.left - 0.5 || q.right > c.right + 0.5 || q.top < c.top - 0.5 || q.bottom > c.bottom + 0.5) {
        problems.push(`${name} is clipped by ${describe(a)}`);
        break;
      }
    }
    const hit = document.elementFromPoint(q.left + q.width / 2, q.top + q.height / 2);
    if (!hit || (hit !== el && !el.contains(hit))) problems.push(`${name} is covered by ${hit ? describe(hit) : "nothing (off screen)"}`);
    const narrowOk = !!o.narrow && el.matches(o.narrow);
    if (o.minTarget && ((!narrowOk && q.width < o.minTarget - 0.5) || q.height < o.minTarget - 0.5)) {
      problems.push(`${name} is ${Math.round(q.width)}×${Math.round(q.height)} px, under ${o.minTarget}×${o.minTarget}`);
    }
  }
  return problems;
}
