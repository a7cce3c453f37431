//! Persistence behind one type, [`Store`], over sqlx's `Any` driver: an embedded SQLite file
//! by default, PostgreSQL when the database URL says so. One code path serves both; the two
//! migration sets in `migrations/` keep the schemas equal.
//!
//! Invariants:
//! - Nothing here writes a chat: those statements are private to [`crate::chat`] (`chat/sql.rs`)
//!   and run in [`crate::chat::writer`], on the `write` pool. For SQLite that pool has one
//!   connection, so writers never fight over the file lock; reads use the `read` pool (WAL lets
//!   them run beside the writer).
//! - SQL here is static text with `$n` placeholders, valid on both databases.

pub mod canned;
pub mod chats;
pub mod mail;
pub mod operators;
pub mod push;
pub mod reports;
pub mod visitors;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

use crate::error::Error;

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Cheap-to-clone handle to the database.
#[derive(Clone)]
pub struct Store {
    /// Pool for reads (snapshots, replays, listings).
    pub read: AnyPool,
    /// Pool for writes.
    pub write: AnyPool,
    /// Which database this is.
    pub backend: Backend,
    /// Whether this node runs the sweeps now (see [`Store::sweeps_here`]).
    sweeper: Arc<AtomicBool>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Store {
    /// Connects, applies the migrations, and returns the store.
    pub async fn connect(url: &str) -> Result<Store, Error> {
        install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(Error::Config(format!(
                "database url must start with sqlite: or postgres: (got {:?})",
                url.split(':').next().unwrap_or("")
            )));
        };
        let (read_conns, write_conns) = match backend {
            Backend::Sqlite => (8, 1),
            Backend::Postgres => (16, 8),
        };
        if backend == Backend::Sqlite {
            owner_only(url)?;
        }
        let read = pool(url, backend, read_conns, false).await?;
        let write = pool(url, backend, write_conns, true).await?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&write).await?;
        let sweeper = Arc::new(AtomicBool::new(backend == Backend::Sqlite));
        match backend {
            Backend::Sqlite => drop(tokio::spawn(checkpoints(read.clone()))),
            Backend::Postgres => drop(tokio::spawn(lead(
                url.to_owned(),
                sweeper.clone(),
                write.clone(),
            ))),
        }
        Ok(Store {
            read,
            write,
            backend,
            sweeper,
        })
    }

    /// Whether this node runs the sweeps (ring timeouts, ringing again): always on SQLite (one
    /// node); on PostgreSQL, the one node of those sharing the database that holds the sweep
    /// lock now. Sweeps on another node would do the same work twice.
    pub fn sweeps_here(&self) -> bool {
        self.sweeper.load(Ordering::Relaxed)
    }

    /// How many write shards the chat writer may run: SQLite has a single writer.
    pub fn write_shards(&self) -> usize {
        match self.backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        }
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// How often the write-ahead log is copied into the SQLite file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Copies the write-ahead log into the SQLite file every [`CHECKPOINT_EVERY`], on a reader's
/// connection and without waiting for the writer or readers (`PASSIVE`): the writer's commits
/// never wait for it, and the log starts over once it is all copied. Stops with the pool.
async fn checkpoints(read: AnyPool) {
    while !read.is_closed() {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if let Err(e) = sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&read)
            .await
            && !read.is_closed()
        {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }
}

/// The PostgreSQL advisory lock held by the node that runs the sweeps.
const SWEEP_LOCK: i64 = 0x5357_4954_4348; // "SWITCH"
/// How often a node tries for the sweep lock, and the holder checks its connection.
const LEAD_EVERY: Duration = Duration::from_secs(1);

