//! In-process fan-out of committed changes to live connections.
//!
//! A connection subscribes to topics (the operators' lobby, one operator's devices, one
//! visitor's tabs) and gets one bounded queue; [`Hub::publish`] delivers an event once per
//! connection however many of its topics match. Which topics an event goes to is
//! [`crate::chat::audience`]'s decision. A connection that cannot keep up is cut off
//! rather than slowing everyone: its client reconnects and resumes from its last `seq`.
//!
//! Events are published only after they are committed, so anything a client receives can be
//! found again in the database when it resumes. With several nodes on one PostgreSQL the
//! [cluster bus](crate::cluster) plugs in behind `publish` ([`Hub::relay_to`]): it relays what
//! this node commits and feeds what other nodes commit into the same local delivery
//! ([`Hub::publish_here`]).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use switchboard_shared::{ChatEvent, ChatId, ChatSummary, DeviceId, OperatorId, VisitorId};
use tokio::sync::{Notify, mpsc, watch};

use crate::cluster::{Outgoing, Peers, Section};

/// How many undelivered events a connection may hold before it is cut off.
const QUEUE: usize = 1024;
/// How long what another node said of its connected devices holds: each node says it again
/// more often than this, so a node that died stops sparing its devices' phones a push.
pub const REMOTE_DEVICES_FOR: std::time::Duration = std::time::Duration::from_secs(6);

/// Who an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "topic", content = "id", rename_all = "snake_case")]
pub enum Topic {
    /// Every operator connection: chat requests, queue and lifecycle changes.
    Lobby,
    /// One operator's devices.
    Operator(OperatorId),
    /// One visitor's open widgets.
    Visitor(VisitorId),
}

/// What the hub carries (and the cluster bus, as JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubEvent {
    /// A committed chat event and the chat after it.
    Chat {
        /// The event.
        event: ChatEvent,
        /// The chat after the event.
        chat: Box<ChatSummary>,
    },
    /// A visitor left a message (for every operator).
    OfflineMessage(Box<switchboard_shared::OfflineMessage>),
    /// An operator's Live Help status changed.
    OperatorAvailability {
        /// Who.
        operator: OperatorId,
        /// Available or not.
        available: bool,
    },
    /// A call starts: one party's ICE servers (sent to that party's topic).
    CallReady {
        /// The chat.
        chat_id: ChatId,
        /// The call.
        call_id: i64,
        /// Whom it is for.
        to: switchboard_shared::CallParty,
        /// Their STUN and TURN servers.
        ice_servers: Vec<switchboard_shared::IceServer>,
    },
    /// A signal from one peer of a call to the other (sent to the other party's topic).
    CallSignal {
        /// The chat.
        chat_id: ChatId,
        /// The call.
        call_id: i64,
        /// Whom it is for.
        to: switchboard_shared::CallParty,
        /// The signal.
        signal: switchboard_shared::CallSignal,
    },
    /// The operator's account changed (name, rights, password, removal) or some of their
    /// sign-ins ended (sign-out): their live sessions re-read their own sign-in, and close if
    /// it is gone. (Between such events a session checks only its expiry, against the clock.)
    OperatorChanged {
        /// Whose.
        operator: OperatorId,
    },
    /// A waiting or queued chat's place in line.
    QueuePosition {
        /// The chat.
        chat_id: ChatId,
        /// From 1.
        position: u32,
    },
}

/// One connection's queue of events, filled by [`Hub::publish`] and read by the connection.
///
/// Every idle connection has one, so it is small: a lock around a queue that starts empty,
/// and a wake-up (a bounded `tokio::sync::mpsc` channel takes ~800 bytes before its first
/// event, cache-line padding and its first block of slots).
#[derive(Default)]
struct Queue {
    events: Mutex<VecDeque<Arc<HubEvent>>>,
    /// Wakes the reader for a new event or the cut-off.
    ready: Notify,
    /// Cut off: no more events come (the queued ones are still read).
    cut_off: AtomicBool,
}

