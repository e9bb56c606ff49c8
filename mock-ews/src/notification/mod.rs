//! Notifications (issue 4, EWS.md §6): the subscription registry behind Subscribe, GetEvents,
//! GetStreamingEvents and Unsubscribe, and the record of every notification handed out.
//!
//! Events are not queued per subscription: the store keeps one change log for the whole
//! world, and a subscription is a [`Scope`](events::Scope) plus a [`Watermark`] into that log.
//! Reading events is a scan from the watermark, so a re-subscribe from an old watermark
//! replays exactly what happened since, pull, streaming and push all see the same events,
//! and no change can be lost between two deliveries. The retention window (Exchange keeps
//! 30 days of events) is checked against the age of the oldest change a watermark would
//! replay.
//!
//! Lock order: the registry mutex, then the store's lock (inside `changes_since`); neither
//! is held across an `.await`.

pub(crate) mod conformance;
pub(crate) mod control;
pub(crate) mod events;
mod faults;
pub(crate) mod push;
pub(crate) mod streaming;
mod wake;
mod watermark;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use ews_proto::notification::{Event, EventType, Notification};
use serde::Serialize;
use tokio::sync::watch;

use crate::store::Store;
pub use conformance::{LostEvent, ResumeViolation};
pub use faults::{ActiveNotifyFault, NotifyFault, NotifyFaultError, NotifyFaultSpec, NotifyFaults};
pub use push::PushOutcome;
pub use watermark::Watermark;

use events::Scope;

/// Tunables of the notification service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// How far back a watermark may replay (Exchange keeps 30 days of events).
    pub retention: Duration,
    /// Most events one GetEvents returns (Exchange: 50), the rest is `MoreEvents`.
    pub max_events_per_get: usize,
    /// Subscriptions per mailbox (EWSMaxSubscriptions: 5000 on premises, 20 on EXO).
    pub max_subscriptions_per_mailbox: usize,
    /// Idle time after which an open GetStreamingEvents connection gets a keep-alive `OK`
    /// envelope. The EWS Managed API gives up after 90 s of silence, so stay well inside.
    pub streaming_keepalive: Duration,
    /// How long a streaming subscription survives without any open connection (Exchange does
    /// not document it; reconnecting after it is gone is `ErrorExpiredSubscription`).
    pub streaming_idle_expiry: Duration,
    /// Open GetStreamingEvents connections per account (HangingConnectionLimit: 10 on
    /// Exchange 2016/2019 and EXO, 3 on 2013).
    pub max_streaming_connections: usize,
    /// Subscription ids per GetStreamingEvents request.
    pub max_ids_per_connection: usize,
    /// Entries the notification journal keeps (the oldest go first), so a long-running
    /// server's keep-alives and heartbeats cannot grow it without bound.
    pub journal_limit: usize,
    /// First push retry after a listener failure; later ones double (Exchange: 30 s).
    pub push_first_retry: Duration,
    /// How long a push listener may take to answer before the attempt counts as failed.
    pub push_timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            retention: Duration::days(30),
            max_events_per_get: 50,
            max_subscriptions_per_mailbox: 5000,
            streaming_keepalive: Duration::seconds(30),
            streaming_idle_expiry: Duration::minutes(30),
            max_streaming_connections: 10,
            max_ids_per_connection: 200,
            journal_limit: 100_000,
            push_first_retry: Duration::seconds(30),
            push_timeout: Duration::seconds(30),
        }
    }
}

/// Why a notification request failed; each maps onto the EWS response code Exchange gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("no subscription {0}")]
    NotFound(String),
    #[error("subscription {0} expired")]
    Expired(String),
    #[error("subscription {id} belongs to {owner}, not to the caller")]
    AccessDenied { id: String, owner: String },
    #[error("subscription {0} is not a pull or streaming subscription")]
    NotPull(String),
    #[error("subscription {0} is not a streaming subscription")]
    NotStreaming(String),
    #[error("watermark {watermark:?} is invalid: {reason}")]
    InvalidWatermark { watermark: String, reason: String },
    #[error("invalid subscription request: {0}")]
    InvalidRequest(String),
    #[error("subscriptions are not supported for delegate access to {0}")]
    DelegateAccess(String),
    #[error("mailbox {mailbox} already has {limit} subscriptions")]
    TooMany { mailbox: String, limit: usize },
    #[error("push URL {0:?} is not an http(s) URL of 1 to 2082 characters")]
    InvalidUrl(String),
    #[error("subscription {0} was unsubscribed while a connection served it")]
    Unsubscribed(String),
    #[error("{user} already has {limit} open streaming connections")]
    TooManyConnections { user: String, limit: usize },
}

