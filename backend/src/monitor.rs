//! The Site Monitor's live visitor set: who is on the website now, kept in memory on this node
//! (the persistent profile — visits, pages, chats — is in the store), and streamed to the
//! operators who look at it as a snapshot, then deltas batched every 25 ms (at most one
//! batch a tick).
//!
//! A widget's connection makes its visitor present ([`Monitor::arrive`] gives a [`Presence`]
//! guard); its page views, and every chat event about them (through the hub), change the
//! visitor; when the visitor's last connection closes they stay listed for the grace period
//! (a page change or reload reconnects within it) and then leave. Every change is a
//! [`MonitorDelta`] with the next `seq`; the flusher ([`Monitor::run`]) sends the changes of
//! each tick to every subscriber as one batch and keeps the recent ones, so an operator who
//! reconnects gets exactly what it missed, or a fresh snapshot when that is gone.
//!
//! With several nodes ([`crate::cluster`]) each node tells the others of its own visitors'
//! arrivals, pages and departures ([`Monitor::relay_to`]) and lists theirs beside its own
//! ([`Monitor::remote`]): a visitor is on the site while a widget of theirs is open on any
//! node. Chat states are not relayed: every node sees every chat event.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use switchboard_shared::{
    ChatStatus, ChatSummary, ClientInfo, MAX_CLIENT_TEXT_CHARS, MONITOR_FRAME_VISITORS,
    MonitorChange, MonitorDelta, OperatorServerMsg, Page, SiteVisitor, VisitorChat, VisitorId,
};
use tokio::sync::{broadcast, mpsc};

use crate::store::now_ms;
use crate::validate::page_text;

/// How often changes go out: well within the 250 ms a batch may wait, so the stream stays
/// tens of milliseconds behind the site; a quiet site sends nothing (an empty tick is a lock
/// and a check).
pub const TICK: Duration = Duration::from_millis(25);
/// Deltas kept for operators who reconnect (at 10,000 visitors changing page every 30 s, about
/// a minute's worth).
const RECENT: usize = 20_000;
/// Batches a subscriber may fall behind before it is given a fresh snapshot instead.
const BACKLOG: usize = 64;

/// A batch of changes, shared by every subscriber.
pub type Batch = Arc<Vec<MonitorDelta>>;

/// The live visitor set (cheap to clone).
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Shared>,
}

struct Shared {
    live: Mutex<Live>,
    batches: broadcast::Sender<Batch>,
    grace_ms: i64,
    /// The cluster bus, when there is one: this node's own visitors' arrivals, pages and
    /// departures go to the other nodes.
    relay: std::sync::OnceLock<mpsc::UnboundedSender<MonitorChange>>,
}

#[derive(Default)]
struct Live {
    /// Boxed: a visitor is ~300 bytes, and a table that doubles holds room for as many again.
    visitors: HashMap<VisitorId, Box<Present>>,
    /// Visitors whose last connection closed, with when they leave (set by the first tick
    /// after they went).
    leaving: HashMap<VisitorId, Option<i64>>,
    seq: i64,
    /// The last batches sent, for resumes: at least [`RECENT`] deltas when there were as
    /// many. The batches themselves, shared with the subscribers: copies of their deltas
    /// would hold every visitor who arrived lately twice (`joined` carries the whole visitor).
    recent: VecDeque<Batch>,
    /// How many deltas `recent` holds.
    recent_deltas: usize,
    /// Changes not sent yet.
    pending: Vec<MonitorDelta>,
}

struct Present {
    view: SiteVisitor,
    /// Widgets open on this node.
    connections: u32,
    /// Other nodes where a widget of theirs is open (a cluster).
    elsewhere: HashSet<u64>,
    /// An automatic invitation went to them in this visit (at most one a visit).
    auto_invited: bool,
}

impl Live {
    fn push(&mut self, change: MonitorChange) {
        self.seq += 1;
        self.pending.push(MonitorDelta {
            seq: self.seq,
            change,
        });
    }

