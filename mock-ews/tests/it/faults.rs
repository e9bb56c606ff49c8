//! Fault injection over real sockets, and the journal's conformance helpers.

use mock_ews::{BusyForm, FaultKind, FaultSpec, Outcome};

use crate::support::{envelope, office, raw, raw_request, soap};

const SVC: (&str, &str) = ("svc-sync", "sync-pw");
const PROBE: &str = r#"<m:ConvertId DestinationFormat="EwsId"><m:SourceIds><t:AlternateId Format="EwsId" Id="DUMMY" Mailbox="DUMMY"/></m:SourceIds></m:ConvertId>"#;
const GET_FOLDER: &str = r#"<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>"#;

#[tokio::test]
async fn server_busy_in_both_forms_with_back_off() {
    let ews = office().await;
    ews.faults()
        .add(
            FaultSpec::next(
                FaultKind::ServerBusy {
                    back_off_ms: 1500,
                    form: BusyForm::Fault,
                },
                1,
            )
            .for_operation("GetFolder"),
        )
        .unwrap();
    ews.faults()
        .add(
            FaultSpec::next(
                FaultKind::ServerBusy {
                    back_off_ms: 2500,
                    form: BusyForm::Message,
                },
                1,
            )
            .for_operation("GetFolder"),
        )
        .unwrap();
    let req = envelope("Exchange2010_SP2", Some("alice@contoso.com"), GET_FOLDER);
    // The probe is another operation: untouched.
    assert_eq!(
        soap(&ews, SVC, &envelope("Exchange2010_SP2", None, PROBE))
            .await
            .status,
        200
    );
    let r = soap(&ews, SVC, &req).await;
    assert_eq!(r.status, 500);
    assert!(
        r.body
            .contains(r#"<t:Value Name="BackOffMilliseconds">1500</t:Value>"#),
        "{}",
        r.body
    );
    let Ok((_, ews_proto::Response::Fault(f))) =
        ews_proto::Response::parse_bytes(r.body.as_bytes(), &ews_proto::Limits::default())
    else {
        panic!("{}", r.body)
    };
    assert_eq!(f.message_xml.unwrap().back_off_milliseconds(), Some(1500));
    let r = soap(&ews, SVC, &req).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains(r#"<m:GetFolderResponseMessage ResponseClass="Error">"#),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(
            r#"<m:MessageXml><t:Value Name="BackOffMilliseconds">2500</t:Value></m:MessageXml>"#
        ),
        "{}",
        r.body
    );
    let r = soap(&ews, SVC, &req).await;
    assert!(r.body.contains("NoError"));
    // The client above retried immediately on the frozen clock: the journal says so.
    let v = ews.journal().waited_at_least_backoff().unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].asked_ms, 1500);
    // A client that waits on the shared clock passes.
    let ews = office().await;
    ews.faults()
        .add(FaultSpec::next(
            FaultKind::ServerBusy {
                back_off_ms: 1500,
                form: BusyForm::Fault,
            },
            1,
        ))
        .unwrap();
    assert_eq!(soap(&ews, SVC, &req).await.status, 500);
    ews.clock().advance(chrono::Duration::milliseconds(1500));
    assert_eq!(soap(&ews, SVC, &req).await.status, 200);
    assert_eq!(ews.journal().waited_at_least_backoff(), Ok(()));
    assert!(ews.journal().retried_after_failures());
}

#[tokio::test]
async fn message_level_errors_and_503() {
    let ews = office().await;
    for kind in [
        FaultKind::TooManyObjectsOpened,
        FaultKind::InternalServerError {
            inner_code: Some("ErrorQuotaExceededOnDelete".into()),
        },
        FaultKind::TimeoutExpired,
        FaultKind::Unavailable { retry_after_s: 7 },
    ] {
        ews.faults()
            .add(FaultSpec::next(kind, 1).for_mailbox("alice@contoso.com"))
            .unwrap();
    }
    let req = envelope("Exchange2010_SP2", Some("alice@contoso.com"), GET_FOLDER);
    let bodies: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(soap(&ews, SVC, &req).await);
        }
        v
    };
    assert!(
        bodies[0]
            .body
            .contains("<m:ResponseCode>ErrorTooManyObjectsOpened</m:ResponseCode>")
    );
    assert!(
        bodies[1].body.contains(
            r#"<t:Value Name="InnerErrorResponseCode">ErrorQuotaExceededOnDelete</t:Value>"#
        ),
        "{}",
        bodies[1].body
    );
    assert!(
        bodies[2]
            .body
            .contains("<m:ResponseCode>ErrorTimeoutExpired</m:ResponseCode>")
    );
    assert_eq!(bodies[3].status, 503);
    assert_eq!(bodies[3].header("Retry-After"), Some("7"));
    // Another mailbox is never affected, and state did not change.
    let other = soap(
        &ews,
        SVC,
        &envelope("Exchange2010_SP2", Some("bob@contoso.com"), GET_FOLDER),
    )
    .await;
    assert!(other.body.contains("NoError"));
    let outcomes: Vec<Outcome> = ews
        .journal()
        .entries()
        .into_iter()
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        outcomes[3],
        Outcome::Http {
            status: 503,
            retry_after_s: Some(7)
        }
    );
    assert!(ews.store().changes_since(0).is_empty());
}

