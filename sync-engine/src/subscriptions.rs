//! Change notifications: one watcher per mailbox keeps a subscription alive and resyncs the
//! mailbox when it changes.
//!
//! No change may be lost, so the order is always *subscribe, then fetch*: the first
//! subscription is made by the full sync just before it fetches the mailbox, and whenever a
//! subscription is lost (expired, unknown to the server, a cut stream, a push subscription
//! gone silent) the watcher subscribes again and then resyncs the whole window.
//!
//! A change notification fetches what changed ([`Engine::apply_changes`]): the created and
//! modified items by id in one GetItem, deleted items dropped by id, each applied to the
//! mailbox's known appointments. An ItemId need not survive an update, so an item replaces
//! what the engine held under its UID (or id). Some changes are not visible item by item and
//! fetch the mailbox's window (one CalendarView) instead:
//! - a series: Exchange notifies the master's id for any change to the series, one of its
//!   occurrences or exceptions, and only a CalendarView expands the occurrences (expanding
//!   the master's recurrence here would duplicate Exchange's rules for exceptions, deleted
//!   occurrences and time zones);
//! - a deleted or moved-away id the engine does not hold (a series master, whose occurrences
//!   carry other ids, or an item outside the window);
//! - a folder event with no item event (the calendar changed as a whole), a copy, missed
//!   events, more than [`MAX_ITEM_FETCH`] items at once, and privacy mode (no item is read
//!   there, free/busy comes from GetUserAvailability).
//!
//! Notifications arriving while a fetch runs are coalesced into the next one.

use std::collections::BTreeMap;

use chrono::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::Notifications;
use crate::engine::Engine;
use crate::ews::wire;
use crate::exchange::{
    Appointment, ExchangeError, FetchedItem, ItemEvent, StreamEvent, Subscription, SubscriptionKind,
};

/// Most items fetched by id for one notification; beyond, one CalendarView costs less.
pub(crate) const MAX_ITEM_FETCH: usize = 50;

/// A subscription lost sooner than this after the watcher started using it counts as a quick
/// loss; one that lived longer proves the server healthy again and ends any back-off.
const QUICK_LOSS: Duration = Duration::minutes(5);

/// Quick losses in a row that are re-subscribed at once (a cut stream, an early expiry);
/// from the next one on the watcher backs off.
const FREE_QUICK_LOSSES: u32 = 2;

/// The first back-off after [`FREE_QUICK_LOSSES`], doubled for each further quick loss up to
/// [`MAX_LOSS_BACK_OFF`] (each wait scaled by the seeded jitter).
const FIRST_LOSS_BACK_OFF: Duration = Duration::seconds(5);
const MAX_LOSS_BACK_OFF: Duration = Duration::minutes(15);

/// The wait before re-subscribing after `quick_losses` quick losses in a row, without jitter:
/// none for the first [`FREE_QUICK_LOSSES`], then 5 s, 10 s, 20 s ... up to 15 min. It grows
/// with the count, not with the time since the previous loss, so the waits themselves can
/// never make the losses look slow and restart the schedule (the loop issue 7 found: a
/// server failing every GetStreamingEvents was re-subscribed and resynced ~54 times an hour
/// per mailbox).
pub(crate) fn loss_back_off(quick_losses: u32) -> Duration {
    match quick_losses.checked_sub(FREE_QUICK_LOSSES + 1) {
        None => Duration::zero(),
        Some(doublings) => {
            (FIRST_LOSS_BACK_OFF * 2i32.pow(doublings.min(10))).min(MAX_LOSS_BACK_OFF)
        }
    }
}

/// A streaming connection that the server ends normally (`ConnectionStatus` `Closed`) sooner
/// than this after it opened, on the engine's clock, counts as a quick end. Exchange ends a
/// connection normally only once its ConnectionTimeout (at least 1 minute) has passed, so a
/// connection closed within seconds comes from a server or proxy that will close the next one
/// just as fast: reopening at once would spin in a tight request loop.
const QUICK_STREAM_END: Duration = Duration::seconds(10);

/// The wait after the first quick end of streaming connections, doubled for each further one
/// in a row up to [`MAX_STREAM_END_BACK_OFF`] (each wait scaled by the seeded jitter).
const FIRST_STREAM_END_BACK_OFF: Duration = Duration::seconds(1);
const MAX_STREAM_END_BACK_OFF: Duration = Duration::seconds(60);

