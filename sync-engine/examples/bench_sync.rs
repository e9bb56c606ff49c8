//! Run with: cargo run --release -p sync-engine --example bench_sync -- [MAILBOXES] [CONCURRENCY]
//!
//! Prints how long the engine's initial full sync (7-day CalendarView + OOF of every
//! mailbox, through the real EWS client over loopback HTTP) takes against an in-process
//! mock-ews holding MAILBOXES mailboxes (default 10000) with 15 items each in the window.
//! Target (issue 7): under 30 s on 2 cores. Timing uses `std::time::Instant` because it
//! measures the machine, not the simulated world.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use ews_clock::Clock;
use mock_ews::{MockEws, WorldSpec};
use sync_engine::ews::EwsClient;
use sync_engine::{Config, Engine};

/// The world as JSON (serde-saphyr's YAML budget stops well below 10,000 mailboxes).
fn world(mailboxes: usize) -> serde_json::Value {
    let boxes: Vec<serde_json::Value> = (0..mailboxes)
        .map(|i| {
            // 15 items in the 7-day window: 3 a day on the 5 weekdays from Monday 2026-03-30.
            let days = [
                "2026-03-30",
                "2026-03-31",
                "2026-04-01",
                "2026-04-02",
                "2026-04-03",
            ];
            let items: Vec<serde_json::Value> = days
                .iter()
                .flat_map(|day| {
                    [
                        ("09:00", "Standup"),
                        ("11:00", "Review"),
                        ("14:00", "Customer call"),
                    ]
                    .map(|(time, subject)| {
                        serde_json::json!({
                            "subject": subject,
                            "start": format!("{day} {time}"),
                            "duration": "30m",
                        })
                    })
                })
                .collect();
            serde_json::json!({ "smtp": format!("user{i}@bench.test"), "calendar": items })
        })
        .collect();
    serde_json::json!({
        "server": "2010sp3",
        "mailboxes": boxes,
        "accounts": [{ "user": "svc-sync", "password": "sync-pw", "impersonation": "all" }],
    })
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mailboxes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench_sync: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(mailboxes, concurrency)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_sync: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(mailboxes: usize, concurrency: usize) -> Result<(), String> {
    let Some(t0) = Utc.with_ymd_and_hms(2026, 3, 30, 6, 0, 0).single() else {
        return Err("bad start instant".into());
    };
    let clock = Clock::frozen_at(t0);
    let built = Instant::now();
    let spec: WorldSpec = serde_json::from_value(world(mailboxes)).map_err(|e| e.to_string())?;
    let mock = MockEws::builder()
        .world(spec)
        .clock(clock.clone())
        .start()
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "world of {mailboxes} mailboxes loaded in {:.2?}",
        built.elapsed()
    );
    let mut text = format!(
        "[exchange]\nurl = \"{}\"\nusername = \"svc-sync\"\npassword = \"sync-pw\"\nmax_concurrency = {concurrency}\n[api]\nlog_capacity = 100\n",
        mock.ews_url()
    );
    for i in 0..mailboxes {
        text.push_str(&format!("[[users]]\nemail = \"user{i}@bench.test\"\n"));
    }
    let config = Config::parse("bench", &text, |_| None).map_err(|e| e.to_string())?;
    let client = EwsClient::new(&config.exchange, clock.clone()).map_err(|e| e.to_string())?;
    let engine = Engine::new(config, clock, Arc::new(client));
    let started = Instant::now();
    let report = engine.full_sync().await;
    let took = started.elapsed();
    let items: usize = engine
        .state()
        .mailboxes
        .values()
        .map(|m| m.appointments.len())
        .sum();
    println!(
        "initial sync: {} mailboxes ({} failed), {items} appointments, concurrency {concurrency}: {:.2?} ({:.0} mailboxes/s; target < 30 s)",
        report.mailboxes,
        report.failed,
        took,
        report.mailboxes as f64 / took.as_secs_f64()
    );
    Ok(())
}
