//! Idle connections benchmark (a measurement, not a test): what an idle visitor connection
//! costs the server in memory. N widgets connect, each says `hello` as a real one does (a
//! page, what the browser tells about itself), reads the `welcome`, and then stays idle (a
//! `ping` every 30 s, under the server's 90 s idle timeout). They are opened in steps (1,000,
//! 5,000, 10,000, 15,000, then N); at each step it prints the server's resident memory, what
//! one connection costs (the growth since before the first one, divided by the connections;
//! and the same for the step alone), the server's open descriptors and how long `hello` →
//! `welcome` took; at the end, the projection for 100,000 connections.
//!
//! The server runs as a child process (this binary again, `serve` mode: the real backend on
//! SQLite in a temp dir, with the server binary's allocator), so its memory is its own. Each
//! connection holds a descriptor in both processes (each its end of the loopback socket):
//! both raise their soft limit on open files to the hard one, the default N stays 500 under
//! it, and the run stops at the first connection that cannot be opened, saying why.
//!
//! `cargo run --release -p switchboard-e2e --bin conn_bench -- [connections]`
//! (default: the hard limit on open files less 500, e.g. 19,500 for 20,000)

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use switchboard_e2e::TempDir;
use switchboard_e2e::bench::{report, spawn_server, unlimited, usage};
use switchboard_e2e::visitor::ws_url;
use switchboard_shared::{ClientInfo, PROTOCOL_VERSION, Page, Settings, VisitorClientMsg};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// The server binary's allocator, so the server child's memory is what production would show
// (glibc's arenas keep more).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Where the connections stop to measure (then at N).
const STEPS: [usize; 4] = [1_000, 5_000, 10_000, 15_000];
/// Connections being opened at once.
const OPENING: usize = 200;
/// What the projection is for.
const PROJECTED: f64 = 100_000.0;
/// An idle widget pings after this long without a frame (the server closes after 90 s).
const PING_EVERY: Duration = Duration::from_secs(30);
/// How long opening one connection (TCP, upgrade, `hello` → `welcome`) may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the server is left alone before its memory is read.
const SETTLE: Duration = Duration::from_secs(3);
/// The same before the first connection: the admin's sign-in hashed a password on a blocking
/// thread, whose memory goes back to the system when the thread ends (after 10 s idle).
const FIRST_SETTLE: Duration = Duration::from_secs(15);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return switchboard_e2e::bench::serve(std::path::Path::new(&args[1]), async |_| {});
    }
    let fd_limit = switchboard_backend::serve::raise_fd_limit();
    let default = fd_limit.map_or(10_000, |l| l.saturating_sub(500).clamp(1, 100_000));
    let connections = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(default as usize);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(bench(connections, fd_limit));
}

/// One measurement: the server's memory with `open` connections.
struct Step {
    open: usize,
    rss_kb: u64,
}

