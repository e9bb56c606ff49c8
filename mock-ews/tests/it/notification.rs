//! Subscribe, GetEvents and Unsubscribe (pull notifications) over loopback, plus helpers the
//! streaming and push tests share.

use chrono::Duration;
use ews_proto::notification::{EventType, Notification};
use ews_proto::{Limits, Response, ResponseStatus};
use mock_ews::{MockEws, Record};

use crate::support::{envelope, office, soap};

pub(crate) const SVC: (&str, &str) = ("svc-sync", "sync-pw");
pub(crate) const ALICE: (&str, &str) = ("alice@contoso.com", "alice-pw");
pub(crate) const BOB: &str = "bob@contoso.com";

pub(crate) const ITEM_EVENTS: &str = "<t:EventTypes><t:EventType>CreatedEvent</t:EventType><t:EventType>ModifiedEvent</t:EventType><t:EventType>DeletedEvent</t:EventType><t:EventType>MovedEvent</t:EventType><t:EventType>CopiedEvent</t:EventType><t:EventType>FreeBusyChangedEvent</t:EventType></t:EventTypes>";

pub(crate) fn parse(body: &str) -> Response {
    Response::parse_bytes(body.as_bytes(), &Limits::default())
        .unwrap_or_else(|e| panic!("{e}\n{body}"))
        .1
}

fn status_of(r: &Response) -> ResponseStatus {
    match r {
        Response::Subscribe(r) => r.messages[0].status.clone(),
        Response::GetEvents(r) => r.messages[0].status.clone(),
        Response::Unsubscribe(r) => r.messages[0].status.clone(),
        other => panic!("{other:?}"),
    }
}

/// The response code of the single message.
pub(crate) fn code(body: &str) -> String {
    status_of(&parse(body))
        .code
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default()
}

