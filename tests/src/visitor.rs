//! A visitor client in Rust that speaks the widget's WebSocket protocol, for flows that do
//! not need a browser (and for bad-input tests the real widget would never send).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use switchboard_shared::{
    ApiError, ChatEvent, ChatEventKind, ChatId, ChatStatus, ClientInfo, EndReason, Mode,
    PROTOCOL_VERSION, Page, VisitorClientMsg, VisitorServerMsg,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A visitor's widget connection.
pub struct Visitor {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    base: String,
    /// The visitor token from `welcome`.
    pub token: String,
    /// The `welcome` frame.
    pub welcome: VisitorServerMsg,
    /// Every chat event received, in order.
    pub events: Vec<ChatEvent>,
    /// Every frame received, in order.
    pub frames: Vec<VisitorServerMsg>,
}

/// An error frame the server sent the visitor.
#[derive(Debug)]
pub struct ErrorFrame {
    /// The `client_id` of the message refused, when a message was.
    pub client_id: Option<String>,
    /// What went wrong.
    pub error: ApiError,
}

/// The widget's WebSocket endpoint of the server at `base` (`http://…`).
pub fn ws_url(base: &str) -> String {
    format!("{}/api/widget/ws", base.replacen("http://", "ws://", 1))
}

impl Visitor {
    /// Connects as a new visitor.
    pub async fn connect(base: &str) -> Visitor {
        Self::connect_as(base, None, None).await
    }

    /// A new visitor asks for a text chat: the visitor, and the chat (still ringing).
    pub async fn request_chat(base: &str, name: &str) -> (Visitor, ChatId) {
        let mut visitor = Self::connect(base).await;
        let chat = visitor.start_chat(name).await.chat_id;
        (visitor, chat)
    }

    /// `n` new visitors ("visitor 0", "visitor 1", …) each ask for a text chat: the
    /// visitors, and their chats in the same order.
    pub async fn request_chats(base: &str, n: usize) -> (Vec<Visitor>, Vec<ChatId>) {
        let mut visitors = Vec::new();
        let mut chats = Vec::new();
        for i in 0..n {
            let (visitor, chat) = Self::request_chat(base, &format!("visitor {i}")).await;
            visitors.push(visitor);
            chats.push(chat);
        }
        (visitors, chats)
    }

    /// Connects with a kept token and the last `seq` seen.
    pub async fn connect_as(base: &str, token: Option<String>, last_seq: Option<i64>) -> Visitor {
        let page = Page {
            url: "https://shop.example.test/pricing".into(),
            title: Some("Pricing".into()),
        };
        Self::connect_with(base, token, last_seq, page, None).await
    }

    /// Connects with everything a widget's `hello` can say: a kept token, the last `seq`
    /// seen, the page, what the browser tells about itself.
    pub async fn connect_with(
        base: &str,
        token: Option<String>,
        last_seq: Option<i64>,
        page: Page,
        client: Option<ClientInfo>,
    ) -> Visitor {
        let (ws, _) = tokio_tungstenite::connect_async(ws_url(base))
            .await
            .expect("visitor connects");
        let mut v = Visitor {
            ws,
            base: base.to_owned(),
            token: String::new(),
            welcome: VisitorServerMsg::Pong,
            events: Vec::new(),
            frames: Vec::new(),
        };
        v.send(&VisitorClientMsg::Hello {
            protocol: PROTOCOL_VERSION,
            visitor_token: token,
            page: Some(page),
            last_seq,
            client,
        })
        .await;
        let welcome = v.recv().await.expect("welcome");
        match &welcome {
            VisitorServerMsg::Welcome { visitor_token, .. } => v.token = visitor_token.clone(),
            other => panic!("expected welcome, got {other:?}"),
        }
        v.welcome = welcome;
        v
    }

    /// Who the server says this visitor is (from its `welcome`).
    pub fn id(&self) -> switchboard_shared::VisitorId {
        match &self.welcome {
            VisitorServerMsg::Welcome { visitor_id, .. } => *visitor_id,
            other => panic!("not a welcome: {other:?}"),
        }
    }

    /// Reconnects as the same visitor, resuming after the last event seen.
    pub async fn reconnect(self) -> Visitor {
        let last = self.events.last().map(|e| e.seq);
        self.connect_again(last).await
    }

    /// The page is reloaded: the same visitor (same token) connects again without a `seq`,
    /// so the open chat comes back whole.
    pub async fn reload(self) -> Visitor {
        self.connect_again(None).await
    }

    /// Closes this connection, then connects as the same visitor after `last_seq`.
    async fn connect_again(self, last_seq: Option<i64>) -> Visitor {
        let (base, token) = (self.base.clone(), self.token.clone());
        drop(self);
        Self::connect_as(&base, Some(token), last_seq).await
    }

