-- Foundation schema (PostgreSQL). Times are unix milliseconds, ids are integers: the sqlx `Any`
-- Flags are 0/1 integers: the Any driver cannot decode SQLite booleans.
-- driver carries only those, and both databases must read back the same values.

create table operators (
    id bigint generated always as identity primary key,
    email text not null unique,
    name text not null,
    password_hash text not null,
    is_admin bigint not null default 0,
    available bigint not null default 0,
    created_at bigint not null
);

-- Login tokens, stored as sha256 so a leaked database does not leak sessions.
create table sessions (
    token_hash text primary key,
    operator_id bigint not null references operators (id) on delete cascade,
    created_at bigint not null,
    expires_at bigint not null
);
create index sessions_operator on sessions (operator_id);

-- Visitors are known only by the random token their widget keeps (stored hashed).
create table visitors (
    id bigint generated always as identity primary key,
    token_hash text not null unique,
    created_at bigint not null,
    last_seen_at bigint not null,
    visits bigint not null default 1,
    page_url text,
    page_title text
);

create table chats (
    id bigint generated always as identity primary key,
    visitor_id bigint not null references visitors (id),
    visitor_name text,
    mode text not null,
    status text not null,
    page_url text,
    page_title text,
    operator_id bigint references operators (id),
    operator_name text,
    created_at bigint not null,
    accepted_at bigint,
    ended_at bigint,
    end_reason text,
    -- highest seq in chat_events; bumped in the same transaction as each insert
    last_seq bigint not null default 0
);
create index chats_status on chats (status, created_at);
create index chats_visitor on chats (visitor_id, id);
create index chats_operator on chats (operator_id, status);

-- The log of every change to a chat; (chat_id, seq) is what clients resume from.
create table chat_events (
    chat_id bigint not null references chats (id),
    seq bigint not null,
    at bigint not null,
    status text not null,
    body text not null,
    client_id text,
    primary key (chat_id, seq)
);
-- a message retried with the same client id is stored once
create unique index chat_events_client on chat_events (chat_id, client_id) where client_id is not null;

create table chat_declines (
    chat_id bigint not null references chats (id),
    operator_id bigint not null references operators (id) on delete cascade,
    at bigint not null,
    primary key (chat_id, operator_id)
);

create table offline_messages (
    id bigint generated always as identity primary key,
    visitor_id bigint references visitors (id),
    chat_id bigint references chats (id),
    name text not null,
    email text not null,
    text text not null,
    created_at bigint not null
);

-- Admin-editable settings, one JSON value per key.
create table settings (
    key text primary key,
    value text not null
);
