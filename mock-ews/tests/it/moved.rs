//! DeleteItem `DeleteType="MoveToDeletedItems"` (Outlook's delete): a `MovedEvent` from the
//! calendar to Deleted Items over pull, streaming and push, counted by the conformance
//! checks; the control API's `deleteType`; HardDelete/SoftDelete staying `DeletedEvent`.

use chrono::Duration;
use ews_proto::notification::{Event, EventType, Notification};
use mock_ews::{ChangeKind, FolderKind, MockEws};

use crate::notification::{
    BOB, SVC, get_events, get_events_raw, kinds, last_watermark, pull_request, standup_spec,
    subscribe,
};
use crate::notification_push::{Answer, push_request, received, setup};
use crate::notification_streaming::{
    Stream, connection_status, office_running, payload, streaming_request,
};
use crate::support::{envelope, http, office, soap};

fn delete_request(delete_type: &str, id: &str) -> String {
    format!(
        r#"<m:DeleteItem DeleteType="{delete_type}" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="{id}"/></m:ItemIds></m:DeleteItem>"#
    )
}

/// Deletes `id` in bob's calendar over EWS; returns the response body.
async fn delete(ews: &MockEws, delete_type: &str, id: &str) -> String {
    let r = soap(
        ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some(BOB),
            &delete_request(delete_type, id),
        ),
    )
    .await;
    r.body
}

/// The (new id, old id) of the move the store logged last.
fn logged_move(ews: &MockEws) -> (String, String) {
    let c = ews.store().changes_since(0).pop().expect("a change");
    assert_eq!(c.kind, ChangeKind::MovedToDeletedItems);
    (c.item_id.expect("new id"), c.old_item_id.expect("old id"))
}

fn folder(ews: &MockEws, kind: FolderKind) -> String {
    let serial = ews
        .store()
        .read(|w| w.mailbox(BOB).map(|m| m.serial))
        .expect("bob");
    mock_ews::folder_id(serial, kind)
}

/// Checks a MovedEvent against what Exchange sends for a calendar item moved to Deleted
/// Items.
fn assert_moved(ews: &MockEws, e: &Event, old: &str, new: &str) {
    assert_eq!(e.kind, EventType::MovedEvent);
    assert!(e.time_stamp.is_some());
    let id = |i: &Option<ews_proto::ItemId>| i.as_ref().map(|i| i.id.clone());
    assert_eq!(id(&e.item_id).as_deref(), Some(new));
    assert_eq!(id(&e.old_item_id).as_deref(), Some(old));
    assert_eq!(
        id(&e.parent_folder_id),
        Some(folder(ews, FolderKind::DeletedItems))
    );
    assert_eq!(
        id(&e.old_parent_folder_id),
        Some(folder(ews, FolderKind::Calendar))
    );
    assert!(e.folder_id.is_none() && e.old_folder_id.is_none());
}

#[tokio::test]
async fn pull_gets_a_moved_event_in_schema_order_and_no_deleted_event() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    let wm = wm.expect("a watermark");
    let item = ews
        .store()
        .create_item(BOB, &standup_spec("Trash me"))
        .unwrap();
    let body = delete(&ews, "MoveToDeletedItems", &item.item_id).await;
    assert!(body.contains("NoError"), "{body}");
    let (new, old) = logged_move(&ews);
    assert_eq!(old, item.item_id);
    assert!(
        ews.store().resolve(&item.item_id).is_err(),
        "gone from the calendar"
    );

    let raw = get_events_raw(&ews, &id, &wm).await;
    let n = get_events(&ews, &id, &wm).await;
    assert_eq!(
        kinds(&n),
        [
            EventType::CreatedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent,
            EventType::MovedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent,
        ]
    );
    assert_moved(&ews, &n.events[3], &old, &new);
    assert!(n.events[3].watermark.is_some());
    assert_eq!(
        n.events[4].item_id.as_ref().map(|i| i.id.as_str()),
        Some(old.as_str())
    );
    // MovedCopiedEventType: Watermark, TimeStamp, ItemId, ParentFolderId, OldItemId,
    // OldParentFolderId.
    let moved = raw
        .split("<t:MovedEvent>")
        .nth(1)
        .and_then(|s| s.split("</t:MovedEvent>").next())
        .unwrap_or_else(|| panic!("{raw}"));
    let order: Vec<usize> = [
        "<t:Watermark>",
        "<t:TimeStamp>",
        "<t:ItemId ",
        "<t:ParentFolderId ",
        "<t:OldItemId ",
        "<t:OldParentFolderId ",
    ]
    .iter()
    .map(|tag| {
        moved
            .find(tag)
            .unwrap_or_else(|| panic!("{tag} in {moved}"))
    })
    .collect();
    assert!(order.is_sorted(), "{moved}");
    assert!(!raw.contains("DeletedEvent"), "{raw}");

    // The conformance checks see the move as delivered.
    let _ = get_events(&ews, &id, &last_watermark(&n)).await;
    assert!(ews.notifications().no_event_lost(BOB));
}

