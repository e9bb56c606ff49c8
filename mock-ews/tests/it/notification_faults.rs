//! Faults on notifications and the conformance checks that judge a client under them.

use chrono::Duration;
use ews_proto::notification::EventType;
use mock_ews::{Channel, NotifyFault, NotifyFaultSpec, Record};

use crate::notification::{
    BOB, SVC, code, get_events, get_events_raw, kinds, last_watermark, pull_request, standup_spec,
    subscribe,
};
use crate::notification_push::{Answer, push_request, received, setup};
use crate::notification_streaming::{
    Stream, connection_status, office_running, payload, streaming_request,
};
use crate::support::{http, office};

fn faults_of(ews: &mock_ews::MockEws) -> Vec<String> {
    ews.notifications()
        .journal()
        .into_iter()
        .filter_map(|e| match e.record {
            Record::FaultInjected { fault, .. } => Some(fault),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_dropped_pull_batch_is_lost_and_the_conformance_check_says_so() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    ews.notifications()
        .faults()
        .add(NotifyFaultSpec::next(NotifyFault::Drop, 1).on(Channel::Pull))
        .unwrap();
    ews.store().create_item(BOB, &standup_spec("lost")).unwrap();
    let n = get_events(&ews, &id, &wm.unwrap()).await;
    // The client only sees a StatusEvent whose watermark lies past the lost events.
    assert_eq!(kinds(&n), [EventType::StatusEvent]);
    assert!(!ews.notifications().no_event_lost(BOB));
    let lost = ews.notifications().lost_events(BOB);
    let lost_kinds: Vec<_> = lost.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(
        lost_kinds,
        ["CreatedEvent", "FreeBusyChangedEvent", "ModifiedEvent"]
    );
    assert_eq!(faults_of(&ews), ["drop"]);

    // Later events still flow and are not lost.
    ews.store().create_item(BOB, &standup_spec("kept")).unwrap();
    let n2 = get_events(&ews, &id, &last_watermark(&n)).await;
    assert_eq!(n2.events.len(), 3);
    assert_eq!(ews.notifications().lost_events(BOB).len(), 3);
}

#[tokio::test]
async fn reorder_and_expire_early_on_pull() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    let faults = ews.notifications().faults();
    faults
        .add(NotifyFaultSpec::next(NotifyFault::Reorder, 1))
        .unwrap();
    ews.store().create_item(BOB, &standup_spec("x")).unwrap();
    let n = get_events(&ews, &id, &wm.unwrap()).await;
    assert_eq!(
        kinds(&n),
        [
            EventType::ModifiedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::CreatedEvent
        ]
    );
    assert!(ews.notifications().no_event_lost(BOB));

    faults
        .add(NotifyFaultSpec::next(NotifyFault::ExpireEarly, 1).for_mailbox(BOB))
        .unwrap();
    ews.store().create_item(BOB, &standup_spec("y")).unwrap();
    let wm = n.events[2].watermark.clone().unwrap();
    let body = get_events_raw(&ews, &id, &wm).await;
    assert_eq!(code(&body), "ErrorExpiredSubscription");
    assert_eq!(faults_of(&ews), ["reorder", "expireEarly"]);
}

#[tokio::test]
async fn resuming_from_the_last_watermark_passes_and_starting_fresh_does_not() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    ews.store().create_item(BOB, &standup_spec("a")).unwrap();
    let n = get_events(&ews, &id, &wm.unwrap()).await;
    let last = last_watermark(&n);
    // Lost subscription, resumed correctly.
    let (id2, _) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, Some(&last))).await;
    ews.store().create_item(BOB, &standup_spec("b")).unwrap();
    let n2 = get_events(&ews, &id2, &last).await;
    assert!(ews.notifications().resumed_from_last_watermark(BOB));
    assert!(ews.notifications().no_event_lost(BOB));

    // A third subscription starts fresh while a change is raised in the gap.
    ews.store().create_item(BOB, &standup_spec("gap")).unwrap();
    let (id3, wm3) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    ews.store().create_item(BOB, &standup_spec("c")).unwrap();
    get_events(&ews, &id3, &wm3.unwrap()).await;
    let v = ews.notifications().resume_violations(BOB);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].subscription_id, id3);
    assert_eq!(v[0].expected, last_watermark(&n2));
    assert_eq!(v[0].got, None);
    let lost = ews.notifications().lost_events(BOB);
    assert_eq!(lost.len(), 3, "the change in the gap: {lost:?}");

    // The same verdict over the control API.
    let r = http(
        &ews,
        "GET",
        "/mock/notifications/conformance?mailbox=bob@contoso.com",
        &[],
        b"",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["noEventLost"], false, "{}", r.body);
    assert_eq!(v["resumedFromLastWatermark"], false);
    assert_eq!(v["lostEvents"].as_array().unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_stream_cut_mid_chunk_loses_its_envelope() {
    let ews = office_running().await;
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    let mut s = Stream::open(&ews, BOB, &[&id], 10).await;
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("OK")
    );
    // Installed over the control API, as a non-Rust test would.
    let r = http(
        &ews,
        "POST",
        "/mock/notification-faults",
        &[("Content-Type", "application/json".into())],
        br#"{"fault":{"kind":"streamCut"},"channel":"streaming","times":1}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    ews.store().create_item(BOB, &standup_spec("cut")).unwrap();
    assert_eq!(s.next().await, None, "no complete envelope after the cut");
    assert!(
        s.rest().starts_with("<Envelope"),
        "half an envelope: {}",
        s.rest()
    );
    assert!(!s.rest().contains("</Envelope>"));
    assert_eq!(
        ews.notifications().lost_events(BOB).len(),
        0,
        "nothing delivered yet"
    );
    // The client reconnects; later events flow again, the cut ones are gone.
    let mut s = Stream::open(&ews, BOB, &[&id], 10).await;
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("OK")
    );
    ews.store()
        .create_item(BOB, &standup_spec("after"))
        .unwrap();
    let env = s.next().await.unwrap();
    assert_eq!(
        payload(&env).payload.notifications.unwrap()[0].events.len(),
        3
    );
    assert_eq!(ews.notifications().lost_events(BOB).len(), 3);
    assert_eq!(faults_of(&ews), ["streamCut"]);
}

