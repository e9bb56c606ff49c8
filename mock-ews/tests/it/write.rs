//! CreateItem, UpdateItem and DeleteItem through EWS, including single occurrences.

use ews_proto::{Item, Limits, Response};

use crate::support::{envelope, office, soap};

const SVC: (&str, &str) = ("svc-sync", "sync-pw");

fn ids(body: &str) -> Vec<(String, String)> {
    let (_, resp) = Response::parse_bytes(body.as_bytes(), &Limits::default())
        .unwrap_or_else(|e| panic!("{e}\n{body}"));
    let items: Vec<Item> = match resp {
        Response::CreateItem(r) => r
            .messages
            .into_iter()
            .flat_map(|m| m.payload.0.items.unwrap_or_default())
            .collect(),
        Response::UpdateItem(r) => r
            .messages
            .into_iter()
            .flat_map(|m| m.payload.items.unwrap_or_default())
            .collect(),
        other => panic!("{other:?}"),
    };
    items
        .into_iter()
        .map(|i| match i {
            Item::Calendar(c) => {
                let id = c.item_id.expect("an id");
                (id.id, id.change_key.expect("a change key"))
            }
            Item::Other(_) => panic!(),
        })
        .collect()
}

const CREATE_RECURRING: &str = r#"<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>Weekly</t:Subject><t:Start>2026-03-23T10:00:00</t:Start><t:End>2026-03-23T10:30:00</t:End><t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2026-03-23</t:StartDate><t:NumberOfOccurrences>4</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence><t:StartTimeZone Id="W. Europe Standard Time"/></t:CalendarItem></m:Items></m:CreateItem>"#;

#[tokio::test]
async fn create_update_delete_a_series_and_its_occurrences() {
    let ews = office().await;
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some("bob@contoso.com"),
            CREATE_RECURRING,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (master, ck) = ids(&r.body).remove(0);
    let (_, item, _) = ews.store().resolve(&master).unwrap();
    assert_eq!(item.tz, chrono_tz::Europe::Berlin);
    let starts: Vec<String> = item
        .view(
            "2026-03-01T00:00:00Z".parse().unwrap(),
            "2026-05-01T00:00:00Z".parse().unwrap(),
        )
        .iter()
        .map(|v| v.start.to_rfc3339())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-23T09:00:00+00:00",
            "2026-03-30T08:00:00+00:00",
            "2026-04-06T08:00:00+00:00",
            "2026-04-13T08:00:00+00:00"
        ]
    );

    // Move the second occurrence and rename it.
    let upd = format!(
        r#"<m:UpdateItem ConflictResolution="AutoResolve" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:OccurrenceItemId RecurringMasterId="{master}" InstanceIndex="2"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Moved</t:Subject></t:CalendarItem></t:SetItemField><t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>2026-03-31T12:00:00Z</t:Start></t:CalendarItem></t:SetItemField><t:SetItemField><t:FieldURI FieldURI="calendar:End"/><t:CalendarItem><t:End>2026-03-31T13:00:00Z</t:End></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"#
    );
    let r = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("bob@contoso.com"), &upd),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("NoError"), "{}", r.body);
    // Delete the third by index.
    let del = format!(
        r#"<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone"><m:ItemIds><t:OccurrenceItemId RecurringMasterId="{master}" InstanceIndex="3"/></m:ItemIds></m:DeleteItem>"#
    );
    let r = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("bob@contoso.com"), &del),
    )
    .await;
    assert!(r.body.contains("NoError"), "{}", r.body);
    let (_, item, _) = ews.store().resolve(&master).unwrap();
    let view: Vec<(String, String)> = item
        .view(
            "2026-03-01T00:00:00Z".parse().unwrap(),
            "2026-05-01T00:00:00Z".parse().unwrap(),
        )
        .iter()
        .map(|v| (v.subject().to_owned(), v.start.to_rfc3339()))
        .collect();
    assert_eq!(
        view,
        [
            ("Weekly".to_owned(), "2026-03-23T09:00:00+00:00".to_owned()),
            ("Moved".to_owned(), "2026-03-31T12:00:00+00:00".to_owned()),
            ("Weekly".to_owned(), "2026-04-13T08:00:00+00:00".to_owned()),
        ]
    );
    // The original change key is stale now: AutoResolve refuses, AlwaysOverwrite wins.
    let stale = |mode: &str| {
        format!(
            r#"<m:UpdateItem ConflictResolution="{mode}" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="{master}" ChangeKey="{ck}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Location"/><t:CalendarItem><t:Location>Room 9</t:Location></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"#
        )
    };
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some("bob@contoso.com"),
            &stale("AutoResolve"),
        ),
    )
    .await;
    assert!(r.body.contains("ErrorIrresolvableConflict"), "{}", r.body);
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some("bob@contoso.com"),
            &stale("AlwaysOverwrite"),
        ),
    )
    .await;
    assert!(r.body.contains("NoError"), "{}", r.body);
    let (new_id, new_ck) = ids(&r.body).remove(0);
    assert_ne!(
        (new_id.as_str(), new_ck.as_str()),
        (master.as_str(), ck.as_str())
    );
    // Delete the whole series.
    let del = format!(
        r#"<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="{new_id}"/></m:ItemIds></m:DeleteItem>"#
    );
    let r = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("bob@contoso.com"), &del),
    )
    .await;
    assert!(r.body.contains("NoError"), "{}", r.body);
    assert!(ews.store().resolve(&new_id).is_err());
    let kinds: Vec<_> = ews
        .store()
        .changes_since(0)
        .iter()
        .map(|c| c.kind)
        .collect();
    use mock_ews::ChangeKind::*;
    assert_eq!(kinds, [Created, Modified, Modified, Modified, Deleted]);
}

