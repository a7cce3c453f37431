//! Reports end to end, on both databases: a scripted day of chats played through the real
//! flows (every outcome, two operators, holds, declines, the queue, invitations, a voice chat,
//! a missed chat, an unanswered one, an offline message), then each figure checked exactly
//! against the script, through the operator client (`mobile/core`) as the app reads them.
//!
//! The flows run now, in a second; the script says *when* each chat happened. So once they
//! are played, the test moves each chat's stored times to the script's (the chat row and its
//! events, the Live Help log, the offline message): what reports read is then exactly the
//! script, including chats on both sides of midnight in the site's time zone.

use std::collections::HashMap;

use sqlx::Row;
use switchboard_core::{Connection, CoreError, Session};
use switchboard_e2e::operator::{connect_available, wait_request};
use switchboard_e2e::push_servers::{FakeApns, test_apns_settings};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TempDir, TestServer, wait};
use switchboard_shared::{
    ChatEventKind, ChatId, ChatStatus, EndReason, ErrorCode, LeaveMessageRequest, Mode,
    OperatorAction, OperatorId, PushPlatform, PushSettingsUpdate, RegisterDeviceRequest, Report,
    ReportChatsQuery, ReportCounts, ReportFigure, ReportPeriod, ReportQuery, ReportTable,
    VisitorClientMsg, VisitorServerMsg,
};

switchboard_e2e::on_both_databases!(
    a_scripted_day_adds_up,
    bad_report_queries_are_refused_and_change_nothing,
    missed_chats_show_which_phones_were_rung,
);

/// 2026-11-10T00:00:00+01:00 (Europe/Paris, winter time), unix ms.
const DAY: i64 = 1_794_265_200_000;
const SEC: i64 = 1000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;

/// Local time on the scripted day (`h:m:s` in Paris), unix ms.
fn at(h: i64, m: i64, s: i64) -> i64 {
    DAY + h * HOUR + m * MIN + s * SEC
}

/// When a chat happened, by the script.
struct Timing {
    created: i64,
    accepted: Option<i64>,
    ended: Option<i64>,
}

fn timing(created: i64, accepted: Option<i64>, ended: Option<i64>) -> Timing {
    Timing {
        created,
        accepted,
        ended,
    }
}

/// Moves a chat to the script's times: its row, and its events in order from its start.
async fn retime(server: &TestServer, chat: ChatId, t: &Timing) {
    let pool = &server.state.store.write;
    sqlx::query("update chats set created_at = $2, accepted_at = $3, ended_at = $4 where id = $1")
        .bind(chat.0)
        .bind(t.created)
        .bind(t.accepted)
        .bind(t.ended)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("update chat_events set at = $2 + seq where chat_id = $1")
        .bind(chat.0)
        .bind(t.created)
        .execute(pool)
        .await
        .unwrap();
}

/// Moves an operator's Live Help log to the script's times (its entries in order).
async fn retime_presence(server: &TestServer, operator: OperatorId, times: &[i64]) {
    let pool = &server.state.store.write;
    let ids: Vec<i64> =
        sqlx::query("select id from operator_presence where operator_id = $1 order by id")
            .bind(operator.0)
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get(0).unwrap())
            .collect();
    assert_eq!(ids.len(), times.len(), "the log has one entry per change");
    for (id, time) in ids.iter().zip(times) {
        sqlx::query("update operator_presence set at = $2 where id = $1")
            .bind(id)
            .bind(time)
            .execute(pool)
            .await
            .unwrap();
    }
}

/// A visitor asks for a chat (text or voice) and it rings for both operators.
async fn ask(
    server: &TestServer,
    ops: [&mut Connection; 2],
    name: &str,
    mode: Mode,
) -> (Visitor, ChatId) {
    let mut v = Visitor::connect(&server.base).await;
    v.send(&VisitorClientMsg::StartChat {
        name: Some(name.into()),
        mode,
    })
    .await;
    let chat = v.wait_status(ChatStatus::Waiting).await.chat_id;
    for op in ops {
        wait_request(op, chat).await;
    }
    (v, chat)
}