/// The wait before reopening streaming connections after `quick_ends` quick normal ends in a
/// row, without jitter: none before the first, then 1 s, 2 s, 4 s ... up to 60 s. Like
/// [`loss_back_off`] it grows with the count, so the waits cannot make the ends look slow.
pub(crate) fn stream_end_back_off(quick_ends: u32) -> Duration {
    match quick_ends.checked_sub(1) {
        None => Duration::zero(),
        Some(doublings) => {
            (FIRST_STREAM_END_BACK_OFF * 2i32.pow(doublings.min(10))).min(MAX_STREAM_END_BACK_OFF)
        }
    }
}

/// Subscriptions per GetStreamingEvents connection (Exchange's limit is 200).
pub(crate) const STREAM_IDS_PER_CONNECTION: usize = 200;
/// Open streaming connections per service account (HangingConnectionLimit: 10 on Exchange
/// 2016/2019 and Exchange Online).
pub(crate) const MAX_STREAM_CONNECTIONS: usize = 10;

/// How long a burst of (re)registrations may take before the streaming connections are
/// rebuilt (tokio time: this paces reconnects, it is not part of the simulated world).
const SETTLE: std::time::Duration = std::time::Duration::from_millis(200);

/// Why a watcher's subscription ended.
enum Ended {
    /// The subscription is gone or its stream was cut: subscribe again and resync.
    Lost(String),
}

/// What the push listener tells one mailbox's watcher.
pub(crate) enum PushSignal {
    Changed(Vec<ItemEvent>),
    /// Exchange reported the subscription dead (ErrorReadEventsFailed and kin).
    Lost(String),
}

/// What the streaming connections tell one mailbox's watcher.
pub(crate) enum MailboxEvent {
    Changed(Vec<ItemEvent>),
    Lost(String),
}

/// The streaming subscriptions the connections serve: id -> (mailbox, watcher channel).
#[derive(Default)]
pub(crate) struct StreamRegistry {
    by_id: BTreeMap<String, (String, mpsc::UnboundedSender<MailboxEvent>)>,
}

impl StreamRegistry {
    fn register(&mut self, id: &str, mailbox: &str, tx: mpsc::UnboundedSender<MailboxEvent>) {
        self.by_id.insert(id.to_string(), (mailbox.to_string(), tx));
    }

    /// (id, mailbox) pairs, grouped by mailbox order so a connection's anchor is stable.
    fn snapshot(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .by_id
            .iter()
            .map(|(id, (m, _))| (id.clone(), m.clone()))
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1));
        all
    }

    fn send(&self, id: &str, event: MailboxEvent) {
        if let Some((_, tx)) = self.by_id.get(id) {
            let _ = tx.send(event);
        }
    }

    fn lose(&mut self, id: &str, reason: &str) {
        if let Some((_, tx)) = self.by_id.remove(id) {
            let _ = tx.send(MailboxEvent::Lost(reason.to_string()));
        }
    }
}

/// What one batch of events asks the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Only status-like events: nothing changed.
    Nothing,
    /// Fetch the mailbox's window (why, for the log).
    Window(&'static str),
    /// Fetch these items by id and drop those.
    Items {
        fetch: Vec<String>,
        delete: Vec<String>,
    },
}

