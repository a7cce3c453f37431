//! Voice signaling through the real server, on both databases: who may say what to whom in a
//! call, what is stored (the call's milestones, with their `seq`) and what is only relayed
//! (SDP, candidates, mute state), and how calls end with the chat, by "End call", or when the
//! audio fails while the text goes on.

use switchboard_core::Connection;
use switchboard_e2e::operator::{accepted_chat, available_operator, wait_event};
use switchboard_e2e::visitor::Visitor;
use switchboard_e2e::{Db, TestServer};
use switchboard_shared::{
    CallEndReason, CallParty, CallSignal, ChatEventKind, ChatId, ChatStatus, ErrorCode,
    IceCandidate, Mode, OperatorAction, OperatorServerMsg, VisitorClientMsg, VisitorServerMsg,
};

switchboard_e2e::on_every_setup!(
    a_voice_request_becomes_a_call_when_accepted,
    signals_reach_only_the_other_peer_of_the_call,
    bad_signals_are_refused_with_typed_errors,
    end_communication_ends_the_call_and_the_chat,
    the_operator_invites_and_the_visitor_answers,
    ending_the_voice_or_losing_the_audio_leaves_the_text,
    a_dropped_operator_connection_keeps_the_call,
);

const OFFER: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const ANSWER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

fn candidate(n: u32) -> IceCandidate {
    IceCandidate {
        candidate: format!("candidate:{n} 1 udp 2122260223 127.0.0.1 5{n:04} typ host"),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
    }
}

/// The operator's next call frame (ready or signal), reading past other frames.
async fn operator_call_frame(op: &mut Connection) -> OperatorServerMsg {
    loop {
        let msg = op.recv().await.expect("a call frame for the operator");
        if matches!(
            msg,
            OperatorServerMsg::CallReady { .. } | OperatorServerMsg::CallSignal { .. }
        ) {
            return msg;
        }
    }
}

/// The visitor's next call frame.
async fn visitor_call_frame(v: &mut Visitor) -> VisitorServerMsg {
    v.wait_for(|m| {
        matches!(
            m,
            VisitorServerMsg::CallReady { .. } | VisitorServerMsg::CallSignal { .. }
        )
    })
    .await
}

/// A visitor asks for a voice chat and the operator accepts: both get the call ready.
async fn voice_call(server: &TestServer, op: &mut Connection) -> (Visitor, ChatId, i64) {
    let mut v = Visitor::connect(&server.base).await;
    v.send(&VisitorClientMsg::StartChat {
        name: Some("Vox".into()),
        mode: Mode::Voice,
    })
    .await;
    let chat = v.wait_status(ChatStatus::Waiting).await.chat_id;
    switchboard_e2e::operator::wait_request(op, chat).await;
    op.accept(chat).await.unwrap();
    let VisitorServerMsg::CallReady { call_id, .. } = visitor_call_frame(&mut v).await else {
        panic!("the visitor's call is ready first");
    };
    let OperatorServerMsg::CallReady {
        call_id: op_call, ..
    } = operator_call_frame(op).await
    else {
        panic!("the operator's call is ready first");
    };
    assert_eq!(call_id, op_call);
    (v, chat, call_id)
}

async fn visitor_signal(v: &mut Visitor, call_id: i64, signal: CallSignal) {
    v.send(&VisitorClientMsg::CallSignal { call_id, signal })
        .await;
}

async fn operator_do(
    op: &mut Connection,
    action: OperatorAction,
) -> Result<Option<i64>, ErrorCode> {
    op.request(action)
        .await
        .map_err(|e| e.code().expect("a typed error"))
}

async fn a_voice_request_becomes_a_call_when_accepted(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Vera").await;
    let (_v, chat, call_id) = voice_call(&server, &mut op).await;
    let events = server.admin.chat_events(chat, 0).await.unwrap();
    let started = events
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                ChatEventKind::CallStarted {
                    by: CallParty::Visitor
                }
            )
        })
        .expect("the call's start is a chat event");
    assert_eq!(started.seq, call_id, "a call's id is its start's seq");
    assert_eq!(started.status, ChatStatus::Active);
}

