//! GetStreamingEvents (EWS.md §6.5): one chunked HTTP response per connection, written by a
//! task on the shared clock.
//!
//! The stream is a sequence of complete envelopes in Exchange's exact shape (no XML
//! declaration, unprefixed `<Envelope>` root, `soap11:` Header with ServerVersionInfo), one
//! per chunk: `ConnectionStatus` `OK` right after connect, a notification envelope whenever
//! one of the subscriptions has events (several subscriptions share one envelope, one
//! `m:Notification` each; events carry no watermark), a keep-alive `OK` after
//! [`NotifyConfig::streaming_keepalive`](super::NotifyConfig) of silence, and `Closed`
//! exactly ConnectionTimeout minutes after connect. A subscription unsubscribed while the
//! connection serves it gets an `ErrorSubscriptionUnsubscribed` envelope naming it; when none
//! is left the connection closes. A `closeAtOnce` notification fault answers a connection with
//! `Closed` alone.
//!
//! The task wakes on store changes, on subscriptions ending and on clock deadlines only, so
//! under a paused tokio runtime keep-alives and the close happen at exact virtual instants.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use ews_proto::notification::{GetStreamingEvents, GetStreamingEventsResult, Notification};
use ews_proto::response::{ResponseMessage, Responses};
use ews_proto::{Headers, ResponseCode, ResponseStatus, write_streaming_envelope};
use tokio::sync::mpsc;

use super::{
    Channel, Kind, Life, NotifyError, NotifyFault, Owner, Record, SentEvent, lock, summary,
};
use crate::journal::Outcome;
use crate::notification::Notifications;
use crate::soap::server_version_info;
use crate::world::ServerVersion;

/// Minutes allowed for `ConnectionTimeout`.
pub(crate) const CONNECTION_MINUTES: std::ops::RangeInclusive<u32> = 1..=30;

/// Events per subscription and envelope; more follow in the next envelope at once.
const EVENTS_PER_ENVELOPE: usize = 500;

type Chunk = Result<Bytes, std::io::Error>;

/// One envelope of the stream.
fn envelope(server: ServerVersion, msg: ResponseMessage<GetStreamingEventsResult>) -> Bytes {
    let headers = Headers::response(server_version_info(server));
    Bytes::from(write_streaming_envelope(&headers, |w| {
        Responses::single(msg).write(w);
    }))
}

fn status_envelope(server: ServerVersion, connection_status: &str) -> Bytes {
    envelope(
        server,
        ResponseMessage::success(GetStreamingEventsResult {
            notifications: None,
            error_subscription_ids: None,
            connection_status: Some(connection_status.to_owned()),
        }),
    )
}

fn error_envelope(
    server: ServerVersion,
    err: &NotifyError,
    ids: Option<Vec<String>>,
    closed: bool,
) -> Bytes {
    envelope(
        server,
        ResponseMessage {
            status: ResponseStatus::error(
                ResponseCode::parse(err.response_code()),
                err.message_text(),
            ),
            payload: GetStreamingEventsResult {
                notifications: None,
                error_subscription_ids: ids,
                connection_status: closed.then(|| "Closed".to_owned()),
            },
        },
    )
}

fn streaming_response(body: Body) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    h.insert("X-NoBuffering", HeaderValue::from_static("1"));
    r
}

/// An immediate one-envelope answer (errors before the connection is established).
fn refused(
    server: ServerVersion,
    err: &NotifyError,
    ids: Option<Vec<String>>,
) -> (Response, Outcome) {
    let bytes = error_envelope(server, err, ids, true);
    (
        streaming_response(Body::from(bytes)),
        Outcome::Error {
            code: err.response_code().to_owned(),
        },
    )
}

/// What one pass over a connection's subscriptions found.
#[derive(Debug, Default)]
struct StreamBatch {
    /// Notifications to send, with what the journal keeps of their events.
    notes: Vec<(Notification, Vec<SentEvent>)>,
    /// Subscriptions that ended (unsubscribed, expired).
    ended: Vec<(String, NotifyError)>,
    /// Faults on the envelope as a whole (delay, duplicate, stream cut).
    envelope_faults: Vec<NotifyFault>,
}

/// Releases a connection's claim on its subscriptions however the task ends.
struct Claim {
    notifications: Arc<Notifications>,
    user: String,
    ids: Vec<String>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let now = self.notifications.store.clock().now();
        let mut subs = lock(&self.notifications.subs);
        for id in &self.ids {
            if let Some(sub) = subs.get_mut(id)
                && let Kind::Streaming { open, idle_since } = &mut sub.kind
            {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    *idle_since = now;
                }
            }
        }
        drop(subs);
        let mut conns = lock(&self.notifications.connections);
        if let Some(n) = conns.get_mut(&self.user) {
            *n = n.saturating_sub(1);
        }
    }
}

