//! Push end to end: the real backend with its real APNs and FCM clients, talking to local
//! servers that speak those APIs (an HTTP/2 APNs that checks the ES256 JWT, the headers and
//! the payload; an FCM v1 endpoint with its OAuth2 token endpoint).

use std::time::Duration;

use switchboard_core::app::App;
use switchboard_core::{Connection, Session};
use switchboard_e2e::operator_app::AppHarness;
use switchboard_e2e::push_servers::{FakeApns, FakeFcm, test_apns_credentials, test_apns_settings};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer, free_port, wait};
use switchboard_shared::{
    ChatId, ChatStatus, EndReason, ErrorCode, PushAction, PushAttempt, PushPlatform,
    PushSettingsUpdate, RegisterDeviceRequest, UpdateOperatorRequest,
};

const TOPIC: &str = "com.example.switchboard";
const WAIT: Duration = Duration::from_secs(10);
/// How often a test asks again while it waits on the server.
const EVERY: Duration = Duration::from_millis(50);

switchboard_e2e::on_both_databases!(
    a_request_pushes_each_eligible_device_once_and_is_cleared_when_taken,
    notification_actions_use_single_use_action_tokens,
    dead_tokens_are_disabled_and_busy_providers_are_retried,
    a_restart_mid_send_still_delivers,
    ring_groups_ring_in_turn,
    an_app_that_leaves_the_foreground_is_pushed_again,
    the_app_registers_its_phone_and_says_when_it_is_in_the_background,
    the_outbox_keeps_no_action_token_in_the_clear,
    device_tokens_never_show_in_the_attempt_log,
    a_ring_being_retried_stops_when_its_chat_stops_ringing,
    going_not_available_clears_the_phones_and_stops_ringing,
    a_request_taken_at_once_is_cleared_after_its_ring,
);

struct Rig {
    server: TestServer,
    apns: FakeApns,
    fcm: FakeFcm,
}

async fn rig(db: Db) -> Rig {
    let apns = FakeApns::start_for_test_key(TOPIC).await;
    let fcm = FakeFcm::start().await;
    let (apns_url, fcm_url) = (apns.base_url(), fcm.base_url());
    let server = TestServer::start_with(db, move |c| {
        c.apns_url = Some(apns_url);
        c.fcm_url = Some(fcm_url);
    })
    .await;
    let update = PushSettingsUpdate {
        apns: Some(Some(test_apns_settings(TOPIC))),
        fcm_service_account: Some(Some(fcm.service_account_json())),
        ring_again_after_secs: None,
        next_group_after_secs: None,
    };
    let shown = server.admin.put_push_settings(&update).await.unwrap();
    // The secret parts never come back.
    let json = serde_json::to_string(&shown).unwrap();
    assert!(
        !json.contains("PRIVATE KEY") && !json.contains("private_key"),
        "{json}"
    );
    assert_eq!(shown.apns.unwrap().topic, TOPIC);
    assert_eq!(shown.fcm.unwrap().project_id, "switchboard-test");
    Rig { server, apns, fcm }
}

/// An available operator with one device of each kind; not connected (the app is closed).
async fn operator_with_devices(rig: &Rig, name: &str) -> (Session, String, String) {
    operator_with_devices_in(rig, name, None).await
}

