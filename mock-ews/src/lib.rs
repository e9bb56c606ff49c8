//! mock-ews: a stateful fake Exchange Web Services server for calendar workflows.
//!
//! A [`World`] of mailboxes (calendars, OOF, working hours) and service accounts is loaded
//! from a YAML [`WorldSpec`] (see `WORLD.md`), kept in a [`Store`] with snapshots and a change
//! log, and served over EWS by [`MockEws`] on a loopback port. One [`ews_clock::Clock`] drives
//! everything time-dependent; a [`Journal`] records every request for conformance checks.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = mock_ews::WorldSpec::from_yaml("mailboxes: [{ smtp: a@contoso.com }]", "inline")?;
//! let ews = mock_ews::MockEws::builder().world(spec).start().await?;
//! println!("EWS at {}", ews.ews_url());
//! # Ok(()) }
//! ```

mod control;
mod error;
mod fault;
mod id;
mod item;
mod journal;
mod notification;
mod ops;
mod rule;
mod server;
mod soap;
mod spec;
mod store;
mod tls;
mod transport;
mod wire;
mod world;
mod zone;

pub use crate::error::{ItemError, StoreError, WorldError};
pub use crate::fault::{ActiveFault, BusyForm, FaultKind, FaultSpec, Faults};
pub use crate::id::{
    FolderKind, IdTarget, change_key, folder_id, item_id, occurrence_id, parse_folder_id, parse_id,
};
pub use crate::item::{CalendarItem, OccurrenceInfo, OccurrenceOverride, ViewEntry};
pub use crate::journal::{BackoffViolation, JOURNAL_LIMIT, Journal, JournalEntry, Outcome};
pub use crate::notification::{
    ActiveNotifyFault, Channel, LostEvent, NotificationEntry, Notifications, NotifyConfig,
    NotifyError, NotifyFault, NotifyFaultError, NotifyFaultSpec, NotifyFaults, Owner, PushOutcome,
    Record, ResumeViolation, SentEvent, Watermark,
};
pub use crate::rule::Active;
pub use crate::server::{
    AppState, DEFAULT_MAX_BODY, Expectation, MockEws, MockEwsBuilder, StartError, app,
};
pub use crate::soap::SoapFault;
pub use crate::spec::{
    AccountSpec, Audience, ClockTime, ImpersonationSpec, ItemSpec, MailboxSpec, ModifiedSpec,
    MonthlySpec, OofSpec, OofState, RecurrenceSpec, Span, When, WorkingHoursSpec, WorldSpec,
    YearlySpec,
};
pub use crate::store::{Change, ChangeKind, DeleteMode, ItemRef, SnapshotId, Store};
pub use crate::tls::TlsError;
pub use crate::transport::Peer;
pub use crate::world::{
    AccessError, Account, DelegateRight, Impersonation, Mailbox, OofSettings, Principal,
    Sensitivity, ServerVersion, VersionInfo, WorkingHours, World,
};
pub use crate::zone::{parse_zone, windows_id};
