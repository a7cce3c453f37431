//! What the operator app knows: built from `ready`, kept current by `event`s.
//!
//! Invariant (tested against the real backend): the state after a snapshot plus the events
//! that followed equals the state from a fresh snapshot taken at the end.

use std::collections::BTreeMap;

use switchboard_shared::{
    ChatEvent, ChatEventKind, ChatId, ChatStatus, ChatSummary, MailInfo, OfflineMessage,
    OperatorProfile, OperatorServerMsg, ResumeFrom, Settings,
};

/// The operator's view of the world.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorState {
    /// Who is signed in (with Live Help Available or not).
    pub operator: OperatorProfile,
    /// Incoming chat requests this operator has not declined.
    pub requests: BTreeMap<ChatId, ChatSummary>,
    /// The Communication Queue.
    pub queue: BTreeMap<ChatId, ChatSummary>,
    /// Own active and on-hold chats.
    pub chats: BTreeMap<ChatId, ChatSummary>,
    /// Events seen per chat, in `seq` order (for own chats: the whole history).
    pub history: BTreeMap<ChatId, Vec<ChatEvent>>,
    /// Highest `seq` applied per chat.
    pub last_seq: BTreeMap<ChatId, i64>,
    /// Settings from the last `ready`.
    pub settings: Option<Settings>,
    /// Mail, when configured ("Send chat transcript" is offered only then).
    pub mail: Option<MailInfo>,
    /// Offline messages this operator has not seen.
    pub offline_unread: u32,
    /// Offline messages left since the last `ready`, newest last.
    pub offline_new: Vec<OfflineMessage>,
}

impl OperatorState {
    /// An empty state for this operator.
    pub fn new(operator: OperatorProfile) -> OperatorState {
        OperatorState {
            operator,
            requests: BTreeMap::new(),
            queue: BTreeMap::new(),
            chats: BTreeMap::new(),
            history: BTreeMap::new(),
            last_seq: BTreeMap::new(),
            settings: None,
            mail: None,
            offline_unread: 0,
            offline_new: Vec::new(),
        }
    }

    /// Where to resume from: every chat with a known `seq`.
    pub fn resume_points(&self) -> Vec<ResumeFrom> {
        self.last_seq
            .iter()
            .map(|(&chat_id, &last_seq)| ResumeFrom { chat_id, last_seq })
            .collect()
    }

    /// Applies one frame from the server.
    pub fn apply(&mut self, msg: &OperatorServerMsg) {
        match msg {
            OperatorServerMsg::Ready {
                operator,
                requests,
                queue,
                chats,
                settings,
                mail,
                offline_unread,
                ..
            } => {
                self.mail = mail.clone();
                self.offline_unread = *offline_unread;
                self.offline_new.clear();
                self.operator = operator.clone();
                self.requests = requests.iter().map(|c| (c.id, c.clone())).collect();
                self.queue = queue.iter().map(|c| (c.id, c.clone())).collect();
                self.chats = chats.iter().map(|c| (c.id, c.clone())).collect();
                self.settings = Some(settings.clone());
            }
            OperatorServerMsg::Event { event, chat } => self.apply_event(event, chat),
            OperatorServerMsg::Availability { available } => self.operator.available = *available,
            OperatorServerMsg::Mail { mail } => self.mail = mail.clone(),
            OperatorServerMsg::OfflineMessage { message } => {
                if !self.offline_new.iter().any(|m| m.id == message.id) {
                    self.offline_unread += 1;
                    self.offline_new.push(message.clone());
                }
            }
            // Calls are the voice peer's business; their milestones arrive as events.
            OperatorServerMsg::Ack { .. }
            | OperatorServerMsg::Error { .. }
            | OperatorServerMsg::Pong
            | OperatorServerMsg::CallReady { .. }
            | OperatorServerMsg::CallSignal { .. } => {}
            // The Site Monitor's stream is not part of the chats' state.
            OperatorServerMsg::MonitorSnapshot { .. } | OperatorServerMsg::MonitorDeltas { .. } => {
            }
        }
    }

    fn apply_event(&mut self, event: &ChatEvent, chat: &ChatSummary) {
        let seen = self.last_seq.entry(event.chat_id).or_insert(0);
        if event.seq <= *seen {
            return; // already applied (a replay overlapping live delivery)
        }
        *seen = event.seq;
        self.history
            .entry(event.chat_id)
            .or_default()
            .push(event.clone());
        let me = self.operator.id;
        let id = event.chat_id;
        let declined_by_me =
            matches!(&event.kind, ChatEventKind::Declined { operator } if operator.id == me);
        match event.status {
            ChatStatus::Waiting if !declined_by_me => {
                self.requests.insert(id, chat.clone());
            }
            _ => {
                self.requests.remove(&id);
            }
        }
        if event.status == ChatStatus::Queued {
            self.queue.insert(id, chat.clone());
        } else {
            self.queue.remove(&id);
        }
        let mine = chat.operator.as_ref().is_some_and(|o| o.id == me);
        if mine && matches!(event.status, ChatStatus::Active | ChatStatus::OnHold) {
            self.chats.insert(id, chat.clone());
        } else {
            self.chats.remove(&id);
        }
    }

    /// The messages of a chat, in order.
    pub fn messages(&self, chat: ChatId) -> Vec<&ChatEvent> {
        self.history
            .get(&chat)
            .map(|h| {
                h.iter()
                    .filter(|e| matches!(e.kind, ChatEventKind::Message { .. }))
                    .collect()
            })
            .unwrap_or_default()
    }
}