/// Holds the sweep lock when it is free, on a connection of its own (a session lock: it goes
/// with the connection, so a node that dies or loses the database frees it at once for
/// another), until the store closes.
async fn lead(url: String, here: Arc<AtomicBool>, pool: AnyPool) {
    let mut conn: Option<AnyConnection> = None;
    while !pool.is_closed() {
        if conn.is_none() {
            match AnyConnection::connect(&url).await {
                Ok(c) => conn = Some(c),
                Err(e) => tracing::warn!(error = %e, "sweep lock: connecting failed"),
            }
        }
        if let Some(c) = conn.as_mut() {
            let held = here.load(Ordering::Relaxed);
            let asked = if held {
                sqlx::query_scalar::<_, bool>("select true")
            } else {
                sqlx::query_scalar::<_, bool>("select pg_try_advisory_lock($1)").bind(SWEEP_LOCK)
            };
            match asked.fetch_one(&mut *c).await {
                Ok(now) => {
                    if now && !held {
                        tracing::info!("this node runs the sweeps");
                    }
                    here.store(now, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sweep lock: the connection failed");
                    here.store(false, Ordering::Relaxed);
                    conn = None;
                }
            }
        }
        tokio::time::sleep(LEAD_EVERY).await;
    }
    here.store(false, Ordering::Relaxed);
}

async fn pool(url: &str, backend: Backend, max: u32, writer: bool) -> Result<AnyPool, Error> {
    // Every connection is opened at start and kept (`min_connections`): the first requests
    // after a start or a quiet night do not wait for PostgreSQL's connection set-up.
    let mut opts = AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(max)
        .acquire_timeout(Duration::from_secs(10));
    if backend == Backend::Sqlite {
        opts = opts.after_connect(move |conn, _meta| {
            Box::pin(async move {
                // WAL: readers beside the writer. FULL: the WAL is synced at every commit, so
                // "stored before acknowledged" survives a power cut, not only a crash; the
                // writer commits a batch of operations at a time (group commit), so that is
                // one fsync per batch, not per message.
                conn.execute(
                    "pragma journal_mode = wal; pragma synchronous = full; \
                     pragma foreign_keys = on; pragma busy_timeout = 5000;",
                )
                .await?;
                if writer {
                    // The writer never copies the log into the database itself (a commit
                    // that did would hold every client's ack for the copy and its syncs):
                    // [`checkpoints`] does it beside it.
                    conn.execute("pragma wal_autocheckpoint = 0").await?;
                }
                Ok(())
            })
        });
    }
    let url = if backend == Backend::Sqlite && !url.contains("mode=") {
        // create the file on first start
        if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        }
    } else {
        url.to_owned()
    };
    let pool = opts.connect(&url).await?;
    let mut open = Vec::with_capacity(max as usize);
    for _ in 0..max {
        open.push(pool.acquire());
    }
    futures_util::future::try_join_all(open).await?;
    Ok(pool)
}

/// Makes the SQLite file (and its `-wal` and `-shm`, which SQLite creates with the file's
/// mode) readable by its owner only: it holds every chat. Created empty when missing, so it
/// never exists with the process's default mode.
#[cfg(unix)]
fn owner_only(url: &str) -> Result<(), Error> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    for file in [
        path.to_owned(),
        format!("{path}-wal"),
        format!("{path}-shm"),
    ] {
        match std::fs::metadata(&file) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_url: &str) -> Result<(), Error> {
    Ok(())
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Settings sections, each a JSON value under its key (see [`crate::settings`] and
/// [`crate::push::settings`]).
pub mod settings {
    use sqlx::{AnyPool, Row};

    use super::Store;
    use crate::error::Error;
    use crate::secret::Sealer;

    /// A settings section (JSON under `key`), if stored.
    pub async fn load_key<T: serde::de::DeserializeOwned>(
        pool: &AnyPool,
        key: &str,
    ) -> Result<Option<T>, Error> {
        let row = sqlx::query("select value from settings where key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?;
        match row {
            Some(row) => {
                let json: String = row.try_get(0)?;
                Ok(Some(serde_json::from_str(&json)?))
            }
            None => Ok(None),
        }
    }

    /// Stores a settings section.
    pub async fn save_key<T: serde::Serialize>(
        pool: &AnyPool,
        key: &str,
        value: &T,
    ) -> Result<(), Error> {
        let json = serde_json::to_string(value)?;
        sqlx::query(
            "insert into settings (key, value) values ($1, $2) \
             on conflict (key) do update set value = excluded.value",
        )
        .bind(key)
        .bind(json)
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Removes a settings section.
    pub async fn delete_key(pool: &AnyPool, key: &str) -> Result<(), Error> {
        sqlx::query("delete from settings where key = $1")
            .bind(key)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// A sealed settings section (its JSON encrypted under the secret key, stored as
    /// `{"sealed": "v1.…"}`), if stored. One saved in the clear (before sealing came) or
    /// under the previous key is saved again under the current one.
    pub async fn load_sealed<T: serde::de::DeserializeOwned + serde::Serialize>(
        store: &Store,
        sealer: &Sealer,
        key: &str,
        purpose: &str,
    ) -> Result<Option<T>, Error> {
        let Some(stored) = load_key::<serde_json::Value>(&store.read, key).await? else {
            return Ok(None);
        };
        let unreadable = |e: serde_json::Error| Error::Internal(format!("{purpose}: {e}"));
        let (value, save_again): (T, bool) =
            match stored.get("sealed").and_then(serde_json::Value::as_str) {
                Some(sealed) => {
                    let opened = sealer.open(purpose, sealed)?;
                    let value = serde_json::from_slice(&opened.plain).map_err(unreadable)?;
                    (value, opened.stale)
                }
                None => (serde_json::from_value(stored).map_err(unreadable)?, true),
            };
        if save_again {
            save_sealed(store, sealer, key, purpose, &value).await?;
            tracing::info!("{purpose} saved again, encrypted under the current secret key");
        }
        Ok(Some(value))
    }

    /// Stores a settings section sealed under the secret key.
    pub async fn save_sealed<T: serde::Serialize>(
        store: &Store,
        sealer: &Sealer,
        key: &str,
        purpose: &str,
        value: &T,
    ) -> Result<(), Error> {
        let json = serde_json::to_vec(value)?;
        let sealed = serde_json::json!({ "sealed": sealer.seal(purpose, &json)? });
        save_key(&store.write, key, &sealed).await
    }
}
