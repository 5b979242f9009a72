//! A maintenance window: what it covers, when (once, or weekly on a zone's clock), and
//! why. Its author is whoever saved it first.

use jiff::tz::TimeZone;

use super::{Context, put_window, window, window_fields, window_said};
use crate::alerts::maintenance::{Maintenance, Scope, Weekly};
use crate::web::form::{Group, Layout, Problems, Sent, Widget, instant, local, read};

const SCOPE: [&str; 4] = ["installation", "client", "parent", "plugin"];

pub fn fresh(ctx: &Context) -> Sent {
    let mut sent = Sent::default();
    sent.set("when", "once");
    sent.set("zone", ctx.zone.clone());
    sent
}

pub fn sent(window: &Maintenance, ctx: &Context) -> Sent {
    let mut sent = Sent::default();
    let s = &window.scope;
    for (field, value) in SCOPE
        .iter()
        .zip([&s.installation, &s.client, &s.parent, &s.plugin])
    {
        if let Some(value) = value {
            sent.set(*field, value.clone());
        }
    }
    match &window.weekly {
        Some(weekly) => {
            sent.set("when", "weekly");
            sent.set("zone", weekly.timezone.clone());
            put_window(&mut sent, "weekly", &weekly.window());
        }
        None => {
            sent.set("when", "once");
            sent.set("zone", ctx.zone.clone());
            if let (Some(from), Some(to)) = (window.from, window.to) {
                sent.set("from", local(from, &ctx.zone));
                sent.set("to", local(to, &ctx.zone));
            }
        }
    }
    sent.set("reason", window.reason.clone());
    sent
}

pub fn parse(
    sent: &Sent,
    old: Option<Maintenance>,
    ctx: &Context,
    p: &mut Problems,
) -> Option<Maintenance> {
    let pick = |field| Some(sent.one(field).to_string()).filter(|v| !v.is_empty());
    let scope = Scope {
        installation: pick("installation"),
        client: pick("client"),
        parent: pick("parent"),
        plugin: pick("plugin"),
    };
    if scope == Scope::default() {
        p.add("installation", "form-scope-empty", &[]);
    }
    let zone = p.required(sent, "zone", read::zone);
    let (from, to, weekly) = if sent.one("when") == "weekly" {
        let w = window(sent, "weekly", p);
        let weekly = w.zip(zone).map(|(w, timezone)| Weekly {
            days: w.days,
            from: w.from,
            to: w.to,
            timezone,
        });
        (None, None, weekly)
    } else {
        let from = p.required(sent, "from", read::moment);
        let to = p.required(sent, "to", read::moment);
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            p.add("to", "form-to-after-from", &[]);
        }
        let zone = zone.unwrap_or_else(|| "UTC".into());
        (
            from.map(|m| instant(m, &zone)),
            to.map(|m| instant(m, &zone)),
            None,
        )
    };
    let reason = p.required(sent, "reason", read::text);
    if !p.is_empty() {
        return None;
    }
    Some(Maintenance {
        scope,
        from,
        to,
        weekly,
        author: old.map_or_else(|| ctx.author.clone(), |m| m.author),
        reason: reason?,
    })
}

pub fn layout(l: &Layout, ctx: &Context) -> Vec<Group> {
    let lang = l.lang;
    let scope = SCOPE
        .iter()
        .zip([&ctx.installations, &ctx.clients, &ctx.parents, &ctx.plugins])
        .map(|(field, names)| l.field(field, &format!("form-scope-{field}"), l.names(names)))
        .collect();
    let whens = ["once", "weekly"]
        .iter()
        .map(|w| (w.to_string(), lang.t(&format!("form-when-{w}"))))
        .collect();
    let mut weekly = window_fields(l, "weekly");
    for field in &mut weekly {
        field.label = format!("{} ({})", field.label, lang.t("form-when-weekly"));
    }
    vec![
        Group {
            legend: Some(lang.t("form-scope")),
            fields: scope,
        },
        Group {
            legend: Some(lang.t("form-when")),
            fields: [
                l.field("when", "form-when", Widget::Choice(whens)),
                l.field("zone", "field-timezone", Widget::Suggest("zones"))
                    .needed(),
                l.field("from", "form-from", Widget::Moment),
                l.field("to", "form-to", Widget::Moment),
            ]
            .into_iter()
            .chain(weekly)
            .collect(),
        },
        Group {
            legend: None,
            fields: vec![l.field("reason", "form-reason", Widget::Text).needed()],
        },
    ]
}

