-- Push: operators' devices, the outbox every push is written to before it is sent, the log of
-- delivery attempts, and the short-lived tokens notification actions use.

create table push_devices (
    id bigint generated always as identity primary key,
    operator_id bigint not null references operators (id) on delete cascade,
    platform text not null,
    token text not null,
    name text,
    created_at bigint not null,
    updated_at bigint not null,
    disabled_at bigint,
    disabled_reason text
);
-- one row per token: a token moving to another operator moves its row
create unique index push_devices_token on push_devices (platform, token);
create index push_devices_operator on push_devices (operator_id);

create table push_outbox (
    id bigint generated always as identity primary key,
    device_id bigint not null references push_devices (id) on delete cascade,
    -- copied from the device so the worker claims and sends without a join
    platform text not null,
    token text not null,
    chat_id bigint not null references chats (id),
    kind text not null,
    -- the PushMessage as JSON (the action token inside is also stored hashed below)
    message text not null,
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    created_at bigint not null,
    -- set once the push is settled: delivered, unregistered, rejected or given up
    done_at bigint,
    result text
);
create index push_outbox_due on push_outbox (done_at, next_attempt_at);
create index push_outbox_chat on push_outbox (chat_id);

create table push_attempts (
    id bigint generated always as identity primary key,
    outbox_id bigint not null references push_outbox (id) on delete cascade,
    device_id bigint not null,
    chat_id bigint not null,
    kind text not null,
    at bigint not null,
    latency_ms bigint not null,
    status bigint not null,
    result text not null
);
create index push_attempts_chat on push_attempts (chat_id);
create index push_attempts_device on push_attempts (device_id);

create table push_action_tokens (
    token_hash text primary key,
    operator_id bigint not null references operators (id) on delete cascade,
    chat_id bigint not null references chats (id),
    expires_at bigint not null,
    used_at bigint
);