    /// The visitor's widgets on `node` are closed: they leave when none is open anywhere.
    fn gone_from(&mut self, id: VisitorId, node: u64) {
        let Some(present) = self.visitors.get_mut(&id) else {
            return;
        };
        present.elsewhere.remove(&node);
        if present.elsewhere.is_empty()
            && present.connections == 0
            && !self.leaving.contains_key(&id)
        {
            self.visitors.remove(&id);
            self.push(MonitorChange::Left { id });
        }
    }
}

/// What a widget's connection tells of its visitor when it opens.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// The visitor.
    pub id: VisitorId,
    /// The page the widget runs on.
    pub page: Option<Page>,
    /// What the browser said about itself.
    pub client: ClientInfo,
    /// Visits so far, this one included.
    pub visits: u32,
    /// The visitor's latest chat.
    pub chat: Option<ChatSummary>,
}

/// Keeps a visitor present while a connection of theirs is open.
pub struct Presence {
    monitor: Monitor,
    id: VisitorId,
}

impl Drop for Presence {
    fn drop(&mut self) {
        self.monitor.depart(self.id);
    }
}

/// An operator's subscription: the frames to send first, then the batches.
pub struct Subscription {
    queue: VecDeque<OperatorServerMsg>,
    batches: broadcast::Receiver<Batch>,
    /// The last `seq` this subscriber was given.
    seq: i64,
}

