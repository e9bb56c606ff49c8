//! The journal: one entry per EWS request, and conformance helpers that check how a client
//! behaved (did it honour BackOffMilliseconds? did it retry at all?).
//!
//! Entry times come from the world's [`ews_clock::Clock`], so a client sleeping on the same
//! virtual clock is judged in virtual time. Latency is wall time measured around the handler
//! (a monotonic `Instant`, never used by logic).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outcome {
    /// HTTP 200, every response message `NoError`.
    Success,
    /// HTTP 200 with at least one error response message (the first code).
    Error { code: String },
    /// HTTP 500 SOAP fault.
    Fault {
        code: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        back_off_ms: Option<u64>,
    },
    /// Any other HTTP status without an EWS body (401, 503, ...).
    Http {
        status: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_s: Option<u64>,
    },
    /// A transport fault: reset, empty reply, truncated body.
    Transport { what: String },
}

impl Outcome {
    /// The back-off the server asked for, if any: BackOffMilliseconds or Retry-After.
    pub fn back_off(&self) -> Option<Duration> {
        match self {
            Outcome::Fault {
                back_off_ms: Some(ms),
                ..
            } => i64::try_from(*ms).ok().map(Duration::milliseconds),
            Outcome::Http {
                retry_after_s: Some(s),
                ..
            } => i64::try_from(*s).ok().map(Duration::seconds),
            _ => None,
        }
    }

    /// The EWS response code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Outcome::Error { code } | Outcome::Fault { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// Clock time when the request arrived.
    pub at: DateTime<Utc>,
    /// The operation (local name of the first Body child), or `-` when unknown.
    pub operation: String,
    /// The authenticated login, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The mailbox named in ExchangeImpersonation, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated: Option<String>,
    pub outcome: Outcome,
    /// Requests of the same account for the same mailbox in the server when this one
    /// arrived, itself included (1 = alone). 0 when it never got past authentication.
    pub in_flight: u32,
    /// Wall time spent in the server.
    #[serde(serialize_with = "micros")]
    pub latency: StdDuration,
}

fn micros<S: serde::Serializer>(d: &StdDuration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// A request that came back sooner than the server had asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{operation} by {account} retried at {retried_at}, {waited_ms} ms after the answer at {answered_at} that asked for {asked_ms} ms"
)]
pub struct BackoffViolation {
    pub operation: String,
    pub account: String,
    pub answered_at: DateTime<Utc>,
    pub retried_at: DateTime<Utc>,
    pub asked_ms: i64,
    pub waited_ms: i64,
}

/// How many entries the journal keeps: a long-running server (the binary, `ews-kit up`)
/// must not grow without bound; older entries are dropped and counted.
pub const JOURNAL_LIMIT: usize = 100_000;

/// The request journal. Clones share the same entries.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    entries: Arc<Mutex<VecDeque<JournalEntry>>>,
    dropped: Arc<AtomicU64>,
}

impl Journal {
    fn lock(&self) -> MutexGuard<'_, VecDeque<JournalEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push(&self, entry: JournalEntry) {
        let mut entries = self.lock();
        if entries.len() >= JOURNAL_LIMIT {
            entries.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        entries.push_back(entry);
    }

    /// How many of the oldest entries were dropped to stay within [`JOURNAL_LIMIT`].
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// All entries kept, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Entries for one operation.
    pub fn of(&self, operation: &str) -> Vec<JournalEntry> {
        self.lock()
            .iter()
            .filter(|e| e.operation == operation)
            .cloned()
            .collect()
    }

