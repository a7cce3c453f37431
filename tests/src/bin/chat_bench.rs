//! Chat load benchmark (a measurement, not a test): how many visitor messages per second the
//! backend stores and acknowledges, and how long an acknowledgement takes, with many chats at
//! once. A first figure for the "20,000 stored messages/s on one 2-core node" design target.
//!
//! The real backend (SQLite in a temp dir, or PostgreSQL with `--postgres`) in this process;
//! `chats` visitors each in an accepted chat, each sending `messages` messages one after the
//! other (the next after the previous ack), all chats at once. Every message is stored before
//! its ack; the run checks the count in the database at the end.
//!
//! It first measures, on one quiet chat, how long a message takes from the operator to the
//! visitor and back (sockets without `TCP_NODELAY` showed ~40 ms here: Nagle's algorithm
//! meeting delayed ACKs).
//!
//! `cargo run --release -p switchboard-e2e --bin chat_bench -- [chats] [messages] [--postgres]`

use std::time::{Duration, Instant};

use switchboard_core::Connection;
use switchboard_e2e::operator::{accepted_chat, available_operator, wait_message};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{ChatId, OperatorServerMsg};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let postgres = args.iter().any(|a| a == "--postgres");
    let nums: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let chats = nums.first().copied().unwrap_or(200);
    let messages = nums.get(1).copied().unwrap_or(50);
    let db = if postgres { Db::Postgres } else { Db::Sqlite };

    let server = TestServer::start_with(db, |c| {
        c.log = "warn".into();
        // Every visitor connects from 127.0.0.1.
        c.max_connections_per_address = 100_000;
    })
    .await;
    server.for_load(50).await;
    // Enough operators to take every chat.
    let operators = chats.div_ceil(50);
    let mut conns = Vec::new();
    for i in 0..operators {
        conns.push(available_operator(&server, &format!("Bench {i}")).await);
    }
    let mut visitors = Vec::with_capacity(chats);
    let mut chat_ids = Vec::with_capacity(chats);
    for i in 0..chats {
        let op = &mut conns[i / 50];
        let (v, chat) = accepted_chat(&server, op, &format!("load {i}")).await;
        visitors.push(v);
        chat_ids.push(chat);
    }
    println!(
        "chat benchmark: {chats} chats × {messages} messages, {} ({operators} operators)",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    // First, one quiet chat: how long a message takes from one side to the other.
    let quiet = round_trips(&mut conns[0], &mut visitors[0], chat_ids[0]).await;
    // The operators read everything they are sent, as the app would (fan-out is part of the cost).
    let readers: Vec<_> = conns
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let mut n = 0u64;
                while let Ok(msg) = c.recv().await {
                    if matches!(msg, OperatorServerMsg::Event { .. }) {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = visitors
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            tokio::spawn(async move {
                let mut acks = Vec::with_capacity(messages);
                for m in 0..messages {
                    let t = Instant::now();
                    v.say(
                        &format!("{i}-{m}"),
                        &format!("message {m} from visitor {i}"),
                    )
                    .await;
                    acks.push(t.elapsed());
                }
                acks
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(chats * messages);
    for t in tasks {
        latencies.extend(t.await.expect("visitor task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let stored = server.message_count().await;
    let total = chats * messages;
    assert_eq!(
        stored as usize,
        total + quiet,
        "every acknowledged message is stored"
    );
    println!(
        "stored and acknowledged: {total} messages in {elapsed:.2} s = {:.0} messages/s",
        total as f64 / elapsed
    );
    println!(
        "ack latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        latencies.last().expect("latencies").as_secs_f64() * 1000.0
    );
    for r in readers {
        r.abort();
    }
}

/// Operator → visitor and visitor → operator, one message at a time on a quiet server: the
/// time from sending until the other side has it (p50, p99 of 100 each). Returns how many
/// messages it stored.
async fn round_trips(op: &mut Connection, visitor: &mut Visitor, chat: ChatId) -> usize {
    const N: usize = 100;
    let mut to_visitor = Vec::with_capacity(N);
    let mut to_operator = Vec::with_capacity(N);
    for n in 0..N {
        let text = format!("operator says {n}");
        let t = Instant::now();
        op.send(chat, &text).await.expect("operator sends");
        visitor.wait_message(&text).await;
        to_visitor.push(t.elapsed());
        let text = format!("visitor says {n}");
        let t = Instant::now();
        visitor.write(&format!("rt-{n}"), &text).await;
        wait_message(op, chat, &text).await;
        to_operator.push(t.elapsed());
    }
    for (what, mut took) in [
        ("operator → visitor", to_visitor),
        ("visitor → operator", to_operator),
    ] {
        took.sort();
        let ms =
            |p: f64| took[((took.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
        println!("{what}: p50 {:.1} ms, p99 {:.1} ms", ms(0.5), ms(0.99));
    }
    2 * N
}