impl Monitor {
    /// An empty set; visitors leave `grace` after their last connection closes. The stream's
    /// `seq` starts at a random place below 2⁵² (a JavaScript number counts exactly to 2⁵³),
    /// so an operator's `seq` from an earlier run, or from another node of a cluster (each
    /// node has its own stream), is all but never taken for this one's: it gets a snapshot.
    pub fn new(grace: Duration) -> Monitor {
        let (batches, _) = broadcast::channel(BACKLOG);
        let live = Live {
            seq: rand::random_range(0..1_i64 << 52),
            ..Live::default()
        };
        Monitor {
            inner: Arc::new(Shared {
                live: Mutex::new(live),
                batches,
                grace_ms: i64::try_from(grace.as_millis()).unwrap_or(i64::MAX),
                relay: std::sync::OnceLock::new(),
            }),
        }
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        self.inner
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A widget's connection opened: the visitor is on the site (a new arrival, or back
    /// within the grace period on another page or tab).
    pub fn arrive(&self, arrival: Arrival, now: i64) -> Presence {
        let mut live = self.live();
        let came_back = live.leaving.remove(&arrival.id).is_some();
        let change = match live.visitors.get_mut(&arrival.id) {
            Some(present) => {
                present.connections += 1;
                if present.connections == 1 && !came_back {
                    // Listed for another node's widget so far: now here too.
                    self.relay(MonitorChange::Joined {
                        visitor: present.view.clone(),
                    });
                }
                arrival
                    .page
                    .filter(|p| p.url != present.view.page.url)
                    .map(|page| viewed(&mut present.view, page, now))
            }
            None => {
                let view = site_visitor(&arrival, now);
                live.visitors.insert(
                    arrival.id,
                    Box::new(Present {
                        view: view.clone(),
                        connections: 1,
                        elsewhere: HashSet::new(),
                        auto_invited: false,
                    }),
                );
                Some(MonitorChange::Joined { visitor: view })
            }
        };
        if let Some(change) = change {
            self.relay(change.clone());
            live.push(change);
        }
        Presence {
            monitor: self.clone(),
            id: arrival.id,
        }
    }

    /// The visitor opened another page (a page view on an open connection).
    pub fn page(&self, id: VisitorId, page: Page, now: i64) {
        let mut live = self.live();
        let Some(present) = live.visitors.get_mut(&id) else {
            return;
        };
        let change = viewed(&mut present.view, page, now);
        self.relay(change.clone());
        live.push(change);
    }

    /// Sends this node's own visitors' arrivals, pages and departures to the other nodes
    /// through `bus` (see [`crate::cluster`]); set once, at start.
    pub fn relay_to(&self, bus: mpsc::UnboundedSender<MonitorChange>) {
        let _ = self.inner.relay.set(bus);
    }

    fn relay(&self, change: MonitorChange) {
        if let Some(bus) = self.inner.relay.get() {
            let _ = bus.send(change);
        }
    }

    /// The visitors with a widget open on this node, as each is now (for a node that just
    /// joined the cluster).
    pub fn here(&self) -> Vec<SiteVisitor> {
        let live = self.live();
        live.visitors
            .iter()
            .filter(|(id, p)| p.connections > 0 || live.leaving.contains_key(id))
            .map(|(_, p)| p.view.clone())
            .collect()
    }

    /// What `node` said of its own visitors: they are listed here too, while a widget of
    /// theirs is open there. (Chat changes are not taken: this node sees the chat events.)
    pub fn remote(&self, node: u64, change: MonitorChange) {
        let mut live = self.live();
        match change {
            MonitorChange::Joined { visitor } => match live.visitors.get_mut(&visitor.id) {
                Some(present) => {
                    present.elsewhere.insert(node);
                }
                None => {
                    let id = visitor.id;
                    live.visitors.insert(
                        id,
                        Box::new(Present {
                            view: visitor.clone(),
                            connections: 0,
                            elsewhere: HashSet::from([node]),
                            auto_invited: false,
                        }),
                    );
                    live.push(MonitorChange::Joined { visitor });
                }
            },
            MonitorChange::Page { id, .. } => {
                let Some(present) = live.visitors.get_mut(&id) else {
                    return;
                };
                present.view.apply(&change);
                live.push(change);
            }
            MonitorChange::Left { id } => live.gone_from(id, node),
            MonitorChange::Chat { .. } => {}
        }
    }

    /// `node` is gone (not heard of lately): its visitors are no longer on the site unless a
    /// widget of theirs is open elsewhere.
    pub fn forget_node(&self, node: u64) {
        let mut live = self.live();
        let theirs: Vec<VisitorId> = live
            .visitors
            .iter()
            .filter(|(_, p)| p.elsewhere.contains(&node))
            .map(|(id, _)| *id)
            .collect();
        for id in theirs {
            live.gone_from(id, node);
        }
    }

    fn depart(&self, id: VisitorId) {
        let mut live = self.live();
        let Some(present) = live.visitors.get_mut(&id) else {
            return;
        };
        present.connections = present.connections.saturating_sub(1);
        if present.connections == 0 {
            live.leaving.insert(id, None);
        }
    }

    /// A chat changed (every committed chat event passes here): the visitor's chat state.
    pub fn chat_changed(&self, chat: &ChatSummary) {
        let mut live = self.live();
        let Some(present) = live.visitors.get_mut(&chat.visitor_id) else {
            return;
        };
        let state = chat_state(chat);
        let name = chat.visitor_name.clone().or(present.view.name.clone());
        if present.view.chat == state && present.view.name == name {
            return;
        }
        present.view.chat = state.clone();
        present.view.name = name.clone();
        live.push(MonitorChange::Chat {
            id: chat.visitor_id,
            name,
            chat: state,
        });
    }

    /// The page a visitor on the site is on; `None` when they are not on the site.
    pub fn page_of(&self, id: VisitorId) -> Option<Page> {
        self.live().visitors.get(&id).map(|p| p.view.page.clone())
    }

    /// Visitors an automatic invitation may go to now (on the site, with no chat or invitation
    /// open, and none sent automatically in this visit), each with what `pick` makes of them;
    /// those it picks nothing for are skipped without a copy.
    pub fn auto_candidates<T>(
        &self,
        mut pick: impl FnMut(&SiteVisitor) -> Option<T>,
    ) -> Vec<(SiteVisitor, T)> {
        self.live()
            .visitors
            .values()
            .filter(|p| {
                !p.auto_invited
                    && p.connections > 0
                    && matches!(p.view.chat, VisitorChat::None | VisitorChat::Ended { .. })
            })
            .filter_map(|p| pick(&p.view).map(|t| (p.view.clone(), t)))
            .collect()
    }

    /// Marks that an automatic invitation went to the visitor in this visit.
    pub fn mark_auto_invited(&self, id: VisitorId) {
        if let Some(p) = self.live().visitors.get_mut(&id) {
            p.auto_invited = true;
        }
    }

    /// How many visitors are on the site now.
    pub fn len(&self) -> usize {
        self.live().visitors.len()
    }

    /// Whether nobody is on the site.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One tick: visitors past their grace period leave, and the changes since the last tick
    /// go to every subscriber as one batch.
    pub fn tick(&self, now: i64) {
        let mut live = self.live();
        if !live.leaving.is_empty() {
            let leave_at = now.saturating_add(self.inner.grace_ms);
            let mut gone = Vec::new();
            for (&id, at) in live.leaving.iter_mut() {
                match at {
                    Some(at) if *at <= now => gone.push(id),
                    Some(_) => {}
                    None => *at = Some(leave_at),
                }
            }
            for id in gone {
                live.leaving.remove(&id);
                // Gone from this node; still on the site while a widget is open elsewhere.
                self.relay(MonitorChange::Left { id });
                if live
                    .visitors
                    .get(&id)
                    .is_some_and(|p| p.elsewhere.is_empty())
                {
                    live.visitors.remove(&id);
                    live.push(MonitorChange::Left { id });
                }
            }
        }
        if live.pending.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut live.pending);
        batch.shrink_to_fit();
        let batch = Arc::new(batch);
        live.recent_deltas += batch.len();
        live.recent.push_back(batch.clone());
        // The oldest batch goes once the others hold enough.
        while let Some(oldest) = live.recent.front()
            && live.recent_deltas - oldest.len() >= RECENT
        {
            live.recent_deltas -= oldest.len();
            live.recent.pop_front();
        }
        // No subscriber is not an error: the batch is kept in `recent` all the same.
        let _ = self.inner.batches.send(batch);
    }

