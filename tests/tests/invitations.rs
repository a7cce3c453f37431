//! Invitations through the real server, on both databases: an operator invites a visitor on
//! the site ("Hello! I'm %name%…"); Start Chat takes the visitor straight to that operator
//! (nobody else rings), closing it declines (the operator is told), leaving the site without
//! answering declines too; bad invitations are refused with typed errors and store nothing.

use std::time::Duration;

use switchboard_core::Connection;
use switchboard_e2e::operator::{available_operator, wait_message};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{
    AutoInvitationRule, AutoInvitations, ChatEventKind, ChatStatus, EndReason, ErrorCode,
    MAX_MESSAGE_CHARS, Mode, OperatorAction, OperatorServerMsg, Page, VisitorClientMsg, VisitorId,
    VisitorServerMsg,
};

switchboard_e2e::on_every_setup!(
    start_chat_goes_to_the_inviting_operator,
    closing_the_invitation_declines_it,
    a_visitor_who_leaves_without_answering_declines,
    bad_invitations_are_refused_and_store_nothing,
    a_voice_answer_starts_the_call,
    automatic_invitations_are_off_by_default_and_go_once_a_visit,
);

async fn server(db: Db) -> TestServer {
    let server = TestServer::start_with(db, |c| c.visitor_grace_secs = 1.0).await;
    let mut settings = server.admin.settings().await.unwrap();
    settings.operator_name = "Olga from Acme".into();
    server.admin.put_settings(&settings).await.unwrap();
    server
}

async fn invite(op: &mut Connection, v: &Visitor, text: &str) -> Result<Option<i64>, ErrorCode> {
    op.request(OperatorAction::Invite {
        visitor_id: v.id(),
        text: text.into(),
    })
    .await
    .map_err(|e| e.code().expect("a typed error"))
}

/// The visitor's invitation: (chat, operator's name, text).
async fn invitation(v: &mut Visitor) -> (switchboard_shared::ChatId, String, String) {
    let frame = v
        .wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if matches!(event.kind, ChatEventKind::Invited { .. })))
        .await;
    let VisitorServerMsg::Event { event } = frame else {
        unreachable!()
    };
    assert_eq!(event.status, ChatStatus::Invited);
    let ChatEventKind::Invited { operator, text } = event.kind else {
        unreachable!()
    };
    (event.chat_id, operator.name, text)
}

async fn start_chat_goes_to_the_inviting_operator(db: Db) {
    let server = server(db).await;
    let mut olga = available_operator(&server, "Olga").await;
    let mut piet = available_operator(&server, "Piet").await;
    let mut v = Visitor::connect(&server.base).await;
    let seq = invite(&mut olga, &v, "Hello! I'm %name%. Can I help?")
        .await
        .unwrap();
    assert_eq!(seq, Some(1));
    let (chat, by, text) = invitation(&mut v).await;
    assert_eq!(by, "Olga");
    assert_eq!(text, "Hello! I'm Olga from Acme. Can I help?");

    // Start Chat: straight to Olga, active, with the name the visitor gave.
    v.send(&VisitorClientMsg::StartChat {
        name: Some("Vera".into()),
        mode: Mode::Text,
    })
    .await;
    let active = v.wait_status(ChatStatus::Active).await;
    assert_eq!(active.chat_id, chat);
    assert!(
        matches!(&active.kind, ChatEventKind::Accepted { operator } if operator.name == "Olga")
    );
    olga.wait_for(|m| matches!(m, OperatorServerMsg::Event { chat: c, .. } if c.id == chat && c.status == ChatStatus::Active && c.visitor_name.as_deref() == Some("Vera")))
        .await
        .unwrap();
    assert!(olga.state.chats.contains_key(&chat));
    // Nobody else rang.
    piet.ping().await.unwrap();
    piet.wait_for(|m| *m == OperatorServerMsg::Pong)
        .await
        .unwrap();
    assert!(piet.state.requests.is_empty() && piet.state.queue.is_empty());
    // They talk.
    v.say("v1", "Yes, about my order").await;
    wait_message(&mut olga, chat, "Yes, about my order").await;
    olga.send(chat, "Let me look").await.unwrap();
    v.wait_message("Let me look").await;
}

async fn closing_the_invitation_declines_it(db: Db) {
    let server = server(db).await;
    let mut olga = available_operator(&server, "Olga").await;
    let mut v = Visitor::connect(&server.base).await;
    invite(&mut olga, &v, "Hi there").await.unwrap();
    let (chat, _, _) = invitation(&mut v).await;
    v.send(&VisitorClientMsg::EndChat).await;
    assert_eq!(v.wait_ended().await, EndReason::Declined);
    olga.wait_for(|m| matches!(m, OperatorServerMsg::Event { event, .. } if event.chat_id == chat && event.kind == ChatEventKind::Ended { reason: EndReason::Declined }))
        .await
        .unwrap();
    // Declined is over: the visitor can be invited again, and can ask for a chat themselves.
    invite(&mut olga, &v, "Sure?").await.unwrap();
}

async fn a_visitor_who_leaves_without_answering_declines(db: Db) {
    let server = server(db).await;
    let mut olga = available_operator(&server, "Olga").await;
    let mut v = Visitor::connect(&server.base).await;
    invite(&mut olga, &v, "Hi there").await.unwrap();
    let (chat, _, _) = invitation(&mut v).await;
    drop(v);
    let ended = olga
        .wait_for(|m| matches!(m, OperatorServerMsg::Event { event, .. } if event.chat_id == chat && matches!(event.kind, ChatEventKind::Ended { .. })))
        .await
        .unwrap();
    assert!(matches!(
        ended,
        OperatorServerMsg::Event { event, .. } if event.kind == ChatEventKind::Ended { reason: EndReason::Declined }
    ));
}

