//! What a check says to its author: the lines it writes to the `log` interface (API 1.2)
//! and to stdout and stderr (any API: Rust's `println!` and `eprintln!`, a panic message).
//!
//! Nothing a check says reaches anyone but its author, and nothing it says can hurt the
//! host: one call keeps its first [`MAX_LINES`] lines of [`MAX_LINE_CHARS`] characters
//! and counts the rest; writing never fails (a check that prints in a loop runs on, as it
//! would with a terminal that scrolls). Across calls, [`LogBudget`] keeps at most
//! [`LogBudget::per_minute`] lines a minute of one plugin and says how many it did not.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Lines one call keeps.
pub const MAX_LINES: usize = 50;
/// Characters of one line kept; a longer one ends in `…`.
pub const MAX_LINE_CHARS: usize = 500;
/// Stderr kept for a failure's message (a panic's words are the last it writes).
const STDERR_TAIL: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub const ALL: [LogLevel; 4] = [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LogLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str() == s)
            .ok_or_else(|| format!("unknown log level `{s}` (expected debug, info, warn or error)"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
}

impl LogLine {
    /// A line the host adds to a plugin's log about the log itself.
    fn host(message: String) -> Self {
        LogLine {
            level: LogLevel::Warn,
            message,
        }
    }
}

/// Where a line came from: the `log` interface gives its level; stdout is `info` and
/// stderr `warn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn level(self) -> LogLevel {
        match self {
            Stream::Stdout => LogLevel::Info,
            Stream::Stderr => LogLevel::Warn,
        }
    }
}

/// What one call said, once it is over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Said {
    pub lines: Vec<LogLine>,
    /// Lines past [`MAX_LINES`], not kept.
    pub dropped: usize,
    /// The end of stderr on one line, without Rust's hint about backtraces a plugin cannot
    /// produce anyway: a panic's message, for the call's failure.
    pub stderr: Option<String>,
}

#[derive(Default)]
struct Collected {
    lines: Vec<LogLine>,
    dropped: usize,
    /// A stream's line not ended yet, bounded like a line.
    pending: [String; 2],
    stderr: String,
}

impl Collected {
    fn push(&mut self, level: LogLevel, line: &str) {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || is_backtrace_hint(line) {
            return;
        }
        if self.lines.len() >= MAX_LINES {
            self.dropped += 1;
            return;
        }
        self.lines.push(LogLine {
            level,
            message: bounded(line),
        });
    }

    fn take(&mut self, stream: Stream, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        if stream == Stream::Stderr {
            self.stderr.push_str(&text);
            if self.stderr.len() > STDERR_TAIL {
                let mut cut = self.stderr.len() - STDERR_TAIL;
                while !self.stderr.is_char_boundary(cut) {
                    cut += 1;
                }
                self.stderr.drain(..cut);
            }
        }
        let slot = stream as usize;
        let mut rest: &str = &text;
        while let Some(end) = rest.find('\n') {
            let mut line = std::mem::take(&mut self.pending[slot]);
            line.push_str(&rest[..end]);
            self.push(stream.level(), &line);
            rest = &rest[end + 1..];
        }
        let pending = &mut self.pending[slot];
        if pending.chars().count() <= MAX_LINE_CHARS {
            pending.push_str(rest);
        }
    }
}

fn is_backtrace_hint(line: &str) -> bool {
    line.starts_with("note: run with `RUST_BACKTRACE")
}

/// `line` cut to [`MAX_LINE_CHARS`] characters.
fn bounded(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}

/// One call's log, shared by the store's `log` import and its stdout and stderr.
#[derive(Clone, Default)]
pub struct CallLog(Arc<Mutex<Collected>>);

impl CallLog {
    /// A `log` call: each line of `message` is a line.
    pub fn write(&self, level: LogLevel, message: &str) {
        let mut collected = self.lock();
        for line in message.lines() {
            collected.push(level, line);
        }
    }

    /// The WASI stream that writes into this log as `stream`.
    pub fn stream(&self, stream: Stream) -> LogStream {
        LogStream {
            log: self.clone(),
            stream,
        }
    }

