//! The Site Monitor: who is on the website now, streamed to the operators who look at it.
//!
//! An operator's app sends `monitor_subscribe` when the Site Monitor is on screen and
//! `monitor_unsubscribe` when it leaves it (a phone on mobile data is not sent a busy site's
//! traffic it does not show). The server answers a subscription with a `monitor_snapshot`
//! (every visitor on the site, at a `seq`), then `monitor_deltas` batches (at most one every
//! 25 ms) of changes, each with its own `seq`, increasing. A client that reconnects subscribes
//! with the last `seq` it applied: it gets exactly the deltas it missed when the server still
//! has them, else a fresh snapshot. A delta whose `seq` is not above the client's is one it
//! already has (in its snapshot) and is skipped.

use serde::{Deserialize, Serialize};

use crate::{ChatId, OperatorRef, Page, VisitorId};

/// Most visitors (or deltas) one monitor frame carries, so a busy site's snapshot goes out in
/// frames of a few dozen KB.
pub const MONITOR_FRAME_VISITORS: usize = 100;

/// Longest referrer, search terms or language the widget may report (longer ones are cut).
pub const MAX_CLIENT_TEXT_CHARS: usize = 300;

/// What the widget tells about the visitor's browser in its `hello` (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClientInfo {
    /// The page the visitor came from (`document.referrer`), when another site.
    #[serde(default)]
    pub referrer: Option<String>,
    /// The browser's language (`navigator.language`).
    #[serde(default)]
    pub language: Option<String>,
    /// The visitor's clock: minutes east of UTC (minus `Date.getTimezoneOffset()`).
    #[serde(default)]
    pub utc_offset_min: Option<i32>,
    /// The browser's `navigator.userAgent`, read into browser and system names.
    #[serde(default)]
    pub user_agent: Option<String>,
}

/// Where a visitor on the site stands with chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VisitorChat {
    /// Never asked, or nothing open.
    None,
    /// An operator invited them to chat; no answer yet.
    Invited {
        /// The chat the invitation opened.
        chat_id: ChatId,
        /// Who invited.
        operator: OperatorRef,
    },
    /// They asked for a chat and the operators' devices ring.
    Ringing {
        /// The chat.
        chat_id: ChatId,
    },
    /// Their chat waits in the Communication Queue.
    Queued {
        /// The chat.
        chat_id: ChatId,
    },
    /// Talking with an operator (or on hold).
    Chatting {
        /// The chat.
        chat_id: ChatId,
        /// With whom.
        operator: OperatorRef,
    },
    /// Their last chat of this visit ended.
    Ended {
        /// The chat.
        chat_id: ChatId,
    },
}

/// A visitor on the site now, as the Site Monitor lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteVisitor {
    /// The visitor.
    pub id: VisitorId,
    /// The name they gave in a chat, if any.
    pub name: Option<String>,
    /// The page they are on.
    pub page: Page,
    /// Where they came from (another site's address), when known.
    pub referrer: Option<String>,
    /// What they searched for, when they came from a search engine that says.
    pub search_terms: Option<String>,
    /// When this visit began (unix ms).
    pub arrived_at: i64,
    /// When they opened the page they are on (unix ms).
    pub page_since: i64,
    /// Their visits to the site, this one included.
    pub visits: u32,
    /// Pages seen in this visit.
    pub pages: u32,
    /// Their browser ("Firefox 121"), when it could be told.
    pub browser: Option<String>,
    /// Their system ("Windows", "Android"), when it could be told.
    pub os: Option<String>,
    /// Their browser's language ("de-DE").
    pub language: Option<String>,
    /// Their clock: minutes east of UTC.
    pub utc_offset_min: Option<i32>,
    /// Where they stand with chat.
    pub chat: VisitorChat,
}

