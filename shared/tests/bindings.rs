//! The TypeScript bindings in `shared/bindings/protocol.ts` are generated from the Rust types;
//! this test fails when they are out of date. `UPDATE_BINDINGS=1 cargo test -p
//! switchboard-shared --features ts --test bindings` rewrites them.
#![cfg(feature = "ts")]

use switchboard_shared::*;
use ts_rs::{Config, TS};

macro_rules! decls {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        ts::exports([$(<$t as TS>::decl($cfg)),*])
    };
}

fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let body = decls!(&cfg;
        ChatId, OperatorId, VisitorId, OfflineMessageId, CannedId, ChatStatus, Mode, Page, OperatorRef,
        Author, EndReason, ChatEvent, ChatEventKind, ChatSummary, ErrorCode, ApiError,
        VisitorClientMsg, VisitorServerMsg, WidgetStatus, LeaveMessageRequest, OfflineMessage,
        LoginRequest, LoginResponse, OperatorProfile, SetStatusRequest, CreateOperatorRequest,
        UpdateOperatorRequest, Settings, Limits, HistoryPage, ResumeFrom, OperatorRequest, OperatorAction,
        OperatorServerMsg, CannedMessage, SaveCannedRequest, PageView, VisitorProfile, DeviceId,
        PushPlatform, RegisterDeviceRequest, PushDevice, PushSettingsView, ApnsSettingsView,
        FcmSettingsView, PushSettingsUpdate, ApnsSettingsInput, PushAttempt, PushAction,
        PushActionRequest, PushActionResponse, CallParty, CallEndReason, IceCandidate, IceServer,
        CallSignal, CallState, VoiceSettingsUpdate, TurnRestInput, VoiceSettingsView,
        IceServerView, TurnRestView, ClientInfo, VisitorChat, SiteVisitor, MonitorChange, MonitorDelta,
        AutoInvitations, AutoInvitationRule, SetNameRequest, SmtpSecurity, MailSettingsInput,
        MailSettingsView, MailTestRequest, MailTestResult, MailInfo, MailState, OfflineReplyRequest,
        OfflineReadRequest, ReportPeriod, ReportQuery, ReportChatsQuery, ReportCounts, ReportFigure, ReportBucket, Durations,
        OperatorFigures, Report, ReportChat, ReportChatsPage, PushDelivery, PushDeliveryAttempt,
        ReportTable,
    );
    format!(
        "// Generated from shared/src/lib.rs by shared/tests/bindings.rs. Do not edit.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p switchboard-shared --features ts --test bindings\n\n\
         export const PROTOCOL_VERSION = {PROTOCOL_VERSION};\n\
         export const MAX_MESSAGE_CHARS = {MAX_MESSAGE_CHARS};\n\
         export const MAX_FRAME_BYTES = {MAX_FRAME_BYTES};\n\
         export const MAX_REPORT_DAYS = {MAX_REPORT_DAYS};\n\n{body}"
    )
}

#[test]
fn typescript_bindings_are_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bindings/protocol.ts");
    let regenerate = "cargo test -p switchboard-shared --features ts --test bindings";
    ts::up_to_date(&path, &generate(), regenerate).unwrap();
}
