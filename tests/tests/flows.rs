//! The foundation's flows, end to end through the real server: the operator side driven by
//! `mobile/core`, the visitor side by a Rust client of the widget protocol. Every test runs
//! twice, on SQLite and on PostgreSQL.

use std::time::Duration;
use switchboard_core::CoreError;
use switchboard_e2e::operator::{
    accepted_chat, available_operator, available_operators, chat_ringing_for, connect_available,
    message_texts, second_device, wait_event, wait_request,
};
use switchboard_e2e::visitor::{Visitor, ws_url};
use switchboard_e2e::{Db, TestServer, wait};

use switchboard_shared::{
    Author, ChatEventKind, ChatId, ChatStatus, EndReason, ErrorCode, LeaveMessageRequest,
    OperatorServerMsg, PushPlatform, RegisterDeviceRequest, Settings, VisitorServerMsg,
};

switchboard_e2e::on_every_setup!(
    visitor_asks_operator_accepts_chats_holds_and_ends,
    first_accept_wins_on_every_device,
    declined_by_everyone_offers_leave_a_message,
    nobody_available_offers_leave_a_message_at_once,
    queued_chat_waits_without_a_second_request_and_is_taken_later,
    operator_chat_cap_comes_from_settings,
    dropped_connections_resume_with_exactly_what_they_missed,
    retried_messages_are_stored_once,
    reloaded_widget_gets_its_chat_back,
    bad_input_gets_typed_errors_and_stores_nothing,
    tokens_are_checked_everywhere,
    an_open_connection_ends_when_its_sign_in_expires,
    cached_state_plus_events_equals_a_fresh_snapshot,
    a_server_restart_loses_nothing,
    a_visitor_who_leaves_before_an_answer_is_missed,
    canned_messages_are_shared_by_the_team,
    visitor_profile_shows_pages_visits_and_earlier_chats,
    signing_out_everywhere_ends_live_help,
    an_operator_leading_chats_cannot_be_deleted,
    client_ids_are_scoped_by_author_and_survive_the_end,
    only_allowed_sites_may_use_the_widget,
    ended_chats_are_found_in_history,
    not_available_never_rings,
    an_operator_no_app_or_phone_can_reach_goes_not_available,
);

async fn visitor_asks_operator_accepts_chats_holds_and_ends(db: Db) {
    let server = TestServer::start(db).await;
    let client = server.client();
    assert!(!client.widget_status().await.unwrap().available);
    let mut visitor = Visitor::connect(&server.base).await;
    assert!(matches!(
        visitor.welcome,
        VisitorServerMsg::Welcome {
            available: false,
            ..
        }
    ));

    let mut op = available_operator(&server, "Olga").await;
    // The widget learns of it over its socket, and the status endpoint agrees.
    visitor
        .wait_for(|m| matches!(m, VisitorServerMsg::Availability { available: true }))
        .await;
    assert!(client.widget_status().await.unwrap().available);

    let requested = visitor.start_chat("Ann").await;
    assert_eq!((requested.seq, requested.status), (1, ChatStatus::Waiting));
    let chat = requested.chat_id;
    visitor
        .wait_for(|m| matches!(m, VisitorServerMsg::QueuePosition { position: 1, .. }))
        .await;
    wait_request(&mut op, chat).await;
    let req = &op.state.requests[&chat];
    assert_eq!(req.visitor_name.as_deref(), Some("Ann"));
    assert_eq!(
        req.page.as_ref().unwrap().url,
        "https://shop.example.test/pricing"
    );

    op.accept(chat).await.unwrap();
    let accepted = visitor.wait_status(ChatStatus::Active).await;
    assert!(
        matches!(accepted.kind, ChatEventKind::Accepted { ref operator } if operator.name == "Olga")
    );
    assert!(op.state.chats.contains_key(&chat) && op.state.requests.is_empty());

    visitor
        .say(
            "v1",
            "Hello, I need help with https://shop.example.test/order/42",
        )
        .await;
    op.send(chat, "Sure! Write to help@example.test")
        .await
        .unwrap();
    visitor.say("v2", "Thanks").await;
    assert!(visitor.events.iter().any(|e| matches!(&e.kind, ChatEventKind::Message { author: Author::Operator { name, .. }, text, .. } if name == "Olga" && text.starts_with("Sure!"))));
    wait_event(
        &mut op,
        chat,
        |k| matches!(k, ChatEventKind::Message { text, .. } if text == "Thanks"),
    )
    .await;
    assert_eq!(
        message_texts(&op, chat),
        [
            "Hello, I need help with https://shop.example.test/order/42",
            "Sure! Write to help@example.test",
            "Thanks"
        ]
    );

    op.hold(chat).await.unwrap();
    visitor.wait_status(ChatStatus::OnHold).await;
    // The visitor may still write while the chat is on hold.
    visitor.say("v3", "I'll wait").await;
    op.resume(chat).await.unwrap();
    visitor.wait_status(ChatStatus::Active).await;

    op.end(chat).await.unwrap();
    assert_eq!(visitor.wait_ended().await, EndReason::Operator);
    assert!(op.state.chats.is_empty());
    // Seqs are 1..n without gaps, in order.
    let seqs: Vec<i64> = visitor.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());

    // And the other way round: the visitor ends, the operator sees it.
    let _ = visitor.start_chat("Ann again").await;
    let chat2 = visitor.events.last().unwrap().chat_id;
    wait_request(&mut op, chat2).await;
    op.accept(chat2).await.unwrap();
    visitor.end_chat().await;
    wait_event(&mut op, chat2, |k| {
        *k == ChatEventKind::Ended {
            reason: EndReason::Visitor,
        }
    })
    .await;
    assert!(op.state.chats.is_empty());
}

