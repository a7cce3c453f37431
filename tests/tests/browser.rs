//! The widget in real headless Chromium against the real backend, with the operator driven
//! through `mobile/core`: ask → accept → messages both ways (links are links, markup is
//! text) → hold and resume → reload mid-chat → end; and queue → leave a message.
//!
//! Needs Debian's `chromium` and `chromium-driver` (the README's test command installs them).

use serde_json::{Value, json};
use switchboard_e2e::operator::{connect_available, message_texts, next_request, wait_message};
use switchboard_e2e::webdriver::{Browser, FIND_CONTROL};
use switchboard_e2e::{Db, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_chats_with_an_operator_in_chromium() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Olivia").await;
    let mut op = connect_available(&session).await;

    let b = Browser::launch(1280, 900).await;
    b.goto(&format!("{}/", server.base)).await;
    b.see("Live Help Available").await;
    b.click("Click for Live Help").await;
    b.see("Open chat with operator").await;
    b.fill("Chat name (optional)", "Brenda").await;
    b.click("Text chat").await;

    // "Routing your call…" with a progress bar and the queue position.
    b.see("Routing your call…").await;
    b.wait("a progress bar", "return !!document.querySelector('#switchboard-widget').shadowRoot.querySelector('progress, [role=progressbar]')", json!([])).await;
    b.see("Position in queue: 1").await;

    let chat = next_request(&mut op).await;
    assert_eq!(
        op.state.requests[&chat].visitor_name.as_deref(),
        Some("Brenda")
    );
    op.accept(chat).await.unwrap();
    b.see("Chat with operator").await;
    b.see("Olivia").await;

    b.fill("Message", "Hi, my order has not arrived").await;
    b.click("Send").await;
    wait_message(&mut op, chat, "Hi, my order has not arrived").await;

    op.send(
        chat,
        "Track it at https://track.example.test/42 or write to help@example.test.",
    )
    .await
    .unwrap();
    let payload = r#"<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold?</b>"#;
    op.send(chat, payload).await.unwrap();
    b.see("bold?</b>").await;
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
    b.see("On hold").await;
    b.see("will be right back").await;
    op.resume(chat).await.unwrap();
    b.see("The operator is back.").await;

    // Reload mid-chat: the chat comes back with its history, and carries on.
    b.refresh().await;
    b.see("Hi, my order has not arrived").await;
    b.see("bold?</b>").await;
    b.fill("Message", "Still here after a reload").await;
    b.click("Send").await;
    wait_message(&mut op, chat, "Still here after a reload").await;
    let texts = message_texts(&op, chat);
    assert_eq!(texts.len(), 4, "each message once: {texts:?}");

    op.end(chat).await.unwrap();
    b.see("The operator has ended the chat.").await;
    let shot = std::env::temp_dir().join("switchboard-widget-chat.png");
    b.screenshot(&shot).await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_visitor_leaves_a_message_in_chromium() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Quinn").await;
    let mut op = connect_available(&session).await;

    let b = Browser::launch(390, 844).await; // a phone
    b.goto(&format!("{}/", server.base)).await;
    b.click("Click for Live Help").await;
    b.click("Text chat").await;
    let chat = next_request(&mut op).await;
    op.queue(chat).await.unwrap();
    b.see("The operator is busy, your call has been queued.")
        .await;
    b.click("Leave a message").await;
    b.fill("Your name", "Rita").await;
    b.fill("E-mail", "rita@example.test").await;
    b.fill("Message", "Please call me about the blue bike")
        .await;
    b.click("Send message").await;
    b.see("Thank you! Your message has been sent.").await;

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
    b.see("Live Help Not Available").await;
    b.click("Click for Live Help").await;
    let _: Value = b
        .wait(
            "the leave-a-message form",
            FIND_CONTROL,
            json!(["button", "Send message", true]),
        )
        .await;
    b.quit().await;
}
