//! GetUserAvailability and GetServerTimeZones.

use ews_proto::availability::GetUserAvailabilityResponse;
use ews_proto::{Limits, Response};

use crate::support::{envelope, office, soap};

fn request(mailboxes: &[&str], start: &str, end: &str, view: &str, interval: u32) -> String {
    let data: String = mailboxes
        .iter()
        .map(|m| format!("<t:MailboxData><t:Email><t:Address>{m}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData>"))
        .collect();
    format!(
        "<m:GetUserAvailabilityRequest><m:MailboxDataArray>{data}</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>{start}</t:StartTime><t:EndTime>{end}</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>{interval}</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>{view}</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>"
    )
}

fn with_zone(body: &str, zone: &str) -> String {
    envelope("Exchange2010_SP2", None, body).replace(
        "</soap:Header>",
        &format!(r#"<t:TimeZoneContext><t:TimeZoneDefinition Id="{zone}"/></t:TimeZoneContext></soap:Header>"#),
    )
}

fn parse(body: &str) -> GetUserAvailabilityResponse {
    match Response::parse_bytes(body.as_bytes(), &Limits::default())
        .unwrap_or_else(|e| panic!("{e}\n{body}"))
        .1
    {
        Response::GetUserAvailability(r) => r,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn merged_and_detailed_in_the_requested_zone() {
    let ews = office().await;
    // Alice's Tuesday 24 March 2026 in Berlin: Doctor 14:00-15:00 private OOF, nothing else.
    let body = with_zone(
        &request(
            &["alice@contoso.com"],
            "2026-03-24T08:00:00",
            "2026-03-24T18:00:00",
            "DetailedMerged",
            60,
        ),
        "W. Europe Standard Time",
    );
    let r = soap(&ews, ("bob@contoso.com", "bob-pw"), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let resp = parse(&r.body);
    let view = resp.free_busy_responses[0].view.clone().unwrap();
    // Bob has the org default (free/busy only): the detailed view is downgraded.
    assert_eq!(view.view_type, "FreeBusyMerged");
    assert_eq!(view.merged_free_busy.as_deref(), Some("0000003000"));
    let events = view.calendar_events.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].start_time.to_string(), "2026-03-24T14:00:00");
    assert_eq!(events[0].busy_type.as_str(), "OOF");
    assert!(events[0].details.is_none());
    let wh = view.working_hours.unwrap();
    assert_eq!(wh.working_periods[0].start_time_in_minutes, 540);
}

#[tokio::test]
async fn details_only_with_rights_and_never_for_private_items() {
    let ews = office().await;
    // svc-freebusy has free-busy-subject-location on Bob; alice (owner of nothing here) not.
    let body = with_zone(
        &request(
            &["bob@contoso.com", "alice@contoso.com", "ghost@contoso.com"],
            "2026-03-24T00:00:00",
            "2026-03-25T00:00:00",
            "DetailedMerged",
            30,
        ),
        "Eastern Standard Time",
    );
    let r = soap(&ews, ("svc-freebusy", "fb-pw"), &body).await;
    let resp = parse(&r.body);
    let bob = resp.free_busy_responses[0].view.clone().unwrap();
    assert_eq!(bob.view_type, "DetailedMerged");
    let events = bob.calendar_events.unwrap();
    let subjects: Vec<Option<String>> = events
        .iter()
        .map(|e| e.details.as_ref().and_then(|d| d.subject.clone()))
        .collect();
    assert_eq!(
        subjects,
        [
            Some("Vacation".to_owned()),
            Some("1:1 with Alice".to_owned())
        ]
    );
    // Vacation is all-day in New York from 23 March: local midnight in the requested zone.
    assert_eq!(events[0].start_time.to_string(), "2026-03-23T00:00:00");
    assert_eq!(bob.merged_free_busy.as_ref().unwrap().len(), 48);
    assert!(
        bob.merged_free_busy
            .as_ref()
            .unwrap()
            .chars()
            .all(|c| c == '3'),
        "OOF all day: {:?}",
        bob.merged_free_busy
    );
    let alice = resp.free_busy_responses[1].view.clone().unwrap();
    assert_eq!(alice.view_type, "FreeBusyMerged", "free-busy right only");
    let unknown = &resp.free_busy_responses[2];
    assert_eq!(
        unknown.status.code.as_ref().unwrap().as_str(),
        "ErrorMailRecipientNotFound"
    );
    assert_eq!(unknown.view.as_ref().unwrap().view_type, "None");
}

#[tokio::test]
async fn owner_sees_private_flag_but_details_stay_hidden() {
    let ews = office().await;
    let body = with_zone(
        &request(
            &["alice@contoso.com"],
            "2026-03-24T00:00:00",
            "2026-03-25T00:00:00",
            "Detailed",
            30,
        ),
        "W. Europe Standard Time",
    );
    let r = soap(&ews, ("alice@contoso.com", "alice-pw"), &body).await;
    let view = parse(&r.body).free_busy_responses[0].view.clone().unwrap();
    assert_eq!(view.view_type, "Detailed");
    assert!(view.merged_free_busy.is_none());
    let d = view.calendar_events.unwrap()[0].details.clone().unwrap();
    assert_eq!((d.subject, d.is_private), (None, Some(true)));
}

#[tokio::test]
async fn limits_are_faults() {
    let ews = office().await;
    let many: Vec<String> = (0..101).map(|i| format!("u{i}@contoso.com")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let cases = [
        (
            request(
                &many,
                "2026-03-24T00:00:00",
                "2026-03-25T00:00:00",
                "FreeBusy",
                30,
            ),
            "ErrorMailboxDataArrayTooBig",
        ),
        (
            request(
                &["alice@contoso.com"],
                "2026-03-01T00:00:00",
                "2026-04-13T00:00:00",
                "FreeBusy",
                30,
            ),
            "ErrorTimeIntervalTooBig",
        ),
        (
            request(
                &["alice@contoso.com"],
                "2026-03-25T00:00:00",
                "2026-03-24T00:00:00",
                "FreeBusy",
                30,
            ),
            "ErrorInvalidTimeInterval",
        ),
        (
            request(
                &["alice@contoso.com"],
                "2026-03-24T00:00:00",
                "2026-03-25T00:00:00",
                "FreeBusy",
                2,
            ),
            "ErrorInvalidMergedFreeBusyInterval",
        ),
    ];
    for (body, code) in cases {
        let r = soap(
            &ews,
            ("bob@contoso.com", "bob-pw"),
            &with_zone(&body, "UTC"),
        )
        .await;
        assert_eq!(r.status, 500, "{code}");
        assert!(r.body.contains(&format!("a:{code}")), "{code}: {}", r.body);
    }
    // 42 days exactly is allowed.
    let r = soap(
        &ews,
        ("bob@contoso.com", "bob-pw"),
        &with_zone(
            &request(
                &["alice@contoso.com"],
                "2026-03-01T00:00:00",
                "2026-04-12T00:00:00",
                "FreeBusy",
                30,
            ),
            "UTC",
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn server_time_zones_by_id() {
    let ews = office().await;
    // xs:boolean: `1` is as good as `true`.
    for full in ["true", " 1 "] {
        let body = format!(
            r#"<m:GetServerTimeZones ReturnFullTimeZoneData="{full}"><m:Ids><t:Id>W. Europe Standard Time</t:Id></m:Ids></m:GetServerTimeZones>"#
        );
        let r = soap(
            &ews,
            ("bob@contoso.com", "bob-pw"),
            &envelope("Exchange2010_SP2", None, &body),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let Response::GetServerTimeZones(z) =
            Response::parse_bytes(r.body.as_bytes(), &Limits::default())
                .unwrap()
                .1
        else {
            panic!()
        };
        let defs = z.messages[0].payload.definitions.clone().unwrap();
        assert_eq!(defs.len(), 1);
        assert_eq!(defs[0].id, "W. Europe Standard Time");
        assert!(!defs[0].periods.is_empty(), "{full}");
    }
}
