//! The Site Monitor's stream through the real server, on both databases: visitors arriving,
//! changing page, asking for a chat, being answered and leaving become deltas for the operators
//! who subscribed (and only for them); a dropped operator resumes with exactly what it missed,
//! or a fresh snapshot when it cannot; what visitors' browsers say is kept as text, cut to size.

use std::collections::BTreeMap;
use std::time::Duration;

use switchboard_core::Connection;
use switchboard_e2e::operator::{available_operator, wait_request};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{
    ClientInfo, ErrorCode, MAX_CLIENT_TEXT_CHARS, MonitorChange, MonitorDelta, OperatorAction,
    OperatorServerMsg, Page, SiteVisitor, VisitorChat, VisitorClientMsg, VisitorId,
};

switchboard_e2e::on_every_setup!(
    visitors_arrive_browse_chat_and_leave_as_deltas,
    a_dropped_operator_gets_what_it_missed_or_a_snapshot,
    only_subscribers_get_the_stream,
    what_browsers_say_is_kept_as_text_and_cut_to_size,
);

const CHROME_ON_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";

/// The grace period visitors get after their last connection closes (short, for the test).
const GRACE_SECS: f64 = 1.0;

async fn server(db: Db) -> TestServer {
    TestServer::start_with(db, |c| c.visitor_grace_secs = GRACE_SECS).await
}

fn page(path: &str, title: &str) -> Page {
    Page {
        url: format!("https://shop.example.test{path}"),
        title: Some(title.into()),
    }
}

/// An operator's picture of the site, built only from the stream's frames.
#[derive(Default)]
struct Site {
    seq: i64,
    visitors: BTreeMap<i64, SiteVisitor>,
    deltas: Vec<MonitorDelta>,
    snapshots: usize,
}

impl Site {
    /// Applies a monitor frame; false for any other frame.
    fn apply(&mut self, frame: &OperatorServerMsg) -> bool {
        match frame {
            OperatorServerMsg::MonitorSnapshot {
                seq,
                first,
                visitors,
                ..
            } => {
                if *first {
                    self.visitors.clear();
                    self.snapshots += 1;
                }
                self.seq = *seq;
                for v in visitors {
                    self.visitors.insert(v.id.0, v.clone());
                }
            }
            OperatorServerMsg::MonitorDeltas { deltas } => {
                for d in deltas {
                    assert!(d.seq > self.seq, "deltas in order, none twice: {d:?}");
                    self.seq = d.seq;
                    self.deltas.push(d.clone());
                    match &d.change {
                        MonitorChange::Joined { visitor } => {
                            self.visitors.insert(visitor.id.0, visitor.clone());
                        }
                        MonitorChange::Page { id, .. } | MonitorChange::Chat { id, .. } => {
                            let v = self.visitors.get_mut(&id.0).expect("a known visitor");
                            assert!(v.apply(&d.change));
                        }
                        MonitorChange::Left { id } => {
                            self.visitors.remove(&id.0);
                        }
                    }
                }
            }
            _ => return false,
        }
        true
    }

    fn get(&self, id: VisitorId) -> Option<&SiteVisitor> {
        self.visitors.get(&id.0)
    }

    /// Reads frames until the picture satisfies `pred`.
    async fn until(&mut self, op: &mut Connection, what: &str, pred: impl Fn(&Site) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !pred(self) {
            let frame = tokio::time::timeout_at(deadline, op.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("timed out waiting for {what}; site: {:#?}", self.visitors)
                })
                .expect("the connection stays up");
            self.apply(&frame);
        }
    }
}

async fn subscribe(op: &mut Connection, last_seq: Option<i64>) {
    op.request(OperatorAction::MonitorSubscribe { last_seq })
        .await
        .expect("subscribed");
}

