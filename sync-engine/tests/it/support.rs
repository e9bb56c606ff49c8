//! Shared fixtures: a configuration, an in-memory Exchange and an engine on a virtual clock.

use std::sync::Arc;

use calendar_core::FreeBusyStatus;
use chrono::{DateTime, Duration, TimeZone, Utc};
use ews_clock::Clock;
use sync_engine::{Appointment, Config, Engine, InMemoryExchange};

/// Monday 2026-03-30 08:00 UTC.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0)
        .single()
        .expect("a valid instant")
}

pub(crate) const BASE: &str = r#"
[exchange]
server = "ex01.contoso.test"
username = "svc@contoso.test"
password = "secret"
max_retries = 3

[[users]]
email = "kim@contoso.test"

[[users]]
email = "ceo@contoso.test"
privacy = true
"#;

pub(crate) const COUNTER: &str = r#"
[[counters]]
id = "desk-1"
mailbox = "desk1@contoso.test"
timeZone = "Europe/Berlin"
slotMinutes = 30
stepMinutes = 30
openingHours = [{ days = ["Mon", "Tue", "Wed", "Thu", "Fri"], ranges = ["09:00-12:00"] }]
"#;

pub(crate) fn config(extra: &str) -> Config {
    Config::parse("test.toml", &format!("{BASE}{extra}"), |_| None)
        .expect("the test config is valid")
}

pub(crate) struct World {
    pub(crate) clock: Clock,
    pub(crate) exchange: Arc<InMemoryExchange>,
    pub(crate) engine: Engine,
}

/// A world with Kim, the CEO (privacy) and desk-1's mailbox, all empty.
pub(crate) fn world(extra: &str) -> World {
    let clock = Clock::starting_at(t0());
    let exchange = Arc::new(InMemoryExchange::default());
    for m in ["kim@contoso.test", "ceo@contoso.test", "desk1@contoso.test"] {
        exchange.add_mailbox(m);
    }
    let engine = Engine::new(config(extra), clock.clone(), exchange.clone());
    World {
        clock,
        exchange,
        engine,
    }
}

/// A busy appointment from `t0 + from_min` lasting `minutes`, with a subject.
pub(crate) fn meeting(subject: &str, from_min: i64, minutes: i64) -> Appointment {
    let start = t0() + Duration::minutes(from_min);
    let mut a = Appointment::new(
        start,
        start + Duration::minutes(minutes),
        FreeBusyStatus::Busy,
    );
    a.subject = Some(subject.to_string());
    a.location = Some("Room 1".to_string());
    a.id = Some(format!("AAMk-{from_min}-{minutes}"));
    a
}

pub(crate) fn messages(engine: &Engine) -> Vec<String> {
    engine
        .log()
        .lines(&Default::default())
        .into_iter()
        .map(|l| l.message)
        .collect()
}