/// The same, in a ring group.
async fn operator_with_devices_in(
    rig: &Rig,
    name: &str,
    ring_group: Option<u32>,
) -> (Session, String, String) {
    let mut session = rig.server.operator_in_group(name, ring_group).await;
    session.set_available(true).await.unwrap();
    let (apns_token, fcm_token) = (format!("{:0>64}", hex(name)), format!("fcm-{name}-token"));
    for (platform, token) in [
        (PushPlatform::Apns, &apns_token),
        (PushPlatform::Fcm, &fcm_token),
    ] {
        let req = RegisterDeviceRequest {
            platform,
            token: token.clone(),
            name: Some(format!("{name}'s phone")),
            replaces: None,
        };
        session.register_device(&req).await.unwrap();
    }
    (session, apns_token, fcm_token)
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The chat's push attempt log, as the admin sees it now.
async fn attempt_log(rig: &Rig, chat: ChatId) -> Vec<PushAttempt> {
    let admin = &rig.server.admin;
    admin.push_attempts(Some(chat), None).await.unwrap()
}

/// The chat's push attempt log once it holds at least `n` attempts (they are recorded just
/// after the provider answers), or as it is after [`WAIT`].
async fn attempts(rig: &Rig, chat: ChatId, n: usize) -> Vec<PushAttempt> {
    wait::at_least(n, WAIT, EVERY, async || attempt_log(rig, chat).await)
        .await
        .unwrap_or_else(|log| log)
}

/// A visitor asks for a chat on the rig's server.
async fn request_chat(rig: &Rig, name: &str) -> (Visitor, ChatId) {
    Visitor::request_chat(&rig.server.base, name).await
}

/// The action tokens of the rings APNs received for `chat`, oldest first; only those to the
/// device `to` when given.
fn ring_action_tokens(rig: &Rig, chat: ChatId, to: Option<&str>) -> Vec<String> {
    rig.apns
        .requests()
        .iter()
        .filter(|r| r.switchboard()["chat_id"] == chat.0 && r.switchboard()["type"] == "ring")
        .filter(|r| to.is_none_or(|device| r.token == device))
        .map(|r| r.switchboard()["action_token"].as_str().unwrap().to_owned())
        .collect()
}

/// How many pushes APNs received for `chat` on the device `to`.
fn pushes_to(rig: &Rig, to: &str, chat: ChatId) -> usize {
    let pushes = rig.apns.requests();
    pushes
        .iter()
        .filter(|r| r.token == to && r.switchboard()["chat_id"] == chat.0)
        .count()
}

async fn a_request_pushes_each_eligible_device_once_and_is_cleared_when_taken(db: Db) {
    let rig = rig(db).await;
    let (anna, anna_apns, anna_fcm) = operator_with_devices(&rig, "Anna").await;
    // Ben has the app open on his registered phone: he rings over the connection, not by push.
    let (mut ben, ben_apns, ben_fcm) = operator_with_devices(&rig, "Ben").await;
    let ben_device = ben.devices().await.unwrap()[0].id;
    ben.device_id = Some(ben_device);
    let mut ben_conn: Connection = ben.connect().await.unwrap();
    // Cleo is not available: nothing for her.
    let (cleo, cleo_apns, _) = operator_with_devices(&rig, "Cleo").await;
    cleo.set_available(false).await.unwrap();

    // Device registration: listed with the token's tail only, for the operator and the admin.
    let listed = anna.devices().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|d| d.token_tail.len() <= 6 && d.disabled_at.is_none())
    );
    assert_eq!(
        rig.server
            .admin
            .devices_of(anna.operator.id)
            .await
            .unwrap()
            .len(),
        2
    );

    let (_visitor, chat) = request_chat(&rig, "Vera").await;
    rig.apns.wait_for(1, WAIT).await;
    // Ben's other phone (FCM) has no live connection: it rings.
    let fcm_rings = rig.fcm.wait_for(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // nothing more may come
    let rings: Vec<_> = rig.apns.requests();
    assert_eq!(
        rings.len(),
        1,
        "one APNs push: Anna's iPhone only ({rings:?})"
    );
    let ring = &rings[0];
    assert!(ring.verified, "{:?}", ring.problem);
    assert_eq!(ring.token, anna_apns);
    assert_eq!(ring.header("apns-push-type"), Some("alert"));
    assert_eq!(ring.header("apns-priority"), Some("10"));
    assert_eq!(ring.header("apns-topic"), Some(TOPIC));
    assert_eq!(
        ring.header("apns-collapse-id"),
        Some(format!("chat-{chat}").as_str())
    );
    assert_eq!(ring.payload["aps"]["category"], "CHAT_REQUEST");
    assert!(
        ring.payload["aps"]["alert"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Vera (text)")
    );
    assert_eq!(ring.switchboard()["chat_id"], chat.0);
    assert!(
        ring.switchboard()["action_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 32)
    );
    let mut fcm_tokens: Vec<&str> = fcm_rings.iter().map(|r| r.token()).collect();
    fcm_tokens.sort();
    let mut expected = vec![anna_fcm.as_str(), ben_fcm.as_str()];
    expected.sort();
    assert_eq!(fcm_tokens, expected);
    assert!(
        fcm_rings
            .iter()
            .all(|r| r.verified && r.data("type") == Some("ring"))
    );
    assert!(
        rig.apns
            .requests()
            .iter()
            .all(|r| r.token != ben_apns && r.token != cleo_apns)
    );
    // Within the same second of the request (measured by the benchmark; here a loose bound).
    assert!(ring.received_at.elapsed() < WAIT);

    // Ben takes it: every phone that rang (Anna's, and Ben's other one) drops it.
    ben_conn
        .wait_for(|m| matches!(m, switchboard_shared::OperatorServerMsg::Event { .. }))
        .await
        .unwrap();
    ben_conn.accept(chat).await.unwrap();
    let all = rig.apns.wait_for(2, WAIT).await;
    let clear = &all[1];
    assert!(clear.verified, "{:?}", clear.problem);
    assert_eq!(
        (clear.token.as_str(), clear.header("apns-push-type")),
        (anna_apns.as_str(), Some("background"))
    );
    assert_eq!(
        clear.header("apns-collapse-id"),
        Some(format!("chat-{chat}").as_str())
    );
    assert_eq!(clear.switchboard()["type"], "clear");
    let fcm_all = rig.fcm.wait_for(4, WAIT).await;
    assert!(fcm_all[2..].iter().all(|r| r.data("type") == Some("clear")));

    // Every attempt is logged with its latency and result, per chat and per device.
    let log = attempts(&rig, chat, 6).await;
    assert_eq!(log.len(), 6, "{log:?}");
    assert!(
        log.iter()
            .all(|a| a.result == "delivered" && a.status == 200 && a.latency_ms >= 0)
    );
    let device_log = rig
        .server
        .admin
        .push_attempts(None, Some(listed[0].id))
        .await
        .unwrap();
    assert_eq!(device_log.len(), 2);
}

async fn notification_actions_use_single_use_action_tokens(db: Db) {
    let rig = rig(db).await;
    let (_anna, anna_apns, _) = operator_with_devices(&rig, "Anna").await;
    let (ben, _, _) = operator_with_devices(&rig, "Ben").await;
    let client = rig.server.client();

    let (mut visitor, chat) = request_chat(&rig, "Walt").await;
    rig.apns.wait_for(2, WAIT).await;
    let anna_token = ring_action_tokens(&rig, chat, Some(&anna_apns)).remove(0);

    // Forged.
    let err = client
        .push_action(&"f".repeat(64), PushAction::Accept)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthorized));
    // Accept from the lock screen: the background handler, no sign-in.
    let answered = App::answer_notification(&rig.server.base, &anna_token, PushAction::Accept)
        .await
        .unwrap();
    assert_eq!(answered.chat.id, chat);
    assert_eq!(answered.chat.status, ChatStatus::Active);
    assert_eq!(answered.chat.operator.as_ref().unwrap().name, "Anna");
    visitor.wait_status(ChatStatus::Active).await;
    // Reused.
    let err = client
        .push_action(&anna_token, PushAction::Accept)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Conflict));

    // Someone else's accept first: a clear "already taken".
    let (_v2, chat2) = request_chat(&rig, "Xena").await;
    let mut ben_conn = ben.connect().await.unwrap();
    let anna_token2 = wait::poll(WAIT, EVERY, async || {
        ring_action_tokens(&rig, chat2, Some(&anna_apns))
            .into_iter()
            .next()
    })
    .await
    .expect("no ring for chat 2");
    ben_conn.accept(chat2).await.unwrap();
    let err = App::answer_notification(&rig.server.base, &anna_token2, PushAction::Accept)
        .await
        .unwrap_err();
    assert_eq!(err.code, "already_taken", "{}", err.message);
    assert!(err.message.contains("Ben"), "{}", err.message);

    // Queue and Decline from the notification; an expired token is refused.
    let (mut v3, chat3) = request_chat(&rig, "Yuri").await;
    let tokens3 = wait::poll(WAIT, EVERY, async || {
        let t = ring_action_tokens(&rig, chat3, None);
        (t.len() == 2).then_some(t)
    })
    .await
    .expect("no rings for chat 3");
    client
        .push_action(&tokens3[0], PushAction::Decline)
        .await
        .unwrap();
    sqlx::query("update push_action_tokens set expires_at = 1 where used_at is null")
        .execute(&rig.server.state.store.write)
        .await
        .unwrap();
    let err = client
        .push_action(&tokens3[1], PushAction::Queue)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::TokenExpired));
    // The decline took effect; the expired queue did not: still ringing for the other operator.
    let history = rig.server.admin.chat_events(chat3, 0).await.unwrap();
    assert!(
        history
            .iter()
            .any(|e| matches!(e.kind, switchboard_shared::ChatEventKind::Declined { .. }))
    );
    assert_eq!(history.last().unwrap().status, ChatStatus::Waiting);
    v3.ping().await;
    assert!(
        v3.events.iter().all(|e| e.status == ChatStatus::Waiting),
        "never queued"
    );
}

