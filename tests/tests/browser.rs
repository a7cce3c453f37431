//! The widget in real headless Chromium against the real backend, with the operator driven
//! through `mobile/core`: ask → accept → messages both ways (links are links, markup is
//! text) → hold and resume → reload mid-chat → end; and queue → leave a message.
//!
//! Every state of the widget is then looked at on two phones and a desktop: nothing wider
//! than the screen, every control on screen, uncovered and (on phones) at least 44×44 px,
//! and axe-core finds nothing; a screenshot of each is kept to be looked at.
//!
//! Needs Debian's `chromium` and `chromium-driver` (the README's test command installs them),
//! and `npm ci` in `widget/` (for axe-core).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_e2e::operator::{connect_available, message_texts, next_request, wait_message};
use switchboard_e2e::smtp::{Security, SmtpSink};
use switchboard_e2e::webdriver::{Browser, FIND_CONTROL};
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{MonitorChange, OperatorAction, OperatorServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

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

/// The next visitor to arrive on the site, as the operator's Site Monitor stream shows them.
async fn joined_visitor(op: &mut switchboard_core::Connection) -> switchboard_shared::SiteVisitor {
    loop {
        let frame = op.recv().await.expect("the operator's connection stays up");
        if let OperatorServerMsg::MonitorDeltas { deltas } = frame
            && let Some(visitor) = deltas.into_iter().find_map(|d| match d.change {
                MonitorChange::Joined { visitor } => Some(visitor),
                _ => None,
            })
        {
            return visitor;
        }
    }
}

/// The widget tells the Site Monitor what the browser says about the visitor: the operator's
/// stream shows Chromium on Linux, its language and clock, and the other site it came from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_monitor_sees_the_visitors_browser() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Sonia").await;
    let mut op = connect_available(&session).await;
    op.request(OperatorAction::MonitorSubscribe { last_seq: None })
        .await
        .unwrap();
    let b = Browser::launch(1280, 900).await;
    // Another site (localhost is another origin than 127.0.0.1) links to the shop.
    let other = server.base.replacen("127.0.0.1", "localhost", 1);
    b.goto(&format!("{other}/healthz")).await;
    b.js(
        "location.href = arguments[0];",
        json!([format!("{}/", server.base)]),
    )
    .await;
    b.see("Live Help Available").await;
    let visitor = joined_visitor(&mut op).await;
    assert_eq!(visitor.page.url, format!("{}/", server.base));
    assert!(
        visitor
            .browser
            .as_deref()
            .is_some_and(|b| b.starts_with("Chrome ")),
        "{visitor:?}"
    );
    assert_eq!(visitor.os.as_deref(), Some("Linux"));
    assert!(visitor.language.is_some(), "{visitor:?}");
    assert!(visitor.utc_offset_min.is_some(), "{visitor:?}");
    assert!(
        visitor
            .referrer
            .as_deref()
            .is_some_and(|r| r.starts_with(&other)),
        "{visitor:?}"
    );
    b.quit().await;
}

/// An operator's invitation in the widget: an incoming chat request with the operator's words
/// as text (markup stays text); Start Chat by keyboard leads to "Open chat with operator" and
/// the chat opens with the inviting operator; the close control (by keyboard) declines the next
/// one, and the operator is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_shows_with_start_chat_and_close() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Iris").await;
    let mut op = connect_available(&session).await;
    op.request(OperatorAction::MonitorSubscribe { last_seq: None })
        .await
        .unwrap();
    let b = Browser::launch(390, 844).await;
    b.goto(&format!("{}/", server.base)).await;
    b.see("Live Help Available").await;
    let visitor_id = joined_visitor(&mut op).await.id;
    let words = "<img src=x onerror=alert(1)> Hello! I'm %name%.";
    op.request(OperatorAction::Invite {
        visitor_id,
        text: words.into(),
    })
    .await
    .unwrap();
    b.see("Incoming chat request").await;
    b.see("<img src=x onerror=alert(1)> Hello! I'm Support.")
        .await;
    b.see("Iris").await;
    let images = b
        .js(
            "return document.querySelector('#switchboard-widget').shadowRoot.querySelectorAll('img').length",
            json!([]),
        )
        .await;
    assert_eq!(images, json!(0), "the operator's words are text");
    // Start Chat by keyboard (it has the focus), then a text chat.
    let start = b.control("button", "Start Chat").await;
    b.type_text(&start, "\u{E007}").await;
    b.see("Open chat with operator").await;
    b.fill("Chat name (optional)", "Ines").await;
    b.click("Text chat").await;
    b.see("Chat with operator").await;
    let chat = op
        .wait_for(|m| matches!(m, OperatorServerMsg::Event { chat, .. } if chat.status == switchboard_shared::ChatStatus::Active))
        .await
        .unwrap();
    let OperatorServerMsg::Event { chat, .. } = chat else {
        unreachable!()
    };
    assert_eq!(chat.visitor_name.as_deref(), Some("Ines"));
    assert_eq!(chat.operator.map(|o| o.name).as_deref(), Some("Iris"));

    // The chat ends; the next invitation is closed with the close control: declined.
    op.end(chat.id).await.unwrap();
    b.see("The operator has ended the chat.").await;
    b.click("Close").await;
    op.request(OperatorAction::Invite {
        visitor_id,
        text: "Anything else?".into(),
    })
    .await
    .unwrap();
    b.see("Anything else?").await;
    // The close control by keyboard: it declines.
    let close = b.control("button", "Close").await;
    b.type_text(&close, "\u{E007}").await;
    op.wait_for(|m| matches!(m, OperatorServerMsg::Event { event, .. } if event.kind == switchboard_shared::ChatEventKind::Ended { reason: switchboard_shared::EndReason::Declined }))
        .await
        .unwrap();
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