    /// What the call said, its unfinished lines included.
    pub fn said(&self) -> Said {
        let mut collected = self.lock();
        for stream in [Stream::Stdout, Stream::Stderr] {
            let line = std::mem::take(&mut collected.pending[stream as usize]);
            collected.push(stream.level(), &line);
        }
        let stderr: Vec<&str> = (collected.stderr.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty() && !is_backtrace_hint(l))
            .collect();
        Said {
            stderr: (!stderr.is_empty()).then(|| stderr.join(" ")),
            lines: collected.lines.clone(),
            dropped: collected.dropped,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Collected> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A check's stdout or stderr: takes every byte, keeps what [`CallLog`] keeps.
#[derive(Clone)]
pub struct LogStream {
    log: CallLog,
    stream: Stream,
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// Room offered to each write: writes are taken whole, whatever their size.
const WRITE_ROOM: usize = 64 << 10;

impl OutputStream for LogStream {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.log.lock().take(self.stream, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_ROOM)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogStream {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LogStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.log.lock().take(self.stream, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// How much of each plugin's log is kept over time: [`LogBudget::per_minute`] lines in
/// each minute of the host's clock; the first lines kept after a minute that dropped some
/// begin with how many were not kept.
pub struct LogBudget {
    per_minute: usize,
    minutes: Mutex<HashMap<String, Minute>>,
}

#[derive(Debug, Clone, Copy)]
struct Minute {
    started_ms: i64,
    kept: usize,
    dropped: usize,
}

impl Default for LogBudget {
    fn default() -> Self {
        LogBudget::new(120)
    }
}

impl LogBudget {
    pub fn new(per_minute: usize) -> Self {
        LogBudget {
            per_minute,
            minutes: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> usize {
        self.per_minute
    }

    /// What is kept of `said` by `plugin` at `now_ms`, with the host's lines about what
    /// was not.
    pub fn admit(&self, plugin: &str, now_ms: i64, said: &Said) -> Vec<LogLine> {
        if said.lines.is_empty() && said.dropped == 0 {
            return Vec::new();
        }
        let mut minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        let minute = minutes.entry(plugin.to_string()).or_insert(Minute {
            started_ms: now_ms,
            kept: 0,
            dropped: 0,
        });
        let mut kept = Vec::new();
        if now_ms - minute.started_ms >= 60_000 {
            if minute.dropped > 0 {
                kept.push(LogLine::host(format!(
                    "{} lines of this plugin were not kept in the minute before: at most {} a minute are",
                    minute.dropped, self.per_minute
                )));
            }
            *minute = Minute {
                started_ms: now_ms,
                kept: 0,
                dropped: 0,
            };
        }
        let room = self.per_minute.saturating_sub(minute.kept);
        let taken = said.lines.len().min(room);
        kept.extend(said.lines[..taken].iter().cloned());
        minute.kept += taken;
        if taken < said.lines.len() {
            // The call's own overflow goes unsaid with the rest: counted for the minute.
            minute.dropped += said.lines.len() - taken + said.dropped;
        } else if said.dropped > 0 {
            kept.push(LogLine::host(format!(
                "{} more lines of this call were not kept: at most {MAX_LINES} a call are",
                said.dropped
            )));
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(log: &CallLog) -> Vec<(LogLevel, String)> {
        log.said()
            .lines
            .into_iter()
            .map(|l| (l.level, l.message))
            .collect()
    }

    #[test]
    fn streams_are_cut_into_lines_whatever_the_writes() {
        let log = CallLog::default();
        log.lock().take(Stream::Stdout, b"base KDS");
        log.lock()
            .take(Stream::Stdout, b"-LAW is 3 days old\nsecond");
        log.lock().take(Stream::Stderr, b"warned\r\n\n");
        log.write(LogLevel::Debug, "one\ntwo");
        assert_eq!(
            said(&log),
            [
                (LogLevel::Info, "base KDS-LAW is 3 days old".to_string()),
                (LogLevel::Warn, "warned".to_string()),
                (LogLevel::Debug, "one".to_string()),
                (LogLevel::Debug, "two".to_string()),
                (LogLevel::Info, "second".to_string()),
            ]
        );
    }

    #[test]
    fn a_call_keeps_its_first_lines_and_counts_the_rest() {
        let log = CallLog::default();
        let long = "x".repeat(MAX_LINE_CHARS * 3);
        for _ in 0..MAX_LINES + 7 {
            log.lock()
                .take(Stream::Stdout, format!("{long}\n").as_bytes());
        }
        let said = log.said();
        assert_eq!(said.lines.len(), MAX_LINES);
        assert_eq!(said.dropped, 7);
        assert_eq!(said.lines[0].message.chars().count(), MAX_LINE_CHARS + 1);
        assert!(said.lines[0].message.ends_with('…'));
    }

    #[test]
    fn a_panic_is_the_end_of_stderr_without_the_backtrace_hint() {
        let log = CallLog::default();
        log.lock().take(Stream::Stderr, "x".repeat(5000).as_bytes());
        log.lock().take(
            Stream::Stderr,
            b"\nthread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
        );
        let said = log.said();
        let stderr = said.stderr.unwrap();
        assert!(
            stderr.ends_with("thread '<unnamed>' panicked at src/lib.rs:3:5: boom"),
            "{stderr}"
        );
        assert!(stderr.len() <= STDERR_TAIL);
        assert!(
            said.lines
                .iter()
                .all(|l| !l.message.contains("RUST_BACKTRACE"))
        );
    }

    #[test]
    fn a_plugin_keeps_so_many_lines_a_minute_and_hears_how_many_it_lost() {
        let budget = LogBudget::new(3);
        let call = |n: usize| Said {
            lines: (0..n)
                .map(|i| LogLine {
                    level: LogLevel::Info,
                    message: format!("line {i}"),
                })
                .collect(),
            dropped: 0,
            stderr: None,
        };
        assert_eq!(budget.admit("p", 0, &call(2)).len(), 2);
        assert_eq!(budget.admit("p", 1_000, &call(2)).len(), 1);
        assert!(budget.admit("p", 59_999, &call(5)).is_empty());
        assert_eq!(budget.admit("other", 59_999, &call(1)).len(), 1);
        let next = budget.admit("p", 60_000, &call(1));
        assert_eq!(next.len(), 2);
        assert_eq!(next[0].level, LogLevel::Warn);
        assert!(
            next[0]
                .message
                .starts_with("6 lines of this plugin were not kept")
        );
        assert_eq!(next[1].message, "line 0");
        // A call cut short by the minute: its own overflow is counted with the rest.
        let over = Said {
            dropped: 5,
            ..call(2)
        };
        assert_eq!(budget.admit("p", 60_001, &over).len(), 3);
        assert_eq!(budget.admit("p", 60_002, &over).len(), 0);
        let counted = budget.admit("p", 120_000, &call(0));
        assert!(counted.is_empty(), "nothing said, nothing told");
        let told = budget.admit("p", 120_001, &call(1));
        assert!(
            told[0].message.starts_with("7 lines of this plugin"),
            "{told:?}"
        );
        let cut = Said {
            dropped: 4,
            ..call(1)
        };
        let kept = budget.admit("q", 0, &cut);
        assert_eq!(kept.len(), 2);
        assert!(kept[1].message.starts_with("4 more lines of this call"));
    }
}
