//! The one clock of an ews-kit world.
//!
//! Every time-dependent behaviour in mock-ews and sync-engine reads a [`Clock`] instead of the
//! wall clock (clippy's `disallowed-methods` enforces this), so a test can run a simulated week
//! in milliseconds and a scenario can put the mock and the engine on one shared timeline.
//!
//! A clock is in one of two modes:
//!
//! - **running**: `now` moves with tokio's clock from an anchor. In a normal runtime that is
//!   real time. Under a paused tokio runtime (`#[tokio::test(start_paused = true)]`, or
//!   `tokio::time::pause()`) tokio auto-advances to the next pending timer whenever every
//!   task is idle, so timers fire in order at their exact virtual instants and a week passes
//!   as fast as the work in it. This is how scenarios run.
//! - **frozen**: `now` stands still until [`Clock::set`] or [`Clock::advance`] moves it, which
//!   is what a control API's "set the clock" wants when it runs in real time.
//!
//! [`Clock::set`] and [`Clock::advance`] jump in both modes; sleepers re-check their deadline
//! after every jump, so a sleeper whose deadline was jumped over wakes at once.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! use chrono::{TimeZone, Utc};
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
//! let clock = ews_clock::Clock::starting_at(t0);
//! clock.sleep(chrono::Duration::days(7)).await; // instant under paused time
//! assert_eq!(clock.now(), t0 + chrono::Duration::days(7));
//! # }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

/// A cheaply clonable handle on one shared clock; every clone sees the same time.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    mode: Mutex<Mode>,
    /// Bumped on every jump or mode change, so sleepers recompute their deadline.
    jumps: watch::Sender<u64>,
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Running {
        anchor: DateTime<Utc>,
        since: Instant,
    },
    Frozen {
        now: DateTime<Utc>,
    },
}

impl Mode {
    fn now(&self) -> DateTime<Utc> {
        match *self {
            Mode::Frozen { now } => now,
            Mode::Running { anchor, since } => {
                let elapsed = Instant::now().saturating_duration_since(since);
                anchor + Duration::from_std(elapsed).unwrap_or(Duration::MAX)
            }
        }
    }
}

/// Which way a clock is moving; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// `now` follows tokio's clock (real time, or virtual time under a paused runtime).
    Running,
    /// `now` stands still until set or advanced.
    Frozen,
}

impl Clock {
    /// A running clock that starts at the real current time: the production clock.
    #[allow(clippy::disallowed_methods)] // The one place the wall clock is read.
    pub fn system() -> Self {
        Self::starting_at(Utc::now())
    }

