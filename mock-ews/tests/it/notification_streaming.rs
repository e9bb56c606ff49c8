//! GetStreamingEvents over a real chunked connection, on a paused tokio clock so keep-alives
//! and the close happen at exact virtual instants.

use chrono::{DateTime, Duration, Utc};
use ews_proto::notification::EventType;
use ews_proto::{Limits, Response};
use mock_ews::{MockEws, Record};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::notification::{BOB, ITEM_EVENTS, SVC, code, standup_spec, subscribe};
use crate::support::{basic, envelope, example, soap};

pub(crate) fn t0() -> DateTime<Utc> {
    "2026-03-23T07:00:00Z".parse().expect("stream helper")
}

/// The small office on a running clock at `t0` (virtual under a paused runtime).
pub(crate) async fn office_running() -> MockEws {
    MockEws::builder()
        .world(example("small-office.yaml"))
        .clock(ews_clock::Clock::starting_at(t0()))
        .start()
        .await
        .expect("server starts")
}

pub(crate) fn streaming_request() -> String {
    format!(
        r#"<m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>{ITEM_EVENTS}</m:StreamingSubscriptionRequest>"#
    )
}

/// An open GetStreamingEvents connection read envelope by envelope.
pub(crate) struct Stream {
    socket: TcpStream,
    raw: Vec<u8>,
    /// Decoded body not yet returned.
    body: String,
    head: Option<String>,
    eof: bool,
}

impl Stream {
    pub(crate) async fn open(
        ews: &MockEws,
        impersonate: &str,
        ids: &[&str],
        minutes: u32,
    ) -> Stream {
        let ids: String = ids
            .iter()
            .map(|i| format!("<t:SubscriptionId>{i}</t:SubscriptionId>"))
            .collect();
        let xml = envelope(
            "Exchange2010_SP2",
            Some(impersonate),
            &format!(
                "<m:GetStreamingEvents><m:SubscriptionIds>{ids}</m:SubscriptionIds><m:ConnectionTimeout>{minutes}</m:ConnectionTimeout></m:GetStreamingEvents>"
            ),
        );
        let mut socket = TcpStream::connect(ews.address())
            .await
            .expect("stream helper");
        let (k, v) = basic(SVC.0, SVC.1);
        let head = format!(
            "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{k}: {v}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            ews.address(),
            xml.len()
        );
        socket
            .write_all(head.as_bytes())
            .await
            .expect("stream helper");
        socket
            .write_all(xml.as_bytes())
            .await
            .expect("stream helper");
        Stream {
            socket,
            raw: Vec::new(),
            body: String::new(),
            head: None,
            eof: false,
        }
    }

