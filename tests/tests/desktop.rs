//! The real desktop operator app (Tauri, WebKitGTK) end to end: built, started under Xvfb
//! through tauri-driver, driven over WebDriver against a real backend, while a visitor uses
//! the widget in headless Chromium: sign in → Live Help Available → Incoming chat request →
//! Accept → messages both ways → Hold → End chat.
//!
//! It needs the built app, a display and tauri-driver, so it is `#[ignore]`d in the fast loop;
//! `scripts/test` builds the app and runs it with `xvfb-run … -- --ignored`.

use std::path::PathBuf;

use serde_json::json;
use switchboard_e2e::webdriver::{Browser, Element, FIND_CONTROL};
use switchboard_e2e::{Db, OPERATOR_PASSWORD, TestServer};

const HAS_TEXT: &str = r#"
const [text, shadow] = arguments;
const root = shadow ? document.querySelector('#switchboard-widget')?.shadowRoot : document.body;
return !!root && root.textContent.includes(text);
"#;

async fn control(b: &Browser, shadow: bool, role: &str, name: &str) -> Element {
    b.element(
        &format!("{role} {name:?}"),
        FIND_CONTROL,
        json!([role, name, shadow]),
    )
    .await
}

async fn click(b: &Browser, shadow: bool, name: &str) {
    let what = format!("button {name:?}");
    b.click_found(&what, FIND_CONTROL, json!(["button", name, shadow]))
        .await;
}

async fn fill(b: &Browser, shadow: bool, name: &str, text: &str) {
    let what = format!("textbox {name:?}");
    b.type_found(&what, FIND_CONTROL, json!(["textbox", name, shadow]), text)
        .await;
}

async fn see(b: &Browser, shadow: bool, text: &str) {
    b.wait(&format!("text {text:?}"), HAS_TEXT, json!([text, shadow]))
        .await;
}

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
    let data = std::env::temp_dir().join(format!("sb-desktop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let app = Browser::tauri_app(
        &bin,
        &[("SWITCHBOARD_APP_DATA", data.display().to_string())],
    )
    .await;

    // Sign in.
    let server_field = control(&app, false, "textbox", "Server").await;
    app.clear(&server_field).await;
    app.type_text(&server_field, &server.base).await;
    fill(&app, false, "E-mail", &op.operator.email).await;
    fill(&app, false, "Password", OPERATOR_PASSWORD).await;
    click(&app, false, "Sign in").await;
    see(&app, false, "Live Help Not Available").await;
    click(&app, false, "Live Help Not Available").await;
    see(&app, false, "Live Help Available").await;

    // A visitor asks, in Chromium.
    let visitor = Browser::launch(1280, 900).await;
    visitor.goto(&format!("{}/", server.base)).await;
    see(&visitor, true, "Live Help Available").await;
    click(&visitor, true, "Click for Live Help").await;
    fill(&visitor, true, "Chat name (optional)", "Victor").await;
    click(&visitor, true, "Text chat").await;
    see(&visitor, true, "Routing your call…").await;

    // The app rings: Incoming chat request → Accept.
    app.wait(
        "the Incoming chat request dialog",
        "return !!document.querySelector('dialog[open][aria-label=\"Incoming chat request\"]')",
        json!([]),
    )
    .await;
    see(&app, false, "Victor").await;
    click(&app, false, "Accept").await;
    see(&visitor, true, "Chat with operator").await;

    // Messages both ways.
    fill(&visitor, true, "Message", "Hello from the website").await;
    click(&visitor, true, "Send").await;
    see(&app, false, "Hello from the website").await;
    fill(&app, false, "Message", "Hello Victor, Dana here").await;
    click(&app, false, "Send").await;
    see(&visitor, true, "Hello Victor, Dana here").await;

    // Hold, then End chat (with its confirmation).
    click(&app, false, "Hold").await;
    see(&visitor, true, "On hold").await;
    click(&app, false, "End chat").await;
    click(&app, false, "End chat").await;
    see(&visitor, true, "The operator has ended the chat.").await;

    tokio::time::sleep(std::time::Duration::from_millis(500)).await; // let the dialog close
    let shot = std::env::temp_dir().join("switchboard-desktop-app.png");
    app.screenshot(&shot).await;
    visitor.quit().await;
    app.quit().await;
    let _ = std::fs::remove_dir_all(&data);
}