/// An operator invites a new visitor: the visitor and the invited chat.
async fn invite(server: &TestServer, op: &mut Connection) -> (Visitor, ChatId) {
    let mut v = Visitor::connect(&server.base).await;
    op.request(OperatorAction::Invite {
        visitor_id: v.id(),
        text: "Hello! Can I help?".into(),
    })
    .await
    .unwrap();
    let frame = v
        .wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if matches!(event.kind, ChatEventKind::Invited { .. })))
        .await;
    let VisitorServerMsg::Event { event } = frame else {
        unreachable!()
    };
    (v, event.chat_id)
}

/// The scripted day, played: Olga and Bo have Live Help Available; returns the server, both
/// operators' sessions, and the chats by letter.
struct Day {
    server: TestServer,
    olga: Session,
    bo: Session,
    chats: HashMap<char, ChatId>,
}

async fn play_the_day(db: Db) -> Day {
    let server = TestServer::start(db).await;
    server.for_load(10).await;
    let mut settings = server.admin.settings().await.unwrap();
    settings.time_zone = "Europe/Paris".into();
    server.admin.put_settings(&settings).await.unwrap();
    let olga_session = server.operator("Olga").await;
    let bo_session = server.operator("Bo").await;
    let mut olga = connect_available(&olga_session).await;
    let mut bo = connect_available(&bo_session).await;
    let mut chats = HashMap::new();
    let mut times = Vec::new();

    // A, 08:59:59: Olga answers in 30 s; 2 visitor and 3 operator messages, a hold; 10 min.
    let (mut v, a) = ask(&server, [&mut olga, &mut bo], "Ann", Mode::Text).await;
    olga.accept(a).await.unwrap();
    v.say("a1", "Hello").await;
    olga.send(a, "Hi Ann").await.unwrap();
    olga.hold(a).await.unwrap();
    olga.resume(a).await.unwrap();
    v.say("a2", "My order?").await;
    olga.send(a, "Shipped").await.unwrap();
    olga.send(a, "Anything else?").await.unwrap();
    olga.end(a).await.unwrap();
    times.push((
        a,
        timing(at(8, 59, 59), Some(at(9, 0, 29)), Some(at(9, 10, 29))),
    ));
    chats.insert('A', a);

    // B, 09:10: Bo declines, Olga answers in 60 s; the visitor ends it after 4 min.
    // The visitor's name is one a spreadsheet would take for a formula.
    let (mut v, b) = ask(
        &server,
        [&mut olga, &mut bo],
        "=HYPERLINK(\"http://x\")",
        Mode::Text,
    )
    .await;
    bo.decline(b).await.unwrap();
    olga.accept(b).await.unwrap();
    v.say("b1", "Hi").await;
    olga.send(b, "Hello").await.unwrap();
    v.end_chat().await;
    v.wait_ended().await;
    times.push((
        b,
        timing(at(9, 10, 0), Some(at(9, 11, 0)), Some(at(9, 15, 0))),
    ));
    chats.insert('B', b);

    // C, 09:20: Olga queues it; the visitor leaves after 3 min (missed).
    let (mut v, c) = ask(
        &server,
        [&mut olga, &mut bo],
        "Cy, \"the\" customer",
        Mode::Text,
    )
    .await;
    olga.queue(c).await.unwrap();
    v.wait_status(ChatStatus::Queued).await;
    v.end_chat().await;
    v.wait_status(ChatStatus::Missed).await;
    times.push((c, timing(at(9, 20, 0), None, Some(at(9, 23, 0)))));
    chats.insert('C', c);

    // D, 09:30: both decline: unanswered.
    let (mut v, d) = ask(&server, [&mut olga, &mut bo], "Zoë 李", Mode::Text).await;
    olga.decline(d).await.unwrap();
    bo.decline(d).await.unwrap();
    assert_eq!(v.wait_ended().await, EndReason::NoOperator);
    times.push((d, timing(at(9, 30, 0), None, Some(at(9, 30, 20)))));
    chats.insert('D', d);

    // E, 10:00: a voice chat Bo answers in 2 min; 10 min.
    let (mut v, e) = ask(&server, [&mut olga, &mut bo], "Ed", Mode::Voice).await;
    bo.accept(e).await.unwrap();
    v.wait_for(|m| matches!(m, VisitorServerMsg::CallReady { .. }))
        .await;
    v.say("e1", "Can you hear me?").await;
    bo.end(e).await.unwrap();
    times.push((
        e,
        timing(at(10, 0, 0), Some(at(10, 2, 0)), Some(at(10, 12, 0))),
    ));
    chats.insert('E', e);

    // F, 10:30: Olga queues it, Bo takes it from the queue after 5 min; 5 min.
    let (_v, f) = ask(&server, [&mut olga, &mut bo], "Fay", Mode::Text).await;
    olga.queue(f).await.unwrap();
    bo.accept(f).await.unwrap();
    bo.end(f).await.unwrap();
    times.push((
        f,
        timing(at(10, 30, 0), Some(at(10, 35, 0)), Some(at(10, 40, 0))),
    ));
    chats.insert('F', f);

    // G, 11:00: Olga's invitation, taken at 11:01; 5 min.
    let (mut v, g) = invite(&server, &mut olga).await;
    v.send(&VisitorClientMsg::StartChat {
        name: Some("Gus".into()),
        mode: Mode::Text,
    })
    .await;
    v.wait_status(ChatStatus::Active).await;
    v.say("g1", "Yes please").await;
    olga.end(g).await.unwrap();
    times.push((
        g,
        timing(at(11, 0, 0), Some(at(11, 1, 0)), Some(at(11, 6, 0))),
    ));
    chats.insert('G', g);

    // H, 11:30: Bo's invitation, closed.
    let (mut v, h) = invite(&server, &mut bo).await;
    v.end_chat().await;
    assert_eq!(v.wait_ended().await, EndReason::Declined);
    times.push((h, timing(at(11, 30, 0), None, Some(at(11, 31, 0)))));
    chats.insert('H', h);

    // I, 23:30 (22:30 UTC): Olga answers in 10 s; 10 min. Still the 10th in Paris.
    let (mut v, i) = ask(&server, [&mut olga, &mut bo], "Ida", Mode::Text).await;
    olga.accept(i).await.unwrap();
    v.say("i1", "Late question").await;
    olga.send(i, "Late answer").await.unwrap();
    olga.end(i).await.unwrap();
    times.push((
        i,
        timing(at(23, 30, 0), Some(at(23, 30, 10)), Some(at(23, 40, 10))),
    ));
    chats.insert('I', i);

    // J, 00:30 on the 11th in Paris (23:30 UTC on the 10th): Bo answers in 40 s.
    let (_v, j) = ask(&server, [&mut olga, &mut bo], "Jo", Mode::Text).await;
    bo.accept(j).await.unwrap();
    bo.end(j).await.unwrap();
    times.push((
        j,
        timing(at(24, 30, 0), Some(at(24, 30, 40)), Some(at(24, 45, 0))),
    ));
    chats.insert('J', j);

    // An offline message at 12:00.
    let leave = LeaveMessageRequest {
        visitor_token: None,
        name: "Kim".into(),
        email: "kim@example.test".into(),
        text: "Call me".into(),
    };
    let res = reqwest::Client::new()
        .post(format!("{}/api/widget/offline-messages", server.base))
        .json(&leave)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    sqlx::query("update offline_messages set created_at = $1")
        .bind(at(12, 0, 0))
        .execute(&server.state.store.write)
        .await
        .unwrap();

    // Olga goes Not Available (at noon, by the script); Bo stays.
    olga.set_available(false).await.unwrap();
    for (chat, t) in &times {
        retime(&server, *chat, t).await;
    }
    let (olga_id, bo_id) = (olga_session.operator.id, bo_session.operator.id);
    retime_presence(&server, olga_id, &[at(8, 0, 0), at(12, 0, 0)]).await;
    retime_presence(&server, bo_id, &[at(9, 0, 0)]).await;
    olga.close().await;
    bo.close().await;
    Day {
        server,
        olga: olga_session,
        bo: bo_session,
        chats,
    }
}