#[tokio::test(start_paused = true)]
async fn close_at_once_ends_streams_normally_and_keeps_their_events() {
    let ews = office_running().await;
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    let r = http(
        &ews,
        "POST",
        "/mock/notification-faults",
        &[("Content-Type", "application/json".into())],
        br#"{"fault":{"kind":"closeAtOnce"},"channel":"streaming","mailbox":"bob@contoso.com","times":2}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    ews.store()
        .create_item(BOB, &standup_spec("queued"))
        .unwrap();
    let before = ews.clock().now();
    for _ in 0..2 {
        // One complete `Closed` envelope, no `OK` and no event, then the body ends.
        let mut s = Stream::open(&ews, BOB, &[&id], 10).await;
        let env = s.next().await.unwrap();
        assert_eq!(connection_status(&env).as_deref(), Some("Closed"));
        assert!(payload(&env).payload.notifications.is_none());
        assert_eq!(s.next().await, None);
        assert_eq!(s.rest(), "");
    }
    assert_eq!(ews.clock().now(), before, "closed at once");
    // The rule is used up: the next connection is a normal one and gets the queued events.
    let mut s = Stream::open(&ews, BOB, &[&id], 10).await;
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("OK")
    );
    let env = s.next().await.unwrap();
    assert_eq!(
        payload(&env).payload.notifications.unwrap()[0].events.len(),
        3
    );
    assert!(ews.notifications().no_event_lost(BOB));
    assert_eq!(faults_of(&ews), ["closeAtOnce", "closeAtOnce"]);
}

#[tokio::test(start_paused = true)]
async fn duplicate_and_delayed_streaming_envelopes() {
    let ews = office_running().await;
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    let faults = ews.notifications().faults();
    faults
        .add(NotifyFaultSpec::next(NotifyFault::Duplicate, 1))
        .unwrap();
    faults
        .add(NotifyFaultSpec::next(NotifyFault::Delay { seconds: 20 }, 1).on(Channel::Streaming))
        .unwrap();
    let mut s = Stream::open(&ews, BOB, &[&id], 10).await;
    s.next().await.unwrap();
    ews.store()
        .create_item(BOB, &standup_spec("twice"))
        .unwrap();
    let a = s.next().await.unwrap();
    let b = s.next().await.unwrap();
    assert_eq!(a, b, "the same envelope twice");
    ews.store().create_item(BOB, &standup_spec("late")).unwrap();
    let before = ews.clock().now();
    let c = s.next().await.unwrap();
    assert!(payload(&c).payload.notifications.is_some());
    let delivered_at = ews
        .notifications()
        .journal()
        .into_iter()
        .filter(|e| matches!(e.record, Record::Delivered { .. }))
        .map(|e| e.at)
        .next_back()
        .unwrap();
    assert_eq!(delivered_at - before, Duration::seconds(20));
}