/// Reduces a batch of events to a [`Plan`]; `known` tells whether the engine holds an
/// appointment with that id. The last event of an id wins (created then deleted: deleted).
pub(crate) fn plan(changes: &[ItemEvent], known: impl Fn(&str) -> bool) -> Plan {
    #[derive(PartialEq)]
    enum Act {
        Fetch,
        Delete,
    }
    let mut acts: BTreeMap<&str, Act> = BTreeMap::new();
    let mut folder = false;
    for change in changes {
        match change {
            ItemEvent::Changed(id) => {
                acts.insert(id, Act::Fetch);
            }
            ItemEvent::Deleted(id) => {
                // An unknown id may be a series master (whose occurrences carry other ids)
                // or a revision of an item the engine holds under an older id (an ItemId
                // need not survive an update, and a deleted item cannot be asked for its
                // UID), even when this batch created or changed it.
                if !known(id) {
                    return Plan::Window("a deleted item the engine does not hold");
                }
                acts.insert(id, Act::Delete);
            }
            ItemEvent::Moved { old, .. } => {
                // Moved out of the calendar (to Deleted Items, say): drop it. Moved in, or
                // an unknown item: only the view can tell.
                if !known(old) {
                    return Plan::Window("an item moved into or within the calendar");
                }
                acts.insert(old, Act::Delete);
            }
            ItemEvent::Folder => folder = true,
            ItemEvent::Resync => return Plan::Window("events not applicable item by item"),
        }
    }
    if acts.is_empty() {
        return if folder {
            Plan::Window("the calendar folder changed")
        } else {
            Plan::Nothing
        };
    }
    let (fetch, delete): (Vec<_>, Vec<_>) = acts.into_iter().partition(|(_, a)| *a == Act::Fetch);
    if fetch.len() > MAX_ITEM_FETCH {
        return Plan::Window("many items changed at once");
    }
    Plan::Items {
        fetch: fetch.into_iter().map(|(id, _)| id.to_string()).collect(),
        delete: delete.into_iter().map(|(id, _)| id.to_string()).collect(),
    }
}

/// Removes the appointments `id` names: the one with that id and, when it has a UID, every
/// appointment sharing it.
fn remove_item(appointments: &mut Vec<Appointment>, id: &str) {
    let uid = appointments
        .iter()
        .find(|a| a.id.as_deref() == Some(id))
        .and_then(|a| a.uid.clone());
    appointments.retain(|a| a.id.as_deref() != Some(id) && (uid.is_none() || a.uid != uid));
}

impl Engine {
    /// Applies one batch of change events to `mailbox` (see the module docs): fetches the
    /// changed items, drops the deleted ones, or fetches the window when items cannot tell.
    /// Returns false when the fetch failed.
    pub(crate) async fn apply_changes(
        &self,
        mailbox: &str,
        mode: &str,
        changes: &[ItemEvent],
    ) -> bool {
        let Some(privacy) = self.privacy_of(mailbox) else {
            return true;
        };
        let known = |id: &str| {
            self.read()
                .mailboxes
                .get(mailbox)
                .is_some_and(|m| m.appointments.iter().any(|a| a.id.as_deref() == Some(id)))
        };
        let plan = if privacy {
            Plan::Window("privacy mode reads no item")
        } else {
            plan(changes, known)
        };
        let (fetch, delete) = match plan {
            Plan::Nothing => return true,
            Plan::Window(why) => {
                self.log().debug(
                    Some(mailbox),
                    format!("Change notification ({mode}): {why}; fetching the window"),
                );
                return self.resync_mailbox(mailbox).await;
            }
            Plan::Items { fetch, delete } => (fetch, delete),
        };
        self.log().debug(
            Some(mailbox),
            format!(
                "Change notification ({mode}): fetching {} changed, dropping {} deleted items",
                fetch.len(),
                delete.len()
            ),
        );
        let fetched = if fetch.is_empty() {
            Vec::new()
        } else {
            let exchange = self.exchange();
            match self
                .call("GetItem", Some(mailbox), || {
                    exchange.get_items(mailbox, &fetch)
                })
                .await
            {
                Ok(items) => items,
                Err(e) => {
                    // The change must not be lost: the window holds it too.
                    self.log().warn(
                        Some(mailbox),
                        format!("Cannot fetch the changed items ({e}); fetching the window"),
                    );
                    return self.resync_mailbox(mailbox).await;
                }
            }
        };
        if fetched
            .iter()
            .any(|f| matches!(f, FetchedItem::Series { .. }))
        {
            self.log().debug(
                Some(mailbox),
                "A series changed: fetching the window for its occurrences",
            );
            return self.resync_mailbox(mailbox).await;
        }
        let applied = self.update_appointments(mailbox, |appointments, window| {
            for id in &delete {
                remove_item(appointments, id);
            }
            for (requested, item) in fetch.iter().zip(fetched) {
                match item {
                    FetchedItem::Single(a) => {
                        remove_item(appointments, requested);
                        if let Some(id) = &a.id {
                            remove_item(appointments, id);
                        }
                        if a.uid.is_some() {
                            appointments.retain(|b| b.uid != a.uid);
                        }
                        // The known appointments are the view of the synced window: keep
                        // the item when that view would return it, by CalendarView's own
                        // overlap rule (EWS.md: an item ending exactly at StartDate is
                        // returned).
                        if a.start < window.end && a.end >= window.start {
                            appointments.push(a);
                        }
                    }
                    FetchedItem::Missing { id } => remove_item(appointments, &id),
                    FetchedItem::Series { .. } => {}
                }
            }
        });
        // Never synced (the first fetch failed): there is no window to edit yet.
        applied || self.resync_mailbox(mailbox).await
    }

