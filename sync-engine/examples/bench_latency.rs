//! Run with: cargo run --release -p sync-engine --example bench_latency -- [CHANGES]
//!
//! Prints change-to-presence latency (p50/p99/max over CHANGES changes, default 500) for
//! streaming and push notifications: from the moment a calendar changes to the moment the
//! engine's presence stream reports the new presence. Target (issue 7): p99 < 50 ms.
//!
//! The Exchange side is the engine's `InMemoryExchange` (mock-ews does not deliver
//! notifications yet), so this measures the engine's own pipeline: notification handling,
//! the mailbox resync, presence recomputation and the broadcast. The push path includes a
//! real HTTP POST of a `SendNotification` to the engine's push listener on loopback.
//! Timing uses `std::time::Instant`: it measures the machine, not the simulated world.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use calendar_core::{FreeBusyStatus, PresenceState};
use chrono::Duration;
use ews_clock::Clock;
use sync_engine::{Appointment, Config, Engine, InMemoryExchange, api, ews};

const USER: &str = "kim@bench.test";

fn main() -> ExitCode {
    let changes: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench_latency: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        measure("streaming", changes).await?;
        measure("push", changes).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_latency: {e}");
            ExitCode::FAILURE
        }
    }
}

fn percentile(sorted: &[StdDuration], p: f64) -> StdDuration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

async fn measure(mode: &str, changes: usize) -> Result<(), String> {
    let clock = Clock::system();
    let exchange = Arc::new(InMemoryExchange::default());
    exchange.add_mailbox(USER);
    let notifications = match mode {
        "push" => {
            "[notifications]\nmode = \"push\"\ncallback_url = \"http://127.0.0.1/ews/notify\"\nstatus_frequency = \"30m\"\n"
        }
        _ => "[notifications]\nmode = \"streaming\"\n",
    };
    let text = format!(
        "[exchange]\nurl = \"http://127.0.0.1:9/EWS/Exchange.asmx\"\nusername = \"svc\"\npassword = \"pw\"\n{notifications}[[users]]\nemail = \"{USER}\"\n"
    );
    let config = Config::parse("bench", &text, |_| None).map_err(|e| e.to_string())?;
    let engine = Engine::new(config, clock.clone(), exchange.clone());
    let mut presence = engine.subscribe_presence();
    let _tasks = engine.start();
    // Wait for the initial sync and subscription.
    while exchange.subscription_ids(USER).is_empty() {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    while presence.try_recv().is_ok() {}

    let (push_url, _server) = if mode == "push" {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let router = api::push_router(engine.clone());
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        (Some(format!("http://{addr}/ews/notify")), Some(server))
    } else {
        (None, None)
    };
    let http = ews::http_client_builder()
        .build()
        .map_err(|e| e.to_string())?;
    let sub_id = exchange
        .subscription_ids(USER)
        .first()
        .cloned()
        .unwrap_or_default();

    let mut samples = Vec::with_capacity(changes);
    for i in 0..changes {
        let now = clock.now();
        // Alternate between a running meeting and an empty calendar, so presence flips.
        let appointments = if i % 2 == 0 {
            vec![Appointment::new(
                now - Duration::minutes(1),
                now + Duration::hours(1),
                FreeBusyStatus::Busy,
            )]
        } else {
            Vec::new()
        };
        let want = if i % 2 == 0 {
            PresenceState::Meeting
        } else {
            PresenceState::Available
        };
        let started = Instant::now();
        exchange.set_appointments(USER, appointments);
        if let Some(url) = &push_url {
            let body = format!(
                r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:SendNotification xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:SendNotificationResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Notification><t:SubscriptionId>{sub_id}</t:SubscriptionId><t:PreviousWatermark>A</t:PreviousWatermark><t:MoreEvents>false</t:MoreEvents><t:ModifiedEvent><t:Watermark>B</t:Watermark><t:TimeStamp>2026-03-30T08:00:00Z</t:TimeStamp><t:ItemId Id="X" ChangeKey="Y"/><t:ParentFolderId Id="F" ChangeKey="G"/></t:ModifiedEvent></m:Notification></m:SendNotificationResponseMessage></m:ResponseMessages></m:SendNotification></soap:Body></soap:Envelope>"#
            );
            http.post(url)
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
        }
        loop {
            let event = tokio::time::timeout(StdDuration::from_secs(5), presence.recv())
                .await
                .map_err(|_| format!("{mode}: no presence change within 5 s (change {i})"))?
                .map_err(|e| e.to_string())?;
            if event.user == USER && event.presence.state == want {
                break;
            }
        }
        samples.push(started.elapsed());
    }
    samples.sort();
    println!(
        "{mode:>9}: {changes} changes, change-to-presence p50 {:.2?}, p99 {:.2?}, max {:.2?} (target p99 < 50 ms)",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or_default()
    );
    Ok(())
}
