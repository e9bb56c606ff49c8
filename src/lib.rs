//! ews-kit as a library: the scenario format and player (`ews-kit play`, `cargo test`) and the
//! demo stack of `ews-kit up`.
//!
//! The binary (`src/main.rs`) is glue over these modules; integration tests and the
//! per-file scenario tests use them directly.

pub mod scenario;

pub mod up;
