//! Several nodes on one PostgreSQL, fanned out over NATS (`SWITCHBOARD_NATS_URL`).
//!
//! Every node serves visitors and operators and writes to the one database; what a node
//! commits it publishes to its own connections (the [`Hub`](crate::hub::Hub)) and, through
//! this module, to the other nodes, which hand it to theirs. So a visitor on node A and an
//! operator on node B chat as if on one node: the database orders a chat's events (its row is
//! locked while one is written), NATS only carries them.
//!
//! What crosses the bus, all on one subject (`<prefix>.bus`; nodes never hear their own):
//! - committed changes (chat events, availability, calls' signals, sign-outs…), each with the
//!   topics it is for; a node delivers them as if it had committed them (the Site Monitor
//!   sees the chats change, availability and the queue line are read again);
//! - "read this settings section again" after an admin saved it on one node;
//! - which push devices' apps are connected to each node (so a ring is not pushed to a phone
//!   whose app is open on another node), said on every change and every two seconds;
//! - "catch up": a node that may have missed events (its NATS connection dropped, its outbox
//!   to NATS overflowed, it was too slow to read) makes every node cut its live connections
//!   off; their clients reconnect and resume from the last `seq` they saw, from the database.
//!   Nothing is lost, because nothing is only on the bus.
//!
//! Besides, a node asks the others ([`Peers::have`]) whether they hold a connection before it
//! counts a visitor or an operator as gone.
//!
//! What is not on the bus: each node tells its own waiting visitors their place in line (all
//! nodes read the same line), sweeps run on one node at a time (a PostgreSQL advisory lock,
//! [`crate::store::Store::sweeps_here`]), pushes are decided by the node that commits the
//! change and claimed from the outbox with row locks, a voice call's state is read from its
//! chat's events.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use switchboard_shared::{DeviceId, MonitorChange};
use tokio::sync::mpsc;

use crate::chat::audience;
use crate::error::Error;
use crate::hub::{Hub, HubEvent, Topic};
use crate::state::AppState;

/// The most changes waiting to go out to NATS; past it (NATS slow or away) they are dropped
/// and the other nodes are asked to catch up instead.
pub const BACKLOG: usize = 16_384;

/// A committed change a node hands the bus (see [`crate::hub::Hub::relay_to`]): the topics
/// it is for, and the event.
pub type Outgoing = (Vec<Topic>, Arc<HubEvent>);

/// An admin-editable settings section each node keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The general settings ([`crate::settings::LiveSettings`]).
    Settings,
    /// The push credentials ([`crate::push::Push`]).
    Push,
    /// The STUN and TURN servers ([`crate::voice::Voice`]).
    Voice,
    /// The mail server's parameters ([`crate::mail::Mail`]).
    Mail,
}

/// How long a node waits for another to say it holds a connection.
const ASK_FOR: Duration = Duration::from_millis(500);

/// Asks the other nodes about their live connections, and has them read settings again.
#[derive(Clone)]
pub struct Peers {
    client: async_nats::Client,
    /// Where nodes answer [`Peers::have`].
    subject: String,
    /// The bus.
    bus: String,
}

impl Peers {
    /// Whether another node holds a live connection on `topic` (a visitor's widget or an
    /// operator's app that reconnected there). Only nodes that do answer; no answer within
    /// [`ASK_FOR`] (or no NATS) counts as no.
    pub async fn have(&self, topic: Topic) -> bool {
        let Ok(payload) = serde_json::to_vec(&topic) else {
            return false;
        };
        let asked = self.client.request(self.subject.clone(), payload.into());
        matches!(tokio::time::timeout(ASK_FOR, asked).await, Ok(Ok(_)))
    }

