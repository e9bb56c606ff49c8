//! The engine core: syncing mailboxes through an [`Exchange`], keeping [`State`], serving
//! presence and free slots, and scheduling it all on the shared [`Clock`].
//!
//! Scheduling (start-up sync, periodic resync, OOF polling, force-now, presence changes at
//! the instants calendar-core reports) only ever sleeps on the clock, so under a paused tokio
//! runtime a simulated week passes in milliseconds and tests never wait on real time.
//!
//! Requests go through one gate ([`Engine::call`]): a semaphore bounds the requests in
//! flight, an `ErrorServerBusy` back-off (or a 503 `Retry-After`) holds *every* request
//! until the instant the server asked for, exactly, and other transient failures are retried
//! with exponential back-off and jitter from a seeded generator (never the wall clock).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use calendar_core::{
    Presence, PresenceInput, PresenceOverride, PresenceReason, PresenceState, SlotError, SlotReport,
};
use chrono::{DateTime, Duration, NaiveDate, SubsecRound as _, Utc};
use ews_clock::Clock;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore, broadcast, mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};

use crate::config::{Config, UserConfig};
use crate::exchange::{Appointment, BoxFuture, Exchange, ExchangeError, Subscription};
use crate::log::EventLog;
use crate::state::{
    EntryProblem, Health, MailboxError, MailboxState, MailboxStatus, State, Status, Window,
};
use crate::subscriptions::{PushSignal, StreamRegistry};

/// The longest wait between two re-fetches of a calendar whose fetch failed.
const REFETCH_MAX: Duration = Duration::minutes(15);

/// Why an engine query failed (the API maps each to an HTTP status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    #[error("unknown counter `{0}`")]
    UnknownCounter(String),
    #[error("counter `{0}` has no mailbox configured")]
    CounterWithoutMailbox(String),
    #[error("calendar of counter `{id}` ({mailbox}) is not synced: {reason}")]
    NotSynced {
        id: String,
        mailbox: String,
        reason: String,
    },
    #[error(
        "counter `{id}`: {to} is after the synced window, which ends {window_end}; widen sync.window_days"
    )]
    OutsideWindow {
        id: String,
        to: NaiveDate,
        window_end: DateTime<Utc>,
    },
    #[error(transparent)]
    Slots(#[from] SlotError),
}

/// A presence change, as the presence stream sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceEvent {
    pub user: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PresenceState>,
    pub presence: Presence,
}

/// A user with their current presence, as `GET /api/users` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPresence {
    pub email: String,
    pub calendar_integration: bool,
    pub privacy: bool,
    /// Whether the calendar and OOF settings have been read at least once.
    pub synced: bool,
    pub presence: Presence,
}

/// A request to set a user's override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverrideRequest {
    pub state: PresenceState,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub expires: Option<DateTime<Utc>>,
}

/// The outcome of one full sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub connected: bool,
    pub mailboxes: usize,
    pub failed: usize,
}

/// The local dates `[first, after)` an all-day item covers in the zone it was created in.
///
/// FindItem does not report that zone, but an all-day item starts and ends at a local
/// midnight there, so each instant's UTC time of day gives the zone's offset at that
/// instant (taken in -12 h..=+12 h; offsets are whole quarter hours). Reading start and end
/// separately keeps the dates right across a DST change inside the item.
pub(crate) fn all_day_dates(a: &Appointment) -> Option<(NaiveDate, NaiveDate)> {
    let first = local_midnight(a.start)?.0;
    let after = local_midnight(a.end)?.0;
    (first < after).then_some((first, after))
}

/// The local date and UTC offset (seconds) at which `t` is a local midnight, taking the
/// offset in -12 h..=+12 h; `None` unless `t` is on a quarter hour.
fn local_midnight(t: DateTime<Utc>) -> Option<(NaiveDate, i64)> {
    let secs = i64::from(chrono::Timelike::num_seconds_from_midnight(&t));
    if secs % 900 != 0 || t.timestamp_subsec_nanos() != 0 {
        return None;
    }
    let mut offset = (86_400 - secs) % 86_400;
    if offset > 12 * 3600 {
        offset -= 86_400;
    }
    Some(((t + Duration::seconds(offset)).date_naive(), offset))
}