/// Subscribes as `user` (impersonating `mailbox` when given); returns (id, watermark).
pub(crate) async fn subscribe(
    ews: &MockEws,
    user: (&str, &str),
    impersonate: Option<&str>,
    request: &str,
) -> (String, Option<String>) {
    let r = soap(
        ews,
        user,
        &envelope(
            "Exchange2010_SP2",
            impersonate,
            &format!("<m:Subscribe>{request}</m:Subscribe>"),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    match parse(&r.body) {
        Response::Subscribe(s) => {
            let m = &s.messages[0];
            assert!(m.status.is_success(), "{}", r.body);
            (
                m.payload.subscription_id.clone().expect("an id"),
                m.payload.watermark.clone(),
            )
        }
        other => panic!("{other:?}"),
    }
}

pub(crate) fn pull_request(timeout: u32, watermark: Option<&str>) -> String {
    let wm = watermark
        .map(|w| format!("<t:Watermark>{w}</t:Watermark>"))
        .unwrap_or_default();
    format!(
        r#"<m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>{ITEM_EVENTS}{wm}<t:Timeout>{timeout}</t:Timeout></m:PullSubscriptionRequest>"#
    )
}

pub(crate) async fn get_events_raw(ews: &MockEws, id: &str, watermark: &str) -> String {
    let r = soap(
        ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some(BOB),
            &format!("<m:GetEvents><m:SubscriptionId>{id}</m:SubscriptionId><m:Watermark>{watermark}</m:Watermark></m:GetEvents>"),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

pub(crate) async fn get_events(ews: &MockEws, id: &str, watermark: &str) -> Notification {
    let body = get_events_raw(ews, id, watermark).await;
    match parse(&body) {
        Response::GetEvents(g) => {
            assert!(g.messages[0].status.is_success(), "{body}");
            g.messages[0]
                .payload
                .notification
                .clone()
                .expect("a notification")
        }
        other => panic!("{other:?}"),
    }
}

pub(crate) fn kinds(n: &Notification) -> Vec<EventType> {
    n.events.iter().map(|e| e.kind).collect()
}

pub(crate) fn last_watermark(n: &Notification) -> String {
    n.events
        .last()
        .and_then(|e| e.watermark.clone())
        .expect("events carry watermarks")
}

pub(crate) fn standup_spec(subject: &str) -> mock_ews::ItemSpec {
    serde_json::from_value(serde_json::json!({
        "subject": subject,
        "start": "2026-03-24 10:00",
        "duration": "30m",
    }))
    .expect("item spec")
}

#[tokio::test]
async fn pull_reports_items_created_through_ews_and_the_control_side_in_order() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    let wm = wm.expect("pull subscriptions return a watermark");

    // Nothing happened yet: one StatusEvent carrying a watermark.
    let idle = get_events(&ews, &id, &wm).await;
    assert_eq!(kinds(&idle), [EventType::StatusEvent]);
    assert_eq!(idle.previous_watermark.as_deref(), Some(wm.as_str()));
    assert_eq!(idle.more_events, Some(false));
    let wm = last_watermark(&idle);

    // A change in another mailbox is not reported; one in bob's is.
    ews.store()
        .create_item("alice@contoso.com", &standup_spec("Alice only"))
        .unwrap();
    let created = ews
        .store()
        .create_item(BOB, &standup_spec("Bob's"))
        .unwrap();
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some(BOB),
            &format!(r#"<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="{}"/></m:ItemIds></m:DeleteItem>"#, created.item_id),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let n = get_events(&ews, &id, &wm).await;
    assert_eq!(n.subscription_id, id);
    assert_eq!(n.previous_watermark.as_deref(), Some(wm.as_str()));
    assert_eq!(
        kinds(&n),
        [
            EventType::CreatedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent,
            EventType::DeletedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent,
        ]
    );
    let created_event = &n.events[0];
    let item = created_event.item_id.as_ref().unwrap();
    assert_eq!(item.id, created.item_id);
    assert_eq!(
        item.change_key.as_deref(),
        Some(created.change_key.as_str())
    );
    assert!(created_event.time_stamp.is_some());
    assert!(n.events[2].folder_id.is_some(), "folder ModifiedEvent");
    let marks: Vec<_> = n
        .events
        .iter()
        .map(|e| e.watermark.clone().unwrap())
        .collect();
    let mut unique = marks.clone();
    unique.dedup();
    assert_eq!(
        unique.len(),
        marks.len(),
        "every event has its own watermark"
    );

    // Polling again from the last watermark: nothing new.
    let again = get_events(&ews, &id, &last_watermark(&n)).await;
    assert_eq!(kinds(&again), [EventType::StatusEvent]);

    // The journal shows both deliveries.
    let delivered = ews
        .notifications()
        .journal()
        .into_iter()
        .filter(|e| matches!(e.record, Record::Delivered { .. }))
        .count();
    assert_eq!(delivered, 3);
}

#[tokio::test]
async fn more_than_fifty_events_come_in_batches_with_more_events() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    let mut wm = wm.unwrap();
    for i in 0..20 {
        ews.store()
            .create_item(BOB, &standup_spec(&format!("item {i}")))
            .unwrap();
    }
    // 20 changes × 3 events = 60 events: 50, then 10.
    let first = get_events(&ews, &id, &wm).await;
    assert_eq!(first.events.len(), 50);
    assert_eq!(first.more_events, Some(true));
    wm = last_watermark(&first);
    let second = get_events(&ews, &id, &wm).await;
    assert_eq!(second.events.len(), 10);
    assert_eq!(second.more_events, Some(false));
    assert_eq!(second.previous_watermark.as_deref(), Some(wm.as_str()));
    // The split fell inside change 17 (events 48, 49 | 50): nothing lost, nothing repeated.
    assert_eq!(second.events[0].kind, EventType::ModifiedEvent);
    assert!(second.events[0].folder_id.is_some());
}

#[tokio::test]
async fn a_pull_subscription_expires_exactly_after_its_timeout_without_a_poll() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(5, None)).await;
    let wm = wm.unwrap();
    ews.clock()
        .advance(Duration::minutes(5) - Duration::seconds(1));
    // A poll one second before the timeout keeps it alive and restarts the timer.
    let n = get_events(&ews, &id, &wm).await;
    let wm = last_watermark(&n);
    ews.clock()
        .advance(Duration::minutes(5) - Duration::seconds(1));
    let n = get_events(&ews, &id, &wm).await;
    let wm = last_watermark(&n);
    ews.clock().advance(Duration::minutes(5));
    let body = get_events_raw(&ews, &id, &wm).await;
    assert_eq!(code(&body), "ErrorExpiredSubscription", "{body}");
    let expired_at = ews
        .notifications()
        .journal()
        .into_iter()
        .find(|e| e.record == Record::Expired)
        .expect("expiry is journaled")
        .at;
    assert_eq!(expired_at, ews.clock().now());
    assert!(ews.notifications().active().is_empty());
}

#[tokio::test]
async fn resubscribing_from_a_watermark_replays_within_the_retention_window_only() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    let wm = wm.unwrap();
    ews.store().create_item(BOB, &standup_spec("one")).unwrap();
    let unsub = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some(BOB),
            &format!("<m:Unsubscribe><m:SubscriptionId>{id}</m:SubscriptionId></m:Unsubscribe>"),
        ),
    )
    .await;
    assert_eq!(code(&unsub.body), "NoError", "{}", unsub.body);
    assert_eq!(
        code(&get_events_raw(&ews, &id, &wm).await),
        "ErrorSubscriptionNotFound"
    );

    ews.store().create_item(BOB, &standup_spec("two")).unwrap();
    let (again, start) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, Some(&wm))).await;
    assert_eq!(start.as_deref(), Some(wm.as_str()));
    let n = get_events(&ews, &again, &wm).await;
    assert_eq!(n.events.len(), 6, "both creations are replayed");

    // 31 days later the oldest change to replay is past the 30-day window.
    ews.clock().advance(Duration::days(31));
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some(BOB),
            &format!("<m:Subscribe>{}</m:Subscribe>", pull_request(10, Some(&wm))),
        ),
    )
    .await;
    assert_eq!(code(&r.body), "ErrorInvalidWatermark", "{}", r.body);
    let resumed = ews
        .notifications()
        .journal()
        .into_iter()
        .filter(|e| matches!(&e.record, Record::Subscribed { resumed: true, .. }))
        .count();
    assert_eq!(resumed, 1);
}

