//! The ews-kit command line. Glue only: parse arguments, call the library code, map errors
//! to an exit code.

mod decode;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exchange-compatible mock server, sync engine and scenario kit.
#[derive(Debug, Parser)]
#[command(name = "ews-kit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print any EWS message (request, response, notification, fault) as JSON.
    Decode {
        /// The XML file to read, or `-` for standard input.
        file: String,
        /// The largest input accepted, in bytes.
        #[arg(long, default_value_t = 8 * 1024 * 1024)]
        max_bytes: usize,
    },
    /// Play scenario files (or every file under a directory) and print a report.
    Play {
        /// Scenario files or directories (default: `scenarios`).
        paths: Vec<PathBuf>,
    },
    /// Start mock-ews with the bundled demo office plus sync-engine against it, print the
    /// URLs, and serve until Ctrl-C.
    Up {
        /// Where mock-ews listens (EWS and its control API).
        #[arg(long, default_value = "127.0.0.1:8080")]
        ews_listen: SocketAddr,
        /// Where the engine's HTTP API listens.
        #[arg(long, default_value = "127.0.0.1:8021")]
        api_listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Decode { file, max_bytes } => {
            let config = decode::DecodeConfig {
                input: (file != "-").then(|| PathBuf::from(file)),
                max_bytes,
            };
            match decode::run(&config, &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("ews-kit decode: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Play { paths } => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from("scenarios")]
            } else {
                paths
            };
            match ews_kit::scenario::play_paths(&paths, &mut std::io::stdout().lock()) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(err) => {
                    eprintln!("ews-kit play: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Up {
            ews_listen,
            api_listen,
        } => {
            let options = ews_kit::up::UpOptions {
                ews: ews_listen,
                api: api_listen,
            };
            let result = tokio::runtime::Runtime::new()
                .map_err(|e| e.to_string())
                .and_then(|rt| {
                    rt.block_on(ews_kit::up::run(options, &mut std::io::stdout()))
                        .map_err(|e| e.to_string())
                });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("ews-kit up: {err}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
