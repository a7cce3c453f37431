// The app's commands and events (the Tauri side implements exactly these).
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { ChatSummary, CommandError, OfflineMessage, UiSnapshot, VisitorProfile } from "./bindings";

export const api = {
  snapshot: () => invoke<UiSnapshot>("snapshot"),
  signIn: (server: string, email: string, password: string) =>
    invoke<UiSnapshot>("sign_in", { server, email, password }),
  signOut: () => invoke<UiSnapshot>("sign_out"),
  setAvailable: (available: boolean) => invoke<void>("set_available", { available }),
  accept: (chatId: number) => invoke<void>("accept", { chatId }),
  decline: (chatId: number) => invoke<void>("decline", { chatId }),
  queue: (chatId: number) => invoke<void>("queue", { chatId }),
  hold: (chatId: number) => invoke<void>("hold", { chatId }),
  resume: (chatId: number) => invoke<void>("resume", { chatId }),
  endChat: (chatId: number) => invoke<void>("end_chat", { chatId }),
  sendMessage: (chatId: number, text: string) => invoke<void>("send_message", { chatId, text }),
  markRead: (chatId: number) => invoke<void>("mark_read", { chatId }),
  saveCanned: (id: number | null, title: string, text: string) => invoke<void>("save_canned", { id, title, text }),
  deleteCanned: (id: number) => invoke<void>("delete_canned", { id }),
  visitorProfile: (visitorId: number) => invoke<VisitorProfile>("visitor_profile", { visitorId }),
  offlineMessages: () => invoke<OfflineMessage[]>("offline_messages"),
};

export function onSnapshot(cb: (s: UiSnapshot) => void): Promise<unknown> {
  return listen<UiSnapshot>("snapshot", (e) => cb(e.payload));
}

export function onIncomingRequest(cb: (c: ChatSummary) => void): Promise<unknown> {
  return listen<ChatSummary>("incoming_request", (e) => cb(e.payload));
}

/** A chat accepted from a notification (phones): the app opens its tab. */
export function onOpenChat(cb: (chatId: number) => void): Promise<unknown> {
  return listen<number>("open_chat", (e) => cb(e.payload));
}

/** The words to show for a failed command (a `CommandError`, or anything else). */
export function errorMessage(e: unknown): string {
  if (e && typeof e === "object" && "message" in e && typeof (e as CommandError).message === "string") {
    return (e as CommandError).message;
  }
  if (typeof e === "string" && e) return e;
  return "Something went wrong. Please try again.";
}