async fn visitors_arrive_browse_chat_and_leave_as_deltas(db: Db) {
    let server = server(db).await;
    let mut op = available_operator(&server, "Mona").await;
    subscribe(&mut op, None).await;
    let mut site = Site::default();
    site.until(&mut op, "the first snapshot", |s| s.snapshots == 1)
        .await;
    assert!(site.visitors.is_empty());

    // A visitor arrives from a search, on a phone in Berlin.
    let client = ClientInfo {
        referrer: Some("https://www.google.com/search?q=blue+kettle".into()),
        language: Some("de-DE".into()),
        utc_offset_min: Some(60),
        user_agent: Some(CHROME_ON_ANDROID.into()),
    };
    let mut v = Visitor::connect_with(
        &server.base,
        None,
        None,
        page("/kettles", "Kettles"),
        Some(client),
    )
    .await;
    let id = v.id();
    site.until(&mut op, "the visitor", |s| s.get(id).is_some())
        .await;
    let seen = site.get(id).unwrap().clone();
    assert_eq!(seen.page, page("/kettles", "Kettles"));
    assert_eq!(seen.search_terms.as_deref(), Some("blue kettle"));
    assert_eq!(
        (seen.browser.as_deref(), seen.os.as_deref()),
        (Some("Chrome 120"), Some("Android"))
    );
    assert_eq!(
        (
            seen.language.as_deref(),
            seen.utc_offset_min,
            seen.visits,
            seen.pages
        ),
        (Some("de-DE"), Some(60), 1, 1)
    );
    assert_eq!(seen.chat, VisitorChat::None);

    // Another page, then a chat: ringing with their name, then chatting with Mona.
    v.send(&VisitorClientMsg::PageView {
        page: page("/kettles/blue", "Blue kettle"),
    })
    .await;
    site.until(&mut op, "the page view", |s| {
        s.get(id).is_some_and(|v| v.pages == 2)
    })
    .await;
    assert_eq!(
        site.get(id).unwrap().page.url,
        "https://shop.example.test/kettles/blue"
    );
    let chat = v.start_chat("Greta").await.chat_id;
    site.until(&mut op, "ringing", |s| {
        s.get(id)
            .is_some_and(|v| v.chat == VisitorChat::Ringing { chat_id: chat })
    })
    .await;
    assert_eq!(site.get(id).unwrap().name.as_deref(), Some("Greta"));
    wait_request(&mut op, chat).await;
    op.accept(chat).await.unwrap();
    site.until(&mut op, "chatting", |s| {
        s.get(id).is_some_and(|v| {
            matches!(&v.chat, VisitorChat::Chatting { chat_id, operator } if *chat_id == chat && operator.name == "Mona")
        })
    })
    .await;

    // A second tab of the same visitor changes nothing; closing both, they leave after the
    // grace period (not before).
    let second = Visitor::connect_as(&server.base, Some(v.token.clone()), None).await;
    let before = site.deltas.len();
    drop(v);
    drop(second);
    let closed = tokio::time::Instant::now();
    site.until(&mut op, "the leave", |s| s.get(id).is_none())
        .await;
    assert!(
        closed.elapsed() >= Duration::from_secs_f64(GRACE_SECS * 0.9),
        "left after the grace period: {:?}",
        closed.elapsed()
    );
    // The second tab opened on /pricing: one page view, then (the chat missed or ended) the
    // leave; nothing else.
    let after: Vec<&MonitorChange> = site.deltas[before..].iter().map(|d| &d.change).collect();
    assert!(
        matches!(after.last(), Some(MonitorChange::Left { .. })),
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .all(|c| !matches!(c, MonitorChange::Joined { .. })),
        "{after:?}"
    );
}

async fn a_dropped_operator_gets_what_it_missed_or_a_snapshot(db: Db) {
    let server = server(db).await;
    let mut op = available_operator(&server, "Rita").await;
    let first = Visitor::connect(&server.base).await;
    subscribe(&mut op, None).await;
    let mut site = Site::default();
    site.until(&mut op, "the snapshot", |s| s.get(first.id()).is_some())
        .await;

    // The phone drops off; meanwhile a visitor arrives and the first one browses.
    op.drop_connection();
    let second = Visitor::connect(&server.base).await;
    let mut first = first;
    first
        .send(&VisitorClientMsg::PageView {
            page: page("/contact", "Contact"),
        })
        .await;
    // Let the changes go out (one tick) before the operator is back.
    tokio::time::sleep(Duration::from_millis(600)).await;
    op.reconnect().await.unwrap();
    subscribe(&mut op, Some(site.seq)).await;
    let (id1, id2) = (first.id(), second.id());
    site.until(&mut op, "what was missed", |s| {
        s.get(id2).is_some() && s.get(id1).is_some_and(|v| v.pages == 2)
    })
    .await;
    if db != Db::Cluster {
        assert_eq!(site.snapshots, 1, "resumed with deltas, not a snapshot");
    } // (on a cluster the app may come back on another node, whose stream is another: a snapshot)

    // A seq the server never gave: a snapshot, which agrees with the picture built from deltas.
    let built = site.visitors.clone();
    subscribe(&mut op, Some(site.seq + 1_000_000)).await;
    let mut fresh = Site::default();
    fresh
        .until(&mut op, "a fresh snapshot", |s| s.snapshots == 1)
        .await;
    assert_eq!(fresh.visitors, built);
}