    /// Moves complete chunks from `raw` to `body`.
    fn decode(&mut self) {
        if self.head.is_none() {
            let text = String::from_utf8_lossy(&self.raw).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                self.head = Some(text[..end].to_owned());
                self.raw.drain(..end + 4);
            } else {
                return;
            }
        }
        if !self
            .header("transfer-encoding")
            .is_some_and(|v| v.contains("chunked"))
        {
            // A plain reply (a refused connection): the body runs to EOF.
            let rest: Vec<u8> = self.raw.drain(..).collect();
            self.body
                .push_str(&String::from_utf8(rest).expect("stream helper"));
            return;
        }
        loop {
            let text = String::from_utf8_lossy(&self.raw).to_string();
            let Some(line_end) = text.find("\r\n") else {
                return;
            };
            let size = usize::from_str_radix(text[..line_end].trim(), 16).expect("stream helper");
            if size == 0 {
                self.eof = true;
                self.raw.clear();
                return;
            }
            if self.raw.len() < line_end + 2 + size + 2 {
                return;
            }
            let chunk = self.raw[line_end + 2..line_end + 2 + size].to_vec();
            self.body
                .push_str(&String::from_utf8(chunk).expect("stream helper"));
            self.raw.drain(..line_end + 2 + size + 2);
        }
    }

    /// The next envelope, or `None` once the response ended.
    pub(crate) async fn next(&mut self) -> Option<String> {
        loop {
            self.decode();
            if let Some(end) = self.body.find("</Envelope>") {
                let env: String = self.body.drain(..end + "</Envelope>".len()).collect();
                return Some(env);
            }
            if self.eof {
                return None;
            }
            let mut buf = [0u8; 8192];
            let n = self.socket.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                self.eof = true;
                continue;
            }
            self.raw.extend_from_slice(&buf[..n]);
        }
    }

    /// What was received after the last complete envelope (a cut stream's half envelope).
    pub(crate) fn rest(&self) -> &str {
        &self.body
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.as_ref()?.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// The payload of one streamed envelope.
pub(crate) fn payload(
    env: &str,
) -> ews_proto::response::ResponseMessage<ews_proto::notification::GetStreamingEventsResult> {
    assert!(
        env.starts_with("<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\">"),
        "{env}"
    );
    assert!(!env.contains("<?xml"), "{env}");
    assert!(env.contains("ServerVersionInfo"), "{env}");
    match Response::parse_bytes(env.as_bytes(), &Limits::default())
        .expect("stream helper")
        .1
    {
        Response::GetStreamingEvents(r) => r.messages.into_iter().next().expect("stream helper"),
        other => panic!("{other:?}"),
    }
}

pub(crate) fn connection_status(env: &str) -> Option<String> {
    payload(env).payload.connection_status
}

#[tokio::test(start_paused = true)]
async fn a_connection_streams_events_of_two_mailboxes_keeps_alive_and_closes_on_time() {
    let ews = office_running().await;
    let (bob, bob_wm) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    assert_eq!(bob_wm, None, "streaming subscriptions have no watermark");
    let (alice, _) = subscribe(&ews, SVC, Some("alice@contoso.com"), &streaming_request()).await;

    let mut s = Stream::open(&ews, BOB, &[&bob, &alice], 2).await;
    let first = s.next().await.unwrap();
    assert_eq!(connection_status(&first).as_deref(), Some("OK"));
    assert!(s.header("transfer-encoding").unwrap().contains("chunked"));

    let created = ews
        .store()
        .create_item(BOB, &standup_spec("Bob's"))
        .unwrap();
    ews.store()
        .create_item("alice@contoso.com", &standup_spec("Alice's"))
        .unwrap();
    // Both changes may share an envelope or come in two; collect until both are seen.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let env = s.next().await.unwrap();
        let msg = payload(&env);
        assert!(msg.status.is_success(), "{env}");
        for n in msg.payload.notifications.unwrap_or_default() {
            assert!(
                n.previous_watermark.is_none() && n.more_events.is_none(),
                "{env}"
            );
            assert!(n.events.iter().all(|e| e.watermark.is_none()), "{env}");
            assert!(!env.contains("Watermark"), "{env}");
            let kinds: Vec<_> = n.events.iter().map(|e| e.kind).collect();
            assert_eq!(
                kinds,
                [
                    EventType::CreatedEvent,
                    EventType::FreeBusyChangedEvent,
                    EventType::ModifiedEvent
                ]
            );
            if n.subscription_id == bob {
                assert_eq!(n.events[0].item_id.as_ref().unwrap().id, created.item_id);
            }
            seen.push(n.subscription_id);
        }
    }
    seen.sort();
    let mut both = vec![bob.clone(), alice.clone()];
    both.sort();
    assert_eq!(seen, both);

    // Idle: keep-alives every 30 s of silence, then Closed at exactly 2 minutes.
    let mut statuses = Vec::new();
    while let Some(env) = s.next().await {
        statuses.push(connection_status(&env).unwrap_or_default());
    }
    assert_eq!(statuses, ["OK", "OK", "OK", "Closed"]);
    let journal = ews.notifications().journal();
    let keepalives: Vec<_> = journal
        .iter()
        .filter(|e| e.record == Record::KeepAlive)
        .map(|e| e.at - t0())
        .collect();
    assert_eq!(
        keepalives,
        [
            Duration::seconds(30),
            Duration::seconds(60),
            Duration::seconds(90)
        ]
    );
    let closed = journal
        .iter()
        .find(|e| matches!(&e.record, Record::StreamClosed { reason } if reason == "Closed"))
        .unwrap();
    assert_eq!(closed.at - t0(), Duration::minutes(2));
}

#[tokio::test(start_paused = true)]
async fn events_between_connections_wait_for_the_next_one() {
    let ews = office_running().await;
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    let mut s = Stream::open(&ews, BOB, &[&id], 1).await;
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("OK")
    );
    drop(s);
    // The server notices the client left; the subscription survives the gap.
    ews.clock().sleep(Duration::seconds(5)).await;
    ews.store()
        .create_item(BOB, &standup_spec("in the gap"))
        .unwrap();
    let mut s = Stream::open(&ews, BOB, &[&id], 1).await;
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("OK")
    );
    let env = s.next().await.unwrap();
    let n = payload(&env).payload.notifications.unwrap();
    assert_eq!(n[0].events[0].kind, EventType::CreatedEvent);
}

