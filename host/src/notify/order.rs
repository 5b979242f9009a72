//! Which waiting notifications may go out now: the outbox's order, decided in code from a
//! plain list of what waits (GoAlert's message queue decides the same way), so each rule
//! is a one-line test instead of a clause in a query.
//!
//! The rules, for entries to one chat (a topic of a forum group counts as its own chat):
//! - an alert's notices leave in the order they were queued, each only after the one
//!   before it is delivered (nobody reads "resolved" before "firing"); so do an
//!   incident's;
//! - a digest leaves before anything queued after it;
//! - a new alert's message waits for the message of its story's first alert, so it can
//!   reply there;
//! - an entry waits for its retry time, and for a `sending` mark to be known interrupted
//!   (older than a call can take, or left by this node before it started again);
//! - of what may go, critical alerts and incidents go first, then the rest in the order
//!   queued: a chat's budget (Telegram's 20 messages a minute in a group) is spent on a
//!   lost dongle before a storm of warnings queued ahead of it.

use std::collections::{HashMap, HashSet};

use crate::alerts::NoticeKind;
use crate::alerts::directory::Destination;
use crate::plugins::Severity;
use crate::store::{OutboxEntry, Waiting};

/// A chat with at least this many new alerts going out at once, more than its budget
/// allows now, gets them in one summary message instead of a storm.
const FOLD_AT: usize = 4;

/// Which `sending` marks are known to be interrupted: older than the longest a call can
/// take, or left by this node before it started again.
#[derive(Debug, Clone, Copy)]
pub struct Interrupted<'a> {
    pub before: i64,
    pub node: &'a str,
    pub node_since: i64,
}

impl Interrupted<'_> {
    /// Whether an entry marked `sending` at `at` by `by` may be sent again.
    fn over(&self, at: i64, by: Option<&str>) -> bool {
        at <= self.before || (by == Some(self.node) && at < self.node_since)
    }
}

/// The entries to deliver at `now` (wall clock, ms), the critical first, then oldest
/// first, at most `limit`. `waiting` is every undelivered entry not held for a digest, in
/// the order it was queued (by id); entries that may not go yet still hold back the ones
/// queued behind them.
pub fn heads(
    waiting: Vec<Waiting>,
    now: i64,
    interrupted: Interrupted<'_>,
    limit: usize,
) -> Vec<OutboxEntry> {
    let first_posts: HashSet<(i64, Destination)> = waiting
        .iter()
        .filter(|w| w.entry.kind == NoticeKind::Post)
        .filter_map(|w| Some((w.entry.alert_id?, w.entry.to)))
        .collect();
    let mut alerts_before = HashSet::new();
    let mut incidents_before = HashSet::new();
    let mut digests_before = HashSet::new();
    let mut heads = Vec::new();
    for w in waiting {
        let entry = &w.entry;
        let to = entry.to;
        let behind = entry
            .alert_id
            .is_some_and(|id| alerts_before.contains(&(id, to)))
            || entry
                .incident_id
                .is_some_and(|id| incidents_before.contains(&(id, to)))
            || digests_before.contains(&to);
        let replies = entry.kind == NoticeKind::Post
            && w.story
                .is_some_and(|first| first_posts.contains(&(first, to)));
        let due = w.retry_at <= now
            && entry
                .interrupted
                .is_none_or(|at| interrupted.over(at, w.sending_by.as_deref()));
        alerts_before.extend(entry.alert_id.map(|id| (id, to)));
        incidents_before.extend(entry.incident_id.map(|id| (id, to)));
        if entry.kind == NoticeKind::Digest {
            digests_before.insert(to);
        }
        if due && !behind && !replies {
            heads.push(w.entry);
        }
    }
    // Stable: among the critical, and among the rest, the order queued stands.
    heads.sort_by_key(|e| e.severity != Some(Severity::Critical));
    heads.truncate(limit);
    heads
}

