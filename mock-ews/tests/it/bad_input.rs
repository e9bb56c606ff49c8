//! Bad input: each gets the right error, the server keeps serving and state is unchanged.

use crate::support::{basic, envelope, http, office, soap};

const PROBE: &str = r#"<m:ConvertId DestinationFormat="EwsId"><m:SourceIds><t:AlternateId Format="EwsId" Id="DUMMY" Mailbox="DUMMY"/></m:SourceIds></m:ConvertId>"#;

/// What, auth header, body, expected status, expected text in the body.
type Case = (
    &'static str,
    Option<(&'static str, String)>,
    Vec<u8>,
    u16,
    &'static str,
);

#[tokio::test]
async fn bad_input_table() {
    let ews = office().await;
    let before = ews.store().world();
    let ok = envelope("Exchange2010_SP2", None, PROBE);
    let view = |start: &str| {
        envelope(
            "Exchange2010_SP2",
            Some("alice@contoso.com"),
            &format!(
                r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:CalendarView StartDate="{start}" EndDate="2026-04-01T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>"#
            ),
        )
    };
    let unknown_in_body = envelope(
        "Exchange2010_SP2",
        None,
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:CalendarView StartDate="2026-03-01T00:00:00Z" EndDate="2026-04-01T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>ghost@contoso.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:ParentFolderIds></m:FindItem>"#,
    );
    let auth = Some(basic("svc-sync", "sync-pw"));
    // (what, auth header, body, expected status, expected text in the body)
    let cases: Vec<Case> = vec![
        (
            "malformed XML",
            auth.clone(),
            b"<soap:Envelope><soap:Body><m:GetItem>".to_vec(),
            500,
            "a:ErrorSchemaValidation",
        ),
        (
            "not XML at all",
            auth.clone(),
            b"hello".to_vec(),
            500,
            "a:ErrorSchemaValidation",
        ),
        (
            "empty body",
            auth.clone(),
            Vec::new(),
            500,
            "a:ErrorSchemaValidation",
        ),
        (
            "unknown operation",
            auth.clone(),
            envelope("Exchange2010_SP2", None, "<m:LaunchRockets/>").into_bytes(),
            500,
            "a:ErrorInvalidRequest",
        ),
        (
            "wrong SOAP namespace",
            auth.clone(),
            ok.replace(
                "http://schemas.xmlsoap.org/soap/envelope/",
                "https://schemas.xmlsoap.org/soap/envelope/",
            )
            .into_bytes(),
            500,
            "a:ErrorSchemaValidation",
        ),
        (
            "operation in the wrong namespace",
            auth.clone(),
            envelope(
                "Exchange2010_SP2",
                None,
                r#"<x:ConvertId xmlns:x="urn:nope"/>"#,
            )
            .into_bytes(),
            500,
            "a:ErrorInvalidRequest",
        ),
        (
            "DOCTYPE",
            auth.clone(),
            format!(
                "<!DOCTYPE x [<!ENTITY a \"b\">]>{}",
                ok.trim_start_matches("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
            )
            .into_bytes(),
            500,
            "a:ErrorSchemaValidation",
        ),
        (
            "oversized body",
            auth.clone(),
            vec![b' '; mock_ews::DEFAULT_MAX_BODY + 1],
            413,
            "",
        ),
        (
            "invalid date",
            auth.clone(),
            view("yesterday").into_bytes(),
            500,
            "a:ErrorSchemaValidation",
        ),
        (
            "impossible date",
            auth.clone(),
            view("2026-02-30T00:00:00Z").into_bytes(),
            500,
            "a:ErrorSchemaValidation",
        ),
        (
            "unknown impersonated mailbox",
            auth.clone(),
            envelope("Exchange2010_SP2", Some("ghost@contoso.com"), PROBE).into_bytes(),
            500,
            "a:ErrorNonExistentMailbox",
        ),
        (
            "unknown mailbox in the body",
            auth.clone(),
            unknown_in_body.into_bytes(),
            200,
            "<m:ResponseCode>ErrorNonExistentMailbox</m:ResponseCode>",
        ),
        (
            "unknown server version",
            auth.clone(),
            envelope("Exchange2099", None, PROBE).into_bytes(),
            500,
            "a:ErrorInvalidServerVersion",
        ),
        ("missing auth", None, ok.clone().into_bytes(), 401, ""),
        (
            "wrong scheme",
            Some(("Authorization", "Bearer abc".into())),
            ok.clone().into_bytes(),
            401,
            "",
        ),
        (
            "garbage credentials",
            Some(("Authorization", "Basic !!!".into())),
            ok.clone().into_bytes(),
            401,
            "",
        ),
    ];
    for (what, auth, body, status, needle) in cases {
        let headers: Vec<(&str, String)> = auth.into_iter().collect();
        let r = http(&ews, "POST", "/EWS/Exchange.asmx", &headers, &body).await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert!(r.body.contains(needle), "{what}: {}", r.body);
        if status == 500 {
            assert!(
                r.body.starts_with("<?xml"),
                "{what}: a SOAP fault, not an HTML page"
            );
        }
        // Still serving.
        let again = soap(&ews, ("svc-sync", "sync-pw"), &ok).await;
        assert_eq!(again.status, 200, "after {what}");
    }
    assert_eq!(ews.store().world(), before, "state unchanged");
    assert!(ews.store().changes_since(0).is_empty());
    let r = http(&ews, "GET", "/EWS/Exchange.asmx", &[], b"").await;
    assert_eq!(r.status, 405);
    let r = http(&ews, "POST", "/elsewhere", &[], b"").await;
    assert_eq!(r.status, 404);
}
