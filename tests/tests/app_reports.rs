//! Reports in the operator app's engine, against the real server on both databases: the
//! figures of today, the chats behind one, which phones were rung, and a CSV saved where the
//! app was told (the downloads folder in the Tauri shell), named after the table and period.

use switchboard_core::cache::ChatAction;
use switchboard_e2e::operator_app::AppHarness;
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TempDir, TestServer, on_both_databases};
use switchboard_shared::{
    ChatStatus, ReportChatsQuery, ReportFigure, ReportPeriod, ReportQuery, ReportTable,
};

on_both_databases!(the_app_reads_reports_and_saves_csv);

async fn the_app_reads_reports_and_saves_csv(db: Db) {
    let server = TestServer::start(db).await;
    let op = server.operator("Olga").await;
    let (_dir, mut h) = AppHarness::signed_in(&server, &op.operator.email).await;
    h.app.set_available(true).await.unwrap();
    // One chat taken and ended, one the visitor gave up on.
    let (mut v, taken) = Visitor::request_chat(&server.base, "Ann").await;
    h.until("the request", |s| s.requests.iter().any(|c| c.id == taken))
        .await;
    h.app.act(taken, ChatAction::Accept).await.unwrap();
    v.wait_status(ChatStatus::Active).await;
    h.app.act(taken, ChatAction::End).await.unwrap();
    v.wait_ended().await;
    let (mut w, missed) = Visitor::request_chat(&server.base, "Ben").await;
    h.until("the request", |s| s.requests.iter().any(|c| c.id == missed))
        .await;
    w.end_chat().await;
    w.wait_status(ChatStatus::Missed).await;

    let today = ReportQuery {
        period: Some(ReportPeriod::Today),
        ..ReportQuery::default()
    };
    let report = h.app.report(&today).await.unwrap();
    assert_eq!(
        (
            report.totals.requested,
            report.totals.accepted,
            report.totals.missed
        ),
        (2, 1, 1)
    );
    assert_eq!(report.operators.len(), 1, "an operator sees their own line");
    assert_eq!(report.operators[0].operator.name, "Olga");
    let page = h
        .app
        .report_chats(&ReportChatsQuery {
            period: Some(ReportPeriod::Today),
            figure: Some(ReportFigure::Missed),
            ..ReportChatsQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.chats.iter().map(|c| c.id).collect::<Vec<_>>(),
        [missed]
    );
    // No phones registered: nothing was pushed.
    assert!(h.app.report_pushes(missed).await.unwrap().is_empty());
    // Another operator's figures are not Olga's to see.
    let admins = ReportQuery {
        operator: Some(server.admin.operator.id),
        ..today.clone()
    };
    assert_eq!(h.app.report(&admins).await.unwrap_err().code, "forbidden");

    let downloads = TempDir::new("app-downloads");
    let path = h
        .app
        .export_report(ReportTable::Chats, &today, true, downloads.path())
        .await
        .unwrap();
    assert_eq!(
        path,
        downloads
            .join("switchboard-chats-today.csv")
            .display()
            .to_string()
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("\u{feff}id,started,"), "{text}");
    assert_eq!(text.lines().count(), 3, "a header and two chats: {text}");
    // A custom range names its days; a bad one is refused and writes nothing.
    let range = ReportQuery {
        from: Some("2026-01-01".into()),
        to: Some("2026-01-31".into()),
        ..ReportQuery::default()
    };
    let path = h
        .app
        .export_report(ReportTable::Days, &range, false, downloads.path())
        .await
        .unwrap();
    assert!(
        path.ends_with("switchboard-days-2026-01-01-to-2026-01-31.csv"),
        "{path}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().lines().count(),
        1 + 31
    );
    let bad = ReportQuery {
        from: Some("2026-02-01".into()),
        to: Some("2026-01-01".into()),
        ..ReportQuery::default()
    };
    let err = h
        .app
        .export_report(ReportTable::Days, &bad, false, downloads.path())
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_input");
    assert!(
        !downloads
            .join("switchboard-days-2026-02-01-to-2026-01-01.csv")
            .exists()
    );
}