#[tokio::test]
async fn all_day_items_snap_to_midnight_in_their_zone() {
    let ews = office().await;
    // `1` (padded) is xs:boolean for true: the item must be all-day, not a 2-hour event.
    let body = r#"<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>Vacation</t:Subject><t:Start>2026-06-09T10:00:00Z</t:Start><t:End>2026-06-09T12:00:00Z</t:End><t:IsAllDayEvent> 1 </t:IsAllDayEvent><t:LegacyFreeBusyStatus>OOF</t:LegacyFreeBusyStatus></t:CalendarItem></m:Items></m:CreateItem>"#;
    let env = envelope("Exchange2010_SP2", Some("bob@contoso.com"), body).replace(
        "</soap:Header>",
        r#"<t:TimeZoneContext><t:TimeZoneDefinition Id="Eastern Standard Time"/></t:TimeZoneContext></soap:Header>"#,
    );
    let r = soap(&ews, SVC, &env).await;
    let (id, _) = ids(&r.body).remove(0);
    let (_, item, _) = ews.store().resolve(&id).unwrap();
    assert_eq!(item.start.to_rfc3339(), "2026-06-09T04:00:00+00:00");
    assert_eq!(item.end.to_rfc3339(), "2026-06-10T04:00:00+00:00");
    assert_eq!(item.status, calendar_core::FreeBusyStatus::Oof);
}

#[tokio::test]
async fn write_errors_change_nothing() {
    let ews = office().await;
    let before = ews.store().world();
    let ghost = format!(
        r#"<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="{}"/></m:ItemIds></m:DeleteItem>"#,
        mock_ews::item_id(1, 999, 1)
    );
    let cases = [
        // End before start.
        (
            SVC,
            Some("bob@contoso.com"),
            r#"<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Start>2026-03-23T10:00:00Z</t:Start><t:End>2026-03-23T09:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>"#,
            "ErrorCalendarEndDateIsEarlierThanStartDate",
        ),
        // Missing SendMeetingInvitations.
        (
            SVC,
            Some("bob@contoso.com"),
            r#"<m:CreateItem><m:Items><t:CalendarItem><t:Start>2026-03-23T10:00:00Z</t:Start><t:End>2026-03-23T11:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>"#,
            "ErrorSendMeetingInvitationsRequired",
        ),
        // A free/busy-only delegate cannot write.
        (
            ("svc-freebusy", "fb-pw"),
            None,
            r#"<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>bob@contoso.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Start>2026-03-23T10:00:00Z</t:Start><t:End>2026-03-23T11:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>"#,
            "ErrorAccessDenied",
        ),
        // Inbox is no calendar.
        (
            SVC,
            Some("bob@contoso.com"),
            r#"<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="inbox"/></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Start>2026-03-23T10:00:00Z</t:Start><t:End>2026-03-23T11:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>"#,
            "ErrorCannotCreateCalendarItemInNonCalendarFolder",
        ),
        // Weekly recurrence without days.
        (
            SVC,
            Some("bob@contoso.com"),
            r#"<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Start>2026-03-23T10:00:00Z</t:Start><t:End>2026-03-23T11:00:00Z</t:End><t:Recurrence><t:DailyRecurrence><t:Interval>0</t:Interval></t:DailyRecurrence><t:NoEndRecurrence><t:StartDate>2026-03-23</t:StartDate></t:NoEndRecurrence></t:Recurrence></t:CalendarItem></m:Items></m:CreateItem>"#,
            "ErrorCalendarInvalidRecurrence",
        ),
        // Unknown item.
        (
            SVC,
            Some("bob@contoso.com"),
            ghost.as_str(),
            "ErrorItemNotFound",
        ),
    ];
    for (user, imp, body, code) in cases {
        let r = soap(&ews, user, &envelope("Exchange2010_SP2", imp, body)).await;
        assert_eq!(r.status, 200, "{code}: {}", r.body);
        assert!(
            r.body
                .contains(&format!("<m:ResponseCode>{code}</m:ResponseCode>")),
            "{code}: {}",
            r.body
        );
    }
    assert_eq!(ews.store().world(), before);
    assert!(ews.store().changes_since(0).is_empty());
}

