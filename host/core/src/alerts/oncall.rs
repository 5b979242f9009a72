//! On-call schedules: a rotation of contacts handing over at a civil time in a zone, with
//! temporary overrides on top. A rotation runs every day of the year, holidays included
//! (that is what it is for); days are counted in civil dates, so a daylight-saving change
//! moves the hand-off instant, never the turn. Pure.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::hours::timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rotation {
    Daily,
    Weekly,
}

impl Rotation {
    fn days(self) -> i64 {
        match self {
            Rotation::Daily => 1,
            Rotation::Weekly => 7,
        }
    }
}

/// Someone covers from `from` to `to` instead of the rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub contact: String,
    pub from: Timestamp,
    pub to: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Contact names, in turn.
    pub contacts: Vec<String>,
    pub rotation: Rotation,
    /// When a shift hands over, on the schedule's clock.
    pub handoff: Time,
    /// IANA zone of the hand-off time.
    pub timezone: String,
    /// The date the first contact's first shift starts (at the hand-off time).
    pub start: Date,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

/// Who is on call, and until when (ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub contact: String,
    pub from: i64,
    pub until: i64,
    /// Covering by an override.
    pub covering: bool,
}

impl Schedule {
    /// Checks what serde cannot: names the field that is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.contacts.is_empty() {
            return Err("contacts: a rotation needs at least one contact".into());
        }
        TimeZone::get(&self.timezone)
            .map_err(|_| format!("timezone: `{}` is not an IANA time zone", self.timezone))?;
        for (i, o) in self.overrides.iter().enumerate() {
            if o.to <= o.from {
                return Err(format!("overrides[{i}]: `to` must be after `from`"));
            }
        }
        Ok(())
    }

    fn zone(&self) -> TimeZone {
        TimeZone::get(&self.timezone).unwrap_or(TimeZone::UTC)
    }

    /// The rotation's shift containing `at`, ignoring overrides.
    fn rotation_at(&self, at: i64) -> Shift {
        let zone = self.zone();
        let local = timestamp(at).to_zoned(zone.clone());
        let mut date = local.date();
        if local.time() < self.handoff {
            date = date.yesterday().unwrap_or(date);
        }
        let elapsed = (date - self.start).get_days() as i64;
        let period = self.rotation.days();
        let turn = elapsed.div_euclid(period);
        let first = self
            .start
            .checked_add(jiff::Span::new().days(turn * period));
        let first = first.unwrap_or(date);
        let last = first
            .checked_add(jiff::Span::new().days(period))
            .unwrap_or(first);
        let instant = |d: Date| {
            zone.to_zoned(d.to_datetime(self.handoff))
                .map_or(at, |z| z.timestamp().as_millisecond())
        };
        let n = self.contacts.len() as i64;
        Shift {
            contact: self.contacts[turn.rem_euclid(n) as usize].clone(),
            from: instant(first),
            until: instant(last),
            covering: false,
        }
    }

    /// Who is on call at `at`: an override covering it, else the rotation.
    pub fn on_call(&self, at: i64) -> Shift {
        let shift = self.rotation_at(at);
        let covering = self
            .overrides
            .iter()
            .rev()
            .find(|o| o.from.as_millisecond() <= at && at < o.to.as_millisecond());
        match covering {
            Some(o) => Shift {
                contact: o.contact.clone(),
                from: o.from.as_millisecond(),
                until: o.to.as_millisecond(),
                covering: true,
            },
            None => {
                // The rotation's shift ends early where an override begins.
                let until = self
                    .overrides
                    .iter()
                    .map(|o| o.from.as_millisecond())
                    .filter(|&from| from > at && from < shift.until)
                    .min()
                    .unwrap_or(shift.until);
                Shift { until, ..shift }
            }
        }
    }

    /// Overrides that ended before `now` are of no further use.
    pub fn forget_past_overrides(&mut self, now: i64) {
        self.overrides.retain(|o| o.to.as_millisecond() > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn schedule() -> Schedule {
        Schedule {
            contacts: vec!["rossi".into(), "bianchi".into(), "verdi".into()],
            rotation: Rotation::Weekly,
            handoff: Time::constant(9, 0, 0, 0),
            timezone: "Europe/Rome".into(),
            start: Date::constant(2026, 8, 3),
            overrides: Vec::new(),
        }
    }

    #[test]
    fn weekly_turns_hand_over_at_the_civil_time() {
        let s = schedule();
        assert_eq!(s.on_call(at("2026-08-03T09:00:00+02:00")).contact, "rossi");
        assert_eq!(s.on_call(at("2026-08-10T08:59:00+02:00")).contact, "rossi");
        let shift = s.on_call(at("2026-08-15T06:10:00+02:00"));
        assert_eq!(shift.contact, "bianchi");
        assert_eq!(shift.until, at("2026-08-17T09:00:00+02:00"));
        assert_eq!(s.on_call(at("2026-08-24T10:00:00+02:00")).contact, "rossi");
        // Before the start the rotation runs backwards in the same order.
        assert_eq!(s.on_call(at("2026-07-30T10:00:00+02:00")).contact, "verdi");
    }

    #[test]
    fn an_override_covers_and_shortens_the_shift_before_it() {
        let mut s = schedule();
        s.overrides.push(Override {
            contact: "verdi".into(),
            from: "2026-08-15T00:00:00+02:00".parse().unwrap(),
            to: "2026-08-16T00:00:00+02:00".parse().unwrap(),
        });
        let before = s.on_call(at("2026-08-14T12:00:00+02:00"));
        assert_eq!(before.contact, "bianchi");
        assert_eq!(before.until, at("2026-08-15T00:00:00+02:00"));
        let covered = s.on_call(at("2026-08-15T06:10:00+02:00"));
        assert_eq!(
            (covered.contact.as_str(), covered.covering),
            ("verdi", true)
        );
    }

    #[test]
    fn daily_rotation_across_the_dst_change_keeps_its_turns() {
        let s = Schedule {
            rotation: Rotation::Daily,
            start: Date::constant(2026, 3, 27),
            ..schedule()
        };
        assert_eq!(
            s.on_call(at("2026-03-28T12:00:00+01:00")).contact,
            "bianchi"
        );
        let sunday = s.on_call(at("2026-03-29T12:00:00+02:00"));
        assert_eq!(sunday.contact, "verdi");
        assert_eq!(sunday.from, at("2026-03-29T09:00:00+02:00"));
    }
}