async fn only_subscribers_get_the_stream(db: Db) {
    let server = server(db).await;
    let mut watching = available_operator(&server, "Wanda").await;
    let mut busy = available_operator(&server, "Bea").await;
    subscribe(&mut watching, None).await;
    let mut site = Site::default();
    let v = Visitor::connect(&server.base).await;
    site.until(&mut watching, "the visitor", |s| s.get(v.id()).is_some())
        .await;
    // The operator who never subscribed got no monitor frame (a pong marks the end of what
    // was sent before it).
    busy.ping().await.unwrap();
    loop {
        let frame = busy.recv().await.unwrap();
        assert!(
            !Site::default().apply(&frame),
            "no monitor frame for a non-subscriber: {frame:?}"
        );
        if frame == OperatorServerMsg::Pong {
            break;
        }
    }
    // After unsubscribing, nothing more comes.
    watching
        .request(OperatorAction::MonitorUnsubscribe)
        .await
        .unwrap();
    let _other = Visitor::connect(&server.base).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    watching.ping().await.unwrap();
    loop {
        let frame = watching.recv().await.unwrap();
        assert!(
            !matches!(
                frame,
                OperatorServerMsg::MonitorDeltas { .. } | OperatorServerMsg::MonitorSnapshot { .. }
            ),
            "{frame:?}"
        );
        if frame == OperatorServerMsg::Pong {
            break;
        }
    }
    // A visitor cannot subscribe: an operator's frame on the widget's socket is refused.
    let mut nosy = Visitor::connect(&server.base).await;
    nosy.send_raw(r#"{"type":"monitor_subscribe","last_seq":null}"#)
        .await;
    assert_eq!(nosy.wait_error().await.error.code, ErrorCode::UnknownType);
}

async fn what_browsers_say_is_kept_as_text_and_cut_to_size(db: Db) {
    let server = server(db).await;
    let mut op = available_operator(&server, "Tess").await;
    subscribe(&mut op, None).await;
    let mut site = Site::default();
    site.until(&mut op, "the snapshot", |s| s.snapshots == 1)
        .await;
    let odd = ClientInfo {
        referrer: Some(format!(
            "https://evil.example/<script>alert(1)</script>\u{0}{}",
            "x".repeat(5000)
        )),
        language: Some("<b>en</b>\u{202e}".repeat(10)),
        utc_offset_min: Some(100_000),
        user_agent: Some("\u{0}<img src=x onerror=alert(1)>".into()),
    };
    let v = Visitor::connect_with(&server.base, None, None, page("/", "Home <i>"), Some(odd)).await;
    let id = v.id();
    site.until(&mut op, "the odd visitor", |s| s.get(id).is_some())
        .await;
    let seen = site.get(id).unwrap();
    let referrer = seen.referrer.as_deref().expect("kept");
    assert!(referrer.starts_with("https://evil.example/<script>alert(1)</script>"));
    assert!(referrer.chars().count() <= MAX_CLIENT_TEXT_CHARS);
    assert!(!referrer.contains('\u{0}'));
    assert!(seen.language.as_ref().unwrap().chars().count() <= 35);
    assert_eq!(seen.utc_offset_min, None, "an impossible clock is dropped");
    assert_eq!((seen.browser.as_deref(), seen.os.as_deref()), (None, None));
    assert_eq!(seen.search_terms, None);
}
