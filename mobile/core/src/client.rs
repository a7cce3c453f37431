//! The HTTP side: [`Client`] is a backend by its URL and signs in; [`Session`] is a signed-in
//! operator calling the operator and admin APIs, and opens the live [`Connection`].
//!
//! Every answer goes through one reader: the JSON body on success, the server's [`ApiError`]
//! (as [`CoreError::Api`]) otherwise, so callers branch on error codes, never on HTTP statuses.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_shared::{
    ApiError, CannedId, CannedMessage, ChatEvent, ChatId, CreateOperatorRequest, DeviceId,
    HistoryPage, LoginRequest, LoginResponse, MailSettingsInput, MailSettingsView, MailTestRequest,
    MailTestResult, OfflineMessage, OfflineMessageId, OfflineReadRequest, OfflineReplyRequest,
    OperatorId, OperatorProfile, PushAction, PushActionRequest, PushActionResponse, PushAttempt,
    PushDelivery, PushDevice, PushSettingsUpdate, PushSettingsView, RegisterDeviceRequest, Report,
    ReportChatsPage, ReportChatsQuery, ReportQuery, ReportTable, SaveCannedRequest, SetNameRequest,
    SetStatusRequest, Settings, UpdateOperatorRequest, VisitorId, VisitorProfile, WidgetStatus,
};

use crate::{Connection, CoreError, OperatorState, Result};

/// A backend, by its base URL (`http://host:port` or `https://…`).
#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for the backend at `base_url`.
    pub fn new(base_url: &str) -> Result<Client> {
        // Two rustls crypto providers are linked in the graph; pick one for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Client {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Signs in.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session> {
        let req = LoginRequest {
            email: email.into(),
            password: password.into(),
        };
        let res: LoginResponse =
            answer(self.http.post(self.url("/api/auth/login")).json(&req)).await?;
        Ok(Session {
            expires_at: res.expires_at,
            ..Session::restore(self.clone(), res.token, res.operator)
        })
    }

    /// A session from a token kept from an earlier login (the app keeps it across restarts).
    pub async fn resume_session(&self, token: &str) -> Result<Session> {
        let operator: OperatorProfile = answer(
            self.http
                .get(self.url("/api/operator/me"))
                .bearer_auth(token),
        )
        .await?;
        Ok(Session::restore(self.clone(), token.into(), operator))
    }

    /// Answers a chat request from a push notification's action (Accept, Queue, Decline) with
    /// the notification's action token: no sign-in needed, so the app can do it in the
    /// background. Another operator's accept first gives `already_taken`.
    pub async fn push_action(
        &self,
        action_token: &str,
        action: PushAction,
    ) -> Result<PushActionResponse> {
        let req = PushActionRequest {
            action_token: action_token.into(),
            action,
        };
        answer(self.http.post(self.url("/api/push/action")).json(&req)).await
    }

    /// Whether Live Help is available (what the widget shows).
    pub async fn widget_status(&self) -> Result<WidgetStatus> {
        answer(self.http.get(self.url("/api/widget/status"))).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The WebSocket URL of `path` (`ws://` for `http://`, `wss://` for `https://`).
    pub(crate) fn ws_url(&self, path: &str) -> String {
        let base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        format!("{base}{path}")
    }
}

/// Reads an HTTP answer: the body on success, the typed error otherwise.
async fn answer<T: DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T> {
    let res = req.send().await?;
    let status = res.status();
    let bytes = res.bytes().await?;
    if status.is_success() {
        let body = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(body).map_err(|e| CoreError::Protocol(e.to_string()))
    } else {
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => Err(CoreError::Api(e)),
            Err(_) => Err(CoreError::Protocol(format!(
                "HTTP {status} without an error body"
            ))),
        }
    }
}

/// An unsuccessful answer as the server's error.
async fn answer_error<T>(res: reqwest::Response) -> Result<T> {
    let status = res.status();
    let bytes = res.bytes().await?;
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(e) => Err(CoreError::Api(e)),
        Err(_) => Err(CoreError::Protocol(format!(
            "HTTP {status} without an error body"
        ))),
    }
}

