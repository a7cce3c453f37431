// Generated from mobile/core/src/ui.rs by mobile/core/tests/bindings.rs. Do not edit.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p switchboard-core --features ts --test bindings

import type { Author, CannedMessage, ChatId, ChatSummary, OperatorProfile, Settings } from "../../../shared/bindings/protocol";
export * from "../../../shared/bindings/protocol";

export type UiSnapshot = { 
/**
 * Who is signed in, and where; `None` shows the sign-in screen.
 */
signed_in: SignedIn | null, 
/**
 * The live connection.
 */
connection: ConnectionState, 
/**
 * Actions taken offline, waiting to be sent, oldest first.
 */
pending: Array<PendingAction>, 
/**
 * Incoming chat requests (Accept / Decline / Queue).
 */
requests: Array<ChatSummary>, 
/**
 * The Communication Queue, oldest first.
 */
queue: Array<ChatSummary>, 
/**
 * Own active and on-hold chats, one Live Communication tab each.
 */
chats: Array<ChatView>, 
/**
 * Canned messages, by title.
 */
canned: Array<CannedMessage>, 
/**
 * The server's settings (chat cap, invitation text).
 */
settings: Settings | null, };

export type SignedIn = { 
/**
 * The server's base URL.
 */
server: string, 
/**
 * The operator (with Live Help Available or not).
 */
operator: OperatorProfile, };

export type ConnectionState = "online" | "connecting" | "offline";

export type PendingAction = { 
/**
 * Outbox position.
 */
id: number, 
/**
 * The chat it concerns, if any.
 */
chat_id: ChatId | null, 
/**
 * What it is, in words ("Send message", "Hold", "End chat"…).
 */
label: string, };

export type ChatView = { 
/**
 * The chat.
 */
chat: ChatSummary, 
/**
 * Its messages, in order (pending ones last).
 */
messages: Array<MessageView>, 
/**
 * Messages from the visitor not read yet.
 */
unread: number, };

export type MessageView = { 
/**
 * Its `seq`, once stored.
 */
seq: number | null, 
/**
 * When (unix ms).
 */
at: number, 
/**
 * Who wrote it.
 */
author: Author, 
/**
 * The text (render it escaped).
 */
text: string, 
/**
 * True while it waits in the outbox.
 */
pending: boolean, };

export type CommandError = { 
/**
 * A stable code (the server's, or `offline` / `internal`).
 */
code: string, 
/**
 * For people.
 */
message: string, };

export type ChatAction = "accept" | "decline" | "queue" | "hold" | "resume" | "end";
