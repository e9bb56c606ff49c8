//! Typed reads of the OOF and availability samples.

use ews_proto::item::LegacyFreeBusyStatus;
use ews_proto::oof::{ExternalAudience, OofState};
use ews_proto::recurrence::DayOfWeek;
use ews_proto::{EwsDateTime, Limits, Message, MessageBody, Request, Response, ResponseCode};

use crate::samples::sample;

fn body(name: &str) -> MessageBody {
    Message::parse(&sample(name), &Limits::default())
        .unwrap()
        .body
}

#[test]
fn oof_response_keeps_zone_less_duration_and_replies() {
    let MessageBody::Response(Response::GetUserOofSettings(r)) =
        body("getuseroofsettings-response.xml")
    else {
        panic!("not GetUserOofSettings")
    };
    assert!(r.status.is_success());
    let s = r.oof_settings.unwrap();
    assert_eq!(s.oof_state, OofState::Disabled);
    assert_eq!(s.external_audience, ExternalAudience::All);
    let d = s.duration.unwrap();
    assert!(matches!(d.start_time, EwsDateTime::Floating(_)));
    assert_eq!(d.start_time.to_string(), "2006-11-03T23:00:00");
    assert_eq!(
        s.internal_reply.unwrap().message,
        "I am out of office. This is my internal reply."
    );
    assert_eq!(r.allow_external_oof, Some(ExternalAudience::All));
}

#[test]
fn set_oof_request_reads_user_oof_settings() {
    let MessageBody::Request(Request::SetUserOofSettings(r)) =
        body("setuseroofsettings-request.xml")
    else {
        panic!("not SetUserOofSettings")
    };
    assert_eq!(r.mailbox.address, "user1@example.com");
    assert_eq!(r.mailbox.routing_type.as_deref(), Some("SMTP"));
    assert_eq!(r.settings.oof_state, OofState::Enabled);
}

#[test]
fn availability_request_with_legacy_zone() {
    let MessageBody::Request(Request::GetUserAvailability(r)) =
        body("getuseravailability-legacy-timezone-request.xml")
    else {
        panic!("not GetUserAvailability")
    };
    let tz = r.legacy_time_zone().unwrap().unwrap();
    assert_eq!(tz.bias_minutes, 480);
    assert_eq!(r.mailbox_data.len(), 2);
    let o = r.free_busy_view_options.unwrap();
    assert_eq!(o.merged_free_busy_interval_in_minutes, Some(60));
    assert_eq!(o.requested_view.as_deref(), Some("DetailedMerged"));
}

#[test]
fn availability_request_with_time_zone_context_only() {
    let m = Message::parse(
        &sample("getuseravailability-timezonecontext-request.xml"),
        &Limits::default(),
    )
    .unwrap();
    let ctx = m.headers.time_zone_context.unwrap();
    assert_eq!(ctx.to_definition().unwrap().id, "Pacific Standard Time");
    let MessageBody::Request(Request::GetUserAvailability(r)) = m.body else {
        panic!()
    };
    assert!(r.time_zone.is_none());
}

#[test]
fn free_busy_response_has_events_and_working_hours() {
    let MessageBody::Response(Response::GetUserAvailability(r)) =
        body("getuseravailability-freebusy-response.xml")
    else {
        panic!("not GetUserAvailability")
    };
    assert_eq!(r.free_busy_responses.len(), 2);
    let v = r.free_busy_responses[1].view.as_ref().unwrap();
    assert_eq!(v.view_type, "FreeBusy");
    let events = v.calendar_events.as_ref().unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[3].busy_type, LegacyFreeBusyStatus::Tentative);
    let wh = v.working_hours.as_ref().unwrap();
    assert_eq!(wh.working_periods[0].days_of_week.len(), 5);
    assert_eq!(wh.working_periods[0].days_of_week[0], DayOfWeek::Monday);
    assert_eq!(wh.working_periods[0].start_time_in_minutes, 540);
    assert!(r.suggestions_response.is_some());
}

#[test]
fn per_mailbox_availability_error_keeps_exception_details() {
    let MessageBody::Response(Response::GetUserAvailability(r)) =
        body("getuseravailability-error-invalidsmtp-response.xml")
    else {
        panic!("not GetUserAvailability")
    };
    let fb = &r.free_busy_responses[0];
    assert_eq!(fb.status.code, Some(ResponseCode::ErrorInvalidSmtpAddress));
    assert_eq!(fb.status.message_xml.as_ref().unwrap().other.len(), 3);
    assert_eq!(fb.view.as_ref().unwrap().view_type, "None");
}