    /// The subscription mode the configuration asks for.
    pub(crate) fn subscription_kind(&self) -> SubscriptionKind {
        match &self.config().notifications {
            Notifications::Pull { interval } => SubscriptionKind::Pull {
                // The server drops a pull subscription not polled for `timeout` minutes.
                timeout_minutes: u32::try_from((interval.num_minutes() * 3).clamp(10, 1440))
                    .unwrap_or(10),
            },
            Notifications::Streaming { .. } => SubscriptionKind::Streaming,
            Notifications::Push {
                callback_url,
                status_frequency,
                ..
            } => SubscriptionKind::Push {
                url: callback_url.clone(),
                status_frequency_minutes: u32::try_from(
                    status_frequency.num_minutes().clamp(1, 1440),
                )
                .unwrap_or(1),
            },
        }
    }

    /// Subscribes `mailbox` and records the subscription; logs and records a failure.
    pub(crate) async fn subscribe_mailbox(
        &self,
        mailbox: &str,
    ) -> Result<Subscription, ExchangeError> {
        self.log().info(
            Some(mailbox),
            format!("Subscribing to availability: {mailbox}"),
        );
        let kind = self.subscription_kind();
        let exchange = self.exchange();
        let result = self
            .call("Subscribe", Some(mailbox), || {
                exchange.subscribe(mailbox, &kind)
            })
            .await;
        match &result {
            Ok(sub) => {
                self.set_subscription(mailbox, Some(sub.clone()));
                if matches!(kind, SubscriptionKind::Push { .. }) {
                    // Route this subscription's posts at once: Exchange may push before the
                    // watcher runs, and an unknown id would be answered Unsubscribe.
                    let (tx, rx) = mpsc::unbounded_channel();
                    self.register_push(mailbox, &sub.id, tx);
                    self.park_push_receiver(mailbox, rx);
                }
            }
            Err(e) => self.record_failure(mailbox, "subscribe", e, self.clock().now()),
        }
        result
    }

    /// Fetches the mailbox's window again (after a change or a lost subscription); false
    /// when the fetch failed (recorded in the mailbox's status).
    pub(crate) async fn resync_mailbox(&self, mailbox: &str) -> bool {
        let Some(privacy) = self.privacy_of(mailbox) else {
            return true;
        };
        let window = self.window_from(self.clock().now());
        self.sync_calendar(mailbox, privacy, window).await.is_ok()
    }

    /// Applies a batch of change events. A fetch that fails for good (retries spent, or an
    /// error that is not transient) ends in [`Engine::sync_calendar`] (every failure path of
    /// [`Engine::apply_changes`] falls back to the window), which leaves the mailbox marked
    /// and fetches it again on a back-off schedule until it succeeds
    /// ([`Engine::schedule_refetch`]): nothing else would bring the change (Exchange notifies
    /// once), and this watcher goes on reading notifications meanwhile.
    pub(crate) async fn apply_changes_until_done(
        &self,
        mailbox: &str,
        mode: &str,
        changes: &[ItemEvent],
    ) {
        if !self.apply_changes(mailbox, mode, changes).await {
            self.log().warn(
                Some(mailbox),
                format!("The fetch after a change notification ({mode}) failed; it is retried"),
            );
        }
    }

