//! sync-engine: the Exchange calendar integration of a telephony server and a booking portal.
//!
//! It syncs each configured mailbox's next days of appointments and its out-of-office
//! settings from Exchange, keeps them in memory, and serves presence (Available / Meeting /
//! Absent, computed by `calendar-core`) and counters' free slots over an HTTP API with an
//! event log. Everything time-dependent runs on an injected [`ews_clock::Clock`].
//!
//! - [`config`]: the TOML configuration and its environment overrides.
//! - [`EventLog`]: the bounded, timestamped, streamable log an admin reads.
//! - [`Exchange`]: the trait the engine talks to; [`InMemoryExchange`] implements it in
//!   memory for tests.
//! - [`ews::EwsClient`]: the EWS client implementing [`Exchange`] over HTTPS.
//! - [`Engine`]: sync, scheduling, state, presence and slots.
//! - [`api`]: the HTTP API (see `API.md`).
//! - [`check`]: the step-by-step connection test of `sync-engine check`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! use std::sync::Arc;
//! use sync_engine::{Config, Engine, InMemoryExchange};
//! let config = Config::parse("example", r#"
//!     [exchange]
//!     server = "ex01.contoso.test"
//!     username = "svc@contoso.test"
//!     password = "secret"
//!     [[users]]
//!     email = "kim@contoso.test"
//! "#, |_| None).unwrap();
//! let exchange = Arc::new(InMemoryExchange::default());
//! exchange.add_mailbox("kim@contoso.test");
//! let clock = ews_clock::Clock::starting_at(chrono::DateTime::UNIX_EPOCH);
//! let engine = Engine::new(config, clock, exchange);
//! engine.full_sync().await;
//! assert_eq!(engine.presence("kim@contoso.test").unwrap().presence.state,
//!            calendar_core::PresenceState::Available);
//! # }
//! ```

pub mod api;
pub mod check;
pub mod config;
mod engine;
pub mod ews;
mod exchange;
mod fake;
mod log;
mod state;
mod subscriptions;

pub use crate::config::{Config, ConfigError};
pub use crate::engine::{
    Engine, EngineError, OverrideRequest, PresenceEvent, SyncReport, Tasks, UserPresence,
};
pub use crate::exchange::{
    Appointment, BoxFuture, Events, Exchange, ExchangeError, FetchedItem, ItemEvent, ServerVersion,
    StreamEvent, Subscription, SubscriptionKind,
};
pub use crate::fake::{Call, InMemoryExchange};
pub use crate::log::{EventLog, Level, LogLine, LogQuery};
pub use crate::state::{
    Connection, EntryProblem, Health, MailboxError, MailboxState, MailboxStatus, MailboxSync,
    State, Status, Window,
};
