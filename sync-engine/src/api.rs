//! The engine's HTTP API (axum, JSON; documented in `sync-engine/API.md`).
//!
//! Tests reach it through [`router`] with `tower::ServiceExt::oneshot`; the binary serves it
//! with [`serve`].

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};

use crate::engine::{Engine, EngineError, OverrideRequest};
use crate::log::LogQuery;

/// An API error: a status code and a JSON body `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::UnknownUser(_) | EngineError::UnknownCounter(_) => StatusCode::NOT_FOUND,
            EngineError::CounterWithoutMailbox(_) | EngineError::NotSynced { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            EngineError::OutsideWindow { .. } | EngineError::Slots(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

/// The API's routes over `engine`.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/api/status", get(status))
        .route("/api/sync", post(force_sync))
        .route("/api/log", get(log_lines))
        .route("/api/log/stream", get(log_stream))
        .route("/api/users", get(users))
        .route("/api/users/{email}/presence", get(presence))
        .route("/api/users/{email}/appointments", get(appointments))
        .route(
            "/api/users/{email}/override",
            axum::routing::put(set_override).delete(clear_override),
        )
        .route("/api/presence/stream", get(presence_stream))
        .route("/api/counters", get(counters))
        .route("/api/counters/{id}/slots", get(slots))
        .with_state(engine)
}

/// The push notification listener (Exchange POSTs `SendNotification` to the configured
/// callback URL, any path): answers `SendNotificationResult`.
pub fn push_router(engine: Engine) -> Router {
    Router::new().fallback(push_notification).with_state(engine)
}

async fn push_notification(
    State(engine): State<Engine>,
    method: axum::http::Method,
    body: axum::body::Bytes,
) -> Response {
    if method != axum::http::Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "POST SendNotification here").into_response();
    }
    match engine.push_notification(&body) {
        Ok(answer) => (
            StatusCode::OK,
            [("content-type", "text/xml; charset=utf-8")],
            answer,
        )
            .into_response(),
        Err(e) => {
            engine
                .log()
                .warn(None, format!("Unreadable push notification: {e}"));
            (StatusCode::BAD_REQUEST, e.to_string()).into_response()
        }
    }
}

/// Serves the API on `listener` until the future is dropped.
pub async fn serve(engine: Engine, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(engine)).await
}

/// Binds `addr` and serves the API; returns the bound address and the server future.
pub async fn bind(
    engine: Engine,
    addr: SocketAddr,
) -> std::io::Result<(
    SocketAddr,
    impl std::future::Future<Output = std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    Ok((bound, serve(engine, listener)))
}

async fn status(State(engine): State<Engine>) -> impl IntoResponse {
    Json(engine.status())
}

async fn force_sync(State(engine): State<Engine>) -> impl IntoResponse {
    engine.force_sync();
    (StatusCode::ACCEPTED, Json(json!({ "accepted": true })))
}

async fn log_lines(
    State(engine): State<Engine>,
    Query(query): Query<LogQuery>,
) -> impl IntoResponse {
    Json(engine.log().lines(&query))
}

fn sse_stream<T: Clone + Send + serde::Serialize + 'static>(
    kept: Vec<T>,
    rx: tokio::sync::broadcast::Receiver<T>,
    kind: &'static str,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let to_event = move |item: &T| {
        Event::default()
            .event(kind)
            .json_data(item)
            .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()))
    };
    let first: Vec<Result<Event, Infallible>> = kept.iter().map(|i| Ok(to_event(i))).collect();
    let live = BroadcastStream::new(rx).map(move |r| {
        Ok(match r {
            Ok(item) => to_event(&item),
            // A slow reader missed lines: say so rather than pretend the stream is whole.
            Err(BroadcastStreamRecvError::Lagged(n)) => Event::default()
                .event("lagged")
                .data(format!("{{\"missed\":{n}}}")),
        })
    });
    tokio_stream::iter(first).chain(live)
}

async fn log_stream(State(engine): State<Engine>) -> impl IntoResponse {
    let (kept, rx) = engine.log().snapshot_and_subscribe();
    Sse::new(sse_stream(kept, rx, "log")).keep_alive(KeepAlive::default())
}

async fn presence_stream(State(engine): State<Engine>) -> impl IntoResponse {
    // Subscribe first, then snapshot: a change in between is sent twice, never lost.
    let rx = engine.subscribe_presence();
    let now = engine.clock().now();
    let current: Vec<crate::PresenceEvent> = engine
        .users()
        .into_iter()
        .map(|u| crate::PresenceEvent {
            user: u.email,
            at: now,
            previous: None,
            presence: u.presence,
        })
        .collect();
    Sse::new(sse_stream(current, rx, "presence")).keep_alive(KeepAlive::default())
}

async fn users(State(engine): State<Engine>) -> impl IntoResponse {
    Json(engine.users())
}

async fn presence(
    State(engine): State<Engine>,
    Path(email): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(engine.presence(&email)?))
}

async fn appointments(
    State(engine): State<Engine>,
    Path(email): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(engine.appointments(&email)?))
}

async fn set_override(
    State(engine): State<Engine>,
    Path(email): Path<String>,
    Json(request): Json<OverrideRequest>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(engine.set_override(&email, request)?))
}

async fn clear_override(
    State(engine): State<Engine>,
    Path(email): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let cleared = engine.clear_override(&email)?;
    Ok(Json(json!({ "cleared": cleared })))
}

async fn counters(State(engine): State<Engine>) -> impl IntoResponse {
    let list: Vec<_> = engine
        .config()
        .counters
        .iter()
        .map(|c| json!({ "id": c.id, "mailbox": c.email, "privacy": c.privacy, "settings": c.slots }))
        .collect();
    Json(list)
}

#[derive(Debug, Deserialize)]
struct SlotQuery {
    from: NaiveDate,
    to: NaiveDate,
}

async fn slots(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(q): Query<SlotQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(engine.slots(&id, q.from, q.to)?))
}
