//! The Site Monitor as the app knows it: the visitors on the site now, folded from the
//! server's `monitor_snapshot` frames and `monitor_deltas` (see `shared/src/monitor.rs`).
//!
//! Invariants:
//! - A snapshot's `first` frame replaces the list, the next ones add to it; until its
//!   `complete` frame the model is `loading` and has no `seq` to resume from (a snapshot cut
//!   short by a drop would otherwise leave its missing visitors missing for good).
//! - A delta whose `seq` is not above the model's is one it already holds: skipped. So a
//!   resume that overlaps what was applied changes nothing twice.
//! - The model is not part of [`crate::ui::UiSnapshot`] (a busy site has thousands of
//!   visitors): the UI gets a [`MonitorView`] of its own, at most a few times a second.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use switchboard_shared::{
    MonitorChange, MonitorDelta, OperatorServerMsg, SiteVisitor, VisitorChat, VisitorId,
};

/// The visitors on the site, as the stream has told them.
#[derive(Debug, Clone, Default)]
pub struct SiteMonitor {
    visitors: HashMap<VisitorId, SiteVisitor>,
    /// The stream's position: the snapshot's, then each applied delta's.
    seq: Option<i64>,
    /// A snapshot's frames are arriving (between `first` and `complete`).
    loading: bool,
}

/// What the Visitors List shows: the counts and every visitor, longest on the site first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonitorView {
    /// Visitors on the site now.
    pub on_site: u32,
    /// Of them, talking with an operator.
    pub chatting: u32,
    /// Of them, waiting for an operator (ringing or in the Communication Queue).
    pub waiting: u32,
    /// The first snapshot has not fully arrived yet (the list may be partial or empty).
    pub loading: bool,
    /// The visitors, longest on the site first.
    pub visitors: Vec<SiteVisitor>,
}

impl SiteMonitor {
    /// An empty monitor (nothing received yet).
    pub fn new() -> SiteMonitor {
        SiteMonitor::default()
    }

    /// The `seq` to resume from: the last one applied, once a snapshot is complete.
    pub fn resume_seq(&self) -> Option<i64> {
        if self.loading { None } else { self.seq }
    }

    /// A snapshot is arriving, or none has yet.
    pub fn loading(&self) -> bool {
        self.loading || self.seq.is_none()
    }

    /// Visitors on the site.
    pub fn len(&self) -> usize {
        self.visitors.len()
    }

    /// Nobody on the site (or nothing received yet).
    pub fn is_empty(&self) -> bool {
        self.visitors.is_empty()
    }

    /// One visitor, when on the site.
    pub fn get(&self, id: VisitorId) -> Option<&SiteVisitor> {
        self.visitors.get(&id)
    }

    /// Applies a frame; true when it was a monitor frame that changed something.
    pub fn apply(&mut self, msg: &OperatorServerMsg) -> bool {
        match msg {
            OperatorServerMsg::MonitorSnapshot {
                seq,
                first,
                complete,
                visitors,
            } => {
                if *first {
                    self.visitors.clear();
                }
                self.visitors
                    .extend(visitors.iter().map(|v| (v.id, v.clone())));
                self.seq = Some(*seq);
                self.loading = !*complete;
                true
            }
            OperatorServerMsg::MonitorDeltas { deltas } => {
                let mut changed = false;
                for d in deltas {
                    changed |= self.apply_delta(d);
                }
                changed
            }
            _ => false,
        }
    }

    fn apply_delta(&mut self, d: &MonitorDelta) -> bool {
        if self.seq.is_some_and(|s| d.seq <= s) {
            return false; // already held (in the snapshot, or applied before a resume)
        }
        self.seq = Some(d.seq);
        match &d.change {
            MonitorChange::Joined { visitor } => {
                self.visitors.insert(visitor.id, visitor.clone());
            }
            MonitorChange::Page { id, .. } | MonitorChange::Chat { id, .. } => {
                if let Some(v) = self.visitors.get_mut(id) {
                    v.apply(&d.change);
                }
            }
            MonitorChange::Left { id } => {
                self.visitors.remove(id);
            }
        }
        true
    }

