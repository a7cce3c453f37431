//! Local servers that speak the push providers' HTTP APIs, on loopback, for the push tests:
//!
//! - [`FakeApns`]: APNs' provider API over HTTP/2 cleartext (h2c only). It checks every
//!   request as APNs would (the ES256 provider token against the public key of the test key,
//!   `kid`, `iss`, `iat`; the `apns-*` headers; the JSON payload), records it, and answers 200,
//!   or what the test scripted.
//! - [`FakeFcm`]: FCM HTTP v1 (`messages:send`) plus the OAuth2 token endpoint a service
//!   account's `token_uri` names (JWT-bearer grant, RS256 assertion checked against the test
//!   key), over HTTP/1.1.
//!
//! The backend's real clients ([`switchboard_backend::push::apns::ApnsClient`],
//! [`switchboard_backend::push::fcm::FcmClient`]) talk to them through their base URLs.
//! The keys are test-only fixtures in `tests/fixtures/`.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_backend::push::apns::ApnsCredentials;
use switchboard_shared::ApnsSettingsInput;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::wait;

/// The test-only APNs signing key (ES256, P-256, PKCS#8 PEM as Apple's `.p8` files).
pub const APNS_TEST_KEY_P8: &str = include_str!("../fixtures/TEST-ONLY-apns-key.p8");
/// The public half of [`APNS_TEST_KEY_P8`].
pub const APNS_TEST_PUBLIC_PEM: &str = include_str!("../fixtures/TEST-ONLY-apns-key.pub.pem");
/// The key id the test credentials use.
pub const APNS_TEST_KEY_ID: &str = "TESTKEY001";
/// The team id the test credentials use.
pub const APNS_TEST_TEAM_ID: &str = "TESTTEAM01";
/// The app bundle id the tests use as `apns-topic`.
pub const APNS_TEST_TOPIC: &str = "test.switchboard.operator";

/// The test-only RSA key of the fake FCM service account.
pub const FCM_TEST_PRIVATE_PEM: &str =
    include_str!("../fixtures/TEST-ONLY-fcm-service-account.key.pem");
/// The public half of [`FCM_TEST_PRIVATE_PEM`].
pub const FCM_TEST_PUBLIC_PEM: &str =
    include_str!("../fixtures/TEST-ONLY-fcm-service-account.pub.pem");
/// Another RSA key the fake token endpoint does not know.
pub const FCM_WRONG_PRIVATE_PEM: &str = include_str!("../fixtures/TEST-ONLY-fcm-wrong-key.key.pem");
/// The Firebase project of the fake service account.
pub const FCM_TEST_PROJECT: &str = "switchboard-test";
/// The fake service account's e-mail.
pub const FCM_TEST_CLIENT_EMAIL: &str = "push@switchboard-test.iam.gserviceaccount.com";
/// The OAuth2 scope FCM v1 needs.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// APNs credentials with the test key (sandbox, topic as given).
pub fn test_apns_credentials(topic: &str) -> ApnsCredentials {
    ApnsCredentials {
        key_p8: APNS_TEST_KEY_P8.to_owned(),
        key_id: APNS_TEST_KEY_ID.to_owned(),
        team_id: APNS_TEST_TEAM_ID.to_owned(),
        topic: topic.to_owned(),
        sandbox: true,
    }
}

/// The same test key as an admin enters it in the push settings.
pub fn test_apns_settings(topic: &str) -> ApnsSettingsInput {
    let creds = test_apns_credentials(topic);
    ApnsSettingsInput {
        key_p8: creds.key_p8,
        key_id: creds.key_id,
        team_id: creds.team_id,
        topic: creds.topic,
        sandbox: creds.sandbox,
    }
}

fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn headers_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (name, value) in headers {
        map.insert(
            name.as_str().to_owned(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    map
}

/// A scripted failure: the next `remaining` accepted requests get `status` + `reason`.
#[derive(Debug, Clone)]
struct Failure {
    remaining: usize,
    status: u16,
    reason: String,
    retry_after: Option<u64>,
}

#[derive(Default)]
struct Script {
    failures: VecDeque<Failure>,
    unregistered: HashSet<String>,
}

impl Script {
    /// Queues `n` failures (nothing for `n == 0`).
    fn fail(&mut self, n: usize, status: u16, reason: &str, retry_after: Option<u64>) {
        if n > 0 {
            let reason = reason.to_owned();
            self.failures.push_back(Failure {
                remaining: n,
                status,
                reason,
                retry_after,
            });
        }
    }

    fn take_failure(&mut self) -> Option<Failure> {
        let front = self.failures.front_mut()?;
        let f = front.clone();
        front.remaining -= 1;
        if front.remaining == 0 {
            self.failures.pop_front();
        }
        Some(f)
    }
}

/// Accepts connections on `listener` and serves `router` over HTTP/2 only (prior knowledge,
/// no TLS). Connection tasks end when the returned task is aborted.
fn serve_h2c(listener: TcpListener, router: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(c) => c,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            connections.spawn(async move {
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
            });
            while connections.try_join_next().is_some() {}
        }
    })
}

/// What a fake provider's handlers share with the test: the requests received, the script of
/// answers, a counter for the ids it hands out, and `provider`, what that provider checks
/// requests against.
struct Shared<R, P> {
    provider: P,
    requests: Mutex<Vec<R>>,
    script: Mutex<Script>,
    ids: AtomicU64,
}

impl<R, P> Shared<R, P> {
    fn new(provider: P) -> Arc<Self> {
        Arc::new(Shared {
            provider,
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(Script::default()),
            ids: AtomicU64::new(1),
        })
    }

    fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// A fake push provider on 127.0.0.1, [`FakeApns`] or [`FakeFcm`]: it records every request
/// and answers as scripted ([`FakeServer::fail_next`], [`FakeServer::unregister`]), or 200.
/// Stops when dropped.
pub struct FakeServer<R, P> {
    /// Where it listens.
    pub addr: SocketAddr,
    name: &'static str,
    state: Arc<Shared<R, P>>,
    task: JoinHandle<()>,
}

impl<R: Clone, P> FakeServer<R, P> {
    /// `http://127.0.0.1:port`, the base URL to give `ApnsClient::new` or `FcmClient::new`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every push request so far (for FCM, every `messages:send`), oldest first.
    pub fn requests(&self) -> Vec<R> {
        self.state.requests.lock().unwrap().clone()
    }

    /// How many push requests arrived so far.
    pub fn count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// Waits until at least `n` push requests arrived and returns all of them; panics after
    /// `timeout`. Polls the count, and copies the requests once (a benchmark waits for
    /// thousands).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<R> {
        let every = Duration::from_millis(10);
        let arrived = wait::poll(timeout, every, async || (self.count() >= n).then_some(())).await;
        if arrived.is_none() {
            let name = self.name;
            panic!(
                "{name}: waited {timeout:?} for {n} requests, got {}",
                self.count()
            );
        }
        self.requests()
    }

    /// The next `n` well-formed pushes are answered `status` (with `Retry-After: retry_after`
    /// when given); scripts queue up in call order. APNs answers `{"reason": reason}`; FCM a
    /// Google error whose FCM `errorCode` is `reason` ("UNAVAILABLE", "QUOTA_EXCEEDED",
    /// "INTERNAL", "INVALID_ARGUMENT", "UNREGISTERED", …).
    pub fn fail_next(&self, n: usize, status: u16, reason: &str, retry_after: Option<u64>) {
        let mut script = self.state.script.lock().unwrap();
        script.fail(n, status, reason, retry_after);
    }

    /// Pushes to `token` are refused as pushes to an uninstalled app are, from now on: APNs
    /// answers 410 `{"reason":"Unregistered","timestamp":…}`, FCM 404 NOT_FOUND /
    /// `UNREGISTERED`.
    pub fn unregister(&self, token: &str) {
        self.state
            .script
            .lock()
            .unwrap()
            .unregistered
            .insert(token.to_owned());
    }
}