/// The launcher's unread count and the first line it shows, once there is a count (the
/// argument, when given).
const UNREAD: &str = r#"
const root = document.querySelector('#switchboard-widget').shadowRoot;
const n = root.querySelector('#sb-n'), pv = root.querySelector('#sb-pv');
if (n.hidden || !n.getClientRects().length) return null;
const count = n.querySelector('[aria-hidden]').textContent;
if (arguments[0] && count !== arguments[0]) return null;
return { count, line: pv.textContent, pv: !pv.hidden };
"#;

/// Whether the message holding the text is in view in the chat's message list.
const IN_VIEW: &str = r#"
const log = document.querySelector('#switchboard-widget').shadowRoot.querySelector('[role=log]');
const m = [...log.querySelectorAll('.m')].find((e) => e.textContent.includes(arguments[0]));
if (!m || !log.getClientRects().length) return null;
const a = m.getBoundingClientRect(), b = log.getBoundingClientRect();
return a.top >= b.top - 1 && a.bottom <= b.bottom + 1 ? 'in view' : 'scrolled away';
"#;

/// The page pretends the visitor went to another tab (or back).
const PAGE_HIDDEN: &str = r#"
Object.defineProperty(document, 'hidden', { configurable: true, get: () => arguments[0] });
document.dispatchEvent(new Event('visibilitychange'));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_a_minimized_chat_shows_on_the_launcher() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Olivia").await;
    let mut op = connect_available(&session).await;
    let b = Browser::launch(1280, 900).await;
    b.goto(&format!("{}/", server.base)).await;
    b.click("Click for Live Help").await;
    b.click("Text chat").await;
    let chat = next_request(&mut op).await;
    op.accept(chat).await.unwrap();
    b.see("Chat with operator").await;
    // Enough history that the message list scrolls.
    for i in 1..=20 {
        op.send(chat, &format!("Earlier message {i}"))
            .await
            .unwrap();
    }
    b.see("Earlier message 20").await;

    b.click("Minimize").await;
    let title = b.js("return document.title", json!([])).await;
    b.js(PAGE_HIDDEN, json!([true])).await;
    op.send(chat, "Your bike is ready.\nCome and get it before six")
        .await
        .unwrap();
    let shown = b.wait("the unread badge", UNREAD, json!([null])).await;
    assert_eq!(
        shown,
        json!({ "count": "1", "line": "Olivia: Your bike is ready.", "pv": true }),
        "the launcher shows the count and the first line"
    );
    // The tab's title takes turns with the news, and with the page's own title.
    b.wait(
        "the title to flash",
        "return document.title === '(1) New message'",
        json!([]),
    )
    .await;
    b.wait(
        "the page's title between flashes",
        "return document.title === arguments[0]",
        json!([title]),
    )
    .await;
    op.send(chat, "Anything else?").await.unwrap();
    let shown = b.wait("the count to go up", UNREAD, json!(["2"])).await;
    assert_eq!(shown["line"], "Olivia: Anything else?");

    // Opening shows the new messages, and the badge and the flashing stop.
    b.click("Click for Live Help").await;
    let seen = b
        .wait(
            "the first unread message",
            IN_VIEW,
            json!(["Your bike is ready."]),
        )
        .await;
    assert_eq!(seen, json!("in view"), "the chat opens on what was unread");
    let left = b
        .js(
            "const r = document.querySelector('#switchboard-widget').shadowRoot; return [r.querySelector('#sb-n').hidden, document.title]",
            json!([]),
        )
        .await;
    assert_eq!(left, json!([true, title]));
    b.quit().await;
}

