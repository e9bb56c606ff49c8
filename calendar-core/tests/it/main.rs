//! The one integration-test binary of calendar-core: named catalogue cases and property tests
//! against naive oracles, one module per area.

// Helpers and oracles outside `#[test]` fns are test code too: a panic there is a failure.
#![allow(clippy::unwrap_used)]

mod presence;
mod recurrence;
mod slots;
mod strategies;
