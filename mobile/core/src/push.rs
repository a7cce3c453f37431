//! Remote push on phones, minus the platform code: what the native halves of the
//! `switchboard-push` plugin (Swift and Kotlin, `mobile/src-tauri/push/`) send to Rust
//! ([`NativeEvent`]), and when this device's push token is registered with the server
//! ([`PushRegistration`]). The Tauri shell only carries messages; the [`App`] drives the
//! state machine and does what it says.
//!
//! Invariants of the registration:
//! - The token is registered whenever an operator is signed in: at once when it arrives, else
//!   at the next sign-in; again whenever the platform reports it or the account changes.
//! - A registration that failed is tried again after a delay that doubles (5 s up to 5 min),
//!   and at once when the connection comes back; one that succeeded is not repeated.
//! - Signing out forgets the registration (the server removed the device), not the token.
//! - An answer about a token or account that is no longer current changes nothing.
//!
//! [`App`]: crate::app::App

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use switchboard_shared::{OperatorId, PushAction, PushPlatform};

/// A message from the native half, one JSON object per message on the channel Rust hands it
/// (`start`). The shapes are fixed by the Swift and Kotlin code; unknown kinds fail to parse.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NativeEvent {
    /// `{"kind":"token","platform":"apns"|"fcm","token":"…"}`: the device's push token, sent
    /// at every start and whenever the platform rotates it.
    Token {
        /// APNs (iOS) or FCM (Android).
        platform: PushPlatform,
        /// The APNs device token (hex) or the FCM registration token.
        token: String,
    },
    /// `{"kind":"action","action":"ACCEPT"|"QUEUE"|"DECLINE","actionToken":"…","chatId":"…"}`:
    /// the operator tapped an action of a chat request's notification.
    Action {
        /// Accept, Queue or Decline (the native side sends the action identifier, upper case).
        #[serde(deserialize_with = "action_any_case")]
        action: PushAction,
        /// The push's action token, which alone authorises the answer.
        #[serde(rename = "actionToken")]
        action_token: String,
        /// The chat, as the push named it; for logs only, so any JSON value is taken.
        #[serde(rename = "chatId", default, deserialize_with = "as_text")]
        chat_id: String,
    },
}

/// `"ACCEPT"`, `"Accept"` or `"accept"`: the native action identifiers are upper case.
fn action_any_case<'de, D: Deserializer<'de>>(d: D) -> Result<PushAction, D::Error> {
    let name = String::deserialize(d)?.to_lowercase();
    PushAction::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(name))
}

/// A string as it is, any other JSON value as JSON text, `null` as nothing.
fn as_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// Who is signed in, as far as push cares: an operator on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAccount {
    /// The server's base URL.
    pub server: String,
    /// The operator.
    pub operator: OperatorId,
}

/// This device's push token, as the platform reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushToken {
    /// APNs or FCM.
    pub platform: PushPlatform,
    /// The token.
    pub token: String,
}

/// One registration: this token for this account. Its outcome is reported back with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The account to register the device with.
    pub account: PushAccount,
    /// The token to register.
    pub token: PushToken,
}

/// What happened, as [`PushRegistration`] hears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushEvent {
    /// The native side reported the push token (new, rotated, or the same at a start).
    Token(PushToken),
    /// An operator signed in (or a kept session was restored at start).
    SignedIn(PushAccount),
    /// The operator signed out, or the server ended the session.
    SignedOut,
    /// The live connection is up again: a good moment to retry.
    Online,
    /// The delay of a [`PushStep::RetryIn`] has passed.
    RetryDue,
    /// The server registered the device.
    Succeeded(Registration),
    /// The registration failed (offline, or refused).
    Failed(Registration),
}

/// What the app should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushStep {
    /// Register the token with the server (`POST /api/operator/devices`), then report
    /// [`PushEvent::Succeeded`] or [`PushEvent::Failed`] with this registration.
    Register(Registration),
    /// Report [`PushEvent::RetryDue`] after this long.
    RetryIn(Duration),
    /// Tell the native side the server it answers notification actions to when the app is not
    /// running (Android), or that nobody is signed in (`None`).
    SetServer(Option<String>),
}

