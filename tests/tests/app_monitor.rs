//! The Site Monitor in the operator app's engine, against the real server on both databases:
//! opening it subscribes and shows who is on the site (from the snapshot, then as they come),
//! with their pages, chat state and leaving; closing it stops the updates, and opening it again
//! resumes with what was missed; an open one subscribes again when the connection comes back.

use std::time::Duration;

use switchboard_core::app::AppEvent;
use switchboard_core::cache::ChatAction;
use switchboard_core::monitor::MonitorView;
use switchboard_e2e::operator_app::AppHarness;
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer, on_both_databases};
use switchboard_shared::{
    ClientInfo, Page, SiteVisitor, VisitorChat, VisitorClientMsg, VisitorId, VisitorServerMsg,
};

on_both_databases!(
    the_monitor_follows_visitors_arriving_browsing_chatting_and_leaving,
    a_closed_monitor_gets_nothing_and_resumes_when_opened,
    an_open_monitor_subscribes_again_after_a_reconnect,
    the_app_invites_a_visitor_from_the_monitor,
);

const FIREFOX_ON_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";

async fn server(db: Db) -> TestServer {
    TestServer::start_with(db, |c| c.visitor_grace_secs = 1.0).await
}

fn page(path: &str, title: &str) -> Page {
    Page {
        url: format!("https://shop.example.test{path}"),
        title: Some(title.into()),
    }
}

fn find(view: &MonitorView, id: VisitorId) -> Option<&SiteVisitor> {
    view.visitors.iter().find(|v| v.id == id)
}

async fn the_monitor_follows_visitors_arriving_browsing_chatting_and_leaving(db: Db) {
    let server = server(db).await;
    let op = server.operator("Mona").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    h.app.set_available(true).await.unwrap();

    // One visitor is on the site before the monitor opens: the snapshot has them.
    let client = ClientInfo {
        referrer: Some("https://www.google.com/search?q=blue+kettle".into()),
        language: Some("de-DE".into()),
        utc_offset_min: Some(60),
        user_agent: Some(FIREFOX_ON_WINDOWS.into()),
    };
    let mut greta = Visitor::connect_with(
        &server.base,
        None,
        None,
        page("/kettles", "Kettles"),
        Some(client),
    )
    .await;
    let greta_id = greta.id();
    h.app.monitor_open().await.unwrap();
    let view = h
        .until_monitor("the snapshot", |v| find(v, greta_id).is_some())
        .await;
    let seen = find(&view, greta_id).unwrap();
    assert_eq!(seen.page, page("/kettles", "Kettles"));
    assert_eq!(seen.search_terms.as_deref(), Some("blue kettle"));
    assert_eq!(seen.browser.as_deref(), Some("Firefox 121"));
    assert_eq!((view.on_site, view.chatting, view.waiting), (1, 0, 0));
    assert!(!view.loading);

    // Another arrives and browses: a delta each.
    let mut hugo = Visitor::connect_with(&server.base, None, None, page("/", "Home"), None).await;
    let hugo_id = hugo.id();
    h.until_monitor("the second visitor", |v| v.on_site == 2)
        .await;
    hugo.send(&VisitorClientMsg::PageView {
        page: page("/bikes", "Bikes"),
    })
    .await;
    let view = h
        .until_monitor("the page view", |v| {
            find(v, hugo_id).is_some_and(|v| v.pages == 2)
        })
        .await;
    assert_eq!(find(&view, hugo_id).unwrap().page, page("/bikes", "Bikes"));
    assert_eq!(
        view.visitors.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![greta_id, hugo_id],
        "longest on the site first"
    );

    // Greta asks for a chat: waiting, with her name; the app accepts: chatting.
    let chat = greta.start_chat("Greta").await.chat_id;
    let view = h.until_monitor("ringing", |v| v.waiting == 1).await;
    assert_eq!(
        find(&view, greta_id).unwrap().name.as_deref(),
        Some("Greta")
    );
    h.app.act(chat, ChatAction::Accept).await.unwrap();
    let view = h
        .until_monitor("chatting", |v| v.chatting == 1 && v.waiting == 0)
        .await;
    assert!(matches!(
        &find(&view, greta_id).unwrap().chat,
        VisitorChat::Chatting { operator, .. } if operator.name == "Mona"
    ));

    // Hugo closes his tab: he leaves after the grace period.
    drop(hugo);
    let view = h
        .until_monitor("the leave", |v| find(v, hugo_id).is_none())
        .await;
    assert_eq!(view.on_site, 1);
    // The chats' snapshot never carries the monitor (it goes out on every change).
    assert_eq!(h.app.monitor_view(), view);
}