    /// Starts the ticks; they stop when the monitor is dropped with the server's state.
    pub fn start(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(TICK);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                Monitor { inner }.tick(now_ms());
            }
        });
    }

    /// Starts an operator's stream: what it missed after `last_seq` when this node still has
    /// it all, else a snapshot; then the batches.
    pub fn subscribe(&self, last_seq: Option<i64>) -> Subscription {
        let live = self.live();
        // Subscribed under the lock: no batch is sent between the snapshot and the receiver.
        let batches = self.inner.batches.subscribe();
        let sent = live.seq - i64::try_from(live.pending.len()).unwrap_or(0);
        let oldest = live.recent.front().and_then(|b| b.first()).map(|d| d.seq);
        let resumable = last_seq.filter(|&last| {
            last <= sent && (last == sent || oldest.is_some_and(|seq| seq <= last + 1))
        });
        let mut queue = VecDeque::new();
        let seq = match resumable {
            Some(last) => {
                let missed: Vec<MonitorDelta> = live
                    .recent
                    .iter()
                    .flat_map(|batch| batch.iter())
                    .filter(|d| d.seq > last)
                    .cloned()
                    .collect();
                deltas_frames(&missed, &mut queue);
                sent
            }
            None => {
                snapshot_frames(&live, &mut queue);
                // The snapshot has the pending changes in it: their batch is skipped.
                live.seq
            }
        };
        Subscription {
            queue,
            batches,
            seq,
        }
    }
}