#[tokio::test(start_paused = true)]
async fn push_faults_delay_refuse_duplicate_and_drop() {
    let (ews, listener, url) = setup(&[], Answer::Ok).await;
    let faults = ews.notifications().faults();
    faults
        .add(NotifyFaultSpec::next(NotifyFault::Delay { seconds: 90 }, 1).on(Channel::Push))
        .unwrap();
    let (_, wm) = subscribe(&ews, SVC, Some(BOB), &push_request(&url, 30)).await;
    let wm = wm.unwrap();
    ews.store().create_item(BOB, &standup_spec("late")).unwrap();
    ews.clock().sleep(Duration::minutes(2)).await;
    let got = received(&listener);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, Duration::seconds(90));
    assert_eq!(got[0].1.previous_watermark.as_deref(), Some(wm.as_str()));

    // Refused once: the retry 30 s later delivers.
    faults
        .add(NotifyFaultSpec::next(NotifyFault::CallbackRefused, 1))
        .unwrap();
    ews.store()
        .create_item(BOB, &standup_spec("refused"))
        .unwrap();
    let t = ews.clock().now();
    ews.clock().sleep(Duration::minutes(1)).await;
    let got = received(&listener);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[1].0 - (t - crate::notification_streaming::t0()),
        Duration::seconds(30)
    );

    // Duplicated: two identical posts.
    faults
        .add(NotifyFaultSpec::next(NotifyFault::Duplicate, 1))
        .unwrap();
    ews.store()
        .create_item(BOB, &standup_spec("twice"))
        .unwrap();
    ews.clock().sleep(Duration::seconds(1)).await;
    let got = received(&listener);
    assert_eq!(got.len(), 4);
    assert_eq!(got[2].1, got[3].1);
    assert!(ews.notifications().no_event_lost(BOB));

    // Dropped: never posted, reported lost once a later notification was acknowledged.
    faults
        .add(NotifyFaultSpec::next(NotifyFault::Drop, 1))
        .unwrap();
    ews.store()
        .create_item(BOB, &standup_spec("dropped"))
        .unwrap();
    ews.clock().sleep(Duration::seconds(1)).await;
    ews.store()
        .create_item(BOB, &standup_spec("after"))
        .unwrap();
    ews.clock().sleep(Duration::seconds(1)).await;
    assert_eq!(received(&listener).len(), 5);
    assert_eq!(ews.notifications().lost_events(BOB).len(), 3);
    assert_eq!(
        faults_of(&ews),
        ["delay", "callbackRefused", "duplicate", "drop"]
    );
}

#[tokio::test]
async fn notification_faults_are_validated_over_the_control_api() {
    let ews = office().await;
    let r = http(
        &ews,
        "POST",
        "/mock/notification-faults",
        &[],
        br#"{"fault":{"kind":"callbackRefused"},"channel":"pull"}"#,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = http(&ews, "GET", "/mock/notification-faults", &[], b"").await;
    assert_eq!(r.body, "[]");
    let r = http(
        &ews,
        "POST",
        "/mock/notification-faults",
        &[],
        br#"{"fault":{"kind":"drop"},"rate":0.5,"seed":3}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = http(&ews, "GET", "/mock/notification-faults", &[], b"").await;
    let rules: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(rules[0]["spec"]["fault"]["kind"], "drop", "{}", r.body);
    let r = http(&ews, "DELETE", "/mock/notification-faults/1", &[], b"").await;
    assert_eq!(r.status, 204);
    let r = http(&ews, "DELETE", "/mock/notification-faults/1", &[], b"").await;
    assert_eq!(r.status, 404);
}
