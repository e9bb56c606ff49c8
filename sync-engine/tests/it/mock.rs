//! The engine with its real EWS client against mock-ews (in process, one shared clock).

use std::sync::Arc;

use calendar_core::PresenceState;
use chrono::{Duration, TimeZone, Utc};
use ews_clock::Clock;
use mock_ews::{MockEws, WorldSpec};
use sync_engine::ews::EwsClient;
use sync_engine::{Config, Engine, Health};

const WORLD: &str = r#"
server: 2010sp3
mailboxes:
  - smtp: kim@contoso.test
    calendar:
      - subject: Budget review
        start: 2026-03-30 09:00
        duration: 30m
        location: Room 4
      - subject: Standup
        start: 2026-03-30 10:00
        duration: 15m
        recurrence: { daily: true, count: 5 }
      - subject: Last year
        start: 2025-03-30 10:00
        duration: 15m
    oof:
      state: enabled
      internal: <p>Back on Monday</p>
  - smtp: denied@contoso.test
  - smtp: ceo@contoso.test
    calendar:
      - subject: Secret merger talks
        start: 2026-03-30 08:30
        duration: 1h
        location: Boardroom
        sensitivity: private
accounts:
  - user: svc-sync
    password: sync-pw
    impersonation: [kim@contoso.test, ceo@contoso.test]
"#;

async fn start() -> (MockEws, Engine, Clock) {
    start_with("").await
}

async fn start_with(notifications: &str) -> (MockEws, Engine, Clock) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
    let clock = Clock::frozen_at(t0);
    let spec = WorldSpec::from_yaml(WORLD, "test world").unwrap();
    let mock = MockEws::builder()
        .world(spec)
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let text = format!(
        r#"
[exchange]
url = "{}"
username = "svc-sync"
password = "sync-pw"
max_retries = 0
[[users]]
email = "kim@contoso.test"
[[users]]
email = "denied@contoso.test"
[[users]]
email = "ghost@contoso.test"
[[users]]
email = "ceo@contoso.test"
privacy = true
{notifications}
"#,
        mock.ews_url()
    );
    let config = Config::parse("test", &text, |_| None).unwrap();
    let client = EwsClient::new(&config.exchange, clock.clone()).unwrap();
    let engine = Engine::new(config, clock.clone(), Arc::new(client));
    (mock, engine, clock)
}

#[tokio::test]
async fn initial_sync_against_mock_ews_with_per_mailbox_failures() {
    let (_mock, engine, clock) = start().await;
    let report = engine.full_sync().await;
    assert!(report.connected);
    let log = crate::support::messages(&engine);
    assert!(
        log.contains(&"Connected to Exchange (v14.03.0181.0006)".to_string()),
        "{log:#?}"
    );

    let kim: Vec<(String, String)> = engine
        .appointments("kim@contoso.test")
        .unwrap()
        .into_iter()
        .map(|a| {
            (
                a.subject.unwrap_or_default(),
                a.start.format("%m-%d %H:%M").to_string(),
            )
        })
        .collect();
    assert_eq!(
        kim,
        [
            ("Budget review".to_string(), "03-30 09:00".to_string()),
            ("Standup".into(), "03-30 10:00".into()),
            ("Standup".into(), "03-31 10:00".into()),
            ("Standup".into(), "04-01 10:00".into()),
            ("Standup".into(), "04-02 10:00".into()),
            ("Standup".into(), "04-03 10:00".into()),
        ]
    );
    let p = engine.presence("kim@contoso.test").unwrap();
    assert_eq!(p.presence.state, PresenceState::Absent);
    assert_eq!(p.presence.message.as_deref(), Some("Back on Monday"));

    let status = engine.status();
    assert_eq!(status.health, Health::Degraded);
    let errors: Vec<(String, String)> = status
        .mailboxes
        .iter()
        .filter_map(|m| {
            m.sync
                .error
                .as_ref()
                .map(|e| (m.email.clone(), e.kind.clone()))
        })
        .collect();
    assert_eq!(
        errors,
        [
            (
                "denied@contoso.test".to_string(),
                "impersonationDenied".to_string()
            ),
            (
                "ghost@contoso.test".to_string(),
                "mailboxNotFound".to_string()
            ),
        ]
    );
    // The clock is the mock's: a week later the window moves with it.
    clock.advance(Duration::days(7));
    engine.full_sync().await;
    assert!(engine.appointments("kim@contoso.test").unwrap().is_empty());
}