/// The first delay before trying a failed registration again; it doubles up to [`MAX_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_secs(5);

/// The longest delay between two tries of a failed registration.
pub const MAX_RETRY: Duration = Duration::from_secs(300);

/// When to register this device's push token: a pure state machine, fed [`PushEvent`]s,
/// answering [`PushStep`]s (see the module's invariants).
#[derive(Debug, Clone)]
pub struct PushRegistration {
    token: Option<PushToken>,
    account: Option<PushAccount>,
    /// The registration of the current account and token that is under way or done.
    current: Option<(Registration, Progress)>,
    /// The server the native side was told last.
    told: Option<String>,
    /// The delay before the next retry.
    backoff: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    InFlight,
    Done,
}

impl Default for PushRegistration {
    fn default() -> Self {
        PushRegistration::new()
    }
}

impl PushRegistration {
    /// Nothing known yet: no token, nobody signed in.
    pub fn new() -> PushRegistration {
        PushRegistration {
            token: None,
            account: None,
            current: None,
            told: None,
            backoff: FIRST_RETRY,
        }
    }

    /// Takes one event; returns what to do, in order.
    pub fn handle(&mut self, event: PushEvent) -> Vec<PushStep> {
        let mut steps = Vec::new();
        match event {
            PushEvent::Token(token) => {
                self.token = Some(token);
                self.backoff = FIRST_RETRY;
                self.register(&mut steps, true);
            }
            PushEvent::SignedIn(account) => {
                self.account = Some(account);
                self.backoff = FIRST_RETRY;
                self.tell_server(&mut steps);
                self.register(&mut steps, true);
            }
            PushEvent::SignedOut => {
                self.account = None;
                self.current = None;
                self.tell_server(&mut steps);
            }
            PushEvent::Online | PushEvent::RetryDue => self.register(&mut steps, false),
            PushEvent::Succeeded(done) => {
                if self.wanted().as_ref() == Some(&done) {
                    self.current = Some((done, Progress::Done));
                    self.backoff = FIRST_RETRY;
                }
            }
            PushEvent::Failed(failed) => {
                if self.current == Some((failed, Progress::InFlight)) {
                    self.current = None;
                    steps.push(PushStep::RetryIn(self.backoff));
                    self.backoff = (self.backoff * 2).min(MAX_RETRY);
                }
            }
        }
        steps
    }

    /// The registration the current account and token call for, if both are known.
    fn wanted(&self) -> Option<Registration> {
        Some(Registration {
            account: self.account.clone()?,
            token: self.token.clone()?,
        })
    }

    /// Registers the current token for the current account: always when `fresh` (the
    /// platform or a sign-in just reported it), else only when it is neither done nor under
    /// way.
    fn register(&mut self, steps: &mut Vec<PushStep>, fresh: bool) {
        let Some(wanted) = self.wanted() else {
            return;
        };
        if !fresh && self.current.as_ref().is_some_and(|(r, _)| *r == wanted) {
            return;
        }
        self.current = Some((wanted.clone(), Progress::InFlight));
        steps.push(PushStep::Register(wanted));
    }

