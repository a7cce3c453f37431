-- Canned messages (shared by the team) and the pages visitors see (for the visitor profile).

create table canned_messages (
    id integer primary key autoincrement,
    title text not null,
    text text not null,
    updated_at bigint not null,
    created_by bigint references operators (id) on delete set null
);

create table page_views (
    id integer primary key autoincrement,
    visitor_id bigint not null references visitors (id),
    url text not null,
    title text,
    at bigint not null
);
create index page_views_visitor on page_views (visitor_id, id);
