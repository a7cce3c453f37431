//! The operator's work in hand, in the app's engine against the real backend (issue 9): an
//! action the server refuses when the outbox replays it is kept with its reason and text, not
//! dropped; a chat ended offline shows as ending; drafts stay with their chat across restarts;
//! History lists ended chats (from the server, and from the device when offline) and opens
//! their transcripts; Not Available never rings; visitor messages are announced; the app is
//! back online soon after the server is.

use std::time::{Duration, Instant};

use switchboard_core::app::{AppEvent, server_url};
use switchboard_core::cache::ChatAction;
use switchboard_core::ui::{ConnectionState, UiSnapshot};
use switchboard_e2e::operator_app::AppHarness;
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer, on_both_databases};
use switchboard_shared::{ChatEventKind, ChatId, ChatStatus, EndReason};

on_both_databases!(
    refused_actions_are_kept_with_their_reason_and_text,
    drafts_stay_with_their_chat,
    history_lists_ended_chats_online_and_offline,
    not_available_never_rings_and_visitor_messages_are_announced,
);

fn tab(s: &UiSnapshot, chat: ChatId) -> Option<&switchboard_core::ui::ChatView> {
    s.chats.iter().find(|c| c.chat.id == chat)
}

/// An operator signed in to the app, available, with one accepted chat from `name`.
async fn app_with_chat(
    server: &TestServer,
    operator: &str,
    name: &str,
) -> (switchboard_e2e::TempDir, AppHarness, Visitor, ChatId) {
    let op = server.operator(operator).await;
    let (dir, mut h) = AppHarness::signed_in(server, &op.operator.email).await;
    h.app.set_available(true).await.unwrap();
    let (visitor, chat) = Visitor::request_chat(&server.base, name).await;
    h.until("the request", |s| s.requests.iter().any(|c| c.id == chat))
        .await;
    h.app.act(chat, ChatAction::Accept).await.unwrap();
    h.until("the chat tab", |s| tab(s, chat).is_some()).await;
    (dir, h, visitor, chat)
}

async fn refused_actions_are_kept_with_their_reason_and_text(db: Db) {
    let mut server = TestServer::start(db).await;
    let (dir, mut h, _eva, chat) = app_with_chat(&server, "Rhea", "Eva").await;

    // Offline: End chat, then one more message in the same chat.
    server.stop().await;
    h.until("offline", |s| s.connection != ConnectionState::Online)
        .await;
    h.app.act(chat, ChatAction::End).await.unwrap();
    h.app.send_message(chat, "one more thing").await.unwrap();
    let s = h.app.snapshot();
    let eva = tab(&s, chat).expect("the chat is still shown");
    assert!(eva.ending, "a chat ended offline shows as ending");
    let pending: Vec<(&str, Option<&str>)> = s
        .pending
        .iter()
        .map(|p| (p.label.as_str(), p.visitor.as_deref()))
        .collect();
    assert_eq!(
        pending,
        [("End chat", Some("Eva")), ("Send message", Some("Eva"))],
        "the pending list names the chats"
    );

    // Back online: the end goes through, the message is refused and kept, with why.
    server.start_again().await;
    let s = h
        .until("the outbox answered and the chat ended", |s| {
            s.connection == ConnectionState::Online
                && s.pending.is_empty()
                && tab(s, chat).is_none()
        })
        .await;
    assert_eq!(s.refused.len(), 1, "{:#?}", s.refused);
    let refused = &s.refused[0];
    assert_eq!(refused.label, "Send message");
    assert_eq!(refused.text.as_deref(), Some("one more thing"));
    assert_eq!(refused.visitor.as_deref(), Some("Eva"));
    assert_eq!(refused.chat_id, Some(chat));
    assert!(
        refused.reason.starts_with(char::is_uppercase) && refused.reason.ends_with('.'),
        "a sentence: {:?}",
        refused.reason
    );
    assert_eq!(server.message_count().await, 0, "nothing was stored");

    // It survives a restart of the app; trying again is refused again and kept again.
    drop(h);
    let mut h = AppHarness::open(dir.path());
    let s = h
        .until("online again", |s| s.connection == ConnectionState::Online)
        .await;
    assert_eq!(s.refused.len(), 1, "kept across restarts");
    let first = s.refused[0].id;
    let err = h.app.retry_refused(first).await.unwrap_err();
    assert_eq!(err.code, refused.code);
    let s = h.app.snapshot();
    assert_eq!(s.refused.len(), 1);
    assert_ne!(s.refused[0].id, first, "the retry was a new attempt");
    assert_eq!(s.refused[0].text.as_deref(), Some("one more thing"));

    // Dismissed, it is gone for good; an unknown id is a typed error.
    h.app.dismiss_refused(s.refused[0].id).unwrap();
    assert!(h.app.snapshot().refused.is_empty());
    assert_eq!(
        h.app.retry_refused(first).await.unwrap_err().code,
        "not_found"
    );
    drop(h);
    let h = AppHarness::open(dir.path());
    assert!(h.app.snapshot().refused.is_empty());
    assert_eq!(server.message_count().await, 0);
}

