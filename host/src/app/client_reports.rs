//! A client's report as a download, for the API (`GET /api/v1/clients/{client}/report`,
//! automation and `reveille report`) and the board's client page alike.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::utf8_percent_encode;
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::input;
use crate::client_report::pdf::PdfError;
use crate::client_report::{Format, Period, ReportError};
use crate::i18n::Lang;
use crate::text::UNRESERVED;

/// What a request for a report says.
#[derive(Debug, Default, Deserialize)]
pub struct Asked {
    pub quarter: Option<String>,
    pub month: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
    pub lang: Option<String>,
}

/// The report `asked` for, as a download; `lang` unless the request names another.
pub async fn answer(
    state: &AppState,
    client: &str,
    asked: &Asked,
    lang: Lang,
) -> Result<Response, ApiError> {
    input::name("client", client)?;
    let period = Period::named(
        asked.quarter.as_deref().filter(|s| !s.is_empty()),
        asked.month.as_deref().filter(|s| !s.is_empty()),
        asked.from.as_deref().filter(|s| !s.is_empty()),
        asked.to.as_deref().filter(|s| !s.is_empty()),
    )
    .map_err(ApiError::bad_request)?;
    let format: Format = asked
        .format
        .as_deref()
        .unwrap_or("html")
        .parse()
        .map_err(|e: String| ApiError::bad_request(e))?;
    let lang = match &asked.lang {
        Some(code) => code
            .parse()
            .map_err(|e: String| ApiError::bad_request(format!("lang: {e}")))?,
        None => lang,
    };
    let written = state
        .reports
        .write(client, &period, lang, format)
        .await
        .map_err(|e| match e {
            ReportError::UnknownClient(_) => ApiError::not_found(e.to_string()),
            ReportError::Pdf(PdfError::NoChromium) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            e => ApiError::internal(e),
        })?;
    // Shown in the browser (HTML, PDF), saved (CSV, JSON); always with a name.
    let disposition = match format {
        Format::Html | Format::Pdf => "inline",
        Format::Csv | Format::Json => "attachment",
    };
    Ok((
        [
            (header::CONTENT_TYPE, written.content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "{disposition}; filename=\"report.{}\"; filename*=UTF-8''{}",
                    extension(&written.file_name),
                    utf8_percent_encode(&written.file_name, UNRESERVED)
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        written.bytes,
    )
        .into_response())
}

fn extension(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or("html")
}
