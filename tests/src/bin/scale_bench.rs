//! Scale benchmark (a measurement, not a test): the latency goal of issue 14, measured side by
//! side with NATS in one run. `chats` visitor ↔ operator chats (default 1,000), the visitors
//! writing `rate` messages per second in all (default 2,000: each visitor at an even pace, the
//! visitors spread over the period), for `secs` seconds after a warm-up. Printed for each:
//! visitor → operator one-way latency (p50, p99, max), the server's CPU, its resident memory
//! and its peak.
//!
//! - **Switchboard**: the real backend (SQLite in a temp dir, its server binary's allocator) as
//!   a child process; every message is stored (its batch committed, synced to disk) before it
//!   is acknowledged and relayed. Operators use the app's engine (`switchboard-core`), visitors
//!   the widget's protocol.
//! - **NATS**: a test-local `nats-server` on a free port relaying the same frames (one
//!   connection per visitor publishing to its chat's subject, one per operator subscribed to
//!   its chats' subjects). NATS stores nothing.
//!
//! With two cores or more, both servers run on core 0 and this load generator on core 1.
//! Exits 1 when a message is lost or the latency goal (Switchboard's p99 within twice NATS's)
//! is missed.
//!
//! Also printed: the disk's own sync time where the SQLite database lives (a 4 KiB write made
//! durable, 2,000 times): each commit waits for at least one, NATS for none.
//!
//! Then the throughput: the first 200 visitors each send their next message as soon as the last
//! is acknowledged, for `secs`: messages stored and acknowledged per second, the ack latency.
//!
//! `cargo run --release -p switchboard-e2e --bin scale_bench -- [chats] [rate] [secs] [--postgres]
//! [--cluster]` (defaults 1000 2000 10; `--postgres`: a fresh database on `SWITCHBOARD_TEST_PG`;
//! `--cluster`: two nodes on that PostgreSQL joined by a test-local NATS, both on the server
//! core, the visitors on one node and the operators on the other, so every message crosses
//! the bus; CPU and memory are the two nodes' together)

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use switchboard_e2e::TempDir;
use switchboard_e2e::bench::{
    cores, disk_sync_ms, new_operator, percentile, pin_command, pin_self, spawn_server_on,
    unlimited, usage,
};
use switchboard_e2e::visitor::ws_url;
use switchboard_shared::{
    Author, ChatEventKind, ChatId, Mode, OperatorServerMsg, PROTOCOL_VERSION, Settings,
    VisitorClientMsg, VisitorServerMsg,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Chats each operator leads.
const CHATS_PER_OPERATOR: usize = 50;
/// Before measuring: connections settle, batches reach their steady size.
const WARM_UP: Duration = Duration::from_secs(2);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let dir = std::path::Path::new(&args[1]);
        return switchboard_e2e::bench::serve_on(
            dir,
            args.get(2).map(String::as_str),
            args.get(3).map(String::as_str),
            async |_| {},
        );
    }
    let cluster = args.iter().any(|a| a == "--cluster");
    let postgres = cluster || args.iter().any(|a| a == "--postgres");
    let args: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let arg = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (chats, rate, secs) = (arg(0, 1000) as usize, arg(1, 2000), arg(2, 10));
    let pinned = cores() >= 2 && pin_self(1);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let ok = runtime.block_on(bench(
        chats,
        rate,
        Duration::from_secs(secs),
        pinned,
        postgres,
        cluster,
    ));
    std::process::exit(if ok { 0 } else { 1 });
}

/// What one run measured.
struct Run {
    /// One-way latencies of the measured window.
    latencies_ms: Vec<f64>,
    /// Messages sent over the whole run.
    sent: u64,
    /// Of them, received by an operator (and, on Switchboard, acknowledged to the visitor).
    received: u64,
    cpu_percent: f64,
    rss_mb: f64,
    peak_mb: f64,
    /// Switchboard as fast as it goes.
    flat_out: Option<FlatOut>,
}

