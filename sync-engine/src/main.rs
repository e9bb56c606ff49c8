//! `sync-engine --config FILE` runs the engine; `sync-engine check --config FILE --mailbox
//! demo@contoso.com` runs the connection test. Glue only: the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use ews_clock::Clock;
use sync_engine::ews::EwsClient;
use sync_engine::{Config, Engine, api, check};

#[derive(Parser)]
#[command(
    name = "sync-engine",
    about = "Exchange calendar integration: presence and free slots"
)]
struct Args {
    /// The TOML configuration (see engine.example.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Tests the connection step by step with a demo mailbox and says what to fix.
    Check {
        /// The mailbox to test with.
        #[arg(long)]
        mailbox: String,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(path) = args.config else {
        eprintln!("sync-engine: --config FILE is required (see engine.example.toml)");
        return ExitCode::FAILURE;
    };
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sync-engine: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sync-engine: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match args.command {
            Some(Command::Check { mailbox }) => check_mailbox(config, &mailbox).await,
            None => run(config).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("sync-engine: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn check_mailbox(config: Config, mailbox: &str) -> Result<ExitCode, String> {
    let clock = Clock::system();
    let client = EwsClient::new(&config.exchange, clock.clone()).map_err(|e| e.to_string())?;
    let report = check::run(&config, &client, mailbox, &clock).await;
    println!("{report}");
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run(config: Config) -> Result<ExitCode, String> {
    let clock = Clock::system();
    let client = EwsClient::new(&config.exchange, clock.clone()).map_err(|e| e.to_string())?;
    let listen = config.api.listen;
    let push_listen = match &config.notifications {
        sync_engine::config::Notifications::Push { listen, .. } => Some(*listen),
        _ => None,
    };
    let engine = Engine::new(config, clock, Arc::new(client));
    let mut lines = engine.log().subscribe();
    tokio::spawn(async move {
        while let Ok(line) = lines.recv().await {
            eprintln!("{line}");
        }
    });
    let (addr, server) = api::bind(engine.clone(), listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    engine
        .log()
        .info(None, format!("API listening on http://{addr}"));
    if let Some(push) = push_listen {
        let listener = tokio::net::TcpListener::bind(push)
            .await
            .map_err(|e| format!("cannot listen for push notifications on {push}: {e}"))?;
        engine
            .log()
            .info(None, format!("Push listener on http://{push}"));
        let router = api::push_router(engine.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
    }
    let _tasks = engine.start();
    tokio::select! {
        r = server => r.map_err(|e| format!("API server failed: {e}"))?,
        r = tokio::signal::ctrl_c() => r.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?,
    }
    engine.log().info(None, "EWS stopping");
    Ok(ExitCode::SUCCESS)
}