/// A fixed zone for a whole-hour offset (`Etc/GMT-1` is UTC+1: the signs are POSIX's).
fn fixed_zone(offset_secs: i64) -> Option<chrono_tz::Tz> {
    if offset_secs % 3600 != 0 {
        return None;
    }
    let hours = offset_secs / 3600;
    let name = match hours {
        0 => "Etc/GMT".to_string(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    };
    name.parse().ok()
}

/// The calendar-core view of an appointment, for presence (`day_zone`: the user's zone) or
/// slots (the counter's zone).
///
/// An all-day item whose creation zone is unknown (FindItem does not report it) is laid on
/// the same dates in `day_zone` (CALENDAR-SEMANTICS #19: an item created in Los Angeles
/// for Tuesday is Tuesday in Berlin). Without a `day_zone` it keeps the exact instants
/// Exchange sent (midnight to midnight where it was created); calendar-core would otherwise
/// round it to whole UTC days and stretch it over two.
pub(crate) fn day_item(
    a: &Appointment,
    day_zone: Option<chrono_tz::Tz>,
) -> calendar_core::BusyItem {
    let mut item = a.busy_item();
    if !item.all_day || item.time_zone.is_some() {
        return item;
    }
    // Same offset at both ends (no DST change inside): give calendar-core the creation zone
    // as a fixed zone and let it lay the dates on the day zone itself.
    if let (Some((_, start_offset)), Some((_, end_offset))) =
        (local_midnight(a.start), local_midnight(a.end))
        && start_offset == end_offset
        && let Some(zone) = fixed_zone(start_offset)
    {
        item.time_zone = Some(zone);
        return item;
    }
    item.all_day = false;
    if let (Some(zone), Some((first, after))) = (day_zone, all_day_dates(a)) {
        let midnight = |d: NaiveDate| {
            calendar_core::first_instant_at_or_after(zone, d.and_time(chrono::NaiveTime::MIN))
        };
        if let (Some(start), Some(end)) = (midnight(first), midnight(after)) {
            item.start = start;
            item.end = end;
        }
    }
    item
}

/// The engine. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    clock: Clock,
    log: EventLog,
    exchange: Arc<dyn Exchange>,
    state: RwLock<State>,
    presence_tx: broadcast::Sender<PresenceEvent>,
    /// Woken whenever state changes, so the presence watcher recomputes.
    changed: Notify,
    /// Woken by "force sync now".
    force: Notify,
    limiter: Semaphore,
    /// No request is sent before this instant (the server asked us to back off).
    busy_until: Mutex<Option<DateTime<Utc>>>,
    rng: Mutex<u64>,
    last_presence: Mutex<BTreeMap<String, Presence>>,
    /// Set by `start`: full syncs subscribe mailboxes and start their watchers.
    subscriptions_on: AtomicBool,
    watchers: Mutex<BTreeMap<String, AbortHandle>>,
    /// Per mailbox, the task re-fetching a calendar whose fetch failed (see
    /// [`Engine::schedule_refetch`]).
    refetches: Mutex<BTreeMap<String, AbortHandle>>,
    push: Mutex<PushRoutes>,
    streams: Mutex<StreamRegistry>,
    /// Bumped when streaming subscriptions come or go.
    streams_changed: watch::Sender<u64>,
}

/// Where push notifications go: subscription id -> mailbox and its watcher's channel.
#[derive(Default)]
struct PushRoutes {
    by_id: BTreeMap<String, (String, mpsc::UnboundedSender<PushSignal>)>,
    heard: BTreeMap<String, DateTime<Utc>>,
    /// Receivers of subscriptions made before their watcher runs, by mailbox.
    parked: BTreeMap<String, mpsc::UnboundedReceiver<PushSignal>>,
}

/// The engine's background tasks (and its mailbox watchers); dropping this stops them.
pub struct Tasks {
    set: JoinSet<()>,
    engine: Engine,
}

impl Tasks {
    /// Stops every task.
    pub fn abort(&mut self) {
        self.set.abort_all();
        self.engine.stop_watchers();
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.abort();
    }
}