impl<R, P> Drop for FakeServer<R, P> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// APNs

/// One request the fake APNs received.
#[derive(Debug, Clone)]
pub struct ApnsRequest {
    /// The device token from the path.
    pub token: String,
    /// The request headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// The payload (JSON; `Value::Null` when it was not JSON).
    pub payload: Value,
    /// Whether the provider token, the headers and the payload passed every check.
    pub verified: bool,
    /// What failed when `verified` is false (the APNs reason answered).
    pub problem: Option<String>,
    /// The status answered.
    pub status: u16,
    /// The HTTP version the request came with (always HTTP/2 here).
    pub version: Version,
    /// When it arrived.
    pub received_at: Instant,
}

impl ApnsRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The provider token (the JWT after "bearer ").
    pub fn jwt(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        auth.strip_prefix("bearer ")
            .or_else(|| auth.strip_prefix("Bearer "))
    }

    /// `payload.switchboard`.
    pub fn switchboard(&self) -> &Value {
        &self.payload["switchboard"]
    }
}

/// What the fake APNs checks provider tokens and topics against.
pub struct ApnsAuth {
    key: DecodingKey,
    key_id: String,
    team_id: String,
    topic: String,
    /// The claims of the provider tokens whose signature checked out: as APNs, the signature
    /// of a token is verified once, not at every push that carries it (the claims are checked
    /// every time). An ES256 verification costs more than the rest of a push together.
    verified: Mutex<BTreeMap<String, ApnsClaims>>,
}

type ApnsState = Shared<ApnsRequest, ApnsAuth>;

/// An APNs provider endpoint on 127.0.0.1 speaking HTTP/2 cleartext. Stops when dropped.
pub type FakeApns = FakeServer<ApnsRequest, ApnsAuth>;

#[derive(Debug, Clone, Deserialize)]
struct ApnsClaims {
    iss: Option<String>,
    iat: Option<i64>,
}

impl FakeApns {
    /// Starts a server that accepts provider tokens signed by the private half of
    /// `public_key_pem` with this `key_id` and `team_id`, for pushes to `topic`.
    pub async fn start(public_key_pem: &str, key_id: &str, team_id: &str, topic: &str) -> FakeApns {
        let key = DecodingKey::from_ec_pem(public_key_pem.as_bytes()).expect("EC public key PEM");
        let state = Shared::new(ApnsAuth {
            key,
            key_id: key_id.to_owned(),
            team_id: team_id.to_owned(),
            topic: topic.to_owned(),
            verified: Mutex::default(),
        });
        let router = Router::new()
            .route("/3/device/{token}", post(apns_push))
            .fallback(|| async {
                (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({"reason": "BadPath"})),
                )
            })
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = serve_h2c(listener, router);
        FakeServer {
            addr,
            name: "FakeApns",
            state,
            task,
        }
    }

    /// Starts a server for the test key ([`test_apns_credentials`]) and this topic.
    pub async fn start_for_test_key(topic: &str) -> FakeApns {
        Self::start(
            APNS_TEST_PUBLIC_PEM,
            APNS_TEST_KEY_ID,
            APNS_TEST_TEAM_ID,
            topic,
        )
        .await
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.state.requests.lock().unwrap().clear();
    }
}

