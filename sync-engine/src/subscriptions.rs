//! Change notifications: one watcher per mailbox keeps a subscription alive and resyncs the
//! mailbox when it changes.
//!
//! No change may be lost, so the order is always *subscribe, then fetch*: the first
//! subscription is made by the full sync just before it fetches the mailbox, and whenever a
//! subscription is lost (expired, unknown to the server, a cut stream, a push subscription
//! gone silent) the watcher subscribes again and then resyncs the whole window. A change
//! notification triggers a fetch of the mailbox's window (what changed is whatever differs),
//! coalescing notifications that arrive while a fetch runs.

use std::collections::BTreeMap;

use chrono::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::Notifications;
use crate::engine::Engine;
use crate::ews::wire;
use crate::exchange::{ExchangeError, StreamEvent, Subscription, SubscriptionKind};

/// A subscription lost sooner than this after the previous loss counts as a quick loss.
const QUICK_LOSS: Duration = Duration::minutes(5);

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
    Changed,
    /// Exchange reported the subscription dead (ErrorReadEventsFailed and kin).
    Lost(String),
}

/// What the streaming connections tell one mailbox's watcher.
pub(crate) enum MailboxEvent {
    Changed,
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

impl Engine {
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

    /// Fetches the mailbox's window again (after a change or a lost subscription).
    pub(crate) async fn resync_mailbox(&self, mailbox: &str) {
        let Some(privacy) = self.privacy_of(mailbox) else {
            return;
        };
        let window = self.window_from(self.clock().now());
        let _ = self.sync_calendar(mailbox, privacy, window).await;
    }

    /// The watcher of one mailbox: runs until aborted.
    pub(crate) async fn watch_mailbox(self, mailbox: String) {
        let mut retry = Duration::seconds(30);
        let mut resync = false;
        // Losses in quick succession (a server refusing the stream, a subscription limit)
        // back off instead of spinning through subscribe-resync-fail.
        let mut quick_losses = 0u32;
        let mut last_loss: Option<chrono::DateTime<chrono::Utc>> = None;
        loop {
            let sub = match self.subscription_of(&mailbox) {
                Some(sub) => sub,
                None => match self.subscribe_mailbox(&mailbox).await {
                    Ok(sub) => {
                        resync = true;
                        sub
                    }
                    Err(e) => {
                        self.log().warn(
                            Some(&mailbox),
                            format!(
                                "Cannot subscribe ({e}); next attempt in {} s",
                                retry.num_seconds()
                            ),
                        );
                        self.clock().sleep(retry).await;
                        retry = (retry * 2).min(Duration::minutes(15));
                        continue;
                    }
                },
            };
            retry = Duration::seconds(30);
            if resync {
                // Subscribed first, fetched second: nothing between the two is missed.
                self.resync_mailbox(&mailbox).await;
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
                    let now = self.clock().now();
                    quick_losses = match last_loss {
                        Some(previous) if now - previous < QUICK_LOSS => quick_losses + 1,
                        _ => 0,
                    };
                    last_loss = Some(now);
                    if quick_losses >= 2 {
                        let wait = (Duration::seconds(5) * 2i32.pow(quick_losses.min(8) - 2))
                            .min(Duration::minutes(5));
                        self.log().warn(
                            Some(&mailbox),
                            format!(
                                "{} subscriptions lost within 5 minutes of each other; waiting {} s",
                                quick_losses + 1,
                                wait.num_seconds()
                            ),
                        );
                        self.clock().sleep(wait).await;
                    }
                }
            }
        }
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
                if events.changed {
                    self.log()
                        .debug(Some(mailbox), "Change notification (pull): resyncing");
                    self.resync_mailbox(mailbox).await;
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
                Some(MailboxEvent::Changed) => {
                    while let Ok(MailboxEvent::Changed) = rx.try_recv() {}
                    self.log()
                        .debug(Some(mailbox), "Change notification (streaming): resyncing");
                    self.resync_mailbox(mailbox).await;
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
    pub(crate) async fn stream_hub(self, lifetime: Duration) {
        let minutes = u32::try_from(lifetime.num_minutes().clamp(1, 30)).unwrap_or(30);
        let mut warned = false;
        let mut changed = self.streams_changed();
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
                        "{} streaming subscriptions need {} connections, more than Exchange allows ({MAX_STREAM_CONNECTIONS});                          {} mailboxes are not watched: use notifications.mode = \"pull\" or \"push\"",
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
            tokio::select! {
                Some(done) = connections.join_next() => {
                    if let Ok((group, Err(e))) = done {
                        // The whole connection failed: each of its subscriptions is lost
                        // (re-subscribed and resynced by its watcher).
                        if let Some(back_off) = e.back_off() {
                            self.clock().sleep(back_off).await;
                        }
                        for (id, _) in &group {
                            self.streams().lose(id, &e.to_string());
                        }
                    }
                }
                Ok(()) = changed.changed() => {
                    tokio::time::sleep(SETTLE).await;
                }
            }
            connections.shutdown().await;
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
            StreamEvent::Changed(id) => streams.send(&id, MailboxEvent::Changed),
            StreamEvent::Lost { id, reason } => streams.lose(&id, &reason),
            StreamEvent::Missed(ids) => {
                let ids = if ids.is_empty() { group.to_vec() } else { ids };
                for id in ids {
                    streams.send(&id, MailboxEvent::Changed);
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
                    let mut lost = match signal {
                        PushSignal::Lost(reason) => Some(reason),
                        PushSignal::Changed => None,
                    };
                    while let Ok(signal) = rx.try_recv() {
                        if let PushSignal::Lost(reason) = signal {
                            lost = Some(reason);
                        }
                    }
                    if let Some(reason) = lost {
                        self.unregister_push(&sub.id);
                        return Ended::Lost(reason);
                    }
                    self.log().debug(Some(mailbox), "Change notification (push): resyncing");
                    self.resync_mailbox(mailbox).await;
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
                    } else if n.changed {
                        let _ = tx.send(PushSignal::Changed);
                    }
                }
                None => keep = false,
            }
        }
        Ok(wire::send_notification_result(keep))
    }
}