impl NotifyError {
    /// The EWS `ResponseCode`.
    pub fn response_code(&self) -> &'static str {
        match self {
            NotifyError::NotFound(_) => "ErrorSubscriptionNotFound",
            NotifyError::Expired(_) => "ErrorExpiredSubscription",
            NotifyError::AccessDenied { .. } => "ErrorSubscriptionAccessDenied",
            NotifyError::NotPull(_) => "ErrorInvalidPullSubscriptionId",
            NotifyError::NotStreaming(_) => "ErrorInvalidSubscription",
            NotifyError::InvalidWatermark { .. } => "ErrorInvalidWatermark",
            NotifyError::InvalidRequest(_) => "ErrorInvalidSubscriptionRequest",
            NotifyError::DelegateAccess(_) => "ErrorSubscriptionDelegateAccessNotSupported",
            NotifyError::TooMany { .. } => "ErrorExceededSubscriptionCount",
            NotifyError::InvalidUrl(_) => "ErrorInvalidPushSubscriptionUrl",
            NotifyError::Unsubscribed(_) => "ErrorSubscriptionUnsubscribed",
            NotifyError::TooManyConnections { .. } => "ErrorExceededConnectionCount",
        }
    }

    /// The `MessageText` Exchange writes.
    pub fn message_text(&self) -> String {
        match self {
            NotifyError::NotFound(_) => "The specified subscription was not found.".into(),
            NotifyError::Expired(_) => {
                "Subscription information is not available. Subscription is expired.".into()
            }
            NotifyError::AccessDenied { .. } => {
                "Access is denied. Only the subscription owner may access the subscription.".into()
            }
            NotifyError::NotPull(_) => "The subscription id is not a valid pull subscription id."
                .into(),
            NotifyError::NotStreaming(_) => "The subscription is invalid.".into(),
            NotifyError::InvalidWatermark { .. } => "The watermark is invalid.".into(),
            NotifyError::DelegateAccess(_) => {
                "Subscriptions are not supported for delegate user access.".into()
            }
            NotifyError::TooMany { .. } => {
                "You have exceeded the available subscriptions for your account. Remove unnecessary subscriptions and try your request again.".into()
            }
            NotifyError::InvalidUrl(_) => "The specified push subscription URL is invalid.".into(),
            NotifyError::InvalidRequest(reason) => {
                format!("The subscription request is invalid: {reason}")
            }
            NotifyError::Unsubscribed(_) => {
                "The StreamingSubscription was unsubscribed while the current connection was servicing it.".into()
            }
            NotifyError::TooManyConnections { .. } => {
                "You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed.".into()
            }
        }
    }
}

/// Who created a subscription: only that account may read it (EWS.md §6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// The authenticated account.
    pub user: String,
    /// The impersonated mailbox, lower-case.
    pub acting_as: Option<String>,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.acting_as {
            Some(m) => write!(f, "{} as {m}", self.user),
            None => f.write_str(&self.user),
        }
    }
}

/// The three delivery channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    Pull,
    Streaming,
    Push,
}

/// How a subscription is fed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Pull {
        timeout: Duration,
        last_poll: DateTime<Utc>,
    },
    Push {
        url: String,
        status_frequency: Duration,
    },
    Streaming {
        /// Connections serving it right now.
        open: u32,
        /// Since when no connection served it.
        idle_since: DateTime<Utc>,
    },
}

impl Kind {
    fn channel(&self) -> Channel {
        match self {
            Kind::Pull { .. } => Channel::Pull,
            Kind::Push { .. } => Channel::Push,
            Kind::Streaming { .. } => Channel::Streaming,
        }
    }
}

/// Whether a subscription still delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Active,
    /// Kept as a tombstone so a late poll gets `ErrorExpiredSubscription`, not "not found".
    Expired,
}

#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) scope: Scope,
    pub(crate) owner: Owner,
    pub(crate) kind: Kind,
    /// The last event handed out (pull, push) or streamed.
    pub(crate) cursor: Watermark,
    /// Changes `(a, b]` known to raise no event for the scope (see [`Notifications::read`]).
    pub(crate) quiet: (u64, u64),
    life: Life,
}

