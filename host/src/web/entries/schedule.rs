//! An on-call rotation: members in turn, a shift length, a hand-off time on a zone's clock,
//! and overrides written and shown on that same clock. Its line says who is on call now,
//! who is next, and the hand-offs of the next two weeks.

use jiff::tz::TimeZone;

use super::{Context, options};
use crate::alerts::oncall::{Override, Rotation, Schedule};
use crate::web::form::{Group, Layout, Problems, Sent, Widget, clock, instant, local, read};

const MEMBERS: &str = "members";
const OVERRIDES: &str = "overrides";
/// How far ahead the hand-offs are listed.
const STRIP_MS: i64 = 14 * 24 * 3_600_000;

pub fn fresh(ctx: &Context) -> Sent {
    let mut sent = Sent::default();
    sent.set("rotation", "weekly");
    sent.set("handoff", "09:00");
    sent.set("timezone", ctx.zone.clone());
    let today = jiff::Timestamp::from_millisecond(ctx.now)
        .map(|t| {
            t.to_zoned(TimeZone::get(&ctx.zone).unwrap_or(TimeZone::UTC))
                .date()
                .to_string()
        })
        .unwrap_or_default();
    sent.set("start", today);
    sent
}

pub fn sent(schedule: &Schedule) -> Sent {
    let mut sent = Sent::default();
    for (i, name) in schedule.contacts.iter().enumerate() {
        sent.set(format!("{MEMBERS}[{i}].contact"), name.clone());
    }
    sent.set("rotation", rotation_name(schedule.rotation));
    sent.set("handoff", clock(schedule.handoff));
    sent.set("timezone", schedule.timezone.clone());
    sent.set("start", schedule.start.to_string());
    for (i, o) in schedule.overrides.iter().enumerate() {
        let row = format!("{OVERRIDES}[{i}]");
        sent.set(format!("{row}.contact"), o.contact.clone());
        sent.set(format!("{row}.from"), local(o.from, &schedule.timezone));
        sent.set(format!("{row}.to"), local(o.to, &schedule.timezone));
    }
    sent
}

fn rotation_name(rotation: Rotation) -> &'static str {
    match rotation {
        Rotation::Daily => "daily",
        Rotation::Weekly => "weekly",
    }
}

pub fn parse(sent: &Sent, p: &mut Problems) -> Option<Schedule> {
    let contacts: Vec<String> = (0..sent.rows(MEMBERS))
        .map(|i| sent.one(&format!("{MEMBERS}[{i}].contact")))
        .filter(|name| !name.is_empty())
        .map(String::from)
        .collect();
    if contacts.is_empty() {
        p.add(&format!("{MEMBERS}[0].contact"), "form-one-member", &[]);
    }
    let rotation = match sent.one("rotation") {
        "daily" => Some(Rotation::Daily),
        _ => Some(Rotation::Weekly),
    };
    let handoff = p.required(sent, "handoff", read::time);
    let timezone = p.required(sent, "timezone", read::zone);
    let start = p.required(sent, "start", read::date);
    let zone = timezone.clone().unwrap_or_else(|| "UTC".into());
    let mut overrides = Vec::new();
    for i in (0..sent.rows(OVERRIDES)).filter(|&i| !sent.row_is_empty(OVERRIDES, i)) {
        let row = format!("{OVERRIDES}[{i}]");
        let contact = p.required(sent, &format!("{row}.contact"), read::text);
        let from = p.required(sent, &format!("{row}.from"), read::moment);
        let to = p.required(sent, &format!("{row}.to"), read::moment);
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            p.add(&format!("{row}.to"), "form-to-after-from", &[]);
        }
        if let (Some(contact), Some(from), Some(to)) = (contact, from, to) {
            overrides.push(Override {
                contact,
                from: instant(from, &zone),
                to: instant(to, &zone),
            });
        }
    }
    if !p.is_empty() {
        return None;
    }
    Some(Schedule {
        contacts,
        rotation: rotation?,
        handoff: handoff?,
        timezone: timezone?,
        start: start?,
        overrides,
    })
}

pub fn layout(l: &Layout, ctx: &Context) -> Vec<Group> {
    let members = (0..l.rows(MEMBERS).max(2))
        .map(|i| {
            let mut field = l.field(
                &format!("{MEMBERS}[{i}].contact"),
                "form-member",
                l.names(&ctx.contacts),
            );
            field.label = format!("{} {}", field.label, i + 1);
            field
        })
        .collect();
    let rotations = ["weekly", "daily"]
        .iter()
        .map(|r| (r.to_string(), l.lang.t(&format!("rotation-{r}"))))
        .collect();
    let mut groups = vec![
        Group {
            legend: Some(l.lang.t("form-members")),
            fields: members,
        },
        Group {
            legend: Some(l.lang.t("form-shifts")),
            fields: vec![
                l.field("rotation", "form-rotation", Widget::Choice(rotations)),
                l.field("handoff", "form-handoff", Widget::Time).needed(),
                l.field("timezone", "field-timezone", Widget::Suggest("zones"))
                    .needed(),
                l.hinted("start", "form-start", Widget::Date, "form-start-hint")
                    .needed(),
            ],
        },
    ];
    for i in 0..l.rows(OVERRIDES) {
        let row = format!("{OVERRIDES}[{i}]");
        groups.push(Group {
            legend: Some(l.lang.t("form-override")),
            fields: vec![
                l.field(
                    &format!("{row}.contact"),
                    "form-covering",
                    Widget::Choice(
                        [(String::new(), l.lang.t("form-none"))]
                            .into_iter()
                            .chain(options(&ctx.contacts))
                            .collect(),
                    ),
                ),
                l.hinted(
                    &format!("{row}.from"),
                    "form-from",
                    Widget::Moment,
                    "form-zone-of-rotation",
                ),
                l.field(&format!("{row}.to"), "form-to", Widget::Moment),
            ],
        });
    }
    groups
}

