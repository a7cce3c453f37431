//! The UI's TypeScript types (`mobile/ui/src/bindings.ts`) are generated from `ui.rs`; this
//! fails when they are out of date. `UPDATE_BINDINGS=1 cargo test -p switchboard-core
//! --features ts --test bindings` rewrites them.
#![cfg(feature = "ts")]

use switchboard_core::ui::*;
use ts_rs::{Config, TS};

#[test]
fn ui_bindings_are_up_to_date() {
    let cfg = Config::new().with_large_int("number");
    let mut body = String::new();
    for decl in [
        UiSnapshot::decl(&cfg),
        SignedIn::decl(&cfg),
        ConnectionState::decl(&cfg),
        PendingAction::decl(&cfg),
        ChatView::decl(&cfg),
        MessageView::decl(&cfg),
        CommandError::decl(&cfg),
        ChatAction::decl(&cfg),
    ] {
        body.push_str("export ");
        body.push_str(&decl);
        body.push_str("\n\n");
    }
    let fresh = format!(
        "// Generated from mobile/core/src/ui.rs by mobile/core/tests/bindings.rs. Do not edit.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p switchboard-core --features ts --test bindings\n\n\
         import type {{ Author, CannedMessage, ChatId, ChatSummary, OperatorProfile, Settings }} from \"../../../shared/bindings/protocol\";\n\
         export * from \"../../../shared/bindings/protocol\";\n\n{}",
        body.trim_end().to_owned() + "\n"
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "mobile/ui/src/bindings.ts is out of date: run UPDATE_BINDINGS=1 cargo test -p switchboard-core --features ts --test bindings"
    );
}