/// A report's query string (`?period=today&operator=3…`), with `extra` pairs after it.
fn report_query(q: &ReportQuery, extra: &[(&str, Option<String>)]) -> String {
    let period = q
        .period
        .map(|p| serde_json::to_value(p).unwrap_or_default());
    let pairs = [
        (
            "period",
            period.as_ref().and_then(|p| p.as_str()).map(str::to_owned),
        ),
        ("from", q.from.clone()),
        ("to", q.to.clone()),
        ("operator", q.operator.map(|o| o.to_string())),
    ];
    let mut out = String::new();
    for (key, value) in pairs.iter().chain(extra) {
        if let Some(value) = value {
            out.push(if out.is_empty() { '?' } else { '&' });
            out.push_str(key);
            out.push('=');
            for b in value.bytes() {
                match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        out.push(char::from(b))
                    }
                    _ => out.push_str(&format!("%{b:02X}")),
                }
            }
        }
    }
    out
}

/// A signed-in operator.
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    /// The bearer token.
    pub token: String,
    /// When the token expires (unix ms; 0 when unknown).
    pub expires_at: i64,
    /// Who signed in.
    pub operator: OperatorProfile,
    /// This device's push registration, sent in `hello` (no pushes while connected).
    pub device_id: Option<DeviceId>,
    /// The app is in the background: its device is pushed even while connected.
    pub background: bool,
}

