//! The real desktop operator app (Tauri, WebKitGTK) end to end: built, started under Xvfb
//! through tauri-driver, driven over WebDriver against a real backend, while a visitor uses
//! the widget in headless Chromium: sign in → Live Help Available → Incoming chat request →
//! Accept → messages both ways → Hold → the app closed and opened again on its cache (its
//! first paint timed) → Resume → End chat → a voice request, accepted: the call connects.
//!
//! It needs the built app, a display and tauri-driver, so it is `#[ignore]`d in the fast loop;
//! `scripts/test` builds the app and runs it with `xvfb-run … -- --ignored`.

use std::path::PathBuf;

use serde_json::json;
use switchboard_e2e::webdriver::Browser;
use switchboard_e2e::{Db, OPERATOR_PASSWORD, TempDir, TestServer};

fn app_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SWITCHBOARD_APP_BIN") {
        return p.into();
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug/switchboard-app")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built desktop app, Xvfb and tauri-driver: run by scripts/test"]
async fn operator_answers_a_visitor_from_the_desktop_app() {
    let server = TestServer::start(Db::Sqlite).await;
    let op = server.operator("Dana").await;
    let bin = app_binary();
    assert!(
        bin.exists(),
        "build the app first: cargo build -p switchboard-app ({})",
        bin.display()
    );
    let data = TempDir::new("sb-desktop");
    let downloads = TempDir::new("sb-desktop-downloads");
    let app = Browser::tauri_app(
        &bin,
        &[
            ("SWITCHBOARD_APP_DATA", data.path().display().to_string()),
            (
                "SWITCHBOARD_DOWNLOADS",
                downloads.path().display().to_string(),
            ),
        ],
    )
    .await;

    // Sign in.
    let server_field = app.control("textbox", "Server").await;
    app.clear(&server_field).await;
    app.type_text(&server_field, &server.base).await;
    app.fill("E-mail", &op.operator.email).await;
    app.fill("Password", OPERATOR_PASSWORD).await;
    app.click("Sign in").await;
    app.see("Live Help Not Available").await;
    app.click("Live Help Not Available").await;
    app.see("Live Help Available").await;

    // A visitor asks, in Chromium.
    let visitor = Browser::launch(1280, 900).await;
    visitor.goto(&format!("{}/", server.base)).await;
    visitor.see("Live Help Available").await;
    visitor.click("Click for Live Help").await;
    visitor.fill("Chat name (optional)", "Victor").await;
    visitor.click("Text chat").await;
    visitor.see("Routing your call…").await;

    // The app rings: Incoming chat request → Accept.
    app.wait(
        "the Incoming chat request dialog",
        "return !!document.querySelector('dialog[open][aria-label=\"Incoming chat request\"]')",
        json!([]),
    )
    .await;
    app.see("Victor").await;
    app.click("Accept").await;
    visitor.see("Chat with operator").await;

    // Messages both ways.
    visitor.fill("Message", "Hello from the website").await;
    visitor.click("Send").await;
    app.see("Hello from the website").await;
    app.fill("Message", "Hello Victor, Dana here").await;
    app.click("Send").await;
    visitor.see("Hello Victor, Dana here").await;

    // Hold; then the app is closed and started again on its cache: the chat is painted from
    // the cache at once (the app logs how long after launch), then resumed live.
    app.click("Hold").await;
    visitor.see("On hold").await;
    app.quit().await;
    let log = data.join("app.log");
    let app = Browser::tauri_app(
        &bin,
        &[
            ("SWITCHBOARD_APP_DATA", data.path().display().to_string()),
            ("SWITCHBOARD_APP_LOG", log.display().to_string()),
            (
                "SWITCHBOARD_DOWNLOADS",
                downloads.path().display().to_string(),
            ),
            // the in-memory tone for a microphone: Xvfb has no sound card
            ("SWITCHBOARD_VOICE_AUDIO", "tone".to_owned()),
        ],
    )
    .await;
    app.see("Victor").await;
    let every = std::time::Duration::from_millis(100);
    let painted =
        switchboard_e2e::wait::poll(std::time::Duration::from_secs(15), every, async || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.lines()
                .find(|l| l.contains("first paint of the cached chats"))
                .map(str::to_owned)
        })
        .await
        .expect("the app logs its first paint");
    println!("desktop app (debug build) relaunched on its cache: {painted}");
    assert!(painted.contains("chats=1"), "{painted}");
    // The app opens on the Communication Overview: go to the chat.
    app.wait(
        "Live Communication in the navigation",
        "const b = [...document.querySelectorAll('nav button')].find((b) => (b.getAttribute('aria-label') || '').startsWith('Live Communication')); if (b) b.click(); return !!b;",
        json!([]),
    )
    .await;
    app.click("Resume").await;
    visitor.see("Hello Victor, Dana here").await;

    // End chat (with its confirmation).
    app.click("End chat").await;
    app.click("End chat").await;
    visitor.see("The operator has ended the chat.").await;

    // Voice: a visitor asks to talk (Chromium's fake microphone); the request says so, and
    // Accept starts the call in the app, whose Rust peer answers the widget's offer.
    let (caller, _wav) = switchboard_e2e::media::media_browser(false).await;
    switchboard_e2e::media::put_widget(&caller, &server, 20, false).await;
    caller.click("Click for Live Help").await;
    caller.see("Open chat with operator").await;
    caller.click("Voice chat").await;
    app.wait(
        "the Incoming chat request dialog for a voice chat",
        "return !!document.querySelector('dialog[open][aria-label=\"Incoming chat request\"]')",
        json!([]),
    )
    .await;
    app.see("Voice").await;
    app.click("Accept").await;
    app.see("End voice").await;
    app.wait(
        "the call connected (its duration shown)",
        "return !!document.querySelector('.call-clock')",
        json!([]),
    )
    .await;
    caller.quit().await;

    // Reports, through the real commands: this week's two chats, and the CSV saved to
    // downloads.
    app.wait(
        "Reports in the navigation",
        "const b = [...document.querySelectorAll('nav button')].find((b) => (b.getAttribute('aria-label') || '').startsWith('Reports')); if (b) b.click(); return !!b;",
        json!([]),
    )
    .await;
    app.click("Last 7 days").await;
    app.wait(
        "the Requested tile counting the two chats",
        "const v = document.querySelector('.section-reports .tile.requested .tile-value'); return !!v && v.textContent === '2';",
        json!([]),
    )
    .await;
    app.click("Download chats (CSV)").await;
    app.see("Saved to").await;
    let csv = std::fs::read_to_string(downloads.join("switchboard-chats-last_7_days.csv"))
        .expect("the CSV in the downloads folder");
    assert!(csv.starts_with("id,started,"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "a header and the two chats: {csv}");

    tokio::time::sleep(std::time::Duration::from_millis(500)).await; // let the dialog close
    let shot = std::env::temp_dir().join("switchboard-desktop-app.png");
    app.screenshot(&shot).await;
    visitor.quit().await;
    app.quit().await;
}