    /// Checks that after every answer asking the client to back off (ErrorServerBusy with
    /// BackOffMilliseconds, or HTTP 503 with Retry-After), the same account's next request for
    /// the same operation on the same mailbox (the impersonated one, or its own) came no
    /// sooner than asked. Returns every violation.
    ///
    /// Per mailbox because the advice is "stop sending to this mailbox" (EWS.md §7.1) and
    /// Exchange budgets impersonated work per target mailbox: a service account that goes on
    /// syncing other mailboxes while one backs off is doing the right thing.
    pub fn waited_at_least_backoff(&self) -> Result<(), Vec<BackoffViolation>> {
        let entries = self.entries();
        let mut violations = Vec::new();
        let same_mailbox =
            |a: &JournalEntry, b: &JournalEntry| match (&a.impersonated, &b.impersonated) {
                (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
                (None, None) => true,
                _ => false,
            };
        for (i, e) in entries.iter().enumerate() {
            let Some(asked) = e.outcome.back_off() else {
                continue;
            };
            let next = entries[i + 1..].iter().find(|n| {
                n.account == e.account && n.operation == e.operation && same_mailbox(n, e)
            });
            if let Some(n) = next {
                let waited = n.at - e.at;
                if waited < asked {
                    violations.push(BackoffViolation {
                        operation: e.operation.clone(),
                        account: e.account.clone().unwrap_or_default(),
                        answered_at: e.at,
                        retried_at: n.at,
                        asked_ms: asked.num_milliseconds(),
                        waited_ms: waited.num_milliseconds(),
                    });
                }
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    /// The most requests one account had in flight at once for one mailbox (impersonated,
    /// X-AnchorMailbox, or its own), with that mailbox. EWS.md §7.2 recommends one.
    pub fn max_in_flight(&self) -> Option<(String, String, u32)> {
        self.lock()
            .iter()
            .filter(|e| e.in_flight > 0)
            .max_by_key(|e| e.in_flight)
            .map(|e| {
                (
                    e.account.clone().unwrap_or_default(),
                    e.impersonated.clone().unwrap_or_default(),
                    e.in_flight,
                )
            })
    }

    /// Checks that every request answered with a retryable failure was retried (some later
    /// request by the same account for the same operation exists).
    pub fn retried_after_failures(&self) -> bool {
        let entries = self.entries();
        entries.iter().enumerate().all(|(i, e)| {
            let retryable = e.outcome.back_off().is_some()
                || matches!(&e.outcome, Outcome::Transport { .. })
                || matches!(
                    e.outcome.code(),
                    Some("ErrorServerBusy" | "ErrorInternalServerError" | "ErrorTimeoutExpired")
                );
            !retryable
                || entries[i + 1..]
                    .iter()
                    .any(|n| n.account == e.account && n.operation == e.operation)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(at_s: i64, op: &str, outcome: Outcome) -> JournalEntry {
        JournalEntry {
            at: Utc.with_ymd_and_hms(2026, 3, 9, 8, 0, 0).unwrap() + Duration::seconds(at_s),
            operation: op.into(),
            account: Some("svc".into()),
            impersonated: None,
            outcome,
            in_flight: 1,
            latency: StdDuration::from_micros(10),
        }
    }

    fn busy(ms: u64) -> Outcome {
        Outcome::Fault {
            code: "ErrorServerBusy".into(),
            back_off_ms: Some(ms),
        }
    }

    #[test]
    fn backoff_honoured_and_violated() {
        let j = Journal::default();
        j.push(entry(0, "FindItem", busy(5000)));
        j.push(entry(1, "GetItem", Outcome::Success)); // other operation: not a retry
        j.push(entry(5, "FindItem", Outcome::Success));
        assert_eq!(j.waited_at_least_backoff(), Ok(()));
        assert!(j.retried_after_failures());

        j.push(entry(
            10,
            "FindItem",
            Outcome::Http {
                status: 503,
                retry_after_s: Some(30),
            },
        ));
        j.push(entry(20, "FindItem", Outcome::Success));
        let v = j.waited_at_least_backoff().unwrap_err();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].asked_ms, v[0].waited_ms), (30_000, 10_000));
        assert!(v[0].to_string().contains("FindItem by svc"), "{}", v[0]);
    }

    #[test]
    fn backoff_is_per_mailbox() {
        let j = Journal::default();
        let on = |at_s, mailbox: &str, outcome| JournalEntry {
            impersonated: Some(mailbox.into()),
            ..entry(at_s, "FindItem", outcome)
        };
        j.push(on(0, "a@x", busy(5000)));
        // Another mailbox of the same service account: not a retry of the busy request.
        j.push(on(1, "b@x", Outcome::Success));
        j.push(on(5, "A@x", Outcome::Success));
        assert_eq!(j.waited_at_least_backoff(), Ok(()));
        j.push(on(6, "b@x", busy(5000)));
        j.push(on(7, "b@x", Outcome::Success));
        let v = j.waited_at_least_backoff().unwrap_err();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].asked_ms, v[0].waited_ms), (5000, 1000));
    }

    #[test]
    fn the_journal_keeps_the_newest_entries() {
        let j = Journal::default();
        for i in 0..(JOURNAL_LIMIT + 5) {
            j.push(entry(
                i64::try_from(i).unwrap(),
                "GetItem",
                Outcome::Success,
            ));
        }
        assert_eq!(j.len(), JOURNAL_LIMIT);
        assert_eq!(j.dropped(), 5);
        assert_eq!(j.entries()[0].at, entry(5, "GetItem", Outcome::Success).at);
    }

    #[test]
    fn unretried_failure_is_reported() {
        let j = Journal::default();
        j.push(entry(0, "GetItem", busy(100)));
        assert!(!j.retried_after_failures());
        assert_eq!(j.of("GetItem").len(), 1);
    }
}
