//! One module per scenario; each starts what it measures from scratch and returns figures.

pub mod board;
pub mod burst;
pub mod import;
pub mod ingest;
pub mod latency;
pub mod process;
pub mod replay;
pub mod report;
pub mod soak;
pub mod storm;
pub mod swap;
pub mod tick;