impl Queue {
    fn events(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<HubEvent>>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `event`; false (and nothing queued) when [`QUEUE`] events wait already.
    fn push(&self, event: Arc<HubEvent>) -> bool {
        let mut events = self.events();
        if events.len() >= QUEUE {
            return false;
        }
        events.push_back(event);
        drop(events);
        self.ready.notify_one();
        true
    }

    fn cut_off(&self) {
        self.cut_off.store(true, Ordering::Release);
        self.ready.notify_one();
    }
}

type Subscribers = HashMap<u64, Arc<Queue>>;

struct Inner {
    topics: DashMap<Topic, Subscribers>,
    /// Push devices whose app holds a live connection (it rings there, not by push).
    live_devices: DashMap<DeviceId, usize>,
    /// Rings when `live_devices` changed (the cluster tells the other nodes).
    devices_changed: Notify,
    /// The other nodes' devices with a live connection: node → (when heard, devices).
    remote_devices: Mutex<HashMap<u64, (std::time::Instant, Vec<DeviceId>)>>,
    next_id: AtomicU64,
    available: watch::Sender<bool>,
    /// Sees every chat after each committed event (the Site Monitor).
    chat_observer: std::sync::OnceLock<ChatObserver>,
    /// The cluster bus, when there is one: what this node publishes goes to the other nodes.
    relay: std::sync::OnceLock<mpsc::Sender<Outgoing>>,
    /// The other nodes, asked whether they hold a connection.
    peers: std::sync::OnceLock<Peers>,
    /// Something could not be relayed (the bus fell [`crate::cluster::BACKLOG`] behind).
    relay_lost: AtomicBool,
}

type ChatObserver = Box<dyn Fn(&ChatSummary) + Send + Sync>;

/// Cheap-to-clone handle to the fan-out.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

/// A live connection's subscription; dropping it unsubscribes.
pub struct Subscription {
    id: u64,
    topics: Vec<Topic>,
    hub: Hub,
    /// The connection's queue of events.
    queue: Arc<Queue>,
}

impl Subscription {
    /// The next event, waiting for one; `None` once the connection was cut off (too slow) and
    /// what was queued before has been read.
    pub async fn recv(&mut self) -> Option<Arc<HubEvent>> {
        loop {
            if let Some(event) = self.try_recv() {
                return Some(event);
            }
            if self.queue.cut_off.load(Ordering::Acquire) {
                return None;
            }
            // `notify_one` keeps its wake-up for a reader not waiting yet: none is lost
            // between the look above and this wait.
            self.queue.ready.notified().await;
        }
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<Arc<HubEvent>> {
        self.queue.events().pop_front()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        for topic in &self.topics {
            self.hub.remove(*topic, self.id);
        }
    }
}

/// A device's live connection; dropping it marks the device offline (push reaches it again).
pub struct DeviceOnline {
    hub: Hub,
    device: DeviceId,
}

impl Drop for DeviceOnline {
    fn drop(&mut self) {
        if let dashmap::Entry::Occupied(mut e) = self.hub.inner.live_devices.entry(self.device) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
                self.hub.inner.devices_changed.notify_one();
            }
        }
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            inner: Arc::new(Inner {
                topics: DashMap::new(),
                live_devices: DashMap::new(),
                devices_changed: Notify::new(),
                remote_devices: Mutex::default(),
                next_id: AtomicU64::new(1),
                available: watch::Sender::new(false),
                chat_observer: std::sync::OnceLock::new(),
                relay: std::sync::OnceLock::new(),
                peers: std::sync::OnceLock::new(),
                relay_lost: AtomicBool::new(false),
            }),
        }
    }
}

impl Hub {
    /// Subscribes a new connection to `topics`.
    pub fn subscribe(&self, topics: Vec<Topic>) -> Subscription {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(Queue::default());
        for topic in &topics {
            self.inner
                .topics
                .entry(*topic)
                .or_default()
                .insert(id, queue.clone());
        }
        Subscription {
            id,
            topics,
            hub: self.clone(),
            queue,
        }
    }

    fn remove(&self, topic: Topic, id: u64) {
        if let dashmap::Entry::Occupied(mut e) = self.inner.topics.entry(topic) {
            e.get_mut().remove(&id);
            if e.get().is_empty() {
                e.remove();
            }
        }
    }

