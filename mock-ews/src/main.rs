//! `mock-ews --listen 127.0.0.1:PORT --world FILE.yaml`: serve a world until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mock_ews::{MockEws, WorldSpec};

/// A stateful fake Exchange Web Services server.
#[derive(Debug, Parser)]
#[command(name = "mock-ews", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// World file (YAML); an empty world when absent.
    #[arg(long)]
    world: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mock-ews: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let spec = match &args.world {
        Some(path) => WorldSpec::from_file(path)?,
        None => WorldSpec::default(),
    };
    let ews = MockEws::builder()
        .world(spec)
        .listen(args.listen)
        .start()
        .await?;
    let world = ews.store().world();
    tracing::info!(
        ews = %ews.ews_url(),
        control = %ews.control_url(),
        mailboxes = world.mailboxes.len(),
        items = world.item_count(),
        "mock-ews listening"
    );
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    ews.shutdown().await;
    Ok(())
}