/// The closed-loop run: each of `FLAT_OUT_CHATS` visitors sends its next message as soon as
/// the last one is acknowledged.
struct FlatOut {
    chats: usize,
    messages: u64,
    secs: f64,
    ack_ms: Vec<f64>,
    cpu_percent: f64,
}

/// Chats in the closed-loop run (each has one message in flight).
const FLAT_OUT_CHATS: usize = 200;

/// As fast as it goes: the first [`FLAT_OUT_CHATS`] visitors each send their next message as
/// soon as the last is acknowledged, for `secs`. Messages stored and acknowledged per second,
/// the ack latency, the server's CPU.
async fn flat_out(
    pids: &[u32],
    sinks: Vec<Option<futures_util::stream::SplitSink<Ws, Message>>>,
    mut acks: Vec<tokio::sync::mpsc::UnboundedReceiver<()>>,
    start: Instant,
    secs: Duration,
) -> FlatOut {
    let (cpu0, _) = usage_of(pids);
    let t0 = Instant::now();
    let stop = t0 + secs;
    let mut tasks = Vec::new();
    for (i, (sink, mut acks)) in sinks
        .into_iter()
        .zip(acks.drain(..))
        .enumerate()
        .take(FLAT_OUT_CHATS)
    {
        let Some(mut sink) = sink else { continue };
        while acks.try_recv().is_ok() {}
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut n = 1_000_000;
            while Instant::now() < stop {
                let t = Instant::now();
                let msg = VisitorClientMsg::Send {
                    client_id: format!("{i}-{n}"),
                    text: text(start, i, n),
                };
                if sink.send(frame(&msg)).await.is_err() || acks.recv().await.is_none() {
                    break;
                }
                took.push(t.elapsed().as_secs_f64() * 1000.0);
                n += 1;
            }
            took
        }));
    }
    let chats = tasks.len();
    let mut ack_ms = Vec::new();
    for t in tasks {
        ack_ms.extend(t.await.unwrap_or_default());
    }
    let secs = t0.elapsed().as_secs_f64();
    let (cpu1, _) = usage_of(pids);
    FlatOut {
        chats,
        messages: ack_ms.len() as u64,
        secs,
        ack_ms,
        cpu_percent: (cpu1 - cpu0).as_secs_f64() / secs * 100.0,
    }
}

/// The messages of the measured window, as the operators receive them.
#[derive(Default)]
struct Seen {
    measuring: AtomicBool,
    latencies_ms: Mutex<Vec<f64>>,
    /// Every message received, measured or not.
    received: AtomicU64,
}

impl Seen {
    /// A message carrying `sent_us` (microseconds since `start`) reached an operator.
    fn arrived(&self, start: Instant, sent_us: u64) {
        self.received.fetch_add(1, Ordering::Relaxed);
        if self.measuring.load(Ordering::Relaxed) {
            let ms = (micros(start).saturating_sub(sent_us)) as f64 / 1000.0;
            self.latencies_ms
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(ms);
        }
    }

    /// Waits (up to 10 s) until `sent` messages have arrived; how many did.
    async fn all_in(&self, sent: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.received.load(Ordering::SeqCst) < sent && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received.load(Ordering::SeqCst)
    }