    /// A running clock that reads `start` now and then moves with tokio's clock.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self::with_mode(Mode::Running {
            anchor: start,
            since: Instant::now(),
        })
    }

    /// A clock that stands at `now` until it is set or advanced.
    pub fn frozen_at(now: DateTime<Utc>) -> Self {
        Self::with_mode(Mode::Frozen { now })
    }

    fn with_mode(mode: Mode) -> Self {
        let (jumps, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                mode: Mutex::new(mode),
                jumps,
            }),
        }
    }

    /// The current instant of this world.
    pub fn now(&self) -> DateTime<Utc> {
        self.lock().now()
    }

    /// Whether the clock is running or frozen.
    pub fn mode(&self) -> ClockMode {
        match *self.lock() {
            Mode::Running { .. } => ClockMode::Running,
            Mode::Frozen { .. } => ClockMode::Frozen,
        }
    }

    /// Jumps to `to` (forwards or backwards), keeping the mode.
    pub fn set(&self, to: DateTime<Utc>) {
        {
            let mut mode = self.lock();
            *mode = match *mode {
                Mode::Frozen { .. } => Mode::Frozen { now: to },
                Mode::Running { .. } => Mode::Running {
                    anchor: to,
                    since: Instant::now(),
                },
            };
        }
        self.announce_jump();
    }

    /// Jumps forward by `by` at once (a negative duration jumps back). Sleepers whose deadline
    /// was jumped over all wake at the new time; to let timers fire one by one at their own
    /// instants, [`sleep`](Self::sleep) under a paused runtime instead.
    pub fn advance(&self, by: Duration) {
        let to = self.now() + by;
        self.set(to);
    }

    /// Stops the clock at its current time.
    pub fn freeze(&self) {
        {
            let mut mode = self.lock();
            *mode = Mode::Frozen { now: mode.now() };
        }
        self.announce_jump();
    }

    /// Lets a frozen clock run again from where it stands.
    pub fn resume(&self) {
        {
            let mut mode = self.lock();
            if let Mode::Frozen { now } = *mode {
                *mode = Mode::Running {
                    anchor: now,
                    since: Instant::now(),
                };
            }
        }
        self.announce_jump();
    }

    /// Waits until this clock reads `deadline` or later.
    pub async fn sleep_until(&self, deadline: DateTime<Utc>) {
        let mut jumps = self.inner.jumps.subscribe();
        loop {
            let mode = *self.lock();
            let now = mode.now();
            if now >= deadline {
                return;
            }
            match mode {
                Mode::Frozen { .. } => {
                    // Only a jump can move a frozen clock. The sender lives in `self`, so
                    // `changed` cannot fail while we hold `self`.
                    let _ = jumps.changed().await;
                }
                Mode::Running { .. } => {
                    let wait = (deadline - now).to_std().unwrap_or_default();
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = jumps.changed() => {}
                    }
                }
            }
        }
    }

    /// Waits for `duration` of this clock's time.
    pub async fn sleep(&self, duration: Duration) {
        let deadline = self.now() + duration;
        self.sleep_until(deadline).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Mode> {
        // The guarded value is a plain Copy enum, always valid: a poisoned lock is harmless.
        self.inner
            .mode
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn announce_jump(&self) {
        self.inner.jumps.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("now", &self.now())
            .field("mode", &self.mode())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn running_clock_follows_paused_tokio_time() {
        let clock = Clock::starting_at(t0());
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        assert_eq!(clock.now(), t0() + Duration::seconds(90));
    }

    #[tokio::test(start_paused = true)]
    async fn timers_fire_in_order_at_their_own_instants() {
        let clock = Clock::starting_at(t0());
        let seen = Arc::new(Mutex::new(Vec::new()));
        for minutes in [30, 10, 20] {
            let (clock, seen) = (clock.clone(), seen.clone());
            tokio::spawn(async move {
                clock.sleep(Duration::minutes(minutes)).await;
                seen.lock().unwrap().push((minutes, clock.now()));
            });
        }
        clock.sleep(Duration::hours(1)).await;
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![
                (10, t0() + Duration::minutes(10)),
                (20, t0() + Duration::minutes(20)),
                (30, t0() + Duration::minutes(30)),
            ]
        );
    }

    #[tokio::test]
    async fn frozen_clock_stands_still_until_set() {
        let clock = Clock::frozen_at(t0());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(clock.now(), t0());
        assert_eq!(clock.mode(), ClockMode::Frozen);
        clock.advance(Duration::hours(2));
        assert_eq!(clock.now(), t0() + Duration::hours(2));
    }

    #[tokio::test]
    async fn a_jump_over_the_deadline_wakes_a_frozen_sleeper() {
        let clock = Clock::frozen_at(t0());
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move {
                clock.sleep(Duration::minutes(30)).await;
                clock.now()
            })
        };
        tokio::task::yield_now().await;
        clock.advance(Duration::minutes(10));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "woke before its deadline");
        clock.advance(Duration::minutes(45));
        assert_eq!(sleeper.await.unwrap(), t0() + Duration::minutes(55));
    }

    #[tokio::test(start_paused = true)]
    async fn a_backward_jump_postpones_a_running_sleeper() {
        let clock = Clock::starting_at(t0());
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move {
                clock.sleep_until(t0() + Duration::minutes(30)).await;
                clock.now()
            })
        };
        tokio::time::sleep(std::time::Duration::from_secs(20 * 60)).await;
        clock.set(t0()); // back 20 minutes: 30 more minutes to go
        tokio::time::sleep(std::time::Duration::from_secs(20 * 60)).await;
        assert!(!sleeper.is_finished());
        assert_eq!(sleeper.await.unwrap(), t0() + Duration::minutes(30));
    }

    #[tokio::test(start_paused = true)]
    async fn freeze_and_resume_keep_the_time_where_it_stood() {
        let clock = Clock::starting_at(t0());
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        clock.freeze();
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        assert_eq!(clock.now(), t0() + Duration::seconds(60));
        clock.resume();
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        assert_eq!(clock.now(), t0() + Duration::seconds(120));
        assert_eq!(clock.mode(), ClockMode::Running);
    }
}
