//! Syncing and scheduling on virtual time: start-up, weekly resync, OOF polling, force-now,
//! server busy, per-mailbox failures, going offline and back.

use calendar_core::{OofSettings, OofState, PresenceState};
use chrono::Duration;
use sync_engine::{ExchangeError, Health};

use crate::support::{COUNTER, meeting, messages, t0, world};

#[tokio::test(start_paused = true)]
async fn start_up_logs_like_the_product_and_syncs_every_mailbox() {
    let w = world(COUNTER);
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Standup", 60, 30)]);
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;

    let log = messages(&w.engine);
    let expected = [
        "EWS starting",
        "EWS URL: https://ex01.contoso.test/EWS/Exchange.asmx",
        "Connected to Exchange (v14.03.0181.0006)",
        "Fetching calendars of 3 mailboxes (7 days)",
        "Fetching OOF settings for 3 users",
        "Full sync done: 3 of 3 mailboxes synced",
    ];
    let found: Vec<&str> = log
        .iter()
        .map(String::as_str)
        .filter(|m| expected.contains(m))
        .collect();
    assert_eq!(found, expected, "{log:#?}");
    assert!(
        w.engine
            .log()
            .lines(&Default::default())
            .iter()
            .all(|l| l.at == t0())
    );
    assert_eq!(w.engine.appointments("kim@contoso.test").unwrap().len(), 1);
    let status = w.engine.status();
    assert_eq!(status.health, Health::Online, "{}", status.reason);
}

#[tokio::test(start_paused = true)]
async fn resyncs_once_a_week_in_virtual_time() {
    let w = world("");
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::weeks(3) + Duration::hours(1)).await;
    // Start-up plus three weekly resyncs, for Kim (CalendarView) and the CEO (free/busy).
    assert_eq!(w.exchange.count("CalendarView"), 4);
    assert_eq!(w.exchange.count("GetUserAvailability"), 4);
    let full_sync_times: Vec<_> = w
        .engine
        .log()
        .lines(&Default::default())
        .into_iter()
        .filter(|l| l.message.starts_with("Full sync done"))
        .map(|l| l.at)
        .collect();
    assert_eq!(
        full_sync_times,
        (0..4)
            .map(|i| t0() + Duration::weeks(i))
            .collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn an_oof_change_is_picked_up_by_the_next_poll() {
    let w = world("");
    let _tasks = w.engine.start();
    let mut changes = w.engine.subscribe_presence();
    w.clock.sleep(Duration::minutes(1)).await;
    w.exchange.set_oof(
        "kim@contoso.test",
        OofSettings {
            state: OofState::Enabled,
            internal_reply: "<p>On leave</p>".into(),
            ..Default::default()
        },
    );
    w.clock.sleep(Duration::minutes(15)).await;
    let p = w.engine.presence("kim@contoso.test").unwrap();
    assert_eq!(p.presence.state, PresenceState::Absent);
    assert_eq!(p.presence.message.as_deref(), Some("On leave"));
    let mut absent_at = None;
    while let Ok(e) = changes.try_recv() {
        if e.user == "kim@contoso.test" && e.presence.state == PresenceState::Absent {
            absent_at = Some(e.at);
        }
    }
    // The default poll interval is 15 minutes from start-up.
    assert_eq!(absent_at, Some(t0() + Duration::minutes(15)));
}

#[tokio::test(start_paused = true)]
async fn force_sync_runs_a_full_sync_at_once() {
    let w = world("");
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::hours(1)).await;
    assert_eq!(w.exchange.count("CalendarView"), 1);
    // OOF changes do not notify; without force-now this would wait for the next poll.
    w.exchange.set_oof(
        "kim@contoso.test",
        OofSettings {
            state: OofState::Enabled,
            ..Default::default()
        },
    );
    w.engine.force_sync();
    w.clock.sleep(Duration::seconds(1)).await;
    assert_eq!(w.exchange.count("CalendarView"), 2);
    let p = w.engine.presence("kim@contoso.test").unwrap();
    assert_eq!(p.presence.state, PresenceState::Absent);
}

#[tokio::test(start_paused = true)]
async fn server_busy_back_off_is_honoured_exactly_for_every_request() {
    let w = world("");
    w.exchange.fail_next(ExchangeError::ServerBusy {
        operation: "GetServerVersion",
        back_off: Duration::milliseconds(1500),
    });
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(5)).await;
    let lines = w.engine.log().lines(&Default::default());
    let connected = lines
        .iter()
        .find(|l| l.message.starts_with("Connected to Exchange"))
        .unwrap();
    assert_eq!(connected.at, t0() + Duration::milliseconds(1500));
    assert!(
        lines
            .iter()
            .any(|l| l.message.contains("retry 1 of 3 in 1500 ms"))
    );
}

