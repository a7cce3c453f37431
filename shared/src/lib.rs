//! The Switchboard wire protocol: every type the widget, the operator app and the backend
//! exchange, over HTTP (JSON bodies) and WebSocket (one JSON object per text frame).
//!
//! The types live in modules by who speaks them (ids, chats, errors, the visitor's and the
//! operator's protocols, push) and are all re-exported here: `switchboard_shared::ChatId`.
//!
//! Invariants the rest of the system relies on (the per-chat `seq` rules are in `chat.rs`):
//! - Every frame is an object tagged by `"type"` in `snake_case`; unknown types are refused
//!   with [`ErrorCode::UnknownType`], never ignored silently.
//! - Times are unix milliseconds (`i64`), ids are integers (`ids.rs`).
//!
//! The TypeScript twin of this crate (`shared/bindings/protocol.ts`) is generated with the `ts`
//! feature; a test fails when it is out of date. `docs/protocol.md` describes the flows.
#![warn(missing_docs)]

mod chat;
mod error;
mod ids;
mod operator;
mod push;
mod visitor;

pub use chat::*;
pub use error::*;
pub use ids::*;
pub use operator::*;
pub use push::*;
pub use visitor::*;

/// Version of the protocol spoken by this build; sent in every `hello` and `welcome`/`ready`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest WebSocket frame either endpoint accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
