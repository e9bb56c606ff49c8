//! The ews-kit command line. Glue only: parse arguments, call the library code, map errors
//! to an exit code.

mod decode;

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
    }
}