fn days(from: &str, to: &str) -> ReportQuery {
    ReportQuery {
        from: Some(from.into()),
        to: Some(to.into()),
        ..ReportQuery::default()
    }
}

fn counts(
    [
        requested,
        accepted,
        declined,
        queued,
        missed,
        unanswered,
        left_message,
    ]: [u32; 7],
    [
        invitations_sent,
        invitations_accepted,
        voice_calls,
        visitor_messages,
        operator_messages,
    ]: [u32; 5],
) -> ReportCounts {
    ReportCounts {
        requested,
        accepted,
        declined,
        queued,
        missed,
        unanswered,
        left_message,
        invitations_sent,
        invitations_accepted,
        voice_calls,
        visitor_messages,
        operator_messages,
    }
}

async fn chats_behind(
    who: &Session,
    q: &ReportQuery,
    figure: ReportFigure,
    tweak: impl FnOnce(&mut ReportChatsQuery),
) -> Vec<ChatId> {
    let mut query = ReportChatsQuery {
        from: q.from.clone(),
        to: q.to.clone(),
        operator: q.operator,
        figure: Some(figure),
        ..ReportChatsQuery::default()
    };
    tweak(&mut query);
    who.report_chats(&query)
        .await
        .unwrap()
        .chats
        .iter()
        .map(|c| c.id)
        .collect()
}

