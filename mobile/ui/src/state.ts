// The view state shared by the screens: the latest snapshot plus what is local to this window.
import type { ChatView, HistoryView, MonitorView, OfflineMessage, Transcript, UiSnapshot, VisitorProfile } from "./bindings";

export type Section = "overview" | "live" | "queue" | "history" | "visitors" | "reports";

export const SECTIONS: ReadonlyArray<{ id: Section; name: string; short: string; icon: "overview" | "chat" | "inbox" | "clock" | "eye" | "chart" }> = [
  { id: "overview", name: "Communication Overview", short: "Overview", icon: "overview" },
  { id: "live", name: "Live Communication", short: "Live", icon: "chat" },
  { id: "queue", name: "Communication Queue", short: "Queue", icon: "inbox" },
  { id: "history", name: "History", short: "History", icon: "clock" },
  { id: "visitors", name: "Visitors List", short: "Visitors", icon: "eye" },
  { id: "reports", name: "Reports", short: "Reports", icon: "chart" },
];

export type CannedView = { kind: "pick" } | { kind: "manage" } | { kind: "edit"; id: number | null };

export interface Notice {
  id: number;
  text: string;
  /** A note says what happened (a chat ended); an error, what failed. Both dismiss themselves. */
  kind: "note" | "error";
}

/** A chat that ended while its tab was open: it stays on screen, read-only, until closed. */
export interface ClosedChat {
  view: ChatView;
  /** "Anna Kovacs ended the chat." */
  why: string;
}

/** History: the list (with its search), or one transcript. */
export interface HistoryState {
  search: string;
  /** Pages loaded so far (null: not loaded yet). */
  list: HistoryView | null;
  loading: boolean;
  error: string | null;
  /** The transcript open, by chat id. */
  open: number | null;
  transcript: Transcript | "loading" | "error" | null;
}

export type MonitorSort = "time" | "name" | "page";
export type MonitorFilter = "all" | "waiting" | "chatting" | "never" | "returning" | "page";

/** Local view state of the section (kept in the app's `State`). */
export interface MonitorState {
  view: MonitorView | null;
  sort: MonitorSort;
  filter: MonitorFilter;
  /** "On a page containing …": matched against the page's title and address. */
  pageText: string;
  /** The visitor whose profile is open. */
  open: number | null;
  profile: VisitorProfile | "loading" | "error" | null;
}

function initialMonitor(): MonitorState {
  return { view: null, sort: "time", filter: "all", pageText: "", open: null, profile: null };
}

export interface State {
  snap: UiSnapshot | null;
  section: Section;
  /** The Live Communication tab shown. */
  openChat: number | null;
  /** A chat just accepted that the snapshot does not hold yet. */
  awaitingChat: number | null;
  /** The open chat ended: it stays until the operator closes it (never switch chats by itself). */
  closedChat: ClosedChat | null;
  /** The first chat opens by itself only until a chat has been shown once. */
  autoOpen: boolean;
  drafts: Map<number, string>;
  /** Visitor profiles by visitor id. */
  profiles: Map<number, VisitorProfile | "loading" | "error">;
  /** The chat whose profile was fetched since its tab opened. */
  profileFetchedFor: number | null;
  /** Below 1280 px: the visitor profile drawer is open (wider, the profile is a column). */
  profileExpanded: boolean;
  notices: Notice[];
  /** Requests already shown in the Incoming chat request dialog (or acted on). */
  seenRequests: Set<number>;
  /** The request the dialog shows. */
  dialogRequest: number | null;
  /** Commands running, by key ("accept:12"), to disable their buttons. */
  busy: Set<string>;
  /** Offline messages ("Leave a message"), newest first; null until loaded. */
  offlineMessages: OfflineMessage[] | null;
  /** They are being fetched (again: a list already shown stays). */
  offlineLoading: boolean;
  /** Why the last fetch failed, until one works. */
  offlineError: string | null;
  /** The newest offline message this window told the core the operator has seen. */
  offlineReadUpTo: number;
  /** Messages that were unread when Reports showed them ("New", until the section is left). */
  offlineNew: Set<number>;
  /** Chat id → message count when mark_read was last sent. */
  markedAt: Map<number, number>;
  canned: CannedView | null;
  cannedSearch: string;
  confirmEnd: number | null;
  accountOpen: boolean;
  signingIn: boolean;
  signInError: string | null;
  history: HistoryState;
  /** Visitors List / Site Monitor: the latest view, sort, filter, the open profile. */
  monitor: MonitorState;
}

export function initialState(): State {
  return {
    snap: null,
    section: "overview",
    openChat: null,
    awaitingChat: null,
    closedChat: null,
    autoOpen: true,
    drafts: new Map(),
    profiles: new Map(),
    profileFetchedFor: null,
    profileExpanded: false,
    notices: [],
    seenRequests: new Set(),
    dialogRequest: null,
    busy: new Set(),
    offlineMessages: null,
    offlineLoading: false,
    offlineError: null,
    offlineReadUpTo: 0,
    offlineNew: new Set(),
    markedAt: new Map(),
    canned: null,
    cannedSearch: "",
    confirmEnd: null,
    accountOpen: false,
    signingIn: false,
    signInError: null,
    history: { search: "", list: null, loading: false, error: null, open: null, transcript: null },
    monitor: initialMonitor(),
  };
}

export function findChat(s: State, id: number | null): ChatView | undefined {
  if (id === null || !s.snap) return undefined;
  return s.snap.chats.find((c) => c.chat.id === id);
}
