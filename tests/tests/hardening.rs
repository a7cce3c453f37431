//! The server attacked as a stranger would: odd characters, floods past every rate limit,
//! slow and silent sockets, a removed operator still connected, the files on disk. Each
//! attack is refused with a typed error, stores nothing, and leaves everyone else's chats
//! working.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use switchboard_core::{CoreError, Session};
use switchboard_e2e::operator::{accepted_chat, available_operator};
use switchboard_e2e::visitor::{Visitor, ws_url};
use switchboard_e2e::{ADMIN_PASSWORD, Db, OPERATOR_PASSWORD, TestServer};
use switchboard_shared::{
    ChatStatus, ErrorCode, Limits, Mode, OperatorServerMsg, PROTOCOL_VERSION, Page,
    UpdateOperatorRequest, VisitorClientMsg, VisitorServerMsg,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

switchboard_e2e::on_both_databases!(
    characters_no_database_takes_are_refused_and_nobody_else_is_affected,
    an_operation_the_database_fails_fails_nobody_else,
    chats_are_limited_per_visitor_and_per_address,
    new_visitors_and_offline_messages_are_limited_per_address,
    a_connection_that_floods_frames_is_slowed_not_served,
    sign_ins_are_limited_per_account_and_per_address,
    a_removed_or_signed_out_operator_is_disconnected_at_once,
);

/// The settings' limits changed by `tweak`.
async fn set_limits(server: &TestServer, tweak: impl FnOnce(&mut Limits)) {
    let mut settings = server.admin.settings().await.unwrap();
    tweak(&mut settings.limits);
    server.admin.put_settings(&settings).await.unwrap();
}

/// A visitor's hello as raw JSON: a new visitor, on a page.
fn hello(page_url: &str, title: &str) -> String {
    serde_json::to_string(&VisitorClientMsg::Hello {
        protocol: PROTOCOL_VERSION,
        visitor_token: None,
        page: Some(Page {
            url: page_url.into(),
            title: Some(title.into()),
        }),
        last_seq: None,
        client: None,
    })
    .unwrap()
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&server.state.store.read)
        .await
        .unwrap()
}

