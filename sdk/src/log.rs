//! Telling the check's author what it did (since API 1.2).
//!
//! ```no_run
//! use reveille_sdk::log;
//!
//! log::info(format_args!("base {} is {} h old", "KDS-LAW", 50));
//! ```
//!
//! The host keeps what a check says per plugin, with the installation and the report it
//! was evaluating: `reveille plugin test` prints it, the plugin's admin page and
//! `GET /api/v1/plugins/{name}/log` show it. Nobody else is told: a log line is never a
//! finding. A call keeps its first 50 lines of 500 characters, a plugin 120 lines a
//! minute; the rest is counted, never an error. `println!` and `eprintln!` are kept the
//! same way, as `info` and `warn`.
//!
//! Natively (`cargo test`), a line goes to stderr (which the test harness shows for a
//! failing test), and [`testing`](crate::testing)'s `Outcome::log` has the lines of the
//! evaluation.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a check's log, as [`testing`](crate::testing) gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub level: Level,
    pub message: String,
}

pub fn debug(message: impl fmt::Display) {
    write(Level::Debug, message);
}

pub fn info(message: impl fmt::Display) {
    write(Level::Info, message);
}

pub fn warn(message: impl fmt::Display) {
    write(Level::Warn, message);
}

pub fn error(message: impl fmt::Display) {
    write(Level::Error, message);
}

/// One line (a message with several lines is kept as several).
pub fn write(level: Level, message: impl fmt::Display) {
    let message = message.to_string();
    #[cfg(target_arch = "wasm32")]
    {
        use crate::__private::bindings::reveille::check::log as wit;
        let level = match level {
            Level::Debug => wit::Level::Debug,
            Level::Info => wit::Level::Info,
            Level::Warn => wit::Level::Warn,
            Level::Error => wit::Level::Error,
        };
        wit::write(level, &message);
    }
    #[cfg(not(target_arch = "wasm32"))]
    native::write(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod native {
    use super::Level;

    pub(crate) fn write(level: Level, message: String) {
        eprintln!("[{level}] {message}");
        #[cfg(feature = "testing")]
        kept::keep(super::Line { level, message });
    }

    /// What `testing` gives back of an evaluation's log.
    #[cfg(feature = "testing")]
    pub(crate) mod kept {
        use std::cell::RefCell;

        use super::super::Line;

        /// Lines kept between two evaluations; bounded like the host's call log, so a
        /// check logging in a loop does not grow without end.
        const KEPT: usize = 1000;

        thread_local! {
            static LINES: RefCell<Vec<Line>> = const { RefCell::new(Vec::new()) };
        }

        pub(crate) fn keep(line: Line) {
            LINES.with_borrow_mut(|lines| {
                if lines.len() < KEPT {
                    lines.push(line);
                }
            });
        }

        /// The lines written on this thread since the last call.
        pub(crate) fn take() -> Vec<Line> {
            LINES.with_borrow_mut(std::mem::take)
        }
    }
}