    /// The watcher of one mailbox: runs until aborted.
    pub(crate) async fn watch_mailbox(self, mailbox: String) {
        let mut retry = Duration::seconds(30);
        let mut resync = false;
        // Subscriptions lost soon after they were made (a server refusing the stream, a
        // subscription limit) back off instead of spinning through subscribe-resync-fail.
        let mut quick_losses = 0u32;
        loop {
            let sub = match self.subscription_of(&mailbox) {
                Some(sub) => sub,
                None => match self.subscribe_mailbox(&mailbox).await {
                    Ok(sub) => {
                        resync = true;
                        sub
                    }
                    Err(e) => {
                        let wait = self.jittered(retry);
                        self.log().warn(
                            Some(&mailbox),
                            format!(
                                "Cannot subscribe ({e}); next attempt in {} s",
                                wait.num_seconds()
                            ),
                        );
                        self.clock().sleep(wait).await;
                        retry = (retry * 2).min(MAX_LOSS_BACK_OFF);
                        continue;
                    }
                },
            };
            // Measured from here, after any back-off: how long the server kept it.
            let watched_from = self.clock().now();
            retry = Duration::seconds(30);
            if resync {
                // Subscribed first, fetched second: nothing between the two is missed (and
                // a failed fetch is tried again until it succeeds).
                self.apply_changes_until_done(&mailbox, "re-subscribed", &[ItemEvent::Resync])
                    .await;
                resync = false;
            }
            let ended = match self.config().notifications.clone() {
                Notifications::Pull { interval } => self.pull(&mailbox, sub, interval).await,
                Notifications::Streaming { .. } => self.stream(&mailbox, sub).await,
                Notifications::Push {
                    status_frequency, ..
                } => self.push_watch(&mailbox, sub, status_frequency).await,
            };
            match ended {
                Ended::Lost(reason) => {
                    self.log().warn(
                        Some(&mailbox),
                        format!("Subscription lost ({reason}); re-subscribing and resyncing"),
                    );
                    // With the subscription cleared, the next turn subscribes and resyncs.
                    self.set_subscription(&mailbox, None);
                    quick_losses = if self.clock().now() - watched_from < QUICK_LOSS {
                        quick_losses + 1
                    } else {
                        0
                    };
                    let back_off = loss_back_off(quick_losses);
                    if back_off > Duration::zero() {
                        let wait = self.jittered(back_off);
                        self.log().warn(
                            Some(&mailbox),
                            format!(
                                "{quick_losses} subscriptions in a row lost within 5 minutes; waiting {} s",
                                wait.num_seconds()
                            ),
                        );
                        self.clock().sleep(wait).await;
                    }
                }
            }
        }
    }

    /// `wait` scaled by the seeded jitter, so mailboxes that lost their subscriptions
    /// together (one refused connection) do not come back in lockstep.
    fn jittered(&self, wait: Duration) -> Duration {
        Duration::milliseconds(wait.num_milliseconds() * self.jitter_permille() / 1000)
    }

    async fn pull(&self, mailbox: &str, mut sub: Subscription, interval: Duration) -> Ended {
        let exchange = self.exchange();
        loop {
            self.clock().sleep(interval).await;
            loop {
                let current = sub.clone();
                let events = match self
                    .call("GetEvents", Some(mailbox), || {
                        exchange.get_events(mailbox, &current)
                    })
                    .await
                {
                    Ok(events) => events,
                    Err(e) => return Ended::Lost(e.to_string()),
                };
                if events.watermark.is_some() {
                    sub.watermark = events.watermark.clone();
                    self.set_subscription(mailbox, Some(sub.clone()));
                }
                if !events.changes.is_empty() {
                    self.apply_changes_until_done(mailbox, "pull", &events.changes)
                        .await;
                }
                if !events.more {
                    break;
                }
            }
        }
    }

    /// Streaming mode: the mailbox's subscription joins the shared streaming connections
    /// (see [`Engine::stream_hub`]); this waits for its changes or its loss.
    async fn stream(&self, mailbox: &str, sub: Subscription) -> Ended {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.streams().register(&sub.id, mailbox, tx);
        self.inner_streams_changed();
        loop {
            match rx.recv().await {
                Some(MailboxEvent::Changed(mut changes)) => {
                    let mut lost = None;
                    while let Ok(event) = rx.try_recv() {
                        match event {
                            MailboxEvent::Changed(more) => changes.extend(more),
                            MailboxEvent::Lost(reason) => lost = Some(reason),
                        }
                    }
                    if let Some(reason) = lost {
                        // The resync after re-subscribing covers these changes too.
                        return Ended::Lost(reason);
                    }
                    self.apply_changes_until_done(mailbox, "streaming", &changes)
                        .await;
                }
                Some(MailboxEvent::Lost(reason)) => return Ended::Lost(reason),
                None => return Ended::Lost("streaming connection gone".into()),
            }
        }
    }

