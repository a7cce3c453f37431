//! A small W3C WebDriver client for headless Chromium (Debian's `chromium` and
//! `chromedriver`) and for the desktop app (tauri-driver), enough to drive the widget like a
//! visitor and the app like an operator: open a page, find controls by what they are called
//! (through script, so the widget's shadow root is no obstacle), click, type, read.
//!
//! Pages re-render under the test's feet: every lookup waits for what it looks for, and a
//! click or keystroke on an element a re-render replaced finds it again.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::{TempDir, free_port, wait};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where [`Browser::click`], [`Browser::fill`], [`Browser::see`] and [`Browser::control`]
/// look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The page itself (the desktop app's UI).
    Page,
    /// The widget's shadow root on the page (a website with the widget).
    Widget,
}

/// A browser session.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
    root: Root,
    /// Chromium's profile; none for the app, which keeps its own data.
    _profile: Option<TempDir>,
}

/// An element reference.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Element {
    /// The reference as a script argument.
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

/// Finds a control by role (`button`, `textbox`) and accessible name (aria-label, label or
/// text) in the document, or in the widget's shadow root when the third argument is true;
/// visible and enabled ones only, one inside an open dialog first. Arguments: role, name, shadow.
pub const FIND_CONTROL: &str = r#"
const [role, name, shadow] = arguments;
const root = shadow ? document.querySelector('#switchboard-widget')?.shadowRoot : document;
if (!root) return null;
const nameOf = (el) => {
  if (el.getAttribute('aria-label')) return el.getAttribute('aria-label').trim();
  if (el.id) { const l = root.querySelector(`label[for="${el.id}"]`); if (l) return l.textContent.trim(); }
  const wrap = el.closest('label'); if (wrap) return wrap.textContent.trim();
  return el.textContent.trim();
};
const sel = role === 'button' ? 'button' : role === 'textbox' ? 'input, textarea' : role;
const found = [...root.querySelectorAll(sel)].filter((el) => nameOf(el) === name && el.getClientRects().length > 0 && !el.disabled);
return found.find((el) => el.closest('dialog[open]')) || found[0] || null;
"#;

/// Whether the page (or the widget's shadow root when the second argument is true) shows a
/// text. Only text on screen counts: a hidden element's text (a notice not shown yet) is in
/// the page but not seen. Arguments: text, shadow.
const HAS_TEXT: &str = r#"
const [text, shadow] = arguments;
const root = shadow ? document.querySelector('#switchboard-widget')?.shadowRoot : document.body;
if (!root) return false;
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
let shown = '';
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement;
  if (el && el.getClientRects().length > 0) shown += n.data;
}
return shown.includes(text);
"#;

/// The WebDriver errors after which finding the element again and retrying may succeed:
/// a re-render replaced it, or something covers it for a moment.
const RETRIABLE: [&str; 3] = [
    "stale element reference",
    "element click intercepted",
    "element not interactable",
];