async fn post(server: &TestServer, path: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn error_code(response: reqwest::Response) -> ErrorCode {
    let body: serde_json::Value = response.json().await.unwrap();
    serde_json::from_value(body["code"].clone()).unwrap()
}

async fn characters_no_database_takes_are_refused_and_nobody_else_is_affected(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Ida").await;
    let (mut anna, chat) = accepted_chat(&server, &mut op, "Anna").await;
    // Anna chats on while a stranger throws NUL characters at every field.
    let chatting = tokio::spawn(async move {
        for i in 0..30 {
            anna.say(&format!("a{i}"), &format!("still here {i}")).await;
        }
        anna
    });
    let mut stranger = Visitor::connect(&server.base).await;
    stranger
        .send(&VisitorClientMsg::StartChat {
            name: Some("x\u{0}y".into()),
            mode: Mode::Text,
        })
        .await;
    assert_eq!(
        stranger.wait_error().await.error.code,
        ErrorCode::InvalidInput
    );
    for (client_id, text) in [("c\u{0}1", "hello"), ("c2", "x\u{0}y"), ("c3", "\u{FFFF}")] {
        stranger
            .send(&VisitorClientMsg::Send {
                client_id: client_id.into(),
                text: text.into(),
            })
            .await;
        let refused = stranger.wait_error().await;
        // No open chat, or a bad character: refused either way, typed, not `internal`.
        assert_ne!(refused.error.code, ErrorCode::Internal, "{refused:?}");
    }
    let login = post(
        &server,
        "/api/auth/login",
        serde_json::json!({"email": "admin\u{0}@example.test", "password": "x"}),
    )
    .await;
    assert_eq!(login.status(), 400);
    assert_eq!(error_code(login).await, ErrorCode::InvalidInput);
    let left = post(
        &server,
        "/api/widget/offline-messages",
        serde_json::json!({"name": "N\u{0}", "email": "n@example.test", "text": "hi"}),
    )
    .await;
    assert_eq!(left.status(), 400);
    assert_eq!(error_code(left).await, ErrorCode::InvalidInput);
    // Anna's chat went on undisturbed, and nothing of the stranger's was stored.
    let mut anna = chatting.await.unwrap();
    anna.say("last", "done").await;
    let stored = server.admin.chat_events(chat, 0).await.unwrap();
    let texts: Vec<_> = stored
        .iter()
        .filter_map(|e| match &e.kind {
            switchboard_shared::ChatEventKind::Message { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 31, "{texts:?}");
    assert_eq!(count(&server, "select count(*) from chats").await, 1);
    assert_eq!(
        count(&server, "select count(*) from offline_messages").await,
        0
    );
    // Page data is not typed by anyone: cleaned and cut, not refused.
    let mut raw = connect_raw(&server).await;
    let long_title = "T".repeat(10_000);
    raw.send(Message::Text(
        hello("https://shop.example.test/\u{0}", &long_title).into(),
    ))
    .await
    .unwrap();
    assert!(matches!(
        next_frame(&mut raw).await,
        Some(VisitorServerMsg::Welcome { .. })
    ));
    let title: String =
        sqlx::query_scalar("select page_title from visitors order by id desc limit 1")
            .fetch_one(&server.state.store.read)
            .await
            .unwrap();
    assert_eq!(title.chars().count(), switchboard_shared::MAX_TITLE_CHARS);
}

/// A database trigger fails one chosen message; the others written in the same moment, in the
/// same batches, are all stored and acknowledged.
async fn an_operation_the_database_fails_fails_nobody_else(db: Db) {
    let server = TestServer::start(db).await;
    let trigger: &[&str] = match db {
        Db::Sqlite => &["create trigger boom before insert on chat_events \
             when new.body like '%BOOM%' begin select raise(abort, 'boom'); end"],
        Db::Postgres | Db::Cluster => &[
            "create function boom() returns trigger language plpgsql as $$ begin \
             if new.body like '%BOOM%' then raise exception 'boom'; end if; return new; end $$",
            "create trigger boom before insert on chat_events for each row execute function boom()",
        ],
    };
    for sql in trigger {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&server.state.store.write)
            .await
            .unwrap();
    }
    server.for_load(10).await;
    let mut op = available_operator(&server, "Jo").await;
    let mut chats = Vec::new();
    for i in 0..4 {
        chats.push(accepted_chat(&server, &mut op, &format!("V{i}")).await);
    }
    let mut tasks = Vec::new();
    for (i, (mut visitor, _)) in chats.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut refused = Vec::new();
            for n in 0..25 {
                let text = if i == 0 && n == 10 {
                    "BOOM".to_owned()
                } else {
                    format!("m{n}")
                };
                visitor.write(&format!("c{n}"), &text).await;
            }
            let mut acked = 0;
            while acked + refused.len() < 25 {
                match visitor.recv().await.expect("an answer for every message") {
                    VisitorServerMsg::Ack { .. } => acked += 1,
                    VisitorServerMsg::Error { error, .. } => refused.push(error.code),
                    _ => {}
                }
            }
            (i, acked, refused)
        }));
    }
    for task in tasks {
        let (i, acked, refused) = task.await.unwrap();
        if i == 0 {
            assert_eq!((acked, refused), (24, vec![ErrorCode::Internal]));
        } else {
            assert_eq!((acked, refused), (25, vec![]), "visitor {i}");
        }
    }
    assert_eq!(server.message_count().await, 99);
}

async fn chats_are_limited_per_visitor_and_per_address(db: Db) {
    let server = TestServer::start(db).await;
    set_limits(&server, |l| {
        l.chats_per_visitor_per_minute = 2;
        l.chats_per_address_per_minute = 3;
    })
    .await;
    let _op = available_operator(&server, "Kai").await;
    let mut v = Visitor::connect(&server.base).await;
    for _ in 0..2 {
        v.start_chat("Lou").await;
        v.end_chat().await;
        v.wait_status(ChatStatus::Missed).await;
    }
    v.send(&VisitorClientMsg::StartChat {
        name: Some("Lou".into()),
        mode: Mode::Text,
    })
    .await;
    let refused = v.wait_error().await.error;
    assert_eq!(refused.code, ErrorCode::RateLimited);
    assert!(
        refused.retry_after_secs.is_some_and(|s| s >= 1),
        "{refused:?}"
    );
    assert_eq!(count(&server, "select count(*) from chats").await, 2);
    // Another visitor from the same address has one chat left of the address's three.
    let (_other, _) = Visitor::request_chat(&server.base, "Max").await;
    let mut third = Visitor::connect(&server.base).await;
    third
        .send(&VisitorClientMsg::StartChat {
            name: None,
            mode: Mode::Text,
        })
        .await;
    assert_eq!(third.wait_error().await.error.code, ErrorCode::RateLimited);
    assert_eq!(count(&server, "select count(*) from chats").await, 3);
}

