//! Presence serving: changes detected at the instants calendar-core reports, overrides.

use calendar_core::{PresenceReason, PresenceState};
use chrono::Duration;
use sync_engine::OverrideRequest;

use crate::support::{meeting, t0, world};

#[tokio::test(start_paused = true)]
async fn presence_changes_exactly_when_a_meeting_starts_and_ends() {
    let w = world("");
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Standup", 60, 30)]);
    let mut changes = w.engine.subscribe_presence();
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::hours(2)).await;
    let mut kim = Vec::new();
    while let Ok(e) = changes.try_recv() {
        if e.user == "kim@contoso.test" {
            kim.push((e.at, e.previous, e.presence.state));
        }
    }
    assert_eq!(
        kim,
        [
            (t0(), None, PresenceState::Available),
            (
                t0() + Duration::minutes(60),
                Some(PresenceState::Available),
                PresenceState::Meeting
            ),
            (
                t0() + Duration::minutes(90),
                Some(PresenceState::Meeting),
                PresenceState::Available
            ),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn an_override_holds_until_the_next_blocking_appointment_starts() {
    let w = world("");
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Standup", 60, 30)]);
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::minutes(10)).await;
    let p = w
        .engine
        .set_override(
            "Kim@Contoso.test",
            OverrideRequest {
                state: PresenceState::Absent,
                message: Some("At the dentist".into()),
                expires: None,
            },
        )
        .unwrap();
    assert_eq!(p.presence.state, PresenceState::Absent);
    assert_eq!(
        p.presence.reason,
        PresenceReason::Override {
            set_at: t0() + Duration::minutes(10),
            until: Some(t0() + Duration::minutes(60))
        }
    );
    w.clock.sleep(Duration::minutes(55)).await;
    let p = w.engine.presence("kim@contoso.test").unwrap();
    assert_eq!(p.presence.state, PresenceState::Meeting);
    // The watcher dropped the spent override, and the meeting's end does not revive it.
    assert!(w.engine.state().overrides.is_empty());
    w.clock.sleep(Duration::minutes(30)).await;
    let p = w.engine.presence("kim@contoso.test").unwrap();
    assert_eq!(p.presence.state, PresenceState::Available);
}

#[tokio::test(start_paused = true)]
async fn clearing_an_override_restores_calendar_presence() {
    let w = world("");
    w.engine.full_sync().await;
    let req = OverrideRequest {
        state: PresenceState::Meeting,
        message: None,
        expires: None,
    };
    w.engine.set_override("kim@contoso.test", req).unwrap();
    assert!(w.engine.clear_override("kim@contoso.test").unwrap());
    assert!(!w.engine.clear_override("kim@contoso.test").unwrap());
    let p = w.engine.presence("kim@contoso.test").unwrap();
    assert_eq!(p.presence.state, PresenceState::Available);
    assert!(
        w.engine
            .set_override(
                "nobody@contoso.test",
                OverrideRequest {
                    state: PresenceState::Meeting,
                    message: None,
                    expires: None,
                }
            )
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn an_all_day_item_from_another_zone_covers_exactly_its_day() {
    use calendar_core::FreeBusyStatus;
    use chrono::{TimeZone, Utc};
    // An all-day OOF item created in Berlin on 2026-03-31: Exchange sends midnight to
    // midnight Berlin time, 2026-03-30T22:00Z to 2026-03-31T22:00Z (CEST).
    let w = world("");
    let start = Utc.with_ymd_and_hms(2026, 3, 30, 22, 0, 0).unwrap();
    let mut day =
        sync_engine::Appointment::new(start, start + Duration::days(1), FreeBusyStatus::Oof);
    day.all_day = true;
    w.exchange.set_appointments("kim@contoso.test", vec![day]);
    w.engine.full_sync().await;
    let at = |h: i64| {
        w.clock.set(start + Duration::hours(h));
        w.engine
            .presence("kim@contoso.test")
            .unwrap()
            .presence
            .state
    };
    assert_eq!(
        at(-1),
        PresenceState::Available,
        "the evening before, Berlin time"
    );
    assert_eq!(at(1), PresenceState::Absent);
    assert_eq!(at(23), PresenceState::Absent);
    assert_eq!(
        at(25),
        PresenceState::Available,
        "the day after has begun in Berlin"
    );
}
