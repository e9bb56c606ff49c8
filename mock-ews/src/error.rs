//! Error enums of the mock's library boundary.

use calendar_core::RecurrenceError;

/// A world file or spec that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("cannot read world file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{column}: {message}")]
    Parse {
        origin: String,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("invalid JSON world: {0}")]
    Json(#[from] serde_json::Error),
    #[error("mailbox {0} is listed twice")]
    DuplicateMailbox(String),
    #[error("account {0} is listed twice")]
    DuplicateAccount(String),
    #[error(
        "mailbox {mailbox}: unknown time zone `{zone}` (use an IANA name such as Europe/Berlin)"
    )]
    UnknownZone { mailbox: String, zone: String },
    #[error("mailbox {mailbox}: {what}")]
    Mailbox { mailbox: String, what: String },
    #[error("mailbox {mailbox}, calendar item {index} ({subject:?}): {source}")]
    Item {
        mailbox: String,
        index: usize,
        subject: String,
        #[source]
        source: ItemError,
    },
    #[error("account {account}: {what} names {mailbox}, which is not a mailbox of this world")]
    UnknownMailboxRef {
        account: String,
        what: &'static str,
        mailbox: String,
    },
}

/// A calendar item spec that does not describe a valid item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("unknown time zone `{0}` (use an IANA name such as Europe/Berlin)")]
    UnknownZone(String),
    #[error("item has neither `end` nor `duration`")]
    NoEnd,
    #[error("item has both `end` and `duration`; give one")]
    EndAndDuration,
    #[error("end is before start")]
    EndBeforeStart,
    #[error("a local time does not exist in the item's zone")]
    NonexistentLocalTime,
    #[error("recurrence needs exactly one pattern (daily, weekly, monthly, yearly), found {0}")]
    PatternCount(usize),
    #[error("recurrence has both `until` and `count`; give one")]
    UntilAndCount,
    #[error("invalid recurrence: {0}")]
    Recurrence(RecurrenceError),
    #[error("recurrence has no occurrence")]
    NoOccurrence,
    #[error("modified or deleted occurrences need a recurrence")]
    ExceptionsWithoutRecurrence,
    #[error("{0} is not an occurrence of the series")]
    NotAnOccurrence(String),
}

/// Why a store operation failed. Each maps onto an EWS `ResponseCode`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("no mailbox {0}")]
    NoMailbox(String),
    #[error("item id {0} is malformed")]
    MalformedId(String),
    #[error("item {0} not found")]
    ItemNotFound(String),
    #[error("item {id} has change key {current}, not {given}")]
    ChangeKeyMismatch {
        id: String,
        given: String,
        current: String,
    },
    #[error("{0}")]
    Item(#[from] ItemError),
    #[error("occurrence operations need a recurring master, and {0} is not one")]
    NotRecurring(String),
    #[error("invalid out-of-office settings: {0}")]
    Oof(String),
    #[error("no snapshot {0}")]
    NoSnapshot(u64),
    #[error("unknown DeleteType `{0}` (HardDelete, SoftDelete or MoveToDeletedItems)")]
    BadDeleteType(String),
    /// An operation refused the change with its own EWS code (e.g. an invalid recurrence
    /// sent over EWS); nothing was changed.
    #[error("{message}")]
    Rejected { code: String, message: String },
}

impl StoreError {
    /// The EWS `ResponseCode` Exchange answers with for this failure.
    pub fn response_code(&self) -> &'static str {
        match self {
            StoreError::NoMailbox(_) => "ErrorNonExistentMailbox",
            StoreError::MalformedId(_) => "ErrorInvalidIdMalformed",
            StoreError::ItemNotFound(_) => "ErrorItemNotFound",
            StoreError::ChangeKeyMismatch { .. } => "ErrorIrresolvableConflict",
            StoreError::Item(ItemError::Recurrence(r)) => r.response_code(),
            StoreError::Item(ItemError::EndBeforeStart) => {
                "ErrorCalendarEndDateIsEarlierThanStartDate"
            }
            StoreError::Item(ItemError::NotAnOccurrence(_)) => {
                "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange"
            }
            StoreError::Item(_) => "ErrorInvalidRequest",
            StoreError::NotRecurring(_) => "ErrorItemNotFound",
            StoreError::Oof(_) => "ErrorInvalidScheduledOofDuration",
            StoreError::NoSnapshot(_) => "ErrorInvalidRequest",
            StoreError::BadDeleteType(_) => "ErrorSchemaValidation",
            StoreError::Rejected { .. } => "ErrorInvalidRequest",
        }
    }
}
