//! Mail through the real server and a real SMTP server (aiosmtpd on loopback), on both
//! databases: transcripts asked for by the operator and by the visitor (headers, both parts,
//! content, escaping), offline messages mailed to the team with a copy to the visitor and
//! answered from the app, the fields following the configuration live, retries while the
//! SMTP server is away or defers, a refusal kept with its reason, a restart in the middle of
//! a send, the limits, and a visitor who tries another visitor's chat.

use std::time::Duration;

use sqlx::Row;
use switchboard_core::Connection;
use switchboard_e2e::operator::{accepted_chat, available_operator, wait_message};
use switchboard_e2e::smtp::{Received, Security, SmtpSink};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{
    Author, ChatEventKind, ChatId, ErrorCode, LeaveMessageRequest, MailSettingsInput, MailState,
    OfflineMessage, OperatorServerMsg, Page, VisitorClientMsg, VisitorServerMsg,
};

switchboard_e2e::on_both_databases!(
    transcripts_by_operator_and_visitor,
    the_fields_follow_the_configuration,
    offline_messages_reach_the_team_and_the_visitor,
    mail_waits_while_the_server_is_away_and_goes_once,
    a_refusal_is_kept_with_its_reason,
    a_restart_mid_send_loses_and_duplicates_nothing,
    limits_and_other_peoples_chats,
    the_admin_api_keeps_the_password_and_tests_the_parameters,
);

const FROM: &str = "Acme Support <support@acme.example>";
const TEAM: &str = "team@acme.example";

/// A server that trusts the sink's test CA, with quick retries.
async fn server_for(db: Db, sink: &SmtpSink) -> TestServer {
    let ca = sink.ca_file();
    TestServer::start_with(db, move |c| {
        c.smtp_ca_file = ca;
        c.smtp_timeout_secs = 2.0;
        c.mail_retry_secs = 0.2;
    })
    .await
}

/// A server with mail configured to reach `sink`.
async fn configured(db: Db, sink: &SmtpSink) -> TestServer {
    let server = server_for(db, sink).await;
    server
        .admin
        .put_mail_settings(&sink.settings(FROM, &[TEAM]))
        .await
        .expect("mail settings");
    server
}

/// Asks for a transcript as the visitor; the ack's `seq`, or the refusal.
async fn visitor_asks(v: &mut Visitor, chat: ChatId, id: &str, to: &str) -> Result<i64, ErrorCode> {
    v.send(&VisitorClientMsg::MailTranscript {
        client_id: id.into(),
        chat_id: chat,
        email: to.into(),
    })
    .await;
    match v
        .wait_for(|m| matches!(m, VisitorServerMsg::Ack { client_id, .. } | VisitorServerMsg::Error { client_id: Some(client_id), .. } if client_id == id))
        .await
    {
        VisitorServerMsg::Ack { seq, .. } => Ok(seq),
        VisitorServerMsg::Error { error, .. } => Err(error.code),
        _ => unreachable!(),
    }
}

/// Asks for a transcript as the operator.
async fn operator_asks(
    op: &mut Connection,
    chat: ChatId,
    id: &str,
    to: &str,
) -> Result<i64, ErrorCode> {
    op.mail_transcript(chat, id, to)
        .await
        .map(|seq| seq.expect("a seq"))
        .map_err(|e| e.code().expect("a typed error"))
}

/// The result a transcript's events end with, as seen by the visitor.
async fn visitor_result(v: &mut Visitor, chat: ChatId) -> (MailState, String) {
    let frame = v
        .wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if event.chat_id == chat && matches!(&event.kind, ChatEventKind::TranscriptMail { state, .. } if *state != MailState::Queued)))
        .await;
    let VisitorServerMsg::Event { event } = frame else {
        unreachable!()
    };
    let ChatEventKind::TranscriptMail { state, detail, .. } = event.kind else {
        unreachable!()
    };
    (state, detail.unwrap_or_default())
}