#[tokio::test]
async fn meetings_reach_attendee_calendars() {
    let ews = office().await;
    let invite = |mode: &str| {
        format!(
            r#"<m:CreateItem SendMeetingInvitations="{mode}"><m:Items><t:CalendarItem><t:Subject>Planning</t:Subject><t:Start>2026-03-26T14:00:00Z</t:Start><t:End>2026-03-26T15:00:00Z</t:End><t:Location>Room 2</t:Location><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>bob@contoso.com</t:EmailAddress></t:Mailbox></t:Attendee><t:Attendee><t:Mailbox><t:EmailAddress>outsider@fabrikam.com</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees></t:CalendarItem></m:Items></m:CreateItem>"#
        )
    };
    let bob_copies = |ews: &mock_ews::MockEws| -> Vec<mock_ews::CalendarItem> {
        ews.store()
            .world()
            .mailbox("bob@contoso.com")
            .unwrap()
            .items
            .values()
            .filter(|i| i.subject.contains("Planning"))
            .map(|i| (**i).clone())
            .collect()
    };
    // SendToNone: nothing reaches Bob.
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some("alice@contoso.com"),
            &invite("SendToNone"),
        ),
    )
    .await;
    assert!(r.body.contains("NoError"), "{}", r.body);
    assert!(bob_copies(&ews).is_empty());
    // SendToAllAndSaveCopy: Bob gets a tentative copy with the same UID.
    let r = soap(
        &ews,
        SVC,
        &envelope(
            "Exchange2010_SP2",
            Some("alice@contoso.com"),
            &invite("SendToAllAndSaveCopy"),
        ),
    )
    .await;
    let (id, _) = ids(&r.body).remove(0);
    let (_, organizer_item, _) = ews.store().resolve(&id).unwrap();
    let copies = bob_copies(&ews);
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].uid, organizer_item.uid);
    assert_eq!(copies[0].organizer, "alice@contoso.com");
    assert_eq!(copies[0].status, calendar_core::FreeBusyStatus::Tentative);
    // Moving the meeting moves Bob's copy.
    let upd = format!(
        r#"<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToAllAndSaveCopy"><m:ItemChanges><t:ItemChange><t:ItemId Id="{id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>2026-03-26T16:00:00Z</t:Start></t:CalendarItem></t:SetItemField><t:SetItemField><t:FieldURI FieldURI="calendar:End"/><t:CalendarItem><t:End>2026-03-26T17:00:00Z</t:End></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"#
    );
    let r = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("alice@contoso.com"), &upd),
    )
    .await;
    assert!(r.body.contains("NoError"), "{}", r.body);
    let (new_id, _) = ids(&r.body).remove(0);
    let copies = bob_copies(&ews);
    assert_eq!(copies[0].start.to_rfc3339(), "2026-03-26T16:00:00+00:00");
    assert_eq!(
        copies[0].status,
        calendar_core::FreeBusyStatus::Tentative,
        "Bob's answer is kept"
    );
    // Deleting it cancels Bob's copy, which then blocks nothing.
    let del = format!(
        r#"<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToAllAndSaveCopy"><m:ItemIds><t:ItemId Id="{new_id}"/></m:ItemIds></m:DeleteItem>"#
    );
    let r = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("alice@contoso.com"), &del),
    )
    .await;
    assert!(r.body.contains("NoError"), "{}", r.body);
    let copies = bob_copies(&ews);
    assert!(copies[0].cancelled);
    assert_eq!(copies[0].subject, "Canceled: Planning");
    assert_eq!(copies[0].status, calendar_core::FreeBusyStatus::Free);
    // Bob's mailbox saw created, modified, modified in its change log.
    let bob: Vec<_> = ews
        .store()
        .changes_since(0)
        .into_iter()
        .filter(|c| c.mailbox == "bob@contoso.com")
        .map(|c| c.kind)
        .collect();
    use mock_ews::ChangeKind::*;
    assert_eq!(bob, [Created, Modified, Modified]);
}