impl Engine {
    /// An engine over `exchange`; nothing runs until [`Engine::start`] (or a manual call).
    pub fn new(config: Config, clock: Clock, exchange: Arc<dyn Exchange>) -> Engine {
        let log = EventLog::new(clock.clone(), config.api.log_capacity);
        let mut state = State::default();
        for (email, privacy) in config.mailboxes() {
            state
                .mailboxes
                .insert(email.clone(), MailboxState::new(email, privacy));
        }
        let (presence_tx, _) = broadcast::channel(4096);
        Engine {
            inner: Arc::new(Inner {
                limiter: Semaphore::new(config.exchange.max_concurrency),
                rng: Mutex::new(config.exchange.retry_seed | 1),
                config,
                clock,
                log,
                exchange,
                state: RwLock::new(state),
                presence_tx,
                changed: Notify::new(),
                force: Notify::new(),
                busy_until: Mutex::new(None),
                last_presence: Mutex::new(BTreeMap::new()),
                subscriptions_on: AtomicBool::new(false),
                watchers: Mutex::new(BTreeMap::new()),
                refetches: Mutex::new(BTreeMap::new()),
                push: Mutex::new(PushRoutes::default()),
                streams: Mutex::new(StreamRegistry::default()),
                streams_changed: watch::channel(0).0,
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn log(&self) -> &EventLog {
        &self.inner.log
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the whole state (for diagnostics and tests).
    pub fn state(&self) -> State {
        self.read().clone()
    }

    /// Starts the background tasks: start-up sync then periodic resync, OOF polling and the
    /// presence watcher.
    pub fn start(&self) -> Tasks {
        self.inner.subscriptions_on.store(true, Ordering::SeqCst);
        let mut set = JoinSet::new();
        set.spawn(self.clone().sync_loop());
        set.spawn(self.clone().oof_loop());
        set.spawn(self.clone().presence_loop());
        if let crate::config::Notifications::Streaming { lifetime } =
            self.inner.config.notifications
        {
            set.spawn(self.clone().stream_hub(lifetime));
        }
        Tasks {
            set,
            engine: self.clone(),
        }
    }

    pub(crate) fn exchange(&self) -> Arc<dyn Exchange> {
        self.inner.exchange.clone()
    }

    /// The privacy mode of a synced mailbox (`None`: not one of ours).
    pub(crate) fn privacy_of(&self, mailbox: &str) -> Option<bool> {
        self.read().mailboxes.get(mailbox).map(|m| m.privacy)
    }

    /// The sync window starting at `now`, in whole seconds: requests carry whole-second
    /// times, so the window the engine records is exactly the one it asked for. (With
    /// `now` at 07:00:00.4 the CalendarView from 07:00:00 returns an item ending at 07:00,
    /// which a window starting at 07:00:00.4 would not hold; found by the convergence
    /// property test, seed 1234.)
    pub(crate) fn window_from(&self, now: DateTime<Utc>) -> Window {
        let start = now.trunc_subsecs(0);
        Window {
            start,
            end: start + Duration::days(i64::from(self.inner.config.sync.window_days)),
        }
    }

    pub(crate) fn subscription_of(&self, mailbox: &str) -> Option<Subscription> {
        self.read()
            .mailboxes
            .get(mailbox)
            .and_then(|m| m.subscription.clone())
    }

    pub(crate) fn set_subscription(&self, mailbox: &str, sub: Option<Subscription>) {
        let clears_error = sub.is_some();
        let mut state = self.write();
        if let Some(m) = state.mailboxes.get_mut(mailbox) {
            m.subscription = sub;
            if clears_error
                && m.sync
                    .error
                    .as_ref()
                    .is_some_and(|e| e.operation == "subscribe")
            {
                m.sync.error = None;
            }
        }
    }

    /// Starts the watcher of `mailbox` unless it runs.
    fn ensure_watcher(&self, mailbox: &str) {
        let mut watchers = self
            .inner
            .watchers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if watchers.get(mailbox).is_some_and(|h| !h.is_finished()) {
            return;
        }
        let handle = tokio::spawn(self.clone().watch_mailbox(mailbox.to_string()));
        watchers.insert(mailbox.to_string(), handle.abort_handle());
    }

    fn stop_watchers(&self) {
        self.inner.subscriptions_on.store(false, Ordering::SeqCst);
        let watchers = std::mem::take(
            &mut *self
                .inner
                .watchers
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for handle in watchers.values() {
            handle.abort();
        }
        let refetches = std::mem::take(
            &mut *self
                .inner
                .refetches
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for handle in refetches.values() {
            handle.abort();
        }
    }

    pub(crate) fn streams(&self) -> std::sync::MutexGuard<'_, StreamRegistry> {
        self.inner
            .streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn streams_changed(&self) -> watch::Receiver<u64> {
        self.inner.streams_changed.subscribe()
    }

    pub(crate) fn inner_streams_changed(&self) {
        self.inner.streams_changed.send_modify(|n| *n += 1);
    }

    fn push_routes(&self) -> std::sync::MutexGuard<'_, PushRoutes> {
        self.inner
            .push
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn register_push(
        &self,
        mailbox: &str,
        id: &str,
        tx: mpsc::UnboundedSender<PushSignal>,
    ) {
        let now = self.inner.clock.now();
        let mut routes = self.push_routes();
        routes
            .by_id
            .insert(id.to_string(), (mailbox.to_string(), tx));
        routes.heard.insert(mailbox.to_string(), now);
    }

    pub(crate) fn park_push_receiver(
        &self,
        mailbox: &str,
        rx: mpsc::UnboundedReceiver<PushSignal>,
    ) {
        self.push_routes().parked.insert(mailbox.to_string(), rx);
    }

    pub(crate) fn take_push_receiver(
        &self,
        mailbox: &str,
    ) -> Option<mpsc::UnboundedReceiver<PushSignal>> {
        self.push_routes().parked.remove(mailbox)
    }

    pub(crate) fn unregister_push(&self, id: &str) {
        self.push_routes().by_id.remove(id);
    }

    pub(crate) fn push_heard(&self, mailbox: &str) -> Option<DateTime<Utc>> {
        self.push_routes().heard.get(mailbox).copied()
    }

    pub(crate) fn set_push_heard(&self, mailbox: &str, at: DateTime<Utc>) {
        self.push_routes().heard.insert(mailbox.to_string(), at);
    }

    pub(crate) fn push_target(
        &self,
        id: &str,
    ) -> Option<(String, mpsc::UnboundedSender<PushSignal>)> {
        self.push_routes().by_id.get(id).cloned()
    }

    /// Asks the sync loop to run a full sync now (or right after the one running).
    pub fn force_sync(&self) {
        self.inner.log.info(None, "Full sync requested");
        self.inner.force.notify_one();
    }

    /// A receiver of every presence change from now on.
    pub fn subscribe_presence(&self) -> broadcast::Receiver<PresenceEvent> {
        self.inner.presence_tx.subscribe()
    }

    fn state_changed(&self) {
        self.inner.changed.notify_one();
    }

    // -----------------------------------------------------------------------------------------
    // Scheduling.

    async fn sync_loop(self) {
        let cfg = &self.inner.config;
        let log = &self.inner.log;
        log.info(None, "EWS starting");
        log.info(None, format!("EWS URL: {}", cfg.exchange.url));
        if cfg.exchange.tls.danger_accept_invalid_certs {
            log.warn(
                None,
                "TLS certificate verification is DISABLED (exchange.tls.danger_accept_invalid_certs): \
                 anyone on the network path can read the service account's password",
            );
        }
        for p in self.entry_problems() {
            log.warn(
                Some(&p.name),
                format!("{} {}: {}", p.entry, p.name, p.message),
            );
        }
        let mut retry = Duration::seconds(30);
        loop {
            let report = self.full_sync().await;
            let now = self.inner.clock.now();
            let next = if report.connected {
                retry = Duration::seconds(30);
                now + cfg.sync.resync_period
            } else {
                let at = now + retry;
                log.warn(
                    None,
                    format!("Exchange unreachable; next attempt at {}", at.to_rfc3339()),
                );
                retry = (retry * 2).min(Duration::minutes(15));
                at
            };
            self.write().connection.next_full_sync = Some(next);
            tokio::select! {
                () = self.inner.clock.sleep_until(next) => {}
                () = self.inner.force.notified() => {}
            }
        }
    }

    async fn oof_loop(self) {
        let interval = self.inner.config.sync.oof_poll_interval;
        loop {
            self.inner.clock.sleep(interval).await;
            if self.read().connection.server_version.is_some() {
                self.poll_oof().await;
            }
        }
    }

    async fn presence_loop(self) {
        loop {
            let next = self.recompute_presence();
            match next {
                Some(at) => tokio::select! {
                    () = self.inner.clock.sleep_until(at) => {}
                    () = self.inner.changed.notified() => {}
                },
                None => self.inner.changed.notified().await,
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Syncing.

    /// Connects, then fetches every mailbox's calendar window and OOF settings.
    pub async fn full_sync(&self) -> SyncReport {
        let log = &self.inner.log;
        let mailboxes: Vec<(String, bool)> = self
            .read()
            .mailboxes
            .values()
            .map(|m| (m.email.clone(), m.privacy))
            .collect();
        if !self.connect().await {
            return SyncReport {
                connected: false,
                mailboxes: mailboxes.len(),
                failed: mailboxes.len(),
            };
        }
        let window = self.window_from(self.inner.clock.now());
        log.info(
            None,
            format!(
                "Fetching calendars of {} mailboxes ({} days)",
                mailboxes.len(),
                self.inner.config.sync.window_days
            ),
        );
        let mut set = JoinSet::new();
        for (email, privacy) in mailboxes.iter().cloned() {
            let engine = self.clone();
            set.spawn(async move {
                let subscribing = engine.inner.subscriptions_on.load(Ordering::SeqCst);
                if subscribing && engine.subscription_of(&email).is_none() {
                    // Subscribe before fetching, so no change between the two is lost; a
                    // failure here is retried by the watcher, which then resyncs.
                    let _ = engine.subscribe_mailbox(&email).await;
                }
                let ok = engine.sync_calendar(&email, privacy, window).await.is_ok();
                if subscribing {
                    engine.ensure_watcher(&email);
                }
                (email, ok)
            });
        }
        let mut failed = BTreeSet::new();
        while let Some(r) = set.join_next().await {
            match r {
                Ok((_, true)) => {}
                Ok((email, false)) => {
                    failed.insert(email);
                }
                // A sync task panicked or was cancelled: count it without knowing its name.
                Err(e) => {
                    failed.insert(format!("task {}", e.id()));
                }
            }
        }
        failed.extend(self.oof_round().await);
        let failed = failed.len().min(mailboxes.len());
        {
            let mut state = self.write();
            state.connection.last_full_sync = Some(self.inner.clock.now());
            state.connection.full_syncs += 1;
        }
        log.info(
            None,
            format!(
                "Full sync done: {} of {} mailboxes synced",
                mailboxes.len() - failed,
                mailboxes.len()
            ),
        );
        SyncReport {
            connected: true,
            mailboxes: mailboxes.len(),
            failed,
        }
    }

    /// Probes the server; logs and records the version or the failure.
    pub async fn connect(&self) -> bool {
        let exchange = self.inner.exchange.clone();
        match self
            .call("connect", None, || exchange.server_version())
            .await
        {
            Ok(version) => {
                let now = self.inner.clock.now();
                {
                    let mut state = self.write();
                    state.connection.server_version = Some(version);
                    state.connection.error = None;
                    state.connection.connected_at = Some(now);
                }
                self.inner
                    .log
                    .info(None, format!("Connected to Exchange ({version})"));
                if self.inner.config.exchange.tls.danger_accept_invalid_certs {
                    self.inner.log.warn(
                        None,
                        "Connected WITHOUT certificate verification (danger_accept_invalid_certs)",
                    );
                }
                true
            }
            Err(e) => {
                self.write().connection.error = Some(e.to_string());
                self.inner
                    .log
                    .error(None, format!("Cannot connect to Exchange: {e}"));
                false
            }
        }
    }

    /// Fetches one mailbox's calendar window (free/busy only in privacy mode) and replaces
    /// what the engine knew of it. A failure (after the request's own retries) leaves the
    /// mailbox marked for a re-fetch on a back-off schedule (see
    /// [`Engine::schedule_refetch`]), so a change notified meanwhile is not lost.
    pub async fn sync_calendar(
        &self,
        email: &str,
        privacy: bool,
        window: Window,
    ) -> Result<(), ExchangeError> {
        let exchange = self.inner.exchange.clone();
        let result = if privacy {
            self.call("GetUserAvailability", Some(email), || {
                exchange.availability(email, window.start, window.end)
            })
            .await
        } else {
            self.call("CalendarView", Some(email), || {
                exchange.calendar_view(email, window.start, window.end)
            })
            .await
        };
        let now = self.inner.clock.now();
        match result {
            Ok(appointments) => {
                self.store_calendar(email, appointments, window, now);
                Ok(())
            }
            Err(e) => {
                self.record_failure(email, "calendar", &e, now);
                self.schedule_refetch(email, &e);
                Err(e)
            }
        }
    }

    /// Marks `email`'s calendar as not up to date and, unless a re-fetch task already runs
    /// for it, starts one: it fetches the window again after 30 s, 1 min, 2 min ... (capped
    /// at [`REFETCH_MAX`], each scaled by the seeded jitter) until a fetch succeeds, by
    /// itself or by anyone else (a notification, a full sync). Without it a fetch that failed
    /// after a change notification would leave the change unknown until the weekly resync,
    /// since nothing notifies again. Failures only an administrator can fix (impersonation,
    /// a missing mailbox) wait for the next full sync instead. Only while the engine runs
    /// ([`Engine::start`]): a manual sync schedules nothing in the background.
    fn schedule_refetch(&self, email: &str, error: &ExchangeError) {
        if error.needs_admin() || !self.inner.subscriptions_on.load(Ordering::SeqCst) {
            return;
        }
        let mut refetches = self
            .inner
            .refetches
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if refetches.get(email).is_some_and(|h| !h.is_finished()) {
            // The running task (possibly the caller itself) keeps trying.
            return;
        }
        let handle = tokio::spawn(self.clone().refetch_until_synced(email.to_string()));
        refetches.insert(email.to_string(), handle.abort_handle());
    }

    /// The re-fetch task of [`Engine::schedule_refetch`]: ends once the calendar is synced.
    async fn refetch_until_synced(self, email: String) {
        let mut round = 0u32;
        loop {
            round += 1;
            let at = self.inner.clock.now() + self.refetch_delay(round);
            {
                let mut state = self.write();
                let Some(m) = state.mailboxes.get_mut(&email) else {
                    return;
                };
                m.sync.refetch_at = Some(at);
            }
            self.inner.log.warn(
                Some(&email),
                format!(
                    "Calendar not up to date; fetching it again at {}",
                    at.to_rfc3339()
                ),
            );
            self.inner.clock.sleep_until(at).await;
            let privacy = {
                let state = self.read();
                match state.mailboxes.get(&email) {
                    // Synced meanwhile (store_calendar clears the mark): nothing to do.
                    Some(m) if m.sync.refetch_at.is_some() => m.privacy,
                    _ => return,
                }
            };
            let window = self.window_from(self.inner.clock.now());
            match self.sync_calendar(&email, privacy, window).await {
                Ok(()) => return,
                Err(e) if e.needs_admin() => {
                    // Recorded as the mailbox's error; the next full sync tries again.
                    if let Some(m) = self.write().mailboxes.get_mut(&email) {
                        m.sync.refetch_at = None;
                    }
                    return;
                }
                Err(_) => {}
            }
        }
    }

    /// The wait before re-fetch `round` (1, 2, ...): 30 s doubling up to [`REFETCH_MAX`],
    /// scaled by the seeded jitter so many failed mailboxes do not retry in lockstep.
    fn refetch_delay(&self, round: u32) -> Duration {
        let base =
            (Duration::seconds(30) * 2i32.pow(round.saturating_sub(1).min(8))).min(REFETCH_MAX);
        Duration::milliseconds(base.num_milliseconds() * self.jitter_permille() / 1000)
    }

    /// Replaces the known appointments of `email` (redacting them in privacy mode, and
    /// private items always).
    pub fn store_calendar(
        &self,
        email: &str,
        mut appointments: Vec<Appointment>,
        window: Window,
        now: DateTime<Utc>,
    ) {
        {
            let mut state = self.write();
            state.connection.error = None;
            let Some(mailbox) = state.mailboxes.get_mut(email) else {
                return;
            };
            // Privacy mode keeps no subject at all; a private item keeps none in any mode
            // (CALENDAR-SEMANTICS #33). The EWS client already drops them; this holds for
            // every `Exchange`.
            let privacy = mailbox.privacy;
            appointments = appointments
                .into_iter()
                .map(|a| {
                    if privacy || a.private {
                        a.redacted()
                    } else {
                        a
                    }
                })
                .collect();
            appointments.sort_by_key(|a| (a.start, a.end));
            mailbox.appointments = appointments;
            mailbox.sync.window = Some(window);
            mailbox.sync.calendar_synced_at = Some(now);
            mailbox.sync.refetch_at = None;
            if mailbox
                .sync
                .error
                .as_ref()
                .is_some_and(|e| e.operation == "calendar")
            {
                mailbox.sync.error = None;
            }
        }
        self.state_changed();
    }

    /// Edits the known appointments of `email` in place (kept sorted) with the window they
    /// are the view of, as a notification's item-by-item update does. Returns false, editing
    /// nothing, for a mailbox in privacy mode or never synced (no window yet).
    pub(crate) fn update_appointments(
        &self,
        email: &str,
        edit: impl FnOnce(&mut Vec<Appointment>, Window),
    ) -> bool {
        {
            let mut state = self.write();
            let Some(mailbox) = state.mailboxes.get_mut(email) else {
                return false;
            };
            let Some(window) = mailbox.sync.window.filter(|_| !mailbox.privacy) else {
                return false;
            };
            edit(&mut mailbox.appointments, window);
            // As in `store_calendar`: a private item keeps no subject (CALENDAR-SEMANTICS #33).
            for a in &mut mailbox.appointments {
                if a.private && (a.subject.is_some() || a.location.is_some()) {
                    *a = a.clone().redacted();
                }
            }
            mailbox.appointments.sort_by_key(|a| (a.start, a.end));
        }
        self.state_changed();
        true
    }

    /// Reads every mailbox's OOF settings; returns how many failed.
    pub async fn poll_oof(&self) -> usize {
        self.oof_round().await.len()
    }

    /// Reads every mailbox's OOF settings; returns the mailboxes that failed.
    async fn oof_round(&self) -> BTreeSet<String> {
        let emails: Vec<String> = self.read().mailboxes.keys().cloned().collect();
        self.inner.log.info(
            None,
            format!("Fetching OOF settings for {} users", emails.len()),
        );
        let mut set = JoinSet::new();
        for email in emails {
            let engine = self.clone();
            set.spawn(async move {
                let exchange = engine.inner.exchange.clone();
                let result = engine
                    .call("GetUserOofSettings", Some(&email), || exchange.oof(&email))
                    .await;
                let now = engine.inner.clock.now();
                match result {
                    Ok(oof) => {
                        {
                            let mut state = engine.write();
                            state.connection.error = None;
                            if let Some(m) = state.mailboxes.get_mut(&email) {
                                m.oof = Some(oof);
                                m.sync.oof_synced_at = Some(now);
                                if m.sync.error.as_ref().is_some_and(|e| e.operation == "oof") {
                                    m.sync.error = None;
                                }
                            }
                        }
                        engine.state_changed();
                        None
                    }
                    Err(e) => {
                        engine.record_failure(&email, "oof", &e, now);
                        Some(email)
                    }
                }
            });
        }
        let mut failed = BTreeSet::new();
        while let Some(r) = set.join_next().await {
            match r {
                Ok(None) => {}
                Ok(Some(email)) => {
                    failed.insert(email);
                }
                Err(e) => {
                    failed.insert(format!("task {}", e.id()));
                }
            }
        }
        failed
    }

    pub(crate) fn record_failure(
        &self,
        email: &str,
        operation: &str,
        e: &ExchangeError,
        now: DateTime<Utc>,
    ) {
        self.inner.log.error(Some(email), e.to_string());
        let mut state = self.write();
        if !e.is_mailbox_scoped() && e.back_off().is_none() {
            state.connection.error = Some(e.to_string());
        }
        if let Some(m) = state.mailboxes.get_mut(email) {
            m.sync.error = Some(MailboxError {
                kind: e.kind().to_string(),
                operation: operation.to_string(),
                message: e.to_string(),
                at: now,
            });
        }
    }

    /// Sends one request through the gate: waits out a server back-off, takes a concurrency
    /// permit, and retries transient failures up to `exchange.max_retries` times.
    pub async fn call<'a, T>(
        &self,
        operation: &str,
        mailbox: Option<&str>,
        f: impl Fn() -> BoxFuture<'a, Result<T, ExchangeError>>,
    ) -> Result<T, ExchangeError> {
        let max_retries = self.inner.config.exchange.max_retries;
        let mut attempt = 0u32;
        loop {
            let hold = *self
                .inner
                .busy_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(until) = hold {
                self.inner.clock.sleep_until(until).await;
            }
            let result = {
                // The semaphore is never closed; if it were, going on unbounded beats a hang.
                let _permit = self.inner.limiter.acquire().await.ok();
                f().await
            };
            let e = match result {
                Ok(v) => return Ok(v),
                Err(e) if e.is_transient() && attempt < max_retries => e,
                Err(e) => return Err(e),
            };
            attempt += 1;
            let wait = match e.back_off() {
                Some(back_off) => {
                    // Exactly what the server asked for, and for every request: the
                    // throttling budget is the service account's, not this mailbox's.
                    let until = self.inner.clock.now() + back_off;
                    let mut busy = self
                        .inner
                        .busy_until
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    *busy = Some(busy.map_or(until, |b| b.max(until)));
                    back_off
                }
                None => self.retry_delay(attempt),
            };
            self.inner.log.warn(
                mailbox,
                format!(
                    "{operation}: {e}; retry {attempt} of {max_retries} in {} ms",
                    wait.num_milliseconds()
                ),
            );
            self.inner.clock.sleep(wait).await;
        }
    }

    /// Exponential back-off (1 s, 2 s, 4 s ... capped at 2 min) scaled by a jitter factor in
    /// [0.5, 1.5) from the seeded generator, so many mailboxes do not retry in lockstep.
    fn retry_delay(&self, attempt: u32) -> Duration {
        let base_ms = 1000i64.saturating_mul(1 << attempt.saturating_sub(1).min(7));
        let base_ms = base_ms.min(120_000);
        Duration::milliseconds(base_ms * self.jitter_permille() / 1000)
    }

    /// A jitter factor in [500, 1500) per mille from the seeded generator.
    pub(crate) fn jitter_permille(&self) -> i64 {
        let r = {
            let mut s = self
                .inner
                .rng
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // xorshift64
            *s ^= *s << 13;
            *s ^= *s >> 7;
            *s ^= *s << 17;
            *s
        };
        500 + (r % 1000) as i64
    }

    // -----------------------------------------------------------------------------------------
    // Presence.

    fn user(&self, email: &str) -> Option<&UserConfig> {
        let email = email.to_ascii_lowercase();
        self.inner
            .config
            .users
            .iter()
            .find(|u| u.email.as_deref() == Some(email.as_str()))
    }

    fn presence_of(&self, state: &State, user: &UserConfig, now: DateTime<Utc>) -> UserPresence {
        let email = user.email.clone().unwrap_or_default();
        let mailbox = state
            .mailboxes
            .get(&email)
            .filter(|_| user.calendar_integration);
        let input = PresenceInput {
            items: mailbox
                .map(|m| {
                    m.appointments
                        .iter()
                        .map(|a| day_item(a, user.time_zone))
                        .collect()
                })
                .unwrap_or_default(),
            oof: mailbox.and_then(|m| m.oof.clone()).unwrap_or_default(),
            manual: state.overrides.get(&email).cloned(),
            time_zone: user.time_zone,
        };
        UserPresence {
            presence: calendar_core::presence(&input, &self.inner.config.presence, now),
            synced: mailbox.is_some_and(|m| {
                m.sync.calendar_synced_at.is_some() && m.sync.oof_synced_at.is_some()
            }),
            email,
            calendar_integration: user.calendar_integration,
            privacy: user.privacy,
        }
    }

    /// Every user with an email address and their presence now.
    pub fn users(&self) -> Vec<UserPresence> {
        let now = self.inner.clock.now();
        let state = self.read();
        self.inner
            .config
            .users
            .iter()
            .filter(|u| u.email.is_some())
            .map(|u| self.presence_of(&state, u, now))
            .collect()
    }

    /// One user's presence now.
    pub fn presence(&self, email: &str) -> Result<UserPresence, EngineError> {
        let user = self
            .user(email)
            .ok_or_else(|| EngineError::UnknownUser(email.to_string()))?;
        Ok(self.presence_of(&self.read(), user, self.inner.clock.now()))
    }

    /// The appointments known for a user (subjects absent in privacy mode).
    pub fn appointments(&self, email: &str) -> Result<Vec<Appointment>, EngineError> {
        let user = self
            .user(email)
            .ok_or_else(|| EngineError::UnknownUser(email.to_string()))?;
        let state = self.read();
        Ok(user
            .email
            .as_ref()
            .and_then(|e| state.mailboxes.get(e))
            .filter(|_| user.calendar_integration)
            .map(|m| m.appointments.clone())
            .unwrap_or_default())
    }

    /// Sets a user's override from now; it holds until the next blocking appointment starts
    /// (or its expiry, or a scheduled OOF window, per the presence rules).
    pub fn set_override(
        &self,
        email: &str,
        request: OverrideRequest,
    ) -> Result<UserPresence, EngineError> {
        let user = self
            .user(email)
            .ok_or_else(|| EngineError::UnknownUser(email.to_string()))?;
        let key = user.email.clone().unwrap_or_default();
        let now = self.inner.clock.now();
        self.write().overrides.insert(
            key.clone(),
            PresenceOverride {
                state: request.state,
                set_at: now,
                expires: request.expires,
                message: request.message,
            },
        );
        self.inner.log.info(
            Some(&key),
            format!("Presence override set: {:?}", request.state),
        );
        self.state_changed();
        self.presence(&key)
    }

    /// Clears a user's override; returns whether there was one.
    pub fn clear_override(&self, email: &str) -> Result<bool, EngineError> {
        let user = self
            .user(email)
            .ok_or_else(|| EngineError::UnknownUser(email.to_string()))?;
        let key = user.email.clone().unwrap_or_default();
        let had = self.write().overrides.remove(&key).is_some();
        if had {
            self.inner.log.info(Some(&key), "Presence override cleared");
            self.state_changed();
        }
        Ok(had)
    }

    /// Recomputes every user's presence, sends a [`PresenceEvent`] for each that changed,
    /// drops overrides that no longer hold, and returns the earliest next change.
    pub fn recompute_presence(&self) -> Option<DateTime<Utc>> {
        let now = self.inner.clock.now();
        let current: Vec<UserPresence> = self.users();
        let mut ended = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        {
            let overrides = &self.read().overrides;
            let mut last = self
                .inner
                .last_presence
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for u in current {
                if overrides.contains_key(&u.email)
                    && !matches!(u.presence.reason, PresenceReason::Override { .. })
                {
                    ended.push(u.email.clone());
                }
                if let Some(at) = u.presence.next_change {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
                let previous = last.get(&u.email);
                let same = previous.is_some_and(|p| {
                    p.state == u.presence.state
                        && p.message == u.presence.message
                        && p.reason == u.presence.reason
                });
                if !same {
                    let event = PresenceEvent {
                        user: u.email.clone(),
                        at: now,
                        previous: previous.map(|p| p.state),
                        presence: u.presence.clone(),
                    };
                    let _ = self.inner.presence_tx.send(event);
                }
                last.insert(u.email, u.presence);
            }
        }
        if !ended.is_empty() {
            let mut state = self.write();
            for email in ended {
                if state.overrides.remove(&email).is_some() {
                    self.inner.log.info(Some(&email), "Presence override ended");
                }
            }
        }
        next
    }

    // -----------------------------------------------------------------------------------------
    // Slots.

    /// The bookable slots of a counter on the local dates `from..=to`, from its synced
    /// calendar. Refused while the calendar is unknown or the range leaves the synced window:
    /// offering a time the engine has not seen would double-book the counter.
    pub fn slots(
        &self,
        id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<SlotReport, EngineError> {
        let counter = self
            .inner
            .config
            .counters
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| EngineError::UnknownCounter(id.to_string()))?;
        let email = counter
            .email
            .as_ref()
            .ok_or_else(|| EngineError::CounterWithoutMailbox(id.to_string()))?;
        let state = self.read();
        let not_synced = |reason: String| EngineError::NotSynced {
            id: id.to_string(),
            mailbox: email.clone(),
            reason,
        };
        let mailbox = state
            .mailboxes
            .get(email)
            .ok_or_else(|| not_synced("not configured".into()))?;
        let window = match (&mailbox.sync.window, &mailbox.sync.error) {
            (_, Some(e)) if e.operation == "calendar" => return Err(not_synced(e.message.clone())),
            (Some(w), _) => *w,
            (None, _) => return Err(not_synced("first sync not finished".into())),
        };
        let last_day_end = to.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| {
            d.and_local_timezone(counter.slots.time_zone)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        });
        if let Some(Some(end)) = last_day_end
            && end > window.end
        {
            return Err(EngineError::OutsideWindow {
                id: id.to_string(),
                to,
                window_end: window.end,
            });
        }
        let items: Vec<_> = mailbox
            .appointments
            .iter()
            .map(|a| day_item(a, Some(counter.slots.time_zone)))
            .collect();
        let mut settings = counter.slots.clone();
        settings.mailbox = email.clone();
        Ok(calendar_core::free_slots(
            &settings,
            &items,
            from,
            to,
            self.inner.clock.now(),
        )?)
    }

    // -----------------------------------------------------------------------------------------
    // Status.

    fn entry_problems(&self) -> Vec<EntryProblem> {
        let cfg = &self.inner.config;
        let users = cfg
            .users
            .iter()
            .filter(|u| u.email.is_none() && u.calendar_integration)
            .map(|u| EntryProblem {
                entry: "user".into(),
                name: u.label.clone(),
                message: "no email address: calendar integration skipped".into(),
            });
        let counters = cfg
            .counters
            .iter()
            .filter(|c| c.email.is_none())
            .map(|c| EntryProblem {
                entry: "counter".into(),
                name: c.id.clone(),
                message: "no mailbox: no slots can be offered".into(),
            });
        users.chain(counters).collect()
    }

    /// The status document: health with its reason, the connection, every mailbox.
    pub fn status(&self) -> Status {
        let state = self.read();
        let problems = self.entry_problems();
        let failing: Vec<(&str, &str)> = state
            .mailboxes
            .values()
            .filter_map(|m| {
                m.sync
                    .error
                    .as_ref()
                    .map(|e| (m.email.as_str(), e.kind.as_str()))
            })
            .collect();
        let (health, reason) = if let Some(e) = &state.connection.error {
            (Health::Offline, e.clone())
        } else if state.connection.server_version.is_none() {
            (Health::Offline, "not connected yet".to_string())
        } else if !failing.is_empty() || !problems.is_empty() {
            let mut parts = Vec::new();
            if !failing.is_empty() {
                let listed: Vec<String> = failing
                    .iter()
                    .take(5)
                    .map(|(m, k)| format!("{m} ({k})"))
                    .collect();
                let more = failing.len().saturating_sub(5);
                parts.push(format!(
                    "{} of {} mailboxes failing: {}{}",
                    failing.len(),
                    state.mailboxes.len(),
                    listed.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ));
            }
            if !problems.is_empty() {
                parts.push(format!(
                    "{} entries without an email address",
                    problems.len()
                ));
            }
            (Health::Degraded, parts.join("; "))
        } else {
            (Health::Online, String::new())
        };
        Status {
            health,
            reason,
            now: self.inner.clock.now(),
            ews_url: self.inner.config.exchange.url.clone(),
            notifications: self.inner.config.notifications.mode().to_string(),
            connection: state.connection.clone(),
            mailboxes: state
                .mailboxes
                .values()
                .map(|m| MailboxStatus {
                    email: m.email.clone(),
                    privacy: m.privacy,
                    appointments: m.appointments.len(),
                    subscribed: m.subscription.is_some(),
                    sync: m.sync.clone(),
                })
                .collect(),
            problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use calendar_core::FreeBusyStatus;
    use chrono::TimeZone;

    use super::*;

    fn all_day(start: DateTime<Utc>, end: DateTime<Utc>) -> Appointment {
        let mut a = Appointment::new(start, end, FreeBusyStatus::Busy);
        a.all_day = true;
        a
    }

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn all_day_dates_come_from_the_creation_zone_midnights() {
        // Berlin in winter (+1), Berlin in summer (+2), Los Angeles (-7), Hawaii (-10).
        let cases = [
            (
                utc(2026, 3, 24, 23),
                utc(2026, 3, 25, 23),
                date(2026, 3, 25),
                date(2026, 3, 26),
            ),
            (
                utc(2026, 6, 30, 22),
                utc(2026, 7, 1, 22),
                date(2026, 7, 1),
                date(2026, 7, 2),
            ),
            (
                utc(2026, 3, 24, 7),
                utc(2026, 3, 25, 7),
                date(2026, 3, 24),
                date(2026, 3, 25),
            ),
            (
                utc(2026, 3, 24, 10),
                utc(2026, 3, 25, 10),
                date(2026, 3, 24),
                date(2026, 3, 25),
            ),
            // Berlin's fall-back day: 00:00 CEST to 00:00 CET is 25 hours, still one date.
            (
                utc(2026, 10, 24, 22),
                utc(2026, 10, 25, 23),
                date(2026, 10, 25),
                date(2026, 10, 26),
            ),
        ];
        for (start, end, first, after) in cases {
            assert_eq!(
                all_day_dates(&all_day(start, end)),
                Some((first, after)),
                "{start}"
            );
        }
        // Not at a quarter hour: not a midnight anywhere.
        let odd = all_day(
            utc(2026, 3, 24, 7) + Duration::minutes(7),
            utc(2026, 3, 25, 7),
        );
        assert_eq!(all_day_dates(&odd), None);
    }

    #[test]
    fn an_all_day_item_is_laid_on_the_same_dates_of_the_day_zone() {
        // Created in Los Angeles for Tuesday: Tuesday in Berlin, not 08:00 to 08:00.
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        let la = all_day(utc(2026, 3, 24, 7), utc(2026, 3, 25, 7));
        let item = day_item(&la, Some(berlin));
        assert!(item.all_day);
        assert_eq!(item.time_zone.map(|z| z.name()), Some("Etc/GMT+7"));
        assert_eq!(
            item.span(berlin),
            Some((utc(2026, 3, 23, 23), utc(2026, 3, 24, 23)))
        );
        // A DST change inside the item (Berlin's fall-back day): laid on the day zone here.
        let fall_back = all_day(utc(2026, 10, 24, 22), utc(2026, 10, 25, 23));
        let item = day_item(&fall_back, Some(berlin));
        assert!(!item.all_day);
        assert_eq!(
            (item.start, item.end),
            (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
        );
        // Without a day zone the instants stay as sent.
        let item = day_item(&fall_back, None);
        assert!(!item.all_day);
        assert_eq!(
            (item.start, item.end),
            (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
        );
    }
}
