// Generated from shared/src/lib.rs by shared/tests/bindings.rs. Do not edit.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p switchboard-shared --features ts --test bindings

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_CHARS = 4000;
export const MAX_FRAME_BYTES = 65536;
export const MAX_REPORT_DAYS = 366;

export type ChatId = number;

export type OperatorId = number;

export type VisitorId = number;

export type OfflineMessageId = number;

export type CannedId = number;

export type ChatStatus = "invited" | "waiting" | "queued" | "active" | "on_hold" | "ended" | "missed";

export type Mode = "text" | "voice";

export type Page = { 
/**
 * The page's address.
 */
url: string, 
/**
 * The page's title, when the widget could read one.
 */
title: string | null, };

export type OperatorRef = { 
/**
 * The operator.
 */
id: OperatorId, 
/**
 * The name visitors and colleagues see.
 */
name: string, };

export type Author = { "kind": "visitor" } | { "kind": "operator", 
/**
 * The operator who wrote it.
 */
id: OperatorId, 
/**
 * Their display name at the time.
 */
name: string, } | { "kind": "system" };

export type EndReason = "visitor" | "operator" | "no_operator" | "declined";

export type ChatEvent = { 
/**
 * The chat this event belongs to.
 */
chat_id: ChatId, 
/**
 * Position of this event in the chat's history.
 */
seq: number, 
/**
 * When it was stored (unix ms).
 */
at: number, 
/**
 * The chat's status after this event.
 */
status: ChatStatus, 
/**
 * What happened.
 */
kind: ChatEventKind, };

export type ChatEventKind = { "type": "invited", 
/**
 * Who invites.
 */
operator: OperatorRef, 
/**
 * The invitation ("Hello! I'm Olga, can I help you?").
 */
text: string, } | { "type": "requested", 
/**
 * The visitor.
 */
visitor_id: VisitorId, 
/**
 * The chat name the visitor gave, if any.
 */
name: string | null, 
/**
 * Text or voice.
 */
mode: Mode, 
/**
 * The page the visitor asked from.
 */
page: Page | null, } | { "type": "message", 
/**
 * Who wrote it.
 */
author: Author, 
/**
 * The text, as typed (clients escape it when they render it).
 */
text: string, 
/**
 * The sender's idempotency key, if it gave one.
 */
client_id: string | null, } | { "type": "accepted", 
/**
 * Who took it.
 */
operator: OperatorRef, } | { "type": "declined", 
/**
 * Who passed.
 */
operator: OperatorRef, } | { "type": "queued", 
/**
 * Who queued it.
 */
operator: OperatorRef, } | { "type": "on_hold", 
/**
 * Who held it.
 */
operator: OperatorRef, } | { "type": "resumed", 
/**
 * Who resumed it.
 */
operator: OperatorRef, } | { "type": "ended", 
/**
 * Why.
 */
reason: EndReason, } | { "type": "call_invited", 
/**
 * Who invited.
 */
operator: OperatorRef, } | { "type": "call_started", 
/**
 * Whose request started it: the visitor's voice chat, or the operator's invitation.
 */
by: CallParty, } | { "type": "call_connected", 
/**
 * The call (its `call_started` event's `seq`).
 */
call_id: number, } | { "type": "transcript_mail", 
/**
 * The mail (one outbox entry).
 */
mail_id: number, 
/**
 * Who asked: the visitor or an operator.
 */
by: Author, 
/**
 * Where it goes.
 */
to: string, 
/**
 * Where it stands.
 */
state: MailState, 
/**
 * The SMTP server's answer, or why it failed.
 */
detail: string | null, } | { "type": "call_ended", 
/**
 * The call (its `call_started` event's `seq`; 0 for a refused invitation).
 */
call_id: number, 
/**
 * Why.
 */
reason: CallEndReason, 
/**
 * Who ended it, when a person did.
 */
by: CallParty | null, 
/**
 * How long the audio was connected (ms), when it was.
 */
duration_ms: number | null, };

export type ChatSummary = { 
/**
 * The chat.
 */
id: ChatId, 
/**
 * Its visitor.
 */
visitor_id: VisitorId, 
/**
 * The chat name the visitor gave, if any.
 */
visitor_name: string | null, 
/**
 * Text or voice.
 */
mode: Mode, 
/**
 * Where it stands.
 */
status: ChatStatus, 
/**
 * The page the visitor asked from.
 */
page: Page | null, 
/**
 * The operator leading it, once accepted.
 */
operator: OperatorRef | null, 
/**
 * When it was requested (unix ms).
 */
created_at: number, 
/**
 * When it was accepted (unix ms).
 */
accepted_at: number | null, 
/**
 * When it ended (unix ms).
 */
ended_at: number | null, 
/**
 * Highest `seq` stored for it.
 */
last_seq: number, };

export type ErrorCode = "unauthorized" | "token_expired" | "forbidden" | "not_found" | "invalid_input" | "malformed_frame" | "unknown_type" | "too_large" | "illegal_transition" | "already_taken" | "chat_limit_reached" | "no_operator_available" | "conflict" | "hello_required" | "unsupported_protocol" | "rate_limited" | "mail_unavailable" | "internal";