    /// Keeps GetStreamingEvents connections open for every registered subscription, up to
    /// [`STREAM_IDS_PER_CONNECTION`] subscriptions per connection (as Exchange allows) and
    /// [`MAX_STREAM_CONNECTIONS`] connections (Exchange's HangingConnectionLimit). The set of
    /// connections is rebuilt when subscriptions come or go, and a connection is re-opened
    /// when the server closes it; events raised in between are queued by the server on the
    /// subscription, so none is lost.
    ///
    /// A normal end (`Closed`) after a connection's lifetime reopens it at once. Connections
    /// that end normally within [`QUICK_STREAM_END`] are reopened after a back-off
    /// ([`stream_end_back_off`]), reset once a set of connections lasts; a change in the
    /// subscriptions still rebuilds the connections at once, back-off or not.
    pub(crate) async fn stream_hub(self, lifetime: Duration) {
        let minutes = u32::try_from(lifetime.num_minutes().clamp(1, 30)).unwrap_or(30);
        let mut warned = false;
        let mut changed = self.streams_changed();
        // Quick normal ends in a row (see QUICK_STREAM_END).
        let mut quick_ends = 0u32;
        loop {
            changed.borrow_and_update();
            let all = self.streams().snapshot();
            if all.is_empty() {
                if changed.changed().await.is_err() {
                    return;
                }
                tokio::time::sleep(SETTLE).await;
                continue;
            }
            let groups: Vec<Vec<(String, String)>> = all
                .chunks(STREAM_IDS_PER_CONNECTION)
                .map(<[(String, String)]>::to_vec)
                .collect();
            if groups.len() > MAX_STREAM_CONNECTIONS && !warned {
                warned = true;
                self.log().error(
                    None,
                    format!(
                        "{} streaming subscriptions need {} connections, more than Exchange allows ({MAX_STREAM_CONNECTIONS}); {} mailboxes are not watched: use notifications.mode = \"pull\" or \"push\"",
                        all.len(),
                        groups.len(),
                        all.len() - MAX_STREAM_CONNECTIONS * STREAM_IDS_PER_CONNECTION
                    ),
                );
            }
            let mut connections = JoinSet::new();
            for group in groups.into_iter().take(MAX_STREAM_CONNECTIONS) {
                let engine = self.clone();
                connections.spawn(async move {
                    let result = engine.stream_group(&group, minutes).await;
                    (group, result)
                });
            }
            let opened = self.clock().now();
            let mut ended_quickly = false;
            // How long the connections lasted, taken before any wait below.
            let lasted;
            tokio::select! {
                Some(done) = connections.join_next() => {
                    lasted = self.clock().now() - opened;
                    match done {
                        Ok((group, Err(e))) => {
                            // The whole connection failed: each of its subscriptions is lost
                            // (re-subscribed and resynced by its watcher).
                            if let Some(back_off) = e.back_off() {
                                self.clock().sleep(back_off).await;
                            }
                            for (id, _) in &group {
                                self.streams().lose(id, &e.to_string());
                            }
                        }
                        Ok((_, Ok(()))) => ended_quickly = lasted < QUICK_STREAM_END,
                        Err(_) => {}
                    }
                }
                Ok(()) = changed.changed() => {
                    lasted = self.clock().now() - opened;
                    tokio::time::sleep(SETTLE).await;
                }
            }
            connections.shutdown().await;
            if ended_quickly {
                quick_ends = quick_ends.saturating_add(1);
                if quick_ends == 1 {
                    // Once per episode, not per attempt.
                    self.log().warn(
                        None,
                        format!(
                            "A streaming connection was closed by the server within {} s of \
                             opening; reopening with a back-off from {} s up to {} s until one lasts",
                            QUICK_STREAM_END.num_seconds(),
                            FIRST_STREAM_END_BACK_OFF.num_seconds(),
                            MAX_STREAM_END_BACK_OFF.num_seconds()
                        ),
                    );
                }
                let wait = self.jittered(stream_end_back_off(quick_ends));
                tokio::select! {
                    () = self.clock().sleep(wait) => {}
                    r = changed.changed() => {
                        if r.is_err() {
                            return;
                        }
                        tokio::time::sleep(SETTLE).await;
                    }
                }
            } else if lasted >= QUICK_STREAM_END {
                // These connections lasted (whatever ended them): the server keeps streams.
                if quick_ends > 0 {
                    self.log().info(
                        None,
                        format!(
                            "Streaming connections last again after {quick_ends} closed at once"
                        ),
                    );
                }
                quick_ends = 0;
            }
        }
    }

