//! A client's policy: its clock, quiet hours, holidays, the morning digest, and who beyond
//! the manager is written to. Routing rules by hour (`day`, `night`) are the API's; the
//! form keeps them as they were.

use jiff::civil::Date;

use super::{Context, put_window, window, window_fields, window_said};
use crate::alerts::directory::ClientPolicy;
use crate::alerts::holidays::CALENDARS;
use crate::i18n::Lang;
use crate::web::form::{Group, Layout, Problems, Sent, Widget, clock, read};

const QUIET: &str = "quiet";

pub fn sent(policy: &ClientPolicy) -> Sent {
    let mut sent = Sent::default();
    let mut put = |name: &str, value: &Option<String>| {
        if let Some(value) = value {
            sent.set(name, value.clone());
        }
    };
    put("timezone", &policy.timezone);
    put("sysadmin", &policy.sysadmin);
    put("sales", &policy.sales);
    put("oncall", &policy.oncall);
    put("escalation", &policy.escalation);
    put("ack_expires_after", &policy.ack_expires_after);
    put("digest_at", &policy.digest_at.map(clock));
    put("language", &policy.language.map(|l| l.code().to_string()));
    put(
        "manager_thread_id",
        &policy.manager_thread_id.map(|id| id.to_string()),
    );
    for (i, w) in policy.quiet_hours.iter().enumerate() {
        put_window(&mut sent, &format!("{QUIET}[{i}]"), w);
    }
    let holidays: Vec<String> = policy.holidays.iter().map(Date::to_string).collect();
    sent.set("holidays", holidays.join("\n"));
    for code in &policy.holiday_calendars {
        sent.add("holiday_calendars", code.clone());
    }
    if policy.sysadmin_consent {
        sent.set("sysadmin_consent", "on");
    }
    sent
}

pub fn parse(sent: &Sent, old: Option<ClientPolicy>, p: &mut Problems) -> Option<ClientPolicy> {
    let name = |p: &mut Problems, field| p.optional(sent, field, read::text);
    let timezone = p.optional(sent, "timezone", read::zone);
    let quiet_hours: Vec<_> = (0..sent.rows(QUIET))
        .filter(|&i| !sent.row_is_empty(QUIET, i))
        .map(|i| window(sent, &format!("{QUIET}[{i}]"), p))
        .collect();
    let mut holidays = Vec::new();
    for text in sent
        .one("holidays")
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|t| !t.is_empty())
    {
        holidays.extend(read::date(p, "holidays", text));
    }
    let digest_at = p.optional(sent, "digest_at", read::time);
    let ack_expires_after = p.optional(sent, "ack_expires_after", read::duration);
    let manager_thread_id = p.optional(sent, "manager_thread_id", read::whole);
    let sysadmin = name(p, "sysadmin");
    let consent = !sent.one("sysadmin_consent").is_empty();
    if matches!(sysadmin, Ok(Some(_))) && !consent {
        p.add("sysadmin_consent", "form-consent-needed", &[]);
    }
    let sales = name(p, "sales");
    let language = sent.one("language").parse::<Lang>().ok();
    let oncall = name(p, "oncall");
    let escalation = name(p, "escalation");
    if !p.is_empty() {
        return None;
    }
    let old = old.unwrap_or_default();
    Some(ClientPolicy {
        timezone: timezone.ok()?,
        quiet_hours: quiet_hours.into_iter().collect::<Option<_>>()?,
        holidays,
        holiday_calendars: sent
            .all("holiday_calendars")
            .into_iter()
            .map(String::from)
            .collect(),
        digest_at: digest_at.ok()?,
        manager_thread_id: manager_thread_id.ok()?,
        sysadmin: sysadmin.ok()?,
        sysadmin_consent: consent,
        sales: sales.ok()?,
        oncall: oncall.ok()?,
        escalation: escalation.ok()?,
        ack_expires_after: ack_expires_after.ok()?,
        day: old.day,
        night: old.night,
        language,
    })
}

pub fn layout(l: &Layout, ctx: &Context) -> Vec<Group> {
    let mut groups = vec![Group {
        legend: None,
        fields: vec![l.hinted(
            "timezone",
            "field-timezone",
            Widget::Suggest("zones"),
            "form-zone-default",
        )],
    }];
    let rows = l.rows(QUIET);
    for i in 0..rows {
        groups.push(Group {
            legend: Some(l.lang.t("form-quiet-window")),
            fields: window_fields(l, &format!("{QUIET}[{i}]")),
        });
    }
    let calendars = CALENDARS
        .iter()
        .map(|c| (c.to_string(), l.lang.t(&format!("calendar-{c}"))))
        .collect();
    groups.push(Group {
        legend: Some(l.lang.t("form-days-off")),
        fields: vec![
            l.hinted(
                "holidays",
                "form-holidays",
                Widget::Lines,
                "form-holidays-hint",
            ),
            l.field(
                "holiday_calendars",
                "form-calendars",
                Widget::Many(calendars),
            ),
            l.hinted(
                "digest_at",
                "form-digest-at",
                Widget::Time,
                "form-digest-hint",
            ),
        ],
    });
    groups.push(Group {
        legend: Some(l.lang.t("form-who")),
        fields: vec![
            l.field("oncall", "form-oncall", l.names(&ctx.schedules)),
            l.field("escalation", "form-escalation", l.names(&ctx.escalations)),
            l.field("sysadmin", "form-sysadmin", l.names(&ctx.contacts)),
            l.field("sysadmin_consent", "form-consent", Widget::Check),
            l.field("sales", "form-sales", l.names(&ctx.contacts)),
            l.hinted(
                "ack_expires_after",
                "form-ack-expires",
                Widget::Text,
                "form-duration-hint",
            ),
            l.field("manager_thread_id", "form-manager-topic", Widget::Number),
            l.hinted(
                "language",
                "form-chat-language",
                languages(l),
                "form-chat-language-hint",
            ),
        ],
    });
    groups
}

