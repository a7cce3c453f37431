// Generated from mobile/core/src/ui.rs by mobile/core/tests/bindings.rs. Do not edit.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p switchboard-core --features ts --test bindings

import type { Author, CannedMessage, ChatEvent, ChatId, ChatSummary, MailInfo, MailState, OperatorProfile, Settings, SiteVisitor } from "../../../shared/bindings/protocol";
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
 * Actions the server refused when they were sent, oldest first, until dismissed.
 */
refused: Array<RefusedAction>, 
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
settings: Settings | null, 
/**
 * The operator leads as many active chats as the settings allow (chats on hold do not
 * count): Accept and Take would be refused until one is held or ended.
 */
at_cap: boolean, 
/**
 * Mail, when the server has it configured: "Send chat transcript" is shown only then,
 * offering these team addresses.
 */
mail: MailInfo | null, 
/**
 * Offline messages this operator has not seen yet.
 */
offline_unread: number, };

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
label: string, 
/**
 * The chat's visitor, when it concerns a chat.
 */
visitor: string | null, };

export type RefusedAction = { 
/**
 * Its id (for dismiss and retry).
 */
id: number, 
/**
 * The chat it concerns, if any.
 */
chat_id: ChatId | null, 
/**
 * The chat's visitor, if any.
 */
visitor: string | null, 
/**
 * What it was, in words ("Send message", "End chat"…).
 */
label: string, 
/**
 * A message's text, kept so it can be copied or sent again.
 */
text: string | null, 
/**
 * The server's error code.
 */
code: string, 
/**
 * Why, as a sentence.
 */
reason: string, 
/**
 * When it was refused (unix ms).
 */
at: number, };

export type HistoryView = { 
/**
 * The chats.
 */
chats: Array<ChatSummary>, 
/**
 * Pass as `before` for the next page; `None` on the last.
 */
next_before: ChatId | null, 
/**
 * True when the server could not be reached and the list comes from this device.
 */
from_cache: boolean, };

export type Transcript = { 
/**
 * The chat.
 */
chat: ChatSummary, 
/**
 * Its events in `seq` order.
 */
events: Array<ChatEvent>, 
/**
 * True when the server could not be reached and this is what the device kept.
 */
from_cache: boolean, 
/**
 * Transcripts mailed from it.
 */
mails: Array<TranscriptMailView>, 
/**
 * The address the visitor gave, if any.
 */
visitor_email: string | null, };

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
unread: number, 
/**
 * End chat waits in the outbox: the chat is ending, not open.
 */
ending: boolean, 
/**
 * What the operator had typed and not sent (kept across restarts).
 */
draft: string, 
/**
 * The voice call going on (or the invitation waiting), if any.
 */
call: CallView | null, 
/**
 * What to say about the last call when it just ended ("The voice call could not connect.
 * The chat goes on as text.").
 */
call_note: string | null, 
/**
 * Transcripts mailed from this chat.
 */
mails: Array<TranscriptMailView>, 
/**
 * The address the visitor gave, if any (offered first in "Send chat transcript").
 */
visitor_email: string | null, };

export type CallView = { 
/**
 * The call's id (0 while inviting).
 */
call_id: number, 
/**
 * Where it stands.
 */
phase: CallPhase, 
/**
 * When the audio connected (unix ms), for the duration shown.
 */
connected_at: number | null, 
/**
 * The operator's microphone is muted.
 */
muted: boolean, 
/**
 * The visitor muted their microphone.
 */
visitor_muted: boolean, };

export type CallPhase = "inviting" | "connecting" | "connected";

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

export type TranscriptMailView = { 
/**
 * The mail.
 */
mail_id: number, 
/**
 * Where it goes.
 */
to: string, 
/**
 * Who asked ("Visitor", or the operator's name).
 */
by: string, 
/**
 * Queued, sent or failed.
 */
state: MailState, 
/**
 * The SMTP server's answer, or why it failed.
 */
detail: string | null, 
/**
 * When it last changed (unix ms).
 */
at: number, };

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

export type MonitorView = { 
/**
 * Visitors on the site now.
 */
on_site: number, 
/**
 * Of them, talking with an operator.
 */
chatting: number, 
/**
 * Of them, waiting for an operator (ringing or in the Communication Queue).
 */
waiting: number, 
/**
 * The first snapshot has not fully arrived yet (the list may be partial or empty).
 */
loading: boolean, 
/**
 * The visitors, longest on the site first.
 */
visitors: Array<SiteVisitor>, };