pub fn summary(window: &Maintenance, ctx: &Context) -> Vec<String> {
    let lang = ctx.lang;
    let s = &window.scope;
    let scope: Vec<String> = SCOPE
        .iter()
        .zip([&s.installation, &s.client, &s.parent, &s.plugin])
        .filter_map(|(field, value)| {
            Some(format!(
                "{} {}",
                lang.t(&format!("form-scope-{field}")),
                value.as_ref()?
            ))
        })
        .collect();
    let zone = TimeZone::get(&ctx.zone).unwrap_or(TimeZone::UTC);
    let when = match (&window.from, &window.to, &window.weekly) {
        (_, _, Some(weekly)) => format!(
            "{} ({})",
            window_said(&weekly.window(), lang),
            weekly.timezone
        ),
        (Some(from), Some(to), _) => format!(
            "{} – {}",
            lang.moment(from.as_millisecond(), &zone),
            lang.moment(to.as_millisecond(), &zone)
        ),
        _ => String::new(),
    };
    let state = match window.on_until(ctx.now) {
        Some(until) => lang.t_with(
            "summary-on-until",
            &[("until", lang.moment(until, &zone).into())],
        ),
        None if window.is_over(ctx.now) => lang.t("summary-over"),
        None => lang.t("summary-ahead"),
    };
    vec![
        format!("{} · {when} · {state}", scope.join(", ")),
        format!("{} ({})", window.reason, window.author),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::hours::Day;
    use crate::i18n::Lang;
    use jiff::civil::Time;

    fn ctx() -> Context {
        Context {
            zone: "Europe/Moscow".into(),
            author: "admin".into(),
            lang: Lang::En,
            ..Context::default()
        }
    }

    #[test]
    fn a_window_reads_back_as_it_was_stored_author_kept() {
        let once = Maintenance {
            scope: Scope {
                client: Some("Vector".into()),
                ..Scope::default()
            },
            from: Some("2026-11-22T19:00:00Z".parse().unwrap()),
            to: Some("2026-11-22T23:00:00Z".parse().unwrap()),
            weekly: None,
            author: "petrov".into(),
            reason: "upgrade".into(),
        };
        let weekly = Maintenance {
            scope: Scope {
                plugin: Some("stale-updates".into()),
                ..Scope::default()
            },
            from: None,
            to: None,
            weekly: Some(Weekly {
                days: vec![Day::Sun],
                from: Time::constant(2, 0, 0, 0),
                to: Time::constant(4, 0, 0, 0),
                timezone: "Europe/Rome".into(),
            }),
            author: "petrov".into(),
            reason: "backups".into(),
        };
        for stored in [once, weekly] {
            let mut p = Problems::new(Lang::En);
            let read = parse(&sent(&stored, &ctx()), Some(stored.clone()), &ctx(), &mut p);
            assert_eq!(read, Some(stored), "{p:?}");
        }
    }

    #[test]
    fn a_new_window_is_written_by_whoever_saves_it_and_needs_a_scope() {
        let mut s = fresh(&ctx());
        s.set("from", "2026-11-22T22:00");
        s.set("to", "2026-11-23T02:00");
        s.set("reason", "upgrade");
        let mut p = Problems::new(Lang::En);
        assert_eq!(parse(&s, None, &ctx(), &mut p), None);
        assert!(p.of("installation").is_some());
        s.set("installation", "vector-main");
        let mut p = Problems::new(Lang::En);
        let window = parse(&s, None, &ctx(), &mut p).expect("valid");
        assert_eq!(window.author, "admin");
        assert_eq!(window.from.unwrap().to_string(), "2026-11-22T19:00:00Z");
    }
}