/// The languages its chats may read, "the service's" first.
fn languages(l: &Layout) -> Widget {
    let mut options = vec![(String::new(), l.lang.t("form-service-language"))];
    options.extend(
        Lang::ALL
            .iter()
            .map(|lang| (lang.code().to_string(), lang.name().to_string())),
    );
    Widget::Choice(options)
}

pub fn summary(policy: &ClientPolicy, ctx: &Context) -> String {
    let lang = ctx.lang;
    let mut parts = Vec::new();
    parts.extend(policy.timezone.clone());
    if policy.quiet_hours.is_empty() {
        parts.push(lang.t("summary-no-quiet"));
    }
    for w in &policy.quiet_hours {
        parts.push(lang.t_with("summary-quiet", &[("when", window_said(w, lang).into())]));
    }
    if !policy.holidays.is_empty() || !policy.holiday_calendars.is_empty() {
        let mut days: Vec<String> = policy
            .holiday_calendars
            .iter()
            .map(|c| lang.t(&format!("calendar-{c}")))
            .collect();
        days.extend(policy.holidays.iter().map(|d| lang.date(*d)));
        parts.push(lang.t_with("summary-holidays", &[("days", days.join(", ").into())]));
    }
    let mut named = |id: &str, value: &Option<String>| {
        if let Some(value) = value {
            parts.push(lang.t_with(id, &[("name", value.clone().into())]));
        }
    };
    named("summary-digest", &policy.digest_at.map(clock));
    named("summary-oncall", &policy.oncall);
    named("summary-escalation", &policy.escalation);
    named("summary-sysadmin", &policy.sysadmin);
    named("summary-sales", &policy.sales);
    named(
        "summary-language",
        &policy.language.map(|l| l.name().to_string()),
    );
    if policy.day.is_some() || policy.night.is_some() {
        parts.push(lang.t("summary-custom-rules"));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::directory::day_rules;
    use crate::alerts::hours::{Day, Window};
    use jiff::civil::Time;

    fn policy() -> ClientPolicy {
        ClientPolicy {
            timezone: Some("Europe/Moscow".into()),
            quiet_hours: vec![
                Window {
                    days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
                    from: Time::constant(20, 0, 0, 0),
                    to: Time::constant(8, 30, 0, 0),
                },
                Window {
                    days: vec![Day::Sat, Day::Sun],
                    from: Time::constant(0, 0, 0, 0),
                    to: Time::constant(0, 0, 0, 0),
                },
            ],
            holidays: vec![Date::constant(2026, 12, 31)],
            holiday_calendars: vec!["ru".into()],
            digest_at: Some(Time::constant(7, 30, 0, 0)),
            manager_thread_id: None,
            sysadmin: Some("admin-client".into()),
            sysadmin_consent: true,
            sales: None,
            oncall: Some("duty".into()),
            escalation: Some("night".into()),
            ack_expires_after: Some("4h".into()),
            day: Some(day_rules()),
            night: None,
            language: Some(Lang::Ru),
        }
    }

    #[test]
    fn a_policy_reads_back_as_it_was_stored_routing_rules_kept() {
        let stored = policy();
        let mut p = Problems::new(Lang::En);
        let read = parse(&sent(&stored), Some(stored.clone()), &mut p);
        assert_eq!(read, Some(stored), "{p:?}");
    }

    #[test]
    fn every_mistake_is_named_at_once_and_the_typed_words_are_kept() {
        let mut s = Sent::default();
        s.set("timezone", "Moscow");
        s.set("quiet[0].from", "20:00");
        s.set("quiet[0].to", "8.30");
        s.set("holidays", "2026-12-31, 31.12.2026");
        s.set("sysadmin", "admin-client");
        let mut p = Problems::new(Lang::Ru);
        assert_eq!(parse(&s, None, &mut p), None);
        for field in ["timezone", "quiet[0].to", "holidays", "sysadmin_consent"] {
            assert!(p.of(field).is_some(), "{field}: {p:?}");
        }
        assert!(p.of("holidays").unwrap().contains("31.12.2026"));
        assert_eq!(s.one("quiet[0].to"), "8.30");
    }
}