/// Waits (up to 10 s) for a WebDriver server to answer `/status`.
async fn wait_ready(http: &reqwest::Client, base: &str) {
    let ready = async || {
        let answer = http.get(format!("{base}/status")).send().await;
        answer.is_ok_and(|r| r.status().is_success()).then_some(())
    };
    // Not ready in time: the session request that follows says what is wrong.
    let _ = wait::poll(Duration::from_secs(10), Duration::from_millis(100), ready).await;
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile, for a website with
    /// the widget: [`Browser::click`], [`Browser::fill`] and [`Browser::see`] look inside the
    /// widget.
    pub async fn launch(width: u32, height: u32) -> Browser {
        Self::launch_chromium(width, height, false, &[]).await
    }

    /// Like [`Browser::launch`], as a phone: Chromium's mobile emulation with this viewport
    /// (CSS pixels), three device pixels to each, touch, and overlay scrollbars.
    pub async fn launch_phone(width: u32, height: u32) -> Browser {
        Self::launch_chromium(width, height, true, &[]).await
    }

    /// Like [`Browser::launch`] (or [`Browser::launch_phone`] when `phone`), with more
    /// Chromium switches, e.g. `--use-fake-device-for-media-stream` for a fake microphone.
    pub async fn launch_with_args(width: u32, height: u32, phone: bool, extra: &[&str]) -> Browser {
        Self::launch_chromium(width, height, phone, extra).await
    }

    async fn launch_chromium(width: u32, height: u32, phone: bool, extra: &[&str]) -> Browser {
        let driver_bin =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chrome_bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{driver_bin} is needed (apt-get install chromium-driver): {e}")
            });
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        wait_ready(&http, &base).await;
        let profile = TempDir::new("sb-chrome");
        let mut caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        if let Some(args) =
            caps["capabilities"]["alwaysMatch"]["goog:chromeOptions"]["args"].as_array_mut()
        {
            args.extend(extra.iter().map(|a| json!(a)));
        }
        if phone {
            caps["capabilities"]["alwaysMatch"]["goog:chromeOptions"]["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0, "touch": true },
            });
        }
        Self::attach(http, base, driver, Root::Widget, Some(profile), caps).await
    }

    /// Starts the real desktop operator app through tauri-driver (which runs Debian's
    /// WebKitWebDriver); needs a display (Xvfb). `env` is passed to the app.
    /// [`Browser::click`], [`Browser::fill`] and [`Browser::see`] look in the app's page.
    pub async fn tauri_app(app: &std::path::Path, env: &[(&str, String)]) -> Browser {
        let driver_bin = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_default();
            format!("{home}/.cargo/bin/tauri-driver")
        });
        let (port, native) = (free_port(), free_port());
        let mut cmd = Command::new(&driver_bin);
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native.to_string());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let driver = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{driver_bin} is needed (cargo install tauri-driver): {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        wait_ready(&http, &base).await;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": { "application": app.display().to_string() }
        }}});
        Self::attach(http, base, driver, Root::Page, None, caps).await
    }

    async fn attach(
        http: reqwest::Client,
        base: String,
        driver: Child,
        root: Root,
        profile: Option<TempDir>,
        caps: Value,
    ) -> Browser {
        let mut browser = Browser {
            http,
            base,
            driver,
            root,
            _profile: profile,
        };
        let mut res = Value::Null;
        // The driver may need a moment after its port opens.
        for _ in 0..20 {
            res = browser.post_raw("/session", caps.clone()).await;
            if res["value"]["sessionId"].is_string() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let id = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("the WebDriver refused the session: {res}"))
            .to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    async fn post_raw(&self, path: &str, body: Value) -> Value {
        match self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
        {
            Ok(res) => res.json().await.unwrap_or(Value::Null),
            Err(e) => json!({ "value": { "error": "no answer", "message": e.to_string() } }),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let v = self.post_raw(path, body).await;
        if let Some(err) = v["value"]["error"].as_str() {
            panic!("webdriver {path}: {err}: {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    /// Opens a URL.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// Reloads the page.
    pub async fn refresh(&self) {
        self.post("/refresh", json!({})).await;
    }

    /// Runs a script (a function body; `arguments` are the args) and returns its value.
    pub async fn js(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Sends a Chrome DevTools Protocol command (Chromium only) and returns its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.post("/goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
    }

    /// Polls a script until it returns something truthy (up to 15 s); returns that value.
    /// An element that a re-render detached while it was being returned counts as not yet.
    pub async fn wait(&self, what: &str, script: &str, args: Value) -> Value {
        self.wait_up_to(Duration::from_secs(15), what, script, args)
            .await
    }

    /// [`Browser::wait`] with its own deadline, for what takes longer by design (a stalled
    /// connection being noticed).
    pub async fn wait_up_to(
        &self,
        timeout: Duration,
        what: &str,
        script: &str,
        args: Value,
    ) -> Value {
        let body = json!({ "script": script, "args": args });
        let truthy = async || {
            let answer = self.post_raw("/execute/sync", body.clone()).await;
            let v = match answer["value"]["error"].as_str() {
                None => answer["value"].clone(),
                Some("stale element reference") => Value::Null,
                Some(err) => panic!(
                    "webdriver /execute/sync: {err}: {}",
                    answer["value"]["message"]
                ),
            };
            let falsy =
                matches!(&v, Value::Null | Value::Bool(false)) || v == json!("") || v == json!(0);
            (!falsy).then_some(v)
        };
        let every = Duration::from_millis(100);
        wait::poll(timeout, every, truthy)
            .await
            .unwrap_or_else(|| panic!("timed out waiting for {what}"))
    }

    /// Waits for a script to return an element, and gives its reference.
    pub async fn element(&self, what: &str, script: &str, args: Value) -> Element {
        let v = self.wait(what, script, args).await;
        Element(
            v[ELEMENT_KEY]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: not an element: {v}"))
                .to_owned(),
        )
    }

    /// Waits for the control with this role (`button`, `textbox`) and accessible name, where
    /// this browser looks ([`Root`]); see [`FIND_CONTROL`].
    pub async fn control(&self, role: &str, name: &str) -> Element {
        let (what, args) = self.control_args(role, name);
        self.element(&what, FIND_CONTROL, args).await
    }

    /// Clicks the button with this accessible name, as a user would.
    pub async fn click(&self, name: &str) {
        let (what, args) = self.control_args("button", name);
        self.act_on_found(&what, args, "click", json!({}), "click on")
            .await;
    }

    /// Types into the text box with this accessible name, as a user would.
    pub async fn fill(&self, name: &str, text: &str) {
        let (what, args) = self.control_args("textbox", name);
        self.act_on_found(&what, args, "value", json!({ "text": text }), "typing into")
            .await;
    }

    /// Waits until the page (or the widget) shows `text`.
    pub async fn see(&self, text: &str) {
        let shadow = self.root == Root::Widget;
        self.wait(&format!("text {text:?}"), HAS_TEXT, json!([text, shadow]))
            .await;
    }

    /// How a control is named in failures, and the arguments of [`FIND_CONTROL`] for it.
    fn control_args(&self, role: &str, name: &str) -> (String, Value) {
        let shadow = self.root == Root::Widget;
        (format!("{role} {name:?}"), json!([role, name, shadow]))
    }

    /// Finds a control (by [`FIND_CONTROL`]) and posts `body` to its `command`, finding it
    /// again when a re-render replaced it; `doing` names the act in failures.
    async fn act_on_found(&self, what: &str, args: Value, command: &str, body: Value, doing: &str) {
        for _ in 0..20 {
            let el = self.element(what, FIND_CONTROL, args.clone()).await;
            let v = self
                .post_raw(&format!("/element/{}/{command}", el.0), body.clone())
                .await;
            match v["value"]["error"].as_str() {
                None => return,
                Some(err) if RETRIABLE.contains(&err) => {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                Some(err) => panic!("webdriver {doing} {what}: {err}: {}", v["value"]["message"]),
            }
        }
        panic!("{what}: kept going stale");
    }

    /// Clears an input.
    pub async fn clear(&self, el: &Element) {
        self.post(&format!("/element/{}/clear", el.0), json!({}))
            .await;
    }

    /// Types into an element as a user would.
    pub async fn type_text(&self, el: &Element, text: &str) {
        self.post(&format!("/element/{}/value", el.0), json!({ "text": text }))
            .await;
    }

    /// Saves a PNG screenshot.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let v = self
            .http
            .get(format!("{}/screenshot", self.base))
            .send()
            .await
            .unwrap();
        let v: Value = v.json().await.unwrap();
        if let Some(b64) = v["value"].as_str() {
            let _ = std::fs::write(path, base64_decode(b64));
        }
    }

    /// Ends the session and the driver.
    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.base).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver goes first; the profile (a field) is removed after.
        let _ = self.driver.kill();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let table = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let v: Vec<u32> = chunk.iter().map(|c| u32::from(table(*c))).collect();
        let n = v
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (x << (18 - 6 * i)));
        let take = chunk.len() - 1;
        for i in 0..take {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