async fn first_accept_wins_on_every_device(db: Db) {
    let server = TestServer::start(db).await;
    let mut a_phone = available_operator(&server, "Anna").await;
    let mut a_desktop = second_device(&a_phone, &server).await;
    let mut b = available_operator(&server, "Ben").await;
    let ringing = &mut [&mut a_phone, &mut a_desktop, &mut b];
    let (_visitor, chat) = chat_ringing_for(&server, ringing, "Carl").await;
    b.accept(chat).await.unwrap();
    for conn in [&mut a_phone, &mut a_desktop] {
        wait_event(conn, chat, |k| matches!(k, ChatEventKind::Accepted { .. })).await;
        assert!(conn.state.requests.is_empty(), "the request disappears");
        let err = conn.accept(chat).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::AlreadyTaken), "{err}");
    }
    // The winner retrying (a lost ack) changes nothing.
    let seq = b.state.last_seq[&chat];
    assert_eq!(b.accept(chat).await.unwrap(), Some(seq));
    let events = b.state.history[&chat].len();
    assert_eq!(
        server.admin.chat_events(chat, 0).await.unwrap().len(),
        events
    );
}

async fn declined_by_everyone_offers_leave_a_message(db: Db) {
    let server = TestServer::start(db).await;
    let [mut a, mut b] = available_operators(&server, ["Dora", "Emil"]).await;
    let (mut visitor, chat) = chat_ringing_for(&server, &mut [&mut a, &mut b], "Fay").await;
    a.decline(chat).await.unwrap();
    assert!(
        a.state.requests.is_empty(),
        "the decliner no longer sees it"
    );
    // Still ringing for Emil.
    assert!(b.state.requests.contains_key(&chat));
    b.decline(chat).await.unwrap();
    assert_eq!(visitor.wait_ended().await, EndReason::NoOperator);
    // The visitor never sees who declined.
    assert!(
        !visitor
            .events
            .iter()
            .any(|e| matches!(e.kind, ChatEventKind::Declined { .. }))
    );
    wait_event(&mut a, chat, |k| matches!(k, ChatEventKind::Ended { .. })).await;
    assert!(a.state.requests.is_empty() && b.state.requests.is_empty());
}

async fn nobody_available_offers_leave_a_message_at_once(db: Db) {
    let server = TestServer::start(db).await;
    let session = server.operator("Gus").await;
    let mut visitor = Visitor::connect(&server.base).await;
    visitor
        .send(&switchboard_shared::VisitorClientMsg::StartChat {
            name: None,
            mode: switchboard_shared::Mode::Text,
        })
        .await;
    let ended = visitor.wait_status(ChatStatus::Ended).await;
    assert_eq!(
        ended.kind,
        ChatEventKind::Ended {
            reason: EndReason::NoOperator
        }
    );

    let http = reqwest::Client::new();
    let url = format!("{}/api/widget/offline-messages", server.base);
    let leave = LeaveMessageRequest {
        visitor_token: Some(visitor.token.clone()),
        name: "Hana".into(),
        email: "hana@example.test".into(),
        text: "Please call me back <b>soon</b>".into(),
    };
    let res = http.post(&url).json(&leave).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let bad = LeaveMessageRequest {
        email: "not-an-address".into(),
        ..leave.clone()
    };
    // The widget posts from other sites: the preflight is answered.
    let preflight = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://shop.example.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let res = http.post(&url).json(&bad).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let err: switchboard_shared::ApiError = res.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::InvalidInput);

    let listed = session.offline_messages().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].text, "Please call me back <b>soon</b>");
    assert_eq!(listed[0].chat_id, Some(ended.chat_id));
    assert!(listed[0].visitor_id.is_some());

    // Going Not Available while a chat rings ends it the same way.
    let mut op = available_operator(&server, "Ida").await;
    let (mut v2, _) = chat_ringing_for(&server, &mut [&mut op], "Jo").await;
    op.set_available(false).await.unwrap();
    assert_eq!(v2.wait_ended().await, EndReason::NoOperator);
    // The availability change travels apart from the chat's events: it
    // may come before or after the end.
    let offline =
        |m: &VisitorServerMsg| matches!(m, VisitorServerMsg::Availability { available: false });
    if !v2.frames.iter().any(offline) {
        v2.wait_for(offline).await;
    }
}