/// What is wrong with the layout of the widget as it is now, one line each: an element wider
/// than the viewport or sticking out of it sideways, content that scrolls sideways, a control
/// off screen or covered, or (when the argument is true) smaller than 44×44 CSS px. Links
/// inside message text are words in a sentence, not controls of their own.
const LAYOUT_PROBLEMS: &str = r#"
const [phone] = arguments;
const root = document.querySelector('#switchboard-widget').shadowRoot;
const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
const say = (el) => {
  const label = el.labels && el.labels.length ? el.labels[0].textContent : '';
  const text = (el.getAttribute('aria-label') || label || el.textContent || '').trim().slice(0, 40);
  return `<${el.tagName.toLowerCase()} class="${el.getAttribute('class') || ''}"> "${text}"`;
};
const out = [];
for (const el of root.querySelectorAll('*')) {
  if (el.tagName === 'STYLE') continue;
  for (const r of el.getClientRects()) {
    if (r.width > vw + 0.5 || r.left < -0.5 || r.right > vw + 0.5) {
      out.push(`${say(el)} spans x ${r.left.toFixed(1)}..${r.right.toFixed(1)}, the viewport is ${vw} wide`);
    }
  }
  const css = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const srOnly = box.width <= 1 && box.height <= 1; // text for screen readers only
  if (!srOnly && el.scrollWidth > el.clientWidth + 1 && css.overflowX !== 'visible' && css.textOverflow !== 'ellipsis') {
    out.push(`${say(el)} scrolls sideways: ${el.scrollWidth} px of content in ${el.clientWidth}`);
  }
}
const controls = root.querySelectorAll('button, input, textarea, select, a[href], [tabindex]');
for (const el of controls) {
  if (el.closest('.m')) continue;
  const r = el.getBoundingClientRect();
  if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
  if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) {
    out.push(`${say(el)} is not all on screen: ${r.left.toFixed(1)},${r.top.toFixed(1)}..${r.right.toFixed(1)},${r.bottom.toFixed(1)} of ${vw}×${vh}`);
    continue;
  }
  const hit = root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit || !(hit === el || el.contains(hit) || (el.labels && [...el.labels].includes(hit)))) {
    out.push(`${say(el)} is covered by ${hit ? say(hit) : 'nothing of the widget'}`);
  }
  if (phone && (r.width < 43.99 || r.height < 43.99)) {
    out.push(`${say(el)} is ${r.width.toFixed(1)}×${r.height.toFixed(1)} px, under 44×44`);
  }
}
return out;
"#;

/// Loads axe-core into the page once (its source is the argument).
const LOAD_AXE: &str = r#"
if (!window.axe) {
  const s = document.createElement('script');
  s.textContent = arguments[0];
  document.head.append(s);
}
return !!window.axe;
"#;

/// axe-core on the widget's host (it reaches into the shadow root): each violation with the
/// elements it was found on.
const AXE_VIOLATIONS: &str = r#"
const host = document.querySelector('#switchboard-widget');
return axe.run(host, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) =>
  `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target) + ' ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join('; ')}`));
"#;

/// Looks at each state of the widget in one browser: layout, axe-core, a screenshot.
struct Inspector<'a> {
    b: &'a Browser,
    /// "390x844" and the like: names the screenshots and the problems.
    size: String,
    phone: bool,
    axe: String,
    shots: PathBuf,
    problems: Vec<String>,
}

impl<'a> Inspector<'a> {
    fn new(b: &'a Browser, width: u32, height: u32, phone: bool) -> Inspector<'a> {
        let axe_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../widget/node_modules/axe-core/axe.min.js"
        );
        let axe = std::fs::read_to_string(axe_path)
            .unwrap_or_else(|e| panic!("{axe_path}: {e} (run npm ci in widget/)"));
        // Kept out of the repository: set SWITCHBOARD_SCREENSHOTS to keep them elsewhere.
        let shots = std::env::var_os("SWITCHBOARD_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("widget-screenshots")
            });
        std::fs::create_dir_all(&shots).unwrap();
        Inspector {
            b,
            size: format!("{width}x{height}"),
            phone,
            axe,
            shots,
            problems: Vec::new(),
        }
    }

    /// Looks at the widget as it is now, which the test calls `state`.
    async fn look(&mut self, state: &str) {
        let shot = self.shots.join(format!("{}-{state}.png", self.size));
        self.b.screenshot(&shot).await;
        let layout = self.b.js(LAYOUT_PROBLEMS, json!([self.phone])).await;
        self.b
            .wait("axe-core to load", LOAD_AXE, json!([self.axe]))
            .await;
        let axe = self.b.js(AXE_VIOLATIONS, json!([])).await;
        for found in [layout, axe] {
            let found: Vec<String> = serde_json::from_value(found).unwrap();
            let at = format!("{} {state}", self.size);
            self.problems
                .extend(found.into_iter().map(|p| format!("{at}: {p}")));
        }
    }

    /// Fails the test with every problem seen, in every state.
    fn assert_none(self) {
        assert!(
            self.problems.is_empty(),
            "{} problems (screenshots in {}):\n{}",
            self.problems.len(),
            self.shots.display(),
            self.problems.join("\n")
        );
    }
}