async fn dead_tokens_are_disabled_and_busy_providers_are_retried(db: Db) {
    let rig = rig(db).await;
    let (anna, anna_apns, anna_fcm) = operator_with_devices(&rig, "Anna").await;

    // APNs says the iPhone's token is dead: the device is disabled at once.
    rig.apns.unregister(&anna_apns);
    let (mut v1, chat1) = request_chat(&rig, "Zoe").await;
    rig.apns.wait_for(1, WAIT).await;
    let iphone = wait::poll(WAIT, EVERY, async || {
        let devices = anna.devices().await.unwrap();
        let iphone = devices
            .into_iter()
            .find(|d| d.platform == PushPlatform::Apns);
        iphone.filter(|d| d.disabled_at.is_some())
    })
    .await
    .expect("device never disabled");
    assert!(
        iphone
            .disabled_reason
            .as_deref()
            .unwrap_or("")
            .contains("Unregistered"),
        "{iphone:?}"
    );
    v1.end_chat().await;
    v1.wait_status(ChatStatus::Missed).await;
    let log = attempt_log(&rig, chat1).await;
    assert!(
        log.iter()
            .any(|a| a.status == 410 && a.result.starts_with("unregistered")),
        "{log:?}"
    );

    // Busy providers: APNs 503 twice, FCM 429 with Retry-After: retried until delivered.
    let anna_iphone2 = format!("{:0>64}", "beef");
    let mut anna = anna;
    anna.register_device(&RegisterDeviceRequest {
        platform: PushPlatform::Apns,
        token: anna_iphone2.clone(),
        name: None,
        replaces: Some(anna_apns.clone()),
    })
    .await
    .unwrap();
    assert_eq!(
        anna.devices().await.unwrap().len(),
        2,
        "the new token replaced the dead one"
    );
    rig.apns.clear_requests();
    rig.fcm.clear_requests();
    rig.apns.fail_next(2, 503, "ServiceUnavailable", None);
    rig.fcm.fail_next(1, 429, "QUOTA_EXCEEDED", Some(1));
    let (_v2, chat2) = request_chat(&rig, "Amy").await;
    let apns_reqs = rig.apns.wait_for(3, Duration::from_secs(15)).await;
    assert_eq!(
        apns_reqs.iter().map(|r| r.status).collect::<Vec<_>>(),
        [503, 503, 200]
    );
    assert!(apns_reqs.iter().all(|r| r.token == anna_iphone2));
    let fcm_reqs = rig.fcm.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(
        fcm_reqs.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 200]
    );
    assert_eq!(fcm_reqs[1].token(), anna_fcm);
    let gap = fcm_reqs[1].received_at - fcm_reqs[0].received_at;
    assert!(
        gap >= Duration::from_millis(900),
        "Retry-After honoured: {gap:?}"
    );
    let log = attempts(&rig, chat2, 5).await;
    let results: Vec<&str> = log.iter().rev().map(|a| a.result.as_str()).collect();
    assert_eq!(
        results.iter().filter(|r| r.starts_with("retry")).count(),
        3,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| **r == "delivered").count(),
        2,
        "{results:?}"
    );
}