impl Subscription {
    /// The next frame for the operator (waits for the next batch).
    pub async fn next(&mut self, monitor: &Monitor) -> OperatorServerMsg {
        loop {
            if let Some(frame) = self.queue.pop_front() {
                return frame;
            }
            match self.batches.recv().await {
                Ok(batch) => {
                    let new: Vec<MonitorDelta> =
                        batch.iter().filter(|d| d.seq > self.seq).cloned().collect();
                    if let Some(last) = new.last() {
                        self.seq = last.seq;
                        deltas_frames(&new, &mut self.queue);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Too far behind for the batches: start again from a snapshot.
                    let fresh = monitor.subscribe(None);
                    *self = fresh;
                }
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    }
}

fn deltas_frames(deltas: &[MonitorDelta], queue: &mut VecDeque<OperatorServerMsg>) {
    for chunk in deltas.chunks(MONITOR_FRAME_VISITORS) {
        queue.push_back(OperatorServerMsg::MonitorDeltas {
            deltas: chunk.to_vec(),
        });
    }
}

fn snapshot_frames(live: &Live, queue: &mut VecDeque<OperatorServerMsg>) {
    let mut visitors: Vec<&SiteVisitor> = live.visitors.values().map(|p| &p.view).collect();
    visitors.sort_by_key(|v| (v.arrived_at, v.id.0));
    let chunks: Vec<&[&SiteVisitor]> = visitors.chunks(MONITOR_FRAME_VISITORS).collect();
    let count = chunks.len().max(1);
    for i in 0..count {
        let part = chunks.get(i).copied().unwrap_or(&[]);
        queue.push_back(OperatorServerMsg::MonitorSnapshot {
            seq: live.seq,
            first: i == 0,
            complete: i + 1 == count,
            visitors: part.iter().map(|v| (*v).clone()).collect(),
        });
    }
}

/// The visitor is on `page` now: the change that says so.
fn viewed(view: &mut SiteVisitor, page: Page, now: i64) -> MonitorChange {
    view.page = page.clone();
    view.page_since = now;
    view.pages = view.pages.saturating_add(1);
    MonitorChange::Page {
        id: view.id,
        page,
        page_since: now,
        pages: view.pages,
    }
}

fn site_visitor(arrival: &Arrival, now: i64) -> SiteVisitor {
    let client = &arrival.client;
    let short = |s: &Option<String>| {
        s.as_deref()
            .map(|s| page_text(s, MAX_CLIENT_TEXT_CHARS))
            .filter(|s| !s.is_empty())
    };
    let referrer = short(&client.referrer);
    let (browser, os) = client
        .user_agent
        .as_deref()
        .map(user_agent)
        .unwrap_or_default();
    // A chat that ended before this visit is not news on the monitor.
    let chat = arrival
        .chat
        .as_ref()
        .map(chat_state)
        .filter(|c| !matches!(c, VisitorChat::Ended { .. }))
        .unwrap_or(VisitorChat::None);
    SiteVisitor {
        id: arrival.id,
        name: arrival.chat.as_ref().and_then(|c| c.visitor_name.clone()),
        page: arrival.page.clone().unwrap_or(Page {
            url: String::new(),
            title: None,
        }),
        search_terms: referrer.as_deref().and_then(search_terms),
        referrer,
        arrived_at: now,
        page_since: now,
        visits: arrival.visits.max(1),
        pages: u32::from(arrival.page.is_some()),
        browser,
        os,
        language: short(&client.language).map(|l| l.chars().take(35).collect()),
        utc_offset_min: client.utc_offset_min.filter(|m| m.abs() <= 14 * 60),
        chat,
    }
}

/// Where a chat puts its visitor.
fn chat_state(chat: &ChatSummary) -> VisitorChat {
    let chat_id = chat.id;
    match (chat.status, &chat.operator) {
        (ChatStatus::Invited, Some(operator)) => VisitorChat::Invited {
            chat_id,
            operator: operator.clone(),
        },
        (ChatStatus::Invited, None) => VisitorChat::None,
        (ChatStatus::Waiting, _) => VisitorChat::Ringing { chat_id },
        (ChatStatus::Queued, _) => VisitorChat::Queued { chat_id },
        (ChatStatus::Active | ChatStatus::OnHold, Some(operator)) => VisitorChat::Chatting {
            chat_id,
            operator: operator.clone(),
        },
        (ChatStatus::Active | ChatStatus::OnHold, None) => VisitorChat::Queued { chat_id },
        (ChatStatus::Ended | ChatStatus::Missed, _) => VisitorChat::Ended { chat_id },
    }
}

/// The browser and system a `User-Agent` names ("Chrome 120", "Windows"), as far as a short
/// look can tell.
pub fn user_agent(ua: &str) -> (Option<String>, Option<String>) {
    let version = |marker: &str| {
        ua.split(marker).nth(1).map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("")
                .to_owned()
        })
    };
    let named = |name: &str, v: Option<String>| match v.filter(|v| !v.is_empty()) {
        Some(v) => format!("{name} {v}"),
        None => name.to_owned(),
    };
    let browser = if ua.contains("Edg/") {
        Some(named("Edge", version("Edg/")))
    } else if ua.contains("OPR/") {
        Some(named("Opera", version("OPR/")))
    } else if ua.contains("Firefox/") {
        Some(named("Firefox", version("Firefox/")))
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        Some(named(
            "Chrome",
            version("Chrome/").or_else(|| version("Chromium/")),
        ))
    } else if ua.contains("Safari/") {
        Some(named("Safari", version("Version/")))
    } else {
        None
    };
    let os = [
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| (*name).to_owned());
    (browser, os)
}

/// What a visitor searched for, when they came from a search engine's results page that puts
/// the query in its address (`q=`, Yahoo's `p=`, Yandex's `text=`).
pub fn search_terms(referrer: &str) -> Option<String> {
    let rest = referrer.split_once("://")?.1;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let engine = [
        "google.",
        "bing.",
        "duckduckgo.",
        "yahoo.",
        "yandex.",
        "ecosia.",
        "baidu.",
    ]
    .iter()
    .any(|e| host.contains(e));
    if !engine {
        return None;
    }
    let query = path.split_once('?')?.1.split('#').next().unwrap_or("");
    let keys: &[&str] = if host.contains("yahoo.") {
        &["p", "q"]
    } else if host.contains("yandex.") {
        &["text"]
    } else if host.contains("baidu.") {
        &["wd", "word"]
    } else {
        &["q"]
    };
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        if !keys.contains(&key) {
            return None;
        }
        let plus = value.replace('+', " ");
        let decoded = percent_encoding::percent_decode_str(&plus).decode_utf8_lossy();
        let terms = page_text(decoded.trim(), MAX_CLIENT_TEXT_CHARS);
        (!terms.is_empty()).then_some(terms)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::{ChatId, Mode, OperatorId, OperatorRef};

    fn page(url: &str) -> Option<Page> {
        Some(Page {
            url: url.into(),
            title: None,
        })
    }

    fn arrival(id: i64, url: &str) -> Arrival {
        Arrival {
            id: VisitorId(id),
            page: page(url),
            client: ClientInfo::default(),
            visits: 1,
            chat: None,
        }
    }

    fn kinds(batch: &[MonitorDelta]) -> Vec<String> {
        batch
            .iter()
            .map(|d| match &d.change {
                MonitorChange::Joined { visitor } => format!("joined {}", visitor.id.0),
                MonitorChange::Page { id, page, .. } => format!("page {} {}", id.0, page.url),
                MonitorChange::Chat { id, chat, .. } => format!("chat {} {chat:?}", id.0),
                MonitorChange::Left { id } => format!("left {}", id.0),
            })
            .collect()
    }

    #[tokio::test]
    async fn arrivals_pages_chats_and_leaves_become_deltas_in_order() {
        let m = Monitor::new(Duration::from_millis(1000));
        let mut sub = m.subscribe(None);
        let OperatorServerMsg::MonitorSnapshot {
            visitors,
            first: true,
            complete: true,
            ..
        } = sub.next(&m).await
        else {
            panic!("a snapshot first");
        };
        assert!(visitors.is_empty());

        let a = m.arrive(arrival(1, "https://s/a"), 10);
        // A second tab on the same page: no change; another page: a page view.
        let a2 = m.arrive(arrival(1, "https://s/a"), 20);
        m.page(VisitorId(1), page("https://s/b").unwrap(), 30);
        let mut chat = ChatSummary {
            id: ChatId(5),
            visitor_id: VisitorId(1),
            visitor_name: Some("Ann".into()),
            mode: Mode::Text,
            status: ChatStatus::Waiting,
            page: None,
            operator: None,
            created_at: 0,
            accepted_at: None,
            ended_at: None,
            last_seq: 1,
        };
        m.chat_changed(&chat);
        m.chat_changed(&chat); // nothing new: no delta
        chat.status = ChatStatus::Active;
        chat.operator = Some(OperatorRef {
            id: OperatorId(2),
            name: "Olga".into(),
        });
        m.chat_changed(&chat);
        // Someone not on the site: nothing.
        chat.visitor_id = VisitorId(99);
        m.chat_changed(&chat);
        m.tick(40);
        let OperatorServerMsg::MonitorDeltas { deltas } = sub.next(&m).await else {
            panic!("deltas");
        };
        assert_eq!(
            kinds(&deltas),
            [
                "joined 1",
                "page 1 https://s/b",
                "chat 1 Ringing { chat_id: ChatId(5) }",
                "chat 1 Chatting { chat_id: ChatId(5), operator: OperatorRef { id: OperatorId(2), name: \"Olga\" } }",
            ]
        );
        assert!(deltas.windows(2).all(|w| w[1].seq == w[0].seq + 1));

        // Both tabs close; back within the grace period on another page: no leave.
        drop(a);
        drop(a2);
        m.tick(500);
        let back = m.arrive(arrival(1, "https://s/c"), 600);
        m.tick(5000);
        drop(back);
        m.tick(5100);
        m.tick(6200);
        let OperatorServerMsg::MonitorDeltas { deltas } = sub.next(&m).await else {
            panic!("deltas");
        };
        assert_eq!(kinds(&deltas), ["page 1 https://s/c"]);
        let OperatorServerMsg::MonitorDeltas { deltas } = sub.next(&m).await else {
            panic!("deltas");
        };
        assert_eq!(kinds(&deltas), ["left 1"]);
        assert!(m.is_empty());
    }

    #[tokio::test]
    async fn a_resume_gets_what_it_missed_or_a_snapshot() {
        let m = Monitor::new(Duration::from_secs(1));
        let _a = m.arrive(arrival(1, "https://s/a"), 1);
        m.tick(2);
        let mut first = m.subscribe(None);
        let OperatorServerMsg::MonitorSnapshot { seq, visitors, .. } = first.next(&m).await else {
            panic!("snapshot");
        };
        assert_eq!(visitors.len(), 1);
        let _b = m.arrive(arrival(2, "https://s/b"), 3);
        m.tick(4);
        let _c = m.arrive(arrival(3, "https://s/c"), 5);
        // Resumed from the snapshot's seq: exactly the one sent since (not the pending one,
        // which comes with the next batch).
        let mut resumed = m.subscribe(Some(seq));
        let OperatorServerMsg::MonitorDeltas { deltas } = resumed.next(&m).await else {
            panic!("the missed deltas");
        };
        assert_eq!(kinds(&deltas), ["joined 2"]);
        m.tick(6);
        let OperatorServerMsg::MonitorDeltas { deltas } = resumed.next(&m).await else {
            panic!("the next batch");
        };
        assert_eq!(kinds(&deltas), ["joined 3"]);
        // A seq this node never gave (another run's, or from the future): a snapshot.
        for unknown in [seq - 1_000_000, seq + 1_000] {
            let mut s = m.subscribe(Some(unknown));
            assert!(matches!(
                s.next(&m).await,
                OperatorServerMsg::MonitorSnapshot { .. }
            ));
        }
    }

    #[tokio::test]
    async fn a_resume_reaches_back_at_least_recent_deltas() {
        let m = Monitor::new(Duration::from_secs(1));
        let _a = m.arrive(arrival(1, "https://s/0"), 1);
        m.tick(1);
        let OperatorServerMsg::MonitorSnapshot { seq: start, .. } =
            m.subscribe(None).next(&m).await
        else {
            panic!("snapshot");
        };
        // RECENT + 1,001 page views, in batches of 1,000 and a last one of 1.
        let views = RECENT + 1_001;
        for i in 1..=views {
            m.page(VisitorId(1), page(&format!("https://s/{i}")).unwrap(), 2);
            if i % 1_000 == 0 {
                m.tick(2);
            }
        }
        m.tick(2);
        // The oldest batch went once the others held RECENT; whole batches are kept.
        assert_eq!(m.live().recent_deltas, RECENT + 1);
        assert!(
            matches!(
                m.subscribe(Some(start)).next(&m).await,
                OperatorServerMsg::MonitorSnapshot { .. }
            ),
            "the first 1,000 are gone"
        );
        let mut resumed = m.subscribe(Some(start + 1_000));
        let OperatorServerMsg::MonitorDeltas { deltas } = resumed.next(&m).await else {
            panic!("the missed deltas");
        };
        assert_eq!(deltas.first().map(|d| d.seq), Some(start + 1_001));
    }

    #[tokio::test]
    async fn a_big_snapshot_comes_in_frames() {
        let m = Monitor::new(Duration::from_secs(1));
        let guards: Vec<Presence> = (1..=250)
            .map(|i| m.arrive(arrival(i, "https://s/"), i))
            .collect();
        let mut sub = m.subscribe(None);
        let mut got = Vec::new();
        loop {
            let OperatorServerMsg::MonitorSnapshot {
                first,
                complete,
                visitors,
                ..
            } = sub.next(&m).await
            else {
                panic!("snapshot frames");
            };
            assert_eq!(first, got.is_empty());
            got.extend(visitors.into_iter().map(|v| v.id.0));
            if complete {
                break;
            }
        }
        assert_eq!(got, (1..=250).collect::<Vec<_>>(), "longest there first");
        drop(guards);
    }

    #[test]
    fn user_agents_name_browser_and_system() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
                ("Edge 120", "Windows"),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                ("Firefox 121", "Linux"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
                ("Safari 17", "iOS"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
                ("Chrome 120", "Android"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
                ("Opera 106", "macOS"),
            ),
        ];
        for (ua, (browser, os)) in cases {
            assert_eq!(
                user_agent(ua),
                (Some(browser.to_owned()), Some(os.to_owned())),
                "{ua}"
            );
        }
        assert_eq!(user_agent("curl/8.0"), (None, None));
    }

    #[test]
    fn search_terms_come_from_search_engines_only() {
        assert_eq!(
            search_terms("https://www.google.com/search?q=live+chat%20software&hl=en").as_deref(),
            Some("live chat software")
        );
        assert_eq!(
            search_terms("https://search.yahoo.com/search?p=help+desk").as_deref(),
            Some("help desk")
        );
        assert_eq!(search_terms("https://www.google.com/"), None);
        assert_eq!(search_terms("https://blog.example/?q=not+a+search"), None);
        assert_eq!(
            search_terms("https://www.bing.com/search?q=%3Cscript%3E").as_deref(),
            Some("<script>"),
            "kept as text; the app shows it as text"
        );
    }
}