    /// Has every other node read `section` again, waiting for `nodes` answers (at most
    /// [`ASK_FOR`]: a node that does not answer reads it when it hears, or at its next catch-up).
    pub async fn reload_everywhere(&self, section: Section, nodes: usize) {
        let inbox = self.client.new_inbox();
        let mut answers = match self.client.subscribe(inbox.clone()).await {
            Ok(s) => s,
            Err(e) => return tracing::warn!(error = %e, "cluster: subscribing failed"),
        };
        let Ok(payload) = serde_json::to_vec(&WireRef::Reload { section }) else {
            return;
        };
        if let Err(e) = self
            .client
            .publish_with_reply(self.bus.clone(), inbox, payload.into())
            .await
        {
            return tracing::warn!(error = %e, "cluster: publishing failed");
        }
        let deadline = tokio::time::Instant::now() + ASK_FOR;
        let mut heard = 0;
        while heard < nodes {
            match tokio::time::timeout_at(deadline, answers.next()).await {
                Ok(Some(_)) => heard += 1,
                _ => {
                    tracing::warn!(
                        ?section,
                        heard,
                        nodes,
                        "cluster: not every node said it read the settings"
                    );
                    return;
                }
            }
        }
    }
}

/// Answers the other nodes' [`Peers::have`] for the connections held here.
async fn answer(hub: Hub, client: async_nats::Client, mut asked: async_nats::Subscriber) {
    while let Some(message) = asked.next().await {
        let (Some(reply), Ok(topic)) = (
            message.reply,
            serde_json::from_slice::<Topic>(&message.payload),
        ) else {
            continue;
        };
        if hub.subscribers(topic) > 0
            && let Err(e) = client.publish(reply, "yes".into()).await
        {
            tracing::warn!(error = %e, "cluster: answering failed");
        }
    }
}

/// One message on the bus, as received.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire {
    Event {
        topics: Vec<Topic>,
        event: HubEvent,
    },
    Reload {
        section: Section,
    },
    CatchUp,
    Devices {
        node: u64,
        devices: Vec<DeviceId>,
    },
    Monitor {
        node: u64,
        changes: Vec<MonitorChange>,
    },
}

/// One message on the bus, as sent (the same JSON as [`Wire`], without copying the event).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireRef<'a> {
    Event {
        topics: &'a [Topic],
        event: &'a HubEvent,
    },
    Reload {
        section: Section,
    },
    CatchUp,
    Devices {
        node: u64,
        devices: &'a [DeviceId],
    },
    Monitor {
        node: u64,
        changes: &'a [MonitorChange],
    },
}

/// Most Site Monitor changes in one message (a node that just joined is sent every visitor
/// of this node, in messages of this many).
const MONITOR_CHUNK: usize = 256;

/// How often a node tells the others which devices' apps are connected to it (also at once
/// when that changes): well within [`crate::hub::REMOTE_DEVICES_FOR`].
const DEVICES_EVERY: Duration = Duration::from_secs(2);

/// Joins the cluster on `url`: relays what this node commits and delivers what the others
/// commit. Fails when NATS cannot be reached (a node that cannot hear the others must not
/// serve as if it were alone).
pub async fn join(state: &AppState, url: &str, prefix: &str) -> Result<(), Error> {
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .name("switchboard")
        // A node's own changes are already delivered here.
        .no_echo()
        .event_callback(move |event| {
            let events_tx = events_tx.clone();
            async move {
                let _ = events_tx.send(event);
            }
        })
        .connect(url.split(',').map(str::trim).collect::<Vec<_>>())
        .await
        .map_err(|e| Error::Config(format!("SWITCHBOARD_NATS_URL: cannot reach NATS: {e}")))?;
    let subject = format!("{prefix}.bus");
    let subscriber = client
        .subscribe(subject.clone())
        .await
        .map_err(|e| Error::Internal(format!("NATS subscribe: {e}")))?;
    let present = format!("{prefix}.present");
    let asked = client
        .subscribe(present.clone())
        .await
        .map_err(|e| Error::Internal(format!("NATS subscribe: {e}")))?;
    // This node, to the others (a restart is a new node).
    let node: u64 = rand::random();
    let (out_tx, out_rx) = mpsc::channel(BACKLOG);
    let (monitor_tx, monitor_rx) = mpsc::unbounded_channel();
    state.monitor.relay_to(monitor_tx);
    state.hub.relay_to(
        out_tx,
        Peers {
            client: client.clone(),
            subject: present,
            bus: subject.clone(),
        },
    );
    tokio::spawn(answer(state.hub.clone(), client.clone(), asked));
    tokio::spawn(share_devices(
        state.clone(),
        client.clone(),
        subject.clone(),
        node,
    ));
    let bus = Bus {
        client: client.clone(),
        subject: subject.clone(),
        node,
    };
    tokio::spawn(send(state.hub.clone(), bus.clone(), out_rx, monitor_rx));
    tokio::spawn(receive(state.clone(), bus, subscriber));
    tokio::spawn(watch_connection(state.clone(), client, subject, events_rx));
    let url = crate::config::redact_url(url);
    tracing::info!(%url, %prefix, "joined the cluster");
    Ok(())
}

