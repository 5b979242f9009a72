//! Accepting a report: the steps between the bytes an agent sent and what is stored, with
//! no I/O of their own (`api/reports.rs` is the HTTP side).
//!
//! The body is unpacked if the agent gzipped it (within the size limit), parsed (any
//! encoding a byte-order mark or the prolog names) and checked against report format v1;
//! then both stored forms are made: the parsed document's, and the raw bytes deflated. A
//! refusal says what is wrong and where, and which status it deserves.

pub mod token;

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::DeflateEncoder;
use sha2::{Digest, Sha256};

use crate::report::{self, Document, Glance};
use crate::store::NewReport;

/// Why a report was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Malformed, not a v1 report, or not readable in its encoding (400).
    #[error("invalid report: {0}")]
    Invalid(String),
    /// About another installation than the token's (403).
    #[error("{0}")]
    WrongInstallation(String),
    /// Packed in a way the host does not unpack (415).
    #[error("{0}")]
    UnsupportedEncoding(String),
    /// Larger than the limit once unpacked (413).
    #[error("{0}")]
    TooLarge(String),
    /// The host failed (500).
    #[error("cannot accept the report: {0}")]
    Internal(String),
}

/// A report that passed every check, in the forms it is stored in.
pub struct Accepted {
    pub document: Document,
    /// The document in its stored form.
    pub encoded: Vec<u8>,
    /// The raw bytes (unpacked), deflated.
    pub raw: Vec<u8>,
    pub raw_size: usize,
    /// sha256 of the raw bytes (unpacked), hex: with `generated_at`, what makes a report
    /// sent again the same report.
    pub digest: String,
    pub generated_at: i64,
    pub agent: String,
    pub glance: Glance,
    /// [`Document::fingerprint`], made here on the blocking thread: for a 30 MB report it
    /// walks a quarter of a million elements.
    pub fingerprint: u64,
}

impl Accepted {
    /// The report as the store keeps it: `installation_id`'s, received at `received_at`.
    pub fn to_store<'a>(&'a self, installation_id: &'a str, received_at: i64) -> NewReport<'a> {
        NewReport {
            installation_id,
            received_at,
            generated_at: self.generated_at,
            agent: &self.agent,
            document: &self.encoded,
            raw: &self.raw,
            raw_size: self.raw_size,
            digest: &self.digest,
            glance: &self.glance,
            import_id: None,
        }
    }
}

/// From this size on, the raw bytes are compressed on a thread of their own while the
/// report is parsed: for a 30 MB report that is a tenth of a second not waited for. Below
/// it, a thread would cost more than it saves.
const PARALLEL_FROM: usize = 1 << 20;

/// Accepts `body` as a report from `installation`, sent with `content_encoding` (the
/// header's value), at most `limit` bytes unpacked. Blocking: a large report takes a
/// while.
pub fn accept(
    installation: &str,
    body: &[u8],
    content_encoding: Option<&str>,
    limit: usize,
) -> Result<Accepted, Refusal> {
    accept_for(Some(installation), body, content_encoding, limit)
}

/// Accepts `body` as a report of history (`import`), for whichever installation it names;
/// returns that installation with it.
pub fn accept_history(
    body: &[u8],
    content_encoding: Option<&str>,
    limit: usize,
) -> Result<(String, Accepted), Refusal> {
    let accepted = accept_for(None, body, content_encoding, limit)?;
    let installation = accepted
        .document
        .value("installation/@id")
        .unwrap_or_default()
        .to_string();
    Ok((installation, accepted))
}

fn accept_for(
    installation: Option<&str>,
    body: &[u8],
    content_encoding: Option<&str>,
    limit: usize,
) -> Result<Accepted, Refusal> {
    let unpacked = unpack(body, content_encoding, limit)?;
    let body: &[u8] = &unpacked;
    let kept = || (deflate(body), hex::encode(Sha256::digest(body)));
    let (checked, (raw, digest)) = if body.len() < PARALLEL_FROM {
        (check(installation, body), kept())
    } else {
        std::thread::scope(|scope| {
            let kept = scope.spawn(kept);
            let checked = check(installation, body);
            let kept = kept.join().unwrap_or_else(|_| {
                (
                    Err(std::io::Error::other("compressing the report panicked")),
                    String::new(),
                )
            });
            (checked, kept)
        })
    };
    let (document, generated_at, agent) = checked?;
    Ok(Accepted {
        encoded: document
            .to_stored()
            .map_err(|e| Refusal::Internal(e.to_string()))?,
        raw: raw.map_err(|e| Refusal::Internal(e.to_string()))?,
        raw_size: body.len(),
        digest,
        glance: Glance::of(&document),
        fingerprint: document.fingerprint(),
        document,
        generated_at,
        agent,
    })
}

/// The body as sent, or gunzipped when the agent said it gzipped it.
fn unpack<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
    limit: usize,
) -> Result<std::borrow::Cow<'a, [u8]>, Refusal> {
    let encoding = content_encoding.map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("" | "identity") => Ok(body.into()),
        Some("gzip" | "x-gzip") => {
            let mut unpacked = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
            GzDecoder::new(body)
                .take(limit as u64 + 1)
                .read_to_end(&mut unpacked)
                .map_err(|e| Refusal::Invalid(format!("the body is not valid gzip: {e}")))?;
            if unpacked.len() > limit {
                return Err(Refusal::TooLarge(format!(
                    "the report is larger than {} MiB once unpacked; the limit is the setting `max_report_mb`",
                    limit >> 20
                )));
            }
            Ok(unpacked.into())
        }
        Some(other) => Err(Refusal::UnsupportedEncoding(format!(
            "Content-Encoding `{other}` is not supported: send the report as it is, or gzipped (Content-Encoding: gzip)"
        ))),
    }
}

fn deflate(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    encoder.write_all(body)?;
    encoder.finish()
}

/// Parses and checks the report; returns it with when it was generated and by which agent.
fn check(installation: Option<&str>, body: &[u8]) -> Result<(Document, i64, String), Refusal> {
    let document = report::parse(body).map_err(|e| Refusal::Invalid(e.to_string()))?;
    let claimed = document.value("installation/@id");
    match (installation, claimed) {
        (Some(installation), Some(claimed)) if claimed != installation => {
            return Err(Refusal::WrongInstallation(format!(
                "the report is for installation `{claimed}`, but the token belongs to `{installation}`"
            )));
        }
        (None, None | Some("")) => {
            return Err(Refusal::Invalid(
                "the report names no installation (`<installation id=\"...\">`)".into(),
            ));
        }
        _ => {}
    }
    let generated = document
        .value("@generated-at")
        .ok_or_else(|| Refusal::Invalid("`<report>` has no `generated-at` attribute".into()))?;
    let generated_at = generated
        .parse::<jiff::Timestamp>()
        .map_err(|_| {
            Refusal::Invalid(format!(
                "generated-at `{generated}` is not an RFC 3339 date-time with an offset (e.g. 2026-11-20T01:07:00+03:00)"
            ))
        })?
        .as_millisecond();
    let agent = document.value("@agent").unwrap_or("unknown").to_string();
    Ok((document, generated_at, agent))
}
