//! The real server binary (its allocator and its logging included): argon2 runs a few at a
//! time, so memory stays flat however many wrong passwords arrive at once; idle WebSockets cost
//! a few KiB each and give it back when they close; logs written to a pipe carry no colour
//! codes, and the JSON format writes one object a line.
#![cfg(target_os = "linux")]
// Test support: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ADMIN: &str = "admin@localhost";
const PASSWORD: &str = "flood-admin-password";
/// Memory the flood may add (argon2 needs ~19 MiB per check in flight; unbounded, 64 at once
/// added ~1 GB).
const MAX_GROWTH_KIB: u64 = 150 * 1024;

/// The server process, killed when the test ends however it ends.
struct Server {
    child: Child,
    base: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    async fn start() -> Server {
        Self::start_with(&[]).await
    }

    async fn start_with(env: &[(&str, &str)]) -> Server {
        Self::spawn(env, Stdio::inherit()).await
    }

    async fn spawn(env: &[(&str, &str)], logs: Stdio) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("switchboard-flood-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("flood.db").display()),
            )
            .env("SWITCHBOARD_ADMIN_PASSWORD", PASSWORD)
            .env("SWITCHBOARD_SECRET_KEY_FILE", dir.join("flood.key"))
            .env("SWITCHBOARD_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(logs)
            .spawn()
            .expect("the server binary starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not come up");
    }

    /// The process's resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    async fn login(&self, http: &reqwest::Client, password: &str) -> reqwest::Response {
        http.post(format!("{}/api/auth/login", self.base))
            .json(&json!({"email": ADMIN, "password": password}))
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_keeps_memory_flat() {
    let server = Server::start().await;
    let http = reqwest::Client::new();
    // The admin lifts the sign-in limits, so every attempt reaches argon2.
    let signed_in: Value = server.login(&http, PASSWORD).await.json().await.unwrap();
    let token = signed_in["token"].as_str().unwrap().to_owned();
    let settings_url = format!("{}/api/admin/settings", server.base);
    let mut settings: Value = http
        .get(&settings_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["limits"]["logins_per_account_per_minute"] = json!(100_000);
    settings["limits"]["logins_per_address_per_minute"] = json!(100_000);
    let put = http
        .put(&settings_url)
        .bearer_auth(&token)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let before = server.rss_kib();
    let (mut refused, mut limited) = (0, 0);
    for _ in 0..4 {
        let flood = (0..64).map(|_| server.login(&http, "wrong-password"));
        for r in futures_util::future::join_all(flood).await {
            match r.status().as_u16() {
                401 => refused += 1,
                429 => limited += 1,
                other => panic!("a flood gets 401 or 429, not {other}"),
            }
        }
    }
    let after = server.rss_kib();
    println!(
        "RSS before {before} KiB, after 256 sign-ins {after} KiB ({refused} refused, {limited} told to wait)"
    );
    assert!(refused > 0, "some attempts were checked");
    assert!(
        after.saturating_sub(before) < MAX_GROWTH_KIB,
        "memory grew from {before} KiB to {after} KiB"
    );
    // The right password still works once the flood is over.
    assert_eq!(server.login(&http, PASSWORD).await.status(), 200);
}

/// Opens a WebSocket to the widget's endpoint and sends nothing after the upgrade.
async fn idle_socket(base: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let upgrade = format!(
        "GET /api/widget/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(upgrade.as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 101", "upgraded");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_websockets_cost_a_few_kib_and_give_it_back() {
    const SOCKETS: u64 = 400;
    let server = Server::start_with(&[("SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS", "1000")]).await;
    // Warm up: the first connections grow the runtime's pools once.
    drop(idle_socket(&server.base).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.rss_kib();
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(idle_socket(&server.base).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open = server.rss_kib();
    drop(sockets);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let closed = server.rss_kib();
    let per_socket = open.saturating_sub(before) * 1024 / SOCKETS;
    println!(
        "RSS {before} KiB, with {SOCKETS} idle WebSockets {open} KiB ({per_socket} bytes each), \
         after they closed {closed} KiB"
    );
    // 128 KiB read buffers made it ~138 KB each.
    assert!(per_socket < 48 * 1024, "{per_socket} bytes per idle socket");
    assert!(
        closed <= before + (open.saturating_sub(before)) / 2 + 1024,
        "memory given back: {before} → {open} → {closed} KiB"
    );
}

/// The log lines the server wrote to its pipe, up to a clean stop.
async fn logs_of(env: &[(&str, &str)]) -> String {
    let mut server = Server::spawn(env, Stdio::piped()).await;
    // Something worth logging: a sign-in.
    let http = reqwest::Client::new();
    let _ = server.login(&http, "wrong-password").await;
    // SIGTERM: the server stops by itself and closes its end of the pipe.
    let pid = server.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let _ = server.child.wait();
    let mut out = String::new();
    if let Some(mut pipe) = server.child.stdout.take() {
        pipe.read_to_string(&mut out).unwrap();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_a_pipe_have_no_colour_codes_and_json_is_one_object_a_line() {
    let text = logs_of(&[("SWITCHBOARD_LOG", "info")]).await;
    assert!(text.contains("listening"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escapes in a pipe: {text:?}"
    );
    let json = logs_of(&[
        ("SWITCHBOARD_LOG", "info"),
        ("SWITCHBOARD_LOG_FORMAT", "json"),
    ])
    .await;
    let lines: Vec<&str> = json.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "{json}");
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
}
