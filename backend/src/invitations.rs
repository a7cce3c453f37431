//! Automatic invitations (beyond the manual; `settings.auto_invitations`, off by default):
//! once a second the visitors on the site with no chat or invitation open are held against the
//! rules, and the first rule a visitor matches sends them an invitation in the name of the
//! least busy available operator — at most one per visit, through the same chat action as an
//! operator's Invite (so it is a chat in `invited`, with its events, for reports to count).

use std::time::Duration;

use sqlx::Row;
use switchboard_shared::{AutoInvitationRule, OperatorId, OperatorRef, SiteVisitor};

use crate::error::Error;
use crate::state::AppState;
use crate::store::now_ms;

/// How often the rules are looked at.
const EVERY: Duration = Duration::from_secs(1);

/// Whether `rule` holds for `visitor` at `now` (every condition set must).
pub fn matches(rule: &AutoInvitationRule, visitor: &SiteVisitor, now: i64) -> bool {
    let on_page_ms = now.saturating_sub(visitor.page_since);
    rule.url_contains
        .as_deref()
        .is_none_or(|part| visitor.page.url.contains(part))
        && on_page_ms >= i64::from(rule.min_secs_on_page) * 1000
        && visitor.pages >= rule.min_pages
        && (!rule.returning_only || visitor.visits > 1)
}

/// Starts the rounds; they stop when the server shuts down.
pub fn start(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if state.closing.is_closing() {
                return;
            }
            if let Err(e) = round(&state).await {
                tracing::warn!(error = %e, "automatic invitations");
            }
        }
    });
}

/// One round: every candidate that matches a rule is invited.
async fn round(state: &AppState) -> Result<(), Error> {
    let Some(auto) = state
        .settings
        .with(|s| s.auto_invitations.clone())
        .filter(|a| a.enabled && !a.rules.is_empty())
    else {
        return Ok(());
    };
    let now = now_ms();
    let due: Vec<(SiteVisitor, &AutoInvitationRule)> = state
        .monitor
        .auto_candidates(|v| auto.rules.iter().find(|r| matches(r, v, now)));
    if due.is_empty() {
        return Ok(());
    }
    for (visitor, rule) in due {
        let Some(operator) = least_busy_available(state).await? else {
            return Ok(()); // nobody to invite in the name of: try again next round
        };
        // Once a visit, whatever the answer (a visitor who just opened a chat is refused).
        state.monitor.mark_auto_invited(visitor.id);
        let text = rule
            .text
            .clone()
            .unwrap_or_else(|| state.settings.with(|s| s.default_invitation.clone()));
        let page = (!visitor.page.url.is_empty()).then(|| visitor.page.clone());
        match state.chats.invite(operator, visitor.id, text, page).await {
            Ok(_) => tracing::info!(visitor = %visitor.id, "automatic invitation sent"),
            Err(Error::Client { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The available operator leading the fewest active chats (the longest signed-up first on a
/// tie), if anyone is available.
async fn least_busy_available(state: &AppState) -> Result<Option<OperatorRef>, Error> {
    let row = sqlx::query(
        "select o.id, o.name from operators o where o.available = 1 \
         order by (select count(*) from chats c where c.operator_id = o.id \
                   and c.status = 'active'), o.id limit 1",
    )
    .fetch_optional(&state.store.read)
    .await?;
    row.map(|r| {
        Ok(OperatorRef {
            id: OperatorId(r.try_get(0)?),
            name: r.try_get(1)?,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::{Page, VisitorChat, VisitorId};

    fn visitor(url: &str, page_since: i64, pages: u32, visits: u32) -> SiteVisitor {
        SiteVisitor {
            id: VisitorId(1),
            name: None,
            page: Page {
                url: url.into(),
                title: None,
            },
            referrer: None,
            search_terms: None,
            arrived_at: 0,
            page_since,
            visits,
            pages,
            browser: None,
            os: None,
            language: None,
            utc_offset_min: None,
            chat: VisitorChat::None,
        }
    }

    #[test]
    fn every_condition_set_must_hold() {
        let rule = AutoInvitationRule {
            url_contains: Some("/checkout".into()),
            min_secs_on_page: 30,
            min_pages: 2,
            returning_only: true,
            text: None,
        };
        let now = 100_000;
        let ok = visitor("https://s/checkout/pay", now - 30_000, 2, 2);
        assert!(matches(&rule, &ok, now));
        assert!(!matches(
            &rule,
            &visitor("https://s/cart", now - 30_000, 2, 2),
            now
        ));
        assert!(!matches(
            &rule,
            &visitor("https://s/checkout", now - 29_999, 2, 2),
            now
        ));
        assert!(!matches(
            &rule,
            &visitor("https://s/checkout", now - 30_000, 1, 2),
            now
        ));
        assert!(!matches(
            &rule,
            &visitor("https://s/checkout", now - 30_000, 2, 1),
            now
        ));
        // An empty rule holds for everyone.
        assert!(matches(
            &AutoInvitationRule::default(),
            &visitor("", now, 0, 1),
            now
        ));
    }
}
