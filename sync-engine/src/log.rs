//! The event log an admin reads: a bounded ring of timestamped lines plus a live broadcast.
//!
//! The products this engine stands in for show their integration log in the admin UI ("EWS
//! starting", "Connected to Exchange (v14.03.0181.0006)", ...), so the log is part of the
//! product, not a debugging aid: every line is stamped from the engine's [`Clock`] (virtual
//! time in scenarios), carries the mailbox it concerns, and is kept in memory up to a
//! capacity, oldest dropped first. Each line is also sent to `tracing` so a host process sees
//! it in its own logs.
//!
//! Lines never carry a subject of a mailbox in privacy mode: callers log ids, counts and
//! times, never item contents.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use ews_clock::Clock;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so `{:<5}` aligns the columns of the text form.
        f.pad(match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        })
    }
}

/// One line of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// Position in the log since start-up, so a reader can ask for what came after.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub level: Level,
    /// The mailbox (or user label) the line concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    pub message: String,
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:<5} ",
            self.at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
            self.level
        )?;
        if let Some(m) = &self.mailbox {
            write!(f, "[{m}] ")?;
        }
        f.write_str(&self.message)
    }
}

/// The bounded, broadcasting event log. Cheap to share behind an `Arc`.
pub struct EventLog {
    clock: Clock,
    capacity: usize,
    ring: Mutex<Ring>,
    live: broadcast::Sender<LogLine>,
}

struct Ring {
    next_seq: u64,
    lines: VecDeque<LogLine>,
}

impl EventLog {
    /// A log keeping the last `capacity` lines (at least one).
    pub fn new(clock: Clock, capacity: usize) -> EventLog {
        let capacity = capacity.max(1);
        let (live, _) = broadcast::channel(1024);
        EventLog {
            clock,
            capacity,
            ring: Mutex::new(Ring {
                next_seq: 0,
                lines: VecDeque::with_capacity(capacity.min(4096)),
            }),
            live,
        }
    }

    /// Appends a line stamped with the clock's `now` and returns it.
    pub fn log(&self, level: Level, mailbox: Option<&str>, message: impl Into<String>) -> LogLine {
        let message = message.into();
        match level {
            Level::Debug => tracing::debug!(mailbox, "{message}"),
            Level::Info => tracing::info!(mailbox, "{message}"),
            Level::Warn => tracing::warn!(mailbox, "{message}"),
            Level::Error => tracing::error!(mailbox, "{message}"),
        }
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let line = LogLine {
            seq: ring.next_seq,
            at: self.clock.now(),
            level,
            mailbox: mailbox.map(str::to_string),
            message,
        };
        ring.next_seq += 1;
        if ring.lines.len() == self.capacity {
            ring.lines.pop_front();
        }
        ring.lines.push_back(line.clone());
        // Sent under the lock so live readers see lines in `seq` order.
        let _ = self.live.send(line.clone());
        line
    }

    pub fn info(&self, mailbox: Option<&str>, message: impl Into<String>) -> LogLine {
        self.log(Level::Info, mailbox, message)
    }

    pub fn warn(&self, mailbox: Option<&str>, message: impl Into<String>) -> LogLine {
        self.log(Level::Warn, mailbox, message)
    }

    pub fn error(&self, mailbox: Option<&str>, message: impl Into<String>) -> LogLine {
        self.log(Level::Error, mailbox, message)
    }

    pub fn debug(&self, mailbox: Option<&str>, message: impl Into<String>) -> LogLine {
        self.log(Level::Debug, mailbox, message)
    }

    /// The kept lines with `seq >= since` and level at least `min_level`, oldest first, at
    /// most `limit` of them (the newest when more match).
    pub fn lines(&self, query: &LogQuery) -> Vec<LogLine> {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let matching: Vec<&LogLine> = ring
            .lines
            .iter()
            .filter(|l| l.seq >= query.since.unwrap_or(0))
            .filter(|l| l.level >= query.level.unwrap_or(Level::Debug))
            .filter(|l| match &query.mailbox {
                Some(m) => l.mailbox.as_deref() == Some(m.as_str()),
                None => true,
            })
            .collect();
        let skip = match query.limit {
            Some(limit) => matching.len().saturating_sub(limit),
            None => 0,
        };
        matching.into_iter().skip(skip).cloned().collect()
    }

    /// The kept lines and a receiver of every later one, with no line lost or repeated in
    /// between (both are taken under the log's lock).
    pub fn snapshot_and_subscribe(&self) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let rx = self.live.subscribe();
        (ring.lines.iter().cloned().collect(), rx)
    }

    /// A receiver of every line logged from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LogLine> {
        self.live.subscribe()
    }

    /// Lines kept at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// Which lines [`EventLog::lines`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogQuery {
    pub since: Option<u64>,
    pub level: Option<Level>,
    pub mailbox: Option<String>,
    pub limit: Option<usize>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap()
    }

    #[test]
    fn keeps_the_newest_lines_up_to_capacity_with_clock_stamps() {
        let clock = Clock::frozen_at(t0());
        let log = EventLog::new(clock.clone(), 3);
        for i in 0..5 {
            clock.advance(chrono::Duration::seconds(1));
            log.info(None, format!("line {i}"));
        }
        let lines = log.lines(&LogQuery::default());
        let got: Vec<_> = lines.iter().map(|l| (l.seq, l.message.as_str())).collect();
        assert_eq!(got, [(2, "line 2"), (3, "line 3"), (4, "line 4")]);
        assert_eq!(lines[0].at, t0() + chrono::Duration::seconds(3));
    }

    #[test]
    fn filters_by_seq_level_mailbox_and_limit() {
        let log = EventLog::new(Clock::frozen_at(t0()), 100);
        log.info(Some("a@x.test"), "one");
        log.warn(Some("b@x.test"), "two");
        log.error(Some("a@x.test"), "three");
        log.debug(None, "four");
        let q =
            |q: LogQuery| -> Vec<String> { log.lines(&q).into_iter().map(|l| l.message).collect() };
        assert_eq!(
            q(LogQuery {
                since: Some(2),
                ..Default::default()
            }),
            ["three", "four"]
        );
        assert_eq!(
            q(LogQuery {
                level: Some(Level::Warn),
                ..Default::default()
            }),
            ["two", "three"]
        );
        assert_eq!(
            q(LogQuery {
                mailbox: Some("a@x.test".into()),
                ..Default::default()
            }),
            ["one", "three"]
        );
        assert_eq!(
            q(LogQuery {
                limit: Some(1),
                ..Default::default()
            }),
            ["four"]
        );
    }

    #[test]
    fn displays_timestamp_level_and_mailbox() {
        let log = EventLog::new(Clock::frozen_at(t0()), 10);
        let line = log.info(Some("kim@contoso.com"), "Subscribing to availability");
        assert_eq!(
            line.to_string(),
            "2026-03-30 08:00:00.000Z INFO  [kim@contoso.com] Subscribing to availability"
        );
    }

    #[tokio::test]
    async fn live_readers_get_later_lines_after_the_snapshot() {
        let log = EventLog::new(Clock::frozen_at(t0()), 10);
        log.info(None, "before");
        let (kept, mut rx) = log.snapshot_and_subscribe();
        log.info(None, "after");
        assert_eq!(kept.len(), 1);
        assert_eq!(rx.recv().await.unwrap().message, "after");
    }
}
