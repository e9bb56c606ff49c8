//! GetFolder, FindItem and GetItem against the small-office world, parsed back with
//! ews-proto (what the sync engine does).

use ews_proto::calendar::{FindItemResult, GetItemResult};
use ews_proto::item::{CalendarItemType, LegacyFreeBusyStatus};
use ews_proto::{CalendarItem, Item, Limits, Response};

use crate::support::{Reply, envelope, office, soap};
use mock_ews::MockEws;

const SVC: (&str, &str) = ("svc-sync", "sync-pw");

fn parse(body: &str) -> Response {
    Response::parse_bytes(body.as_bytes(), &Limits::default())
        .unwrap_or_else(|e| panic!("{e}\n{body}"))
        .1
}

fn find_result(body: &str) -> FindItemResult {
    match parse(body) {
        Response::FindItem(r) => {
            assert_eq!(r.messages.len(), 1);
            assert!(r.messages[0].status.is_success(), "{body}");
            r.messages[0].payload.clone()
        }
        other => panic!("not a FindItem response: {other:?}"),
    }
}

fn calendar_items(items: &[Item]) -> Vec<CalendarItem> {
    items
        .iter()
        .map(|i| match i {
            Item::Calendar(c) => (**c).clone(),
            Item::Other(e) => panic!("unexpected {e:?}"),
        })
        .collect()
}

