//! The report as the host keeps it and plugins read it: one compact tree per report.
//!
//! `parse` turns XML bytes (a byte-order mark's or the declared encoding, `decode`) into a
//! [`Document`]; `document` answers
//! path queries on it. Parsing happens once per report; the document is then shared
//! read-only (`Arc`) by every plugin that evaluates it.

mod codec;
mod decode;
mod document;
mod glance;
mod parse;

pub use codec::CodecError;
pub use document::{Document, ElementView, NodeId};
pub use glance::{Dongle, Glance, Seats, Update};
pub use parse::{ParseError, parse};