async fn a_closed_monitor_gets_nothing_and_resumes_when_opened(db: Db) {
    let server = server(db).await;
    let op = server.operator("Rita").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    let first = Visitor::connect(&server.base).await;
    let first_id = first.id();
    h.app.monitor_open().await.unwrap();
    h.until_monitor("the snapshot", |v| find(v, first_id).is_some())
        .await;

    // Closed: a visitor arrives, nothing is emitted and the list is not updated.
    h.app.monitor_close().await;
    tokio::time::sleep(Duration::from_millis(300)).await; // a batch in flight may still land
    while h.events.try_recv().is_ok() {}
    let second = Visitor::connect(&server.base).await;
    let second_id = second.id();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    while let Ok(event) = h.events.try_recv() {
        assert!(
            !matches!(event, AppEvent::Monitor(_)),
            "nothing while closed: {event:?}"
        );
    }
    assert!(find(&h.app.monitor_view(), second_id).is_none());

    // Opened again: the list kept meanwhile is shown at once, and what was missed follows.
    let now = h.app.monitor_open().await.unwrap();
    assert!(find(&now, first_id).is_some() && !now.loading);
    let view = h
        .until_monitor("what was missed", |v| find(v, second_id).is_some())
        .await;
    assert_eq!(view.on_site, 2);
    drop((first, second));
}

async fn an_open_monitor_subscribes_again_after_a_reconnect(db: Db) {
    let mut server = server(db).await;
    let op = server.operator("Sam").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    let before = Visitor::connect(&server.base).await;
    h.app.monitor_open().await.unwrap();
    h.until_monitor("the snapshot", |v| v.on_site == 1).await;

    // The server restarts: its seqs start anew, so the app's resume gets a fresh snapshot
    // (the visitor from before has not come back), then the live deltas.
    drop(before);
    server.restart().await;
    h.until("online again", |s| {
        s.connection == switchboard_core::ui::ConnectionState::Online
    })
    .await;
    h.until_monitor("the fresh snapshot", |v| v.on_site == 0)
        .await;
    let after = Visitor::connect(&server.base).await;
    let after_id = after.id();
    h.until_monitor("a visitor after the restart", |v| {
        find(v, after_id).is_some()
    })
    .await;
}

async fn the_app_invites_a_visitor_from_the_monitor(db: Db) {
    let server = server(db).await;
    let op = server.operator("Ivo").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    let mut v = Visitor::connect(&server.base).await;
    let id = v.id();
    h.app.monitor_open().await.unwrap();
    h.until_monitor("the visitor", |view| find(view, id).is_some())
        .await;
    h.app.invite(id, "Hello! I'm %name%.").await.unwrap();
    // The visitor gets the invitation; the monitor shows them invited by Ivo.
    let invited = v
        .wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if matches!(event.kind, switchboard_shared::ChatEventKind::Invited { .. })))
        .await;
    assert!(
        matches!(&invited, VisitorServerMsg::Event { event } if matches!(&event.kind, switchboard_shared::ChatEventKind::Invited { text, operator } if text == "Hello! I'm Support." && operator.name == "Ivo")),
        "{invited:?}"
    );
    h.until_monitor("invited", |view| {
        find(view, id).is_some_and(
            |x| matches!(&x.chat, VisitorChat::Invited { operator, .. } if operator.name == "Ivo"),
        )
    })
    .await;
    // A second invitation while the first is open is refused, with the server's reason.
    let again = h.app.invite(id, "Hi again").await.unwrap_err();
    assert_eq!(again.code, "illegal_transition");
    // Start Chat: the chat is the app's own at once.
    v.send(&VisitorClientMsg::StartChat {
        name: Some("Vida".into()),
        mode: switchboard_shared::Mode::Text,
    })
    .await;
    h.until("the chat", |s| {
        s.chats
            .iter()
            .any(|c| c.chat.visitor_name.as_deref() == Some("Vida"))
    })
    .await;
}
