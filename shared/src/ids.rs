//! Ids: every stored thing is named by an integer id (`i64` in Rust and SQL, `number` in
//! TypeScript), wrapped in its own type so a chat id cannot be passed where an operator id is
//! meant. On the wire an id is the bare number.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "number"))]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A chat, from request to end.
    ChatId
);
id_type!(
    /// An operator (admins are operators with settings rights).
    OperatorId
);
id_type!(
    /// A visitor, as remembered by the widget's visitor token.
    VisitorId
);
id_type!(
    /// A message left when nobody could answer.
    OfflineMessageId
);
id_type!(
    /// A canned message.
    CannedId
);
id_type!(
    /// An operator's push device (one APNs or FCM token).
    DeviceId
);
