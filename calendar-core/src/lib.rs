//! Pure calendar computations for ews-kit: EWS recurrence expansion, presence and bookable
//! free slots.
//!
//! **Invariant:** no I/O and no wall clock; every function that depends on the current time
//! takes `now` as an argument. Plain data in, plain data out: every input and output type is
//! serde-serializable (camelCase fields) so scenario files and the engine's JSON API can
//! carry it.
//!
//! - Recurrence ([`Series`]): expand an EWS recurring master into occurrences with Exchange
//!   semantics (wall time constant across DST, month-end clamping, FirstDayOfWeek grouping),
//!   and apply its modified and deleted occurrences ([`Series::instances`]).
//! - Busy items ([`BusyItem`], [`FreeBusyStatus`]): what presence and slots read from a
//!   calendar.
//! - Presence ([`presence`], [`presence_timeline`]): Available / Meeting / Absent with the
//!   message, the deciding rule and the next change.
//! - Slots ([`free_slots`]): bookable slots of a service [`Counter`] per local date, with a
//!   reason for every date without one.
//! - Time ([`local_to_utc`], [`first_instant_at_or_after`]): the two rules for local wall
//!   times in DST gaps and overlaps.

mod busy;
mod presence;
mod recurrence;
mod slots;
mod time;

pub use crate::busy::{BusyItem, FreeBusyStatus, ItemRef};
pub use crate::presence::{
    OofSettings, OofState, OofWindow, Presence, PresenceChange, PresenceInput, PresenceOverride,
    PresenceReason, PresenceRules, PresenceState, ReplyAudience, html_to_text, presence,
    presence_timeline,
};
pub use crate::recurrence::{
    DayOfWeekIndex, Exceptions, Instance, ModifiedOccurrence, Occurrence, ParseRelativeDayError,
    Pattern, Range, Recurrence, RecurrenceError, RelativeDay, Series, Weekday,
};
pub use crate::slots::{
    ClosedBecause, Closure, Counter, DateOverride, DaySlots, Holiday, MAX_RANGE_DAYS, NoSlotReason,
    OpeningHours, ParseTimeRangeError, Slot, SlotError, SlotReport, TimeRange, free_slots,
};
pub use crate::time::{first_instant_at_or_after, local_to_utc};
