//! The backend's real APNs and FCM clients against local servers that speak the providers'
//! HTTP APIs (tests/src/push_servers.rs): headers, payloads, provider tokens, and how each
//! answer maps to a `Delivery`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use switchboard_backend::push::apns::ApnsClient;
use switchboard_backend::push::fcm::FcmClient;
use switchboard_backend::push::{Delivery, PushKind, PushMessage};
use switchboard_e2e::push_servers::{
    APNS_TEST_TOPIC, FCM_SCOPE, FCM_TEST_PROJECT, FCM_WRONG_PRIVATE_PEM, FakeApns, FakeFcm,
    test_apns_credentials,
};
use switchboard_shared::{ChatId, Mode};

const WAIT: Duration = Duration::from_secs(5);
/// A push the provider accepted.
const DELIVERED: Delivery = Delivery::Delivered { status: 200 };

fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ring(token: &str, chat: i64) -> PushMessage {
    PushMessage {
        device_token: token.into(),
        chat_id: ChatId(chat),
        kind: PushKind::Ring {
            visitor: "Ann".into(),
            page: Some("https://shop.example/pricing".into()),
            mode: Mode::Voice,
            action_token: "act-123".into(),
            action_expires_at: 1_790_000_000_000,
        },
    }
}

fn clear(token: &str, chat: i64) -> PushMessage {
    PushMessage {
        device_token: token.into(),
        chat_id: ChatId(chat),
        kind: PushKind::Clear,
    }
}

async fn apns() -> (FakeApns, ApnsClient) {
    init();
    let server = FakeApns::start_for_test_key(APNS_TEST_TOPIC).await;
    let client = ApnsClient::new(
        test_apns_credentials(APNS_TEST_TOPIC),
        Some(server.base_url()),
    )
    .expect("client");
    (server, client)
}

