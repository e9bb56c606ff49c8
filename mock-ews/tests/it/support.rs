//! A tiny raw HTTP/1.1 client (so tests see exactly what went over the wire, including
//! broken replies) and request builders.

use base64::Engine as _;
use mock_ews::{MockEws, WorldSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request with `Connection: close` and reads the whole reply.
pub(crate) async fn http(
    ews: &MockEws,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Reply {
    let mut s = TcpStream::connect(ews.address()).await.expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        ews.address(),
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write head");
    s.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read reply");
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

pub(crate) fn basic(user: &str, password: &str) -> (&'static str, String) {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    ("Authorization", format!("Basic {token}"))
}

/// POSTs a SOAP request to the EWS endpoint as `user`.
pub(crate) async fn soap(ews: &MockEws, user: (&str, &str), envelope: &str) -> Reply {
    http(
        ews,
        "POST",
        "/EWS/Exchange.asmx",
        &[
            basic(user.0, user.1),
            ("Content-Type", "text/xml; charset=utf-8".into()),
        ],
        envelope.as_bytes(),
    )
    .await
}

/// A request envelope: version header, optional impersonation, and a body.
pub(crate) fn envelope(version: &str, impersonate: Option<&str>, body: &str) -> String {
    let imp = impersonate
        .map(|m| format!("<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{m}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<soap:Header><t:RequestServerVersion Version="{version}"/>{imp}</soap:Header>
<soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

pub(crate) fn example(name: &str) -> WorldSpec {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("worlds")
        .join(name);
    WorldSpec::from_file(&path).expect("example world")
}

/// The small-office example on a frozen clock at its `now`.
pub(crate) async fn office() -> MockEws {
    let spec = example("small-office.yaml");
    let now = spec
        .now
        .and_then(|n| n.to_utc(chrono_tz::UTC))
        .expect("example world has `now`");
    MockEws::builder()
        .world(spec)
        .clock(ews_clock::Clock::frozen_at(now))
        .start()
        .await
        .expect("server starts")
}

/// One mailbox with a public and a private item on 24 Mar 2026 and a reviewer account.
pub(crate) fn world_with_reviewer() -> WorldSpec {
    WorldSpec::from_yaml(
        "mailboxes:\n  - smtp: a@x.com\n    calendar:\n      - { subject: Public, start: 2026-03-24 09:00, duration: 1h }\n      - { subject: Secret, start: 2026-03-24 11:00, duration: 1h, sensitivity: private }\naccounts:\n  - { user: rev, password: rev-pw, delegate: { a@x.com: reviewer } }\n",
        "reviewer world",
    )
    .expect("reviewer world")
}

/// Sends raw bytes and reads whatever comes back, keeping transport errors.
pub(crate) async fn raw(ews: &MockEws, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(ews.address()).await?;
    s.write_all(request).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    Ok(out)
}

/// A whole HTTP request for the EWS endpoint as `user`.
pub(crate) fn raw_request(user: (&str, &str), envelope: &str) -> Vec<u8> {
    let (k, v) = basic(user.0, user.1);
    format!(
        "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/xml; charset=utf-8\r\n{k}: {v}\r\nContent-Length: {}\r\n\r\n{envelope}",
        envelope.len()
    )
    .into_bytes()
}

/// A real EWS client the compatibility tests drive through a script in `tests/compat/`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Client {
    /// exchangelib 5.6.0, run by `$EWS_KIT_PYTHON` or `python3`.
    Exchangelib,
    /// ews-javascript-api 0.15.3, run by `node` with `NODE_PATH=$EWS_KIT_NODE_PATH`.
    EwsJavascriptApi,
}

/// Runs `script` (in `tests/compat/`) with the given arguments and returns its standard
/// output, after checking that it exited successfully and printed `passed`; `None` (with the
/// reason on stderr) when compatibility tests are not enabled, so a machine without the
/// clients installed still runs the rest of the suite. `.ci/run` installs both and enables
/// them with `EWS_KIT_COMPAT=1`.
pub(crate) async fn run_client(
    client: Client,
    script: &str,
    args: &[&str],
    passed: &str,
) -> Option<String> {
    if std::env::var("EWS_KIT_COMPAT").as_deref() != Ok("1") {
        eprintln!(
            "skipped {script}: set EWS_KIT_COMPAT=1 (with the clients installed, as .ci/run does)"
        );
        return None;
    }
    let mut command = match client {
        Client::Exchangelib => tokio::process::Command::new(
            std::env::var("EWS_KIT_PYTHON").unwrap_or_else(|_| "python3".into()),
        ),
        Client::EwsJavascriptApi => {
            let Ok(node_path) = std::env::var("EWS_KIT_NODE_PATH") else {
                eprintln!(
                    "skipped {script}: EWS_KIT_NODE_PATH (node_modules with ews-javascript-api@0.15.3) is not set"
                );
                return None;
            };
            let mut node = tokio::process::Command::new("node");
            node.env("NODE_PATH", node_path);
            node
        }
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat")
        .join(script);
    let out = command
        .arg(&path)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {client:?} for {script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{script} {args:?}:\n{stdout}");
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains(passed),
        "{script} did not say `{passed}`:\n{stdout}"
    );
    Some(stdout)
}
