//! The core's one error type: what the server refused (with its code), or what went wrong on
//! the way there.

use switchboard_shared::{ApiError, ErrorCode};

/// Everything the core can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The server refused the request with a typed error.
    #[error("{}: {}", serde_json::to_string(&.0.code).unwrap_or_default(), .0.message)]
    Api(ApiError),
    /// The HTTP request failed on the way.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The WebSocket failed.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server closed the connection.
    #[error("the connection is closed")]
    Closed,
    /// The server sent something this client does not understand.
    #[error("protocol: {0}")]
    Protocol(String),
    /// Nothing arrived in time.
    #[error("timed out waiting for the server")]
    Timeout,
    /// A file on this device could not be written (a downloaded report).
    #[error("file: {0}")]
    File(#[from] std::io::Error),
}

impl CoreError {
    /// The server's error code, when the server refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CoreError::Api(e) => Some(e.code),
            _ => None,
        }
    }
}

/// Result with the core's error.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
