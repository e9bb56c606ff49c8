//! The EWS endpoint: auth, version probe, OOF, impersonation and request-level errors.

use mock_ews::Outcome;

use crate::support::{basic, envelope, http, office, soap};

const PROBE: &str = r#"<m:ConvertId DestinationFormat="EntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="DUMMY" Mailbox="DUMMY"/></m:SourceIds></m:ConvertId>"#;

#[tokio::test]
async fn missing_or_wrong_credentials_get_a_basic_challenge() {
    let ews = office().await;
    let r = http(
        &ews,
        "POST",
        "/EWS/Exchange.asmx",
        &[],
        envelope("Exchange2010_SP2", None, PROBE).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(
        r.header("WWW-Authenticate")
            .unwrap()
            .starts_with("Basic realm="),
        "{:?}",
        r.headers
    );
    let r = soap(
        &ews,
        ("svc-sync", "nope"),
        &envelope("Exchange2010_SP2", None, PROBE),
    )
    .await;
    assert_eq!(r.status, 401);
    let j = ews.journal().entries();
    assert_eq!(j.len(), 2);
    assert_eq!(j[1].account.as_deref(), Some("svc-sync"));
    assert_eq!(
        j[1].outcome,
        Outcome::Http {
            status: 401,
            retry_after_s: None
        }
    );
}

#[tokio::test]
async fn version_probe_answers_with_server_version_info_and_path_is_case_insensitive() {
    let ews = office().await;
    let r = http(
        &ews,
        "POST",
        "/ews/exchange.asmx",
        &[basic("svc-sync", "sync-pw")],
        envelope("Exchange2010_SP2", None, PROBE).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("Content-Type").unwrap().starts_with("text/xml"));
    assert!(
        r.body
            .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
    );
    assert!(
        r.body.contains(
            r#"MajorVersion="14" MinorVersion="3" MajorBuildNumber="181" MinorBuildNumber="6""#
        ),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<m:ResponseCode>ErrorInvalidSmtpAddress</m:ResponseCode>"),
        "{}",
        r.body
    );
    assert_eq!(ews.journal().entries()[0].operation, "ConvertId");
}

#[tokio::test]
async fn a_2010_server_rejects_newer_request_versions() {
    let ews = office().await;
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2016", None, PROBE),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("a:ErrorInvalidServerVersion"), "{}", r.body);
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2013_SP1", None, PROBE),
    )
    .await;
    assert_eq!(r.status, 500);
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2010_SP1", None, PROBE),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn unknown_operation_is_a_well_formed_fault_and_the_server_keeps_serving() {
    let ews = office().await;
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2010_SP2", None, "<m:FrobnicateItem/>"),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("<faultcode xmlns:a=\"http://schemas.microsoft.com/exchange/services/2006/types\">a:ErrorInvalidRequest</faultcode>"), "{}", r.body);
    assert!(r.body.contains("FrobnicateItem"));
    let r = soap(&ews, ("svc-sync", "sync-pw"), "<not xml").await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("ErrorSchemaValidation"), "{}", r.body);
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2010_SP2", None, PROBE),
    )
    .await;
    assert_eq!(r.status, 200);
}

const GET_OOF: &str = r#"<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>alice@contoso.com</t:Address></t:Mailbox></m:GetUserOofSettingsRequest>"#;

#[tokio::test]
async fn oof_get_set_round_trip_as_owner_and_through_impersonation() {
    let ews = office().await;
    let r = soap(
        &ews,
        ("alice@contoso.com", "alice-pw"),
        &envelope("Exchange2010_SP2", None, GET_OOF),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<t:OofState>Scheduled</t:OofState>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<t:StartTime>2026-03-29T22:00:00Z</t:StartTime>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<t:Message>I am on vacation until Friday.</t:Message>")
    );
    assert!(
        r.body
            .contains("<m:AllowExternalOof>All</m:AllowExternalOof>")
    );
    let set = r#"<m:SetUserOofSettingsRequest><t:Mailbox><t:Address>alice@contoso.com</t:Address></t:Mailbox><t:UserOofSettings><t:OofState>Enabled</t:OofState><t:ExternalAudience>Known</t:ExternalAudience><t:InternalReply><t:Message>Gone fishing</t:Message></t:InternalReply><t:ExternalReply><t:Message>Away</t:Message></t:ExternalReply></t:UserOofSettings></m:SetUserOofSettingsRequest>"#;
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2010_SP2", Some("alice@contoso.com"), set),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains(r#"<m:ResponseMessage ResponseClass="Success">"#),
        "{}",
        r.body
    );
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2010_SP2", Some("alice@contoso.com"), GET_OOF),
    )
    .await;
    assert!(
        r.body.contains("<t:OofState>Enabled</t:OofState>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<t:ExternalAudience>Known</t:ExternalAudience>")
    );
    assert!(r.body.contains("Gone fishing"));
    assert_eq!(
        ews.store().changes_since(0).len(),
        1,
        "one OofChanged record"
    );
}