/// The heads grouped into Bot API calls: one each, but where a chat has more new
/// alerts going out than its budget (`budget`: calls a chat may have now) allows, those
/// posts become one call (an incident's card is never folded: it already stands for
/// many). The last few calls of a chat's budget are kept for summaries: with little
/// left, even two new alerts share one message.
///
/// New info alerts (a sales signal, a note) never need a message each: two or more
/// going to one chat at once always share one.
pub fn calls(
    heads: Vec<OutboxEntry>,
    mut budget: impl FnMut(i64) -> usize,
) -> Vec<Vec<OutboxEntry>> {
    let foldable = |e: &OutboxEntry| e.kind == NoticeKind::Post && e.alert_id.is_some();
    let info = |e: &OutboxEntry| foldable(e) && e.severity == Some(Severity::Info);
    let mut posts: HashMap<Destination, (usize, usize)> = HashMap::new();
    for entry in heads.iter().filter(|e| foldable(e)) {
        let (all, infos) = posts.entry(entry.to).or_default();
        *all += 1;
        *infos += usize::from(info(entry));
    }
    let folding: HashSet<Destination> = posts
        .iter()
        .filter(|(to, (n, _))| {
            let budget = budget(to.chat_id);
            (*n >= FOLD_AT && *n > budget) || (*n >= 2 && budget <= FOLD_AT)
        })
        .map(|(to, _)| *to)
        .collect();
    let folding_info: HashSet<Destination> = posts
        .iter()
        .filter(|(_, (_, infos))| *infos >= 2)
        .map(|(to, _)| *to)
        .collect();
    let mut folds: HashMap<(Destination, bool), Vec<OutboxEntry>> = HashMap::new();
    let mut calls = Vec::new();
    for entry in heads {
        if foldable(&entry) && folding.contains(&entry.to) {
            folds.entry((entry.to, false)).or_default().push(entry);
        } else if info(&entry) && folding_info.contains(&entry.to) {
            folds.entry((entry.to, true)).or_default().push(entry);
        } else {
            calls.push(vec![entry]);
        }
    }
    calls.extend(folds.into_values());
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;
    const CHAT: i64 = -100;
    const NODE: &str = "node-a";

    fn interrupted() -> Interrupted<'static> {
        Interrupted {
            before: NOW - 15_000,
            node: NODE,
            node_since: NOW - 5_000,
        }
    }

    /// An entry for alert `alert` to [`CHAT`], due, nobody sending it.
    fn to_alert(id: i64, alert: i64, kind: NoticeKind) -> Waiting {
        Waiting {
            entry: OutboxEntry {
                id,
                alert_id: Some(alert),
                incident_id: None,
                kind,
                to: Destination {
                    chat_id: CHAT,
                    thread_id: 0,
                },
                silent: false,
                payload: None,
                attempts: 0,
                interrupted: None,
                severity: None,
            },
            retry_at: NOW,
            sending_by: None,
            story: None,
        }
    }

    fn to_incident(id: i64, incident: i64, kind: NoticeKind) -> Waiting {
        let mut w = to_alert(id, 0, kind);
        w.entry.alert_id = None;
        w.entry.incident_id = Some(incident);
        w
    }

    fn digest(id: i64) -> Waiting {
        let mut w = to_alert(id, 0, NoticeKind::Digest);
        w.entry.alert_id = None;
        w
    }

    fn elsewhere(mut w: Waiting, chat_id: i64, thread_id: i64) -> Waiting {
        w.entry.to = Destination { chat_id, thread_id };
        w
    }

    fn ids(waiting: Vec<Waiting>) -> Vec<i64> {
        heads(waiting, NOW, interrupted(), 64)
            .iter()
            .map(|e| e.id)
            .collect()
    }

    #[test]
    fn an_alerts_notices_to_one_chat_leave_one_after_another() {
        let waiting = vec![
            to_alert(1, 7, NoticeKind::Post),
            to_alert(2, 7, NoticeKind::Refresh),
            to_alert(3, 8, NoticeKind::Post),
        ];
        assert_eq!(ids(waiting), [1, 3]);
    }

    #[test]
    fn the_same_alert_in_another_chat_or_topic_does_not_wait() {
        let waiting = vec![
            to_alert(1, 7, NoticeKind::Post),
            elsewhere(to_alert(2, 7, NoticeKind::Post), -200, 0),
            elsewhere(to_alert(3, 7, NoticeKind::Post), CHAT, 42),
        ];
        assert_eq!(ids(waiting), [1, 2, 3]);
    }

    #[test]
    fn an_incidents_notices_wait_for_the_one_before() {
        let waiting = vec![
            to_incident(1, 3, NoticeKind::Post),
            to_incident(2, 3, NoticeKind::Refresh),
            to_incident(3, 4, NoticeKind::Post),
        ];
        assert_eq!(ids(waiting), [1, 3]);
    }

    #[test]
    fn a_digest_goes_before_whatever_its_chat_was_sent_after_it() {
        let waiting = vec![
            to_alert(1, 7, NoticeKind::Post),
            digest(2),
            to_alert(3, 8, NoticeKind::Post),
            elsewhere(to_alert(4, 9, NoticeKind::Post), -200, 0),
        ];
        assert_eq!(ids(waiting), [1, 2, 4]);
    }

    #[test]
    fn a_new_alert_of_a_story_waits_for_the_message_of_its_first() {
        let mut later = to_alert(2, 8, NoticeKind::Post);
        later.story = Some(7);
        let mut edit = to_alert(3, 8, NoticeKind::Refresh);
        edit.story = Some(7);
        assert_eq!(
            ids(vec![to_alert(1, 7, NoticeKind::Post), later.clone()]),
            [1]
        );
        // Its first's message already delivered (or to another chat): it goes.
        assert_eq!(ids(vec![later.clone()]), [2]);
        assert_eq!(
            ids(vec![
                elsewhere(to_alert(1, 7, NoticeKind::Post), -200, 0),
                later.clone()
            ]),
            [1, 2]
        );
        // Only a new message replies; what follows it waits for it anyway.
        assert_eq!(ids(vec![to_alert(1, 7, NoticeKind::Post), edit]), [1, 3]);
        // Its first's post counts wherever it was queued, even after.
        let mut first_later = to_alert(5, 7, NoticeKind::Post);
        first_later.retry_at = NOW + 1;
        assert_eq!(ids(vec![later, first_later]), Vec::<i64>::new());
    }

    #[test]
    fn an_entry_not_due_yet_still_holds_back_what_follows_it() {
        let mut retrying = to_alert(1, 7, NoticeKind::Post);
        retrying.retry_at = NOW + 1;
        let waiting = vec![
            retrying,
            to_alert(2, 7, NoticeKind::Refresh),
            to_alert(3, 8, NoticeKind::Post),
        ];
        assert_eq!(ids(waiting), [3]);
    }

    #[test]
    fn a_sending_mark_is_respected_until_known_interrupted() {
        let marked = |id, at: i64, by: &str| {
            let mut w = to_alert(id, id, NoticeKind::Post);
            w.entry.interrupted = Some(at);
            w.sending_by = Some(by.to_string());
            w
        };
        let waiting = vec![
            // Another node, just now: maybe in Telegram's hands.
            marked(1, NOW - 1_000, "node-b"),
            // Another node, longer ago than a call can take.
            marked(2, NOW - 15_000, "node-b"),
            // This node, before it started again.
            marked(3, NOW - 6_000, NODE),
            // This node, since it started: a call of its own in flight.
            marked(4, NOW - 4_000, NODE),
        ];
        assert_eq!(ids(waiting), [2, 3]);
    }

    #[test]
    fn no_more_than_the_limit_oldest_first() {
        let waiting = (1..=10)
            .map(|id| to_alert(id, id, NoticeKind::Post))
            .collect();
        let picked: Vec<i64> = heads(waiting, NOW, interrupted(), 3)
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(picked, [1, 2, 3]);
    }

    fn post(id: i64, chat_id: i64, severity: Severity) -> OutboxEntry {
        let mut w = elsewhere(to_alert(id, id, NoticeKind::Post), chat_id, 0);
        w.entry.severity = Some(severity);
        w.entry
    }

    /// Each call's entry ids, calls in a stable order for comparing.
    fn grouped(heads: Vec<OutboxEntry>, budget: usize) -> Vec<Vec<i64>> {
        let mut calls: Vec<Vec<i64>> = calls(heads, |_| budget)
            .iter()
            .map(|call| call.iter().map(|e| e.id).collect())
            .collect();
        calls.sort();
        calls
    }

    #[test]
    fn new_alerts_beyond_a_chats_budget_fold_into_one_message() {
        let heads = (1..=5)
            .map(|id| post(id, CHAT, Severity::Critical))
            .collect();
        assert_eq!(grouped(heads, 20), [[1], [2], [3], [4], [5]].map(Vec::from));
        let heads: Vec<_> = (1..=5)
            .map(|id| post(id, CHAT, Severity::Critical))
            .collect();
        assert_eq!(grouped(heads, 4), [vec![1, 2, 3, 4, 5]]);
    }

    #[test]
    fn with_little_budget_left_even_two_share_a_message_but_one_goes_alone() {
        let two: Vec<_> = (1..=2)
            .map(|id| post(id, CHAT, Severity::Warning))
            .collect();
        assert_eq!(grouped(two.clone(), 4), [vec![1, 2]]);
        assert_eq!(grouped(two, 5), [vec![1], vec![2]]);
        assert_eq!(
            grouped(vec![post(1, CHAT, Severity::Warning)], 0),
            [vec![1]]
        );
    }

    #[test]
    fn info_alerts_always_share_a_message_and_only_posts_of_alerts_fold() {
        let mut heads = vec![
            post(1, CHAT, Severity::Info),
            post(2, CHAT, Severity::Info),
            post(3, CHAT, Severity::Critical),
            post(4, -200, Severity::Info),
        ];
        let mut refresh = post(5, CHAT, Severity::Info);
        refresh.kind = NoticeKind::Refresh;
        heads.push(refresh);
        let mut incident = to_incident(6, 9, NoticeKind::Post).entry;
        incident.severity = Some(Severity::Info);
        heads.push(incident);
        assert_eq!(
            grouped(heads, 20),
            [vec![1, 2], vec![3], vec![4], vec![5], vec![6]]
        );
    }

    #[test]
    fn a_storm_folds_per_chat() {
        let mut heads: Vec<_> = (1..=6)
            .map(|id| post(id, CHAT, Severity::Critical))
            .collect();
        heads.extend((7..=8).map(|id| post(id, -200, Severity::Critical)));
        assert_eq!(grouped(heads, 3), [vec![1, 2, 3, 4, 5, 6], vec![7, 8]]);
    }

    #[test]
    fn a_critical_alert_goes_before_what_was_queued_ahead_of_it() {
        let severe = |mut w: Waiting, severity| {
            w.entry.severity = Some(severity);
            w
        };
        let mut waiting: Vec<Waiting> = (1..=5)
            .map(|n| severe(to_alert(n, n, NoticeKind::Post), Severity::Warning))
            .collect();
        waiting.push(severe(to_alert(6, 6, NoticeKind::Post), Severity::Critical));
        waiting.push(severe(
            to_incident(7, 1, NoticeKind::Post),
            Severity::Critical,
        ));
        assert_eq!(ids(waiting.clone()), [6, 7, 1, 2, 3, 4, 5]);
        // Past the limit too: the critical are never the ones left for the next round.
        let few: Vec<i64> = heads(waiting, NOW, interrupted(), 3)
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(few, [6, 7, 1]);
    }
}