export type ApiError = { 
/**
 * What went wrong, for programs.
 */
code: ErrorCode, 
/**
 * What went wrong, for people.
 */
message: string, 
/**
 * With `rate_limited`: how many seconds to wait before trying again.
 */
retry_after_secs?: number, };

export type VisitorClientMsg = { "type": "hello", 
/**
 * Must equal [`PROTOCOL_VERSION`].
 */
protocol: number, 
/**
 * The token from an earlier `welcome`, kept by the widget.
 */
visitor_token: string | null, 
/**
 * The page the widget runs on.
 */
page: Page | null, 
/**
 * Highest chat `seq` the widget has applied; the server replays everything after it
 * (everything, when absent).
 */
last_seq: number | null, 
/**
 * What the browser tells about the visitor, for the Site Monitor.
 */
client?: ClientInfo, } | { "type": "start_chat", 
/**
 * Chat name (optional).
 */
name: string | null, 
/**
 * Text chat or voice chat.
 */
mode: Mode, } | { "type": "send", 
/**
 * Idempotency key chosen by the widget (unique per message).
 */
client_id: string, 
/**
 * The text.
 */
text: string, } | { "type": "end_chat" } | { "type": "page_view", 
/**
 * The page.
 */
page: Page, } | { "type": "ping" } | { "type": "call_accept" } | { "type": "call_refuse" } | { "type": "call_signal", 
/**
 * The call (its `call_started` event's `seq`).
 */
call_id: number, 
/**
 * What to tell the other peer.
 */
signal: CallSignal, } | { "type": "call_connected", 
/**
 * The call.
 */
call_id: number, } | { "type": "call_failed", 
/**
 * The call.
 */
call_id: number, } | { "type": "call_end", 
/**
 * The call.
 */
call_id: number, } | { "type": "mail_transcript", 
/**
 * Idempotency key (a retry mails nothing more).
 */
client_id: string, 
/**
 * The visitor's chat.
 */
chat_id: ChatId, 
/**
 * Where to send it.
 */
email: string, };

