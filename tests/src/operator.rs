//! The operator's side through `mobile/core`'s live [`Connection`]: going available, and
//! waiting for what the operator is shown (a chat request, a chat's events, a visitor's
//! message).
//!
//! A connection keeps what it has read in `state`, so each wait looks there first: an event
//! that arrived while the test was busy elsewhere is not waited for again.

use switchboard_core::{Connection, Session};
use switchboard_shared::{ChatEventKind, ChatId, OperatorServerMsg};

use crate::visitor::Visitor;
use crate::{OPERATOR_PASSWORD, TestServer};

/// A new operator with Live Help Available and a live connection.
pub async fn available_operator(server: &TestServer, name: &str) -> Connection {
    let session = server.operator(name).await;
    connect_available(&session).await
}

/// New operators, one for each name, each with Live Help Available and a live connection.
pub async fn available_operators<const N: usize>(
    server: &TestServer,
    names: [&str; N],
) -> [Connection; N] {
    let mut conns = Vec::with_capacity(N);
    for name in names {
        conns.push(available_operator(server, name).await);
    }
    match conns.try_into() {
        Ok(conns) => conns,
        Err(_) => unreachable!("one connection for each name"),
    }
}

/// Connects a signed-in operator and sets Live Help Available.
pub async fn connect_available(session: &Session) -> Connection {
    let mut conn = session.connect().await.unwrap();
    conn.set_available(true).await.unwrap();
    conn
}

/// The same operator signed in again on another device (a second session), connected.
pub async fn second_device(first: &Connection, server: &TestServer) -> Connection {
    let session = server
        .client()
        .login(&first.state.operator.email, OPERATOR_PASSWORD)
        .await
        .unwrap();
    session.connect().await.unwrap()
}

/// A new visitor asks for a chat, and it rings for each of `ops`.
pub async fn chat_ringing_for(
    server: &TestServer,
    ops: &mut [&mut Connection],
    name: &str,
) -> (Visitor, ChatId) {
    let (visitor, chat) = Visitor::request_chat(&server.base, name).await;
    for op in ops {
        wait_request(op, chat).await;
    }
    (visitor, chat)
}

/// A new visitor asks for a chat, and `op` accepts it once it rings.
pub async fn accepted_chat(
    server: &TestServer,
    op: &mut Connection,
    name: &str,
) -> (Visitor, ChatId) {
    let (visitor, chat) = chat_ringing_for(server, &mut [&mut *op], name).await;
    op.accept(chat).await.unwrap();
    (visitor, chat)
}

/// Whether a frame is a chat event of `chat` whose kind satisfies `pred`.
fn is_event(m: &OperatorServerMsg, chat: ChatId, pred: impl Fn(&ChatEventKind) -> bool) -> bool {
    matches!(m, OperatorServerMsg::Event { event, .. } if event.chat_id == chat && pred(&event.kind))
}

/// Waits until the connection shows a chat request for `chat`.
pub async fn wait_request(conn: &mut Connection, chat: ChatId) {
    if conn.state.requests.contains_key(&chat) {
        return;
    }
    conn.wait_for(|m| is_event(m, chat, |k| matches!(k, ChatEventKind::Requested { .. })))
        .await
        .expect("chat request arrives");
}

/// Waits for the first chat request the connection is shown, whichever chat it is for.
pub async fn next_request(conn: &mut Connection) -> ChatId {
    if let Some(id) = conn.state.requests.keys().next() {
        return *id;
    }
    match conn
        .wait_for(|m| matches!(m, OperatorServerMsg::Event { event, .. } if matches!(event.kind, ChatEventKind::Requested { .. })))
        .await
        .unwrap()
    {
        OperatorServerMsg::Event { event, .. } => event.chat_id,
        _ => unreachable!(),
    }
}

/// Reads frames until an event of `chat` whose kind satisfies `pred` arrives.
pub async fn wait_event(
    conn: &mut Connection,
    chat: ChatId,
    pred: impl Fn(&ChatEventKind) -> bool,
) {
    conn.wait_for(|m| is_event(m, chat, &pred))
        .await
        .expect("event arrives");
}

/// Waits until the operator has the message `text` in `chat` (already, or when it arrives).
pub async fn wait_message(conn: &mut Connection, chat: ChatId, text: &str) {
    let is_it =
        |k: &ChatEventKind| matches!(k, ChatEventKind::Message { text: t, .. } if t == text);
    if conn.state.messages(chat).iter().any(|e| is_it(&e.kind)) {
        return;
    }
    conn.wait_for(|m| is_event(m, chat, is_it))
        .await
        .unwrap_or_else(|e| panic!("operator never got {text:?}: {e}"));
}

/// The texts of the chat's messages (both authors) the operator has, in order.
pub fn message_texts(conn: &Connection, chat: ChatId) -> Vec<String> {
    conn.state
        .messages(chat)
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::Message { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}
