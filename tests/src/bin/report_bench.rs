//! Reports benchmark (a measurement, not a test): N chats over 30 days (each requested,
//! accepted, four messages, ended: seven stored events), then the report of the 30 days, and
//! the row-per-chat CSV export of a tenth of them and of all of them, read as a spreadsheet
//! download would read it. Prints the time and rate of each, and the server's resident memory
//! before and at its peak during each export: the export streams, so the peak must not grow
//! with the number of rows (bound printed and checked: the process exits 1 past it).
//!
//! The server runs as a child process (this binary again, `serve` mode: the real backend on
//! SQLite in a temp dir, the chats written straight into its database before it listens).
//!
//! `cargo run --release -p switchboard-e2e --bin report_bench -- [chats]` (default 100000)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use switchboard_backend::AppState;
use switchboard_e2e::TempDir;
use switchboard_e2e::bench::{serve, spawn_server, usage};
use switchboard_shared::{ReportQuery, Settings};

/// The export may grow the server's memory by at most this much, whatever the row count.
const BOUND_MB: f64 = 32.0;
const DAY_MS: i64 = 86_400_000;
/// 2026-10-01T00:00:00Z: the 30 days the chats are spread over start here.
const START: i64 = 1_790_812_800_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let chats: i64 = args[2].parse().expect("a chat count");
        return serve(std::path::Path::new(&args[1]), async |state| {
            seed(state, chats).await
        });
    }
    let chats: i64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let within = runtime.block_on(bench(chats));
    std::process::exit(if within { 0 } else { 1 });
}

/// Writes `n` ended chats with their events straight into the database, a thousand per
/// transaction, as the chat writer would have stored them.
async fn seed(state: &AppState, n: i64) {
    let started = Instant::now();
    let pool = &state.store.write;
    let op: i64 = sqlx::query_scalar("select id from operators order by id limit 1")
        .fetch_one(pool)
        .await
        .expect("the admin");
    let visitor: i64 = sqlx::query_scalar(
        "insert into visitors (token_hash, created_at, last_seen_at) values ('bench', 0, 0) \
         returning id",
    )
    .fetch_one(pool)
    .await
    .expect("a visitor");
    let step = 30 * DAY_MS / n.max(1);
    let mut i = 0;
    while i < n {
        let mut tx = pool.begin().await.expect("a transaction");
        for _ in 0..1000.min(n - i) {
            let created = START + i * step;
            let (accepted, ended) = (created + 20_000 + (i % 90) * 1000, created + 600_000);
            let id: i64 = sqlx::query_scalar(
                "insert into chats (visitor_id, visitor_name, mode, status, page_url, \
                 operator_id, operator_name, created_at, accepted_at, ended_at, end_reason, \
                 last_seq) values ($1, $2, 'text', 'ended', $3, $4, 'Admin', $5, $6, $7, \
                 'operator', 7) returning id",
            )
            .bind(visitor)
            .bind(format!("Visitor {i}, \"bench\""))
            .bind(format!("https://shop.example.test/p/{}", i % 500))
            .bind(op)
            .bind(created)
            .bind(accepted)
            .bind(ended)
            .fetch_one(&mut *tx)
            .await
            .expect("a chat");
            let events = [
                ("requested", None, None),
                ("accepted", None, Some(op)),
                ("message", Some("visitor"), None),
                ("message", Some("operator"), Some(op)),
                ("message", Some("visitor"), None),
                ("message", Some("operator"), Some(op)),
                ("ended", None, None),
            ];
            for (seq, (kind, author, actor)) in events.into_iter().enumerate() {
                sqlx::query(
                    "insert into chat_events (chat_id, seq, at, status, body, kind, author, \
                     operator_id) values ($1, $2, $3, 'active', '{}', $4, $5, $6)",
                )
                .bind(id)
                .bind(seq as i64 + 1)
                .bind(created + seq as i64)
                .bind(kind)
                .bind(author)
                .bind(actor)
                .execute(&mut *tx)
                .await
                .expect("an event");
            }
            i += 1;
        }
        tx.commit().await.expect("commit");
    }
    eprintln!(
        "seeded {n} chats ({} events) in {:.1} s",
        n * 7,
        started.elapsed().as_secs_f64()
    );
}

