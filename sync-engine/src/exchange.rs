//! The Exchange side as the engine core sees it: a small trait, the plain data it returns
//! and its errors.
//!
//! The engine's scheduling, state and serving are written against [`Exchange`] so they can be
//! tested with the in-memory [`crate::InMemoryExchange`] and virtual time; the EWS client
//! implements the same trait over the wire. Methods return boxed futures so the engine can
//! hold an `Arc<dyn Exchange>` (async fns in traits are not object safe).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use calendar_core::{BusyItem, FreeBusyStatus, OofSettings};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A boxed, sendable future, the return type of [`Exchange`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the engine needs from Exchange. Every method names the mailbox it acts on; an
/// implementation impersonates that mailbox.
pub trait Exchange: Send + Sync + 'static {
    /// Checks that the server answers and the service account authenticates, and returns
    /// the server's version (EWS `ServerVersionInfo`).
    fn server_version(&self) -> BoxFuture<'_, Result<ServerVersion, ExchangeError>>;

    /// The calendar items (occurrences expanded) overlapping `[start, end)`, with subjects.
    fn calendar_view<'a>(
        &'a self,
        mailbox: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Appointment>, ExchangeError>>;

    /// The items `ids` (GetItem, one request), each as a single appointment, a part of a
    /// series (whose occurrences only a CalendarView expands) or missing. One answer per id,
    /// in order.
    fn get_items<'a>(
        &'a self,
        mailbox: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<FetchedItem>, ExchangeError>>;

    /// Free/busy only (GetUserAvailability), for mailboxes in privacy mode: the returned
    /// appointments never carry a subject or location, and none is requested.
    fn availability<'a>(
        &'a self,
        mailbox: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Appointment>, ExchangeError>>;

    /// The mailbox's automatic-reply settings (GetUserOofSettings).
    fn oof<'a>(&'a self, mailbox: &'a str) -> BoxFuture<'a, Result<OofSettings, ExchangeError>>;

    /// Subscribes to changes of the mailbox's calendar folder.
    fn subscribe<'a>(
        &'a self,
        mailbox: &'a str,
        kind: &'a SubscriptionKind,
    ) -> BoxFuture<'a, Result<Subscription, ExchangeError>>;

    /// Pull mode: the events since the subscription's watermark (GetEvents).
    fn get_events<'a>(
        &'a self,
        mailbox: &'a str,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Events, ExchangeError>>;

    /// Streaming mode: holds one GetStreamingEvents connection for the subscriptions `ids`
    /// (impersonating `anchor`, one of their mailboxes) for `lifetime_minutes`, sending a
    /// [`StreamEvent`] on `events` for every change or lost subscription. `Ok` when the server
    /// closes the connection normally; an error when the whole connection fails or is cut.
    fn stream_events<'a>(
        &'a self,
        anchor: &'a str,
        ids: &'a [String],
        lifetime_minutes: u32,
        events: tokio::sync::mpsc::UnboundedSender<StreamEvent>,
    ) -> BoxFuture<'a, Result<(), ExchangeError>>;
}

/// One event of a change notification, as the engine applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemEvent {
    /// `CreatedEvent`, `ModifiedEvent` or `FreeBusyChangedEvent` on an item: fetch it.
    Changed(String),
    /// `DeletedEvent` on an item.
    Deleted(String),
    /// `MovedEvent`: the item `old` left its folder and is now `new` (in `ParentFolderId`).
    Moved { old: String, new: String },
    /// An event on the calendar folder itself. Exchange sends one after the item events of
    /// every change (its counts changed), so next to item events it means nothing; alone it
    /// says the folder changed in a way no item event describes, and the window is fetched.
    Folder,
    /// Something not to apply item by item (a `CopiedEvent`, whose events do not tell a copy
    /// into the calendar from one out of it; missed events): the window is fetched again.
    Resync,
}

/// What GetItem answered for one requested id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchedItem {
    /// A non-recurring appointment.
    Single(Appointment),
    /// A recurring master, occurrence or exception (`CalendarItemType`), or an item that is
    /// not a calendar item: what it changed in the window takes a CalendarView to see.
    Series { id: String },
    /// `ErrorItemNotFound`: the item is gone (deleted since the event).
    Missing { id: String },
}

/// What a streaming connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// Events on this subscription (item or folder events; status events are not reported).
    Changed { id: String, changes: Vec<ItemEvent> },
    /// The server ended this subscription (listed in `ErrorSubscriptionIds`).
    Lost { id: String, reason: String },
    /// `ErrorMissedNotificationEvents`: events were dropped for these subscriptions (all of
    /// the connection's when empty); resync their mailboxes.
    Missed(Vec<String>),
}

/// How a subscription delivers its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionKind {
    /// GetEvents polling; the server drops the subscription after `timeout_minutes` without
    /// a poll.
    Pull { timeout_minutes: u32 },
    /// GetStreamingEvents connections.
    Streaming,
    /// Exchange POSTs SendNotification to `url`, with a status event every
    /// `status_frequency_minutes` when nothing happens.
    Push {
        url: String,
        status_frequency_minutes: u32,
    },
}