impl Session {
    /// The backend.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        answer(
            self.client
                .http
                .get(self.client.url(path))
                .bearer_auth(&self.token),
        )
        .await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let mut req = self
            .client
            .http
            .request(method, self.client.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        answer(req).await
    }

    /// The signed-in operator's profile, fresh from the server.
    pub async fn me(&self) -> Result<OperatorProfile> {
        self.get("/api/operator/me").await
    }

    /// Changes this operator's display name (what visitors and colleagues see).
    pub async fn set_name(&self, name: &str) -> Result<OperatorProfile> {
        let body = SetNameRequest {
            name: name.to_owned(),
        };
        self.send(reqwest::Method::PUT, "/api/operator/me", Some(&body))
            .await
    }

    /// Live Help Available / Not Available.
    pub async fn set_available(&self, available: bool) -> Result<OperatorProfile> {
        let body = SetStatusRequest { available };
        self.send(reqwest::Method::PUT, "/api/operator/status", Some(&body))
            .await
    }

    /// Messages visitors left when nobody could answer, newest first.
    pub async fn offline_messages(&self) -> Result<Vec<OfflineMessage>> {
        self.get("/api/operator/offline-messages").await
    }

    /// The figures of a period (`GET /api/operator/reports`).
    pub async fn report(&self, q: &ReportQuery) -> Result<Report> {
        self.get(&format!("/api/operator/reports{}", report_query(q, &[])))
            .await
    }

    /// The chats behind a figure, a page at a time.
    pub async fn report_chats(&self, q: &ReportChatsQuery) -> Result<ReportChatsPage> {
        let figure = q
            .figure
            .map(|f| serde_json::to_value(f).unwrap_or_default());
        let extra = [
            (
                "figure",
                figure.as_ref().and_then(|f| f.as_str()).map(str::to_owned),
            ),
            ("day", q.day.clone()),
            ("hour", q.hour.map(|h| h.to_string())),
            ("after", q.after.map(|c| c.to_string())),
            ("limit", q.limit.map(|l| l.to_string())),
        ];
        let path = format!(
            "/api/operator/reports/chats{}",
            report_query(&q.report(), &extra)
        );
        self.get(&path).await
    }

    /// The pushes sent about a chat and how each was delivered.
    pub async fn report_pushes(&self, chat: ChatId) -> Result<Vec<PushDelivery>> {
        self.get(&format!("/api/operator/reports/chats/{chat}/pushes"))
            .await
    }

    /// Downloads a report table as CSV into `file`, a chunk at a time (the row-per-chat export
    /// can be large); the bytes written.
    pub async fn export_report(
        &self,
        table: ReportTable,
        q: &ReportQuery,
        bom: bool,
        file: &std::path::Path,
    ) -> Result<u64> {
        use std::io::Write;
        let extra = [("bom", Some(bom.to_string()))];
        let path = format!(
            "/api/operator/reports/export/{}{}",
            table.as_str(),
            report_query(q, &extra)
        );
        let mut res = self
            .client
            .http
            .get(self.client.url(&path))
            .bearer_auth(&self.token)
            // a year of chats takes longer than an ordinary request
            .timeout(Duration::from_secs(600))
            .send()
            .await?;
        if !res.status().is_success() {
            return answer_error(res).await;
        }
        let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
        let mut written = 0u64;
        while let Some(chunk) = res.chunk().await? {
            out.write_all(&chunk)?;
            written += chunk.len() as u64;
        }
        out.flush()?;
        Ok(written)
    }

    /// The operator has seen the offline messages up to `up_to` (the unread count).
    pub async fn offline_messages_read(&self, up_to: OfflineMessageId) -> Result<()> {
        let body = OfflineReadRequest { up_to };
        let path = "/api/operator/offline-messages/read";
        self.send::<_, serde_json::Value>(reqwest::Method::POST, path, Some(&body))
            .await?;
        Ok(())
    }

    /// "Reply by mail" to an offline message; `client_id` makes a retry safe.
    pub async fn reply_offline(
        &self,
        id: OfflineMessageId,
        client_id: &str,
        text: &str,
    ) -> Result<OfflineMessage> {
        let body = OfflineReplyRequest {
            client_id: client_id.to_owned(),
            text: text.to_owned(),
        };
        let path = format!("/api/operator/offline-messages/{id}/reply");
        self.send(reqwest::Method::POST, &path, Some(&body)).await
    }

    /// Admin: the mail parameters (`None`: not configured).
    pub async fn mail_settings(&self) -> Result<Option<MailSettingsView>> {
        self.get("/api/admin/mail").await
    }

    /// Admin: sets the mail parameters.
    pub async fn put_mail_settings(&self, input: &MailSettingsInput) -> Result<MailSettingsView> {
        self.send(reqwest::Method::PUT, "/api/admin/mail", Some(input))
            .await
    }

    /// Admin: removes the mail parameters (mail off).
    pub async fn delete_mail_settings(&self) -> Result<()> {
        self.send::<(), serde_json::Value>(reqwest::Method::DELETE, "/api/admin/mail", None)
            .await?;
        Ok(())
    }

    /// Admin: sends a test mail now and returns the SMTP server's answer.
    pub async fn test_mail(&self, to: &str) -> Result<MailTestResult> {
        let body = MailTestRequest { to: to.to_owned() };
        self.send(reqwest::Method::POST, "/api/admin/mail/test", Some(&body))
            .await
    }

    /// A chat's history after `after`.
    pub async fn chat_events(&self, chat: ChatId, after: i64) -> Result<Vec<ChatEvent>> {
        self.get(&format!("/api/operator/chats/{chat}/events?after={after}"))
            .await
    }

    /// Signs out (the token stops working).
    pub async fn logout(&self) -> Result<()> {
        self.send::<(), serde_json::Value>(reqwest::Method::POST, "/api/auth/logout", None)
            .await?;
        Ok(())
    }

    /// The team's canned messages.
    pub async fn canned(&self) -> Result<Vec<CannedMessage>> {
        self.get("/api/operator/canned").await
    }

    /// Creates a canned message.
    pub async fn create_canned(&self, title: &str, text: &str) -> Result<CannedMessage> {
        let body = SaveCannedRequest {
            title: title.into(),
            text: text.into(),
        };
        self.send(reqwest::Method::POST, "/api/operator/canned", Some(&body))
            .await
    }

    /// Changes a canned message.
    pub async fn update_canned(
        &self,
        id: CannedId,
        title: &str,
        text: &str,
    ) -> Result<CannedMessage> {
        let body = SaveCannedRequest {
            title: title.into(),
            text: text.into(),
        };
        self.send(
            reqwest::Method::PUT,
            &format!("/api/operator/canned/{id}"),
            Some(&body),
        )
        .await
    }

    /// Deletes a canned message.
    pub async fn delete_canned(&self, id: CannedId) -> Result<()> {
        let path = format!("/api/operator/canned/{id}");
        self.send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// Registers this device's push token (after sign-in and whenever the token changes);
    /// remembers its id for `hello`.
    pub async fn register_device(&mut self, req: &RegisterDeviceRequest) -> Result<PushDevice> {
        let device: PushDevice = self
            .send(reqwest::Method::POST, "/api/operator/devices", Some(req))
            .await?;
        self.device_id = Some(device.id);
        Ok(device)
    }

    /// The operator's push devices.
    pub async fn devices(&self) -> Result<Vec<PushDevice>> {
        self.get("/api/operator/devices").await
    }

    /// Removes a push device (sign-out on it).
    pub async fn remove_device(&self, id: DeviceId) -> Result<()> {
        let path = format!("/api/operator/devices/{id}");
        self.send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// Admin: an operator's push devices.
    pub async fn devices_of(&self, operator: OperatorId) -> Result<Vec<PushDevice>> {
        self.get(&format!("/api/admin/operators/{operator}/devices"))
            .await
    }

    /// Admin: the push credentials (without their secrets).
    pub async fn push_settings(&self) -> Result<PushSettingsView> {
        self.get("/api/admin/push").await
    }

    /// Admin: changes the push credentials.
    pub async fn put_push_settings(&self, update: &PushSettingsUpdate) -> Result<PushSettingsView> {
        self.send(reqwest::Method::PUT, "/api/admin/push", Some(update))
            .await
    }

    /// Admin: logged push attempts for a chat and/or a device.
    pub async fn push_attempts(
        &self,
        chat: Option<ChatId>,
        device: Option<DeviceId>,
    ) -> Result<Vec<PushAttempt>> {
        let mut q = Vec::new();
        if let Some(c) = chat {
            q.push(format!("chat_id={c}"));
        }
        if let Some(d) = device {
            q.push(format!("device_id={d}"));
        }
        self.get(&format!("/api/admin/push/attempts?{}", q.join("&")))
            .await
    }

    /// A visitor's profile: pages seen, visits, earlier chats.
    pub async fn visitor_profile(&self, id: VisitorId) -> Result<VisitorProfile> {
        self.get(&format!("/api/operator/visitors/{id}")).await
    }

    /// Ended chats, newest first (`before` the last page's `next_before`), matching `search`
    /// in the visitor's name or a message.
    pub async fn history(
        &self,
        before: Option<ChatId>,
        search: &str,
        limit: u32,
    ) -> Result<HistoryPage> {
        let mut query = vec![("q", search.to_owned()), ("limit", limit.to_string())];
        if let Some(before) = before {
            query.push(("before", before.0.to_string()));
        }
        let url =
            reqwest::Url::parse_with_params(&self.client.url("/api/operator/history"), &query)
                .map_err(|e| CoreError::Protocol(format!("history URL: {e}")))?;
        answer(self.client.http.get(url).bearer_auth(&self.token)).await
    }

    /// Admin: every operator.
    pub async fn operators(&self) -> Result<Vec<OperatorProfile>> {
        self.get("/api/admin/operators").await
    }

    /// Admin: creates an operator.
    pub async fn create_operator(&self, req: &CreateOperatorRequest) -> Result<OperatorProfile> {
        self.send(reqwest::Method::POST, "/api/admin/operators", Some(req))
            .await
    }

    /// Admin: changes an operator.
    pub async fn update_operator(
        &self,
        id: OperatorId,
        req: &UpdateOperatorRequest,
    ) -> Result<OperatorProfile> {
        self.send(
            reqwest::Method::PATCH,
            &format!("/api/admin/operators/{id}"),
            Some(req),
        )
        .await
    }

    /// Admin: deletes an operator.
    pub async fn delete_operator(&self, id: OperatorId) -> Result<()> {
        let path = format!("/api/admin/operators/{id}");
        self.send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// Admin: the settings.
    pub async fn settings(&self) -> Result<Settings> {
        self.get("/api/admin/settings").await
    }

    /// Admin: replaces the settings.
    pub async fn put_settings(&self, settings: &Settings) -> Result<Settings> {
        self.send(reqwest::Method::PUT, "/api/admin/settings", Some(settings))
            .await
    }

    /// A session kept from an earlier sign-in, without asking the server (the first
    /// connection checks the token).
    pub fn restore(client: Client, token: String, operator: OperatorProfile) -> Session {
        Session {
            client,
            token,
            expires_at: 0,
            operator,
            device_id: None,
            background: false,
        }
    }

    /// Opens the live connection and waits for its `ready`.
    pub async fn connect(&self) -> Result<Connection> {
        self.connect_with(OperatorState::new(self.operator.clone()))
            .await
    }

    /// Opens the live connection resuming from a known state (from the cache): the server
    /// replays what happened to those chats since.
    pub async fn connect_with(&self, state: OperatorState) -> Result<Connection> {
        Connection::open(self.clone(), state).await
    }
}