/// What happened to a subscription, as recorded in the notification journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Record {
    /// A new subscription; `from` is where it starts, `resumed` whether the client gave it.
    Subscribed {
        channel: Channel,
        mailbox: String,
        from: String,
        resumed: bool,
    },
    /// A notification handed to the client.
    Delivered {
        channel: Channel,
        previous_watermark: Option<String>,
        /// `(event type, watermark)` per event, in order; status events included.
        events: Vec<SentEvent>,
        more_events: bool,
    },
    /// The subscription timed out (pull: no poll within its Timeout).
    Expired,
    /// The client ended it.
    Unsubscribed,
    /// A GetStreamingEvents connection opened for these subscriptions (comma-separated in
    /// `subscription_id`).
    StreamOpened { timeout_minutes: u32 },
    /// A keep-alive `OK` envelope on an idle connection.
    KeepAlive,
    /// An error envelope for some subscriptions of a connection.
    StreamError { code: String },
    /// The connection ended: `Closed` after its ConnectionTimeout, or the client left.
    StreamClosed { reason: String },
    /// One SendNotification POST and what the listener answered.
    Pushed {
        previous_watermark: String,
        events: Vec<SentEvent>,
        more_events: bool,
        /// 1 for the first try of this notification, then 2, 3, … for retries.
        attempt: u32,
        outcome: push::PushOutcome,
    },
    /// The server gave up on a push subscription (listener failing too long).
    Dropped { reason: String },
    /// A notification fault was applied to these events.
    FaultInjected {
        fault: String,
        channel: Channel,
        events: Vec<SentEvent>,
    },
}

/// One event as handed out, for the journal and the conformance checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentEvent {
    /// `CreatedEvent`, `StatusEvent`, …
    pub kind: String,
    /// Its watermark (also for streaming events, whose wire form has none).
    pub watermark: String,
    /// The store change it came from.
    pub seq: u64,
    /// A folder event (as opposed to an item event).
    pub folder: bool,
}

/// One journal line of the notification service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationEntry {
    pub at: DateTime<Utc>,
    pub subscription_id: String,
    #[serde(flatten)]
    pub record: Record,
}

/// A batch of events read from the log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Batch {
    /// Events in order, each with its watermark.
    pub(crate) events: Vec<(Watermark, Event)>,
    /// Where the subscription stands after this batch.
    pub(crate) last: Watermark,
    /// More events are waiting.
    pub(crate) more: bool,
}

/// The subscription registry and notification journal of one server.
#[derive(Debug)]
pub struct Notifications {
    store: Arc<Store>,
    config: NotifyConfig,
    subs: Mutex<HashMap<String, Subscription>>,
    journal: Mutex<std::collections::VecDeque<NotificationEntry>>,
    next_id: AtomicU64,
    /// Open streaming connections per account.
    connections: Mutex<HashMap<String, usize>>,
    /// Bumped when a subscription ends, so open connections notice at once.
    ended: watch::Sender<u64>,
    /// Set when the server shuts down: streams close, push senders stop.
    closing: watch::Sender<bool>,
    /// Every subscription's scope, kept after it ends, for the conformance checks.
    history: Mutex<HashMap<String, Scope>>,
    faults: NotifyFaults,
    wakers: wake::Wakers,
}