async fn signals_reach_only_the_other_peer_of_the_call(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Wim").await;
    let mut other_op = available_operator(&server, "Xeno").await;
    let (mut v, chat, call_id) = voice_call(&server, &mut op).await;
    visitor_signal(&mut v, call_id, CallSignal::Offer { sdp: OFFER.into() }).await;
    match operator_call_frame(&mut op).await {
        OperatorServerMsg::CallSignal {
            chat_id,
            call_id: id,
            signal: CallSignal::Offer { sdp },
        } => assert_eq!((chat_id, id, sdp.as_str()), (chat, call_id, OFFER)),
        other => panic!("expected the offer, got {other:?}"),
    }
    let answer = OperatorAction::CallSignal {
        chat_id: chat,
        call_id,
        signal: CallSignal::Answer { sdp: ANSWER.into() },
    };
    operator_do(&mut op, answer).await.unwrap();
    assert!(matches!(
        visitor_call_frame(&mut v).await,
        VisitorServerMsg::CallSignal {
            signal: CallSignal::Answer { .. },
            ..
        }
    ));
    // Candidates and mute state both ways.
    visitor_signal(
        &mut v,
        call_id,
        CallSignal::Candidate {
            candidate: candidate(1),
        },
    )
    .await;
    assert!(matches!(
        operator_call_frame(&mut op).await,
        OperatorServerMsg::CallSignal {
            signal: CallSignal::Candidate { .. },
            ..
        }
    ));
    let mute = OperatorAction::CallSignal {
        chat_id: chat,
        call_id,
        signal: CallSignal::Mute { muted: true },
    };
    operator_do(&mut op, mute).await.unwrap();
    assert!(matches!(
        visitor_call_frame(&mut v).await,
        VisitorServerMsg::CallSignal {
            signal: CallSignal::Mute { muted: true },
            ..
        }
    ));
    // Another operator cannot speak into the call, and heard none of it.
    let intrude = OperatorAction::CallSignal {
        chat_id: chat,
        call_id,
        signal: CallSignal::Offer { sdp: OFFER.into() },
    };
    assert_eq!(
        operator_do(&mut other_op, intrude).await,
        Err(ErrorCode::Forbidden)
    );
    while let Ok(Ok(msg)) =
        tokio::time::timeout(std::time::Duration::from_millis(200), other_op.recv()).await
    {
        assert!(
            !matches!(
                msg,
                OperatorServerMsg::CallReady { .. } | OperatorServerMsg::CallSignal { .. }
            ),
            "another operator heard the call: {msg:?}"
        );
    }
    // Another visitor has no call: refused.
    let mut stranger = Visitor::connect(&server.base).await;
    visitor_signal(
        &mut stranger,
        call_id,
        CallSignal::Offer { sdp: OFFER.into() },
    )
    .await;
    assert_eq!(
        stranger.wait_error().await.error.code,
        ErrorCode::IllegalTransition
    );
    // Nothing of the signaling is stored.
    let events = server.admin.chat_events(chat, 0).await.unwrap();
    let stored = serde_json::to_string(&events).unwrap();
    assert!(
        !stored.contains("v=0") && !stored.contains("candidate:"),
        "{stored}"
    );
}

async fn bad_signals_are_refused_with_typed_errors(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Yara").await;
    let (mut v, chat, call_id) = voice_call(&server, &mut op).await;
    let huge = format!("v=0\r\n{}", "a=x\r\n".repeat(5000));
    visitor_signal(&mut v, call_id, CallSignal::Offer { sdp: huge }).await;
    assert_eq!(v.wait_error().await.error.code, ErrorCode::TooLarge);
    visitor_signal(
        &mut v,
        call_id,
        CallSignal::Offer {
            sdp: "<sdp/>".into(),
        },
    )
    .await;
    assert_eq!(v.wait_error().await.error.code, ErrorCode::InvalidInput);
    visitor_signal(&mut v, call_id + 1000, CallSignal::Mute { muted: false }).await;
    assert_eq!(
        v.wait_error().await.error.code,
        ErrorCode::IllegalTransition
    );
    // A text chat has no call to signal in.
    let (mut text_visitor, text_chat) = accepted_chat(&server, &mut op, "Zed").await;
    visitor_signal(&mut text_visitor, 1, CallSignal::Mute { muted: true }).await;
    assert_eq!(
        text_visitor.wait_error().await.error.code,
        ErrorCode::IllegalTransition
    );
    let answer = OperatorAction::CallSignal {
        chat_id: text_chat,
        call_id: 1,
        signal: CallSignal::Answer { sdp: ANSWER.into() },
    };
    assert_eq!(
        operator_do(&mut op, answer).await,
        Err(ErrorCode::IllegalTransition)
    );
    // None of it stored anything.
    let events = server.admin.chat_events(chat, 0).await.unwrap();
    assert_eq!(events.last().unwrap().seq, call_id);
}

async fn end_communication_ends_the_call_and_the_chat(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Abe").await;
    let (mut v, chat, call_id) = voice_call(&server, &mut op).await;
    v.send(&VisitorClientMsg::CallConnected { call_id }).await;
    let connected = OperatorAction::CallConnected {
        chat_id: chat,
        call_id,
    };
    operator_do(&mut op, connected).await.unwrap();
    // Hold: the chat is on hold (both peers mute on the event); the call goes on.
    op.hold(chat).await.unwrap();
    visitor_signal(&mut v, call_id, CallSignal::Mute { muted: true }).await;
    assert!(matches!(
        operator_call_frame(&mut op).await,
        OperatorServerMsg::CallSignal { .. }
    ));
    op.resume(chat).await.unwrap();
    op.end(chat).await.unwrap();
    v.wait_ended().await;
    let events = server.admin.chat_events(chat, 0).await.unwrap();
    let kinds: Vec<_> = events
        .iter()
        .skip_while(|e| e.seq < call_id)
        .map(|e| &e.kind)
        .collect();
    let connected = kinds
        .iter()
        .filter(|k| matches!(k, ChatEventKind::CallConnected { .. }))
        .count();
    assert_eq!(
        connected, 1,
        "both peers said so; it is stored once: {kinds:?}"
    );
    let at = kinds
        .iter()
        .position(|k| {
            matches!(
                k,
                ChatEventKind::CallEnded {
                    reason: CallEndReason::ChatEnded,
                    by: None,
                    ..
                }
            )
        })
        .expect("the call ended with the chat");
    assert!(
        matches!(kinds[at + 1], ChatEventKind::Ended { .. }),
        "{kinds:?}"
    );
    if let ChatEventKind::CallEnded { duration_ms, .. } = kinds[at] {
        assert!(duration_ms.is_some_and(|d| d >= 0));
    }
}