/// The result a transcript's events end with, as seen by the operator.
async fn operator_result(op: &mut Connection, chat: ChatId, to: &str) -> (MailState, String) {
    let is_it = |k: &ChatEventKind| matches!(k, ChatEventKind::TranscriptMail { state, to: t, .. } if *state != MailState::Queued && t == to);
    let frame = op
        .wait_for(|m| matches!(m, OperatorServerMsg::Event { event, .. } if event.chat_id == chat && is_it(&event.kind)))
        .await
        .expect("the transcript's result arrives");
    let OperatorServerMsg::Event { event, .. } = frame else {
        unreachable!()
    };
    let ChatEventKind::TranscriptMail { state, detail, .. } = event.kind else {
        unreachable!()
    };
    (state, detail.unwrap_or_default())
}

async fn outbox_count(server: &TestServer) -> i64 {
    sqlx::query("select count(*) from mail_outbox")
        .fetch_one(&server.state.store.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

fn check_transcript(m: &Received, to: &str) {
    assert_eq!(m.rcpt_tos, [to]);
    assert_eq!(m.header("from"), FROM);
    assert_eq!(m.header("to"), to);
    assert!(
        m.header("subject").starts_with("Chat transcript: Ann"),
        "{}",
        m.header("subject")
    );
    assert!(
        m.header("message-id").ends_with("@acme.example>"),
        "{}",
        m.header("message-id")
    );
    let text = m.text.as_deref().expect("a text part");
    let html = m.html.as_deref().expect("an HTML part");
    // Times and authors, in order, as typed (the text part is plain text).
    let hello = text
        .find("Ann: Hello, <b>is</b> the bike in stock?")
        .expect(text);
    let answer = text
        .find("Olga: Yes & see https://shop.example/bike?a=1&b=2")
        .expect(text);
    assert!(hello < answer);
    assert!(text.contains("Page: https://shop.example/bikes"), "{text}");
    let started = text
        .lines()
        .find(|l| l.starts_with("Started:"))
        .expect(text);
    assert!(started.ends_with(" IST"), "the site's time zone: {started}");
    assert!(text.contains("Olga joined the chat"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with('[') && l.contains("] Ann: Hello")),
        "{text}"
    );
    // The HTML part escapes what people typed and links only the web address.
    assert!(
        html.contains("Hello, &lt;b&gt;is&lt;/b&gt; the bike in stock?"),
        "{html}"
    );
    assert!(!html.contains("<b>is</b>"), "{html}");
    assert!(
        html.contains("<a href=\"https://shop.example/bike?a=1&amp;b=2\" rel=\"noopener noreferrer nofollow\">"),
        "{html}"
    );
    assert!(
        html.contains("Acme Bikes &amp; more"),
        "the page title, escaped: {html}"
    );
}

async fn transcripts_by_operator_and_visitor(db: Db) {
    let sink = SmtpSink::start(Security::Starttls, true).await;
    let server = configured(db, &sink).await;
    // Times in mails are the site's: India has a half-hour offset, and no summer time.
    let mut settings = server.admin.settings().await.unwrap();
    settings.time_zone = "Asia/Kolkata".into();
    server.admin.put_settings(&settings).await.unwrap();
    let mut olga = available_operator(&server, "Olga").await;
    let page = Page {
        url: "https://shop.example/bikes".into(),
        title: Some("Acme Bikes & more".into()),
    };
    let mut v = Visitor::connect_with(&server.base, None, None, page, None).await;
    assert!(matches!(
        v.welcome,
        VisitorServerMsg::Welcome { mail: true, .. }
    ));
    let chat = v.start_chat("Ann").await.chat_id;
    switchboard_e2e::operator::wait_request(&mut olga, chat).await;
    olga.accept(chat).await.unwrap();
    v.say("m1", "Hello, <b>is</b> the bike in stock?").await;
    wait_message(&mut olga, chat, "Hello, <b>is</b> the bike in stock?").await;
    olga.send(chat, "Yes & see https://shop.example/bike?a=1&b=2")
        .await
        .unwrap();
    v.wait_message("Yes & see https://shop.example/bike?a=1&b=2")
        .await;

    // The operator mails the running chat to the team's address.
    let seq = operator_asks(&mut olga, chat, "t1", TEAM).await.unwrap();
    assert!(seq > 0);
    let (state, detail) = operator_result(&mut olga, chat, TEAM).await;
    assert_eq!(state, MailState::Sent, "{detail}");
    assert!(detail.starts_with("250"), "{detail}");

    // The chat ends; the visitor mails it to themselves.
    v.end_chat().await;
    v.wait_ended().await;
    let seq = visitor_asks(&mut v, chat, "vt1", "ann@example.org")
        .await
        .unwrap();
    let (state, _) = visitor_result(&mut v, chat).await;
    assert_eq!(state, MailState::Sent);
    // A retry of the same request mails nothing more and gets the same answer.
    assert_eq!(
        visitor_asks(&mut v, chat, "vt1", "ann@example.org").await,
        Ok(seq)
    );

    let mails = sink.wait_for(2).await;
    assert_eq!(mails.len(), 2, "one mail each");
    check_transcript(&sink.to(TEAM)[0], TEAM);
    let ann = &sink.to("ann@example.org")[0];
    check_transcript(ann, "ann@example.org");
    assert!(ann.text.as_deref().unwrap().contains("Chat ended"));

    // The visitor heard only of their own transcript; the operator of both.
    let visitor_saw: Vec<Author> = v
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::TranscriptMail { by, .. } => Some(by.clone()),
            _ => None,
        })
        .collect();
    assert!(!visitor_saw.is_empty());
    assert!(
        visitor_saw.iter().all(|b| *b == Author::Visitor),
        "{visitor_saw:?}"
    );
    let history = server.admin.chat_events(chat, 0).await.unwrap();
    let mails: Vec<_> = history
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::TranscriptMail { by, to, state, .. } => {
                Some((by.clone(), to.clone(), *state))
            }
            _ => None,
        })
        .collect();
    assert_eq!(mails.len(), 4, "queued and sent, twice: {mails:?}");
    assert!(
        matches!(&mails[0], (Author::Operator { name, .. }, to, MailState::Queued) if name == "Olga" && to == TEAM)
    );
    assert!(matches!(&mails[3], (Author::Visitor, to, MailState::Sent) if to == "ann@example.org"));
}

