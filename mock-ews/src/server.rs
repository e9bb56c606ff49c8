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
use crate::journal::{Journal, JournalEntry, Outcome};
use crate::ops;
use crate::soap::SoapFault;
use crate::spec::WorldSpec;
use crate::store::Store;
use crate::world::{Principal, World};

/// Default largest accepted request body (Exchange's default `maxReceivedMessageSize` is
/// far larger; no calendar request comes close to this).
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// Shared state of one server.
#[derive(Debug)]
pub struct AppState {
    pub store: Arc<Store>,
    pub journal: Journal,
    pub max_body: usize,
    pub realm: String,
}

impl AppState {
    pub fn new(store: Arc<Store>) -> Self {
        AppState {
            store,
            journal: Journal::default(),
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
}

async fn ews(state: Arc<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let at = state.store.clock().now();
    let mut seen = Seen::default();
    let (parts, body) = req.into_parts();
    let (response, outcome) = handle(&state, &parts.headers, body, &mut seen).await;
    state.journal.push(JournalEntry {
        at,
        operation: seen.operation.unwrap_or_else(|| "-".into()),
        account: seen.account,
        impersonated: seen.impersonated,
        outcome,
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
    let reply = ops::dispatch(&state.store, &principal, &envelope);
    match reply {
        ops::Reply::Fault(f) => fault(f),
        ops::Reply::Body { bytes, outcome } => {
            (crate::soap::xml_response(StatusCode::OK, bytes), outcome)
        }
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid world: {0}")]
    World(#[from] WorldError),
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

    /// Largest accepted EWS request body in bytes.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
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
        let (tx, rx) = oneshot::channel::<()>();
        let router = app(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        Ok(MockEws {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running mock server. Dropping it stops the server.
#[derive(Debug)]
pub struct MockEws {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
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

    /// `http://127.0.0.1:PORT/EWS/Exchange.asmx`
    pub fn ews_url(&self) -> String {
        format!("http://{}/EWS/Exchange.asmx", self.addr)
    }

    /// `http://127.0.0.1:PORT/mock`
    pub fn control_url(&self) -> String {
        format!("http://{}/mock", self.addr)
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

    /// Stops accepting connections and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
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
            let _ = tx.send(());
        }
    }
}
