//! An in-memory [`Exchange`]: mailboxes with appointments and OOF settings, failures to
//! inject, and a count of calls. It lets the engine's scheduling, state and API be tested
//! (and scenarios be sketched) without the wire; the EWS client is tested against mock-ews
//! and wiremock instead.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use calendar_core::OofSettings;
use chrono::{DateTime, Utc};

use crate::exchange::{Appointment, BoxFuture, Exchange, ExchangeError, ServerVersion};

/// An Exchange server held in memory. All methods take `&self`; share it in an `Arc`.
pub struct InMemoryExchange {
    inner: Mutex<Inner>,
}

struct Inner {
    version: ServerVersion,
    /// When set, every call fails with it (the server is down).
    down: Option<ExchangeError>,
    mailboxes: BTreeMap<String, FakeMailbox>,
    /// Failures served once each, in order, before the next calls succeed.
    queued: VecDeque<ExchangeError>,
    calls: Vec<Call>,
}

#[derive(Default)]
struct FakeMailbox {
    appointments: Vec<Appointment>,
    oof: OofSettings,
    /// A permanent failure for this mailbox (impersonation denied, ...).
    failure: Option<ExchangeError>,
}

/// One call the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub operation: &'static str,
    pub mailbox: Option<String>,
}

impl Default for InMemoryExchange {
    fn default() -> Self {
        InMemoryExchange {
            inner: Mutex::new(Inner {
                version: ServerVersion {
                    major: 14,
                    minor: 3,
                    major_build: 181,
                    minor_build: 6,
                },
                down: None,
                mailboxes: BTreeMap::new(),
                queued: VecDeque::new(),
                calls: Vec::new(),
            }),
        }
    }
}

impl InMemoryExchange {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates (or empties) a mailbox.
    pub fn add_mailbox(&self, email: &str) {
        self.lock()
            .mailboxes
            .insert(email.to_ascii_lowercase(), FakeMailbox::default());
    }

    /// Replaces a mailbox's appointments (creating the mailbox).
    pub fn set_appointments(&self, email: &str, appointments: Vec<Appointment>) {
        self.lock()
            .mailboxes
            .entry(email.to_ascii_lowercase())
            .or_default()
            .appointments = appointments;
    }

    /// Replaces a mailbox's OOF settings (creating the mailbox).
    pub fn set_oof(&self, email: &str, oof: OofSettings) {
        self.lock()
            .mailboxes
            .entry(email.to_ascii_lowercase())
            .or_default()
            .oof = oof;
    }

    /// Makes every call on `email` fail with `error` (`None` heals it).
    pub fn fail_mailbox(&self, email: &str, error: Option<ExchangeError>) {
        self.lock()
            .mailboxes
            .entry(email.to_ascii_lowercase())
            .or_default()
            .failure = error;
    }

    /// Makes every call fail with `error` (`None`: the server is back).
    pub fn set_down(&self, error: Option<ExchangeError>) {
        self.lock().down = error;
    }

    /// Queues a failure that the next call (of any kind) gets instead of its answer.
    pub fn fail_next(&self, error: ExchangeError) {
        self.lock().queued.push_back(error);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many calls of `operation` were made.
    pub fn count(&self, operation: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.operation == operation)
            .count()
    }

    fn call<T>(
        &self,
        operation: &'static str,
        mailbox: Option<&str>,
        answer: impl FnOnce(&FakeMailbox) -> T,
        otherwise: impl FnOnce(&Inner) -> T,
    ) -> Result<T, ExchangeError> {
        let mut inner = self.lock();
        inner.calls.push(Call {
            operation,
            mailbox: mailbox.map(str::to_string),
        });
        if let Some(e) = &inner.down {
            return Err(e.clone());
        }
        if let Some(e) = inner.queued.pop_front() {
            return Err(e);
        }
        let Some(mailbox) = mailbox else {
            return Ok(otherwise(&inner));
        };
        match inner.mailboxes.get(&mailbox.to_ascii_lowercase()) {
            None => Err(ExchangeError::MailboxNotFound {
                operation,
                mailbox: mailbox.to_string(),
                code: "ErrorNonExistentMailbox".into(),
            }),
            Some(m) => match &m.failure {
                Some(e) => Err(e.clone()),
                None => Ok(answer(m)),
            },
        }
    }
}

fn overlapping(
    m: &FakeMailbox,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    redact: bool,
) -> Vec<Appointment> {
    m.appointments
        .iter()
        .filter(|a| a.start < end && a.end > start)
        .cloned()
        .map(|a| if redact { a.redacted() } else { a })
        .collect()
}

impl Exchange for InMemoryExchange {
    fn server_version(&self) -> BoxFuture<'_, Result<ServerVersion, ExchangeError>> {
        let r = self.call("ServerVersion", None, |_| None, |i| Some(i.version));
        Box::pin(async move {
            r.map(|v| {
                v.unwrap_or(ServerVersion {
                    major: 0,
                    minor: 0,
                    major_build: 0,
                    minor_build: 0,
                })
            })
        })
    }

    fn calendar_view<'a>(
        &'a self,
        mailbox: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Appointment>, ExchangeError>> {
        let r = self.call(
            "CalendarView",
            Some(mailbox),
            |m| overlapping(m, start, end, false),
            |_| Vec::new(),
        );
        Box::pin(async move { r })
    }

    fn availability<'a>(
        &'a self,
        mailbox: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Appointment>, ExchangeError>> {
        let r = self.call(
            "GetUserAvailability",
            Some(mailbox),
            |m| overlapping(m, start, end, true),
            |_| Vec::new(),
        );
        Box::pin(async move { r })
    }

    fn oof<'a>(&'a self, mailbox: &'a str) -> BoxFuture<'a, Result<OofSettings, ExchangeError>> {
        let r = self.call(
            "GetUserOofSettings",
            Some(mailbox),
            |m| m.oof.clone(),
            |_| OofSettings::default(),
        );
        Box::pin(async move { r })
    }
}