async fn fcm() -> (FakeFcm, FcmClient) {
    init();
    let server = FakeFcm::start().await;
    let client =
        FcmClient::new(&server.service_account_json(), Some(server.base_url())).expect("client");
    (server, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_ring_and_clear_are_delivered_with_the_right_headers_and_payload() {
    let (server, client) = apns().await;
    for push in [ring("aabbcc01", 42), clear("aabbcc01", 42)] {
        assert_eq!(client.send(&push).await, DELIVERED);
    }

    let reqs = server.wait_for(2, WAIT).await;
    let r = &reqs[0];
    assert!(r.verified, "{:?}", r.problem);
    assert_eq!(r.version, axum::http::Version::HTTP_2);
    assert_eq!(r.token, "aabbcc01");
    assert_eq!(r.header("apns-topic"), Some(APNS_TEST_TOPIC));
    assert_eq!(r.header("apns-push-type"), Some("alert"));
    assert_eq!(r.header("apns-priority"), Some("10"));
    assert_eq!(r.header("apns-collapse-id"), Some("chat-42"));
    let exp: u64 = r.header("apns-expiration").unwrap().parse().unwrap();
    let now = now_secs();
    assert!(
        exp > now + 50 && exp <= now + 61,
        "ring expires in ~60 s: {exp} vs {now}"
    );
    let aps = &r.payload["aps"];
    assert_eq!(aps["alert"]["title"], "Incoming chat request");
    assert_eq!(
        aps["alert"]["body"],
        "Ann (voice) — https://shop.example/pricing"
    );
    assert_eq!(aps["sound"], "default");
    assert_eq!(aps["category"], "CHAT_REQUEST");
    assert_eq!(aps["mutable-content"], 1);
    let sb = r.switchboard();
    assert_eq!(sb["type"], "ring");
    assert_eq!(sb["chat_id"], 42);
    assert_eq!(sb["action_token"], "act-123");
    assert_eq!(sb["action_expires_at"], 1_790_000_000_000i64);

    let c = &reqs[1];
    assert!(c.verified, "{:?}", c.problem);
    assert_eq!(c.header("apns-push-type"), Some("background"));
    assert_eq!(c.header("apns-priority"), Some("5"));
    assert_eq!(c.header("apns-collapse-id"), Some("chat-42"));
    assert_eq!(c.payload["aps"]["content-available"], 1);
    assert!(c.payload["aps"].get("alert").is_none());
    assert_eq!(c.switchboard()["type"], "clear");
    assert_eq!(c.switchboard()["chat_id"], 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_provider_token_is_reused_across_sends() {
    let (server, client) = apns().await;
    for i in 0..4 {
        let d = client.send(&ring(&format!("tok{i}"), i)).await;
        assert_eq!(d, DELIVERED);
    }
    let reqs = server.wait_for(4, WAIT).await;
    assert!(reqs.iter().all(|r| r.verified));
    let first = reqs[0].jwt().unwrap().to_owned();
    assert!(
        reqs.iter().all(|r| r.jwt() == Some(first.as_str())),
        "one JWT for all sends"
    );
    assert_eq!(client.provider_token().unwrap(), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_answers_map_to_deliveries() {
    let (server, client) = apns().await;

    server.unregister("dead");
    assert_eq!(
        client.send(&ring("dead", 1)).await,
        Delivery::Unregistered {
            status: 410,
            reason: "Unregistered".into()
        }
    );

    server.fail_next(1, 400, "BadDeviceToken", None);
    assert_eq!(
        client.send(&ring("bad", 1)).await,
        Delivery::Unregistered {
            status: 400,
            reason: "BadDeviceToken".into()
        }
    );

    server.fail_next(1, 429, "TooManyRequests", Some(7));
    assert_eq!(
        client.send(&ring("busy", 1)).await,
        Delivery::Retry {
            after: Some(Duration::from_secs(7)),
            status: 429,
            reason: "TooManyRequests".into()
        }
    );

    server.fail_next(2, 503, "ServiceUnavailable", None);
    for _ in 0..2 {
        assert_eq!(
            client.send(&clear("t", 1)).await,
            Delivery::Retry {
                after: None,
                status: 503,
                reason: "ServiceUnavailable".into()
            }
        );
    }

    server.fail_next(1, 413, "PayloadTooLarge", None);
    assert!(matches!(
        client.send(&ring("t", 1)).await,
        Delivery::Rejected { status: 413, reason } if reason == "PayloadTooLarge"
    ));

    // An expired provider token is retried (the client renews it once Apple's 20-minute
    // minimum allows).
    server.fail_next(1, 403, "ExpiredProviderToken", None);
    assert!(matches!(
        client.send(&ring("t", 1)).await,
        Delivery::Retry { status: 403, .. }
    ));

    // The script is used up: back to 200.
    assert_eq!(client.send(&ring("t", 1)).await, DELIVERED);
    assert!(server.requests().iter().all(|r| r.verified));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_checks_the_provider_token_and_topic() {
    init();
    let server = FakeApns::start_for_test_key(APNS_TEST_TOPIC).await;

    // Right key, wrong key id: the signature cannot be matched to the key.
    let mut creds = test_apns_credentials(APNS_TEST_TOPIC);
    creds.key_id = "OTHERKEY99".into();
    let client = ApnsClient::new(creds, Some(server.base_url())).unwrap();
    assert_eq!(
        client.send(&ring("t", 1)).await,
        Delivery::Rejected {
            status: 403,
            reason: "InvalidProviderToken".into()
        }
    );

    // Wrong team.
    let mut creds = test_apns_credentials(APNS_TEST_TOPIC);
    creds.team_id = "OTHERTEAM9".into();
    let client = ApnsClient::new(creds, Some(server.base_url())).unwrap();
    assert!(matches!(
        client.send(&ring("t", 1)).await,
        Delivery::Rejected { status: 403, .. }
    ));

    // Wrong topic.
    let client =
        ApnsClient::new(test_apns_credentials("other.app"), Some(server.base_url())).unwrap();
    assert_eq!(
        client.send(&ring("t", 1)).await,
        Delivery::Rejected {
            status: 400,
            reason: "BadTopic".into()
        }
    );

    let reqs = server.wait_for(3, WAIT).await;
    assert!(reqs.iter().all(|r| !r.verified));
    assert_eq!(reqs[0].problem.as_deref(), Some("InvalidProviderToken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_bad_credentials_and_unreachable_host() {
    init();
    let mut creds = test_apns_credentials(APNS_TEST_TOPIC);
    creds.key_p8 = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n".into();
    assert!(ApnsClient::new(creds, None).is_err());
    let mut creds = test_apns_credentials(APNS_TEST_TOPIC);
    creds.topic = String::new();
    assert!(ApnsClient::new(creds, None).is_err());
    // Debug never shows the key.
    let shown = format!("{:?}", test_apns_credentials(APNS_TEST_TOPIC));
    assert!(!shown.contains("PRIVATE KEY") && shown.contains("redacted"));

    // Default hosts by `sandbox`.
    let c = ApnsClient::new(test_apns_credentials(APNS_TEST_TOPIC), None).unwrap();
    assert_eq!(c.base_url(), "https://api.sandbox.push.apple.com");
    let mut creds = test_apns_credentials(APNS_TEST_TOPIC);
    creds.sandbox = false;
    assert_eq!(
        ApnsClient::new(creds, None).unwrap().base_url(),
        "https://api.push.apple.com"
    );

    // Nothing listens: a transport error is retried.
    let port = switchboard_e2e::free_port();
    let client = ApnsClient::new(
        test_apns_credentials(APNS_TEST_TOPIC),
        Some(format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    assert!(matches!(
        client.send(&ring("t", 1)).await,
        Delivery::Retry {
            status: 0,
            after: None,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_ring_and_clear_are_delivered_with_one_cached_token() {
    let (server, client) = fcm().await;
    assert_eq!(client.project_id(), FCM_TEST_PROJECT);
    for push in [
        ring("fcm-tok-1", 7),
        clear("fcm-tok-1", 7),
        ring("fcm-tok-2", 8),
    ] {
        assert_eq!(client.send(&push).await, DELIVERED);
    }

    let reqs = server.wait_for(3, WAIT).await;
    assert!(reqs.iter().all(|r| r.verified), "{:?}", reqs);
    assert!(reqs.iter().all(|r| r.project == FCM_TEST_PROJECT));
    let tokens = server.token_requests();
    assert_eq!(
        tokens.len(),
        1,
        "the OAuth2 token is fetched once and cached"
    );
    assert!(tokens[0].granted, "{:?}", tokens[0].problem);
    assert_eq!(tokens[0].claims["scope"], FCM_SCOPE);
    assert_eq!(tokens[0].claims["aud"], server.token_uri());
    assert!(reqs.iter().all(|r| r.bearer == reqs[0].bearer));

    let r = &reqs[0];
    assert_eq!(r.token(), "fcm-tok-1");
    assert_eq!(r.data("type"), Some("ring"));
    assert_eq!(r.data("chat_id"), Some("7"));
    assert_eq!(r.data("action_token"), Some("act-123"));
    assert_eq!(r.data("action_expires_at"), Some("1790000000000"));
    assert_eq!(r.data("title"), Some("Incoming chat request"));
    assert_eq!(
        r.data("body"),
        Some("Ann (voice) — https://shop.example/pricing")
    );
    assert_eq!(r.data("category"), Some("CHAT_REQUEST"));
    let android = &r.message()["android"];
    assert_eq!(android["priority"], "high");
    assert_eq!(android["collapse_key"], "chat-7");
    assert_eq!(android["ttl"], "60s");
    assert!(
        r.message().get("notification").is_none(),
        "data-only message"
    );

    let c = &reqs[1];
    assert_eq!(c.data("type"), Some("clear"));
    assert_eq!(c.data("chat_id"), Some("7"));
    assert_eq!(c.data("action_token"), None);
    assert_eq!(c.message()["android"]["collapse_key"], "chat-7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_answers_map_to_deliveries() {
    let (server, client) = fcm().await;

    server.unregister("gone");
    assert!(matches!(
        client.send(&ring("gone", 1)).await,
        Delivery::Unregistered { status: 404, reason } if reason.starts_with("UNREGISTERED")
    ));

    server.fail_next(1, 400, "INVALID_ARGUMENT", None);
    // A scripted INVALID_ARGUMENT that does not mention the token is a bad request.
    assert!(matches!(
        client.send(&ring("t", 1)).await,
        Delivery::Rejected { status: 400, .. }
    ));

    // An empty registration token: FCM says it is not a valid registration token.
    assert!(matches!(
        client.send(&ring("", 1)).await,
        Delivery::Unregistered { status: 400, .. }
    ));

    server.fail_next(1, 429, "QUOTA_EXCEEDED", Some(11));
    assert!(matches!(
        client.send(&ring("t", 1)).await,
        Delivery::Retry { after: Some(d), status: 429, reason }
            if d == Duration::from_secs(11) && reason.starts_with("QUOTA_EXCEEDED")
    ));

    server.fail_next(1, 503, "UNAVAILABLE", Some(2));
    assert!(matches!(
        client.send(&clear("t", 1)).await,
        Delivery::Retry { after: Some(d), status: 503, .. } if d == Duration::from_secs(2)
    ));
    server.fail_next(1, 500, "INTERNAL", None);
    assert!(matches!(
        client.send(&clear("t", 1)).await,
        Delivery::Retry {
            after: None,
            status: 500,
            ..
        }
    ));

    assert_eq!(client.send(&ring("t", 1)).await, DELIVERED);

    // Revoked credentials: 401 is refused for good.
    server.revoke_tokens();
    assert!(matches!(
        client.send(&ring("t", 1)).await,
        Delivery::Rejected { status: 401, .. }
    ));
    assert_eq!(server.token_requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_bad_keys() {
    init();
    let server = FakeFcm::start().await;
    // Not a service-account key at all.
    assert!(FcmClient::new("{}", None).is_err());
    assert!(FcmClient::new("not json", None).is_err());
    // A key that is not a PEM RSA key.
    let mut json: serde_json::Value = serde_json::from_str(&server.service_account_json()).unwrap();
    json["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into();
    assert!(FcmClient::new(&json.to_string(), None).is_err());
    // No project.
    let mut json: serde_json::Value = serde_json::from_str(&server.service_account_json()).unwrap();
    json.as_object_mut().unwrap().remove("project_id");
    assert!(FcmClient::new(&json.to_string(), None).is_err());
    // Default host.
    let c = FcmClient::new(&server.service_account_json(), None).unwrap();
    assert_eq!(
        c.send_url(),
        "https://fcm.googleapis.com/v1/projects/switchboard-test/messages:send"
    );

    // A well-formed key the token endpoint does not know: no token, nothing sent.
    let client = FcmClient::new(
        &server.service_account_json_signed_by(FCM_WRONG_PRIVATE_PEM),
        Some(server.base_url()),
    )
    .unwrap();
    let d = client.send(&ring("t", 1)).await;
    assert!(
        matches!(&d, Delivery::Retry { status: 0, reason, .. } if reason.contains("token")),
        "{d:?}"
    );
    let tokens = server.token_requests();
    assert!(!tokens.is_empty() && tokens.iter().all(|t| !t.granted));
    assert!(server.requests().is_empty());
}
