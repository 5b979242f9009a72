//! How long a login attempt must wait: growing delays per account and client address, as
//! OWASP's authentication guidance has it, instead of a lockout anyone could trigger.
//!
//! A lockout per account let a stranger keep a named administrator out for good at five
//! guesses a quarter hour. Here each address pays for its own failures (a few free, then
//! one second, two, four... up to a quarter hour between tries), and failures from
//! addresses the account never logged in from slow down other unknown addresses too, but
//! never an address the account's owner logs in from. Logging in by the bot's link
//! (`/login` in Telegram) is not a password attempt and is never throttled.
//!
//! Pure: the store keeps the counts, this decides.

/// Failures an address may make before it waits.
pub const FREE: i64 = 3;
/// Failures from unknown addresses, together, before every unknown address waits.
pub const FREE_FROM_STRANGERS: i64 = 10;
/// The longest wait between two tries.
pub const MAX_WAIT_MS: i64 = 15 * 60_000;
/// Failures older than this are forgotten.
pub const FORGET_AFTER_MS: i64 = 60 * 60_000;
/// An address counts as the owner's for this long after a login from it.
pub const KNOWN_FOR_MS: i64 = 90 * 24 * 60 * 60_000;

/// Failures counted against one account: from the address trying now, and from every
/// other address the account never logged in from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// From this address: how many, and when the latest.
    pub here: Option<(i64, i64)>,
    /// From unknown addresses (this one included when it is unknown): how many, and when
    /// the latest.
    pub strangers: Option<(i64, i64)>,
    /// The account logged in from this address within [`KNOWN_FOR_MS`].
    pub known: bool,
}

/// The wait after `count` failures, the latest at `last`, with `free` of them free.
fn wait_after(count: i64, last: i64, free: i64, now: i64) -> i64 {
    if count < free || now - last >= FORGET_AFTER_MS {
        return 0;
    }
    let exponent = (count - free).min(20) as u32;
    let wait = (1_000i64 << exponent).min(MAX_WAIT_MS);
    (last + wait - now).max(0)
}

/// How many milliseconds this attempt must still wait; zero: try the password.
pub fn wait(failures: Failures, now: i64) -> i64 {
    let here = failures
        .here
        .map_or(0, |(count, last)| wait_after(count, last, FREE, now));
    let strangers = match failures.strangers {
        Some((count, last)) if !failures.known => wait_after(count, last, FREE_FROM_STRANGERS, now),
        _ => 0,
    };
    here.max(strangers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_pays_for_its_own_failures_with_growing_waits() {
        let now = 1_000_000;
        let here = |count| Failures {
            here: Some((count, now)),
            strangers: Some((count, now)),
            known: false,
        };
        assert_eq!(wait(here(2), now), 0, "a few are free");
        assert_eq!(wait(here(3), now), 1_000);
        assert_eq!(wait(here(4), now), 2_000);
        assert_eq!(wait(here(8), now), 32_000);
        assert_eq!(
            wait(here(40), now),
            MAX_WAIT_MS,
            "never more than a quarter hour"
        );
        assert_eq!(
            wait(here(4), now + 1_500),
            500,
            "counted from the latest failure"
        );
        assert_eq!(
            wait(here(40), now + FORGET_AFTER_MS),
            0,
            "forgotten after an hour"
        );
    }

    #[test]
    fn strangers_never_slow_the_owners_address() {
        let now = 1_000_000;
        let strangers = Some((50, now));
        let owner = Failures {
            here: None,
            strangers,
            known: true,
        };
        assert_eq!(wait(owner, now), 0);
        let newcomer = Failures {
            here: None,
            strangers,
            known: false,
        };
        assert_eq!(
            wait(newcomer, now),
            MAX_WAIT_MS,
            "an unknown address waits behind the strangers' failures"
        );
        let few = Failures {
            here: None,
            strangers: Some((FREE_FROM_STRANGERS - 1, now)),
            known: false,
        };
        assert_eq!(wait(few, now), 0);
        let owner_mistyping = Failures {
            here: Some((FREE, now)),
            strangers,
            known: true,
        };
        assert_eq!(wait(owner_mistyping, now), 1_000, "but pays for its own");
    }
}
