-- Reports: what each event is, kept beside its JSON so reports count events with plain SQL on
-- both databases (written by the chat writer with the event; filled here for older events),
-- the log of Live Help Available / Not Available (time Available), and the indexes reports
-- read by.

-- the event's type (`message`, `declined`, …), a message's author kind (`visitor`,
-- `operator`, `system`), and the operator the event names (author, who accepted, declined…)
alter table chat_events add column kind text;
alter table chat_events add column author text;
alter table chat_events add column operator_id bigint;
update chat_events set
    kind = json_extract(body, '$.type'),
    author = json_extract(body, '$.author.kind'),
    operator_id = coalesce(json_extract(body, '$.operator.id'), json_extract(body, '$.author.id'));

create table operator_presence (
    id integer primary key autoincrement,
    operator_id bigint not null references operators (id) on delete cascade,
    at bigint not null,
    available integer not null
);
create index operator_presence_operator on operator_presence (operator_id, at);
-- whoever is available now has been since this migration, as far as reports know
insert into operator_presence (operator_id, at, available)
    select id, cast(strftime('%s', 'now') as integer) * 1000, 1 from operators where available = 1;

-- reports read chats by creation time, page by page (created_at, id)
create index chats_created on chats (created_at, id);
create index offline_messages_created on offline_messages (created_at);
