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

mod call;
mod chat;
mod error;
mod ids;
mod mail;
mod monitor;
mod operator;
mod push;
mod report;
mod visitor;

pub use call::*;
pub use chat::*;
pub use error::*;
pub use ids::*;
pub use mail::*;
pub use monitor::*;
pub use operator::*;
pub use push::*;
pub use report::*;
pub use visitor::*;

/// Version of the protocol spoken by this build; sent in every `hello` and `welcome`/`ready`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest WebSocket frame either endpoint accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// What the bindings tests of this crate and of the operator app's core share (the `ts`
/// feature): the generated TypeScript is compared with the committed file, or rewritten.
#[cfg(feature = "ts")]
pub mod ts {
    use std::path::Path;

    /// The environment variable that makes [`up_to_date`] rewrite instead of compare.
    pub const UPDATE: &str = "UPDATE_BINDINGS";

    /// `export` before each declaration, a blank line after, as one file body.
    pub fn exports(decls: impl IntoIterator<Item = String>) -> String {
        let mut body = String::new();
        for decl in decls {
            body.push_str("export ");
            body.push_str(&decl);
            body.push_str("\n\n");
        }
        body.trim_end().to_owned() + "\n"
    }

    /// Fails (naming `regenerate`, the command that rewrites it) when the committed file at
    /// `path` is not `fresh`; with `UPDATE_BINDINGS` set, writes `fresh` there instead.
    pub fn up_to_date(path: &Path, fresh: &str, regenerate: &str) -> Result<(), String> {
        if std::env::var_os(UPDATE).is_some() {
            return std::fs::write(path, fresh).map_err(|e| format!("{}: {e}", path.display()));
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        if committed != fresh {
            return Err(format!(
                "{} is out of date: run {UPDATE}=1 {regenerate}",
                path.display()
            ));
        }
        Ok(())
    }
}