/// Checks one push the way APNs does; `Err((status, reason))` when APNs would refuse it.
fn check_apns(
    state: &ApnsAuth,
    headers: &HeaderMap,
    version: Version,
    body: &[u8],
) -> Result<Value, (u16, String, Value)> {
    let fail = |status: u16, reason: &str| (status, reason.to_owned(), Value::Null);
    if version != Version::HTTP_2 {
        return Err(fail(400, "HTTP2Required"));
    }
    // Provider token.
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| fail(403, "MissingProviderToken"))?;
    let jwt = auth
        .strip_prefix("bearer ")
        .or_else(|| auth.strip_prefix("Bearer "))
        .ok_or_else(|| fail(403, "MissingProviderToken"))?;
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| fail(403, "InvalidProviderToken"))?;
    if header.alg != Algorithm::ES256 || header.kid.as_deref() != Some(state.key_id.as_str()) {
        return Err(fail(403, "InvalidProviderToken"));
    }
    let known = state.verified.lock().unwrap().get(jwt).cloned();
    let claims = match known {
        Some(claims) => claims,
        None => {
            let mut validation = Validation::new(Algorithm::ES256);
            validation.required_spec_claims = HashSet::new();
            validation.validate_exp = false;
            validation.validate_aud = false;
            let claims = jsonwebtoken::decode::<ApnsClaims>(jwt, &state.key, &validation)
                .map_err(|_| fail(403, "InvalidProviderToken"))?
                .claims;
            let mut verified = state.verified.lock().unwrap();
            verified.insert(jwt.to_owned(), claims.clone());
            claims
        }
    };
    if claims.iss.as_deref() != Some(state.team_id.as_str()) {
        return Err(fail(403, "InvalidProviderToken"));
    }
    let iat = claims
        .iat
        .ok_or_else(|| fail(403, "InvalidProviderToken"))?;
    let now = unix_secs();
    if iat < now - 3600 {
        return Err(fail(403, "ExpiredProviderToken"));
    }
    if iat > now + 60 {
        return Err(fail(403, "InvalidProviderToken"));
    }
    // Headers.
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match get("apns-topic") {
        None => return Err(fail(400, "MissingTopic")),
        Some(t) if t != state.topic => return Err(fail(400, "BadTopic")),
        Some(_) => {}
    }
    let push_type = get("apns-push-type").unwrap_or("");
    let expected_priority = match push_type {
        "alert" => "10",
        "background" => "5",
        _ => return Err(fail(400, "InvalidPushType")),
    };
    if get("apns-priority") != Some(expected_priority) {
        return Err(fail(400, "BadPriority"));
    }
    match get("apns-collapse-id") {
        Some(c) if !c.is_empty() && c.len() <= 64 => {}
        _ => return Err(fail(400, "BadCollapseId")),
    }
    if let Some(exp) = get("apns-expiration")
        && exp.parse::<u64>().is_err()
    {
        return Err(fail(400, "BadExpirationDate"));
    }
    // Payload.
    if body.is_empty() {
        return Err(fail(400, "PayloadEmpty"));
    }
    if body.len() > 4096 {
        return Err(fail(413, "PayloadTooLarge"));
    }
    let payload: Value = serde_json::from_slice(body).map_err(|_| fail(400, "BadPayload"))?;
    let invalid = |reason: &str| (400, reason.to_owned(), payload.clone());
    let aps = payload
        .get("aps")
        .filter(|a| a.is_object())
        .ok_or_else(|| invalid("BadPayload"))?;
    if push_type == "background" && aps.get("content-available") != Some(&json!(1)) {
        return Err(invalid("BadPayload"));
    }
    if push_type == "alert" && aps.get("alert").is_none() {
        return Err(invalid("BadPayload"));
    }
    Ok(payload)
}

