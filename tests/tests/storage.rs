//! How the embedded SQLite file keeps what it stores: write-ahead log, and `synchronous = FULL`
//! on every connection, so a message acknowledged (its batch committed) survives a power cut,
//! not only a crash of the server.

use sqlx::Row;
use switchboard_e2e::{Db, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_syncs_every_commit_to_disk() {
    let server = TestServer::start(Db::Sqlite).await;
    let store = &server.state.store;
    for pool in [&store.write, &store.read] {
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
    }
}
