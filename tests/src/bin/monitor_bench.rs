//! Site Monitor benchmark (a measurement, not a test): N visitors on the site, each changing
//! page every 30 s on average, streamed to operators who watch the Site Monitor. Prints how far
//! behind real time the stream runs (page view sent → delta received by each operator, p50 /
//! p99 / max), the server's CPU and memory, and the ramp-up.
//!
//! The server runs as a child process (this binary again, `serve` mode: the real backend on
//! SQLite in a temp dir), so its CPU and memory are its own and the file descriptors of N
//! visitors' sockets are split between two processes. Deltas are batched every 250 ms by
//! design: "behind real time" is printed both whole and for the newest change of each frame
//! (which shows the delivery itself, without the wait for the next batch).
//!
//! `cargo run --release -p switchboard-e2e --bin monitor_bench -- [visitors] [operators] [secs]`
//! (defaults 10000 10 60)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use switchboard_core::Connection;
use switchboard_e2e::TempDir;
use switchboard_e2e::bench::{new_operator, report, spawn_server, unlimited, usage};
use switchboard_e2e::visitor::ws_url;
use switchboard_shared::{
    MonitorChange, OperatorAction, OperatorServerMsg, PROTOCOL_VERSION, Page, Settings,
    VisitorClientMsg,
};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

const MEAN_PAGE_SECS: f64 = 30.0;
const SHOP: &str = "https://shop.example.test/p/";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return switchboard_e2e::bench::serve(std::path::Path::new(&args[1]), async |_| {});
    }
    let arg = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (visitors, operators, secs) = (arg(0, 10_000), arg(1, 10), arg(2, 60));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(bench(visitors as usize, operators as usize, secs));
}

/// Microseconds since `start`, carried in page addresses so each operator can tell how old a
/// page view is when its delta arrives.
fn micros(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn page(visitor: usize, at: u64) -> Page {
    Page {
        url: format!("{SHOP}{visitor}/{at}"),
        title: Some(format!("Product {visitor}")),
    }
}

/// A small xorshift for the visitors' waits (no need for a crate).
fn next_random(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Default)]
struct Seen {
    /// Page view sent → delta received, every delta.
    all: Vec<f64>,
    /// The same for the newest change of each frame.
    newest: Vec<f64>,
}

async fn bench(visitors: usize, operators: usize, secs: u64) {
    let dir = TempDir::new("switchboard-monitor-bench");
    let (mut child, server_pid, base) = spawn_server(&[&dir.path().display().to_string()]);
    println!(
        "site monitor benchmark: {visitors} visitors (a page every {MEAN_PAGE_SECS} s on average), {operators} operators watching, {secs} s; server pid {server_pid} at {base} (SQLite)"
    );

    let admin = switchboard_e2e::bench::admin(&base).await;
    let settings = admin.settings().await.expect("settings");
    let limits = unlimited();
    admin
        .put_settings(&Settings { limits, ..settings })
        .await
        .expect("settings");

    let start = Instant::now();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let frames = Arc::new(AtomicU64::new(0));
    let mut watchers = Vec::new();
    for i in 0..operators {
        let tag = format!("watcher{i}");
        let session = new_operator(&admin, &base, &tag, &format!("Watcher {i}")).await;
        let mut conn = session.connect().await.expect("connected");
        conn.request(OperatorAction::MonitorSubscribe { last_seq: None })
            .await
            .expect("subscribed");
        let (seen, measuring, frames) = (seen.clone(), measuring.clone(), frames.clone());
        watchers.push(tokio::spawn(watch(conn, start, seen, measuring, frames)));
    }

    // Ramp up: every visitor connects and says hello, 200 at a time.
    let ramp = Instant::now();
    let gate = Arc::new(Semaphore::new(200));
    let mut tasks = Vec::with_capacity(visitors);
    let (tx, mut ready) = tokio::sync::mpsc::unbounded_channel::<()>();
    for i in 0..visitors {
        let (gate, tx, base) = (gate.clone(), tx.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.expect("the gate");
            let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(&base))
                .await
                .expect("a visitor connects");
            let hello = VisitorClientMsg::Hello {
                protocol: PROTOCOL_VERSION,
                visitor_token: None,
                page: Some(page(i, micros(start))),
                last_seq: None,
                client: None,
            };
            ws.send(Message::Text(serde_json::to_string(&hello).unwrap().into()))
                .await
                .expect("hello");
            let _welcome = ws.next().await;
            drop(permit);
            let _ = tx.send(());
            browse(ws, i, start).await;
        }));
    }
    drop(tx);
    for _ in 0..visitors {
        ready.recv().await;
    }
    let ramped = ramp.elapsed();
    println!(
        "{visitors} visitors connected in {:.1} s ({:.0}/s)",
        ramped.as_secs_f64(),
        visitors as f64 / ramped.as_secs_f64()
    );

    // Let the arrivals drain, then measure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cpu0, _) = usage(&server_pid.to_string()).unwrap_or_default();
    let wall0 = Instant::now();
    measuring.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    measuring.store(false, Ordering::SeqCst);
    let (cpu1, rss_kb) = usage(&server_pid.to_string()).unwrap_or_default();
    let wall = wall0.elapsed().as_secs_f64();
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
    println!(
        "{} page-view deltas received in {secs} s by {operators} operators ({:.0}/s per operator; {} frames)",
        seen.all.len(),
        seen.all.len() as f64 / operators.max(1) as f64 / wall,
        frames.load(Ordering::Relaxed)
    );
    report("page view → delta at an operator", seen.all);
    report("  the newest change of each frame", seen.newest);
    println!(
        "server: {:.1}% of one core, {:.0} MB resident ({:.1} KB per visitor)",
        (cpu1 - cpu0).as_secs_f64() / wall * 100.0,
        rss_kb as f64 / 1024.0,
        rss_kb as f64 / visitors.max(1) as f64
    );
    for t in tasks {
        t.abort();
    }
    for w in watchers {
        w.abort();
    }
    drop(child.stdin.take());
    let _ = child.wait();
}

