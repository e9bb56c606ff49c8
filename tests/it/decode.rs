//! `ews-kit decode` run as a binary: JSON for a real sample, a clear error for bad input.

use std::io::Write;
use std::process::{Command, Stdio};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/ews-samples");

fn decode(args: &[&str], stdin: Option<&[u8]>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ews-kit"))
        .arg("decode")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn decodes_a_sample_file_to_json() {
    let path = format!("{SAMPLES}/getuseroofsettings-response.xml");
    let (ok, stdout, stderr) = decode(&[&path], None);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["operation"], "GetUserOofSettings");
    assert_eq!(json["kind"], "response");
    assert_eq!(json["headers"]["server_version_info"]["major_version"], 8);
    assert_eq!(
        json["body"]["GetUserOofSettings"]["oof_settings"]["oof_state"],
        "Disabled"
    );
}

#[test]
fn decodes_standard_input() {
    let bytes = std::fs::read(format!("{SAMPLES}/subscribe-streaming-request.xml")).unwrap();
    let (ok, stdout, stderr) = decode(&["-"], Some(&bytes));
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["operation"], "Subscribe");
    assert_eq!(json["kind"], "request");
    assert_eq!(json["headers"]["request_server_version"], "Exchange2013");
}

#[test]
fn malformed_input_names_file_line_and_column_and_fails() {
    let dir = std::env::temp_dir().join(format!("ews-kit-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.xml");
    std::fs::write(&path, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">\n  <s:Body>\n</s:Envelope>").unwrap();
    let path = path.display().to_string();
    let (ok, stdout, stderr) = decode(&[&path], None);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!ok);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with(&format!("ews-kit decode: {path}:3:")),
        "{stderr}"
    );
    assert!(stderr.contains("malformed XML"), "{stderr}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let (ok, _, stderr) = decode(&["/nonexistent/trace.xml"], None);
    assert!(!ok);
    assert!(
        stderr.contains("/nonexistent/trace.xml: cannot read"),
        "{stderr}"
    );
}

#[test]
fn a_captured_stream_prints_as_an_array() {
    let mut bytes = std::fs::read(format!(
        "{SAMPLES}/getstreamingevents-multi-notification-response.xml"
    ))
    .unwrap();
    bytes.extend(
        std::fs::read(format!("{SAMPLES}/getstreamingevents-closed-response.xml")).unwrap(),
    );
    let (ok, stdout, stderr) = decode(&["-"], Some(&bytes));
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let all = json.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["operation"], "GetStreamingEvents");
}