    /// Has `observer` see every chat as it is after each committed event (the Site Monitor
    /// follows visitors' chats this way); set once, at start.
    pub fn observe_chats(&self, observer: impl Fn(&ChatSummary) + Send + Sync + 'static) {
        if self.inner.chat_observer.set(Box::new(observer)).is_err() {
            tracing::warn!("the hub has a chat observer already");
        }
    }

    /// Delivers `event` once to every connection subscribed to any of `topics`, on this node
    /// and (over the cluster bus, when there is one) on the others.
    pub fn publish(&self, topics: &[Topic], event: HubEvent) {
        let event = Arc::new(event);
        self.deliver(topics, &event);
        if let Some(relay) = self.inner.relay.get()
            && relay.try_send((topics.to_vec(), event)).is_err()
        {
            self.inner.relay_lost.store(true, Ordering::Relaxed);
        }
    }

    /// Delivers `event` to this node's connections only: what another node committed (it
    /// came over the bus), or what each node works out for its own clients (their place in
    /// line).
    pub fn publish_here(&self, topics: &[Topic], event: HubEvent) {
        self.deliver(topics, &Arc::new(event));
    }

    /// Relays what this node publishes to the other nodes through `bus`, and asks `peers`
    /// about their connections (see [`crate::cluster`]); set once, at start.
    pub fn relay_to(&self, bus: mpsc::Sender<Outgoing>, peers: Peers) {
        let _ = self.inner.relay.set(bus);
        let _ = self.inner.peers.set(peers);
    }

    /// Whether a live connection on `topic` is held here or on another node of the cluster
    /// (a client that lost its connection may come back on any node).
    pub async fn connected_anywhere(&self, topic: Topic) -> bool {
        if self.subscribers(topic) > 0 {
            return true;
        }
        match self.inner.peers.get() {
            Some(peers) => peers.have(topic).await,
            None => false,
        }
    }

    /// Tells the other nodes that a settings section was saved here, and waits (a little)
    /// until each has read it again: once an admin's save is answered, every node uses it.
    pub async fn settings_saved(&self, section: Section) {
        if let Some(peers) = self.inner.peers.get() {
            peers.reload_everywhere(section, self.other_nodes()).await;
        }
    }