async fn new_visitors_and_offline_messages_are_limited_per_address(db: Db) {
    let server = TestServer::start(db).await;
    set_limits(&server, |l| {
        l.new_visitors_per_address_per_minute = 2;
        l.offline_messages_per_address_per_minute = 2;
    })
    .await;
    let first = Visitor::connect(&server.base).await;
    let _second = Visitor::connect(&server.base).await;
    let mut third = connect_raw(&server).await;
    third
        .send(Message::Text(
            hello("https://shop.example.test/", "Shop").into(),
        ))
        .await
        .unwrap();
    match next_frame(&mut third).await {
        Some(VisitorServerMsg::Error { error, .. }) => {
            assert_eq!(error.code, ErrorCode::RateLimited);
            assert!(error.retry_after_secs.is_some());
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    assert_eq!(close_code(&mut third).await, Some(CloseCode::Again));
    assert_eq!(count(&server, "select count(*) from visitors").await, 2);
    // A visitor who has a token still gets in.
    let _back = Visitor::connect_as(&server.base, Some(first.token.clone()), None).await;
    let leave = |n: usize| serde_json::json!({"name": "Nell", "email": "nell@example.test", "text": format!("note {n}")});
    for n in 0..2 {
        assert_eq!(
            post(&server, "/api/widget/offline-messages", leave(n))
                .await
                .status(),
            201
        );
    }
    let refused = post(&server, "/api/widget/offline-messages", leave(2)).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().get("retry-after").is_some());
    assert_eq!(error_code(refused).await, ErrorCode::RateLimited);
    assert_eq!(
        count(&server, "select count(*) from offline_messages").await,
        2
    );
}

async fn a_connection_that_floods_frames_is_slowed_not_served(db: Db) {
    let server = TestServer::start(db).await;
    set_limits(&server, |l| l.frames_per_connection_per_second = 5).await;
    let mut op = available_operator(&server, "Ned").await;
    let (mut v, _chat) = accepted_chat(&server, &mut op, "Olaf").await;
    for n in 0..40 {
        v.write(&format!("f{n}"), &format!("flood {n}")).await;
    }
    let (mut acked, mut limited) = (0, 0);
    while acked + limited < 40 {
        match v.recv().await.expect("an answer for every frame") {
            VisitorServerMsg::Ack { .. } => acked += 1,
            VisitorServerMsg::Error { error, client_id } => {
                assert_eq!(error.code, ErrorCode::RateLimited);
                assert!(client_id.is_some(), "the refusal names the message");
                limited += 1;
            }
            _ => {}
        }
    }
    // The burst (twice the rate, less the frames the chat's start took) went through.
    assert!(
        limited > 0 && acked >= 5,
        "acked {acked}, limited {limited}"
    );
    assert_eq!(server.message_count().await, acked);
    // A second later the connection is served again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    v.say("later", "after a pause").await;
}

async fn sign_ins_are_limited_per_account_and_per_address(db: Db) {
    let server = TestServer::start(db).await;
    set_limits(&server, |l| {
        l.logins_per_account_per_minute = 3;
        l.logins_per_address_per_minute = 6;
    })
    .await;
    let login = |email: &str, password: &str| {
        post(
            &server,
            "/api/auth/login",
            serde_json::json!({"email": email, "password": password}),
        )
    };
    for _ in 0..3 {
        assert_eq!(
            login("admin@example.test", "wrong-password").await.status(),
            401
        );
    }
    let refused = login("admin@example.test", ADMIN_PASSWORD).await;
    assert_eq!(refused.status(), 429, "even the right password waits");
    assert!(refused.headers().get("retry-after").is_some());
    // Other accounts are still served from this address, up to its own limit.
    for n in 0..2 {
        let status = login(&format!("nobody{n}@example.test"), "x")
            .await
            .status();
        assert_eq!(status, 401);
    }
    assert_eq!(login("nobody9@example.test", "x").await.status(), 429);
    let _ = OPERATOR_PASSWORD;
}

async fn a_removed_or_signed_out_operator_is_disconnected_at_once(db: Db) {
    let server = TestServer::start(db).await;
    let closes_at_once = async |mut conn: switchboard_core::Connection| {
        let started = Instant::now();
        let mut refused = None;
        loop {
            match conn.recv().await {
                Ok(OperatorServerMsg::Error { error, .. }) => refused = Some(error.code),
                Ok(_) => {}
                Err(CoreError::Closed | CoreError::Ws(_)) => break,
                Err(e) => panic!("the socket should close, got {e}"),
            }
        }
        assert!(started.elapsed() < Duration::from_secs(5), "closed at once");
        assert_eq!(refused, Some(ErrorCode::Unauthorized));
    };
    // Removed by an admin.
    let pia = server.operator("Pia").await;
    let conn = pia.connect().await.unwrap();
    server.admin.delete_operator(pia.operator.id).await.unwrap();
    closes_at_once(conn).await;
    // A new password, or other rights, from the admin: sign in again.
    let password = UpdateOperatorRequest {
        password: Some("a-brand-new-password".into()),
        ..UpdateOperatorRequest::default()
    };
    closes_at_once(changed_while_connected(&server, "Quinn", &password).await).await;
    let promote = UpdateOperatorRequest {
        is_admin: Some(true),
        ..UpdateOperatorRequest::default()
    };
    closes_at_once(changed_while_connected(&server, "Uma", &promote).await).await;
    // A new name changes nothing about the sign-in.
    let rename = UpdateOperatorRequest {
        name: Some("Victor".into()),
        ..UpdateOperatorRequest::default()
    };
    let mut conn = changed_while_connected(&server, "Vic", &rename).await;
    conn.ping().await.expect("still connected after a new name");
    // Signing out closes that sign-in's socket, and only that one.
    let rosa: Session = server.operator("Rosa").await;
    let other = server
        .client()
        .login("rosa@example.test", OPERATOR_PASSWORD)
        .await
        .unwrap();
    let conn = rosa.connect().await.unwrap();
    let mut kept = other.connect().await.unwrap();
    rosa.logout().await.unwrap();
    closes_at_once(conn).await;
    kept.ping()
        .await
        .expect("the other sign-in stays connected");
}

/// A new operator, connected, whom the admin then changes.
async fn changed_while_connected(
    server: &TestServer,
    name: &str,
    change: &UpdateOperatorRequest,
) -> switchboard_core::Connection {
    let op = server.operator(name).await;
    let conn = op.connect().await.unwrap();
    server
        .admin
        .update_operator(op.operator.id, change)
        .await
        .unwrap();
    conn
}

async fn connect_raw(
    server: &TestServer,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>> {
    tokio_tungstenite::connect_async(ws_url(&server.base))
        .await
        .expect("connects")
        .0
}

async fn next_frame(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
) -> Option<VisitorServerMsg> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn close_code(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Close(frame)) => return frame.map(|f| f.code),
            Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Slowloris: sockets that say nothing, or trickle a header line now and then, are closed
/// after the header timeout; while they are open the server answers others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_connections_are_closed() {
    let server = TestServer::start_with(Db::Sqlite, |c| c.header_timeout_secs = 1).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut trickle = TcpStream::connect(server.addr).await.unwrap();
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    let trickling = tokio::spawn(async move {
        for n in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let line = format!("X-Slow-{n}: 1\r\n");
            if trickle.write_all(line.as_bytes()).await.is_err() {
                return Instant::now();
            }
            let mut probe = [0u8; 1];
            if let Ok(Ok(0)) =
                tokio::time::timeout(Duration::from_millis(1), trickle.read(&mut probe)).await
            {
                return Instant::now();
            }
        }
        panic!("the trickling connection was never closed");
    });
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("the silent connection is closed within the timeout")
        .unwrap_or(0);
    let closed_after = started.elapsed();
    assert!(
        n == 0 || buf.starts_with(b"HTTP/1.1 408"),
        "closed, not served"
    );
    assert!(
        closed_after >= Duration::from_millis(900),
        "{closed_after:?}"
    );
    let trickle_closed = trickling.await.unwrap().duration_since(started);
    assert!(
        trickle_closed < Duration::from_secs(4),
        "{trickle_closed:?}"
    );
}

