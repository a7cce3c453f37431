//! Push benchmark (a measurement, not a test): how long from a visitor's chat request to the
//! push on the wire at APNs, and how many pushes per second the backend sends.
//!
//! Runs the real backend (SQLite in a temp dir) with its real APNs client against the local
//! HTTP/2 APNs server, one available operator with one iPhone, and `requests` visitors, all
//! connected before anything is measured. Then two phases:
//!
//! 1. **Latency**: the visitors ask for a chat at a steady `rate` per second (each request sent
//!    on time, whether the earlier ones were answered or not). Prints chat request → push
//!    arriving at APNs, p50 / p99 / max.
//! 2. **Throughput**: their chats ended (and cleared), the same visitors ask again,
//!    `concurrency` at a time, each request sent as soon as the server took the one before it.
//!    Prints the pushes per second from the first push to the last, and the latency under that
//!    load.
//!
//! `cargo run --release -p switchboard-e2e --bin push_bench -- [requests] [concurrency] [rate]`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use switchboard_e2e::bench::report;
use switchboard_e2e::push_servers::{ApnsRequest, FakeApns, test_apns_settings};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{
    ChatId, ChatStatus, PushPlatform, PushSettingsUpdate, RegisterDeviceRequest,
};
use tokio::sync::Mutex;

const TOPIC: &str = "com.example.switchboard";
/// How long a phase may take before the run is called failed.
const PHASE_TIMEOUT: Duration = Duration::from_secs(300);

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let requests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let rate: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(500.0);

    let apns = FakeApns::start_for_test_key(TOPIC).await;
    let url = apns.base_url();
    let server = TestServer::start_with(Db::Sqlite, move |c| {
        c.apns_url = Some(url);
        c.log = "warn".into();
        // Every visitor connects from 127.0.0.1.
        c.max_connections_per_address = 100_000;
    })
    .await;
    let update = PushSettingsUpdate {
        apns: Some(Some(test_apns_settings(TOPIC))),
        fcm_service_account: None,
        ring_again_after_secs: None,
        next_group_after_secs: None,
    };
    server
        .admin
        .put_push_settings(&update)
        .await
        .expect("push settings");
    server.for_load(3).await;
    let mut op = server.operator("Bench").await;
    op.set_available(true).await.expect("available");
    let device = RegisterDeviceRequest {
        platform: PushPlatform::Apns,
        token: format!("{:0>64}", "b"),
        name: Some("bench iPhone".into()),
        replaces: None,
    };
    op.register_device(&device).await.expect("device");

    println!(
        "push benchmark: {requests} visitors, SQLite, local HTTP/2 APNs, one operator with one iPhone"
    );
    let opening = Instant::now();
    let base = server.base.clone();
    let visitors: Vec<Visitor> = futures_util::stream::iter(0..requests)
        .map(|_| Visitor::connect(&base))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    println!(
        "{requests} visitors connected in {:.2} s (not measured)",
        opening.elapsed().as_secs_f64()
    );

    // 1. Latency, at a steady rate.
    let every = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut tick = tokio::time::interval(every);
    let mut tasks = Vec::with_capacity(requests);
    for (i, mut v) in visitors.into_iter().enumerate() {
        tick.tick().await;
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let chat = v.start_chat(&format!("bench {i}")).await.chat_id;
            (chat, sent, v)
        }));
    }
    let mut sent = Vec::with_capacity(requests);
    let mut visitors = Vec::with_capacity(requests);
    for t in tasks {
        let (chat, at, v) = t.await.expect("visitor task");
        sent.push((chat, at));
        visitors.push(v);
    }
    let rings = first_rings(&apns.wait_for(requests, PHASE_TIMEOUT).await);
    println!("\n1. {requests} chat requests at {rate:.0}/s:");
    report("chat request -> push on the wire", latencies(&sent, &rings));

    // Between the phases: every chat ends (the visitor leaves it) and is cleared.
    futures_util::stream::iter(visitors.iter_mut())
        .map(|v| async move {
            v.end_chat().await;
            v.wait_status(ChatStatus::Missed).await;
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<()>>()
        .await;
    apns.wait_for(2 * requests, PHASE_TIMEOUT).await;
    apns.clear_requests();

    // 2. Throughput: `concurrency` visitors at a time, as fast as the server takes them.
    let queue = Arc::new(Mutex::new(visitors));
    let started = Instant::now();
    let askers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut sent = Vec::new();
                let mut done = Vec::new();
                loop {
                    let Some(mut v) = queue.lock().await.pop() else {
                        break;
                    };
                    let at = Instant::now();
                    let chat = v.start_chat("bench again").await.chat_id;
                    sent.push((chat, at));
                    // Kept connected: a visitor who leaves would be missed (and cleared).
                    done.push(v);
                }
                (sent, done)
            })
        })
        .collect();
    let mut sent = Vec::with_capacity(requests);
    let mut visitors = Vec::with_capacity(requests);
    for asker in askers {
        let (s, v) = asker.await.expect("asker");
        sent.extend(s);
        visitors.extend(v);
    }
    let received = apns.wait_for(requests, PHASE_TIMEOUT).await;
    let rings = first_rings(&received);
    let first = rings.values().min().copied().expect("pushes");
    let last = rings.values().max().copied().expect("pushes");
    let span = last
        .saturating_duration_since(first)
        .as_secs_f64()
        .max(1e-3);
    println!("\n2. {requests} chat requests, {concurrency} at a time, as fast as they are taken:");
    println!(
        "pushes per second: {:.0} ({} pushes in {:.2} s; {:.2} s from the first request)",
        rings.len() as f64 / span,
        rings.len(),
        span,
        last.saturating_duration_since(started).as_secs_f64()
    );
    report("chat request -> push on the wire", latencies(&sent, &rings));
    assert!(
        received.iter().all(|r| r.verified),
        "every push passed APNs' checks"
    );
    drop(visitors);
}

/// When the (first) ring of each chat arrived.
fn first_rings(received: &[ApnsRequest]) -> HashMap<ChatId, Instant> {
    let mut rings = HashMap::new();
    for r in received {
        assert!(r.verified, "{:?}", r.problem);
        if r.switchboard()["type"] == "ring"
            && let Some(chat) = r.switchboard()["chat_id"].as_i64()
        {
            rings.entry(ChatId(chat)).or_insert(r.received_at);
        }
    }
    rings
}

/// Chat request → ring on the wire, in milliseconds, for every request sent.
fn latencies(sent: &[(ChatId, Instant)], rings: &HashMap<ChatId, Instant>) -> Vec<f64> {
    sent.iter()
        .map(|(chat, at)| {
            let ring = rings.get(chat).expect("a ring for every request");
            ring.saturating_duration_since(*at).as_secs_f64() * 1000.0
        })
        .collect()
}