async fn queued_chat_waits_without_a_second_request_and_is_taken_later(db: Db) {
    let server = TestServer::start(db).await;
    let [mut a, mut b] = available_operators(&server, ["Kim", "Lou"]).await;
    let (mut visitor, chat) = chat_ringing_for(&server, &mut [&mut a, &mut b], "Max").await;
    a.queue(chat).await.unwrap();
    let queued = visitor.wait_status(ChatStatus::Queued).await;
    assert!(matches!(queued.kind, ChatEventKind::Queued { .. }));
    wait_event(&mut b, chat, |k| matches!(k, ChatEventKind::Queued { .. })).await;
    for conn in [&a, &b] {
        assert!(conn.state.requests.is_empty(), "no second notification");
        assert_eq!(
            conn.state.queue[&chat].created_at,
            queued_created(&server, chat).await
        );
    }
    // A fresh connection lists it in the queue, not as a request.
    let fresh = server.admin.connect().await.unwrap();
    assert!(fresh.state.queue.contains_key(&chat) && fresh.state.requests.is_empty());
    // Any operator may take it later.
    b.accept(chat).await.unwrap();
    visitor.wait_status(ChatStatus::Active).await;
    wait_event(&mut a, chat, |k| {
        matches!(k, ChatEventKind::Accepted { .. })
    })
    .await;
    assert!(a.state.queue.is_empty());
    // A queued visitor may give up: the chat is missed.
    let (mut v2, chat2) = chat_ringing_for(&server, &mut [&mut a], "Nia").await;
    a.queue(chat2).await.unwrap();
    v2.wait_status(ChatStatus::Queued).await;
    v2.end_chat().await;
    v2.wait_status(ChatStatus::Missed).await;
}

async fn queued_created(server: &TestServer, chat: ChatId) -> i64 {
    server.admin.connect().await.unwrap().state.queue[&chat].created_at
}

async fn operator_chat_cap_comes_from_settings(db: Db) {
    let server = TestServer::start(db).await;
    let settings = server.admin.settings().await.unwrap();
    assert_eq!(settings.max_chats_per_operator, 3);
    assert!(settings.default_invitation.contains("%name%"));
    let one = Settings {
        max_chats_per_operator: 1,
        ..settings
    };
    server.admin.put_settings(&one).await.unwrap();
    let mut op = available_operator(&server, "Ola").await;
    let (_v1, c1) = chat_ringing_for(&server, &mut [&mut op], "P").await;
    let (_v2, c2) = chat_ringing_for(&server, &mut [&mut op], "Q").await;
    op.accept(c1).await.unwrap();
    let err = op.accept(c2).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ChatLimitReached));
    assert!(
        !err.to_string().contains("hand"),
        "no hand-over exists: {err}"
    );
    // Holding one chat is how an operator takes another (the manual)…
    op.hold(c1).await.unwrap();
    op.accept(c2).await.unwrap();
    // …and coming back to it needs a free slot again.
    let err = op.resume(c1).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ChatLimitReached));
    op.hold(c2).await.unwrap();
    op.resume(c1).await.unwrap();
    op.end(c1).await.unwrap();
    op.resume(c2).await.unwrap();
}

async fn dropped_connections_resume_with_exactly_what_they_missed(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Rae").await;
    let (mut visitor, chat) = accepted_chat(&server, &mut op, "Sam").await;
    visitor.say("a", "one").await;
    wait_event(&mut op, chat, |k| {
        matches!(k, ChatEventKind::Message { .. })
    })
    .await;

    // The phone loses its network; the visitor keeps writing.
    op.drop_connection();
    visitor.say("b", "two").await;
    visitor.say("c", "three").await;
    op.reconnect().await.unwrap();
    wait_event(
        &mut op,
        chat,
        |k| matches!(k, ChatEventKind::Message { text, .. } if text == "three"),
    )
    .await;
    assert_eq!(message_texts(&op, chat), ["one", "two", "three"]);
    let seqs: Vec<i64> = op.state.history[&chat].iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "no gap, no double"
    );

    // The visitor drops too; the operator writes meanwhile.
    let seen = visitor.events.last().unwrap().seq;
    let token = visitor.token.clone();
    drop(visitor);
    op.send(chat, "four").await.unwrap();
    op.send(chat, "five").await.unwrap();
    let mut visitor = Visitor::connect_as(&server.base, Some(token), Some(seen)).await;
    visitor.wait_message("five").await;
    assert_eq!(visitor.texts(), ["four", "five"], "exactly what it missed");
    assert!(visitor.events.iter().all(|e| e.seq > seen));
}

async fn retried_messages_are_stored_once(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Tia").await;
    let (mut visitor, chat) = accepted_chat(&server, &mut op, "Uma").await;
    let first = visitor.say("same-id", "hello once").await;
    let again = visitor.say("same-id", "hello once").await;
    assert_eq!(
        first, again,
        "the retry is acknowledged with the stored seq"
    );
    let s1 = op
        .send_with_id(chat, "op-same", "reply once")
        .await
        .unwrap();
    let s2 = op
        .send_with_id(chat, "op-same", "reply once")
        .await
        .unwrap();
    assert_eq!(s1, s2);
    assert_eq!(server.message_count().await, 2);
    let texts: Vec<_> = server
        .admin
        .chat_events(chat, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.kind, ChatEventKind::Message { .. }))
        .collect();
    assert_eq!(texts.len(), 2);
}