async fn a_restart_mid_send_still_delivers(db: Db) {
    let mut rig = rig(db).await;
    let (_anna, anna_apns, _) = operator_with_devices(&rig, "Anna").await;
    // APNs is down when the request comes in; the backend restarts before it is back.
    rig.apns.fail_next(1, 503, "ServiceUnavailable", Some(2));
    let (_v, chat) = request_chat(&rig, "Bea").await;
    rig.apns.wait_for(1, WAIT).await;
    attempts(&rig, chat, 1).await; // the failure is recorded
    // The credentials are stored encrypted, under a key that is not in the database…
    let stored = stored_push_settings(&rig).await;
    assert!(stored.contains("\"sealed\""), "{stored}");
    assert!(!stored.contains("PRIVATE KEY") && !stored.contains("private_key"));
    // …without which the server will not start on this database…
    let wrong = switchboard_backend::config::Config {
        secret_key: Some("00".repeat(32)),
        ..rig.server.config.clone()
    };
    match switchboard_backend::init(wrong).await {
        Err(switchboard_backend::error::Error::Config(msg)) => {
            assert!(msg.contains("secret key"), "{msg}")
        }
        Err(e) => panic!("expected a configuration error, got {e}"),
        Ok(_) => panic!("started with the wrong secret key"),
    }
    // …and with which a restart reads them back and delivers.
    rig.server.restart().await;
    let reqs = rig.apns.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(reqs[1].status, 200);
    assert_eq!(reqs[1].token, anna_apns);
    assert_eq!(reqs[1].switchboard()["chat_id"], chat.0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rig.apns
            .requests()
            .iter()
            .filter(|r| r.token == anna_apns && r.status == 200)
            .count(),
        1,
        "delivered once"
    );

    // Settings saved in the clear by an older version are read, and saved again encrypted.
    let plain = switchboard_backend::push::StoredPushSettings {
        apns: Some(test_apns_credentials(TOPIC)),
        ..Default::default()
    };
    sqlx::query("update settings set value = $1 where key = 'push'")
        .bind(serde_json::to_string(&plain).unwrap())
        .execute(&rig.server.state.store.write)
        .await
        .unwrap();
    rig.server.restart().await;
    let stored = stored_push_settings(&rig).await;
    assert!(stored.contains("\"sealed\"") && !stored.contains("PRIVATE KEY"));
    let _v2 = a_request_is_delivered(&rig, "Cal").await;

    // Changing keys: started with a new key and the previous one, the server reads the
    // credentials and saves them again under the new key, which alone then suffices.
    let old_key = std::fs::read_to_string(&rig.server.config.secret_key_file).unwrap();
    rig.server.config.secret_key = Some("11".repeat(32));
    rig.server.config.secret_key_previous = Some(old_key);
    rig.server.restart().await;
    rig.server.config.secret_key_previous = None;
    rig.server.restart().await;
    let _v3 = a_request_is_delivered(&rig, "Dee").await;
}

