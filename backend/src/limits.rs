//! Rate limits on what anyone may ask of the server, keyed by who asks: chats started per
//! visitor and per address, new visitors and offline messages per address, sign-in attempts
//! per account and per address, frames per connection. The numbers are the admin's
//! ([`switchboard_shared::Limits`] in the settings); a change applies at once.
//!
//! Each limit lets a burst of its number through, then one more every `1/n` of its period
//! (GCRA, by `governor`). Past it the answer is `rate_limited` with when to try again, and the
//! caller stores nothing. Addresses are the TCP peer's (or the proxy's `X-Forwarded-For` when
//! the config trusts it).

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{NotUntil, Quota, RateLimiter};
use switchboard_shared::{Limits, VisitorId};
use tokio::sync::watch;

use crate::error::Error;
use crate::settings::LiveSettings;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// One connection's frame budget.
pub struct Frames(RateLimiter<NotKeyed, InMemoryState, DefaultClock>);

impl Frames {
    /// Counts a frame; refused past the budget.
    pub fn check(&self) -> Result<(), Error> {
        self.0.check().map_err(refused)
    }
}

/// The limiters for one set of numbers.
struct Set {
    limits: Limits,
    chats_per_visitor: Keyed<VisitorId>,
    chats_per_address: Keyed<IpAddr>,
    new_visitors_per_address: Keyed<IpAddr>,
    offline_messages_per_address: Keyed<IpAddr>,
    logins_per_account: Keyed<String>,
    logins_per_address: Keyed<IpAddr>,
}

impl Set {
    fn new(limits: Limits) -> Set {
        Set {
            limits,
            chats_per_visitor: per_minute(limits.chats_per_visitor_per_minute),
            chats_per_address: per_minute(limits.chats_per_address_per_minute),
            new_visitors_per_address: per_minute(limits.new_visitors_per_address_per_minute),
            offline_messages_per_address: per_minute(
                limits.offline_messages_per_address_per_minute,
            ),
            logins_per_account: per_minute(limits.logins_per_account_per_minute),
            logins_per_address: per_minute(limits.logins_per_address_per_minute),
        }
    }

    /// Forgets keys whose budget is full again, so the maps hold only who asked lately.
    fn forget_the_quiet(&self) {
        self.chats_per_visitor.retain_recent();
        self.chats_per_address.retain_recent();
        self.new_visitors_per_address.retain_recent();
        self.offline_messages_per_address.retain_recent();
        self.logins_per_account.retain_recent();
        self.logins_per_address.retain_recent();
    }
}

fn per_minute<K: Hash + Eq + Clone>(n: u32) -> Keyed<K> {
    RateLimiter::keyed(Quota::per_minute(at_least_one(n)))
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn refused(not_until: NotUntil<<DefaultClock as Clock>::Instant>) -> Error {
    Error::rate_limited(not_until.wait_time_from(DefaultClock::default().now()))
}

/// Cheap-to-clone handle to the limiters.
#[derive(Clone)]
pub struct RateLimits {
    settings: LiveSettings,
    current: Arc<watch::Sender<Arc<Set>>>,
}

impl RateLimits {
    /// Limiters for the current settings (rebuilt when the admin changes the numbers), and a
    /// sweep that forgets quiet keys every minute.
    pub fn start(settings: &LiveSettings) -> RateLimits {
        let first = settings.with(|s| s.limits);
        let limits = RateLimits {
            settings: settings.clone(),
            current: Arc::new(watch::Sender::new(Arc::new(Set::new(first)))),
        };
        let current = Arc::downgrade(&limits.current);
        tokio::spawn(async move {
            let mut sweep = tokio::time::interval(Duration::from_secs(60));
            loop {
                sweep.tick().await;
                let Some(current) = current.upgrade() else {
                    return; // the server is gone
                };
                current.borrow().forget_the_quiet();
            }
        });
        limits
    }

    /// The limiters for the numbers in force now: a change takes effect with the next check.
    fn set(&self) -> Arc<Set> {
        let wanted = self.settings.with(|s| s.limits);
        let set = self.current.borrow().clone();
        if set.limits == wanted {
            return set;
        }
        let fresh = Arc::new(Set::new(wanted));
        self.current.send_replace(fresh.clone());
        fresh
    }

    /// A visitor starts a chat.
    pub fn chat_start(&self, visitor: VisitorId, address: IpAddr) -> Result<(), Error> {
        let set = self.set();
        set.chats_per_visitor.check_key(&visitor).map_err(refused)?;
        set.chats_per_address.check_key(&address).map_err(refused)
    }

    /// A browser gets a new visitor token.
    pub fn new_visitor(&self, address: IpAddr) -> Result<(), Error> {
        let set = self.set();
        set.new_visitors_per_address
            .check_key(&address)
            .map_err(refused)
    }

    /// Someone leaves an offline message.
    pub fn offline_message(&self, address: IpAddr) -> Result<(), Error> {
        let set = self.set();
        set.offline_messages_per_address
            .check_key(&address)
            .map_err(refused)
    }

    /// A sign-in attempt for `account` (the e-mail as typed, lower-cased; unknown ones too).
    pub fn login(&self, account: &str, address: IpAddr) -> Result<(), Error> {
        let set = self.set();
        set.logins_per_address
            .check_key(&address)
            .map_err(refused)?;
        set.logins_per_account
            .check_key(&account.to_owned())
            .map_err(refused)
    }

    /// A new connection's frame budget: its rate, in bursts of up to twice as many (a widget
    /// back online sends what it queued at once).
    pub fn frames(&self) -> Frames {
        let n = self.set().limits.frames_per_connection_per_second;
        let burst = at_least_one(n.saturating_mul(2));
        Frames(RateLimiter::direct(
            Quota::per_second(at_least_one(n)).allow_burst(burst),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_lets_its_burst_through_then_says_when_to_retry() {
        let set = Set::new(Limits {
            chats_per_visitor_per_minute: 2,
            ..Limits::default()
        });
        let me = VisitorId(1);
        assert!(set.chats_per_visitor.check_key(&me).is_ok());
        assert!(set.chats_per_visitor.check_key(&me).is_ok());
        let Err(Error::RateLimited { retry_after_secs }) =
            set.chats_per_visitor.check_key(&me).map_err(refused)
        else {
            panic!("the third is refused");
        };
        assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}");
        assert!(
            set.chats_per_visitor.check_key(&VisitorId(2)).is_ok(),
            "others are not affected"
        );
    }

    #[test]
    fn frames_are_counted_per_connection() {
        let frames = Frames(RateLimiter::direct(Quota::per_second(at_least_one(3))));
        for _ in 0..3 {
            assert!(frames.check().is_ok());
        }
        assert!(matches!(frames.check(), Err(Error::RateLimited { .. })));
    }
}