/// An active subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    /// Pull and push subscriptions carry a watermark; streaming ones do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
}

/// A GetEvents answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events {
    /// The watermark to poll from next.
    pub watermark: Option<String>,
    /// The item and folder events in order (status events are left out).
    pub changes: Vec<ItemEvent>,
    /// `MoreEvents`: poll again at once.
    pub more: bool,
}

/// EWS `ServerVersionInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
    pub major_build: u32,
    pub minor_build: u32,
}

impl fmt::Display for ServerVersion {
    /// `v14.03.0181.0006`, as the products print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v{:02}.{:02}.{:04}.{:04}",
            self.major, self.minor, self.major_build, self.minor_build
        )
    }
}

/// A calendar item as an admin sees it on the user's advanced tab. In privacy mode, and for
/// a private item in any mode, `subject` and `location` are always `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    /// The EWS ItemId (free/busy events have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The iCalendar UID (`calendar:UID`): stable across updates (an ItemId need not be) and
    /// shared by a series' occurrences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Show-as.
    pub status: FreeBusyStatus,
    #[serde(default)]
    pub all_day: bool,
    #[serde(default)]
    pub cancelled: bool,
    /// Sensitivity Private or Confidential.
    #[serde(default)]
    pub private: bool,
    /// The creation zone, which fixes the days of an all-day item.
    #[serde(default, with = "tz_name", skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<Tz>,
}

/// An optional IANA zone as its name (`"Europe/Berlin"`).
mod tz_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(tz: &Option<Tz>, s: S) -> Result<S::Ok, S::Error> {
        match tz {
            Some(tz) => s.serialize_str(tz.name()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tz>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(name) => name
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("unknown time zone `{name}`"))),
        }
    }
}

impl Appointment {
    /// A plain busy appointment, for tests and fakes.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>, status: FreeBusyStatus) -> Appointment {
        Appointment {
            id: None,
            uid: None,
            subject: None,
            location: None,
            start,
            end,
            status,
            all_day: false,
            cancelled: false,
            private: false,
            time_zone: None,
        }
    }

    /// This appointment with everything privacy mode may not keep removed.
    pub fn redacted(mut self) -> Appointment {
        self.subject = None;
        self.location = None;
        self
    }

    /// The calendar-core view of this appointment.
    pub fn busy_item(&self) -> BusyItem {
        BusyItem {
            id: self.id.clone(),
            start: self.start,
            end: self.end,
            status: self.status,
            cancelled: self.cancelled,
            private: self.private,
            subject: self.subject.clone(),
            all_day: self.all_day,
            time_zone: self.time_zone,
        }
    }
}

/// Why an Exchange call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// `ErrorServerBusy` with `BackOffMilliseconds`, or HTTP 503 with `Retry-After`: wait
    /// exactly `back_off` before the next request.
    #[error("{operation}: server busy, asked to back off {} ms", .back_off.num_milliseconds())]
    ServerBusy {
        operation: &'static str,
        back_off: Duration,
    },
    #[error("{operation}: mailbox {mailbox} does not exist ({code})")]
    MailboxNotFound {
        operation: &'static str,
        mailbox: String,
        code: String,
    },
    #[error("{operation}: the service account may not impersonate {mailbox} ({code})")]
    ImpersonationDenied {
        operation: &'static str,
        mailbox: String,
        code: String,
    },
    #[error("{operation}: access to {mailbox} denied ({code}): {message}")]
    AccessDenied {
        operation: &'static str,
        mailbox: String,
        code: String,
        message: String,
    },
    /// HTTP 401: the service account or its password is wrong.
    #[error("{operation}: authentication failed for the service account (HTTP 401)")]
    Unauthorized { operation: &'static str },
    #[error("{operation}: cannot connect to {url}: {message}")]
    Connect {
        operation: &'static str,
        url: String,
        message: String,
    },
    #[error("{operation}: TLS failure with {url}: {message}")]
    Tls {
        operation: &'static str,
        url: String,
        message: String,
    },
    #[error("{operation}: no answer within {} s", .after.num_seconds())]
    Timeout {
        operation: &'static str,
        after: Duration,
    },
    #[error("{operation}: HTTP {status}: {message}")]
    Http {
        operation: &'static str,
        status: u16,
        message: String,
    },
    #[error("{operation}: malformed response: {message}")]
    Malformed {
        operation: &'static str,
        message: String,
    },
    /// The subscription is gone (expired, unknown, or its watermark is invalid): subscribe
    /// again and resync the mailbox.
    #[error("{operation}: subscription lost ({code})")]
    SubscriptionLost {
        operation: &'static str,
        code: String,
    },
    /// Any other EWS error response.
    #[error("{operation}: {code}: {message}")]
    Ews {
        operation: &'static str,
        code: String,
        message: String,
    },
}