async fn the_fields_follow_the_configuration(db: Db) {
    let sink = SmtpSink::start(Security::None, false).await;
    let server = server_for(db, &sink).await;
    let mut olga = available_operator(&server, "Olga").await;
    assert_eq!(
        olga.state.mail, None,
        "not configured: no Send chat transcript"
    );
    let (mut v, chat) = accepted_chat(&server, &mut olga, "Ann").await;
    assert!(matches!(
        v.welcome,
        VisitorServerMsg::Welcome { mail: false, .. }
    ));
    assert!(!server.client().widget_status().await.unwrap().mail);
    assert_eq!(
        visitor_asks(&mut v, chat, "a", "ann@example.org").await,
        Err(ErrorCode::MailUnavailable)
    );
    assert_eq!(
        operator_asks(&mut olga, chat, "b", TEAM).await,
        Err(ErrorCode::MailUnavailable)
    );

    // Configured: both are told at once.
    server
        .admin
        .put_mail_settings(&sink.settings(FROM, &[TEAM]))
        .await
        .unwrap();
    v.wait_for(|m| matches!(m, VisitorServerMsg::Mail { enabled: true }))
        .await;
    olga.wait_for(|m| matches!(m, OperatorServerMsg::Mail { mail: Some(_) }))
        .await
        .unwrap();
    assert_eq!(olga.state.mail.as_ref().unwrap().addresses, [TEAM]);
    assert!(server.client().widget_status().await.unwrap().mail);
    // A new page sees it in its welcome.
    let fresh = Visitor::connect(&server.base).await;
    assert!(matches!(
        fresh.welcome,
        VisitorServerMsg::Welcome { mail: true, .. }
    ));

    // Removed: hidden again.
    server.admin.delete_mail_settings().await.unwrap();
    v.wait_for(|m| matches!(m, VisitorServerMsg::Mail { enabled: false }))
        .await;
    olga.wait_for(|m| matches!(m, OperatorServerMsg::Mail { mail: None }))
        .await
        .unwrap();
    assert_eq!(server.admin.mail_settings().await.unwrap(), None);
    assert_eq!(outbox_count(&server).await, 0, "nothing was stored");
}