async fn drafts_stay_with_their_chat(db: Db) {
    let server = TestServer::start(db).await;
    let (dir, mut h, mut eva, chat) = app_with_chat(&server, "Ines", "Eva").await;
    let (_farhan, other) = Visitor::request_chat(&server.base, "Farhan").await;
    h.until("Farhan's request", |s| {
        s.requests.iter().any(|c| c.id == other)
    })
    .await;
    h.app.act(other, ChatAction::Accept).await.unwrap();
    h.until("two chats", |s| s.chats.len() == 2).await;

    h.app.set_draft(chat, "Your order ships on").unwrap();
    h.app.set_draft(other, "Hello Farhan").unwrap();
    assert_eq!(
        tab(&h.app.snapshot(), chat).unwrap().draft,
        "Your order ships on"
    );

    // A restart keeps both drafts with their chats.
    drop(h);
    let mut h = AppHarness::open(dir.path());
    let s = h
        .until("online", |s| {
            s.connection == ConnectionState::Online && s.chats.len() == 2
        })
        .await;
    assert_eq!(tab(&s, chat).unwrap().draft, "Your order ships on");
    assert_eq!(tab(&s, other).unwrap().draft, "Hello Farhan");

    // Sending clears the chat's draft, not the other's.
    h.app.send_message(other, "Hello Farhan!").await.unwrap();
    let s = h.app.snapshot();
    assert_eq!(tab(&s, other).unwrap().draft, "");
    assert_eq!(tab(&s, chat).unwrap().draft, "Your order ships on");

    // Eva leaves: her draft goes with her chat; Farhan's tab is untouched.
    eva.end_chat().await;
    let s = h
        .until("Eva's chat ended", |s| tab(s, chat).is_none())
        .await;
    assert_eq!(s.chats.len(), 1);
    drop(h);
    let mut h = AppHarness::open(dir.path());
    let s = h
        .until("online again", |s| s.connection == ConnectionState::Online)
        .await;
    assert!(tab(&s, chat).is_none());
    assert_eq!(tab(&s, other).unwrap().draft, "");
}

async fn history_lists_ended_chats_online_and_offline(db: Db) {
    let mut server = TestServer::start(db).await;
    let (_dir, mut h, mut eva, chat) = app_with_chat(&server, "Jon", "Eva Lindqvist").await;
    eva.say("e1", "my bike has a flat tyre").await;
    h.app.act(chat, ChatAction::Hold).await.unwrap();
    h.app.act(chat, ChatAction::Resume).await.unwrap();
    h.until("resumed", |s| {
        tab(s, chat).is_some_and(|t| t.chat.status == ChatStatus::Active)
    })
    .await;
    eva.end_chat().await;
    eva.wait_status(ChatStatus::Ended).await;
    h.until("ended", |s| tab(s, chat).is_none()).await;

    // Online: the server's History, newest first, searchable; the transcript has every event.
    let page = h.app.history("", None).await.unwrap();
    assert!(!page.from_cache);
    assert_eq!(page.chats.iter().map(|c| c.id).collect::<Vec<_>>(), [chat]);
    assert_eq!(page.chats[0].status, ChatStatus::Ended);
    assert_eq!(page.next_before, None);
    assert_eq!(
        h.app.history("flat tyre", None).await.unwrap().chats.len(),
        1
    );
    assert!(
        h.app
            .history("nothing like it", None)
            .await
            .unwrap()
            .chats
            .is_empty()
    );
    let t = h.app.transcript(chat).await.unwrap();
    assert!(!t.from_cache);
    let kinds: Vec<&str> = t.events.iter().map(|e| kind(&e.kind)).collect();
    for want in ["message", "on_hold", "resumed", "ended"] {
        assert!(kinds.contains(&want), "{want} in {kinds:?}");
    }
    assert!(t.events.iter().any(|e| matches!(
        e.kind,
        ChatEventKind::Ended {
            reason: EndReason::Visitor
        }
    )));

    // Offline: History and the transcript come from the device.
    server.stop().await;
    h.until("offline", |s| s.connection != ConnectionState::Online)
        .await;
    let page = h.app.history("", None).await.unwrap();
    assert!(page.from_cache);
    assert_eq!(
        page.chats.iter().map(|c| c.id).collect::<Vec<_>>(),
        [chat],
        "{:#?}",
        h.app.snapshot()
    );
    assert_eq!(page.chats[0].visitor_name.as_deref(), Some("Eva Lindqvist"));
    assert_eq!(h.app.history("LINDQ", None).await.unwrap().chats.len(), 1);
    assert_eq!(h.app.history("flat", None).await.unwrap().chats.len(), 1);
    assert!(
        h.app
            .history("puncture", None)
            .await
            .unwrap()
            .chats
            .is_empty()
    );
    let kept = h.app.transcript(chat).await.unwrap();
    assert!(kept.from_cache);
    assert_eq!(
        kept.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        t.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        "the device kept every event"
    );
    let err = h.app.transcript(ChatId(999_999)).await.unwrap_err();
    assert_eq!(err.code, "offline");
}