#[tokio::test]
async fn oof_of_someone_else_is_denied_and_bad_schedules_are_refused() {
    let ews = office().await;
    let r = soap(
        &ews,
        ("bob@contoso.com", "bob-pw"),
        &envelope("Exchange2010_SP2", None, GET_OOF),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("ErrorAccessDenied"), "{}", r.body);
    let before = ews.store().world();
    let set = r#"<m:SetUserOofSettingsRequest><t:Mailbox><t:Address>alice@contoso.com</t:Address></t:Mailbox><t:UserOofSettings><t:OofState>Scheduled</t:OofState><t:ExternalAudience>All</t:ExternalAudience><t:Duration><t:StartTime>2026-03-20T00:00:00Z</t:StartTime><t:EndTime>2026-03-21T00:00:00Z</t:EndTime></t:Duration></t:UserOofSettings></m:SetUserOofSettingsRequest>"#;
    let r = soap(
        &ews,
        ("alice@contoso.com", "alice-pw"),
        &envelope("Exchange2010_SP2", None, set),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("<m:ResponseCode>ErrorInvalidScheduledOofDuration</m:ResponseCode>"),
        "{}",
        r.body
    );
    assert_eq!(ews.store().world(), before, "state unchanged");
}

#[tokio::test]
async fn impersonation_errors_are_soap_faults() {
    let ews = office().await;
    let r = soap(
        &ews,
        ("svc-freebusy", "fb-pw"),
        &envelope("Exchange2010_SP2", Some("alice@contoso.com"), GET_OOF),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(
        r.body.contains("a:ErrorImpersonateUserDenied"),
        "{}",
        r.body
    );
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2010_SP2", Some("ghost@contoso.com"), GET_OOF),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("a:ErrorNonExistentMailbox"), "{}", r.body);
    assert!(
        r.body
            .contains(r#"<t:Value Name="SmtpAddress">ghost@contoso.com</t:Value>"#),
        "{}",
        r.body
    );
    let j = ews.journal().entries();
    assert_eq!(j[0].impersonated.as_deref(), Some("alice@contoso.com"));
    assert_eq!(j[0].outcome.code(), Some("ErrorImpersonateUserDenied"));
}

#[tokio::test]
async fn expectations_are_checked_on_drop() {
    let ews = office().await;
    ews.expect("ConvertId", 1..=1);
    ews.expect("GetUserOofSettings", 0..=0);
    soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope("Exchange2010_SP2", None, PROBE),
    )
    .await;
    assert_eq!(ews.verify(), Ok(()));
    drop(ews);

    let ews = office().await;
    ews.expect("FindItem", 1..=usize::MAX);
    assert_eq!(
        ews.verify().unwrap_err(),
        ["FindItem: expected 1..=18446744073709551615 requests, received 0"]
    );
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(ews)));
    let msg = *dropped.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.contains("unmet expectations") && msg.contains("FindItem"),
        "{msg}"
    );
}

#[tokio::test]
async fn xs_boolean_one_and_zero_are_accepted() {
    let ews = office().await;
    let body = r#"<m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.com</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType><t:ExcludeConflicts>0</t:ExcludeConflicts></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-24T00:00:00</t:StartTime><t:EndTime>2026-03-25T00:00:00</t:EndTime></t:TimeWindow><t:RequestedView>FreeBusy</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>"#;
    let r = soap(
        &ews,
        ("bob@contoso.com", "bob-pw"),
        &envelope("Exchange2010_SP2", None, body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<t:BusyType>OOF</t:BusyType>"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn convert_id_answers_with_the_typed_alternate_id_exchange_writes() {
    use ews_proto::{Limits, Response};
    let ews = office().await;
    let ews_id = mock_ews::item_id(1, 999, 1);
    let body = format!(
        r#"<m:ConvertId DestinationFormat="HexEntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="{ews_id}" Mailbox="alice@contoso.com"/></m:SourceIds></m:ConvertId>"#
    );
    let r = soap(
        &ews,
        ("bob@contoso.com", "bob-pw"),
        &envelope("Exchange2010_SP2", None, &body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The Managed API reads `xsi:type` to pick the id class; without it there is no id.
    assert!(
        r.body.contains(
            r#"<m:AlternateId xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="t:AlternateIdType" Format="HexEntryId""#
        ),
        "{}",
        r.body
    );
    let Response::ConvertId(resp) = Response::parse_bytes(r.body.as_bytes(), &Limits::default())
        .unwrap()
        .1
    else {
        panic!("{}", r.body)
    };
    let alt = resp.messages[0].payload.alternate_id.clone().unwrap();
    assert_eq!(alt.mailbox, "alice@contoso.com");
    // Hex of the same bytes: converting back gives the original EwsId.
    let back = format!(
        r#"<m:ConvertId DestinationFormat="EwsId"><m:SourceIds><t:AlternateId Format="HexEntryId" Id="{}" Mailbox="alice@contoso.com"/></m:SourceIds></m:ConvertId>"#,
        alt.id
    );
    let r = soap(
        &ews,
        ("bob@contoso.com", "bob-pw"),
        &envelope("Exchange2010_SP2", None, &back),
    )
    .await;
    assert!(r.body.contains(&format!(r#"Id="{ews_id}""#)), "{}", r.body);
}