async fn bad_invitations_are_refused_and_store_nothing(db: Db) {
    let server = server(db).await;
    let mut olga = available_operator(&server, "Olga").await;
    let mut piet = available_operator(&server, "Piet").await;
    let mut v = Visitor::connect(&server.base).await;
    // Nobody by that id on the site.
    let nobody = olga
        .request(OperatorAction::Invite {
            visitor_id: VisitorId(987_654),
            text: "Hi".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), Some(ErrorCode::NotFound));
    assert_eq!(
        invite(&mut olga, &v, "   ").await,
        Err(ErrorCode::InvalidInput)
    );
    assert_eq!(
        invite(&mut olga, &v, &"x".repeat(MAX_MESSAGE_CHARS + 1)).await,
        Err(ErrorCode::TooLarge)
    );
    assert_eq!(
        invite(&mut olga, &v, "nul\u{0}here").await,
        Err(ErrorCode::InvalidInput)
    );
    // Nothing was stored: the first real invitation is the visitor's first chat.
    invite(&mut olga, &v, "<b>Hi</b> & welcome").await.unwrap();
    let (chat, _, text) = invitation(&mut v).await;
    assert_eq!(text, "<b>Hi</b> & welcome", "kept as text");
    // One open invitation at a time; another operator cannot take or answer it.
    assert_eq!(
        invite(&mut piet, &v, "Me too").await,
        Err(ErrorCode::IllegalTransition)
    );
    let taken = piet.accept(chat).await.unwrap_err();
    assert_eq!(taken.code(), Some(ErrorCode::IllegalTransition));
    // A visitor with a chat of their own cannot be invited.
    let mut w = Visitor::connect(&server.base).await;
    w.start_chat("Walt").await;
    assert_eq!(
        invite(&mut olga, &w, "Hi").await,
        Err(ErrorCode::IllegalTransition)
    );
    // A visitor gone from the site cannot be.
    let gone = Visitor::connect(&server.base).await;
    let gone_id = gone.id();
    drop(gone);
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let late = olga
        .request(OperatorAction::Invite {
            visitor_id: gone_id,
            text: "Hi".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(late.code(), Some(ErrorCode::NotFound));
}

async fn a_voice_answer_starts_the_call(db: Db) {
    let server = server(db).await;
    let mut olga = available_operator(&server, "Olga").await;
    let mut v = Visitor::connect(&server.base).await;
    invite(&mut olga, &v, "Want to talk?").await.unwrap();
    let (chat, _, _) = invitation(&mut v).await;
    v.send(&VisitorClientMsg::StartChat {
        name: None,
        mode: Mode::Voice,
    })
    .await;
    let ready = v
        .wait_for(|m| matches!(m, VisitorServerMsg::CallReady { .. }))
        .await;
    assert!(matches!(ready, VisitorServerMsg::CallReady { chat_id, .. } if chat_id == chat));
    olga.wait_for(
        |m| matches!(m, OperatorServerMsg::CallReady { chat_id, .. } if *chat_id == chat),
    )
    .await
    .unwrap();
}

/// No invitation reaches the visitor within `secs` seconds.
async fn no_invitation_within(v: &mut Visitor, secs: f64) {
    let got = tokio::time::timeout(Duration::from_secs_f64(secs), invitation(v)).await;
    assert!(got.is_err(), "no invitation expected: {got:?}");
}

async fn automatic_invitations_are_off_by_default_and_go_once_a_visit(db: Db) {
    let server = server(db).await;
    let _olga = available_operator(&server, "Olga").await;
    // Off by default: nothing goes out.
    let mut v = Visitor::connect(&server.base).await; // on /pricing
    no_invitation_within(&mut v, 2.5).await;

    // A rule for the pricing page (refused first with too many rules: nothing changes).
    let mut settings = server.admin.settings().await.unwrap();
    let rule = AutoInvitationRule {
        url_contains: Some("/pricing".into()),
        text: Some("Questions about prices? I'm %name%.".into()),
        ..AutoInvitationRule::default()
    };
    settings.auto_invitations = Some(AutoInvitations {
        enabled: true,
        rules: vec![rule.clone(); 21],
    });
    let refused = server.admin.put_settings(&settings).await.unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::InvalidInput));
    settings.auto_invitations = Some(AutoInvitations {
        enabled: true,
        rules: vec![rule],
    });
    server.admin.put_settings(&settings).await.unwrap();

    // The visitor on /pricing is invited, in the name of the available operator.
    let (_, by, text) = invitation(&mut v).await;
    assert_eq!(by, "Olga");
    assert_eq!(text, "Questions about prices? I'm Olga from Acme.");
    // Closed: not again in this visit.
    v.send(&VisitorClientMsg::EndChat).await;
    assert_eq!(v.wait_ended().await, EndReason::Declined);
    no_invitation_within(&mut v, 2.5).await;

    // A visitor elsewhere is not invited until they open the pricing page.
    let about = Page {
        url: "https://shop.example.test/about".into(),
        title: Some("About".into()),
    };
    let mut w = Visitor::connect_with(&server.base, None, None, about, None).await;
    no_invitation_within(&mut w, 2.0).await;
    w.send(&VisitorClientMsg::PageView {
        page: Page {
            url: "https://shop.example.test/pricing".into(),
            title: None,
        },
    })
    .await;
    invitation(&mut w).await;
}