#[tokio::test]
async fn hard_and_soft_deletes_stay_deleted_events() {
    let ews = office().await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    let mut wm = wm.expect("a watermark");
    for delete_type in ["HardDelete", "SoftDelete"] {
        let item = ews
            .store()
            .create_item(BOB, &standup_spec(delete_type))
            .unwrap();
        let body = delete(&ews, delete_type, &item.item_id).await;
        assert!(body.contains("NoError"), "{body}");
        let n = get_events(&ews, &id, &wm).await;
        assert_eq!(
            kinds(&n)[3..],
            [
                EventType::DeletedEvent,
                EventType::FreeBusyChangedEvent,
                EventType::ModifiedEvent
            ],
            "{delete_type}"
        );
        assert_eq!(
            n.events[3].item_id.as_ref().map(|i| i.id.as_str()),
            Some(item.item_id.as_str())
        );
        wm = last_watermark(&n);
    }
}

#[tokio::test]
async fn an_unknown_delete_type_fails_schema_validation_and_changes_nothing() {
    let ews = office().await;
    let item = ews.store().create_item(BOB, &standup_spec("Kept")).unwrap();
    let seq = ews.store().seq();
    let body = delete(&ews, "MoveToTrash", &item.item_id).await;
    assert!(body.contains("ErrorSchemaValidation"), "{body}");
    assert_eq!(ews.store().seq(), seq);
    assert!(ews.store().resolve(&item.item_id).is_ok());
}

#[tokio::test]
async fn moving_one_occurrence_to_deleted_items_modifies_the_master() {
    let ews = office().await;
    let spec: mock_ews::ItemSpec = serde_json::from_value(serde_json::json!({
        "subject": "Daily",
        "start": "2026-03-24 10:00",
        "duration": "30m",
        "recurrence": { "daily": true, "count": 3 },
    }))
    .unwrap();
    let master = ews.store().create_item(BOB, &spec).unwrap();
    let (mb, item, _) = ews.store().resolve(&master.item_id).unwrap();
    let second = item.instance_by_index(2).unwrap().start;
    let occ = mock_ews::occurrence_id(mb.serial, item.key, 2, second);
    let body = delete(&ews, "MoveToDeletedItems", &occ).await;
    assert!(body.contains("NoError"), "{body}");
    let last = ews.store().changes_since(0).pop().unwrap();
    assert_eq!(last.kind, ChangeKind::Modified);
    let (_, item, _) = ews.store().resolve(&master.item_id).unwrap();
    assert_eq!(item.deleted, [second]);
}

