//! Compatibility with real clients, the Python exchangelib 5.6.0 and the JavaScript
//! ews-javascript-api 0.15.3. exchangelib: version detection, a calendar
//! view with a recurring series (moved and deleted occurrences across DST), an all-day item,
//! GetItem of occurrence and master, OOF get/set, impersonation denied, free/busy.
//!
//! Runs only with `EWS_KIT_COMPAT=1` (CI installs exchangelib and sets it in `.ci/run`);
//! the script is `tests/compat/exchangelib_compat.py`, the interpreter `$EWS_KIT_PYTHON` or
//! `python3`.

use crate::support::{Client, office, run_client};

#[tokio::test]
async fn exchangelib() {
    // The same world as Exchange 2010 SP3 (version probe walks down from Exchange2016) and as
    // Exchange 2016 (accepted at once).
    for (server, build, api) in [
        (
            mock_ews::ServerVersion::Exchange2010Sp3,
            "14.3.181.6",
            "Exchange2010_SP2",
        ),
        (
            mock_ews::ServerVersion::Exchange2016,
            "15.1.2507.57",
            "Exchange2016",
        ),
    ] {
        let mut spec = crate::support::example("small-office.yaml");
        spec.server = server;
        let now = spec.now.and_then(|n| n.to_utc(chrono_tz::UTC)).unwrap();
        let ews = mock_ews::MockEws::builder()
            .world(spec)
            .clock(ews_clock::Clock::frozen_at(now))
            .start()
            .await
            .unwrap();
        let url = ews.ews_url();
        if run_client(
            Client::Exchangelib,
            "exchangelib_compat.py",
            &[url.as_str(), build, api],
            "all exchangelib checks passed",
        )
        .await
        .is_none()
        {
            return;
        }
        // The journal saw what a real client does.
        let ops: Vec<String> = ews
            .journal()
            .entries()
            .into_iter()
            .map(|e| e.operation)
            .collect();
        for op in [
            "ConvertId",
            "FindItem",
            "GetItem",
            "GetUserOofSettingsRequest",
            "SetUserOofSettingsRequest",
            "GetServerTimeZones",
            "GetUserAvailabilityRequest",
        ] {
            assert!(ops.iter().any(|o| o == op), "{op} missing from {ops:?}");
        }
    }
}

/// The same checks with ews-javascript-api 0.15.3 (the EWS Managed API's JavaScript port):
/// `.ci/run` installs it with npm and points `EWS_KIT_NODE_PATH` at its `node_modules`.
#[tokio::test]
async fn ews_javascript_api() {
    let ews = office().await;
    let url = ews.ews_url();
    if run_client(
        Client::EwsJavascriptApi,
        "ews_javascript_api_compat.js",
        &[url.as_str()],
        "all ews-javascript-api checks passed",
    )
    .await
    .is_none()
    {
        return;
    }
    let ops: Vec<String> = ews
        .journal()
        .entries()
        .into_iter()
        .map(|e| e.operation)
        .collect();
    for op in [
        "GetFolder",
        "FindItem",
        "GetItem",
        "GetUserOofSettingsRequest",
        "SetUserOofSettingsRequest",
        "GetUserAvailabilityRequest",
    ] {
        assert!(ops.iter().any(|o| o == op), "{op} missing from {ops:?}");
    }
}