async fn offline_messages_reach_the_team_and_the_visitor(db: Db) {
    let sink = SmtpSink::start(Security::None, false).await;
    let server = server_for(db, &sink).await;
    let mut settings = sink.settings(FROM, &[TEAM, "boss@acme.example"]);
    settings.reply_to = Some("help@acme.example".into());
    server.admin.put_mail_settings(&settings).await.unwrap();
    let olga_session = server.operator("Olga").await;
    let mut olga = switchboard_e2e::operator::connect_available(&olga_session).await;
    assert_eq!(olga.state.offline_unread, 0);

    let req = LeaveMessageRequest {
        visitor_token: None,
        name: "Ann <script>".into(),
        email: "ann@example.org".into(),
        text: "Do you ship to Iceland?\nhttps://shop.example/ice & more".into(),
    };
    let left: OfflineMessage = reqwest::Client::new()
        .post(format!("{}/api/widget/offline-messages", server.base))
        .json(&req)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The app hears of it at once.
    let frame = olga
        .wait_for(|m| matches!(m, OperatorServerMsg::OfflineMessage { .. }))
        .await
        .unwrap();
    assert!(
        matches!(frame, OperatorServerMsg::OfflineMessage { message } if message.id == left.id)
    );
    assert_eq!(olga.state.offline_unread, 1);

    let mails = sink.wait_for(3).await;
    assert_eq!(mails.len(), 3);
    for team in [TEAM, "boss@acme.example"] {
        let m = &sink.to(team)[0];
        assert_eq!(
            m.header("reply-to"),
            "ann@example.org",
            "answer the visitor"
        );
        assert!(
            m.header("subject").contains("Ann <script>"),
            "{}",
            m.header("subject")
        );
        assert!(
            m.text
                .as_deref()
                .unwrap()
                .contains("Do you ship to Iceland?")
        );
        let html = m.html.as_deref().unwrap();
        assert!(
            html.contains("Ann &lt;script&gt;") && !html.contains("<script>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://shop.example/ice\""),
            "{html}"
        );
    }
    let copy = &sink.to("ann@example.org")[0];
    assert_eq!(copy.header("subject"), "We received your message");
    assert_eq!(copy.header("reply-to"), "help@acme.example");
    assert!(
        copy.text
            .as_deref()
            .unwrap()
            .contains("Do you ship to Iceland?")
    );

    // A fresh connection counts it unread until the operator has seen it.
    let session = olga_session;
    let again = session.connect().await.unwrap();
    assert_eq!(again.state.offline_unread, 1);
    session.offline_messages_read(left.id).await.unwrap();
    let again = session.connect().await.unwrap();
    assert_eq!(again.state.offline_unread, 0);

    // Reply by mail from the app: once, even when retried.
    let replied: OfflineMessage = session
        .reply_offline(left.id, "r1", "Yes, we do: https://shop.example/shipping")
        .await
        .unwrap();
    assert!(replied.replied_at.is_some());
    assert_eq!(replied.replied_by.as_deref(), Some("Olga"));
    session
        .reply_offline(left.id, "r1", "Yes, we do")
        .await
        .unwrap();
    let mails = sink.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 4, "the retry sent nothing more");
    let reply = mails
        .iter()
        .find(|m| m.header("subject") == "Re: your message")
        .unwrap();
    assert_eq!(reply.rcpt_tos, ["ann@example.org"]);
    let text = reply.text.as_deref().unwrap();
    assert!(
        text.starts_with("Yes, we do: https://shop.example/shipping"),
        "{text}"
    );
    assert!(
        text.contains("> Do you ship to Iceland?"),
        "quotes the message: {text}"
    );
    let listed = session.offline_messages().await.unwrap();
    assert_eq!(listed[0].replied_by.as_deref(), Some("Olga"));
    // Not configured: no reply.
    server.admin.delete_mail_settings().await.unwrap();
    let refused = session
        .reply_offline(left.id, "r2", "hello")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::MailUnavailable));
}

