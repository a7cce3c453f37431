//! Push benchmark (a measurement, not a test): how long from a visitor's chat request to the
//! push arriving at APNs, and how many pushes per second the backend sends.
//!
//! Runs the real backend (SQLite in a temp dir) with its real APNs client against the local
//! HTTP/2 APNs server, one available operator with one iPhone, and N visitors asking for a
//! chat, `CONCURRENCY` at a time. Prints p50 / p99 / max latency and pushes per second.
//!
//! `cargo run --release -p switchboard-e2e --bin push_bench -- [requests] [concurrency]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_e2e::push_servers::{FakeApns, test_apns_settings};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{PushPlatform, PushSettingsUpdate, RegisterDeviceRequest};
use tokio::sync::Semaphore;

const TOPIC: &str = "com.example.switchboard";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let requests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);

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
        "push benchmark: {requests} chat requests, {concurrency} at a time, SQLite, local HTTP/2 APNs"
    );
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(requests);
    for i in 0..requests {
        let gate = gate.clone();
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore");
            let mut v = Visitor::connect(&base).await;
            let sent = Instant::now();
            let chat = v.start_chat(&format!("bench {i}")).await.chat_id;
            // Keep the visitor connected: a visitor who leaves would be missed (and cleared).
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
    let received = apns.wait_for(requests, Duration::from_secs(300)).await;
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = Vec::with_capacity(requests);
    for (chat, at) in &sent {
        let push = received
            .iter()
            .find(|r| r.switchboard()["chat_id"] == chat.0 && r.switchboard()["type"] == "ring")
            .expect("a ring for every request");
        assert!(push.verified, "{:?}", push.problem);
        latencies.push(push.received_at.saturating_duration_since(*at));
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let first = received
        .iter()
        .map(|r| r.received_at)
        .min()
        .expect("pushes");
    let last = received
        .iter()
        .map(|r| r.received_at)
        .max()
        .expect("pushes");
    let span = last
        .saturating_duration_since(first)
        .as_secs_f64()
        .max(1e-3);
    println!("chat request -> push received by APNs:");
    println!("  p50 {:>8.1} ms", pct(0.50).as_secs_f64() * 1000.0);
    println!("  p99 {:>8.1} ms", pct(0.99).as_secs_f64() * 1000.0);
    println!(
        "  max {:>8.1} ms",
        latencies.last().expect("latencies").as_secs_f64() * 1000.0
    );
    println!(
        "pushes per second: {:.0} ({} pushes in {:.2} s)",
        received.len() as f64 / span,
        received.len(),
        span
    );
    println!("whole run: {:.2} s", elapsed.as_secs_f64());
    drop(visitors);
}
