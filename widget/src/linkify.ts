// Splits message text into plain-text and link segments. Pure: no DOM here; the renderer turns
// segments into text nodes and <a> elements (never HTML strings). Only http(s)://, www. and
// e-mail addresses become links, so the href of a link always starts with http://, https:// or
// mailto: (a "javascript:" URL stays text).

export interface Segment {
  kind: "text" | "link";
  text: string;
  /** Set for links only. */
  href?: string;
}

// A URL runs from its scheme (or "www.") to the next space, angle bracket, quote or backtick;
// trailing punctuation is trimmed afterwards. An e-mail address is local@domain.tld.
const PATTERN =
  /(?<![\w@.+-])(?:https?:\/\/|www\.)[^\s<>"`]+|(?<![\w.+%-])[\w.+%-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w@-])/gi;

const TRAILING = ".,;:!?'*_~";
const PAIRS: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

function count(s: string, ch: string): number {
  return s.split(ch).length - 1;
}

/** Drops punctuation that ends a sentence rather than the URL ("see https://a.test/x."). */
function trimUrl(url: string): string {
  for (;;) {
    const last = url.charAt(url.length - 1);
    if (TRAILING.includes(last)) {
      url = url.slice(0, -1);
    } else if (PAIRS[last] !== undefined && count(url, last) > count(url, PAIRS[last])) {
      url = url.slice(0, -1);
    } else {
      return url;
    }
  }
}

function urlHref(url: string): string | null {
  const m = /^(https?:\/\/|www\.)(.*)$/i.exec(url);
  if (!m || !/^[a-z0-9\[]/i.test(m[2])) return null; // no host after the scheme
  return m[1].toLowerCase() === "www." ? "https://" + url : url;
}

export function linkify(text: string): Segment[] {
  const out: Segment[] = [];
  let plain = "";
  let pos = 0;
  const push = (seg: Segment) => {
    if (plain) out.push({ kind: "text", text: plain });
    plain = "";
    out.push(seg);
  };
  PATTERN.lastIndex = 0;
  for (let m = PATTERN.exec(text); m; m = PATTERN.exec(text)) {
    let found = m[0];
    let href: string | null;
    if (found.includes("@") && !/^(https?:\/\/|www\.)/i.test(found)) {
      href = "mailto:" + found;
    } else {
      found = trimUrl(found);
      href = urlHref(found);
    }
    plain += text.slice(pos, m.index);
    if (href) {
      push({ kind: "link", text: found, href });
    } else {
      plain += found;
    }
    pos = m.index + found.length;
    PATTERN.lastIndex = pos > m.index ? pos : m.index + 1;
  }
  plain += text.slice(pos);
  if (plain) out.push({ kind: "text", text: plain });
  return out;
}
