//! The widget in real headless Chromium against the real backend, with the operator driven
//! through `mobile/core`: ask → accept → messages both ways (links are links, markup is
//! text) → hold and resume → reload mid-chat → end; and queue → leave a message.
//!
//! Needs Debian's `chromium` and `chromium-driver` (the README's test command installs them).

use serde_json::{Value, json};
use switchboard_core::Connection;
use switchboard_e2e::webdriver::{Browser, FIND_CONTROL};
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{ChatEventKind, ChatId, OperatorServerMsg};

/// The visible text of the widget.
const TEXT: &str = r#"
const root = document.querySelector('#switchboard-widget')?.shadowRoot;
return root ? root.textContent : '';
"#;

async fn click(b: &Browser, name: &str) {
    b.click_found(
        &format!("button {name:?}"),
        FIND_CONTROL,
        json!(["button", name, true]),
    )
    .await;
}

async fn fill(b: &Browser, name: &str, text: &str) {
    b.type_found(
        &format!("textbox {name:?}"),
        FIND_CONTROL,
        json!(["textbox", name, true]),
        text,
    )
    .await;
}

async fn wait_text(b: &Browser, text: &str) {
    let script = format!("{TEXT}\n// then\n");
    let check = script.replace(
        "return root ? root.textContent : '';",
        "return root ? root.textContent.includes(arguments[0]) : false;",
    );
    b.wait(&format!("text {text:?}"), &check, json!([text]))
        .await;
}

async fn wait_request(op: &mut Connection) -> ChatId {
    if let Some(id) = op.state.requests.keys().next() {
        return *id;
    }
    match op
        .wait_for(|m| matches!(m, OperatorServerMsg::Event { event, .. } if matches!(event.kind, ChatEventKind::Requested { .. })))
        .await
        .unwrap()
    {
        OperatorServerMsg::Event { event, .. } => event.chat_id,
        _ => unreachable!(),
    }
}

async fn wait_message(op: &mut Connection, chat: ChatId, text: &str) {
    if op
        .state
        .messages(chat)
        .iter()
        .any(|e| matches!(&e.kind, ChatEventKind::Message { text: t, .. } if t == text))
    {
        return;
    }
    op.wait_for(|m| matches!(m, OperatorServerMsg::Event { event, .. } if event.chat_id == chat && matches!(&event.kind, ChatEventKind::Message { text: t, .. } if t == text)))
        .await
        .unwrap_or_else(|e| panic!("operator never got {text:?}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_chats_with_an_operator_in_chromium() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Olivia").await;
    let mut op = session.connect().await.unwrap();
    op.set_available(true).await.unwrap();

    let b = Browser::launch(1280, 900).await;
    b.goto(&format!("{}/", server.base)).await;
    wait_text(&b, "Live Help Available").await;
    click(&b, "Click for Live Help").await;
    wait_text(&b, "Open chat with operator").await;
    fill(&b, "Chat name (optional)", "Brenda").await;
    click(&b, "Text chat").await;

    // "Routing your call…" with a progress bar and the queue position.
    wait_text(&b, "Routing your call…").await;
    b.wait("a progress bar", "return !!document.querySelector('#switchboard-widget').shadowRoot.querySelector('progress, [role=progressbar]')", json!([])).await;
    wait_text(&b, "Position in queue: 1").await;

    let chat = wait_request(&mut op).await;
    assert_eq!(
        op.state.requests[&chat].visitor_name.as_deref(),
        Some("Brenda")
    );
    op.accept(chat).await.unwrap();
    wait_text(&b, "Chat with operator").await;
    wait_text(&b, "Olivia").await;

    fill(&b, "Message", "Hi, my order has not arrived").await;
    click(&b, "Send").await;
    wait_message(&mut op, chat, "Hi, my order has not arrived").await;

    op.send(
        chat,
        "Track it at https://track.example.test/42 or write to help@example.test.",
    )
    .await
    .unwrap();
    let payload = r#"<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold?</b>"#;
    op.send(chat, payload).await.unwrap();
    wait_text(&b, "bold?</b>").await;
    let links = b
        .js(
            "return [...document.querySelector('#switchboard-widget').shadowRoot.querySelectorAll('[role=log] a')].map(a => a.href)",
            json!([]),
        )
        .await;
    let links: Vec<String> = serde_json::from_value(links).unwrap();
    assert!(
        links.contains(&"https://track.example.test/42".to_string()),
        "{links:?}"
    );
    assert!(
        links.contains(&"mailto:help@example.test".to_string()),
        "{links:?}"
    );
    let injected = b
        .js(
            "const log = document.querySelector('#switchboard-widget').shadowRoot.querySelector('[role=log]');\
             return { scripts: log.querySelectorAll('script, img, b').length, pwned: window.__pwned ?? null };",
            json!([]),
        )
        .await;
    assert_eq!(
        injected,
        json!({ "scripts": 0, "pwned": null }),
        "markup must render as text"
    );

    // Hold and resume: the visitor is told.
    op.hold(chat).await.unwrap();
    wait_text(&b, "On hold").await;
    wait_text(&b, "will be right back").await;
    op.resume(chat).await.unwrap();
    wait_text(&b, "The operator is back.").await;

    // Reload mid-chat: the chat comes back with its history, and carries on.
    b.refresh().await;
    wait_text(&b, "Hi, my order has not arrived").await;
    wait_text(&b, "bold?</b>").await;
    fill(&b, "Message", "Still here after a reload").await;
    click(&b, "Send").await;
    wait_message(&mut op, chat, "Still here after a reload").await;
    let texts: Vec<_> = op
        .state
        .messages(chat)
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::Message { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 4, "each message once: {texts:?}");

    op.end(chat).await.unwrap();
    wait_text(&b, "The operator has ended the chat.").await;
    let shot = std::env::temp_dir().join("switchboard-widget-chat.png");
    b.screenshot(&shot).await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_visitor_leaves_a_message_in_chromium() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Quinn").await;
    let mut op = session.connect().await.unwrap();
    op.set_available(true).await.unwrap();

    let b = Browser::launch(390, 844).await; // a phone
    b.goto(&format!("{}/", server.base)).await;
    click(&b, "Click for Live Help").await;
    click(&b, "Text chat").await;
    let chat = wait_request(&mut op).await;
    op.queue(chat).await.unwrap();
    wait_text(&b, "The operator is busy, your call has been queued.").await;
    click(&b, "Leave a message").await;
    fill(&b, "Your name", "Rita").await;
    fill(&b, "E-mail", "rita@example.test").await;
    fill(&b, "Message", "Please call me about the blue bike").await;
    click(&b, "Send message").await;
    wait_text(&b, "Thank you! Your message has been sent.").await;

    let left = session.offline_messages().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].name.as_str(), left[0].email.as_str()),
        ("Rita", "rita@example.test")
    );
    assert_eq!(left[0].text, "Please call me about the blue bike");
    b.quit().await;

    // Nobody available: the launcher says so and opens "Leave a message" at once.
    op.set_available(false).await.unwrap();
    let b = Browser::launch(1280, 900).await;
    b.goto(&format!("{}/", server.base)).await;
    wait_text(&b, "Live Help Not Available").await;
    click(&b, "Click for Live Help").await;
    let _: Value = b
        .wait(
            "the leave-a-message form",
            FIND_CONTROL,
            json!(["button", "Send message", true]),
        )
        .await;
    b.quit().await;
}
