//! An operator changes their own display name (`PUT /api/operator/me`), on both databases:
//! visitors see the new name from the operator's next action on their live connection (no new
//! sign-in), invitations carry it; names that break the rules change nothing.

use switchboard_e2e::operator::{available_operator, wait_request};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, OPERATOR_PASSWORD, TestServer};
use switchboard_shared::{ChatEventKind, ChatStatus, ErrorCode, MAX_NAME_CHARS};

switchboard_e2e::on_both_databases!(a_new_display_name_is_what_visitors_see_next);

async fn a_new_display_name_is_what_visitors_see_next(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Olga").await;
    let session = server
        .client()
        .login("olga@example.test", OPERATOR_PASSWORD)
        .await
        .unwrap();

    // Refused, and nothing changes.
    for bad in [
        "   ".to_owned(),
        "x".repeat(MAX_NAME_CHARS + 1),
        "Ol\u{0}ga".to_owned(),
    ] {
        let e = session.set_name(&bad).await.unwrap_err();
        assert!(
            matches!(
                e.code(),
                Some(ErrorCode::InvalidInput | ErrorCode::TooLarge)
            ),
            "{bad:?}: {e:?}"
        );
    }
    assert_eq!(session.me().await.unwrap().name, "Olga");

    let renamed = session.set_name("  Olga from Support ").await.unwrap();
    assert_eq!(renamed.name, "Olga from Support");
    assert_eq!(session.me().await.unwrap().name, "Olga from Support");

    // The live connection (signed in before) accepts under the new name.
    let mut v = Visitor::connect(&server.base).await;
    let chat = v.start_chat("Vic").await.chat_id;
    wait_request(&mut op, chat).await;
    op.accept(chat).await.unwrap();
    let accepted = v.wait_status(ChatStatus::Active).await;
    assert!(
        matches!(&accepted.kind, ChatEventKind::Accepted { operator } if operator.name == "Olga from Support"),
        "{accepted:?}"
    );
}
