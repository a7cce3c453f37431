//! How the database keeps what it stores. The embedded SQLite file: write-ahead log, and
//! `synchronous = FULL` on every connection, so a message acknowledged (its batch committed)
//! survives a power cut, not only a crash of the server. The chat writer's batches (one insert
//! for all their events): retries and refusals inside a batch, on both databases.

use futures_util::future::join_all;
use sqlx::Row;
use switchboard_backend::Error;
use switchboard_backend::chat::{Actor, Done};
use switchboard_backend::store::chats;
use switchboard_e2e::operator::{accepted_chat, available_operator};
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{ChatEventKind, ChatId, ErrorCode, VisitorId};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_syncs_every_commit_to_disk() {
    let server = TestServer::start(Db::Sqlite).await;
    let store = &server.state.store;
    for (pool, autocheckpoint) in [(&store.write, "0"), (&store.read, "1000")] {
        let mut conn = pool.acquire().await.unwrap();
        let pragma = async |conn: &mut sqlx::pool::PoolConnection<sqlx::Any>, name: &str| {
            let sql = format!("pragma {name}");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            match row.try_get::<i64, _>(0) {
                Ok(n) => n.to_string(),
                Err(_) => row.try_get::<String, _>(0).unwrap(),
            }
        };
        assert_eq!(pragma(&mut conn, "journal_mode").await, "wal");
        // 2 = FULL: the WAL is synced at each commit (1 = NORMAL would not survive a power cut).
        assert_eq!(pragma(&mut conn, "synchronous").await, "2");
        assert_eq!(pragma(&mut conn, "foreign_keys").await, "1");
        // The writer's commits never copy the log into the file (a background task does).
        assert_eq!(
            pragma(&mut conn, "wal_autocheckpoint").await,
            autocheckpoint
        );
    }
}

/// Many messages at once, so they meet in the writer's batches: fresh ones, a retry of a
/// message stored by an earlier batch, the same client id twice in one burst, and refusals
/// (an unknown chat, another visitor's chat). Every fresh message is stored once with the next
/// `seq`, retries get the first `seq`, refusals change nothing and fail nobody else.
async fn batches_with_retries_and_refusals(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Ada").await;
    let mut open = Vec::new();
    for name in ["Bea", "Cy", "Dee"] {
        let (visitor, chat) = accepted_chat(&server, &mut op, name).await;
        let summary = chats::get_from(&server.state.store.read, chat)
            .await
            .unwrap()
            .unwrap();
        open.push((visitor, chat, summary.visitor_id));
    }
    let (a, a_visitor) = (open[0].1, open[0].2);
    let earlier = server
        .state
        .chats
        .send(a, Actor::Visitor(a_visitor), "first".into(), "first".into())
        .await
        .unwrap()
        .seq
        .unwrap();
    let send = |chat: ChatId, visitor: VisitorId, id: String| {
        let chats = server.state.chats.clone();
        async move {
            let text = format!("text of {id}");
            chats.send(chat, Actor::Visitor(visitor), id, text).await
        }
    };
    let mut burst = Vec::new();
    for i in 0..40 {
        let (_, chat, visitor) = &open[i % 3];
        burst.push(send(*chat, *visitor, format!("m{i}")));
        if i == 20 {
            burst.push(send(a, a_visitor, "first".into()));
            burst.push(send(a, a_visitor, "twice".into()));
            burst.push(send(a, a_visitor, "twice".into()));
            burst.push(send(ChatId(999_999), a_visitor, "nowhere".into()));
            burst.push(send(open[1].1, a_visitor, "not mine".into()));
        }
    }
    let results = join_all(burst).await;
    let (fresh, rest) = (&results[..21], &results[21..]);
    assert!(fresh.iter().all(Result::is_ok), "{fresh:?}");
    assert_eq!(
        rest[0].as_ref().unwrap().seq,
        Some(earlier),
        "the retry keeps its seq"
    );
    let twice = (rest[1].as_ref().unwrap().seq, rest[2].as_ref().unwrap().seq);
    assert_eq!(
        twice.0, twice.1,
        "one client id twice in a burst: stored once"
    );
    assert_eq!(code(&rest[3]), Some(ErrorCode::NotFound));
    // Another visitor's chat is not theirs to know of: not found either.
    assert_eq!(code(&rest[4]), Some(ErrorCode::NotFound));
    assert!(rest[5..].iter().all(Result::is_ok), "{:?}", &rest[5..]);

    // 40 fresh messages, "first" and "twice": each stored once, no gap in any chat's seqs.
    assert_eq!(server.message_count().await, 42);
    for (_, chat, _) in &open {
        let events = chats::events_after(&server.state.store.read, *chat, 0, 1000)
            .await
            .unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gap");
        let stored = chats::get_from(&server.state.store.read, *chat)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.last_seq, seqs.len() as i64, "the chat row agrees");
        let texts = events
            .iter()
            .filter(|e| matches!(&e.kind, ChatEventKind::Message { text, .. } if text.contains("twice")))
            .count();
        assert_eq!(texts, usize::from(*chat == a));
    }
}

switchboard_e2e::on_both_databases!(
    batches_with_retries_and_refusals,
    every_connection_is_open_at_start
);

/// Both pools open all their connections at start (no connection set-up on the first
/// requests), and keep them.
async fn every_connection_is_open_at_start(db: Db) {
    let server = TestServer::start(db).await;
    let store = &server.state.store;
    let (read, write) = match db {
        Db::Sqlite => (8, 1),
        Db::Postgres | Db::Cluster => (16, 8),
    };
    assert_eq!((store.read.size(), store.write.size()), (read, write));
    assert_eq!(store.read.num_idle(), read as usize, "all idle, none lost");
}

fn code(result: &Result<Done, Error>) -> Option<ErrorCode> {
    match result {
        Err(Error::Client { code, .. }) => Some(*code),
        _ => None,
    }
}