    fn take(&self) -> Vec<f64> {
        std::mem::take(
            &mut *self
                .latencies_ms
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

async fn bench(
    chats: usize,
    rate: u64,
    secs: Duration,
    pinned: bool,
    postgres: bool,
    cluster: bool,
) -> bool {
    println!(
        "scale benchmark: {chats} chats, {rate} messages/s in all, {} s measured after {} s warm-up; {}",
        secs.as_secs(),
        WARM_UP.as_secs(),
        match pinned {
            true => "servers on core 0, load generator on core 1",
            false => "not pinned (fewer than 2 cores)",
        }
    );
    // The disk's own sync time, where the SQLite database goes: the floor under every commit.
    let disk_sync = match postgres {
        true => None,
        false => disk_sync_ms(TempDir::new("switchboard-disk-probe").path(), 2000).ok(),
    };
    let server_cpu = pinned.then_some(0);
    let switchboard = switchboard(chats, rate, secs, server_cpu, postgres, cluster).await;
    let nats = nats(chats, rate, secs, server_cpu).await;

    println!();
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9}",
        format!("at {rate} msg/s, {chats} chats"),
        "p50 ms",
        "p99 ms",
        "max ms",
        "server CPU",
        "RSS MB",
        "peak MB"
    );
    let mut p99 = Vec::new();
    for (name, run) in [
        (
            match (cluster, postgres) {
                (true, _) => "Switchboard (2 nodes, NATS)",
                (false, true) => "Switchboard (PostgreSQL)",
                (false, false) => "Switchboard (SQLite, FULL)",
            },
            &switchboard,
        ),
        ("NATS (relay only)", &nats),
    ] {
        let Some(run) = run else {
            println!("{name:<28} (did not run)");
            continue;
        };
        let mut l = run.latencies_ms.clone();
        l.sort_by(f64::total_cmp);
        println!(
            "{name:<28} {:>9.2} {:>9.2} {:>9.1} {:>9.0}% {:>9.1} {:>9.1}   ({} sent, {} received, {} measured)",
            percentile(&l, 50.0),
            percentile(&l, 99.0),
            l.last().copied().unwrap_or(f64::NAN),
            run.cpu_percent,
            run.rss_mb,
            run.peak_mb,
            run.sent,
            run.received,
            l.len()
        );
        p99.push(percentile(&l, 99.0));
    }
    if let Some(Run {
        flat_out: Some(f), ..
    }) = &switchboard
    {
        let mut l = f.ack_ms.clone();
        l.sort_by(f64::total_cmp);
        let rate = f.messages as f64 / f.secs;
        println!(
            "Switchboard as fast as it goes ({} chats, each visitor's next message on its ack): {rate:.0} messages/s stored and acknowledged, ack p50 {:.1} ms, p99 {:.1} ms, server CPU {:.0}% (goal: {} /s with p99 < 50 ms)",
            f.chats,
            percentile(&l, 50.0),
            percentile(&l, 99.0),
            f.cpu_percent,
            if postgres { "10,000" } else { "20,000" }
        );
    }
    if let Some(l) = &disk_sync {
        println!(
            "The disk under the database: a 4 KiB write made durable (fdatasync) p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; every commit waits for one, NATS for none",
            percentile(l, 50.0),
            percentile(l, 99.0),
            l.last().copied().unwrap_or(f64::NAN)
        );
    }
    let mut ok = true;
    if let Some(run) = &switchboard
        && run.received < run.sent
    {
        println!(
            "LOST: {} Switchboard messages never reached an operator or were never acknowledged",
            run.sent - run.received
        );
        ok = false;
    }
    if let [ours, theirs] = p99[..] {
        let ratio = ours / theirs;
        println!(
            "Switchboard's p99 is {ratio:.1}× NATS's (goal: at most 2×): {}",
            if ratio <= 2.0 { "met" } else { "NOT met" }
        );
        ok &= ratio <= 2.0;
    }
    ok
}

/// Microseconds since `start`.
fn micros(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The text of a visitor's message: when it was sent, then some words.
fn text(start: Instant, visitor: usize, n: u64) -> String {
    format!("{} message {n} from visitor {visitor}", micros(start))
}

/// The send time a message text carries.
fn sent_at(text: &str) -> Option<u64> {
    text.split(' ').next()?.parse().ok()
}

/// Each visitor's pace: one message every `chats / rate` seconds, the visitors spread evenly
/// over that period, until `stop`.
struct Pace {
    tick: tokio::time::Interval,
    stop: Instant,
    n: u64,
}

impl Pace {
    fn new(visitor: usize, chats: usize, rate: u64, stop: Instant) -> Pace {
        let period = Duration::from_secs_f64(chats as f64 / rate as f64);
        let offset = period.mul_f64(visitor as f64 / chats as f64);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        Pace { tick, stop, n: 0 }
    }

    /// Waits for the next message's turn: its number, or `None` once the run is over.
    async fn next(&mut self) -> Option<u64> {
        self.tick.tick().await;
        if Instant::now() >= self.stop {
            return None;
        }
        self.n += 1;
        Some(self.n - 1)
    }
}

/// CPU time and resident memory (KB) of the processes `pids`, together.
fn usage_of(pids: &[u32]) -> (Duration, u64) {
    pids.iter()
        .filter_map(|pid| usage(&pid.to_string()))
        .fold((Duration::ZERO, 0), |(cpu, rss), (c, r)| (cpu + c, rss + r))
}

/// Measures the window: CPU and memory of `pids` across it, the latencies seen in it.
async fn window(pids: &[u32], seen: &Seen, secs: Duration) -> (f64, f64, Vec<f64>) {
    tokio::time::sleep(WARM_UP).await;
    let (cpu0, _) = usage_of(pids);
    let t0 = Instant::now();
    seen.measuring.store(true, Ordering::SeqCst);
    tokio::time::sleep(secs).await;
    seen.measuring.store(false, Ordering::SeqCst);
    let (cpu1, rss_kb) = usage_of(pids);
    let cpu = (cpu1 - cpu0).as_secs_f64() / t0.elapsed().as_secs_f64() * 100.0;
    (cpu, rss_kb as f64 / 1024.0, seen.take())
}

/// The peak resident memory of a process (VmHWM), in MB.
fn peak_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

fn frame(msg: &VisitorClientMsg) -> Message {
    Message::Text(serde_json::to_string(msg).expect("a frame").into())
}

/// Reads frames until one satisfies `pred`.
async fn read_until(ws: &mut Ws, pred: impl Fn(&VisitorServerMsg) -> bool) -> VisitorServerMsg {
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m
            && let Ok(msg) = serde_json::from_str::<VisitorServerMsg>(&t)
            && pred(&msg)
        {
            return msg;
        }
    }
    panic!("the server closed a visitor's connection");
}

/// A new visitor asks for a text chat: its socket and the chat.
async fn visitor(base: &str, i: usize) -> (Ws, ChatId) {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(base))
        .await
        .expect("a visitor connects");
    let hello = VisitorClientMsg::Hello {
        protocol: PROTOCOL_VERSION,
        visitor_token: None,
        page: None,
        last_seq: None,
        client: None,
    };
    ws.send(frame(&hello)).await.expect("hello");
    read_until(&mut ws, |m| matches!(m, VisitorServerMsg::Welcome { .. })).await;
    let start = VisitorClientMsg::StartChat {
        name: Some(format!("Visitor {i}")),
        mode: Mode::Text,
    };
    ws.send(frame(&start)).await.expect("start chat");
    match read_until(&mut ws, |m| matches!(m, VisitorServerMsg::Event { event } if matches!(event.kind, ChatEventKind::Requested { .. }))).await {
        VisitorServerMsg::Event { event } => (ws, event.chat_id),
        _ => unreachable!(),
    }
}

