// "Mail me this chat transcript": after the chat ended, the visitor types an address and the
// server mails the transcript there. This is the pure part that state.ts folds into its
// reducer: the visitor's latest request, the transcript mails the chat's events report, and
// what the field says. The frame goes out from main.ts; a request the server has not answered
// is sent again after each welcome with the same client_id (the server mails it once).

import type { ApiError, MailState } from "../../shared/bindings/protocol";
import { sentence } from "./leave";

export const MAIL_TEXT = {
  label: "Mail me this chat transcript",
  send: "Send",
  needAddress: "Please enter your e-mail address.",
  badAddress: "Please enter a valid e-mail address.",
  chatLimit: "You cannot mail this chat more often.",
  addressLimit: "Too many mails went to this address. Please try again later.",
  pleaseWait: "Please wait a moment, then try again.",
} as const;

export const sendingTo = (to: string): string => `Sending the transcript to ${to}…`;
export const sentTo = (to: string): string => `The transcript was sent to ${to}.`;
export function failedTo(to: string, detail: string | null): string {
  const why = `The transcript could not be sent to ${to}` + (detail && detail.trim() ? `: ${detail.trim()}` : "");
  return /[.!?]$/.test(why) ? why : why + ".";
}

/** The visitor's latest "Send", until the next one. */
export interface MailAsk {
  /** The chat it is about: another chat shows nothing of it. */
  chatId: number;
  /** Its idempotency key; null when the form refused it and nothing went. */
  clientId: string | null;
  /** The address as typed (trimmed). */
  to: string;
  /** Its `queued` event's seq, from the ack. */
  seq: number | null;
  /** Why it was refused (by the form or the server); it is over then. */
  error: string | null;
  /** The refusal is about the address: the field is marked. */
  badAddress: boolean;
}

/** One transcript mail of the visitor's, as the chat's `transcript_mail` events tell it. */
export interface MailSeen {
  chatId: number;
  mailId: number;
  /** Its `queued` event's seq (how an ack finds it), when that event was seen. */
  seq: number | null;
  state: MailState;
  detail: string | null;
}

/** What the field shows. */
export interface MailView {
  /** What the result line says ("" for nothing). */
  text: string;
  /** Waiting for the server: Send is disabled. */
  busy: boolean;
  /** The result is bad news (red), `badAddress` too when it is about the address. */
  failed: boolean;
  badAddress: boolean;
}

/**
 * Light checks before anything is sent (the server checks the address properly): something
 * typed, with an @ between two parts.
 */
export function checkAddress(to: string): string | null {
  if (!to) return MAIL_TEXT.needAddress;
  const at = to.lastIndexOf("@");
  return at > 0 && at < to.length - 1 ? null : MAIL_TEXT.badAddress;
}

/** A request the form refused: it shows in the result line, nothing goes to the server. */
export function refused(chatId: number, to: string, error: string): MailAsk {
  return { chatId, clientId: null, to, seq: null, error, badAddress: true };
}

/** A request on its way. */
export function asked(chatId: number, clientId: string, to: string): MailAsk {
  return { chatId, clientId, to, seq: null, error: null, badAddress: false };
}

/** The request waits for the server's ack or error (and goes again after a reconnect). */
export const awaitingAck = (a: MailAsk | null): a is MailAsk & { clientId: string } =>
  !!a && a.clientId !== null && a.seq === null && a.error === null;

/** The server refused the request: what the visitor is told. */
export function mailError(a: MailAsk, e: ApiError): MailAsk {
  let error: string;
  let badAddress = false;
  if (e.code === "invalid_input") {
    error = MAIL_TEXT.badAddress;
    badAddress = true;
  } else if (e.code === "rate_limited") {
    // No wait given: this chat had its transcripts. A long wait: the address had its mails
    // this hour. A short one: the connection sent too fast and nothing was done.
    const wait = e.retry_after_secs;
    error = wait === undefined ? MAIL_TEXT.chatLimit : wait > 60 ? MAIL_TEXT.addressLimit : MAIL_TEXT.pleaseWait;
  } else {
    error = sentence(e.message);
  }
  return { ...a, error, badAddress };
}

/** A `transcript_mail` event: the mail's first news, or its result. */
export function seeMail(
  seen: MailSeen[],
  chatId: number,
  seq: number,
  mailId: number,
  state: MailState,
  detail: string | null,
): MailSeen[] {
  // Events come once and in order: the result replaces what its `queued` event said.
  const old = seen.find((m) => m.chatId === chatId && m.mailId === mailId);
  const next: MailSeen = { chatId, mailId, seq: state === "queued" ? seq : old ? old.seq : null, state, detail };
  return [...seen.filter((m) => m !== old), next];
}

/** What the field shows for the chat `chatId`. */
export function mailView(a: MailAsk | null, seen: MailSeen[], chatId: number | null): MailView {
  const none: MailView = { text: "", busy: false, failed: false, badAddress: false };
  if (!a || a.chatId !== chatId) return none;
  if (a.error !== null) return { text: a.error, busy: false, failed: true, badAddress: a.badAddress };
  if (a.seq === null) return { ...none, busy: true }; // sent, not answered yet
  const m = seen.find((x) => x.chatId === chatId && x.seq === a.seq);
  if (m && m.state === "sent") return { ...none, text: sentTo(a.to) };
  if (m && m.state === "failed") return { ...none, text: failedTo(a.to, m.detail), failed: true };
  return { ...none, text: sendingTo(a.to), busy: true };
}