    /// The view the UI renders.
    pub fn view(&self) -> MonitorView {
        let mut visitors: Vec<SiteVisitor> = self.visitors.values().cloned().collect();
        visitors.sort_by_key(|v| (v.arrived_at, v.id.0));
        let count = |f: fn(&VisitorChat) -> bool| visitors.iter().filter(|v| f(&v.chat)).count();
        MonitorView {
            on_site: visitors.len() as u32,
            chatting: count(|c| matches!(c, VisitorChat::Chatting { .. })) as u32,
            waiting: count(|c| {
                matches!(c, VisitorChat::Ringing { .. } | VisitorChat::Queued { .. })
            }) as u32,
            loading: self.loading(),
            visitors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::{ChatId, OperatorId, OperatorRef, Page};

    fn visitor(id: i64) -> SiteVisitor {
        SiteVisitor {
            id: VisitorId(id),
            name: None,
            page: Page {
                url: format!("https://shop.example/{id}"),
                title: Some(format!("Page {id}")),
            },
            referrer: None,
            search_terms: None,
            arrived_at: 1_000 + id,
            page_since: 1_000 + id,
            visits: 1,
            pages: 1,
            browser: None,
            os: None,
            language: None,
            utc_offset_min: None,
            chat: VisitorChat::None,
        }
    }

    fn frame(
        seq: i64,
        first: bool,
        complete: bool,
        ids: std::ops::Range<i64>,
    ) -> OperatorServerMsg {
        OperatorServerMsg::MonitorSnapshot {
            seq,
            first,
            complete,
            visitors: ids.map(visitor).collect(),
        }
    }

    fn deltas(list: Vec<(i64, MonitorChange)>) -> OperatorServerMsg {
        OperatorServerMsg::MonitorDeltas {
            deltas: list
                .into_iter()
                .map(|(seq, change)| MonitorDelta { seq, change })
                .collect(),
        }
    }

    fn ids(m: &SiteMonitor) -> Vec<i64> {
        m.view().visitors.iter().map(|v| v.id.0).collect()
    }

    #[test]
    fn a_snapshot_in_three_frames_is_loading_until_complete() {
        let mut m = SiteMonitor::new();
        assert!(m.loading() && m.resume_seq().is_none());
        assert!(m.apply(&frame(10, true, false, 0..100)));
        assert!(m.apply(&frame(10, false, false, 100..200)));
        assert!(
            m.loading() && m.resume_seq().is_none(),
            "no resume from half a snapshot"
        );
        assert!(m.apply(&frame(10, false, true, 200..250)));
        assert!(!m.loading());
        assert_eq!(m.resume_seq(), Some(10));
        assert_eq!(
            ids(&m),
            (0..250).collect::<Vec<_>>(),
            "longest on the site first"
        );
        // A new snapshot replaces the list.
        m.apply(&frame(20, true, true, 5..7));
        assert_eq!(ids(&m), vec![5, 6]);
    }

    #[test]
    fn deltas_apply_in_order_and_old_or_repeated_ones_are_skipped() {
        let mut m = SiteMonitor::new();
        m.apply(&frame(10, true, true, 1..3));
        let olga = OperatorRef {
            id: OperatorId(1),
            name: "Olga".into(),
        };
        let page = Page {
            url: "https://shop.example/kettles".into(),
            title: Some("Kettles".into()),
        };
        let batch = vec![
            (9, MonitorChange::Left { id: VisitorId(1) }), // before the snapshot: held already
            (
                11,
                MonitorChange::Joined {
                    visitor: visitor(3),
                },
            ),
            (
                12,
                MonitorChange::Page {
                    id: VisitorId(2),
                    page: page.clone(),
                    page_since: 5_000,
                    pages: 2,
                },
            ),
            (
                13,
                MonitorChange::Chat {
                    id: VisitorId(2),
                    name: Some("Ann".into()),
                    chat: VisitorChat::Ringing { chat_id: ChatId(7) },
                },
            ),
        ];
        assert!(m.apply(&deltas(batch.clone())));
        assert_eq!(ids(&m), vec![1, 2, 3]);
        let ann = m.get(VisitorId(2)).unwrap();
        assert_eq!((&ann.page, ann.page_since, ann.pages), (&page, 5_000, 2));
        assert_eq!(ann.name.as_deref(), Some("Ann"));
        let v = m.view();
        assert_eq!((v.on_site, v.waiting, v.chatting), (3, 1, 0));

        // The same batch again (a resume overlapping live delivery) changes nothing.
        let before = m.view();
        assert!(!m.apply(&deltas(batch)));
        assert_eq!(m.view(), before);
        assert_eq!(m.resume_seq(), Some(13));

        m.apply(&deltas(vec![
            (
                14,
                MonitorChange::Chat {
                    id: VisitorId(2),
                    name: Some("Ann".into()),
                    chat: VisitorChat::Chatting {
                        chat_id: ChatId(7),
                        operator: olga,
                    },
                },
            ),
            (15, MonitorChange::Left { id: VisitorId(1) }),
        ]));
        let v = m.view();
        assert_eq!(ids(&m), vec![2, 3], "left removes");
        assert_eq!((v.on_site, v.waiting, v.chatting), (2, 0, 1));
    }

    #[test]
    fn a_resume_keeps_the_seq_and_takes_what_was_missed() {
        let mut m = SiteMonitor::new();
        m.apply(&frame(10, true, true, 1..3));
        m.apply(&deltas(vec![(
            11,
            MonitorChange::Joined {
                visitor: visitor(3),
            },
        )]));
        // Unsubscribed or dropped: nothing resets; the resume gives deltas after 11.
        assert_eq!(m.resume_seq(), Some(11));
        m.apply(&deltas(vec![
            (
                11,
                MonitorChange::Joined {
                    visitor: visitor(3),
                },
            ),
            (12, MonitorChange::Left { id: VisitorId(1) }),
        ]));
        assert_eq!(ids(&m), vec![2, 3]);
        assert_eq!(m.resume_seq(), Some(12));
        // Or, when the server no longer has them, a fresh snapshot at a new seq.
        m.apply(&frame(900, true, true, 3..4));
        assert_eq!((ids(&m), m.resume_seq()), (vec![3], Some(900)));
    }

    #[test]
    fn ten_thousand_visitors_make_one_view() {
        let mut m = SiteMonitor::new();
        for (i, start) in (0..10_000).step_by(100).enumerate() {
            m.apply(&frame(1, i == 0, start + 100 == 10_000, start..start + 100));
        }
        let started = std::time::Instant::now();
        let view = m.view();
        let json = serde_json::to_string(&view).unwrap();
        eprintln!(
            "10,000 visitors: view + JSON in {:?}, {} KB",
            started.elapsed(),
            json.len() / 1024
        );
        assert_eq!(view.on_site, 10_000);
        assert_eq!(view.visitors.last().unwrap().id, VisitorId(9_999));
    }
}