async fn reloaded_widget_gets_its_chat_back(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Vic").await;
    let (mut visitor, chat) = accepted_chat(&server, &mut op, "Wes").await;
    visitor.say("1", "before reload").await;
    op.send(chat, "answer").await.unwrap();
    visitor.wait_message("answer").await;

    // A reload: same token, no seq: the whole history comes back.
    let token = visitor.token.clone();
    let mut reloaded = visitor.reload().await;
    match &reloaded.welcome {
        VisitorServerMsg::Welcome {
            chat: Some(c),
            visitor_token,
            ..
        } => {
            assert_eq!(c.id, chat);
            assert_eq!(c.status, ChatStatus::Active);
            assert_eq!(visitor_token, &token);
        }
        other => panic!("expected the open chat in welcome: {other:?}"),
    }
    reloaded.wait_message("answer").await;
    assert_eq!(reloaded.texts(), ["before reload", "answer"]);
    reloaded.say("2", "after reload").await;
    wait_event(
        &mut op,
        chat,
        |k| matches!(k, ChatEventKind::Message { text, .. } if text == "after reload"),
    )
    .await;

    // Once ended, a reload shows no chat.
    op.end(chat).await.unwrap();
    reloaded.wait_status(ChatStatus::Ended).await;
    let again = reloaded.reload().await;
    assert!(matches!(
        again.welcome,
        VisitorServerMsg::Welcome { chat: None, .. }
    ));
}