/// The server's resident memory (MB), sampled every 10 ms while `work` runs: (before, peak).
async fn peak_rss<T>(pid: u32, work: impl Future<Output = T>) -> (T, f64, f64) {
    let rss = move || usage(&pid.to_string()).map_or(0.0, |(_, kb)| kb as f64 / 1024.0);
    let before = rss();
    let peak = Arc::new(AtomicU64::new(before.to_bits()));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let now = rss();
                if now > f64::from_bits(peak.load(Ordering::Relaxed)) {
                    peak.store(now.to_bits(), Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let out = work.await;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    (out, before, f64::from_bits(peak.load(Ordering::Relaxed)))
}

async fn bench(chats: i64) -> bool {
    let dir = TempDir::new("switchboard-report-bench");
    let seeding = Instant::now();
    let (mut child, pid, base) =
        spawn_server(&[&dir.path().display().to_string(), &chats.to_string()]);
    println!(
        "reports benchmark: {chats} chats over 30 days (7 events each), server pid {pid} at {base} (SQLite), ready in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let admin = switchboard_e2e::bench::admin(&base).await;
    let settings = admin.settings().await.expect("settings");
    admin
        .put_settings(&Settings {
            time_zone: "Europe/Paris".into(),
            ..settings
        })
        .await
        .expect("settings");
    let month = ReportQuery {
        from: Some("2026-10-01".into()),
        to: Some("2026-10-30".into()),
        ..ReportQuery::default()
    };
    let t = Instant::now();
    let report = admin.report(&month).await.expect("the report");
    println!(
        "report of 30 days (JSON)        {:>8.0} ms   requested {}  answer p50 {} ms  p90 {} ms",
        t.elapsed().as_secs_f64() * 1000.0,
        report.totals.requested,
        report.answer.p50_ms.unwrap_or(0),
        report.answer.p90_ms.unwrap_or(0)
    );
    let three_days = ReportQuery {
        from: Some("2026-10-01".into()),
        to: Some("2026-10-03".into()),
        ..ReportQuery::default()
    };
    let mut within = true;
    for (what, q) in [("3 days (a tenth)", &three_days), ("30 days (all)", &month)] {
        let url = format!(
            "{base}/api/operator/reports/export/chats?from={}&to={}&bom=true",
            q.from.as_deref().unwrap_or_default(),
            q.to.as_deref().unwrap_or_default()
        );
        let http = reqwest::Client::new();
        let t = Instant::now();
        let ((rows, bytes), before, peak) = peak_rss(pid, async {
            let mut res = http
                .get(&url)
                .bearer_auth(&admin.token)
                .send()
                .await
                .expect("the export");
            assert!(res.status().is_success(), "{}", res.status());
            let (mut rows, mut bytes) = (0u64, 0u64);
            while let Some(chunk) = res.chunk().await.expect("a chunk") {
                bytes += chunk.len() as u64;
                rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            }
            (rows.saturating_sub(1), bytes)
        })
        .await;
        let secs = t.elapsed().as_secs_f64();
        let growth = peak - before;
        within &= growth <= BOUND_MB;
        println!(
            "CSV export, {what:<16} {rows:>7} rows  {:>6.1} MB  {:>6.2} s  {:>8.0} rows/s   server RSS {before:.1} MB -> peak {peak:.1} MB (+{growth:.1} MB, bound +{BOUND_MB} MB)",
            bytes as f64 / 1e6,
            secs,
            rows as f64 / secs
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();
    println!("memory bound: {}", if within { "kept" } else { "EXCEEDED" });
    within
}