/// The push settings as the database holds them.
async fn stored_push_settings(rig: &Rig) -> String {
    let (stored,): (String,) = sqlx::query_as("select value from settings where key = 'push'")
        .fetch_one(&rig.server.state.store.read)
        .await
        .unwrap();
    stored
}

/// With the pushes so far forgotten, a new visitor's chat request reaches APNs and is
/// delivered. The visitor stays connected (one who left would be missed, and cleared).
async fn a_request_is_delivered(rig: &Rig, name: &str) -> Visitor {
    rig.apns.clear_requests();
    let (visitor, chat) = request_chat(rig, name).await;
    let reqs = rig.apns.wait_for(1, WAIT).await;
    assert_eq!(
        (reqs[0].status, reqs[0].switchboard()["chat_id"].clone()),
        (200, serde_json::json!(chat.0))
    );
    visitor
}

/// Escalation: a request nobody accepts rings again after `ring_again_after_secs`, and the
/// ring timeout still offers the visitor "Leave a message" in the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_request_rings_again_then_offers_leave_a_message() {
    let rig = rig(Db::Sqlite).await;
    let (_anna, anna_apns, _) = operator_with_devices(&rig, "Anna").await;
    let update = PushSettingsUpdate {
        ring_again_after_secs: Some(1),
        ..Default::default()
    };
    assert_eq!(
        rig.server
            .admin
            .put_push_settings(&update)
            .await
            .unwrap()
            .ring_again_after_secs,
        1
    );
    let mut settings = rig.server.admin.settings().await.unwrap();
    settings.ring_timeout_secs = 5;
    rig.server.admin.put_settings(&settings).await.unwrap();

    let asked = std::time::Instant::now();
    let (mut visitor, chat) = request_chat(&rig, "Cy").await;
    let rings = rig.apns.wait_for(2, WAIT).await;
    assert!(
        rings
            .iter()
            .all(|r| r.token == anna_apns && r.switchboard()["type"] == "ring")
    );
    // Measured from the request, not from the first push (which may itself be late).
    let after = rings[1].received_at - asked;
    assert!(
        after >= Duration::from_millis(950),
        "rang again after the delay: {after:?}"
    );
    assert_ne!(
        rings[0].switchboard()["action_token"],
        rings[1].switchboard()["action_token"]
    );
    // Finally nobody answered: the visitor is offered "Leave a message", the phone is cleared.
    assert_eq!(visitor.wait_ended().await, EndReason::NoOperator);
    let all = rig.apns.wait_for(3, WAIT).await;
    assert_eq!(all[2].switchboard()["type"], "clear");
    assert_eq!(all[2].switchboard()["chat_id"], chat.0);
}

