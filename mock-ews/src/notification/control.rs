//! Control API for notifications, merged under `/mock/` (see the table in `control.rs`):
//! notification fault rules, the notification journal, active subscriptions and the
//! conformance checks, so tests in any language can drive and judge notifications.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::NotifyFaultSpec;
use crate::server::AppState;

type St = State<Arc<AppState>>;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/notification-faults",
            get(faults_list).post(faults_add).delete(faults_clear),
        )
        .route("/notification-faults/{id}", delete(faults_remove))
        .route("/notifications", get(journal))
        .route("/notifications/conformance", get(conformance))
        .route("/subscriptions", get(active))
}

fn error(status: StatusCode, msg: String) -> Response {
    (status, Json(json!({ "error": msg }))).into_response()
}

async fn faults_list(State(s): St) -> Json<Value> {
    Json(json!(s.notifications.faults().list()))
}

async fn faults_add(State(s): St, body: Bytes) -> Response {
    let spec: NotifyFaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("notification fault: {e}")),
    };
    match s.notifications.faults().add(spec) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, format!("notification fault: {e}")),
    }
}

async fn faults_clear(State(s): St) -> StatusCode {
    s.notifications.faults().clear();
    StatusCode::NO_CONTENT
}

async fn faults_remove(State(s): St, Path(id): Path<u64>) -> Response {
    if s.notifications.faults().remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(
            StatusCode::NOT_FOUND,
            format!("no notification fault rule {id}"),
        )
    }
}

async fn journal(State(s): St) -> Json<Value> {
    Json(json!(s.notifications.journal()))
}

async fn active(State(s): St) -> Json<Value> {
    Json(json!(s.notifications.active()))
}

#[derive(Debug, Deserialize)]
struct Mailbox {
    mailbox: String,
}

async fn conformance(State(s): St, Query(q): Query<Mailbox>) -> Json<Value> {
    let lost = s.notifications.lost_events(&q.mailbox);
    let resume = s.notifications.resume_violations(&q.mailbox);
    Json(json!({
        "mailbox": q.mailbox,
        "noEventLost": lost.is_empty(),
        "lostEvents": lost,
        "resumedFromLastWatermark": resume.is_empty(),
        "resumeViolations": resume,
    }))
}
