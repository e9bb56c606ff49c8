//! Change-to-delivery latency of push and streaming notifications (issue 4): 1,000 mailboxes,
//! each with a push subscription (listener on loopback) and a streaming subscription (five
//! GetStreamingEvents connections of 200 ids, the per-connection maximum), then items created
//! one after another in rotating mailboxes; the time from the store change to the listener /
//! stream reader seeing the item's CreatedEvent is recorded.
//!
//! `cargo bench -p mock-ews --bench notify_latency` (release build). Prints p50, p99 and max;
//! the target (p99 < 20 ms) is judged by reading them, never asserted (shared, noisy machines).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use base64::Engine as _;
use ews_proto::notification::EventType;
use ews_proto::{Limits, Response};
use mock_ews::{MockEws, WorldSpec};
use tokio::sync::mpsc;

const MAILBOXES: usize = 1000;
const CHANGES: usize = 1000;
const IDS_PER_CONNECTION: usize = 200;

const SEND_RESULT_OK: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><SendNotificationResult xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><SubscriptionStatus>OK</SubscriptionStatus></SendNotificationResult></s:Body></s:Envelope>"#;

const EVENTS: &str = "<t:EventTypes><t:EventType>CreatedEvent</t:EventType><t:EventType>ModifiedEvent</t:EventType><t:EventType>DeletedEvent</t:EventType></t:EventTypes>";

fn world() -> WorldSpec {
    let mut y = String::from("server: 2016\nmailboxes:\n");
    for m in 0..MAILBOXES {
        y.push_str(&format!("  - {{ smtp: user{m}@contoso.com }}\n"));
    }
    y.push_str("accounts:\n  - { user: svc, password: pw, impersonation: all }\n");
    WorldSpec::from_yaml(&y, "bench world").expect("world")
}

fn envelope(mailbox: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><soap:Header><t:RequestServerVersion Version="Exchange2013"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

fn auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("svc:pw")
    )
}

