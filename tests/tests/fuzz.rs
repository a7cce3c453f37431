//! Protocol fuzzing: frames built from the `shared` types with arbitrary contents (any
//! Unicode, NUL, over-long text, odd numbers), some of them then mutated (cut short, a
//! character changed, another `type`, not JSON at all), thrown at the visitor's and the
//! operator's WebSockets and at the HTTP API. A bounded number of cases runs every time.
//!
//! Whatever arrives: no panic, no `internal` error, no 5xx; the connection still answers a
//! ping; and what is stored is exactly what was acknowledged.

use std::collections::HashSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use switchboard_core::Connection;
use switchboard_e2e::operator::available_operator;
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{
    Author, ChatEventKind, ChatId, ClientInfo, ErrorCode, Mode, OperatorAction, OperatorRequest,
    OperatorServerMsg, Page, ResumeFrom, VisitorClientMsg, VisitorServerMsg,
};

/// Frames per run (each side).
const CASES: usize = 250;

/// Text of every kind: plain, any Unicode (controls and NUL included), long.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 .,!?]{1,40}",
        2 => any::<String>(),
        1 => prop::collection::vec(any::<char>(), 3990..4100).prop_map(String::from_iter),
        1 => Just("x\u{0}y".to_owned()),
        1 => Just(String::new()),
    ]
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Text), Just(Mode::Voice)]
}

fn page() -> impl Strategy<Value = Page> {
    (text(), prop::option::of(text())).prop_map(|(url, title)| Page { url, title })
}

fn client() -> impl Strategy<Value = ClientInfo> {
    (
        prop::option::of(text()),
        prop::option::of(text()),
        any::<Option<i32>>(),
        prop::option::of(text()),
    )
        .prop_map(
            |(referrer, language, utc_offset_min, user_agent)| ClientInfo {
                referrer,
                language,
                utc_offset_min,
                user_agent,
            },
        )
}

fn visitor_msg() -> impl Strategy<Value = VisitorClientMsg> {
    prop_oneof![
        1 => (prop::option::of(text()), mode())
            .prop_map(|(name, mode)| VisitorClientMsg::StartChat { name, mode }),
        6 => (text(), text()).prop_map(|(client_id, text)| VisitorClientMsg::Send { client_id, text }),
        1 => Just(VisitorClientMsg::EndChat),
        1 => page().prop_map(|page| VisitorClientMsg::PageView { page }),
        1 => Just(VisitorClientMsg::Ping),
        1 => (any::<u32>(), prop::option::of(text()), prop::option::of(page()), any::<Option<i64>>(), prop::option::of(client()))
            .prop_map(|(protocol, visitor_token, page, last_seq, client)| VisitorClientMsg::Hello {
                protocol,
                visitor_token,
                page,
                last_seq,
                client,
            }),
    ]
}

fn chat_id() -> impl Strategy<Value = ChatId> {
    prop_oneof![4 => (1i64..6).prop_map(ChatId), 1 => any::<i64>().prop_map(ChatId)]
}

fn operator_action() -> impl Strategy<Value = OperatorAction> {
    prop_oneof![
        1 => chat_id().prop_map(|chat_id| OperatorAction::Accept { chat_id }),
        1 => chat_id().prop_map(|chat_id| OperatorAction::Decline { chat_id }),
        1 => chat_id().prop_map(|chat_id| OperatorAction::Queue { chat_id }),
        1 => chat_id().prop_map(|chat_id| OperatorAction::Hold { chat_id }),
        1 => chat_id().prop_map(|chat_id| OperatorAction::Resume { chat_id }),
        1 => chat_id().prop_map(|chat_id| OperatorAction::End { chat_id }),
        4 => (chat_id(), text(), text())
            .prop_map(|(chat_id, client_id, text)| OperatorAction::Send { chat_id, client_id, text }),
        1 => any::<bool>().prop_map(|available| OperatorAction::SetAvailable { available }),
        1 => (any::<bool>(), any::<Option<i64>>()).prop_map(|(background, d)| OperatorAction::AppState {
            background,
            device_id: d.map(switchboard_shared::DeviceId),
        }),
        1 => Just(OperatorAction::Ping),
        1 => (any::<u32>(), text(), prop::collection::vec((chat_id(), any::<i64>()), 0..3)).prop_map(
            |(protocol, token, resume)| OperatorAction::Hello {
                protocol,
                token,
                resume: resume
                    .into_iter()
                    .map(|(chat_id, last_seq)| ResumeFrom { chat_id, last_seq })
                    .collect(),
                device_id: None,
                background: false,
            }
        ),
    ]
}