async fn switchboard(
    chats: usize,
    rate: u64,
    secs: Duration,
    cpu: Option<usize>,
    postgres: bool,
    cluster: bool,
) -> Option<Run> {
    let dir = TempDir::new("switchboard-scale-bench");
    let mut args = vec![dir.path().display().to_string()];
    if postgres {
        // PostgreSQL runs where the system puts it (not on the server's core).
        args.push(switchboard_e2e::fresh_postgres().await);
    }
    // With --cluster: NATS, also where the system puts it, and a second node.
    let nats = match cluster {
        true => Some(switchboard_e2e::cluster::Nats::start().await),
        false => None,
    };
    if let Some(nats) = &nats {
        args.push(nats.url());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut child, pid, base) = spawn_server_on(cpu, &args);
    let mut pids = vec![pid];
    // The visitors are on the first node, the operators on the second (the same one
    // without --cluster).
    let (mut second, operators_base) = match cluster {
        true => {
            let (child, pid, base) = spawn_server_on(cpu, &args);
            pids.push(pid);
            (Some(child), base)
        }
        false => (None, base.clone()),
    };
    let admin = switchboard_e2e::bench::admin(&base).await;
    let settings = admin.settings().await.expect("settings");
    admin
        .put_settings(&Settings {
            limits: unlimited(),
            max_chats_per_operator: CHATS_PER_OPERATOR as u32,
            ..settings
        })
        .await
        .expect("settings");

    let operators = chats.div_ceil(CHATS_PER_OPERATOR);
    let mut conns = Vec::with_capacity(operators);
    for i in 0..operators {
        let session = new_operator(
            &admin,
            &operators_base,
            &format!("bench{i}"),
            &format!("Bench {i}"),
        )
        .await;
        let mut conn = session.connect().await.expect("connected");
        conn.set_available(true).await.expect("available");
        conns.push(conn);
    }
    let setup = Instant::now();
    let mut sockets = Vec::with_capacity(chats);
    for i in 0..chats {
        let (ws, chat) = visitor(&base, i).await;
        conns[i / CHATS_PER_OPERATOR]
            .accept(chat)
            .await
            .expect("accepted");
        sockets.push(ws);
    }
    println!(
        "Switchboard: {chats} chats opened and accepted by {operators} operators in {:.1} s (server pids {pids:?})",
        setup.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    let seen = Arc::new(Seen::default());
    let readers: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Ok(msg) = conn.recv().await {
                    if let OperatorServerMsg::Event { event, .. } = msg
                        && let ChatEventKind::Message {
                            author: Author::Visitor,
                            text,
                            ..
                        } = &event.kind
                        && let Some(at) = sent_at(text)
                    {
                        seen.arrived(start, at);
                    }
                }
            })
        })
        .collect();
    let stop = Instant::now() + WARM_UP + secs;
    let sent = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::with_capacity(chats);
    let mut acks = Vec::with_capacity(chats);
    for (i, ws) in sockets.into_iter().enumerate() {
        let (mut sink, mut stream) = ws.split();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        acks.push(rx);
        let acked = acked.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = stream.next().await {
                if let Message::Text(t) = m
                    && t.starts_with("{\"type\":\"ack\"")
                {
                    acked.fetch_add(1, Ordering::Relaxed);
                    let _ = tx.send(());
                }
            }
        });
        let sent = sent.clone();
        writers.push(tokio::spawn(async move {
            let mut pace = Pace::new(i, chats, rate, stop);
            while let Some(n) = pace.next().await {
                let msg = VisitorClientMsg::Send {
                    client_id: format!("{i}-{n}"),
                    text: text(start, i, n),
                };
                sent.fetch_add(1, Ordering::Relaxed);
                if sink.send(frame(&msg)).await.is_err() {
                    return None;
                }
            }
            Some(sink)
        }));
    }
    let (cpu_percent, rss_mb, latencies_ms) = window(&pids, &seen, secs).await;
    let mut sinks = Vec::with_capacity(chats);
    for w in writers {
        sinks.push(w.await.ok().flatten());
    }
    let sent_paced = sent.load(Ordering::SeqCst);
    let received = seen.all_in(sent_paced).await;
    let acked_paced = acked.load(Ordering::SeqCst);
    if acked_paced < sent_paced {
        println!("Switchboard: only {acked_paced} of {sent_paced} messages acknowledged");
    }
    let peak_paced: f64 = pids.iter().map(|p| peak_mb(*p)).sum();
    let flat_out = flat_out(&pids, sinks, acks, start, secs).await;
    for r in readers {
        r.abort();
    }
    for child in std::iter::once(&mut child).chain(second.as_mut()) {
        drop(child.stdin.take());
        let _ = child.wait();
    }
    Some(Run {
        latencies_ms,
        sent: sent_paced,
        received: received.min(acked_paced),
        cpu_percent,
        rss_mb,
        peak_mb: peak_paced,
        flat_out: Some(flat_out),
    })
}

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A NATS client connection (the protocol's text commands; no client crate needed).
async fn nats_connect(port: u16) -> TcpStream {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("nats");
    tcp.set_nodelay(true).expect("nodelay");
    tcp.write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
        .await
        .expect("connect");
    tcp
}

async fn nats(chats: usize, rate: u64, secs: Duration, cpu: Option<usize>) -> Option<Run> {
    let port = free_port();
    let mut command = Command::new("nats-server");
    command
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(cpu) = cpu {
        pin_command(&mut command, cpu);
    }
    let Ok(mut child) = command.spawn() else {
        println!("NATS: nats-server is not installed (apt install nats-server); skipped");
        return None;
    };
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    let seen = Arc::new(Seen::default());
    let operators = chats.div_ceil(CHATS_PER_OPERATOR);
    let mut readers = Vec::new();
    for o in 0..operators {
        let mut tcp = nats_connect(port).await;
        let mut subs = String::new();
        for chat in o * CHATS_PER_OPERATOR..((o + 1) * CHATS_PER_OPERATOR).min(chats) {
            subs.push_str(&format!("SUB chat.{chat} {chat}\r\n"));
        }
        subs.push_str("PING\r\n");
        tcp.write_all(subs.as_bytes()).await.expect("subscribe");
        let (read, mut write) = tcp.into_split();
        let mut read = BufReader::new(read);
        // The subscriptions are in place once the PONG comes back.
        let mut line = String::new();
        while read.read_line(&mut line).await.expect("nats reply") > 0 && !line.starts_with("PONG")
        {
            line.clear();
        }
        let seen = seen.clone();
        readers.push(tokio::spawn(async move {
            let mut line = String::new();
            let mut payload = Vec::new();
            loop {
                line.clear();
                if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line.starts_with("PING") {
                    let _ = write.write_all(b"PONG\r\n").await;
                    continue;
                }
                let Some(len) = line
                    .strip_prefix("MSG ")
                    .and_then(|m| m.split_whitespace().last())
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                payload.resize(len + 2, 0);
                if read.read_exact(&mut payload).await.is_err() {
                    return;
                }
                // The operator reads the frame as it would Switchboard's.
                if let Ok(VisitorClientMsg::Send { text, .. }) =
                    serde_json::from_slice(&payload[..len])
                    && let Some(at) = sent_at(&text)
                {
                    seen.arrived(start, at);
                }
            }
        }));
    }
    let stop = Instant::now() + WARM_UP + secs;
    let sent = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::with_capacity(chats);
    for i in 0..chats {
        let mut tcp = nats_connect(port).await;
        let sent = sent.clone();
        writers.push(tokio::spawn(async move {
            let mut pace = Pace::new(i, chats, rate, stop);
            while let Some(n) = pace.next().await {
                let msg = VisitorClientMsg::Send {
                    client_id: format!("{i}-{n}"),
                    text: text(start, i, n),
                };
                let body = serde_json::to_string(&msg).expect("a frame");
                let out = format!("PUB chat.{i} {}\r\n{body}\r\n", body.len());
                sent.fetch_add(1, Ordering::Relaxed);
                if tcp.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
            }
        }));
    }
    println!(
        "NATS: {chats} publishers and {operators} subscribers connected (nats-server pid {pid})"
    );
    let (cpu_percent, rss_mb, latencies_ms) = window(&[pid], &seen, secs).await;
    for w in writers {
        let _ = w.await;
    }
    let sent = sent.load(Ordering::SeqCst);
    let received = seen.all_in(sent).await;
    let peak_mb = peak_mb(pid);
    for r in readers {
        r.abort();
    }
    let _ = child.kill();
    let _ = child.wait();
    Some(Run {
        latencies_ms,
        sent,
        received,
        cpu_percent,
        rss_mb,
        peak_mb,
        flat_out: None,
    })
}