/// Walks the widget through every state a visitor meets (connecting, launcher, the open
/// dialog, routing, queued, the chat with a long unbroken link, reconnecting, unread news on
/// the launcher, the ended chat, leave a message, with errors, thanks) and looks at each.
async fn every_state_fits(width: u32, height: u32, phone: bool) {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Olivia").await;
    let mut op = connect_available(&session).await;
    let b = if phone {
        Browser::launch_phone(width, height).await
    } else {
        Browser::launch(width, height).await
    };
    let mut look = Inspector::new(&b, width, height, phone);
    let network = Network::start(server.addr).await;

    network.set(Net::Stalled);
    b.goto(&format!("{}/", network.base)).await;
    b.see("Connecting…").await;
    look.look("connecting").await;
    network.set(Net::Up);
    b.see("Live Help Available").await;
    look.look("launcher").await;

    // An operator's invitation, long, then closed (declined).
    op.request(OperatorAction::MonitorSubscribe { last_seq: None })
        .await
        .unwrap();
    let snapshot = op
        .wait_for(|m| matches!(m, OperatorServerMsg::MonitorSnapshot { visitors, .. } if !visitors.is_empty()))
        .await
        .unwrap();
    let OperatorServerMsg::MonitorSnapshot { visitors, .. } = snapshot else {
        unreachable!()
    };
    op.request(OperatorAction::MonitorUnsubscribe)
        .await
        .unwrap();
    let words = format!(
        "Hello! I'm %name%. If you have any questions or requests I'm ready to help you. Just click \"Start Chat\" button to start a conversation. {}",
        "https://shop.example.test/a-very-long-unbroken-address-".repeat(3)
    );
    op.request(OperatorAction::Invite {
        visitor_id: visitors[0].id,
        text: words,
    })
    .await
    .unwrap();
    b.see("Incoming chat request").await;
    look.look("invitation").await;
    b.click("Close").await;
    b.see("Live Help Available").await;

    b.click("Click for Live Help").await;
    b.see("Open chat with operator").await;
    look.look("open").await;
    b.click("Text chat").await;
    b.see("Position in queue: 1").await;
    look.look("routing").await;

    let chat = next_request(&mut op).await;
    op.queue(chat).await.unwrap();
    b.see("your call has been queued").await;
    look.look("queued").await;

    op.accept(chat).await.unwrap();
    b.see("Chat with operator").await;
    op.send(
        chat,
        &format!(
            "Your parcel: https://track.example.test/{}",
            "a1b2".repeat(60)
        ),
    )
    .await
    .unwrap();
    let order = format!("Thanks, {} is my order", "9".repeat(120));
    b.fill("Message", &order).await;
    b.click("Send").await;
    wait_message(&mut op, chat, &order).await;
    b.see("a1b2a1b2").await;
    look.look("chat").await;
    network.set(Net::Down);
    b.see("Reconnecting…").await;
    look.look("reconnecting").await;
    network.set(Net::Up);
    b.see("Connected").await;

    b.click("Minimize").await;
    op.send(
        chat,
        &format!(
            "Here is what I found: {}\nand more",
            "a-very-long-word".repeat(20)
        ),
    )
    .await
    .unwrap();
    b.wait("the unread badge", UNREAD, json!([null])).await;
    look.look("unread").await;
    b.click("Click for Live Help").await;
    b.see("Chat with operator").await;

    op.end(chat).await.unwrap();
    b.see("The operator has ended the chat.").await;
    look.look("ended").await;
    // With mail configured: "Mail me this chat transcript", with a long address.
    let sink = SmtpSink::start(Security::None, false).await;
    let mail = sink.settings("Acme <support@acme.example>", &[]);
    server.admin.put_mail_settings(&mail).await.unwrap();
    b.see("Mail me this chat transcript").await;
    let address = "maximilian.alexander.featherstonehaugh-worthington@extremely-long-mail-provider-name.example.test";
    b.fill("Mail me this chat transcript", address).await;
    b.click("Send").await;
    b.see(&format!("The transcript was sent to {address}."))
        .await;
    look.look("transcript-sent").await;
    b.click("Close").await;

    op.set_available(false).await.unwrap();
    b.see("Live Help Not Available").await;
    look.look("launcher-not-available").await;
    b.click("Click for Live Help").await;
    b.control("button", "Send message").await;
    look.look("leave").await;
    b.click("Send message").await;
    b.see("Please enter your e-mail address.").await;
    look.look("leave-errors").await;
    b.fill("Your name", "Rita").await;
    b.fill("E-mail", "rita@example.test").await;
    b.fill("Message", "Please call me back").await;
    b.click("Send message").await;
    b.see("Thank you! Your message has been sent.").await;
    look.look("thanks").await;

    look.assert_none();
    b.quit().await;
}