async fn a_scripted_day_adds_up(db: Db) {
    let day = play_the_day(db).await;
    let admin = &day.server.admin;
    let c = |letter: char| day.chats[&letter];
    let the_10th = days("2026-11-10", "2026-11-10");

    // The team's day, as an admin sees it.
    let r: Report = admin.report(&the_10th).await.unwrap();
    assert_eq!(
        (r.from.as_str(), r.to.as_str()),
        ("2026-11-10", "2026-11-10")
    );
    assert_eq!(r.time_zone, "Europe/Paris");
    assert_eq!((r.start, r.end), (DAY, DAY + 24 * HOUR));
    // requested: A B C D E F I + the invitation G taken; accepted: A B E F G I; declines: Bo on
    // B, Olga and Bo on D; queued: C F; missed C; unanswered D; one offline message;
    // invitations G H (G taken); one voice call (E); visitor messages 2+1+1+1+1, Olga's 3+1+1.
    let team = counts([8, 6, 3, 2, 1, 1, 1], [2, 1, 1, 6, 5]);
    assert_eq!(r.totals, team);
    assert_eq!(r.days.len(), 1);
    assert_eq!(r.days[0].label, "2026-11-10");
    assert_eq!(r.days[0].counts, team);
    let requested_by_hour: Vec<(String, u32)> = r
        .hours
        .iter()
        .filter(|h| h.counts.requested > 0)
        .map(|h| (h.label.clone(), h.counts.requested))
        .collect();
    let expected = [("08", 1), ("09", 3), ("10", 2), ("11", 1), ("23", 1)];
    assert_eq!(requested_by_hour, expected.map(|(h, n)| (h.to_owned(), n)));
    assert_eq!(r.hours.len(), 24);
    assert_eq!(r.hours[11].counts.invitations_sent, 2);
    // Answer times of the requests taken: 10 s, 30 s, 60 s, 2 min, 5 min.
    assert_eq!(r.answer.count, 5);
    assert_eq!(
        (r.answer.p50_ms, r.answer.p90_ms),
        (Some(60 * SEC), Some(300 * SEC))
    );
    assert_eq!(r.answer.avg_ms, Some(104 * SEC));
    // Lengths: 4 min, 5, 5, 10, 10, 10.
    assert_eq!(r.length.count, 6);
    assert_eq!(
        (r.length.p50_ms, r.length.p90_ms),
        (Some(300 * SEC), Some(600 * SEC))
    );
    assert_eq!(r.length.avg_ms, Some(440 * SEC));
    // Per operator: the admin, Olga and Bo.
    let by_name: HashMap<String, _> = r
        .operators
        .iter()
        .map(|o| (o.operator.name.clone(), o.clone()))
        .collect();
    assert_eq!(r.operators.len(), 3);
    let olga = &by_name["Olga"];
    assert_eq!((olga.chats, olga.messages, olga.declined), (4, 5, 1));
    assert_eq!(olga.avg_answer_ms, Some(100 * SEC / 3));
    assert_eq!(olga.available_ms, 4 * HOUR);
    let bo = &by_name["Bo"];
    assert_eq!((bo.chats, bo.messages, bo.declined), (2, 0, 2));
    assert_eq!(bo.avg_answer_ms, Some(210 * SEC));
    assert_eq!(bo.available_ms, 15 * HOUR, "from 09:00 to midnight");

    // Olga's figures: hers where a figure has an operator, the team's where it has none.
    let hers = ReportQuery {
        operator: Some(day.olga.operator.id),
        ..the_10th.clone()
    };
    let r = admin.report(&hers).await.unwrap();
    assert_eq!(r.operator.as_ref().map(|o| o.name.as_str()), Some("Olga"));
    assert_eq!(r.totals, counts([8, 4, 1, 2, 1, 1, 1], [1, 1, 0, 5, 5]));
    assert_eq!(
        (r.answer.count, r.answer.p50_ms, r.answer.p90_ms),
        (3, Some(30 * SEC), Some(60 * SEC))
    );
    assert_eq!(r.operators.len(), 1);

    // Across midnight: J belongs to the 11th in Paris, to the 10th in UTC.
    let two = admin
        .report(&days("2026-11-10", "2026-11-11"))
        .await
        .unwrap();
    assert_eq!(two.days.len(), 2);
    assert_eq!(two.days[0].counts, team);
    assert_eq!(
        (two.days[1].counts.requested, two.days[1].counts.accepted),
        (1, 1)
    );
    assert_eq!(two.days[1].label, "2026-11-11");
    let mut settings = admin.settings().await.unwrap();
    settings.time_zone = "UTC".into();
    admin.put_settings(&settings).await.unwrap();
    let utc = admin.report(&the_10th).await.unwrap();
    assert_eq!((utc.totals.requested, utc.totals.accepted), (9, 7));
    assert_eq!(utc.hours[7].counts.requested, 1, "A at 07:59:59 UTC");
    settings.time_zone = "Europe/Paris".into();
    admin.put_settings(&settings).await.unwrap();

    // An empty period: zeros, and no durations.
    let empty = admin
        .report(&days("2026-10-01", "2026-10-07"))
        .await
        .unwrap();
    assert_eq!(empty.days.len(), 7);
    assert!(
        empty
            .days
            .iter()
            .all(|d| d.counts == ReportCounts::default())
    );
    assert_eq!(empty.totals, ReportCounts::default());
    assert_eq!(
        (empty.answer.count, empty.answer.p50_ms, empty.length.avg_ms),
        (0, None, None)
    );
    assert!(
        empty
            .operators
            .iter()
            .all(|o| o.chats == 0 && o.available_ms == 0)
    );
    // Today works too (nothing happened today in this script).
    let today = ReportQuery {
        period: Some(ReportPeriod::Today),
        ..ReportQuery::default()
    };
    assert_eq!(admin.report(&today).await.unwrap().totals.requested, 0);

    // The chats behind the figures.
    let letters = |s: &str| s.chars().map(c).collect::<Vec<_>>();
    for (q, figure, expected) in [
        (&the_10th, ReportFigure::Missed, "C"),
        (&the_10th, ReportFigure::Unanswered, "D"),
        (&the_10th, ReportFigure::Declined, "BD"),
        (&hers, ReportFigure::Declined, "D"),
        (&the_10th, ReportFigure::Queued, "CF"),
        (&the_10th, ReportFigure::VoiceCalls, "E"),
        (&the_10th, ReportFigure::InvitationsSent, "GH"),
        (&the_10th, ReportFigure::InvitationsAccepted, "G"),
    ] {
        let behind = chats_behind(admin, q, figure, |_| {}).await;
        assert_eq!(behind, letters(expected), "{figure:?} {:?}", q.operator);
    }
    assert_eq!(
        chats_behind(admin, &the_10th, ReportFigure::Requested, |q| q.hour =
            Some(9))
        .await,
        [c('B'), c('C'), c('D')]
    );
    assert_eq!(
        chats_behind(
            admin,
            &days("2026-11-10", "2026-11-11"),
            ReportFigure::All,
            |q| { q.day = Some("2026-11-11".into()) }
        )
        .await,
        [c('J')]
    );
    // Pages: two at a time, on to the end.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let q = ReportChatsQuery {
            from: the_10th.from.clone(),
            to: the_10th.to.clone(),
            after,
            limit: Some(2),
            ..ReportChatsQuery::default()
        };
        let page = admin.report_chats(&q).await.unwrap();
        assert!(page.chats.len() <= 2);
        seen.extend(page.chats.iter().map(|c| c.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, "ABCDEFGHI".chars().map(c).collect::<Vec<_>>());
    // A row says what happened to its chat.
    let q = ReportChatsQuery {
        from: the_10th.from.clone(),
        to: the_10th.to.clone(),
        limit: Some(1),
        ..ReportChatsQuery::default()
    };
    let first = &admin.report_chats(&q).await.unwrap().chats[0];
    assert_eq!(first.id, c('A'));
    assert_eq!(
        (first.wait_ms, first.duration_ms),
        (Some(30 * SEC), Some(600 * SEC))
    );
    assert_eq!((first.visitor_messages, first.operator_messages), (2, 3));
    assert_eq!(first.status, ChatStatus::Ended);
    assert_eq!(first.end_reason, Some(EndReason::Operator));
    assert_eq!(
        first.operator.as_ref().map(|o| o.name.as_str()),
        Some("Olga")
    );

    // An operator sees the team's totals and their own line and chats, never a colleague's.
    let bo_view = day.bo.report(&the_10th).await.unwrap();
    assert_eq!(bo_view.totals, team);
    assert_eq!(bo_view.operators.len(), 1);
    assert_eq!(bo_view.operators[0].operator.name, "Bo");
    let err = day.bo.report(&hers).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));
    // Bo's own (E F H) and nobody's (C D), not Olga's (A B G I).
    assert_eq!(
        chats_behind(&day.bo, &the_10th, ReportFigure::All, |_| {}).await,
        [c('C'), c('D'), c('E'), c('F'), c('H')]
    );

    // CSV: every chat of the day as a row, parsed back.
    let dir = TempDir::new("reports-csv");
    let file = dir.join("chats.csv");
    admin
        .export_report(ReportTable::Chats, &the_10th, true, &file)
        .await
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("the byte order mark first");
    let rows = parse_csv(text);
    assert_eq!(
        rows[0],
        [
            "id",
            "started",
            "answered",
            "ended",
            "status",
            "end_reason",
            "operator_id",
            "operator",
            "invitation",
            "wait_seconds",
            "duration_seconds",
            "visitor_messages",
            "operator_messages",
            "declines",
            "voice_calls",
            "page",
            "visitor_name",
            "mode"
        ]
    );
    assert_eq!(rows.len(), 1 + 9, "A to I");
    let row = |letter: char| {
        rows.iter()
            .find(|r| r[0] == c(letter).0.to_string())
            .unwrap_or_else(|| panic!("no row for {letter}"))
    };
    let olga_id = day.olga.operator.id.0.to_string();
    assert_eq!(
        row('A')[1..16],
        [
            "2026-11-10T08:59:59+01:00",
            "2026-11-10T09:00:29+01:00",
            "2026-11-10T09:10:29+01:00",
            "ended",
            "operator",
            olga_id.as_str(),
            "Olga",
            "no",
            "30",
            "600",
            "2",
            "3",
            "0",
            "0",
            row('A')[15].as_str()
        ]
    );
    assert_eq!(row('A')[17], "text");
    // A formula stays text; commas, quotes and other scripts come back as typed.
    assert_eq!(row('B')[16], "'=HYPERLINK(\"http://x\")");
    assert_eq!(row('B')[13], "1", "one decline");
    assert_eq!(row('C')[16], "Cy, \"the\" customer");
    assert_eq!(
        (
            row('C')[4].as_str(),
            row('C')[5].as_str(),
            row('C')[9].as_str()
        ),
        ("missed", "visitor", "180")
    );
    assert_eq!(row('D')[16], "Zoë 李");
    assert_eq!(
        (row('D')[5].as_str(), row('D')[13].as_str()),
        ("no_operator", "2")
    );
    assert_eq!(
        (row('E')[14].as_str(), row('E')[17].as_str()),
        ("1", "voice")
    );
    assert_eq!((row('G')[8].as_str(), row('G')[9].as_str()), ("yes", ""));
    // The day table, without a byte order mark.
    admin
        .export_report(ReportTable::Days, &the_10th, false, &file)
        .await
        .unwrap();
    let rows = parse_csv(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(rows[0][0], "day");
    assert_eq!(rows[1][..4], ["2026-11-10", "8", "6", "3"]);
    // The operators table: Olga's four hours Available.
    admin
        .export_report(ReportTable::Operators, &the_10th, false, &file)
        .await
        .unwrap();
    let rows = parse_csv(&std::fs::read_to_string(&file).unwrap());
    let olga_row = rows.iter().find(|r| r[1] == "Olga").unwrap();
    assert_eq!(olga_row[2..], ["4", "5", "1", "33", "14400"]);
    // Bo's export holds only what Bo may see.
    day.bo
        .export_report(ReportTable::Chats, &the_10th, false, &file)
        .await
        .unwrap();
    let rows = parse_csv(&std::fs::read_to_string(&file).unwrap());
    let ids: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    let expected: Vec<String> = "CDEFH".chars().map(|l| c(l).0.to_string()).collect();
    assert_eq!(ids, expected);
}

