//! Typed reads of the notification, sync, time zone and autodiscover samples, and the
//! streaming envelope shape.

use ews_proto::notification::{EventType, Subscribe, SubscriptionStatus};
use ews_proto::sync::SyncChange;
use ews_proto::{
    Headers, Item, Limits, Message, MessageBody, Request, Response, ServerVersionInfo,
};

use crate::samples::sample;

fn body(name: &str) -> MessageBody {
    Message::parse(&sample(name), &Limits::default())
        .unwrap()
        .body
}

#[test]
fn subscribe_requests_of_all_three_kinds() {
    let MessageBody::Request(Request::Subscribe(Subscribe::Pull {
        scope,
        timeout,
        watermark,
    })) = body("subscribe-pull-request.xml")
    else {
        panic!("not a pull subscribe")
    };
    assert_eq!(timeout, 10);
    assert_eq!(watermark, None);
    assert_eq!(
        scope.event_types,
        vec![EventType::NewMailEvent, EventType::DeletedEvent]
    );
    let MessageBody::Request(Request::Subscribe(Subscribe::Push {
        status_frequency,
        url,
        ..
    })) = body("subscribe-push-request.xml")
    else {
        panic!("not a push subscribe")
    };
    assert_eq!(status_frequency, Some(1));
    assert_eq!(url, "https://YOUR_PUSH_RESPONDER_URL");
    let MessageBody::Request(Request::Subscribe(Subscribe::Streaming { scope })) =
        body("subscribe-streaming-request.xml")
    else {
        panic!("not a streaming subscribe")
    };
    assert!(scope.event_types.contains(&EventType::FreeBusyChangedEvent));
}

#[test]
fn subscribe_response_and_get_events_carry_ids_and_watermarks() {
    let MessageBody::Response(Response::Subscribe(r)) = body("subscribe-pull-response.xml") else {
        panic!("not Subscribe")
    };
    assert_eq!(
        r.messages[0].payload.watermark.as_deref(),
        Some("AAAAAHgGAAAAAAAAAQ==")
    );
    let MessageBody::Response(Response::GetEvents(r)) = body("getevents-response.xml") else {
        panic!("not GetEvents")
    };
    let n = r.messages[0].payload.notification.as_ref().unwrap();
    assert_eq!(n.more_events, Some(false));
    assert_eq!(n.events.len(), 2);
    assert_eq!(
        n.events[1].watermark.as_deref(),
        Some("AAAAAOQGAAAAAAAAAQ==")
    );
}

