//! The EWS client against wiremock: the shipped EWS samples, paging, server busy and 503
//! Retry-After, authentication and malformed answers, through the engine.

use std::sync::Arc;

use calendar_core::{OofState, PresenceState};
use ews_clock::Clock;
use sync_engine::ews::EwsClient;
use sync_engine::{Config, Engine, Health};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn sample(name: &str) -> String {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        here.join("../../shared/ews-samples").join(name),
        std::path::PathBuf::from("/work/shared/ews-samples").join(name),
    ];
    candidates
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_else(|| panic!("sample {name} not found"))
}

fn xml(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "text/xml; charset=utf-8")
}

const VERSION_HEADER: &str = r#"<s:Header><h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" MajorVersion="14" MinorVersion="3" MajorBuildNumber="181" MinorBuildNumber="6"/></s:Header>"#;

/// A FindItem CalendarView page with items `(id, subject, start, end)`.
fn find_item_page(items: &[(&str, &str, &str, &str)], includes_last: bool) -> String {
    let items: String = items
        .iter()
        .map(|(id, subject, start, end)| {
            format!(
                r#"<t:CalendarItem><t:ItemId Id="{id}" ChangeKey="CK"/><t:Subject>{subject}</t:Subject><t:Sensitivity>Normal</t:Sensitivity><t:Start>{start}</t:Start><t:End>{end}</t:End><t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus><t:Location>Room 1</t:Location><t:IsAllDayEvent>false</t:IsAllDayEvent><t:IsCancelled>false</t:IsCancelled></t:CalendarItem>"#
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">{VERSION_HEADER}<s:Body><m:FindItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:RootFolder TotalItemsInView="{}" IncludesLastItemInRange="{includes_last}"><t:Items>{items}</t:Items></m:RootFolder></m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse></s:Body></s:Envelope>"#,
        items.len()
    )
}

fn oof_enabled() -> String {
    sample("getuseroofsettings-response.xml").replace(
        "<OofState>Disabled</OofState>",
        "<OofState>Enabled</OofState>",
    )
}

struct Setup {
    server: MockServer,
    engine: Engine,
}

async fn setup(users: &str) -> Setup {
    let server = MockServer::start().await;
    let text = format!(
        r#"
[exchange]
url = "{}/EWS/Exchange.asmx"
username = "svc@contoso.test"
password = "secret"
max_retries = 2
max_concurrency = 2
{users}
"#,
        server.uri()
    );
    let config = Config::parse("test", &text, |_| None).expect("valid test config");
    let clock = Clock::system();
    let client = EwsClient::new(&config.exchange, clock.clone()).expect("a client");
    let engine = Engine::new(config, clock, Arc::new(client));
    Setup { server, engine }
}

async fn mount_probe(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/EWS/Exchange.asmx"))
        .and(body_string_contains("ConvertId"))
        .respond_with(xml(sample("convertid-versionprobe-error-response.xml")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn syncs_calendar_oof_and_free_busy_from_the_samples() {
    let s = setup(
        "[[users]]\nemail = \"kim@contoso.test\"\n[[users]]\nemail = \"ceo@contoso.test\"\nprivacy = true\n",
    )
    .await;
    mount_probe(&s.server).await;
    let now = Clock::system().now();
    let start = (now - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let end = (now + chrono::Duration::minutes(25))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    Mock::given(method("POST"))
        .and(body_string_contains("FindItem"))
        .and(body_string_contains(
            "<t:SmtpAddress>kim@contoso.test</t:SmtpAddress>",
        ))
        .and(header("X-AnchorMailbox", "kim@contoso.test"))
        .and(header(
            "Authorization",
            "Basic c3ZjQGNvbnRvc28udGVzdDpzZWNyZXQ=",
        ))
        .respond_with(xml(find_item_page(
            &[("A1", "Standup", &start, &end)],
            true,
        )))
        .expect(1)
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("GetUserOofSettingsRequest"))
        .respond_with(xml(oof_enabled()))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("GetUserAvailabilityRequest"))
        .and(body_string_contains(
            "<t:Address>ceo@contoso.test</t:Address>",
        ))
        .respond_with(xml(sample("getuseravailability-freebusy-response.xml")))
        .expect(1)
        .mount(&s.server)
        .await;

    let report = s.engine.full_sync().await;
    assert_eq!(
        (report.connected, report.failed),
        (true, 0),
        "{:#?}",
        s.engine.status()
    );
    let log = crate::support::messages(&s.engine);
    assert!(
        log.contains(&"Connected to Exchange (v15.01.2345.6789)".to_string()),
        "{log:#?}"
    );
    let kim = s.engine.appointments("kim@contoso.test").unwrap();
    assert_eq!(kim.len(), 1);
    assert_eq!(kim[0].subject.as_deref(), Some("Standup"));
    // OOF enabled outranks the running meeting.
    let p = s.engine.presence("kim@contoso.test").unwrap();
    assert_eq!(p.presence.state, PresenceState::Absent);
    assert_eq!(
        s.engine.state().mailboxes["kim@contoso.test"]
            .oof
            .as_ref()
            .unwrap()
            .state,
        OofState::Enabled
    );
    let ceo = s.engine.appointments("ceo@contoso.test").unwrap();
    assert_eq!(ceo.len(), 2);
    assert!(ceo.iter().all(|a| a.subject.is_none()));
    // No subject was even requested for the private mailbox.
    let requests = s.server.received_requests().await.unwrap();
    for r in requests
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("ceo@contoso.test"))
    {
        let body = String::from_utf8_lossy(&r.body);
        assert!(
            !body.contains("FindItem") && !body.contains("Subject"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_truncated_calendar_view_is_paged_from_the_last_start() {
    let s = setup("[[users]]\nemail = \"kim@contoso.test\"\n").await;
    mount_probe(&s.server).await;
    Mock::given(method("POST"))
        .and(body_string_contains("GetUserOofSettingsRequest"))
        .respond_with(xml(sample("getuseroofsettings-response.xml")))
        .mount(&s.server)
        .await;
    let first = find_item_page(
        &[
            ("A1", "One", "2030-01-01T09:00:00Z", "2030-01-01T10:00:00Z"),
            ("A2", "Two", "2030-01-01T11:00:00Z", "2030-01-01T12:00:00Z"),
        ],
        false,
    );
    let second = find_item_page(
        &[
            ("A2", "Two", "2030-01-01T11:00:00Z", "2030-01-01T12:00:00Z"),
            (
                "A3",
                "Three",
                "2030-01-02T09:00:00Z",
                "2030-01-02T10:00:00Z",
            ),
        ],
        true,
    );
    Mock::given(method("POST"))
        .and(body_string_contains(r#"StartDate="2030-01-01T11:00:00Z""#))
        .respond_with(xml(second))
        .expect(1)
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("FindItem"))
        .respond_with(xml(first))
        .expect(1)
        .mount(&s.server)
        .await;
    s.engine.full_sync().await;
    let ids: Vec<_> = s
        .engine
        .appointments("kim@contoso.test")
        .unwrap()
        .into_iter()
        .map(|a| a.id.unwrap())
        .collect();
    assert_eq!(ids, ["A1", "A2", "A3"]);
}

#[tokio::test]
async fn server_busy_fault_and_503_retry_after_are_waited_out_then_retried() {
    let s = setup("[[users]]\nemail = \"kim@contoso.test\"\n").await;
    // The probe first meets a 503 with Retry-After 1, then succeeds.
    Mock::given(method("POST"))
        .and(body_string_contains("ConvertId"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&s.server)
        .await;
    mount_probe(&s.server).await;
    // FindItem first meets an ErrorServerBusy fault asking for 200 ms.
    let busy = sample("error-serverbusy-fault-response.xml").replace("297749", "200");
    Mock::given(method("POST"))
        .and(body_string_contains("FindItem"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(busy.into_bytes(), "text/xml"))
        .up_to_n_times(1)
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("FindItem"))
        .respond_with(xml(find_item_page(&[], true)))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("GetUserOofSettingsRequest"))
        .respond_with(xml(sample("getuseroofsettings-response.xml")))
        .mount(&s.server)
        .await;
    let report = s.engine.full_sync().await;
    assert_eq!((report.connected, report.failed), (true, 0));
    let retries: Vec<String> = s
        .engine
        .log()
        .lines(&Default::default())
        .into_iter()
        .filter(|l| l.message.contains("retry"))
        .map(|l| l.message)
        .collect();
    assert_eq!(retries.len(), 2, "{retries:#?}");
    assert!(
        retries[0].starts_with("connect: ConvertId: server busy, asked to back off 1000 ms"),
        "{retries:#?}"
    );
    assert!(
        retries[1].contains("back off 200 ms; retry 1 of 2 in 200 ms"),
        "{retries:#?}"
    );
    assert_eq!(s.engine.status().health, Health::Online);
}

#[tokio::test]
async fn wrong_credentials_leave_the_engine_offline_with_the_reason() {
    let s = setup("[[users]]\nemail = \"kim@contoso.test\"\n").await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401).insert_header("WWW-Authenticate", "Basic realm=\"x\""),
        )
        .mount(&s.server)
        .await;
    let report = s.engine.full_sync().await;
    assert!(!report.connected);
    let status = s.engine.status();
    assert_eq!(status.health, Health::Offline);
    assert_eq!(
        status.reason,
        "ConvertId: authentication failed for the service account (HTTP 401)"
    );
}

#[tokio::test]
async fn malformed_and_denied_mailboxes_fail_alone() {
    let s = setup(
        "[[users]]\nemail = \"kim@contoso.test\"\n[[users]]\nemail = \"bad@contoso.test\"\n[[users]]\nemail = \"denied@contoso.test\"\n",
    )
    .await;
    mount_probe(&s.server).await;
    let page = find_item_page(&[], true);
    Mock::given(method("POST"))
        .and(body_string_contains("FindItem"))
        .and(body_string_contains("bad@contoso.test"))
        .respond_with(xml(page[..page.len() / 2].to_string()))
        .mount(&s.server)
        .await;
    let denied = r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorImpersonateUserDenied</faultcode><faultstring xml:lang="en-US">The account does not have permission to impersonate the requested user.</faultstring><detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorImpersonateUserDenied</e:ResponseCode><e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">The account does not have permission to impersonate the requested user.</e:Message></detail></s:Fault></s:Body></s:Envelope>"#;
    Mock::given(method("POST"))
        .and(body_string_contains("denied@contoso.test"))
        .respond_with(
            ResponseTemplate::new(500).set_body_raw(denied.as_bytes().to_vec(), "text/xml"),
        )
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("FindItem"))
        .respond_with(xml(page.clone()))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("GetUserOofSettingsRequest"))
        .respond_with(xml(sample("getuseroofsettings-response.xml")))
        .mount(&s.server)
        .await;
    let report = s.engine.full_sync().await;
    assert_eq!(
        (report.connected, report.mailboxes, report.failed),
        (true, 3, 2)
    );
    let status = s.engine.status();
    assert_eq!(status.health, Health::Degraded);
    let kinds: Vec<(String, String)> = status
        .mailboxes
        .iter()
        .filter_map(|m| {
            m.sync
                .error
                .as_ref()
                .map(|e| (m.email.clone(), e.kind.clone()))
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("bad@contoso.test".to_string(), "malformed".to_string()),
            (
                "denied@contoso.test".to_string(),
                "impersonationDenied".to_string()
            )
        ]
    );
    assert!(
        s.engine.state().mailboxes["kim@contoso.test"]
            .sync
            .error
            .is_none()
    );
}

async fn mount_mailbox_ops(server: &MockServer) {
    Mock::given(method("POST"))
        .and(body_string_contains("PullSubscriptionRequest"))
        .respond_with(xml(sample("subscribe-pull-response.xml")))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("<m:GetEvents>"))
        .respond_with(xml(sample("getevents-response.xml")))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("FindItem"))
        .respond_with(xml(find_item_page(&[], true)))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("GetUserAvailabilityRequest"))
        .respond_with(xml(sample("getuseravailability-freebusy-response.xml")))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("GetUserOofSettingsRequest"))
        .respond_with(xml(sample("getuseroofsettings-response.xml")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn the_connection_test_binary_reports_each_step_and_a_verdict() {
    let server = MockServer::start().await;
    mount_probe(&server).await;
    mount_mailbox_ops(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("engine.toml");
    std::fs::write(
        &file,
        format!(
            "[exchange]\nurl = \"{}/EWS/Exchange.asmx\"\nusername = \"svc@contoso.test\"\n",
            server.uri()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sync-engine"))
        .args(["check", "--config"])
        .arg(&file)
        .args(["--mailbox", "demo@contoso.test"])
        .env("EWS_ENGINE_PASSWORD", "secret")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "[OK  ] Name resolution and connect",
        "[OK  ] TLS: plain http",
        "[OK  ] Authentication: svc@contoso.test accepted",
        "[OK  ] Server version: Connected to Exchange (v15.01.2345.6789)",
        "[OK  ] Impersonation and calendar read: 0 appointments",
        "[OK  ] Free/busy read: 2 free/busy events",
        "[OK  ] OOF read: automatic replies disabled",
        "[OK  ] Subscribe and receive a test notification: subscription 39ea5d0f",
        "Verdict: PASSED",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
}

#[tokio::test]
async fn the_connection_test_names_the_fix_for_denied_impersonation() {
    let s = setup("").await;
    mount_probe(&s.server).await;
    let denied = sample("error-serverbusy-fault-response.xml")
        .replace("a:ErrorServerBusy", "a:ErrorImpersonateUserDenied")
        .replace(
            "\n          ErrorServerBusy\n",
            "ErrorImpersonateUserDenied",
        );
    Mock::given(method("POST"))
        .and(body_string_contains("demo@contoso.test"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(denied.into_bytes(), "text/xml"))
        .mount(&s.server)
        .await;
    let client = EwsClient::new(&s.engine.config().exchange, Clock::system()).expect("a client");
    let report = sync_engine::check::run(
        s.engine.config(),
        &client,
        "demo@contoso.test",
        &Clock::system(),
    )
    .await;
    assert!(!report.passed());
    let calendar = &report.steps[4];
    assert_eq!(calendar.name, "Impersonation and calendar read");
    assert_eq!(calendar.outcome, sync_engine::check::Outcome::Failed);
    assert!(
        calendar
            .fix
            .as_deref()
            .unwrap()
            .contains("ApplicationImpersonation"),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .ends_with("Verdict: FAILED: fix the first failing step and run the check again")
    );
}

#[tokio::test]
async fn the_connection_test_stops_at_a_closed_port() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = Config::parse(
        "t",
        &format!("[exchange]\nurl = \"http://127.0.0.1:{port}/EWS/Exchange.asmx\"\nusername = \"u@x.test\"\npassword = \"p\"\n"),
        |_| None,
    )
    .unwrap();
    let client = EwsClient::new(&config.exchange, Clock::system()).unwrap();
    let report = sync_engine::check::run(&config, &client, "demo@x.test", &Clock::system()).await;
    assert_eq!(report.steps.len(), 1, "{report}");
    assert!(
        report.steps[0].fix.as_deref().unwrap().contains("port"),
        "{report}"
    );
}

#[tokio::test]
async fn subscriptions_over_the_wire_subscribe_pull_and_stream() {
    use sync_engine::{Exchange, SubscriptionKind};
    let s = setup("").await;
    Mock::given(method("POST"))
        .and(body_string_contains("PullSubscriptionRequest"))
        .and(body_string_contains(
            r#"<t:DistinguishedFolderId Id="calendar">"#,
        ))
        .respond_with(xml(sample("subscribe-pull-response.xml")))
        .mount(&s.server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("<m:GetEvents>"))
        .and(body_string_contains(
            "<m:Watermark>AAAAAHgGAAAAAAAAAQ==</m:Watermark>",
        ))
        .respond_with(xml(sample("getevents-response.xml")))
        .mount(&s.server)
        .await;
    let stream_body = sample("getstreamingevents-multi-notification-response.xml")
        + &sample("getstreamingevents-closed-response.xml");
    Mock::given(method("POST"))
        .and(body_string_contains("GetStreamingEvents"))
        .and(body_string_contains(
            "<m:ConnectionTimeout>30</m:ConnectionTimeout>",
        ))
        .respond_with(xml(stream_body))
        .mount(&s.server)
        .await;
    let client = EwsClient::new(&s.engine.config().exchange, Clock::system()).expect("a client");
    let kind = SubscriptionKind::Pull {
        timeout_minutes: 10,
    };
    let sub = client.subscribe("kim@contoso.test", &kind).await.unwrap();
    assert_eq!(sub.watermark.as_deref(), Some("AAAAAHgGAAAAAAAAAQ=="));
    let events = client.get_events("kim@contoso.test", &sub).await.unwrap();
    // The sample's two NewMailEvents change no calendar; the watermark moves on.
    assert!(events.changes.is_empty(), "{:?}", events.changes);
    assert_eq!(events.watermark.as_deref(), Some("AAAAAOQGAAAAAAAAAQ=="));

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ids = ["S1".to_string(), "S2".to_string()];
    client
        .stream_events("kim@contoso.test", &ids, 30, tx)
        .await
        .unwrap();
    let mut changed = Vec::new();
    while let Ok(event) = rx.try_recv() {
        match event {
            sync_engine::StreamEvent::Changed { id, changes } => {
                assert!(
                    changes.contains(&sync_engine::ItemEvent::Folder),
                    "{changes:?}"
                );
                changed.push(id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        changed.len(),
        2,
        "two notifications with item events, then Closed"
    );
    let requests = s.server.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&requests.last().unwrap().body).into_owned();
    assert!(
        body.contains(
            "<t:SubscriptionId>S1</t:SubscriptionId><t:SubscriptionId>S2</t:SubscriptionId>"
        ),
        "one connection for the group: {body}"
    );
}

#[tokio::test]
async fn a_stream_that_ends_without_closed_is_a_cut() {
    use sync_engine::Exchange;
    let s = setup("").await;
    Mock::given(method("POST"))
        .and(body_string_contains("GetStreamingEvents"))
        .respond_with(xml(sample(
            "getstreamingevents-multi-notification-response.xml",
        )))
        .mount(&s.server)
        .await;
    let client = EwsClient::new(&s.engine.config().exchange, Clock::system()).expect("a client");
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ids = ["S1".to_string()];
    let err = client
        .stream_events("kim@contoso.test", &ids, 30, tx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "connect", "{err}");
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_a_timeout_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            xml(sample("convertid-versionprobe-error-response.xml"))
                .set_delay(std::time::Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let text = format!(
        "[exchange]\nurl = \"{}/EWS/Exchange.asmx\"\nusername = \"u\"\npassword = \"p\"\ntimeout = \"1s\"\nmax_retries = 0\n",
        server.uri()
    );
    let config = Config::parse("t", &text, |_| None).unwrap();
    let clock = Clock::system();
    let client = EwsClient::new(&config.exchange, clock.clone()).unwrap();
    let engine = Engine::new(config, clock, Arc::new(client));
    assert!(!engine.connect().await);
    assert_eq!(engine.status().reason, "ConvertId: no answer within 1 s");
}

#[tokio::test(start_paused = true)]
async fn the_insecure_opt_out_is_logged_loudly_at_start() {
    let text = "[exchange]\nserver = \"ex01\"\nusername = \"u\"\npassword = \"p\"\n[exchange.tls]\ndanger_accept_invalid_certs = true\n";
    let config = Config::parse("t", text, |_| None).unwrap();
    let exchange = Arc::new(sync_engine::InMemoryExchange::default());
    let engine = Engine::new(
        config,
        Clock::starting_at(chrono::DateTime::UNIX_EPOCH),
        exchange,
    );
    let _tasks = engine.start();
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    let warned = engine
        .log()
        .lines(&Default::default())
        .into_iter()
        .any(|l| {
            l.level == sync_engine::Level::Warn && l.message.contains("verification is DISABLED")
        });
    assert!(warned);
}
