//! The backend's one error type and its mapping to HTTP and to WebSocket error frames.
//!
//! Client errors carry a stable [`ErrorCode`] and a message for people. Server errors are
//! logged with their details and reach clients only as `internal`.

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use switchboard_shared::{ApiError, ErrorCode};

/// Everything that can go wrong in the backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client asked for something it may not have, or sent something invalid.
    #[error("{message}")]
    Client {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people.
        message: String,
    },
    /// Too many requests of one kind: nothing was done; try again after this many seconds.
    #[error("rate limited: try again in {retry_after_secs} s")]
    RateLimited {
        /// When to try again.
        retry_after_secs: u32,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The configuration is unusable.
    #[error("config: {0}")]
    Config(String),
    /// Anything else that is the server's fault.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// A client error with this code and message.
    pub fn client(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::Client {
            code,
            message: message.into(),
        }
    }

    /// `not_found` for the named thing.
    pub fn not_found(what: &str) -> Error {
        Error::client(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// `invalid_input` with a message.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::client(ErrorCode::InvalidInput, message)
    }

    /// `rate_limited`, to be tried again after `wait` (at least a second).
    pub fn rate_limited(wait: std::time::Duration) -> Error {
        let secs = wait.as_secs_f64().ceil().max(1.0);
        Error::RateLimited {
            retry_after_secs: if secs >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                secs as u32
            },
        }
    }

    /// Maps a unique-constraint violation to `conflict`, anything else to a database error.
    pub fn unique_violation(err: sqlx::Error, message: &str) -> Error {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::client(ErrorCode::Conflict, message)
            }
            _ => Error::Database(err),
        }
    }

    /// The wire form of this error. Server-side details are logged here, never returned.
    pub fn to_api(&self) -> ApiError {
        match self {
            Error::Client { code, message } => ApiError {
                code: *code,
                message: message.clone(),
                retry_after_secs: None,
            },
            Error::RateLimited { retry_after_secs } => ApiError {
                code: ErrorCode::RateLimited,
                message: format!(
                    "too many requests: please wait {retry_after_secs} s, then try again"
                ),
                retry_after_secs: Some(*retry_after_secs),
            },
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError {
                    code: ErrorCode::Internal,
                    message: "internal server error".into(),
                    retry_after_secs: None,
                }
            }
        }
    }
}

/// The HTTP status of each error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthorized | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::InvalidInput | ErrorCode::MalformedFrame | ErrorCode::UnknownType => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::HelloRequired | ErrorCode::UnsupportedProtocol => StatusCode::BAD_REQUEST,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::IllegalTransition
        | ErrorCode::AlreadyTaken
        | ErrorCode::ChatLimitReached
        | ErrorCode::NoOperatorAvailable
        | ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::MailUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let api = self.to_api();
        let retry_after = api.retry_after_secs.map(|s| [(RETRY_AFTER, s.to_string())]);
        (status_of(api.code), retry_after, Json(api)).into_response()
    }
}

// Failures of the libraries below are the server's fault: they become `Internal`, so the
// client sees `internal` and the log has the details.
macro_rules! internal_from {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::Internal(format!(concat!($what, ": {}"), e))
            }
        }
    )*};
}

internal_from! {
    serde_json::Error => "json",
    std::io::Error => "io",
    tokio::task::JoinError => "task",
    argon2::password_hash::Error => "password hash",
    sqlx::migrate::MigrateError => "migrations",
}

/// Result with the backend's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