    /// How many other nodes said which devices are connected to them lately (each does so
    /// every two seconds): the other nodes alive.
    fn other_nodes(&self) -> usize {
        self.inner
            .remote_devices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|(heard, _)| heard.elapsed() < REMOTE_DEVICES_FOR)
            .count()
    }

    /// Whether something could not be relayed since the last call.
    pub(crate) fn take_relay_lost(&self) -> bool {
        self.inner.relay_lost.swap(false, Ordering::Relaxed)
    }

    /// Cuts every live connection off: their clients reconnect and resume from the last `seq`
    /// they saw (this node may have missed some of the other nodes' events).
    pub fn cut_off_all(&self) {
        let mut queues: Vec<(u64, Arc<Queue>)> = Vec::new();
        for mut subs in self.inner.topics.iter_mut() {
            queues.extend(subs.drain());
        }
        for (_, queue) in queues {
            queue.cut_off();
        }
    }

    fn deliver(&self, topics: &[Topic], event: &Arc<HubEvent>) {
        if let (HubEvent::Chat { chat, .. }, Some(observer)) =
            (&**event, self.inner.chat_observer.get())
        {
            observer(chat);
        }
        let mut targets: Vec<(u64, Arc<Queue>)> = Vec::new();
        for topic in topics {
            if let Some(subs) = self.inner.topics.get(topic) {
                for (id, queue) in subs.iter() {
                    if !targets.iter().any(|(t, _)| t == id) {
                        targets.push((*id, queue.clone()));
                    }
                }
            }
        }
        for (id, queue) in targets {
            if !queue.push(event.clone()) {
                // Too slow: cut it off everywhere; its client resumes from its last seq.
                tracing::warn!(connection = id, "connection lagging; disconnecting");
                self.inner.topics.iter_mut().for_each(|mut subs| {
                    subs.remove(&id);
                });
                queue.cut_off();
            }
        }
    }

    /// Whether any operator has Live Help Available, as a watch every widget follows.
    pub fn availability(&self) -> watch::Receiver<bool> {
        self.inner.available.subscribe()
    }

    /// Sets the site-wide availability (only notifies when it changes).
    pub fn set_available(&self, available: bool) {
        self.inner
            .available
            .send_if_modified(|v| std::mem::replace(v, available) != available);
    }

    /// The current site-wide availability.
    pub fn is_available(&self) -> bool {
        *self.inner.available.borrow()
    }

    /// Marks a push device as having a live foreground connection until the guard drops.
    pub fn device_online(&self, device: DeviceId) -> DeviceOnline {
        *self.inner.live_devices.entry(device).or_insert(0) += 1;
        self.inner.devices_changed.notify_one();
        DeviceOnline {
            hub: self.clone(),
            device,
        }
    }

    /// Whether a push device's app is connected right now, to this node or (as that node
    /// said within [`REMOTE_DEVICES_FOR`]) to another.
    pub fn is_device_online(&self, device: DeviceId) -> bool {
        if self.inner.live_devices.get(&device).is_some_and(|n| *n > 0) {
            return true;
        }
        let remote = self
            .inner
            .remote_devices
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        remote.values().any(|(heard, devices)| {
            heard.elapsed() < REMOTE_DEVICES_FOR && devices.contains(&device)
        })
    }

    /// The devices whose app is connected to this node.
    pub fn devices_online_here(&self) -> Vec<DeviceId> {
        self.inner.live_devices.iter().map(|e| *e.key()).collect()
    }

    /// Waits until a device's app connects to or leaves this node.
    pub async fn devices_changed(&self) {
        self.inner.devices_changed.notified().await;
    }

    /// What another node says is connected to it now (replacing what it said before). A node
    /// not heard of before is told at once what is connected here; returns whether it is new.
    pub fn devices_online_at(&self, node: u64, devices: Vec<DeviceId>) -> bool {
        let known = self
            .inner
            .remote_devices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(node, (std::time::Instant::now(), devices))
            .is_some();
        if !known {
            self.inner.devices_changed.notify_one();
        }
        !known
    }

    /// The other nodes not heard of for [`REMOTE_DEVICES_FOR`]: forgotten, and returned.
    pub fn nodes_gone(&self) -> Vec<u64> {
        let mut remote = self
            .inner
            .remote_devices
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let gone: Vec<u64> = remote
            .iter()
            .filter(|(_, (heard, _))| heard.elapsed() >= REMOTE_DEVICES_FOR)
            .map(|(node, _)| *node)
            .collect();
        for node in &gone {
            remote.remove(node);
        }
        gone
    }

    /// Number of live subscriptions on a topic (for tests and metrics).
    pub fn subscribers(&self, topic: Topic) -> usize {
        self.inner.topics.get(&topic).map(|s| s.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_delivery_per_connection_and_unsubscribe_on_drop() {
        let hub = Hub::default();
        let mut a = hub.subscribe(vec![Topic::Lobby, Topic::Operator(OperatorId(1))]);
        let mut b = hub.subscribe(vec![Topic::Lobby]);
        hub.publish(
            &[Topic::Lobby, Topic::Operator(OperatorId(1))],
            HubEvent::OperatorAvailability {
                operator: OperatorId(1),
                available: true,
            },
        );
        assert!(a.try_recv().is_some());
        assert!(a.try_recv().is_none(), "delivered twice");
        assert!(b.try_recv().is_some());
        drop(b);
        assert_eq!(hub.subscribers(Topic::Lobby), 1);
    }

    #[tokio::test]
    async fn a_lagging_connection_is_cut_off() {
        let hub = Hub::default();
        let mut slow = hub.subscribe(vec![Topic::Lobby]);
        for _ in 0..=QUEUE {
            hub.publish(
                &[Topic::Lobby],
                HubEvent::QueuePosition {
                    chat_id: ChatId(1),
                    position: 1,
                },
            );
        }
        assert_eq!(hub.subscribers(Topic::Lobby), 0);
        let mut n = 0;
        while slow.recv().await.is_some() {
            n += 1;
        }
        assert_eq!(
            n, QUEUE,
            "queued events are still delivered, then the channel closes"
        );
    }
}