/// A subscription request after the EWS layer resolved its folders.
#[derive(Debug, Clone)]
pub(crate) struct NewSubscription {
    pub(crate) scope: Scope,
    pub(crate) owner: Owner,
    pub(crate) kind: Kind,
    pub(crate) watermark: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Notifications {
    pub fn new(store: Arc<Store>) -> Self {
        Self::with_config(store, NotifyConfig::default())
    }

    pub fn with_config(store: Arc<Store>, config: NotifyConfig) -> Self {
        Notifications {
            store,
            config,
            subs: Mutex::new(HashMap::new()),
            journal: Mutex::new(std::collections::VecDeque::new()),
            next_id: AtomicU64::new(1),
            connections: Mutex::new(HashMap::new()),
            ended: watch::channel(0).0,
            closing: watch::channel(false).0,
            history: Mutex::new(HashMap::new()),
            faults: NotifyFaults::default(),
            wakers: wake::Wakers::default(),
        }
    }

    pub fn config(&self) -> &NotifyConfig {
        &self.config
    }

    /// The notification fault rules (see [`NotifyFault`]).
    pub fn faults(&self) -> &NotifyFaults {
        &self.faults
    }

    /// Everything recorded so far, oldest first.
    /// The newest [`NotifyConfig::journal_limit`] entries; the conformance checks judge
    /// only what is still there.
    pub fn journal(&self) -> Vec<NotificationEntry> {
        lock(&self.journal).iter().cloned().collect()
    }

    fn push_entry(&self, entry: NotificationEntry) {
        let mut j = lock(&self.journal);
        if j.len() >= self.config.journal_limit.max(1) {
            j.pop_front();
        }
        j.push_back(entry);
    }

    fn record_fault(&self, id: &str, fault: NotifyFault, channel: Channel, events: Vec<SentEvent>) {
        self.record(
            id,
            Record::FaultInjected {
                fault: fault.name().to_owned(),
                channel,
                events,
            },
        );
    }

    fn record(&self, subscription_id: &str, record: Record) {
        self.push_entry(NotificationEntry {
            at: self.store.clock().now(),
            subscription_id: subscription_id.to_owned(),
            record,
        });
    }

    /// Ends every open GetStreamingEvents response (with `Closed`) and stops the push
    /// senders: the server is shutting down.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Ids of the subscriptions that still deliver.
    pub fn active(&self) -> Vec<String> {
        let mut subs = lock(&self.subs);
        self.sweep(&mut subs);
        let mut ids: Vec<String> = subs
            .values()
            .filter(|s| s.life == Life::Active)
            .map(|s| s.id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn new_id(&self, serial: u32) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        // Shaped like Exchange 2013+/EXO ids: a length-prefixed host name, then binary.
        let mut b = vec![0x08, 0x00];
        b.extend_from_slice(b"mock-ews");
        b.extend_from_slice(&n.to_be_bytes());
        b.extend_from_slice(&serial.to_be_bytes());
        STANDARD.encode(b)
    }

    /// Checks a client watermark of `serial`'s mailbox and that it is within retention.
    fn check_watermark(&self, serial: u32, text: &str) -> Result<Watermark, NotifyError> {
        let bad = |reason: &str| NotifyError::InvalidWatermark {
            watermark: text.to_owned(),
            reason: reason.to_owned(),
        };
        let w = Watermark::decode(text).ok_or_else(|| bad("not a watermark of this server"))?;
        if w.mailbox != serial {
            return Err(bad("it belongs to another mailbox"));
        }
        if w.seq > self.store.seq() {
            return Err(bad("it lies in the future"));
        }
        let horizon = self.store.clock().now() - self.config.retention;
        if let Some(first) = self.store.changes_since(w.seq).first()
            && first.at < horizon
        {
            return Err(bad("the events after it are past the retention window"));
        }
        Ok(w)
    }

    /// Registers a subscription; returns its id and starting watermark.
    pub(crate) fn subscribe(
        &self,
        req: NewSubscription,
    ) -> Result<(String, Watermark), NotifyError> {
        if let Kind::Push { url, .. } = &req.kind {
            let lower = url.to_ascii_lowercase();
            let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
            if !scheme_ok || url.len() > 2082 {
                return Err(NotifyError::InvalidUrl(url.clone()));
            }
        }
        let serial = req.scope.serial;
        let (from, resumed) = match &req.watermark {
            Some(text) => (self.check_watermark(serial, text)?, true),
            None => (Watermark::after_change(serial, self.store.seq()), false),
        };
        let mut subs = lock(&self.subs);
        self.sweep(&mut subs);
        let count = subs
            .values()
            .filter(|s| s.life == Life::Active && s.scope.mailbox == req.scope.mailbox)
            .count();
        if count >= self.config.max_subscriptions_per_mailbox {
            return Err(NotifyError::TooMany {
                mailbox: req.scope.mailbox.clone(),
                limit: self.config.max_subscriptions_per_mailbox,
            });
        }
        let id = self.new_id(serial);
        lock(&self.history).insert(id.clone(), req.scope.clone());
        let channel = req.kind.channel();
        let mailbox = req.scope.mailbox.clone();
        subs.insert(
            id.clone(),
            Subscription {
                id: id.clone(),
                scope: req.scope,
                owner: req.owner,
                kind: req.kind,
                cursor: from,
                quiet: (0, 0),
                life: Life::Active,
            },
        );
        drop(subs);
        self.record(
            &id,
            Record::Subscribed {
                channel,
                mailbox,
                from: from.encode(),
                resumed,
            },
        );
        Ok((id, from))
    }

    /// Expires `sub` if its time is up at `now`: a pull subscription Timeout minutes after
    /// its last poll, a streaming one [`NotifyConfig::streaming_idle_expiry`] after its last
    /// connection closed. The journal entry carries the instant it became due (it is
    /// written when noticed, so it may follow later entries).
    fn expire_if_due(&self, sub: &mut Subscription, now: DateTime<Utc>) {
        if sub.life != Life::Active {
            return;
        }
        let due = match sub.kind {
            Kind::Pull { timeout, last_poll } => Some(last_poll + timeout),
            Kind::Streaming {
                open: 0,
                idle_since,
            } => Some(idle_since + self.config.streaming_idle_expiry),
            _ => None,
        };
        if let Some(at) = due
            && now >= at
        {
            sub.life = Life::Expired;
            self.push_entry(NotificationEntry {
                at,
                subscription_id: sub.id.clone(),
                record: Record::Expired,
            });
        }
    }

    /// Expires every subscription whose time is up.
    fn sweep(&self, subs: &mut HashMap<String, Subscription>) {
        let now = self.store.clock().now();
        for sub in subs.values_mut() {
            self.expire_if_due(sub, now);
        }
    }

    /// Looks a subscription up for `caller`, expiring it if its time is up.
    fn checked<'a>(
        &self,
        subs: &'a mut HashMap<String, Subscription>,
        caller: &Owner,
        id: &str,
    ) -> Result<&'a mut Subscription, NotifyError> {
        let now = self.store.clock().now();
        let sub = subs
            .get_mut(id.trim())
            .ok_or_else(|| NotifyError::NotFound(id.to_owned()))?;
        // Exchange binds a subscription to the account that created it; the impersonated
        // mailbox may differ per request (a service account streams many mailboxes through
        // one connection).
        if sub.owner.user != caller.user {
            return Err(NotifyError::AccessDenied {
                id: id.to_owned(),
                owner: sub.owner.to_string(),
            });
        }
        self.expire_if_due(sub, now);
        if sub.life == Life::Expired {
            return Err(NotifyError::Expired(id.to_owned()));
        }
        Ok(sub)
    }

