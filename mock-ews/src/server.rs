//! The HTTP server: [`MockEws`] (start on a random loopback port, in the spirit of
//! wiremock's `MockServer::start()`), the router [`app`], Basic auth and the EWS endpoint.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ews_clock::Clock;
use ews_proto::{Envelope, Limits, ParseError};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::control;
use crate::error::WorldError;
use crate::fault::{BusyForm, FaultKind, FaultSpec, Faults};
use crate::journal::{Journal, JournalEntry, Outcome};
use crate::notification::Notifications;
use crate::ops;
use crate::soap::SoapFault;
use crate::spec::WorldSpec;
use crate::store::Store;
use crate::tls::{TlsError, TlsIdentity};
use crate::transport::{Peer, Trap, TrapListener};
use crate::world::{Principal, World};

/// Default largest accepted request body (Exchange's default `maxReceivedMessageSize` is
/// far larger; no calendar request comes close to this).
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// Shared state of one server.
#[derive(Debug)]
pub struct AppState {
    pub store: Arc<Store>,
    pub notifications: Arc<Notifications>,
    pub journal: Journal,
    pub faults: Faults,
    pub in_flight: InFlight,
    pub max_body: usize,
    pub realm: String,
}

impl AppState {
    pub fn new(store: Arc<Store>) -> Self {
        AppState {
            notifications: Arc::new(Notifications::new(store.clone())),
            store,
            journal: Journal::default(),
            faults: Faults::default(),
            in_flight: InFlight::default(),
            max_body: DEFAULT_MAX_BODY,
            realm: "mock-ews".into(),
        }
    }
}

/// The whole router: EWS at `/EWS/Exchange.asmx` (any case), control API under `/mock/`.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .nest("/mock", control::routes())
        .fallback(fallback)
        .with_state(state)
}

async fn fallback(State(state): State<Arc<AppState>>, req: Request) -> Response {
    if !req.uri().path().eq_ignore_ascii_case("/ews/exchange.asmx") {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    if req.method() != Method::POST {
        let mut r = (StatusCode::METHOD_NOT_ALLOWED, "EWS accepts POST only\n").into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    ews(state, req).await
}

/// What the EWS handler learned about a request, for the journal.
#[derive(Debug, Default)]
struct Seen {
    operation: Option<String>,
    account: Option<String>,
    impersonated: Option<String>,
    in_flight: u32,
}

/// Requests in the server per (account, mailbox), for [`Journal::max_in_flight`].
#[derive(Debug, Default)]
pub struct InFlight(std::sync::Mutex<std::collections::HashMap<(String, String), u32>>);

/// Counts one request while alive.
struct InFlightGuard<'a> {
    table: &'a InFlight,
    key: (String, String),
}

impl InFlight {
    fn enter(&self, account: &str, mailbox: &str) -> (InFlightGuard<'_>, u32) {
        let key = (account.to_ascii_lowercase(), mailbox.to_ascii_lowercase());
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = t.entry(key.clone()).or_insert(0);
        *n += 1;
        let now = *n;
        drop(t);
        (InFlightGuard { table: self, key }, now)
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = t.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                t.remove(&self.key);
            }
        }
    }
}

async fn ews(state: Arc<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let at = state.store.clock().now();
    let mut seen = Seen::default();
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<Peer>>()
        .map(|c| c.0.clone());
    let (response, outcome) = handle(&state, &parts.headers, body, &mut seen, peer.as_ref()).await;
    state.journal.push(JournalEntry {
        at,
        operation: seen.operation.unwrap_or_else(|| "-".into()),
        account: seen.account,
        impersonated: seen.impersonated,
        outcome,
        in_flight: seen.in_flight,
        latency: started.elapsed(),
    });
    response
}

fn fault(f: SoapFault) -> (Response, Outcome) {
    let outcome = Outcome::Fault {
        code: f.code.clone(),
        back_off_ms: f.back_off_ms(),
    };
    (f.into_response(), outcome)
}

fn unauthorized(realm: &str) -> (Response, Outcome) {
    let mut r = (StatusCode::UNAUTHORIZED, "401 Unauthorized\n").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    (
        r,
        Outcome::Http {
            status: 401,
            retry_after_s: None,
        },
    )
}

