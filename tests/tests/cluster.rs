//! Several nodes on one PostgreSQL, joined by a test-local NATS: a visitor on one node and an
//! operator on another chat as if on one node; settings saved on one node are used by all;
//! one node at a time runs the sweeps; a node that stops or dies, or NATS going away, loses
//! nothing (clients resume from their last `seq`, from the database).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use switchboard_e2e::cluster::{Nats, nodes};
use switchboard_e2e::operator::{available_operator, message_texts, wait_message, wait_request};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{ADMIN_PASSWORD, OPERATOR_PASSWORD, TestServer, free_port, wait};
use switchboard_shared::{
    Author, ChatEventKind, ChatId, ChatStatus, PushPlatform, RegisterDeviceRequest,
    VisitorServerMsg,
};

/// How long a node may take to hear of another's change.
const HEAR: Duration = Duration::from_secs(15);

fn seqs_have_no_gap(visitor: &Visitor) {
    let seqs: Vec<i64> = visitor.events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "{seqs:?}"
    );
}

/// Which node runs the sweeps, once one does (at most one ever may).
async fn sweeper(nodes: &[&TestServer]) -> usize {
    let found = wait::poll(HEAR, Duration::from_millis(50), async || {
        let here: Vec<usize> = (0..nodes.len())
            .filter(|i| nodes[*i].state.store.sweeps_here())
            .collect();
        assert!(here.len() <= 1, "two nodes run the sweeps: {here:?}");
        here.first().copied()
    })
    .await;
    found.expect("a node runs the sweeps")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_and_an_operator_on_two_nodes_chat() {
    let nats = Nats::start().await;
    let cluster = nodes(2, &nats, |_| {}).await;
    let (a, b) = (&cluster[0], &cluster[1]);

    // The visitor's widget is on node A; nobody is available yet.
    let mut visitor = Visitor::connect(&a.base).await;
    assert!(matches!(
        visitor.welcome,
        VisitorServerMsg::Welcome {
            available: false,
            ..
        }
    ));
    // The operator's app is on node B: the widget on A learns of it.
    let mut op = available_operator(b, "Olga").await;
    visitor
        .wait_for(|m| matches!(m, VisitorServerMsg::Availability { available: true }))
        .await;
    assert!(a.client().widget_status().await.unwrap().available);

    // The request rings on B, is accepted there; A's visitor sees who took it.
    let requested = visitor.start_chat("Ann").await;
    let chat = requested.chat_id;
    visitor
        .wait_for(|m| matches!(m, VisitorServerMsg::QueuePosition { position: 1, .. }))
        .await;
    wait_request(&mut op, chat).await;
    op.accept(chat).await.unwrap();
    let accepted = visitor.wait_status(ChatStatus::Active).await;
    assert!(
        matches!(accepted.kind, ChatEventKind::Accepted { ref operator } if operator.name == "Olga")
    );

    // Messages both ways, in one order on both sides.
    visitor.say("v1", "Hello from node A").await;
    op.send(chat, "Hello from node B").await.unwrap();
    visitor.wait_message("Hello from node B").await;
    visitor.say("v2", "Thanks").await;
    wait_message(&mut op, chat, "Thanks").await;
    assert_eq!(
        message_texts(&op, chat),
        ["Hello from node A", "Hello from node B", "Thanks"]
    );
    assert!(visitor.events.iter().any(|e| matches!(&e.kind,
        ChatEventKind::Message { author: Author::Operator { name, .. }, text, .. }
            if name == "Olga" && text == "Hello from node B")));
    seqs_have_no_gap(&visitor);

    // Settings saved through node B are used by node A.
    let mut settings = b.admin.settings().await.unwrap();
    settings.operator_name = "Night shift".into();
    b.admin.put_settings(&settings).await.unwrap();
    let heard = wait::poll(HEAR, Duration::from_millis(20), async || {
        (a.state.settings.get().operator_name == "Night shift").then_some(())
    })
    .await;
    assert!(heard.is_some(), "node A never read the new settings");

    // One node runs the sweeps.
    sweeper(&[a, b]).await;

    // The operator goes Not Available on B: the widget on A follows.
    op.set_available(false).await.unwrap();
    visitor
        .wait_for(|m| matches!(m, VisitorServerMsg::Availability { available: false }))
        .await;
}

/// A stranger calling the public status endpoint on node A as fast as sixteen connections go:
/// every call is answered, and no answer is older than its call, even for a change made on
/// node B a moment before (on a cluster the status is read from the database, the reads the
/// callers share one at a time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_status_reads_never_answers_stale() {
    let nats = Nats::start().await;
    let cluster = nodes(2, &nats, |_| {}).await;
    let (a, b) = (&cluster[0], &cluster[1]);
    // The flood goes on until the checks below are done.
    let done = Arc::new(AtomicBool::new(false));
    let flood: Vec<_> = (0..16)
        .map(|_| {
            let (client, done) = (a.client(), done.clone());
            tokio::spawn(async move {
                let mut calls = 0_u32;
                while !done.load(Ordering::Relaxed) {
                    client
                        .widget_status()
                        .await
                        .expect("a status read in the flood");
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    let status = a.client();
    let mut op = available_operator(b, "Olga").await;
    for round in 0..5 {
        assert!(
            status.widget_status().await.unwrap().available,
            "round {round}: available on B, not yet on A"
        );
        op.set_available(false).await.unwrap();
        assert!(
            !status.widget_status().await.unwrap().available,
            "round {round}: not available on B, still available on A"
        );
        op.set_available(true).await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for f in flood {
        assert!(f.await.unwrap() > 0, "a flooding connection got no answer");
    }
}

/// The page node `node` lists the visitor on, once it is `want` (`None`: not on the site).
async fn listed(node: &TestServer, visitor: &Visitor, want: Option<&str>) -> bool {
    let id = visitor.id();
    wait::poll(HEAR, Duration::from_millis(20), async || {
        let page = node.state.monitor.page_of(id);
        (page.as_ref().map(|p| p.url.as_str()) == want).then_some(())
    })
    .await
    .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_monitor_lists_every_nodes_visitors() {
    let nats = Nats::start().await;
    let cluster = nodes(2, &nats, |c| c.visitor_grace_secs = 0.5).await;
    let (a, b) = (&cluster[0], &cluster[1]);
    let pricing = "https://shop.example.test/pricing";
    let contact = "https://shop.example.test/contact";
    // A visitor on node A is on node B's Site Monitor, page by page.
    let mut v = Visitor::connect(&a.base).await;
    assert!(
        listed(b, &v, Some(pricing)).await,
        "B never listed A's visitor"
    );
    v.send(&switchboard_shared::VisitorClientMsg::PageView {
        page: switchboard_shared::Page {
            url: contact.into(),
            title: Some("Contact".into()),
        },
    })
    .await;
    assert!(
        listed(b, &v, Some(contact)).await,
        "B never saw the page view"
    );
    // A second tab on node B, then the first closes: still on the site.
    let id = v.id();
    let second = Visitor::connect_as(&b.base, Some(v.token.clone()), None).await;
    drop(v);
    tokio::time::sleep(Duration::from_millis(1_500)).await; // past the grace
    assert!(a.state.monitor.page_of(id).is_some() && b.state.monitor.page_of(id).is_some());
    // The last tab closes: the visitor leaves both lists after the grace.
    drop(second);
    let left = wait::poll(HEAR, Duration::from_millis(20), async || {
        (a.state.monitor.page_of(id).is_none() && b.state.monitor.page_of(id).is_none())
            .then_some(())
    })
    .await;
    assert!(left.is_some(), "the visitor who left is still listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_cap_holds_when_two_nodes_accept_at_once() {
    let nats = Nats::start().await;
    let cluster = nodes(2, &nats, |_| {}).await;
    let (a, b) = (&cluster[0], &cluster[1]);
    let mut settings = a.admin.settings().await.unwrap();
    settings.max_chats_per_operator = 1;
    a.admin.put_settings(&settings).await.unwrap();
    // One operator, with the app open on node A and on node B.
    let mut on_a = available_operator(a, "Cap").await;
    let mut on_b = b
        .client()
        .login(&on_a.state.operator.email, OPERATOR_PASSWORD)
        .await
        .unwrap()
        .connect()
        .await
        .unwrap();
    for round in 0..10 {
        let (_v1, c1) = Visitor::request_chat(&a.base, "One").await;
        let (_v2, c2) = Visitor::request_chat(&b.base, "Two").await;
        for chat in [c1, c2] {
            wait_request(&mut on_a, chat).await;
            wait_request(&mut on_b, chat).await;
        }
        // Each app takes a different chat at the same moment: one of them is over the cap.
        let (took_1, took_2) = tokio::join!(on_a.accept(c1), on_b.accept(c2));
        assert!(
            took_1.is_ok() != took_2.is_ok(),
            "round {round}: exactly one chat within a cap of 1 ({took_1:?}, {took_2:?})"
        );
        let (open, other) = if took_1.is_ok() { (c1, c2) } else { (c2, c1) };
        let app = if took_1.is_ok() { &mut on_a } else { &mut on_b };
        app.end(open).await.unwrap();
        app.decline(other).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_open_on_another_node_spares_its_phone_a_push() {
    let nats = Nats::start().await;
    let cluster = nodes(2, &nats, |_| {}).await;
    let (a, b) = (&cluster[0], &cluster[1]);
    let mut session = b.operator("Pia").await;
    let device = session
        .register_device(&RegisterDeviceRequest {
            platform: PushPlatform::Fcm,
            token: "fcm-pia-token".into(),
            name: Some("Pia's phone".into()),
            replaces: None,
        })
        .await
        .unwrap()
        .id;
    let online_at_a = async |want: bool| {
        wait::poll(HEAR, Duration::from_millis(20), async || {
            (a.state.hub.is_device_online(device) == want).then_some(())
        })
        .await
        .is_some()
    };
    assert!(!a.state.hub.is_device_online(device));
    // The app opens on node B, in the foreground: node A, which decides the pushes for the
    // requests its visitors make, knows the phone need not ring.
    let mut app = session.connect().await.unwrap();
    app.set_device(device).await.unwrap();
    assert!(
        online_at_a(true).await,
        "node A never heard the app is open on B"
    );
    // In the background it is pushed again, everywhere.
    app.set_background(true).await.unwrap();
    assert!(online_at_a(false).await, "node A still spares the phone");
    app.set_background(false).await.unwrap();
    assert!(online_at_a(true).await);
    app.close().await;
    assert!(
        online_at_a(false).await,
        "the closed app still spares the phone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_going_away_loses_nothing() {
    let mut nats = Nats::start().await;
    let cluster = nodes(2, &nats, |_| {}).await;
    let (a, b) = (&cluster[0], &cluster[1]);
    let mut op = available_operator(b, "Nia").await;
    let (mut visitor, chat) = request_on(&a.base, &mut op, "Sam").await;
    visitor.say("v1", "before").await;
    wait_message(&mut op, chat, "before").await;

    // NATS dies; the visitor goes on writing on A (stored and acknowledged all the same).
    nats.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    visitor.say("v2", "while NATS was away").await;
    visitor.say("v3", "and again").await;
    nats.start_again().await;

    // Back on the bus, each node cuts its connections off (they may have missed the other's
    // events), once when it reconnects and once when the other says it is back; the app and
    // the widget reconnect after each drop, as they do after any, and resume from the last
    // seq they saw, from the database: what they missed comes once.
    op.timeout = Duration::from_secs(30);
    assert!(op.wait_for(|_| false).await.is_err() && !op.is_connected());
    op.timeout = Duration::from_secs(3);
    app_until(&mut op, chat, "and again").await;
    assert_eq!(
        message_texts(&op, chat),
        ["before", "while NATS was away", "and again"]
    );
    assert!(
        visitor.wait_for_close().await,
        "the widget on A was not cut off"
    );

    // And the bus works again both ways (a retry reuses its client id: stored once).
    for _ in 0..10 {
        if !op.is_connected() {
            let _ = op.reconnect().await;
        }
        if op.send_with_id(chat, "op-1", "welcome back").await.is_ok() {
            break;
        }
    }
    let mut visitor = widget_until(visitor, "welcome back").await;
    loop {
        visitor.write("v4", "thanks").await;
        if visitor
            .recv_until(
                |m| matches!(m, VisitorServerMsg::Ack { client_id, .. } if client_id == "v4"),
            )
            .await
        {
            break;
        }
        visitor = visitor.reconnect().await;
    }
    app_until(&mut op, chat, "thanks").await;
    assert_eq!(
        message_texts(&op, chat),
        [
            "before",
            "while NATS was away",
            "and again",
            "welcome back",
            "thanks"
        ]
    );
}

/// The operator's app until `text` is in `chat`: reconnecting after each drop, as the app does.
async fn app_until(op: &mut switchboard_core::Connection, chat: ChatId, text: &str) {
    for _ in 0..20 {
        if message_texts(op, chat).iter().any(|t| t == text) {
            return;
        }
        if !op.is_connected() {
            let _ = op.reconnect().await;
            continue;
        }
        let _ = op.wait_for(|m| is_message(m, chat, text)).await;
    }
    panic!("the operator never got {text:?}");
}

/// The widget until it has the message `text`: reconnecting after each drop, as it does.
async fn widget_until(mut visitor: Visitor, text: &str) -> Visitor {
    for _ in 0..20 {
        if visitor.texts().iter().any(|t| t == text) {
            return visitor;
        }
        let wanted = |m: &VisitorServerMsg| {
            matches!(m, VisitorServerMsg::Event { event }
                if matches!(&event.kind, ChatEventKind::Message { text: t, .. } if t == text))
        };
        if !visitor.recv_until(wanted).await {
            visitor = visitor.reconnect().await;
        }
    }
    panic!("the visitor never got {text:?}");
}

fn is_message(m: &switchboard_shared::OperatorServerMsg, chat: ChatId, text: &str) -> bool {
    matches!(m, switchboard_shared::OperatorServerMsg::Event { event, .. }
        if event.chat_id == chat
            && matches!(&event.kind, ChatEventKind::Message { text: t, .. } if t == text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_chat_loses_nothing() {
    let nats = Nats::start().await;
    let cluster = nodes(1, &nats, |_| {}).await;
    let b = &cluster[0];
    // Node A is a process of its own, killed with SIGKILL below.
    let mut a = NodeProcess::start(b).await;
    let mut op = available_operator(b, "Kim").await;
    let (mut visitor, chat) = request_on(&a.base, &mut op, "Lee").await;
    visitor.say("v1", "one").await;
    wait_message(&mut op, chat, "one").await;
    visitor.say("v2", "two").await; // acknowledged: stored
    let stays_on_a = Visitor::connect(&a.base).await;
    assert!(listed(b, &stays_on_a, Some("https://shop.example.test/pricing")).await);
    a.kill();

    // The widget reconnects to the node that is left and resumes from its last seq.
    let seen = visitor.events.last().unwrap().seq;
    let token = visitor.token.clone();
    drop(visitor);
    op.send(chat, "three").await.unwrap();
    let mut visitor = Visitor::connect_as(&b.base, Some(token), Some(seen)).await;
    visitor.wait_message("three").await;
    assert!(visitor.events.iter().all(|e| e.seq > seen));
    visitor.say("v3", "four").await;
    wait_message(&mut op, chat, "two").await;
    wait_message(&mut op, chat, "four").await;
    assert_eq!(message_texts(&op, chat), ["one", "two", "three", "four"]);
    // The sweeps are run by the node left; the dead node's visitors leave its Site Monitor.
    assert_eq!(sweeper(&[b]).await, 0);
    assert!(
        listed(b, &stays_on_a, None).await,
        "the dead node's visitor is still listed"
    );
}

/// A visitor on the node at `base` asks for a chat, which `op` (on whichever node) accepts.
async fn request_on(
    base: &str,
    op: &mut switchboard_core::Connection,
    name: &str,
) -> (Visitor, ChatId) {
    let (mut visitor, chat) = Visitor::request_chat(base, name).await;
    wait_request(op, chat).await;
    op.accept(chat).await.unwrap();
    visitor.wait_status(ChatStatus::Active).await;
    (visitor, chat)
}

/// One more node of `peer`'s cluster, a process of its own (`src/bin/cluster_node.rs`).
struct NodeProcess {
    child: Child,
    base: String,
}

impl NodeProcess {
    async fn start(peer: &TestServer) -> NodeProcess {
        let port = free_port();
        let config = &peer.config;
        let child = Command::new(env!("CARGO_BIN_EXE_cluster_node"))
            .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("SWITCHBOARD_DATABASE_URL", &config.database_url)
            .env("SWITCHBOARD_NATS_URL", config.nats_url.as_deref().unwrap())
            .env("SWITCHBOARD_SECRET_KEY_FILE", &config.secret_key_file)
            .env("SWITCHBOARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("SWITCHBOARD_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let up = wait::poll(
            Duration::from_secs(30),
            Duration::from_millis(50),
            async || {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
            },
        )
        .await;
        assert!(up.is_some(), "the node process did not start");
        NodeProcess { child, base }
    }

    /// SIGKILL: no goodbye to anyone.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