#[tokio::test(start_paused = true)]
async fn impersonation_denied_for_one_user_leaves_the_others_working() {
    let w = world("");
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Standup", 60, 30)]);
    w.exchange.fail_mailbox(
        "ceo@contoso.test",
        Some(ExchangeError::ImpersonationDenied {
            operation: "GetUserAvailability",
            mailbox: "ceo@contoso.test".into(),
            code: "ErrorImpersonateUserDenied".into(),
        }),
    );
    let report = w.engine.full_sync().await;
    assert_eq!(
        (report.connected, report.mailboxes, report.failed),
        (true, 2, 1)
    );
    assert_eq!(w.engine.appointments("kim@contoso.test").unwrap().len(), 1);
    let status = w.engine.status();
    assert_eq!(status.health, Health::Degraded);
    assert_eq!(
        status.reason,
        "1 of 2 mailboxes failing: ceo@contoso.test (impersonationDenied)"
    );
    let errors: Vec<_> = w
        .engine
        .log()
        .lines(&Default::default())
        .into_iter()
        .filter(|l| l.level == sync_engine::Level::Error)
        .map(|l| l.mailbox)
        .collect();
    assert_eq!(errors, vec![Some("ceo@contoso.test".to_string()); 2]);

    // Healing the mailbox clears its error at the next sync.
    w.exchange.fail_mailbox("ceo@contoso.test", None);
    w.engine.full_sync().await;
    assert_eq!(w.engine.status().health, Health::Online);
}

#[tokio::test(start_paused = true)]
async fn a_user_without_email_is_reported_and_does_not_stop_the_others() {
    let w = world("[[users]]\nname = \"Lobby phone\"\n");
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    let status = w.engine.status();
    assert_eq!(status.health, Health::Degraded);
    assert_eq!(status.problems.len(), 1);
    assert_eq!(status.problems[0].name, "Lobby phone");
    assert!(
        messages(&w.engine).contains(
            &"user Lobby phone: no email address: calendar integration skipped".to_string()
        )
    );
    assert_eq!(w.engine.users().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn goes_offline_when_exchange_is_down_and_recovers_with_back_off() {
    let w = world("");
    w.exchange.set_down(Some(ExchangeError::Unauthorized {
        operation: "GetServerVersion",
    }));
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    let status = w.engine.status();
    assert_eq!(status.health, Health::Offline);
    assert!(status.reason.contains("HTTP 401"), "{}", status.reason);
    assert_eq!(w.exchange.count("CalendarView"), 0);

    w.exchange.set_down(None);
    // First reconnect after 30 s.
    w.clock.sleep(Duration::seconds(30)).await;
    assert_eq!(w.engine.status().health, Health::Online);
    assert_eq!(w.exchange.count("CalendarView"), 1);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_seeded_jitter() {
    let w = world("");
    for _ in 0..2 {
        w.exchange.fail_next(ExchangeError::Timeout {
            operation: "GetServerVersion",
            after: Duration::seconds(30),
        });
    }
    assert!(w.engine.connect().await);
    let waits: Vec<String> = messages(&w.engine)
        .into_iter()
        .filter(|m| m.contains("retry"))
        .collect();
    assert_eq!(waits.len(), 2, "{waits:?}");
    // Exponential: the second wait's base is twice the first's; jitter keeps each in
    // [0.5, 1.5) of its base.
    let ms = |s: &str| -> i64 {
        s.rsplit(" in ")
            .next()
            .unwrap()
            .trim_end_matches(" ms")
            .parse()
            .unwrap()
    };
    assert!((500..1500).contains(&ms(&waits[0])), "{waits:?}");
    assert!((1000..3000).contains(&ms(&waits[1])), "{waits:?}");
}

#[tokio::test(start_paused = true)]
async fn privacy_mode_reads_free_busy_only_and_never_keeps_a_subject() {
    let w = world("");
    w.exchange
        .set_appointments("ceo@contoso.test", vec![meeting("Secret merger", 60, 60)]);
    w.engine.full_sync().await;
    assert_eq!(
        w.exchange
            .calls()
            .iter()
            .filter(|c| c.mailbox.as_deref() == Some("ceo@contoso.test"))
            .map(|c| c.operation)
            .collect::<Vec<_>>(),
        ["GetUserAvailability", "GetUserOofSettings"]
    );
    // Even if a client handed the engine a subject, the store drops it.
    let window = w.engine.state().mailboxes["ceo@contoso.test"]
        .sync
        .window
        .unwrap();
    w.engine.store_calendar(
        "ceo@contoso.test",
        vec![meeting("Secret merger", 60, 60)],
        window,
        t0(),
    );
    let dump = format!("{:?}", w.engine.state());
    assert!(!dump.contains("Secret merger"));
    assert!(!dump.contains("Room 1"));
    let status = serde_json::to_string(&w.engine.status()).unwrap();
    assert!(!status.contains("Secret merger"));
    assert!(
        messages(&w.engine)
            .iter()
            .all(|m| !m.contains("Secret merger"))
    );
    w.clock.sleep(Duration::minutes(61)).await;
    let p = w.engine.presence("ceo@contoso.test").unwrap();
    assert_eq!(p.presence.state, PresenceState::Meeting);
    assert!(!serde_json::to_string(&p).unwrap().contains("Secret merger"));
}