async fn bad_input_gets_typed_errors_and_stores_nothing(db: Db) {
    let server = TestServer::start(db).await;
    let [mut a, mut b] = available_operators(&server, ["Xia", "Yan"]).await;
    let (mut visitor, chat) = chat_ringing_for(&server, &mut [&mut a], "Zed").await;

    // Illegal in the chat's status: hold a ringing chat; the visitor writing before accept.
    assert_eq!(
        a.hold(chat).await.unwrap_err().code(),
        Some(ErrorCode::IllegalTransition)
    );
    visitor.write("early", "hi").await;
    let refused = visitor.wait_error().await;
    assert!(
        refused.client_id.as_deref() == Some("early")
            && refused.error.code == ErrorCode::IllegalTransition
    );

    a.accept(chat).await.unwrap();
    let before = server.message_count().await;
    // Another operator's chat.
    wait_event(&mut b, chat, |k| {
        matches!(k, ChatEventKind::Accepted { .. })
    })
    .await;
    assert_eq!(
        b.send(chat, "not mine").await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        b.end(chat).await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
    // Unknown chat.
    assert_eq!(
        a.send(ChatId(987_654), "x").await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
    // Oversize message (limit: 4000 characters) and an empty one.
    let long = "x".repeat(switchboard_shared::MAX_MESSAGE_CHARS + 1);
    assert_eq!(
        a.send(chat, &long).await.unwrap_err().code(),
        Some(ErrorCode::TooLarge)
    );
    assert_eq!(
        a.send(chat, "   ").await.unwrap_err().code(),
        Some(ErrorCode::InvalidInput)
    );
    // Malformed frames and unknown types: typed errors, the connection survives.
    a.send_raw("{not json").await.unwrap();
    let m = a
        .wait_for(|m| matches!(m, OperatorServerMsg::Error { .. }))
        .await
        .unwrap();
    assert!(
        matches!(m, OperatorServerMsg::Error { req: None, ref error } if error.code == ErrorCode::MalformedFrame)
    );
    a.send_raw(r#"{"req":5,"type":"self_destruct"}"#)
        .await
        .unwrap();
    let m = a
        .wait_for(|m| matches!(m, OperatorServerMsg::Error { .. }))
        .await
        .unwrap();
    assert!(
        matches!(m, OperatorServerMsg::Error { ref error, .. } if error.code == ErrorCode::UnknownType)
    );
    visitor
        .send_raw(r#"{"type":"send","client_id":"big","text":"#)
        .await;
    assert_eq!(
        visitor.wait_error().await.error.code,
        ErrorCode::MalformedFrame
    );
    visitor.send_raw(r#"{"type":"teleport"}"#).await;
    assert_eq!(
        visitor.wait_error().await.error.code,
        ErrorCode::UnknownType
    );
    visitor.write("long", &long).await;
    assert_eq!(visitor.wait_error().await.error.code, ErrorCode::TooLarge);
    // Both connections still work.
    visitor.ping().await;
    a.send(chat, "still here").await.unwrap();
    assert_eq!(
        server.message_count().await,
        before + 1,
        "only the valid message was stored"
    );

    // A frame just under the limit is still read (a connection's read buffer starts at 1 KiB
    // and grows to the frame's length): refused for its text, not for its size.
    let near = format!(
        r#"{{"type":"send","client_id":"near","text":"{}"}}"#,
        "z".repeat(switchboard_shared::MAX_FRAME_BYTES - 100)
    );
    visitor.send_raw(&near).await;
    assert_eq!(visitor.wait_error().await.error.code, ErrorCode::TooLarge);
    visitor.ping().await;

    // A frame over the 64 KiB limit closes the socket (WebSocket close 1009), nothing stored.
    let huge = format!(
        r#"{{"type":"send","client_id":"huge","text":"{}"}}"#,
        "y".repeat(70_000)
    );
    visitor.send_raw(&huge).await;
    assert!(
        visitor.wait_for_close().await,
        "oversize frame closes the connection"
    );
    assert_eq!(server.message_count().await, before + 1);

    // HTTP: malformed and oversize bodies.
    let http = reqwest::Client::new();
    let url = format!("{}/api/auth/login", server.base);
    for (body, status, code) in [
        (b"{".to_vec(), 400, ErrorCode::MalformedFrame),
        (vec![b' '; 100_000], 413, ErrorCode::TooLarge),
    ] {
        let res = http.post(&url).body(body).send().await.unwrap();
        assert_eq!(res.status(), status);
        let err: switchboard_shared::ApiError = res.json().await.unwrap();
        assert_eq!(err.code, code);
    }
}

async fn tokens_are_checked_everywhere(db: Db) {
    let server = TestServer::start(db).await;
    let session = server.operator("Abe").await;
    let client = server.client();
    // Wrong password, wrong token.
    let err = client
        .login(&session.operator.email, "wrong-password")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthorized));
    let err = client.resume_session("deadbeef").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthorized));
    let mut forged = session.clone();
    forged.token = "0".repeat(64);
    assert_eq!(
        forged.connect().await.err().and_then(|e| e.code()),
        Some(ErrorCode::Unauthorized)
    );
    assert_eq!(
        forged.set_available(true).await.unwrap_err().code(),
        Some(ErrorCode::Unauthorized)
    );
    // Missing token.
    let res = reqwest::get(format!("{}/api/operator/me", server.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Operators are not admins.
    assert_eq!(
        session.operators().await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
    // Expired token: refused over HTTP and WebSocket with its own code.
    let mut conn = session.connect().await.unwrap();
    sqlx::query("update sessions set expires_at = 1")
        .execute(&server.state.store.write)
        .await
        .unwrap();
    assert_eq!(
        session.me().await.unwrap_err().code(),
        Some(ErrorCode::TokenExpired)
    );
    assert_eq!(
        session.connect().await.err().and_then(|e| e.code()),
        Some(ErrorCode::TokenExpired)
    );
    // An open connection notices at its next action.
    let err = conn.set_available(true).await.unwrap_err();
    assert!(
        matches!(&err, CoreError::Api(e) if e.code == ErrorCode::TokenExpired)
            || matches!(err, CoreError::Closed),
        "{err}"
    );
    // Logout ends a session.
    let fresh = client
        .login(&session.operator.email, switchboard_e2e::OPERATOR_PASSWORD)
        .await
        .unwrap();
    fresh.logout().await.unwrap();
    assert_eq!(
        fresh.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthorized)
    );
}

/// An open app's connection checks its sign-in's expiry at every frame against the clock (no
/// database read per frame): past it, the frame is refused with `token_expired` and the
/// connection ends.
async fn an_open_connection_ends_when_its_sign_in_expires(db: Db) {
    let server = TestServer::start_with(db, |c| c.token_ttl_secs = 2).await;
    let session = server.operator("Eve").await;
    let mut conn = session.connect().await.unwrap();
    conn.set_available(true).await.unwrap();
    conn.ping().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let err = conn.set_available(false).await.unwrap_err();
    assert!(
        matches!(&err, CoreError::Api(e) if e.code == ErrorCode::TokenExpired)
            || matches!(err, CoreError::Closed),
        "{err}"
    );
}

async fn cached_state_plus_events_equals_a_fresh_snapshot(db: Db) {
    let server = TestServer::start(db).await;
    let [mut op, mut other] = available_operators(&server, ["Bea", "Cy"]).await;
    let (mut visitors, chats) = Visitor::request_chats(&server.base, 5).await;
    for &c in &chats {
        wait_request(&mut op, c).await;
        wait_request(&mut other, c).await;
    }
    op.accept(chats[0]).await.unwrap();
    op.accept(chats[1]).await.unwrap();
    op.hold(chats[1]).await.unwrap();
    op.queue(chats[2]).await.unwrap();
    op.decline(chats[3]).await.unwrap();
    other.accept(chats[4]).await.unwrap();
    op.send(chats[0], "hello").await.unwrap();
    visitors[0].say("x", "hi").await;
    op.end(chats[0]).await.unwrap();
    // Let every event reach the cached state.
    op.set_available(true).await.unwrap();
    while let Ok(Ok(_)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), op.recv()).await
    {}

    let fresh = second_device(&op, &server).await;
    assert_eq!(op.state.requests, fresh.state.requests);
    assert_eq!(op.state.queue, fresh.state.queue);
    assert_eq!(op.state.chats, fresh.state.chats);
    assert_eq!(op.state.operator, fresh.state.operator);
    assert!(op.state.chats.contains_key(&chats[1]) && op.state.queue.contains_key(&chats[2]));
}

async fn a_server_restart_loses_nothing(db: Db) {
    let mut server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Dee").await;
    let (mut visitor, chat) = accepted_chat(&server, &mut op, "Eve").await;
    for i in 0..20 {
        visitor.say(&format!("m{i}"), &format!("message {i}")).await;
    }
    server.restart().await;
    // Both sides reconnect and resume.
    op.reconnect().await.unwrap();
    let mut visitor = visitor.reload().await;
    visitor.wait_message("message 19").await;
    let seq = visitor.say("after", "after restart").await;
    wait_event(
        &mut op,
        chat,
        |k| matches!(k, ChatEventKind::Message { text, .. } if text == "after restart"),
    )
    .await;
    let texts = message_texts(&op, chat);
    assert_eq!(texts.len(), 21);
    assert_eq!(texts[20], "after restart");
    assert_eq!(op.state.last_seq[&chat], seq);
}

async fn a_visitor_who_leaves_before_an_answer_is_missed(db: Db) {
    let server = TestServer::start_with(db, |c| c.visitor_grace_secs = 0.5).await;
    let mut op = available_operator(&server, "Flo").await;
    // A reload within the grace period keeps the request ringing…
    let (visitor, chat) = chat_ringing_for(&server, &mut [&mut op], "Gil").await;
    let mut visitor = visitor.reload().await;
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    let events = server.admin.chat_events(chat, 0).await.unwrap();
    assert_eq!(
        events.last().unwrap().status,
        ChatStatus::Waiting,
        "still ringing after the grace period: {events:?}"
    );
    assert!(op.state.requests.contains_key(&chat));
    // …closing the tab does not: the request stops ringing and the chat is missed.
    visitor
        .send(&switchboard_shared::VisitorClientMsg::Ping)
        .await;
    drop(visitor);
    wait_event(&mut op, chat, |k| {
        *k == ChatEventKind::Ended {
            reason: EndReason::Visitor,
        }
    })
    .await;
    assert!(op.state.requests.is_empty());
    let events = server.admin.chat_events(chat, 0).await.unwrap();
    assert_eq!(events.last().unwrap().status, ChatStatus::Missed);
}

async fn canned_messages_are_shared_by_the_team(db: Db) {
    let server = TestServer::start(db).await;
    let a = server.operator("Hal").await;
    let b = server.operator("Ivy").await;
    let hello = a
        .create_canned("Greeting", "Hello! How can I help you?")
        .await
        .unwrap();
    a.create_canned("Bye", "Thanks for chatting with us.")
        .await
        .unwrap();
    let listed = b.canned().await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
        ["Bye", "Greeting"]
    );
    let edited = b
        .update_canned(hello.id, "Greeting", "Hi there!")
        .await
        .unwrap();
    assert!(edited.updated_at >= hello.updated_at);
    assert_eq!(
        a.canned()
            .await
            .unwrap()
            .iter()
            .find(|c| c.id == hello.id)
            .unwrap()
            .text,
        "Hi there!"
    );
    a.delete_canned(hello.id).await.unwrap();
    assert_eq!(b.canned().await.unwrap().len(), 1);
    assert_eq!(
        a.delete_canned(hello.id).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        a.create_canned(" ", "x").await.unwrap_err().code(),
        Some(ErrorCode::InvalidInput)
    );
}

async fn visitor_profile_shows_pages_visits_and_earlier_chats(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Jay").await;
    let mut visitor = Visitor::connect(&server.base).await;
    for (url, title) in [
        ("https://shop.example.test/bikes", "Bikes"),
        ("https://shop.example.test/cart", "Cart"),
    ] {
        let page = switchboard_shared::Page {
            url: url.into(),
            title: Some(title.into()),
        };
        visitor
            .send(&switchboard_shared::VisitorClientMsg::PageView { page })
            .await;
    }
    let chat = visitor.start_chat("Kai").await.chat_id;
    wait_request(&mut op, chat).await;
    let visitor_id = op.state.requests[&chat].visitor_id;
    let session = server
        .client()
        .login("jay@example.test", switchboard_e2e::OPERATOR_PASSWORD)
        .await
        .unwrap();
    let profile = session.visitor_profile(visitor_id).await.unwrap();
    assert_eq!(profile.name.as_deref(), Some("Kai"));
    let urls: Vec<_> = profile.pages.iter().map(|p| p.page.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://shop.example.test/cart",
            "https://shop.example.test/bikes",
            "https://shop.example.test/pricing"
        ]
    );
    assert_eq!(
        profile.current_page.unwrap().url,
        "https://shop.example.test/cart"
    );
    assert_eq!(profile.visits, 1);
    assert_eq!(
        profile.chats.iter().map(|c| c.id).collect::<Vec<_>>(),
        [chat]
    );
    let err = session
        .visitor_profile(switchboard_shared::VisitorId(424_242))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
}