#[tokio::test(start_paused = true)]
async fn streaming_gets_the_moved_event_without_a_watermark() {
    let ews = office_running().await;
    let item = ews
        .store()
        .create_item(BOB, &standup_spec("Trash me"))
        .unwrap();
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &streaming_request()).await;
    let mut s = Stream::open(&ews, BOB, &[&id], 1).await;
    assert_eq!(
        connection_status(&s.next().await.unwrap()).as_deref(),
        Some("OK")
    );
    let body = delete(&ews, "MoveToDeletedItems", &item.item_id).await;
    assert!(body.contains("NoError"), "{body}");
    let (new, old) = logged_move(&ews);
    let env = s.next().await.unwrap();
    let n: Vec<Notification> = payload(&env).payload.notifications.unwrap_or_default();
    assert_eq!(n.len(), 1, "{env}");
    assert_eq!(
        kinds(&n[0]),
        [
            EventType::MovedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent
        ]
    );
    assert_moved(&ews, &n[0].events[0], &old, &new);
    assert!(n[0].events[0].watermark.is_none(), "{env}");
    assert!(ews.notifications().no_event_lost(BOB));
}

#[tokio::test(start_paused = true)]
async fn push_gets_the_moved_event() {
    let (ews, listener, url) = setup(&[], Answer::Ok).await;
    let item = ews
        .store()
        .create_item(BOB, &standup_spec("Trash me"))
        .unwrap();
    let (_, wm) = subscribe(&ews, SVC, Some(BOB), &push_request(&url, 30)).await;
    let body = delete(&ews, "MoveToDeletedItems", &item.item_id).await;
    assert!(body.contains("NoError"), "{body}");
    let (new, old) = logged_move(&ews);
    ews.clock().sleep(Duration::seconds(1)).await;
    let got = received(&listener);
    assert_eq!(got.len(), 1);
    let n = &got[0].1;
    assert_eq!(n.previous_watermark, wm);
    assert_eq!(
        kinds(n),
        [
            EventType::MovedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent
        ]
    );
    assert_moved(&ews, &n.events[0], &old, &new);
    assert!(n.events[0].watermark.is_some());
    assert!(ews.notifications().no_event_lost(BOB));
}

#[tokio::test]
async fn an_undelivered_moved_event_counts_as_lost() {
    let ews = office().await;
    let item = ews
        .store()
        .create_item(BOB, &standup_spec("Trash me"))
        .unwrap();
    // A subscription that never polls after the move, then a fresh one (no watermark) that
    // only sees what came later: the move was handed to nobody.
    let _ = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    let body = delete(&ews, "MoveToDeletedItems", &item.item_id).await;
    assert!(body.contains("NoError"), "{body}");
    let (new, _) = logged_move(&ews);
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &pull_request(10, None)).await;
    ews.store()
        .create_item(BOB, &standup_spec("Later"))
        .unwrap();
    let n = get_events(&ews, &id, &wm.unwrap()).await;
    assert_eq!(kinds(&n)[0], EventType::CreatedEvent);
    let lost = ews.notifications().lost_events(BOB);
    let moved: Vec<_> = lost
        .iter()
        .filter(|l| l.kind == "MovedEvent")
        .map(|l| l.item_id.clone())
        .collect();
    assert_eq!(moved, [Some(new)], "{lost:?}");
}

#[tokio::test]
async fn the_control_api_moves_to_deleted_items_when_asked() {
    let ews = office().await;
    let a = ews.store().create_item(BOB, &standup_spec("A")).unwrap();
    let r = http(
        &ews,
        "DELETE",
        &format!("/mock/items/{}?deleteType=MoveToDeletedItems", a.item_id),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let (_, old) = logged_move(&ews);
    assert_eq!(old, a.item_id);
    // The default stays a hard delete.
    let b = ews.store().create_item(BOB, &standup_spec("B")).unwrap();
    let r = http(
        &ews,
        "DELETE",
        &format!("/mock/items/{}", b.item_id),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let last = ews.store().changes_since(0).pop().unwrap();
    assert_eq!(last.kind, ChangeKind::Deleted);
    // A misspelt type is refused before anything changes.
    let c = ews.store().create_item(BOB, &standup_spec("C")).unwrap();
    let r = http(
        &ews,
        "DELETE",
        &format!("/mock/items/{}?deleteType=Trash", c.item_id),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("unknown DeleteType `Trash`"), "{}", r.body);
    assert!(ews.store().resolve(&c.item_id).is_ok());
}
