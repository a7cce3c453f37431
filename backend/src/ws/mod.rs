//! WebSocket sessions. [`Conn`] hides the framing (one JSON object per text frame, typed
//! errors for frames that are not) so the visitor and operator loops deal in protocol types.

pub mod operator;
pub mod visitor;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_shared::{ApiError, ErrorCode};

/// How long a client has to send `hello`.
pub const HELLO_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// A connection that sends nothing (not even `ping`) for this long is closed.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// What reading one frame gave.
pub enum Frame<T> {
    /// A frame of the expected type.
    Msg(T),
    /// A frame that could not be read; answer with this error and carry on.
    Bad(ApiError),
    /// The peer closed the connection, or it broke.
    Closed,
}

/// One WebSocket connection, speaking JSON frames.
pub struct Conn {
    socket: WebSocket,
}

impl Conn {
    /// Wraps an upgraded socket.
    pub fn new(socket: WebSocket) -> Conn {
        Conn { socket }
    }

    /// Sends one frame; false when the connection is gone.
    pub async fn send<T: Serialize>(&mut self, msg: &T) -> bool {
        match serde_json::to_string(msg) {
            Ok(text) => self.socket.send(Message::Text(text.into())).await.is_ok(),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode frame");
                false
            }
        }
    }

    /// Reads the next frame, skipping control frames.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Frame<T> {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => return parse(text.as_str()),
                Some(Ok(Message::Binary(_))) => {
                    return Frame::Bad(api(ErrorCode::MalformedFrame, "frames must be JSON text"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None => return Frame::Closed,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "websocket read failed");
                    return Frame::Closed;
                }
            }
        }
    }

    /// Closes with a WebSocket close code and reason.
    pub async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: reason.to_owned().into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
    }
}

/// Builds an [`ApiError`].
pub fn api(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError {
        code,
        message: message.into(),
    }
}

/// Reads a frame: not JSON or the wrong shape is `malformed_frame`; an unknown `type` is
/// `unknown_type`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Frame<T> {
    match serde_json::from_str::<T>(text) {
        Ok(msg) => Frame::Msg(msg),
        Err(e) => {
            let msg = e.to_string();
            if msg.starts_with("unknown variant") {
                Frame::Bad(api(
                    ErrorCode::UnknownType,
                    format!("unknown frame type: {msg}"),
                ))
            } else {
                Frame::Bad(api(
                    ErrorCode::MalformedFrame,
                    format!("malformed frame: {msg}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::VisitorClientMsg;

    fn code(text: &str) -> Option<ErrorCode> {
        match parse::<VisitorClientMsg>(text) {
            Frame::Bad(e) => Some(e.code),
            _ => None,
        }
    }

    #[test]
    fn frames_are_classified() {
        assert_eq!(code(r#"{"type":"ping"}"#), None);
        assert_eq!(
            code(r#"{"type":"launch_missiles"}"#),
            Some(ErrorCode::UnknownType)
        );
        assert_eq!(code("not json"), Some(ErrorCode::MalformedFrame));
        assert_eq!(
            code(r#"{"type":"send","text":1}"#),
            Some(ErrorCode::MalformedFrame)
        );
        assert_eq!(code("[1,2]"), Some(ErrorCode::MalformedFrame));
    }
}