async fn signing_out_everywhere_ends_live_help(db: Db) {
    let server = TestServer::start(db).await;
    let phone = server.operator("Lea").await;
    let desktop = server
        .client()
        .login("lea@example.test", switchboard_e2e::OPERATOR_PASSWORD)
        .await
        .unwrap();
    phone.set_available(true).await.unwrap();
    assert!(server.client().widget_status().await.unwrap().available);
    phone.logout().await.unwrap();
    assert!(
        server.client().widget_status().await.unwrap().available,
        "still signed in on the desktop"
    );
    desktop.logout().await.unwrap();
    assert!(!server.client().widget_status().await.unwrap().available);
}

async fn an_operator_leading_chats_cannot_be_deleted(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Mo").await;
    let id = op.state.operator.id;
    let (_visitor, chat) = accepted_chat(&server, &mut op, "Ned").await;
    assert_eq!(
        server.admin.delete_operator(id).await.unwrap_err().code(),
        Some(ErrorCode::Conflict)
    );
    op.end(chat).await.unwrap();
    // A ringing chat with nobody else left ends when its only operator is deleted.
    let (mut v2, _) = Visitor::request_chat(&server.base, "Oz").await;
    server.admin.delete_operator(id).await.unwrap();
    assert_eq!(v2.wait_ended().await, EndReason::NoOperator);
    assert!(!server.client().widget_status().await.unwrap().available);
    assert_eq!(
        server.admin.delete_operator(id).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
}

async fn client_ids_are_scoped_by_author_and_survive_the_end(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Pia").await;
    let (mut visitor, chat) = accepted_chat(&server, &mut op, "Rob").await;
    let v = visitor.say("same", "from the visitor").await;
    let o = op
        .send_with_id(chat, "same", "from the operator")
        .await
        .unwrap();
    assert_ne!(v, o, "two authors, two messages");
    assert_eq!(server.message_count().await, 2);
    op.end(chat).await.unwrap();
    visitor.wait_status(ChatStatus::Ended).await;
    // The widget retries a message whose ack it lost: acknowledged again, not refused.
    assert_eq!(visitor.say("same", "from the visitor").await, v);
    // A new message to an ended chat is refused.
    visitor.write("new", "hello?").await;
    assert_eq!(
        visitor.wait_error().await.error.code,
        ErrorCode::IllegalTransition
    );
    assert_eq!(server.message_count().await, 2);
}

/// The admin's `widget_origins`: browsers on other sites are refused (HTTP and WebSocket);
/// allowed sites, Switchboard's own pages and non-browser clients are not.
async fn only_allowed_sites_may_use_the_widget(db: Db) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = TestServer::start(db).await;
    let http = reqwest::Client::new();
    let status_url = format!("{}/api/widget/status", server.base);
    let from = |origin: &str| http.get(&status_url).header("origin", origin).send();
    // Any site by default.
    assert_eq!(
        from("https://evil.example.test").await.unwrap().status(),
        200
    );

    // Bad entries are refused and change nothing.
    let settings = server.admin.settings().await.unwrap();
    assert!(settings.widget_origins.is_empty());
    for bad in [
        "shop.example.test",
        "https://shop.example.test/page",
        "ftp://shop.example.test",
        "https://",
    ] {
        let err = server
            .admin
            .put_settings(&Settings {
                widget_origins: vec![bad.into()],
                ..settings.clone()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidInput), "{bad}");
    }
    assert!(
        server
            .admin
            .settings()
            .await
            .unwrap()
            .widget_origins
            .is_empty()
    );
    // Entries are normalized: lower case, no trailing slash, each once.
    let saved = server
        .admin
        .put_settings(&Settings {
            widget_origins: vec![
                " https://Shop.Example.test/ ".into(),
                "https://shop.example.test".into(),
                "http://localhost:3000".into(),
            ],
            ..settings.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        saved.widget_origins,
        ["https://shop.example.test", "http://localhost:3000"]
    );

    // HTTP: another site is refused with a typed error; the allowed ones, the server's own
    // pages and clients without an Origin are served.
    let refused = from("https://evil.example.test").await.unwrap();
    assert_eq!(refused.status(), 403);
    let err: switchboard_shared::ApiError = refused.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert_eq!(
        from("https://shop.example.test").await.unwrap().status(),
        200
    );
    assert_eq!(from(&server.base).await.unwrap().status(), 200);
    assert_eq!(http.get(&status_url).send().await.unwrap().status(), 200);
    let leave = http
        .post(format!("{}/api/widget/offline-messages", server.base))
        .header("origin", "https://evil.example.test")
        .json(&LeaveMessageRequest {
            visitor_token: None,
            name: "Spam".into(),
            email: "spam@example.test".into(),
            text: "Buy now".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(leave.status(), 403);
    let session = server.operator("Uma").await;
    assert!(
        session.offline_messages().await.unwrap().is_empty(),
        "nothing stored"
    );

    // WebSocket: the handshake from another site is refused; from an allowed site it opens.
    let ws_url = ws_url(&server.base);
    let handshake = |origin: &'static str| {
        let mut req = ws_url.clone().into_client_request().unwrap();
        req.headers_mut().insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    match handshake("https://evil.example.test").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected a refused handshake, got {:?}", other.map(|_| ())),
    }
    assert!(handshake("http://localhost:3000").await.is_ok());
    // The test's own visitor client sends no Origin (not a browser): unaffected.
    let v = Visitor::connect(&server.base).await;
    assert!(matches!(v.welcome, VisitorServerMsg::Welcome { .. }));
}

/// History: the operator's ended chats, newest first, searchable by the visitor's name or a
/// message, a page at a time; each transcript can still be read. Others' chats stay theirs,
/// an admin sees everyone's.
async fn ended_chats_are_found_in_history(db: Db) {
    let server = TestServer::start(db).await;
    let session = server.operator("Hanna").await;
    let mut op = connect_available(&session).await;
    let mut ended = Vec::new();
    for (name, text) in [
        ("Red Racer fan", "Do you ship the Red Racer 3000?"),
        ("Bea", "100% cotton? under_score"),
        ("Cleo", "Just looking"),
    ] {
        let (mut visitor, chat) = accepted_chat(&server, &mut op, name).await;
        visitor.say("q1", text).await;
        op.end(chat).await.unwrap();
        visitor.wait_ended().await;
        ended.push(chat);
    }
    let page = session.history(None, "", 2).await.unwrap();
    let ids: Vec<_> = page.chats.iter().map(|c| c.id).collect();
    assert_eq!(ids, [ended[2], ended[1]], "newest first, two a page");
    let rest = session.history(page.next_before, "", 2).await.unwrap();
    assert_eq!(
        rest.chats.iter().map(|c| c.id).collect::<Vec<_>>(),
        [ended[0]]
    );
    assert_eq!(rest.next_before, None, "the last page");
    let by_text = session.history(None, "red racer 3000", 30).await.unwrap();
    assert_eq!(by_text.chats.len(), 1);
    assert_eq!(by_text.chats[0].id, ended[0]);
    let by_name = session.history(None, "CLEO", 30).await.unwrap();
    assert_eq!(by_name.chats[0].id, ended[2]);
    // Wildcards are searched for as they are; JSON keys are not message text.
    let percent = session.history(None, "100%", 30).await.unwrap();
    assert_eq!(
        percent.chats.iter().map(|c| c.id).collect::<Vec<_>>(),
        [ended[1]]
    );
    assert!(session.history(None, "%", 30).await.unwrap().chats.len() == 1);
    assert!(
        session
            .history(None, "client_id", 30)
            .await
            .unwrap()
            .chats
            .is_empty()
    );
    // The transcript of an ended chat, with who ended it.
    let events = session.chat_events(ended[0], 0).await.unwrap();
    assert!(events.iter().any(|e| matches!(
        e.kind,
        ChatEventKind::Ended {
            reason: EndReason::Operator
        }
    )));
    // Another operator sees none of Hanna's; the admin sees them all.
    let other = server.operator("Ivo").await;
    assert!(other.history(None, "", 30).await.unwrap().chats.is_empty());
    assert_eq!(
        server
            .admin
            .history(None, "", 30)
            .await
            .unwrap()
            .chats
            .len(),
        3
    );
    let err = other.history(None, "x\u{0}", 30).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidInput));
}

