//! Notifications with the real Python client exchangelib 5.6.0: pull, streaming and push each
//! receive a created item, a push listener answering Unsubscribe gets no further posts.
//!
//! Runs only with `EWS_KIT_COMPAT=1` (`.ci/run` installs exchangelib and sets it); the script is
//! `tests/compat/exchangelib_notifications.py`, the interpreter `$EWS_KIT_PYTHON` or `python3`.

use mock_ews::{Channel, PushOutcome, Record};

use crate::support::{Client, office, run_client};

#[tokio::test]
async fn exchangelib_notifications() {
    let ews = office().await;
    let url = ews.ews_url();
    if run_client(
        Client::Exchangelib,
        "exchangelib_notifications.py",
        &[url.as_str()],
        "all exchangelib notification checks passed",
    )
    .await
    .is_none()
    {
        return;
    }
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
    let ews = office().await;
    let url = ews.ews_url();
    if run_client(
        Client::EwsJavascriptApi,
        "ews_javascript_api_notifications.js",
        &[url.as_str()],
        "all ews-javascript-api notification checks passed",
    )
    .await
    .is_none()
    {
        return;
    }
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
