//! A Reveille report as the host keeps it and checks query it: XML bytes (in whatever
//! encoding the agent wrote) parsed once into a compact tree, answering path queries.
//!
//! One crate for both sides of the sandbox: the host parses every report with it and
//! answers a plugin's `select`, `children-of`, `value` and `count` from it, and the SDK's
//! `testing` feature runs a check natively on the very same [`Document`]. So a check's
//! unit test reads a report exactly as the host would serve it to the check.

mod decode;
mod document;
mod error;
mod parse;

#[cfg(feature = "stored")]
mod codec;

#[cfg(feature = "stored")]
pub use codec::CodecError;
pub use document::{Document, ElementView, NodeId};
pub use error::ParseError;
pub use parse::{MAX_ATTRIBUTES, parse};