#[tokio::test(start_paused = true)]
async fn unsubscribing_ends_the_stream_with_the_documented_error() {
    let ews = office_running().await;
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    let mut s = Stream::open(&ews, BOB, &[&id], 30).await;
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("OK")
    );
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some(BOB),
            &format!("<m:Unsubscribe><m:SubscriptionId>{id}</m:SubscriptionId></m:Unsubscribe>"),
        ),
    )
    .await;
    assert_eq!(code(&r.body), "NoError", "{}", r.body);
    let env = s.next().await.unwrap();
    let msg = payload(&env);
    assert_eq!(
        msg.status
            .code
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .as_deref(),
        Some("ErrorSubscriptionUnsubscribed"),
        "{env}"
    );
    assert_eq!(msg.payload.error_subscription_ids, Some(vec![id.clone()]));
    assert_eq!(msg.payload.connection_status.as_deref(), Some("Closed"));
    assert_eq!(s.next().await, None);
}

#[tokio::test(start_paused = true)]
async fn unknown_pull_and_expired_ids_are_refused() {
    let ews = office_running().await;
    let first_error = |env: &str| {
        let msg = payload(env);
        (
            msg.status
                .code
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            msg.payload.error_subscription_ids.unwrap_or_default(),
            msg.payload.connection_status,
        )
    };
    let mut s = Stream::open(&ews, BOB, &["AAAAunknown"], 1).await;
    let (c, ids, status) = first_error(&s.next().await.unwrap());
    assert_eq!(c, "ErrorSubscriptionNotFound");
    assert_eq!(ids, ["AAAAunknown"]);
    assert_eq!(status.as_deref(), Some("Closed"));
    assert_eq!(s.next().await, None);

    let (pull, _) = subscribe(
        &ews,
        SVC,
        Some(BOB),
        &crate::notification::pull_request(10, None),
    )
    .await;
    let mut s = Stream::open(&ews, BOB, &[&pull], 1).await;
    assert_eq!(
        first_error(&s.next().await.unwrap()).0,
        "ErrorInvalidSubscription"
    );

    // Unconnected for 30 minutes: expired.
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    ews.clock().sleep(Duration::minutes(30)).await;
    let mut s = Stream::open(&ews, BOB, &[&id], 1).await;
    assert_eq!(
        first_error(&s.next().await.unwrap()).0,
        "ErrorExpiredSubscription"
    );

    // ConnectionTimeout outside 1..30 fails schema validation.
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some(BOB),
            "<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>x</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>31</m:ConnectionTimeout></m:GetStreamingEvents>",
        ),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body.contains("ErrorSchemaValidation"), "{}", r.body);
}

#[tokio::test(start_paused = true)]
async fn shutting_the_server_down_closes_open_streams() {
    let ews = office_running().await;
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    let mut s = Stream::open(&ews, BOB, &[&id], 30).await;
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("OK")
    );
    let clock = ews.clock().clone();
    let at = clock.now();
    // Graceful shutdown waits for open responses: without closing the stream it would only
    // return after the 30-minute ConnectionTimeout (virtual time would jump there).
    ews.shutdown().await;
    assert_eq!(clock.now(), at);
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("Closed")
    );
    assert_eq!(s.next().await, None);
}

#[tokio::test(start_paused = true)]
async fn the_keep_alive_interval_is_configurable() {
    let ews = MockEws::builder()
        .world(example("small-office.yaml"))
        .clock(ews_clock::Clock::starting_at(t0()))
        .notify_config(mock_ews::NotifyConfig {
            streaming_keepalive: Duration::seconds(20),
            ..mock_ews::NotifyConfig::default()
        })
        .start()
        .await
        .expect("server starts");
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    let mut s = Stream::open(&ews, BOB, &[&id], 1).await;
    let mut statuses = Vec::new();
    while let Some(env) = s.next().await {
        statuses.push(connection_status(&env).unwrap_or_default());
    }
    assert_eq!(statuses, ["OK", "OK", "OK", "Closed"]);
    let keepalives: Vec<_> = ews
        .notifications()
        .journal()
        .iter()
        .filter(|e| e.record == Record::KeepAlive)
        .map(|e| e.at - t0())
        .collect();
    assert_eq!(keepalives, [Duration::seconds(20), Duration::seconds(40)]);
}
