//! The UI's TypeScript types (`mobile/ui/src/bindings.ts`) are generated from `ui.rs`; this
//! fails when they are out of date. `UPDATE_BINDINGS=1 cargo test -p switchboard-core
//! --features ts --test bindings` rewrites them.
#![cfg(feature = "ts")]

use switchboard_core::ui::*;
use switchboard_shared::ts;
use ts_rs::{Config, TS};

#[test]
fn ui_bindings_are_up_to_date() {
    let cfg = Config::new().with_large_int("number");
    let body = ts::exports([
        UiSnapshot::decl(&cfg),
        SignedIn::decl(&cfg),
        ConnectionState::decl(&cfg),
        PendingAction::decl(&cfg),
        RefusedAction::decl(&cfg),
        HistoryView::decl(&cfg),
        Transcript::decl(&cfg),
        ChatView::decl(&cfg),
        CallView::decl(&cfg),
        CallPhase::decl(&cfg),
        MessageView::decl(&cfg),
        TranscriptMailView::decl(&cfg),
        CommandError::decl(&cfg),
        ChatAction::decl(&cfg),
        MonitorView::decl(&cfg),
    ]);
    let fresh = format!(
        "// Generated from mobile/core/src/ui.rs by mobile/core/tests/bindings.rs. Do not edit.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p switchboard-core --features ts --test bindings\n\n\
         import type {{ Author, CannedMessage, ChatEvent, ChatId, ChatSummary, MailInfo, MailState, OperatorProfile, Settings, SiteVisitor }} from \"../../../shared/bindings/protocol\";\n\
         export * from \"../../../shared/bindings/protocol\";\n\n{body}"
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let regenerate = "cargo test -p switchboard-core --features ts --test bindings";
    ts::up_to_date(&path, &fresh, regenerate).unwrap();
}
