//! Run with: cargo run --release -p sync-engine --example bench_latency -- [MAILBOXES]
//!
//! Prints change-to-presence latency (p50/p99/max, one change per mailbox, default 200
//! mailboxes) for streaming and for push notifications, end to end: a meeting is created in
//! an in-process mock-ews; the mock notifies (GetStreamingEvents chunk, or a SendNotification
//! POST to the engine's push listener); the engine fetches the new item over EWS (GetItem) and
//! its presence stream reports Meeting. Target (issue 7): p99 < 50 ms.
//! Timing uses `std::time::Instant`: it measures the machine, not the simulated world.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use calendar_core::PresenceState;
use chrono::{TimeZone, Utc};
use ews_clock::Clock;
use mock_ews::{ItemSpec, MockEws, WorldSpec};
use sync_engine::ews::EwsClient;
use sync_engine::{Config, Engine, api};

fn main() -> ExitCode {
    let mailboxes: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
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
        measure("streaming", mailboxes).await?;
        measure("push", mailboxes).await
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

async fn measure(mode: &str, mailboxes: usize) -> Result<(), String> {
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 30, 8, 0, 0)
        .single()
        .ok_or("bad start instant")?;
    let clock = Clock::frozen_at(t0);
    let boxes: Vec<serde_json::Value> = (0..mailboxes)
        .map(|i| serde_json::json!({ "smtp": format!("u{i}@bench.test") }))
        .collect();
    let spec: WorldSpec = serde_json::from_value(serde_json::json!({
        "mailboxes": boxes,
        "accounts": [{ "user": "svc", "password": "pw", "impersonation": "all" }],
    }))
    .map_err(|e| e.to_string())?;
    let mock = MockEws::builder()
        .world(spec)
        .clock(clock.clone())
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let notifications = match mode {
        "push" => format!(
            "mode = \"push\"\ncallback_url = \"http://127.0.0.1:{port}/ews/notify\"\nlisten = \"127.0.0.1:{port}\"\n"
        ),
        _ => "mode = \"streaming\"\n".to_string(),
    };
    let mut text = format!(
        "[exchange]\nurl = \"{}\"\nusername = \"svc\"\npassword = \"pw\"\nmax_concurrency = 16\n[notifications]\n{notifications}",
        mock.ews_url()
    );
    for i in 0..mailboxes {
        text.push_str(&format!("[[users]]\nemail = \"u{i}@bench.test\"\n"));
    }
    let config = Config::parse("bench", &text, |_| None).map_err(|e| e.to_string())?;
    let client = EwsClient::new(&config.exchange, clock.clone()).map_err(|e| e.to_string())?;
    let engine = Engine::new(config, clock, Arc::new(client));
    let router = api::push_router(engine.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut presence = engine.subscribe_presence();
    let _tasks = engine.start();
    let ready = Instant::now();
    loop {
        let status = engine.status();
        if status.connection.full_syncs >= 1 && status.mailboxes.iter().all(|m| m.subscribed) {
            break;
        }
        if ready.elapsed() > StdDuration::from_secs(60) {
            return Err(format!("{mode}: not all mailboxes subscribed within 60 s"));
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    // Let the shared streaming connections open.
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    while presence.try_recv().is_ok() {}

    let meeting: ItemSpec = serde_json::from_value(serde_json::json!({
        "subject": "Bench meeting",
        "start": "2026-03-30T07:55:00Z",
        "duration": "1h",
    }))
    .map_err(|e| e.to_string())?;
    let mut samples = Vec::with_capacity(mailboxes);
    for i in 0..mailboxes {
        let user = format!("u{i}@bench.test");
        let started = Instant::now();
        mock.store()
            .create_item(&user, &meeting)
            .map_err(|e| e.to_string())?;
        loop {
            let event = tokio::time::timeout(StdDuration::from_secs(10), presence.recv())
                .await
                .map_err(|_| format!("{mode}: no presence change for {user} within 10 s"))?
                .map_err(|e| e.to_string())?;
            if event.user == user && event.presence.state == PresenceState::Meeting {
                break;
            }
        }
        samples.push(started.elapsed());
    }
    samples.sort();
    println!(
        "{mode:>9}: {mailboxes} changes via mock-ews, change-to-presence p50 {:.2?}, p99 {:.2?}, max {:.2?} (target p99 < 50 ms)",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or_default()
    );
    Ok(())
}