impl Notifications {
    /// Validates a GetStreamingEvents request and claims its subscriptions.
    fn claim(
        self: &Arc<Self>,
        caller: &Owner,
        ids: &[String],
    ) -> Result<Claim, (NotifyError, Option<Vec<String>>)> {
        if ids.is_empty() || ids.len() > self.config.max_ids_per_connection {
            let why = format!(
                "{} subscription ids; 1 to {} are allowed",
                ids.len(),
                self.config.max_ids_per_connection
            );
            return Err((NotifyError::InvalidRequest(why), None));
        }
        {
            let conns = lock(&self.connections);
            if conns.get(&caller.user).copied().unwrap_or(0)
                >= self.config.max_streaming_connections
            {
                return Err((
                    NotifyError::TooManyConnections {
                        user: caller.user.clone(),
                        limit: self.config.max_streaming_connections,
                    },
                    None,
                ));
            }
        }
        let mut subs = lock(&self.subs);
        let mut first_error = None;
        let mut bad = Vec::new();
        for id in ids {
            let err = match self.checked(&mut subs, caller, id) {
                Ok(sub) if matches!(sub.kind, Kind::Streaming { .. }) => continue,
                Ok(_) => NotifyError::NotStreaming(id.clone()),
                Err(e) => e,
            };
            bad.push(id.clone());
            first_error.get_or_insert(err);
        }
        if let Some(err) = first_error {
            return Err((err, Some(bad)));
        }
        let ids: Vec<String> = ids.iter().map(|i| i.trim().to_owned()).collect();
        for id in &ids {
            if let Some(sub) = subs.get_mut(id)
                && let Kind::Streaming { open, .. } = &mut sub.kind
            {
                *open += 1;
            }
        }
        drop(subs);
        *lock(&self.connections)
            .entry(caller.user.clone())
            .or_insert(0) += 1;
        Ok(Claim {
            notifications: self.clone(),
            user: caller.user.clone(),
            ids,
        })
    }

    /// Takes the pending events of `ids` (advancing their cursors), applies notification
    /// faults, and reports the ids that ended since the last call.
    fn stream_batch(&self, ids: &[String]) -> StreamBatch {
        let mut out = StreamBatch::default();
        let mut subs = lock(&self.subs);
        for id in ids {
            let Some(sub) = subs.get_mut(id) else {
                out.ended
                    .push((id.clone(), NotifyError::Unsubscribed(id.clone())));
                continue;
            };
            if sub.life == Life::Expired {
                out.ended
                    .push((id.clone(), NotifyError::Expired(id.clone())));
                continue;
            }
            let batch = self.read(&sub.scope, sub.cursor, EVENTS_PER_ENVELOPE, &mut sub.quiet);
            if batch.events.is_empty() {
                sub.cursor = batch.last;
                continue;
            }
            let mut events: Vec<_> = batch.events.into_iter().map(|(_, e)| e).collect();
            let sent = summary(&events);
            let fault = self.faults.check(Channel::Streaming, &sub.scope.mailbox);
            if let Some(f) = &fault {
                self.record_fault(id, f.clone(), Channel::Streaming, sent.clone());
            }
            match fault {
                Some(NotifyFault::ExpireEarly) => {
                    sub.life = Life::Expired;
                    self.record(id, Record::Expired);
                    out.ended
                        .push((id.clone(), NotifyError::Expired(id.clone())));
                    continue;
                }
                Some(NotifyFault::Drop) => {
                    sub.cursor = batch.last;
                    continue;
                }
                Some(NotifyFault::Reorder) => events.reverse(),
                Some(other) => out.envelope_faults.push(other),
                None => {}
            }
            sub.cursor = batch.last;
            // Streaming events carry no watermark (the Managed API's parser is positional).
            for e in &mut events {
                e.watermark = None;
            }
            out.notes.push((
                Notification {
                    subscription_id: id.clone(),
                    previous_watermark: None,
                    more_events: None,
                    events,
                },
                sent,
            ));
        }
        drop(subs);
        out
    }

    fn record_stream(&self, ids: &[String], record: Record) {
        self.record(&ids.join(","), record);
    }
}