/// RFC 4180, as a spreadsheet reads it: quoted fields may hold commas, quotes ("") and line
/// breaks; rows end with CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, ch) => field.push(ch),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, ch) => field.push(ch),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

async fn bad_report_queries_are_refused_and_change_nothing(db: Db) {
    let server = TestServer::start(db).await;
    let admin = &server.admin;
    let bad = [
        days("2026-13-01", "2026-12-01"),
        days("2026-11-30", "2026-11-01"),
        days("2025-01-01", "2026-12-31"),
        days("yesterday", "2026-12-01"),
        ReportQuery::default(),
        ReportQuery {
            period: Some(ReportPeriod::Today),
            ..days("2026-11-01", "2026-11-02")
        },
    ];
    for q in bad {
        let err = admin.report(&q).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidInput), "{q:?}");
    }
    let q = days("2026-11-01", "2026-11-02");
    let drill = |tweak: fn(&mut ReportChatsQuery)| {
        let mut query = ReportChatsQuery {
            from: q.from.clone(),
            to: q.to.clone(),
            ..ReportChatsQuery::default()
        };
        tweak(&mut query);
        query
    };
    for query in [
        drill(|q| q.hour = Some(24)),
        drill(|q| q.day = Some("2026-11-05".into())),
        drill(|q| q.limit = Some(0)),
        drill(|q| q.limit = Some(201)),
    ] {
        let err = admin.report_chats(&query).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidInput), "{query:?}");
    }
    // Raw query strings a client could send.
    let http = reqwest::Client::new();
    for path in [
        "/api/operator/reports?from=2026-11-01&to=2026-11-02&operator=abc",
        "/api/operator/reports?period=someday",
        "/api/operator/reports/chats?from=2026-11-01&to=2026-11-02&figure=everything",
    ] {
        let res = http
            .get(format!("{}{path}", server.base))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        let err: switchboard_shared::ApiError = res.json().await.unwrap();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{path}");
    }
    let res = http
        .get(format!(
            "{}/api/operator/reports/export/everything?period=today",
            server.base
        ))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // Without a sign-in, nothing.
    let res = http
        .get(format!("{}/api/operator/reports?period=today", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // An unknown chat's pushes.
    let err = admin.report_pushes(ChatId(999_999)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
    // An unknown time zone is refused and the settings stay as they were.
    let before = admin.settings().await.unwrap();
    let mut settings = before.clone();
    settings.time_zone = "Mars/Olympus_Mons".into();
    let err = admin.put_settings(&settings).await.unwrap_err();
    assert!(
        matches!(&err, CoreError::Api(e) if e.code == ErrorCode::InvalidInput && e.message.contains("time_zone")),
        "{err}"
    );
    assert_eq!(admin.settings().await.unwrap(), before);
    assert_eq!(before.time_zone, "UTC");
}

async fn missed_chats_show_which_phones_were_rung(db: Db) {
    const TOPIC: &str = "com.example.switchboard";
    let apns = FakeApns::start_for_test_key(TOPIC).await;
    let apns_url = apns.base_url();
    let server = TestServer::start_with(db, move |c| c.apns_url = Some(apns_url)).await;
    let update = PushSettingsUpdate {
        apns: Some(Some(test_apns_settings(TOPIC))),
        fcm_service_account: None,
        ring_again_after_secs: None,
        next_group_after_secs: None,
    };
    server.admin.put_push_settings(&update).await.unwrap();
    // Olga's phone: the app is closed, so a request rings it by push.
    let mut olga = server.operator("Olga").await;
    olga.set_available(true).await.unwrap();
    let token = format!("{:0>64}", "a1b2");
    let req = RegisterDeviceRequest {
        platform: PushPlatform::Apns,
        token: token.clone(),
        name: Some("Olga's phone".into()),
        replaces: None,
    };
    olga.register_device(&req).await.unwrap();
    // A visitor asks, then leaves before anyone answers: missed.
    let (mut v, chat) = Visitor::request_chat(&server.base, "Mo").await;
    let every = std::time::Duration::from_millis(50);
    let rung = wait::poll(std::time::Duration::from_secs(10), every, async || {
        (!apns.requests().is_empty()).then_some(())
    });
    assert!(rung.await.is_some(), "the phone was rung");
    v.end_chat().await;
    v.wait_status(ChatStatus::Missed).await;
    // The ring, delivered, and the clear that followed.
    let pushes = wait::at_least(2, std::time::Duration::from_secs(10), every, async || {
        olga.report_pushes(chat)
            .await
            .unwrap()
            .into_iter()
            .filter(|p| p.done_at.is_some())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_else(|p| p);
    let ring = pushes.iter().find(|p| p.kind == "ring").expect("a ring");
    assert_eq!(ring.operator.name, "Olga");
    assert_eq!(
        (ring.platform.as_str(), ring.device_name.as_deref()),
        ("apns", Some("Olga's phone"))
    );
    assert_eq!(ring.result.as_deref(), Some("delivered"));
    assert_eq!(ring.attempts.len(), 1);
    assert_eq!(ring.attempts[0].status, 200);
    assert!(ring.attempts[0].at >= ring.queued_at);
    // The device token never shows.
    let json = serde_json::to_string(&pushes).unwrap();
    assert!(!json.contains(&token), "{json}");
    // Nobody led the missed chat: every operator may read its pushes.
    let bo = server.operator("Bo").await;
    assert_eq!(bo.report_pushes(chat).await.unwrap().len(), pushes.len());
}