async fn soap(client: &reqwest::Client, url: &str, mailbox: &str, body: &str) -> String {
    client
        .post(url)
        .header("Authorization", auth())
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(envelope(mailbox, body))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

fn subscription_id(body: &str) -> String {
    match Response::parse_bytes(body.as_bytes(), &Limits::default()).map(|r| r.1) {
        Ok(Response::Subscribe(r)) => r.messages[0]
            .payload
            .subscription_id
            .clone()
            .unwrap_or_else(|| panic!("no id: {body}")),
        other => panic!("{other:?}: {body}"),
    }
}

/// Item ids of the CreatedEvents in a SendNotification or streaming envelope.
fn created_ids(xml: &[u8]) -> Vec<String> {
    let Ok((_, resp)) = Response::parse_bytes(xml, &Limits::default()) else {
        // SendNotification is a request element; read it as one.
        let Ok(env) = ews_proto::Envelope::parse(xml, &Limits::default()) else {
            return Vec::new();
        };
        let Ok(sn) = ews_proto::notification::SendNotification::from_xml(&env.body) else {
            return Vec::new();
        };
        return sn
            .messages
            .into_iter()
            .filter_map(|m| m.payload.notification)
            .flat_map(|n| n.events)
            .filter(|e| e.kind == EventType::CreatedEvent)
            .filter_map(|e| e.item_id.map(|i| i.id))
            .collect();
    };
    match resp {
        Response::GetStreamingEvents(r) => r
            .messages
            .into_iter()
            .flat_map(|m| m.payload.notifications.unwrap_or_default())
            .flat_map(|n| n.events)
            .filter(|e| e.kind == EventType::CreatedEvent)
            .filter_map(|e| e.item_id.map(|i| i.id))
            .collect(),
        _ => Vec::new(),
    }
}

type Seen = mpsc::UnboundedSender<(String, Instant)>;

async fn listener(State(tx): State<Seen>, body: Bytes) -> String {
    let now = Instant::now();
    for id in created_ids(&body) {
        let _ = tx.send((id, now));
    }
    SEND_RESULT_OK.to_owned()
}

/// Reads one GetStreamingEvents connection, reporting CreatedEvent item ids as they arrive.
async fn read_stream(mut resp: reqwest::Response, tx: Seen) {
    let mut buf: Vec<u8> = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let now = Instant::now();
        buf.extend_from_slice(&chunk);
        while let Some(end) = find(&buf, b"</Envelope>") {
            let env: Vec<u8> = buf.drain(..end + b"</Envelope>".len()).collect();
            for id in created_ids(&env) {
                let _ = tx.send((id, now));
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn report(name: &str, mut lat: Vec<Duration>) {
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{name:<10} n={:<5} p50={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms",
        lat.len(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3
    );
}

/// Creates `CHANGES` items one after another and waits for each to be seen.
async fn measure(
    ews: &MockEws,
    seen: &mut mpsc::UnboundedReceiver<(String, Instant)>,
) -> Vec<Duration> {
    let item: mock_ews::ItemSpec =
        serde_saphyr::from_str("{ subject: Bench, start: 2026-03-23 10:00, duration: 30m }")
            .expect("item");
    let pending: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut out = Vec::with_capacity(CHANGES);
    for k in 0..CHANGES {
        let mailbox = format!("user{}@contoso.com", (k * 7) % MAILBOXES);
        let t0 = Instant::now();
        let r = ews.store().create_item(&mailbox, &item).expect("create");
        pending.lock().expect("lock").insert(r.item_id.clone(), t0);
        loop {
            let (id, at) = tokio::time::timeout(Duration::from_secs(10), seen.recv())
                .await
                .expect("delivered within 10 s")
                .expect("channel open");
            if let Some(t0) = pending.lock().expect("lock").remove(&id) {
                out.push(at - t0);
                break;
            }
        }
    }
    out
}

#[tokio::main]
async fn main() {
    let ews = MockEws::builder()
        .world(world())
        .start()
        .await
        .expect("mock starts");
    let url = ews.ews_url();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");

    // Push: one listener for all 1,000 subscriptions.
    let (push_tx, mut push_rx) = mpsc::unbounded_channel();
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let push_url = format!("http://{}/listener", socket.local_addr().expect("addr"));
    let app = Router::new()
        .route("/listener", post(listener))
        .with_state(push_tx);
    tokio::spawn(async move { axum::serve(socket, app).await });
    let started = Instant::now();
    for m in 0..MAILBOXES {
        let mailbox = format!("user{m}@contoso.com");
        let body = soap(
            &client,
            &url,
            &mailbox,
            &format!(r#"<m:Subscribe><m:PushSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>{EVENTS}<t:StatusFrequency>30</t:StatusFrequency><t:URL>{push_url}</t:URL></m:PushSubscriptionRequest></m:Subscribe>"#),
        )
        .await;
        subscription_id(&body);
    }
    println!(
        "subscribed {MAILBOXES} push subscriptions in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    report("push", measure(&ews, &mut push_rx).await);

    // Streaming: 1,000 more subscriptions on five connections. The push subscriptions stay,
    // so every change is also pushed: this is the loaded case.
    let mut ids = Vec::new();
    for m in 0..MAILBOXES {
        let mailbox = format!("user{m}@contoso.com");
        let body = soap(
            &client,
            &url,
            &mailbox,
            &format!(r#"<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>{EVENTS}</m:StreamingSubscriptionRequest></m:Subscribe>"#),
        )
        .await;
        ids.push(subscription_id(&body));
    }
    let (stream_tx, mut stream_rx) = mpsc::unbounded_channel();
    for group in ids.chunks(IDS_PER_CONNECTION) {
        let list: String = group
            .iter()
            .map(|i| format!("<t:SubscriptionId>{i}</t:SubscriptionId>"))
            .collect();
        let resp = client
            .post(&url)
            .header("Authorization", auth())
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(envelope(
                "user0@contoso.com",
                &format!("<m:GetStreamingEvents><m:SubscriptionIds>{list}</m:SubscriptionIds><m:ConnectionTimeout>30</m:ConnectionTimeout></m:GetStreamingEvents>"),
            ))
            .send()
            .await
            .expect("GetStreamingEvents");
        tokio::spawn(read_stream(resp, stream_tx.clone()));
    }
    // Drain what push delivers meanwhile into the void.
    tokio::spawn(async move { while push_rx.recv().await.is_some() {} });
    tokio::time::sleep(Duration::from_millis(200)).await;
    report("streaming", measure(&ews, &mut stream_rx).await);
}
