//! The report as the host keeps it and plugins read it: one compact tree per report.
//!
//! Parsing (a byte-order mark's or the declared encoding, format v1's rules) and the tree
//! that answers path queries are `reveille-document` (`sdk/document/`), shared with the
//! SDK so that a check's native unit test reads a report exactly as the host serves it.
//! Parsing happens once per report; the document is then shared read-only (`Arc`) by every
//! plugin that evaluates it. What the board shows of a report, its glance, is the host's.

mod glance;
mod timing;

pub use glance::{Dongle, Glance, Seats, Update};
pub use reveille_document::{CodecError, Document, ElementView, NodeId, ParseError, parse};
pub use timing::{Judged, Timing, judged_at};
