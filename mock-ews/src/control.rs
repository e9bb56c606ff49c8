//! The control API: JSON over HTTP under `/mock/`, for tests and scenario runners.
//!
//! Item and OOF changes go through the same [`Store`](crate::Store) methods as EWS, so they
//! bump ids and change keys and land in the change log that notifications read.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | GET | `/mock/world` | | summary |
//! | PUT | `/mock/world` | world (YAML, or JSON with `Content-Type: application/json`) | summary |
//! | POST | `/mock/reset` | | summary |
//! | POST | `/mock/snapshots` | | `{"id": n}` |
//! | POST | `/mock/snapshots/{id}/restore` | | summary |
//! | GET | `/mock/clock` | | `{"now", "mode"}` |
//! | PUT | `/mock/clock` | `{"now": "2026-03-09T08:00:00Z"}` | clock |
//! | POST | `/mock/clock/advance` | `{"by": "30m"}` | clock |
//! | POST | `/mock/clock/freeze`, `/mock/clock/resume` | | clock |
//! | GET | `/mock/mailboxes/{smtp}/items` | | `[{"itemId", "changeKey", "item"}]` |
//! | POST | `/mock/mailboxes/{smtp}/items` | item (world-file form) | `{"itemId", "changeKey"}` |
//! | PATCH | `/mock/items/{id}` | fields to change (occurrence ids: `start`, `end`, `duration`, `subject`, `location`, `status`) | `{"itemId", "changeKey"}` |
//! | DELETE | `/mock/items/{id}[?deleteType=MoveToDeletedItems]` | | 204 (`HardDelete` unless `deleteType` says `SoftDelete` or `MoveToDeletedItems`) |
//! | GET, PUT | `/mock/mailboxes/{smtp}/oof` | OOF (world-file form) | OOF with `active` |
//! | GET, DELETE | `/mock/journal` | | entries |
//! | GET | `/mock/changes?after=n` | | change records |
//! | GET, POST, DELETE | `/mock/faults` | a fault rule (see [`FaultSpec`](crate::FaultSpec)) | rules / `{"id": n}` |
//! | DELETE | `/mock/faults/{id}` | | 204 |
//! | GET, POST, DELETE | `/mock/notification-faults` | a notification fault rule (see [`NotifyFaultSpec`](crate::NotifyFaultSpec)) | rules / `{"id": n}` |
//! | DELETE | `/mock/notification-faults/{id}` | | 204 |
//! | GET | `/mock/notifications` | | notification journal |
//! | GET | `/mock/notifications/conformance?mailbox=a@x.com` | | `{"noEventLost", "lostEvents", "resumedFromLastWatermark", "resumeViolations"}` |
//! | GET | `/mock/subscriptions` | | active subscription ids |

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use ews_clock::ClockMode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{StoreError, WorldError};
use crate::id::{self, IdTarget};
use crate::item::CalendarItem;
use crate::server::AppState;
use crate::spec::{ItemSpec, OofSpec, Span, When, WorldSpec};
use crate::store::{DeleteMode, SnapshotId};
use crate::world::{OofSettings, World};

type St = State<Arc<AppState>>;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/world", get(world_summary).put(load_world))
        .route("/reset", post(reset))
        .route("/snapshots", post(snapshot))
        .route("/snapshots/{id}/restore", post(restore))
        .route("/clock", get(clock_get).put(clock_set))
        .route("/clock/advance", post(clock_advance))
        .route("/clock/freeze", post(clock_freeze))
        .route("/clock/resume", post(clock_resume))
        .route("/mailboxes/{smtp}/items", get(list_items).post(create_item))
        .route("/mailboxes/{smtp}/oof", get(oof_get).put(oof_set))
        .route(
            "/items/{*id}",
            axum::routing::patch(patch_item).delete(delete_item),
        )
        .route("/journal", get(journal_get).delete(journal_clear))
        .route("/changes", get(changes))
        .route(
            "/faults",
            get(faults_list).post(faults_add).delete(faults_clear),
        )
        .route("/faults/{id}", axum::routing::delete(faults_remove))
        .merge(crate::notification::control::routes())
}

