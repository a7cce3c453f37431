//! Extractors shared by the HTTP areas: typed JSON bodies and the signed-in operator or admin
//! behind an `Authorization: Bearer …` header. Their failures are the backend's typed errors.

use axum::body::Bytes;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use switchboard_shared::{ErrorCode, OperatorProfile};

use crate::auth::operator_for_token;
use crate::error::Error;
use crate::state::AppState;

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

/// The client's address, for the limits keyed by address: the TCP peer, or the last address
/// in `X-Forwarded-For` when the config trusts a proxy in front.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub IpAddr);

impl Peer {
    /// The address behind a request's parts.
    pub fn of(parts: &Parts, trust_forwarded_for: bool) -> Peer {
        let forwarded = trust_forwarded_for
            .then(|| parts.headers.get("x-forwarded-for")?.to_str().ok())
            .flatten()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        let connected = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Peer(
            forwarded
                .or(connected)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        )
    }
}

impl FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer::of(parts, state.config.trust_forwarded_for))
    }
}

/// A signed-in operator (from `Authorization: Bearer <token>`).
pub struct Operator {
    /// Who.
    pub profile: OperatorProfile,
    /// The token they used.
    pub token: String,
}

/// A signed-in admin.
pub struct Admin(pub OperatorProfile);

impl FromRequestParts<AppState> for Operator {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::client(ErrorCode::Unauthorized, "missing bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| Error::client(ErrorCode::Unauthorized, "expected a bearer token"))?
            .trim()
            .to_owned();
        let (profile, _) = operator_for_token(&state.store, &token).await?;
        Ok(Operator { profile, token })
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let op = Operator::from_request_parts(parts, state).await?;
        if !op.profile.is_admin {
            return Err(Error::client(ErrorCode::Forbidden, "admins only"));
        }
        Ok(Admin(op.profile))
    }
}

/// A query string whose failures are typed errors (`invalid_input` naming the field) instead of
/// axum's plain-text rejections.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|r| Error::invalid(r.body_text()))
    }
}
