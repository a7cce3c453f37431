//! Mail in the operator app's engine, against the real server and a real SMTP server on both
//! databases: "Send chat transcript" appears in the snapshot only while mail is configured,
//! sends a running chat and an ended one (History) and shows each mail's progress; offline
//! messages count as unread at once, drop to read when seen, and are answered by mail.

use std::time::Duration;

use switchboard_core::cache::ChatAction;
use switchboard_e2e::operator_app::AppHarness;
use switchboard_e2e::smtp::{Security, SmtpSink};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer, on_both_databases};
use switchboard_shared::{LeaveMessageRequest, MailState, OfflineMessage};

on_both_databases!(
    the_app_mails_transcripts_of_running_and_ended_chats,
    the_app_counts_and_answers_offline_messages,
);

const TEAM: &str = "team@acme.example";

async fn server(db: Db) -> TestServer {
    TestServer::start_with(db, |c| c.mail_retry_secs = 0.2).await
}

async fn the_app_mails_transcripts_of_running_and_ended_chats(db: Db) {
    let sink = SmtpSink::start(Security::None, false).await;
    let server = server(db).await;
    let op = server.operator("Olga").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    h.app.set_available(true).await.unwrap();
    assert_eq!(
        h.app.snapshot().mail,
        None,
        "no mail: no Send chat transcript"
    );

    let (mut v, chat) = Visitor::request_chat(&server.base, "Ann").await;
    h.until("the request", |s| s.requests.iter().any(|c| c.id == chat))
        .await;
    h.app.act(chat, ChatAction::Accept).await.unwrap();
    h.until("the chat", |s| s.chats.iter().any(|c| c.chat.id == chat))
        .await;
    let refused = h.app.mail_transcript(chat, TEAM).await.unwrap_err();
    assert_eq!(refused.code, "mail_unavailable");

    // Configured: the snapshot offers it, with the team's addresses.
    let settings = sink.settings("Acme <support@acme.example>", &[TEAM]);
    server.admin.put_mail_settings(&settings).await.unwrap();
    let s = h.until("mail", |s| s.mail.is_some()).await;
    assert_eq!(s.mail.unwrap().addresses, [TEAM]);

    // A running chat: the tab shows the mail queued, then sent.
    h.app.mail_transcript(chat, TEAM).await.unwrap();
    let s = h
        .until("the mail sent", |s| {
            s.chats
                .iter()
                .any(|c| c.chat.id == chat && c.mails.iter().any(|m| m.state == MailState::Sent))
        })
        .await;
    let tab = s.chats.iter().find(|c| c.chat.id == chat).unwrap();
    assert_eq!(tab.mails.len(), 1, "one mail, at its latest state");
    assert_eq!(
        (tab.mails[0].to.as_str(), tab.mails[0].by.as_str()),
        (TEAM, "Olga")
    );
    assert!(tab.mails[0].detail.as_deref().unwrap().starts_with("250"));

    // The visitor mails it to themselves: the app learns their address.
    v.send(&switchboard_shared::VisitorClientMsg::MailTranscript {
        client_id: "v1".into(),
        chat_id: chat,
        email: "ann@example.org".into(),
    })
    .await;
    h.until("the visitor's address", |s| {
        s.chats
            .iter()
            .any(|c| c.chat.id == chat && c.visitor_email.as_deref() == Some("ann@example.org"))
    })
    .await;

    // Ended: from History's transcript, with a refusal kept and shown.
    h.app.act(chat, ChatAction::End).await.unwrap();
    h.until("ended", |s| s.chats.is_empty()).await;
    h.app
        .mail_transcript(chat, "refuse@example.org")
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let failed = loop {
        let t = h.app.transcript(chat).await.unwrap();
        assert_eq!(t.visitor_email.as_deref(), Some("ann@example.org"));
        if let Some(m) = t
            .mails
            .iter()
            .find(|m| m.to == "refuse@example.org" && m.state != MailState::Queued)
        {
            break m.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no result");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(failed.state, MailState::Failed);
    assert!(failed.detail.unwrap().contains("550"));
    assert_eq!(
        sink.wait_for(2).await.len(),
        2,
        "team and visitor, not the refused one"
    );

    // Removed: gone from the snapshot.
    server.admin.delete_mail_settings().await.unwrap();
    h.until("no mail", |s| s.mail.is_none()).await;
}

async fn the_app_counts_and_answers_offline_messages(db: Db) {
    let sink = SmtpSink::start(Security::None, false).await;
    let server = server(db).await;
    let settings = sink.settings("Acme <support@acme.example>", &[TEAM]);
    server.admin.put_mail_settings(&settings).await.unwrap();
    let op = server.operator("Olga").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    assert_eq!(h.app.snapshot().offline_unread, 0);

    let leave = |name: &str| LeaveMessageRequest {
        visitor_token: None,
        name: name.into(),
        email: "ann@example.org".into(),
        text: format!("A question from {name}"),
    };
    let http = reqwest::Client::new();
    let url = format!("{}/api/widget/offline-messages", server.base);
    let mut left: Vec<OfflineMessage> = Vec::new();
    for name in ["Ann", "Bea"] {
        let m = http.post(&url).json(&leave(name)).send().await.unwrap();
        left.push(m.json().await.unwrap());
    }
    h.until("two unread", |s| s.offline_unread == 2).await;
    let listed = h.app.offline_messages().await.unwrap();
    assert_eq!(listed.len(), 2);
    h.app.offline_messages_read(listed[0].id).await.unwrap();
    h.until("read", |s| s.offline_unread == 0).await;

    let replied = h
        .app
        .reply_offline(left[0].id, "Yes, we ship to Iceland.")
        .await
        .unwrap();
    assert_eq!(replied.replied_by.as_deref(), Some("Olga"));
    let mails = sink.wait_for(5).await; // 2 × (team + copy) + the reply
    let reply = mails
        .iter()
        .find(|m| m.header("subject") == "Re: your message")
        .unwrap();
    assert!(
        reply
            .text
            .as_deref()
            .unwrap()
            .starts_with("Yes, we ship to Iceland.")
    );

    // After a restart of the app, the count comes from the server.
    drop(h);
    let (_dir2, h2) = AppHarness::signed_in(&server, &op.operator.email).await;
    assert_eq!(h2.app.snapshot().offline_unread, 0);
}