    /// Reads up to `limit` events of `scope` after `from`.
    ///
    /// `quiet` is the subscription's memo of a range of changes `(a, b]` known to raise no
    /// event for its scope (the log is append-only and the scope fixed, so it stays true):
    /// an idle subscription does not rescan the whole log on every change of other
    /// mailboxes, which keeps 1,000 push subscriptions linear.
    pub(crate) fn read(
        &self,
        scope: &Scope,
        from: Watermark,
        limit: usize,
        quiet: &mut (u64, u64),
    ) -> Batch {
        let mut events = Vec::new();
        let mut last = from;
        let mut more = false;
        let whole = from.index == watermark::WHOLE_CHANGE;
        let mut start = if whole {
            from.seq
        } else {
            from.seq.saturating_sub(1)
        };
        if whole && quiet.0 <= from.seq && from.seq < quiet.1 {
            start = quiet.1;
        }
        let changes = self.store.changes_since(start);
        let mut scanned = start.max(from.seq);
        'changes: for change in &changes {
            for (i, mut e) in events::events_for(change, scope).into_iter().enumerate() {
                let index = u16::try_from(i).unwrap_or(watermark::WHOLE_CHANGE - 1);
                if !from.is_before(change.seq, index) {
                    continue;
                }
                if events.len() == limit {
                    more = true;
                    break 'changes;
                }
                let w = Watermark {
                    seq: change.seq,
                    index,
                    mailbox: scope.serial,
                };
                e.watermark = Some(w.encode());
                events.push((w, e));
                last = w;
            }
            scanned = scanned.max(change.seq);
        }
        if events.is_empty() {
            // Nothing for this subscription: advance past what was scanned, as the CAS
            // advances watermarks without events.
            last = Watermark::after_change(scope.serial, scanned);
            if whole {
                if quiet.0 <= from.seq && from.seq <= quiet.1 {
                    quiet.1 = quiet.1.max(scanned);
                } else {
                    *quiet = (from.seq, scanned);
                }
            }
        }
        Batch { events, last, more }
    }

    /// GetEvents: the next batch after `watermark`, or a StatusEvent when there is none.
    pub(crate) fn get_events(
        &self,
        caller: &Owner,
        id: &str,
        watermark: &str,
    ) -> Result<Notification, NotifyError> {
        let now = self.store.clock().now();
        let mut subs = lock(&self.subs);
        let sub = self.checked(&mut subs, caller, id)?;
        let Kind::Pull { last_poll, .. } = &mut sub.kind else {
            return Err(NotifyError::NotPull(id.to_owned()));
        };
        *last_poll = now;
        let from = self.check_watermark(sub.scope.serial, watermark)?;
        let mut batch = self.read(
            &sub.scope,
            from,
            self.config.max_events_per_get,
            &mut sub.quiet,
        );
        let fault = if batch.events.is_empty() {
            None
        } else {
            self.faults.check(Channel::Pull, &sub.scope.mailbox)
        };
        let sub_id = sub.id.clone();
        let affected = summary(batch.events.iter().map(|(_, e)| e));
        match &fault {
            Some(NotifyFault::ExpireEarly) => {
                sub.life = Life::Expired;
                drop(subs);
                self.record_fault(&sub_id, NotifyFault::ExpireEarly, Channel::Pull, affected);
                self.record(&sub_id, Record::Expired);
                return Err(NotifyError::Expired(id.to_owned()));
            }
            Some(NotifyFault::Drop) => batch.events.clear(),
            Some(NotifyFault::Reorder) => batch.events.reverse(),
            _ => {}
        }
        sub.cursor = batch.last;
        drop(subs);
        if let Some(f) = fault {
            self.record_fault(&sub_id, f, Channel::Pull, affected);
        }
        let events: Vec<Event> = if batch.events.is_empty() {
            let mut status = Event::new(EventType::StatusEvent);
            status.watermark = Some(batch.last.encode());
            vec![status]
        } else {
            batch.events.into_iter().map(|(_, e)| e).collect()
        };
        let n = Notification {
            subscription_id: sub_id.clone(),
            previous_watermark: Some(from.encode()),
            more_events: Some(batch.more),
            events,
        };
        self.record(
            &sub_id,
            Record::Delivered {
                channel: Channel::Pull,
                previous_watermark: n.previous_watermark.clone(),
                events: summary(&n.events),
                more_events: batch.more,
            },
        );
        Ok(n)
    }

    /// Unsubscribe (pull and streaming; push ends only by the listener's answer).
    pub(crate) fn unsubscribe(&self, caller: &Owner, id: &str) -> Result<(), NotifyError> {
        let mut subs = lock(&self.subs);
        let sub = self.checked(&mut subs, caller, id)?;
        if matches!(sub.kind, Kind::Push { .. }) {
            return Err(NotifyError::NotPull(id.to_owned()));
        }
        let key = sub.id.clone();
        subs.remove(&key);
        drop(subs);
        self.record(&key, Record::Unsubscribed);
        self.ended.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }
}

/// What the journal keeps of events handed out.
pub(crate) fn summary<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<SentEvent> {
    events
        .into_iter()
        .map(|e| {
            let watermark = e.watermark.clone().unwrap_or_default();
            SentEvent {
                kind: e.kind.as_str().to_owned(),
                seq: Watermark::decode(&watermark).map_or(0, |w| w.seq),
                watermark,
                folder: e.folder_id.is_some(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;
    use ews_clock::Clock;

    #[test]
    fn the_journal_keeps_the_newest_entries() {
        let t0 = DateTime::from_timestamp(1_774_000_000, 0).unwrap_or_default();
        let store = Arc::new(Store::new(World::default(), Clock::frozen_at(t0)));
        let n = Notifications::with_config(
            store,
            NotifyConfig {
                journal_limit: 3,
                ..NotifyConfig::default()
            },
        );
        for i in 0..5 {
            n.record(&format!("s{i}"), Record::KeepAlive);
        }
        let ids: Vec<String> = n.journal().into_iter().map(|e| e.subscription_id).collect();
        assert_eq!(ids, ["s2", "s3", "s4"]);
    }
}