/// Escalation by ring group: group 1's phones ring first, the next group's after
/// `next_group_after_secs`; a group whose operators all declined passes the ring on at once.
async fn ring_groups_ring_in_turn(db: Db) {
    let rig = rig(db).await;
    let admin = &rig.server.admin;
    let (_anna, anna_apns, _) = operator_with_devices(&rig, "Anna").await;
    let (ben, ben_apns, _) = operator_with_devices_in(&rig, "Ben", Some(2)).await;
    let (cleo, cleo_apns, _) = operator_with_devices(&rig, "Cleo").await;
    assert_eq!(ben.operator.ring_group, 2);
    assert_eq!(cleo.operator.ring_group, 1, "group 1 unless told");
    // Groups are 1 to 9: anything else is refused and changes nothing.
    for bad in [0, 10] {
        let req = UpdateOperatorRequest {
            ring_group: Some(bad),
            name: Some("Renamed".into()),
            ..Default::default()
        };
        let err = admin
            .update_operator(cleo.operator.id, &req)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidInput));
    }
    let req = UpdateOperatorRequest {
        ring_group: Some(3),
        ..Default::default()
    };
    assert_eq!(
        admin
            .update_operator(cleo.operator.id, &req)
            .await
            .unwrap()
            .ring_group,
        3
    );
    let listed = admin.operators().await.unwrap();
    let cleo_now = listed.iter().find(|o| o.id == cleo.operator.id).unwrap();
    assert_eq!((cleo_now.name.as_str(), cleo_now.ring_group), ("Cleo", 3));

    // Groups on, with a long step: only a decline moves the ring on.
    let update = PushSettingsUpdate {
        next_group_after_secs: Some(60),
        ..Default::default()
    };
    assert_eq!(
        admin
            .put_push_settings(&update)
            .await
            .unwrap()
            .next_group_after_secs,
        60
    );
    let bad = PushSettingsUpdate {
        next_group_after_secs: Some(3601),
        ..Default::default()
    };
    let err = admin.put_push_settings(&bad).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidInput));

    let (mut visitor, chat) = request_chat(&rig, "Gus").await;
    let first = rig.apns.wait_for(1, WAIT).await;
    assert_eq!(first[0].token, anna_apns, "group 1 rings first");
    let anna_token = first[0].switchboard()["action_token"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rig.apns.requests().len(), 1, "group 2 waits its turn");
    // Anna declines from the lock screen: her phone is cleared and group 2 rings at once.
    rig.server
        .client()
        .push_action(&anna_token, PushAction::Decline)
        .await
        .unwrap();
    let all = rig.apns.wait_for(3, WAIT).await;
    let ben_ring = all
        .iter()
        .find(|r| r.token == ben_apns && r.switchboard()["type"] == "ring")
        .expect("Ben's phone rings after Anna's decline");
    assert_eq!(ben_ring.switchboard()["chat_id"], chat.0);
    assert!(
        all.iter()
            .any(|r| r.token == anna_apns && r.switchboard()["type"] == "clear")
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        rig.apns.requests().iter().all(|r| r.token != cleo_apns),
        "group 3 has not had its turn"
    );
    // The visitor gives up: every phone that rang is cleared.
    visitor.end_chat().await;
    visitor.wait_status(ChatStatus::Missed).await;
    let all = rig.apns.wait_for(4, WAIT).await;
    assert!(
        all.iter()
            .any(|r| r.token == ben_apns && r.switchboard()["type"] == "clear")
    );

    // A short step: the groups ring in turn, one step apart, each phone once.
    let update = PushSettingsUpdate {
        next_group_after_secs: Some(2),
        ..Default::default()
    };
    admin.put_push_settings(&update).await.unwrap();
    rig.apns.clear_requests();
    let asked = std::time::Instant::now();
    let (_visitor, chat) = request_chat(&rig, "Hal").await;
    let rings = rig.apns.wait_for(3, WAIT).await;
    let ring_at = |token: &str| {
        let mine: Vec<_> = rings
            .iter()
            .filter(|r| r.token == token && r.switchboard()["chat_id"] == chat.0)
            .collect();
        assert_eq!(mine.len(), 1, "{token} rang once");
        assert_eq!(mine[0].switchboard()["type"], "ring");
        mine[0].received_at
    };
    let (a, b, c) = (ring_at(&anna_apns), ring_at(&ben_apns), ring_at(&cleo_apns));
    // Measured from the request (the chat's creation comes after it): group k rings no
    // sooner than (k - 1) steps in.
    assert!(a < b && b < c, "in group order");
    assert!(
        b - asked >= Duration::from_millis(1950),
        "group 2 a step in: {:?}",
        b - asked
    );
    assert!(
        c - asked >= Duration::from_millis(3950),
        "group 3 two steps in: {:?}",
        c - asked
    );
}

