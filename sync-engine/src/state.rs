//! The engine's state in memory: what it knows of each mailbox, each user's override, the
//! connection, and the overall status derived from them.
//!
//! Nothing is persisted: a restart does a full resync, as the products do. Presence and free
//! slots are not stored here; they are pure functions of this state and the clock's `now`
//! (see [`crate::Engine::presence`]), so they can never go stale.

use std::collections::BTreeMap;

use calendar_core::{OofSettings, PresenceOverride};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::exchange::{Appointment, ServerVersion, Subscription};

/// Everything the engine knows.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub connection: Connection,
    /// Keyed by lower-cased email.
    pub mailboxes: BTreeMap<String, MailboxState>,
    /// Manual overrides, keyed by the user's lower-cased email.
    pub overrides: BTreeMap<String, PresenceOverride>,
}

/// The link to Exchange.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<ServerVersion>,
    /// Set while the server cannot be reached or refuses the service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_full_sync: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_full_sync: Option<DateTime<Utc>>,
    /// How many full syncs ran since start-up.
    pub full_syncs: u64,
}

/// One mailbox as the engine knows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxState {
    pub email: String,
    /// Free/busy only: subjects are never requested, stored, logged or served.
    pub privacy: bool,
    /// The appointments in the synced window, sorted by start.
    pub appointments: Vec<Appointment>,
    /// `None` until the first OOF read succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oof: Option<OofSettings>,
    pub sync: MailboxSync,
    /// The change subscription, while one is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
}

impl MailboxState {
    pub fn new(email: String, privacy: bool) -> MailboxState {
        MailboxState {
            email,
            privacy,
            appointments: Vec::new(),
            oof: None,
            sync: MailboxSync::default(),
            subscription: None,
        }
    }
}

/// Sync bookkeeping of one mailbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxSync {
    /// The calendar window last fetched, `[start, end)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_synced_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oof_synced_at: Option<DateTime<Utc>>,
    /// Set while the calendar is not up to date because its last fetch failed: when it is
    /// fetched again (cleared by any successful fetch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refetch_at: Option<DateTime<Utc>>,
    /// The last failure, cleared by the next success of the same kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<MailboxError>,
}

/// A calendar window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Why a mailbox is not (fully) synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxError {
    /// `noEmail`, `mailboxNotFound`, `impersonationDenied`, `serverBusy`, ...
    pub kind: String,
    /// What failed: `calendar` or `oof`; a later success of the same clears the error.
    pub operation: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

/// Online, offline or degraded, as the products' status page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Health {
    /// Connected and every configured mailbox synced.
    Online,
    /// Connected, but some mailboxes fail or have no email address.
    Degraded,
    /// Exchange cannot be reached or refuses the service account (or not connected yet).
    Offline,
}

/// A configuration entry that cannot be synced at all (no email address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryProblem {
    /// `user` or `counter`.
    pub entry: String,
    /// The user's label or the counter's id.
    pub name: String,
    pub message: String,
}

/// The status document of `GET /api/status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub health: Health,
    /// Why the health is not online (empty when online).
    pub reason: String,
    pub now: DateTime<Utc>,
    pub ews_url: String,
    pub notifications: String,
    pub connection: Connection,
    pub mailboxes: Vec<MailboxStatus>,
    pub problems: Vec<EntryProblem>,
}

/// One mailbox in the status document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxStatus {
    pub email: String,
    pub privacy: bool,
    pub appointments: usize,
    pub subscribed: bool,
    #[serde(flatten)]
    pub sync: MailboxSync,
}