async fn mail_waits_while_the_server_is_away_and_goes_once(db: Db) {
    let mut sink = SmtpSink::start(Security::Starttls, true).await;
    let server = configured(db, &sink).await;
    let mut olga = available_operator(&server, "Olga").await;
    let (_v, chat) = accepted_chat(&server, &mut olga, "Ann").await;

    // The SMTP server is down: the mail waits in the outbox and is tried again.
    sink.stop().await;
    operator_asks(&mut olga, chat, "t1", TEAM).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let row = sqlx::query("select attempts, done_at, result from mail_outbox")
            .fetch_one(&server.state.store.read)
            .await
            .unwrap();
        let attempts: i64 = row.try_get(0).unwrap();
        let done: Option<i64> = row.try_get(1).unwrap();
        assert_eq!(done, None, "not given up while the server is away");
        if attempts >= 2 {
            let result: Option<String> = row.try_get(2).unwrap();
            assert!(result.is_some(), "the failure is kept");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no retries");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // It comes back, deferring at first (451), then taking mail: delivered once.
    sink.set_mode("defer");
    sink.start_again().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(sink.messages().is_empty());
    sink.set_mode("");
    let (state, _) = operator_result(&mut olga, chat, TEAM).await;
    assert_eq!(state, MailState::Sent);
    sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.messages().len(), 1, "delivered once");
    let attempts: i64 = sqlx::query("select attempts from mail_outbox")
        .fetch_one(&server.state.store.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert!(attempts >= 3, "{attempts}");
}

async fn a_refusal_is_kept_with_its_reason(db: Db) {
    let sink = SmtpSink::start(Security::None, false).await;
    let server = configured(db, &sink).await;
    let mut olga = available_operator(&server, "Olga").await;
    let (_v, chat) = accepted_chat(&server, &mut olga, "Ann").await;
    operator_asks(&mut olga, chat, "t1", "refuse@example.org")
        .await
        .unwrap();
    let (state, detail) = operator_result(&mut olga, chat, "refuse@example.org").await;
    assert_eq!(state, MailState::Failed);
    assert!(
        detail.contains("550") && detail.contains("No such user"),
        "{detail}"
    );
    let row = sqlx::query("select attempts, state from mail_outbox")
        .fetch_one(&server.state.store.read)
        .await
        .unwrap();
    assert_eq!(row.try_get::<i64, _>(0).unwrap(), 1, "a 5xx is not retried");
    assert_eq!(row.try_get::<String, _>(1).unwrap(), "failed");
    assert!(sink.messages().is_empty());
}

async fn a_restart_mid_send_loses_and_duplicates_nothing(db: Db) {
    let sink = SmtpSink::start(Security::None, false).await;
    let mut server = configured(db, &sink).await;
    let mut olga = available_operator(&server, "Olga").await;
    let (_v, chat) = accepted_chat(&server, &mut olga, "Ann").await;
    sink.set_mode("hold");
    operator_asks(&mut olga, chat, "t1", TEAM).await.unwrap();
    // The mail is in the SMTP server's hands, unanswered, when the server stops.
    sink.wait_holding().await;
    server.restart().await;
    sink.set_mode("");
    sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.messages().len(), 1, "delivered once");
    assert_eq!(
        sink.aborted().len(),
        1,
        "the first try was cut off before its answer"
    );
    let history = server.admin.chat_events(chat, 0).await.unwrap();
    let sent = history
        .iter()
        .filter(|e| {
            matches!(
                &e.kind,
                ChatEventKind::TranscriptMail {
                    state: MailState::Sent,
                    ..
                }
            )
        })
        .count();
    assert_eq!(sent, 1);
}