    async fn stream_group(
        &self,
        group: &[(String, String)],
        minutes: u32,
    ) -> Result<(), ExchangeError> {
        let exchange = self.exchange();
        let anchor = group.first().map(|(_, m)| m.clone()).unwrap_or_default();
        let ids: Vec<String> = group.iter().map(|(id, _)| id.clone()).collect();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let stream = exchange.stream_events(&anchor, &ids, minutes, tx);
        tokio::pin!(stream);
        loop {
            tokio::select! {
                result = &mut stream => {
                    while let Ok(event) = rx.try_recv() {
                        self.dispatch(&ids, event);
                    }
                    return result;
                }
                Some(event) = rx.recv() => self.dispatch(&ids, event),
            }
        }
    }

    fn dispatch(&self, group: &[String], event: StreamEvent) {
        let mut streams = self.streams();
        match event {
            StreamEvent::Changed { id, changes } => {
                streams.send(&id, MailboxEvent::Changed(changes));
            }
            StreamEvent::Lost { id, reason } => streams.lose(&id, &reason),
            StreamEvent::Missed(ids) => {
                let ids = if ids.is_empty() { group.to_vec() } else { ids };
                for id in ids {
                    streams.send(&id, MailboxEvent::Changed(vec![ItemEvent::Resync]));
                }
            }
        }
    }

    async fn push_watch(
        &self,
        mailbox: &str,
        sub: Subscription,
        status_frequency: Duration,
    ) -> Ended {
        let mut rx = match self.take_push_receiver(mailbox) {
            Some(rx) => rx,
            None => {
                let (tx, rx) = mpsc::unbounded_channel();
                self.register_push(mailbox, &sub.id, tx);
                rx
            }
        };
        let silence = status_frequency * 2 + Duration::minutes(1);
        loop {
            let heard = self
                .push_heard(mailbox)
                .unwrap_or_else(|| self.clock().now());
            let deadline = heard + silence;
            tokio::select! {
                () = self.clock().sleep_until(deadline) => {
                    if self.push_heard(mailbox).is_none_or(|h| h + silence <= self.clock().now()) {
                        self.unregister_push(&sub.id);
                        return Ended::Lost(format!(
                            "no push notification for {} s",
                            silence.num_seconds()
                        ));
                    }
                }
                Some(signal) = rx.recv() => {
                    let mut changes = Vec::new();
                    let mut lost = None;
                    let mut next = Some(signal);
                    while let Some(signal) = next {
                        match signal {
                            PushSignal::Lost(reason) => lost = Some(reason),
                            PushSignal::Changed(more) => changes.extend(more),
                        }
                        next = rx.try_recv().ok();
                    }
                    if let Some(reason) = lost {
                        self.unregister_push(&sub.id);
                        return Ended::Lost(reason);
                    }
                    self.apply_changes_until_done(mailbox, "push", &changes).await;
                }
            }
        }
    }

