//! What an alert's buttons carry and ask for: written here for the message and read here
//! when a button is pressed, so the two cannot drift. Only what the buttons offer is
//! obeyed; callback data is the presser's to forge.

use std::time::Duration;

use super::client::Button;
use crate::i18n::Lang;

/// The snoozes a firing alert offers, in hours.
pub const SNOOZES: [u64; 2] = [1, 4];

pub use crate::alerts::On;

/// A button's target in its data: an alert `12`, an incident `i12`.
fn write(on: On) -> String {
    match on {
        On::Alert(id) => id.to_string(),
        On::Incident(id) => format!("i{id}"),
    }
}

fn read(text: &str) -> Option<On> {
    match text.strip_prefix('i') {
        Some(id) => Some(On::Incident(id.parse().ok()?)),
        None => Some(On::Alert(text.parse().ok()?)),
    }
}

/// What a button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Acknowledge(On),
    Snooze(On, Duration),
}

impl Action {
    pub fn on(self) -> On {
        match self {
            Action::Acknowledge(on) | Action::Snooze(on, _) => on,
        }
    }

    /// The buttons for something firing (acknowledge, the offered snoozes) or snoozed,
    /// labelled in the chat's language.
    pub fn offered(on: On, snoozed: bool, lang: Lang) -> Vec<Button> {
        let snoozes = SNOOZES
            .iter()
            .filter(|_| !snoozed)
            .map(|hours| Action::Snooze(on, Duration::from_secs(hours * 3600)));
        std::iter::once(Action::Acknowledge(on))
            .chain(snoozes)
            .map(|action| action.button(lang))
            .collect()
    }

    /// The button for this action.
    pub fn button(self, lang: Lang) -> Button {
        match self {
            Action::Acknowledge(on) => (lang.t("tg-button-ack"), format!("ack:{}", write(on))),
            Action::Snooze(on, length) => (
                lang.t_with(
                    "tg-button-snooze",
                    &[("hours", (length.as_secs() / 3600).into())],
                ),
                format!("snooze:{}:{}", write(on), length.as_secs()),
            ),
        }
    }

    /// The action a button's data asks for, if it is one the buttons offer.
    pub fn parse(data: &str) -> Option<Action> {
        let mut parts = data.split(':');
        let action = match (parts.next()?, read(parts.next()?)?, parts.next()) {
            ("ack", on, None) => Action::Acknowledge(on),
            ("snooze", on, Some(secs)) => {
                let length = Duration::from_secs(secs.parse().ok()?);
                SNOOZES
                    .iter()
                    .find(|hours| *hours * 3600 == length.as_secs())?;
                Action::Snooze(on, length)
            }
            _ => return None,
        };
        parts.next().is_none().then_some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_its_buttons_write_and_nothing_else() {
        let hour = Duration::from_secs(3600);
        for action in [
            Action::Acknowledge(On::Alert(12)),
            Action::Snooze(On::Alert(12), hour),
            Action::Snooze(On::Alert(12), 4 * hour),
            Action::Acknowledge(On::Incident(3)),
            Action::Snooze(On::Incident(3), hour),
        ] {
            assert_eq!(Action::parse(&action.button(Lang::Ru).1), Some(action));
        }
        assert_eq!(
            Action::Snooze(On::Alert(1), 4 * hour).button(Lang::Ru).0,
            "💤 4 ч"
        );
        for bad in [
            "",
            "ack",
            "ack:x",
            "ack:1:2",
            "ack:i",
            "ack:ix",
            "snooze:1",
            "snooze:1:x:y",
            "snooze:1:0",
            "snooze:1:60",
            "snooze:1:3153600000",
            "snooze:1:18446744073709551615",
            "drop:1",
        ] {
            assert_eq!(Action::parse(bad), None, "{bad}");
        }
    }
}
