//! Visitors (known by a hashed token) and the offline messages they leave.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use switchboard_shared::{ChatId, OfflineMessage, OfflineMessageId, Page, PageView, VisitorId};

use crate::error::Error;

/// The visitor behind a token hash.
pub async fn by_token_hash(pool: &AnyPool, token_hash: &str) -> Result<Option<VisitorId>, Error> {
    let row = sqlx::query("select id from visitors where token_hash = $1")
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.map(VisitorId))
}

/// Creates a visitor on its first visit.
pub async fn create(
    pool: &AnyPool,
    token_hash: &str,
    page: Option<&Page>,
    now: i64,
) -> Result<VisitorId, Error> {
    let row = sqlx::query(
        "insert into visitors (token_hash, created_at, last_seen_at, visits, page_url, page_title) \
         values ($1, $2, $2, 1, $3, $4) returning id",
    )
    .bind(token_hash)
    .bind(now)
    .bind(page.map(|p| p.url.clone()))
    .bind(page.and_then(|p| p.title.clone()))
    .fetch_one(pool)
    .await?;
    Ok(VisitorId(row.try_get(0)?))
}

/// Records a returning visitor: a new visit when the last one was over 30 minutes ago.
/// Returns their visits so far.
pub async fn touch(
    pool: &AnyPool,
    id: VisitorId,
    page: Option<&Page>,
    now: i64,
) -> Result<u32, Error> {
    let row = sqlx::query(
        "update visitors set \
           visits = visits + case when last_seen_at < $2 - 1800000 then 1 else 0 end, \
           last_seen_at = $2, page_url = coalesce($3, page_url), page_title = coalesce($4, page_title) \
         where id = $1 returning visits",
    )
    .bind(id.0)
    .bind(now)
    .bind(page.map(|p| p.url.clone()))
    .bind(page.and_then(|p| p.title.clone()))
    .fetch_optional(pool)
    .await?;
    let visits: Option<i64> = row.map(|r| r.try_get(0)).transpose()?;
    Ok(visits.map_or(1, |v| u32::try_from(v).unwrap_or(u32::MAX)))
}

/// Stores a message left when nobody could answer.
pub async fn leave_message(
    conn: &mut sqlx::AnyConnection,
    visitor: Option<VisitorId>,
    chat: Option<ChatId>,
    name: &str,
    email: &str,
    text: &str,
    now: i64,
) -> Result<OfflineMessage, Error> {
    let row = sqlx::query(
        "insert into offline_messages (visitor_id, chat_id, name, email, text, created_at) \
         values ($1, $2, $3, $4, $5, $6) \
         returning id, visitor_id, chat_id, name, email, text, created_at, replied_at, replied_by",
    )
    .bind(visitor.map(|v| v.0))
    .bind(chat.map(|c| c.0))
    .bind(name)
    .bind(email)
    .bind(text)
    .bind(now)
    .fetch_one(conn)
    .await?;
    offline_message(&row)
}

/// Offline messages, newest first.
pub async fn offline_messages(pool: &AnyPool, limit: i64) -> Result<Vec<OfflineMessage>, Error> {
    let rows = sqlx::query(
        "select id, visitor_id, chat_id, name, email, text, created_at, replied_at, replied_by \
         from offline_messages order by id desc limit $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(offline_message).collect()
}

/// One offline message.
pub async fn offline_message_by_id(
    pool: &AnyPool,
    id: OfflineMessageId,
) -> Result<Option<OfflineMessage>, Error> {
    let row = sqlx::query(
        "select id, visitor_id, chat_id, name, email, text, created_at, replied_at, replied_by \
         from offline_messages where id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(offline_message).transpose()
}

fn offline_message(row: &AnyRow) -> Result<OfflineMessage, Error> {
    Ok(OfflineMessage {
        id: OfflineMessageId(row.try_get("id")?),
        visitor_id: row.try_get::<Option<i64>, _>("visitor_id")?.map(VisitorId),
        chat_id: row.try_get::<Option<i64>, _>("chat_id")?.map(ChatId),
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        text: row.try_get("text")?,
        created_at: row.try_get("created_at")?,
        replied_at: row.try_get("replied_at")?,
        replied_by: row.try_get("replied_by")?,
    })
}

/// How many pages a visitor's profile keeps (the latest).
pub const PAGES_KEPT: i64 = 200;

/// Records a page the visitor saw (skipped when it is the page they were already on).
pub async fn record_page(
    pool: &AnyPool,
    id: VisitorId,
    page: &Page,
    now: i64,
) -> Result<(), Error> {
    let stored = sqlx::query(
        "insert into page_views (visitor_id, url, title, at) select $1, $2, $3, $4 \
         where not exists (select 1 from page_views p where p.id = \
           (select max(id) from page_views where visitor_id = $1) and p.url = $2)",
    )
    .bind(id.0)
    .bind(page.url.clone())
    .bind(page.title.clone())
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    if stored > 0 {
        // A profile keeps the latest pages only, however long a visitor browses.
        sqlx::query(
            "delete from page_views where visitor_id = $1 and id <= \
             (select id from page_views where visitor_id = $1 order by id desc limit 1 offset $2)",
        )
        .bind(id.0)
        .bind(PAGES_KEPT)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// What an operator sees of a visitor, without the chats (see [`crate::store::chats`]).
pub struct VisitorRecord {
    /// First seen (unix ms).
    pub first_seen: i64,
    /// Last seen (unix ms).
    pub last_seen: i64,
    /// Visits.
    pub visits: i64,
    /// The current page.
    pub page: Option<Page>,
    /// Pages seen, newest first.
    pub pages: Vec<PageView>,
}

/// A visitor's record, or `None`.
pub async fn record(pool: &AnyPool, id: VisitorId) -> Result<Option<VisitorRecord>, Error> {
    let Some(row) = sqlx::query(
        "select created_at, last_seen_at, visits, page_url, page_title from visitors where id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let url: Option<String> = row.try_get("page_url")?;
    let title: Option<String> = row.try_get("page_title")?;
    let rows = sqlx::query(
        "select url, title, at from page_views where visitor_id = $1 order by id desc limit 50",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    let pages = rows
        .iter()
        .map(|r| {
            Ok(PageView {
                page: Page {
                    url: r.try_get("url")?,
                    title: r.try_get("title")?,
                },
                at: r.try_get("at")?,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(Some(VisitorRecord {
        first_seen: row.try_get("created_at")?,
        last_seen: row.try_get("last_seen_at")?,
        visits: row.try_get("visits")?,
        page: url.map(|url| Page { url, title }),
        pages,
    }))
}