    /// Sends a frame.
    pub async fn send(&mut self, msg: &VisitorClientMsg) {
        self.send_raw(&serde_json::to_string(msg).unwrap()).await;
    }

    /// Sends raw text.
    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("visitor send");
    }

    /// The next frame (None when closed or after 10 s).
    pub async fn recv(&mut self) -> Option<VisitorServerMsg> {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .ok()??;
            match next {
                Ok(Message::Text(t)) => {
                    let msg: VisitorServerMsg =
                        serde_json::from_str(t.as_str()).unwrap_or_else(|e| panic!("{e}: {t}"));
                    if let VisitorServerMsg::Event { event } = &msg {
                        self.events.push(event.clone());
                    }
                    self.frames.push(msg.clone());
                    return Some(msg);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Reads frames until one matches.
    pub async fn wait_for(
        &mut self,
        mut pred: impl FnMut(&VisitorServerMsg) -> bool,
    ) -> VisitorServerMsg {
        loop {
            let msg = self.recv().await.expect("frame before timeout");
            if pred(&msg) {
                return msg;
            }
        }
    }

    /// Reads frames until one matches (true), or the connection closes or stays silent for
    /// 10 s (false).
    pub async fn recv_until(&mut self, mut pred: impl FnMut(&VisitorServerMsg) -> bool) -> bool {
        while let Some(msg) = self.recv().await {
            if pred(&msg) {
                return true;
            }
        }
        false
    }

    /// Reads frames until the closing one: true when the server closed the connection
    /// (within 100 frames).
    pub async fn wait_for_close(&mut self) -> bool {
        for _ in 0..100 {
            if self.recv().await.is_none() {
                return true;
            }
        }
        false
    }

    /// Reads frames until an error frame, and returns it.
    pub async fn wait_error(&mut self) -> ErrorFrame {
        match self
            .wait_for(|m| matches!(m, VisitorServerMsg::Error { .. }))
            .await
        {
            VisitorServerMsg::Error { client_id, error } => ErrorFrame { client_id, error },
            _ => unreachable!(),
        }
    }

    /// Reads frames until the message `text` arrives.
    pub async fn wait_message(&mut self, text: &str) {
        self.wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if matches!(&event.kind, ChatEventKind::Message { text: t, .. } if t == text)))
            .await;
    }

    /// Reads frames until the chat ends, and gives why it ended.
    pub async fn wait_ended(&mut self) -> EndReason {
        match self.wait_status(ChatStatus::Ended).await.kind {
            ChatEventKind::Ended { reason } => reason,
            other => panic!("the chat ended with {other:?}"),
        }
    }

    /// Reads frames until an event leaves the chat in `status`.
    pub async fn wait_status(&mut self, status: ChatStatus) -> ChatEvent {
        match self
            .wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if event.status == status))
            .await
        {
            VisitorServerMsg::Event { event } => event,
            _ => unreachable!(),
        }
    }

    /// Asks for a text chat.
    pub async fn start_chat(&mut self, name: &str) -> ChatEvent {
        self.send(&VisitorClientMsg::StartChat {
            name: Some(name.into()),
            mode: Mode::Text,
        })
        .await;
        match self
            .wait_for(|m| matches!(m, VisitorServerMsg::Event { event } if matches!(event.kind, ChatEventKind::Requested { .. })))
            .await
        {
            VisitorServerMsg::Event { event } => event,
            _ => unreachable!(),
        }
    }

    /// Sends a message and does not wait for its ack (for messages the server refuses).
    pub async fn write(&mut self, client_id: &str, text: &str) {
        self.send(&VisitorClientMsg::Send {
            client_id: client_id.into(),
            text: text.into(),
        })
        .await;
    }

    /// Ends the chat (the widget's "End chat").
    pub async fn end_chat(&mut self) {
        self.send(&VisitorClientMsg::EndChat).await;
    }

    /// Pings and waits for the pong: the connection still works.
    pub async fn ping(&mut self) {
        self.send(&VisitorClientMsg::Ping).await;
        self.wait_for(|m| matches!(m, VisitorServerMsg::Pong)).await;
    }

    /// Sends a message and waits for its ack; returns the acked `seq`.
    pub async fn say(&mut self, client_id: &str, text: &str) -> i64 {
        self.write(client_id, text).await;
        match self
            .wait_for(|m| matches!(m, VisitorServerMsg::Ack { client_id: c, .. } | VisitorServerMsg::Error { client_id: Some(c), .. } if c == client_id))
            .await
        {
            VisitorServerMsg::Ack { seq, .. } => seq,
            other => panic!("message refused: {other:?}"),
        }
    }

    /// The message texts received, in order.
    pub fn texts(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                ChatEventKind::Message { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }
}