/// The app open in the foreground rings over its connection; sent to the background, or
/// closed, its phone is pushed again, at once for the request ringing then.
async fn an_app_that_leaves_the_foreground_is_pushed_again(db: Db) {
    let rig = rig(db).await;
    let (mut ben, ben_apns, _) = operator_with_devices(&rig, "Ben").await;
    ben.device_id = Some(
        ben.devices()
            .await
            .unwrap()
            .iter()
            .find(|d| d.platform == PushPlatform::Apns)
            .unwrap()
            .id,
    );
    let apns_for = |chat: ChatId| pushes_to(&rig, &ben_apns, chat);
    let mut conn: Connection = ben.connect().await.unwrap();

    // In the foreground: no push for the iPhone.
    let (_v1, chat1) = request_chat(&rig, "Ida").await;
    rig.fcm.wait_for(1, WAIT).await; // the FCM phone has no connection: it rings
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(apns_for(chat1), 0, "the app rings over its connection");

    // To the background: the request ringing now reaches the iPhone by push, once.
    conn.set_background(true).await.unwrap();
    let rings = rig.apns.wait_for(1, WAIT).await;
    assert_eq!(rings[0].token, ben_apns);
    assert_eq!(rings[0].switchboard()["type"], "ring");
    assert_eq!(rings[0].switchboard()["chat_id"], chat1.0);
    // Back in the foreground, and out again: it was pushed for this request already.
    conn.set_background(false).await.unwrap();
    conn.set_background(true).await.unwrap();
    conn.set_background(false).await.unwrap();
    // A new request while in the foreground: over the connection only.
    let (_v2, chat2) = request_chat(&rig, "Jon").await;
    rig.fcm.wait_for(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(apns_for(chat1), 1, "pushed once for the first request");
    assert_eq!(apns_for(chat2), 0);

    // The connection drops (the app was closed): the phone is pushed for what rings.
    conn.drop_connection();
    drop(conn);
    rig.apns.wait_for(2, WAIT).await;
    assert_eq!(apns_for(chat2), 1);

    // A connection that starts in the background (a phone woken up) is pushed too.
    ben.background = true;
    let _woken: Connection = ben.connect().await.unwrap();
    let (_v3, chat3) = request_chat(&rig, "Kim").await;
    rig.apns.wait_for(3, WAIT).await;
    assert_eq!(apns_for(chat3), 1);
}

/// The engine side: the app registers its phone while connected (so its open connection
/// speaks for it at once) and reports the background; the server pushes accordingly.
async fn the_app_registers_its_phone_and_says_when_it_is_in_the_background(db: Db) {
    let rig = rig(db).await;
    let lena = rig.server.operator("Lena").await;
    let (_dir, mut h) = AppHarness::signed_in(&rig.server, &lena.operator.email).await;
    h.app.set_available(true).await.unwrap();
    let token = format!("{:0>64}", hex("Lena's iPhone"));
    let device = h
        .app
        .register_push_token(PushPlatform::Apns, &token)
        .await
        .unwrap();
    assert_eq!(device.operator_id, lena.operator.id);
    let pushed = |chat: ChatId| pushes_to(&rig, &token, chat);

    // Registered after connecting, and yet the open app rings in place of the phone.
    let (_v1, chat1) = request_chat(&rig, "Mo").await;
    h.until("the request in the app", |s| {
        s.requests.iter().any(|r| r.id == chat1)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        pushed(chat1),
        0,
        "no push while the app is in the foreground"
    );

    // The app goes to the background: the phone gets the ringing request by push.
    h.app.set_background(true).await;
    rig.apns.wait_for(1, WAIT).await;
    assert_eq!(pushed(chat1), 1);
    h.app.set_background(false).await;
    let (_v2, chat2) = request_chat(&rig, "Nia").await;
    h.until("the second request in the app", |s| {
        s.requests.iter().any(|r| r.id == chat2)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(pushed(chat2), 0, "back in the foreground");
}

/// A ring's action token answers a chat request: the outbox row that waits to send it keeps it
/// sealed, so a copy of the database accepts nothing.
async fn the_outbox_keeps_no_action_token_in_the_clear(db: Db) {
    let rig = rig(db).await;
    let (_op, apns_token, _) = operator_with_devices(&rig, "Vera").await;
    let (_visitor, chat) = request_chat(&rig, "Walt").await;
    rig.apns.wait_for(1, WAIT).await;
    let tokens = ring_action_tokens(&rig, chat, Some(&apns_token));
    let action_token = tokens.first().expect("a ring with an action token");
    let stored: Vec<String> = sqlx::query_scalar("select message from push_outbox")
        .fetch_all(&rig.server.state.store.read)
        .await
        .unwrap();
    assert!(!stored.is_empty());
    for message in &stored {
        assert!(!message.contains(action_token.as_str()), "{message}");
        assert!(!message.contains("action_token"), "{message}");
        assert!(!message.contains(&apns_token), "{message}");
    }
}

/// A provider that cannot be reached fails with an error quoting the URL, which holds the
/// device token: only its tail may reach the attempt log.
async fn device_tokens_never_show_in_the_attempt_log(db: Db) {
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let server = TestServer::start_with(db, move |c| c.apns_url = Some(nowhere)).await;
    let update = PushSettingsUpdate {
        apns: Some(Some(test_apns_settings(TOPIC))),
        fcm_service_account: None,
        ring_again_after_secs: None,
        next_group_after_secs: None,
    };
    server.admin.put_push_settings(&update).await.unwrap();
    let mut op = server.operator("Xena").await;
    op.set_available(true).await.unwrap();
    let token = format!("{:0>64}", "5eaf00d");
    let req = RegisterDeviceRequest {
        platform: PushPlatform::Apns,
        token: token.clone(),
        name: None,
        replaces: None,
    };
    op.register_device(&req).await.unwrap();
    let (_visitor, chat) = Visitor::request_chat(&server.base, "Yann").await;
    let log = wait::at_least(1, WAIT, EVERY, async || {
        server.admin.push_attempts(Some(chat), None).await.unwrap()
    })
    .await
    .expect("an attempt is logged");
    for attempt in &log {
        assert_eq!(attempt.status, 0, "nothing answered: {attempt:?}");
        assert!(!attempt.result.contains(&token), "{}", attempt.result);
    }
    assert!(
        log.iter().any(|a| a.result.contains("/3/device/…eaf00d)")),
        "the tail names the device: {log:?}"
    );
}

/// APNs is busy and the ring is being retried when the visitor gives up: the retries stop with
/// the request, instead of waking the phone for a chat that is gone.
async fn a_ring_being_retried_stops_when_its_chat_stops_ringing(db: Db) {
    let rig = rig(db).await;
    rig.apns.fail_next(1000, 503, "ServiceUnavailable", None);
    let (_op, _, _) = operator_with_devices(&rig, "Zeno").await;
    let (mut visitor, chat) = request_chat(&rig, "Abe").await;
    // The first try and a retry (about a second later) both failed.
    let rings = |log: &[PushAttempt]| {
        log.iter()
            .filter(|a| a.kind == "ring" && a.status == 503)
            .count()
    };
    wait::poll(WAIT, EVERY, async || {
        let log = attempt_log(&rig, chat).await;
        (rings(&log) >= 3).then_some(())
    })
    .await
    .expect("the ring is retried");
    visitor.end_chat().await;
    visitor.wait_status(ChatStatus::Missed).await;
    let ended = switchboard_backend::store::now_ms();
    // Retries come 1, 2, 4 s apart: wait long enough for two more.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let log = attempt_log(&rig, chat).await;
    let late: Vec<_> = log
        .iter()
        .filter(|a| a.kind == "ring" && a.at > ended + 500)
        .collect();
    assert!(late.is_empty(), "rings after the chat ended: {late:?}");
}

/// Not Available means nothing rings anywhere: the operator's phone, rung for a request, is
/// cleared when they go Not Available, and the next request does not ring it.
async fn going_not_available_clears_the_phones_and_stops_ringing(db: Db) {
    let rig = rig(db).await;
    let (_vera, _, _) = operator_with_devices(&rig, "Vera").await;
    let (walt, walt_apns, _) = operator_with_devices(&rig, "Walt").await;
    let (_visitor, chat) = request_chat(&rig, "Xia").await;
    let rang = |to: &str, kind: &str| {
        rig.apns
            .requests()
            .iter()
            .filter(|r| r.token == to && r.switchboard()["type"] == kind)
            .count()
    };
    wait::poll(WAIT, EVERY, async || {
        (rang(&walt_apns, "ring") == 1).then_some(())
    })
    .await
    .expect("Walt's phone rings");
    walt.set_available(false).await.unwrap();
    wait::poll(WAIT, EVERY, async || {
        (rang(&walt_apns, "clear") == 1).then_some(())
    })
    .await
    .expect("Walt's phone is cleared");
    let (_other, second) = request_chat(&rig, "Yuri").await;
    // Vera's phones ring for the second request; Walt's do not.
    wait::poll(WAIT, EVERY, async || {
        let log = attempt_log(&rig, second).await;
        (log.iter().filter(|a| a.kind == "ring").count() >= 2).then_some(())
    })
    .await
    .expect("the second request rings for Vera");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rang(&walt_apns, "ring"), 1, "nothing more rang for Walt");
    assert_eq!(pushes_to(&rig, &walt_apns, second), 0);
    // The first request still rings for Vera.
    let events = rig.server.admin.chat_events(chat, 0).await.unwrap();
    assert_eq!(events.last().unwrap().status, ChatStatus::Waiting);
}

/// Requests taken the moment they ring: their rings and clears are written and sent within a
/// few milliseconds of each other, yet a clear never reaches a phone before the ring it clears
/// (a ring not sent yet is cancelled instead), and every phone rung is cleared.
async fn a_request_taken_at_once_is_cleared_after_its_ring(db: Db) {
    let rig = rig(db).await;
    let (_anna, anna_apns, anna_fcm) = operator_with_devices(&rig, "Anna").await;
    let ben = rig.server.operator("Ben").await;
    ben.set_available(true).await.unwrap();
    let mut ben_conn: Connection = ben.connect().await.unwrap();
    let mut chats = Vec::new();
    for i in 0..10 {
        let (mut visitor, chat) = request_chat(&rig, &format!("Quick {i}")).await;
        ben_conn.accept(chat).await.unwrap();
        // Ended by the visitor once taken (no push for that), so Ben stays under his cap.
        visitor.end_chat().await;
        visitor.wait_status(ChatStatus::Ended).await;
        chats.push(chat);
    }
    // What each phone received about each chat, in the order it arrived.
    let kinds = |chat: ChatId| -> (Vec<String>, Vec<String>) {
        let apns = rig
            .apns
            .requests()
            .iter()
            .filter(|r| r.token == anna_apns && r.switchboard()["chat_id"] == chat.0)
            .map(|r| r.switchboard()["type"].as_str().unwrap().to_owned())
            .collect();
        let fcm = rig
            .fcm
            .requests()
            .iter()
            .filter(|r| {
                r.token() == anna_fcm && r.data("chat_id") == Some(chat.0.to_string().as_str())
            })
            .map(|r| r.data("type").unwrap().to_owned())
            .collect();
        (apns, fcm)
    };
    let cleared = |pushes: &[String]| pushes.last().is_some_and(|k| k == "clear");
    wait::poll(WAIT, EVERY, async || {
        chats
            .iter()
            .all(|c| {
                let (apns, fcm) = kinds(*c);
                cleared(&apns) && cleared(&fcm)
            })
            .then_some(())
    })
    .await
    .expect("every phone rung is cleared");
    tokio::time::sleep(Duration::from_millis(300)).await; // nothing more may come
    for chat in chats {
        let (apns, fcm) = kinds(chat);
        for pushes in [apns, fcm] {
            assert!(
                pushes == ["clear"] || pushes == ["ring", "clear"],
                "chat {chat}: {pushes:?}"
            );
        }
    }
}
