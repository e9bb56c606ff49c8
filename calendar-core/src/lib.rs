//! Pure calendar computations: EWS recurrence expansion, presence and bookable free slots.
//!
//! **Invariant:** no I/O and no wall clock; every function takes `now` as an argument.
