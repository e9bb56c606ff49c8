//! Push notifications (EWS.md §6.3): one sender task per push subscription POSTs
//! `SendNotification` to the subscriber's URL and reads `SendNotificationResult`.
//!
//! - Events are sent as soon as the store records them; everything pending (up to 50) shares
//!   one notification, and the next notification goes out only after the previous one was
//!   acknowledged, so events stay in order. `PreviousWatermark` is the watermark the
//!   subscription stood at, each event carries its own: the chain has no gaps.
//! - With no events for StatusFrequency minutes since the last acknowledged notification, a
//!   `StatusEvent` heartbeat is sent (watermark and previous watermark both current).
//! - `OK` keeps the subscription, `Unsubscribe` ends it (the only way to end a push
//!   subscription besides failure).
//! - A failing listener (connection refused, non-200, unreadable reply, no reply within
//!   [`NotifyConfig::push_timeout`](super::NotifyConfig)) is retried 30 s after the first
//!   failure, then at 60 s, 120 s, … after it; when the next retry would fall later than
//!   StatusFrequency after the first failure the subscription is dropped. Retries carry
//!   everything pending by then, from the same previous watermark.
//!
//! All waiting is on the shared clock, so a paused tokio runtime runs heartbeats, retries and
//! drops at their exact virtual instants. The task holds only a weak reference to the
//! registry while it waits: dropping the server ends it.

use std::sync::{Arc, OnceLock, Weak};

use chrono::{DateTime, Duration, Utc};
use ews_proto::notification::{
    Event, EventType, Notification, SendNotification, SendNotificationPayload,
    SendNotificationResult, SubscriptionStatus,
};
use ews_proto::response::ResponseMessage;
use ews_proto::{
    Envelope, ExchangeVersion, Headers, Limits, MessageXml, ResponseCode, ResponseStatus,
    write_envelope,
};
use serde::Serialize;

use super::{
    Batch, Channel, Kind, Life, Notifications, NotifyFault, Record, Watermark, lock, summary,
};
use crate::world::ServerVersion;

/// What a listener's answer meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum PushOutcome {
    /// `SubscriptionStatus` OK.
    Ok,
    /// `SubscriptionStatus` Unsubscribe: the subscription ends.
    Unsubscribe,
    /// No usable answer; retried on schedule.
    Failed { reason: String },
}

/// Why a push attempt failed.
#[derive(Debug, thiserror::Error)]
enum PushError {
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("no answer within {0} s")]
    Timeout(i64),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("connection refused (notification fault)")]
    Refused,
    #[error("unreadable SendNotificationResult: {0}")]
    BadReply(String),
}

/// `RequestServerVersion` Exchange writes on SendNotification for a profile (EWS.md §6.3).
fn header_version(server: ServerVersion) -> &'static str {
    match server {
        ServerVersion::Exchange2010Sp2 | ServerVersion::Exchange2010Sp3 => "Exchange2010_SP2",
        ServerVersion::Exchange2013 => "Exchange2013",
        ServerVersion::Exchange2016 | ServerVersion::Exchange2019 => "Exchange2016",
    }
}

/// The SendNotification request body Exchange POSTs.
pub(crate) fn send_notification_body(server: ServerVersion, n: Notification) -> Vec<u8> {
    let headers = Headers::request(ExchangeVersion::parse(header_version(server)));
    let body = SendNotification {
        messages: vec![ResponseMessage::success(SendNotificationPayload {
            notification: Some(n),
        })],
    };
    write_envelope("soap11", &headers, |w| body.write(w))
}

/// The `ErrorReadEventsFailed` push after which a subscription is dead (EWS.md 6.3).
pub(crate) fn read_events_failed_body(server: ServerVersion, id: &str) -> Vec<u8> {
    let headers = Headers::request(ExchangeVersion::parse(header_version(server)));
    let status = ResponseStatus::error(
        ResponseCode::parse("ErrorReadEventsFailed"),
        "Unable to retrieve events for this subscription. The subscription must be recreated.",
    )
    .with_message_xml(MessageXml::value("SubscriptionId", id));
    let body = SendNotification {
        messages: vec![ResponseMessage {
            status,
            payload: SendNotificationPayload { notification: None },
        }],
    };
    write_envelope("soap11", &headers, |w| body.write(w))
}

fn http_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        // Fails only if another provider was installed first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .pool_max_idle_per_host(4)
            .build()
            .unwrap_or_default()
    })
}

/// Reads a listener's reply.
fn read_result(status: u16, body: &[u8]) -> Result<SubscriptionStatus, PushError> {
    if status != 200 {
        return Err(PushError::Status(status));
    }
    let env = Envelope::parse(body, &Limits::default())
        .map_err(|e| PushError::BadReply(e.to_string()))?;
    if env.body.name != "SendNotificationResult" {
        return Err(PushError::BadReply(format!(
            "expected SendNotificationResult, got {}",
            env.body.qname()
        )));
    }
    SendNotificationResult::from_xml(&env.body)
        .map(|r| r.subscription_status)
        .map_err(|e| PushError::BadReply(e.to_string()))
}