    /// Tells the native side the signed-in server when it changed.
    fn tell_server(&mut self, steps: &mut Vec<PushStep>) {
        let server = self.account.as_ref().map(|a| a.server.clone());
        if server != self.told {
            self.told.clone_from(&server);
            steps.push(PushStep::SetServer(server));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(server: &str, id: i64) -> PushAccount {
        PushAccount {
            server: server.into(),
            operator: OperatorId(id),
        }
    }

    fn token(t: &str) -> PushToken {
        PushToken {
            platform: PushPlatform::Apns,
            token: t.into(),
        }
    }

    fn registration(a: &PushAccount, t: &PushToken) -> Registration {
        Registration {
            account: a.clone(),
            token: t.clone(),
        }
    }

    fn register(a: &PushAccount, t: &PushToken) -> PushStep {
        PushStep::Register(registration(a, t))
    }

    fn set_server(server: Option<&str>) -> PushStep {
        PushStep::SetServer(server.map(str::to_owned))
    }

    /// Operator 1 signed in on `https://sb.test`, their token `t1` being registered.
    fn registering() -> (PushRegistration, PushAccount, PushToken) {
        let mut p = PushRegistration::new();
        let (a, t) = (account("https://sb.test", 1), token("t1"));
        p.handle(PushEvent::SignedIn(a.clone()));
        p.handle(PushEvent::Token(t.clone()));
        (p, a, t)
    }

    #[test]
    fn the_native_messages_parse() {
        let cases = [
            (
                r#"{"kind":"token","platform":"apns","token":"a1b2c3"}"#,
                NativeEvent::Token {
                    platform: PushPlatform::Apns,
                    token: "a1b2c3".into(),
                },
            ),
            (
                r#"{"kind":"token","platform":"fcm","token":"fcm:tok-1"}"#,
                NativeEvent::Token {
                    platform: PushPlatform::Fcm,
                    token: "fcm:tok-1".into(),
                },
            ),
            (
                r#"{"kind":"action","action":"ACCEPT","actionToken":"at-1","chatId":"42"}"#,
                NativeEvent::Action {
                    action: PushAction::Accept,
                    action_token: "at-1".into(),
                    chat_id: "42".into(),
                },
            ),
            (
                r#"{"kind":"action","action":"QUEUE","actionToken":"at-2","chatId":"7"}"#,
                NativeEvent::Action {
                    action: PushAction::Queue,
                    action_token: "at-2".into(),
                    chat_id: "7".into(),
                },
            ),
            (
                // iOS sends "" when the push had no chat id; a number is taken too
                r#"{"kind":"action","action":"DECLINE","actionToken":"at-3","chatId":""}"#,
                NativeEvent::Action {
                    action: PushAction::Decline,
                    action_token: "at-3".into(),
                    chat_id: String::new(),
                },
            ),
            (
                r#"{"kind":"action","action":"decline","actionToken":"at-4","chatId":9}"#,
                NativeEvent::Action {
                    action: PushAction::Decline,
                    action_token: "at-4".into(),
                    chat_id: "9".into(),
                },
            ),
        ];
        for (json, want) in cases {
            let got: NativeEvent = serde_json::from_str(json).unwrap();
            assert_eq!(got, want, "{json}");
        }
    }

    #[test]
    fn malformed_native_messages_are_refused() {
        for json in [
            r#"{"kind":"badge","count":3}"#,
            r#"{"kind":"token","platform":"wns","token":"x"}"#,
            r#"{"kind":"token","platform":"apns"}"#,
            r#"{"kind":"action","action":"SNOOZE","actionToken":"t","chatId":"1"}"#,
            r#"{"kind":"action","action":"ACCEPT","chatId":"1"}"#,
            "not json",
        ] {
            assert!(serde_json::from_str::<NativeEvent>(json).is_err(), "{json}");
        }
    }

    /// Feeds the events in order and checks what each one answers.
    fn script(p: &mut PushRegistration, lines: Vec<(PushEvent, Vec<PushStep>)>) {
        for (n, (event, want)) in lines.into_iter().enumerate() {
            let what = format!("line {n}: {event:?}");
            assert_eq!(p.handle(event), want, "{what}");
        }
    }

    #[test]
    fn a_token_before_sign_in_registers_at_sign_in() {
        let (a, t) = (account("https://sb.test", 1), token("t1"));
        let signed_in = vec![set_server(Some("https://sb.test")), register(&a, &t)];
        script(
            &mut PushRegistration::new(),
            vec![
                (PushEvent::Token(t.clone()), vec![]),
                (PushEvent::Online, vec![]),
                (PushEvent::SignedIn(a.clone()), signed_in),
            ],
        );
    }

    #[test]
    fn a_token_while_signed_in_registers_at_once() {
        let (a, t) = (account("https://sb.test", 1), token("t1"));
        script(
            &mut PushRegistration::new(),
            vec![
                (
                    PushEvent::SignedIn(a.clone()),
                    vec![set_server(Some("https://sb.test"))],
                ),
                (PushEvent::Token(t.clone()), vec![register(&a, &t)]),
            ],
        );
    }

    #[test]
    fn a_done_registration_is_not_repeated_until_something_changes() {
        let (mut p, a, t) = registering();
        let (t2, b) = (token("t2"), account("https://sb.test", 2));
        script(
            &mut p,
            vec![
                // under way: coming online does not start a second one
                (PushEvent::Online, vec![]),
                (PushEvent::Succeeded(registration(&a, &t)), vec![]),
                (PushEvent::Online, vec![]),
                (PushEvent::RetryDue, vec![]),
                // the token rotates: the new one is registered
                (PushEvent::Token(t2.clone()), vec![register(&a, &t2)]),
                // another operator signs in on the same server: registered for them
                (PushEvent::SignedIn(b.clone()), vec![register(&b, &t2)]),
            ],
        );
    }

    #[test]
    fn a_failed_registration_is_retried_with_a_growing_delay() {
        let (mut p, a, t) = registering();
        let r = registration(&a, &t);
        let mut delays = Vec::new();
        for _ in 0..8 {
            let steps = p.handle(PushEvent::Failed(r.clone()));
            let [PushStep::RetryIn(d)] = steps[..] else {
                panic!("expected one retry, got {steps:?}");
            };
            delays.push(d.as_secs());
            assert_eq!(p.handle(PushEvent::RetryDue), vec![register(&a, &t)]);
        }
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300]);
        script(
            &mut p,
            vec![
                // the connection coming back retries at once too
                (
                    PushEvent::Failed(r.clone()),
                    vec![PushStep::RetryIn(MAX_RETRY)],
                ),
                (PushEvent::Online, vec![register(&a, &t)]),
                // a success resets the delay
                (PushEvent::Succeeded(r.clone()), vec![]),
                (PushEvent::Token(t.clone()), vec![register(&a, &t)]),
                (PushEvent::Failed(r), vec![PushStep::RetryIn(FIRST_RETRY)]),
            ],
        );
    }