/// Decodes `Authorization: Basic`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Maps an envelope parse error onto the fault Exchange gives.
pub(crate) fn parse_fault(err: &ParseError) -> SoapFault {
    let f = SoapFault::new(
        "ErrorSchemaValidation",
        format!("The request failed schema validation: {err}"),
    );
    match err.position() {
        Some((line, column)) => f
            .with_value("LineNumber", line.to_string())
            .with_value("LinePosition", column.to_string()),
        None => f,
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    seen: &mut Seen,
    peer: Option<&Peer>,
) -> (Response, Outcome) {
    let Some((user, password)) = basic_credentials(headers) else {
        return unauthorized(&state.realm);
    };
    let principal: Option<Principal> = state.store.read(|w| w.authenticate(&user, &password));
    let Some(principal) = principal else {
        seen.account = Some(user);
        return unauthorized(&state.realm);
    };
    seen.account = Some(principal.user.clone());
    let bytes = match to_bytes(body, state.max_body).await {
        Ok(b) => b,
        Err(_) => {
            return (
                (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response(),
                Outcome::Http {
                    status: 413,
                    retry_after_s: None,
                },
            );
        }
    };
    let limits = Limits {
        max_bytes: state.max_body,
        ..Limits::default()
    };
    let envelope = match Envelope::parse(&bytes, &limits) {
        Ok(e) => e,
        Err(err) => return fault(parse_fault(&err)),
    };
    seen.operation = Some(envelope.body.name.clone());
    seen.impersonated = envelope
        .header
        .impersonation
        .as_ref()
        .map(|sid| sid.value().to_owned());
    let operation = envelope.body.name.clone();
    let mailbox = seen
        .impersonated
        .clone()
        .or_else(|| {
            headers
                .get("x-anchormailbox")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .or_else(|| principal.mailbox.clone());
    let (_in_flight, n) = state
        .in_flight
        .enter(&principal.user, mailbox.as_deref().unwrap_or_default());
    seen.in_flight = n;
    let mut truncate = false;
    if let Some(kind) = state.faults.check(&operation, mailbox.as_deref()) {
        let server = state.store.read(|w| w.server);
        match injected(kind, &operation, server, peer).await {
            Injected::Answer(r, o) => return (r, o),
            Injected::Proceed => {}
            Injected::Truncate => truncate = true,
        }
    }
    let reply = ops::dispatch(&state.store, &state.notifications, &principal, &envelope);
    match reply {
        ops::Reply::Fault(f) => fault(f),
        ops::Reply::Body { bytes, outcome } => match (truncate, peer) {
            (true, Some(p)) => {
                p.set(Trap::Truncate {
                    body_bytes: bytes.len() / 2,
                });
                (
                    crate::soap::xml_response(StatusCode::OK, bytes),
                    Outcome::Transport {
                        what: "truncated body".into(),
                    },
                )
            }
            _ => (crate::soap::xml_response(StatusCode::OK, bytes), outcome),
        },
        ops::Reply::Stream { response, outcome } => (*response, outcome),
    }
}

/// What an injected fault does to the request.
enum Injected {
    /// Answer this instead.
    Answer(Response, Outcome),
    /// Go on normally (after a delay).
    Proceed,
    /// Go on, then cut the answer in half.
    Truncate,
}

/// A per-message error for an operation in the standard `ResponseMessages` form; `None` for
/// the operations with their own containers (OOF, availability), which get the fault form.
fn message_error(
    server: crate::world::ServerVersion,
    operation: &str,
    err: &crate::ops::MsgError,
) -> Option<Vec<u8>> {
    if operation.ends_with("Request") {
        return None;
    }
    let mut out = crate::ops::Messages::new(server, operation);
    out.error(err, |_| {});
    match out.finish() {
        ops::Reply::Body { bytes, .. } => Some(bytes),
        ops::Reply::Fault(_) | ops::Reply::Stream { .. } => None,
    }
}

const BUSY: &str = "The server cannot service this request right now. Try again later.";

async fn injected(
    kind: FaultKind,
    operation: &str,
    server: crate::world::ServerVersion,
    peer: Option<&Peer>,
) -> Injected {
    use crate::ops::MsgError;
    let as_message = |err: MsgError| match message_error(server, operation, &err) {
        Some(bytes) => Injected::Answer(
            crate::soap::xml_response(StatusCode::OK, bytes),
            Outcome::Error { code: err.code },
        ),
        None => {
            let mut f = SoapFault::new(err.code, err.text);
            f.values = err.values;
            let (r, o) = fault(f);
            Injected::Answer(r, o)
        }
    };
    match kind {
        FaultKind::ServerBusy {
            back_off_ms,
            form: BusyForm::Fault,
        } => {
            let (r, o) = fault(
                SoapFault::new("ErrorServerBusy", BUSY)
                    .with_value("BackOffMilliseconds", back_off_ms.to_string()),
            );
            Injected::Answer(r, o)
        }
        FaultKind::ServerBusy {
            back_off_ms,
            form: BusyForm::Message,
        } => as_message(
            MsgError::new(
                "ErrorServerBusy",
                format!("{BUSY} Suggested backoff time {back_off_ms} ms."),
            )
            .with_value("BackOffMilliseconds", back_off_ms.to_string()),
        ),
        FaultKind::TooManyObjectsOpened => as_message(MsgError::new(
            "ErrorTooManyObjectsOpened",
            "Too many concurrent connections opened.",
        )),
        FaultKind::InternalServerError { inner_code } => {
            let mut e = MsgError::new(
                "ErrorInternalServerError",
                "An internal server error occurred. The operation failed.",
            );
            if let Some(code) = inner_code {
                e = e
                    .with_value(
                        "InnerErrorMessageText",
                        format!("Injected inner error {code}."),
                    )
                    .with_value("InnerErrorResponseCode", code)
                    .with_value("InnerErrorDescriptiveLinkKey", "0");
            }
            as_message(e)
        }
        FaultKind::TimeoutExpired => as_message(MsgError::new(
            "ErrorTimeoutExpired",
            "The request timed out.",
        )),
        FaultKind::Unavailable { retry_after_s } => {
            let mut r = (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Injected::Answer(
                r,
                Outcome::Http {
                    status: 503,
                    retry_after_s: Some(retry_after_s),
                },
            )
        }
        FaultKind::Delay { ms } => {
            // Real time on purpose: this simulates a slow network or server, not the world.
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Injected::Proceed
        }
        FaultKind::ConnectionReset | FaultKind::EmptyReply => {
            let (trap, what) = if kind == FaultKind::ConnectionReset {
                (Trap::Reset, "connection reset")
            } else {
                (Trap::Empty, "empty reply")
            };
            if let Some(p) = peer {
                p.set(trap);
            }
            Injected::Answer(
                StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                Outcome::Transport { what: what.into() },
            )
        }
        FaultKind::TruncatedBody => Injected::Truncate,
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid world: {0}")]
    World(#[from] WorldError),
    #[error("invalid fault rule: {0}")]
    Fault(String),
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Builds a [`MockEws`]: world, clock, listen address.
#[derive(Debug, Default)]
pub struct MockEwsBuilder {
    world: Option<WorldSpec>,
    clock: Option<Clock>,
    listen: Option<SocketAddr>,
    max_body: Option<usize>,
    faults: Vec<FaultSpec>,
    notify: Option<crate::notification::NotifyConfig>,
    tls: bool,
}

impl MockEwsBuilder {
    /// The world to load (default: empty).
    pub fn world(mut self, spec: WorldSpec) -> Self {
        self.world = Some(spec);
        self
    }

    /// The clock (default: the world's `now` as a running virtual clock, else system time).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Listen address (default `127.0.0.1:0`, a random port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Installs a fault rule (see [`FaultSpec`]).
    pub fn fault(mut self, spec: FaultSpec) -> Self {
        self.faults.push(spec);
        self
    }

    /// Largest accepted EWS request body in bytes.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// Notification tunables: keep-alive interval, retention window, limits, push retry and
    /// timeout (default: Exchange's values, see [`NotifyConfig`](crate::NotifyConfig)).
    pub fn notify_config(mut self, config: crate::notification::NotifyConfig) -> Self {
        self.notify = Some(config);
        self
    }

    /// Serve HTTPS with a self-signed certificate for `localhost` and `127.0.0.1`, generated
    /// at start-up; clients trust [`MockEws::tls_cert_pem`]. Default: plain HTTP.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Validates the world, binds and starts serving in a background task.
    pub async fn start(self) -> Result<MockEws, StartError> {
        let spec = self.world.unwrap_or_default();
        let clock = match (self.clock, spec.now) {
            (Some(c), _) => c,
            (None, Some(now)) => Clock::starting_at(now.to_utc(chrono_tz::UTC).unwrap_or_default()),
            (None, None) => Clock::system(),
        };
        let world = World::from_spec(&spec, clock.now())?;
        let store = Arc::new(Store::new(world, clock));
        let mut state = AppState::new(store);
        if let Some(m) = self.max_body {
            state.max_body = m;
        }
        if let Some(c) = self.notify {
            state.notifications = Arc::new(Notifications::with_config(state.store.clone(), c));
        }
        for f in self.faults {
            state.faults.add(f).map_err(StartError::Fault)?;
        }
        let state = Arc::new(state);
        let addr = self
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let tls = if self.tls {
            Some(TlsIdentity::generate()?)
        } else {
            None
        };
        let listener = match &tls {
            Some(id) => TrapListener::Tls(
                id.incoming(listener)
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => TrapListener::Plain(listener),
        };
        let (tx, rx) = oneshot::channel::<()>();
        let router = app(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<Peer>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
        });
        Ok(MockEws {
            addr,
            tls_cert_pem: tls.map(|id| id.cert_pem().to_owned()),
            state,
            shutdown: Some(tx),
            task: Some(task),
            expectations: std::sync::Mutex::new(Vec::new()),
        })
    }
}

/// A running mock server. Dropping it stops the server.
#[derive(Debug)]
pub struct MockEws {
    addr: SocketAddr,
    /// The generated certificate when serving HTTPS.
    tls_cert_pem: Option<String>,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    expectations: std::sync::Mutex<Vec<Expectation>>,
}

/// "The client sends `operation` this many times", checked when the server is dropped (or
/// by [`MockEws::verify`]), as wiremock does.
#[derive(Debug, Clone)]
pub struct Expectation {
    operation: String,
    times: std::ops::RangeInclusive<usize>,
}

impl Expectation {
    fn count(&self, journal: &Journal) -> usize {
        journal
            .entries()
            .iter()
            .filter(|e| {
                e.operation.trim_end_matches("Request")
                    == self.operation.trim_end_matches("Request")
            })
            .count()
    }
}

impl MockEws {
    pub fn builder() -> MockEwsBuilder {
        MockEwsBuilder::default()
    }

    /// An empty world on a random port with the system clock.
    pub async fn start() -> Result<MockEws, StartError> {
        Self::builder().start().await
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/EWS/Exchange.asmx` (`https://` with [`MockEwsBuilder::tls`]).
    pub fn ews_url(&self) -> String {
        format!("{}://{}/EWS/Exchange.asmx", self.scheme(), self.addr)
    }

    /// `http://127.0.0.1:PORT/mock` (`https://` with [`MockEwsBuilder::tls`]).
    pub fn control_url(&self) -> String {
        format!("{}://{}/mock", self.scheme(), self.addr)
    }

    fn scheme(&self) -> &'static str {
        if self.tls_cert_pem.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// With [`MockEwsBuilder::tls`]: the self-signed certificate (PEM) the server presents,
    /// valid for `localhost` and `127.0.0.1`; a client's CA bundle. `None` on plain HTTP.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.tls_cert_pem.as_deref()
    }

    pub fn journal(&self) -> &Journal {
        &self.state.journal
    }

    pub fn clock(&self) -> &Clock {
        self.state.store.clock()
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.state.store
    }

    /// The installed fault rules; add more at any time.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// Subscriptions and the record of notifications sent (issue 4).
    pub fn notifications(&self) -> &Arc<Notifications> {
        &self.state.notifications
    }

    /// Expects `operation` (`FindItem`; the `...Request` suffix is optional) to be received a
    /// number of times in `times` (`1..=1`, `1..=usize::MAX`, `0..=0`); checked on drop.
    pub fn expect(&self, operation: impl Into<String>, times: std::ops::RangeInclusive<usize>) {
        self.expectations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Expectation {
                operation: operation.into(),
                times,
            });
    }

    /// The unmet expectations, each as "operation: expected a..=b, received n".
    pub fn verify(&self) -> Result<(), Vec<String>> {
        let journal = &self.state.journal;
        let unmet: Vec<String> = self
            .expectations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|x| {
                let n = x.count(journal);
                (!x.times.contains(&n)).then(|| {
                    format!(
                        "{}: expected {}..={} requests, received {n}",
                        x.operation,
                        x.times.start(),
                        x.times.end()
                    )
                })
            })
            .collect();
        if unmet.is_empty() { Ok(()) } else { Err(unmet) }
    }

    /// Stops accepting connections and waits for the server task (expectations are still
    /// checked when `self` drops at the end).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            // Open GetStreamingEvents responses would hold the graceful shutdown open.
            self.state.notifications.close_all();
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(err) = task.await
        {
            tracing::warn!("mock-ews server task ended abnormally: {err}");
        }
    }
}

impl Drop for MockEws {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            self.state.notifications.close_all();
            let _ = tx.send(());
        }
        // Like wiremock: unmet expectations fail the test, unless it is already failing.
        if !std::thread::panicking()
            && let Err(unmet) = self.verify()
        {
            let journal: Vec<String> = self
                .state
                .journal
                .entries()
                .iter()
                .map(|e| format!("  {} {} {:?}", e.at, e.operation, e.outcome))
                .collect();
            panic!(
                "mock-ews: unmet expectations:\n  {}\njournal:\n{}",
                unmet.join("\n  "),
                journal.join("\n")
            );
        }
    }
}