async fn limits_and_other_peoples_chats(db: Db) {
    let sink = SmtpSink::start(Security::None, false).await;
    let server = configured(db, &sink).await;
    let mut settings = server.admin.settings().await.unwrap();
    settings.limits.transcripts_per_chat = 2;
    settings.limits.mails_per_address_per_hour = 3;
    server.admin.put_settings(&settings).await.unwrap();
    let mut olga = available_operator(&server, "Olga").await;
    let mut piet = available_operator(&server, "Piet").await;
    let (mut ann, chat) = accepted_chat(&server, &mut olga, "Ann").await;

    // Bad input: typed errors, nothing stored.
    assert_eq!(
        visitor_asks(&mut ann, chat, "x1", "not an address").await,
        Err(ErrorCode::InvalidInput)
    );
    assert_eq!(
        visitor_asks(&mut ann, chat, "x2", "a@b.example\r\nBcc: c@d.example").await,
        Err(ErrorCode::InvalidInput)
    );
    assert_eq!(
        visitor_asks(&mut ann, ChatId(999_999), "x3", "ann@example.org").await,
        Err(ErrorCode::NotFound)
    );
    // Another visitor cannot mail Ann's chat; another operator cannot either.
    let mut bob = Visitor::connect(&server.base).await;
    assert_eq!(
        visitor_asks(&mut bob, chat, "b1", "bob@example.org").await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        operator_asks(&mut piet, chat, "p1", "piet@example.org").await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(outbox_count(&server).await, 0);

    // Two transcripts per chat for the visitor.
    visitor_asks(&mut ann, chat, "v1", "ann@example.org")
        .await
        .unwrap();
    visitor_asks(&mut ann, chat, "v2", "ann2@example.org")
        .await
        .unwrap();
    assert_eq!(
        visitor_asks(&mut ann, chat, "v3", "ann3@example.org").await,
        Err(ErrorCode::RateLimited)
    );
    // Three mails an hour to one address, whoever asks; the team's own are not limited.
    olga.mail_transcript(chat, "o1", "ann@example.org")
        .await
        .unwrap();
    olga.mail_transcript(chat, "o2", "ann@example.org")
        .await
        .unwrap();
    let refused = olga
        .mail_transcript(chat, "o3", "ann@example.org")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::RateLimited));
    for i in 0..4 {
        olga.mail_transcript(chat, &format!("team{i}"), TEAM)
            .await
            .unwrap();
    }
    assert_eq!(outbox_count(&server).await, 2 + 2 + 4);
    sink.wait_for(8).await;
}

async fn the_admin_api_keeps_the_password_and_tests_the_parameters(db: Db) {
    let sink = SmtpSink::start(Security::Tls, true).await;
    let server = server_for(db, &sink).await;
    let good = sink.settings(FROM, &[TEAM]);
    // Bad parameters are refused with what is wrong.
    let bad = [
        MailSettingsInput {
            from: "not an address".into(),
            ..good.clone()
        },
        MailSettingsInput {
            host: "smtp example".into(),
            ..good.clone()
        },
        MailSettingsInput {
            port: 0,
            ..good.clone()
        },
        MailSettingsInput {
            offline_recipients: vec!["x".into()],
            ..good.clone()
        },
        MailSettingsInput {
            offline_recipients: (0..21).map(|i| format!("t{i}@acme.example")).collect(),
            ..good.clone()
        },
    ];
    for input in bad {
        let e = server.admin.put_mail_settings(&input).await.unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::InvalidInput), "{input:?}");
    }
    // Operators may not.
    let olga = server.operator("Olga").await;
    assert_eq!(
        olga.put_mail_settings(&good).await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );

    let view = server.admin.put_mail_settings(&good).await.unwrap();
    assert!(view.has_password);
    // Never shown, sealed at rest.
    let json = serde_json::to_string(&server.admin.mail_settings().await.unwrap()).unwrap();
    assert!(!json.contains(switchboard_e2e::smtp::PASSWORD), "{json}");
    let stored: String = sqlx::query("select value from settings where key = 'mail'")
        .fetch_one(&server.state.store.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert!(!stored.contains(switchboard_e2e::smtp::PASSWORD) && !stored.contains("mailer"));
    // Changing other parameters keeps the password.
    let keep = MailSettingsInput {
        password: None,
        reply_to: Some("help@acme.example".into()),
        ..good.clone()
    };
    assert!(
        server
            .admin
            .put_mail_settings(&keep)
            .await
            .unwrap()
            .has_password
    );

    // The test mail reports the server's answer (implicit TLS, AUTH).
    let result = server.admin.test_mail("admin@acme.example").await.unwrap();
    assert!(result.sent, "{}", result.answer);
    assert!(result.answer.starts_with("250"), "{}", result.answer);
    let m = &sink.wait_for(1).await[0];
    assert_eq!(m.header("subject"), "Switchboard test mail");
    assert_eq!(m.header("reply-to"), "help@acme.example");
    // A wrong password: the server's refusal, in words.
    let wrong = MailSettingsInput {
        password: Some("wrong".into()),
        ..good.clone()
    };
    server.admin.put_mail_settings(&wrong).await.unwrap();
    let result = server.admin.test_mail("admin@acme.example").await.unwrap();
    assert!(!result.sent);
    assert!(result.answer.contains("535"), "{}", result.answer);
    assert_eq!(sink.messages().len(), 1);
}