/// This node's side of the bus.
#[derive(Clone)]
struct Bus {
    client: async_nats::Client,
    subject: String,
    node: u64,
}

impl Bus {
    async fn publish(&self, wire: &WireRef<'_>) {
        publish(&self.client, &self.subject, wire).await;
    }

    /// Site Monitor changes of this node's visitors, in messages of [`MONITOR_CHUNK`].
    async fn monitor(&self, changes: &[MonitorChange]) {
        for chunk in changes.chunks(MONITOR_CHUNK) {
            let node = self.node;
            self.publish(&WireRef::Monitor {
                node,
                changes: chunk,
            })
            .await;
        }
    }
}

/// Publishes what this node hands the bus, in order: its visitors' Site Monitor changes
/// before the chat events that follow them (a visitor arrives, then asks for a chat); when
/// some events had to be dropped (more than [`BACKLOG`] waiting), asks the others to catch up
/// after what is left.
async fn send(
    hub: Hub,
    bus: Bus,
    mut out: mpsc::Receiver<Outgoing>,
    mut monitor: mpsc::UnboundedReceiver<MonitorChange>,
) {
    let mut changes = Vec::new();
    loop {
        tokio::select! {
            biased;
            n = monitor.recv_many(&mut changes, MONITOR_CHUNK) => {
                if n == 0 {
                    return;
                }
                bus.monitor(&changes).await;
                changes.clear();
            }
            item = out.recv() => {
                let Some((topics, event)) = item else { return };
                bus.publish(&WireRef::Event { topics: &topics, event: &event }).await;
                if out.is_empty() && hub.take_relay_lost() {
                    tracing::warn!("cluster: events were dropped on the way to NATS; the others catch up");
                    bus.publish(&WireRef::CatchUp).await;
                }
            }
        }
    }
}

async fn publish(client: &async_nats::Client, subject: &str, wire: &WireRef<'_>) {
    let payload = match serde_json::to_vec(wire) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cluster: an event could not be written");
            return;
        }
    };
    // While NATS is away the client keeps what it can and fails the rest: either way the
    // others catch up when it is back (see `watch_connection`).
    if let Err(e) = client.publish(subject.to_owned(), payload.into()).await {
        tracing::warn!(error = %e, "cluster: publishing failed");
    }
}

