//! `POST /api/v1/plugins/{name}/replay`: replay a rule over stored history before enabling
//! it, with the component to try as the body (or none: the serving plugin, with the
//! settings asked for). It answers 202 at once with the replay to follow at
//! `/api/v1/replays/{id}`, which says how far it got and, once done, what it found;
//! `DELETE` there stops it. The work is `crate::replay`'s.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use reveille_sdk::parse_duration;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
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

pub async fn start(
    State(state): State<AppState>,
    Path(name): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, HeaderMap, Json<Value>), ApiError> {
    let Query(pairs) = query.map_err(|r| ApiError::bad_request(r.body_text()))?;
    let body = body.map_err(|r| state.limits.upload().rejection(r))?;
    let replay = begin(&state, &name, &pairs, body.to_vec()).await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/replays/{}", replay.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((
        StatusCode::ACCEPTED,
        headers,
        Json(json!({ "replay": replay })),
    ))
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

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let replays = state.replays.list().await?;
    Ok(Json(json!({ "replays": replays })))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let row = state.replays.get(id).await?;
    found(id, row)
}

/// Stops a running replay (on whichever node runs it, within a second).
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let row = state.replays.cancel(id).await?;
    found(id, row)
}

fn found(id: i64, row: Option<Replay>) -> Result<Json<Value>, ApiError> {
    row.map(|row| Json(json!({ "replay": row })))
        .ok_or_else(|| ApiError::not_found(format!("no replay {id}")))
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
