-- Mail: the outbox every mail (transcript, offline message, reply) is written to before it is
-- sent, and what operators have done with offline messages.

create table mail_outbox (
    id integer primary key autoincrement,
    -- transcript, offline (to the team), offline_copy (to the visitor), reply
    kind text not null,
    chat_id bigint references chats (id),
    offline_message_id bigint references offline_messages (id),
    -- 'visitor' or 'operator:<id>'
    requested_by text not null,
    -- idempotency: a retried request finds its mail here instead of sending another
    request_key text,
    to_address text not null,
    -- the team's own addresses are not rate limited
    limited bigint not null,
    -- the rendered mail (subject, text, html, reply-to, message-id) as JSON
    message text not null,
    -- the seq of the chat's transcript_mail (queued) event, once recorded
    queued_seq bigint,
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    created_at bigint not null,
    -- set once settled: sent, or failed (refused or given up), with the server's answer
    done_at bigint,
    state text not null default 'queued',
    result text
);
create unique index mail_outbox_request on mail_outbox (request_key);
create index mail_outbox_due on mail_outbox (done_at, next_attempt_at);
create index mail_outbox_address on mail_outbox (to_address, created_at);
create index mail_outbox_chat on mail_outbox (chat_id);

-- Offline messages: answered from the app; what each operator has seen.
alter table offline_messages add column replied_at bigint;
alter table offline_messages add column replied_by text;
alter table operators add column offline_read_id bigint not null default 0;