async fn post(
    clock: &ews_clock::Clock,
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<SubscriptionStatus, PushError> {
    let request = async {
        let resp = http_client()
            .post(url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header(
                "SOAPAction",
                "\"http://schemas.microsoft.com/exchange/services/2006/messages/SendNotification\"",
            )
            .body(body)
            .send()
            .await
            .map_err(|source| PushError::Unreachable {
                url: url.to_owned(),
                source,
            })?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|source| PushError::Unreachable {
                url: url.to_owned(),
                source,
            })?;
        read_result(status, &bytes)
    };
    let deadline = clock.now() + timeout;
    tokio::select! {
        r = request => r,
        () = clock.sleep_until(deadline) => Err(PushError::Timeout(timeout.num_seconds())),
    }
}

/// What the sender needs to know about its subscription right now.
struct Plan {
    url: String,
    status_frequency: Duration,
    mailbox: String,
    cursor: Watermark,
}

/// Consecutive failures of one notification.
#[derive(Debug, Clone, Copy)]
struct Failing {
    since: DateTime<Utc>,
    attempts: u32,
}

impl Failing {
    /// 30 s after the first failure, then doubling: 30 s · 2^(attempts - 1).
    fn next_retry(&self, first_retry: Duration) -> DateTime<Utc> {
        let factor = 1i32 << (self.attempts.saturating_sub(1).min(20));
        self.since + first_retry * factor
    }
}

impl Notifications {
    /// The subscription's state and what is pending for it; `None` once it ended.
    fn push_plan(&self, id: &str) -> Option<(Plan, Batch)> {
        let mut subs = lock(&self.subs);
        let sub = subs.get_mut(id)?;
        let (url, status_frequency) = match (&sub.kind, sub.life) {
            (
                Kind::Push {
                    url,
                    status_frequency,
                },
                Life::Active,
            ) => (url.clone(), *status_frequency),
            _ => return None,
        };
        let batch = self.read(
            &sub.scope,
            sub.cursor,
            self.config.max_events_per_get,
            &mut sub.quiet,
        );
        let plan = Plan {
            url,
            status_frequency,
            mailbox: sub.scope.mailbox.clone(),
            cursor: sub.cursor,
        };
        Some((plan, batch))
    }

    fn push_acked(&self, id: &str, to: Watermark) {
        if let Some(sub) = lock(&self.subs).get_mut(id) {
            sub.cursor = to;
        }
    }

    /// Ends a push subscription (listener said Unsubscribe, or it was dropped).
    fn end_push(&self, id: &str, record: Record) {
        lock(&self.subs).remove(id);
        self.record(id, record);
        self.ended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Starts the sender task of push subscription `id`.
    pub(crate) fn spawn_push(self: &Arc<Self>, id: String) {
        tokio::spawn(sender(Arc::downgrade(self), id));
    }
}

/// The sender task of one push subscription.
async fn sender(weak: Weak<Notifications>, id: String) {
    let Some(n) = weak.upgrade() else { return };
    let clock = n.store.clock().clone();
    let Some(mailbox) = n.mailboxes_of(std::slice::from_ref(&id)).pop() else {
        return;
    };
    let changes = n.waker(&[mailbox]);
    let mut ended = n.ended.subscribe();
    let mut closing = n.closing.subscribe();
    let first_retry = n.config.push_first_retry;
    let timeout = n.config.push_timeout;
    drop(n);
    let mut last_ok = clock.now();
    let mut failing: Option<Failing> = None;
    loop {
        let Some(mut n) = weak.upgrade() else { return };
        let Some((plan, batch)) = n.push_plan(&id) else {
            return;
        };
        let now = clock.now();
        let heartbeat_at = last_ok + plan.status_frequency;
        let due = match failing {
            Some(f) => now >= f.next_retry(first_retry),
            None => !batch.events.is_empty() || now >= heartbeat_at,
        };
        if !due {
            let wake = failing.map_or(heartbeat_at, |f| f.next_retry(first_retry));
            drop(n);
            tokio::select! {
                () = changes.notified(), if failing.is_none() => {}
                _ = async { closing.wait_for(|c| *c).await.is_ok() } => return,
                r = ended.changed() => if r.is_err() { return },
                () = clock.sleep_until(wake) => {}
            }
            continue;
        }
        // Faults apply to notifications with events, once per notification (not per retry).
        let fault = if batch.events.is_empty() || failing.is_some() {
            None
        } else {
            n.faults.check(Channel::Push, &plan.mailbox)
        };
        let mut events: Vec<Event> = if batch.events.is_empty() {
            let mut status = Event::new(EventType::StatusEvent);
            status.watermark = Some(batch.last.encode());
            vec![status]
        } else {
            batch.events.iter().map(|(_, e)| e.clone()).collect()
        };
        if let Some(f) = &fault {
            n.record_fault(&id, f.clone(), Channel::Push, summary(&events));
        }
        match &fault {
            Some(NotifyFault::ExpireEarly) => {
                // Exchange pushes the error that kills the subscription (EWS.md 6.3), once;
                // whatever the listener answers, nothing follows.
                let server = n.store.read(|w| w.server);
                let body = read_events_failed_body(server, &id);
                let outcome = post(&clock, &plan.url, body, timeout).await;
                n.record(
                    &id,
                    Record::Pushed {
                        previous_watermark: plan.cursor.encode(),
                        events: Vec::new(),
                        more_events: false,
                        attempt: 1,
                        outcome: match outcome {
                            Ok(SubscriptionStatus::Ok) => PushOutcome::Ok,
                            Ok(SubscriptionStatus::Unsubscribe) => PushOutcome::Unsubscribe,
                            Err(e) => PushOutcome::Failed {
                                reason: e.to_string(),
                            },
                        },
                    },
                );
                n.end_push(&id, Record::Expired);
                return;
            }
            Some(NotifyFault::Drop) => {
                // Lost on the way: the server believes it delivered them.
                n.push_acked(&id, batch.last);
                last_ok = clock.now();
                continue;
            }
            Some(NotifyFault::Reorder) => events.reverse(),
            Some(NotifyFault::Delay { seconds }) => {
                let seconds = *seconds;
                drop(n);
                clock.sleep(Duration::seconds(i64::from(seconds))).await;
                let Some(again) = weak.upgrade() else { return };
                n = again;
            }
            _ => {}
        }
        let notification = Notification {
            subscription_id: id.clone(),
            previous_watermark: Some(plan.cursor.encode()),
            more_events: Some(batch.more),
            events,
        };
        let sent = summary(&notification.events);
        let server = n.store.read(|w| w.server);
        let body = send_notification_body(server, notification);
        let attempt = failing.map_or(1, |f| f.attempts + 1);
        let outcome = if fault == Some(NotifyFault::CallbackRefused) {
            Err(PushError::Refused)
        } else {
            let first = post(&clock, &plan.url, body.clone(), timeout).await;
            if fault == Some(NotifyFault::Duplicate) && matches!(first, Ok(SubscriptionStatus::Ok))
            {
                post(&clock, &plan.url, body, timeout).await
            } else {
                first
            }
        };
        let record = |outcome: PushOutcome| Record::Pushed {
            previous_watermark: plan.cursor.encode(),
            events: sent.clone(),
            more_events: batch.more,
            attempt,
            outcome,
        };
        match outcome {
            Ok(SubscriptionStatus::Ok) => {
                n.push_acked(&id, batch.last);
                n.record(&id, record(PushOutcome::Ok));
                last_ok = clock.now();
                failing = None;
            }
            Ok(SubscriptionStatus::Unsubscribe) => {
                n.record(&id, record(PushOutcome::Unsubscribe));
                n.end_push(&id, Record::Unsubscribed);
                return;
            }
            Err(err) => {
                n.record(
                    &id,
                    record(PushOutcome::Failed {
                        reason: err.to_string(),
                    }),
                );
                let f = failing.get_or_insert(Failing {
                    since: now,
                    attempts: 0,
                });
                f.attempts += 1;
                if f.next_retry(first_retry) > f.since + plan.status_frequency {
                    n.end_push(
                        &id,
                        Record::Dropped {
                            reason: format!(
                                "listener failing since {} and the next retry would exceed StatusFrequency",
                                f.since
                            ),
                        },
                    );
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_exchange_schedule() {
        let t0 = DateTime::from_timestamp(0, 0).unwrap_or_default();
        let first = Duration::seconds(30);
        let at = |attempts| {
            (Failing {
                since: t0,
                attempts,
            })
            .next_retry(first)
                - t0
        };
        let mins: Vec<i64> = (1..=7).map(|k| at(k).num_seconds()).collect();
        assert_eq!(mins, [30, 60, 120, 240, 480, 960, 1920]);
    }

    #[test]
    fn listener_replies_are_read_strictly() {
        let ok = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><SendNotificationResult xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><SubscriptionStatus>OK</SubscriptionStatus></SendNotificationResult></s:Body></s:Envelope>"#;
        assert!(matches!(read_result(200, ok), Ok(SubscriptionStatus::Ok)));
        assert!(matches!(read_result(500, ok), Err(PushError::Status(500))));
        assert!(matches!(
            read_result(200, b"<html/>"),
            Err(PushError::BadReply(_))
        ));
        let other = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Foo xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"/></s:Body></s:Envelope>"#;
        assert!(matches!(
            read_result(200, other),
            Err(PushError::BadReply(_))
        ));
    }
}