impl SiteVisitor {
    /// Applies a change about this visitor: a `Page` or `Chat` change whose `id` is theirs.
    /// `Joined` and `Left` add and remove visitors, the list's business, and change nothing
    /// here. Says whether anything was applied.
    pub fn apply(&mut self, change: &MonitorChange) -> bool {
        match change {
            MonitorChange::Page {
                id,
                page,
                page_since,
                pages,
            } if *id == self.id => {
                self.page = page.clone();
                self.page_since = *page_since;
                self.pages = *pages;
                true
            }
            MonitorChange::Chat { id, name, chat } if *id == self.id => {
                self.name = name.clone();
                self.chat = chat.clone();
                true
            }
            _ => false,
        }
    }
}

/// One change to the visitors on the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MonitorChange {
    /// A visitor arrived on the site.
    Joined {
        /// The visitor.
        visitor: SiteVisitor,
    },
    /// A visitor opened another page.
    Page {
        /// The visitor.
        id: VisitorId,
        /// The page.
        page: Page,
        /// When (unix ms).
        page_since: i64,
        /// Pages seen in this visit now.
        pages: u32,
    },
    /// A visitor's chat state changed (or they gave their name).
    Chat {
        /// The visitor.
        id: VisitorId,
        /// Their name now.
        name: Option<String>,
        /// Where they stand now.
        chat: VisitorChat,
    },
    /// A visitor left the site (their last tab closed, and did not come back within the grace
    /// period).
    Left {
        /// The visitor.
        id: VisitorId,
    },
}

/// A change with its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonitorDelta {
    /// Its `seq` in the monitor stream (increasing; not a chat event's).
    pub seq: i64,
    /// The change.
    pub change: MonitorChange,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OperatorId;

    #[test]
    fn deltas_round_trip_with_their_tags() {
        let delta = MonitorDelta {
            seq: 9,
            change: MonitorChange::Chat {
                id: VisitorId(4),
                name: Some("Ann".into()),
                chat: VisitorChat::Chatting {
                    chat_id: ChatId(2),
                    operator: OperatorRef {
                        id: OperatorId(1),
                        name: "Olga".into(),
                    },
                },
            },
        };
        let json = serde_json::to_string(&delta).unwrap();
        assert_eq!(
            json,
            r#"{"seq":9,"change":{"kind":"chat","id":4,"name":"Ann","chat":{"state":"chatting","chat_id":2,"operator":{"id":1,"name":"Olga"}}}}"#
        );
        assert_eq!(serde_json::from_str::<MonitorDelta>(&json).unwrap(), delta);
        // A hello without client info is still a hello.
        let info: ClientInfo = serde_json::from_str("{}").unwrap();
        assert_eq!(info, ClientInfo::default());
    }

    #[test]
    fn a_visitor_takes_only_its_own_page_and_chat_changes() {
        let page = |url: &str| Page {
            url: url.into(),
            title: None,
        };
        let mut v = SiteVisitor {
            id: VisitorId(4),
            name: None,
            page: page("/"),
            referrer: None,
            search_terms: None,
            arrived_at: 1,
            page_since: 1,
            visits: 1,
            pages: 1,
            browser: None,
            os: None,
            language: None,
            utc_offset_min: None,
            chat: VisitorChat::None,
        };
        let before = v.clone();
        let someone_else = MonitorChange::Page {
            id: VisitorId(5),
            page: page("/pricing"),
            page_since: 9,
            pages: 2,
        };
        assert!(!v.apply(&someone_else));
        assert!(!v.apply(&MonitorChange::Left { id: VisitorId(4) }));
        assert_eq!(v, before);

        assert!(v.apply(&MonitorChange::Page {
            id: VisitorId(4),
            page: page("/pricing"),
            page_since: 9,
            pages: 2,
        }));
        assert_eq!(
            (v.page.url.as_str(), v.page_since, v.pages),
            ("/pricing", 9, 2)
        );
        let chatting = VisitorChat::Chatting {
            chat_id: ChatId(2),
            operator: OperatorRef {
                id: OperatorId(1),
                name: "Olga".into(),
            },
        };
        assert!(v.apply(&MonitorChange::Chat {
            id: VisitorId(4),
            name: Some("Ann".into()),
            chat: chatting.clone(),
        }));
        assert_eq!((v.name.as_deref(), &v.chat), (Some("Ann"), &chatting));
    }
}
