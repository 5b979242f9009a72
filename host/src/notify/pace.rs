//! Telegram's limits kept on our side, so flood control is rare: calls per chat in a
//! sliding window (about 20 a minute in a group, one a second in a private chat) and the
//! spacing of edits of one message (Telegram refuses rapid edits).

use std::collections::{HashMap, VecDeque};

/// Per-chat sliding windows (at most so many calls within so long, as Telegram counts),
/// and per-message spacing of edits. Times are wall-clock ms: these are Telegram's
/// seconds, not the service's clock.
#[derive(Default)]
pub struct Pacer {
    chats: HashMap<i64, VecDeque<i64>>,
    edits: HashMap<(i64, i64), i64>,
}

/// The least time between two edits of one message.
const EDIT_EVERY: i64 = 1_500;

impl Pacer {
    /// (calls, within ms): groups 20 a minute, private chats about one a second.
    fn limits(chat_id: i64) -> (usize, i64) {
        if chat_id < 0 {
            (20, 60_000)
        } else {
            (10, 10_000)
        }
    }

    /// Calls `chat_id` may have at `now`.
    pub fn budget(&mut self, chat_id: i64, now: i64) -> usize {
        let (calls, within) = Pacer::limits(chat_id);
        let recent = self.chats.entry(chat_id).or_default();
        while recent.front().is_some_and(|at| now - at >= within) {
            recent.pop_front();
        }
        calls.saturating_sub(recent.len())
    }

    /// Takes a call's worth of budget for `chat_id` at `now`, or says when there will be
    /// one.
    pub fn take(&mut self, chat_id: i64, now: i64) -> Result<(), i64> {
        let (_, within) = Pacer::limits(chat_id);
        let free = self.budget(chat_id, now);
        let recent = self.chats.entry(chat_id).or_default();
        if free > 0 {
            recent.push_back(now);
            Ok(())
        } else {
            Err(recent.front().map_or(now, |first| first + within))
        }
    }

    /// Whether message `message_id` in `chat_id` may be edited at `now` (and then counts
    /// it), or when it may.
    pub fn edit(&mut self, chat_id: i64, message_id: i64, now: i64) -> Result<(), i64> {
        let last = self.edits.entry((chat_id, message_id)).or_insert(i64::MIN);
        if *last != i64::MIN && now - *last < EDIT_EVERY {
            return Err(*last + EDIT_EVERY);
        }
        *last = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: i64 = -100;
    const PERSON: i64 = 501;

    #[test]
    fn a_group_gets_twenty_calls_a_minute_then_waits_for_the_first_to_age_out() {
        let mut pacer = Pacer::default();
        for k in 0..20 {
            assert_eq!(pacer.take(GROUP, 1_000 + k), Ok(()), "call {k}");
        }
        assert_eq!(pacer.budget(GROUP, 1_020), 0);
        assert_eq!(pacer.take(GROUP, 1_020), Err(61_000));
        assert_eq!(pacer.budget(GROUP, 61_000), 1);
        assert_eq!(pacer.take(GROUP, 61_000), Ok(()));
    }

    #[test]
    fn a_private_chat_gets_ten_calls_in_ten_seconds_and_chats_do_not_share() {
        let mut pacer = Pacer::default();
        for k in 0..10 {
            assert_eq!(pacer.take(PERSON, k * 100), Ok(()));
        }
        assert_eq!(pacer.take(PERSON, 1_000), Err(10_000));
        assert_eq!(pacer.budget(GROUP, 1_000), 20);
        assert_eq!(pacer.take(PERSON, 10_000), Ok(()));
    }

    #[test]
    fn edits_of_one_message_are_spaced_others_are_not() {
        let mut pacer = Pacer::default();
        assert_eq!(pacer.edit(GROUP, 7, 10_000), Ok(()));
        assert_eq!(pacer.edit(GROUP, 7, 11_000), Err(11_500));
        assert_eq!(pacer.edit(GROUP, 8, 11_000), Ok(()));
        assert_eq!(pacer.edit(PERSON, 7, 11_000), Ok(()));
        assert_eq!(pacer.edit(GROUP, 7, 11_500), Ok(()));
    }
}
