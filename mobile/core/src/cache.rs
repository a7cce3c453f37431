//! The operator app's local cache (rusqlite): the session, the last known state (requests,
//! queue, own chats with their history), canned messages, what was read, and the outbox of
//! actions taken offline. With no network the app opens on this.
//!
//! The schema has its own versions (`pragma user_version`), migrated forward on open; a cache
//! from a newer app is refused rather than misread.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use switchboard_shared::{
    CannedId, CannedMessage, ChatEvent, ChatId, ChatSummary, OperatorProfile, Settings,
};

use crate::OperatorState;

/// The schema version this build writes.
const VERSION: i64 = 2;

const MIGRATIONS: &[&str] = &[
    // 1: everything the app shows offline.
    "create table kv (key text primary key, value text not null);
     create table chats (id integer primary key, list text not null, summary text not null);
     create table events (chat_id integer not null, seq integer not null, body text not null,
                          primary key (chat_id, seq));
     create table canned (id integer primary key, body text not null);
     create table outbox (id integer primary key autoincrement, body text not null,
                          created_at integer not null);",
    // 2: what the server refused from the outbox, drafts per chat, own chats that ended.
    "create table refused (id integer primary key, body text not null);
     create table drafts (chat_id integer primary key, text text not null);
     create table ended (id integer primary key, ended_at integer not null,
                         summary text not null);",
];

/// Cache failures.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// SQLite failed.
    #[error("cache: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value could not be read back.
    #[error("cache: bad stored value: {0}")]
    Decode(#[from] serde_json::Error),
    /// The cache was written by a newer app.
    #[error("cache: schema version {0} is newer than this app ({VERSION})")]
    TooNew(i64),
}

/// A signed-in session as kept across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    /// The server's base URL.
    pub server: String,
    /// The login token.
    pub token: String,
    /// The operator.
    pub operator: OperatorProfile,
}

/// Something the operator did that has not reached the server yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboxItem {
    /// A message (its client id makes the replay idempotent).
    Send {
        /// The chat.
        chat_id: ChatId,
        /// Idempotency key.
        client_id: String,
        /// The text.
        text: String,
        /// When it was written (unix ms).
        at: i64,
    },
    /// Accept, decline, queue, hold, resume or end.
    Act {
        /// The chat.
        chat_id: ChatId,
        /// Which action.
        action: ChatAction,
    },
    /// Live Help Available / Not Available.
    SetAvailable {
        /// Available or not.
        available: bool,
    },
    /// Create (no id) or change a canned message.
    SaveCanned {
        /// The canned message, when changing one.
        id: Option<CannedId>,
        /// Title.
        title: String,
        /// Text.
        text: String,
    },
    /// Delete a canned message.
    DeleteCanned {
        /// Which.
        id: CannedId,
    },
}

/// The chat actions an operator takes. Their names (`"accept"`, …, `"end"`) are both what the
/// UI sends (`act`) and what the outbox keeps on disk: renaming one breaks stored outboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ChatAction {
    /// Accept (or take from the queue).
    Accept,
    /// Decline.
    Decline,
    /// Queue.
    Queue,
    /// Hold.
    Hold,
    /// Resume.
    Resume,
    /// End chat.
    End,
}

impl OutboxItem {
    /// What it is, in the manual's words, for the "waiting to be sent" list.
    pub fn label(&self) -> String {
        match self {
            OutboxItem::Send { .. } => "Send message".into(),
            OutboxItem::Act { action, .. } => match action {
                ChatAction::Accept => "Accept",
                ChatAction::Decline => "Decline",
                ChatAction::Queue => "Queue",
                ChatAction::Hold => "Hold",
                ChatAction::Resume => "Resume",
                ChatAction::End => "End chat",
            }
            .into(),
            OutboxItem::SetAvailable { available: true } => "Live Help Available".into(),
            OutboxItem::SetAvailable { available: false } => "Live Help Not Available".into(),
            OutboxItem::SaveCanned { .. } => "Save canned message".into(),
            OutboxItem::DeleteCanned { .. } => "Delete canned message".into(),
        }
    }

