//! mock-ews figures for the README:
//! - CalendarView throughput and p99 latency (7 days, 20 items, impersonated, 32 concurrent
//!   keep-alive connections on loopback) against a static-bytes route of the same size served
//!   by the same router, as a ratio;
//! - resident memory per stored item;
//! - start-up time with a 1,000-mailbox world.
//!
//! `cargo bench -p mock-ews --bench calendar_view` (release build). Prints numbers only; the
//! targets (ratio >= 0.5, p99 < 2 ms, <= 1 KiB per item, < 200 ms start) are judged by
//! reading them, never asserted (shared, noisy machines).
//!
//! `cargo bench -p mock-ews --bench calendar_view -- --handler-only N` runs only the in-process
//! handler loop N times, and `-- --load-only ews|static` only that route's load run, to put
//! under `perf record` or `valgrind --tool=callgrind`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use base64::Engine as _;
use ews_clock::Clock;
use mock_ews::{AppState, Store, World, WorldSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CONNECTIONS: usize = 32;
const REQUESTS_PER_CONNECTION: usize = 300;

fn world_yaml(mailboxes: usize, items_per_mailbox: usize) -> String {
    let mut y = String::from("server: 2016\nmailboxes:\n");
    for m in 0..mailboxes {
        y.push_str(&format!(
            "  - smtp: user{m}@contoso.com\n    zone: Europe/Berlin\n    calendar:\n"
        ));
        // One daily series (5 instances in the week) plus singles: `items_per_mailbox` view
        // entries in 2026-03-23..30.
        y.push_str("      - { subject: Standup, start: 2026-03-23 09:00, duration: 15m, recurrence: { daily: true, count: 5 } }\n");
        for i in 0..items_per_mailbox.saturating_sub(5) {
            let day = 23 + i % 5;
            let hour = 10 + i / 5;
            y.push_str(&format!(
                "      - {{ subject: Meeting {i}, start: 2026-03-{day} {hour}:00, duration: 45m, location: Room {i} }}\n"
            ));
        }
    }
    y.push_str("accounts:\n  - { user: svc, password: pw, impersonation: all }\n");
    y
}

/// `mailboxes` x `items` single items, each with a subject and location.
fn big_world(mailboxes: usize, items: usize) -> WorldSpec {
    let template: mock_ews::ItemSpec = serde_saphyr::from_str(
        "{ subject: Meeting, start: 2026-03-23 10:00, duration: 45m, location: Room 1 }",
    )
    .expect("item");
    let mut spec = WorldSpec::default();
    for m in 0..mailboxes {
        let mut mb: mock_ews::MailboxSpec = serde_saphyr::from_str(&format!(
            "{{ smtp: user{m}@contoso.com, zone: Europe/Berlin }}"
        ))
        .expect("mailbox");
        for i in 0..items {
            let mut item = template.clone();
            item.subject = format!("Meeting {i}");
            item.location = Some(format!("Room {i}"));
            item.start = format!("2026-03-{:02} {:02}:00", 1 + i % 28, 8 + i % 10)
                .parse()
                .expect("start");
            mb.calendar.push(item);
        }
        spec.mailboxes.push(mb);
    }
    spec
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// One keep-alive connection: send `req` `n` times, return each latency.
async fn hammer(addr: SocketAddr, req: Arc<Vec<u8>>, n: usize) -> Vec<Duration> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut buf = vec![0u8; 1 << 16];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        s.write_all(&req).await.expect("write");
        // Read the head, then Content-Length bytes.
        let mut have = Vec::new();
        let (head_end, len) = loop {
            let k = s.read(&mut buf).await.expect("read");
            assert!(k > 0, "server closed the connection");
            have.extend_from_slice(&buf[..k]);
            if let Some(p) = have.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&have[..p]).to_ascii_lowercase();
                assert!(head.starts_with("http/1.1 200"), "{head}");
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("content-length");
                break (p + 4, len);
            }
        };
        while have.len() < head_end + len {
            let k = s.read(&mut buf).await.expect("read body");
            assert!(k > 0);
            have.extend_from_slice(&buf[..k]);
        }
        out.push(t.elapsed());
    }
    out
}

async fn load(addr: SocketAddr, req: Vec<u8>) -> (f64, Duration, Duration) {
    let req = Arc::new(req);
    let t = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(hammer(addr, req.clone(), REQUESTS_PER_CONNECTION)))
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let secs = t.elapsed().as_secs_f64();
    all.sort();
    let p50 = all[all.len() / 2];
    let p99 = all[all.len() * 99 / 100];
    (all.len() as f64 / secs, p50, p99)
}

fn http_post(path: &str, body: &str) -> Vec<u8> {
    let auth = base64::engine::general_purpose::STANDARD.encode("svc:pw");
    format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Basic {auth}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Start-up time with a 1,000-mailbox world, snapshot/restore, memory per stored item.
async fn startup_and_memory(t0: chrono::DateTime<chrono::Utc>) {
    // Start-up with 1,000 mailboxes x 20 items.
    let yaml = world_yaml(1000, 20);
    let t = Instant::now();
    let spec = WorldSpec::from_yaml(&yaml, "bench").expect("world");
    let parse = t.elapsed();
    let t = Instant::now();
    let server = mock_ews::MockEws::builder()
        .world(spec)
        .clock(Clock::frozen_at(t0))
        .start()
        .await
        .expect("start");
    let start = t.elapsed();
    println!(
        "start-up, 1,000 mailboxes x 20 items ({} KiB of YAML): parse {parse:.1?}, start {start:.1?}",
        yaml.len() / 1024
    );
    let t = Instant::now();
    let snap = server.store().snapshot();
    let snapshot = t.elapsed();
    let t = Instant::now();
    server.store().restore(snap).expect("restore");
    println!("snapshot {snapshot:.1?}, restore {:.1?}", t.elapsed());
    server.shutdown().await;

    // Memory per stored item: resident growth while holding a large world.
    // Built in code: a YAML file this big exceeds serde-saphyr's 250,000-node budget.
    let spec = big_world(2000, 50);
    let before = rss_bytes();
    let world = World::from_spec(&spec, t0).expect("world");
    let after = rss_bytes();
    let items = world.item_count();
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "memory: {items} stored items, {} bytes resident per item",
            a.saturating_sub(b) / items as u64
        );
    }
    drop(world);
    drop(spec);
}

