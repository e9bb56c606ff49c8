//! An in-memory [`Exchange`]: mailboxes with appointments and OOF settings, failures to
//! inject, and a count of calls. It lets the engine's scheduling, state and API be tested
//! (and scenarios be sketched) without the wire; the EWS client is tested against mock-ews
//! and wiremock instead.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use calendar_core::OofSettings;
use chrono::{DateTime, Utc};

use tokio::sync::watch;

use crate::exchange::{
    Appointment, BoxFuture, Events, Exchange, ExchangeError, FetchedItem, ItemEvent, ServerVersion,
    StreamEvent, Subscription, SubscriptionKind,
};

/// An Exchange server held in memory. All methods take `&self`; share it in an `Arc`.
pub struct InMemoryExchange {
    inner: Mutex<Inner>,
    /// Bumped on every change, so open streams look at their subscription again.
    wake: watch::Sender<u64>,
}

struct Inner {
    version: ServerVersion,
    /// When set, every call fails with it (the server is down).
    down: Option<ExchangeError>,
    mailboxes: BTreeMap<String, FakeMailbox>,
    /// Failures served once each, in order, before the next calls succeed.
    queued: VecDeque<ExchangeError>,
    calls: Vec<Call>,
    subscriptions: BTreeMap<String, FakeSubscription>,
    next_subscription: u64,
}

struct FakeSubscription {
    mailbox: String,
    streaming: bool,
    /// Changes not yet delivered.
    pending: usize,
    /// The server forgot it: the next poll or stream fails with ErrorSubscriptionNotFound.
    lost: bool,
    /// The next stream read fails as a cut connection.
    cut: bool,
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
                subscriptions: BTreeMap::new(),
                next_subscription: 0,
            }),
            wake: watch::channel(0).0,
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

    /// Replaces a mailbox's appointments (creating the mailbox) and notifies its
    /// subscriptions (with a folder event: the whole calendar may have changed).
    pub fn set_appointments(&self, email: &str, appointments: Vec<Appointment>) {
        let email = email.to_ascii_lowercase();
        {
            let mut inner = self.lock();
            inner
                .mailboxes
                .entry(email.clone())
                .or_default()
                .appointments = appointments;
            for sub in inner
                .subscriptions
                .values_mut()
                .filter(|s| s.mailbox == email)
            {
                sub.pending += 1;
            }
        }
        self.wake.send_modify(|n| *n += 1);
    }

    /// Forgets every subscription of `email` (as a server restart or expiry does).
    pub fn lose_subscriptions(&self, email: &str) {
        let email = email.to_ascii_lowercase();
        for sub in self
            .lock()
            .subscriptions
            .values_mut()
            .filter(|s| s.mailbox == email)
        {
            sub.lost = true;
        }
        self.wake.send_modify(|n| *n += 1);
    }

    /// Cuts every open streaming connection.
    pub fn cut_streams(&self) {
        for sub in self
            .lock()
            .subscriptions
            .values_mut()
            .filter(|s| s.streaming)
        {
            sub.cut = true;
        }
        self.wake.send_modify(|n| *n += 1);
    }

    /// The live subscription ids of `email`.
    pub fn subscription_ids(&self, email: &str) -> Vec<String> {
        let email = email.to_ascii_lowercase();
        self.lock()
            .subscriptions
            .iter()
            .filter(|(_, s)| s.mailbox == email && !s.lost)
            .map(|(id, _)| id.clone())
            .collect()
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

fn lost(operation: &'static str) -> ExchangeError {
    ExchangeError::SubscriptionLost {
        operation,
        code: "ErrorSubscriptionNotFound".into(),
    }
}

impl Exchange for InMemoryExchange {
    fn subscribe<'a>(
        &'a self,
        mailbox: &'a str,
        kind: &'a SubscriptionKind,
    ) -> BoxFuture<'a, Result<Subscription, ExchangeError>> {
        let r = self
            .call("Subscribe", Some(mailbox), |_| (), |_| ())
            .map(|()| {
                let mut inner = self.lock();
                inner.next_subscription += 1;
                let id = format!("sub-{}", inner.next_subscription);
                inner.subscriptions.insert(
                    id.clone(),
                    FakeSubscription {
                        mailbox: mailbox.to_ascii_lowercase(),
                        streaming: matches!(kind, SubscriptionKind::Streaming),
                        pending: 0,
                        lost: false,
                        cut: false,
                    },
                );
                let watermark =
                    (!matches!(kind, SubscriptionKind::Streaming)).then(|| "wm-0".to_string());
                Subscription { id, watermark }
            });
        Box::pin(async move { r })
    }

    fn get_events<'a>(
        &'a self,
        mailbox: &'a str,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Events, ExchangeError>> {
        let r = self
            .call("GetEvents", Some(mailbox), |_| (), |_| ())
            .and_then(|()| {
                let mut inner = self.lock();
                let sub = inner
                    .subscriptions
                    .get_mut(&subscription.id)
                    .filter(|s| !s.lost)
                    .ok_or_else(|| lost("GetEvents"))?;
                let changes = vec![ItemEvent::Folder; sub.pending];
                sub.pending = 0;
                Ok(Events {
                    watermark: Some(format!("wm-{}", inner.calls.len())),
                    changes,
                    more: false,
                })
            });
        Box::pin(async move { r })
    }

    fn stream_events<'a>(
        &'a self,
        anchor: &'a str,
        ids: &'a [String],
        _lifetime_minutes: u32,
        events: tokio::sync::mpsc::UnboundedSender<StreamEvent>,
    ) -> BoxFuture<'a, Result<(), ExchangeError>> {
        let opened = self.call("GetStreamingEvents", Some(anchor), |_| (), |_| ());
        let mut wake = self.wake.subscribe();
        Box::pin(async move {
            opened?;
            let mut open: Vec<String> = ids.to_vec();
            loop {
                {
                    let mut inner = self.lock();
                    let mut still_open = Vec::new();
                    for id in open {
                        let Some(sub) = inner.subscriptions.get_mut(&id).filter(|s| !s.lost) else {
                            let _ = events.send(StreamEvent::Lost {
                                id,
                                reason: lost("GetStreamingEvents").to_string(),
                            });
                            continue;
                        };
                        if sub.cut {
                            sub.cut = false;
                            return Err(ExchangeError::Connect {
                                operation: "GetStreamingEvents",
                                url: "memory".into(),
                                message: "stream cut".into(),
                            });
                        }
                        for _ in 0..sub.pending {
                            let _ = events.send(StreamEvent::Changed {
                                id: id.clone(),
                                changes: vec![ItemEvent::Folder],
                            });
                        }
                        sub.pending = 0;
                        still_open.push(id);
                    }
                    open = still_open;
                }
                if open.is_empty() {
                    return Ok(());
                }
                if wake.changed().await.is_err() {
                    return Ok(());
                }
            }
        })
    }

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

    fn get_items<'a>(
        &'a self,
        mailbox: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<FetchedItem>, ExchangeError>> {
        let r = self.call(
            "GetItem",
            Some(mailbox),
            |m| {
                ids.iter()
                    .map(
                        |id| match m.appointments.iter().find(|a| a.id.as_deref() == Some(id)) {
                            Some(a) => FetchedItem::Single(a.clone()),
                            None => FetchedItem::Missing { id: id.clone() },
                        },
                    )
                    .collect()
            },
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