#[test]
fn streaming_events_have_no_watermarks_and_write_in_exchange_shape() {
    let m = Message::parse(
        &sample("getstreamingevents-multi-notification-response.xml"),
        &Limits::default(),
    )
    .unwrap();
    let MessageBody::Response(Response::GetStreamingEvents(r)) = &m.body else {
        panic!("not GetStreamingEvents")
    };
    let ns = r.messages[0].payload.notifications.as_ref().unwrap();
    assert_eq!(ns.len(), 2);
    assert!(ns[0].events.iter().all(|e| e.watermark.is_none()));
    assert_eq!(ns[0].events[1].kind, EventType::FreeBusyChangedEvent);
    let written = String::from_utf8(m.write()).unwrap();
    assert!(written.starts_with(r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><soap11:Header xmlns:soap11="http://schemas.xmlsoap.org/soap/envelope/">"#), "{written}");
    assert!(written.ends_with("</soap11:Body></Envelope>"), "{written}");
    let MessageBody::Response(Response::GetStreamingEvents(r)) =
        body("getstreamingevents-closed-response.xml")
    else {
        panic!("not GetStreamingEvents")
    };
    assert_eq!(
        r.messages[0].payload.connection_status.as_deref(),
        Some("Closed")
    );
}

#[test]
fn push_notification_and_listener_reply() {
    let m = Message::parse(
        &sample("sendnotification-push-status-request.xml"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(m.operation, "SendNotification");
    let MessageBody::Request(Request::SendNotification(s)) = m.body else {
        panic!("not SendNotification")
    };
    let n = s.messages[0].payload.notification.as_ref().unwrap();
    assert_eq!(n.events[0].kind, EventType::StatusEvent);
    assert_eq!(n.events[0].watermark.as_deref(), Some("BBBBB="));
    let MessageBody::Response(Response::SendNotificationResult(r)) =
        body("sendnotificationresult-ok-response.xml")
    else {
        panic!("not SendNotificationResult")
    };
    assert_eq!(r.subscription_status, SubscriptionStatus::Ok);
}

#[test]
fn sync_folder_items_changes_and_error_form() {
    let MessageBody::Response(Response::SyncFolderItems(r)) = body("syncfolderitems-response.xml")
    else {
        panic!("not SyncFolderItems")
    };
    let p = &r.messages[0].payload;
    assert_eq!(p.sync_state.as_deref(), Some("H4sIAAAAA="));
    let Some(changes) = &p.changes else {
        panic!("no changes")
    };
    let SyncChange::Create(Item::Other(e)) = &changes[0] else {
        panic!("not a create")
    };
    assert_eq!(e.name, "MeetingRequest");
    let MessageBody::Response(Response::SyncFolderItems(r)) =
        body("error-serverbusy-responsemessage-response.xml")
    else {
        panic!("not SyncFolderItems")
    };
    let m = &r.messages[0];
    assert_eq!(
        m.status
            .message_xml
            .as_ref()
            .unwrap()
            .back_off_milliseconds(),
        Some(5000)
    );
    assert_eq!(m.payload.sync_state.as_deref(), Some(""));
}

#[test]
fn server_time_zones_use_the_timezone_types() {
    let MessageBody::Response(Response::GetServerTimeZones(r)) =
        body("getservertimezones-response.xml")
    else {
        panic!("not GetServerTimeZones")
    };
    let defs = r.messages[0].payload.definitions.as_ref().unwrap();
    assert_eq!(defs[0].id, "W. Europe Standard Time");
    assert!(defs[0].has_rules());
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("W. Europe Standard Time"), "{json}");
}

#[test]
fn autodiscover_user_settings_are_read() {
    let MessageBody::Response(Response::GetUserSettings(r)) = body("getusersettings-response.xml")
    else {
        panic!("not GetUserSettings")
    };
    let s = &r.user_responses[0].settings;
    assert!(
        s.iter()
            .any(|s| s.name == "CasVersion" && s.value.as_deref() == Some("14.00.0478.000"))
    );
}

#[test]
fn written_responses_start_with_declaration_and_header() {
    let r = Response::SendNotificationResult(ews_proto::notification::SendNotificationResult {
        subscription_status: SubscriptionStatus::Unsubscribe,
    });
    let headers = Headers::response(ServerVersionInfo {
        major_version: Some(15),
        ..Default::default()
    });
    let s = String::from_utf8(r.write(&headers)).unwrap();
    assert!(
        s.starts_with(r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope"#),
        "{s}"
    );
    assert!(
        s.contains("<m:SubscriptionStatus>Unsubscribe</m:SubscriptionStatus>"),
        "{s}"
    );
}

#[test]
fn a_captured_stream_of_envelopes_parses_as_a_sequence() {
    let mut stream = sample("getstreamingevents-multi-notification-response.xml");
    stream.extend_from_slice(&sample("getstreamingevents-closed-response.xml"));
    let all = Message::parse_all(&stream, &Limits::default()).unwrap();
    assert_eq!(all.len(), 2);
    let MessageBody::Response(Response::GetStreamingEvents(last)) = &all[1].body else {
        panic!("not GetStreamingEvents")
    };
    assert_eq!(
        last.messages[0].payload.connection_status.as_deref(),
        Some("Closed")
    );
    assert!(
        Message::parse(&stream, &Limits::default()).is_err(),
        "one message expected"
    );
}
