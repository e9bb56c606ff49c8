//! The HTTP API through `api::router` (no socket): status, users, override, log, slots, SSE.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use http_body_util::BodyExt;
use serde_json::Value;
use sync_engine::{Engine, api};
use tower::ServiceExt;

use crate::support::{COUNTER, meeting, world};

async fn call(
    engine: &Engine,
    method: Method,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("a valid request");
    let resp = api::router(engine.clone())
        .oneshot(req)
        .await
        .expect("the router is infallible");
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .expect("a whole body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

async fn get(engine: &Engine, uri: &str) -> (StatusCode, Value) {
    call(engine, Method::GET, uri, None).await
}

#[tokio::test(start_paused = true)]
async fn status_users_presence_and_appointments() {
    let w = world("");
    let (code, status) = get(&w.engine, "/api/status").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["health"], "offline");
    assert_eq!(status["reason"], "not connected yet");

    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Standup", 0, 30)]);
    w.engine.full_sync().await;
    let (_, status) = get(&w.engine, "/api/status").await;
    assert_eq!(status["health"], "online");
    assert_eq!(status["connection"]["serverVersion"]["major"], 14);

    let (_, users) = get(&w.engine, "/api/users").await;
    assert_eq!(users.as_array().unwrap().len(), 2);
    let (code, p) = get(&w.engine, "/api/users/kim@contoso.test/presence").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(p["presence"]["state"], "meeting");
    assert_eq!(p["presence"]["reason"]["kind"], "meeting");
    let (_, appts) = get(&w.engine, "/api/users/kim@contoso.test/appointments").await;
    assert_eq!(appts[0]["subject"], "Standup");
    assert_eq!(appts[0]["location"], "Room 1");
    assert_eq!(appts[0]["status"], "busy");
    let (code, err) = get(&w.engine, "/api/users/nobody@contoso.test/presence").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(err["error"], "unknown user `nobody@contoso.test`");
}

#[tokio::test(start_paused = true)]
async fn override_is_set_and_cleared_over_http() {
    let w = world("");
    w.engine.full_sync().await;
    let (code, p) = call(
        &w.engine,
        Method::PUT,
        "/api/users/kim@contoso.test/override",
        Some(r#"{"state": "absent", "message": "Back at 3"}"#),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(p["presence"]["state"], "absent");
    assert_eq!(p["presence"]["message"], "Back at 3");
    let (code, body) = call(
        &w.engine,
        Method::DELETE,
        "/api/users/kim@contoso.test/override",
        None,
    )
    .await;
    assert_eq!(
        (code, &body["cleared"]),
        (StatusCode::OK, &Value::Bool(true))
    );
    let (code, _) = call(
        &w.engine,
        Method::PUT,
        "/api/users/kim@contoso.test/override",
        Some(r#"{"state": "sleeping"}"#),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(start_paused = true)]
async fn log_is_served_and_force_sync_is_accepted() {
    let w = world("");
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    let (code, body) = call(&w.engine, Method::POST, "/api/sync", None).await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_eq!(body["accepted"], true);
    w.clock.sleep(Duration::seconds(1)).await;
    assert_eq!(w.exchange.count("CalendarView"), 2);
    let (_, lines) = get(&w.engine, "/api/log?level=info&limit=2").await;
    let lines = lines.as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1]["message"],
        "Full sync done: 2 of 2 mailboxes synced"
    );
    assert_eq!(lines[1]["level"], "info");
    assert!(
        lines[1]["at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-30T08:00:01")
    );
}

#[tokio::test(start_paused = true)]
async fn counter_slots_leave_out_busy_times_and_refuse_unknown_calendars() {
    let w = world(COUNTER);
    let uri = "/api/counters/desk-1/slots?from=2026-03-30&to=2026-03-30";
    let (code, err) = get(&w.engine, uri).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("first sync not finished")
    );

    // 08:00 UTC is 10:00 in Berlin: a meeting 10:00-10:30 local. Opening 09:00-12:00 local,
    // and now is 10:00 local, so the bookable slots are 10:30, 11:00, 11:30.
    w.exchange
        .set_appointments("desk1@contoso.test", vec![meeting("Walk-in", 0, 30)]);
    w.engine.full_sync().await;
    let (code, report) = get(&w.engine, uri).await;
    assert_eq!(code, StatusCode::OK, "{report}");
    let starts: Vec<&str> = report["days"][0]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-30T08:30:00Z",
            "2026-03-30T09:00:00Z",
            "2026-03-30T09:30:00Z"
        ]
    );

    let (code, err) = get(
        &w.engine,
        "/api/counters/desk-1/slots?from=2026-03-30&to=2026-04-30",
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["error"].as_str().unwrap().contains("synced window"),
        "{err}"
    );
    let (code, _) = get(
        &w.engine,
        "/api/counters/desk-9/slots?from=2026-03-30&to=2026-03-30",
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (_, counters) = get(&w.engine, "/api/counters").await;
    assert_eq!(counters[0]["id"], "desk-1");
}

#[tokio::test(start_paused = true)]
async fn presence_stream_starts_with_the_current_presence_then_sends_changes() {
    let w = world("");
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Standup", 60, 30)]);
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    let req = Request::builder()
        .uri("/api/presence/stream")
        .body(Body::empty())
        .unwrap();
    let resp = api::router(w.engine.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    let mut text = String::new();
    while !text.contains("\"meeting\"") {
        let frame = body.frame().await.unwrap().unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
    let events: Vec<&str> = text.lines().filter(|l| l.starts_with("event:")).collect();
    assert_eq!(events, ["event: presence"; 3], "{text}");
    assert!(text.contains("\"at\":\"2026-03-30T09:00:00Z\""), "{text}");
}
