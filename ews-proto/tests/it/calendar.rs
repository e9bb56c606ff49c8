//! Typed reads of the calendar, folder and error samples: the values that matter.

use ews_proto::calendar::ItemView;
use ews_proto::item::CalendarItemType;
use ews_proto::recurrence::{DayOfWeek, RecurrencePattern, RecurrenceRange};
use ews_proto::{
    ConnectingSid, ExchangeVersion, ItemRef, Limits, Message, MessageBody, Request, Response,
    ResponseClass, ResponseCode,
};

use crate::samples::sample;

fn message(name: &str) -> Message {
    Message::parse(&sample(name), &Limits::default()).unwrap()
}

fn request(name: &str) -> Request {
    match message(name).body {
        MessageBody::Request(r) => r,
        other => panic!("{name}: not a request: {other:?}"),
    }
}

fn response(name: &str) -> Response {
    match message(name).body {
        MessageBody::Response(r) => r,
        other => panic!("{name}: not a response: {other:?}"),
    }
}

#[test]
fn truncated_calendar_view_reports_total_and_no_last_item() {
    let Response::FindItem(r) = response("finditem-calendarview-truncated-response.xml") else {
        panic!("not FindItem")
    };
    let root = r.messages[0].payload.root_folder.as_ref().unwrap();
    assert_eq!(root.total_items_in_view, Some(33));
    assert_eq!(root.includes_last_item_in_range, Some(false));
    assert_eq!(root.indexed_paging_offset, None);
    assert_eq!(root.items.len(), 5);
    let first = root.items[0].as_calendar().unwrap();
    assert_eq!(first.subject.as_deref(), Some("Contoso devs team meeting"));
    assert_eq!(first.start.unwrap().to_string(), "2013-08-21T19:30:00Z");
}

#[test]
fn calendar_view_request_has_window_and_folder() {
    let Request::FindItem(f) = request("finditem-calendarview-request.xml") else {
        panic!("not FindItem")
    };
    let Some(ItemView::Calendar(v)) = &f.view else {
        panic!("no calendar view")
    };
    assert_eq!(v.max_entries_returned, Some(5));
    assert_eq!(v.start_date.to_string(), "2013-08-21T17:30:24.127Z");
    assert_eq!(f.item_shape.additional_properties.len(), 3);
    assert_eq!(f.parent_folder_ids.len(), 1);
}

#[test]
fn recurring_master_has_pattern_range_and_occurrence_bounds() {
    let Response::GetItem(r) = response("getitem-recurringmaster-response.xml") else {
        panic!("not GetItem")
    };
    let items = r.messages[0].payload.0.items.as_ref().unwrap();
    let master = items[0].as_calendar().unwrap();
    assert_eq!(
        master.calendar_item_type,
        Some(CalendarItemType::RecurringMaster)
    );
    let rec = master.recurrence.as_ref().unwrap();
    assert_eq!(
        rec.pattern,
        RecurrencePattern::Weekly {
            interval: 1,
            days_of_week: vec![DayOfWeek::Saturday],
            first_day_of_week: None
        }
    );
    let RecurrenceRange::Numbered {
        start_date,
        number_of_occurrences,
    } = &rec.range
    else {
        panic!("not numbered")
    };
    assert_eq!(start_date.to_string(), "2014-03-08-08:00");
    assert_eq!(*number_of_occurrences, 10);
    assert_eq!(
        master.last_occurrence.as_ref().unwrap().start.to_string(),
        "2014-05-10T20:21:00Z"
    );
}

#[test]
fn occurrence_item_id_is_typed() {
    let Request::GetItem(g) = request("getitem-occurrenceitemid-request.xml") else {
        panic!("not GetItem")
    };
    assert_eq!(
        g.item_ids,
        vec![ItemRef::Occurrence {
            recurring_master_id: "AAMkA".into(),
            change_key: None,
            instance_index: 1
        }]
    );
}

#[test]
fn create_item_keeps_impersonation_and_full_time_zone_context() {
    let m = message("createitem-impersonation-request.xml");
    assert_eq!(
        m.headers.impersonation,
        Some(ConnectingSid::SmtpAddress("alfred@contoso.com".into()))
    );
    assert_eq!(
        m.headers.request_server_version,
        Some(ExchangeVersion::Exchange2013)
    );
    let m = message("createitem-recurring-series-request.xml");
    let tz = m.headers.time_zone_context.unwrap();
    assert_eq!(tz.id, "Pacific Standard Time");
    assert_eq!(
        tz.name.as_deref(),
        Some("(UTC-08:00) Pacific Time (US &amp; Canada)")
    );
    assert!(tz.definition.is_some());
    let MessageBody::Request(Request::CreateItem(c)) = m.body else {
        panic!("not CreateItem")
    };
    assert_eq!(
        c.send_meeting_invitations.as_deref(),
        Some("SendToAllAndSaveCopy")
    );
    let item = c.items[0].as_calendar().unwrap();
    assert_eq!(item.required_attendees.as_ref().unwrap().len(), 3);
    assert_eq!(
        item.start.unwrap().to_string(),
        "2014-03-08T13:21:32.868-08:00"
    );
}

#[test]
fn faults_give_code_text_and_back_off() {
    let Response::Fault(f) = response("error-serverbusy-fault-response.xml") else {
        panic!("not a fault")
    };
    assert_eq!(f.code(), ResponseCode::ErrorServerBusy);
    assert_eq!(
        f.message_xml.unwrap().back_off_milliseconds(),
        Some(297_749)
    );
    let Response::Fault(f) = response("getuseroofsettings-error-fault-response.xml") else {
        panic!("not a fault")
    };
    assert!(f.soap_fault_code);
    assert_eq!(f.fault_code, "Client");
    assert_eq!(f.detail_other[0].trimmed_text(), "-2146233088");
}

#[test]
fn error_response_messages_carry_class_code_and_inner_error() {
    let Response::ConvertId(r) = response("convertid-versionprobe-error-response.xml") else {
        panic!("not ConvertId")
    };
    let s = &r.messages[0].status;
    assert_eq!(s.class, ResponseClass::Error);
    assert_eq!(s.code, Some(ResponseCode::ErrorInvalidSmtpAddress));
    assert_eq!(s.descriptive_link_key, Some(0));
    let Response::DeleteItem(r) = response("error-internalservererror-inner-response.xml") else {
        panic!("not DeleteItem")
    };
    let xml = r.messages[0].status.message_xml.as_ref().unwrap();
    assert_eq!(
        xml.get("InnerErrorResponseCode"),
        Some("ErrorQuotaExceededOnDelete")
    );
}
