//! Notifications with the real Python client exchangelib 5.6.0: pull, streaming and push each
//! receive a created item, a push listener answering Unsubscribe gets no further posts.
//!
//! Runs only with `EWS_KIT_COMPAT=1` (`.ci/run` installs exchangelib and sets it); the script is
//! `tests/compat/exchangelib_notifications.py`, the interpreter `$EWS_KIT_PYTHON` or `python3`.

use mock_ews::{Channel, PushOutcome, Record};

use crate::support::office;

#[tokio::test]
async fn exchangelib_notifications() {
    if std::env::var("EWS_KIT_COMPAT").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set EWS_KIT_COMPAT=1 (with `pip install exchangelib==5.6.0`) to run the exchangelib notification test"
        );
        return;
    }
    let ews = office().await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat/exchangelib_notifications.py");
    let python = std::env::var("EWS_KIT_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(ews.ews_url())
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "exchangelib notification compatibility failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("all exchangelib notification checks passed"),
        "{stdout}"
    );
    // The server's side of it: exactly two posts, the second answered Unsubscribe.
    let journal = ews.notifications().journal();
    let pushes: Vec<&PushOutcome> = journal
        .iter()
        .filter_map(|e| match &e.record {
            Record::Pushed { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(pushes, [&PushOutcome::Ok, &PushOutcome::Unsubscribe]);
    for channel in [Channel::Pull, Channel::Streaming] {
        assert!(
            journal.iter().any(
                |e| matches!(&e.record, Record::Delivered { channel: c, .. } if *c == channel)
            ),
            "{channel:?} delivered nothing"
        );
    }
    assert!(ews.notifications().no_event_lost("bob@contoso.com"));
}

/// The same with ews-javascript-api 0.15.3, whose positional parsers are the strictest
/// (EWS.md 6.2). `.ci/run` installs it and points `EWS_KIT_NODE_PATH` at its `node_modules`.
#[tokio::test]
async fn ews_javascript_api_notifications() {
    if std::env::var("EWS_KIT_COMPAT").as_deref() != Ok("1") {
        eprintln!("skipped: set EWS_KIT_COMPAT=1 to run the ews-javascript-api notification test");
        return;
    }
    let Ok(node_path) = std::env::var("EWS_KIT_NODE_PATH") else {
        eprintln!(
            "skipped: EWS_KIT_NODE_PATH (node_modules with ews-javascript-api@0.15.3) is not set"
        );
        return;
    };
    let ews = office().await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat/ews_javascript_api_notifications.js");
    let out = tokio::process::Command::new("node")
        .arg(&script)
        .arg(ews.ews_url())
        .env("NODE_PATH", &node_path)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "ews-javascript-api notification compatibility failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("all ews-javascript-api notification checks passed"),
        "{stdout}"
    );
    let pushes: Vec<PushOutcome> = ews
        .notifications()
        .journal()
        .into_iter()
        .filter_map(|e| match e.record {
            Record::Pushed { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(pushes, [PushOutcome::Ok, PushOutcome::Unsubscribe]);
    assert!(ews.notifications().no_event_lost("bob@contoso.com"));
}