export type VisitorServerMsg = { "type": "welcome", 
/**
 * The server's [`PROTOCOL_VERSION`].
 */
protocol: number, 
/**
 * The visitor.
 */
visitor_id: VisitorId, 
/**
 * The token to keep and send back in later `hello`s.
 */
visitor_token: string, 
/**
 * Whether any operator has Live Help Available.
 */
available: boolean, 
/**
 * The visitor's open (or last, if ended) chat.
 */
chat: ChatSummary | null, 
/**
 * Whether transcripts can be mailed (mail is configured): "Mail me this chat
 * transcript" is shown only then.
 */
mail: boolean, } | { "type": "mail", 
/**
 * Whether transcripts can be mailed.
 */
enabled: boolean, } | { "type": "availability", 
/**
 * Whether any operator is available.
 */
available: boolean, } | { "type": "event", 
/**
 * The event.
 */
event: ChatEvent, } | { "type": "queue_position", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * Its place in line, from 1.
 */
position: number, } | { "type": "ack", 
/**
 * The widget's idempotency key.
 */
client_id: string, 
/**
 * Its event's `seq`.
 */
seq: number, } | { "type": "error", 
/**
 * The failed message's `client_id`, when it had one.
 */
client_id: string | null, 
/**
 * What went wrong.
 */
error: ApiError, } | { "type": "pong" } | { "type": "call_ready", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call (its `call_started` event's `seq`).
 */
call_id: number, 
/**
 * STUN and TURN servers for this call (TURN credentials are short-lived).
 */
ice_servers: Array<IceServer>, } | { "type": "call_signal", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call.
 */
call_id: number, 
/**
 * What the other peer says.
 */
signal: CallSignal, };

export type WidgetStatus = { 
/**
 * Whether any operator has Live Help Available.
 */
available: boolean, 
/**
 * Whether transcripts can be mailed.
 */
mail: boolean, };

export type LeaveMessageRequest = { 
/**
 * The visitor token, when the widget has one (links the message to the visitor).
 */
visitor_token: string | null, 
/**
 * The visitor's name.
 */
name: string, 
/**
 * Where to answer.
 */
email: string, 
/**
 * The message.
 */
text: string, };

export type OfflineMessage = { 
/**
 * The message.
 */
id: OfflineMessageId, 
/**
 * The visitor, when known.
 */
visitor_id: VisitorId | null, 
/**
 * The visitor's chat it followed, when there was one.
 */
chat_id: ChatId | null, 
/**
 * The visitor's name.
 */
name: string, 
/**
 * Where to answer.
 */
email: string, 
/**
 * The message.
 */
text: string, 
/**
 * When it was left (unix ms).
 */
created_at: number, 
/**
 * When an operator last answered it by e-mail from the app.
 */
replied_at: number | null, 
/**
 * Who answered it.
 */
replied_by: string | null, };

export type LoginRequest = { 
/**
 * The operator's e-mail.
 */
email: string, 
/**
 * The operator's password.
 */
password: string, };

export type LoginResponse = { 
/**
 * Bearer token for HTTP (`Authorization: Bearer …`) and the WebSocket `hello`.
 */
token: string, 
/**
 * When the token stops working (unix ms).
 */
expires_at: number, 
/**
 * Who signed in.
 */
operator: OperatorProfile, };

export type OperatorProfile = { 
/**
 * The operator.
 */
id: OperatorId, 
/**
 * Sign-in e-mail.
 */
email: string, 
/**
 * Display name.
 */
name: string, 
/**
 * Whether the operator may use the settings API.
 */
is_admin: boolean, 
/**
 * Live Help Available (true) or Not Available.
 */
available: boolean, 
/**
 * The ring group (1 rings first, then 2, …) when push escalation by group is on.
 */
ring_group: number, };

export type SetStatusRequest = { 
/**
 * Live Help Available (true) or Not Available.
 */
available: boolean, };

export type CreateOperatorRequest = { 
/**
 * Sign-in e-mail (unique).
 */
email: string, 
/**
 * Display name.
 */
name: string, 
/**
 * Initial password (at least 8 characters).
 */
password: string, 
/**
 * Settings rights.
 */
is_admin: boolean, 
/**
 * Ring group, 1 to [`MAX_RING_GROUP`] (default 1).
 */
ring_group?: number | null, };

export type UpdateOperatorRequest = { 
/**
 * New display name.
 */
name: string | null, 
/**
 * New password (at least 8 characters); ends the operator's sessions.
 */
password: string | null, 
/**
 * New settings rights.
 */
is_admin: boolean | null, 
/**
 * New ring group, 1 to [`MAX_RING_GROUP`].
 */
ring_group?: number | null, };

export type Settings = { 
/**
 * The operator name put into invitations (`%name%`).
 */
operator_name: string, 
/**
 * The default invitation text.
 */
default_invitation: string, 
/**
 * How many active chats one operator may lead at once (chats on hold do not count).
 */
max_chats_per_operator: number, 
/**
 * How long a request rings before the visitor is offered "Leave a message" (seconds).
 */
ring_timeout_secs: number, 
/**
 * The sites allowed to use the widget, as origins (`https://shop.example.com`); empty:
 * any site. Pages served by Switchboard itself are always allowed.
 */
widget_origins: Array<string>, 
/**
 * How much one visitor, address, account or connection may ask for.
 */
limits: Limits, 
/**
 * Invitations the server sends by itself (off unless enabled).
 */
auto_invitations?: AutoInvitations, 
/**
 * The site's time zone (IANA name, e.g. `Europe/Paris`): the days and hours of reports
 * and the times in mails. `UTC` when not set.
 */
time_zone: string, };

export type Limits = { 
/**
 * Chats one visitor may start per minute.
 */
chats_per_visitor_per_minute: number, 
/**
 * Chats that may be started from one address per minute.
 */
chats_per_address_per_minute: number, 
/**
 * New visitors (widget tokens) one address may get per minute.
 */
new_visitors_per_address_per_minute: number, 
/**
 * Offline messages that may be left from one address per minute.
 */
offline_messages_per_address_per_minute: number, 
/**
 * Frames one WebSocket connection may send per second (in bursts of up to twice as
 * many).
 */
frames_per_connection_per_second: number, 
/**
 * Sign-in attempts per operator account per minute.
 */
logins_per_account_per_minute: number, 
/**
 * Sign-in attempts from one address per minute.
 */
logins_per_address_per_minute: number, 
/**
 * Transcripts a visitor may have mailed of one chat.
 */
transcripts_per_chat: number, 
/**
 * Mails that may go to one address per hour (the team's own addresses are not
 * limited).
 */
mails_per_address_per_hour: number, };

export type HistoryPage = { 
/**
 * Ended and missed chats, newest first.
 */
chats: Array<ChatSummary>, 
/**
 * Pass as `before` for the next page; `null` on the last page.
 */
next_before: ChatId | null, };

export type ResumeFrom = { 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The highest `seq` applied.
 */
last_seq: number, };

export type OperatorRequest = { 
/**
 * Chosen by the client, echoed in the answer.
 */
req: number, } & ({ "type": "hello", 
/**
 * Must equal [`PROTOCOL_VERSION`].
 */
protocol: number, 
/**
 * The login token.
 */
token: string, 
/**
 * Chats the client has, with the last `seq` applied to each.
 */
resume: Array<ResumeFrom>, 
/**
 * This device's push registration, if any: while this connection is up (and the app
 * is not in the background) the device rings over it and gets no push.
 */
device_id: DeviceId | null, 
/**
 * The app starts in the background (a phone woken to reconnect): its device is
 * still pushed. See `app_state`.
 */
background: boolean, } | { "type": "app_state", 
/**
 * In the background.
 */
background: boolean, 
/**
 * This device's push registration, when it was made after `hello` (as in `hello`).
 */
device_id?: DeviceId | null, } | { "type": "set_available", 
/**
 * Available (true) or not.
 */
available: boolean, } | { "type": "accept", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "decline", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "queue", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "hold", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "resume", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "end", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "send", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * Idempotency key (unique per message).
 */
client_id: string, 
/**
 * The text.
 */
text: string, } | { "type": "ping" } | { "type": "call_invite", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "call_signal", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call (its `call_started` event's `seq`).
 */
call_id: number, 
/**
 * What to tell the other peer.
 */
signal: CallSignal, } | { "type": "call_connected", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call.
 */
call_id: number, } | { "type": "call_failed", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call.
 */
call_id: number, } | { "type": "call_end", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call (0 for an invitation not answered yet).
 */
call_id: number, } | { "type": "invite", 
/**
 * The visitor (from the Site Monitor).
 */
visitor_id: VisitorId, 
/**
 * The invitation.
 */
text: string, } | { "type": "monitor_subscribe", 
/**
 * The last monitor `seq` this client applied, when it resumes.
 */
last_seq: number | null, } | { "type": "monitor_unsubscribe" } | { "type": "mail_transcript", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * Idempotency key (a retry mails nothing more).
 */
client_id: string, 
/**
 * Where to send it.
 */
email: string, });

export type OperatorAction = { "type": "hello", 
/**
 * Must equal [`PROTOCOL_VERSION`].
 */
protocol: number, 
/**
 * The login token.
 */
token: string, 
/**
 * Chats the client has, with the last `seq` applied to each.
 */
resume: Array<ResumeFrom>, 
/**
 * This device's push registration, if any: while this connection is up (and the app
 * is not in the background) the device rings over it and gets no push.
 */
device_id: DeviceId | null, 
/**
 * The app starts in the background (a phone woken to reconnect): its device is
 * still pushed. See `app_state`.
 */
background: boolean, } | { "type": "app_state", 
/**
 * In the background.
 */
background: boolean, 
/**
 * This device's push registration, when it was made after `hello` (as in `hello`).
 */
device_id?: DeviceId | null, } | { "type": "set_available", 
/**
 * Available (true) or not.
 */
available: boolean, } | { "type": "accept", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "decline", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "queue", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "hold", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "resume", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "end", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "send", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * Idempotency key (unique per message).
 */
client_id: string, 
/**
 * The text.
 */
text: string, } | { "type": "ping" } | { "type": "call_invite", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "type": "call_signal", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call (its `call_started` event's `seq`).
 */
call_id: number, 
/**
 * What to tell the other peer.
 */
signal: CallSignal, } | { "type": "call_connected", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call.
 */
call_id: number, } | { "type": "call_failed", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call.
 */
call_id: number, } | { "type": "call_end", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call (0 for an invitation not answered yet).
 */
call_id: number, } | { "type": "invite", 
/**
 * The visitor (from the Site Monitor).
 */
visitor_id: VisitorId, 
/**
 * The invitation.
 */
text: string, } | { "type": "monitor_subscribe", 
/**
 * The last monitor `seq` this client applied, when it resumes.
 */
last_seq: number | null, } | { "type": "monitor_unsubscribe" } | { "type": "mail_transcript", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * Idempotency key (a retry mails nothing more).
 */
client_id: string, 
/**
 * Where to send it.
 */
email: string, };

export type OperatorServerMsg = { "type": "ready", 
/**
 * The server's [`PROTOCOL_VERSION`].
 */
protocol: number, 
/**
 * Who is signed in (with Live Help Available or not).
 */
operator: OperatorProfile, 
/**
 * Incoming chat requests this operator has not declined.
 */
requests: Array<ChatSummary>, 
/**
 * The Communication Queue, oldest first.
 */
queue: Array<ChatSummary>, 
/**
 * The operator's own active and on-hold chats.
 */
chats: Array<ChatSummary>, 
/**
 * The settings that shape the operator's work.
 */
settings: Settings, 
/**
 * Mail, when configured ("Send chat transcript" is shown only then).
 */
mail: MailInfo | null, 
/**
 * Offline messages this operator has not seen yet.
 */
offline_unread: number, } | { "type": "mail", 
/**
 * Mail, when configured.
 */
mail: MailInfo | null, } | { "type": "offline_message", 
/**
 * The message.
 */
message: OfflineMessage, } | { "type": "event", 
/**
 * The event.
 */
event: ChatEvent, 
/**
 * The chat after the event.
 */
chat: ChatSummary, } | { "type": "availability", 
/**
 * Available or not.
 */
available: boolean, } | { "type": "ack", 
/**
 * The request id.
 */
req: number, 
/**
 * The stored event's `seq`.
 */
seq: number | null, } | { "type": "error", 
/**
 * The request id, when the frame had one.
 */
req: number | null, 
/**
 * What went wrong.
 */
error: ApiError, } | { "type": "pong" } | { "type": "call_ready", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call (its `call_started` event's `seq`).
 */
call_id: number, 
/**
 * STUN and TURN servers for this call (TURN credentials are short-lived).
 */
ice_servers: Array<IceServer>, } | { "type": "call_signal", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * The call.
 */
call_id: number, 
/**
 * What the other peer says.
 */
signal: CallSignal, } | { "type": "monitor_snapshot", 
/**
 * The stream's position this snapshot is at.
 */
seq: number, 
/**
 * This frame starts the snapshot.
 */
first: boolean, 
/**
 * This frame ends the snapshot.
 */
complete: boolean, 
/**
 * Visitors on the site, longest there first.
 */
visitors: Array<SiteVisitor>, } | { "type": "monitor_deltas", 
/**
 * The changes.
 */
deltas: Array<MonitorDelta>, };

export type CannedMessage = { 
/**
 * The canned message.
 */
id: CannedId, 
/**
 * A short title to find it by.
 */
title: string, 
/**
 * The text inserted into the chat.
 */
text: string, 
/**
 * Last change (unix ms); the newer change wins when syncing.
 */
updated_at: number, };

export type SaveCannedRequest = { 
/**
 * A short title.
 */
title: string, 
/**
 * The text.
 */
text: string, };

export type PageView = { 
/**
 * The page.
 */
page: Page, 
/**
 * When (unix ms).
 */
at: number, };

export type VisitorProfile = { 
/**
 * The visitor.
 */
id: VisitorId, 
/**
 * The chat name they gave last, if any.
 */
name: string | null, 
/**
 * The page they are on (or were on last).
 */
current_page: Page | null, 
/**
 * Pages seen, newest first (at most 50).
 */
pages: Array<PageView>, 
/**
 * How many visits (a visit ends after 30 minutes without activity).
 */
visits: number, 
/**
 * First seen (unix ms).
 */
first_seen: number, 
/**
 * Last seen (unix ms).
 */
last_seen: number, 
/**
 * Their chats, newest first (at most 20).
 */
chats: Array<ChatSummary>, };

export type DeviceId = number;

export type PushPlatform = "apns" | "fcm";

export type RegisterDeviceRequest = { 
/**
 * APNs or FCM.
 */
platform: PushPlatform, 
/**
 * The device token / registration token.
 */
token: string, 
/**
 * A name to recognise the device by ("Olga's iPhone").
 */
name: string | null, 
/**
 * The token this one replaces, when the platform rotated it.
 */
replaces: string | null, };

export type PushDevice = { 
/**
 * The device.
 */
id: DeviceId, 
/**
 * Its operator.
 */
operator_id: OperatorId, 
/**
 * APNs or FCM.
 */
platform: PushPlatform, 
/**
 * The last characters of its token (the full token is never returned).
 */
token_tail: string, 
/**
 * Its name, if given.
 */
name: string | null, 
/**
 * Registered (unix ms).
 */
created_at: number, 
/**
 * Set when the provider reported the token dead; no more pushes go to it.
 */
disabled_at: number | null, 
/**
 * Why it was disabled.
 */
disabled_reason: string | null, };

export type PushSettingsView = { 
/**
 * APNs (token-based auth), when configured.
 */
apns: ApnsSettingsView | null, 
/**
 * FCM HTTP v1, when configured.
 */
fcm: FcmSettingsView | null, 
/**
 * Ring again after this many seconds when nobody accepted (0: never).
 */
ring_again_after_secs: number, 
/**
 * Ring the next ring group after this many more seconds when nobody accepted (0: every
 * group rings at once).
 */
next_group_after_secs: number, };

export type ApnsSettingsView = { 
/**
 * The .p8 key's id.
 */
key_id: string, 
/**
 * The Apple developer team id.
 */
team_id: string, 
/**
 * The app's bundle id (apns-topic).
 */
topic: string, 
/**
 * Sandbox (development) or production APNs.
 */
sandbox: boolean, };

export type FcmSettingsView = { 
/**
 * The Firebase project.
 */
project_id: string, 
/**
 * The service account's e-mail.
 */
client_email: string, };

export type PushSettingsUpdate = { 
/**
 * APNs credentials (`null` removes them).
 */
apns?: ApnsSettingsInput | null, 
/**
 * The FCM service-account JSON, as downloaded from Firebase (`null` removes it).
 */
fcm_service_account?: string | null, 
/**
 * Ring again after this many seconds when nobody accepted (0: never).
 */
ring_again_after_secs?: number | null, 
/**
 * Ring the next ring group after this many more seconds (0: every group at once).
 */
next_group_after_secs?: number | null, };

export type ApnsSettingsInput = { 
/**
 * The .p8 key (PEM text).
 */
key_p8: string, 
/**
 * The key's id.
 */
key_id: string, 
/**
 * The team id.
 */
team_id: string, 
/**
 * The app's bundle id.
 */
topic: string, 
/**
 * Sandbox (development) or production.
 */
sandbox: boolean, };

export type PushAttempt = { 
/**
 * The chat the push was about.
 */
chat_id: ChatId, 
/**
 * The device.
 */
device_id: DeviceId, 
/**
 * `ring` or `clear`.
 */
kind: string, 
/**
 * When the attempt started (unix ms).
 */
at: number, 
/**
 * How long the provider took to answer (ms).
 */
latency_ms: number, 
/**
 * The provider's HTTP status (0: no answer).
 */
status: number, 
/**
 * `delivered`, `retry`, `unregistered` or `rejected`, with the provider's reason.
 */
result: string, };

export type PushAction = "accept" | "queue" | "decline";

export type PushActionRequest = { 
/**
 * The push's action token.
 */
action_token: string, 
/**
 * What to do.
 */
action: PushAction, };

export type PushActionResponse = { 
/**
 * The chat after the action (the app opens it on Accept).
 */
chat: ChatSummary, };

export type CallParty = "visitor" | "operator";

export type CallEndReason = "hangup" | "refused" | "media_failed" | "chat_ended";

export type IceCandidate = { 
/**
 * The `candidate:` line.
 */
candidate: string, 
/**
 * The media stream's id.
 */
sdpMid: string | null, 
/**
 * The media line's index.
 */
sdpMLineIndex: number | null, };

export type IceServer = { 
/**
 * `stun:host:port` or `turn:host:port?transport=udp` and the like.
 */
urls: Array<string>, 
/**
 * TURN user name.
 */
username?: string, 
/**
 * TURN credential.
 */
credential?: string, };

export type CallSignal = { "kind": "offer", 
/**
 * The SDP.
 */
sdp: string, } | { "kind": "answer", 
/**
 * The SDP.
 */
sdp: string, } | { "kind": "candidate", 
/**
 * The candidate.
 */
candidate: IceCandidate, } | { "kind": "mute", 
/**
 * Muted or not.
 */
muted: boolean, };

export type CallState = "idle" | "invited" | "connecting" | "connected";

export type VoiceSettingsUpdate = { 
/**
 * STUN servers, and TURN servers with fixed credentials.
 */
ice_servers: Array<IceServer>, 
/**
 * A TURN server that takes short-lived credentials made with a shared secret (the TURN
 * REST convention, coturn's `use-auth-secret`), or none.
 */
turn_rest: TurnRestInput | null, };

export type TurnRestInput = { 
/**
 * `turn:` / `turns:` URLs.
 */
urls: Array<string>, 
/**
 * The secret shared with the TURN server (coturn's `static-auth-secret`).
 */
secret: string, 
/**
 * How long a credential lasts, in seconds (60 to 86400, default 3600).
 */
ttl_secs: number | null, };

export type VoiceSettingsView = { 
/**
 * STUN and fixed-credential TURN servers.
 */
ice_servers: Array<IceServerView>, 
/**
 * The TURN server with short-lived credentials, if any.
 */
turn_rest: TurnRestView | null, };

export type IceServerView = { 
/**
 * Its URLs.
 */
urls: Array<string>, 
/**
 * TURN user name.
 */
username: string | null, 
/**
 * Whether a credential is set (it is never shown).
 */
has_credential: boolean, };

export type TurnRestView = { 
/**
 * Its URLs.
 */
urls: Array<string>, 
/**
 * How long a credential lasts, in seconds.
 */
ttl_secs: number, };

export type ClientInfo = { 
/**
 * The page the visitor came from (`document.referrer`), when another site.
 */
referrer: string | null, 
/**
 * The browser's language (`navigator.language`).
 */
language: string | null, 
/**
 * The visitor's clock: minutes east of UTC (minus `Date.getTimezoneOffset()`).
 */
utc_offset_min: number | null, 
/**
 * The browser's `navigator.userAgent`, read into browser and system names.
 */
user_agent: string | null, };

export type VisitorChat = { "state": "none" } | { "state": "invited", 
/**
 * The chat the invitation opened.
 */
chat_id: ChatId, 
/**
 * Who invited.
 */
operator: OperatorRef, } | { "state": "ringing", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "state": "queued", 
/**
 * The chat.
 */
chat_id: ChatId, } | { "state": "chatting", 
/**
 * The chat.
 */
chat_id: ChatId, 
/**
 * With whom.
 */
operator: OperatorRef, } | { "state": "ended", 
/**
 * The chat.
 */
chat_id: ChatId, };

export type SiteVisitor = { 
/**
 * The visitor.
 */
id: VisitorId, 
/**
 * The name they gave in a chat, if any.
 */
name: string | null, 
/**
 * The page they are on.
 */
page: Page, 
/**
 * Where they came from (another site's address), when known.
 */
referrer: string | null, 
/**
 * What they searched for, when they came from a search engine that says.
 */
search_terms: string | null, 
/**
 * When this visit began (unix ms).
 */
arrived_at: number, 
/**
 * When they opened the page they are on (unix ms).
 */
page_since: number, 
/**
 * Their visits to the site, this one included.
 */
visits: number, 
/**
 * Pages seen in this visit.
 */
pages: number, 
/**
 * Their browser ("Firefox 121"), when it could be told.
 */
browser: string | null, 
/**
 * Their system ("Windows", "Android"), when it could be told.
 */
os: string | null, 
/**
 * Their browser's language ("de-DE").
 */
language: string | null, 
/**
 * Their clock: minutes east of UTC.
 */
utc_offset_min: number | null, 
/**
 * Where they stand with chat.
 */
chat: VisitorChat, };

export type MonitorChange = { "kind": "joined", 
/**
 * The visitor.
 */
visitor: SiteVisitor, } | { "kind": "page", 
/**
 * The visitor.
 */
id: VisitorId, 
/**
 * The page.
 */
page: Page, 
/**
 * When (unix ms).
 */
page_since: number, 
/**
 * Pages seen in this visit now.
 */
pages: number, } | { "kind": "chat", 
/**
 * The visitor.
 */
id: VisitorId, 
/**
 * Their name now.
 */
name: string | null, 
/**
 * Where they stand now.
 */
chat: VisitorChat, } | { "kind": "left", 
/**
 * The visitor.
 */
id: VisitorId, };

export type MonitorDelta = { 
/**
 * Its `seq` in the monitor stream (increasing; not a chat event's).
 */
seq: number, 
/**
 * The change.
 */
change: MonitorChange, };

export type AutoInvitations = { 
/**
 * Off by default.
 */
enabled: boolean, 
/**
 * The first rule a visitor matches sends the invitation.
 */
rules: Array<AutoInvitationRule>, };

export type AutoInvitationRule = { 
/**
 * The page's address contains this (e.g. `/checkout`).
 */
url_contains: string | null, 
/**
 * At least this long on the page, in seconds.
 */
min_secs_on_page: number, 
/**
 * At least this many pages seen in the visit.
 */
min_pages: number, 
/**
 * Only visitors who came before.
 */
returning_only: boolean, 
/**
 * The invitation (`%name%` allowed); the default invitation when absent.
 */
text: string | null, };

export type SetNameRequest = { 
/**
 * The new name (trimmed; 1 to 100 characters).
 */
name: string, };

export type SmtpSecurity = "starttls" | "tls" | "none";

export type MailSettingsInput = { 
/**
 * The SMTP server's host name.
 */
host: string, 
/**
 * Its port (587 for STARTTLS, 465 for TLS, 25 for a local relay).
 */
port: number, 
/**
 * How the connection is secured.
 */
security: SmtpSecurity, 
/**
 * The user to log in as (no login when absent).
 */
username: string | null, 
/**
 * The password (absent: keep the stored one; empty: none).
 */
password?: string, 
/**
 * The sender address, optionally with a name: `Acme Support <support@acme.example>`.
 */
from: string, 
/**
 * Where replies go, when not to `from`.
 */
reply_to: string | null, 
/**
 * Who receives offline messages ("Leave a message"); also offered in the operator's
 * "Send chat transcript" list.
 */
offline_recipients: Array<string>, };

export type MailSettingsView = { 
/**
 * The SMTP server's host name.
 */
host: string, 
/**
 * Its port.
 */
port: number, 
/**
 * How the connection is secured.
 */
security: SmtpSecurity, 
/**
 * The user it logs in as.
 */
username: string | null, 
/**
 * Whether a password is stored.
 */
has_password: boolean, 
/**
 * The sender.
 */
from: string, 
/**
 * Where replies go.
 */
reply_to: string | null, 
/**
 * Who receives offline messages.
 */
offline_recipients: Array<string>, };

export type MailTestRequest = { 
/**
 * Where to send it.
 */
to: string, };

export type MailTestResult = { 
/**
 * The server accepted the mail.
 */
sent: boolean, 
/**
 * Its answer ("250 2.0.0 Ok: queued as …"), or why it could not be reached.
 */
answer: string, };

export type MailInfo = { 
/**
 * The team's addresses (the offline-message recipients), offered in "Send chat
 * transcript".
 */
addresses: Array<string>, };

export type MailState = "queued" | "sent" | "failed";

export type OfflineReplyRequest = { 
/**
 * Idempotency key: a retry with the same key sends nothing more.
 */
client_id: string, 
/**
 * The answer.
 */
text: string, };

export type OfflineReadRequest = { 
/**
 * The newest offline message seen.
 */
up_to: OfflineMessageId, };

export type ReportPeriod = "today" | "yesterday" | "last_7_days" | "last_30_days";

export type ReportQuery = { 
/**
 * Today, yesterday, the last 7 or 30 days.
 */
period?: ReportPeriod, 
/**
 * First day of a custom range (`YYYY-MM-DD`, in the site's time zone).
 */
from?: string, 
/**
 * Last day of a custom range, included (`YYYY-MM-DD`).
 */
to?: string, 
/**
 * One operator's figures; absent: the whole team (an operator who is not an admin may
 * ask only for their own).
 */
operator?: OperatorId, };

export type ReportChatsQuery = { 
/**
 * As in [`ReportQuery`].
 */
period?: ReportPeriod, 
/**
 * As in [`ReportQuery`].
 */
from?: string, 
/**
 * As in [`ReportQuery`].
 */
to?: string, 
/**
 * As in [`ReportQuery`].
 */
operator?: OperatorId, 
/**
 * The figure whose chats to list; absent: every chat of the period.
 */
figure?: ReportFigure, 
/**
 * Only this day of the period (`YYYY-MM-DD`).
 */
day?: string, 
/**
 * Only this hour of the day (0–23), on every day of the period (or of `day`).
 */
hour?: number, 
/**
 * The `next_after` of the previous page.
 */
after?: ChatId, 
/**
 * Page size (default 50, at most [`MAX_REPORT_CHATS_PAGE`]).
 */
limit?: number, };

export type ReportCounts = { 
/**
 * Chats visitors asked for (Click for Live Help, and invitations they took).
 */
requested: number, 
/**
 * Of those, the ones an operator took (Accept, from the queue, or the inviter).
 */
accepted: number, 
/**
 * Declines (one per operator who passed on a request).
 */
declined: number, 
/**
 * Requests moved to the Communication Queue.
 */
queued: number, 
/**
 * Requests the visitor gave up on before anyone took them.
 */
missed: number, 
/**
 * Requests nobody answered (nobody available, all declined, or the ring timed out).
 */
unanswered: number, 
/**
 * Offline messages left ("Leave a message").
 */
left_message: number, 
/**
 * Invitations operators sent.
 */
invitations_sent: number, 
/**
 * Invitations visitors took with Start Chat.
 */
invitations_accepted: number, 
/**
 * Voice calls that started (voice chats and calls inside text chats).
 */
voice_calls: number, 
/**
 * Messages visitors wrote.
 */
visitor_messages: number, 
/**
 * Messages operators wrote.
 */
operator_messages: number, };

export type ReportFigure = "all" | "requested" | "accepted" | "declined" | "queued" | "missed" | "unanswered" | "invitations_sent" | "invitations_accepted" | "voice_calls";

export type ReportBucket = { 
/**
 * `YYYY-MM-DD` for a day, `00`…`23` for an hour of the day.
 */
label: string, 
/**
 * What happened in it.
 */
counts: ReportCounts, };

export type Durations = { 
/**
 * How many chats were measured.
 */
count: number, 
/**
 * Median (nearest rank), ms.
 */
p50_ms: number | null, 
/**
 * 90th percentile (nearest rank), ms.
 */
p90_ms: number | null, 
/**
 * Mean, ms.
 */
avg_ms: number | null, };

export type OperatorFigures = { 
/**
 * Who.
 */
operator: OperatorRef, 
/**
 * Chats they took (requests accepted and invitations taken).
 */
chats: number, 
/**
 * Messages they wrote.
 */
messages: number, 
/**
 * Requests they declined.
 */
declined: number, 
/**
 * Mean time from request to their Accept (invitations not counted), ms.
 */
avg_answer_ms: number | null, 
/**
 * How long they had Live Help Available during the period, ms.
 */
available_ms: number, };

export type Report = { 
/**
 * First day.
 */
from: string, 
/**
 * Last day (included).
 */
to: string, 
/**
 * The site's time zone the days are in (IANA name).
 */
time_zone: string, 
/**
 * The period as unix ms: `[start, end)`.
 */
start: number, 
/**
 * End of the period (exclusive), unix ms.
 */
end: number, 
/**
 * The operator the figures are for; absent: the team.
 */
operator: OperatorRef | null, 
/**
 * The period's figures (for `operator` where a figure has one: accepted, declined,
 * queued, invitations, voice calls and messages in their chats; requests, missed,
 * unanswered and offline messages are the team's).
 */
totals: ReportCounts, 
/**
 * One bucket per day of the period, in order.
 */
days: Array<ReportBucket>, 
/**
 * 24 buckets, one per hour of the day (the period's days added up): the busiest hours.
 */
hours: Array<ReportBucket>, 
/**
 * Time from request to Accept, for the requests taken.
 */
answer: Durations, 
/**
 * How long the accepted chats lasted (Accept to end), for those that ended.
 */
length: Durations, 
/**
 * Per operator (an operator who is not an admin sees only their own line).
 */
operators: Array<OperatorFigures>, };

export type ReportChat = { 
/**
 * The chat.
 */
id: ChatId, 
/**
 * When it was requested (or the invitation sent), unix ms.
 */
started_at: number, 
/**
 * When an operator took it, unix ms.
 */
answered_at: number | null, 
/**
 * When it ended, unix ms.
 */
ended_at: number | null, 
/**
 * Where it stands.
 */
status: ChatStatus, 
/**
 * Why it ended.
 */
end_reason: EndReason | null, 
/**
 * Who led it (the inviter, for an invitation).
 */
operator: OperatorRef | null, 
/**
 * Whether it began as an operator's invitation.
 */
invited: boolean, 
/**
 * How long the visitor waited for an answer (to the Accept, or to the end when nobody
 * took it), ms.
 */
wait_ms: number | null, 
/**
 * From Accept to the end, ms.
 */
duration_ms: number | null, 
/**
 * Messages the visitor wrote.
 */
visitor_messages: number, 
/**
 * Messages operators wrote.
 */
operator_messages: number, 
/**
 * Declines before it was taken.
 */
declines: number, 
/**
 * Voice calls in it.
 */
voice_calls: number, 
/**
 * The page it was asked from.
 */
page_url: string | null, 
/**
 * The chat name the visitor gave.
 */
visitor_name: string | null, 
/**
 * Text or voice.
 */
mode: Mode, };

export type ReportChatsPage = { 
/**
 * The chats.
 */
chats: Array<ReportChat>, 
/**
 * Pass as `after` for the next page; `null` on the last page.
 */
next_after: ChatId | null, };

export type PushDelivery = { 
/**
 * Whose phone.
 */
operator: OperatorRef, 
/**
 * `apns` or `fcm`.
 */
platform: string, 
/**
 * The device's name, when the app gave one.
 */
device_name: string | null, 
/**
 * `ring` (the request) or `clear` (it was taken or ended).
 */
kind: string, 
/**
 * When the push was queued, unix ms.
 */
queued_at: number, 
/**
 * When it was settled, unix ms (absent while still being tried).
 */
done_at: number | null, 
/**
 * How it ended: `delivered`, `unregistered`, `rejected: …`, `given up`, `cancelled`…
 */
result: string | null, 
/**
 * Each attempt, oldest first.
 */
attempts: Array<PushDeliveryAttempt>, };

export type PushDeliveryAttempt = { 
/**
 * When it started, unix ms.
 */
at: number, 
/**
 * How long the provider took to answer, ms.
 */
latency_ms: number, 
/**
 * The provider's HTTP status (0: no answer).
 */
status: number, 
/**
 * What it said.
 */
result: string, };

export type ReportTable = "chats" | "days" | "hours" | "operators";