/// How the rotation runs, who is on call now and next, and the hand-offs ahead.
pub fn summary(schedule: &Schedule, ctx: &Context) -> Vec<String> {
    let lang = ctx.lang;
    let zone = TimeZone::get(&schedule.timezone).unwrap_or(TimeZone::UTC);
    let when = |at: i64| lang.moment(at, &zone);
    let now = schedule.on_call(ctx.now);
    let next = schedule.on_call(now.until);
    let mut lines = vec![
        lang.t_with(
            "summary-rotation",
            &[
                (
                    "rotation",
                    lang.t(&format!("rotation-{}", rotation_name(schedule.rotation)))
                        .into(),
                ),
                ("handoff", clock(schedule.handoff).into()),
                ("zone", schedule.timezone.clone().into()),
                ("members", schedule.contacts.join(" → ").into()),
            ],
        ),
        lang.t_with(
            if now.covering {
                "summary-now-covering"
            } else {
                "summary-now"
            },
            &[
                ("name", now.contact.clone().into()),
                ("until", when(now.until).into()),
            ],
        ),
        lang.t_with(
            "summary-next",
            &[
                ("name", next.contact.clone().into()),
                ("from", when(next.from).into()),
            ],
        ),
    ];
    // Hand-overs from one person to another, not every shift of the same person.
    let mut strip: Vec<String> = Vec::new();
    let mut last = now.contact.clone();
    let mut shift = next;
    while shift.from < ctx.now + STRIP_MS && strip.len() < 28 {
        if shift.contact != last {
            strip.push(format!(
                "{} {}",
                lang.date_time(shift.from, &zone),
                shift.contact
            ));
            last = shift.contact.clone();
        }
        // A shift resumed after an override starts where the override ended.
        let mut following = schedule.on_call(shift.until);
        following.from = following.from.max(shift.until);
        if following.until <= shift.until {
            break;
        }
        shift = following;
    }
    if !strip.is_empty() {
        lines.push(lang.t_with("summary-strip", &[("shifts", strip.join(" · ").into())]));
    }
    for o in schedule
        .overrides
        .iter()
        .filter(|o| o.to.as_millisecond() > ctx.now)
    {
        lines.push(lang.t_with(
            "summary-override",
            &[
                ("name", o.contact.clone().into()),
                ("from", when(o.from.as_millisecond()).into()),
                ("until", when(o.to.as_millisecond()).into()),
            ],
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use jiff::civil::{Date, Time};

    fn schedule() -> Schedule {
        Schedule {
            contacts: vec!["ivanov".into(), "petrov".into()],
            rotation: Rotation::Weekly,
            handoff: Time::constant(9, 0, 0, 0),
            timezone: "Europe/Moscow".into(),
            start: Date::constant(2026, 11, 30),
            overrides: vec![Override {
                contact: "sidorov".into(),
                from: "2026-12-08T19:00:00Z".parse().unwrap(),
                to: "2026-12-09T06:00:00Z".parse().unwrap(),
            }],
        }
    }

    #[test]
    fn a_rotation_reads_back_and_overrides_are_written_on_its_clock() {
        let stored = schedule();
        let sent = sent(&stored);
        assert_eq!(sent.one("overrides[0].from"), "2026-12-08T22:00");
        let mut p = Problems::new(Lang::En);
        assert_eq!(parse(&sent, &mut p), Some(stored), "{p:?}");
    }

    #[test]
    fn now_and_next_are_said() {
        let ctx = Context {
            now: "2026-12-07T12:00:00Z"
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_millisecond(),
            lang: Lang::En,
            ..Context::default()
        };
        let lines = summary(&schedule(), &ctx);
        assert!(lines[1].contains("petrov"), "{lines:?}");
        assert!(
            lines[2].contains("sidorov"),
            "the override comes next: {lines:?}"
        );
        assert!(
            lines[3].contains("ivanov"),
            "the strip reaches the next turn: {lines:?}"
        );
    }

    #[test]
    fn an_override_ending_before_it_starts_is_refused() {
        let mut sent = sent(&schedule());
        sent.set("overrides[0].to", "2026-12-08T21:00");
        sent.set("members[0].contact", "");
        sent.set("members[1].contact", "");
        let mut p = Problems::new(Lang::En);
        assert_eq!(parse(&sent, &mut p), None);
        assert!(p.of("overrides[0].to").is_some());
        assert!(p.of("members[0].contact").is_some());
    }
}