/// A visitor on the site: a new page every 30 s on average (exponential waits), a ping when
/// quiet for long; what the server sends is read and dropped.
async fn browse(
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    i: usize,
    start: Instant,
) {
    let (mut tx, mut rx) = ws.split();
    let mut random = 0x9E37_79B9_7F4A_7C15_u64 ^ (i as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    loop {
        let wait = -MEAN_PAGE_SECS * (1.0 - next_random(&mut random)).ln();
        let sleep = tokio::time::sleep(Duration::from_secs_f64(wait.min(60.0)));
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                frame = rx.next() => if frame.is_none() { return },
            }
        }
        let msg = if wait >= 60.0 {
            VisitorClientMsg::Ping
        } else {
            VisitorClientMsg::PageView {
                page: page(i, micros(start)),
            }
        };
        let text = serde_json::to_string(&msg).unwrap();
        if tx.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
}

/// An operator watching the Site Monitor: each page-view delta's age when it arrives.
async fn watch(
    mut conn: Connection,
    start: Instant,
    seen: Arc<Mutex<Seen>>,
    measuring: Arc<std::sync::atomic::AtomicBool>,
    frames: Arc<AtomicU64>,
) {
    let mut last_ping = Instant::now();
    loop {
        if last_ping.elapsed() > Duration::from_secs(30) {
            let _ = conn.ping().await;
            last_ping = Instant::now();
        }
        let frame = match conn.recv().await {
            Ok(frame) => frame,
            Err(switchboard_core::CoreError::Timeout) => continue,
            Err(_) => return,
        };
        let OperatorServerMsg::MonitorDeltas { deltas } = frame else {
            continue;
        };
        if !measuring.load(Ordering::Relaxed) {
            continue;
        }
        frames.fetch_add(1, Ordering::Relaxed);
        let now = micros(start);
        let ages: Vec<f64> = deltas
            .iter()
            .filter_map(|d| match &d.change {
                MonitorChange::Page { page, .. } => page
                    .url
                    .rsplit('/')
                    .next()
                    .and_then(|at| at.parse::<u64>().ok())
                    .map(|at| now.saturating_sub(at) as f64 / 1000.0),
                _ => None,
            })
            .collect();
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(newest) = ages.iter().copied().reduce(f64::min) {
            seen.newest.push(newest);
        }
        seen.all.extend(ages);
    }
}
