// Where the backend lives: the origin of the widget's own <script src>, unless the script tag
// names another one in data-server.

export function serverBase(
  scriptSrc: string | null | undefined,
  dataServer: string | null | undefined,
  pageUrl: string,
): string {
  for (const candidate of [dataServer, scriptSrc]) {
    if (candidate && candidate.trim()) {
      try {
        const u = new URL(candidate.trim(), pageUrl);
        if (u.protocol === "http:" || u.protocol === "https:") return u.origin;
      } catch {
        // try the next one
      }
    }
  }
  return new URL(pageUrl).origin;
}

export function wsUrl(base: string): string {
  const u = new URL("/api/widget/ws", base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}

export function offlineMessagesUrl(base: string): string {
  return new URL("/api/widget/offline-messages", base).href;
}

/** Message lengths count characters (Unicode scalar values), as the server does. */
export function charCount(text: string): number {
  return Array.from(text).length;
}
