//! History imports (`crate::import`): `POST /api/v1/imports` begins one (`{"source": ...}`,
//! what is imported, for the list); `POST /api/v1/imports/{id}/reports` takes a batch, a
//! tar of report files, and says what it stored, repeated and refused, file by file;
//! `POST /api/v1/imports/{id}/finish` says every batch is in; `GET` follows it (stored,
//! evaluated, state) and `DELETE` cancels it. `reveille import` drives these.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::import::{Import, ImportError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Begin {
    source: String,
}

impl From<ImportError> for ApiError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::NotFound(_) => ApiError::not_found(error.to_string()),
            ImportError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, message),
            ImportError::Invalid(message) => ApiError::bad_request(message),
            ImportError::Store(error) => ApiError::internal(error),
        }
    }
}

fn one(import: Import) -> Json<Value> {
    Json(json!({ "import": import }))
}

pub async fn begin(
    State(state): State<AppState>,
    body: Result<Json<Begin>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(begin) = body.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    input::name("source", &begin.source)?;
    let import = state.imports.begin(&begin.source).await?;
    Ok((StatusCode::CREATED, one(import)))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let imports = state.imports.list().await?;
    Ok(Json(json!({ "imports": imports })))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(one(state.imports.get(id).await?))
}

pub async fn batch(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|r| state.limits.upload().rejection(r))?;
    let batch = state.imports.batch(id, body.to_vec()).await?;
    let import = state.imports.get(id).await?;
    Ok(Json(json!({ "batch": batch, "import": import })))
}

pub async fn finish(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(one(state.imports.finish(id).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(one(state.imports.cancel(id).await?))
}
