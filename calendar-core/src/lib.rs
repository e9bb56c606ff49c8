//! Pure calendar computations for ews-kit: EWS recurrence expansion, presence and bookable
//! free slots.
//!
//! **Invariant:** no I/O and no wall clock; every function that depends on the current time
//! takes `now` as an argument. Plain data in, plain data out: every input and output type is
//! serde-serializable so scenario files and the engine's JSON API can carry it.
//!
//! - [`recurrence`](Series): expand an EWS recurring master into occurrences (Exchange
//!   semantics, wall time constant across DST).
//! - [`local_to_utc`]: the one rule for local wall times in DST gaps and overlaps.

mod recurrence;
mod time;

pub use crate::recurrence::{
    DayOfWeekIndex, Occurrence, ParseRelativeDayError, Pattern, Range, Recurrence, RecurrenceError,
    RelativeDay, Series, Weekday,
};
pub use crate::time::local_to_utc;
