// The view state shared by the screens: the latest snapshot plus what is local to this window.
import type { ChatView, OfflineMessage, UiSnapshot, VisitorProfile } from "./bindings";

export type Section = "overview" | "live" | "queue" | "visitors" | "reports";

export const SECTIONS: ReadonlyArray<{ id: Section; name: string; short: string; icon: "overview" | "chat" | "inbox" | "eye" | "chart" }> = [
  { id: "overview", name: "Communication Overview", short: "Overview", icon: "overview" },
  { id: "live", name: "Live Communication", short: "Live", icon: "chat" },
  { id: "queue", name: "Communication Queue", short: "Queue", icon: "inbox" },
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

export interface State {
  snap: UiSnapshot | null;
  section: Section;
  /** The Live Communication tab shown. */
  openChat: number | null;
  /** A chat just accepted that the snapshot does not hold yet. */
  awaitingChat: number | null;
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
  offlineMessages: OfflineMessage[] | "loading" | "error" | null;
  /** Chat id → message count when mark_read was last sent. */
  markedAt: Map<number, number>;
  canned: CannedView | null;
  cannedSearch: string;
  confirmEnd: number | null;
  accountOpen: boolean;
  signingIn: boolean;
  signInError: string | null;
}

export function initialState(): State {
  return {
    snap: null,
    section: "overview",
    openChat: null,
    awaitingChat: null,
    drafts: new Map(),
    profiles: new Map(),
    profileFetchedFor: null,
    profileExpanded: false,
    notices: [],
    seenRequests: new Set(),
    dialogRequest: null,
    busy: new Set(),
    offlineMessages: null,
    markedAt: new Map(),
    canned: null,
    cannedSearch: "",
    confirmEnd: null,
    accountOpen: false,
    signingIn: false,
    signInError: null,
  };
}

export function findChat(s: State, id: number | null): ChatView | undefined {
  if (id === null || !s.snap) return undefined;
  return s.snap.chats.find((c) => c.chat.id === id);
}
