//! HTTP routes, one file per area, each with its own `router()`.

pub mod admin;
pub mod auth;
pub mod operator;
pub mod push;
pub mod widget;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use switchboard_shared::ErrorCode;

use crate::error::Error;

/// A JSON body whose failures are typed errors (`malformed_frame`, `too_large`) instead of
/// axum's plain-text rejections.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::client(ErrorCode::TooLarge, "the request body is too large")
            } else {
                Error::client(ErrorCode::MalformedFrame, r.body_text())
            }
        })?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            Error::client(ErrorCode::MalformedFrame, format!("invalid JSON body: {e}"))
        })
    }
}

/// Trims a text field and checks its length.
pub fn field(value: &str, name: &str, max: usize) -> Result<String, Error> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(format!("{name} is required")));
    }
    if v.chars().count() > max {
        return Err(Error::client(
            ErrorCode::TooLarge,
            format!("{name} is over {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// A loose e-mail check: something@something.something, no spaces.
pub fn email(value: &str) -> Result<String, Error> {
    let v = field(value, "e-mail", 254)?;
    let ok = match v.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.')
        }
        None => false,
    };
    if !ok || v.contains(char::is_whitespace) {
        return Err(Error::invalid("that is not an e-mail address"));
    }
    Ok(v.to_lowercase())
}