/// EWS response codes a loaded or briefly unhealthy server answers and that the same request
/// can get past later (EWS.md, error table; exchangelib retries these as it retries
/// ErrorServerBusy). `ErrorInternalServerError` counts only once [`crate::ews::wire`] has
/// unwrapped any `InnerErrorResponseCode`: a plain one carries no better reason, and
/// Microsoft's guidance for it is to retry.
pub(crate) const TRANSIENT_EWS_CODES: &[&str] = &[
    "ErrorTimeoutExpired",
    "ErrorInternalServerError",
    "ErrorInternalServerTransientError",
    "ErrorTooManyObjectsOpened",
    "ErrorExceededConnectionCount",
    "ErrorMailboxStoreUnavailable",
];

impl ExchangeError {
    /// Whether retrying the same request later can succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ExchangeError::ServerBusy { .. }
            | ExchangeError::Connect { .. }
            | ExchangeError::Timeout { .. } => true,
            ExchangeError::Http { status, .. } => *status >= 500 || *status == 429,
            ExchangeError::Ews { code, .. } => TRANSIENT_EWS_CODES.contains(&code.as_str()),
            _ => false,
        }
    }

    /// Whether only an administrator can fix this (a missing mailbox, impersonation or
    /// access rights, the service account's password, the server's certificate): retrying
    /// on a schedule cannot help; the next full sync tries again.
    pub fn needs_admin(&self) -> bool {
        matches!(
            self,
            ExchangeError::MailboxNotFound { .. }
                | ExchangeError::ImpersonationDenied { .. }
                | ExchangeError::AccessDenied { .. }
                | ExchangeError::Unauthorized { .. }
                | ExchangeError::Tls { .. }
        )
    }

    /// Whether this failure concerns one mailbox only (the others keep working), as
    /// opposed to the connection or the service account.
    pub fn is_mailbox_scoped(&self) -> bool {
        matches!(
            self,
            ExchangeError::MailboxNotFound { .. }
                | ExchangeError::ImpersonationDenied { .. }
                | ExchangeError::AccessDenied { .. }
                | ExchangeError::Ews { .. }
                | ExchangeError::Malformed { .. }
                | ExchangeError::SubscriptionLost { .. }
        )
    }

    /// The wait the server asked for, if it did.
    pub fn back_off(&self) -> Option<Duration> {
        match self {
            ExchangeError::ServerBusy { back_off, .. } => Some(*back_off),
            _ => None,
        }
    }

    /// A short machine-readable kind for status pages.
    pub fn kind(&self) -> &'static str {
        match self {
            ExchangeError::ServerBusy { .. } => "serverBusy",
            ExchangeError::MailboxNotFound { .. } => "mailboxNotFound",
            ExchangeError::ImpersonationDenied { .. } => "impersonationDenied",
            ExchangeError::AccessDenied { .. } => "accessDenied",
            ExchangeError::Unauthorized { .. } => "unauthorized",
            ExchangeError::Connect { .. } => "connect",
            ExchangeError::Tls { .. } => "tls",
            ExchangeError::Timeout { .. } => "timeout",
            ExchangeError::Http { .. } => "http",
            ExchangeError::Malformed { .. } => "malformed",
            ExchangeError::Ews { .. } => "ews",
            ExchangeError::SubscriptionLost { .. } => "subscriptionLost",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_version_prints_as_the_products_do() {
        let v = ServerVersion {
            major: 14,
            minor: 3,
            major_build: 181,
            minor_build: 6,
        };
        assert_eq!(v.to_string(), "v14.03.0181.0006");
    }

    #[test]
    fn busy_and_impersonation_errors_are_classified() {
        let busy = ExchangeError::ServerBusy {
            operation: "FindItem",
            back_off: Duration::milliseconds(1500),
        };
        assert!(busy.is_transient() && !busy.is_mailbox_scoped());
        assert_eq!(busy.back_off(), Some(Duration::milliseconds(1500)));
        assert_eq!(
            busy.to_string(),
            "FindItem: server busy, asked to back off 1500 ms"
        );
        let denied = ExchangeError::ImpersonationDenied {
            operation: "FindItem",
            mailbox: "kim@contoso.com".into(),
            code: "ErrorImpersonateUserDenied".into(),
        };
        assert!(!denied.is_transient() && denied.is_mailbox_scoped());
        assert!(denied.needs_admin() && !busy.needs_admin());
    }

    #[test]
    fn server_side_timeouts_and_internal_errors_are_transient() {
        let ews = |code: &str| ExchangeError::Ews {
            operation: "FindItem",
            code: code.to_string(),
            message: String::new(),
        };
        for code in [
            "ErrorTimeoutExpired",
            "ErrorInternalServerError",
            "ErrorInternalServerTransientError",
            "ErrorMailboxStoreUnavailable",
        ] {
            assert!(ews(code).is_transient(), "{code}");
            assert!(!ews(code).needs_admin(), "{code}");
        }
        for code in ["ErrorInvalidRequest", "ErrorCalendarViewRangeTooBig"] {
            assert!(!ews(code).is_transient(), "{code}");
        }
    }
}