/// Delivers what the other nodes commit, as if committed here.
async fn receive(state: AppState, bus: Bus, mut subscriber: async_nats::Subscriber) {
    while let Some(message) = subscriber.next().await {
        match serde_json::from_slice::<Wire>(&message.payload) {
            Ok(Wire::Event { topics, event }) => deliver(&state, &topics, event).await,
            Ok(Wire::Reload { section }) => {
                reload(&state, section).await;
                if let Some(reply) = message.reply
                    && let Err(e) = bus.client.publish(reply, "read".into()).await
                {
                    tracing::warn!(error = %e, "cluster: answering a reload failed");
                }
            }
            Ok(Wire::Devices { node, devices }) => {
                if state.hub.devices_online_at(node, devices) {
                    // A node not heard of before: it learns who is on the site here.
                    let here: Vec<MonitorChange> = state
                        .monitor
                        .here()
                        .into_iter()
                        .map(|visitor| MonitorChange::Joined { visitor })
                        .collect();
                    bus.monitor(&here).await;
                }
            }
            Ok(Wire::Monitor { node, changes }) => {
                for change in changes {
                    state.monitor.remote(node, change);
                }
            }
            Ok(Wire::CatchUp) => {
                tracing::info!("cluster: a node missed events; live connections catch up");
                state.hub.cut_off_all();
            }
            Err(e) => tracing::warn!(error = %e, "cluster: unreadable message on the bus"),
        }
    }
}

/// Tells the other nodes which devices' apps are connected here, when that changes and every
/// [`DEVICES_EVERY`]: a ring is not pushed to a phone whose app is open on another node, and
/// a node that dies stops counting once its word is [`crate::hub::REMOTE_DEVICES_FOR`] old.
async fn share_devices(state: AppState, client: async_nats::Client, subject: String, node: u64) {
    let hub = &state.hub;
    loop {
        for gone in hub.nodes_gone() {
            tracing::info!(node = gone, "cluster: a node is gone");
            state.monitor.forget_node(gone);
        }
        let devices = hub.devices_online_here();
        publish(
            &client,
            &subject,
            &WireRef::Devices {
                node,
                devices: &devices,
            },
        )
        .await;
        let _ = tokio::time::timeout(DEVICES_EVERY, hub.devices_changed()).await;
    }
}

/// One change another node committed.
async fn deliver(state: &AppState, topics: &[Topic], event: HubEvent) {
    match &event {
        HubEvent::OperatorAvailability { .. } => {
            if let Err(e) = state.chats.refresh_availability().await {
                tracing::warn!(error = %e, "cluster: reading availability failed");
            }
        }
        HubEvent::Chat { event, .. } if audience::changes_the_line(&event.kind) => {
            state.chats.line_moved();
        }
        _ => {}
    }
    state.hub.publish_here(topics, event);
}

/// Reads a settings section again (another node saved it).
pub async fn reload(state: &AppState, section: Section) {
    let done = match section {
        Section::Settings => state.settings.reload().await,
        Section::Push => state.push.reload().await,
        Section::Voice => state.voice.reload().await,
        Section::Mail => state.mail.reload().await,
    };
    match done {
        Ok(()) => tracing::info!(?section, "cluster: settings read again"),
        Err(e) => tracing::warn!(error = %e, ?section, "cluster: reading settings failed"),
    }
}

/// Follows the NATS connection: after it dropped (or this node read too slowly), events may
/// have been missed both ways, so this node's connections catch up and the others are asked
/// to; the settings and availability are read again.
async fn watch_connection(
    state: AppState,
    client: async_nats::Client,
    subject: String,
    mut events: mpsc::UnboundedReceiver<async_nats::Event>,
) {
    let mut missed = false;
    while let Some(event) = events.recv().await {
        tracing::info!(%event, "cluster: NATS");
        match event {
            async_nats::Event::Disconnected => missed = true,
            async_nats::Event::SlowConsumer(_) => {
                state.hub.cut_off_all();
                missed = true;
            }
            async_nats::Event::Connected if missed => {
                missed = false;
                state.hub.cut_off_all();
                publish(&client, &subject, &WireRef::CatchUp).await;
                for section in [
                    Section::Settings,
                    Section::Push,
                    Section::Voice,
                    Section::Mail,
                ] {
                    reload(&state, section).await;
                }
                if let Err(e) = state.chats.refresh_availability().await {
                    tracing::warn!(error = %e, "cluster: reading availability failed");
                }
                state.chats.line_moved();
            }
            _ => {}
        }
    }
}
