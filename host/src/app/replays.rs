//! Starting a replay of a rule over stored history, in the same words from the API's query
//! and the admin page's form: the window, the client or installation, settings to try,
//! and the bounds of the run.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::StatusCode;
use reveille_sdk::parse_duration;

use super::AppState;
use super::error::ApiError;
use crate::plugins::LoadError;
use crate::plugins::loader::valid_name;
use crate::replay::{self, Replay, ReplayError, Request, Scope};

/// The window a replay covers unless asked otherwise.
const DEFAULT_SINCE: Duration = Duration::from_secs(30 * 86_400);

/// The scope a request asks for, from the query's `since` (`30d`, or an RFC 3339
/// date-time), `until` (the same; now by default), `client`, `installation`, `config`
/// (`key=value`, repeatable), `tick_every`, `deadline` and `max_reports`, with `now` as
/// the host's time.
fn scope(pairs: &[(String, String)], now: i64) -> Result<Scope, String> {
    let mut scope = Scope {
        settings: BTreeMap::new(),
        from: now - millis(DEFAULT_SINCE),
        until: now,
        client: None,
        installation: None,
        tick_every: replay::DEFAULT_TICK_EVERY,
        deadline: replay::DEFAULT_DEADLINE,
        max_reports: replay::DEFAULT_MAX_REPORTS,
    };
    let mut since = None;
    for (key, value) in pairs {
        let value = value.trim();
        match key.as_str() {
            "since" => since = Some(value.to_string()),
            "until" => scope.until = moment(value, now, "until")?,
            "client" => scope.client = Some(value.to_string()),
            "installation" => scope.installation = Some(value.to_string()),
            "config" => {
                let (k, v) = value
                    .split_once('=')
                    .filter(|(k, _)| !k.trim().is_empty())
                    .ok_or_else(|| format!("config `{value}`: expected key=value"))?;
                scope.settings.insert(k.trim().to_string(), v.to_string());
            }
            "tick_every" => {
                scope.tick_every = duration(value, "tick_every")?;
                if scope.tick_every < replay::MIN_TICK_EVERY {
                    return Err(format!(
                        "tick_every `{value}`: at least {}",
                        reveille_sdk::format_duration(replay::MIN_TICK_EVERY)
                    ));
                }
            }
            "deadline" => {
                scope.deadline = duration(value, "deadline")?;
                if scope.deadline > replay::MAX_DEADLINE {
                    return Err(format!(
                        "deadline `{value}`: at most {}",
                        reveille_sdk::format_duration(replay::MAX_DEADLINE)
                    ));
                }
            }
            "max_reports" => {
                scope.max_reports = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("max_reports `{value}`: a positive number"))?;
            }
            other => {
                return Err(format!(
                    "unknown parameter `{other}` (since, until, client, installation, \
                     config, tick_every, deadline, max_reports)"
                ));
            }
        }
    }
    scope.from = match since {
        Some(since) => moment(&since, scope.until, "since")?,
        None => scope.until - millis(DEFAULT_SINCE),
    };
    Ok(scope)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn duration(value: &str, name: &str) -> Result<Duration, String> {
    parse_duration(value).map_err(|e| format!("{name}: {e}"))
}

/// An RFC 3339 date-time, or a duration back from `from` (`30d`: thirty days before it).
fn moment(value: &str, from: i64, name: &str) -> Result<i64, String> {
    if let Ok(at) = value.parse::<jiff::Timestamp>() {
        return Ok(at.as_millisecond());
    }
    parse_duration(value)
        .map(|ago| from - millis(ago))
        .map_err(|_| {
            format!(
                "{name} `{value}`: expected a duration back from now (30d) or an RFC 3339 date-time"
            )
        })
}

/// Starts a replay of plugin `name` as `pairs` ask (the API's query, or the admin page's
/// form, in the same words), with `candidate` as the component to try (empty: the
/// serving plugin).
pub async fn begin(
    state: &AppState,
    name: &str,
    pairs: &[(String, String)],
    candidate: Vec<u8>,
) -> Result<Replay, ApiError> {
    if !valid_name(name) {
        return Err(ApiError::bad_request(
            LoadError::BadName(name.to_string()).to_string(),
        ));
    }
    let scope = scope(pairs, state.clock.now_ms()).map_err(ApiError::bad_request)?;
    let candidate = if candidate.is_empty() {
        None
    } else {
        let revision = state
            .runtime
            .compile(Some(name), candidate)
            .await
            .map_err(|error| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("candidate `{name}` refused: {error}"),
                )
            })?;
        Some(revision)
    };
    state
        .replays
        .start(Request {
            plugin: name.to_string(),
            candidate,
            scope,
        })
        .await
        .map_err(|error| match error {
            ReplayError::NoPlugin(_) => ApiError::not_found(error.to_string()),
            ReplayError::Nothing(_) | ReplayError::Settings(_) => {
                ApiError::bad_request(error.to_string())
            }
            ReplayError::Store(error) => ApiError::internal(error),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const NOW: i64 = 1_800_000_000_000;
    const DAY: i64 = 86_400_000;

    #[test]
    fn reads_windows_settings_and_bounds() {
        let asked = scope(
            &pairs(&[
                ("since", "7d"),
                ("config", "threshold=1d"),
                ("config", "note=a=b"),
                ("client", "Vector"),
                ("tick_every", "15m"),
            ]),
            NOW,
        )
        .unwrap();
        assert_eq!((asked.from, asked.until), (NOW - 7 * DAY, NOW));
        assert_eq!(asked.settings["threshold"], "1d");
        assert_eq!(asked.settings["note"], "a=b");
        assert_eq!(asked.client.as_deref(), Some("Vector"));
        assert_eq!(asked.tick_every, Duration::from_secs(900));

        let fixed = scope(
            &pairs(&[
                ("since", "2026-11-01T00:00:00Z"),
                ("until", "2026-11-02T00:00:00+03:00"),
            ]),
            NOW,
        )
        .unwrap();
        assert_eq!(fixed.until - fixed.from, DAY - 3 * 3_600_000);
        let default = scope(&[], NOW).unwrap();
        assert_eq!(default.from, NOW - 30 * DAY);
    }

    #[test]
    fn says_which_parameter_is_wrong() {
        let error = |query: &[(&str, &str)]| scope(&pairs(query), NOW).unwrap_err();
        assert!(error(&[("since", "last week")]).starts_with("since `last week`"));
        assert!(error(&[("config", "threshold")]).contains("expected key=value"));
        assert!(error(&[("tick_every", "1s")]).contains("at least 1m"));
        assert!(error(&[("deadline", "2h")]).contains("at most 1h"));
        assert!(error(&[("max_reports", "0")]).contains("positive"));
        assert!(error(&[("sinse", "1d")]).contains("unknown parameter `sinse`"));
    }
}