/// A control-API failure: a status and a JSON `{"error": ...}` body.
#[derive(Debug)]
pub(crate) struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let status = match e {
            StoreError::NoMailbox(_) | StoreError::ItemNotFound(_) | StoreError::NoSnapshot(_) => {
                StatusCode::NOT_FOUND
            }
            StoreError::ChangeKeyMismatch { .. } => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError(status, e.to_string())
    }
}

impl From<WorldError> for ApiError {
    fn from(e: WorldError) -> Self {
        ApiError(StatusCode::BAD_REQUEST, e.to_string())
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

/// Reads a JSON body, or YAML when the content type says so.
fn parse_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json || body.first().is_some_and(|b| *b == b'{' || *b == b'[') {
        serde_json::from_slice(body).map_err(|e| bad(format!("{what}: {e}")))
    } else {
        let text =
            std::str::from_utf8(body).map_err(|_| bad(format!("{what}: body is not UTF-8")))?;
        serde_saphyr::from_str(text).map_err(|e| bad(format!("{what}: {e}")))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MailboxSummary {
    smtp: String,
    name: String,
    zone: String,
    items: usize,
}

fn summary(world: &World, seq: u64) -> Value {
    let mailboxes: Vec<MailboxSummary> = world
        .mailboxes
        .values()
        .map(|m| MailboxSummary {
            smtp: m.smtp.clone(),
            name: m.name.clone(),
            zone: m.tz.name().to_owned(),
            items: m.items.len(),
        })
        .collect();
    json!({
        "server": world.server,
        "serverVersionInfo": world.server.info(),
        "mailboxes": mailboxes,
        "accounts": world.accounts.values().map(|a| a.user.clone()).collect::<Vec<_>>(),
        "items": world.item_count(),
        "seq": seq,
    })
}

async fn world_summary(State(s): St) -> Json<Value> {
    Json(s.store.read(|w| summary(w, s.store.seq())))
}

async fn load_world(
    State(s): St,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let spec: WorldSpec = if is_json {
        serde_json::from_slice(&body).map_err(WorldError::from)?
    } else {
        let text = std::str::from_utf8(&body).map_err(|_| bad("world: body is not UTF-8"))?;
        WorldSpec::from_yaml(text, "request body")?
    };
    let world = World::from_spec(&spec, s.store.clock().now())?;
    s.store.load(world);
    Ok(Json(s.store.read(|w| summary(w, s.store.seq()))))
}

async fn reset(State(s): St) -> Json<Value> {
    s.store.reset();
    Json(s.store.read(|w| summary(w, s.store.seq())))
}

async fn snapshot(State(s): St) -> Json<Value> {
    let SnapshotId(id) = s.store.snapshot();
    Json(json!({ "id": id }))
}

async fn restore(State(s): St, Path(id): Path<u64>) -> Result<Json<Value>, ApiError> {
    s.store.restore(SnapshotId(id))?;
    Ok(Json(s.store.read(|w| summary(w, s.store.seq()))))
}

fn clock_json(s: &AppState) -> Json<Value> {
    let clock = s.store.clock();
    let mode = match clock.mode() {
        ClockMode::Running => "running",
        ClockMode::Frozen => "frozen",
    };
    Json(json!({ "now": clock.now(), "mode": mode }))
}

async fn clock_get(State(s): St) -> Json<Value> {
    clock_json(&s)
}

#[derive(Deserialize)]
struct SetClock {
    now: When,
}

async fn clock_set(State(s): St, headers: HeaderMap, body: Bytes) -> Result<Json<Value>, ApiError> {
    let req: SetClock = parse_body(&headers, &body, "clock")?;
    let now = req
        .now
        .to_utc(chrono_tz::UTC)
        .ok_or_else(|| bad("clock: time does not exist"))?;
    s.store.clock().set(now);
    Ok(clock_json(&s))
}

#[derive(Deserialize)]
struct Advance {
    #[serde(default)]
    by: Option<Span>,
    #[serde(default)]
    seconds: Option<i64>,
}

async fn clock_advance(
    State(s): St,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Advance = parse_body(&headers, &body, "advance")?;
    let by = match (req.by, req.seconds) {
        (Some(Span(d)), None) => d,
        (None, Some(secs)) => chrono::Duration::seconds(secs),
        _ => {
            return Err(bad(
                "advance: give exactly one of `by` (\"30m\") or `seconds`",
            ));
        }
    };
    if by < chrono::Duration::zero() {
        return Err(bad(
            "advance: the clock only moves forward; use PUT /mock/clock to go back",
        ));
    }
    s.store.clock().advance(by);
    Ok(clock_json(&s))
}

async fn clock_freeze(State(s): St) -> Json<Value> {
    s.store.clock().freeze();
    clock_json(&s)
}

async fn clock_resume(State(s): St) -> Json<Value> {
    s.store.clock().resume();
    clock_json(&s)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemView {
    item_id: String,
    change_key: String,
    item: ItemSpec,
}

async fn list_items(
    State(s): St,
    Path(smtp): Path<String>,
) -> Result<Json<Vec<ItemView>>, ApiError> {
    let items = s.store.read(|w| {
        w.mailbox(&smtp).map(|mb| {
            mb.items
                .values()
                .map(|i| ItemView {
                    item_id: id::item_id(mb.serial, i.key, i.revision),
                    change_key: id::change_key(i.key, i.revision),
                    item: i.to_spec(),
                })
                .collect::<Vec<_>>()
        })
    });
    items
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no mailbox {smtp}")))
}

async fn create_item(
    State(s): St,
    Path(smtp): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let spec: ItemSpec = parse_body(&headers, &body, "item")?;
    let r = s.store.create_item(&smtp, &spec)?;
    Ok((StatusCode::CREATED, Json(json!(r))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OccurrencePatch {
    #[serde(default)]
    start: Option<When>,
    #[serde(default)]
    end: Option<When>,
    #[serde(default)]
    duration: Option<Span>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    status: Option<calendar_core::FreeBusyStatus>,
    #[serde(default, rename = "changeKey")]
    change_key: Option<String>,
}

async fn patch_item(
    State(s): St,
    Path(item_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let target =
        id::parse_id(&item_id).ok_or_else(|| bad(format!("item id {item_id} is malformed")))?;
    if let IdTarget::Occurrence { original_start, .. } = target {
        let p: OccurrencePatch = parse_body(&headers, &body, "occurrence")?;
        // Read the zone before taking the write lock in `update_occurrence`.
        let tz = s.store.resolve(&item_id)?.1.tz;
        let r = s
            .store
            .update_occurrence(&item_id, original_start, p.change_key.as_deref(), |o| {
                let len = o.end - o.start;
                if let Some(w) = p.start {
                    o.start = w
                        .to_utc(tz)
                        .ok_or(crate::error::ItemError::NonexistentLocalTime)?;
                    o.end = o.start + len;
                }
                if let Some(w) = p.end {
                    o.end = w
                        .to_utc(tz)
                        .ok_or(crate::error::ItemError::NonexistentLocalTime)?;
                }
                if let Some(Span(d)) = p.duration {
                    o.end = o.start + d;
                }
                if p.subject.is_some() {
                    o.subject = p.subject.clone();
                }
                if p.location.is_some() {
                    o.location = p.location.clone();
                }
                if p.status.is_some() {
                    o.status = p.status;
                }
                Ok(())
            });
        return Ok(Json(json!(r?)));
    }
    let mut patch: Value = parse_body(&headers, &body, "item")?;
    let Some(fields) = patch.as_object_mut() else {
        return Err(bad("item: the body must be an object of fields to change"));
    };
    let change_key = fields
        .remove("changeKey")
        .and_then(|v| v.as_str().map(str::to_owned));
    let (mb, current, _) = s.store.resolve(&item_id)?;
    let mut merged = serde_json::to_value(current.to_spec()).map_err(|e| bad(e.to_string()))?;
    if let Some(obj) = merged.as_object_mut() {
        if fields.contains_key("duration") {
            obj.remove("end");
        }
        if fields.contains_key("end") {
            obj.remove("duration");
        }
        for (k, v) in fields.iter() {
            obj.insert(k.clone(), v.clone());
        }
    }
    let spec: ItemSpec = serde_json::from_value(merged).map_err(|e| bad(format!("item: {e}")))?;
    let now = s.store.clock().now();
    let r = s
        .store
        .update_item(&item_id, change_key.as_deref(), |item| {
            let rebuilt = CalendarItem::from_spec(&spec, item.key, &mb.smtp, mb.tz, now)?;
            *item = CalendarItem {
                revision: item.revision,
                created: item.created,
                ..rebuilt
            };
            Ok(())
        })?;
    Ok(Json(json!(r)))
}

/// `DELETE /mock/items/{id}?deleteType=MoveToDeletedItems`: the query names the EWS
/// `DeleteType`, `HardDelete` when absent (what the control API always did).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeleteQuery {
    delete_type: Option<String>,
}

async fn delete_item(
    State(s): St,
    Path(item_id): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let mode = match q.delete_type.as_deref() {
        Some(t) => t.parse::<DeleteMode>()?,
        None => DeleteMode::default(),
    };
    s.store.delete_item_as(&item_id, None, mode)?;
    Ok(StatusCode::NO_CONTENT)
}

fn oof_json(oof: &OofSettings, now: DateTime<Utc>) -> Value {
    json!({
        "state": oof.state,
        "audience": oof.audience,
        "start": oof.start,
        "end": oof.end,
        "internal": oof.internal,
        "external": oof.external,
        "active": oof.active_at(now),
    })
}

async fn oof_get(State(s): St, Path(smtp): Path<String>) -> Result<Json<Value>, ApiError> {
    let now = s.store.clock().now();
    s.store
        .read(|w| w.mailbox(&smtp).map(|m| oof_json(&m.oof, now)))
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no mailbox {smtp}")))
}

async fn oof_set(
    State(s): St,
    Path(smtp): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let spec: OofSpec = parse_body(&headers, &body, "oof")?;
    let tz = s
        .store
        .read(|w| w.mailbox(&smtp).map(|m| m.tz))
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no mailbox {smtp}")))?;
    let oof = OofSettings::from_spec(&spec, tz).map_err(|e| bad(format!("oof: {e}")))?;
    s.store.set_oof(&smtp, oof.clone())?;
    Ok(Json(oof_json(&oof, s.store.clock().now())))
}

async fn journal_get(State(s): St) -> Json<Value> {
    Json(json!(s.journal.entries()))
}

async fn journal_clear(State(s): St) -> StatusCode {
    s.journal.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

async fn changes(State(s): St, Query(q): Query<After>) -> Json<Value> {
    Json(json!(s.store.changes_since(q.after)))
}

async fn faults_list(State(s): St) -> Json<Value> {
    Json(json!(s.faults.list()))
}

async fn faults_add(
    State(s): St,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let spec: crate::fault::FaultSpec = parse_body(&headers, &body, "fault")?;
    let id = s.faults.add(spec).map_err(|e| bad(format!("fault: {e}")))?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn faults_clear(State(s): St) -> StatusCode {
    s.faults.clear();
    StatusCode::NO_CONTENT
}

async fn faults_remove(State(s): St, Path(id): Path<u64>) -> Result<StatusCode, ApiError> {
    if s.faults.remove(id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no fault rule {id}"),
        ))
    }
}
