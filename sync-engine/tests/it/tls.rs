//! TLS end to end against `mock-ews` serving HTTPS with the self-signed certificate it
//! generates at start-up (the on-premises case: a private CA or a self-signed certificate).
//! The engine verifies it with the custom CA bundle (sync and streaming over TLS), refuses it
//! without the bundle as a TLS error, and connects with the opt-out, which it logs loudly.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use ews_clock::Clock;
use mock_ews::{MockEws, WorldSpec};
use sync_engine::ews::EwsClient;
use sync_engine::{Config, Engine, Exchange, ExchangeError, Level};

const WORLD: &str = r#"
server: 2010sp3
mailboxes:
  - smtp: kim@contoso.test
    calendar:
      - subject: Budget review
        start: 2026-03-30 09:00
        duration: 30m
accounts:
  - user: svc-sync
    password: sync-pw
    impersonation: [kim@contoso.test]
"#;

async fn mock_tls() -> MockEws {
    let clock = Clock::frozen_at(Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap());
    MockEws::builder()
        .world(WorldSpec::from_yaml(WORLD, "tls world").unwrap())
        .clock(clock)
        .tls(true)
        .start()
        .await
        .unwrap()
}

/// The engine's configuration for `url` with `tls` under `[exchange.tls]`.
fn config(url: &str, tls: &str) -> Config {
    let text = format!(
        "[exchange]\nurl = \"{url}\"\nusername = \"svc-sync\"\npassword = \"sync-pw\"\nmax_retries = 0\n\
         [exchange.tls]\n{tls}\n[[users]]\nemail = \"kim@contoso.test\"\n\
         [notifications]\nmode = \"streaming\"\n"
    );
    Config::parse("t", &text, |_| None).unwrap()
}

fn ca_bundle(mock: &MockEws) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), mock.tls_cert_pem().expect("serving TLS")).unwrap();
    file
}

fn engine(mock: &MockEws, config: Config) -> Engine {
    let client = EwsClient::new(&config.exchange, mock.clock().clone()).unwrap();
    Engine::new(config, mock.clock().clone(), Arc::new(client))
}

/// Waits (real time, bounded) until `f` holds.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn subjects(engine: &Engine) -> Vec<String> {
    engine
        .appointments("kim@contoso.test")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| a.subject)
        .collect()
}

#[tokio::test]
async fn with_the_ca_bundle_the_engine_syncs_and_streams_over_tls() {
    let mock = mock_tls().await;
    assert!(mock.ews_url().starts_with("https://127.0.0.1:"));
    let bundle = ca_bundle(&mock);
    let config = config(
        &mock.ews_url(),
        &format!("ca_bundle = \"{}\"", bundle.path().display()),
    );
    let engine = engine(&mock, config);
    let _tasks = engine.start();
    eventually("the first sync over TLS", || {
        subjects(&engine).contains(&"Budget review".to_owned())
    })
    .await;
    eventually("kim subscribed", || {
        engine
            .status()
            .mailboxes
            .iter()
            .any(|m| m.email == "kim@contoso.test" && m.subscribed)
    })
    .await;
    // The GetStreamingEvents connection (long-lived, over TLS too) carries a new meeting.
    eventually("the streaming connection open", || {
        mock.journal()
            .entries()
            .iter()
            .any(|e| e.operation == "GetStreamingEvents")
    })
    .await;
    let spec: mock_ews::ItemSpec = serde_json::from_value(serde_json::json!({
        "subject": "Escalation",
        "start": "2026-03-30T10:00:00Z",
        "duration": "30m",
    }))
    .unwrap();
    mock.store().create_item("kim@contoso.test", &spec).unwrap();
    eventually("the streamed meeting", || {
        subjects(&engine).contains(&"Escalation".to_owned())
    })
    .await;
    let messages = crate::support::messages(&engine);
    assert!(
        !messages.iter().any(|m| m.contains("DISABLED")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn without_the_bundle_the_certificate_is_refused_as_a_tls_error() {
    let mock = mock_tls().await;
    let config = config(&mock.ews_url(), "");
    let client = EwsClient::new(&config.exchange, mock.clock().clone()).unwrap();
    let err = client.server_version().await.unwrap_err();
    assert!(matches!(err, ExchangeError::Tls { .. }), "{err}");
    // The handshake failed before any request reached the server.
    assert!(mock.journal().entries().is_empty());
}

#[tokio::test]
async fn a_bundle_of_another_certificate_is_refused_too() {
    let mock = mock_tls().await;
    let other = mock_tls().await;
    let bundle = ca_bundle(&other);
    let config = config(
        &mock.ews_url(),
        &format!("ca_bundle = \"{}\"", bundle.path().display()),
    );
    let client = EwsClient::new(&config.exchange, mock.clock().clone()).unwrap();
    let err = client.server_version().await.unwrap_err();
    assert!(matches!(err, ExchangeError::Tls { .. }), "{err}");
}

#[tokio::test]
async fn the_insecure_opt_out_connects_and_is_logged_loudly() {
    let mock = mock_tls().await;
    let config = config(&mock.ews_url(), "danger_accept_invalid_certs = true");
    let engine = engine(&mock, config);
    let _tasks = engine.start();
    eventually("the first sync without verification", || {
        subjects(&engine).contains(&"Budget review".to_owned())
    })
    .await;
    let warned = engine
        .log()
        .lines(&Default::default())
        .into_iter()
        .any(|l| {
            l.level == Level::Warn
                && l.message
                    .contains("TLS certificate verification is DISABLED")
        });
    assert!(warned, "the opt-out must be logged");
}

/// The admin's connection test (`sync-engine check`) against mock-ews --tls: without the
/// bundle it stops at the TLS step and names the fix; with it the TLS step verifies the
/// certificate and the check goes on to the end.
#[tokio::test]
async fn the_connection_test_reports_the_tls_step() {
    use sync_engine::check::Outcome;
    let mock = mock_tls().await;
    let config = config(&mock.ews_url(), "");
    let client = EwsClient::new(&config.exchange, mock.clock().clone()).unwrap();
    let report = sync_engine::check::run(&config, &client, "kim@contoso.test", mock.clock()).await;
    let last = report.steps.last().unwrap();
    assert_eq!(
        (last.name, last.outcome),
        ("TLS", Outcome::Failed),
        "{report}"
    );
    assert!(
        last.fix.as_deref().unwrap_or("").contains("ca_bundle"),
        "{report}"
    );

    let bundle = ca_bundle(&mock);
    let config = config_with_bundle(&mock, &bundle);
    let client = EwsClient::new(&config.exchange, mock.clock().clone()).unwrap();
    let report = sync_engine::check::run(&config, &client, "kim@contoso.test", mock.clock()).await;
    let tls = report.steps.iter().find(|s| s.name == "TLS").unwrap();
    assert_eq!(tls.outcome, Outcome::Ok, "{report}");
    assert_eq!(tls.detail, "certificate verified", "{report}");
    assert!(report.passed(), "{report}");
}

fn config_with_bundle(mock: &MockEws, bundle: &tempfile::NamedTempFile) -> Config {
    config(
        &mock.ews_url(),
        &format!("ca_bundle = \"{}\"", bundle.path().display()),
    )
}