/// Live Help Not Available: no request rings for that operator (not live, not in the
/// snapshot), the queue stays in view, and going Available again rings what is ringing now.
async fn not_available_never_rings(db: Db) {
    let server = TestServer::start(db).await;
    let mut on = available_operator(&server, "Nia").await;
    let off_session = server.operator("Omar").await;
    let mut off = off_session.connect().await.unwrap();
    let (_visitor, chat) = chat_ringing_for(&server, &mut [&mut on], "Pia").await;
    // What Omar has been sent by the time his ping is answered: nothing of the request.
    off.ping().await.unwrap();
    assert!(off.state.requests.is_empty(), "{:?}", off.state.requests);
    off.drop_connection();
    off.reconnect().await.unwrap();
    assert!(
        off.state.requests.is_empty(),
        "nothing rings in the snapshot either"
    );
    // Available again: the request that is ringing now rings for him too.
    off.set_available(true).await.unwrap();
    wait_request(&mut off, chat).await;
    off.set_available(false).await.unwrap();
    // The queue stays in view whatever the status.
    on.queue(chat).await.unwrap();
    wait_event(&mut off, chat, |k| {
        matches!(k, ChatEventKind::Queued { .. })
    })
    .await;
    assert!(off.state.queue.contains_key(&chat));
    let (_v2, second) = chat_ringing_for(&server, &mut [&mut on], "Quin").await;
    off.ping().await.unwrap();
    assert!(!off.state.requests.contains_key(&second));
}

