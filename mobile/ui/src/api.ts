// The app's commands and events (the Tauri side implements exactly these).
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  ChatAction, ChatSummary, CommandError, HistoryView, MonitorView, OfflineMessage, PushDelivery, Report, ReportChatsPage, ReportChatsQuery, ReportQuery, ReportTable,
  Transcript, UiSnapshot, VisitorProfile,
} from "./bindings";

/** Accept, Decline, Queue, Hold, Resume or End chat: one command with the action named. */
const act = (chatId: number, action: ChatAction) => invoke<void>("act", { chatId, action });

export const api = {
  snapshot: () => invoke<UiSnapshot>("snapshot"),
  signIn: (server: string, email: string, password: string) =>
    invoke<UiSnapshot>("sign_in", { server, email, password }),
  signOut: () => invoke<UiSnapshot>("sign_out"),
  setAvailable: (available: boolean) => invoke<void>("set_available", { available }),
  act,
  accept: (chatId: number) => act(chatId, "accept"),
  decline: (chatId: number) => act(chatId, "decline"),
  queue: (chatId: number) => act(chatId, "queue"),
  hold: (chatId: number) => act(chatId, "hold"),
  resume: (chatId: number) => act(chatId, "resume"),
  endChat: (chatId: number) => act(chatId, "end"),
  sendMessage: (chatId: number, text: string) => invoke<void>("send_message", { chatId, text }),
  markRead: (chatId: number) => invoke<void>("mark_read", { chatId }),
  saveCanned: (id: number | null, title: string, text: string) => invoke<void>("save_canned", { id, title, text }),
  deleteCanned: (id: number) => invoke<void>("delete_canned", { id }),
  visitorProfile: (visitorId: number) => invoke<VisitorProfile>("visitor_profile", { visitorId }),
  /** Offline messages ("Leave a message"), newest first. */
  offlineMessages: () => invoke<OfflineMessage[]>("offline_messages"),
  /** The operator has seen the offline messages up to `upTo` (the unread count drops). */
  offlineMessagesRead: (upTo: number) => invoke<void>("offline_messages_read", { upTo }),
  /** "Reply by mail" to an offline message; the message comes back marked replied. */
  replyOffline: (id: number, text: string) => invoke<OfflineMessage>("reply_offline", { id, text }),
  /** "Send chat transcript": queues the mail; where it stands shows in the chat's `mails`. */
  mailTranscript: (chatId: number, email: string) => invoke<void>("mail_transcript", { chatId, email }),
  /** The Site Monitor is on screen: subscribe (changes follow as `monitor` events). */
  monitorOpen: () => invoke<MonitorView>("monitor_open"),
  /** The Site Monitor left the screen, or the app went to the background: unsubscribe. */
  monitorClose: () => invoke<void>("monitor_close"),
  /** Keeps what was typed in a chat and not sent (across chats and restarts). */
  setDraft: (chatId: number, text: string) => invoke<void>("set_draft", { chatId, text }),
  /** Forgets an action the server refused. */
  dismissRefused: (id: number) => invoke<void>("dismiss_refused", { id }),
  /** Tries a refused action again. */
  retryRefused: (id: number) => invoke<void>("retry_refused", { id }),
  /** The network changed or came back: reconnect now. */
  networkChanged: () => invoke<void>("network_changed"),
  /** Ended chats, newest first, matching `search`, before the chat `before`. */
  history: (search: string, before: number | null) => invoke<HistoryView>("history", { search, before }),
  /** An ended chat's transcript. */
  transcript: (chatId: number) => invoke<Transcript>("transcript", { chatId }),
  /** Voice: invite the chat's visitor to talk; end the call (the chat goes on as text). */
  callInvite: (chatId: number) => invoke<void>("call_invite", { chatId }),
  setDisplayName: (name: string) => invoke<void>("set_display_name", { name }),
  inviteVisitor: (visitorId: number, text: string) => invoke<void>("invite_visitor", { visitorId, text }),
  callEnd: (chatId: number) => invoke<void>("call_end", { chatId }),
  /** Mutes or unmutes the operator's microphone in the chat's call. */
  callMute: (chatId: number, muted: boolean) => invoke<void>("call_mute", { chatId, muted }),
  /** Reports: the figures of a period (needs the network). */
  report: (query: ReportQuery) => invoke<Report>("report", { query }),
  /** Reports: a page of the chats behind a figure (a day, an hour), oldest first. */
  reportChats: (query: ReportChatsQuery) => invoke<ReportChatsPage>("report_chats", { query }),
  /** Reports: the pushes sent about a chat request (whose phones rang), and how each went. */
  reportPushes: (chatId: number) => invoke<PushDelivery[]>("report_pushes", { chatId }),
  /** Reports: saves a table as CSV in the device's downloads; resolves to the file's path. */
  exportReport: (table: ReportTable, query: ReportQuery, bom: boolean) => invoke<string>("export_report", { table, query, bom }),
  /** The first snapshot is on screen (the shell logs the time since launch). */
  painted: (chats: number) => invoke<void>("painted", { chats }),
};

/** A visitor wrote in one of the operator's chats (its id). */
export function onVisitorMessage(cb: (chatId: number) => void): Promise<unknown> {
  return listen<number>("visitor_message", (e) => cb(e.payload));
}

export function onSnapshot(cb: (s: UiSnapshot) => void): Promise<unknown> {
  return listen<UiSnapshot>("snapshot", (e) => cb(e.payload));
}

/** The Site Monitor changed (at most every 250 ms, while it is open). */
export function onMonitor(cb: (v: MonitorView) => void): Promise<unknown> {
  return listen<MonitorView>("monitor", (e) => cb(e.payload));
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
