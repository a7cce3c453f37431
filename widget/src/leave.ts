// "Leave a message": what the form checks before it sends, and which field a refusal from the
// server is about, so that each error shows next to its field.

import { MAX_MESSAGE_CHARS } from "../../shared/bindings/protocol";
import { charCount } from "./config";

export type Field = "name" | "email" | "text";
export type FieldErrors = Partial<Record<Field, string>>;

/** The server's limits for the name and the address. */
export const MAX_NAME_CHARS = 100;
export const MAX_EMAIL_CHARS = 254;

export const LEAVE_TEXT = {
  needName: "Please enter your name.",
  needEmail: "Please enter your e-mail address.",
  notEmail: "That is not an e-mail address.",
  needText: "Please enter a message.",
} as const;

// The HTML standard's "valid e-mail address" (what <input type=email> accepts), with at least
// one dot in the domain: no spaces, no markup, no second @.
const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

export function isEmail(address: string): boolean {
  return address.length <= MAX_EMAIL_CHARS && EMAIL.test(address);
}

const tooLong = (what: string, max: number) => `${what} is too long: at most ${max} characters.`;

/** What is wrong with the form, by field (nothing: it may be sent). */
export function checkLeave(name: string, email: string, text: string): FieldErrors {
  const errors: FieldErrors = {};
  name = name.trim();
  email = email.trim();
  if (!name) errors.name = LEAVE_TEXT.needName;
  else if (charCount(name) > MAX_NAME_CHARS) errors.name = tooLong("Your name", MAX_NAME_CHARS);
  if (!email) errors.email = LEAVE_TEXT.needEmail;
  else if (!isEmail(email)) errors.email = LEAVE_TEXT.notEmail;
  if (!text.trim()) errors.text = LEAVE_TEXT.needText;
  else if (charCount(text) > MAX_MESSAGE_CHARS) errors.text = tooLong("Your message", MAX_MESSAGE_CHARS);
  return errors;
}

/**
 * The field a refusal from the server is about: the one its `field` names, else the one its
 * message is about (the server says "name …", "e-mail …", "that is not an e-mail address",
 * "message …"); null when it is about none (a rate limit, a server error).
 */
export function refusedField(body: unknown): Field | null {
  if (!body || typeof body !== "object") return null;
  const { code, message, field } = body as { code?: unknown; message?: unknown; field?: unknown };
  if (field === "name" || field === "email" || field === "text") return field;
  if (field === "message") return "text";
  if ((code !== "invalid_input" && code !== "too_large") || typeof message !== "string") return null;
  const m = message.toLowerCase();
  if (m.includes("e-mail") || m.includes("email")) return "email";
  if (/^name\b/.test(m)) return "name";
  if (/^(message|text)\b/.test(m)) return "text";
  return null;
}

/** A server message as a sentence: "that is not an e-mail address" → "That is …address.". */
export function sentence(message: string): string {
  const m = message.trim();
  if (!m) return m;
  return m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? "" : ".");
}