/// An operator whose app went away, with no phone to push, cannot answer: after the grace
/// period they count as Not Available and the widgets say so. One with a phone stays.
async fn an_operator_no_app_or_phone_can_reach_goes_not_available(db: Db) {
    let server = TestServer::start_with(db, |c| c.operator_grace_secs = 0.3).await;
    let client = server.client();
    let mut op = available_operator(&server, "Rafa").await;
    assert!(client.widget_status().await.unwrap().available);
    op.drop_connection();
    let gone = wait::poll(
        Duration::from_secs(5),
        Duration::from_millis(50),
        async || (!client.widget_status().await.unwrap().available).then_some(()),
    )
    .await;
    assert!(
        gone.is_some(),
        "Not Available once no app and no phone can reach him"
    );
    // With a phone registered, the operator is still reachable by push.
    let mut session = server.operator("Sol").await;
    session
        .register_device(&RegisterDeviceRequest {
            platform: PushPlatform::Fcm,
            token: "fcm-sol".into(),
            name: None,
            replaces: None,
        })
        .await
        .unwrap();
    let mut sol = connect_available(&session).await;
    sol.drop_connection();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(client.widget_status().await.unwrap().available);
}

/// `/widget.js` goes out compressed as the browser asks (gzip, brotli) and, on a second visit,
/// is revalidated with its ETag instead of downloaded again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_script_is_compressed_and_revalidated() {
    let server = TestServer::start(Db::Sqlite).await;
    let http = reqwest::Client::new();
    let url = format!("{}/widget.js", server.base);
    let plain = http.get(&url).send().await.unwrap();
    let etag = plain.headers()["etag"].to_str().unwrap().to_owned();
    let size = plain.bytes().await.unwrap().len();
    for encoding in ["gzip", "br"] {
        let r = http
            .get(&url)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], encoding);
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        let compressed = r.bytes().await.unwrap().len();
        assert!(
            compressed * 2 < size,
            "{encoding}: {compressed} of {size} bytes"
        );
    }
    let again = http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // JSON answers are compressed too when they are worth it; the demo page has its ETag.
    let page = http.get(&server.base).send().await.unwrap();
    assert!(page.headers().contains_key("etag"));
}