async fn bench(connections: usize, fd_limit: Option<u64>) {
    let dir = TempDir::new("switchboard-conn-bench");
    let (mut child, server_pid, base) = spawn_server(&[&dir.path().display().to_string()]);
    let pid = server_pid.to_string();
    println!(
        "idle connections benchmark: up to {connections} visitors, each `hello` then idle; server pid {server_pid} at {base} (SQLite)"
    );
    println!(
        "open files: this process {}, the server {}",
        fd_limit.map_or("unknown".into(), |l| l.to_string()),
        open_files_limit(&pid).unwrap_or_else(|| "unknown".into())
    );

    // Thousands of new visitors from 127.0.0.1: the rate limits out of the way.
    let admin = switchboard_e2e::bench::admin(&base).await;
    let settings = admin.settings().await.expect("settings");
    let limits = unlimited();
    admin
        .put_settings(&Settings { limits, ..settings })
        .await
        .expect("settings");

    tokio::time::sleep(FIRST_SETTLE).await;
    let base_rss = rss(&pid);
    println!(
        "server before the first connection: {:.1} MB resident, {} descriptors open",
        base_rss as f64 / 1024.0,
        open_fds(&pid)
    );
    println!(
        "{:>11} {:>10} {:>13} {:>14} {:>8}",
        "connections", "server MB", "KB/conn (all)", "KB/conn (step)", "fds"
    );

    let url = ws_url(&base);
    let gate = std::sync::Arc::new(Semaphore::new(OPENING));
    let (opened_tx, mut opened) = mpsc::unbounded_channel::<Result<f64, String>>();
    let mut tasks = Vec::with_capacity(connections);
    let mut steps = vec![Step {
        open: 0,
        rss_kb: base_rss,
    }];
    let mut latencies = Vec::new();
    let targets = STEPS.iter().copied().filter(|&s| s < connections);
    'steps: for target in targets.chain([connections]) {
        let already = tasks.len();
        for i in already..target {
            let (url, gate, opened_tx) = (url.clone(), gate.clone(), opened_tx.clone());
            tasks.push(tokio::spawn(async move {
                let permit = gate.acquire_owned().await.expect("the gate");
                let sent = Instant::now();
                let ws = match tokio::time::timeout(OPEN_TIMEOUT, open(&url, i)).await {
                    Ok(Ok(ws)) => ws,
                    Ok(Err(e)) => return drop(opened_tx.send(Err(e))),
                    Err(_) => return drop(opened_tx.send(Err("no welcome within 20 s".into()))),
                };
                let _ = opened_tx.send(Ok(sent.elapsed().as_secs_f64() * 1000.0));
                drop(permit);
                idle(ws).await;
            }));
        }
        let mut failed = None;
        for _ in already..target {
            match opened.recv().await.expect("the visitors report") {
                Ok(ms) => latencies.push(ms),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(error) = failed {
            let open = latencies.len();
            println!(
                "stopped at {open} connections: {}; connection {} failed: {error}",
                why_not(&error, open, fd_limit, &pid),
                open + 1
            );
            if open > steps.last().map_or(0, |s| s.open) {
                tokio::time::sleep(SETTLE).await;
                let step = Step {
                    open,
                    rss_kb: rss(&pid),
                };
                print_step(&steps, &step, &pid);
                steps.push(step);
            }
            break 'steps;
        }
        tokio::time::sleep(SETTLE).await;
        let step = Step {
            open: target,
            rss_kb: rss(&pid),
        };
        print_step(&steps, &step, &pid);
        steps.push(step);
    }

    report("hello → welcome", latencies);
    if let Some(last) = steps.last().filter(|s| s.open > 0) {
        let per_kb = (last.rss_kb.saturating_sub(base_rss)) as f64 / last.open as f64;
        let projected_mb = (base_rss as f64 + per_kb * PROJECTED) / 1024.0;
        println!(
            "projected for {PROJECTED:.0} idle connections at {per_kb:.1} KB each: {projected_mb:.0} MB resident ({:.0} MB before the first)",
            base_rss as f64 / 1024.0
        );
    }
    for t in tasks {
        t.abort();
    }
    drop(child.stdin.take());
    let _ = child.wait();
}

/// Prints one step: the server's memory, per connection in all and for this step alone.
fn print_step(steps: &[Step], step: &Step, pid: &str) {
    let (first, previous) = (&steps[0], steps.last().unwrap_or(&steps[0]));
    let per = |from: &Step| {
        let grown = step.rss_kb.saturating_sub(from.rss_kb) as f64;
        grown / step.open.saturating_sub(from.open).max(1) as f64
    };
    println!(
        "{:>11} {:>10.1} {:>13.1} {:>14.1} {:>8}",
        step.open,
        step.rss_kb as f64 / 1024.0,
        per(first),
        per(previous),
        open_fds(pid)
    );
}

/// A new visitor's widget: connects, says `hello` with its page and browser, reads the reply.
async fn open(url: &str, i: usize) -> Result<Socket, String> {
    // Small client buffers: the benchmark's own memory is not what is measured, but 128 KiB a
    // socket (the default) would be gigabytes here.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| e.to_string())?;
    let hello = VisitorClientMsg::Hello {
        protocol: PROTOCOL_VERSION,
        visitor_token: None,
        page: Some(Page {
            url: format!("https://shop.example.test/p/{i}?ref=newsletter"),
            title: Some(format!("Product {i} | Example Shop")),
        }),
        last_seq: None,
        client: Some(ClientInfo {
            referrer: Some("https://www.google.com/".into()),
            language: Some("en-GB".into()),
            utc_offset_min: Some(60),
            user_agent: Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36"
                    .into(),
            ),
        }),
    };
    let text = serde_json::to_string(&hello).map_err(|e| e.to_string())?;
    ws.send(Message::Text(text.into()))
        .await
        .map_err(|e| e.to_string())?;
    match ws.next().await {
        Some(Ok(Message::Text(_))) => Ok(ws),
        Some(Ok(other)) => Err(format!("answered with {other:?}")),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("closed before the welcome".into()),
    }
}

/// An idle widget: pings when it has heard nothing for a while, reads what comes.
async fn idle(mut ws: Socket) {
    let ping = serde_json::to_string(&VisitorClientMsg::Ping).expect("a ping");
    loop {
        match tokio::time::timeout(PING_EVERY, ws.next()).await {
            Ok(Some(Ok(_))) => {}
            Ok(_) => return, // closed
            Err(_) => {
                if ws.send(Message::Text(ping.clone().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Why one more connection could not be opened: which process ran out of descriptors, when
/// one did.
fn why_not(error: &str, open: usize, fd_limit: Option<u64>, pid: &str) -> String {
    let limit = |l: Option<u64>| l.map_or("unknown".into(), |l| l.to_string());
    let server_limit = open_files_limit(pid).and_then(|l| l.parse::<u64>().ok());
    // The server takes connections up to its limit less what it keeps for itself and closes
    // the ones past it at once (the admin's client may hold a few). This process, with the
    // same limit, then runs out too, on the sockets being refused.
    let budget = switchboard_backend::serve::total_for(server_limit);
    if open + 8 >= budget {
        return format!(
            "the server is out of file descriptors for connections (limit {}, {budget} for connections, {} open)",
            limit(server_limit),
            open_fds(pid)
        );
    }
    if error.contains("os error 24") {
        return format!(
            "this process is out of file descriptors (limit {})",
            limit(fd_limit)
        );
    }
    format!(
        "not for want of descriptors (limits: this process {}, the server {})",
        limit(fd_limit),
        limit(server_limit)
    )
}

/// The server's resident memory in KiB.
fn rss(pid: &str) -> u64 {
    usage(pid).map_or(0, |(_, rss_kb)| rss_kb)
}

/// How many descriptors a process has open.
fn open_fds(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// A process's soft limit on open files, from /proc.
fn open_files_limit(pid: &str) -> Option<String> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3).map(str::to_owned)
}