#[tokio::test]
async fn privacy_mode_never_carries_a_subject_across_api_log_and_state() {
    let (mock, engine, clock) = start().await;
    engine.full_sync().await;
    let ceo = engine.appointments("ceo@contoso.test").unwrap();
    assert!(!ceo.is_empty(), "free/busy read: {:#?}", engine.status());
    assert!(
        ceo.iter()
            .all(|a| a.subject.is_none() && a.location.is_none())
    );
    clock.advance(Duration::minutes(45));
    let p = engine.presence("ceo@contoso.test").unwrap();
    assert_ne!(p.presence.state, PresenceState::Available);

    // Nowhere: state dump, status, log, presence, appointments, and the API's own JSON.
    let served = served_about(&engine, "ceo@contoso.test").await;
    let dump = format!("{:?}{}", engine.state(), served);
    for secret in ["Secret merger", "Boardroom"] {
        assert!(!dump.contains(secret), "{secret} leaked");
    }
    assert!(
        served.contains("ceo@contoso.test"),
        "the dump covered the mailbox"
    );
    // And the request never asked for one: only GetUserAvailability touched the mailbox.
    let ops: Vec<String> = mock
        .journal()
        .entries()
        .iter()
        .filter(|e| e.impersonated.as_deref() == Some("ceo@contoso.test"))
        .map(|e| e.operation.clone())
        .collect();
    assert!(!ops.is_empty());
    assert!(
        ops.iter()
            .all(|op| op == "GetUserAvailabilityRequest" || op == "GetUserOofSettingsRequest"),
        "{ops:?}"
    );
}

#[tokio::test]
async fn a_private_item_of_a_normal_user_blocks_time_but_its_subject_is_nowhere() {
    let (mock, engine, clock) = start().await;
    let spec: mock_ews::ItemSpec = serde_json::from_value(serde_json::json!({
        "subject": "Dr. Novak - cardiology",
        "location": "Heart clinic",
        "start": "2026-03-30T11:00:00Z",
        "duration": "1h",
        "sensitivity": "private",
    }))
    .unwrap();
    mock.store().create_item("kim@contoso.test", &spec).unwrap();
    engine.full_sync().await;

    let kim = engine.appointments("kim@contoso.test").unwrap();
    let private: Vec<_> = kim.iter().filter(|a| a.private).collect();
    assert_eq!(private.len(), 1, "{kim:#?}");
    assert_eq!((&private[0].subject, &private[0].location), (&None, &None));
    assert_eq!(
        private[0].start,
        Utc.with_ymd_and_hms(2026, 3, 30, 11, 0, 0).unwrap()
    );
    // The other items of the same user keep their subjects.
    assert!(kim_subjects(&engine).contains(&"Budget review".to_string()));
    // (Kim's presence is Absent from her OOF; the scenario private-items.yaml pins Meeting.)
    clock.advance(Duration::minutes(3 * 60 + 30));

    let served = served_about(&engine, "kim@contoso.test").await;
    assert!(
        served.contains("Budget review"),
        "the dump covered Kim's items"
    );
    let log = format!("{:?}", engine.log().lines(&Default::default()));
    let dump = format!("{:?}{served}{log}", engine.state());
    for secret in ["cardiology", "Heart clinic"] {
        assert!(!dump.contains(secret), "{secret} leaked");
    }
}