#[tokio::test]
async fn broken_transports() {
    let ews = office().await;
    let req = raw_request(SVC, &envelope("Exchange2010_SP2", None, PROBE));
    ews.faults()
        .add(FaultSpec::next(FaultKind::EmptyReply, 1))
        .unwrap();
    assert_eq!(
        raw(&ews, &req).await.unwrap(),
        b"",
        "empty reply: closed without a byte"
    );
    ews.faults()
        .add(FaultSpec::next(FaultKind::ConnectionReset, 1))
        .unwrap();
    match raw(&ews, &req).await {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        Ok(bytes) => assert!(
            bytes.is_empty(),
            "reset must not deliver an answer: {}",
            String::from_utf8_lossy(&bytes)
        ),
    }
    ews.faults()
        .add(FaultSpec::next(FaultKind::TruncatedBody, 1))
        .unwrap();
    let got = String::from_utf8(raw(&ews, &req).await.unwrap_or_default()).unwrap();
    let (head, body) = got.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let declared: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    assert!(
        !body.is_empty() && body.len() < declared,
        "{} of {declared} bytes",
        body.len()
    );
    ews.faults()
        .add(FaultSpec::next(FaultKind::Delay { ms: 1 }, 1))
        .unwrap();
    let ok = String::from_utf8(raw(&ews, &req).await.unwrap()).unwrap();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let kinds: Vec<String> = ews
        .journal()
        .entries()
        .into_iter()
        .map(|e| match e.outcome {
            Outcome::Transport { what } => what,
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds[..3],
        ["empty reply", "connection reset", "truncated body"]
    );
}

#[tokio::test]
async fn faults_through_the_control_api() {
    let ews = office().await;
    let r = crate::support::http(
        &ews,
        "POST",
        "/mock/faults",
        &[("Content-Type", "application/json".into())],
        br#"{"fault":{"kind":"serverBusy","backOffMs":100},"operation":"ConvertId","times":1}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = crate::support::http(
        &ews,
        "POST",
        "/mock/faults",
        &[],
        b"fault: { kind: meteor }\n",
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        soap(&ews, SVC, &envelope("Exchange2010_SP2", None, PROBE))
            .await
            .status,
        500
    );
    let r = crate::support::http(&ews, "GET", "/mock/faults", &[], b"").await;
    assert!(r.body.contains(r#""fired":1"#), "{}", r.body);
    let r = crate::support::http(&ews, "DELETE", "/mock/faults", &[], b"").await;
    assert_eq!(r.status, 204);
    assert!(ews.faults().list().is_empty());
}

#[tokio::test]
async fn the_journal_counts_requests_in_flight_per_mailbox() {
    let ews = office().await;
    let req = envelope("Exchange2010_SP2", Some("alice@contoso.com"), GET_FOLDER);
    soap(&ews, SVC, &req).await;
    soap(&ews, SVC, &req).await;
    assert_eq!(
        ews.journal().max_in_flight().map(|m| m.2),
        Some(1),
        "one after the other"
    );
    // Hold three concurrent requests long enough to overlap (not a timing assertion: they
    // start within microseconds of each other and each waits a second).
    ews.faults()
        .add(FaultSpec::next(FaultKind::Delay { ms: 1000 }, 3))
        .unwrap();
    let a = soap(&ews, SVC, &req);
    let b = soap(&ews, SVC, &req);
    let c = soap(&ews, SVC, &req);
    let (a, b, c) = tokio::join!(a, b, c);
    assert!([a.status, b.status, c.status].iter().all(|s| *s == 200));
    let (account, mailbox, n) = ews.journal().max_in_flight().unwrap();
    assert_eq!(
        (account.as_str(), mailbox.as_str()),
        ("svc-sync", "alice@contoso.com")
    );
    assert!(n >= 2, "{n} in flight");
}

/// Under `tls(true)` the transport faults still break the HTTP exchange (they act on the
/// plain bytes inside TLS), and the next request on a fresh connection is answered.
#[tokio::test]
async fn broken_transports_under_tls() {
    let spec = crate::support::example("small-office.yaml");
    let now = spec.now.and_then(|n| n.to_utc(chrono_tz::UTC)).unwrap();
    let ews = mock_ews::MockEws::builder()
        .world(spec)
        .clock(ews_clock::Clock::frozen_at(now))
        .tls(true)
        .start()
        .await
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = ews.tls_cert_pem().unwrap().as_bytes().to_vec();
    let client = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let body = envelope("Exchange2010_SP2", None, PROBE);
    let (name, auth) = crate::support::basic(SVC.0, SVC.1);
    let post = || {
        client
            .post(ews.ews_url())
            .header(name, auth.clone())
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(body.clone())
            .send()
    };
    for kind in [
        FaultKind::EmptyReply,
        FaultKind::ConnectionReset,
        FaultKind::TruncatedBody,
    ] {
        ews.faults().add(FaultSpec::next(kind.clone(), 1)).unwrap();
        let broken = match post().await {
            Err(_) => true,
            Ok(r) => r.text().await.is_err(),
        };
        assert!(broken, "{kind:?} must break the exchange under TLS");
    }
    let ok = post().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("ConvertIdResponse"));
}