/// The measured request: a week's CalendarView of an impersonated mailbox.
const VIEW: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>user7@contoso.com</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header><soap:Body><m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="calendar:LegacyFreeBusyStatus"/><t:FieldURI FieldURI="calendar:CalendarItemType"/><t:FieldURI FieldURI="item:Sensitivity"/></t:AdditionalProperties></m:ItemShape><m:CalendarView StartDate="2026-03-23T00:00:00Z" EndDate="2026-03-30T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem></soap:Body></soap:Envelope>"#;

/// The 100-mailbox world the CalendarView is measured against.
fn view_state(t0: chrono::DateTime<chrono::Utc>) -> Arc<AppState> {
    let spec = WorldSpec::from_yaml(&world_yaml(100, 20), "bench").expect("world");
    let world = World::from_spec(&spec, t0).expect("world");
    Arc::new(AppState::new(Arc::new(Store::new(
        world,
        Clock::frozen_at(t0),
    ))))
}

/// Calls the router in-process `n` times after `warm` unmeasured calls, one at a time; the
/// time per call.
async fn handler_loop(state: &Arc<AppState>, warm: u32, n: u32) -> Duration {
    use tower::ServiceExt as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("svc:pw");
    let call = || {
        axum::http::Request::post("/EWS/Exchange.asmx")
            .header("Authorization", format!("Basic {auth}"))
            .body(axum::body::Body::from(VIEW))
            .expect("request")
    };
    let app = mock_ews::app(state.clone());
    let mut t = Instant::now();
    for i in 0..warm + n {
        if i == warm {
            t = Instant::now();
        }
        let r = app.clone().oneshot(call()).await.expect("call");
        axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("body");
    }
    t.elapsed() / n.max(1)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let t0 = "2026-03-23T06:00:00Z".parse().expect("t0");
    let args: Vec<String> = std::env::args().collect();
    let handler_only: Option<u32> = args.iter().position(|a| a == "--handler-only").map(|i| {
        args.get(i + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000)
    });
    if let Some(n) = handler_only {
        let state = view_state(t0);
        handler_loop(&state, 0, n).await;
        return;
    }
    let load_only = args
        .iter()
        .position(|a| a == "--load-only")
        .and_then(|i| args.get(i + 1).cloned());

    if load_only.is_none() {
        startup_and_memory(t0).await;
    }

    // CalendarView vs a static route of equal size, same router.
    let state = view_state(t0);
    let view = VIEW;
    // Size of the real answer, for the static route.
    let probe = mock_ews::app(state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let answer_len = {
        let h = tokio::spawn(async move { axum::serve(listener, probe).await });
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let mut req = http_post("/EWS/Exchange.asmx", view);
        let pos = req.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
        req.splice(pos..pos, b"\r\nConnection: close".iter().copied());
        s.write_all(&req).await.expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        h.abort();
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("NoError") && text.matches("<t:CalendarItem>").count() == 20,
            "{text}"
        );
        let p = out.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
        out.len() - p - 4
    };
    // Handler time alone: the router called in-process, one request at a time.
    if load_only.is_none() {
        let per = handler_loop(&state, 200, 2000).await;
        println!("CalendarView handler in-process, sequential: {per:.1?} per request");
    }
    let static_body = Arc::new(vec![b'x'; answer_len]);
    let router = mock_ews::app(state.clone()).route(
        "/static",
        get(move || {
            let b = static_body.clone();
            async move { (*b).clone() }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let h = tokio::spawn(async move { axum::serve(listener, router).await });
    let static_req = b"GET /static HTTP/1.1\r\nHost: bench\r\n\r\n".to_vec();
    if let Some(which) = load_only {
        let req = if which == "static" {
            static_req
        } else {
            http_post("/EWS/Exchange.asmx", view)
        };
        let (rps, p50, p99) = load(addr, req).await;
        println!("{which}: {rps:.0} req/s, p50 {p50:.2?}, p99 {p99:.2?}");
        h.abort();
        return;
    }
    // Warm up both routes.
    load(addr, http_post("/EWS/Exchange.asmx", view)).await;
    load(addr, static_req.clone()).await;
    let (ews_rps, ews_p50, ews_p99) = load(addr, http_post("/EWS/Exchange.asmx", view)).await;
    let (st_rps, st_p50, st_p99) = load(addr, static_req).await;
    h.abort();
    println!(
        "CalendarView (7 days, 20 items, impersonated, {CONNECTIONS} connections, {answer_len} B answer): {ews_rps:.0} req/s, p50 {ews_p50:.2?}, p99 {ews_p99:.2?}"
    );
    println!(
        "static route of the same size:                 {st_rps:.0} req/s, p50 {st_p50:.2?}, p99 {st_p99:.2?}"
    );
    println!("ratio CalendarView / static: {:.2}", ews_rps / st_rps);
}
