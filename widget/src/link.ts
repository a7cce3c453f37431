// The heartbeat: how the widget notices a connection that went silent without closing (a
// phone changing network, a proxy holding the socket), well before the server's idle timer
// or TCP's own. The server answers a ping with a pong; anything it sends counts as an answer.

/** Ping after this long without hearing from the server. */
export const PING_MS = 10_000;
/** A ping not answered within this long means the connection stalled. */
export const ANSWER_MS = 6_000;
/** A connection that brings no welcome within this long is given up and tried again. */
export const OPEN_MS = 20_000;
/** How often the heartbeat looks. */
export const TICK_MS = 1_000;

export interface Beat {
  /** When the socket was created. */
  opened: number;
  /** When the server was last heard from (0: not yet). */
  heard: number;
  /** When the last ping went (null: none on this socket). */
  pinged: number | null;
  /** The welcome came on this socket. */
  ready: boolean;
}

/** What the heartbeat does at `now`: nothing, send a ping, or give the socket up. */
export function beat(now: number, b: Beat): "wait" | "ping" | "dead" {
  if (!b.ready) return now - b.opened >= OPEN_MS ? "dead" : "wait";
  if (b.pinged !== null && b.heard < b.pinged) return now - b.pinged >= ANSWER_MS ? "dead" : "wait";
  return now - Math.max(b.heard, b.pinged ?? 0) >= PING_MS ? "ping" : "wait";
}
