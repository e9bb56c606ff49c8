//! `ews-kit up`: the demo stack starts, syncs the demo office and answers on its API.

use std::net::SocketAddr;

use ews_kit::up::{Stack, UpOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: &str, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_demo_stack_syncs_and_serves_its_urls() {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let stack = Stack::start(UpOptions { ews: any, api: any })
        .await
        .unwrap();
    // Let the start-up sync run (virtual time; the stack's clock follows tokio's).
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(stack.engine().state().connection.full_syncs, 1);
    let banner = stack.banner();
    assert!(banner.contains(&stack.mock().ews_url()), "{banner}");
    assert!(
        banner.contains(&format!("{}/api/status", stack.api_url())),
        "{banner}"
    );
    let api = stack.api_url().trim_start_matches("http://").to_string();
    let users = get(&api, "/api/users").await;
    assert!(users.starts_with("HTTP/1.1 200"), "{users}");
    assert!(users.contains("kim@contoso.com"), "{users}");
    let slots = get(
        &api,
        "/api/counters/registry/slots?from=2026-03-24&to=2026-03-24",
    )
    .await;
    assert!(
        slots.contains("\"localStart\":\"2026-03-24T08:00:00+01:00\""),
        "{slots}"
    );
    stack.shutdown().await;
}
