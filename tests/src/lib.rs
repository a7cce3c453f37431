//! Test harness: the real backend started in-process on port 0 against a fresh database
//! (a SQLite file in a temp dir, or a fresh PostgreSQL database), a Rust visitor client that
//! speaks the widget's protocol, helpers for the operator's side (a live connection, or the
//! app's engine on its cache), a small WebDriver client for headless Chromium and the
//! desktop app, and local push provider servers.
//!
//! The test files say what a user does; the waiting, polling and plumbing they share lives
//! here, once.

pub mod bench;
pub mod cluster;
pub mod media;
pub mod operator;
pub mod operator_app;
pub mod push_servers;
pub mod smtp;
pub mod visitor;
pub mod wait;
pub mod webdriver;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use switchboard_backend::{AppState, Config};
use switchboard_core::{Client, Session};
use switchboard_shared::CreateOperatorRequest;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Declares each named `async fn name(db: Db)` as two tests, `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Db::Postgres).await })*
        }
    };
}

/// Declares each named `async fn name(db: Db)` as three tests: `sqlite::name`,
/// `postgres::name` and `cluster::name` (two nodes behind a load balancer, see
/// [`Db::Cluster`]).
#[macro_export]
macro_rules! on_every_setup {
    ($($name:ident),* $(,)?) => {
        $crate::on_both_databases!($($name),*);
        mod cluster {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Db::Cluster).await })*
        }
    };
}

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A SQLite file in a fresh temp dir.
    Sqlite,
    /// A fresh database on the PostgreSQL at `SWITCHBOARD_TEST_PG` (default
    /// `postgres://postgres@127.0.0.1:5432/test`).
    Postgres,
    /// Two nodes on one fresh PostgreSQL database, joined by a NATS server of the test's own,
    /// behind a round-robin load balancer: each new connection (HTTP or WebSocket) goes to
    /// the next node, so a visitor and an operator are on different nodes as often as not.
    /// The [`TestServer`] is the first node, its `base` the load balancer's.
    Cluster,
}

/// The admin password every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// The password of operators made by [`TestServer::operator`].
pub const OPERATOR_PASSWORD: &str = "operator-password-1";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A running backend.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://addr`.
    pub base: String,
    /// The state (store, hub…) for white-box checks.
    pub state: AppState,
    /// The admin's session.
    pub admin: Session,
    /// How it was started.
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The database file and the secret key file; shared with the server that replaces this
    /// one on a restart, removed when the last of them is dropped.
    dir: Arc<TempDir>,
    /// With [`Db::Cluster`]: the other node, the load balancer, NATS; kept across restarts.
    cluster: Option<Box<cluster::Parts>>,
}

/// A fresh directory under the system temp dir, removed (with what is in it) when dropped,
/// so that a test leaves nothing behind even when it fails.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<temp>/<prefix>-<pid>_<n>_<nanos>`: unique across tests running at once and
    /// across test processes.
    pub fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port on 127.0.0.1 that nothing listens on (one the system just gave out and took back).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A name no other test (in this process or another) uses at the same time.
fn unique() -> String {
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos()
    )
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000
}

/// A new, empty database on the PostgreSQL at `SWITCHBOARD_TEST_PG` (default
/// `postgres://postgres@127.0.0.1:5432/test`): its URL.
pub async fn fresh_postgres() -> String {
    use sqlx::Connection;
    let admin_url = std::env::var("SWITCHBOARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("sb_test_{}", unique());
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is needed for this test: {e}"));
    sqlx::Executor::execute(
        &mut conn,
        sqlx::AssertSqlSafe(format!("create database {name}")),
    )
    .await
    .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin_url);
    format!("{base}/{name}")
}

impl TestServer {
    /// Starts a server on a fresh database.
    pub async fn start(db: Db) -> TestServer {
        Self::start_with(db, |_| {}).await
    }

