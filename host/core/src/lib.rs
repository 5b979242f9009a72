//! Reveille's domain without I/O: what an alert is and every decision about it
//! (`alerts`), the plugin contract the host speaks (`contract`), installations
//! (`fleet`), reports and their times (`report`), the catalogue of words in each
//! language (`i18n`) and enums kept as words (`names`). The host (`reveille`) loads,
//! stores, sends and serves; this crate links none of wasmtime, sqlx, axum or tokio, so
//! "decisions have no I/O" is the compiler's rule.

pub mod alerts;
pub mod contract;
pub mod fleet;
pub mod i18n;
pub mod names;
pub mod report;
