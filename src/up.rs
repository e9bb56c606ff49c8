//! `ews-kit up`: the demo stack. mock-ews serves the bundled demo office
//! (`scenarios/demo.yaml`, embedded in the binary) and sync-engine syncs it over real HTTP,
//! both on one clock that starts at the demo's `now` and then runs in real time, so the demo
//! looks the same on any day. The demo file is also played as a scenario by `cargo test`,
//! so what `up` shows is checked.

use std::net::SocketAddr;
use std::sync::Arc;

use ews_clock::Clock;
use mock_ews::MockEws;
use sync_engine::ews::EwsClient;
use sync_engine::{Config, Engine, Tasks, api};
use tokio::task::JoinHandle;

use crate::scenario::Scenario;

/// The demo office, as a scenario file (its `world` and `engine` sections are used).
pub const DEMO: &str = include_str!("../scenarios/demo.yaml");

/// Why the demo stack did not start.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error("the bundled demo is invalid: {0}")]
    Demo(String),
    #[error("mock-ews does not start: {0}")]
    Mock(#[from] mock_ews::StartError),
    #[error("cannot build the EWS client: {0}")]
    Client(String),
    #[error("cannot listen for the engine API on {addr}: {source}")]
    Api {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Where to listen.
#[derive(Debug, Clone, Copy)]
pub struct UpOptions {
    /// mock-ews (EWS endpoint and control API).
    pub ews: SocketAddr,
    /// The engine's HTTP API.
    pub api: SocketAddr,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            ews: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api: SocketAddr::from(([127, 0, 0, 1], 8021)),
        }
    }
}

/// The running demo: mock, engine with its tasks, and the engine API server.
pub struct Stack {
    mock: MockEws,
    engine: Engine,
    tasks: Tasks,
    api: SocketAddr,
    api_task: JoinHandle<std::io::Result<()>>,
}

impl Stack {
    /// Starts mock-ews with the demo world, then the engine against it, then the engine's
    /// API. Must run inside a tokio runtime.
    pub async fn start(options: UpOptions) -> Result<Stack, UpError> {
        let demo =
            Scenario::from_yaml(DEMO, "demo.yaml").map_err(|e| UpError::Demo(e.to_string()))?;
        let start = demo
            .file
            .world
            .now
            .and_then(|w| w.to_utc(demo.zone))
            .ok_or_else(|| UpError::Demo("`world.now` is not an instant".into()))?;
        let clock = Clock::starting_at(start);
        let mock = MockEws::builder()
            .world(demo.file.world.clone())
            .clock(clock.clone())
            .listen(options.ews)
            .start()
            .await?;
        let mut raw = demo.file.engine.clone();
        raw.exchange.server = None;
        raw.exchange.url = Some(mock.ews_url());
        let config = Config::from_raw(raw).map_err(|p| {
            UpError::Demo(
                p.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let client = EwsClient::new(&config.exchange, clock.clone())
            .map_err(|e| UpError::Client(e.to_string()))?;
        let engine = Engine::new(config, clock, Arc::new(client));
        let (api, server) = api::bind(engine.clone(), options.api)
            .await
            .map_err(|source| UpError::Api {
                addr: options.api,
                source,
            })?;
        let api_task = tokio::spawn(server);
        let tasks = engine.start();
        Ok(Stack {
            mock,
            engine,
            tasks,
            api,
            api_task,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn mock(&self) -> &MockEws {
        &self.mock
    }

    /// The engine API's base URL.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api)
    }

    /// What to print: every URL with a hint of what to do with it.
    pub fn banner(&self) -> String {
        let api = self.api_url();
        let users: Vec<String> = self
            .engine
            .config()
            .users
            .iter()
            .filter_map(|u| u.email.clone())
            .collect();
        let first = users.first().cloned().unwrap_or_default();
        format!(
            "ews-kit demo office is up (virtual clock started at {now}, running in real time)\n\
             \n  EWS endpoint   {ews}   (svc-sync / sync-pw, impersonation of every mailbox)\n\
             \x20 mock control   {control}/world   (clock: {control}/clock, journal: {control}/journal)\n\
             \x20 engine API     {api}/api/status\n\
             \n  try: curl {api}/api/users\n\
             \x20      curl {api}/api/users/{first}/presence\n\
             \x20      curl '{api}/api/counters/registry/slots?from=2026-03-24&to=2026-03-27'\n\
             \x20      curl -X POST {control}/clock/advance -d '{{\"by\": \"90m\"}}' -H 'content-type: application/json'\n\
             \nusers: {users}\nCtrl-C stops.\n",
            now = self.engine.clock().now().format("%Y-%m-%d %H:%M UTC"),
            ews = self.mock.ews_url(),
            control = self.mock.control_url(),
            users = users.join(", "),
        )
    }

    /// Stops the engine, its API and the mock.
    pub async fn shutdown(mut self) {
        self.tasks.abort();
        self.api_task.abort();
        self.mock.shutdown().await;
    }
}

/// `ews-kit up`: starts the stack, prints the banner, runs until Ctrl-C.
pub async fn run(options: UpOptions, out: &mut impl std::io::Write) -> Result<(), UpError> {
    let stack = Stack::start(options).await?;
    // The banner is best effort: a closed stdout must not stop the servers.
    let _ = out.write_all(stack.banner().as_bytes());
    let _ = out.flush();
    let _ = tokio::signal::ctrl_c().await;
    stack.shutdown().await;
    Ok(())
}