/// "Mail me this chat transcript": absent until mail is configured, then shown at the end of
/// the chat (live, without a reload); Send mails it, and the visitor is told where it went.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visitor_mails_the_transcript_in_chromium() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Olivia").await;
    let mut op = connect_available(&session).await;
    let sink = SmtpSink::start(Security::None, false).await;
    let b = Browser::launch(1280, 900).await;
    b.goto(&format!("{}/", server.base)).await;
    b.click("Click for Live Help").await;
    b.click("Text chat").await;
    let chat = next_request(&mut op).await;
    op.accept(chat).await.unwrap();
    b.fill("Message", "Where is <b>my</b> order?").await;
    b.click("Send").await;
    wait_message(&mut op, chat, "Where is <b>my</b> order?").await;
    op.end(chat).await.unwrap();
    b.see("The operator has ended the chat.").await;
    let field_shown = "const f = document.querySelector('#switchboard-widget').shadowRoot.querySelector('#sb-mail-to'); \
                       return !!f && f.getClientRects().length > 0";
    assert_eq!(
        b.js(field_shown, json!([])).await,
        json!(false),
        "no mail: no field"
    );

    // The admin sets the mail parameters: the field appears on the open page.
    let mail = sink.settings("Acme Support <support@acme.example>", &[]);
    server.admin.put_mail_settings(&mail).await.unwrap();
    b.see("Mail me this chat transcript").await;
    b.fill("Mail me this chat transcript", "not an address")
        .await;
    b.click("Send").await;
    b.see("Please enter a valid e-mail address.").await;
    let field = b.control("textbox", "Mail me this chat transcript").await;
    b.clear(&field).await;
    b.type_text(&field, "brenda@example.test").await;
    b.click("Send").await;
    b.see("The transcript was sent to brenda@example.test.")
        .await;
    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_tos, ["brenda@example.test"]);
    let text = got[0].text.as_deref().unwrap();
    assert!(text.contains(": Where is <b>my</b> order?"), "{text}");
    assert!(
        got[0]
            .html
            .as_deref()
            .unwrap()
            .contains("Where is &lt;b&gt;my&lt;/b&gt; order?")
    );

    // Mail removed: the field goes away.
    server.admin.delete_mail_settings().await.unwrap();
    let field_gone = field_shown.replace("return !!f &&", "return !f || !(");
    let field_gone = format!("{field_gone})");
    b.wait("the field to go", &field_gone, json!([])).await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_fits_a_390_px_phone() {
    every_state_fits(390, 844, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_fits_a_360_px_phone() {
    every_state_fits(360, 740, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_fits_a_desktop() {
    every_state_fits(1280, 900, false).await;
}

/// How the network between the browser and the server behaves for the widget's WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    /// Bytes flow.
    Up,
    /// Bytes wait and connections stay open: a slow or stalled mobile network.
    Stalled,
    /// Connections close and new ones are refused.
    Down,
}

/// A TCP relay between the browser and the server that stands in for the visitor's network:
/// page loads and HTTP calls always pass; the widget's WebSocket goes as [`Net`] says.
struct Network {
    /// The server's address through the relay, as `http://…`.
    base: String,
    net: watch::Sender<Net>,
    accept: tokio::task::JoinHandle<()>,
}

impl Network {
    async fn start(server: SocketAddr) -> Network {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (net, watching) = watch::channel(Net::Up);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let _ = client.set_nodelay(true);
                tokio::spawn(relay(client, server, watching.clone()));
            }
        });
        Network { base, net, accept }
    }

    fn set(&self, net: Net) {
        self.net.send_replace(net);
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// One connection through the relay; a WebSocket is told apart by its first request line.
async fn relay(mut client: TcpStream, server: SocketAddr, net: watch::Receiver<Net>) {
    let mut first = vec![0u8; 8192];
    let Ok(n) = client.read(&mut first).await else {
        return;
    };
    first.truncate(n);
    let websocket = first.starts_with(b"GET /api/widget/ws");
    if websocket && *net.borrow() == Net::Down {
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(server).await else {
        return;
    };
    let _ = upstream.set_nodelay(true);
    if !websocket {
        if upstream.write_all(&first).await.is_ok() {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
        return;
    }
    let (from_client, to_client) = client.into_split();
    let (from_server, to_server) = upstream.into_split();
    let mut down = net.clone();
    tokio::select! {
        () = pump(first, from_client, to_server, net.clone()) => {}
        () = pump(Vec::new(), from_server, to_client, net.clone()) => {}
        _ = down.wait_for(|n| *n == Net::Down) => {}
    }
    // Both halves of both sockets drop here: the connection is gone at both ends.
}

/// Forwards what one side sends to the other, holding it while the network is stalled.
async fn pump(
    mut held: Vec<u8>,
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut net: watch::Receiver<Net>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if !held.is_empty() {
            let up = net
                .wait_for(|n| *n != Net::Stalled)
                .await
                .is_ok_and(|n| *n == Net::Up);
            if !up || to.write_all(&held).await.is_err() {
                return;
            }
            held.clear();
        }
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => held.extend_from_slice(&buf[..n]),
        }
    }
}

/// The launcher's caption.
const CAPTION: &str = "return document.querySelector('#switchboard-widget').shadowRoot.querySelector('.cap').textContent";

/// From now on, remembers whether the widget ever says "Live Help Not Available".
const WATCH_NOT_AVAILABLE: &str = r#"
const root = document.querySelector('#switchboard-widget').shadowRoot;
const look = () => { if (root.textContent.includes('Not Available')) window.__sawNotAvailable = true; };
look();
new MutationObserver(look).observe(root, { subtree: true, childList: true, characterData: true });
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_connection_says_connecting_never_not_available() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Olivia").await;
    let mut op = connect_available(&session).await;
    let network = Network::start(server.addr).await;
    network.set(Net::Stalled); // the page loads; the WebSocket does not answer yet
    let b = Browser::launch(390, 844).await;
    b.goto(&format!("{}/", network.base)).await;
    b.js(WATCH_NOT_AVAILABLE, json!([])).await;
    b.see("Connecting…").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(b.js(CAPTION, json!([])).await, json!("Connecting…"));

    // The visitor may ask meanwhile: the dialog opens (not the message form) and says so.
    b.click("Click for Live Help").await;
    b.see("Open chat with operator").await;
    b.see("Connecting…").await;
    b.click("Text chat").await;
    b.see("Routing your call…").await;

    // The network catches up: the request goes, the line goes away, the chat opens.
    network.set(Net::Up);
    let chat = next_request(&mut op).await;
    b.wait(
        "the connection line to go",
        "return !document.querySelector('#switchboard-widget').shadowRoot.textContent.includes('Connecting')",
        json!([]),
    )
    .await;
    op.accept(chat).await.unwrap();
    b.see("Chat with operator").await;
    b.click("Minimize").await;
    b.see("Live Help Available").await;
    let saw = b
        .js("return window.__sawNotAvailable ?? false", json!([]))
        .await;
    assert_eq!(
        saw,
        json!(false),
        "never Not Available while an operator was"
    );
    b.quit().await;
}

/// How many messages in the chat's list hold the text.
const COPIES: &str = r#"
const log = document.querySelector('#switchboard-widget').shadowRoot.querySelector('[role=log]');
return [...log.querySelectorAll('.m')].filter((m) => m.textContent.includes(arguments[0])).length;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_says_reconnecting_then_connected() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Olivia").await;
    let mut op = connect_available(&session).await;
    let network = Network::start(server.addr).await;
    let b = Browser::launch(1280, 900).await;
    b.goto(&format!("{}/", network.base)).await;
    b.click("Click for Live Help").await;
    b.click("Text chat").await;
    let chat = next_request(&mut op).await;
    op.accept(chat).await.unwrap();
    b.see("Chat with operator").await;

    // The connection drops: the chat says so at once, and what the visitor writes waits.
    network.set(Net::Down);
    b.see("Reconnecting…").await;
    b.fill("Message", "Typed while the network was down").await;
    b.click("Send").await;
    b.see("Sending…").await;
    network.set(Net::Up);
    b.see("Connected").await;
    wait_message(&mut op, chat, "Typed while the network was down").await;
    b.wait(
        "the connection line to go",
        "return !document.querySelector('#switchboard-widget').shadowRoot.textContent.includes('Connected')",
        json!([]),
    )
    .await;

    // Minimized, the launcher says it.
    b.click("Minimize").await;
    network.set(Net::Down);
    b.wait(
        "the launcher to say Reconnecting…",
        &format!("return (() => {{ {CAPTION} }})() === 'Reconnecting…'"),
        json!([]),
    )
    .await;
    network.set(Net::Up);
    b.see("Live Help Available").await;
    b.click("Click for Live Help").await;

    // The connection stalls (no close, no bytes): the heartbeat notices well within a minute.
    network.set(Net::Stalled);
    op.send(chat, "Sent while the network stalled")
        .await
        .unwrap();
    b.fill("Message", "Typed while the network stalled").await;
    b.click("Send").await;
    b.wait_up_to(
        Duration::from_secs(25),
        "Reconnecting… after a stall",
        "return document.querySelector('#switchboard-widget').shadowRoot.textContent.includes('Reconnecting…')",
        json!([]),
    )
    .await;
    network.set(Net::Up);
    b.see("Connected").await;
    b.see("Sent while the network stalled").await;
    wait_message(&mut op, chat, "Typed while the network stalled").await;
    for text in [
        "Typed while the network was down",
        "Sent while the network stalled",
        "Typed while the network stalled",
    ] {
        assert_eq!(b.js(COPIES, json!([text])).await, json!(1), "{text:?} once");
    }
    let texts = message_texts(&op, chat);
    assert_eq!(texts.len(), 3, "each message once: {texts:?}");
    b.quit().await;
}

