//! Canned messages, shared by the whole team.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use switchboard_shared::{CannedId, CannedMessage, OperatorId};

use crate::error::Error;

fn canned(row: &AnyRow) -> Result<CannedMessage, Error> {
    Ok(CannedMessage {
        id: CannedId(row.try_get("id")?),
        title: row.try_get("title")?,
        text: row.try_get("text")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Every canned message, by title.
pub async fn list(pool: &AnyPool) -> Result<Vec<CannedMessage>, Error> {
    let rows =
        sqlx::query("select id, title, text, updated_at from canned_messages order by title, id")
            .fetch_all(pool)
            .await?;
    rows.iter().map(canned).collect()
}

/// Creates one.
pub async fn create(
    pool: &AnyPool,
    title: &str,
    text: &str,
    by: OperatorId,
    now: i64,
) -> Result<CannedMessage, Error> {
    let row = sqlx::query(
        "insert into canned_messages (title, text, updated_at, created_by) values ($1, $2, $3, $4) \
         returning id, title, text, updated_at",
    )
    .bind(title)
    .bind(text)
    .bind(now)
    .bind(by.0)
    .fetch_one(pool)
    .await?;
    canned(&row)
}

/// Changes one; `None` when it does not exist.
pub async fn update(
    pool: &AnyPool,
    id: CannedId,
    title: &str,
    text: &str,
    now: i64,
) -> Result<Option<CannedMessage>, Error> {
    let row = sqlx::query(
        "update canned_messages set title = $2, text = $3, updated_at = $4 where id = $1 \
         returning id, title, text, updated_at",
    )
    .bind(id.0)
    .bind(title)
    .bind(text)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(canned).transpose()
}

/// Deletes one; false when it did not exist.
pub async fn delete(pool: &AnyPool, id: CannedId) -> Result<bool, Error> {
    let n = sqlx::query("delete from canned_messages where id = $1")
        .bind(id.0)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n > 0)
}
