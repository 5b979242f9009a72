//! The words Reveille writes for people, in their language: one Fluent catalogue per
//! language (`en.ftl`, `ru.ftl`, embedded), chosen per staff account (and, before anyone
//! logs in, by the browser's Accept-Language). Dates and durations are formatted here too,
//! so a page never spells a time on its own.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
    It,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ru, Lang::It];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::It => "it",
        }
    }

    /// The language an IETF tag names (`ru`, `ru-RU`, `it-CH`), if it is one of ours.
    pub fn of_tag(tag: &str) -> Option<Lang> {
        tag.split(['-', '_']).next()?.parse().ok()
    }

    /// Its own name, for a language switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Русский",
            Lang::It => "Italiano",
        }
    }

    /// The first of the browser's languages we speak (`Accept-Language`), English if none.
    pub fn preferred(accept_language: &str) -> Lang {
        accept_language
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(|tag| Lang::of_tag(tag.trim()))
            .unwrap_or_default()
    }

    /// The message `id`, or the id itself if the catalogue lacks it (a test keeps the
    /// catalogues complete).
    pub fn t(self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id`, or `fallback` where the catalogue has none (words that come
    /// from outside, such as a state an agent reported).
    pub fn t_or(self, id: &str, fallback: &str) -> String {
        if catalogue()[&self].has_message(id) {
            self.t(id)
        } else {
            fallback.to_string()
        }
    }

    /// The message `id` with its variables.
    pub fn t_with(self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        self.format(id, Some(&fluent))
    }

    fn format(self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = &catalogue()[&self];
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!(lang = self.code(), id, "no such message in the catalogue");
            return id.to_string();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// How long `ms` is, in the largest unit that keeps it short ("5 min", "3 h", "2 d").
    pub fn duration(self, ms: i64) -> String {
        let minutes = ms.max(0) / 60_000;
        let (id, n) = match minutes {
            0 => ("duration-seconds", ms.max(0) / 1000),
            1..120 => ("duration-minutes", minutes),
            120..2880 => ("duration-hours", minutes / 60),
            _ => ("duration-days", minutes / 1440),
        };
        self.t_with(id, &[("n", n.into())])
    }

    /// How long `ms` is, to two units ("2h 5m", "2 ч 5 мин"), as messages about one
    /// alert say it; under a second is said so ("0 мс" read as a glitch).
    pub fn span(self, ms: i64) -> String {
        if ms < 1000 {
            return self.t("span-under-second");
        }
        if self == Lang::En {
            return reveille_sdk::format_duration(std::time::Duration::from_millis(
                ms.max(0) as u64
            ));
        }
        let units = match self {
            Lang::Ru => [(86_400, "д"), (3_600, "ч"), (60, "мин"), (1, "с")],
            Lang::It | Lang::En => [(86_400, "g"), (3_600, "h"), (60, "min"), (1, "s")],
        };
        let mut secs = ms / 1000;
        let mut parts = Vec::new();
        for (size, name) in units {
            if secs >= size {
                parts.push(format!("{} {name}", secs / size));
                secs %= size;
            }
            if parts.len() == 2 {
                break;
            }
        }
        parts.join(" ")
    }

    /// "5 min ago".
    pub fn ago(self, at: i64, now: i64) -> String {
        self.t_with("ago", &[("duration", self.duration(now - at).into())])
    }

    /// "in 12 min"; "any moment now" once it is due: the clockwork is about to act.
    pub fn within(self, at: i64, now: i64) -> String {
        if at <= now {
            return self.t("in-moment");
        }
        self.t_with("in-time", &[("duration", self.duration(at - now).into())])
    }

    /// A moment in `zone`, saying which ("2026-12-07 08:00 UTC"): a page read from
    /// another zone is not misread.
    pub fn moment(self, at: i64, zone: &TimeZone) -> String {
        let label = jiff::Timestamp::from_millisecond(at)
            .map(|t| t.to_zoned(zone.clone()).strftime("%Z").to_string())
            .unwrap_or_default();
        format!("{} {label}", self.date_time(at, zone))
    }

    /// A day, as the language writes dates.
    pub fn date(self, date: jiff::civil::Date) -> String {
        let pattern = match self {
            Lang::En => "%Y-%m-%d",
            Lang::Ru => "%d.%m.%Y",
            Lang::It => "%d/%m/%Y",
        };
        date.strftime(pattern).to_string()
    }

    /// A moment on the reader's clock in `zone`, as the language writes dates.
    pub fn date_time(self, at: i64, zone: &TimeZone) -> String {
        let Ok(time) = jiff::Timestamp::from_millisecond(at) else {
            return String::new();
        };
        let zoned = time.to_zoned(zone.clone());
        let pattern = match self {
            Lang::En => "%Y-%m-%d %H:%M",
            Lang::Ru => "%d.%m.%Y %H:%M",
            Lang::It => "%d/%m/%Y %H:%M",
        };
        zoned.strftime(pattern).to_string()
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(code: &str) -> Result<Lang, String> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ru" => Ok(Lang::Ru),
            "it" => Ok(Lang::It),
            other => Err(format!("unknown language `{other}` (use en, ru or it)")),
        }
    }
}

const SOURCES: [(Lang, &str); 3] = [
    (Lang::En, include_str!("en.ftl")),
    (Lang::Ru, include_str!("ru.ftl")),
    (Lang::It, include_str!("it.ftl")),
];

fn catalogue() -> &'static HashMap<Lang, FluentBundle<FluentResource>> {
    static CATALOGUE: OnceLock<HashMap<Lang, FluentBundle<FluentResource>>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, source)| {
                let resource = FluentResource::try_new(source.to_string())
                    .unwrap_or_else(|(_, errors)| panic!("{lang}.ftl: {errors:?}"));
                let id = lang.code().parse().expect("a valid language tag");
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Pages are HTML: Unicode isolation marks would only show as noise in
                // copied text.
                bundle.set_use_isolating(false);
                bundle
                    .add_resource(resource)
                    .unwrap_or_else(|errors| panic!("{lang}.ftl: {errors:?}"));
                (*lang, bundle)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::{ast, parser};

    fn ids(source: &str) -> Vec<String> {
        parser::parse(source)
            .expect("the catalogue parses")
            .body
            .into_iter()
            .filter_map(|entry| match entry {
                ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_language_says_everything() {
        let english = ids(SOURCES[0].1);
        for (lang, source) in SOURCES {
            let theirs = ids(source);
            let missing: Vec<_> = english.iter().filter(|id| !theirs.contains(id)).collect();
            let extra: Vec<_> = theirs.iter().filter(|id| !english.contains(id)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang}.ftl lacks {missing:?} and has extra {extra:?}"
            );
            for id in &theirs {
                let mut errors = Vec::new();
                let bundle = &catalogue()[&lang];
                let message = bundle.get_message(id).expect("loaded");
                if let Some(pattern) = message.value() {
                    // Every variable any message uses, so only a real mistake errs.
                    let mut args = FluentArgs::new();
                    for name in source.split('$').skip(1) {
                        let name: String = name
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        args.set(name, 1);
                    }
                    bundle.format_pattern(pattern, Some(&args), &mut errors);
                }
                assert!(errors.is_empty(), "{lang} {id}: {errors:?}");
            }
        }
    }

    #[test]
    fn chooses_and_formats_for_the_reader() {
        assert_eq!(Lang::preferred("ru-RU,ru;q=0.9,en;q=0.8"), Lang::Ru);
        assert_eq!(Lang::preferred("it-IT,en;q=0.5"), Lang::It);
        assert_eq!(Lang::preferred("de-DE,fr;q=0.5"), Lang::En);
        assert_eq!(Lang::It.date_time(0, &TimeZone::UTC), "01/01/1970 00:00");
        assert_eq!(Lang::preferred(""), Lang::En);
        assert_eq!(Lang::Ru.duration(5 * 60_000), "5 мин");
        assert_eq!(Lang::En.duration(3 * 3_600_000), "3 h");
        assert_eq!(Lang::En.duration(3 * 86_400_000), "3 d");
        assert_eq!(Lang::Ru.ago(0, 7_200_000), "2 ч назад");
        assert_eq!(Lang::En.span(7_500_000), "2h 5m");
        assert_eq!(Lang::Ru.span(7_500_000), "2 ч 5 мин");
        assert_eq!(Lang::It.span(90_000_000), "1 g 1 h");
        assert_eq!(
            Lang::Ru.span(17),
            "меньше секунды",
            "not \"17 мс\" nor \"0 мс\""
        );
        assert_eq!(Lang::En.span(0), "under a second");
        let moscow = TimeZone::get("Europe/Moscow").unwrap();
        let at = "2026-11-20T01:07:00+03:00"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(Lang::Ru.date_time(at, &moscow), "20.11.2026 01:07");
        assert_eq!(Lang::En.date_time(at, &moscow), "2026-11-20 01:07");
    }
}
