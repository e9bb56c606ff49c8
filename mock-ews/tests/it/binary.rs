//! The `mock-ews` binary: loads a world file, logs where it listens, serves, and shuts down
//! cleanly on SIGTERM.

use tokio::io::{AsyncBufReadExt, BufReader};

#[cfg(unix)]
#[tokio::test]
async fn the_binary_serves_a_world_file_and_stops_on_sigterm() {
    let world = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("worlds/small-office.yaml");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mock-ews"))
        .args(["--listen", "127.0.0.1:0", "--frozen", "--world"])
        .arg(&world)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mock-ews");
    // The log line names the control URL.
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let control = loop {
        let line = lines
            .next_line()
            .await
            .expect("read log")
            .expect("the binary logs where it listens");
        if let Some(rest) = line.split("control=").nth(1) {
            break rest.split_whitespace().next().expect("url").to_owned();
        }
    };
    let addr = control
        .trim_start_matches("http://")
        .trim_end_matches("/mock");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(b"GET /mock/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(
        out.contains(r#""mode":"frozen""#) && out.contains("2026-03-23T07:00:00Z"),
        "{out}"
    );

    let pid = child.id().expect("pid");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().await.unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// `--tls --tls-cert-out FILE`: the binary serves HTTPS, writes its generated certificate to
/// FILE and names it in the log; a client trusting only that file verifies the server, one
/// trusting the public roots (none here) refuses it.
#[cfg(unix)]
#[tokio::test]
async fn the_binary_serves_https_with_the_certificate_it_writes_out() {
    let cert = std::env::temp_dir().join(format!("mock-ews-it-{}.pem", std::process::id()));
    let _ = std::fs::remove_file(&cert);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mock-ews"))
        .args(["--listen", "127.0.0.1:0", "--tls", "--tls-cert-out"])
        .arg(&cert)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mock-ews");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = loop {
        let line = lines
            .next_line()
            .await
            .expect("read log")
            .expect("the binary logs where it listens");
        if line.contains("control=") {
            break line;
        }
    };
    let control = line
        .split("control=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("url")
        .to_owned();
    assert!(control.starts_with("https://127.0.0.1:"), "{line}");
    assert!(line.contains(&cert.display().to_string()), "{line}");
    let pem = std::fs::read(&cert).expect("the certificate file");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let trusting = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .build()
        .unwrap();
    let clock = trusting
        .get(format!("{control}/clock"))
        .send()
        .await
        .expect("the generated certificate verifies")
        .text()
        .await
        .unwrap();
    assert!(clock.contains(r#""mode""#), "{clock}");

    let untrusting = reqwest::Client::builder()
        .tls_certs_only(Vec::new())
        .build()
        .unwrap();
    let err = untrusting
        .get(format!("{control}/clock"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let _ = std::fs::remove_file(&cert);
}