    #[test]
    fn answers_about_an_old_token_or_account_change_nothing() {
        let (mut p, a, t1) = registering();
        let t2 = token("t2");
        script(
            &mut p,
            vec![
                (PushEvent::Token(t2.clone()), vec![register(&a, &t2)]),
                // the first registration fails after the token rotated: no retry of t1
                (PushEvent::Failed(registration(&a, &t1)), vec![]),
                // nor does its late success count for t2
                (PushEvent::Succeeded(registration(&a, &t1)), vec![]),
                (
                    PushEvent::Failed(registration(&a, &t2)),
                    vec![PushStep::RetryIn(FIRST_RETRY)],
                ),
                (PushEvent::RetryDue, vec![register(&a, &t2)]),
            ],
        );
    }

    #[test]
    fn signing_out_forgets_the_registration_but_keeps_the_token() {
        let (mut p, a, t) = registering();
        let signed_in_again = vec![set_server(Some("https://sb.test")), register(&a, &t)];
        script(
            &mut p,
            vec![
                (PushEvent::Succeeded(registration(&a, &t)), vec![]),
                (PushEvent::SignedOut, vec![set_server(None)]),
                // signed out, nothing registers, and a late failure schedules nothing
                (PushEvent::RetryDue, vec![]),
                (PushEvent::Failed(registration(&a, &t)), vec![]),
                // the same operator signs in again: registered again (the server forgot
                // the device at sign-out)
                (PushEvent::SignedIn(a.clone()), signed_in_again),
            ],
        );
    }

    #[test]
    fn the_native_side_hears_of_the_server_only_when_it_changes() {
        script(
            &mut PushRegistration::new(),
            vec![
                (PushEvent::SignedOut, vec![]),
                (
                    PushEvent::SignedIn(account("https://one.test", 1)),
                    vec![set_server(Some("https://one.test"))],
                ),
                (PushEvent::SignedIn(account("https://one.test", 2)), vec![]),
                (
                    PushEvent::SignedIn(account("https://two.test", 2)),
                    vec![set_server(Some("https://two.test"))],
                ),
                (PushEvent::SignedOut, vec![set_server(None)]),
            ],
        );
    }
}
