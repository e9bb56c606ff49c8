//! `mock-ews --listen 127.0.0.1:PORT --world FILE.yaml [--tls [--tls-cert-out FILE.pem]]`:
//! serve a world until Ctrl-C.

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
    /// Freeze the clock at the world's `now` (it then moves only through the control API).
    #[arg(long)]
    frozen: bool,
    /// Serve HTTPS with a self-signed certificate for localhost and 127.0.0.1, generated at
    /// start-up. Its PEM is written to `--tls-cert-out` (default: `mock-ews-PORT.pem` in the
    /// temporary directory); the log line names the file. Clients trust that file as their CA.
    #[arg(long)]
    tls: bool,
    /// Where to write the certificate's PEM (with `--tls`).
    #[arg(long, requires = "tls", value_name = "FILE")]
    tls_cert_out: Option<PathBuf>,
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
    let mut builder = MockEws::builder().listen(args.listen).tls(args.tls);
    if args.frozen {
        let now = spec
            .now
            .and_then(|n| n.to_utc(chrono_tz::UTC))
            .ok_or("--frozen needs a `now:` in the world file")?;
        builder = builder.clock(ews_clock::Clock::frozen_at(now));
    }
    let ews = builder.world(spec).start().await?;
    let cert_file = match ews.tls_cert_pem() {
        Some(pem) => {
            let path = args.tls_cert_out.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("mock-ews-{}.pem", ews.address().port()))
            });
            std::fs::write(&path, pem)
                .map_err(|e| format!("cannot write the certificate to {}: {e}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    let world = ews.store().world();
    // Install the signal handlers before announcing the address: a SIGTERM sent right after
    // the log line used to arrive before them and kill the process with the default action.
    let shutdown = shutdown_signal()?;
    tracing::info!(
        ews = %ews.ews_url(),
        control = %ews.control_url(),
        mailboxes = world.mailboxes.len(),
        items = world.item_count(),
        tls_cert = cert_file.as_ref().map(|p| p.display().to_string()),
        "mock-ews listening"
    );
    shutdown.await?;
    tracing::info!("shutting down");
    ews.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM (what container runtimes and service managers send). The SIGTERM
/// handler is registered when this returns, not when the future is first polled.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = std::io::Result<()>>> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(tokio::signal::ctrl_c())
    }
}