/// Each field of the message form: whether it is marked wrong, the error shown right under
/// it, and the text it is described by; and which field has the focus.
const LEAVE_FIELDS: &str = r#"
const root = document.querySelector('#switchboard-widget').shadowRoot;
const fields = ['name', 'email', 'text'].map((key) => {
  const el = root.getElementById('sb-leave-' + key);
  const next = el.nextElementSibling;
  const by = el.getAttribute('aria-describedby');
  return {
    invalid: el.getAttribute('aria-invalid') === 'true',
    under: next && next.classList.contains('err') && !next.hidden ? next.textContent : null,
    described: by ? root.getElementById(by).textContent : null,
  };
});
return { fields, focus: root.activeElement ? root.activeElement.id : null };
"#;

/// A field of [`LEAVE_FIELDS`] that is right (None) or wrong with this error.
fn field(error: Option<&str>) -> Value {
    json!({ "invalid": error.is_some(), "under": error, "described": error })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_a_message_says_which_field_is_wrong() {
    let server = TestServer::start(Db::Sqlite).await;
    let b = Browser::launch_phone(390, 844).await;
    b.goto(&format!("{}/", server.base)).await;
    b.see("Live Help Not Available").await;
    b.click("Click for Live Help").await;

    // Nothing filled in: each field says what it needs, and the first one has the focus.
    b.click("Send message").await;
    b.see("Please enter your name.").await;
    let state = b.js(LEAVE_FIELDS, json!([])).await;
    assert_eq!(
        state,
        json!({ "fields": [
            field(Some("Please enter your name.")),
            field(Some("Please enter your e-mail address.")),
            field(Some("Please enter a message.")),
        ], "focus": "sb-leave-name" })
    );

    // Markup after an address is no address: said next to the e-mail field, nothing sent.
    b.fill("Your name", "Rita").await;
    b.fill("E-mail", "user@example.com<script>alert(1)</script>")
        .await;
    b.fill("Message", "Please call me about the blue bike")
        .await;
    b.click("Send message").await;
    b.see("That is not an e-mail address.").await;
    let state = b.js(LEAVE_FIELDS, json!([])).await;
    assert_eq!(
        state,
        json!({ "fields": [
            field(None),
            field(Some("That is not an e-mail address.")),
            field(None),
        ], "focus": "sb-leave-email" })
    );

    // What only the server refuses is shown against the field it is about.
    let email = b.control("textbox", "E-mail").await;
    b.clear(&email).await;
    b.fill("E-mail", "rita@example.test").await;
    b.js(
        "const el = document.querySelector('#switchboard-widget').shadowRoot.getElementById('sb-leave-name');\
         el.value = 'Rita\u{FDD0}'; el.dispatchEvent(new Event('input'));",
        json!([]),
    )
    .await;
    b.click("Send message").await;
    let refused = "Name holds a character that is not allowed (U+FDD0).";
    b.see(refused).await;
    let state = b.js(LEAVE_FIELDS, json!([])).await;
    assert_eq!(
        state,
        json!({ "fields": [field(Some(refused)), field(None), field(None)], "focus": "sb-leave-name" })
    );
    let stored = server.admin.offline_messages().await.unwrap();
    assert!(stored.is_empty(), "nothing was stored: {stored:?}");

    // Corrected, it goes.
    let name = b.control("textbox", "Your name").await;
    b.clear(&name).await;
    b.fill("Your name", "Rita").await;
    assert_eq!(
        b.js(LEAVE_FIELDS, json!([])).await["fields"][0],
        field(None)
    );
    b.click("Send message").await;
    b.see("Thank you! Your message has been sent.").await;
    // Stored before the widget says so.
    let stored = server.admin.offline_messages().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].name.as_str(), stored[0].email.as_str()),
        ("Rita", "rita@example.test")
    );
    b.quit().await;
}