/// Streams notifications for one connection until its timeout, the client leaving or all of
/// its subscriptions ending.
async fn serve(
    notifications: Arc<Notifications>,
    claim: Claim,
    timeout: Duration,
    server: ServerVersion,
    tx: mpsc::Sender<Chunk>,
) {
    let clock = notifications.store.clock().clone();
    let keepalive = notifications.config.streaming_keepalive;
    let mailboxes = notifications.mailboxes_of(&claim.ids);
    if let Some(fault) = notifications.faults.check_connect(&mailboxes) {
        // A server (or proxy) that ends the connection normally at once: the client sees a
        // complete, well-formed stream that just carries no event.
        let ids = claim.ids.join(",");
        notifications.record_fault(&ids, fault, Channel::Streaming, Vec::new());
        notifications.record_stream(
            &claim.ids,
            Record::StreamClosed {
                reason: "closed at once by fault".to_owned(),
            },
        );
        let _ = tx.send(Ok(status_envelope(server, "Closed"))).await;
        return;
    }
    let changes = notifications.waker(&mailboxes);
    let mut ended = notifications.ended.subscribe();
    let mut closing = notifications.closing.subscribe();
    let started = clock.now();
    let deadline = started + timeout;
    let mut live = claim.ids.clone();
    let send = |bytes: Bytes| {
        let tx = tx.clone();
        async move { tx.send(Ok(bytes)).await.is_ok() }
    };
    let close = |reason: &str, ids: &[String]| {
        notifications.record_stream(
            ids,
            Record::StreamClosed {
                reason: reason.to_owned(),
            },
        );
    };
    if !send(status_envelope(server, "OK")).await {
        close("client left", &live);
        return;
    }
    let mut last_sent = started;
    loop {
        let StreamBatch {
            notes,
            ended: gone,
            envelope_faults,
        } = notifications.stream_batch(&live);
        for (id, err) in &gone {
            live.retain(|l| l != id);
            notifications.record(
                id,
                Record::StreamError {
                    code: err.response_code().to_owned(),
                },
            );
            let last = live.is_empty();
            if !send(error_envelope(server, err, Some(vec![id.clone()]), last)).await {
                close("client left", &claim.ids);
                return;
            }
            last_sent = clock.now();
        }
        if live.is_empty() {
            close("no subscription left", &claim.ids);
            return;
        }
        if !notes.is_empty() {
            let mut copies = 1;
            let mut cut = false;
            for f in &envelope_faults {
                match f {
                    NotifyFault::Delay { seconds } => {
                        clock.sleep(Duration::seconds(i64::from(*seconds))).await;
                    }
                    NotifyFault::Duplicate => copies = 2,
                    NotifyFault::StreamCut => cut = true,
                    _ => {}
                }
            }
            let mut list = Vec::with_capacity(notes.len());
            for (n, sent) in notes {
                // A cut envelope never arrives: its events are not delivered.
                if cut {
                    list.push(n);
                    continue;
                }
                notifications.record(
                    &n.subscription_id,
                    Record::Delivered {
                        channel: Channel::Streaming,
                        previous_watermark: None,
                        events: sent,
                        more_events: false,
                    },
                );
                list.push(n);
            }
            let msg = ResponseMessage::success(GetStreamingEventsResult {
                notifications: Some(list),
                error_subscription_ids: None,
                connection_status: None,
            });
            let bytes = envelope(server, msg);
            if cut {
                // Half an envelope in one chunk, then the body fails: hyper aborts the
                // connection without the terminating chunk.
                let half = bytes.slice(..bytes.len() / 2);
                let _ = send(half).await;
                // Let hyper take the half chunk and flush it before the error aborts the
                // connection (it flushes once the body is pending again).
                while tx.capacity() < tx.max_capacity() && !tx.is_closed() {
                    tokio::task::yield_now().await;
                }
                for _ in 0..4 {
                    tokio::task::yield_now().await;
                }
                let _ = tx
                    .send(Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "stream cut by a notification fault",
                    )))
                    .await;
                close("cut by fault", &claim.ids);
                return;
            }
            for _ in 0..copies {
                if !send(bytes.clone()).await {
                    close("client left", &claim.ids);
                    return;
                }
            }
            last_sent = clock.now();
            // More may be pending (a burst larger than one envelope): read again at once.
            continue;
        }
        let now = clock.now();
        if now >= deadline {
            break;
        }
        let wake: DateTime<Utc> = deadline.min(last_sent + keepalive);
        tokio::select! {
            () = changes.notified() => {}
            _ = async { closing.wait_for(|c| *c).await.is_ok() } => break,
            r = ended.changed() => if r.is_err() { break },
            () = clock.sleep_until(wake) => {
                let now = clock.now();
                if now < deadline && now >= last_sent + keepalive {
                    notifications.record_stream(&live, Record::KeepAlive);
                    if !send(status_envelope(server, "OK")).await {
                        close("client left", &claim.ids);
                        return;
                    }
                    last_sent = now;
                }
            }
            () = tx.closed() => {
                close("client left", &claim.ids);
                return;
            }
        }
    }
    close("Closed", &claim.ids);
    let _ = send(status_envelope(server, "Closed")).await;
}

/// Answers GetStreamingEvents: a chunked response fed by a background task.
pub(crate) fn open(
    notifications: &Arc<Notifications>,
    caller: &Owner,
    server: ServerVersion,
    r: &GetStreamingEvents,
) -> (Response, Outcome) {
    let claim = match notifications.claim(caller, &r.subscription_ids) {
        Ok(c) => c,
        Err((err, ids)) => return refused(server, &err, ids),
    };
    let minutes = r.connection_timeout;
    notifications.record_stream(
        &claim.ids,
        Record::StreamOpened {
            timeout_minutes: minutes,
        },
    );
    let (tx, rx) = mpsc::channel::<Chunk>(8);
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    tokio::spawn(serve(
        notifications.clone(),
        claim,
        Duration::minutes(i64::from(minutes)),
        server,
        tx,
    ));
    (streaming_response(body), Outcome::Success)
}
