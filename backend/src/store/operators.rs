//! Operators, their login sessions and their Live Help status.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
use switchboard_shared::{OperatorId, OperatorProfile};

use crate::error::Error;

/// An operator row with its password hash (never leaves the backend).
pub struct OperatorRecord {
    /// What clients may see.
    pub profile: OperatorProfile,
    /// The argon2id PHC string.
    pub password_hash: String,
}

fn profile(row: &AnyRow) -> Result<OperatorProfile, Error> {
    Ok(OperatorProfile {
        id: OperatorId(row.try_get("id")?),
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        available: row.try_get::<i64, _>("available")? != 0,
        ring_group: ring_group(row)?,
    })
}

/// A row's `ring_group` column.
pub fn ring_group(row: &AnyRow) -> Result<u32, Error> {
    Ok(u32::try_from(row.try_get::<i64, _>("ring_group")?).unwrap_or(1))
}

/// How many operators exist.
pub async fn count(pool: &AnyPool) -> Result<i64, Error> {
    Ok(sqlx::query("select count(*) from operators")
        .fetch_one(pool)
        .await?
        .try_get(0)?)
}

/// Creates an operator; a taken e-mail is a [`Error::Conflict`].
pub async fn create(
    pool: &AnyPool,
    email: &str,
    name: &str,
    password_hash: &str,
    is_admin: bool,
    ring_group: u32,
    now: i64,
) -> Result<OperatorProfile, Error> {
    let row = sqlx::query(
        "insert into operators (email, name, password_hash, is_admin, available, created_at, \
           ring_group) values ($1, $2, $3, $4, 0, $5, $6) \
         returning id, email, name, is_admin, available, ring_group",
    )
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(i64::from(is_admin))
    .bind(now)
    .bind(i64::from(ring_group))
    .fetch_one(pool)
    .await
    .map_err(|e| Error::unique_violation(e, "an operator with this e-mail exists already"))?;
    profile(&row)
}

/// Every operator, by id.
pub async fn list(pool: &AnyPool) -> Result<Vec<OperatorProfile>, Error> {
    let rows = sqlx::query(
        "select id, email, name, is_admin, available, ring_group from operators order by id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(profile).collect()
}

/// One operator.
pub async fn get(pool: &AnyPool, id: OperatorId) -> Result<Option<OperatorProfile>, Error> {
    let row = sqlx::query(
        "select id, email, name, is_admin, available, ring_group from operators where id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(profile).transpose()
}

/// One operator by e-mail, with the password hash, for login.
pub async fn by_email(pool: &AnyPool, email: &str) -> Result<Option<OperatorRecord>, Error> {
    let row = sqlx::query(
        "select id, email, name, is_admin, available, ring_group, password_hash from operators \
         where email = $1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(Some(OperatorRecord {
            profile: profile(&row)?,
            password_hash: row.try_get("password_hash")?,
        })),
        None => Ok(None),
    }
}

/// What an admin may change about an operator (`None`: unchanged).
#[derive(Default)]
pub struct Changes<'a> {
    /// Display name.
    pub name: Option<&'a str>,
    /// New password hash (ends every session).
    pub password_hash: Option<&'a str>,
    /// Settings rights.
    pub is_admin: Option<bool>,
    /// Ring group.
    pub ring_group: Option<u32>,
}

/// What an update did.
pub struct Updated {
    /// The operator afterwards.
    pub profile: OperatorProfile,
    /// Every sign-in ended (a new password, or other admin rights).
    pub signed_out: bool,
}

/// Changes name, password hash, admin rights and/or ring group. A new password or a change of
/// rights ends every session: the operator signs in again.
pub async fn update(
    pool: &AnyPool,
    id: OperatorId,
    changes: Changes<'_>,
) -> Result<Option<Updated>, Error> {
    let Changes {
        name,
        password_hash,
        is_admin,
        ring_group,
    } = changes;
    let mut tx = pool.begin().await?;
    let Some(before) = sqlx::query("select is_admin from operators where id = $1")
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let was_admin = before.try_get::<i64, _>(0)? != 0;
    let row = sqlx::query(
        "update operators set name = coalesce($2, name), \
         password_hash = coalesce($3, password_hash), is_admin = coalesce($4, is_admin), \
         ring_group = coalesce($5, ring_group) where id = $1 \
         returning id, email, name, is_admin, available, ring_group",
    )
    .bind(id.0)
    .bind(name)
    .bind(password_hash)
    .bind(is_admin.map(i64::from))
    .bind(ring_group.map(i64::from))
    .fetch_one(&mut *tx)
    .await?;
    let signed_out = password_hash.is_some() || is_admin.is_some_and(|a| a != was_admin);
    if signed_out {
        sqlx::query("delete from sessions where operator_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(Updated {
        profile: profile(&row)?,
        signed_out,
    }))
}

/// Deletes an operator and their sessions, inside the caller's transaction (the chat domain
/// detaches their chats first); false when there was none.
pub async fn delete(conn: &mut AnyConnection, id: OperatorId) -> Result<bool, Error> {
    sqlx::query("delete from sessions where operator_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("delete from operators where id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(done > 0)
}

/// Sets Live Help Available / Not Available; a change is logged in the same transaction
/// (`operator_presence`: reports add up the time each operator was available).
pub async fn set_available(
    pool: &AnyPool,
    id: OperatorId,
    available: bool,
) -> Result<Option<OperatorProfile>, Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into operator_presence (operator_id, at, available) \
         select id, $3, $2 from operators where id = $1 and available <> $2",
    )
    .bind(id.0)
    .bind(i64::from(available))
    .bind(super::now_ms())
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(
        "update operators set available = $2 where id = $1 \
         returning id, email, name, is_admin, available, ring_group",
    )
    .bind(id.0)
    .bind(i64::from(available))
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.as_ref().map(profile).transpose()
}

/// How many operators have Live Help Available.
pub async fn count_available(pool: &AnyPool) -> Result<i64, Error> {
    Ok(
        sqlx::query("select count(*) from operators where available = 1")
            .fetch_one(pool)
            .await?
            .try_get(0)?,
    )
}

/// Stores a session token hash.
pub async fn create_session(
    pool: &AnyPool,
    token_hash: &str,
    id: OperatorId,
    now: i64,
    expires_at: i64,
) -> Result<(), Error> {
    sqlx::query(
        "insert into sessions (token_hash, operator_id, created_at, expires_at) \
         values ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(id.0)
    .bind(now)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The operator behind a token hash, with the session's expiry.
pub async fn session(
    pool: &AnyPool,
    token_hash: &str,
) -> Result<Option<(OperatorProfile, i64)>, Error> {
    let row = sqlx::query(
        "select o.id, o.email, o.name, o.is_admin, o.available, o.ring_group, s.expires_at \
         from sessions s join operators o on o.id = s.operator_id where s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(Some((profile(&row)?, row.try_get("expires_at")?))),
        None => Ok(None),
    }
}

/// Ends one session.
pub async fn delete_session(pool: &AnyPool, token_hash: &str) -> Result<(), Error> {
    sqlx::query("delete from sessions where token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// How many unexpired sessions an operator has.
pub async fn session_count(pool: &AnyPool, id: OperatorId) -> Result<i64, Error> {
    Ok(
        sqlx::query("select count(*) from sessions where operator_id = $1 and expires_at > $2")
            .bind(id.0)
            .bind(crate::store::now_ms())
            .fetch_one(pool)
            .await?
            .try_get(0)?,
    )
}