    /// The chat it concerns.
    pub fn chat(&self) -> Option<ChatId> {
        match self {
            OutboxItem::Send { chat_id, .. } | OutboxItem::Act { chat_id, .. } => Some(*chat_id),
            _ => None,
        }
    }
}

/// An outbox item the server refused, kept with the reason until the operator dismisses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// What was refused (a message keeps its text).
    pub item: OutboxItem,
    /// The server's error code.
    pub code: String,
    /// Why, in a sentence.
    pub reason: String,
    /// The chat's visitor, when it concerns a chat.
    pub visitor: Option<String>,
    /// When it was refused (unix ms).
    pub at: i64,
}

/// The cache; every method is a short synchronous transaction.
pub struct Cache {
    conn: Mutex<Connection>,
    /// Highest event `seq` already on disk per chat, so a save writes only what is new.
    saved: Mutex<HashMap<ChatId, i64>>,
}

impl Cache {
    /// Opens (or creates) the cache file and migrates it.
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        Self::init(Connection::open(path)?)
    }

    /// A cache in memory (tests).
    pub fn in_memory() -> Result<Cache, CacheError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Cache, CacheError> {
        conn.pragma_update(None, "journal_mode", "wal")?;
        let version: i64 = conn.query_row("pragma user_version", [], |r| r.get(0))?;
        if version > VERSION {
            return Err(CacheError::TooNew(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        let saved = {
            let mut stmt = conn.prepare("select chat_id, max(seq) from events group by chat_id")?;
            stmt.query_map([], |r| Ok((ChatId(r.get(0)?), r.get::<_, i64>(1)?)))?
                .collect::<Result<HashMap<_, _>, _>>()?
        };
        Ok(Cache {
            conn: Mutex::new(conn),
            saved: Mutex::new(saved),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, CacheError>,
    ) -> Result<T, CacheError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    fn get_kv<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>, CacheError> {
        self.with(|c| {
            let v: Option<String> = c
                .query_row("select value from kv where key = ?1", [key], |r| r.get(0))
                .optional()?;
            Ok(v.map(|v| serde_json::from_str(&v)).transpose()?)
        })
    }

    fn set_kv<T: Serialize>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        let json = serde_json::to_string(value)?;
        self.with(|c| {
            c.execute(
                "insert into kv (key, value) values (?1, ?2) \
                 on conflict (key) do update set value = excluded.value",
                params![key, json],
            )?;
            Ok(())
        })
    }

    /// The kept session.
    pub fn session(&self) -> Result<Option<StoredSession>, CacheError> {
        self.get_kv("session")
    }

    /// Keeps the session.
    pub fn set_session(&self, session: &StoredSession) -> Result<(), CacheError> {
        self.set_kv("session", session)
    }

    /// Forgets the session and everything cached for it (the outbox too).
    pub fn clear(&self) -> Result<(), CacheError> {
        self.with(|c| {
            c.execute_batch(
                "delete from kv; delete from chats; delete from events; delete from canned; \
                 delete from outbox; delete from refused; delete from drafts; delete from ended;",
            )?;
            Ok(())
        })?;
        self.saved.lock().unwrap_or_else(|p| p.into_inner()).clear();
        Ok(())
    }

    /// Saves the operator state (lists replaced; history appended).
    pub fn save_state(&self, state: &OperatorState) -> Result<(), CacheError> {
        self.set_kv("operator", &state.operator)?;
        self.set_kv("settings", &state.settings)?;
        self.set_kv("last_seq", &state.last_seq.iter().collect::<Vec<_>>())?;
        let lists: Vec<(&str, &ChatSummary)> = state
            .requests
            .values()
            .map(|c| ("request", c))
            .chain(state.queue.values().map(|c| ("queue", c)))
            .chain(state.chats.values().map(|c| ("mine", c)))
            .collect();
        let mut rows = Vec::with_capacity(lists.len());
        for (list, chat) in lists {
            rows.push((chat.id.0, list, serde_json::to_string(chat)?));
        }
        // Only events newer than what is on disk: histories are append-only.
        let mut saved = self.saved.lock().unwrap_or_else(|p| p.into_inner());
        let mut events = Vec::new();
        for (chat, history) in &state.history {
            let on_disk = saved.get(chat).copied().unwrap_or(0);
            for e in history.iter().filter(|e| e.seq > on_disk) {
                events.push((e.chat_id.0, e.seq, serde_json::to_string(e)?));
            }
        }
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("delete from chats", [])?;
            for (id, list, json) in &rows {
                tx.execute(
                    "insert or replace into chats (id, list, summary) values (?1, ?2, ?3)",
                    params![id, list, json],
                )?;
            }
            for (chat, seq, json) in &events {
                tx.execute(
                    "insert or ignore into events (chat_id, seq, body) values (?1, ?2, ?3)",
                    params![chat, seq, json],
                )?;
            }
            tx.commit()?;
            Ok(())
        })?;
        for (chat, seq, _) in &events {
            let top = saved.entry(ChatId(*chat)).or_insert(0);
            *top = (*top).max(*seq);
        }
        Ok(())
    }

    /// The operator state as last saved, or `None` when nothing is cached.
    pub fn load_state(&self) -> Result<Option<OperatorState>, CacheError> {
        let Some(operator) = self.get_kv::<OperatorProfile>("operator")? else {
            return Ok(None);
        };
        let mut state = OperatorState::new(operator);
        state.settings = self.get_kv::<Option<Settings>>("settings")?.flatten();
        let last: Vec<(ChatId, i64)> = self.get_kv("last_seq")?.unwrap_or_default();
        state.last_seq = last.into_iter().collect();
        let (rows, events) = self.with(|c| {
            let mut stmt = c.prepare("select list, summary from chats order by id")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            let mut stmt = c.prepare("select body from events order by chat_id, seq")?;
            let events = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((rows, events))
        })?;
        for (list, json) in rows {
            let chat: ChatSummary = serde_json::from_str(&json)?;
            let map = match list.as_str() {
                "request" => &mut state.requests,
                "queue" => &mut state.queue,
                _ => &mut state.chats,
            };
            map.insert(chat.id, chat);
        }
        for json in events {
            let e: ChatEvent = serde_json::from_str(&json)?;
            state.history.entry(e.chat_id).or_default().push(e);
        }
        Ok(Some(state))
    }

    /// Canned messages as last synced.
    pub fn canned(&self) -> Result<Vec<CannedMessage>, CacheError> {
        self.with(|c| {
            let mut stmt = c.prepare("select body from canned")?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            let mut list: Vec<CannedMessage> = rows
                .iter()
                .map(|j| serde_json::from_str(j))
                .collect::<Result<_, _>>()?;
            list.sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
            Ok(list)
        })
    }

    /// Replaces the canned messages.
    pub fn set_canned(&self, list: &[CannedMessage]) -> Result<(), CacheError> {
        let rows: Vec<(i64, String)> = list
            .iter()
            .map(|m| Ok((m.id.0, serde_json::to_string(m)?)))
            .collect::<Result<_, serde_json::Error>>()?;
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("delete from canned", [])?;
            for (id, json) in &rows {
                tx.execute(
                    "insert into canned (id, body) values (?1, ?2)",
                    params![id, json],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// The last push token registered from this device.
    pub fn push_token(&self) -> Result<Option<String>, CacheError> {
        self.get_kv("push_token")
    }

    /// Remembers the push token registered from this device.
    pub fn set_push_token(&self, token: &str) -> Result<(), CacheError> {
        self.set_kv("push_token", &token)
    }

    /// Up to which `seq` each chat has been read.
    pub fn read_upto(&self) -> Result<Vec<(ChatId, i64)>, CacheError> {
        Ok(self.get_kv("read_upto")?.unwrap_or_default())
    }

    /// Saves what has been read.
    pub fn set_read_upto(&self, read: &[(ChatId, i64)]) -> Result<(), CacheError> {
        self.set_kv("read_upto", &read)
    }

    /// Adds an action to the outbox; returns its position.
    pub fn push_outbox(&self, item: &OutboxItem, now: i64) -> Result<i64, CacheError> {
        let json = serde_json::to_string(item)?;
        self.with(|c| {
            c.execute(
                "insert into outbox (body, created_at) values (?1, ?2)",
                params![json, now],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// The outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<(i64, OutboxItem)>, CacheError> {
        self.numbered("select id, body from outbox order by id")
    }

    /// Rows of `(id, JSON body)` from `sql`, the bodies read back.
    fn numbered<T: for<'de> Deserialize<'de>>(
        &self,
        sql: &str,
    ) -> Result<Vec<(i64, T)>, CacheError> {
        self.with(|c| {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .into_iter()
                .map(|(id, j)| Ok((id, serde_json::from_str(&j)?)))
                .collect::<Result<Vec<_>, serde_json::Error>>()?)
        })
    }

    /// Removes a sent (or refused) action.
    pub fn remove_outbox(&self, id: i64) -> Result<(), CacheError> {
        self.with(|c| {
            c.execute("delete from outbox where id = ?1", [id])?;
            Ok(())
        })
    }

    /// Moves a refused action from the outbox to the refused list, in one transaction.
    pub fn refuse_outbox(&self, id: i64, refused: &Refused) -> Result<(), CacheError> {
        let json = serde_json::to_string(refused)?;
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("delete from outbox where id = ?1", [id])?;
            tx.execute(
                "insert or replace into refused (id, body) values (?1, ?2)",
                params![id, json],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The refused actions, oldest first.
    pub fn refused(&self) -> Result<Vec<(i64, Refused)>, CacheError> {
        self.numbered("select id, body from refused order by id")
    }

    /// Forgets a refused action (dismissed, or tried again).
    pub fn remove_refused(&self, id: i64) -> Result<(), CacheError> {
        self.with(|c| {
            c.execute("delete from refused where id = ?1", [id])?;
            Ok(())
        })
    }

    /// The drafts, per chat.
    pub fn drafts(&self) -> Result<Vec<(ChatId, String)>, CacheError> {
        self.with(|c| {
            let mut stmt = c.prepare("select chat_id, text from drafts")?;
            let rows = stmt
                .query_map([], |r| Ok((ChatId(r.get(0)?), r.get::<_, String>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Keeps a chat's draft (an empty one is forgotten).
    pub fn set_draft(&self, chat: ChatId, text: &str) -> Result<(), CacheError> {
        self.with(|c| {
            if text.is_empty() {
                c.execute("delete from drafts where chat_id = ?1", [chat.0])?;
            } else {
                c.execute(
                    "insert or replace into drafts (chat_id, text) values (?1, ?2)",
                    params![chat.0, text],
                )?;
            }
            Ok(())
        })
    }

    /// Keeps ended chats for History (a chat already kept is updated).
    pub fn add_ended(&self, chats: &[ChatSummary]) -> Result<(), CacheError> {
        let rows: Vec<(i64, i64, String)> = chats
            .iter()
            .map(|ch| {
                Ok((
                    ch.id.0,
                    ch.ended_at.unwrap_or(ch.created_at),
                    serde_json::to_string(ch)?,
                ))
            })
            .collect::<Result<_, serde_json::Error>>()?;
        self.with(|c| {
            let tx = c.transaction()?;
            for (id, ended_at, json) in &rows {
                tx.execute(
                    "insert or replace into ended (id, ended_at, summary) values (?1, ?2, ?3)",
                    params![id, ended_at, json],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Ended chats kept on this device, newest first (by id, as the server pages them), only
    /// those before `before` when given.
    pub fn ended(&self, before: Option<ChatId>) -> Result<Vec<ChatSummary>, CacheError> {
        self.with(|c| {
            let mut stmt = c.prepare("select summary from ended where id < ?1 order by id desc")?;
            let rows = stmt
                .query_map([before.map_or(i64::MAX, |b| b.0)], |r| {
                    r.get::<_, String>(0)
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .iter()
                .map(|j| serde_json::from_str(j))
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// One ended chat kept for History.
    pub fn ended_chat(&self, id: ChatId) -> Result<Option<ChatSummary>, CacheError> {
        self.with(|c| {
            let json: Option<String> = c
                .query_row("select summary from ended where id = ?1", [id.0], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
        })
    }

    /// The events kept for one chat, in `seq` order.
    pub fn events(&self, chat: ChatId) -> Result<Vec<ChatEvent>, CacheError> {
        self.with(|c| {
            let mut stmt = c.prepare("select body from events where chat_id = ?1 order by seq")?;
            let rows = stmt
                .query_map([chat.0], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .iter()
                .map(|j| serde_json::from_str(j))
                .collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::{ChatEventKind, ChatStatus, Mode, OperatorId, VisitorId};

    fn profile() -> OperatorProfile {
        OperatorProfile {
            id: OperatorId(1),
            email: "o@example.test".into(),
            name: "O".into(),
            is_admin: false,
            available: true,
            ring_group: 1,
        }
    }

    fn summary(id: i64, status: ChatStatus) -> ChatSummary {
        ChatSummary {
            id: ChatId(id),
            visitor_id: VisitorId(id),
            visitor_name: Some(format!("v{id}")),
            mode: Mode::Text,
            status,
            page: None,
            operator: None,
            created_at: id,
            accepted_at: None,
            ended_at: None,
            last_seq: 1,
        }
    }

    #[test]
    fn state_round_trips() {
        let cache = Cache::in_memory().unwrap();
        assert!(cache.load_state().unwrap().is_none());
        let mut state = OperatorState::new(profile());
        state
            .requests
            .insert(ChatId(1), summary(1, ChatStatus::Waiting));
        state
            .queue
            .insert(ChatId(2), summary(2, ChatStatus::Queued));
        state
            .chats
            .insert(ChatId(3), summary(3, ChatStatus::Active));
        state.last_seq.insert(ChatId(3), 2);
        state.history.insert(
            ChatId(3),
            vec![ChatEvent {
                chat_id: ChatId(3),
                seq: 2,
                at: 5,
                status: ChatStatus::Active,
                kind: ChatEventKind::Ended {
                    reason: switchboard_shared::EndReason::Operator,
                },
            }],
        );
        cache.save_state(&state).unwrap();
        // saving twice appends nothing twice
        cache.save_state(&state).unwrap();
        assert_eq!(cache.load_state().unwrap().unwrap(), state);
    }

    #[test]
    fn outbox_keeps_order_and_survives_reopen() {
        let dir = std::env::temp_dir().join(format!("sb-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cache.db");
        let _ = std::fs::remove_file(&path);
        {
            let cache = Cache::open(&path).unwrap();
            for i in 0..3 {
                let item = OutboxItem::Send {
                    chat_id: ChatId(1),
                    client_id: format!("c{i}"),
                    text: format!("t{i}"),
                    at: i,
                };
                cache.push_outbox(&item, i).unwrap();
            }
            let first = cache.outbox().unwrap()[0].0;
            cache.remove_outbox(first).unwrap();
        }
        let cache = Cache::open(&path).unwrap();
        let texts: Vec<String> = cache
            .outbox()
            .unwrap()
            .into_iter()
            .map(|(_, i)| match i {
                OutboxItem::Send { text, .. } => text,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(texts, ["t1", "t2"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        assert!(matches!(Cache::init(conn), Err(CacheError::TooNew(_))));
    }
}