#[tokio::test]
async fn documented_errors_for_pull() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    let wm = wm.unwrap();

    assert_eq!(
        code(&get_events_raw(&ews, "AAAAunknown", &wm).await),
        "ErrorSubscriptionNotFound"
    );
    assert_eq!(
        code(&get_events_raw(&ews, &id, "bm90IGEgd2F0ZXJtYXJr").await),
        "ErrorInvalidWatermark"
    );

    // Only the creator (same account, same impersonated mailbox) may poll.
    let other = soap(
        &ews,
        ALICE,
        &envelope(
            "Exchange2010_SP2",
            None,
            &format!("<m:GetEvents><m:SubscriptionId>{id}</m:SubscriptionId><m:Watermark>{wm}</m:Watermark></m:GetEvents>"),
        ),
    )
    .await;
    assert_eq!(
        code(&other.body),
        "ErrorSubscriptionAccessDenied",
        "{}",
        other.body
    );

    // A watermark of alice's mailbox is not one of bob's subscription.
    let (_, alice_wm) = subscribe(&ews, ALICE, None, &pull_request(10, None)).await;
    assert_eq!(
        code(&get_events_raw(&ews, &id, &alice_wm.unwrap()).await),
        "ErrorInvalidWatermark"
    );

    // Delegates cannot subscribe.
    let delegate = soap(
        &ews,
        ("svc-freebusy", "fb-pw"),
        &envelope(
            "Exchange2010_SP2",
            None,
            &format!(
                r#"<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{BOB}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></t:FolderIds>{ITEM_EVENTS}<t:Timeout>10</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>"#
            ),
        ),
    )
    .await;
    assert_eq!(
        code(&delegate.body),
        "ErrorSubscriptionDelegateAccessNotSupported",
        "{}",
        delegate.body
    );

    // Timeout outside 1..1440 fails schema validation.
    let bad = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some(BOB),
            &format!("<m:Subscribe>{}</m:Subscribe>", pull_request(0, None)),
        ),
    )
    .await;
    assert_eq!(bad.status, 500, "{}", bad.body);
    assert!(bad.body.contains("ErrorSchemaValidation"), "{}", bad.body);
}

#[tokio::test]
async fn expiry_is_visible_without_a_poll_and_frees_the_mailbox_quota() {
    let ews = office().await;
    let start = ews.clock().now();
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &pull_request(7, None)).await;
    ews.clock()
        .advance(Duration::minutes(7) - Duration::seconds(1));
    assert_eq!(ews.notifications().active(), std::slice::from_ref(&id));
    ews.clock().advance(Duration::seconds(1));
    assert!(ews.notifications().active().is_empty());
    let expired = ews
        .notifications()
        .journal()
        .into_iter()
        .find(|e| e.record == Record::Expired)
        .expect("journaled");
    assert_eq!(
        (expired.subscription_id, expired.at),
        (id, start + Duration::minutes(7))
    );
}

#[tokio::test]
async fn changes_to_single_occurrences_through_the_control_api_notify_the_series() {
    let ews = office().await;
    let alice = "alice@contoso.com";
    let (id, wm) = subscribe(&ews, SVC, Some(alice), &pull_request(10, None)).await;
    let (serial, key, revision) = ews.store().read(|w| {
        let mb = w.mailbox(alice).expect("alice");
        let standup = mb
            .items
            .values()
            .find(|i| i.subject == "Standup")
            .expect("the series");
        (mb.serial, standup.key, standup.revision)
    });
    // Monday 30 March 09:30 Berlin (07:30 UTC, after the DST change).
    let original = "2026-03-30T07:30:00Z".parse().unwrap();
    let occurrence = mock_ews::occurrence_id(serial, key, revision, original);
    let r = crate::support::http(
        &ews,
        "PATCH",
        &format!("/mock/items/{occurrence}"),
        &[("Content-Type", "application/json".into())],
        br#"{"subject":"Standup (moved)"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = crate::support::http(
        &ews,
        "DELETE",
        &format!(
            "/mock/items/{}",
            mock_ews::occurrence_id(
                serial,
                key,
                revision + 1,
                "2026-04-01T07:30:00Z".parse().unwrap()
            )
        ),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);

    let n = get_events(&ews, &id, &wm.unwrap()).await;
    assert_eq!(
        kinds(&n),
        [
            EventType::ModifiedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent,
            EventType::ModifiedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent,
        ]
    );
    // Each names the series master at its new revision, as a client re-reading it needs.
    let master = |rev| mock_ews::item_id(serial, key, rev);
    assert_eq!(
        n.events[0].item_id.as_ref().unwrap().id,
        master(revision + 1)
    );
    assert_eq!(
        n.events[3].item_id.as_ref().unwrap().id,
        master(revision + 2)
    );
    assert!(ews.notifications().no_event_lost(alice));
}
