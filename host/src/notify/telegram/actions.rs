//! What an alert's buttons carry and ask for: written here for the message and read here
//! when a button is pressed, so the two cannot drift. Only what the buttons offer is
//! obeyed; callback data is the presser's to forge.

use std::time::Duration;

use super::client::Button;

/// The snoozes a firing alert offers, with their labels.
pub const SNOOZES: [(Duration, &str); 2] = [
    (Duration::from_secs(3600), "💤 1 h"),
    (Duration::from_secs(4 * 3600), "💤 4 h"),
];

/// What a button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Acknowledge(i64),
    Snooze(i64, Duration),
}

impl Action {
    pub fn alert(self) -> i64 {
        match self {
            Action::Acknowledge(id) | Action::Snooze(id, _) => id,
        }
    }

    /// The button for this action.
    pub fn button(self) -> Button {
        match self {
            Action::Acknowledge(id) => ("✋ Acknowledge".into(), format!("ack:{id}")),
            Action::Snooze(id, length) => {
                let label = SNOOZES
                    .iter()
                    .find(|(offered, _)| *offered == length)
                    .map_or("💤", |(_, label)| label);
                (label.into(), format!("snooze:{id}:{}", length.as_secs()))
            }
        }
    }

    /// The action a button's data asks for, if it is one the buttons offer.
    pub fn parse(data: &str) -> Option<Action> {
        let mut parts = data.split(':');
        let action = match (parts.next()?, parts.next()?.parse().ok()?, parts.next()) {
            ("ack", id, None) => Action::Acknowledge(id),
            ("snooze", id, Some(secs)) => {
                let length = Duration::from_secs(secs.parse().ok()?);
                SNOOZES.iter().find(|(offered, _)| *offered == length)?;
                Action::Snooze(id, length)
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
        for action in [
            Action::Acknowledge(12),
            Action::Snooze(12, SNOOZES[0].0),
            Action::Snooze(12, SNOOZES[1].0),
        ] {
            assert_eq!(Action::parse(&action.button().1), Some(action));
        }
        for bad in [
            "",
            "ack",
            "ack:x",
            "ack:1:2",
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
