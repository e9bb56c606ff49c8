//! Compatibility with real clients, the Python exchangelib 5.6.0 and the JavaScript
//! ews-javascript-api 0.15.3. exchangelib: version detection, a calendar
//! view with a recurring series (moved and deleted occurrences across DST), an all-day item,
//! GetItem of occurrence and master, OOF get/set, impersonation denied, free/busy.
//!
//! Runs only with `EWS_KIT_COMPAT=1` (CI installs exchangelib and sets it in `.ci/run`);
//! the script is `tests/compat/exchangelib_compat.py`, the interpreter `$EWS_KIT_PYTHON` or
//! `python3`.

use crate::support::office;

#[tokio::test]
async fn exchangelib() {
    if std::env::var("EWS_KIT_COMPAT").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set EWS_KIT_COMPAT=1 (with `pip install exchangelib==5.6.0`) to run the exchangelib compatibility test"
        );
        return;
    }
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
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/compat/exchangelib_compat.py");
        let python = std::env::var("EWS_KIT_PYTHON").unwrap_or_else(|_| "python3".into());
        let out = tokio::process::Command::new(&python)
            .arg(&script)
            .arg(ews.ews_url())
            .arg(build)
            .arg(api)
            .output()
            .await
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("{server:?}:\n{stdout}");
        assert!(
            out.status.success(),
            "exchangelib compatibility with {server:?} failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        assert!(stdout.contains("all exchangelib checks passed"), "{stdout}");
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
    if std::env::var("EWS_KIT_COMPAT").as_deref() != Ok("1") {
        eprintln!("skipped: set EWS_KIT_COMPAT=1 to run the ews-javascript-api compatibility test");
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
        .join("tests/compat/ews_javascript_api_compat.js");
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
        "ews-javascript-api compatibility failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("all ews-javascript-api checks passed"),
        "{stdout}"
    );
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