async fn the_operator_invites_and_the_visitor_answers(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Bo").await;
    let (mut v, chat) = accepted_chat(&server, &mut op, "Cy").await;
    // No.
    operator_do(&mut op, OperatorAction::CallInvite { chat_id: chat })
        .await
        .unwrap();
    v.wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if matches!(event.kind, ChatEventKind::CallInvited { .. }))).await;
    assert_eq!(
        operator_do(&mut op, OperatorAction::CallInvite { chat_id: chat }).await,
        Err(ErrorCode::IllegalTransition),
        "one invitation at a time"
    );
    v.send(&VisitorClientMsg::CallRefuse).await;
    v.wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if matches!(event.kind, ChatEventKind::CallEnded { reason: CallEndReason::Refused, .. }))).await;
    // Yes.
    operator_do(&mut op, OperatorAction::CallInvite { chat_id: chat })
        .await
        .unwrap();
    v.send(&VisitorClientMsg::CallAccept).await;
    let VisitorServerMsg::CallReady { call_id, .. } = visitor_call_frame(&mut v).await else {
        panic!("the call is ready");
    };
    assert!(
        matches!(operator_call_frame(&mut op).await, OperatorServerMsg::CallReady { call_id: id, .. } if id == call_id)
    );
    let events = server.admin.chat_events(chat, 0).await.unwrap();
    assert!(events.iter().any(|e| e.seq == call_id
        && matches!(
            e.kind,
            ChatEventKind::CallStarted {
                by: CallParty::Operator
            }
        )));
    // Visitors may not invite, operators may not accept for them.
    v.send(&VisitorClientMsg::CallAccept).await;
    assert_eq!(
        v.wait_error().await.error.code,
        ErrorCode::IllegalTransition
    );
}

async fn ending_the_voice_or_losing_the_audio_leaves_the_text(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Dee").await;
    let (mut v, chat, call_id) = voice_call(&server, &mut op).await;
    // End call: the voice ends, the chat goes on.
    v.send(&VisitorClientMsg::CallEnd { call_id }).await;
    wait_event(&mut op, chat, |k| {
        matches!(
            k,
            ChatEventKind::CallEnded {
                reason: CallEndReason::Hangup,
                by: Some(CallParty::Visitor),
                ..
            }
        )
    })
    .await;
    v.say("t1", "still typing").await;
    // A second call, whose audio fails: both are told, the text goes on.
    operator_do(&mut op, OperatorAction::CallInvite { chat_id: chat })
        .await
        .unwrap();
    v.send(&VisitorClientMsg::CallAccept).await;
    let VisitorServerMsg::CallReady {
        call_id: second, ..
    } = visitor_call_frame(&mut v).await
    else {
        panic!("the second call is ready");
    };
    assert_ne!(second, call_id);
    let failed = OperatorAction::CallFailed {
        chat_id: chat,
        call_id: second,
    };
    operator_do(&mut op, failed).await.unwrap();
    v.wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if matches!(event.kind, ChatEventKind::CallEnded { reason: CallEndReason::MediaFailed, .. }))).await;
    v.say("t2", "text still works").await;
    // The old call's id is over.
    visitor_signal(&mut v, call_id, CallSignal::Mute { muted: true }).await;
    assert_eq!(
        v.wait_error().await.error.code,
        ErrorCode::IllegalTransition
    );
}

async fn a_dropped_operator_connection_keeps_the_call(db: Db) {
    let server = TestServer::start(db).await;
    let mut op = available_operator(&server, "Eli").await;
    let (mut v, chat, call_id) = voice_call(&server, &mut op).await;
    // The phone changes network: the socket drops and comes back; the call is still there
    // (its audio is peer to peer) and the peers go on signaling, e.g. for an ICE restart.
    op.drop_connection();
    op.reconnect().await.unwrap();
    visitor_signal(&mut v, call_id, CallSignal::Offer { sdp: OFFER.into() }).await;
    assert!(matches!(
        operator_call_frame(&mut op).await,
        OperatorServerMsg::CallSignal {
            signal: CallSignal::Offer { .. },
            ..
        }
    ));
    let restart = OperatorAction::CallSignal {
        chat_id: chat,
        call_id,
        signal: CallSignal::Answer { sdp: ANSWER.into() },
    };
    operator_do(&mut op, restart).await.unwrap();
}