async fn apns_push(
    State(state): State<Arc<ApnsState>>,
    Path(token): Path<String>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Before the checks: `received_at` is when the push came off the wire.
    let received_at = Instant::now();
    let checked = check_apns(&state.provider, &headers, version, &body);
    let (status, reason, retry_after, payload, verified, problem) = match checked {
        Err((status, reason, payload)) => {
            let payload = if payload.is_null() {
                serde_json::from_slice(&body).unwrap_or(Value::Null)
            } else {
                payload
            };
            (
                status,
                Some(reason.clone()),
                None,
                payload,
                false,
                Some(reason),
            )
        }
        Ok(payload) => {
            let mut script = state.script.lock().unwrap();
            if script.unregistered.contains(&token) {
                (
                    410,
                    Some("Unregistered".to_owned()),
                    None,
                    payload,
                    true,
                    None,
                )
            } else if let Some(f) = script.take_failure() {
                (f.status, Some(f.reason), f.retry_after, payload, true, None)
            } else {
                (200, None, None, payload, true, None)
            }
        }
    };
    state.requests.lock().unwrap().push(ApnsRequest {
        token,
        headers: headers_map(&headers),
        payload,
        verified,
        problem,
        status,
        version,
        received_at,
    });
    let id = state.next_id();
    let mut response = match reason {
        None => StatusCode::OK.into_response(),
        Some(reason) => {
            let body = if status == 410 {
                json!({"reason": reason, "timestamp": unix_secs() * 1000})
            } else {
                json!({"reason": reason})
            };
            (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        "apns-id",
        HeaderValue::from_str(&format!("00000000-0000-0000-0000-{id:012}")).unwrap(),
    );
    if let Some(secs) = retry_after {
        headers.insert("retry-after", HeaderValue::from(secs));
    }
    response
}

// ---------------------------------------------------------------------------------------------
// FCM

/// One `messages:send` request the fake FCM received.
#[derive(Debug, Clone)]
pub struct FcmRequest {
    /// The project from the path.
    pub project: String,
    /// The bearer token it came with.
    pub bearer: Option<String>,
    /// The request body (JSON; `Value::Null` when it was not JSON).
    pub body: Value,
    /// Whether the bearer token and the message passed every check.
    pub verified: bool,
    /// What failed when `verified` is false.
    pub problem: Option<String>,
    /// The status answered.
    pub status: u16,
    /// When it arrived.
    pub received_at: Instant,
}

impl FcmRequest {
    /// `message`.
    pub fn message(&self) -> &Value {
        &self.body["message"]
    }

    /// `message.token`, the registration token.
    pub fn token(&self) -> &str {
        self.body["message"]["token"].as_str().unwrap_or("")
    }

    /// `message.data[key]`.
    pub fn data(&self, key: &str) -> Option<&str> {
        self.body["message"]["data"][key].as_str()
    }
}

/// One request to the fake token endpoint.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// Whether the grant was accepted.
    pub granted: bool,
    /// Why not.
    pub problem: Option<String>,
    /// The claims of the assertion (when it decoded).
    pub claims: Value,
    /// When it arrived.
    pub received_at: Instant,
}

/// The fake FCM's OAuth2 side: the service account's public key, the token endpoint, the
/// access tokens it issued and the token requests it received.
pub struct FcmAuth {
    key: DecodingKey,
    token_uri: String,
    tokens: Mutex<HashSet<String>>,
    token_requests: Mutex<Vec<TokenRequest>>,
}

type FcmState = Shared<FcmRequest, FcmAuth>;

/// FCM HTTP v1 and its OAuth2 token endpoint on 127.0.0.1 (HTTP/1.1). Stops when dropped.
pub type FakeFcm = FakeServer<FcmRequest, FcmAuth>;

impl FakeFcm {
    /// Starts the server; its token endpoint accepts grants signed with the test key
    /// ([`FCM_TEST_PRIVATE_PEM`]) for [`FCM_TEST_CLIENT_EMAIL`].
    pub async fn start() -> FakeFcm {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Shared::new(FcmAuth {
            key: DecodingKey::from_rsa_pem(FCM_TEST_PUBLIC_PEM.as_bytes()).expect("RSA public key"),
            token_uri: format!("http://{addr}/token"),
            tokens: Mutex::new(HashSet::new()),
            token_requests: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/token", post(fcm_token))
            .route("/v1/projects/{project}/{method}", post(fcm_send))
            .fallback(|| async { google_error(404, "NOT_FOUND", "no such route", None) })
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeServer {
            addr,
            name: "FakeFcm",
            state,
            task,
        }
    }

    /// The token endpoint (`token_uri` of [`FakeFcm::service_account_json`]).
    pub fn token_uri(&self) -> String {
        self.state.provider.token_uri.clone()
    }

    /// A service-account key JSON (test RSA key, `project_id` [`FCM_TEST_PROJECT`],
    /// `token_uri` this server's `/token`) to hand to `FcmClient::new`.
    pub fn service_account_json(&self) -> String {
        self.service_account_json_signed_by(FCM_TEST_PRIVATE_PEM)
    }

    /// The same key JSON with another private key (e.g. [`FCM_WRONG_PRIVATE_PEM`], whose
    /// grants this server refuses).
    pub fn service_account_json_signed_by(&self, private_key_pem: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": FCM_TEST_PROJECT,
            "private_key_id": "0000000000000000000000000000000000test",
            "private_key": private_key_pem,
            "client_email": FCM_TEST_CLIENT_EMAIL,
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.invalid/o/oauth2/auth",
            "token_uri": self.state.provider.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.invalid/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.invalid/robot/v1/metadata/x509/push",
            "universe_domain": "googleapis.com"
        })
        .to_string()
    }

    /// Every token request so far, oldest first.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.state.provider.token_requests.lock().unwrap().clone()
    }

    /// Makes every access token issued so far invalid (sends with them get 401).
    pub fn revoke_tokens(&self) {
        self.state.provider.tokens.lock().unwrap().clear();
    }

    /// Forgets the requests received so far, token requests included.
    pub fn clear_requests(&self) {
        self.state.requests.lock().unwrap().clear();
        self.state.provider.token_requests.lock().unwrap().clear();
    }
}

