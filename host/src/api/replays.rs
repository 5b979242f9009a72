//! `POST /api/v1/plugins/{name}/replay`: replay a rule over stored history before enabling
//! it, with the component to try as the body (or none: the serving plugin, with the
//! settings asked for). It answers 202 at once with the replay to follow at
//! `/api/v1/replays/{id}`, which says how far it got and, once done, what it found;
//! `DELETE` there stops it. Starting is `app::replays`', the work `crate::replay`'s.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::replays::begin;
use crate::replay::Replay;

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
