//! Switchboard's operator core: the client of the backend that the operator app (and the
//! end-to-end tests) use. No Tauri in here.
//!
//! - [`Client`] signs in over HTTP and gives a [`Session`] (token + profile).
//! - [`Session`] calls the operator and admin HTTP APIs and opens a [`Connection`].
//! - [`Connection`] is the live WebSocket: every frame it reads is applied to its
//!   [`OperatorState`] (requests, queue, own chats, last `seq` per chat), and
//!   [`Connection::reconnect`] resumes from those `seq`s so nothing is missed or doubled.
//! - [`app::App`] is the operator app's engine on top of them: the [`cache`] (offline state
//!   and outbox), the [`ui`] snapshot it renders, [`push`] registration, and [`call`]s (the
//!   seam to the voice engine), and the [`monitor`] (the Site Monitor's visitors).

pub mod app;
pub mod cache;
pub mod call;
mod client;
mod connection;
mod error;
pub mod monitor;
pub mod push;
mod state;
pub mod ui;
#[cfg(feature = "voice")]
pub mod voice;

pub use client::{Client, Session};
pub use connection::{Connection, new_client_id};
pub use error::{CoreError, Result};
pub use state::OperatorState;