    /// Handles one push `SendNotification` body and returns the `SendNotificationResult`
    /// to answer: `OK` for subscriptions the engine holds, `Unsubscribe` for any other.
    pub fn push_notification(&self, body: &[u8]) -> Result<Vec<u8>, ExchangeError> {
        let notifications = wire::parse_send_notification(body)?;
        let now = self.clock().now();
        let mut keep = true;
        for n in notifications {
            match self.push_target(&n.subscription_id) {
                Some((mailbox, tx)) => {
                    self.set_push_heard(&mailbox, now);
                    if let Some(reason) = n.lost {
                        // Exchange says this subscription is dead: re-subscribe now rather
                        // than after the silence check.
                        let _ = tx.send(PushSignal::Lost(reason));
                        keep = false;
                    } else if !n.changes.is_empty() {
                        let _ = tx.send(PushSignal::Changed(n.changes));
                    }
                }
                None => keep = false,
            }
        }
        Ok(wire::send_notification_result(keep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemEvent::{Changed, Deleted, Folder, Moved, Resync};

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn known(id: &str) -> bool {
        id.starts_with("known")
    }

    #[test]
    fn quick_losses_back_off_by_count_up_to_fifteen_minutes() {
        let waits: Vec<i64> = (0..=14).map(|n| loss_back_off(n).num_seconds()).collect();
        assert_eq!(
            waits,
            [
                0, 0, 0, 5, 10, 20, 40, 80, 160, 320, 640, 900, 900, 900, 900
            ]
        );
        assert_eq!(loss_back_off(u32::MAX), Duration::minutes(15));
    }

    #[test]
    fn quick_stream_ends_back_off_from_one_second_up_to_a_minute() {
        let waits: Vec<i64> = (0..=9)
            .map(|n| stream_end_back_off(n).num_seconds())
            .collect();
        assert_eq!(waits, [0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(stream_end_back_off(u32::MAX), Duration::seconds(60));
    }

    #[test]
    fn item_events_become_fetches_and_drops_with_the_last_event_winning() {
        let batch = [
            Changed("new".into()),
            Changed("known-1".into()),
            Folder,
            Deleted("known-2".into()),
            Changed("known-2".into()),
            Changed("known-3".into()),
            Deleted("known-3".into()),
        ];
        assert_eq!(
            plan(&batch, known),
            Plan::Items {
                fetch: ids(&["known-1", "known-2", "new"]),
                delete: ids(&["known-3"]),
            }
        );
    }

    #[test]
    fn what_items_cannot_tell_fetches_the_window() {
        // A deleted id the engine does not hold (a series master, say), even one this
        // batch changed (the engine may hold it under an older revision's id).
        assert!(matches!(
            plan(&[Deleted("master".into())], known),
            Plan::Window(_)
        ));
        assert!(matches!(
            plan(&[Changed("x".into()), Deleted("x".into())], known),
            Plan::Window(_)
        ));
        // A move of an unknown item (into the calendar).
        assert!(matches!(
            plan(
                &[Moved {
                    old: "elsewhere".into(),
                    new: "x".into()
                }],
                known
            ),
            Plan::Window(_)
        ));
        assert!(matches!(
            plan(&[Changed("a".into()), Resync], known),
            Plan::Window(_)
        ));
        // A folder event alone: the calendar changed as a whole.
        assert!(matches!(plan(&[Folder], known), Plan::Window(_)));
        let many: Vec<ItemEvent> = (0..=MAX_ITEM_FETCH)
            .map(|i| Changed(format!("i{i}")))
            .collect();
        assert!(matches!(plan(&many, known), Plan::Window(_)));
    }

    #[test]
    fn a_known_item_moved_away_is_dropped_and_nothing_is_nothing() {
        assert_eq!(
            plan(
                &[Moved {
                    old: "known-1".into(),
                    new: "in-trash".into()
                }],
                known
            ),
            Plan::Items {
                fetch: Vec::new(),
                delete: ids(&["known-1"]),
            }
        );
        assert_eq!(plan(&[], known), Plan::Nothing);
    }

    #[test]
    fn removing_an_item_takes_every_appointment_of_its_uid() {
        let t = chrono::DateTime::from_timestamp(1_774_000_000, 0).unwrap_or_default();
        let appt = |id: &str, uid: Option<&str>| {
            let mut a = Appointment::new(t, t, calendar_core::FreeBusyStatus::Busy);
            a.id = Some(id.into());
            a.uid = uid.map(str::to_string);
            a
        };
        let mut all = vec![
            appt("a", Some("u1")),
            appt("a-old-revision", Some("u1")),
            appt("b", Some("u2")),
            appt("c", None),
        ];
        remove_item(&mut all, "a");
        remove_item(&mut all, "c");
        remove_item(&mut all, "unknown");
        let left: Vec<_> = all.iter().filter_map(|a| a.id.as_deref()).collect();
        assert_eq!(left, ["b"]);
    }
}
