//! `ews-kit decode FILE|-`: print any EWS message (request, response, push notification,
//! fault) as readable JSON, so integrators can read customer traces. A file holding several
//! envelopes in a row (a captured streaming response) prints as a JSON array.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use ews_proto::{Limits, Message, ParseError};

/// What `decode` reads and how much it accepts.
#[derive(Debug, Clone)]
pub(crate) struct DecodeConfig {
    /// The file to read, or `None` for standard input.
    pub(crate) input: Option<PathBuf>,
    /// The largest input accepted, in bytes.
    pub(crate) max_bytes: usize,
}

/// Why a message could not be decoded; each variant names the input.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    /// The input could not be read.
    #[error("{input}: cannot read: {source}")]
    Read {
        /// The file name, or `<stdin>`.
        input: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The input is not an EWS message we understand (the error carries line and column).
    #[error("{input}:{source}")]
    Parse {
        /// The file name, or `<stdin>`.
        input: String,
        /// What was wrong and where.
        source: ParseError,
    },
    /// The JSON could not be written (closed pipe, …).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
}

/// Reads the input, parses it and writes pretty JSON followed by a newline to `out`.
pub(crate) fn run(config: &DecodeConfig, out: &mut dyn Write) -> Result<(), DecodeError> {
    let input = match &config.input {
        Some(p) => p.display().to_string(),
        None => "<stdin>".to_owned(),
    };
    let read_err = |source| DecodeError::Read {
        input: input.clone(),
        source,
    };
    // Read one byte more than allowed, so an oversized input is reported as such instead of
    // being cut silently.
    let limit = u64::try_from(config.max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    match &config.input {
        Some(path) => std::fs::File::open(path)
            .and_then(|f| f.take(limit).read_to_end(&mut bytes))
            .map_err(read_err)?,
        None => io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(read_err)?,
    };
    let limits = Limits {
        max_bytes: config.max_bytes,
        ..Limits::default()
    };
    // A captured GetStreamingEvents response is several envelopes in a row: print them as a
    // JSON array; a single message prints as one object.
    let messages = Message::parse_all(&bytes, &limits).map_err(|source| DecodeError::Parse {
        input: input.clone(),
        source,
    })?;
    let json = match messages.as_slice() {
        [one] => to_json(one),
        many => many
            .iter()
            .map(to_json)
            .collect::<Result<Vec<_>, _>>()
            .map(|parts| format!("[\n{}\n]", parts.join(",\n"))),
    }
    .map_err(|e| DecodeError::Write(io::Error::other(e)))?;
    match writeln!(out, "{json}") {
        // `ews-kit decode x.xml | head` is normal use, not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(DecodeError::Write),
    }
}

/// The top-level order is fixed (operation, kind, headers, body) so a reader sees what the
/// message is first; inside, absent fields are pruned.
fn to_json(message: &Message) -> Result<String, serde_json::Error> {
    #[derive(serde::Serialize)]
    struct Output {
        operation: &'static str,
        kind: serde_json::Value,
        headers: serde_json::Value,
        body: serde_json::Value,
    }
    let mut value = serde_json::to_value(message)?;
    prune(&mut value);
    let mut take = |key: &str| {
        value
            .get_mut(key)
            .map(serde_json::Value::take)
            .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()))
    };
    let output = Output {
        operation: message.operation,
        kind: take("kind"),
        headers: take("headers"),
        body: take("body"),
    };
    serde_json::to_string_pretty(&output)
}

/// Drops absent optional fields (`null`) and empty lists from objects, so the output shows
/// what the message says rather than everything it could have said.
fn prune(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            map.retain(|_, v| {
                prune(v);
                !(v.is_null() || v.as_array().is_some_and(Vec::is_empty))
            });
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}