    /// Starts a server on a fresh database, with changes to the default test config.
    pub async fn start_with(db: Db, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = TempDir::new("switchboard-test");
        let database_url = match db {
            Db::Sqlite => format!("sqlite://{}", dir.join("test.db").display()),
            Db::Postgres => fresh_postgres().await,
            Db::Cluster => return cluster::behind_a_balancer(tweak).await,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = Config {
            listen: listener.local_addr().unwrap(),
            database_url,
            admin_email: "admin@example.test".into(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            secret_key_file: dir.join("switchboard.key"),
            ..Config::default()
        };
        tweak(&mut config);
        Self::start_on(listener, config, Arc::new(dir)).await
    }

    pub(crate) async fn start_on(
        listener: tokio::net::TcpListener,
        config: Config,
        dir: Arc<TempDir>,
    ) -> TestServer {
        let addr = listener.local_addr().unwrap();
        let kept = config.clone();
        let state = switchboard_backend::init(config)
            .await
            .expect("backend starts");
        let (tx, rx) = oneshot::channel::<()>();
        let serving = state.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            switchboard_backend::serve(serving, listener, shutdown)
                .await
                .expect("serve");
        });
        let base = format!("http://{addr}");
        let admin = Client::new(&base)
            .unwrap()
            .login("admin@example.test", ADMIN_PASSWORD)
            .await
            .expect("admin login");
        TestServer {
            addr,
            base,
            state,
            admin,
            config: kept,
            shutdown: Some(tx),
            task: Some(task),
            dir,
            cluster: None,
        }
    }

    /// A client of this server.
    pub fn client(&self) -> Client {
        Client::new(&self.base).unwrap()
    }

    /// Creates an operator (through the admin API) and signs them in.
    pub async fn operator(&self, name: &str) -> Session {
        self.operator_in_group(name, None).await
    }

    /// Creates an operator in a ring group (through the admin API) and signs them in.
    pub async fn operator_in_group(&self, name: &str, ring_group: Option<u32>) -> Session {
        let email = format!("{}@example.test", name.to_lowercase().replace(' ', "."));
        let req = CreateOperatorRequest {
            email: email.clone(),
            name: name.into(),
            password: OPERATOR_PASSWORD.into(),
            is_admin: false,
            ring_group,
        };
        self.admin
            .create_operator(&req)
            .await
            .expect("create operator");
        self.client()
            .login(&email, OPERATOR_PASSWORD)
            .await
            .expect("operator login")
    }

    /// Raises every rate limit out of the way (benchmarks: thousands of visitors from one
    /// address) and sets the chat cap.
    pub async fn for_load(&self, max_chats_per_operator: u32) {
        let settings = self.admin.settings().await.expect("settings");
        let limits = bench::unlimited();
        let settings = switchboard_shared::Settings {
            max_chats_per_operator,
            limits,
            ..settings
        };
        self.admin.put_settings(&settings).await.expect("settings");
    }

    /// How many messages the database holds (chat entries with a client id, from either
    /// side).
    pub async fn message_count(&self) -> i64 {
        use sqlx::Row;
        sqlx::query("select count(*) from chat_events where client_id is not null")
            .fetch_one(&self.state.store.read)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    /// Stops the server (connections drop) and starts it again on the same address and
    /// database, as a restart in production would.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }

    /// Starts a stopped server again on the same address and database.
    pub async fn start_again(&mut self) {
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        };
        // The new server shares the directory, so dropping the old one keeps the database.
        let (cluster, base) = (self.cluster.take(), self.base.clone());
        *self = Self::start_on(listener, self.config.clone(), self.dir.clone()).await;
        if cluster.is_some() {
            self.cluster = cluster;
            self.base = base;
        }
    }

    /// Stops the server: live connections close and new ones are refused (the network is
    /// "down" for its clients) until [`TestServer::start_again`].
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // As a SIGTERM would: sessions close, background workers stop.
        switchboard_backend::stop(&self.state).await;
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        self.state.store.close().await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