/// One address holds at most its share of connections; the rest of the world is not crowded
/// out, and the share comes back as connections close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_every_connection() {
    let server = TestServer::start_with(Db::Sqlite, |c| {
        c.max_connections_per_address = 4;
        c.header_timeout_secs = 2;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = TcpStream::connect(server.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(1), over.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the fifth is closed at once: {read:?}"
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

/// An unknown e-mail takes as long to refuse as a known one with a wrong password, so the
/// answer's timing does not tell which e-mails exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_known_emails_take_the_same_time() {
    let server = TestServer::start(Db::Sqlite).await;
    let time = async |email: &str| {
        let mut took = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let r = post(
                &server,
                "/api/auth/login",
                serde_json::json!({"email": email, "password": "not-the-password"}),
            )
            .await;
            assert_eq!(r.status(), 401);
            took.push(started.elapsed());
        }
        took.sort();
        took[2]
    };
    let known = time("admin@example.test").await;
    let unknown = time("nobody@example.test").await;
    let (fast, slow) = if known < unknown {
        (known, unknown)
    } else {
        (unknown, known)
    };
    assert!(
        slow.as_secs_f64() < fast.as_secs_f64() * 2.0 + 0.01,
        "known {known:?}, unknown {unknown:?}"
    );
}

/// The database holds every chat: only its owner may read it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_files_are_for_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start(Db::Sqlite).await;
    let (_v, _chat) = Visitor::request_chat(&server.base, "Sam").await;
    let path = server
        .config
        .database_url
        .trim_start_matches("sqlite://")
        .to_owned();
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    let key = std::fs::metadata(&server.config.secret_key_file).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
}