fn view(start: &str, end: &str, max: Option<u32>, mailbox: &str) -> String {
    let max = max
        .map(|m| format!(r#"MaxEntriesReturned="{m}" "#))
        .unwrap_or_default();
    format!(
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="calendar:CalendarItemType"/><t:FieldURI FieldURI="calendar:LegacyFreeBusyStatus"/><t:FieldURI FieldURI="calendar:IsAllDayEvent"/></t:AdditionalProperties></m:ItemShape><m:CalendarView {max}StartDate="{start}" EndDate="{end}"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:ParentFolderIds></m:FindItem>"#
    )
}

/// A CalendarView of `mailbox` over `window` by `user` (impersonating `impersonate`).
async fn find_view(
    ews: &MockEws,
    user: (&str, &str),
    impersonate: Option<&str>,
    window: (&str, &str),
    max: Option<u32>,
    mailbox: &str,
) -> Reply {
    soap(
        ews,
        user,
        &envelope(
            "Exchange2010_SP2",
            impersonate,
            &view(window.0, window.1, max, mailbox),
        ),
    )
    .await
}

#[tokio::test]
async fn get_folder_binds_the_calendar_of_the_impersonated_mailbox() {
    let ews = office().await;
    let body = r#"<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/><t:DistinguishedFolderId Id="root"/></m:FolderIds></m:GetFolder>"#;
    let r = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("alice@contoso.com"), body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let Response::GetFolder(g) = parse(&r.body) else {
        panic!("{}", r.body)
    };
    assert_eq!(g.messages.len(), 2);
    let cal = &g.messages[0].payload.folders.as_ref().unwrap()[0];
    assert_eq!(cal.kind, "CalendarFolder");
    let fid = cal.folder_id.as_ref().unwrap().id.clone();
    assert_eq!(
        mock_ews::parse_folder_id(&fid).map(|(_, k)| k),
        Some(mock_ews::FolderKind::Calendar)
    );
    // Without impersonation and without t:Mailbox a service account has no mailbox.
    let r = soap(&ews, SVC, &envelope("Exchange2010_SP2", None, body)).await;
    assert!(r.body.contains("ErrorMissingEmailAddress"), "{}", r.body);
}

#[tokio::test]
async fn calendar_view_expands_the_series_in_its_zone_with_exceptions() {
    let ews = office().await;
    let r = find_view(
        &ews,
        SVC,
        Some("alice@contoso.com"),
        ("2026-03-23T00:00:00Z", "2026-04-09T00:00:00Z"),
        None,
        "alice@contoso.com",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let root = find_result(&r.body).root_folder.unwrap();
    assert_eq!(root.includes_last_item_in_range, Some(true));
    assert_eq!(root.indexed_paging_offset, None);
    let items = calendar_items(&root.items);
    let summary: Vec<(String, String, CalendarItemType)> = items
        .iter()
        .map(|i| {
            (
                i.subject.clone().unwrap(),
                i.start.unwrap().to_string(),
                i.calendar_item_type.unwrap(),
            )
        })
        .collect();
    let want = [
        (
            "Standup",
            "2026-03-23T08:30:00Z",
            CalendarItemType::Occurrence,
        ),
        ("Doctor", "2026-03-24T13:00:00Z", CalendarItemType::Single),
        (
            "Standup (late)",
            "2026-03-25T10:00:00Z",
            CalendarItemType::Exception,
        ),
        ("Offsite", "2026-03-25T23:00:00Z", CalendarItemType::Single),
        (
            "Standup",
            "2026-03-30T07:30:00Z",
            CalendarItemType::Occurrence,
        ),
        (
            "Standup",
            "2026-04-01T07:30:00Z",
            CalendarItemType::Occurrence,
        ),
        (
            "Standup",
            "2026-04-08T07:30:00Z",
            CalendarItemType::Occurrence,
        ),
    ];
    let want: Vec<(String, String, CalendarItemType)> = want
        .iter()
        .map(|(s, t, k)| (s.to_string(), t.to_string(), *k))
        .collect();
    assert_eq!(summary, want);
    assert_eq!(root.total_items_in_view, Some(7));
    // 2010 has no WorkingElsewhere: the all-day Offsite shows as Busy.
    assert_eq!(
        items[3].legacy_free_busy_status,
        Some(LegacyFreeBusyStatus::Busy)
    );
    assert_eq!(items[3].is_all_day_event, Some(true));
    // Occurrence ids are distinct and not the master's.
    let ids: std::collections::BTreeSet<_> = items
        .iter()
        .map(|i| i.item_id.clone().unwrap().id)
        .collect();
    assert_eq!(ids.len(), 7);
}

#[tokio::test]
async fn max_entries_cuts_the_view_and_says_so() {
    let ews = office().await;
    let r = find_view(
        &ews,
        SVC,
        Some("alice@contoso.com"),
        ("2026-03-23T00:00:00Z", "2026-04-09T00:00:00Z"),
        Some(2),
        "alice@contoso.com",
    )
    .await;
    let root = find_result(&r.body).root_folder.unwrap();
    assert_eq!(root.items.len(), 2);
    assert_eq!(root.total_items_in_view, Some(7));
    assert_eq!(root.includes_last_item_in_range, Some(false));
}

#[tokio::test]
async fn view_window_edges_and_limits() {
    let ews = office().await;
    // The Doctor item ends at 14:00Z; a window starting exactly then still returns it
    // (End >= StartDate), one starting at its start returns it, one ending at its start does not.
    let ids = |body: &str| -> Vec<String> {
        calendar_items(&find_result(body).root_folder.unwrap().items)
            .iter()
            .map(|i| i.subject.clone().unwrap())
            .collect()
    };
    let r = find_view(
        &ews,
        SVC,
        Some("alice@contoso.com"),
        ("2026-03-24T14:00:00Z", "2026-03-24T15:00:00Z"),
        None,
        "alice@contoso.com",
    )
    .await;
    assert_eq!(ids(&r.body), ["Doctor"]);
    let r = find_view(
        &ews,
        SVC,
        Some("alice@contoso.com"),
        ("2026-03-24T12:00:00Z", "2026-03-24T13:00:00Z"),
        None,
        "alice@contoso.com",
    )
    .await;
    assert!(ids(&r.body).is_empty());
    let r = find_view(
        &ews,
        SVC,
        Some("alice@contoso.com"),
        ("2026-01-01T00:00:00Z", "2028-06-01T00:00:00Z"),
        None,
        "alice@contoso.com",
    )
    .await;
    assert!(
        r.body
            .contains("<m:ResponseCode>ErrorCalendarViewRangeTooBig</m:ResponseCode>"),
        "{}",
        r.body
    );
    let r = find_view(
        &ews,
        SVC,
        Some("alice@contoso.com"),
        ("2026-03-24T00:00:00Z", "2026-03-23T00:00:00Z"),
        None,
        "alice@contoso.com",
    )
    .await;
    assert!(
        r.body
            .contains("ErrorCalendarEndDateIsEarlierThanStartDate"),
        "{}",
        r.body
    );
    // Two daily series give 1460 instances in two years, more than the find limit.
    let w = crate::support::example("empty.yaml");
    let ews2 = mock_ews::MockEws::builder()
        .world(w)
        .clock(ews_clock::Clock::frozen_at(chrono::DateTime::UNIX_EPOCH))
        .start()
        .await
        .unwrap();
    for time in ["09:00", "15:00"] {
        let spec = serde_json::from_str(&format!(
            r#"{{"start":"2026-01-01 {time}","duration":"30m","recurrence":{{"daily":true}}}}"#
        ))
        .unwrap();
        ews2.store().create_item("user@example.com", &spec).unwrap();
    }
    let user = ("user@example.com", "user-pw");
    let r = find_view(
        &ews2,
        user,
        None,
        ("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z"),
        None,
        "user@example.com",
    )
    .await;
    assert!(
        r.body.contains("ErrorExceededFindCountLimit"),
        "{}",
        &r.body[..500.min(r.body.len())]
    );
    assert!(
        r.body
            .contains(r#"<t:Value Name="PolicyLimit">1000</t:Value>"#)
    );
    let r = find_view(
        &ews2,
        user,
        None,
        ("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z"),
        Some(1000),
        "user@example.com",
    )
    .await;
    let root = find_result(&r.body).root_folder.unwrap();
    assert_eq!(root.items.len(), 1000);
    assert_eq!(root.total_items_in_view, Some(1460));
    assert_eq!(root.includes_last_item_in_range, Some(false));
}

#[tokio::test]
async fn delegates_need_reviewer_rights_and_never_see_private_subjects() {
    let ews = office().await;
    let r = soap(
        &ews,
        ("svc-freebusy", "fb-pw"),
        &envelope(
            "Exchange2010_SP2",
            None,
            &view(
                "2026-03-23T00:00:00Z",
                "2026-03-30T00:00:00Z",
                None,
                "alice@contoso.com",
            ),
        ),
    )
    .await;
    assert!(
        r.body
            .contains("<m:ResponseCode>ErrorAccessDenied</m:ResponseCode>"),
        "{}",
        r.body
    );
    ews.store().load(
        mock_ews::World::from_spec(
            &crate::support::world_with_reviewer(),
            chrono::DateTime::UNIX_EPOCH,
        )
        .unwrap(),
    );
    let r = soap(
        &ews,
        ("rev", "rev-pw"),
        &envelope(
            "Exchange2010_SP2",
            None,
            &view(
                "2026-03-24T00:00:00Z",
                "2026-03-25T00:00:00Z",
                None,
                "a@x.com",
            ),
        ),
    )
    .await;
    let items = calendar_items(&find_result(&r.body).root_folder.unwrap().items);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].subject.as_deref(), Some("Public"));
    assert_eq!(
        items[1].subject, None,
        "private subject hidden from a reviewer"
    );
}

#[tokio::test]
async fn get_item_accepts_view_ids_occurrence_index_and_master_ids() {
    let ews = office().await;
    let r = find_view(
        &ews,
        SVC,
        Some("alice@contoso.com"),
        ("2026-03-23T00:00:00Z", "2026-03-26T00:00:00Z"),
        None,
        "alice@contoso.com",
    )
    .await;
    let items = calendar_items(&find_result(&r.body).root_folder.unwrap().items);
    let occ_id = items[0].item_id.clone().unwrap().id;
    let get = format!(
        r#"<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:MimeContent"/><t:FieldURI FieldURI="calendar:Recurrence"/><t:FieldURI FieldURI="calendar:NoSuchThing"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="{occ_id}"/><t:RecurringMasterItemId OccurrenceId="{occ_id}"/><t:ItemId Id="AAMkbroken"/></m:ItemIds></m:GetItem>"#
    );
    let r = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("alice@contoso.com"), &get),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let Response::GetItem(g) = parse(&r.body) else {
        panic!()
    };
    let item = |i: usize| -> CalendarItem {
        let GetItemResult(res) = &g.messages[i].payload;
        match &res.items.as_ref().unwrap()[0] {
            Item::Calendar(c) => (**c).clone(),
            Item::Other(_) => panic!(),
        }
    };
    let occ = item(0);
    assert_eq!(occ.calendar_item_type, Some(CalendarItemType::Occurrence));
    assert_eq!(
        occ.original_start.unwrap().to_string(),
        "2026-03-23T08:30:00Z"
    );
    let master = item(1);
    assert_eq!(
        master.calendar_item_type,
        Some(CalendarItemType::RecurringMaster)
    );
    assert!(master.recurrence.is_some());
    assert_eq!(master.modified_occurrences.as_ref().unwrap().len(), 1);
    assert_eq!(master.deleted_occurrences.as_ref().unwrap().len(), 1);
    assert_eq!(
        master.first_occurrence.as_ref().unwrap().start.to_string(),
        "2026-03-16T08:30:00Z"
    );
    assert_eq!(
        master.start_time_zone.as_ref().unwrap().id,
        "W. Europe Standard Time"
    );
    assert_eq!(occ.uid, master.uid);
    assert!(!g.messages[2].status.is_success());
    assert_eq!(
        g.messages[2].status.code.as_ref().unwrap().as_str(),
        "ErrorInvalidIdMalformed"
    );
    // OccurrenceItemId by index: 3rd = Mon 23 Mar (16, 18, 23); 6th = 30 Mar... index 5 is
    // 25 Mar (the exception).
    let master_id = master.item_id.unwrap().id;
    let get = format!(
        r#"<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:CalendarItemType"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:OccurrenceItemId RecurringMasterId="{master_id}" InstanceIndex="4"/><t:OccurrenceItemId RecurringMasterId="{master_id}" InstanceIndex="7"/><t:OccurrenceItemId RecurringMasterId="{master_id}" InstanceIndex="999"/></m:ItemIds></m:GetItem>"#
    );
    let r = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("alice@contoso.com"), &get),
    )
    .await;
    let Response::GetItem(g) = parse(&r.body) else {
        panic!()
    };
    let GetItemResult(res) = &g.messages[0].payload;
    let Item::Calendar(c) = &res.items.as_ref().unwrap()[0] else {
        panic!()
    };
    assert_eq!(c.calendar_item_type, Some(CalendarItemType::Exception));
    assert_eq!(c.start.unwrap().to_string(), "2026-03-25T10:00:00Z");
    assert_eq!(
        g.messages[1].status.code.as_ref().unwrap().as_str(),
        "ErrorCalendarOccurrenceIsDeletedFromRecurrence"
    );
    assert_eq!(
        g.messages[2].status.code.as_ref().unwrap().as_str(),
        "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange"
    );
}