fn kind(k: &ChatEventKind) -> &'static str {
    match k {
        ChatEventKind::Message { .. } => "message",
        ChatEventKind::OnHold { .. } => "on_hold",
        ChatEventKind::Resumed { .. } => "resumed",
        ChatEventKind::Ended { .. } => "ended",
        _ => "other",
    }
}

async fn not_available_never_rings_and_visitor_messages_are_announced(db: Db) {
    let server = TestServer::start(db).await;
    let (_dir, mut h, mut eva, chat) = app_with_chat(&server, "Kai", "Eva").await;
    // A visitor's message in an open chat is announced (the UI sounds, the shell notifies).
    eva.say("e1", "hello?").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, h.events.recv()).await {
            Ok(Some(AppEvent::VisitorMessage { chat: c, text })) => {
                assert_eq!((c.id, text.as_str()), (chat, "hello?"));
                break;
            }
            Ok(Some(_)) => {}
            _ => panic!("no VisitorMessage"),
        }
    }

    // Not Available: a new request does not ring and is not listed; the queue still shows.
    h.app.set_available(false).await.unwrap();
    h.until("not available", |s| {
        s.signed_in.as_ref().is_some_and(|i| !i.operator.available)
    })
    .await;
    let other = server.operator("Lea").await;
    let _lea = switchboard_e2e::operator::connect_available(&other).await;
    let (_v, ringing) = Visitor::request_chat(&server.base, "Farhan").await;
    // A message from Eva after the request proves the app has seen everything before it.
    eva.say("e2", "still there?").await;
    let s = h
        .until("Eva's second message", |s| {
            tab(s, chat).is_some_and(|t| t.messages.len() == 2)
        })
        .await;
    assert!(s.requests.iter().all(|c| c.id != ringing), "not listed");
    while let Ok(e) = h.events.try_recv() {
        assert!(
            !matches!(e, AppEvent::IncomingRequest(_)),
            "Not Available rang: {e:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_is_back_online_soon_after_the_server() {
    let mut server = TestServer::start(Db::Sqlite).await;
    let op = server.operator("Mo").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    server.stop().await;
    h.until("offline", |s| s.connection == ConnectionState::Offline)
        .await;
    // Long enough for the backoff to reach its cap.
    tokio::time::sleep(Duration::from_secs(6)).await;
    server.start_again().await;
    let back = Instant::now();
    h.until("online", |s| s.connection == ConnectionState::Online)
        .await;
    let took = back.elapsed();
    println!("back online {} ms after the server", took.as_millis());
    // The cap is 1.5 s; a generous bound so a loaded machine does not flake.
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // A network change reconnects at once, whatever the backoff.
    server.stop().await;
    h.until("offline", |s| s.connection == ConnectionState::Offline)
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.start_again().await;
    h.app.network_changed();
    h.until("online", |s| s.connection == ConnectionState::Online)
        .await;
}

#[test]
fn a_bare_host_becomes_https() {
    assert_eq!(
        server_url("help.example.com").unwrap(),
        "https://help.example.com"
    );
    assert_eq!(
        server_url(" help.example.com/ ").unwrap(),
        "https://help.example.com"
    );
    assert_eq!(
        server_url("http://127.0.0.1:8080").unwrap(),
        "http://127.0.0.1:8080"
    );
    assert_eq!(
        server_url("https://h.example/sb").unwrap(),
        "https://h.example/sb"
    );
    for bad in ["", "  ", "ftp://h.example", "https://", "http:// bad host"] {
        let e = server_url(bad).unwrap_err();
        assert_eq!(e.code, "invalid_input", "{bad:?}");
        assert!(e.message.ends_with('.'), "{:?}", e.message);
    }
}