/// Waits (real time, bounded) until `f` holds.
/// Everything the engine's API serves about `user` (status, users, log, appointments,
/// presence), concatenated, to search for leaks.
async fn served_about(engine: &Engine, user: &str) -> String {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let router = sync_engine::api::router(engine.clone());
    let mut served = String::new();
    for uri in [
        "/api/status".to_string(),
        "/api/users".to_string(),
        "/api/log".to_string(),
        format!("/api/users/{user}/appointments"),
        format!("/api/users/{user}/presence"),
    ] {
        let req = axum::http::Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        served.push_str(&String::from_utf8_lossy(
            &resp.into_body().collect().await.unwrap().to_bytes(),
        ));
    }
    served
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn add_meeting(mock: &MockEws, subject: &str) {
    let spec: mock_ews::ItemSpec = serde_json::from_value(serde_json::json!({
        "subject": subject,
        "start": "2026-03-30T08:00:00Z",
        "duration": "30m",
    }))
    .unwrap();
    mock.store().create_item("kim@contoso.test", &spec).unwrap();
}

fn kim_subjects(engine: &Engine) -> Vec<String> {
    engine
        .appointments("kim@contoso.test")
        .unwrap()
        .into_iter()
        .filter_map(|a| a.subject)
        .collect()
}

#[tokio::test]
async fn streaming_notifications_from_mock_ews_update_presence() {
    let (mock, engine, _clock) = start_with("[notifications]\nmode = \"streaming\"\n").await;
    let mut changes = engine.subscribe_presence();
    let _tasks = engine.start();
    eventually("kim subscribed and the first sync done", || {
        let status = engine.status();
        status.connection.full_syncs >= 1
            && status
                .mailboxes
                .iter()
                .any(|m| m.email == "kim@contoso.test" && m.subscribed)
    })
    .await;
    // Give the shared streaming connection time to open (it settles for 200 ms).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    add_meeting(&mock, "Escalation");
    eventually("the new meeting", || {
        kim_subjects(&engine).contains(&"Escalation".to_string())
    })
    .await;
    // Kim is Absent (OOF outranks the meeting), but the reason list changed: the stream
    // carried the change, no resync timer did.
    assert!(
        mock.journal()
            .entries()
            .iter()
            .any(|e| e.operation == "GetStreamingEvents")
    );
    while let Ok(e) = changes.try_recv() {
        if e.previous.is_some() {
            assert_ne!(e.user, "ceo@contoso.test", "only kim changed: {e:?}");
        }
    }
}

#[tokio::test]
async fn pull_notifications_from_mock_ews_are_polled_on_the_clock() {
    let (mock, engine, clock) =
        start_with("[notifications]\nmode = \"pull\"\npull_interval = \"1m\"\n").await;
    let _tasks = engine.start();
    eventually("kim subscribed and the first sync done", || {
        let status = engine.status();
        status.connection.full_syncs >= 1
            && status
                .mailboxes
                .iter()
                .any(|m| m.email == "kim@contoso.test" && m.subscribed)
    })
    .await;
    let from = mock.journal().entries().len();
    add_meeting(&mock, "Pulled in");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(
        !kim_subjects(&engine).contains(&"Pulled in".to_string()),
        "not before the poll"
    );
    clock.advance(Duration::seconds(61));
    eventually("the polled change", || {
        kim_subjects(&engine).contains(&"Pulled in".to_string())
    })
    .await;
    assert!(
        mock.journal()
            .entries()
            .iter()
            .any(|e| e.operation == "GetEvents")
    );
    // The poll's events name the new item: one GetItem, no CalendarView. (The advanced
    // clock also has the watchers of the denied and unknown mailboxes subscribe again.)
    let fetches: Vec<String> = requests_since(&mock, from)
        .into_iter()
        .filter(|op| op == "GetItem" || op == "FindItem")
        .collect();
    assert_eq!(fetches, ["GetItem"]);
}

/// Kim's `(error kind, refetch_at)` in the status document.
fn kim_sync(engine: &Engine) -> (Option<String>, Option<chrono::DateTime<Utc>>) {
    let status = engine.status();
    let kim = status
        .mailboxes
        .iter()
        .find(|m| m.email == "kim@contoso.test")
        .unwrap();
    (
        kim.sync.error.as_ref().map(|e| e.kind.clone()),
        kim.sync.refetch_at,
    )
}

fn kim_find_items(mock: &MockEws) -> usize {
    mock.journal()
        .entries()
        .iter()
        .filter(|e| {
            e.operation.starts_with("FindItem")
                && e.impersonated.as_deref() == Some("kim@contoso.test")
        })
        .count()
}

#[tokio::test]
async fn a_fetch_failing_after_a_notification_is_retried_on_a_schedule_until_it_succeeds() {
    use mock_ews::{FaultKind, FaultSpec};
    // max_retries = 0: every fault fails the fetch itself, so only the re-fetch can help.
    let (mock, engine, clock) =
        start_with("[notifications]\nmode = \"pull\"\npull_interval = \"1m\"\n").await;
    let _tasks = engine.start();
    eventually("kim subscribed and the first sync done", || {
        let status = engine.status();
        status.connection.full_syncs >= 1
            && status
                .mailboxes
                .iter()
                .any(|m| m.email == "kim@contoso.test" && m.subscribed)
    })
    .await;
    assert_eq!(kim_sync(&engine), (None, None));
    let before = kim_find_items(&mock);
    // The notification's GetItem fails, then the window fetch it falls back to, then the
    // first re-fetch.
    mock.faults()
        .add(
            FaultSpec::next(FaultKind::InternalServerError { inner_code: None }, 1)
                .for_operation("GetItem")
                .for_mailbox("kim@contoso.test"),
        )
        .unwrap();
    mock.faults()
        .add(
            FaultSpec::next(FaultKind::InternalServerError { inner_code: None }, 2)
                .for_operation("FindItem")
                .for_mailbox("kim@contoso.test"),
        )
        .unwrap();
    add_meeting(&mock, "Booked while failing");

    // The poll sees the change; its fetch fails: degraded, with a re-fetch planned.
    clock.advance(Duration::seconds(61));
    eventually("the failed fetch marks kim for a re-fetch", || {
        kim_sync(&engine).1.is_some()
    })
    .await;
    let (error, first) = kim_sync(&engine);
    assert_eq!(error.as_deref(), Some("ews"));
    let first = first.unwrap();
    let failed_at = clock.now();
    // 30 s with jitter in [0.5, 1.5).
    assert!(
        first >= failed_at + Duration::seconds(15) && first < failed_at + Duration::seconds(45),
        "{first} after {failed_at}"
    );
    assert_eq!(kim_find_items(&mock), before + 1);
    assert!(!kim_subjects(&engine).contains(&"Booked while failing".to_string()));

    // The first re-fetch fails too (second fault): the next one waits longer.
    clock.set(first);
    eventually("the second re-fetch is planned", || {
        kim_sync(&engine).1.is_some_and(|t| t > first)
    })
    .await;
    let second = kim_sync(&engine).1.unwrap();
    assert!(
        second >= first + Duration::seconds(30) && second < first + Duration::seconds(90),
        "{second} after {first}"
    );
    assert_eq!(kim_find_items(&mock), before + 2);
    assert_eq!(engine.status().health, sync_engine::Health::Degraded);

    // The server is healthy again: the next re-fetch brings the change and clears the mark.
    clock.set(second);
    eventually("the re-fetched change", || {
        kim_subjects(&engine).contains(&"Booked while failing".to_string())
    })
    .await;
    assert_eq!(kim_sync(&engine), (None, None));
    assert_eq!(kim_find_items(&mock), before + 3);
    // And nothing keeps re-fetching after the success (5 min: within the pull
    // subscription's 10 min timeout, whose expiry would rightly resync).
    clock.advance(Duration::minutes(5));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(kim_find_items(&mock), before + 3);
}

#[tokio::test]
async fn fifteen_mailboxes_stream_over_one_shared_connection() {
    // More mailboxes than Exchange's 10 hanging connections per account: the engine must
    // group their subscriptions onto shared GetStreamingEvents connections.
    let t0 = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
    let clock = Clock::frozen_at(t0);
    let boxes: Vec<serde_json::Value> = (0..15)
        .map(|i| serde_json::json!({ "smtp": format!("u{i}@contoso.test") }))
        .collect();
    let spec: WorldSpec = serde_json::from_value(serde_json::json!({
        "mailboxes": boxes,
        "accounts": [{ "user": "svc-sync", "password": "sync-pw", "impersonation": "all" }],
    }))
    .unwrap();
    let mock = MockEws::builder()
        .world(spec)
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let mut text = format!(
        "[exchange]\nurl = \"{}\"\nusername = \"svc-sync\"\npassword = \"sync-pw\"\n[notifications]\nmode = \"streaming\"\n",
        mock.ews_url()
    );
    for i in 0..15 {
        text.push_str(&format!("[[users]]\nemail = \"u{i}@contoso.test\"\n"));
    }
    let config = Config::parse("test", &text, |_| None).unwrap();
    let client = EwsClient::new(&config.exchange, clock.clone()).unwrap();
    let engine = Engine::new(config, clock.clone(), Arc::new(client));
    let _tasks = engine.start();
    eventually("all subscribed", || {
        let s = engine.status();
        s.connection.full_syncs >= 1 && s.mailboxes.iter().all(|m| m.subscribed)
    })
    .await;
    let spec: mock_ews::ItemSpec = serde_json::from_value(serde_json::json!({
        "subject": "Late booking",
        "start": "2026-03-30T08:00:00Z",
        "duration": "30m",
    }))
    .unwrap();
    mock.store().create_item("u14@contoso.test", &spec).unwrap();
    eventually("the change on the 15th mailbox", || {
        engine.appointments("u14@contoso.test").unwrap().len() == 1
    })
    .await;
    assert_eq!(
        engine.presence("u14@contoso.test").unwrap().presence.state,
        PresenceState::Meeting
    );
    let log = crate::support::messages(&engine);
    assert!(!log.iter().any(|m| m.contains("lost")), "{log:#?}");
}

#[tokio::test]
async fn push_notifications_from_mock_ews_reach_the_listener_and_presence() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (mock, engine, _clock) = start_with(&format!(
        "[notifications]\nmode = \"push\"\ncallback_url = \"http://127.0.0.1:{port}/ews/notify\"\nlisten = \"127.0.0.1:{port}\"\n"
    ))
    .await;
    let router = sync_engine::api::push_router(engine.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let _tasks = engine.start();
    eventually("kim subscribed and the first sync done", || {
        let status = engine.status();
        status.connection.full_syncs >= 1
            && status
                .mailboxes
                .iter()
                .any(|m| m.email == "kim@contoso.test" && m.subscribed)
    })
    .await;
    let from = mock.journal().entries().len();
    add_meeting(&mock, "Pushed in");
    eventually("the pushed change", || {
        kim_subjects(&engine).contains(&"Pushed in".to_string())
    })
    .await;
    // The pushed events name the new item: one GetItem, no CalendarView.
    assert_eq!(requests_since(&mock, from), ["GetItem"]);
    let log = crate::support::messages(&engine);
    assert!(
        !log.iter().any(|m| m.contains("Unreadable push")),
        "{log:#?}"
    );
}

#[tokio::test]
async fn a_cut_stream_and_an_early_expiry_lose_no_change() {
    use mock_ews::{Channel, NotifyFault, NotifyFaultSpec};
    let (mock, engine, _clock) = start_with("[notifications]\nmode = \"streaming\"\n").await;
    let _tasks = engine.start();
    eventually("kim subscribed and the first sync done", || {
        let status = engine.status();
        status.connection.full_syncs >= 1
            && status
                .mailboxes
                .iter()
                .any(|m| m.email == "kim@contoso.test" && m.subscribed)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // The mock cuts the stream mid-envelope: the event in it is gone, only the resync after
    // re-subscribing can find the meeting.
    mock.notifications()
        .faults()
        .add(NotifyFaultSpec::next(NotifyFault::StreamCut, 1).on(Channel::Streaming))
        .unwrap();
    add_meeting(&mock, "Cut");
    eventually("the change behind the cut", || {
        kim_subjects(&engine).contains(&"Cut".to_string())
    })
    .await;

    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    mock.notifications()
        .faults()
        .add(NotifyFaultSpec::next(NotifyFault::ExpireEarly, 1).for_mailbox("kim@contoso.test"))
        .unwrap();
    add_meeting(&mock, "Expired");
    eventually("the change behind the expiry", || {
        kim_subjects(&engine).contains(&"Expired".to_string())
    })
    .await;
    let log = crate::support::messages(&engine);
    assert!(
        log.iter()
            .filter(|m| m.starts_with("Subscription lost"))
            .count()
            >= 2,
        "{log:#?}"
    );
}

#[tokio::test]
async fn server_busy_from_mock_ews_is_waited_out_exactly() {
    use mock_ews::{BusyForm, FaultKind, FaultSpec};
    let (mock, engine, clock) = start().await;
    mock.faults()
        .add(
            FaultSpec::next(
                FaultKind::ServerBusy {
                    back_off_ms: 250,
                    form: BusyForm::Message,
                },
                1,
            )
            .for_operation("FindItem"),
        )
        .unwrap();
    // The clock is frozen: the engine's back-off sleep needs it to move, as a scenario would.
    let ticker = {
        let clock = clock.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                clock.advance(Duration::milliseconds(50));
            }
        })
    };
    let report = engine.full_sync().await;
    ticker.abort();
    assert_eq!(
        report.failed,
        2,
        "denied and ghost only: {:#?}",
        engine.status()
    );
    assert!(!kim_subjects(&engine).is_empty());
    mock.journal().waited_at_least_backoff().unwrap();
    assert!(mock.journal().retried_after_failures());
}