fn canonical_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        _ => "UNKNOWN",
    }
}

fn google_error(status: u16, code: &str, message: &str, fcm_code: Option<&str>) -> Response {
    let mut error = json!({"code": status, "message": message, "status": code});
    if let Some(fcm_code) = fcm_code {
        error["details"] = json!([{
            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
            "errorCode": fcm_code
        }]);
    }
    (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({"error": error})),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct GrantClaims {
    iss: String,
    aud: String,
    scope: String,
    iat: i64,
    exp: i64,
}

fn check_grant(state: &FcmAuth, body: &[u8]) -> (Result<(), String>, Value) {
    let form: BTreeMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER_GRANT) {
        return (Err("unsupported grant_type".into()), Value::Null);
    }
    let Some(assertion) = form.get("assertion") else {
        return (Err("missing assertion".into()), Value::Null);
    };
    // gcp_auth encodes the JWT's parts as *padded* base64url, which Google's endpoint accepts
    // and jsonwebtoken does not: drop the padding before checking.
    let assertion = &assertion.replace('=', "");
    let unverified = jsonwebtoken::dangerous::insecure_decode::<Value>(assertion)
        .map(|d| d.claims)
        .unwrap_or(Value::Null);
    match jsonwebtoken::decode_header(assertion) {
        Ok(h) if h.alg == Algorithm::RS256 => {}
        _ => return (Err("the assertion is not an RS256 JWT".into()), unverified),
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[state.token_uri.as_str()]);
    validation.set_issuer(&[FCM_TEST_CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = match jsonwebtoken::decode::<GrantClaims>(assertion, &state.key, &validation) {
        Ok(d) => d.claims,
        Err(e) => return (Err(format!("invalid assertion: {e}")), unverified),
    };
    let now = unix_secs();
    if claims.iat > now + 60 || claims.exp > claims.iat + 3600 {
        return (Err("bad iat/exp".into()), unverified);
    }
    if !claims.scope.split(' ').any(|s| s == FCM_SCOPE) {
        return (
            Err(format!("scope {:?} lacks {FCM_SCOPE}", claims.scope)),
            unverified,
        );
    }
    let _ = (&claims.iss, &claims.aud);
    (Ok(()), unverified)
}

async fn fcm_token(State(state): State<Arc<FcmState>>, body: Bytes) -> Response {
    let (checked, claims) = check_grant(&state.provider, &body);
    state
        .provider
        .token_requests
        .lock()
        .unwrap()
        .push(TokenRequest {
            granted: checked.is_ok(),
            problem: checked.as_ref().err().cloned(),
            claims,
            received_at: Instant::now(),
        });
    match checked {
        Ok(()) => {
            let n = state.next_id();
            let token = format!("ya29.fake-fcm-access-token-{n}");
            state.provider.tokens.lock().unwrap().insert(token.clone());
            axum::Json(json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"}))
                .into_response()
        }
        Err(problem) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant", "error_description": problem})),
        )
            .into_response(),
    }
}

/// Checks a `messages:send` body as FCM v1 would (the parts Switchboard uses).
fn check_message(body: &Value) -> Result<(), String> {
    let message = body
        .get("message")
        .filter(|m| m.is_object())
        .ok_or("no message")?;
    let token = message.get("token").and_then(Value::as_str).unwrap_or("");
    if token.is_empty() {
        return Err("The registration token is not a valid FCM registration token".into());
    }
    if let Some(data) = message.get("data") {
        let data = data.as_object().ok_or("message.data is not an object")?;
        if let Some((k, _)) = data.iter().find(|(_, v)| !v.is_string()) {
            return Err(format!(
                "Invalid value at 'message.data[{k}]' (TYPE_STRING)"
            ));
        }
    }
    if let Some(android) = message.get("android") {
        if let Some(p) = android.get("priority")
            && !matches!(p.as_str(), Some("high" | "normal" | "HIGH" | "NORMAL"))
        {
            return Err("Invalid value at 'message.android.priority'".into());
        }
        if let Some(ttl) = android.get("ttl") {
            let ok = ttl
                .as_str()
                .and_then(|t| t.strip_suffix('s'))
                .is_some_and(|n| n.parse::<f64>().is_ok());
            if !ok {
                return Err("Invalid value at 'message.android.ttl'".into());
            }
        }
    }
    Ok(())
}

async fn fcm_send(
    State(state): State<Arc<FcmState>>,
    Path((project, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != "messages:send" {
        return google_error(404, "NOT_FOUND", "no such method", None);
    }
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
        .map(str::to_owned);
    let known = bearer
        .as_ref()
        .is_some_and(|b| state.provider.tokens.lock().unwrap().contains(b));
    let token = json_body["message"]["token"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    // (status, canonical status, message, fcm errorCode, retry-after, verified, problem)
    let outcome: (
        u16,
        String,
        String,
        Option<String>,
        Option<u64>,
        bool,
        Option<String>,
    ) = if !known {
        let m = "Request had invalid authentication credentials.".to_owned();
        (
            401,
            "UNAUTHENTICATED".into(),
            m.clone(),
            None,
            None,
            false,
            Some(m),
        )
    } else if project != FCM_TEST_PROJECT {
        let m = format!("Permission denied on project {project}");
        (
            403,
            "PERMISSION_DENIED".into(),
            m.clone(),
            None,
            None,
            false,
            Some(m),
        )
    } else if let Err(m) = check_message(&json_body) {
        let code = Some("INVALID_ARGUMENT".to_owned());
        (
            400,
            "INVALID_ARGUMENT".into(),
            m.clone(),
            code,
            None,
            false,
            Some(m),
        )
    } else {
        let mut script = state.script.lock().unwrap();
        if script.unregistered.contains(&token) {
            let m = "Requested entity was not found.".to_owned();
            (
                404,
                "NOT_FOUND".into(),
                m,
                Some("UNREGISTERED".into()),
                None,
                true,
                None,
            )
        } else if let Some(f) = script.take_failure() {
            let canonical = canonical_status(f.status).to_owned();
            let m = format!("scripted {}", f.reason);
            (
                f.status,
                canonical,
                m,
                Some(f.reason),
                f.retry_after,
                true,
                None,
            )
        } else {
            (200, String::new(), String::new(), None, None, true, None)
        }
    };
    let (status, canonical, message, fcm_code, retry_after, verified, problem) = outcome;
    state.requests.lock().unwrap().push(FcmRequest {
        project: project.clone(),
        bearer,
        body: json_body,
        verified,
        problem,
        status,
        received_at: Instant::now(),
    });
    let mut response = if status == 200 {
        let n = state.next_id();
        axum::Json(json!({"name": format!("projects/{project}/messages/0:{n}")})).into_response()
    } else {
        google_error(status, &canonical, &message, fcm_code.as_deref())
    };
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    response
}