/// Run before any script of each page: keeps every WebSocket frame the page sends and gets.
const RECORD_FRAMES: &str = r#"
window.__frames = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (e) => window.__frames.push({ dir: 'in', frame: JSON.parse(e.data) }));
  }
  send(data) {
    window.__frames.push({ dir: 'out', frame: JSON.parse(data) });
    super.send(data);
  }
};
"#;

/// The frames this page sent (`out`) or got (`in`) of a type.
const FRAMES: &str = r#"
const [dir, type] = arguments;
return window.__frames.filter((f) => f.dir === dir && f.frame.type === type).map((f) => f.frame);
"#;

/// The last seq the tab keeps for a reload, once it is the highest seq the page has got (an
/// event's, or an ack's).
const KEPT_SEQ: &str = r#"
const got = window.__frames.filter((f) => f.dir === 'in')
  .map((f) => f.frame.type === 'event' ? f.frame.event.seq : f.frame.type === 'ack' ? f.frame.seq : 0);
const key = Object.keys(sessionStorage).find((k) => k.startsWith('switchboard.chat'));
const kept = key ? JSON.parse(sessionStorage.getItem(key)).lastSeq : null;
return kept === Math.max(0, ...got) ? kept : null;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_resumes_from_the_last_seq() {
    let server = TestServer::start(Db::Sqlite).await;
    let session = server.operator("Olivia").await;
    let mut op = connect_available(&session).await;
    let network = Network::start(server.addr).await;
    let b = Browser::launch(1280, 900).await;
    b.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": RECORD_FRAMES }),
    )
    .await;
    b.goto(&format!("{}/", network.base)).await;
    b.click("Click for Live Help").await;
    b.click("Text chat").await;
    let chat = next_request(&mut op).await;
    op.accept(chat).await.unwrap();
    op.send(chat, "Before the reload").await.unwrap();
    b.see("Before the reload").await;
    b.fill("Message", "Me too").await;
    b.click("Send").await;
    wait_message(&mut op, chat, "Me too").await;
    let kept = b
        .wait("the tab to keep the last seq it got", KEPT_SEQ, json!([]))
        .await;

    // Reloaded while the WebSocket cannot answer: the chat shows at once, from the tab.
    network.set(Net::Stalled);
    b.refresh().await;
    b.see("Before the reload").await;
    b.see("Me too").await;
    b.see("Connecting…").await;
    op.send(chat, "During the reload").await.unwrap();
    network.set(Net::Up);
    b.see("During the reload").await;

    // Hello asked for what came after the kept seq, and only that came.
    let hellos = b.js(FRAMES, json!(["out", "hello"])).await;
    assert_eq!(
        hellos[0]["last_seq"], kept,
        "hello resumes from the kept seq: {hellos}"
    );
    let events = b.js(FRAMES, json!(["in", "event"])).await;
    let replayed: Vec<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["event"]["seq"].as_i64().unwrap())
        .collect();
    let kept_seq = kept.as_i64().unwrap();
    assert!(
        !replayed.is_empty() && replayed.iter().all(|seq| *seq > kept_seq),
        "only events after seq {kept_seq} come again: {replayed:?}"
    );
    for text in ["Before the reload", "Me too", "During the reload"] {
        assert_eq!(b.js(COPIES, json!([text])).await, json!(1), "{text:?} once");
    }
    b.fill("Message", "Still here").await;
    b.click("Send").await;
    wait_message(&mut op, chat, "Still here").await;
    assert_eq!(message_texts(&op, chat).len(), 4);
    b.quit().await;
}