#[tokio::test]
async fn the_binary_runs_against_mock_ews_and_serves_its_api() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let spec = WorldSpec::from_yaml(WORLD, "test world").unwrap();
    let mock = MockEws::builder().world(spec).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("engine.toml");
    std::fs::write(
        &file,
        format!(
            "[exchange]\nurl = \"{}\"\nusername = \"svc-sync\"\n[notifications]\nmode = \"pull\"\n[api]\nlisten = \"127.0.0.1:0\"\n[[users]]\nemail = \"kim@contoso.test\"\n",
            mock.ews_url()
        ),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sync-engine"))
        .arg("--config")
        .arg(&file)
        .env("EWS_ENGINE_PASSWORD", "sync-pw")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let api = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
            .await
            .expect("the engine logs within 10 s")
            .unwrap()
            .expect("the engine keeps running");
        seen.push(line.clone());
        if let Some(addr) = line.split("API listening on ").nth(1) {
            break addr.trim().to_string();
        }
    };
    let http = sync_engine::ews::http_client_builder().build().unwrap();
    let mut status = serde_json::Value::Null;
    for _ in 0..200 {
        let bytes = http
            .get(format!("{api}/api/status"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        status = serde_json::from_slice(&bytes).unwrap();
        if status["connection"]["fullSyncs"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status["health"], "online", "{status:#}\n{seen:#?}");
    let bytes = http
        .get(format!("{api}/api/users/kim@contoso.test/presence"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let users: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(users["presence"]["state"], "absent", "{users:#}");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_weekly_resync_runs_on_the_shared_clock() {
    let (mock, engine, clock) =
        start_with("[notifications]\nmode = \"pull\"\npull_interval = \"1h\"\n").await;
    let _tasks = engine.start();
    eventually("the first full sync", || {
        engine.status().connection.full_syncs == 1
    })
    .await;
    let finds = mock.journal().of("FindItem").len();
    assert_eq!(
        engine.status().connection.next_full_sync,
        Some(clock.now() + Duration::weeks(1))
    );
    // A week later on the mock's clock: the engine resyncs every mailbox, and the window
    // (and so the standup occurrences seen) moves with the clock.
    clock.advance(Duration::weeks(1));
    eventually("the weekly full sync", || {
        engine.status().connection.full_syncs == 2
    })
    .await;
    assert!(mock.journal().of("FindItem").len() > finds);
    assert!(
        kim_subjects(&engine).is_empty(),
        "the week after has no meetings"
    );
}

/// The requests the engine sent after journal entry `from`, streaming reads left out.
fn requests_since(mock: &MockEws, from: usize) -> Vec<String> {
    mock.journal()
        .entries()
        .into_iter()
        .skip(from)
        .map(|e| e.operation)
        .filter(|op| op != "GetStreamingEvents")
        .collect()
}

fn kim_appointment(engine: &Engine, subject: &str) -> Vec<sync_engine::Appointment> {
    engine
        .appointments("kim@contoso.test")
        .unwrap()
        .into_iter()
        .filter(|a| a.subject.as_deref() == Some(subject))
        .collect()
}

/// One notification, one small fetch: a created or modified single item is fetched by id
/// (one GetItem, no CalendarView), a deleted one is dropped without any request, and a
/// series (whose occurrences only a CalendarView expands) fetches the window.
#[tokio::test]
async fn a_notification_fetches_only_what_changed() {
    let (mock, engine, _clock) = start_with("[notifications]\nmode = \"streaming\"\n").await;
    let _tasks = engine.start();
    eventually("kim subscribed and streaming", || {
        engine
            .status()
            .mailboxes
            .iter()
            .any(|m| m.email == "kim@contoso.test" && m.subscribed)
            && mock
                .journal()
                .entries()
                .iter()
                .any(|e| e.operation == "GetStreamingEvents")
    })
    .await;
    // Let the shared streaming connection settle (it is rebuilt 200 ms after changes).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let before = kim_subjects(&engine).len();

    // Created: one GetItem of that item.
    let from = mock.journal().entries().len();
    let spec: mock_ews::ItemSpec = serde_json::from_value(serde_json::json!({
        "subject": "Escalation",
        "start": "2026-03-30T12:00:00Z",
        "duration": "30m",
    }))
    .unwrap();
    let created = mock.store().create_item("kim@contoso.test", &spec).unwrap();
    eventually("the created meeting", || {
        kim_appointment(&engine, "Escalation").len() == 1
    })
    .await;
    assert_eq!(requests_since(&mock, from), ["GetItem"]);
    assert_eq!(kim_subjects(&engine).len(), before + 1);

    // Modified (moved an hour later and renamed; the mock's ItemId changes with every
    // revision, as the engine must allow): one GetItem, the old version replaced.
    let from = mock.journal().entries().len();
    let modified = mock
        .store()
        .update_item(&created.item_id, None, |item| {
            item.subject = "Escalation (moved)".into();
            item.start += chrono::Duration::hours(1);
            item.end += chrono::Duration::hours(1);
            Ok(())
        })
        .unwrap();
    eventually("the modified meeting", || {
        kim_appointment(&engine, "Escalation (moved)").len() == 1
    })
    .await;
    assert!(kim_appointment(&engine, "Escalation").is_empty());
    let moved = &kim_appointment(&engine, "Escalation (moved)")[0];
    assert_eq!(
        moved.start,
        Utc.with_ymd_and_hms(2026, 3, 30, 13, 0, 0).unwrap()
    );
    assert_eq!(requests_since(&mock, from), ["GetItem"]);
    assert_eq!(kim_subjects(&engine).len(), before + 1);

    // Deleted: dropped by id, nothing fetched.
    let from = mock.journal().entries().len();
    mock.store().delete_item(&modified.item_id, None).unwrap();
    eventually("the deleted meeting gone", || {
        kim_appointment(&engine, "Escalation (moved)").is_empty()
    })
    .await;
    assert_eq!(requests_since(&mock, from), Vec::<String>::new());
    assert_eq!(kim_subjects(&engine).len(), before);

    // A new series: GetItem says RecurringMaster, so the window is fetched for its
    // occurrences (three in the week).
    let from = mock.journal().entries().len();
    let spec: mock_ews::ItemSpec = serde_json::from_value(serde_json::json!({
        "subject": "Daily sync",
        "start": "2026-03-30T15:00:00Z",
        "duration": "15m",
        "recurrence": { "daily": true, "count": 3 },
    }))
    .unwrap();
    mock.store().create_item("kim@contoso.test", &spec).unwrap();
    eventually("the series' occurrences", || {
        kim_appointment(&engine, "Daily sync").len() == 3
    })
    .await;
    assert_eq!(requests_since(&mock, from), ["GetItem", "FindItem"]);
    assert_eq!(kim_subjects(&engine).len(), before + 3);
}

#[tokio::test]
async fn streams_closed_at_once_are_reopened_on_a_back_off_not_in_a_loop() {
    use mock_ews::{Channel, NotifyFault, NotifyFaultSpec};
    // Every GetStreamingEvents is answered `ConnectionStatus` `Closed` at once: a normal end,
    // not an error, so nothing but the quick-end back-off keeps the engine from spinning.
    let (mock, engine, clock) =
        start_with("[notifications]\nmode = \"streaming\"\nstreaming_lifetime = \"5m\"\n").await;
    let rule = mock
        .notifications()
        .faults()
        .add(NotifyFaultSpec {
            times: None,
            ..NotifyFaultSpec::next(NotifyFault::CloseAtOnce, 0).on(Channel::Streaming)
        })
        .unwrap();
    let _tasks = engine.start();
    let quick = "A streaming connection was closed by the server within 10 s";
    let warnings = |engine: &Engine| {
        engine
            .log()
            .lines(&Default::default())
            .into_iter()
            .filter(|l| l.message.starts_with(quick))
            .count()
    };
    // Both mailboxes that can subscribe have (no later registration rebuilds the streams).
    eventually("kim and ceo subscribed and a stream closed at once", || {
        let status = engine.status();
        ["kim@contoso.test", "ceo@contoso.test"].iter().all(|e| {
            status
                .mailboxes
                .iter()
                .any(|m| m.email == *e && m.subscribed)
        }) && warnings(&engine) == 1
    })
    .await;
    let streams = || mock.journal().of("GetStreamingEvents").len();
    let before = streams();
    // 120 s of the shared (frozen) clock, one second at a time, with real time in between
    // for the engine to reopen whatever its back-off allows. The waits double from 1 s to
    // 60 s (each x0.5..1.5 jitter): even at the shortest, 0.5 + 1 + ... + 16 + 30 + 30 s,
    // at most 8 fit in 120 s (~log2 of the span). Without a back-off the engine reopens as
    // fast as the mock answers, whatever the clock says (over a thousand here).
    for _ in 0..120 {
        clock.advance(Duration::seconds(1));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let during = streams() - before;
    assert!(during <= 8, "{during} GetStreamingEvents in 120 s");
    assert!(during >= 1, "the engine kept trying");
    assert_eq!(warnings(&engine), 1, "logged once per episode");

    // The server behaves again: the change made meanwhile is queued on the subscription and
    // arrives on the first connection that stays open (after at most 90 s of back-off).
    assert!(mock.notifications().faults().remove(rule));
    add_meeting(&mock, "After the storm");
    for _ in 0..10 {
        clock.advance(Duration::seconds(10));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    eventually("the change delivered by the stream", || {
        kim_subjects(&engine).contains(&"After the storm".to_string())
    })
    .await;
    let log = crate::support::messages(&engine);
    assert!(
        !log.iter().any(|m| m.starts_with("Subscription lost")),
        "{log:#?}"
    );

    // A connection ending after its lifetime is reopened at once and ends the episode.
    let open = streams();
    clock.advance(Duration::minutes(5));
    eventually("the stream reopened after its lifetime", || {
        streams() > open
    })
    .await;
    eventually("the episode over", || {
        engine
            .log()
            .lines(&Default::default())
            .iter()
            .any(|l| l.message.starts_with("Streaming connections last again"))
    })
    .await;
}