/// A frame: the JSON of `msg`, or that JSON mutated, or something else entirely.
fn frame<T: serde::Serialize + std::fmt::Debug>(
    msg: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = String> {
    let json = msg.prop_map(|m| serde_json::to_string(&m).unwrap()).boxed();
    prop_oneof![
        8 => json.clone(),
        1 => (json.clone(), any::<prop::sample::Index>())
            .prop_map(|(j, at)| j.chars().take(at.index(j.chars().count().max(1))).collect()),
        1 => (json.clone(), any::<prop::sample::Index>(), any::<char>()).prop_map(|(j, at, c)| {
            let mut chars: Vec<char> = j.chars().collect();
            let i = at.index(chars.len().max(1)).min(chars.len().saturating_sub(1));
            if !chars.is_empty() {
                chars[i] = c;
            }
            chars.into_iter().collect()
        }),
        1 => (json, "[a-z_]{1,12}").prop_map(|(j, t)| {
            let mut v: serde_json::Value = serde_json::from_str(&j).unwrap();
            v["type"] = t.into();
            v.to_string()
        }),
        1 => any::<String>(),
        1 => Just("{\"type\":\"send\",\"client_id\":{\"a\":[1,2,{\"b\":null}]},\"text\":1e308}".to_owned()),
    ]
}

/// `n` values of `strategy`, from a fixed seed so a failure can be run again.
fn sample<S: Strategy>(strategy: S, n: usize, seed: u8) -> Vec<S::Value> {
    let rng = TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// Accepts every request that rings, so visitors' messages have a chat to land in.
fn accept_everything(mut op: Connection) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match op.recv().await {
                Ok(OperatorServerMsg::Event { event, .. })
                    if matches!(event.kind, ChatEventKind::Requested { .. }) =>
                {
                    let _ = op.accept(event.chat_id).await;
                }
                Ok(_) | Err(switchboard_core::CoreError::Timeout) => {}
                Err(_) => return,
            }
        }
    })
}

switchboard_e2e::on_both_databases!(
    fuzzed_visitor_frames_never_fail_the_server,
    fuzzed_operator_frames_never_fail_the_server
);

async fn fuzzed_visitor_frames_never_fail_the_server(db: Db) {
    let server = TestServer::start(db).await;
    server.for_load(50).await;
    let op = available_operator(&server, "Fuzz").await;
    let accepting = accept_everything(op);
    // Fuzzing starts in an accepted chat, so messages have somewhere to land; end and start
    // frames among the fuzz move it on from there.
    let mut v = Visitor::connect(&server.base).await;
    v.start_chat("Fuzz").await;
    v.wait_status(switchboard_shared::ChatStatus::Active).await;
    let frames = sample(frame(visitor_msg()), CASES, 7);
    for f in &frames {
        v.send_raw(f).await;
        // About a person's pace at the fastest: the operator's accept has a chance in between.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    // Still connected, and every frame has been answered once the last ping's pong is in
    // (the fuzz has pings of its own).
    let pings = frames
        .iter()
        .filter(|f| matches!(serde_json::from_str(f), Ok(VisitorClientMsg::Ping)))
        .count();
    v.send(&VisitorClientMsg::Ping).await;
    let mut pongs = v
        .frames
        .iter()
        .filter(|m| matches!(m, VisitorServerMsg::Pong))
        .count();
    while pongs <= pings {
        let msg = v.recv().await.expect("the connection still answers");
        if matches!(msg, VisitorServerMsg::Pong) {
            pongs += 1;
        }
    }
    accepting.abort();
    let mut stored_mine = HashSet::new();
    for msg in &v.frames {
        if let VisitorServerMsg::Error { error, .. } = msg {
            assert_ne!(error.code, ErrorCode::Internal, "{error:?}");
        }
    }
    for event in &v.events {
        if let ChatEventKind::Message {
            author: Author::Visitor,
            ..
        } = &event.kind
        {
            stored_mine.insert((event.chat_id, event.seq));
        }
    }
    let refused = v
        .frames
        .iter()
        .filter(|m| matches!(m, VisitorServerMsg::Error { .. }))
        .count();
    assert!(
        !stored_mine.is_empty() && refused > 0,
        "the run both stored and refused: {} stored, {refused} refused",
        stored_mine.len()
    );
    assert_eq!(
        server.message_count().await,
        stored_mine.len() as i64,
        "stored exactly what was announced"
    );
}

async fn fuzzed_operator_frames_never_fail_the_server(db: Db) {
    let server = TestServer::start(db).await;
    server.for_load(50).await;
    let mut op = available_operator(&server, "Fuzz").await;
    // A few chats to act on.
    let (_visitors, _chats) = Visitor::request_chats(&server.base, 3).await;
    let requests = sample(
        (any::<u64>(), operator_action()).prop_map(|(req, action)| OperatorRequest { req, action }),
        CASES,
        11,
    );
    let mutated = sample(
        frame(
            (any::<u64>(), operator_action())
                .prop_map(|(req, action)| OperatorRequest { req, action }),
        ),
        CASES,
        13,
    );
    let texts = requests
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .chain(mutated);
    for text in texts {
        op.send_raw(&text).await.unwrap();
        // Drain what came back so far; the session must never answer `internal`.
        while let Ok(Ok(msg)) =
            tokio::time::timeout(std::time::Duration::from_millis(5), op.recv()).await
        {
            if let OperatorServerMsg::Error { error, .. } = msg {
                assert_ne!(error.code, ErrorCode::Internal, "{error:?} after {text}");
            }
        }
    }
    op.ping()
        .await
        .expect("the operator's connection still answers");
    let http = reqwest::Client::new();
    for body in sample(any::<String>(), 60, 17) {
        for path in ["/api/auth/login", "/api/widget/offline-messages"] {
            let r = http
                .post(format!("{}{path}", server.base))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert!(r.status().as_u16() < 500, "{path} {body:?}: {}", r.status());
        }
    }
}
